"""Journal records packed into plain tuples, as the Shift keeps them in memory.

A storm journals thousands of firings and resolutions a minute, and the Shift keeps up to
MEMORY_RECORDS of them. As objects, each record and its AlertRef are two more containers that
every full collection of the cyclic garbage collector walks, with the UI thread waiting: in the
storm bench, 50k records were 43% of the references walked, and a full collection took 188 ms.
A tuple holding only text, times, numbers and such tuples is untracked by the collector once it
has survived a collection, so a packed record costs the collector nothing.

`unpack(pack(r)) == r`. Unpacking does not clean the strings again: they were cleaned when the
record was made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any

from .journal import RECORD_TYPES, AlertRef, Kind, Record

Packed = tuple[Any, ...]
"""(kind, the record's fields in declaration order with None for its alert, then, when it is
about an alert, the AlertRef's fields with its labels flattened: name, value, name, value...).
Flat, because the collector untracks a tuple only once every tuple in it is untracked: nested
tuples would take a full collection per level."""

_TYPES = {kind.value: cls for kind, cls in RECORD_TYPES.items()}
_REF_FIELDS = ("fingerprint", "name", "level", "starts_at")
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in (*RECORD_TYPES.values(), AlertRef)}
_COMMON = tuple(f.name for f in fields(Record))  # every kind's fields start with these
_AT = 1 + _COMMON.index("at")
_REF_AT = {kind: 1 + len(_FIELDS[cls]) for kind, cls in _TYPES.items()}
"""Where the AlertRef's fields start in a packed record of each kind (when it has one)."""
_STARTS_AT = _REF_FIELDS.index("starts_at")
_FIRING, _FIRINGS = Kind.FIRING.value, frozenset({Kind.FIRING.value, Kind.RESOLVED.value})
_ALERT = _COMMON.index("alert")


def pack(record: Record) -> Packed:
    values = [getattr(record, name) for name in _FIELDS[type(record)]]
    ref = values[_ALERT]
    if ref is None:
        return (record.kind.value, *values)
    values[_ALERT] = None
    labels = (text for pair in ref.labels for text in pair)
    return (record.kind.value, *values, *(getattr(ref, name) for name in _REF_FIELDS), *labels)


def unpack(packed: Packed) -> Record:
    cls = _TYPES[packed[0]]
    count = len(_FIELDS[cls])
    values = list(packed[1:1 + count])
    if len(packed) > 1 + count:
        ref_start = 1 + count + len(_REF_FIELDS)
        flat = packed[ref_start:]
        labels = tuple(zip(flat[::2], flat[1::2], strict=True))
        values[_ALERT] = _made(AlertRef, (*packed[1 + count:ref_start], labels))
    return _made(cls, values)


def unpack_kinds(packed: Iterable[Packed], kinds: Iterable[Kind]) -> tuple[Record, ...]:
    """The records of these kinds, unpacked; the others (a storm's firings and resolutions)
    are skipped without unpacking them."""
    wanted = {kind.value for kind in kinds}
    return tuple(unpack(p) for p in packed if p[0] in wanted)


def firings(packed: Iterable[Packed]) -> Iterator[tuple[bool, str, datetime | None]]:
    """(fired, fingerprint, startsAt) of each firing and resolution about an alert, in the
    order given, read from the packed tuples without unpacking them."""
    for p in packed:
        if p[0] in _FIRINGS:
            ref = _REF_AT[p[0]]
            if len(p) > ref:
                yield p[0] == _FIRING, p[ref], p[ref + _STARTS_AT]


def packed_at(packed: Packed) -> datetime:
    """When the packed record happened (its ``at``)."""
    at: datetime = packed[_AT]
    return at


def _made(cls: type, values: Any) -> Any:
    """An instance of a frozen dataclass from its field values, as they are."""
    made: Any = object.__new__(cls)
    for name, value in zip(_FIELDS[cls], values, strict=True):
        object.__setattr__(made, name, value)
    return made

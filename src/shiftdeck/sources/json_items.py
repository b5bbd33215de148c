"""The objects of a large JSON array, one at a time: `[{...},{...}]` as one slice per object.

Decoding a 10k-alert answer whole makes ~500k short-lived objects at once; the few that live on
(a new alert's strings) end up spread over most of the memory arenas those filled, and the
process keeps every such arena (the poller process held ~90 arenas with ~25 MB free in them,
measured in the storm). Decoded one object at a time, each object's garbage is freed before the
next is decoded, and an object whose bytes did not change since the last answer need not be
decoded at all (`alertmanager.parse_alert_items`).

Splitting is a byte search for `},{"`, which is sound without a JSON scanner:
- inside a JSON string a `"` is always escaped (`\\"`), so the sequence only occurs in structure;
- where it occurs inside an object (a list of objects in a field, as an alert's receivers),
  the slice before it has an unclosed bracket and does not decode; joined to the slices after
  it, it decodes once the object is whole (`alertmanager._items_parsed`).
So a slice (or a run of slices) that decodes to an object is exactly one item of the array.
An answer that is not compact (`}, {`) gives slices that do not decode, and is decoded whole.
"""

from __future__ import annotations

from collections.abc import Iterator

SEPARATOR = b'},{"'


class NotItems(ValueError):
    """The answer is not a compact JSON array of objects: decode it whole."""


def items(body: bytes) -> Iterator[memoryview]:
    """Each top-level object of the array `body` as a slice of it (no copy). The slices are
    candidates: one that does not decode means `body` must be decoded whole."""
    start, end = _bounds(body)
    if start == end:
        return
    view, find = memoryview(body), body.find
    while (cut := find(SEPARATOR, start, end)) >= 0:
        yield view[start:cut + 1]
        start = cut + 2
    yield view[start:end]


def _bounds(body: bytes) -> tuple[int, int]:
    """Where the objects start and end: inside the array's brackets, whitespace aside."""
    start, end = 0, len(body)
    while start < end and body[start] in b" \t\r\n":
        start += 1
    while end > start and body[end - 1] in b" \t\r\n":
        end -= 1
    if body[start:start + 1] != b"[" or body[end - 1:end] != b"]" or end - start < 2:
        raise NotItems("not a JSON array")
    inner_start, inner_end = start + 1, end - 1
    if inner_start == inner_end:
        return inner_start, inner_start
    if body[inner_start:inner_start + 1] != b"{" or body[inner_end - 1:inner_end] != b"}":
        raise NotItems("not a compact array of objects")
    return inner_start, inner_end

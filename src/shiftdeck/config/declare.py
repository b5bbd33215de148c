"""One declaration per setting: the key, parser, masking and secrecy of a field, in one place.

Our own dataclasses (Config, Upstream, TLSConfig, BasicAuth) carry a :class:`Setting` in each
field's ``metadata``. The domain's settings dataclasses (AckSettings, IcsFeed...) keep their
defaults and docstrings; the config declares how each of their fields is read with
:func:`declare`, next to the section's parser (the domain must not import the config).
The allowed keys of a section, its ``masked()`` dump and its "did you mean" errors are all
derived from these declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .walker import Fields, Value

SETTING = "shiftdeck.config"
"""The metadata key of a field's Setting."""

Parser = Callable[[Value], Any]
Show = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Setting:
    """How one dataclass field is read from the file and shown by ``masked()``."""

    key: str = ""
    """The key in the file and in masked(); empty: the field's name."""
    parse: Parser | None = None
    """Node → value. None: the section's own parser reads it (it depends on other keys)."""
    show: Show | None = None
    """Value → plain data for masked(); None: plain (durations as text, sections as dicts)."""
    secret: bool = False
    """May hold a secret: ``show`` must hide it (tests/test_config_declarations.py checks)."""
    required: bool = False
    """The key must be present (the generic reader says "required key is missing")."""
    also: tuple[str, ...] = ()
    """Further keys read for this field (password_file next to password)."""
    spread: type | None = None
    """This dataclass's keys sit in the parent section itself (roster → people, rotations...)."""
    env_default: Callable[[Mapping[str, str]], Any] | None = None
    """A default computed from the environment the config is loaded with."""
    in_file: bool = True
    """False: not a key of the file (Config.source, Person.id: the mapping's key)."""
    shown: bool = True
    """False: not in masked()."""


def setting(**declaration: Any) -> dict[str, Setting]:
    """Field metadata: ``field(default=..., metadata=setting(parse=...))``."""
    return {SETTING: Setting(**declaration)}


_DECLARED: dict[type, dict[str, Setting]] = {}


def declare(cls: type, **settings: Setting) -> None:
    """Declare how the fields of a dataclass the config does not own are read."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    _DECLARED[cls] = {name: _keyed(name, s) for name, s in settings.items()}


def declared(cls: type) -> dict[str, Setting]:
    """Field name → Setting, in field order, for a dataclass with declarations; else {}."""
    found = _DECLARED.get(cls)
    if found is None:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        found = {f.name: _keyed(f.name, f.metadata[SETTING])
                 for f in fields if SETTING in f.metadata}
        _DECLARED[cls] = found
    return found


def file_keys(cls: type, omit: Collection[str] = ()) -> tuple[str, ...]:
    """The keys a section of this type allows, in field order."""
    keys: list[str] = []
    for s in declared(cls).values():
        if not s.in_file or s.key in omit:
            continue
        keys.extend(file_keys(s.spread) if s.spread else [s.key])
        keys.extend(s.also)
    return tuple(keys)


def read_section(value: Value, cls: type,
                 omit: Collection[str] = ()) -> tuple[Fields, dict[str, Any]]:
    """Check the mapping's keys against the declarations, then parse every field that has
    its own parser. Returns the fields (for the section's own rules) and field → value."""
    found = value.fields(file_keys(cls, omit))
    return found, parse_declared(found, cls, omit)


def parse_declared(found: Fields, cls: type, omit: Collection[str] = ()) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, s in declared(cls).items():
        if s.parse is None or not s.in_file or s.key in omit:
            continue
        item = found.require(s.key) if s.required else found.get(s.key)
        if item is not None:
            parsed[name] = s.parse(item)
    return parsed


def _keyed(name: str, declaration: Setting) -> Setting:
    return declaration if declaration.key else dataclasses.replace(declaration, key=name)

"""Configuration: one YAML file → frozen dataclasses, with errors that say file:line: key: why.

The file is *composed* with PyYAML's safe loader (nodes with line marks, nothing constructed) and
walked by small parsers (walker.py), so every error points at the key or value at fault.
Unknown keys are errors at every level; ``${VAR}`` is expanded in every string; secrets come
inline, from ``${VAR}`` or from ``*_file`` keys, and never appear in a repr or an error message.

One declaration per setting (declare.py): a field's key, parser, masking and secrecy sit on the
field. Adding a setting to a section: a field with ``metadata=setting(parse=...)`` (or, for the
domain's settings dataclasses, one ``Setting`` in the section module's ``declare(...)``).
Adding a top-level section: a field on :class:`Config` (model.py) and its parser. The
allowed keys, ``masked()`` and the "did you mean" errors follow; tests/test_config_declarations.py
checks that every field is declared and shown, and every secret masked.

Modules: walker (YAML and :class:`~.walker.Value`), declare, mask, values (shared parsers),
upstreams, alerting (severities, ack, silences), oncall, investigate (runbooks, commands,
kubernetes), model (:class:`Config`), load (finding and loading, cross-section rules).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ConfigError
    from .fallback import fallback_config
    from .keymap import keymap_errors
    from .load import default_config_path, find_config_path, load_config, load_config_text
    from .mask import MASK
    from .model import MAX_REFRESH, MIN_REFRESH, Config
    from .oncall import MIN_ICS_REFRESH, MIN_ROTATION
    from .upstreams import BasicAuth, TLSConfig, Upstream
    from .values import DEFAULT_TIMEOUT, MAX_TIMEOUT
    from .walker import MAX_ALIASES, MAX_DEPTH, MAX_MERGED_KEYS

__all__ = [
    "DEFAULT_TIMEOUT", "MASK", "MAX_ALIASES", "MAX_DEPTH", "MAX_MERGED_KEYS", "MAX_REFRESH",
    "MAX_TIMEOUT", "MIN_ICS_REFRESH", "MIN_REFRESH", "MIN_ROTATION", "BasicAuth", "Config",
    "ConfigError", "TLSConfig", "Upstream", "default_config_path", "fallback_config",
    "find_config_path", "keymap_errors", "load_config", "load_config_text",
]

_HOMES = {
    "errors": ("ConfigError",),
    "fallback": ("fallback_config",),
    "keymap": ("keymap_errors",),
    "load": ("default_config_path", "find_config_path", "load_config", "load_config_text"),
    "mask": ("MASK",),
    "model": ("MAX_REFRESH", "MIN_REFRESH", "Config"),
    "oncall": ("MIN_ICS_REFRESH", "MIN_ROTATION"),
    "upstreams": ("BasicAuth", "TLSConfig", "Upstream"),
    "values": ("DEFAULT_TIMEOUT", "MAX_TIMEOUT"),
    "walker": ("MAX_ALIASES", "MAX_DEPTH", "MAX_MERGED_KEYS"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Each name is imported on first use: `shiftdeck alerts` reads its upstreams (walker,
    upstreams) and sends its request before the rest of the config package is imported."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

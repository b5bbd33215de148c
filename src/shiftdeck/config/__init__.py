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

"""The keymap check, located: each problem of ``keymap:`` as a ConfigError at its line.

The table of actions and the rules live in shiftdeck.keys (the app binds from the same table);
this module only finds where in the file the offending ``keymap.<id>`` was written.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..domain.sanitize import clean_line
from ..keys import keymap_issues
from .errors import ConfigError
from .model import Config
from .walker import Context, Value, compose


def keymap_errors(config: Config, text: str | None = None) -> list[ConfigError]:
    """Every problem of the config's ``keymap:`` (unknown ids, keys taken from another action),
    at the line of its entry. ``text``: the config's text, when it was not read from
    ``config.source``."""
    issues = keymap_issues(dict(config.keymap))
    if not issues:
        return []
    lines = _entry_lines(config.source, text)
    return [ConfigError(config.source, lines.get(name), f"keymap.{name}", reason)
            for name, reason in issues]


def _entry_lines(source: str | None, text: str | None) -> dict[str, int]:
    """keymap id (as the config reads it) → the line it is written on."""
    if text is None:
        try:
            text = Path(source or "").read_text(encoding="utf-8") if source else ""
        except (OSError, UnicodeDecodeError):
            return {}
    ctx = Context(source, os.environ, Path.cwd())
    try:
        found = compose(text, ctx).pairs().get("keymap")
        entries = Value(found[1], "keymap", ctx).pairs() if found else {}
    except ConfigError:  # changed since it was loaded: no lines, still the errors
        return {}
    return {clean_line(key, len(key)): key_node.start_mark.line + 1
            for key, (key_node, _) in entries.items()}

"""No config file: watch the Alertmanager that $ALERTMANAGER_URL or amtool's config names.

amtool reads ``$HOME/.config/amtool/config.yml`` then ``/etc/amtool/config.yml`` (flat keys,
``alertmanager.url`` and ``author`` among them; the first file that has a key wins) and not
$XDG_CONFIG_HOME (alertmanager cli/root.go). Without a known author, shiftdeck stays read-only:
$USER alone is not trusted to sign acks and silences.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import ConfigError
from .load import load_config_text
from .model import Config
from .walker import Context, compose

ENV_URL = "ALERTMANAGER_URL"


def amtool_config_paths(environ: Mapping[str, str]) -> tuple[Path, ...]:
    home = environ.get("HOME")
    mine = (Path(home) / ".config" / "amtool" / "config.yml",) if home else ()
    return (*mine, Path("/etc/amtool/config.yml"))


def fallback_config(environ: Mapping[str, str],
                    amtool_paths: Sequence[Path] | None = None) -> tuple[Config, str] | None:
    """A config on the Alertmanager of $ALERTMANAGER_URL or amtool's ``alertmanager.url``, and
    the one line that says so; None when neither names one."""
    settings: dict[str, tuple[str, str]] = {}  # key → (value, where it came from)
    for path in amtool_config_paths(environ) if amtool_paths is None else amtool_paths:
        for key, value in _amtool_settings(path).items():
            settings.setdefault(key, (value, str(path)))
    if environ.get(ENV_URL, "").strip():
        settings["alertmanager.url"] = (environ[ENV_URL].strip(), f"${ENV_URL}")
    if "alertmanager.url" not in settings:
        return None
    url, origin = settings["alertmanager.url"]
    author = settings.get("author")
    text = (f"alertmanagers: [{{name: alertmanager, url: {_quoted(url)}}}]\n"
            + (f"user: {_quoted(author[0])}\n" if author else "read_only: true\n"))
    config = load_config_text(text, origin, environ={})
    note = f"no config file: watching the Alertmanager at {url} (from {origin})"
    if author:
        note += f" as {author[0]} (author in {author[1]})"
    else:
        note += (", read-only: no user is known (set author in ~/.config/amtool/config.yml, "
                 "or write a config with `shiftdeck init`)")
    return config, note


def _quoted(value: str) -> str:
    """A YAML scalar that reads back as `value`: JSON quoting, and ${ kept literal."""
    return json.dumps(value.replace("${", "$${"))


def _amtool_settings(path: Path) -> dict[str, str]:
    """amtool's flat keys that shiftdeck uses; {} when the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), None, "", f"cannot read amtool's config: {err}") from None
    root = compose(text, Context(str(path), {}, path.parent))
    found = {}
    for key, (_, node) in root.pairs().items():
        if key in ("alertmanager.url", "author"):
            found[key] = root.child(node, key).literal_text(key)
    return found

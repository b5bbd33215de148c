"""Finding and loading the config file; the rules that span sections."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .model import Config
    from .walker import Fields


def find_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """--config, then $SHIFTDECK_CONFIG, then $XDG_CONFIG_HOME/shiftdeck/config.yaml; else None."""
    if explicit:
        return _must_exist(explicit, "given with --config")
    from_env = environ.get("SHIFTDECK_CONFIG")
    if from_env:
        return _must_exist(from_env, "named by $SHIFTDECK_CONFIG")
    candidate = default_config_path(environ)
    return candidate if candidate.is_file() else None


def default_config_path(environ: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/shiftdeck/config.yaml: where the config is looked for last, and where
    `shiftdeck init` writes the sample."""
    return _config_home(environ) / "shiftdeck" / "config.yaml"


def load_config(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and parse a config file. ``environ`` (default os.environ) feeds ${VAR} and $USER."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(name, None, "", "not UTF-8 text") from None
    except OSError as err:
        raise ConfigError(name, None, "", f"cannot read: {err.strerror or err}") from None
    return load_config_text(text, name, environ=environ)


def load_config_text(
    text: str, source: str | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Parse config text; ``source`` names it in errors and anchors relative *_file paths."""
    # Imported here: finding the file stays light (`shiftdeck alerts` sends its request first).
    from ..domain.severity import DEFAULT_POLICY
    from .declare import read_section
    from .model import UTC_ZONE, Config
    from .oncall import parse_oncall
    from .walker import Context, compose

    ctx = Context(source, os.environ if environ is None else environ, _base_dir(source))
    found, parsed = read_section(compose(text, ctx), Config)
    parsed.update(_environment_defaults(parsed, ctx.environ))
    parsed.update(parse_oncall(found, parsed.get("timezone", UTC_ZONE),
                               parsed.get("severity", DEFAULT_POLICY)))
    config = Config(source=source, **parsed)
    _check_config(config, found)
    return config


def _environment_defaults(parsed: Mapping[str, Any],
                          environ: Mapping[str, str]) -> dict[str, Any]:
    """Defaults of absent keys that come from the environment the file is loaded with."""
    from .declare import declared
    from .model import Config

    return {name: s.env_default(environ) for name, s in declared(Config).items()
            if s.env_default is not None and name not in parsed}


def _check_config(config: Config, found: Fields) -> None:
    """Rules that span sections."""
    if not config.alertmanagers and not config.prometheus:
        at = found.raw("alertmanagers") or found.raw("prometheus")
        line = at.node.start_mark.line + 1 if at else None
        raise ConfigError(config.source, line, "alertmanagers",
                          "configure at least one alertmanager or prometheus")


def _base_dir(source: str | None) -> Path:
    return Path(source).absolute().parent if source else Path.cwd()


def _config_home(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg)
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".config"


def _must_exist(name: str, origin: str) -> Path:
    path = Path(name).expanduser()
    if not path.exists():
        raise ConfigError(name, None, "", f"no such file ({origin})")
    return path

"""Investigating an alert: runbooks, commands, kubernetes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from ..domain.commands import (
    DEFAULT_DANGEROUS,
    DEFAULT_READ_ONLY,
    CommandPatterns,
    CommandSettings,
    parse_pattern,
)
from ..domain.kube import KubernetesSettings, is_label_key
from ..domain.runbooks import RunbookSettings, origin_of
from . import values
from .declare import Setting, declare, read_section
from .mask import masked_reference, masked_url, or_none
from .values import LABEL_NAME, URL_SCHEMES, checked_url
from .walker import Value

# -- runbooks --------------------------------------------------------------- #


def parse_runbooks(value: Value) -> RunbookSettings:
    """dirs (relative to this file, must exist), base_url (http(s)), map (alertname → a file
    or URL; a relative file must exist in one of dirs unless base_url is set)."""
    found, parsed = read_section(value, RunbookSettings)
    map_value = found.get("map")
    if map_value is not None:
        dirs, base_url = parsed.get("dirs", ()), parsed.get("base_url", "")
        parsed["map"] = MappingProxyType({
            name: _parse_runbook_reference(item, dirs, base_url)
            for name, item in map_value.entries()})
    return RunbookSettings(**parsed)


def _parse_dirs(value: Value) -> tuple[Path, ...]:
    return tuple(values.existing_dir(item) for item in value.items())


def _parse_origins(value: Value) -> tuple[str, ...]:
    return tuple(_parse_origin(item) for item in value.items())


def _parse_origin(value: Value) -> str:
    """`https://wiki.example.com` (scheme, host, optional port; nothing else)."""
    url = checked_url(value, URL_SCHEMES, credentials=False)
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise value.error("an origin is scheme://host[:port], without a path: runbooks under "
                          "a path belong in runbooks.base_url")
    return origin_of(url)


def _parse_base_url(value: Value) -> str:
    if not value.text().strip():
        return ""
    return checked_url(value, URL_SCHEMES, credentials=False)


def _show_base_url(url: str) -> str:
    # The parser refuses credentials and ?query: masking is only a second line of defence.
    return masked_url(url) or ""


def _show_map(mapping: Mapping[str, str]) -> dict[str, str]:
    return {name: masked_reference(reference) for name, reference in mapping.items()}


def _parse_runbook_reference(value: Value, dirs: tuple[Path, ...], base_url: str) -> str:
    reference = value.nonempty_text().strip()
    scheme = urlsplit(reference).scheme.lower()
    if len(scheme) > 1:
        if scheme not in URL_SCHEMES:
            raise value.error(f"expected an http(s) URL or a file path, not a {scheme}: URL")
        checked_url(value, URL_SCHEMES, credentials=False, query=True)
        return reference
    path = Path(reference).expanduser()
    if path.is_absolute():
        if not path.is_file():
            raise value.error(f"no such file: {path}")
        return str(path)
    if ".." in Path(reference).parts:
        raise value.error("a relative path must not use '..' (give an absolute path)")
    if base_url:
        return reference
    return _in_dirs(value, reference, dirs)


def _in_dirs(value: Value, reference: str, dirs: tuple[Path, ...]) -> str:
    if not dirs:
        raise value.error("a relative path is looked up in runbooks.dirs or under "
                          "runbooks.base_url: set one, or give an absolute path")
    if not any((directory / reference).is_file() for directory in dirs):
        listed = ", ".join(str(d) for d in dirs)
        raise value.error(f"{reference!r} is in none of runbooks.dirs ({listed})")
    return reference


# -- commands --------------------------------------------------------------- #


def parse_commands(value: Value) -> CommandSettings:
    """timeout; read_only and dangerous: patterns added to the built-in ones (``defaults:
    false`` starts from none)."""
    found, parsed = read_section(value, CommandSettings)
    defaults = found.opt("defaults", Value.flag, True)
    read_only = found.opt("read_only", _parse_read_only_patterns, ())
    dangerous = found.opt("dangerous", _parse_patterns, ())
    parsed["patterns"] = CommandPatterns(
        read_only=(DEFAULT_READ_ONLY if defaults else ()) + read_only,
        dangerous=(DEFAULT_DANGEROUS if defaults else ()) + dangerous,
    )
    return CommandSettings(**parsed)


def _parse_read_only_patterns(value: Value) -> tuple[str, ...]:
    return _parse_patterns(value, read_only=True)


def _parse_patterns(value: Value, *, read_only: bool = False) -> tuple[str, ...]:
    patterns = []
    for item in value.items():
        text = item.nonempty_text().strip()
        try:
            patterns.append(parse_pattern(text, read_only=read_only).text)
        except ValueError as err:
            raise item.error(f"bad command pattern: {err}") from None
    return tuple(patterns)


# -- kubernetes ------------------------------------------------------------- #


def parse_kubernetes(value: Value) -> KubernetesSettings:
    _, parsed = read_section(value, KubernetesSettings)
    return KubernetesSettings(**{"contexts": MappingProxyType({}), **parsed})


def _parse_contexts(value: Value) -> Mapping[str, str]:
    return MappingProxyType({cluster: item.nonempty_text().strip()
                             for cluster, item in value.entries()})


def _parse_selectors(value: Value) -> Mapping[str, str]:
    parsed = {}
    for label, item in value.entries():
        if not LABEL_NAME.fullmatch(label):
            raise item.error(f"not an alert label name: {label!r}")
        key = item.nonempty_text().strip()
        if not is_label_key(key):
            raise item.error(f"not a Kubernetes label key: {key!r} (e.g. "
                             "app.kubernetes.io/name)")
        parsed[label] = key
    return MappingProxyType(parsed)


declare(
    RunbookSettings,
    dirs=Setting(parse=_parse_dirs),
    base_url=Setting(parse=_parse_base_url, show=_show_base_url),
    map=Setting(secret=True, show=_show_map),
    trusted_origins=Setting(parse=_parse_origins),
)
declare(
    CommandSettings,
    timeout=Setting(parse=values.timeout),
    patterns=Setting(spread=CommandPatterns, also=("defaults",)),
)
declare(CommandPatterns, read_only=Setting(), dangerous=Setting())
declare(
    KubernetesSettings,
    kubeconfig=Setting(parse=values.existing_file, show=or_none),
    contexts=Setting(parse=_parse_contexts),
    selectors=Setting(parse=_parse_selectors),
    timeout=Setting(parse=values.timeout),
)

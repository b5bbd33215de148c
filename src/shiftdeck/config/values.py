"""Parsers of values used by several sections: durations, sizes, secrets, files, URLs, zones."""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.durations import MAX_DURATION
from ..domain.matchers import Matcher, MatcherError, parse_matchers
from ..domain.sizes import parse_size
from .walker import Value

DEFAULT_TIMEOUT = timedelta(seconds=10)
MAX_TIMEOUT = timedelta(hours=1)
"""Longer timeouts are mistakes; and socket waits of weeks overflow some system calls."""
URL_SCHEMES = ("http", "https")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


def stripped_text(value: Value) -> str:
    return value.nonempty_text().strip()


def positive_duration(value: Value, maximum: timedelta = MAX_DURATION) -> timedelta:
    duration = value.duration(maximum)
    if duration <= timedelta(0):
        raise value.error("must be longer than 0s")
    return duration


def timeout(value: Value) -> timedelta:
    return positive_duration(value, MAX_TIMEOUT)


def size(value: Value) -> int:
    """A size: ``256MiB``, ``512KiB``, ``16MB`` or plain bytes."""
    try:
        return parse_size(value.text())
    except ValueError as err:
        raise value.error(str(err)) from None


def secret(key: str, value: Value) -> str:
    """An inline secret (``password``) or one read from a file (``password_file``)."""
    if key.endswith("_file"):
        return value.secret_file()
    text = value.raw_text()
    if not text:
        raise value.error("must not be empty")
    return text


def no_line_breaks(value: Value, text: str) -> str:
    """Header values must stay one header (the text itself is never echoed)."""
    if any(c in text for c in "\r\n\0"):
        raise value.error("must not contain line breaks or NUL")
    return text


def headers(value: Value) -> Mapping[str, str]:
    parsed = {}
    for name, item in value.entries(raw=True):
        if not _HEADER_NAME.fullmatch(name):
            raise item.error("not a valid HTTP header name")
        parsed[name] = no_line_breaks(item, item.raw_text())
    return MappingProxyType(parsed)


def existing_file(value: Value) -> str:
    path = value.file_path()
    if not path.is_file():
        raise value.error(f"no such file: {path}")
    return str(path)


def existing_dir(value: Value) -> Path:
    path = value.file_path()
    if not path.is_dir():
        raise value.error(f"no such directory: {path}" if not path.exists()
                          else f"{path} is not a directory")
    return path


def url(value: Value) -> str:
    return checked_url(value, URL_SCHEMES, credentials=False).rstrip("/")


def proxy(value: Value) -> str:
    checked = checked_url(value, _PROXY_SCHEMES, credentials=True)
    if checked.lower().startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise value.error("socks5 proxies need the socksio package: "
                          "pip install 'httpx[socks]'")
    return checked


def checked_url(value: Value, schemes: tuple[str, ...], *, credentials: bool,
                query: bool = False) -> str:
    """Validate a URL without ever echoing it (it may carry credentials)."""
    text = value.literal_text("a URL").strip()
    parts = urlsplit(text)
    if any(c.isspace() for c in text):
        raise value.error("a URL must not contain spaces")
    if parts.scheme.lower() not in schemes or not parts.hostname:
        starts = " or ".join(f"{s}://" for s in schemes)
        raise value.error(f"expected a URL starting with {starts} and a host, "
                          "e.g. http://127.0.0.1:9093")
    try:
        parts.port
    except ValueError:
        raise value.error("the URL has an invalid port") from None
    if "@" in parts.netloc and not credentials:
        raise value.error("credentials in the URL are not allowed; use basic_auth instead")
    if (parts.query or parts.fragment) and not query:
        raise value.error("the URL must not have a ?query or #fragment")
    return text


def matchers(value: Value) -> tuple[Matcher, ...]:
    parsed: list[Matcher] = []
    for item in value.items():
        try:
            parsed.extend(parse_matchers(item.text()))
        except MatcherError as err:
            raise item.error(str(err)) from None
    return tuple(parsed)


def zone(value: Value) -> ZoneInfo:
    name = value.nonempty_text().strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from zoneinfo import available_timezones

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = (f", did you mean {close[0]!r}?" if close
                else " (use an IANA name such as Europe/Berlin or UTC)")
        raise value.error(f"unknown time zone {name!r}{hint}") from None

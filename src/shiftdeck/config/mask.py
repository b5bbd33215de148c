"""``Config.masked()``: the config as plain data, derived from the declarations.

Durations come out in the config's own syntax, sections as dicts keyed like the file, and
every field declared ``secret`` through its own ``show`` (***, or a URL with its password or
token replaced).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..domain.sizes import format_size
from ..domain.urls import mask_url
from .declare import Setting, declared

MASK = "***"
_AUTH_HEADER = re.compile(r"auth|token|secret|passw|cookie|session|key|credential|signature",
                          re.IGNORECASE)


def masked_section(section: Any, omit: Collection[str] = ()) -> dict[str, Any]:
    """A declared dataclass as a dict keyed like the file (spread sections merged in)."""
    data: dict[str, Any] = {}
    for name, s in declared(type(section)).items():
        if not s.shown or s.key in omit:
            continue
        shown = show(s, getattr(section, name))
        if s.spread:
            data.update(shown)
        else:
            data[s.key] = shown
    return data


def show(s: Setting, value: Any) -> Any:
    return s.show(value) if s.show is not None else plain(value)


def plain(value: Any) -> Any:
    """Plain data: declared sections as dicts, durations as text, containers as lists/dicts."""
    if declared(type(value)):
        return masked_section(value)
    if isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def duration_text(delta: timedelta) -> str:
    """Exact, in the config's own syntax: 1h30m, 15m, 500ms (format_duration rounds)."""
    millis = round(delta.total_seconds() * 1000)
    parts = []
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000),
                       ("s", 1000), ("ms", 1)):
        if millis >= size:
            parts.append(f"{millis // size}{unit}")
            millis %= size
    return "".join(parts) or "0s"


# -- show functions --------------------------------------------------------- #


def hidden(value: object) -> str | None:
    """A secret: *** when set."""
    return None if value is None else MASK


def texts(values: Collection[object]) -> list[str]:
    """Matchers and the like, as they are written."""
    return [str(value) for value in values]


def or_none(value: object) -> object:
    """An unset path ("") shown as null."""
    return value or None


def size_or_none(size: int | None) -> str | None:
    return format_size(size) if size else None


def masked_url(url: str | None) -> str | None:
    """A URL with the password in it replaced."""
    return None if url is None else mask_url(url)


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header values whose name suggests a credential replaced (X-Scope-OrgID stays)."""
    return {name: MASK if _AUTH_HEADER.search(name) else value
            for name, value in headers.items()}


def all_masked(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK for name in headers}


def masked_reference(reference: str) -> str:
    """A runbook URL's ?query may hold a token: masked, like a password in it."""
    if "://" not in reference:
        return reference
    parts = urlsplit(mask_url(reference))
    return parts._replace(query=MASK if parts.query else "").geturl()


def masked_feed_url(url: str) -> str | None:
    """scheme://host/*** : feed paths usually carry a secret token."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/{MASK}"

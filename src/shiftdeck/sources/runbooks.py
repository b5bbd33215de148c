"""Fetching an alert's runbook: http(s) with httpx, or a file; the first place that has one
wins. Remote runbooks are untrusted: size-capped, text only, sanitised, never executed (their
commands go through `domain.commands.parse_command` like any other)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from ..domain.alerts import Alert
from ..domain.commands import extract_commands
from ..domain.runbooks import (
    Runbook,
    RunbookSettings,
    fill_outside_commands,
    front_matter_title,
    generic_checklist,
    is_url,
    runbook_plan,
    strip_front_matter,
    tried_section,
)
from ..domain.sanitize import clean, clean_line

MAX_RUNBOOK = 1 << 20
"""Bytes: a longer runbook (file or answer) is not shown."""
TIMEOUT = timedelta(seconds=10)
"""Per request, when load_runbook makes its own client."""
_TEXT_TYPES = ("text/markdown", "text/x-markdown", "text/plain", "application/markdown")
_HEADERS = {"User-Agent": "shiftdeck", "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1"}


class _Miss(Exception):
    """This place has no runbook; str() says why, for the `tried` list."""


async def load_runbook(alert: Alert, settings: RunbookSettings,
                       client: httpx.AsyncClient | None = None) -> Runbook:
    """The alert's runbook from the first place that has one (see `domain.runbooks`), or, when
    none does, the generic checklist of the alert's level with every place tried.

    `client`: used for http(s) places (its timeout applies); by default one is made for this
    call, with a 10 s timeout. Redirects are followed (at most 5).
    """
    places, skipped = runbook_plan(alert, settings)
    tried: list[str] = list(skipped)
    own_client = client is None and any(is_url(place) for place in places)
    if own_client:
        client = httpx.AsyncClient(timeout=TIMEOUT.total_seconds(), follow_redirects=True,
                                   max_redirects=5, headers=_HEADERS)
    try:
        for place in places:
            try:
                raw = await (_fetch(client, place) if is_url(place) else _read(place))
            except _Miss as miss:
                tried.append(f"{place}: {miss}")
                continue
            tried.append(place)
            return _runbook(raw, place, alert, tuple(tried))
    finally:
        if own_client and client is not None:
            await client.aclose()
    template = generic_checklist(alert.level)
    markdown, unknown = fill_outside_commands(template, alert)
    return Runbook(found=False, source="", markdown=markdown + "\n" + tried_section(tried),
                   tried=tuple(tried), unknown_variables=unknown, title="",
                   template=template, commands=tuple(extract_commands(template)))


def _runbook(raw: str, place: str, alert: Alert, tried: tuple[str, ...]) -> Runbook:
    text = clean(raw, MAX_RUNBOOK)
    template = strip_front_matter(text)
    markdown, unknown = fill_outside_commands(template, alert)
    return Runbook(found=True, source=place, markdown=markdown, tried=tried,
                   unknown_variables=unknown, title=front_matter_title(text),
                   template=template, commands=tuple(extract_commands(template)))


async def _fetch(client: httpx.AsyncClient | None, url: str) -> str:
    assert client is not None
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise _Miss(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "text/html" or kind == "application/xhtml+xml":
                raise _Miss("a web page (text/html): shiftdeck shows Markdown or plain text; "
                            "open it in a browser")
            if kind and not (kind.startswith("text/") or kind in _TEXT_TYPES):
                raise _Miss(f"not text ({clean_line(kind, 80)})")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RUNBOOK:
                raise _Miss("larger than 1 MiB")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RUNBOOK:
                    raise _Miss("larger than 1 MiB")
            return _text(bytes(body), response.encoding or "utf-8")
    except httpx.TimeoutException:
        raise _Miss("timed out") from None
    except httpx.HTTPError as err:
        raise _Miss(f"unreachable ({clean_line(err, 200) or type(err).__name__})") from None


async def _read(place: str) -> str:
    return await asyncio.to_thread(_read_file, Path(place))


def _read_file(path: Path) -> str:
    try:
        if not path.is_file():
            raise _Miss("no such file" if not path.exists() else "not a file")
        if path.stat().st_size > MAX_RUNBOOK:
            raise _Miss("larger than 1 MiB")
        with path.open("rb") as file:
            data = file.read(MAX_RUNBOOK + 1)
    except OSError as err:
        raise _Miss(f"cannot read ({err.strerror or err})") from None
    if len(data) > MAX_RUNBOOK:
        raise _Miss("larger than 1 MiB")
    return _text(data, "utf-8")


def _text(data: bytes, encoding: str) -> str:
    if b"\0" in data:
        raise _Miss("not text (binary data)")
    try:
        return data.decode(encoding, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")

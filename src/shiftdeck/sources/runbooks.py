"""Fetching an alert's runbook: http(s) with httpx, or a file; the first place that has one
wins. Remote runbooks are untrusted: size-capped, text only, sanitised, never executed (their
commands go through `domain.commands.parse_command` like any other, and a runbook the alert
pointed at outside the team's places gets `untrusted` set: its commands cannot run).

A file must stay inside its runbooks.dirs entry after symlinks. Redirects are followed here,
not by httpx: a hop to another origin carries none of the client's configured headers or
credentials. Templating and sanitising a runbook (up to 1 MiB) run in a thread, never on the
event loop. URLs shown (`source`, `tried`) have their secrets masked.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from ..domain.alerts import Alert
from ..domain.commands import extract_commands
from ..domain.runbooks import (
    Place,
    Runbook,
    RunbookSettings,
    fill_outside_commands,
    front_matter_title,
    generic_checklist,
    is_url,
    origin_of,
    runbook_places,
    strip_front_matter,
    tried_section,
)
from ..domain.sanitize import clean, clean_line
from ..domain.urls import mask_url, mask_urls_in

MAX_RUNBOOK = 1 << 20
"""Bytes: a longer runbook (file or answer) is not shown."""
TIMEOUT = timedelta(seconds=10)
"""Per place, connect to last byte (redirects included)."""
MAX_REDIRECTS = 5
_TEXT_TYPES = ("text/markdown", "text/x-markdown", "text/plain", "application/markdown")
_HEADERS = {"User-Agent": "shiftdeck", "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1"}


class _Miss(Exception):
    """This place has no runbook; str() says why, for the `tried` list."""


async def load_runbook(alert: Alert, settings: RunbookSettings,
                       client: httpx.AsyncClient | None = None,
                       timeout: timedelta = TIMEOUT) -> Runbook:
    """The alert's runbook from the first place that has one (see `domain.runbooks`), or, when
    none does, the generic checklist of the alert's level with every place tried.

    `client`: used for http(s) places (its headers go to the place's own origin only); by
    default one is made for this call. Each place has `timeout`, redirects (at most 5)
    included.
    """
    places, skipped = runbook_places(alert, settings)
    tried: list[str] = [mask_urls_in(reason) for reason in skipped]
    own_client = client is None and any(is_url(place.location) for place in places)
    if own_client:
        client = httpx.AsyncClient(follow_redirects=False, headers=_HEADERS)
    try:
        for place in places:
            shown = mask_url(place.location)
            try:
                async with asyncio.timeout(timeout.total_seconds()):
                    raw = await (_fetch(client, place.location) if is_url(place.location)
                                 else _read(place))
            except TimeoutError:
                tried.append(f"{shown}: timed out")
                continue
            except _Miss as miss:
                tried.append(f"{shown}: {miss}")
                continue
            tried.append(shown)
            return await asyncio.to_thread(_runbook, raw, place, alert, tuple(tried))
    finally:
        if own_client and client is not None:
            await client.aclose()
    return await asyncio.to_thread(_checklist, alert, tuple(tried))


def _checklist(alert: Alert, tried: tuple[str, ...]) -> Runbook:
    template = generic_checklist(alert.level)
    markdown, unknown = fill_outside_commands(template, alert)
    return Runbook(found=False, source="", markdown=markdown + "\n" + tried_section(tried),
                   tried=tried, unknown_variables=unknown, title="",
                   template=template, commands=tuple(extract_commands(template)))


def _runbook(raw: str, place: Place, alert: Alert, tried: tuple[str, ...]) -> Runbook:
    text = clean(raw, MAX_RUNBOOK)
    template = strip_front_matter(text)
    markdown, unknown = fill_outside_commands(template, alert)
    return Runbook(found=True, source=mask_url(place.location), markdown=markdown, tried=tried,
                   unknown_variables=unknown, title=front_matter_title(text),
                   template=template, commands=tuple(extract_commands(template)),
                   untrusted=place.untrusted)


async def _fetch(client: httpx.AsyncClient | None, url: str) -> str:
    assert client is not None
    home = origin_of(url)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            request = client.build_request("GET", url)
            foreign = origin_of(url) != home
            if foreign:  # configured headers and credentials stay with their own origin
                request.headers = httpx.Headers({"Host": request.headers["Host"], **_HEADERS})
            response = await client.send(request, stream=True, follow_redirects=False,
                                         auth=None if foreign else httpx.USE_CLIENT_DEFAULT)
            try:
                location = _redirect(response)
                if location is None:
                    return await _body(response)
            finally:
                await response.aclose()
            url = str(response.url.join(location))
            if not origin_of(url):
                raise _Miss(f"redirected to {clean_line(mask_url(url), 200)}, not http(s)")
        raise _Miss(f"more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise _Miss("timed out") from None
    except httpx.HTTPError as err:
        raise _Miss(f"unreachable ({mask_urls_in(clean_line(err, 200)) or type(err).__name__})"
                    ) from None


def _redirect(response: httpx.Response) -> str | None:
    if response.status_code in (301, 302, 303, 307, 308):
        return response.headers.get("location") or None
    return None


async def _body(response: httpx.Response) -> str:
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


async def _read(place: Place) -> str:
    return await asyncio.to_thread(_read_file, Path(place.location), place.root)


def _read_file(place: Path, root: Path | None) -> str:
    try:
        path = place.resolve()  # every symlink followed once; the file read is this one
        if root is not None and not path.is_relative_to(root.resolve()):
            raise _Miss(f"ignored: it leads outside {root} (a symlink)")
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

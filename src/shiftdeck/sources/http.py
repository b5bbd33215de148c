"""One httpx client per upstream, and every request made with one deadline and a size cap.

httpx's timeouts apply to each network operation (connect, each read), so an answer dripped a
byte at a time never times out. Here every request runs under one overall deadline, from
connect to the last byte, and its body is streamed and cut at a cap: a late or oversized answer
is a SourceError with a sentence, never a hang or a heap that grows without bound.
"""

from __future__ import annotations

import asyncio
import io
import ssl
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from ..bulk import off_loop
from ..domain.sanitize import clean_line
from ..domain.sizes import format_size
from ..domain.urls import mask_urls_in
from .errors import SourceError

ALERTMANAGER_MAX_BYTES = 256 << 20
"""100k alerts are ~110 MB of JSON: room for twice that, not for an endless body."""
PROMETHEUS_MAX_BYTES = 64 << 20
"""/api/v1/alerts and /rules are smaller than Alertmanager's answers (no silences, no
receivers); a 1h query_range of one series is a few KB."""
DEFAULT_DEADLINE = 10.0
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer, read within its deadline and cap."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes = field(repr=False)
    url: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Limits:
    deadline: float
    """Seconds from connect to the last byte of the answer."""
    max_bytes: int


_LIMITS: weakref.WeakKeyDictionary[httpx.AsyncClient, Limits] = weakref.WeakKeyDictionary()


def build_client(upstream: Any, max_bytes: int = ALERTMANAGER_MAX_BYTES) -> httpx.AsyncClient:
    """An AsyncClient carrying the upstream's auth, headers, TLS, proxy and timeout.
    `max_bytes`: the cap when the upstream sets none (its kind's default)."""
    headers = {"Accept": "application/json", "User-Agent": "shiftdeck", **dict(upstream.headers)}
    if upstream.bearer_token:
        headers["Authorization"] = f"Bearer {upstream.bearer_token}"
    auth = None
    if upstream.basic_auth:
        auth = httpx.BasicAuth(upstream.basic_auth.username, upstream.basic_auth.password)
    timeout = upstream.timeout.total_seconds()
    client = httpx.AsyncClient(
        base_url=upstream.url,
        headers=headers,
        auth=auth,
        verify=_verify(upstream.tls) if _uses_tls(upstream) else False,
        proxy=upstream.proxy,
        timeout=timeout,
        trust_env=False,
    )
    _LIMITS[client] = Limits(timeout, getattr(upstream, "max_bytes", None) or max_bytes)
    return client


def limits(client: httpx.AsyncClient) -> Limits:
    """The client's deadline and cap (for a client not made by build_client: its timeout and
    the Alertmanager cap)."""
    known = _LIMITS.get(client)
    if known is not None:
        return known
    return Limits(client.timeout.read or client.timeout.connect or DEFAULT_DEADLINE,
                  ALERTMANAGER_MAX_BYTES)


def _uses_tls(upstream: Any) -> bool:
    """Building a default SSL context costs ~0.1 s: only pay it when https is in play."""
    return upstream.url.startswith("https:") or str(upstream.proxy or "").startswith("https:")


def _verify(tls: Any) -> ssl.SSLContext | bool:
    if tls.insecure_skip_verify:
        return False
    if not (tls.ca_file or tls.cert_file):
        return True
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


LARGE_ANSWER = 1 << 20
"""Answers at least this big (10k alerts are ~5-11 MB) are decoded in a thread."""


async def get_json(client: httpx.AsyncClient, path: str, params: Any = None) -> Any:
    """GET and decode JSON, or raise SourceError with the reason in words."""
    answer = await _send(client, "GET", path, params=params)
    if len(answer.content) >= LARGE_ANSWER:
        return await off_loop(decode_json, answer)
    return decode_json(answer)


async def get_answer(client: httpx.AsyncClient, path: str) -> Answer:
    """GET an answer that succeeded, undecoded (for `decode_json`, or decoding in parts)."""
    answer = await _send(client, "GET", path)
    check_status(answer)
    return answer


async def post_json(client: httpx.AsyncClient, path: str, body: Any) -> Any:
    """POST a JSON body and decode the JSON answer; SourceError carries the server's own reason."""
    answer = await _send(client, "POST", path, content=orjson.dumps(body),
                         headers={"Content-Type": "application/json"})
    _raise_for_write(answer)
    return decode_json(answer)


async def delete(client: httpx.AsyncClient, path: str) -> None:
    """DELETE; SourceError carries the server's own reason."""
    _raise_for_write(await _send(client, "DELETE", path))


_CLOCK_OFFSETS: weakref.WeakKeyDictionary[httpx.AsyncClient, timedelta] = (
    weakref.WeakKeyDictionary())


def clock_offset(client: httpx.AsyncClient) -> timedelta | None:
    """The server's clock minus ours, from the ``Date`` header of the client's latest answer
    (None before any answer carried one). Good to about a second: Date has whole seconds."""
    return _CLOCK_OFFSETS.get(client)


def _note_server_date(client: httpx.AsyncClient, response: httpx.Response | Answer,
                      sent: datetime, received: datetime) -> None:
    try:
        server = parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):
        return
    if server.tzinfo is None:
        return
    # Date is truncated to the second: its true value lies half a second later on average.
    midpoint = sent + (received - sent) / 2
    _CLOCK_OFFSETS[client] = server + timedelta(milliseconds=500) - midpoint


async def _send(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Answer:
    """One request under the client's deadline and cap."""
    bounds = limits(client)
    return await fetch(client, method, path, deadline=bounds.deadline,
                       max_bytes=bounds.max_bytes, **kwargs)


async def fetch(client: httpx.AsyncClient, method: str, url: str, *, deadline: float,
                max_bytes: int, headers: Mapping[str, str] | None = None,
                follow_redirects: bool = False,
                on_headers: Callable[[httpx.Response], None] | None = None,
                **kwargs: Any) -> Answer:
    """One request, from connect to the last byte within `deadline` seconds, its body cut at
    `max_bytes`; SourceError says why not, in words ("timed out after 3s: ...", "answer larger
    than 256 MiB: cut").

    `headers` are this request's own (a feed's X-Api-Key, say). With `follow_redirects`, up to
    5 redirects are followed inside the same deadline; `headers` go along only while the
    redirect stays on the same origin (scheme, host and port): another origin gets the request
    without them. `on_headers(response)` may look at the status and headers before the body is
    read, and raise to refuse it.
    """
    try:
        async with asyncio.timeout(deadline):
            return await _follow(client, method, url, dict(headers or {}), max_bytes,
                                 MAX_REDIRECTS if follow_redirects else 0, on_headers, kwargs)
    except (TimeoutError, httpx.TimeoutException):
        raise SourceError(f"timed out after {deadline:g}s (no complete answer within the "
                          "deadline)") from None
    except httpx.ConnectError as err:
        raise SourceError(f"unreachable ({_root_cause(err)})") from None
    except httpx.HTTPError as err:
        raise SourceError(f"request failed ({_root_cause(err)})") from None


_REDIRECTS = (301, 302, 303, 307, 308)
_PLAIN_HEADERS = frozenset({"host", "accept", "accept-encoding", "user-agent", "connection",
                            "content-type", "content-length"})
"""What a request may carry to another origin: nothing configured, nothing secret."""


async def _follow(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str],
                  max_bytes: int, redirects: int, on_headers: Any, kwargs: dict[str, Any],
                  ) -> Answer:
    origin: tuple[str, str, int | None] | None = None
    for _hop in range(redirects + 1):
        request = client.build_request(method, url, headers=headers, **kwargs)
        origin = origin or _origin(request.url)
        foreign = _origin(request.url) != origin
        if foreign:
            for name in [n for n in request.headers if n.lower() not in _PLAIN_HEADERS]:
                del request.headers[name]
        sent = datetime.now(UTC)
        response = await client.send(request, stream=True, follow_redirects=False,
                                     **({"auth": None} if foreign else {}))
        try:
            _note_server_date(client, response, sent, datetime.now(UTC))
            location = response.headers.get("location")
            if redirects and response.status_code in _REDIRECTS and location:
                url = str(request.url.join(location))
                kwargs = {k: v for k, v in kwargs.items() if k != "params"}
                if response.status_code == 303 or (response.status_code in (301, 302)
                                                   and method == "POST"):
                    method, kwargs = "GET", {k: v for k, v in kwargs.items() if k != "content"}
                continue
            if on_headers is not None:
                on_headers(response)
            return Answer(response.status_code, response.reason_phrase, response.headers,
                          await _body(response, max_bytes), str(request.url))
        finally:
            await response.aclose()
    raise SourceError(f"more than {redirects} redirects")


async def _body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, streamed; refused when it says it is larger than the cap, cut when it gets so."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(f"answer larger than {format_size(max_bytes)}: refused")
    # BytesIO, not a bytearray: its getvalue() hands over the buffer it grew, where bytes()
    # of a bytearray copies it (a 100k-alert answer, ~84 MB, was held twice at the end).
    body = io.BytesIO()
    async for chunk in response.aiter_bytes():
        body.write(chunk)
        if body.tell() > max_bytes:
            raise SourceError(f"answer larger than {format_size(max_bytes)}: cut")
    return body.getvalue()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _raise_for_write(response: Answer) -> None:
    """A refused write says why, in the server's words (Alertmanager answers a JSON string, or
    {"message": ...} for validation errors)."""
    if response.status_code < 400:
        return
    status = f"HTTP {response.status_code}"
    if response.status_code in (401, 403):
        status += ": not authorised (check credentials)"
    reason = server_reason(response)
    raise SourceError(f"{status}: {reason}" if reason else
                      f"{status} {response.reason_phrase}".strip())


def server_reason(response: Answer | httpx.Response, limit: int = 300) -> str:
    """The error text in a failed answer, cleaned to one safe line ('' for an HTML page)."""
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.content.decode("utf-8", "replace").strip()
        payload = "" if text[:1] == "<" else text
    if isinstance(payload, dict):
        payload = payload.get("message") or payload.get("error") or ""
    return clean_line(payload, limit).strip() if isinstance(payload, str) else ""


def check_status(response: Answer | httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise SourceError(f"HTTP {response.status_code}: not authorised (check credentials)")
    if response.status_code >= 400:
        raise SourceError(f"HTTP {response.status_code} {response.reason_phrase}".strip())


def decode_json(response: Answer | httpx.Response) -> Any:
    check_status(response)
    kind = response.headers.get("content-type", "")
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if "html" in kind or response.content.lstrip()[:1] == b"<":
            raise SourceError("answered with an HTML page, not JSON (a login page or proxy?)") from None
        raise SourceError(f"answered with invalid or truncated JSON ({len(response.content)} bytes)") from None


def _root_cause(err: BaseException) -> str:
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    text = mask_urls_in(clean_line(str(err) or type(err).__name__, 300))
    return text.split("] ")[-1][:120]

"""One httpx client per upstream, and turning transport failures into sentences for users."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import orjson

from ..domain.sanitize import clean_line
from .bulk import off_loop


class SourceError(Exception):
    """A source could not be read; str() is a short reason a person can act on."""


def build_client(upstream: Any) -> httpx.AsyncClient:
    """An AsyncClient carrying the upstream's auth, headers, TLS, proxy and timeout."""
    headers = {"Accept": "application/json", "User-Agent": "shiftdeck", **dict(upstream.headers)}
    if upstream.bearer_token:
        headers["Authorization"] = f"Bearer {upstream.bearer_token}"
    auth = None
    if upstream.basic_auth:
        auth = httpx.BasicAuth(upstream.basic_auth.username, upstream.basic_auth.password)
    return httpx.AsyncClient(
        base_url=upstream.url,
        headers=headers,
        auth=auth,
        verify=_verify(upstream.tls) if _uses_tls(upstream) else False,
        proxy=upstream.proxy,
        timeout=upstream.timeout.total_seconds(),
        trust_env=False,
    )


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
    response = await _send(client, "GET", path, params=params)
    if len(response.content) >= LARGE_ANSWER:
        return await off_loop(decode_json, response)
    return decode_json(response)


async def post_json(client: httpx.AsyncClient, path: str, body: Any) -> Any:
    """POST a JSON body and decode the JSON answer; SourceError carries the server's own reason."""
    response = await _send(client, "POST", path, content=orjson.dumps(body),
                           headers={"Content-Type": "application/json"})
    _raise_for_write(response)
    return decode_json(response)


async def delete(client: httpx.AsyncClient, path: str) -> None:
    """DELETE; SourceError carries the server's own reason."""
    _raise_for_write(await _send(client, "DELETE", path))


async def _send(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; transport failures become SourceError with the reason in words."""
    try:
        return await client.request(method, path, **kwargs)
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {client.timeout.read:g}s") from None
    except httpx.ConnectError as err:
        raise SourceError(f"unreachable ({_root_cause(err)})") from None
    except httpx.HTTPError as err:
        raise SourceError(f"request failed ({_root_cause(err)})") from None


def _raise_for_write(response: httpx.Response) -> None:
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


def server_reason(response: httpx.Response, limit: int = 300) -> str:
    """The error text in a failed answer, cleaned to one safe line ('' for an HTML page)."""
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.content.decode("utf-8", "replace").strip()
        payload = "" if text[:1] == "<" else text
    if isinstance(payload, dict):
        payload = payload.get("message") or payload.get("error") or ""
    return clean_line(payload, limit).strip() if isinstance(payload, str) else ""


def decode_json(response: httpx.Response) -> Any:
    if response.status_code in (401, 403):
        raise SourceError(f"HTTP {response.status_code}: not authorised (check credentials)")
    if response.status_code >= 400:
        raise SourceError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
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
    text = str(err) or type(err).__name__
    return text.split("] ")[-1][:120]

"""One httpx client per upstream, and turning transport failures into sentences for users."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import orjson


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
        verify=_verify(upstream.tls),
        proxy=upstream.proxy,
        timeout=upstream.timeout.total_seconds(),
        trust_env=False,
    )


def _verify(tls: Any) -> ssl.SSLContext | bool:
    if tls.insecure_skip_verify:
        return False
    if not (tls.ca_file or tls.cert_file):
        return True
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


async def get_json(client: httpx.AsyncClient, path: str, params: Any = None) -> Any:
    """GET and decode JSON, or raise SourceError with the reason in words."""
    try:
        response = await client.get(path, params=params)
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {client.timeout.read:g}s") from None
    except httpx.ConnectError as err:
        raise SourceError(f"unreachable ({_root_cause(err)})") from None
    except httpx.HTTPError as err:
        raise SourceError(f"request failed ({_root_cause(err)})") from None
    return decode_json(response)


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

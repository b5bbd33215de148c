"""Showing URLs without their secrets. Pure.

A URL shown to a person (an error, a banner, `check`, a runbook title) may carry a password in
its userinfo or a token in its query (`?token=`, `?api_key=`, a signed URL's `X-Amz-Signature`).
:func:`mask_url` replaces those values with ``***``; :func:`mask_urls_in` does it to every URL
inside a free text (an exception message, say). Paths are kept: a feed whose *path* is the
secret (PagerDuty, Grafana OnCall) needs its own, stricter masking.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

MASK = "***"

_SECRET_NAME = re.compile(
    r"auth|token|secret|passw|pwd|cookie|session|key|credential|signature|^sig$|^code$",
    re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def is_secret_name(name: str) -> bool:
    """A query parameter or header name whose value is a secret (`token`, `X-Api-Key`...)."""
    return bool(_SECRET_NAME.search(name))


def mask_url(url: str) -> str:
    """`url` with any userinfo password and the values of secret-looking query parameters
    replaced by ***. Text that is not a URL is returned as it is."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if password is not None:
        user = netloc.rpartition("@")[0].partition(":")[0]
        netloc = f"{user}:{MASK}@{netloc.rpartition('@')[2]}"
    query = _masked_query(parts.query)
    return parts._replace(netloc=netloc, query=query).geturl()


def mask_urls_in(text: str, *, paths: bool = True) -> str:
    """Every URL inside `text` masked with :func:`mask_url`; with `paths=False` reduced to
    ``scheme://host/***`` (for feeds whose path is the secret)."""
    return _URL_IN_TEXT.sub(lambda match: (mask_url(match.group(0)) if paths
                                           else origin_only(match.group(0))), text)


def origin_only(url: str) -> str:
    """``scheme://host:port/***``: all a person needs to know which server it was."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return MASK
    return f"{parts.scheme}://{host}/{MASK}"


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return query
    return "&".join(f"{quote(name, safe='')}="
                    f"{MASK if is_secret_name(name) else quote(value, safe='')}"
                    for name, value in pairs)

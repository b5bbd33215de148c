"""Alertmanager and Prometheus instances: how to reach them (keys ``alertmanagers``,
``prometheus``). Prometheus entries have no ``cluster``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from . import values
from .declare import read_section, setting
from .mask import hidden, masked_headers, masked_section, masked_url, size_or_none
from .values import DEFAULT_TIMEOUT, empty_mapping
from .walker import Value

PROMETHEUS_OMITS = ("cluster",)


@dataclass(frozen=True, slots=True)
class TLSConfig:
    ca_file: str | None = field(default=None, metadata=setting(parse=values.existing_file))
    """CA bundle (PEM) that signs the server's certificate; None trusts the system store."""
    cert_file: str | None = field(default=None, metadata=setting(parse=values.existing_file))
    """Client certificate (PEM) for mutual TLS; may also hold the key."""
    key_file: str | None = field(default=None, metadata=setting(parse=values.existing_file))
    """Private key (PEM) of the client certificate, when not inside cert_file."""
    insecure_skip_verify: bool = field(default=False, metadata=setting(parse=Value.flag))
    """Do not verify the server's certificate (labs only)."""


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str = field(metadata=setting(parse=lambda v: values.secret("username", v),
                                           required=True))
    """HTTP basic-auth user."""
    password: str = field(repr=False, metadata=setting(also=("password_file",), secret=True,
                                                        show=hidden))
    """HTTP basic-auth password (inline, ${VAR} or password_file). Never shown."""


def _parse_basic_auth(value: Value) -> BasicAuth:
    found, parsed = read_section(value, BasicAuth)
    password = found.one_of("password", "password_file")
    if password is None:
        raise value.error("needs password or password_file")
    return BasicAuth(password=values.secret(*password), **parsed)


def _parse_tls(value: Value) -> TLSConfig:
    found, parsed = read_section(value, TLSConfig)
    tls = TLSConfig(**parsed)
    if tls.key_file and not tls.cert_file:
        raise found.require("key_file").error("key_file needs cert_file")
    return tls


@dataclass(frozen=True, slots=True)
class Upstream:
    """One Alertmanager or Prometheus instance and how to reach it."""

    name: str = field(metadata=setting(parse=Value.nonempty_text, required=True))
    """Unique (per kind) short name, shown in the source status bar."""
    url: str = field(metadata=setting(parse=values.url, required=True))
    """Base URL, http(s), no trailing slash; may carry a path prefix (Mimir: .../alertmanager)."""
    cluster: str = field(default="", metadata=setting(parse=Value.nonempty_text))
    """HA cluster this instance belongs to; peers share one name. Defaults to ``name``."""
    headers: Mapping[str, str] = field(
        default_factory=empty_mapping, repr=False,
        metadata=setting(parse=values.headers, secret=True, show=masked_headers))
    """Extra request headers (e.g. X-Scope-OrgID). Values may be secrets: never in repr."""
    basic_auth: BasicAuth | None = field(default=None, metadata=setting(parse=_parse_basic_auth))
    """HTTP basic auth, if any."""
    bearer_token: str | None = field(
        default=None, repr=False,
        metadata=setting(also=("bearer_token_file",), secret=True, show=hidden))
    """Sent as ``Authorization: Bearer ...`` (from bearer_token or bearer_token_file)."""
    tls: TLSConfig = field(default=TLSConfig(), metadata=setting(parse=_parse_tls))
    """Certificates for https upstreams."""
    proxy: str | None = field(default=None, repr=False,
                              metadata=setting(parse=values.proxy, secret=True, show=masked_url))
    """HTTP(S)/SOCKS proxy URL; may carry credentials, so not in repr."""
    timeout: timedelta = field(default=DEFAULT_TIMEOUT,
                               metadata=setting(parse=values.positive_duration))
    """Deadline of one request, from connect to the last byte of the answer."""
    read_only: bool = field(default=False, metadata=setting(parse=Value.flag))
    """Never write to this upstream (no acks, no silences). Also forced by Config.read_only."""
    max_bytes: int | None = field(default=None,
                                  metadata=setting(parse=values.size, show=size_or_none))
    """Largest answer read, in bytes (config: ``256MiB``...); None: the kind's default
    (256 MiB for Alertmanager, 64 MiB for Prometheus). A larger answer is cut: a source error."""

    def __post_init__(self) -> None:
        if not self.cluster:
            object.__setattr__(self, "cluster", self.name)
        if not isinstance(self.headers, MappingProxyType):
            object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Picklable, for the poller process: the headers travel as a plain dict."""
        return Upstream, tuple(dict(self.headers) if f.name == "headers" else getattr(self, f.name)
                               for f in fields(self))


def parse_alertmanagers(value: Value) -> tuple[Upstream, ...]:
    return _parse_upstreams(value, omit=())


def parse_prometheus(value: Value) -> tuple[Upstream, ...]:
    return _parse_upstreams(value, omit=PROMETHEUS_OMITS)


def show_prometheus(upstreams: tuple[Upstream, ...]) -> list[dict[str, Any]]:
    return [masked_section(upstream, omit=PROMETHEUS_OMITS) for upstream in upstreams]


def _parse_upstreams(value: Value, omit: tuple[str, ...]) -> tuple[Upstream, ...]:
    upstreams: dict[str, Upstream] = {}
    for item in value.items():
        upstream = _parse_upstream(item, omit)
        if upstream.name in upstreams:
            raise item.error(f"duplicate name {upstream.name!r}")
        upstreams[upstream.name] = upstream
    return tuple(upstreams.values())


def _parse_upstream(value: Value, omit: tuple[str, ...]) -> Upstream:
    found, parsed = read_section(value, Upstream, omit)
    bearer = found.one_of("bearer_token", "bearer_token_file")
    if bearer and "basic_auth" in parsed:
        raise bearer[1].error("use either basic_auth or a bearer token, not both")
    if bearer:
        parsed["bearer_token"] = values.no_line_breaks(bearer[1], values.secret(*bearer))
    return Upstream(**parsed)

"""PagerDuty accounts (key ``pagerduty``): where the REST API is, the token, who writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from . import values
from .declare import file_keys, read_section, setting
from .mask import hidden, size_or_none
from .values import DEFAULT_TIMEOUT
from .walker import Value

DEFAULT_URL = "https://api.pagerduty.com"
_LEVEL = re.compile(r"[Ll]?([1-9][0-9]?)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def empty_levels() -> Mapping[int, str]:
    return MappingProxyType({})


def _parse_levels(value: Value) -> Mapping[int, str]:
    """``{1: primary, 2: secondary}`` (``L1`` works too): escalation level → role."""
    levels: dict[int, str] = {}
    for key, item in value.entries():
        match = _LEVEL.fullmatch(key.strip())
        if not match:
            raise item.error(f"not an escalation level: {key!r} (use 1, 2, ... or L1, L2, ...)")
        levels[int(match.group(1))] = item.nonempty_text().strip()
    return MappingProxyType(levels)


def _parse_from(value: Value) -> str:
    """The user's PagerDuty login e-mail: sent as the ``From`` header of writes."""
    text = values.no_line_breaks(value, value.nonempty_text().strip())
    if not _EMAIL.fullmatch(text):
        raise value.error("expected the e-mail address of your PagerDuty user")
    return text


def _parse_ids(value: Value) -> tuple[str, ...]:
    return tuple(dict.fromkeys(pagerduty_id(item) for item in value.items()))


@dataclass(frozen=True, slots=True)
class PagerDuty:
    """One PagerDuty account, read through its REST API v2."""

    name: str = field(metadata=setting(parse=Value.nonempty_text, required=True))
    """Unique short name, shown in the header badge and as the source of its on-call shifts."""
    token: str = field(repr=False, metadata=setting(also=("token_file",), secret=True,
                                                     show=hidden))
    """REST API key (inline, ${VAR} or token_file), sent as ``Authorization: Token token=…``.
    Never shown."""
    url: str = field(default=DEFAULT_URL, metadata=setting(parse=values.url))
    """The REST API's base URL (http allowed: a loopback server in tests)."""
    from_email: str = field(default="", metadata=setting(key="from", parse=_parse_from))
    """Your PagerDuty user's e-mail, the ``From`` of every write; without it writes are
    refused (reads still work)."""
    services: tuple[str, ...] = field(default=(), metadata=setting(parse=_parse_ids))
    """Only incidents of these service ids (none: every service the token sees)."""
    teams: tuple[str, ...] = field(default=(), metadata=setting(parse=_parse_ids))
    """Only incidents of these team ids."""
    escalation_policies: tuple[str, ...] = field(default=(), metadata=setting(parse=_parse_ids))
    """Only on-calls of these escalation policy ids."""
    levels: Mapping[int, str] = field(default_factory=empty_levels,
                                      metadata=setting(parse=_parse_levels))
    """Escalation level → role for the roster (``{1: primary, 2: secondary}``); other levels
    become roles named ``<name>-L<level>``."""
    timeout: timedelta = field(default=DEFAULT_TIMEOUT, metadata=setting(parse=values.timeout))
    """Deadline of one request, from connect to the last byte."""
    max_bytes: int | None = field(default=None,
                                  metadata=setting(parse=values.size, show=size_or_none))
    """Largest answer read (default 16MiB); a larger one is cut: a source error."""
    read_only: bool = field(default=False, metadata=setting(parse=Value.flag))
    """Never write to PagerDuty (no acks, resolves or snoozes). Also forced by read_only."""

    def __post_init__(self) -> None:
        if not isinstance(self.levels, MappingProxyType):
            object.__setattr__(self, "levels", MappingProxyType(dict(self.levels)))


def pagerduty_id(value: Value) -> str:
    """A PagerDuty id: a service, team or escalation policy (``PIJ90N7``)."""
    text = value.nonempty_text().strip()
    if not _ID.fullmatch(text):
        raise value.error(f"not a PagerDuty id: {text!r} (e.g. PIJ90N7)")
    return text


def account_names(value: Value | None) -> tuple[str, ...]:
    """The names of the ``pagerduty`` entries (already parsed without error), for sections
    that name an account."""
    if value is None:
        return ()
    return tuple(item.fields(file_keys(PagerDuty)).require("name").nonempty_text()
                 for item in value.items())


def parse_pagerduty(value: Value) -> tuple[PagerDuty, ...]:
    accounts: dict[str, PagerDuty] = {}
    for item in value.items():
        found, parsed = read_section(item, PagerDuty)
        token = found.one_of("token", "token_file")
        if token is None:
            raise item.error("needs token or token_file (a PagerDuty REST API key)")
        parsed["token"] = values.no_line_breaks(token[1], values.secret(*token))
        account = PagerDuty(**parsed)
        if account.name in accounts:
            raise item.error(f"duplicate name {account.name!r}")
        accounts[account.name] = account
    return tuple(accounts.values())

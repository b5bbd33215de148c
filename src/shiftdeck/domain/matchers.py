"""The amtool/karma matcher language.

    alertname=X  severity=~"crit.*"  namespace!=dev  x!~re  {a="b", c=~"d"}
    DiskFull                  a first bare word means alertname=DiskFull
    @state=pending            special keys start with @ (state, level)
    @acked                    shorthand for @state=acked

Regexes are fully anchored, as Alertmanager anchors them. A missing label matches as "".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class MatcherError(ValueError):
    """A filter or matcher that cannot be parsed; the message says where and why."""


class Op(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


SPECIAL_KEYS = ("@state", "@level")

_NAME = r"[@A-Za-z_][A-Za-z0-9_.\-]*"
_TOKEN = re.compile(
    rf'\s*(?P<name>{_NAME})\s*(?P<op>=~|!~|!=|=)\s*'
    r'(?:"(?P<dq>(?:[^"\\]|\\.)*)"|\'(?P<sq>(?:[^\'\\]|\\.)*)\'|(?P<bare>[^\s,}"\']*))'
    r"\s*,?"
)
_SHORTHAND = re.compile(r"\s*@(acked|firing|pending|silenced|inhibited|resolved)\b\s*,?")
_BARE_WORD = re.compile(r"\s*(?P<word>[A-Za-z_:][A-Za-z0-9_:.\-]*)\s*,?")


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def is_regex(self) -> bool:
        return self.op in (Op.RE, Op.NRE)

    @property
    def is_equal(self) -> bool:
        return self.op in (Op.EQ, Op.RE)

    def matches_value(self, value: str) -> bool:
        if self.pattern is not None:
            hit = self.pattern.fullmatch(value) is not None
        else:
            hit = value == self.value
        return hit == self.is_equal

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.matches_value(labels.get(self.name, ""))

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def make_matcher(name: str, op: str, value: str) -> Matcher:
    """Build one matcher, compiling and validating a regex value."""
    try:
        operator = Op(op)
    except ValueError:
        raise MatcherError(f"unknown operator {op!r} (use =, !=, =~, !~)") from None
    pattern = None
    if operator in (Op.RE, Op.NRE):
        try:
            pattern = re.compile(value)
        except re.error as err:
            raise MatcherError(f"{name}{op}: invalid regex {value!r}: {err}") from None
    return Matcher(name, operator, value, pattern)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse a whole filter line into matchers (ANDed). Empty text gives no matchers."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        token = _TOKEN.match(body, pos)
        if token:
            matchers.append(_from_token(token))
            pos = token.end()
            continue
        shorthand = _SHORTHAND.match(body, pos)
        if shorthand:
            matchers.append(make_matcher("@state", "=", shorthand.group(1)))
            pos = shorthand.end()
            continue
        bare = _BARE_WORD.match(body, pos)
        if bare and not matchers:
            matchers.append(make_matcher("alertname", "=", bare.group("word")))
            pos = bare.end()
            continue
        raise MatcherError(f"cannot parse matcher at {body[pos:].strip()[:40]!r} (e.g. severity=~\"crit.*\")")
    return tuple(matchers)


def _from_token(token: re.Match[str]) -> Matcher:
    name, op = token.group("name"), token.group("op")
    if name.startswith("@") and name not in SPECIAL_KEYS:
        raise MatcherError(f"unknown key {name} (known: {', '.join(SPECIAL_KEYS)})")
    raw = token.group("dq")
    if raw is None:
        raw = token.group("sq")
    value = _unescape(raw) if raw is not None else token.group("bare")
    return make_matcher(name, op, value)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)

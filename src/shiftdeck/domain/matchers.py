"""The amtool/karma matcher language.

    alertname=X  severity=~"crit.*"  namespace!=dev  x!~re  {a="b", c=~"d"}
    "service.name"="api"      a label name outside [A-Za-z_][A-Za-z0-9_]* may be quoted
    DiskFull                  a first bare word means alertname=DiskFull
    @state=pending            special keys start with @ (state, level)
    @acked                    shorthand for @state=acked

Regexes are RE2 (Go's syntax, as Alertmanager evaluates them: `\\pL`, no backreferences),
anchored as Alertmanager anchors them (`^(?:re)$`), and run in linear time whatever the pattern
or the text. A missing label matches as "".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import re2


class MatcherError(ValueError):
    """A filter or matcher that cannot be parsed; the message says where and why."""


class Op(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


SPECIAL_KEYS = ("@state", "@level")
STATE_WORDS = ("acked", "firing", "pending", "silenced", "muted", "inhibited", "resolved")

_NAME = r"[@A-Za-z_][A-Za-z0-9_.\-]*"
_TOKEN = re.compile(
    rf'\s*(?:"(?P<qname>(?:[^"\\]|\\.)*)"|(?P<name>{_NAME}))\s*(?P<op>=~|!~|!=|=)\s*'
    r'(?:"(?P<dq>(?:[^"\\]|\\.)*)"|\'(?P<sq>(?:[^\'\\]|\\.)*)\'|(?P<bare>[^\s,}"\']*))'
    r"\s*,?"
)
_SHORTHAND = re.compile(rf"\s*@({'|'.join(STATE_WORDS)})\b\s*,?")
_BARE_WORD = re.compile(r"\s*(?P<word>[A-Za-z_:][A-Za-z0-9_:.\-]*)\s*,?")
_PLAIN_NAME = re.compile(r"@?[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"[A-Za-z0-9_\-:/@ ]*")
"""A regex made only of these characters matches exactly itself: compared as a string."""

MEMO_LIMIT = 20_000
"""Answers a regex remembers (label values repeat across thousands of alerts and every poll)."""


class Regex:
    """One anchored RE2 regex and the answers it gave lately.

    RE2 through its binding costs ~2 µs a call, ten times Python's `re`; remembering answers
    by value keeps a 10k-alert poll or filter keystroke at dictionary speed after the first.
    """

    __slots__ = ("_compiled", "_seen")

    def __init__(self, compiled: re2._Regexp) -> None:
        self._compiled = compiled
        self._seen: dict[str, bool] = {}

    def fullmatch(self, value: str) -> bool:
        hit = self._seen.get(value)
        if hit is None:
            try:
                hit = self._compiled.search(value) is not None
            except UnicodeError:  # a lone surrogate: not text Alertmanager could hold
                hit = False
            if len(self._seen) >= MEMO_LIMIT:
                self._seen.clear()
            self._seen[value] = hit
        return hit


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would write refusals straight to fd 2, under the TUI


@lru_cache(maxsize=512)
def compile_regex(value: str) -> tuple[Regex | None, str]:
    """The regex Alertmanager would build from a matcher value, or None and why RE2 refuses it.

    Cached, refusals too (one can take 0.1 s): silences are parsed again at every poll."""
    anchored = f"^(?:{value})$"
    try:
        return Regex(re2.compile(anchored, _OPTIONS)), ""
    except re2.error as error:
        reason = error.args[0] if error.args else error
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        return None, text.replace(anchored, value)  # name the user's regex, not our wrapping


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str
    pattern: Regex | None = field(default=None, compare=False, repr=False)
    problem: str = field(default="", compare=False)
    """Why shiftdeck cannot evaluate this matcher (a regex RE2 refuses): it then matches
    nothing, and is shown with this reason rather than dropped."""

    @property
    def is_regex(self) -> bool:
        return self.op in (Op.RE, Op.NRE)

    @property
    def is_equal(self) -> bool:
        return self.op in (Op.EQ, Op.RE)

    def matches_value(self, value: str) -> bool:
        if self.problem:
            return False
        if self.pattern is not None:
            hit = self.pattern.fullmatch(value)
        else:
            hit = value == self.value
        return hit == self.is_equal

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.matches_value(labels.get(self.name, ""))

    def __str__(self) -> str:
        name = self.name if _PLAIN_NAME.fullmatch(self.name) else quote(self.name)
        return f"{name}{self.op}{quote(self.value)}"


def quote(text: str) -> str:
    """Double-quoted, as Alertmanager's matcher parser (0.27+) wants names and values."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def make_matcher(name: str, op: str, value: str, *, lenient: bool = False) -> Matcher:
    """Build one matcher, compiling and validating a regex value.

    A regex RE2 refuses raises MatcherError, or with `lenient` (what a server sent: it must be
    shown, never dropped) gives a matcher that matches nothing and says why.
    """
    try:
        operator = Op(op)
    except ValueError:
        raise MatcherError(f"unknown operator {op!r} (use =, !=, =~, !~)") from None
    if operator in (Op.EQ, Op.NE) or _LITERAL.fullmatch(value):
        return Matcher(name, operator, value)
    pattern, refusal = compile_regex(value)
    if pattern is not None:
        return Matcher(name, operator, value, pattern)
    if lenient:
        return Matcher(name, operator, value, problem=f"cannot evaluate: {refusal}")
    raise MatcherError(f"{name}{op}: invalid regex {value!r}: {refusal}")


def parse_matchers(text: str, levels: Sequence[str] = ()) -> tuple[Matcher, ...]:
    """Parse a whole filter line into matchers (ANDed). Empty text gives no matchers.

    `@state=x` must name a state, and `@level=x` one of `levels` (the configured severity
    levels; unchecked when none are given): a typo would silently empty the table."""
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
            matchers.append(_checked(_from_token(token), levels))
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


def _checked(matcher: Matcher, levels: Sequence[str]) -> Matcher:
    """A special key's `=`/`!=` value must be one it can take (a regex is left alone)."""
    if matcher.is_regex:
        return matcher
    valid = STATE_WORDS if matcher.name == "@state" else \
        tuple(levels) if matcher.name == "@level" else ()
    if valid and matcher.value not in valid:
        what = "state" if matcher.name == "@state" else "level"
        raise MatcherError(f"{matcher.name}{matcher.op}{matcher.value}: no such {what}; "
                           f"use one of: {', '.join(valid)}")
    return matcher


def _from_token(token: re.Match[str]) -> Matcher:
    qname = token.group("qname")
    name = _unescape(qname) if qname is not None else token.group("name")
    op = token.group("op")
    if name.startswith("@") and name not in SPECIAL_KEYS:
        raise MatcherError(f"unknown key {name} (known: {', '.join(SPECIAL_KEYS)})")
    raw = token.group("dq")
    if raw is None:
        raw = token.group("sq")
    value = _unescape(raw) if raw is not None else token.group("bare")
    return make_matcher(name, op, value)


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", '"': '"', "'": "'", "\\": "\\"}


def _unescape(value: str) -> str:
    """As Alertmanager reads a quoted value: `\\n`, `\\"` and `\\\\` are escapes; any other
    backslash stays, so `\\pL` or `\\.` reach the regex."""
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(0)), value)

"""Alertmanager's silences: validation, create / extend / replace, expire. Thread-safe.

Follows Alertmanager 0.25 (silence.Silences.Set and the v2 API handler) with two deliberate
differences: a missing or empty createdBy / comment / matchers list answers 400 (Alertmanager
answers 422 for a missing field and accepts empty strings), and a silence whose endsAt equals
now already counts as expired, so a DELETE under a FrozenClock shows at once.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shiftdeck.clock import Clock
from shiftdeck.domain.matchers import Matcher, MatcherError, parse_matchers
from shiftdeck.domain.matchers import make_matcher as domain_matcher

from .scenario import SeedSilence
from .wire import am_time, millis, parse_time

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class SilenceError(Exception):
    """A silence request Alertmanager would refuse; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def matcher_json(matcher: Matcher) -> dict[str, object]:
    return {"isEqual": matcher.is_equal, "isRegex": matcher.is_regex, "name": matcher.name,
            "value": matcher.value}


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime

    def state(self, now: datetime) -> str:
        if self.ends_at <= now:
            return "expired"
        if now < self.starts_at:
            return "pending"
        return "active"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def to_json(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "status": {"state": self.state(now)},
            "updatedAt": am_time(self.updated_at),
            "comment": self.comment,
            "createdBy": self.created_by,
            "endsAt": am_time(self.ends_at),
            "matchers": [matcher_json(m) for m in self.matchers],
            "startsAt": am_time(self.starts_at),
        }


@dataclass(frozen=True, slots=True)
class PostableSilence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


# --------------------------------------------------------------------------- #
# Parsing and validation
# --------------------------------------------------------------------------- #


def make_matcher(name: str, value: str, is_regex: bool, is_equal: bool) -> Matcher:
    """Build a matcher the way Alertmanager validates one (label name, anchored regex)."""
    if not _LABEL_NAME.fullmatch(name):
        raise SilenceError(f'silence invalid: invalid label matcher 0: invalid label name "{name}"')
    op = ("=~" if is_equal else "!~") if is_regex else ("=" if is_equal else "!=")
    try:
        return domain_matcher(name, op, value)
    except MatcherError:
        raise SilenceError(
            f'silence invalid: invalid label matcher 0: invalid regular expression "{value}"'
        ) from None


def parse_postable(payload: object) -> PostableSilence:
    """Check a POST /api/v2/silences body; raise SilenceError(400) with Alertmanager's words."""
    if not isinstance(payload, dict):
        raise SilenceError("parsing silence body failed: expected a JSON object")
    matchers = _parse_matchers(payload.get("matchers"))
    created_by = _required_text(payload, "createdBy")
    comment = _required_text(payload, "comment")
    starts_at = _required_time(payload, "startsAt")
    ends_at = _required_time(payload, "endsAt")
    if starts_at >= ends_at:
        raise SilenceError("Failed to create silence: start time must be before end time")
    silence_id = payload.get("id") or ""
    if not isinstance(silence_id, str):
        raise SilenceError("id in body must be of type string")
    if not any(not m.matches_value("") for m in matchers):
        raise SilenceError("silence invalid: at least one matcher must not match the empty string")
    return PostableSilence(silence_id, matchers, starts_at, ends_at, created_by, comment)


def _parse_matchers(raw: object) -> tuple[Matcher, ...]:
    if raw is None:
        raise SilenceError("matchers in body is required")
    if not isinstance(raw, list):
        raise SilenceError("matchers in body must be of type array")
    if not raw:
        raise SilenceError("matchers in body should have at least 1 items")
    return tuple(_parse_matcher(index, item) for index, item in enumerate(raw))


def _parse_matcher(index: int, item: object) -> Matcher:
    if not isinstance(item, dict):
        raise SilenceError(f"matchers.{index} in body must be of type object")
    for key in ("name", "value"):
        if not isinstance(item.get(key), str):
            raise SilenceError(f"matchers.{index}.{key} in body is required")
    is_regex, is_equal = item.get("isRegex", False), item.get("isEqual", True)
    if not isinstance(is_regex, bool) or not isinstance(is_equal, bool):
        raise SilenceError(f"matchers.{index}.isRegex and isEqual in body must be of type boolean")
    return make_matcher(item["name"], item["value"], is_regex, is_equal)


def _required_text(payload: dict[str, object], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SilenceError(f"{key} in body is required")
    return value


def _required_time(payload: dict[str, object], key: str) -> datetime:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise SilenceError(f"{key} in body is required")
    try:
        return millis(parse_time(value))
    except ValueError:
        raise SilenceError(f"{key} in body must be of type date-time: {value!r}") from None


# --------------------------------------------------------------------------- #
# The store
# --------------------------------------------------------------------------- #

_STATE_ORDER = {"active": 0, "pending": 1, "expired": 2}


class SilenceStore:
    """All silences of the demo Alertmanager, guarded by one lock."""

    def __init__(self, clock: Clock, seed: int = 7) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._silences: dict[str, Silence] = {}
        self._ids = random.Random(f"shiftdeck-demo-silences/{seed}")

    def now(self) -> datetime:
        return millis(self._clock.now())

    def add_seeds(self, seeds: Iterable[SeedSilence]) -> None:
        """Create the silences that exist when the demo starts."""
        now = self.now()
        with self._lock:
            for seed in seeds:
                matchers = parse_matchers(seed.matchers)
                starts = now + seed.starts
                silence = Silence(self._new_id(), matchers, starts, now + seed.ends,
                                  seed.created_by, seed.comment, min(starts, now))
                self._silences[silence.id] = silence

    def get(self, silence_id: str) -> Silence | None:
        with self._lock:
            return self._silences.get(silence_id)

    def all(self) -> list[Silence]:
        """Every silence, sorted as Alertmanager's API sorts them."""
        with self._lock:
            silences = list(self._silences.values())
        return sort_silences(silences, self.now())

    def active(self, now: datetime) -> list[Silence]:
        with self._lock:
            return [s for s in self._silences.values() if s.state(now) == "active"]

    def post(self, payload: object) -> str:
        """Create, extend in place, or replace (expiring the old one); return the silence ID."""
        postable = parse_postable(payload)
        with self._lock:
            now = self.now()
            if postable.ends_at < now:
                raise SilenceError("Failed to create silence: end time can't be in the past")
            previous = self._silences.get(postable.id) if postable.id else None
            if postable.id and previous is None:
                raise SilenceError("silence not found", 404)
            if previous is not None:
                if can_update(previous, postable, now):
                    self._silences[previous.id] = _stored(previous.id, postable, postable.starts_at, now)
                    return previous.id
                if previous.state(now) != "expired":
                    self._silences[previous.id] = _expired(previous, now)
            new_id = self._new_id()
            self._silences[new_id] = _stored(new_id, postable, max(postable.starts_at, now), now)
            return new_id

    def expire(self, silence_id: str) -> None:
        """DELETE /api/v2/silence/{id}: end it now (a pending one never starts)."""
        with self._lock:
            silence = self._silences.get(silence_id)
            if silence is None:
                raise SilenceError("silence not found", 404)
            now = self.now()
            if silence.state(now) != "expired":
                self._silences[silence_id] = _expired(silence, now)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))


def can_update(previous: Silence, new: PostableSilence, now: datetime) -> bool:
    """Alertmanager's rule: same matchers, and only the timestamps the state allows changed."""
    if previous.matchers != new.matchers:
        return False
    state = previous.state(now)
    if state == "active":
        return new.starts_at == previous.starts_at and new.ends_at >= now
    if state == "pending":
        return new.starts_at >= now
    return False


def _stored(silence_id: str, postable: PostableSilence, starts_at: datetime, now: datetime) -> Silence:
    return Silence(silence_id, postable.matchers, starts_at, postable.ends_at,
                   postable.created_by, postable.comment, now)


def _expired(silence: Silence, now: datetime) -> Silence:
    starts = now if silence.state(now) == "pending" else silence.starts_at
    return replace(silence, starts_at=starts, ends_at=now, updated_at=now)


def sort_silences(silences: Sequence[Silence], now: datetime) -> list[Silence]:
    """Active first (ending soonest first), then pending (starting soonest), then expired
    (most recently ended first), as Alertmanager's v2 API sorts them."""

    def key(silence: Silence) -> tuple[int, float, str]:
        state = silence.state(now)
        if state == "active":
            moment = silence.ends_at.timestamp()
        elif state == "pending":
            moment = silence.starts_at.timestamp()
        else:
            moment = -silence.ends_at.timestamp()
        return (_STATE_ORDER[state], moment, silence.id)

    return sorted(silences, key=key)


def silence_matches_filter(silence: Silence, filters: Sequence[Matcher]) -> bool:
    """Alertmanager's silence filter: each filter names a matcher of the silence and accepts its value."""
    values = {m.name: m.value for m in silence.matchers}
    return all(f.name in values and f.matches_value(values[f.name]) for f in filters)


__all__ = [
    "PostableSilence",
    "Silence",
    "SilenceError",
    "SilenceStore",
    "can_update",
    "parse_postable",
    "silence_matches_filter",
    "sort_silences",
]

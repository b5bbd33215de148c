"""On-call shifts from iCalendar feeds: fetch (httpx), keep a copy on disk, expand, name people.

PagerDuty, Grafana OnCall, Opsgenie and GoAlert all export shifts as ICS; one reader covers them:

- **Fetch** with the feed's headers, within its ``timeout`` (one deadline, connect to last
  byte, redirects included) and ``max_bytes`` (default 16 MiB). The headers go along only
  while redirects stay on the feed's origin; another origin is asked without them. A good
  answer is written to ``$XDG_CACHE_HOME/shiftdeck/ics/<sha256 of the URL>.ics`` (mode
  0600: the feeds are private).
  When the fetch fails (unreachable, HTTP error, not iCalendar) the last good copy is used and
  the result says so (``from_cache`` and ``error``), so a shift survives the feed being down.
- **Expand** with ``icalendar`` + ``recurring_ical_events`` over a window (default now-1d ..
  now+8w): RRULE, RDATE, EXDATE and RECURRENCE-ID overrides; cancelled events are skipped.
  Bounded: a feed of more than MAX_COMPONENTS events, or more than MAX_EVENTS occurrences in
  the window, is refused; an event repeating more often than hourly, or too costly to expand
  (MAX_RULE_STEPS), is left out with a sentence and the rest of the feed used. Expansion runs
  in a worker thread.
  Floating times and all-day dates are read in the config's timezone.
- **Name the person** from the SUMMARY (after any ``[L1]``/``[L2]`` prefix), else a single
  ATTENDEE (its ``mailto:`` address or CN), else the DESCRIPTION, matched to ``people`` by id,
  name, handle or e-mail, case-insensitively (:func:`shiftdeck.domain.roster.person_in_text`).
  Events that name nobody are *reported* in ``unmatched``, never silently dropped.
- **Levels**: ``[L2]`` etc. in the SUMMARY map to roles through the feed's ``levels``
  (:meth:`IcsFeed.role_for`).

Every string taken from a feed is sanitised (``domain.sanitize``). A feed's URL often carries a
secret token: it never appears in a message.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx

from ..domain.roster import (IcsFeed, Person, Roster, Shift, find_person, localize,
                             person_in_text, with_shifts)
from ..domain.sanitize import clean_line
from ..domain.sizes import format_size
from ..domain.urls import mask_urls_in
from .http import SourceError, fetch

WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(weeks=8)
MAX_EVENTS = 5_000
"""Occurrences per feed and window: 8 weeks of hourly shifts is 1,344."""
MAX_COMPONENTS = 10_000
"""VEVENTs per feed, counted before parsing: icalendar reads ~4,000 a second."""
MAX_RULE_STEPS = 100_000
"""Steps dateutil may take to expand one recurring event up to the window's end (it walks
from DTSTART, one FREQ period at a time, times the BY... candidates in each): ~0.5 s."""
MAX_FEED_STEPS = 500_000
"""The same, summed over a feed's recurring events."""
_CLIENT_HEADERS = {"User-Agent": "shiftdeck", "Accept": "text/calendar"}

_FOLD = re.compile(rb"\r?\n[ \t]")
_LEVEL = re.compile(r"^\s*\[L(\d{1,2})\]\s*", re.IGNORECASE)


class IcsError(ValueError):
    """The data is not a readable iCalendar file; str() says why."""


@dataclass(frozen=True, slots=True)
class UnmatchedShift:
    """An event that names nobody in ``people``."""

    role: str
    text: str
    """What the event says (SUMMARY, else the attendee, else DESCRIPTION), sanitised."""
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class FeedResult:
    feed: IcsFeed
    shifts: tuple[Shift, ...] = ()
    unmatched: tuple[UnmatchedShift, ...] = ()
    refused: tuple[str, ...] = ()
    """Events left out, one sentence each (they repeat more often than hourly...)."""
    error: str = ""
    """Why the feed could not be read fresh; '' when it was."""
    from_cache: bool = False
    """The shifts come from the copy on disk (``error`` says why the fetch failed)."""
    fetched_at: datetime | None = None
    """When the data used was fetched (for the cache: when it was written)."""
    cache_error: str = ""
    """The fresh data could not be cached: no fallback if the feed goes down."""

    @property
    def ok(self) -> bool:
        """Some data was read: fresh, or from the cache."""
        return not self.error or self.from_cache

    def problems(self) -> list[str]:
        """What a person should know about this feed, one sentence each ([] when all is well)."""
        name = f"ics {self.feed.name}"
        lines = []
        if self.error and self.from_cache:
            when = self.fetched_at.strftime("%Y-%m-%d %H:%M UTC") if self.fetched_at else "?"
            lines.append(f"{name}: {self.error}; using the copy cached at {when}")
        elif self.error:
            lines.append(f"{name}: {self.error}; no cached copy: its shifts are unknown")
        if self.cache_error:
            lines.append(f"{name}: {self.cache_error}; if the feed goes down its shifts are unknown")
        lines += [f"{name}: {sentence}" for sentence in self.refused]
        if self.unmatched:
            texts = list(dict.fromkeys(u.text for u in self.unmatched))
            shown = ", ".join(repr(t) for t in texts[:3]) + (", …" if len(texts) > 3 else "")
            lines.append(f"{name}: {len(self.unmatched)} shift(s) name nobody in people: {shown}")
        return lines


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """now - 1 day .. now + 8 weeks."""
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


class ParsedFeed(NamedTuple):
    shifts: tuple[Shift, ...]
    unmatched: tuple[UnmatchedShift, ...]
    """Events that name nobody in ``people``."""
    refused: tuple[str, ...] = ()
    """Events left out, one sentence each."""


def parse_ics(data: bytes | str, feed: IcsFeed, people: Mapping[str, Person],
              start: datetime, end: datetime, zone: ZoneInfo = ZoneInfo("UTC"),
              ) -> ParsedFeed:
    """The feed's shifts overlapping [start, end), the events that name nobody, and the
    recurring events refused because expanding them costs too much (see :func:`_refusal`).

    Raises IcsError when `data` is not iCalendar, or has more than MAX_EVENTS occurrences in
    the window.
    """
    import icalendar  # imported here: ~0.1 s that only feed readers pay
    import recurring_ical_events

    raw = data.encode() if isinstance(data, str) else data
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        looks = "an HTML page (a login page?)" if raw.lstrip()[:1] == b"<" else "something else"
        raise IcsError(f"answered with {looks}, not iCalendar")
    components = _FOLD.sub(b"", raw).upper().count(b"BEGIN:VEVENT")
    if components > MAX_COMPONENTS:
        raise IcsError(f"more than {MAX_COMPONENTS:,} events in the feed ({components:,}): "
                       "refused")
    try:
        calendar = icalendar.Calendar.from_ical(raw)
        refused = _refuse_costly_rules(calendar, end)
        events = recurring_ical_events.of(calendar).between(start.astimezone(UTC),
                                                            end.astimezone(UTC))
    except IcsError:
        raise
    except Exception as err:  # icalendar/dateutil raise ValueError, KeyError, TypeError...
        raise IcsError(f"unreadable iCalendar ({clean_line(err, 120) or type(err).__name__})"
                       ) from None
    if len(events) > MAX_EVENTS:
        raise IcsError(f"more than {MAX_EVENTS:,} events between {start:%Y-%m-%d} and "
                       f"{end:%Y-%m-%d}: refused")
    shifts: list[Shift] = []
    unmatched: list[UnmatchedShift] = []
    for event in events:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        times = _event_times(event, zone)
        if times is None:
            continue
        begin, finish = times
        summary = clean_line(event.get("SUMMARY", ""), 300).strip()
        level = _LEVEL.match(summary)
        role = feed.role_for(int(level.group(1)) if level else None)
        who = summary[level.end():] if level else summary
        description = clean_line(event.get("DESCRIPTION", ""), 2000).strip()
        attendees = _attendees(event)
        person = person_in_text(people, who)
        if person is None and len(attendees) == 1:
            person = next(filter(None, (find_person(people, a) for a in attendees[0])), None)
        if person is None:
            person = person_in_text(people, description)
        if person is None:
            text = who or (attendees[0][0] if attendees else "") or description[:120]
            unmatched.append(UnmatchedShift(role, text, begin, finish))
        else:
            shifts.append(Shift(role, person.id, begin, finish, feed.name))
    shifts.sort(key=lambda s: (s.start, s.role))
    unmatched.sort(key=lambda u: u.start)
    return ParsedFeed(tuple(shifts), tuple(unmatched), refused)


_PERIOD = {"SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1),
           "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1),
           "WEEKLY": timedelta(weeks=1), "MONTHLY": timedelta(days=28),
           "YEARLY": timedelta(days=365)}
# icalendar ships no type information: its components and properties are dict-like objects.
Component = Any

_CANDIDATE_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR",
                    "BYMINUTE", "BYSECOND", "BYSETPOS")


def _refuse_costly_rules(calendar: Component, end: datetime) -> tuple[str, ...]:
    """Take out of `calendar` every recurring event (with its moved occurrences) that repeats
    more often than hourly or costs more than MAX_RULE_STEPS to expand; past MAX_FEED_STEPS
    for the whole feed, the feed is refused. One sentence per event taken out."""
    refused: list[str] = []
    dropped: set[str] = set()
    total = 0
    for event in calendar.walk("VEVENT"):
        if event.get("RRULE") is None and event.get("RDATE") is None:
            continue
        reason, steps = _refusal(event, end)
        if reason:
            dropped.add(str(event.get("UID", "")) or str(id(event)))
            summary = clean_line(event.get("SUMMARY", ""), 80).strip() or "(no summary)"
            refused.append(f"event {summary!r} {reason}: left out")
            continue
        total += steps
        if total > MAX_FEED_STEPS:
            raise IcsError(f"its recurring events are too costly to expand (over "
                           f"{MAX_FEED_STEPS:,} steps): refused")
    if dropped:
        calendar.subcomponents[:] = [c for c in calendar.subcomponents
                                     if c.name != "VEVENT" or (str(c.get("UID", "")) or
                                                               str(id(c))) not in dropped]
    return tuple(refused)


def _refusal(event: Component, end: datetime) -> tuple[str, int]:
    """(why the event is refused or '', the steps expanding it costs)."""
    steps = sum(len(getattr(rdate, "dts", ()) or ()) for rdate in _as_list(event.get("RDATE")))
    start = _naive_utc(getattr(event.get("DTSTART"), "dt", None))
    until = _naive_utc(end)
    for rule in _as_list(event.get("RRULE")):
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        if freq in ("SECONDLY", "MINUTELY") or any(len(rule.get(part) or ()) > 1
                                                   for part in ("BYMINUTE", "BYSECOND")):
            return f"repeats more often than hourly ({_rule_text(rule)})", 0
        period = _PERIOD.get(freq)
        if period is None or start is None or until is None:
            continue  # icalendar / dateutil reject it themselves
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
        periods = max(0, (until - start) // (period * interval)) + 1
        count = rule.get("COUNT")
        if count:
            periods = min(periods, int(count[0]))
        candidates = 1
        for part in _CANDIDATE_PARTS:
            candidates *= max(1, len(rule.get(part) or ()))
        steps += periods * candidates
    if steps > MAX_RULE_STEPS:
        return (f"would take {steps:,} steps to expand (from {start:%Y-%m-%d}, "
                f"{_rule_text(event.get('RRULE'))})" if start else "is too costly to expand"), 0
    return "", steps


def _rule_text(rule: Component) -> str:
    rule = _as_list(rule)[0] if rule is not None else None
    return clean_line(rule.to_ical().decode("utf-8", "replace"), 80) if rule is not None else ""


def _as_list(value: Component) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _naive_utc(value: object) -> datetime | None:
    """A DTSTART (date, naive or aware datetime) as a naive UTC-ish datetime: precise to a
    day, which is all a cost estimate needs."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _event_times(event: Component, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """[start, end) in UTC; an all-day event without an end lasts one day (RFC 5545)."""
    start = _instant(event.get("DTSTART"), zone)
    if start is None:
        return None
    end = _instant(event.get("DTEND"), zone)
    duration = getattr(event.get("DURATION"), "dt", None)
    if end is None and isinstance(duration, timedelta):
        end = start + duration
    whole_day = not isinstance(event["DTSTART"].dt, datetime)
    if whole_day and (end is None or end <= start):
        end = start + timedelta(days=1)
    if end is None or end <= start:
        return None
    return start, end


def _instant(prop: Component, zone: ZoneInfo) -> datetime | None:
    """An ICS date or date-time as UTC; floating times and dates are read in `zone`."""
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return localize(value, zone)
    if isinstance(value, date):
        return localize(datetime(value.year, value.month, value.day), zone)
    return None


def _attendees(event: Component) -> list[tuple[str, ...]]:
    """Each attendee's candidate names: the address (mailto: stripped) and its CN."""
    value = event.get("ATTENDEE")
    if value is None:
        return []
    found = []
    for attendee in value if isinstance(value, list) else [value]:
        address = clean_line(str(attendee), 300).strip()
        if address.lower().startswith("mailto:"):
            address = address[7:]
        params = getattr(attendee, "params", {}) or {}
        common = clean_line(params.get("CN", ""), 300).strip()
        found.append(tuple(n for n in (address, common) if n))
    return [names for names in found if names]


# --------------------------------------------------------------------------- #
# Fetching and the cache
# --------------------------------------------------------------------------- #


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CACHE_HOME/shiftdeck/ics (default ~/.cache/shiftdeck/ics)."""
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".cache"
    return base / "shiftdeck" / "ics"


def cache_file(feed: IcsFeed, directory: Path) -> Path:
    """Where the feed's last good copy lives: named by the SHA-256 of its URL."""
    return directory / (hashlib.sha256(fetch_url(feed).encode()).hexdigest() + ".ics")


def fetch_url(feed: IcsFeed) -> str:
    """The URL to GET: webcal:// and webcals:// are https://."""
    url = feed.url
    for scheme in ("webcals://", "webcal://"):
        if url.lower().startswith(scheme):
            return "https://" + url[len(scheme):]
    return url


async def fetch_feed(feed: IcsFeed, people: Mapping[str, Person], *, now: datetime,
                     start: datetime | None = None, end: datetime | None = None,
                     zone: ZoneInfo = ZoneInfo("UTC"), cache: Path | None = None,
                     client: httpx.AsyncClient | None = None) -> FeedResult:
    """Read one feed (URL or file) and expand it over [start, end) (default_window(now)).

    A URL feed that cannot be read fresh falls back to its cached copy in `cache` (default
    cache_dir()). Never raises for feed problems: they are in the result.
    """
    if start is None or end is None:
        start, end = default_window(now)
    directory = cache if cache is not None else cache_dir()

    def parse(data: bytes) -> ParsedFeed:
        return parse_ics(data, feed, people, start, end, zone)

    if feed.file:
        try:
            data = await asyncio.to_thread(_read_feed_file, Path(feed.file), feed.max_bytes)
            parsed = await asyncio.to_thread(parse, data)
        except OSError as err:
            return FeedResult(feed, error=f"cannot read {feed.file}: {err.strerror or err}")
        except IcsError as err:
            return FeedResult(feed, error=f"{feed.file}: {err}")
        return FeedResult(feed, *parsed, fetched_at=now)

    path = cache_file(feed, directory)
    try:
        data = await _download(feed, client)
        parsed = await asyncio.to_thread(parse, data)
    except (SourceError, IcsError) as err:
        error = str(err)
    else:
        try:
            await asyncio.to_thread(_write_cache, path, data)
        except OSError as err:
            # Fresh data is still good; say that there is no fallback if the feed goes down.
            return FeedResult(feed, *parsed, fetched_at=now,
                              cache_error=f"cannot cache it in {path.parent}: "
                                          f"{err.strerror or err}")
        return FeedResult(feed, *parsed, fetched_at=now)
    try:
        data = await asyncio.to_thread(_read_feed_file, path, feed.max_bytes)
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        parsed = await asyncio.to_thread(parse, data)
    except (OSError, IcsError):
        return FeedResult(feed, error=error)
    return FeedResult(feed, *parsed, error=error, from_cache=True, fetched_at=written)


async def fetch_feeds(feeds: Sequence[IcsFeed], people: Mapping[str, Person], *,
                      now: datetime, start: datetime | None = None, end: datetime | None = None,
                      zone: ZoneInfo = ZoneInfo("UTC"), cache: Path | None = None,
                      ) -> tuple[FeedResult, ...]:
    """Every feed, concurrently, over one shared HTTP client."""
    if not feeds:
        return ()
    async with httpx.AsyncClient(headers=_CLIENT_HEADERS, trust_env=False) as client:
        return tuple(await asyncio.gather(*(
            fetch_feed(feed, people, now=now, start=start, end=end, zone=zone, cache=cache,
                       client=client) for feed in feeds)))


def read_feeds(feeds: Sequence[IcsFeed], people: Mapping[str, Person], *, now: datetime,
               start: datetime | None = None, end: datetime | None = None,
               zone: ZoneInfo = ZoneInfo("UTC"), cache: Path | None = None,
               ) -> tuple[FeedResult, ...]:
    """fetch_feeds for synchronous callers (the CLI)."""
    return asyncio.run(fetch_feeds(feeds, people, now=now, start=start, end=end, zone=zone,
                                   cache=cache))


def roster_with_feeds(roster: Roster, results: Iterable[FeedResult]) -> Roster:
    """The roster with every feed's shifts (those read fresh or from the cache)."""
    return with_shifts(roster, [shift for result in results for shift in result.shifts])


async def _download(feed: IcsFeed, client: httpx.AsyncClient | None) -> bytes:
    """GET the feed within its deadline and cap; SourceError says why not, in words, never
    quoting the URL. The feed's headers go along only while redirects stay on its origin."""
    own = client is None
    if client is None:
        client = httpx.AsyncClient(headers=_CLIENT_HEADERS, trust_env=False)
    try:
        answer = await fetch(client, "GET", fetch_url(feed), headers=feed.headers,
                             deadline=feed.timeout.total_seconds(), max_bytes=feed.max_bytes,
                             follow_redirects=True)
    except SourceError as err:
        raise SourceError(mask_urls_in(str(err), paths=False)) from None
    finally:
        if own:
            await client.aclose()
    if answer.status_code in (401, 403):
        raise SourceError(f"HTTP {answer.status_code}: not authorised (check the feed's "
                          "URL or headers)")
    if answer.status_code >= 400:
        raise SourceError(f"HTTP {answer.status_code} {answer.reason_phrase}".strip())
    return answer.content


def _read_feed_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused when it is not a regular file (a FIFO would block) or larger
    than the cap."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise IcsError(f"larger than {format_size(max_bytes)}: refused")
    return data


def _write_cache(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(temporary, path)

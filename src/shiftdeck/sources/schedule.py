"""On-call shifts from iCalendar feeds: fetch (httpx), keep a copy on disk, expand, name people.

PagerDuty, Grafana OnCall, Opsgenie and GoAlert all export shifts as ICS; one reader covers them:

- **Fetch** with the feed's headers and timeout. A good answer is written to
  ``$XDG_CACHE_HOME/shiftdeck/ics/<sha256 of the URL>.ics`` (mode 0600: the feeds are private).
  When the fetch fails (unreachable, HTTP error, not iCalendar) the last good copy is used and
  the result says so (``from_cache`` and ``error``), so a shift survives the feed being down.
- **Expand** with ``icalendar`` + ``recurring_ical_events`` over a window (default now-1d ..
  now+8w): RRULE, RDATE, EXDATE and RECURRENCE-ID overrides; cancelled events are skipped.
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
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from ..domain.roster import (IcsFeed, Person, Roster, Shift, find_person, localize,
                             person_in_text, with_shifts)
from ..domain.sanitize import clean_line
from .http import SourceError

WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(weeks=8)
MAX_FEED_BYTES = 32 << 20

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


def parse_ics(data: bytes | str, feed: IcsFeed, people: Mapping[str, Person],
              start: datetime, end: datetime, zone: ZoneInfo = ZoneInfo("UTC"),
              ) -> tuple[tuple[Shift, ...], tuple[UnmatchedShift, ...]]:
    """The feed's shifts overlapping [start, end), and the events that name nobody.

    Raises IcsError when `data` is not iCalendar.
    """
    import icalendar  # imported here: ~0.1 s that only feed readers pay
    import recurring_ical_events

    raw = data.encode() if isinstance(data, str) else data
    if not raw.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        looks = "an HTML page (a login page?)" if raw.lstrip()[:1] == b"<" else "something else"
        raise IcsError(f"answered with {looks}, not iCalendar")
    try:
        calendar = icalendar.Calendar.from_ical(raw)
        events = recurring_ical_events.of(calendar).between(start.astimezone(UTC),
                                                            end.astimezone(UTC))
    except Exception as err:  # icalendar/dateutil raise ValueError, KeyError, TypeError...
        raise IcsError(f"unreadable iCalendar ({clean_line(err, 120) or type(err).__name__})"
                       ) from None
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
    return tuple(shifts), tuple(unmatched)


def _event_times(event, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
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


def _instant(prop, zone: ZoneInfo) -> datetime | None:
    """An ICS date or date-time as UTC; floating times and dates are read in `zone`."""
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return localize(value, zone)
    if isinstance(value, date):
        return localize(datetime(value.year, value.month, value.day), zone)
    return None


def _attendees(event) -> list[tuple[str, ...]]:
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

    def parse(data: bytes) -> tuple[tuple[Shift, ...], tuple[UnmatchedShift, ...]]:
        return parse_ics(data, feed, people, start, end, zone)

    if feed.file:
        try:
            data = await asyncio.to_thread(Path(feed.file).read_bytes)
            shifts, unmatched = await asyncio.to_thread(parse, data)
        except OSError as err:
            return FeedResult(feed, error=f"cannot read {feed.file}: {err.strerror or err}")
        except IcsError as err:
            return FeedResult(feed, error=f"{feed.file}: {err}")
        return FeedResult(feed, shifts, unmatched, fetched_at=now)

    path = cache_file(feed, directory)
    try:
        data = await _download(feed, client)
        shifts, unmatched = await asyncio.to_thread(parse, data)
    except (SourceError, IcsError) as err:
        error = str(err)
    else:
        try:
            await asyncio.to_thread(_write_cache, path, data)
        except OSError as err:
            # Fresh data is still good; say that there is no fallback if the feed goes down.
            return FeedResult(feed, shifts, unmatched, fetched_at=now,
                              cache_error=f"cannot cache it in {path.parent}: "
                                          f"{err.strerror or err}")
        return FeedResult(feed, shifts, unmatched, fetched_at=now)
    try:
        data = await asyncio.to_thread(path.read_bytes)
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        shifts, unmatched = await asyncio.to_thread(parse, data)
    except (OSError, IcsError):
        return FeedResult(feed, error=error)
    return FeedResult(feed, shifts, unmatched, error=error, from_cache=True, fetched_at=written)


async def fetch_feeds(feeds: Sequence[IcsFeed], people: Mapping[str, Person], *,
                      now: datetime, start: datetime | None = None, end: datetime | None = None,
                      zone: ZoneInfo = ZoneInfo("UTC"), cache: Path | None = None,
                      ) -> tuple[FeedResult, ...]:
    """Every feed, concurrently, over one shared HTTP client."""
    if not feeds:
        return ()
    async with httpx.AsyncClient(headers={"User-Agent": "shiftdeck", "Accept": "text/calendar"},
                                 follow_redirects=True, trust_env=False) as client:
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
    """GET the feed; SourceError says why not, in words, never quoting the URL."""
    own = client is None
    if client is None:
        client = httpx.AsyncClient(headers={"User-Agent": "shiftdeck"}, follow_redirects=True,
                                   trust_env=False)
    timeout = feed.timeout.total_seconds()
    try:
        response = await client.get(fetch_url(feed), headers=dict(feed.headers), timeout=timeout)
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {timeout:g}s") from None
    except httpx.ConnectError as err:
        raise SourceError(f"unreachable ({_root_cause(err)})") from None
    except httpx.HTTPError as err:
        raise SourceError(f"request failed ({_root_cause(err)})") from None
    finally:
        if own:
            await client.aclose()
    if response.status_code in (401, 403):
        raise SourceError(f"HTTP {response.status_code}: not authorised (check the feed's "
                          "URL or headers)")
    if response.status_code >= 400:
        raise SourceError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
    if len(response.content) > MAX_FEED_BYTES:
        raise SourceError(f"answer too large ({len(response.content)} bytes)")
    return response.content


def _root_cause(err: BaseException) -> str:
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return clean_line(str(err) or type(err).__name__, 300).split("] ")[-1][:120]


def _write_cache(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(temporary, path)

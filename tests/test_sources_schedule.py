"""sources.schedule: ICS feeds in the shapes PagerDuty and Grafana OnCall export, fetched over
real loopback HTTP, cached on disk, expanded and matched to people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shiftdeck.domain.roster import IcsFeed, Roster
from shiftdeck.sources.schedule import (cache_dir, cache_file, parse_ics, read_feeds,
                                        roster_with_feeds)

from .support.ics_feeds import (BERLIN, NOW, PAGERDUTY, PEOPLE, WINDOW, FeedServer, ics,
                                pagerduty_event)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# Grafana OnCall: "[L1] <username>" events, a weekly RRULE with one week removed (EXDATE) and
# one occurrence moved and handed to someone else at another level (RECURRENCE-ID).
GRAFANA = ics(
    "BEGIN:VEVENT\nUID:oncall-1\nSUMMARY:[L1] alice\n"
    "DTSTART;TZID=Europe/Berlin:20261102T090000\nDTEND;TZID=Europe/Berlin:20261103T090000\n"
    "RRULE:FREQ=WEEKLY;COUNT=6\nEXDATE;TZID=Europe/Berlin:20261109T090000\nEND:VEVENT\n",
    "BEGIN:VEVENT\nUID:oncall-1\nRECURRENCE-ID;TZID=Europe/Berlin:20261116T090000\n"
    "SUMMARY:[L2] carol\nDTSTART;TZID=Europe/Berlin:20261116T120000\n"
    "DTEND;TZID=Europe/Berlin:20261117T090000\nEND:VEVENT\n",
    "BEGIN:VEVENT\nUID:oncall-2\nSUMMARY:[L3] bob\n"
    "DTSTART;TZID=Europe/Berlin:20261104T090000\nDTEND;TZID=Europe/Berlin:20261105T090000\n"
    "END:VEVENT\n",
    extra=BERLIN_TZ,
)


def parse(text: str, feed: IcsFeed):
    """(shifts, unmatched)."""
    return parse_ics(text, feed, PEOPLE, *WINDOW, BERLIN)[:2]


# -- parsing -------------------------------------------------------------------------------------


def test_pagerduty_feed_names_people_by_summary_or_attendee() -> None:
    shifts, unmatched = parse(PAGERDUTY, IcsFeed("primary", file="/f/pd.ics", name="pagerduty"))
    assert [(s.role, s.person, s.start, s.end, s.source) for s in shifts] == [
        ("primary", "alice", utc(2026, 11, 16, 8), utc(2026, 11, 23, 8), "pagerduty"),
        ("primary", "bob", utc(2026, 11, 23, 8), utc(2026, 11, 30, 8), "pagerduty"),  # by e-mail
    ]
    assert unmatched == ()


def test_grafana_oncall_feed_expands_rrule_exdate_and_a_moved_occurrence() -> None:
    feed = IcsFeed("primary", file="/f/oncall.ics", levels={"L2": "secondary"})
    shifts, unmatched = parse(GRAFANA, feed)
    assert [(s.role, s.person, s.start.astimezone(BERLIN).strftime("%d %H:%M")) for s in shifts
            ] == [
        ("primary", "alice", "02 09:00"),
        ("primary-L3", "bob", "04 09:00"),      # an unnamed level: <role>-L3
        # 09 Nov removed by EXDATE
        ("secondary", "carol", "16 12:00"),     # the RECURRENCE-ID override: moved, [L2] carol
        ("primary", "alice", "23 09:00"),
        ("primary", "alice", "30 09:00"),
        ("primary", "alice", "07 09:00"),
    ]
    assert unmatched == ()


def test_events_naming_nobody_known_are_reported_not_dropped_silently() -> None:
    text = ics(pagerduty_event("pd-9", "20261116T080000Z", "20261123T080000Z", "Zed Unknown",
                               "zed@elsewhere.example"))
    shifts, unmatched = parse(text, IcsFeed("primary", file="/f/pd.ics"))
    assert shifts == ()
    (missing,) = unmatched
    assert (missing.role, missing.text, missing.start) == (
        "primary", "On Call - Zed Unknown - Primary", utc(2026, 11, 16, 8))


def test_hostile_text_from_a_feed_is_sanitised() -> None:
    text = ics("BEGIN:VEVENT\nUID:x\nDTSTART:20261116T080000Z\nDTEND:20261117T080000Z\n"
               "SUMMARY:\x1b]0;pwned\x07Mallory\u202e\nEND:VEVENT\n")
    _, (missing,) = parse(text, IcsFeed("primary", file="/f/x.ics"))
    assert missing.text == "]0;pwnedMallory"


def test_floating_times_and_all_day_events_are_read_in_the_config_timezone() -> None:
    text = ics("BEGIN:VEVENT\nUID:a\nDTSTART:20261116T090000\nDTEND:20261116T210000\n"
               "SUMMARY:alice\nEND:VEVENT\n",
               "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20261117\nSUMMARY:bob\nEND:VEVENT\n")
    shifts, _ = parse(text, IcsFeed("primary", file="/f/x.ics"))
    assert [(s.person, s.start, s.end) for s in shifts] == [
        ("alice", utc(2026, 11, 16, 8), utc(2026, 11, 16, 20)),
        ("bob", utc(2026, 11, 16, 23), utc(2026, 11, 17, 23)),
    ]


def test_an_html_page_is_not_a_calendar() -> None:
    from shiftdeck.sources.schedule import IcsError

    with pytest.raises(IcsError, match="HTML page"):
        parse("<html>login</html>", IcsFeed("primary", file="/f/x.ics"))


# -- fetching over loopback HTTP, and the cache ----------------------------------------------------


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def fetch(feed: IcsFeed, cache: Path):
    (result,) = read_feeds([feed], PEOPLE, now=NOW, start=WINDOW[0], end=WINDOW[1], zone=BERLIN,
                           cache=cache)
    return result


def test_fetch_sends_the_feed_headers_and_caches_the_answer(feed_server: FeedServer,
                                                            tmp_path: Path) -> None:
    feed = IcsFeed("primary", url=feed_server.url, headers={"Authorization": "Token abc"})
    result = fetch(feed, tmp_path)
    assert result.ok and not result.from_cache and result.error == ""
    assert [s.person for s in result.shifts] == ["alice", "bob"]
    path, headers = feed_server.requests[0]
    assert path == "/private/t0ken/feed/P1" and headers["Authorization"] == "Token abc"
    cached = cache_file(feed, tmp_path)
    assert cached.read_bytes() == PAGERDUTY.encode()
    assert cached.stat().st_mode & 0o777 == 0o600


def test_feed_down_uses_the_cached_copy_and_says_so(feed_server: FeedServer,
                                                    tmp_path: Path) -> None:
    feed = IcsFeed("primary", url=feed_server.url)
    fetch(feed, tmp_path)
    feed_server.status, feed_server.body = 503, b"maintenance"
    result = fetch(feed, tmp_path)
    assert result.ok and result.from_cache and result.error == "HTTP 503 Service Unavailable"
    assert [s.person for s in result.shifts] == ["alice", "bob"]
    (problem,) = result.problems()
    assert "HTTP 503" in problem and "using the copy cached at" in problem
    assert "t0ken" not in problem  # the URL's secret never shows


def test_feed_unreachable_without_a_cache_is_an_error(tmp_path: Path) -> None:
    result = fetch(IcsFeed("primary", url="http://127.0.0.1:9/feed", timeout=timedelta(seconds=2)),
                   tmp_path)
    assert not result.ok and result.shifts == () and "unreachable" in result.error
    assert "no cached copy" in result.problems()[0]


def test_a_login_page_does_not_replace_the_cache(feed_server: FeedServer, tmp_path: Path) -> None:
    feed = IcsFeed("primary", url=feed_server.url)
    fetch(feed, tmp_path)
    feed_server.body = b"<html>please log in</html>"
    result = fetch(feed, tmp_path)
    assert result.from_cache and "HTML page" in result.error
    assert cache_file(feed, tmp_path).read_bytes() == PAGERDUTY.encode()


def test_file_feed_and_unmatched_people_reported(tmp_path: Path) -> None:
    path = tmp_path / "oncall.ics"
    path.write_text(ics(pagerduty_event("x", "20261116T080000Z", "20261117T080000Z", "Zed",
                                        "zed@x.example")))
    result = fetch(IcsFeed("primary", file=str(path)), tmp_path)
    assert result.ok and result.shifts == () and len(result.unmatched) == 1
    assert result.problems() == [
        "ics oncall.ics: 1 shift(s) name nobody in people: 'On Call - Zed - Primary'"]


def test_roster_with_feeds_puts_the_shifts_on_the_roster(feed_server: FeedServer,
                                                         tmp_path: Path) -> None:
    result = fetch(IcsFeed("primary", url=feed_server.url, name="pd"), tmp_path)
    roster = roster_with_feeds(Roster(PEOPLE, timezone=BERLIN), [result])
    holding = roster.holding("primary", NOW)
    assert (holding.person.id, holding.source) == ("alice", "pd")


def test_cache_dir_follows_xdg_cache_home() -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/shiftdeck/ics")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/shiftdeck/ics")


def test_a_cache_that_cannot_be_written_is_reported(feed_server: FeedServer, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    result = fetch(IcsFeed("primary", url=feed_server.url), blocked)
    assert result.shifts and not result.error
    assert "cannot cache it" in " ".join(result.problems())

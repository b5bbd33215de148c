"""ICS feeds are bounded: size (fetched or read from a file), events, expansion cost, and the
feed's headers never follow a redirect to another origin. `shiftdeck who` (its `main()`, in this
process) and real loopback HTTP (tests/raw_server.py, tests/test_sources_schedule.FeedServer)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from shiftdeck.domain.roster import IcsFeed
from shiftdeck.sources.schedule import IcsError, cache_file, parse_ics, read_feeds

from .support.raw_server import RawServer, answer
from .support.oncall_cli import CONFIG
from .support.ics_feeds import NOW, PEOPLE, WINDOW, FeedServer, ics

pytestmark = pytest.mark.timeout(90)


def event(uid: str, summary: str, rule: str = "", start: str = "20261102T080000Z",
          end: str = "20261102T200000Z") -> str:
    rrule = f"RRULE:{rule}\n" if rule else ""
    return (f"BEGIN:VEVENT\nUID:{uid}\nDTSTART:{start}\nDTEND:{end}\nSUMMARY:{summary}\n"
            f"{rrule}END:VEVENT\n")


WEEKLY_ALICE = event("w", "alice", "FREQ=WEEKLY")


def parse(text: str):
    return parse_ics(text, IcsFeed("primary", file="/f/x.ics"), PEOPLE, *WINDOW)


def test_secondly_feed_through_who_finishes_promptly_and_says_why(tmp_path: Path, oncall_cli) -> None:
    # Before: `who` ran over 2 minutes and 950 MB expanding 4.8 million occurrences.
    feed = tmp_path / "flood.ics"
    feed.write_text(ics(event("f", "Flood", "FREQ=SECONDLY"),
                        event("alice", "On Call - Alice Ng", start="20261118T080000Z",
                              end="20261119T080000Z")))
    config = CONFIG + f"schedules_ics:\n  - {{role: pd, file: '{feed}', name: flood}}\n"
    started = time.monotonic()
    result = oncall_cli("who", "--at", "2026-11-18T12:00", config=config)
    took = time.monotonic() - started
    assert took < 30, f"who took {took:.0f}s"
    assert ("shiftdeck: ics flood: event 'Flood' repeats more often than hourly "
            "(FREQ=SECONDLY): left out") in result.stderr
    assert "pd       Alice Ng (@alice)" in result.stdout, "the rest of the feed is used"


@pytest.mark.parametrize("rule", ["FREQ=MINUTELY;INTERVAL=30", "FREQ=HOURLY;BYMINUTE=0,30",
                                  "FREQ=DAILY;BYSECOND=0,1"])
def test_anything_more_often_than_hourly_is_left_out(rule: str) -> None:
    parsed = parse(ics(event("x", "bob", rule), WEEKLY_ALICE))
    assert parsed.refused == (f"event 'bob' repeats more often than hourly ({rule}): left out",)
    assert {s.person for s in parsed.shifts} == {"alice"}


def test_hourly_is_kept() -> None:
    parsed = parse(ics(event("h", "bob", "FREQ=HOURLY", start="20261118T080000Z",
                             end="20261118T083000Z")))
    assert parsed.refused == () and len(parsed.shifts) > 1000


def test_a_rule_that_starts_too_long_ago_is_left_out_with_its_cost() -> None:
    # FREQ=HOURLY from 1900 walks 1.1 million hours before the window (~5 s); from year 1, ~100 s.
    started = time.monotonic()
    parsed = parse(ics(event("old", "bob", "FREQ=HOURLY", start="19000101T000000Z",
                             end="19000101T010000Z"), WEEKLY_ALICE))
    assert time.monotonic() - started < 5
    (sentence,) = parsed.refused
    assert sentence == ("event 'bob' would take 1,113,241 steps to expand (from 1900-01-01, "
                        "FREQ=HOURLY): left out")
    assert {s.person for s in parsed.shifts} == {"alice"}


def test_many_costly_rules_refuse_the_feed() -> None:
    rules = [event(f"u{i}", "alice", "FREQ=HOURLY", start="20200101T000000Z",
                   end="20200101T010000Z") for i in range(20)]
    with pytest.raises(IcsError, match=r"too costly to expand \(over 500,000 steps\)"):
        parse(ics(*rules))


def test_too_many_events_refuse_the_feed_before_it_is_parsed() -> None:
    many = [event(f"s{i}", "alice") for i in range(10_001)]
    started = time.monotonic()
    with pytest.raises(IcsError, match=r"more than 10,000 events in the feed \(10,001\)"):
        parse(ics(*many))
    assert time.monotonic() - started < 2, "refused before icalendar parsed 10,001 events"


def test_too_many_occurrences_in_the_window_refuse_the_feed() -> None:
    daily = [event(f"d{i}", "alice", "FREQ=DAILY", start="20261101T080000Z",
                   end="20261101T090000Z") for i in range(90)]  # 90 x 60 days in the window
    with pytest.raises(IcsError, match=r"more than 5,000 events between 2026-11-01 and "):
        parse(ics(*daily))


# -- fetching -------------------------------------------------------------------------------


def fetch(feed: IcsFeed, cache: Path):
    (result,) = read_feeds([feed], PEOPLE, now=NOW, start=WINDOW[0], end=WINDOW[1], cache=cache)
    return result


def test_a_feed_larger_than_its_cap_is_an_error_and_the_cache_is_used(tmp_path: Path) -> None:
    server = FeedServer()
    try:
        feed = IcsFeed("primary", url=server.url, max_bytes=4096)
        assert fetch(feed, tmp_path).error == ""
        server.body = server.body + b" " * 5000
        result = fetch(feed, tmp_path)
    finally:
        server.close()
    assert result.from_cache and result.error == "answer larger than 4 KiB: refused"
    assert [s.person for s in result.shifts] == ["alice", "bob"]


def test_a_file_feed_larger_than_its_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.ics"
    path.write_bytes(ics(WEEKLY_ALICE).encode() + b" " * 5000)
    result = fetch(IcsFeed("primary", file=str(path), max_bytes=4096), tmp_path)
    assert result.error == f"{path}: larger than 4 KiB: refused"


def test_a_fifo_as_file_feed_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "feed.ics"
    os.mkfifo(path)
    result = fetch(IcsFeed("primary", file=str(path)), tmp_path)
    assert result.error == f"cannot read {path}: not a regular file"


@pytest.mark.slow  # waits out a 2 s deadline on a real loopback server
def test_a_slow_feed_fails_at_its_deadline(tmp_path: Path) -> None:
    from .support.raw_server import Drip

    with RawServer(Drip(b"BEGIN:VCALENDAR\r\n" * 3, interval=0.5)) as server:
        started = time.monotonic()
        result = fetch(IcsFeed("primary", url=server.url + "/f.ics",
                               timeout=timedelta(seconds=2)), tmp_path)
    assert time.monotonic() - started < 8
    assert result.error == "timed out after 2s (no complete answer within the deadline)"


def test_headers_follow_a_redirect_on_the_same_origin_only(tmp_path: Path) -> None:
    server = FeedServer()
    try:
        with RawServer(answer(302, {"Location": server.url})) as foreign, \
                RawServer(answer(302, {"Location": "/moved"})) as local:
            # Same origin: `local` sends us to its own /moved, where it redirects again...
            # to `foreign`'s origin, which sends us on to the feed server: two origins away.
            feed = IcsFeed("primary", url=foreign.url + "/feed.ics",
                           headers={"X-Api-Key": "s3cret"})
            result = fetch(feed, tmp_path)
            same = IcsFeed("primary", url=local.url + "/a", headers={"X-Api-Key": "s3cret"})
            fetch(same, tmp_path / "same")
    finally:
        server.close()
    assert result.error == "" and [s.person for s in result.shifts] == ["alice", "bob"]
    assert b"x-api-key: s3cret" in foreign.heads[0].lower(), "the feed's own origin gets it"
    (path, headers), = server.requests
    assert "X-Api-Key" not in headers and "x-api-key" not in {h.lower() for h in headers}
    # The same origin keeps the headers on every hop.
    assert [b"x-api-key: s3cret" in head.lower() for head in local.heads] == [True] * 6
    assert cache_file(feed, tmp_path).exists()


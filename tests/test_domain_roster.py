"""domain.roster: rotations across DST, overrides, ICS shifts, gaps, handoffs, naming people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shiftdeck.domain.roster import (DISTANT_FUTURE, DISTANT_PAST, IcsFeed, Person, Roster,
                                     Rotation, Shift, coalesce, find_person, localize,
                                     person_in_text, with_shifts)

BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = {
    "alice": Person("alice", "Alice Ng", "@alice", email="alice@example.com"),
    "bob": Person("bob", "Bob Okafor", "@bob", email="bob@example.com"),
    "carol": Person("carol", "Carol Diaz", "@carol"),
    "dave": Person("dave", "Dave Kim", "@dave"),
}
# Monday 2026-01-05 09:00 Berlin; DST starts Sun 2026-03-29, ends Sun 2026-10-25.
START = datetime(2026, 1, 5, 9, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(role: str = "primary", members: tuple[str, ...] = ("alice", "bob", "carol", "dave"),
           start: datetime = START, length: timedelta = timedelta(weeks=1)) -> Rotation:
    return Rotation(role, members, start, length, BERLIN)


def roster(*rotations: Rotation, overrides: tuple[Shift, ...] = (),
           shifts: tuple[Shift, ...] = ()) -> Roster:
    return Roster(PEOPLE, rotations or (weekly(),), overrides, shifts, timezone=BERLIN)


def who(r: Roster, role: str, at: datetime) -> str | None:
    person = r.holder(role, at)
    return person.id if person else None


# -- rotation arithmetic ----------------------------------------------------------------------


def test_weekly_monday_0900_berlin_is_0700_utc_in_summer_and_0800_utc_in_winter() -> None:
    rotation = weekly()
    assert rotation.handoff(0) == utc(2026, 1, 5, 8, 0)      # winter, CET
    assert rotation.handoff(26) == utc(2026, 7, 6, 7, 0)     # summer, CEST
    assert rotation.handoff(46) == utc(2026, 11, 23, 8, 0)   # winter again


def test_handoff_right_after_spring_forward_is_an_hour_earlier_in_utc() -> None:
    r = roster()
    before = r.holding("primary", utc(2026, 3, 29, 12, 0))   # the week holding the change
    assert (before.start, before.end) == (utc(2026, 3, 23, 8, 0), utc(2026, 3, 30, 7, 0))
    assert before.end - before.start == timedelta(hours=167)
    assert who(r, "primary", utc(2026, 3, 30, 6, 59)) != who(r, "primary", utc(2026, 3, 30, 7, 0))


def test_handoff_right_after_fall_back_is_an_hour_later_in_utc() -> None:
    r = roster()
    before = r.holding("primary", utc(2026, 10, 25, 12, 0))
    assert (before.start, before.end) == (utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0))
    assert before.end - before.start == timedelta(hours=169)
    assert who(r, "primary", utc(2026, 10, 26, 7, 59)) != who(r, "primary", utc(2026, 10, 26, 8))


def test_daily_12h_rotation_hands_off_at_0900_and_2100_local_across_both_changes() -> None:
    r = roster(weekly(members=("alice", "bob"), length=timedelta(hours=12)))
    for start, end in ((utc(2026, 3, 27), utc(2026, 4, 1)),
                       (utc(2026, 10, 23), utc(2026, 10, 28))):
        holdings = r.timeline("primary", start, end)
        local = {h.start.astimezone(BERLIN).strftime("%H:%M") for h in holdings}
        assert local == {"09:00", "21:00"}
        assert all(a.person != b.person for a, b in zip(holdings, holdings[1:]))
    spring = r.holding("primary", utc(2026, 3, 29, 3, 0))  # 21:00 Sat CET → 09:00 Sun CEST
    assert spring.end - spring.start == timedelta(hours=11)
    autumn = r.holding("primary", utc(2026, 10, 25, 3, 0))  # 21:00 Sat CEST → 09:00 Sun CET
    assert autumn.end - autumn.start == timedelta(hours=13)


def test_handoff_inside_the_dst_gap_moves_forward() -> None:
    rotation = weekly(start=datetime(2026, 3, 1, 2, 30), length=timedelta(days=1))
    gap_day = (datetime(2026, 3, 29) - datetime(2026, 3, 1)).days
    assert rotation.handoff(gap_day).astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    assert rotation.handoff(gap_day + 1) == utc(2026, 3, 30, 0, 30)


def test_ambiguous_handoff_takes_the_first_occurrence() -> None:
    assert localize(datetime(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_one_member_rotation_always_names_that_person_and_never_hands_off() -> None:
    r = roster(weekly(role="manager", members=("carol",)))
    for at in (utc(2025, 1, 1), utc(2026, 3, 30, 7), utc(2027, 6, 1)):
        assert who(r, "manager", at) == "carol"
    assert r.next_handoff("manager", utc(2026, 6, 1)) is None
    stretch = coalesce(r.timeline("manager", utc(2026, 6, 1), utc(2026, 7, 1)))
    assert len(stretch) == 1 and stretch[0].person.id == "carol"


def test_instants_before_start_use_negative_turns() -> None:
    r = roster()
    before = r.holding("primary", utc(2026, 1, 4, 12, 0))  # the turn before turn 0
    assert before.person.id == "dave"
    assert (before.start, before.end) == (utc(2025, 12, 29, 8, 0), utc(2026, 1, 5, 8, 0))
    assert who(r, "primary", utc(2025, 12, 22, 9, 0)) == "carol"


def test_naive_query_times_are_read_in_the_roster_timezone() -> None:
    r = roster()
    assert r.holding("primary", datetime(2026, 1, 12, 9, 0)).start == utc(2026, 1, 12, 8, 0)


# -- overrides and ICS shifts -----------------------------------------------------------------


def test_override_beats_the_rotation_and_cuts_its_turn() -> None:
    cover = Shift("primary", "dave", utc(2026, 1, 7, 8), utc(2026, 1, 8, 8), "override")
    r = roster(overrides=(cover,))
    assert r.holding("primary", utc(2026, 1, 6)) == r.holding("primary", utc(2026, 1, 5, 9))
    first = r.holding("primary", utc(2026, 1, 6))
    assert (first.person.id, first.start, first.end) == ("alice", utc(2026, 1, 5, 8),
                                                         utc(2026, 1, 7, 8))
    middle = r.holding("primary", utc(2026, 1, 7, 12))
    assert (middle.person.id, middle.source, middle.end) == ("dave", "override", utc(2026, 1, 8, 8))
    after = r.holding("primary", utc(2026, 1, 9))
    assert (after.person.id, after.start, after.end) == ("alice", utc(2026, 1, 8, 8),
                                                         utc(2026, 1, 12, 8))


def test_ics_shift_beats_the_rotation_and_an_override_beats_both() -> None:
    shift = Shift("primary", "bob", utc(2026, 1, 6), utc(2026, 1, 8), "pagerduty")
    cover = Shift("primary", "carol", utc(2026, 1, 7), utc(2026, 1, 7, 12), "override")
    r = roster(overrides=(cover,), shifts=(shift,))
    assert [(h.person.id, h.source) for h in r.timeline("primary", utc(2026, 1, 5, 12),
                                                         utc(2026, 1, 9))] == [
        ("alice", "rotation"), ("bob", "pagerduty"), ("carol", "override"), ("bob", "pagerduty"),
        ("alice", "rotation")]


def test_overlapping_ics_shifts_the_later_start_wins() -> None:
    long = Shift("oncall", "alice", utc(2026, 1, 1), utc(2026, 1, 10), "ics")
    short = Shift("oncall", "bob", utc(2026, 1, 3), utc(2026, 1, 4), "ics")
    r = Roster(PEOPLE, shifts=(long, short))
    assert [h.person.id for h in r.timeline("oncall", utc(2026, 1, 2), utc(2026, 1, 5))] == [
        "alice", "bob", "alice"]


def test_timeline_shows_coverage_gaps_between_shifts() -> None:
    shifts = (Shift("db", "alice", utc(2026, 1, 5), utc(2026, 1, 6), "ics"),
              Shift("db", "bob", utc(2026, 1, 7), utc(2026, 1, 8), "ics"))
    r = Roster(PEOPLE, shifts=shifts)
    timeline = r.timeline("db", utc(2026, 1, 5, 12), utc(2026, 1, 7, 12))
    assert [(h.person.id if h.person else None, h.start, h.end) for h in timeline] == [
        ("alice", utc(2026, 1, 5), utc(2026, 1, 6)),
        (None, utc(2026, 1, 6), utc(2026, 1, 7)),
        ("bob", utc(2026, 1, 7), utc(2026, 1, 8)),
    ]
    assert timeline[1].is_gap and timeline[1].source == ""


def test_gap_before_the_first_and_after_the_last_shift_is_unbounded() -> None:
    r = Roster(PEOPLE, shifts=(Shift("db", "alice", utc(2026, 1, 5), utc(2026, 1, 6), "ics"),))
    assert r.holding("db", utc(2026, 1, 1)).start == DISTANT_PAST
    assert r.holding("db", utc(2026, 1, 7)).end == DISTANT_FUTURE
    assert r.holding("nobody-role", utc(2026, 1, 7)).person is None


def test_with_shifts_replaces_ics_shifts_and_keeps_the_rest() -> None:
    base = roster(overrides=(Shift("primary", "dave", utc(2026, 1, 7), utc(2026, 1, 8),
                                   "override"),))
    first = with_shifts(base, [Shift("db", "alice", utc(2026, 1, 5), utc(2026, 1, 6), "x")])
    second = with_shifts(first, [Shift("db", "bob", utc(2026, 1, 5), utc(2026, 1, 6), "x")])
    assert who(second, "db", utc(2026, 1, 5, 12)) == "bob"
    assert second.rotations == base.rotations and second.overrides == base.overrides
    assert second.roles() == ("primary", "db")


# -- handoffs and shifts ------------------------------------------------------------------------


def test_next_handoff_is_the_next_holding_with_a_different_person() -> None:
    r = roster(weekly(members=("alice", "alice", "bob")))
    handoff = r.next_handoff("primary", utc(2026, 1, 6))
    assert (handoff.person.id, handoff.start) == ("bob", utc(2026, 1, 19, 8))


def test_next_handoff_to_a_coverage_gap_has_no_person() -> None:
    r = Roster(PEOPLE, shifts=(Shift("db", "alice", utc(2026, 1, 5), utc(2026, 1, 6), "ics"),))
    handoff = r.next_handoff("db", utc(2026, 1, 5, 12))
    assert handoff.person is None and handoff.start == utc(2026, 1, 6)


def test_next_shift_of_a_person_is_their_current_holding_or_the_next_one() -> None:
    r = roster(weekly(), weekly(role="secondary", members=("bob", "carol", "dave", "alice")))
    now = utc(2026, 1, 6)  # alice primary, bob secondary
    assert r.next_shift_of("alice", now).role == "primary"
    carol = r.next_shift_of("carol", now)
    assert (carol.role, carol.start) == ("secondary", utc(2026, 1, 12, 8))
    assert r.next_shift_of("@carol", now) == carol  # a handle works too
    assert r.next_shift_of("zed", now) is None


def test_resolve_takes_a_role_or_a_person_id() -> None:
    r = roster()
    assert r.resolve("primary", utc(2026, 1, 6)).id == "alice"
    assert r.resolve("dave", utc(2026, 1, 6)).id == "dave"
    assert r.resolve("unknown", utc(2026, 1, 6)) is None


def test_roles_in_order_of_first_appearance() -> None:
    r = Roster(PEOPLE, (weekly(), weekly(role="secondary")),
               overrides=(Shift("shadow", "dave", utc(2026, 1, 1), utc(2026, 1, 2)),),
               shifts=(Shift("db", "bob", utc(2026, 1, 1), utc(2026, 1, 2)),),
               declared_roles=("db", "db-L2"))
    assert r.roles() == ("primary", "secondary", "shadow", "db", "db-L2")


def test_coalesce_joins_adjacent_same_person_same_source() -> None:
    r = roster(weekly(members=("alice", "alice", "bob")))
    joined = coalesce(r.timeline("primary", utc(2026, 1, 6), utc(2026, 1, 27)))
    assert [(h.person.id, h.start) for h in joined] == [("alice", utc(2026, 1, 5, 8)),
                                                        ("bob", utc(2026, 1, 19, 8)),
                                                        ("alice", utc(2026, 1, 26, 8))]


# -- naming people ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["alice", "ALICE", "Alice Ng", "@alice", "alice@example.com",
                                  "mailto:Alice@Example.com"])
def test_find_person_by_id_name_handle_or_email(text: str) -> None:
    assert find_person(PEOPLE, text).id == "alice"


def test_find_person_refuses_a_key_two_people_share() -> None:
    people = {"a": Person("a", "Sam Lee"), "b": Person("b", "Sam Lee")}
    assert find_person(people, "Sam Lee") is None


@pytest.mark.parametrize("text, expected", [
    ("On Call - Alice Ng - Primary", "alice"),
    ("Primary: @bob", "bob"),
    ("Shift for carol (Platform)", "carol"),
    ("covered by dave@example.com", None),
    ("Carol Diaz is on call", "carol"),
    ("Alice Ng and Bob Okafor", None),  # two people: ambiguous, nobody
    ("On Call - Zed Unknown - Primary", None),
])
def test_person_in_text(text: str, expected: str | None) -> None:
    person = person_in_text(PEOPLE, text)
    assert (person.id if person else None) == expected


def test_ics_feed_levels_map_to_roles() -> None:
    feed = IcsFeed("primary", file="/x/oncall.ics", levels={"L2": "secondary"})
    assert feed.name == "oncall.ics"
    assert (feed.role_for(None), feed.role_for(1), feed.role_for(2), feed.role_for(3)) == (
        "primary", "primary", "secondary", "primary-L3")
    assert IcsFeed("db", url="https://oncall.example/feed?token=s3cret").name == "oncall.example"

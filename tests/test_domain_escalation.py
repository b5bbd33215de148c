"""domain.escalation: ladders resolved to the people on call when each step applies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.escalation import EscalationPolicy, Step, countdown_text, crossed, escalate
from shiftdeck.domain.roster import Person, Roster, Rotation
from shiftdeck.domain.severity import DEFAULT_POLICY

from .support.factories import make_alert

BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = {pid: Person(pid, pid.title()) for pid in ("alice", "bob", "carol", "dave", "erin",
                                                    "frank")}
MONDAY = datetime(2026, 1, 5, 9, 0)  # handoffs Monday 09:00 Berlin = 08:00 UTC in winter
ROSTER = Roster(PEOPLE, (
    Rotation("primary", ("alice", "bob"), MONDAY, timedelta(weeks=1), BERLIN),
    Rotation("secondary", ("carol", "dave"), MONDAY, timedelta(weeks=1), BERLIN),
    Rotation("manager", ("erin",), MONDAY, timedelta(weeks=1), BERLIN),
), timezone=BERLIN)
P1_LADDER = (Step(timedelta(0), "primary"), Step(timedelta(minutes=15), "secondary"),
             Step(timedelta(minutes=30), "manager"), Step(timedelta(minutes=60), "frank"))
POLICY = EscalationPolicy({"P1": P1_LADDER, "default": (Step(timedelta(0), "primary"),)})
P1, P2, P4 = DEFAULT_POLICY.levels[0], DEFAULT_POLICY.levels[1], DEFAULT_POLICY.levels[3]
NOW = datetime(2026, 1, 7, 14, 0, tzinfo=UTC)  # a Wednesday: alice primary, carol secondary


def alert(age: timedelta = timedelta(minutes=20), state: AlertState = AlertState.FIRING, **kw):
    return replace(make_alert(age=age, now=NOW, state=state), **kw)


def names(escalation) -> tuple:
    def who(rung):
        return (rung.index, rung.person.id if rung.person else None) if rung else None
    return who(escalation.current), who(escalation.next)


def test_firing_alert_has_reached_a_step_and_counts_down_to_the_next() -> None:
    esc = escalate(alert(), P1, POLICY, ROSTER, NOW)
    assert names(esc) == ((1, "carol"), (2, "erin"))
    assert esc.next.at == NOW - timedelta(minutes=20) + timedelta(minutes=30)
    assert [r.person.id for r in esc.rungs] == ["alice", "carol", "erin", "frank"]
    assert not esc.stopped and esc.stop_reason == ""


def test_next_person_is_whoever_is_on_call_at_the_deadline_not_now() -> None:
    # Fired Monday 07:50 UTC; the primary/secondary handoff is 08:00 UTC, inside the ladder.
    now = datetime(2026, 1, 12, 7, 55, tzinfo=UTC)
    fired = make_alert(age=timedelta(minutes=5), now=now)
    esc = escalate(fired, P1, POLICY, ROSTER, now)
    # L1 went to alice (primary at 07:50); L2 at 08:05 goes to dave, secondary from 08:00.
    assert names(esc) == ((0, "alice"), (1, "dave"))
    assert ROSTER.holder("secondary", now).id == "carol"


def test_acknowledged_alert_stops_escalating_and_shows_who_acked() -> None:
    acked = alert(age=timedelta(minutes=40), state=AlertState.ACKED, acked_by="alice",
                  acked_at=NOW - timedelta(minutes=22))
    esc = escalate(acked, P1, POLICY, ROSTER, NOW)
    assert esc.stopped and esc.acked_by == "alice" and esc.next is None
    assert esc.stop_reason == "acknowledged by alice"
    assert names(esc)[0] == (1, "carol")  # the step reached when the ack came (18 min in)
    assert not esc.ack_breach


def test_ack_breach_while_unacknowledged_past_ack_within() -> None:
    assert not escalate(alert(age=timedelta(minutes=14)), P1, POLICY, ROSTER, NOW).ack_breach
    late = escalate(alert(age=timedelta(minutes=15)), P1, POLICY, ROSTER, NOW)
    assert late.ack_breach and late.ack_deadline == NOW


def test_resolve_breach_while_open_past_resolve_within_even_when_acked() -> None:
    old = timedelta(hours=2)
    assert escalate(alert(age=old), P1, POLICY, ROSTER, NOW).resolve_breach
    acked = alert(age=old, state=AlertState.ACKED, acked_by="bob", acked_at=NOW)
    esc = escalate(acked, P1, POLICY, ROSTER, NOW)
    assert esc.resolve_breach and not esc.ack_breach
    assert not escalate(alert(age=timedelta(minutes=59)), P1, POLICY, ROSTER, NOW).resolve_breach


def test_top_of_the_ladder_has_no_next_step() -> None:
    esc = escalate(alert(age=timedelta(hours=3)), P1, POLICY, ROSTER, NOW)
    assert names(esc) == ((3, "frank"), None)


def test_pending_alert_has_not_started_escalating() -> None:
    esc = escalate(alert(state=AlertState.PENDING), P1, POLICY, ROSTER, NOW)
    assert (esc.current, esc.next, esc.stopped, esc.ack_breach) == (None, None, False, False)
    assert len(esc.rungs) == 4


def test_silenced_and_inhibited_alerts_are_muted_and_stopped() -> None:
    for state in (AlertState.SILENCED, AlertState.INHIBITED):
        esc = escalate(alert(age=timedelta(hours=2), state=state), P1, POLICY, ROSTER, NOW)
        assert esc.muted and esc.stopped and esc.stop_reason == state.value
        assert (esc.current, esc.next, esc.acked_by) == (None, None, "")
        assert not esc.ack_breach and not esc.resolve_breach


def test_resolved_alert_stops_at_the_step_reached_when_it_resolved() -> None:
    gone = alert(age=timedelta(hours=2), state=AlertState.RESOLVED,
                 resolved_at=NOW - timedelta(minutes=100))
    esc = escalate(gone, P1, POLICY, ROSTER, NOW)
    assert esc.stop_reason == "resolved" and names(esc) == ((1, "carol"), None)
    assert not esc.resolve_breach


def test_levels_without_a_ladder_use_default_and_an_empty_ladder_does_not_escalate() -> None:
    assert [r.step.notify for r in escalate(alert(), P2, POLICY, ROSTER, NOW).rungs] == [
        "primary"]
    quiet = EscalationPolicy({"P4": (), "default": (Step(timedelta(0), "primary"),)})
    esc = escalate(alert(), P4, quiet, ROSTER, NOW)
    assert (esc.rungs, esc.current, esc.next) == ((), None, None)


def test_a_person_id_target_needs_no_roster_role() -> None:
    esc = escalate(alert(age=timedelta(hours=1)), P1, POLICY, ROSTER, NOW)
    assert esc.current.step.notify == "frank" and esc.current.person.id == "frank"


def test_crossed_once_per_step() -> None:
    fired = alert(age=timedelta(minutes=14, seconds=59))
    before = escalate(fired, P1, POLICY, ROSTER, NOW)
    after = escalate(fired, P1, POLICY, ROSTER, NOW + timedelta(seconds=1))
    assert crossed(before, after)
    assert not crossed(after, escalate(fired, P1, POLICY, ROSTER, NOW + timedelta(seconds=2)))
    pending = escalate(alert(state=AlertState.PENDING), P1, POLICY, ROSTER, NOW)
    assert crossed(pending, before)  # starting to fire reaches L1
    acked = escalate(replace(fired, state=AlertState.ACKED, acked_by="a", acked_at=NOW), P1,
                     POLICY, ROSTER, NOW + timedelta(minutes=5))
    assert not crossed(before, acked)


def test_a_countdown_reads_as_a_duration_never_as_a_clock_time() -> None:
    """`09:51` reads like a time of day: the countdown names its units, in 5 cells at most."""
    shown = {seconds: countdown_text(timedelta(seconds=seconds))
             for seconds in (0, 42, 591, 600, 3599, 3720, 43200, 3 * 86400, -42, -300, -900)}
    assert shown == {0: "0s", 42: "42s", 591: "9m51s", 600: "10m", 3599: "59m", 3720: "1h02m",
                     43200: "12h", 3 * 86400: "3d", -42: "-42s", -300: "-5m", -900: "late!"}
    assert all(len(text) <= 5 and ":" not in text for text in shown.values())

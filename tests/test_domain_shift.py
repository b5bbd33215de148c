"""domain.shift: a poll or a second in, a new Shift and typed events out (pure, no textual)."""

from datetime import timedelta

from shiftdeck.domain.board import SourceReport
from shiftdeck.domain.journal import NoteAdded, AlertRef
from shiftdeck.domain.shift import (AlertFired, AlertResolved, Escalated, Shift, ShiftPolicy,
                                    journal_records)

from .support.app_factory import SEED_ALERTS
from .support.factories import NOW
from .support.helpers import ROSTER_YAML, config_for

BACKEND_DOWN = SEED_ALERTS[0]  # P1, fired 12 minutes before NOW: L2 (bob) in 3 minutes


def _shift() -> Shift:
    config = config_for(["http://127.0.0.1:9"], extra=ROSTER_YAML)
    return Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                 config.roster)


def _reports(alerts=SEED_ALERTS, at=NOW):
    return {"alertmanager/am0": SourceReport("am0", "alertmanager", tuple(alerts), at)}


def test_first_board_is_recorded_once_the_journal_is_read_and_never_paged():
    step = _shift().apply(_reports(), (), NOW)
    # The journal may already hold them: wait for it.
    assert not any(isinstance(e, AlertFired) for e in step.events)
    read = step.shift.journal_read((), NOW)
    fired = [e for e in read.events if isinstance(e, AlertFired)]
    assert BACKEND_DOWN.fingerprint in {e.alert.fingerprint for e in fired}
    assert not any(e.news for e in fired)
    assert all(r.seen_at_start for r in journal_records(fired, "alice", NOW))


def test_firings_the_journal_holds_open_are_not_recorded_again():
    first = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW)
    records = journal_records(first.events, "alice", NOW)
    again = _shift().journal_read(records, NOW).shift.apply(_reports(), (), NOW)
    assert [e for e in again.events if isinstance(e, AlertFired)] == []


def test_a_crossed_step_is_one_escalated_event_naming_the_level_reached():
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift
    assert shift.tick(NOW + timedelta(minutes=2)).shift is shift  # nothing due: no work
    step = shift.tick(NOW + timedelta(minutes=3, seconds=1))
    (event,) = [e for e in step.events if isinstance(e, Escalated)]
    assert (event.alert.fingerprint, event.level, event.person) == (
        BACKEND_DOWN.fingerprint, "L2", "bob")
    (record,) = journal_records([event], "alice", NOW)
    assert record.to_level == "L2"
    assert step.shift.tick(NOW + timedelta(minutes=3, seconds=2)).events == ()


def test_a_vanished_alert_resolves_once():
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift
    later = NOW + timedelta(seconds=30)
    step = shift.apply(_reports(SEED_ALERTS[1:], later), (), later)
    assert [e.alert.fingerprint for e in step.events if isinstance(e, AlertResolved)] == [
        BACKEND_DOWN.fingerprint]
    assert not any(isinstance(e, AlertResolved)
                   for e in step.shift.apply(_reports(SEED_ALERTS[1:], later), (), later).events)


def test_notes_are_found_by_fingerprint():
    shift = _shift().journal_read((), NOW).shift
    note = NoteAdded(NOW, "alice", AlertRef.of(BACKEND_DOWN), "restarted the pod")
    shift = shift.journaled([note], NOW)
    assert shift.journal.notes_for(BACKEND_DOWN.fingerprint) == (note,)
    assert shift.journal.notes_for("other") == ()

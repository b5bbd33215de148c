"""domain.shift: a poll or a second in, a new Shift and typed events out (pure, no textual)."""

from datetime import timedelta

from shiftdeck.domain.board import SourceReport
from shiftdeck.domain.journal import NoteAdded, AlertRef, describe
from shiftdeck.domain.packed_records import pack
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
    assert not step.shift.seen_at_start_due
    read = step.shift.journal_read((), NOW)
    assert read.events == () and read.shift.seen_at_start_due  # left to the next second
    seen = read.shift.seen_at_start()
    fired = [e for e in seen.events if isinstance(e, AlertFired)]
    assert BACKEND_DOWN.fingerprint in {e.alert.fingerprint for e in fired}
    assert not any(e.news for e in fired)
    assert all(r.seen_at_start for r in journal_records(fired, "alice", NOW))
    assert not seen.shift.seen_at_start_due and seen.shift.seen_at_start().events == ()


def test_alerts_firing_at_start_are_recorded_after_the_first_board_in_either_order():
    board_first = _shift().apply(_reports(), (), NOW).shift.journal_read((), NOW).shift
    journal_first = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW)
    # the first board's step: only the table waits on it
    assert not any(isinstance(e, AlertFired) for e in journal_first.events)
    fired = [e.alert.fingerprint for e in journal_first.shift.seen_at_start().events]
    assert fired == [e.alert.fingerprint for e in board_first.seen_at_start().events]
    assert BACKEND_DOWN.fingerprint in fired


def test_firings_the_journal_holds_open_are_not_recorded_again():
    first = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift.seen_at_start()
    records = journal_records(first.events, "alice", NOW)
    assert records
    again = _shift().journal_read(map(pack, records), NOW).shift.apply(_reports(), (), NOW).shift
    assert again.seen_at_start().events == ()


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


def test_a_poll_that_changed_nothing_keeps_the_very_same_alerts_for_the_ui_to_skip():
    shift = _shift().apply(_reports(), (), NOW).shift
    later = NOW + timedelta(seconds=2)
    again = shift.apply(_reports(at=later), (), later)
    assert again.events == () and again.shift.board.alerts is shift.board.alerts
    assert again.shift.board.built_at == later  # the board itself is the new poll's


# -- PagerDuty incidents (issue 15) ---------------------------------------------------------

def _paging(alert, status="triggered", escalate_in=timedelta(minutes=4, seconds=10)):
    from shiftdeck.domain.pager import Incident, PagerUser, labels_key
    return Incident("PINC1", 7, f"[FIRING:1] {alert.name}", status, "high", "backend",
                    "Backend", "PEP1", (PagerUser("PUBOB", "Bob Okafor"),), (),
                    NOW + escalate_in if status == "triggered" else None, "key",
                    "https://x/incidents/PINC1", NOW - timedelta(minutes=5), source="pd",
                    alert_labels=(labels_key(alert.labels),))


def test_an_incident_paging_for_an_alert_replaces_its_modelled_ladder():
    shift = _shift().journal_read((), NOW).shift
    page = _paging(BACKEND_DOWN)
    step = shift.apply(_reports(), (), NOW, (page,))
    assert step.shift.pages.incident_for(BACKEND_DOWN) is page
    assert BACKEND_DOWN.fingerprint not in step.shift.escalations
    other = SEED_ALERTS[1]  # PostgreSQLDown: no incident, its ladder as before
    assert other.fingerprint in step.shift.escalations
    # BackendDown's L2 was due at NOW+3m: PagerDuty escalates it, shiftdeck pages nobody
    later = step.shift.tick(NOW + timedelta(minutes=3, seconds=1))
    assert not any(isinstance(e, Escalated) and e.alert.fingerprint == BACKEND_DOWN.fingerprint
                   for e in later.events)


def test_an_incident_alone_is_unmatched_and_the_same_answer_changes_nothing():
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift
    from shiftdeck.domain.alerts import Alert, AlertState
    stranger = Alert("f" * 16, {"alertname": "NotHere"}, {}, AlertState.FIRING, NOW)
    page = _paging(stranger)
    step = shift.apply(_reports(), (), NOW, (page,))
    assert step.shift.pages.unmatched == (page,)
    again = step.shift.apply(_reports(), (), NOW, (page,))
    assert again.shift.pages is step.shift.pages


def test_when_the_incident_goes_the_modelled_ladder_comes_back():
    shift = _shift().journal_read((), NOW).shift
    paged = shift.apply(_reports(), (), NOW, (_paging(BACKEND_DOWN),)).shift
    assert BACKEND_DOWN.fingerprint not in paged.escalations
    gone = paged.apply(_reports(), (), NOW, ()).shift
    assert gone.pages.by_fingerprint == {}
    assert gone.escalations[BACKEND_DOWN.fingerprint].current is not None


# -- the runner: heavy steps off the event loop ------------------------------------------------

async def test_reading_the_journal_and_recording_a_large_board_happen_off_the_event_loop():
    import threading
    from shiftdeck.clock import FrozenClock
    from shiftdeck.domain.alerts import Alert, AlertState
    from shiftdeck.services.shift_runner import THREADED_FROM, ShiftRunner

    alerts = [Alert(f"{n:016x}", {"alertname": f"A{n}", "severity": "warning"}, {},
                    AlertState.FIRING, NOW - timedelta(minutes=1)) for n in range(THREADED_FROM)]
    big = _shift().apply(_reports(alerts), (), NOW).shift
    shown = []
    runner = ShiftRunner(big, "alice", FrozenClock(NOW),
                         lambda shift, events, records: shown.append((shift, records)))
    threads = []

    def read(shift):
        threads.append(threading.current_thread())
        return shift.journal_read((), NOW)

    assert runner.change(read) is True  # the caller starts the thread worker
    assert threads == [] and shown == []
    await runner.apply_in_thread(lambda: ({}, (), NOW, ()))
    assert threads and threads[0] is not threading.main_thread()
    (shift, records), = shown
    assert shift.journal_loaded and records == []  # the first table is not kept waiting
    assert runner.tick(NOW) is True  # the next second: the caller starts the thread worker
    await runner.apply_in_thread(lambda: ({}, (), NOW, ()))
    (_, (shift, records)) = shown
    assert len(records) == THREADED_FROM and all(r.seen_at_start for r in records)
    assert runner.tick(NOW) is False and len(shown) == 2  # once


# -- PagerDuty escalating an incident: a journal record (issue 15) ------------------------------

def _escalated(page, who, level, escalate_in=timedelta(minutes=34, seconds=10)):
    from dataclasses import replace as changed
    from shiftdeck.domain.pager import PagerUser
    return changed(page, assignees=(PagerUser(f"PU{who.upper()}", who),), level=level,
                   next_escalation_at=NOW + escalate_in)


def test_pagerduty_escalating_an_incident_is_one_event_and_a_record_at_its_escalate_time():
    from shiftdeck.domain.journal import PagerEscalated as EscalatedByPager
    from shiftdeck.domain.shift import PagerEscalated
    page = _paging(BACKEND_DOWN)  # assigned Bob, escalates at NOW+4m10s
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW, (page,)).shift
    later = NOW + timedelta(minutes=5)
    moved = _escalated(page, "Erin Walsh", 2)
    step = shift.apply(_reports(at=later), (), later, (moved,))
    (event,) = [e for e in step.events if isinstance(e, PagerEscalated)]
    assert (event.incident, event.alert.fingerprint, event.at) == (
        moved, BACKEND_DOWN.fingerprint, NOW + timedelta(minutes=4, seconds=10))
    (record,) = journal_records(step.events, "alice", later)
    assert isinstance(record, EscalatedByPager)
    assert (record.at, record.fingerprint, record.incident, record.number, record.to_level,
            record.person, record.pager) == (NOW + timedelta(minutes=4, seconds=10),
                                             BACKEND_DOWN.fingerprint, "PINC1", 7, "L2",
                                             "Erin Walsh", "pd")
    assert type(record).from_json(record.to_json()) == record
    assert describe(record, with_alert=False) == ("PagerDuty escalated incident #7 (pd) to L2: "
                                                  "Erin Walsh")
    # the same answer again, or a new assignee before the escalate time: no escalation
    assert step.shift.apply(_reports(at=later), (), later, (moved,)).events == ()
    handed = _escalated(moved, "Carol Diaz", 2)
    assert not any(isinstance(e, PagerEscalated)
                   for e in step.shift.apply(_reports(at=later), (), later, (handed,)).events)


def test_an_escalation_of_an_incident_no_alert_matches_is_recorded_without_an_alert():
    from shiftdeck.domain.alerts import Alert, AlertState
    from shiftdeck.domain.shift import PagerEscalated
    stranger = Alert("f" * 16, {"alertname": "NotHere"}, {}, AlertState.FIRING, NOW)
    page = _paging(stranger)
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW, (page,)).shift
    later = NOW + timedelta(minutes=5)
    step = shift.apply(_reports(at=later), (), later, (_escalated(page, "Erin Walsh", 0),))
    (event,) = [e for e in step.events if isinstance(e, PagerEscalated)]
    assert event.alert is None
    (record,) = journal_records(step.events, "alice", later)
    assert (record.alert, record.to_level, record.person) == (None, "", "Erin Walsh")

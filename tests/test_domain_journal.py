"""Journal records, alert lifecycle, status updates and OSC 52: pure, at frozen times."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import EMPTY_BOARD, Board
from shiftdeck.domain.clipboard import osc52_copy
from shiftdeck.domain.journal import (Acked, AlertFired, AlertRef, CommandRun, Kind, Record,
                                      SilenceCreated, SilenceExtended, Unacked, alert_record,
                                      command_record, concerns, describe, escalated_record,
                                      group_actions, last_status_update, legacy_record,
                                      lifecycle_records, next_update_due, note_record, notes_for,
                                      open_firings, status_record)
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.status import STATUSES, compose_update

from .support.factories import NOW, make_alert, sample_record

P1, P2, P3 = DEFAULT_POLICY.levels[:3]
BERLIN = ZoneInfo("Europe/Berlin")
BACKEND = replace(make_alert("QAWaveBackendDown", "critical", namespace="qawave",
                             service="backend", age=timedelta(minutes=20)), level="P1")


def board(*alerts, at=NOW) -> Board:
    return Board({a.fingerprint: a for a in alerts}, (), at)


# --------------------------------------------------------------------------- #
# Records
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_round_trips_through_a_json_line(kind: Kind) -> None:
    record = sample_record(kind)
    line = orjson.dumps(record.to_json())
    assert line.startswith(b'{"at":"2026-11-22T14:00:00.000000Z","kind":"' + kind.value.encode())
    assert Record.from_json(orjson.loads(line)) == record


def test_empty_fields_are_left_out_of_the_json() -> None:
    record = CommandRun(NOW, "alice")
    assert record.to_json() == {"at": "2026-11-22T14:00:00.000000Z", "kind": "command",
                                "user": "alice"}


@pytest.mark.parametrize("obj, reason", [
    ([], "not a JSON object"),
    ({"kind": "ack", "user": "a"}, "missing 'at'"),
    ({"at": "2026-11-22T14:00:00Z", "kind": "party", "user": "a"}, "unknown kind 'party'"),
    ({"at": "2026-11-22T14:00:00", "kind": "ack", "user": "a"}, "time without an offset"),
    ({"at": "yesterday", "kind": "ack", "user": "a"}, "not a time"),
    ({"at": "2026-11-22T14:00:00Z", "kind": "ack", "user": 7}, "'user' must be text"),
    ({"at": "2026-11-22T14:00:00Z", "kind": "ack", "user": "a", "data": [1]},
     "'data' must be an object"),
])
def test_from_json_rejects_bad_shapes_with_a_reason(obj, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Record.from_json(obj)


def test_unknown_keys_from_a_newer_shiftdeck_are_ignored() -> None:
    obj = {**sample_record(Kind.NOTE).to_json(), "mood": "tired"}
    assert Record.from_json(obj) == sample_record(Kind.NOTE)


def test_hostile_text_in_a_note_survives_as_plain_text() -> None:
    hostile = ("\x1b]0;pwned\x07\x1b[2J\x9b31m[bold red]boom[/] \u202egnp.exe\r"
               "line two <script>alert(1)</script> `rm -rf /`")
    obj = {"at": "2026-11-22T14:00:00Z", "kind": "note", "user": "mallory\x1b[5m",
           "text": hostile, "data": {"x\x07": ["\x1b[31mred"]}}
    record = Record.from_json(obj)
    assert record.user == "mallory[5m"
    assert record.text == ("]0;pwned[2J31m[bold red]boom[/] gnp.exe"
                           "line two <script>alert(1)</script> `rm -rf /`")
    assert dict(record.data) == {}  # a note has no data; unknown keys are not kept
    # ... and stays so when written back: nothing to re-interpret.
    assert Record.from_json(orjson.loads(orjson.dumps(record.to_json()))) == record


def test_records_made_in_process_are_cleaned_and_their_data_made_json() -> None:
    record = SilenceExtended(NOW.astimezone(BERLIN), "alice\n", text="ok\x1b[0m",
                             silence="ab\x1bc", ends_at=(NOW + timedelta(hours=1)).astimezone(BERLIN))
    assert record.at == NOW and record.at.tzinfo is UTC
    assert record.ends_at is not None and record.ends_at.tzinfo is UTC
    assert (record.user, record.text, record.silence) == ("alice ", "ok[0m", "abc")
    assert dict(record.data) == {"ends_at": "2026-11-22T15:00:00.000000Z", "silence": "abc"}
    with pytest.raises(TypeError):
        record.data["x"] = 1  # type: ignore[index]
    with pytest.raises(ValueError, match="timezone-aware"):
        Unacked(datetime(2026, 11, 22, 14), "alice")
    with pytest.raises(ValueError, match="timezone-aware"):
        SilenceExtended(NOW, "alice", ends_at=datetime(2026, 11, 22, 14))
    with pytest.raises(TypeError, match="one of its kinds"):
        Record(NOW, "alice")


def test_helpers_fill_in_the_alert_and_its_firing() -> None:
    note = note_record(BACKEND, "alice", NOW, "  rollback started  ")
    assert (note.fingerprint, note.alertname, note.level, note.text) == (
        BACKEND.fingerprint, "QAWaveBackendDown", "P1", "rollback started")
    assert note.data["starts_at"] == "2026-11-22T13:40:00.000000Z"
    ran = command_record(BACKEND, "alice", NOW, ["kubectl", "get", "pods", "-l", "app=a b"], 1,
                         timedelta(seconds=2.5))
    assert ran.text == "kubectl get pods -l 'app=a b'"
    assert (ran.data["argv"][-1], ran.data["exit_code"], ran.data["duration"]) == (
        "app=a b", 1, 2.5)


# --------------------------------------------------------------------------- #
# Lifecycle
# --------------------------------------------------------------------------- #


def test_alerts_firing_at_start_are_recorded_as_seen_unless_the_journal_has_them() -> None:
    pending = make_alert("Slow", "warning", state=AlertState.PENDING)
    assert lifecycle_records(EMPTY_BOARD, board(BACKEND), "alice", NOW) == []  # journal unread
    (record,) = lifecycle_records(EMPTY_BOARD, board(BACKEND, pending), "alice", NOW,
                                  open_firings([]))
    assert isinstance(record, AlertFired) and record.seen_at_start
    assert (record.fingerprint, record.starts_at, record.at) == (
        BACKEND.fingerprint, BACKEND.starts_at, NOW)
    # A restart: the journal has this firing open, so it is not recorded again...
    journal = [record]
    assert lifecycle_records(EMPTY_BOARD, board(BACKEND), "alice", NOW,
                             open_firings(journal)) == []
    # ... but it is when the journal saw it resolve, or saw an earlier firing only.
    ended = alert_record(Kind.RESOLVED, BACKEND, "alice", NOW + timedelta(minutes=1))
    again = lifecycle_records(EMPTY_BOARD, board(BACKEND), "alice", NOW,
                              open_firings([record, ended]))
    assert [r.fingerprint for r in again] == [BACKEND.fingerprint]
    later = replace(BACKEND, starts_at=NOW)
    assert len(lifecycle_records(EMPTY_BOARD, board(later), "alice", NOW,
                                 open_firings(journal))) == 1


def test_open_firings_end_with_a_resolution_or_a_later_firing() -> None:
    other = make_alert("Other")
    first = alert_record(Kind.FIRING, BACKEND, "a", NOW)
    later = alert_record(Kind.FIRING, replace(BACKEND, starts_at=NOW), "a", NOW)
    gone = alert_record(Kind.RESOLVED, other, "a", NOW + timedelta(seconds=1))
    records = [gone, later, first, alert_record(Kind.FIRING, other, "a", NOW)]
    assert open_firings(records) == {(BACKEND.fingerprint, NOW)}


def test_an_alert_first_seen_firing_is_recorded_even_after_an_empty_board() -> None:
    quiet = board(at=NOW - timedelta(minutes=1))
    (record,) = lifecycle_records(quiet, board(BACKEND), "alice", NOW)
    assert (record.kind, record.fingerprint, record.user, record.at) == (
        Kind.FIRING, BACKEND.fingerprint, "alice", NOW)
    assert dict(record.data) == {"starts_at": "2026-11-22T13:40:00.000000Z", "state": "firing"}
    assert record.text == "QAWaveBackendDown summary"


def test_pending_to_firing_and_firing_to_resolved_are_recorded_nothing_else() -> None:
    pending = replace(BACKEND, state=AlertState.PENDING)
    disk = make_alert("DiskSpaceLow", "info")
    silenced = make_alert("Noisy", "info", state=AlertState.SILENCED)
    before = board(pending, disk, at=NOW - timedelta(minutes=1))
    gone = replace(disk, state=AlertState.RESOLVED, resolved_at=NOW - timedelta(seconds=5))
    after = board(BACKEND, gone, silenced)
    records = lifecycle_records(before, after, "alice", NOW)
    assert [(r.kind, r.alertname) for r in records] == [
        (Kind.FIRING, "Noisy"), (Kind.FIRING, "QAWaveBackendDown"), (Kind.RESOLVED, "DiskSpaceLow")]
    assert records[0].data["state"] == "silenced"
    assert records[2].at == NOW - timedelta(seconds=5)
    # The same alerts again: nothing new. A pending alert that vanishes never fired.
    assert lifecycle_records(after, board(BACKEND, gone, silenced), "alice", NOW) == []
    vanished = board(replace(pending, state=AlertState.RESOLVED, resolved_at=NOW))
    assert lifecycle_records(before, vanished, "alice", NOW) == []


# --------------------------------------------------------------------------- #
# Notes, status updates, what concerns an alert
# --------------------------------------------------------------------------- #


def test_notes_and_last_status_update_of_an_alert() -> None:
    other = make_alert("Other")
    first = note_record(BACKEND, "alice", NOW - timedelta(minutes=5), "first")
    second = note_record(BACKEND, "bob", NOW - timedelta(minutes=1), "second")
    records = [second, note_record(other, "alice", NOW, "elsewhere"), first,
               status_record(BACKEND, "alice", NOW - timedelta(minutes=9), "Investigating", "",
                             "body 1", None),
               status_record(BACKEND, "alice", NOW - timedelta(minutes=2), "Identified", "",
                             "body 2", None)]
    assert [n.text for n in notes_for(records, BACKEND.fingerprint)] == ["first", "second"]
    assert last_status_update(records, BACKEND.fingerprint).text == "body 2"
    assert last_status_update(records, other.fingerprint) is None


def test_next_update_due_from_startsat_then_from_the_last_update() -> None:
    start = BACKEND.starts_at  # 13:40
    assert next_update_due([], BACKEND, P1, NOW) == start + timedelta(minutes=15)
    update = status_record(BACKEND, "alice", start + timedelta(minutes=12), "Investigating",
                           "", "...", None)
    assert next_update_due([update], BACKEND, P1, NOW) == start + timedelta(minutes=27)
    acked = replace(BACKEND, state=AlertState.ACKED)
    assert next_update_due([update], acked, P2, NOW) == start + timedelta(minutes=42)


def test_no_update_is_due_without_a_cadence_or_an_open_incident() -> None:
    done = status_record(BACKEND, "alice", NOW - timedelta(minutes=1), "Resolved", "", "...",
                         None)
    earlier_firing = status_record(BACKEND, "alice", BACKEND.starts_at - timedelta(hours=2),
                                   "Identified", "", "...", None)
    assert next_update_due([], BACKEND, P3, NOW) is None  # P3: no update_every
    assert next_update_due([], BACKEND, None, NOW) is None
    assert next_update_due([], replace(BACKEND, state=AlertState.SILENCED), P1, NOW) is None
    assert next_update_due([done], BACKEND, P1, NOW) is None
    assert next_update_due([earlier_firing], BACKEND, P1, NOW) == (
        BACKEND.starts_at + timedelta(minutes=15))


def test_a_silence_of_several_alerts_concerns_those_its_matchers_select() -> None:
    group = SilenceCreated(NOW, "alice", text="maintenance",
                           matchers=('namespace="qawave"', 'service=~"back.*"'))
    assert concerns(group, BACKEND)
    assert not concerns(group, make_alert("X", namespace="shop"))
    assert not concerns(replace(group, matchers=('x=~"("',)), BACKEND)


def test_one_gesture_is_one_action() -> None:
    alerts = [make_alert("Crash", pod=f"api-{i}") for i in range(3)]
    acks = [Acked(NOW + timedelta(seconds=i), "alice", AlertRef(a.fingerprint, a.name),
                  "group ack") for i, a in enumerate(alerts)]
    later = replace(acks[0], at=NOW + timedelta(minutes=5))
    note = note_record(BACKEND, "alice", NOW, "not an action")
    groups = group_actions([later, note, *acks])
    assert [len(g) for g in groups] == [3, 1]


@pytest.mark.parametrize("record, text", [
    (Acked(NOW, "a", AlertRef("", "X"), "on it"), "acknowledged X (on it)"),
    (Unacked(NOW, "a", silence="0123456789ab"), "un-acknowledged silence 01234567"),
    (SilenceCreated(NOW, "a", text="deploy", matchers=('job="x"',),
                    duration=timedelta(minutes=90)),
     'silenced {job="x"} for 1h30m: deploy'),
    (legacy_record(NOW, Kind.SILENCE_EXTENDED, "a", data={"silence": "abcdef123456",
                                                          "ends_at": "2026-11-22T16:00:00Z"}),
     "extended silence abcdef12 to Sun 17:00"),
    (escalated_record(BACKEND, "a", NOW, 2, "manager", "Erin Walsh"),  # rung index 2
     "escalated QAWaveBackendDown to L3: Erin Walsh (manager)"),
    (command_record(None, "a", NOW, ["true"], None, timedelta(0)), "ran true (not completed, <1s)"),
])
def test_records_in_words(record: Record, text: str) -> None:
    assert describe(record, BERLIN) == text


# --------------------------------------------------------------------------- #
# The status update composer
# --------------------------------------------------------------------------- #


def test_status_update_for_a_p1_lists_what_the_journal_knows() -> None:
    at = BACKEND.starts_at
    records = [
        note_record(BACKEND, "bob", at - timedelta(hours=3), "an earlier firing: left out"),
        Acked(at + timedelta(minutes=3), "alice", AlertRef.of(BACKEND), silences=("s1",)),
        # As the dashboard notes an escalation: the rung's 1-based number as ``step``.
        alert_record(Kind.ESCALATED, BACKEND, "alice", at + timedelta(minutes=4), step=2,
                     notify="secondary", person="Bob Okafor"),
        command_record(BACKEND, "alice", at + timedelta(minutes=6),
                       ["kubectl", "rollout", "undo", "deployment/backend", "-n", "qawave"], 0,
                       timedelta(seconds=3)),
        note_record(BACKEND, "alice", at + timedelta(minutes=9),
                    "rollback done,\nerror rate falling"),
        SilenceCreated(at + timedelta(minutes=10), "bob", text="flapping probes",
                       matchers=('namespace="qawave"',), duration=timedelta(minutes=30)),
        note_record(make_alert("Other"), "alice", at + timedelta(minutes=11), "not this one"),
        status_record(BACKEND, "alice", at + timedelta(minutes=12), "Investigating", "", "...",
                      None),
    ]
    text = compose_update(BACKEND, P1, records, "Identified",
                          "Checkout returns 502 for every user", NOW, BERLIN)
    assert text == (
        "[2026-11-22 15:00 CET] QAWaveBackendDown Incident Update\n"
        "\n"
        "Status: Identified\n"
        "Severity: P1, started 14:40 CET (20m ago)\n"
        "Impact: Checkout returns 502 for every user\n"
        "Actions taken:\n"
        "- 14:43 alice: acknowledged\n"
        "- 14:44 escalated to L2: Bob Okafor (secondary)\n"
        "- 14:46 alice: ran kubectl rollout undo deployment/backend -n qawave (exit 0, 3s)\n"
        "- 14:49 alice noted: rollback done, error rate falling\n"
        '- 14:50 bob: silenced {namespace="qawave"} for 30m: flapping probes\n'
        "Next update: 15:15 CET\n"
    )


def test_status_update_defaults_and_the_last_word() -> None:
    text = compose_update(BACKEND, P3, [], "Resolved", "", NOW, UTC)
    assert "Impact: QAWaveBackendDown summary\n" in text
    assert "- none recorded yet\n" in text and text.endswith("Next update: none, resolved\n")
    monitoring = compose_update(BACKEND, P3, [], "Monitoring", "", NOW, UTC)
    assert monitoring.endswith("Next update: as needed (P3 has no update cadence)\n")
    assert STATUSES == ("Investigating", "Identified", "Monitoring", "Resolved")
    with pytest.raises(ValueError, match="status must be one of"):
        compose_update(BACKEND, P1, [], "Panicking", "", NOW, UTC)


# --------------------------------------------------------------------------- #
# OSC 52
# --------------------------------------------------------------------------- #


def test_osc52_bytes_plain_and_through_tmux() -> None:
    text = "Status: Identified — ü €\n"
    payload = base64.b64encode(text.encode("utf-8")).decode()
    assert payload == "U3RhdHVzOiBJZGVudGlmaWVkIOKAlCDDvCDigqwK"
    assert osc52_copy(text, in_tmux=False) == f"\x1b]52;c;{payload}\x07"
    assert osc52_copy(text, in_tmux=True) == f"\x1bPtmux;\x1b\x1b]52;c;{payload}\x07\x1b\\"
    assert osc52_copy("", in_tmux=False) == "\x1b]52;c;\x07"

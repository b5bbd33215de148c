"""The typed journal: old lines load, a live escalation is told at its true level, the index
by fingerprint, and what the CLI writes shows in the handoff. Real files, real processes, a
real Alertmanager."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shiftdeck.domain.alerts import Alert, AlertState, fingerprint
from shiftdeck.domain.board import EMPTY_BOARD, Board
from shiftdeck.domain.escalation import escalate
from shiftdeck.domain.handoff import handoff_report
from shiftdeck.domain.journal import (Acked, AlertFired, AlertRef, AlertResolved, CommandRun,
                                      Escalated, Kind, NoteAdded, Record, RecordIndex,
                                      SilenceCreated, SilenceExpired, StatusUpdate, Unacked,
                                      alert_record, describe, lifecycle_records, open_firings)
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.sources.journal import Journal, encode

from .support.helpers import ROSTER_YAML, config_for

pytestmark = pytest.mark.timeout(120)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
LABELS = {"alertname": "QAWaveBackendDown", "severity": "critical", "namespace": "qawave"}
BACKEND = Alert(fingerprint(LABELS), LABELS, {"summary": "Backend has no ready pods"},
                AlertState.FIRING, NOW - timedelta(minutes=20), ("am",), level="P1")

# Lines exactly as the untyped journal wrote them (the kinds, envelope and data of issue 11's
# code), the escalation as the dashboard noted it: L2 as its 1-based number, `step: 2`.
OLD_LINES = b"""\
{"at":"2026-11-23T07:10:00.000000Z","kind":"firing","user":"alice","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"Backend has no ready pods","data":{"starts_at":"2026-11-23T07:10:00.000000Z","state":"firing"}}
{"at":"2026-11-23T07:25:00.000000Z","kind":"escalated","user":"alice","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","data":{"starts_at":"2026-11-23T07:10:00.000000Z","step":2,"person":"bob"}}
{"at":"2026-11-23T07:26:00.000000Z","kind":"ack","user":"bob","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"on it","data":{"starts_at":"2026-11-23T07:10:00.000000Z","silences":["s1"],"duration":900.0}}
{"at":"2026-11-23T07:27:00.000000Z","kind":"command","user":"bob","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"kubectl get pods","data":{"starts_at":"2026-11-23T07:10:00.000000Z","argv":["kubectl","get","pods"],"exit_code":null,"duration":0.5}}
{"at":"2026-11-23T07:28:00.000000Z","kind":"status_update","user":"bob","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"body","data":{"starts_at":"2026-11-23T07:10:00.000000Z","status":"Identified","impact":"checkout down","next_update":"2026-11-23T07:43:00.000000Z"}}
{"at":"2026-11-23T07:29:00.000000Z","kind":"silence_created","user":"bob","text":"db window","data":{"silences":["s2","s3"],"matchers":["namespace=\\"qawave\\""],"duration":3600.0}}
{"at":"2026-11-23T07:29:30.000000Z","kind":"silence_extended","user":"bob","text":"db window","data":{"silence":"s2","ends_at":"2026-11-23T09:00:00.000000Z"}}
{"at":"2026-11-23T07:30:00.000000Z","kind":"unack","user":"bob","text":"ACK! bob","data":{"silence":"s1","matchers":["alertname=\\"QAWaveBackendDown\\""]}}
{"at":"2026-11-23T07:30:30.000000Z","kind":"silence_expired","user":"bob","data":{"silence":"s2"}}
{"at":"2026-11-23T07:31:00.000000Z","kind":"note","user":"bob","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"rolled back","data":{"starts_at":"2026-11-23T07:10:00.000000Z"}}
{"at":"2026-11-23T07:40:00.000000Z","kind":"resolved","user":"alice","fingerprint":"fp1","alertname":"QAWaveBackendDown","level":"P1","text":"Backend has no ready pods","data":{"starts_at":"2026-11-23T07:10:00.000000Z"}}
"""


def test_a_journal_written_by_the_untyped_code_loads_as_typed_records(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(OLD_LINES)
    read = Journal(path).read()
    assert read.corrupt == ()
    types = [type(r) for r in read.records]
    assert types == [AlertFired, Escalated, Acked, CommandRun, StatusUpdate, SilenceCreated,
                     type(read.records[6]), Unacked, SilenceExpired, NoteAdded, AlertResolved]
    fired, escalated, ack, command, update, silence, extended, unack = read.records[:8]
    assert isinstance(escalated, Escalated)
    assert (escalated.to_level, escalated.person) == ("L2", "bob")  # not "L3"
    assert escalated.starts_at == datetime(2026, 11, 23, 7, 10, tzinfo=UTC)
    assert isinstance(ack, Acked) and ack.silences == ("s1",)
    assert ack.duration == timedelta(minutes=15) and ack.text == "on it"
    assert isinstance(command, CommandRun) and command.exit_code is None
    assert command.argv == ("kubectl", "get", "pods")
    assert isinstance(update, StatusUpdate) and update.status == "Identified"
    assert update.next_update == datetime(2026, 11, 23, 7, 43, tzinfo=UTC)
    assert isinstance(silence, SilenceCreated) and silence.alert is None
    assert silence.silences == ("s2", "s3") and silence.matchers == ('namespace="qawave"',)
    assert isinstance(unack, Unacked) and unack.silence_ids == ("s1",)
    assert describe(extended, BERLIN) == "extended silence s2 to Mon 10:00: db window"
    # Written back by the new writer, every record reads back the same.
    again = tmp_path / "again.jsonl"
    again.write_bytes(b"".join(encode(r) for r in read.records))
    assert Journal(again).read().records == read.records


def test_a_live_l1_to_l2_escalation_is_journaled_and_reported_as_l2(tmp_path: Path) -> None:
    config = config_for(["http://127.0.0.1:9"], extra=ROSTER_YAML)
    now = BACKEND.starts_at + timedelta(minutes=16)  # past the secondary's 15m
    rung = escalate(BACKEND, None, config.escalation, config.roster, now).current
    assert rung is not None and rung.step.notify == "secondary"
    # The way the dashboard notes it today: note(Kind.ESCALATED, alert, step=<1-based>, ...)
    record = alert_record(Kind.ESCALATED, BACKEND, "alice", now, step=rung.index + 1,
                          person=rung.person.id if rung.person else "")
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(record)
    (read,) = journal.read().records
    assert describe(read, BERLIN) == f"escalated QAWaveBackendDown to L2: {rung.person.id}"
    board = Board({BACKEND.fingerprint: BACKEND}, (), NOW)
    report = handoff_report([read], board, None, NOW, NOW - timedelta(hours=12), "alice",
                            BERLIN, DEFAULT_POLICY)
    incidents = report.split("### Recent incidents", 1)[1].split("###", 1)[0]
    assert f"| L2 {rung.person.id} | not acknowledged |" in incidents, incidents
    assert "L3" not in report


def test_alerts_firing_when_shiftdeck_starts_count_as_fired_once() -> None:
    board = Board({BACKEND.fingerprint: BACKEND}, (), NOW)
    seen = lifecycle_records(EMPTY_BOARD, board, "alice", NOW, open_firings([]))
    restart = lifecycle_records(EMPTY_BOARD, board, "alice", NOW + timedelta(minutes=5),
                                open_firings(seen))
    assert restart == []
    empty = Board({}, (), NOW)  # the alert gone from the board: only the journal tells of it
    report = handoff_report(seen, empty, None, NOW, NOW - timedelta(hours=12), "alice", BERLIN,
                            DEFAULT_POLICY)
    assert "- Alerts fired: 1 (P1 1)\n" in report


def test_the_index_answers_per_alert_in_order_and_stays_bounded() -> None:
    ref, other = AlertRef.of(BACKEND), AlertRef("fp-other", "Other", "P3")
    late = NoteAdded(NOW, "alice", ref, "late")
    early = NoteAdded(NOW - timedelta(hours=1), "bob", ref, "early")
    update = StatusUpdate(NOW, "alice", ref, "body", status="Identified")
    index = RecordIndex.of([late, update, NoteAdded(NOW, "alice", other, "elsewhere")])
    index = index.added([early])  # read from the file after the session's own records
    assert [n.text for n in index.notes(ref.fingerprint)] == ["early", "late"]
    assert index.last_update(ref.fingerprint) == update
    assert index.notes("unknown") == () and index.last_update("unknown") is None
    firing = [AlertFired(NOW, "alice", AlertRef(f"fp{i}")) for i in range(1000)]
    assert index.added(firing) is index  # a storm of firings costs no copy
    many = [NoteAdded(NOW + timedelta(seconds=i), "a", ref, str(i)) for i in range(300)]
    assert len(index.added(many).notes(ref.fingerprint)) == RecordIndex.MAX_PER_ALERT
    spread = [NoteAdded(NOW, "a", AlertRef(f"fp{i}"), "x")
              for i in range(RecordIndex.MAX_ALERTS + 5)]
    bounded = index.added(spread)
    assert bounded.notes(ref.fingerprint) == ()  # written to longest ago: dropped first
    assert bounded.notes(f"fp{RecordIndex.MAX_ALERTS + 4}") != ()


def test_old_escalated_lines_without_a_usable_step_name_no_level() -> None:
    for step in (0, -1, "2", None, True):
        obj = {"at": "2026-11-23T07:25:00Z", "kind": "escalated", "user": "a",
               "fingerprint": "fp1", "alertname": "X", "data": {"step": step}}
        record = Record.from_json(obj)
        assert isinstance(record, Escalated) and record.to_level == "", step
        assert describe(record) == "escalated X to the next level: nobody on call"
    assert Escalated.from_json({**obj, "data": {"to": "L4"}}).to_json()["data"] == {"to": "L4"}
    with pytest.raises(ValueError, match="a escalated record, not ack"):
        Acked.from_json(obj)


# --------------------------------------------------------------------------- #
# The CLI's writes, journaled and handed over
# --------------------------------------------------------------------------- #


def shiftdeck(tmp_path: Path, config: str, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path),
               "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=60)


def test_cli_ack_silence_and_expire_are_actions_taken_in_the_handoff(
        alertmanager, tmp_path: Path) -> None:
    alertmanager.push_alerts([{"labels": LABELS}])
    alertmanager.wait_for_alerts(1)
    journal = tmp_path / "journal.jsonl"
    config = (f"user: alice\njournal: '{journal}'\nalertmanagers:\n"
              f"  - {{name: am0, url: '{alertmanager.url}', cluster: test, timeout: 5s}}\n")
    acked = shiftdeck(tmp_path, config, "ack", "QAWaveBackendDown", "--note", "on it")
    assert acked.returncode == 0, acked.stderr
    silenced = shiftdeck(tmp_path, config, "silence", "namespace=qawave", "--comment",
                         "db window", "--duration", "1h", "--approver", "erin")
    assert silenced.returncode == 0, silenced.stderr
    silence_id = silenced.stdout.split()[0]
    expired = shiftdeck(tmp_path, config, "expire", silence_id)
    assert expired.returncode == 0, expired.stderr

    kinds = [type(r) for r in Journal(journal).read().records]
    assert kinds == [Acked, SilenceCreated, SilenceExpired]
    report = shiftdeck(tmp_path, config, "handoff", "--since", "1h")
    actions = report.stdout.split("### Actions taken", 1)[1].split("###", 1)[0]
    assert "alice: acknowledged `QAWaveBackendDown` (on it)" in actions, report.stdout
    assert "alice: silenced `{namespace=\"qawave\"}` for 1h" in actions, report.stdout
    assert f"alice: expired silence `{silence_id[:8]}`" in actions, report.stdout
    assert "- Actions taken: 3\n" in report.stdout, report.stdout

"""The handoff report and the shift metrics, from a fixture journal, board and roster.

The scenario: alice hands the primary pager to bob on Monday 2026-11-23 at 09:00 Berlin time
and writes the report at 08:30 (07:30 UTC) for the week since Monday 08:30. The report is
compared byte for byte with tests/fixtures/handoff_expected.md; when the report changes on
purpose, regenerate it with

    SHIFTDECK_REGENERATE=1 python3 -m pytest -q tests/test_handoff_report.py

and read the diff as the incoming engineer would.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shiftdeck.domain.alerts import Alert, AlertState, fingerprint
from shiftdeck.domain.board import Board
from shiftdeck.domain.handoff import handoff_report, md_code, md_text
from shiftdeck.domain.health import SourceHealth
from shiftdeck.domain.journal import (Acked, AlertRef, Escalated, Kind, Record, SilenceCreated,
                                      SilenceExpired, Unacked, alert_record, command_record,
                                      note_record)
from shiftdeck.domain.matchers import make_matcher
from shiftdeck.domain.metrics import shift_metrics
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.silences import Silence, SilenceState
from shiftdeck.sources.journal import Journal

from .support.helpers import ROSTER_YAML, config_for

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # Monday 08:30 in Berlin
SINCE = NOW - timedelta(days=7)
EXPECTED = Path(__file__).parent / "fixtures" / "handoff_expected.md"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def alert(name: str, severity: str, starts: datetime, state: AlertState = AlertState.FIRING,
          summary: str = "", **labels: str) -> Alert:
    all_labels = {"alertname": name, "severity": severity, **labels}
    level = DEFAULT_POLICY.level_of(all_labels).level
    return Alert(fingerprint(all_labels), all_labels, {"summary": summary} if summary else {},
                 state, starts, ("am",), level=level)


BACKEND = alert("QAWaveBackendDown", "critical", utc(23, 7, 5), summary="Backend has no ready pods",
                namespace="qawave", service="backend")
LATENCY = alert("HighLatency", "warning", utc(22, 20, 0), summary="p99 latency above 2s | checkout",
                namespace="shop", service="checkout")
DISK = alert("DiskSpaceLow", "info", utc(23, 6, 30), summary="Less than 10% disk left",
             namespace="monitoring", pod="prometheus-0")
POSTGRES = alert("PostgreSQLDown", "critical", utc(18, 2, 15), namespace="qawave",
                 service="postgresql")
ERRORS = alert("QAWaveBackendHighErrorRate", "warning", utc(20, 1, 0), namespace="shop")
NODE = alert("NodeMaintenance", "none", utc(23, 6, 0), state=AlertState.SILENCED,
             summary="node-3 cordoned", namespace="dev")
CRASH = [alert("KubePodCrashLooping", "warning", utc(19, 11, 0), namespace="shop", pod=f"api-{i}")
         for i in range(3)]


def fired(a: Alert, at: datetime, state: str = "firing") -> Record:
    return alert_record(Kind.FIRING, a, "alice", at, a.summary, state=state)


def resolved(a: Alert, at: datetime) -> Record:
    return alert_record(Kind.RESOLVED, a, "alice", at, a.summary)


def ack(a: Alert, at: datetime, user: str = "alice", text: str = "",
        silence: str = "") -> Record:
    return Acked(at, user, AlertRef.of(a), text, silences=(silence or f"ack-{a.name}",),
                 duration=timedelta(minutes=15))


def journal_records() -> list[Record]:
    """A week of alice's shift (plus one record from before it)."""
    backend_before = replace(BACKEND, starts_at=utc(21, 13, 2))
    disk_tue = replace(DISK, starts_at=utc(17, 10, 0))
    disk_thu = replace(DISK, starts_at=utc(19, 11, 0))
    old = replace(DISK, starts_at=utc(14, 9, 0))
    return [
        fired(old, utc(14, 9, 0)),  # before the shift: not counted
        resolved(old, utc(14, 9, 30)),
        fired(disk_tue, utc(17, 10, 0)),
        resolved(disk_tue, utc(17, 10, 20)),
        # Wednesday night: PostgreSQLDown paged the secondary before alice acknowledged it.
        fired(POSTGRES, utc(18, 2, 15)),
        Escalated(utc(18, 2, 30), "alice", AlertRef.of(POSTGRES), to_level="L2",
                  notify="secondary", person="Bob Okafor"),
        ack(POSTGRES, utc(18, 2, 33), user="bob"),
        note_record(POSTGRES, "bob", utc(18, 2, 50),
                    "PVC full: expanded to 200Gi.\nWAL archiving was stuck since Tuesday."),
        resolved(POSTGRES, utc(18, 3, 20)),
        # Thursday: three crash-looping pods acknowledged as a group.
        *[fired(a, utc(19, 11, 0)) for a in CRASH],
        fired(disk_thu, utc(19, 11, 0)),
        *[ack(a, utc(19, 11, 5), text="group ack", silence="ack-group-1") for a in CRASH],
        *[resolved(a, utc(19, 11, 45)) for a in CRASH],
        resolved(disk_thu, utc(19, 11, 30)),
        # Friday: a maintenance silence; the error-rate alert fired into it.
        SilenceCreated(utc(20, 0, 55), "alice", text="db maintenance window",
                       silences=("5f1e2d3c4b5a",), matchers=('namespace="shop"',),
                       duration=timedelta(hours=2)),
        fired(ERRORS, utc(20, 1, 0), state="silenced"),
        resolved(ERRORS, utc(20, 1, 30)),
        SilenceExpired(utc(20, 2, 40), "alice", text="db maintenance window",
                       silence="5f1e2d3c4b5a", matchers=('namespace="shop"',)),
        # Saturday: the backend went down once already.
        fired(backend_before, utc(21, 13, 2)),
        ack(backend_before, utc(21, 13, 6), silence="ack-backend-sat"),
        command_record(backend_before, "alice", utc(21, 13, 10),
                       ["kubectl", "rollout", "restart", "deployment/backend", "-n", "qawave"],
                       0, timedelta(seconds=2)),
        resolved(backend_before, utc(21, 13, 40)),
        # Sunday evening: latency, acknowledged by bob, still open.
        fired(LATENCY, utc(22, 20, 0)),
        ack(LATENCY, utc(22, 20, 10), user="bob"),
        # Monday morning.
        fired(DISK, utc(23, 6, 30)),
        ack(DISK, utc(23, 6, 45)),
        fired(BACKEND, utc(23, 7, 5)),
        note_record(BACKEND, "alice", utc(23, 7, 12),
                    "# Rolled back | `kubectl rollout undo` <b>v2.14</b> *broke* it\n"
                    "- next: check the migration job"),
        command_record(BACKEND, "alice", utc(23, 7, 14),
                       ["kubectl", "rollout", "undo", "deployment/backend", "-n", "qawave"],
                       0, timedelta(seconds=3)),
        alert_record(Kind.STATUS_UPDATE, BACKEND, "alice", utc(23, 7, 15),
                     "[2026-11-23 08:15 CET] QAWaveBackendDown Incident Update\n...",
                     status="Identified", impact="Checkout returns 502 for all users"),
        # As the dashboard notes a live escalation today: the rung's 1-based number as `step`.
        alert_record(Kind.ESCALATED, BACKEND, "alice", utc(23, 7, 20), step=2,
                     notify="secondary", person="Bob Okafor"),
    ]


def acked(a: Alert, who: str, at: datetime) -> Alert:
    return replace(a, state=AlertState.ACKED, acked_by=who, acked_at=at)


def board() -> Board:
    alerts = [BACKEND, acked(LATENCY, "bob", utc(22, 20, 10)),
              acked(DISK, "alice", utc(23, 6, 45)),
              replace(NODE, silenced_by=("0a1b2c3d4e5f",))]
    silences = [
        Silence("0a1b2c3d4e5f", (make_matcher("namespace", "=", "dev"),), utc(23, 5, 30),
                utc(23, 10, 30), "carol", "node-3 kernel upgrade", SilenceState.ACTIVE),
        Silence("6a7b8c9d0e1f", (make_matcher("alertname", "=", "OldCronJob"),), utc(20, 9, 0),
                utc(26, 9, 0), "bob", "cron job being retired", SilenceState.ACTIVE),
        Silence("ffeeddccbbaa", (make_matcher("namespace", "=", "qawave"),
                                 make_matcher("service", "=", "postgresql")),
                utc(24, 1, 0), utc(24, 3, 0), "erin", "PostgreSQL 16 upgrade",
                SilenceState.PENDING),
        Silence("ack-DiskSpaceLow", (), utc(23, 6, 45), utc(23, 7, 45), "alice",
                "ACK! alice via shiftdeck", SilenceState.ACTIVE),
        Silence("9e9e9e9e9e9e", (make_matcher("job", "=", "x"),), utc(20, 0, 0), utc(21, 0, 0),
                "bob", "old", SilenceState.EXPIRED),
    ]
    by_id = {s.id: s for s in silences}
    health = (SourceHealth("prod", "alertmanager", last_ok=NOW),
              SourceHealth("prod", "prometheus", last_ok=utc(23, 7, 27),
                           failing_since=utc(23, 7, 28), error="unreachable (connection refused)"))
    return Board({a.fingerprint: a for a in alerts}, health, NOW, by_id)


def roster():
    return config_for(["http://127.0.0.1:9"], extra=ROSTER_YAML).roster


def report(tmp_path: Path) -> str:
    """Through the journal file, as `shiftdeck handoff` reads it."""
    journal = Journal(tmp_path / "journal.jsonl")
    journal.extend(journal_records())
    records = journal.read(SINCE - timedelta(days=7)).records
    return handoff_report(records, board(), roster(), NOW, SINCE, "alice", BERLIN,
                          DEFAULT_POLICY)


def test_handoff_report_matches_the_reviewed_snapshot(tmp_path: Path) -> None:
    text = report(tmp_path)
    if os.environ.get("SHIFTDECK_REGENERATE"):
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(text, encoding="utf-8")
    assert text == EXPECTED.read_text(encoding="utf-8")


def test_handoff_report_is_deterministic_whatever_the_record_order(tmp_path: Path) -> None:
    records = journal_records()
    forward = handoff_report(records, board(), roster(), NOW, SINCE, "alice", BERLIN,
                             DEFAULT_POLICY)
    backward = handoff_report(records[::-1], board(), roster(), NOW, SINCE, "alice", BERLIN,
                              DEFAULT_POLICY)
    assert forward == backward == report(tmp_path)


def test_handoff_report_without_roster_or_journal_says_so() -> None:
    empty = Board({}, (), NOW)
    text = handoff_report([], empty, None, NOW, SINCE, "alice", BERLIN, DEFAULT_POLICY)
    assert text.startswith("## On-Call Handoff: 2026-11-23\n")
    for line in ("- Nothing open.", "- Nothing to watch.", "- No P1 or P2 incidents this shift.",
                 "- None recorded.", "- None.", "- No roster configured"):
        assert line in text
    assert "- Overall health: green" in text


def test_markdown_escaping_keeps_hostile_text_literal() -> None:
    assert md_text("# Done | <b>x</b> *y* [z](u) `c`") == (
        r"# Done \| \<b\>x\</b\> \*y\* \[z\](u) \`c\`")
    assert md_text("# Done", line_start=True) == r"\# Done"
    assert md_text("1. first\nsecond") == "1. first second"
    assert md_text("1. first", line_start=True) == r"1\. first"
    assert md_text("- item", line_start=True) == r"\- item"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a|b", table=True) == r"`a\|b`"


# --------------------------------------------------------------------------- #
# Metrics
# --------------------------------------------------------------------------- #


def test_metrics_mtta_mttr_noisiest_and_time_acknowledged() -> None:
    m = shift_metrics(journal_records(), SINCE, NOW)
    # Episodes started in the shift: DiskSpaceLow ×3, PostgreSQLDown, KubePodCrashLooping ×3,
    # QAWaveBackendHighErrorRate (muted), QAWaveBackendDown ×2, HighLatency.
    assert m.alerts_by_level == {"P1": 3, "P2": 5, "P3": 3}
    assert m.incidents == 7  # P1 ×3 + P2 ×4: the silenced error-rate alert paged nobody
    # Acks: PostgreSQLDown 18m, CrashLooping 5m ×3, backend (Sat) 4m, HighLatency 10m, disk 15m
    assert m.mtta == timedelta(seconds=round((18 + 5 * 3 + 4 + 10 + 15) * 60 / 7))
    # Resolved, not muted: disk 20m, postgres 65m, crash 45m ×3, disk 30m, backend (Sat) 38m
    assert m.mttr == timedelta(seconds=round((20 + 65 + 45 * 3 + 30 + 38) * 60 / 7))
    assert m.noisiest[:3] == [("DiskSpaceLow", 3), ("KubePodCrashLooping", 3),
                              ("QAWaveBackendDown", 2)]
    # Unacknowledged: disk Tue 20m, postgres 18m, crash 5m ×3, disk Thu 30m, backend Sat 4m,
    # latency 10m, disk Mon 15m, backend now 25m.
    assert m.unacked_time == timedelta(minutes=20 + 18 + 15 + 30 + 4 + 10 + 15 + 25)
    # Acknowledged: postgres 47m, crash 40m ×3, backend Sat 34m, latency 11h20m, disk 45m.
    assert m.acked_time == timedelta(minutes=47 + 120 + 34 + 680 + 45)
    assert m.actions == 10  # 5 acks (the group ack is one), silence, expiry, 2 commands, update


def test_metrics_fold_records_written_twice_into_one_firing() -> None:
    once = [fired(POSTGRES, utc(18, 2, 15)), ack(POSTGRES, utc(18, 2, 33)),
            resolved(POSTGRES, utc(18, 3, 20))]
    twice = once + [fired(POSTGRES, utc(18, 2, 16)), resolved(POSTGRES, utc(18, 3, 21))]
    a, b = shift_metrics(once, SINCE, NOW), shift_metrics(twice, SINCE, NOW)
    assert (a.alerts_by_level, a.mtta, a.mttr) == (b.alerts_by_level, b.mtta, b.mttr)
    assert b.mttr == timedelta(minutes=65) and b.mtta == timedelta(minutes=18)


def test_metrics_unack_ends_the_acknowledged_time() -> None:
    records = [fired(DISK, utc(23, 6, 30)), ack(DISK, utc(23, 6, 45), silence="s1"),
               Unacked(utc(23, 7, 0), "alice", silence="s1")]
    m = shift_metrics(records, SINCE, NOW)
    assert m.acked_time == timedelta(minutes=15)
    assert m.unacked_time == timedelta(minutes=15 + 30)


def test_the_narrow_preview_shows_every_table_row_as_a_list_item_keeping_every_cell() -> None:
    from shiftdeck.screens.handoff import tables_as_lists

    report = EXPECTED.read_text(encoding="utf-8")
    lines = report.splitlines()
    rows = [line for line, below in zip(lines, lines[1:] + [""])  # data rows, not headers
            if line.startswith("| ") and not below.startswith("|---")]
    assert rows  # the fixture has tables to turn into lists
    listed = tables_as_lists(report)
    assert not [line for line in listed.splitlines() if line.startswith("|")]
    assert "- **P1** — Alert: " in listed and "Escalated to: " in listed
    for row in rows:
        for cell in (c.strip() for c in row.strip("|").split(" | ")):
            if cell and "\\|" not in cell:
                assert cell in listed, cell


def test_recent_incidents_show_pagerduty_escalations_like_modelled_ones() -> None:
    from shiftdeck.domain.journal import PagerEscalated
    by_pager = PagerEscalated(utc(23, 7, 25), "alice", AlertRef.of(BACKEND), "[FIRING:1] x",
                              incident="PINC1", number=7, pager="pd", to_level="L3",
                              person="Erin Walsh")
    stray = replace(by_pager, alert=None, at=utc(23, 7, 26))  # no alert: no row of its own
    text = handoff_report([*journal_records(), by_pager, stray], board(), roster(), NOW, SINCE,
                          "alice", BERLIN, DEFAULT_POLICY)
    (row,) = [line for line in text.splitlines() if "Mon 2026-11-23 08:05" in line]
    assert "| L2 Bob Okafor → L3 Erin Walsh by PagerDuty at 08:25 |" in row

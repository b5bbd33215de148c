"""`shiftdeck handoff` as a user runs it: a real process, a real Alertmanager, a journal file
named by the config."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shiftdeck.domain.alerts import fingerprint
from shiftdeck.domain.journal import AlertRef, CommandRun, NoteAdded
from shiftdeck.sources.journal import Journal

LABELS = {"alertname": "QAWaveBackendDown", "severity": "critical", "namespace": "qawave",
          "service": "backend"}


def run(tmp_path: Path, config: str, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path),
               "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "shiftdeck", "handoff", *args],
                          capture_output=True, text=True, env=environ, timeout=60)


def config(journal: Path, *urls: str) -> str:
    lines = ["user: alice", f"journal: '{journal}'", "alertmanagers:"]
    lines += [f"  - {{name: am{i}, url: '{url}', timeout: 3s}}" for i, url in enumerate(urls)]
    lines += ["people:", "  alice: {name: Alice Ng}", "  bob: {name: Bob Okafor}",
              "rotations:",
              "  - {role: primary, members: [alice, bob], start: 2026-01-05T09:00, length: 1w}"]
    return "\n".join(lines) + "\n"


def test_handoff_reports_journal_alerts_and_roster_and_names_corrupt_lines(
        alertmanager, tmp_path: Path) -> None:
    alertmanager.push_alerts([{"labels": LABELS,
                               "annotations": {"summary": "Backend has no ready pods"}}])
    alertmanager.wait_for_alerts(1)
    journal = tmp_path / "journal.jsonl"
    now = datetime.now(UTC)
    ref = AlertRef(fingerprint(LABELS), "QAWaveBackendDown", "P1")
    Journal(journal).append(NoteAdded(now - timedelta(minutes=3), "alice", ref,
                                      "rolled back | v2.14 *broke* it"))
    with journal.open("ab") as handle:  # a line someone's editor mangled
        handle.write(b"{oops\n")
    Journal(journal).append(CommandRun(now - timedelta(minutes=2), "alice", ref,
                                       "kubectl get pods -n qawave", exit_code=0,
                                       duration=timedelta(seconds=1.2)))
    Journal(journal).append(NoteAdded(now - timedelta(days=3), "alice",
                                      text="before --since: not in the report"))

    result = run(tmp_path, config(journal, alertmanager.url), "--since", "1d")

    assert result.returncode == 0, result.stderr
    assert result.stderr == f"shiftdeck: {journal}:2: skipped: not JSON\n"
    report = result.stdout
    assert report.startswith("## On-Call Handoff: ")
    sections = [line for line in report.splitlines() if line.startswith("### ")]
    assert sections == ["### Summary", "### Open items", "### Watch items",
                        "### Recent incidents", "### Actions taken", "### Notes",
                        "### Next on call"]
    assert ("- [ ] **P1** `QAWaveBackendDown` `namespace=qawave` `service=backend`: Backend has "
            "no ready pods. Firing for") in report
    assert r"alice on `QAWaveBackendDown`: rolled back \| v2.14 \*broke\* it" in report
    assert "alice: ran `kubectl get pods -n qawave` (exit 0, 1s) for `QAWaveBackendDown`" in report
    assert "before --since" not in report
    # No shiftdeck saw the P1 fire, yet it fires: the report counts it all the same.
    assert "- Alerts fired: 1 (P1 1)\n- Incidents (P1, P2): 1\n" in report
    assert "| P1 | `QAWaveBackendDown` | " in report
    assert "- Sources: alertmanager am0 ok" in report
    assert "| primary | " in report


def test_handoff_to_a_file_still_written_when_a_source_is_down_exit_1(
        alertmanager, tmp_path: Path) -> None:
    out = tmp_path / "handoff.md"
    result = run(tmp_path, config(tmp_path / "state" / "journal.jsonl", alertmanager.url,
                                  "http://127.0.0.1:9"), "--out", str(out))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "shiftdeck: alertmanager am1: unreachable" in result.stderr
    report = out.read_text()
    assert "- Overall health: **red**: alertmanager am1 down" in report
    assert "alertmanager am1 **down** since" in report
    assert "its alerts are missing from this report" in report
    assert not (tmp_path / "state").exists()  # reading never creates the journal


def test_handoff_bad_since_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, config(tmp_path / "j.jsonl", "http://127.0.0.1:9"),
                 "--since", "last week")
    assert result.returncode == 2
    assert "--since: not a duration or a time: 'last week'" in result.stderr

"""`shiftdeck who` and `shiftdeck schedule` as a user runs them: frozen instants given with
--at / --from, ICS feeds over real loopback HTTP with the disk cache. The first test runs a real
process; the others run the same `main()` in this process (conftest's `oncall_cli`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .support.ics_feeds import FeedServer
from .support.oncall_cli import CONFIG, run


def test_who_prints_every_role_holder_at_the_instant(tmp_path: Path) -> None:
    result = run(tmp_path, "who", "--at", "2026-11-24T10:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "on call at Tue 2026-11-24 10:00 CET (Europe/Berlin)",
        "primary  Carol Diaz  since Tue 2026-11-24 09:00  until Wed 2026-11-25 09:00  override",
        "manager  Carol Diaz  since Mon 2026-11-23 09:00  until Mon 2026-11-30 09:00",
    ]


def test_who_json_with_an_offset_instant(oncall_cli) -> None:
    result = oncall_cli("who", "--at", "2026-07-06T07:00Z", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["at"] == "2026-07-06T09:00:00+02:00" and answer["timezone"] == "Europe/Berlin"
    primary = answer["roles"][0]
    assert primary == {
        "role": "primary", "source": "rotation",
        "person": {"id": "alice", "name": "Alice Ng", "handle": "@alice",
                   "phone": "+49 30 5550101", "email": "alice@example.com"},
        "since": "2026-07-06T09:00:00+02:00", "until": "2026-07-13T09:00:00+02:00",
    }


def test_schedule_prints_the_coming_handoffs_per_role(oncall_cli) -> None:
    result = oncall_cli("schedule", "--from", "2026-11-20T12:00", "--weeks", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n\n") == [
        "primary (times Europe/Berlin)\n"
        "  Mon 2026-11-16 09:00 → Mon 2026-11-23 09:00  Bob Okafor (@bob)\n"
        "  Mon 2026-11-23 09:00 → Tue 2026-11-24 09:00  Alice Ng (@alice)\n"
        "  Tue 2026-11-24 09:00 → Wed 2026-11-25 09:00  Carol Diaz  override\n"
        "  Wed 2026-11-25 09:00 → Mon 2026-11-30 09:00  Alice Ng (@alice)\n"
        "  Mon 2026-11-30 09:00 → Mon 2026-12-07 09:00  Bob Okafor (@bob)",
        "manager (times Europe/Berlin)\n"
        "  Mon 2026-11-16 09:00 → Mon 2026-12-07 09:00  Carol Diaz\n",
    ]


def test_who_reads_an_ics_feed_and_falls_back_to_its_cache(oncall_cli) -> None:
    server = FeedServer()
    try:
        config = CONFIG + f"schedules_ics:\n  - {{role: pd, url: '{server.url}', name: pagerduty}}\n"
        fresh = oncall_cli("who", "--at", "2026-11-18T12:00", config=config)
        assert fresh.returncode == 0 and fresh.stderr == ""
        server.status, server.body = 500, b"oops"
        cached = oncall_cli("who", "--at", "2026-11-18T12:00", config=config)
    finally:
        server.close()
    assert cached.returncode == 0, cached.stderr
    assert cached.stdout == fresh.stdout
    assert "pd       Alice Ng (@alice)" in cached.stdout and "pagerduty" in cached.stdout
    assert "shiftdeck: ics pagerduty: HTTP 500" in cached.stderr
    assert "using the copy cached at" in cached.stderr and "t0ken" not in cached.stderr


def test_who_exits_1_when_a_feed_has_no_data_at_all(oncall_cli) -> None:
    config = CONFIG + "schedules_ics:\n  - {role: pd, url: 'http://127.0.0.1:9/feed'}\n"
    result = oncall_cli("who", "--at", "2026-11-18T12:00", config=config)
    assert result.returncode == 1
    assert "unreachable" in result.stderr and "no cached copy" in result.stderr
    assert "pd       nobody (coverage gap)" in result.stdout


def test_bad_at_exits_2(oncall_cli) -> None:
    result = oncall_cli("who", "--at", "tomorrow")
    assert result.returncode == 2 and "--at: not a time: 'tomorrow'" in result.stderr


def test_config_error_in_the_roster_prints_file_line_key(oncall_cli) -> None:
    result = oncall_cli("who", config=CONFIG.replace("[alice, bob]", "[alice, zed]"))
    assert result.returncode == 2
    assert "config.yaml:8: rotations[0].members[1]: unknown person 'zed'" in result.stderr


def test_demo_has_a_roster() -> None:
    result = subprocess.run([sys.executable, "-m", "shiftdeck", "--demo", "who", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    roles = {r["role"]: r["person"]["id"] for r in json.loads(result.stdout)["roles"]}
    assert set(roles) == {"primary", "secondary", "manager", "vp-eng"}
    assert roles["primary"] != roles["secondary"] and roles["vp-eng"] == "frank"


def test_check_probes_ics_feeds_too(oncall_cli) -> None:
    config = CONFIG + "schedules_ics:\n  - {role: pd, url: 'http://127.0.0.1:9/f', name: pd}\n"
    result = oncall_cli("check", config=config)
    assert result.returncode == 1
    assert any(line.startswith("FAIL ics pd: unreachable") for line in result.stdout.splitlines())

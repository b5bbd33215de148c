"""`shiftdeck alerts` starts its request first: a real process against a real Alertmanager,
watched through audit hooks (every module import and socket connect, in the order they happen)."""

import json
import os
import subprocess
import sys

PROBE = r"""
import os, sys

def record(event, args):
    if event == "import":
        os.write(2, f"@import {args[0]}\n".encode())
    elif event == "socket.connect":
        os.write(2, f"@connect {args[1]!r}\n".encode())

def exit_saying_what_was_loaded(code, _exit=os._exit):
    loaded = " ".join(name for name, module in sys.modules.items() if module is not None)
    os.write(2, f"@loaded {loaded}\n".encode())
    _exit(code)

sys.addaudithook(record)
os._exit = exit_saying_what_was_loaded
sys.argv = ["shiftdeck", *sys.argv[1:]]
from shiftdeck.__main__ import entry
entry()
"""

NEVER_ON_THE_ALERTS_PATH = (
    # the dashboard and what only it needs
    "textual", "rich", "pygments", "shiftdeck.app", "shiftdeck.screens", "shiftdeck.widgets",
    "shiftdeck.services", "shiftdeck.messages", "shiftdeck.themes",
    # diagnostics, runbooks, schedules, PagerDuty, writes: other commands'
    "kubernetes", "icalendar", "recurring_ical_events", "shiftdeck.sources.kube",
    "shiftdeck.sources.runbooks", "shiftdeck.sources.runner", "shiftdeck.sources.schedule",
    "shiftdeck.sources.pagerduty", "shiftdeck.sources.silence_writer", "shiftdeck.writes",
    "shiftdeck.domain.handoff", "shiftdeck.demo",
    # httpx's own command-line client and trio: httpx and httpcore import them when installed
    "httpx._main", "click", "trio",
)


def run_probed(tmp_path, config_text: str, *args: str,
               env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess,
                                                           list[tuple[str, str]]]:
    config = tmp_path / "config.yaml"
    config.write_text(config_text)
    environ = {k: v for k, v in os.environ.items() if k != "SHIFTDECK_CONFIG"}
    environ.update(env or {})
    result = subprocess.run([sys.executable, "-c", PROBE, "--config", str(config), *args],
                            capture_output=True, text=True, env=environ, timeout=60)
    events = [tuple(line[1:].split(" ", 1)) for line in result.stderr.splitlines()
              if line.startswith(("@import ", "@connect ", "@loaded "))]
    return result, events  # type: ignore[return-value]


def am_config(url: str) -> str:
    return f"alertmanagers:\n  - {{name: am, url: '{url}', timeout: 10s}}\n"


def test_alerts_connects_before_the_rest_of_shiftdeck_is_imported(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": {"alertname": "Early", "severity": "critical"}}])
    alertmanager.wait_for_alerts(1)
    result, events = run_probed(tmp_path, am_config(alertmanager.url), "alerts", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [a["alertname"] for a in json.loads(result.stdout)["alerts"]] == ["Early"]
    assert_connected_first(events, alertmanager.url)


def assert_connected_first(events: list[tuple[str, str]], url: str) -> None:
    port = url.rsplit(":", 1)[1]
    connects = [i for i, (kind, what) in enumerate(events)
                if kind == "connect" and what.endswith(f", {port})")]
    assert connects, "no connection to the Alertmanager"
    imported = {what: i for i, (kind, what) in enumerate(events) if kind == "import"}
    for later in ("shiftdeck.config.model", "shiftdeck.cli", "shiftdeck.domain.view"):
        assert later in imported, later
        # Every connection (so no second poll after the config is loaded) comes first.
        assert max(connects) < imported[later], f"connected after importing {later}"


def test_alerts_never_imports_the_dashboard_or_other_commands_modules(alertmanager, tmp_path):
    result, events = run_probed(tmp_path, am_config(alertmanager.url), "alerts")
    assert result.returncode == 0, result.stderr[-2000:]
    (loaded,) = [set(what.split()) for kind, what in events if kind == "loaded"]
    assert "httpx" in loaded and "shiftdeck.sources.alertmanager" in loaded
    assert sorted(m for m in loaded if any(m == name or m.startswith(name + ".")
                                             for name in NEVER_ON_THE_ALERTS_PATH)) == []


def test_a_config_error_beside_good_upstreams_still_says_where_and_exits_2(alertmanager,
                                                                           tmp_path):
    text = am_config(alertmanager.url) + "refresh: 15s\nseverities: [{level: P1}]\nbogus: 1\n"
    result, _ = run_probed(tmp_path, text, "alerts", "--json")
    assert result.returncode == 2
    assert "config.yaml:5: bogus: unknown key" in result.stderr
    assert result.stdout == ""


def test_upstreams_with_env_secrets_and_headers_are_polled_once_early(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": {"alertname": "FromEnv", "severity": "warning"}}])
    alertmanager.wait_for_alerts(1)
    (tmp_path / "password").write_text("s3cret\n")
    text = ("alertmanagers:\n  - name: am\n    url: '${AM_URL}'\n"
            "    basic_auth: {username: me, password_file: password}\n"
            "    headers: {X-Scope-OrgID: team}\n")
    result, events = run_probed(tmp_path, text, "alerts", "--json",
                                env={"AM_URL": alertmanager.url})
    assert result.returncode == 0, result.stderr[-2000:]
    assert [a["alertname"] for a in json.loads(result.stdout)["alerts"]] == ["FromEnv"]
    assert_connected_first(events, alertmanager.url)

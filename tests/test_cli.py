"""`shiftdeck alerts` and `shiftdeck check` as a user runs them: a real process, real servers."""

import json
import os
import subprocess
import sys

import pytest



def run(*args: str, config_text: str, tmp_path, env=None) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(config_text)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path), **(env or {})}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=60)


def am_config(*urls: str, prometheus: str | None = None) -> str:
    lines = ["alertmanagers:"] + [f"  - {{name: am{i}, url: '{u}', timeout: 3s}}"
                                  for i, u in enumerate(urls)]
    if prometheus:
        lines += ["prometheus:", f"  - {{name: prom, url: '{prometheus}'}}"]
    return "\n".join(lines) + "\n"


def test_alerts_json_lists_merged_alerts_with_level_and_expression(prometheus_with_alertmanager,
                                                                   tmp_path):
    prom, am = prometheus_with_alertmanager
    prom.wait_for_alert_state("DemoAlwaysPending", "pending")
    am.wait_for_alerts(1)
    result = run("alerts", "--json", config_text=am_config(am.url, prometheus=prom.url),
                 tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    alerts = {a["alertname"]: a for a in json.loads(result.stdout)["alerts"]}
    firing = alerts["DemoAlwaysFiring"]
    assert (firing["level"], firing["state"]) == ("P1", "firing")
    assert "vector(1)" in firing["expression"]
    assert set(firing["instances"]) == {"am0", "prom"}
    assert alerts["DemoAlwaysPending"]["state"] == "pending"


def test_alerts_filter_and_text_output(alertmanager, tmp_path):
    alertmanager.push_alerts([
        {"labels": {"alertname": "A", "severity": "critical", "namespace": "prod"}},
        {"labels": {"alertname": "B", "severity": "warning", "namespace": "dev"}},
    ])
    alertmanager.wait_for_alerts(2)
    result = run("alerts", "--filter", "namespace!=dev", config_text=am_config(alertmanager.url),
                 tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.split()[:4] == ["P1", "firing", line.split()[2], "A"]
    assert "namespace=prod" in line


def test_alerts_exits_1_when_a_source_fails_but_prints_the_rest(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": {"alertname": "StillHere", "severity": "critical"}}])
    alertmanager.wait_for_alerts(1)
    result = run("alerts", config_text=am_config(alertmanager.url, "http://127.0.0.1:9"),
                 tmp_path=tmp_path)
    assert result.returncode == 1
    assert "StillHere" in result.stdout
    assert "alertmanager am1: unreachable" in result.stderr


def test_hostile_labels_never_reach_the_terminal(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": {"alertname": "X", "namespace": "\x1b]0;pwned\x07\x9b2J"}}])
    alertmanager.wait_for_alerts(1)
    result = run("alerts", config_text=am_config(alertmanager.url), tmp_path=tmp_path)
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout and "\x07" not in result.stdout


def test_bad_filter_exits_2(alertmanager, tmp_path):
    result = run("alerts", "--filter", 'x=~"("', config_text=am_config(alertmanager.url),
                 tmp_path=tmp_path)
    assert result.returncode == 2
    assert "invalid regex" in result.stderr


def test_check_probes_every_source(prometheus_with_alertmanager, tmp_path):
    prom, am = prometheus_with_alertmanager
    result = run("check", config_text=am_config(am.url, "http://127.0.0.1:9", prometheus=prom.url),
                 tmp_path=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(l.startswith("ok   alertmanager am0") and "version 0." in l for l in lines)
    assert any(l.startswith("FAIL alertmanager am1") and "unreachable" in l for l in lines)
    assert any(l.startswith("ok   prometheus prom") and "alert rule(s)" in l for l in lines)


def test_bad_config_prints_file_line_key_and_exits_2(tmp_path):
    result = run("alerts", config_text="alertmanagers:\n  - name: a\n    url: http://x\n    timeout: soon\n",
                 tmp_path=tmp_path)
    assert result.returncode == 2
    assert "config.yaml:4: alertmanagers[0].timeout:" in result.stderr


def test_no_config_points_at_the_demo_and_init(tmp_path):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SHIFTDECK_CONFIG", "ALERTMANAGER_URL")}
    environ.update(XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))  # no amtool config either
    result = subprocess.run([sys.executable, "-m", "shiftdeck", "alerts"], capture_output=True,
                            text=True, env=environ, timeout=60)
    assert result.returncode == 2
    assert "shiftdeck --demo" in result.stderr and "shiftdeck init" in result.stderr


@pytest.mark.parametrize("command", [["alerts"], ["check"]])
@pytest.mark.slow
def test_demo_answers_one_shot_commands(command, tmp_path):
    result = subprocess.run([sys.executable, "-m", "shiftdeck", "--demo", *command],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_alert_json_writes_start_and_state_as_isoformat_and_value():
    from datetime import datetime, timedelta, timezone

    import orjson

    from shiftdeck.cli import _as_json
    from shiftdeck.domain.alerts import Alert, AlertState

    for starts in (datetime(2026, 11, 22, 18, 0, 1, 250, tzinfo=timezone.utc),
                   datetime(2026, 11, 22, 18, 0, tzinfo=timezone(timedelta(hours=-5)))):
        alert = Alert("f00", {"alertname": "A"}, {}, AlertState.SILENCED, starts,
                      clamped=("endsAt",))
        body = json.loads(orjson.dumps(_as_json(alert, starts + timedelta(seconds=90.5))))
        assert (body["startsAt"], body["state"], body["ageSeconds"]) == (
            starts.isoformat(), "silenced", 90)
        assert body["warnings"] == ["endsAt out of range: clamped"]

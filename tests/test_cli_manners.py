"""The CLI's manners, as amtool and kubectl have them: global flags anywhere, --version,
matchers as arguments, tables that fit the terminal, health in the JSON, `init`, and errors that
say what to do. Real processes, real Alertmanager and Prometheus."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from shiftdeck.config import load_config_text
from shiftdeck.keys import KEYS

REPO = Path(__file__).resolve().parent.parent
AM_DOWN = "http://127.0.0.1:9"


def shiftdeck(*args: str, env: dict[str, str] | None = None, home: Path | None = None
              ) -> subprocess.CompletedProcess:
    """Run `shiftdeck` with no config anywhere unless `env` names one."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SHIFTDECK_CONFIG", "ALERTMANAGER_URL", "COLUMNS")}
    if home is not None:
        environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=60, stdin=subprocess.DEVNULL)


def config_file(tmp_path: Path, *urls: str, prometheus: str = "", extra: str = "") -> str:
    path = tmp_path / "config.yaml"
    text = "user: alice\nalertmanagers:\n" + "".join(
        f"  - {{name: am{i}, url: '{u}', timeout: 3s}}\n" for i, u in enumerate(urls))
    if prometheus:
        text += f"prometheus:\n  - {{name: prom, url: '{prometheus}'}}\n"
    path.write_text(text + extra)
    return str(path)


def push(am, *labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
    am.push_alerts([{"labels": each, "annotations": annotations or {}} for each in labels])
    am.wait_for_alerts(len(labels))


DISK = {"alertname": "DiskFull", "severity": "critical", "namespace": "prod"}
DISK_DEV = {"alertname": "DiskSlow", "severity": "warning", "namespace": "dev"}
BACKEND = {"alertname": "BackendDown", "severity": "critical", "namespace": "prod"}


# 1. global flags before or after the subcommand ------------------------------------------ #

def test_global_flags_work_after_the_subcommand_too(alertmanager, tmp_path):
    push(alertmanager, DISK, BACKEND)
    path = config_file(tmp_path, alertmanager.url)
    after = shiftdeck("alerts", "--config", path, "--json")
    before = shiftdeck("--config", path, "--json", "alerts")
    assert after.returncode == before.returncode == 0, after.stderr + before.stderr
    names = lambda result: sorted(a["alertname"] for a in json.loads(result.stdout)["alerts"])
    assert names(after) == names(before) == ["BackendDown", "DiskFull"]


def test_a_bad_flag_names_itself_and_exits_2(tmp_path):
    path = config_file(tmp_path, AM_DOWN)
    result = shiftdeck("alerts", "--config", path, "--jsn")
    assert result.returncode == 2
    assert "--jsn" in result.stderr and "Traceback" not in result.stderr


def test_json_on_a_command_without_json_output_is_a_usage_error(tmp_path):
    result = shiftdeck("expire", "0123456789", "--json", "--config",
                       config_file(tmp_path, AM_DOWN))
    assert result.returncode == 2
    assert "--json" in result.stderr and "expire" in result.stderr


# 2. --version ----------------------------------------------------------------------------- #

def test_version_prints_the_installed_version_without_a_config():
    result = shiftdeck("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"shiftdeck {version('shiftdeck')}"


# 3. health next to the alerts; Alertmanager's state wins over Prometheus's ---------------- #

def test_alerts_json_carries_every_sources_health(alertmanager, tmp_path):
    push(alertmanager, DISK)
    result = shiftdeck("alerts", "--json", "--config",
                       config_file(tmp_path, alertmanager.url, AM_DOWN))
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert [a["alertname"] for a in body["alerts"]] == ["DiskFull"]
    sources = {s["name"]: s for s in body["sources"]}
    assert sources["am0"]["kind"] == "alertmanager" and sources["am0"]["ok"] is True
    assert sources["am0"]["lastSuccess"] and sources["am0"]["error"] == ""
    assert sources["am1"]["ok"] is False and "unreachable" in sources["am1"]["error"]
    assert sources["am1"]["lastSuccess"] is None


def test_a_silenced_alert_that_prometheus_still_fires_shows_silenced(
        prometheus_with_alertmanager, tmp_path):
    prom, am = prometheus_with_alertmanager
    prom.wait_for_alert_state("DemoAlwaysFiring", "firing")
    am.wait_for_alerts(1)
    am.add_silence({"alertname": "DemoAlwaysFiring"}, duration=timedelta(hours=1))
    am.wait_for_alerts(1, active="false", silenced="true", filter='alertname="DemoAlwaysFiring"')
    result = shiftdeck("alerts", "--json", "alertname=DemoAlwaysFiring", "--config",
                       config_file(tmp_path, am.url, prometheus=prom.url))
    assert result.returncode == 0, result.stderr
    (alert,) = json.loads(result.stdout)["alerts"]
    assert set(alert["instances"]) == {"am0", "prom"}
    assert alert["state"] == "silenced"


# 4. matchers as arguments ------------------------------------------------------------------ #

def test_alerts_takes_matchers_as_arguments_like_amtool(alertmanager, tmp_path):
    push(alertmanager, DISK, DISK_DEV, BACKEND)
    path = config_file(tmp_path, alertmanager.url)
    result = shiftdeck("alerts", "severity=critical", "--json", 'alertname=~"Disk.*"',
                       "--config", path)
    assert result.returncode == 0, result.stderr
    assert [a["alertname"] for a in json.loads(result.stdout)["alerts"]] == ["DiskFull"]
    bare = shiftdeck("alerts", "BackendDown", "--config", path)
    assert [line.split()[3] for line in bare.stdout.splitlines()] == ["BackendDown"]


def test_a_bad_matcher_argument_says_what_is_wrong(tmp_path):
    result = shiftdeck("alerts", 'x=~"("', "--config", config_file(tmp_path, AM_DOWN))
    assert result.returncode == 2
    assert "invalid regex" in result.stderr


def test_silences_takes_matchers_like_amtool_silence_query(alertmanager, tmp_path):
    disk = alertmanager.add_silence({"alertname": "DiskFull", "namespace": "prod"})
    alertmanager.add_silence({"alertname": "BackendDown"})
    result = shiftdeck("silences", "alertname=DiskFull", "--json", "--config",
                       config_file(tmp_path, alertmanager.url))
    assert result.returncode == 0, result.stderr
    assert [s["id"] for s in json.loads(result.stdout)] == [disk]


# 5. tables fit the terminal ---------------------------------------------------------------- #

def test_alert_lines_fit_columns_and_keep_the_name(alertmanager, tmp_path):
    long = {**DISK, "alertname": "KubePersistentVolumeFillingUp", "service": "s" * 40,
            "pod": "p" * 40}
    push(alertmanager, long, annotations={"summary": "Volume data-0 is 97% full " + "x" * 80})
    path = config_file(tmp_path, alertmanager.url)
    narrow = shiftdeck("alerts", "--config", path, env={"COLUMNS": "60"})
    assert narrow.returncode == 0, narrow.stderr
    (line,) = narrow.stdout.splitlines()
    assert len(line) <= 60 and "KubePersistentVolumeFillingUp" in line and "…" in line
    wide = shiftdeck("alerts", "--config", path, env={"COLUMNS": "400"})
    (line,) = wide.stdout.splitlines()
    assert "p" * 40 in line and "Volume data-0 is 97% full" in line and "…" not in line


# 6. no config, init, $ALERTMANAGER_URL, amtool's config ----------------------------------- #

def test_no_config_says_exactly_what_to_do(tmp_path):
    result = shiftdeck("alerts", home=tmp_path)
    assert result.returncode == 2
    assert "shiftdeck init" in result.stderr and "ALERTMANAGER_URL" in result.stderr
    assert str(tmp_path / ".config" / "shiftdeck" / "config.yaml") in result.stderr


def test_init_writes_the_sample_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / ".config" / "shiftdeck" / "config.yaml"
    first = shiftdeck("init", home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert target.read_text() == (REPO / "sample_config.yaml").read_text()
    assert str(target) in first.stdout
    target.write_text("# mine\n")
    again = shiftdeck("init", home=tmp_path)
    assert again.returncode == 2 and str(target) in again.stderr and "--force" in again.stderr
    assert target.read_text() == "# mine\n"
    forced = shiftdeck("init", "--force", home=tmp_path)
    assert forced.returncode == 0 and target.read_text().startswith("# shiftdeck sample")


def test_the_shipped_sample_is_the_top_level_one_and_loads():
    packaged = REPO / "src" / "shiftdeck" / "sample_config.yaml"
    assert packaged.read_bytes() == (REPO / "sample_config.yaml").read_bytes()
    config = load_config_text(packaged.read_text(), None,
                              environ={"USER": "x", "PD_TOKEN": "t", "AM_PASSWORD": "p"})
    assert config.alertmanagers


def test_alertmanager_url_without_a_config_starts_read_only(alertmanager, tmp_path):
    push(alertmanager, DISK)
    env = {"ALERTMANAGER_URL": alertmanager.url}
    listed = shiftdeck("alerts", home=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "DiskFull" in listed.stdout
    (note,) = listed.stderr.splitlines()
    assert "$ALERTMANAGER_URL" in note and "read-only" in note
    acked = shiftdeck("ack", "DiskFull", home=tmp_path, env=env)
    assert acked.returncode == 2 and "read-only" in acked.stderr
    assert alertmanager.silences() == []


def test_amtools_config_with_an_author_can_write(alertmanager, tmp_path):
    push(alertmanager, DISK)
    amtool = tmp_path / ".config" / "amtool" / "config.yml"
    amtool.parent.mkdir(parents=True)
    amtool.write_text(f'alertmanager.url: "{alertmanager.url}"\nauthor: bob\n')
    acked = shiftdeck("ack", "DiskFull", home=tmp_path)
    assert acked.returncode == 0, acked.stderr
    assert str(amtool) in acked.stderr and "read-only" not in acked.stderr
    (silence,) = alertmanager.silences()
    assert silence["createdBy"] == "bob"


# 7. expire with a short prefix ----------------------------------------------------------- #

def test_expire_with_a_short_prefix_asks_for_8_characters(tmp_path):
    result = shiftdeck("expire", "55c9", "--config", config_file(tmp_path, AM_DOWN))
    assert result.returncode == 2
    assert "give at least 8 characters of the silence id" in result.stderr


# 8. check: user in people, keymap ---------------------------------------------------------- #

def test_check_warns_when_user_is_nobody_in_people(alertmanager, tmp_path):
    path = config_file(tmp_path, alertmanager.url,
                       extra="people:\n  bob: {name: Bob}\n  carol: {name: Carol}\n")
    result = shiftdeck("check", "--config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warn user 'alice' is not one of people (bob, carol)" in result.stdout


def test_check_refuses_a_keymap_that_takes_another_actions_key(alertmanager, tmp_path):
    path = config_file(tmp_path, alertmanager.url, extra='keymap: {cursor_down: "n,j"}\n')
    result = shiftdeck("check", "--config", path)
    assert result.returncode == 2
    assert f"{path}:4: keymap.cursor_down: 'n' is already the key of 'add_note'" in result.stderr
    fixed = config_file(tmp_path, alertmanager.url,
                        extra='keymap: {cursor_down: "n,j", add_note: "N"}\n')
    assert shiftdeck("check", "--config", fixed).returncode == 0


def test_check_names_an_unknown_action_and_the_valid_ones(alertmanager, tmp_path):
    path = config_file(tmp_path, alertmanager.url, extra="keymap: {ack_all: x}\n")
    result = shiftdeck("check", "--config", path)
    assert result.returncode == 2
    assert f"{path}:4: keymap.ack_all: no such action; valid ids: " in result.stderr
    assert all(action.id in result.stderr for action in KEYS)

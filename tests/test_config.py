"""shiftdeck.config: YAML → frozen dataclasses, errors located as file:line: key: reason."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from shiftdeck.config import (
    Config,
    ConfigError,
    TLSConfig,
    find_config_path,
    load_config,
    load_config_text,
)
from shiftdeck.domain.commands import (
    DEFAULT_DANGEROUS,
    DEFAULT_READ_ONLY,
    CommandPatterns,
    CommandSettings,
)
from shiftdeck.domain.kube import KubernetesSettings
from shiftdeck.domain.runbooks import RunbookSettings
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.silences import AckSettings, SilenceSettings

SAMPLE = Path(__file__).resolve().parents[1] / "sample_config.yaml"
MINIMAL = "alertmanagers:\n  - name: prod\n    url: http://127.0.0.1:9093\n"
SECRET = "s3cr3t-hunter2"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=environ or {})
    return info.value


def test_sample_config_loads() -> None:
    config = load_config(SAMPLE, environ={"USER": "dana"})
    assert config.user == "dana"  # commented out: `shiftdeck init` must not sign as alice
    assert [(am.name, am.cluster) for am in config.alertmanagers] == [
        ("prod-a", "prod"), ("prod-b", "prod")
    ]
    assert [p.name for p in config.prometheus] == ["prod"]
    assert config.severity == DEFAULT_POLICY


def test_defaults() -> None:
    config = load_config_text(MINIMAL, environ={"USER": "bob"})
    assert config.source is None
    assert config.user == "bob"
    assert config.title == "shiftdeck"
    assert config.refresh == timedelta(seconds=15)
    assert config.prometheus == ()
    assert config.severity == DEFAULT_POLICY
    assert config.key_labels == ("namespace", "service", "pod")
    assert config.theme == "shiftdeck-dark"
    assert dict(config.keymap) == {}
    assert config.resolved_retention == timedelta(minutes=10)
    assert config.read_only is False
    (am,) = config.alertmanagers
    assert (am.name, am.url, am.cluster) == ("prod", "http://127.0.0.1:9093", "prod")
    assert dict(am.headers) == {} and am.basic_auth is None and am.bearer_token is None
    assert am.tls == TLSConfig() and am.proxy is None
    assert am.timeout == timedelta(seconds=10) and am.read_only is False


def test_user_defaults_to_unknown_without_user_env() -> None:
    assert load_config_text(MINIMAL, environ={}).user == "unknown"


def test_config_is_frozen() -> None:
    config = load_config_text(MINIMAL, environ={})
    with pytest.raises(AttributeError):
        config.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.alertmanagers[0].headers["X"] = "y"  # type: ignore[index]


def test_url_trailing_slash_stripped_and_path_prefix_kept() -> None:
    text = "alertmanagers: [{name: mimir, url: 'https://mimir.example/alertmanager/'}]\n"
    assert load_config_text(text, environ={}).alertmanagers[0].url == (
        "https://mimir.example/alertmanager"
    )


# -- lookup order ------------------------------------------------------------ #


def test_lookup_explicit_path_wins(tmp_path: Path) -> None:
    explicit, other = write(tmp_path, MINIMAL, "a.yaml"), write(tmp_path, MINIMAL, "b.yaml")
    assert find_config_path(str(explicit), {"SHIFTDECK_CONFIG": str(other)}) == explicit


def test_lookup_env_before_xdg(tmp_path: Path) -> None:
    from_env = write(tmp_path, MINIMAL, "env.yaml")
    (tmp_path / "shiftdeck").mkdir()
    write(tmp_path / "shiftdeck", MINIMAL)
    environ = {"SHIFTDECK_CONFIG": str(from_env), "XDG_CONFIG_HOME": str(tmp_path)}
    assert find_config_path(None, environ) == from_env


def test_lookup_xdg_config_home(tmp_path: Path) -> None:
    (tmp_path / "shiftdeck").mkdir()
    path = write(tmp_path / "shiftdeck", MINIMAL)
    assert find_config_path(None, {"XDG_CONFIG_HOME": str(tmp_path)}) == path


def test_lookup_xdg_defaults_to_home_dot_config(tmp_path: Path) -> None:
    (tmp_path / ".config" / "shiftdeck").mkdir(parents=True)
    path = write(tmp_path / ".config" / "shiftdeck", MINIMAL)
    assert find_config_path(None, {"HOME": str(tmp_path)}) == path


def test_lookup_nothing_found_is_none(tmp_path: Path) -> None:
    assert find_config_path(None, {"XDG_CONFIG_HOME": str(tmp_path)}) is None


def test_lookup_missing_explicit_or_env_path_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="--config"):
        find_config_path(missing, {})
    with pytest.raises(ConfigError, match="SHIFTDECK_CONFIG") as info:
        find_config_path(None, {"SHIFTDECK_CONFIG": missing})
    assert info.value.file == missing


def test_unreadable_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.line is None and "cannot read" in info.value.reason


# -- errors ------------------------------------------------------------------ #


def test_unknown_key_reports_file_line_and_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "    timout: 5s\n")
    assert (err.line, err.key) == (4, "alertmanagers[0].timout")
    assert str(err).startswith(f"{tmp_path / 'config.yaml'}:4: alertmanagers[0].timout: ")
    assert "did you mean 'timeout'" in err.reason and "allowed:" in err.reason


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "refesh: 5s\n")
    assert (err.line, err.key) == (4, "refesh") and "'refresh'" in err.reason


def test_bad_duration(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "    timeout: abc\n")
    assert str(err) == (
        f"{tmp_path / 'config.yaml'}:4: alertmanagers[0].timeout: "
        "not a duration: 'abc' (use e.g. 90s, 15m, 4h, 1d, 1w)"
    )


def test_wrong_type_names_expected_and_actual(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "refresh: [15m]\n")
    assert (err.line, err.key) == (4, "refresh")
    assert err.reason == "expected a duration like 15m, got a list"


def test_refresh_below_one_second(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "refresh: 500ms\n")
    assert err.key == "refresh" and "at least 1s" in err.reason


@pytest.mark.parametrize(
    "url",
    ["127.0.0.1:9093", "ftp://host", "http://", "http://host:99999", "http://u:p@host",
     "http://host/?x=1"],
)
def test_bad_url(tmp_path: Path, url: str) -> None:
    err = load_error(tmp_path, f"alertmanagers:\n  - name: a\n    url: '{url}'\n")
    assert (err.line, err.key) == (3, "alertmanagers[0].url")


def test_bad_matcher_regex_in_severities(tmp_path: Path) -> None:
    text = MINIMAL + "severities:\n  - level: P1\n    match:\n      - 'a=b'\n      - 'x=~\"(\"'\n"
    err = load_error(tmp_path, text)
    assert (err.line, err.key) == (8, "severities[0].match[1]")
    assert "invalid regex" in err.reason


def test_duplicate_severity_level(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "severities:\n  - level: P1\n  - level: P1\n")
    assert (err.line, err.key) == (6, "severities[1]") and "duplicate" in err.reason


def test_severities_replace_default_policy() -> None:
    text = MINIMAL + (
        "severities:\n"
        "  - level: SEV1\n    match: ['severity=page', 'team=db']\n    ack_within: 5m\n"
        "  - level: SEV2\n"
    )
    policy = load_config_text(text, environ={}).severity
    assert policy.names() == ("SEV1", "SEV2")
    assert [str(m) for m in policy.levels[0].match] == ['severity="page"', 'team="db"']
    assert policy.levels[0].ack_within == timedelta(minutes=5)
    assert policy.level_of({"severity": "page", "team": "db"}).level == "SEV1"
    assert policy.level_of({"severity": "page"}).level == "SEV2"


def test_yaml_syntax_error_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "refresh: 15s\ntitle: a: b\n")
    assert err.line == 5 and err.reason.startswith("invalid YAML")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "refresh: 1s\nrefresh: 2s\n")
    assert (err.line, err.key) == (5, "refresh") and "first at line 4" in err.reason


def test_empty_alertmanagers_and_prometheus(tmp_path: Path) -> None:
    err = load_error(tmp_path, "alertmanagers: []\nprometheus: []\n")
    assert err.key == "alertmanagers" and "at least one" in err.reason
    assert load_error(tmp_path, "").key == "alertmanagers"


def test_prometheus_alone_is_enough() -> None:
    config = load_config_text("prometheus: [{name: p, url: http://p:9090}]\n", environ={})
    assert config.alertmanagers == () and config.prometheus[0].cluster == "p"


def test_yaml_merge_keys_share_settings_between_ha_peers() -> None:
    text = (
        "alertmanagers:\n"
        "  - &peer {name: a, url: 'http://a:9093', cluster: prod, timeout: 3s}\n"
        "  - <<: *peer\n    name: b\n    url: http://b:9093\n"
    )
    a, b = load_config_text(text, environ={}).alertmanagers
    assert (b.name, b.url, b.cluster, b.timeout) == ("b", "http://b:9093", "prod", a.timeout)


# -- ${ENV} and secrets -------------------------------------------------------- #


def test_env_expansion() -> None:
    text = "title: '${TEAM} on call, $$HOME and $${NOT}'\n" + MINIMAL.replace(
        "127.0.0.1", "${AM_HOST}"
    )
    config = load_config_text(text, environ={"TEAM": "db", "AM_HOST": "am.internal"})
    assert config.title == "db on call, $$HOME and ${NOT}"
    assert config.alertmanagers[0].url == "http://am.internal:9093"


def test_env_unset_variable_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "    bearer_token: ${AM_TOKEN}\n")
    assert (err.line, err.key) == (4, "alertmanagers[0].bearer_token")
    assert err.reason == "environment variable AM_TOKEN is not set"


def secret_config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "am-password").write_text(SECRET + "\n")
    return write(
        tmp_path,
        MINIMAL
        + "    basic_auth: {username: ops, password_file: am-password}\n"
        + "    headers: {Authorization: 'Token ${TOKEN}', X-Scope-OrgID: team-a}\n"
        + extra,
    )


def test_password_file_read_and_secret_hidden(tmp_path: Path) -> None:
    config = load_config(secret_config(tmp_path), environ={"TOKEN": SECRET})
    upstream = config.alertmanagers[0]
    assert upstream.basic_auth is not None and upstream.basic_auth.password == SECRET
    assert upstream.headers["Authorization"] == f"Token {SECRET}"
    assert SECRET not in repr(config)
    masked = config.masked()
    assert SECRET not in repr(masked)
    assert masked["alertmanagers"][0]["basic_auth"] == {"username": "ops", "password": "***"}
    assert masked["alertmanagers"][0]["headers"] == {
        "Authorization": "***", "X-Scope-OrgID": "team-a"
    }


def test_secret_absent_from_error_messages(tmp_path: Path) -> None:
    path = secret_config(tmp_path, extra=f"    timeout: {SECRET}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"TOKEN": SECRET})
    assert info.value.key == "alertmanagers[0].timeout"
    # A secret in the wrong place is described, never quoted.
    err = load_error(tmp_path, MINIMAL + f"    basic_auth: {SECRET}\n")
    assert err.reason == "expected a mapping, got text" and SECRET not in str(err)


def test_bearer_token_file_and_masking(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SECRET + "\n")
    config = load_config(write(tmp_path, MINIMAL + "    bearer_token_file: token\n"))
    assert config.alertmanagers[0].bearer_token == SECRET
    assert config.masked()["alertmanagers"][0]["bearer_token"] == "***"
    assert SECRET not in repr(config)


def test_unreadable_secret_file_reports_line_and_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "    bearer_token_file: /nonexistent/token\n")
    assert (err.line, err.key) == (4, "alertmanagers[0].bearer_token_file")
    assert "cannot read /nonexistent/token" in err.reason


def test_proxy_credentials_masked() -> None:
    config = load_config_text(MINIMAL + f"    proxy: 'http://me:{SECRET}@proxy:3128'\n",
                              environ={})
    assert SECRET not in repr(config)
    assert config.masked()["alertmanagers"][0]["proxy"] == "http://me:***@proxy:3128"


def test_config_module_does_not_import_textual() -> None:
    code = "import sys, shiftdeck.config; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_config_can_be_built_directly_for_tests() -> None:
    config = Config(alertmanagers=(), keymap={"ack_alert": "a"})
    assert config.keymap["ack_alert"] == "a" and config.severity is DEFAULT_POLICY


# -- ack and silences ------------------------------------------------------------ #


def test_ack_and_silences_default_to_the_dataclass_defaults() -> None:
    config = load_config_text(MINIMAL, environ={})
    assert config.ack == AckSettings()
    assert config.silences == SilenceSettings()
    assert [str(m) for m in config.silences.protected] == ['category="security"']
    assert config.masked()["ack"] == {"duration": "15m", "max_duration": "12h", "extend": True,
                                      "until_resolved": True}
    assert config.masked()["silences"] == {"protected": ['category="security"'],
                                           "warn_before": "5m"}


def test_sample_config_sets_ack_and_silences() -> None:
    config = load_config(SAMPLE, environ={})
    assert config.ack == AckSettings(timedelta(minutes=15), timedelta(hours=12), True)
    assert config.silences == SilenceSettings()


def test_ack_settings_are_read() -> None:
    config = load_config_text(MINIMAL + "ack: {duration: 10m, max_duration: 4h, extend: false}\n",
                              environ={})
    assert config.ack == AckSettings(timedelta(minutes=10), timedelta(hours=4), False)


def test_protected_matchers_are_concatenated() -> None:
    text = MINIMAL + "silences:\n  protected: ['category=security', 'team=~\"sec.*\"']\n" \
        "  warn_before: 30m\n"
    settings = load_config_text(text, environ={}).silences
    assert [str(m) for m in settings.protected] == ['category="security"', 'team=~"sec.*"']
    assert settings.warn_before == timedelta(minutes=30)


def test_empty_protected_list_protects_nothing() -> None:
    config = load_config_text(MINIMAL + "silences: {protected: []}\n", environ={})
    assert config.silences.protected == ()


def test_bad_protected_matcher_reports_file_line_and_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "silences:\n  protected:\n    - 'x=~\"(\"'\n")
    assert (err.line, err.key) == (6, "silences.protected[0]")
    assert "invalid regex" in err.reason


def test_protected_matcher_on_shiftdeck_filter_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "silences: {protected: ['@level=P1']}\n")
    assert (err.line, err.key) == (4, "silences.protected[0]")
    assert "not a label" in err.reason


def test_ack_max_duration_shorter_than_duration_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "ack:\n  duration: 1h\n  max_duration: 30m\n")
    assert (err.line, err.key) == (6, "ack.max_duration")
    assert "shorter than duration" in err.reason


def test_ack_duration_must_be_positive(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "ack: {duration: 0s}\n")
    assert (err.key, err.reason) == ("ack.duration", "must be longer than 0s")


def test_unknown_key_in_ack_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "ack: {extends: true}\n")
    assert err.key == "ack.extends" and "did you mean 'extend'" in err.reason


# -- on call: timezone, people, rotations, overrides, schedules_ics, escalation, notify --------- #

ROSTER = MINIMAL + """\
timezone: Europe/Berlin
people:
  alice: {name: Alice Ng, handle: "@alice", phone: "+49 1", email: alice@example.com}
  bob: {name: Bob Okafor}
  carol:
rotations:
  - role: primary
    members: [alice, bob]
    start: 2026-01-05T09:00
    length: 1w
"""


def test_roster_escalation_and_notify_are_read() -> None:
    from datetime import UTC, datetime

    from shiftdeck.domain.escalation import NotifySettings, Step

    text = ROSTER + (
        "overrides:\n  - {role: primary, person: carol, from: 2026-11-23T09:00, "
        "until: '2026-11-24T09:00+01:00'}\n"
        "escalation:\n  P1:\n    - {after: 0m, notify: primary}\n"
        "    - {after: 15m, notify: bob}\n  default: []\n"
        "notify: {min_interval: 1m, desktop: true, levels: [P1]}\n"
    )
    config = load_config_text(text, environ={})
    assert config.timezone.key == "Europe/Berlin"
    roster = config.roster
    assert roster.people["carol"].name == "carol" and roster.people["alice"].handle == "@alice"
    (rotation,) = roster.rotations
    assert (rotation.members, rotation.start, rotation.length, rotation.timezone.key) == (
        ("alice", "bob"), datetime(2026, 1, 5, 9), timedelta(weeks=1), "Europe/Berlin")
    (override,) = roster.overrides
    assert (override.start, override.end) == (datetime(2026, 11, 23, 8, tzinfo=UTC),
                                              datetime(2026, 11, 24, 8, tzinfo=UTC))
    assert roster.holder("primary", datetime(2026, 11, 23, 12, tzinfo=UTC)).id == "carol"
    assert config.escalation.ladder("P1") == (Step(timedelta(0), "primary"),
                                              Step(timedelta(minutes=15), "bob"))
    assert config.escalation.ladder("P3") == ()
    assert config.notify == NotifySettings(timedelta(minutes=1), True, True, ("P1",))


def test_on_call_defaults() -> None:
    from shiftdeck.domain.escalation import NotifySettings

    config = load_config_text(MINIMAL, environ={})
    assert config.timezone.key == "UTC" and config.roster.roles() == ()
    assert config.escalation.ladders == {} and config.notify == NotifySettings()
    assert config.schedules_ics == ()


def test_sample_config_has_a_roster_and_ladders() -> None:
    config = load_config(SAMPLE, environ={})
    assert config.roster.roles() == ("primary", "secondary", "manager")
    assert [s.notify for s in config.escalation.ladder("P1")] == [
        "primary", "secondary", "manager", "frank"]


def test_unknown_person_in_a_rotation_reports_file_line_and_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER.replace("[alice, bob]", "[alice,\n      bobb]"))
    assert (err.line, err.key) == (12, "rotations[0].members[1]")
    assert "unknown person 'bobb'" in err.reason and "did you mean 'bob'" in err.reason


def test_unknown_person_in_an_override(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER + "overrides:\n  - {role: primary, person: zed, "
                     "from: 2026-11-23T09:00, until: 2026-11-24T09:00}\n")
    assert (err.line, err.key) == (15, "overrides[0].person") and "unknown person" in err.reason


def test_empty_rotation_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER.replace("[alice, bob]", "[]"))
    assert (err.line, err.key) == (11, "rotations[0].members") and "empty rotation" in err.reason


def test_rotation_length_must_be_positive(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER.replace("length: 1w", "length: 0s"))
    assert (err.line, err.key) == (13, "rotations[0].length")


def test_two_rotations_for_one_role_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER + "  - {role: primary, members: [bob], "
                     "start: 2026-01-05T09:00, length: 1d}\n")
    assert (err.line, err.key) == (14, "rotations[1]") and "already has a rotation" in err.reason


def test_overlapping_overrides_for_one_role_are_an_error(tmp_path: Path) -> None:
    text = ROSTER + (
        "overrides:\n"
        "  - {role: primary, person: bob, from: 2026-11-23T09:00, until: 2026-11-24T09:00}\n"
        "  - {role: other, person: bob, from: 2026-11-23T09:00, until: 2026-11-24T09:00}\n"
        "  - {role: primary, person: alice, from: 2026-11-24T08:00, until: 2026-11-25T09:00}\n"
    )
    err = load_error(tmp_path, text)
    assert (err.line, err.key) == (17, "overrides[2]")
    assert "overlaps overrides[0] (line 15) for role 'primary'" in err.reason


def test_override_must_end_after_it_starts(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER + "overrides:\n  - {role: primary, person: bob, "
                     "from: 2026-11-23T09:00, until: 2026-11-23T09:00}\n")
    assert err.key == "overrides[0].until" and err.reason == "must be after from"


@pytest.mark.parametrize("text, line, key", [
    ("timezone: Europe/Berln\n", 4, "timezone"),
    ("rotations:\n  - {role: x, members: [a], start: 2026-01-05T09:00, length: 1d, "
     "timezone: Mars/Base}\npeople: {a: }\n", 5, "rotations[0].timezone"),
])
def test_unknown_timezone_is_an_error(tmp_path: Path, text: str, line: int, key: str) -> None:
    err = load_error(tmp_path, MINIMAL + text)
    assert (err.line, err.key) == (line, key) and "unknown time zone" in err.reason


def test_unknown_timezone_suggests_a_close_name(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "timezone: Europe/Berln\n")
    assert "did you mean 'Europe/Berlin'" in err.reason


def test_bad_rotation_start_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER.replace("2026-01-05T09:00", "next monday"))
    assert (err.line, err.key) == (12, "rotations[0].start") and "not a time" in err.reason


def test_unknown_escalation_target_is_an_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER + "escalation:\n  P1:\n    - {after: 0m, notify: primary}\n"
                     "    - {after: 15m, notify: secondary}\n")
    assert (err.line, err.key) == (17, "escalation.P1[1].notify")
    assert "unknown role or person 'secondary'" in err.reason


def test_escalation_level_must_exist_and_steps_be_in_order(tmp_path: Path) -> None:
    err = load_error(tmp_path, ROSTER + "escalation:\n  P9: []\n")
    assert (err.line, err.key) == (15, "escalation.P9") and "unknown level 'P9'" in err.reason
    err = load_error(tmp_path, ROSTER + "escalation:\n  P1:\n    - {after: 15m, notify: bob}\n"
                     "    - {after: 5m, notify: alice}\n")
    assert (err.line, err.key) == (17, "escalation.P1[1].after") and "in order" in err.reason


def test_escalation_target_both_role_and_person_is_ambiguous(tmp_path: Path) -> None:
    text = ROSTER.replace("role: primary", "role: bob") + (
        "escalation:\n  P1:\n    - {after: 0m, notify: bob}\n")
    err = load_error(tmp_path, text)
    assert err.key == "escalation.P1[0].notify" and "both a role and a person" in err.reason


def test_notify_levels_must_exist(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "notify: {levels: [P1, SEV1]}\n")
    assert (err.line, err.key) == (4, "notify.levels[1]") and "unknown level" in err.reason


def test_ics_feeds_are_read_and_their_roles_known_to_escalation(tmp_path: Path) -> None:
    (tmp_path / "oncall.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    text = ROSTER + (
        "schedules_ics:\n"
        f"  - {{role: db, url: 'webcal://pd.example/private/{SECRET}/feed?x=1', "
        f"headers: {{Authorization: 'Token {SECRET}'}}, refresh: 30m, levels: {{L2: db-2}}}}\n"
        "  - {role: web, file: oncall.ics}\n"
        "escalation:\n  default:\n    - {after: 0m, notify: db}\n    - {after: 5m, notify: db-2}\n"
    )
    config = load_config(write(tmp_path, text), environ={})
    pd, web = config.schedules_ics
    assert (pd.role, pd.name, pd.refresh, dict(pd.levels)) == (
        "db", "pd.example", timedelta(minutes=30), {"L2": "db-2"})
    assert pd.headers["Authorization"] == f"Token {SECRET}"
    assert web.file == str(tmp_path / "oncall.ics") and web.name == "oncall.ics"
    assert config.roster.roles() == ("primary", "db", "db-2", "web")
    assert SECRET not in repr(config) and SECRET not in repr(config.masked())
    assert config.masked()["schedules_ics"][0]["url"] == "webcal://pd.example/***"


@pytest.mark.parametrize("feed, key, reason", [
    ("{role: db}", "schedules_ics[0]", "needs url or file"),
    ("{role: db, url: 'ftp://x/feed'}", "schedules_ics[0].url", "expected a URL"),
    ("{role: db, file: /nonexistent/x.ics}", "schedules_ics[0].file", "no such file"),
    ("{role: db, url: 'https://x/f', refresh: 10s}", "schedules_ics[0].refresh", "at least 1m"),
    ("{role: db, url: 'https://x/f', levels: {second: x}}", "schedules_ics[0].levels.second",
     "not a level"),
])
def test_bad_ics_feed(tmp_path: Path, feed: str, key: str, reason: str) -> None:
    err = load_error(tmp_path, MINIMAL + f"schedules_ics:\n  - {feed}\n")
    assert (err.line, err.key) == (5, key) and reason in err.reason


def test_masked_shows_the_on_call_sections() -> None:
    masked = load_config_text(ROSTER, environ={}).masked()
    assert masked["timezone"] == "Europe/Berlin"
    assert masked["rotations"] == [{"role": "primary", "members": ["alice", "bob"],
                                    "start": "2026-01-05T09:00", "length": "1w",
                                    "timezone": "Europe/Berlin"}]
    assert masked["notify"] == {"min_interval": "30s", "bell": True, "desktop": False,
                                "levels": ["P1", "P2"]}


# -- journal ----------------------------------------------------------------- #


def test_journal_defaults_to_xdg_state_home(tmp_path: Path) -> None:
    config = load_config_text(MINIMAL, environ={"XDG_STATE_HOME": str(tmp_path)})
    assert config.journal == tmp_path / "shiftdeck" / "journal.jsonl"
    home = load_config_text(MINIMAL, environ={"HOME": "/home/alice"})
    assert home.journal == Path("/home/alice/.local/state/shiftdeck/journal.jsonl")


def test_journal_path_expands_env_and_home_and_is_relative_to_the_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from_env = load_config_text(MINIMAL + "journal: ${STATE}/j.jsonl\n",
                                environ={"STATE": "/srv/oncall"})
    assert from_env.journal == Path("/srv/oncall/j.jsonl")
    assert load_config_text(MINIMAL + "journal: ~/j.jsonl\n", environ={}).journal == (
        tmp_path / "home" / "j.jsonl")
    relative = load_config(write(tmp_path, MINIMAL + "journal: logs/j.jsonl\n"), environ={})
    assert relative.journal == tmp_path / "logs" / "j.jsonl"
    assert relative.masked()["journal"] == str(tmp_path / "logs" / "j.jsonl")


def test_journal_that_is_a_directory_reports_file_line_and_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + f"journal: {tmp_path}\n")
    assert (err.line, err.key) == (4, "journal")
    assert "is a directory" in err.reason and "journal.jsonl" in err.reason


def test_journal_must_not_be_empty(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "journal: ''\n")
    assert (err.line, err.key, err.reason) == (4, "journal", "must not be empty")


# -- runbooks, commands, kubernetes --------------------------------------------- #

def test_investigation_sections_default_to_nothing_configured() -> None:
    config = load_config_text(MINIMAL, environ={})
    assert config.runbooks == RunbookSettings()
    assert config.commands == CommandSettings()
    assert config.commands.timeout == timedelta(seconds=30)
    assert config.commands.patterns.read_only == DEFAULT_READ_ONLY
    assert config.kubernetes == KubernetesSettings()


def test_sample_config_loads_wherever_init_writes_it(tmp_path: Path) -> None:
    copy = tmp_path / "config.yaml"
    copy.write_text(SAMPLE.read_text())
    config = load_config(copy, environ={})
    assert config.runbooks.dirs == ()
    assert config.kubernetes.selectors["service"] == "app.kubernetes.io/name"


def test_runbooks_section_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "rb").mkdir()
    (tmp_path / "rb" / "shared.md").write_text("# shared\n")
    text = MINIMAL + (
        "runbooks:\n"
        "  dirs: [rb]\n"
        "  base_url: https://wiki.example/runbooks/\n"
        "  map: {A: shared.md, B: 'https://wiki.example/b?raw=1', C: /etc/hostname}\n")
    config = load_config(write(tmp_path, text), environ={})
    assert config.runbooks.dirs == (tmp_path / "rb",)
    assert config.runbooks.base_url == "https://wiki.example/runbooks/"
    assert dict(config.runbooks.map) == {"A": "shared.md", "B": "https://wiki.example/b?raw=1",
                                         "C": "/etc/hostname"}
    assert config.masked()["runbooks"]["dirs"] == [str(tmp_path / "rb")]
    assert config.masked()["runbooks"]["map"]["B"] == "https://wiki.example/b?***"


@pytest.mark.parametrize("section, line, key, reason", [
    ("runbooks:\n  dirs: [nowhere]\n", 5, "runbooks.dirs[0]", "no such directory"),
    ("runbooks:\n  base_url: ftp://x/\n", 5, "runbooks.base_url", "expected a URL"),
    ("runbooks:\n  map: {A: x.md}\n", 5, "runbooks.map.A", "a relative path is looked up"),
    ("runbooks:\n  dirs: [.]\n  map: {A: x.md}\n", 6, "runbooks.map.A",
     "'x.md' is in none of runbooks.dirs"),
    ("runbooks:\n  map: {A: ../x.md}\n", 5, "runbooks.map.A", "must not use '..'"),
    ("runbooks:\n  map: {A: 'file:///x'}\n", 5, "runbooks.map.A", "http(s) URL or a file path"),
    ("runbooks:\n  dir: [.]\n", 5, "runbooks.dir", "did you mean 'dirs'"),
])
def test_bad_runbooks_section(tmp_path: Path, section: str, line: int, key: str,
                              reason: str) -> None:
    err = load_error(tmp_path, MINIMAL + section)
    assert (err.line, err.key) == (line, key) and reason in err.reason


def test_commands_patterns_are_added_to_the_built_in_ones() -> None:
    config = load_config_text(MINIMAL + (
        "commands:\n  timeout: 1m\n  read_only: ['mytool status']\n"
        "  dangerous: ['kubectl get +-w']\n"), environ={})
    assert config.commands.timeout == timedelta(minutes=1)
    assert config.commands.patterns == CommandPatterns(
        DEFAULT_READ_ONLY + ("mytool status",), DEFAULT_DANGEROUS + ("kubectl get +-w",))
    assert config.masked()["commands"]["read_only"][-1] == "mytool status"
    bare = load_config_text(MINIMAL + "commands: {defaults: false, read_only: [ls]}\n",
                            environ={})
    assert bare.commands.patterns == CommandPatterns(("ls",), ())


@pytest.mark.parametrize("section, line, key, reason", [
    ("commands:\n  dangerous: ['kubectl get -o']\n", 5, "commands.dangerous[0]",
     "bad command pattern: '-o': options are not positional"),
    ("commands:\n  dangerous: ['']\n", 5, "commands.dangerous[0]", "must not be empty"),
    ("commands:\n  timeout: 0s\n", 5, "commands.timeout", "must be longer than 0s"),
])
def test_bad_commands_section(tmp_path: Path, section: str, line: int, key: str,
                              reason: str) -> None:
    err = load_error(tmp_path, MINIMAL + section)
    assert (err.line, err.key) == (line, key) and reason in err.reason


def test_kubernetes_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    text = MINIMAL + (
        "kubernetes:\n  kubeconfig: kubeconfig\n  contexts: {prod-eu: qawave-prod-eu}\n"
        "  selectors: {component: app.kubernetes.io/component}\n  timeout: 5s\n")
    config = load_config(write(tmp_path, text), environ={})
    assert config.kubernetes.kubeconfig == str(tmp_path / "kubeconfig")
    assert dict(config.kubernetes.contexts) == {"prod-eu": "qawave-prod-eu"}
    assert dict(config.kubernetes.selectors) == {"component": "app.kubernetes.io/component"}
    assert config.kubernetes.timeout == timedelta(seconds=5)
    assert config.masked()["kubernetes"]["timeout"] == "5s"


@pytest.mark.parametrize("section, line, key, reason", [
    ("kubernetes:\n  kubeconfig: nope\n", 5, "kubernetes.kubeconfig", "no such file"),
    ("kubernetes:\n  selectors: {service: 'not a key'}\n", 5, "kubernetes.selectors.service",
     "not a Kubernetes label key"),
    ("kubernetes:\n  selectors: {bad-label: app}\n", 5, "kubernetes.selectors.bad-label",
     "not an alert label name"),
    ("kubernetes:\n  contexts: {prod: ''}\n", 5, "kubernetes.contexts.prod", "must not be empty"),
    ("kubernetes:\n  timeout: soon\n", 5, "kubernetes.timeout", "not a duration"),
])
def test_bad_kubernetes_section(tmp_path: Path, section: str, line: int, key: str,
                                reason: str) -> None:
    err = load_error(tmp_path, MINIMAL + section)
    assert (err.line, err.key) == (line, key) and reason in err.reason


# --------------------------------------------------------------------------- #
# Hostile config files (issue 11): bounded YAML, values in range, strings safe to draw
# --------------------------------------------------------------------------- #


def merge_bomb(levels: int = 7, width: int = 6) -> str:
    """A few hundred bytes whose nested merge keys ask for width**(levels+2) keys."""
    node = "&a0 {" + ", ".join(f"k{i}: {i}" for i in range(width)) + "}"
    for level in range(1, levels + 1):
        node = f"&a{level} {{<<: [{node}" + f", *a{level - 1}" * (width - 1) + "]}"
    return "<<: [" + node + f", *a{levels}" * (width - 1) + "]\n"


@pytest.mark.timeout(5)
def test_yaml_merge_key_bomb_is_refused_at_once(tmp_path: Path) -> None:
    text = merge_bomb()
    assert len(text) < 400
    err = load_error(tmp_path, text + MINIMAL)
    assert err.line == 1
    assert "merge keys (<<) bring in more than 10000 keys: a config never needs this many" \
        in err.reason


@pytest.mark.timeout(5)
def test_too_many_yaml_aliases_are_refused(tmp_path: Path) -> None:
    text = MINIMAL + "key_labels: &l [pod]\n" + "".join(
        f"x{i}: *l\n" for i in range(150))
    err = load_error(tmp_path, text)
    assert err.line == 5 + 100  # the 101st alias
    assert err.reason == "too many YAML aliases (more than 100): a config never needs this many"


@pytest.mark.timeout(5)
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "title: " + "[" * 5000 + "]" * 5000 + "\n")
    assert err.line == 4 and "nested more than 64 levels deep" in err.reason


def test_a_few_aliases_and_merges_still_work() -> None:
    text = ("alertmanagers:\n"
            "  - &am {name: a, url: 'http://127.0.0.1:9093', timeout: 3s}\n"
            "  - {<<: *am, name: b}\n")
    config = load_config_text(text)
    assert [(u.name, u.timeout) for u in config.alertmanagers] == [
        ("a", timedelta(seconds=3)), ("b", timedelta(seconds=3))]


@pytest.mark.parametrize("section, key, reason", [
    ("refresh: 9999999999d\n", "refresh", "'9999999999d' is too long: at most 1d"),
    ("refresh: 2d\n", "refresh", "at most 1d"),
    ("resolved_retention: 99999999999999999999999w\n", "resolved_retention",
     "too long: at most 3650d"),
    ("ack: {duration: 99999999d}\n", "ack.duration", "too long: at most 3650d"),
    ("commands: {timeout: 2h}\n", "commands.timeout", "too long: at most 1h"),
    ("kubernetes: {timeout: 9999999999d}\n", "kubernetes.timeout", "too long: at most 1h"),
    ("silences: {warn_before: 99999999d}\n", "silences.warn_before", "too long"),
    ("severities: [{level: P1, ack_within: 99999999d}]\n", "severities[0].ack_within",
     "too long"),
])
def test_durations_out_of_range_are_config_errors(tmp_path: Path, section: str, key: str,
                                                  reason: str) -> None:
    err = load_error(tmp_path, MINIMAL + section)
    assert (err.line, err.key) == (4, key) and reason in err.reason


def test_upstream_timeout_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + "    timeout: 9999999999d\n")
    assert (err.line, err.key) == (4, "alertmanagers[0].timeout")
    assert "too long" in err.reason


@pytest.mark.parametrize("change, key, reason", [
    (("length: 1w", "length: 99999999w"), "rotations[0].length", "too long"),
    (("length: 1w", "length: 1m"), "rotations[0].length", "must be at least 1h"),
    (("start: 2026-01-05T09:00", "start: 9999-12-31T23:59"), "rotations[0].start",
     "out of range: give a time between 1970 and 2200"),
    (("start: 2026-01-05T09:00", "start: 0001-01-01T00:00+14:00"), "rotations[0].start",
     "out of range"),
])
def test_roster_values_out_of_range_are_config_errors(tmp_path: Path, change: tuple[str, str],
                                                      key: str, reason: str) -> None:
    err = load_error(tmp_path, ROSTER.replace(*change))
    assert err.key == key and reason in err.reason


def test_ics_refresh_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    feed = "schedules_ics:\n  - {role: primary, file: feed.ics, refresh: 9999999999d}\n"
    (tmp_path / "feed.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    err = load_error(tmp_path, MINIMAL + feed)
    assert err.key == "schedules_ics[0].refresh" and "too long" in err.reason


HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\x1b]52;c;cHduZWQ=\x07\r\x00x"
SAFE = "]0;pwned[2J31mevil]52;c;cHduZWQ=x"


def _quoted(text: str) -> str:
    import yaml

    return yaml.safe_dump(text, allow_unicode=False).strip().removesuffix("...").strip()


def test_displayed_config_strings_are_sanitised(tmp_path: Path) -> None:
    q = _quoted(HOSTILE)
    text = f"""title: {q}
user: {q}
alertmanagers:
  - {{name: {_quoted(HOSTILE + "a")}, cluster: {q}, url: 'http://127.0.0.1:9093'}}
prometheus:
  - {{name: {q}, url: 'http://127.0.0.1:9090'}}
severities: [{{level: {q}, match: ['severity=critical']}}]
key_labels: [pod]
people:
  {q}: {{name: {q}, handle: {q}, phone: {q}, email: {q}}}
rotations:
  - {{role: {_quoted(HOSTILE + "r")}, members: [{q}], start: 2026-01-05T09:00, length: 1w}}
"""
    config = load_config(write(tmp_path, text), environ={})
    am, = config.alertmanagers
    person, = config.roster.people.values()
    shown = [config.title, config.user, am.name, am.cluster, config.prometheus[0].name,
             config.severity.levels[0].level, person.id, person.name, person.handle,
             person.phone, person.email, config.roster.rotations[0].role]
    assert shown == [SAFE, SAFE, SAFE + "a", SAFE, SAFE, SAFE, SAFE, SAFE, SAFE, SAFE, SAFE,
                     SAFE + "r"]


def test_env_expansions_are_sanitised_too() -> None:
    config = load_config_text(MINIMAL + "title: '${T}'\n", environ={"T": "a\x1b[2Jb\nc"})
    assert config.title == "a[2Jb c"


def test_secrets_and_header_values_stay_byte_exact(tmp_path: Path) -> None:
    secret = "p\x1b\u202e\x9bw"
    text = f"""alertmanagers:
  - name: a
    url: 'http://127.0.0.1:9093'
    basic_auth: {{username: {_quoted(secret)}, password: {_quoted(secret)}}}
    headers: {{X-Scope-OrgID: {_quoted(secret)}}}
  - name: b
    url: 'http://127.0.0.1:9094'
    bearer_token: '${{TOKEN}}'
"""
    config = load_config(write(tmp_path, text), environ={"TOKEN": secret})
    a, b = config.alertmanagers
    assert a.basic_auth is not None
    assert (a.basic_auth.username, a.basic_auth.password) == (secret, secret)
    assert a.headers["X-Scope-OrgID"] == secret
    assert b.bearer_token == secret


@pytest.mark.parametrize("section, key, what", [
    ("journal: \"/tmp/j\\e]0;x\\a.jsonl\"\n", "journal", "a path"),
    ("kubernetes: {kubeconfig: \"/tmp/k\\x9b\"}\n", "kubernetes.kubeconfig", "a path"),
    ("runbooks: {dirs: [\"/tmp/\\u202e\"]}\n", "runbooks.dirs[0]", "a path"),
])
def test_control_characters_in_paths_are_refused_not_removed(tmp_path: Path, section: str,
                                                             key: str, what: str) -> None:
    err = load_error(tmp_path, MINIMAL + section)
    assert (err.line, err.key) == (4, key)
    assert err.reason == f"{what} must not contain control characters"


def test_control_characters_in_urls_are_refused(tmp_path: Path) -> None:
    err = load_error(tmp_path, "alertmanagers:\n  - {name: a, url: \"http://h\\e]0;x\\a/\"}\n")
    assert err.key == "alertmanagers[0].url"
    assert err.reason == "a URL must not contain control characters"


def test_config_errors_carry_no_control_sequences(tmp_path: Path) -> None:
    err = load_error(tmp_path, MINIMAL + f"{_quoted(HOSTILE)}: 1\n")
    message = str(err)
    assert "unknown key" in message
    assert not any(c in message for c in "\x1b\x07\x9b\u202e\r\x00")

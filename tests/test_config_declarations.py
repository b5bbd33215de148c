"""One declaration per setting: every field is declared, shown by masked(), secrets masked.

The keys a section allows and its masked() dump are derived from the declarations
(shiftdeck/config/declare.py). These tests make forgetting one impossible: a new field on a
config dataclass (ours or the domain's) without a declaration, a declared field missing from
masked(), or a secret field without a way to prove it is masked, each fail here.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shiftdeck.domain.escalation import EscalationPolicy
from shiftdeck.config import Config, ConfigError, load_config, load_config_text
from shiftdeck.config.declare import Setting, declare, declared, file_keys, read_section, setting
from shiftdeck.config.mask import masked_section, show
from shiftdeck.config.upstreams import PROMETHEUS_OMITS, BasicAuth, TLSConfig, Upstream
from shiftdeck.config.walker import Context, compose
from shiftdeck.domain.matchers import Matcher
from shiftdeck.domain.roster import IcsFeed
from shiftdeck.domain.runbooks import RunbookSettings

SECRET = "s3cr3t-hunter2"
MINIMAL = "alertmanagers:\n  - name: prod\n    url: http://127.0.0.1:9093\n"

FULL = f"""\
user: ops
title: Night
refresh: 30s
alertmanagers:
  - name: a
    url: https://am.example:9093/alertmanager
    cluster: eu
    headers: {{X-Scope-OrgID: t1, Authorization: "Bearer {SECRET}"}}
    basic_auth: {{username: u, password_file: pw}}
    tls: {{ca_file: ca.pem, cert_file: cert.pem, key_file: key.pem, insecure_skip_verify: true}}
    proxy: http://me:{SECRET}@proxy:3128
    timeout: 5s
    read_only: true
    max_bytes: 16MiB
prometheus:
  - {{name: p, url: "http://prom:9090", bearer_token: {SECRET}}}
pagerduty:
  - {{name: pd, url: "http://127.0.0.1:9", token_file: pw, from: ops@example.com,
     services: [PSVC1], teams: [PTEAM1], escalation_policies: [PEP1],
     levels: {{1: primary, L2: secondary}}, timeout: 5s, max_bytes: 1MiB, read_only: true}}
severities:
  - {{level: P1, match: ['severity="critical"'], ack_within: 5m, resolve_within: 1h,
     update_every: 30m, max_silence: 1h, silence_approval: true}}
  - {{level: P2}}
key_labels: [namespace]
theme: high-contrast
keymap: {{ack_alert: A}}
resolved_retention: 5m
read_only: false
ack: {{duration: 10m, max_duration: 4h, extend: false}}
silences: {{protected: ['team="sec"'], warn_before: 5m}}
timezone: Europe/Berlin
people:
  alice: {{name: Alice, handle: "@alice", phone: "1", email: a@x}}
  bob:
rotations:
  - {{role: primary, members: [alice, bob], start: 2026-01-05T09:00, length: 1w, timezone: UTC}}
overrides:
  - {{role: primary, person: bob, from: 2026-02-01T09:00, until: 2026-02-02T09:00}}
schedules_ics:
  - {{role: secondary, url: "https://pd.example/{SECRET}.ics", headers: {{X-Token: {SECRET}}},
     refresh: 2h, timeout: 20s, levels: {{L2: manager}}, name: pd, max_bytes: 1MiB}}
  - {{role: tertiary, file: feed.ics}}
escalation:
  P1: [{{after: 0s, notify: primary}}, {{after: 15m, notify: manager}}]
  P2: []
  default: {{pagerduty: PEP2}}
notify: {{min_interval: 1m, bell: false, desktop: true, levels: [P1]}}
journal: j.jsonl
runbooks:
  dirs: [rb]
  base_url: https://wiki.example/rb/
  map: {{A: A.md, B: "https://wiki.example/b?token={SECRET}"}}
  trusted_origins: [https://wiki.example]
commands: {{timeout: 1m, defaults: false, read_only: [mytool status], dangerous: [mytool rm]}}
kubernetes:
  kubeconfig: kube.yaml
  contexts: {{eu: kind-eu}}
  selectors: {{service: app.kubernetes.io/name}}
  timeout: 5s
"""


@pytest.fixture()
def full(tmp_path: Path) -> Config:
    """A config that sets every key (so every section and every field has a value to show)."""
    (tmp_path / "pw").write_text(SECRET + "\n")
    for name in ("ca.pem", "cert.pem", "key.pem", "kube.yaml", "feed.ics"):
        (tmp_path / name).write_text("x")
    (tmp_path / "rb").mkdir()
    (tmp_path / "rb" / "A.md").write_text("# A")
    path = tmp_path / "config.yaml"
    path.write_text(FULL)
    return load_config(path, environ={})


# -- walking the declarations ----------------------------------------------- #

VALUES = {Matcher}
"""Dataclasses that are values, not sections: shown as they are written (str)."""


def dataclasses_in(hint: Any) -> Iterator[type]:
    """The dataclass types a type hint mentions (tuple[Upstream, ...], BasicAuth | None...)."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        yield hint
    for arg in typing.get_args(hint):
        yield from dataclasses_in(arg)


def init_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def reachable_sections() -> set[type]:
    """Every dataclass the config builds, found through the type hints from Config down.
    A dataclass without declarations (SeverityPolicy, EscalationPolicy) is a wrapper: its
    fields' types are followed."""
    seen: set[type] = set()
    todo: list[type] = [Config]
    while todo:
        cls = todo.pop()
        if cls in seen or cls in VALUES:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls)
        names = declared(cls) or {f.name: None for f in init_fields(cls)}
        for name in names:
            todo.extend(dataclasses_in(hints[name]))
    return seen


def test_every_field_of_every_config_dataclass_is_declared() -> None:
    sections = reachable_sections()
    assert {Config, Upstream, TLSConfig, BasicAuth, IcsFeed, RunbookSettings} <= sections
    undeclared = [f"{cls.__name__}.{f.name}" for cls in sections if declared(cls)
                  for f in init_fields(cls) if f.name not in declared(cls)]
    assert undeclared == [], "declare these (declare.py explains how)"
    wrappers = [cls.__name__ for cls in sections if not declared(cls)]
    assert sorted(wrappers) == ["EscalationPolicy", "SeverityPolicy"]


def shown_fields(value: Any, data: Any, omit: tuple[str, ...] = ()) -> Iterator[str]:
    """Walk a config value and its masked() data together; yield Class.field for each shown
    field, asserting its key is in the data."""
    cls = type(value)
    if cls in VALUES:
        assert data == str(value)
    elif isinstance(value, EscalationPolicy):  # its ladders; a PagerDuty level as its PagerLadder
        yield from shown_fields({k: v for k, v in value.ladders.items()
                                 if k not in value.from_pager},
                                {k: v for k, v in data.items() if k not in value.from_pager})
        for level, ladder in value.from_pager.items():
            yield from shown_fields(ladder, data[level])
    elif dataclasses.is_dataclass(value) and not declared(cls):  # a wrapper: shown as its field
        (only,) = init_fields(cls)
        yield from shown_fields(getattr(value, only.name), data)
    elif declared(cls):
        yield from _shown_section(value, data, omit)
    elif isinstance(value, (tuple, list)) and isinstance(data, list):
        assert len(value) == len(data)
        for item, item_data in zip(value, data):
            yield from shown_fields(item, item_data, omit)
    elif isinstance(value, Mapping) and isinstance(data, dict):
        for key, item in value.items():
            yield from shown_fields(item, data[key], omit)


def _shown_section(value: Any, data: dict[str, Any], omit: tuple[str, ...]) -> Iterator[str]:
    for name, s in declared(type(value)).items():
        if not s.shown or s.key in omit:
            continue
        inner = PROMETHEUS_OMITS if s.key == "prometheus" else ()
        if s.spread:
            yield from shown_fields(getattr(value, name), data, inner)
        else:
            assert s.key in data, f"{type(value).__name__}.{name}: {s.key!r} not in masked()"
            yield from shown_fields(getattr(value, name), data[s.key], inner)
        yield f"{type(value).__name__}.{name}"


def test_masked_shows_every_declared_field_of_every_section(full: Config) -> None:
    shown = set(shown_fields(full, full.masked()))
    expected = {f"{cls.__name__}.{name}" for cls in reachable_sections()
                for name, s in declared(cls).items() if s.shown}
    assert expected - shown == set()


def test_masked_has_exactly_the_declared_keys(full: Config) -> None:
    masked = full.masked()
    assert list(masked) == ["source", *file_keys(Config)]
    secondary = ("bearer_token_file",)
    assert list(masked["alertmanagers"][0]) == [
        k for k in file_keys(Upstream) if k not in secondary]
    assert list(masked["prometheus"][0]) == [
        k for k in file_keys(Upstream, PROMETHEUS_OMITS) if k not in secondary]
    assert list(masked["alertmanagers"][0]["basic_auth"]) == ["username", "password"]


# -- secrets ---------------------------------------------------------------- #

SECRET_SAMPLES: dict[str, object] = {
    "Upstream.headers": {"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET},
    "Upstream.bearer_token": SECRET,
    "PagerDuty.token": SECRET,
    "Upstream.proxy": f"http://me:{SECRET}@proxy:3128",
    "BasicAuth.password": SECRET,
    "IcsFeed.url": f"https://pd.example/private/{SECRET}.ics",
    "IcsFeed.headers": {"X-Anything": SECRET},
    "RunbookSettings.map": {"A": f"https://wiki.example/a?token={SECRET}",
                            "B": f"https://me:{SECRET}@wiki.example/b"},
}
"""A value holding SECRET for every field declared secret=True: a new secret needs one."""


def secret_settings() -> dict[str, Setting]:
    return {f"{cls.__name__}.{name}": s for cls in reachable_sections()
            for name, s in declared(cls).items() if s.secret}


def test_every_secret_field_has_a_sample_and_its_show_hides_it() -> None:
    secrets = secret_settings()
    assert set(secrets) == set(SECRET_SAMPLES), "add a sample for each new secret field"
    for where, s in secrets.items():
        assert s.show is not None, f"{where}: a secret needs a show that hides it"
        assert SECRET not in repr(show(s, SECRET_SAMPLES[where])), where


def test_every_secret_field_is_left_out_of_repr() -> None:
    """repr(config) ends up in tracebacks and logs: a secret field must not be in it."""
    in_repr = [f"{cls.__name__}.{f.name}" for cls in reachable_sections()
               for f in dataclasses.fields(cls)
               if f.repr and f.name in declared(cls) and declared(cls)[f.name].secret]
    assert in_repr == []


def test_no_secret_of_a_full_config_reaches_masked_or_repr(full: Config) -> None:
    assert SECRET not in repr(full.masked())
    assert SECRET not in repr(full)
    assert full.alertmanagers[0].basic_auth == BasicAuth("u", SECRET)
    assert full.pagerduty[0].token == SECRET


# -- keys derived from the declarations ------------------------------------- #


def load_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "c.yaml", environ={})
    return caught.value


@pytest.mark.parametrize(("text", "key", "cls", "omit"), [
    ("alertmanagers:\n  - {name: a, url: 'http://x', colour: red}\n",
     "alertmanagers[0].colour", Upstream, ()),
    ("prometheus:\n  - {name: a, url: 'http://x', cluster: eu}\n",
     "prometheus[0].cluster", Upstream, PROMETHEUS_OMITS),
    (MINIMAL + "schedules_ics:\n  - {role: r, file: /x, colour: red}\n",
     "schedules_ics[0].colour", IcsFeed, ()),
    (MINIMAL + "colour: red\n", "colour", Config, ()),
])
def test_unknown_key_errors_list_the_declared_keys(text: str, key: str, cls: type,
                                                   omit: tuple[str, ...]) -> None:
    err = load_error(text)
    assert err.key == key
    assert err.reason.endswith(f"(allowed: {', '.join(file_keys(cls, omit))})")


def test_top_level_keys_include_the_on_call_and_spread_sections() -> None:
    keys = file_keys(Config)
    assert {"people", "rotations", "overrides", "severities", "escalation"} <= set(keys)
    assert "source" not in keys and "roster" not in keys and "severity" not in keys


def test_declaring_a_field_that_does_not_exist_is_refused() -> None:
    @dataclass(frozen=True)
    class Toy:
        duration: int = 0

    with pytest.raises(TypeError, match="durration"):
        declare(Toy, durration=Setting())


def test_a_new_setting_needs_only_its_field() -> None:
    """The mechanism, on a toy section: keys, parsing, required, masking all from metadata."""

    @dataclass(frozen=True)
    class Toy:
        name: str = field(metadata=setting(parse=lambda v: v.text(), required=True))
        token: str = field(default="", metadata=setting(parse=lambda v: v.raw_text(),
                                                        secret=True, show=lambda t: "***"))

    root = compose(f"name: n\ntoken: {SECRET}\n", Context("t.yaml", {}, Path(".")))
    _, parsed = read_section(root, Toy)
    toy = Toy(**parsed)
    assert masked_section(toy) == {"name": "n", "token": "***"}
    with pytest.raises(ConfigError, match="did you mean 'token'"):
        read_section(compose("name: n\ntokn: x\n", Context("t.yaml", {}, Path("."))), Toy)
    with pytest.raises(ConfigError, match="required key is missing"):
        read_section(compose("token: x\n", Context("t.yaml", {}, Path("."))), Toy)

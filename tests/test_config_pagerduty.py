"""The `pagerduty:` section: keys, secrets, `from`, `levels`, and the sample's example."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from shiftdeck.config import ConfigError, load_config_text

AM = "alertmanagers: [{name: am, url: 'http://127.0.0.1:9093'}]\n"
SECRET = "pd-s3cr3t-token"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_config.yaml"


def load(section: str, tmp_path: Path | None = None):
    source = str(tmp_path / "c.yaml") if tmp_path else "c.yaml"
    return load_config_text(AM + section, source, environ={"PD_TOKEN": SECRET})


def error(section: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(section)
    return caught.value


def test_defaults_and_a_token_from_the_environment_never_shown() -> None:
    config = load("pagerduty:\n  - {name: pd, token: '${PD_TOKEN}'}\n")
    (pd,) = config.pagerduty
    assert (pd.url, pd.timeout, pd.from_email, pd.read_only) == (
        "https://api.pagerduty.com", timedelta(seconds=10), "", False)
    assert pd.token == SECRET
    assert SECRET not in repr(config) and SECRET not in repr(config.masked())
    assert config.masked()["pagerduty"][0]["token"] == "***"


def test_every_key_and_a_token_file(tmp_path: Path) -> None:
    (tmp_path / "pd").write_text(SECRET + "\n")
    config = load("pagerduty:\n  - name: pd\n    url: http://127.0.0.1:8080/\n"
                  "    token_file: pd\n    from: alice@example.com\n    services: [PSVC1]\n"
                  "    teams: [PT1]\n    escalation_policies: [PEP1]\n"
                  "    levels: {1: primary, L2: secondary}\n    timeout: 5s\n"
                  "    max_bytes: 1MiB\n    read_only: true\n", tmp_path)
    (pd,) = config.pagerduty
    assert pd.token == SECRET and pd.url == "http://127.0.0.1:8080"
    assert dict(pd.levels) == {1: "primary", 2: "secondary"}
    assert (pd.services, pd.teams, pd.escalation_policies) == (("PSVC1",), ("PT1",), ("PEP1",))
    assert (pd.max_bytes, pd.read_only) == (1 << 20, True)


@pytest.mark.parametrize(("section", "key", "reason"), [
    ("pagerduty:\n  - {name: pd}\n", "pagerduty[0]", "needs token or token_file"),
    ("pagerduty:\n  - {name: pd, token: a, token_file: b}\n", "pagerduty[0].token_file",
     "use either token or token_file"),
    ("pagerduty:\n  - {name: pd, token: t, from: alice}\n", "pagerduty[0].from",
     "expected the e-mail address of your PagerDuty user"),
    ("pagerduty:\n  - {name: pd, token: t, levels: {primary: x}}\n", "pagerduty[0].levels.primary",
     "not an escalation level: 'primary'"),
    ("pagerduty:\n  - {name: pd, token: t, services: ['P 1']}\n", "pagerduty[0].services[0]",
     "not a PagerDuty id"),
    ("pagerduty:\n  - {name: pd, token: t, url: 'ftp://x'}\n", "pagerduty[0].url",
     "expected a URL"),
    ("pagerduty:\n  - {name: pd, token: t, frm: a@b.c}\n", "pagerduty[0].frm",
     "did you mean 'from'?"),
    ("pagerduty:\n  - {name: pd, token: t}\n  - {name: pd, token: t}\n", "pagerduty[1]",
     "duplicate name 'pd'"),
])
def test_mistakes_say_where_and_why(section: str, key: str, reason: str) -> None:
    err = error(section)
    assert err.key == key
    assert reason in err.reason
    assert SECRET not in str(err)


def test_the_samples_example_loads_when_uncommented(tmp_path: Path) -> None:
    text = SAMPLE.read_text()
    block = text[text.index("pagerduty: []"):text.index("severities:")]
    example = re.sub(r"^  # ", "  ", block.replace("pagerduty: []", "pagerduty:"), flags=re.M)
    example = example.replace("token_file: /run/secrets/pd", "token: '${PD_TOKEN}'")
    (pd,) = load(example).pagerduty
    assert pd.name == "pd" and dict(pd.levels) == {1: "primary", 2: "secondary"}

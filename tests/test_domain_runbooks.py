"""domain.runbooks: where a runbook may be, front matter, templates, the generic checklist."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from shiftdeck.domain.runbooks import (
    UNKNOWN_MARK,
    RunbookSettings,
    fill_outside_commands,
    fill_template,
    front_matter_title,
    generic_checklist,
    runbook_candidates,
    runbook_names,
    runbook_plan,
    strip_front_matter,
    tried_section,
)

from .support.factories import make_alert

DIRS = (Path("/rb/one"), Path("/rb/two"))


def alert(name: str = "QAWaveBackendDown", annotations: dict[str, str] | None = None, **labels):
    labels = {"namespace": "qawave", "pod": "backend-7d9f8c6b5d-x2x4q", "service": "backend",
              **labels}
    base = make_alert(name, **labels)
    return replace(base, annotations=annotations or {}, value="0.083",
                   generator_url="http://prom.example:9090/graph?g0.expr=up&g0.tab=1")


# -- where to look -------------------------------------------------------------- #


def test_resolution_order_annotation_then_map_then_dirs_then_base_url() -> None:
    settings = RunbookSettings(dirs=DIRS, base_url="https://wiki.example/rb",
                               map={"QAWaveBackendDown": "/srv/backend.md"})
    found = runbook_candidates(
        alert(annotations={"runbook_url": "https://x.example/down.md", "runbook": "down.md"}),
        settings)
    assert found[:6] == [
        "https://x.example/down.md",          # runbook_url, as given
        "/rb/one/down.md", "/rb/two/down.md",  # runbook: a path, in each dir...
        "https://wiki.example/rb/down.md",     # ...then under base_url
        "/srv/backend.md",                     # runbooks.map
        "/rb/one/QAWaveBackendDown.md",        # then <dir>/<alertname>.md and its forms
    ]
    assert found[6:9] == ["/rb/one/qa-wave-backend-down.md", "/rb/one/qawavebackenddown.md",
                          "/rb/one/qa_wave_backend_down.md"]
    assert found[9] == "/rb/two/QAWaveBackendDown.md"
    assert found[-1] == "https://wiki.example/rb/qa_wave_backend_down.md"


def test_alertname_forms_kebab_case_keeps_acronyms_whole() -> None:
    assert runbook_names("QAWaveBackendDown")[:2] == ["QAWaveBackendDown", "qa-wave-backend-down"]
    assert "postgresql-down" in runbook_names("PostgreSQLDown")
    assert "postgre-sql-down" in runbook_names("PostgreSQLDown")   # every case boundary
    assert runbook_names("SLOErrorBudgetBurn")[1] == "slo-error-budget-burn"
    assert runbook_names("HighMemoryUsage") == ["HighMemoryUsage", "high-memory-usage",
                                                "highmemoryusage", "high_memory_usage"]


def test_an_alert_may_not_name_a_file_outside_the_runbook_dirs() -> None:
    places, skipped = runbook_plan(
        alert(annotations={"runbook_url": "/etc/passwd", "runbook": "../../etc/shadow"}),
        RunbookSettings(dirs=DIRS))
    assert not any("etc" in place for place in places)
    assert len(skipped) == 2 and all("ignored" in reason for reason in skipped)


def test_an_annotation_url_that_is_not_http_is_skipped_with_the_reason() -> None:
    places, skipped = runbook_plan(alert(annotations={"runbook_url": "file:///etc/passwd"}),
                                   RunbookSettings(dirs=DIRS))
    assert "file:///etc/passwd" not in places
    assert skipped == ["file:///etc/passwd: annotation runbook_url is not an http(s) URL or a path"]


def test_an_alertname_that_is_not_a_plain_name_is_never_a_file_name() -> None:
    assert runbook_candidates(alert("../../etc/passwd"), RunbookSettings(dirs=DIRS)) == []


def test_a_relative_path_with_nowhere_to_look_is_reported() -> None:
    places, skipped = runbook_plan(alert(annotations={"runbook": "x.md"}), RunbookSettings())
    assert places == [] and "neither runbooks.dirs nor runbooks.base_url" in skipped[0]


def test_nothing_configured_means_nothing_to_try() -> None:
    assert runbook_candidates(alert(), RunbookSettings()) == []


# -- front matter ------------------------------------------------------------------ #


def test_yaml_front_matter_is_stripped() -> None:
    text = "---\ntitle: Backend down\nowner: platform\n---\n\n# Backend down\nbody\n"
    assert strip_front_matter(text) == "# Backend down\nbody\n"
    assert front_matter_title(text) == "Backend down"


def test_toml_front_matter_is_stripped() -> None:
    assert strip_front_matter('+++\ntitle = "x"\n+++\n# T\n') == "# T\n"
    assert front_matter_title('+++\ntitle = "Quoted"\n+++\n# T\n') == "Quoted"


def test_text_without_front_matter_is_unchanged() -> None:
    for text in ("# T\n---\nx\n---\n", "---\nnever closed\n", "intro\n---\n"):
        assert strip_front_matter(text) == text
    assert front_matter_title("# T\n") == ""


# -- templates ---------------------------------------------------------------------- #


def test_prometheus_and_alertmanager_templates_are_filled() -> None:
    text = ("{{ $labels.namespace }} {{ .Labels.pod }} {{ index $labels \"service\" }} "
            "{{ $value }} {{ .Value }} {{- $externalLabels.severity -}} {{ $externalURL }} "
            "{{ .Annotations.summary }}")
    filled, unknown = fill_template(text, replace(alert(), annotations={"summary": "down"}))
    assert filled == ("qawave backend-7d9f8c6b5d-x2x4q backend 0.083 0.083 critical "
                      "http://prom.example:9090 down")
    assert unknown == ()


def test_template_pipes() -> None:
    filled, _ = fill_template("{{ $value | humanizePercentage }} {{ $labels.service | toUpper }}",
                              alert())
    assert filled == "8.3% BACKEND"


def test_an_unknown_variable_stays_visible_flagged_and_listed() -> None:
    filled, unknown = fill_template(
        "ctx {{ $labels.cluster }}, {{ .Foo }}, again {{ $labels.cluster }}", alert())
    assert filled == (f"ctx {{{{ $labels.cluster }}}}{UNKNOWN_MARK}, {{{{ .Foo }}}}{UNKNOWN_MARK}, "
                      f"again {{{{ $labels.cluster }}}}{UNKNOWN_MARK}")
    assert unknown == ("$labels.cluster", ".Foo")


def test_a_label_value_fills_in_as_one_line() -> None:
    filled, _ = fill_template("pod {{ $labels.pod }}!", alert(pod="a\nb\tc"))
    assert filled == "pod a b c!"


def test_shell_blocks_keep_their_templates_for_parse_command() -> None:
    markdown = ("Namespace {{ $labels.namespace }}.\n\n```bash\nkubectl get pods -n "
                "{{ $labels.namespace }} {{ $labels.cluster }}\n```\n\n```promql\n"
                "up{namespace=\"{{ $labels.namespace }}\"}\n```\n")
    shown, unknown = fill_outside_commands(markdown, alert())
    assert "Namespace qawave." in shown
    assert "kubectl get pods -n {{ $labels.namespace }} {{ $labels.cluster }}\n" in shown
    assert 'up{namespace="qawave"}' in shown
    assert unknown == ("$labels.cluster",)   # reported even from a shell block


# -- the generic checklist ---------------------------------------------------------- #


def test_generic_checklist_follows_the_level_and_lists_what_was_tried() -> None:
    p1 = generic_checklist("P1", ["/rb/x.md: no such file"])
    assert "15 minutes" in p1 and "Acknowledge" in p1 and "Escalate" in p1
    assert "kubectl get events -n {{ $labels.namespace }}" in p1   # a template, for parse_command
    assert "`/rb/x.md: no such file`" in p1
    assert "4 hours" in generic_checklist("P3")
    assert "Level X" in generic_checklist("X")


def test_tried_places_are_code_that_a_backtick_cannot_end() -> None:
    section = tried_section(["https://evil.example/`[x](http://y)`"])
    assert "``https://evil.example/`[x](http://y)```" not in section
    assert "`` https://evil.example/`[x](http://y)` ``" in section

"""domain.commands: commands found in runbooks, split into argv, checked and classified."""

from __future__ import annotations

import shlex

import pytest

from shiftdeck.domain.commands import (
    CommandPatterns,
    extract_commands,
    parse_command,
    parse_pattern,
)

from .support.factories import make_alert

ALERT = make_alert("QAWaveBackendDown", namespace="qawave", pod="backend-7d9f8c6b5d-x2x4q",
                   service="backend")
HOSTILE = ["x; touch /tmp/pwned", "$(id)", "--kubeconfig=/etc/x"]


def hostile(value: str):
    return make_alert("X", namespace=value, pod=value, service=value)


# -- finding commands ------------------------------------------------------------- #


def test_extract_drops_comments_blank_lines_and_prompts() -> None:
    markdown = ("```bash\n# check the pods\n\n$ kubectl get pods -n qawave\n"
                "kubectl get events   # newest last\n```\n")
    assert extract_commands(markdown) == ["kubectl get pods -n qawave",
                                          "kubectl get events   # newest last"]


def test_extract_joins_backslash_continuations() -> None:
    markdown = ("```sh\nkubectl set resources deployment/x \\\n  --limits=memory=2Gi \\\n"
                "  -n qawave\n```\n")
    assert extract_commands(markdown) == [
        "kubectl set resources deployment/x --limits=memory=2Gi -n qawave"]


def test_extract_keeps_a_quoted_string_across_lines() -> None:
    markdown = '```bash\npsql -c "\nSELECT 1\nFROM x;"\necho next\n```\n'
    assert extract_commands(markdown) == ['psql -c "\nSELECT 1\nFROM x;"', "echo next"]


def test_extract_console_blocks_skip_output_lines() -> None:
    markdown = ("```console\n$ kubectl get pods\nNAME      READY\nbackend   1/1\n"
                "# kubectl get nodes\n```\n")
    assert extract_commands(markdown) == ["kubectl get pods", "kubectl get nodes"]


def test_extract_only_shell_blocks_even_indented_in_lists() -> None:
    markdown = ("```promql\nup == 0\n```\n```python\nprint(1)\n```\n- step\n\n  ```shell\n"
                "  redis-cli PING\n  ```\n````bash\nls\n````\n")
    assert extract_commands(markdown) == ["redis-cli PING", "ls"]


def test_extract_groups_a_here_document_so_it_is_refused_whole() -> None:
    markdown = "```bash\ncat <<EOF\nrm -rf /\nEOF\nls\n```\n"
    found = extract_commands(markdown)
    assert found == ["cat <<EOF\nrm -rf /\nEOF", "ls"]
    assert parse_command(found[0], ALERT).needs_shell


# -- splitting and templating ----------------------------------------------------- #


def test_templates_are_filled_inside_single_argv_items() -> None:
    command = parse_command("kubectl get pods -n {{ $labels.namespace }} "
                            "-l app.kubernetes.io/name={{ $labels.service }}", ALERT)
    assert command.stages == (("kubectl", "get", "pods", "-n", "qawave", "-l",
                               "app.kubernetes.io/name=backend"),)
    assert command.text == "kubectl get pods -n qawave -l app.kubernetes.io/name=backend"
    assert (command.refused, command.needs_shell, command.dangerous) == ("", False, False)
    assert command.namespace == "qawave"


def test_quoting_follows_shlex() -> None:
    line = """grep -E "a b|c" 'it''s' x\\ y"""
    assert parse_command(line, ALERT).stages == (tuple(shlex.split(line)),)


def test_a_pipeline_becomes_stages() -> None:
    command = parse_command("kubectl logs -n qawave -l app=backend | grep ERROR | tail -50", ALERT)
    assert command.stages == (("kubectl", "logs", "-n", "qawave", "-l", "app=backend"),
                              ("grep", "ERROR"), ("tail", "-50"))
    assert not command.dangerous


def test_a_quoted_bar_is_not_a_pipe() -> None:
    assert parse_command("grep 'a|b' f", ALERT).stages == (("grep", "a|b", "f"),)


def test_a_trailing_comment_is_dropped() -> None:
    command = parse_command("kubectl get pods  # all of them", ALERT)
    assert command.stages == (("kubectl", "get", "pods"),)
    assert command.text == "kubectl get pods"


def test_an_unknown_variable_refuses_the_command() -> None:
    command = parse_command("kubectl get pods -n {{ $labels.cluster }}", ALERT)
    assert command.stages == ()
    assert "unknown template variable {{ $labels.cluster }}" in command.refused
    assert command.text.endswith("{{ $labels.cluster }}⟦unknown⟧")


def test_kube_context_and_kubeconfig_are_added_to_kubectl_stages() -> None:
    command = parse_command("kubectl get pods -n qawave | grep Running", ALERT,
                            context="prod-eu", kubeconfig="/k/config")
    assert command.stages[0][:3] == ("kubectl", "--context=prod-eu", "--kubeconfig=/k/config")
    assert command.stages[1] == ("grep", "Running")
    assert command.context == "prod-eu"
    explicit = parse_command("kubectl --context=lab get pods", ALERT, context="prod-eu")
    assert explicit.stages == (("kubectl", "--context=lab", "get", "pods"),)
    assert explicit.context == "lab" and explicit.dangerous   # the runbook chose the cluster


# -- classification --------------------------------------------------------------- #


@pytest.mark.parametrize("line", [
    "kubectl get pods -n qawave -l app.kubernetes.io/name=backend",
    "kubectl -n qawave get pods",
    "kubectl describe pod backend-0 -n qawave",
    "kubectl logs -n qawave -l app=backend --tail=100",
    "kubectl top pods -n qawave",
    "kubectl events -n qawave",
    "kubectl rollout history deployment/backend -n qawave",
    "kubectl rollout status deployment/backend -n qawave",
    "kubectl auth can-i list pods -n qawave",
    "curl -s http://prometheus:9090/api/v1/query?query=up",
    'curl -w "%{time_total}\\n" -o /dev/null -s http://localhost:8000/health',
    "promtool query instant http://prometheus:9090 up",
    "pg_isready -h db",
    'psql -c "SELECT count(*) FROM pg_stat_activity;"',
    "redis-cli PING",
    "redis-cli -h redis INFO stats",
])
def test_read_only_commands(line: str) -> None:
    command = parse_command(line, ALERT)
    assert command.refused == "" and not command.dangerous


@pytest.mark.parametrize("line", [
    "kubectl rollout undo deployment/backend -n qawave",
    "kubectl rollout restart deployment/backend -n qawave",
    "kubectl delete pod postgresql-0 -n qawave",
    "kubectl -n qawave delete pod postgresql-0",
    "kubectl scale deployment backend --replicas=5 -n qawave",
    "kubectl exec -it postgresql-0 -n qawave -- pg_isready",
    "kubectl set resources deployment/x --limits=memory=2Gi",
    "kubectl get secret db -o yaml",
    "kubectl drain node-1",                                   # not listed: not read-only
    "redis-cli FLUSHDB",
    "redis-cli flushall",
    'psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;"',
    'psql -c "SELECT 1; DROP TABLE users"',
    "curl -X POST http://x/api",
    "curl -d @body.json http://x/api",
    "curl -sd x=1 http://x/api",
    "curl --data-urlencode q=up http://x/api",
    "./scripts/rollback.sh",
    "./kubectl get pods",                                     # a path is not the kubectl we know
    "kubectl logs -n qawave app | sh",                        # one stage not read-only is enough
])
def test_dangerous_commands(line: str) -> None:
    command = parse_command(line, ALERT)
    assert command.refused == "" and command.dangerous


def test_configured_patterns_allow_exactly_the_shapes_written_and_dangerous_wins() -> None:
    patterns = CommandPatterns(read_only=("mytool status|health --all", "kubectl get ... -w"),
                               dangerous=("kubectl get +-w|--watch*",))
    assert not parse_command("mytool status --all", ALERT, patterns).dangerous
    assert parse_command("mytool status --all --verbose", ALERT, patterns).dangerous  # unnamed
    assert parse_command("mytool status extra", ALERT, patterns).dangerous  # no `...`
    assert parse_command("mytool restart", ALERT, patterns).dangerous
    assert not parse_command("kubectl get pods", ALERT, patterns).dangerous
    assert parse_command("kubectl get pods -n qawave", ALERT, patterns).dangerous  # -n unnamed
    assert parse_command("kubectl get pods -w", ALERT, patterns).dangerous
    assert parse_command("kubectl describe pods", ALERT, patterns).dangerous   # not in this list


def test_a_team_pattern_cannot_lift_the_floor() -> None:
    patterns = CommandPatterns(read_only=("kubectl get ... --kubeconfig=*",
                                          "curl ... -o|--output=*", "hostname ..."),
                               dangerous=())
    assert parse_command("kubectl get pods --kubeconfig=/tmp/k", ALERT, patterns).dangerous
    assert parse_command("curl -o /tmp/x http://x", ALERT, patterns).dangerous
    assert parse_command("hostname evil", ALERT, patterns).dangerous


def test_pattern_words() -> None:
    pattern = parse_pattern("curl !-d* +http*://*internal*")
    assert pattern.matches(["curl", "-s", "https://api.internal/x"])
    assert not pattern.matches(["curl", "-d", "x", "https://api.internal/x"])
    assert not pattern.matches(["curl", "https://example.com"])
    assert parse_pattern("redis-cli PING").matches(["redis-cli", "ping"])      # words ignore case
    assert not parse_pattern("curl !-X*").matches(["curl", "-X", "GET"])       # options do not
    assert parse_pattern("curl !-X*").matches(["curl", "-x", "proxy", "u"])


@pytest.mark.parametrize("text, reason", [
    ("", "an empty pattern"),
    ("+kubectl get", "first word names the program"),
    ("kubectl get -o", "options are not positional"),
    ("kubectl + get", "needs a glob"),
    ("kubectl get ...", "is for read_only patterns"),
    ("kubectl +-w get", "must come before"),
    ("kubectl get||describe", "empty alternative"),
])
def test_bad_patterns(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_pattern(text)


@pytest.mark.parametrize("text, reason", [
    ("kubectl get ... pods", "must come before"),
    ("kubectl get -o=", "give the value's shape"),
    ("kubectl get -o|wide=x", "must be an option"),
])
def test_bad_read_only_patterns(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_pattern(text, read_only=True)


# -- shell syntax is refused ------------------------------------------------------ #


@pytest.mark.parametrize("line, what", [
    ("kubectl get pvc -n qawave && kubectl get pv", "`&&`"),
    ("kubectl get pods || true", "`||`"),
    ("kubectl get pods; kubectl get pv", "`;`"),
    ("sleep 10 &", "`&`"),
    ("echo $(id)", "`$( )`"),
    ('echo "$(id)"', "`$( )`"),
    ("echo `id`", "command substitution"),
    ("psql -h $DB_HOST -c 'SELECT 1'", "`$DB_HOST`"),
    ("kubectl get pods > /tmp/pods", "redirection `>`"),
    ("kubectl get pods >> /tmp/pods", "redirection `>>`"),
    ("kubectl logs x 2> /dev/null", "redirection `2>`"),
    ("kubectl logs x 2>&1", "redirection `2>&1`"),
    ("wc -l < /tmp/x", "redirection `<`"),
    ("cat <<EOF", "here-document"),
    ("(cd /tmp)", "subshell"),
    ("export KUBECONFIG=~/.kube/x", "`export` is a shell builtin"),
    ("KUBECONFIG=/x kubectl get pods", "variable assignment"),
    ("ls ~/.kube", "`~` expansion"),
    ("echo {a,b}", "brace expansion"),
    ("kubectl logs x |& grep y", "`|&`"),
])
def test_shell_syntax_needs_a_shell_and_is_refused(line: str, what: str) -> None:
    command = parse_command(line, ALERT)
    assert command.needs_shell and command.stages == () and command.dangerous
    assert command.refused.startswith("needs a shell (")
    assert what in command.refused
    assert command.refused.endswith(": copied to clipboard instead")


def test_quoted_shell_characters_are_plain_text() -> None:
    command = parse_command("""echo 'a && b; $(id) `x` > y' "semi;colon" 'cost: $5'""", ALERT)
    assert command.stages == (("echo", "a && b; $(id) `x` > y", "semi;colon", "cost: $5"),)


def test_unbalanced_quotes_are_refused() -> None:
    command = parse_command("echo 'oops", ALERT)
    assert command.refused == "unbalanced ' quote" and not command.needs_shell


# -- label values cannot inject --------------------------------------------------- #


@pytest.mark.parametrize("value", HOSTILE)
def test_label_values_in_kubectl_must_be_kubernetes_names(value: str) -> None:
    command = parse_command("kubectl get pods -n {{ $labels.namespace }}", hostile(value))
    assert command.stages == () and command.dangerous
    assert command.refused
    assert "-n" in command.refused
    if not value.startswith("-"):
        assert command.refused == (f"label value {value!r} ({{{{ $labels.namespace }}}}) in -n "
                                   "is not a valid Kubernetes name")


def test_a_label_value_in_an_option_value_is_checked_too() -> None:
    command = parse_command("kubectl get pods --namespace={{ $labels.namespace }}",
                            hostile("x; touch /tmp/pwned"))
    assert "in --namespace={{ $labels.namespace }}" in command.refused


@pytest.mark.parametrize("value", ["x; touch /tmp/pwned", "$(id)", "a b | sh"])
def test_other_programs_get_a_label_value_as_one_argv_item(value: str) -> None:
    command = parse_command("grep {{ $labels.pod }} /var/log/app.log | tail -5", hostile(value))
    assert command.refused == ""
    assert command.stages == (("grep", value, "/var/log/app.log"), ("tail", "-5"))


def test_an_option_like_label_value_is_never_passed_as_an_option() -> None:
    command = parse_command("grep -e {{ $labels.pod }} f", hostile("--kubeconfig=/etc/x"))
    assert command.stages == ()
    assert command.refused == ("option-like value '--kubeconfig=/etc/x' from a label "
                               "({{ $labels.pod }}) in -e: a label value may not start with '-'")


def test_a_label_value_may_not_name_the_program() -> None:
    command = parse_command("{{ $labels.pod }} --version", ALERT)
    assert command.stages == ()
    assert command.refused == "a label value may not name the program ({{ $labels.pod }})"


def test_the_clipboard_only_gets_label_values_that_are_inert_in_a_shell() -> None:
    command = parse_command("kubectl get pods -n {{ $labels.namespace }} && kubectl get pvc "
                            "-n {{ $labels.namespace }}", ALERT)
    assert command.clipboard == "kubectl get pods -n qawave && kubectl get pvc -n qawave"
    bad = parse_command("kubectl get pods -n {{ $labels.namespace }} && true",
                        hostile("x; touch /tmp/pwned"))
    assert bad.clipboard == "kubectl get pods -n {{ $labels.namespace }} && true"


def test_the_built_in_patterns_are_parsed_once_not_per_command(monkeypatch) -> None:
    from shiftdeck.domain import commands

    parse_command("kubectl get pods", ALERT)  # whatever the first use costs
    parsed: list[str] = []
    real = commands.parse_pattern
    monkeypatch.setattr(commands, "parse_pattern",
                        lambda text, **kw: parsed.append(text) or real(text, **kw))
    for _ in range(3):
        assert not parse_command("kubectl get pods -n {{ $labels.namespace }}", ALERT).dangerous
    assert parsed == []

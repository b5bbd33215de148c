import pytest
"""The runbook screen: commands classified, run safely inline, journaled; refusals explained."""

import re
from dataclasses import replace
from pathlib import Path

from shiftdeck.domain.journal import Kind
from shiftdeck.screens.confirm import ConfirmScreen
from shiftdeck.screens.runbook import RunbookScreen

from .support.app_factory import SEED_ALERTS, loaded, make_app, write_runbooks
from .support.runbooks import RUNBOOK
from .support.screen import screen_text
from .support.waiting import wait_until


def _app(tmp_path: Path, **config):
    return make_app(runbooks=write_runbooks(tmp_path, RUNBOOK), **config)


async def _open_runbook(pilot) -> RunbookScreen:
    await loaded(pilot)
    await pilot.press("r")
    screen = pilot.app.screen
    assert isinstance(screen, RunbookScreen)
    await wait_until(pilot, lambda: screen.commands)
    return screen


def _output(screen) -> str:
    return "\n".join(screen.output_lines)


@pytest.mark.slow
async def test_r_shows_the_runbook_with_its_commands_templated_and_classified(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_runbook(pilot)
        texts = [c.text for c in screen.commands]
        assert texts[0] == "kubectl version --client"
        assert texts[1] == "kubectl rollout undo deployment/backend -n qawave"
        assert [bool(c.refused) for c in screen.commands] == [False, False, True]
        assert [c.dangerous for c in screen.commands][:2] == [False, True]


@pytest.mark.slow
async def test_enter_runs_a_read_only_command_streams_output_and_journals_it(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_runbook(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "── exit 0" in _output(screen))
        assert "Client Version" in _output(screen)
        (record,) = [r for r in app.records if r.kind is Kind.COMMAND]
        assert record.data["argv"] == ("kubectl", "version", "--client")
        assert record.data["exit_code"] == 0


@pytest.mark.slow
async def test_a_dangerous_command_asks_first_showing_argv_and_where(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_runbook(pilot)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        body = str(app.screen.query_one("#confirm-body").render())
        assert "['kubectl', 'rollout', 'undo', 'deployment/backend', '-n', 'qawave']" in body
        assert "namespace: qawave" in body
        await pilot.press("n")
        assert isinstance(app.screen, RunbookScreen)
        assert not [r for r in app.records if r.kind is Kind.COMMAND]


@pytest.mark.slow
async def test_read_only_refuses_dangerous_commands(tmp_path):
    app = _app(tmp_path, read_only="true")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_runbook(pilot)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, RunbookScreen)
        assert "read-only" in _output(screen)


@pytest.mark.slow
async def test_a_command_that_needs_a_shell_is_copied_not_run(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_runbook(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert "needs a shell" in _output(screen)
        assert any("Command copied to the clipboard" in n for n in app.notified)
        assert not [r for r in app.records if r.kind is Kind.COMMAND]


@pytest.mark.slow
async def test_a_hostile_label_value_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    hostile = replace(SEED_ALERTS[0], labels={**SEED_ALERTS[0].labels,
                                             "namespace": f"x; touch {marker}"})
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, (hostile,))
        await pilot.press("r")
        screen = app.screen
        await wait_until(pilot, lambda: screen.commands)
        undo = screen.commands[1]
        assert undo.refused and "not a valid Kubernetes name" in undo.refused
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: "✗ " in _output(screen))  # refused, not run
        await app.workers.wait_for_complete()
    assert not marker.exists()


@pytest.mark.slow
async def test_no_runbook_says_where_it_looked_and_shows_the_checklist(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("j", "r")  # PostgreSQLDown has no runbook here
        screen = app.screen
        title = screen.query_one("#runbook-title")
        await wait_until(pilot, lambda: "no runbook" in str(title.render()))
        markdown = screen.query_one("#runbook-markdown").source
        assert "postgresql-down.md: no such file" in markdown  # where it looked, and why not
        assert "No runbook: the P1 checklist" in markdown


async def test_runbook_kubectl_reaches_the_configured_cluster(tmp_path):
    from .support.kube_server import CRASHING, cluster

    with cluster(tmp_path) as (_server, kubeconfig):
        books = tmp_path / "books"
        books.mkdir()
        (books / "QAWaveBackendDown.md").write_text(
            "```bash\nkubectl get pods -n {{ $labels.namespace }}\n```\n")
        app = make_app(roster=False, runbooks=books, kubeconfig=kubeconfig)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _open_runbook(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: "── exit 0" in _output(screen))
            assert CRASHING in _output(screen)


@pytest.mark.slow
async def test_a_runbook_is_fetched_once_per_alert(tmp_path, monkeypatch):
    import shiftdeck.services.runbooks as investigate

    calls = []
    real = investigate.load_runbook

    async def counting(alert, settings, client=None):
        calls.append(alert.name)
        return await real(alert, settings, client)

    monkeypatch.setattr(investigate, "load_runbook", counting)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_runbook(pilot)
        await pilot.press("escape", "r")
        await wait_until(pilot, lambda: pilot.app.screen.commands)
    assert calls == ["QAWaveBackendDown"]


def _slow_kubectl_app(tmp_path, kubeconfig, **config):
    books = tmp_path / "books"
    books.mkdir()
    (books / "QAWaveBackendDown.md").write_text(
        "```bash\nkubectl get pods -n {{ $labels.namespace }}\n```\n")
    return make_app(roster=False, runbooks=books, kubeconfig=kubeconfig, **config)


async def test_a_cancelled_command_says_cancelled_after_how_long(tmp_path):
    from .support.kube_server import cluster

    with cluster(tmp_path) as (server, kubeconfig):
        server.delay(20.0, "pods")
        app = _slow_kubectl_app(tmp_path, kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_runbook(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.running and "$ kubectl" in _output(screen))
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: "── " in _output(screen) and not screen.running)
            last = _output(screen).splitlines()[-1]
            assert "exit None" not in last
            assert re.fullmatch(r"── cancelled after \d+\.\ds", last), last


@pytest.mark.slow
async def test_a_command_that_runs_out_of_time_says_it_was_killed(tmp_path):
    from .support.kube_server import cluster

    with cluster(tmp_path) as (server, kubeconfig):
        server.delay(20.0, "pods")
        app = _slow_kubectl_app(tmp_path, kubeconfig, extra="commands: {timeout: 1s}\n")
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_runbook(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: "── " in _output(screen) and not screen.running)
            last = _output(screen).splitlines()[-1]
            assert re.fullmatch(r"── killed after 1\.\ds: it ran out of its 1s timeout", last), last


@pytest.mark.slow
async def test_output_wraps_and_takes_the_screen_with_z(tmp_path):
    from .support.kube_server import cluster

    with cluster(tmp_path) as (_server, kubeconfig):
        books = tmp_path / "books"
        books.mkdir()
        (books / "QAWaveBackendDown.md").write_text(
            "```bash\nkubectl get pods -n {{ $labels.namespace }} -o wide "
            "-l app.kubernetes.io/name=backend,app.kubernetes.io/part-of=wrap-me-please-end\n```\n")
        app = make_app(roster=False, runbooks=books, kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_runbook(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: "── exit" in _output(screen))
            assert len(_output(screen).splitlines()[0]) > 80  # the "$ command" line
            await wait_until(pilot, lambda: "wrap-me-please-end" in screen_text(app))
            await pilot.press("z")
            await wait_until(pilot, lambda: screen.query_one("#runbook-output").size.height >= 18)
            assert not screen.query_one("#runbook-commands").display
            assert "wrap-me-please-end" in screen_text(app)
            await pilot.press("z")
            await wait_until(pilot, lambda: screen.query_one("#runbook-commands").display)


@pytest.mark.slow
async def test_the_dangerous_confirm_names_context_and_cluster_at_80x24(tmp_path):
    from .support.kube_server import cluster

    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(runbooks=write_runbooks(tmp_path, RUNBOOK), kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_runbook(pilot)
            await pilot.press("down", "enter")
            assert isinstance(app.screen, ConfirmScreen)
            text = screen_text(app)
            assert "kube context: prod" in text and "cluster: prod" in text
            assert "namespace: qawave" in text
            await pilot.press("n")


async def test_ctrl_c_with_no_command_running_quits_from_the_runbook(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_runbook(pilot)
        await pilot.press("ctrl+c")
        assert app.return_code is not None

"""Issue 11, part 1, in the app: only `y` runs a dangerous command, the confirm names the real
kube context and cluster, an alert-supplied runbook's commands are copied, never run."""

from dataclasses import replace
from pathlib import Path

import pytest

from shiftdeck.domain.journal import Kind
from shiftdeck.screens.confirm import ConfirmScreen
from shiftdeck.screens.runbook import RunbookScreen

from .support.app_factory import SEED_ALERTS, loaded, make_app, write_runbooks
from .support.recorders import Recorder
from .support.waiting import wait_until

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: lab-ctx
contexts:
- name: lab-ctx
  context: {cluster: lab-cluster, user: me}
clusters:
- name: lab-cluster
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: me
  user: {token: x}
"""


def _app(tmp_path: Path, runbook: str, **config):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    return make_app(runbooks=write_runbooks(tmp_path, runbook), kubeconfig=kubeconfig, **config)


async def _open(pilot, alerts=None) -> RunbookScreen:
    await loaded(pilot, alerts) if alerts else await loaded(pilot)
    await pilot.press("r")
    screen = pilot.app.screen
    assert isinstance(screen, RunbookScreen)
    await wait_until(pilot, lambda: screen.commands)
    return screen


def _output(screen) -> str:
    return "\n".join(screen.output_lines)


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_enter_enter_runs_nothing_and_y_runs_the_dangerous_command(tmp_path):
    marker = tmp_path / "ran"
    app = _app(tmp_path, f"```bash\ntouch {marker}\n```\n")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        assert screen.commands[0].dangerous
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter", "space")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)       # still asking: enter is not yes
        await pilot.press("y")
        await wait_until(pilot, lambda: "── exit 0" in _output(screen))
    assert marker.exists()


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_the_confirm_shows_the_kubeconfigs_real_context_and_cluster(tmp_path):
    app = _app(tmp_path, "```bash\nkubectl delete pod x -n {{ $labels.namespace }}\n```\n")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        body = str(app.screen.query_one("#confirm-body").render())
        assert "kube context: lab-ctx" in body and "cluster: lab-cluster" in body
        assert "namespace: qawave" in body and "(current)" not in body
        assert "'--context=lab-ctx'" in body           # pinned: what is shown is what runs
        await pilot.press("n")
        assert app.screen is screen


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_read_only_refuses_before_any_confirm(tmp_path):
    marker = tmp_path / "ran"
    app = _app(tmp_path, f"```bash\ntouch {marker}\n```\n", read_only="true")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "read-only" in _output(screen))
        assert app.screen is screen
    assert not marker.exists()


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_an_alert_supplied_runbook_is_shown_but_its_commands_only_copied(tmp_path):
    server = Recorder()
    try:
        alert = replace(SEED_ALERTS[0], annotations={
            **SEED_ALERTS[0].annotations, "runbook_url": f"{server.url}/rb.md?token=hunter2"})
        app = _app(tmp_path, "# never read: the annotation wins\n")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _open(pilot, (alert,))
            assert "came from the alert's runbook_url (127.0.0.1)" in _output(screen)
            title = str(screen.query_one("#runbook-title").render())
            assert "hunter2" not in title and "copy only" in title
            assert all(c.refused and not c.stages for c in screen.commands)
            await pilot.press("enter")
            await wait_until(pilot, lambda: any("copied" in n
                                                for n in app.notified))
            assert not [r for r in app.records if r.kind is Kind.COMMAND]
    finally:
        server.close()


@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_a_runbook_with_thousands_of_commands_offers_the_first_200(tmp_path):
    lines = "\n".join(f"echo {n}" for n in range(5000))
    app = _app(tmp_path, f"```bash\n{lines}\n```\n")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        assert len(screen.commands) == 200
        options = screen.query_one("#runbook-commands")
        assert "4800 more commands not offered" in str(options.get_option_at_index(200).prompt)

"""Every command the demo's runbooks offer to run without asking works against the demo."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from shiftdeck.clock import FrozenClock
from shiftdeck.config import load_config_text
from shiftdeck.demo import DemoEnvironment
from shiftdeck.demo.alertmanager_api import generator_url
from shiftdeck.domain.alerts import Alert, AlertState
from shiftdeck.domain.commands import runbook_commands
from shiftdeck.sources.runbooks import load_runbook
from shiftdeck.sources.runner import Runner

from .support.demo_time import T0


def _alerts(demo: DemoEnvironment) -> list[Alert]:
    """Every alert the demo's rules can raise, as the app sees it (labels, annotations, the
    generatorURL that `{{ $externalURL }}` comes from)."""
    return [Alert(status.fingerprint, dict(status.labels), dict(status.annotations),
                  AlertState.FIRING, T0,
                  generator_url=generator_url(demo.prometheus_url, status.actor.rule.expr))
            for status in demo.scenario.status_at(T0)]


async def _run_all(demo: DemoEnvironment, tmp_path: Path) -> tuple[dict[str, str], int]:
    config = load_config_text(demo.config_text(), source="(demo)", environ={})
    runner, failures, ran = Runner(), {}, set()
    for alert in _alerts(demo):
        runbook = await load_runbook(alert, config.runbooks)
        if not runbook.found:
            continue
        commands, _ = runbook_commands(runbook.commands, alert, config.commands.patterns,
                                       context="demo", kubeconfig=str(demo.kubeconfig_path))
        for command in commands:
            if command.dangerous or command.refused or command.needs_shell:
                continue
            if command.stages in ran:
                continue
            ran.add(command.stages)
            result = await runner.run(command, lambda _line: None, timedelta(seconds=20))
            if result.exit_code != 0:
                failures[command.text] = (f"{runbook.title}: exit {result.exit_code}: "
                                          + " | ".join(result.output[-3:]))
    return failures, len(ran)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_every_read_only_command_of_every_demo_runbook_exits_0(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with DemoEnvironment(FrozenClock(T0)) as demo:
        failures, ran = asyncio.run(_run_all(demo, tmp_path))
    assert ran >= 20
    assert failures == {}, "\n".join(f"{k}\n    {v}" for k, v in failures.items())

"""Investigating an alert: its runbook and commands, and Kubernetes diagnostics. A mixin of
ShiftdeckApp: the I/O (httpx, subprocesses, the kubernetes client in thread workers) happens
here; the screens only show what they are given."""

from __future__ import annotations

import asyncio

from textual import work
from textual.content import Content

from .domain.alerts import Alert
from .domain.commands import KUBE_PROGRAMS, Command, runbook_commands
from .domain.durations import format_duration
from .domain.journal import command_record
from .domain.kube import scope_for
from .domain.runbooks import Runbook
from .screens.confirm import RunConfirmScreen
from .screens.diagnostics import DiagnosticsScreen
from .screens.runbook import RunbookScreen
from .sources.kube import KubeClient, KubeError
from .sources.runbooks import load_runbook
from .sources.runner import KubeTarget, Runner, kube_target


class InvestigateMixin:
    # -- runbooks and their commands -----------------------------------------------------

    def show_runbook(self, alert: Alert) -> None:
        self.push_screen(RunbookScreen(alert))

    @work(group="runbook", exclusive=True)
    async def load_runbook_for(self, screen: RunbookScreen) -> None:
        """The alert's runbook (fetched once per alert and session), its commands parsed in a
        thread: a 1 MiB runbook must not stop the dashboard."""
        runbook = self._runbooks.get(screen.alert.fingerprint)
        if runbook is None:
            runbook = await load_runbook(screen.alert, self.config.runbooks)
            if runbook.found:
                self._runbooks[screen.alert.fingerprint] = runbook
        commands, more, target = await asyncio.to_thread(
            self._prepare_commands, runbook, screen.alert)
        screen.kube_target = target
        screen.show_runbook(runbook, commands, more)

    def _prepare_commands(self, runbook: Runbook, alert: Alert
                          ) -> tuple[list[Command], int, KubeTarget]:
        """Blocking (a thread): the kubeconfig read, the runbook's commands parsed. Commands
        come from the template (never from the filled text), so a label value is put into
        exactly one argument; kubectl gets the alert's context, else the kubeconfig's current
        one, named explicitly so that the confirm shows where it will run."""
        scope = scope_for(alert, self.config.kubernetes)
        target = kube_target(self.kube.kubeconfig_path())
        commands, more = runbook_commands(
            runbook.commands, alert, self.config.commands.patterns,
            context=scope.context or target.current,
            kubeconfig=str(self.config.kubernetes.kubeconfig or ""), untrusted=runbook.untrusted)
        return commands, more, target

    def run_runbook_command(self, screen: RunbookScreen, command: Command) -> None:
        if command.refused:
            # The clipboard text fills in only values that are harmless in any shell.
            self.copy_text(command.clipboard, "Command")
            screen.output(f"✗ {command.refused}")
            return
        if not command.dangerous:
            self._run_command(screen, command)
            return
        if self.config.read_only:
            screen.output("✗ read-only: dangerous commands are refused")
            return
        self.push_screen(RunConfirmScreen("Run this dangerous command?",
                                          Content(confirm_text(command, screen.alert,
                                                               screen.kube_target))),
                         lambda yes: self._run_command(screen, command) if yes else None)

    @work(group="command")
    async def _run_command(self, screen: RunbookScreen, command: Command) -> None:
        screen.running = True
        screen.output(f"$ {command.text}")
        self._runner = Runner()
        try:
            result = await self._runner.run(command, screen.output, self.config.commands.timeout)
        except (OSError, ValueError) as err:
            screen.output(f"✗ could not run: {err}")
            return
        finally:
            screen.running = False
        how = " (timed out)" if result.timed_out else " (cancelled)" if result.cancelled else ""
        screen.output(f"── exit {result.exit_code} in {format_duration(result.duration) or '0s'}"
                      f"{how}{' (output truncated)' if result.truncated else ''}")
        argv = [arg for i, stage in enumerate(command.stages)
                for arg in (["|"] if i else []) + list(stage)]
        self.record(command_record(screen.alert, self.config.user, self.clock.now(), argv,
                                   result.exit_code, result.duration))

    def cancel_runbook_command(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    # -- Kubernetes diagnostics ----------------------------------------------------------

    def show_diagnostics(self, alert: Alert) -> None:
        self.push_screen(DiagnosticsScreen(alert, scope_for(alert, self.config.kubernetes)))

    @property
    def kube(self) -> KubeClient:
        if self._kube is None:
            self._kube = KubeClient(self.config.kubernetes)
        return self._kube

    @work(group="kube", thread=True, exclusive=True)
    def diagnose(self, screen: DiagnosticsScreen) -> None:
        now = self.clock.now()
        diagnostics = self.kube.diagnose(screen.scope, now)
        self.call_from_thread(screen.show_diagnostics, diagnostics, now)

    @work(group="kube-logs", thread=True, exclusive=True)
    def pod_logs(self, screen: DiagnosticsScreen, pod: str, previous: bool) -> None:
        try:
            lines = self.kube.logs(screen.scope, pod, previous=previous)
        except KubeError as err:
            lines = [f"✗ {err}"]
        self.call_from_thread(screen.show_logs, pod, previous, lines)


def confirm_text(command: Command, alert: Alert, target: KubeTarget | None) -> str:
    """What the confirm shows: the text, each stage's exact argv, and where it runs."""
    argv = "\n".join(f"  argv: {list(stage)!r}" for stage in command.stages)
    kube = any(stage[0].rsplit("/", 1)[-1] in KUBE_PROGRAMS for stage in command.stages)
    if not kube:
        return f"{command.text}\n{argv}\n  runs on this machine, as you"
    target = target or KubeTarget()
    context = command.context or f"none found ({target.problem or 'no current-context'})"
    cluster = target.cluster_of(command.context) or "unknown"
    label = alert.labels.get("cluster", "")
    mapped = f" (alert cluster label: {label})" if label else ""
    return (f"{command.text}\n{argv}\n  kube context: {context}   cluster: {cluster}{mapped}\n"
            f"  namespace: {command.namespace or '(the context default)'}")

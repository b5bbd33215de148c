"""An alert's runbook, fetched once per alert and session, with its commands prepared."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

from ..domain.alerts import Alert
from ..domain.commands import Command, runbook_commands
from ..domain.kube import KubeTarget, scope_for
from ..domain.runbooks import Runbook
from ..sources.kube import KubeClient
from ..sources.runbooks import load_runbook
from ..sources.runner import kube_target


@dataclass(frozen=True, slots=True)
class PreparedRunbook:
    runbook: Runbook
    commands: list[Command]
    more: int
    """Commands beyond the cap, not offered."""
    target: KubeTarget
    """Where kubectl commands go."""


class RunbookLoader:
    def __init__(self, config: Any, kube: Callable[[], KubeClient]) -> None:
        self._config = config
        self._kube = kube
        self._cache: dict[str, Runbook] = {}

    def prune(self, alive: Container[str]) -> None:
        """Forget the runbooks of alerts no longer on the board."""
        for fingerprint in [fp for fp in self._cache if fp not in alive]:
            del self._cache[fingerprint]

    async def load(self, alert: Alert) -> PreparedRunbook:
        """The runbook (or the level's checklist) and its commands, parsed in a thread: a
        1 MiB runbook must not stop the dashboard."""
        runbook = self._cache.get(alert.fingerprint)
        if runbook is None:
            runbook = await load_runbook(alert, self._config.runbooks)
            if runbook.found:
                self._cache[alert.fingerprint] = runbook
        return await asyncio.to_thread(self._prepare, runbook, alert)

    def _prepare(self, runbook: Runbook, alert: Alert) -> PreparedRunbook:
        """Blocking: the kubeconfig read, the commands parsed. Commands come from the template
        (never from the filled text), so a label value is put into exactly one argument;
        kubectl gets the alert's context, else the kubeconfig's current one, named explicitly
        so that the confirm shows where it will run."""
        scope = scope_for(alert, self._config.kubernetes)
        target = kube_target(self._kube().kubeconfig_path())
        commands, more = runbook_commands(
            runbook.commands, alert, self._config.commands.patterns,
            context=scope.context or target.current,
            kubeconfig=str(self._config.kubernetes.kubeconfig or ""),
            untrusted=runbook.untrusted)
        return PreparedRunbook(runbook, commands, more, target)

"""DemoEnvironment: a demo Alertmanager and Prometheus on loopback, for `shiftdeck --demo`."""

from __future__ import annotations

import json
import os
from types import TracebackType

from shiftdeck.clock import Clock

from .alertmanager_api import AlertmanagerApi
from .prometheus_api import PrometheusApi
from .scenario import Scenario, build_scenario
from .server import LoopbackServer
from .silences import SilenceStore


class DemoEnvironment:
    """Two real HTTP servers (127.0.0.1, free ports, daemon threads) answering like
    Alertmanager 0.25 and Prometheus 2.42, driven by the scenario and the injected clock.

        with DemoEnvironment(SystemClock()) as demo:
            config = demo.config_text()
    """

    def __init__(self, clock: Clock, seed: int = 7, scenario: Scenario | None = None) -> None:
        self.clock = clock
        self.seed = seed
        self.scenario = scenario if scenario is not None else build_scenario(seed)
        self.silences = SilenceStore(clock, seed)
        self.silences.add_seeds(self.scenario.silences)
        self._alertmanager: LoopbackServer | None = None
        self._prometheus: LoopbackServer | None = None

    def start(self) -> None:
        if self._alertmanager is not None:
            return
        prometheus = LoopbackServer("prometheus")
        try:
            alertmanager = LoopbackServer("alertmanager")
        except OSError:
            prometheus.stop()
            raise
        prometheus.start(PrometheusApi(self.scenario, self.clock))
        alertmanager.start(
            AlertmanagerApi(self.scenario, self.silences, self.clock, prometheus.url, self.clock.now())
        )
        self._prometheus, self._alertmanager = prometheus, alertmanager

    def stop(self) -> None:
        for server in (self._alertmanager, self._prometheus):
            if server is not None:
                server.stop()
        self._alertmanager = self._prometheus = None

    @property
    def running(self) -> bool:
        return self._alertmanager is not None

    @property
    def alertmanager_url(self) -> str:
        return self._started(self._alertmanager).url

    @property
    def prometheus_url(self) -> str:
        return self._started(self._prometheus).url

    def config_text(self) -> str:
        """A shiftdeck config (YAML) pointing at the two demo servers."""
        user = os.environ.get("USER") or "demo"
        return (
            f"title: {_quote('demo · qawave')}\n"
            f"user: {_quote(user)}\n"
            "refresh: 5s\n"
            "alertmanagers:\n"
            f"  - {{name: demo, url: {_quote(self.alertmanager_url)}, cluster: demo}}\n"
            "prometheus:\n"
            f"  - {{name: demo, url: {_quote(self.prometheus_url)}}}\n"
        )

    def __enter__(self) -> DemoEnvironment:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @staticmethod
    def _started(server: LoopbackServer | None) -> LoopbackServer:
        if server is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return server


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)

"""DemoEnvironment: a demo Alertmanager and Prometheus on loopback, for `shiftdeck --demo`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from zoneinfo import ZoneInfo

from shiftdeck.clock import Clock
from shiftdeck.domain.roster import Rotation, localize

from .alertmanager_api import AlertmanagerApi
from .kube import KubeApiServer, demo_cluster
from .prometheus_api import PrometheusApi
from .scenario import Scenario, build_scenario
from .server import LoopbackServer
from .silences import SilenceStore


RUNBOOKS = Path(__file__).parent / "runbooks"
"""The example runbooks (examples/runbooks in the repository), shipped inside the package."""


class DemoEnvironment:
    """Real HTTP servers (127.0.0.1, free ports, daemon threads) answering like
    Alertmanager 0.25 and Prometheus 2.42, driven by the scenario and the injected clock, and
    a demo Kubernetes API holding the alerts' pods (see kube.demo_cluster).

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
        self._kube: KubeApiServer | None = None
        self._kube_dir: Path | None = None

    def start(self) -> None:
        if self._alertmanager is not None:
            return
        prometheus = LoopbackServer("prometheus")
        try:
            alertmanager = LoopbackServer("alertmanager")
        except OSError:
            prometheus.stop()
            raise
        try:
            self._start_kube()
        except BaseException:
            prometheus.stop()
            alertmanager.stop()
            raise
        prometheus.start(PrometheusApi(self.scenario, self.clock))
        alertmanager.start(
            AlertmanagerApi(self.scenario, self.silences, self.clock, prometheus.url, self.clock.now())
        )
        self._prometheus, self._alertmanager = prometheus, alertmanager

    def _start_kube(self) -> None:
        """The demo cluster: a Kubernetes API on loopback holding the alerts' pods, and a
        kubeconfig (context `demo`) for it in a private temporary directory."""
        kube = KubeApiServer(clock=self.clock.now)
        try:
            kube.load(demo_cluster(self.scenario, self.clock.now(), self.seed))
            _remove_orphaned_kube_dirs()
            self._kube_dir = Path(tempfile.mkdtemp(prefix=f"{_KUBE_DIR_PREFIX}{os.getpid()}-"))
            kube.kubeconfig(self._kube_dir / "kubeconfig", contexts=("demo",))
        except BaseException:
            kube.stop()
            self._remove_kube_dir()
            raise
        kube.start()
        self._kube = kube

    def stop(self) -> None:
        for server in (self._alertmanager, self._prometheus):
            if server is not None:
                server.stop()
        self._alertmanager = self._prometheus = None
        if self._kube is not None:
            self._kube.stop()
            self._kube = None
        self._remove_kube_dir()

    def _remove_kube_dir(self) -> None:
        if self._kube_dir is not None:
            shutil.rmtree(self._kube_dir, ignore_errors=True)
            self._kube_dir = None

    @property
    def running(self) -> bool:
        return self._alertmanager is not None

    @property
    def alertmanager_url(self) -> str:
        return self._started(self._alertmanager).url

    @property
    def prometheus_url(self) -> str:
        return self._started(self._prometheus).url

    @property
    def kube(self) -> KubeApiServer:
        """The demo cluster's API server (its objects and logs)."""
        return self._started(self._kube)

    @property
    def kubeconfig_path(self) -> Path:
        """The demo cluster's kubeconfig (current context `demo`); removed by stop()."""
        if self._kube is None or self._kube_dir is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return self._kube_dir / "kubeconfig"

    def kube_config_text(self) -> str:
        """The `kubernetes:` section of a shiftdeck config pointing at the demo cluster."""
        return f"kubernetes:\n  kubeconfig: {_quote(str(self.kubeconfig_path))}\n"

    def config_text(self) -> str:
        """A shiftdeck config (YAML) pointing at the two demo servers, with the handbooks'
        roster and escalation ladders (see DEMO_ROSTER and demo_override)."""
        # In the demo you are alice, one of the rostered engineers, so "your next shift" and
        # the acks you make read as they would for a real on-call engineer.
        user = "alice"
        return (
            f"title: {_quote('demo · qawave')}\n"
            f"user: {_quote(user)}\n"
            "refresh: 5s\n"
            "alertmanagers:\n"
            f"  - {{name: demo, url: {_quote(self.alertmanager_url)}, cluster: demo}}\n"
            "prometheus:\n"
            f"  - {{name: demo, url: {_quote(self.prometheus_url)}}}\n"
            + DEMO_ROSTER
            + demo_override(self.clock.now())
            + f"runbooks:\n  dirs: [{_quote(str(RUNBOOKS))}]\n"
            + self.kube_config_text()
        )

    def __enter__(self) -> DemoEnvironment:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @staticmethod
    def _started(server: _Server | None) -> _Server:
        if server is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return server


_Server = TypeVar("_Server", LoopbackServer, KubeApiServer)
_KUBE_DIR_PREFIX = "shiftdeck-demo-kube-"


def _remove_orphaned_kube_dirs() -> None:
    """Remove the kubeconfig directories of demos that were killed before stop() ran (their
    names carry the process id)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_KUBE_DIR_PREFIX}*-*"):
        pid = path.name[len(_KUBE_DIR_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not path.is_dir() or path.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (PermissionError, OverflowError):  # alive (someone else's), or not a pid
            pass


DEMO_ZONE = ZoneInfo("Europe/Berlin")
DEMO_ENGINEERS = ("alice", "bob", "carol", "dave")
DEMO_ROSTER = """\
timezone: Europe/Berlin
people:
  alice: {name: Alice Ng, handle: "@alice", phone: "+49 30 5550101", email: alice@qawave.test}
  bob: {name: Bob Okafor, handle: "@bob", phone: "+49 30 5550102", email: bob@qawave.test}
  carol: {name: Carol Diaz, handle: "@carol", phone: "+49 30 5550103", email: carol@qawave.test}
  dave: {name: Dave Kim, handle: "@dave", phone: "+49 30 5550104", email: dave@qawave.test}
  erin: {name: Erin Walsh, handle: "@erin", phone: "+49 30 5550201", email: erin@qawave.test}
  frank: {name: Frank Moreau, handle: "@frank", phone: "+49 30 5550301", email: frank@qawave.test}
rotations:                    # weekly, Monday 09:00 Berlin; secondary is next week's primary
  - {role: primary, members: [alice, bob, carol, dave], start: 2026-01-05T09:00, length: 1w}
  - {role: secondary, members: [bob, carol, dave, alice], start: 2026-01-05T09:00, length: 1w}
  - {role: manager, members: [erin], start: 2026-01-05T09:00, length: 1w}
  - {role: vp-eng, members: [frank], start: 2026-01-05T09:00, length: 1w}
escalation:                   # the handbooks' ladders
  P1:
    - {after: 0m, notify: primary}
    - {after: 15m, notify: secondary}
    - {after: 30m, notify: manager}
    - {after: 60m, notify: vp-eng}
  P2:
    - {after: 0m, notify: primary}
    - {after: 1h, notify: secondary}
  default:
    - {after: 0m, notify: primary}
"""


def demo_override(now: datetime) -> str:
    """A one-day swap: from tomorrow 09:00 Berlin until the day after, primary is covered by
    the engineer who is neither primary nor secondary that day. Depends only on `now`."""
    day = now.astimezone(DEMO_ZONE).date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 9, 0)
    rotation = Rotation("primary", DEMO_ENGINEERS, datetime(2026, 1, 5, 9, 0), timedelta(weeks=1),
                        DEMO_ZONE)
    turn = rotation.turn_at(localize(start, DEMO_ZONE))
    cover = DEMO_ENGINEERS[(turn + 2) % len(DEMO_ENGINEERS)]
    until = start + timedelta(days=1)
    return ("overrides:                    # a swap\n"
            f"  - {{role: primary, person: {cover}, from: {start.isoformat(timespec='minutes')}, "
            f"until: {until.isoformat(timespec='minutes')}}}\n")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)

"""DemoEnvironment: a demo Alertmanager and Prometheus on loopback, for `shiftdeck --demo`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
from .pager import LEVELS as PAGER_LEVELS
from .pager import DemoPagerDuty, demo_policy
from .pager import email as pager_email
from .prometheus_api import PrometheusApi
from .scenario import Scenario, build_scenario
from .server import LoopbackServer
from .silences import SilenceStore


RUNBOOKS = Path(__file__).parent / "runbooks"
"""The example runbooks (examples/runbooks in the repository) fitted to the demo's world, shipped
inside the package: every command they offer to run works against the demo cluster (no
database, Redis, Services or volumes to ask: those commands are shown, not offered)."""


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
        self._pagerduty: LoopbackServer | None = None
        self.pager: DemoPagerDuty | None = None
        """The demo's PagerDuty (its API and Alertmanager's notifier); None until start()."""
        self._dir: Path | None = None
        self._janitor: subprocess.Popen[bytes] | None = None
        self._kube_cache: _EnvironmentVariable | None = None

    def start(self) -> None:
        if self._alertmanager is not None:
            return
        servers: list[LoopbackServer] = []
        try:
            prometheus, alertmanager, pagerduty = (
                _bound(servers, name) for name in ("prometheus", "alertmanager", "pagerduty"))
            self._make_state_dir()
            self._start_kube()
        except BaseException:
            for server in servers:
                server.stop()
            self._remove_state_dir()
            raise
        prometheus.start(PrometheusApi(self.scenario, self.clock))
        alertmanager.start(
            AlertmanagerApi(self.scenario, self.silences, self.clock, prometheus.url, self.clock.now())
        )
        self.pager = DemoPagerDuty(self.scenario, self.silences, self.clock, demo_policy(
            DEMO_ENGINEERS, ROTATION_START, DEMO_ZONE, self.clock.now()))
        pagerduty.start(self.pager)
        self._prometheus, self._alertmanager = prometheus, alertmanager
        self._pagerduty = pagerduty

    def _make_state_dir(self) -> None:
        """The demo's own directory for everything it would otherwise write in the user's
        home (the journal and write lock, kubectl's caches) and its kubeconfig. A janitor
        process removes it when this process ends, however it ends; stop() removes it first."""
        _remove_orphaned_dirs()
        self._dir = Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-"))
        self._janitor = _start_janitor(self._dir)
        # kubectl (runbook commands) caches discovery and HTTP answers in ~/.kube/cache, a new
        # directory per demo port; the runner starts it with this process' environment.
        self._kube_cache = _EnvironmentVariable("KUBECACHEDIR", str(self._dir / "kube-cache"))

    def _start_kube(self) -> None:
        """The demo cluster: a Kubernetes API on loopback holding the alerts' pods, and a
        kubeconfig (context `demo`) for it in the demo's directory."""
        kube = KubeApiServer(clock=self.clock.now)
        try:
            kube.load(demo_cluster(self.scenario, self.clock.now(), self.seed))
            kube.kubeconfig(self.state_dir / "kubeconfig", contexts=("demo",))
        except BaseException:
            kube.stop()
            raise
        kube.start()
        self._kube = kube

    def stop(self) -> None:
        for server in (self._alertmanager, self._prometheus, self._pagerduty):
            if server is not None:
                server.stop()
        self._alertmanager = self._prometheus = self._pagerduty = None
        if self._kube is not None:
            self._kube.stop()
            self._kube = None
        self._remove_state_dir()

    def _remove_state_dir(self) -> None:
        if self._kube_cache is not None:
            self._kube_cache.restore()
            self._kube_cache = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._janitor is not None:
            _stop_janitor(self._janitor)
            self._janitor = None

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
    def pagerduty_url(self) -> str:
        return self._started(self._pagerduty).url

    @property
    def kube(self) -> KubeApiServer:
        """The demo cluster's API server (its objects and logs)."""
        return self._started(self._kube)

    @property
    def state_dir(self) -> Path:
        """The demo's own directory (journal, kubeconfig, kubectl's caches); removed by
        stop(), or by the janitor when the process is killed."""
        if self._dir is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return self._dir

    @property
    def kubeconfig_path(self) -> Path:
        """The demo cluster's kubeconfig (current context `demo`); removed by stop()."""
        if self._kube is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return self.state_dir / "kubeconfig"

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
            + f"journal: {_quote(str(self.state_dir / 'state' / 'journal.jsonl'))}\n"
            + self.pagerduty_config_text(user)
        )

    def pagerduty_config_text(self, user: str) -> str:
        """The `pagerduty:` section: the demo's PagerDuty, written to as `user`."""
        if self.pager is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        levels = ", ".join(f"{level}: {role}" for level, role in PAGER_LEVELS.items())
        return ("pagerduty:\n"
                f"  - {{name: pd, url: {_quote(self.pagerduty_url)}, "
                f"token: {_quote(self.pager.token)}, from: {_quote(pager_email(user))}, "
                f"levels: {{{levels}}}}}\n")

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


def _bound(servers: list[LoopbackServer], name: str) -> LoopbackServer:
    """A server bound to a free port (not serving yet), added to `servers` to stop on failure."""
    server = LoopbackServer(name)
    servers.append(server)
    return server
_DIR_PREFIX = "shiftdeck-demo-"


def _remove_orphaned_dirs() -> None:
    """Remove the directories of demos that ended before stop() ran and whose janitor did not
    run either (their names carry the process id; older demos named theirs `…-kube-<pid>-`)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_DIR_PREFIX}*-*"):
        pid = path.name[len(_DIR_PREFIX):].removeprefix("kube-").split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not path.is_dir() or path.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (PermissionError, OverflowError):  # alive (someone else's), or not a pid
            pass


_JANITOR = ("import shutil, sys\n"
            "sys.stdin.buffer.read()\n"  # end of file: the demo process has ended
            "shutil.rmtree(sys.argv[1], ignore_errors=True)\n")


def _start_janitor(directory: Path) -> subprocess.Popen[bytes]:
    """A process that removes `directory` once the pipe from this one closes, which the
    kernel does however this process ends (SIGKILL, SIGHUP from a closed terminal, a crash).
    In a session of its own, so the terminal's signals do not reach it."""
    return subprocess.Popen([sys.executable, "-I", "-S", "-c", _JANITOR, str(directory)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def _stop_janitor(janitor: subprocess.Popen[bytes]) -> None:
    if janitor.stdin is not None:
        janitor.stdin.close()
    try:
        janitor.wait(timeout=5)
    except subprocess.TimeoutExpired:
        janitor.kill()
        janitor.wait()


class _EnvironmentVariable:
    """An environment variable set for this process (and the commands it starts) until
    restore(), which puts back what was there unless someone changed it since."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value
        self._previous = os.environ.get(name)
        os.environ[name] = value

    def restore(self) -> None:
        if os.environ.get(self.name) != self.value:
            return
        if self._previous is None:
            del os.environ[self.name]
        else:
            os.environ[self.name] = self._previous


DEMO_ZONE = ZoneInfo("Europe/Berlin")
DEMO_ENGINEERS = ("alice", "bob", "carol", "dave")
ROTATION_START = datetime(2026, 1, 5, 9, 0)
"""The rotations' first handoff (DEMO_ROSTER's `start`), Berlin time."""
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
    rotation = Rotation("primary", DEMO_ENGINEERS, ROTATION_START, timedelta(weeks=1), DEMO_ZONE)
    turn = rotation.turn_at(localize(start, DEMO_ZONE))
    cover = DEMO_ENGINEERS[(turn + 2) % len(DEMO_ENGINEERS)]
    until = start + timedelta(days=1)
    return ("overrides:                    # a swap\n"
            f"  - {{role: primary, person: {cover}, from: {start.isoformat(timespec='minutes')}, "
            f"until: {until.isoformat(timespec='minutes')}}}\n")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)

"""Real Alertmanager / Prometheus servers for tests and benchmarks (no mocks).

Self-contained on purpose (stdlib + httpx only, no pytest, no textual) so that
both ``tests/conftest.py`` and ``bench/*.py`` can use it::

    sys.path.insert(0, str(REPO / "tests" / "support"))
    from servers import AlertmanagerProcess, PrometheusProcess, AlertmanagerCluster

    with AlertmanagerProcess() as am:                      # fresh, empty, ~0.1 s
        am.push_alerts([{"labels": {"alertname": "X"}}])
        am.wait_for_alerts(1)

    with AlertmanagerCluster(2) as cluster:                # gossiping HA pair
        a, b = cluster.nodes

    with AlertmanagerProcess() as am, PrometheusProcess(DEFAULT_RULES, am.url) as prom:
        prom.wait_for_alert_state("DemoAlwaysFiring", "firing")

Everything listens on 127.0.0.1 only, on free ports, in a temp dir (or the
``workdir`` you pass, e.g. pytest's ``tmp_path``). Server output goes to a log
file in that dir, never to the caller's terminal. Children are reaped on
``stop()``/``kill()``, killed by an ``atexit`` hook if forgotten, and (when
started from the main thread on Linux) get ``PR_SET_PDEATHSIG`` so that they die
with the Python process even if it is SIGKILLed.

Binaries: ``$SHIFTDECK_ALERTMANAGER_BIN`` / ``$SHIFTDECK_PROMETHEUS_BIN``, else
``prometheus-alertmanager`` (Debian) or ``alertmanager`` (upstream), and
``prometheus`` on ``$PATH``.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Self

import httpx

__all__ = [
    "DEFAULT_ALERTMANAGER_CONFIG",
    "DEFAULT_RULES",
    "AlertmanagerCluster",
    "AlertmanagerProcess",
    "PrometheusProcess",
    "ServerError",
    "ServerProcess",
    "alertmanager_binary",
    "alertmanager_cluster",
    "free_port",
    "missing_binaries",
    "prometheus_binary",
]

# --------------------------------------------------------------------------- #
# Defaults
# --------------------------------------------------------------------------- #

#: One route to a receiver named ``null`` without integrations (nothing is ever
#: sent anywhere). Grouping by alertname so ``/api/v2/alerts/groups`` is useful.
DEFAULT_ALERTMANAGER_CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname"]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
"""

#: Rule file text: one alert firing at the first evaluation, one pending forever.
DEFAULT_RULES = """\
groups:
  - name: shiftdeck-demo
    rules:
      - alert: DemoAlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: "Demo alert that always fires"
          description: "vector(1) is always 1."
      - alert: DemoAlwaysPending
        expr: vector(1)
        for: 1h
        labels:
          severity: warning
        annotations:
          summary: "Demo alert that stays pending for an hour"
"""

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server failed to start, died, or did not reach the awaited state."""


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def free_port(*, udp: bool = False) -> int:
    """A currently free TCP port on 127.0.0.1 (bind to port 0).

    With ``udp=True`` the port is also free for UDP (Alertmanager's gossip
    port uses TCP *and* UDP). There is an unavoidable race between closing the
    probe socket and the server binding it; ``AlertmanagerProcess`` and
    ``PrometheusProcess`` retry with new ports when they picked them.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if not udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((HOST, port))
        except OSError:
            continue
        return port
    raise ServerError("could not find a free port")


def alertmanager_binary() -> str | None:
    env = os.environ.get("SHIFTDECK_ALERTMANAGER_BIN")
    if env:
        return env
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def prometheus_binary() -> str | None:
    return os.environ.get("SHIFTDECK_PROMETHEUS_BIN") or shutil.which("prometheus")


def missing_binaries() -> list[str]:
    """Names of the server binaries that cannot be found (empty list = all good)."""
    missing = []
    if not alertmanager_binary():
        missing.append("prometheus-alertmanager")
    if not prometheus_binary():
        missing.append("prometheus")
    return missing


def _client(timeout: float = 5.0) -> httpx.Client:
    # trust_env=False: an HTTP(S)_PROXY in the environment must not swallow
    # requests to 127.0.0.1.
    return httpx.Client(timeout=timeout, trust_env=False)


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# Children die with us: PR_SET_PDEATHSIG (Linux). Only when forking from the
# main thread, because the signal fires when the *forking thread* exits.
_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux / no libc
    _prctl = None


def _make_preexec() -> Any:
    if _prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    prctl = _prctl

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # parent already gone
            os._exit(1)

    return preexec


_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _kill_leftovers() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    for server in leftovers:
        try:
            server.kill()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


# --------------------------------------------------------------------------- #
# Base class
# --------------------------------------------------------------------------- #


class ServerProcess:
    """Common start/stop/kill/restart machinery. Subclasses define ``_argv()``."""

    name = "server"
    ready_path = "/-/ready"

    def __init__(
        self,
        *,
        binary: str | None,
        workdir: str | os.PathLike[str] | None,
        port: int | None,
        extra_args: Sequence[str],
        ready_timeout: float,
    ) -> None:
        if not binary:
            raise ServerError(
                f"{self.name} binary not found; run scripts/test.sh (installs the "
                "Debian packages prometheus-alertmanager and prometheus) or set "
                "SHIFTDECK_ALERTMANAGER_BIN / SHIFTDECK_PROMETHEUS_BIN"
            )
        self.binary = binary
        self._own_dir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else Path(
            tempfile.mkdtemp(prefix=f"shiftdeck-{self.name}-")
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._auto_ports = port is None
        self.port = port if port is not None else free_port()
        self.extra_args = list(extra_args)
        self.ready_timeout = ready_timeout
        self.log_path = self.workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.last_startup_seconds: float | None = None

    # -- to override -------------------------------------------------------
    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _write_config(self) -> None:
        pass

    def _realloc_ports(self) -> None:
        self.port = free_port()

    # -- public ------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> Self:
        """Start the process and block until ``/-/ready`` answers 200."""
        if self.running:
            return self
        self._write_config()
        attempts = 3 if (self._auto_ports and self.starts == 0) else 1
        for attempt in range(attempts):
            try:
                self._spawn_and_wait()
                return self
            except ServerError:
                # Lost the free-port race? Retry on new ports (first start only).
                if attempt + 1 < attempts and "address already in use" in self.log_tail().lower():
                    self._realloc_ports()
                    self._write_config()
                    continue
                raise
        return self  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` s. Always reaps. Returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
            return proc.wait()
        finally:
            self._forget()

    def kill(self) -> int | None:
        """SIGKILL (simulated crash). Reaps. Storage dir and ports are kept for ``restart()``."""
        proc = self.proc
        if proc is None:
            return None
        try:
            if proc.poll() is None:
                proc.kill()
            return proc.wait()
        finally:
            self._forget()

    def restart(self) -> Self:
        """Stop (gracefully, if still running) and start again on the same ports and dir."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and, if the work dir was created by us, delete it."""
        self.stop()
        if self._own_dir and not os.environ.get("SHIFTDECK_KEEP_SERVER_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def get(self, path: str, **params: Any) -> Any:
        """GET ``url + path`` and return the decoded JSON (raises on HTTP errors)."""
        with _client() as c:
            r = c.get(self.url + path, params=params or None)
            r.raise_for_status()
            return r.json()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.url} {state} dir={self.workdir}>"

    # -- internals ---------------------------------------------------------
    def _forget(self) -> None:
        self.proc = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def _spawn_and_wait(self) -> None:
        self.starts += 1
        argv = self._argv()
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts} at {_rfc3339(datetime.now())}: "
                      f"{' '.join(argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches pytest, not us
                preexec_fn=_make_preexec(),
            )
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._wait_ready(t0)
        except BaseException:
            self.kill()
            raise
        self.last_startup_seconds = time.monotonic() - t0

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + self.ready_timeout
        last = "no answer yet"
        with _client(timeout=1.0) as c:
            while True:
                assert self.proc is not None
                code = self.proc.poll()
                if code is not None:
                    raise ServerError(
                        f"{self.name} exited with code {code} during startup "
                        f"(port {self.port}); log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    r = c.get(self.url + self.ready_path)
                    if r.status_code == 200:
                        return
                    last = f"HTTP {r.status_code}"
                except httpx.HTTPError as e:
                    last = f"{type(e).__name__}: {e}"
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{self.name} not ready at {self.url}{self.ready_path} after "
                        f"{self.ready_timeout:.1f}s (last: {last}); log {self.log_path}:\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.02)


# --------------------------------------------------------------------------- #
# Alertmanager
# --------------------------------------------------------------------------- #

# Fast gossip for tests. Settling needs ~3 stable checks spaced 10x the gossip
# interval: 10ms -> ~0.5 s instead of ~6 s with the 200ms default.
FAST_CLUSTER_ARGS = (
    "--cluster.gossip-interval=10ms",
    "--cluster.pushpull-interval=500ms",
    "--cluster.probe-interval=300ms",
    "--cluster.probe-timeout=150ms",
    "--cluster.reconnect-interval=200ms",
    "--cluster.settle-timeout=3s",
    "--cluster.peer-timeout=1s",
)


class AlertmanagerProcess(ServerProcess):
    """A real ``prometheus-alertmanager`` on 127.0.0.1.

    ``cluster_port=None`` disables HA mode (``--cluster.listen-address=""``);
    otherwise it gossips on ``127.0.0.1:cluster_port`` with ``peers``
    (``"127.0.0.1:PORT"`` strings). ``maintenance_interval`` (e.g. ``"1s"``)
    controls how often silences are snapshotted to disk: a graceful
    ``stop()``/``restart()`` always keeps them; after ``kill()`` only what the
    last snapshot held survives (binary default: 15m).
    """

    name = "alertmanager"

    def __init__(
        self,
        *,
        config_yaml: str = DEFAULT_ALERTMANAGER_CONFIG,
        workdir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        cluster_port: int | None = None,
        peers: Sequence[str] = (),
        maintenance_interval: str | None = None,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        ready_timeout: float = 15.0,
    ) -> None:
        super().__init__(
            binary=binary or alertmanager_binary(),
            workdir=workdir,
            port=port,
            extra_args=extra_args,
            ready_timeout=ready_timeout,
        )
        self.config_yaml = config_yaml
        self.cluster_port = cluster_port
        self.peers = list(peers)
        self.maintenance_interval = maintenance_interval
        self.config_path = self.workdir / "alertmanager.yml"
        self.storage_path = self.workdir / "data"

    @property
    def cluster_address(self) -> str | None:
        return f"{HOST}:{self.cluster_port}" if self.cluster_port else None

    def _realloc_ports(self) -> None:
        self.port = free_port()
        if self.cluster_port is not None and not self.peers:
            self.cluster_port = free_port(udp=True)

    def _write_config(self) -> None:
        self.config_path.write_text(self.config_yaml)
        self.storage_path.mkdir(exist_ok=True)

    def _argv(self) -> list[str]:
        argv = [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.storage_path}",
            f"--web.listen-address={HOST}:{self.port}",
            f"--web.external-url={self.url}",
            "--alerts.gc-interval=1s",
            "--log.level=info",
        ]
        if self.maintenance_interval:
            argv.append(f"--data.maintenance-interval={self.maintenance_interval}")
        if self.cluster_port is None:
            argv.append("--cluster.listen-address=")
        else:
            argv.append(f"--cluster.listen-address={HOST}:{self.cluster_port}")
            argv.append(f"--cluster.advertise-address={HOST}:{self.cluster_port}")
            argv += [f"--cluster.peer={p}" for p in self.peers]
            argv += FAST_CLUSTER_ARGS
        return argv + self.extra_args

    # -- API helpers -------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.get("/api/v2/status")

    def alerts(self, **params: Any) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (params e.g. ``filter=['a="b"']``, ``silenced=False``)."""
        return self.get("/api/v2/alerts", **params)

    def silences(self, **params: Any) -> list[dict[str, Any]]:
        return self.get("/api/v2/silences", **params)

    def push_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        """POST /api/v2/alerts. Each dict: labels, annotations, optional
        startsAt/endsAt (RFC 3339 str or ``datetime``) and generatorURL.
        Alertmanager fills startsAt=now and endsAt=now+resolve_timeout (5m)."""
        body = []
        for a in alerts:
            a = dict(a)
            for key in ("startsAt", "endsAt"):
                if isinstance(a.get(key), datetime):
                    a[key] = _rfc3339(a[key])
            a.setdefault("annotations", {})
            body.append(a)
        with _client() as c:
            r = c.post(self.url + "/api/v2/alerts", json=body)
            if r.status_code != 200:
                raise ServerError(f"POST /api/v2/alerts -> {r.status_code}: {r.text}")

    def wait_for_alerts(self, count: int, timeout: float = 10.0, **params: Any) -> list[dict[str, Any]]:
        """Poll GET /api/v2/alerts until it returns exactly ``count`` alerts; return them."""
        deadline = time.monotonic() + timeout
        got: list[dict[str, Any]] = []
        while True:
            try:
                got = self.alerts(**params)
                if len(got) == count:
                    return got
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.url}: expected {count} alerts, have {len(got)} after {timeout}s"
                )
            time.sleep(0.05)

    def add_silence(
        self,
        matchers: dict[str, str] | Sequence[dict[str, Any]],
        *,
        duration: timedelta = timedelta(hours=1),
        comment: str = "test silence",
        created_by: str = "shiftdeck-tests",
        starts_at: datetime | None = None,
    ) -> str:
        """POST /api/v2/silences; ``matchers`` as ``{"name": "value"}`` (equality)
        or full matcher dicts. Returns the silence ID."""
        if isinstance(matchers, dict):
            ms = [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                  for k, v in matchers.items()]
        else:
            ms = list(matchers)
        start = starts_at or datetime.now(timezone.utc)
        body = {
            "matchers": ms,
            "startsAt": _rfc3339(start),
            "endsAt": _rfc3339(start + duration),
            "createdBy": created_by,
            "comment": comment,
        }
        with _client() as c:
            r = c.post(self.url + "/api/v2/silences", json=body)
            if r.status_code != 200:
                raise ServerError(f"POST /api/v2/silences -> {r.status_code}: {r.text}")
            return r.json()["silenceID"]


# --------------------------------------------------------------------------- #
# Alertmanager HA cluster
# --------------------------------------------------------------------------- #


class AlertmanagerCluster:
    """``n`` Alertmanagers gossiping on loopback (each with its own cluster port
    and ``--cluster.peer`` of all the others).

    ``start()`` / ``wait_ready()`` wait until every running node reports
    ``cluster.status == "ready"`` and sees exactly the running nodes as peers.
    ``kill(i)`` then ``restart(i)`` brings node ``i`` back on the same ports and
    storage dir (it rejoins under a new peer name; the old name is dropped by
    the survivors after ~1-2 s, which ``wait_ready`` waits out).
    """

    def __init__(
        self,
        n: int = 2,
        *,
        workdir: str | os.PathLike[str] | None = None,
        config_yaml: str = DEFAULT_ALERTMANAGER_CONFIG,
        maintenance_interval: str | None = None,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        self._own_dir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else Path(
            tempfile.mkdtemp(prefix="shiftdeck-am-cluster-")
        )
        self.ready_timeout = ready_timeout
        cluster_ports = [free_port(udp=True) for _ in range(n)]
        self.nodes: list[AlertmanagerProcess] = []
        for i, cport in enumerate(cluster_ports):
            self.nodes.append(
                AlertmanagerProcess(
                    config_yaml=config_yaml,
                    workdir=self.workdir / f"node{i}",
                    cluster_port=cport,
                    peers=[f"{HOST}:{p}" for p in cluster_ports if p != cport],
                    maintenance_interval=maintenance_interval,
                    extra_args=extra_args,
                    binary=binary,
                    ready_timeout=ready_timeout,
                )
            )

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, i: int) -> AlertmanagerProcess:
        return self.nodes[i]

    def __iter__(self) -> Iterator[AlertmanagerProcess]:
        return iter(self.nodes)

    def start(self) -> Self:
        """Start all (not running) nodes and wait until the cluster is ready."""
        try:
            for node in self.nodes:  # HTTP readiness of each is ~0.1 s
                node.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, i: int) -> None:
        self.nodes[i].kill()

    def stop_node(self, i: int) -> None:
        self.nodes[i].stop()

    def restart(self, i: int, *, wait: bool = True) -> AlertmanagerProcess:
        """(Re)start node ``i`` on its ports/dir; by default wait until the cluster is ready."""
        node = self.nodes[i]
        node.restart()
        if wait:
            self.wait_ready()
        return node

    def wait_ready(self, timeout: float | None = None) -> None:
        """Every running node: ``cluster.status == "ready"`` and peers == running nodes."""
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        state: list[Any] = []
        with _client(timeout=1.0) as c:
            while True:
                running = [n for n in self.nodes if n.running]
                want = {n.cluster_address for n in running}
                state = []
                ok = bool(running)
                for node in running:
                    try:
                        cl = c.get(node.url + "/api/v2/status").json()["cluster"]
                        addrs = [p.get("address") for p in cl.get("peers") or []]
                        state.append((node.url, cl.get("status"), addrs))
                        ok = ok and cl.get("status") == "ready" and len(addrs) == len(running) \
                            and set(addrs) == want
                    except (httpx.HTTPError, ValueError, KeyError) as e:
                        state.append((node.url, repr(e)))
                        ok = False
                if ok:
                    return
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"Alertmanager cluster not ready after {timeout}s "
                        f"(want {len(running)} peers {sorted(want)}): {state}"
                    )
                time.sleep(0.05)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def close(self) -> None:
        self.stop()
        if self._own_dir and not os.environ.get("SHIFTDECK_KEEP_SERVER_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<AlertmanagerCluster {self.nodes!r}>"


def alertmanager_cluster(n: int = 2, **kwargs: Any) -> AlertmanagerCluster:
    """Build *and start* an ``AlertmanagerCluster`` (use as a context manager or call ``close()``)."""
    return AlertmanagerCluster(n, **kwargs).start()


# --------------------------------------------------------------------------- #
# Prometheus
# --------------------------------------------------------------------------- #


class PrometheusProcess(ServerProcess):
    """A real ``prometheus`` on 127.0.0.1 with 1 s scrape/evaluation intervals.

    ``alertmanager_url`` (one URL or several) becomes ``alerting.alertmanagers``.
    Note Prometheus 2.42's discovery manager hands targets (alertmanagers and
    scrape targets) over only every 5 s: the first notification reaches
    Alertmanager ~5-6 s after start, whatever the intervals. Started with
    ``--rules.alert.resend-delay=1s`` (so that firing alerts are re-sent once
    the Alertmanager is discovered; default 1m) and ``--web.enable-lifecycle``
    (``set_rules()`` reloads via ``/-/reload``).
    """

    name = "prometheus"

    def __init__(
        self,
        rules_yaml: str = DEFAULT_RULES,
        alertmanager_url: str | Sequence[str] | None = None,
        *,
        scrape_self: bool = True,
        external_labels: dict[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        ready_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            binary=binary or prometheus_binary(),
            workdir=workdir,
            port=port,
            extra_args=extra_args,
            ready_timeout=ready_timeout,
        )
        self.rules_yaml = rules_yaml
        if alertmanager_url is None:
            self.alertmanager_urls: list[str] = []
        elif isinstance(alertmanager_url, str):
            self.alertmanager_urls = [alertmanager_url]
        else:
            self.alertmanager_urls = list(alertmanager_url)
        self.scrape_self = scrape_self
        self.external_labels = dict(external_labels or {})
        self.config_path = self.workdir / "prometheus.yml"
        self.rules_path = self.workdir / "rules.yml"
        self.storage_path = self.workdir / "data"

    def config_dict(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(self.rules_path)],
        }
        if self.external_labels:
            cfg["global"]["external_labels"] = self.external_labels
        if self.alertmanager_urls:
            ams = []
            for u in self.alertmanager_urls:
                p = urllib.parse.urlsplit(u)
                am: dict[str, Any] = {
                    "scheme": p.scheme or "http",
                    "timeout": "2s",
                    "api_version": "v2",
                    "static_configs": [{"targets": [p.netloc]}],
                }
                if p.path.strip("/"):
                    am["path_prefix"] = p.path
                ams.append(am)
            cfg["alerting"] = {"alertmanagers": ams}
        if self.scrape_self:
            cfg["scrape_configs"] = [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"{HOST}:{self.port}"]}]}
            ]
        return cfg

    def _write_config(self) -> None:
        # JSON is valid YAML: no PyYAML needed.
        self.config_path.write_text(json.dumps(self.config_dict(), indent=2) + "\n")
        self.rules_path.write_text(self.rules_yaml)
        self.storage_path.mkdir(exist_ok=True)

    def _argv(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.storage_path}",
            f"--web.listen-address={HOST}:{self.port}",
            # generatorURL would otherwise use the machine's hostname.
            f"--web.external-url={self.url}",
            "--web.enable-lifecycle",
            "--rules.alert.resend-delay=1s",
            "--log.level=info",
            *self.extra_args,
        ]

    # -- API helpers -------------------------------------------------------
    def api(self, path: str, **params: Any) -> Any:
        """GET ``/api/v1/<path>`` and return ``data`` (raises unless status == success)."""
        body = self.get("/api/v1/" + path.lstrip("/"), **params)
        if body.get("status") != "success":
            raise ServerError(f"{path}: {body}")
        return body["data"]

    def alerts(self) -> list[dict[str, Any]]:
        return self.api("alerts")["alerts"]

    def rules(self, **params: Any) -> list[dict[str, Any]]:
        return self.api("rules", **params)["groups"]

    def query(self, expr: str) -> Any:
        return self.api("query", query=expr)

    def set_rules(self, rules_yaml: str) -> None:
        """Replace the rule file and hot-reload (POST /-/reload)."""
        self.rules_yaml = rules_yaml
        self._write_config()
        if self.running:
            with _client() as c:
                r = c.post(self.url + "/-/reload")
                if r.status_code != 200:
                    raise ServerError(f"reload failed: {r.status_code} {r.text}")

    def wait_for_alert_state(self, alertname: str, state: str, timeout: float = 20.0) -> dict[str, Any]:
        """Poll /api/v1/alerts until an alert ``alertname`` is in ``state``
        (``pending`` | ``firing``); return it."""
        deadline = time.monotonic() + timeout
        seen: list[Any] = []
        while True:
            try:
                alerts = self.alerts()
                seen = [(a["labels"].get("alertname"), a.get("state")) for a in alerts]
                for a in alerts:
                    if a["labels"].get("alertname") == alertname and a.get("state") == state:
                        return a
            except (httpx.HTTPError, ServerError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.url}: no {alertname!r} in state {state!r} after {timeout}s; seen {seen}"
                )
            time.sleep(0.1)

    def wait_for_alertmanagers(self, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until Prometheus has discovered ``count`` active Alertmanagers (~5 s after start)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                active = self.api("alertmanagers")["activeAlertmanagers"]
                if len(active) >= count:
                    return active
            except (httpx.HTTPError, ServerError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"{self.url}: fewer than {count} alertmanagers after {timeout}s")
            time.sleep(0.1)

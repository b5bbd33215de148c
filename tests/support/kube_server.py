"""A small cluster for tests, served by the demo's loopback Kubernetes API
(shiftdeck.demo.kube) wrapped in a test server that also records requests and injects faults.

qawave: Deployment `backend` at revision 3 (three ReplicaSets, three images); its pods
`backend-7d9f8c6b5d-x2x4q` (CrashLoopBackOff, last OOMKilled, previous logs) and
`backend-7d9f8c6b5d-k8m2p` (Running, two containers, restarted once after an Error); a
`frontend` deployment and `postgresql-0` next to them, with events for all of them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shiftdeck.demo.kube import (
    RESOURCES, Answer, KubeApi, KubeApiServer, ResourceCall, deployment, event, owner_ref, pod, replicaset,
    split_context, status_answer, write_kubeconfig)


@dataclass(frozen=True, slots=True)
class KubeRequest:
    """What the server saw: for tests that check how a client scoped its calls."""

    method: str
    path: str
    query: Mapping[str, str]
    accept: str
    context: str
    """The kube context the request came through (its server URL ends in /clusters/<context>),
    '' for a request to the bare URL."""


@dataclass
class _Faults:
    forbidden: set[tuple[str, str, str | None]] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)
    delays: dict[str | None, float] = field(default_factory=dict)


_FAILURE_REASONS = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "Timeout"}


class FaultyKubeApi(KubeApi):
    """The demo's API, recording every request and answering reads with the faults set."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self.faults = _Faults()
        self.requests: deque[KubeRequest] = deque(maxlen=10_000)
        self.lock = threading.Lock()
        self.released = threading.Event()

    def handle(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str]) -> Answer:
        context, parts = split_context(path)
        with self.lock:
            self.requests.append(KubeRequest(method, "/" + "/".join(parts), dict(query),
                                             headers.get("accept", ""), context))
        return super().handle(method, path, query, headers)

    def read(self, call: ResourceCall) -> Answer:
        self._wait(call.resource)
        if denied := self._denied(call):
            return denied
        failure = self.faults.failures.get(call.full_resource) or self.faults.failures.get(call.resource)
        if failure:
            reason = _FAILURE_REASONS.get(failure, "InternalError")
            return status_answer(failure, reason,
                                 f"Internal error occurred: injected failure for {call.full_resource}")
        return super().read(call)

    def _wait(self, resource: str) -> None:
        seconds = self.faults.delays.get(resource, self.faults.delays.get(None, 0.0))
        if seconds > 0:
            self.released.wait(seconds)

    def _denied(self, call: ResourceCall) -> Answer | None:
        with self.lock:
            forbidden = list(self.faults.forbidden)
        for verb, resource, namespace in forbidden:
            if (verb in (call.verb, "*") and resource in (call.full_resource, "*")
                    and namespace in (None, call.namespace)):
                return _forbidden(call)
        return None


def _forbidden(call: ResourceCall) -> Answer:
    """403 with the message RBAC writes."""
    group = RESOURCES[call.resource].group
    subject = f'{call.resource} "{call.name}"' if call.name else call.resource
    where = f' in the namespace "{call.namespace}"' if call.namespace else " at the cluster scope"
    message = (f'{subject} is forbidden: User "{call.user}" cannot {call.verb} resource '
               f'"{call.full_resource}" in API group "{group}"{where}')
    details = {"kind": call.resource, **({"name": call.name} if call.name else {})}
    return status_answer(403, "Forbidden", message, details)


class FaultyKubeServer(KubeApiServer):
    """KubeApiServer with a request log and faults: forbid() (403 as RBAC writes it),
    fail() (5xx), delay() (timeouts)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.faulty = FaultyKubeApi(clock)
        super().__init__(api=self.faulty)

    @property
    def requests(self) -> list[KubeRequest]:
        with self.faulty.lock:
            return list(self.faulty.requests)

    def start(self) -> FaultyKubeServer:
        self.faulty.released.clear()
        super().start()
        return self

    def stop(self) -> None:
        self.faulty.released.set()  # delayed answers finish now
        super().stop()

    def __enter__(self) -> FaultyKubeServer:
        return self.start()

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """RBAC says no: `verb` (get, list, watch, *) on `resource` (pods, pods/log, events, ...)
        in `namespace` (None: everywhere) → 403 with the apiserver's message."""
        with self.faulty.lock:
            self.faulty.faults.forbidden.add((verb, resource, namespace))

    def fail(self, resource: str, status: int = 500) -> None:
        """Every request for `resource` (or `pods/log`) answers `status`."""
        self.faulty.faults.failures[resource] = status

    def delay(self, seconds: float, resource: str | None = None) -> None:
        """Answer requests for `resource` (None: all resources) after `seconds`."""
        self.faulty.faults.delays[resource] = seconds

    def clear_faults(self) -> None:
        self.faulty.faults = _Faults()


NOW = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
NS = "qawave"
CRASHING = "backend-7d9f8c6b5d-x2x4q"
RESTARTED = "backend-7d9f8c6b5d-k8m2p"
HOSTILE_MESSAGE = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m [@click=app.quit]x[/] \u202eevil"
CONTEXTS = ("prod", "staging")


def _ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def populate(server: KubeApiServer) -> None:
    backend = deployment("backend", NS, revision=3, image="registry.test/backend:v2.14.0", replicas=2,
                         created=_ago(days=30))
    images = tuple(f"registry.test/backend:{tag}" for tag in ("v2.12.0", "v2.13.1", "v2.14.0"))
    sets = [replicaset(name, NS, deployment=backend, revision=i + 1, image=images[i],
                       created=_ago(days=days), replicas=replicas)
            for i, (name, days, replicas) in enumerate((
                ("backend-5c6b7d8f9c", 30, 0), ("backend-6f8b9c7d5f", 7, 0), ("backend-7d9f8c6b5d", 0.1, 2)))]
    frontend = deployment("frontend", NS, image="registry.test/frontend:v1.0.0")
    frontend_rs = replicaset("frontend-6f7b9d5c4", NS, deployment=frontend, revision=1,
                             image="registry.test/frontend:v1.0.0", created=_ago(days=3), replicas=1)
    live = sets[2]
    labels = live["spec"]["selector"]["matchLabels"]
    server.add(
        backend, *sets, frontend, frontend_rs,
        pod(CRASHING, NS, labels=labels, phase="Running", ready=False, restarts=7, node="node-a",
            waiting_reason="CrashLoopBackOff", last_termination_reason="OOMKilled",
            last_termination_at=_ago(minutes=2), containers=("backend",), created=_ago(hours=2),
            owner=owner_ref(live)),
        pod(RESTARTED, NS, labels=labels, restarts=1, node="node-b", last_termination_reason="Error",
            last_termination_at=_ago(hours=1), containers=("backend", "istio-proxy"),
            created=_ago(hours=2), owner=owner_ref(live)),
        pod("frontend-6f7b9d5c4-tn2vb", NS, labels=frontend_rs["spec"]["selector"]["matchLabels"],
            node="node-a", created=_ago(days=3), owner=owner_ref(frontend_rs)),
        pod("postgresql-0", NS, labels={"app.kubernetes.io/name": "postgresql"}, node="node-c",
            created=_ago(days=40), owner=owner_ref("StatefulSet", "postgresql", NS)),
        event(NS, "Pod", CRASHING, "BackOff", "Back-off restarting failed container backend",
              type="Warning", count=30, first_seen=_ago(hours=2), last_seen=_ago(minutes=1)),
        event(NS, "Pod", CRASHING, "Pulled",
              'Container image "registry.test/backend:v2.14.0" already present', count=8,
              first_seen=_ago(hours=2), last_seen=_ago(seconds=30)),
        event(NS, "Pod", RESTARTED, "Unhealthy", HOSTILE_MESSAGE, type="Warning", count=3,
              first_seen=_ago(hours=1), last_seen=_ago(minutes=10)),
        event(NS, "Deployment", "backend", "ScalingReplicaSet",
              "Scaled up replica set backend-7d9f8c6b5d from 0 to 1", first_seen=_ago(hours=2),
              last_seen=_ago(hours=2), component="deployment-controller"),
        event(NS, "Pod", "frontend-6f7b9d5c4-tn2vb", "Unhealthy", "Readiness probe failed",
              type="Warning", last_seen=_ago(minutes=3)),
    )
    server.set_logs(NS, CRASHING, [f"line {i}" for i in range(1, 11)] + [
        "ERROR out of memory while loading cache", "\x1b[32mINFO\x1b[0m coloured \x1b]8;;http://x\x07link"])
    server.set_logs(NS, CRASHING, [f"previous {i}" for i in range(1, 6)], previous=True)
    server.set_logs(NS, RESTARTED, ["backend ok"], container="backend")
    server.set_logs(NS, RESTARTED, ["sidecar ok"], container="istio-proxy")


@contextmanager
def cluster(tmp_path: Path, current: str = "prod") -> Iterator[tuple[FaultyKubeServer, Path]]:
    """The test cluster and a kubeconfig with contexts prod and staging (both served here)."""
    with FaultyKubeServer(clock=lambda: NOW) as server:
        populate(server)
        yield server, server.kubeconfig(tmp_path / "kubeconfig", contexts=CONTEXTS, current=current)


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def unreachable_kubeconfig(tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "gone.kubeconfig", {"gone": closed_port_url()}, "gone")


def kubectl_binary() -> str | None:
    return os.environ.get("SHIFTDECK_KUBECTL_BIN") or shutil.which("kubectl")


def kubectl(kubeconfig: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run kubectl (argv, no shell) with its caches under `home`, never the real one."""
    binary = kubectl_binary()
    assert binary, "kubectl is missing: apt-get install kubectl, or set SHIFTDECK_KUBECTL_BIN"
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KUBECONFIG": "/nonexistent"}
    argv = [binary, "--kubeconfig", str(kubeconfig), "--cache-dir", str(home / "cache"), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)

"""Realistic alert data for the benchmarks, and loading it into a real Alertmanager.

`make_alerts(n)` is deterministic (seeded): the same n always gives the same alerts, so the
expected counts (`expected_counts`) can be computed without asking anyone. Every alert has a
unique label set (the pod name carries the index), `startsAt` spread over the last three days
and `endsAt` 30 days ahead, so nothing resolves during a run.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _tests in (REPO / "tests", REPO / "tests" / "support"):  # the helpers, old and new home
    sys.path.insert(0, str(_tests))

import servers  # noqa: E402  (tests/support/servers.py: the real-process helpers)

BATCH = 1000
SEED = 20240601

ALERTNAMES = [
    "KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch",
    "KubeStatefulSetReplicasMismatch", "KubeContainerWaiting", "KubeJobFailed",
    "KubeHpaMaxedOut", "KubeMemoryOvercommit", "KubeCPUOvercommit", "KubePersistentVolumeFillingUp",
    "KubeNodeNotReady", "KubeNodeUnreachable", "KubeletTooManyPods", "KubeClientErrors",
    "NodeFilesystemSpaceFillingUp", "NodeFilesystemAlmostOutOfSpace", "NodeMemoryHighUtilization",
    "NodeCPUHighUsage", "NodeNetworkReceiveErrs", "NodeClockNotSynchronising",
    "TargetDown", "Watchdog", "PrometheusRuleFailures", "PrometheusNotConnectedToAlertmanagers",
    "AlertmanagerFailedToSendAlerts", "EtcdHighNumberOfLeaderChanges", "EtcdMembersDown",
    "HighErrorRate", "HighLatencyP99", "SLOBurnRateFast", "SLOBurnRateSlow",
    "CertificateExpiringSoon", "DatabaseReplicationLag", "DatabaseConnectionsExhausted",
    "QueueBacklogGrowing", "KafkaConsumerLag", "RedisMemoryHigh", "IngressHigh5xxRate",
    "BlackboxProbeFailed", "CronJobMissedSchedule",
]
SEVERITIES = [("critical", 0.15), ("warning", 0.50), ("info", 0.35)]
NAMESPACES = [f"ns-{i}" for i in range(20)]
SERVICES = [f"{word}-{kind}" for word in ("checkout", "payments", "search", "catalog", "auth",
                                           "billing", "ledger", "gateway", "inventory", "orders")
            for kind in ("api", "worker", "db", "cache", "frontend")]
JOBS = ["kube-state-metrics", "node-exporter", "kubelet", "apiserver", "blackbox", "app-metrics"]

WORDS = ("the service is degraded and requests are failing for a subset of users; check recent "
         "deploys, saturation of the backing store, upstream dependencies and the error budget "
         "dashboard before escalating to the owning team according to the runbook").split()


def make_alerts(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """n alerts in the POST /api/v2/alerts shape, each with a unique label set."""
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    ends = _rfc3339(now + timedelta(days=30))
    return [_alert(i, rnd, now, ends) for i in range(n)]


def make_alert(i: int, rnd: random.Random, now: datetime, ends: datetime,
               started: datetime | None = None, severity: str | None = None) -> dict[str, Any]:
    """One alert like `make_alerts`' i-th (unique by `i`), optionally with a given start time
    and severity (the storm fires new alerts that start now, with a chosen severity)."""
    alert = _alert(i, rnd, now, _rfc3339(ends))
    if started is not None:
        alert["startsAt"] = _rfc3339(started)
    if severity is not None:
        alert["labels"]["severity"] = severity
    return alert


def resolved(alert: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The same alert (same labels, same startsAt) with endsAt=`at` in the past: posting it
    resolves the alert; Alertmanager's GET /api/v2/alerts stops listing it at once (it filters
    out alerts whose endsAt has passed) and its GC drops it. `at` must not be before startsAt
    (Alertmanager refuses that with 400)."""
    return {**alert, "endsAt": _rfc3339(at)}


def _alert(i: int, rnd: random.Random, now: datetime, ends: str) -> dict[str, Any]:
    name = rnd.choice(ALERTNAMES)
    severity = rnd.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
    namespace = rnd.choice(NAMESPACES)
    service = rnd.choice(SERVICES)
    pod = f"{service}-{rnd.getrandbits(32):08x}-{i:05x}"
    instance = f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}:9100"
    started = now - timedelta(seconds=rnd.randrange(60, 3 * 86400))
    return {
        "labels": {
            "alertname": name, "severity": severity, "namespace": namespace,
            "service": service, "pod": pod, "instance": instance, "job": rnd.choice(JOBS),
        },
        "annotations": {
            "summary": f"{name} on {service} in {namespace} ({pod})",
            "description": _description(rnd, name, pod),
        },
        "startsAt": _rfc3339(started),
        "endsAt": ends,
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
    }


def _description(rnd: random.Random, name: str, pod: str) -> str:
    text = f"{name} has been firing for {pod}: "
    while len(text) < 200:
        text += rnd.choice(WORDS) + " "
    return text[:200].rstrip()


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def expected_counts(alerts: list[dict[str, Any]]) -> dict[str, int]:
    """Header counts shiftdeck should show with its default severity policy (all firing)."""
    by_severity = Counter(a["labels"]["severity"] for a in alerts)
    return {"P1": by_severity["critical"], "P2": by_severity["warning"],
            "P3": by_severity["info"], "P4": 0}


def start_alertmanager() -> servers.AlertmanagerProcess:
    """A fresh Alertmanager on loopback (caller must close() it)."""
    am = servers.AlertmanagerProcess()
    try:
        am.start()
    except BaseException:
        am.close()
        raise
    return am


def load(am: servers.AlertmanagerProcess, alerts: list[dict[str, Any]]) -> float:
    """Push `alerts` in batches of 1000, wait until GET /api/v2/alerts returns them all.

    Returns the seconds it took.
    """
    t0 = time.monotonic()
    for start in range(0, len(alerts), BATCH):
        am.push_alerts(alerts[start:start + BATCH])
    _wait_for(am.url, len(alerts), timeout=30 + len(alerts) / 250)
    return time.monotonic() - t0


def _wait_for(url: str, count: int, timeout: float) -> None:
    """Until GET /api/v2/alerts returns `count` alerts. Its own client: at 100k one answer
    takes longer than the test helpers' 5 s timeout."""
    import httpx

    deadline = time.monotonic() + timeout
    have = 0
    with httpx.Client(timeout=180.0) as client:  # at 100k one answer took up to 60 s
        while time.monotonic() < deadline:
            try:
                have = len(client.get(url + "/api/v2/alerts").json())
            except httpx.HTTPError:
                pass
            if have == count:
                return
            time.sleep(0.5)
    raise servers.ServerError(f"{url}: expected {count} alerts, have {have} after {timeout}s")


TIMEOUT = "60s"
"""Each request's deadline in the bench's configs. The default 10s is too short at 100k:
Alertmanager alone needs 7-26 s to answer there (curl, this machine), so every poll and
`shiftdeck alerts` timed out. An installation that large must raise it the same way."""


def write_config(path: Path, am_url: str, refresh: str | None = None) -> Path:
    """The shiftdeck config the benchmark runs with: one Alertmanager, defaults for the rest
    (`refresh`, e.g. "2s", overrides the poll interval)."""
    # The bench's own journal, next to its config: never the user's (a storm writes ~30k
    # records a minute).
    journal = path.with_name("journal.jsonl")
    text = (f"journal: '{journal}'\n"
            f"alertmanagers:\n  - {{name: bench, url: '{am_url}', timeout: {TIMEOUT}}}\n")
    if refresh is not None:
        text = f"refresh: {refresh}\n" + text
    path.write_text(text)
    return path


def write_cluster_config(path: Path, am_urls: list[str], cluster: str = "bench") -> Path:
    """The shiftdeck config of one HA cluster: every URL a peer of `cluster` (the way
    sample_config.yaml declares prod-a and prod-b), defaults for the rest."""
    journal = path.with_name("journal.jsonl")
    peers = "".join(f"  - {{name: {cluster}-{i + 1}, url: '{url}', cluster: {cluster}, "
                    f"timeout: {TIMEOUT}}}\n"
                    for i, url in enumerate(am_urls))
    path.write_text(f"journal: '{journal}'\nalertmanagers:\n{peers}")
    return path

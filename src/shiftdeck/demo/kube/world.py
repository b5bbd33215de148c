"""The demo cluster, told as the demo's alerts tell it: `demo_cluster()` builds the pods the
alerts name, their deployments with rollout history, events and logs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ...domain.kube import deployment_of_pod
from . import logtext
from .events import event
from .objects import Obj, namespace, owner_ref, uid_for
from .pods import pod
from .store import KubeWorld, LogKey
from .workloads import deployment, replicaset

if TYPE_CHECKING:
    from ..scenario import Scenario

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet for generated name suffixes
_REGISTRY = "registry.qawave.test"
_NODES = ("pool-a-5f7k", "pool-a-9d2m", "pool-b-3x8q", "pool-b-7c4w")
_SEC, _MIN, _HOUR, _DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _App:
    namespace: str
    name: str
    replicas: int
    revisions: tuple[tuple[str, timedelta], ...]
    """(image tag, age), oldest first; the last one is live."""
    containers: tuple[str, ...] = ()


_APPS = (
    _App("qawave", "backend", 3, (("v2.13.0", 9 * _DAY), ("v2.13.1", 3 * _DAY), ("v2.14.0", 2 * _HOUR))),
    _App("clipper", "api", 3, (("v5.2.0", 12 * _DAY), ("v5.3.0", 2 * _DAY)), ("api", "envoy")),
    _App("clipper", "auth", 2, (("v1.4.1", 30 * _DAY),)),
    _App("profile", "profile-services", 2, (("v1.8.2", 20 * _DAY), ("v1.9.0", 5 * _HOUR))),
    _App("payments", "webhooks", 2, (("v3.0.4", 8 * _DAY),)),
    _App("payments", "checkout", 3, (("v7.1.0", 15 * _DAY), ("v7.2.0", 4 * _DAY))),
    _App("mahavishnu", "worker", 4, (("v0.9.3", 6 * _DAY), ("v0.9.4", 26 * _HOUR))),
)
_STATEFUL_IMAGES = {"postgresql": "docker.io/library/postgres:16.4", "redis": "docker.io/library/redis:7.4.1",
                    "minio": "quay.io/minio/minio:RELEASE.2024-11-07T00-52-20Z"}


class _Builder:
    """The demo cluster, told as the alerts tell it: a stuck backend rollout in qawave, two
    profile-services pods OOM-killed in a crash loop, an api pod in clipper that was OOM-killed
    once, a worker in mahavishnu restarted by its liveness probe, and healthy neighbours."""

    def __init__(self, now: datetime, seed: int) -> None:
        self.now = now
        self.rng = random.Random(f"shiftdeck-demo-kube-{seed}")
        self.objects: list[Obj] = []
        self.logs: dict[LogKey, list[str]] = {}
        self.ips: set[str] = set()
        self.stories: dict[tuple[str, str], _Story] = {
            ("qawave", "backend"): _StuckRollout(), ("profile", "profile-services"): _OOMLoop(),
            ("clipper", "api"): _OOMOnce(), ("mahavishnu", "worker"): _Restarted()}

    def suffix(self, length: int) -> str:
        return "".join(self.rng.choice(_SAFE) for _ in range(length))

    def ip(self) -> str:
        while True:
            ip = f"10.42.{self.rng.randrange(0, 8)}.{self.rng.randrange(2, 250)}"
            if ip not in self.ips:
                self.ips.add(ip)
                return ip

    def add_event(self, ns: str, kind: str, name: str, reason: str, message: str, *, warning: bool = False,
                  count: int = 1, first: timedelta, last: timedelta, node: str = "",
                  component: str = "kubelet") -> None:
        self.objects.append(event(ns, kind, name, reason, message, type="Warning" if warning else "Normal",
                                  count=count, first_seen=self.now - first, last_seen=self.now - last,
                                  component=component, host=node))

    # -- deployments ----------------------------------------------------------- #

    def app(self, app: _App, alert_pods: Sequence[tuple[str, str]]) -> None:
        """`alert_pods`: (pod name, ip) of the scenario's alerts; they run the live revision."""
        ns, name = app.namespace, app.name
        containers = app.containers or (name,)
        tag, live_age = app.revisions[-1]
        live_hash = alert_pods[0][0].rsplit("-", 2)[1] if alert_pods else self.suffix(10)
        hashes = [self.suffix(10) for _ in app.revisions[:-1]] + [live_hash]
        image = f"{_REGISTRY}/{ns}/{name}:{tag}"
        story = self.stories.get((ns, name))
        depl = deployment(name, ns, revision=len(app.revisions), image=image, replicas=app.replicas,
                          container=containers[0], created=self.now - app.revisions[0][1] - _HOUR,
                          status=story.status(name, live_hash) if story else None)
        self.objects.append(depl)
        live_replicas = story.live_replicas(app.replicas) if story else app.replicas
        for revision, ((rs_tag, age), rs_hash) in enumerate(zip(app.revisions, hashes, strict=True), 1):
            is_live = revision == len(app.revisions)
            replicas = live_replicas if is_live else (story.previous_replicas(app.replicas)
                                                      if story and revision == len(app.revisions) - 1 else 0)
            rs_name = f"{name}-{rs_hash}"
            rs = replicaset(rs_name, ns, deployment=depl, revision=revision,
                            image=f"{_REGISTRY}/{ns}/{name}:{rs_tag}", created=self.now - age,
                            replicas=replicas, ready=story.ready(is_live, replicas) if story else replicas,
                            container=containers[0], change_cause=f"argocd: sync {ns}/{name} to {rs_tag}")
            self.objects.append(rs)
            self.add_event(ns, "Deployment", name, "ScalingReplicaSet",
                           f"Scaled up replica set {rs_name} from 0 to {1 if revision > 1 else app.replicas}",
                           first=age, last=age, component="deployment-controller")
            if replicas == 0 and revision < len(app.revisions):
                done = app.revisions[revision][1] - 3 * _MIN
                self.add_event(ns, "Deployment", name, "ScalingReplicaSet",
                               f"Scaled down replica set {rs_name} from 1 to 0", first=done, last=done,
                               component="deployment-controller")
            names = [p for p, _ in alert_pods] if is_live else []
            while len(names) < replicas:
                names.append(f"{rs_name}-{self.suffix(5)}")
            ips = dict(alert_pods)
            for pod_name in names:
                node = self.rng.choice(_NODES)
                labels = rs["spec"]["selector"]["matchLabels"]
                kwargs = story.pod(pod_name in ips, self.now) if story else {}
                created = kwargs.pop("created", self.now - age + 2 * _MIN)
                ip = ips.get(pod_name) or self.ip()
                self.objects.append(pod(
                    pod_name, ns, labels=labels, node=node, containers=containers,
                    images=[f"{_REGISTRY}/{ns}/{name}:{rs_tag}"] + [
                        "docker.io/envoyproxy/envoy:v1.31.2"] * (len(containers) - 1),
                    created=created, owner=owner_ref(rs), ip=ip, **kwargs))
                self.pod_story(story, ns, name, pod_name, containers, node, ip, rs_tag, pod_name in ips)

    def pod_story(self, story: _Story | None, ns: str, app: str, pod_name: str,
                  containers: Sequence[str], node: str, ip: str, tag: str, alerting: bool) -> None:
        if story is not None:
            story.tell(self, ns, pod_name, node, ip, tag, alerting)
        else:
            self.logs[(ns, pod_name, containers[0], False)] = logtext.service_log(self, app, tag)
        for sidecar in containers[1:]:
            self.logs[(ns, pod_name, sidecar, False)] = logtext.envoy_log(self)

    # -- stateful pods ------------------------------------------------------------ #

    def stateful(self, ns: str, service: str, pod_name: str) -> None:
        owner_name = pod_name.rsplit("-", 1)[0]
        node = self.rng.choice(_NODES)
        kwargs: Obj = {}
        if service == "redis":  # RedisDown: restarted, not ready again yet
            kwargs = {"ready": False, "restarts": 3, "last_termination_reason": "Error",
                      "last_termination_at": self.now - 4 * _MIN}
            self.add_event(ns, "Pod", pod_name, "Unhealthy",
                           "Readiness probe failed: Could not connect to Redis at localhost:6379: "
                           "Connection refused", warning=True, count=17, first=40 * _MIN, last=25 * _SEC,
                           node=node)
            self.add_event(ns, "Pod", pod_name, "Killing",
                           "Container redis failed liveness probe, will be restarted", count=3,
                           first=38 * _MIN, last=4 * _MIN, node=node)
        elif pod_name == "postgresql-1":
            self.add_event(ns, "Pod", pod_name, "Unhealthy",
                           "Readiness probe failed: replication lag 47s exceeds 30s", warning=True,
                           count=12, first=35 * _MIN, last=2 * _MIN, node=node)
        image = _STATEFUL_IMAGES.get(service, f"{_REGISTRY}/{ns}/{service}:stable")
        self.objects.append(pod(
            pod_name, ns,
            labels={"app.kubernetes.io/name": service, "statefulset.kubernetes.io/pod-name": pod_name},
            node=node, containers=(service,), images=[image], created=self.now - 41 * _DAY,
            owner=owner_ref("StatefulSet", owner_name, ns), ip=self.ip(), **kwargs))
        self.logs[(ns, pod_name, service, False)] = logtext.stateful_log(self, service)
        if kwargs.get("last_termination_reason"):
            self.logs[(ns, pod_name, service, True)] = logtext.stateful_log(self, service, crashed=True)


class _Story:
    """How one deployment misbehaves: statuses, its pods, their events and logs."""

    def status(self, name: str, live_hash: str) -> Obj | None:
        return None

    def live_replicas(self, replicas: int) -> int:
        return replicas

    def previous_replicas(self, replicas: int) -> int:
        return 0

    def ready(self, live: bool, replicas: int) -> int:
        return replicas

    def pod(self, alerting: bool, now: datetime) -> Obj:
        return {}

    def tell(self, b: _Builder, ns: str, pod_name: str, node: str, ip: str, tag: str,
             alerting: bool) -> None:
        b.logs[(ns, pod_name, "", False)] = logtext.service_log(b, pod_name.rsplit("-", 2)[0], tag)


class _StuckRollout(_Story):
    """qawave/backend: v2.14.0's migration fails, its one surge pod crash-loops (Error), the
    three v2.13.1 pods keep serving, the rollout has exceeded its progress deadline."""

    def status(self, name: str, live_hash: str) -> Obj:
        return {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
                "unavailableReplicas": 1,
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                "message": "Deployment has minimum availability."},
                               {"type": "Progressing", "status": "False",
                                "reason": "ProgressDeadlineExceeded",
                                "message": f'ReplicaSet "{name}-{live_hash}" has timed out progressing.'}]}

    def live_replicas(self, replicas: int) -> int:
        return 1

    def previous_replicas(self, replicas: int) -> int:
        return replicas

    def ready(self, live: bool, replicas: int) -> int:
        return 0 if live else replicas

    def pod(self, alerting: bool, now: datetime) -> Obj:
        if not alerting:
            return {}
        return {"ready": False, "restarts": 23, "waiting_reason": "CrashLoopBackOff",
                "last_termination_reason": "Error", "last_termination_at": now - 70 * _SEC,
                "created": now - 2 * _HOUR + _MIN}

    def tell(self, b: _Builder, ns: str, pod_name: str, node: str, ip: str, tag: str,
             alerting: bool) -> None:
        if not alerting:
            b.logs[(ns, pod_name, "", False)] = logtext.backend_access_log(b, tag)
            return
        b.logs[(ns, pod_name, "", False)] = logtext.backend_crash_log(b, b.now - 72 * _SEC, tag)
        b.logs[(ns, pod_name, "", True)] = logtext.backend_crash_log(b, b.now - 6 * _MIN, tag)
        b.add_event(ns, "Pod", pod_name, "BackOff",
                    f"Back-off restarting failed container backend in pod {pod_name}_{ns}"
                    f"({uid_for('Pod', ns, pod_name)})", warning=True, count=96,
                    first=118 * _MIN, last=40 * _SEC, node=node)
        b.add_event(ns, "Pod", pod_name, "Unhealthy",
                    f'Startup probe failed: Get "http://{ip}:8080/readyz": dial tcp {ip}:8080: '
                    "connect: connection refused", warning=True, count=24, first=118 * _MIN, last=_MIN,
                    node=node)
        b.add_event(ns, "Pod", pod_name, "Pulled",
                    f'Container image "{_REGISTRY}/{ns}/backend:{tag}" already present on machine',
                    count=23, first=117 * _MIN, last=70 * _SEC, node=node)
        b.add_event(ns, "Pod", pod_name, "Started", "Started container backend", count=24,
                    first=118 * _MIN, last=69 * _SEC, node=node)
        b.add_event(ns, "Pod", pod_name, "Scheduled",
                    f"Successfully assigned {ns}/{pod_name} to {node}", first=119 * _MIN,
                    last=119 * _MIN, component="default-scheduler")
        b.add_event(ns, "Deployment", "backend", "ProgressDeadlineExceeded",
                    f'ReplicaSet "{pod_name.rsplit("-", 1)[0]}" has timed out progressing.',
                    warning=True, first=108 * _MIN, last=108 * _MIN, component="deployment-controller")


class _OOMLoop(_Story):
    """profile/profile-services v1.9.0 warms a cache that outgrows its 256Mi limit: OOMKilled,
    CrashLoopBackOff, on every replica."""

    def status(self, name: str, live_hash: str) -> Obj:
        return {"readyReplicas": 0, "availableReplicas": 0, "unavailableReplicas": 2,
                "conditions": [{"type": "Available", "status": "False",
                                "reason": "MinimumReplicasUnavailable",
                                "message": "Deployment does not have minimum availability."},
                               {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                                "message": f'ReplicaSet "{name}-{live_hash}" has successfully progressed.'}]}

    def ready(self, live: bool, replicas: int) -> int:
        return 0 if live else replicas

    def __init__(self) -> None:
        self.restarts = iter((12, 9, 7, 7, 7))

    def pod(self, alerting: bool, now: datetime) -> Obj:
        return {"ready": False, "restarts": next(self.restarts, 7), "waiting_reason": "CrashLoopBackOff",
                "last_termination_reason": "OOMKilled", "last_termination_at": now - 2 * _MIN}

    def tell(self, b: _Builder, ns: str, pod_name: str, node: str, ip: str, tag: str,
             alerting: bool) -> None:
        b.logs[(ns, pod_name, "", False)] = logtext.oom_log(b, b.now - 5 * _MIN, tag)
        b.logs[(ns, pod_name, "", True)] = logtext.oom_log(b, b.now - 11 * _MIN, tag)
        b.add_event(ns, "Pod", pod_name, "BackOff",
                    f"Back-off restarting failed container profile-services in pod {pod_name}_{ns}"
                    f"({uid_for('Pod', ns, pod_name)})", warning=True, count=38 - len(b.logs) % 11,
                    first=4 * _HOUR, last=20 * _SEC, node=node)
        b.add_event(ns, "Pod", pod_name, "Pulled",
                    f'Container image "{_REGISTRY}/{ns}/profile-services:{tag}" already present on machine',
                    count=12, first=4 * _HOUR + 30 * _MIN, last=5 * _MIN, node=node)


class _OOMOnce(_Story):
    """clipper/api: the alerting pod was OOM-killed 47 minutes ago and is near its limit again."""

    def pod(self, alerting: bool, now: datetime) -> Obj:
        if not alerting:
            return {}
        return {"restarts": 2, "last_termination_reason": "OOMKilled", "last_termination_at": now - 47 * _MIN,
                "started": now - 47 * _MIN}

    def tell(self, b: _Builder, ns: str, pod_name: str, node: str, ip: str, tag: str,
             alerting: bool) -> None:
        b.logs[(ns, pod_name, "api", False)] = logtext.api_log(b, tag, alerting)
        if alerting:
            b.logs[(ns, pod_name, "api", True)] = logtext.api_log(b, tag, alerting, previous=True)
            b.add_event(ns, "Pod", pod_name, "Unhealthy",
                        f'Liveness probe failed: Get "http://{ip}:8080/healthz": context deadline '
                        "exceeded (Client.Timeout exceeded while awaiting headers)", warning=True, count=4,
                        first=52 * _MIN, last=3 * _MIN, node=node)
            b.add_event(ns, "Pod", pod_name, "Pulled",
                        f'Container image "{_REGISTRY}/{ns}/api:{tag}" already present on machine',
                        count=2, first=26 * _HOUR, last=47 * _MIN, node=node)


class _Restarted(_Story):
    """mahavishnu/worker: one replica restarted by its liveness probe while the queue backs up."""

    def __init__(self) -> None:
        self.told = False

    def pod(self, alerting: bool, now: datetime) -> Obj:
        if self.told:
            return {}
        return {"restarts": 5, "last_termination_reason": "Error", "last_termination_at": now - 20 * _MIN,
                "started": now - 20 * _MIN}

    def tell(self, b: _Builder, ns: str, pod_name: str, node: str, ip: str, tag: str,
             alerting: bool) -> None:
        b.logs[(ns, pod_name, "", False)] = logtext.worker_log(b, tag)
        if self.told:
            return
        self.told = True
        b.logs[(ns, pod_name, "", True)] = logtext.worker_log(b, tag, previous=True)
        b.add_event(ns, "Pod", pod_name, "Unhealthy",
                    "Liveness probe failed: HTTP probe failed with statuscode: 503", warning=True,
                    count=15, first=3 * _HOUR, last=21 * _MIN, node=node)
        b.add_event(ns, "Pod", pod_name, "Killing",
                    "Container worker failed liveness probe, will be restarted", count=5,
                    first=3 * _HOUR, last=20 * _MIN, node=node)


def demo_cluster(scenario: Scenario, now: datetime, seed: int = 7) -> KubeWorld:
    """The demo cluster for `scenario`: its alerts' pods exist under the same names, in the
    namespaces and deployments the alerts name. Deterministic for a given `now` and seed."""
    builder = _Builder(now.astimezone(UTC).replace(microsecond=0), seed)
    alert_pods: dict[tuple[str, str], dict[str, str]] = {}
    stateful: dict[tuple[str, str], str] = {}
    for actor in scenario.actors:
        labels = actor.labels
        ns, pod_name = labels.get("namespace", ""), labels.get("pod", "")
        if not (ns and pod_name):
            continue
        owner = deployment_of_pod(pod_name)
        host = labels.get("instance", "").rpartition(":")[0]
        if owner:
            ip = host if labels.get("job") not in ("kubelet", "kube-state-metrics") else ""
            alert_pods.setdefault((ns, owner), {})[pod_name] = ip
        else:
            stateful[(ns, pod_name)] = labels.get("service", pod_name.rsplit("-", 1)[0])
    builder.ips.update(ip for pods in alert_pods.values() for ip in pods.values() if ip)
    apps = list(_APPS)
    known = {(a.namespace, a.name) for a in apps}
    apps += [_App(ns, name, len(pods), (("v1.0.0", 7 * _DAY),))
             for (ns, name), pods in sorted(alert_pods.items()) if (ns, name) not in known]
    for app in apps:
        builder.app(app, sorted(alert_pods.get((app.namespace, app.name), {}).items()))
    for (ns, pod_name), service in sorted(stateful.items()):
        builder.stateful(ns, service, pod_name)
    for ns in ("default", "kube-system", *sorted({a.namespace for a in apps})):
        builder.objects.append(namespace(ns, now - 400 * _DAY))
    return KubeWorld(tuple(builder.objects), builder.logs)


# -- log lines ------------------------------------------------------------------ #

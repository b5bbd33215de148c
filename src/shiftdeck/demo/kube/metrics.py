"""metrics.k8s.io/v1beta1 PodMetrics, what metrics-server serves and `kubectl top pods` reads:
one usage sample per running container of the demo's pods, derived from the pod (its name
picks the numbers; a container that was OOM-killed is near its memory limit again)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from .answers import Answer, json_answer, not_found, status_answer
from .objects import Obj, rfc3339
from .store import KubeStore

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
WINDOW = "20.037s"
OOM_LIMIT_MI = 1843
"""The memory limit (1.80GiB, as clipper/api's log says) of a container that was OOM-killed:
it is at 97% of it again."""

API_GROUP: Obj = {"name": GROUP, "versions": [{"groupVersion": GROUP_VERSION, "version": VERSION}],
                  "preferredVersion": {"groupVersion": GROUP_VERSION, "version": VERSION}}
RESOURCE_LIST: Obj = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
    "resources": [{"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics",
                   "verbs": ["get", "list"]}]}


def pod_metrics_answer(store: KubeStore, parts: list[str], query: Mapping[str, str],
                       now: datetime) -> Answer:
    """The answer for /apis/metrics.k8s.io/v1beta1/[namespaces/<ns>/]pods[/<name>] (`parts`:
    what follows the group version)."""
    namespace = ""
    if parts[:1] == ["namespaces"] and len(parts) >= 3:
        namespace, parts = parts[1], parts[2:]
    if not parts or parts[0] != "pods" or len(parts) > 2:
        return status_answer(404, "NotFound", "the server could not find the requested resource")
    if len(parts) == 2:
        pod = store.get("pods", namespace, parts[1])
        metrics = pod_metrics(pod, now) if pod is not None else None
        return json_answer(metrics) if metrics else not_found("pods.metrics.k8s.io", parts[1])
    page = store.page("pods", namespace, {"labelSelector": query.get("labelSelector", "")})
    items = [m for m in (pod_metrics(pod, now) for pod in page.items) if m is not None]
    return json_answer({"kind": "PodMetricsList", "apiVersion": GROUP_VERSION,
                        "metadata": {"resourceVersion": ""},
                        "items": [{k: v for k, v in m.items() if k not in ("kind", "apiVersion")}
                                  for m in items]})


def pod_metrics(pod: Obj, now: datetime) -> Obj | None:
    """The pod's PodMetrics, or None when it has no running container (metrics-server has no
    sample for it either)."""
    statuses = pod.get("status", {}).get("containerStatuses", [])
    running = [s for s in statuses if "running" in s.get("state", {})]
    if not running:
        return None
    meta = pod["metadata"]
    return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION,
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                         "labels": dict(meta.get("labels", {})),
                         "creationTimestamp": rfc3339(now)},
            "timestamp": rfc3339(now), "window": WINDOW,
            "containers": [{"name": s["name"], "usage": _usage(meta["name"], s)} for s in running]}


def _usage(pod_name: str, status: Obj) -> dict[str, str]:
    digest = hashlib.sha256(f"{pod_name}/{status['name']}".encode()).digest()
    cpu_millis = 5 + digest[0] * 2
    memory_mi = 40 + digest[1] * 2
    last = status.get("lastState", {}).get("terminated", {})
    if last.get("reason") == "OOMKilled":
        memory_mi = OOM_LIMIT_MI * 97 // 100
    return {"cpu": f"{cpu_millis * 1_000_000}n", "memory": f"{memory_mi * 1024}Ki"}

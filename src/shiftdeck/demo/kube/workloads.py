"""Deployments and their ReplicaSets: the rollout history `kubectl rollout history` reads
from the ReplicaSets' revision annotations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .objects import Obj, age_of, metadata, owner_ref

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _template(labels: Mapping[str, str], container: str, image: str,
              annotations: Mapping[str, str] | None = None) -> Obj:
    meta: Obj = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"metadata": meta,
            "spec": {"containers": [{"name": container, "image": image, "imagePullPolicy": "IfNotPresent",
                                     "resources": {}}],
                     "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                     "schedulerName": "default-scheduler"}}


def deployment(name: str, namespace: str, *, selector: Mapping[str, str] | None = None,
               revision: int = 1, image: str = "", replicas: int = 1, container: str = "",
               created: datetime | None = None, status: Mapping[str, Any] | None = None,
               change_cause: str = "") -> Obj:
    """A Deployment at `revision`, selecting `selector` (default app.kubernetes.io/name=<name>).
    `status` overrides the all-ready status (e.g. a stuck rollout)."""
    selector = dict(selector or {"app.kubernetes.io/name": name})
    image = image or f"registry.test/{name}:latest"
    annotations = {CHANGE_CAUSE: change_cause} if change_cause else None
    full_status: Obj = {
        "observedGeneration": revision, "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                        "message": "Deployment has minimum availability."},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{name}" has successfully progressed.'}]}
    full_status.update(status or {})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {**metadata("Deployment", name, namespace, created, selector,
                             {REVISION: str(revision)}), "generation": revision},
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                 "template": _template(selector, container or name, image, annotations),
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": full_status,
    }


def replicaset(name: str, namespace: str, *, deployment: Obj, revision: int, image: str,
               created: datetime | None = None, replicas: int = 0, ready: int | None = None,
               container: str = "", change_cause: str = "") -> Obj:
    """A ReplicaSet owned by `deployment` (a dict from deployment()), annotated with its
    rollout revision; `name` should be `<deployment>-<pod-template-hash>`."""
    template_hash = name.rsplit("-", 1)[-1]
    selector = {**deployment["spec"]["selector"]["matchLabels"], "pod-template-hash": template_hash}
    container = container or deployment["spec"]["template"]["spec"]["containers"][0]["name"]
    annotations = {CHANGE_CAUSE: change_cause} if change_cause else None
    ready = replicas if ready is None else ready
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": metadata("ReplicaSet", name, namespace, created, selector,
                          {REVISION: str(revision),
                           "deployment.kubernetes.io/desired-replicas": str(deployment["spec"]["replicas"]),
                           "deployment.kubernetes.io/max-replicas": str(deployment["spec"]["replicas"] + 1)},
                          owner_ref(deployment)),
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                 "template": _template(selector, container, image, annotations)},
        "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
                   "availableReplicas": ready, "observedGeneration": 1},
    }


# --------------------------------------------------------------------------- #
# Selectors
# --------------------------------------------------------------------------- #


def workload_cells(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    selector = ",".join(f"{k}={v}" for k, v in spec.get("selector", {}).get("matchLabels", {}).items())
    tail = [",".join(c["name"] for c in containers), ",".join(c.get("image", "") for c in containers),
            selector]
    age = age_of(now, obj["metadata"].get("creationTimestamp"))
    if obj["kind"] == "Deployment":
        return [obj["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
                status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age, *tail]
    return [obj["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age, *tail]


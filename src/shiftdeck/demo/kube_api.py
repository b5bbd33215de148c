"""A Kubernetes API server on loopback, fed from fixture objects (for tests and the demo).

There is no kube-apiserver here, so this speaks just enough of its REST API for the real
`kubernetes` Python client and kubectl to talk to it through a generated kubeconfig:

- discovery: /version, /api, /apis, /api/v1, /apis/apps, /apis/apps/v1;
- core/v1 pods (list, get, log), events, namespaces; apps/v1 deployments, replicasets; list
  filters `labelSelector`, `fieldSelector`, `limit` + `continue`;
- Table answers (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which `kubectl get`
  asks for and prints column by column;
- kubeconfigs with a context per "cluster", each served at `<url>/clusters/<context>` so the
  request log says which context was used, and a token user each (client-go sends no token
  over plain http, so none is accepted; a wrong one gets 401);
- read-only (writes → 405), and faults for tests: `forbid()` (403 Status as RBAC writes it),
  `fail()` (5xx), `delay()` (timeouts).

`demo_cluster()` builds the demo's world from the demo scenario: the alerts' pods under their
names, their deployments with rollout history, events and logs.

Objects are plain dicts shaped like the API's (the builders below fill in what clients
require). It never writes to stderr: the demo runs under a full-screen TUI. Stdlib only (no
`kubernetes` import: the clients under test bring their own).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..domain.kube import deployment_of_pod
from .server import QuietServer

if TYPE_CHECKING:
    from .scenario import Scenario

SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "shiftdeck-demo",
                  "gitTreeState": "clean", "buildDate": "2025-04-22T16:03:43Z", "goVersion": "go1.23.6",
                  "compiler": "gc", "platform": "linux/amd64"}
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
DEFAULT_USER = "oncall"
Obj = dict[str, Any]


# --------------------------------------------------------------------------- #
# Fixture builders: objects as the API returns them
# --------------------------------------------------------------------------- #


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def uid_for(kind: str, namespace: str, name: str) -> str:
    """Deterministic UIDs: the same fixture has the same UID in every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shiftdeck-demo/{kind}/{namespace}/{name}"))


def _meta(kind: str, name: str, namespace: str, created: datetime | None,
          labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None,
          owner: Obj | None = None) -> Obj:
    meta: Obj = {"name": name, "uid": uid_for(kind, namespace, name), "resourceVersion": "1",
                 "creationTimestamp": rfc3339(created or datetime.now(UTC))}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return meta


def owner_ref(obj_or_kind: Obj | str, name: str = "", namespace: str = "",
              api_version: str = "") -> Obj:
    """A controller ownerReference to `obj` (a dict) or to (kind, name, namespace)."""
    if isinstance(obj_or_kind, dict):
        kind, meta = obj_or_kind["kind"], obj_or_kind["metadata"]
        name, uid = meta["name"], meta["uid"]
        api_version = obj_or_kind["apiVersion"]
    else:
        kind, uid = obj_or_kind, uid_for(obj_or_kind, namespace, name)
        api_version = api_version or ("v1" if kind in ("Node", "Pod") else "apps/v1")
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": True}


def namespace(name: str, created: datetime | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta("Namespace", name, "", created,
                              {"kubernetes.io/metadata.name": name}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


_EXIT_CODES = {"OOMKilled": 137, "Error": 1, "Completed": 0, "ContainerCannotRun": 128}


def pod(name: str, namespace: str, *, labels: Mapping[str, str] | None = None,
        phase: str = "Running", ready: bool | int = True, restarts: int = 0,
        node: str = "node-1", last_termination_reason: str = "",
        last_termination_at: datetime | None = None, waiting_reason: str = "",
        containers: Sequence[str] = ("app",), images: Sequence[str] | None = None,
        created: datetime | None = None, owner: Obj | None = None, ip: str = "10.42.0.10",
        started: datetime | None = None, annotations: Mapping[str, str] | None = None) -> Obj:
    """A pod whose first container carries the restarts, the waiting reason (e.g.
    CrashLoopBackOff) and the last termination (OOMKilled → exit 137, Error → 1).
    `ready`: True all containers, False none, an int that many."""
    created = created or datetime.now(UTC)
    started = started or created
    images = list(images) if images is not None else [f"registry.test/{c}:latest" for c in containers]
    ready_count = len(containers) if ready is True else 0 if ready is False else int(ready)
    statuses = []
    for i, container in enumerate(containers):
        is_ready = i < ready_count and phase == "Running" and not (i == 0 and waiting_reason)
        state: Obj
        if i == 0 and waiting_reason:
            message = (f"back-off 5m0s restarting failed container={container} pod={name}_{namespace}"
                       f"({uid_for('Pod', namespace, name)})" if waiting_reason == "CrashLoopBackOff"
                       else "")
            state = {"waiting": {"reason": waiting_reason, **({"message": message} if message else {})}}
        elif phase == "Running":
            state = {"running": {"startedAt": rfc3339(started)}}
        elif phase == "Succeeded":
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": rfc3339(started),
                                    "finishedAt": rfc3339(started)}}
        else:
            state = {"waiting": {"reason": "ContainerCreating"}}
        container_id = uid_for("Container", namespace, f"{name}/{container}").replace("-", "")
        image_digest = uid_for("Image", "", images[i]).replace("-", "").ljust(64, "0")[:64]
        status: Obj = {"name": container, "image": images[i], "imageID": f"{images[i]}@sha256:{image_digest}",
                       "containerID": f"containerd://{container_id}",
                       "ready": is_ready, "started": "running" in state,
                       "restartCount": restarts if i == 0 else 0, "state": state, "lastState": {}}
        if i == 0 and last_termination_reason:
            finished = last_termination_at or started
            status["lastState"] = {"terminated": {
                "exitCode": _EXIT_CODES.get(last_termination_reason, 2),
                "reason": last_termination_reason,
                "startedAt": rfc3339(finished - timedelta(minutes=3)), "finishedAt": rfc3339(finished),
                "containerID": status["containerID"][:-4] + "beef"}}
        statuses.append(status)
    all_ready = phase == "Running" and all(s["ready"] for s in statuses)
    conditions = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": rfc3339(created)},
        {"type": "Initialized", "status": "True", "lastTransitionTime": rfc3339(created)},
        {"type": "ContainersReady", "status": str(all_ready), "lastTransitionTime": rfc3339(started)},
        {"type": "Ready", "status": str(all_ready), "lastTransitionTime": rfc3339(started)},
    ]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _meta("Pod", name, namespace, created, labels, annotations, owner),
        "spec": {"containers": [{"name": c, "image": images[i], "imagePullPolicy": "IfNotPresent",
                                 "resources": {}} for i, c in enumerate(containers)],
                 "nodeName": node, "restartPolicy": "Always", "serviceAccountName": "default",
                 "schedulerName": "default-scheduler", "dnsPolicy": "ClusterFirst"},
        "status": {"phase": phase, "conditions": conditions,
                   "hostIP": f"10.0.0.{sum(map(ord, node)) % 200 + 2}",
                   "podIP": ip, "podIPs": [{"ip": ip}], "startTime": rfc3339(created),
                   "qosClass": "Burstable", "containerStatuses": statuses},
    }


def event(namespace: str, kind: str, name: str, reason: str, message: str, *,
          type: str = "Normal", count: int = 1, first_seen: datetime | None = None,  # noqa: A002
          last_seen: datetime | None = None, component: str = "kubelet", host: str = "",
          field_path: str = "") -> Obj:
    """A core/v1 Event about `kind`/`name` (Pod, Deployment, ReplicaSet...)."""
    last_seen = last_seen or datetime.now(UTC)
    first_seen = first_seen or last_seen
    digest = uid_for("Event", namespace, f"{kind}/{name}/{reason}/{message}").replace("-", "")[:16]
    involved: Obj = {"kind": kind, "namespace": namespace, "name": name,
                     "uid": uid_for(kind, namespace, name),
                     "apiVersion": "v1" if kind == "Pod" else "apps/v1"}
    if field_path:
        involved["fieldPath"] = field_path
    source: Obj = {"component": component, **({"host": host} if host else {})}
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": _meta("Event", f"{name}.{digest}", namespace, first_seen),
        "involvedObject": involved, "reason": reason, "message": message, "source": source,
        "firstTimestamp": rfc3339(first_seen), "lastTimestamp": rfc3339(last_seen),
        "count": count, "type": type, "eventTime": None,
        "reportingComponent": component, "reportingInstance": host,
    }


def _template(labels: Mapping[str, str], container: str, image: str,
              annotations: Mapping[str, str] | None = None) -> Obj:
    metadata: Obj = {"labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata,
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
        "metadata": {**_meta("Deployment", name, namespace, created, selector,
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
        "metadata": _meta("ReplicaSet", name, namespace, created, selector,
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


class BadRequest(ValueError):
    """A request the API server would answer with 400."""


_SET_REQUIREMENT = re.compile(r"\s*(\S+?)\s+(in|notin)\s+\(([^)]*)\)\s*")
_EQUALITY = re.compile(r"\s*([^\s=!]+)\s*(==|=|!=)\s*([^\s,]*)\s*")
_EXISTS = re.compile(r"\s*(!?)\s*([^\s=!(),]+)\s*")


def _split_requirements(selector: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def label_selector(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """A matcher for `a=b,c!=d,e in (x,y),f notin (z),g,!h`; BadRequest when it does not parse."""
    tests: list[Callable[[Mapping[str, str]], bool]] = []
    for requirement in _split_requirements(selector):
        if match := _SET_REQUIREMENT.fullmatch(requirement):
            key, operator = match.group(1), match.group(2)
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            if operator == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif match := _EQUALITY.fullmatch(requirement):
            key, operator, value = match.groups()
            if operator == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match := _EXISTS.fullmatch(requirement):
            negated, key = match.groups()
            if negated:
                tests.append(lambda labels, k=key: k not in labels)
            else:
                tests.append(lambda labels, k=key: k in labels)
        else:
            raise BadRequest(f"unable to parse requirement: {requirement.strip()!r}")
    return lambda labels: all(test(labels) for test in tests)


_FIELDS = {
    "pods": {"metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
             "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP"},
    "events": {"metadata.name", "metadata.namespace", "involvedObject.kind",
               "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    "namespaces": {"metadata.name", "status.phase"},
    "deployments": {"metadata.name", "metadata.namespace"},
    "replicasets": {"metadata.name", "metadata.namespace", "status.replicas"},
}


def _field(obj: Obj, path: str) -> str:
    if path == "source":
        path = "source.component"
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def field_selector(resource: str, selector: str) -> Callable[[Obj], bool]:
    tests: list[Callable[[Obj], bool]] = []
    for requirement in _split_requirements(selector):
        match = _EQUALITY.fullmatch(requirement)
        if match is None:
            raise BadRequest(f"invalid field selector: {requirement.strip()!r}")
        path, operator, value = match.groups()
        if path not in _FIELDS.get(resource, ()):
            raise BadRequest(f'field label not supported: {path}')
        if operator == "!=":
            tests.append(lambda obj, p=path, v=value: _field(obj, p) != v)
        else:
            tests.append(lambda obj, p=path, v=value: _field(obj, p) == v)
    return lambda obj: all(test(obj) for test in tests)


# --------------------------------------------------------------------------- #
# Tables (what `kubectl get` prints)
# --------------------------------------------------------------------------- #


def human_duration(delta: timedelta) -> str:
    """apimachinery's duration.HumanDuration: 45s, 3m20s, 47m, 5h12m, 22h, 3d4h, 120d, 2y30d."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m" if seconds % 60 == 0 else f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, hours // 24 % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _column(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> Obj:
    return {"name": name, "type": type_, "format": fmt, "description": name, "priority": priority}


def _age(now: datetime, text: object) -> str:
    at = parse_time(text)
    return "<unknown>" if at is None else human_duration(now - at)


def _pod_cells(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status", {})
    reason = status.get("reason") or status.get("phase", "")
    restarts, ready, last_restart = 0, 0, None
    statuses = status.get("containerStatuses", [])
    for container in reversed(statuses):
        restarts += container.get("restartCount", 0)
        finished = parse_time(container.get("lastState", {}).get("terminated", {}).get("finishedAt"))
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
        state = container.get("state", {})
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif container.get("ready") and "running" in state:
            ready += 1
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    restart_cell = (f"{restarts} ({human_duration(now - last_restart)} ago)" if last_restart
                    else str(restarts))
    return [obj["metadata"]["name"], f"{ready}/{len(obj.get('spec', {}).get('containers', []))}",
            reason, restart_cell, _age(now, obj["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", obj.get("spec", {}).get("nodeName") or "<none>",
            "<none>", "<none>"]


def _event_cells(obj: Obj, now: datetime) -> list[Any]:
    first = obj.get("firstTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    last = obj.get("lastTimestamp") or first
    first_age, last_age = _age(now, first), _age(now, last)
    count = obj.get("count") or 1
    seen = f"{last_age} (x{count} over {first_age})" if count > 1 else last_age
    involved = obj.get("involvedObject", {})
    target = f"{involved.get('kind', '').lower()}/{involved.get('name', '')}"
    source = obj.get("source", {})
    source_text = ", ".join(v for v in (source.get("component"), source.get("host")) if v)
    return [seen, obj.get("type", ""), obj.get("reason", ""), target, involved.get("fieldPath", ""),
            source_text, obj.get("message", ""), first_age, count, obj["metadata"]["name"]]


def _workload_cells(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    selector = ",".join(f"{k}={v}" for k, v in spec.get("selector", {}).get("matchLabels", {}).items())
    tail = [",".join(c["name"] for c in containers), ",".join(c.get("image", "") for c in containers),
            selector]
    age = _age(now, obj["metadata"].get("creationTimestamp"))
    if obj["kind"] == "Deployment":
        return [obj["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
                status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age, *tail]
    return [obj["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age, *tail]


_TABLES: dict[str, tuple[list[Obj], Callable[[Obj, datetime], list[Any]]]] = {
    "pods": ([_column("Name", fmt="name"), _column("Ready"), _column("Status"), _column("Restarts"),
              _column("Age"), _column("IP", priority=1), _column("Node", priority=1),
              _column("Nominated Node", priority=1), _column("Readiness Gates", priority=1)],
             _pod_cells),
    "events": ([_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"),
                _column("Subobject", priority=1), _column("Source", priority=1), _column("Message"),
                _column("First Seen", priority=1), _column("Count", "integer", 1),
                _column("Name", priority=1, fmt="name")],
               _event_cells),
    "deployments": ([_column("Name", fmt="name"), _column("Ready"), _column("Up-to-date", "integer"),
                     _column("Available", "integer"), _column("Age"), _column("Containers", priority=1),
                     _column("Images", priority=1), _column("Selector", priority=1)],
                    _workload_cells),
    "replicasets": ([_column("Name", fmt="name"), _column("Desired", "integer"),
                     _column("Current", "integer"), _column("Ready", "integer"), _column("Age"),
                     _column("Containers", priority=1), _column("Images", priority=1),
                     _column("Selector", priority=1)],
                    _workload_cells),
    "namespaces": ([_column("Name", fmt="name"), _column("Status"), _column("Age")],
                   lambda obj, now: [obj["metadata"]["name"], obj.get("status", {}).get("phase", ""),
                                     _age(now, obj["metadata"].get("creationTimestamp"))]),
}


def _table(resource: str, items: list[Obj], now: datetime, include: str, list_meta: Obj) -> Obj:
    columns, cells = _TABLES[resource]
    rows = []
    for obj in items:
        row: Obj = {"cells": cells(obj, now)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": columns, "rows": rows}


# --------------------------------------------------------------------------- #
# The API: requests → answers, no sockets
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class Resource:
    name: str
    kind: str
    group: str  # "" = core
    namespaced: bool
    short_names: tuple[str, ...] = ()


RESOURCES = {
    "pods": Resource("pods", "Pod", "", True, ("po",)),
    "events": Resource("events", "Event", "", True, ("ev",)),
    "namespaces": Resource("namespaces", "Namespace", "", False, ("ns",)),
    "deployments": Resource("deployments", "Deployment", "apps", True, ("deploy",)),
    "replicasets": Resource("replicasets", "ReplicaSet", "apps", True, ("rs",)),
}
_KIND_TO_RESOURCE = {r.kind: r.name for r in RESOURCES.values()}


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


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


def _json(payload: object, status: int = 200) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")


def status_answer(code: int, reason: str, message: str, details: Obj | None = None) -> Answer:
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return _json(body, code)


_FAILURE_REASONS = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "Timeout"}


@dataclass
class _Faults:
    forbidden: set[tuple[str, str, str | None]] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)
    delays: dict[str | None, float] = field(default_factory=dict)


class KubeApi:
    """The fixture store and the routing: `handle()` turns one request into one answer."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {name: {} for name in RESOURCES}
        self.logs: dict[tuple[str, str, str, bool], list[str]] = {}
        self.tokens: dict[str, str] = {}  # token → user
        self.user = DEFAULT_USER
        """Who RBAC messages name when a request carries no token."""
        self.faults = _Faults()
        self.requests: deque[KubeRequest] = deque(maxlen=10_000)
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._version = 1000

    # -- fixtures ----------------------------------------------------------- #

    def add(self, *objects: Obj) -> None:
        with self.lock:
            for obj in objects:
                resource = _KIND_TO_RESOURCE.get(obj.get("kind", ""))
                if resource is None:
                    raise ValueError(f"the demo API does not serve kind {obj.get('kind')!r}")
                meta = obj["metadata"]
                self._version += 1
                meta["resourceVersion"] = str(self._version)
                key = (meta.get("namespace", ""), meta["name"])
                self.objects[resource][key] = obj
                ns = meta.get("namespace")
                if ns and ("", ns) not in self.objects["namespaces"]:
                    self.objects["namespaces"][("", ns)] = namespace(
                        ns, parse_time(meta.get("creationTimestamp")))

    def set_logs(self, namespace: str, pod: str, lines: Iterable[str], container: str = "",
                 previous: bool = False) -> None:
        """Log lines of `pod`'s `container` ('' = its first container), current or previous."""
        with self.lock:
            self.logs[(namespace, pod, container, previous)] = list(lines)

    # -- dispatch ------------------------------------------------------------ #

    def handle(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str]) -> Answer:
        accept = headers.get("accept", "")
        parts = [p for p in path.split("/") if p]
        context = ""
        if parts[:1] == ["clusters"] and len(parts) >= 2:
            context, parts = parts[1], parts[2:]
        with self.lock:
            self.requests.append(KubeRequest(method, "/" + "/".join(parts), dict(query), accept, context))
        # client-go (kubectl) sends no bearer token over plain http, so none is fine; a wrong one
        # is refused, as the apiserver would.
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token and token not in self.tokens:
            return status_answer(401, "Unauthorized", "Unauthorized")
        user = self.tokens.get(token, self.user)
        target = _route(parts)
        if target is None:
            return self._discovery(parts, method)
        resource, ns, name, sub = target
        self._wait(resource)
        if resource not in RESOURCES or (sub and (resource, sub) != ("pods", "log")):
            return status_answer(404, "NotFound", "the server could not find the requested resource")
        if method != "GET":
            return status_answer(405, "MethodNotAllowed",
                                 "the shiftdeck demo cluster is read-only: the server does not allow "
                                 "this method on the requested resource")
        verb = "get" if name else ("watch" if query.get("watch") in ("1", "true") else "list")
        full = f"{resource}/{sub}" if sub else resource
        if denied := self._denied(user, verb, full, ns, name):
            return denied
        failure = self.faults.failures.get(full) or self.faults.failures.get(resource)
        if failure:
            reason = _FAILURE_REASONS.get(failure, "InternalError")
            return status_answer(failure, reason, f"Internal error occurred: injected failure for {full}")
        try:
            if sub == "log":
                return self._log(ns, name, query)
            if name:
                return self._get(resource, ns, name, query, accept)
            return self._list(resource, ns, query, accept)
        except BadRequest as err:
            return status_answer(400, "BadRequest", str(err))

    def _wait(self, resource: str) -> None:
        seconds = self.faults.delays.get(resource, self.faults.delays.get(None, 0.0))
        if seconds > 0:
            self.released.wait(seconds)

    def _denied(self, user: str, verb: str, resource: str, ns: str, name: str) -> Answer | None:
        with self.lock:
            forbidden = list(self.faults.forbidden)
        for f_verb, f_resource, f_ns in forbidden:
            if f_verb in (verb, "*") and f_resource in (resource, "*") and f_ns in (None, ns):
                group = RESOURCES[resource.split("/")[0]].group
                subject = f'{resource.split("/")[0]} "{name}"' if name else resource.split("/")[0]
                where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
                message = (f'{subject} is forbidden: User "{user}" cannot {verb} resource '
                           f'"{resource}" in API group "{group}"{where}')
                details = {"kind": resource.split("/")[0], **({"name": name} if name else {})}
                return status_answer(403, "Forbidden", message, details)
        return None

    # -- discovery ----------------------------------------------------------- #

    def _discovery(self, parts: list[str], method: str) -> Answer:
        if method != "GET":
            return status_answer(405, "MethodNotAllowed", "the server does not allow this method")
        if parts == ["version"]:
            return _json(SERVER_VERSION)
        if parts == ["api"]:
            return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if parts == ["apis"]:
            return _json({"kind": "APIGroupList", "apiVersion": "v1", "groups": [_APPS_GROUP]})
        if parts == ["apis", "apps"]:
            return _json({"kind": "APIGroup", "apiVersion": "v1", **_APPS_GROUP})
        if parts == ["api", "v1"]:
            return _json(_resource_list("v1", ""))
        if parts == ["apis", "apps", "v1"]:
            return _json(_resource_list("apps/v1", "apps"))
        return status_answer(404, "NotFound", "the server could not find the requested resource")

    # -- reads --------------------------------------------------------------- #

    def _get(self, resource: str, ns: str, name: str, query: Mapping[str, str], accept: str) -> Answer:
        with self.lock:
            obj = self.objects[resource].get((ns, name))
        if obj is None:
            return status_answer(404, "NotFound", f'{resource} "{name}" not found',
                                 {"name": name, "kind": resource})
        if "as=Table" in accept:
            return _json(_table(resource, [obj], self.clock(), query.get("includeObject", "Metadata"),
                                {"resourceVersion": obj["metadata"]["resourceVersion"]}))
        return _json(obj)

    def _list(self, resource: str, ns: str, query: Mapping[str, str], accept: str) -> Answer:
        labels = label_selector(query.get("labelSelector", ""))
        fields = field_selector(resource, query.get("fieldSelector", ""))
        with self.lock:
            items = [obj for (obj_ns, _), obj in sorted(self.objects[resource].items())
                     if (not ns or obj_ns == ns) and labels(obj["metadata"].get("labels", {}))
                     and fields(obj)]
            version = str(self._version)
        offset = _offset(query.get("continue", ""))
        limit = _int(query.get("limit", "0"), "limit")
        page = items[offset:offset + limit] if limit > 0 else items[offset:]
        meta: Obj = {"resourceVersion": version}
        rest = len(items) - offset - len(page)
        if limit > 0 and rest > 0:
            meta["continue"] = f"offset-{offset + len(page)}"
            meta["remainingItemCount"] = rest
        if "as=Table" in accept:
            return _json(_table(resource, page, self.clock(), query.get("includeObject", "Metadata"), meta))
        kind = RESOURCES[resource].kind
        items_out = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in page]
        api_version = "apps/v1" if RESOURCES[resource].group == "apps" else "v1"
        return _json({"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta, "items": items_out})

    def _log(self, ns: str, name: str, query: Mapping[str, str]) -> Answer:
        with self.lock:
            obj = self.objects["pods"].get((ns, name))
        if obj is None:
            return status_answer(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"})
        containers = [c["name"] for c in obj["spec"]["containers"]]
        container = query.get("container", "")
        if not container:
            if len(containers) > 1:
                return status_answer(400, "BadRequest",
                                     f"a container name must be specified for pod {name}, "
                                     f"choose one of: [{' '.join(containers)}]")
            container = containers[0]
        if container not in containers:
            return status_answer(400, "BadRequest", f"container {container} is not valid for pod {name}")
        previous = query.get("previous", "") in ("true", "1")
        status = next((s for s in obj["status"].get("containerStatuses", []) if s["name"] == container), {})
        with self.lock:
            lines = self.logs.get((ns, name, container, previous))
            if lines is None and container == containers[0]:
                lines = self.logs.get((ns, name, "", previous))
        if previous and lines is None and not status.get("lastState", {}).get("terminated"):
            return status_answer(400, "BadRequest",
                                 f'previous terminated container "{container}" in pod "{name}" not found')
        waiting = status.get("state", {}).get("waiting", {}).get("reason", "")
        if not previous and lines is None and waiting in ("ContainerCreating", "PodInitializing"):
            return status_answer(400, "BadRequest",
                                 f'container "{container}" in pod "{name}" is waiting to start: {waiting}')
        lines = list(lines or [])
        tail = _int(query.get("tailLines", "-1"), "tailLines")
        if tail >= 0:
            lines = lines[-tail:] if tail else []
        body = "".join(line + "\n" for line in lines).encode()
        limit = _int(query.get("limitBytes", "0"), "limitBytes")
        if limit > 0:
            body = body[:limit]
        return Answer(200, body, "text/plain")


_APPS_GROUP = {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}


def _resource_list(group_version: str, group: str) -> Obj:
    resources = []
    for r in RESOURCES.values():
        if r.group != group:
            continue
        entry: Obj = {"name": r.name, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                      "kind": r.kind, "verbs": ["get", "list", "watch"], "storageVersionHash": ""}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.name in ("pods", "deployments", "replicasets"):
            entry["categories"] = ["all"]
        resources.append(entry)
        if r.name == "pods":
            resources.append({"name": "pods/log", "singularName": "", "namespaced": True,
                              "kind": "Pod", "verbs": ["get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}


def _route(parts: list[str]) -> tuple[str, str, str, str] | None:
    """(resource, namespace, name, subresource) for a resource path, None for discovery."""
    if parts[:2] == ["api", "v1"]:
        rest = parts[2:]
    elif parts[:3] == ["apis", "apps", "v1"]:
        rest = parts[3:]
    else:
        return None
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
        return rest[0], ns, rest[1] if len(rest) > 1 else "", "/".join(rest[2:])
    return rest[0], "", rest[1] if len(rest) > 1 else "", "/".join(rest[2:])


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"invalid {name}: {text!r}") from None


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.startswith("offset-") or not token[7:].isdigit():
        raise BadRequest("continue key is not valid")
    return int(token[7:])


# --------------------------------------------------------------------------- #
# HTTP plumbing
# --------------------------------------------------------------------------- #


class _Server(QuietServer):
    api: KubeApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "shiftdeck-demo-kube"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence: the default writes every request to stderr, under the TUI."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            self.close_connection = True
            self._send(status_answer(413, "RequestEntityTooLarge", "request body too large"))
            return
        if length:
            self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.api.handle(method, urllib.parse.unquote(url.path), query, headers)
        except Exception as err:  # a bug in the fixture server must not kill the thread
            answer = status_answer(500, "InternalError", f"demo API error: {type(err).__name__}: {err}")
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:  # the client gave up (its timeout)
            self.close_connection = True


class KubeApiServer:
    """The API on 127.0.0.1 and a free port (bound at construction), served by a daemon thread.

        with KubeApiServer() as server:
            server.add(pod("backend-x", "qawave"))
            server.kubeconfig(tmp_path / "kubeconfig", contexts=("prod", "staging"))
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.api = KubeApi(clock)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self.api
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[KubeRequest]:
        with self.api.lock:
            return list(self.api.requests)

    def start(self) -> KubeApiServer:
        if self._thread is None:
            self.api.released.clear()
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="shiftdeck-demo-kube", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.api.released.set()  # delayed answers finish now
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- fixtures and faults ------------------------------------------------- #

    def add(self, *objects: Obj) -> None:
        self.api.add(*objects)

    def set_logs(self, namespace: str, pod: str, lines: Iterable[str], container: str = "",
                 previous: bool = False) -> None:
        self.api.set_logs(namespace, pod, lines, container, previous)

    def load(self, world: KubeWorld) -> None:
        self.add(*world.objects)
        for (ns, pod_name, container, previous), lines in world.logs.items():
            self.set_logs(ns, pod_name, lines, container, previous)

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """RBAC says no: `verb` (get, list, watch, *) on `resource` (pods, pods/log, events, ...)
        in `namespace` (None: everywhere) → 403 with the apiserver's message."""
        with self.api.lock:
            self.api.faults.forbidden.add((verb, resource, namespace))

    def fail(self, resource: str, status: int = 500) -> None:
        """Every request for `resource` (or `pods/log`) answers `status`."""
        self.api.faults.failures[resource] = status

    def delay(self, seconds: float, resource: str | None = None) -> None:
        """Answer requests for `resource` (None: all resources) after `seconds`."""
        self.api.faults.delays[resource] = seconds

    def clear_faults(self) -> None:
        self.api.faults = _Faults()

    # -- kubeconfig ------------------------------------------------------------ #

    def kubeconfig(self, path: str | os.PathLike[str], contexts: Sequence[str] = ("demo",),
                   current: str | None = None, namespace: str = "default",
                   user: str = DEFAULT_USER) -> Path:
        """Write a kubeconfig with one context (and cluster, and token user) per name, all
        served here at `<url>/clusters/<context>`, so requests say which context they used."""
        tokens = {}
        self.api.user = user
        for context in contexts:
            token = f"shiftdeck-demo.{uuid.uuid5(uuid.NAMESPACE_URL, self.url + '/' + context).hex}"
            self.api.tokens[token] = user
            tokens[context] = token
        return write_kubeconfig(path, {c: self.cluster_url(c) for c in contexts}, current or contexts[0],
                                tokens, namespace, user)

    def cluster_url(self, context: str) -> str:
        """The server URL of `context` in kubeconfigs written here."""
        return f"{self.url}/clusters/{urllib.parse.quote(context, safe='')}"


def write_kubeconfig(path: str | os.PathLike[str], servers: Mapping[str, str], current: str,
                     tokens: Mapping[str, str] | None = None, namespace: str = "default",
                     user: str = DEFAULT_USER) -> Path:
    """A kubeconfig (JSON, which is YAML): context → cluster at `servers[context]`, a token
    user each, TLS verification off. Written 0600, as kubeconfigs hold credentials."""
    tokens = tokens or {}
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": current,
        "clusters": [{"name": c, "cluster": {"server": url, "insecure-skip-tls-verify": True}}
                     for c, url in servers.items()],
        "users": [{"name": f"{user}@{c}", "user": {"token": tokens.get(c, "no-token")}} for c in servers],
        "contexts": [{"name": c, "context": {"cluster": c, "user": f"{user}@{c}", "namespace": namespace}}
                     for c in servers],
    }
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(config, out, indent=2)
        out.write("\n")
    return target


# --------------------------------------------------------------------------- #
# The demo cluster
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class KubeWorld:
    objects: tuple[Obj, ...]
    logs: Mapping[tuple[str, str, str, bool], Sequence[str]]


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
        self.logs: dict[tuple[str, str, str, bool], list[str]] = {}
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
            self.logs[(ns, pod_name, containers[0], False)] = _service_log(self, app, tag)
        for sidecar in containers[1:]:
            self.logs[(ns, pod_name, sidecar, False)] = _envoy_log(self)

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
        self.logs[(ns, pod_name, service, False)] = _stateful_log(self, service)
        if kwargs.get("last_termination_reason"):
            self.logs[(ns, pod_name, service, True)] = _stateful_log(self, service, crashed=True)


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
        b.logs[(ns, pod_name, "", False)] = _service_log(b, pod_name.rsplit("-", 2)[0], tag)


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
            b.logs[(ns, pod_name, "", False)] = _backend_access_log(b, tag)
            return
        b.logs[(ns, pod_name, "", False)] = _backend_crash_log(b, b.now - 72 * _SEC, tag)
        b.logs[(ns, pod_name, "", True)] = _backend_crash_log(b, b.now - 6 * _MIN, tag)
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
        b.logs[(ns, pod_name, "", False)] = _oom_log(b, b.now - 5 * _MIN, tag)
        b.logs[(ns, pod_name, "", True)] = _oom_log(b, b.now - 11 * _MIN, tag)
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
        b.logs[(ns, pod_name, "api", False)] = _api_log(b, tag, alerting)
        if alerting:
            b.logs[(ns, pod_name, "api", True)] = _api_log(b, tag, alerting, previous=True)
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
        b.logs[(ns, pod_name, "", False)] = _worker_log(b, tag)
        if self.told:
            return
        self.told = True
        b.logs[(ns, pod_name, "", True)] = _worker_log(b, tag, previous=True)
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


def _stamp(at: datetime, rng: random.Random) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _timeline(b: _Builder, count: int, span: timedelta, end: timedelta = timedelta()) -> list[datetime]:
    """`count` moments, in order, spread over the `span` that ends `end` before now."""
    start, step = b.now - end - span, span / count
    jitter = int(step.total_seconds() * 800)  # ms, under the step: the order holds
    return [start + step * i + timedelta(milliseconds=b.rng.randrange(jitter + 1)) for i in range(count)]


_BACKEND_PATHS = ("/api/v1/runs", "/api/v1/runs/{n}", "/api/v1/suites/{n}/results", "/api/v1/projects",
                  "/healthz", "/api/v1/runs/{n}/artifacts")


def _backend_access_log(b: _Builder, tag: str) -> list[str]:
    rng = b.rng
    lines = []
    errors = {37, 88}
    for i, at in enumerate(_timeline(b, 140, 50 * _MIN)):
        stamp = _stamp(at, rng)
        if i in errors:
            lines.append(f"{stamp} ERROR upstream postgresql.qawave.svc:5432: read: connection reset by peer "
                         f"(request_id={uuid.UUID(int=rng.getrandbits(128)).hex[:12]}, retry 1/3)")
        elif i % 29 == 11:
            lines.append(f"{stamp} WARN  slow query took {rng.randrange(1100, 2900)}ms: "
                         "SELECT ... FROM test_runs WHERE project_id = $1 ORDER BY started_at DESC")
        else:
            path = rng.choice(_BACKEND_PATHS).format(n=rng.randrange(1000, 9999))
            status = rng.choice((200, 200, 200, 200, 201, 304, 404))
            method = "POST" if status == 201 else "GET"
            lines.append(f"{stamp} INFO  {method} {path} {status} {rng.randrange(3, 180)}ms "
                         f"version={tag}")
    return lines


def _backend_crash_log(b: _Builder, start: datetime, tag: str) -> list[str]:
    rng = b.rng
    steps = [
        f"INFO  backend {tag} (commit 4e1d9b2) starting, pid 1",
        "INFO  config loaded from /etc/backend/config.yaml (env=production)",
        "INFO  connecting to postgresql.qawave.svc:5432 database=qawave pool_size=20",
        "INFO  connected to PostgreSQL 16.4",
        "INFO  schema at 0041_run_tags; applying 1 migration",
        "INFO  applying migration 0042_add_run_priority",
        'ERROR migration 0042_add_run_priority failed: column "priority" of relation "test_runs" already '
        "exists (SQLSTATE 42701)",
        "ERROR refusing to serve with a partially migrated schema; exiting with status 1",
    ]
    lines, at = [], start
    for text in steps:
        lines.append(f"{_stamp(at, rng)} {text}")
        at += timedelta(milliseconds=120 + rng.randrange(200))
    return lines


def _oom_log(b: _Builder, start: datetime, tag: str) -> list[str]:
    rng = b.rng
    lines = [f"INFO  profile-services {tag} starting; container memory limit 256Mi",
             "INFO  listening on :8080",
             "INFO  warming profile cache from profile-db.profile.svc:5432 (412000 profiles)"]
    rss = 48
    for done in range(25000, 375001, 25000):
        rss += rng.randrange(12, 16)
        lines.append(f"INFO  cache warm-up: {done}/412000 profiles loaded (rss {rss}Mi)")
        if rss > 230 and "WARN" not in lines[-2]:
            lines.append(f"WARN  rss {rss}Mi is {rss * 100 // 256}% of the 256Mi memory limit")
    return [f"{_stamp(start + i * timedelta(seconds=9), rng)} {text}" for i, text in enumerate(lines)]


def _api_log(b: _Builder, tag: str, alerting: bool, previous: bool = False) -> list[str]:
    rng = b.rng
    end = 47 * _MIN if previous else timedelta()
    lines = []
    for i, at in enumerate(_timeline(b, 120, 40 * _MIN, end)):
        stamp = _stamp(at, rng)
        if alerting and i % 30 == 29:
            heap = 1.45 + i / 120 * (0.3 if previous else 0.2)
            lines.append(f'{stamp} level=warn msg="heap in use {heap:.2f}GiB of 1.80GiB limit, evicting '
                         f'thumbnail cache" version={tag}')
        elif i == 63:
            lines.append(f'{stamp} level=error msg="render clip failed" clip_id={rng.randrange(10**6)} '
                         'err="ffmpeg: exit status 1: moov atom not found"')
        else:
            lines.append(f'{stamp} level=info msg=request method=GET path=/v1/clips/{rng.randrange(10**6)} '
                         f"status=200 duration={rng.randrange(8, 240)}ms")
    return lines


def _envoy_log(b: _Builder) -> list[str]:
    rng = b.rng
    return [f'[{_stamp(at, rng)}] "GET /v1/clips/{rng.randrange(10**6)} HTTP/1.1" 200 - 0 '
            f'{rng.randrange(500, 90000)} {rng.randrange(5, 250)} - "clipper-web/5.3" '
            f'"{uuid.UUID(int=rng.getrandbits(128))}"'
            for at in _timeline(b, 60, 30 * _MIN)]


def _worker_log(b: _Builder, tag: str, previous: bool = False) -> list[str]:
    rng = b.rng
    end = 20 * _MIN if previous else timedelta()
    lines = []
    for i, at in enumerate(_timeline(b, 90, 30 * _MIN, end)):
        stamp = _stamp(at, rng)
        task = 88000 + i * 7 + (0 if previous else 500)
        if i in (41, 77):
            lines.append(f"{stamp} ERROR task {task} (sync_invoices) failed: OperationalError: "
                         "connection pool exhausted (100/100 in use, waited 30s)")
        else:
            name = rng.choice(("render_report", "sync_invoices", "send_digest", "resize_images"))
            lines.append(f"{stamp} INFO  task {task} ({name}) done in {rng.randrange(80, 4000) / 1000:.2f}s "
                         f"worker={tag}")
    if previous:
        lines.append(f"{_stamp(b.now - end, rng)} ERROR event loop blocked for 31.2s; health check failing")
    return lines


def _service_log(b: _Builder, app: str, tag: str) -> list[str]:
    rng = b.rng
    colored = app == "auth"  # this one logs with ANSI colours, as many apps do on a tty
    info = "\x1b[32mINFO\x1b[0m " if colored else "INFO  "
    lines = [f"{info}{app} {tag} listening on :8080"]
    for _ in range(30):
        path = rng.choice(("v1/items", "v1/hooks", "healthz"))
        lines.append(f"{info}{rng.choice(('GET', 'POST'))} /{path} "
                     f"{rng.choice((200, 200, 200, 202, 204))} {rng.randrange(2, 90)}ms")
    return [f"{_stamp(at, rng)} {text}" for at, text in zip(_timeline(b, len(lines), 25 * _MIN), lines,
                                                            strict=True)]


def _stateful_log(b: _Builder, service: str, crashed: bool = False) -> list[str]:
    rng = b.rng
    if service == "redis":
        texts = ["1:M * Ready to accept connections tcp", "1:M * Background saving started by pid 4521",
                 "4521:C * DB saved on disk", "1:M * Background saving terminated with success"] * 5
        if crashed:
            texts.append("1:M # Out of memory allocating 262144 bytes! maxmemory 512mb reached")
    else:
        texts = ["LOG:  checkpoint starting: time",
                 f"LOG:  checkpoint complete: wrote {rng.randrange(300, 3000)} buffers; sync files=41"] * 8
    return [f"{_stamp(at, rng)} {text}" for at, text in zip(_timeline(b, len(texts), 2 * _HOUR), texts,
                                                            strict=True)]

"""Pods: the builder (container states, restarts, terminations), their `kubectl get` row,
and the log endpoint (current or previous container, tail and byte limits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .answers import Answer, not_found, status_answer
from .objects import Obj, age_of, human_duration, metadata, parse_time, rfc3339, uid_for
from .store import KubeStore, number

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
        "metadata": metadata("Pod", name, namespace, created, labels, annotations, owner),
        "spec": {"containers": [{"name": c, "image": images[i], "imagePullPolicy": "IfNotPresent",
                                 "resources": {}} for i, c in enumerate(containers)],
                 "nodeName": node, "restartPolicy": "Always", "serviceAccountName": "default",
                 "schedulerName": "default-scheduler", "dnsPolicy": "ClusterFirst"},
        "status": {"phase": phase, "conditions": conditions,
                   "hostIP": f"10.0.0.{sum(map(ord, node)) % 200 + 2}",
                   "podIP": ip, "podIPs": [{"ip": ip}], "startTime": rfc3339(created),
                   "qosClass": "Burstable", "containerStatuses": statuses},
    }


def pod_cells(obj: Obj, now: datetime) -> list[Any]:
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
            reason, restart_cell, age_of(now, obj["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", obj.get("spec", {}).get("nodeName") or "<none>",
            "<none>", "<none>"]


def pod_log(store: KubeStore, ns: str, name: str, query: Mapping[str, str]) -> Answer:
    """GET pods/<name>/log, with the apiserver's 400s for an ambiguous or unknown container,
    a missing previous container and one still starting."""
    obj = store.get("pods", ns, name)
    if obj is None:
        return not_found("pods", name)
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
    lines = store.log_lines((ns, name, container, previous))
    if lines is None and container == containers[0]:
        lines = store.log_lines((ns, name, "", previous))
    if lines is None and (refusal := _no_log(obj, container, previous)):
        return status_answer(400, "BadRequest", refusal)
    return Answer(200, _cut(lines or [], query), "text/plain")


def _no_log(pod: Obj, container: str, previous: bool) -> str:
    """Why a container without log lines has no log to show, '' when it simply has none."""
    name = pod["metadata"]["name"]
    statuses: list[Obj] = pod["status"].get("containerStatuses", [])
    status = next((s for s in statuses if s["name"] == container), {})
    if previous and not status.get("lastState", {}).get("terminated"):
        return f'previous terminated container "{container}" in pod "{name}" not found'
    waiting = status.get("state", {}).get("waiting", {}).get("reason", "")
    if not previous and waiting in ("ContainerCreating", "PodInitializing"):
        return f'container "{container}" in pod "{name}" is waiting to start: {waiting}'
    return ""


def _cut(lines: list[str], query: Mapping[str, str]) -> bytes:
    """The log body, cut to `tailLines` lines and then `limitBytes` bytes."""
    tail = number(query.get("tailLines", "-1"), "tailLines")
    if tail >= 0:
        lines = lines[-tail:] if tail else []
    body = "".join(line + "\n" for line in lines).encode()
    limit = number(query.get("limitBytes", "0"), "limitBytes")
    return body[:limit] if limit > 0 else body

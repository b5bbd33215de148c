"""Events: the core/v1 Event builder and its `kubectl get events` row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .objects import Obj, age_of, metadata, rfc3339, uid_for


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
        "metadata": metadata("Event", f"{name}.{digest}", namespace, first_seen),
        "involvedObject": involved, "reason": reason, "message": message, "source": source,
        "firstTimestamp": rfc3339(first_seen), "lastTimestamp": rfc3339(last_seen),
        "count": count, "type": type, "eventTime": None,
        "reportingComponent": component, "reportingInstance": host,
    }


def event_cells(obj: Obj, now: datetime) -> list[Any]:
    first = obj.get("firstTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    last = obj.get("lastTimestamp") or first
    first_age, last_age = age_of(now, first), age_of(now, last)
    count = obj.get("count") or 1
    seen = f"{last_age} (x{count} over {first_age})" if count > 1 else last_age
    involved = obj.get("involvedObject", {})
    target = f"{involved.get('kind', '').lower()}/{involved.get('name', '')}"
    source = obj.get("source", {})
    source_text = ", ".join(v for v in (source.get("component"), source.get("host")) if v)
    return [seen, obj.get("type", ""), obj.get("reason", ""), target, involved.get("fieldPath", ""),
            source_text, obj.get("message", ""), first_age, count, obj["metadata"]["name"]]

"""What every fixture object shares: metadata, owner references, times as the API writes them.

Objects are plain dicts shaped like the API's (the builders fill in what clients require).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


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


def age_of(now: datetime, text: object) -> str:
    """The AGE column: how long ago the timestamp `text` was."""
    at = parse_time(text)
    return "<unknown>" if at is None else human_duration(now - at)


def uid_for(kind: str, namespace: str, name: str) -> str:
    """Deterministic UIDs: the same fixture has the same UID in every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"shiftdeck-demo/{kind}/{namespace}/{name}"))


def metadata(kind: str, name: str, namespace: str, created: datetime | None,
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
            "metadata": metadata("Namespace", name, "", created,
                                 {"kubernetes.io/metadata.name": name}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def namespace_cells(obj: Obj, now: datetime) -> list[Any]:
    """`kubectl get namespaces` columns: Name, Status, Age."""
    return [obj["metadata"]["name"], obj.get("status", {}).get("phase", ""),
            age_of(now, obj["metadata"].get("creationTimestamp"))]

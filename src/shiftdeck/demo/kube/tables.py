"""Table answers (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what `kubectl get`
asks for and prints column by column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .events import event_cells
from .objects import Obj, namespace_cells
from .pods import pod_cells
from .workloads import workload_cells

Cells = Callable[[Obj, datetime], list[Any]]


def _column(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> Obj:
    return {"name": name, "type": type_, "format": fmt, "description": name, "priority": priority}


_TABLES: dict[str, tuple[list[Obj], Cells]] = {
    "pods": ([_column("Name", fmt="name"), _column("Ready"), _column("Status"), _column("Restarts"),
              _column("Age"), _column("IP", priority=1), _column("Node", priority=1),
              _column("Nominated Node", priority=1), _column("Readiness Gates", priority=1)],
             pod_cells),
    "events": ([_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"),
                _column("Subobject", priority=1), _column("Source", priority=1), _column("Message"),
                _column("First Seen", priority=1), _column("Count", "integer", 1),
                _column("Name", priority=1, fmt="name")],
               event_cells),
    "deployments": ([_column("Name", fmt="name"), _column("Ready"), _column("Up-to-date", "integer"),
                     _column("Available", "integer"), _column("Age"), _column("Containers", priority=1),
                     _column("Images", priority=1), _column("Selector", priority=1)],
                    workload_cells),
    "replicasets": ([_column("Name", fmt="name"), _column("Desired", "integer"),
                     _column("Current", "integer"), _column("Ready", "integer"), _column("Age"),
                     _column("Containers", priority=1), _column("Images", priority=1),
                     _column("Selector", priority=1)],
                    workload_cells),
    "namespaces": ([_column("Name", fmt="name"), _column("Status"), _column("Age")], namespace_cells),
}


def table(resource: str, items: list[Obj], now: datetime, include: str, list_meta: Obj) -> Obj:
    """`items` as a Table; `include` is the request's includeObject (None, Metadata, Object)."""
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

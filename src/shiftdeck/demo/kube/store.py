"""The object store: the resources served, the objects and pod logs they hold, and listing
with selectors and `limit` + `continue` pages."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .answers import BadRequest
from .objects import Obj, namespace, parse_time
from .selectors import field_selector, label_selector


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

LogKey = tuple[str, str, str, bool]
"""(namespace, pod, container or '' for its first, previous)."""


@dataclass(frozen=True, slots=True)
class KubeWorld:
    """Objects and pod logs to load into a store."""

    objects: tuple[Obj, ...]
    logs: Mapping[LogKey, Sequence[str]]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Obj]
    meta: Obj
    """The list's metadata: resourceVersion, and `continue` + remainingItemCount when cut."""


class KubeStore:
    """Objects by resource and (namespace, name), and log lines; safe across server threads."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {name: {} for name in RESOURCES}
        self.logs: dict[LogKey, list[str]] = {}
        self.lock = threading.Lock()
        self._version = 1000

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

    def log_lines(self, key: LogKey) -> list[str] | None:
        with self.lock:
            return self.logs.get(key)

    def get(self, resource: str, ns: str, name: str) -> Obj | None:
        with self.lock:
            return self.objects[resource].get((ns, name))

    def page(self, resource: str, ns: str, query: Mapping[str, str]) -> Page:
        """The objects of `resource` in `ns` ('' = all) that the query's selectors select,
        cut to its `limit` from its `continue` token. BadRequest for a malformed query."""
        labels = label_selector(query.get("labelSelector", ""))
        fields = field_selector(resource, query.get("fieldSelector", ""))
        with self.lock:
            items = [obj for (obj_ns, _), obj in sorted(self.objects[resource].items())
                     if (not ns or obj_ns == ns) and labels(obj["metadata"].get("labels", {}))
                     and fields(obj)]
            version = str(self._version)
        offset = _offset(query.get("continue", ""))
        limit = number(query.get("limit", "0"), "limit")
        page = items[offset:offset + limit] if limit > 0 else items[offset:]
        meta: Obj = {"resourceVersion": version}
        rest = len(items) - offset - len(page)
        if limit > 0 and rest > 0:
            meta["continue"] = f"offset-{offset + len(page)}"
            meta["remainingItemCount"] = rest
        return Page(page, meta)


def number(text: str, name: str) -> int:
    """An integer query parameter; BadRequest when it is not one."""
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

"""The API without sockets: `KubeApi.handle()` turns one request into one answer.

Paths route as the apiserver's do (core/v1 and apps/v1, namespaced or not, the pods/log
subresource); a kubeconfig's server URL may end in /clusters/<context>, which is stripped.
Read-only: any other method than GET on a resource is 405.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from . import metrics
from .answers import Answer, BadRequest, json_answer, not_found, status_answer
from .discovery import discovery
from .kubeconfig import DEFAULT_USER
from .pods import pod_log
from .store import RESOURCES, KubeStore
from .tables import table


@dataclass(frozen=True, slots=True)
class ResourceCall:
    """One authenticated GET of a resource the API serves."""

    user: str
    verb: str
    """get, list or watch."""
    resource: str
    namespace: str
    """'' at the cluster scope."""
    name: str
    """'' for a list."""
    subresource: str
    """'log' or ''."""
    query: Mapping[str, str]
    accept: str

    @property
    def full_resource(self) -> str:
        """As RBAC names it: pods, pods/log, events, ..."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def split_context(path: str) -> tuple[str, list[str]]:
    """(the kube context a request came through or '', the rest of its path split at '/')."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["clusters"] and len(parts) >= 2:
        return parts[1], parts[2:]
    return "", parts


def route(parts: list[str]) -> tuple[str, str, str, str] | None:
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


class KubeApi:
    """Authentication and routing in front of a KubeStore."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.store = KubeStore()
        self.tokens: dict[str, str] = {}  # token → user
        self.user = DEFAULT_USER
        """Who a request without a token is."""

    def handle(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str]) -> Answer:
        _, parts = split_context(path)
        # client-go (kubectl) sends no bearer token over plain http, so none is fine; a wrong one
        # is refused, as the apiserver would.
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token and token not in self.tokens:
            return status_answer(401, "Unauthorized", "Unauthorized")
        if parts[:3] == ["apis", metrics.GROUP, metrics.VERSION] and len(parts) > 3:
            if method != "GET":
                return status_answer(405, "MethodNotAllowed", "the server does not allow this method")
            try:
                return metrics.pod_metrics_answer(self.store, parts[3:], query, self.clock())
            except BadRequest as err:
                return status_answer(400, "BadRequest", str(err))
        target = route(parts)
        if target is None:
            return discovery(parts, method)
        resource, ns, name, sub = target
        if resource not in RESOURCES or (sub and (resource, sub) != ("pods", "log")):
            return status_answer(404, "NotFound", "the server could not find the requested resource")
        if method != "GET":
            return status_answer(405, "MethodNotAllowed",
                                 "the shiftdeck demo cluster is read-only: the server does not allow "
                                 "this method on the requested resource")
        verb = "get" if name else ("watch" if query.get("watch") in ("1", "true") else "list")
        call = ResourceCall(self.tokens.get(token, self.user), verb, resource, ns, name, sub, query,
                            headers.get("accept", ""))
        try:
            return self.read(call)
        except BadRequest as err:
            return status_answer(400, "BadRequest", str(err))

    def read(self, call: ResourceCall) -> Answer:
        """The answer to one GET (the seam where a test server injects RBAC denials and faults)."""
        if call.subresource == "log":
            return pod_log(self.store, call.namespace, call.name, call.query)
        if call.name:
            return self._get(call)
        return self._list(call)

    def _get(self, call: ResourceCall) -> Answer:
        obj = self.store.get(call.resource, call.namespace, call.name)
        if obj is None:
            return not_found(call.resource, call.name)
        if "as=Table" in call.accept:
            return json_answer(table(call.resource, [obj], self.clock(),
                                     call.query.get("includeObject", "Metadata"),
                                     {"resourceVersion": obj["metadata"]["resourceVersion"]}))
        return json_answer(obj)

    def _list(self, call: ResourceCall) -> Answer:
        page = self.store.page(call.resource, call.namespace, call.query)
        if "as=Table" in call.accept:
            return json_answer(table(call.resource, page.items, self.clock(),
                                     call.query.get("includeObject", "Metadata"), page.meta))
        resource = RESOURCES[call.resource]
        items = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in page.items]
        api_version = "apps/v1" if resource.group == "apps" else "v1"
        return json_answer({"kind": f"{resource.kind}List", "apiVersion": api_version,
                            "metadata": page.meta, "items": items})

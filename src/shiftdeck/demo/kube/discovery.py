"""Discovery: /version, /api, /apis and the resource lists kubectl reads before any call."""

from __future__ import annotations

from . import metrics
from .answers import Answer, json_answer, status_answer
from .objects import Obj
from .store import RESOURCES

SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "shiftdeck-demo",
                  "gitTreeState": "clean", "buildDate": "2025-04-22T16:03:43Z", "goVersion": "go1.23.6",
                  "compiler": "gc", "platform": "linux/amd64"}
_APPS_GROUP = {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}


def discovery(parts: list[str], method: str) -> Answer:
    """The answer for a path (split at '/') that names no resource."""
    if method != "GET":
        return status_answer(405, "MethodNotAllowed", "the server does not allow this method")
    if parts == ["version"]:
        return json_answer(SERVER_VERSION)
    if parts == ["api"]:
        return json_answer({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
    if parts == ["apis"]:
        return json_answer({"kind": "APIGroupList", "apiVersion": "v1", "groups": [_APPS_GROUP,
                                                                               metrics.API_GROUP]})
    if parts == ["apis", "apps"]:
        return json_answer({"kind": "APIGroup", "apiVersion": "v1", **_APPS_GROUP})
    if parts == ["apis", metrics.GROUP]:
        return json_answer({"kind": "APIGroup", "apiVersion": "v1", **metrics.API_GROUP})
    if parts == ["apis", metrics.GROUP, metrics.VERSION]:
        return json_answer(metrics.RESOURCE_LIST)
    if parts == ["api", "v1"]:
        return json_answer(_resource_list("v1", ""))
    if parts == ["apis", "apps", "v1"]:
        return json_answer(_resource_list("apps/v1", "apps"))
    return status_answer(404, "NotFound", "the server could not find the requested resource")


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

"""Label and field selectors, as the API server parses them (BadRequest when they do not)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .answers import BadRequest
from .objects import Obj

LabelTest = Callable[[Mapping[str, str]], bool]
FieldTest = Callable[[Obj], bool]

_SET_REQUIREMENT = re.compile(r"\s*(\S+?)\s+(in|notin)\s+\(([^)]*)\)\s*")
_EQUALITY = re.compile(r"\s*([^\s=!]+)\s*(==|=|!=)\s*([^\s,]*)\s*")
_EXISTS = re.compile(r"\s*(!?)\s*([^\s=!(),]+)\s*")


def _split_requirements(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
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


def label_selector(selector: str) -> LabelTest:
    """A matcher for `a=b,c!=d,e in (x,y),f notin (z),g,!h`; BadRequest when it does not parse."""
    tests = [_label_requirement(requirement) for requirement in _split_requirements(selector)]
    return lambda labels: all(test(labels) for test in tests)


def _label_requirement(requirement: str) -> LabelTest:
    if match := _SET_REQUIREMENT.fullmatch(requirement):
        key, operator = match.group(1), match.group(2)
        values = {v.strip() for v in match.group(3).split(",") if v.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQUALITY.fullmatch(requirement):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.fullmatch(requirement):
        negated, key = match.groups()
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise BadRequest(f"unable to parse requirement: {requirement.strip()!r}")


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


def field_selector(resource: str, selector: str) -> FieldTest:
    tests = [_field_requirement(resource, requirement) for requirement in _split_requirements(selector)]
    return lambda obj: all(test(obj) for test in tests)


def _field_requirement(resource: str, requirement: str) -> FieldTest:
    match = _EQUALITY.fullmatch(requirement)
    if match is None:
        raise BadRequest(f"invalid field selector: {requirement.strip()!r}")
    path, operator, value = match.groups()
    if path not in _FIELDS.get(resource, ()):
        raise BadRequest(f'field label not supported: {path}')
    if operator == "!=":
        return lambda obj: _field(obj, path) != value
    return lambda obj: _field(obj, path) == value

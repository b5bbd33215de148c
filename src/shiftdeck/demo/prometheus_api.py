"""The demo's Prometheus: API v1 JSON as Prometheus 2.42 writes it.

/api/v1/alerts and /api/v1/rules show the scenario's rules and actors. The query endpoints
do not run PromQL: a rule's own expression (or its left-hand side) answers with the
actor's series, ALERTS / ALERTS_FOR_STATE with the alert history the scenario implies, and
any other query with a smooth, deterministic made-up series.
"""

from __future__ import annotations

import hashlib
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from shiftdeck.clock import Clock
from shiftdeck.domain.durations import parse_duration
from shiftdeck.domain.matchers import MatcherError, parse_matchers

from .scenario import Actor, Rule, Scenario, State, Status, eval_time, status_of
from .server import Request, Response, json_response, not_found, text_response
from .wire import alert_value, parse_prom_time, prom_time, sample_value, timestamp

VERSION = "2.42.0-demo"
MAX_POINTS = 11_000

Series = tuple[dict[str, str], float]


class BadData(ValueError):
    """A request Prometheus answers with 400 / errorType bad_data."""


class PrometheusApi:
    """Request -> Response for /api/v1/..., /-/healthy and /-/ready."""

    def __init__(self, scenario: Scenario, clock: Clock) -> None:
        self.scenario = scenario
        self.clock = clock
        self._routes: dict[str, Callable[[Request], object]] = {
            "/api/v1/alerts": self.alerts,
            "/api/v1/rules": self.rules,
            "/api/v1/query": self.query,
            "/api/v1/query_range": self.query_range,
            "/api/v1/status/buildinfo": self.buildinfo,
        }

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/-/healthy":
            return text_response("Prometheus Server is Healthy.\n")
        if path == "/-/ready":
            return text_response("Prometheus Server is Ready.\n")
        handler = self._routes.get(path)
        if handler is None or request.method not in ("GET", "POST"):
            return not_found()
        try:
            data = handler(with_form(request))
        except BadData as err:
            return json_response({"status": "error", "errorType": "bad_data", "error": str(err)}, 400)
        return json_response({"status": "success", "data": data})

    def now(self) -> float:
        return self.clock.now().timestamp()

    # -- alerts and rules ----------------------------------------------------

    def alerts(self, _request: Request) -> dict[str, object]:
        active = self.scenario.active_at(self.now())
        return {"alerts": [alert_json(s) for s in active]}

    def rules(self, request: Request) -> dict[str, object]:
        kind = request.param("type") or ""
        if kind not in ("", "alert", "record"):
            raise BadData(f'invalid parameter "type": not supported value "{kind}"')
        t = self.now()
        statuses = self.scenario.status_at(t)
        groups = []
        for name, rules in self.scenario.rule_groups().items():
            members = [] if kind == "record" else [rule_json(r, statuses, t) for r in rules]
            if members:
                groups.append(group_json(name, rules[0].file, members, t))
        return {"groups": groups}

    def buildinfo(self, _request: Request) -> dict[str, object]:
        return {
            "version": VERSION,
            "revision": "demo",
            "branch": "demo",
            "buildUser": "shiftdeck",
            "buildDate": "20230101-00:00:00",
            "goVersion": "go1.19.8",
        }

    # -- queries -------------------------------------------------------------

    def query(self, request: Request) -> dict[str, object]:
        expr = _required_query(request)
        t = _time_param(request, "time", self.now())
        result = [{"metric": metric, "value": [timestamp(t), sample_value(v)]}
                  for metric, v in sorted_series(self.evaluate(expr, t))]
        return {"resultType": "vector", "result": result}

    def query_range(self, request: Request) -> dict[str, object]:
        expr = _required_query(request)
        start, end = _time_param(request, "start"), _time_param(request, "end")
        step = _step_param(request)
        if end < start:
            raise BadData('invalid parameter "end": end timestamp must not be before start time')
        if (end - start) / step > MAX_POINTS:
            raise BadData("exceeded maximum resolution of 11,000 points per timeseries. "
                          "Try decreasing the query resolution (?step=XX)")
        matrix: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[list[object]]]] = {}
        for t in _steps(start, end, step):
            for metric, v in self.evaluate(expr, t):
                key = tuple(sorted(metric.items()))
                matrix.setdefault(key, (metric, []))[1].append([timestamp(t), sample_value(v)])
        result = [{"metric": metric, "values": values} for _, (metric, values) in sorted(matrix.items())]
        return {"resultType": "matrix", "result": result}

    def evaluate(self, expr: str, t: float) -> list[Series]:
        """The instant vector a query gives at t (see the module docstring)."""
        selector = _ALERTS_SELECTOR.fullmatch(expr)
        if selector:
            name, matchers = selector.group("name"), selector.group("matchers") or ""
            return alerts_series(self.scenario.actors, name, matchers, t)
        wanted = _normalise(expr)
        whole = [status_of(a, t) for a in self.scenario.actors if _normalise(a.rule.expr) == wanted]
        if whole:
            # A comparison keeps only the series for which it holds.
            return [(dict(s.actor.series), s.value) for s in whole if s.state is not State.INACTIVE]
        sides = [a for a in self.scenario.actors if _normalise(left_side(a.rule.expr)) == wanted]
        if sides:
            return [(dict(a.series), status_of(a, t).value) for a in sides]
        return [({}, made_up_value(expr, t))]


# --------------------------------------------------------------------------- #
# JSON shapes
# --------------------------------------------------------------------------- #


def alert_json(status: Status) -> dict[str, object]:
    return {
        "labels": dict(status.labels),
        "annotations": dict(status.annotations),
        "state": str(status.state),
        "activeAt": prom_time(status.active_at or 0.0),
        "value": alert_value(status.value),
    }


def rule_json(rule: Rule, statuses: Sequence[Status], t: float) -> dict[str, object]:
    mine = [s for s in statuses if s.actor.rule is rule and s.state is not State.INACTIVE]
    states = {s.state for s in mine}
    state = State.FIRING if State.FIRING in states else State.PENDING if states else State.INACTIVE
    return {
        "state": str(state),
        "name": rule.name,
        "query": rule.expr,
        "duration": rule.for_s,
        "keepFiringFor": 0,
        "labels": dict(sorted(rule.labels.items())),
        "annotations": dict(sorted(rule.annotations.items())),
        "alerts": [alert_json(s) for s in mine],
        "health": "ok",
        "evaluationTime": 0.000412,
        "lastEvaluation": prom_time(eval_time(t)),
        "type": "alerting",
    }


def group_json(name: str, file: str, rules: list[dict[str, object]], t: float) -> dict[str, object]:
    return {
        "name": name,
        "file": file,
        "rules": rules,
        "interval": 15,
        "limit": 0,
        "evaluationTime": round(0.000412 * len(rules), 6),
        "lastEvaluation": prom_time(eval_time(t)),
    }


# --------------------------------------------------------------------------- #
# Series
# --------------------------------------------------------------------------- #

_ALERTS_SELECTOR = re.compile(r"\s*(?P<name>ALERTS|ALERTS_FOR_STATE)\s*(?P<matchers>\{.*\})?\s*", re.DOTALL)
_COMPARISON = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*[^=!<>]+$")


def alerts_series(actors: Iterable[Actor], name: str, selector: str, t: float) -> list[Series]:
    """ALERTS{alertstate=...} (value 1) or ALERTS_FOR_STATE (value: activeAt) at t."""
    try:
        matchers = parse_matchers(selector)
    except MatcherError as err:
        raise BadData(f'invalid parameter "query": {err}') from None
    series: list[Series] = []
    for actor in actors:
        phase = actor.phase(t)
        if phase is None:
            continue
        labels = {"__name__": name, **actor.labels}
        if name == "ALERTS":
            labels["alertstate"] = str(phase.state)
        if all(m.matches(labels) for m in matchers):
            series.append((labels, 1.0 if name == "ALERTS" else float(phase.active_at)))
    return series


def left_side(expr: str) -> str:
    """`a / b > 0.05` -> `a / b`: the value an alerting expression compares."""
    return _COMPARISON.sub("", expr)


def made_up_value(query: str, t: float) -> float:
    """A smooth, plausible value for any other query, fixed by the query text."""
    digest = hashlib.sha256(query.encode()).digest()
    base = 10 + digest[0] % 90
    period = 300 + digest[1] * 6
    phase = digest[2] / 255 * 2 * math.pi
    return round(base * (1 + 0.2 * math.sin(2 * math.pi * t / period + phase)), 4)


def sorted_series(series: Iterable[Series]) -> list[Series]:
    return sorted(series, key=lambda s: sorted(s[0].items()))


def _normalise(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def _steps(start: float, end: float, step: float) -> Iterable[float]:
    count = int((end - start) // step)
    return (start + i * step for i in range(count + 1))


# --------------------------------------------------------------------------- #
# Parameters
# --------------------------------------------------------------------------- #


def with_form(request: Request) -> Request:
    """Prometheus accepts POST with a form body too: merge it into the query parameters."""
    if request.method != "POST" or not request.body:
        return request
    form = urllib.parse.parse_qs(request.body.decode(errors="replace"), keep_blank_values=True)
    merged = {**request.query}
    for key, values in form.items():
        merged[key] = merged.get(key, []) + values
    return replace(request, query=merged)


def _required_query(request: Request) -> str:
    expr = request.param("query") or ""
    if not expr.strip():
        raise BadData('invalid parameter "query": 1:1: parse error: no expression found in input')
    return expr


def _time_param(request: Request, name: str, default: float | None = None) -> float:
    value = request.param(name)
    if not value:
        if default is not None:
            return default
        raise BadData(f'invalid parameter "{name}": cannot parse "" to a valid timestamp')
    try:
        return parse_prom_time(value)
    except ValueError:
        raise BadData(f'invalid parameter "{name}": cannot parse "{value}" to a valid timestamp') from None


def _step_param(request: Request) -> float:
    value = request.param("step") or ""
    try:
        step = float(value)
    except ValueError:
        try:
            step = parse_duration(value).total_seconds()
        except ValueError:
            raise BadData(f'invalid parameter "step": cannot parse "{value}" to a valid duration') from None
    if step <= 0:
        raise BadData('invalid parameter "step": zero or negative query resolution step widths are '
                      "not accepted. Try a positive integer")
    return step

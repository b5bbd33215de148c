"""The demo's Alertmanager: API v2 JSON as Alertmanager 0.25 writes it.

Alerts are the scenario's firing actors at the clock's instant; silences and inhibitions
are applied the way Alertmanager applies them. Pending actors never get here (Prometheus
only sends firing alerts).
"""

from __future__ import annotations

import json
import random
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from shiftdeck.clock import Clock
from shiftdeck.domain.matchers import Matcher, MatcherError, parse_matchers

from .scenario import Inhibition, Scenario, State, Status, eval_time
from .server import Request, Response, json_response, text_response
from .silences import Silence, SilenceError, SilenceStore, silence_matches_filter
from .wire import am_time, millis

VERSION = "0.25.0-demo"
RESEND_DELAY = 60
"""Prometheus re-sends a firing alert every minute: that is when updatedAt moves."""
VALID_FOR = 4 * RESEND_DELAY
"""...and each send says it stays valid for four of those (endsAt)."""
ACK_PREFIX = "ACK!"
"""The karma/kthxbye acknowledgement: the demo holds an alert acked this way firing (Scenario.hold)."""

_FALSE = {"false", "0", "f", "n", "no", "off"}


class AlertmanagerApi:
    """Request -> Response for /api/v2/..., /-/healthy and /-/ready."""

    def __init__(self, scenario: Scenario, silences: SilenceStore, clock: Clock,
                 prometheus_url: str, started: datetime) -> None:
        self.scenario = scenario
        self.silences = silences
        self.clock = clock
        self.prometheus_url = prometheus_url.rstrip("/")
        self.started = started
        self.peer_name = _ulid(scenario.seed, started)
        self._routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/api/v2/alerts"): self.get_alerts,
            ("GET", "/api/v2/alerts/groups"): self.get_groups,
            ("GET", "/api/v2/silences"): self.get_silences,
            ("POST", "/api/v2/silences"): self.post_silence,
            ("GET", "/api/v2/status"): self.get_status,
            ("GET", "/api/v2/receivers"): self.get_receivers,
            ("GET", "/-/healthy"): _ok,
            ("GET", "/-/ready"): _ok,
        }

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        handler = self._routes.get((request.method, path))
        if handler is not None:
            return handler(request)
        if path.startswith("/api/v2/silence/"):
            return self.one_silence(request, path.removeprefix("/api/v2/silence/"))
        if any(known == path for _, known in self._routes):
            return json_response({"code": 405, "message": f"method {request.method} is not allowed"}, 405)
        return json_response({"code": 404, "message": f"path {request.path} was not found"}, 404)

    # -- alerts --------------------------------------------------------------

    def get_alerts(self, request: Request) -> Response:
        try:
            alerts = self.filtered_alerts(request)
        except ValueError as err:
            return json_response(str(err), 400)
        return json_response(alerts)

    def get_groups(self, request: Request) -> Response:
        try:
            alerts = self.filtered_alerts(request)
        except ValueError as err:
            return json_response(str(err), 400)
        return json_response(group_alerts(alerts))

    def filtered_alerts(self, request: Request) -> list[dict[str, object]]:
        """The current alerts that pass the query's state, filter and receiver parameters."""
        matchers = parse_filters(request.params("filter"))
        receiver = _receiver_pattern(request.param("receiver"))
        flags = ("active", "silenced", "inhibited", "unprocessed")
        wanted = {name: _flag(request.param(name)) for name in flags}
        return [a for a in self.alerts() if _passes(a, matchers, receiver, wanted)]

    def alerts(self) -> list[dict[str, object]]:
        """Every alert Alertmanager holds now, sorted by fingerprint as Alertmanager sorts them."""
        now = self.clock.now()
        firing = [s for s in self.scenario.status_at(now) if s.state is State.FIRING]
        inhibited = inhibited_by(self.scenario.inhibitions, firing)
        silences = self.silences.active(millis(now))
        alerts = [
            self.alert_json(
                status, now, silenced_by(silences, status.labels), inhibited.get(status.fingerprint, [])
            )
            for status in firing
        ]
        return sorted(alerts, key=lambda a: str(a["fingerprint"]))

    def alert_json(self, status: Status, now: datetime, silenced: list[str],
                   inhibited: list[str]) -> dict[str, object]:
        fired_at = status.fired_at or 0.0
        updated_at = fired_at + (eval_time(now.timestamp()) - fired_at) // RESEND_DELAY * RESEND_DELAY
        return {
            "annotations": dict(status.annotations),
            "endsAt": am_time(updated_at + VALID_FOR),
            "fingerprint": status.fingerprint,
            "receivers": [{"name": self.scenario.receiver_for(status.labels)}],
            "startsAt": am_time(fired_at),
            "status": {
                "inhibitedBy": inhibited,
                "silencedBy": silenced,
                "state": "suppressed" if silenced or inhibited else "active",
            },
            "updatedAt": am_time(updated_at),
            "generatorURL": generator_url(self.prometheus_url, status.actor.rule.expr),
            "labels": dict(status.labels),
        }

    # -- silences ------------------------------------------------------------

    def get_silences(self, request: Request) -> Response:
        try:
            matchers = parse_filters(request.params("filter"))
        except ValueError as err:
            return json_response(str(err), 400)
        now = self.silences.now()
        chosen = [s for s in self.silences.all() if silence_matches_filter(s, matchers)]
        return json_response([s.to_json(now) for s in chosen])

    def post_silence(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError) as err:
            return json_response(f"parsing silence body failed: {err}", 400)
        try:
            silence_id = self.silences.post(payload)
        except SilenceError as err:
            return json_response(str(err), err.status)
        silence = self.silences.get(silence_id)
        if silence is not None and silence.comment.startswith(ACK_PREFIX):
            self.scenario.hold(silence.matches, self.clock.now())
        return json_response({"silenceID": silence_id})

    def one_silence(self, request: Request, silence_id: str) -> Response:
        if request.method == "GET":
            silence = self.silences.get(silence_id)
            if silence is None:
                return Response(404)
            return json_response(silence.to_json(self.silences.now()))
        if request.method == "DELETE":
            try:
                self.silences.expire(silence_id)
            except SilenceError as err:
                return json_response(str(err), err.status)
            return Response(200)
        return json_response({"code": 405, "message": f"method {request.method} is not allowed"}, 405)

    # -- status --------------------------------------------------------------

    def get_status(self, _request: Request) -> Response:
        return json_response({
            "cluster": {
                "name": self.peer_name,
                "peers": [{"address": "127.0.0.1:9094", "name": self.peer_name}],
                "status": "ready",
            },
            "config": {"original": ""},
            "uptime": am_time(self.started),
            "versionInfo": {
                "branch": "demo",
                "buildDate": "20230101-00:00:00",
                "buildUser": "shiftdeck",
                "goVersion": "go1.19.8",
                "revision": "demo",
                "version": VERSION,
            },
        })

    def get_receivers(self, _request: Request) -> Response:
        names = dict.fromkeys([r.receiver for r in self.scenario.routes] + [self.scenario.default_receiver])
        return json_response([{"name": name} for name in names])


# --------------------------------------------------------------------------- #
# Plain functions
# --------------------------------------------------------------------------- #


def generator_url(prometheus_url: str, expr: str) -> str:
    """What Prometheus puts in generatorURL: /graph?g0.expr=<query-escaped PromQL>&g0.tab=1."""
    return f"{prometheus_url}/graph?g0.expr={urllib.parse.quote_plus(expr)}&g0.tab=1"


def inhibited_by(rules: Sequence[Inhibition], firing: Sequence[Status]) -> dict[str, list[str]]:
    """Fingerprint -> fingerprints of the firing alerts that inhibit it."""
    result: dict[str, list[str]] = {}
    for target in firing:
        sources = {
            source.fingerprint
            for rule in rules
            if _all(rule.target, target.labels)
            for source in firing
            if source is not target and _inhibits(rule, source.labels, target.labels)
        }
        if sources:
            result[target.fingerprint] = sorted(sources)
    return result


def _inhibits(rule: Inhibition, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
    if not _all(rule.source, source):
        return False
    return all(source.get(name, "") == target.get(name, "") for name in rule.equal)


def silenced_by(silences: Sequence[Silence], labels: Mapping[str, str]) -> list[str]:
    return sorted(s.id for s in silences if s.matches(labels))


def parse_filters(values: Sequence[str]) -> tuple[Matcher, ...]:
    """Repeatable `filter` parameters, each one matcher (or a {...} list), ANDed."""
    matchers: list[Matcher] = []
    for value in values:
        try:
            parsed = parse_matchers(value)
        except MatcherError as err:
            raise ValueError(f"bad matcher format: {err}") from None
        if any(m.name.startswith("@") for m in parsed):
            raise ValueError(f"bad matcher format: {value}")
        matchers.extend(parsed)
    return tuple(matchers)


def group_alerts(alerts: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """Alert groups by (receiver, alertname): the demo's route groups by alertname."""
    groups: dict[tuple[str, str], list[dict[str, object]]] = {}
    for alert in alerts:
        for receiver in alert["receivers"]:  # type: ignore[attr-defined]
            key = (receiver["name"], alert["labels"]["alertname"])  # type: ignore[index]
            groups.setdefault(key, []).append(alert)
    return [
        {"alerts": members, "labels": {"alertname": name}, "receiver": {"name": receiver}}
        for (receiver, name), members in sorted(groups.items())
    ]


def _passes(alert: dict[str, object], matchers: Sequence[Matcher], receiver: re.Pattern[str] | None,
            wanted: Mapping[str, bool]) -> bool:
    status: dict[str, object] = alert["status"]  # type: ignore[assignment]
    if not _all(matchers, alert["labels"]):  # type: ignore[arg-type]
        return False
    if receiver is not None and not any(
        receiver.fullmatch(r["name"]) for r in alert["receivers"]  # type: ignore[attr-defined]
    ):
        return False
    if status["state"] == "active" and not wanted["active"]:
        return False
    if status["state"] == "unprocessed" and not wanted["unprocessed"]:
        return False
    if status["silencedBy"] and not wanted["silenced"]:
        return False
    return not (status["inhibitedBy"] and not wanted["inhibited"])


def _all(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def _flag(value: str | None) -> bool:
    return value is None or value.strip().lower() not in _FALSE


def _receiver_pattern(value: str | None) -> re.Pattern[str] | None:
    if not value:
        return None
    try:
        return re.compile(value)
    except re.error as err:
        raise ValueError(f"failed to parse receiver param: {err}") from None


def _ok(_request: Request) -> Response:
    return text_response("OK")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(seed: int, at: datetime) -> str:
    """A peer name shaped like Alertmanager's (a ULID), fixed by the seed and the start time."""
    rng = random.Random(f"shiftdeck-demo-peer/{seed}")
    stamp = int(at.timestamp() * 1000)
    head = "".join(_CROCKFORD[(stamp >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(rng.choice(_CROCKFORD) for _ in range(16))

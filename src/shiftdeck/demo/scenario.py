"""The demo world: alerting rules and the "actors" that trip them, as pure functions of time.

Each actor is one series that one alerting rule watches. Its lifecycle says, for any
instant, whether the rule's condition holds and since when:

    Cycling        inactive -> pending (for the rule's `for:`) -> firing -> resolved (gone) -> ...
    AlwaysFiring   firing, started hours ago (the start moves back once per period)
    AlwaysPending  pending: the condition holds, but never for as long as `for:` asks

Nothing here reads a clock: `Scenario.status_at(t)` is a function of t and of the seed the
scenario was built from, so a FrozenClock gives byte-identical API answers. The one exception
is what the user does: an alert acknowledged in the demo is held firing from then on
(`Scenario.hold`), so the alert one just acted on never resolves under one's eyes.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shiftdeck.domain.alerts import fingerprint
from shiftdeck.domain.matchers import Matcher, parse_matchers

EVAL_INTERVAL = 15
"""Seconds between rule evaluations; states change on this grid, as in Prometheus."""

_MIN = 60
_HOUR = 3600
_DAY = 86400


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True, slots=True)
class Phase:
    state: State
    active_at: float
    """Unix seconds when the condition started to hold (Prometheus' activeAt)."""
    fired_at: float | None = None
    """When the alert started firing (what Prometheus sends as startsAt)."""


class Lifecycle(Protocol):
    def phase(self, t: float, for_s: int) -> Phase | None:
        """The actor's phase at evaluation time t; None while inactive."""
        ...


@dataclass(frozen=True, slots=True)
class Cycling:
    """Quiet for `quiet` seconds, then pending for `for:`, then firing until the period ends."""

    period: int
    quiet: int
    offset: int = 0

    def phase(self, t: float, for_s: int) -> Phase | None:
        position = (t + self.offset) % self.period
        if position < self.quiet:
            return None
        active_at = t - position + self.quiet
        if position < self.quiet + for_s:
            return Phase(State.PENDING, active_at)
        return Phase(State.FIRING, active_at, active_at + for_s)


@dataclass(frozen=True, slots=True)
class AlwaysFiring:
    """Firing for at least `min_age` seconds; the age grows for `period`, then starts over."""

    min_age: int
    period: int
    offset: int = 0

    def phase(self, t: float, for_s: int) -> Phase:
        fired_at = t - (t + self.offset) % self.period - self.min_age
        return Phase(State.FIRING, fired_at - for_s, fired_at)


@dataclass(frozen=True, slots=True)
class AlwaysPending:
    """Pending, restarting every `period` seconds; `period` < `for:` so it never fires."""

    period: int
    offset: int = 0

    def phase(self, t: float, for_s: int) -> Phase:
        return Phase(State.PENDING, t - (t + self.offset) % self.period)


@dataclass(frozen=True, slots=True)
class Rule:
    """One Prometheus alerting rule. Annotations are templates ({{ $labels.x }}, {{ $value }})."""

    name: str
    group: str
    expr: str
    for_s: int
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    healthy: float
    """The expression's underlying value while all is well..."""
    alerting: float
    """...and while the condition holds."""
    wobble: float = 0.0
    """Relative amplitude of the slow wave on top, so graphs look alive."""

    @property
    def file(self) -> str:
        return f"/etc/prometheus/rules/{self.group.split('.')[0]}.yaml"


@dataclass(frozen=True, slots=True)
class Actor:
    rule: Rule
    series: Mapping[str, str]
    """The labels of the series that trips the rule (namespace, pod, instance...)."""
    lifecycle: Lifecycle
    labels: Mapping[str, str] = field(init=False)
    fingerprint: str = field(init=False)
    _wave: float = field(init=False, repr=False)
    _held: list[tuple[int, Phase]] = field(init=False, repr=False, compare=False)
    """(from which evaluation, the firing phase kept) once held; at most one entry."""

    def __post_init__(self) -> None:
        labels = dict(sorted({**self.series, **self.rule.labels, "alertname": self.rule.name}.items()))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "fingerprint", fingerprint(labels))
        # Rules that watch the same series see the same wave.
        object.__setattr__(self, "_wave", int(fingerprint(self.series)[:8], 16) % 628 / 100)
        object.__setattr__(self, "_held", [])
        if isinstance(self.lifecycle, AlwaysPending) and self.lifecycle.period >= self.rule.for_s:
            raise ValueError(f"{self.rule.name}: an always-pending actor needs period < for")
        cycle = self.lifecycle
        if isinstance(cycle, Cycling) and cycle.quiet + self.rule.for_s >= cycle.period:
            raise ValueError(f"{self.rule.name}: the cycle leaves no time to fire")

    def phase(self, t: float) -> Phase | None:
        at = eval_time(t)
        if self._held and at >= self._held[0][0]:
            return self._held[0][1]
        return self.lifecycle.phase(at, self.rule.for_s)

    @property
    def held(self) -> bool:
        return bool(self._held)

    def hold(self, t: float) -> bool:
        """Keep the episode firing at t firing from t on; False when it is not firing at t."""
        phase = self.phase(t)
        if phase is None or phase.state is not State.FIRING:
            return False
        if not self._held:
            self._held.append((eval_time(t), phase))
        return True

    def value(self, t: float, active: bool) -> float:
        """The series' value at t: beyond the threshold while active, healthy otherwise."""
        base = self.rule.alerting if active else self.rule.healthy
        wave = math.sin(2 * math.pi * eval_time(t) / 420 + self._wave)
        return float(f"{base * (1 + self.rule.wobble * wave):.6g}")


@dataclass(frozen=True, slots=True)
class Status:
    """What one actor looks like at one instant."""

    actor: Actor
    state: State
    active_at: float | None
    fired_at: float | None
    value: float
    annotations: Mapping[str, str]

    @property
    def labels(self) -> Mapping[str, str]:
        return self.actor.labels

    @property
    def fingerprint(self) -> str:
        return self.actor.fingerprint


@dataclass(frozen=True, slots=True)
class Inhibition:
    """An Alertmanager inhibit rule: a firing source mutes matching targets with equal labels."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Route:
    match: tuple[Matcher, ...]
    receiver: str


@dataclass(frozen=True, slots=True)
class SeedSilence:
    """A silence that already exists when the demo starts; times relative to that moment."""

    matchers: str
    created_by: str
    comment: str
    starts: timedelta
    ends: timedelta


@dataclass(frozen=True)
class Scenario:
    actors: tuple[Actor, ...]
    inhibitions: tuple[Inhibition, ...] = ()
    routes: tuple[Route, ...] = ()
    default_receiver: str = "default"
    silences: tuple[SeedSilence, ...] = ()
    seed: int = 7

    def status_at(self, at: datetime | float) -> list[Status]:
        """Every actor, in rule-group order, at the given instant."""
        t = at.timestamp() if isinstance(at, datetime) else at
        return [status_of(actor, t) for actor in self.actors]

    def active_at(self, at: datetime | float) -> list[Status]:
        """Only the pending and firing actors."""
        return [s for s in self.status_at(at) if s.state is not State.INACTIVE]

    def rule_groups(self) -> dict[str, list[Rule]]:
        """Rule groups in declaration order, each rule once."""
        groups: dict[str, dict[str, Rule]] = {}
        for actor in self.actors:
            key = f"{actor.rule.name}/{actor.rule.expr}"
            groups.setdefault(actor.rule.group, {}).setdefault(key, actor.rule)
        return {name: list(rules.values()) for name, rules in groups.items()}

    def hold(self, selects: Callable[[Mapping[str, str]], bool], at: datetime) -> list[str]:
        """Hold firing, for good, every alert firing at `at` that `selects` (an ack's
        matchers); the fingerprints held."""
        t = at.timestamp()
        return [a.fingerprint for a in self.actors if selects(a.labels) and a.hold(t)]

    def receiver_for(self, labels: Mapping[str, str]) -> str:
        for route in self.routes:
            if all(m.matches(labels) for m in route.match):
                return route.receiver
        return self.default_receiver


def eval_time(t: float) -> int:
    """The last rule evaluation at or before t."""
    return int(t // EVAL_INTERVAL * EVAL_INTERVAL)


def status_of(actor: Actor, t: float) -> Status:
    phase = actor.phase(t)
    state = phase.state if phase else State.INACTIVE
    value = actor.value(t, phase is not None)
    return Status(
        actor=actor,
        state=state,
        active_at=phase.active_at if phase else None,
        fired_at=phase.fired_at if phase else None,
        value=value,
        annotations=render_annotations(actor.rule.annotations, actor.labels, value),
    )


# --------------------------------------------------------------------------- #
# Annotation templates: the small part of Prometheus' template language the rules use
# --------------------------------------------------------------------------- #

_TEMPLATE = re.compile(
    r"\{\{\s*(?:\$labels\.(?P<label>\w+)|(?P<value>\$value))\s*(?:\|\s*(?P<fn>\w+)\s*)?\}\}"
)


def render_annotations(
    templates: Mapping[str, str], labels: Mapping[str, str], value: float
) -> dict[str, str]:
    return {name: render(text, labels, value) for name, text in sorted(templates.items())}


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    def expand(match: re.Match[str]) -> str:
        if match.group("label"):
            return labels.get(match.group("label"), "")
        return _FUNCS.get(match.group("fn") or "", _plain)(value)

    return _TEMPLATE.sub(expand, template)


def _plain(value: float) -> str:
    return f"{value:g}"


def humanize(value: float) -> str:
    for size, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.4g}{prefix}"
    return f"{value:.4g}"


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"


def humanize_duration(value: float) -> str:
    seconds = int(value)
    parts: list[str] = []
    for unit, size in (("d", _DAY), ("h", _HOUR), ("m", _MIN)):
        if seconds >= size or parts:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    parts.append(f"{seconds}s")
    return " ".join(parts)


_FUNCS = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}


# --------------------------------------------------------------------------- #
# The default scenario, after the seed handbooks (QAWave, Clipper, ProFile, EduStream's
# payments, Mahavishnu)
# --------------------------------------------------------------------------- #

HOSTILE_USERNAME = "[bold]not markup[/]"
HOSTILE_BANNER = "\x1b]0;pwned\x07[@click=app.quit]click me[/]"


def _rule(name: str, group: str, team: str, severity: str, expr: str, for_s: int,
          summary: str, description: str, *, healthy: float, alerting: float,
          wobble: float = 0.0, runbook: str | None = None, **extra: str) -> Rule:
    labels = {"severity": severity, "team": team, **extra}
    annotations = {"summary": summary, "description": description}
    if runbook:
        annotations["runbook_url"] = runbook
    return Rule(name, group, expr, for_s, labels, annotations, healthy, alerting, wobble)


def _rules() -> dict[str, Rule]:
    """Every alerting rule of the demo, by a short key."""
    rules = [
        # qawave ------------------------------------------------------------
        ("backend_down", _rule(
            "QAWaveBackendDown", "qawave.rules", "qawave-platform", "critical",
            'up{job="backend", namespace="qawave"} == 0', 1 * _MIN,
            "QAWave backend {{ $labels.pod }} is down",
            "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}) in "
            "{{ $labels.namespace }}. Check pod status and events; if pods crash after a "
            "rollout, roll back: kubectl rollout undo deployment/backend -n qawave.",
            healthy=1, alerting=0, runbook="qa-wave-backend-down.md")),
        ("backend_errors", _rule(
            "QAWaveBackendHighErrorRate", "qawave.rules", "qawave-platform", "warning",
            'sum(rate(http_requests_total{job="backend", namespace="qawave", status=~"5.."}[5m]))'
            ' / sum(rate(http_requests_total{job="backend", namespace="qawave"}[5m])) > 0.05',
            2 * _MIN,
            "QAWave backend is answering {{ $value | humanizePercentage }} errors",
            "More than 5% of backend requests fail with 5xx. Check recent deployments, the "
            "application logs and database connectivity (pg_isready on postgresql-0).",
            healthy=0.008, alerting=0.083, wobble=0.12, runbook="backend-high-error-rate.md")),
        ("postgres_down", _rule(
            "PostgreSQLDown", "qawave.rules", "qawave-platform", "critical",
            'pg_up{namespace="qawave"} == 0', 1 * _MIN,
            "PostgreSQL {{ $labels.pod }} is down",
            "The postgres exporter reports pg_up == 0 for {{ $labels.pod }}. Check the pod and "
            "its PVC; as a last resort delete the pod to restart it.",
            healthy=1, alerting=0, runbook="postgresql-down.md")),
        ("replication_lag", _rule(
            "PostgreSQLReplicationLag", "qawave.rules", "qawave-platform", "warning",
            'pg_replication_lag_seconds{namespace="qawave"} > 30', 2 * _MIN,
            "Replica {{ $labels.pod }} is {{ $value | humanizeDuration }} behind",
            "Streaming replication lag above 30 s. Reads from the replica are stale.",
            healthy=0.8, alerting=74, wobble=0.25)),
        # clipper -----------------------------------------------------------
        ("slo_fast", _rule(
            "SLOErrorBudgetBurn", "clipper.rules", "clipper-sre", "critical",
            '(sum(rate(http_requests_total{namespace="clipper", code=~"5.."}[1h]))'
            ' / sum(rate(http_requests_total{namespace="clipper"}[1h]))) > (14.4 * 0.005)',
            2 * _MIN,
            "Clipper API burns its error budget 14x too fast",
            "The 1h error rate is {{ $value | humanizePercentage }} against a 0.5% SLO: at this "
            "rate the 30-day budget is gone in two days.",
            healthy=0.004, alerting=0.11, wobble=0.1, runbook="slo-error-budget-burn.md",
            category="slo")),
        ("slo_slow", _rule(
            "SLOErrorBudgetBurn", "clipper.rules", "clipper-sre", "warning",
            '(sum(rate(http_requests_total{namespace="clipper", code=~"5.."}[6h]))'
            ' / sum(rate(http_requests_total{namespace="clipper"}[6h]))) > (6 * 0.005)',
            1 * _HOUR,
            "Clipper API burns its error budget 6x too fast",
            "The 6h error rate is {{ $value | humanizePercentage }} against a 0.5% SLO.",
            healthy=0.004, alerting=0.041, wobble=0.1, runbook="slo-error-budget-burn.md",
            category="slo")),
        ("redis_down", _rule(
            "RedisDown", "clipper.rules", "clipper-sre", "critical",
            'redis_up{namespace="clipper"} == 0', 1 * _MIN,
            "Redis {{ $labels.pod }} is not responding",
            "The Redis cache does not answer PING. Sessions and rate limits degrade; check the "
            "pod and restart it if needed.",
            healthy=1, alerting=0, runbook="redis-down.md")),
        ("memory_critical", _rule(
            "HighMemoryUsage", "clipper.rules", "clipper-sre", "critical",
            'container_memory_working_set_bytes{namespace="clipper", container="api"}'
            ' / container_spec_memory_limit_bytes{namespace="clipper", container="api"} > 0.95',
            5 * _MIN,
            "{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit",
            "The container will be OOM-killed soon. Look for a leak; restart or raise the limit.",
            healthy=0.61, alerting=0.972, wobble=0.008, runbook="high-memory-usage.md")),
        ("memory_warning", _rule(
            "HighMemoryUsage", "clipper.rules", "clipper-sre", "warning",
            'container_memory_working_set_bytes{namespace="clipper", container="api"}'
            ' / container_spec_memory_limit_bytes{namespace="clipper", container="api"} > 0.85',
            10 * _MIN,
            "{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit",
            "Memory above 85% for 10 minutes. Check for leaks, scale if needed.",
            healthy=0.61, alerting=0.972, wobble=0.008, runbook="high-memory-usage.md")),
        ("failed_auth", _rule(
            "FailedAuthSpike", "clipper.rules", "clipper-sre", "warning",
            'sum by (username) (rate(auth_failures_total{namespace="clipper"}[5m])) > 5',
            1 * _MIN,
            "Failed-login spike for user {{ $labels.username }}",
            "{{ $value | humanize }} failed logins/s for user \"{{ $labels.username }}\" from "
            "203.0.113.0/24. Last client banner: \"" + HOSTILE_BANNER + "\". Possible brute "
            "force: block the range at the ingress. Never silence without manager and security "
            "approval.",
            healthy=0.4, alerting=38.5, wobble=0.3, runbook="security-events.md",
            category="security")),
        ("latency", _rule(
            "HighResponseTime", "clipper.rules", "clipper-sre", "warning",
            'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
            '{namespace="clipper"}[5m]))) > 1.5', 3 * _MIN,
            "Clipper p99 latency is {{ $value | humanize }}s",
            "p99 above 1.5 s. Check slow queries and the database; scale the API if CPU bound.",
            healthy=0.35, alerting=2.7, wobble=0.2, runbook="high-latency.md")),
        # profile -----------------------------------------------------------
        ("crashloop", _rule(
            "PodCrashLooping", "profile.rules", "profile-services", "warning",
            'increase(kube_pod_container_status_restarts_total{namespace="profile"}[15m]) > 3',
            2 * _MIN,
            "{{ $labels.pod }} is crash looping",
            "Container {{ $labels.container }} restarted {{ $value }} times in 15 minutes. "
            "Check its previous logs.",
            healthy=0, alerting=5, runbook="pod-crashloop.md")),
        ("disk", _rule(
            "DiskSpaceLow", "profile.rules", "profile-services", "warning",
            'kubelet_volume_stats_available_bytes{namespace="profile"}'
            ' / kubelet_volume_stats_capacity_bytes{namespace="profile"} * 100 < 20',
            5 * _MIN,
            "Volume {{ $labels.persistentvolumeclaim }} has {{ $value | humanize }}% free",
            "Less than 20% free on {{ $labels.persistentvolumeclaim }}. Clean up old logs or WAL "
            "segments, expand the volume if needed.",
            healthy=46, alerting=11.4, wobble=0.05, runbook="low-disk-space.md")),
        ("backup", _rule(
            "BackupJobFailed", "profile.rules", "profile-services", "info",
            'kube_job_status_failed{namespace="profile", job_name=~"db-backup-.*"} > 0', 0,
            "Backup job {{ $labels.job_name }} failed",
            "Last night's database backup failed; the next run is tonight. Check the job's logs.",
            healthy=0, alerting=1)),
        # payments ----------------------------------------------------------
        ("webhooks", _rule(
            "WebhookVerificationFailures", "payments.rules", "payments", "warning",
            'sum(rate(webhook_operations_total{namespace="payments", result="signature_invalid"}[5m]))'
            ' / sum(rate(webhook_operations_total{namespace="payments"}[5m])) > 0.1', 2 * _MIN,
            "{{ $value | humanizePercentage }} of Stripe webhooks fail verification",
            "Signature checks fail. Was the webhook secret rotated without updating the "
            "service? Check the Stripe dashboard for delivery errors.",
            healthy=0.002, alerting=0.27, wobble=0.15, runbook="webhook-verification-failures.md")),
        ("payments", _rule(
            "PaymentFailuresElevated", "payments.rules", "payments", "critical",
            'sum(rate(payment_attempts_total{namespace="payments", outcome="failed"}[5m]))'
            ' / sum(rate(payment_attempts_total{namespace="payments"}[5m])) > 0.02', 2 * _MIN,
            "{{ $value | humanizePercentage }} of payments fail",
            "Checkout payment failures above 2%. Check the Stripe status page and the checkout "
            "logs; enable the fallback provider if Stripe is degraded.",
            healthy=0.004, alerting=0.064, wobble=0.1, runbook="payment-failures.md")),
        ("certificate", _rule(
            "CertificateExpiringSoon", "payments.rules", "payments", "info",
            'certmanager_certificate_expiration_timestamp_seconds{namespace="payments"}'
            ' - time() < 21 * 86400', 1 * _HOUR,
            "Certificate {{ $labels.name }} expires in {{ $value | humanizeDuration }}",
            "cert-manager has not renewed {{ $labels.name }}. Check the Certificate's events and "
            "the ACME challenge.",
            healthy=5_000_000, alerting=1_036_800, runbook="certificate-expiry.md")),
        # mahavishnu --------------------------------------------------------
        ("queue", _rule(
            "TaskQueueBackedUp", "mahavishnu.rules", "orchestration", "warning",
            'sum(mahavishnu_pending_tasks{namespace="mahavishnu"}) > 100', 3 * _MIN,
            "{{ $value | humanize }} tasks waiting in the queue",
            "More than 100 pending tasks. Check worker health and blocked tasks; scale "
            "mahavishnu-worker if workers are healthy but saturated.",
            healthy=12, alerting=240, wobble=0.2, runbook="task-queue-backed-up.md")),
        ("pool", _rule(
            "DatabaseConnectionPoolExhausted", "mahavishnu.rules", "orchestration", "warning",
            'sum(pg_stat_activity_count{namespace="mahavishnu"})'
            ' / sum(pg_settings_max_connections{namespace="mahavishnu"}) > 0.9', 2 * _MIN,
            "Database connections at {{ $value | humanizePercentage }} of max",
            "Look for long-running queries (pg_stat_activity) and terminate them if needed; "
            "restart the application to reset its pool.",
            healthy=0.42, alerting=0.96, wobble=0.02, runbook="database-connection-pool-exhausted.md")),
        ("task_errors", _rule(
            "HighErrorRate", "mahavishnu.rules", "orchestration", "warning",
            'sum(rate(mahavishnu_task_errors_total{namespace="mahavishnu"}[5m]))'
            ' / sum(rate(mahavishnu_tasks_total{namespace="mahavishnu"}[5m])) > 0.05', 3 * _MIN,
            "Task error rate is {{ $value | humanizePercentage }}",
            "More than 5% of tasks fail. Check the recent deployment and the worker logs.",
            healthy=0.01, alerting=0.091, wobble=0.15)),
    ]
    return dict(rules)


class _Draw:
    """Seeded choices: pod names, IPs and where each cycle starts."""

    _SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet for generated names

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def suffix(self, length: int) -> str:
        return "".join(self.rng.choice(self._SAFE) for _ in range(length))

    def pod(self, deployment: str) -> str:
        return f"{deployment}-{self.suffix(10)}-{self.suffix(5)}"

    def ip(self, port: int) -> str:
        return f"10.42.{self.rng.randrange(0, 8)}.{self.rng.randrange(2, 250)}:{port}"

    def offset(self, period: int) -> int:
        return self.rng.randrange(period // EVAL_INTERVAL) * EVAL_INTERVAL

    def cycling(self, period_min: float, quiet_min: float) -> Cycling:
        period, quiet = int(period_min * _MIN), int(quiet_min * _MIN)
        return Cycling(period, quiet, self.offset(period))

    def firing(self, min_age: int, period: int) -> AlwaysFiring:
        return AlwaysFiring(min_age, period, self.offset(period))

    def pending(self, period_min: float) -> AlwaysPending:
        period = int(period_min * _MIN)
        return AlwaysPending(period, self.offset(period))


def _actors(draw: _Draw) -> tuple[Actor, ...]:
    r = _rules()
    profile_rs = draw.suffix(10)

    def series(namespace: str, service: str, **labels: str) -> dict[str, str]:
        return {"namespace": namespace, "service": service, **labels}

    def k8s(namespace: str, service: str, pod: str, port: int, job: str, **labels: str) -> dict[str, str]:
        return series(namespace, service, pod=pod, instance=draw.ip(port), job=job, **labels)

    def crashing() -> dict[str, str]:
        pod = f"profile-services-{profile_rs}-{draw.suffix(5)}"
        return k8s("profile", "profile-services", pod, 10250, "kube-state-metrics",
                   container="profile-services")

    api = k8s("clipper", "api", draw.pod("api"), 10250, "kubelet", container="api")
    return (
        Actor(r["backend_down"], k8s("qawave", "backend", draw.pod("backend"), 8080, "backend"),
              draw.cycling(45, 12)),
        Actor(r["backend_errors"], series("qawave", "backend", job="backend"), draw.cycling(50, 15)),
        Actor(r["postgres_down"], k8s("qawave", "postgresql", "postgresql-0", 9187, "postgres-exporter"),
              draw.cycling(70, 35)),
        Actor(r["replication_lag"], k8s("qawave", "postgresql", "postgresql-1", 9187, "postgres-exporter"),
              draw.cycling(44, 10)),
        Actor(r["slo_fast"], series("clipper", "api", window="1h"), draw.cycling(55, 20)),
        Actor(r["slo_slow"], series("clipper", "api", window="6h"), draw.pending(37)),
        Actor(r["redis_down"], k8s("clipper", "redis", "redis-master-0", 9121, "redis-exporter"),
              draw.cycling(60, 25)),
        Actor(r["memory_critical"], api, draw.firing(2 * _HOUR, 6 * _HOUR)),
        Actor(r["memory_warning"], api, draw.firing(3 * _HOUR, 6 * _HOUR)),
        Actor(r["failed_auth"], series("clipper", "auth", job="auth", username=HOSTILE_USERNAME),
              draw.firing(20 * _MIN, 2 * _HOUR)),
        Actor(r["latency"], series("clipper", "api", job="api"), draw.cycling(47, 12)),
        Actor(r["crashloop"], crashing(), draw.cycling(41, 8)),
        Actor(r["crashloop"], crashing(), draw.cycling(41, 8)),
        Actor(r["disk"], k8s("profile", "postgresql", "profile-db-0", 10250, "kubelet",
                             persistentvolumeclaim="data-profile-db-0"),
              draw.firing(26 * _HOUR, _DAY)),
        Actor(r["disk"], k8s("profile", "minio", "minio-1", 10250, "kubelet",
                             persistentvolumeclaim="export-minio-1"),
              draw.cycling(50, 14)),
        Actor(r["backup"], series("profile", "postgresql", job="kube-state-metrics",
                                  job_name="db-backup-29166120"),
              draw.firing(5 * _HOUR, _DAY)),
        Actor(r["webhooks"], series("payments", "webhooks", job="webhooks"), draw.cycling(48, 14)),
        Actor(r["payments"], series("payments", "checkout", job="checkout"), draw.cycling(65, 30)),
        Actor(r["certificate"], series("payments", "ingress", job="cert-manager", name="api-payments-tls"),
              draw.firing(3 * _DAY, _DAY)),
        Actor(r["queue"], series("mahavishnu", "worker", job="mahavishnu"), draw.cycling(46, 10)),
        Actor(r["pool"], k8s("mahavishnu", "postgresql", "mahavishnu-db-0", 9187, "postgres-exporter"),
              draw.cycling(43, 9)),
        Actor(r["task_errors"], series("mahavishnu", "worker", job="mahavishnu"), draw.cycling(49, 13)),
    )


_INHIBITIONS = (
    # kube-prometheus' classic: a critical alert mutes its warning twin.
    Inhibition(parse_matchers('severity="critical"'), parse_matchers('severity="warning"'),
               ("namespace", "alertname")),
    # A dead primary explains replication lag.
    Inhibition(parse_matchers('alertname="PostgreSQLDown"'),
               parse_matchers('alertname="PostgreSQLReplicationLag"'), ("namespace",)),
)

_ROUTES = (
    Route(parse_matchers('category="security"'), "security-team"),
    Route(parse_matchers('severity="critical"'), "pagerduty-critical"),
    Route(parse_matchers('severity="warning"'), "slack-alerts"),
)

_SILENCES = (
    SeedSilence('alertname="DiskSpaceLow", persistentvolumeclaim="data-profile-db-0"', "alice",
                "ACK! cleaning up old WAL segments, PVC expansion after standup",
                timedelta(minutes=-20), timedelta(minutes=12)),
    SeedSilence('alertname="CertificateExpiringSoon", namespace="payments"', "dave",
                "Renewal blocked on DNS change, ticket SEC-311", timedelta(days=-2), timedelta(days=5)),
    SeedSilence('namespace="payments"', "bob",
                "Planned maintenance: payments DB failover drill (CHG-1042)",
                timedelta(hours=2), timedelta(hours=3)),
    SeedSilence('alertname="RedisDown"', "carol", "ACK! redis failover in progress",
                timedelta(hours=-3), timedelta(hours=-2)),
)


def build_scenario(seed: int = 7) -> Scenario:
    """The default demo world. The seed picks pod names and where each cycle starts."""
    return Scenario(
        actors=_actors(_Draw(seed)),
        inhibitions=_INHIBITIONS,
        routes=_ROUTES,
        default_receiver="slack-monitoring",
        silences=_SILENCES,
        seed=seed,
    )

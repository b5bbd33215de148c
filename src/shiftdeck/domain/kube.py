"""Which Kubernetes objects an alert is about, and where: pure scoping rules.

Given an alert's labels and the `kubernetes:` settings: the kube context (mapped from the alert's
`cluster` label, else the current one), the namespace, and the pod / deployment / label selector
to look at. Every value that reaches the API must be a valid Kubernetes name.

Also the shapes the answers come back in (Diagnostics, KubeTarget, KubeError) and `KubeReader`,
what a screen may ask of a Kubernetes client: screens see these, never `sources.kube`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from .alerts import Alert


@dataclass(frozen=True, slots=True)
class KubernetesSettings:
    kubeconfig: str = ""
    """Path to the kubeconfig; empty: $KUBECONFIG, else ~/.kube/config."""
    contexts: Mapping[str, str] = field(default_factory=dict)
    """Value of the alert's `cluster` label → kube context name."""
    selectors: Mapping[str, str] = field(default_factory=lambda: {
        "service": "app.kubernetes.io/name", "app": "app.kubernetes.io/name"})
    """Alert label → pod label it selects on (`service=backend` → `app.kubernetes.io/name=backend`)."""
    timeout: timedelta = timedelta(seconds=10)
    """Request timeout for every API call."""


@dataclass(frozen=True, slots=True)
class Scope:
    context: str
    """'' = the kubeconfig's current context."""
    namespace: str
    pod: str = ""
    deployment: str = ""
    selector: str = ""
    """A label selector such as `app.kubernetes.io/name=backend`, or ''."""
    refused: str = ""
    """Why nothing may be asked (an invalid name in a label), or ''."""


# --------------------------------------------------------------------------- #
# Kubernetes names (apimachinery's validation rules, ASCII only)
# --------------------------------------------------------------------------- #

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII)
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", re.ASCII)
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)


def is_dns1123_label(value: str) -> bool:
    """A namespace or container name: lower-case alphanumerics and '-', at most 63 chars."""
    return len(value) <= 63 and _DNS_LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: str) -> bool:
    """A pod, deployment or ReplicaSet name: DNS labels joined by '.', at most 253 chars."""
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


def is_label_value(value: str) -> bool:
    """A label value: empty, or alphanumerics with '-', '_', '.' inside, at most 63 chars."""
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


def is_label_key(value: str) -> bool:
    """A label key: `name` or `prefix/name` (prefix a DNS subdomain), as in
    `app.kubernetes.io/name`."""
    prefix, slash, name = value.rpartition("/")
    if slash and not is_dns1123_subdomain(prefix):
        return False
    return len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


# Generated pod names: <deployment>-<pod-template-hash>-<5 chars>, both from this alphabet.
_GENERATED = "bcdfghjklmnpqrstvwxz2456789"
_DEPLOYMENT_POD = re.compile(rf"(.+)-[{_GENERATED}]{{6,10}}-[{_GENERATED}]{{5}}", re.ASCII)


def deployment_of_pod(pod: str) -> str:
    """The Deployment a pod name was generated for (`backend-7d9f8c6b5d-x2x4q` → `backend`),
    or '' when the name does not have that shape (StatefulSet pods like `postgresql-0`)."""
    match = _DEPLOYMENT_POD.fullmatch(pod)
    return match.group(1) if match else ""


def scope_for(alert: Alert, settings: KubernetesSettings) -> Scope:
    """Where to look for the alert's objects. Pure: reads only labels and settings.

    - context: `settings.contexts[cluster label]`; no `cluster` label, or no contexts configured,
      means the kubeconfig's current context. A `cluster` label that the configured contexts do
      not map is refused: asking the current context would show another cluster's pods.
    - namespace: the `namespace` label (required).
    - pod: the `pod` label; deployment: the `deployment` label, else derived from a generated
      pod name.
    - selector: the first label of `settings.selectors` the alert carries, as `key=value`.

    Every value is checked against Kubernetes' naming rules before it can reach the API or a
    kubectl argument; the first bad one refuses the whole scope and says which.
    """
    labels = alert.labels
    context = ""
    cluster = labels.get("cluster", "")
    if cluster and settings.contexts:
        if cluster not in settings.contexts:
            return _refused(f"cluster {_shown(cluster)!r} has no kube context in kubernetes.contexts")
        context = settings.contexts[cluster]

    namespace = labels.get("namespace", "")
    if not namespace:
        return _refused("the alert has no namespace label", context)
    if not is_dns1123_label(namespace):
        return _refused(_bad_value(namespace, "namespace"), context)

    pod = labels.get("pod", "")
    if pod and not is_dns1123_subdomain(pod):
        return _refused(_bad_value(pod, "pod"), context, namespace)

    deployment = labels.get("deployment", "")
    if deployment and not is_dns1123_subdomain(deployment):
        return _refused(_bad_value(deployment, "deployment"), context, namespace)
    if not deployment and pod:
        deployment = deployment_of_pod(pod)

    selector = ""
    for alert_label, pod_label in settings.selectors.items():
        value = labels.get(alert_label, "")
        if not value:
            continue
        if not is_label_key(pod_label):
            return _refused(f"kubernetes.selectors: {_shown(pod_label)!r} is not a valid label key",
                            context, namespace)
        if not is_label_value(value):
            return _refused(_bad_value(value, alert_label), context, namespace)
        selector = f"{pod_label}={value}"
        break

    return Scope(context, namespace, pod, deployment, selector)


def _refused(reason: str, context: str = "", namespace: str = "") -> Scope:
    return Scope(context, namespace, refused=reason)


def _bad_value(value: str, label: str) -> str:
    return f"label value {_shown(value)!r} is not a valid Kubernetes name (the alert's {label} label)"


def _shown(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


# --------------------------------------------------------------------------- #
# What comes back (filled in by sources.kube and sources.runner, sanitised there)
# --------------------------------------------------------------------------- #


class KubeError(Exception):
    """A Kubernetes request failed; str() is a short reason a person can act on."""


@dataclass(frozen=True, slots=True)
class PodInfo:
    name: str
    phase: str
    ready: str
    """Ready containers / containers, e.g. "1/2"."""
    restarts: int
    """Restarts of all containers."""
    age: timedelta | None
    node: str
    reason: str
    """What is wrong now: a waiting reason (CrashLoopBackOff, ImagePullBackOff...), a terminated
    reason, the pod's reason (Evicted), else the last termination's (OOMKilled, Error); ''."""
    last_termination: str = ""
    """Why a container last stopped (OOMKilled, Error, Completed), or ''."""
    containers: tuple[str, ...] = ()
    """Container names, for `logs()`."""


@dataclass(frozen=True, slots=True)
class EventInfo:
    type: str
    """Warning or Normal."""
    reason: str
    object: str
    """Kind/name, e.g. "Pod/backend-7d9f8c6b5d-x2x4q"."""
    message: str
    count: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    revision: int
    replicaset: str
    images: tuple[str, ...]
    created: datetime | None
    replicas: int
    """Desired replicas of this ReplicaSet: > 0 marks the live revision(s)."""


@dataclass(frozen=True, slots=True)
class Diagnostics:
    scope: Scope
    pods: tuple[PodInfo, ...]
    """The scope's pod first, then pods with a problem, then by name."""
    events: tuple[EventInfo, ...]
    """Warnings first, newest first, at most sources.kube.LIMIT."""
    revisions: tuple[RevisionInfo, ...]
    """Rollout history, newest revision first."""
    errors: tuple[str, ...]
    """What could not be read, in words ("forbidden: cannot list pods in qawave")."""
    fetched_at: datetime
    deployment: str = ""
    """The deployment the rollout history is of: the scope's, or found from the pods' owners."""


@dataclass(frozen=True, slots=True)
class KubeTarget:
    """The kubeconfig's view of where kubectl commands go, for the confirm to show."""

    current: str = ""
    """The kubeconfig's current-context ('' when none or unreadable)."""
    clusters: tuple[tuple[str, str], ...] = ()
    """context name → cluster name, for every context the kubeconfig defines."""
    problem: str = ""
    """Why the kubeconfig could not be read, or ''."""

    def cluster_of(self, context: str) -> str:
        return dict(self.clusters).get(context, "")


class KubeReader(Protocol):
    """What a screen asks of a Kubernetes client (sources.kube.KubeClient is the real one).
    Both calls block: make them from thread workers."""

    def diagnose(self, scope: Scope, now: datetime) -> Diagnostics:
        """Pods, events and rollout history of `scope`; cluster trouble comes back in `errors`."""
        ...

    def logs(self, scope: Scope, pod: str, container: str = "", previous: bool = False,
             tail: int = 100) -> list[str]:
        """The last `tail` lines of a pod's container, sanitised. Raises KubeError."""
        ...

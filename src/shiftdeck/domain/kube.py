"""Which Kubernetes objects an alert is about, and where: pure scoping rules.

Given an alert's labels and the `kubernetes:` settings: the kube context (mapped from the alert's
`cluster` label, else the current one), the namespace, and the pod / deployment / label selector
to look at. Every value that reaches the API must be a valid Kubernetes name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

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

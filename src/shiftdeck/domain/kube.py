"""Which Kubernetes objects an alert is about, and where: pure scoping rules.

Given an alert's labels and the `kubernetes:` settings: the kube context (mapped from the alert's
`cluster` label, else the current one), the namespace, and the pod / deployment / label selector
to look at. Every value that reaches the API must be a valid Kubernetes name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta


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

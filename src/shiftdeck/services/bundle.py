"""The services a screen may be given, in one bundle the app builds once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..domain.alerts import Alert
from ..sources.kube import KubeClient
from ..sources.runner import Runner
from .clipboard import Clipboard
from .metrics import MetricFetcher
from .runbooks import RunbookLoader


@dataclass(frozen=True)
class Services:
    clipboard: Clipboard
    runbooks: RunbookLoader
    metrics: MetricFetcher
    kube: Callable[[], KubeClient]
    """The shared Kubernetes client, made on first use."""
    cluster_now: Callable[[Alert], tuple[str, datetime]]
    """The cluster an alert's silence is written to, and the time on that cluster's clock."""
    new_runner: Callable[[], Runner] = Runner

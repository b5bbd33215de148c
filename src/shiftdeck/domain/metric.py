"""The metric behind an alert: its PromQL's last hour and the alert's own firing history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class MetricHistory:
    expression: str
    hour: tuple[tuple[datetime, float], ...]
    """The expression over the last hour."""
    firing: tuple[datetime, ...]
    """Instants in the last 24h at which Prometheus recorded the alert firing."""
    fetched_at: datetime
    error: str = ""


def alerts_selector(labels: Mapping[str, str]) -> str:
    """`ALERTS{alertname="X",…,alertstate="firing"}` for exactly this alert's label set."""
    parts = [f'{name}="{_escape(value)}"' for name, value in sorted(labels.items())
             if _LABEL_NAME.fullmatch(name)]
    return "ALERTS{" + ",".join(parts + ['alertstate="firing"']) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

"""What the user asks to write (acks, silences, expiries), turned into silence writes.

No textual here: the app runs these in workers and shows the outcome. Nothing is optimistic:
the board changes only when the next poll shows what Alertmanager now holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .domain.alerts import Alert
from .domain.silences import (AckSettings, Silence, SilenceRequest, ack_request, common_matchers,
                              exact_matchers)


class Writer(Protocol):
    async def write(self, request: SilenceRequest) -> str: ...

    async def expire(self, cluster: str, silence_id: str) -> None: ...

    def cluster_of(self, alert: Alert) -> str: ...

    def clusters_of(self, alert: Alert) -> tuple[str, ...]: ...


@dataclass
class Outcome:
    """What happened to each write: ids that were stored, and failures in words."""

    done: list[str] = field(default_factory=list)
    """Silence ids stored."""
    failed: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    """For each stored write, what it was for (an alert's fingerprint for acks)."""

    @property
    def ok(self) -> bool:
        return not self.failed


async def _run(requests: Iterable[tuple[str, str, SilenceRequest]], writer: Writer) -> Outcome:
    """Write each (label, key, request); a failure is reported with its label, none swallowed."""
    outcome = Outcome()
    for label, key, request in requests:
        try:
            outcome.done.append(await writer.write(request))
            outcome.keys.append(key)
        except Exception as err:
            outcome.failed.append(f"{label}: {err}")
    return outcome


async def acknowledge(alerts: Iterable[Alert], writer: Writer, user: str, now: datetime,
                      settings: AckSettings, note: str = "") -> Outcome:
    """One ACK! silence per alert, on exactly its label set, in every cluster that holds it."""
    return await _run(((a.name, a.fingerprint, ack_request(exact_matchers(a.labels), cluster,
                                                            user, now, settings, note))
                       for a in alerts for cluster in _clusters(writer, a)), writer)


def _clusters(writer: Writer, alert: Alert) -> tuple[str, ...]:
    # An alert only Prometheus knows has no cluster: cluster_of() then names the default one, or
    # "" and the write fails with a reason. Either way the user hears about it.
    return writer.clusters_of(alert) or (writer.cluster_of(alert),)


async def acknowledge_group(alerts: list[Alert], writer: Writer, user: str, now: datetime,
                            settings: AckSettings) -> Outcome:
    """One ACK! silence on the labels the group shares, per Alertmanager cluster."""
    by_cluster: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_cluster.setdefault(writer.cluster_of(alert), []).append(alert)
    return await _run(((f"group in {cluster}", cluster,
                        ack_request(common_matchers(members), cluster, user, now, settings))
                       for cluster, members in by_cluster.items()), writer)


async def write_silences(requests: Iterable[SilenceRequest], writer: Writer) -> Outcome:
    return await _run(((f"silence in {r.cluster}", r.id, r) for r in requests), writer)


async def expire(silences: Iterable[Silence], writer: Writer) -> Outcome:
    outcome = Outcome()
    for silence in silences:
        try:
            await writer.expire(silence.cluster, silence.id)
            outcome.done.append(silence.id)
            outcome.keys.append(silence.id)
        except Exception as err:
            outcome.failed.append(f"{silence.id[:8]}: {err}")
    return outcome

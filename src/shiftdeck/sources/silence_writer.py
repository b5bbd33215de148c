"""Writing silences to Alertmanager clusters: one member per write, failing over in order.

HA peers gossip silences, so a silence written to any member reaches them all; it is written to
**one** member, and the next is tried only when that one fails. Read-only (global or per
upstream) is enforced here, before any request is built: a refused write sends nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from ..domain.alerts import Alert
from ..domain.silences import SilenceRequest
from .alertmanager import AlertmanagerClient
from .http import SourceError

T = TypeVar("T")


class ReadOnlyError(SourceError):
    """A write refused because shiftdeck (or every member of the cluster) is read-only."""


class SilenceWriter:
    """Writes silences to the Alertmanager clusters of a config.

    `clients` (tests, or an app sharing its pollers' clients) replaces the clients the writer
    would build from `config.alertmanagers`; the caller keeps owning those and closes them.
    Clients the writer builds itself are made on first use and closed by `aclose()`.
    """

    def __init__(self, config: Any, clients: Iterable[AlertmanagerClient] | None = None) -> None:
        self.read_only: bool = bool(config.read_only)
        """Global read-only (--read-only or read_only: true): nothing is ever written."""
        self._injected = clients is not None
        members: list[Any] = list(clients) if clients is not None else list(config.alertmanagers)
        self._clusters: dict[str, list[Any]] = {}
        """cluster → members in config order: AlertmanagerClient, or the Upstream to build one."""
        self._cluster_of_instance: dict[str, str] = {}
        for member in members:
            self._clusters.setdefault(member.cluster, []).append(member)
            self._cluster_of_instance[member.name] = member.cluster
        self._preferred: dict[str, str] = {}
        """cluster → the member that took the last successful write: tried first next time."""
        self._built: dict[str, AlertmanagerClient] = {}

    # -- where to write ------------------------------------------------------- #

    @property
    def clusters(self) -> tuple[str, ...]:
        """Cluster names in config order."""
        return tuple(self._clusters)

    def cluster_of(self, alert: Alert) -> str:
        """The first (config order) cluster holding the alert; '' when no Alertmanager reports
        it (a pending alert only Prometheus knows) and several clusters could be meant."""
        found = self.clusters_of(alert)
        if found:
            return found[0]
        return self.clusters[0] if len(self._clusters) == 1 else ""

    def clusters_of(self, alert: Alert) -> tuple[str, ...]:
        """Every cluster whose members report the alert, in config order (alerts with the same
        labels in two clusters are merged into one row)."""
        held = {self._cluster_of_instance[i] for i in alert.instances
                if i in self._cluster_of_instance}
        return tuple(c for c in self._clusters if c in held)

    def can_write(self, cluster: str | None = None) -> bool:
        """True when a write (to `cluster`, or to some cluster) would be attempted at all."""
        if self.read_only:
            return False
        names = [cluster] if cluster is not None else list(self._clusters)
        return any(self._writable(name) for name in names if name in self._clusters)

    # -- writes --------------------------------------------------------------- #

    async def write(self, request: SilenceRequest) -> str:
        """Create or update a silence in `request.cluster`; return its ID."""
        return await self._on_cluster(request.cluster, lambda c: c.post_silence(request))

    async def expire(self, cluster: str, silence_id: str) -> None:
        """Expire a silence held by `cluster`."""
        await self._on_cluster(cluster, lambda c: c.expire_silence(silence_id))

    async def aclose(self) -> None:
        built, self._built = list(self._built.values()), {}
        for client in built:
            await client.aclose()

    # -- internals ------------------------------------------------------------ #

    def _writable(self, cluster: str) -> list[Any]:
        return [m for m in self._clusters.get(cluster, ()) if not _read_only(m)]

    def _members_to_try(self, cluster: str) -> list[Any]:
        if self.read_only:
            raise ReadOnlyError("read-only mode (--read-only or read_only: true): nothing is "
                                "written")
        if cluster not in self._clusters:
            if not cluster:
                raise SourceError("no Alertmanager holds this alert (only Prometheus reports "
                                  "it): there is no cluster to write to")
            known = ", ".join(self._clusters) or "none configured"
            raise SourceError(f"no Alertmanager cluster named {cluster!r} (known: {known})")
        members = self._writable(cluster)
        if not members:
            raise ReadOnlyError(f"every member of cluster {cluster} is read_only: true: "
                                "nothing is written")
        preferred = self._preferred.get(cluster)
        members.sort(key=lambda m: m.name != preferred)  # stable: otherwise config order
        return members

    async def _on_cluster(self, cluster: str,
                          call: Callable[[AlertmanagerClient], Awaitable[T]]) -> T:
        """Run `call` on one member, failing over to the next on SourceError."""
        members = self._members_to_try(cluster)
        reasons = []
        for member in members:
            try:
                result = await call(self._client(member))
            except SourceError as err:
                reasons.append(f"{member.name}: {err}")
                continue
            self._preferred[cluster] = member.name
            return result
        if len(members) == 1:
            raise SourceError(f"cluster {cluster}: {reasons[0]}")
        raise SourceError(f"all {len(members)} members of cluster {cluster} failed: "
                          + "; ".join(reasons))

    def _client(self, member: Any) -> AlertmanagerClient:
        if isinstance(member, AlertmanagerClient) or self._injected:
            return member
        client = self._built.get(member.name)
        if client is None:
            client = self._built[member.name] = AlertmanagerClient(member)
        return client


def _read_only(member: Any) -> bool:
    upstream = getattr(member, "upstream", member)
    return bool(getattr(upstream, "read_only", False))


__all__ = ["ReadOnlyError", "SilenceWriter"]

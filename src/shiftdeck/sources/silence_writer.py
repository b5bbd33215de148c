"""Writing silences to Alertmanager clusters: one member per write, failing over in order.

HA peers gossip silences, so a silence written to any member reaches them all; it is written to
**one** member, and the next is tried only when that one fails. Read-only (global or per
upstream) is enforced here, before any request is built: a refused write sends nothing.

Writes are idempotent: a new silence carries a reference in its comment (`[sd:…]`), and when a
member times out or fails, the cluster is searched for that reference (the member written to,
then the others: gossip can lag) before failing over, so a silence stored behind a late answer
is found, not written twice. Times are the server's: each answer's `Date` header gives the
skew between this machine's clock and the cluster's.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..clock import Clock, SystemClock
from ..domain.alerts import Alert
from ..domain.silences import Silence, SilenceRequest, reference_of
from .alertmanager import AlertmanagerClient
from .http import SourceError
from .journal import default_journal_path

T = TypeVar("T")

SKEW_FRESH_FOR = 300.0
"""Seconds a measured clock skew is trusted before a write probes the server again (an NTP
step during a long session changes it)."""
LOCK_WAIT = 60.0
"""Seconds an ack waits for another shiftdeck's check-and-write before giving up."""


class ReadOnlyError(SourceError):
    """A write refused because shiftdeck (or every member of the cluster) is read-only."""


def skew_of(client: Any, clock: Clock) -> timedelta | None:
    """The server's clock minus `clock`, from the client's latest answer (None before one).

    http measures the server's Date against the system clock; `clock` is shiftdeck's own
    (injected in tests), so the difference between the two is carried over."""
    offset = client.clock_offset() if hasattr(client, "clock_offset") else None
    if offset is None:
        return None
    return offset + (datetime.now(UTC) - clock.now())


class SilenceWriter:
    """Writes silences to the Alertmanager clusters of a config.

    `clients` (tests, or an app sharing its pollers' clients) replaces the clients the writer
    would build from `config.alertmanagers`; the caller keeps owning those and closes them.
    Clients the writer builds itself are made on first use and closed by `aclose()`.
    `clock` is shiftdeck's clock: server times are that clock plus the measured skew.
    """

    def __init__(self, config: Any, clients: Iterable[AlertmanagerClient] | None = None,
                 clock: Clock | None = None) -> None:
        self.read_only: bool = bool(config.read_only)
        """Global read-only (--read-only or read_only: true): nothing is ever written."""
        self._clock = clock or SystemClock()
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
        self._skews: dict[str, tuple[timedelta, float]] = {}
        """cluster → (server clock minus ours, time.monotonic() of the measurement)."""
        journal = getattr(config, "journal", None)
        self.lock_path = Path(journal or default_journal_path()).parent / "writes.lock"
        """The file whose lock makes an ack's check-and-write one step across processes."""

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

    # -- server time ---------------------------------------------------------- #

    def skew(self, cluster: str) -> timedelta | None:
        """The cluster's clock minus shiftdeck's, as last measured (None before any answer)."""
        known = self._skews.get(cluster)
        return known[0] if known else None

    def skews(self) -> dict[str, timedelta]:
        """Every cluster's measured skew (server minus ours)."""
        return {cluster: skew for cluster, (skew, _) in self._skews.items()}

    def note_skew(self, cluster: str, skew: timedelta) -> None:
        """A skew measured elsewhere (the app's pollers answer every refresh)."""
        if cluster in self._clusters:
            self._skews[cluster] = (skew, time.monotonic())

    def now_at(self, cluster: str) -> datetime:
        """Now on the cluster's clock as last measured (shiftdeck's clock before any answer)."""
        return self._clock.now() + (self.skew(cluster) or timedelta(0))

    async def server_now(self, cluster: str) -> datetime:
        """Now on the cluster's clock. Without a fresh measurement, one cheap GET /status first;
        when no member answers, shiftdeck's own clock (the write then fails with its reason)."""
        known = self._skews.get(cluster)
        if known is None or time.monotonic() - known[1] > SKEW_FRESH_FOR:
            try:
                await self._on_cluster(cluster, lambda c: c.status())
            except SourceError:
                pass  # a Date header may have come with the error: _on_cluster noted it
        return self.now_at(cluster)

    # -- reads and writes ----------------------------------------------------- #

    async def silences(self, cluster: str) -> tuple[Silence, ...]:
        """The cluster's silences, from the first member that answers (writes go there too)."""
        return await self._on_cluster(cluster, lambda c: c.silences())

    async def write(self, request: SilenceRequest) -> str:
        """Create or update a silence in `request.cluster`; return its ID.

        A new silence whose comment carries a reference (domain.silences.with_reference) is
        looked up by it after a failed attempt: found, its ID is the result, nothing is written
        again."""
        reference = "" if request.id else reference_of(request.comment)

        async def stored(member: Any) -> str | None:
            return await self._find(request.cluster, reference, member) if reference else None

        return await self._on_cluster(request.cluster, lambda c: c.post_silence(request),
                                      recover=stored)

    async def expire(self, cluster: str, silence_id: str) -> None:
        """Expire a silence held by `cluster`."""
        await self._on_cluster(cluster, lambda c: c.expire_silence(silence_id))

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """One check-and-write at a time across shiftdeck processes on this machine (and the
        workers of one): an exclusive flock on `lock_path`. Raises SourceError after LOCK_WAIT
        seconds; OSError when the lock file cannot be made (the caller decides)."""
        self.lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            await _flock(fd, self.lock_path)
            yield
        finally:
            os.close(fd)  # releases the lock

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

    async def _on_cluster(self, cluster: str, call: Callable[[AlertmanagerClient], Awaitable[T]],
                          recover: Callable[[Any], Awaitable[T | None]] | None = None) -> T:
        """Run `call` on one member, failing over to the next on SourceError. After each
        failure `recover(member)` may find the result already there (a late answer)."""
        members = self._members_to_try(cluster)
        reasons = []
        for member in members:
            try:
                result = await self._call(cluster, member, call)
            except SourceError as err:
                reasons.append(f"{member.name}: {err}")
                found = await recover(member) if recover is not None else None
                if found is not None:
                    return found
                continue
            self._preferred[cluster] = member.name
            return result
        if len(members) == 1:
            raise SourceError(f"cluster {cluster}: {reasons[0]}")
        raise SourceError(f"all {len(members)} members of cluster {cluster} failed: "
                          + "; ".join(reasons))

    async def _call(self, cluster: str, member: Any,
                    call: Callable[[AlertmanagerClient], Awaitable[T]]) -> T:
        client = self._client(member)
        try:
            return await call(client)
        finally:
            skew = skew_of(client, self._clock)
            if skew is not None:
                self._skews[cluster] = (skew, time.monotonic())

    async def _find(self, cluster: str, reference: str, written_to: Any) -> str | None:
        """The ID of the silence carrying `reference`, asking the member written to first, then
        the others; None when no member that answers holds it."""
        members = self._writable(cluster)
        members.sort(key=lambda m: m is not written_to)
        for member in members:
            try:
                silences = await self._call(cluster, member, lambda c: c.silences())
            except SourceError:
                continue
            found = next((s.id for s in silences if reference_of(s.comment) == reference), None)
            if found is not None:
                return found
        return None

    def _client(self, member: Any) -> AlertmanagerClient:
        if isinstance(member, AlertmanagerClient) or self._injected:
            return member
        client = self._built.get(member.name)
        if client is None:
            client = self._built[member.name] = AlertmanagerClient(member)
        return client


async def _flock(fd: int, path: Path) -> None:
    """Take the lock without blocking the event loop (a thread stuck in flock would keep the
    process from exiting)."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if time.monotonic() > deadline:
            raise SourceError(f"another shiftdeck has held the write lock ({path}) for "
                              f"{LOCK_WAIT:g}s: nothing was written; try again")
        await asyncio.sleep(0.05)


def _read_only(member: Any) -> bool:
    upstream = getattr(member, "upstream", member)
    return bool(getattr(upstream, "read_only", False))


__all__ = ["ReadOnlyError", "SilenceWriter", "skew_of"]

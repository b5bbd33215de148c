"""What the user asks to write (acks, silences, expiries), turned into silence writes: the one
write path of the CLI and the TUI, and the journal records that say what was written.

No textual here: the app runs these in workers and shows the outcome. Nothing is optimistic:
the board changes only when the next poll shows what Alertmanager now holds.

- Every new silence carries a unique reference in its comment (`[sd:7f3a9c21e0]`), so a write
  whose answer was lost is found in the cluster instead of being written again.
- An ack re-checks the cluster's silences right before writing (the one "already acknowledged"
  policy, domain.silences.existing_ack), and the check and the write hold the writer's lock,
  so two shiftdecks acking at once write one silence.
- Times are the cluster's: a silence asked to start now starts at the server's now.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from .domain.acks import AckPlan
from .domain.alerts import Alert
from .domain.journal import (Acked, AckResolved, AlertRef, PagerAcked, PagerSnoozed, Record,
                             SilenceCreated, SilenceExpired, SilenceExtended, Unacked)
from .domain.pager import ACKNOWLEDGED, RESOLVED, Correlation, Incident
from .domain.silences import (EXTEND_WHEN_LESS_THAN, AckSettings, Silence, SilenceRequest,
                              SilenceState, ack_request, common_matchers, exact_matchers,
                              existing_ack, extend_request, with_reference)
from .sources.pagerduty import PagerRefused
from .sources.silence_writer import ReadOnlyError

START_EARLY = timedelta(seconds=5)
"""A silence starting now is sent as starting this much earlier: Alertmanager moves a start in
the past to its own now, so the silence is active at once instead of pending for a moment
(when a second ack's re-check could miss it)."""
SKEW_PRECISION = timedelta(seconds=1)
"""How far the server's now may be from our estimate (its Date header has whole seconds): a
silence starting now ends this much early, so it never lasts longer than asked (guardrails)."""


class Writer(Protocol):
    async def write(self, request: SilenceRequest) -> str: ...

    async def expire(self, cluster: str, silence_id: str) -> None: ...

    async def silences(self, cluster: str) -> tuple[Silence, ...]: ...

    async def server_now(self, cluster: str) -> datetime: ...

    def now_at(self, cluster: str) -> datetime: ...

    def skews(self) -> dict[str, timedelta]: ...

    def note_skew(self, cluster: str, skew: timedelta) -> None: ...

    def exclusive(self) -> AbstractAsyncContextManager[None]: ...

    def cluster_of(self, alert: Alert) -> str: ...

    def clusters_of(self, alert: Alert) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Item:
    """One write asked for, and what became of it."""

    key: str
    """What it was for: an alert's fingerprint (acks), a cluster (group acks), a silence id
    (expiries, extensions)."""
    label: str
    """The same in words, for messages."""
    cluster: str
    silence_id: str = ""
    """The silence stored (or expired); '' when nothing was."""
    error: str = ""
    refused: bool = False
    """The error is a read-only refusal."""
    skipped: str = ""
    """Why nothing needed writing (`already acknowledged by alice`)."""


@dataclass
class Outcome:
    """What happened to each write: ids that were stored, and failures in words."""

    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Things the user should know though every write went through."""

    @property
    def done(self) -> list[str]:
        """Silence ids stored (or expired)."""
        return [i.silence_id for i in self.items if i.silence_id]

    @property
    def keys(self) -> list[str]:
        """For each stored write, what it was for (an alert's fingerprint for acks)."""
        return [i.key for i in self.items if i.silence_id]

    @property
    def failed(self) -> list[str]:
        return [f"{i.label}: {i.error}" for i in self.items if i.error]

    @property
    def skipped(self) -> list[str]:
        return [f"{i.label}: {i.skipped}" for i in self.items if i.skipped]

    @property
    def ok(self) -> bool:
        return not self.failed

    def ids_for(self, key: str) -> list[str]:
        return [i.silence_id for i in self.items if i.key == key and i.silence_id]


def new_reference() -> str:
    """A write's unique reference: 40 random bits as 10 hex digits."""
    return secrets.token_hex(5)


def in_server_time(request: SilenceRequest, server_now: datetime) -> SilenceRequest:
    """A silence asked to start at or before the server's now starts then and keeps its length
    (to within SKEW_PRECISION; see START_EARLY); one starting later keeps its times."""
    if request.starts_at > server_now:
        return request
    length = request.ends_at - request.starts_at
    return replace(request, starts_at=server_now - START_EARLY,
                   ends_at=server_now + length - SKEW_PRECISION)


async def _create(key: str, label: str, request: SilenceRequest, writer: Writer) -> Item:
    """Write one new silence, referenced and in server time; a failure becomes the Item's error."""
    try:
        now = await writer.server_now(request.cluster)
        stamped = replace(in_server_time(request, now),
                          comment=with_reference(request.comment, new_reference()))
        return Item(key, label, request.cluster, silence_id=await writer.write(stamped))
    except Exception as err:
        return Item(key, label, request.cluster, error=str(err), refused=_refusal(err))


def _refusal(err: Exception) -> bool:
    return isinstance(err, ReadOnlyError)


# --------------------------------------------------------------------------- #
# Acks
# --------------------------------------------------------------------------- #


async def acknowledge(alerts: Iterable[Alert], writer: Writer, user: str,
                      settings: AckSettings, note: str = "") -> Outcome:
    """One ACK! silence per alert, on exactly its label set, in every cluster that holds it,
    unless an ack already covers it there (checked right before writing, under the lock)."""
    targets = [(a, cluster) for a in alerts for cluster in _clusters(writer, a)]
    outcome = Outcome()

    async def one(alert: Alert, cluster: str, held: tuple[Silence, ...]) -> Item:
        ack = existing_ack(held, alert.labels)
        if ack is not None:
            return Item(alert.fingerprint, alert.name, cluster,
                        skipped=f"already acknowledged by {ack.created_by}")
        now = await writer.server_now(cluster)
        request = ack_request(exact_matchers(alert.labels), cluster, user, now, settings, note)
        return await _create(alert.fingerprint, alert.name, request, writer)

    await _checked(targets, writer, outcome, one)
    return outcome


async def acknowledge_group(alerts: list[Alert], writer: Writer, user: str,
                            settings: AckSettings) -> Outcome:
    """One ACK! silence on the labels the group shares, per Alertmanager cluster; none in a
    cluster where every alert of the group is acknowledged already."""
    by_cluster: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_cluster.setdefault(writer.cluster_of(alert), []).append(alert)
    outcome = Outcome()

    async def one(members: list[Alert], cluster: str, held: tuple[Silence, ...]) -> Item:
        label = f"group in {cluster}"
        acks = [existing_ack(held, a.labels) for a in members]
        if all(acks):
            who = ", ".join(sorted({a.created_by for a in acks if a}))
            return Item(cluster, label, cluster, skipped=f"already acknowledged by {who}")
        now = await writer.server_now(cluster)
        request = ack_request(common_matchers(members), cluster, user, now, settings)
        return await _create(cluster, label, request, writer)

    await _checked([(members, c) for c, members in by_cluster.items()], writer, outcome, one)
    return outcome


async def _checked(targets, writer: Writer, outcome: Outcome, one) -> None:
    """Under the writer's lock, read each cluster's silences once, then `one(target, cluster,
    silences)` per target. A cluster whose silences cannot be read (Alertmanager 0.32 answers
    500 while a multi-matcher-set silence exists) is written to unchecked, with a warning:
    an ack must not depend on that read."""
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(writer.exclusive())
        except OSError as err:
            outcome.warnings.append(f"the write lock could not be taken ({err.strerror or err}): "
                                    "another shiftdeck acknowledging at this moment could write "
                                    "a second ack")
        except Exception as err:
            outcome.items += [_failed(t, c, err) for t, c in targets]
            return
        held: dict[str, tuple[Silence, ...] | Exception] = {}
        for target, cluster in targets:
            if cluster not in held:
                held[cluster] = await _silences_or_error(writer, cluster)
            silences = held[cluster]
            if isinstance(silences, ReadOnlyError):
                outcome.items.append(_failed(target, cluster, silences))
                continue
            item = await one(target, cluster, () if isinstance(silences, Exception) else silences)
            outcome.items.append(item)
            if isinstance(silences, Exception) and item.silence_id:
                outcome.warnings.append(f"cluster {cluster}: could not check for an existing "
                                        f"ack ({silences}): written without that check")
                held[cluster] = ()  # said once


async def _silences_or_error(writer: Writer, cluster: str) -> tuple[Silence, ...] | Exception:
    try:
        return await writer.silences(cluster)
    except Exception as err:
        return err


def _failed(target: Alert | list[Alert], cluster: str, err: Exception) -> Item:
    if isinstance(target, Alert):
        return Item(target.fingerprint, target.name, cluster, error=str(err),
                    refused=_refusal(err))
    return Item(cluster, f"group in {cluster}", cluster, error=str(err), refused=_refusal(err))


def _clusters(writer: Writer, alert: Alert) -> tuple[str, ...]:
    # An alert only Prometheus knows has no cluster: cluster_of() then names the default one, or
    # "" and the write fails with a reason. Either way the user hears about it.
    return writer.clusters_of(alert) or (writer.cluster_of(alert),)


# --------------------------------------------------------------------------- #
# Silences, extensions, expiries
# --------------------------------------------------------------------------- #


async def write_silences(requests: Iterable[SilenceRequest], writer: Writer) -> Outcome:
    """New silences (referenced, in server time) and, for requests with an id, updates
    (extensions keep the id, so a repeated one changes nothing)."""
    outcome = Outcome()
    for request in requests:
        label = f"silence in {request.cluster}"
        if not request.id:
            outcome.items.append(await _create(request.cluster, label, request, writer))
            continue
        try:
            outcome.items.append(Item(request.id, label, request.cluster,
                                      silence_id=await writer.write(request)))
        except Exception as err:
            outcome.items.append(Item(request.id, label, request.cluster, error=str(err),
                                      refused=_refusal(err)))
    return outcome


async def expire(silences: Iterable[Silence], writer: Writer) -> Outcome:
    outcome = Outcome()
    for silence in silences:
        try:
            await writer.expire(silence.cluster, silence.id)
            outcome.items.append(Item(silence.id, silence.id[:8], silence.cluster,
                                      silence_id=silence.id))
        except Exception as err:
            outcome.items.append(Item(silence.id, silence.id[:8], silence.cluster,
                                      error=str(err), refused=_refusal(err)))
    return outcome


# --------------------------------------------------------------------------- #
# Keeping acks: extended while their alerts fire, ended when they resolved
# --------------------------------------------------------------------------- #
# The dashboard and `shiftdeck keep` (several of each, kthxbye and karma beside them) may plan
# the same write from polls a moment apart. Each is re-checked, under the writer's lock, against
# the cluster's silences read right before: one already extended or already ended by someone
# else is skipped, one changed since the poll is left alone.


async def keep_acks(plan: AckPlan, writer: Writer) -> Outcome:
    """Extend and end the acks of `plan` (domain.acks.plan_acks), each re-checked first."""
    outcome = Outcome()
    if not plan:
        return outcome
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(writer.exclusive())
        except OSError as err:
            outcome.warnings.append(f"the write lock could not be taken ({err.strerror or err})"
                                    ": acks re-checked without it")
        except Exception as err:
            outcome.items += [Item(i, f"ack {i[:8]}", "", error=str(err)) for i in plan.ids]
            return outcome
        held = {c: await _silences_or_error(writer, c) for c in plan.clusters}
        for request in plan.extend:
            outcome.items.append(await _keep_extending(request, held[request.cluster], writer))
        for silence in plan.end:
            outcome.items.append(await _end_ack(silence, held[silence.cluster], writer))
    return outcome


async def _keep_extending(request: SilenceRequest, held: tuple[Silence, ...] | Exception,
                          writer: Writer) -> Item:
    label, cluster = f"ack {request.id[:8]}", request.cluster
    current, why = _recheck(request.id, held)
    if current is None:
        return Item(request.id, label, cluster, skipped=why, error=_unread(held))
    if current.remaining(writer.now_at(cluster)) >= EXTEND_WHEN_LESS_THAN:
        return Item(request.id, label, cluster, skipped="already extended")
    try:
        written = await writer.write(extend_request(current, request.ends_at))
    except Exception as err:
        return Item(request.id, label, cluster, error=str(err), refused=_refusal(err))
    if written == request.id:
        return Item(request.id, label, cluster, silence_id=written)
    # The ack ended between the check and the write, so Alertmanager stored a new silence
    # instead: whoever ended it meant it to end.
    try:
        await writer.expire(cluster, written)
    except Exception as err:
        return Item(request.id, label, cluster, error=f"it ended meanwhile and Alertmanager "
                    f"made a new silence {written} that could not be expired: {err}")
    return Item(request.id, label, cluster, skipped="ended meanwhile (the new silence "
                f"Alertmanager made, {written[:8]}, was expired again)")


async def _end_ack(silence: Silence, held: tuple[Silence, ...] | Exception,
                   writer: Writer) -> Item:
    label, cluster = f"ack {silence.id[:8]}", silence.cluster
    current, why = _recheck(silence.id, held)
    if current is None:
        return Item(silence.id, label, cluster, skipped=why, error=_unread(held))
    if current.updated_at != silence.updated_at or current.ends_at != silence.ends_at:
        return Item(silence.id, label, cluster, skipped="changed since the poll: judged again "
                    "at the next one")
    try:
        await writer.expire(cluster, silence.id)
    except Exception as err:
        again, _ = _recheck(silence.id, await _silences_or_error(writer, cluster))
        if again is None:
            return Item(silence.id, label, cluster, skipped="already ended")
        return Item(silence.id, label, cluster, error=str(err), refused=_refusal(err))
    return Item(silence.id, label, cluster, silence_id=silence.id)


def _recheck(silence_id: str, held: tuple[Silence, ...] | Exception) -> tuple[Silence | None,
                                                                               str]:
    """The silence as the cluster holds it now, if still active; else None and why."""
    if isinstance(held, Exception):
        return None, ""
    current = next((s for s in held if s.id == silence_id), None)
    if current is None or current.state is not SilenceState.ACTIVE:
        return None, "already ended"
    return current, ""


def _unread(held: tuple[Silence, ...] | Exception) -> str:
    return f"not re-checked, so not written: {held}" if isinstance(held, Exception) else ""


# --------------------------------------------------------------------------- #
# The journal: what was written, the same records from the CLI and the TUI
# --------------------------------------------------------------------------- #


def ack_records(alerts: Iterable[Alert], outcome: Outcome, user: str, at: datetime,
                settings: AckSettings, note: str = "") -> list[Record]:
    """One Acked per alert acknowledged, naming its silences."""
    return [Acked(at, user, AlertRef.of(a), note, silences=tuple(ids),
                  duration=settings.duration)
            for a in alerts if (ids := outcome.ids_for(a.fingerprint))]


def group_ack_records(alerts: Iterable[Alert], outcome: Outcome, writer: Writer, user: str,
                      at: datetime) -> list[Record]:
    return [Acked(at, user, AlertRef.of(a), "group ack", silences=tuple(ids))
            for a in alerts if (ids := outcome.ids_for(writer.cluster_of(a)))]


def silence_records(request: SilenceRequest, outcome: Outcome, target: Alert | None, user: str,
                    at: datetime) -> list[Record]:
    """One SilenceCreated for a silence created (in one or more clusters); about `target` when
    the silence was made for one alert."""
    if not outcome.done:
        return []
    ref = AlertRef.of(target) if target is not None else None
    return [SilenceCreated(at, user, ref, request.comment, silences=tuple(outcome.done),
                           matchers=tuple(str(m) for m in request.matchers),
                           duration=request.ends_at - request.starts_at)]


def expire_records(silences: Iterable[Silence], outcome: Outcome, user: str,
                   at: datetime) -> list[Record]:
    """Unacked for an ACK! silence expired, SilenceExpired for any other."""
    expired = set(outcome.done)
    return [expire_record(s.id, s, user, at) for s in silences if s.id in expired]


def expire_record(silence_id: str, silence: Silence | None, user: str,
                  at: datetime) -> Unacked | SilenceExpired:
    """`silence` None: only its id is known (expired by id in a named cluster)."""
    if silence is None:
        return SilenceExpired(at, user, silence=silence_id)
    kind = Unacked if silence.is_ack else SilenceExpired
    return kind(at, user, None, silence.comment, silence=silence.id,
                matchers=tuple(str(m) for m in silence.matchers))


def extend_record(silence: Silence, new_end: datetime, user: str,
                  at: datetime) -> SilenceExtended:
    return SilenceExtended(at, user, None, silence.comment, silence=silence.id,
                           ends_at=new_end)


def keep_records(plan: AckPlan, outcome: Outcome, user: str, at: datetime) -> list[Record]:
    """A SilenceExtended per ack extended, an AckResolved per ack ended (its alerts resolved)."""
    done = set(outcome.done)
    records: list[Record] = [
        SilenceExtended(at, user, None, r.comment, silence=r.id, ends_at=r.ends_at)
        for r in plan.extend if r.id in done]
    records += [AckResolved(at, user, None, s.comment, silence=s.id,
                            matchers=tuple(str(m) for m in s.matchers))
                for s in plan.end if s.id in done]
    return records


# --------------------------------------------------------------------------- #
# PagerDuty: incidents acknowledged, resolved, snoozed
# --------------------------------------------------------------------------- #
# An ack of an alert that pages through PagerDuty also acknowledges the incident (Alertmanager
# never sends `acknowledge` itself, so without this PagerDuty escalates an acked alert). Both
# writes are attempted whatever becomes of the other, and a failure says which one failed.


class Pager(Protocol):
    name: str

    def refusal(self) -> str: ...

    async def set_status(self, incident_ids: Sequence[str], status: str) -> list[str]: ...

    async def snooze(self, incident_id: str, duration: timedelta) -> None: ...


@dataclass(frozen=True, slots=True)
class PageItem:
    """One incident write asked for (for one alert, or for the incident alone)."""

    incident: Incident
    alert: Alert | None = None
    done: bool = False
    error: str = ""
    refused: bool = False
    """The error is a refusal before any request (read-only, no `from`)."""
    skipped: str = ""


@dataclass
class PagerOutcome:
    items: list[PageItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.error for i in self.items)

    def for_alert(self, fingerprint: str) -> PageItem | None:
        return next((i for i in self.items
                     if i.alert is not None and i.alert.fingerprint == fingerprint), None)


async def acknowledge_incidents(pairs: Iterable[tuple[Alert | None, Incident]],
                                pagers: Mapping[str, Pager]) -> PagerOutcome:
    """Acknowledge each open, not yet acknowledged incident once (``PUT /incidents``, in
    batches, per account); one item per (alert, incident) asked for."""
    return await _set_status(list(pairs), pagers, ACKNOWLEDGED)


async def resolve_incidents(incidents: Iterable[Incident],
                            pagers: Mapping[str, Pager]) -> PagerOutcome:
    """Resolve each open incident (the TUI's `R`, after its confirm)."""
    return await _set_status([(None, i) for i in incidents], pagers, RESOLVED)


async def snooze_incident(incident: Incident, duration: timedelta,
                          pagers: Mapping[str, Pager]) -> PagerOutcome:
    """Snooze an acknowledged incident: PagerDuty re-triggers it after `duration`."""
    pager = pagers.get(incident.source)
    try:
        if pager is None:
            raise PagerRefused(f"no pagerduty named {incident.source!r} is configured")
        if incident.status != ACKNOWLEDGED:
            raise PagerRefused("only an acknowledged incident can be snoozed (acknowledge it "
                               "first)")
        await pager.snooze(incident.id, duration)
        return PagerOutcome([PageItem(incident, done=True)])
    except Exception as err:
        return PagerOutcome([PageItem(incident, error=str(err),
                                      refused=isinstance(err, PagerRefused))])


async def acknowledge_paged(alerts: Sequence[Alert], writer: Writer, pagers: Mapping[str, Pager],
                            correlation: Correlation, user: str, settings: AckSettings,
                            note: str = "") -> tuple[Outcome, PagerOutcome]:
    """The ack of `a` and `shiftdeck ack`: ACK! silences as ``acknowledge`` writes them, and
    the incidents paging for these alerts acknowledged in PagerDuty."""
    outcome = await acknowledge(alerts, writer, user, settings, note)
    pairs = [(a, i) for a in alerts if (i := correlation.incident_for(a)) is not None]
    return outcome, await acknowledge_incidents(pairs, pagers)


async def _set_status(pairs: list[tuple[Alert | None, Incident]], pagers: Mapping[str, Pager],
                      status: str) -> PagerOutcome:
    outcome = PagerOutcome()
    wanted: dict[str, list[tuple[Alert | None, Incident]]] = {}
    for alert, incident in pairs:
        skip = _no_need(incident, status)
        if skip:
            outcome.items.append(PageItem(incident, alert, skipped=skip))
        else:
            wanted.setdefault(incident.source, []).append((alert, incident))
    for source, todo in wanted.items():
        ids = list(dict.fromkeys(i.id for _, i in todo))
        pager = pagers.get(source)
        try:
            if pager is None:
                raise PagerRefused(f"no pagerduty named {source!r} is configured")
            done = set(await pager.set_status(ids, status))
        except Exception as err:
            outcome.items += [PageItem(i, a, error=str(err), refused=isinstance(err, PagerRefused))
                              for a, i in todo]
            continue
        outcome.items += [PageItem(i, a, done=True) if i.id in done else
                          PageItem(i, a, error="PagerDuty did not confirm the update")
                          for a, i in todo]
    return outcome


def _no_need(incident: Incident, status: str) -> str:
    if incident.status == RESOLVED:
        return f"PagerDuty incident {incident.reference} is resolved already"
    if status == ACKNOWLEDGED and incident.status == ACKNOWLEDGED:
        who = ", ".join(incident.acknowledged_by) or "someone"
        return f"PagerDuty incident {incident.reference} already acknowledged by {who}"
    return ""


def ack_failure(silence: Item | None, page: PageItem | None) -> str:
    """Which half of an ack failed, in words ('' when none did): "silence written; PagerDuty
    ack failed: …", "PagerDuty incident #12 acknowledged; silence failed: …"."""
    silence_error = silence.error if silence is not None else ""
    page_error = page.error if page is not None else ""
    if silence_error and page_error:
        return f"not acknowledged: silence failed: {silence_error}; PagerDuty ack failed: " \
               f"{page_error}"
    if page_error:
        return f"silence written; PagerDuty ack failed: {page_error}"
    if silence_error and page is not None and page.done:
        return f"PagerDuty incident {page.incident.reference} acknowledged; silence failed: " \
               f"{silence_error}"
    return f"not acknowledged: {silence_error}" if silence_error else ""


def pager_records(outcome: PagerOutcome, user: str, at: datetime, kind: type[PagerAcked],
                  duration: timedelta | None = None) -> list[Record]:
    """A PagerAcked, PagerResolved or PagerSnoozed per incident written (per alert when it
    was for alerts)."""
    records: list[Record] = []
    for item in outcome.items:
        if not item.done:
            continue
        ref = AlertRef.of(item.alert) if item.alert is not None else None
        incident = item.incident
        number = incident.number or None
        if kind is PagerSnoozed:
            records.append(PagerSnoozed(at, user, ref, incident.title, incident=incident.id,
                                        number=number, pager=incident.source,
                                        duration=duration))
        else:
            records.append(kind(at, user, ref, incident.title, incident=incident.id,
                                number=number, pager=incident.source))
    return records

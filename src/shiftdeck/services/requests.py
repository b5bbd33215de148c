"""What the screens ask for, done: acks, expiries, extensions and silences through the one
write path (writes.py), journaled for what Alertmanager accepted (even on partial failure),
told to the user; notes, status updates and commands journaled. An ack of an alert PagerDuty
pages for acknowledges the incident too; incidents are resolved and snoozed. The app runs each
write in a worker; nothing here knows of textual. The ack keeper (kthxbye's job) is planned where
each poll is applied (`plan_acks`, for the ShiftRunner) and started from the event loop
(`keep_acks`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from .. import writes
from ..clock import Clock
from ..domain.acks import AckPlan, team_of
from ..domain.alerts import Alert, AlertState
from ..domain.durations import format_duration
from ..domain.board import Board
from ..domain.journal import (PagerAcked, PagerResolved, PagerSnoozed, Record, command_record,
                              note_record, status_record)
from ..domain.pager import Correlation, Incident
from ..domain.silences import Silence, SilenceRequest, extend_request
from .ack_extender import AckExtender
from .notifier import Notifier

Records = Callable[[writes.Outcome], list[Record]]
Said = Callable[[writes.Outcome], str]


class Requests:
    def __init__(self, writer: writes.Writer, config: Any, clock: Clock,
                 record: Callable[[Sequence[Record]], None], notify: Notifier,
                 refresh: Callable[[], None],
                 pagers: Mapping[str, writes.Pager] | None = None, *,
                 start: Callable[[Awaitable[None]], None]) -> None:
        """`record` puts records into the Shift and the journal; `refresh` polls every source
        at once (so the screen shows what Alertmanager now holds); `pagers`: the PagerDuty
        accounts by name; `start` runs a write of the ack keeper's in a worker."""
        self._writer = writer
        self._pagers = dict(pagers or {})
        self._config = config
        self._clock = clock
        self._record = record
        self._notify = notify
        self._refresh = refresh
        self._start = start
        self._extender = AckExtender(writer, config.ack, team_of(config.user, config.roster.people))
        self._running: list[str] = []

    @property
    def in_flight(self) -> tuple[str, ...]:
        """The writes started and not finished, in words ("Ack 1 alert(s)")."""
        return tuple(self._running)

    @property
    def busy(self) -> bool:
        """A write is in flight: quitting now could cut it short."""
        return bool(self._running)

    def cluster_now(self, alert: Alert) -> tuple[str, datetime]:
        """The cluster a silence for `alert` is written to, and the time on its clock."""
        cluster = self._writer.cluster_of(alert)
        return cluster, self._writer.now_at(cluster)

    def refused(self) -> bool:
        """Read-only mode: say that nothing is written."""
        if self._config.read_only:
            self._notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return bool(self._config.read_only)

    async def ack(self, alerts: list[Alert], group: bool, pages: Correlation | None = None
                  ) -> None:
        """ACK! silences; with `pages`, the incidents paging for these alerts acknowledged
        in PagerDuty too."""
        if self.refused():
            return
        writer, user, ack, now = self._writer, self._config.user, self._config.ack, self._clock.now
        self._warn_pending(alerts)
        paired = [(a, i) for a in alerts if pages and (i := pages.incident_for(a)) is not None]
        if paired:
            await self._ack_paged(alerts, group, paired)
        elif group:
            await self.write(f"Ack group of {len(alerts)} alert(s)",
                             writes.acknowledge_group(alerts, writer, user, ack), "A",
                             lambda o: writes.group_ack_records(alerts, o, writer, user, now()))
        else:
            await self.write(f"Ack {len(alerts)} alert(s)",
                             writes.acknowledge(alerts, writer, user, ack), "a",
                             lambda o: writes.ack_records(alerts, o, user, now(), ack))

    async def _ack_paged(self, alerts: list[Alert], group: bool,
                         paired: list[tuple[Alert, Incident]]) -> None:
        """The silence and the incidents: both attempted, each failure said as its own."""
        writer, user, ack, now = self._writer, self._config.user, self._config.ack, self._clock.now
        what = f"Ack {'group of ' if group else ''}{len(alerts)} alert(s)"
        self._running.append(what)
        try:
            outcome = await (writes.acknowledge_group(alerts, writer, user, ack) if group
                             else writes.acknowledge(alerts, writer, user, ack))
            paged = await writes.acknowledge_incidents(paired, self._pagers)
        finally:
            self._running.remove(what)
        records = [] if not outcome.done else (
            writes.group_ack_records(alerts, outcome, writer, user, now()) if group
            else writes.ack_records(alerts, outcome, user, now(), ack))
        self._record(records + writes.pager_records(paged, user, now(), PagerAcked))
        told, severity = ack_told(what, outcome, paged, "A" if group else "a")
        self._notify(told, severity=severity, timeout=12 if severity == "error" else 6)
        self._refresh()

    async def page(self, incident: Incident, action: str, duration: timedelta | None) -> None:
        """A write to PagerDuty alone: `acknowledge`, `resolve` or `snooze` (for `duration`)."""
        if action == "resolve":
            await self.resolve_incident(incident)
        elif action == "snooze" and duration is not None:
            await self.snooze_incident(incident, duration)
        elif action == "acknowledge" and not self.refused():
            await self._page(f"Acknowledge PagerDuty incident {incident.reference}",
                             writes.acknowledge_incidents([(None, incident)], self._pagers),
                             PagerAcked)

    async def resolve_incident(self, incident: Incident) -> None:
        """`R`, confirmed: the incident resolved in PagerDuty."""
        if not self.refused():
            await self._page(f"Resolve PagerDuty incident {incident.reference}",
                             writes.resolve_incidents([incident], self._pagers), PagerResolved)

    async def snooze_incident(self, incident: Incident, duration: timedelta) -> None:
        """`Z`: PagerDuty triggers the (acknowledged) incident again after `duration`."""
        if not self.refused():
            await self._page(f"Snooze PagerDuty incident {incident.reference} for "
                             f"{format_duration(duration)}",
                             writes.snooze_incident(incident, duration, self._pagers),
                             PagerSnoozed, duration)

    async def _page(self, what: str, job: Awaitable[writes.PagerOutcome],
                    kind: type[PagerAcked], duration: timedelta | None = None) -> None:
        self._running.append(what)
        try:
            paged = await job
        finally:
            self._running.remove(what)
        self._record(writes.pager_records(paged, self._config.user, self._clock.now(), kind,
                                          duration))
        errors = [i.error for i in paged.items if i.error]
        skipped = [i.skipped for i in paged.items if i.skipped]
        if errors:
            self._notify(f"{what} failed: {'; '.join(errors)}.", severity="error", timeout=12)
        else:
            self._notify(f"{what}: {'; '.join(skipped) or 'done'}.", timeout=4)
        self._refresh()

    def _warn_pending(self, alerts: list[Alert]) -> None:
        """A pending alert is Prometheus' alone: Alertmanager has nothing yet for the ack to
        silence. The ack is still written (it keeps the page away if the alert fires soon),
        but the user is told it matches nothing now and lapses if unused."""
        pending = sorted({a.name for a in alerts if a.state is AlertState.PENDING})
        if pending:
            self._notify(f"{', '.join(pending)} is pending, not firing: Alertmanager has no "
                         f"such alert yet, so the ACK! silence matches nothing now. It applies "
                         f"if the alert fires within {format_duration(self._config.ack.duration)}"
                         ".", severity="warning", timeout=10)

    async def expire(self, silences: list[Silence], unack: bool = False) -> None:
        """Expire `silences`; `unack`: they are acks being taken back (said so)."""
        if self.refused():
            return
        what = "Un-ack" if unack else "Expire"
        await self.write(what, writes.expire(silences, self._writer), "",
                         lambda o: writes.expire_records(silences, o, self._config.user,
                                                         self._clock.now()),
                         said=lambda o: expired_text(silences, o.done, unack))

    async def extend(self, silence: Silence, by: timedelta, text: str) -> None:
        """Extend by `by` (as the user wrote it: `text`) from its end or now, keeping the id."""
        if self.refused():
            return
        new_end = max(silence.ends_at, self._writer.now_at(silence.cluster)) + by
        await self.write(f"Extend by {text}",
                         writes.write_silences([extend_request(silence, new_end)], self._writer),
                         "e", lambda o: [writes.extend_record(silence, new_end, self._config.user,
                                                              self._clock.now())])

    async def silence(self, silence: SilenceRequest, target: Alert | None) -> None:
        """A silence from the form; `target` when it was made for one alert."""
        if not self.refused():
            await self.write("Silence", writes.write_silences([silence], self._writer), "s",
                             lambda o: writes.silence_records(silence, o, target,
                                                              self._config.user,
                                                              self._clock.now()),
                             said=lambda o: f"Silence {', '.join(o.done)} created "
                                            f"({len(silence.matchers)} matcher(s)).")

    def plan_acks(self, board: Board) -> AckPlan:
        """kthxbye's job, decided: the acks due an extension now and those whose alerts
        resolved (ack.until_resolved); nothing when read-only. Reads only (any thread)."""
        return AckPlan() if self._config.read_only else self._extender.planned(board)

    def keep_acks(self, plan: AckPlan) -> None:
        """Start the write of `plan`, less what is being written already (event loop)."""
        plan = self._extender.claim(plan)
        if plan:
            self._start(self.write("Keep acks", self._extender.keep(plan), quiet=True,
                                   records=lambda outcome: self._extender.records(
                                       plan, outcome, self._config.user, self._clock.now())))

    def note(self, alert: Alert, text: str) -> None:
        self._record([note_record(alert, self._config.user, self._clock.now(), text)])

    def status_update(self, alert: Alert, status: str, body: str) -> None:
        self._record([status_record(alert, self._config.user, self._clock.now(), status, "",
                                    body, None)])

    def command_ran(self, alert: Alert, argv: list[str], exit_code: int | None,
                    duration: timedelta) -> None:
        self._record([command_record(alert, self._config.user, self._clock.now(), argv,
                                     exit_code, duration)])

    async def write(self, what: str, job: Awaitable[writes.Outcome], retry_key: str = "",
                    records: Records | None = None, quiet: bool = False,
                    said: Said | None = None) -> None:
        """Run one write; journal what was accepted, say how it went (`said`: in its own words
        when all went through), then poll at once."""
        self._running.append(what)
        try:
            outcome = await job
        finally:
            self._running.remove(what)
        if outcome.done and records is not None:
            self._record(records(outcome))
        for warning in outcome.warnings:
            self._notify(f"{what}: {warning}.", severity="warning", timeout=8)
        if not outcome.ok:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self._notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                         severity="error", timeout=12)
        elif not quiet:
            skipped = "; ".join(outcome.skipped)
            done = said(outcome) if said and outcome.done else f"{what}: done."
            self._notify(done if not skipped else
                         f"{what}: {'done; ' if outcome.done else ''}{skipped}.", timeout=4)
        if not quiet:
            self._refresh()


def ack_told(what: str, outcome: writes.Outcome, paged: writes.PagerOutcome,
             retry_key: str) -> tuple[str, str]:
    """(message, severity) of an ack that also went to PagerDuty: which half failed, if any."""
    incidents = {i.incident.id: i for i in paged.items}.values()
    refs = ", ".join(i.incident.reference for i in incidents if i.done)
    page_errors = "; ".join(dict.fromkeys(f"{i.incident.reference}: {i.error}"
                                          for i in incidents if i.error))
    silence = ("ACK! silence failed: " + "; ".join(outcome.failed) if outcome.failed else
               "ACK! silence written" if outcome.done else "")
    page = (f"PagerDuty ack failed: {page_errors}" if page_errors else
            f"PagerDuty incident {refs} acknowledged" if refs else "")
    skipped = [*outcome.skipped, *dict.fromkeys(i.skipped for i in incidents if i.skipped)]
    told = "; ".join(part for part in (silence, page, *skipped) if part)
    if outcome.failed or page_errors:
        return f"{what}: {told}. Press {retry_key} to retry.", "error"
    return f"{what}: {told}.", "information"


def expired_text(silences: list[Silence], done: list[str], unack: bool) -> str:
    """`Un-acked HighErrorRate: silence 4f2a1c9e… expired.` (or `Expired silence …: <comment>`)."""
    gone = [s for s in silences if s.id in done]
    ids = ", ".join(f"{s.id[:8]}…" for s in gone)
    if unack:
        names = sorted({m.value for s in gone for m in s.matchers
                        if m.name == "alertname" and not m.is_regex and m.is_equal})
        return f"Un-acked {', '.join(names) or 'the alert'}: silence {ids} expired."
    why = gone[0].comment.replace("\n", " ")[:60] if len(gone) == 1 else f"{len(gone)} silences"
    return f"Expired silence {ids}: {why}."

"""Acks, silences and expiries as the user asks for them, and the kthxbye-style extension of
ACK! silences. A mixin of ShiftdeckApp: it uses the app's config, clock, writer, board, journal.

Nothing here is optimistic: the board changes only when the next poll shows what Alertmanager
now holds; a failure says why and how to retry.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.content import Content

from . import writes
from .domain.alerts import Alert
from .domain.durations import parse_duration
from .domain.clockskew import noticeable
from .domain.silences import Silence, extend_request, plan_extensions
from .screens.confirm import ConfirmScreen
from .screens.prompt import PromptScreen
from .screens.silence_form import FormContext, SilenceForm
from .screens.silences import SilencesScreen
from .sources.silence_writer import skew_of
from .widgets.header_bar import HeaderBar


class SilencingMixin:
    def _refuse_in_read_only(self) -> bool:
        if self.config.read_only:
            self.notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return self.config.read_only

    def acknowledge(self, alerts: list[Alert], note: str = "") -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge(alerts, self.writer, self.config.user, self.config.ack, note)

        def done(outcome: writes.Outcome) -> None:
            self._journal_all(writes.ack_records(alerts, outcome, self.config.user,
                                                 self.clock.now(), self.config.ack, note))

        self._write(f"Ack {len(alerts)} alert(s)", job, retry_key="a", on_done=done)

    def acknowledge_group(self, alerts: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge_group(alerts, self.writer, self.config.user, self.config.ack)

        def done(outcome: writes.Outcome) -> None:
            self._journal_all(writes.group_ack_records(alerts, outcome, self.writer,
                                                       self.config.user, self.clock.now()))

        self._write(f"Ack group of {len(alerts)} alert(s)", job, retry_key="A", on_done=done)

    def open_silence_form(self, targets: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        cluster = self.writer.cluster_of(targets[0])
        context = FormContext(targets, list(self.board.alerts.values()), self.config.severity,
                              self.config.silences, self.config.user, cluster,
                              self._server_now(cluster))

        def submitted(request) -> None:
            if request is None:
                return

            def done(outcome: writes.Outcome) -> None:
                target = targets[0] if len(targets) == 1 else None
                self._journal_all(writes.silence_records(request, outcome, target,
                                                         self.config.user, self.clock.now()))

            self._write("Silence", writes.write_silences([request], self.writer),
                        retry_key="s", on_done=done)

        self.push_screen(SilenceForm(context), submitted)

    def confirm_expire(self, silences: list[Silence], question: str) -> None:
        if self._refuse_in_read_only():
            return
        body = Content("\n").join(
            Content(f"DELETE /api/v2/silence/{s.id}  (cluster {s.cluster or '-'})\n"
                    f"  {' '.join(str(m) for m in s.matchers)}\n  by {s.created_by}: {s.comment}")
            for s in silences)

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def done(outcome: writes.Outcome) -> None:
                self._journal_all(writes.expire_records(silences, outcome, self.config.user,
                                                        self.clock.now()))

            self._write("Expire", writes.expire(silences, self.writer), retry_key="",
                        on_done=done)

        self.push_screen(ConfirmScreen(question, body), answered)

    def extend_silence(self, silence: Silence) -> None:
        if self._refuse_in_read_only():
            return

        def validate(text: str) -> str | None:
            try:
                parse_duration(text)
            except ValueError as err:
                return str(err)
            return None

        def answered(text: str | None) -> None:
            if text:
                now = self._server_now(silence.cluster)
                new_end = max(silence.ends_at, now) + parse_duration(text)
                job = writes.write_silences([extend_request(silence, new_end)], self.writer)

                def done(outcome: writes.Outcome) -> None:
                    self.record(writes.extend_record(silence, new_end, self.config.user,
                                                     self.clock.now()))

                self._write(f"Extend by {text}", job, retry_key="e", on_done=done)

        self.push_screen(PromptScreen("Extend the silence by (same ID):", "1h", validate),
                         answered)

    def show_silences(self) -> None:
        self.push_screen(SilencesScreen(self.board, self.config.silences.warn_before,
                                        self.config.read_only,
                                        self.config.ack.extend and not self.config.read_only))

    @work(group="writes")
    async def _write(self, what: str, job, retry_key: str,
                     on_done: Callable[[writes.Outcome], None] | None = None) -> None:
        outcome = await job
        if outcome.done and on_done is not None:
            on_done(outcome)  # journal what Alertmanager accepted, even on partial failure
        for warning in outcome.warnings:
            self.notify(f"{what}: {warning}.", severity="warning", timeout=8)
        if outcome.ok:
            skipped = "; ".join(outcome.skipped)
            self.notify(f"{what}: done." if not skipped else
                        f"{what}: {'done; ' if outcome.done else ''}{skipped}.", timeout=4)
        else:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self.notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                        severity="error", timeout=12)
        self.action_refresh_now(quiet=True)

    def _show_clock_skews(self) -> None:
        """Give the writer the skews the pollers measured on every answer (writes and ack
        extensions use the cluster's clock); the header shows those over 30 s."""
        for source in self._sources:
            skew = skew_of(source, self.clock) if source.kind == "alertmanager" else None
            if skew is not None:
                self.writer.note_skew(source.cluster, skew)
        skews = tuple(noticeable(self.writer.skews()))
        for header in self.dashboard.query(HeaderBar):
            header.skews = skews

    def _journal_all(self, records) -> None:
        for record in records:
            self.record(record)

    def _server_now(self, cluster: str):
        """Now on the cluster's clock, as the pollers last measured it (see the header)."""
        return self.writer.now_at(cluster)

    def _extend_acks(self) -> None:
        """kthxbye's job, idempotently: extend ACK! silences still silencing a firing alert.
        "Less than 5 minutes remain" is judged on each cluster's clock."""
        if self.config.read_only:
            return
        by_cluster: dict[str, list[Silence]] = {}
        for silence in self.board.silences.values():
            by_cluster.setdefault(silence.cluster, []).append(silence)
        plans = [p for cluster, silences in by_cluster.items()
                 for p in plan_extensions(silences, self.board.alerts.values(),
                                          self._server_now(cluster), self.config.ack)
                 if p.id not in self._extending]
        if plans:
            self._extending.update(p.id for p in plans)
            self._run_extensions(plans)

    @work(group="extend")
    async def _run_extensions(self, plans) -> None:
        try:
            outcome = await writes.write_silences(plans, self.writer)
        finally:
            self._extending.difference_update(p.id for p in plans)
        if not outcome.ok:
            self.notify("Could not extend an ack: " + "; ".join(outcome.failed), severity="error",
                        timeout=12)

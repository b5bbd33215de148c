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
from .domain.journal import Kind
from .domain.silences import Silence, extend_request, plan_extensions
from .screens.confirm import ConfirmScreen
from .screens.prompt import PromptScreen
from .screens.silence_form import FormContext, SilenceForm
from .screens.silences import SilencesScreen


class SilencingMixin:
    def _refuse_in_read_only(self) -> bool:
        if self.config.read_only:
            self.notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return self.config.read_only

    def acknowledge(self, alerts: list[Alert], note: str = "") -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge(alerts, self.writer, self.config.user, self.clock.now(),
                                 self.config.ack, note)

        def done(outcome: writes.Outcome) -> None:
            acked = set(outcome.keys)
            for alert in alerts:
                if alert.fingerprint in acked:
                    self.note(Kind.ACK, alert, note, silences=outcome.done,
                              duration=self.config.ack.duration.total_seconds())

        self._write(f"Ack {len(alerts)} alert(s)", job, retry_key="a", on_done=done)

    def acknowledge_group(self, alerts: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge_group(alerts, self.writer, self.config.user, self.clock.now(),
                                       self.config.ack)

        def done(outcome: writes.Outcome) -> None:
            acked = set(outcome.keys)  # clusters whose group silence was stored
            for alert in alerts:
                if self.writer.cluster_of(alert) in acked:
                    self.note(Kind.ACK, alert, "group ack", silences=outcome.done)

        self._write(f"Ack group of {len(alerts)} alert(s)", job, retry_key="A", on_done=done)

    def open_silence_form(self, targets: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        context = FormContext(targets, list(self.board.alerts.values()), self.config.severity,
                              self.config.silences, self.config.user,
                              self.writer.cluster_of(targets[0]), self.clock.now())

        def submitted(request) -> None:
            if request is None:
                return

            def done(outcome: writes.Outcome) -> None:
                self.note(Kind.SILENCE_CREATED, targets[0] if len(targets) == 1 else None,
                          request.comment, silences=outcome.done,
                          matchers=[str(m) for m in request.matchers],
                          duration=(request.ends_at - request.starts_at).total_seconds())

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
                for silence in (s for s in silences if s.id in outcome.keys):
                    kind = Kind.UNACK if silence.is_ack else Kind.SILENCE_EXPIRED
                    self.note(kind, None, silence.comment, silence=silence.id,
                              matchers=[str(m) for m in silence.matchers])

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
                new_end = max(silence.ends_at, self.clock.now()) + parse_duration(text)
                job = writes.write_silences([extend_request(silence, new_end)], self.writer)

                def done(outcome: writes.Outcome) -> None:
                    self.note(Kind.SILENCE_EXTENDED, None, silence.comment, silence=silence.id,
                              ends_at=new_end.isoformat())

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
        if outcome.ok:
            self.notify(f"{what}: done.", timeout=3)
        else:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self.notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                        severity="error", timeout=12)
        self.action_refresh_now(quiet=True)

    def _extend_acks(self) -> None:
        """kthxbye's job, idempotently: extend ACK! silences still silencing a firing alert."""
        if self.config.read_only:
            return
        plans = [p for p in plan_extensions(self.board.silences.values(),
                                            self.board.alerts.values(), self.clock.now(),
                                            self.config.ack) if p.id not in self._extending]
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

"""The silence form: choose matchers from the alert's labels, a duration, a comment; see live
which alerts it would silence and whether the guardrails allow it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from ..domain.alerts import Alert
from ..domain.durations import parse_start as parse_cli_start
from ..domain.durations import format_duration, parse_duration
from ..domain.matchers import Matcher, MatcherError, make_matcher
from ..domain.severity import SeverityPolicy
from ..domain.silences import Refusal, SilenceRequest, SilenceSettings, check_silence

PRESETS = ("15m", "1h", "4h", "1d")
OPERATORS = [("=", "="), ("!=", "!="), ("=~", "=~"), ("!~", "!~")]


@dataclass(frozen=True)
class FormContext:
    targets: Sequence[Alert]
    """The alerts the form was opened on (highlighted or marked)."""
    alerts: Sequence[Alert]
    """Every current alert, for the preview."""
    policy: SeverityPolicy
    settings: SilenceSettings
    user: str
    cluster: str
    now: datetime


def initial_matchers(targets: Sequence[Alert]) -> list[tuple[str, str, str, bool]]:
    """(label, op, value, enabled) rows: shared values as `=`, differing ones as a `=~` list."""
    names = sorted({name for alert in targets for name in alert.labels})
    rows = []
    for name in names:
        values = sorted({alert.labels.get(name, "") for alert in targets})
        everywhere = all(name in alert.labels for alert in targets)
        if len(values) == 1:
            rows.append((name, "=", values[0], everywhere))
        else:
            rows.append((name, "=~", "|".join(re.escape(v) for v in values), everywhere))
    return rows


def parse_start(text: str, now: datetime) -> datetime:
    """`now`, or what `shiftdeck silence --start` takes (`+30m`, an ISO time, UTC when no zone
    is given), with the same error sentence."""
    return now if text.strip() == "now" else parse_cli_start(text, now)


def _one_line(alert: Alert) -> str:
    labels = " ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    text = f"  {alert.level} {alert.state.value} {alert.name} {labels}"
    return text.replace("\n", " ")[:90]


class SilenceForm(ModalScreen[SilenceRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form_cancel"),
        Binding("ctrl+s", "submit", "Create silence", id="form_submit"),
    ]
    DEFAULT_CSS = """
    SilenceForm { align: center middle; }
    SilenceForm > VerticalScroll { width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    SilenceForm .row { height: 1; margin: 0; }
    SilenceForm .row > Checkbox { width: 24; }
    SilenceForm .row > Select { width: 8; }
    SilenceForm .row > Input { width: 1fr; }
    SilenceForm .field { height: 1; }
    SilenceForm .field > Static { width: 11; color: $text-muted; }
    SilenceForm .field > Input { width: 1fr; }
    SilenceForm .field > Button { min-width: 5; width: 5; }
    SilenceForm .title { text-style: bold; color: $accent; }
    SilenceForm #form-refusal { color: $error; }
    SilenceForm #form-preview { color: $text-muted; }
    """

    def __init__(self, context: FormContext) -> None:
        super().__init__()
        self.context = context
        self._rows = initial_matchers(context.targets)

    def compose(self) -> ComposeResult:
        level = self._strictest_level()
        with VerticalScroll():
            yield Static(Content(f"New silence in cluster {self.context.cluster or '(default)'}"),
                         classes="title")
            for index, (name, op, value, enabled) in enumerate(self._rows):
                with Horizontal(classes="row"):
                    yield Checkbox(name, enabled, id=f"on-{index}", compact=True)
                    yield Select(OPERATORS, value=op, allow_blank=False, id=f"op-{index}",
                                 compact=True)
                    yield Input(value, id=f"value-{index}", compact=True)
            with Horizontal(classes="field"):
                yield Static("duration")
                yield Input(self._default_duration(level), id="duration", compact=True)
                for preset in PRESETS:
                    yield Button(preset, id=f"preset-{preset}", compact=True)
            yield from self._field("starts", "now", "now, +30m, or 2026-11-22T18:00")
            yield from self._field("author", self.context.user, "")
            yield from self._field("approver", "", "needed for some levels and protected alerts")
            yield from self._field("comment", "", "why (required)")
            yield Static("", id="form-preview")
            yield Static("", id="form-refusal")
            yield Static(Content("ctrl+s: create   esc: cancel   tab: next field"),
                         classes="title")

    def _field(self, name: str, value: str, placeholder: str) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Static(name)
            yield Input(value, placeholder=placeholder, id=name, compact=True)

    def _strictest_level(self):
        levels = [self.context.policy.level_of(a.labels) for a in self.context.targets]
        return min(levels, key=lambda lvl: self.context.policy.rank(lvl.level)) if levels else None

    @staticmethod
    def _default_duration(level) -> str:
        if level is not None and level.max_silence and level.max_silence < timedelta(hours=1):
            return format_duration(level.max_silence)
        return "1h"

    def on_mount(self) -> None:
        self.query_one("#comment", Input).focus()
        self._update()

    # -- reading the form ------------------------------------------------------------------

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def matchers(self) -> tuple[Matcher, ...]:
        chosen = []
        for index, (name, _, _, _) in enumerate(self._rows):
            if self.query_one(f"#on-{index}", Checkbox).value:
                op = str(self.query_one(f"#op-{index}", Select).value)
                chosen.append(make_matcher(name, op, self._value(f"value-{index}")))
        if not chosen:
            raise MatcherError("choose at least one label")
        return tuple(chosen)

    def request(self) -> SilenceRequest:
        """The silence as the form describes it, checked by the guardrails (or Refusal)."""
        try:
            matchers = self.matchers()
            starts = parse_start(self._value("starts"), self.context.now)
            ends = starts + parse_duration(self._value("duration"))
        except (MatcherError, ValueError) as err:
            raise Refusal(str(err)) from None
        request = SilenceRequest(matchers, starts, ends, self._value("author").strip()
                                 or self.context.user, self._value("comment"),
                                 self.context.cluster)
        matched = [a for a in self.context.alerts if all(m.matches(a.labels) for m in matchers)]
        return check_silence(request, matched, self.context.policy, self.context.settings,
                             self._value("approver"))

    # -- live feedback ---------------------------------------------------------------------

    def on_input_changed(self) -> None:
        self._update()

    def on_checkbox_changed(self) -> None:
        self._update()

    def on_select_changed(self) -> None:
        self._update()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("preset-"):
            self.query_one("#duration", Input).value = event.button.id.removeprefix("preset-")

    def _update(self) -> None:
        self.query_one("#form-preview", Static).update(self._preview())
        try:
            self.request()
            refusal = ""
        except Refusal as why:
            refusal = f"✗ {why}"
        self.query_one("#form-refusal", Static).update(Content(refusal))

    def _preview(self) -> Content:
        try:
            matchers = self.matchers()
        except MatcherError as err:
            return Content(f"preview: {err}")
        matched = [a for a in self.context.alerts if all(m.matches(a.labels) for m in matchers)]
        lines = [Content(f"{len(matched)} current alert(s) match:")]
        lines += [Content(_one_line(a)) for a in matched[:6]]
        if len(matched) > 6:
            lines.append(Content(f"  … and {len(matched) - 6} more"))
        return Content("\n").join(lines)

    # -- actions ---------------------------------------------------------------------------

    def action_submit(self) -> None:
        try:
            self.dismiss(self.request())
        except Refusal as why:
            self.query_one("#form-refusal", Static).update(Content(f"✗ {why}"))
            self.app.bell()

    def action_cancel(self) -> None:
        self.dismiss(None)

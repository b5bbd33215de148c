"""The alert table: a Line-API widget that renders only the visible rows.

Rows arrive as immutable snapshots from the domain. `show_rows` diffs them against what is
shown, keyed by fingerprint, and repaints only the lines that changed; a refresh where nothing
changed touches nothing. Untrusted text only ever becomes Segment text, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..clock import Clock
from ..domain.alerts import Alert, AlertState
from ..domain.durations import format_age, format_countdown
from ..domain.escalation import Escalation
from ..domain.severity import SeverityPolicy
from ..domain.view import AlertRow, GroupRow, ResolvedRow, Row


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths for one table width.

    The live countdown is the first column on purpose: Textual writes a partial repaint from
    the widget's left edge to the end of the dirty region, so a countdown at x=0 costs ~5 cells
    a line per tick, where one mid-row would rewrite most of every row.
    """

    countdown: int
    level: int
    state: int
    name: int
    labels: int
    escalation: int
    age: int
    summary: int

    @property
    def age_x(self) -> int:
        return (_gap(self.countdown) + 1 + self.level + 1 + self.state + 1 + self.name + 1
                + _gap(self.labels) + _gap(self.escalation))


COUNTDOWN = 5


def _gap(width: int) -> int:
    return width + 1 if width else 0


def layout_columns(width: int, longest_name: int, escalations: bool = False) -> Columns:
    """Widths by terminal size; the summary takes what is left. At < 100 columns the escalation
    column replaces the labels (they are in the detail pane)."""
    if width >= 150:
        name, state, labels, escalation = 32, 15, 30, 26
    elif width >= 120:
        name, state, labels, escalation = 26, 13, 18 if escalations else 30, 24
    elif width >= 100:
        name, state, labels, escalation = 22, 13, 14 if escalations else 18, 20
    else:
        name, state, labels, escalation = 22, 13, 0 if escalations or width < 70 else 18, 20
    name = max(12, min(longest_name, name))
    escalation = escalation - COUNTDOWN - 1 if escalations else 0
    countdown = COUNTDOWN if escalations else 0
    fixed = (_gap(countdown) + 1 + 4 + 1 + state + 1 + name + 1 + _gap(labels)
             + _gap(escalation) + 4 + 1)
    return Columns(countdown, 4, state, name, labels, escalation, 4, max(0, width - fixed))


def _same(a: Row, b: Row) -> bool:
    if isinstance(a, AlertRow) and isinstance(b, AlertRow):
        return a.alert is b.alert
    return a == b


class AlertTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "alert-table--header", "alert-table--cursor", "alert-table--group",
        "alert-table--level-p1", "alert-table--level-p2", "alert-table--level-p3",
        "alert-table--level-p4", "alert-table--pending", "alert-table--muted",
        "alert-table--resolved", "alert-table--acked", "alert-table--mark",
        "alert-table--countdown", "alert-table--breach",
    }
    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page_up"),
        Binding("home", "first", "First", show=False, id="first"),
        Binding("end", "last", "Last", show=False, id="last"),
        Binding("enter", "select", "Detail", id="detail"),
    ]

    class Highlighted(Message):
        """The cursor moved to another row (key is None when the table is empty)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Selected(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, policy: SeverityPolicy, key_labels: tuple[str, ...], clock: Clock,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._policy = policy
        self._key_labels = key_labels
        self._clock = clock
        self._rows: tuple[Row, ...] = ()
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._longest_name = 12
        self._strips: LRUCache[tuple, Strip] = LRUCache(2048)
        self._drawn_ages: dict[int, str] = {}
        self._drawn_countdowns: dict[int, str] = {}
        self._marked: frozenset[str] = frozenset()
        self._escalations: Mapping[str, Escalation] = {}
        self._update_due: frozenset[str] = frozenset()
        self.mutations = 0
        """Rows repainted because their content changed; benchmarks read it."""

    # -- data in ---------------------------------------------------------------------------

    @property
    def rows(self) -> tuple[Row, ...]:
        return self._rows

    @property
    def cursor_key(self) -> str | None:
        return self._rows[self._cursor].key if self._rows else None

    def show_rows(self, rows: tuple[Row, ...]) -> int:
        """Show `rows`, repainting only what changed. Returns how many rows changed."""
        old = self._rows
        if len(rows) == len(old):
            changed = [i for i, (a, b) in enumerate(zip(rows, old)) if not _same(a, b)]
            if not changed:
                return 0
        else:
            changed = list(range(max(len(rows), len(old))))
        key = self.cursor_key
        self._rows = rows
        self._index = {row.key: i for i, row in enumerate(rows)}
        self._longest_name = max((cell_len(r.alert.name) for r in rows if isinstance(r, AlertRow)),
                                 default=12)
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self._cursor = self._index.get(key, min(self._cursor, max(0, len(rows) - 1))) if key else 0
        self.mutations += len(changed)
        if len(rows) == len(old) and len(changed) <= 8:
            for index in changed:
                self._refresh_row(index)
        else:
            self.refresh()
        if self.cursor_key != key:
            self.post_message(self.Highlighted(self.cursor_key))
        return len(changed)

    def show_marks(self, marked: frozenset[str]) -> None:
        """Show which rows are marked; repaints only rows whose mark changed."""
        changed = marked ^ self._marked
        self._marked = marked
        for key in changed:
            if key in self._index:
                self._refresh_row(self._index[key])

    def show_update_due(self, due: frozenset[str]) -> None:
        """Alerts whose next status update is due; repaints only rows that changed."""
        changed, self._update_due = due ^ self._update_due, due
        for key in changed:
            if key in self._index:
                self._refresh_row(self._index[key])

    def show_escalations(self, escalations: Mapping[str, Escalation]) -> None:
        """Escalation per fingerprint; repaints only rows whose escalation changed."""
        old, self._escalations = self._escalations, escalations
        if bool(old) != bool(escalations):
            self.refresh()
            return
        for key in old.keys() | escalations.keys():
            if old.get(key) != escalations.get(key) and key in self._index:
                self._refresh_row(self._index[key])

    def refresh_countdowns(self) -> int:
        """Repaint the countdown cells whose text changed (5 cells each). Returns how many."""
        if not self._escalations:
            return 0
        now = self._clock.now()
        changed = [index for index, drawn in self._drawn_countdowns.items()
                   if index < len(self._rows) and drawn != self._countdown_of(self._rows[index], now)]
        top = int(self.scroll_offset.y)
        for index in changed:
            self.refresh(Region(0, index - top + 1, COUNTDOWN, 1))
        return len(changed)

    def _countdown_of(self, row: Row, now: datetime) -> str:
        return _countdown(self._escalations.get(row.key), now) if isinstance(row, AlertRow) else ""

    def _columns(self) -> Columns:
        return layout_columns(self.size.width, self._longest_name, bool(self._escalations))

    def move_to(self, key: str) -> None:
        if key in self._index:
            self._set_cursor(self._index[key])

    def refresh_ages(self) -> bool:
        """Repaint the age column, and only if a visible age changed. Returns whether it did."""
        now = self._clock.now()
        stale = any(
            age != _age_of(self._rows[index], now)
            for index, age in self._drawn_ages.items() if index < len(self._rows)
        )
        if stale:
            columns = self._columns()
            self.refresh(Region(columns.age_x, 1, columns.age, self.size.height))
        return stale

    # -- cursor ----------------------------------------------------------------------------

    def _set_cursor(self, index: int) -> None:
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        if index == self._cursor:
            return
        previous, self._cursor = self._cursor, index
        self._refresh_row(previous)
        self._refresh_row(index)
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self.cursor_key))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor_down(self) -> None:
        self._set_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self._set_cursor(self._cursor + max(1, self.size.height - 2))

    def action_page_up(self) -> None:
        self._set_cursor(self._cursor - max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._rows) - 1)

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self.cursor_key))

    # -- rendering -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._drawn_ages.clear()
        self._drawn_countdowns.clear()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        self._scroll_to_cursor()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        columns = self._columns()
        if y == 0:
            return self._header_strip(columns, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            self._drawn_ages.pop(index, None)
            self._drawn_countdowns.pop(index, None)
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        is_cursor = index == self._cursor
        age = _age_of(row, self._clock.now())
        self._drawn_ages[index] = age
        marked = row.key in self._marked
        escalation = self._escalations.get(row.key)
        countdown = self._countdown_of(row, self._clock.now())
        self._drawn_countdowns[index] = countdown
        cache_key = (row.key, id(row.alert) if isinstance(row, AlertRow) else row, width,
                     columns, is_cursor, self.has_focus, age, marked, id(escalation), countdown,
                     row.key in self._update_due)
        strip = self._strips.get(cache_key)
        if strip is None:
            strip = self._row_strip(row, columns, width, is_cursor, marked)
            self._strips[cache_key] = strip
        return strip

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

    def _header_strip(self, c: Columns, width: int) -> Strip:
        style = self.rich_style + self._style("alert-table--header")
        cells = [_fit("NEXT", c.countdown, right=True) + " "] if c.countdown else []
        cells += [" ", _fit("SEV", c.level), " ", _fit("STATE", c.state), " ",
                  _fit("ALERTNAME", c.name), " "]
        if c.labels:
            cells += [_fit("LABELS", c.labels), " "]
        if c.escalation:
            cells += [_fit("ESCALATION", c.escalation), " "]
        cells += [_fit("AGE", c.age, right=True), " ", _fit("SUMMARY", c.summary)]
        return Strip([Segment("".join(cells), style)]).adjust_cell_length(width, style)

    def _row_strip(self, row: Row, c: Columns, width: int, is_cursor: bool, marked: bool) -> Strip:
        base = self.rich_style
        if isinstance(row, GroupRow):
            base += self._style("alert-table--group")
            text = f" ▾ {row.title} ({row.count})"
            segments = [Segment(text, base)]
        elif isinstance(row, ResolvedRow):  # a count, drawn muted; enter lists the alerts
            base += self._style("alert-table--resolved")
            segments = [Segment(f" ✓ {row.text}", base)]
        else:
            base += self._row_tone(row.alert)
            segments = self._alert_segments(row.alert, c, base, marked)
        if is_cursor:
            cursor = self._style("alert-table--cursor")
            segments = [Segment(s.text, (s.style or base) + cursor) for s in segments]
            base += cursor
        return Strip(segments).adjust_cell_length(width, base)

    def _countdown_segments(self, alert: Alert, c: Columns, base: Style,
                            now: datetime) -> list[Segment]:
        countdown = _countdown(self._escalations.get(alert.fingerprint), now)
        style = base + self._style("alert-table--countdown") if countdown else base
        return [Segment(_fit(countdown, c.countdown, right=True), style), Segment(" ", base)]

    def _state_style(self, alert: Alert) -> Style:
        if alert.state is AlertState.PENDING:
            return self._style("alert-table--pending")
        if alert.state is AlertState.ACKED:
            return self._style("alert-table--acked")
        return Style()

    def _row_tone(self, alert: Alert) -> Style:
        if alert.state is AlertState.RESOLVED:
            return self._style("alert-table--resolved")
        if alert.state in (AlertState.SILENCED, AlertState.MUTED, AlertState.INHIBITED):
            return self._style("alert-table--muted")
        return Style()

    def _alert_segments(self, alert: Alert, c: Columns, base: Style, marked: bool) -> list[Segment]:
        now = self._clock.now()
        level = alert.level or "?"
        level_style = base + self._style(f"alert-table--level-{level.lower()}") \
            if level.lower() in ("p1", "p2", "p3", "p4") else base
        segments = self._countdown_segments(alert, c, base, now) if c.countdown else []
        segments += [
            Segment("●" if marked else " ", base + self._style("alert-table--mark")),
            Segment(_fit(f"{self._policy.glyph(level)} {level}", c.level), level_style),
            Segment(" ", base),
            Segment(_fit(_state_text(alert, now), c.state), base + self._state_style(alert)),
            Segment(" " + _fit(alert.name, c.name) + " ", base),
        ]
        if c.labels:
            values = "/".join(alert.labels[k] for k in self._key_labels if alert.labels.get(k))
            segments.append(Segment(_fit(values, c.labels) + " ", base))
        if c.escalation:
            escalation = self._escalations.get(alert.fingerprint)
            style = base + self._style("alert-table--breach") \
                if escalation and escalation.ack_breach else base
            segments.append(Segment(_fit(escalation_text(escalation), c.escalation) + " ", style))
        age = format_age(now - alert.starts_at)
        segments.append(Segment(_fit(age, c.age, right=True) + " ", base))
        if alert.fingerprint in self._update_due:
            due = "✎ update due · "
            segments.append(Segment(_fit(due, min(len(due), c.summary)),
                                    base + self._style("alert-table--breach")))
            segments.append(Segment(_fit(alert.summary, max(0, c.summary - len(due))), base))
        else:
            segments.append(Segment(_fit(alert.summary, c.summary), base))
        return segments


def escalation_text(escalation: Escalation | None) -> str:
    """`L2 bob → carol`: the step reached, who holds it, who is next. Empty when stopped."""
    if escalation is None or escalation.stopped:
        return ""
    def who(rung) -> str:
        return rung.person.id if rung and rung.person else "nobody"
    mark = "!" if escalation.ack_breach else ""
    if escalation.current is None:
        return f"{mark}→ {who(escalation.next)}" if escalation.next else ""
    level = f"{mark}L{escalation.current.index + 1} {who(escalation.current)}"
    return f"{level} → {who(escalation.next)}" if escalation.next else f"{level} (top)"


def _countdown(escalation: Escalation | None, now: datetime) -> str:
    if escalation is None or escalation.stopped or escalation.next is None:
        return ""
    return format_countdown(escalation.next.at - now)


def _state_text(alert: Alert, now: datetime) -> str:
    if alert.state is AlertState.ACKED and alert.acked_at:
        return f"ACK {alert.acked_by} {format_age(now - alert.acked_at)}"
    return alert.state_text


def _age_of(row: Row, now: datetime) -> str:
    """Everything in a row that changes with time alone: the alert's age and the ack's."""
    if not isinstance(row, AlertRow):
        return ""
    alert = row.alert
    age = format_age(now - alert.starts_at)
    return f"{age} {format_age(now - alert.acked_at)}" if alert.acked_at else age


def _fit(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` cells: one line, truncated with an ellipsis, padded."""
    if width <= 0:
        return ""
    text = text[: width * 4].replace("\n", " ").replace("\t", " ")
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return text.rjust(width) if right else set_cell_size(text, width)

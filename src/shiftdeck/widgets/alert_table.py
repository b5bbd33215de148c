"""The alert table: a Line-API widget that renders only the visible rows.

Rows arrive as immutable snapshots from the domain. `show_rows` diffs them against what is
shown, keyed by fingerprint, and repaints only the lines that changed; a refresh where nothing
changed touches nothing. Untrusted text only ever becomes Segment text, never markup.

A row whose alert PagerDuty pages for shows the incident instead of the modelled ladder: its
countdown is PagerDuty's next escalation (`PD 4m10s`), its ESCALATION who is paged or who
acknowledged. Incidents that match no alert are rows of their own, drawn apart.

Until the first alert source answers, the empty table says so in words (`show_startup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..clock import Clock
from ..domain.alerts import Alert, AlertState, replaced
from ..domain.durations import format_age
from ..domain.escalation import Escalation, countdown_text
from ..domain.pager import ACKNOWLEDGED, TRIGGERED, Correlation, Incident
from ..domain.severity import SeverityPolicy
from ..domain.view import AlertRow, GroupRow, IncidentRow, ResolvedRow, Row, Startup
from .strip_cache import StripCache


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
PAGED_COUNTDOWN = 8
"""`PD 4m10s`: PagerDuty's clock, marked as such."""
SUMMARY_BEFORE_LABELS_GROW = 30
"""At 120 columns and more, the summary's width beyond this is shared with the labels..."""
LABELS_GROW_AT_MOST = 14
"""... which grow by this much at most (the summary is what is read)."""


def _gap(width: int) -> int:
    return width + 1 if width else 0


def layout_columns(width: int, longest_name: int, escalations: bool = False,
                   paged: bool = False) -> Columns:
    """Widths by terminal size; the summary takes what is left (and shares it with the labels
    on wide terminals). At < 100 columns the escalation column replaces the labels (they are
    in the detail pane). `paged`: PagerDuty's countdowns are shown (a wider NEXT column)."""
    if width >= 150:
        name, state, labels, escalation = 32, 15, 30, 22
    elif width >= 120:
        name, state, labels, escalation = 26, 13, 18 if escalations else 30, 18
    elif width >= 100:
        name, state, labels, escalation = 22, 12, 14 if escalations else 18, 16
    else:
        name, state, labels, escalation = 18, 11, 0 if escalations or width < 70 else 16, 12
    name = max(12, min(longest_name, name))
    ladder = escalations or paged
    escalation = escalation if ladder else 0
    countdown = (PAGED_COUNTDOWN if paged else COUNTDOWN) if ladder else 0
    fixed = (_gap(countdown) + 1 + 4 + 1 + state + 1 + name + 1 + _gap(labels)
             + _gap(escalation) + 4 + 1)
    summary = max(0, width - fixed)
    if width >= 120 and labels and summary > SUMMARY_BEFORE_LABELS_GROW:
        grow = min(LABELS_GROW_AT_MOST, (summary - SUMMARY_BEFORE_LABELS_GROW) // 2)
        labels, summary = labels + grow, summary - grow
    return Columns(countdown, 4, state, name, labels, escalation, 4, summary)


def _same(a: Row, b: Row) -> bool:
    if isinstance(a, AlertRow) and isinstance(b, AlertRow):
        return a.alert is b.alert or _instances_only(a.alert, b.alert)
    return a == b


def _instances_only(old: Alert, new: Alert) -> bool:
    """True when the alerts differ in their instances alone, which no row shows: an HA peer
    joined or left, and every alert of its cluster changed."""
    return old.instances != new.instances and replaced(new, instances=old.instances) == old


def _went_away(old: Row, new: Row) -> bool:
    """The same alert's row, but it resolved: it sank to the resolved rows at the bottom."""
    return (isinstance(old, AlertRow) and isinstance(new, AlertRow)
            and new.alert.state is AlertState.RESOLVED
            and old.alert.state is not AlertState.RESOLVED)


NEXT_ROW_SEARCH = 64
"""How far past a vanished cursor row to look for the next row still shown."""


@dataclass(frozen=True, slots=True)
class TableRows:
    """Rows with what the table needs to show them in O(visible rows): the row of each key
    and the widest alert name. Build it off the event loop for large boards (`of`)."""

    rows: tuple[Row, ...] = ()
    index: Mapping[str, int] = field(default_factory=dict)
    longest_name: int = 12

    @classmethod
    def of(cls, rows: tuple[Row, ...]) -> TableRows:
        names = (cell_len(r.alert.name) for r in rows if isinstance(r, AlertRow))
        return cls(rows, {row.key: i for i, row in enumerate(rows)}, max(names, default=12))


class AlertTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "alert-table--header", "alert-table--cursor", "alert-table--group",
        "alert-table--level-p1", "alert-table--level-p2", "alert-table--level-p3",
        "alert-table--level-p4", "alert-table--pending", "alert-table--muted",
        "alert-table--resolved", "alert-table--acked", "alert-table--mark",
        "alert-table--countdown", "alert-table--breach", "alert-table--incident",
        "alert-table--pager",
    }
    DEFAULT_CSS = """
    AlertTable > .alert-table--incident { color: $accent; text-style: italic; }
    AlertTable > .alert-table--pager { color: $accent; text-style: bold; }
    """
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
        self._index: Mapping[str, int] = {}
        self._cursor = 0
        self._cursor_moved = False  # until the user moves it, the cursor stays on the top alert
        self._longest_name = 12
        # A few screens' worth: ages and countdowns are in the key, so older strips go stale
        # within seconds, and each Strip carries several caches of its own.
        self._strips = StripCache(128)
        self._drawn_look: tuple[Style, ...] = ()
        self._look_checked = False
        self._drawn_ages: dict[int, str] = {}
        self._drawn_countdowns: dict[int, str] = {}
        self._marked: frozenset[str] = frozenset()
        self._escalations: Mapping[str, Escalation] = {}
        self._pages = Correlation()
        self._update_due: frozenset[str] = frozenset()
        self._startup: Startup | None = None
        self.mutations = 0
        """Rows repainted because their content changed; benchmarks read it."""

    # -- data in ---------------------------------------------------------------------------

    @property
    def rows(self) -> tuple[Row, ...]:
        return self._rows

    @property
    def cursor_key(self) -> str | None:
        return self._rows[self._cursor].key if self._rows else None

    @property
    def cursor_row(self) -> Row | None:
        return self._rows[self._cursor] if self._rows else None

    def show_rows(self, rows: tuple[Row, ...] | TableRows) -> int:
        """Show `rows`, repainting only the visible lines that changed: O(visible rows) given
        TableRows (a tuple is indexed here). Returns how many visible rows changed."""
        view = rows if isinstance(rows, TableRows) else TableRows.of(rows)
        old, old_cursor, key = self._rows, self._cursor, self.cursor_key
        changed = [i for i in self._visible() if not _same_at(old, view.rows, i)]
        widths_changed = view.longest_name != self._longest_name
        self._rows, self._index, self._longest_name = view.rows, view.index, view.longest_name
        if len(view.rows) != len(old):
            self.virtual_size = Size(self.size.width, len(view.rows) + 1)
        self._cursor = self._cursor_after(old, old_cursor, key)
        self.mutations += len(changed)
        if self._cursor != old_cursor and not self._on_screen(self._cursor):
            self._scroll_to_cursor()  # repaints everything
        elif widths_changed or len(changed) > self.size.height // 2:
            self.refresh()
        else:
            for index in {*changed, old_cursor, self._cursor} if self._cursor != old_cursor \
                    else changed:
                self._refresh_row(index)
        if self.cursor_key != key:
            self.post_message(self.Highlighted(self.cursor_key))
        return len(changed)

    def _cursor_after(self, old: tuple[Row, ...], cursor: int, key: str | None) -> int:
        """Where the cursor goes in the new rows: with its row, unless that row went away (it
        resolved, or is no longer listed): then to the next row of before still listed."""
        if key is None or not self._rows:
            return 0
        if not self._cursor_moved and isinstance(self._rows[0], AlertRow):
            return 0  # the most urgent alert, until the user picks another
        index = self._index.get(key)
        if index is not None and not _went_away(old[cursor], self._rows[index]):
            return index
        for row in old[cursor + 1:cursor + 1 + NEXT_ROW_SEARCH]:
            after = self._index.get(row.key)
            if after is not None and not _went_away(row, self._rows[after]):
                return after
        return min(cursor, len(self._rows) - 1)

    def _visible(self) -> range:
        """Indices of the rows on screen (the header takes the first line)."""
        top = int(self.scroll_offset.y)
        return range(top, top + max(0, self.size.height - 1))

    def _on_screen(self, index: int) -> bool:
        return index in self._visible()

    def show_startup(self, startup: Startup | None) -> None:
        """What to say while no alert source has answered (None: they have)."""
        if startup != self._startup:
            self._startup = startup
            self.refresh()

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
        for index in self._visible():
            if index < len(self._rows):
                key = self._rows[index].key
                before, after = old.get(key), escalations.get(key)
                if before is not after and before != after:
                    self._refresh_row(index)

    def show_pages(self, pages: Correlation) -> None:
        """PagerDuty's incidents per fingerprint; repaints only rows whose incident changed."""
        old, self._pages = self._pages, pages
        if self._paged(old) != self._paged(pages):
            self.refresh()
            return
        for index in self._visible():
            if index < len(self._rows):
                key = self._rows[index].key
                before, after = old.by_fingerprint.get(key), pages.by_fingerprint.get(key)
                if before is not after and before != after:
                    self._refresh_row(index)

    @staticmethod
    def _paged(pages: Correlation) -> bool:
        return bool(pages.by_fingerprint or pages.unmatched)

    def refresh_countdowns(self) -> int:
        """Repaint the countdown cells whose text changed (5 or 8 cells each). Returns how
        many."""
        if not self._escalations and not self._paged(self._pages):
            return 0
        now = self._clock.now()
        changed = [index for index, drawn in self._drawn_countdowns.items()
                   if index < len(self._rows) and drawn != self._countdown_of(self._rows[index], now)]
        top, width = int(self.scroll_offset.y), self._columns().countdown
        for index in changed:
            self.refresh(Region(0, index - top + 1, width, 1))
        return len(changed)

    def _incident_of(self, row: Row) -> Incident | None:
        if isinstance(row, IncidentRow):
            return row.incident
        return self._pages.by_fingerprint.get(row.key) if isinstance(row, AlertRow) else None

    def _countdown_of(self, row: Row, now: datetime) -> str:
        incident = self._incident_of(row)
        if incident is not None:
            return pager_countdown(incident, now)
        return _countdown(self._escalations.get(row.key), now) if isinstance(row, AlertRow) else ""

    def _columns(self) -> Columns:
        return layout_columns(self.size.width, self._longest_name, bool(self._escalations),
                              self._paged(self._pages))

    def move_to(self, key: str) -> None:
        if key in self._index:
            self._set_cursor(self._index[key])

    def refresh_ages(self) -> bool:
        """Repaint the age cells whose text changed (each changes once a minute at most).
        Returns whether any did."""
        now = self._clock.now()
        changed = [index for index, age in self._drawn_ages.items()
                   if index < len(self._rows) and age != _age_of(self._rows[index], now)]
        top, columns = int(self.scroll_offset.y), self._columns()
        for index in changed:
            self.refresh(Region(columns.age_x, index - top + 1, columns.age, 1))
        return bool(changed)

    # -- cursor ----------------------------------------------------------------------------

    def _set_cursor(self, index: int) -> None:
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        self._cursor_moved = True
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
        self._look_checked = False  # the component styles may not be there yet

    def _check_look(self) -> None:
        """Drop the drawn rows if their styles changed (a focus change alone changes only the
        cursor's, which is in the cursor row's cache key)."""
        look = self._look()
        if look != self._drawn_look:
            self._drawn_look = look
            self._strips.clear()
        self._look_checked = True

    def _look(self) -> tuple[Style, ...]:
        """Every style the rows are drawn with, but the cursor's (it differs with focus, and
        the cursor row's cache key has it)."""
        return (self.rich_style, *(self._style(name) for name in sorted(self.COMPONENT_CLASSES)
                                   if name != "alert-table--cursor"))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._drawn_ages.clear()
        self._drawn_countdowns.clear()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        self._scroll_to_cursor()

    def render_line(self, y: int) -> Strip:
        if not self._look_checked:
            self._check_look()
        width = self.size.width
        columns = self._columns()
        if y == 0:
            return self._header_strip(columns, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._rows):
            self._drawn_ages.pop(index, None)
            self._drawn_countdowns.pop(index, None)
            return self._startup_strip(index, width)
        row = self._rows[index]
        is_cursor = index == self._cursor
        age = _age_of(row, self._clock.now())
        self._drawn_ages[index] = age
        marked = row.key in self._marked
        escalation = self._escalations.get(row.key)
        countdown = self._countdown_of(row, self._clock.now())
        self._drawn_countdowns[index] = countdown
        cursor_look = self._style("alert-table--cursor") if is_cursor else None
        incident = self._incident_of(row)
        cache_key = (row.key, id(row.alert) if isinstance(row, AlertRow) else row, width,
                     columns, cursor_look, age, marked, id(escalation), countdown,
                     row.key in self._update_due, id(incident))
        strip = self._strips.get(cache_key)
        if strip is None:
            strip = self._row_strip(row, columns, width, is_cursor, marked)
            self._strips.put(cache_key, strip, keep=(row, escalation, incident))
        return strip

    def _startup_strip(self, index: int, width: int) -> Strip:
        lines = self._startup.lines(width, cell_len) if self._startup and not self._rows else ()
        if index >= len(lines):
            return Strip.blank(width, self.rich_style)
        style = self.rich_style + self._style("alert-table--muted")
        return Strip([Segment(lines[index], style)]).adjust_cell_length(width, style)

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
        elif isinstance(row, IncidentRow):
            base += self._style("alert-table--incident")
            segments = self._incident_segments(row.incident, c, base)
        else:
            base += self._row_tone(row.alert)
            segments = self._alert_segments(row.alert, c, base, marked)
        if is_cursor:
            cursor = self._style("alert-table--cursor")
            segments = [Segment(s.text, (s.style or base) + cursor) for s in segments]
            base += cursor
        return Strip(segments).adjust_cell_length(width, base)

    def _countdown_segments(self, row: Row, c: Columns, base: Style,
                            now: datetime) -> list[Segment]:
        countdown = self._countdown_of(row, now)
        style = base + self._style("alert-table--countdown") if countdown else base
        return [Segment(_fit(countdown, c.countdown, right=True), style), Segment(" ", base)]

    def _incident_segments(self, incident: Incident, c: Columns, base: Style) -> list[Segment]:
        """A page with no alert: PD in the level column, its status, title, service, who is
        paged, its age, and what it is."""
        now = self._clock.now()
        segments = self._countdown_segments(IncidentRow(incident), c, base, now) \
            if c.countdown else []
        pager = base + self._style("alert-table--pager")
        segments += [Segment(" ", base), Segment(_fit("PD", c.level), pager), Segment(" ", base),
                     Segment(_fit(pager_state(incident), c.state), pager),
                     Segment(" " + _fit(_without_count(incident.title), c.name) + " ", base)]
        if c.labels:
            segments.append(Segment(_fit(incident.service, c.labels) + " ", base))
        if c.escalation:
            segments.append(Segment(_fit(pager_text(incident), c.escalation) + " ", pager))
        segments.append(Segment(_fit(format_age(now - incident.created_at), c.age, right=True)
                                + " ", base))
        what = f"PagerDuty {incident.reference} · {incident.service} · no alert matches"
        segments.append(Segment(_fit(what, c.summary), base))
        return segments

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
        segments = self._countdown_segments(AlertRow(alert), c, base, now) \
            if c.countdown else []
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
            segments.append(self._escalation_segment(alert, c, base))
        age = format_age(now - alert.starts_at)
        segments.append(Segment(_fit(age, c.age, right=True) + " ", base))
        if alert.fingerprint in self._update_due and c.summary >= 2:
            due = "✎ update due · " if c.summary >= UPDATE_DUE_IN_WORDS_FROM else "✎ "
            segments.append(Segment(due, base + self._style("alert-table--breach")))
            segments.append(Segment(_fit(alert.summary, c.summary - len(due)), base))
        else:
            segments.append(Segment(_fit(alert.summary, c.summary), base))
        return segments

    def _escalation_segment(self, alert: Alert, c: Columns, base: Style) -> Segment:
        incident = self._pages.by_fingerprint.get(alert.fingerprint)
        if incident is not None:
            return Segment(_fit(pager_text(incident), c.escalation) + " ",
                           base + self._style("alert-table--pager"))
        escalation = self._escalations.get(alert.fingerprint)
        style = base + self._style("alert-table--breach") \
            if escalation and escalation.ack_breach else base
        text = escalation_text(escalation, short=c.escalation < WHOLE_LADDER_FROM)
        return Segment(_fit(text, c.escalation) + " ", style)


def _same_at(old: tuple[Row, ...], new: tuple[Row, ...], index: int) -> bool:
    if index >= len(old) or index >= len(new):
        return index >= len(old) and index >= len(new)
    return _same(old[index], new[index])


UPDATE_DUE_IN_WORDS_FROM = 24
"""A summary column this wide says "update due" in words; a narrower one shows the glyph."""
WHOLE_LADDER_FROM = 16
"""An escalation column this wide shows the step reached too, not only who is next."""


def escalation_text(escalation: Escalation | None, short: bool = False) -> str:
    """`L2 bob → carol`: the step reached, who holds it, who is next; `short`: `→ carol`
    (the countdown next to it says when), `L3 erin top` at the last step. Empty when
    stopped."""
    if escalation is None or escalation.stopped:
        return ""
    def who(rung) -> str:
        return rung.person.id if rung and rung.person else "nobody"
    mark = "!" if escalation.ack_breach else ""
    if escalation.current is None or (short and escalation.next is not None):
        return f"{mark}→ {who(escalation.next)}" if escalation.next else ""
    level = f"{mark}L{escalation.current.index + 1} {who(escalation.current)}"
    if escalation.next:
        return f"{level} → {who(escalation.next)}"
    return f"{level} top" if short else f"{level} (top)"


def pager_countdown(incident: Incident, now: datetime) -> str:
    """`PD 4m10s` to PagerDuty's next escalation; empty when none is pending (acknowledged,
    a direct assignment, the last level)."""
    if incident.status != TRIGGERED or incident.next_escalation_at is None:
        return ""
    return f"PD {countdown_text(incident.next_escalation_at - now)}"


def _without_count(title: str) -> str:
    """`CheckoutLatency (payments)` of the notifier's `[FIRING:1] CheckoutLatency (payments)`."""
    head, _, rest = title.partition("] ")
    return rest if head.startswith("[FIRING:") and rest else title


def pager_state(incident: Incident) -> str:
    return {TRIGGERED: "triggered", ACKNOWLEDGED: "acked"}.get(incident.status, incident.status)


def pager_text(incident: Incident) -> str:
    """What PagerDuty does about it: `paging alice`, `ack bob`, or another status and who is
    assigned."""
    assigned = ", ".join(user.name.split(" ")[0] or user.id for user in incident.assignees)
    if incident.status == ACKNOWLEDGED:
        return f"ack {', '.join(n.split(' ')[0] for n in incident.acknowledged_by) or assigned}"
    if incident.status == TRIGGERED:
        return f"paging {assigned or 'nobody'}"
    return f"{incident.status} {assigned}".strip()


def _countdown(escalation: Escalation | None, now: datetime) -> str:
    if escalation is None or escalation.stopped or escalation.next is None:
        return ""
    return countdown_text(escalation.next.at - now)


def _state_text(alert: Alert, now: datetime) -> str:
    """`ACK 4m alice`: the ack's age first, so a narrow column cuts the name, not the age."""
    if alert.state is AlertState.ACKED and alert.acked_at:
        return f"ACK {format_age(now - alert.acked_at)} {alert.acked_by}"
    return alert.state_text


def _age_of(row: Row, now: datetime) -> str:
    """Everything in a row that changes with time alone: the alert's age and the ack's."""
    if isinstance(row, IncidentRow):
        return format_age(now - row.incident.created_at)
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

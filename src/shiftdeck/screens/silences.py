"""Every silence: who, why, on what, until when, and how many alerts it silences now."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..domain.board import Board
from ..domain.durations import parse_duration
from ..domain.silences import Silence, SilenceState
from ..domain.view import SilenceRow, silence_rows
from ..messages import ExpireRequested, ExtendRequested, FilterRequested
from ..widgets.key_footer import KeyFooter
from .confirm import ConfirmScreen
from .prompt import PromptScreen


class SilencesScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_silences"),
        # priority: the table's own home/end scroll sideways instead of moving the cursor
        Binding("down,j", "move(1)", "Down", show=False, id="cursor_down", priority=True),
        Binding("up,k", "move(-1)", "Up", show=False, id="cursor_up", priority=True),
        Binding("home", "move_to(0)", "First", show=False, id="first", priority=True),
        Binding("end", "move_to(-1)", "Last", show=False, id="last", priority=True),
        Binding("e", "extend", "Extend", id="extend_silence"),
        Binding("x", "expire", "Expire", id="expire_silence"),
        Binding("enter", "show_alerts", "Its alerts", id="silence_alerts", priority=True),
        Binding("o", "toggle_sort", "Sort", id="sort_silences", tooltip="By end time / newest"),
    ]
    DEFAULT_CSS = """
    SilencesScreen #silences-title { height: 1; background: $panel; text-style: bold; }
    SilencesScreen DataTable { height: 1fr; }
    """
    COLUMNS = ("state", "ends in", "by", "silences", "comment", "matchers")

    def __init__(self, board: Board, warn_before: timedelta, read_only: bool,
                 acks_extended: bool) -> None:
        super().__init__()
        self.board = board
        self._warn_before = warn_before
        self._acks_extended = acks_extended
        self._read_only = read_only
        self.by_ends = True
        self.rows: tuple[SilenceRow, ...] = ()
        self.now = board.built_at
        """The time the "ends in" column counts from (moved on by `show_time`)."""
        self._ends_text: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(Content(" Silences"), id="silences-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="silences-table")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in self.COLUMNS:
            table.add_column(name, key=name)
        self.show_board(self.board)
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("extend", "expire") and self._read_only:
            return False
        return True

    def show_board(self, board: Board) -> None:
        """Rebuild the rows when the silences changed (a short list; rebuilt whole)."""
        if board.silences is self.board.silences and self.rows:
            return
        key = self.highlighted.id if self.highlighted else None  # before the rows change
        self.board = board
        now = self.now = max(self.now, board.built_at)
        self.rows = silence_rows(board.silences.values(), board.alerts.values(), now,
                                 self._warn_before, self.by_ends, self._acks_extended)
        table = self.query_one(DataTable)
        table.clear()
        colours = self.app.theme_variables
        tones = {"soon": f"bold {colours.get('error', 'red')}",
                 "nothing": colours.get("warning", "yellow"),
                 "expired": colours.get("text-muted", "dim")}
        for row in self.rows:
            table.add_row(*_cells(row, now, tones), key=row.silence.id)
        self._ends_text = {row.silence.id: _ends(row, now) for row in self.rows}
        if key and key in {r.silence.id for r in self.rows}:
            table.move_cursor(row=table.get_row_index(key))
        soon = sum(r.expiring_soon for r in self.rows)
        title = f" Silences: {len(self.rows)}" + (f" — {soon} expiring soon" if soon else "")
        self.query_one("#silences-title", Static).update(Content(title))

    def show_time(self, now: datetime) -> int:
        """Count the "ends in" column down to `now`: only the cells whose text changed are
        updated. Returns how many."""
        self.now = max(self.now, now)
        tables = self.query(DataTable)
        if not tables:  # the app is closing: the screen's widgets are already gone
            return 0
        table = tables.first()
        changed = 0
        for row in self.rows:
            text = _ends(row, self.now)
            if self._ends_text.get(row.silence.id) != text:
                self._ends_text[row.silence.id] = text
                style = table.get_cell(row.silence.id, "ends in").style
                table.update_cell(row.silence.id, "ends in", Text(text, style=style))
                changed += 1
        return changed

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    def action_move_to(self, row: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=row if row >= 0 else table.row_count - 1)

    @property
    def highlighted(self) -> Silence | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].silence

    def action_toggle_sort(self) -> None:
        self.by_ends = not self.by_ends
        self.rows = ()
        self.show_board(self.board)
        self.notify("Sorted by " + ("end time" if self.by_ends else "newest first"), timeout=2)

    def action_extend(self) -> None:
        silence = self.highlighted
        if silence is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self.post_message(ExtendRequested(silence, parse_duration(text), text))

        self.app.push_screen(PromptScreen("Extend the silence by (same ID):", "1h",
                                          _duration_error), answered)

    def action_expire(self) -> None:
        silence = self.highlighted
        if silence is None:
            return
        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(ExpireRequested([silence]))

        self.app.push_screen(ConfirmScreen("Expire this silence?", expire_text([silence])),
                             answered)

    def action_show_alerts(self) -> None:
        """The alerts its matchers select, on the dashboard, where they can be acted on."""
        silence = self.highlighted
        if silence is not None:
            self.post_message(FilterRequested(" ".join(str(m) for m in silence.matchers)))


def _cells(row: SilenceRow, now: datetime, tones: dict[str, str]) -> list[Text]:
    """Rich Text cells (DataTable parses plain strings as markup; Text is never parsed)."""
    silence = row.silence
    ends = _ends(row, now)
    ends_style = tones["soon"] if row.expiring_soon else (
        tones["expired"] if silence.state is SilenceState.EXPIRED else "")
    state = ("ACK " if silence.is_ack else "") + silence.state.value
    notes = " ".join(f"{k}={v}" for k, v in sorted(silence.annotations.items()))
    comment = silence.comment + (f" · {notes}" if notes else "")
    return [
        Text(state, style="bold" if silence.is_ack else ""),
        Text(ends, style=ends_style),
        Text(silence.created_by),
        Text(row.count_text, style=tones["nothing"] if row.matches_nothing or row.uncounted else ""),
        Text(_cut(comment.replace("\n", " "), 36)),
        Text(_cut(" ".join([str(m) for m in silence.matchers]
                           + [f"⚠ {w}" for w in silence.warnings]), 70),
             style=tones["nothing"] if silence.warnings else ""),
    ]


def _ends(row: SilenceRow, now: datetime) -> str:
    return row.timing(now).removeprefix("ends in ")


def _duration_error(text: str) -> str | None:
    try:
        parse_duration(text)
    except ValueError as err:
        return str(err)
    return None


def expire_text(silences: list[Silence]) -> Content:
    """What expiring shows before it is confirmed: the exact request, per silence."""
    return Content("\n").join(
        Content(f"DELETE /api/v2/silence/{s.id}  (cluster {s.cluster or '-'})\n"
                f"  {' '.join(str(m) for m in s.matchers)}\n  by {s.created_by}: {s.comment}")
        for s in silences)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

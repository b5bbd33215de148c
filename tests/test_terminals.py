"""shiftdeck over SSH at 80x24: TERM=xterm-256color, screen-256color, tmux-256color, linux (the
Linux console: 16 colours, fonts of 256 or 512 glyphs) and NO_COLOR, by keyboard alone.

One `shiftdeck --demo` process per terminal, on a real pty, visits every screen. A small VT
emulator (`Screen`, below) replays what it wrote, so the checks are about what the engineer
sees: every screen opens on its key, no letter is drawn in its own background colour, the
cursor row stands out, keys arrive as each terminal sends them, the Linux console gets only 16
colours (no bright backgrounds: it draws them as plain ones) and only glyphs its fonts have,
NO_COLOR gets no colour at all, and `q` quits with 0 and the terminal restored.
"""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE
from rich.cells import cell_len, get_character_cell_size
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Button, Checkbox, Input, Select

from shiftdeck.screens.help import binding_rows
from shiftdeck.screens.silence_form import SilenceForm
from shiftdeck.terminal import CONSOLE_GLYPHS

from .support.app_factory import loaded, make_app
from .support.pty_driver import PtySession

COLS, ROWS = 80, 24
ROOT = Path(__file__).resolve().parent.parent
ANYTHING = re.compile(rb".", re.S)

# What each terminal sends for these keys (cursor keys in normal mode, as Textual leaves them).
KEYS = {
    "xterm-256color": {"down": b"\x1b[B", "home": b"\x1b[H", "end": b"\x1b[F"},
    "screen-256color": {"down": b"\x1b[B", "home": b"\x1b[1~", "end": b"\x1b[4~"},
    "tmux-256color": {"down": b"\x1b[B", "home": b"\x1b[1~", "end": b"\x1b[4~"},
    "linux": {"down": b"\x1b[B", "home": b"\x1b[1~", "end": b"\x1b[4~"},
}
TERMINALS = {  # name: (TERM, extra environment)
    "xterm-256color": ("xterm-256color", {}),
    "screen-256color": ("screen-256color", {}),
    "tmux-256color": ("tmux-256color", {}),
    "linux": ("linux", {}),
    "NO_COLOR": ("xterm-256color", {"NO_COLOR": "1"}),
}
COLOUR_256 = ["xterm-256color", "screen-256color", "tmux-256color"]
THEMES = ["shiftdeck-light", "high-contrast", "shiftdeck-ansi", "shiftdeck-dark"]  # order of `t`

# Non-ASCII characters that both the kernel's built-in font (CP437) and console-setup's Lat15
# and Terminus fonts draw; anything else shows as a box on the Linux console.
CONSOLE_SAFE = set("·«»°±×•←↑→↓≈≤≥─│┌┐└┘├┤┬┴┼═║╒╓╔╕╖╗╘╙╚╛╜╝╞╟╠╡╢╣╤╥╦╧╨╩╪╫╬█░▒■▲▶▼◀♦"
                   "¡£§¬µ¶¿ÄÇÉÑÖÜßàáâäçèéêëíîñóôö÷úü")


def dashboard(screen: Screen) -> bool:
    text = screen.text()
    return "ALERTNAME" in text and "Detail" in text


# (name, key, what the screen then shows, the key that closes it)
SCREENS: list[tuple[str, bytes, object, bytes]] = [
    ("detail", b"\r", lambda s: "Back" in s.text() and "ALERTNAME" not in s.text(), b"\x1b"),
    ("help", b"?", "Acknowledge the highlighted", b"\x1b"),
    ("filter", b"/", "severity=~", b"\x1b"),
    ("silence form", b"s", "New silence in cluster", b"\x1b"),
    ("silences", b"S", "Silences:", b"\x1b"),
    ("on-call", b"O", "On call now", b"\x1b"),
    ("runbook", b"r", re.compile(r"Runbook: \S+ \(|no runbook"), b"\x1b"),
    ("diagnostics", b"d", "Pods (enter or l: logs", b"\x1b"),  # closed before the cluster answers
    ("note", b"n", "Note on ", b"\x1b"),
    ("status update", b"u", "enter: copy (OSC 52) and journal", b"\x1b"),
    ("handoff", b"H", "On-Call Handoff", b"\x1b"),
    ("shift metrics", b"M", "This shift", b"\x1b"),
    ("command palette (ctrl+p)", b"\x10", "Search for commands", b"\x1b"),
    ("command palette (:)", b":", "Search for commands", b"\x1b"),
]


# -- a small VT emulator: cursor moves, erases, SGR; enough for what Textual writes ----------

TOKEN = re.compile(
    r"\x1b\[([0-9;:?<>=]*)[ -/]*([@-~])"           # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"           # OSC
    r"|\x1b[P_^X][^\x1b]*\x1b\\"                    # DCS, APC, PM, SOS
    r"|\x1b[()*+#%][0-9A-Za-z@]|\x1b[^\[\]P_^X()*+#%]"
    r"|([^\x00-\x1f\x7f]+)|([\x00-\x1a\x1c-\x1f\x7f])")  # text; controls but ESC
FG, BG = "fg", "bg"  # the terminal's own default colours


@dataclass
class Screen:
    linux: bool = False
    cells: list[list[tuple]] = field(default_factory=list)
    y: int = 0
    x: int = 0
    pen: tuple = (FG, BG, False, False, False)  # fg, bg, bold, reverse, underline
    _pending: str = ""
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))

    def __post_init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        blank = (" ", *self.pen)
        self.cells = [[blank] * COLS for _ in range(ROWS)]

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        pos = 0
        while pos < len(text):
            match = TOKEN.match(text, pos)
            if match is None:
                if text[pos] == "\x1b":
                    break  # a sequence cut short: wait for the rest
                pos += 1
                continue
            pos = match.end()
            params, final, printable, control = match.groups()
            if printable:
                self._write(printable)
            elif control:
                self._control(control)
            elif final:
                self._csi(params, final)
        self._pending = text[pos:]

    def _write(self, text: str) -> None:
        fg, bg, bold, reverse, underline = self.pen
        for char in text:
            width = get_character_cell_size(char)
            if width and 0 <= self.y < ROWS and 0 <= self.x < COLS:
                self.cells[self.y][self.x] = (char, fg, bg, bold, reverse, underline)
                if width == 2 and self.x + 1 < COLS:
                    self.cells[self.y][self.x + 1] = ("", fg, bg, bold, reverse, underline)
            self.x += width

    def _control(self, char: str) -> None:
        if char == "\r":
            self.x = 0
        elif char == "\n":
            self.y = min(ROWS - 1, self.y + 1)
        elif char == "\b":
            self.x = max(0, self.x - 1)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            if params in ("?1049", "?47", "?1047") and final == "h":
                self.clear()
            return
        numbers = [int(p) if p.isdigit() else None for p in params.split(";")] if params else []
        first = numbers[0] if numbers and numbers[0] is not None else None
        if final in "Hf":
            self.y = (first or 1) - 1
            self.x = (numbers[1] or 1) - 1 if len(numbers) > 1 and numbers[1] else 0
        elif final == "m":
            self._sgr([n or 0 for n in numbers] or [0])
        elif final in "ABCD":
            step = first or 1
            if final in "AB":
                self.y = max(0, min(ROWS - 1, self.y + (step if final == "B" else -step)))
            else:
                self.x = max(0, min(COLS - 1, self.x + (step if final == "C" else -step)))
        elif final == "G":
            self.x = (first or 1) - 1
        elif final == "d":
            self.y = (first or 1) - 1
        elif final == "J" and first in (2, 3):
            self.clear()
        elif final == "K" and 0 <= self.y < ROWS:
            start = 0 if first in (1, 2) else self.x
            end = self.x + 1 if first == 1 else COLS
            for x in range(max(0, start), min(COLS, end)):
                self.cells[self.y][x] = (" ", *self.pen)

    def _sgr(self, codes: list[int]) -> None:
        fg, bg, bold, reverse, underline = self.pen
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                fg, bg, bold, reverse, underline = FG, BG, False, False, False
            elif code == 1:
                bold = True
            elif code == 22:
                bold = False
            elif code in (4, 24):
                underline = code == 4
            elif code in (7, 27):
                reverse = code == 7
            elif 30 <= code <= 37 or 90 <= code <= 97:
                fg = ("16", code - 30 if code < 90 else code - 82)
            elif 40 <= code <= 47 or 100 <= code <= 107:
                bg = ("16", code - 40 if code < 100 else code - 92)
            elif code in (39, 49):
                fg, bg = (FG, bg) if code == 39 else (fg, BG)
            elif code in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5:
                    colour, i = ("256", codes[i + 2]), i + 2
                else:
                    colour, i = ("rgb", *codes[i + 2:i + 5]), i + 4
                fg, bg = (colour, bg) if code == 38 else (fg, colour)
            i += 1
        self.pen = (fg, bg, bold, reverse, underline)

    # -- what it shows -------------------------------------------------------------------

    def text(self) -> str:
        return "\n".join("".join(cell[0] for cell in row) for row in self.cells)

    def shown(self, y: int, x: int) -> tuple[object, object]:
        """(foreground, background) as the terminal draws the cell."""
        _, fg, bg, bold, reverse, _ = self.cells[y][x]
        if self.linux:  # bright backgrounds are plain ones; bold brightens the foreground
            bg = ("16", bg[1] - 8) if isinstance(bg, tuple) and bg[1] >= 8 else bg
            fg = ("16", fg[1] + 8) if bold and isinstance(fg, tuple) and fg[1] < 8 else fg
        return (bg, fg) if reverse else (fg, bg)

    def snapshot(self) -> Screen:
        copy = Screen(self.linux)
        copy.cells = [list(row) for row in self.cells]
        return copy


def _rgb(colour: object) -> tuple[int, int, int] | None:
    if not isinstance(colour, tuple):
        return None  # the terminal's default colours: unknown here
    if colour[0] == "16":
        return STANDARD_PALETTE[colour[1]]
    if colour[0] == "256":
        return EIGHT_BIT_PALETTE[colour[1]]
    return colour[1:4]


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def luminance(rgb):
        def channel(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = map(channel, rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def unreadable(screen: Screen, least: float = 1.25) -> list[str]:
    """Letters and digits drawn in (nearly) their own background colour."""
    found = []
    for y in range(ROWS):
        for x in range(COLS):
            if not screen.cells[y][x][0].isalnum():
                continue
            fg, bg = screen.shown(y, x)
            a, b = _rgb(fg), _rgb(bg)
            if fg == bg or (a and b and _contrast(a, b) < least):
                row = "".join(c[0] for c in screen.cells[y])
                found.append(f"row {y} col {x} {fg} on {bg}: {row.rstrip()}")
    return found


def table(screen: Screen) -> tuple[int, int, list[int]]:
    """(x of the ALERTNAME column, y of the header, ys of the table's alert rows on screen)."""
    lines = screen.text().split("\n")
    header = next(y for y, line in enumerate(lines) if "ALERTNAME" in line)
    x = lines[header].index("ALERTNAME")
    rows = []
    for y in range(header + 1, ROWS):
        if lines[y].startswith("──") or not lines[y][x:x + 8].strip():
            break
        rows.append(y)
    return x, header, rows


def cursor_rows(screen: Screen) -> list[int]:
    """Alert rows whose look (background, after reverse video) differs from the usual row's."""
    x, _, rows = table(screen)
    looks = {y: screen.shown(y, x + 1)[1] for y in rows}
    usual = max(set(looks.values()), key=list(looks.values()).count)
    return [y for y, look in looks.items() if look != usual]


# -- one process per terminal, driven through every screen -----------------------------------

@dataclass
class Tour:
    name: str
    output: bytes = b""
    screens: dict[str, Screen] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    exit_code: int | None = None


def showing(shows):
    """A test of the Screen from a text, a regex or a test."""
    if isinstance(shows, str):
        return lambda screen: shows in screen.text()
    if isinstance(shows, re.Pattern):
        return lambda screen: shows.search(screen.text()) is not None
    return shows


class Driver:
    def __init__(self, session: PtySession, linux: bool) -> None:
        self.pty = session
        self.screen = Screen(linux)
        self.consumed = 0

    def update(self) -> Screen:
        data = self.pty.output()
        self.screen.feed(data[self.consumed:])
        self.consumed = len(data)
        return self.screen

    def until(self, shows, timeout: float = 8.0, settle: bool = True) -> bool:
        """Wait until the screen shows `shows` (a text, a regex, or a test of the Screen), then
        (`settle`) until the output stops."""
        test = showing(shows)
        deadline = time.monotonic() + timeout
        while not test(self.update()):
            if time.monotonic() > deadline or self.pty.proc.poll() is not None:
                return False
            self.pty.wait_for(ANYTHING, timeout=0.05, since=self.pty.mark())
        if settle:
            self.pty.wait_quiet(0.15, timeout=2)
            self.update()
        return True

    def press(self, key: bytes, shows, timeout: float = 8.0, settle: bool = True) -> bool:
        self.pty.write(key)
        return self.until(shows, timeout, settle)


def run_tour(name: str, tmp: Path) -> Tour:
    term, extra = TERMINALS[name]
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")}
    env.update(extra, XDG_STATE_HOME=str(tmp / "state"), XDG_CACHE_HOME=str(tmp / "cache"),
               XDG_CONFIG_HOME=str(tmp / "config"))
    keys = KEYS[term]
    tour = Tour(name)
    with PtySession([sys.executable, "-m", "shiftdeck", "--demo"], cols=COLS, rows=ROWS,
                    env=env, term=term) as session:
        drive = Driver(session, linux=term == "linux")
        if not drive.until(lambda s: dashboard(s) and " P1 " in s.text(), timeout=30):
            tour.missed.append(f"dashboard: {session.exit_reason()}\n{drive.screen.text()}")
            tour.output = session.output()
            return tour
        tour.screens["dashboard"] = drive.screen.snapshot()
        _, header, _ = table(drive.screen)
        # home first: from the top row, a row that the living demo adds later moves the cursor
        # down with its alert, never up
        for label, want in (("home", lambda rows: header + 1), ("down", lambda rows: header + 2),
                            ("end", lambda rows: rows[-1])):
            def moved(screen, want=want):
                return cursor_rows(screen) == [want(table(screen)[2])]
            if not drive.press(keys[label], moved, timeout=10):
                tour.missed.append(f"cursor after {label}: rows {cursor_rows(drive.screen)}\n"
                                   f"{drive.screen.text()}")
            tour.screens[label] = drive.screen.snapshot()
        if name == "xterm-256color":  # every theme, in 256 colours (Rich reads only -256color)
            for theme in THEMES:
                if drive.press(b"t", f"Theme: {theme}"):
                    tour.screens[f"theme {theme}"] = drive.screen.snapshot()
                else:
                    tour.missed.append(f"theme {theme}")
        for label, key, shows, close in SCREENS:
            if drive.press(key, shows):
                tour.screens[label] = drive.screen.snapshot()
            else:
                tour.missed.append(f"{label}: {session.exit_reason() or 'not shown'}\n"
                                   f"{drive.screen.text()}")
            def closed(screen, there=showing(shows)):
                return dashboard(screen) and not there(screen)
            if not drive.press(close, closed, settle=False):
                drive.press(b"\x1b", closed, timeout=3, settle=False)
        session.write(b"q")
        try:
            tour.exit_code = session.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # still running: leaving the `with` ends it
            pass
        tour.output = session.output()
    return tour


@pytest.fixture(scope="module")
def tours(tmp_path_factory) -> dict[str, Tour]:
    tmp = tmp_path_factory.mktemp("terminals")
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: a demo keeps a core busy
        runs = {name: pool.submit(run_tour, name, tmp / name.lower()) for name in TERMINALS}
    return {name: run.result() for name, run in runs.items()}


def sgr_colours(output: bytes) -> set[str]:
    """Every colour an SGR sequence in `output` sets: '31', '101', '38;5', '48;2', ..."""
    found = set()
    for match in re.finditer(rb"\x1b\[([0-9;:]*)m", output):
        codes = match.group(1).decode().replace(":", ";").split(";")
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in ("38", "48") and i + 1 < len(codes):
                found.add(f"{code};{codes[i + 1]}")
                i += 3 if codes[i + 1] == "5" else 5
                continue
            if code.isdigit() and (30 <= int(code) <= 49 or 90 <= int(code) <= 107):
                found.add(code)
            i += 1
    return found


def drawn_text(output: bytes) -> str:
    text = output.decode("utf-8", "replace")
    return TOKEN.sub(lambda m: m.group(3) or "", text)


# -- the tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(TERMINALS))
def test_every_screen_opens_on_its_key_and_q_quits_cleanly(tours, name):
    tour = tours[name]
    assert not tour.missed, "\n\n".join(tour.missed)
    assert set(tour.screens) >= {label for label, *_ in SCREENS}
    footer = tour.screens["dashboard"].text().split("\n")[-1]
    assert re.search(r"q Quit +\?", footer), footer  # quit and help keep their place
    assert tour.exit_code == 0, drawn_text(tour.output)[-2000:]
    tail = tour.output[tour.output.rindex(b"\x1b[?1049h"):]
    for restore in (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l"):  # screen, cursor, mouse
        assert restore in tail, restore
    assert b"Traceback" not in tour.output


@pytest.mark.parametrize("name", list(TERMINALS))
def test_no_letter_is_drawn_in_its_own_background(tours, name):
    tour = tours[name]
    problems = [f"{label}: {p}" for label, screen in tour.screens.items()
                for p in unreadable(screen)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", list(TERMINALS))
def test_cursor_row_stands_out_and_moves_with_the_terminals_keys(tours, name):
    tour = tours[name]
    assert {"down", "end", "home"} <= set(tour.screens), tour.missed
    assert not [m for m in tour.missed if m.startswith("cursor")], tour.missed
    themes = [label for label in tour.screens if label.startswith("theme ")]
    assert len(themes) == (len(THEMES) if name == "xterm-256color" else 0), tour.missed
    for label in themes:
        assert len(cursor_rows(tour.screens[label])) == 1, (label, tour.screens[label].text())


def test_linux_console_gets_16_colours_and_no_bright_background(tours):
    colours = sgr_colours(tours["linux"].output)
    allowed = {str(c) for c in [*range(30, 38), 39, *range(40, 48), 49, *range(90, 98)]}
    assert colours <= allowed, sorted(colours - allowed)


def test_linux_console_gets_only_glyphs_its_fonts_have(tours):
    drawn = drawn_text(tours["linux"].output)
    missing = sorted({c for c in drawn if ord(c) > 127 and c not in CONSOLE_SAFE})
    assert not missing, missing


def test_linux_console_tells_levels_apart_by_colour_too(tours):
    colour_of: dict[str, set] = {}
    for label in ("dashboard", "end"):
        screen = tours["linux"].screens[label]
        x, _, rows = table(screen)
        cursor = cursor_rows(screen)
        for y in rows:
            line = "".join(c[0] for c in screen.cells[y])
            level = re.search(r" (P[1-4]) ", line[:x])
            if level and y not in cursor:
                colour_of.setdefault(level.group(1), set()).add(
                    screen.shown(y, line.index(level.group(1)))[0])
    assert len(colour_of) >= 2, colour_of
    assert all(len(c) == 1 for c in colour_of.values()), colour_of
    assert len({next(iter(c)) for c in colour_of.values()}) == len(colour_of), colour_of


@pytest.mark.parametrize("name", COLOUR_256)
def test_256_colour_terminals_get_256_colours_not_truecolor(tours, name):
    # Rich: COLORTERM=truecolor|24bit means 24-bit colour; else TERM's -256color suffix, 256.
    colours = sgr_colours(tours[name].output)
    assert "38;5" in colours and "48;5" in colours
    assert not {"38;2", "48;2"} & colours


def test_no_color_sends_no_colour_but_marks_the_cursor_and_levels_in_text(tours):
    tour = tours["NO_COLOR"]
    colours = sgr_colours(tour.output) - {"39", "49"}  # back to the terminal's own colours
    assert not colours, sorted(colours)
    screen = tour.screens["down"]
    x, _, rows = table(screen)
    (cursor,) = cursor_rows(screen)
    assert all(cell[4] for cell in screen.cells[cursor][:COLS - 2]), "cursor row not reverse"
    glyphs = {}
    for y in rows:
        level = re.search(r"(\S) (P[1-4]) ", "".join(c[0] for c in screen.cells[y])[:x])
        assert level, "".join(c[0] for c in screen.cells[y])
        glyphs.setdefault(level.group(2), set()).add(level.group(1))
    assert all(len(g) == 1 for g in glyphs.values()), glyphs
    assert len({next(iter(g)) for g in glyphs.values()}) == len(glyphs), glyphs
    silences = tour.screens["silences"]
    assert any(all(c[4] for c in row[1:20]) for row in silences.cells), "no silence cursor"


def test_the_emulator_keeps_a_sequence_cut_between_two_reads():
    screen = Screen()
    for part in (b"\x1b[2;3H\x1b", b"[7mab\xe2\x96", b"\x88"):
        screen.feed(part)
    assert [c[0] for c in screen.cells[1][2:5]] == ["a", "b", "█"]
    assert screen.shown(1, 2) == (BG, FG)  # reverse video


def test_console_glyphs_keep_their_width_and_are_drawn_by_every_console_font():
    for source, target in CONSOLE_GLYPHS.items():
        assert cell_len(target) == cell_len(chr(source)), chr(source)
        assert all(ord(c) < 128 or c in CONSOLE_SAFE for c in target), chr(source)


# -- no function needs the mouse ---------------------------------------------------------------

def _readme_binding_ids() -> list[str]:
    keys = (ROOT / "README.md").read_text(encoding="utf-8").split("### Keys", 1)[1]
    rows = [line for line in keys.split("\n\n", 2)[1].splitlines() if line.startswith("| `")]
    return [i for row in rows for i in re.findall(r"`(\w+)`", row.rsplit("|", 2)[1])]


async def test_every_readme_key_is_bound_and_listed_in_help():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        bound: dict[str, set[str]] = {}
        for key, active in app.screen.active_bindings.items():
            bound.setdefault(active.binding.id, set()).add(
                app.get_key_display(Binding(key, active.binding.action)))
        ids = _readme_binding_ids()
        assert len(ids) > 25
        assert not [i for i in ids if i not in bound], sorted(bound, key=str)
        in_help = {key for keys, _ in binding_rows(app.screen) for key in keys.split()}
        assert not [i for i in ids if not bound[i] & in_help], (bound, in_help)
        await pilot.press("ctrl+p")  # the README: `:` or `ctrl+p`
        assert isinstance(app.screen, CommandPalette)


async def test_every_control_of_the_silence_form_is_reached_with_tab():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SilenceForm)
        controls = list(form.query(Button)) + list(form.query(Checkbox)) + \
            list(form.query(Select)) + list(form.query(Input))
        chain = form.focus_chain
        assert [c for c in controls if c not in chain] == []
        for _ in range(len(chain)):  # to the "1d" preset, by keyboard
            if app.focused is form.query_one("#preset-1d"):
                break
            await pilot.press("tab")
        await pilot.press("enter")
        assert form.query_one("#duration", Input).value == "1d"

"""Nothing ends the app: an unexpected exception in a worker or in building the board becomes a
banner (and a toast) naming what failed, and the app goes on. If the dashboard does die, the
process exits non-zero; a one-shot command that meets a bug prints one line and exits 70."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shiftdeck.app import ShiftdeckApp
from shiftdeck.domain.board import SourceReport
from shiftdeck.messages import SourceReported
from shiftdeck.screens.help import HelpScreen
from shiftdeck.sources.journal import Journal
from shiftdeck.widgets.source_banner import SourceBanner

from .support.app_factory import AM_KEY, SEED_ALERTS, loaded, make_app, report
from .support.factories import NOW
from .support.pty_driver import PtySession


class UnreadableJournal(Journal):
    """A journal whose reader meets something nobody foresaw (not an OSError)."""

    def read_packed(self, since, newest=None):
        raise ValueError("year 0 is out of range")


def _app(tmp_path: Path, journal: Journal | None = None) -> ShiftdeckApp:
    return make_app(roster=False, journal_file=tmp_path / "journal.jsonl", journal=journal)


async def _until(pilot, condition, tries: int = 100) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def _toasts(app: ShiftdeckApp) -> str:
    return "\n".join(app.notified)


@pytest.mark.timeout(30)
async def test_a_failing_worker_becomes_a_banner_and_the_app_goes_on(tmp_path: Path) -> None:
    app = _app(tmp_path, UnreadableJournal(tmp_path / "journal.jsonl"))
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        banner = app.dashboard.query_one(SourceBanner)
        assert await _until(pilot, lambda: banner.display), "no banner for the failed worker"
        text = str(banner.render())
        assert "internal error in reading the journal" in text
        assert "ValueError: year 0 is out of range" in text
        assert "the rest keeps running" in text
        assert "Internal error in reading the journal" in _toasts(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
    assert app.return_code in (0, None)


@pytest.mark.timeout(30)
@pytest.mark.slow
async def test_a_report_that_breaks_the_board_is_reported_and_the_next_one_shown(
        tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        broken = SourceReport("am0", "alertmanager", (object(),), NOW)  # type: ignore[arg-type]
        app.post_message(SourceReported(AM_KEY, broken, 0))
        assert await _until(pilot, lambda: "Internal error in building the board" in
                            _toasts(app))
        app.post_message(report())
        banner = app.dashboard.query_one(SourceBanner)
        assert await _until(pilot, lambda: "building the board" in str(banner.render()))
        assert app.shift.board.alerts, "the next good report is shown"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


class OnceBrokenSource:
    """Answers garbage once (a bug in a client would look like this), then a good report."""

    name, kind = "am0", "alertmanager"

    def __init__(self) -> None:
        self.calls = 0

    async def report(self, now):
        self.calls += 1
        if self.calls == 1:
            return None  # not (report, skipped): the poll loop itself fails
        return SourceReport("am0", "alertmanager", SEED_ALERTS, now), 0

    async def aclose(self) -> None:
        pass


@pytest.mark.timeout(30)
@pytest.mark.slow
async def test_a_poller_that_dies_is_reported_and_started_again(tmp_path: Path) -> None:
    source = OnceBrokenSource()
    app = make_app(roster=False, journal_file=tmp_path / "journal.jsonl", refresh="1s",
                   poll=True, sources=[source])
    async with app.run_test(size=(120, 30)) as pilot:
        assert await _until(pilot, lambda: "Internal error in poll alertmanager/am0" in
                            _toasts(app))
        assert await _until(pilot, lambda: len(app.shift.board.alerts) == len(SEED_ALERTS))
        assert source.calls >= 2
        banner = str(app.dashboard.query_one(SourceBanner).render())
        assert "internal error in poll alertmanager/am0" in banner
        assert "TypeError" in banner


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""user: alice
alertmanagers:
  - {{name: am0, url: 'http://127.0.0.1:9', timeout: 1s}}
journal: '{tmp_path / "journal.jsonl"}'
""")
    return path


CRASH_ON_HELP = """
import sys
from shiftdeck.app import ShiftdeckApp
def broken(self):
    raise RuntimeError("boom in a key handler")
ShiftdeckApp.action_help = broken  # what Textual treats as fatal: an exception in an action
from shiftdeck.__main__ import entry
sys.argv = ["shiftdeck", "--config", sys.argv[1]]
entry()
"""


@pytest.mark.timeout(60)
@pytest.mark.slow
def test_a_dashboard_that_dies_exits_non_zero(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    argv = [sys.executable, "-c", CRASH_ON_HELP, str(_config(tmp_path))]
    with PtySession(argv, cols=100, rows=30, env=env) as tui:
        assert tui.wait_for(b"am:am0", timeout=30), tui.exit_reason()
        tui.wait_quiet(0.3)
        tui.write(b"?")
        assert tui.proc is not None
        assert tui.proc.wait(timeout=20) != 0, tui.exit_reason()
        assert tui.wait_for(b"shiftdeck: internal error: the dashboard stopped", timeout=5)


CRASH_IN_WHO = """
import sys
import shiftdeck.cli
def broken(*args, **kwargs):
    raise RuntimeError("\\x1b]0;pwned\\x07roster")
shiftdeck.cli.run_who = broken
from shiftdeck.__main__ import entry
sys.argv = ["shiftdeck", "--config", sys.argv[1], "who"]
entry()
"""


@pytest.mark.timeout(60)
def test_a_one_shot_command_that_meets_a_bug_says_so_in_one_line_and_exits_70(
        tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", CRASH_IN_WHO, str(_config(tmp_path))],
                            capture_output=True, text=True, timeout=50)
    assert result.returncode == 70
    assert result.stderr.splitlines() == [
        "shiftdeck: internal error: RuntimeError: ]0;pwnedroster (please report)"]
    assert "Traceback" not in result.stderr

"""Bugs met at run time (a worker or a message handler that raised): a banner entry naming
what failed, a toast the first time, and the rest of the app kept running."""

from __future__ import annotations

from collections.abc import Callable

from ..clock import Clock
from ..internal_errors import BOARD, error_text
from .notifier import Notifier
from .sources import SourceBoard


class Crashes:
    def __init__(self, board: SourceBoard, clock: Clock, notify: Notifier,
                 log: Callable[[str, BaseException | None], None],
                 rebuild: Callable[[], None]) -> None:
        """`log`: the developer's log; `rebuild`: redraw the board (where the banner is)."""
        self._board = board
        self._clock = clock
        self._notify = notify
        self._log = log
        self._rebuild = rebuild

    def report(self, what: str, error: BaseException | None) -> None:
        """`what` failed (in words, internal_errors.worker_label's) with `error`."""
        self._log(f"internal error in {what}", error)
        if self._board.internal_error(what, error_text(error), self._clock.now()):
            self._notify(f"Internal error in {what}: {error_text(error)} — the rest keeps "
                         "running.", severity="error", timeout=15)
        if what != BOARD:  # the banner is drawn from the board: it cannot show its own failure
            self._rebuild()

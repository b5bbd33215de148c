"""Copy text to the user's clipboard through SSH and tmux: OSC 52, written to the terminal."""

from __future__ import annotations

import os
from collections.abc import Callable

from ..domain.clipboard import osc52_copy


class Clipboard:
    def __init__(self, write: Callable[[str], None]) -> None:
        """`write` sends an escape sequence to the terminal (nothing when headless)."""
        self._write = write

    def copy(self, text: str) -> None:
        self._write(osc52_copy(text, in_tmux="TMUX" in os.environ))

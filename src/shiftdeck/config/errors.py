"""ConfigError: a configuration problem, located as ``file:line: key: reason``."""

from __future__ import annotations

from ..domain.sanitize import clean_line


class ConfigError(Exception):
    """A configuration problem, located as precisely as known: ``file:line: key: reason``."""

    def __init__(self, file: str | None, line: int | None, key: str, reason: str) -> None:
        super().__init__(file, line, key, reason)
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        # Keys, file names and quoted values come from the file: never control sequences.
        return clean_line(": ".join(part for part in (where, self.key, self.reason) if part))

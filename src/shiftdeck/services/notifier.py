"""How services tell the user something: a toast, whoever shows it (the app passes its own
plain-text `notify`)."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def __call__(self, message: str, *, title: str = ..., severity: str = ...,
                 timeout: float | None = ...) -> None: ...

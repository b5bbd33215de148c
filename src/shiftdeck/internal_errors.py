"""Unexpected exceptions in the dashboard, said in words: what failed, and how.

The app shows them as a banner and keeps running (see ShiftdeckApp.internal_error); nothing
here imports textual.
"""

from __future__ import annotations

from .domain.sanitize import clean_line

BOARD = "building the board"

_WORK = {
    "board": BOARD,
    "metric": "the metric graph",
    "runbook": "loading a runbook",
    "command": "a runbook command",
    "kube": "diagnostics",
    "kube-logs": "pod logs",
    "journal-read": "reading the journal",
    "journal": "writing the journal",
    "writes": "a write to Alertmanager",
    "extend": "extending acks",
}
"""Worker group → what the user would call that work."""


def worker_label(name: str, group: str, description: str) -> str:
    """'poll alertmanager/am0' for a worker started with a description; for an @work method
    (whose description is a debug repr of its call) the words for its group."""
    if description and not description.startswith(f"{name}("):
        return clean_line(description, 80)
    return _WORK.get(group, f"{group} ({name.lstrip('_')})")


def error_text(error: BaseException | None) -> str:
    """`KeyError: 'x'`: the type and a short, drawable message."""
    if error is None:
        return "unknown error"
    detail = clean_line(str(error), 160)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__

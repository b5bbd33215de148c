"""Untrusted text is cleaned once, at ingest.

Removes C0 controls except tab and newline, DEL, C1 controls (which include the 8-bit CSI/OSC
introducers) and therefore ESC. Carriage returns go too: they let a value overwrite what was
drawn before it. Bidi overrides and isolates are removed as well, so a label cannot reorder
the text around it.
"""

from __future__ import annotations

import re
import sys

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but \t \n, DEL, C1
    "\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "]"
)

MAX_FIELD = 64 * 1024


def clean(text: object, limit: int = MAX_FIELD) -> str:
    """Return `text` as a string that is safe to draw: no control sequences, at most `limit` chars."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():  # the common case, in C: no control or format characters at all
        return text
    return _UNSAFE.sub("", text)


def clean_line(text: object, limit: int = 1024) -> str:
    """Like clean(), for one-line cells: newlines and tabs become spaces."""
    return clean(text, limit).replace("\n", " ").replace("\t", " ")


def clean_mapping(raw: object, intern: bool = False) -> dict[str, str]:
    """Sanitise a label or annotation map; non-mapping input gives an empty map.

    `intern=True` shares repeated strings (label names and values repeat across thousands of
    alerts), which keeps a 10k-alert board small.
    """
    if not isinstance(raw, dict):
        return {}
    if intern:
        return {sys.intern(clean(k, 1024)): sys.intern(clean(v)) for k, v in raw.items()}
    return {clean(k, 1024): clean(v) for k, v in raw.items()}


def has_unsafe(text: str) -> bool:
    """True if clean() would change `text` (ignoring its length): for values that must be
    refused rather than altered, such as paths and URLs."""
    return _UNSAFE.search(text) is not None

"""Sizes in bytes written the way people write them: `256MiB`, `512KiB`, `16MB`, `1048576`. Pure."""

from __future__ import annotations

import re

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
_SIZE = re.compile(r"\s*(\d{1,15})\s*([a-z]*)\s*", re.IGNORECASE)
MAX_SIZE = 1 << 40
"""1 TiB: anything larger is a typo, not a cap."""


def parse_size(text: str) -> int:
    """Bytes from `256MiB`, `512KiB`, `16MB`, `4096` (plain bytes); ValueError with a sentence."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text[:40]!r} (use e.g. 256MiB, 512KiB, 16MB or bytes)")
    size = int(match.group(1)) * _UNITS[unit]
    if not 0 < size <= MAX_SIZE:
        raise ValueError(f"must be between 1 byte and {format_size(MAX_SIZE)}")
    return size


def format_size(size: int) -> str:
    """`256 MiB`, `512 KiB`, `1000 bytes`: the largest binary unit that divides it exactly."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"

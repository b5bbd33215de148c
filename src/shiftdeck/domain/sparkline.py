"""A metric's recent history as one line of block characters."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """`values` squeezed (by averaging buckets) or kept to at most `width` characters; NaN/inf
    samples show as a space; a flat series is drawn at the bottom."""
    finite = [v for v in values if math.isfinite(v)]
    if not values or not finite or width <= 0:
        return ""
    buckets = _buckets(values, width)
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for bucket in buckets:
        good = [v for v in bucket if math.isfinite(v)]
        if not good:
            out.append(" ")
            continue
        level = 0 if span == 0 else (sum(good) / len(good) - low) / span
        out.append(BLOCKS[min(len(BLOCKS) - 1, int(level * (len(BLOCKS) - 1) + 0.5))])
    return "".join(out)


def _buckets(values: Sequence[float], width: int) -> list[Sequence[float]]:
    if len(values) <= width:
        return [[v] for v in values]
    size = len(values) / width
    return [values[int(i * size):max(int(i * size) + 1, int((i + 1) * size))] for i in range(width)]


def presence_strip(moments: Sequence[float], start: float, end: float, width: int) -> str:
    """`█` for each slice of [start, end) in which something was present (e.g. an alert
    firing, from Prometheus's ALERTS series), `·` where nothing was. Times are epoch seconds."""
    if width <= 0 or end <= start:
        return ""
    slots = ["·"] * width
    for moment in moments:
        if start <= moment < end:
            slots[int((moment - start) / (end - start) * width)] = "█"
    return "".join(slots)

"""This shift in numbers: MTTA, MTTR, alerts per level, the noisiest alerts, acked vs unacked."""

from __future__ import annotations

from datetime import timedelta, tzinfo

from textual.binding import Binding
from textual.content import Content

from ..domain.durations import format_duration
from ..domain.metrics import ShiftMetrics
from .page import PageScreen


class ShiftScreen(PageScreen):
    BINDINGS = [Binding("escape,M", "app.pop_screen", "Back", id="close_shift")]
    PAGE_ID = "shift"

    def __init__(self, metrics: ShiftMetrics, zone: tzinfo | None) -> None:
        super().__init__(render_metrics(metrics, zone))


def _span(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else "—"


def render_metrics(m: ShiftMetrics, zone: tzinfo | None) -> Content:
    when = f"{m.since.astimezone(zone):%a %d %b %H:%M} → {m.until.astimezone(zone):%a %d %b %H:%M}"
    total = m.acked_time + m.unacked_time
    share = f"{m.acked_time / total:.0%} acked" if total else "—"
    lines = [
        Content.styled(f"This shift · {when}", "bold $accent"),
        Content(f"  MTTA {_span(m.mtta)}    MTTR {_span(m.mttr)}    incidents (P1/P2) "
                f"{m.incidents}    actions {m.actions}"),
        Content(f"  firing time: {_span(m.acked_time)} acked, {_span(m.unacked_time)} "
                f"unacked ({share})"),
        Content.styled("\nAlerts per level", "bold $accent"),
    ]
    lines += [Content(f"  {level:<4} {count}") for level, count in m.alerts_by_level.items()]
    lines.append(Content.styled("\nNoisiest alerts (times fired)", "bold $accent"))
    lines += [Content(f"  {count:>4}  {name}") for name, count in m.noisiest] or \
        [Content("  none")]
    return Content("\n").join(lines)

"""Everything about one alert: labels, annotations, instances, silences, the PromQL behind it."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo

from textual.content import Content
from textual.widget import Widget

from ..domain.alerts import Alert
from ..domain.escalation import Escalation
from ..domain.journal import Record
from ..domain.metric import MetricHistory
from ..domain.sparkline import presence_strip, sparkline
from ..domain.durations import format_duration
from ..domain.severity import SeverityPolicy


class AlertDetail(Widget):
    DEFAULT_CSS = "AlertDetail { height: auto; }"

    def __init__(self, policy: SeverityPolicy, zone: tzinfo | None = None, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._policy = policy
        self._zone = zone
        self._alert: Alert | None = None
        self._escalation: Escalation | None = None
        self._content = Content.styled("No alert selected.", "$text-muted")

    @property
    def alert(self) -> Alert | None:
        return self._alert

    def show(self, alert: Alert | None, now: datetime, escalation: Escalation | None = None,
             notes: list[Record] | None = None, metric: MetricHistory | None = None,
             force: bool = False) -> None:
        same = alert is self._alert and escalation is self._escalation
        if same and alert is not None and not force:
            return
        self._alert, self._escalation = alert, escalation
        height_before = self._height()
        if alert is None:
            self._content = Content.styled("No alert selected.", "$text-muted")
        else:
            self._content = render_detail(alert, self._policy, now, escalation, self._zone,
                                          notes or [], metric, max(20, self.size.width - 4))
        # A layout pass repaints the whole screen; only pay for it when the height changes.
        self.refresh(layout=self._height() != height_before)

    def _height(self) -> int:
        """Lines the content takes once wrapped to the pane's width."""
        return self._content.get_height({}, max(1, self.size.width))

    def render(self) -> Content:
        return self._content


def render_detail(alert: Alert, policy: SeverityPolicy, now: datetime,
                  escalation: Escalation | None = None, zone: tzinfo | None = None,
                  notes: list[Record] | None = None, metric: MetricHistory | None = None,
                  width: int = 60) -> Content:
    level = alert.level or "?"
    lines: list[Content] = [
        Content.assemble(
            (f"{policy.glyph(level)} {level} ", f"bold $severity-{level.lower()}"),
            (alert.state_text.upper(), "bold"), "  ", (alert.name, "bold"),
            ("  for " + format_duration(now - alert.starts_at), "$text-muted"),
        )
    ]
    lines += [Content.styled(f"  {warning}", "$warning") for warning in alert.warnings]
    if alert.summary:
        lines.append(Content(alert.summary))
    lines += _section("Labels", sorted(alert.labels.items()))
    lines += _section("Annotations", sorted(alert.annotations.items()))
    facts = [("started", alert.starts_at.astimezone(zone).isoformat(timespec="seconds"))]
    facts += [("instances", ", ".join(alert.instances))] if alert.instances else []
    if alert.acked_by and alert.acked_at:
        facts.append(("acked by", f"{alert.acked_by} for {format_duration(now - alert.acked_at)}"))
    facts += [("silenced by", ", ".join(alert.silenced_by))] if alert.silenced_by else []
    facts += [("inhibited by", ", ".join(alert.inhibited_by))] if alert.inhibited_by else []
    facts += [("muted by", ", ".join(alert.muted_by))] if alert.muted_by else []
    facts += [("value", alert.value)] if alert.value else []
    facts += [("fingerprint", alert.fingerprint)]
    lines += _section("Source", facts)
    if notes:
        lines.append(Content.styled("\nNotes", "bold $accent"))
        lines += [Content.assemble((f"  {n.at.astimezone(zone):%a %H:%M} {n.user}: ",
                                    "$text-secondary"), n.text) for n in notes]
    if escalation is not None:
        lines += render_ladder(escalation, zone)
    promql = alert.promql
    lines += _section("Expression", [("", promql or "(unknown: no rule or generatorURL)")])
    if metric is not None:
        lines += render_metric(metric, width)
    return Content("\n").join(lines)


def render_metric(metric: MetricHistory, width: int) -> list[Content]:
    """The expression's last hour as a sparkline, and the alert's firing in the last 24h."""
    if metric.error:
        return [Content.styled(f"  metric: {metric.error}", "$warning")]
    values = [v for _, v in metric.hour]
    out = [Content.styled("\nLast hour", "bold $accent")]
    if values:
        finite = [v for v in values if math.isfinite(v)]
        span = f"  min {min(finite):.4g}  max {max(finite):.4g}  now {values[-1]:.4g}" \
            if finite else ""
        out += [Content.styled("  " + sparkline(values, width - 2), "$warning"),
                Content.styled(span, "$text-muted")]
    else:
        out.append(Content.styled("  no data for the expression in the last hour", "$text-muted"))
    end = metric.fetched_at.timestamp()
    strip = presence_strip([t.timestamp() for t in metric.firing], end - 86400, end, width - 2)
    out += [Content.styled("\nFiring, last 24h (█ firing)", "bold $accent"),
            Content.assemble("  ", (strip, "$error"))]
    return out


def render_ladder(escalation: Escalation, zone: tzinfo | None) -> list[Content]:
    """The whole ladder with times and names; the step reached and the next one marked."""
    title = "Escalation"
    if escalation.stopped:
        title += f" — stopped: {escalation.stop_reason}"
    breaches = [b for b, on in (("ack SLA breached", escalation.ack_breach),
                                ("resolution target breached", escalation.resolve_breach)) if on]
    out = [Content.styled(f"\n{title}", "bold $accent")]
    if breaches:
        out.append(Content.styled("  " + ", ".join(breaches), "bold $error"))
    for rung in escalation.rungs:
        marker = "→" if rung is escalation.next else ("●" if rung is escalation.current else " ")
        who = rung.person.label if rung.person else "nobody on call"
        when = rung.at.astimezone(zone).strftime("%H:%M")
        style = "bold" if rung is escalation.current or rung is escalation.next else "$text-muted"
        after = format_duration(rung.step.after) if rung.step.after else "0m"
        out.append(Content.assemble(
            f" {marker} ", (f"L{rung.index + 1} +{after:<5} {when}  {rung.step.notify:<10} ", style),
            (who, style)))
    return out


def _section(title: str, pairs: list[tuple[str, str]]) -> list[Content]:
    if not pairs:
        return []
    out = [Content.styled(f"\n{title}", "bold $accent")]
    for key, value in pairs:
        if key:
            out.append(Content.assemble((f"  {key}", "$text-secondary"), " = ", value))
        else:
            out.append(Content.assemble("  ", value))
    return out

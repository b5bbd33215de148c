"""Everything about one alert: labels, annotations, instances, silences, the PagerDuty incident
paging for it, the PromQL behind it."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo

from textual import events
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget

from ..domain.alerts import Alert
from ..domain.escalation import Escalation, countdown_text
from ..domain.journal import Record
from ..domain.metric import MetricHistory
from ..domain.pager import TRIGGERED, Incident
from ..domain.sparkline import presence_strip, sparkline
from ..domain.durations import clock_time, format_duration
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
        self._incident: Incident | None = None
        self._notes: list[Record] = []
        self._metric: MetricHistory | None = None
        self._now: datetime | None = None
        self._content = Content.styled("No alert selected.", "$text-muted")

    @property
    def alert(self) -> Alert | None:
        return self._alert

    def show(self, alert: Alert | None, now: datetime, escalation: Escalation | None = None,
             notes: list[Record] | None = None, metric: MetricHistory | None = None,
             force: bool = False, incident: Incident | None = None) -> None:
        """`incident`: the PagerDuty incident paging for the alert, if any."""
        same = alert is self._alert and escalation is self._escalation \
            and incident is self._incident
        if same and alert is not None and not force:
            return
        self._alert, self._escalation, self._incident = alert, escalation, incident
        self._notes, self._metric, self._now = list(notes or []), metric, now
        height_before, content = self._height(), self._render_at(now)
        if content.is_same(self._content):  # e.g. a metric answer that changes no line
            return
        self._content = content
        # A layout pass repaints the whole screen; only pay for it when the height changes.
        self.refresh(layout=self._height() != height_before)

    def tick(self, now: datetime) -> None:
        """Bring the ages ("for 2m58s", "acked by … for 9m") to `now`, repainting only the
        lines whose text changed; call it every second."""
        if self._alert is None:
            return
        self._now = now
        width = max(1, self.size.width)
        before, self._content = self._content.wrap(width), self._render_at(now)
        after = self._content.wrap(width)
        if len(after) != len(before):
            self.refresh(layout=True)
            return
        for row, (old, new) in enumerate(zip(before, after)):
            if old.plain != new.plain:
                self.refresh(Region(0, row, width, 1))

    def on_resize(self, event: events.Resize) -> None:
        if self._alert is not None and self._now is not None:
            self._content = self._render_at(self._now)  # the sparkline follows the width

    def _render_at(self, now: datetime) -> Content:
        if self._alert is None:
            return Content.styled("No alert selected.", "$text-muted")
        return render_detail(self._alert, self._policy, now, self._escalation, self._zone,
                             self._notes, self._metric, max(20, self.size.width - 4),
                             self._incident)

    def _height(self) -> int:
        """Lines the content takes once wrapped to the pane's width."""
        return self._content.get_height({}, max(1, self.size.width))

    def render(self) -> Content:
        return self._content


def render_detail(alert: Alert, policy: SeverityPolicy, now: datetime,
                  escalation: Escalation | None = None, zone: tzinfo | None = None,
                  notes: list[Record] | None = None, metric: MetricHistory | None = None,
                  width: int = 60, incident: Incident | None = None) -> Content:
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
    if incident is not None:
        lines += _section("PagerDuty", incident_facts(incident, now, zone))
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


def incident_facts(incident: Incident, now: datetime, zone: tzinfo | None
                   ) -> list[tuple[str, str]]:
    """The incident as plain text: its url too is only shown (it came from upstream)."""
    facts = [("incident", f"{incident.reference} ({incident.source})" if incident.source
              else incident.reference), ("title", incident.title),
             ("status", f"{incident.status}, urgency {incident.urgency}")]
    if incident.acknowledged_by:
        facts.append(("acknowledged by", ", ".join(incident.acknowledged_by)))
    if incident.assignees:
        facts.append(("assigned to", ", ".join(u.name for u in incident.assignees)))
    at = incident.next_escalation_at
    if at is not None and incident.status == TRIGGERED:
        facts.append(("next escalation", f"{clock_time(at, zone)} (in "
                                          f"{countdown_text(at - now)})"))
    facts += [("url", incident.html_url)] if incident.html_url else []
    return facts


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

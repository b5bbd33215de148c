"""Top line: title, per-source health badges, open alerts per severity level."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from textual.content import Content
from textual.widget import Widget

from ..domain.clockskew import format_skew
from ..domain.durations import clock_time, format_age, format_duration
from ..domain.roster import Roster
from ..domain.health import Health, SourceHealth


class HeaderBar(Widget):
    DEFAULT_CSS = "HeaderBar { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, title: str, fresh_within: timedelta, zone: tzinfo | None = None, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = title
        self._fresh_within = fresh_within
        self._zone = zone
        self._content = Content(title)
        self.read_only = False
        self.skews: tuple[tuple[str, timedelta], ...] = ()
        """(cluster, this machine's clock minus the cluster's) for each skew worth showing."""

    def show(self, health: tuple[SourceHealth, ...], counts: dict[str, int], now: datetime,
             expiring: int = 0, roster: Roster | None = None) -> None:
        content = render_header(self._title, health, counts, now, self._fresh_within,
                                self.read_only, expiring, self.skews, self._zone)
        if roster is not None and roster.roles():
            content = Content("\n").join([content, render_oncall(roster, now, self._zone)])
        if not content.is_same(self._content):
            lines_changed = content.plain.count("\n") != self._content.plain.count("\n")
            self._content = content
            self.refresh(layout=lines_changed)

    def render(self) -> Content:
        return self._content


def render_header(title: str, health: tuple[SourceHealth, ...], counts: dict[str, int],
                  now: datetime, fresh_within: timedelta, read_only: bool = False,
                  expiring: int = 0,
                  skews: tuple[tuple[str, timedelta], ...] = (),
                  zone: tzinfo | None = None) -> Content:
    parts: list[Content | tuple[str, str] | str] = [(f" {title} ", "bold")]
    if read_only:
        parts.append((" READ-ONLY ", "$warning reverse bold"))
    for source in health:
        parts.append(" ")
        parts.append(_badge(source, now, fresh_within, zone))
    parts.append("  ")
    for level, count in counts.items():
        style = f"$severity-{level.lower()}" if count else "$text-muted"
        parts.append((f"{level}:{count} ", style))
    if expiring:
        parts.append((f" {expiring} silence(s) expiring soon ", "$warning reverse"))
    for cluster, ahead in skews:
        parts.append((f" clock skew: {cluster} {format_skew(ahead)} ", "$warning bold"))
    return Content.assemble(*parts)


def render_oncall(roster: Roster, now: datetime, zone: tzinfo | None) -> Content:
    """` handoff Mon 09:00 (18h) │ primary Alice Ng @alice · secondary Bob Li @bob`: one line.

    The handoff countdown has minute resolution, so the header repaints once a minute at most.
    """
    parts: list[Content | tuple[str, str] | str] = [" "]
    upcoming = [h for role in roster.roles() if (h := roster.next_handoff(role, now))]
    if upcoming:
        first = min(upcoming, key=lambda h: h.start)
        when = first.start.astimezone(zone).strftime("%a %H:%M")
        minutes = int((first.start - now).total_seconds() // 60)
        left = format_duration(timedelta(minutes=minutes)) if minutes else "<1m"
        parts += [("handoff ", "$text-muted"), (f"{when} ({left})", "bold"), " │ "]
    for index, role in enumerate(roster.roles()):
        person = roster.holder(role, now)
        parts += [" · " if index else "", (role, "$text-muted"), " "]
        if person is None:
            parts.append(("nobody", "$error bold"))
        else:
            parts += [(person.name, "bold"), f" {person.handle}" if person.handle else ""]
    return Content.assemble(*parts)


def _badge(source: SourceHealth, now: datetime, fresh_within: timedelta,
           zone: tzinfo | None = None) -> tuple[str, str]:
    """ok / stale since HH:MM / down. A healthy badge shows the age of the last good poll once
    it is older than expected, so a quiet screen stays quiet between polls."""
    if source.kind == "internal":  # the banner below says what failed
        return "internal error", "$error bold"
    short = {"alertmanager": "am", "prometheus": "prom",
             "pagerduty": "pd"}.get(source.kind, source.kind)
    match source.health:
        case Health.OK:
            age = now - source.last_ok if source.last_ok else timedelta(0)
            late = f" {format_age(age)} ago" if age > fresh_within else ""
            skipped = f" ({source.skipped} skipped)" if source.skipped else ""
            style = "$warning" if late or skipped else "$success"
            return f"{short}:{source.name} ok{late}{skipped}", style
        case Health.STALE:
            since = clock_time(source.failing_since, zone)
            return f"{short}:{source.name} stale since {since}", "$warning bold"
        case Health.DOWN:
            return f"{short}:{source.name} down", "$error bold"
        case _:
            return f"{short}:{source.name} …", "$text-muted"

"""Who is on call now, the next weeks per role, coverage gaps, and your own next shift."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from textual.binding import Binding
from textual.content import Content

from ..domain.durations import format_duration
from ..domain.roster import Holding, Roster
from .page import PageScreen


class OnCallScreen(PageScreen):
    BINDINGS = [Binding("escape,O", "app.pop_screen", "Back", id="close_oncall")]
    PAGE_ID = "oncall"

    def __init__(self, roster: Roster, now: datetime, zone: tzinfo | None, user: str,
                 weeks: int = 4) -> None:
        super().__init__(render_oncall_page(roster, now, zone, user, weeks))


def _when(at: datetime, zone: tzinfo | None) -> str:
    return at.astimezone(zone).strftime("%a %d %b %H:%M")


def _holder(holding: Holding) -> Content:
    if holding.person is None:
        return Content.styled("nobody (gap)", "bold $error")
    extra = f"  ({holding.source})" if holding.source not in ("rotation", "") else ""
    return Content.assemble((holding.person.label, "bold"), (extra, "$text-muted"))


def render_oncall_page(roster: Roster, now: datetime, zone: tzinfo | None, user: str,
                       weeks: int = 4) -> Content:
    end = now + timedelta(weeks=weeks)
    zone_name = getattr(zone, "key", None) or "local time"
    lines = [Content.styled(f"On call now · {zone_name} · {_when(now, zone)}", "bold $accent")]
    roles = roster.roles()
    if not roles:
        return Content("\n").join(lines + [Content("No roster configured (people, rotations "
                                                   "or schedules_ics in the config).")])
    for role in roles:
        holding = roster.holding(role, now)
        phone = f"  {holding.person.phone}" if holding.person and holding.person.phone else ""
        lines.append(Content.assemble(f"  {role:<12} ", _holder(holding), phone,
                                      (f"   until {_when(holding.end, zone)}", "$text-muted")))
    lines.append(_your_next_shift(roster, now, zone, user))
    gaps: list[Content] = []
    lines.append(Content.styled(f"\nNext {weeks} weeks", "bold $accent"))
    for role in roles:
        lines.append(Content.styled(f"  {role}", "bold"))
        for holding in roster.timeline(role, now, end):
            lines.append(Content.assemble(
                f"    {_when(holding.start, zone)} → {_when(holding.end, zone)}  ",
                _holder(holding)))
            if holding.person is None:
                gaps.append(Content(f"  {role}: {_when(holding.start, zone)} → "
                                    f"{_when(holding.end, zone)}"))
    lines.append(Content.styled("\nCoverage gaps", "bold $accent"))
    lines += gaps or [Content(f"  none in the next {weeks} weeks")]
    return Content("\n").join(lines)


def _your_next_shift(roster: Roster, now: datetime, zone: tzinfo | None, user: str) -> Content:
    if roster.find(user) is None:
        return Content.styled(f"\nYour next shift ({user}): you are not in the roster",
                              "$text-muted")
    shift = roster.next_shift_of(user, now)
    if shift is None:
        return Content.styled(f"\nYour next shift ({user}): none in the next 8 weeks",
                              "$text-muted")
    if shift.start <= now:
        when = f"now, until {_when(shift.end, zone)}"
    else:
        left = format_duration(timedelta(minutes=int((shift.start - now).total_seconds() // 60)))
        when = f"{_when(shift.start, zone)} → {_when(shift.end, zone)} (in {left})"
    return Content.assemble(("\nYour next shift", "bold $accent"), f" ({user}): ",
                            (shift.role, "bold"), f", {when}")

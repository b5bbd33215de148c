"""The end-of-shift handoff report, in Markdown, from the journal, the board and the roster.
Pure and deterministic: the same inputs give the same bytes.

Sections follow the seed handbooks' handoff templates and issue 6: Summary (totals, MTTA/MTTR,
overall health and sources), Open items, Watch items, Recent incidents, Actions taken, Notes,
Next on call.

Every string that came from outside (labels, annotations, comments, notes, commands, names) is
made Markdown-safe: identifiers, matchers and commands as code spans (a fence longer than any
backtick run inside), other text with Markdown punctuation backslash-escaped, so a note saying
``# Done | <b>`` stays that text. Nothing spans lines except notes, whose lines are escaped one
by one; table cells never hold a newline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo

from .alerts import Alert, AlertState
from .board import EMPTY_BOARD, Board
from .durations import format_duration
from .health import Health
from .journal import (Acked, AlertRef, NoteAdded, PagerEscalated, Record, describe_parts,
                      group_actions, last_status_update, lifecycle_records, next_update_due,
                      notes_for, open_firings)
from .metrics import Episode, ShiftMetrics, shift_metrics
from .roster import DISTANT_FUTURE, Holding, Person, Roster
from .sanitize import clean, clean_line
from .severity import SeverityPolicy
from .silences import SilenceState
from .view import silence_rows

LONG_ACK = timedelta(hours=2)
"""An alert acknowledged longer than this is called out: resolve it or hand it over."""
MAX_OPEN_ITEMS = 50
"""Open items listed one by one; the rest are counted per level."""
NOTES_PER_ITEM = 3
"""Latest notes shown under each open item (all are in the Notes section)."""
NOISY = 3
"""An alert that fired this many times in the shift is a watch item: tune it."""


def handoff_report(records: Iterable[Record], board: Board, roster: Roster | None,
                   now: datetime, since: datetime, user: str, zone: tzinfo,
                   policy: SeverityPolicy, silences_warn: timedelta = timedelta(hours=24),
                   key_labels: Sequence[str] = ("namespace", "service", "pod")) -> str:
    """The report for the shift [since, now] handed over by ``user``. ``key_labels`` are shown
    next to each open alert's name."""
    records = sorted(records, key=lambda r: r.at)
    levels = policy.names()
    metrics = shift_metrics(records, since, now, incident_levels=levels[:2],
                            observed=_unjournaled(board, records, user, now))
    open_alerts = sorted((a for a in board.alerts.values()
                          if a.state in (AlertState.FIRING, AlertState.ACKED)),
                         key=lambda a: (policy.rank(a.level), a.starts_at, a.fingerprint))
    in_shift = [r for r in records if since <= r.at <= now]
    ctx = _Context(zone, now, policy)
    lines = [f"## On-Call Handoff: {now.astimezone(zone):%Y-%m-%d}", ""]
    lines.append(f"Shift {ctx.when(since)} → {ctx.when(now)} ({_zone_label(zone, now)}), "
                 f"handed over by {md_text(user)}.")
    lines += _section("Summary", _summary(ctx, metrics, board, open_alerts, levels))
    lines += _section("Open items", _open_items(ctx, open_alerts, records, key_labels))
    lines += _section("Watch items", _watch_items(ctx, board, metrics, silences_warn))
    lines += _section("Recent incidents", _incidents(ctx, metrics, levels[:2], records))
    lines += _section("Actions taken", _actions(ctx, in_shift))
    lines += _section("Notes", _notes(ctx, in_shift))
    lines += _section("Next on call", _next_on_call(ctx, roster))
    return "\n".join(lines) + "\n"


def _unjournaled(board: Board, records: list[Record], user: str,
                 now: datetime) -> list[Record]:
    """What the board shows that the journal does not know, for the numbers of this report
    only (never written, never an action): alerts firing that it has no open firing of (no
    shiftdeck was watching when they fired) as seen firing, with the ack the board shows
    when the journal has none (made in karma, say)."""
    seen = lifecycle_records(EMPTY_BOARD, board, user, now, open_firings(records))
    journaled_acks = {(r.fingerprint, r.starts_at) for r in records if isinstance(r, Acked)}
    acks: list[Record] = []
    for record in seen:
        alert = board.alerts[record.fingerprint]
        if (alert.state is AlertState.ACKED and alert.acked_at is not None
                and (alert.fingerprint, alert.starts_at) not in journaled_acks):
            acks.append(Acked(alert.acked_at, alert.acked_by or "someone", AlertRef.of(alert)))
    return [*seen, *acks]


class _Context:
    def __init__(self, zone: tzinfo, now: datetime, policy: SeverityPolicy) -> None:
        self.zone, self.now, self.policy = zone, now, policy

    def when(self, at: datetime) -> str:
        return f"{at.astimezone(self.zone):%a %Y-%m-%d %H:%M}"

    def clock(self, at: datetime) -> str:
        """HH:MM today, else with the day."""
        local, today = at.astimezone(self.zone), self.now.astimezone(self.zone)
        return f"{local:%H:%M}" if local.date() == today.date() else self.when(at)


def _section(title: str, body: list[str]) -> list[str]:
    return ["", f"### {title}", "", *body]


def _zone_label(zone: tzinfo, at: datetime) -> str:
    name = getattr(zone, "key", None) or at.astimezone(zone).tzname() or "UTC"
    abbreviation = at.astimezone(zone).tzname()
    return name if not abbreviation or abbreviation == name else f"{name}, {abbreviation}"


# --------------------------------------------------------------------------- #
# Sections
# --------------------------------------------------------------------------- #


def _summary(ctx: _Context, m: ShiftMetrics, board: Board, open_alerts: list[Alert],
             levels: tuple[str, ...]) -> list[str]:
    fired = sum(m.alerts_by_level.values())
    order = [lvl for lvl in levels if lvl in m.alerts_by_level]
    order += [lvl for lvl in m.alerts_by_level if lvl not in levels]
    per_level = ", ".join(f"{md_text(lvl or 'no level')} {m.alerts_by_level[lvl]}"
                          for lvl in order)
    acked = sum(1 for a in open_alerts if a.state is AlertState.ACKED)
    incident_levels = ", ".join(md_text(lvl) for lvl in levels[:2])
    lines = [
        f"- Overall health: {_health(ctx, board, open_alerts, levels)}",
        f"- Alerts fired: {fired}" + (f" ({per_level})" if per_level else ""),
        f"- Incidents ({incident_levels}): {m.incidents}",
        f"- Open now: {len(open_alerts)} ({len(open_alerts) - acked} firing, {acked} "
        "acknowledged)",
        f"- Actions taken: {m.actions}",
        f"- MTTA {_maybe(m.mtta)} · MTTR {_maybe(m.mttr)}",
        f"- Time firing: {_span(m.acked_time)} acknowledged, "
        f"{_span(m.unacked_time)} not acknowledged",
    ]
    if m.noisiest:
        lines.append("- Noisiest: " + ", ".join(f"{md_code(name)} ×{count}"
                                               for name, count in m.noisiest[:5]))
    sources = _sources(ctx, board)
    if sources:
        lines.append("- Sources: " + "; ".join(sources))
    return lines


def _health(ctx: _Context, board: Board, open_alerts: list[Alert],
            levels: tuple[str, ...]) -> str:
    """red: an open alert of the most severe level, or a source down; yellow: an open alert
    of the second level, a long-acknowledged alert, or a source stale; else green."""
    red: list[str] = []
    yellow: list[str] = []
    for rank, reasons in ((0, red), (1, yellow)):
        if len(levels) > rank:
            count = sum(1 for a in open_alerts if a.level == levels[rank])
            if count:
                reasons.append(f"{count} {md_text(levels[rank])} open")
    long = sum(1 for a in open_alerts if _long_acked(a, ctx.now))
    if long:
        yellow.append(f"{long} acknowledged for over {_span(LONG_ACK)}")
    for source in sorted(board.health, key=lambda h: (h.kind, h.name)):
        label = md_text(source.label)
        if source.health is Health.DOWN:
            red.append(f"{label} down")
        elif source.health in (Health.STALE, Health.WAITING):
            yellow.append(f"{label} {source.health.value}")
    if red:
        return "**red**: " + ", ".join(red + yellow)
    if yellow:
        return "**yellow**: " + ", ".join(yellow)
    return "green"


def _sources(ctx: _Context, board: Board) -> list[str]:
    parts = []
    for source in sorted(board.health, key=lambda h: (h.kind, h.name)):
        label = md_text(source.label)
        state = source.health
        if state is Health.OK:
            parts.append(f"{label} ok")
        elif state is Health.WAITING:
            parts.append(f"{label} no answer yet")
        else:
            since = f" since {ctx.clock(source.failing_since)}" if source.failing_since else ""
            shown = (f"showing its alerts as of {ctx.clock(source.last_ok)}"
                     if state is Health.STALE and source.last_ok
                     else "its alerts are missing from this report")
            parts.append(f"{label} **{state.value}**{since}: {md_text(source.error)}; {shown}")
    return parts


def _open_items(ctx: _Context, alerts: list[Alert], records: list[Record],
                key_labels: Sequence[str]) -> list[str]:
    if not alerts:
        return ["- Nothing open."]
    lines = []
    for alert in alerts[:MAX_OPEN_ITEMS]:
        labels = " ".join(md_code(f"{k}={alert.labels[k]}") for k in key_labels
                          if alert.labels.get(k))
        head = f"- [ ] **{md_text(alert.level)}** {md_code(alert.name or alert.fingerprint)}"
        head += f" {labels}" if labels else ""
        firing = f"firing for {_span(ctx.now - alert.starts_at)}"
        if alert.state is AlertState.ACKED:
            acked_for = (f" {_span(ctx.now - alert.acked_at)} ago"
                         if alert.acked_at else "")
            state = f"{firing}, acknowledged by {md_text(alert.acked_by or 'someone')}{acked_for}"
            if _long_acked(alert, ctx.now):
                state += (f"; **acknowledged for over {_span(LONG_ACK)}: resolve it "
                          "or hand it over explicitly**")
        else:
            state = f"{firing}, **not acknowledged**"
        summary = md_text(alert.summary, 300)
        if summary and summary[-1] not in ".!?":
            summary += "."
        lines.append(f"{head}: " + (f"{summary} " if summary else "") + f"{state[0].upper()}"
                     f"{state[1:]}.")
        lines += _item_details(ctx, alert, records)
    rest = alerts[MAX_OPEN_ITEMS:]
    if rest:
        counts: dict[str, int] = {}
        for alert in rest:
            counts[alert.level] = counts.get(alert.level, 0) + 1
        per_level = ", ".join(f"{md_text(k)} {v}" for k, v in counts.items())
        lines.append(f"- … and {len(rest)} more open alerts ({per_level}): "
                     f"{md_code('shiftdeck alerts')} lists them all.")
    return lines


def _item_details(ctx: _Context, alert: Alert, records: list[Record]) -> list[str]:
    """Nested under an open item: its latest status update (and when the next is due), and
    its latest notes of this firing."""
    lines = []
    this_firing = [r for r in records if alert.starts_at <= r.at <= ctx.now]
    level = next((lvl for lvl in ctx.policy.levels if lvl.level == alert.level), None)
    due = next_update_due(this_firing, alert, level, ctx.now)
    update = last_status_update(this_firing, alert.fingerprint)
    if update is not None or due is not None:
        text = "no status update yet" if update is None else (
            f"last status update {ctx.clock(update.at)} by {md_text(update.user)}: "
            f"{md_text(update.status or '?')}")
        if due is not None and due < ctx.now:
            text += f"; **update overdue** since {ctx.clock(due)}"
        elif due is not None:
            text += f"; next update due {ctx.clock(due)}"
        lines.append(f"  - {text}")
    notes = notes_for(this_firing, alert.fingerprint)
    for note in notes[-NOTES_PER_ITEM:]:
        lines += _note_lines(ctx, note, with_alert=False, indent="  ")
    if len(notes) > NOTES_PER_ITEM:
        lines.append(f"  - {len(notes) - NOTES_PER_ITEM} earlier note(s) in Notes below")
    return lines


def _watch_items(ctx: _Context, board: Board, m: ShiftMetrics,
                 warn: timedelta) -> list[str]:
    rows = [r for r in silence_rows(board.silences.values(), board.alerts.values(), ctx.now,
                                    warn, acks_extended=True)
            if not r.silence.is_ack and r.silence.state is not SilenceState.EXPIRED]
    entries: list[tuple[tuple, str]] = []
    for row in rows:
        s = row.silence
        matchers = md_code("{" + ", ".join(str(x) for x in s.matchers) + "}")
        who = (f" Comment by {md_text(s.created_by)}: {md_text(s.comment, 200)}" if s.comment
               else f" Created by {md_text(s.created_by)}.")
        head = f"- Silence {md_code(s.id[:8])} {matchers}"
        if s.state is SilenceState.PENDING:
            text = (f"{head} scheduled: starts {ctx.clock(s.starts_at)} for "
                    f"{_span(s.ends_at - s.starts_at)}.{who}")
            entries.append(((2, s.starts_at, s.id), text))
        elif row.expiring_soon:
            silencing = ("matches nothing" if row.matches_nothing
                         else f"silencing {row.silencing} alert(s)")
            text = (f"{head} ends {ctx.clock(s.ends_at)} (in "
                    f"{_span(s.ends_at - ctx.now)}), {silencing}.{who}")
            entries.append(((0, s.ends_at, s.id), text))
        elif row.matches_nothing:
            text = (f"{head} matches nothing (ends {ctx.clock(s.ends_at)}): expire it or "
                    f"check its matchers.{who}")
            entries.append(((1, s.ends_at, s.id), text))
    lines = [text for _, text in sorted(entries)]
    for name, count in m.noisiest:
        if count >= NOISY:
            lines.append(f"- {md_code(name)} fired {count} times this shift: a candidate for "
                         "tuning.")
    return lines or ["- Nothing to watch."]


def _incidents(ctx: _Context, m: ShiftMetrics, levels: tuple[str, ...],
               records: list[Record]) -> list[str]:
    """Per P1/P2 firing: when it fired, the levels it escalated to (by shiftdeck's ladder or
    by PagerDuty) and who was paged, who acknowledged it and how soon, how long it lasted."""
    chosen = [e for e in m.episodes
              if e.level in levels and not e.muted and m.since <= e.start <= m.until]
    if not chosen:
        return [f"- No {' or '.join(md_text(lvl) for lvl in levels)} incidents this shift."]
    by_pager: dict[str, list[PagerEscalated]] = {}
    for record in records:
        if isinstance(record, PagerEscalated) and record.alert is not None:
            by_pager.setdefault(record.fingerprint, []).append(record)
    rows: dict[tuple[str, ...], int] = {}
    for e in chosen:  # alerts of one name that fired, were handled and ended together: one row
        pager = [r for r in by_pager.get(e.fingerprint, ())
                 if e.start <= r.at <= (e.ended or ctx.now)]
        row = (md_text(e.level), md_code(e.alertname or e.fingerprint, True), ctx.when(e.start),
               _escalated(ctx, e, pager), _acked(e), _duration(ctx, e))
        rows[row] = rows.get(row, 0) + 1
    lines = ["| Level | Alert | Fired | Escalated to | Acknowledged | Duration |",
             "|---|---|---|---|---|---|"]
    for (level, name, *rest), count in rows.items():
        name += f" ×{count}" if count > 1 else ""
        lines.append("| " + " | ".join((level, name, *rest)) + " |")
    return lines


def _escalated(ctx: _Context, e: Episode, pager: list[PagerEscalated]) -> str:
    """``L2 Bob Okafor → L3 Erin Walsh by PagerDuty at 14:15``, in order of time; ``—`` when
    it never escalated."""
    steps = [(s.at, " ".join(md_text(p) for p in (s.level or "next level",
                                                   s.person or "nobody on call")))
             for s in e.escalations]
    steps += [(r.at, " ".join(md_text(p) for p in (r.to_level, r.person or "nobody") if p)
               + f" by PagerDuty at {ctx.clock(r.at)}") for r in pager]
    return " → ".join(text for _, text in sorted(steps, key=lambda step: step[0])) or "—"


def _acked(e: Episode) -> str:
    """``bob after 18m``; ``not acknowledged``."""
    if e.acked is None:
        return "not acknowledged"
    who = md_text(e.acked_by) or "someone"
    return f"{who} after {_span(e.time_to_ack)}" if e.time_to_ack is not None else who


def _duration(ctx: _Context, e: Episode) -> str:
    if e.duration is not None:
        return _span(e.duration)
    if e.ended is None:
        return f"open ({_span(ctx.now - e.start)} so far)"
    return "ended, unseen"


def _actions(ctx: _Context, records: list[Record]) -> list[str]:
    lines = []
    for group in group_actions(records):
        first = group[0]
        lines.append(f"- {ctx.when(first.at)} {md_text(first.user)}: {_action_text(ctx, group)}")
    return lines or ["- None recorded."]


def _action_text(ctx: _Context, group: tuple[Record, ...]) -> str:
    first = group[0]
    if len(group) == 1:
        return md_parts(describe_parts(first, ctx.zone))
    names = list(dict.fromkeys(r.alertname or r.fingerprint for r in group))
    shown = ", ".join(md_code(n) for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    verb = "acknowledged" if isinstance(first, Acked) else "un-acknowledged"
    note = f" ({md_text(first.text, 200)})" if first.text.strip() else ""
    return f"{verb} {len(group)} alerts: {shown}{more}{note}"


def _notes(ctx: _Context, records: list[Record]) -> list[str]:
    lines = []
    for note in (r for r in records if isinstance(r, NoteAdded)):
        lines += _note_lines(ctx, note, with_alert=True, indent="")
    return lines or ["- None."]


def _note_lines(ctx: _Context, note: Record, with_alert: bool, indent: str) -> list[str]:
    about = f" on {md_code(note.alertname)}" if with_alert and note.alertname else ""
    body = [line for line in clean(note.text).splitlines() if line.strip()] or [""]
    first = (f"{indent}- {ctx.when(note.at) if with_alert else 'note ' + ctx.clock(note.at)} "
             f"{md_text(note.user)}{about}: {md_text(body[0])}")
    return [first] + [f"{indent}  {md_text(line, line_start=True)}" for line in body[1:]]


def _next_on_call(ctx: _Context, roster: Roster | None) -> list[str]:
    roles = roster.roles() if roster is not None else ()
    if roster is None or not roles:
        return ["- No roster configured (people and rotations, or schedules_ics)."]
    lines = ["| Role | Now | Next | From |", "|---|---|---|---|"]
    for role in roles:
        now_holding = roster.holding(role, ctx.now)
        upcoming = roster.next_handoff(role, ctx.now)
        if upcoming is None:
            nxt, start = "no change in the next 8 weeks", ""
        else:
            nxt, start = _who(upcoming), (ctx.when(upcoming.start)
                                          if upcoming.start < DISTANT_FUTURE else "")
        lines.append(f"| {md_text(role)} | {_who(now_holding)} | {nxt} | {start} |")
    return lines


def _who(holding: Holding) -> str:
    if holding.person is None:
        return "nobody (coverage gap)"
    return _person(holding.person)


def _person(person: Person) -> str:
    text = md_text(person.label)
    return f"{text} {md_text(person.phone)}" if person.phone else text


def _long_acked(alert: Alert, now: datetime) -> bool:
    return (alert.state is AlertState.ACKED and alert.acked_at is not None
            and now - alert.acked_at > LONG_ACK)


def _maybe(delta: timedelta | None) -> str:
    return "—" if delta is None else _span(delta)


def _span(delta: timedelta) -> str:
    """A duration for people reading a report: whole minutes (4h46m, 1d6h, 2h), seconds only
    under a minute."""
    if delta >= timedelta(minutes=1):
        delta -= timedelta(seconds=delta.total_seconds() % 60)
    return format_duration(delta)


# --------------------------------------------------------------------------- #
# Markdown-safe text
# --------------------------------------------------------------------------- #

_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_BLOCK_START = re.compile(r"^([#>+=-]|\d+[.)])")
_TICKS = re.compile(r"`+")


def md_text(text: object, limit: int = 2000, line_start: bool = False) -> str:
    """Untrusted text as Markdown that shows exactly that text, on one line: control
    characters removed, whitespace runs collapsed, inline punctuation (``\\ ` * _ [ ] < > | ~``)
    escaped; with ``line_start`` (the text begins a line), a start that would open a heading,
    quote or list (``#``, ``>``, ``-``, ``+``, ``=``, ``1.``) escaped too."""
    line = " ".join(clean_line(text, limit).split())
    line = _INLINE.sub(r"\\\1", line)
    if not line_start:
        return line
    return _BLOCK_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], line)


def md_code(text: object, table: bool = False) -> str:
    """Untrusted text as one code span: a backtick fence longer than any run inside, padded
    when the text starts or ends with a backtick; in a table cell, ``|`` escaped (GFM)."""
    line = clean_line(text, 2000).strip()
    if not line:
        return "—"
    fence = "`" * (max((len(run) for run in _TICKS.findall(line)), default=0) + 1)
    if line.startswith("`") or line.endswith("`"):
        line = f" {line} "
    if table:
        line = line.replace("|", "\\|")
    return f"{fence}{line}{fence}"


def md_parts(parts: Iterable[tuple[str, bool]]) -> str:
    """journal.describe_parts as Markdown: literal pieces as code, the rest escaped."""
    out = []
    for text, literal in parts:
        if literal:
            out.append(md_code(text))
        else:
            lead = " " if text[:1].isspace() else ""
            tail = " " if text[-1:].isspace() and text.strip() else ""
            out.append(lead + _INLINE.sub(r"\\\1", " ".join(clean_line(text).split())) + tail)
    return "".join(out)

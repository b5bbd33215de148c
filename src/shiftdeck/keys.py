"""Every key shiftdeck binds, in one table: the keymap check, the help screen and the palette read it.

Textual-free so that `shiftdeck check` can validate a `keymap:` without starting the UI. Each
binding in app.py, screens/ and widgets/ carries the `id` of one row here with the same default
keys (tests/test_keys.py holds them together). A `keymap:` entry names an id and gives it new keys
("n,j"); keys of the same scope must not collide, and the app's global keys work in every scope.
"""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class KeyAction:
    id: str
    keys: str  # Textual key names, comma separated: "down,j"
    scope: str  # GLOBAL, or the screen the key works on
    group: str  # what the key is for, as the help screen groups it
    description: str


def _k(id: str, keys: str, scope: str, group: str, description: str) -> KeyAction:
    return KeyAction(id, keys, scope, group, description)


KEYS: tuple[KeyAction, ...] = (
    # everywhere
    _k("quit", "q", GLOBAL, "Move around", "Quit shiftdeck (on the dashboard)"),
    _k("go_back", "q", GLOBAL, "Move around", "Back (on any other screen; so is esc)"),
    _k("quit_anywhere", "ctrl+c,ctrl+q", GLOBAL, "Move around",
       "Quit from any screen (asks first while a write or a command runs)"),
    _k("help", "question_mark", GLOBAL, "Move around", "List every key"),
    _k("palette", "colon,ctrl+p", GLOBAL, "Move around", "Command palette: every action by name"),
    _k("theme", "t", GLOBAL, "Look", "Next theme"),
    _k("refresh", "ctrl+r", GLOBAL, "Look", "Poll every source now"),
    _k("show_oncall", "O", GLOBAL, "Shift", "Who is on call, the next weeks, coverage gaps"),
    # the alert table
    _k("cursor_down", "down,j", "dashboard", "Move around", "Next alert"),
    _k("cursor_up", "up,k", "dashboard", "Move around", "Previous alert"),
    _k("page_down", "pagedown", "dashboard", "Move around", "Page down"),
    _k("page_up", "pageup", "dashboard", "Move around", "Page up"),
    _k("first", "home", "dashboard", "Move around", "First alert"),
    _k("last", "end", "dashboard", "Move around", "Last alert"),
    _k("detail", "enter", "dashboard", "Investigate", "The alert in full"),
    _k("focus_detail", "tab", "dashboard", "Move around",
       "Into the detail pane and back (scroll it with the arrows)"),
    # the dashboard
    _k("filter", "slash", "dashboard", "Find", "Filter with matchers"),
    _k("group", "g", "dashboard", "Find", "Cycle grouping: none, alertname, namespace"),
    _k("back", "escape", "dashboard", "Find", "Clear the filter"),
    _k("clear_filter", "escape", "filter", "Find", "Clear the filter"),
    _k("ack_alert", "a", "dashboard", "Act", "Acknowledge the highlighted (or marked) alerts and their PagerDuty incidents"),
    _k("ack_group", "A", "dashboard", "Act", "Acknowledge the alert's whole group (one silence)"),
    _k("mark", "space", "dashboard", "Act", "Mark / unmark the alert"),
    _k("silence_alert", "s", "dashboard", "Act", "Silence the highlighted (or marked) alerts"),
    _k("unack", "U", "dashboard", "Act", "Expire the alert's ACK! silence"),
    _k("resolve_incident", "R", "dashboard", "Act",
       "Resolve the row's PagerDuty incident (asks first)"),
    _k("snooze_incident", "Z", "dashboard", "Act",
       "Snooze the row's PagerDuty incident: 15m, 30m, 1h or 4h"),
    _k("show_silences", "S", "dashboard", "Act", "List silences"),
    _k("toggle_detail", "z", "dashboard", "Look", "Hide / show the detail pane"),
    _k("runbook", "r", "dashboard", "Investigate", "The alert's runbook, its commands runnable inline"),
    _k("diagnostics", "d", "dashboard", "Investigate", "Kubernetes: pods, events, logs, rollout history"),
    _k("add_note", "n", "dashboard", "Shift", "Add a note to the alert (journal)"),
    _k("status_update", "u", "dashboard", "Shift", "Compose a status update for the alert"),
    _k("handoff", "H", "dashboard", "Shift", "Preview, copy or save the handoff report"),
    _k("shift_metrics", "M", "dashboard", "Shift", "This shift's numbers: MTTA, MTTR, noisiest alerts"),
    # the silences screen (it moves with the alert table's ids: cursor_down, first, ...)
    _k("close_silences", "escape", "silences", "Move around", "Back to the dashboard"),
    _k("silence_alerts", "enter", "silences", "Find", "Its alerts: the dashboard, filtered by its matchers"),
    _k("sort_silences", "o", "silences", "Look", "Sort by end time / newest first"),
    _k("extend_silence", "e", "silences", "Act", "Extend the silence (same ID)"),
    _k("expire_silence", "x", "silences", "Act", "Expire the silence"),
    # pages (detail, shift, on-call), diagnostics, logs, runbook, status update
    _k("page_down_line", "j", "page", "Move around", "Scroll down"),
    _k("page_up_line", "k", "page", "Move around", "Scroll up"),
    _k("pod_logs", "l", "diagnostics", "Investigate", "The pod's logs, full screen"),
    _k("previous_logs", "p", "diagnostics", "Investigate", "The previous container's logs"),
    _k("logs_previous", "p", "logs", "Investigate", "Previous container / current one"),
    _k("logs_wrap", "w", "logs", "Look", "Wrap long lines"),
    _k("logs_follow", "f", "logs", "Look", "Follow: read again every 2 s"),
    _k("logs_down", "j", "logs", "Move around", "Scroll down"),
    _k("logs_up", "k", "logs", "Move around", "Scroll up"),
    _k("zoom_output", "z", "runbook", "Look", "The command's output full screen"),
    _k("update_page_down", "pagedown", "status_update", "Move around", "Scroll the preview down"),
    _k("update_page_up", "pageup", "status_update", "Move around", "Scroll the preview up"),
)

BY_ID: dict[str, KeyAction] = {action.id: action for action in KEYS}


def split_keys(keys: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in keys.split(",") if key.strip())


def keymap_problems(keymap: dict[str, str] | None) -> list[str]:
    """What is wrong with a `keymap:` (unknown ids, keys taken from another action), as sentences
    naming the key path; empty when it is fine. Other screens' own keys (escape, y/n on a confirm)
    are not remappable and are not in this table."""
    return [f"keymap.{name}: {reason}" for name, reason in keymap_issues(keymap)]


def keymap_issues(keymap: dict[str, str] | None) -> list[tuple[str, str]]:
    """keymap_problems as (id the user wrote, what is wrong), for callers that locate the id."""
    keymap = dict(keymap or {})
    issues = [(name, f"no such action; valid ids: {', '.join(sorted(BY_ID))}")
              for name in keymap if name not in BY_ID]
    bound: dict[tuple[str, str], str] = {}
    for action in KEYS:
        for key in split_keys(keymap.get(action.id, action.keys)):
            for scope in _scopes_of(action.scope):
                other = bound.setdefault((scope, key), action.id)
                if (other != action.id and (action.id in keymap or other in keymap)
                        and frozenset((other, action.id)) not in _ONE_KEY_BY_DESIGN):
                    mine, theirs = (other, action.id) if other in keymap else (action.id, other)
                    issue = (mine, f"{key!r} is already the key of {theirs!r} "
                             f"({BY_ID[theirs].description}); rebind {theirs} too, "
                             f"or choose another key")
                    if issue not in issues:  # a global key collides once per screen
                        issues.append(issue)
    return issues


_ONE_KEY_BY_DESIGN = {frozenset(("quit", "go_back"))}
"""Pairs that share a key on purpose: `q` quits on the dashboard and goes back elsewhere."""


def _scopes_of(scope: str) -> tuple[str, ...]:
    scopes = sorted({action.scope for action in KEYS} - {GLOBAL})
    return tuple(scopes) if scope == GLOBAL else (scope,)

"""An alert storm, in the domain and on the dashboard: 1,000 of 10,000 alerts change per poll
(500 fire, 500 resolve). What the Shift holds must stay bounded, every resolution must still be
journaled, and the table must show the resolved ones as one row (frozen clock throughout)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from functools import partial
from datetime import timedelta

import pytest

from shiftdeck.domain.alerts import Alert, AlertState
from shiftdeck.domain.board import RESOLVED_KEPT, SourceReport
from shiftdeck.domain.journal import AlertRef, NoteAdded, RecordIndex
from shiftdeck.domain.matchers import parse_matchers
from shiftdeck.domain.shift import (MEMORY_RECORDS, AlertResolved, Shift, ShiftPolicy,
                                    journal_records)
from shiftdeck.domain.view import RESOLVED_KEY, AlertRow, Grouping, ResolvedRow, select_rows
from shiftdeck.screens.dashboard import THREADED_ROWS_FROM
from shiftdeck.widgets.alert_table import AlertTable

from .support.app_factory import SEED_ALERTS, make_app, report
from .support.factories import NOW, make_alert
from .support.helpers import ROSTER_YAML, config_for
from .support.waiting import wait_until

ALERTS = 10_000
CHANGES = 1_000
BOARDS = 50
STEP = timedelta(seconds=2)
SEVERITIES = ("critical", "warning", "info")


def _alert(n: int) -> Alert:
    return make_alert(f"Storm{n % 40}", SEVERITIES[n % 3], pod=f"pod-{n}", namespace=f"ns-{n % 7}")


def _storm(boards: int) -> Iterator[tuple[int, tuple[Alert, ...]]]:
    """Each poll's alerts: the oldest CHANGES // 2 resolve, as many new ones fire."""
    firing = list(range(ALERTS))
    made = {n: _alert(n) for n in firing}
    yield 0, tuple(made.values())
    for board in range(1, boards + 1):
        gone, firing = firing[:CHANGES // 2], firing[CHANGES // 2:]
        new = list(range(ALERTS + (board - 1) * CHANGES // 2, ALERTS + board * CHANGES // 2))
        firing += new
        for n in gone:
            del made[n]
        made.update((n, _alert(n)) for n in new)
        yield board, tuple(made.values())


def _shift() -> Shift:
    config = config_for(["http://127.0.0.1:9"], extra=ROSTER_YAML)
    return Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                 config.roster)


def _reports(alerts: tuple[Alert, ...], at) -> dict[str, SourceReport]:
    return {"alertmanager/am0": SourceReport("am0", "alertmanager", alerts, at)}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_steady_storm_keeps_the_shift_bounded_and_journals_every_resolution() -> None:
    shift = _shift().journal_read((), NOW).shift
    sizes = []
    for board, alerts in _storm(BOARDS):
        now = NOW + board * STEP
        step = shift.apply(_reports(alerts, now), (), now)
        shift = step.shift.journaled(journal_records(step.events, "alice", now), now)
        resolved = [e for e in step.events if isinstance(e, AlertResolved)]
        assert len(resolved) == (CHANGES // 2 if board else 0), "every resolution journaled"
        kept = [a for a in shift.board.alerts.values() if a.state is AlertState.RESOLVED]
        assert len(kept) <= RESOLVED_KEPT
        assert shift.board.resolved_count == board * CHANGES // 2
        assert len(shift.board.resolved_uncounted) <= board  # one entry per poll at most
        assert len(shift.records) <= MEMORY_RECORDS
        assert shift.escalations.keys() <= shift.board.alerts.keys()
        assert shift.update_at.keys() <= shift.board.alerts.keys()
        sizes.append((len(shift.board.alerts), len(shift.escalations)))
    # Flat once steady: the board holds the firing alerts and the capped resolved ones.
    assert {alerts for alerts, _ in sizes[2:]} == {ALERTS + RESOLVED_KEPT}
    assert max(escalated for _, escalated in sizes) <= ALERTS

    rows = select_rows(shift.board.alerts.values(), (), Grouping.NONE,
                       shift.policy.severity, retention=timedelta(minutes=10),
                       uncounted=sum(shift.board.resolved_uncounted.values()))
    assert rows[-1] == ResolvedRow(BOARDS * CHANGES // 2, timedelta(minutes=10))
    assert rows[-1].text.startswith("25,000 resolved in the last 10m")
    assert sum(isinstance(r, AlertRow) for r in rows) == ALERTS
    listed = select_rows(shift.board.alerts.values(), parse_matchers("@state=resolved"),
                         Grouping.NONE, shift.policy.severity)
    assert len(listed) == RESOLVED_KEPT and all(isinstance(r, AlertRow) for r in listed)

    # Past the retention the count drains to nothing.
    later = NOW + BOARDS * STEP + timedelta(minutes=10)
    final = shift.apply(_reports(alerts, later), (), later).shift
    assert final.board.resolved_count == 0 and not final.board.resolved_uncounted


@pytest.mark.slow
def test_the_note_index_keeps_the_alerts_written_about_last() -> None:
    """Notes for more alerts than the index keeps: the oldest alerts' notes are forgotten
    (the journal file keeps them), the newest are found at once."""
    index = RecordIndex()
    first = last = None
    for n in range(RecordIndex.MAX_ALERTS + 500):
        alert = _alert(n)
        note = NoteAdded(NOW, "alice", AlertRef.of(alert), f"note {n}")
        index = index.added([note])
        first = first or alert
        last = alert
    assert index.notes(first.fingerprint) == ()
    assert [r.text for r in index.notes(last.fingerprint)] == [f"note {RecordIndex.MAX_ALERTS + 499}"]


def test_a_few_resolved_alerts_stay_rows_of_their_own() -> None:
    shift = _shift()
    alerts = tuple(_alert(n) for n in range(12))
    shift = shift.apply(_reports(alerts, NOW), (), NOW).shift
    shift = shift.apply(_reports(alerts[:9], NOW + STEP), (), NOW + STEP).shift
    rows = select_rows(shift.board.alerts.values(), (), Grouping.NONE, shift.policy.severity)
    assert [isinstance(r, AlertRow) for r in rows] == [True] * 12


@pytest.mark.slow
async def test_many_resolved_show_as_one_row_that_lists_them_on_enter() -> None:
    storm = [make_alert("Storm", "warning", pod=f"p{n}") for n in range(RESOLVED_KEPT + 100)]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(report((*SEED_ALERTS, *storm)))
        await wait_until(pilot, lambda: len(app.dashboard.visible_alerts) == len(SEED_ALERTS)
                         + len(storm))
        app.post_message(report(SEED_ALERTS, at=NOW + STEP))  # the storm resolved at once
        table = app.dashboard.query_one(AlertTable)
        await wait_until(pilot, lambda: table.rows and table.rows[-1].key == RESOLVED_KEY)
        assert len(table.rows) == len(SEED_ALERTS) + 1
        assert table.rows[-1].count == len(storm)  # 500 kept one by one, 100 only counted

        await pilot.press("end")
        assert table.cursor_key == RESOLVED_KEY
        assert app.dashboard.targets() == [] and app.dashboard.group_of_highlighted() == []
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.dashboard.visible_alerts) == RESOLVED_KEPT)
        assert app.dashboard.query_one("#filter-input").value == "@state=resolved"

        before = table.mutations  # and a poll where nothing changed touches no row
        app.post_message(report(SEED_ALERTS, at=NOW + 2 * STEP))
        await pilot.pause()
        assert table.mutations == before


@pytest.mark.slow
async def test_the_rows_worker_is_given_no_shift() -> None:
    """A finished Textual worker can stay in a reference cycle (through its task's context)
    until a full collection, with all it was given: the worker that selects rows in a thread
    reads the Shift itself, so no worker keeps one (and a board of alerts) alive."""
    storm = tuple(_alert(n) for n in range(THREADED_ROWS_FROM))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(report((*SEED_ALERTS, *storm)))
        await wait_until(pilot, lambda: len(app.dashboard.visible_alerts) > len(storm))
        shown = len(app.dashboard.visible_alerts)
        app.post_message(report((*SEED_ALERTS, *storm, _alert(-1)), at=NOW + STEP))
        await wait_until(pilot, lambda: len(app.dashboard.visible_alerts) == shown + 1)
        given = [work for work in gc.get_objects() if isinstance(work, partial)
                 and any(isinstance(arg, Shift) for arg in work.args)]
        assert given == []


def test_more_resolving_at_once_than_the_board_keeps_are_all_journaled() -> None:
    alerts = tuple(_alert(n) for n in range(RESOLVED_KEPT + 100))
    shift = _shift().journal_read((), NOW).shift
    shift = shift.apply(_reports(alerts, NOW), (), NOW).shift
    step = shift.apply(_reports((), NOW + STEP), (), NOW + STEP)
    records = journal_records(step.events, "alice", NOW + STEP)
    assert len(records) == len(alerts)
    assert {r.fingerprint for r in records} == {a.fingerprint for a in alerts}
    assert step.shift.board.resolved_count == len(alerts)

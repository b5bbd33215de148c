import pytest
"""Notes, status updates, the handoff and shift screens, and a journal that never loses a record."""

import errno
from datetime import timedelta

from shiftdeck.domain.journal import Kind
from shiftdeck.messages import StatusUpdatePosted
from shiftdeck.screens.handoff import HandoffScreen
from shiftdeck.screens.shift import ShiftScreen
from shiftdeck.screens.status_update import StatusUpdateScreen
from shiftdeck.widgets.alert_detail import AlertDetail

from .support.app_factory import SEED_ALERTS, loaded, make_app
from .support.screen import screen_text
from .support.waiting import wait_until

DUE = "✎ update due"


def _row(app, name: str) -> str:
    """The table row of alert `name`, as drawn (a long name is cut to its column)."""
    return next(line for line in screen_text(app).splitlines() if name[:20] in line)


async def _journal_lines(app):
    return app.journal.read().records


@pytest.mark.slow
async def test_n_adds_a_note_shown_in_the_detail_pane_and_written_to_the_journal():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("n", *"restarted backend-1 [b]not markup[/b]", "enter")
        await wait_until(pilot, lambda: not app.keeper.unwritten and not app.keeper.writing)
        detail = str(app.dashboard.query_one(AlertDetail).render())
        assert "alice: restarted backend-1 [b]not markup[/b]" in detail
    (record,) = [r for r in app.journal.read().records if r.kind is Kind.NOTE]
    assert record.fingerprint == SEED_ALERTS[0].fingerprint and record.user == "alice"


@pytest.mark.slow
async def test_u_composes_a_status_update_copies_and_journals_it():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("u")
        assert isinstance(app.screen, StatusUpdateScreen)
        await pilot.press(*"checkout fails for 5% of users", "enter")
        await wait_until(pilot, lambda: any(r.kind is Kind.STATUS_UPDATE for r in app.records))
        (update,) = [r for r in app.records if r.kind is Kind.STATUS_UPDATE]
        assert "Status: Investigating" in update.text
        assert "checkout fails for 5% of users" in update.text
        assert any("copied to the clipboard" in n for n in app.notified)


async def test_a_p1_row_says_when_its_status_update_is_due_and_stops_after_one():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)  # QAWaveBackendDown fired 12 minutes ago; P1 updates every 15m
        name = SEED_ALERTS[0].name
        assert DUE not in _row(app, name)
        app.clock.advance(timedelta(minutes=4))
        app.tick()
        await wait_until(pilot, lambda: DUE in _row(app, name))
        app.post_message(StatusUpdatePosted(app.shift.board.alerts[SEED_ALERTS[0].fingerprint],
                                            "Investigating", "update"))
        await wait_until(pilot, lambda: DUE not in _row(app, name))


@pytest.mark.slow
async def test_a_row_already_due_is_marked_in_the_first_frame_not_at_the_next_tick():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)  # DatabaseConnectionPoolExhausted: P2 (every 30m), firing 130m
        pool = next(a for a in SEED_ALERTS if a.name == "DatabaseConnectionPoolExhausted")
        assert DUE in _row(app, pool.name)


@pytest.mark.slow
async def test_H_previews_the_handoff_report():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("H")  # made in a thread: shown once made
        await wait_until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        assert "## On-Call Handoff" in app.screen.markdown
        assert "QAWaveBackendDown" in app.screen.markdown
        await pilot.press("c")
        assert any("Handoff report copied" in n for n in app.notified)


async def test_alerts_firing_at_start_are_journaled_once_the_second_after_the_table():
    from shiftdeck.domain.alerts import AlertState

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)  # the table, then the next second's tick
        await wait_until(pilot, lambda: not app.keeper.unwritten and not app.keeper.writing)
        app.tick()
        await pilot.pause()
    seen = [r for r in app.journal.read().records if r.kind is Kind.FIRING]
    firing = [a.fingerprint for a in SEED_ALERTS if a.state is not AlertState.PENDING]
    assert sorted(r.fingerprint for r in seen) == sorted(firing)
    assert all(r.seen_at_start for r in seen)


async def test_M_shows_the_shift_metrics():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("M")
        await wait_until(pilot, lambda: isinstance(app.screen, ShiftScreen))
        assert "MTTA" in str(app.screen.query_one("#shift").render())


@pytest.mark.slow
async def test_a_full_disk_loses_no_record_it_retries_and_says_so(monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        real_extend, full = app.journal.extend, [True]

        def extend(records):
            if full[0]:
                raise OSError(errno.ENOSPC, "No space left on device")
            real_extend(records)

        monkeypatch.setattr(app.journal, "extend", extend)
        monkeypatch.setattr("shiftdeck.services.journal_keeper.RETRY_SECONDS", 0.2)
        await pilot.press("n", *"kept", "enter")
        await wait_until(pilot, lambda: any("Journal not written" in n
                                            for n in app.notified))
        assert [r.text for r in app.keeper.unwritten] == ["kept"]
        full[0] = False
        await wait_until(pilot, lambda: not app.keeper.unwritten)
    assert [r.text for r in app.journal.read().records if r.kind is Kind.NOTE] == ["kept"]

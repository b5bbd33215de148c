"""Acknowledge, silence and expire from the keyboard, against a real Alertmanager."""

import re
from datetime import datetime, timedelta

from textual.widgets import Checkbox

from shiftdeck.app import ShiftdeckApp
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.journal import Kind
from shiftdeck.messages import AckRequested
from shiftdeck.screens.confirm import ConfirmScreen
from shiftdeck.screens.silence_form import SilenceForm
from shiftdeck.screens.silences import SilencesScreen

from .support.app_factory import make_app
from .support.waiting import wait_for_polls, wait_until, writes_done

CRITICAL = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}
WARNING = {"alertname": "HighLatency", "severity": "warning", "namespace": "qawave"}


def _app(am, clock=None, **config) -> ShiftdeckApp:
    return make_app(roster=False, alertmanagers=[am.url], live=True, clock=clock,
                    **{"refresh": "1s", **config})


def _state(app, name):
    return next(a for a in app.shift.board.alerts.values() if a.name == name)


async def _loaded(pilot, app, count):
    await wait_until(pilot, lambda: len(app.shift.board.alerts) == count)


async def test_a_acks_the_highlighted_alert_with_an_ACK_silence(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 1)
        await pilot.press("a")
        await wait_until(pilot, lambda: _state(app, "BackendDown").state is AlertState.ACKED)
        assert _state(app, "BackendDown").acked_by == "alice"
    (silence,) = alertmanager.silences()
    assert silence["comment"].startswith("ACK! alice via shiftdeck at ")
    assert silence["createdBy"] == "alice"
    assert {(m["name"], m["value"]) for m in silence["matchers"]} == set(CRITICAL.items())


async def test_space_marks_and_a_acks_every_marked_alert(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}, {"labels": WARNING},
                              {"labels": {**WARNING, "alertname": "Other"}}])
    alertmanager.wait_for_alerts(3)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 3)
        await pilot.press("space", "space", "a")  # marks the first two, acks both
        await wait_until(pilot, lambda: sum(a.state is AlertState.ACKED
                                            for a in app.shift.board.alerts.values()) == 2)
    assert len(alertmanager.silences()) == 2


async def test_A_acks_the_whole_group_with_one_silence(alertmanager):
    alertmanager.push_alerts([{"labels": {**WARNING, "pod": f"api-{i}"}} for i in range(5)])
    alertmanager.wait_for_alerts(5)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 5)
        await pilot.press("A")
        await wait_until(pilot, lambda: all(a.state is AlertState.ACKED
                                            for a in app.shift.board.alerts.values()))
    (silence,) = alertmanager.silences()
    assert {m["name"] for m in silence["matchers"]} == {"alertname", "severity", "namespace"}


async def test_failed_ack_shows_why_and_leaves_no_acked_state(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager, refresh="60s")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 1)
        alertmanager.kill()
        await pilot.press("a")
        await wait_until(pilot, lambda: any("failed" in n for n in app.notified))
        message = next(n for n in app.notified if "failed" in n)
        assert "unreachable" in message and "Press a to retry" in message
        assert _state(app, "BackendDown").state is AlertState.FIRING


async def test_U_unacks_after_confirming(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 1)
        await pilot.press("a")
        await wait_until(pilot, lambda: _state(app, "BackendDown").state is AlertState.ACKED)
        await pilot.press("U")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: _state(app, "BackendDown").state is AlertState.FIRING)
    (silence,) = alertmanager.silences()
    assert silence["status"]["state"] == "expired"
    assert f"Un-acked BackendDown: silence {silence['id'][:8]}… expired." in app.notified
    assert not any(n.startswith("Expire: done") for n in app.notified)


async def test_silence_form_refuses_p1_without_approver_then_creates_it(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 40)) as pilot:
        await _loaded(pilot, app, 1)
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SilenceForm)
        await pilot.press(*"deploy in progress", "ctrl+s")
        assert isinstance(app.screen, SilenceForm)
        refusal = str(form.query_one("#form-refusal").render())
        assert "approver is required" in refusal and "P1" in refusal
        form.query_one("#approver").value = "carol"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _state(app, "BackendDown").state is AlertState.SILENCED)
    (silence,) = alertmanager.silences()
    assert re.fullmatch(r"deploy in progress \(approved by carol\) \[sd:[0-9a-f]{10}\]",
                        silence["comment"])
    assert f"Silence {silence['id']} created (3 matcher(s))." in app.notified
    ends = datetime.fromisoformat(silence["endsAt"]) - datetime.fromisoformat(silence["startsAt"])
    assert ends <= timedelta(hours=1)


async def test_silence_form_preview_counts_matching_alerts(alertmanager):
    alertmanager.push_alerts([{"labels": {**WARNING, "pod": f"api-{i}"}} for i in range(3)])
    alertmanager.wait_for_alerts(3)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 40)) as pilot:
        await _loaded(pilot, app, 3)
        await pilot.press("s")
        form = app.screen
        assert "1 current alert(s) match" in str(form.query_one("#form-preview").render())
        pod = next(box for box in form.query(Checkbox) if str(box.label) == "pod")
        pod.value = False  # unticked, as a click on the "pod" matcher's box does
        await pilot.pause()
        assert "3 current alert(s) match" in str(form.query_one("#form-preview").render())


async def test_silences_screen_lists_and_expires(alertmanager):
    alertmanager.push_alerts([{"labels": WARNING}])
    alertmanager.wait_for_alerts(1)
    alertmanager.add_silence({"alertname": "HighLatency"}, comment="known issue")
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(app.shift.board.silences) == 1
                         and _state(app, "HighLatency").state is AlertState.SILENCED)
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SilencesScreen)
        assert screen.rows[0].silencing == 1
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: _state(app, "HighLatency").state is AlertState.FIRING)
    assert alertmanager.silences()[0]["status"]["state"] == "expired"


async def test_read_only_hides_write_keys_and_writes_nothing(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager, read_only="true")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 1)
        assert "READ-ONLY" in str(app.dashboard.query_one("#header").render())
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not keys & {"ack_alert", "ack_group", "silence_alert", "unack"}
        await pilot.press("a", "A", "s", "U")
        app.post_message(AckRequested(list(app.shift.board.alerts.values())))  # another way
        await wait_until(pilot, lambda: "Read-only: nothing was written." in app.notified)
        await writes_done(pilot, app)
    assert alertmanager.silences() == []


async def test_ack_is_extended_keeping_its_id_when_less_than_5_minutes_remain(alertmanager):
    # Due on the server's clock: an ACK! silence (karma's, say) with 4 minutes left.
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    first_id = alertmanager.add_silence(CRITICAL, duration=timedelta(minutes=4),
                                        comment="ACK! bob via karma", created_by="bob")
    (first,) = alertmanager.silences()
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: alertmanager.silences()[0]["endsAt"] != first["endsAt"])
        await wait_for_polls(pilot, app, 2)  # two more polls: no fork, no second extension
        await writes_done(pilot, app)
    silences = alertmanager.silences()
    assert [s["id"] for s in silences] == [first_id]
    new_end = datetime.fromisoformat(silences[0]["endsAt"])
    assert new_end >= datetime.fromisoformat(first["endsAt"]) + timedelta(minutes=10)


async def test_a_pressed_twice_writes_one_ack(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager, refresh="60s")
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 1)
        await pilot.press("a", "a")
        await wait_until(pilot, lambda: any("already acknowledged by alice" in n
                                            for n in app.notified))
        assert any(n == "Ack 1 alert(s): done." for n in app.notified)
    (silence,) = alertmanager.silences()
    assert silence["comment"].startswith("ACK! alice via shiftdeck at ")


async def test_each_ack_record_names_its_own_silence(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}, {"labels": WARNING}])
    alertmanager.wait_for_alerts(2)
    app = _app(alertmanager)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot, app, 2)
        await pilot.press("space", "space", "a")
        await wait_until(pilot, lambda: sum(r.kind is Kind.ACK for r in app.records) == 2)
    silence_of = {next(m["value"] for m in s["matchers"] if m["name"] == "alertname"): s["id"]
                  for s in alertmanager.silences()}
    for record in (r for r in app.records if r.kind is Kind.ACK):
        assert record.silence_ids == (silence_of[record.alertname],)
        assert record.data["duration"] == 900


async def test_acking_a_pending_alert_says_the_ack_matches_nothing_yet(alertmanager):
    from .support.app_factory import SEED_ALERTS, loaded

    app = make_app(alertmanagers=[alertmanager.url])  # the seed board; writes really go there
    pending = next(a for a in SEED_ALERTS if a.state is AlertState.PENDING)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        app.post_message(AckRequested([pending]))
        await wait_until(pilot, lambda: any("Ack 1 alert(s)" in n for n in app.notified))
    warning = next(n for n in app.notified if "pending" in n)
    assert warning == ("TaskQueueBackedUp is pending, not firing: Alertmanager has no such alert "
                       "yet, so the ACK! silence matches nothing now. It applies if the alert "
                       "fires within 15m.")
    assert len(alertmanager.silences()) == 1  # written all the same

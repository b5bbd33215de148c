"""Silence times are the server's: shiftdeck's clock 10 minutes off the real Alertmanager's
changes nothing Alertmanager sees, and the skew is shown (header) and told (CLI stderr)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from shiftdeck import cli
from shiftdeck.domain.clockskew import format_skew, noticeable

from .support.app_factory import make_app
from .support.helpers import config_for
from .support.waiting import wait_until

pytestmark = pytest.mark.timeout(90)

BACKEND = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}
SKEWS = [timedelta(minutes=10), -timedelta(minutes=10)]
IDS = ["ours-10m-ahead", "ours-10m-behind"]
ABOUT_10M = r"(9m5[89]|10m0[012])s"
"""The Date header has whole seconds."""


class SkewedClock:
    """This machine's clock, `ahead` of the real one (and of the Alertmanager's)."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def ends_at(silence: dict) -> datetime:
    return datetime.fromisoformat(silence["endsAt"])


@pytest.mark.parametrize("ahead", SKEWS, ids=IDS)
def test_cli_ack_is_active_at_once_and_lasts_ack_duration_on_the_servers_clock(
        alertmanager, ahead):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_ack(config_for([alertmanager.url], user="alice"), SkewedClock(ahead),
                       "BackendDown", out=out, err=err)
    assert code == 0, err.getvalue()
    (silence,) = alertmanager.silences()
    assert silence["status"]["state"] == "active"
    expected = datetime.now(UTC) + timedelta(minutes=15)
    assert abs(ends_at(silence) - expected) < timedelta(seconds=10)
    side = "ahead of" if ahead > timedelta(0) else "behind"
    assert re.search(rf"warning: this machine's clock is {ABOUT_10M} {side} cluster test's",
                     err.getvalue()), err.getvalue()


def test_cli_silence_starting_later_starts_then_on_the_servers_clock(alertmanager):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_silence(config_for([alertmanager.url], user="alice"),
                           SkewedClock(timedelta(minutes=10)), "BackendDown", "30m", "deploy",
                           approver="carol", start_text="+20m", out=out, err=err)
    assert code == 0, err.getvalue()
    (silence,) = alertmanager.silences()
    starts = datetime.fromisoformat(silence["startsAt"])
    assert abs(starts - (datetime.now(UTC) + timedelta(minutes=20))) < timedelta(seconds=10)


@pytest.mark.parametrize("ahead", SKEWS, ids=IDS)
async def test_tui_extends_an_ack_due_on_the_servers_clock_and_shows_the_skew(
        alertmanager, ahead):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    # 4 minutes left on the server's clock: due. On ours: 14 left, or over 6 minutes ago.
    silence_id = alertmanager.add_silence(BACKEND, duration=timedelta(minutes=4),
                                          comment="ACK! bob via karma", created_by="bob")
    (first,) = alertmanager.silences()
    app = make_app(roster=False, alertmanagers=[alertmanager.url], refresh="1s", live=True,
                   clock=SkewedClock(ahead))
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_until(pilot, lambda: ends_at(alertmanager.silences()[0]) > ends_at(first))
        header = str(app.dashboard.query_one("#header").render())
        sign = "[+]" if ahead > timedelta(0) else "-"
        assert re.search(rf"clock skew: test {sign}{ABOUT_10M}", header), header
    (extended,) = alertmanager.silences()
    assert extended["id"] == silence_id
    expected = datetime.now(UTC) + timedelta(minutes=15)
    assert abs(ends_at(extended) - expected) < timedelta(seconds=10)


def test_skews_are_shown_over_30_seconds_as_ours_minus_the_servers():
    server_minus_ours = {"prod": timedelta(minutes=-10, seconds=-2), "lab": timedelta(seconds=20),
                         "eu": timedelta(seconds=45)}
    assert [(c, format_skew(a)) for c, a in noticeable(server_minus_ours)] == [
        ("eu", "-45s"), ("prod", "+10m02s")]
    assert format_skew(timedelta(hours=2, minutes=5)) == "+2h5m"

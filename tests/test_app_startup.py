"""Start-up shows progress (issue 14): until the first alert source answers, the table says
whom it is loading alerts from; a failure before any answer says what failed in one line (the
banner says why); the table fills as soon as one source answers, even while an HA peer of the
same cluster still hangs."""

from __future__ import annotations

import socket
import threading

from shiftdeck.config import load_config_text
from shiftdeck.domain.health import SourceHealth
from shiftdeck.domain.view import Startup, failed_text, loading_text, source_names, startup_of

from .support.app_factory import NOWHERE, failure, loaded, make_app
from .support.factories import NOW
from .support.helpers import ROSTER_YAML
from .support.screen import screen_text
from .support.waiting import wait_until

PROD = [("am-1", "prod"), ("am-2", "prod")]


# -- the words, pure ------------------------------------------------------------------------- #

def test_sources_are_named_by_cluster_then_prometheus_and_sanitised():
    assert source_names(PROD + [("solo", "solo"), ("eu-1", "eu")], ["prometheus-main"]) == [
        "prod (am-1, am-2)", "solo", "eu (eu-1)", "prometheus-main"]
    (named,) = source_names([("am\x1b]0;pwned\x07-1", "p\x1b[2Jrod")], [])
    assert "\x1b" not in named and "\x07" not in named


def test_loading_names_every_source_that_fits():
    names = source_names(PROD, ["prometheus-main"])
    assert loading_text(names) == " loading alerts from prod (am-1, am-2) and prometheus-main…"
    assert loading_text(["prod"]) == " loading alerts from prod…"


def test_a_count_is_said_only_when_given():
    assert loading_text(["prod"], count=12400) == " loading 12,400 alerts from prod…"
    assert loading_text(["prod"], count=0) == " loading 0 alerts from prod…"


def test_too_many_sources_are_shortened_with_a_count_to_fit_the_width():
    names = [f"cluster-{n} (am-{n}a)" for n in range(8)]
    text = loading_text(names, width=80)
    assert len(text) <= 80
    assert text.startswith(" loading alerts from cluster-0 (am-0a), cluster-1 ")
    shown = text.count("cluster-")
    assert text.endswith(f" and {8 - shown} more…") and 0 < shown < 8
    wider = loading_text(names, width=200)
    assert wider.count("cluster-") == 8 and "more" not in wider


def test_a_name_too_long_for_the_width_is_cut():
    text = loading_text(["x" * 300], width=80)
    assert len(text) == 80 and text.endswith("…")


def test_the_width_is_measured_in_cells_by_the_caller():
    def cells(text):  # CJK takes two cells
        return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

    text = loading_text(["日本語クラスタ"] * 9, width=60, measure=cells)
    assert cells(text) <= 60 and text.endswith(" more…")


def test_failed_names_what_failed_and_points_at_the_reason_above():
    assert failed_text(["prod (am-1)"]) == " prod (am-1) failed before answering (why: above)"
    assert len(failed_text([f"c{n}" * 10 for n in range(20)], width=80)) <= 80


def _health(name, kind="alertmanager", ok=False, failed=False):
    return SourceHealth(name, kind, last_ok=NOW if ok else None,
                        failing_since=NOW if failed else None, error="x" if failed else "")


def test_startup_lasts_until_any_alert_source_answers():
    config = (PROD, ["prometheus-main"])
    assert startup_of(*config, ()) == Startup(("prod (am-1, am-2)", "prometheus-main"))
    assert startup_of(*config, (_health("am-1", failed=True),)) == Startup(
        ("prod (am-2)", "prometheus-main"), ("prod (am-1)",))
    assert startup_of(*config, (_health("am-2", ok=True),)) is None
    assert startup_of(*config, (_health("prometheus-main", "prometheus", ok=True),)) is None
    stale = SourceHealth("am-1", "alertmanager", last_ok=NOW, failing_since=NOW, error="x")
    assert startup_of(*config, (stale,)) is None  # it answered once: its alerts are shown
    assert startup_of((), (), ()) is None  # no alert source: nothing to wait for


def test_once_an_answer_is_in_its_count_is_said_while_the_rows_are_made():
    config = (PROD, ["prometheus-main"])
    answered = (_health("am-2", ok=True), _health("am-1", failed=True))
    startup = startup_of(*config, answered, count=12400)
    assert startup == Startup(("prod (am-2)",), count=12400)
    assert startup.lines(80) == (" loading 12,400 alerts from prod (am-2)…",)


def test_the_table_shows_loading_and_failure_as_lines():
    assert Startup(("a",), ("b",)).lines(80) == (" loading alerts from a…",
                                                 " b failed before answering (why: above)")
    assert Startup((), ("b",)).lines(80) == (" b failed before answering (why: above)",)


# -- the dashboard ----------------------------------------------------------------------------- #

def _lines(app) -> list[str]:
    return [line.rstrip() for line in screen_text(app).splitlines()]


def _config(*alertmanagers: tuple[str, str, str], prometheus: str = "", timeout: str = "3s"):
    lines = ["user: alice", ROSTER_YAML, "alertmanagers:"]
    lines += [f"  - {{name: {name}, url: '{url}', cluster: {cluster}, timeout: {timeout}}}"
              for name, cluster, url in alertmanagers]
    if prometheus:
        lines += ["prometheus:", f"  - {{name: {prometheus}, url: '{NOWHERE}'}}"]
    return load_config_text("\n".join(lines) + "\n", source="(test)")


def startup_config():
    """prod (am-1, am-2) and prometheus-main, none of which answers (nothing polls them)."""
    return _config(("am-1", "prod", NOWHERE), ("am-2", "prod", NOWHERE),
                   prometheus="prometheus-main")


async def test_before_any_answer_the_table_says_whom_it_loads_from_and_then_fills():
    app = make_app(config=startup_config())
    async with app.run_test(size=(80, 24)) as pilot:
        loading = " loading alerts from prod (am-1, am-2) and prometheus-main…"
        await wait_until(pilot, lambda: loading in _lines(app)[3:5])  # under the table's header
        await loaded(pilot)  # am0 answers (the seed board): rows replace the words
        await wait_until(pilot, lambda: app.dashboard.visible_alerts)
        assert "loading alerts" not in screen_text(app)


async def test_a_failure_before_any_answer_is_one_line_pointing_at_the_banner():
    app = make_app()  # am0 of cluster test
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(failure())
        await wait_until(pilot, lambda: "failed before answering" in screen_text(app))
        text = screen_text(app)
        assert text.count("connection refused") == 1  # the banner's reason, not repeated
        assert " test (am0) failed before answering (why: above)" in _lines(app)
        assert "loading alerts" not in text


class Hanging:
    """An upstream that accepts connections and never answers (until closed)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)

    def close(self) -> None:
        self._socket.close()
        for connection in self.accepted:
            connection.close()


async def test_the_table_fills_when_one_peer_answers_while_the_other_hangs(alertmanager):
    alertmanager.push_alerts([{"labels": {"alertname": "BackendDown", "severity": "critical"}}])
    alertmanager.wait_for_alerts(1)
    hanging = Hanging()
    try:
        config = _config(("am-1", "prod", alertmanager.url), ("am-2", "prod", hanging.url),
                         timeout="60s")
        app = make_app(config=config, live=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: hanging.accepted)  # am-2 was asked
            await wait_until(pilot, lambda: "BackendDown" in screen_text(app))
            assert [app.shift.board.alerts[key].name for key in app.dashboard.visible_alerts] \
                == ["BackendDown"]
            assert app.sources.health["alertmanager/am-2"].last_ok is None  # still hanging
            assert app.sources.health["alertmanager/am-2"].failing_since is None
            assert "loading alerts" not in screen_text(app)
    finally:
        hanging.close()



async def test_the_loading_line_is_in_the_first_paint_not_the_first_health_tick():
    """Regression: with no journal on disk nothing changed the Shift before the first answer,
    and the mount's own paint was skipped (not mounted yet), so the words waited for the
    dashboard's first health tick (TICK_SECONDS)."""
    from shiftdeck.screens.dashboard import DashboardScreen

    app = make_app(config=startup_config())
    async with app.run_test(size=(80, 24)) as pilot:
        loading = " loading alerts from prod (am-1, am-2) and prometheus-main…"
        await wait_until(pilot, lambda: loading in _lines(app)[3:5],
                         timeout=DashboardScreen.TICK_SECONDS / 2)

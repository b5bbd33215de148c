import pytest
"""`d`: Kubernetes diagnostics through the real client against the loopback API server."""

from shiftdeck.screens.diagnostics import DiagnosticsScreen
from shiftdeck.screens.log_view import LogViewScreen

from .support.app_factory import loaded, make_app
from .support.kube_server import CRASHING, NS, RESTARTED, cluster
from .support.screen import screen_text
from .support.waiting import wait_until


def _rows(screen, table_id):
    table = screen.query_one(table_id)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.slow
async def test_d_shows_pods_events_rollout_history_and_logs(tmp_path):
    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)  # QAWaveBackendDown: namespace qawave, service backend
            await pilot.press("d")
            screen = app.screen
            assert isinstance(screen, DiagnosticsScreen)
            await wait_until(pilot, lambda: screen.pods)
            pods = {row[0]: row for row in _rows(screen, "#diag-pods")}
            assert pods[CRASHING][3] == "CrashLoopBackOff"
            events = _rows(screen, "#diag-events")
            assert events and events[0][0] == "Warning"
            revisions = _rows(screen, "#diag-revisions")
            assert [row[0] for row in revisions] == ["3", "2", "1"]
            table = screen.query_one("#diag-pods")
            table.move_cursor(row=[p.name for p in screen.pods].index(CRASHING))
            await pilot.press("enter")
            assert isinstance(app.screen, LogViewScreen)
            await wait_until(pilot, lambda: "ERROR out of memory" in _log_text(app))
            assert CRASHING in _title(app) and "current container" in _title(app)
            await pilot.press("p")
            await wait_until(pilot, lambda: "previous 1" in _log_text(app))
            assert "previous container" in _title(app)


async def test_rbac_denial_is_shown_plainly_and_the_rest_still_loads(tmp_path):
    with cluster(tmp_path) as (server, kubeconfig):
        server.forbid("list", "pods", "qawave")
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await pilot.press("d")
            screen = app.screen
            errors = screen.query_one("#diag-errors")
            await wait_until(pilot, lambda: "forbidden" in str(errors.render()))
            assert "cannot list pods in qawave" in str(errors.render())
            assert app.is_running


def _log_text(app) -> str:
    return "\n".join(line.text for line in app.screen.query_one("#logs-lines").lines)


def _title(app) -> str:
    return str(app.screen.query_one("#logs-title").render())


async def _open_diagnostics(pilot) -> DiagnosticsScreen:
    await loaded(pilot)
    await pilot.press("d")
    screen = pilot.app.screen
    assert isinstance(screen, DiagnosticsScreen)
    await wait_until(pilot, lambda: screen.pods)
    return screen


@pytest.mark.slow
async def test_previous_logs_do_not_stay_on_for_the_next_pod(tmp_path):
    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_diagnostics(pilot)
            pods = [p.name for p in screen.pods]
            table = screen.query_one("#diag-pods")
            table.move_cursor(row=pods.index(CRASHING))
            await pilot.press("p")
            await wait_until(pilot, lambda: "previous 1" in _log_text(app))
            await pilot.press("escape")
            table.move_cursor(row=pods.index(RESTARTED))
            await pilot.press("enter")
            await wait_until(pilot, lambda: "backend ok" in _log_text(app))
            assert "current container" in _title(app) and RESTARTED in _title(app)


@pytest.mark.slow
async def test_d_says_it_is_loading_until_the_cluster_answers(tmp_path):
    with cluster(tmp_path) as (server, kubeconfig):
        server.delay(3.0, "pods")
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            await pilot.press("d")
            screen = app.screen
            await pilot.pause()
            assert "loading pods from (current context)/qawave…" in screen_text(app)
            await wait_until(pilot, lambda: screen.pods, timeout=20)
            await pilot.pause()
            assert "loading pods" not in screen_text(app)


@pytest.mark.slow
async def test_logs_take_the_screen_wrap_with_w_and_follow_with_f(tmp_path):
    long_line = "ERROR " + "x" * 90 + " END-OF-LONG-LINE"
    with cluster(tmp_path) as (server, kubeconfig):
        server.set_logs(NS, CRASHING, ["first", long_line])
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_diagnostics(pilot)
            screen.query_one("#diag-pods").move_cursor(
                row=[p.name for p in screen.pods].index(CRASHING))
            await pilot.press("l")
            await wait_until(pilot, lambda: "first" in screen_text(app))
            assert app.screen.query_one("#logs-lines").size.height >= 20
            assert "END-OF-LONG-LINE" not in screen_text(app)
            await pilot.press("w")
            await wait_until(pilot, lambda: "END-OF-LONG-LINE" in screen_text(app))
            assert "wrap" in _title(app)
            await pilot.press("f")
            server.set_logs(NS, CRASHING, ["first", long_line, "a line written later"])
            await wait_until(pilot, lambda: "a line written later" in screen_text(app))
            assert "follow" in _title(app)


@pytest.mark.slow
async def test_columns_fit_new_rows_before_the_table_is_next_idle(tmp_path):
    """Regression: the header was painted with the widths from before the rows came (the
    table sized its columns only when idle), so on a busy machine the rollout history's
    header stood out of line with its rows."""
    import dataclasses

    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open_diagnostics(pilot)
            long_name = "backend-" + "x" * 40
            pod = dataclasses.replace(screen.pods[0], name=long_name)
            diagnostics = _diagnostics(screen, pods=(pod,))
            screen.show_diagnostics(diagnostics, diagnostics.fetched_at)  # no await: not idle
            table = screen.query_one("#diag-pods")
            first = table.ordered_columns[0]
            assert first.get_render_width(table) >= len(long_name)


def _diagnostics(screen, pods):
    from datetime import datetime, timezone

    from shiftdeck.domain.kube import Diagnostics

    return Diagnostics(scope=screen.scope, pods=pods, events=(), revisions=(), errors=(),
                       fetched_at=datetime(2026, 12, 6, tzinfo=timezone.utc))

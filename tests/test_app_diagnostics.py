"""`d`: Kubernetes diagnostics through the real client against the loopback API server."""

from shiftdeck.screens.diagnostics import DiagnosticsScreen

from .support.app_factory import loaded, make_app
from .support.kube_server import CRASHING, cluster
from .support.waiting import wait_until


def _rows(screen, table_id):
    table = screen.query_one(table_id)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


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
            assert pods[CRASHING][6] == "CrashLoopBackOff"
            events = _rows(screen, "#diag-events")
            assert events and events[0][0] == "Warning"
            revisions = _rows(screen, "#diag-revisions")
            assert [row[0] for row in revisions] == ["3", "2", "1"]
            table = screen.query_one("#diag-pods")
            table.move_cursor(row=[p.name for p in screen.pods].index(CRASHING))
            await pilot.press("enter")
            log = screen.query_one("#diag-logs")
            await wait_until(pilot, lambda: any(CRASHING in line for line in log.lines))
            await pilot.press("p")
            await wait_until(pilot, lambda: any("previous container" in line
                                                for line in log.lines))


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

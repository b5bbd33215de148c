"""Snapshots at 80x24 and 120x40. Frozen clock, UTC, no polling, no blinking cursor.

Update deliberately with `pytest tests/test_snapshots.py --snapshot-update`, then look at the
SVGs under tests/__snapshots__/ before committing them.
"""

import pytest

from .support.app_factory import failure, loaded, make_app

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_dashboard(snap_compare, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.slow
def test_dashboard_grouped_by_namespace(snap_compare, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded, press=["g", "g"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_source_down_banner(snap_compare, size):
    async def down(pilot):
        await loaded(pilot)
        pilot.app.post_message(failure())
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=down)


@pytest.mark.slow
def test_filter_typed(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["slash", *"severity=critical"])


@pytest.mark.slow
def test_invalid_filter_message(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["slash", *'x=~"("'])


def test_help_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["question_mark"])


def test_detail_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["j", "j", "enter"])


def test_light_theme(snap_compare):
    assert snap_compare(make_app(theme="shiftdeck-light"), terminal_size=(80, 24),
                        run_before=loaded)


@pytest.mark.slow
def test_silence_form(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded, press=["s"])


@pytest.mark.slow
def test_silence_form_refusal_wide(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded,
                        press=["s", *"db failover", "ctrl+s"])


@pytest.mark.slow
def test_silences_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded, press=["S"])


@pytest.mark.slow
def test_unack_confirm(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["j", "j", "j", "j", "U"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_oncall_screen(snap_compare, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded, press=["O"])


def test_detail_with_escalation_ladder(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded, press=["enter"])


def test_table_zoomed_without_detail_pane(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded, press=["z"])


@pytest.mark.slow
def test_status_update_composer(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["u", *"checkout failing"])


@pytest.mark.slow
async def _handoff_open(pilot):
    from shiftdeck.screens.handoff import HandoffScreen
    from .support.waiting import wait_until

    await loaded(pilot)
    await pilot.press("H")  # the report is made in a thread
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HandoffScreen))


def test_handoff_preview(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=_handoff_open)


def test_runbook_screen(snap_compare, tmp_path):
    from .support.app_factory import write_runbooks
    from .support.runbooks import RUNBOOK
    from .support.waiting import wait_until

    async def opened(pilot):
        await loaded(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: pilot.app.screen.commands)
        await pilot.pause()

    app = make_app(runbooks=write_runbooks(tmp_path, RUNBOOK))
    assert snap_compare(app, terminal_size=(80, 24), run_before=opened)


@pytest.mark.slow
def test_diagnostics_screen(snap_compare, tmp_path):
    from .support.kube_server import cluster
    from .support.waiting import wait_until

    async def opened(pilot):
        await loaded(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen.pods)
        await pilot.pause()

    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        assert snap_compare(app, terminal_size=(120, 40), run_before=opened)


# -- issue 13: the secondary screens at 80x24 ------------------------------------------------

@pytest.mark.slow
def test_detail_screen_with_notes_and_metric(snap_compare):
    from .support.detail import open_backend_detail

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=open_backend_detail,
                        press=["end"])


def test_diagnostics_screen_80x24(snap_compare, tmp_path):
    from .support.kube_server import cluster
    from .support.waiting import wait_until

    async def opened(pilot):
        await loaded(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen.pods)
        await pilot.pause()

    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        assert snap_compare(app, terminal_size=(80, 24), run_before=opened)


@pytest.mark.slow
def test_pod_logs_full_screen(snap_compare, tmp_path):
    from .support.kube_server import CRASHING, cluster
    from .support.waiting import wait_until

    async def opened(pilot):
        await loaded(pilot)
        await pilot.press("d")
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.pods)
        screen.query_one("#diag-pods").move_cursor(
            row=[p.name for p in screen.pods].index(CRASHING))
        await pilot.press("p")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "lines", None))
        await pilot.pause()

    with cluster(tmp_path) as (_server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig)
        assert snap_compare(app, terminal_size=(80, 24), run_before=opened)


@pytest.mark.slow
def test_runbook_output_full_screen(snap_compare, tmp_path):
    from .support.app_factory import write_runbooks
    from .support.runbooks import RUNBOOK
    from .support.waiting import wait_until

    async def refused_then_zoomed(pilot):
        await loaded(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: pilot.app.screen.commands)
        await pilot.press("down", "down", "enter")  # needs a shell: copied, not run
        await wait_until(pilot, lambda: pilot.app.screen.output_lines)
        await pilot.press("z")
        await pilot.pause()

    app = make_app(runbooks=write_runbooks(tmp_path, RUNBOOK))
    assert snap_compare(app, terminal_size=(80, 24), run_before=refused_then_zoomed)


@pytest.mark.slow
def test_status_update_with_a_long_impact(snap_compare):
    async def typed(pilot):
        await loaded(pilot)
        await pilot.press("u")
        pilot.app.screen.query_one("#update-impact").value = \
            "checkout fails for some users in the eu region " * 20
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=typed)


@pytest.mark.slow
def test_handoff_preview_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_handoff_open,
                        press=["end"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)],
                         ids=["80x24", "120x40", "200x50"])
@pytest.mark.slow
def test_dashboard_with_pagerduty(snap_compare, size):
    """QAWaveBackendDown paged by PagerDuty (its clock: PD 4m10s), and an incident that matches
    no alert, on a row of its own."""
    from datetime import timedelta

    from shiftdeck.clock import FrozenClock

    from .support.app_factory import SEED_ALERTS
    from .support.factories import NOW
    from .support.pagerduty import POLICY, TestPagerDuty, account_yaml, serving
    from .support.waiting import wait_until

    clock = FrozenClock(NOW)
    api = TestPagerDuty(clock)
    earlier = NOW - timedelta(minutes=10, seconds=50)
    api.trigger([SEED_ALERTS[0].labels], service="PQAWAVE", policy=POLICY.id, at=earlier)
    api.trigger([{"alertname": "CheckoutLatency", "team": "payments"}], service="PPAY",
                policy=POLICY.id, at=NOW - timedelta(minutes=2))

    async def paged(pilot):
        await loaded(pilot)
        await wait_until(pilot, lambda: pilot.app.shift.pages.unmatched
                         and pilot.app.shift.pages.by_fingerprint)
        await pilot.pause()

    with serving(api) as url:
        app = make_app(extra=account_yaml(url), poll=True, clock=clock, refresh="60s")
        assert snap_compare(app, terminal_size=size, run_before=paged)


# slow: without a journal the loading line is drawn only at the dashboard's first 5 s tick
@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_dashboard_loading_before_any_answer(snap_compare, size):
    """No alert source has answered yet: the table says whom it is loading alerts from."""
    from shiftdeck.config import load_config_text

    from .support.app_factory import NOWHERE
    from .support.helpers import ROSTER_YAML
    from .support.screen import screen_text
    from .support.waiting import wait_until

    config = load_config_text(
        f"user: alice\n{ROSTER_YAML}alertmanagers:\n"
        f"  - {{name: am-1, url: '{NOWHERE}', cluster: prod}}\n"
        f"  - {{name: am-2, url: '{NOWHERE}', cluster: prod}}\n"
        f"prometheus:\n  - {{name: prometheus-main, url: '{NOWHERE}'}}\n", source="(test)")

    async def painted(pilot):
        await wait_until(pilot, lambda: "loading alerts" in screen_text(pilot.app))

    assert snap_compare(make_app(config=config), terminal_size=size, run_before=painted)

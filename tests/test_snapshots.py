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
def test_dashboard_grouped_by_namespace(snap_compare, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded, press=["g", "g"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_source_down_banner(snap_compare, size):
    async def down(pilot):
        await loaded(pilot)
        pilot.app.post_message(failure())
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=down)


def test_filter_typed(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["slash", *"severity=critical"])


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


def test_silence_form(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded, press=["s"])


def test_silence_form_refusal_wide(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded,
                        press=["s", *"db failover", "ctrl+s"])


def test_silences_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded, press=["S"])


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


def test_status_update_composer(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded,
                        press=["u", *"checkout failing"])


def test_handoff_preview(snap_compare):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded, press=["H"])


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

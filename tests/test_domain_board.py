from datetime import timedelta

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import EMPTY_BOARD, SourceReport, build_board
from shiftdeck.domain.severity import DEFAULT_POLICY

from .support.factories import NOW, make_alert


def _board(alerts, previous=EMPTY_BOARD, now=NOW, expressions=None):
    report = SourceReport("am", "alertmanager", tuple(alerts), now)
    reports = {"alertmanager/am": report}
    if expressions:
        reports["prometheus/p"] = SourceReport("p", "prometheus", (), now, expressions)
    return build_board(reports, (), previous, DEFAULT_POLICY, now)


def test_levels_are_assigned_by_policy():
    board = _board([make_alert(severity="warning")])
    (alert,) = board.alerts.values()
    assert alert.level == "P2"


def test_expression_comes_from_prometheus_rules():
    board = _board([make_alert("BackendDown")], expressions={"BackendDown": "up == 0"})
    (alert,) = board.alerts.values()
    assert alert.expression == "up == 0"


def test_gone_alert_is_kept_as_resolved_for_ten_minutes():
    first = _board([make_alert()])
    later = _board([], previous=first, now=NOW + timedelta(minutes=1))
    (alert,) = later.alerts.values()
    assert alert.state is AlertState.RESOLVED
    assert alert.resolved_at == NOW + timedelta(minutes=1)
    still = _board([], previous=later, now=NOW + timedelta(minutes=10, seconds=59))
    assert len(still.alerts) == 1
    gone = _board([], previous=still, now=NOW + timedelta(minutes=11, seconds=1))
    assert gone.alerts == {}


def test_unchanged_poll_reuses_the_same_alert_objects():
    first = _board([make_alert(), make_alert("Other")])
    second = _board([make_alert(), make_alert("Other")], previous=first)
    assert second.same_alerts(first)


def test_changed_alert_is_a_new_object():
    first = _board([make_alert()])
    second = _board([make_alert(state=AlertState.SILENCED)], previous=first)
    assert not second.same_alerts(first)


def test_counts_skip_silenced_and_resolved():
    board = _board([make_alert(), make_alert("Quiet", state=AlertState.SILENCED)])
    assert board.counts(("P1", "P2")) == {"P1": 1, "P2": 0}

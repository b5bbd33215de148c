from datetime import timedelta

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import EMPTY_BOARD, SourceReport, build_board
from shiftdeck.domain.matchers import parse_matchers
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.view import AlertRow, GroupRow, Grouping, select_rows

from .support.factories import NOW, make_alert


def _alerts(*alerts):
    report = SourceReport("am", "alertmanager", alerts, NOW)
    return build_board({"am": report}, (), EMPTY_BOARD, DEFAULT_POLICY, NOW).alerts.values()


def _names(rows):
    return [r.alert.name if isinstance(r, AlertRow) else f"[{r.title}]" for r in rows]


def test_sorted_by_severity_then_oldest_first():
    alerts = _alerts(make_alert("Warn", "warning", age=timedelta(hours=5)),
                     make_alert("CritNew", age=timedelta(minutes=1)),
                     make_alert("CritOld", age=timedelta(hours=1)))
    rows = select_rows(alerts, (), Grouping.NONE, DEFAULT_POLICY)
    assert _names(rows) == ["CritOld", "CritNew", "Warn"]


def test_filter_by_label_and_state():
    alerts = _alerts(make_alert("A", namespace="dev"), make_alert("B", namespace="prod"),
                     make_alert("C", state=AlertState.PENDING, namespace="prod"))
    rows = select_rows(alerts, parse_matchers("namespace!=dev @state=pending"),
                       Grouping.NONE, DEFAULT_POLICY)
    assert _names(rows) == ["C"]


def test_filter_by_level():
    alerts = _alerts(make_alert("A"), make_alert("B", "warning"))
    rows = select_rows(alerts, parse_matchers("@level=P2"), Grouping.NONE, DEFAULT_POLICY)
    assert _names(rows) == ["B"]


def test_grouping_by_namespace_puts_most_urgent_group_first():
    alerts = _alerts(make_alert("W", "warning", namespace="b"),
                     make_alert("C", namespace="a"), make_alert("W2", "warning", namespace="a"))
    rows = select_rows(alerts, (), Grouping.NAMESPACE, DEFAULT_POLICY)
    assert _names(rows) == ["[a]", "C", "W2", "[b]", "W"]
    assert isinstance(rows[0], GroupRow) and rows[0].count == 2 and rows[0].level == "P1"


def test_alert_without_the_group_label_goes_to_none_group():
    rows = select_rows(_alerts(make_alert("X")), (), Grouping.NAMESPACE, DEFAULT_POLICY)
    assert _names(rows) == ["[(none)]", "X"]


def test_grouping_cycles_through_all_modes():
    assert Grouping.NONE.next() is Grouping.ALERTNAME
    assert Grouping.ALERTNAME.next() is Grouping.NAMESPACE
    assert Grouping.NAMESPACE.next() is Grouping.NONE


def test_acked_filter_lists_longest_acknowledged_first():
    from dataclasses import replace

    from .support.factories import NOW as now

    old = replace(make_alert("Old", "warning"), state=AlertState.ACKED, acked_by="bob",
                  acked_at=now - timedelta(hours=3), level="P2")
    new = replace(make_alert("New"), state=AlertState.ACKED, acked_by="alice",
                  acked_at=now - timedelta(minutes=5), level="P1")
    rows = select_rows([new, old, make_alert("Firing")], parse_matchers("@acked"),
                       Grouping.NONE, DEFAULT_POLICY)
    assert _names(rows) == ["Old", "New"]


def test_acks_that_shiftdeck_extends_are_not_expiring_soon():
    from shiftdeck.domain.matchers import make_matcher
    from shiftdeck.domain.silences import Silence, SilenceState
    from shiftdeck.domain.view import expiring_soon

    def silence(comment):
        return Silence(comment, (make_matcher("a", "=", "b"),), NOW - timedelta(minutes=10),
                       NOW + timedelta(minutes=5), "alice", comment, SilenceState.ACTIVE)

    silences = [silence("ACK! alice"), silence("maintenance")]
    assert expiring_soon(silences, NOW, timedelta(minutes=15), acks_extended=True) == 1
    assert expiring_soon(silences, NOW, timedelta(minutes=15), acks_extended=False) == 2


def _incident(id_, status="triggered", title="[FIRING:1] Elsewhere", service="payments"):
    from shiftdeck.domain.pager import Incident
    return Incident(id_, 3, title, status, "high", service, "Backend", "PEP1", (), (), None,
                    "k", "", NOW - timedelta(minutes=9), source="pd")


def test_incidents_without_an_alert_come_first_with_keys_of_their_own():
    from shiftdeck.domain.view import IncidentRow
    alerts = _alerts(make_alert("Crit"))
    page = _incident("PINC9")
    rows = select_rows(alerts, (), Grouping.NONE, DEFAULT_POLICY, incidents=(page,))
    assert isinstance(rows[0], IncidentRow) and rows[0].incident is page
    assert rows[0].key == "pagerduty:pd/PINC9"
    assert rows[0].key not in {a.fingerprint for a in alerts}
    assert _names(rows[1:]) == ["Crit"]


def test_a_filter_applies_to_incident_rows_by_service_title_and_state():
    from shiftdeck.domain.view import IncidentRow
    pages = (_incident("PINC1"), _incident("PINC2", "acknowledged", service="api"))

    def shown(text):
        rows = select_rows(_alerts(make_alert("Crit")), parse_matchers(text), Grouping.NONE,
                           DEFAULT_POLICY, incidents=pages)
        return [r.incident.id for r in rows if isinstance(r, IncidentRow)]

    assert shown("service=api") == ["PINC2"]
    assert shown("@state=acked") == ["PINC2"]
    assert shown("@state=firing") == ["PINC1"]
    assert shown("namespace=prod") == []


def test_rows_of_unchanged_alerts_are_the_rows_shown_before() -> None:
    """A storm replaces 10% of the alerts a poll: the other 90% keep their row objects, so the
    cycle collector is not handed 10k new rows every poll."""
    kept, changed = make_alert("DiskLow", "warning"), make_alert("CpuHigh", "critical")
    before = select_rows([kept, changed], (), Grouping.NONE, DEFAULT_POLICY)
    index = {row.key: i for i, row in enumerate(before)}
    newer = make_alert("CpuHigh", "critical", age=timedelta(minutes=1))  # a new object
    for grouping in (Grouping.NONE, Grouping.NAMESPACE):
        after = select_rows([kept, newer], (), grouping, DEFAULT_POLICY, before=before,
                            before_index=index)
        rows = {row.key: row for row in after if isinstance(row, AlertRow)}
        assert rows[kept.fingerprint] is before[index[kept.fingerprint]]
        assert rows[newer.fingerprint].alert is newer

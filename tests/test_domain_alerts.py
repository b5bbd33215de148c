from dataclasses import replace
from datetime import timedelta

from shiftdeck.domain.alerts import (
    Alert, AlertState, expression_from_generator_url, fingerprint, merge_alerts,
    overlay_rule_alerts, replaced)
from shiftdeck.domain.severity import DEFAULT_POLICY

from .support.factories import make_alert


def test_fingerprint_is_order_independent_and_hex():
    a = fingerprint({"alertname": "X", "job": "api"})
    assert a == fingerprint({"job": "api", "alertname": "X"})
    assert len(a) == 16 and int(a, 16) >= 0


def test_ha_merge_keeps_earliest_start_and_all_instances():
    early = make_alert(age=timedelta(minutes=30), instance="am-1")
    late = make_alert(age=timedelta(minutes=10), instance="am-2")
    (merged,) = merge_alerts([[early], [late]])
    assert merged.starts_at == early.starts_at
    assert merged.instances == ("am-1", "am-2")


def test_ha_merge_takes_strongest_state():
    silenced = make_alert(state=AlertState.SILENCED, instance="am-1")
    firing = make_alert(state=AlertState.FIRING, instance="am-2")
    (merged,) = merge_alerts([[silenced], [firing]])
    assert merged.state is AlertState.FIRING


def test_different_label_sets_stay_apart():
    merged = merge_alerts([[make_alert(pod="a")], [make_alert(pod="b")]])
    assert len(merged) == 2


def test_prometheus_firing_does_not_override_alertmanager_silence():
    silenced = make_alert(state=AlertState.SILENCED, instance="am")
    evaluated = make_alert(state=AlertState.FIRING, instance="prom")
    (merged,) = overlay_rule_alerts([silenced], [evaluated])
    assert merged.state is AlertState.SILENCED
    assert merged.instances == ("am", "prom")


def test_pending_alert_from_prometheus_is_added():
    pending = make_alert("Soon", state=AlertState.PENDING, instance="prom")
    merged = overlay_rule_alerts([make_alert()], [pending])
    assert {a.name for a in merged} == {"BackendDown", "Soon"}


def test_expression_is_parsed_from_generator_url():
    url = "http://prom:9090/graph?g0.expr=rate%28errors%5B5m%5D%29+%3E+0.05&g0.tab=1"
    assert expression_from_generator_url(url) == "rate(errors[5m]) > 0.05"
    assert expression_from_generator_url("http://prom/graph") == ""


def test_default_policy_follows_the_seed_table():
    policy = DEFAULT_POLICY
    assert policy.level_of({"severity": "critical"}).level == "P1"
    assert policy.level_of({"severity": "page"}).ack_within == timedelta(minutes=15)
    assert policy.level_of({"severity": "warning"}).level == "P2"
    assert policy.level_of({"severity": "info"}).level == "P3"
    assert policy.level_of({}).level == "P4"
    assert policy.level_of({"severity": "critical"}).silence_approval


def test_a_muted_alert_names_its_time_intervals_and_keeps_them_through_a_merge():
    muted = replace(make_alert(instance="am-1"), state=AlertState.MUTED,
                    muted_by=("weekends",))
    other = replace(make_alert(instance="am-2"), state=AlertState.MUTED, muted_by=("nights",))
    (merged,) = merge_alerts([[muted], [other]])
    assert merged.state_text == "muted by weekends, nights"
    assert make_alert().state_text == "firing"


def test_a_clamped_time_survives_a_merge_as_a_warning():
    clamped = replace(make_alert(instance="am-1"), clamped=("startsAt",))
    (merged,) = merge_alerts([[make_alert(instance="am-2")], [clamped]])
    assert merged.warnings == ("startsAt out of range: clamped",)


def test_replaced_is_dataclasses_replace_and_a_pickled_alert_comes_back_equal():
    import pickle
    from datetime import UTC, datetime

    import pytest

    alert = Alert("ab12", {"alertname": "DiskLow"}, {"summary": "s"}, AlertState.SILENCED,
                  datetime(2026, 12, 6, tzinfo=UTC), instances=("am0",), silenced_by=("s1",))
    changes = dict(state=AlertState.ACKED, acked_by="alice", level="P2")
    assert replaced(alert, **changes) == replace(alert, **changes)
    assert replaced(alert) == alert and replaced(alert) is not alert
    back = pickle.loads(pickle.dumps(alert))
    assert back == alert and back.silenced_by == ("s1",)
    with pytest.raises(KeyError):
        replaced(alert, colour="red")


def test_a_peers_copy_shares_the_equal_label_and_annotation_maps_only():
    from shiftdeck.domain.alerts import sharing
    one = make_alert("DiskLow", instance="am0")
    two = replace(one, labels=dict(one.labels), annotations=dict(one.annotations),
                  instances=("am1",))
    shared = sharing(two, one)
    assert shared.labels is one.labels and shared.annotations is one.annotations
    assert shared.instances == ("am1",) and shared == replace(two)
    other = replace(two, annotations={"summary": "worse"})
    assert sharing(other, one).annotations == {"summary": "worse"}
    assert sharing(other, one).labels is one.labels
    assert sharing(two, None) is two and sharing(one, one) is one


def test_a_level_is_the_same_whether_one_label_or_several_decide_it():
    from shiftdeck.domain.matchers import parse_matchers
    from shiftdeck.domain.severity import SeverityLevel, SeverityPolicy
    two = SeverityPolicy((SeverityLevel("A", parse_matchers('team="x", severity="critical"')),
                          SeverityLevel("B", parse_matchers('severity=~"crit.*"')),
                          SeverityLevel("C", ())))
    for labels, level in (({"team": "x", "severity": "critical"}, "A"),
                          ({"severity": "critical"}, "B"), ({"team": "x"}, "C"), ({}, "C")):
        assert two.level_of(labels).level == level
        assert two.level_of(labels).level == level  # from the cache
    assert DEFAULT_POLICY.level_of({"severity": "warning", "team": "x"}).level == "P2"


def test_a_level_is_found_by_the_name_the_board_gave_it_unless_names_repeat():
    from shiftdeck.domain.matchers import parse_matchers
    from shiftdeck.domain.severity import SeverityLevel, SeverityPolicy
    warning = {"severity": "warning"}
    assert DEFAULT_POLICY.level_for("P2", warning) is DEFAULT_POLICY.level_of(warning)
    assert DEFAULT_POLICY.level_for("", warning).level == "P2"  # not given one yet
    twice = SeverityPolicy((SeverityLevel("P1", parse_matchers('severity="critical"')),
                            SeverityLevel("P1", ())))
    assert twice.level_for("P1", warning) is twice.levels[1]

"""domain.acks: which acks shiftdeck keeps alive and which it ends, decided on one poll with a
frozen clock; and the config around it (ack.until_resolved, the check's timing warning)."""

from dataclasses import replace
from datetime import timedelta

from shiftdeck.config import load_config_text
from shiftdeck.config.alerting import timing_warnings
from shiftdeck.domain.acks import (SETTLE, AckPlan, is_team_ack, plan_acks, poll_complete,
                                   resolved_acks, team_of)
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import Board
from shiftdeck.domain.health import SourceHealth
from shiftdeck.domain.matchers import make_matcher
from shiftdeck.domain.silences import (AckSettings, Silence, SilenceSettings, SilenceState,
                                       exact_matchers, with_reference)

from .support.factories import NOW, make_alert

TEAM = team_of("alice", ["bob"])
BACKEND = {"alertname": "BackendDown", "severity": "critical"}
COMMENT = with_reference("ACK! alice via shiftdeck at 2026-11-22 13:40 UTC", "7f3a9c21e0")


def ack(sid="s1", labels=BACKEND, *, age=timedelta(minutes=20), left=timedelta(minutes=10),
        by="alice", comment=COMMENT, state=SilenceState.ACTIVE, **extra) -> Silence:
    return Silence(sid, exact_matchers(labels), NOW - age, NOW + left, by, comment, state,
                   cluster="prod", **extra)


def firing(*silenced_by, **labels):
    alert = make_alert(**{"name": "BackendDown", **labels})
    return replace(alert, state=AlertState.ACKED if silenced_by else AlertState.FIRING,
                   silenced_by=silenced_by)


def ended(silences, alerts, settle=SETTLE):
    return [s.id for s in resolved_acks(silences, alerts, lambda cluster: NOW, TEAM, settle)]


OK = (SourceHealth("am0", "alertmanager", last_ok=NOW), SourceHealth("am1", "alertmanager",
                                                                     last_ok=NOW))


def board(silences, alerts=(), health=OK) -> Board:
    return Board({a.fingerprint: a for a in alerts}, tuple(health), NOW,
                 {s.id: s for s in silences})


def plan(b: Board, settings=AckSettings(), team_only=True) -> AckPlan:
    return plan_acks(b, lambda cluster: NOW, settings, TEAM, team_only=team_only)


# -- resolved means gone ---------------------------------------------------------- #


def test_an_ack_whose_alert_is_gone_ends():
    assert ended([ack()], []) == ["s1"]


def test_an_ack_still_silencing_a_firing_alert_stays():
    assert ended([ack()], [firing("s1")]) == []


def test_an_alert_its_matchers_select_keeps_it_even_when_not_listed_as_silenced_by_it():
    # Inhibited, or from Prometheus only: Alertmanager's silencedBy does not name the ack.
    assert ended([ack()], [firing()]) == []


def test_an_alert_kept_on_the_board_as_resolved_does_not_keep_the_ack():
    gone = replace(firing("s1"), state=AlertState.RESOLVED, resolved_at=NOW)
    assert ended([ack()], [gone]) == ["s1"]


def test_a_group_ack_ends_only_when_every_alert_it_covers_resolved():
    group = ack("g1", {"namespace": "payments"})
    one = firing("g1", namespace="payments", pod="a")
    two = firing("g1", namespace="payments", pod="b")
    assert ended([group], [one, two]) == []
    assert ended([group], [two]) == []
    assert ended([group], []) == ["g1"]


def test_a_young_ack_does_not_end_even_with_no_alert():
    young = ack(age=SETTLE - timedelta(seconds=1))
    assert ended([young], []) == []
    assert ended([ack(age=SETTLE)], []) == ["s1"]


def test_the_settle_time_is_judged_on_the_acks_cluster_clock():
    young = ack(age=timedelta(minutes=1))
    found = resolved_acks([young], [], lambda cluster: NOW + timedelta(minutes=5), TEAM)
    assert [s.id for s in found] == ["s1"]


def test_only_the_teams_shiftdeck_acks_end():
    karma = ack("k", comment="ACK! alice")
    no_reference = ack("n", comment="ACK! alice via shiftdeck at 2026-11-22 13:40 UTC")
    other_team = ack("o", by="zoe", comment=COMMENT.replace("alice", "zoe"))
    plain_silence = ack("p", comment="maintenance [sd:7f3a9c21e0]")
    mine, teammates = ack("a"), ack("b", by="bob", comment=COMMENT.replace("alice", "bob"))
    silences = [karma, no_reference, other_team, plain_silence, mine, teammates]
    assert ended(silences, []) == ["a", "b"]
    assert not is_team_ack(karma, TEAM)


def test_expired_pending_unevaluable_or_altered_acks_never_end_here():
    expired = ack("e", state=SilenceState.EXPIRED)
    pending = ack("p", state=SilenceState.PENDING)
    altered = ack("x", editable=False)
    unevaluable = replace(ack("u"), matchers=(make_matcher("pod", "=~", r"(a)\1", lenient=True),))
    assert unevaluable.problems
    assert ended([expired, pending, altered, unevaluable], []) == []


# -- a complete poll -------------------------------------------------------------- #


def test_a_complete_poll_is_every_alertmanager_answering_everything():
    assert poll_complete(OK)
    assert not poll_complete(())
    assert not poll_complete((OK[0], OK[1].failed(NOW, "connection refused")))
    assert not poll_complete((OK[0], SourceHealth("am1", "alertmanager")))  # not answered yet
    assert not poll_complete((OK[0], replace(OK[1], skipped=1)))  # malformed alerts left out
    silences_down = SourceHealth("am1 silences", "alertmanager", last_ok=NOW).failed(NOW, "500")
    assert not poll_complete((*OK, silences_down))
    prometheus_down = SourceHealth("prom", "prometheus").failed(NOW, "timeout")
    assert poll_complete((*OK, prometheus_down))


def test_a_failed_poll_ends_nothing():
    failing = (OK[0], OK[1].failed(NOW, "connection refused"))
    assert plan(board([ack()], health=failing)).end == ()
    assert plan(board([ack()])).end == (ack(),)


def test_until_resolved_false_ends_nothing():
    assert plan(board([ack()]), AckSettings(until_resolved=False)).end == ()


# -- extensions ------------------------------------------------------------------- #


def test_acks_of_firing_alerts_are_extended_and_the_keeper_extends_only_the_teams():
    karma = ack("k", left=timedelta(minutes=3), comment="ACK! carol", by="carol")
    mine = ack("a", left=timedelta(minutes=3))
    b = board([karma, mine], [firing("k", pod="x"), firing("a", pod="y")])
    assert [r.id for r in plan(b, team_only=True).extend] == ["a"]
    assert sorted(r.id for r in plan(b, team_only=False).extend) == ["a", "k"]
    assert plan(b).end == ()
    assert plan(b).extend[0].ends_at == NOW + AckSettings().duration


def test_a_plan_without_ids_in_flight_drops_them():
    p = AckPlan((), (ack("a"), ack("b")))
    assert [s.id for s in p.without({"a"}).end] == ["b"]
    assert not AckPlan()


# -- config ------------------------------------------------------------------------ #


def test_until_resolved_is_on_by_default_and_can_be_turned_off():
    assert AckSettings().until_resolved
    config = load_config_text("ack: {until_resolved: false}\n"
                              "alertmanagers: [{name: am, url: 'http://127.0.0.1:9093'}]\n",
                              environ={})
    assert not config.ack.until_resolved


def test_check_warns_when_warn_before_is_not_shorter_than_the_ack_duration():
    assert timing_warnings(AckSettings(), SilenceSettings()) == []
    (warning,) = timing_warnings(AckSettings(), SilenceSettings(warn_before=timedelta(minutes=15)))
    assert warning.startswith("silences.warn_before (15m) is not shorter than ack.duration (15m)")
    assert timing_warnings(AckSettings(), SilenceSettings(warn_before=timedelta(0))) == []

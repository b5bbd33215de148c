from dataclasses import replace
from datetime import timedelta

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import EMPTY_BOARD, SourceReport, build_board
from shiftdeck.domain.health import SourceHealth
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


def test_counts_are_made_when_the_board_is_built_not_when_the_header_asks():
    board = _board([make_alert(), make_alert("Quiet", state=AlertState.SILENCED)])
    assert board.level_counts is not None and board.level_counts["P1"] == 1
    assert board.counts(("P1", "P2")) == {"P1": 1, "P2": 0}


# -- built from what changed ---------------------------------------------------------------

def _peers(alerts_by_peer, prometheus=(), now=NOW, silences=(), expressions=None):
    reports = {f"alertmanager/{name}": SourceReport(name, "alertmanager", tuple(alerts), now,
                                                     silences=tuple(silences))
               for name, alerts in alerts_by_peer.items()}
    reports["prometheus/p"] = SourceReport("p", "prometheus", tuple(prometheus), now,
                                           expressions or {})
    return reports


def _ack(silence_id="s-ack", author="alice"):
    from shiftdeck.domain.silences import Silence, SilenceState
    return Silence(silence_id, (), NOW - timedelta(minutes=3), NOW + timedelta(minutes=12),
                   author, "ACK! on it", SilenceState.ACTIVE)


def test_three_peers_with_the_same_objects_give_the_same_merged_objects():
    peers = {f"am{i}": [make_alert(f"A{n}", instance=f"am{i}") for n in range(50)]
             for i in range(3)}
    first = build_board(_peers(peers), (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    second = build_board(_peers(peers), (), first, DEFAULT_POLICY, NOW)
    assert second.same_alerts(first)
    assert all(a.instances == ("am0", "am1", "am2") for a in second.alerts.values())


def test_one_peer_changing_one_alert_merges_that_alert_only(monkeypatch):
    from dataclasses import replace

    import shiftdeck.domain.board as board_module
    peers = {f"am{i}": [make_alert(f"A{n}", instance=f"am{i}") for n in range(5)]
             for i in range(3)}
    first = build_board(_peers(peers), (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    merged: list = []
    monkeypatch.setattr(board_module, "merge_one", _counting(board_module.merge_one, merged))
    peers["am0"][2] = replace(peers["am0"][2], annotations={"summary": "worse"})
    peers["am1"][3] = make_alert("A3", instance="am1", state=AlertState.SILENCED)
    second = build_board(_peers(peers), (), first, DEFAULT_POLICY, NOW)
    assert len(merged) == 2  # A2 and A3; the other three cost a lookup
    changed = [a.name for fp, a in second.alerts.items() if first.alerts[fp] is not a]
    assert changed == ["A2"]  # A3: am0 and am2 still say firing, the strongest state wins
    assert second.alerts[peers["am0"][2].fingerprint].annotations == {"summary": "worse"}


def _counting(function, calls):
    def counted(*args):
        calls.append(args)
        return function(*args)
    return counted


def test_a_new_ack_silence_acks_an_alert_whose_sources_did_not_change():
    quiet = make_alert("Quiet", state=AlertState.SILENCED)
    from dataclasses import replace
    quiet = replace(quiet, silenced_by=("s-ack",))
    first = build_board(_peers({"am": [quiet]}), (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    acked = build_board(_peers({"am": [quiet]}, silences=[_ack()]), (), first, DEFAULT_POLICY, NOW)
    (alert,) = acked.alerts.values()
    assert (alert.state, alert.acked_by) == (AlertState.ACKED, "alice")
    by_bob = build_board(_peers({"am": [quiet]}, silences=[_ack(author="bob")]), (), acked,
                         DEFAULT_POLICY, NOW)
    assert next(iter(by_bob.alerts.values())).acked_by == "bob"


def test_new_rule_expressions_and_a_new_policy_reach_unchanged_alerts():
    from shiftdeck.domain.severity import SeverityLevel, SeverityPolicy
    alerts = [make_alert("BackendDown")]
    first = build_board(_peers({"am": alerts}), (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    ruled = build_board(_peers({"am": alerts}, expressions={"BackendDown": "up == 0"}), (),
                        first, DEFAULT_POLICY, NOW)
    assert next(iter(ruled.alerts.values())).expression == "up == 0"
    policy = SeverityPolicy((SeverityLevel("SEV1", ()),))
    relevel = build_board(_peers({"am": alerts}), (), ruled, policy, NOW)
    assert next(iter(relevel.alerts.values())).level == "SEV1"


def test_built_from_what_changed_equals_built_from_scratch_over_a_storm_of_polls():
    """Random polls of three peers and Prometheus (new, gone, changed state, silenced, acked,
    one peer down): the board built from the previous one holds exactly the alerts a board
    built from nothing holds."""
    import random
    from dataclasses import replace
    rnd = random.Random(7)
    names = [f"A{n}" for n in range(60)]
    state = {peer: {n: make_alert(n, instance=peer, pod=n) for n in rnd.sample(names, 40)}
             for peer in ("am0", "am1", "am2", "p")}
    previous, silences = EMPTY_BOARD, [_ack()]
    for step in range(40):
        for peer, alerts in state.items():
            for n in rnd.sample(names, 6):
                roll = rnd.random()
                if roll < 0.3:
                    alerts.pop(n, None)
                elif roll < 0.6 or n not in alerts:
                    alerts[n] = make_alert(n, instance=peer, pod=n,
                                           age=timedelta(minutes=rnd.randrange(1, 9)))
                else:
                    alerts[n] = replace(alerts[n], state=AlertState.SILENCED,
                                        silenced_by=(rnd.choice(("s-ack", "s-other")),))
        if step % 7 == 3:
            silences = [_ack(author=rnd.choice(("alice", "bob")))] if rnd.random() < 0.7 else []
        peers = {p: list(a.values()) for p, a in state.items() if p != "p" and step % 5 != 4}
        reports = _peers(peers, state["p"].values(), NOW, silences,
                         {"A1": "up == 0"} if step % 3 else {})
        now = NOW + timedelta(seconds=step)
        incremental = build_board(reports, (), previous, DEFAULT_POLICY, now)
        scratch = build_board(reports, (), replace(previous, inputs={}), DEFAULT_POLICY, now)
        assert incremental.alerts == scratch.alerts, step
        previous = incremental


# -- a poll where no report changed ----------------------------------------------------------

def _same_reports(reports, now):
    """The reports a poll that changed nothing gives: the very tuples, a new fetch time."""
    return {key: replace(report, fetched_at=now) for key, report in reports.items()}


def test_a_poll_where_no_report_changed_keeps_the_board_and_merges_nothing(monkeypatch):
    import shiftdeck.domain.board as board_module
    peers = {f"am{i}": [make_alert(f"A{n}", instance=f"am{i}") for n in range(5)]
             for i in range(3)}
    reports = _peers(peers)
    first = build_board(reports, (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    merged: list = []
    monkeypatch.setattr(board_module, "merge_one", _counting(board_module.merge_one, merged))
    health = (SourceHealth("am0", "alertmanager"),)
    later = NOW + timedelta(seconds=15)
    second = build_board(_same_reports(reports, later), health, first, DEFAULT_POLICY, later)
    assert second.alerts is first.alerts and second.inputs is first.inputs
    assert merged == []
    assert (second.health, second.built_at) == (health, later)


def test_a_poll_where_no_report_changed_still_lets_resolved_alerts_go():
    reports = _peers({"am": [make_alert("Gone")]})
    first = build_board(reports, (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    empty = _peers({"am": []})
    resolved = build_board(empty, (), first, DEFAULT_POLICY, NOW + timedelta(minutes=1))
    kept = build_board(_same_reports(empty, NOW + timedelta(minutes=5)), (), resolved,
                       DEFAULT_POLICY, NOW + timedelta(minutes=5))
    assert kept.alerts is resolved.alerts
    gone = build_board(_same_reports(empty, NOW + timedelta(minutes=12)), (), kept,
                       DEFAULT_POLICY, NOW + timedelta(minutes=12))
    assert gone.alerts == {}


def test_same_alerts_with_new_silences_expressions_or_policy_are_built_again():
    from shiftdeck.domain.severity import SeverityLevel, SeverityPolicy
    quiet = replace(make_alert("Quiet", state=AlertState.SILENCED), silenced_by=("s-ack",))
    reports = _peers({"am": [quiet]})
    first = build_board(reports, (), EMPTY_BOARD, DEFAULT_POLICY, NOW)
    acked = dict(reports, **{"alertmanager/am": replace(reports["alertmanager/am"],
                                                        silences=(_ack(),))})
    assert build_board(acked, (), first, DEFAULT_POLICY, NOW).alerts is not first.alerts
    ruled = dict(reports, **{"prometheus/p": replace(reports["prometheus/p"],
                                                     expressions={"Quiet": "up == 0"})})
    assert build_board(ruled, (), first, DEFAULT_POLICY, NOW).alerts is not first.alerts
    policy = SeverityPolicy((SeverityLevel("SEV1", ()),))
    assert build_board(reports, (), first, policy, NOW).alerts is not first.alerts
    fewer = {"alertmanager/am": reports["alertmanager/am"]}
    assert build_board(fewer, (), first, DEFAULT_POLICY, NOW).alerts is not first.alerts


def test_an_alert_that_arrives_with_its_level_is_kept_as_it_is():
    """The poller process gives each alert its level as it parses it: the board checks it and
    keeps that very object; a wrong or missing level, a rule's expression or an ack make a new
    one, right."""
    levelled = replace(make_alert("A", severity="warning"), level="P2")
    wrong = replace(make_alert("B", severity="critical"), level="P4")
    bare = make_alert("C", severity="info")
    ruled = replace(make_alert("D", severity="warning"), level="P2")
    board = _board([levelled, wrong, bare, ruled], expressions={"D": "up == 0"})
    by_name = {a.name: a for a in board.alerts.values()}
    assert by_name["A"] is levelled
    assert (by_name["B"].level, by_name["C"].level) == ("P1", "P3")
    assert by_name["D"] is not ruled and by_name["D"].expression == "up == 0"

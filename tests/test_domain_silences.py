"""domain.silences: the ACK! convention, kthxbye-style extension, and the silence guardrails."""

from dataclasses import replace
from datetime import timedelta

import pytest

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.matchers import make_matcher, parse_matchers
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.silences import (AckSettings, Refusal, Silence, SilenceRequest,
                                       SilenceSettings, SilenceState, ack_comment, ack_request,
                                       check_silence, common_matchers, exact_matchers,
                                       extend_request, matching_alerts, plan_extensions)

from shiftdeck.domain.view import silence_rows

from .support.factories import NOW, make_alert

MIN = timedelta(minutes=1)


def ack_silence(sid="s1", *, left=timedelta(minutes=3), age=timedelta(minutes=12),
                comment="ACK! alice via shiftdeck at 2026-11-22 13:48 UTC",
                state=SilenceState.ACTIVE, **extra) -> Silence:
    return Silence(sid, exact_matchers({"alertname": "BackendDown"}), NOW - age, NOW + left,
                   "alice", comment, state, cluster="prod",
                   starts_at_raw="2026-11-22T13:48:00.123Z", **extra)


def silenced_alert(*silence_ids, state=AlertState.SILENCED):
    return replace(make_alert("BackendDown"), state=state, silenced_by=silence_ids)


def request(matchers='alertname="BackendDown"', duration=timedelta(hours=1), comment="deploy"):
    return SilenceRequest(parse_matchers(matchers), NOW, NOW + duration, "alice", comment, "prod")


# -- matchers and the ACK! comment ---------------------------------------------- #


def test_exact_matchers_select_exactly_the_label_set():
    matchers = exact_matchers({"severity": "critical", "alertname": "X", "pod": "a-1"})
    assert [str(m) for m in matchers] == ['alertname="X"', 'pod="a-1"', 'severity="critical"']
    assert all(not m.is_regex and m.is_equal for m in matchers)


def test_common_matchers_keep_only_labels_every_alert_shares():
    group = [make_alert("DiskFull", namespace="prod", pod="a"),
             make_alert("DiskFull", namespace="prod", pod="b")]
    assert [str(m) for m in common_matchers(group)] == [
        'alertname="DiskFull"', 'namespace="prod"', 'severity="critical"']


def test_ack_comment_format():
    assert ack_comment("alice", NOW) == "ACK! alice via shiftdeck at 2026-11-22 14:00 UTC"
    assert ack_comment("alice", NOW, " on it ") == (
        "ACK! alice via shiftdeck at 2026-11-22 14:00 UTC — on it")


def test_ack_request_lasts_the_ack_duration_and_is_an_ack():
    ack = ack_request(exact_matchers({"alertname": "X"}), "prod", "alice", NOW,
                      AckSettings(duration=timedelta(minutes=20)))
    assert (ack.starts_at, ack.ends_at, ack.created_by, ack.cluster) == (
        NOW, NOW + timedelta(minutes=20), "alice", "prod")
    assert ack.comment.startswith("ACK! ") and ack.id == ""


# -- extension, kthxbye's way --------------------------------------------------- #


def test_extension_moves_an_expiring_ack_to_now_plus_duration_keeping_id_and_start():
    silence = ack_silence()
    (plan,) = plan_extensions([silence], [silenced_alert("s1")], NOW, AckSettings())
    assert (plan.id, plan.cluster, plan.ends_at) == ("s1", "prod", NOW + timedelta(minutes=15))
    assert (plan.starts_at, plan.starts_at_raw) == (silence.starts_at, silence.starts_at_raw)
    assert plan.matchers == silence.matchers and plan.comment == silence.comment


def test_extension_also_covers_alerts_the_board_shows_as_acked():
    assert plan_extensions([ack_silence()], [silenced_alert("s1", state=AlertState.ACKED)],
                           NOW, AckSettings())


def test_no_extension_with_five_minutes_or_more_left():
    silence = ack_silence(left=timedelta(minutes=5))
    assert plan_extensions([silence], [silenced_alert("s1")], NOW, AckSettings()) == []


def test_no_extension_when_the_ack_silences_no_firing_alert():
    alerts = [silenced_alert("other"), replace(silenced_alert("s1"), state=AlertState.RESOLVED)]
    assert plan_extensions([ack_silence()], alerts, NOW, AckSettings()) == []


def test_extension_is_capped_at_max_duration_from_the_start():
    settings = AckSettings(max_duration=timedelta(minutes=20))
    (plan,) = plan_extensions([ack_silence(age=timedelta(minutes=12))], [silenced_alert("s1")],
                              NOW, settings)
    assert plan.ends_at == NOW - timedelta(minutes=12) + timedelta(minutes=20)
    capped = ack_silence(age=timedelta(minutes=17))  # ends exactly at start + max_duration
    assert plan_extensions([capped], [silenced_alert("s1")], NOW, settings) == []


def test_extension_is_idempotent():
    silence = ack_silence()
    (plan,) = plan_extensions([silence], [silenced_alert("s1")], NOW, AckSettings())
    extended = replace(silence, ends_at=plan.ends_at)
    for later in (NOW, NOW + 30 * timedelta(seconds=1)):  # this shiftdeck, or another one
        assert plan_extensions([extended], [silenced_alert("s1")], later, AckSettings()) == []


def test_extend_false_plans_nothing():
    assert plan_extensions([ack_silence()], [silenced_alert("s1")], NOW,
                           AckSettings(extend=False)) == []


def test_non_ack_silences_are_never_extended():
    plain = ack_silence(comment="maintenance window, ACK! later")
    assert plan_extensions([plain], [silenced_alert("s1")], NOW, AckSettings()) == []


def test_no_extension_of_an_ack_already_past_its_end():
    ended = ack_silence(left=-MIN)  # stale report: extending would fork it
    assert plan_extensions([ended], [silenced_alert("s1")], NOW, AckSettings()) == []


def test_no_extension_of_an_ack_whose_matchers_were_sanitised():
    tainted = ack_silence(editable=False)
    assert plan_extensions([tainted], [silenced_alert("s1")], NOW, AckSettings()) == []
    with pytest.raises(Refusal, match="control characters"):
        extend_request(tainted, NOW + timedelta(hours=1))


def test_extend_request_keeps_id_matchers_and_raw_start():
    silence = ack_silence()
    extended = extend_request(silence, NOW + timedelta(hours=1))
    assert (extended.id, extended.starts_at_raw, extended.matchers, extended.ends_at) == (
        "s1", silence.starts_at_raw, silence.matchers, NOW + timedelta(hours=1))


# -- guardrails ------------------------------------------------------------------ #

SETTINGS = SilenceSettings()


def test_silence_over_max_silence_is_refused_naming_the_level():
    p2 = make_alert("HighLatency", "warning")
    with pytest.raises(Refusal, match=r"P2 silences are limited to 4h \(asked for 6h\)"):
        check_silence(request('alertname="HighLatency"', timedelta(hours=6)), [p2],
                      DEFAULT_POLICY, SETTINGS)


def test_most_severe_level_over_its_limit_is_named():
    alerts = [make_alert("A", "warning"), make_alert("B", "critical")]
    with pytest.raises(Refusal, match="P1 silences are limited to 1h"):
        check_silence(request('alertname=~"A|B"', timedelta(hours=2)), alerts, DEFAULT_POLICY,
                      SETTINGS, approver="carol")


def test_matchers_matching_nothing_are_judged_by_their_labels():
    with pytest.raises(Refusal, match="P1 silences are limited to 1h"):
        check_silence(request('severity="critical"', timedelta(hours=2)), [], DEFAULT_POLICY,
                      SETTINGS)


def test_p1_silence_without_approver_is_refused():
    with pytest.raises(Refusal, match="an approver is required: P1 needs approval"):
        check_silence(request(), [make_alert("BackendDown", "critical")], DEFAULT_POLICY,
                      SETTINGS)


def test_protected_security_alert_is_refused_without_approver():
    alert = make_alert("FailedAuthSpike", "info", category="security")
    with pytest.raises(Refusal, match=r'protected alerts \(category="security"\)'):
        check_silence(request('alertname="FailedAuthSpike"'), [alert], DEFAULT_POLICY, SETTINGS)


def test_protected_silence_matching_nothing_now_still_needs_approver():
    with pytest.raises(Refusal, match="protected alerts"):
        check_silence(request('category="security"'), [], DEFAULT_POLICY, SETTINGS)


def test_empty_protected_list_protects_nothing():
    alert = make_alert("FailedAuthSpike", "info", category="security")
    checked = check_silence(request('alertname="FailedAuthSpike"'), [alert], DEFAULT_POLICY,
                            SilenceSettings(protected=()))
    assert checked.comment == "deploy"


def test_approver_is_recorded_in_the_comment():
    checked = check_silence(request(), [make_alert("BackendDown", "critical")], DEFAULT_POLICY,
                            SETTINGS, approver=" carol ")
    assert checked.comment == "deploy (approved by carol)"
    assert (checked.matchers, checked.ends_at, checked.cluster) == (
        request().matchers, request().ends_at, "prod")


def test_empty_comment_is_refused():
    with pytest.raises(Refusal, match="a comment is required"):
        check_silence(request(comment="  "), [make_alert("X", "info")], DEFAULT_POLICY, SETTINGS)


def test_silence_on_shiftdeck_filters_is_refused():
    with pytest.raises(Refusal, match="@-keys are shiftdeck filters"):
        check_silence(request('alertname="X" @state="firing"'), [], DEFAULT_POLICY, SETTINGS)


def test_silence_without_matchers_is_refused():
    with pytest.raises(Refusal, match="at least one matcher"):
        check_silence(request(""), [], DEFAULT_POLICY, SETTINGS)


def test_allowed_silence_passes_unchanged():
    within = request('alertname="HighLatency"', timedelta(hours=4))
    assert check_silence(within, [make_alert("HighLatency", "warning")], DEFAULT_POLICY,
                         SETTINGS) is within


def test_matching_alerts_are_current_alerts_selected_by_labels():
    alerts = [make_alert("A", namespace="prod"), make_alert("B", namespace="dev"),
              replace(make_alert("C", namespace="prod"), state=AlertState.RESOLVED)]
    found = matching_alerts([make_matcher("namespace", "=", "prod")], alerts)
    assert [a.name for a in found] == ["A"]


def test_a_silence_with_a_matcher_re2_refuses_matches_nothing_and_says_why():
    matchers = (make_matcher("alertname", "=", "BackendDown"),
                make_matcher("pod", "!~", r"(a)\1", lenient=True))
    silence = replace(ack_silence(), matchers=matchers, state=SilenceState.PENDING)
    alert = make_alert("BackendDown")
    assert not silence.matches(alert.labels)
    assert silence.problems == (r'pod!~"(a)\\1": cannot evaluate: invalid escape sequence: \1',)
    (row,) = silence_rows([silence], [alert], NOW, timedelta(minutes=15))
    assert (row.count_text, row.matches_nothing) == ("cannot evaluate", False)


# -- defaults ------------------------------------------------------------------- #


def test_a_fresh_ack_is_not_expiring_soon_with_the_default_settings():
    fresh = ack_request(exact_matchers({"alertname": "BackendDown"}), "prod", "alice", NOW,
                        AckSettings())
    silence = Silence("s1", fresh.matchers, fresh.starts_at, fresh.ends_at, "alice",
                      fresh.comment, SilenceState.ACTIVE, cluster="prod")
    (row,) = silence_rows([silence], [], NOW, SilenceSettings().warn_before)
    assert not row.expiring_soon
    assert SilenceSettings().warn_before < AckSettings().duration

"""PagerDuty incidents meet Alertmanager alerts: pure, at a frozen time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.journal import (PagerAcked, PagerResolved, PagerSnoozed, Record,
                                      describe)
from shiftdeck.domain.pager import (BY_SUMMARY, EXACT, Incident, OnCall, PagerUser, correlate,
                                    labels_key, next_escalation, oncall_shifts, parse_firing,
                                    parse_summary)
from shiftdeck.domain.roster import DISTANT_FUTURE, Person, Roster, Rotation, with_shifts
from shiftdeck.demo.pagerduty_api import firing_text, summary_text

from .support.factories import NOW, make_alert

POD0 = make_alert("BackendDown", "critical", namespace="qawave", pod="backend-0")
POD1 = make_alert("BackendDown", "critical", namespace="qawave", pod="backend-1")
DISK = make_alert("DiskFull", "warning", namespace="qawave", pod="db-0")


def incident(id_: str = "PINC1", *, title: str = "", labels=(), status: str = "triggered",
             created: timedelta = timedelta(minutes=5)) -> Incident:
    return Incident(id_, 1, title, status, "high", "backend", "Backend", "PEP1", (), (), None,
                    "k", "https://x.pagerduty.com/incidents/" + id_, NOW - created,
                    source="pd", alert_labels=tuple(labels_key(l) for l in labels))


# -- what Alertmanager's notifier writes --------------------------------------- #

def test_firing_lists_each_alert_as_labels_then_name_value_lines() -> None:
    text = firing_text([POD0.labels, POD1.labels])
    assert text.startswith("Labels:\n - alertname = BackendDown\n - namespace = qawave\n")
    assert parse_firing(text) == (labels_key(POD0.labels), labels_key(POD1.labels))


def test_a_value_with_spaces_and_equals_signs_is_kept_whole() -> None:
    text = ("Labels:\n - alertname = Odd\n - expr = up == 0 and x = 1\nAnnotations:\n"
            " - summary = not a label\nSource: http://prom/graph\n")
    assert parse_firing(text) == ((("alertname", "Odd"), ("expr", "up == 0 and x = 1")),)


def test_summary_gives_the_count_and_the_words_of_group_and_common_labels() -> None:
    title = summary_text([POD0.labels, POD1.labels], ["alertname"])
    assert title == "[FIRING:2] BackendDown (qawave critical)"  # sorted by label name
    summary = parse_summary(title)
    assert summary is not None
    assert (summary.firing, summary.words) == (2, ("BackendDown", "qawave", "critical"))
    assert parse_summary("The server is on fire") is None


# -- correlation ---------------------------------------------------------------- #

def test_details_firing_correlates_exactly_by_label_set() -> None:
    page = incident(title="[FIRING:2] BackendDown", labels=[POD0.labels, POD1.labels])
    found = correlate([page], [POD0, POD1, DISK])
    assert dict(found.by_fingerprint) == {POD0.fingerprint: page, POD1.fingerprint: page}
    assert found.how == {"PINC1": EXACT}
    assert found.incident_for(DISK) is None and found.unmatched == ()


def test_a_label_set_that_differs_by_one_label_matches_nothing() -> None:
    other = dict(POD0.labels, pod="backend-9")
    found = correlate([incident(labels=[other])], [POD0])
    assert found.by_fingerprint == {}
    assert [i.id for i in found.unmatched] == ["PINC1"]


def test_summary_is_the_fallback_when_no_firing_list_was_read() -> None:
    page = incident(title=summary_text([POD0.labels, POD1.labels], ["alertname"]))
    found = correlate([page], [POD0, POD1, DISK])
    assert set(found.by_fingerprint) == {POD0.fingerprint, POD1.fingerprint}
    assert found.how == {"PINC1": BY_SUMMARY}


def test_summary_matching_more_alerts_than_it_counts_is_not_trusted() -> None:
    page = incident(title="[FIRING:1] BackendDown (critical qawave)")
    assert correlate([page], [POD0, POD1]).by_fingerprint == {}


def test_other_integrations_and_resolved_alerts_stay_unmatched() -> None:
    from_elsewhere = incident("PX", title="Disk is full on db-0")
    gone = replace(POD0, state=AlertState.RESOLVED)
    page = incident("PY", labels=[POD0.labels])
    found = correlate([from_elsewhere, page], [gone])
    assert [i.id for i in found.unmatched] == ["PX", "PY"]


def test_the_incident_still_paging_wins_an_alert_two_incidents_claim() -> None:
    acked = incident("PACK", labels=[POD0.labels], status="acknowledged")
    paging = incident("PTRIG", labels=[POD0.labels], created=timedelta(hours=2))
    found = correlate([acked, paging], [POD0])
    assert found.incident_for(POD0) is paging
    assert [i.id for i in found.unmatched] == ["PACK"]


def test_an_unknown_status_is_kept_and_the_incident_still_correlates() -> None:
    page = incident(labels=[POD0.labels], status="investigating")
    found = correlate([page], [POD0])
    assert found.incident_for(POD0) is page and page.status == "investigating"
    assert page.is_open


# -- escalation clock ----------------------------------------------------------- #

def test_next_escalation_is_the_earliest_pending_escalate() -> None:
    actions = [("unacknowledge", NOW + timedelta(minutes=1)),
               ("escalate", NOW + timedelta(minutes=15)), ("escalate", NOW + timedelta(hours=1))]
    assert next_escalation(actions, "escalation_policy") == NOW + timedelta(minutes=15)
    assert next_escalation([("resolve", NOW)], "escalation_policy") is None


def test_direct_assignment_never_escalates() -> None:
    assert next_escalation([("escalate", NOW)], "direct_assignment") is None


# -- on call -------------------------------------------------------------------- #

PEOPLE = {"alice": Person("alice", "Alice Ng", "@alice", email="alice@example.com"),
          "bob": Person("bob", "Bob Okafor", "@bob"),
          "carol": Person("carol", "Carol Diaz")}


def oncall(user: PagerUser, level: int, hours: tuple[int, int] | None) -> OnCall:
    start, end = ((NOW + timedelta(hours=hours[0]), NOW + timedelta(hours=hours[1]))
                  if hours else (None, None))
    return OnCall(user, level, "Backend", "PEP1", "Primary" if hours else "", start, end)


def test_oncalls_become_shifts_of_the_levels_roles_matched_by_email_then_name() -> None:
    found = oncall_shifts(
        [oncall(PagerUser("PU1", "Alice N.", "alice@example.com"), 1, (-1, 8)),
         oncall(PagerUser("PU2", "Bob Okafor"), 2, None),
         oncall(PagerUser("PU3", "Mallory", "m@evil.test"), 3, (0, 1))],
        {1: "primary", 2: "secondary"}, PEOPLE, "pd")
    assert [(s.role, s.person, s.source) for s in found.shifts] == [
        ("primary", "alice", "pd"), ("secondary", "bob", "pd")]
    assert found.shifts[1].end == DISTANT_FUTURE  # a permanent on-call
    assert found.unmatched == ("m@evil.test",)
    unmapped = oncall_shifts([oncall(PagerUser("PU3", "Carol Diaz"), 3, (0, 1))], {}, PEOPLE,
                             "pd")
    assert unmapped.shifts[0].role == "pd-L3"


def test_pagerduty_shifts_beat_rotations_and_overrides_beat_them() -> None:
    from shiftdeck.domain.roster import Shift
    from zoneinfo import ZoneInfo
    rotation = Rotation("primary", ("carol",), NOW.replace(tzinfo=None) - timedelta(days=1),
                        timedelta(weeks=1), ZoneInfo("UTC"))
    override = Shift("primary", "bob", NOW + timedelta(hours=2), NOW + timedelta(hours=3),
                     "override")
    roster = Roster(PEOPLE, (rotation,), (override,))
    shifts = oncall_shifts([oncall(PagerUser("PU1", "", "alice@example.com"), 1, (-1, 4))],
                           {1: "primary"}, PEOPLE, "pd").shifts
    roster = with_shifts(roster, shifts)
    assert roster.holder("primary", NOW).id == "alice"  # type: ignore[union-attr]
    assert roster.holding("primary", NOW).source == "pd"
    assert roster.holder("primary", NOW + timedelta(hours=2, minutes=30)).id == "bob"  # type: ignore[union-attr]
    assert roster.holder("primary", NOW + timedelta(hours=5)).id == "carol"  # type: ignore[union-attr]


# -- journal records ------------------------------------------------------------ #

@pytest.mark.parametrize("record", [
    PagerAcked(NOW, "alice", None, "[FIRING:2] BackendDown", incident="PINC1", number=12,
               pager="pd"),
    PagerResolved(NOW, "alice", None, "t", incident="PINC1", number=None, pager="pd"),
    PagerSnoozed(NOW, "alice", None, "t", incident="PINC1", number=3, pager="pd",
                 duration=timedelta(hours=1)),
])
def test_pager_records_round_trip_and_read_as_sentences(record: Record) -> None:
    line = orjson.dumps(record.to_json())
    assert Record.from_json(orjson.loads(line)) == record
    text = describe(record)
    assert "PagerDuty incident" in text and "(pd)" in text
    if isinstance(record, PagerSnoozed):
        assert text == "snoozed PagerDuty incident #3 (pd) for 1h"

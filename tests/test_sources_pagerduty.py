"""The PagerDuty source against a loopback PagerDuty that follows the published OpenAPI
(tests/support/pagerduty.py): paging, rate limits, errors, writes, on-call, escalation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from shiftdeck.clock import FrozenClock
from shiftdeck.config.pagerduty import PagerDuty
from shiftdeck.demo.pagerduty_api import FROM_MISSING, DemoOnCall
from shiftdeck.domain.pager import correlate, oncall_shifts
from shiftdeck.domain.roster import Person, Roster, with_shifts
from shiftdeck.sources.http import SourceError, fetch
from shiftdeck.sources.pagerduty import PagerDutyClient, PagerRefused, error_sentence

from .support.factories import NOW, make_alert
from .support.pagerduty import ALICE, BOB, POLICY, TOKEN, TestPagerDuty, backend_alert, serving

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def api(clock: FrozenClock) -> TestPagerDuty:
    return TestPagerDuty(clock)


@pytest.fixture
def url(api: TestPagerDuty) -> Iterator[str]:
    with serving(api) as base:
        yield base


class Sleeps:
    """Records the waits asked for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(url: str, *, token: str = TOKEN, from_email: str = "alice@example.com",
           timeout: float = 3.0, max_bytes: int | None = None, read_only: bool = False,
           max_wait: float = 15.0, sleep: Sleeps | None = None) -> PagerDutyClient:
    account = PagerDuty(name="pd", token=token, url=url, from_email=from_email,
                        timeout=timedelta(seconds=timeout), max_bytes=max_bytes,
                        levels={1: "primary", 2: "secondary"})
    return PagerDutyClient(account, read_only=read_only, max_wait=max_wait,
                           sleep=sleep or Sleeps())


def trigger(api: TestPagerDuty, count: int) -> list[str]:
    return [api.trigger([backend_alert(f"backend-{n}")], service="PSVC", policy=POLICY.id)
            for n in range(count)]


# -- reading ------------------------------------------------------------------- #

async def test_every_page_is_read_with_the_headers_and_filters_pagerduty_asks_for(
        api: TestPagerDuty, url: str) -> None:
    trigger(api, 250)
    pd = client(url)
    try:
        incidents, skipped, problem = await pd.incidents()
    finally:
        await pd.aclose()
    assert (len(incidents), skipped, problem) == (250, 0, "")
    assert len({i.id for i in incidents}) == 250
    listed = [(q, h) for m, p, q, h in api.requests if p == "/incidents"]
    assert [q["offset"] for q, _ in listed] == [["0"], ["100"], ["200"]]
    query, headers = listed[0]
    assert query["limit"] == ["100"]
    assert query["statuses[]"] == ["triggered", "acknowledged"]
    assert query["include[]"] == ["assignees", "acknowledgers", "escalation_policies"]
    assert headers["accept"] == "application/vnd.pagerduty+json;version=2"
    assert headers["authorization"] == f"Token token={TOKEN}"


async def test_a_bad_token_is_a_sentence(url: str) -> None:
    pd = client(url, token="wrong")
    try:
        with pytest.raises(SourceError, match=r"^HTTP 401: PagerDuty refused the token "
                                              r"\(check token / token_file\): Unauthorized$"):
            await pd.incidents()
    finally:
        await pd.aclose()


async def test_a_429_is_waited_out_for_retry_after_then_read_again(
        api: TestPagerDuty, url: str) -> None:
    trigger(api, 3)
    api.rate_limited, api.retry_after = 1, "2"
    sleeps = Sleeps()
    pd = client(url, sleep=sleeps)
    try:
        incidents, _, _ = await pd.incidents()
    finally:
        await pd.aclose()
    assert len(incidents) == 3
    assert sleeps.waits == [2.0]
    assert api.paths().count("/incidents") == 2


async def test_a_retry_after_longer_than_the_poll_interval_fails_the_poll_and_waits_quietly(
        api: TestPagerDuty, url: str) -> None:
    api.rate_limited, api.retry_after = 1, "120"
    sleeps = Sleeps()
    pd = client(url, max_wait=15, sleep=sleeps)
    try:
        with pytest.raises(SourceError, match=r"^rate limited by PagerDuty, retry in 120s$"):
            await pd.incidents()
        sent = len(api.requests)
        with pytest.raises(SourceError, match=r"rate limited by PagerDuty, retry in 1[12]\ds"):
            await pd.incidents()  # nothing is sent before Retry-After has passed
        assert len(api.requests) == sent and sleeps.waits == []
    finally:
        await pd.aclose()


async def test_a_write_never_waits_on_a_rate_limit(api: TestPagerDuty, url: str) -> None:
    (incident_id,) = trigger(api, 1)
    api.rate_limited, api.retry_after = 1, "3"
    sleeps = Sleeps()
    pd = client(url, sleep=sleeps)
    try:
        with pytest.raises(SourceError, match=r"^rate limited by PagerDuty, retry in 3s$"):
            await pd.set_status([incident_id], "acknowledged")
    finally:
        await pd.aclose()
    assert sleeps.waits == [] and api.incidents[incident_id].status == "triggered"


async def test_unknown_statuses_and_fields_are_tolerated(api: TestPagerDuty, url: str) -> None:
    first, second = trigger(api, 2)
    api.shown_status[first] = "investigating"
    pd = client(url)
    try:
        incidents, skipped, _ = await pd.incidents()
    finally:
        await pd.aclose()
    assert skipped == 0
    assert {i.id: i.status for i in incidents} == {first: "investigating", second: "triggered"}


async def test_the_size_cap_and_the_deadline_apply(api: TestPagerDuty, url: str) -> None:
    trigger(api, 1)
    api.padding = 200_000
    pd = client(url, max_bytes=64 << 10)
    try:
        with pytest.raises(SourceError, match=r"answer larger than 64 KiB"):
            await pd.incidents()
    finally:
        await pd.aclose()
    api.padding, api.delay = 0, 2.0
    slow = client(url, timeout=0.3)
    try:
        with pytest.raises(SourceError, match=r"^timed out after 0.3s"):
            await slow.incidents()
    finally:
        await slow.aclose()


# -- the poll: incidents with their alerts, on-calls ---------------------------- #

async def test_a_report_correlates_incidents_through_details_firing_and_reads_alerts_once(
        api: TestPagerDuty, url: str, clock: FrozenClock) -> None:
    pod0, pod1 = backend_alert("backend-0"), backend_alert("backend-1")
    incident_id = api.trigger([pod0, pod1], service="PSVC", policy=POLICY.id)
    alerts = [make_alert("BackendDown", "critical", namespace="qawave", pod=pod)
              for pod in ("backend-0", "backend-1")]
    pd = client(url)
    try:
        report, skipped = await pd.report(clock.now())
        again, _ = await pd.report(clock.now())
    finally:
        await pd.aclose()
    assert skipped == 0 and report.problems == ()
    (incident,) = report.incidents
    assert incident.next_escalation_at == NOW + timedelta(minutes=15)
    assert [a.name for a in incident.assignees] == [ALICE.name]
    assert incident.assignees[0].email == ALICE.email  # include[]=assignees: full users
    found = correlate(report.incidents, alerts)
    assert {found.incident_for(a).id for a in alerts} == {incident_id}  # type: ignore[union-attr]
    assert again.incidents[0].alert_labels == incident.alert_labels
    assert api.paths().count(f"/incidents/{incident_id}/alerts") == 1
    oncall_levels = sorted((o.user.name, o.escalation_level) for o in report.oncalls)
    assert oncall_levels == [("Alice Ng", 1), ("Bob Okafor", 2), ("Carol Diaz", 3)]
    earliest = [q for m, p, q, h in api.requests if p == "/oncalls"][0]
    assert earliest["earliest"] == ["true"]


async def test_incidents_escalate_on_their_own_and_an_ack_stops_the_clock(
        api: TestPagerDuty, url: str, clock: FrozenClock) -> None:
    (incident_id,) = trigger(api, 1)
    direct = api.trigger([backend_alert("x")], service="PSVC", policy=POLICY.id,
                         direct_to=[ALICE.id])
    pd = client(url)
    try:
        clock.advance(timedelta(minutes=16))
        incidents = {i.id: i for i in (await pd.incidents())[0]}
        assert [a.name for a in incidents[incident_id].assignees] == [BOB.name]
        assert incidents[incident_id].next_escalation_at == NOW + timedelta(minutes=45)
        assert incidents[direct].next_escalation_at is None  # direct assignment
        assert await pd.set_status([incident_id], "acknowledged") == [incident_id]
        (acked,) = [i for i in (await pd.incidents())[0] if i.id == incident_id]
        assert acked.status == "acknowledged" and acked.next_escalation_at is None
        assert acked.acknowledged_by == (ALICE.name,)
        await pd.snooze(incident_id, timedelta(hours=1))
    finally:
        await pd.aclose()
    assert api.incidents[incident_id].unack_at == clock.now() + timedelta(hours=1)
    assert {f for _, _, f in api.writes} == {"alice@example.com"}


async def test_oncalls_become_the_roster_of_their_levels(api: TestPagerDuty,
                                                         clock: FrozenClock) -> None:
    api.extra_oncalls.append(DemoOnCall(BOB.id, POLICY.id, 1, NOW - timedelta(hours=1),
                                        NOW + timedelta(hours=8), "Primary"))
    people = {"alice": Person("alice", "Alice Ng", email="alice@example.com"),
              "bob": Person("bob", "Bob Okafor", email="bob@example.com")}
    with serving(api) as base:
        pd = client(base)
        try:
            oncalls = await pd.oncalls(clock.now(), clock.now() + timedelta(days=1))
        finally:
            await pd.aclose()
    shifts = oncall_shifts(oncalls, pd.upstream.levels, people, "pd")
    roster = with_shifts(Roster(people), shifts.shifts)
    assert roster.holder("primary", NOW).id == "bob"  # type: ignore[union-attr]
    assert roster.holding("primary", NOW).end == NOW + timedelta(hours=8)
    assert roster.holder("secondary", NOW).id == "bob"  # type: ignore[union-attr]
    assert shifts.unmatched == ("Carol Diaz",)


# -- writes --------------------------------------------------------------------- #

async def test_acks_go_in_batches_of_250_with_the_from_header(api: TestPagerDuty,
                                                              url: str) -> None:
    ids = trigger(api, 300)
    pd = client(url)
    try:
        done = await pd.set_status(ids, "acknowledged")
    finally:
        await pd.aclose()
    assert sorted(done) == sorted(ids)
    puts = [(q, h) for m, p, q, h in api.requests if m == "PUT"]
    assert len(puts) == 2 and all(h["from"] == "alice@example.com" for _, h in puts)
    assert {i.status for i in api.incidents.values()} == {"acknowledged"}


async def test_without_from_a_write_is_refused_before_any_request(api: TestPagerDuty,
                                                                  url: str) -> None:
    (incident_id,) = trigger(api, 1)
    pd = client(url, from_email="")
    try:
        with pytest.raises(PagerRefused, match="has no `from`"):
            await pd.set_status([incident_id], "acknowledged")
        with pytest.raises(PagerRefused, match="has no `from`"):
            await pd.snooze(incident_id, timedelta(minutes=5))
    finally:
        await pd.aclose()
    assert api.requests == []


async def test_pagerduty_refuses_a_write_without_from_in_its_error_shape(
        api: TestPagerDuty, url: str) -> None:
    (incident_id,) = trigger(api, 1)
    body = {"incidents": [{"id": incident_id, "type": "incident_reference",
                           "status": "acknowledged"}]}
    async with httpx.AsyncClient(base_url=url) as raw:
        answer = await fetch(raw, "PUT", "/incidents", deadline=3, max_bytes=1 << 20,
                             json=body, headers={"Authorization": f"Token token={TOKEN}"})
    assert answer.status_code == 400
    assert httpx.Response(400, content=answer.content).json() == {
        "error": {"message": FROM_MISSING, "code": 2008}}
    assert error_sentence(answer) == f"HTTP 400: {FROM_MISSING} (PagerDuty error 2008)"
    assert api.incidents[incident_id].status == "triggered"


async def test_read_only_refuses_every_write_before_any_request(api: TestPagerDuty,
                                                                url: str) -> None:
    (incident_id,) = trigger(api, 1)
    pd = client(url, read_only=True)
    try:
        with pytest.raises(PagerRefused, match="read-only"):
            await pd.set_status([incident_id], "resolved")
    finally:
        await pd.aclose()
    assert api.requests == []


async def test_resolve_and_snooze_for_the_ui_go_through_the_one_write_path(
        api: TestPagerDuty, url: str, clock: FrozenClock) -> None:
    from shiftdeck import writes
    from shiftdeck.domain.journal import PagerResolved, PagerSnoozed

    first, second = trigger(api, 2)
    pd = client(url)
    try:
        incidents = {i.id: i for i in (await pd.incidents())[0]}
        early = await writes.snooze_incident(incidents[first], timedelta(hours=1), {"pd": pd})
        assert early.items[0].refused and "acknowledge it first" in early.items[0].error
        await pd.set_status([first], "acknowledged")
        incidents = {i.id: i for i in (await pd.incidents())[0]}
        snoozed = await writes.snooze_incident(incidents[first], timedelta(hours=1), {"pd": pd})
        resolved = await writes.resolve_incidents([incidents[second]], {"pd": pd})
    finally:
        await pd.aclose()
    assert snoozed.ok and resolved.ok
    assert api.incidents[second].status == "resolved"
    (snooze_record,) = writes.pager_records(snoozed, "alice", NOW, PagerSnoozed,
                                            timedelta(hours=1))
    (resolve_record,) = writes.pager_records(resolved, "alice", NOW, PagerResolved)
    assert (snooze_record.incident, snooze_record.duration) == (first, timedelta(hours=1))
    assert (resolve_record.incident, resolve_record.number, resolve_record.pager) == (
        second, 2, "pd")


# -- polled like the other sources (issue 15 phase 2) -------------------------------- #

async def test_a_poll_may_read_several_pages_and_wait_out_a_429(api: TestPagerDuty,
                                                                url: str) -> None:
    from shiftdeck.sources.pagerduty import PAGE_LIMIT
    from shiftdeck.sources.poll import PARSE_ALLOWANCE, poll_deadline, poll_once
    pd = client(url, timeout=3.0, max_wait=15.0)
    try:
        # ten pages of incidents one after another, each within the timeout, and a wait of
        # Retry-After (up to the poll interval) before the retry: all inside one poll
        assert poll_deadline(pd) >= 10 * 3.0 + 2 * 15.0 + PARSE_ALLOWANCE
        trigger(api, 2 * PAGE_LIMIT + 1)
        api.rate_limited = 1
        report, skipped = await poll_once(pd, FrozenClock(NOW))
    finally:
        await pd.aclose()
    assert (len(report.incidents), skipped) == (2 * PAGE_LIMIT + 1, 0)


async def test_an_incident_says_the_escalation_level_its_assignee_holds_by_oncalls(
        api: TestPagerDuty, url: str, clock: FrozenClock) -> None:
    from shiftdeck.domain.pager import escalated
    trigger(api, 1)
    pd = client(url)
    try:
        (first,), _ = (await pd.report(clock.now()))[0].incidents, None
        clock.advance(timedelta(minutes=15, seconds=5))
        (second,), _ = (await pd.report(clock.now()))[0].incidents, None
    finally:
        await pd.aclose()
    assert (first.level, [u.name for u in first.assignees]) == (1, [ALICE.name])
    assert (second.level, [u.name for u in second.assignees]) == (2, [BOB.name])
    assert escalated(first, second, clock.now()) == first.next_escalation_at

"""Escalation ladders from PagerDuty escalation policies (issue 15): the policy's rules become a
level's ladder, so the countdown and the detail pane's ladder are PagerDuty's before any
incident exists. Pure domain with a frozen clock, then the config, then the loopback API."""

from datetime import timedelta

import pytest

from shiftdeck.config import ConfigError
from shiftdeck.domain.escalation import PagerLadder, Step
from shiftdeck.domain.pager import (OnCall, PagerPolicy, PagerUser, PolicyRule, PolicyTarget,
                                    policy_ladder)
from shiftdeck.domain.shift import Escalated, Shift, ShiftPolicy

from .support.app_factory import SEED_ALERTS
from .support.factories import NOW
from .support.helpers import ROSTER_YAML, config_for

BACKEND_DOWN = SEED_ALERTS[0]  # P1, fired 12 minutes before NOW
PEOPLE_YAML = ROSTER_YAML.split("rotations:")[0]
BOB = PolicyTarget("user", "PUBOB", "Bob Okafor")
OPS = PolicyTarget("schedule", "PSOPS", "Ops rota")
POLICY = PagerPolicy("PEP1", "Backend", (
    PolicyRule(10, (OPS,)),
    PolicyRule(20, (PolicyTarget("user", "PUX", "Nobody Known"), BOB)),
    PolicyRule(30, (PolicyTarget("user", "PUERIN", "?", "erin@example.com"),))))


def _people():
    config = config_for(["http://127.0.0.1:9"], extra=PEOPLE_YAML.replace(
        "erin: {name: Erin Walsh", "erin: {name: Erin Walsh, email: erin@example.com"))
    return config.roster.people


def _oncall(user: PagerUser, level: int, start=None, end=None, schedule="Ops rota",
            policy="PEP1") -> OnCall:
    return OnCall(user, level, "Backend", policy, schedule, start, end)


CAROL_NOW = _oncall(PagerUser("PUCAROL", "Carol Diaz"), 1, NOW - timedelta(days=1),
                    NOW + timedelta(hours=2))
ALICE_LATER = _oncall(PagerUser("PUALICE", "Alice Ng"), 1, NOW + timedelta(hours=2),
                      NOW + timedelta(days=7))


# -- the ladder of a policy ---------------------------------------------------------------------

def test_rules_become_steps_after_the_delays_before_them_with_people_of_the_roster():
    ladder = policy_ladder(POLICY, [ALICE_LATER, CAROL_NOW], _people(), NOW)
    assert ladder == (Step(timedelta(0), "carol"),  # the schedule's level-1 holder now
                      Step(timedelta(minutes=10), "bob"),  # by name; the unknown user skipped
                      Step(timedelta(minutes=30), "erin"))  # by e-mail


def test_a_schedule_target_is_its_holder_now_of_this_policy_and_level_only():
    elsewhere = [_oncall(PagerUser("PUCAROL", "Carol Diaz"), 1, policy="POTHER"),
                 _oncall(PagerUser("PUCAROL", "Carol Diaz"), 2),
                 _oncall(PagerUser("PUCAROL", "Carol Diaz"), 1, schedule="Other rota")]
    assert policy_ladder(POLICY, elsewhere, _people(), NOW)[0] == Step(timedelta(0), "Ops rota")
    later = policy_ladder(POLICY, [ALICE_LATER, CAROL_NOW], _people(), NOW + timedelta(hours=3))
    assert later[0].notify == "alice"


def test_num_loops_repeats_the_rules_numbered_on():
    looped = PagerPolicy("PEP1", "Backend", POLICY.rules[1:], num_loops=2)
    ladder = policy_ladder(looped, [], _people(), NOW)
    assert [(s.after, s.notify) for s in ladder] == [
        (timedelta(minutes=m), who) for m, who in
        ((0, "bob"), (20, "erin"), (50, "bob"), (70, "erin"), (100, "bob"), (120, "erin"))]


# -- the Shift: PagerDuty's ladder before an incident exists ---------------------------------------

def _shift(escalation_yaml: str = "escalation:\n  P1: {pagerduty: PEP1}\n") -> Shift:
    people = PEOPLE_YAML + "rotations:" + ROSTER_YAML.split("rotations:")[1].split(
        "escalation:")[0]
    config = config_for(["http://127.0.0.1:9"], extra=people + escalation_yaml + (
        "pagerduty:\n  - {name: pd, url: 'http://127.0.0.1:9', token: t}\n"))
    return Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                 config.roster)


def _reports():
    from shiftdeck.domain.board import SourceReport
    return {"alertmanager/am0": SourceReport("am0", "alertmanager", tuple(SEED_ALERTS), NOW)}


def test_a_level_from_pagerduty_has_no_ladder_until_the_policy_is_read_then_its_steps():
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift
    assert shift.escalations[BACKEND_DOWN.fingerprint].rungs == ()  # never the default's
    ladder = policy_ladder(POLICY, [CAROL_NOW], _people(), NOW)
    read = shift.with_roster(shift.roster, NOW, {"P1": ladder}).shift
    escalation = read.escalations[BACKEND_DOWN.fingerprint]
    # fired at NOW-12m: carol at -12m, bob at -2m (reached), erin at +18m (next)
    assert (escalation.current.index, escalation.current.person.id) == (1, "bob")
    assert escalation.next.at == BACKEND_DOWN.starts_at + timedelta(minutes=30)
    assert escalation.next.person.id == "erin"
    step = read.tick(NOW + timedelta(minutes=18, seconds=1))
    (event,) = [e for e in step.events
                if isinstance(e, Escalated) and e.alert.fingerprint == BACKEND_DOWN.fingerprint]
    assert (event.level, event.person) == ("L3", "erin")


def test_only_levels_that_name_a_policy_take_a_ladder_from_pagerduty():
    shift = _shift("escalation:\n  P1: {pagerduty: PEP1}\n  P2:\n    - {after: 0m, notify: "
                   "primary}\n")
    policy = shift.policy.escalation
    assert policy.from_pager == {"P1": PagerLadder("pd", "PEP1")}
    filled = policy.filled({"P1": (Step(timedelta(0), "bob"),), "P2": ()})
    assert filled.ladders["P1"] == (Step(timedelta(0), "bob"),)
    assert filled.ladders["P2"] == policy.ladders["P2"]
    assert filled.filled({"P1": (Step(timedelta(0), "bob"),)}) is filled


def test_an_incident_still_wins_over_the_policy_ladder():
    from shiftdeck.domain.pager import Incident, labels_key
    shift = _shift().journal_read((), NOW).shift.apply(_reports(), (), NOW).shift
    shift = shift.with_roster(shift.roster, NOW, {"P1": policy_ladder(POLICY, [], _people(),
                                                                       NOW)}).shift
    page = Incident("PINC1", 7, "[FIRING:1] x", "triggered", "high", "backend", "Backend",
                    "PEP1", (), (), NOW + timedelta(minutes=4), "key", "", NOW,
                    alert_labels=(labels_key(BACKEND_DOWN.labels),))
    paged = shift.apply(_reports(), (), NOW, (page,)).shift
    assert BACKEND_DOWN.fingerprint not in paged.escalations


# -- config ---------------------------------------------------------------------------------------

def _config_error(escalation: str, accounts: str = "[{name: pd, token: t}]") -> str:
    with pytest.raises(ConfigError) as raised:
        config_for(["http://127.0.0.1:9"], extra=PEOPLE_YAML + escalation + "\n"
                   + (f"pagerduty: {accounts}\n" if accounts else ""))
    return str(raised.value)


def test_config_errors_name_the_key():
    assert "escalation.P1.pagerduty: not a PagerDuty id: 'P EP1'" in _config_error(
        "escalation: {P1: {pagerduty: 'P EP1'}}")
    assert "escalation.P1: no pagerduty account is configured" in _config_error(
        "escalation: {P1: {pagerduty: PEP1}}", "")
    assert "escalation.P1.account: unknown pagerduty account 'pdx'" in _config_error(
        "escalation: {P1: {pagerduty: PEP1, account: pdx}}")
    assert "escalation.P1.account: required with several pagerduty accounts (pd, pd2)" in \
        _config_error("escalation: {P1: {pagerduty: PEP1}}",
                      "[{name: pd, token: t}, {name: pd2, token: t}]")
    assert "escalation.P1.after" in _config_error("escalation: {P1: {pagerduty: PEP1, after: 1m}}")


# -- the source, against the loopback PagerDuty ---------------------------------------------------

class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(url: str, ticks: Ticks, escalation_policies: tuple[str, ...] = ()):
    from shiftdeck.config.pagerduty import PagerDuty
    from shiftdeck.sources.pagerduty import PagerDutyClient
    from .support.pagerduty import TOKEN
    account = PagerDuty(name="pd", token=TOKEN, url=url, timeout=timedelta(seconds=3),
                        escalation_policies=escalation_policies)
    return PagerDutyClient(account, monotonic=ticks, ladders={"P1": "PEP1"})


@pytest.fixture
def pd_api():
    from shiftdeck.clock import FrozenClock
    from shiftdeck.demo.pagerduty_api import DemoOnCall
    from .support.pagerduty import TestPagerDuty
    api = TestPagerDuty(FrozenClock(NOW), (DemoOnCall("PUCAROL", "PEP1", 1,
                                                      NOW - timedelta(days=1),
                                                      NOW + timedelta(days=1), "Ops rota"),))
    api.schedule_targets[("PEP1", 0)] = ("PSOPS", "Ops rota")
    return api


async def test_the_policy_is_read_every_ten_minutes_and_its_last_copy_kept(pd_api) -> None:
    from .support.pagerduty import serving
    ticks = Ticks()
    with serving(pd_api) as url:
        client = _client(url, ticks)
        try:
            report, _ = await client.report(NOW)
            (policy,) = report.policies
            assert [r.delay_minutes for r in policy.rules] == [15, 30, 60]
            assert policy.rules[0].targets[0] == PolicyTarget("schedule", "PSOPS", "Ops rota")
            assert policy.rules[1].targets == (PolicyTarget("user", "PUBOB", "Bob Okafor"),)
            ladder = policy_ladder(policy, report.oncalls, _people(), NOW)
            assert [(s.after, s.notify) for s in ladder] == [
                (timedelta(0), "carol"), (timedelta(minutes=15), "bob"),
                (timedelta(minutes=45), "carol")]
            ticks.now += 599
            await client.report(NOW)
            assert pd_api.paths().count("/escalation_policies/PEP1") == 1
            del pd_api.policies["PEP1"]  # now PagerDuty answers 404
            ticks.now += 1
            later, _ = await client.report(NOW)
            assert pd_api.paths().count("/escalation_policies/PEP1") == 2
            assert later.policies == (policy,)
            (problem,) = later.problems
            assert problem.startswith("escalation policy PEP1 unavailable (its last good copy "
                                      "is used): HTTP 404")
        finally:
            await client.aclose()


async def test_on_calls_of_ladder_policies_are_read_when_the_account_filters_policies(
        pd_api) -> None:
    from .support.pagerduty import serving
    with serving(pd_api) as url:
        client = _client(url, Ticks(), escalation_policies=("POTHER",))
        try:
            await client.report(NOW)
            await client.oncalls(NOW, NOW + timedelta(days=1))
        finally:
            await client.aclose()
    asked = [q.get("escalation_policy_ids[]") for m, p, q, _ in pd_api.requests
             if p == "/oncalls"]
    assert asked == [["POTHER", "PEP1"], ["POTHER"]]  # `who` keeps to the account's filter


def test_check_names_the_key_of_a_policy_pagerduty_does_not_know(pd_api) -> None:
    import asyncio
    from shiftdeck.sources.pagerduty import probe_ladders
    from .support.pagerduty import TOKEN, serving
    with serving(pd_api) as url:
        config = config_for(["http://127.0.0.1:9"], extra=PEOPLE_YAML + (
            "escalation:\n  P1: {pagerduty: PEP1}\n  P2: {pagerduty: PNOPE}\n"
            f"pagerduty:\n  - {{name: pd, url: '{url}', token: {TOKEN}, timeout: 3s}}\n"))
        lines = asyncio.run(probe_ladders(config))
    assert lines[0] == (True, "escalation.P1.pagerduty (PEP1, pagerduty pd): Backend, "
                              "3 rule(s), 0 loop(s)")
    ok, line = lines[1]
    assert not ok and line.startswith("escalation.P2.pagerduty (PNOPE, pagerduty pd): "
                                      "PagerDuty knows no such escalation policy (HTTP 404")


async def test_the_desk_turns_a_poll_into_ladders_and_asks_for_them_to_be_applied(
        pd_api) -> None:
    import asyncio
    from shiftdeck.clock import FrozenClock
    from shiftdeck.services.pagerduty import PagerDesk
    from shiftdeck.services.sources import SourceBoard
    from .support.pagerduty import serving
    config = config_for(["http://127.0.0.1:9"], extra=PEOPLE_YAML)
    with serving(pd_api) as url:
        client = _client(url, Ticks())
        board = SourceBoard([], [], [client])
        desk = PagerDesk([client], board, config.roster, FrozenClock(NOW),
                         lambda *a, **k: None)
        called = asyncio.Event()
        rosters = []

        def changed(roster):
            rosters.append(roster)
            called.set()

        poll = asyncio.create_task(desk.poll(client, timedelta(minutes=1), changed))
        try:
            await asyncio.wait_for(called.wait(), 10)
        finally:
            poll.cancel()
            await client.aclose()
    assert rosters[0] is not None  # a ladder changed: the Shift must take it
    assert [(s.after, s.notify) for s in desk.ladders()["P1"]] == [
        (timedelta(0), "carol"), (timedelta(minutes=15), "bob"), (timedelta(minutes=45), "carol")]

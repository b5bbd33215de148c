"""PagerDuty REST API v2: incidents, their alerts' label sets, on-calls, escalation policies,
and the writes (acknowledge, resolve, snooze).

Every request goes through ``http.fetch`` with the account's deadline and size cap. Everything
read is untrusted: text is sanitised, times validated and clamped, unknown statuses and fields
tolerated. Rate limits (429) are honoured: a read waits for ``Retry-After`` when that is no
longer than ``max_wait`` (the poll interval) and tries once more; a write never waits, it says
"rate limited, retry in Ns"; until then no request is sent at all. Writes need the account's
``from`` e-mail (PagerDuty's ``From`` header) and are refused before any request without it or
in read-only mode.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson

from ..domain.pager import (Acknowledgement, Incident, Labels, OnCall, PagerPolicy, PagerUser,
                            PolicyRule, PolicyTarget, assignment_level, next_escalation,
                            parse_firing)
from ..domain.sanitize import clean, clean_line
from .http import Answer, SourceError, build_client, fetch
from .timeparse import parse_time

if TYPE_CHECKING:
    from ..config.pagerduty import PagerDuty

ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGERDUTY_MAX_BYTES = 16 << 20
"""100 incidents with assignees and policies are ~0.5 MB; a page never needs more."""
PAGE_LIMIT = 100
"""PagerDuty's largest page."""
OFFSET_CAP = 10_000
"""PagerDuty lists no further than offset + limit = 10,000 (classic pagination)."""
WRITE_BATCH = 250
"""PUT /incidents takes at most 250 incidents per call."""
ALERT_FETCHES_PER_POLL = 50
"""Incidents whose alerts are read in one poll (new or changed ones); the rest next poll."""
ALERT_CONCURRENCY = 4
FIRING_MAX_CHARS = 1 << 20
ONCALL_HORIZON = timedelta(weeks=8)
MAX_ONCALL_RANGE = timedelta(days=90)
"""PagerDuty refuses on-call ranges longer than 90 days."""
DEFAULT_RETRY_AFTER = 5.0
LIST_PAGES_IN_A_POLL = 10
"""Pages of incidents (1,000) a poll's deadline allows for, read one after another."""
POLICY_REFRESH = 600.0
"""Seconds between reads of the escalation policies that fill ladders: they rarely change."""


class PagerRefused(SourceError):
    """A write refused before any request: read-only, or no ``from`` e-mail configured."""


@dataclass(frozen=True, slots=True)
class PagerReport:
    """One poll of one PagerDuty account."""

    name: str
    kind: str
    incidents: tuple[Incident, ...]
    oncalls: tuple[OnCall, ...]
    fetched_at: datetime
    problems: tuple[str, ...] = ()
    """What could not be read this time though the incidents could (on-calls, some
    incidents' alerts, incidents past PagerDuty's 10,000 cap, escalation policies)."""
    policies: tuple[PagerPolicy, ...] = ()
    """The escalation policies that fill ladders (``ladder_policies``): the last good copy of
    each that could ever be read."""


@dataclass(frozen=True, slots=True)
class _SystemTrust:
    """https with the system's certificate store."""

    ca_file: None = None
    cert_file: None = None
    key_file: None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True, slots=True)
class _Connection:
    """What build_client reads, for a PagerDuty account."""

    url: str
    headers: Mapping[str, str] = field(repr=False)
    timeout: timedelta
    max_bytes: int
    bearer_token: None = None
    basic_auth: None = None
    proxy: None = None
    tls: _SystemTrust = _SystemTrust()


Sleep = Callable[[float], Awaitable[None]]


class PagerDutyClient:
    """One PagerDuty account. `max_wait`: the longest a read waits on a 429 (the poll
    interval); `read_only`: the global switch (the account's own is read too)."""

    kind = "pagerduty"

    def __init__(self, account: PagerDuty, *, read_only: bool = False, max_wait: float = 15.0,
                 client: httpx.AsyncClient | None = None, sleep: Sleep = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 ladders: Mapping[str, str] | None = None) -> None:
        """`ladders`: severity level → the id of the escalation policy that fills its ladder
        (config ``escalation: {P1: {pagerduty: <id>}}``), read by `report` every
        POLICY_REFRESH."""
        self.upstream = account
        self.ladders = dict(ladders or {})
        self.ladder_policies = tuple(dict.fromkeys(self.ladders.values()))
        self._policies: dict[str, PagerPolicy] = {}
        self._policies_read_at: float | None = None
        self._policy_problem = ""
        self.name = account.name
        self.read_only = read_only or account.read_only
        self.max_wait = max_wait
        self._deadline = account.timeout.total_seconds()
        self._max_bytes = account.max_bytes or PAGERDUTY_MAX_BYTES
        self._client = client or build_client(_Connection(
            account.url, {"Accept": ACCEPT, "Authorization": f"Token token={account.token}"},
            account.timeout, self._max_bytes), self._max_bytes)
        self._sleep = sleep
        self._monotonic = monotonic
        self._not_before = 0.0
        self._labels: dict[str, tuple[str, tuple[Labels, ...]]] = {}
        """incident id → (its version: status and updated_at, the label sets of its alerts)."""

    @property
    def requests_in_sequence(self) -> int:
        """The longest chain of requests in one poll, each within the timeout (poll.py's
        deadline): pages of incidents, then rounds of alert reads."""
        return LIST_PAGES_IN_A_POLL + math.ceil(ALERT_FETCHES_PER_POLL / ALERT_CONCURRENCY)

    @property
    def longest_wait(self) -> float:
        """The longest a read waits out a 429 (then once more before its retry)."""
        return self.max_wait

    # -- reads ---------------------------------------------------------------- #

    async def incidents(self) -> tuple[list[Incident], int, str]:
        """Open incidents (triggered and acknowledged), every page: (incidents, malformed
        items skipped, a problem sentence when PagerDuty's 10,000 cap was reached)."""
        params: list[tuple[str, str]] = [("statuses[]", "triggered"),
                                         ("statuses[]", "acknowledged")]
        params += [("service_ids[]", s) for s in self.upstream.services]
        params += [("team_ids[]", t) for t in self.upstream.teams]
        params += [("include[]", i) for i in ("assignees", "acknowledgers",
                                               "escalation_policies")]
        items, problem = await self._pages("/incidents", "incidents", params)
        incidents, skipped = [], 0
        for raw in items:
            try:
                incidents.append(parse_incident(raw, self.name))
            except (KeyError, TypeError, ValueError, AttributeError):
                skipped += 1
        return incidents, skipped, problem

    async def alert_labels(self, incident_id: str) -> tuple[Labels, ...]:
        """The label sets the incident's alerts list in ``body.details.firing`` (first page of
        its alerts: 100, far more than a notification groups in practice)."""
        payload = await self._get(f"/incidents/{quote(incident_id, safe='')}/alerts",
                                  [("limit", str(PAGE_LIMIT))])
        alerts = payload.get("alerts") if isinstance(payload, dict) else None
        if not isinstance(alerts, list):
            raise SourceError("unexpected answer: GET /incidents/{id}/alerts gave no alerts list")
        sets: list[Labels] = []
        for alert in alerts:
            sets.extend(firing_labels(alert))
        return tuple(dict.fromkeys(sets))

    async def oncalls(self, since: datetime, until: datetime, earliest: bool = False,
                      ladders: bool = False) -> list[OnCall]:
        """On-calls overlapping [since, until] (cut to PagerDuty's 90 days), of the account's
        escalation policies if it names some (and then, with `ladders`, of the policies that
        fill ladders too)."""
        until = min(until, since + MAX_ONCALL_RANGE)
        params = [("since", _iso(since)), ("until", _iso(until))]
        policies = self.upstream.escalation_policies
        if policies and ladders:
            policies = tuple(dict.fromkeys((*policies, *self.ladder_policies)))
        params += [("escalation_policy_ids[]", e) for e in policies]
        if earliest:
            params.append(("earliest", "true"))
        items, _ = await self._pages("/oncalls", "oncalls", params)
        found = []
        for raw in items:
            try:
                found.append(parse_oncall(raw))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        return found

    async def escalation_policy(self, policy_id: str) -> PagerPolicy:
        payload = await self._get(f"/escalation_policies/{quote(policy_id, safe='')}")
        raw = payload.get("escalation_policy") if isinstance(payload, dict) else None
        if not isinstance(raw, dict):
            raise SourceError("unexpected answer: no escalation_policy")
        return parse_policy(raw)

    async def report(self, now: datetime) -> tuple[PagerReport, int]:
        """Open incidents with their alerts' label sets, and the on-calls from now over the
        next 8 weeks (earliest per policy, level and user). On-calls failing keeps the
        incidents and says so in ``problems``."""
        listed, oncalls, _ = await asyncio.gather(
            self.incidents(),
            self.oncalls(now, now + ONCALL_HORIZON, earliest=True, ladders=True),
            self._read_policies(), return_exceptions=True)
        if isinstance(listed, BaseException):
            raise listed
        incidents, skipped, cap_problem = listed
        problems = [p for p in (cap_problem, self._policy_problem) if p]
        if isinstance(oncalls, SourceError):
            problems.append(f"on-calls unavailable: {oncalls}")
            oncalls = []
        elif isinstance(oncalls, BaseException):
            raise oncalls
        labelled, alerts_problem = await self._with_labels(incidents)
        if alerts_problem:
            problems.append(alerts_problem)
        labelled = [replace(i, level=assignment_level(i, oncalls, now)) for i in labelled]
        policies = tuple(self._policies[p] for p in self.ladder_policies if p in self._policies)
        return PagerReport(self.name, self.kind, tuple(labelled), tuple(oncalls), now,
                           tuple(problems), policies), skipped

    async def _read_policies(self) -> None:
        """The ladders' escalation policies, read again once POLICY_REFRESH has passed (at the
        next poll while one was never read); one that cannot be read keeps its last good copy
        and is named in `_policy_problem` until the next read."""
        read_at = self._policies_read_at
        if not self.ladder_policies or (read_at is not None
                                        and self._monotonic() - read_at < POLICY_REFRESH):
            return
        self._policies_read_at = self._monotonic()
        results = await asyncio.gather(*map(self.escalation_policy, self.ladder_policies),
                                       return_exceptions=True)
        failed = []
        for policy_id, result in zip(self.ladder_policies, results):
            if isinstance(result, PagerPolicy):
                self._policies[policy_id] = result
            elif isinstance(result, SourceError):
                kept = "its last good copy is used" if policy_id in self._policies \
                    else "its ladder stays empty"
                failed.append(f"escalation policy {policy_id} unavailable ({kept}): {result}")
            else:
                raise result
        self._policy_problem = "; ".join(failed)
        if any(p not in self._policies for p in self.ladder_policies):
            self._policies_read_at = None  # none read yet: try again at the next poll

    async def _with_labels(self, incidents: list[Incident]) -> tuple[list[Incident], str]:
        """Each incident with its alerts' label sets: known ones from the last polls, new or
        changed ones read now (at most ALERT_FETCHES_PER_POLL, ALERT_CONCURRENCY at a time)."""
        todo = [i for i in incidents if self._labels.get(i.id, ("",))[0] != _version(i)]
        gate = asyncio.Semaphore(ALERT_CONCURRENCY)

        async def read(incident: Incident) -> None:
            async with gate:
                labels = await self.alert_labels(incident.id)
            self._labels[incident.id] = (_version(incident), labels)

        results = await asyncio.gather(*(read(i) for i in todo[:ALERT_FETCHES_PER_POLL]),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, SourceError):
                raise error
        open_ids = {i.id for i in incidents}
        self._labels = {k: v for k, v in self._labels.items() if k in open_ids}
        problem = (f"alerts of {len(errors)} incident(s) unavailable: {errors[0]}" if errors
                   else "")
        return [_labelled(i, self._labels.get(i.id)) for i in incidents], problem

    # -- writes --------------------------------------------------------------- #

    def refusal(self) -> str:
        """Why a write would be refused before any request ('' when it would be tried)."""
        if self.read_only:
            return f"pagerduty {self.name} is read-only: nothing was sent to PagerDuty"
        if not self.upstream.from_email:
            return (f"pagerduty {self.name} has no `from` (your PagerDuty e-mail), which "
                    "PagerDuty requires for writes: nothing was sent")
        return ""

    async def set_status(self, incident_ids: Sequence[str], status: str) -> list[str]:
        """``PUT /incidents`` in batches of 250: every incident to ``acknowledged`` or
        ``resolved``. Returns the ids PagerDuty answered as updated."""
        self._check_writable()
        done: list[str] = []
        for start in range(0, len(incident_ids), WRITE_BATCH):
            batch = incident_ids[start:start + WRITE_BATCH]
            body = {"incidents": [{"id": i, "type": "incident_reference", "status": status}
                                  for i in batch]}
            payload = await self._write("PUT", "/incidents", body)
            answered = payload.get("incidents") if isinstance(payload, dict) else None
            if isinstance(answered, list):
                done += [i for i in batch if any(isinstance(a, dict) and a.get("id") == i
                                                 for a in answered)]
            else:
                done += list(batch)
        return done

    async def snooze(self, incident_id: str, duration: timedelta) -> None:
        """``POST /incidents/{id}/snooze``: back to triggered after `duration` (1s … 7d)."""
        self._check_writable()
        seconds = int(duration.total_seconds())
        if not 1 <= seconds <= 604_800:
            raise PagerRefused("a snooze lasts from 1 second to 7 days")
        await self._write("POST", f"/incidents/{quote(incident_id, safe='')}/snooze",
                          {"duration": seconds})

    def _check_writable(self) -> None:
        reason = self.refusal()
        if reason:
            raise PagerRefused(reason)

    # -- requests ------------------------------------------------------------- #

    async def _pages(self, path: str, key: str,
                     params: list[tuple[str, str]]) -> tuple[list[Any], str]:
        """Every page of a classic-paginated list (limit, offset, more), up to 10,000 items."""
        items: list[Any] = []
        offset = 0
        while True:
            if offset + PAGE_LIMIT > OFFSET_CAP:
                return items, (f"more than {OFFSET_CAP:,} {key}: PagerDuty lists no further, "
                               "the rest are not shown")
            payload = await self._get(path, [*params, ("limit", str(PAGE_LIMIT)),
                                             ("offset", str(offset))])
            page = payload.get(key) if isinstance(payload, dict) else None
            if not isinstance(page, list):
                raise SourceError(f"unexpected answer: GET {path} gave no {key} list")
            items += page
            if payload.get("more") is not True or not page:
                return items, ""
            offset += len(page)

    async def _get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        return await self._call("GET", path, params=params, write=False)

    async def _write(self, method: str, path: str, body: Any) -> Any:
        headers = {"From": self.upstream.from_email, "Content-Type": "application/json"}
        return await self._call(method, path, content=orjson.dumps(body), headers=headers,
                                write=True)

    async def _call(self, method: str, path: str, *, write: bool,
                    headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        await self._wait_for_rate_limit(write)
        for attempt in (1, 2):
            answer = await fetch(self._client, method, path, deadline=self._deadline,
                                 max_bytes=self._max_bytes, headers=headers, **kwargs)
            if answer.status_code != 429:
                return decode(answer)
            wait = retry_after(answer, datetime.now(UTC))
            self._not_before = self._monotonic() + wait
            if write or attempt == 2 or wait > self.max_wait:
                raise SourceError(_rate_limited(wait))
            await self._sleep(wait)
        raise AssertionError("unreachable")

    async def _wait_for_rate_limit(self, write: bool) -> None:
        wait = self._not_before - self._monotonic()
        if wait <= 0:
            return
        if write or wait > self.max_wait:
            raise SourceError(_rate_limited(wait))
        await self._sleep(wait)

    async def aclose(self) -> None:
        await self._client.aclose()


# --------------------------------------------------------------------------- #
# Answers
# --------------------------------------------------------------------------- #


def _rate_limited(seconds: float) -> str:
    return f"rate limited by PagerDuty, retry in {max(1, math.ceil(seconds))}s"


def retry_after(answer: Answer, now: datetime) -> float:
    """Seconds asked by ``Retry-After`` (seconds or an HTTP date); DEFAULT_RETRY_AFTER when
    missing or unreadable; never negative, never more than a day."""
    text = answer.headers.get("retry-after", "").strip()
    seconds: float = DEFAULT_RETRY_AFTER
    if text.isdigit():
        seconds = float(text)
    elif text:
        try:
            seconds = (parsedate_to_datetime(text) - now).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return min(max(seconds, 0.0), 86_400.0)


def decode(answer: Answer) -> Any:
    """The JSON of a successful answer, or SourceError with PagerDuty's own reason."""
    if answer.status_code >= 400:
        raise SourceError(error_sentence(answer))
    if not answer.content.strip():
        return {}
    try:
        return orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        if answer.content.lstrip()[:1] == b"<":
            raise SourceError("answered with an HTML page, not JSON (a login page or "
                              "proxy?)") from None
        raise SourceError(f"answered with invalid or truncated JSON ({len(answer.content)} "
                          "bytes)") from None


def error_sentence(answer: Answer) -> str:
    """``HTTP 400: You must specify … (PagerDuty error 2008): detail; detail`` from
    PagerDuty's ``{"error": {"message", "code", "errors": [...]}}``."""
    status = answer.status_code
    head = f"HTTP {status}"
    if status == 401:
        head += ": PagerDuty refused the token (check token / token_file)"
    elif status == 403:
        head += ": the token may not do this (a read-only API key cannot write)"
    reason = pagerduty_reason(answer.content)
    if reason:
        return f"{head}: {reason}"
    return head if status in (401, 403) else f"{head} {answer.reason_phrase}".strip()


def pagerduty_reason(content: bytes) -> str:
    try:
        payload = orjson.loads(content)
    except orjson.JSONDecodeError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return ""
    message = clean_line(error.get("message") or "", 300).strip()
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        message += f" (PagerDuty error {code})"
    details = [clean_line(e, 200).strip() for e in error.get("errors") or ()
               if isinstance(e, str)][:5]
    return message.strip() + (": " + "; ".join(details) if details else "")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _version(incident: Incident) -> str:
    updated = incident.updated_at.isoformat() if incident.updated_at else ""
    return f"{incident.status}/{updated}"


def _labelled(incident: Incident,
              known: tuple[str, tuple[Labels, ...]] | None) -> Incident:
    if known is None or not known[1]:
        return incident
    return replace(incident, alert_labels=known[1])


def _text(raw: Any, key: str, limit: int = 1024) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    return clean_line(value, limit).strip() if isinstance(value, (str, int)) else ""


def _ref_name(raw: Any) -> str:
    """A reference's display name: ``summary`` (or ``name`` for full objects)."""
    return _text(raw, "summary", 256) or _text(raw, "name", 256)


def _user(raw: Any) -> PagerUser:
    return PagerUser(_text(raw, "id", 64), _text(raw, "name", 256) or _ref_name(raw),
                     _text(raw, "email", 256))


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_time(value)
    except (ValueError, TypeError):
        return None


def parse_incident(raw: dict[str, Any], source: str) -> Incident:
    incident_id = _text(raw, "id", 64)
    if not incident_id:
        raise ValueError("an incident without id")
    actions = [(_text(a, "type", 40), at) for a in raw.get("pending_actions") or ()
               if isinstance(a, dict) and (at := _time_or_none(a.get("at"))) is not None]
    assignees = tuple(_user(a.get("assignee")) for a in raw.get("assignments") or ()
                      if isinstance(a, dict) and isinstance(a.get("assignee"), dict))
    acks = tuple(Acknowledgement(_user(a.get("acknowledger")), at)
                 for a in raw.get("acknowledgements") or ()
                 if isinstance(a, dict) and (at := _time_or_none(a.get("at"))) is not None)
    number = raw.get("incident_number")
    policy = raw.get("escalation_policy") or {}
    return Incident(
        id=incident_id,
        number=number if isinstance(number, int) and not isinstance(number, bool) else 0,
        title=_text(raw, "title", 2048) or _text(raw, "summary", 2048),
        status=_text(raw, "status", 40) or "unknown",
        urgency=_text(raw, "urgency", 40),
        service=_ref_name(raw.get("service")),
        escalation_policy=_ref_name(policy),
        escalation_policy_id=_text(policy, "id", 64),
        assignees=assignees,
        acknowledgements=acks,
        next_escalation_at=next_escalation(actions, _text(raw, "assigned_via", 40)),
        incident_key=_text(raw, "incident_key", 256),
        html_url=_text(raw, "html_url", 2048),
        created_at=parse_time(raw["created_at"]),
        updated_at=_time_or_none(raw.get("updated_at")),
        source=source,
    )


def firing_labels(alert: Any) -> list[Labels]:
    """The label sets in one PagerDuty alert's ``body.details.firing`` (or in ``details``
    itself when an integration sent it as text), cleaned as Alertmanager's labels are."""
    body = alert.get("body") if isinstance(alert, dict) else None
    details = body.get("details") if isinstance(body, dict) else None
    text = details.get("firing") if isinstance(details, dict) else details
    if not isinstance(text, str):
        return []
    return [tuple(sorted((clean(k, 1024), clean(v)) for k, v in labels))
            for labels in parse_firing(text[:FIRING_MAX_CHARS])]


def parse_oncall(raw: dict[str, Any]) -> OnCall:
    level = raw["escalation_level"]
    if not isinstance(level, int) or isinstance(level, bool) or level < 1:
        raise ValueError("escalation_level must be a positive number")
    policy = raw.get("escalation_policy") or {}
    return OnCall(_user(raw["user"]), level, _ref_name(policy), _text(policy, "id", 64),
                  _ref_name(raw.get("schedule")), _time_or_none(raw.get("start")),
                  _time_or_none(raw.get("end")))


def parse_policy(raw: dict[str, Any]) -> PagerPolicy:
    rules = []
    for rule in raw.get("escalation_rules") or ():
        if not isinstance(rule, dict):
            continue
        delay = rule.get("escalation_delay_in_minutes")
        targets = tuple(_target(t) for t in rule.get("targets") or () if isinstance(t, dict))
        rules.append(PolicyRule(delay if isinstance(delay, int) and delay >= 0 else 0, targets))
    loops = raw.get("num_loops")
    return PagerPolicy(_text(raw, "id", 64), _ref_name(raw), tuple(rules),
                       loops if isinstance(loops, int) and loops >= 0 else 0)


def _target(raw: dict[str, Any]) -> PolicyTarget:
    """A rule's target: ``user_reference``/``user`` or ``schedule_reference``/``schedule``."""
    kind = _text(raw, "type", 64).removesuffix("_reference")
    return PolicyTarget(kind, _text(raw, "id", 64), _ref_name(raw), _text(raw, "email", 256))


def make_pager_clients(config: Any) -> list[PagerDutyClient]:
    """A client per pagerduty account; `read_only` and the refresh (the longest wait on a
    429) come from the config."""
    ladders = config.escalation.from_pager.items()
    return [PagerDutyClient(account, read_only=bool(config.read_only),
                            max_wait=config.refresh.total_seconds(),
                            ladders={level: p.policy_id for level, p in ladders
                                     if p.account == account.name})
            for account in config.pagerduty]


async def probe_ladders(config: Any) -> list[tuple[bool, str]]:
    """`shiftdeck check`: each escalation policy a level takes its ladder from, read once;
    (ok, line naming the config key) per level."""
    clients = {c.name: c for c in make_pager_clients(config)}
    levels = list(config.escalation.from_pager.items())
    try:
        results = await asyncio.gather(
            *(clients[ladder.account].escalation_policy(ladder.policy_id)
              for _, ladder in levels), return_exceptions=True)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))
    lines = []
    for (level, ladder), result in zip(levels, results):
        key = f"escalation.{level}.pagerduty ({ladder.policy_id}, pagerduty {ladder.account})"
        if isinstance(result, PagerPolicy):
            lines.append((bool(result.rules), f"{key}: {result.name or result.id}, "
                          f"{len(result.rules)} rule(s), {result.num_loops} loop(s)"))
        elif isinstance(result, SourceError):
            lines.append((False, f"{key}: {_policy_error(result)}"))
        else:
            raise result
    return lines


def _policy_error(error: SourceError) -> str:
    text = str(error)
    if text.startswith("HTTP 404"):
        return f"PagerDuty knows no such escalation policy ({text})"
    return text


def by_name(clients: Iterable[PagerDutyClient]) -> dict[str, PagerDutyClient]:
    return {c.name: c for c in clients}

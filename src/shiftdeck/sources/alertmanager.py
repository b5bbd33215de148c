"""Alertmanager API v2: alerts, silences, status.

Speaks to 0.25 … 0.34: `status.mutedBy` (0.28+) and silence `annotations` (0.32+) are read when
present; `GET /silences` answering an error (0.32 with a multi-matcher-set silence) fails the
silences only, never the alerts. Nothing here calls `/api/v1` (gone since 0.27: HTTP 410).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain, islice
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from ..bulk import off_loop
from ..domain.alerts import Alert, AlertState, fingerprint, sharing
from ..domain.board import SourceReport
from ..domain.health import SourceHealth
from ..domain.intern import CleanCache, clean_map, clean_url, shared
from ..domain.matchers import Matcher, make_matcher
from ..domain.sanitize import clean, clean_mapping
from ..domain.severity import SeverityPolicy
from ..domain.silences import Silence, SilenceRequest, SilenceState
from .http import (LARGE_ANSWER, Answer, SourceError, build_client, clock_offset, decode_json,
                   delete, get_answer, get_json, post_json)
from .json_items import NotItems, items
from .timeparse import parse_time_checked


ParsedAlert = tuple[Alert, object]
"""An alert and the raw `startsAt` it was parsed from."""

KeyedAlert = tuple[str, ParsedAlert]
"""A ParsedAlert and its item's raw fingerprint ('' when it has none)."""

PeerBatches = Sequence[Mapping[str, ParsedAlert]]
"""HA peers' last batches (`AlertBatch.parsed`): an alert they hold shares its maps."""


@dataclass(frozen=True, slots=True)
class AlertBatch:
    alerts: tuple[Alert, ...]
    skipped: int
    """Malformed items left out."""
    instance: str = ""
    parsed: Mapping[str, ParsedAlert] = field(default_factory=dict, repr=False)
    """By the raw fingerprint: what the next poll of `instance` may reuse (`parse_alerts`)."""
    by_digest: Mapping[bytes, KeyedAlert] = field(default_factory=dict, repr=False)
    """By the digest of an item's bytes, when parsed item by item (`parse_alert_items`)."""


@dataclass(frozen=True, slots=True)
class AlertmanagerStatus:
    version: str
    cluster_name: str
    cluster_status: str
    peers: int


def parse_alerts(payload: Any, instance: str, previous: AlertBatch | None = None,
                 cache: CleanCache | None = None, peers: PeerBatches = (), *,
                 policy: SeverityPolicy | None = None) -> AlertBatch:
    """Alerts from a /api/v2/alerts answer; malformed items are skipped and counted.

    An item equal to what `previous` (the same instance's last batch) parsed gets the very
    same Alert object back, unparsed; `cache` cleans each distinct string once; an alert new
    here that a peer (`peers`: their last batches' `parsed`) holds shares its maps; `policy`
    gives each alert parsed its level (the board checks it: an alert reused keeps its own)."""
    if not isinstance(payload, list):
        raise SourceError("unexpected answer: /api/v2/alerts did not return a list")
    known = _known(previous, instance)
    return _batch(((b"", _parse_item(raw, instance, known, cache, peers, policy))
                   for raw in payload), instance)


@dataclass(frozen=True, slots=True)
class Progress:
    """Handed an answer's alerts while it is parsed, `every` at a time and in order (the
    poller process sends them on meanwhile); in the parsing thread. The alerts after the last
    handful it was handed are only in the batch."""

    every: int
    take: Callable[[Sequence[Alert]], None]


def parse_alert_answer(answer: Answer, instance: str, previous: AlertBatch | None = None,
                       cache: CleanCache | None = None, peers: PeerBatches = (), *,
                       progress: Progress | None = None,
                       policy: SeverityPolicy | None = None) -> AlertBatch:
    """`parse_alert_items`, or the answer decoded whole when it cannot be read item by item."""
    try:
        return parse_alert_items(answer.content, instance, previous, cache, peers,
                                 progress=progress, policy=policy)
    except NotItems:
        return parse_alerts(decode_json(answer), instance, previous, cache, peers,
                            policy=policy)


def parse_alert_items(body: bytes, instance: str, previous: AlertBatch | None = None,
                      cache: CleanCache | None = None, peers: PeerBatches = (), *,
                      progress: Progress | None = None,
                      policy: SeverityPolicy | None = None) -> AlertBatch:
    """`parse_alerts` of the JSON array `body`, decoded one item at a time (json_items): an
    item whose very bytes `previous` parsed is its Alert again, not even decoded. Raises
    NotItems when `body` is not a compact array of objects (decode it whole then), maybe
    after `progress` was handed some alerts. The very batch `previous` when every item is its
    item again, in its order."""
    found = _items_parsed(body, instance, previous, cache, peers, policy)
    if progress is None and previous is not None and previous.instance == instance \
            and len(previous.by_digest) == len(previous.alerts) and not previous.skipped:
        same, rest = _same_or_rest(found, previous)
        return same if same is not None else _batch(rest, instance)
    return _batch(found, instance, progress)


def _same_or_rest(found: Iterator[tuple[bytes, KeyedAlert | None]], previous: AlertBatch
                  ) -> tuple[AlertBatch | None, Iterable[tuple[bytes, KeyedAlert | None]]]:
    """`previous` when `found` is its items again in its order (a poll where nothing changed
    then builds no new maps); else None and all of `found`, read so far or not."""
    expected = iter(previous.by_digest.items())
    matched = 0
    for item in found:
        if next(expected, None) != item:
            return None, chain(islice(previous.by_digest.items(), matched), (item,), found)
        matched += 1
    if next(expected, None) is None:
        return previous, ()
    return None, islice(previous.by_digest.items(), matched)


JOINED_MAX = 64
"""Slices joined at most into one item (`_items_parsed`): an alert's receivers are a list of
objects, and each of them past the first is one more slice."""
JOINED_BYTES = 4 << 20
"""Bytes joined at most into one item: each try decodes all of them again, so a hostile answer
of a few huge slices costs at most JOINED_MAX tries of this size before it is decoded whole."""


def _items_parsed(body: bytes, instance: str, previous: AlertBatch | None,
                  cache: CleanCache | None, peers: PeerBatches,
                  policy: SeverityPolicy | None) -> Iterator[tuple[bytes, KeyedAlert | None]]:
    """Each item's digest and what it parses to (None: malformed). A slice that does not
    decode is the start of an item holding a list of objects (`json_items`): the slices after
    it are joined to it until they decode. A JSON value has one end, so what decodes is that
    item; past JOINED_MAX slices or JOINED_BYTES the answer is decoded whole."""
    known = _known(previous, instance)
    known_digests = (previous.by_digest if previous is not None and previous.instance == instance
                     else {})
    held: list[memoryview] = []
    for piece in items(body):
        item = b",".join((*held, piece)) if held else piece
        digest = hashlib.blake2b(item, digest_size=16).digest()
        found = known_digests.get(digest)
        if found is None:
            try:
                raw = orjson.loads(item)
            except orjson.JSONDecodeError:
                held.append(piece)
                if len(held) >= JOINED_MAX or len(item) > JOINED_BYTES:
                    raise NotItems("an item does not decode") from None
                continue
            found = _parse_item(raw, instance, known, cache, peers, policy)
        held.clear()
        yield digest, found
    if held:
        raise NotItems("the last item does not decode")


def _batch(found: Iterable[tuple[bytes, KeyedAlert | None]], instance: str,
           progress: Progress | None = None) -> AlertBatch:
    """The batch of these parsed items; a digest (b"": none) makes the item reusable by its
    bytes."""
    alerts: list[Alert] = []
    parsed: dict[str, ParsedAlert] = {}
    by_digest: dict[bytes, KeyedAlert] = {}
    skipped = told = 0
    take, every = (progress.take, progress.every) if progress is not None else (None, 0)
    for digest, one in found:
        if take is not None and len(alerts) - told >= every:
            take(alerts[told:])
            told = len(alerts)
        if one is None:
            skipped += 1
            continue
        key, seen = one
        if key:
            parsed[key] = seen
        if digest:
            by_digest[digest] = one
        alerts.append(seen[0])
    return AlertBatch(tuple(alerts), skipped, instance, parsed, by_digest)


def _held_by(peers: PeerBatches, key: str) -> Alert | None:
    """A peer's alert of this raw fingerprint ('' finds none)."""
    for parsed in peers if key else ():
        if (seen := parsed.get(key)) is not None:
            return seen[0]
    return None


def _known(previous: AlertBatch | None, instance: str) -> Mapping[str, ParsedAlert]:
    return previous.parsed if previous is not None and previous.instance == instance else {}


def _parse_item(raw: Any, instance: str, known: Mapping[str, ParsedAlert],
                cache: CleanCache | None, peers: PeerBatches = (),
                policy: SeverityPolicy | None = None) -> KeyedAlert | None:
    """One item's raw fingerprint ('' when it has none) and alert, the known one when the item
    is unchanged; None when the item is malformed."""
    try:
        key = raw.get("fingerprint")
        if type(key) is not str:
            key = ""
        seen = known.get(key) if key else None
        if seen is None or not _same_item(seen, raw):
            alert = sharing(parse_alert(raw, instance, cache, policy), _held_by(peers, key))
            seen = (alert, raw.get("startsAt"))
        return key, seen
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _same_item(seen: ParsedAlert, raw: dict[str, Any]) -> bool:
    """True when `raw` would parse to `seen`'s alert. Texts are compared with the cleaned
    values the alert holds: a raw text equal to a cleaned one cleans to itself. `endsAt` and
    `updatedAt` are not read (Prometheus moves both on every resend)."""
    alert, starts_at = seen
    status = raw.get("status") or {}
    return (raw.get("labels") == alert.labels and raw.get("startsAt") == starts_at
            and tuple(status.get("silencedBy") or ()) == alert.silenced_by
            and tuple(status.get("inhibitedBy") or ()) == alert.inhibited_by
            and tuple(status.get("mutedBy") or ()) == alert.muted_by
            and _state(status.get("state"), alert.silenced_by, alert.inhibited_by,
                       alert.muted_by) is alert.state
            and [r.get("name") for r in raw.get("receivers") or ()] == list(alert.receivers)
            and (raw.get("annotations") or {}) == alert.annotations
            and raw.get("generatorURL", "") == alert.generator_url)


def parse_alert(raw: dict[str, Any], instance: str, cache: CleanCache | None = None,
                policy: SeverityPolicy | None = None) -> Alert:
    labels = clean_map(raw["labels"], cache)
    if not labels:
        raise ValueError("alert without labels")
    status = raw.get("status") or {}
    silenced = tuple(clean(s, 64) for s in status.get("silencedBy") or ())
    inhibited = tuple(clean(s, 64) for s in status.get("inhibitedBy") or ())
    muted = tuple(clean(s, 256) for s in status.get("mutedBy") or ())
    starts_at, clamped = parse_time_checked(raw["startsAt"])
    return Alert(
        fingerprint=clean(raw.get("fingerprint"), 64) or fingerprint(labels),
        labels=labels,
        annotations=clean_map(raw.get("annotations"), cache),
        state=_state(status.get("state"), silenced, inhibited, muted),
        starts_at=starts_at,
        instances=shared((instance,), cache),
        generator_url=clean_url(raw.get("generatorURL"), cache),
        silenced_by=silenced,
        inhibited_by=inhibited,
        receivers=shared(tuple(clean(r.get("name"), 256) for r in raw.get("receivers") or ()),
                         cache),
        muted_by=muted,
        clamped=("startsAt",) if clamped else (),
        level=policy.level_of(labels).level if policy is not None else "",
    )


def _state(state: object, silenced: tuple[str, ...], inhibited: tuple[str, ...],
           muted: tuple[str, ...] = ()) -> AlertState:
    """Suppressed by a silence first (an ack is one), then an inhibition, then a time interval."""
    if state != "suppressed":
        return AlertState.FIRING
    if silenced:
        return AlertState.SILENCED
    if inhibited:
        return AlertState.INHIBITED
    return AlertState.MUTED if muted else AlertState.SILENCED


def parse_silences(payload: Any, cluster: str) -> tuple[Silence, ...]:
    """Silences from a /api/v2/silences answer; malformed items are left out."""
    if not isinstance(payload, list):
        raise SourceError("unexpected answer: /api/v2/silences did not return a list")
    silences = []
    for raw in payload:
        try:
            silences.append(parse_silence(raw, cluster))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return tuple(silences)


def parse_silence(raw: dict[str, Any], cluster: str) -> Silence:
    silence_id = raw["id"]
    if not isinstance(silence_id, str) or not silence_id or clean(silence_id, 64) != silence_id:
        raise ValueError("bad silence id")
    matchers, editable = _silence_matchers(raw["matchers"])
    starts_raw = raw["startsAt"]
    times = {key: parse_time_checked(raw[key]) for key in ("startsAt", "endsAt")}
    updated = raw.get("updatedAt")
    if updated:
        times["updatedAt"] = parse_time_checked(updated)
    return Silence(
        id=silence_id,
        matchers=matchers,
        starts_at=times["startsAt"][0],
        ends_at=times["endsAt"][0],
        created_by=clean(raw.get("createdBy"), 256),
        comment=clean(raw.get("comment"), 4096),
        state=SilenceState(raw["status"]["state"]),
        cluster=cluster,
        starts_at_raw=starts_raw,
        updated_at=times["updatedAt"][0] if updated else None,
        editable=editable,
        annotations=clean_mapping(raw.get("annotations")),
        clamped=tuple(key for key, (_, clamped) in times.items() if clamped),
    )


def _silence_matchers(raw: list[dict[str, Any]]) -> tuple[tuple[Matcher, ...], bool]:
    """The matchers, in the server's order (an update must send them back identical), and
    whether sanitising left every name and value unchanged."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("a silence without matchers")
    matchers, editable = [], True
    for item in raw:
        name, value = item["name"], item["value"]
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("matcher name and value must be text")
        is_regex, is_equal = item.get("isRegex", False), item.get("isEqual", True)
        if is_equal is None:
            is_equal = True
        op = ("=~" if is_equal else "!~") if is_regex else ("=" if is_equal else "!=")
        clean_name, clean_value = clean(name, 1024), clean(value)
        editable = editable and (clean_name, clean_value) == (name, value)
        # A regex RE2 refuses is kept, marked "cannot evaluate", so the silence is still
        # listed and can be expired.
        matchers.append(make_matcher(clean_name, op, clean_value, lenient=True))
    return tuple(matchers), editable


def silences_health(report: SourceReport, previous: SourceReport | None,
                    known: SourceHealth | None) -> SourceHealth | None:
    """The banner entry while a report's silences could not be read ("alertmanager am0
    silences unavailable: HTTP 500 …"), or None when they could."""
    if not report.silences_error:
        return None
    if known is None:
        shown = previous is not None and not previous.silences_error
        known = SourceHealth(f"{report.name} silences", report.kind,
                             last_ok=previous.fetched_at if shown and previous is not None else None)
    return known.failed(report.fetched_at, report.silences_error.removeprefix("silences "))


def silence_body(request: SilenceRequest) -> dict[str, Any]:
    """The POST /api/v2/silences body for a request (with `id` it updates that silence)."""
    body: dict[str, Any] = {
        "matchers": [{"name": m.name, "value": m.value, "isRegex": m.is_regex,
                      "isEqual": m.is_equal} for m in request.matchers],
        "startsAt": request.starts_at_raw or rfc3339(request.starts_at),
        "endsAt": rfc3339(request.ends_at),
        "createdBy": request.created_by,
        "comment": request.comment,
    }
    if request.id:
        body["id"] = request.id
    return body


def rfc3339(at: datetime) -> str:
    """UTC, millisecond precision (what Alertmanager itself answers): 2026-11-22T14:00:00.000Z."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertmanagerClient:
    """One Alertmanager instance. `instance` names it in the UI, e.g. 'prod/am-1'."""

    kind = "alertmanager"

    def __init__(self, upstream: Any, client: httpx.AsyncClient | None = None) -> None:
        self.upstream = upstream
        self.name = upstream.name
        self.cluster = upstream.cluster
        self._client = client or build_client(upstream)
        self._last_silences: tuple[Silence, ...] = ()
        self._last_batch: AlertBatch | None = None
        self._strings = CleanCache()
        self.policy: SeverityPolicy | None = None
        """Gives each alert parsed its level (the poller: the board then has less to do)."""
        self.peers: tuple[AlertmanagerClient, ...] = ()
        """The other members of its HA cluster polled in the same process (the poller):
        their copies of an alert and this one's share its maps (`sharing`)."""

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client every request goes through (`http.limits(client)`: deadline, cap)."""
        return self._client

    async def alerts(self, progress: Progress | None = None) -> AlertBatch:
        answer = await get_answer(self._client, "/api/v2/alerts")
        previous, strings = self._last_batch, self._strings
        # Read item by item (json_items): polled again, the unchanged items are not even
        # decoded; the first answer is never decoded whole (at 100k alerts whole took 2.8-3.6 s
        # and 642 MB at its peak, item by item 2.3 s and 389 MB; at 10k both ~0.22 s).
        peers = [p._last_batch.parsed for p in self.peers if p._last_batch is not None]
        parse = partial(parse_alert_answer, progress=progress, policy=self.policy)
        if len(answer.content) >= LARGE_ANSWER:
            # Keep the event loop free for key presses while thousands of alerts are parsed.
            batch = await off_loop(parse, answer, self.name, previous, strings, peers)
        else:
            batch = parse(answer, self.name, previous, strings, peers)
        self._last_batch = batch
        return batch

    async def silences(self) -> tuple[Silence, ...]:
        payload = await get_json(self._client, "/api/v2/silences")
        return parse_silences(payload, self.cluster)

    async def report(self, now: datetime, progress: Progress | None = None
                     ) -> tuple[SourceReport, int]:
        """Alerts and silences, fetched concurrently. Alerts failing fails the poll; silences
        failing (0.32 answers 500 while a multi-matcher-set silence exists) keeps the last good
        silences and says so in `silences_error`, so the alerts are still shown. `progress`
        is handed the alerts while they are parsed."""
        batch, silences = await asyncio.gather(self.alerts(progress), self.silences(),
                                               return_exceptions=True)
        if isinstance(batch, BaseException):
            raise batch
        problem = ""
        if isinstance(silences, SourceError):
            problem = f"silences unavailable: {silences}"
        elif isinstance(silences, BaseException):
            raise silences
        else:
            self._last_silences = silences
        return SourceReport(self.name, self.kind, batch.alerts, now, silences=self._last_silences,
                            silences_error=problem), batch.skipped

    async def post_silence(self, request: SilenceRequest) -> str:
        """Create (or, with `request.id`, update) a silence; return its ID."""
        answer = await post_json(self._client, "/api/v2/silences", silence_body(request))
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise SourceError("unexpected answer: POST /api/v2/silences gave no silenceID")
        return clean(silence_id, 64)

    async def expire_silence(self, silence_id: str) -> None:
        """Expire a silence now (DELETE /api/v2/silence/{id})."""
        await delete(self._client, "/api/v2/silence/" + quote(silence_id, safe=""))

    async def status(self) -> AlertmanagerStatus:
        payload = await get_json(self._client, "/api/v2/status")
        if not isinstance(payload, dict):
            raise SourceError("unexpected answer: /api/v2/status is not an object")
        cluster = payload.get("cluster") or {}
        return AlertmanagerStatus(
            version=clean((payload.get("versionInfo") or {}).get("version"), 64),
            cluster_name=clean(cluster.get("name"), 128),
            cluster_status=clean(cluster.get("status"), 32),
            peers=len(cluster.get("peers") or ()),
        )

    def clock_offset(self) -> timedelta | None:
        """This server's clock minus this machine's, from its latest answer (None before one)."""
        return clock_offset(self._client)

    async def aclose(self) -> None:
        await self._client.aclose()

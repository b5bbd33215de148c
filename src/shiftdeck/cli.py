"""One-shot commands: `shiftdeck alerts`, `check`, `ack`, `silence`, `silences`, `expire`,
`who`, `schedule`, `handoff`. No textual on this path."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import orjson

from .clock import Clock
from .config import alerting
from .domain.alerts import Alert, AlertState
from .domain.board import EMPTY_BOARD, Board, build_board
from .domain.durations import (OutOfRange, check_year, format_age, format_duration,
                               parse_duration, parse_start)
from .domain.health import Health, SourceHealth
from .domain.matchers import Matcher, MatcherError, parse_matchers
from .domain.sanitize import clean_line
from .domain.roster import (DISTANT_FUTURE, DISTANT_PAST, Holding, Person, Roster, coalesce,
                             localize)
from .domain.silences import (Refusal, Silence, SilenceRequest, SilenceState, check_silence,
                              matching_alerts)
from .domain.view import AlertRow, Grouping, SilenceRow, select_rows, silence_rows
from .sources.alertmanager import AlertmanagerClient, silences_health
from .sources.http import SourceError
from .sources.journal import Journal, JournalRead
from .sources.poll import Source, make_sources, poll_and_close
from .sources.prometheus import PrometheusClient
from .domain.journal import PagerAcked, Record
from .domain.pager import Correlation, Incident, correlate, oncall_shifts
from .domain.roster import Shift, with_shifts

# The write path, schedules, PagerDuty and the handoff report are imported by the commands
# that use them: `shiftdeck alerts` loads none of them (tests/test_cli_startup.py).
if TYPE_CHECKING:
    from . import writes
    from .sources.pagerduty import PagerDutyClient
    from .sources.silence_writer import SilenceWriter

MAX_WEEKS = 52
"""schedule --weeks: a year ahead at most."""
READ_ONLY = "shiftdeck: read-only mode (--read-only or read_only: true): nothing was written"
MIN_ID_PREFIX = 8


class Polled(Protocol):
    """A poll started before the config was loaded (early.EarlyPoll)."""

    def results(self, config: Any) -> list[tuple[Source, Any]] | None: ...


def run_alerts(config: Any, clock: Clock, filter_text: str, as_json: bool,
               out: TextIO = sys.stdout, err: TextIO = sys.stderr,
               early: Polled | None = None) -> int:
    """The merged alerts matching `filter_text`, with every source's health in JSON. Exit 1
    when a source failed (its alerts are missing; the rest are printed). `early`: the poll
    already under way, used when it polls `config`'s upstreams."""
    try:
        matchers = parse_matchers(filter_text)
    except MatcherError as error:
        print(f"shiftdeck: matchers: {error}", file=err)
        return 2
    polled = early.results(config) if early else None
    if polled is None:
        polled = asyncio.run(_poll(config, clock))
    board, failures = _board_of(polled, config, clock)
    rows = select_rows(board.alerts.values(), matchers, Grouping.NONE, config.severity)
    alerts = [row.alert for row in rows if isinstance(row, AlertRow)]
    if as_json:
        now = clock.now()
        body = {"alerts": [_as_json(a, now) for a in alerts],
                "sources": [_health_json(h) for h in board.health]}
        _write_bytes(out, orjson.dumps(body) + b"\n")
    else:
        width = terminal_width(out)
        out.write("".join(_as_line(a, clock, config.key_labels, width) + "\n" for a in alerts))
    for name, reason in failures:
        print(f"shiftdeck: {name}: {reason}", file=err)
    return 1 if failures else 0


def _health_json(health: SourceHealth) -> dict[str, Any]:
    def when(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {"name": health.name, "kind": health.kind, "ok": health.health is Health.OK,
            "error": health.error, "lastSuccess": when(health.last_ok),
            "failingSince": when(health.failing_since), "skipped": health.skipped}


async def _collect(config: Any, clock: Clock) -> tuple[Board, list[tuple[str, str]]]:
    return _board_of(await _poll(config, clock), config, clock)


async def _poll(config: Any, clock: Clock) -> list[tuple[Source, Any]]:
    return await poll_and_close(make_sources(config), clock)


def _board_of(results: list[tuple[Source, Any]], config: Any,
              clock: Clock) -> tuple[Board, list[tuple[str, str]]]:
    """The board of one poll of every source, and the sources that failed (name, reason)."""
    reports = {s.name + "/" + s.kind: r[0] for s, r in results if not isinstance(r, SourceError)}
    failures = [(f"{s.kind} {s.name}", str(r)) for s, r in results if isinstance(r, SourceError)]
    now = clock.now()
    health = tuple(SourceHealth(s.name, s.kind, failing_since=now, error=str(r))
                   if isinstance(r, SourceError) else SourceHealth(s.name, s.kind, last_ok=now,
                                                                   skipped=r[1])
                   for s, r in results)
    # Silences that could not be read fail on their own; the alerts are still good.
    failures += [(f"{r.kind} {r.name}", r.silences_error) for r in reports.values()
                 if r.silences_error]
    health += tuple(h for r in reports.values() if (h := silences_health(r, None, None)))
    board = build_board(reports, health, EMPTY_BOARD, config.severity, now,
                        config.resolved_retention)
    return board, failures


def _write_bytes(out: TextIO, data: bytes) -> None:
    """Straight to the binary stream when there is one (10k alerts are ~8 MB of JSON)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode())
        return
    out.flush()
    buffer.write(data)
    buffer.flush()


def _as_json(alert: Alert, now: datetime) -> dict[str, Any]:
    """orjson writes the state's value and startsAt as isoformat() does, in C (50k alerts:
    ~0.1 s less than writing them here)."""
    return {
        "fingerprint": alert.fingerprint,
        "level": alert.level,
        "state": alert.state,
        "alertname": alert.name,
        "startsAt": alert.starts_at,
        "ageSeconds": int((now - alert.starts_at).total_seconds()),
        "labels": alert.labels,
        "annotations": alert.annotations,
        "instances": alert.instances,
        "silencedBy": alert.silenced_by,
        "inhibitedBy": alert.inhibited_by,
        "mutedBy": alert.muted_by,
        "expression": alert.expression,
        "warnings": alert.warnings,
    }


def _as_line(alert: Alert, clock: Clock, key_labels: tuple[str, ...],
             width: int | None = None) -> str:
    age = format_age(clock.now() - alert.starts_at)
    labels = " ".join(f"{k}={alert.labels[k]}" for k in key_labels if k in alert.labels)
    # Terminal output: keep one alert per line whatever the labels hold.
    cells = [_one_line(f"{alert.level:<3} {alert.state_text:<9} {age:>4}"), _one_line(alert.name),
             _one_line(labels), _one_line(alert.summary)]
    # Narrow terminals: the labels give way first, then the summary, the name last.
    return fit_cells(cells, ((2, 24), (3, 30), (2, 0), (3, 0), (1, 8)), width, whole_words={2})


def terminal_width(out: TextIO, environ: Mapping[str, str] = os.environ) -> int | None:
    """$COLUMNS when set, else the width of the terminal `out` writes to; None (no limit) when
    it writes to a pipe or a file (`| grep` sees whole lines)."""
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return shutil.get_terminal_size().columns if out.isatty() else None
    except (AttributeError, ValueError, OSError):
        return None


def fit_cells(cells: list[str], shrink: tuple[tuple[int, int], ...], width: int | None,
              whole_words: frozenset[int] | set[int] = frozenset()) -> str:
    """The cells joined by spaces (empty ones left out), within `width`: each (cell, floor) step
    of `shrink`, in order, cuts that cell (with …) down to no less than floor characters, until
    the line fits; a line still too long is cut at the end. Cells in `whole_words` (labels)
    lose whole words, never half a word."""
    def joined() -> str:
        return " ".join(cell for cell in cells if cell)

    if width is None:
        return joined()
    for index, floor in shrink:
        over = len(joined()) - width
        if over <= 0:
            break
        clip = _clip_words if index in whole_words else _clip
        cells[index] = clip(cells[index], max(floor, len(cells[index]) - over))
    return _clip(joined(), width)


def _clip_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    kept = ""
    for word in text.split(" "):
        longer = f"{kept} {word}" if kept else word
        if len(longer) + 2 > limit:  # room for " …"
            break
        kept = longer
    return f"{kept} …" if kept else ""


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit - 1] + "…" if limit > 1 else ""


def run_check(config: Any, out: TextIO = sys.stdout) -> int:
    print(clean_line(f"config: {config.source or '(built in)'}: ok"), file=out)
    for warning in config_warnings(config):
        print("warn " + clean_line(warning), file=out)
    lines = asyncio.run(_probe_all(config))
    for ok, line in lines:  # servers' versions and errors: one line each, nothing raw
        print(("ok   " if ok else "FAIL ") + clean_line(line), file=out)
    return 0 if all(ok for ok, _ in lines) else 1


def run_init(environ: Mapping[str, str], force: bool = False, out: TextIO = sys.stdout,
             err: TextIO = sys.stderr) -> int:
    """Write the commented sample config where shiftdeck looks for it, never over an existing
    file unless `force`. Exit 2 when the file exists, 1 when it cannot be written."""
    from importlib.resources import files

    from .config import default_config_path

    path = default_config_path(environ)
    if path.exists() and not force:
        print(f"shiftdeck: init: {path} exists: not overwritten (--force replaces it)", file=err)
        return 2
    sample = files("shiftdeck").joinpath("sample_config.yaml").read_text(encoding="utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(str(path), sample)
    except OSError as error:
        print(f"shiftdeck: init: {path}: {error.strerror or error}", file=err)
        return 1
    print(f"wrote {path}: set alertmanagers (and user, people), then run `shiftdeck check`",
          file=out)
    return 0


def config_warnings(config: Any) -> list[str]:
    """What a valid config probably did not mean (exit code unchanged)."""
    warnings = list(alerting.timing_warnings(config.ack, config.silences))
    people = config.roster.people
    if people and config.user not in people:
        warnings.append(f"user {config.user!r} is not one of people ({', '.join(sorted(people))}): "
                        "your acks and silences will not name a person of the roster")
    return warnings


async def _probe_all(config: Any) -> list[tuple[bool, str]]:
    from .sources.pagerduty import probe_ladders
    from .sources.schedule import fetch_feeds

    lines = list(await asyncio.gather(*(_probe(s) for s in make_sources(config))))
    if config.schedules_ics:
        now = datetime.now(UTC)
        results = await fetch_feeds(config.schedules_ics, config.roster.people, now=now,
                                    zone=config.timezone)
        for result in results:
            fresh = not result.error
            detail = (f"{len(result.shifts)} shift(s) in the next 8 weeks"
                      + (f", {len(result.unmatched)} naming nobody in people"
                         if result.unmatched else "")
                      if fresh else result.error)
            lines.append((fresh and not result.unmatched, f"ics {result.feed.name}: {detail}"))
    if config.escalation.from_pager:
        lines += await probe_ladders(config)
    return lines


async def _probe(source: Any) -> tuple[bool, str]:
    label = f"{source.kind} {source.name} ({source.upstream.url})"
    try:
        if isinstance(source, AlertmanagerClient):
            status = await source.status()
            detail = (f"version {status.version}, cluster {status.cluster_name or '-'} "
                      f"{status.cluster_status or 'disabled'}, {status.peers} peer(s)")
        else:
            assert isinstance(source, PrometheusClient)
            version = await source.version()
            rules = await source.rule_alerts()
            detail = f"version {version}, {len(rules.expressions)} alert rule(s)"
        return True, f"{label}: {detail}"
    except SourceError as err:
        return False, f"{label}: {err}"
    finally:
        await source.aclose()


# --------------------------------------------------------------------------- #
# Writes: ack, silence, expire. Exit 0 done, 1 failed, 2 refused (read-only, guardrails, usage).
# --------------------------------------------------------------------------- #


def run_ack(config: Any, clock: Clock, matchers_text: str, note: str = "",
            out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """One ACK! silence per current alert matching, on its exact label set, in its cluster."""
    if config.read_only:
        print(READ_ONLY, file=err)
        return 2
    matchers = _cli_matchers(matchers_text, err)
    if matchers is None:
        return 2
    return asyncio.run(_ack(config, clock, matchers_text, matchers, note, out, err))


async def _ack(config: Any, clock: Clock, text: str, matchers: tuple[Matcher, ...], note: str,
               out: TextIO, err: TextIO) -> int:
    from . import writes
    from .sources.pagerduty import by_name, make_pager_clients
    from .sources.silence_writer import SilenceWriter

    board, failures = await _collect(config, clock)
    _report_failures(failures, err)
    alerts = _current(board, matchers, config)
    if not alerts:
        print(f"shiftdeck: no current alert matches {text!r}: nothing acknowledged", file=err)
        return 1
    writer = SilenceWriter(config, clock=clock)
    pagers = make_pager_clients(config)
    try:
        correlation, unread = await _pages_of(pagers, alerts, clock.now(), err)
        outcome, paged = await writes.acknowledge_paged(
            alerts, writer, by_name(pagers), correlation, config.user, config.ack, note)
    finally:
        await asyncio.gather(writer.aclose(), *(p.aclose() for p in pagers))
    by_key = {alert.fingerprint: alert for alert in alerts}
    told: set[str] = set()
    for item in outcome.items:
        what = _describe(by_key[item.key])
        failure = writes.ack_failure(item, paged.for_alert(item.key))
        if item.silence_id:
            print(f"{item.silence_id} {what} ({item.cluster})", file=out)
        if item.skipped or (item.refused and not failure):
            print(f"shiftdeck: {what}: {item.skipped or item.error}", file=err)
        if failure and (item.error or item.key not in told):
            print(f"shiftdeck: {what}: {failure}", file=err)
            told.add(item.key)
    _print_pages(paged, out, err)
    records = writes.ack_records(alerts, outcome, config.user, clock.now(), config.ack, note)
    records += writes.pager_records(paged, config.user, clock.now(), PagerAcked)
    _after_writes(config, writer, outcome, records, err)
    return _paged_exit_code(outcome, paged, unread)


async def _pages_of(pagers: list[PagerDutyClient], alerts: list[Alert], now: datetime,
                    err: TextIO) -> tuple[Correlation, bool]:
    """The incidents paging for `alerts` (every account's open incidents, correlated); True
    when some account could not be read (its incidents then stay unacknowledged)."""
    results = await asyncio.gather(*(p.report(now) for p in pagers), return_exceptions=True)
    incidents: list[Incident] = []
    unread = False
    for pager, result in zip(pagers, results):
        if isinstance(result, SourceError):
            print(f"shiftdeck: pagerduty {pager.name}: {result}: its incidents were not "
                  "acknowledged", file=err)
            unread = True
        elif isinstance(result, BaseException):
            raise result
        else:
            incidents += result[0].incidents
    return correlate(incidents, alerts), unread


def _print_pages(paged: writes.PagerOutcome, out: TextIO, err: TextIO) -> None:
    """Incidents acknowledged (once each) and those that needed nothing; failures were said
    with their alert (writes.ack_failure)."""
    said: set[str] = set()
    for item in paged.items:
        if item.incident.id in said:
            continue
        said.add(item.incident.id)
        where = f"PagerDuty {item.incident.source}"
        if item.done:
            print(_one_line(f"{item.incident.reference} acknowledged in {where}: "
                            f"{item.incident.title}"), file=out)
        elif item.skipped:
            print(_one_line(f"shiftdeck: {item.skipped}"), file=err)


def _paged_exit_code(outcome: writes.Outcome, paged: writes.PagerOutcome, unread: bool) -> int:
    silences = _exit_code(outcome)
    if unread or silences == 1 or any(i.error and not i.refused for i in paged.items):
        return 1
    return 2 if silences == 2 or any(i.refused for i in paged.items) else 0


def _after_writes(config: Any, writer: SilenceWriter, outcome: writes.Outcome,
                  records: list[Record], err: TextIO) -> None:
    """Warnings, clock skews over 30 s, and the journal records of what was written."""
    from .domain.clockskew import noticeable, skew_warning

    for warning in outcome.warnings:
        print(f"shiftdeck: warning: {warning}", file=err)
    for cluster, ahead in noticeable(writer.skews()):
        print(f"shiftdeck: warning: {skew_warning(cluster, ahead)}", file=err)
    if not records:
        return
    try:
        Journal(config.journal).extend(records)
    except OSError as error:
        print(f"shiftdeck: warning: journal {config.journal}: not written "
              f"({error.strerror or error}); the write itself was done", file=err)


def _exit_code(outcome: writes.Outcome) -> int:
    if any(item.error and not item.refused for item in outcome.items):
        return 1
    return 2 if any(item.refused for item in outcome.items) else 0


def run_silence(config: Any, clock: Clock, matchers_text: str, duration_text: str, comment: str,
                approver: str = "", start_text: str = "", cluster: str = "",
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """One silence with these matchers (one per cluster involved), within the guardrails."""
    if config.read_only:
        print(READ_ONLY, file=err)
        return 2
    matchers = _cli_matchers(matchers_text, err)
    if matchers is None:
        return 2
    try:
        duration = parse_duration(duration_text)
        if duration.total_seconds() <= 0:
            raise ValueError("must be longer than 0s")
    except ValueError as error:
        print(f"shiftdeck: --duration: {error}", file=err)
        return 2
    try:
        starts_at = parse_start(start_text, clock.now())
    except ValueError as error:
        print(f"shiftdeck: --start: {error}", file=err)
        return 2
    request = SilenceRequest(matchers, starts_at, starts_at + duration, config.user, comment, "")
    return asyncio.run(_silence(config, clock, request, start_text, approver, cluster, out, err))


async def _silence(config: Any, clock: Clock, request: SilenceRequest, start_text: str,
                   approver: str, cluster: str, out: TextIO, err: TextIO) -> int:
    from . import writes
    from .sources.silence_writer import SilenceWriter

    writer = SilenceWriter(config, clock=clock)
    try:
        if cluster and cluster not in writer.clusters:
            print(f"shiftdeck: --cluster: no Alertmanager cluster named {cluster!r} "
                  f"(known: {', '.join(writer.clusters) or 'none'})", file=err)
            return 2
        board, failures = await _collect(config, clock)
        _report_failures(failures, err)
        matched = matching_alerts(request.matchers, board.alerts.values())
        try:
            request = check_silence(request, matched, config.severity, config.silences, approver)
        except Refusal as refusal:
            print(f"shiftdeck: refused: {refusal}", file=err)
            return 2
        clusters = _target_clusters(writer, matched, cluster)
        if not clusters:
            print("shiftdeck: no current alert matches, so the cluster is unknown: name it with "
                  f"--cluster (known: {', '.join(writer.clusters) or 'none'})", file=err)
            return 2
        length = request.ends_at - request.starts_at
        requests = []
        for name in clusters:  # +30m is from now on the cluster's clock
            starts = parse_start(start_text, await writer.server_now(name))
            requests.append(replace(request, cluster=name, starts_at=starts,
                                    ends_at=starts + length))
        outcome = await writes.write_silences(requests, writer)
        for item in outcome.items:
            if item.silence_id:
                print(f"{item.silence_id} silences {len(matched)} alert(s) for "
                      f"{format_duration(length)} ({item.cluster})", file=out)
            elif item.refused:
                print(f"shiftdeck: {item.error}", file=err)
            else:
                print(f"shiftdeck: not silenced: {item.error}", file=err)
        target = matched[0] if len(matched) == 1 else None
        records = writes.silence_records(request, outcome, target, config.user, clock.now())
        _after_writes(config, writer, outcome, records, err)
        return _exit_code(outcome)
    finally:
        await writer.aclose()


def _target_clusters(writer: SilenceWriter, matched: list[Alert], cluster: str) -> list[str]:
    if cluster:
        return [cluster]
    held = {c for alert in matched for c in writer.clusters_of(alert)}
    if held:
        return [c for c in writer.clusters if c in held]
    return list(writer.clusters) if len(writer.clusters) == 1 else []


def run_expire(config: Any, clock: Clock, silence_id: str, cluster: str = "",
               out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Expire one silence, by ID (or a unique prefix of at least 8 characters)."""
    if config.read_only:
        print(READ_ONLY, file=err)
        return 2
    silence_id = silence_id.strip()
    if len(silence_id) < MIN_ID_PREFIX:
        print(f"shiftdeck: {silence_id!r}: give at least {MIN_ID_PREFIX} characters of the "
              "silence id", file=err)
        return 2
    return asyncio.run(_expire(config, clock, silence_id, cluster, out, err))


async def _expire(config: Any, clock: Clock, silence_id: str, cluster: str, out: TextIO,
                  err: TextIO) -> int:
    from . import writes
    from .sources.silence_writer import ReadOnlyError, SilenceWriter

    writer = SilenceWriter(config, clock=clock)
    found: Silence | None = None
    try:
        if cluster and cluster not in writer.clusters:
            print(f"shiftdeck: --cluster: no Alertmanager cluster named {cluster!r} "
                  f"(known: {', '.join(writer.clusters) or 'none'})", file=err)
            return 2
        if not cluster:
            board, failures = await _collect(config, clock)
            found, problem = _find_silence(board, silence_id)
            if found is None:
                _report_failures(failures, err)
                print(f"shiftdeck: {problem}", file=err)
                return 1
            silence_id, cluster = found.id, found.cluster
        try:
            await writer.expire(cluster, silence_id)
        except ReadOnlyError as error:
            print(f"shiftdeck: {error}", file=err)
            return 2
        except SourceError as error:
            print(f"shiftdeck: not expired: {error}", file=err)
            return 1
        print(f"{silence_id} expired ({cluster})", file=out)
        record = writes.expire_record(silence_id, found, config.user, clock.now())
        _after_writes(config, writer, writes.Outcome(), [record], err)
        return 0
    finally:
        await writer.aclose()


def _find_silence(board: Board, silence_id: str) -> tuple[Silence | None, str]:
    """The silence with this ID or unique ID prefix, or why there is none."""
    if silence_id in board.silences:
        return board.silences[silence_id], ""
    if len(silence_id) >= MIN_ID_PREFIX:
        found = [s for sid, s in board.silences.items() if sid.startswith(silence_id)]
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, f"{silence_id!r} is the start of {len(found)} silence IDs: give more of it"
    return None, (f"no silence {silence_id!r} in any Alertmanager (give the full ID, or name "
                  "the cluster with --cluster)")


# --------------------------------------------------------------------------- #
# Reading silences
# --------------------------------------------------------------------------- #


def run_silences(config: Any, clock: Clock, expiring_text: str = "", as_json: bool = False,
                 matchers_text: str = "", out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr) -> int:
    """Active, pending and recently expired silences (deduplicated across HA peers); with
    matchers, those whose own matchers satisfy them (amtool silence query's filter)."""
    try:
        wanted = parse_matchers(matchers_text)
    except MatcherError as error:
        print(f"shiftdeck: matchers: {error}", file=err)
        return 2
    within = None
    if expiring_text:
        try:
            within = parse_duration(expiring_text)
        except ValueError as error:
            print(f"shiftdeck: --expiring: {error}", file=err)
            return 2
    board, failures = asyncio.run(_collect(config, clock))
    now = clock.now()
    rows = silence_rows(board.silences.values(), board.alerts.values(), now,
                        config.silences.warn_before)
    if within is not None:
        rows = tuple(r for r in rows if r.silence.state is SilenceState.ACTIVE
                     and r.silence.ends_at - now <= within)
    rows = tuple(r for r in rows if _silence_matches(r.silence, wanted))
    if as_json:
        out.write(orjson.dumps([_silence_json(r, now) for r in rows]).decode() + "\n")
    else:
        width = terminal_width(out)
        out.write("".join(_silence_line(r, now, width) + "\n" for r in rows))
    _report_failures(failures, err)
    return 1 if failures else 0


def _silence_json(row: SilenceRow, now: datetime) -> dict[str, Any]:
    silence = row.silence
    return {
        "id": silence.id,
        "cluster": silence.cluster,
        "state": silence.state.value,
        "createdBy": silence.created_by,
        "comment": silence.comment,
        "ack": silence.is_ack,
        "matchers": [str(m) for m in silence.matchers],
        "startsAt": silence.starts_at.isoformat(),
        "endsAt": silence.ends_at.isoformat(),
        "endsInSeconds": int((silence.ends_at - now).total_seconds()),
        "silencedAlerts": row.silencing,
        "expiringSoon": row.expiring_soon,
        "matchesNothing": row.matches_nothing,
        "annotations": silence.annotations,
        "warnings": silence.warnings,
    }


def _silence_matches(silence: Silence, wanted: tuple[Matcher, ...]) -> bool:
    """Alertmanager's silence filter: each matcher holds for the silence's matchers read as
    labels (name → value), e.g. alertname=DiskFull finds silences on alertname="DiskFull"; a
    positive matcher needs its label among them."""
    labels = {m.name: m.value for m in silence.matchers}
    return all((m.name in labels or not m.is_equal) and m.matches(labels) for m in wanted)


def _silence_line(row: SilenceRow, now: datetime, width: int | None = None) -> str:
    silence = row.silence
    when = row.timing(now)
    flags = [flag for flag, on in (("EXPIRING-SOON", row.expiring_soon),
                                   ("MATCHES-NOTHING", row.matches_nothing)) if on]
    matchers = "{" + ", ".join(str(m) for m in silence.matchers) + "}"
    notes = "".join(f" {k}={v}" for k, v in sorted(silence.annotations.items()))
    head = f"{silence.id} {silence.state.value:<7} {when:<14} {row.silencing:>3} alert(s)"
    tail = (f"{silence.created_by} {matchers} {silence.comment}{notes}"
            + (" [" + " ".join(flags) + "]" if flags else "")
            + "".join(f" [{warning}]" for warning in silence.warnings))
    # Narrow terminals: the ID, state, timing and count stay whole.
    return fit_cells([_one_line(head), _one_line(tail)], ((1, 0),), width)


# --------------------------------------------------------------------------- #
# Shared
# --------------------------------------------------------------------------- #


def _cli_matchers(text: str, err: TextIO) -> tuple[Matcher, ...] | None:
    try:
        matchers = parse_matchers(text)
    except MatcherError as error:
        print(f"shiftdeck: matchers: {error}", file=err)
        return None
    if not matchers:
        print("shiftdeck: matchers: give at least one, e.g. alertname=DiskFull", file=err)
        return None
    return matchers


def _current(board: Board, matchers: tuple[Matcher, ...], config: Any) -> list[Alert]:
    rows = select_rows(board.alerts.values(), matchers, Grouping.NONE, config.severity)
    return [r.alert for r in rows if isinstance(r, AlertRow)
            and r.alert.state is not AlertState.RESOLVED]


def _describe(alert: Alert) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    text = f"{alert.name}{{{labels}}}"
    return text.replace("\n", " ").replace("\t", " ")


def _report_failures(failures: list[tuple[str, str]], err: TextIO) -> None:
    for name, reason in failures:
        print(f"shiftdeck: {name}: {reason}", file=err)


# --------------------------------------------------------------------------- #
# On call: who, schedule
# --------------------------------------------------------------------------- #


def run_who(config: Any, clock: Clock, at_text: str = "", as_json: bool = False,
            out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Every role's holder at one instant (default now). Exit 1 if an ICS feed could not be
    read at all (neither fresh nor from its cache); its roles then show what else is known."""
    zone = config.timezone
    try:
        at = parse_at(at_text, zone, clock.now())
    except ValueError as error:
        print(f"shiftdeck: --at: {error}", file=err)
        return 2
    roster, failed = _roster(config, clock.now(), at - timedelta(days=1), at + timedelta(weeks=8),
                             err)
    holdings = [roster.holding(role, at) for role in roster.roles()]
    if as_json:
        body = {"at": at.astimezone(zone).isoformat(), "timezone": zone.key,
                "roles": [_holding_json(h, zone) for h in holdings]}
        out.write(orjson.dumps(body).decode() + "\n")
    else:
        if not holdings:
            print("shiftdeck: no roster configured (people, rotations, overrides or "
                  "schedules_ics)", file=err)
        else:
            print(f"on call at {_when(at, zone)} {at.astimezone(zone).tzname()} ({zone.key})",
                  file=out)
            width = max(len(h.role) for h in holdings)
            who = max(len(_who(h)) for h in holdings)
            for h in holdings:
                extra = [h.source] if h.source not in ("rotation", "") else []
                if h.person and h.person.phone:
                    extra.append(h.person.phone)
                line = (f"{h.role:<{width}}  {_who(h):<{who}}  since {_when(h.start, zone)}"
                        f"  until {_when(h.end, zone)}" + "".join(f"  {x}" for x in extra))
                print(_one_line(line), file=out)
    return 1 if failed else 0


def run_schedule(config: Any, clock: Clock, weeks: int = 4, as_json: bool = False,
                 from_text: str = "", out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The coming holdings (handoffs) per role over `weeks` from now (or `from_text`), the
    current one first."""
    if not 1 <= weeks <= MAX_WEEKS:
        print(f"shiftdeck: --weeks: give a number from 1 to {MAX_WEEKS}", file=err)
        return 2
    zone = config.timezone
    try:
        now = parse_at(from_text, zone, clock.now())
    except ValueError as error:
        print(f"shiftdeck: --from: {error}", file=err)
        return 2
    end = now + timedelta(weeks=weeks)
    roster, failed = _roster(config, clock.now(), now - timedelta(days=1),
                             end + timedelta(weeks=1), err)
    plan = [(role, coalesce(roster.timeline(role, now, end))) for role in roster.roles()]
    if as_json:
        body = {"from": now.astimezone(zone).isoformat(), "until": end.astimezone(zone).isoformat(),
                "timezone": zone.key,
                "roles": [{"role": role, "holdings": [_holding_json(h, zone) for h in holdings]}
                          for role, holdings in plan]}
        out.write(orjson.dumps(body).decode() + "\n")
        return 1 if failed else 0
    if not plan:
        print("shiftdeck: no roster configured (people, rotations, overrides or schedules_ics)",
              file=err)
    for index, (role, holdings) in enumerate(plan):
        print(("\n" if index else "") + f"{role} (times {zone.key})", file=out)
        for h in holdings:
            extra = f"  {h.source}" if h.source not in ("rotation", "") else ""
            print(_one_line(f"  {_when(h.start, zone)} → {_when(h.end, zone)}  {_who(h)}{extra}"),
                  file=out)
    return 1 if failed else 0


def parse_at(text: str, zone: tzinfo, now: datetime) -> datetime:
    """'' (now) or an ISO 8601 time; without an offset it is wall-clock time in `zone`."""
    text = text.strip()
    if not text:
        return now
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use e.g. 2026-11-23T09:00 or "
                         "2026-11-23T08:00Z)") from None
    check_year(at)  # before localize: year 1 with +14:00 overflows there
    return localize(at, zone)  # type: ignore[arg-type]


def _roster(config: Any, now: datetime, start: datetime, end: datetime,
            err: TextIO) -> tuple[Roster, bool]:
    """The config's roster with its ICS feeds' and PagerDuty's on-call shifts over
    [start, end) (PagerDuty's: at most 90 days); problems to `err`."""
    from .sources.schedule import read_feeds, roster_with_feeds

    roster, failed = config.roster, False
    if config.schedules_ics:
        results = read_feeds(config.schedules_ics, config.roster.people, now=now, start=start,
                             end=end, zone=config.timezone)
        for result in results:
            for problem in result.problems():
                print(f"shiftdeck: {problem}", file=err)
        roster, failed = roster_with_feeds(config.roster, results), any(not r.ok for r in results)
    if config.pagerduty:
        shifts, pager_failed = asyncio.run(_pager_shifts(config, start, end, err))
        roster = with_shifts(roster, (*roster.shifts, *shifts))
        failed = failed or pager_failed
    return roster, failed


async def _pager_shifts(config: Any, start: datetime, end: datetime,
                        err: TextIO) -> tuple[list[Shift], bool]:
    """Every account's on-calls as shifts of the roles its `levels` name; users who are
    nobody in `people` are reported and left out, like an ICS feed's."""
    from .sources.pagerduty import MAX_ONCALL_RANGE, make_pager_clients

    pagers = make_pager_clients(config)
    try:
        results = await asyncio.gather(*(p.oncalls(start, end) for p in pagers),
                                       return_exceptions=True)
    finally:
        await asyncio.gather(*(p.aclose() for p in pagers))
    shifts: list[Shift] = []
    failed = False
    for pager, result in zip(pagers, results):
        if isinstance(result, SourceError):
            print(f"shiftdeck: pagerduty {pager.name}: on-calls unavailable: {result}", file=err)
            failed = True
            continue
        if isinstance(result, BaseException):
            raise result
        if end - start > MAX_ONCALL_RANGE:
            print(f"shiftdeck: pagerduty {pager.name}: on-calls read for the first 90 days "
                  "only (PagerDuty's limit)", file=err)
        found = oncall_shifts(result, pager.upstream.levels, config.roster.people, pager.name)
        for who in found.unmatched:
            print(_one_line(f"shiftdeck: pagerduty {pager.name}: on-call {who} is nobody in "
                            "people: not used"), file=err)
        shifts += found.shifts
    return shifts, failed


def _when(at: datetime, zone: tzinfo) -> str:
    if at <= DISTANT_PAST or at >= DISTANT_FUTURE:
        return "—"
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def _who(holding: Holding) -> str:
    return holding.person.label if holding.person else "nobody (coverage gap)"


def _person_json(person: Person | None) -> dict[str, str] | None:
    if person is None:
        return None
    return {"id": person.id, "name": person.name, "handle": person.handle,
            "phone": person.phone, "email": person.email}


def _holding_json(holding: Holding, zone: tzinfo) -> dict[str, Any]:
    def when(at: datetime) -> str | None:
        return None if at <= DISTANT_PAST or at >= DISTANT_FUTURE else \
            at.astimezone(zone).isoformat()

    return {"role": holding.role, "person": _person_json(holding.person),
            "since": when(holding.start), "until": when(holding.end), "source": holding.source}


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ")


# --------------------------------------------------------------------------- #
# Handoff
# --------------------------------------------------------------------------- #

JOURNAL_CONTEXT = timedelta(days=7)
"""Read this much journal before --since too: alerts that fired before the shift and were
acknowledged or resolved during it need their FIRING record for MTTA and MTTR."""


def run_handoff(config: Any, clock: Clock, since_text: str = "7d", out_file: str = "",
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The handoff report in Markdown, to stdout or --out. Exit 1 when a source, an ICS feed
    or the journal could not be read (the report is still written, and says which source was
    down), 2 for bad arguments. Corrupt journal lines are reported and skipped."""
    from .domain.handoff import handoff_report

    now = clock.now()
    try:
        since = parse_since(since_text, config.timezone, now)
    except ValueError as error:
        print(f"shiftdeck: --since: {error}", file=err)
        return 2
    journal_failed = False
    try:
        read = Journal(config.journal).read(since - JOURNAL_CONTEXT)
    except OSError as error:
        print(f"shiftdeck: journal {config.journal}: {error.strerror or error}", file=err)
        read, journal_failed = JournalRead((), ()), True
    for line, reason in read.corrupt:
        print(f"shiftdeck: {config.journal}:{line}: skipped: {reason}", file=err)
    board, failures = asyncio.run(_collect(config, clock))
    _report_failures(failures, err)
    roster, feeds_failed = _roster(config, now, now - timedelta(days=1), now + timedelta(weeks=9),
                                   err)
    report = handoff_report(read.records, board, roster, now, since, config.user,
                            config.timezone, config.severity, key_labels=config.key_labels)
    if out_file:
        try:
            _write_atomically(out_file, report)
        except OSError as error:
            print(f"shiftdeck: --out {out_file}: {error.strerror or error}", file=err)
            return 1
    else:
        out.write(report)
    return 1 if failures or feeds_failed or journal_failed else 0


def parse_since(text: str, zone: tzinfo, now: datetime) -> datetime:
    """A duration back from now (`7d`, `12h`) or a time (ISO 8601; without an offset, in
    `zone`)."""
    text = text.strip()
    if _DURATION_LIKE.fullmatch(text):
        duration = parse_duration(text)  # says what is wrong with it (too long, say)
        if duration <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return now - duration
    try:
        at = parse_at(text, zone, now)
    except OutOfRange:
        raise
    except ValueError:
        raise ValueError(f"not a duration or a time: {text!r} (use e.g. 7d, 12h or "
                         "2026-11-16T09:00)") from None
    if at >= now:
        raise ValueError(f"{text!r} is not in the past")
    return at


_DURATION_LIKE = re.compile(r"(?:\d+[a-z]+)+")


def _write_atomically(name: str, text: str) -> None:
    """Write next to the target, then rename over it: readers never see half a report."""
    path = os.path.abspath(name)
    temporary = os.path.join(os.path.dirname(path),
                             f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise

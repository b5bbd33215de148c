"""One-shot commands: `shiftdeck alerts` and `shiftdeck check`. No textual on this path."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

import orjson

from .clock import Clock
from .domain.alerts import Alert
from .domain.board import EMPTY_BOARD, build_board
from .domain.durations import format_age
from .domain.matchers import MatcherError, parse_matchers
from .domain.view import AlertRow, Grouping, select_rows
from .sources.alertmanager import AlertmanagerClient
from .sources.http import SourceError
from .sources.poll import make_sources, poll_all_once
from .sources.prometheus import PrometheusClient


def run_alerts(config: Any, clock: Clock, filter_text: str, as_json: bool,
               out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        matchers = parse_matchers(filter_text)
    except MatcherError as error:
        print(f"shiftdeck: --filter: {error}", file=err)
        return 2
    board, failures = asyncio.run(_collect(config, clock))
    rows = select_rows(board.alerts.values(), matchers, Grouping.NONE, config.severity)
    alerts = [row.alert for row in rows if isinstance(row, AlertRow)]
    if as_json:
        out.write(orjson.dumps([_as_json(a, clock) for a in alerts]).decode() + "\n")
    else:
        out.write("".join(_as_line(a, clock, config.key_labels) + "\n" for a in alerts))
    for name, reason in failures:
        print(f"shiftdeck: {name}: {reason}", file=err)
    return 1 if failures else 0


async def _collect(config: Any, clock: Clock):
    sources = make_sources(config)
    try:
        results = await poll_all_once(sources, clock)
    finally:
        await asyncio.gather(*(s.aclose() for s in sources))
    reports = {s.name + "/" + s.kind: r[0] for s, r in results if not isinstance(r, SourceError)}
    failures = [(f"{s.kind} {s.name}", str(r)) for s, r in results if isinstance(r, SourceError)]
    board = build_board(reports, (), EMPTY_BOARD, config.severity, clock.now(),
                        config.resolved_retention)
    return board, failures


def _as_json(alert: Alert, clock: Clock) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "level": alert.level,
        "state": alert.state.value,
        "alertname": alert.name,
        "startsAt": alert.starts_at.isoformat(),
        "ageSeconds": int((clock.now() - alert.starts_at).total_seconds()),
        "labels": alert.labels,
        "annotations": alert.annotations,
        "instances": alert.instances,
        "silencedBy": alert.silenced_by,
        "inhibitedBy": alert.inhibited_by,
        "expression": alert.expression,
    }


def _as_line(alert: Alert, clock: Clock, key_labels: tuple[str, ...]) -> str:
    age = format_age(clock.now() - alert.starts_at)
    labels = " ".join(f"{k}={alert.labels[k]}" for k in key_labels if k in alert.labels)
    text = f"{alert.level:<3} {alert.state.value:<9} {age:>4} {alert.name} {labels}".rstrip()
    # Terminal output: keep one alert per line whatever the labels hold.
    return text.replace("\n", " ").replace("\t", " ")


def run_check(config: Any, out: TextIO = sys.stdout) -> int:
    print(f"config: {config.source or '(built in)'}: ok", file=out)
    lines = asyncio.run(_probe_all(config))
    for ok, line in lines:
        print(("ok   " if ok else "FAIL ") + line, file=out)
    return 0 if all(ok for ok, _ in lines) else 1


async def _probe_all(config: Any) -> list[tuple[bool, str]]:
    return list(await asyncio.gather(*(_probe(s) for s in make_sources(config))))


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

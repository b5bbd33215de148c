"""The thread-side work of each poll, timed per step, without the app:

    python3 bench/parse_merge_profile.py                    # 10k alerts, 1k change per poll
    python3 bench/parse_merge_profile.py --changes 0        # 10k alerts, nothing changes
    python3 bench/parse_merge_profile.py --peers 3          # three HA peers answering the same

Each poll's Alertmanager answer (GET /api/v2/alerts shape: fingerprint, status, receivers,
updatedAt) is encoded once with orjson, then for every peer: decoded (`orjson.loads`, as
sources/http.py does) and parsed (`parse_alerts`, as the source does, with its previous batch
and string cache when the code has them); then `build_board` merges the peers, the rows are
ordered (domain/ordering.py when present, else the full sort `select_rows` does) and an
AlertRef is made for each alert that fired (what the journal records). The storm is
bench/storm_profile.py's: 500 new firing alerts and 500 gone per poll.

The cyclic collector is off while timing (the source parses with it off, bulk.py).
Run it against other code with PYTHONPATH=<dir holding a shiftdeck package> to compare.
Printed: per step, median and worst milliseconds per poll, and the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import storm_profile  # noqa: E402

from shiftdeck.domain import board as board_module  # noqa: E402
from shiftdeck.domain.journal import AlertRef  # noqa: E402
from shiftdeck.domain.severity import DEFAULT_POLICY  # noqa: E402
from shiftdeck.domain.view import _sort_key_of  # noqa: E402
from shiftdeck.sources import alertmanager  # noqa: E402

try:
    from shiftdeck.domain.intern import CleanCache
    from shiftdeck.domain.ordering import order_alerts
except ImportError:  # the code before incremental parsing
    CleanCache = None  # type: ignore[assignment,misc]
    order_alerts = None  # type: ignore[assignment]

INCREMENTAL = "previous" in inspect.signature(alertmanager.parse_alerts).parameters


class Peer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.previous = None
        self.cache = CleanCache() if CleanCache is not None and INCREMENTAL else None

    def parse(self, payload: list) -> tuple:
        if not INCREMENTAL:
            return alertmanager.parse_alerts(payload, self.name).alerts
        self.previous = alertmanager.parse_alerts(payload, self.name, self.previous, self.cache)
        return self.previous.alerts


def run(steps: int, peers: int, changes: int) -> dict[str, list[float]]:
    storm_profile.CHANGES = changes
    spans: dict[str, list[float]] = defaultdict(list)
    members = [Peer(f"am{i}") for i in range(peers)]
    board, order = board_module.EMPTY_BOARD, None
    stamp = datetime.now(timezone.utc).isoformat()
    gc.disable()
    for raw in storm_profile.storm(steps):
        encoded = orjson.dumps([storm_profile.answer_shape(a, stamp) for a in raw])
        now = datetime.now(timezone.utc)
        reports = {}
        timed: dict[str, float] = defaultdict(float)
        for peer in members:
            started = time.perf_counter()
            payload = orjson.loads(encoded)
            decoded = time.perf_counter()
            alerts = peer.parse(payload)
            timed["orjson.loads"] += decoded - started
            timed["parse_alerts"] += time.perf_counter() - decoded
            reports[f"alertmanager/{peer.name}"] = board_module.SourceReport(
                peer.name, "alertmanager", alerts, now)
            del payload
        started = time.perf_counter()
        previous, board = board, board_module.build_board(reports, (), board, DEFAULT_POLICY, now)
        timed["build_board"] = time.perf_counter() - started
        started = time.perf_counter()
        order = _order(board, order)
        timed["order rows"] = time.perf_counter() - started
        fired = [a for fp, a in board.alerts.items() if fp not in previous.alerts]
        started = time.perf_counter()
        refs = [AlertRef.of(a) for a in fired]
        timed["AlertRef.of (fired ones)"] = \
            time.perf_counter() - started
        timed["total"] = sum(timed.values())
        for name, span in timed.items():
            spans[name].append(span)
        del encoded, reports
        gc.enable()
        gc.collect()
        gc.disable()
    gc.enable()
    return spans


def _order(board, previous):
    key = _sort_key_of(DEFAULT_POLICY)
    accept = lambda alert: True  # noqa: E731  (no filter: what the dashboard shows by default)
    if order_alerts is None:
        return sorted(filter(accept, board.alerts.values()), key=key)
    return order_alerts(board.alerts, accept, key, ("no filter", DEFAULT_POLICY), previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="polls after the first (20)")
    parser.add_argument("--peers", type=int, default=1, help="HA peers with the same alerts (1)")
    parser.add_argument("--changes", type=int, default=1000, help="alerts changed a poll (1000)")
    args = parser.parse_args(argv)
    load1 = os.getloadavg()[0]
    spans = run(args.steps, args.peers, args.changes)
    code = "incremental" if INCREMENTAL else "full parse"
    print(f"{storm_profile.ALERTS:,} alerts x {args.peers} peer(s), {args.changes:,} changes x "
          f"{args.steps} polls, code: {code} ({Path(alertmanager.__file__).parent.parent}); "
          f"load average at start {load1:.2f}, at end {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores")
    print(f"{'per poll (polls 1..)':32} {'median ms':>10} {'worst ms':>9}")
    for name, values in spans.items():
        ms = [v * 1000 for v in values[1:]] or [v * 1000 for v in values]
        print(f"{name:32} {statistics.median(ms):10.2f} {max(ms):9.2f}")
    first = spans["total"][0] * 1000
    print(f"{'first poll (all new), total':32} {first:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

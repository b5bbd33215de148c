"""In-process start-up time with Textual's Pilot (headless), run as its own process:

    python3 bench/pilot_start.py --config FILE --expect N [--cols 120 --rows 40]

Prints one JSON line: seconds from constructing ShiftdeckApp until the dashboard shows N
alerts (`to_rows`), until the next idle point after that (`to_idle`, i.e. the frame is
rendered), the import time of shiftdeck.app, and how many table rows a refresh that brought
no change touched (`unchanged_poll_mutations`). Headless: no terminal output is written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


async def measure(config_path: str, expect: int, size: tuple[int, int], timeout: float) -> dict:
    t_import = time.perf_counter()
    from shiftdeck.app import ShiftdeckApp
    from shiftdeck.clock import SystemClock
    from shiftdeck.config import load_config

    import_seconds = time.perf_counter() - t_import
    config = load_config(config_path)
    t0 = time.perf_counter()
    app = ShiftdeckApp(config, SystemClock())
    result: dict = {"import_seconds": import_seconds, "to_rows": None, "to_idle": None}
    async with app.run_test(size=size) as pilot:
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if len(app.dashboard.visible_alerts) == expect:
                result["to_rows"] = time.perf_counter() - t0
                await pilot.pause()
                result["to_idle"] = time.perf_counter() - t0
                result["unchanged_poll_mutations"] = await unchanged_poll_mutations(app, pilot)
                break
            await asyncio.sleep(0.01)
        await pilot.press("q")
    return result


async def unchanged_poll_mutations(app, pilot, timeout: float = 60.0) -> int | None:
    """Poll every source now (Alertmanager answers the same alerts) and count the table rows
    changed by that refresh: the goal is none."""
    from shiftdeck.widgets.alert_table import AlertTable

    table = app.dashboard.query_one(AlertTable)
    before, board = table.mutations, app.shift.board
    app.action_refresh_now()
    deadline = time.perf_counter() + timeout
    while app.shift.board is board:
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(0.01)
    await pilot.pause()
    return table.mutations - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    result = asyncio.run(measure(args.config, args.expect, (args.cols, args.rows), args.timeout))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""In-process start-up time with Textual's Pilot (headless), run as its own process:

    python3 bench/pilot_start.py --config FILE --expect N [--cols 120 --rows 40]

Prints one JSON line: seconds from constructing ShiftdeckApp until the dashboard shows N
alerts (`to_rows`), until the next idle point after that (`to_idle`, i.e. the frame is
rendered), and the import time of shiftdeck.app. Headless: no terminal output is written.
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
                break
            await asyncio.sleep(0.01)
        await pilot.press("q")
    return result


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

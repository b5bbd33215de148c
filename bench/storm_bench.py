"""The alert storm: does shiftdeck stay usable while ~1,000 of 10,000 alerts change every 2 s?

    python3 bench/storm_bench.py --minutes 2            # a quick look, prints a table
    python3 bench/run.py --only storm                   # the recorded run (10 minutes)
    python3 bench/storm_bench.py --minutes 1 --changes 0   # control: same measurements, no storm

A fresh Alertmanager (the real binary, loopback) is loaded with 10,000 alerts (bench/load.py)
and shiftdeck's TUI starts in a 120x40 pty with `refresh: 2s`. Once the header shows the
expected P1 count, the storm starts and runs for --minutes:

- Every 2 s a loader thread posts one batch of 1,000 alerts to POST /api/v2/alerts: 500 new
  label sets firing (startsAt now, endsAt 30 days ahead, so Alertmanager's resolve_timeout never
  applies) and 500 alerts picked at random from the active ones resolving (same labels and
  startsAt, endsAt one second in the past). Alertmanager 0.25 stops listing an alert in
  GET /api/v2/alerts as soon as its endsAt has passed and garbage-collects it (the test servers
  run with --alerts.gc-interval=1s); to shiftdeck a resolved alert is one that vanished from the
  list. So 10,000 alerts stay active and 15,000 fire and 15,000 resolve per minute.
- The batch lists the new alerts first, and each step fires exactly one more critical alert
  than it resolves: after step g the header must read P1:<P1 before the storm + g>, and no
  half-applied batch can show an older step's count. That makes the header a clock: the bench
  reads every `P1:<n>` the TUI draws, knows which step it shows and how long ago that step was
  posted (the "header lag"), and how old the shown step is at each minute's end.
- The main thread presses `j` every ~0.5 s and times it like bench/tui_bench.py (from the write
  to the pty until the first output byte, and until output was quiet for 20 ms), except that it
  waits at most 0.25 s for a quiet terminal before a press, and gives up after --key-timeout
  (5 s): such a press is a *timeout* (no measurement), never a hang. Once a minute (at ~30 s)
  it types `/namespace=ns-3` one key at a time (each a live filter), then Escape, and waits
  until rows of other namespaces are drawn again. If the TUI does not answer, the rest of the
  typing is skipped and Escape is sent anyway.
- A sampler thread reads /proc every 5 s: RSS (VmRSS) and CPU time (utime+stime) of shiftdeck
  and of any child processes it starts, the same for Alertmanager, and the 1-minute load
  average.

Caveat on key timing: during a storm the TUI also repaints on its own after each poll; a press
whose repaint overlaps a poll's repaint is timed until both are done (quiet 20 ms), so the
figure is what the user waits, not only the cursor move. A frozen TUI that still repaints
nothing shows as timeouts; one that repaints polls but ignores keys shows as first bytes that
arrive on the 2 s poll rhythm.

Output: a report.SizeReport with the goal rows (issue 12) and a per-minute table; nothing is
asserted, figures vary by machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
for _tests in (BENCH.parent / "tests", BENCH.parent / "tests" / "support"):
    sys.path.insert(0, str(_tests))  # the servers and the pty driver (either home)
sys.path.insert(0, str(BENCH))

import load  # noqa: E402
import proc_tree  # noqa: E402
import report  # noqa: E402
import tui_bench  # noqa: E402
from pty_driver import QUIET, PtySession  # noqa: E402

ALERTS = 10_000
CHANGES = 1_000
"""Alerts changed per step: half fire (new label sets), half resolve."""
STEP_SECONDS = 2.0
REFRESH = "2s"
PRESS_GAP = 0.5
KEY_TIMEOUT = 5.0
SAMPLE_SECONDS = 5.0
FILTER_AT = 30.0
"""Seconds into each minute when the filter is typed."""
FILTER_TEXT = "namespace=ns-3"
FILTER_CLEARED = re.compile(rb"ns-(?!3/)\d+/")
HEADER_P1 = re.compile(rb"P1:(\d+) ")
SEED = 20240612

GOAL_KEY_P95_MS = 50.0
GOAL_KEY_WORST_MS = 100.0
GOAL_FILTER_MS = 100.0
GOAL_RSS_MIB = 250.0
GOAL_RSS_SLOPE = 1.0
"""MiB per minute from minute 2 on that still counts as flat (< 10 MiB over 8 minutes)."""
GOAL_CPU_PCT = 50.0
MAX_RSS_MIB = 3072.0
"""The storm stops early when shiftdeck's RSS passes this (the machine is shared)."""
MIB = 1024 * 1024
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- the pty, with presses that never hang -----------------------------------------------------


class StormSession(PtySession):
    def timed_chunks(self, since: int) -> tuple[list[tuple[float, bytes]], int]:
        """Every (time, bytes) read after position `since`, and the new position."""
        with self._cond:
            chunks = self._chunks[since:]
            return chunks, since + len(chunks)

    def press_bounded(self, key: bytes, timeout: float,
                      quiet: float = QUIET) -> tuple[float, float | None, float | None]:
        """Write `key` (after at most 0.25 s waiting for a quiet terminal): (send time, seconds
        to the first output byte, seconds until output was quiet for `quiet`); None when that
        did not happen within `timeout` of the write."""
        self.wait_quiet(quiet, timeout=0.25)
        before = self.mark()
        sent = self.write(key)
        deadline = sent + timeout
        with self._cond:
            while len(self._chunks) == before and time.monotonic() < deadline and not self._eof:
                self._cond.wait(0.05)
            if len(self._chunks) == before:
                return sent, None, None
            first = self._chunks[before][0]
        last = self.wait_quiet(quiet, timeout=max(0.0, deadline - time.monotonic()))
        if time.monotonic() - last < quiet:  # still writing at the deadline
            return sent, first - sent, None
        return sent, first - sent, last - sent


# -- the loader --------------------------------------------------------------------------------


@dataclass
class Step:
    g: int
    started: float
    done: float
    p1: int
    error: str = ""


class Storm(threading.Thread):
    """Every `step` seconds: fire `changes/2` new alerts and resolve `changes/2` active ones, in
    one POST, with one more critical firing than resolving (P1 grows by exactly 1 per step)."""

    def __init__(self, url: str, active: list[dict], p1: int, changes: int = CHANGES,
                 step: float = STEP_SECONDS, seed: int = SEED) -> None:
        super().__init__(name="storm-loader", daemon=True)
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.active = {a["labels"]["pod"]: a for a in active}
        self.p1 = p1
        self.half = changes // 2
        self.step = step
        self.rnd = random.Random(seed)
        self.next_index = len(active)
        self.steps: list[Step] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.t0 = 0.0

    def run(self) -> None:
        self.t0 = time.monotonic()
        if self.half == 0:  # a control run: the same measurements without a storm
            self.stop.wait()
            return
        with httpx.Client(timeout=30.0) as client:
            g = 0
            while not self.stop.is_set():
                g += 1
                started = time.monotonic()
                body = self._batch()
                error = ""
                try:
                    r = client.post(self.url, content=json.dumps(body),
                                    headers={"content-type": "application/json"})
                    if r.status_code != 200:
                        error = f"POST -> {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    error = f"POST failed: {exc!r}"
                self.p1 += 1
                with self.lock:
                    self.steps.append(Step(g, started, time.monotonic(), self.p1, error))
                self.stop.wait(max(0.0, self.t0 + g * self.step - time.monotonic()))

    def _batch(self) -> list[dict]:
        now = datetime.now(timezone.utc)
        gone = self.rnd.sample(sorted(self.active), self.half)
        resolving = [load.resolved(self.active.pop(pod), now - timedelta(seconds=1))
                     for pod in gone]
        critical = sum(a["labels"]["severity"] == "critical" for a in resolving) + 1
        firing = []
        ends = now + timedelta(days=30)
        for k in range(self.half):
            severity = "critical" if k < critical else self.rnd.choice(["warning", "info"])
            alert = load.make_alert(self.next_index, self.rnd, now, ends, started=now,
                                    severity=severity)
            self.next_index += 1
            self.active[alert["labels"]["pod"]] = alert
            firing.append(alert)
        return firing + resolving  # fire first: a half-applied batch never shows an older P1

    def step_for_p1(self, p1: int) -> Step | None:
        with self.lock:
            if not self.steps:
                return None
            g = p1 - (self.steps[0].p1 - 1)
            return self.steps[g - 1] if 1 <= g <= len(self.steps) else None

    def snapshot(self) -> list[Step]:
        with self.lock:
            return list(self.steps)


# -- /proc -------------------------------------------------------------------------------------


def proc_usage(pid: int) -> tuple[float, float, int, float]:
    """(CPU seconds utime+stime, RSS MiB, processes) of `pid` and its descendants, and the
    RSS MiB of `pid` alone."""
    cpu, rss, count, own = 0.0, 0.0, 0, 0.0
    for p in proc_tree.descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{p}/statm") as f:
                resident = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        cpu += (int(fields[11]) + int(fields[12])) / TICKS
        rss += resident * PAGE / MIB
        count += 1
        if p == pid:
            own = resident * PAGE / MIB
    return cpu, rss, count, own


@dataclass
class Sample:
    t: float
    cpu: float
    rss: float
    procs: int
    tui_rss: float
    am_cpu: float
    am_rss: float
    load1: float


class Sampler(threading.Thread):
    def __init__(self, tui_pid: int, am_pid: int, every: float = SAMPLE_SECONDS) -> None:
        super().__init__(name="storm-sampler", daemon=True)
        self.tui_pid, self.am_pid, self.every = tui_pid, am_pid, every
        self.samples: list[Sample] = []
        self.stop = threading.Event()

    def sample(self) -> None:
        cpu, rss, procs, tui_rss = proc_usage(self.tui_pid)
        am_cpu, am_rss, _, _ = proc_usage(self.am_pid)
        self.samples.append(Sample(time.monotonic(), cpu, rss, procs, tui_rss, am_cpu, am_rss,
                                   os.getloadavg()[0]))

    def run(self) -> None:
        while True:
            self.sample()
            if self.stop.wait(self.every):
                self.sample()
                return


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Press:
    key: str
    sent: float
    first: float | None
    settled: float | None


@dataclass
class Result:
    minutes: int
    t0: float = 0.0
    end: float = 0.0
    p1_before: int = 0
    presses: list[Press] = field(default_factory=list)
    filters: list[Press] = field(default_factory=list)
    escapes: list[Press] = field(default_factory=list)
    opens: list[Press] = field(default_factory=list)
    """`/` presses (open the filter bar)."""
    header: list[tuple[float, int]] = field(default_factory=list)
    """(time drawn, P1 count) for every header the TUI drew during the storm."""
    steps: list[Step] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    hwm_mib: float | None = None
    bytes_out: list[tuple[float, int]] = field(default_factory=list)
    exit_reason: str | None = None
    startup: float | None = None
    started_utc: str = ""
    bench_cpu: float | None = None
    """CPU seconds this benchmark process (loader, pty reader, key presses) used in the storm."""


def _scan_header(tui: StormSession, pos: int, tail: bytes,
                 into: list[tuple[float, int]]) -> tuple[int, bytes]:
    chunks, pos = tui.timed_chunks(pos)
    for t, data in chunks:
        window = tail + data
        for m in HEADER_P1.finditer(window, max(0, len(tail) - 12)):
            if m.end() > len(tail):
                into.append((t, int(m.group(1))))
        tail = window[-16:]
    return pos, tail


def run_storm(argv: list[str], minutes: float, *, alerts: int = ALERTS, changes: int = CHANGES,
              key_timeout: float = KEY_TIMEOUT, max_rss_mib: float = MAX_RSS_MIB,
              workdir: Path,
              log=lambda s: print(s, file=sys.stderr, flush=True)) -> tuple[Result, str]:
    """Run the storm against `argv` (shiftdeck without --config); (result, Alertmanager
    version)."""
    res = Result(minutes=int(minutes) if minutes == int(minutes) else minutes,
                 started_utc=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    data = load.make_alerts(alerts)
    res.p1_before = load.expected_counts(data)["P1"]
    with closing(load.start_alertmanager()) as am:
        version = (am.status().get("versionInfo") or {}).get("version", "?")
        seconds = load.load(am, data)
        log(f"   loaded {alerts:,} alerts in {seconds:.1f} s")
        config = load.write_config(workdir / "shiftdeck-storm.yaml", am.url, refresh=REFRESH)
        with StormSession([*argv, "--config", str(config)], cols=120, rows=40) as tui:
            seen = tui.wait_for(tui_bench.p1_marker(res.p1_before), 60.0)
            if seen is None:
                res.exit_reason = tui.exit_reason() or "the table never showed the P1 count"
                return res, version
            res.startup = seen - tui.started_at
            res.header.append((seen, res.p1_before))  # step 0, drawn before the storm
            tui.wait_quiet(0.5, timeout=5)
            storm = Storm(am.url, data, res.p1_before, changes=changes)
            sampler = Sampler(tui.pid, am.pid or 0)
            scan = (tui.mark(), b"")
            sampler.start()
            storm.start()
            res.t0 = time.monotonic()
            cpu0 = time.process_time()
            end = res.t0 + minutes * 60
            log(f"   storm: {minutes:g} min, {changes:,} changes every {STEP_SECONDS:g} s")
            try:
                filtered_minute = logged_minute = -1
                next_press = res.t0
                while time.monotonic() < end:
                    if tui.exit_reason():
                        res.exit_reason = tui.exit_reason()
                        break
                    if sampler.samples and sampler.samples[-1].rss > max_rss_mib:
                        res.exit_reason = (f"stopped early: RSS {sampler.samples[-1].rss:,.0f} "
                                           f"MiB passed the benchmark's cap of {max_rss_mib:,.0f}")
                        log(f"   {res.exit_reason}")
                        break
                    now = time.monotonic()
                    minute = int((now - res.t0) // 60)
                    if minute != filtered_minute and now - res.t0 - 60 * minute >= FILTER_AT:
                        filtered_minute = minute
                        _type_filter(tui, res, key_timeout)
                    elif now >= next_press:
                        sent, first, settled = tui.press_bounded(b"j", key_timeout)
                        res.presses.append(Press("j", sent, first, settled))
                        next_press = max(sent + PRESS_GAP, time.monotonic() + 0.05)
                    else:
                        time.sleep(min(0.05, next_press - now))
                    scan = _scan_header(tui, *scan, res.header)
                    if not len(res.bytes_out) or now - res.bytes_out[-1][0] >= SAMPLE_SECONDS:
                        res.bytes_out.append((now, tui.total_bytes))
                    if minute > logged_minute:
                        logged_minute = minute
                        log(f"   {time.strftime('%H:%M:%S')} minute {minute + 1}: "
                            f"{len(res.presses)} presses so far, load {os.getloadavg()[0]:.2f}")
            finally:
                res.end = time.monotonic()
                res.bench_cpu = time.process_time() - cpu0
                storm.stop.set()
                sampler.stop.set()
                storm.join(timeout=35)
                sampler.join(timeout=10)
                scan = _scan_header(tui, *scan, res.header)
                res.bytes_out.append((time.monotonic(), tui.total_bytes))
                hwm = tui.peak_rss_kb()
                res.hwm_mib = hwm / 1024 if hwm else None
                res.steps = storm.snapshot()
                res.samples = sampler.samples
    return res, version


def _type_filter(tui: StormSession, res: Result, key_timeout: float) -> None:
    for char in "/" + FILTER_TEXT:
        sent, first, settled = tui.press_bounded(char.encode(), key_timeout)
        press = Press(char, sent, first, settled)
        (res.filters if char != "/" else res.opens).append(press)
        if settled is None:
            break  # not answering: don't queue more typing behind it
    since = tui.mark()
    sent = tui.write(b"\x1b")
    drawn = tui.wait_for(FILTER_CLEARED, timeout=key_timeout, since=since)
    res.escapes.append(Press("escape", sent, None, None if drawn is None else drawn - sent))
    tui.wait_quiet(0.3, timeout=1.0)


# -- figures -----------------------------------------------------------------------------------


def _ms(presses: list[Press]) -> list[float]:
    return [p.settled * 1000 for p in presses if p.settled is not None]


def _timeouts(presses: list[Press]) -> int:
    return sum(1 for p in presses if p.settled is None)


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y)."""
    if len(points) < 3:
        return None
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def _cpu_pct(samples: list[Sample], attr: str, t0: float, t1: float) -> float | None:
    inside = [s for s in samples if t0 - 0.5 <= s.t <= t1 + 0.5]
    if len(inside) < 2 or inside[-1].t - inside[0].t < 1:
        return None
    a, b = inside[0], inside[-1]
    return 100 * (getattr(b, attr) - getattr(a, attr)) / (b.t - a.t)


def build_report(res: Result, key_timeout: float, changes: int = CHANGES) -> report.SizeReport:
    rep = report.SizeReport(ALERTS, title=f"Storm: {ALERTS:,} alerts, {changes:,} changing every "
                            f"{STEP_SECONDS:g} s, refresh {REFRESH}, pty 120x40, "
                            f"{res.minutes:g} minutes")
    if res.exit_reason and not res.t0:
        rep.notes.append(f"no storm: {res.exit_reason}")
        return rep
    duration = res.end - res.t0
    # minutes as planned; what ran over (a press finishing after the end) counts in the last
    n_min = max(1, int(-(-min(duration, res.minutes * 60) // 60)))
    t_min = [res.t0 + 60 * m for m in range(n_min + 1)]
    t_min[-1] = res.end + 1.0

    def in_minute(t: float, m: int) -> bool:
        return t_min[m] <= t < t_min[m + 1] or (m == n_min - 1 and t == t_min[-1])

    step_by_g = {s.g: s for s in res.steps}
    first_p1 = res.p1_before + 1

    def lag(t: float, p1: int) -> float | None:
        step = step_by_g.get(p1 - first_p1 + 1)
        if step is None or step.started > t:
            return None
        return t - step.started

    rows, per_min_p95, per_min_rss = [], [], []
    for m in range(n_min):
        a, b = t_min[m], t_min[m + 1]
        presses = [p for p in res.presses if in_minute(p.sent, m)]
        keys = _ms(presses)
        filters = [p for p in res.opens + res.filters if in_minute(p.sent, m)]
        samples = [s for s in res.samples if a - 0.5 <= s.t <= b + 0.5]
        rss = max((s.rss for s in samples), default=None)
        tui_rss = max((s.tui_rss for s in samples), default=None)
        steps = [s for s in res.steps if in_minute(s.started, m)]
        drawn = [(t, p1) for t, p1 in res.header if in_minute(t, m)]
        lags = [x for t, p1 in drawn if (x := lag(t, p1)) is not None]
        shown_at_end = [p1 for t, p1 in res.header if t < b]
        stale = None
        if shown_at_end:
            step = step_by_g.get(shown_at_end[-1] - first_p1 + 1)
            stale = min(b, res.end) - (step.started if step else res.t0)
        out = [(t, n) for t, n in res.bytes_out if a - 0.1 <= t <= b + 0.1]
        rate = None
        if len(out) > 1 and out[-1][0] > out[0][0]:
            rate = (out[-1][1] - out[0][1]) / (out[-1][0] - out[0][0])
        p95 = report.percentile(keys + [float("inf")] * _timeouts(presses), 0.95) \
            if presses else None
        if p95 is not None:
            per_min_p95.append(p95)
        if rss is not None:
            per_min_rss.append(rss)
        cpu = _cpu_pct(res.samples, "cpu", a, b)
        am_cpu = _cpu_pct(res.samples, "am_cpu", a, b)
        load1 = max((s.load1 for s in samples), default=None)
        rows.append({
            "minute": m + 1, "presses": len(presses), "timeouts": _timeouts(presses),
            "key_p50_ms": statistics.median(keys) if keys else None,
            "key_p95_ms": p95, "key_worst_ms": max(keys) if keys else None,
            "filter_keys": len(filters), "filter_timeouts": _timeouts(filters),
            "filter_worst_ms": max(_ms(filters), default=None),
            "rss_max_mib": rss, "tui_rss_max_mib": tui_rss, "cpu_pct": cpu, "alertmanager_cpu_pct": am_cpu,
            "steps_posted": len(steps),
            "steps_shown": len({p1 for _, p1 in drawn if p1 > res.p1_before}),
            "header_lag_median_s": statistics.median(lags) if lags else None,
            "header_lag_max_s": max(lags) if lags else None,
            "shown_step_age_at_minute_end_s": stale,
            "output_bytes_per_s": rate, "load1_max": load1,
        })

    keys_all = _ms(res.presses)
    timeouts = _timeouts(res.presses)
    p95_all = report.percentile(keys_all + [float("inf")] * timeouts, 0.95) \
        if res.presses else None
    answered = [p for p in res.presses if p.first is not None]
    rep.add("key `j` → repaint settled, all presses", keys_all, "ms", GOAL_KEY_P95_MS,
            goal_on="p95", timeouts=timeouts,
            note=f"{len(res.presses)} presses every ~{PRESS_GAP:g} s; "
                 f"p95 {report.fmt(p95_all, 'ms')} ms"
                 + (f"; {timeouts} without a settled repaint within {key_timeout:g} s"
                    if timeouts else ""))
    rep.add("key `j` → repaint settled, worst", keys_all, "ms", GOAL_KEY_WORST_MS, goal_on="max",
            timeouts=timeouts)
    finite = [v for v in per_min_p95 if v != float("inf")]
    rep.add("key `j` p95 per minute (judged: the worst minute)", finite, "ms", GOAL_KEY_P95_MS,
            goal_on="max", timeouts=len(per_min_p95) - len(finite),
            note="a minute with ≥ 5% timeouts counts as timed out")
    rep.add("key `j` → first byte", [p.first * 1000 for p in answered], "ms",
            note=f"{len(res.presses) - len(answered)} presses got no output at all")
    rep.add("filter `/` → filter bar shown", _ms(res.opens), "ms", timeouts=_timeouts(res.opens),
            note="when `/` or a typed key times out, the rest of that minute's typing is skipped")
    keystrokes = res.opens + res.filters
    rep.add("filter keystroke (`/` and each typed key) → repaint settled", _ms(keystrokes), "ms",
            GOAL_FILTER_MS, goal_on="max", timeouts=_timeouts(keystrokes),
            note=f"typing `/{FILTER_TEXT}` once a minute; judged on the worst keystroke")
    esc = [p.settled * 1000 for p in res.escapes if p.settled is not None]
    rep.add("filter Escape → other namespaces drawn again", esc, "ms",
            timeouts=sum(1 for p in res.escapes if p.settled is None),
            note="includes Textual's ESCDELAY (100-200 ms)")
    rep.add("shiftdeck RSS, TUI + poller process (sampled every 5 s, per-minute max)",
            per_min_rss, "MiB", GOAL_RSS_MIB, goal_on="max",
            note=f"the TUI process's peak VmHWM {res.hwm_mib:.1f} MiB" if res.hwm_mib else "")
    tui_rss = [r["tui_rss_max_mib"] for r in rows if r["tui_rss_max_mib"] is not None]
    rep.add("of which the TUI process (per-minute max)", tui_rss, "MiB",
            note="the rest is the poller process (fetch, parse, merge)")
    for label, attr in (("shiftdeck RSS slope", "rss"), ("the TUI process's RSS slope", "tui_rss")):
        tail = [((s.t - res.t0) / 60, getattr(s, attr)) for s in res.samples
                if s.t - res.t0 >= 120]
        slope = _slope(tail)
        rep.add(f"{label}, minute 2 to the end", [slope] if slope is not None else [],
                "MiB/min", GOAL_RSS_SLOPE if attr == "rss" else None,
                note=f"least squares over {len(tail)} samples; goal = 'flat' "
                     f"(< {GOAL_RSS_SLOPE:g} MiB/min)" if slope is not None
                else "needs a run longer than 2 minutes")
    cpus = [r["cpu_pct"] for r in rows if r["cpu_pct"] is not None]
    rep.add("TUI CPU per minute (% of one core)", cpus, "%", GOAL_CPU_PCT, goal_on="max",
            note="utime+stime from /proc of shiftdeck and its children")
    am_cpus = [r["alertmanager_cpu_pct"] for r in rows if r["alertmanager_cpu_pct"] is not None]
    rep.add("Alertmanager CPU per minute (% of one core)", am_cpus, "%",
            note="the server under the storm shares the 2 cores")
    lags = [x for t, p1 in res.header if t >= res.t0 and (x := lag(t, p1)) is not None]
    rep.add("header lag: step posted → its P1 count drawn", lags, "s",
            note=f"{len({p1 for _, p1 in res.header if p1 > res.p1_before})} of {len(res.steps)} "
                 "steps posted were shown in the header; "
                 f"poll every {REFRESH}")
    ages = [r["shown_step_age_at_minute_end_s"] for r in rows
            if r["shown_step_age_at_minute_end_s"] is not None]
    rep.add("age of the step shown, at each minute's end", ages, "s",
            note="grows without bound when the screen stops following the storm")
    rep.intro = [
        f"Command: `{{command}}`; started {res.started_utc}; load average (1 min) before / "
        "after {load}; total time {total} s; shiftdeck source: {source}.",
        "",
        f"Before the storm: P1:{res.p1_before:,} shown after {res.startup:.2f} s. "
        f"Each step posts {changes // 2:,} new alerts and resolves {changes // 2:,} (one more "
        "critical fires than resolves, so the header's P1 count names the step it shows). "
        "Key presses that got no settled repaint within "
        f"{key_timeout:g} s are timeouts: not in the figures, counted against the goal.",
    ]
    rep.extra.append(_minute_table(rows))
    errors = [s.error for s in res.steps if s.error]
    late = [s for s in res.steps if s.done - s.started > STEP_SECONDS]
    rep.notes.append(f"loader: {len(res.steps)} steps posted in {duration:.0f} s "
                     f"({len(errors)} failed, {len(late)} POSTs took longer than "
                     f"{STEP_SECONDS:g} s; median POST "
                     f"{statistics.median([s.done - s.started for s in res.steps]) * 1000:.0f} ms)"
                     if res.steps else "loader: no steps posted")
    rep.notes.extend(f"loader error: {e}" for e in errors[:3])
    if res.exit_reason:
        rep.notes.append(f"the storm ended early: {res.exit_reason}")
    if res.bench_cpu is not None and duration > 0:
        rep.notes.append(f"this benchmark process (loader, pty reader, key presses) used "
                         f"{100 * res.bench_cpu / duration:.0f}% of one core during the storm")
    procs = {s.procs for s in res.samples}
    rep.notes.append(f"shiftdeck ran as {'/'.join(map(str, sorted(procs)))} process(es)")
    rep.data = {"scenario": "storm", "started_utc": res.started_utc,
                "per_minute": [_json_safe(r) for r in rows], "p1_before": res.p1_before,
                "startup_s": res.startup, "duration_s": duration,
                "rss_samples": [[round(s.t - res.t0, 2), round(s.rss, 1)] for s in res.samples],
                "key_timeout_s": key_timeout}
    return rep


def _json_safe(row: dict) -> dict:
    """A p95 that is a timeout is "timeout" in the JSON (JSON has no infinity)."""
    return {k: "timeout" if v == float("inf") else v for k, v in row.items()}


def _minute_table(rows: list[dict]) -> str:
    def f(v, spec=",.0f"):
        return "–" if v is None else ("∞" if v == float("inf") else format(v, spec))
    lines = [
        "| minute | `j` presses (timeouts) | `j` p50 / p95 / worst ms | filter keys (timeouts), "
        "worst ms | RSS max MiB (TUI alone) | CPU % | Alertmanager CPU % | steps posted | steps shown in the "
        "header | header lag median / max s | shown step age at end s | output B/s | load 1m max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['minute']} | {r['presses']} ({r['timeouts']}) | {f(r['key_p50_ms'])} / "
            f"{f(r['key_p95_ms'])} / {f(r['key_worst_ms'])} | {r['filter_keys']} "
            f"({r['filter_timeouts']}), {f(r['filter_worst_ms'])} | {f(r['rss_max_mib'], '.1f')} "
            f"({f(r['tui_rss_max_mib'], '.1f')}) | "
            f"{f(r['cpu_pct'])} | {f(r['alertmanager_cpu_pct'])} | {r['steps_posted']} | "
            f"{r['steps_shown']} | {f(r['header_lag_median_s'], '.1f')} / "
            f"{f(r['header_lag_max_s'], '.1f')} | "
            f"{f(r['shown_step_age_at_minute_end_s'], '.1f')} | "
            f"{f(r['output_bytes_per_s'])} | {f(r['load1_max'], '.2f')} |")
    return "\n".join(lines)


def render(rep: report.SizeReport, command: str, load_before: float, total: float,
           source: str) -> str:
    """The storm section's Markdown, with the run's command, load, time and source filled in."""
    rep = report.SizeReport(rep.size, rep.metrics, rep.notes, rep.title, list(rep.intro),
                            rep.extra, rep.data)
    if rep.intro:
        rep.intro[0] = rep.intro[0].format(
            command=command, load=f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
            total=f"{total:.0f}", source=source)
    return report.size_table(rep)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from cli_bench import shiftdeck_cmd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="storm length (default 10)")
    parser.add_argument("--key-timeout", type=float, default=KEY_TIMEOUT)
    parser.add_argument("--changes", type=int, default=CHANGES,
                        help=f"alerts changed per step (default {CHANGES:,}; 0 = a control run "
                             "without a storm)")
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args(argv)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shiftdeck-storm-") as tmp:
        res, _ = run_storm(shiftdeck_cmd(), args.minutes, key_timeout=args.key_timeout,
                           changes=args.changes, workdir=Path(tmp))
    rep = build_report(res, args.key_timeout, args.changes)
    total = time.monotonic() - started
    print(render(rep, "python3 bench/storm_bench.py " + " ".join(sys.argv[1:]), load_before,
                 total, f"{shiftdeck_cmd()} with PYTHONPATH={os.environ.get('PYTHONPATH', '')!r}"))
    print(f"\nTotal storm benchmark time: {total:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"metrics": [m.__dict__ for m in rep.metrics], "notes": rep.notes, **rep.data},
            indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

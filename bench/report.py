"""Figures → Markdown: one table per size, the goal beside each figure, and machine info."""

from __future__ import annotations

import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata


@dataclass
class Metric:
    """One row of a table. `values` are in `unit`; empty means not measured."""

    name: str
    values: list[float]
    unit: str
    goal: float | None = None
    """Upper bound (every goal here is 'at most')."""
    note: str = ""
    goal_on: str = "median"
    """Which figure the goal applies to: 'median', 'p95' or 'max' (worst case)."""
    timeouts: int = 0
    """Tries that got no answer in time: not in `values` (nothing was measured), but they
    count as slower than any value when the goal is judged."""

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def p95(self) -> float | None:
        return percentile(self.values, 0.95) if self.values else None

    @property
    def judged(self) -> float | None:
        if not self.values and not self.timeouts:
            return None
        ordered = sorted(self.values) + [float("inf")] * self.timeouts
        if self.goal_on == "max":
            return ordered[-1]
        if self.goal_on == "p95":
            return percentile(ordered, 0.95)
        return statistics.median(ordered)

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        if self.judged is None:
            return "n/a"
        return "yes" if self.judged <= self.goal else "**NO**"


@dataclass
class SizeReport:
    size: int
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title: str = ""
    """Heading; default "N alerts"."""
    intro: list[str] = field(default_factory=list)
    """Markdown lines between the heading and the table."""
    extra: list[str] = field(default_factory=list)
    """Markdown blocks after the table (e.g. the storm's per-minute table)."""
    data: dict = field(default_factory=dict)
    """More raw figures for the JSON file."""
    key: str = ""
    """Its section in the document and its entry in the JSON file; default "size-N"."""

    @property
    def section_key(self) -> str:
        return self.key or f"size-{self.size}"

    def entry(self) -> dict:
        """Its JSON entry: every figure, the notes and the raw data."""
        return {"key": self.section_key, "size": self.size,
                "metrics": [m.__dict__ for m in self.metrics], "notes": self.notes, **self.data}

    def add(self, *args: object, **kwargs: object) -> Metric:
        metric = Metric(*args, **kwargs)  # type: ignore[arg-type]
        self.metrics.append(metric)
        return metric


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1): a value that was measured, never interpolated."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if value == float("inf"):
        return "∞"
    if unit in ("s", "x"):
        return f"{value:.3f}"
    if unit in ("ms", "MiB", "MiB/min"):
        return f"{value:.1f}"
    return f"{value:,.0f}"


def size_table(report: SizeReport) -> str:
    lines = [
        f"### {report.title or f'{report.size:,} alerts'}",
        "",
        *[line for line in report.intro],
        *([""] if report.intro else []),
        "| measurement | median | min | max | unit | n | goal | meets goal | note |",
        "|---|---:|---:|---:|---|---:|---:|:---:|---|",
    ]
    for m in report.metrics:
        lo = min(m.values) if m.values else None
        hi = max(m.values) if m.values else None
        goal = f"≤ {fmt(m.goal, m.unit)}" if m.goal is not None else ""
        goal = f"{m.goal_on} {goal}" if goal and m.goal_on != "median" else goal
        n = f"{len(m.values)} + {m.timeouts} timed out" if m.timeouts else str(len(m.values))
        lines.append(f"| {m.name} | {fmt(m.median, m.unit)} | {fmt(lo, m.unit)} | "
                     f"{fmt(hi, m.unit)} | {m.unit} | {n} | {goal} | {m.verdict} | "
                     f"{m.note} |")
    for block in report.extra:
        lines += ["", block]
    if report.notes:
        lines.append("")
        lines.extend(f"- {note}" for note in report.notes)
    return "\n".join(lines)


def machine_info(alertmanager_version: str, shiftdeck_cmd: str, source: str,
                 load_before: tuple[float, float, float]) -> list[tuple[str, str]]:
    return [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("cpus (nproc)", str(len(os.sched_getaffinity(0)))),
        ("cpu", _cpu_model()),
        ("kernel", platform.release()),
        ("python", sys.version.split()[0]),
        ("textual", _version("textual")),
        ("shiftdeck", _version("shiftdeck") + _git_rev()),
        ("shiftdeck source", source),
        ("shiftdeck command", shiftdeck_cmd),
        ("alertmanager", alertmanager_version),
        ("amtool", _first_line(["amtool", "--version"])),
        ("load average (1 min) before / after", f"{load_before[0]:.2f} / {os.getloadavg()[0]:.2f}"
         " (other work on the machine skews the figures)"),
    ]


def head() -> str:
    return "\n".join([
        "# shiftdeck benchmark",
        "",
        "Written by `python3 bench/run.py` (how to read it: its docstring). Each section is one "
        "scenario and names when it ran, the command and the machine's load; a run replaces "
        "the sections it measured and keeps the others. Times are wall clock; median, min and "
        "max over the runs (n). Key latencies: time from writing the key to the pty until the "
        "first output byte, and until output was quiet for 20 ms. Nothing here is asserted; "
        "`**NO**` marks a figure above its goal.",
    ])


def machine_section(info: list[tuple[str, str]], command: str, total: float) -> str:
    return "\n".join([
        "## Machine (the last run)",
        "",
        f"Command: `{command}`; total time {total:.0f} s.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info],
    ])


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_rev() -> str:
    rev = _first_line(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse",
                       "--short", "HEAD"])
    return f" (HEAD {rev})" if rev and "fatal" not in rev else ""


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


# -- one section of an existing document (a scenario run on its own) --------------------------


def section_markers(key: str) -> tuple[str, str]:
    return f"<!-- section:{key} -->", f"<!-- /section:{key} -->"


def wrap_section(key: str, text: str) -> str:
    """`text` between markers, so a later run of only this scenario can replace it in place."""
    begin, end = section_markers(key)
    return f"{begin}\n{text.rstrip()}\n{end}\n"


def extract_section(document: str, key: str) -> str | None:
    """The marked section `key` of `document` (markers included), or None."""
    begin, end = section_markers(key)
    start = document.find(begin)
    stop = document.find(end, start + 1) if start >= 0 else -1
    return None if stop < 0 else document[start:stop + len(end)] + "\n"


def replace_section(document: str, key: str, section: str) -> str:
    """`document` with its marked section `key` replaced by `section` (already wrapped), or
    with `section` appended when it had none."""
    old = extract_section(document, key)
    if old is None:
        return document.rstrip("\n") + "\n\n" + section
    return document.replace(old, section)


# -- a document of sections, each replaced by the run that measured it ------------------------

SECTION_ORDER = ("summary", "machine", "size-", "ha", "countdowns", "storm")
_SECTION_BEGIN = re.compile(r"<!-- section:([\w-]+) -->")


def section_rank(key: str) -> tuple[int, int]:
    """Where section `key` goes: the order above, sizes by size, unknown keys last."""
    if key.startswith("size-") and key[5:].isdigit():
        return SECTION_ORDER.index("size-"), int(key[5:])
    return (SECTION_ORDER.index(key) if key in SECTION_ORDER else len(SECTION_ORDER)), 0


def assemble(old: str, head: str, fresh: dict[str, str]) -> str:
    """`head`, then every section: the `fresh` ones (already wrapped) and the ones of `old`
    that did not run this time, in `section_rank` order."""
    keys = set(fresh) | set(_SECTION_BEGIN.findall(old))
    parts = [head.rstrip("\n") + "\n"]
    for key in sorted(keys, key=section_rank):
        section = fresh.get(key) or extract_section(old, key)
        if section:
            parts.append(section)
    return "\n".join(parts)


def entry_key(entry: dict) -> str:
    """An entry's section key (entries written before keys existed get theirs from content)."""
    if entry.get("key"):
        return str(entry["key"])
    if entry.get("scenario"):
        return str(entry["scenario"])
    names = [m.get("name", "") for m in entry.get("metrics", [])]
    if names and all(n.startswith("output with live countdowns") for n in names):
        return "countdowns"
    return f"size-{entry.get('size')}"


def merge_entries(old: list[dict], new: list[dict]) -> list[dict]:
    """`new`, plus the entries of `old` whose scenario did not run, in section order."""
    ran = {entry_key(e) for e in new}
    kept = [e for e in old if isinstance(e, dict) and entry_key(e) not in ran]
    return sorted(kept + new, key=lambda e: section_rank(entry_key(e)))


def run_line(run: dict) -> str:
    """When, how and under what load a section was measured (from `run_info`)."""
    return (f"Finished {run['date']} by `{run['command']}` in {run['seconds']:.0f} s; load "
            f"average (1 min) before / after {run['load_before']:.2f} / "
            f"{run['load_after']:.2f}; shiftdeck source: {run['source']}.")


def run_info(command: str, source: str, started: float, load_before: float) -> dict:
    """The `run` record of a scenario that began at monotonic `started`."""
    return {"command": command, "source": source,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": time.monotonic() - started, "load_before": load_before,
            "load_after": os.getloadavg()[0]}

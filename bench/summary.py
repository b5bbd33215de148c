"""Issue 14's table, built from the figures in docs/benchmarks.json.

One row per figure the issue judges, in the issue's order; a figure whose scenario has not
run yet says so. `markdown(entries)` is the Summary section of docs/benchmarks.md and, with
`readme=True`, the README's performance table (print it with bench/readme_table.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import report
import targets

Figures = dict[str, report.Metric]
"""One section's metrics by name."""

PROGRESS_LEAD_S = 0.05
"""The header counts as shown before the table when it came at least this much earlier."""


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    """The section (scenario) the figure comes from."""
    metric: str
    detail: Callable[[Figures], str] | None = None


def _size(n: int) -> str:
    return f"{n // 1000}k"


def _median(figures: Figures, name: str, unit: str = "s") -> str:
    metric = figures.get(name)
    value = metric.median if metric else None
    return f"{report.fmt(value, unit)} {unit}" if value is not None else "–"


def _cli_detail(figures: Figures) -> str:
    return f"{_median(figures, targets.CLI_OURS)} vs {_median(figures, targets.CLI_AMTOOL)}"


def _ha_one_detail(figures: Figures) -> str:
    return f"{_median(figures, targets.HA_CLI)} vs {_median(figures, targets.HA_CLI_ONE)}"


def _ha_amtool_detail(figures: Figures) -> str:
    return f"{_median(figures, targets.HA_CLI)} vs {_median(figures, targets.CLI_AMTOOL)}"


def _ha_floor_detail(figures: Figures) -> str:
    return f"{_median(figures, targets.HA_GET_ALL)} vs {_median(figures, targets.HA_GET_ONE)}"


def _start_detail(figures: Figures) -> str:
    return f"first frame {_median(figures, targets.FIRST_FRAME)}"


def rows() -> list[Row]:
    out = [Row(f"key press that meets a poll, {_size(n)} (worst)", f"size-{n}", targets.POLL_KEY)
           for n in (10_000, 50_000, 100_000)]
    for n in (10_000, 50_000, 100_000):
        key = f"size-{n}"
        out += [Row(f"TUI start → table, {_size(n)}", key, targets.START, _start_detail),
                Row(f"progress shown before the table, {_size(n)}", key, targets.HEADER_LEAD)]
    for n in (10_000, 50_000, 100_000):
        out += [Row(f"TUI process peak RSS, {_size(n)}", f"size-{n}", targets.TUI_RSS),
                Row(f"TUI + child processes peak RSS, {_size(n)}", f"size-{n}", targets.TREE_RSS)]
    out += [
        Row("HA {peers} peers × {alerts}, CLI: cluster / one peer", "ha", targets.HA_VS_ONE,
            _ha_one_detail),
        Row("HA {peers} peers × {alerts}, CLI: cluster / amtool", "ha", targets.HA_VS_AMTOOL,
            _ha_amtool_detail),
        Row("HA {peers} peers × {alerts}, curl: every peer at once / one peer (floor)", "ha",
            targets.HA_GET_RATIO, _ha_floor_detail),
        Row("HA {peers} peers × {alerts}, TUI start → table", "ha", targets.START,
            _start_detail),
        Row("HA {peers} peers × {alerts}, TUI process peak RSS", "ha", targets.TUI_RSS),
        Row("HA {peers} peers × {alerts}, TUI + child processes peak RSS", "ha",
            targets.TREE_RSS),
        Row("HA {peers} peers × {alerts}, key press that meets a poll (worst)", "ha",
            targets.POLL_KEY),
    ]
    out += [Row(f"`shiftdeck alerts --json` / amtool, {_size(n)}", f"size-{n}",
                targets.CLI_RATIO, _cli_detail) for n in (1_000, 10_000, 50_000, 100_000)]
    return out


def figures_by_section(entries: list[dict]) -> dict[str, Figures]:
    names = {f.name for f in fields(report.Metric)}
    return {report.entry_key(e): {m["name"]: report.Metric(**{k: v for k, v in m.items()
                                                              if k in names})
                                  for m in e.get("metrics", [])}
            for e in entries}


def cells(row: Row, figures: Figures | None) -> tuple[str, str, str]:
    """(measured, goal, meets goal) of one row."""
    metric = (figures or {}).get(row.metric)
    if metric is None:
        return "not measured yet", "", ""
    if row.metric == targets.HEADER_LEAD:
        return _progress_cells(metric)
    judged = metric.judged
    text = f"{report.fmt(judged, metric.unit)} {metric.unit}" if judged is not None else "–"
    if metric.goal_on == "max" and metric.values:
        text += f" (worst of {len(metric.values) + metric.timeouts})"
    if metric.timeouts:
        text += f", {metric.timeouts} timed out"
    if row.detail and figures:
        text += f"; {row.detail(figures)}"
    goal = f"≤ {report.fmt(metric.goal, metric.unit)} {metric.unit}" if metric.goal else ""
    return text, goal, metric.verdict.replace("**", "")


def _progress_cells(metric: report.Metric) -> tuple[str, str, str]:
    lead = metric.median
    if lead is None:
        return "–", "shown", "n/a"
    shown = lead >= PROGRESS_LEAD_S
    text = f"header {lead:.2f} s before the table" if shown else "no: header and table together"
    return text, "shown", "yes" if shown else "no"


def _when(entry: dict | None) -> str:
    run = (entry or {}).get("run")
    if not run:
        return "–" if entry is None else "(no run record)"
    return f"{run['date']}, load {run['load_before']:.2f} → {run['load_after']:.2f}"


def markdown(entries: list[dict], readme: bool = False) -> str:
    """The table; `readme` leaves out the per-row run column and adds one line about runs."""
    by_key = {report.entry_key(e): e for e in entries}
    sections = figures_by_section(entries)
    head = "| figure | measured | goal | meets goal |" + ("" if readme else " measured on |")
    lines = [head, "|---|---:|---:|:---:|" + ("" if readme else "---|")]
    ha = by_key.get("ha", {})
    scale = {"peers": ha.get("peers", 3), "alerts": _size(ha.get("size", 10_000))}
    for row in rows():
        measured, goal, verdict = cells(row, sections.get(row.key))
        line = f"| {row.label.format(**scale)} | {measured} | {goal} | {verdict} |"
        lines.append(line if readme else line + f" {_when(by_key.get(row.key))} |")
    if readme:
        lines += ["", _runs_line(by_key)]
    return "\n".join(lines)


def _runs_line(by_key: dict[str, dict]) -> str:
    used = sorted({row.key for row in rows() if row.key in by_key}, key=report.section_rank)
    runs = [f"{key}: {_when(by_key[key])}" for key in used]
    return ("Measured by `python3 bench/run.py` (load average, 1 min, before → after each "
            "scenario): " + "; ".join(runs) + ". Every figure, with min/max and n: "
            "[docs/benchmarks.md](docs/benchmarks.md).")

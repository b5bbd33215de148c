"""The figures issue 14 judges: their row names in the report and their goals.

The names are shared by the measuring code (bench/run.py, bench/ha_bench.py) and the summary
(bench/summary.py), so a renamed row cannot silently drop out of the summary. Memory goals
are applied to MiB figures (the issue's "MB" came from these same MiB rows).
"""

from __future__ import annotations

from dataclasses import dataclass

START = "TUI start → table visible (pty 120x40, P1 count in header)"
FIRST_FRAME = "TUI start → first frame with the header (pty 120x40)"
HEADER_LEAD = "TUI start: header shown before the table by"
POLL_KEY = "key press that meets a poll: worst per refresh window → settled"
TUI_RSS = "TUI process peak RSS (VmHWM, before quit)"
CHILD_RSS = "child processes' peak RSS (each VmHWM, summed)"
TREE_RSS = "TUI + child processes peak RSS (each VmHWM, summed)"
CLI_OURS = "shiftdeck alerts --json"
CLI_AMTOOL = "amtool alert query -o json"
CLI_RATIO = "ratio shiftdeck / amtool (medians)"
HA_CLI = "shiftdeck alerts --json, cluster of all peers"
HA_CLI_ONE = "shiftdeck alerts --json, one peer"
HA_VS_ONE = "ratio cluster / one peer (medians)"
HA_VS_AMTOOL = "ratio cluster / amtool on one peer (medians)"
HA_GET_ALL = "curl GET /api/v2/alerts of every peer at once (no client work)"
HA_GET_ONE = "curl GET /api/v2/alerts of one peer"
HA_GET_RATIO = "ratio every peer at once / one peer, curl (medians): the servers' floor"


@dataclass(frozen=True)
class Goals:
    """Upper bounds for one scenario; None = the issue sets no goal there."""

    start_s: float | None = None
    poll_key_ms: float = 50.0
    rss_mib: float = 200.0
    cli_ratio: float | None = 0.9
    """shiftdeck / amtool; for the HA scenario: cluster / one peer."""


BY_SIZE = {
    1_000: Goals(cli_ratio=1.0),
    10_000: Goals(start_s=1.5, cli_ratio=0.9),
    50_000: Goals(start_s=3.0, rss_mib=250.0, cli_ratio=0.8),
    100_000: Goals(start_s=5.0, poll_key_ms=100.0, rss_mib=400.0, cli_ratio=None),
}
HA = Goals(start_s=1.5, poll_key_ms=50.0, rss_mib=200.0, cli_ratio=1.2)


def for_size(n: int) -> Goals:
    return BY_SIZE.get(n, Goals())

"""The hostile corpus (tests/hostile.py) in label names and values, annotations, silences,
rule expressions, runbook text, pod fields, events and logs, pushed through every screen of a
real shiftdeck process on a pty. Every byte it writes is captured and checked: no control
sequence from the corpus, no escape sequence shiftdeck does not emit itself, no stray control
bytes; nothing a label holds is executed; the process quits normally at the end."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from .support import hostile
from .support.helpers import ROSTER_YAML
from .support.pty_driver import PtySession

DOWN, ENTER, ESC = b"\x1b[B", b"\r", b"\x1b"
ANYTHING = re.compile(rb".", re.S)
NOTE = b"note [@click=app.quit]x[/] $(id)"

# (what, keys, a text the screen then shows; None = just let it draw)
STEPS: list[tuple[str, bytes, bytes | None]] = [
    ("cursor through hostile rows", b"jjjjjjjj", None),
    ("alert detail", ENTER, b"Back"),
    ("back", ESC, None),
    ("grouping by hostile values", b"ggg", None),
    ("help", b"?", b"Silence the highlighted"),
    ("back", ESC, None),
    ("filter bar", b"/", b"namespace!=dev"),  # the placeholder's end is cut off at 120 columns
    ("filter", b"alertname=HostileBackend" + ENTER, b"HostileBackend"),
    ("runbook with hostile prose", b"r", b"Runbook: HostileBackend ("),
    ("run: a label value is one argument", ENTER, b"exit 0"),
    ("run: an option-like label value", DOWN + ENTER, b"option-like value"),
    ("run: shell syntax", DOWN + ENTER, b"needs a shell"),
    ("back", ESC, None),
    ("diagnostics: pods, events", b"d", hostile.GOOD_POD.encode()),
    ("diagnostics: logs", ENTER, b"combining"),
    ("diagnostics: previous logs", b"p", b"previous"),
    ("back to diagnostics", ESC, None),
    ("back", ESC, None),
    ("note", b"n", b"Note"),
    ("typed note", NOTE + ENTER, None),
    ("status update", b"u", b"enter: copy"),
    ("copy it", ENTER, b"copied"),
    ("handoff report", b"H", b"Open items"),
    ("copy it", b"c", b"copied"),
    ("back", ESC, None),
    ("shift metrics", b"M", b"MTTA"),
    ("back", ESC, None),
    ("silences", b"S", b"Silences: "),
    ("through hostile silences", b"jjjj", None),
    ("a silence's alerts: the dashboard, filtered", ENTER, None),
    ("clear that filter", ESC, None),
    ("on call", b"O", b"Alice Ng"),
    ("back", ESC, None),
    ("silence form", b"s", b"ctrl+s"),
    ("back", ESC, None),
    ("ack (the answer's silence ID is hostile too)", b"a", b"done"),
    ("command palette", b":", b"for commands"),
    ("search it", b"silen", None),
    ("back", ESC + ESC, None),
    ("theme", b"t", b"Theme"),
]


def _config(tmp_path: Path, url: str, runbooks: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(ROSTER_YAML + f"""user: alice
refresh: 2s
alertmanagers:
  - {{name: am0, url: '{url}', cluster: hostile, timeout: 5s}}
prometheus:
  - {{name: prom0, url: '{url}', timeout: 5s}}
notify: {{bell: false, desktop: true, min_interval: 1s}}
runbooks: {{dirs: ['{runbooks}']}}
kubernetes: {{kubeconfig: '{tmp_path / "kubeconfig"}'}}
journal: '{tmp_path / "journal.jsonl"}'
""")
    return path


def test_hostile_corpus_never_reaches_the_terminal_raw_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / hostile.MARKER_NAME
    entries = hostile.corpus(marker)
    strings = [text for text, _ in entries]
    assert len(strings) >= 25
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "hostile.md").write_text(hostile.runbook_markdown(strings))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("TMUX", None)
    with (hostile.HostileUpstreams(strings) as upstream,
          hostile.hostile_cluster(strings, tmp_path / "kubeconfig")):
        config = _config(tmp_path, upstream.url, runbooks)
        argv = [sys.executable, "-m", "shiftdeck", "--config", str(config)]
        with PtySession(argv, cols=120, rows=40, env=env) as tui:
            assert tui.wait_for(b"HostileBackend", timeout=30), tui.exit_reason()
            for step, (what, keys, expect) in enumerate(STEPS):
                tui.wait_quiet(0.3)
                since = tui.mark()
                tui.write(keys)
                assert tui.wait_for(expect or ANYTHING, timeout=15, since=since), (
                    f"step {step}, {what}: {expect or 'a repaint'!r} never came ({tui.exit_reason() or 'running'}):"
                    f" {tui.text(since)[-2000:]}")
            tui.write(b"q")
            assert tui.proc is not None
            assert tui.proc.wait(timeout=15) == 0, tui.exit_reason()
            output = tui.output()
    assert hostile.terminal_violations(output, entries) == []
    assert not marker.exists(), "a label value was executed by a shell"
    assert NOTE.decode() in (tmp_path / "journal.jsonl").read_text()

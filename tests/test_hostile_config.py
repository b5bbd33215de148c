"""The hostile corpus (tests/hostile.py) through the config file: the title, an Alertmanager's
name and cluster, severity levels, people's names and handles, roles and the user hold every
control-sequence string of the corpus. A real shiftdeck on a pty draws the dashboard, help and
the on-call screen from them; every byte it writes is checked. `shiftdeck check` and config
error messages must not echo them either."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .support import hostile
from .support.pty_driver import PtySession

ANYTHING = re.compile(rb".", re.S)
ESC = b"\x1b"


def _controls(tmp_path: Path) -> list[tuple[str, bytes | None]]:
    """The corpus entries that smuggle a control sequence (those a terminal must never get)."""
    return [(text, raw) for text, raw in hostile.corpus(tmp_path / hostile.MARKER_NAME)
            if raw is not None]


def hostile_config(tmp_path: Path, url: str = "http://127.0.0.1:9") -> Path:
    texts = [text for text, _ in _controls(tmp_path)]
    every = "".join(texts)
    config = {
        "title": every,
        "user": every + "alice",
        "alertmanagers": [{"name": every + "am0", "cluster": every + "c0", "url": url,
                           "timeout": "1s"}],
        "severities": [{"level": texts[i] + f"L{i}", "match": [f"severity=s{i}"]}
                       for i in range(len(texts))],
        "timezone": "UTC",
        "people": {f"p{i}": {"name": text + f" person{i}", "handle": "@" + text}
                   for i, text in enumerate(texts)},
        "rotations": [{"role": text + f"role{i}", "members": [f"p{i}"],
                       "start": "2026-01-05T09:00", "length": "1w"}
                      for i, text in enumerate(texts)],
        "journal": str(tmp_path / "journal.jsonl"),
    }
    path = tmp_path / "config.yaml"
    # safe_dump writes every control character as a YAML escape (\e, \x9b, \u202e...)
    path.write_text(yaml.safe_dump(config, allow_unicode=False, width=10_000))
    return path


STEPS: list[tuple[str, bytes, bytes | None]] = [
    ("help", b"?", b"Next theme"),  # a row of the keys table
    ("back", ESC, None),
    ("on call", b"O", b"person0"),
    ("back", ESC, None),
    ("theme", b"t", None),
]


@pytest.mark.timeout(120)
def test_hostile_config_strings_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    entries = _controls(tmp_path)
    assert len(entries) >= 15
    config = hostile_config(tmp_path)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("TMUX", None)
    argv = [sys.executable, "-m", "shiftdeck", "--config", str(config)]
    with PtySession(argv, cols=160, rows=50, env=env) as tui:
        assert tui.wait_for(b"person", timeout=30), tui.exit_reason()
        assert tui.wait_for(b"unreachable", timeout=30), tui.exit_reason()  # the banner, named
        for what, keys, expect in STEPS:
            tui.wait_quiet(0.3)
            since = tui.mark()
            tui.write(keys)
            assert tui.wait_for(expect or ANYTHING, timeout=15, since=since), (
                f"{what}: {expect or 'a repaint'!r} never came "
                f"({tui.exit_reason() or 'running'}): {tui.text(since)[-2000:]}")
        tui.write(b"q")
        assert tui.proc is not None
        assert tui.proc.wait(timeout=15) == 0, tui.exit_reason()
        output = tui.output()
    assert hostile.terminal_violations(output, entries) == []


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          timeout=timeout)


@pytest.mark.timeout(60)
def test_check_output_carries_no_control_sequences(tmp_path: Path) -> None:
    entries = _controls(tmp_path)
    result = _run("--config", str(hostile_config(tmp_path)), "check")
    assert result.returncode == 1  # the Alertmanager is unreachable
    assert b"am0" in result.stdout
    for stream in (result.stdout, result.stderr):
        assert hostile.terminal_violations(stream, entries) == []
        assert ESC not in stream and b"\x9b" not in stream


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["unknown key", "unknown person", "bad url", "env"])
def test_config_errors_never_echo_control_sequences(tmp_path: Path, where: str) -> None:
    entries = _controls(tmp_path)
    every = "".join(text for text, _ in entries)
    quoted = yaml.safe_dump(every, allow_unicode=False, width=10_000).strip().removesuffix(
        "...").strip()
    am = "alertmanagers: [{name: am0, url: 'http://127.0.0.1:9'}]\n"
    text = {
        "unknown key": f"{quoted}: 1\n" + am,
        "unknown person": am + "people: {alice: {name: Alice}}\n"
                          f"rotations: [{{role: r, members: [{quoted}], start: "
                          "2026-01-05T09:00, length: 1w}]\n",
        "bad url": f"alertmanagers: [{{name: am0, url: {quoted}}}]\n",
        "env": am + "timezone: ${HOSTILE}\n",
    }[where]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    env = {**os.environ, "HOSTILE": every.replace("\0", "")}
    result = subprocess.run([sys.executable, "-m", "shiftdeck", "--config", str(path), "check"],
                            capture_output=True, timeout=50, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(b"shiftdeck: "), result.stderr
    assert hostile.terminal_violations(result.stderr, entries) == []
    assert ESC not in result.stderr and b"\x9b" not in result.stderr

"""`shiftdeck --demo` is a place to learn that leaves no traces: its journal, its write lock,
kubectl's caches and its kubeconfig live in one directory of its own, removed when it ends,
even when it is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shiftdeck.clock import FrozenClock
from shiftdeck.config import load_config_text
from shiftdeck.demo import DemoEnvironment

from .support.pty_driver import PtySession
from .support.demo_time import T0

DEMO_DIRS = "shiftdeck-demo-*"


def _isolated_env(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """An environment whose HOME, XDG dirs and TMPDIR are empty directories under tmp_path."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("XDG_") and k not in ("KUBECONFIG", "KUBECACHEDIR")}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"),
               TMPDIR=str(tmp))
    return env, home, tmp


def _until(test: Callable[[], bool], timeout: float, what: str, tui: PtySession) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline or tui.proc is None or tui.proc.poll() is not None:
            pytest.fail(f"{what}: not seen; {tui.exit_reason()}\n{tui.text()[-2000:]}")
        time.sleep(0.05)


def _shows(tui: PtySession, text: str, since: int = 0) -> Callable[[], bool]:
    return lambda: text in tui.text(since)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_an_ack_and_a_runbook_command_in_the_demo_write_nothing_in_home_and_go_with_it(
        tmp_path: Path) -> None:
    env, home, tmp = _isolated_env(tmp_path)
    with PtySession([sys.executable, "-m", "shiftdeck", "--demo"], cols=100, rows=30,
                    env=env) as tui:
        _until(_shows(tui, " P1 firing"), 30, "the dashboard", tui)
        mark = tui.mark()
        tui.write(b"a")
        _until(_shows(tui, " ACK ", mark), 10, "the ack", tui)
        mark = tui.mark()
        tui.write(b"r")
        _until(_shows(tui, "▶ kubectl", mark), 10, "the runbook's commands", tui)
        mark = tui.mark()
        tui.write(b"\r")  # the first command is a kubectl one: kubectl writes caches
        _until(_shows(tui, "── exit", mark), 20, "the command's end", tui)
        (demo_dir,) = tmp.glob(DEMO_DIRS)
        journal = [json.loads(line) for line in
                   (demo_dir / "state" / "journal.jsonl").read_text().splitlines()]
        assert {"ack", "command"} <= {record["kind"] for record in journal}
        tui.write(b"\x1b")
        _until(_shows(tui, " P1 ", mark), 10, "the dashboard again", tui)
        tui.write(b"q")
        assert tui.proc is not None and tui.proc.wait(timeout=15) == 0
    assert sorted(home.rglob("*")) == []
    assert list(tmp.glob(DEMO_DIRS)) == []


def test_the_demo_config_points_every_stateful_path_into_the_demo_dir() -> None:
    with DemoEnvironment(FrozenClock(T0)) as demo:
        config = load_config_text(demo.config_text(), source="(demo)", environ={})
        assert config.journal.is_relative_to(demo.state_dir)
        assert demo.kubeconfig_path.is_relative_to(demo.state_dir)
        assert os.environ["KUBECACHEDIR"].startswith(str(demo.state_dir))
        state_dir = demo.state_dir
    assert not state_dir.exists()
    assert "KUBECACHEDIR" not in os.environ or not os.environ["KUBECACHEDIR"].startswith(
        str(state_dir))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_killed_demo_leaves_no_directory(tmp_path: Path, how: signal.Signals) -> None:
    env, _home, tmp = _isolated_env(tmp_path)
    # The signal's own action, whatever the test run inherited (under `nohup` SIGHUP is
    # ignored, and an ignored or blocked signal passes through exec). SIGKILL has no other.
    default = ("" if how is signal.SIGKILL else
               f"signal.signal({int(how)}, signal.SIG_DFL)\n"
               f"signal.pthread_sigmask(signal.SIG_UNBLOCK, {{{int(how)}}})\n")
    code = ("import signal, sys, time\n" + default +
            "from shiftdeck.clock import SystemClock\n"
            "from shiftdeck.demo import DemoEnvironment\n"
            "demo = DemoEnvironment(SystemClock()); demo.start()\n"
            "print(demo.state_dir, flush=True); time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        state_dir = Path(child.stdout.readline().strip())
        assert state_dir.is_dir() and state_dir.parent == tmp
        child.send_signal(how)
        child.wait(timeout=10)
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while state_dir.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not state_dir.exists()

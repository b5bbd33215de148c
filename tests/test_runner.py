"""sources.runner: argv per stage, pipes connected by shiftdeck, streaming, caps, kill."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from shiftdeck.domain.commands import Command, parse_command
from shiftdeck.domain.runs import RunResult
from shiftdeck.sources.runner import Runner

from .support.factories import make_alert

SECOND = timedelta(seconds=1)


def command(*stages: list[str]) -> Command:
    return Command(" | ".join(" ".join(s) for s in stages), tuple(tuple(s) for s in stages),
                   False, "", False)


async def run(cmd: Command, timeout: timedelta = 10 * SECOND,
              runner: Runner | None = None) -> tuple[list[str], RunResult]:
    lines: list[str] = []
    result = await (runner or Runner()).run(cmd, lines.append, timeout)
    return lines, result


def alive(pid: int) -> bool:
    """Running (a zombie or a vanished pid is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_output_streams_line_by_line_sanitised() -> None:
    lines, result = await run(command(["printf", "one\\n\\033]0;pwned\\007two\\nthree"]))
    assert lines == ["one", "]0;pwnedtwo", "three"]
    assert result.output == tuple(lines)
    assert (result.exit_code, result.timed_out, result.cancelled, result.truncated) == (
        0, False, False, False)


async def test_stderr_of_every_stage_is_shown() -> None:
    lines, result = await run(command(["sh", "-c", "echo oops >&2; echo data"], ["cat"]))
    assert sorted(lines) == ["data", "oops"]


async def test_a_pipeline_is_really_connected() -> None:
    lines, result = await run(command(
        ["printf", "a ERROR 1\\nb ok\\nc ERROR 2\\nd ERROR 3\\ne ok\\n"], ["grep", "ERROR"],
        ["tail", "-2"]))
    assert lines == ["c ERROR 2", "d ERROR 3"]
    assert result.stage_exit_codes == (0, 0, 0)


async def test_exit_code_of_the_last_stage_and_of_each() -> None:
    _, result = await run(command(["sh", "-c", "exit 3"]))
    assert result.exit_code == 3
    _, piped = await run(command(["sh", "-c", "exit 4"], ["cat"]))
    assert piped.exit_code == 0 and piped.stage_exit_codes == (4, 0)


async def test_only_the_last_5000_lines_are_kept() -> None:
    lines, result = await run(command(["seq", "1", "12000"]))
    assert len(lines) == 12000            # every line was streamed...
    assert result.truncated and len(result.output) == 5000   # ...the last 5,000 kept
    assert result.output[0] == "7001" and result.output[-1] == "12000"


async def test_a_timeout_kills_the_whole_pipeline() -> None:
    started = time.monotonic()
    lines, result = await run(
        command(["sh", "-c", "sleep 30 & echo $!; wait"], ["cat"]), timeout=timedelta(seconds=0.5))
    assert time.monotonic() - started < 4
    assert result.timed_out and not result.cancelled and result.exit_code is None
    grandchild = int(lines[0])
    assert await gone(grandchild), "the stage's own child survived the timeout"


async def test_cancel_kills_the_pipeline() -> None:
    runner = Runner()
    lines: list[str] = []
    task = asyncio.create_task(runner.run(command(["sh", "-c", "echo $$; exec sleep 30"],
                                                  ["cat"]), lines.append, 30 * SECOND))
    while not lines:
        await asyncio.sleep(0.01)
    runner.cancel()
    result = await asyncio.wait_for(task, 5)
    assert result.cancelled and not result.timed_out and result.exit_code is None
    assert await gone(int(lines[0]))
    assert not runner.running


async def test_a_refused_command_is_never_run() -> None:
    with pytest.raises(ValueError, match="needs a shell"):
        await Runner().run(parse_command("true && true", make_alert()), print, SECOND)


async def test_a_missing_program_says_so() -> None:
    lines, result = await run(command(["shiftdeck-no-such-program"]))
    assert result.exit_code == 127 and lines == [
        "shiftdeck: shiftdeck-no-such-program: command not found"]


async def test_a_long_line_without_newline_is_cut_not_buffered_forever() -> None:
    lines, _ = await run(command(["head", "-c", "200000", "/dev/zero"], ["tr", "\\0", "x"]))
    assert len(lines) == 4 and all(line.startswith("xxx") for line in lines)


# -- label values cannot inject, end to end ---------------------------------------- #


@pytest.mark.parametrize("template", ["x; touch {}", "$(touch {})", "`touch {}`",
                                      "x && touch {}"])
async def test_hostile_label_values_are_never_executed(tmp_path: Path, template: str) -> None:
    target = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    value = template.format(target)
    alert = make_alert("X", pod=value, namespace=value)
    echoed = parse_command("echo {{ $labels.pod }}", alert)
    assert echoed.stages == (("echo", value),)
    lines, result = await run(echoed)
    assert lines == [value] and result.exit_code == 0
    refused = parse_command("kubectl logs {{ $labels.pod }} -n {{ $labels.namespace }}", alert)
    with pytest.raises(ValueError):
        await Runner().run(refused, print, SECOND)
    assert not target.exists()


async def test_an_option_like_label_value_never_reaches_a_program() -> None:
    alert = make_alert("X", pod="--kubeconfig=/etc/x")
    for line in ("echo {{ $labels.pod }}", "kubectl logs {{ $labels.pod }}"):
        refused = parse_command(line, alert)
        assert refused.stages == () and "may not start with '-'" in refused.refused
        with pytest.raises(ValueError):
            await Runner().run(refused, print, SECOND)

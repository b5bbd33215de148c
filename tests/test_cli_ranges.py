"""Out-of-range numbers and times on the command line are usage errors: exit 2, a sentence
naming the flag, never a traceback (they used to overflow datetime arithmetic). The commands run
in this process (conftest's `cli`): an exception escaping `main()` fails the test outright."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = """alertmanagers:
  - {name: am0, url: 'http://127.0.0.1:9', timeout: 1s}
timezone: Pacific/Kiritimati
people: {alice: {name: Alice}}
rotations:
  - {role: primary, members: [alice], start: 2026-01-05T09:00, length: 1w}
"""

HUGE = "9" * 5000

CASES = [
    # (flag named in the message, arguments)
    ("--duration", ["silence", "alertname=X", "--comment", "c", "--duration", "99999999d"]),
    ("--duration", ["silence", "alertname=X", "--comment", "c", "--duration", HUGE + "s"]),
    ("--start", ["silence", "alertname=X", "--comment", "c", "--start", "9999-12-31T23:59"]),
    ("--start", ["silence", "alertname=X", "--comment", "c", "--start", "0001-01-01T00:00+14:00"]),
    ("--start", ["silence", "alertname=X", "--comment", "c", "--start", "+99999999999d"]),
    ("--expiring", ["silences", "--expiring", "99999999999d"]),
    ("--at", ["who", "--at", "9999-12-31T23:59"]),
    ("--at", ["who", "--at", "0001-01-01T00:00"]),
    ("--at", ["who", "--at", "0001-01-01T00:00+14:00"]),
    ("--weeks", ["schedule", "--weeks", "999999999"]),
    ("--weeks", ["schedule", "--weeks", HUGE]),
    ("--weeks", ["schedule", "--weeks", "0"]),
    ("--from", ["schedule", "--from", "9999-12-31T00:00"]),
    ("--from", ["schedule", "--from", "0001-01-01T00:00"]),
    ("--since", ["handoff", "--since", "99999999d"]),
    ("--since", ["handoff", "--since", "0001-01-01T00:00"]),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flag,args", CASES, ids=[" ".join(a)[:60] for _, a in CASES])
def test_out_of_range_flag_is_a_usage_error(tmp_path: Path, cli, flag: str, args: list[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    result = cli("--config", str(config), *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    line = result.stderr.splitlines()[-1]  # argparse prints its usage line first
    assert line.startswith(f"shiftdeck: {flag}: ") or f"argument {flag}" in line, line
    assert len(line) < 200
    assert any(reason in line for reason in ("too long: at most 3650d", "out of range: give a "
                                             "time between 1970 and 2200", "from 1 to 52")), line


@pytest.mark.timeout(60)
def test_the_limits_themselves_still_work(tmp_path: Path, cli) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    for args in (["schedule", "--weeks", "52", "--from", "2199-01-01T00:00"],
                 ["who", "--at", "1970-01-01T00:00Z"]):
        result = cli("--config", str(config), *args)
        assert result.returncode == 0, result.stderr
        assert "Alice" in result.stdout

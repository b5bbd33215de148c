"""The keymap check: unknown action ids and keys taken from another action are config errors
that name the file, the line and keymap.<id>; `check` and the TUI's start run the same check."""

import os
import subprocess
import sys
from pathlib import Path

from shiftdeck import keys
from shiftdeck.config import keymap_errors, load_config, load_config_text

BASE = "alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]\n"


def located(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + text)
    return [str(error) for error in keymap_errors(load_config(path))]


def test_the_readme_example_takes_n_from_add_a_note_and_says_so(tmp_path):
    (error,) = located(tmp_path, 'keymap: {cursor_down: "n,j"}\n')
    assert error.startswith(f"{tmp_path / 'config.yaml'}:2: keymap.cursor_down: ")
    assert "'n'" in error and "add_note" in error


def test_rebinding_the_other_action_too_is_fine(tmp_path):
    assert located(tmp_path, 'keymap: {cursor_down: "n,j", add_note: "N"}\n') == []


def test_an_unknown_action_id_names_its_line_and_lists_the_valid_ids(tmp_path):
    (error,) = located(tmp_path, "keymap:\n  ack_alert: a\n  ack_everything: x\n")
    assert f"config.yaml:4: keymap.ack_everything: no such action" in error
    assert "ack_alert" in error and "silence_alert" in error


def test_a_global_key_that_collides_in_several_screens_is_reported_once():
    problems = keys.keymap_problems({"theme": "q"})
    assert len(problems) == 1, problems
    assert "quit" in problems[0]


def test_a_config_from_text_is_located_without_a_file():
    text = BASE + "keymap: {nonsense: x}\n"
    (error,) = keymap_errors(load_config_text(text), text)
    assert str(error).startswith("line 2: keymap.nonsense: no such action")


def test_the_default_keymap_has_no_collisions():
    assert keys.keymap_problems({}) == []


def test_the_tui_refuses_a_bad_keymap_before_it_starts(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + 'keymap: {cursor_down: "n,j"}\n')
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path)}
    result = subprocess.run([sys.executable, "-m", "shiftdeck"], capture_output=True, text=True,
                            env=environ, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert f"{path}:2: keymap.cursor_down: 'n' is already the key of 'add_note'" in result.stderr
    assert "Traceback" not in result.stderr


def test_quit_and_go_back_share_q_by_design():
    assert keys.keymap_problems({"quit": "q"}) == []
    assert keys.keymap_problems({"go_back": "q,b"}) == []

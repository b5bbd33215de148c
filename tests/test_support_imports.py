"""Test modules share helpers through tests/support/, never by importing each other: a test
module can then be moved, renamed or deleted without breaking another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    """Every module `path` imports (relative ones as written: `.test_x`, `.support.y`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            if not node.module:  # `from . import x`
                found.update(base + alias.name for alias in node.names)
    return found


def _is_test_module(name: str) -> bool:
    last = name.rpartition(".")[2]
    return last.startswith("test_") or last == "conftest"


def test_no_test_module_imports_another_test_module() -> None:
    offenders = {
        path.name: sorted(name for name in _imported_modules(path) if _is_test_module(name))
        for path in sorted(TESTS.glob("*.py")) + sorted((TESTS / "support").glob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_check_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text("from .test_app_live import wait_until\nfrom . import test_cli\n"
                      "import tests.test_demo\nfrom .support.waiting import wait_until\n")
    assert {n for n in _imported_modules(sample) if _is_test_module(n)} == {
        ".test_app_live", ".test_cli", "tests.test_demo"}

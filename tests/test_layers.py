"""The CLI path never imports textual: `shiftdeck ack` and friends start fast, and the layers
stay clean. The import-linter contracts in pyproject.toml (run by scripts/test.sh) prove the
layering statically; this proves it at run time, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

CLI_PATH = ("shiftdeck.domain", "shiftdeck.sources", "shiftdeck.config", "shiftdeck.writes",
            "shiftdeck.cli", "shiftdeck.demo")

# Imports every module of the CLI path, found by walking the packages (so a new module is
# covered without a list to keep), then prints what it imported and which textual modules came.
_PROBE = """
import importlib, json, pkgutil, sys
imported = []
for name in {roots!r}:
    module = importlib.import_module(name)
    imported.append(name)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
textual = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(json.dumps({{"imported": imported, "textual": textual}}))
"""


def test_the_cli_path_imports_without_textual() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE.format(roots=CLI_PATH)], capture_output=True,
                            text=True, check=True, timeout=60)
    found = json.loads(result.stdout)
    assert found["textual"] == [], f"textual imported: {found['textual']}"
    imported = set(found["imported"])
    # the walk reached into every package, subpackages included
    assert {"shiftdeck.domain.alerts", "shiftdeck.sources.alertmanager", "shiftdeck.demo.kube.server",
            "shiftdeck.cli"} <= imported
    assert len(imported) > 40

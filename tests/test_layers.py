"""domain and sources never import textual: the CLI path stays fast and the layers clean."""

import subprocess
import sys

PURE_MODULES = [
    "shiftdeck.domain.alerts", "shiftdeck.domain.board", "shiftdeck.domain.matchers",
    "shiftdeck.domain.severity", "shiftdeck.domain.view", "shiftdeck.domain.health",
    "shiftdeck.domain.silences", "shiftdeck.sources.silence_writer", "shiftdeck.writes",
    "shiftdeck.sources.alertmanager", "shiftdeck.sources.prometheus", "shiftdeck.sources.poll",
    "shiftdeck.config", "shiftdeck.cli", "shiftdeck.demo",
    "shiftdeck.domain.roster", "shiftdeck.domain.escalation", "shiftdeck.sources.schedule",
    "shiftdeck.domain.journal", "shiftdeck.domain.status", "shiftdeck.domain.metrics",
    "shiftdeck.domain.handoff", "shiftdeck.domain.clipboard", "shiftdeck.sources.journal",
    "shiftdeck.domain.runbooks", "shiftdeck.domain.commands", "shiftdeck.sources.runbooks",
    "shiftdeck.sources.runner",
]


def test_domain_sources_and_cli_import_without_textual():
    code = (
        "import sys\n"
        f"for name in {PURE_MODULES!r}: __import__(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"textual imported: {result.stdout}"

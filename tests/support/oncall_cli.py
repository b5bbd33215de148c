"""`shiftdeck who` / `shiftdeck schedule` as a user runs them: a real process and a roster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = """\
alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]
timezone: Europe/Berlin
people:
  alice: {name: Alice Ng, handle: "@alice", phone: "+49 30 5550101", email: alice@example.com}
  bob: {name: Bob Okafor, handle: "@bob", email: bob@example.com}
  carol: {name: Carol Diaz}
rotations:
  - {role: primary, members: [alice, bob], start: 2026-01-05T09:00, length: 1w}
  - {role: manager, members: [carol], start: 2026-01-05T09:00, length: 1w}
overrides:
  - {role: primary, person: carol, from: 2026-11-24T09:00, until: 2026-11-25T09:00}
"""


def run(tmp_path: Path, *args: str, config: str = CONFIG) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path),
               "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=60)

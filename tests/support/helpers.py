"""Config builders for tests: real configs through the real loader."""

from __future__ import annotations

from shiftdeck.config import Config, load_config_text


ROSTER_YAML = """\
timezone: Europe/Berlin
people:
  alice: {name: Alice Ng, handle: "@alice", phone: "+49 30 5550101"}
  bob: {name: Bob Okafor, handle: "@bob"}
  carol: {name: Carol Diaz, handle: "@carol"}
  erin: {name: Erin Walsh, handle: "@erin"}
rotations:
  - {role: primary, members: [alice, bob, carol], start: 2026-01-05T09:00, length: 1w}
  - {role: secondary, members: [bob, carol, alice], start: 2026-01-05T09:00, length: 1w}
  - {role: manager, members: [erin], start: 2026-01-05T09:00, length: 1w}
escalation:
  P1:
    - {after: 0m, notify: primary}
    - {after: 15m, notify: secondary}
    - {after: 30m, notify: manager}
  P2:
    - {after: 0m, notify: primary}
    - {after: 1h, notify: secondary}
"""


def config_for(alertmanagers: list[str] = (), prometheus: list[str] = (), extra: str = "",
               timeout: str = "3s", **top: str) -> Config:
    """`timeout`: every upstream's deadline (a test about a deadline, not its length, sets a
    short one)."""
    lines = [f"{key}: {value}" for key, value in top.items()]
    lines += extra.splitlines()
    if alertmanagers:
        lines.append("alertmanagers:")
        lines += [f"  - {{name: am{i}, url: '{url}', cluster: test, timeout: {timeout}}}"
                  for i, url in enumerate(alertmanagers)]
    if prometheus:
        lines.append("prometheus:")
        lines += [f"  - {{name: prom{i}, url: '{url}', timeout: {timeout}}}"
                  for i, url in enumerate(prometheus)]
    return load_config_text("\n".join(lines) + "\n", source="(test)")

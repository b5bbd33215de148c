"""`shiftdeck --demo`: an embedded Alertmanager + Prometheus look-alike on loopback HTTP.

No textual here: the demo is plain stdlib HTTP so the app's real clients talk to it exactly
as they talk to production, and tests can run it without a terminal.
"""

from __future__ import annotations

from .environment import DemoEnvironment
from .scenario import Scenario, build_scenario

__all__ = ["DemoEnvironment", "Scenario", "build_scenario"]

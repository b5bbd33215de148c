"""I/O: talking to Alertmanager, Prometheus and friends. No textual here."""

import sys

# httpx imports its own command-line client (rich, pygments, click: ~40 ms, measured) whenever
# those happen to be installed, and shiftdeck never uses it. A None entry makes that import
# fail, which httpx handles by defining a stub `httpx.main`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

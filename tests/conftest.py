"""Shared pytest fixtures for shiftdeck.

Layout of this file (add your fixtures in a section of their own, below):

1. Real servers (tests/support/servers.py): Alertmanager, an Alertmanager HA cluster,
   Prometheus. No mocks: these are the Debian binaries on loopback free ports,
   a fresh empty instance per test, logs in the test's ``tmp_path``.
   Missing binaries make the server fixtures *fail* (never skip): run
   ``scripts/test.sh``, which installs them.

``tests/support/servers.py``: ``from .support import servers`` in any test. Shared helpers live
in ``tests/support/``; test modules import from there, never from each other.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # tests/ is a package (tests/__init__.py): `from .support import servers`
    from .support import servers
except ImportError:  # rootdir-less layout / --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
    import servers
# One module object whether code writes `from .support import servers` or `import servers`
# (bench/ style, with tests/support on sys.path): one registry of live processes, one set of
# classes.
sys.modules.setdefault("servers", servers)

# Snapshots and banners print clock times in the machine's zone: pin it, so a run in Berlin
# draws what a run in CI draws.
os.environ["TZ"] = "UTC"
time.tzset()


# --------------------------------------------------------------------------- #
# 1. Real servers
# --------------------------------------------------------------------------- #


def pytest_report_header(config: pytest.Config) -> list[str]:
    am, prom = servers.alertmanager_binary(), servers.prometheus_binary()
    return [
        f"alertmanager binary: {am or 'MISSING (run scripts/test.sh)'}",
        f"prometheus binary: {prom or 'MISSING (run scripts/test.sh)'}",
    ]


_SERVER_FIXTURES = {"alertmanager", "alertmanager_cluster", "prometheus",
                    "prometheus_with_alertmanager"}
_SLOW_MODULES = {"test_hostile_terminal", "test_terminals", "test_faults", "test_hostile_config"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start real servers or a terminal are `slow`: `pytest -m 'not slow'` is the
    quick loop while editing; the README's test command runs everything."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__.rpartition(".")[2] if item.module else ""
        if fixtures & _SERVER_FIXTURES or module in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def _require_binaries() -> None:
    missing = servers.missing_binaries()
    if missing:
        pytest.fail(
            f"missing server binaries: {', '.join(missing)}. Run `scripts/test.sh` "
            "(installs them with apt-get) or `apt-get install prometheus-alertmanager "
            "prometheus`, or point SHIFTDECK_ALERTMANAGER_BIN / SHIFTDECK_PROMETHEUS_BIN "
            "at the binaries.",
            pytrace=False,
        )


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[servers.AlertmanagerProcess]:
    """A fresh, empty, single-node Alertmanager (HA disabled). ``.url``, ``.push_alerts()``..."""
    _require_binaries()
    with servers.AlertmanagerProcess(workdir=tmp_path / "alertmanager") as am:
        yield am


@pytest.fixture
def alertmanager_cluster(tmp_path: Path) -> Iterator[servers.AlertmanagerCluster]:
    """Two Alertmanagers gossiping on loopback, cluster status ``ready`` on both."""
    _require_binaries()
    with servers.AlertmanagerCluster(2, workdir=tmp_path / "am-cluster") as cluster:
        yield cluster


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[servers.PrometheusProcess]:
    """Standalone Prometheus with ``servers.DEFAULT_RULES`` (no Alertmanager)."""
    _require_binaries()
    with servers.PrometheusProcess(servers.DEFAULT_RULES, workdir=tmp_path / "prometheus") as prom:
        yield prom


@pytest.fixture
def prometheus_with_alertmanager(
    tmp_path: Path, alertmanager: servers.AlertmanagerProcess
) -> Iterator[tuple[servers.PrometheusProcess, servers.AlertmanagerProcess]]:
    """``(prom, am)``: Prometheus with DEFAULT_RULES sending to the test's ``alertmanager``.

    The first alert reaches Alertmanager ~5-6 s after start (Prometheus 2.42
    hands discovered Alertmanagers to its notifier only every 5 s).
    """
    with servers.PrometheusProcess(
        servers.DEFAULT_RULES, alertmanager.url, workdir=tmp_path / "prometheus-am"
    ) as prom:
        yield prom, alertmanager


# --------------------------------------------------------------------------- #
# 2. (next section: your fixtures here)
# --------------------------------------------------------------------------- #


# --------------------------------------------------------------------------- #
# Isolation: nothing a test runs may write into the real home directory
# (the journal defaults to $XDG_STATE_HOME, ICS caches to $XDG_CACHE_HOME).
# --------------------------------------------------------------------------- #

@pytest.fixture(autouse=True)
def _private_xdg_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))

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
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

try:  # tests/ is a package (tests/__init__.py): `from .support import servers`
    from .support import oncall_cli as oncall_cli_module
    from .support import servers
except ImportError:  # rootdir-less layout / --import-mode=importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
    import oncall_cli as oncall_cli_module
    import servers
# One module object whether code writes `from .support import servers` or `import servers`
# (bench/ style, with tests/support on sys.path): one registry of live processes, one set of
# classes.
sys.modules.setdefault("servers", servers)

# Snapshots and banners print clock times in the machine's zone: pin it, so a run in Berlin
# draws what a run in CI draws.
os.environ["TZ"] = "UTC"
time.tzset()

# pytest-xdist's workers export COLUMNS=80 LINES=24 (a shell does not export them): a CLI run
# from a test would then cut its lines to 80 columns in a worker and not in a serial run.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


class _StreamNow:
    """Writes to whatever `sys.<name>` is at the time of writing."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        stream = getattr(sys, self._name)
        if stream is self:  # only while the module below is being imported
            stream = getattr(sys, f"__{self._name}__")
        return getattr(stream, attribute)


def _import_with_streams_bound_late(*modules: str) -> None:
    """shiftdeck.cli and .keep take `out=sys.stdout, err=sys.stderr` as default arguments, bound
    when they are imported: imported inside one test's capture, they would write into that
    capture, closed, in every later test. Bound to _StreamNow, they write where a real process
    would: to the current sys.stdout / sys.stderr (so the `cli` fixture's capture sees them)."""
    import importlib

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _StreamNow("stdout"), _StreamNow("stderr")
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        sys.stdout, sys.stderr = saved


_import_with_streams_bound_late("shiftdeck.cli", "shiftdeck.keep")


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
# 2. The command line in this process
# --------------------------------------------------------------------------- #


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`cli("who", "--at", "...", env={...})`: `shiftdeck ARGS` run by its own `main()` (argparse
    and exit codes included) in this process, output captured at the file descriptors; the
    answer has a subprocess's shape (returncode, stdout, stderr). A new interpreter costs ~0.5 s
    of CPU per command: keep a real process for tests about the process itself (the console
    script, imports, crashes, signals)."""
    from shiftdeck.__main__ import main

    def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capfd.readouterr()
        try:
            code: object = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors and --help
            code = exit_.code
        if code is None:
            code = 0
        elif not isinstance(code, int):  # sys.exit("message"), as the interpreter does it
            print(code, file=sys.stderr)
            code = 1
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["shiftdeck", *args], code, out, err)

    return run


@pytest.fixture
def oncall_cli(cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
               ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`oncall_cli("who", config=...)`: as tests/support/oncall_cli.run (its roster CONFIG by
    default, written to tmp_path, an ICS cache of the test's own), in this process."""
    def run(*args: str, config: str = oncall_cli_module.CONFIG) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "config.yaml"
        path.write_text(config)
        return cli(*args, env={"SHIFTDECK_CONFIG": str(path),
                               "XDG_CACHE_HOME": str(tmp_path / "cache")})

    return run


# --------------------------------------------------------------------------- #
# 3. (next section: your fixtures here)
# --------------------------------------------------------------------------- #


# --------------------------------------------------------------------------- #
# Isolation: nothing a test runs may write into the real home directory
# (the journal defaults to $XDG_STATE_HOME, ICS caches to $XDG_CACHE_HOME).
# --------------------------------------------------------------------------- #

@pytest.fixture(autouse=True)
def _private_xdg_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))

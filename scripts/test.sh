#!/usr/bin/env bash
# The one test command: installs what the tests need, checks types and import
# layers (mypy, import-linter), then runs pytest.
#   scripts/test.sh [pytest args...]
# Works on a fresh Debian machine (as root, or with sudo): missing
# prometheus-alertmanager / prometheus / amtool / kubectl / tmux are installed
# with apt-get; the package and its test extras with pip; then pytest runs
# real Alertmanager/Prometheus servers on free loopback ports.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian's own python3 is "externally managed" (PEP 668): pip refuses to
# install into it, so we then use a project venv (.venv) instead.
externally_managed() {
    python3 - <<'PYEOF'
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if os.path.exists(marker) and sys.prefix == sys.base_prefix else 1)
PYEOF
}

# ---- system packages (only what is missing) ---------------------------------
missing=()
need() { [[ " ${missing[*]-} " == *" $1 "* ]] || missing+=("$1"); }
command -v prometheus-alertmanager >/dev/null 2>&1 || need prometheus-alertmanager
command -v amtool >/dev/null 2>&1 || need prometheus-alertmanager
command -v prometheus >/dev/null 2>&1 || need prometheus
command -v kubectl >/dev/null 2>&1 || need kubectl
command -v tmux >/dev/null 2>&1 || need tmux
if ! command -v python3 >/dev/null 2>&1; then
    need python3; need python3-venv; need python3-pip
elif externally_managed; then
    [[ -x .venv/bin/python3 ]] || python3 -c 'import ensurepip' >/dev/null 2>&1 || need python3-venv
elif ! python3 -m pip --version >/dev/null 2>&1; then
    need python3-pip
fi

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "scripts/test.sh: need ${missing[*]}: run as root, or install sudo" >&2
        exit 1
    fi
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    # Installing prometheus may start a daemon on :9090 where a service manager
    # exists; the tests use free ports, so that is harmless.
    ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    # kubectl is packaged as "kubectl" in newer Debian, "kubernetes-client" in bookworm.
    pkgs=()
    for pkg in "${missing[@]}"; do
        if [[ $pkg == kubectl ]]; then
            for cand in kubectl kubernetes-client; do
                policy=$(apt-cache policy "$cand" 2>/dev/null || true)
                if [[ $policy =~ Candidate:\ [^\(] ]]; then
                    pkgs+=("$cand"); continue 2
                fi
            done
            echo "scripts/test.sh: WARNING: no kubectl package in the apt sources; continuing without it" >&2
        else
            pkgs+=("$pkg")
        fi
    done
    ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${pkgs[@]}" </dev/null
fi

# ---- Python -----------------------------------------------------------------
PY=python3
if externally_managed; then
    [[ -x .venv/bin/python3 ]] || python3 -m venv .venv || {
        rm -rf .venv
        echo "scripts/test.sh: python3 -m venv failed (apt-get install python3-venv)" >&2
        exit 1
    }
    PY=.venv/bin/python3
fi

PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q -e ".[test]"

# ---- static checks: types (mypy) and layer contracts (import-linter) --------
# Both read their settings from pyproject.toml; either failing fails the run.
# SHIFTDECK_STATIC_CHECKS=0 skips them, =1 runs them (default: STATIC_CHECKS_DEFAULT).
STATIC_CHECKS_DEFAULT=1  # mypy and lint-imports pass on the tree: keep them passing
if [[ ${SHIFTDECK_STATIC_CHECKS:-$STATIC_CHECKS_DEFAULT} != 0 ]]; then
    "$PY" -m mypy || { echo "scripts/test.sh: mypy found type errors" >&2; exit 1; }
    "$PY" -c 'import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())' \
        || { echo "scripts/test.sh: an import-linter contract is broken" >&2; exit 1; }
fi

# Two workers (pytest-xdist) on a 2-core machine: most of a serial run is spent waiting (real
# servers, ptys, deadlines), so the other worker runs meanwhile. Whole files go to one worker
# (--dist loadfile): a module fixture (the terminal tours) then runs once. Each worker starts its
# own servers on free ports in its own tmp_path. SHIFTDECK_TEST_WORKERS=0 runs serially.
exec "$PY" -m pytest -q -n "${SHIFTDECK_TEST_WORKERS:-auto}" --dist loadfile "$@"

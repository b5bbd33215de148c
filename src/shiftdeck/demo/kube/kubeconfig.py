"""Kubeconfigs for the loopback API: a context per "cluster", each with a token user."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_USER = "oncall"


def write_kubeconfig(path: str | os.PathLike[str], servers: Mapping[str, str], current: str,
                     tokens: Mapping[str, str] | None = None, namespace: str = "default",
                     user: str = DEFAULT_USER) -> Path:
    """A kubeconfig (JSON, which is YAML): context → cluster at `servers[context]`, a token
    user each, TLS verification off. Written 0600, as kubeconfigs hold credentials."""
    tokens = tokens or {}
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": current,
        "clusters": [{"name": c, "cluster": {"server": url, "insecure-skip-tls-verify": True}}
                     for c, url in servers.items()],
        "users": [{"name": f"{user}@{c}", "user": {"token": tokens.get(c, "no-token")}} for c in servers],
        "contexts": [{"name": c, "context": {"cluster": c, "user": f"{user}@{c}", "namespace": namespace}}
                     for c in servers],
    }
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(config, out, indent=2)
        out.write("\n")
    return target

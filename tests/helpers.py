"""Config builders for tests: real configs through the real loader."""

from __future__ import annotations

from shiftdeck.config import Config, load_config_text


def config_for(alertmanagers: list[str] = (), prometheus: list[str] = (), **top: str) -> Config:
    lines = [f"{key}: {value}" for key, value in top.items()]
    if alertmanagers:
        lines.append("alertmanagers:")
        lines += [f"  - {{name: am{i}, url: '{url}', cluster: test, timeout: 3s}}"
                  for i, url in enumerate(alertmanagers)]
    if prometheus:
        lines.append("prometheus:")
        lines += [f"  - {{name: prom{i}, url: '{url}', timeout: 3s}}"
                  for i, url in enumerate(prometheus)]
    return load_config_text("\n".join(lines) + "\n", source="(test)")

"""The session's one Kubernetes client, made on first use (reading the kubeconfig costs), closed
when the app ends."""

from __future__ import annotations

from ..domain.kube import KubernetesSettings
from ..sources.kube import KubeClient


class SharedKube:
    def __init__(self, settings: KubernetesSettings) -> None:
        self._settings = settings
        self._client: KubeClient | None = None

    def __call__(self) -> KubeClient:
        if self._client is None:
            self._client = KubeClient(self._settings)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

"""kthxbye's job, idempotently: extend ACK! silences still silencing a firing alert when less
than 5 minutes remain (judged on each cluster's clock), keeping their ids."""

from __future__ import annotations

from .. import writes
from ..domain.board import Board
from ..domain.silences import AckSettings, Silence, SilenceRequest, plan_extensions


class AckExtender:
    def __init__(self, writer: writes.Writer, settings: AckSettings) -> None:
        self._writer = writer
        self._settings = settings
        self._in_flight: set[str] = set()

    def due(self, board: Board) -> list[SilenceRequest]:
        """Extensions to write now (none already being written); marks them in flight."""
        by_cluster: dict[str, list[Silence]] = {}
        for silence in board.silences.values():
            by_cluster.setdefault(silence.cluster, []).append(silence)
        plans = [p for cluster, silences in by_cluster.items()
                 for p in plan_extensions(silences, board.alerts.values(),
                                          self._writer.now_at(cluster), self._settings)
                 if p.id not in self._in_flight]
        self._in_flight.update(p.id for p in plans)
        return plans

    async def extend(self, plans: list[SilenceRequest]) -> writes.Outcome:
        try:
            return await writes.write_silences(plans, self._writer)
        finally:
            self._in_flight.difference_update(p.id for p in plans)

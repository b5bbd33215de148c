"""Alerts in display order, kept from one board to the next.

Sorting 10k alerts every poll (a key tuple per alert, then the sort) holds the interpreter lock
for tens of milliseconds, though a poll changes a few alerts. An AlertOrder remembers the board
it was made from and each alert's sort key; the next board is ordered by dropping the alerts
that went or changed (by identity: boards reuse unchanged Alert objects) and merging in the
new ones, sorted on their own. Keys end with the fingerprint, so they are unique and the result
is exactly what sorting everything again gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from .alerts import Alert

SortKey = tuple[Any, ...]
"""Must be unique per alert (end it with the fingerprint)."""

_by_key = itemgetter(0)


@dataclass(frozen=True, slots=True)
class AlertOrder:
    board: Mapping[str, Alert]
    """The alerts (by fingerprint) this order was made from."""
    context: object
    """What the choice and the keys depend on besides the alerts (filter, policy, sort kind):
    an order made in another context is never reused."""
    entries: tuple[tuple[SortKey, Alert], ...]
    """The accepted alerts with their keys, sorted."""

    @property
    def alerts(self) -> list[Alert]:
        return list(map(itemgetter(1), self.entries))


def order_alerts(board: Mapping[str, Alert], accept: Callable[[Alert], bool],
                 key: Callable[[Alert], SortKey], context: object,
                 previous: AlertOrder | None = None) -> AlertOrder:
    """The alerts `accept` lets through, sorted by `key`, reusing `previous` (made in the
    same `context`) for every alert object it already placed."""
    if previous is None or previous.context != context:
        return _sorted_from_scratch(board, accept, key, context)
    if previous.board is board:
        return previous
    before = previous.board
    added = [alert for fp, alert in board.items() if before.get(fp) is not alert]
    if len(added) > len(board) // 2:
        return _sorted_from_scratch(board, accept, key, context)
    entries = list(previous.entries)
    if len(board) - len(added) != len(before):  # some went or changed: drop them
        entries = [entry for entry in entries if board.get(entry[1].fingerprint) is entry[1]]
    fresh = sorted(((key(alert), alert) for alert in added if accept(alert)), key=_by_key)
    if fresh:
        entries += fresh
        entries.sort(key=_by_key)  # two sorted runs: one merge pass
    return AlertOrder(board, context, tuple(entries))


def _sorted_from_scratch(board: Mapping[str, Alert], accept: Callable[[Alert], bool],
                         key: Callable[[Alert], SortKey], context: object) -> AlertOrder:
    entries = [(key(alert), alert) for alert in board.values() if accept(alert)]
    entries.sort(key=_by_key)
    return AlertOrder(board, context, tuple(entries))

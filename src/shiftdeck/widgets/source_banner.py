"""A banner per failing source: what is wrong, since when, and how old the data shown is."""

from __future__ import annotations

from datetime import tzinfo

from textual.content import Content
from textual.widget import Widget

from ..domain.durations import clock_time
from ..domain.health import Health, SourceHealth


class SourceBanner(Widget):
    DEFAULT_CSS = """
    SourceBanner { height: auto; display: none; background: $error 25%; color: $text; }
    SourceBanner.-failing { display: block; }
    """

    def __init__(self, *, zone: tzinfo | None = None, id: str | None = None) -> None:
        """`zone`: the configured display zone (times say when in it, as the rest does)."""
        super().__init__(id=id)
        self._content = Content("")
        self._zone = zone

    def show(self, health: tuple[SourceHealth, ...]) -> None:
        lines = [banner_line(s, self._zone) for s in health
                 if s.health in (Health.STALE, Health.DOWN)]
        content = Content("\n").join(lines)
        if content.is_same(self._content):
            return
        self._content = content
        self.set_class(bool(lines), "-failing")
        self.refresh(layout=True)

    def render(self) -> Content:
        return self._content


def banner_line(source: SourceHealth, zone: tzinfo | None = None) -> Content:
    since = clock_time(source.failing_since, zone)
    if source.kind == "internal":
        return Content.assemble((" ⚠ internal error", "bold"), f" in {source.name} at {since}: ",
                                source.error, " — the rest keeps running (please report it)")
    if source.kind == "journal":
        tail = ""  # nothing is shown from it: the error says what is kept
    elif source.last_ok:
        tail = f" — showing data from {clock_time(source.last_ok, zone)}"
    else:
        tail = " — no data from it yet"
    return Content.assemble(
        (" ⚠ ", "bold"), (source.label, "bold"), f" {source.error} since {since}{tail}"
    )

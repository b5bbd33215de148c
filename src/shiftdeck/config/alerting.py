"""How alerts are judged and shown: severities, ack, silences, key_labels, keymap."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..domain.matchers import Matcher, MatcherError, parse_matchers
from ..domain.severity import SeverityLevel, SeverityPolicy
from ..domain.silences import AckSettings, SilenceSettings
from . import values
from .declare import Setting, declare, read_section
from .mask import duration_text, masked_section, texts
from .values import LABEL_NAME, positive_duration
from .walker import Value


def parse_severities(value: Value) -> SeverityPolicy:
    levels: dict[str, SeverityLevel] = {}
    for item in value.items():
        level = _parse_level(item)
        if level.level in levels:
            raise item.error(f"duplicate level {level.level!r}")
        levels[level.level] = level
    if not levels:
        raise value.error("needs at least one level (remove the key to use the defaults)")
    return SeverityPolicy(tuple(levels.values()))


def show_severities(policy: SeverityPolicy) -> list[dict[str, object]]:
    return [masked_section(level) for level in policy.levels]


def _parse_level(value: Value) -> SeverityLevel:
    _, parsed = read_section(value, SeverityLevel)
    return SeverityLevel(**{"match": (), **parsed})


def parse_ack(value: Value) -> AckSettings:
    found, parsed = read_section(value, AckSettings)
    settings = AckSettings(**parsed)
    if settings.max_duration < settings.duration:
        at = found.get("max_duration") or found.require("duration")
        raise at.error(f"max_duration ({duration_text(settings.max_duration)}) is shorter than "
                       f"duration ({duration_text(settings.duration)})")
    return settings


def timing_warnings(ack: AckSettings, silences: SilenceSettings) -> list[str]:
    """What `shiftdeck check` warns about in the ack and silence timings (nothing is wrong
    enough to refuse the config)."""
    warn = silences.warn_before
    if warn and warn >= ack.duration:
        return [f"silences.warn_before ({duration_text(warn)}) is not shorter than ack.duration "
                f"({duration_text(ack.duration)}): every new ack shows as expiring soon; set "
                "warn_before below ack.duration (default 5m)"]
    return []


def parse_silences(value: Value) -> SilenceSettings:
    _, parsed = read_section(value, SilenceSettings)
    return SilenceSettings(**parsed)


def _parse_protected(value: Value) -> tuple[Matcher, ...]:
    for item in value.items():
        try:
            special = [m for m in parse_matchers(item.text()) if m.name.startswith("@")]
        except MatcherError:
            continue  # values.matchers reports it, with its line
        if special:
            raise item.error(f"{special[0].name} is a shiftdeck filter, not a label: "
                             "protect alerts by their labels")
    return values.matchers(value)


def parse_key_labels(value: Value) -> tuple[str, ...]:
    labels = []
    for item in value.items():
        label = item.nonempty_text().strip()
        if not LABEL_NAME.fullmatch(label):
            raise item.error(f"not a label name: {label!r}")
        labels.append(label)
    return tuple(labels)


def parse_keymap(value: Value) -> Mapping[str, str]:
    return MappingProxyType({name: item.nonempty_text() for name, item in value.entries()})


declare(
    SeverityLevel,
    level=Setting(parse=values.stripped_text, required=True),
    match=Setting(parse=values.matchers, show=texts),
    ack_within=Setting(parse=positive_duration),
    resolve_within=Setting(parse=positive_duration),
    update_every=Setting(parse=positive_duration),
    max_silence=Setting(parse=positive_duration),
    silence_approval=Setting(parse=Value.flag),
)
declare(
    AckSettings,
    duration=Setting(parse=positive_duration),
    max_duration=Setting(parse=positive_duration),
    extend=Setting(parse=Value.flag),
    until_resolved=Setting(parse=Value.flag),
)
declare(
    SilenceSettings,
    protected=Setting(parse=_parse_protected, show=texts),
    warn_before=Setting(parse=Value.duration),
)

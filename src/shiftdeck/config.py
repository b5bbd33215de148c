"""Configuration: one YAML file → frozen dataclasses, with errors that say file:line: key: why.

The file is *composed* with PyYAML's safe loader (nodes with line marks, nothing constructed) and
walked by small parsers, so every error points at the key or value at fault. Unknown keys are
errors at every level; ``${VAR}`` is expanded in every string; secrets come inline, from
``${VAR}`` or from ``*_file`` keys, and never appear in a repr or an error message.

Adding a top-level section: a frozen dataclass, a ``_parse_<section>(value)`` function, a field
on :class:`Config` and one row in ``_SECTIONS``. The on-call sections (``people``, ``rotations``,
``overrides``, ``schedules_ics``, ``escalation``, ``notify``) refer to each other and to
``timezone`` and ``severities``, so they are parsed together, after the others, by
:func:`_parse_oncall` (keys in ``_ONCALL_KEYS``).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .domain.commands import (
    DEFAULT_DANGEROUS,
    DEFAULT_READ_ONLY,
    CommandPatterns,
    CommandSettings,
    parse_pattern,
)
from .domain.durations import MAX_DURATION, check_year, limit_text, parse_duration
from .domain.sanitize import clean_line, has_unsafe
from .domain.sizes import format_size, parse_size
from .domain.urls import mask_url
from .domain.escalation import EscalationPolicy, NotifySettings, Step
from .domain.kube import KubernetesSettings, is_label_key
from .domain.matchers import Matcher, MatcherError, parse_matchers
from .domain.severity import DEFAULT_POLICY, SeverityLevel, SeverityPolicy
from .domain.roster import ICS_MAX_BYTES, IcsFeed, Person, Roster, Rotation, Shift, localize
from .domain.runbooks import RunbookSettings, origin_of
from .domain.silences import AckSettings, SilenceSettings
from .sources.journal import default_journal_path, special_file_kind

MASK = "***"
DEFAULT_TIMEOUT = timedelta(seconds=10)
MIN_REFRESH = timedelta(seconds=1)
MIN_ICS_REFRESH = timedelta(minutes=1)
MAX_REFRESH = timedelta(days=1)
MAX_TIMEOUT = timedelta(hours=1)
"""Longer timeouts are mistakes; and socket waits of weeks overflow some system calls."""
MIN_ROTATION = timedelta(hours=1)
"""Shorter turns are typos (1m for 1w), and each turn costs work whenever the roster is drawn."""
MAX_ALIASES = 100
MAX_MERGED_KEYS = 10_000
MAX_DEPTH = 64
"""YAML aliases, keys brought in by merge keys (<<) and nesting: a config never needs more,
and a few hundred bytes of aliases can otherwise expand to billions of keys."""
UTC_ZONE = ZoneInfo("UTC")


class ConfigError(Exception):
    """A configuration problem, located as precisely as known: ``file:line: key: reason``."""

    def __init__(self, file: str | None, line: int | None, key: str, reason: str) -> None:
        super().__init__(file, line, key, reason)
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        # Keys, file names and quoted values come from the file: never control sequences.
        return clean_line(": ".join(part for part in (where, self.key, self.reason) if part))


# --------------------------------------------------------------------------- #
# The configuration
# --------------------------------------------------------------------------- #


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


def _default_user(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("USER") or "unknown"


@dataclass(frozen=True, slots=True)
class TLSConfig:
    ca_file: str | None = None
    """CA bundle (PEM) that signs the server's certificate; None trusts the system store."""
    cert_file: str | None = None
    """Client certificate (PEM) for mutual TLS; may also hold the key."""
    key_file: str | None = None
    """Private key (PEM) of the client certificate, when not inside cert_file."""
    insecure_skip_verify: bool = False
    """Do not verify the server's certificate (labs only)."""


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    """HTTP basic-auth user."""
    password: str = field(repr=False)
    """HTTP basic-auth password (inline, ${VAR} or password_file). Never shown."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """One Alertmanager or Prometheus instance and how to reach it."""

    name: str
    """Unique (per kind) short name, shown in the source status bar."""
    url: str
    """Base URL, http(s), no trailing slash; may carry a path prefix (Mimir: .../alertmanager)."""
    cluster: str = ""
    """HA cluster this instance belongs to; peers share one name. Defaults to ``name``."""
    headers: Mapping[str, str] = field(default_factory=_empty_mapping, repr=False)
    """Extra request headers (e.g. X-Scope-OrgID). Values may be secrets: never in repr."""
    basic_auth: BasicAuth | None = None
    """HTTP basic auth, if any."""
    bearer_token: str | None = field(default=None, repr=False)
    """Sent as ``Authorization: Bearer ...`` (from bearer_token or bearer_token_file)."""
    tls: TLSConfig = TLSConfig()
    """Certificates for https upstreams."""
    proxy: str | None = field(default=None, repr=False)
    """HTTP(S)/SOCKS proxy URL; may carry credentials, so not in repr."""
    timeout: timedelta = DEFAULT_TIMEOUT
    """Deadline of one request, from connect to the last byte of the answer."""
    read_only: bool = False
    """Never write to this upstream (no acks, no silences). Also forced by Config.read_only."""
    max_bytes: int | None = None
    """Largest answer read, in bytes (config: ``256MiB``...); None: the kind's default
    (256 MiB for Alertmanager, 64 MiB for Prometheus). A larger answer is cut: a source error."""

    def __post_init__(self) -> None:
        if not self.cluster:
            object.__setattr__(self, "cluster", self.name)
        if not isinstance(self.headers, MappingProxyType):
            object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))


@dataclass(frozen=True, slots=True)
class Config:
    """Everything shiftdeck reads from its config file."""

    source: str | None = None
    """Path of the file loaded; None when loaded from a string."""
    user: str = field(default_factory=_default_user)
    """Who is at the keyboard: author of acks and silences. Default $USER or "unknown"."""
    title: str = "shiftdeck"
    """Shown in the header."""
    refresh: timedelta = timedelta(seconds=15)
    """Poll interval for every upstream; at least 1s."""
    alertmanagers: tuple[Upstream, ...] = ()
    """Alertmanager instances; HA peers share a ``cluster``."""
    prometheus: tuple[Upstream, ...] = ()
    """Prometheus instances (alerts, rules, expression graphs)."""
    severity: SeverityPolicy = DEFAULT_POLICY
    """Severity levels, first match wins (key ``severities``); replaces the default when given."""
    key_labels: tuple[str, ...] = ("namespace", "service", "pod")
    """Labels shown in the alert table's label column."""
    theme: str = "shiftdeck-dark"
    """Theme name (themes/<name>.yaml)."""
    keymap: Mapping[str, str] = field(default_factory=_empty_mapping)
    """Binding id → key(s), e.g. {"ack_alert": "a"}; overrides the default bindings."""
    resolved_retention: timedelta = timedelta(minutes=10)
    """How long resolved alerts stay visible."""
    read_only: bool = False
    """No writes anywhere: dangerous actions are hidden."""
    ack: AckSettings = AckSettings()
    """Acknowledgements: ACK! silences, their duration and extension (key ``ack``)."""
    silences: SilenceSettings = SilenceSettings()
    """Silence guardrails and the 'expiring soon' warning (key ``silences``)."""
    timezone: ZoneInfo = UTC_ZONE
    """IANA zone for on-call times: display, rotations, and config times without an offset."""
    roster: Roster = field(default_factory=lambda: Roster({}))
    """People, rotations and overrides (keys ``people``, ``rotations``, ``overrides``). ICS
    shifts are not in it: the app and the CLI add them with ``with_shifts`` after a fetch."""
    schedules_ics: tuple[IcsFeed, ...] = ()
    """iCalendar feeds of shifts (PagerDuty, Grafana OnCall, Opsgenie...)."""
    escalation: EscalationPolicy = field(default_factory=lambda: EscalationPolicy({}))
    """Escalation ladders per severity level (key ``escalation``); none by default."""
    notify: NotifySettings = NotifySettings()
    """Bell, toast and desktop notifications when an alert climbs its ladder."""
    journal: Path = field(default_factory=lambda: default_journal_path(os.environ))
    """The shift journal (JSON lines): every ack, silence, command, note, status update and
    alert seen firing or resolved. Default $XDG_STATE_HOME/shiftdeck/journal.jsonl."""
    runbooks: RunbookSettings = RunbookSettings()
    """Where runbooks are found (key ``runbooks``): dirs, base_url, map. None by default."""
    commands: CommandSettings = CommandSettings()
    """Runbook commands (key ``commands``): timeout, read-only and dangerous patterns."""
    kubernetes: KubernetesSettings = KubernetesSettings()
    """Kubernetes diagnostics (key ``kubernetes``): kubeconfig, contexts, selectors, timeout."""

    def __post_init__(self) -> None:
        if not isinstance(self.keymap, MappingProxyType):
            object.__setattr__(self, "keymap", MappingProxyType(dict(self.keymap)))

    def masked(self) -> dict[str, Any]:
        """The whole config as plain data (durations as text), every secret replaced by ***."""
        return {
            "source": self.source,
            "user": self.user,
            "title": self.title,
            "refresh": _duration_text(self.refresh),
            "alertmanagers": [_masked_upstream(u, with_cluster=True) for u in self.alertmanagers],
            "prometheus": [_masked_upstream(u, with_cluster=False) for u in self.prometheus],
            "severities": [_level_data(level) for level in self.severity.levels],
            "key_labels": list(self.key_labels),
            "theme": self.theme,
            "keymap": dict(self.keymap),
            "resolved_retention": _duration_text(self.resolved_retention),
            "read_only": self.read_only,
            "ack": {
                "duration": _duration_text(self.ack.duration),
                "max_duration": _duration_text(self.ack.max_duration),
                "extend": self.ack.extend,
            },
            "silences": {
                "protected": [str(matcher) for matcher in self.silences.protected],
                "warn_before": _duration_text(self.silences.warn_before),
            },
            **_oncall_data(self),
            "journal": str(self.journal),
            "runbooks": {
                "dirs": [str(d) for d in self.runbooks.dirs],
                "base_url": _masked_url(self.runbooks.base_url) or "",
                "map": {name: _masked_reference(ref) for name, ref in self.runbooks.map.items()},
                "trusted_origins": list(self.runbooks.trusted_origins),
            },
            "commands": {
                "timeout": _duration_text(self.commands.timeout),
                "read_only": list(self.commands.patterns.read_only),
                "dangerous": list(self.commands.patterns.dangerous),
            },
            "kubernetes": {
                "kubeconfig": self.kubernetes.kubeconfig or None,
                "contexts": dict(self.kubernetes.contexts),
                "selectors": dict(self.kubernetes.selectors),
                "timeout": _duration_text(self.kubernetes.timeout),
            },
        }


# --------------------------------------------------------------------------- #
# Public entry points
# --------------------------------------------------------------------------- #


def find_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """--config, then $SHIFTDECK_CONFIG, then $XDG_CONFIG_HOME/shiftdeck/config.yaml; else None."""
    if explicit:
        return _must_exist(explicit, "given with --config")
    from_env = environ.get("SHIFTDECK_CONFIG")
    if from_env:
        return _must_exist(from_env, "named by $SHIFTDECK_CONFIG")
    candidate = _config_home(environ) / "shiftdeck" / "config.yaml"
    return candidate if candidate.is_file() else None


def load_config(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and parse a config file. ``environ`` (default os.environ) feeds ${VAR} and $USER."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(name, None, "", "not UTF-8 text") from None
    except OSError as err:
        raise ConfigError(name, None, "", f"cannot read: {err.strerror or err}") from None
    return load_config_text(text, name, environ=environ)


def load_config_text(
    text: str, source: str | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Parse config text; ``source`` names it in errors and anchors relative *_file paths."""
    ctx = _Context(source, os.environ if environ is None else environ, _base_dir(source))
    root = _compose(text, ctx)
    fields = root.fields([*_SECTIONS, *_ONCALL_KEYS])
    values: dict[str, Any] = {}
    for key, section in _SECTIONS.items():
        value = fields.get(key)
        if value is not None:
            values[section.field] = section.parse(value)
        elif section.default is not None:
            values[section.field] = section.default(ctx)
    values.update(_parse_oncall(fields, values.get("timezone", UTC_ZONE),
                                values.get("severity", DEFAULT_POLICY)))
    config = Config(source=source, **values)
    _check_config(config, fields)
    return config


# --------------------------------------------------------------------------- #
# Walking the YAML node tree
# --------------------------------------------------------------------------- #

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _STR, _INT, _FLOAT = (_TAG + t for t in ("null", "bool", "str", "int", "float"))
_MERGE = _TAG + "merge"
_SCALAR_TAGS = {_NULL, _BOOL, _STR, _INT, _FLOAT, _TAG + "timestamp"}
_ENV_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class _Context:
    source: str | None
    environ: Mapping[str, str]
    base_dir: Path
    merged: _MergeBudget = field(default_factory=lambda: _MergeBudget())
    """Shared by every value of one load."""


class _MergeBudget:
    """Keys (and mappings) brought in through merge keys so far, over the whole file."""

    def __init__(self) -> None:
        self.used = 0


@dataclass(frozen=True, slots=True)
class _Value:
    """A YAML node, its dotted path (``alertmanagers[0].tls``) and the load context."""

    node: yaml.Node
    path: str
    ctx: _Context

    def error(self, reason: str) -> ConfigError:
        mark = self.node.start_mark
        return ConfigError(self.ctx.source, mark.line + 1 if mark else None, self.path, reason)

    def child(self, node: yaml.Node, key: str) -> _Value:
        return _Value(node, f"{self.path}.{key}" if self.path else key, self.ctx)

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == _NULL

    # -- containers --------------------------------------------------------- #

    def fields(self, allowed: Collection[str]) -> _Fields:
        """A mapping whose keys must all be in ``allowed``."""
        values = {}
        for key, (key_node, value_node) in self._pairs().items():
            if key not in allowed:
                raise self.child(key_node, key).error(_unknown_key(key, allowed))
            values[key] = self.child(value_node, key)
        return _Fields(self, values)

    def entries(self, raw: bool = False) -> list[tuple[str, _Value]]:
        """A mapping with free-form keys (headers, keymap, people). Keys are made safe to draw,
        like text(), unless `raw` (header names, checked as they are)."""
        pairs = self._pairs().items()
        if raw:
            return [(key, self.child(node, key)) for key, (_, node) in pairs]
        return [(clean_line(key, len(key)), self.child(node, key)) for key, (_, node) in pairs]

    def items(self) -> list[_Value]:
        self._expect(yaml.SequenceNode, "a list")
        return [_Value(n, f"{self.path}[{i}]", self.ctx) for i, n in enumerate(self.node.value)]

    # -- scalars ------------------------------------------------------------ #

    def text(self) -> str:
        """Any scalar, with ${VAR} expanded, made safe to draw: one line, no control
        characters (a config string reaches the terminal like upstream text does)."""
        raw = self.raw_text()
        return clean_line(raw, len(raw))

    def raw_text(self) -> str:
        """Any scalar byte for byte, ${VAR} expanded: for secrets and header values, which must
        reach the server unchanged and are never drawn."""
        return self._expand(self._scalar("text").value)

    def literal_text(self, what: str) -> str:
        """A path or URL byte for byte: a control character in it is refused, not removed
        (removing it would name something else)."""
        text = self.raw_text()
        if has_unsafe(text) or "\n" in text or "\t" in text:
            raise self.error(f"{what} must not contain control characters")
        if not text.strip():
            raise self.error("must not be empty")
        return text

    def nonempty_text(self) -> str:
        value = self.text()
        if not value.strip():
            raise self.error("must not be empty")
        return value

    def flag(self) -> bool:
        node = self._scalar("true or false")
        if node.tag == _BOOL:
            return yaml.SafeLoader.bool_values[node.value.lower()]
        if node.tag == _STR:
            word = self._expand(node.value).strip().lower()
            if word in ("true", "false"):
                return word == "true"
        raise self.error(f"expected true or false, got {_describe(node)}")

    def duration(self, maximum: timedelta = MAX_DURATION) -> timedelta:
        node = self._scalar("a duration like 15m")
        if node.tag not in (_STR, _INT):
            raise self.error(f"expected a duration like 15m, got {_describe(node)}")
        try:
            return parse_duration(self._expand(node.value), maximum)
        except ValueError as err:
            raise self.error(str(err)) from None

    def file_path(self) -> Path:
        """A path; ~ expanded, relative paths taken from the config file's directory."""
        path = Path(self.literal_text("a path")).expanduser()
        return path if path.is_absolute() else self.ctx.base_dir / path

    def secret_file(self) -> str:
        """The content of a secret file, trailing newline stripped. Never echoed."""
        path = self.file_path()
        try:
            secret = path.read_text(encoding="utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise self.error(f"{path} is not UTF-8 text") from None
        except OSError as err:
            raise self.error(f"cannot read {path}: {err.strerror or err}") from None
        if not secret:
            raise self.error(f"{path} is empty")
        return secret

    # -- helpers ------------------------------------------------------------ #

    def _pairs(self) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """key → (key node, value node), merge keys applied (later pairs win)."""
        self._expect(yaml.MappingNode, "a mapping")
        pairs = _merged_pairs(self, self.node, frozenset())
        return {self.key_text(key_node): (key_node, value) for key_node, value in pairs}

    def _expect(self, kind: type[yaml.Node], what: str) -> None:
        if not isinstance(self.node, kind):
            raise self.error(f"expected {what}, got {_describe(self.node)}")

    def _scalar(self, what: str) -> yaml.ScalarNode:
        node = self.node
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            raise self.error(f"expected {what}, got {_describe(node)}")
        if node.tag not in _SCALAR_TAGS:
            raise self.error(f"unsupported YAML tag {node.tag}")
        return node

    def key_text(self, key_node: yaml.Node) -> str:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _NULL:
            raise _Value(key_node, self.path, self.ctx).error(
                f"a key must be text, got {_describe(key_node)}"
            )
        return key_node.value

    def _expand(self, raw: str) -> str:
        def replace(ref: re.Match[str]) -> str:
            if ref.group(0) == "$${":
                return "${"
            name = ref.group(1)
            if not _ENV_NAME.fullmatch(name):
                raise self.error("only ${NAME} is expanded (write $${ for a literal ${)")
            if name not in self.ctx.environ:
                raise self.error(f"environment variable {name} is not set")
            return self.ctx.environ[name]

        return _ENV_REF.sub(replace, raw)


class _Fields:
    """The keys of one mapping, already checked against the allowed names. Null means absent."""

    def __init__(self, owner: _Value, values: dict[str, _Value]) -> None:
        self._owner = owner
        self._values = values

    def raw(self, key: str) -> _Value | None:
        return self._values.get(key)

    def get(self, key: str) -> _Value | None:
        value = self._values.get(key)
        return None if value is None or value.is_null else value

    def require(self, key: str) -> _Value:
        value = self._values.get(key)
        if value is None:
            raise self._owner.child(self._owner.node, key).error("required key is missing")
        if value.is_null:
            raise value.error("must not be empty")
        return value

    def opt(self, key: str, parse: Callable[[_Value], Any], default: Any) -> Any:
        value = self.get(key)
        return default if value is None else parse(value)

    def one_of(self, first: str, second: str) -> tuple[str, _Value] | None:
        """At most one of two alternative keys (e.g. password / password_file)."""
        a, b = self.get(first), self.get(second)
        if a is not None and b is not None:
            raise b.error(f"use either {first} or {second}, not both")
        if a is not None:
            return first, a
        return (second, b) if b is not None else None


def _merged_pairs(
    where: _Value, node: yaml.MappingNode, active: frozenset[int]
) -> list[tuple[yaml.Node, yaml.Node]]:
    """Key/value pairs with YAML merge keys (<<: *anchor) applied; own keys win."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: list[tuple[yaml.Node, yaml.Node]] = []
    first_seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged.extend(_merge_sources(where, value_node, active | {id(node)}))
            continue
        key = where.key_text(key_node)
        if key in first_seen:
            at = where.child(key_node, key)
            raise at.error(f"duplicate key {key!r} (first at line {first_seen[key]})")
        first_seen[key] = key_node.start_mark.line + 1
        own.append((key_node, value_node))
    return merged + own


def _merge_sources(
    where: _Value, value: yaml.Node, active: frozenset[int]
) -> list[tuple[yaml.Node, yaml.Node]]:
    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for source in reversed(sources):  # the first mapping listed wins
        if not isinstance(source, yaml.MappingNode) or id(source) in active:
            raise _Value(value, where.path, where.ctx).error(
                "<< must name a mapping (or a list of mappings) that does not contain itself"
            )
        _charge_merge(where, value, source)
        pairs.extend(_merged_pairs(where, source, active))
    return pairs


def _charge_merge(where: _Value, value: yaml.Node, source: yaml.MappingNode) -> None:
    """Count the work of every merge, before doing it: nested merges of aliases multiply
    (a 300-byte file can ask for billions of keys)."""
    budget = where.ctx.merged
    budget.used += 1 + len(source.value)
    if budget.used > MAX_MERGED_KEYS:
        raise _Value(value, where.path, where.ctx).error(
            f"YAML merge keys (<<) bring in more than {MAX_MERGED_KEYS} keys: a config never "
            "needs this many")


def _describe(node: yaml.Node) -> str:
    """What a node is, never what it says (it may be a secret)."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    names = {_NULL: "nothing", _BOOL: "true/false", _INT: "a number", _FLOAT: "a number",
             _STR: "text"}
    return names.get(node.tag, f"a {node.tag} value")


def _unknown_key(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark, reason: str) -> None:
        super().__init__(reason)
        self.mark = mark
        self.reason = reason


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader's composer, refusing more than MAX_ALIASES aliases and nesting deeper than
    MAX_DEPTH (which would otherwise end in a RecursionError)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(event.start_mark, f"too many YAML aliases (more than "
                               f"{MAX_ALIASES}): a config never needs this many")
        if self.depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep: a "
                           "config never needs this")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str, ctx: _Context) -> _Value:
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except _Refused as err:
        raise ConfigError(ctx.source, err.mark.line + 1, "", err.reason) from None
    except yaml.MarkedYAMLError as err:
        # problem/context only: str(err) quotes the source line, which may hold a secret.
        mark = err.problem_mark or err.context_mark
        reason = ", ".join(part for part in (err.context, err.problem) if part)
        raise ConfigError(ctx.source, mark.line + 1 if mark else None, "",
                          f"invalid YAML: {reason}") from None
    except yaml.YAMLError as err:
        raise ConfigError(ctx.source, None, "", f"invalid YAML: {err}") from None
    if node is None:  # an empty file
        node = yaml.MappingNode(_TAG + "map", [])
    return _Value(node, "", ctx)


def _base_dir(source: str | None) -> Path:
    return Path(source).absolute().parent if source else Path.cwd()


def _config_home(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg)
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".config"


def _must_exist(name: str, origin: str) -> Path:
    path = Path(name).expanduser()
    if not path.exists():
        raise ConfigError(name, None, "", f"no such file ({origin})")
    return path


# --------------------------------------------------------------------------- #
# Section parsers
# --------------------------------------------------------------------------- #

_URL_SCHEMES = ("http", "https")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONNECTION_KEYS = ("name", "url", "headers", "basic_auth", "bearer_token", "bearer_token_file",
                    "tls", "proxy", "timeout", "read_only")
_LEVEL_KEYS = ("level", "match", "ack_within", "resolve_within", "update_every", "max_silence",
               "silence_approval")


def _parse_journal(value: _Value) -> Path:
    """A file path: ~ and ${VAR} expanded, relative to the config file's directory. The file
    and its directory are created on the first record."""
    path = value.file_path()
    if path.is_dir():
        raise value.error(f"{path} is a directory: name a file, e.g. {path / 'journal.jsonl'}")
    kind = special_file_kind(path)
    if kind:
        raise value.error(f"{path} is {kind}, not a regular file: name a file, e.g. "
                          f"{path.parent / 'journal.jsonl'}")
    return path


def _parse_refresh(value: _Value) -> timedelta:
    refresh = value.duration(MAX_REFRESH)
    if refresh < MIN_REFRESH:
        raise value.error(f"must be at least {_duration_text(MIN_REFRESH)}")
    return refresh


def _positive_duration(value: _Value, maximum: timedelta = MAX_DURATION) -> timedelta:
    duration = value.duration(maximum)
    if duration <= timedelta(0):
        raise value.error("must be longer than 0s")
    return duration


def _timeout(value: _Value) -> timedelta:
    return _positive_duration(value, MAX_TIMEOUT)


def _rotation_length(value: _Value) -> timedelta:
    length = _positive_duration(value)
    if length < MIN_ROTATION:
        raise value.error(f"must be at least {limit_text(MIN_ROTATION)} (a turn of the rotation)")
    return length


def _parse_alertmanagers(value: _Value) -> tuple[Upstream, ...]:
    return _parse_upstreams(value, _CONNECTION_KEYS + ("cluster",))


def _parse_prometheus(value: _Value) -> tuple[Upstream, ...]:
    return _parse_upstreams(value, _CONNECTION_KEYS)


def _parse_upstreams(value: _Value, keys: tuple[str, ...]) -> tuple[Upstream, ...]:
    upstreams: dict[str, Upstream] = {}
    for item in value.items():
        upstream = _parse_upstream(item, keys)
        if upstream.name in upstreams:
            raise item.error(f"duplicate name {upstream.name!r}")
        upstreams[upstream.name] = upstream
    return tuple(upstreams.values())


def _parse_upstream(value: _Value, keys: tuple[str, ...]) -> Upstream:
    f = value.fields(keys + ("max_bytes",))
    name = f.require("name").nonempty_text()
    basic_auth = f.opt("basic_auth", _parse_basic_auth, None)
    bearer = f.one_of("bearer_token", "bearer_token_file")
    if bearer and basic_auth:
        raise bearer[1].error("use either basic_auth or a bearer token, not both")
    return Upstream(
        name=name,
        url=_parse_url(f.require("url")),
        cluster=f.opt("cluster", _Value.nonempty_text, name),
        headers=f.opt("headers", _parse_headers, _empty_mapping()),
        basic_auth=basic_auth,
        bearer_token=_no_line_breaks(bearer[1], _secret(*bearer)) if bearer else None,
        tls=f.opt("tls", _parse_tls, TLSConfig()),
        proxy=f.opt("proxy", _parse_proxy, None),
        timeout=f.opt("timeout", _positive_duration, DEFAULT_TIMEOUT),
        read_only=f.opt("read_only", _Value.flag, False),
        max_bytes=f.opt("max_bytes", _parse_size, None),
    )


def _parse_size(value: _Value) -> int:
    """A size: ``256MiB``, ``512KiB``, ``16MB`` or plain bytes."""
    try:
        return parse_size(value.text())
    except ValueError as err:
        raise value.error(str(err)) from None


def _secret(key: str, value: _Value) -> str:
    """An inline secret (``password``) or one read from a file (``password_file``)."""
    if key.endswith("_file"):
        return value.secret_file()
    secret = value.raw_text()
    if not secret:
        raise value.error("must not be empty")
    return secret


def _no_line_breaks(value: _Value, text: str) -> str:
    """Header values must stay one header (the text itself is never echoed)."""
    if any(c in text for c in "\r\n\0"):
        raise value.error("must not contain line breaks or NUL")
    return text


def _parse_basic_auth(value: _Value) -> BasicAuth:
    f = value.fields(("username", "password", "password_file"))
    username = _secret("username", f.require("username"))
    password = f.one_of("password", "password_file")
    if password is None:
        raise value.error("needs password or password_file")
    return BasicAuth(username, _secret(*password))


def _parse_headers(value: _Value) -> Mapping[str, str]:
    headers = {}
    for name, item in value.entries(raw=True):
        if not _HEADER_NAME.fullmatch(name):
            raise item.error("not a valid HTTP header name")
        headers[name] = _no_line_breaks(item, item.raw_text())
    return MappingProxyType(headers)


def _parse_tls(value: _Value) -> TLSConfig:
    f = value.fields(("ca_file", "cert_file", "key_file", "insecure_skip_verify"))
    tls = TLSConfig(
        ca_file=f.opt("ca_file", _existing_file, None),
        cert_file=f.opt("cert_file", _existing_file, None),
        key_file=f.opt("key_file", _existing_file, None),
        insecure_skip_verify=f.opt("insecure_skip_verify", _Value.flag, False),
    )
    if tls.key_file and not tls.cert_file:
        raise f.require("key_file").error("key_file needs cert_file")
    return tls


def _existing_file(value: _Value) -> str:
    path = value.file_path()
    if not path.is_file():
        raise value.error(f"no such file: {path}")
    return str(path)


def _parse_url(value: _Value) -> str:
    return _checked_url(value, _URL_SCHEMES, credentials=False).rstrip("/")


def _parse_proxy(value: _Value) -> str:
    url = _checked_url(value, _PROXY_SCHEMES, credentials=True)
    if url.lower().startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise value.error("socks5 proxies need the socksio package: "
                          "pip install 'httpx[socks]'")
    return url


def _checked_url(value: _Value, schemes: tuple[str, ...], *, credentials: bool,
                 query: bool = False) -> str:
    """Validate a URL without ever echoing it (it may carry credentials)."""
    url = value.literal_text("a URL").strip()
    parts = urlsplit(url)
    if any(c.isspace() for c in url):
        raise value.error("a URL must not contain spaces")
    if parts.scheme.lower() not in schemes or not parts.hostname:
        starts = " or ".join(f"{s}://" for s in schemes)
        raise value.error(f"expected a URL starting with {starts} and a host, "
                          "e.g. http://127.0.0.1:9093")
    try:
        parts.port
    except ValueError:
        raise value.error("the URL has an invalid port") from None
    if "@" in parts.netloc and not credentials:
        raise value.error("credentials in the URL are not allowed; use basic_auth instead")
    if (parts.query or parts.fragment) and not query:
        raise value.error("the URL must not have a ?query or #fragment")
    return url


def _parse_severities(value: _Value) -> SeverityPolicy:
    levels: dict[str, SeverityLevel] = {}
    for item in value.items():
        level = _parse_level(item)
        if level.level in levels:
            raise item.error(f"duplicate level {level.level!r}")
        levels[level.level] = level
    if not levels:
        raise value.error("needs at least one level (remove the key to use the defaults)")
    return SeverityPolicy(tuple(levels.values()))


def _parse_level(value: _Value) -> SeverityLevel:
    f = value.fields(_LEVEL_KEYS)
    return SeverityLevel(
        level=f.require("level").nonempty_text().strip(),
        match=f.opt("match", _parse_match, ()),
        ack_within=f.opt("ack_within", _positive_duration, None),
        resolve_within=f.opt("resolve_within", _positive_duration, None),
        update_every=f.opt("update_every", _positive_duration, None),
        max_silence=f.opt("max_silence", _positive_duration, None),
        silence_approval=f.opt("silence_approval", _Value.flag, False),
    )


def _parse_match(value: _Value) -> tuple[Matcher, ...]:
    matchers: list[Matcher] = []
    for item in value.items():
        try:
            matchers.extend(parse_matchers(item.text()))
        except MatcherError as err:
            raise item.error(str(err)) from None
    return tuple(matchers)


def _parse_ack(value: _Value) -> AckSettings:
    f = value.fields(("duration", "max_duration", "extend"))
    defaults = AckSettings()
    settings = AckSettings(
        duration=f.opt("duration", _positive_duration, defaults.duration),
        max_duration=f.opt("max_duration", _positive_duration, defaults.max_duration),
        extend=f.opt("extend", _Value.flag, defaults.extend),
    )
    if settings.max_duration < settings.duration:
        at = f.get("max_duration") or f.require("duration")
        raise at.error(f"max_duration ({_duration_text(settings.max_duration)}) is shorter than "
                       f"duration ({_duration_text(settings.duration)})")
    return settings


def _parse_silences(value: _Value) -> SilenceSettings:
    f = value.fields(("protected", "warn_before"))
    defaults = SilenceSettings()
    return SilenceSettings(
        protected=f.opt("protected", _parse_protected, defaults.protected),
        warn_before=f.opt("warn_before", _Value.duration, defaults.warn_before),
    )


def _parse_protected(value: _Value) -> tuple[Matcher, ...]:
    for item in value.items():
        try:
            special = [m for m in parse_matchers(item.text()) if m.name.startswith("@")]
        except MatcherError:
            continue  # _parse_match reports it, with its line
        if special:
            raise item.error(f"{special[0].name} is a shiftdeck filter, not a label: "
                             "protect alerts by their labels")
    return _parse_match(value)


def _parse_key_labels(value: _Value) -> tuple[str, ...]:
    labels = []
    for item in value.items():
        label = item.nonempty_text().strip()
        if not _LABEL_NAME.fullmatch(label):
            raise item.error(f"not a label name: {label!r}")
        labels.append(label)
    return tuple(labels)


def _parse_keymap(value: _Value) -> Mapping[str, str]:
    return MappingProxyType({name: item.nonempty_text() for name, item in value.entries()})


# --------------------------------------------------------------------------- #
# Investigating: runbooks, commands, kubernetes
# --------------------------------------------------------------------------- #


def _parse_runbooks(value: _Value) -> RunbookSettings:
    """dirs (relative to this file, must exist), base_url (http(s)), map (alertname → a file
    or URL; a relative file must exist in one of dirs unless base_url is set)."""
    f = value.fields(("dirs", "base_url", "map", "trusted_origins"))
    dirs_value = f.get("dirs")
    dirs = tuple(_existing_dir(item) for item in dirs_value.items()) if dirs_value else ()
    base_url = f.opt("base_url", _parse_base_url, "")
    mapping = {}
    map_value = f.get("map")
    for name, item in (map_value.entries() if map_value is not None else []):
        mapping[name] = _parse_runbook_reference(item, dirs, base_url)
    origins_value = f.get("trusted_origins")
    origins = tuple(_parse_origin(item) for item in origins_value.items()) if origins_value else ()
    return RunbookSettings(dirs=dirs, base_url=base_url, map=MappingProxyType(mapping),
                           trusted_origins=origins)


def _parse_origin(value: _Value) -> str:
    """`https://wiki.example.com` (scheme, host, optional port; nothing else)."""
    url = _checked_url(value, _URL_SCHEMES, credentials=False)
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise value.error("an origin is scheme://host[:port], without a path: runbooks under "
                          "a path belong in runbooks.base_url")
    return origin_of(url)


def _existing_dir(value: _Value) -> Path:
    path = value.file_path()
    if not path.is_dir():
        raise value.error(f"no such directory: {path}" if not path.exists()
                          else f"{path} is not a directory")
    return path


def _parse_base_url(value: _Value) -> str:
    if not value.text().strip():
        return ""
    return _checked_url(value, _URL_SCHEMES, credentials=False)


def _parse_runbook_reference(value: _Value, dirs: tuple[Path, ...], base_url: str) -> str:
    reference = value.nonempty_text().strip()
    scheme = urlsplit(reference).scheme.lower()
    if len(scheme) > 1:
        if scheme not in _URL_SCHEMES:
            raise value.error(f"expected an http(s) URL or a file path, not a {scheme}: URL")
        _checked_url(value, _URL_SCHEMES, credentials=False, query=True)
        return reference
    path = Path(reference).expanduser()
    if path.is_absolute():
        if not path.is_file():
            raise value.error(f"no such file: {path}")
        return str(path)
    if ".." in Path(reference).parts:
        raise value.error("a relative path must not use '..' (give an absolute path)")
    if base_url:
        return reference
    if not dirs:
        raise value.error("a relative path is looked up in runbooks.dirs or under "
                          "runbooks.base_url: set one, or give an absolute path")
    if not any((directory / reference).is_file() for directory in dirs):
        listed = ", ".join(str(d) for d in dirs)
        raise value.error(f"{reference!r} is in none of runbooks.dirs ({listed})")
    return reference


def _masked_reference(reference: str) -> str:
    """A runbook URL's ?query may hold a token: masked, like a password in it."""
    if "://" not in reference:
        return reference
    parts = urlsplit(_masked_url(reference) or "")
    return parts._replace(query=MASK if parts.query else "").geturl()


def _parse_commands(value: _Value) -> CommandSettings:
    """timeout; read_only and dangerous: patterns added to the built-in ones (``defaults:
    false`` starts from none)."""
    f = value.fields(("timeout", "read_only", "dangerous", "defaults"))
    defaults = f.opt("defaults", _Value.flag, True)
    read_only = f.opt("read_only", _parse_read_only_patterns, ())
    dangerous = f.opt("dangerous", _parse_patterns, ())
    patterns = CommandPatterns(
        read_only=(DEFAULT_READ_ONLY if defaults else ()) + read_only,
        dangerous=(DEFAULT_DANGEROUS if defaults else ()) + dangerous,
    )
    return CommandSettings(
        timeout=f.opt("timeout", _timeout, CommandSettings().timeout),
        patterns=patterns,
    )


def _parse_read_only_patterns(value: _Value) -> tuple[str, ...]:
    return _parse_patterns(value, read_only=True)


def _parse_patterns(value: _Value, *, read_only: bool = False) -> tuple[str, ...]:
    patterns = []
    for item in value.items():
        text = item.nonempty_text().strip()
        try:
            patterns.append(parse_pattern(text, read_only=read_only).text)
        except ValueError as err:
            raise item.error(f"bad command pattern: {err}") from None
    return tuple(patterns)


def _parse_kubernetes(value: _Value) -> KubernetesSettings:
    f = value.fields(("kubeconfig", "contexts", "selectors", "timeout"))
    defaults = KubernetesSettings()
    contexts = {}
    contexts_value = f.get("contexts")
    for cluster, item in (contexts_value.entries() if contexts_value is not None else []):
        contexts[cluster] = item.nonempty_text().strip()
    selectors = defaults.selectors
    selectors_value = f.get("selectors")
    if selectors_value is not None:
        parsed = {}
        for label, item in selectors_value.entries():
            if not _LABEL_NAME.fullmatch(label):
                raise item.error(f"not an alert label name: {label!r}")
            key = item.nonempty_text().strip()
            if not is_label_key(key):
                raise item.error(f"not a Kubernetes label key: {key!r} (e.g. "
                                 "app.kubernetes.io/name)")
            parsed[label] = key
        selectors = MappingProxyType(parsed)
    return KubernetesSettings(
        kubeconfig=f.opt("kubeconfig", _existing_file, ""),
        contexts=MappingProxyType(contexts),
        selectors=selectors,
        timeout=f.opt("timeout", _timeout, defaults.timeout),
    )


# --------------------------------------------------------------------------- #
# On call: timezone, people, rotations, overrides, schedules_ics, escalation, notify
# --------------------------------------------------------------------------- #

_ONCALL_KEYS = ("people", "rotations", "overrides", "schedules_ics", "escalation", "notify")
_ICS_SCHEMES = ("http", "https", "webcal", "webcals")
_LEVEL_KEY = re.compile(r"L[1-9][0-9]?")
_TIME_EXAMPLE = "use e.g. 2026-01-05T09:00, or with an offset: 2026-01-05T09:00+01:00"


def _parse_zone(value: _Value) -> ZoneInfo:
    name = value.nonempty_text().strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from zoneinfo import available_timezones

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = (f", did you mean {close[0]!r}?" if close
                else " (use an IANA name such as Europe/Berlin or UTC)")
        raise value.error(f"unknown time zone {name!r}{hint}") from None


def _parse_time(value: _Value) -> datetime:
    """An ISO 8601 time as written: naive (wall-clock) or aware (with an offset or Z)."""
    text = value.nonempty_text().strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise value.error(f"not a time: {text!r} ({_TIME_EXAMPLE})") from None
    try:
        return check_year(at)
    except ValueError as err:
        raise value.error(str(err)) from None


def _parse_instant(value: _Value, zone: ZoneInfo) -> datetime:
    """A time as an aware instant; without an offset it is wall-clock time in `zone`."""
    return localize(_parse_time(value), zone)


def _parse_wall_time(value: _Value, zone: ZoneInfo) -> datetime:
    """A time as naive wall-clock time in `zone` (a time with an offset is converted)."""
    at = _parse_time(value)
    return at.astimezone(zone).replace(tzinfo=None) if at.tzinfo else at


def _parse_people(value: _Value) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for person_id, item in value.entries():
        person_id = person_id.strip()
        if not person_id:
            raise item.error("a person id must not be empty")
        if item.is_null:
            people[person_id] = Person(person_id, person_id)
            continue
        f = item.fields(("name", "handle", "phone", "email"))
        people[person_id] = Person(
            id=person_id,
            name=f.opt("name", _Value.nonempty_text, person_id).strip(),
            handle=f.opt("handle", _Value.text, "").strip(),
            phone=f.opt("phone", _Value.text, "").strip(),
            email=f.opt("email", _Value.text, "").strip(),
        )
    return people


def _person_id(value: _Value, people: Mapping[str, Person]) -> str:
    person_id = value.nonempty_text().strip()
    if person_id not in people:
        raise value.error(_unknown("person", person_id, people, "define them under people"))
    return person_id


def _unknown(what: str, name: str, known: Collection[str], advice: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) if known else "none"
    return f"unknown {what} {name!r}{hint} (known: {listed}; {advice})"


def _parse_rotations(value: _Value, people: Mapping[str, Person],
                     zone: ZoneInfo) -> tuple[Rotation, ...]:
    rotations: dict[str, tuple[Rotation, int]] = {}
    for item in value.items():
        f = item.fields(("role", "members", "start", "length", "timezone"))
        role = f.require("role").nonempty_text().strip()
        if role in rotations:
            raise item.error(f"role {role!r} already has a rotation (line {rotations[role][1]}); "
                             "use overrides or an ICS feed for exceptions")
        members_value = f.require("members")
        members = tuple(_person_id(m, people) for m in members_value.items())
        if not members:
            raise members_value.error("an empty rotation: list at least one person")
        rotation_zone = f.opt("timezone", _parse_zone, zone)
        rotation = Rotation(
            role=role,
            members=members,
            start=_parse_wall_time(f.require("start"), rotation_zone),
            length=_rotation_length(f.require("length")),
            timezone=rotation_zone,
        )
        rotations[role] = (rotation, item.node.start_mark.line + 1)
    return tuple(rotation for rotation, _ in rotations.values())


def _parse_overrides(value: _Value, people: Mapping[str, Person],
                     zone: ZoneInfo) -> tuple[Shift, ...]:
    parsed: list[tuple[Shift, _Value]] = []
    for item in value.items():
        f = item.fields(("role", "person", "from", "until"))
        start = _parse_instant(f.require("from"), zone)
        end = _parse_instant(f.require("until"), zone)
        if end <= start:
            raise f.require("until").error("must be after from")
        shift = Shift(role=f.require("role").nonempty_text().strip(),
                      person=_person_id(f.require("person"), people),
                      start=start, end=end, source="override")
        parsed.append((shift, item))
    by_start = sorted(enumerate(parsed), key=lambda pair: pair[1][0].start)
    last: dict[str, tuple[int, Shift, _Value]] = {}
    for index, (shift, item) in by_start:
        seen = last.get(shift.role)
        if seen is not None and shift.start < seen[1].end:
            other_index, other, other_item = seen
            later, earlier = (item, other_item) if index > other_index else (other_item, item)
            earlier_index = min(index, other_index)
            raise later.error(
                f"overlaps overrides[{earlier_index}] (line {earlier.node.start_mark.line + 1}) "
                f"for role {shift.role!r}: one person per role at a time")
        if seen is None or shift.end > seen[1].end:
            last[shift.role] = (index, shift, item)
    return tuple(shift for shift, _ in parsed)


def _parse_feeds(value: _Value) -> tuple[IcsFeed, ...]:
    feeds = []
    for item in value.items():
        f = item.fields(("name", "role", "url", "file", "headers", "refresh", "timeout",
                         "levels", "max_bytes"))
        source = f.one_of("url", "file")
        if source is None:
            raise item.error("needs url or file")
        kind, where = source
        refresh = f.opt("refresh", _positive_duration, timedelta(hours=1))
        if refresh < MIN_ICS_REFRESH:
            raise f.require("refresh").error(f"must be at least {_duration_text(MIN_ICS_REFRESH)}")
        feeds.append(IcsFeed(
            role=f.require("role").nonempty_text().strip(),
            url=_parse_feed_url(where) if kind == "url" else "",
            file=_existing_file(where) if kind == "file" else "",
            headers=f.opt("headers", _parse_headers, _empty_mapping()),
            refresh=refresh,
            timeout=f.opt("timeout", _positive_duration, DEFAULT_TIMEOUT),
            levels=f.opt("levels", _parse_levels, _empty_mapping()),
            name=f.opt("name", _Value.nonempty_text, "").strip(),
            max_bytes=f.opt("max_bytes", _parse_size, ICS_MAX_BYTES),
        ))
    return tuple(feeds)


def _parse_feed_url(value: _Value) -> str:
    """http(s):// or webcal(s)://, with a host; a ?query is allowed (feeds carry tokens there).
    Never echoed: the URL is usually a secret."""
    url = value.nonempty_text().strip()
    parts = urlsplit(url)
    if any(c.isspace() for c in url):
        raise value.error("a URL must not contain spaces")
    if parts.scheme.lower() not in _ICS_SCHEMES or not parts.hostname:
        raise value.error("expected a URL starting with https://, http:// or webcal:// and a "
                          "host")
    try:
        parts.port
    except ValueError:
        raise value.error("the URL has an invalid port") from None
    if "@" in parts.netloc:
        raise value.error("credentials in the URL are not allowed; use headers instead")
    return url


def _parse_levels(value: _Value) -> Mapping[str, str]:
    levels = {}
    for key, item in value.entries():
        if not _LEVEL_KEY.fullmatch(key):
            raise item.error(f"not a level: {key!r} (use L1, L2, ...)")
        levels[key] = item.nonempty_text().strip()
    return MappingProxyType(levels)


def _parse_escalation(value: _Value, roles: Collection[str], people: Mapping[str, Person],
                      severity: SeverityPolicy) -> EscalationPolicy:
    ladders: dict[str, tuple[Step, ...]] = {}
    levels = (*severity.names(), "default")
    for level, (key_node, node) in value._pairs().items():
        item = value.child(node, level)
        if level not in levels:
            raise value.child(key_node, level).error(
                _unknown("level", level, levels, "levels come from severities"))
        steps: list[Step] = []
        if item.is_null:
            ladders[level] = ()
            continue
        for step_value in item.items():
            f = step_value.fields(("after", "notify"))
            after = f.require("after").duration()
            if steps and after < steps[-1].after:
                raise f.require("after").error(
                    f"steps must be in order of after (the step before is at "
                    f"{_duration_text(steps[-1].after)})")
            notify = f.require("notify")
            target = notify.nonempty_text().strip()
            if target in roles and target in people:
                raise notify.error(f"{target!r} is both a role and a person id: rename one")
            if target not in roles and target not in people:
                raise notify.error(_unknown("role or person", target, [*roles, *people],
                                            "notify names a role or a person id"))
            steps.append(Step(after, target))
        ladders[level] = tuple(steps)
    return EscalationPolicy(ladders)


def _parse_notify(value: _Value, severity: SeverityPolicy) -> NotifySettings:
    f = value.fields(("min_interval", "bell", "desktop", "levels"))
    defaults = NotifySettings()
    levels = defaults.levels
    levels_value = f.get("levels")
    if levels_value is not None:
        names = []
        for item in levels_value.items():
            name = item.nonempty_text().strip()
            if name not in severity.names():
                raise item.error(_unknown("level", name, severity.names(),
                                          "levels come from severities"))
            names.append(name)
        levels = tuple(names)
    return NotifySettings(
        min_interval=f.opt("min_interval", _Value.duration, defaults.min_interval),
        bell=f.opt("bell", _Value.flag, defaults.bell),
        desktop=f.opt("desktop", _Value.flag, defaults.desktop),
        levels=levels,
    )


def _parse_oncall(fields: _Fields, zone: ZoneInfo, severity: SeverityPolicy) -> dict[str, Any]:
    """people → rotations, overrides (they name people), feeds → escalation (names roles and
    people) and notify (names levels)."""
    people = fields.opt("people", _parse_people, {})
    rotations = fields.opt("rotations", lambda v: _parse_rotations(v, people, zone), ())
    overrides = fields.opt("overrides", lambda v: _parse_overrides(v, people, zone), ())
    feeds = fields.opt("schedules_ics", _parse_feeds, ())
    declared = tuple(dict.fromkeys(role for feed in feeds for role in feed.roles()))
    roster = Roster(people, rotations, overrides, timezone=zone, declared_roles=declared)
    values: dict[str, Any] = {"roster": roster, "schedules_ics": feeds}
    escalation = fields.get("escalation")
    if escalation is not None:
        values["escalation"] = _parse_escalation(escalation, roster.roles(), people, severity)
    notify = fields.get("notify")
    if notify is not None:
        values["notify"] = _parse_notify(notify, severity)
    return values


def _oncall_data(config: Config) -> dict[str, Any]:
    """The on-call sections as plain data for Config.masked(): feed URLs and headers masked."""
    roster = config.roster
    return {
        "timezone": config.timezone.key,
        "people": {p.id: {"name": p.name, "handle": p.handle, "phone": p.phone,
                          "email": p.email} for p in roster.people.values()},
        "rotations": [{"role": r.role, "members": list(r.members),
                       "start": r.start.isoformat(timespec="minutes"),
                       "length": _duration_text(r.length), "timezone": r.timezone.key}
                      for r in roster.rotations],
        "overrides": [{"role": o.role, "person": o.person, "from": o.start.isoformat(),
                       "until": o.end.isoformat()} for o in roster.overrides],
        "schedules_ics": [{
            "name": feed.name, "role": feed.role,
            "url": _masked_feed_url(feed.url) if feed.url else None,
            "file": feed.file or None,
            "headers": {name: MASK for name in feed.headers},
            "refresh": _duration_text(feed.refresh), "timeout": _duration_text(feed.timeout),
            "levels": dict(feed.levels), "max_bytes": format_size(feed.max_bytes),
        } for feed in config.schedules_ics],
        "escalation": {level: [{"after": _duration_text(step.after), "notify": step.notify}
                               for step in steps]
                       for level, steps in config.escalation.ladders.items()},
        "notify": {"min_interval": _duration_text(config.notify.min_interval),
                   "bell": config.notify.bell, "desktop": config.notify.desktop,
                   "levels": list(config.notify.levels)},
    }


def _masked_feed_url(url: str) -> str:
    """scheme://host/*** : feed paths usually carry a secret token."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/{MASK}"


class _Section(NamedTuple):
    field: str
    """The Config field it fills."""
    parse: Callable[[_Value], Any]
    """Node → value; raises ConfigError via value.error()."""
    default: Callable[[_Context], Any] | None = None
    """A default that depends on the environment; otherwise the Config field's default."""


_SECTIONS: dict[str, _Section] = {
    "user": _Section("user", _Value.nonempty_text, lambda ctx: _default_user(ctx.environ)),
    "title": _Section("title", _Value.text),
    "refresh": _Section("refresh", _parse_refresh),
    "alertmanagers": _Section("alertmanagers", _parse_alertmanagers),
    "prometheus": _Section("prometheus", _parse_prometheus),
    "severities": _Section("severity", _parse_severities),
    "key_labels": _Section("key_labels", _parse_key_labels),
    "theme": _Section("theme", _Value.nonempty_text),
    "keymap": _Section("keymap", _parse_keymap),
    "resolved_retention": _Section("resolved_retention", _Value.duration),
    "read_only": _Section("read_only", _Value.flag),
    "ack": _Section("ack", _parse_ack),
    "silences": _Section("silences", _parse_silences),
    "timezone": _Section("timezone", _parse_zone),
    "journal": _Section("journal", _parse_journal, lambda ctx: default_journal_path(ctx.environ)),
    "runbooks": _Section("runbooks", _parse_runbooks),
    "commands": _Section("commands", _parse_commands),
    "kubernetes": _Section("kubernetes", _parse_kubernetes),
}


def _check_config(config: Config, fields: _Fields) -> None:
    """Rules that span sections."""
    if not config.alertmanagers and not config.prometheus:
        at = fields.raw("alertmanagers") or fields.raw("prometheus")
        line = at.node.start_mark.line + 1 if at else None
        raise ConfigError(config.source, line, "alertmanagers",
                          "configure at least one alertmanager or prometheus")


# --------------------------------------------------------------------------- #
# Masked output
# --------------------------------------------------------------------------- #

_AUTH_HEADER = re.compile(r"auth|token|secret|passw|cookie|session|key|credential|signature",
                          re.IGNORECASE)


def _masked_upstream(upstream: Upstream, *, with_cluster: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"name": upstream.name, "url": upstream.url}
    if with_cluster:
        data["cluster"] = upstream.cluster
    data["headers"] = {name: MASK if _AUTH_HEADER.search(name) else value
                       for name, value in upstream.headers.items()}
    auth = upstream.basic_auth
    data["basic_auth"] = None if auth is None else {"username": auth.username, "password": MASK}
    data["bearer_token"] = None if upstream.bearer_token is None else MASK
    data["tls"] = dataclasses.asdict(upstream.tls)
    data["proxy"] = _masked_url(upstream.proxy)
    data["timeout"] = _duration_text(upstream.timeout)
    data["read_only"] = upstream.read_only
    data["max_bytes"] = format_size(upstream.max_bytes) if upstream.max_bytes else None
    return data


def _masked_url(url: str | None) -> str | None:
    return None if url is None else mask_url(url)


def _level_data(level: SeverityLevel) -> dict[str, Any]:
    def text(delta: timedelta | None) -> str | None:
        return None if delta is None else _duration_text(delta)

    return {
        "level": level.level,
        "match": [str(matcher) for matcher in level.match],
        "ack_within": text(level.ack_within),
        "resolve_within": text(level.resolve_within),
        "update_every": text(level.update_every),
        "max_silence": text(level.max_silence),
        "silence_approval": level.silence_approval,
    }


def _duration_text(delta: timedelta) -> str:
    """Exact, in the config's own syntax: 1h30m, 15m, 500ms (format_duration rounds)."""
    millis = round(delta.total_seconds() * 1000)
    parts = []
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000),
                       ("s", 1000), ("ms", 1)):
        if millis >= size:
            parts.append(f"{millis // size}{unit}")
            millis %= size
    return "".join(parts) or "0s"

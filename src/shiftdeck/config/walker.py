"""Walking one YAML file: composed with bounds (aliases, merges, depth), never constructed.

PyYAML's safe loader composes the text into nodes that keep their line marks; :class:`Value`
wraps a node with its dotted path (``alertmanagers[0].tls``) so that every parser can say
``file:line: key: reason``. Nothing here knows a setting: the sections do.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from ..domain.durations import MAX_DURATION, parse_duration
from ..domain.sanitize import clean_line, has_unsafe
from .errors import ConfigError

MAX_ALIASES = 100
MAX_MERGED_KEYS = 10_000
MAX_DEPTH = 64
"""YAML aliases, keys brought in by merge keys (<<) and nesting: a config never needs more,
and a few hundred bytes of aliases can otherwise expand to billions of keys."""

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _STR, _INT, _FLOAT = (_TAG + t for t in ("null", "bool", "str", "int", "float"))
_MERGE = _TAG + "merge"
_SCALAR_TAGS = {_NULL, _BOOL, _STR, _INT, _FLOAT, _TAG + "timestamp"}
_ENV_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Context:
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
class Value:
    """A YAML node, its dotted path (``alertmanagers[0].tls``) and the load context."""

    node: yaml.Node
    path: str
    ctx: Context

    def error(self, reason: str) -> ConfigError:
        mark = self.node.start_mark
        return ConfigError(self.ctx.source, mark.line + 1 if mark else None, self.path, reason)

    def child(self, node: yaml.Node, key: str) -> Value:
        return Value(node, f"{self.path}.{key}" if self.path else key, self.ctx)

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == _NULL

    # -- containers --------------------------------------------------------- #

    def fields(self, allowed: Collection[str]) -> Fields:
        """A mapping whose keys must all be in ``allowed``."""
        values = {}
        for key, (key_node, value_node) in self.pairs().items():
            if key not in allowed:
                raise self.child(key_node, key).error(_unknown_key(key, allowed))
            values[key] = self.child(value_node, key)
        return Fields(self, values)

    def entries(self, raw: bool = False) -> list[tuple[str, Value]]:
        """A mapping with free-form keys (headers, keymap, people). Keys are made safe to draw,
        like text(), unless `raw` (header names, checked as they are)."""
        pairs = self.pairs().items()
        if raw:
            return [(key, self.child(node, key)) for key, (_, node) in pairs]
        return [(clean_line(key, len(key)), self.child(node, key)) for key, (_, node) in pairs]

    def items(self) -> list[Value]:
        self._expect(yaml.SequenceNode, "a list")
        return [Value(n, f"{self.path}[{i}]", self.ctx) for i, n in enumerate(self.node.value)]

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

    def pairs(self) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """key → (key node, value node), merge keys applied (later pairs win)."""
        node = self.node
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"expected a mapping, got {_describe(node)}")
        pairs = _merged_pairs(self, node, frozenset())
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
            raise Value(key_node, self.path, self.ctx).error(
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


class Fields:
    """The keys of one mapping, already checked against the allowed names. Null means absent."""

    def __init__(self, owner: Value, values: dict[str, Value]) -> None:
        self._owner = owner
        self._values = values

    def raw(self, key: str) -> Value | None:
        return self._values.get(key)

    def get(self, key: str) -> Value | None:
        value = self._values.get(key)
        return None if value is None or value.is_null else value

    def require(self, key: str) -> Value:
        value = self._values.get(key)
        if value is None:
            raise self._owner.child(self._owner.node, key).error("required key is missing")
        if value.is_null:
            raise value.error("must not be empty")
        return value

    def opt(self, key: str, parse: Callable[[Value], Any], default: Any) -> Any:
        value = self.get(key)
        return default if value is None else parse(value)

    def one_of(self, first: str, second: str) -> tuple[str, Value] | None:
        """At most one of two alternative keys (e.g. password / password_file)."""
        a, b = self.get(first), self.get(second)
        if a is not None and b is not None:
            raise b.error(f"use either {first} or {second}, not both")
        if a is not None:
            return first, a
        return (second, b) if b is not None else None


def _merged_pairs(
    where: Value, node: yaml.MappingNode, active: frozenset[int]
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
    where: Value, value: yaml.Node, active: frozenset[int]
) -> list[tuple[yaml.Node, yaml.Node]]:
    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for source in reversed(sources):  # the first mapping listed wins
        if not isinstance(source, yaml.MappingNode) or id(source) in active:
            raise Value(value, where.path, where.ctx).error(
                "<< must name a mapping (or a list of mappings) that does not contain itself"
            )
        _charge_merge(where, value, source)
        pairs.extend(_merged_pairs(where, source, active))
    return pairs


def _charge_merge(where: Value, value: yaml.Node, source: yaml.MappingNode) -> None:
    """Count the work of every merge, before doing it: nested merges of aliases multiply
    (a 300-byte file can ask for billions of keys)."""
    budget = where.ctx.merged
    budget.used += 1 + len(source.value)
    if budget.used > MAX_MERGED_KEYS:
        raise Value(value, where.path, where.ctx).error(
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
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader's composer, refusing more than MAX_ALIASES aliases and nesting deeper than
    MAX_DEPTH (which would otherwise end in a RecursionError)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(line, f"too many YAML aliases (more than "
                               f"{MAX_ALIASES}): a config never needs this many")
        if self.depth >= MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep: a "
                           "config never needs this")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(text: str, ctx: Context) -> Value:
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except _Refused as err:
        raise ConfigError(ctx.source, err.line, "", err.reason) from None
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
    return Value(node, "", ctx)

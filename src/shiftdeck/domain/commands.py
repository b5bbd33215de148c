"""Commands from runbooks: found in fenced shell blocks, split into argv, classified, never
handed to a shell.

`parse_command` templates *after* splitting: each `{{ ... }}` becomes a placeholder, the line is
scanned for shell syntax and split into pipeline stages and argv items (POSIX quoting, as
`shlex.split`), and only then does each placeholder receive its value, inside the one argv item
that holds it. A label value can therefore never become several arguments, an operator or a
program. On top of that:

- a label value may not be (part of) a program name;
- a label value that starts an argument must not start with `-` (it would be read as an option);
- every label value used in a kubectl (or oc) argument must be a valid Kubernetes name
  (RFC 1123: lower-case alphanumerics, `-` and `.`, at most 253 characters);
- `;`, `&&`, `||`, `&`, `|&`, redirections, here-documents, `$( )`, backticks, `$VAR`,
  `~`, brace expansion, subshells, `VAR=value` prefixes and shell builtins mean the line
  needs a shell: it is refused, and offered for the clipboard instead.

A command is read-only when every pipeline stage matches a `read_only` pattern and none matches
a `dangerous` one; everything else is dangerous (confirmed before it runs, refused in read-only
mode).

Pattern format (`commands.read_only`, `commands.dangerous`): words separated by spaces, matched
against one stage's argv. Each word is a shell-style glob (`*`, `?`, `[...]`) with `a|b`
alternatives.

- The first word is the program: its name as written (`kubectl`), or a path glob if the word
  contains `/`. A program given with a path (`./kubectl`) only matches a pattern with a path.
- Each following plain word must match the next positional argument, from the first: in
  `kubectl -n qawave rollout history deployment/backend` the positionals are `rollout`,
  `history`, `deployment/backend` (options are skipped, and so are the values of options known
  to take one, such as kubectl's `-n`, `--context`, redis-cli's `-h`, psql's `-c`).
- `+word`: some argument matches (anywhere after the program).
- `!word`: no argument matches.
- Words starting with `-` (after `+`/`!`) are matched case-sensitively, as options are; other
  words ignore case and compare with runs of whitespace collapsed to one space. A word cannot
  contain a space: use `?` or a class such as `[!a-z]` (`SELECT[!a-z]*` matches an SQL string
  that starts with `select` and a newline).

Examples: `kubectl rollout history|status`, `redis-cli PING|INFO`, `curl !-d* !--data*`,
`psql +*pg_terminate_backend*`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import translate

from .alerts import Alert
from .runbooks import TEMPLATE, fill_template, shell_blocks, template_value
from .sanitize import clean_line

KUBE_PROGRAMS = frozenset({"kubectl", "oc"})
"""Programs whose label-valued arguments must be Kubernetes names, and that receive the
alert's kube context."""

DEFAULT_TIMEOUT = timedelta(seconds=30)

DEFAULT_READ_ONLY: tuple[str, ...] = (
    "kubectl get|describe|logs|top|events|explain|api-resources|api-versions|version",
    "kubectl rollout history|status",
    "kubectl auth can-i|whoami",
    "kubectl cluster-info !dump",
    "curl !-d* !--data* !-F* !--form* !-T* !--upload-file* !--json* !-X* !--request* "
    "!-[!-]*[dFTX]* !-K* !--config*",
    "promtool query|check",
    "amtool alert|silence query",
    "amtool check-config|config",
    "pg_isready",
    "psql +-c*|--command* +SELECT[!a-z_]*|SHOW[!a-z_]*|EXPLAIN[!a-z_]*|\\d*|\\l* !-f* !--file*",
    "redis-cli PING|INFO|DBSIZE|TIME|LASTSAVE|ROLE",
    "redis-cli CLIENT|SLOWLOG|MEMORY|CONFIG|CLUSTER LIST|GET|INFO|NODES|STATS|DOCTOR|LEN",
    "helm list|ls|status|history|get|version",
    "docker ps|logs|inspect|stats|top|images|version|info",
    "docker compose ps|logs|top|images|config|version",
    "git log|show|status|diff|blame !--output*",
    "grep|egrep|fgrep|zgrep|head|tail|wc|cut|jq|column|cat|echo|printf",
    "sort !-o* !--output*",
    "ls|df|du|free|uptime|date|hostname|whoami|nproc|dig|nslookup|host|getent|ps",
    "systemctl status|is-active|is-failed|list-units|show",
)
"""Built-in read-only patterns: diagnostics the seed handbooks run, and plain text filters."""

DEFAULT_DANGEROUS: tuple[str, ...] = (
    "kubectl rollout undo|restart|pause|resume",
    "kubectl delete|scale|autoscale|exec|attach|cp|debug|set|edit|patch|apply|create|replace"
    "|run|expose|label|annotate|taint|drain|cordon|uncordon|port-forward|proxy",
    "kubectl get|describe *secret*",
    "redis-cli +FLUSHDB|FLUSHALL|DEL|UNLINK|SHUTDOWN|DEBUG|KEYS|FAILOVER|REPLICAOF|SLAVEOF"
    "|MIGRATE|RESTORE|SET|EXPIRE|RENAME|SWAPDB|KILL",
    "psql +*pg_terminate_backend*|*pg_cancel_backend*|*pg_reload_conf*|*setval*|*vacuum*"
    "|*reindex*|*drop[!a-z_]*|*delete[!a-z_]*|*update[!a-z_]*|*insert[!a-z_]*|*alter[!a-z_]*"
    "|*truncate[!a-z_]*|*create[!a-z_]*|*grant[!a-z_]*|*revoke[!a-z_]*|*cluster[!a-z_]*"
    "|*copy[!a-z_]*|*lock[!a-z_]*|*[!a-z_]into[!a-z_]*|*;*[a-z]*",
    "amtool silence add|expire|import",
    "amtool alert add",
    "helm rollback|uninstall|upgrade|install|delete",
    "docker restart|stop|rm|kill|exec",
    "docker compose restart|down|up|stop|rm|kill|exec",
    "systemctl restart|stop|start|reload|kill|disable|enable|mask",
)
"""Built-in dangerous patterns. Anything not read-only is dangerous anyway; these also beat
read-only patterns (yours included), e.g. `kubectl get secret`."""

# Options that always take the next argument as their value, per program (only where it is
# true for every subcommand: skipping a word that is not a value could hide a verb).
VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "kubectl": frozenset({
        "-n", "--namespace", "--context", "--cluster", "--user", "--kubeconfig", "-s",
        "--server", "--token", "--as", "--as-group", "--as-uid", "--request-timeout",
        "--cache-dir", "--certificate-authority", "--client-certificate", "--client-key",
        "--tls-server-name", "--username", "--password", "-v", "--v", "--profile",
        "--profile-output"}),
    "redis-cli": frozenset({"-h", "-p", "-s", "-a", "-u", "-n", "-r", "-i", "-d", "-D",
                            "--user", "--pass", "--cacert", "--cert", "--key", "--sni"}),
    "psql": frozenset({"-h", "-p", "-U", "-d", "-c", "-f", "-v", "-P", "-o", "-L", "-T", "-F",
                       "-R", "--host", "--port", "--username", "--dbname", "--command",
                       "--file", "--set", "--variable", "--pset", "--output", "--log-file"}),
    "docker": frozenset({"-H", "--host", "--context", "--config", "--log-level"}),
    "amtool": frozenset({"--alertmanager.url", "--config.file", "-o", "--output"}),
}
VALUE_OPTIONS["oc"] = VALUE_OPTIONS["kubectl"]

SHELL_WORDS = frozenset({
    "export", "cd", "source", ".", "alias", "unalias", "unset", "eval", "exec", "read", "let",
    "local", "declare", "typeset", "trap", "ulimit", "umask", "pushd", "popd", "exit",
    "return", "shopt", "set", "[[", "time", "!", "{", "}", "if", "then", "else", "elif", "fi",
    "for", "while", "until", "do", "done", "case", "esac", "function", "select", "coproc",
    "history", "fc", "jobs", "fg", "bg", "wait", "builtin", "command", "type", "hash",
})
"""argv[0] words that only a shell understands."""


# --------------------------------------------------------------------------- #
# Patterns
# --------------------------------------------------------------------------- #


class _Word:
    """One pattern word: glob alternatives, compiled."""

    __slots__ = ("_regexes",)

    def __init__(self, text: str) -> None:
        regexes = []
        for alternative in text.split("|"):
            if not alternative:
                raise ValueError(f"empty alternative in {text!r}")
            flags = 0 if alternative.startswith("-") else re.IGNORECASE
            regexes.append((re.compile(translate(alternative), flags),
                            not alternative.startswith("-")))
        self._regexes = tuple(regexes)

    def matches(self, item: str) -> bool:
        for regex, loose in self._regexes:
            if regex.match(" ".join(item.split()) if loose else item):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern (see the module docstring for the format)."""

    text: str
    program: tuple[str, ...]
    positionals: tuple[_Word, ...] = field(repr=False)
    anywhere: tuple[_Word, ...] = field(repr=False)
    nowhere: tuple[_Word, ...] = field(repr=False)

    def matches(self, argv: tuple[str, ...] | list[str]) -> bool:
        if not argv or not _program_matches(self.program, argv[0]):
            return False
        args = argv[1:]
        given = positionals(argv)
        if len(given) < len(self.positionals):
            return False
        if not all(word.matches(item) for word, item in zip(self.positionals, given)):
            return False
        if not all(any(word.matches(item) for item in args) for word in self.anywhere):
            return False
        return not any(word.matches(item) for word in self.nowhere for item in args)


def parse_pattern(text: str) -> Pattern:
    """Parse one pattern; ValueError says what is wrong."""
    words = text.split()
    if not words:
        raise ValueError("an empty pattern")
    program, *rest = words
    if program[0] in "+!-":
        raise ValueError(f"the first word names the program, not {program!r}")
    if any(not alternative for alternative in program.split("|")):
        raise ValueError(f"empty alternative in {program!r}")
    positional: list[_Word] = []
    anywhere: list[_Word] = []
    nowhere: list[_Word] = []
    for word in rest:
        if word[0] in "+!":
            if len(word) == 1:
                raise ValueError(f"{word!r} needs a glob after it, e.g. {word}-d*")
            (anywhere if word[0] == "+" else nowhere).append(_Word(word[1:]))
            continue
        if word.startswith("-"):
            raise ValueError(f"{word!r}: options are not positional; write +{word} (somewhere) "
                             f"or !{word} (nowhere)")
        if anywhere or nowhere:
            raise ValueError(f"positional word {word!r} must come before +/! words")
        positional.append(_Word(word))
    return Pattern(" ".join(words), tuple(program.split("|")), tuple(positional),
                   tuple(anywhere), tuple(nowhere))


def _program_matches(alternatives: tuple[str, ...], program: str) -> bool:
    for alternative in alternatives:
        if "/" in alternative:
            if re.match(translate(alternative), program):
                return True
        elif "/" not in program and re.match(translate(alternative), program):
            return True
    return False


def positionals(argv: tuple[str, ...] | list[str]) -> list[str]:
    """The positional arguments of one stage: options skipped, with the values of the
    options `VALUE_OPTIONS` knows; everything after `--` is positional."""
    if not argv:
        return []
    takes_value = VALUE_OPTIONS.get(argv[0], frozenset())
    found: list[str] = []
    index, options_done = 1, False
    while index < len(argv):
        item = argv[index]
        if options_done or item == "-" or not item.startswith("-"):
            found.append(item)
        elif item == "--":
            options_done = True
        elif item in takes_value:
            index += 1
        index += 1
    return found


@dataclass(frozen=True, slots=True)
class CommandPatterns:
    """Which commands run without a confirmation (config keys ``commands.read_only`` and
    ``commands.dangerous``)."""

    read_only: tuple[str, ...] = DEFAULT_READ_ONLY
    """A command is read-only when each pipeline stage matches one of these..."""
    dangerous: tuple[str, ...] = DEFAULT_DANGEROUS
    """...and no stage matches one of these. Invalid patterns raise ValueError."""
    _read_only: tuple[Pattern, ...] = field(default=(), init=False, repr=False, compare=False)
    _dangerous: tuple[Pattern, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_only", tuple(self.read_only))
        object.__setattr__(self, "dangerous", tuple(self.dangerous))
        object.__setattr__(self, "_read_only", tuple(parse_pattern(p) for p in self.read_only))
        object.__setattr__(self, "_dangerous", tuple(parse_pattern(p) for p in self.dangerous))

    def stage_is_read_only(self, argv: tuple[str, ...] | list[str]) -> bool:
        return (any(p.matches(argv) for p in self._read_only)
                and not any(p.matches(argv) for p in self._dangerous))

    def is_read_only(self, stages: Iterable[tuple[str, ...]]) -> bool:
        stages = list(stages)
        return bool(stages) and all(self.stage_is_read_only(stage) for stage in stages)


@dataclass(frozen=True, slots=True)
class CommandSettings:
    """Running commands from runbooks (config key ``commands``)."""

    timeout: timedelta = DEFAULT_TIMEOUT
    """A command still running after this is killed, with its whole pipeline."""
    patterns: CommandPatterns = field(default_factory=CommandPatterns)
    """Read-only and dangerous patterns: the built-in ones plus the config's."""


# --------------------------------------------------------------------------- #
# Finding commands in Markdown
# --------------------------------------------------------------------------- #

_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def extract_commands(markdown: str) -> list[str]:
    """Every command in the fenced bash/sh/shell/console blocks, in order, one string each.

    Blank lines and comment lines are dropped; `$ ` prompts are removed; in a console block
    that has prompts (`$ `, `# `), lines without one are output and are dropped. Lines ending
    in `\\` are joined with the next, as are lines inside an open quote (the newline is kept)
    and here-documents (so that they can be refused as a whole).
    """
    commands: list[str] = []
    for language, lines in shell_blocks(markdown):
        console = language in ("console", "shell-session") and any(map(_prompted, lines))
        commands.extend(_commands_in(lines, console))
    return commands


def _prompted(line: str) -> bool:
    """A console line with a `$ ` (user) or `# ` (root) prompt."""
    stripped = line.strip()
    return stripped[:2] in ("$ ", "# ") or stripped in ("$", "#")


def _commands_in(lines: list[str], console: bool) -> list[str]:
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if console:
            if not _prompted(line):
                continue  # output
            line = line[1:].strip()
        else:
            if not line or line.startswith("#"):
                continue
            if line.startswith("$ "):
                line = line[2:].strip()
        if not line:
            continue
        # Continuations: a trailing backslash, an open quote, a here-document.
        while index < len(lines):
            quote = open_quote(line)
            if quote:
                line += "\n" + lines[index]
            elif _ends_with_backslash(line):
                follow = lines[index]
                if console and follow.lstrip().startswith("> "):  # the PS2 prompt
                    follow = follow.lstrip()[2:]
                head = line[:-1]
                # `\` + newline vanish; whitespace around them still separates words.
                if head[-1:].isspace() or follow[:1].isspace():
                    line = head.rstrip() + " " + follow.strip()
                else:
                    line = head + follow.rstrip()
            elif (heredoc := _HEREDOC.search(line)) and "\n" not in line:
                end = index
                while end < len(lines) and lines[end].strip() != heredoc.group(2):
                    end += 1
                line += "\n" + "\n".join(lines[index:end + 1])
                index = end + 1
                break
            else:
                break
            index += 1
        found.append(line.strip())
    return found


def _ends_with_backslash(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1 and open_quote(line) == ""


def open_quote(text: str) -> str:
    """The quote character left open at the end of `text` ('' when none)."""
    quote = ""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quote == "'":
            if char == "'":
                quote = ""
        elif char == "\\":
            escaped = True
        elif quote == '"':
            if char == '"':
                quote = ""
        elif char in "'\"":
            quote = char
    return quote


# --------------------------------------------------------------------------- #
# Parsing one command
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class Command:
    """One runbook command, ready to run (or refused, saying why)."""

    text: str
    """The command with its templates filled, on one line, for display only (never run, never
    copied: see `clipboard`)."""
    stages: tuple[tuple[str, ...], ...]
    """argv per pipeline stage; () when the command needs a shell."""
    dangerous: bool
    """Not read-only: ask before running; refused in read-only mode."""
    refused: str
    """'' or why it must not run, in words."""
    needs_shell: bool
    """It uses shell syntax: never run; offer `clipboard` instead."""
    clipboard: str = ""
    """What may be copied to the clipboard: the command with only label values that are safe
    in any shell context filled in; other templates stay as written, for the engineer to fill."""
    context: str = ""
    """The kube context its kubectl stages were pointed at ('' = kubeconfig's current one)."""
    namespace: str = ""
    """The namespace its kubectl stages name (`-n`), or ''."""


class _Refusal(Exception):
    def __init__(self, reason: str, needs_shell: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.needs_shell = needs_shell


_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                       re.ASCII)
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_./:=@%+,][A-Za-z0-9_./:=@%+,-]*", re.ASCII)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_NEEDS_SHELL = "needs a shell ({what}): copied to clipboard instead"


def is_kubernetes_name(value: str) -> bool:
    """RFC 1123 subdomain, as Kubernetes names objects: at most 253 characters."""
    return len(value) <= 253 and _K8S_NAME.fullmatch(value) is not None


def parse_command(line: str, alert: Alert, patterns: CommandPatterns | None = None, *,
                  context: str = "", kubeconfig: str = "") -> Command:
    """Template, split, check and classify one command line (see the module docstring).

    `context` / `kubeconfig`: added to every kubectl/oc stage as `--context=` /
    `--kubeconfig=` unless the command sets them itself, so the command runs against the
    alert's cluster (pass the diagnostics scope's context and `kubernetes.kubeconfig`).
    """
    patterns = patterns or CommandPatterns()
    holes: list[_Hole] = []

    def hole(match: re.Match[str]) -> str:
        expression = match.group("expr")
        holes.append(_Hole(expression, template_value(expression, alert), match.group(0)))
        return f"{_OPEN}{len(holes) - 1}{_CLOSE}"

    raw = line.strip()
    if _OPEN in raw or _CLOSE in raw:
        return Command(_display(raw, alert), (), True,
                       "contains reserved characters (U+E000/U+E001)", False, "", "")
    holed = TEMPLATE.sub(hole, raw)
    try:
        stage_texts, cut = _scan(holed)
    except _Refusal as refusal:
        return Command(_display(raw, alert), (), True, refusal.reason, refusal.needs_shell,
                       _clipboard_text(raw, alert), "")
    if cut is not None:  # a trailing comment: not shown, not copied
        raw = _restore(holed[:cut], holes).strip()
    text, clipboard = _display(raw, alert), _clipboard_text(raw, alert)
    try:
        stages = tuple(_stage(stage, holes, context, kubeconfig) for stage in stage_texts)
    except _Refusal as refusal:
        return Command(text, (), True, refusal.reason, refusal.needs_shell, clipboard, "")
    dangerous = not patterns.is_read_only(stages)
    kube = any(_base(stage[0]) in KUBE_PROGRAMS for stage in stages)
    return Command(text, stages, dangerous, "", False, clipboard, context if kube else "",
                   _namespace(stages))


@dataclass(frozen=True, slots=True)
class _Hole:
    """A template taken out of the line before splitting."""

    expression: str
    value: str | None
    source: str


def _restore(text: str, holes: list[_Hole]) -> str:
    return _PLACEHOLDER.sub(lambda m: holes[int(m.group(1))].source, text)


def _base(program: str) -> str:
    return program.rsplit("/", 1)[-1]


def _display(text: str, alert: Alert) -> str:
    return clean_line(fill_template(text, alert)[0], 2000).strip()


def _clipboard_text(raw: str, alert: Alert) -> str:
    """Only values that are inert in any shell context (no quotes, no `$`, no spaces, not
    starting with `-`) are filled in; the others keep their template."""
    def fill(match: re.Match[str]) -> str:
        value = template_value(match.group("expr"), alert)
        if value is not None and _SAFE_VALUE.fullmatch(value):
            return value
        return match.group(0)

    return TEMPLATE.sub(fill, raw)


def _scan(text: str) -> tuple[list[str], int | None]:
    """Split on unquoted `|` into stage texts, refusing shell syntax. Returns the stages and
    where a trailing comment starts (None when there is none). Quoting as in POSIX sh."""
    stages: list[str] = []
    start, index, quote = 0, 0, ""
    word_start = True
    while index < len(text):
        char = text[index]
        nxt = text[index + 1:index + 2]
        if quote == "'":
            quote = "" if char == "'" else quote
            index += 1
            continue
        if char == "\\":
            index += 2
            word_start = False
            continue
        if quote == '"':
            if char == '"':
                quote = ""
            elif char in "`$":
                _refuse_expansion(text, index)
            index += 1
            continue
        if char.isspace():
            word_start = True
            index += 1
            continue
        if char == "#" and word_start:
            stages.append(text[start:index])
            return _checked_stages(stages), index
        if char == "|" and nxt not in ("|", "&"):
            stages.append(text[start:index])
            start = index + 1
            word_start = True
            index += 1
            continue
        if char in "'\"":
            quote = char
        elif char in "|;&<>()":
            raise _Refusal(_NEEDS_SHELL.format(what=_operator(text, index)), True)
        elif char in "`$":
            _refuse_expansion(text, index)
        elif char == "~" and word_start:
            raise _Refusal(_NEEDS_SHELL.format(what="`~` expansion"), True)
        elif char == "{" and _BRACES.match(text, index):
            raise _Refusal(_NEEDS_SHELL.format(
                what=f"brace expansion `{_BRACES.match(text, index).group(0)}`"), True)
        word_start = False
        index += 1
    if quote:
        raise _Refusal(f"unbalanced {quote} quote")
    stages.append(text[start:])
    return _checked_stages(stages), None


_BRACES = re.compile(r"\{[^{}\s'\"]*(?:,|\.\.)[^{}\s'\"]*\}")
_OPERATOR = re.compile(r"[0-9]*(?:&&|\|\||\|&|;;|&>>?|<<<|<<-?|>>|<>|[<>]&[0-9-]?|>\||[|;&<>()])")


def _operator(text: str, index: int) -> str:
    """`&&`, a redirection (`2>`), a here-document (`<<`), a subshell..., in words."""
    digits = re.search(r"(?<![^\s])[0-9]+$", text[:index])
    begin = digits.start() if digits and text[index] in "<>" else index
    found = _OPERATOR.match(text, begin)
    operator = found.group(0) if found else text[index]
    bare = operator.lstrip("0123456789")
    if bare.startswith("<<"):
        return f"a here-document `{operator}`"
    if bare in ("(", ")"):
        return f"a subshell `{operator}`"
    if bare[:1] in "<>" or bare.startswith("&>"):
        return f"redirection `{operator}`"
    if bare == "&":
        return "a background job `&`"
    return f"`{operator}`"


def _refuse_expansion(text: str, index: int) -> None:
    """Backticks and `$(…)`, `${…}`, `$VAR`, `$'…'` expand in a shell only; a `$` followed by
    anything else is a plain character."""
    if text[index] == "`":
        raise _Refusal(_NEEDS_SHELL.format(what="`…` command substitution"), True)
    nxt = text[index + 1:index + 2]
    if nxt == "(":
        raise _Refusal(_NEEDS_SHELL.format(what="`$( )` command substitution"), True)
    if nxt and (nxt in "{'_?!#@*$-" or nxt.isalnum()):
        name = re.match(r"\$(\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*|.)", text[index:])
        shown = name.group(0) if name else "$"
        raise _Refusal(_NEEDS_SHELL.format(what=f"`{shown}`"), True)


def _checked_stages(stages: list[str]) -> list[str]:
    stripped = [stage.strip() for stage in stages]
    if stripped == [""]:
        raise _Refusal("an empty command")
    if any(not stage for stage in stripped):
        raise _Refusal("an empty pipeline stage (a `|` with nothing on one side)")
    return stripped


def _stage(text: str, holes: list[_Hole], context: str, kubeconfig: str) -> tuple[str, ...]:
    try:
        tokens = shlex.split(text, comments=False, posix=True)
    except ValueError as err:
        raise _Refusal(f"cannot split: {err}") from None
    if not tokens:
        raise _Refusal("an empty pipeline stage")
    program = tokens[0]
    found = _PLACEHOLDER.search(program)
    if found:
        raise _Refusal("a label value may not name the program "
                       f"({holes[int(found.group(1))].source})")
    if _ASSIGNMENT.match(program):
        raise _Refusal(_NEEDS_SHELL.format(what=f"the variable assignment `{program}`"), True)
    if program in SHELL_WORDS:
        raise _Refusal(_NEEDS_SHELL.format(what=f"`{program}` is a shell builtin"), True)
    kube = _base(program) in KUBE_PROGRAMS
    argv = [program]
    for position, token in enumerate(tokens[1:], start=1):
        argv.append(_fill(token, holes, kube, tokens[position - 1]))
    if kube:
        argv = _with_kube_flags(argv, context, kubeconfig)
    return tuple(argv)


def _fill(token: str, holes: list[_Hole], kube: bool, previous: str) -> str:
    """One argv item with its placeholders replaced by their values, after the checks."""
    if _OPEN not in token:
        return token
    pieces: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(token):
        hole = holes[int(match.group(1))]
        if hole.value is None:
            raise _Refusal(f"unknown template variable {hole.source}: the alert has no such "
                           "label or value")
        where = _where(token, previous, holes)
        if match.start() == 0 and hole.value.startswith("-"):
            raise _Refusal(f"option-like value {_shown(hole.value)!r} from a label "
                           f"({hole.source}) {where}: a label value may not start with '-'")
        if kube and not is_kubernetes_name(hole.value):
            raise _Refusal(f"label value {_shown(hole.value)!r} ({hole.source}) {where} is not "
                           "a valid Kubernetes name")
        pieces += [token[last:match.start()], hole.value]
        last = match.end()
    pieces.append(token[last:])
    return "".join(pieces)


def _where(token: str, previous: str, holes: list[_Hole]) -> str:
    """Which argument a label value lands in: `in -n`, `in app.kubernetes.io/name={{ … }}`,
    `as an argument`."""
    if _PLACEHOLDER.fullmatch(token):
        return f"in {previous}" if previous.startswith("-") else "as an argument"
    return f"in {_shown(_restore(token, holes))}"


def _shown(value: str, limit: int = 80) -> str:
    return clean_line(value, limit)


def _with_kube_flags(argv: list[str], context: str, kubeconfig: str) -> list[str]:
    extra = []
    if context and not _has_option(argv, "--context"):
        extra.append(f"--context={context}")
    if kubeconfig and not _has_option(argv, "--kubeconfig"):
        extra.append(f"--kubeconfig={kubeconfig}")
    if not extra:
        return argv
    return [argv[0], *extra, *argv[1:]]


def _has_option(argv: list[str], name: str) -> bool:
    for item in argv[1:]:
        if item == "--":
            return False
        if item == name or item.startswith(name + "="):
            return True
    return False


def _namespace(stages: tuple[tuple[str, ...], ...]) -> str:
    for stage in stages:
        if stage[0] not in KUBE_PROGRAMS:
            continue
        for index, item in enumerate(stage[1:], start=1):
            if item == "--":
                break
            if item in ("-n", "--namespace") and index + 1 < len(stage):
                return stage[index + 1]
            if item.startswith("--namespace="):
                return item.split("=", 1)[1]
            if item.startswith("-n") and len(item) > 2 and not item.startswith("--"):
                return item[2:].lstrip("=")
    return ""

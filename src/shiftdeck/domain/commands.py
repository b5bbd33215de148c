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

Classification is an allowlist. A stage is read-only only when a `read_only` pattern allows its
exact shape (program, subcommand, every option and the shape of its value), no `dangerous`
pattern matches it, and it uses nothing on the floor no pattern can lift (`never_read_only`:
files written or read as `@file`, kubeconfig/server/token/impersonation/context options, secret
data, psql meta-commands, `date -s`, `hostname NAME`, `sort -o`, ...). A command is read-only
when every stage is; everything else is dangerous (confirmed with `y`, refused in read-only
mode). The classification looks at the argv the runbook wrote (labels filled in), before
shiftdeck adds `--context=` / `--kubeconfig=` to kubectl.

Pattern format (`commands.read_only`, `commands.dangerous`): words separated by spaces, matched
against one stage's argv. Each word is a shell-style glob (`*`, `?`, `[...]`) with `a|b`
alternatives.

- The first word is the program: its name as written (`kubectl`), or a path glob if the word
  contains `/`. A program given with a path (`./kubectl`) only matches a pattern with a path.
- Each following plain word must match the next positional argument, from the first. In a
  read_only pattern there must be exactly as many positionals as words, unless the word `...`
  follows them (any number more). In a dangerous pattern, more positionals are allowed.
- read_only patterns only: a word starting with `-` is an option the command may use: `-w` or
  `-A|--all-namespaces` (a flag), `-n|--namespace=*` or `-o=wide|name` (an option with a value,
  given as `-n x`, `-nx`, `-n=x`, `--namespace x` or `--namespace=x`, that must match the glob).
  An option the pattern does not name makes the pattern not match.
- `+word`: some argument matches (anywhere after the program).
- `!word`: no argument matches.
- Words starting with `-` (after `+`/`!`) are matched case-sensitively, as options are; other
  words and values ignore case and compare with runs of whitespace collapsed to one space. A
  word cannot contain a space: use `?` or a class such as `[!a-z]` (`SELECT[!a-z]*` matches an
  SQL string that starts with `select` and a newline).

Examples: read_only `kubectl get|describe ... -n|--namespace=* -o=wide`, `redis-cli PING`,
`mytool status --all`; dangerous `kubectl rollout undo|restart`, `psql +*pg_terminate_backend*`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from fnmatch import translate
from functools import cache

from .alerts import Alert
from .runbooks import TEMPLATE, fill_template, shell_blocks, template_expression, template_value
from .sanitize import clean_line

KUBE_PROGRAMS = frozenset({"kubectl", "oc"})
"""Programs whose label-valued arguments must be Kubernetes names, and that receive the
alert's kube context."""

DEFAULT_TIMEOUT = timedelta(seconds=30)
MAX_ACTIONS = 200
"""Commands offered per runbook; the rest are listed as not offered."""
MAX_COMMAND_CHARS = 8192
"""A longer command line is refused unparsed."""

_KUBE_SCOPE = ("-n|--namespace=* -A|--all-namespaces -l|--selector=* --field-selector=* "
               "--request-timeout=*")
_KUBE_OUTPUT = ("-o|--output=wide|name|json|yaml|jsonpath=*|jsonpath-as-json=*|custom-columns=*"
                "|go-template=*|template=*")
_CURL_SAFE = ("-s|--silent -S|--show-error -f|--fail --fail-with-body -i|--include -I|--head "
              "-L|--location -k|--insecure -v|--verbose -g|--globoff -G|--get --compressed -4 -6 "
              "-m|--max-time=* --connect-timeout=* --retry=* --max-redirs=* "
              "-w|--write-out=[!@]* -o|--output=/dev/null -H|--header=[!@]* -A|--user-agent=*")
_GREP_SAFE = ("-i|-v|-c|-n|-E|-F|-G|-P|-w|-x|-o|-l|-L|-h|-H|-s|-q|-z|-a|-I "
              "--ignore-case --invert-match --count --line-number --extended-regexp "
              "--fixed-strings --word-regexp --only-matching --no-filename --with-filename "
              "-A|-B|-C|-m|-e|--after-context|--before-context|--context|--max-count"
              "|--regexp|--color|--colour=*")

DEFAULT_READ_ONLY: tuple[str, ...] = (
    f"kubectl get ... {_KUBE_SCOPE} {_KUBE_OUTPUT} --sort-by=* --show-labels --no-headers "
    "-L|--label-columns=* -w|--watch --watch-only --show-kind --ignore-not-found --chunk-size=*",
    f"kubectl describe ... {_KUBE_SCOPE} --show-events=*",
    "kubectl logs ... -n|--namespace=* -l|--selector=* -c|--container=* --all-containers "
    "--all-containers=true|false -p|--previous --previous=true|false --tail=* --since=* "
    "--since-time=* --timestamps --timestamps=true|false --prefix --prefix=true|false "
    "-f|--follow --max-log-requests=* --limit-bytes=* --request-timeout=* --ignore-errors",
    f"kubectl top pod|pods|po|node|nodes|no ... {_KUBE_SCOPE} --containers --sort-by=* "
    "--no-headers",
    "kubectl events ... -n|--namespace=* -A|--all-namespaces --for=* --types=* -w|--watch "
    "-o|--output=json|yaml",
    "kubectl explain ... --recursive --api-version=*",
    "kubectl api-resources --namespaced=* -o|--output=wide|name --api-group=* --verbs=*",
    "kubectl api-versions",
    "kubectl version --client --client=true|false -o|--output=json|yaml",
    f"kubectl rollout history|status ... {_KUBE_SCOPE} --revision=* --timeout=* "
    "-w|--watch=true|false",
    f"kubectl auth can-i ... {_KUBE_SCOPE} --list --subresource=*",
    "kubectl auth whoami -o|--output=json|yaml",
    "kubectl cluster-info",
    f"curl ... {_CURL_SAFE}",
    "promtool query instant|range|series|labels ... --time=* --start=* --end=* --step=* "
    "--match=*",
    "promtool check config|rules|metrics|healthy|ready ... --syntax-only --url=*",
    "amtool alert|silence query ... --alertmanager.url=* -o|--output=simple|extended|json "
    "-a|--active -s|--silenced -i|--inhibited -u|--unprocessed -e|--expired -q|--quiet "
    "--within=* --receiver=*",
    "amtool check-config ...",
    "amtool config ... --alertmanager.url=* -o|--output=simple|extended|json",
    "pg_isready -h|--host=* -p|--port=* -U|--username=* -d|--dbname=* -t|--timeout=* -q|--quiet",
    "psql ... -c|--command=SELECT[!a-z_]*|SHOW[!a-z_]*|EXPLAIN[!a-z_]*|\\d*|\\l* "
    "-h|--host=* -p|--port=* -U|--username=* -d|--dbname=* -X|--no-psqlrc -A|--no-align "
    "-t|--tuples-only -x|--expanded -q|--quiet -w|--no-password --csv +-c*|--command*",
    "redis-cli PING|INFO|DBSIZE|TIME|LASTSAVE|ROLE ... -h=* -p=* -n=* -c --raw --no-raw --tls",
    "redis-cli CLIENT|SLOWLOG|MEMORY|CONFIG|CLUSTER LIST|GET|INFO|NODES|STATS|DOCTOR|LEN ... "
    "-h=* -p=* -n=* -c --raw --no-raw --tls",
    "helm list|ls|status|history|version ... -n|--namespace=* -A|--all-namespaces "
    "-o|--output=table|json|yaml -a|--all --max=* --revision=*",
    "docker ps|logs|inspect|stats|top|images|version|info ... -a|--all -q|--quiet "
    "-f|--filter=* --format=* --no-trunc -n|--tail=* --since=* --until=* -t|--timestamps "
    "--no-stream -s|--size",
    "docker compose ps|logs|top|images|version ... -a|--all -q|--quiet --format=* "
    "-n|--tail=* -t|--timestamps --no-color --services",
    "git log|show|status|diff|blame ... --oneline -n|--max-count=* -[0-9]* --stat --name-only "
    "--name-status --since=* --until=* --author=* --format|--pretty=* -p|--patch --graph "
    "--decorate --no-color -s|--short -b|--branch --porcelain --cached|--staged",
    f"grep|egrep|fgrep|zgrep ... {_GREP_SAFE}",
    "head|tail ... -n|--lines=* -c|--bytes=* -[0-9]* -q|-v",
    "wc ... -l|-w|-c|-m|-L|--lines|--words|--bytes|--chars",
    "cut ... -d|--delimiter=* -f|--fields=* -c|--characters=* -b|--bytes=* -s|--only-delimited "
    "--complement --output-delimiter=*",
    "jq ... -r|--raw-output -c|--compact-output -S|--sort-keys -e|--exit-status -s|--slurp "
    "-n|--null-input -M|--monochrome-output --tab --indent=*",
    "column ... -t|--table -s|--separator=* -o|--output-separator=* -n",
    "cat ... -n|-A|-v|-e|-t|-s|-b",
    "echo ... -n|-e|-E",
    "printf ...",
    "sort ... -n|-r|-u|-h|-V|-f|-b|-s|-g|-M|--numeric-sort|--reverse|--unique "
    "--human-numeric-sort -k|--key=* -t|--field-separator=*",
    "ls ... -l|-a|-h|-t|-r|-S|-1|-d|-R|-A --color=*",
    "df ... -h|-T|-i|-k|-m|-a|-l|-P",
    "du ... -s|-h|-a|-c|-x|--apparent-size -d|--max-depth=*",
    "free -m|-g|-h|-k|-b|-t|-w",
    "uptime -p|-s",
    "date -u|--utc|-R -d|--date=* -I|--iso-8601=* --rfc-3339=*",
    "date [+]* -u|--utc|-R -d|--date=*",
    "hostname -f|--fqdn|-s|--short|-i|--ip-address|-I|--all-ip-addresses|-d|--domain"
    "|-A|--all-fqdns",
    "whoami",
    "nproc --all",
    "dig|host|nslookup ... -t=* -4|-6 -type=* -query=* -timeout=* -port=*",
    "getent ahosts|ahostsv4|ahostsv6|hosts|services|group|passwd|networks|protocols ...",
    "ps ... -e|-f|-F|-l|-w|-H|-A --sort=* -u=* -p=* -C=* -o=*",
    "systemctl status|is-active|is-failed|list-units|show ... --no-pager -l|--full --type=* "
    "--state=* -a|--all --user -p|--property=*",
)
"""Built-in read-only shapes: diagnostics the seed handbooks run, and plain text filters."""

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
        "--profile-output", "-o", "--output", "-l", "--selector"}),
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
            regexes.append((re.compile(translate(alternative), flags | re.DOTALL),
                            not alternative.startswith("-")))
        self._regexes = tuple(regexes)

    def matches(self, item: str) -> bool:
        for regex, loose in self._regexes:
            if regex.match(" ".join(item.split()) if loose else item):
                return True
        return False


MORE = "..."
"""In a read_only pattern, after the positional words: any number of further positionals."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern (see the module docstring for the format)."""

    text: str
    program: tuple[str, ...]
    positionals: tuple[_Word, ...] = field(repr=False)
    anywhere: tuple[_Word, ...] = field(repr=False)
    nowhere: tuple[_Word, ...] = field(repr=False)
    more: bool = False
    """`...`: positionals beyond the words are allowed (read_only patterns)."""
    flags: tuple[_Word, ...] = field(default=(), repr=False)
    """Options without a value the command may use (read_only patterns)."""
    valued: tuple[tuple[str, _Word], ...] = field(default=(), repr=False)
    """Options with a value, and the value's shape (read_only patterns)."""

    def matches(self, argv: tuple[str, ...] | list[str]) -> bool:
        """Dangerous-pattern semantics: the program, the first positionals, +/! words."""
        if not argv or not _program_matches(self.program, argv[0]):
            return False
        given = positionals(argv)
        return (len(given) >= len(self.positionals)
                and all(word.matches(item) for word, item in zip(self.positionals, given))
                and self._required_and_forbidden(argv[1:]))

    def allows(self, argv: tuple[str, ...] | list[str]) -> bool:
        """Read-only semantics: the stage's exact shape is one this pattern names."""
        if not argv or not _program_matches(self.program, argv[0]):
            return False
        given = self._shape(argv)
        if given is None or len(given) < len(self.positionals):
            return False
        if len(given) > len(self.positionals) and not self.more:
            return False
        return (all(word.matches(item) for word, item in zip(self.positionals, given))
                and self._required_and_forbidden(argv[1:]))

    def _required_and_forbidden(self, args: tuple[str, ...] | list[str]) -> bool:
        if not all(any(word.matches(item) for item in args) for word in self.anywhere):
            return False
        return not any(word.matches(item) for word in self.nowhere for item in args)

    def _shape(self, argv: tuple[str, ...] | list[str]) -> list[str] | None:
        """The positionals, or None when an option is not one this pattern allows."""
        found: list[str] = []
        index, options_done = 1, False
        while index < len(argv):
            item = argv[index]
            index += 1
            if options_done or item == "-" or not item.startswith("-"):
                found.append(item)
            elif item == "--":
                options_done = True
            else:
                used = self._option(item, argv[index] if index < len(argv) else None)
                if used is None:
                    return None
                index += used
        return found

    def _value_word(self, name: str) -> _Word | None:
        return next((word for option, word in self.valued if option == name), None)

    def _is_flag(self, item: str) -> bool:
        return any(flag.matches(item) for flag in self.flags)

    def _option(self, item: str, following: str | None) -> int | None:
        """How many argv items after `item` it uses (0 or 1), or None: not allowed."""
        name, equals, value = item.partition("=")
        shape = self._value_word(name)
        if equals and shape is not None:
            return 0 if shape.matches(value) else None
        if self._is_flag(item):
            return 0
        shape = self._value_word(item)
        if shape is not None:
            return 1 if following is not None and shape.matches(following) else None
        if not item.startswith("--") and len(item) > 2:
            return self._cluster(item, following)
        return None

    def _cluster(self, item: str, following: str | None) -> int | None:
        """`-sSL`, `-n5`, `-iE`: short options run together, the last may carry a value."""
        for position in range(1, len(item)):
            option, rest = "-" + item[position], item[position + 1:]
            shape = self._value_word(option)
            if shape is not None:
                value = rest or following
                if value is None or not shape.matches(value):
                    return None
                return 0 if rest else 1
            if not self._is_flag(option):
                return None
        return 0


def parse_pattern(text: str, *, read_only: bool = False) -> Pattern:
    """Parse one pattern; ValueError says what is wrong. `read_only`: option words and `...`
    are allowed (they name the exact shapes a read-only command may have)."""
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
    flags: list[_Word] = []
    valued: list[tuple[str, _Word]] = []
    more = False
    for word in rest:
        if word[0] in "+!":
            if len(word) == 1:
                raise ValueError(f"{word!r} needs a glob after it, e.g. {word}-d*")
            (anywhere if word[0] == "+" else nowhere).append(_Word(word[1:]))
        elif word.startswith("-") and read_only:
            _option_word(word, flags, valued)
        elif word.startswith("-"):
            raise ValueError(f"{word!r}: options are not positional; write +{word} (somewhere) "
                             f"or !{word} (nowhere)")
        elif word == MORE and not read_only:
            raise ValueError(f"{MORE} (any further positionals) is for read_only patterns")
        elif word == MORE:
            more = True
        elif anywhere or nowhere or more or flags or valued:
            raise ValueError(f"positional word {word!r} must come before +/! words, options "
                             f"and {MORE}")
        else:
            positional.append(_Word(word))
    return Pattern(" ".join(words), tuple(program.split("|")), tuple(positional),
                   tuple(anywhere), tuple(nowhere), more, tuple(flags), tuple(valued))


def _option_word(word: str, flags: list[_Word], valued: list[tuple[str, _Word]]) -> None:
    """`-w`, `-A|--all`, `-n|--namespace=*`, `-o=wide|name`."""
    names, equals, values = word.partition("=")
    for name in names.split("|"):
        if not name.startswith("-") or name == "-":
            raise ValueError(f"{word!r}: each alternative before '=' must be an option")
        if not equals:
            flags.append(_Word(name))
        elif not values:
            raise ValueError(f"{word!r}: give the value's shape after '=' (* for any)")
        else:
            valued.append((name, _Word(values)))


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


# --------------------------------------------------------------------------- #
# The floor: what no pattern can make read-only
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class _Floor:
    """What one program may never do in a read-only command."""

    short_valued: str = ""
    """Short options that take a value (attached, `-ofile`, or the next item)."""
    long_valued: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    """Option names (`-o`, `--output`): never read-only, whatever their value."""
    abbreviates: bool = False
    """Long options may be abbreviated (getopt_long, curl): `--out` counts as `--output`."""
    check: Callable[[list[tuple[str, str | None]], list[str]], str] | None = None
    """(options with their values, positionals) → why not read-only, or ''."""


_KUBE_FORBIDDEN = frozenset({
    "--kubeconfig", "--server", "-s", "--token", "--as", "--as-group", "--as-uid", "--raw",
    "--context", "--cluster", "--user", "--username", "--password", "--client-key",
    "--client-certificate", "--certificate-authority", "--insecure-skip-tls-verify",
    "--tls-server-name", "--cache-dir", "--profile", "--profile-output", "--filename",
    "--kustomize"})
_SECRET_RESOURCES = frozenset({"secret", "secrets"})
_SECRET_SAFE_OUTPUT = frozenset({"", "wide", "name"})


def _kube_check(options: list[tuple[str, str | None]], positional: list[str]) -> str:
    """`kubectl get secrets -o yaml` (or jsonpath, templates...) shows secret data."""
    secrets = any(part.split("/")[0].split(".")[0].lower() in _SECRET_RESOURCES
                  for item in positional for part in item.split(","))
    if not secrets:
        return ""
    for name, value in options:
        if name in ("-o", "--output") and (value or "") not in _SECRET_SAFE_OUTPUT:
            return "shows secret data"
        if name in ("--template", "--show-managed-fields"):
            return "shows secret data"
    return ""


def _curl_check(options: list[tuple[str, str | None]], _positional: list[str]) -> str:
    for name, value in options:
        if name in ("-o", "--output") and value != "/dev/null":
            return "writes a file (-o)"
        if name in ("-w", "--write-out") and value is not None and "%output" in value:
            return "writes a file (%output)"
        if name in ("-b", "--cookie") and value is not None and "=" not in value:
            return "reads a cookie file (-b)"
    return ""


_SQL_META = re.compile(r"\\(?:d[A-Za-z]{0,3}|l)\+?(?:\s+[\w.*\"]+)?\s*")
_SQL_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_SQL_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_SQL_FIRST = frozenset({"select", "show", "explain"})
_SQL_NEVER = frozenset({"into", "for", "analyze", "analyse", "copy"})
_SQL_CALLS = frozenset("""
    count sum avg min max now left right length lower upper round coalesce nullif greatest
    least extract date_trunc date_part age to_char to_timestamp substring replace trim abs ceil
    floor string_agg array_agg json_agg row_number rank percentile_cont stddev variance
    bool_or bool_and concat split_part position unnest generate_series over filter within in
    exists any all not and or as on using values interval cast when then else from where
    select join lateral distinct is pg_size_pretty pg_database_size pg_relation_size
    pg_total_relation_size pg_table_size pg_indexes_size pg_is_in_recovery
    pg_last_xact_replay_timestamp pg_last_wal_receive_lsn pg_last_wal_replay_lsn
    pg_current_wal_lsn pg_wal_lsn_diff pg_postmaster_start_time current_setting version
    current_database current_user clock_timestamp statement_timestamp
    """.split())


def sql_problem(sql: str) -> str:
    """Why a psql `-c` text is not a plain query, or '' (one SELECT/SHOW/EXPLAIN, no psql
    meta-command but `\\d…`/`\\l`, only known side-effect-free functions)."""
    text = sql.strip()
    if text.startswith("\\"):
        return "" if _SQL_META.fullmatch(text) else "a psql meta-command"
    bare = _SQL_STRING.sub(" 0 ", text).rstrip().removesuffix(";")
    if any(mark in bare for mark in (";", "\\", "$", "'", '"', "--", "/*")):
        return "not a single plain SQL statement"
    words = re.findall(r"[A-Za-z_]+", bare.lower())
    if not words or words[0] not in _SQL_FIRST or _SQL_NEVER.intersection(words):
        return "not a plain query"
    for call in _SQL_CALL.findall(bare):
        if call.lower().rsplit(".", 1)[-1] not in _SQL_CALLS:
            return f"calls {call}()"
    return ""


def _psql_check(options: list[tuple[str, str | None]], _positional: list[str]) -> str:
    for name, value in options:
        if name in ("-c", "--command"):
            problem = sql_problem(value or "")
            if problem:
                return problem
    return ""


def _date_check(options: list[tuple[str, str | None]], positional: list[str]) -> str:
    return "sets the clock" if any(not p.startswith("+") for p in positional) else ""


def _no_positionals(options: list[tuple[str, str | None]], positional: list[str]) -> str:
    return "sets the host name" if positional else ""


_FLOORS: dict[str, _Floor] = {
    "kubectl": _Floor("nlosLc", VALUE_OPTIONS["kubectl"] | {"--template", "--sort-by"},
                      _KUBE_FORBIDDEN, False, _kube_check),
    "curl": _Floor(
        "AbcCdDeEFHKmoPQrTtuUwxXyYz",
        frozenset({"--output", "--write-out", "--cookie", "--header", "--max-time",
                   "--user-agent", "--url-query", "--data", "--form", "--json", "--request"}),
        frozenset({"-O", "-D", "-c", "-K", "-T", "-d", "-F", "-X", "-n", "-u", "-E", "-J",
                   "-e", "-x", "-U", "--remote-name", "--remote-name-all",
                   "--remote-header-name", "--dump-header", "--cookie-jar", "--config",
                   "--upload-file", "--data", "--data-ascii", "--data-binary", "--data-raw",
                   "--data-urlencode", "--form", "--form-string", "--json", "--trace",
                   "--trace-ascii", "--trace-config", "--stderr", "--libcurl", "--output-dir",
                   "--create-dirs", "--request", "--netrc", "--netrc-file", "--netrc-optional",
                   "--unix-socket", "--abstract-unix-socket", "--cert", "--key", "--user",
                   "--oauth2-bearer", "--etag-save", "--etag-compare", "--hsts", "--alt-svc",
                   "--url-query", "--proxy", "--proxy-user", "--variable", "--expand-url"}),
        True, _curl_check),
    "psql": _Floor("hpUdcfvPoLTFR", VALUE_OPTIONS["psql"],
                   frozenset({"-o", "--output", "-f", "--file", "-L", "--log-file"}),
                   True, _psql_check),
    "sort": _Floor("ktSTo", frozenset({"--key", "--field-separator", "--output"}),
                   frozenset({"-o", "--output", "--compress-program", "--files0-from"}), True),
    "date": _Floor("dfrI", frozenset({"--date", "--file", "--reference", "--set"}),
                   frozenset({"-s", "--set"}), True, _date_check),
    "hostname": _Floor("F", frozenset({"--file"}),
                       frozenset({"-F", "--file", "-b", "--boot"}), True, _no_positionals),
    "git": _Floor("cC", frozenset(), frozenset({"-c", "--config-env", "--exec-path",
                                                "--output", "--ext-diff", "--textconv"})),
    "helm": _Floor("n", frozenset({"--namespace"}), frozenset({
        "--kubeconfig", "--kube-context", "--kube-token", "--kube-as-user", "--kube-as-group",
        "--kube-apiserver", "--kube-ca-file", "--registry-config", "--repository-config",
        "--post-renderer"})),
    "docker": _Floor("Hc", VALUE_OPTIONS["docker"],
                     frozenset({"-H", "--host", "--context", "-c", "--config"})),
    "redis-cli": _Floor("hpsaunridD", VALUE_OPTIONS["redis-cli"], frozenset({
        "--rdb", "--functions-rdb", "--pipe", "--eval", "-a", "--pass", "--askpass", "--user",
        "-u", "-x"})),
    "systemctl": _Floor("HM", frozenset({"--host", "--machine"}),
                        frozenset({"-H", "--host", "-M", "--machine"})),
}
_FLOORS["oc"] = _FLOORS["kubectl"]

_AT_IS_NOT_A_FILE = frozenset({"dig", "date"})
"""Programs where a leading `@` is a server or a time, not a file to read."""
_READS_AT_FILE = re.compile(r"^(?:-[A-Za-z]|--[^=]+=)@")


def never_read_only(argv: tuple[str, ...] | list[str]) -> str:
    """Why this stage can never be read-only, whatever the patterns say, or ''."""
    if not argv:
        return "nothing to run"
    program = argv[0].rsplit("/", 1)[-1]
    if program not in _AT_IS_NOT_A_FILE and any(
            item.startswith("@") or _READS_AT_FILE.match(item) for item in argv[1:]):
        return "reads a file (@file)"
    floor = _FLOORS.get(program)
    if floor is None:
        return ""
    options, positional = _getopt(argv, floor)
    for name, _value in options:
        if _forbidden(name, floor.forbidden, floor.abbreviates):
            return f"uses {name}"
    return floor.check(options, positional) if floor.check else ""


def _forbidden(name: str, forbidden: frozenset[str], abbreviates: bool) -> bool:
    if name in forbidden:
        return True
    return abbreviates and name.startswith("--") and len(name) > 3 and any(
        option.startswith(name) for option in forbidden if option.startswith("--"))


def _getopt(argv: tuple[str, ...] | list[str],
            floor: _Floor) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(option, value) pairs and positionals, as a getopt-style program reads them."""
    options: list[tuple[str, str | None]] = []
    found: list[str] = []
    index, done = 1, False
    while index < len(argv):
        item = argv[index]
        index += 1
        following = argv[index] if index < len(argv) else None
        if done or item == "-" or not item.startswith("-"):
            found.append(item)
        elif item == "--":
            done = True
        elif item.startswith("--"):
            name, equals, value = item.partition("=")
            if equals:
                options.append((name, value))
            elif name in floor.long_valued:
                options.append((name, following))
                index += 1
            else:
                options.append((name, None))
        else:
            index += _short_cluster(item, following, floor.short_valued, options)
    return options, found


def _short_cluster(item: str, following: str | None, valued: str,
                   options: list[tuple[str, str | None]]) -> int:
    for position in range(1, len(item)):
        letter, rest = item[position], item[position + 1:]
        if letter in valued:
            options.append(("-" + letter, rest or following))
            return 0 if rest else 1
        options.append(("-" + letter, None))
    return 0


@dataclass(frozen=True, slots=True)
class CommandPatterns:
    """Which commands run without a confirmation (config keys ``commands.read_only`` and
    ``commands.dangerous``)."""

    read_only: tuple[str, ...] = DEFAULT_READ_ONLY
    """A stage is read-only when one of these allows its exact shape..."""
    dangerous: tuple[str, ...] = DEFAULT_DANGEROUS
    """...no stage matches one of these, and `never_read_only` has nothing against it.
    Invalid patterns raise ValueError."""
    _read_only: tuple[Pattern, ...] = field(default=(), init=False, repr=False, compare=False)
    _dangerous: tuple[Pattern, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_only", tuple(self.read_only))
        object.__setattr__(self, "dangerous", tuple(self.dangerous))
        object.__setattr__(self, "_read_only", tuple(parse_pattern(p, read_only=True)
                                                     for p in self.read_only))
        object.__setattr__(self, "_dangerous", tuple(parse_pattern(p) for p in self.dangerous))

    def stage_is_read_only(self, argv: tuple[str, ...] | list[str]) -> bool:
        return (not never_read_only(argv)
                and any(p.allows(argv) for p in self._read_only)
                and not any(p.matches(argv) for p in self._dangerous))

    def is_read_only(self, stages: Iterable[tuple[str, ...]]) -> bool:
        stages = list(stages)
        return bool(stages) and all(self.stage_is_read_only(stage) for stage in stages)


@cache
def default_patterns() -> CommandPatterns:
    """The built-in patterns, parsed once: parsing them takes milliseconds."""
    return CommandPatterns()


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
    """The kube context its kubectl stages run with ('': none given, kubeconfig's current one)."""
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
    `--kubeconfig=` unless the command sets them itself (which makes it dangerous), so the
    command runs against the alert's cluster (pass the diagnostics scope's context, or the
    kubeconfig's current context, and `kubernetes.kubeconfig`).
    """
    patterns = patterns or default_patterns()
    holes: list[_Hole] = []

    def hole(match: re.Match[str]) -> str:
        expression = template_expression(match)
        holes.append(_Hole(expression, template_value(expression, alert), match.group(0)))
        return f"{_OPEN}{len(holes) - 1}{_CLOSE}"

    raw = line.strip()
    if len(raw) > MAX_COMMAND_CHARS:
        return Command(clean_line(raw, 200), (), True,
                       f"longer than {MAX_COMMAND_CHARS} characters", False, "", "")
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
        written = tuple(_stage(stage, holes) for stage in stage_texts)
    except _Refusal as refusal:
        return Command(text, (), True, refusal.reason, refusal.needs_shell, clipboard, "")
    # Classified as the runbook wrote it: a --context or --kubeconfig it sets is dangerous;
    # the ones shiftdeck adds are not.
    dangerous = not patterns.is_read_only(written)
    stages = tuple(_with_kube_flags(list(stage), context, kubeconfig)
                   if _base(stage[0]) in KUBE_PROGRAMS else stage for stage in written)
    return Command(text, stages, dangerous, "", False, clipboard, _context(stages),
                   _namespace(stages))


def copy_only(command: Command, reason: str) -> Command:
    """The command refused with `reason` (an untrusted runbook's): it can be copied, not run."""
    clipboard = command.clipboard or command.text
    return replace(command, stages=(), dangerous=True, refused=reason, needs_shell=False,
                   clipboard=clipboard)


def runbook_commands(lines: Iterable[str], alert: Alert, patterns: CommandPatterns, *,
                     context: str = "", kubeconfig: str = "", untrusted: str = "",
                     limit: int = MAX_ACTIONS) -> tuple[list[Command], int]:
    """The first `limit` commands parsed (each refused, copy only, when `untrusted` says why),
    and how many more there were (not offered)."""
    lines = list(lines)
    commands = []
    for line in lines[:limit]:
        command = parse_command(line, alert, patterns, context=context, kubeconfig=kubeconfig)
        commands.append(copy_only(command, untrusted) if untrusted else command)
    return commands, max(len(lines) - limit, 0)


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
        value = template_value(template_expression(match), alert)
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
        elif char == "{" and (braces := _BRACES.match(text, index)):
            raise _Refusal(_NEEDS_SHELL.format(what=f"brace expansion `{braces.group(0)}`"), True)
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


def _stage(text: str, holes: list[_Hole]) -> tuple[str, ...]:
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


def _with_kube_flags(argv: list[str], context: str, kubeconfig: str) -> tuple[str, ...]:
    extra = []
    if context and not _has_option(argv, "--context"):
        extra.append(f"--context={context}")
    if kubeconfig and not _has_option(argv, "--kubeconfig"):
        extra.append(f"--kubeconfig={kubeconfig}")
    return (argv[0], *extra, *argv[1:])


def _has_option(argv: list[str], name: str) -> bool:
    for item in argv[1:]:
        if item == "--":
            return False
        if item == name or item.startswith(name + "="):
            return True
    return False


def _context(stages: tuple[tuple[str, ...], ...]) -> str:
    """The `--context` the kubectl stages run with ('' when none is given)."""
    for stage in stages:
        if _base(stage[0]) not in KUBE_PROGRAMS:
            continue
        for index, item in enumerate(stage[1:], start=1):
            if item == "--":
                break
            if item.startswith("--context="):
                return item.split("=", 1)[1]
            if item == "--context" and index + 1 < len(stage):
                return stage[index + 1]
    return ""


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

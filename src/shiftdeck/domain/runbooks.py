"""Runbooks: where an alert's runbook may be, front matter, templates, the generic checklist.

Pure: no I/O. `sources.runbooks.load_runbook` walks the places `runbook_plan` lists.

A *reference* (an annotation's `runbook_url` / `runbook`, or a `runbooks.map` value) is an
http(s) URL, or a path. A relative path is looked up in every `runbooks.dirs` entry, then under
`runbooks.base_url`. Only the config (`runbooks.map`) may name an absolute path: an alert is
untrusted input, so its paths must stay inside the configured directories (no absolute paths,
no `..`; `sources.runbooks` also checks each file after symlinks).

Trust follows where a runbook was found, never what it says: `runbooks.dirs`, `base_url` and
`map` are the team's; an annotation URL outside `base_url` and `runbooks.trusted_origins` came
from whoever wrote the alert. Such a runbook is shown and its commands can be copied, but none
can run (`Place.untrusted`).

Templates follow Prometheus and Alertmanager: `{{ $labels.namespace }}`, `{{ .Labels.pod }}`,
`{{ index $labels "pod" }}`, `{{ $value }}` / `{{ .Value }}`, `{{ $externalLabels.x }}`,
`{{ $annotations.summary }}` / `{{ .Annotations.summary }}`, `{{ $externalURL }}` (the
Prometheus that fired the alert, from its generatorURL), `{{ .GeneratorURL }}`, and the pipes
`humanize`, `humanizePercentage`, `humanizeDuration`, `toUpper`, `toLower`. Anything else (and a
label the alert does not carry) stays visible, followed by `⟦unknown⟧`, and is listed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from urllib.parse import urljoin, urlsplit

from .alerts import Alert
from .sanitize import clean_line

UNKNOWN_MARK = "⟦unknown⟧"
"""Follows a template that could not be filled, e.g. `{{ $labels.cluster }}⟦unknown⟧`."""

ANNOTATIONS = ("runbook_url", "runbook")
"""Alert annotations that name a runbook, in the order they are tried."""

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console", "zsh", "shell-session"})
"""Fenced code blocks in these languages hold commands."""


@dataclass(frozen=True, slots=True)
class RunbookSettings:
    """Where runbooks live (config key ``runbooks``)."""

    dirs: tuple[Path, ...] = ()
    """Directories searched for relative references and for `<alertname>.md`, in order."""
    base_url: str = ""
    """http(s) base for relative references and `<alertname>.md` when no file matched."""
    map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    """alertname → file (absolute, or relative to dirs / base_url) or http(s) URL."""
    trusted_origins: tuple[str, ...] = ()
    """Origins (`https://wiki.example.com`, scheme://host[:port]) whose runbooks are the
    team's even when an alert's runbook_url names them; base_url's origin path is trusted too."""

    def __post_init__(self) -> None:
        if not isinstance(self.map, MappingProxyType):
            object.__setattr__(self, "map", MappingProxyType(dict(self.map)))
        object.__setattr__(self, "trusted_origins",
                           tuple(origin_of(o) or o for o in self.trusted_origins))


@dataclass(frozen=True, slots=True)
class Place:
    """One place a runbook may be, and what trusting it means."""

    location: str
    """An http(s) URL or an absolute file path."""
    root: Path | None = None
    """The runbooks.dirs entry a file was looked up in: after symlinks it must stay inside."""
    untrusted: str = ""
    """'' for the team's runbooks; else why its commands cannot run, in one sentence."""


@dataclass(frozen=True, slots=True)
class Runbook:
    """A loaded runbook, or the generic checklist when none was found."""

    found: bool
    source: str
    """Where it came from (URL or file path); '' when not found."""
    markdown: str
    """What to show: front matter stripped, sanitised, templates filled outside shell blocks
    (those keep their templates: each command is filled, safely, by `parse_command`). When
    not found: the level's generic checklist and the places tried."""
    tried: tuple[str, ...]
    """Every place tried, in order, each with what happened (`…/x.md: no such file`)."""
    unknown_variables: tuple[str, ...]
    """Template expressions that could not be filled (`$labels.cluster`), in order."""
    title: str = ""
    """The front matter's `title`, if any."""
    template: str = ""
    """The Markdown before templating (front matter stripped, sanitised)."""
    commands: tuple[str, ...] = ()
    """`extract_commands(template)`: feed these to `parse_command`, never lines taken from the
    filled `markdown` (label values would already be spliced into the text)."""
    untrusted: str = ""
    """'' when the runbook is the team's; else why none of its commands may run (it came from
    the alert's runbook_url): they are listed and can be copied."""


# --------------------------------------------------------------------------- #
# Where to look
# --------------------------------------------------------------------------- #


def is_url(reference: str) -> bool:
    return urlsplit(reference.strip()).scheme.lower() in ("http", "https")


def runbook_plan(alert: Alert, settings: RunbookSettings) -> tuple[list[str], list[str]]:
    """(places to try in order, references skipped with the reason); see `runbook_places`."""
    places, skipped = runbook_places(alert, settings)
    return [place.location for place in places], skipped


def runbook_places(alert: Alert, settings: RunbookSettings) -> tuple[list[Place], list[str]]:
    """(places to try in order, references skipped with the reason).

    Places are http(s) URLs and absolute file paths. Order: the alert's `runbook_url` /
    `runbook` annotation, `runbooks.map[alertname]`, then `<dir>/<alertname>.md` and its
    kebab-case and lower-case forms for each dir, then the same names under `base_url`.
    A place listed twice keeps its first position and is trusted if either listing is.
    """
    places: list[Place] = []
    skipped: list[str] = []
    for key in ANNOTATIONS:
        reference = alert.annotations.get(key, "").strip()
        if reference:
            _add_reference(reference, settings, places, skipped, trusted=False,
                           origin=f"annotation {key}")
    name = alert.name
    mapped = settings.map.get(name, "").strip() if name else ""
    if mapped:
        _add_reference(mapped, settings, places, skipped, trusted=True, origin="runbooks.map")
    if name and _SAFE_NAME.fullmatch(name):
        files = [f"{stem}.md" for stem in runbook_names(name)]
        for directory in settings.dirs:
            places.extend(Place(str(directory / file), directory) for file in files)
        if settings.base_url:
            places.extend(Place(_join_url(settings.base_url, file)) for file in files)
    return _merged(places), skipped


def _merged(places: list[Place]) -> list[Place]:
    merged: dict[str, Place] = {}
    for place in places:
        first = merged.get(place.location)
        if first is None:
            merged[place.location] = place
        elif first.untrusted and not place.untrusted:
            merged[place.location] = replace(first, untrusted="", root=place.root)
    return list(merged.values())


def origin_of(url: str) -> str:
    """`scheme://host:port` of an http(s) URL (lower-case, default port dropped), or ''."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def is_team_url(url: str, settings: RunbookSettings) -> bool:
    """Under `base_url` (same origin, path inside it) or on a `trusted_origins` origin."""
    origin = origin_of(url)
    if not origin:
        return False
    if origin in settings.trusted_origins:
        return True
    if not settings.base_url or origin != origin_of(settings.base_url):
        return False
    base_path = urlsplit(settings.base_url).path.rstrip("/") + "/"
    path = urlsplit(url.strip()).path
    return path.startswith(base_path) and ".." not in path.split("/")


def untrusted_sentence(origin: str, url: str) -> str:
    """Why an alert-supplied runbook's commands cannot run, in one sentence."""
    host = urlsplit(url).hostname or url
    return (f"this runbook came from the alert's {origin.removeprefix('annotation ')} "
            f"({clean_line(host, 100)}), not from your team's runbooks: commands can be "
            "copied, not run")


def runbook_candidates(alert: Alert, settings: RunbookSettings) -> list[str]:
    """The places `load_runbook` tries for this alert, in order (see `runbook_plan`)."""
    return runbook_plan(alert, settings)[0]


def runbook_names(alertname: str) -> list[str]:
    """File stems for an alert name: as is, kebab-case, then lower-case forms.

    `QAWaveBackendDown` → QAWaveBackendDown, qa-wave-backend-down, qawavebackenddown,
    qa_wave_backend_down. Kebab-case keeps acronyms whole (`PostgreSQLDown` → postgresql-down);
    the form split at every case change (postgre-sql-down) is tried too when it differs.
    """
    words = _WORD_START.sub("-", alertname).lower()
    every = _EVERY_BOUNDARY.sub("-", _WORD_START.sub("-", alertname)).lower()
    names = [alertname, words, every, alertname.lower(), words.replace("-", "_")]
    return list(dict.fromkeys(n for n in names if n))


# A new word starts at an upper-case letter followed by a lower-case one (QA|Wave, Backend|Down);
# acronyms and digits stay with their word (PostgreSQL|Down, SLO|Error, K8s|Node).
_WORD_START = re.compile(r"(?<=[A-Za-z0-9])(?=[A-Z][a-z])")
_EVERY_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")


def _add_reference(reference: str, settings: RunbookSettings, places: list[Place],
                   skipped: list[str], *, trusted: bool, origin: str) -> None:
    parts = urlsplit(reference)
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter "scheme" is a Windows drive
        if parts.scheme.lower() in ("http", "https") and parts.netloc:
            team = trusted or is_team_url(reference, settings)
            places.append(Place(reference, None,
                                "" if team else untrusted_sentence(origin, reference)))
        else:
            skipped.append(f"{reference}: {origin} is not an http(s) URL or a path")
        return
    path_text = reference.split("#", 1)[0].split("?", 1)[0]
    path = PurePosixPath(path_text)
    expanded = Path(path_text).expanduser() if trusted else None
    if expanded is not None and expanded.is_absolute():
        places.append(Place(str(expanded)))
        return
    if path.is_absolute() or path_text.startswith("~") or ".." in path.parts:
        skipped.append(f"{reference}: ignored: an alert's {origin} may only name a file inside "
                       "runbooks.dirs or under runbooks.base_url")
        return
    if not path_text.strip():
        skipped.append(f"{reference}: {origin} names no file")
        return
    for directory in settings.dirs:
        places.append(Place(str(directory / path), directory))
    if settings.base_url:
        places.append(Place(_join_url(settings.base_url, path.as_posix())))
    if not settings.dirs and not settings.base_url:
        skipped.append(f"{reference}: {origin} is a relative path, and neither runbooks.dirs "
                       "nor runbooks.base_url is set")


def _join_url(base: str, relative: str) -> str:
    return urljoin(base if base.endswith("/") else base + "/", relative.lstrip("/"))


# --------------------------------------------------------------------------- #
# Front matter
# --------------------------------------------------------------------------- #

_FENCES = {"---": ("---", "..."), "+++": ("+++",)}


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body). Front matter is a first line `---` (YAML) or `+++` (TOML) up to
    the closing line; without a closing line there is none."""
    body = text.lstrip("\ufeff")
    first, newline, rest = body.partition("\n")
    closers = _FENCES.get(first.rstrip())
    if not closers or not newline:
        return "", text
    lines = rest.split("\n")
    for index, line in enumerate(lines):
        if line.rstrip() in closers:
            return "\n".join(lines[:index]), "\n".join(lines[index + 1:]).lstrip("\n")
    return "", text


def strip_front_matter(text: str) -> str:
    """The Markdown without its YAML (`---`) or TOML (`+++`) front matter."""
    return split_front_matter(text)[1]


_TITLE = re.compile(r"^title\s*[:=]\s*(.+?)\s*$", re.MULTILINE)


def front_matter_title(text: str) -> str:
    """The `title:` of a runbook's front matter (quotes removed), or ''."""
    match = _TITLE.search(split_front_matter(text)[0])
    if not match:
        return ""
    title = match.group(1)
    if len(title) >= 2 and title[0] == title[-1] and title[0] in "'\"":
        title = title[1:-1]
    return clean_line(title, 200)


# --------------------------------------------------------------------------- #
# Templates
# --------------------------------------------------------------------------- #

TEMPLATE = re.compile(r"\{\{(?P<body>[^{}\n]*)\}\}")
"""One `{{ ... }}` action, on one line. Linear: the body cannot hold a brace, so a scan from
one `{{` stops at the next; trim markers and spaces are removed by `template_expression`."""


def template_expression(match: re.Match[str]) -> str:
    """The expression of a `TEMPLATE` match: trim markers (`{{-`, `-}}`) and spaces removed."""
    body = match.group("body")
    if body.startswith("-"):
        body = body[1:]
    body = body.strip()
    if body.endswith("-"):
        body = body[:-1].rstrip()
    return body

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FIELD = re.compile(rf"(?P<map>\$labels|\.Labels|\$externalLabels|\.ExternalLabels"
                    rf"|\$annotations|\.Annotations)\.(?P<name>{_NAME})")
_INDEX = re.compile(r"index\s+(?P<map>\$labels|\.Labels|\$externalLabels|\.ExternalLabels"
                    r"|\$annotations|\.Annotations)\s+\"(?P<name>[^\"]*)\"")
_SCALARS = {"$value": "value", ".Value": "value", "$externalURL": "external_url",
            ".ExternalURL": "external_url", ".GeneratorURL": "generator_url"}


def template_value(expression: str, alert: Alert) -> str | None:
    """The value of one template expression (the text between `{{` and `}}`), or None."""
    head, *pipes = [part.strip() for part in expression.split("|")]
    value = _lookup(head, alert)
    for name in pipes:
        if value is None:
            return None
        function = _PIPES.get(name)
        if function is None:
            return None
        value = function(value)
    return value


def _lookup(head: str, alert: Alert) -> str | None:
    match = _FIELD.fullmatch(head) or _INDEX.fullmatch(head)
    if match:
        source = alert.annotations if "nnotations" in match.group("map") else alert.labels
        return source.get(match.group("name"))
    what = _SCALARS.get(head)
    if what == "value":
        return alert.value or None
    if what == "external_url":
        base, graph, _ = alert.generator_url.partition("/graph?")
        return base if graph and base else None
    if what == "generator_url":
        return alert.generator_url or None
    return None


def fill_template(text: str, alert: Alert) -> tuple[str, tuple[str, ...]]:
    """Fill every `{{ ... }}` from the alert. Values go in as one line (newlines become
    spaces). Returns the text and the expressions that could not be filled, which stay as
    written, followed by `⟦unknown⟧`."""
    unknown: dict[str, None] = {}

    def fill(match: re.Match[str]) -> str:
        expression = template_expression(match)
        value = template_value(expression, alert)
        if value is None:
            unknown[expression] = None
            return match.group(0) + UNKNOWN_MARK
        return clean_line(value, 4096)

    return TEMPLATE.sub(fill, text), tuple(unknown)


_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


def fill_outside_commands(markdown: str, alert: Alert) -> tuple[str, tuple[str, ...]]:
    """`fill_template` for display: fills the prose and every code block except shell blocks,
    which keep their templates (`parse_command` fills each command token by token). Unknown
    expressions are reported from the whole text, shell blocks included."""
    out: list[str] = []
    chunk: list[str] = []
    unknown: dict[str, None] = {}

    def flush_prose() -> None:
        if chunk:
            filled, missing = fill_template("\n".join(chunk), alert)
            out.append(filled)
            unknown.update(dict.fromkeys(missing))
            chunk.clear()

    for block, is_shell in _blocks(markdown):
        if is_shell:
            flush_prose()
            out.append(block)
            unknown.update(dict.fromkeys(fill_template(block, alert)[1]))
        else:
            chunk.append(block)
    flush_prose()
    return "\n".join(out), tuple(unknown)


def _blocks(markdown: str) -> list[tuple[str, bool]]:
    """The text cut into runs of lines: (text, is a fenced shell block incl. its fences)."""
    blocks: list[tuple[str, bool]] = []
    lines = markdown.split("\n")
    index = 0
    prose: list[str] = []
    while index < len(lines):
        opened = _FENCE_OPEN.match(lines[index])
        if not opened:
            prose.append(lines[index])
            index += 1
            continue
        fence = opened.group("fence")
        end = index + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        body = lines[index:end + 1]
        language = (opened.group("info").split() or [""])[0].lower()
        if prose:
            blocks.append(("\n".join(prose), False))
            prose = []
        blocks.append(("\n".join(body), language in SHELL_LANGUAGES))
        index = end + 1
    if prose:
        blocks.append(("\n".join(prose), False))
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped[:1] == fence[0] and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def shell_blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """(language, body lines) of every fenced bash/sh/shell/console block, in order."""
    found = []
    for block, is_shell in _blocks(markdown):
        if is_shell:
            lines = block.split("\n")
            opened = _FENCE_OPEN.match(lines[0])
            language = (opened.group("info").split() or [""])[0].lower() if opened else ""
            fence = opened.group("fence") if opened else "```"
            closed = len(lines) > 1 and _closes(lines[-1], fence)
            found.append((language, lines[1:-1] if closed else lines[1:]))
    return found


def _humanize(value: str) -> str:
    number = _number(value)
    if number is None:
        return value
    for size, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= size:
            return f"{number / size:.4g}{prefix}"
    return f"{number:.4g}"


def _humanize_percentage(value: str) -> str:
    number = _number(value)
    return value if number is None else f"{number * 100:.4g}%"


def _humanize_duration(value: str) -> str:
    number = _number(value)
    if number is None:
        return value
    seconds = int(number)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size or parts:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    parts.append(f"{seconds}s")
    return " ".join(parts)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


_PIPES = {
    "humanize": _humanize,
    "humanizePercentage": _humanize_percentage,
    "humanizeDuration": _humanize_duration,
    "toUpper": str.upper,
    "toLower": str.lower,
}


# --------------------------------------------------------------------------- #
# When nothing is found: the generic checklist
# --------------------------------------------------------------------------- #

_RESPONSE = {
    "P1": ("Critical: acknowledge within 15 minutes, then work it until it is resolved or "
           "handed over. Post a status update every 15 minutes.", "30 minutes"),
    "P2": ("High: acknowledge within the hour. Post a status update every 30 minutes.",
           "1 hour"),
    "P3": ("Medium: acknowledge within 4 hours; a fix can wait for business hours.",
           "4 hours"),
    "P4": ("Low: look at it on the next business day; consider whether this alert should "
           "page at all.", "the next business day"),
}


_GATHER = """\
   ```bash
   kubectl get pods -n {{ $labels.namespace }} -o wide
   kubectl get events -n {{ $labels.namespace }} --sort-by=.lastTimestamp | tail -20
   kubectl logs -n {{ $labels.namespace }} -l app.kubernetes.io/name={{ $labels.service }} --tail=100
   kubectl rollout history deployment/{{ $labels.service }} -n {{ $labels.namespace }}
   ```
"""


def generic_checklist(level: str, tried: tuple[str, ...] | list[str] = ()) -> str:
    """The seed handbooks' first-response checklist for a severity level, in Markdown, for an
    alert with no runbook. Its commands are templates (fill them with `parse_command`). With
    `tried`, a list of the places searched follows."""
    intro, escalate_after = _RESPONSE.get(level, (
        f"Level {level or 'unknown'}: acknowledge within its SLA.", "its escalation step"))
    urgent = level in ("P1", "P2")
    announce = " Say in the incident channel that you are responding." if urgent else ""
    updates = ", and post status updates (`u`)" if urgent else ""
    text = "\n".join([
        f"## No runbook: the {level or 'generic'} checklist",
        "",
        intro,
        "",
        "1. **Acknowledge** the alert (`a`), so the escalation ladder stops and the team knows",
        f"   someone is on it.{announce}",
        "2. **Assess the impact.** Is the service down? Are users affected, and how many? Is data",
        "   at risk? Did something change recently (a deployment, a config change)?",
        "3. **Check the dashboards** for this service: error rate, latency, saturation, and the",
        "   graph of the expression that fired (in the detail pane).",
        "4. **Gather information**: what is running, what Kubernetes says, what the logs say:",
        "",
        _GATHER,
        "5. **Mitigate or escalate.** Prefer the smallest reversible step (roll back a bad",
        "   deployment, scale out a saturated service). Escalate to the next person on the ladder",
        f"   if you cannot resolve it within {escalate_after}, if several services are affected,",
        "   if data loss is suspected, or if it looks like a security incident.",
        f"6. **Document** what you saw and did (`n` adds a note to the journal){updates}. Once",
        "   resolved, write the runbook this alert was missing.",
        "",
    ])
    if tried:
        text += "\n" + tried_section(tried)
    return text


def tried_section(tried: tuple[str, ...] | list[str]) -> str:
    """Markdown: the places searched for a runbook, each as code (never as a link)."""
    if not tried:
        return "### Searched for a runbook in\n\n- nowhere: set `runbooks` in the config\n"
    lines = "\n".join(f"- {_code(place)}" for place in tried)
    return f"### Searched for a runbook in\n\n{lines}\n"


def _code(text: str) -> str:
    """Inline code that no backtick in `text` can end early."""
    text = clean_line(text, 500)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"

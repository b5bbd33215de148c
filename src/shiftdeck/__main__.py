"""Command line: `shiftdeck` runs the dashboard; subcommands answer once and exit."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, NoReturn

from .clock import Clock, SystemClock

if TYPE_CHECKING:
    from .config import Config
    from .early import EarlyPoll
    from .sources.poller_process import PollerProcess

EXIT_INTERNAL = 70
"""EX_SOFTWARE: shiftdeck itself failed (a bug): never 0, never the usage code 2."""

JSON_COMMANDS = ("alerts", "silences", "who", "schedule")
"""The subcommands with a JSON output; --json elsewhere is a usage error."""


def no_config_help(default_path: str) -> str:
    return f"""shiftdeck: no configuration found.
  Looked at: --config, $SHIFTDECK_CONFIG, {default_path},
             $ALERTMANAGER_URL, ~/.config/amtool/config.yml (alertmanager.url)
  Write the commented sample there, then edit it:  shiftdeck init
  Or watch one Alertmanager (read-only):  ALERTMANAGER_URL=http://host:9093 shiftdeck
  Or try the built-in demo:  shiftdeck --demo"""


def build_parser() -> argparse.ArgumentParser:
    """Global options work before or after the subcommand (as amtool's and kubectl's do)."""
    parser = argparse.ArgumentParser(prog="shiftdeck", description=__doc__)
    _global_options(parser, argparse.ArgumentParser.add_argument)
    parser.add_argument("--version", action=_VersionAction)
    everywhere = argparse.ArgumentParser(add_help=False)
    _global_options(everywhere, _without_default)
    commands = _Commands(parser.add_subparsers(dest="command"), everywhere)
    alerts = commands.add_parser("alerts", help="print the merged alerts and exit")
    alerts.add_argument("matchers", nargs="*", metavar="MATCHERS",
                        help='which alerts, as amtool takes them: severity=critical '
                        '\'alertname=~"Disk.*"\' namespace!=dev (a bare word is an alertname)')
    alerts.add_argument("--filter", default="", metavar="MATCHERS",
                        help='the same, as one argument: \'severity=~"crit.*" namespace!=dev\'')
    commands.add_parser("init", help="write the commented sample config to "
                        "$XDG_CONFIG_HOME/shiftdeck/config.yaml").add_argument(
        "--force", action="store_true", help="overwrite the file if it exists")
    commands.add_parser("check", help="validate the config and probe every source")

    ack = commands.add_parser("ack", help="acknowledge every current alert matching (an ACK! "
                              "silence on each alert's labels); prints each silence ID")
    ack.add_argument("matchers", nargs="+", metavar="MATCHERS",
                     help='which alerts, e.g. DiskFull or \'namespace=prod severity=~"crit.*"\'')
    ack.add_argument("--note", default="", metavar="TEXT", help="appended to the ACK! comment")

    silence = commands.add_parser("silence", help="silence alerts, within the severity "
                                  "guardrails; prints the silence ID")
    silence.add_argument("matchers", nargs="+", metavar="MATCHERS",
                         help="the silence's matchers (labels only)")
    silence.add_argument("--duration", default="1h", metavar="DURATION",
                         help="how long, e.g. 30m, 4h (default 1h)")
    silence.add_argument("--comment", default="", metavar="TEXT", help="why (required)")
    silence.add_argument("--approver", default="", metavar="NAME",
                         help="who approved it (needed for P1 and protected alerts)")
    silence.add_argument("--start", default="", metavar="TIME",
                         help="+30m, or an ISO time such as 2026-11-22T18:00Z (default now)")
    silence.add_argument("--cluster", default="", metavar="NAME",
                         help="Alertmanager cluster (default: the matching alerts' clusters)")

    silences = commands.add_parser("silences", help="list active, pending and recently "
                                   "expired silences")
    silences.add_argument("matchers", nargs="*", metavar="MATCHERS",
                          help="only silences whose matchers satisfy these, as amtool silence "
                          "query takes them, e.g. alertname=DiskFull")
    silences.add_argument("--expiring", default="", metavar="DURATION",
                          help="only active silences ending within this, e.g. 1h")

    expire = commands.add_parser("expire", help="expire a silence")
    expire.add_argument("silence_id", metavar="ID", help="silence ID (or its first 8+ characters)")
    expire.add_argument("--cluster", default="", metavar="NAME",
                        help="Alertmanager cluster holding it (default: found by ID)")

    who = commands.add_parser("who", help="who is on call for every role, now or --at a time")
    who.add_argument("--at", default="", metavar="TIME",
                     help="ISO 8601, e.g. 2026-11-23T09:00 (in the config's timezone unless it "
                     "has an offset or Z); default now")

    schedule = commands.add_parser("schedule", help="the coming handoffs of every role")
    schedule.add_argument("--weeks", type=_weeks, default=4, metavar="N",
                          help="how far ahead (default 4)")
    schedule.add_argument("--from", dest="start", default="", metavar="TIME",
                          help="start there instead of now (ISO 8601, like --at)")

    handoff = commands.add_parser("handoff", help="the end-of-shift handoff report (Markdown) "
                                  "from the journal, the alerts now and the roster")
    handoff.add_argument("--since", default="7d", metavar="WHEN",
                         help="start of the shift: a duration back from now (7d, 12h) or a "
                         "time such as 2026-11-16T09:00 (default 7d)")
    handoff.add_argument("--out", default="", metavar="FILE",
                         help="write the report to FILE instead of stdout")
    keep = commands.add_parser(
        "keep", help="keep the team's acks without a dashboard: extend them while their alerts "
        "fire, end them when their alerts resolve (runs until SIGTERM)")
    keep.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
    return parser


def _global_options(parser: argparse.ArgumentParser, add: Any) -> None:
    add(parser, "--config", metavar="PATH", help="config file (YAML)")
    add(parser, "--demo", action="store_true", help="run against the embedded demo environment")
    add(parser, "--read-only", action="store_true", help="never write to any source")
    add(parser, "--json", action="store_true",
        help=f"JSON instead of text ({', '.join(JSON_COMMANDS)})")


def _without_default(parser: argparse.ArgumentParser, *names: str, **options: Any) -> None:
    """A global option repeated on a subcommand: absent there, it leaves the global value."""
    parser.add_argument(*names, default=argparse.SUPPRESS, **options)


class _Commands:
    """add_subparsers, every subcommand also taking the global options."""

    def __init__(self, actions: Any, everywhere: argparse.ArgumentParser) -> None:
        self._actions = actions
        self._everywhere = everywhere

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._actions.add_parser(
            name, parents=[self._everywhere], **options)
        return parser


class _VersionAction(argparse.Action):
    """--version, reading the installed version only when asked (importlib.metadata costs
    every other command ~10 ms)."""

    def __init__(self, option_strings: list[str], dest: str, **options: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit",
                         default=argparse.SUPPRESS)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"shiftdeck {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shiftdeck")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Matchers may come after options too (`alerts --json severity=critical DiskFull`):
    argparse leaves those over, and they join the command's matchers. Anything else left over,
    or --json on a command without JSON output, is a usage error (exit 2)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if getattr(args, "matchers", None) is None or any(x.startswith("-") for x in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.matchers += extra
    if args.json and args.command not in JSON_COMMANDS:
        what = f"`shiftdeck {args.command}`" if args.command else "the dashboard"
        parser.error(f"--json: {what} has no JSON output (only {', '.join(JSON_COMMANDS)})")
    return args


def _weeks(text: str) -> int:
    from .cli import MAX_WEEKS

    text = text.strip()
    if not (text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_WEEKS):
        raise argparse.ArgumentTypeError(f"give a number of weeks from 1 to {MAX_WEEKS}")
    return int(text)


def entry() -> NoReturn:
    """The console script. A one-shot command runs without the cyclic garbage collector and
    skips interpreter teardown: at 10k alerts that is ~0.25 s of a ~1 s command (measured), and
    nothing it made needs a cycle collected or a finaliser run (output is flushed here, journal
    records were fsynced when written)."""
    args = parse_args()
    if args.command in (None, "keep"):  # long-running: keep the collector and a clean exit
        sys.exit(run(args))
    gc.disable()
    _skip_unused_imports()
    code = run(args)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


UNUSED_BY_ONE_SHOT_COMMANDS = ("httpx._main", "trio")
"""Imported by `import httpx` when installed, used by no one-shot command: httpx's own command
line client (it brings click, rich and pygments: ~45 ms) and trio (httpcore's other async
backend: ~25 ms; we run on asyncio). Measured on a 2-core machine: docs in bench/cli_bench.py."""


def _skip_unused_imports() -> None:
    """Mark those absent in this process: httpx and httpcore then take their own fallback, as
    when they are not installed (httpx.main() says so; a trio event loop is refused)."""
    for name in UNUSED_BY_ONE_SHOT_COMMANDS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Exit 0 done, 1 failed, 2 usage or config error, 70 a bug in shiftdeck (one line)."""
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `shiftdeck alerts | head`: the reader had enough
        return 141
    except Exception as error:
        print(internal_error(error), file=sys.stderr)
        return EXIT_INTERNAL


def internal_error(error: BaseException) -> str:
    from .domain.sanitize import clean_line

    detail = clean_line(str(error), 200)
    return (f"shiftdeck: internal error: {type(error).__name__}"
            + (f": {detail}" if detail else "") + " (please report)")


def _run(args: argparse.Namespace) -> int:
    from .config import ConfigError

    if args.command == "init":
        from .cli import run_init

        return run_init(os.environ, args.force)
    clock = SystemClock()
    early = _poll_early(args, clock)
    poller = _poller_early(args)
    with ExitStack() as stack:
        try:
            loaded = _load(args, clock, stack)
        except ConfigError as err:
            print(f"shiftdeck: {err}", file=sys.stderr)
            return 2
        if loaded is None:
            return 2
        config, text = loaded
        # A keymap is the dashboard's: `check` and the dashboard refuse a bad one, the
        # one-shot commands (an ack mid-incident) do not.
        if args.command in (None, "check") and _keymap_refused(config, text):
            return 2
        if args.read_only:
            from dataclasses import replace

            config = replace(config, read_only=True)
        return _dispatch(args, config, clock, early, poller)


def _keymap_refused(config: Config, text: str | None) -> bool:
    from .config import keymap_errors

    problems = keymap_errors(config, text)
    for problem in problems:
        print(f"shiftdeck: {problem}", file=sys.stderr)
    return bool(problems)


def _poll_early(args: argparse.Namespace, clock: Clock) -> EarlyPoll | None:
    """`shiftdeck alerts` with a config file polls as soon as its upstreams are read."""
    if args.command != "alerts" or args.demo:
        return None
    from .early import EarlyPoll, read_upstreams

    upstreams = read_upstreams(args.config)
    return EarlyPoll(upstreams, clock) if upstreams else None


def _poller_early(args: argparse.Namespace) -> PollerProcess | None:
    """The dashboard's poller process, started as soon as the config's upstreams are read:
    its first poll is under way while the dashboard imports and starts (~1 s)."""
    if args.command is not None or args.demo:
        return None
    from .early import read_upstreams
    from .sources.poller_process import start_poller

    upstreams = read_upstreams(args.config)
    return start_poller(upstreams) if upstreams is not None else None


def _load(args: argparse.Namespace, clock: Clock,
          stack: ExitStack) -> tuple[Config, str | None] | None:
    """The config and, when it was not read from a file, its text; None (said on stderr)
    when there is none anywhere."""
    from .config import (default_config_path, fallback_config, find_config_path, load_config,
                         load_config_text)

    if args.demo:
        from .demo import DemoEnvironment

        demo = stack.enter_context(DemoEnvironment(clock))
        text = demo.config_text()
        return load_config_text(text, source="(demo)"), text
    path = find_config_path(args.config, os.environ)
    if path is not None:
        return load_config(path), None
    fallback = fallback_config(os.environ)
    if fallback is None:
        print(no_config_help(str(default_config_path(os.environ))), file=sys.stderr)
        return None
    config, note = fallback
    print(f"shiftdeck: {note}", file=sys.stderr)
    return config, None


def _dispatch(args: argparse.Namespace, config: Config, clock: Clock,
              early: EarlyPoll | None = None, poller: PollerProcess | None = None) -> int:
    from . import cli

    if args.command == "alerts":
        return cli.run_alerts(config, clock, " ".join([*args.matchers, args.filter]), args.json,
                              early=early)
    if args.command == "check":
        return cli.run_check(config)
    if args.command == "ack":
        return cli.run_ack(config, clock, " ".join(args.matchers), args.note)
    if args.command == "silence":
        return cli.run_silence(config, clock, " ".join(args.matchers), args.duration,
                               args.comment, args.approver, args.start, args.cluster)
    if args.command == "silences":
        return cli.run_silences(config, clock, args.expiring, args.json, " ".join(args.matchers))
    if args.command == "expire":
        return cli.run_expire(config, clock, args.silence_id, args.cluster)
    if args.command == "who":
        return cli.run_who(config, clock, args.at, args.json)
    if args.command == "schedule":
        return cli.run_schedule(config, clock, args.weeks, args.json, args.start)
    if args.command == "handoff":
        return cli.run_handoff(config, clock, args.since, args.out)
    if args.command == "keep":
        from . import keep
        return keep.run(args, config, clock)
    from .app import ShiftdeckApp
    from .heap import HeapKeeper
    from .sources.poller_process import polled_apart

    heap = HeapKeeper()  # full collections short enough not to hold a key press
    app = ShiftdeckApp(config, clock, sources=polled_apart(config, poller),  # polled apart
                       on_key=heap.key_seen)
    heap.start()
    app.run()
    if app.return_code:  # Textual printed the traceback of what ended it
        print("shiftdeck: internal error: the dashboard stopped (please report the error "
              "above)", file=sys.stderr)
    return app.return_code or 0


if __name__ == "__main__":
    entry()

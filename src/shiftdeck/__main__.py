"""Command line: `shiftdeck` runs the dashboard; subcommands answer once and exit."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, NoReturn

from .clock import Clock, SystemClock

if TYPE_CHECKING:
    from .config import Config

EXIT_INTERNAL = 70
"""EX_SOFTWARE: shiftdeck itself failed (a bug): never 0, never the usage code 2."""

NO_CONFIG = """shiftdeck: no configuration found.
  Looked at: --config, $SHIFTDECK_CONFIG, $XDG_CONFIG_HOME/shiftdeck/config.yaml
  Try the built-in demo:   shiftdeck --demo
  Or start from the sample: cp sample_config.yaml ~/.config/shiftdeck/config.yaml"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shiftdeck", description=__doc__)
    parser.add_argument("--config", metavar="PATH", help="config file (YAML)")
    parser.add_argument("--demo", action="store_true",
                        help="run against the embedded demo environment")
    parser.add_argument("--read-only", action="store_true", help="never write to any source")
    commands = parser.add_subparsers(dest="command")
    alerts = commands.add_parser("alerts", help="print the merged alerts and exit")
    alerts.add_argument("--filter", default="", metavar="MATCHERS",
                        help='e.g. \'severity=~"crit.*" namespace!=dev\'')
    alerts.add_argument("--json", action="store_true", help="JSON instead of text")
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
    silences.add_argument("--expiring", default="", metavar="DURATION",
                          help="only active silences ending within this, e.g. 1h")
    silences.add_argument("--json", action="store_true", help="JSON instead of text")

    expire = commands.add_parser("expire", help="expire a silence")
    expire.add_argument("silence_id", metavar="ID", help="silence ID (or its first 8+ characters)")
    expire.add_argument("--cluster", default="", metavar="NAME",
                        help="Alertmanager cluster holding it (default: found by ID)")

    who = commands.add_parser("who", help="who is on call for every role, now or --at a time")
    who.add_argument("--at", default="", metavar="TIME",
                     help="ISO 8601, e.g. 2026-11-23T09:00 (in the config's timezone unless it "
                     "has an offset or Z); default now")
    who.add_argument("--json", action="store_true", help="JSON instead of text")

    schedule = commands.add_parser("schedule", help="the coming handoffs of every role")
    schedule.add_argument("--weeks", type=_weeks, default=4, metavar="N",
                          help="how far ahead (default 4)")
    schedule.add_argument("--from", dest="start", default="", metavar="TIME",
                          help="start there instead of now (ISO 8601, like --at)")
    schedule.add_argument("--json", action="store_true", help="JSON instead of text")

    handoff = commands.add_parser("handoff", help="the end-of-shift handoff report (Markdown) "
                                  "from the journal, the alerts now and the roster")
    handoff.add_argument("--since", default="7d", metavar="WHEN",
                         help="start of the shift: a duration back from now (7d, 12h) or a "
                         "time such as 2026-11-16T09:00 (default 7d)")
    handoff.add_argument("--out", default="", metavar="FILE",
                         help="write the report to FILE instead of stdout")
    return parser


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
    args = build_parser().parse_args()
    if args.command is None:
        sys.exit(run(args))
    gc.disable()
    code = run(args)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


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
    from .config import ConfigError, find_config_path, load_config, load_config_text

    clock = SystemClock()
    with ExitStack() as stack:
        try:
            if args.demo:
                from .demo import DemoEnvironment

                demo = stack.enter_context(DemoEnvironment(clock))
                config = load_config_text(demo.config_text(), source="(demo)")
            else:
                path = find_config_path(args.config, os.environ)
                if path is None:
                    print(NO_CONFIG, file=sys.stderr)
                    return 2
                config = load_config(path)
        except ConfigError as err:
            print(f"shiftdeck: {err}", file=sys.stderr)
            return 2
        if args.read_only:
            from dataclasses import replace

            config = replace(config, read_only=True)
        return _dispatch(args, config, clock)


def _dispatch(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from . import cli

    if args.command == "alerts":
        return cli.run_alerts(config, clock, args.filter, args.json)
    if args.command == "check":
        return cli.run_check(config)
    if args.command == "ack":
        return cli.run_ack(config, clock, " ".join(args.matchers), args.note)
    if args.command == "silence":
        return cli.run_silence(config, clock, " ".join(args.matchers), args.duration,
                               args.comment, args.approver, args.start, args.cluster)
    if args.command == "silences":
        return cli.run_silences(config, clock, args.expiring, args.json)
    if args.command == "expire":
        return cli.run_expire(config, clock, args.silence_id, args.cluster)
    if args.command == "who":
        return cli.run_who(config, clock, args.at, args.json)
    if args.command == "schedule":
        return cli.run_schedule(config, clock, args.weeks, args.json, args.start)
    if args.command == "handoff":
        return cli.run_handoff(config, clock, args.since, args.out)
    from .app import ShiftdeckApp

    app = ShiftdeckApp(config, clock)
    app.run()
    if app.return_code:  # Textual printed the traceback of what ended it
        print("shiftdeck: internal error: the dashboard stopped (please report the error "
              "above)", file=sys.stderr)
    return app.return_code or 0


if __name__ == "__main__":
    entry()

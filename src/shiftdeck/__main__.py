"""Command line: `shiftdeck` runs the dashboard; subcommands answer once and exit."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack

from .clock import SystemClock

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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


def _dispatch(args: argparse.Namespace, config, clock) -> int:
    from . import cli

    if args.command == "alerts":
        return cli.run_alerts(config, clock, args.filter, args.json)
    if args.command == "check":
        return cli.run_check(config)
    from .app import ShiftdeckApp

    ShiftdeckApp(config, clock).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

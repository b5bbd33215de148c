"""Print the README's performance table (issue 14's figures) from docs/benchmarks.json:

    python3 bench/readme_table.py [--json docs/benchmarks.json]

Paste the output over the table under README's "## Performance".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the README's performance table.")
    parser.add_argument("--json", default=str(BENCH.parent / "docs" / "benchmarks.json"),
                        help="figures written by bench/run.py (default docs/benchmarks.json)")
    args = parser.parse_args(argv)
    try:
        entries = json.loads(Path(args.json).read_text())
    except (OSError, ValueError) as exc:
        print(f"bench/readme_table.py: cannot read {args.json}: {exc}", file=sys.stderr)
        return 2
    print(summary.markdown(entries, readme=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Proof-read the question bank (``make bank-check``); exit 1 if any rule is broken.

Prints one line per problem, or a one-line summary of the bank (key balance per type) when
it passes. The rules are in ``vigie.core.adaptive.bank_check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vigie.core.adaptive import load_bank
from vigie.core.adaptive.bank_check import check, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="a bank folder (default: shipped)")
    args = parser.parse_args(argv)
    problems = check(args.folder)
    for problem in problems:
        print(problem)
    if problems:
        print(f"bank-check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"bank-check: ok, {summary(load_bank(args.folder))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

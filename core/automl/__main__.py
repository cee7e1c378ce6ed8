"""Command line: `python -m core.automl run DATA.csv --target COL [--task ...] [--budget S] --json`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from core.automl.data import TASKS, AutoMLInputError
from core.automl.runner import run_experiment
from core.automl.search import SearchSettings


def main(argv: list[str] | None = None) -> int:
    """Run one experiment on a CSV file and print its summary; exit 2 with a message on bad input."""
    parser = argparse.ArgumentParser(prog="python -m core.automl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="search for the best model on a CSV file and score it on a test part")
    run.add_argument("data", type=Path)
    run.add_argument("--target", required=True)
    run.add_argument("--task", default="auto", choices=["auto", *TASKS])
    run.add_argument("--budget", type=float, default=60.0, help="seconds for the whole run (default 60)")
    run.add_argument("--test-size", type=float, default=0.25)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        frame = _read(args.data)
        settings = SearchSettings(budget_s=args.budget, seed=args.seed)
        experiment = run_experiment(frame, args.target, args.task, settings=settings, test_size=args.test_size)
    except (AutoMLInputError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = experiment.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        for warning in experiment.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for key, value in summary.items():
            print(f"{key:>11}: {value}")
    return 0


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise AutoMLInputError(f"No such file: {path}")
    try:
        return pd.read_csv(path, na_values=["?"], skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise AutoMLInputError(f"{path.name} cannot be read as CSV: {exc}") from exc


if __name__ == "__main__":
    sys.exit(main())

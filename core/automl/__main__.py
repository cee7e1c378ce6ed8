"""Command line: `python -m core.automl run DATA.csv --target COL [--task ...] [--budget S] --json`.

The budget is wall time for the whole process: the run gets what is left of it after start-up (imports, reading the
file), and the JSON reports the budget, the start-up and the process's wall time. Bad input exits 2 with one line
on stderr.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

from core import csvformat
from core.automl.data import TASKS, AutoMLInputError
from core.automl.runner import run_experiment
from core.automl.search import SearchSettings
from core.cli import Parser, bounded, fail
from core.errors import CtasError

MAX_BUDGET_S = 86_400.0
MIN_RUN_S = 0.1
MAX_FILE_BYTES = 200 * 2**20


def main(argv: list[str] | None = None) -> int:
    """Run one experiment on a CSV file and print its summary; exit 2 with a message on bad input."""
    parser = Parser(prog="python -m core.automl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="search for the best model on a CSV file and score it on a test part")
    run.add_argument("data", type=Path)
    run.add_argument("--target", required=True)
    run.add_argument("--task", default="auto", choices=["auto", *TASKS])
    run.add_argument("--budget", type=bounded(float, 1.0, MAX_BUDGET_S), default=60.0,
                     help="wall seconds for the whole process, 1 to 86400 (default 60)")  # fmt: skip
    run.add_argument("--test-size", type=bounded(float, 0.05, 0.95), default=0.25)
    run.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=0)
    run.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    started = psutil.Process().create_time()
    try:
        frame = _read(args.data)
        startup_s = time.time() - started
        settings = SearchSettings(budget_s=max(args.budget - startup_s, MIN_RUN_S), seed=args.seed)
        experiment = run_experiment(frame, args.target, args.task, settings=settings, test_size=args.test_size)
    except (CtasError, ValueError, OSError) as exc:
        return fail(exc)
    summary = {**experiment.summary(), "budget_s": args.budget, "startup_s": round(startup_s, 2),
               "wall_s": round(time.time() - started, 2)}  # fmt: skip
    if args.json:
        print(json.dumps(summary, allow_nan=False))
    else:
        for warning in experiment.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for key, value in summary.items():
            print(f"{key:>11}: {value}")
    return 0


def _read(path: Path) -> pd.DataFrame:
    """The CSV file, in the encodings the warehouse reads (UTF-8, Latin-1, Windows-1252), within its size limit."""
    if not path.is_file():
        raise AutoMLInputError(f"There is no file at {path}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise AutoMLInputError(f"{path.name} is larger than the {MAX_FILE_BYTES // 2**20} MiB limit.")
    encoding = csvformat.scan_file(path).encoding
    try:
        return pd.read_csv(path, na_values=["?"], skipinitialspace=True, encoding=encoding)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise AutoMLInputError(f"{path.name} cannot be read as CSV: {exc}") from exc


if __name__ == "__main__":
    sys.exit(main())

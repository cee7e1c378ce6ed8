"""Command line: `python -m core.fbas analyze NODES.json [...] --json` prints one JSON object (see scan.py);
`compare FOLDER` and `sweep NODES.json --by organization` print the batch analyses' tables as JSON records, run on
the compute cluster CTAS_COMPUTE names (none: in this process).

Bad input exits 2 with one line on stderr; a scan that exceeds --timeout is stopped and exits 3.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

from core import compute
from core.cli import EXIT_TIMEOUT, Parser, bounded, fail, terminal_safe
from core.errors import CtasError
from core.fbas.analysis import SearchLimitError
from core.fbas.batch import GROUPINGS, compare_snapshots, criticality_sweep, snapshots_in_folder
from core.fbas.model import FbasFormatError, loads
from core.fbas.scan import MERGES, faulty_nodes, scan, warm_up

MAX_TIMEOUT_S = 7 * 86_400.0
MAX_STEPS = 10**12
ANALYSIS_SHARE = 0.8  # of --timeout for the analyses; the rest for merging their sets by grouping and printing


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core.fbas", description="Analyse a Stellar-style FBAS.")
    commands = parser.add_subparsers(dest="command", required=True)
    analyze = commands.add_parser("analyze", help="quorum intersection, minimal quorums, top tier, blocking sets")
    analyze.add_argument("nodes", type=Path, help="stellarbeat nodes JSON or python-fbas JSON")
    analyze.add_argument("--organizations", type=Path, help="stellarbeat organizations JSON")
    analyze.add_argument("--merge-by", default="node", help=f"comma-separated groupings: {','.join(MERGES)}")
    analyze.add_argument("--faulty", default="auto", help="auto (non-validating nodes), none, or KEY,KEY,...")
    analyze.add_argument("--missing-qset", choices=["unsatisfiable", "unconstrained"], default="unsatisfiable")
    analyze.add_argument(
        "--stellarbeat-parity", action="store_true", help="drop one-node quorums first, as stellarbeat"
    )
    analyze.add_argument(
        "--max-sets", type=bounded(int, 0, 10**9), default=100, help="sets listed per result (all are counted)"
    )
    analyze.add_argument(
        "--timeout",
        type=bounded(float, 0.001, MAX_TIMEOUT_S),
        default=60.0,
        help="seconds for the whole scan (at most a week): each enumeration gets a share and falls back on its own "
        "when that runs out; a scan still running at the end is stopped",
    )
    analyze.add_argument(
        "--max-steps",
        type=bounded(int, 1, MAX_STEPS),
        help="also cap each enumeration's search steps (default: no cap, only the time; the 2025 Stellar network "
        "needs under 1,000,000)",
    )
    analyze.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    compare = commands.add_parser("compare", help="scan every *nodes*.json in a folder into one table over time")
    compare.add_argument("folder", type=Path, help="a folder of stellarbeat nodes files (organizations files beside)")
    sweep = commands.add_parser("sweep", help="take each group offline in turn and rank the groups by what breaks")
    sweep.add_argument("nodes", type=Path, help="stellarbeat nodes JSON or python-fbas JSON")
    sweep.add_argument("--organizations", type=Path, help="stellarbeat organizations JSON")
    sweep.add_argument("--by", choices=GROUPINGS, default="organization", help="the groups taken offline")
    return parser


def _batch(args: argparse.Namespace) -> int:
    """A batch analysis's table as JSON records."""
    try:
        handle = compute.client()
        if args.command == "compare":
            table = compare_snapshots(snapshots_in_folder(args.folder), handle=handle)
        else:
            organizations = _read(args.organizations) if args.organizations else None
            table = criticality_sweep(loads(_read(args.nodes), organizations), args.by, handle=handle)
    except CtasError as exc:
        return fail(str(exc))
    print(table.to_json(orient="records", date_format="iso"))
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FbasFormatError(f"Cannot read {path}: {exc.strerror}.") from None


def _run(args: argparse.Namespace, answer: Any) -> None:
    """The scan, in the child process; sends ("ok", result) or ("error", message)."""
    try:
        organizations = _read(args.organizations) if args.organizations else None
        fbas = loads(_read(args.nodes), organizations)
        result = scan(
            fbas,
            merges=[m.strip() for m in args.merge_by.split(",") if m.strip()],
            faulty=faulty_nodes(fbas, args.faulty),
            missing_qset=args.missing_qset,
            stellarbeat_parity=args.stellarbeat_parity,
            max_sets=args.max_sets,
            seconds=args.timeout * ANALYSIS_SHARE,
            max_steps=args.max_steps,
        )
        answer.send(("ok", result.to_json()))
    except (FbasFormatError, ValueError, SearchLimitError) as exc:
        answer.send(("error", str(exc)))
    except Exception as exc:  # anything else is a bug: still one clear line, never a traceback
        answer.send(("crash", f"{type(exc).__name__}: {exc}"))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "analyze":
        return _batch(args)
    warm_up()  # start-up, in this process: the forked scan inherits the loaded kernels
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_run, args=(args, send), daemon=True)
    worker.start()
    send.close()  # only the child writes: if it dies, the parent reads end-of-file instead of waiting
    if not receive.poll(args.timeout):
        worker.kill()
        worker.join()
        fail(f"the scan did not finish within {args.timeout:g} s (raise --timeout)")
        return EXIT_TIMEOUT
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "crash", f"the scan process ended with code {worker.exitcode}"
    worker.join()
    if status == "error":
        return fail(payload)
    if status == "crash":
        print(f"internal error: {terminal_safe(payload)}", file=sys.stderr)
        return 1
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())

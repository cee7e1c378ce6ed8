"""Command line: `python -m core.chain table [--json]` (double-spend probabilities and safe depths of the three
models), `monitor BLOCKS [--json]` (majority-attack, burst and run alerts over a Parquet or CSV block file with the
columns height, pool_slug, date), `fees DIR [--json]` (fee-spike episodes in a folder of blockchain.com-style
series). Bad input exits 2 with one line on stderr; nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from core.chain.blocks import read_block_file
from core.chain.fees import blocks_per_day, fee_episodes, read_series_folder
from core.chain.monitor import MajorityMonitor
from core.chain.risk import DEFAULT_RISK, depth_table, probability_table
from core.cli import Parser, bounded, fail, terminal_safe
from core.errors import CtasError

TABLE_SHARES = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45)
WHITEPAPER_ROWS = ((0.1, tuple(range(11))), (0.3, tuple(range(0, 51, 5))))


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _table(args: argparse.Namespace) -> int:
    probabilities = [row for q, depths in WHITEPAPER_ROWS for row in probability_table([q], list(depths))]
    depths = depth_table(list(TABLE_SHARES), args.risk)
    if args.json:
        print(json.dumps({"risk": args.risk, "probabilities": probabilities, "depths": depths}))
        return 0
    print(f"{'q':>5} {'z':>4} {'Nakamoto':>12} {'Rosenfeld':>12} {'closed form':>12}")
    for row in probabilities:
        values = " ".join(f"{row[model]:12.7f}" for model in ("Nakamoto", "Rosenfeld", "closed form"))
        print(f"{row['q']:5.2f} {row['z']:4d} {values}")
    print(f"\nconfirmations for P < {args.risk:g}")
    for row in depths:
        depths = ", ".join(f"{model} {row[model]}" for model in ("Nakamoto", "Rosenfeld", "closed form"))
        print(f"q = {row['q']:.2f}: {depths}")
    return 0


def _monitor(args: argparse.Namespace) -> int:
    blocks = read_block_file(args.blocks)
    alerts = MajorityMonitor().scan(blocks)
    records = [
        {k: v.isoformat() if k == "ts" else _finite(v) for k, v in row.items()}
        for row in alerts.to_dict(orient="records")
    ]
    summary = {
        "blocks": len(blocks),
        "first_height": int(blocks["height"].iloc[0]),
        "last_height": int(blocks["height"].iloc[-1]),
        "majority_alerts": int((alerts["level"] == "majority").sum()),
        "alerts": records,
    }
    if args.json:
        print(json.dumps(summary, allow_nan=False))
    else:
        print(f"{summary['blocks']:,} blocks, {summary['majority_alerts']} majority alerts, {len(records)} in all")
        for row in records:
            print(terminal_safe(f"  {row['height']:>9,} {row['level']:9} {row['pool'] or '-':16} {row['detail']}"))
    return 0


def _fees(args: argparse.Namespace) -> int:
    series = read_series_folder(args.folder)
    blocks = blocks_per_day(read_block_file(args.blocks)["ts"]) if args.blocks else None
    episodes = fee_episodes(series, blocks)
    rows = [
        {k: v.date().isoformat() if isinstance(v, pd.Timestamp) else _finite(v) for k, v in row.items()}
        for row in episodes.to_dict(orient="records")
    ]
    if args.json:
        print(json.dumps({"episodes": rows}, allow_nan=False))
    else:
        for row in rows:
            print(
                f"{row['start']} {row['days']:3d} d  peak {row['peak_day']}  x{row['magnitude'] or float('inf'):.1f}  "
                f"{row['cause']}: {row['why']}"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m core.chain", description="Bitcoin network security: risk, monitor, fee spikes.")
    commands = parser.add_subparsers(dest="command", required=True)
    table = commands.add_parser("table", help="double-spend probabilities and safe depths of the three models")
    table.add_argument("--risk", type=bounded(float, 1e-12, 0.5), default=DEFAULT_RISK, help="accepted risk")
    table.add_argument("--json", action="store_true")
    monitor = commands.add_parser("monitor", help="majority-attack, burst and run alerts over a block file")
    monitor.add_argument("blocks", type=Path, help="Parquet or CSV with height, pool_slug, date")
    monitor.add_argument("--json", action="store_true")
    fees = commands.add_parser("fees", help="fee-spike episodes in a folder of blockchain.com-style series")
    fees.add_argument("folder", type=Path)
    fees.add_argument("--blocks", type=Path, help="a block file covering the days: blocks per day join the causes")
    fees.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        return {"table": _table, "monitor": _monitor, "fees": _fees}[args.command](args)
    except CtasError as exc:
        return fail(exc)


if __name__ == "__main__":
    sys.exit(main())

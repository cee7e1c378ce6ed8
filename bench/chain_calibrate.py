"""Choose the burst and run tests' thresholds of `core.chain.monitor` on the real tails, one JSON line a figure.

    python bench/chain_calibrate.py

Procedure (its result is fixed in core/chain/monitor.py as BURST_BLOCKS, BURST_ALPHA and RUN_ALPHA):
1. Fit on the 2021–2022 blocks of ../shared/data/bitcoin/pools, hold out 2023–2024.
2. Burst length n from {6, 12, 24}: the one whose real alarm rate at alpha = 1e-3 is closest (in log ratio) to the
   rate the gamma tail promises, so its alpha means what it says.
3. For each test, alpha = the largest of 1e-3 … 1e-7 whose real alarm rate on 2021–2022 is at most one a year.
4. The held-out 2023–2024 rate of the chosen settings is printed beside the fitted one.

The fee-episode rule is not tuned: Hampel's customary cut-off (3 scaled MADs) and one quiet day inside an episode
were fixed before looking at the named spike days. The last lines show how the episode count and the named days
found move around those choices, so the shipped values can be judged.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.chain.blocks import read_block_file
from core.chain.fees import HAMPEL_K, MERGE_GAP_DAYS, fee_episodes, read_series_folder
from core.chain.monitor import BLOCKS_PER_YEAR, MajorityMonitor

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitcoin"
BLOCKS = SHARED / "pools" / "blocks_2021_2024.parquet"
NAMED_DAYS = ("2023-05-08", "2023-12-16", "2023-12-17", "2024-04-20")
ALPHAS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
BURST_LENGTHS = (6, 12, 24)
TARGET_PER_YEAR = 1.0


def rate_per_year(table, alpha: float, years: tuple[int, ...]) -> float:
    """Alarming blocks (p < alpha) a year over `years`."""
    chosen = np.isin(table["year"], years)
    return float((table["p_value"][chosen] < alpha).sum()) / len(years)


def main() -> None:
    blocks = read_block_file(BLOCKS)
    years = blocks.set_index("height")["ts"].dt.year
    fit, held_out = (2021, 2022), (2023, 2024)
    best_length, best_error = None, math.inf
    tables = {}
    for length in BURST_LENGTHS:
        table = MajorityMonitor(burst_blocks=length).bursts(blocks)
        table["year"] = years.loc[table["height"]].to_numpy()
        tables[length] = table
        error = abs(math.log(max(rate_per_year(table, 1e-3, fit), 0.1) / (1e-3 * BLOCKS_PER_YEAR)))
        print(json.dumps({"figure": "burst calibration error", "blocks": length, "log_ratio": round(error, 3)}))
        if error < best_error:
            best_length, best_error = length, error
    runs = MajorityMonitor().runs(blocks)
    runs["year"] = years.loc[runs["height"]].to_numpy()
    for name, table in (("burst", tables[best_length]), ("run", runs)):
        chosen = next((a for a in ALPHAS if rate_per_year(table, a, fit) <= TARGET_PER_YEAR), ALPHAS[-1])
        print(
            json.dumps(
                {
                    "figure": f"{name} threshold",
                    "blocks": best_length if name == "burst" else None,
                    "alpha": chosen,
                    "promised_per_year": chosen * BLOCKS_PER_YEAR,
                    "fit_2021_2022_per_year": rate_per_year(table, chosen, fit),
                    "held_out_2023_2024_per_year": rate_per_year(table, chosen, held_out),
                }
            )
        )


def fee_sensitivity() -> None:
    """Episodes a year and named days found around the shipped fee-rule settings."""
    series = read_series_folder(SHARED / "blockchain_com_daily_2023_2024")
    fees = series["transaction-fees"]
    years = ((fees.index[-1] - fees.index[0]).days + 1) / 365.25
    for k in (2.5, 3.0, 3.5, 4.0):
        for gap in (0, 1, 2):
            episodes = fee_episodes(series, hampel_k=k, merge_gap_days=gap)
            found = sum(
                ((episodes["start"] <= d) & (d <= episodes["end"])).any() for d in map(pd.Timestamp, NAMED_DAYS)
            )
            figure = {"figure": "fee rule sensitivity", "hampel_k": k, "merge_gap_days": gap,
                      "shipped": k == HAMPEL_K and gap == MERGE_GAP_DAYS,
                      "episodes_per_year": round(len(episodes) / years, 1), "named_days_found": int(found)}  # fmt: skip
            print(json.dumps(figure))


if __name__ == "__main__":
    main()
    fee_sensitivity()

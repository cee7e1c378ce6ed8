"""The block sets and series the Bitcoin network page offers before anything is uploaded: the shared data beside
the checkout when it is there, and the samples shipped in data/chain always."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "bitcoin"
SHIPPED = REPO / "data" / "chain"


def built_in_blocks() -> dict[str, Path]:
    """Name to file of each built-in block set."""
    found = {}
    shared = SHARED / "pools" / "blocks_2021_2024.parquet"
    if shared.is_file():
        found["shared: all blocks 2021–2024"] = shared
    found["sample: blocks of 2024"] = SHIPPED / "blocks_2024.parquet"
    return found


def built_in_series() -> dict[str, Path]:
    """Name to folder of each built-in set of daily series."""
    shared = SHARED / "blockchain_com_daily_2023_2024"
    if (shared / "transaction-fees.csv").is_file():
        return {"shared: blockchain.com daily, 2023-04-30 to 2024-04-27": shared}
    return {"sample: blockchain.com daily, 2023-04-30 to 2024-04-27": SHIPPED}

"""The shared blocks and daily series, read once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.chain.blocks import read_block_file
from core.chain.fees import read_series_folder


@pytest.fixture(scope="session")
def blocks(shared_data: Path) -> pd.DataFrame:
    return read_block_file(shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet")


@pytest.fixture(scope="session")
def series(shared_data: Path) -> dict[str, pd.Series]:
    return read_series_folder(shared_data / "bitcoin" / "blockchain_com_daily_2023_2024")

"""Blocks with their mining pool: reading a Parquet or CSV file, checking it, and block intervals that stay safe
when miners' timestamps go backwards.

A block table has `height` (consecutive, increasing), `pool` (a known pool's slug, or `unknown` for a block no pool
was attributed) and `ts` (the header time, UTC). Header times are set by miners and are not monotonic, but Bitcoin's
consensus rule makes every block's time later than the median of the 11 before it; a file that breaks that rule is
not a chain of real blocks and is refused.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import CtasError

POOLS_FILE = Path(__file__).resolve().parents[2] / "data" / "chain" / "pools.json"
UNKNOWN = "unknown"
REQUIRED_COLUMNS = ("height", "pool_slug", "date")
MAX_FILE_BYTES = 64 * 2**20
MAX_BLOCKS = 2_000_000
MEDIAN_TIME_SPAN = 11
MAX_COLUMNS = 64
MAX_HEADER_CHARS = 64 * 1024
FIRST_BLOCK = pd.Timestamp("2009-01-03", tz="UTC")
LAST_BLOCK = pd.Timestamp("2200-01-01", tz="UTC")


class ChainInputError(CtasError, ValueError):
    """A block or series file CTAS refuses; the message says what is wrong and where."""


@cache
def pool_names() -> dict[str, str]:
    """Every known pool: slug to display name (from the mining-pools list shipped in data/chain)."""
    return json.loads(POOLS_FILE.read_text(encoding="utf-8"))["names"]


@cache
def pool_aliases() -> dict[str, str]:
    """Older or alternative slugs and the slug they stand for."""
    return json.loads(POOLS_FILE.read_text(encoding="utf-8"))["aliases"]


def pool_label(slug: str) -> str:
    """A pool's display name ("unknown" for unattributed blocks)."""
    return pool_names().get(slug, slug)


def header_fields(text: str, name: str, max_fields: int) -> list[str]:
    """The fields of a CSV text's first line, refused when that line or its field count is over the bound: checked
    before anything is parsed."""
    end = text.find("\n", 0, MAX_HEADER_CHARS + 1)
    if end < 0 and len(text) > MAX_HEADER_CHARS:
        raise ChainInputError(f"{name}'s first line is longer than {MAX_HEADER_CHARS:,} characters.")
    try:
        fields = next(csv.reader([text[: end if end >= 0 else len(text)].rstrip("\r")]), [])
    except csv.Error:
        raise ChainInputError(f"{name}'s first line is not a CSV header (a stray line break or quote).") from None
    if len(fields) > max_fields:
        raise ChainInputError(f"{name} has {len(fields):,} columns; at most {max_fields} are read.")
    return fields


def _missing(found: list[str], name: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        shown = ", ".join(map(str, found[:8])) or "none"
        raise ChainInputError(f"{name} lacks the column(s) {', '.join(missing)}; it has {shown}.")


def read_table(data: bytes, name: str) -> pd.DataFrame:
    """The block columns of a Parquet or CSV file as read; sizes, rows and columns are bounded before parsing."""
    if len(data) > MAX_FILE_BYTES:
        raise ChainInputError(f"{name} is {len(data) / 2**20:,.1f} MiB; at most {MAX_FILE_BYTES // 2**20} MiB is read.")
    if data[:4] == b"PAR1":
        try:
            parquet = pq.ParquetFile(io.BytesIO(data))
            rows, found = parquet.metadata.num_rows, parquet.schema_arrow.names
        except (pa.ArrowException, OSError, ValueError):
            raise ChainInputError(f"{name} is not a readable Parquet file.") from None
        if rows > MAX_BLOCKS:
            raise ChainInputError(f"{name} has {rows:,} rows; at most {MAX_BLOCKS:,} are read.")
        _missing(found, name)
        try:
            return parquet.read(columns=list(REQUIRED_COLUMNS)).to_pandas()
        except (pa.ArrowException, OSError, ValueError):
            raise ChainInputError(f"{name} is not a readable Parquet file.") from None
    if b"\x00" in data[:4096]:
        raise ChainInputError(f"{name} is neither a Parquet file nor a CSV text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ChainInputError(f"{name} is not UTF-8 text.") from None
    _missing(header_fields(text, name, MAX_COLUMNS), name)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_BLOCKS + 1,
                           usecols=list(REQUIRED_COLUMNS), index_col=False)  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError):
        raise ChainInputError(
            f"{name} is not a readable CSV file (rows of different lengths or broken quotes)."
        ) from None


def read_blocks(data: bytes, name: str) -> pd.DataFrame:
    """A checked block table from the bytes of a Parquet or CSV file with the columns height, pool_slug, date."""
    return validate_blocks(read_table(data, name), name)


def read_block_file(path: Path) -> pd.DataFrame:
    """A checked block table from a file on disk (a regular file, bounded in size)."""
    if not path.is_file():
        raise ChainInputError(f"{path} is not a readable file.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ChainInputError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    return read_blocks(path.read_bytes(), str(path))


def _where(heights: np.ndarray, index: int) -> str:
    return f"row {index + 2:,}" if index >= len(heights) else f"row {index + 2:,} (height {heights[index]:,})"


def validate_blocks(raw: pd.DataFrame, name: str = "the block file") -> pd.DataFrame:
    """The block table (height, pool, ts) of raw rows, or a ChainInputError naming the first problem."""
    _missing([str(c) for c in raw.columns], name)
    try:
        return _validated(raw, name)
    except ChainInputError:
        raise
    except (TypeError, ValueError, UnicodeError, OverflowError, pa.ArrowException):
        raise ChainInputError(f"{name}: a column holds values of a kind that cannot be read as blocks.") from None


def _validated(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    if raw.empty:
        raise ChainInputError(f"{name} has no blocks.")
    if len(raw) > MAX_BLOCKS:
        raise ChainInputError(f"{name} has more than {MAX_BLOCKS:,} blocks.")
    heights = pd.to_numeric(raw["height"].astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(heights) | (heights != np.floor(heights)) | (heights < 0) | (heights > 1e8))
    if len(bad):
        value = str(raw["height"].iloc[bad[0]])[:40]
        raise ChainInputError(f"{name}: height {value!r} at row {bad[0] + 2:,} is not a block height.")
    heights = heights.astype(np.int64)
    steps = np.diff(heights)
    if len(steps) and (steps != 1).any():
        at = int(np.flatnonzero(steps != 1)[0]) + 1
        what = "repeats it" if steps[at - 1] == 0 else "is lower" if steps[at - 1] < 0 else "leaves a gap"
        raise ChainInputError(
            f"{name}: heights must be consecutive and increasing, but {_where(heights, at)} follows height "
            f"{heights[at - 1]:,} and {what}; sort the file, remove duplicates and fill gaps."
        )
    pools = _pools(raw["pool_slug"], heights, name)
    if (pools == UNKNOWN).all():
        raise ChainInputError(f"{name}: no block is attributed to a pool, so there is nothing to measure.")
    ts = _times(raw["date"], heights, name)
    return pd.DataFrame({"height": heights, "pool": pools, "ts": ts})


def _pools(column: pd.Series, heights: np.ndarray, name: str) -> np.ndarray:
    known = pool_names()
    aliases = pool_aliases()
    slugs = column.astype(str).str.strip().str.lower().map(lambda s: aliases.get(s, s))
    slugs = slugs.where(~column.isna(), "")
    unknown = ~slugs.isin(set(known) | {UNKNOWN})
    if unknown.any():
        at = int(np.flatnonzero(unknown.to_numpy())[0])
        value = str(column.iloc[at])[:40]
        raise ChainInputError(
            f"{name}: pool {value!r} at {_where(heights, at)} is not in the mining-pools list; write the slug of a "
            f"known pool, or {UNKNOWN!r} for a block no pool was attributed."
        )
    return slugs.to_numpy(dtype=object)


def _times(column: pd.Series, heights: np.ndarray, name: str) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        ts = column.dt.tz_localize("UTC") if column.dt.tz is None else column.dt.tz_convert("UTC")
    else:
        ts = pd.to_datetime(column.astype(str).str.strip(), errors="coerce", utc=True, format="mixed")
    bad = ts.isna() | (ts < FIRST_BLOCK) | (ts > LAST_BLOCK)
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        raise ChainInputError(
            f"{name}: date {str(column.iloc[at])[:40]!r} at {_where(heights, at)} is not a time between the genesis "
            "block (2009-01-03) and 2200."
        )
    seconds = _seconds(ts)
    early = np.flatnonzero(~after_median_time(seconds))
    if len(early):
        raise ChainInputError(
            f"{name}: the block at {_where(heights, int(early[0]))} is dated no later than the median of the "
            f"{MEDIAN_TIME_SPAN} blocks before it, which Bitcoin's consensus rules forbid: the rows are out of "
            "order or their times are wrong."
        )
    return ts.dt.tz_localize(None).astype("datetime64[us]").to_numpy()


def _seconds(ts: pd.Series) -> np.ndarray:
    return ts.dt.tz_localize(None).astype("datetime64[s]").astype("int64").to_numpy()


def after_median_time(seconds: np.ndarray) -> np.ndarray:
    """For each block, whether its time is later than the median of the 11 blocks before it (True for the first 11,
    which have fewer before them in the file)."""
    ok = np.ones(len(seconds), dtype=bool)
    if len(seconds) > MEDIAN_TIME_SPAN:
        windows = np.lib.stride_tricks.sliding_window_view(seconds[:-1], MEDIAN_TIME_SPAN)
        ok[MEDIAN_TIME_SPAN:] = seconds[MEDIAN_TIME_SPAN:] > np.median(windows, axis=1)
    return ok


def block_seconds(blocks: pd.DataFrame) -> np.ndarray:
    """Header times of a block table in Unix seconds (float)."""
    return blocks["ts"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6


def safe_intervals(seconds: np.ndarray) -> np.ndarray:
    """Seconds between consecutive blocks, measured on the running maximum of the header times: never negative (a
    block dated before its predecessor counts as found at once, and the time it "lost" is not counted twice). The
    first block has NaN."""
    clock = np.maximum.accumulate(np.asarray(seconds, dtype=float))
    return np.concatenate([[np.nan], np.diff(clock)])

"""Reading block files: the shared blocks pass; every kind of bad file is refused with one message; intervals are
never negative."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.chain.blocks import ChainInputError, block_seconds, read_blocks, safe_intervals


@pytest.fixture(scope="module")
def good_csv(shared_data: Path) -> str:
    raw = pd.read_parquet(shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet").iloc[:300]
    return raw.to_csv(index=False)


def test_the_blocks_are_read_whole(blocks: pd.DataFrame) -> None:
    assert len(blocks) == 213_196
    assert blocks["height"].iloc[[0, -1]].tolist() == [664_063, 877_258]
    assert (blocks["pool"] == "unknown").sum() == 8_414
    assert blocks["pool"].nunique() == 52


def test_intervals_are_never_negative_though_stamps_go_back(blocks: pd.DataFrame) -> None:
    stamps = block_seconds(blocks)
    blocks_dated_before_their_predecessor = int((np.diff(stamps) < 0).sum())
    assert blocks_dated_before_their_predecessor == 561  # the count the data's README gives
    intervals = safe_intervals(stamps)
    assert np.isnan(intervals[0]) and (intervals[1:] >= 0).all()
    assert intervals[1:].sum() == stamps.max() - stamps[0]


def _mutate(text: str, how: str) -> str:
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    if how == "unsorted":
        rows[10], rows[11] = rows[11], rows[10]
    elif how == "duplicate":
        rows.insert(20, rows[20])
    elif how == "gap":
        del rows[30]
    elif how == "nan height":
        rows[5] = "NaN" + rows[5][rows[5].index(",") :]
    elif how == "unknown pool":
        rows[7] = rows[7].replace(rows[7].split(",")[1], "notapool", 1)
    elif how == "bad date":
        rows[9] = ",".join([*rows[9].split(",")[:2], "yesterday"])
    elif how == "before the median time":
        parts = rows[50].split(",")
        rows[50] = ",".join([*parts[:2], "2021-01-01 00:00:00+00:00"])
    elif how == "wrong columns":
        header = header.replace("pool_slug", "miner")
    return "\n".join([header, *rows])


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("unsorted", "consecutive and increasing"),
        ("duplicate", "repeats it"),
        ("gap", "leaves a gap"),
        ("nan height", "not a block height"),
        ("unknown pool", "not in the mining-pools list"),
        ("bad date", "is not a time"),
        ("before the median time", "median of the 11 blocks before it"),
        ("wrong columns", "lacks the column(s) pool_slug"),
    ],
)
def test_each_kind_of_bad_block_file_gets_one_clear_message(good_csv: str, how: str, message: str) -> None:
    with pytest.raises(ChainInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_blocks(_mutate(good_csv, how).encode(), "blocks.csv")
    assert "\n" not in caught.value.message


def test_parquet_and_csv_read_the_same(good_csv: str) -> None:
    frame = pd.read_csv(io.StringIO(good_csv))
    frame["date"] = pd.to_datetime(frame["date"])
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    from_parquet = read_blocks(buffer.getvalue(), "b.parquet")
    pd.testing.assert_frame_equal(from_parquet, read_blocks(good_csv.encode(), "b.csv"))


@pytest.mark.parametrize("data", [b"", b"\x00\x01binary", b"PAR1garbage", b"height,pool_slug,date\n", b"\xff\xfe\xfa"])
def test_empty_binary_and_broken_files_are_refused(data: bytes) -> None:
    with pytest.raises(ChainInputError):
        read_blocks(data, "upload")


def test_a_wide_header_is_refused_before_the_rows_are_parsed() -> None:
    header = ",".join(f"c{i}" for i in range(1_000))
    with pytest.raises(ChainInputError, match="at most 64 are read"):
        read_blocks((header + "\n" + "1," * 1_000).encode(), "wide.csv")
    with pytest.raises(ChainInputError, match="first line is longer"):
        read_blocks((",".join(f"c{i}" for i in range(100_000)) + "\n").encode(), "long.csv")


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_a_parquet_file_is_bounded_by_its_metadata_and_typed_on_read() -> None:
    many = pa.table({"height": pa.array(np.zeros(2_000_001, np.int64)), "pool_slug": ["antpool"] * 2_000_001,
                     "date": ["2024-01-01"] * 2_000_001})  # fmt: skip
    with pytest.raises(ChainInputError, match="at most 2,000,000"):
        read_blocks(_parquet(many), "many.parquet")
    binary = pa.table({"height": [1, 2], "pool_slug": pa.array([b"\xff\xfe", b"antpool"], pa.binary()),
                       "date": ["2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z"]})  # fmt: skip
    with pytest.raises(ChainInputError):
        read_blocks(_parquet(binary), "binary.parquet")
    with pytest.raises(ChainInputError, match="lacks the column"):
        read_blocks(_parquet(pa.table({"height": [1]})), "narrow.parquet")


def test_blocks_no_pool_was_attributed_to_are_refused(good_csv: str) -> None:
    lines = good_csv.splitlines()
    unknown = [lines[0]] + [",".join([r.split(",")[0], "unknown", r.split(",")[2]]) for r in lines[1:]]
    with pytest.raises(ChainInputError, match="no block is attributed"):
        read_blocks("\n".join(unknown).encode(), "unknown.csv")


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(ChainInputError, match="at most 64 MiB"):
        read_blocks(b"x" * (64 * 2**20 + 1), "big.csv")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.data())
def test_any_edit_of_a_good_file_is_read_or_refused_cleanly(good_csv: str, data: st.DataObject) -> None:
    chars = list(good_csv)
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(chars) - 1))
        chars[at] = data.draw(st.sampled_from(list("0123456789,-:x\n\"' ")))
    try:
        blocks = read_blocks("".join(chars).encode(), "edited.csv")
    except ChainInputError:
        return
    assert (np.diff(blocks["height"].to_numpy()) == 1).all()


def test_a_header_broken_by_a_carriage_return_is_refused() -> None:
    with pytest.raises(ChainInputError, match="not a CSV header"):
        read_blocks(b"height,pool\rslug,date\n1,antpool,2024-01-01\n", "cr.csv")

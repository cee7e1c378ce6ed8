"""Property and fuzz tests of CSV ingest: what goes in reads back equal, and garbage never escapes as a crash."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.csvformat import clean_column_names
from core.warehouse import IngestError, Warehouse
from tests.core.warehouse.test_warehouse import state

# Text that DuckDB cannot mistake for a number, date or boolean: it always starts with a letter "s".
# Real Latin-1 text has no C1 controls (bytes 0x80-0x9F): files that hold those bytes read as Windows-1252.
LATIN1_TEXT = st.text(alphabet=[chr(c) for c in [*range(32, 127), *range(160, 256)]])
CP1252_TEXT = st.text(alphabet=sorted(set(bytes(range(32, 256)).decode("cp1252", errors="ignore")) - {"\x7f"}))
UNICODE_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from("\n\t"))
NUMBER_LIKE = st.sampled_from(["007", "1e5", "-0", "2020-01-01", "12:30:00", "true", "NaN", "1,5", " 42 "])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, str, str]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]))
    text = {"latin-1": LATIN1_TEXT, "cp1252": CP1252_TEXT}.get(encoding, UNICODE_TEXT)
    rows = draw(st.integers(min_value=1, max_value=25))
    # At least two columns: a one-column file has no delimiter to detect.
    kinds = draw(st.lists(st.sampled_from(["int", "float", "text", "mixed"]), min_size=2, max_size=6))
    names = draw(
        st.lists(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10),
            min_size=len(kinds),
            max_size=len(kinds),
            unique=True,
        )
    )
    columns = {}
    for name, kind in zip(names, kinds, strict=True):
        if kind == "int":
            values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows, max_size=rows))
        elif kind == "float":
            values = draw(
                st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=rows, max_size=rows)
            )
        elif kind == "text":
            values = ["s" + v for v in draw(st.lists(text, min_size=rows, max_size=rows))]
        else:  # text that looks like numbers, dates or booleans, or is empty, after one plain-text first value
            values = ["s" + draw(text), *draw(st.lists(NUMBER_LIKE | st.none(), min_size=rows - 1, max_size=rows - 1))]
        columns[name] = values
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    return pd.DataFrame(columns), delimiter, encoding


@SETTINGS
@given(case=tables())
def test_ingested_csv_reads_back_equal(tmp_path_factory, case: tuple[pd.DataFrame, str, str]) -> None:
    frame, delimiter, encoding = case
    folder = tmp_path_factory.mktemp("roundtrip")
    path = folder / "table.csv"
    frame.to_csv(path, index=False, sep=delimiter, encoding=encoding, lineterminator="\n")
    wh = Warehouse(folder / "w.duckdb")
    try:
        info = wh.ingest_csv(path, "t")
        stored = wh.read_dataset("t")
    finally:
        wh.close()
    assert info.rows == len(frame)
    assert info.delimiter == delimiter
    assert list(stored.columns) == clean_column_names(list(frame.columns))
    for name in frame.columns:
        for got, want in zip(stored[name].tolist(), frame[name].tolist(), strict=True):
            assert got == want or (pd.isna(want) and pd.isna(got)), (name, got, want)


@SETTINGS
@given(content=st.binary(max_size=2048) | st.text(max_size=400).map(str.encode))
def test_any_bytes_are_ingested_or_refused_cleanly(tmp_path: Path, content: bytes) -> None:
    wh = Warehouse(":memory:")
    before = state(wh)
    try:
        preview = wh.preview_csv(content)
    except IngestError:
        preview = None
    assert state(wh) == before
    try:
        info = wh.ingest_csv(content, "fuzz", on_bad_rows="skip")
    except IngestError as exc:
        assert str(exc)
        assert state(wh) == before
    else:
        assert info.rows == len(wh.read_dataset("fuzz")) > 0
        assert preview is not None
    finally:
        wh.close()

"""The warehouse: the catalogue, CSV ingest (all or nothing), concurrency and locking."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from core.warehouse import (
    ENV_VAR,
    DatasetNotFoundError,
    IngestError,
    IngestLimits,
    Warehouse,
    dataset_table,
    open_warehouse,
    resolve_path,
)
from tests.conftest import REPO


def state(wh: Warehouse) -> tuple:
    """Everything an ingest could change: tables, catalogue rows, meta rows."""
    tables = wh.query("SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL")
    catalogue = wh.query("SELECT * FROM dataset_catalogue ORDER BY name")
    meta = wh.query("SELECT * FROM meta ORDER BY key")
    return (tables.to_csv(), catalogue.to_csv(), meta.to_csv())


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- location and connections ---------------------------------------------------------------------------------
def test_path_comes_from_argument_then_environment_then_default(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_path() == str(REPO / "data" / "ctas.duckdb")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env.duckdb"))
    assert resolve_path() == str(tmp_path / "env.duckdb")
    assert resolve_path(tmp_path / "arg.duckdb") == str(tmp_path / "arg.duckdb")
    assert resolve_path(":memory:") == ":memory:"


def test_open_warehouse_shares_one_connection_per_file(tmp_path: Path) -> None:
    first = open_warehouse(tmp_path / "shared.duckdb")
    assert open_warehouse(str(tmp_path / "shared.duckdb")) is first
    first.close()
    assert open_warehouse(tmp_path / "shared.duckdb") is not first


def test_second_process_gets_a_clear_lock_message(warehouse: Warehouse) -> None:
    script = (
        "import sys\n"
        "from core.warehouse import Warehouse, WarehouseLockedError\n"
        "try:\n"
        f"    Warehouse({warehouse.path!r})\n"
        "except WarehouseLockedError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 3, result.stderr
    assert "is open in another process" in result.stdout
    assert f"PID {os.getpid()}" in result.stdout
    assert "Traceback" not in result.stderr


# -- ingest: real data ---------------------------------------------------------------------------------------------
def test_ingest_real_csv_matches_an_independent_reader(warehouse: Warehouse, shared_data: Path) -> None:
    source = shared_data / "automl" / "adult.csv"
    info = warehouse.ingest_csv(source, "adult")
    expected = pd.read_csv(source)
    assert info.rows == len(expected) == 32_561
    assert [c.name for c in info.columns] == list(expected.columns)
    stored = warehouse.read_dataset("adult")
    assert stored.isna().sum().to_dict() == expected.isna().sum().to_dict()
    assert stored["workclass"].isna().sum() > 0  # the real missing values survived as NULL
    assert (stored["age"].to_numpy() == expected["age"].to_numpy()).all()
    assert info.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert warehouse.dataset("adult") == info
    assert [d.name for d in warehouse.list_datasets()] == ["adult"]


def test_profile_counts_non_null_values_exactly(warehouse: Warehouse, shared_data: Path) -> None:
    warehouse.ingest_csv(shared_data / "automl" / "adult.csv", "adult")
    profile = warehouse.profile_dataset("adult").set_index("column")
    expected = pd.read_csv(shared_data / "automl" / "adult.csv").notna().sum()
    assert profile["non_null"].to_dict() == expected.to_dict()
    assert profile.loc["age", "type"] == "BIGINT"


# -- ingest: dialects and encodings --------------------------------------------------------------------------------
@pytest.mark.parametrize(("delimiter", "label"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiters_are_detected(warehouse: Warehouse, tmp_path: Path, delimiter: str, label: str) -> None:
    rows = [["host", "port", "note"], ["a", "22", "x, y; z | w"], ["b", "443", "plain"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    info = warehouse.ingest_csv(write(tmp_path / f"{label}.csv", buffer.getvalue()), label)
    assert info.delimiter == delimiter
    frame = warehouse.read_dataset(label)
    assert list(frame.columns) == ["host", "port", "note"]
    assert frame["note"].tolist() == ["x, y; z | w", "plain"]
    assert frame["port"].tolist() == [22, 443]


def test_quoted_fields_keep_delimiters_quotes_and_newlines(warehouse: Warehouse, tmp_path: Path) -> None:
    text = 'id,message\n1,"hello, ""world"""\n2,"line one\nline two"\n3,plain\n'
    warehouse.ingest_csv(write(tmp_path / "q.csv", text), "quoted")
    assert warehouse.read_dataset("quoted")["message"].tolist() == ['hello, "world"', "line one\nline two", "plain"]


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("latin-1", "latin-1"), ("cp1252", "windows-1252")],
)
def test_encodings_are_detected_and_text_reads_back(
    warehouse: Warehouse, tmp_path: Path, encoding: str, label: str
) -> None:
    city = "Zürich €uro “quoted”" if encoding in ("utf-8", "utf-8-sig", "cp1252") else "Zürich Straße"
    path = write(tmp_path / "enc.csv", f"nom;ville\nJosé;{city}\n", encoding)
    info = warehouse.ingest_csv(path, "enc")
    assert info.encoding == label
    frame = warehouse.read_dataset("enc")
    assert list(frame.columns) == ["nom", "ville"]  # no BOM left in the first name
    assert frame.iloc[0].tolist() == ["José", city]


def test_file_that_is_utf8_at_first_and_latin1_later_is_read_as_latin1(warehouse: Warehouse, tmp_path: Path) -> None:
    lines = ["id,city"] + [f"{i},Paris" for i in range(40_000)] + ["40000,Köln"]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n", "latin-1")
    info = warehouse.ingest_csv(path, "late")
    assert info.encoding == "latin-1"
    assert info.rows == 40_001
    assert warehouse.read_dataset("late")["city"].iloc[-1] == "Köln"


def test_utf16_is_refused_with_advice(warehouse: Warehouse, tmp_path: Path) -> None:
    before = state(warehouse)
    with pytest.raises(IngestError, match="UTF-16"):
        warehouse.ingest_csv(write(tmp_path / "u16.csv", "a,b\n1,2\n", "utf-16"), "u16")
    assert state(warehouse) == before


def test_file_without_header_gets_numbered_columns(warehouse: Warehouse, tmp_path: Path) -> None:
    info = warehouse.ingest_csv(write(tmp_path / "nh.csv", "1,2.5,x\n3,4.5,y\n"), "nh")
    assert not info.has_header
    assert [c.name for c in info.columns] == ["column_1", "column_2", "column_3"]
    assert info.rows == 2


def test_header_choice_overrides_detection(warehouse: Warehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", "a,b\nc,d\n")
    info = warehouse.ingest_csv(path, "as_data", header=False)
    assert info.rows == 2
    info = warehouse.ingest_csv(path, "as_header", header=True)
    assert info.rows == 1
    assert [c.name for c in info.columns] == ["a", "b"]


def test_late_value_that_breaks_the_sniffed_type_widens_the_column(warehouse: Warehouse, tmp_path: Path) -> None:
    lines = ["id,v"] + [f"{i},{i * 2}" for i in range(50_000)] + ["oops,3"]
    info = warehouse.ingest_csv(write(tmp_path / "late_type.csv", "\n".join(lines) + "\n"), "late_type")
    assert info.rows == 50_001
    assert info.skipped_rows == 0
    assert dict((c.name, c.type) for c in info.columns) == {"id": "VARCHAR", "v": "BIGINT"}


# -- ingest: malformed input, all or nothing -----------------------------------------------------------------------
RAGGED = "a,b,c\n1,x,2020-01-01\n2,y,2020-01-02\n3,z\n4,w,2020-01-03\n5,v,2020-01-04,extra\n6,u,2020-01-05\n"


def test_ragged_rows_are_reported_with_line_numbers_and_nothing_is_stored(warehouse: Warehouse, tmp_path: Path) -> None:
    before = state(warehouse)
    with pytest.raises(IngestError) as caught:
        warehouse.ingest_csv(write(tmp_path / "ragged.csv", RAGGED), "ragged")
    assert [p.line for p in caught.value.problems] == [4, 6]
    assert [p.kind for p in caught.value.problems] == ["missing columns", "too many columns"]
    assert caught.value.problem_count == 2
    assert "line 4" in str(caught.value)
    assert state(warehouse) == before


def test_ragged_rows_can_be_skipped_and_are_counted(warehouse: Warehouse, tmp_path: Path) -> None:
    info = warehouse.ingest_csv(write(tmp_path / "ragged.csv", RAGGED), "ragged", on_bad_rows="skip")
    assert info.rows == 4
    assert info.skipped_rows == 2
    assert warehouse.read_dataset("ragged")["a"].tolist() == [1, 2, 4, 6]


def test_preview_reports_what_ingest_would_do_and_writes_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    before = state(warehouse)
    preview = warehouse.preview_csv(write(tmp_path / "ragged.csv", RAGGED).read_bytes())
    assert state(warehouse) == before
    assert preview.rows == 4
    assert preview.problem_count == 2
    assert [p.line for p in preview.problems] == [4, 6]
    assert [c.name for c in preview.columns] == ["a", "b", "c"]
    assert preview.head["a"].tolist() == [1, 2, 4, 6]
    assert preview.facts.encoding == "utf-8"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"a,b,c\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary"),
        (bytes(range(256)) * 64, "binary"),
        (b"\x1f\x8b\x08\x00" + b"\x00\x13\x07" * 100, "binary"),
    ],
    ids=["empty", "blank", "header-only", "png", "all-bytes", "gzip"],
)
def test_unreadable_files_are_refused_and_leave_no_trace(
    warehouse: Warehouse, tmp_path: Path, content: bytes, message: str
) -> None:
    before = state(warehouse)
    with pytest.raises(IngestError, match=message):
        warehouse.ingest_csv(content, "bad")
    assert state(warehouse) == before


def test_limits_are_enforced_and_leave_no_trace(warehouse: Warehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "ten.csv", "a,b,c\n" + "".join(f"{i},{i},{i}\n" for i in range(10)))
    before = state(warehouse)
    with pytest.raises(IngestError, match="larger than"):
        warehouse.ingest_csv(path, "t", limits=IngestLimits(max_bytes=20))
    with pytest.raises(IngestError, match="larger than"):
        warehouse.ingest_csv(io.BytesIO(path.read_bytes()), "t", limits=IngestLimits(max_bytes=20))
    with pytest.raises(IngestError, match="10 rows; the limit is 9"):
        warehouse.ingest_csv(path, "t", limits=IngestLimits(max_rows=9))
    with pytest.raises(IngestError, match="3 columns; the limit is 2"):
        warehouse.ingest_csv(path, "t", limits=IngestLimits(max_columns=2))
    assert state(warehouse) == before
    assert warehouse.ingest_csv(path, "t", limits=IngestLimits(max_rows=10, max_columns=3)).rows == 10


def test_existing_name_is_refused_and_the_first_dataset_kept(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.ingest_csv(write(tmp_path / "one.csv", "a\n1\n"), "events")
    before = state(warehouse)
    with pytest.raises(IngestError, match="exists already"):
        warehouse.ingest_csv(write(tmp_path / "two.csv", "b\n2\n3\n"), "events")
    assert state(warehouse) == before
    assert warehouse.read_dataset("events")["a"].tolist() == [1]


# -- hostile names -------------------------------------------------------------------------------------------------
def test_hostile_column_names_are_just_column_names(warehouse: Warehouse, tmp_path: Path) -> None:
    header = ['x"; DROP TABLE t; --', "Robert'); DROP TABLE dataset_catalogue;--", "a\tb\x07c", "", "dup", "DUP"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, [1, 2, 3, 4, 5, 6]])
    info = warehouse.ingest_csv(write(tmp_path / "hostile.csv", buffer.getvalue()), "hostile")
    names = [c.name for c in info.columns]
    assert names[:2] == header[:2]
    assert names[2] == "a b c"
    assert names[4:] == ["dup", "DUP_2"]
    assert len({n.casefold() for n in names}) == 6
    frame = warehouse.read_dataset("hostile")
    assert frame.iloc[0].tolist() == [1, 2, 3, 4, 5, 6]
    assert warehouse.query("SELECT count(*) AS n FROM dataset_catalogue")["n"][0] == 1


@pytest.mark.parametrize("name", ['x"; DROP TABLE t; --', "Events", "1abc", "", "a" * 64, "ds.events", "é"])
def test_hostile_dataset_names_are_refused(warehouse: Warehouse, tmp_path: Path, name: str) -> None:
    before = state(warehouse)
    with pytest.raises(IngestError, match="not allowed"):
        warehouse.ingest_csv(write(tmp_path / "ok.csv", "a\n1\n"), name)
    assert state(warehouse) == before


def test_dataset_tables_are_quoted_identifiers() -> None:
    assert dataset_table('we"ird') == '"datasets"."we""ird"'


# -- delete --------------------------------------------------------------------------------------------------------
def test_drop_dataset_removes_table_and_entry(warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.ingest_csv(write(tmp_path / "a.csv", "a\n1\n"), "keep")
    before = state(warehouse)
    warehouse.ingest_csv(write(tmp_path / "b.csv", "b\n2\n"), "drop_me")
    warehouse.drop_dataset("drop_me")
    assert state(warehouse) == before
    with pytest.raises(DatasetNotFoundError):
        warehouse.drop_dataset("drop_me")
    with pytest.raises(DatasetNotFoundError):
        warehouse.read_dataset("drop_me")


# -- concurrency ---------------------------------------------------------------------------------------------------
def test_eight_threads_ingest_and_query_at_once(warehouse: Warehouse, tmp_path: Path) -> None:
    files = []
    for worker in range(8):
        lines = ["worker,seq,value"] + [f"{worker},{i},{i * worker}.5" for i in range(20_000)]
        files.append(write(tmp_path / f"w{worker}.csv", "\n".join(lines) + "\n"))
    start = threading.Barrier(8)
    errors: list[BaseException] = []
    seen_counts: list[int] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            warehouse.ingest_csv(files[worker], f"worker_{worker}")
            for _ in range(5):
                names = [d.name for d in warehouse.list_datasets()]
                for name in names:
                    count = warehouse.query(f"SELECT count(*) AS n FROM {dataset_table(name)}")["n"][0]
                    seen_counts.append(int(count))
            total = warehouse.query(
                f"SELECT sum(seq) AS s FROM {dataset_table(f'worker_{worker}')} WHERE worker = ?", [worker]
            )["s"][0]
            assert total == sum(range(20_000))
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert sorted(d.name for d in warehouse.list_datasets()) == [f"worker_{w}" for w in range(8)]
    assert set(seen_counts) == {20_000}  # no reader ever saw a half-written dataset


def test_values_pandas_cannot_hold_are_read_back_as_text(warehouse: Warehouse) -> None:
    # Found by the fuzz test: DuckDB types a lone "INF" as DATE 'infinity', which has no pandas equivalent.
    info = warehouse.ingest_csv(b"INF", "infinite", header=False)
    assert [c.type for c in info.columns] == ["DATE"]
    assert warehouse.read_dataset("infinite")["column_1"].tolist() == ["infinity"]
    assert warehouse.preview_csv(b"INF", header=False).head["column_1"].tolist() == ["infinity"]


def test_128_bit_integers_read_back_exactly(warehouse: Warehouse) -> None:
    info = warehouse.ingest_csv(
        b"id,big\n1,99999999999999999999999\n2,-170141183460469231731687303715884105727\n", "big"
    )
    assert dict((c.name, c.type) for c in info.columns)["big"] == "HUGEINT"
    assert warehouse.read_dataset("big")["big"].tolist() == [
        99999999999999999999999,
        -170141183460469231731687303715884105727,
    ]
    assert warehouse.query(f"SELECT sum(id) AS s FROM {dataset_table('big')}")["s"][0] == 3


def test_line_numbers_count_lines_of_the_file_not_records(warehouse: Warehouse) -> None:
    # Found in review: DuckDB numbers records; a quoted field spanning lines shifts every later line.
    preview = warehouse.preview_csv(b'a,b\n1,"x\ny\nz"\n2\n3,w\n')
    assert [p.line for p in preview.problems] == [5]
    with pytest.raises(IngestError, match="first on line 5"):
        warehouse.ingest_csv(b'a,b\n1,"x\ny\nz"\n2\n3,w\n', "multi")


def test_preview_says_when_ingest_would_refuse_the_file(warehouse: Warehouse) -> None:
    assert (
        warehouse.preview_csv(b"a,b,c\n").refusal
        == "The file has no data rows (only a header, or only malformed rows)."
    )
    too_many = warehouse.preview_csv(b"a\n1\n2\n3\n", limits=IngestLimits(max_rows=2))
    assert too_many.refusal == "The file has 3 rows; the limit is 2."
    assert warehouse.preview_csv(b"a\n1\n").refusal is None


def test_nested_transactions_join_the_outer_one(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.set_meta("inner", "written inside")
        raise RuntimeError("roll everything back")
    assert warehouse.get_meta("inner") is None
    with warehouse.transaction():
        warehouse.set_meta("inner", "kept")
    assert warehouse.get_meta("inner") == "kept"

"""Hostile CSV input, by class: numbers no column type holds, widths, glob characters in paths, misleading starts,
and messages that must not leak our temporary files. Refusals write nothing; what is stored can be read back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.warehouse import IngestError, IngestLimits, Warehouse
from tests.core.warehouse.test_warehouse import state

FIXTURE_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.integers(min_value=39, max_value=600))
@FIXTURE_SETTINGS
def test_integers_wider_than_128_bits_are_stored_as_text_and_read_back(warehouse: Warehouse, digits: int) -> None:
    wide = "9" * digits
    name = f"wide_{digits}_{len(warehouse.list_datasets())}"
    info = warehouse.ingest_csv(f"id,value\n1,{wide}\n2,5\n".encode(), name)
    assert [c.type for c in info.columns] == ["BIGINT", "VARCHAR"]
    assert warehouse.read_dataset(name)["value"].tolist() == [wide, "5"]
    assert warehouse.profile_dataset(name)["column"].tolist() == ["id", "value"]
    assert warehouse.preview_csv(f"v\n{wide}\n".encode()).columns[0].type == "VARCHAR"


@given(st.integers(min_value=2_001, max_value=150_000))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_file_wider_than_the_limit_is_refused_from_its_first_line(warehouse: Warehouse, columns: int) -> None:
    header = ",".join(f"c{i}" for i in range(columns))
    data = (header + "\n" + ",".join("1" * columns) + "\n").encode()
    before = state(warehouse)
    with pytest.raises(IngestError, match=r"has at least [\d,]+ columns; the limit is 2,000"):
        warehouse.ingest_csv(data, "wide")
    with pytest.raises(IngestError, match=r"has at least [\d,]+ columns"):
        warehouse.preview_csv(data)
    assert state(warehouse) == before


@pytest.mark.parametrize("pattern", ["data*.csv", "data?secret.csv", "data[_]secret.csv", "**/data_secret.csv"])
def test_a_path_is_a_file_name_never_a_glob(warehouse: Warehouse, tmp_path: Path, pattern: str) -> None:
    (tmp_path / "data.csv").write_text("a\n1\n")
    (tmp_path / "data_secret.csv").write_text("a\n666\n")
    with pytest.raises(IngestError, match="There is no file at"):
        warehouse.ingest_csv(str(tmp_path / pattern), "globbed")
    literal = tmp_path / "lit" / pattern
    literal.parent.mkdir(parents=True, exist_ok=True)
    literal.write_text("a\n7\n")
    info = warehouse.ingest_csv(str(literal), "literal")
    assert warehouse.read_dataset("literal")["a"].tolist() == [7] and info.rows == 1


def test_blank_lines_before_the_data_are_named_as_such(warehouse: Warehouse) -> None:
    with pytest.raises(IngestError, match="starts with more than 256 KiB of blank lines"):
        warehouse.ingest_csv(b"\n" * 300_000 + b"a,b\n1,2\n", "blank")
    with pytest.raises(IngestError, match="The file is empty"):
        warehouse.ingest_csv(b"\n \n", "empty")


@pytest.mark.parametrize(("bom", "name"), [(b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                                           (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")])  # fmt: skip
def test_wide_encodings_are_named_right(warehouse: Warehouse, bom: bytes, name: str) -> None:
    with pytest.raises(IngestError, match=f"The file is {name} encoded"):
        warehouse.ingest_csv(bom + "a,b\n1,2\n".encode(name.lower() + "-le"), "wide_enc")


@given(st.binary(min_size=1, max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_refusals_never_show_our_temporary_files(warehouse: Warehouse, data: bytes) -> None:
    before = state(warehouse)
    try:
        warehouse.preview_csv(data)
        info = warehouse.ingest_csv(data, "fuzzed")
    except IngestError as exc:
        assert "ctas-ingest-" not in str(exc) and "/tmp/" not in str(exc)
        assert state(warehouse) == before
    else:
        warehouse.read_dataset(info.name)
        warehouse.drop_dataset(info.name)


def test_limits_apply_to_the_first_line_too() -> None:
    warehouse = Warehouse()
    with pytest.raises(IngestError, match="at least 4 columns; the limit is 3"):
        warehouse.ingest_csv(b"a,b,c,d\n1,2,3,4\n", "four", limits=IngestLimits(max_columns=3))


@pytest.mark.parametrize(
    ("data", "line"),
    [(b'a,b\n1,"abc\n2,3\n', 2), (b'a,b\n1,2\n3,"x\n', 3), (b'a;b\n1;"abc\n', 2), (b'"a,b\n1,2\n', 1)],
)
def test_a_quote_that_never_closes_is_refused_by_line(warehouse: Warehouse, data: bytes, line: int) -> None:
    before = state(warehouse)
    with pytest.raises(IngestError, match=f"Line {line} opens a quoted field .* that is never closed"):
        warehouse.ingest_csv(data, "unclosed")
    assert state(warehouse) == before


def test_quotes_inside_fields_and_closed_quotes_are_data(warehouse: Warehouse) -> None:
    warehouse.ingest_csv(b'a,b\n1,5" screen\n3,"x,y"\n4,"he said ""hi"""\n', "quoted")
    assert warehouse.read_dataset("quoted")["b"].tolist() == ['5" screen', "x,y", 'he said "hi"']


def test_a_layout_duckdb_cannot_detect_gets_a_plain_message(warehouse: Warehouse) -> None:
    with pytest.raises(IngestError, match="layout could not be detected") as refused:
        warehouse.ingest_csv(b"a,b\r1,2\n3,4\r\n", "layout")
    assert "/tmp" not in str(refused.value) and "ctas-ingest" not in str(refused.value)


GLOB_NAMES = st.text(alphabet=st.sampled_from(list("ab*?[]{}!^-_.,")), min_size=1, max_size=12).filter(
    lambda n: n not in {".", ".."}
)


@given(GLOB_NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_file_name_is_read_as_itself_never_as_a_pattern(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    folder = tmp_path_factory.mktemp("names")
    for decoy in ("a.csv", "b.csv", "ab.csv", "secret.csv", "[a].csv", "x"):
        (folder / decoy).write_text("a\n666\n")
    literal = folder / f"{name}.csv"
    literal.write_text("a\n7\n")
    warehouse = Warehouse()
    info = warehouse.ingest_csv(str(literal), "literal")
    assert info.rows == 1 and warehouse.read_dataset("literal")["a"].tolist() == [7]
    assert info.sha256 == hashlib.sha256(literal.read_bytes()).hexdigest()

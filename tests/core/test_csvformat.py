"""CSV shape detection: delimiter, encoding, binary refusal and the names things get."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core import csvformat
from core.csvformat import (
    DELIMITERS,
    MAX_NAME_LENGTH,
    CsvFormatError,
    clean_column_names,
    dataset_name_from,
    header_names,
    scan_file,
    sniff_delimiter,
    validate_dataset_name,
)

plain_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", min_size=1, max_size=12)


@given(
    delimiter=st.sampled_from(DELIMITERS),
    width=st.integers(min_value=2, max_value=8),
    rows=st.integers(min_value=1, max_value=30),
    data=st.data(),
)
def test_sniffed_delimiter_is_the_one_written(delimiter: str, width: int, rows: int, data: st.DataObject) -> None:
    table = [data.draw(st.lists(plain_text, min_size=width, max_size=width)) for _ in range(rows + 1)]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(table)
    assert sniff_delimiter(buffer.getvalue()) == delimiter


def test_sniffer_respects_quotes_and_prefers_consistent_splits() -> None:
    text = 'name;comment\nalpha;"one, two, three"\nbeta;"four, five"\n'
    assert sniff_delimiter(text) == ";"
    assert sniff_delimiter("single\ncolumn\n") == ","


@given(st.lists(st.text(max_size=80), max_size=30))
def test_cleaned_names_are_printable_unique_bounded_and_stable(names: list[str]) -> None:
    cleaned = clean_column_names(names)
    assert len(cleaned) == len(names)
    assert len({c.casefold() for c in cleaned}) == len(cleaned)
    for name in cleaned:
        assert 0 < len(name) <= MAX_NAME_LENGTH
        assert name == name.strip()
        assert all(ch.isprintable() for ch in name)
    assert clean_column_names(cleaned) == cleaned


def test_clean_names_keep_punctuation_and_fill_blanks() -> None:
    assert clean_column_names(['x"; DROP TABLE t; --', "", " a\n b ", "A B"]) == [
        'x"; DROP TABLE t; --',
        "column_2",
        "a b",
        "A B_2",
    ]


@given(st.text(max_size=200))
def test_any_text_gives_a_valid_dataset_name(text: str) -> None:
    assert validate_dataset_name(dataset_name_from(text)) == dataset_name_from(text)


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("AWS Honeypot (2013).csv", "aws_honeypot_2013"),
        ("/some/dir/Événements.tsv", "evenements"),
        ("2024 alerts.txt", "d_2024_alerts"),
        ("???.csv", "dataset"),
    ],
)
def test_dataset_names_from_file_names(given_name: str, expected: str) -> None:
    assert dataset_name_from(given_name) == expected


def test_invalid_dataset_name_message_says_what_is_allowed() -> None:
    with pytest.raises(CsvFormatError, match="lower-case letters, digits and underscores"):
        validate_dataset_name("Bad Name")


def test_header_names_read_quotes_and_drop_a_bom() -> None:
    assert header_names('\ufeff"a,b",c\n1,2\n', ",") == ["a,b", "c"]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("a,b\nJosé,1\n".encode(), "utf-8"),
        ("a,b\nJosé,1\n".encode("utf-8-sig"), "utf-8-sig"),
        ("a,b\nJosé,1\n".encode("latin-1"), "latin-1"),
        ("a,b\n€ “x”,1\n".encode("cp1252"), "windows-1252"),
    ],
)
def test_scan_finds_encoding_size_and_checksum(tmp_path: Path, content: bytes, encoding: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    facts = scan_file(path)
    assert facts.encoding == encoding
    assert facts.size == len(content)
    assert len(facts.sha256) == 64


def test_utf8_character_split_across_read_chunks_stays_utf8(tmp_path: Path) -> None:
    # 1 MiB chunks: put a two-byte character across the first boundary.
    content = b"a\n" + b"x" * (2**20 - 3) + "é".encode() + b"\n"
    path = tmp_path / "split.csv"
    path.write_bytes(content)
    assert scan_file(path).encoding == "utf-8"


_PIECES = st.sampled_from([b"a", b"\n", "é".encode(), "€".encode(), b"\xc3", b"\xa9", b"\xe2\x82"])


@given(st.lists(_PIECES, min_size=1, max_size=40), st.integers(min_value=1, max_value=4))
@example([b"\xc3", b"a", b"\xa9"], 1)  # a cut character, then an ASCII chunk, then a byte that would complete it
def test_scan_calls_a_file_utf8_exactly_when_it_decodes_whatever_the_chunking(pieces: list[bytes], chunk: int) -> None:
    # Chunks of ASCII skip the decoder; a character cut at a chunk's end must still be checked with what follows.
    content = b"h,i\n" + b"".join(pieces)
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(csvformat, "_CHUNK", chunk):
        path = Path(tmp) / "f.csv"
        path.write_bytes(content)
        found = scan_file(path).encoding
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        assert found in ("latin-1", "windows-1252")
    else:
        assert found == "utf-8"

"""Recognise the shape of an uploaded CSV file before DuckDB reads it.

Pure Python, no database: encoding, binary content, delimiter, and the names that columns and datasets get in the
warehouse. DuckDB then reads the file with the dialect found here and infers the column types.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.errors import CtasError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_BYTES = 256 * 1024
MAX_NAME_LENGTH = 63
_CHUNK = 1 << 20
# Bytes that no text file contains: NUL and the C0 controls other than tab, LF, FF, CR (and ESC, seen in logs).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


class CsvFormatError(CtasError, ValueError):
    """The file cannot be read as a CSV text file; the message says what to fix."""


@dataclass(frozen=True)
class FileFacts:
    """What one pass over the raw bytes tells: size, checksum and text encoding."""

    size: int
    sha256: str
    encoding: str  # "utf-8", "utf-8-sig", "windows-1252" or "latin-1"


def read_head(path: Path, limit: int = SNIFF_BYTES) -> bytes:
    """The first `limit` bytes of a file, refused if the file is empty or binary."""
    with path.open("rb") as fh:
        head = fh.read(limit)
    if not head.strip():
        if len(head) == limit and path.stat().st_size > limit:
            raise CsvFormatError(
                f"The file starts with more than {limit // 1024:,} KiB of blank lines or spaces: remove them and "
                "upload it again."
            )
        raise CsvFormatError("The file is empty: export the data again with a header row and at least one row.")
    _refuse_binary(head)
    return head


def head_is_utf8(head: bytes) -> bool:
    """Whether the head decodes as UTF-8 (a character cut at the end of the head is allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return True


def scan_file(path: Path) -> FileFacts:
    """Hash the file and find its encoding in one pass; refuse empty and binary files."""
    read_head(path)
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    has_cp1252_bytes = False
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if size == 0:
                starts_with_bom = chunk.startswith(codecs.BOM_UTF8)
            size += len(chunk)
            digest.update(chunk)
            if is_utf8 and not (chunk.isascii() and not utf8.getstate()[0]):  # ASCII with nothing pending is UTF-8
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            if not is_utf8 and not has_cp1252_bytes:
                has_cp1252_bytes = _CP1252_ONLY.search(chunk) is not None
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if is_utf8:
        encoding = "utf-8-sig" if starts_with_bom else "utf-8"
    else:
        encoding = "windows-1252" if has_cp1252_bytes else "latin-1"
    return FileFacts(size=size, sha256=digest.hexdigest(), encoding=encoding)


def _refuse_binary(head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise CsvFormatError("The file is UTF-32 encoded: save it as UTF-8 (or Latin-1) CSV and upload it again.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFormatError("The file is UTF-16 encoded: save it as UTF-8 (or Latin-1) CSV and upload it again.")
    sample = head[:65536]
    if not sample:
        return
    controls = sum(sample.count(b) for b in _BINARY_BYTES)
    if b"\x00" in sample or controls > max(8, len(sample) // 100):
        raise CsvFormatError(
            "This does not look like a CSV text file (it contains binary data). "
            "Upload a comma, semicolon, tab or pipe separated text file."
        )


def decode_head(path: Path, encoding: str, limit: int = SNIFF_BYTES) -> str:
    """The first `limit` bytes as text, cut back to the last complete line when the file is longer."""
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)
    truncated = len(raw) > limit
    raw = raw[:limit]
    if truncated and b"\n" in raw:
        raw = raw[: raw.rindex(b"\n") + 1]
    return raw.decode(_python_codec(encoding), errors="replace")


def _python_codec(encoding: str) -> str:
    return "cp1252" if encoding == "windows-1252" else encoding


def transcode_to_utf8(source: Path, encoding: str, target: Path) -> None:
    """Rewrite a Latin-1 or Windows-1252 file as UTF-8 (DuckDB reads UTF-8 natively, not Windows-1252)."""
    codec = _python_codec(encoding)
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        reader = io.TextIOWrapper(src, encoding=codec, errors="replace", newline="")
        while text := reader.read(_CHUNK):
            dst.write(text)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the sample's records into the most consistent number (> 1) of fields.

    Candidates are comma, semicolon, tab and pipe; quoted fields (with delimiters or newlines inside) are respected.
    A file with a single column (no candidate splits it) reads as comma separated.
    """
    best, best_key = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(record) for record in _records(text, delimiter, 200) if record]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        key = (hits / len(counts), width)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    """Up to `limit` records of `text`; a record the csv module cannot parse ends the list."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            records.append(record)
            if len(records) == limit:
                break
    except csv.Error:
        pass
    return records


def header_names(text: str, delimiter: str) -> list[str]:
    """The fields of the first record of `text`, as written (quotes removed, a BOM dropped)."""
    records = _records(text.removeprefix("\ufeff"), delimiter, 1)
    return records[0] if records else []


def clean_column_names(names: list[str]) -> list[str]:
    """Column names as stored: printable, trimmed, at most 63 characters, non-empty, unique ignoring case.

    Punctuation is kept (identifiers are always quoted), so `x"; DROP TABLE t; --` stays a column name.
    """
    cleaned: list[str] = []
    taken: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = _printable(raw)[:MAX_NAME_LENGTH].strip() or f"column_{position}"
        candidate, suffix = name, 2
        while candidate.casefold() in taken:
            tail = f"_{suffix}"
            candidate = name[: MAX_NAME_LENGTH - len(tail)] + tail
            suffix += 1
        taken.add(candidate.casefold())
        cleaned.append(candidate)
    return cleaned


def _printable(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in text)
    return " ".join(text.split())


def dataset_name_from(text: str) -> str:
    """A dataset name from free text or a file name: lower-case letters, digits and underscores."""
    stem = Path(str(text)).name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug:
        slug = "dataset"
    if slug[0].isdigit():
        slug = "d_" + slug
    return slug[:MAX_NAME_LENGTH].rstrip("_")


def validate_dataset_name(name: str) -> str:
    """Return `name` if it is a valid dataset name, else raise CsvFormatError saying what is allowed."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name or ""):
        raise CsvFormatError(
            f"Dataset name {name!r} is not allowed: use 1-63 lower-case letters, digits and underscores, "
            "starting with a letter (for example 'honeypot_events')."
        )
    return name

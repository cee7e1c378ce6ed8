"""CSV ingest: stage an upload, detect its format, preview it, and load it into a new dataset all or nothing.

Delimiter, header and encoding are detected; DuckDB infers the column types. Malformed rows are reported by line.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

import duckdb
import pandas as pd

from core import csvformat
from core.csvformat import CsvFormatError, FileFacts
from core.warehouse.catalogue import FIELDS, Column, DatasetInfo
from core.warehouse.errors import CsvProblem, IngestError
from core.warehouse.sql import dataset_table, duckdb_message, frame, quote_identifier, readable_type

if TYPE_CHECKING:
    from core.warehouse.connection import Warehouse

MAX_REPORTED_PROBLEMS = 50
PLAN_SAMPLE_ROWS = 4096  # rows sniffed to fix header and names; column types use DuckDB's own sample
Source = str | os.PathLike[str] | bytes | BinaryIO
BadRows = Literal["fail", "skip"]


@dataclass(frozen=True)
class IngestLimits:
    """Upper bounds on what one CSV ingest accepts."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 20_000_000
    max_columns: int = 2_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_columns"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True)
class CsvPreview:
    """What an ingest would store, found without writing anything."""

    facts: FileFacts
    delimiter: str
    has_header: bool
    columns: tuple[Column, ...]
    renamed: dict[str, str]
    head: pd.DataFrame
    rows: int
    problems: tuple[CsvProblem, ...]
    problem_count: int
    same_content_as: tuple[str, ...] = field(default=())
    refusal: str | None = None  # why ingest would refuse the file whatever the analyst chooses


@dataclass(frozen=True)
class _CsvPlan:
    """How DuckDB is to read one staged, UTF-8 CSV file."""

    path: Path
    delimiter: str
    has_header: bool
    names: tuple[str, ...]
    renamed: dict[str, str]


def preview_csv(
    warehouse: Warehouse,
    source: Source,
    *,
    header: bool | None = None,
    delimiter: str | None = None,
    limits: IngestLimits | None = None,
    head_rows: int = 20,
) -> CsvPreview:
    """Read a CSV file as `ingest_csv` would, without writing to the warehouse."""
    limits = limits or IngestLimits()
    with _staged(source, limits) as staged:
        facts = staged.facts
        scratch = duckdb.connect(":memory:")
        try:
            plan = _plan_csv(scratch, staged.utf8_path(), header, delimiter, limits)
            counted: list[int] = []
            read_sql, params = _read_all(
                scratch, plan, lambda sql, p: counted.append(_scan_all(scratch, sql, p)), counted.clear
            )
            rows = counted[-1]
            problems, count = _rejects(scratch, params["rt"], plan.path)
            head = frame(scratch, f"SELECT * FROM {read_sql} LIMIT {int(head_rows)}", params)
            columns = _describe(scratch, read_sql, params)
        except duckdb.Error as exc:
            raise IngestError(_message(exc, staged)) from None
        finally:
            scratch.close()
    same = (
        warehouse.cursor()
        .execute("SELECT name FROM dataset_catalogue WHERE sha256 = ? ORDER BY name", [facts.sha256])
        .fetchall()
    )
    refusal = _row_count_refusal(rows, limits)
    return CsvPreview(
        facts=facts,
        delimiter=plan.delimiter,
        has_header=plan.has_header,
        columns=columns,
        renamed=plan.renamed,
        head=head,
        rows=rows,
        problems=problems,
        problem_count=count,
        same_content_as=tuple(r[0] for r in same),
        refusal=refusal,
    )


def ingest_csv(
    warehouse: Warehouse,
    source: Source,
    name: str,
    *,
    original_filename: str | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
    limits: IngestLimits | None = None,
    on_bad_rows: BadRows = "fail",
) -> DatasetInfo:
    """Load a CSV file into a new dataset, all or nothing.

    Delimiter, header and encoding (UTF-8, UTF-8 with BOM, Latin-1, Windows-1252) are detected unless given;
    DuckDB infers the column types. Malformed rows refuse the ingest (`on_bad_rows="fail"`, the default, with
    their line numbers in the error) or are left out and counted (`"skip"`). On any error the warehouse is left
    exactly as it was.
    """
    limits = limits or IngestLimits()
    if on_bad_rows not in ("fail", "skip"):
        raise ValueError("on_bad_rows must be 'fail' or 'skip'")
    try:
        csvformat.validate_dataset_name(name)
    except CsvFormatError as exc:
        raise IngestError(str(exc)) from None
    if original_filename is None:
        original_filename = Path(source).name if isinstance(source, str | os.PathLike) else name + ".csv"
    with _staged(source, limits) as staged:
        read_path = staged.raw_path if staged.head_is_utf8 else staged.utf8_path()
        job = _IngestJob(name, str(original_filename), header, delimiter, limits, on_bad_rows)
        try:
            return _ingest_staged(warehouse, staged, read_path, job)
        except _NotUtf8Error:
            return _ingest_staged(warehouse, staged, staged.utf8_path(), job)


def _ingest_staged(warehouse: Warehouse, staged: _StagedCsv, read_path: Path, job: _IngestJob) -> DatasetInfo:
    table = dataset_table(job.name)
    with warehouse.transaction() as cur:
        if cur.execute("SELECT 1 FROM dataset_catalogue WHERE name = ?", [job.name]).fetchone():
            raise IngestError(f"A dataset named {job.name!r} exists already: choose another name or delete it first.")
        try:
            plan = _plan_csv(cur, read_path, job.header, job.delimiter, job.limits)
            problems, count = _load_table(cur, plan, table)
        except duckdb.Error as exc:
            if read_path == staged.raw_path and not staged.is_utf8:
                raise _NotUtf8Error from None
            raise IngestError(_message(exc, staged)) from None
        facts = staged.facts
        if read_path == staged.raw_path and not staged.is_utf8:
            raise _NotUtf8Error
        if count and job.on_bad_rows == "fail":
            raise IngestError(
                f"{count} malformed row(s) found (first on line {problems[0].line}); nothing was stored. "
                "Fix the file, or choose to skip malformed rows.",
                problems,
                count,
            )
        rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if refusal := _row_count_refusal(rows, job.limits):
            raise IngestError(refusal)
        info = DatasetInfo(
            name=job.name,
            original_filename=job.original_filename,
            sha256=facts.sha256,
            rows=int(rows),
            columns=_describe(cur, table, []),
            encoding=facts.encoding,
            delimiter=plan.delimiter,
            has_header=plan.has_header,
            skipped_rows=count,
            size_bytes=facts.size,
            created_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        )
        cur.execute(f"INSERT INTO dataset_catalogue ({FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", info.row())
    return info


@dataclass(frozen=True)
class _IngestJob:
    """The analyst's choices for one ingest."""

    name: str
    original_filename: str
    header: bool | None
    delimiter: str | None
    limits: IngestLimits
    on_bad_rows: BadRows


class _StagedCsv:
    """An uploaded CSV file on disk. Its checksum and encoding are found in the background while DuckDB reads it."""

    def __init__(self, path: Path, folder: Path, facts: Future[FileFacts], head_is_utf8: bool) -> None:
        self.raw_path = path
        self.folder = folder
        self._facts = facts
        self._utf8_path: Path | None = None
        self.head_is_utf8 = head_is_utf8

    @property
    def facts(self) -> FileFacts:
        """Size, sha256 and encoding (waits for the background scan)."""
        try:
            return self._facts.result()
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None

    @property
    def is_utf8(self) -> bool:
        return self.facts.encoding in ("utf-8", "utf-8-sig")

    def utf8_path(self) -> Path:
        """The file as UTF-8: itself, or a transcoded copy of a Latin-1 / Windows-1252 file."""
        if self.is_utf8:
            return self.raw_path
        if self._utf8_path is None:
            self._utf8_path = self.folder / "upload.utf8.csv"
            csvformat.transcode_to_utf8(self.raw_path, self.facts.encoding, self._utf8_path)
        return self._utf8_path


class _NotUtf8Error(Exception):
    """The file looked like UTF-8 at its start but is not: read it again, transcoded."""


@contextmanager
def _staged(source: Source, limits: IngestLimits) -> Iterator[_StagedCsv]:
    """The source as a file on disk, its facts under way; temporary copies are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ctas-ingest-") as tmp, ThreadPoolExecutor(1) as pool:
        path = _stage(source, Path(tmp) / "upload.csv", limits)
        try:
            head = csvformat.read_head(path)
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None
        yield _StagedCsv(path, Path(tmp), pool.submit(csvformat.scan_file, path), csvformat.head_is_utf8(head))


def _stage(source: Source, target: Path, limits: IngestLimits) -> Path:
    too_big = IngestError(
        f"The file is larger than the {limits.max_bytes / 2**20:,.0f} MiB limit: split it or filter it first."
    )
    if isinstance(source, bytes):
        if len(source) > limits.max_bytes:
            raise too_big
        target.write_bytes(source)
        return target
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise IngestError(f"There is no file at {path}.")
        if path.stat().st_size > limits.max_bytes:
            raise too_big
        target.symlink_to(path.resolve())  # DuckDB reads a name of ours: a path is never a glob pattern
        return target
    copied = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            copied += len(chunk)
            if copied > limits.max_bytes:
                raise too_big
            out.write(chunk)
    return target


def _plan_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: bool | None,
    delimiter: str | None,
    limits: IngestLimits,
) -> _CsvPlan:
    """Fix delimiter, header and column names for reading `path`."""
    head_text = csvformat.decode_head(path, "utf-8")
    if delimiter is None:
        delimiter = csvformat.sniff_delimiter(head_text)
    elif delimiter not in csvformat.DELIMITERS:
        raise IngestError("The delimiter must be a comma, semicolon, tab or pipe.")
    base = (
        "read_csv($path, delim = $delim, store_rejects = true, rejects_table = $rt, rejects_scan = $rs, "
        f"sample_size = {PLAN_SAMPLE_ROWS}"
    )
    written = len(csvformat.header_names(head_text, delimiter))
    if written > limits.max_columns:  # before DuckDB sniffs: a very wide file would take minutes to refuse
        raise IngestError(f"The file has at least {written:,} columns; the limit is {limits.max_columns:,}.")
    params = {"path": str(path), "delim": delimiter, "rt": "ctas_plan_errors", "rs": "ctas_plan_scans"}
    _refuse_unclosed_quote(path, delimiter, head_text)
    auto = con.execute(f"DESCRIBE SELECT * FROM {base}{_header_arg(header)})", params).fetchall()
    if header is None:
        with_header = con.execute(f"DESCRIBE SELECT * FROM {base}, header = true)", params).fetchall()
        header = [r[:2] for r in auto] == [r[:2] for r in with_header]
    if len(auto) > limits.max_columns:
        raise IngestError(f"The file has {len(auto):,} columns; the limit is {limits.max_columns:,}.")
    if header:
        source_names = csvformat.header_names(head_text, delimiter)
        if len(source_names) != len(auto):
            source_names = [r[0] for r in auto]
    else:
        source_names = [f"column_{i}" for i in range(1, len(auto) + 1)]
    names = csvformat.clean_column_names(source_names)
    renamed = {old: new for old, new in zip(source_names, names, strict=True) if old != new and header}
    return _CsvPlan(path, delimiter, bool(header), tuple(names), renamed)


def _refuse_unclosed_quote(path: Path, delimiter: str, head_text: str) -> None:
    """A field that opens with a double quote which never closes would be stored with its quote as text: DuckDB's
    sniffer then reads the file as unquoted. Refuse it, naming the line (a quote inside a field is no such case)."""
    scratch = duckdb.connect(":memory:")  # a failed sniff must not abort the caller's transaction
    try:
        (quote,) = scratch.execute(
            "SELECT Quote FROM sniff_csv($path, delim = $delim)", {"path": str(path), "delim": delimiter}
        ).fetchone()
    except duckdb.Error:  # ragged rows and the like: the read itself reports them by line
        return
    finally:
        scratch.close()
    if quote == '"':
        return
    opening = re.compile(rf'(?:^|{re.escape(delimiter)})"')
    for number, line in enumerate(head_text.splitlines(), start=1):
        if opening.search(line):
            raise IngestError(
                f'Line {number} opens a quoted field (a field starting with ") that is never closed; nothing was '
                "stored. Close the quote or remove it, and upload the file again."
            )


def _row_count_refusal(rows: int, limits: IngestLimits) -> str | None:
    if rows > limits.max_rows:
        return f"The file has {rows:,} rows; the limit is {limits.max_rows:,}."
    if rows == 0:
        return "The file has no data rows (only a header, or only malformed rows)."
    return None


def _header_arg(header: bool | None) -> str:
    return "" if header is None else f", header = {'true' if header else 'false'}"


def _read_csv_sql(
    plan: _CsvPlan, tag: str, full_sample: bool = False, text_columns: tuple[str, ...] = ()
) -> tuple[str, dict]:
    sql = (
        "read_csv($path, delim = $delim, header = $header, names = $names, store_rejects = true, "
        f"rejects_table = $rt, rejects_scan = $rs{', sample_size = -1' if full_sample else ''}"
        f"{', types = $types' if text_columns else ''})"
    )
    params = {
        "path": str(plan.path),
        "delim": plan.delimiter,
        "header": plan.has_header,
        "names": list(plan.names),
        "rt": f"ctas_rejects_{tag}",
        "rs": f"ctas_scans_{tag}",
    }
    if text_columns:
        params["types"] = dict.fromkeys(text_columns, "VARCHAR")
    return sql, params


def _readable_read(
    con: duckdb.DuckDBPyConnection, plan: _CsvPlan, tag: str, full_sample: bool = False
) -> tuple[str, dict]:
    """The read of the file, with every column whose inferred type CTAS could not read back (DuckDB's BIGNUM for
    integers wider than 128 bits, say) read as text instead."""
    read_sql, params = _read_csv_sql(plan, tag, full_sample)
    described = con.execute(f"DESCRIBE SELECT * FROM {read_sql}", params).fetchall()
    unreadable = tuple(name for name, kind, *_ in described if not readable_type(kind))
    return _read_csv_sql(plan, tag, full_sample, unreadable) if unreadable else (read_sql, params)


def _read_all(
    con: duckdb.DuckDBPyConnection, plan: _CsvPlan, run: Callable[[str, dict], object], undo: Callable[[], object]
) -> tuple[str, dict]:
    """Run `run(read_sql, params)` over the whole file. If a value late in the file broke the type sniffed from the
    first rows, `undo()` and run again with types inferred from every row. Returns the read that stood."""
    read_sql, params = _readable_read(con, plan, uuid.uuid4().hex)
    run(read_sql, params)
    if _has_cast_errors(con, params["rt"]):
        undo()
        _drop_rejects(con, params)
        read_sql, params = _readable_read(con, plan, uuid.uuid4().hex, full_sample=True)
        run(read_sql, params)
    return read_sql, params


def _load_table(cur: duckdb.DuckDBPyConnection, plan: _CsvPlan, table: str) -> tuple[tuple[CsvProblem, ...], int]:
    """Create `table` from the CSV inside the caller's transaction; return the malformed rows left out."""
    _, params = _read_all(
        cur,
        plan,
        lambda sql, p: cur.execute(f"CREATE TABLE {table} AS SELECT * FROM {sql}", p),
        lambda: cur.execute(f"DROP TABLE {table}"),
    )
    found = _rejects(cur, params["rt"], plan.path)
    _drop_rejects(cur, params)
    return found


def _scan_all(con: duckdb.DuckDBPyConnection, read_sql: str, params: dict) -> int:
    """Parse every value of every row (recording malformed rows) and return the row count."""
    return int(con.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {read_sql}", params).fetchall()[0][0])


def _has_cast_errors(cur: duckdb.DuckDBPyConnection, rejects_table: str) -> bool:
    row = cur.execute(f"SELECT count(*) FROM {quote_identifier(rejects_table)} WHERE error_type = 'CAST'").fetchone()
    return bool(row[0])


def _rejects(con: duckdb.DuckDBPyConnection, rejects_table: str, path: Path) -> tuple[tuple[CsvProblem, ...], int]:
    """The malformed rows recorded by a scan (the first ones, with their line in the file) and how many there are."""
    table = quote_identifier(rejects_table)
    count = con.execute(f"SELECT count(DISTINCT line) FROM {table}").fetchone()[0]
    rows = con.execute(
        "SELECT min(line_byte_position), any_value(error_type::VARCHAR), any_value(error_message), "
        f"any_value(csv_line) FROM {table} GROUP BY line ORDER BY line LIMIT {MAX_REPORTED_PROBLEMS}"
    ).fetchall()
    lines = _line_numbers(path, [int(r[0]) for r in rows])
    problems = tuple(
        CsvProblem(line=lines[position], kind=kind.lower(), message=_first_line(message), text=(text or "")[:200])
        for position, kind, message, text in rows
    )
    return problems, int(count)


def _line_numbers(path: Path, positions: list[int]) -> dict[int, int]:
    """The line of the file (1-based) at each byte offset that DuckDB reports for a malformed row.

    DuckDB counts records, which differ from lines after a quoted field that spans lines.
    """
    found: dict[int, int] = {}
    newlines, offset = 0, 0
    pending = sorted(set(positions))
    with path.open("rb") as fh:
        while pending and (chunk := fh.read(1 << 20)):
            while pending and pending[0] <= offset + len(chunk):
                position = pending.pop(0)
                found[position] = newlines + chunk.count(b"\n", 0, max(position - offset, 0)) + 1
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    for position in pending:
        found[position] = newlines + 1
    return found


def _drop_rejects(cur: duckdb.DuckDBPyConnection, params: dict) -> None:
    for key in ("rt", "rs"):
        cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(params[key])}")


def _message(exc: duckdb.Error, staged: _StagedCsv) -> str:
    """DuckDB's message for the analyst, without the paths of our temporary copies."""
    text = duckdb_message(exc)
    if "not possible to automatically detect the CSV parsing dialect" in text:
        return (
            "The file's layout could not be detected: its delimiter, quoting or line ends are not consistent. "
            "Check that it is a CSV file, or choose the delimiter and header row under the reading options."
        )
    return re.sub(re.escape(str(staged.folder)) + r"/[\w.]+", "the file", text)


def _describe(con: duckdb.DuckDBPyConnection, relation: str, params: list | dict) -> tuple[Column, ...]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
    return tuple(Column(r[0], r[1]) for r in rows)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""

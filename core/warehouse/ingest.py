"""CSV ingest: stage an upload, detect its format, preview it, and load it into a new dataset all or nothing.

Delimiter, header and encoding are detected; DuckDB infers the column types. Malformed rows are reported by line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import pandas as pd

from core import csvformat
from core.csvformat import CsvFormatError, FileFacts
from core.warehouse.catalogue import FIELDS, Column, DatasetInfo
from core.warehouse.csvread import CsvPlan, describe, drop_rejects, plan_csv, read_all, rejects, scan_all
from core.warehouse.errors import CsvProblem, IngestError
from core.warehouse.sql import dataset_table, frame
from core.warehouse.staging import IngestLimits, NotUtf8Error, Source, StagedCsv, message, stage_upload

if TYPE_CHECKING:
    from core.warehouse.connection import Warehouse

BadRows = Literal["fail", "skip"]


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
    with stage_upload(source, limits) as staged:
        facts = staged.facts
        scratch = duckdb.connect(":memory:")
        try:
            plan = plan_csv(scratch, staged.utf8_path(), header, delimiter, limits)
            counted: list[int] = []
            read_sql, params, columns = read_all(
                scratch,
                plan,
                lambda sql, p: counted.append(scan_all(scratch, sql, p)),
                counted.clear,
                lambda sql, p: describe(scratch, sql, p),
            )
            rows = counted[-1]
            problems, count = rejects(scratch, params["rt"], plan.path)
            head = frame(scratch, f"SELECT * FROM {read_sql} LIMIT {int(head_rows)}", params)
        except duckdb.Error as exc:
            raise IngestError(message(exc, staged)) from None
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
    with stage_upload(source, limits) as staged:
        read_path = staged.raw_path if staged.head_is_utf8 else staged.utf8_path()
        job = _IngestJob(name, str(original_filename), header, delimiter, limits, on_bad_rows)
        try:
            return _ingest_staged(warehouse, staged, read_path, job)
        except NotUtf8Error:
            return _ingest_staged(warehouse, staged, staged.utf8_path(), job)


def _ingest_staged(warehouse: Warehouse, staged: StagedCsv, read_path: Path, job: _IngestJob) -> DatasetInfo:
    table = dataset_table(job.name)
    with warehouse.transaction() as cur:
        if cur.execute("SELECT 1 FROM dataset_catalogue WHERE name = ?", [job.name]).fetchone():
            raise IngestError(f"A dataset named {job.name!r} exists already: choose another name or delete it first.")
        try:
            plan = plan_csv(cur, read_path, job.header, job.delimiter, job.limits)
            problems, count = _load_table(cur, plan, table)
        except duckdb.Error as exc:
            if read_path == staged.raw_path and not staged.is_utf8:
                raise NotUtf8Error from None
            raise IngestError(message(exc, staged)) from None
        facts = staged.facts
        if read_path == staged.raw_path and not staged.is_utf8:
            raise NotUtf8Error
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
            columns=describe(cur, table, []),
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


def _row_count_refusal(rows: int, limits: IngestLimits) -> str | None:
    if rows > limits.max_rows:
        return f"The file has {rows:,} rows; the limit is {limits.max_rows:,}."
    if rows == 0:
        return "The file has no data rows (only a header, or only malformed rows)."
    return None


def _load_table(cur: duckdb.DuckDBPyConnection, plan: CsvPlan, table: str) -> tuple[tuple[CsvProblem, ...], int]:
    """Create `table` from the CSV inside the caller's transaction; return the malformed rows left out."""
    _, params, _ = read_all(
        cur,
        plan,
        lambda sql, p: cur.execute(f"CREATE TABLE {table} AS SELECT * FROM {sql}", p),
        lambda: cur.execute(f"DROP TABLE {table}"),
        lambda sql, p: describe(cur, table, []),
    )
    found = rejects(cur, params["rt"], plan.path)
    drop_rejects(cur, params)
    return found

"""Reading a staged CSV file with DuckDB: the plan (delimiter, header, names, refused quoting), the read that stands
(types from every row when a late value breaks the sampled type, text for types CTAS cannot read back), and the
malformed rows by line."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core import csvformat
from core.warehouse.catalogue import Column
from core.warehouse.errors import CsvProblem, IngestError
from core.warehouse.sql import quote_identifier, readable_type
from core.warehouse.staging import IngestLimits

MAX_REPORTED_PROBLEMS = 50
PLAN_SAMPLE_ROWS = 4096  # rows sniffed to fix header and names; column types use DuckDB's own sample


@dataclass(frozen=True)
class CsvPlan:
    """How DuckDB is to read one staged, UTF-8 CSV file."""

    path: Path
    delimiter: str
    has_header: bool
    names: tuple[str, ...]
    renamed: dict[str, str]


def plan_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: bool | None,
    delimiter: str | None,
    limits: IngestLimits,
) -> CsvPlan:
    """Fix delimiter, header and column names for reading `path`."""
    head_text = csvformat.decode_head(path, "utf-8")
    if delimiter is None:
        delimiter = csvformat.sniff_delimiter(head_text)
    elif delimiter not in csvformat.DELIMITERS:
        raise IngestError("The delimiter must be a comma, semicolon, tab or pipe.")
    written = len(csvformat.header_names(head_text, delimiter))
    if written > limits.max_columns:  # before DuckDB sniffs: a very wide file would take minutes to refuse
        raise IngestError(f"The file has at least {written:,} columns; the limit is {limits.max_columns:,}.")
    sniffed = _sniff(path, delimiter, header)
    if sniffed is None:  # DuckDB's strict sniffer gave up (ragged rows, say): describe leniently instead
        header, columns = _describe_leniently(con, path, delimiter, header)
    else:
        quote, has_header, columns = sniffed
        _refuse_unclosed_quote(quote, delimiter, head_text)
        header = has_header if header is None else header
    if len(columns) > limits.max_columns:
        raise IngestError(f"The file has {len(columns):,} columns; the limit is {limits.max_columns:,}.")
    if header:
        source_names = csvformat.header_names(head_text, delimiter)
        if len(source_names) != len(columns):
            source_names = list(columns)
    else:
        source_names = [f"column_{i}" for i in range(1, len(columns) + 1)]
    names = csvformat.clean_column_names(source_names)
    renamed = {old: new for old, new in zip(source_names, names, strict=True) if old != new and header}
    return CsvPlan(path, delimiter, bool(header), tuple(names), renamed)


def _sniff(path: Path, delimiter: str, header: bool | None) -> tuple[str, bool, list[str]] | None:
    """DuckDB's sniff of the file's start: its quote, whether the first row is a header, and the column names; None
    when the sniffer gives up. A scratch connection, so a failed sniff never aborts the caller's transaction."""
    scratch = duckdb.connect(":memory:")
    try:
        quote, has_header, columns = scratch.execute(
            f"SELECT Quote, HasHeader, Columns FROM sniff_csv($path, delim = $delim, sample_size = {PLAN_SAMPLE_ROWS}"
            f"{_header_arg(header)})",
            {"path": str(path), "delim": delimiter},
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        scratch.close()
    return quote, bool(has_header), [column["name"] for column in columns]


def _describe_leniently(
    con: duckdb.DuckDBPyConnection, path: Path, delimiter: str, header: bool | None
) -> tuple[bool, list[str]]:
    """Header and column names as DuckDB reads the file with malformed rows set aside."""
    base = (
        "read_csv($path, delim = $delim, store_rejects = true, rejects_table = $rt, rejects_scan = $rs, "
        f"sample_size = {PLAN_SAMPLE_ROWS}"
    )
    params = {"path": str(path), "delim": delimiter, "rt": "ctas_plan_errors", "rs": "ctas_plan_scans"}
    auto = con.execute(f"DESCRIBE SELECT * FROM {base}{_header_arg(header)})", params).fetchall()
    if header is None:
        with_header = con.execute(f"DESCRIBE SELECT * FROM {base}, header = true)", params).fetchall()
        header = [r[:2] for r in auto] == [r[:2] for r in with_header]
    return header, [r[0] for r in auto]


def _refuse_unclosed_quote(quote: str, delimiter: str, head_text: str) -> None:
    """A field that opens with a double quote which never closes would be stored with its quote as text: DuckDB's
    sniffer then reads the file as unquoted. Refuse it, naming the line (a quote inside a field is no such case)."""
    if quote == '"':
        return
    opening = re.compile(rf'(?:^|{re.escape(delimiter)})"', re.MULTILINE)
    closed = re.compile(rf'"(?:[^"]|"")*"(?={re.escape(delimiter)}|\r?\n|$)')  # unambiguous: linear
    found = opening.search(head_text)
    while found is not None and (field := closed.match(head_text, found.end() - 1)) is not None:
        found = opening.search(head_text, field.end())
    if found is not None:
        line = head_text.count("\n", 0, found.end()) + 1
        raise IngestError(
            f'Line {line} opens a quoted field (a field starting with ") that is never closed; nothing was '
            "stored. Close the quote or remove it, and upload the file again."
        )


def _header_arg(header: bool | None) -> str:
    return "" if header is None else f", header = {'true' if header else 'false'}"


def _read_csv_sql(
    plan: CsvPlan, tag: str, full_sample: bool = False, text_columns: tuple[str, ...] = ()
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


def read_all(
    con: duckdb.DuckDBPyConnection,
    plan: CsvPlan,
    run: Callable[[str, dict], object],
    undo: Callable[[], object],
    described: Callable[[str, dict], tuple[Column, ...]],
) -> tuple[str, dict, tuple[Column, ...]]:
    """Run `run(read_sql, params)` over the whole file. If a value late in the file broke the type sniffed from the
    first rows, `undo()` and run again with types inferred from every row; if a column came out as a type CTAS cannot
    read back (DuckDB's BIGNUM for integers wider than 128 bits, say), `undo()` and read it as text. Returns the read
    that stood and its columns (`described` of it)."""
    read_sql, params = _read_csv_sql(plan, uuid.uuid4().hex)
    run(read_sql, params)
    full_sample = _has_cast_errors(con, params["rt"])
    if full_sample:
        undo()
        drop_rejects(con, params)
        read_sql, params = _read_csv_sql(plan, uuid.uuid4().hex, full_sample=True)
        run(read_sql, params)
    columns = described(read_sql, params)
    unreadable = tuple(c.name for c in columns if not readable_type(c.type))
    if unreadable:
        undo()
        drop_rejects(con, params)
        read_sql, params = _read_csv_sql(plan, uuid.uuid4().hex, full_sample, text_columns=unreadable)
        run(read_sql, params)
        columns = described(read_sql, params)
    return read_sql, params, columns


def scan_all(con: duckdb.DuckDBPyConnection, read_sql: str, params: dict) -> int:
    """Parse every value of every row (recording malformed rows) and return the row count."""
    return int(con.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {read_sql}", params).fetchall()[0][0])


def _has_cast_errors(cur: duckdb.DuckDBPyConnection, rejects_table: str) -> bool:
    row = cur.execute(f"SELECT count(*) FROM {quote_identifier(rejects_table)} WHERE error_type = 'CAST'").fetchone()
    return bool(row[0])


def rejects(con: duckdb.DuckDBPyConnection, rejects_table: str, path: Path) -> tuple[tuple[CsvProblem, ...], int]:
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


def drop_rejects(cur: duckdb.DuckDBPyConnection, params: dict) -> None:
    for key in ("rt", "rs"):
        cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(params[key])}")


def describe(con: duckdb.DuckDBPyConnection, relation: str, params: list | dict) -> tuple[Column, ...]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
    return tuple(Column(r[0], r[1]) for r in rows)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""

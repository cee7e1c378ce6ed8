"""SQL helpers every store uses: quoted identifiers, exact DataFrames from queries, readable DuckDB errors."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from core.warehouse.errors import WarehouseError

DATASET_SCHEMA = "datasets"
# Types a query result can hand to pandas as they are; any other column is read as text (see `frame`)
_READABLE = re.compile(
    r"(BOOLEAN|U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|VARCHAR|JSON|DATE|TIME|"
    r"TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?|INTERVAL|UUID)(\[\])*"  # and lists of them
)


def quote_identifier(name: str) -> str:
    """`name` as a DuckDB identifier, whatever characters it holds."""
    if "\x00" in name:
        raise WarehouseError("Identifiers cannot contain NUL characters.")
    return '"' + name.replace('"', '""') + '"'


def dataset_table(name: str) -> str:
    """The quoted, schema-qualified table that holds dataset `name`."""
    return f"{quote_identifier(DATASET_SCHEMA)}.{quote_identifier(name)}"


def readable_type(kind: str) -> bool:
    """Whether a column of this DuckDB type reaches pandas as it is (others are read as text)."""
    return _READABLE.fullmatch(kind) is not None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None) -> pd.DataFrame:
    """A query's result as a DataFrame, exact: 128-bit integers (beyond float precision) come back as Python ints,
    dates pandas cannot hold (such as 'infinity') and values of types pandas has none for (BIGNUM, say) as text."""
    described = con.execute(f"DESCRIBE {sql}", params).fetchall()
    wide = [row[0] for row in described if row[1] in ("HUGEINT", "UHUGEINT")]
    temporal = [row[0] for row in described if row[1].startswith(("DATE", "TIMESTAMP", "TIME"))]
    text = [row[0] for row in described if not readable_type(row[1]) and row[0] not in wide]
    try:
        result = con.execute(_as_text(sql, wide + text), params).df()
    except duckdb.ConversionException:
        if not temporal:
            raise
        result = con.execute(_as_text(sql, wide + text + temporal), params).df()
    for column in wide:
        result[column] = result[column].astype(object).map(int, na_action="ignore")
    return result


def _as_text(sql: str, columns: list[str]) -> str:
    if not columns:
        return sql
    casts = ", ".join(f"CAST({quote_identifier(n)} AS VARCHAR) AS {quote_identifier(n)}" for n in columns)
    return f"SELECT * REPLACE ({casts}) FROM ({sql})"


def duckdb_message(exc: duckdb.Error) -> str:
    """The useful part of a DuckDB error, without its type prefix and hints."""
    text = str(exc).strip()
    text = re.sub(r"^[A-Za-z ]+Error:\s*", "", text)
    return " ".join(text.splitlines()[:3])[:500]

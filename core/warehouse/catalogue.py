"""The dataset catalogue: every uploaded CSV file is a table in the `datasets` schema and a row here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from core.warehouse.errors import DatasetNotFoundError
from core.warehouse.migrations import Migrations
from core.warehouse.sql import DATASET_SCHEMA, dataset_table

if TYPE_CHECKING:
    from core.warehouse.connection import Warehouse

MIGRATIONS: Migrations = (
    (
        f"CREATE SCHEMA IF NOT EXISTS {DATASET_SCHEMA}",
        """CREATE TABLE dataset_catalogue (
            name VARCHAR PRIMARY KEY,
            original_filename VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            columns STRUCT(name VARCHAR, type VARCHAR)[] NOT NULL,
            encoding VARCHAR NOT NULL,
            delimiter VARCHAR NOT NULL,
            has_header BOOLEAN NOT NULL,
            skipped_rows BIGINT NOT NULL,
            size_bytes BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
    ),
)
FIELDS = (
    "name, original_filename, sha256, rows, columns, encoding, delimiter, has_header, skipped_rows, size_bytes, "
    "created_at"
)


@dataclass(frozen=True)
class Column:
    """A column as stored: its name and DuckDB type."""

    name: str
    type: str


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of the dataset catalogue."""

    name: str
    original_filename: str
    sha256: str
    rows: int
    columns: tuple[Column, ...]
    encoding: str
    delimiter: str
    has_header: bool
    skipped_rows: int
    size_bytes: int
    created_at: datetime

    def row(self) -> list:
        """The catalogue row, in the order of `FIELDS`."""
        columns = [{"name": c.name, "type": c.type} for c in self.columns]
        return [self.name, self.original_filename, self.sha256, self.rows, columns, self.encoding, self.delimiter,
                self.has_header, self.skipped_rows, self.size_bytes, self.created_at]  # fmt: skip


def _dataset_info(row: tuple) -> DatasetInfo:
    fields = dict(zip([f.strip() for f in FIELDS.split(",")], row, strict=True))
    fields["columns"] = tuple(Column(c["name"], c["type"]) for c in fields["columns"])
    return DatasetInfo(**fields)


def list_datasets(warehouse: Warehouse) -> list[DatasetInfo]:
    """Every catalogued dataset, newest first."""
    rows = (
        warehouse.cursor().execute(f"SELECT {FIELDS} FROM dataset_catalogue ORDER BY created_at DESC, name").fetchall()
    )
    return [_dataset_info(row) for row in rows]


def dataset(warehouse: Warehouse, name: str) -> DatasetInfo:
    """The catalogue entry of one dataset."""
    row = warehouse.cursor().execute(f"SELECT {FIELDS} FROM dataset_catalogue WHERE name = ?", [name]).fetchone()
    if row is None:
        raise DatasetNotFoundError(f"There is no dataset named {name!r}.")
    return _dataset_info(row)


def read_dataset(warehouse: Warehouse, name: str, limit: int | None = None) -> pd.DataFrame:
    """A dataset's rows in stored order, the first `limit` of them if given."""
    dataset(warehouse, name)
    sql = f"SELECT * FROM {dataset_table(name)}"
    if limit is not None:
        return warehouse.query(sql + " LIMIT ?", [int(limit)])
    return warehouse.query(sql)


def profile_dataset(warehouse: Warehouse, name: str) -> pd.DataFrame:
    """Per column: type, exact non-null count, approximate distinct count, minimum and maximum."""
    info = dataset(warehouse, name)
    table = dataset_table(name)
    summary = warehouse.query(f"SUMMARIZE {table}")
    non_null = warehouse.cursor().execute(f"SELECT count(COLUMNS(*)) FROM {table}").fetchall()[0]
    return pd.DataFrame(
        {
            "column": [c.name for c in info.columns],
            "type": [c.type for c in info.columns],
            "non_null": [int(n) for n in non_null],
            "distinct (approx.)": summary["approx_unique"].astype("int64").to_numpy(),
            "min": summary["min"].astype("string").to_numpy(),
            "max": summary["max"].astype("string").to_numpy(),
        }
    )


def drop_dataset(warehouse: Warehouse, name: str) -> None:
    """Delete a dataset's table and its catalogue entry."""
    with warehouse.transaction() as cur:
        if cur.execute("SELECT 1 FROM dataset_catalogue WHERE name = ?", [name]).fetchone() is None:
            raise DatasetNotFoundError(f"There is no dataset named {name!r}.")
        cur.execute(f"DROP TABLE IF EXISTS {dataset_table(name)}")
        cur.execute("DELETE FROM dataset_catalogue WHERE name = ?", [name])

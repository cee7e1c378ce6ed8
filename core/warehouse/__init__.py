"""The CTAS warehouse: one DuckDB file. This package owns the connection, transactions, the migration runner, the
dataset catalogue and CSV ingest; each capability keeps its tables and queries in its own `store.py`, a `Store` over
the warehouse. Only this package and `store.py` modules use the duckdb module."""

from core.warehouse.catalogue import Column, DatasetInfo
from core.warehouse.connection import DEFAULT_PATH, Warehouse, open_warehouse, resolve_path
from core.warehouse.errors import CsvProblem, DatasetNotFoundError, IngestError, WarehouseError, WarehouseLockedError
from core.warehouse.ingest import CsvPreview
from core.warehouse.migrations import ENV_VAR, Migrations, Store
from core.warehouse.sql import DATASET_SCHEMA, dataset_table, quote_identifier
from core.warehouse.staging import IngestLimits

__all__ = [
    "DATASET_SCHEMA",
    "DEFAULT_PATH",
    "ENV_VAR",
    "Column",
    "CsvPreview",
    "CsvProblem",
    "DatasetInfo",
    "DatasetNotFoundError",
    "IngestError",
    "IngestLimits",
    "Migrations",
    "Store",
    "Warehouse",
    "WarehouseError",
    "WarehouseLockedError",
    "dataset_table",
    "open_warehouse",
    "quote_identifier",
    "resolve_path",
]

"""The warehouse file: one DuckDB connection per process and file, a cursor per thread, writes serialised by a lock
and run in transactions (a failed write leaves nothing behind), and lock errors that name the holding process."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from core.warehouse import catalogue, ingest, migrations
from core.warehouse.errors import WarehouseError, WarehouseLockedError
from core.warehouse.migrations import ENV_VAR, Migrations
from core.warehouse.sql import duckdb_message, frame

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "ctas.duckdb"


def resolve_path(path: str | os.PathLike[str] | None = None) -> str:
    """The warehouse location: `path`, else $CTAS_WAREHOUSE, else data/ctas.duckdb; ':memory:' stays as it is."""
    chosen = str(path) if path is not None else os.environ.get(ENV_VAR) or str(DEFAULT_PATH)
    return chosen if chosen == ":memory:" else str(Path(chosen).expanduser().resolve())


class Warehouse:
    """A DuckDB warehouse file shared by every thread of this process.

    It owns the connection, the transactions, the migration runner and the dataset catalogue with its CSV ingest;
    each capability keeps its own tables and queries in a `Store` over it.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = resolve_path(path)
        self._con = _connect(self.path)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._migrated: dict[str, int] = {}
        self._models_folder: Path | None = None
        try:
            with self.transaction() as cur:
                migrations.upgrade_layout(cur, self.path)
            self.migrate("catalogue", catalogue.MIGRATIONS)
        except BaseException:
            self._con.close()
            raise

    # the dataset catalogue and CSV ingest, each in its own module
    list_datasets = catalogue.list_datasets
    dataset = catalogue.dataset
    read_dataset = catalogue.read_dataset
    profile_dataset = catalogue.profile_dataset
    drop_dataset = catalogue.drop_dataset
    preview_csv = ingest.preview_csv
    ingest_csv = ingest.ingest_csv

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    def private_cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the caller's own (close it): what it registers is visible to its queries only."""
        return self._con.cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A serialised write transaction: committed if the block succeeds, rolled back if it raises.

        A transaction opened inside another one on the same thread joins it.
        """
        with self._write_lock:
            cur = self.cursor()
            if getattr(self._local, "in_transaction", False):  # nested: join the open transaction
                yield cur
                return
            cur.begin()
            self._local.in_transaction = True
            try:
                yield cur
            except BaseException:
                cur.rollback()
                raise
            else:
                try:
                    cur.commit()
                except duckdb.Error as exc:
                    cur.rollback()
                    raise WarehouseError(f"The change could not be saved: {duckdb_message(exc)}") from None
            finally:
                self._local.in_transaction = False

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a read-only query with bound parameters and return its result as a DataFrame."""
        return frame(self.cursor(), sql, params)

    def migrate(self, component: str, steps: Migrations) -> None:
        """Bring one component's tables up to date (once per process; stores call this when attached)."""
        if self._migrated.get(component) == len(steps):
            return
        joined = getattr(self._local, "in_transaction", False)  # the caller's transaction may still roll back
        with self.transaction() as cur:
            migrations.migrate(cur, self.path, component, steps)
        if not joined:
            self._migrated[component] = len(steps)

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        _forget(self)
        self._con.close()

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the `meta` table."""
        return int(self.get_meta("schema_version") or 0)

    def schema_versions(self) -> dict[str, int]:
        """The version of every component's tables in this file."""
        rows = self.cursor().execute("SELECT key, value FROM meta WHERE key LIKE 'schema:%' ORDER BY key").fetchall()
        return {key.removeprefix("schema:"): int(value) for key, value in rows}

    def get_meta(self, key: str) -> str | None:
        """A value from the `meta` table, or None."""
        row = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value in the `meta` table."""
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def size_bytes(self) -> int:
        """Bytes on disk of the warehouse file and its write-ahead log (0 in memory)."""
        if self.path == ":memory:":
            return 0
        return sum(p.stat().st_size for p in (Path(self.path), Path(self.path + ".wal")) if p.exists())

    @property
    def models_folder(self) -> Path:
        """Where files CTAS writes for the warehouse live (models, profiles): beside the file (in memory: a
        temporary folder)."""
        if self._models_folder is None:
            if self.path == ":memory:":
                folder = Path(tempfile.mkdtemp(prefix="ctas-models-"))
            else:
                folder = Path(self.path).with_suffix(".models")
            folder.mkdir(parents=True, exist_ok=True)
            self._models_folder = folder
        return self._models_folder


_registry: dict[str, Warehouse] = {}
_registry_lock = threading.Lock()


def open_warehouse(path: str | os.PathLike[str] | None = None) -> Warehouse:
    """The process's warehouse for `path` (default: $CTAS_WAREHOUSE or data/ctas.duckdb), opened once."""
    resolved = resolve_path(path)
    with _registry_lock:
        warehouse = _registry.get(resolved)
        if warehouse is None or resolved == ":memory:":
            warehouse = Warehouse(resolved)
            if resolved != ":memory:":
                _registry[resolved] = warehouse
        return warehouse


def _forget(warehouse: Warehouse) -> None:
    with _registry_lock:
        if _registry.get(warehouse.path) is warehouse:
            del _registry[warehouse.path]


_LOCK_PID = re.compile(r"PID (\d+)")


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    if path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"Cannot create the folder for the warehouse {path}: {exc.strerror}.") from None
    try:
        return duckdb.connect(path)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            pid = _LOCK_PID.search(text)
            holder = f" (PID {pid.group(1)})" if pid else ""
            raise WarehouseLockedError(
                f"The warehouse {path} is open in another process{holder}. Stop that CTAS instance, "
                f"or set {ENV_VAR} to another file."
            ) from None
        raise WarehouseError(f"Cannot open the warehouse {path}: {duckdb_message(exc)}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"Cannot open the warehouse {path}: {duckdb_message(exc)}") from None

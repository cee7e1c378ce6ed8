"""Datasets exported as partitioned Parquet for the workers of a compute cluster.

The warehouse file has one writer; workers read copies. An export goes to the shared folder (the environment
variable CTAS_SHARED_DIR, which every worker must see at the same path; by default a folder beside the warehouse
file), into a subfolder named by the query and its parameters, written under a temporary name and renamed into
place, so a reader never sees half an export and the same export is written once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from core.warehouse.connection import Warehouse
from core.warehouse.errors import WarehouseError
from core.warehouse.sql import duckdb_message, quote_identifier

SHARED_ENV = "CTAS_SHARED_DIR"


def shared_folder(warehouse: Warehouse) -> Path:
    """The folder exports go to: $CTAS_SHARED_DIR, else `<warehouse>.shared` beside the file (in memory: a
    temporary folder)."""
    configured = os.environ.get(SHARED_ENV, "").strip()
    if configured:
        folder = Path(configured)
        if not folder.is_absolute():
            raise WarehouseError(f"{SHARED_ENV} must be an absolute path: each worker would resolve it elsewhere.")
    elif warehouse.path == ":memory:":
        folder = Path(tempfile.gettempdir()) / "ctas-shared"
    else:
        folder = Path(warehouse.path).with_suffix(".shared")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"The shared folder for the compute cluster cannot be made: {exc.strerror}.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WarehouseError(f"The shared folder for the compute cluster ({SHARED_ENV}) is not writable.")
    return folder


def export_parquet(warehouse: Warehouse, select: str, params: list, *, partition_by: str, version: str = "") -> Path:
    """The rows of `select` (a query CTAS built, with `?` parameters) as Parquet files under `<folder>/data`, one
    subfolder per value of `partition_by` (hive style, `column=value`); returns the folder.

    `version` (say, the dataset's creation time) names the data's state, so a changed dataset is exported anew.
    """
    digest = hashlib.sha256(json.dumps([select, params, partition_by, version], default=str).encode()).hexdigest()
    target = shared_folder(warehouse) / f"export-{digest[:24]}"
    if target.is_dir():
        return target
    try:
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        staging.chmod(0o755)  # workers may run as another user
    except OSError as exc:
        raise WarehouseError(f"The export for the compute cluster cannot be written: {exc.strerror}.") from None
    options = f"FORMAT parquet, PARTITION_BY ({quote_identifier(partition_by)})"
    literal = "'" + str(staging / "data").replace("'", "''") + "'"  # COPY takes no parameter for its target
    cur = warehouse.private_cursor()
    try:
        cur.execute(f"COPY ({select}) TO {literal} ({options})", params)
    except duckdb.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise WarehouseError(f"The export for the compute cluster failed: {duckdb_message(exc)}") from None
    finally:
        cur.close()
    try:
        staging.rename(target)
    except OSError:  # another export of the same data won the race: keep theirs
        shutil.rmtree(staging, ignore_errors=True)
    return target

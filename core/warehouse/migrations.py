"""Schema migrations: the catalogue and every capability's store own an ordered list of migrations, never edited.

Each component's version is kept in `meta` under `schema:<component>`; a store brings its tables up to date when it
is first attached to a warehouse (`Store`). Files written before components had versions of their own (schema v1
to v5, one global list) are read this way: global version v means that the first migration of each of the first v
components of `LEGACY_ORDER` has run, and those first migrations are the old statements verbatim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import duckdb

from core.warehouse.errors import WarehouseError

if TYPE_CHECKING:
    from core.warehouse.connection import Warehouse

Migrations = tuple[tuple[str, ...], ...]
LAYOUT_VERSION = 6  # the global 'schema_version' from now on; CTAS before per-component versions refuses these
LEGACY_ORDER = ("catalogue", "fbas", "monitor", "automl", "behaviour")
ENV_VAR = "CTAS_WAREHOUSE"


def _newer(path: str, what: str, found: int, known: int) -> WarehouseError:
    return WarehouseError(
        f"The warehouse {path} has {what} version {found}, newer than this CTAS understands ({known}). "
        f"Update CTAS, or set {ENV_VAR} to another file."
    )


def _meta(cur: duckdb.DuckDBPyConnection, key: str) -> int:
    row = cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    try:
        return int(row[0]) if row else 0
    except ValueError:
        raise WarehouseError(f"The warehouse's {key} entry ({row[0]!r}) is not a version number.") from None


def upgrade_layout(cur: duckdb.DuckDBPyConnection, path: str) -> None:
    """Create `meta`, refuse a file from a newer CTAS, and record the component versions of a v1–v5 file."""
    cur.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    version = _meta(cur, "schema_version")
    if version > LAYOUT_VERSION:
        raise _newer(path, "schema", version, LAYOUT_VERSION)
    if version < LAYOUT_VERSION:
        for component in LEGACY_ORDER[:version]:
            cur.execute("INSERT OR IGNORE INTO meta VALUES (?, '1')", [f"schema:{component}"])
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(LAYOUT_VERSION)])


def migrate(cur: duckdb.DuckDBPyConnection, path: str, component: str, migrations: Migrations) -> None:
    """Run the migrations of `component` that this file has not had yet; refuse a file where it is newer."""
    version = _meta(cur, f"schema:{component}")
    if version > len(migrations):
        raise _newer(path, f"{component} schema", version, len(migrations))
    for statements in migrations[version:]:
        for statement in statements:
            cur.execute(statement)
    cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"schema:{component}", str(len(migrations))])


class Store:
    """A capability's tables and queries over one warehouse; its migrations run the first time it is attached."""

    component: ClassVar[str | None] = None
    migrations: ClassVar[Migrations] = ()

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        if self.component is not None:
            warehouse.migrate(self.component, self.migrations)

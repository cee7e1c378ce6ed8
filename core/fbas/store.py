"""Saved what-if scenarios of FBAS networks in the warehouse: named JSON payloads, unique per kind."""

from __future__ import annotations

from datetime import UTC, datetime

from core.warehouse import Migrations, Store, WarehouseError

MIGRATIONS: Migrations = (
    (
        """CREATE TABLE scenarios (
            kind VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            payload VARCHAR NOT NULL,
            PRIMARY KEY (kind, name)
        )""",
    ),
)
MAX_NAME = 80


class ScenarioStore(Store):
    """Named what-if scenarios (JSON payloads) of one kind, e.g. "fbas"."""

    component = "fbas"
    migrations = MIGRATIONS

    def save(self, kind: str, name: str, payload: str) -> str:
        """Store a scenario; names are unique per kind. Returns the name as stored (spaces normalised)."""
        name = " ".join(str(name).split())
        if not name or len(name) > MAX_NAME:
            raise WarehouseError(f"A scenario needs a name of 1 to {MAX_NAME} characters.")
        with self.warehouse.transaction() as cur:
            if cur.execute("SELECT 1 FROM scenarios WHERE kind = ? AND name = ?", [kind, name]).fetchone():
                raise WarehouseError(f"A scenario named {name!r} exists already: choose another name.")
            created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            cur.execute("INSERT INTO scenarios VALUES (?, ?, ?, ?)", [kind, name, created, payload])
        return name

    def names(self, kind: str) -> list[tuple[str, datetime]]:
        """(name, saved at) of every scenario of one kind, newest first."""
        return (
            self.warehouse.cursor()
            .execute("SELECT name, created_at FROM scenarios WHERE kind = ? ORDER BY created_at DESC, name", [kind])
            .fetchall()
        )

    def load(self, kind: str, name: str) -> str:
        """The payload of a saved scenario."""
        row = (
            self.warehouse.cursor()
            .execute("SELECT payload FROM scenarios WHERE kind = ? AND name = ?", [kind, name])
            .fetchone()
        )
        if row is None:
            raise WarehouseError(f"There is no saved scenario named {name!r}.")
        return row[0]

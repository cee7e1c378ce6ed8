"""The Bitcoin network page's data in the warehouse: block sets and daily series an analyst uploaded (checked
before anything is written, each written in one transaction), and the alerts already raised, so each is published
to the investigations stream once."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from core.cases import Signal, built, publish
from core.chain.signals import alert_signal, episode_signal
from core.warehouse import Migrations, Store, WarehouseError

MIGRATIONS: Migrations = (
    (
        """CREATE TABLE chain_sources (
            name VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            rows BIGINT NOT NULL,
            first_label VARCHAR NOT NULL,
            last_label VARCHAR NOT NULL
        )""",
        """CREATE TABLE chain_blocks (
            source VARCHAR NOT NULL, height BIGINT NOT NULL, pool VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
            PRIMARY KEY (source, height)
        )""",
        """CREATE TABLE chain_series (
            source VARCHAR NOT NULL, series VARCHAR NOT NULL, day DATE NOT NULL, value DOUBLE NOT NULL,
            PRIMARY KEY (source, series, day)
        )""",
        """CREATE TABLE chain_alerts (
            key VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, level VARCHAR NOT NULL, raised_at TIMESTAMP NOT NULL
        )""",
    ),
)
KINDS = ("blocks", "series")
MAX_NAME = 80
RESERVED_PREFIXES = ("shared:", "sample:")  # the built-in sets' names


class ChainStore(Store):
    """Uploaded block sets and series, and the alerts published from them."""

    component = "chain"
    migrations = MIGRATIONS

    @staticmethod
    def _new_source(cur, name: str, kind: str, rows: int, span: tuple[str, str]) -> str:
        name = " ".join(str(name).split())
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise WarehouseError(f"A {kind} upload needs a name of 1 to {MAX_NAME} printable characters.")
        if name.lower().startswith(RESERVED_PREFIXES):
            raise WarehouseError(f"Names starting with {', '.join(RESERVED_PREFIXES)} are the built-in sets'.")
        if cur.execute("SELECT 1 FROM chain_sources WHERE name = ?", [name]).fetchone():
            raise WarehouseError(f"There is already an upload named {name!r}: choose another name or delete it.")
        created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        cur.execute("INSERT INTO chain_sources VALUES (?, ?, ?, ?, ?, ?)", [name, kind, created, rows, *span])
        return name

    def save_blocks(self, name: str, blocks: pd.DataFrame) -> str:
        """Store a checked block table (height, pool, ts) under a new name; returns the name as stored."""
        first, last = f"{int(blocks['height'].iloc[0]):,}", f"{int(blocks['height'].iloc[-1]):,}"
        with self.warehouse.transaction() as cur:
            name = self._new_source(cur, name, "blocks", len(blocks), (first, last))
            cur.register("_new_blocks", blocks[["height", "pool", "ts"]].assign(source=name))
            cur.execute("INSERT INTO chain_blocks SELECT source, height, pool, ts FROM _new_blocks")
            cur.unregister("_new_blocks")
        return name

    def save_series(self, name: str, series: dict[str, pd.Series]) -> str:
        """Store checked daily series (name to values by day) under a new name; returns the name as stored."""
        long = pd.concat(
            [pd.DataFrame({"series": key, "day": s.index.date, "value": s.to_numpy()}) for key, s in series.items()],
            ignore_index=True,
        )
        with self.warehouse.transaction() as cur:
            span = (str(long["day"].min()), str(long["day"].max()))
            name = self._new_source(cur, name, "series", len(long), span)
            cur.register("_new_series", long.assign(source=name))
            cur.execute("INSERT INTO chain_series SELECT source, series, day, value FROM _new_series")
            cur.unregister("_new_series")
        return name

    def sources(self, kind: str) -> pd.DataFrame:
        """The uploads of one kind (name, created_at, rows, first and last height or day), newest first."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return self.warehouse.query(
            "SELECT name, created_at, rows, first_label, last_label FROM chain_sources WHERE kind = ? "
            "ORDER BY created_at DESC, name",
            [kind],
        )

    def blocks(self, name: str) -> pd.DataFrame:
        """An uploaded block set (height, pool, ts), in height order."""
        return self.warehouse.query(
            "SELECT height, pool, ts FROM chain_blocks WHERE source = ? ORDER BY height", [name]
        )

    def series(self, name: str) -> dict[str, pd.Series]:
        """An uploaded set of daily series, by series name."""
        long = self.warehouse.query(
            "SELECT series, day, value FROM chain_series WHERE source = ? ORDER BY series, day", [name]
        )
        return {
            key: pd.Series(
                group["value"].to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(group["day"]), name="day"), name=key
            )
            for key, group in long.groupby("series", sort=True)
        }

    def delete(self, name: str) -> None:
        """Remove an upload and its rows."""
        with self.warehouse.transaction() as cur:
            for table in ("chain_blocks", "chain_series", "chain_alerts"):
                cur.execute(f"DELETE FROM {table} WHERE source = ?", [name])
            cur.execute("DELETE FROM chain_sources WHERE name = ?", [name])

    def raise_alerts(self, source: str, alerts: pd.DataFrame, episodes: pd.DataFrame | None = None) -> int:
        """Record the monitor's alerts and the fee episodes of a source, publishing those not raised before to the
        investigations stream; returns how many were new."""
        items = [(f"bitcoin:{source}:{a['level']}:{a['height']}:{a['pool']}", a, "alert") for a in _rows(alerts)]
        items += [(f"bitcoin:{source}:fees:{e['peak_day']:%Y-%m-%d}", e, "episode") for e in _rows(episodes)]
        with self.warehouse.transaction() as cur:
            known = {
                row[0] for row in cur.execute("SELECT key FROM chain_alerts WHERE source = ?", [source]).fetchall()
            }
            new = [(key, row, kind) for key, row, kind in items if key not in known]
            levels = {key: row["level"] if kind == "alert" else "fees" for key, row, kind in new}
            signals = built(new, lambda item: _signal(item, source))
            now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            for signal in signals:  # a finding that cannot be published is not recorded, so it is tried again
                cur.execute(
                    "INSERT INTO chain_alerts VALUES (?, ?, ?, ?)", [signal.key, source, levels[signal.key], now]
                )
            if signals:
                publish(self.warehouse, signals)  # joins this transaction: recorded and published together
        return len(signals)


def _signal(item: tuple[str, dict, str], source: str) -> Signal:
    key, row, kind = item
    return (alert_signal if kind == "alert" else episode_signal)(key, source, row)


def _rows(frame: pd.DataFrame | None) -> list[dict]:
    return [] if frame is None or frame.empty else frame.to_dict(orient="records")

"""Threat intelligence in the warehouse: feeds and their indicators, match runs and their hits.

A feed is (re)loaded as one all-or-nothing upsert: inside one transaction its indicators are merged with what the
feed held before (first seen kept, last seen and confidence refreshed, indicators the feed dropped kept with their
old last seen), and its catalogue row is replaced. A failure leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb
import pandas as pd

from core.cases import publish
from core.intel.feeds import FEED_COLUMNS, Feed
from core.intel.signals import match_signals
from core.warehouse import DatasetNotFoundError, Migrations, Store, WarehouseError, dataset_table, quote_identifier
from core.warehouse.sql import duckdb_message

MIGRATIONS: Migrations = (
    (
        """CREATE TABLE intel_feeds (
            name VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            origin VARCHAR NOT NULL,
            published_at TIMESTAMP,
            loaded_at TIMESTAMP NOT NULL,
            indicators BIGINT NOT NULL,
            skipped BIGINT NOT NULL,
            sha256 VARCHAR NOT NULL
        )""",
        """CREATE TABLE intel_indicators (
            source VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            confidence INTEGER NOT NULL,
            family VARCHAR,
            tags VARCHAR,
            first_seen TIMESTAMP NOT NULL,
            last_seen TIMESTAMP NOT NULL,
            loaded_at TIMESTAMP NOT NULL
        )""",
        "CREATE SEQUENCE intel_match_ids",
        """CREATE TABLE intel_match_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('intel_match_ids'),
            dataset VARCHAR NOT NULL,
            columns VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            events BIGINT NOT NULL,
            hits BIGINT NOT NULL,
            seconds DOUBLE NOT NULL
        )""",
        """CREATE TABLE intel_hits (
            run_id BIGINT NOT NULL,
            dataset VARCHAR NOT NULL,
            row_number BIGINT NOT NULL,
            event_time TIMESTAMP,
            column_name VARCHAR NOT NULL,
            observed VARCHAR NOT NULL,
            indicator_type VARCHAR NOT NULL,
            indicator VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            family VARCHAR,
            confidence INTEGER NOT NULL,
            lat DOUBLE,
            lon DOUBLE
        )""",
        # the threat map's overlay (core.warehouse.layers): each dataset's hits of its latest match run
        """CREATE VIEW map_layer_intel_hits AS
            SELECT h.dataset, h.lat, h.lon,
                   h.indicator || ' (' || h.source || coalesce(', ' || h.family, '') || ')' AS label,
                   h.event_time AS time
            FROM intel_hits h
            WHERE h.run_id = (SELECT max(r.id) FROM intel_match_runs r WHERE r.dataset = h.dataset)""",
    ),
    (
        "CREATE SEQUENCE intel_report_ids",
        """CREATE TABLE intel_reports (
            id BIGINT PRIMARY KEY DEFAULT nextval('intel_report_ids'),
            name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            characters BIGINT NOT NULL,
            saved_at TIMESTAMP NOT NULL
        )""",
        # what a saved report names: indicators (type, value) and techniques (value = id) with how they were found
        """CREATE TABLE intel_report_items (
            report_id BIGINT NOT NULL,
            kind VARCHAR NOT NULL CHECK (kind IN ('indicator', 'technique')),
            type VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            confidence DOUBLE NOT NULL,
            evidence VARCHAR NOT NULL
        )""",
    ),
)
# New indicators merged with what the feed held: first seen kept, last seen refreshed, dropped ones left as they were.
_MERGE = """CREATE OR REPLACE TEMP TABLE _merged AS
    SELECT $name AS source, n.type, n.value, n.confidence, n.family, n.tags,
           least(n.first_seen, coalesce(o.first_seen, n.first_seen)) AS first_seen,
           greatest(n.last_seen, coalesce(o.last_seen, n.last_seen)) AS last_seen, $now AS loaded_at
    FROM _new_indicators n
    LEFT JOIN (SELECT * FROM intel_indicators WHERE source = $name) o USING (type, value)
    UNION ALL
    SELECT o.* FROM intel_indicators o ANTI JOIN _new_indicators n USING (type, value)
    WHERE o.source = $name"""
HIT_COLUMNS = (
    "row_number",
    "event_time",
    "column_name",
    "observed",
    "indicator_type",
    "indicator",
    "source",
    "family",
    "confidence",
    "lat",
    "lon",
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def digest(data: bytes) -> str:
    """The SHA-256 of a feed file's bytes, recorded with the feed."""
    return hashlib.sha256(data).hexdigest()


class IntelStore(Store):
    """Feeds, indicators, match runs and hits."""

    component = "intel"
    migrations = MIGRATIONS

    def load_feed(self, name: str, kind: str, origin: str, feed: Feed, sha256: str) -> int:
        """Upsert a feed's indicators and catalogue row in one transaction; returns how many it now holds."""
        now = _now()
        new = feed.indicators[list(FEED_COLUMNS)].copy()
        new["first_seen"] = new["first_seen"].fillna(now)
        new["last_seen"] = new["last_seen"].fillna(now)
        try:
            with self.warehouse.transaction() as cur:
                cur.register("_new_indicators", new)
                cur.execute(_MERGE, {"name": name, "now": now})
                cur.unregister("_new_indicators")
                cur.execute("DELETE FROM intel_indicators WHERE source = ?", [name])
                cur.execute("INSERT INTO intel_indicators SELECT * FROM _merged")
                held = cur.execute("SELECT count(*) FROM _merged").fetchone()[0]
                cur.execute("DROP TABLE _merged")
                cur.execute(
                    "INSERT OR REPLACE INTO intel_feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [name, kind, origin, feed.published, now, held, feed.skipped, sha256],
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"Feed {name} could not be loaded: {duckdb_message(exc)}") from None
        return int(held)

    def drop_feed(self, name: str) -> None:
        """Remove a feed and its indicators (hits already recorded keep their provenance)."""
        with self.warehouse.transaction() as cur:
            cur.execute("DELETE FROM intel_indicators WHERE source = ?", [name])
            cur.execute("DELETE FROM intel_feeds WHERE name = ?", [name])

    def feeds(self) -> pd.DataFrame:
        """Every feed: name, kind, origin, published and loaded times, indicator count, skipped lines, checksum."""
        return self.warehouse.query("SELECT * FROM intel_feeds ORDER BY name")

    def indicator_counts(self) -> pd.DataFrame:
        """Indicators per feed and type."""
        return self.warehouse.query(
            "SELECT source, type, count(*) AS indicators FROM intel_indicators GROUP BY ALL ORDER BY source, type"
        )

    def indicators(self, types: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Indicators (optionally of some types) with their provenance."""
        if types is None:
            return self.warehouse.query("SELECT * FROM intel_indicators")
        return self.warehouse.query(
            "SELECT * FROM intel_indicators WHERE list_contains($types, type)", {"types": list(types)}
        )

    def values_by_type(self) -> dict[str, list[str]]:
        """The distinct indicator values of each type."""
        cur = self.warehouse.private_cursor()
        types = [row[0] for row in cur.execute("SELECT DISTINCT type FROM intel_indicators").fetchall()]
        return {
            kind: cur.sql("SELECT DISTINCT value FROM intel_indicators WHERE type = $kind", params={"kind": kind})
            .to_arrow_table()["value"]
            .to_pylist()
            for kind in types
        }

    def lookup(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Every feed entry for (type, value) pairs: type, value, source, family, confidence."""
        cur = self.warehouse.private_cursor()
        cur.register("_pairs", pd.DataFrame({"type": pairs["type"].astype(str), "value": pairs["value"].astype(str)}))
        found = cur.execute(
            "SELECT DISTINCT i.type, i.value, i.source, i.family, i.confidence FROM intel_indicators i "
            "JOIN _pairs p USING (type, value) ORDER BY i.type, i.value, i.source"
        ).df()
        cur.unregister("_pairs")
        return found

    def event_values(self, dataset: str, columns: list[str], time_column: str | None, geo: tuple[str, str] | None):
        """A dataset's values in `columns` as text, with its row number, event time and location when given."""
        known = {c.name for c in self.warehouse.dataset(dataset).columns}
        for column in [*columns, *([time_column] if time_column else []), *(geo or ())]:
            if column not in known:
                raise DatasetNotFoundError(f"Dataset {dataset!r} has no column {column!r}")
        parts = [f"CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier('v:' + c)}" for c in columns]
        time_sql = f"TRY_CAST({quote_identifier(time_column)} AS TIMESTAMP)" if time_column else "NULL::TIMESTAMP"
        lat_sql, lon_sql = (
            (f"TRY_CAST({quote_identifier(geo[0])} AS DOUBLE)", f"TRY_CAST({quote_identifier(geo[1])} AS DOUBLE)")
            if geo
            else ("NULL::DOUBLE", "NULL::DOUBLE")
        )
        return self.warehouse.query(
            f"SELECT row_number() OVER () - 1 AS row_number, {time_sql} AS event_time, {lat_sql} AS lat, "
            f"{lon_sql} AS lon, {', '.join(parts)} FROM {dataset_table(dataset)}"
        )

    def sample_rows(self, dataset: str, limit: int) -> pd.DataFrame:
        """The first `limit` rows of a dataset."""
        self.warehouse.dataset(dataset)  # refuses an unknown name
        return self.warehouse.query(f"SELECT * FROM {dataset_table(dataset)} LIMIT ?", [int(limit)])

    def save_hits(self, dataset: str, columns: list[str], events: int, seconds: float, hits: pd.DataFrame) -> int:
        """Record a match run and its hits in one transaction; returns the run's id."""
        with self.warehouse.transaction() as cur:
            run_id = cur.execute(
                "INSERT INTO intel_match_runs (dataset, columns, started_at, events, hits, seconds) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [dataset, ",".join(columns), _now(), events, len(hits), seconds],
            ).fetchone()[0]
            if len(hits):
                cur.register("_hits", hits[list(HIT_COLUMNS)])
                cur.execute(
                    f"INSERT INTO intel_hits SELECT ?, ?, {', '.join(HIT_COLUMNS)} FROM _hits", [run_id, dataset]
                )
                cur.unregister("_hits")
                publish(self.warehouse, match_signals(int(run_id), dataset, hits, pd.Timestamp(_now())))
        return int(run_id)

    def save_report(self, name: str, text: str, items: pd.DataFrame) -> int:
        """Record a report (its name, checksum and length) and what it names (`items`: kind, type, value, confidence,
        evidence), replacing a report of the same text; returns its id."""
        sha256 = digest(text.encode("utf-8", "replace"))
        with self.warehouse.transaction() as cur:
            cur.execute(
                "DELETE FROM intel_report_items WHERE report_id IN (SELECT id FROM intel_reports WHERE sha256 = ?)",
                [sha256],
            )
            cur.execute("DELETE FROM intel_reports WHERE sha256 = ?", [sha256])
            report_id = cur.execute(
                "INSERT INTO intel_reports (name, sha256, characters, saved_at) VALUES (?, ?, ?, ?) RETURNING id",
                [name, sha256, len(text), _now()],
            ).fetchone()[0]
            cur.register("_items", items[["kind", "type", "value", "confidence", "evidence"]])
            cur.execute(
                "INSERT INTO intel_report_items SELECT DISTINCT ON (kind, type, value) ?, * FROM _items", [report_id]
            )
            cur.unregister("_items")
        return int(report_id)

    def report_items(self, report_id: int) -> pd.DataFrame:
        """What one saved report names."""
        return self.warehouse.query(
            "SELECT kind, type, value, confidence, evidence FROM intel_report_items WHERE report_id = ? "
            "ORDER BY kind, type, value",
            [int(report_id)],
        )

    def match_runs(self) -> pd.DataFrame:
        """Every match run, newest first."""
        return self.warehouse.query("SELECT * FROM intel_match_runs ORDER BY id DESC")

    def hits(self, run_id: int) -> pd.DataFrame:
        """A run's hits."""
        return self.warehouse.query("SELECT * FROM intel_hits WHERE run_id = ? ORDER BY row_number", [int(run_id)])

"""Warehouse datasets read as events for the threat map: columns in roles, time spans, frequent values, and
per-cell aggregates computed in DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from core.warehouse import DatasetNotFoundError, Store, WarehouseError, dataset_table, quote_identifier
from core.warehouse.export import export_parquet
from core.warehouse.sql import duckdb_message, frame

# How each event role is read from a dataset column (`{0}`: the quoted column); what does not convert is NULL.
EVENT_CASTS = {
    "lat": "TRY_CAST({0} AS DOUBLE)",
    "lon": "TRY_CAST({0} AS DOUBLE)",
    "severity": "TRY_CAST({0} AS DOUBLE)",
    "port": "TRY_CAST({0} AS DOUBLE)",
    "time": "CASE WHEN TRY_CAST({0} AS TIMESTAMP) BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP "
    "'9999-12-31 23:59:59' THEN TRY_CAST({0} AS TIMESTAMP) END",  # years pandas and Python can hold
    "category": "CAST({0} AS VARCHAR)",
    "source": "CAST({0} AS VARCHAR)",
}


class EventStore(Store):
    """Warehouse datasets read as events: columns in roles, time spans, frequent values, per-cell aggregates."""

    def event_columns(self, name: str, roles: dict[str, str]) -> pd.DataFrame:
        """A dataset's columns read as event fields, in stored order: `roles` maps a role to a column name.

        Roles: lat, lon, severity and port are read as DOUBLE, time as TIMESTAMP, category and source as text; a value
        that does not convert (or a time outside years 1–9999) becomes missing (NULL / NaN) rather than failing.
        """
        return self.warehouse.query(self._events_sql(name, roles))

    def time_span(self, name: str, column: str) -> tuple[datetime, datetime] | None:
        """First and last readable time of a column (clipped to years 1–9999), None when none is readable."""
        self._check_column(name, column)
        value = EVENT_CASTS["time"].format(quote_identifier(column))
        row = (
            self.warehouse.cursor()
            .execute(f"SELECT min({value}), max({value}) FROM {dataset_table(name)}")
            .fetchall()[0]
        )
        return None if row[0] is None else (row[0], row[1])

    def top_values(self, name: str, column: str, limit: int = 50) -> list[str]:
        """The `limit` most frequent non-empty values of a column, as text, most frequent first."""
        self._check_column(name, column)
        value = EVENT_CASTS["category"].format(quote_identifier(column))
        rows = (
            self.warehouse.cursor()
            .execute(
                f"SELECT {value} AS v FROM {dataset_table(name)} WHERE {value} IS NOT NULL AND {value} <> '' "
                f"GROUP BY v ORDER BY count(*) DESC, v LIMIT ?",
                [int(limit)],
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def export_events(self, name: str, roles: dict[str, str], origin: datetime, version: str = "") -> Path:
        """The dataset's timed, located events (the roles as in `event_columns`) as Parquet partitioned by `week`
        (whole weeks since `origin`), in the shared folder the cluster's workers read; returns its folder."""
        if "time" not in roles:
            raise ValueError("a time column is needed to export events by week")
        events = self._events_sql(name, roles)
        select = f"""SELECT *, CAST(floor(epoch(time - CAST(? AS TIMESTAMP)) / 604800) AS BIGINT) AS week
                     FROM ({events}) WHERE time IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL"""
        return export_parquet(self.warehouse, select, [origin], partition_by="week", version=f"{name}@{version}")

    def _events_sql(self, name: str, roles: dict[str, str]) -> str:
        """The query reading a dataset's columns as event fields (roles checked, identifiers quoted)."""
        selected = []
        for role, column in roles.items():
            if role not in EVENT_CASTS:
                raise ValueError(f"unknown event role {role!r}")
            self._check_column(name, column)
            selected.append(f"{EVENT_CASTS[role].format(quote_identifier(column))} AS {quote_identifier(role)}")
        return f"SELECT {', '.join(selected)} FROM {dataset_table(name)}"

    def _check_column(self, name: str, column: str) -> None:
        if column not in {c.name for c in self.warehouse.dataset(name).columns}:
            raise DatasetNotFoundError(f"Dataset {name!r} has no column {column!r}")

    def aggregate_cells(
        self, events: pd.DataFrame, *, bucket: str | None = None, origin: datetime | None = None, top: int = 3
    ) -> pd.DataFrame:
        """Per H3 cell (and per time bucket, e.g. '7 days', counted from `origin`): events, mean severity (of the
        events that have one), distinct sources, first and last time, and the `top` most frequent categories.
        `events` has a `cell` column (UBIGINT, 0 = not indexed) and optionally time, severity, source and category;
        rows with cell 0 are left out."""
        columns = set(events.columns)
        keys = ["cell"] + (["bucket"] if bucket else [])
        bucket_sql = ""
        if bucket:
            start = ", CAST($origin AS TIMESTAMP)" if origin is not None else ""
            bucket_sql = f"time_bucket(CAST($bucket AS INTERVAL), time{start}) AS bucket, "
        measures = ["count(*) AS events"]
        measures.append("avg(severity) AS mean_severity" if "severity" in columns else "NULL::DOUBLE AS mean_severity")
        measures.append("count(DISTINCT source) AS sources" if "source" in columns else "0 AS sources")
        if "time" in columns:
            measures += ["min(time) AS first_seen", "max(time) AS last_seen"]
        top_sql = ""
        if "category" in columns:
            top_sql = f"""
            , counted AS (
                SELECT {", ".join(keys)}, category, count(*) AS n FROM points
                WHERE category IS NOT NULL GROUP BY {", ".join(keys)}, category)
            , ranked AS (
                SELECT *, row_number() OVER (PARTITION BY {", ".join(keys)} ORDER BY n DESC, category) AS rank
                FROM counted)
            , tops AS (
                SELECT {", ".join(keys)}, string_agg(category || ' (' || n || ')', ', ' ORDER BY rank) AS top_categories
                FROM ranked WHERE rank <= $top GROUP BY {", ".join(keys)})"""
        join = f" LEFT JOIN tops USING ({', '.join(keys)})" if top_sql else ""
        sql = f"""
            WITH points AS (SELECT CAST(cell AS UBIGINT) AS cell, {bucket_sql}* EXCLUDE (cell) FROM frame
                            WHERE cell <> 0),
            totals AS (SELECT {", ".join(keys)}, {", ".join(measures)} FROM points GROUP BY {", ".join(keys)}){top_sql}
            SELECT * FROM totals{join} ORDER BY {", ".join(keys)}"""
        params = {"top": top} if top_sql else {}
        if bucket:
            params["bucket"] = bucket
            if origin is not None:
                params["origin"] = origin
        cur = self.warehouse.private_cursor()  # a private cursor: the registered frame is visible to this query only
        try:
            cur.register("frame", events)
            return frame(cur, sql, params)
        except duckdb.Error as exc:
            raise WarehouseError(f"The events could not be aggregated: {duckdb_message(exc)}") from None
        finally:
            cur.close()

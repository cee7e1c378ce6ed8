"""The CTAS warehouse: one DuckDB file, and the only module that talks to DuckDB.

One connection per process and file (`open_warehouse`), a cursor per thread, writes serialised by a lock and run in
transactions, so a failed write leaves nothing behind. The schema is versioned in the `meta` table and migrated
forward on open. Uploaded CSV files become tables in the `datasets` schema and rows in `dataset_catalogue`.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Literal

import duckdb
import pandas as pd

from core import csvformat
from core.csvformat import CsvFormatError, FileFacts

ENV_VAR = "CTAS_WAREHOUSE"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "ctas.duckdb"
DATASET_SCHEMA = "datasets"
MAX_REPORTED_PROBLEMS = 50
PLAN_SAMPLE_ROWS = 4096  # rows sniffed to fix header and names; column types use DuckDB's own sample

# Forward migrations: entry i takes the schema from version i to version i + 1. Never edit a released entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
    (
        """CREATE TABLE scenarios (
            kind VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            payload VARCHAR NOT NULL,
            PRIMARY KEY (kind, name)
        )""",
    ),
    (
        "CREATE TABLE host_samples (ts TIMESTAMP NOT NULL, metric VARCHAR NOT NULL, value DOUBLE)",
        """CREATE TABLE host_rollups (
            minute TIMESTAMP NOT NULL,
            metric VARCHAR NOT NULL,
            samples INTEGER NOT NULL,
            mean DOUBLE,
            low DOUBLE,
            high DOUBLE,
            PRIMARY KEY (minute, metric)
        )""",
        """CREATE TABLE host_processes (
            ts TIMESTAMP NOT NULL, pid INTEGER NOT NULL, name VARCHAR, username VARCHAR,
            cpu_percent DOUBLE, memory_percent DOUBLE
        )""",
        """CREATE TABLE alert_rules (
            name VARCHAR PRIMARY KEY,
            metric VARCHAR NOT NULL,
            threshold DOUBLE NOT NULL,
            duration_s DOUBLE NOT NULL,
            hysteresis DOUBLE NOT NULL,
            severity VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            enabled BOOLEAN NOT NULL
        )""",
        "CREATE SEQUENCE alert_ids",
        """CREATE TABLE alerts (
            id BIGINT PRIMARY KEY DEFAULT nextval('alert_ids'),
            rule VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            peak DOUBLE,
            acknowledged_at TIMESTAMP
        )""",
    ),
    (
        "CREATE SEQUENCE experiment_ids",
        """CREATE TABLE automl_experiments (
            id BIGINT PRIMARY KEY DEFAULT nextval('experiment_ids'),
            name VARCHAR NOT NULL,
            dataset VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            task VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            budget_s DOUBLE NOT NULL,
            seed INTEGER NOT NULL,
            test_size DOUBLE NOT NULL,
            started_at TIMESTAMP NOT NULL,
            elapsed_s DOUBLE NOT NULL,
            cv_score DOUBLE,
            test_score DOUBLE,
            best_model VARCHAR NOT NULL,
            test_metrics JSON NOT NULL,
            warnings JSON NOT NULL
        )""",
        """CREATE TABLE automl_trials (
            experiment_id BIGINT NOT NULL,
            number INTEGER NOT NULL,
            model VARCHAR NOT NULL,
            params JSON NOT NULL,
            state VARCHAR NOT NULL,
            cv_score DOUBLE,
            fold_scores DOUBLE[] NOT NULL,
            fit_s DOUBLE NOT NULL,
            predict_s DOUBLE NOT NULL,
            at_s DOUBLE NOT NULL,
            message VARCHAR NOT NULL,
            PRIMARY KEY (experiment_id, number)
        )""",
        """CREATE TABLE model_registry (
            name VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            experiment_id BIGINT,
            created_at TIMESTAMP NOT NULL,
            file VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            task VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            cv_score DOUBLE,
            test_score DOUBLE,
            description VARCHAR NOT NULL,
            features JSON NOT NULL,
            PRIMARY KEY (name, version)
        )""",
    ),
    (
        """CREATE TABLE behaviour_profiles (
            "user" VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            enrolled_at TIMESTAMP NOT NULL,
            method VARCHAR NOT NULL,
            modalities VARCHAR[] NOT NULL,
            windows JSON NOT NULL,
            file VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            PRIMARY KEY ("user", version)
        )""",
        """CREATE TABLE behaviour_scores (
            "user" VARCHAR NOT NULL,
            ts TIMESTAMP NOT NULL,
            keystroke DOUBLE,
            mouse DOUBLE,
            app DOUBLE,
            fused DOUBLE,
            state VARCHAR NOT NULL,
            source VARCHAR NOT NULL
        )""",
        "CREATE SEQUENCE behaviour_alert_ids",
        """CREATE TABLE behaviour_alerts (
            id BIGINT PRIMARY KEY DEFAULT nextval('behaviour_alert_ids'),
            "user" VARCHAR NOT NULL,
            ts TIMESTAMP NOT NULL,
            from_state VARCHAR NOT NULL,
            to_state VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            score DOUBLE NOT NULL,
            recommendation VARCHAR NOT NULL,
            source VARCHAR NOT NULL
        )""",
        """CREATE TABLE behaviour_feed (
            source VARCHAR PRIMARY KEY,
            updated_at TIMESTAMP NOT NULL,
            accepted BIGINT NOT NULL,
            rejected JSON NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
ROLLUP_LATE = timedelta(minutes=10)
BEHAVIOUR_SCORE_COLUMNS = ("user", "ts", "keystroke", "mouse", "app", "fused", "state", "source")
BEHAVIOUR_ALERT_COLUMNS = ("user", "ts", "from_state", "to_state", "severity", "score", "recommendation", "source")
HOST_PROCESS_COLUMNS = ("ts", "pid", "name", "username", "cpu_percent", "memory_percent")
ALERT_RULE_COLUMNS = ("name", "metric", "threshold", "duration_s", "hysteresis", "severity", "action", "enabled")
EXPERIMENT_COLUMNS = (
    "name",
    "dataset",
    "target",
    "task",
    "metric",
    "status",
    "rows",
    "budget_s",
    "seed",
    "test_size",
    "started_at",
    "elapsed_s",
    "cv_score",
    "test_score",
    "best_model",
    "test_metrics",
    "warnings",
)
TRIAL_COLUMNS = (
    "number",
    "model",
    "params",
    "state",
    "cv_score",
    "fold_scores",
    "fit_s",
    "predict_s",
    "at_s",
    "message",
)
MODEL_COLUMNS = (
    "name",
    "version",
    "experiment_id",
    "created_at",
    "file",
    "sha256",
    "task",
    "target",
    "metric",
    "cv_score",
    "test_score",
    "description",
    "features",
)

Source = str | os.PathLike[str] | bytes | BinaryIO
BadRows = Literal["fail", "skip"]


class WarehouseError(Exception):
    """A warehouse operation failed; the message is written for the analyst."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file open for writing."""


class DatasetNotFoundError(WarehouseError):
    """No dataset of that name is in the catalogue."""


@dataclass(frozen=True)
class CsvProblem:
    """One malformed row: its line in the file, what is wrong, and the start of the line."""

    line: int | None
    kind: str
    message: str
    text: str = ""


class IngestError(WarehouseError):
    """An ingest was refused; nothing was written. `problems` lists malformed rows, if that was the reason."""

    def __init__(self, message: str, problems: tuple[CsvProblem, ...] = (), problem_count: int = 0) -> None:
        super().__init__(message)
        self.problems = problems
        self.problem_count = problem_count or len(problems)


@dataclass(frozen=True)
class IngestLimits:
    """Upper bounds on what one CSV ingest accepts."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 20_000_000
    max_columns: int = 2_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_columns"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


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


@dataclass(frozen=True)
class CsvPreview:
    """What an ingest would store, found without writing anything."""

    facts: FileFacts
    delimiter: str
    has_header: bool
    columns: tuple[Column, ...]
    renamed: dict[str, str]
    head: pd.DataFrame
    rows: int
    problems: tuple[CsvProblem, ...]
    problem_count: int
    same_content_as: tuple[str, ...] = field(default=())
    refusal: str | None = None  # why ingest would refuse the file whatever the analyst chooses


@dataclass(frozen=True)
class _CsvPlan:
    """How DuckDB is to read one staged, UTF-8 CSV file."""

    path: Path
    delimiter: str
    has_header: bool
    names: tuple[str, ...]
    renamed: dict[str, str]


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


def quote_identifier(name: str) -> str:
    """`name` as a DuckDB identifier, whatever characters it holds."""
    if "\x00" in name:
        raise WarehouseError("Identifiers cannot contain NUL characters.")
    return '"' + name.replace('"', '""') + '"'


def dataset_table(name: str) -> str:
    """The quoted, schema-qualified table that holds dataset `name`."""
    return f"{quote_identifier(DATASET_SCHEMA)}.{quote_identifier(name)}"


def resolve_path(path: str | os.PathLike[str] | None = None) -> str:
    """The warehouse location: `path`, else $CTAS_WAREHOUSE, else data/ctas.duckdb; ':memory:' stays as it is."""
    chosen = str(path) if path is not None else os.environ.get(ENV_VAR) or str(DEFAULT_PATH)
    return chosen if chosen == ":memory:" else str(Path(chosen).expanduser().resolve())


class Warehouse:
    """A DuckDB warehouse file shared by every thread of this process."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = resolve_path(path)
        self._con = _connect(self.path)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        try:
            self._migrate()
        except BaseException:
            self._con.close()
            raise

    # -- connections and transactions ------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

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
                    raise WarehouseError(f"The change could not be saved: {_duckdb_message(exc)}") from None
            finally:
                self._local.in_transaction = False

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a read-only query with bound parameters and return its result as a DataFrame."""
        return _frame(self.cursor(), sql, params)

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        _forget(self)
        self._con.close()

    # -- schema ----------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise WarehouseError(
                    f"The warehouse {self.path} has schema version {version}, newer than this CTAS understands "
                    f"({SCHEMA_VERSION}). Update CTAS, or set {ENV_VAR} to another file."
                )
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    cur.execute(statement)
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the `meta` table."""
        return int(self.get_meta("schema_version") or 0)

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

    # -- catalogue -------------------------------------------------------------------------------------------
    def list_datasets(self) -> list[DatasetInfo]:
        """Every catalogued dataset, newest first."""
        rows = (
            self.cursor()
            .execute(f"SELECT {_CATALOGUE_FIELDS} FROM dataset_catalogue ORDER BY created_at DESC, name")
            .fetchall()
        )
        return [_dataset_info(row) for row in rows]

    def dataset(self, name: str) -> DatasetInfo:
        """The catalogue entry of one dataset."""
        row = (
            self.cursor()
            .execute(f"SELECT {_CATALOGUE_FIELDS} FROM dataset_catalogue WHERE name = ?", [name])
            .fetchone()
        )
        if row is None:
            raise DatasetNotFoundError(f"There is no dataset named {name!r}.")
        return _dataset_info(row)

    def read_dataset(self, name: str, limit: int | None = None) -> pd.DataFrame:
        """A dataset's rows in stored order, the first `limit` of them if given."""
        self.dataset(name)
        sql = f"SELECT * FROM {dataset_table(name)}"
        if limit is not None:
            return self.query(sql + " LIMIT ?", [int(limit)])
        return self.query(sql)

    def profile_dataset(self, name: str) -> pd.DataFrame:
        """Per column: type, exact non-null count, approximate distinct count, minimum and maximum."""
        info = self.dataset(name)
        table = dataset_table(name)
        summary = self.query(f"SUMMARIZE {table}")
        non_null = self.cursor().execute(f"SELECT count(COLUMNS(*)) FROM {table}").fetchall()[0]
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

    def event_columns(self, name: str, roles: dict[str, str]) -> pd.DataFrame:
        """A dataset's columns read as event fields, in stored order: `roles` maps a role to a column name.

        Roles: lat, lon, severity and port are read as DOUBLE, time as TIMESTAMP, category and source as text; a value
        that does not convert (or a time outside years 1–9999) becomes missing (NULL / NaN) rather than failing.
        """
        selected = []
        for role, column in roles.items():
            if role not in EVENT_CASTS:
                raise ValueError(f"unknown event role {role!r}")
            self._check_column(name, column)
            selected.append(f"{EVENT_CASTS[role].format(quote_identifier(column))} AS {quote_identifier(role)}")
        return self.query(f"SELECT {', '.join(selected)} FROM {dataset_table(name)}")

    def time_span(self, name: str, column: str) -> tuple[datetime, datetime] | None:
        """First and last readable time of a column (clipped to years 1–9999), None when none is readable."""
        self._check_column(name, column)
        value = EVENT_CASTS["time"].format(quote_identifier(column))
        row = self.cursor().execute(f"SELECT min({value}), max({value}) FROM {dataset_table(name)}").fetchall()[0]
        return None if row[0] is None else (row[0], row[1])

    def top_values(self, name: str, column: str, limit: int = 50) -> list[str]:
        """The `limit` most frequent non-empty values of a column, as text, most frequent first."""
        self._check_column(name, column)
        value = EVENT_CASTS["category"].format(quote_identifier(column))
        rows = (
            self.cursor()
            .execute(
                f"SELECT {value} AS v FROM {dataset_table(name)} WHERE {value} IS NOT NULL AND {value} <> '' "
                f"GROUP BY v ORDER BY count(*) DESC, v LIMIT ?",
                [int(limit)],
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def _check_column(self, name: str, column: str) -> None:
        if column not in {c.name for c in self.dataset(name).columns}:
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
        cur = self._con.cursor()  # a private cursor: the registered frame is visible to this query only
        try:
            cur.register("frame", events)
            return _frame(cur, sql, params)
        except duckdb.Error as exc:
            raise WarehouseError(f"The events could not be aggregated: {_duckdb_message(exc)}") from None
        finally:
            cur.close()

    def drop_dataset(self, name: str) -> None:
        """Delete a dataset's table and its catalogue entry."""
        with self.transaction() as cur:
            if cur.execute("SELECT 1 FROM dataset_catalogue WHERE name = ?", [name]).fetchone() is None:
                raise DatasetNotFoundError(f"There is no dataset named {name!r}.")
            cur.execute(f"DROP TABLE IF EXISTS {dataset_table(name)}")
            cur.execute("DELETE FROM dataset_catalogue WHERE name = ?", [name])

    # -- saved what-if scenarios ----------------------------------------------------------------------------------
    def save_scenario(self, kind: str, name: str, payload: str) -> None:
        """Store a named what-if scenario (a JSON payload) of one kind, e.g. "fbas"; names are unique per kind."""
        name = " ".join(str(name).split())
        if not name or len(name) > 80:
            raise WarehouseError("A scenario needs a name of 1 to 80 characters.")
        with self.transaction() as cur:
            if cur.execute("SELECT 1 FROM scenarios WHERE kind = ? AND name = ?", [kind, name]).fetchone():
                raise WarehouseError(f"A scenario named {name!r} exists already: choose another name.")
            created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            cur.execute("INSERT INTO scenarios VALUES (?, ?, ?, ?)", [kind, name, created, payload])

    def list_scenarios(self, kind: str) -> list[tuple[str, datetime]]:
        """(name, saved at) of every scenario of one kind, newest first."""
        return (
            self.cursor()
            .execute("SELECT name, created_at FROM scenarios WHERE kind = ? ORDER BY created_at DESC, name", [kind])
            .fetchall()
        )

    def load_scenario(self, kind: str, name: str) -> str:
        """The payload of a saved scenario."""
        row = (
            self.cursor().execute("SELECT payload FROM scenarios WHERE kind = ? AND name = ?", [kind, name]).fetchone()
        )
        if row is None:
            raise WarehouseError(f"There is no saved scenario named {name!r}.")
        return row[0]

    # -- host monitoring -------------------------------------------------------------------------------------
    def append_host_samples(self, samples: pd.DataFrame, processes: pd.DataFrame | None = None) -> None:
        """Append metric samples (ts, metric, value) and process snapshots in one transaction."""
        with self.transaction() as cur:
            if len(samples):
                cur.register("_new_samples", samples[["ts", "metric", "value"]])
                cur.execute("INSERT INTO host_samples SELECT ts, metric, value FROM _new_samples")
                cur.unregister("_new_samples")
            if processes is not None and len(processes):
                cur.register("_new_processes", processes[list(HOST_PROCESS_COLUMNS)])
                cur.execute(f"INSERT INTO host_processes SELECT {', '.join(HOST_PROCESS_COLUMNS)} FROM _new_processes")
                cur.unregister("_new_processes")

    def host_metrics(self) -> list[str]:
        """Names of the metrics with raw samples or roll-ups, sorted."""
        rows = self.cursor().execute(
            "SELECT DISTINCT metric FROM host_samples UNION SELECT DISTINCT metric FROM host_rollups ORDER BY 1"
        )
        return [r[0] for r in rows.fetchall()]

    def host_series(
        self, metrics: list[str], since: datetime, until: datetime | None = None, bucket_seconds: int = 1
    ) -> pd.DataFrame:
        """Samples (ts, metric, value) of some metrics since a time: raw where kept, 1-minute means before that;
        averaged over `bucket_seconds` buckets when that is above 1 (charts of long windows)."""
        if bucket_seconds < 1:
            raise ValueError("bucket_seconds must be at least 1")
        return self.query(
            """WITH raw AS (
                   SELECT ts, metric, value FROM host_samples
                   WHERE metric IN (SELECT unnest($metrics)) AND ts >= $since AND ts <= $until),
               first_raw AS (SELECT metric, min(ts) AS t0 FROM raw GROUP BY metric),
               merged AS (
                   SELECT * FROM raw
                   UNION ALL
                   SELECT r.minute AS ts, r.metric, r.mean AS value FROM host_rollups r
                   LEFT JOIN first_raw f USING (metric)
                   WHERE r.metric IN (SELECT unnest($metrics)) AND r.minute >= $since AND r.minute <= $until
                     AND (f.t0 IS NULL OR r.minute < date_trunc('minute', f.t0)))
               SELECT CASE WHEN $bucket = 1 THEN ts ELSE time_bucket(to_seconds($bucket), ts) END AS ts,
                      metric, avg(value) AS value
               FROM merged GROUP BY ALL ORDER BY metric, ts""",
            {
                "metrics": list(metrics),
                "since": since,
                "until": until or datetime(9999, 1, 1),
                "bucket": bucket_seconds,
            },
        )

    def latest_processes(self) -> pd.DataFrame:
        """The most recent process snapshot, busiest first."""
        return self.query(
            f"""SELECT {", ".join(HOST_PROCESS_COLUMNS)} FROM host_processes
                WHERE ts = (SELECT max(ts) FROM host_processes) ORDER BY cpu_percent DESC, memory_percent DESC"""
        )

    def host_sample_count(self) -> int:
        """Raw samples held."""
        return int(self.cursor().execute("SELECT count(*) FROM host_samples").fetchone()[0])

    def apply_host_retention(self, now: datetime, raw_for: timedelta, rollups_for: timedelta) -> None:
        """Roll raw samples up into 1-minute rows, drop raw samples and process snapshots older than `raw_for`
        and roll-ups older than `rollups_for`, in one transaction. Minutes from ROLLUP_LATE before the newest roll-up
        on are rolled up again, so late batches and small clock steps are counted."""
        with self.transaction() as cur:
            cur.execute(
                """INSERT OR REPLACE INTO host_rollups
                   SELECT date_trunc('minute', ts), metric, count(value), avg(value), min(value), max(value)
                   FROM host_samples
                   WHERE ts >= coalesce((SELECT max(minute) FROM host_rollups), TIMESTAMP '1970-01-01') - $late
                   GROUP BY ALL""",
                {"late": ROLLUP_LATE},
            )
            cur.execute("DELETE FROM host_samples WHERE ts < ?", [now - raw_for])
            cur.execute("DELETE FROM host_processes WHERE ts < ?", [now - raw_for])
            cur.execute("DELETE FROM host_rollups WHERE minute < ?", [now - rollups_for])

    def alert_rules(self) -> pd.DataFrame:
        """Every alert rule, by name."""
        return self.query(f"SELECT {', '.join(ALERT_RULE_COLUMNS)} FROM alert_rules ORDER BY name")

    def replace_alert_rules(self, rules: pd.DataFrame) -> None:
        """Replace the whole rule set (the rules editor saves this way), all or nothing."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM alert_rules")
            if len(rules):
                cur.register("_new_rules", rules[list(ALERT_RULE_COLUMNS)])
                cur.execute(f"INSERT INTO alert_rules SELECT {', '.join(ALERT_RULE_COLUMNS)} FROM _new_rules")
                cur.unregister("_new_rules")

    def open_alert(
        self, *, rule: str, metric: str, severity: str, message: str, action: str, started_at: datetime, peak: float
    ) -> int:
        """Record a new alert and return its id."""
        with self.transaction() as cur:
            row = cur.execute(
                """INSERT INTO alerts (rule, metric, severity, message, action, started_at, peak)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [rule, metric, severity, message, action, started_at, peak],
            ).fetchone()
        return int(row[0])

    def update_alert(self, alert_id: int, peak: float, ended_at: datetime | None = None) -> None:
        """Raise an alert's peak, and close it if `ended_at` is given."""
        with self.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET peak = greatest(peak, ?), ended_at = coalesce(?, ended_at) WHERE id = ?",
                [peak, ended_at, alert_id],
            )

    def acknowledge_alert(self, alert_id: int, when: datetime) -> None:
        """Mark an alert acknowledged (once; later acknowledgements keep the first time)."""
        with self.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, ?) WHERE id = ?", [when, alert_id]
            )

    def alerts(self, since: datetime | None = None, open_only: bool = False) -> pd.DataFrame:
        """Alerts active at some time since `since` (all when None: still open, or ended since), newest first;
        `open_only` keeps those not ended."""
        return self.query(
            """SELECT id, rule, metric, severity, message, action, started_at, ended_at, peak, acknowledged_at
               FROM alerts
               WHERE (ended_at IS NULL OR ended_at >= coalesce($since, TIMESTAMP '1970-01-01'))
                 AND (NOT $open_only OR ended_at IS NULL)
               ORDER BY started_at DESC, id DESC""",
            {"since": since, "open_only": open_only},
        )

    # -- AutoML experiments and the model registry ----------------------------------------------------------
    def record_experiment(self, experiment: dict, trials: pd.DataFrame) -> int:
        """Store a finished experiment and its trials in one transaction; returns the experiment's id."""
        with self.transaction() as cur:
            row = cur.execute(
                f"""INSERT INTO automl_experiments ({", ".join(EXPERIMENT_COLUMNS)})
                    VALUES ({", ".join("?" * len(EXPERIMENT_COLUMNS))}) RETURNING id""",
                [experiment[c] for c in EXPERIMENT_COLUMNS],
            ).fetchone()
            experiment_id = int(row[0])
            if len(trials):
                cur.register("_new_trials", trials[list(TRIAL_COLUMNS)])
                cur.execute(
                    f"""INSERT INTO automl_trials (experiment_id, {", ".join(TRIAL_COLUMNS)})
                        SELECT ?, {", ".join(TRIAL_COLUMNS)} FROM _new_trials""",
                    [experiment_id],
                )
                cur.unregister("_new_trials")
        return experiment_id

    def experiments(self) -> pd.DataFrame:
        """Every recorded experiment, newest first."""
        return self.query(f"SELECT id, {', '.join(EXPERIMENT_COLUMNS)} FROM automl_experiments ORDER BY id DESC")

    def experiment_trials(self, experiment_id: int) -> pd.DataFrame:
        """One experiment's trials in the order they ran."""
        return self.query(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM automl_trials WHERE experiment_id = ? ORDER BY number",
            [experiment_id],
        )

    @property
    def models_folder(self) -> Path:
        """Where the model registry keeps its files: beside the warehouse file (a temporary folder in memory)."""
        folder = getattr(self, "_models_folder", None)
        if folder is None:
            if self.path == ":memory:":
                folder = Path(tempfile.mkdtemp(prefix="ctas-models-"))
            else:
                folder = Path(self.path).with_suffix(".models")
            folder.mkdir(parents=True, exist_ok=True)
            self._models_folder = folder
        return folder

    def register_model(self, entry: dict, write_file: Callable[[int], tuple[str, str]]) -> int:
        """Add the next version of a named model; `write_file(version)` saves it and returns (file, sha256).

        The version number and the row are taken in one transaction: if writing the file fails, nothing is
        registered.
        """
        with self.transaction() as cur:
            (latest,) = cur.execute(
                "SELECT coalesce(max(version), 0) FROM model_registry WHERE name = ?", [entry["name"]]
            ).fetchone()
            version = int(latest) + 1
            file, sha256 = write_file(version)
            row = {**entry, "version": version, "file": file, "sha256": sha256}
            placeholders = ", ".join("?" * len(MODEL_COLUMNS))
            cur.execute(
                f"INSERT INTO model_registry ({', '.join(MODEL_COLUMNS)}) VALUES ({placeholders})",
                [row[c] for c in MODEL_COLUMNS],
            )
        return version

    def registered_models(self) -> pd.DataFrame:
        """Every registered model version, newest first."""
        return self.query(f"SELECT {', '.join(MODEL_COLUMNS)} FROM model_registry ORDER BY created_at DESC, name")

    def registered_model(self, name: str, version: int) -> dict:
        """One registered model version's entry."""
        found = self.query(
            f"SELECT {', '.join(MODEL_COLUMNS)} FROM model_registry WHERE name = ? AND version = ?", [name, version]
        )
        if found.empty:
            raise WarehouseError(f"No model {name!r} version {version} is registered.")
        return found.iloc[0].to_dict()

    # -- Behaviour monitoring --------------------------------------------------------------------------------
    def save_behaviour_profile(self, entry: dict, write_file: Callable[[int], tuple[str, str]]) -> int:
        """Add the next profile version of `entry["user"]` (the newest is the active one); returns the version."""
        with self.transaction() as cur:
            (latest,) = cur.execute(
                'SELECT coalesce(max(version), 0) FROM behaviour_profiles WHERE "user" = ?', [entry["user"]]
            ).fetchone()
            version = int(latest) + 1
            file, sha256 = write_file(version)
            cur.execute(
                'INSERT INTO behaviour_profiles ("user", version, enrolled_at, method, modalities, windows, file, '
                "sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [entry["user"], version, entry["enrolled_at"], entry["method"], entry["modalities"],
                 entry["windows"], file, sha256],
            )  # fmt: skip
        return version

    def behaviour_profiles(self) -> pd.DataFrame:
        """The active (newest) profile of every enrolled user, with how many versions they have."""
        return self.query(
            """SELECT "user", version, enrolled_at, method, modalities, windows, file, sha256,
                      count(*) OVER (PARTITION BY "user") AS versions
               FROM behaviour_profiles QUALIFY version = max(version) OVER (PARTITION BY "user") ORDER BY "user" """
        )

    def append_behaviour(self, scores: pd.DataFrame, alerts: pd.DataFrame, feed: dict | None = None) -> None:
        """Store window scores, state alerts and the feed's event counters in one transaction."""
        with self.transaction() as cur:
            if len(scores):
                columns = ", ".join(map(quote_identifier, BEHAVIOUR_SCORE_COLUMNS))
                cur.register("_scores", scores[list(BEHAVIOUR_SCORE_COLUMNS)])
                cur.execute(f"INSERT INTO behaviour_scores ({columns}) SELECT {columns} FROM _scores")
                cur.unregister("_scores")
            if len(alerts):
                columns = ", ".join(map(quote_identifier, BEHAVIOUR_ALERT_COLUMNS))
                cur.register("_alerts", alerts[list(BEHAVIOUR_ALERT_COLUMNS)])
                cur.execute(f"INSERT INTO behaviour_alerts ({columns}) SELECT {columns} FROM _alerts")
                cur.unregister("_alerts")
            if feed is not None:
                cur.execute(
                    "INSERT OR REPLACE INTO behaviour_feed VALUES (?, ?, ?, ?)",
                    [feed["source"], feed["updated_at"], feed["accepted"], feed["rejected"]],
                )

    def behaviour_scores(self, user: str | None = None, last: timedelta | None = None) -> pd.DataFrame:
        """Window scores in time order, for one user or all; `last`: only that span before the newest window."""
        return self.query(
            f"""SELECT {", ".join(map(quote_identifier, BEHAVIOUR_SCORE_COLUMNS))} FROM behaviour_scores
                WHERE ($user IS NULL OR "user" = $user)
                  AND ($span IS NULL OR ts >= (SELECT max(ts) FROM behaviour_scores) - to_microseconds($span))
                ORDER BY ts, "user" """,
            {"user": user, "span": None if last is None else round(last.total_seconds() * 1e6)},
        )

    def behaviour_alerts(self) -> pd.DataFrame:
        """State-change alerts, newest first."""
        return self.query(
            f"""SELECT id, {", ".join(map(quote_identifier, BEHAVIOUR_ALERT_COLUMNS))} FROM behaviour_alerts
                ORDER BY ts DESC, id DESC"""
        )

    def behaviour_feeds(self) -> pd.DataFrame:
        """Per event source: events accepted and rejected (by reason)."""
        return self.query("SELECT source, updated_at, accepted, rejected FROM behaviour_feed ORDER BY source")

    def clear_behaviour_scores(self, source: str) -> None:
        """Forget the scores, alerts and counters of one source (a replay run again starts clean)."""
        with self.transaction() as cur:
            for table in ("behaviour_scores", "behaviour_alerts", "behaviour_feed"):
                cur.execute(f"DELETE FROM {table} WHERE source = ?", [source])

    # -- CSV -------------------------------------------------------------------------------------------------
    def preview_csv(
        self,
        source: Source,
        *,
        header: bool | None = None,
        delimiter: str | None = None,
        limits: IngestLimits | None = None,
        head_rows: int = 20,
    ) -> CsvPreview:
        """Read a CSV file as `ingest_csv` would, without writing to the warehouse."""
        limits = limits or IngestLimits()
        with _staged(source, limits) as staged:
            facts = staged.facts
            scratch = duckdb.connect(":memory:")
            try:
                plan = _plan_csv(scratch, staged.utf8_path(), header, delimiter, limits)
                counted: list[int] = []
                read_sql, params = _read_all(
                    scratch, plan, lambda sql, p: counted.append(_scan_all(scratch, sql, p)), counted.clear
                )
                rows = counted[-1]
                problems, count = _rejects(scratch, params["rt"], plan.path)
                head = _frame(scratch, f"SELECT * FROM {read_sql} LIMIT {int(head_rows)}", params)
                columns = _describe(scratch, read_sql, params)
            except duckdb.Error as exc:
                raise IngestError(_duckdb_message(exc)) from None
            finally:
                scratch.close()
        same = (
            self.cursor()
            .execute("SELECT name FROM dataset_catalogue WHERE sha256 = ? ORDER BY name", [facts.sha256])
            .fetchall()
        )
        refusal = _row_count_refusal(rows, limits)
        return CsvPreview(
            facts=facts,
            delimiter=plan.delimiter,
            has_header=plan.has_header,
            columns=columns,
            renamed=plan.renamed,
            head=head,
            rows=rows,
            problems=problems,
            problem_count=count,
            same_content_as=tuple(r[0] for r in same),
            refusal=refusal,
        )

    def ingest_csv(
        self,
        source: Source,
        name: str,
        *,
        original_filename: str | None = None,
        header: bool | None = None,
        delimiter: str | None = None,
        limits: IngestLimits | None = None,
        on_bad_rows: BadRows = "fail",
    ) -> DatasetInfo:
        """Load a CSV file into a new dataset, all or nothing.

        Delimiter, header and encoding (UTF-8, UTF-8 with BOM, Latin-1, Windows-1252) are detected unless given;
        DuckDB infers the column types. Malformed rows refuse the ingest (`on_bad_rows="fail"`, the default, with
        their line numbers in the error) or are left out and counted (`"skip"`). On any error the warehouse is left
        exactly as it was.
        """
        limits = limits or IngestLimits()
        if on_bad_rows not in ("fail", "skip"):
            raise ValueError("on_bad_rows must be 'fail' or 'skip'")
        try:
            csvformat.validate_dataset_name(name)
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None
        if original_filename is None:
            original_filename = Path(source).name if isinstance(source, str | os.PathLike) else name + ".csv"
        with _staged(source, limits) as staged:
            read_path = staged.raw_path if staged.head_is_utf8 else staged.utf8_path()
            job = _IngestJob(name, str(original_filename), header, delimiter, limits, on_bad_rows)
            try:
                return self._ingest_staged(staged, read_path, job)
            except _NotUtf8Error:
                return self._ingest_staged(staged, staged.utf8_path(), job)

    def _ingest_staged(self, staged: _StagedCsv, read_path: Path, job: _IngestJob) -> DatasetInfo:
        table = dataset_table(job.name)
        with self.transaction() as cur:
            if cur.execute("SELECT 1 FROM dataset_catalogue WHERE name = ?", [job.name]).fetchone():
                raise IngestError(
                    f"A dataset named {job.name!r} exists already: choose another name or delete it first."
                )
            try:
                plan = _plan_csv(cur, read_path, job.header, job.delimiter, job.limits)
                problems, count = _load_table(cur, plan, table)
            except duckdb.Error as exc:
                if read_path == staged.raw_path and not staged.is_utf8:
                    raise _NotUtf8Error from None
                raise IngestError(_duckdb_message(exc)) from None
            facts = staged.facts
            if read_path == staged.raw_path and not staged.is_utf8:
                raise _NotUtf8Error
            if count and job.on_bad_rows == "fail":
                raise IngestError(
                    f"{count} malformed row(s) found (first on line {problems[0].line}); nothing was stored. "
                    "Fix the file, or choose to skip malformed rows.",
                    problems,
                    count,
                )
            rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if refusal := _row_count_refusal(rows, job.limits):
                raise IngestError(refusal)
            info = DatasetInfo(
                name=job.name,
                original_filename=job.original_filename,
                sha256=facts.sha256,
                rows=int(rows),
                columns=_describe(cur, table, []),
                encoding=facts.encoding,
                delimiter=plan.delimiter,
                has_header=plan.has_header,
                skipped_rows=count,
                size_bytes=facts.size,
                created_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            )
            cur.execute(
                f"INSERT INTO dataset_catalogue ({_CATALOGUE_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    info.name,
                    info.original_filename,
                    info.sha256,
                    info.rows,
                    [{"name": c.name, "type": c.type} for c in info.columns],
                    info.encoding,
                    info.delimiter,
                    info.has_header,
                    info.skipped_rows,
                    info.size_bytes,
                    info.created_at,
                ],
            )
        return info


@dataclass(frozen=True)
class _IngestJob:
    """The analyst's choices for one ingest."""

    name: str
    original_filename: str
    header: bool | None
    delimiter: str | None
    limits: IngestLimits
    on_bad_rows: BadRows


_CATALOGUE_FIELDS = (
    "name, original_filename, sha256, rows, columns, encoding, delimiter, has_header, skipped_rows, size_bytes, "
    "created_at"
)


def _dataset_info(row: tuple) -> DatasetInfo:
    fields = dict(zip([f.strip() for f in _CATALOGUE_FIELDS.split(",")], row, strict=True))
    fields["columns"] = tuple(Column(c["name"], c["type"]) for c in fields["columns"])
    return DatasetInfo(**fields)


# -- process-wide registry ------------------------------------------------------------------------------------
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
        raise WarehouseError(f"Cannot open the warehouse {path}: {_duckdb_message(exc)}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"Cannot open the warehouse {path}: {_duckdb_message(exc)}") from None


# -- CSV internals --------------------------------------------------------------------------------------------
class _StagedCsv:
    """An uploaded CSV file on disk. Its checksum and encoding are found in the background while DuckDB reads it."""

    def __init__(self, path: Path, folder: Path, facts: Future[FileFacts], head_is_utf8: bool) -> None:
        self.raw_path = path
        self._folder = folder
        self._facts = facts
        self._utf8_path: Path | None = None
        self.head_is_utf8 = head_is_utf8

    @property
    def facts(self) -> FileFacts:
        """Size, sha256 and encoding (waits for the background scan)."""
        try:
            return self._facts.result()
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None

    @property
    def is_utf8(self) -> bool:
        return self.facts.encoding in ("utf-8", "utf-8-sig")

    def utf8_path(self) -> Path:
        """The file as UTF-8: itself, or a transcoded copy of a Latin-1 / Windows-1252 file."""
        if self.is_utf8:
            return self.raw_path
        if self._utf8_path is None:
            self._utf8_path = self._folder / "upload.utf8.csv"
            csvformat.transcode_to_utf8(self.raw_path, self.facts.encoding, self._utf8_path)
        return self._utf8_path


class _NotUtf8Error(Exception):
    """The file looked like UTF-8 at its start but is not: read it again, transcoded."""


@contextmanager
def _staged(source: Source, limits: IngestLimits) -> Iterator[_StagedCsv]:
    """The source as a file on disk, its facts under way; temporary copies are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ctas-ingest-") as tmp, ThreadPoolExecutor(1) as pool:
        path = _stage(source, Path(tmp) / "upload.csv", limits)
        try:
            head = csvformat.read_head(path)
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None
        yield _StagedCsv(path, Path(tmp), pool.submit(csvformat.scan_file, path), csvformat.head_is_utf8(head))


def _stage(source: Source, target: Path, limits: IngestLimits) -> Path:
    too_big = IngestError(
        f"The file is larger than the {limits.max_bytes / 2**20:,.0f} MiB limit: split it or filter it first."
    )
    if isinstance(source, bytes):
        if len(source) > limits.max_bytes:
            raise too_big
        target.write_bytes(source)
        return target
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise IngestError(f"There is no file at {path}.")
        if path.stat().st_size > limits.max_bytes:
            raise too_big
        return path
    copied = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            copied += len(chunk)
            if copied > limits.max_bytes:
                raise too_big
            out.write(chunk)
    return target


def _plan_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: bool | None,
    delimiter: str | None,
    limits: IngestLimits,
) -> _CsvPlan:
    """Fix delimiter, header and column names for reading `path`."""
    head_text = csvformat.decode_head(path, "utf-8")
    if delimiter is None:
        delimiter = csvformat.sniff_delimiter(head_text)
    elif delimiter not in csvformat.DELIMITERS:
        raise IngestError("The delimiter must be a comma, semicolon, tab or pipe.")
    base = (
        "read_csv($path, delim = $delim, store_rejects = true, rejects_table = $rt, rejects_scan = $rs, "
        f"sample_size = {PLAN_SAMPLE_ROWS}"
    )
    params = {"path": str(path), "delim": delimiter, "rt": "ctas_plan_errors", "rs": "ctas_plan_scans"}
    auto = con.execute(f"DESCRIBE SELECT * FROM {base}{_header_arg(header)})", params).fetchall()
    if header is None:
        with_header = con.execute(f"DESCRIBE SELECT * FROM {base}, header = true)", params).fetchall()
        header = [r[:2] for r in auto] == [r[:2] for r in with_header]
    if len(auto) > limits.max_columns:
        raise IngestError(f"The file has {len(auto):,} columns; the limit is {limits.max_columns:,}.")
    if header:
        source_names = csvformat.header_names(head_text, delimiter)
        if len(source_names) != len(auto):
            source_names = [r[0] for r in auto]
    else:
        source_names = [f"column_{i}" for i in range(1, len(auto) + 1)]
    names = csvformat.clean_column_names(source_names)
    renamed = {old: new for old, new in zip(source_names, names, strict=True) if old != new and header}
    return _CsvPlan(path, delimiter, bool(header), tuple(names), renamed)


def _row_count_refusal(rows: int, limits: IngestLimits) -> str | None:
    if rows > limits.max_rows:
        return f"The file has {rows:,} rows; the limit is {limits.max_rows:,}."
    if rows == 0:
        return "The file has no data rows (only a header, or only malformed rows)."
    return None


def _header_arg(header: bool | None) -> str:
    return "" if header is None else f", header = {'true' if header else 'false'}"


def _read_csv_sql(plan: _CsvPlan, tag: str, full_sample: bool = False) -> tuple[str, dict]:
    sql = (
        "read_csv($path, delim = $delim, header = $header, names = $names, store_rejects = true, "
        f"rejects_table = $rt, rejects_scan = $rs{', sample_size = -1' if full_sample else ''})"
    )
    params = {
        "path": str(plan.path),
        "delim": plan.delimiter,
        "header": plan.has_header,
        "names": list(plan.names),
        "rt": f"ctas_rejects_{tag}",
        "rs": f"ctas_scans_{tag}",
    }
    return sql, params


def _read_all(
    con: duckdb.DuckDBPyConnection, plan: _CsvPlan, run: Callable[[str, dict], object], undo: Callable[[], object]
) -> tuple[str, dict]:
    """Run `run(read_sql, params)` over the whole file. If a value late in the file broke the type sniffed from the
    first rows, `undo()` and run again with types inferred from every row. Returns the read that stood."""
    read_sql, params = _read_csv_sql(plan, uuid.uuid4().hex)
    run(read_sql, params)
    if _has_cast_errors(con, params["rt"]):
        undo()
        _drop_rejects(con, params)
        read_sql, params = _read_csv_sql(plan, uuid.uuid4().hex, full_sample=True)
        run(read_sql, params)
    return read_sql, params


def _load_table(cur: duckdb.DuckDBPyConnection, plan: _CsvPlan, table: str) -> tuple[tuple[CsvProblem, ...], int]:
    """Create `table` from the CSV inside the caller's transaction; return the malformed rows left out."""
    _, params = _read_all(
        cur,
        plan,
        lambda sql, p: cur.execute(f"CREATE TABLE {table} AS SELECT * FROM {sql}", p),
        lambda: cur.execute(f"DROP TABLE {table}"),
    )
    found = _rejects(cur, params["rt"], plan.path)
    _drop_rejects(cur, params)
    return found


def _scan_all(con: duckdb.DuckDBPyConnection, read_sql: str, params: dict) -> int:
    """Parse every value of every row (recording malformed rows) and return the row count."""
    return int(con.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {read_sql}", params).fetchall()[0][0])


def _has_cast_errors(cur: duckdb.DuckDBPyConnection, rejects_table: str) -> bool:
    row = cur.execute(f"SELECT count(*) FROM {quote_identifier(rejects_table)} WHERE error_type = 'CAST'").fetchone()
    return bool(row[0])


def _rejects(con: duckdb.DuckDBPyConnection, rejects_table: str, path: Path) -> tuple[tuple[CsvProblem, ...], int]:
    """The malformed rows recorded by a scan (the first ones, with their line in the file) and how many there are."""
    table = quote_identifier(rejects_table)
    count = con.execute(f"SELECT count(DISTINCT line) FROM {table}").fetchone()[0]
    rows = con.execute(
        "SELECT min(line_byte_position), any_value(error_type::VARCHAR), any_value(error_message), "
        f"any_value(csv_line) FROM {table} GROUP BY line ORDER BY line LIMIT {MAX_REPORTED_PROBLEMS}"
    ).fetchall()
    lines = _line_numbers(path, [int(r[0]) for r in rows])
    problems = tuple(
        CsvProblem(line=lines[position], kind=kind.lower(), message=_first_line(message), text=(text or "")[:200])
        for position, kind, message, text in rows
    )
    return problems, int(count)


def _line_numbers(path: Path, positions: list[int]) -> dict[int, int]:
    """The line of the file (1-based) at each byte offset that DuckDB reports for a malformed row.

    DuckDB counts records, which differ from lines after a quoted field that spans lines.
    """
    found: dict[int, int] = {}
    newlines, offset = 0, 0
    pending = sorted(set(positions))
    with path.open("rb") as fh:
        while pending and (chunk := fh.read(1 << 20)):
            while pending and pending[0] <= offset + len(chunk):
                position = pending.pop(0)
                found[position] = newlines + chunk.count(b"\n", 0, max(position - offset, 0)) + 1
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    for position in pending:
        found[position] = newlines + 1
    return found


def _drop_rejects(cur: duckdb.DuckDBPyConnection, params: dict) -> None:
    for key in ("rt", "rs"):
        cur.execute(f"DROP TABLE IF EXISTS {quote_identifier(params[key])}")


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None) -> pd.DataFrame:
    """A query's result as a DataFrame, exact: 128-bit integers (beyond float precision) come back as Python ints,
    and dates pandas cannot hold (such as 'infinity') as text."""
    described = con.execute(f"DESCRIBE {sql}", params).fetchall()
    wide = [row[0] for row in described if row[1] in ("HUGEINT", "UHUGEINT")]
    temporal = [row[0] for row in described if row[1].startswith(("DATE", "TIMESTAMP", "TIME"))]
    try:
        frame = con.execute(_as_text(sql, wide), params).df()
    except duckdb.ConversionException:
        if not temporal:
            raise
        frame = con.execute(_as_text(sql, wide + temporal), params).df()
    for column in wide:
        frame[column] = frame[column].astype(object).map(int, na_action="ignore")
    return frame


def _as_text(sql: str, columns: list[str]) -> str:
    if not columns:
        return sql
    casts = ", ".join(f"CAST({quote_identifier(n)} AS VARCHAR) AS {quote_identifier(n)}" for n in columns)
    return f"SELECT * REPLACE ({casts}) FROM ({sql})"


def _describe(con: duckdb.DuckDBPyConnection, relation: str, params: list | dict) -> tuple[Column, ...]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}", params).fetchall()
    return tuple(Column(r[0], r[1]) for r in rows)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def _duckdb_message(exc: duckdb.Error) -> str:
    """The useful part of a DuckDB error, without its type prefix and hints."""
    text = str(exc).strip()
    text = re.sub(r"^[A-Za-z ]+Error:\s*", "", text)
    return " ".join(text.splitlines()[:3])[:500]

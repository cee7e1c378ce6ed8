"""Host metrics, process snapshots, alert rules and alerts in the warehouse: raw samples kept for a day, 1-minute
roll-ups for a month."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from core.cases import built, publish
from core.monitor.signals import alert_signal
from core.warehouse import Migrations, Store

MIGRATIONS: Migrations = (
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
)
ROLLUP_LATE = timedelta(minutes=10)
HOST_PROCESS_COLUMNS = ("ts", "pid", "name", "username", "cpu_percent", "memory_percent")
ALERT_RULE_COLUMNS = ("name", "metric", "threshold", "duration_s", "hysteresis", "severity", "action", "enabled")


class HostStore(Store):
    """The host monitor's samples, roll-ups, process snapshots, alert rules and alerts."""

    component = "monitor"
    migrations = MIGRATIONS

    def append_host_samples(self, samples: pd.DataFrame, processes: pd.DataFrame | None = None) -> None:
        """Append metric samples (ts, metric, value) and process snapshots in one transaction."""
        with self.warehouse.transaction() as cur:
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
        rows = self.warehouse.cursor().execute(
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
        return self.warehouse.query(
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
        return self.warehouse.query(
            f"""SELECT {", ".join(HOST_PROCESS_COLUMNS)} FROM host_processes
                WHERE ts = (SELECT max(ts) FROM host_processes) ORDER BY cpu_percent DESC, memory_percent DESC"""
        )

    def host_sample_count(self) -> int:
        """Raw samples held."""
        return int(self.warehouse.cursor().execute("SELECT count(*) FROM host_samples").fetchone()[0])

    def apply_host_retention(self, now: datetime, raw_for: timedelta, rollups_for: timedelta) -> None:
        """Roll raw samples up into 1-minute rows, drop raw samples and process snapshots older than `raw_for`
        and roll-ups older than `rollups_for`, in one transaction. Minutes from ROLLUP_LATE before the newest roll-up
        on are rolled up again, so late batches and small clock steps are counted."""
        with self.warehouse.transaction() as cur:
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
        return self.warehouse.query(f"SELECT {', '.join(ALERT_RULE_COLUMNS)} FROM alert_rules ORDER BY name")

    def replace_alert_rules(self, rules: pd.DataFrame) -> None:
        """Replace the whole rule set (the rules editor saves this way), all or nothing."""
        with self.warehouse.transaction() as cur:
            cur.execute("DELETE FROM alert_rules")
            if len(rules):
                cur.register("_new_rules", rules[list(ALERT_RULE_COLUMNS)])
                cur.execute(f"INSERT INTO alert_rules SELECT {', '.join(ALERT_RULE_COLUMNS)} FROM _new_rules")
                cur.unregister("_new_rules")

    def open_alert(
        self, *, rule: str, metric: str, severity: str, message: str, action: str, started_at: datetime, peak: float
    ) -> int:
        """Record a new alert and return its id."""
        with self.warehouse.transaction() as cur:
            row = cur.execute(
                """INSERT INTO alerts (rule, metric, severity, message, action, started_at, peak)
                   VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [rule, metric, severity, message, action, started_at, peak],
            ).fetchone()
            alert = {"rule": rule, "metric": metric, "severity": severity, "message": message, "started_at": started_at,
                     "peak": peak}  # fmt: skip
            publish(self.warehouse, built([int(row[0])], lambda alert_id: alert_signal(alert_id, **alert)))
        return int(row[0])

    def update_alert(self, alert_id: int, peak: float, ended_at: datetime | None = None) -> None:
        """Raise an alert's peak, and close it if `ended_at` is given."""
        with self.warehouse.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET peak = greatest(peak, ?), ended_at = coalesce(?, ended_at) WHERE id = ?",
                [peak, ended_at, alert_id],
            )

    def acknowledge_alert(self, alert_id: int, when: datetime) -> None:
        """Mark an alert acknowledged (once; later acknowledgements keep the first time)."""
        with self.warehouse.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, ?) WHERE id = ?", [when, alert_id]
            )

    def alerts(self, since: datetime | None = None, open_only: bool = False) -> pd.DataFrame:
        """Alerts active at some time since `since` (all when None: still open, or ended since), newest first;
        `open_only` keeps those not ended."""
        return self.warehouse.query(
            """SELECT id, rule, metric, severity, message, action, started_at, ended_at, peak, acknowledged_at
               FROM alerts
               WHERE (ended_at IS NULL OR ended_at >= coalesce($since, TIMESTAMP '1970-01-01'))
                 AND (NOT $open_only OR ended_at IS NULL)
               ORDER BY started_at DESC, id DESC""",
            {"since": since, "open_only": open_only},
        )

"""The correlation graph over the warehouse: assembled by queries into arrays (it is derived data, rebuilt in
seconds), with the exclusion list, the latest build's summary and its counted attributes kept in tables.

Node ids are dense (0…n-1); stored edges come first, then inferred ones, each naming two stored premises.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.errors import CtasError
from core.warehouse import Migrations, Store

MATCH_KINDS = ("exact", "prefix", "suffix", "substring")
MAX_PATTERN = 200
MIGRATIONS: Migrations = (
    (
        """CREATE TABLE intel_graph_exclusions (
            match VARCHAR NOT NULL CHECK (match IN ('exact', 'prefix', 'suffix', 'substring')),
            pattern VARCHAR NOT NULL,
            reason VARCHAR,
            PRIMARY KEY (match, pattern)
        )""",
        """CREATE TABLE intel_graph_builds (
            built_at TIMESTAMP NOT NULL,
            release VARCHAR,
            nodes BIGINT NOT NULL,
            edges BIGINT NOT NULL,
            inferred BIGINT NOT NULL,
            attributes BIGINT NOT NULL,
            max_share DOUBLE NOT NULL,
            seconds DOUBLE NOT NULL
        )""",
        "CREATE TABLE intel_graph_attributes (dataset VARCHAR, column_name VARCHAR, type VARCHAR, value VARCHAR, "
        "events BIGINT, reason VARCHAR)",
    ),
)
EXCLUDED = """EXISTS (SELECT 1 FROM intel_graph_exclusions x WHERE
    (x.match = 'exact' AND {v} = x.pattern) OR (x.match = 'prefix' AND starts_with({v}, x.pattern))
    OR (x.match = 'suffix' AND ends_with({v}, x.pattern)) OR (x.match = 'substring' AND contains({v}, x.pattern)))"""
# What saved reports name, without their indicators on the exclusion list.
REPORT_ITEMS = "SELECT * FROM intel_report_items WHERE kind = 'technique' OR NOT " + EXCLUDED.format(v="value")
# Every node: indicator values (from feeds, events and reports), families, feeds, ATT&CK objects, events, reports.
_NODES = """CREATE TEMP TABLE _nodes AS
    WITH raw(kind, key, label) AS (
        SELECT type, value, value FROM intel_indicators
        UNION ALL SELECT type, value, value FROM _values
        UNION ALL SELECT 'family', lower(family), family FROM intel_indicators WHERE family IS NOT NULL
        UNION ALL SELECT 'feed', name, name FROM intel_feeds
        UNION ALL SELECT kind, attack_id, name FROM attack_objects
            WHERE release = $release AND NOT deprecated AND NOT revoked AND attack_id IS NOT NULL
            AND kind IN ('group', 'software', 'campaign', 'technique')
        UNION ALL SELECT 'event', event, event_label FROM _values
        UNION ALL SELECT 'report', CAST(id AS VARCHAR), name FROM intel_reports
        UNION ALL SELECT CASE WHEN kind = 'technique' THEN 'technique' ELSE type END, value, value
            FROM _report_items)
    SELECT (row_number() OVER () - 1)::BIGINT AS id, kind, key, label
    FROM (SELECT kind, key, min(label) AS label FROM raw GROUP BY kind, key)"""
# Stored edges: each from one warehouse row, named by its source (feed, dataset column, ATT&CK release, report).
_EDGES = """CREATE TEMP TABLE _edges AS
    WITH raw(src_kind, src_key, dst_kind, dst_key, relation, source) AS (
        SELECT type, value, 'feed', source, 'listed_by', source FROM intel_indicators
        UNION ALL SELECT type, value, 'family', lower(family), 'listed_as', source
            FROM intel_indicators WHERE family IS NOT NULL
        UNION ALL SELECT 'event', event, type, value, 'observed', dataset || '.' || column_name FROM _values
        UNION ALL SELECT s.kind, s.attack_id, t.kind, t.attack_id, r.type, 'ATT&CK ' || r.release
            FROM attack_relationships r
            JOIN attack_objects s ON s.release = r.release AND s.stix_id = r.source_ref
            JOIN attack_objects t ON t.release = r.release AND t.stix_id = r.target_ref
            WHERE r.release = $release AND r.type IN ('uses', 'attributed-to', 'subtechnique-of')
        UNION ALL SELECT 'report', CAST(report_id AS VARCHAR), CASE WHEN kind = 'technique' THEN 'technique'
            ELSE type END, value, CASE WHEN kind = 'technique' THEN 'describes' ELSE 'mentions' END, evidence
            FROM _report_items),
    linked AS (
        SELECT s.id AS src, d.id AS dst, relation, min(source) AS source
        FROM raw JOIN _nodes s ON s.kind = src_kind AND s.key = src_key
        JOIN _nodes d ON d.kind = dst_kind AND d.key = dst_key GROUP BY ALL)
    SELECT (row_number() OVER () - 1)::BIGINT AS id, src, dst, relation, source FROM linked"""
# Inferred edges: each names its rule and two premises, stored edges that put its ends in the graph: for cidr and
# host, the edge that observed or mentioned the value and the edge that lists the indicator; for alias, an edge that
# lists an indicator as the family and one of the ATT&CK object's relationships (it is in the release).
_INFERRED = """WITH ends AS (
        SELECT s.id AS src, d.id AS dst, i.relation, i.rule, i.evidence
        FROM _inferred i JOIN _nodes s ON s.kind = i.src_kind AND s.key = i.src_key
        JOIN _nodes d ON d.kind = i.dst_kind AND d.key = i.dst_key),
    touched AS (SELECT src AS node FROM ends UNION SELECT dst FROM ends),
    first_edge AS (
        SELECT node, relation, min(id) AS edge FROM (
            SELECT e.src AS node, e.relation, e.id FROM _edges e SEMI JOIN touched t ON t.node = e.src
            UNION ALL SELECT e.dst, e.relation, e.id FROM _edges e SEMI JOIN touched t ON t.node = e.dst)
        GROUP BY node, relation),
    premised AS (
        SELECT ends.*,
            (SELECT min(f.edge) FROM first_edge f WHERE f.node = ends.src AND list_contains(
                CASE WHEN ends.rule = 'alias' THEN ['listed_as'] ELSE ['observed', 'mentions'] END, f.relation))
                AS premise_src,
            (SELECT min(f.edge) FROM first_edge f WHERE f.node = ends.dst
                AND (ends.rule = 'alias' OR f.relation = 'listed_by')) AS premise_dst
        FROM ends)
    SELECT DISTINCT src, dst, relation, 'rule ' || rule AS source, rule, premise_src, premise_dst, evidence
    FROM premised WHERE premise_src IS NOT NULL AND premise_dst IS NOT NULL
    ORDER BY src, dst, relation"""


class ExclusionError(CtasError, ValueError):
    """An exclusion list with a bad row; the message names it."""


class GraphStore(Store):
    """The latest correlation graph build and the exclusion list."""

    component = "intel_graph"
    migrations = MIGRATIONS

    def exclusions(self) -> pd.DataFrame:
        """The exclusion list: match kind, pattern, reason."""
        return self.warehouse.query("SELECT * FROM intel_graph_exclusions ORDER BY match, pattern")

    def set_exclusions(self, rows: pd.DataFrame) -> None:
        """Replace the exclusion list with `rows` (match, pattern, reason), in one transaction; patterns are compared
        with normalised (lower-case) values, so they are stored lower-cased. Refuses the whole list, writing nothing,
        if any row is bad."""
        rows = rows[["match", "pattern", "reason"]].copy()
        for number, row in enumerate(rows.itertuples(index=False), start=1):
            pattern = row.pattern.strip() if isinstance(row.pattern, str) else ""
            if row.match not in MATCH_KINDS:
                raise ExclusionError(f"Exclusion {number}: the match is one of {', '.join(MATCH_KINDS)}.")
            if not 1 <= len(pattern) <= MAX_PATTERN or not pattern.isprintable():
                raise ExclusionError(f"Exclusion {number}: a pattern is 1 to {MAX_PATTERN} printable characters.")
        rows["pattern"] = rows["pattern"].str.strip().str.lower()
        rows["reason"] = rows["reason"].map(lambda r: str(r)[:MAX_PATTERN] if isinstance(r, str) and r else None)
        with self.warehouse.transaction() as cur:
            cur.execute("DELETE FROM intel_graph_exclusions")
            cur.register("_exclusions", rows[["match", "pattern", "reason"]])
            cur.execute("INSERT INTO intel_graph_exclusions SELECT DISTINCT ON (match, pattern) * FROM _exclusions")
            cur.unregister("_exclusions")

    def excluded(self, values: list[str]) -> np.ndarray:
        """Whether each value is on the exclusion list."""
        cur = self.warehouse.private_cursor()
        try:
            cur.register("_probe", pd.DataFrame({"v": values, "i": np.arange(len(values))}))
            hit = cur.execute(f"SELECT i FROM _probe WHERE {EXCLUDED.format(v='v')}").fetchnumpy()["i"]
        finally:
            cur.close()
        out = np.zeros(len(values), bool)
        out[hit.astype(np.int64)] = True
        return out

    def assemble(self, release: str | None, values: pd.DataFrame, inferred: pd.DataFrame) -> dict[str, Any]:
        """The graph's nodes and edges as arrow tables: event `values` (event, event_label, dataset, column_name,
        type, value) and `inferred` edge ends (src_kind, src_key, dst_kind, dst_key, relation, rule, evidence)."""
        cur = self.warehouse.private_cursor()
        try:
            cur.register("_values", values)
            cur.register("_inferred", inferred)
            cur.execute(f"CREATE TEMP VIEW _report_items AS {REPORT_ITEMS}")
            cur.execute(_NODES, {"release": release or ""})
            cur.execute(_EDGES, {"release": release or ""})
            return {
                "nodes": cur.sql("SELECT kind, key, label FROM _nodes ORDER BY id").to_arrow_table(),
                "edges": cur.sql("SELECT src, dst, relation, source FROM _edges ORDER BY id").to_arrow_table(),
                "inferred": cur.sql(_INFERRED).to_arrow_table(),
            }
        finally:
            cur.close()

    def record(self, summary: dict[str, Any], attributes: pd.DataFrame) -> None:
        """Keep a build's summary and its counted attributes, replacing the previous build's, in one transaction."""
        with self.warehouse.transaction() as cur:
            cur.execute("DELETE FROM intel_graph_attributes")
            cur.register("_attributes", attributes[["dataset", "column_name", "type", "value", "events", "reason"]])
            cur.execute("INSERT INTO intel_graph_attributes SELECT * FROM _attributes")
            cur.unregister("_attributes")
            cur.execute("DELETE FROM intel_graph_builds")
            now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            cur.execute(
                "INSERT INTO intel_graph_builds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    now,
                    summary["release"],
                    summary["nodes"],
                    summary["edges"],
                    summary["inferred"],
                    len(attributes),
                    summary["max_share"],
                    summary["seconds"],
                ],
            )

    def build_info(self) -> pd.DataFrame:
        """The latest build: when, over which ATT&CK release, its sizes and settings."""
        return self.warehouse.query("SELECT * FROM intel_graph_builds")

    def attributes(self) -> pd.DataFrame:
        """Values kept as counted attributes (too common, or excluded) instead of edges."""
        return self.warehouse.query("SELECT * FROM intel_graph_attributes ORDER BY events DESC")

"""Signals, entities, suppressions and cases in the warehouse.

Signals are append-only: a key already held is not written again. Cases keep a frozen copy of each piece of evidence
(JSON written when it is added), so deleting or changing the signals later leaves a case as it was, and every change
to a case appends a row to `case_audit`, which nothing updates or deletes.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pandas as pd

from core.cases import triage
from core.cases.links import LINK_COLUMNS, entity_links
from core.cases.signals import Entity, Signal, SignalError, one_line
from core.warehouse import Migrations, Store

MIGRATIONS: Migrations = (
    (
        "CREATE SEQUENCE case_signal_ids",
        """CREATE TABLE case_signals (
            id BIGINT PRIMARY KEY DEFAULT nextval('case_signal_ids'),
            key VARCHAR NOT NULL UNIQUE,
            source VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            ts TIMESTAMP NOT NULL,
            raised_at TIMESTAMP NOT NULL,
            severity VARCHAR NOT NULL,
            summary VARCHAR NOT NULL,
            evidence JSON NOT NULL,
            link VARCHAR NOT NULL,
            entity_kind VARCHAR NOT NULL,
            entity_value VARCHAR NOT NULL
        )""",
        """CREATE TABLE case_signal_entities (
            signal_id BIGINT NOT NULL, kind VARCHAR NOT NULL, value VARCHAR NOT NULL, lat DOUBLE, lon DOUBLE
        )""",
        """CREATE TABLE case_entity_links (
            kind VARCHAR NOT NULL, value VARCHAR NOT NULL, linked_kind VARCHAR NOT NULL,
            linked_value VARCHAR NOT NULL, relation VARCHAR NOT NULL
        )""",
        "CREATE SEQUENCE case_suppression_ids",
        """CREATE TABLE case_suppressions (
            id BIGINT PRIMARY KEY DEFAULT nextval('case_suppression_ids'),
            source VARCHAR NOT NULL, rule VARCHAR NOT NULL, entity_kind VARCHAR NOT NULL,
            entity_value VARCHAR NOT NULL, reason VARCHAR NOT NULL, analyst VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL
        )""",
        "CREATE SEQUENCE case_ids",
        """CREATE TABLE cases (
            id BIGINT PRIMARY KEY DEFAULT nextval('case_ids'),
            title VARCHAR NOT NULL, status VARCHAR NOT NULL, resolution VARCHAR, owner VARCHAR NOT NULL,
            opened_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE case_evidence (
            case_id BIGINT NOT NULL, item INTEGER NOT NULL, kind VARCHAR NOT NULL, ref VARCHAR NOT NULL,
            summary VARCHAR NOT NULL, frozen JSON NOT NULL, added_at TIMESTAMP NOT NULL, added_by VARCHAR NOT NULL,
            PRIMARY KEY (case_id, item)
        )""",
        """CREATE TABLE case_notes (
            case_id BIGINT NOT NULL, note INTEGER NOT NULL, author VARCHAR NOT NULL, text VARCHAR NOT NULL,
            written_at TIMESTAMP NOT NULL, PRIMARY KEY (case_id, note)
        )""",
        "CREATE SEQUENCE case_audit_ids",
        """CREATE TABLE case_audit (
            seq BIGINT PRIMARY KEY DEFAULT nextval('case_audit_ids'),
            case_id BIGINT NOT NULL, changed_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
            detail VARCHAR NOT NULL
        )""",
    ),
)
STATUSES = ("open", "in progress", "closed")
RESOLUTIONS = ("true positive", "false positive", "benign", "duplicate")
MAX_NOTE = 10_000
MAX_TITLE = 200
MAX_SUPPRESSION_DAYS = 365
FROZEN_SIGNALS = 500  # signals kept with an entity added to a case
SIGNAL_COLUMNS = "id, key, source, kind, rule, ts, raised_at, severity, summary, evidence, link"


class CaseError(SignalError):
    """A case operation that cannot be done as asked; the message says why."""


def now() -> datetime:
    """The current time as the warehouse keeps it (UTC, no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def name(text: object, what: str = "A name") -> str:
    """An analyst or owner name: one line of at most 80 characters."""
    return _checked(text, what, 80)


def _active(at: str) -> str:
    """SQL for the signals not suppressed at the parameter `at`."""
    return f"""SELECT * FROM case_signals WHERE id NOT IN (
        SELECT e.signal_id FROM case_signal_entities e JOIN case_signals s ON s.id = e.signal_id
        JOIN case_suppressions x ON x.source = s.source AND x.rule = s.rule AND x.entity_kind = e.kind
             AND x.entity_value = e.value
        WHERE x.created_at <= {at} AND x.expires_at > {at})"""


# Per entity: the distinct capabilities with an active signal on it or on an entity linked to it.
_CORROBORATION = """
    own AS (SELECT DISTINCT e.kind, e.value, s.source FROM case_signal_entities e JOIN active s ON s.id = e.signal_id),
    support AS (
        SELECT kind, value, source FROM own
        UNION SELECT l.kind, l.value, o.source FROM case_entity_links l
              JOIN own o ON o.kind = l.linked_kind AND o.value = l.linked_value),
    corroboration AS (
        SELECT kind, value, count(DISTINCT source) AS corroboration, list(DISTINCT source ORDER BY source) AS sources
        FROM support GROUP BY kind, value)"""


class CaseStore(Store):
    """The signal stream, entity links, suppressions, cases with frozen evidence, notes and their audit log."""

    component = "cases"
    migrations = MIGRATIONS

    # -- the signal stream -------------------------------------------------------------------------------------
    def publish(self, signals: list[Signal]) -> int:
        """Add the signals whose key is new (all or nothing) and refresh entity links; returns how many were new."""
        if not signals:
            return 0
        raised = now()
        rows = pd.DataFrame({
            "key": [s.key for s in signals], "source": [s.source for s in signals], "kind": [s.kind for s in signals],
            "rule": [s.rule for s in signals], "ts": [s.ts for s in signals], "raised_at": raised,
            "severity": [s.severity for s in signals], "summary": [s.summary for s in signals],
            "evidence": [s.evidence_json for s in signals], "link": [s.link for s in signals],
            "entity_kind": [s.primary.kind for s in signals], "entity_value": [s.primary.value for s in signals],
        }).drop_duplicates(subset=["key"])  # fmt: skip
        named = pd.DataFrame(
            [(s.key, e.kind, e.value, e.lat, e.lon) for s in signals for e in dict.fromkeys(s.entities)],
            columns=["key", "kind", "value", "lat", "lon"],
        ).astype({"lat": "float64", "lon": "float64"})
        with self.warehouse.transaction() as cur:
            cur.register("_new_signals", rows)
            cur.register("_new_entities", named)
            cur.execute(
                "CREATE OR REPLACE TEMP TABLE _fresh AS SELECT * FROM _new_signals n "
                "ANTI JOIN case_signals s ON s.key = n.key"
            )
            cur.execute(
                """INSERT INTO case_signals (key, source, kind, rule, ts, raised_at, severity, summary, evidence, link,
                   entity_kind, entity_value)
                   SELECT key, source, kind, rule, ts, raised_at, severity, summary, evidence, link, entity_kind,
                          entity_value FROM _fresh"""
            )
            cur.execute(
                """INSERT INTO case_signal_entities
                   SELECT DISTINCT s.id, n.kind, n.value, n.lat, n.lon FROM _new_entities n
                   JOIN _fresh f ON f.key = n.key JOIN case_signals s ON s.key = n.key"""
            )
            cur.unregister("_new_signals")
            cur.unregister("_new_entities")
            added, first_new_id = cur.execute(
                "SELECT count(*), min(s.id) FROM case_signals s JOIN _fresh f ON f.key = s.key"
            ).fetchone()
            cur.execute("DROP TABLE _fresh")
            if added:
                self._relink(cur, int(first_new_id))
        return int(added)

    def _relink(self, cur, first_new_id: int) -> None:
        """Add the links the new signals' entities (ids from `first_new_id` on) make with every entity held: new IPs
        against every network and cell, new networks and cells against every IP."""
        entities = cur.execute(
            """SELECT kind, value, arg_min(lat, signal_id) FILTER (WHERE lat IS NOT NULL) AS lat,
                      arg_min(lon, signal_id) FILTER (WHERE lat IS NOT NULL) AS lon,
                      min(signal_id) >= ? AS new
               FROM case_signal_entities WHERE kind IN ('ip', 'cidr', 'h3') GROUP BY kind, value""",
            [first_new_id],
        ).df()
        is_ip, new = entities["kind"] == "ip", entities["new"].astype(bool)
        if not (~is_ip).any():
            return  # no network or cell to link to
        links = pd.concat([entity_links(entities[(is_ip & new) | ~is_ip]), entity_links(entities[is_ip | new])])
        if len(links):
            cur.register("_links", links[LINK_COLUMNS].drop_duplicates())
            cur.execute("INSERT INTO case_entity_links SELECT * FROM _links ANTI JOIN case_entity_links "
                        "USING (kind, value, linked_kind, linked_value)")  # fmt: skip
            cur.unregister("_links")

    def signal_count(self) -> int:
        """Signals held, suppressed ones included."""
        return int(self.warehouse.cursor().execute("SELECT count(*) FROM case_signals").fetchone()[0])

    def suppressed_count(self, at: datetime | None = None) -> int:
        """Signals hidden by a suppression in force at `at` (default now)."""
        sql = f"SELECT (SELECT count(*) FROM case_signals) - (SELECT count(*) FROM ({_active('$at')}))"
        return int(self.warehouse.cursor().execute(sql, {"at": at or now()}).fetchone()[0])

    # -- the triage queue --------------------------------------------------------------------------------------
    def signal_queue(self, at: datetime | None = None, limit: int = 500) -> pd.DataFrame:
        """Active signals with duplicates collapsed (one row per source, rule and main entity), best score first,
        with the four terms of each score."""
        weight = triage.severity_sql("severity")
        return self.warehouse.query(
            f"""WITH active AS ({_active("$at")}), {_CORROBORATION},
               grouped AS (
                   SELECT source, rule, entity_kind, entity_value, any_value(kind) AS kind,
                          arg_max(severity, {weight}) AS severity, max({weight}) AS severity_term,
                          max(raised_at) AS raised_at, min(ts) AS first_ts, max(ts) AS last_ts,
                          count(*) AS signals, max(id) AS latest_id,
                          arg_max(summary, id) AS summary, arg_max(link, id) AS link
                   FROM active GROUP BY source, rule, entity_kind, entity_value),
               scored AS (
                   SELECT g.*, {triage.recency_sql("g.raised_at", "$at")} AS recency_term,
                          coalesce(c.corroboration, 1) AS corroboration, c.sources,
                          {triage.volume_sql("g.signals")} AS volume_term
                   FROM grouped g LEFT JOIN corroboration c ON c.kind = g.entity_kind AND c.value = g.entity_value)
               SELECT *, severity_term * recency_term * corroboration * volume_term AS score FROM scored
               ORDER BY score DESC, raised_at DESC, latest_id DESC LIMIT $limit""",
            {"at": at or now(), "limit": int(limit)},
        )

    def entity_queue(self, at: datetime | None = None, limit: int = 500) -> pd.DataFrame:
        """Entities named by active signals, best score first, with the four terms of each score."""
        weight = triage.severity_sql("s.severity")
        return self.warehouse.query(
            f"""WITH active AS ({_active("$at")}), {_CORROBORATION},
               grouped AS (
                   SELECT e.kind, e.value, max({weight}) AS severity_term, max(s.raised_at) AS raised_at,
                          min(s.ts) AS first_ts, max(s.ts) AS last_ts, count(DISTINCT s.id) AS signals
                   FROM case_signal_entities e JOIN active s ON s.id = e.signal_id GROUP BY e.kind, e.value),
               scored AS (
                   SELECT g.*, {triage.recency_sql("g.raised_at", "$at")} AS recency_term,
                          c.corroboration, c.sources, {triage.volume_sql("g.signals")} AS volume_term
                   FROM grouped g JOIN corroboration c USING (kind, value))
               SELECT *, severity_term * recency_term * corroboration * volume_term AS score FROM scored
               ORDER BY score DESC, raised_at DESC, kind, value LIMIT $limit""",
            {"at": at or now(), "limit": int(limit)},
        )

    # -- entities ----------------------------------------------------------------------------------------------
    def linked(self, kind: str, value: str) -> pd.DataFrame:
        """Entities linked to one entity (linked_kind, linked_value, relation)."""
        return self.warehouse.query(
            "SELECT linked_kind, linked_value, relation FROM case_entity_links WHERE kind = ? AND value = ? "
            "ORDER BY linked_kind, linked_value",
            [kind, value],
        )

    def entity_signals(self, kind: str, value: str, limit: int = 5000) -> pd.DataFrame:
        """Every signal on an entity or on an entity linked to it (`via` says which), oldest first."""
        return self.warehouse.query(
            f"""WITH targets AS (
                   SELECT $kind AS kind, $value AS value
                   UNION SELECT linked_kind, linked_value FROM case_entity_links WHERE kind = $kind AND value = $value)
               SELECT DISTINCT ON (s.id) {", ".join("s." + c for c in SIGNAL_COLUMNS.split(", "))},
                      e.kind || ' ' || e.value AS via
               FROM case_signals s JOIN case_signal_entities e ON e.signal_id = s.id
               JOIN targets t ON t.kind = e.kind AND t.value = e.value
               ORDER BY s.id DESC LIMIT $limit""",
            {"kind": kind, "value": value, "limit": int(limit)},
        ).sort_values(["ts", "id"], kind="stable", ignore_index=True)

    def signals(self, ids: list[int]) -> pd.DataFrame:
        """Signals by id, with the entities each names (a list of 'kind value')."""
        return self.warehouse.query(
            f"""SELECT {", ".join("s." + c for c in SIGNAL_COLUMNS.split(", "))},
                   list(e.kind || ' ' || e.value ORDER BY e.kind, e.value) AS entities
               FROM case_signals s JOIN case_signal_entities e ON e.signal_id = s.id
               WHERE s.id IN (SELECT unnest($ids)) GROUP BY ALL ORDER BY s.ts, s.id""",
            {"ids": [int(i) for i in ids]},
        )

    def group_signal_ids(self, source: str, rule: str, entity_kind: str, entity_value: str) -> list[int]:
        """The ids of the signals one queue row collapses."""
        rows = self.warehouse.cursor().execute(
            "SELECT id FROM case_signals WHERE source = ? AND rule = ? AND entity_kind = ? AND entity_value = ? "
            "ORDER BY id",
            [source, rule, entity_kind, entity_value],
        )
        return [int(r[0]) for r in rows.fetchall()]

    # -- suppressions ------------------------------------------------------------------------------------------
    def suppress(self, source: str, rule: str, entity: Entity, *, reason: str, analyst: str, days: float) -> int:
        """Hide one rule's signals about one entity for `days` days, with a reason; returns the suppression's id."""
        if not 0 < days <= MAX_SUPPRESSION_DAYS:
            raise CaseError(f"A suppression lasts more than 0 and at most {MAX_SUPPRESSION_DAYS} days.")
        reason = _checked(reason, "The reason for a suppression", 500)
        start = now()
        with self.warehouse.transaction() as cur:
            row = cur.execute(
                """INSERT INTO case_suppressions (source, rule, entity_kind, entity_value, reason, analyst,
                   created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [source, rule, entity.kind, entity.value, reason, name(analyst, "The analyst's name"), start,
                 start + timedelta(days=days)],
            ).fetchone()  # fmt: skip
        return int(row[0])

    def suppressions(self) -> pd.DataFrame:
        """Every suppression, newest first, with whether it is still in force."""
        return self.warehouse.query(
            "SELECT *, expires_at > ? AS in_force FROM case_suppressions ORDER BY created_at DESC, id DESC", [now()]
        )

    # -- cases -------------------------------------------------------------------------------------------------
    def open_case(
        self, title: str, owner: str, actor: str, *, entities: tuple[Entity, ...] = (), signal_ids: tuple[int, ...] = ()
    ) -> int:
        """Open a case, with entities and signals frozen into it as evidence, all or nothing; returns its id. A title
        longer than MAX_TITLE characters is shortened."""
        title = " ".join(str(title).split())
        title = title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"
        with self.warehouse.transaction():
            case_id = self._open(title, owner, actor)
            for entity in entities:
                self.add_entity(case_id, entity, actor)
            if signal_ids:
                self.add_signals(case_id, list(signal_ids), actor)
        return case_id

    def _open(self, title: str, owner: str, actor: str) -> int:
        title = _checked(title, "A case's title", MAX_TITLE)
        owner, actor = name(owner, "The owner's name"), name(actor, "The analyst's name")
        at = now()
        with self.warehouse.transaction() as cur:
            case_id = int(cur.execute(
                "INSERT INTO cases (title, status, owner, opened_at, updated_at) VALUES (?, 'open', ?, ?, ?) "
                "RETURNING id", [title, owner, at, at],
            ).fetchone()[0])  # fmt: skip
            _audit(cur, case_id, at, actor, action="opened", detail={"title": title, "owner": owner})
        return case_id

    def add_signals(self, case_id: int, ids: list[int], actor: str) -> int:
        """Freeze signals into a case as evidence (each once); returns how many were added."""
        actor = name(actor, "The analyst's name")
        frame = self.signals(ids)
        items = [(f"signal {row['id']}", f"{row['source']}: {row['summary']}", _frozen_signal(row))
                 for row in frame.to_dict("records")]  # fmt: skip
        return self._add_evidence(case_id, "signal", items, actor)

    def add_entity(self, case_id: int, entity: Entity, actor: str) -> int:
        """Freeze an entity into a case with every signal on it and the entities linked to it; returns 1 if it was
        new to the case, else 0."""
        actor = name(actor, "The analyst's name")
        signals = self.signals(self.entity_signals(entity.kind, entity.value, limit=FROZEN_SIGNALS)["id"].tolist())
        frozen = {
            "entity": {"kind": entity.kind, "value": entity.value},
            "linked": self.linked(entity.kind, entity.value).to_dict("records"),
            "signals": [_frozen_signal(row) for row in signals.to_dict("records")],
        }
        sources = sorted(set(signals["source"]))
        summary = f"{entity.kind} {entity.value}: {len(signals)} signals from {', '.join(sources) or 'no source'}"
        return self._add_evidence(case_id, "entity", [(f"{entity.kind} {entity.value}", summary, frozen)], actor)

    def _add_evidence(self, case_id: int, kind: str, items: list[tuple[str, str, dict]], actor: str) -> int:
        at = now()
        with self.warehouse.transaction() as cur:
            self._require(cur, case_id)
            held = {r[0] for r in cur.execute("SELECT ref FROM case_evidence WHERE case_id = ?", [case_id]).fetchall()}
            (last,) = cur.execute(
                "SELECT coalesce(max(item), 0) FROM case_evidence WHERE case_id = ?", [case_id]
            ).fetchone()
            fresh = [item for item in items if item[0] not in held]
            for number, (ref, summary, frozen) in enumerate(fresh, start=int(last) + 1):
                cur.execute(
                    "INSERT INTO case_evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [case_id, number, kind, ref, summary[:300], json.dumps(frozen, default=str, sort_keys=True), at,
                     actor],
                )  # fmt: skip
            if fresh:
                _audit(cur, case_id, at, actor, action="evidence added", detail={"items": [ref for ref, _, _ in fresh]})
                _touch(cur, case_id, at)
        return len(fresh)

    def add_note(self, case_id: int, text: str, author: str) -> int:
        """Add a note to a case; returns its number."""
        text = _checked(text, "A note", MAX_NOTE, multiline=True)
        author = name(author, "The author's name")
        at = now()
        with self.warehouse.transaction() as cur:
            self._require(cur, case_id)
            (last,) = cur.execute(
                "SELECT coalesce(max(note), 0) FROM case_notes WHERE case_id = ?", [case_id]
            ).fetchone()
            cur.execute("INSERT INTO case_notes VALUES (?, ?, ?, ?, ?)", [case_id, int(last) + 1, author, text, at])
            _audit(cur, case_id, at, author, action="note added", detail={"note": int(last) + 1, "text": text})
            _touch(cur, case_id, at)
        return int(last) + 1

    def set_status(self, case_id: int, status: str, actor: str, resolution: str | None = None) -> None:
        """Move a case to a status; closing needs a resolution, and only closing takes one."""
        if status not in STATUSES:
            raise CaseError(f"A case's status is one of {', '.join(STATUSES)}, not {status!r}.")
        if (status == "closed") != (resolution is not None):
            raise CaseError("Closing a case needs a resolution, and only closing takes one.")
        if resolution is not None and resolution not in RESOLUTIONS:
            raise CaseError(f"A resolution is one of {', '.join(RESOLUTIONS)}, not {resolution!r}.")
        actor = name(actor, "The analyst's name")
        at = now()
        with self.warehouse.transaction() as cur:
            before = self._require(cur, case_id)
            cur.execute("UPDATE cases SET status = ?, resolution = ? WHERE id = ?", [status, resolution, case_id])
            change = {"from": before["status"], "to": status, "resolution": resolution}
            _audit(cur, case_id, at, actor, action="status changed", detail=change)
            _touch(cur, case_id, at)

    def set_owner(self, case_id: int, owner: str, actor: str) -> None:
        """Hand a case to another owner."""
        owner, actor = name(owner, "The owner's name"), name(actor, "The analyst's name")
        at = now()
        with self.warehouse.transaction() as cur:
            before = self._require(cur, case_id)
            cur.execute("UPDATE cases SET owner = ? WHERE id = ?", [owner, case_id])
            _audit(cur, case_id, at, actor, action="owner changed", detail={"from": before["owner"], "to": owner})
            _touch(cur, case_id, at)

    def _require(self, cur, case_id: int) -> dict:
        row = cur.execute("SELECT status, owner FROM cases WHERE id = ?", [int(case_id)]).fetchone()
        if row is None:
            raise CaseError(f"There is no case #{case_id}.")
        return {"status": row[0], "owner": row[1]}

    def cases(self) -> pd.DataFrame:
        """Every case, most recently changed first, with how much evidence and how many notes it holds."""
        return self.warehouse.query(
            """SELECT c.*, (SELECT count(*) FROM case_evidence e WHERE e.case_id = c.id) AS evidence,
                      (SELECT count(*) FROM case_notes n WHERE n.case_id = c.id) AS notes
               FROM cases c ORDER BY updated_at DESC, id DESC"""
        )

    def case(self, case_id: int) -> dict:
        """One case's row as a dict."""
        found = self.warehouse.query("SELECT * FROM cases WHERE id = ?", [int(case_id)])
        if found.empty:
            raise CaseError(f"There is no case #{case_id}.")
        return found.iloc[0].to_dict()

    def evidence(self, case_id: int) -> pd.DataFrame:
        """A case's evidence in the order it was added, with its frozen content (JSON text)."""
        return self.warehouse.query(
            "SELECT item, kind, ref, summary, frozen, added_at, added_by FROM case_evidence WHERE case_id = ? "
            "ORDER BY item",
            [int(case_id)],
        )

    def notes(self, case_id: int) -> pd.DataFrame:
        """A case's notes, oldest first."""
        return self.warehouse.query(
            "SELECT note, author, text, written_at FROM case_notes WHERE case_id = ? ORDER BY note", [int(case_id)]
        )

    def audit(self, case_id: int | None = None) -> pd.DataFrame:
        """The audit log (of one case, or of all), in order."""
        return self.warehouse.query(
            "SELECT seq, case_id, changed_at, actor, action, detail FROM case_audit "
            "WHERE $case IS NULL OR case_id = $case ORDER BY seq",
            {"case": None if case_id is None else int(case_id)},
        )


def _checked(text: object, what: str, limit: int, *, multiline: bool = False) -> str:
    if not multiline:
        try:
            return one_line(text, what, limit)
        except SignalError as exc:
            raise CaseError(exc.message) from None
    value = str(text).replace("\r\n", "\n").strip()
    if not value:
        raise CaseError(f"{what} is empty.")
    if len(value) > limit:
        raise CaseError(f"{what} is longer than {limit:,} characters.")
    return "".join(c for c in value if c in "\n\t" or c.isprintable())


def _frozen_signal(row: dict) -> dict:
    frozen = {k: _plain(v) for k, v in row.items()}
    if isinstance(frozen.get("evidence"), str):
        frozen["evidence"] = json.loads(frozen["evidence"])  # CTAS's own JSON, written by Signal.evidence_json
    return frozen


def _plain(value: object) -> object:
    """A value from a query result as plain JSON data: times as ISO text, numpy scalars and arrays as Python ones."""
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _audit(cur, case_id: int, at: datetime, actor: str, *, action: str, detail: dict) -> None:
    cur.execute(
        "INSERT INTO case_audit (case_id, changed_at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
        [case_id, at, actor, action, json.dumps(detail, default=str, sort_keys=True)],
    )


def _touch(cur, case_id: int, at: datetime) -> None:
    cur.execute("UPDATE cases SET updated_at = ? WHERE id = ?", [at, case_id])

"""ATT&CK releases in the warehouse: objects and relationships per release, browsed, searched and compared.

A release is stored (or replaced) in one transaction; a failure leaves the warehouse as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from core.intel.attack.bundle import OBJECT_COLUMNS, RELATIONSHIP_COLUMNS, AttackRelease
from core.warehouse import Migrations, Store, WarehouseError
from core.warehouse.sql import duckdb_message

MIGRATIONS: Migrations = (
    (
        """CREATE TABLE attack_releases (
            release VARCHAR PRIMARY KEY,
            domain VARCHAR NOT NULL,
            version VARCHAR,
            spec_version VARCHAR,
            last_modified VARCHAR NOT NULL,
            objects BIGINT NOT NULL,
            relationships BIGINT NOT NULL,
            sha256 VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE attack_objects (
            release VARCHAR NOT NULL,
            stix_id VARCHAR NOT NULL,
            attack_id VARCHAR,
            kind VARCHAR NOT NULL,
            stix_type VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            description VARCHAR,
            aliases VARCHAR[] NOT NULL,
            tactics VARCHAR[] NOT NULL,
            platforms VARCHAR[] NOT NULL,
            parent_ref VARCHAR,
            subtechnique BOOLEAN NOT NULL,
            deprecated BOOLEAN NOT NULL,
            revoked BOOLEAN NOT NULL,
            version VARCHAR,
            modified VARCHAR,
            ordinal INTEGER,
            url VARCHAR
        )""",
        """CREATE TABLE attack_relationships (
            release VARCHAR NOT NULL,
            stix_id VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            source_ref VARCHAR NOT NULL,
            target_ref VARCHAR NOT NULL,
            description VARCHAR,
            modified VARCHAR
        )""",
    ),
    (
        # trained sentence-to-technique mappers: signed files beside the warehouse (core.artifacts), newest wins
        """CREATE TABLE attack_mappers (
            version INTEGER PRIMARY KEY,
            file VARCHAR NOT NULL,
            tag VARCHAR NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            tram_sha256 VARCHAR NOT NULL,
            bundle_sha256 VARCHAR NOT NULL,
            sentences BIGINT NOT NULL,
            extra_sentences BIGINT NOT NULL,
            labels INTEGER NOT NULL,
            temperature DOUBLE NOT NULL,
            seconds DOUBLE NOT NULL
        )""",
    ),
)
# Live objects of one release (neither deprecated nor revoked).
_LIVE = "SELECT * FROM attack_objects WHERE release = $release AND NOT deprecated AND NOT revoked"


class AttackStore(Store):
    """ATT&CK releases: what each holds and how its objects relate."""

    component = "attack"
    migrations = MIGRATIONS

    def save(self, release: AttackRelease, name: str) -> None:
        """Store `release` under `name`, replacing a release of that name, in one transaction."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        objects = release.objects[list(OBJECT_COLUMNS)]
        relationships = release.relationships[list(RELATIONSHIP_COLUMNS)]
        try:
            with self.warehouse.transaction() as cur:
                for table in ("attack_objects", "attack_relationships", "attack_releases"):
                    cur.execute(f"DELETE FROM {table} WHERE release = ?", [name])
                cur.register("_objects", objects)
                cur.execute("INSERT INTO attack_objects SELECT ?, * FROM _objects", [name])
                cur.unregister("_objects")
                cur.register("_relationships", relationships)
                cur.execute("INSERT INTO attack_relationships SELECT ?, * FROM _relationships", [name])
                cur.unregister("_relationships")
                cur.execute(
                    "INSERT INTO attack_releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        name,
                        release.domain,
                        release.version,
                        release.spec_version,
                        release.last_modified,
                        len(objects),
                        len(relationships),
                        release.sha256,
                        now,
                    ],
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"ATT&CK release {name} could not be stored: {duckdb_message(exc)}") from None

    def releases(self) -> pd.DataFrame:
        """Every stored release, newest load first."""
        return self.warehouse.query("SELECT * FROM attack_releases ORDER BY loaded_at DESC, release")

    def search(self, release: str, text: str = "", kinds: tuple[str, ...] = (), limit: int = 200) -> pd.DataFrame:
        """Live objects whose id, name, alias or description contains `text` (any case), best matches first."""
        return self.warehouse.query(
            f"""WITH live AS ({_LIVE})
            SELECT attack_id, kind, name, array_to_string(aliases, ', ') AS aliases,
                   array_to_string(tactics, ', ') AS tactics, url, stix_id
            FROM live
            WHERE (len($kinds) = 0 OR list_contains($kinds, kind))
              AND ($text = '' OR attack_id ILIKE $like ESCAPE '\\' OR name ILIKE $like ESCAPE '\\'
                   OR array_to_string(aliases, ' ') ILIKE $like ESCAPE '\\'
                   OR description ILIKE $like ESCAPE '\\')
            ORDER BY (lower(attack_id) = lower($text) OR lower(name) = lower($text)) DESC,
                     (name ILIKE $like ESCAPE '\\') DESC, kind, attack_id
            LIMIT $limit""",
            {"release": release, "kinds": list(kinds), "text": text, "like": f"%{_like(text)}%", "limit": limit},
        )

    def techniques(self, release: str) -> pd.DataFrame:
        """Live techniques and sub-techniques: id, name, tactics, platforms, whether a sub-technique, description."""
        return self.warehouse.query(
            f"""SELECT attack_id, name, tactics, platforms, subtechnique, description, url
            FROM ({_LIVE}) WHERE kind = 'technique' AND attack_id IS NOT NULL ORDER BY attack_id""",
            {"release": release},
        )

    def tactics(self, release: str) -> pd.DataFrame:
        """The release's tactics in matrix order: id, name, short name."""
        return self.warehouse.query(
            f"""SELECT attack_id, name, tactics[1] AS shortname FROM ({_LIVE})
            WHERE kind = 'tactic' ORDER BY ordinal NULLS LAST, attack_id""",
            {"release": release},
        )

    def group_technique_matrix(self, release: str) -> pd.DataFrame:
        """Groups (rows, ATT&CK id) by techniques (columns): True where the group uses the technique directly."""
        cur = self.warehouse.private_cursor()
        try:
            pairs = cur.execute(
                f"""WITH live AS ({_LIVE}) SELECT DISTINCT s.attack_id, t.attack_id
                FROM attack_relationships r JOIN live s ON s.stix_id = r.source_ref AND s.kind = 'group'
                JOIN live t ON t.stix_id = r.target_ref AND t.kind = 'technique'
                WHERE r.release = $release AND r.type = 'uses'""",
                {"release": release},
            ).fetchnumpy()
        finally:
            cur.close()
        groups, rows = pd.factorize(pairs["attack_id"], sort=True)
        techniques, columns = pd.factorize(pairs["attack_id_1"], sort=True)
        values = np.zeros((rows.size, columns.size), bool)
        values[groups, techniques] = True
        return pd.DataFrame(values, index=pd.Index(rows, name="group"), columns=pd.Index(columns, name="technique"))

    def profile(self, release: str, attack_id: str) -> dict[str, pd.DataFrame]:
        """An object and what it relates to: its row, the techniques it uses (with procedures), the groups, software
        and campaigns that use it (for a technique) or that it uses, and its mitigations."""
        params = {"release": release, "attack_id": attack_id}
        found = self.warehouse.query(f"SELECT * FROM ({_LIVE}) WHERE attack_id = $attack_id LIMIT 1", params)
        if found.empty:
            return {"object": found}
        params = {"release": release, "me": found["stix_id"].iloc[0]}
        related = self.warehouse.query(
            f"""WITH live AS ({_LIVE}),
            linked AS (
                SELECT type, 'out' AS direction, target_ref AS other, description FROM attack_relationships
                WHERE release = $release AND source_ref = $me
                UNION ALL SELECT type, 'in', source_ref, description FROM attack_relationships
                WHERE release = $release AND target_ref = $me)
            SELECT l.type AS relationship, l.direction, o.attack_id, o.kind, o.name, l.description
            FROM linked l JOIN live o ON o.stix_id = l.other
            ORDER BY l.type, o.kind, o.attack_id""",
            params,
        )
        return {"object": found, "related": related}

    def objects(self, release: str) -> pd.DataFrame:
        """Every object of a release, deprecated and revoked ones included (for comparing releases)."""
        return self.warehouse.query("SELECT * FROM attack_objects WHERE release = ?", [release])

    def register_mapper(self, entry: dict) -> int:
        """Record a trained mapper's file, tag and provenance as the next version; returns the version."""
        with self.warehouse.transaction() as cur:
            version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM attack_mappers").fetchone()[0]
            columns = ["file", "tag", "trained_at", "tram_sha256", "bundle_sha256", "sentences", "extra_sentences",
                       "labels", "temperature", "seconds"]  # fmt: skip
            cur.execute(
                f"INSERT INTO attack_mappers (version, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})",
                [version, *(entry[c] for c in columns)],
            )
        return int(version)

    def mappers(self) -> pd.DataFrame:
        """Every trained mapper, newest first."""
        return self.warehouse.query("SELECT * FROM attack_mappers ORDER BY version DESC")

    def relationship_pairs(self, release: str) -> pd.DataFrame:
        """(source id, type, target id) of every relationship between live objects that have ATT&CK ids."""
        return self.warehouse.query(
            f"""WITH live AS ({_LIVE}) SELECT DISTINCT s.attack_id AS source, r.type, t.attack_id AS target,
                   s.name AS source_name, t.name AS target_name
            FROM attack_relationships r JOIN live s ON s.stix_id = r.source_ref JOIN live t ON t.stix_id = r.target_ref
            WHERE r.release = $release AND s.attack_id IS NOT NULL AND t.attack_id IS NOT NULL""",
            {"release": release},
        )


def _like(text: str) -> str:
    """`text` with LIKE's wildcards escaped by a backslash (the queries name it with ESCAPE)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

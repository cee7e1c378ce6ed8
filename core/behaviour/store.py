"""Behaviour profiles in the warehouse: each enrolment is a new version (explicit re-enrolment, never silent drift);
the newest version of a user's profile is the one that scores them. Scores, alerts and feed counters too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pandas as pd

from core import artifacts
from core.behaviour.profiles import UserProfile
from core.behaviour.signals import trust_signals
from core.cases import publish
from core.errors import CtasError
from core.warehouse import Migrations, Store, Warehouse, quote_identifier

MIGRATIONS: Migrations = (
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
BEHAVIOUR_SCORE_COLUMNS = ("user", "ts", "keystroke", "mouse", "app", "fused", "state", "source")
BEHAVIOUR_ALERT_COLUMNS = ("user", "ts", "from_state", "to_state", "severity", "score", "recommendation", "source")


class BehaviourStore(Store):
    """Versioned behaviour profiles, window scores, trust-state alerts and feed counters."""

    component = "behaviour"
    migrations = MIGRATIONS

    def save_behaviour_profile(self, entry: dict, write_file: Callable[[int], tuple[str, str]]) -> int:
        """Add the next profile version of `entry["user"]` (the newest is the active one); returns the version."""
        with self.warehouse.transaction() as cur:
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
        return self.warehouse.query(
            """SELECT "user", version, enrolled_at, method, modalities, windows, file, sha256,
                      count(*) OVER (PARTITION BY "user") AS versions
               FROM behaviour_profiles QUALIFY version = max(version) OVER (PARTITION BY "user") ORDER BY "user" """
        )

    def append_behaviour(self, scores: pd.DataFrame, alerts: pd.DataFrame, feed: dict | None = None) -> None:
        """Store window scores, state alerts and the feed's event counters in one transaction."""
        with self.warehouse.transaction() as cur:
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
                publish(self.warehouse, trust_signals(alerts, feed.get("host") if feed else None))
            if feed is not None:
                cur.execute(
                    "INSERT OR REPLACE INTO behaviour_feed VALUES (?, ?, ?, ?)",
                    [feed["source"], feed["updated_at"], feed["accepted"], feed["rejected"]],
                )

    def behaviour_scores(self, user: str | None = None, last: timedelta | None = None) -> pd.DataFrame:
        """Window scores in time order, for one user or all; `last`: only that span before the newest window."""
        return self.warehouse.query(
            f"""SELECT {", ".join(map(quote_identifier, BEHAVIOUR_SCORE_COLUMNS))} FROM behaviour_scores
                WHERE ($user IS NULL OR "user" = $user)
                  AND ($span IS NULL OR ts >= (SELECT max(ts) FROM behaviour_scores) - to_microseconds($span))
                ORDER BY ts, "user" """,
            {"user": user, "span": None if last is None else round(last.total_seconds() * 1e6)},
        )

    def behaviour_alerts(self) -> pd.DataFrame:
        """State-change alerts, newest first."""
        return self.warehouse.query(
            f"""SELECT id, {", ".join(map(quote_identifier, BEHAVIOUR_ALERT_COLUMNS))} FROM behaviour_alerts
                ORDER BY ts DESC, id DESC"""
        )

    def behaviour_feeds(self) -> pd.DataFrame:
        """Per event source: events accepted and rejected (by reason)."""
        return self.warehouse.query("SELECT source, updated_at, accepted, rejected FROM behaviour_feed ORDER BY source")

    def clear_behaviour_scores(self, source: str) -> None:
        """Forget the scores, alerts and counters of one source (a replay run again starts clean)."""
        with self.warehouse.transaction() as cur:
            for table in ("behaviour_scores", "behaviour_alerts", "behaviour_feed"):
                cur.execute(f"DELETE FROM {table} WHERE source = ?", [source])


class ProfileStoreError(CtasError, ValueError):
    """A profile could not be saved or loaded; the message says why."""


def save(warehouse: Warehouse, profile: UserProfile) -> int:
    """Store `profile` as the user's next version; returns the version."""
    folder = warehouse.models_folder

    def write_file(version: int) -> tuple[str, str]:
        return artifacts.write(folder, f"behaviour-{profile.user}-v{version}", profile)

    entry = {
        "user": profile.user,
        "enrolled_at": profile.enrolled_at.replace(tzinfo=None),
        "method": profile.method,
        "modalities": list(profile.modalities),
        "windows": json.dumps(profile.windows),
    }
    try:
        return BehaviourStore(warehouse).save_behaviour_profile(entry, write_file)
    except artifacts.ArtifactError as exc:
        raise ProfileStoreError(f"The profile of {profile.user!r} could not be saved: {exc}") from exc


def save_all(warehouse: Warehouse, profiles: dict[str, UserProfile]) -> dict[str, int]:
    """Store several profiles in one transaction (all or none; files of a failed batch are removed)."""
    before = set(warehouse.models_folder.iterdir())
    try:
        with warehouse.transaction():
            return {user: save(warehouse, profile) for user, profile in profiles.items()}
    except BaseException:
        for path in set(warehouse.models_folder.iterdir()) - before:
            path.unlink(missing_ok=True)
        raise


def load_all(warehouse: Warehouse) -> dict[str, UserProfile]:
    """The active profile of every enrolled user."""
    profiles = {}
    for row in BehaviourStore(warehouse).behaviour_profiles().itertuples(index=False):
        what = f"the behaviour profile of {row.user!r} v{row.version}"
        try:
            profile = artifacts.read(warehouse.models_folder, row.file, row.sha256, what)
        except artifacts.ArtifactError as exc:
            raise ProfileStoreError(str(exc)) from exc
        if not isinstance(profile, UserProfile):
            raise ProfileStoreError(f"The file of {what} does not hold a behaviour profile.")
        profiles[row.user] = profile
    return profiles

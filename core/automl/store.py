"""AutoML experiments, their trials and the model registry in the warehouse."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from core.warehouse import Migrations, Store, WarehouseError

MIGRATIONS: Migrations = (
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
    ("ALTER TABLE automl_trials ADD COLUMN worker VARCHAR NOT NULL DEFAULT ''",),  # which cluster worker ran it
)
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
    "worker",
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


class AutomlStore(Store):
    """Recorded experiments with their trials, and versioned registered models."""

    component = "automl"
    migrations = MIGRATIONS

    def record_experiment(self, experiment: dict, trials: pd.DataFrame) -> int:
        """Store a finished experiment and its trials in one transaction; returns the experiment's id."""
        with self.warehouse.transaction() as cur:
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
        return self.warehouse.query(
            f"SELECT id, {', '.join(EXPERIMENT_COLUMNS)} FROM automl_experiments ORDER BY id DESC"
        )

    def experiment_trials(self, experiment_id: int) -> pd.DataFrame:
        """One experiment's trials in the order they ran."""
        return self.warehouse.query(
            f"SELECT {', '.join(TRIAL_COLUMNS)} FROM automl_trials WHERE experiment_id = ? ORDER BY number",
            [experiment_id],
        )

    def register_model(self, entry: dict, write_file: Callable[[int], tuple[str, str]]) -> int:
        """Add the next version of a named model; `write_file(version)` saves it and returns (file, sha256).

        The version number and the row are taken in one transaction: if writing the file fails, nothing is
        registered.
        """
        with self.warehouse.transaction() as cur:
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
        return self.warehouse.query(
            f"SELECT {', '.join(MODEL_COLUMNS)} FROM model_registry ORDER BY created_at DESC, name"
        )

    def registered_model(self, name: str, version: int) -> dict:
        """One registered model version's entry."""
        found = self.warehouse.query(
            f"SELECT {', '.join(MODEL_COLUMNS)} FROM model_registry WHERE name = ? AND version = ?", [name, version]
        )
        if found.empty:
            raise WarehouseError(f"No model {name!r} version {version} is registered.")
        return found.iloc[0].to_dict()

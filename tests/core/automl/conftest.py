"""Real AutoML data sets from ../shared/data/automl, read the way the CLI reads them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def read(shared_data: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(shared_data / "automl" / f"{name}.csv", na_values=["?"], skipinitialspace=True)


@pytest.fixture(scope="session")
def car(shared_data: Path) -> pd.DataFrame:
    """1,728 cars, 6 categorical features, 4 imbalanced classes."""
    return read(shared_data, "car")


@pytest.fixture(scope="session")
def breast_cancer(shared_data: Path) -> pd.DataFrame:
    """569 tumours, 30 numeric features, benign or malignant."""
    return read(shared_data, "breast_cancer")


@pytest.fixture(scope="session")
def diabetes(shared_data: Path) -> pd.DataFrame:
    """442 patients, 10 numeric features, a disease-progression score."""
    return read(shared_data, "diabetes_reg")

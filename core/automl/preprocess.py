"""Column preprocessing per model family, as scikit-learn transformers fitted inside each cross-validation fold."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from core.automl.data import MAX_CODED

Style = Literal["linear", "trees", "native"]
# Linear models, kNN, SVMs and networks get one column per category up to this many categories; beyond it,
# cross-fitted target statistics. Trees take ordinal codes up to MAX_CODED categories.
ONE_HOT_MAX = 15
RARE_CATEGORY_ROWS = 5


def categorical_split(features: pd.DataFrame, categorical: tuple[str, ...], limit: int) -> tuple[list, list]:
    """Categorical columns with at most `limit` categories, and the rest."""
    low = [c for c in categorical if features[c].nunique(dropna=True) <= limit]
    return low, [c for c in categorical if c not in low]


def preprocessor(features: pd.DataFrame, categorical: tuple[str, ...], style: Style) -> ColumnTransformer:
    """The column transformer for one model family.

    - `linear`: median imputation with missing-value indicators, standard scaling, one-hot for few categories;
    - `trees`: median imputation with indicators, ordinal codes (missing and unseen as -1);
    - `native`: numbers as they are (HistGradientBoosting splits on missing values), ordinal codes with missing and
      unseen values as NaN, to be declared categorical (`native_categories`).
    Categories beyond each style's limit are target-encoded (cross-fitted, so no row sees its own target).
    """
    numeric = [c for c in features.columns if c not in categorical]
    low, high = categorical_split(features, categorical, ONE_HOT_MAX if style == "linear" else MAX_CODED)
    parts: list[tuple[str, object, list[str]]] = []
    if style == "linear":
        parts.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric)
        )
        parts.append(
            (
                "one_hot",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist", min_frequency=RARE_CATEGORY_ROWS, sparse_output=False
                    ),
                ),
                low,
            )
        )
    elif style == "trees":
        parts.append(
            ("numeric", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), numeric)
        )
        parts.append(
            (
                "codes",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1),
                low,
            )
        )
    else:
        parts.append(("numeric", "passthrough", numeric))
        parts.append(
            (
                "codes",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan),
                low,
            )
        )
    if high:
        encoder = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="(missing)"), TargetEncoder(random_state=0)
        )
        if style == "linear":
            encoder.steps.append(("scale", StandardScaler()))
        parts.append(("target_stats", encoder, high))
    return ColumnTransformer([p for p in parts if p[2]], remainder="drop", verbose_feature_names_out=False)


def native_categories(features: pd.DataFrame, categorical: tuple[str, ...]) -> list[int]:
    """Positions of the ordinal-coded columns in a `native` preprocessor's output (numbers come first)."""
    numeric = [c for c in features.columns if c not in categorical]
    low, _ = categorical_split(features, categorical, MAX_CODED)
    return list(range(len(numeric), len(numeric) + len(low)))

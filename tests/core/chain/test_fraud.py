"""Fraud scoring on the Elliptic schema: a synthetic set of that schema is read, trained on with the AutoML search
on steps 1-34 and tested on 35-49; bad files are refused with one message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from core.automl.runner import fit_table
from core.automl.search import SearchSettings
from core.chain.blocks import ChainInputError
from core.chain.fraud import ILLICIT, evaluate, read_elliptic, synthetic_elliptic


@pytest.fixture(scope="module")
def files() -> tuple[bytes, bytes, bytes]:
    return synthetic_elliptic(seed=3)


def _automl(features: pd.DataFrame, labels: pd.Series):
    result = fit_table(features.assign(label=labels), "label", "binary", settings=SearchSettings(8, seed=1))
    return result.model.description, result.model.predict


def test_the_synthetic_files_have_the_elliptic_schema(files) -> None:
    features, classes, edges = files
    first = features.split(b"\n", 1)[0].split(b",")
    assert len(first) == 167
    data = read_elliptic(features, classes, edges)
    assert data.feature_names[:2] == ("local_1", "local_2") and data.feature_names[-3] == "aggregated_72"
    assert data.feature_names[-2:] == ("in_degree", "out_degree") and data.edges > 0
    assert set(data.frame["step"]) == set(range(1, 50))
    assert 0.05 < (data.frame["label"] == ILLICIT).mean() < 0.2
    assert 0.7 < data.unlabelled / (data.unlabelled + len(data.frame)) < 0.85


def test_the_temporal_split_finds_the_pattern_before_the_shutdown_and_loses_it_after(files) -> None:
    evaluation = evaluate(read_elliptic(*files), _automl)
    predictions = evaluation.predictions
    assert predictions["step"].min() == 35 and predictions["step"].max() == 49
    assert evaluation.by_step["step"].tolist() == list(range(35, 50))
    assert evaluation.by_step["transactions"].sum() == len(predictions)
    before, after = predictions[predictions["step"] <= 43], predictions[predictions["step"] > 43]
    for column in ("model", "random_forest"):
        assert f1_score(before["label"], before[column], pos_label=ILLICIT) > 0.6
        assert f1_score(after["label"], after[column], pos_label=ILLICIT) < 0.3
    overall = evaluation.overall.set_index("model")["F1"]
    assert overall.index[0] == evaluation.model and overall.index[1].startswith("random forest")
    assert f1_score(predictions["label"], predictions["model"], pos_label=ILLICIT) == pytest.approx(overall.iloc[0])


def _features(rows: list[list[object]]) -> bytes:
    return "\n".join(",".join(map(str, r)) for r in rows).encode()


GOOD_FEATURES = _features([[1, 1, 0.5, 0.1], [2, 1, 0.2, 0.3], [3, 2, 0.1, 0.9]])
GOOD_CLASSES = b"txId,class\n1,1\n2,2\n3,unknown\n"


@pytest.mark.parametrize(
    ("features", "classes", "edges", "message"),
    [
        (_features([[1, 1], [2, 1]]), GOOD_CLASSES, None, "columns"),
        (_features([[1, 1, "x", 0.1], [2, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "readable CSV"),
        (_features([[1, 1, float("nan"), 0.1], [2, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "missing or non-numeric"),
        (_features([[1, 1, 0.5, 0.1], [1, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "appear once"),
        (_features([[1, 0, 0.5, 0.1], [2, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "Time steps"),
        (_features([[1.9, 1, 0.5, 0.1], [2, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "whole number"),
        (_features([[2**63, 1, 0.5, 0.1], [2, 1, 0.2, 0.3]]), GOOD_CLASSES, None, "below 2\\^53"),
        (GOOD_FEATURES, b"txId,class\ninf,1\n2,2\n", None, "whole number"),
        (GOOD_FEATURES, b"txId,class\n1.5,1\n2,2\n", None, "whole number"),
        (_features([list(range(600))]), GOOD_CLASSES, None, "more than 502 columns"),
        (GOOD_FEATURES, b"id,label\n1,1\n", None, "header txId,class"),
        (GOOD_FEATURES, b"txId,class\n1,3\n2,2\n", None, "is not 1"),
        (GOOD_FEATURES, b"txId,class\n1,1\n9,2\n", None, "lacks"),
        (GOOD_FEATURES, b"txId,class\n1,2\n2,2\n", None, "both illicit"),
        (GOOD_FEATURES, GOOD_CLASSES, b"txId1,txId2\n1,99\n", "two txIds"),
        (GOOD_FEATURES, GOOD_CLASSES, b"a,b\n1,2\n", "header txId1,txId2"),
        (b"\x00" * 10, GOOD_CLASSES, None, "not a number"),
    ],
)
def test_bad_elliptic_files_get_one_clear_message(features, classes, edges, message) -> None:
    with pytest.raises(ChainInputError, match=message):
        read_elliptic(features, classes, edges)


def test_a_split_without_later_steps_is_refused(files) -> None:
    data = read_elliptic(*files)
    early = type(data)(data.frame[data.frame["step"] <= 30], data.feature_names, 0, 0)
    with pytest.raises(ChainInputError, match="temporal split"):
        evaluate(early, lambda x, y: ("never", lambda t: np.full(len(t), "2")))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_edit_of_elliptic_files_is_read_or_refused_cleanly(data: st.DataObject) -> None:
    features = list(GOOD_FEATURES.decode() * 1)
    classes = list(GOOD_CLASSES.decode())
    for target in (features, classes):
        for _ in range(data.draw(st.integers(0, 4))):
            target[data.draw(st.integers(0, len(target) - 1))] = data.draw(st.sampled_from(list("0129.,-e\nxinf ")))
    try:
        result = read_elliptic("".join(features).encode(), "".join(classes).encode())
    except ChainInputError:
        return
    assert set(result.frame["label"]) == {ILLICIT, "2"}
    assert result.frame["txId"].is_unique

"""AutoML page: a queued run on the shipped credit sample with live progress, its results, the register form,
comparison of two recorded experiments, and clear messages for bad choices."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.automl.store import AutomlStore
from core.warehouse import open_warehouse, resolve_path
from tests.waiting import wait_until


def _run_until_done(at: AppTest, timeout: float = 90.0) -> AppTest:
    seen = {"progress": False}

    def finished() -> bool:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        seen["progress"] = seen["progress"] or any(
            "Searching:" in p.proto.text or "Queued" in p.proto.text for p in at.get("progress")
        )
        return "automl_result" in at.session_state or ("automl_job" not in at.session_state and seen["progress"])

    wait_until(finished, timeout=timeout, what="the end of the AutoML run", poll=1.0)  # each check reruns the app
    return at


def test_a_run_on_the_credit_sample_shows_results_and_registers(app) -> None:
    at = app("pages/automl.py")
    assert at.selectbox(key="automl_dataset").value == "german_credit_risk"
    assert at.selectbox(key="automl_target_german_credit_risk").value == "class"
    assert "metric: ROC AUC" in " ".join(c.value for c in at.caption)
    at.select_slider(key="automl_budget").set_value(10).run()
    at.button(key="automl_start").click().run()
    assert "automl_job" in at.session_state
    at = _run_until_done(at)
    tiles = {m.label: m.value for m in at.main.metric}
    assert 0.7 < float(tiles["Test ROC AUC"]) <= 1.0  # logistic regression alone reaches about 0.78 here
    board = at.main.dataframe[1].value
    assert {"model", "state", "cv score"} <= set(board.columns)
    assert (board["state"] == "complete").sum() >= 2
    assert at.get("plotly_chart")  # ROC curve and the progress curve

    at.text_input(key="automl_model_name").set_value("credit risk")
    at.button(key="FormSubmitter:automl_register-Register").click().run()
    assert any("Registered **credit risk** version 1" in s.value for s in at.success)
    warehouse = open_warehouse(resolve_path())
    assert AutomlStore(warehouse).registered_models()["name"].tolist() == ["credit risk"]
    experiments = AutomlStore(warehouse).experiments()
    assert len(experiments) == 1 and experiments["budget_s"].iloc[0] == 10  # the budget chosen is the one run


def test_a_leaking_target_choice_is_explained_not_run(app) -> None:
    at = app("pages/automl.py")
    at.selectbox(key="automl_target_german_credit_risk").set_value("own_telephone").run()
    assert not at.exception
    at.selectbox(key="automl_task").set_value("regression").run()
    assert any("Regression needs a numeric target" in e.value for e in at.error)
    assert not at.button or all(b.key != "automl_start" for b in at.button)


def test_empty_family_choice_is_refused(app) -> None:
    at = app("pages/automl.py")
    at.multiselect(key="automl_families").set_value([]).run()
    assert any("Choose at least one model family" in e.value for e in at.error)

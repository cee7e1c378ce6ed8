"""The AutoML page's panels: train (with the shared queue), compare experiments, registry and prediction."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core import compute
from core.automl import registry, tracking
from core.automl.data import AutoMLInputError, Prepared, detect_task, prepare, read_csv_bytes
from core.automl.jobs import SearchProgress, training_queue
from core.automl.metrics import primary_metric
from core.automl.predict import predict_table
from core.automl.runner import Experiment, run_experiment
from core.automl.search import SearchSettings
from core.automl.store import AutomlStore
from core.automl.views import (
    best_curve,
    comparison_figure,
    comparison_frame,
    diagnostics_figure,
    experiment_report,
    importance_figure,
    importance_frame,
    leaderboard,
    metric_label,
    metrics_frame,
    progress_figure,
)
from core.automl.zoo import FAMILIES
from core.csvformat import dataset_name_from
from core.tasks import Job, JobQueue
from core.warehouse import IngestError, Warehouse, WarehouseError
from ui import common, csv_preview
from ui.errors import guarded

DEFAULT_DATASET = "german_credit_risk"
TASK_CHOICES = ("auto", "binary", "multiclass", "regression")
BUDGETS = (10, 20, 30, 60, 120, 300, 600)
POLL_SECONDS = 1.0
MAX_PREDICT_ROWS = 1_000_000


@st.cache_resource
def _training_queue() -> JobQueue:
    """One queue per server: every session's runs share the two cores in turn."""
    return training_queue()


@st.cache_data(max_entries=4, show_spinner="Reading the data set…")
def _dataset(path: str, name: str, sha256: str) -> pd.DataFrame:
    """A dataset's rows, cached per warehouse, dataset and content."""
    return common.warehouse_at(path).read_dataset(name)


def _checked(frame: pd.DataFrame, target: str, task: str, exclude: tuple[str, ...]) -> Prepared | str:
    try:
        return prepare(frame, target, task, exclude)
    except AutoMLInputError as exc:
        return str(exc)


# -- train -------------------------------------------------------------------------------------------------------
def train_panel(wh: Warehouse) -> None:
    """Data, target and budget; the queued run with live progress; the finished experiment."""
    _upload_form(wh)
    if flash := st.session_state.pop("automl_flash", None):
        st.success(flash, icon=":material/check_circle:")
    datasets = {d.name: d for d in wh.list_datasets()}
    if not datasets:
        st.info("No data sets yet: upload a CSV file above.", icon=":material/info:")
        return
    names = list(datasets)
    if st.session_state.get("automl_dataset") not in names:
        st.session_state["automl_dataset"] = DEFAULT_DATASET if DEFAULT_DATASET in names else names[0]
    left, mid, right = st.columns([2, 2, 1])
    name = left.selectbox("Data set", names, key="automl_dataset")
    info = datasets[name]
    frame = _dataset(wh.path, name, info.sha256)
    columns = list(frame.columns)
    target = mid.selectbox("Target column", columns, index=len(columns) - 1, key=f"automl_target_{name}")
    detected = detect_task(frame[target])
    task = right.selectbox(
        "Task", TASK_CHOICES, key="automl_task", format_func=lambda t: f"auto ({detected})" if t == "auto" else t
    )
    with st.expander("Settings", icon=":material/tune:"):
        cols = st.columns(3)
        budget = cols[0].select_slider("Time budget (seconds)", BUDGETS, value=60, key="automl_budget")
        test_size = cols[1].slider("Test share", 0.1, 0.5, 0.25, 0.05, key="automl_test_size")
        seed = int(cols[2].number_input("Seed", 0, 2**31 - 1, 0, key="automl_seed"))
        exclude = tuple(
            st.multiselect(
                "Leave out columns", [c for c in columns if c != target], key=f"automl_exclude_{name}_{target}"
            )
        )
        families = st.multiselect(
            "Model families",
            [f.name for f in FAMILIES],
            default=[f.name for f in FAMILIES],
            format_func=lambda n: next(f.label for f in FAMILIES if f.name == n),
            key="automl_families",
        )
    checked = _checked(frame, target, task, exclude)
    if isinstance(checked, str):
        st.error(common.md_escape(checked), icon=":material/error:")
        return
    for warning in checked.warnings:
        st.warning(common.md_escape(warning), icon=":material/warning:")
    st.caption(
        f"{len(checked.target):,} rows · {len(checked.schema.columns)} input columns "
        f"({len(checked.schema.numeric)} numeric, {len(checked.schema.categorical)} categorical, "
        f"{len(checked.schema.datetime)} dates) · metric: {metric_label(primary_metric(checked.schema.task))} · "
        f"{1 - test_size:.0%} for the search (cross-validated), {test_size:.0%} kept for the final test · "
        f"trials run on {common.compute_line()}"
    )
    if not families:
        st.error("Choose at least one model family.", icon=":material/error:")
        return
    settings = SearchSettings(budget_s=float(budget), seed=seed, families=tuple(families))
    queue = _training_queue()
    job = queue.get(st.session_state.get("automl_job", 0))
    busy = job is not None and not job.done
    st.button(
        "Start the run",
        type="primary",
        icon=":material/play_arrow:",
        key="automl_start",
        disabled=busy,
        help="One run per session at a time: cancel the current run to start another." if busy else None,
        on_click=_start,
        args=(wh, queue),
        kwargs={
            "frame": frame,
            "target": target,
            "task": task,
            "settings": settings,
            "test_size": test_size,
            "exclude": exclude,
            "dataset": name,
        },
    )
    if job is not None and not job.done:
        _progress(queue, job.id)
    elif job is not None and job.state == "failed":
        st.error(f"**The run failed.** {common.md_escape(job.error_message)}", icon=":material/error:")
    if job is not None and job.done and job.result is not None:
        st.session_state["automl_result"] = job.result
        st.session_state.pop("automl_job")
    if (result := st.session_state.get("automl_result")) is not None:
        _results(wh, result)


def _upload_form(wh: Warehouse) -> None:
    with st.expander("Upload a CSV file as a new data set", icon=":material/upload:"):
        uploaded = st.file_uploader(
            "CSV file",
            type=["csv", "tsv", "txt"],
            key="automl_upload",
            help="Stored in the warehouse like on the Data page; up to 200 MiB.",
        )
        if uploaded is None:
            return
        checked = csv_preview.preview(uploaded, key="automl_preview")
        if isinstance(checked, IngestError):
            st.error(f"**{common.md_escape(uploaded.name)} cannot be read.** {common.md_escape(checked)}",
                     icon=":material/error:")  # fmt: skip
            return
        csv_preview.show_preview(checked)
        if checked.refusal or checked.problem_count:
            why = checked.refusal or "it has malformed rows; fix them, or skip them on the Data page"
            st.error(f"**{common.md_escape(uploaded.name)} cannot be used as it is:** {why}.", icon=":material/error:")
            return
        dataset = st.text_input("Data set name", value=dataset_name_from(uploaded.name), key="automl_upload_name")
        if st.button("Add to the warehouse", key="automl_ingest", icon=":material/database:"):
            try:
                info = wh.ingest_csv(
                    uploaded.getvalue(), dataset, original_filename=uploaded.name, limits=csv_preview.LIMITS
                )
            except WarehouseError as exc:
                st.error(f"**Not stored.** {common.md_escape(exc)}", icon=":material/error:")
                return
            st.session_state["automl_dataset"] = info.name
            st.session_state["automl_flash"] = f"Stored {info.rows:,} rows as **{info.name}**."
            st.rerun()


def _start(
    wh: Warehouse,
    queue: JobQueue,
    *,
    frame: pd.DataFrame,
    target: str,
    task: str,
    settings: SearchSettings,
    test_size: float,
    exclude: tuple[str, ...],
    dataset: str,
) -> None:
    label = f"{dataset} → {target}"

    progress = SearchProgress(settings.budget_s)

    def work(job: Job) -> dict:
        experiment = run_experiment(
            frame,
            target,
            task,
            settings=settings,
            test_size=test_size,
            exclude=exclude,
            on_trial=progress.on_trial,
            stop=job.token,
            handle=compute.client(),  # None without a cluster: the search runs here, as always
        )
        name = f"{label} ({settings.budget_s:.0f} s)"
        experiment_id = tracking.record(wh, experiment, name, dataset)
        return {"experiment": experiment, "id": experiment_id, "name": name, "dataset": dataset}

    st.session_state["automl_job"] = queue.submit(work, label=label, progress=progress).id
    st.session_state.pop("automl_result", None)
    st.session_state.pop("automl_importance", None)


def _cancel(queue: JobQueue, job_id: int) -> None:
    job = queue.get(job_id)
    if job is not None:
        job.cancel()


@st.fragment(run_every=POLL_SECONDS)
@guarded
def _progress(queue: JobQueue, job_id: int) -> None:
    job = queue.get(job_id)
    if job is None or job.done:
        st.rerun()
    if job.state == "queued":
        st.info(
            f"Queued: {queue.position(job)} run(s) ahead of this one share the two cores first.",
            icon=":material/hourglass_top:",
        )
    else:
        progress: SearchProgress = job.progress
        share = min(job.elapsed_s / progress.budget_s, 1.0)
        done = sum(t.state == "complete" for t in progress.trials)
        best = f", best cross-validated score {progress.best[-1][1]:.4f}" if progress.best else ""
        st.progress(
            share,
            text=f"Searching: {job.elapsed_s:.0f} of {progress.budget_s:.0f} s, {len(progress.trials)} trials "
            f"({done} complete){best}",
        )
        if progress.trials:
            left, right = st.columns([3, 2])
            curve = progress_figure(progress.best, progress.trials, "score", progress.budget_s)
            left.plotly_chart(curve, key="automl_live_curve")
            board = leaderboard(progress.trials).head(12)
            shown = ["model", "state", "cv score", "fit s", *(["worker"] if "worker" in board else [])]
            right.dataframe(board[shown], hide_index=True, width="stretch")
    st.button(
        "Cancel the run",
        icon=":material/cancel:",
        key="automl_cancel",
        on_click=_cancel,
        args=(queue, job_id),
        help="A running search stops after its current fold and keeps its best model.",
    )


def _results(wh: Warehouse, result: dict) -> None:
    experiment: Experiment = result["experiment"]
    model = experiment.result.model
    st.subheader(f"Experiment #{result['id']}: {result['name']}")
    if experiment.result.cancelled:
        st.warning("The run was cancelled; this is the best model it had.", icon=":material/cancel:")
    for note in model.notes:
        st.warning(common.md_escape(note), icon=":material/warning:")
    tiles = st.columns(4)
    label = metric_label(experiment.metric)
    tiles[0].metric(f"Test {label}", f"{experiment.test_score:.4f}")
    tiles[1].metric(f"Cross-validated {label}", f"{model.cv_score:.4f}")
    tiles[2].metric("Trials", len(experiment.result.trials))
    tiles[3].metric(
        "Time used",
        f"{experiment.elapsed_s:.1f} s",
        f"budget {experiment.settings.budget_s:.0f} s",
        delta_color="off",
        delta_arrow="off",
    )
    st.markdown(f"**Model:** {common.md_escape(model.description)}")
    left, right = st.columns([3, 2])
    left.plotly_chart(diagnostics_figure(experiment), key="automl_diagnostics")
    right.dataframe(metrics_frame(experiment.test_metrics), hide_index=True, width="stretch")
    board = leaderboard(experiment.result.trials)
    st.dataframe(board, hide_index=True, width="stretch", height=320)
    st.plotly_chart(
        progress_figure(
            best_curve(experiment.result.trials),
            experiment.result.trials,
            experiment.metric,
            experiment.settings.budget_s,
        ),
        key="automl_curve",
    )
    importance = st.session_state.get("automl_importance")
    if importance is None and st.button(
        "Compute permutation importance", icon=":material/bar_chart:", key="automl_importance_go"
    ):
        with st.spinner("Shuffling each column of the test rows…"):
            st.session_state["automl_importance"] = importance = importance_frame(experiment)
    if importance is not None:
        st.plotly_chart(importance_figure(importance, experiment.metric), key="automl_importance_chart")
    _register_form(wh, result)
    buttons = st.columns(3)
    with buttons[0]:
        common.report_button(
            lambda: experiment_report(experiment, result["name"], result["dataset"], importance),
            f"AutoML {result['name']}",
            key="automl_report",
        )
    with buttons[1]:
        common.csv_button(
            lambda: board, f"automl-trials-{result['id']}.csv", key="automl_trials_csv", label="Download trials CSV"
        )


def _register_form(wh: Warehouse, result: dict) -> None:
    with st.form("automl_register", border=True):
        st.markdown("**Keep this model in the registry**")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input("Model name", value=result["dataset"], key="automl_model_name")
        if right.form_submit_button("Register", icon=":material/inventory_2:"):
            try:
                version = registry.register(wh, name, result["experiment"], result["id"])
            except WarehouseError as exc:
                st.error(common.md_escape(exc), icon=":material/error:")
            else:
                st.success(
                    f"Registered **{common.md_escape(name.strip())}** version {version}.",
                    icon=":material/check_circle:",
                )


# -- compare -----------------------------------------------------------------------------------------------------
def compare_panel(wh: Warehouse) -> None:
    """Recorded experiments side by side, with their best-so-far curves."""
    experiments = AutomlStore(wh).experiments()
    if experiments.empty:
        st.info("No experiments recorded yet: finished runs appear here.", icon=":material/info:")
        return
    labels = {int(r.id): f"#{r.id} {r.name} · {r.started_at:%Y-%m-%d %H:%M}" for r in experiments.itertuples()}
    chosen = st.multiselect(
        "Experiments", list(labels), default=list(labels)[:2], format_func=labels.get, key="automl_compare"
    )
    if not chosen:
        return
    picked = experiments[experiments["id"].isin(chosen)]
    st.dataframe(comparison_frame(picked), width="stretch")
    metrics = set(picked["metric"])
    if len(metrics) > 1:
        st.info(
            "These experiments optimise different metrics; their curves are not drawn together.", icon=":material/info:"
        )
        return
    curves = {f"#{r.id} {r.name}": AutomlStore(wh).experiment_trials(int(r.id)) for r in picked.itertuples()}
    st.plotly_chart(comparison_figure(curves, metrics.pop()), key="automl_compare_curves")


# -- registry and prediction -------------------------------------------------------------------------------------
def predict_panel(wh: Warehouse) -> None:
    """Registered models, and batch prediction on an uploaded CSV with a schema check."""
    models = AutomlStore(wh).registered_models()
    if models.empty:
        st.info("No registered models yet: register one after a run.", icon=":material/info:")
        return
    shown = models.drop(columns=["file", "sha256", "features"]).assign(
        cv_score=models["cv_score"].round(4), test_score=models["test_score"].round(4)
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    choices = [(r.name, int(r.version)) for r in models.itertuples()]
    name, version = st.selectbox("Model", choices, format_func=lambda c: f"{c[0]} v{c[1]}", key="automl_predict_model")
    entry = models[(models["name"] == name) & (models["version"] == version)].iloc[0]
    schema = json.loads(entry["features"])
    st.caption("Expects the columns: " + ", ".join(schema["numeric"] + schema["categorical"] + schema["datetime"]))
    uploaded = st.file_uploader("CSV file to predict", type=["csv", "tsv", "txt"], key="automl_predict_upload")
    if uploaded is None:
        return
    try:
        frame = read_csv_bytes(uploaded.getvalue(), uploaded.name, MAX_PREDICT_ROWS)
        model = registry.load(wh, name, version)
        predictions = predict_table(frame, model)
    except (AutoMLInputError, WarehouseError) as exc:
        st.error(f"**No predictions.** {common.md_escape(exc)}", icon=":material/error:")
        return
    for warning in predictions.warnings:
        st.warning(common.md_escape(warning), icon=":material/warning:")
    st.success(
        f"Predicted {len(predictions.table):,} rows with {common.md_escape(name)} v{version}.",
        icon=":material/check_circle:",
    )
    st.dataframe(predictions.table.head(200), hide_index=True, width="stretch")
    common.csv_button(
        lambda: predictions.table,
        f"predictions-{name}-v{version}.csv",
        key="automl_predictions_csv",
        label="Download predictions CSV",
    )

"""The job queue AutoML runs wait in: one run at a time in arrival order, positions, cancel while queued or running,
errors, and the search progress a job reports."""

from __future__ import annotations

import threading

from core.automl.jobs import SearchProgress, training_queue
from core.automl.search import TrialRecord
from core.tasks import Job
from tests.waiting import wait_until


def _wait(condition) -> None:
    wait_until(condition, timeout=10, what="the job's state change")


def test_jobs_run_one_at_a_time_in_order() -> None:
    queue = training_queue()
    release = threading.Event()
    order: list[str] = []

    def work(name: str):
        def run(job: Job) -> str:
            order.append(f"start {name}")
            release.wait(5)
            order.append(f"end {name}")
            return name

        return run

    first = queue.submit(work("first"), label="first")
    second = queue.submit(work("second"), label="second")
    _wait(lambda: first.state == "running")
    assert second.state == "queued"
    assert queue.position(second) == 1
    assert queue.position(first) == 0
    release.set()
    _wait(lambda: second.done)
    assert order == ["start first", "end first", "start second", "end second"]
    assert (first.result, second.result) == ("first", "second")
    assert first.state == second.state == "finished"


def test_cancel_drops_a_queued_job_and_signals_a_running_one() -> None:
    queue = training_queue()

    def run_until_stopped(job: Job) -> str:
        job.token.wait(5)
        return "partial"

    running = queue.submit(run_until_stopped, label="running")
    waiting = queue.submit(lambda job: "never", label="waiting")
    _wait(lambda: running.state == "running")
    waiting.cancel()
    assert waiting.state == "cancelled"
    running.cancel()
    _wait(lambda: running.done)
    assert running.state == "cancelled" and running.result == "partial"  # a cancelled search keeps its best model
    assert waiting.result is None


def test_a_failing_job_reports_its_message_and_the_queue_goes_on() -> None:
    queue = training_queue()

    def fail(job: Job) -> None:
        raise ValueError("The target 'x' has one class only")

    failed = queue.submit(fail, label="bad")
    after = queue.submit(lambda job: 42, label="good")
    _wait(lambda: after.done)
    assert failed.state == "failed" and failed.error_message == "The target 'x' has one class only"
    assert after.result == 42


def test_progress_keeps_trials_and_the_best_score_after_each() -> None:
    progress = SearchProgress(budget_s=10.0)
    for at_s, best in ((1.0, float("nan")), (2.0, 0.7), (3.0, 0.8)):
        record = TrialRecord(number=int(at_s), family="linear", params={}, state="complete", cv_score=best, at_s=at_s)
        progress.on_trial(record, best)
    assert len(progress.trials) == 3 and progress.best == [(2.0, 0.7), (3.0, 0.8)]

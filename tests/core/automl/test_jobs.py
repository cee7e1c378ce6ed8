"""The training queue: one run at a time in arrival order, positions, cancel while queued or running, errors."""

from __future__ import annotations

import threading
import time

from core.automl.jobs import Job, TrainingQueue


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_jobs_run_one_at_a_time_in_order() -> None:
    queue = TrainingQueue()
    release = threading.Event()
    order: list[str] = []

    def work(name: str):
        def run(job: Job) -> str:
            order.append(f"start {name}")
            release.wait(5)
            order.append(f"end {name}")
            return name

        return run

    first = queue.submit("first", 1.0, work("first"))
    second = queue.submit("second", 1.0, work("second"))
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
    queue = TrainingQueue()

    def run_until_stopped(job: Job) -> str:
        job.stop.wait(5)
        return "partial"

    running = queue.submit("running", 1.0, run_until_stopped)
    waiting = queue.submit("waiting", 1.0, lambda job: "never")
    _wait(lambda: running.state == "running")
    queue.cancel(waiting)
    assert waiting.state == "cancelled"
    queue.cancel(running)
    _wait(lambda: running.done)
    assert running.state == "cancelled" and running.result == "partial"  # a cancelled search keeps its best model
    assert waiting.result is None


def test_a_failing_job_reports_its_message_and_the_queue_goes_on() -> None:
    queue = TrainingQueue()

    def fail(job: Job) -> None:
        raise ValueError("The target 'x' has one class only")

    failed = queue.submit("bad", 1.0, fail)
    after = queue.submit("good", 1.0, lambda job: 42)
    _wait(lambda: after.done)
    assert failed.state == "failed" and failed.error == "The target 'x' has one class only"
    assert after.result == 42

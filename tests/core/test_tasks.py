"""core.tasks: the cancel token, jobs (state, result, error, time limit) and the bounded queue."""

from __future__ import annotations

import threading

import pytest

from core.tasks import CancelToken, Job, JobQueue, QueueFullError, TaskCancelledError, cancellable, check, stop_flag


def test_check_and_stop_flag_obey_only_the_token_in_scope() -> None:
    token = CancelToken()
    token.cancel()
    check()  # no token in scope: nothing to obey
    assert stop_flag()[0] == 0
    with cancellable(token):
        assert stop_flag()[0] == 1
        with pytest.raises(TaskCancelledError):
            check()
    check()


def test_a_token_wakes_a_waiting_loop_at_once() -> None:
    token = CancelToken()
    threading.Timer(0.05, token.cancel).start()
    assert token.wait(60) is True and token.is_set() and token.cancelled


def test_a_job_keeps_its_result_or_its_error() -> None:
    done = Job(lambda job: 6 * 7).start()
    assert done.join(30) and (done.state, done.result, done.error_message) == ("finished", 42, "")
    failed = Job(lambda job: int("x")).start()
    assert failed.join(30) and failed.state == "failed" and isinstance(failed.error, ValueError)
    assert "invalid literal" in failed.error_message


def _until_cancelled(job: Job) -> str:
    while True:
        check()
        job.token.wait(0.01)


def test_cancel_stops_a_running_job() -> None:
    started = threading.Event()

    def work(job: Job) -> str:
        started.set()
        return _until_cancelled(job)

    job = Job(work).start()
    assert started.wait(30)
    job.cancel()
    assert job.join(30) and job.state == "cancelled" and job.error is None and not job.timed_out


def test_the_time_limit_cancels_the_job_from_a_watchdog() -> None:
    job = Job(_until_cancelled, limit_s=0.05).start()
    assert job.join(30) and job.state == "cancelled" and job.timed_out


def test_the_queue_is_bounded() -> None:
    queue = JobQueue(max_waiting=1)
    gate = threading.Event()
    running = queue.submit(lambda job: gate.wait(30))
    while running.state == "queued":
        running.token.wait(0.01)
    queue.submit(lambda job: None)
    with pytest.raises(QueueFullError, match="waiting already"):
        queue.submit(lambda job: None)
    gate.set()

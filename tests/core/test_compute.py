"""core.compute: the compute setting, the client it hands out, and parallel maps here and on Dask clusters."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compute
from core.compute import BatchProgress, ComputeError, ComputeSetting, parallel_map, parse_setting
from core.tasks import Job
from tests.conftest import REPO
from tests.waiting import wait_until

RELEASE = threading.Event()  # tasks of the in-process cluster block on it until the test lets them go


def _square(x: int) -> int:
    return x * x


def _blocked(x: int) -> int:
    RELEASE.wait(60)
    return x


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is refused")
    return x


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ComputeSetting()),
        ("", ComputeSetting()),
        (" None ", ComputeSetting()),
        ("local:3", ComputeSetting("local", 3)),
        ("LOCAL:1", ComputeSetting("local", 1)),
        ("tcp://scheduler:8786", ComputeSetting("scheduler", address="tcp://scheduler:8786")),
        ("tcp://[::1]:8786", ComputeSetting("scheduler", address="tcp://[::1]:8786")),
    ],
)
def test_settings_that_are_understood(text: str | None, expected: ComputeSetting) -> None:
    assert parse_setting(text) == expected


def test_local_without_a_number_uses_every_core() -> None:
    assert parse_setting("local") == ComputeSetting("local", os.cpu_count() or 1)


@pytest.mark.parametrize(
    "text",
    ["local:0", "local:65", "local:-1", "local:two", "tcp://host", "tcp://host:0", "tcp://host:70000", "http://h:1",
     "tcp://a b:1", "tcp://host:8786/path", "tcp://-host:1", "x" * 301, "local:1\nx", "tcp://h:1;rm",
     "tls://10.0.0.5:8786", "local:\u0661", "tcp://h:\u0668\u0667"],
)  # fmt: skip
def test_settings_that_are_refused_with_one_message(text: str) -> None:
    with pytest.raises(ComputeError, match=r"CTAS_COMPUTE|local cluster has"):
        parse_setting(text)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_any_text_is_a_setting_or_a_refusal(text: str) -> None:
    try:
        chosen = parse_setting(text)
    except ComputeError:
        return
    assert chosen.kind in ("none", "local", "scheduler")
    assert "\n" not in chosen.address and len(chosen.address) <= compute.MAX_SETTING_CHARS


def test_without_a_setting_there_is_no_client_and_dask_is_never_imported() -> None:
    code = (
        "import os, sys; os.environ.pop('CTAS_COMPUTE', None)\n"
        "from core import compute; import core.automl.runner, core.fbas.batch, core.geo.batch, ui.common\n"
        "assert compute.client() is None\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


def test_a_map_without_a_cluster_runs_in_order_with_progress() -> None:
    progress = BatchProgress()
    assert parallel_map(_square, range(6), progress=progress) == [0, 1, 4, 9, 16, 25]
    assert (progress.done, progress.total) == (6, 6)
    assert progress.describe().startswith("6 of 6 done")
    with pytest.raises(ValueError, match="three is refused"):
        parallel_map(_fails_on_three, range(6))


def test_a_cancelled_map_without_a_cluster_stops_between_tasks() -> None:
    progress = BatchProgress()

    def work(job: Job) -> list[int]:
        def task(x: int) -> int:
            if x == 2:
                job.token.cancel()
            return x

        return parallel_map(task, range(100), progress=progress)

    job = Job(work).start()
    assert job.join(60) and job.state == "cancelled"
    assert progress.done == 3  # the third task cancelled the batch and finished; nothing after it ran


@pytest.fixture(scope="module")
def threads_cluster():
    """A cluster of two worker threads in this process (what most scale-out tests use: it starts in a blink)."""
    handle = compute.open_client(ComputeSetting("local", 2), processes=False)
    yield handle
    compute.close(handle)


def test_a_map_on_a_cluster_equals_the_serial_map(threads_cluster) -> None:
    progress = BatchProgress()
    assert parallel_map(_square, range(20), progress=progress, handle=threads_cluster) == [x * x for x in range(20)]
    assert (progress.done, progress.total) == (20, 20)
    assert len(threads_cluster.scheduler_info(n_workers=-1)["workers"]) == 2
    with pytest.raises(ValueError, match="three is refused"):
        parallel_map(_fails_on_three, range(6), handle=threads_cluster)


def test_a_map_on_a_cluster_is_cancelled_while_its_tasks_still_run(threads_cluster) -> None:
    """The tasks block until released; cancelling the job ends the map at once (within the poll interval),
    without waiting for them."""
    RELEASE.clear()
    progress = BatchProgress()
    try:
        job = Job(lambda _job: parallel_map(_blocked, range(8), progress=progress, handle=threads_cluster)).start()
        wait_until(lambda: progress.total == 8, timeout=30, what="the batch's start")
        job.cancel()
        assert job.join(30) and job.state == "cancelled"
        assert progress.done == 0 and not RELEASE.is_set()  # it ended while every task was still blocked
    finally:
        RELEASE.set()


def test_the_progress_estimates_the_time_left_from_the_pace_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compute.time, "monotonic", lambda: 102.0)
    progress = BatchProgress(total=4, done=1, started=100.0)  # one task done in 2 s: three more take 6 s
    assert progress.time_left_s == 6.0
    assert progress.describe() == "1 of 4 done in 2.0 s, about 6 s left"
    assert BatchProgress(total=3).time_left_s is None


def test_the_environment_setting_is_read_and_a_bad_one_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compute.ENV, "local:2")
    assert compute.setting() == ComputeSetting("local", 2)
    monkeypatch.setenv(compute.ENV, "cluster please")
    with pytest.raises(ComputeError):
        compute.client()


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compute, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ComputeError, match="Cannot reach the Dask cluster"):
        compute.open_client(parse_setting("tcp://127.0.0.1:9"))

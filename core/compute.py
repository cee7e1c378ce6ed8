"""Where CTAS runs parallel work: in this process (the default), on a local Dask cluster, or on a running scheduler.

The one compute setting is the environment variable CTAS_COMPUTE: `none` (or unset), `local` / `local:N` (a
local cluster of N worker processes, one thread each; N defaults to the cores), or a scheduler address such as
`tcp://scheduler:8786`. This module is the only one that creates clusters and clients; dask is imported only when
a setting asks for it, so the embedded default neither loads nor needs it.

`parallel_map` is the batch analyses' one way to run a list of tasks: in order in this thread without a cluster,
on the workers with one, reporting done, total and time left in a `BatchProgress`, and honouring the current
`core.tasks` cancel token within `POLL_S` seconds.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from core.errors import CtasError
from core.tasks import TaskCancelledError, check, current_token

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")
ENV = "CTAS_COMPUTE"
ROOT = str(Path(__file__).resolve().parent.parent)
MAX_WORKERS = 64
MAX_SETTING_CHARS = 300
CONNECT_TIMEOUT_S = 10
START_TIMEOUT_S = 120  # a local cluster's workers are up (they import numpy, pandas and scikit-learn first)
POLL_S = 0.2
# A worker process is one core: its numba kernels and Rust (rayon) pools use one thread, as its numpy already does
# (Dask sets OMP_NUM_THREADS=1 in workers); the cluster's parallelism is its workers.
ONE_CORE_PER_WORKER = {"NUMBA_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
ADDRESS = re.compile(r"tcp://(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):([0-9]{1,5})")


class ComputeError(CtasError):
    """The compute setting is not one CTAS understands, or its cluster cannot be reached."""


@dataclass(frozen=True)
class ComputeSetting:
    """No cluster, a local cluster of `workers` processes, or the scheduler at `address`."""

    kind: Literal["none", "local", "scheduler"] = "none"
    workers: int = 0
    address: str = ""

    def describe(self) -> str:
        """One line for the sidebar."""
        if self.kind == "local":
            return f"a local Dask cluster of {self.workers} worker process{'es' if self.workers != 1 else ''}"
        if self.kind == "scheduler":
            return f"the Dask scheduler at {self.address}"
        return "this process (no cluster)"


def parse_setting(text: str | None) -> ComputeSetting:
    """The setting a CTAS_COMPUTE value names; ComputeError for anything else."""
    text = (text or "").strip()
    if len(text) > MAX_SETTING_CHARS:
        raise ComputeError(f"{ENV} is {len(text):,} characters long; a setting is at most {MAX_SETTING_CHARS}.")
    if text.lower() in ("", "none"):
        return ComputeSetting()
    if text.lower() == "local":
        return ComputeSetting("local", min(MAX_WORKERS, max(1, os.cpu_count() or 1)))
    local = re.fullmatch(r"local:([0-9]{1,3})", text, re.IGNORECASE)
    if local:
        workers = int(local.group(1))
        if not 1 <= workers <= MAX_WORKERS:
            raise ComputeError(f"A local cluster has 1 to {MAX_WORKERS} workers, not {workers}.")
        return ComputeSetting("local", workers)
    address = ADDRESS.fullmatch(text)
    if address and 1 <= int(address.group(2)) <= 65535:
        return ComputeSetting("scheduler", address=text)
    raise ComputeError(
        f"{ENV} must be none, local, local:N (N from 1 to {MAX_WORKERS}) or a scheduler address such as "
        "tcp://scheduler:8786."
    )


def setting() -> ComputeSetting:
    """The setting in the environment."""
    return parse_setting(os.environ.get(ENV))


def open_client(chosen: ComputeSetting, *, processes: bool = True) -> Client:
    """A new client for `chosen` (not `none`): a local cluster (a scheduler and worker processes of their own, or
    threads of this process when `processes` is False, as tests use), or a connection to the scheduler.

    Local worker processes are started as `dask spec` commands, not forked or spawned from this process: a spawned
    child re-runs the parent's main module, which in the app is a Streamlit page. A local cluster's scheduler gives
    up on a task the first time a worker dies running it, so the caller sees the loss at once and decides about a
    retry itself (see `core.automl.distributed`).
    """
    if chosen.kind == "none":
        raise ComputeError("No compute cluster is set.")
    from distributed import Client, LocalCluster
    from distributed.deploy.subprocess import SubprocessCluster

    quiet = logging.CRITICAL  # a lost worker is reported to the caller, not logged
    cluster = None
    try:
        if chosen.kind == "scheduler":
            return Client(chosen.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        if processes:
            _children_import_ctas()
            cluster = SubprocessCluster(
                n_workers=chosen.workers,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=quiet,
                scheduler_kwargs={"allowed_failures": 0},
                worker_kwargs={"env": dict(ONE_CORE_PER_WORKER)},
            )
        else:
            cluster = LocalCluster(
                n_workers=chosen.workers,
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
                silence_logs=quiet,
                scheduler_kwargs={"allowed_failures": 0},
            )
        handle = Client(cluster, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ComputeError(f"Cannot reach the Dask cluster ({chosen.describe()}): {exc}") from None
    try:
        handle.wait_for_workers(chosen.workers, timeout=START_TIMEOUT_S)
    except (OSError, TimeoutError):
        close(handle)
        raise ComputeError(f"The workers of {chosen.describe()} did not start within {START_TIMEOUT_S} s.") from None
    return handle


def _children_import_ctas() -> None:
    """Put CTAS on PYTHONPATH for the scheduler and worker processes a local cluster starts: the scheduler unpickles
    task graphs that name CTAS functions, and the workers run them, whatever folder the app was started from."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([ROOT, *paths])


_lock = threading.Lock()
_shared: dict[ComputeSetting, Client] = {}


def client() -> Client | None:
    """The process's client for the environment's setting, started on first use; None without a cluster."""
    chosen = setting()
    if chosen.kind == "none":
        return None
    with _lock:
        current = _shared.get(chosen)
        if current is None or current.status in ("closed", "closing"):
            current = _shared[chosen] = open_client(chosen)
        return current


def close(handle: Client) -> None:
    """Close a client and the local cluster it started, if any."""
    cluster = handle.cluster
    handle.close()
    if cluster is not None:
        cluster.close()


@dataclass
class BatchProgress:
    """How far a batch is: tasks done of the total, and the time left at the pace so far."""

    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def time_left_s(self) -> float | None:
        """Seconds still needed at the pace so far (None before the first task is done)."""
        if not self.done:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)

    def describe(self) -> str:
        """One line for the page."""
        left = self.time_left_s
        tail = "" if left is None or self.done == self.total else f", about {left:,.0f} s left"
        return f"{self.done:,} of {self.total:,} done in {self.elapsed_s:,.1f} s{tail}"


def parallel_map(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    progress: BatchProgress | None = None,
    handle: Client | None = None,
    name: str = "ctas-batch",
) -> list[R]:
    """`[work(item) for item in items]`, on the cluster when `handle` is given, in order either way.

    `progress` is reset to the batch and advanced as tasks finish. The current cancel token stops the batch: tasks
    not yet finished are cancelled and TaskCancelledError is raised within POLL_S seconds. The first task that
    raises stops the batch with its error.
    """
    items = list(items)
    progress = progress if progress is not None else BatchProgress()
    progress.total, progress.done, progress.started = len(items), 0, time.monotonic()
    if handle is None:
        results = []
        for item in items:
            check()
            results.append(work(item))
            progress.done += 1
        return results
    return _map_on_cluster(handle, work, items, progress, name)


def _map_on_cluster(
    handle: Client, work: Callable[[T], R], items: list[T], progress: BatchProgress, name: str
) -> list[R]:
    from distributed import wait

    batch = uuid.uuid4().hex[:8]
    futures = handle.map(work, items, key=[f"{name}-{batch}-{i}" for i in range(len(items))], pure=False)
    token = current_token()
    pending = set(futures)
    try:
        while pending:
            if token is not None and token.cancelled:
                raise TaskCancelledError("The batch was cancelled.")
            try:
                with handle.as_current():
                    wait(pending, timeout=POLL_S)
            except (TimeoutError, CancelledError):  # not all done yet, or one lost: the loop below says which
                pass
            for future in [f for f in pending if f.done()]:
                if future.status in ("error", "cancelled"):
                    _raise_task_error(future)
                pending.discard(future)
            progress.done = len(items) - len(pending)
        return handle.gather(futures)
    finally:
        if pending:
            handle.cancel(list(pending))


def _raise_task_error(future: object) -> None:
    """A failed task's own error; a task lost with its worker, or with the connection to the scheduler, as one
    ComputeError."""
    from distributed.scheduler import KilledWorker

    try:
        future.result()
    except (KilledWorker, CancelledError):
        raise ComputeError(
            "A worker of the compute cluster died, or the cluster was lost, while it ran this batch; run it again."
        ) from None

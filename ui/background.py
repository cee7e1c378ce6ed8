"""Long work off the script thread: a status with the elapsed time, a Cancel button and a time limit.

The work runs as a `core.tasks.Job` on a worker thread; the script thread only waits and redraws the status, so the
page stays interactive. The running job is kept in the session: a rerun with the same input (say, another grouping
chosen meanwhile) waits for it again instead of starting over, a rerun with another input cancels it. The job's
watchdog enforces the time limit even if nobody is watching. A cancelled or timed-out analysis stays stopped for
that input until the analyst asks for it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.compute import BatchProgress
from core.tasks import Job

T = TypeVar("T")
POLL_SECONDS = 0.1


def run_cancellable(
    key: str,
    signature: str,
    work: Callable[[], T],
    *,
    label: str,
    limit_s: float,
    progress: BatchProgress | None = None,
) -> T | None:
    """`work()` on a worker thread; its result, or None when it was cancelled or hit the time limit (both said on
    the page). Exceptions raised by `work` are raised here. A batch passes the `progress` its work advances: the
    status then shows done, total and time left."""
    stopped = st.session_state.get(f"{key}stopped_message")
    if stopped is not None and stopped[0] == signature:
        st.info(f"Analysis {stopped[1]}.", icon=":material/cancel:")
        st.button("Run the analysis again", key=f"{key}_again", on_click=st.session_state.pop,
                  args=(f"{key}stopped_message", None))  # fmt: skip
        return None
    job: Job | None = st.session_state.get(f"{key}_job")
    if job is not None and job.label != signature:
        job.cancel()  # the input changed: that analysis is no longer wanted
        job = None
    if job is None:
        job = Job(lambda _job: work(), label=signature, limit_s=limit_s, progress=progress).start(name=f"ctas-{key}")
        st.session_state[f"{key}_job"] = job
    with st.status(label, expanded=False) as status:
        job.join(POLL_SECONDS * 3)  # quick work finishes without a flash of controls
        if not job.done:
            status.update(expanded=True)
            ticker, bar, button = st.empty(), st.empty(), st.empty()
            button.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:", on_click=_cancel, args=(key,))
            while not job.join(POLL_SECONDS):
                ticker.caption(f"Running for {job.elapsed_s:.1f} s (limit {limit_s:g} s)")
                shown = job.progress  # the running job's own, also after a rerun that found it running
                if isinstance(shown, BatchProgress) and shown.total:
                    bar.progress(shown.done / shown.total, text=shown.describe())
            ticker.empty()
            bar.empty()
            button.empty()
        st.session_state.pop(f"{key}_job", None)
        if job.timed_out:
            st.session_state[f"{key}stopped_message"] = (signature, f"stopped at the page's time limit ({limit_s:g} s)")
            status.update(label=f"Stopped at the page's time limit ({limit_s:g} s)", state="error")
            return None
        if job.error is not None:
            status.update(label="Analysis failed", state="error")
            raise job.error
        if job.state == "cancelled":
            return None
        status.update(label=f"Analysed in {1000 * job.elapsed_s:,.0f} ms", state="complete")
    return job.result


def _cancel(key: str) -> None:
    """The Cancel button: stops the session's running job, whichever input it was for."""
    job: Job | None = st.session_state.pop(f"{key}_job", None)
    if job is not None:
        job.cancel()
        st.session_state[f"{key}stopped_message"] = (job.label, "cancelled")


def ask_for_batch(key: str, signature: str) -> None:
    """A batch's start button: run the batch `key` for the input `signature`."""
    st.session_state[f"{key}_for"] = signature


def run_batch(key: str, signature: str, work: Callable[[BatchProgress], T], *, label: str, limit_s: float) -> T | None:
    """A batch's result for `signature`: kept in the session from an earlier run, run now (with progress and
    Cancel) if `ask_for_batch` asked for it, or None."""
    kept = st.session_state.get(f"{key}_result")
    if kept is not None and kept[0] == signature:
        return kept[1]
    if st.session_state.get(f"{key}_for") != signature:
        return None
    running: Job | None = st.session_state.get(f"{key}_job")
    progress = running.progress if running is not None and running.label == signature else BatchProgress()
    try:
        result = run_cancellable(key, signature, lambda: work(progress), label=label, limit_s=limit_s,
                                 progress=progress)  # fmt: skip
    except Exception:
        st.session_state.pop(f"{key}_for", None)  # a failed batch runs again only when asked again
        raise
    if result is not None:
        st.session_state[f"{key}_result"] = (signature, result)
    return result

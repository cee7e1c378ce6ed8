"""Long work off the script thread: a status with the elapsed time, a Cancel button and a time limit.

The work runs on a worker thread under a `CancelToken`; the script thread only waits and redraws the status, so
the page stays interactive. The running job is kept in the session: a rerun with the same input (say, another
grouping chosen meanwhile) waits for it again instead of starting over, a rerun with another input cancels it.
A worker-side timer enforces the time limit even if nobody is watching. A cancelled or timed-out analysis stays
stopped for that input until the analyst asks for it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import streamlit as st

from core.fbas.cancel import AnalysisCancelledError, CancelToken, cancellable

T = TypeVar("T")
POLL_SECONDS = 0.1


@dataclass
class _Job:
    signature: str
    limit_s: float
    token: CancelToken = field(default_factory=CancelToken)
    box: dict[str, object] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    def start(self, work: Callable[[], object], name: str) -> None:
        self.thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[], object]) -> None:
        watchdog = threading.Timer(self.limit_s, self._time_out)
        watchdog.start()
        with cancellable(self.token):
            try:
                self.box["value"] = work()
            except Exception as error:  # handed to the script thread
                self.box["error"] = error
            finally:
                watchdog.cancel()

    def _time_out(self) -> None:
        self.box["timed_out"] = True
        self.token.cancel()


def run_cancellable(key: str, signature: str, work: Callable[[], T], *, label: str, limit_s: float) -> T | None:
    """`work()` on a worker thread; its result, or None when it was cancelled or hit the time limit (both said on
    the page). Exceptions raised by `work` are raised here."""
    stopped = st.session_state.get(f"{key}_stopped")
    if stopped is not None and stopped[0] == signature:
        st.info(f"Analysis {stopped[1]}.", icon=":material/cancel:")
        st.button("Run the analysis again", key=f"{key}_again", on_click=st.session_state.pop,
                  args=(f"{key}_stopped", None))  # fmt: skip
        return None
    job: _Job | None = st.session_state.get(f"{key}_job")
    if job is not None and job.signature != signature:
        job.token.cancel()  # the input changed: that analysis is no longer wanted
        job = None
    if job is None:
        job = _Job(signature, limit_s)
        st.session_state[f"{key}_job"] = job
        job.start(work, name=f"ctas-{key}")
    with st.status(label, expanded=False) as status:
        job.thread.join(POLL_SECONDS * 3)  # quick work finishes without a flash of controls
        if job.thread.is_alive():
            status.update(expanded=True)
            ticker, button = st.empty(), st.empty()
            button.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:", on_click=_cancel, args=(key,))
            while job.thread.is_alive():
                ticker.caption(f"Running for {time.monotonic() - job.started:.1f} s (limit {job.limit_s:g} s)")
                job.thread.join(POLL_SECONDS)
            ticker.empty()
            button.empty()
        st.session_state.pop(f"{key}_job", None)
        error = job.box.get("error")
        if isinstance(error, AnalysisCancelledError) and job.box.get("timed_out"):
            st.session_state[f"{key}_stopped"] = (signature, f"stopped at the page's time limit ({limit_s:g} s)")
            status.update(label=f"Stopped at the page's time limit ({limit_s:g} s)", state="error")
            return None
        if error is not None:
            status.update(label="Analysis failed", state="error")
            raise error
        status.update(label=f"Analysed in {1000 * (time.monotonic() - job.started):,.0f} ms", state="complete")
    return job.box["value"]  # type: ignore[return-value]


def _cancel(key: str) -> None:
    """The Cancel button: stops the session's running job, whichever input it was for."""
    job: _Job | None = st.session_state.pop(f"{key}_job", None)
    if job is not None:
        job.token.cancel()
        st.session_state[f"{key}_stopped"] = (job.signature, "cancelled")

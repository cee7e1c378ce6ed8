"""Long work off the script thread: a status with the elapsed time, a Cancel button and a time limit.

The script thread only waits and redraws the status, so any interaction (the Cancel button, or a change of input)
stops the run at once; the work is then cancelled through its `CancelToken`. A cancelled piece of work stays
cancelled for that input until the analyst asks for it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.fbas.cancel import CancelToken, cancellable

T = TypeVar("T")
POLL_SECONDS = 0.1


def run_cancellable(key: str, signature: str, work: Callable[[], T], *, label: str, limit_s: float) -> T | None:
    """`work()` on a worker thread; its result, or None when it was cancelled or hit the time limit (both said on
    the page). Exceptions raised by `work` are raised here."""
    flag = f"{key}_cancelled"
    if st.session_state.get(flag) == signature:
        st.info("Analysis cancelled.", icon=":material/cancel:")
        st.button("Run the analysis again", key=f"{key}_again", on_click=st.session_state.pop, args=(flag, None))
        return None
    token = CancelToken()
    box: dict[str, object] = {}
    worker = threading.Thread(target=_work, args=(token, work, box), name=f"ctas-{key}", daemon=True)
    started = time.monotonic()
    worker.start()
    try:
        with st.status(label, expanded=False) as status:
            worker.join(POLL_SECONDS * 3)  # quick work finishes without a flash of controls
            if worker.is_alive():
                status.update(expanded=True)
                ticker, button = st.empty(), st.empty()
                button.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:", on_click=_mark,
                              args=(flag, signature))  # fmt: skip
                while worker.is_alive():
                    elapsed = time.monotonic() - started
                    if elapsed > limit_s:
                        token.cancel()
                        worker.join()
                        status.update(label=f"Stopped at the page's time limit ({limit_s:.0f} s)", state="error")
                        return None
                    ticker.caption(f"Running for {elapsed:.1f} s (limit {limit_s:.0f} s)")
                    worker.join(POLL_SECONDS)
                ticker.empty()
                button.empty()
            if "error" in box:
                status.update(label="Analysis failed", state="error")
                raise box["error"]  # type: ignore[misc]
            status.update(label=f"Analysed in {1000 * (time.monotonic() - started):,.0f} ms", state="complete")
    finally:
        if worker.is_alive():  # the script was stopped (an interaction): stop the work too
            token.cancel()
    return box["value"]  # type: ignore[return-value]


def _mark(flag: str, signature: str) -> None:
    st.session_state[flag] = signature


def _work(token: CancelToken, work: Callable[[], object], box: dict[str, object]) -> None:
    with cancellable(token):
        try:
            box["value"] = work()
        except Exception as error:  # handed to the script thread
            box["error"] = error

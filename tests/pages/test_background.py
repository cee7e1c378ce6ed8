"""ui.background.run_cancellable in a running script: results, errors, the time limit and asking again."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import time

    import streamlit as st

    from core.tasks import check
    from ui.background import run_cancellable

    mode = st.session_state.get("mode", "quick")

    def work() -> str:
        if mode == "fails":
            raise ValueError("bad input")
        if mode == "endless":
            while True:
                check()  # cancelled by the worker-side time limit
                time.sleep(0.01)
        return "done"

    try:
        result = run_cancellable("job", mode, work, label="Working…", limit_s=0.5)
    except ValueError as error:
        st.error(f"caught: {error}")
    else:
        st.write(f"result: {result}")


def test_quick_work_returns_its_result() -> None:
    at = AppTest.from_function(_script, default_timeout=30).run()
    assert not at.exception
    assert any(m.value == "result: done" for m in at.markdown)


def test_errors_reach_the_caller() -> None:
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["mode"] = "fails"
    at.run()
    assert [e.value for e in at.error] == ["caught: bad input"]


def test_the_time_limit_stops_the_work_until_asked_again() -> None:
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["mode"] = "endless"
    at.run()
    assert not at.exception
    assert any(m.value == "result: None" for m in at.markdown)
    status = next(iter(at.main.children.values()))
    assert (status.label, status.state) == ("Stopped at the page's time limit (0.5 s)", "error")
    at.run()  # the same input again: not restarted, the analyst is told
    assert any("stopped at the page's time limit" in i.value for i in at.info)
    at.button(key="job_again").click().run()  # asked again: it runs (and stops at the limit) once more
    assert not at.info and any(m.value == "result: None" for m in at.markdown)

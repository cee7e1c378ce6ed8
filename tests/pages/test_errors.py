"""ui.errors.page_guard: analyst-facing errors show their message, bugs an id and no traceback, st.stop passes."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st

    from core.warehouse import WarehouseError
    from ui.errors import page_guard

    mode = st.session_state.get("mode")
    with page_guard():
        st.write("before")
        if mode == "refused":
            raise WarehouseError("The file has 3 columns; the limit is 2.")
        if mode == "bug":
            raise KeyError("secret internal detail")
        if mode == "stop":
            st.stop()
        st.write("after")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("refused", r"The file has 3 columns; the limit is 2\."),
        ("bug", r"Something went wrong on this page \(error id [0-9a-f]{8}\); the details are in the server log\."),
    ],
)
def test_errors_become_one_line_on_the_page(mode: str, message: str, caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["mode"] = mode
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["before"]
    assert len(at.error) == 1 and re.fullmatch(message, at.error[0].value)
    assert "secret internal detail" not in at.error[0].value


def test_stop_and_normal_runs_pass_through() -> None:
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["mode"] = "stop"
    at.run()
    assert not at.exception and not at.error and [m.value for m in at.markdown] == ["before"]
    at.session_state["mode"] = None
    at.run()
    assert [m.value for m in at.markdown] == ["before", "after"]


def _fragment_script() -> None:
    import streamlit as st

    from ui.errors import guarded

    @st.fragment
    @guarded
    def panel() -> None:
        if st.button("Break", key="break"):
            raise KeyError("secret internal detail")
        st.write("panel")

    panel()
    st.write("page")


def test_a_fragment_rerun_is_guarded_too() -> None:
    at = AppTest.from_function(_fragment_script, default_timeout=30).run()
    assert [m.value for m in at.markdown] == ["panel", "page"]
    at.button(key="break").click().run()  # reruns the fragment only, outside the page's guard
    assert not at.exception
    assert len(at.error) == 1 and re.fullmatch(
        r"Something went wrong on this page \(error id [0-9a-f]{8}\).*", at.error[0].value
    )

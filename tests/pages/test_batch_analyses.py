"""The batch analyses on the pages (no cluster set: they run in the app's process, as the embedded default does):
the FBAS criticality sweep and snapshot comparison, Gi* over every playback window, and the sidebar's compute line,
including a compute setting the app cannot use."""

from __future__ import annotations

import pandas as pd
import pytest

from core.fbas.batch import criticality_sweep
from core.fbas.model import loads
from core.fbas.snapshots import SNAPSHOTS


def _frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.main.dataframe]


def _frame_with(at, column: str) -> pd.DataFrame:
    return next(f for f in _frames(at) if column in f.columns)


def test_the_criticality_sweep_ranks_organizations_as_core_does(app) -> None:
    at = app("pages/fbas.py")
    assert not any("breaks" in f.columns for f in _frames(at))  # nothing runs until asked
    at.radio(key="fbas_sweep_by").set_value("Organization").run()
    at.button(key="fbas_sweep_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _frame_with(at, "breaks")
    expected = criticality_sweep(loads(*SNAPSHOTS[0].read()), "organization")
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, check_dtype=False)
    worst = expected.iloc[1]
    assert any(f"Most critical organization: {worst['group']}" in m.value for m in at.main.markdown)
    at.radio(key="fbas_merge").set_value("Organization").run()  # another grouping of the scan: the sweep is kept
    assert _frame_with(at, "breaks").equals(shown)


def test_the_shipped_snapshots_are_compared_over_time(app) -> None:
    at = app("pages/fbas.py")
    at.button(key="fbas_compare_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = _frame_with(at, "smallest splitting set")
    assert len(table) == len(SNAPSHOTS) and pd.to_datetime(table["as of"]).is_monotonic_increasing
    assert table["quorum intersection"].tolist() == [False, True, True, True]  # 2018's broken network first


def test_gi_star_over_every_playback_window(app) -> None:
    at = app("pages/threat_map.py")
    at.number_input(key="geo_batch_weeks").set_value(8).run()
    at.multiselect(key="geo_batch_res").set_value([2, 3]).run()
    at.button(key="geo_batch_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    windows = _frame_with(at, "hottest cell")
    assert set(windows["resolution"]) == {2, 3} and (windows["events"] > 0).any()
    assert (
        (pd.to_datetime(windows["window end"]) - pd.to_datetime(windows["window start"]))
        .eq(pd.Timedelta(weeks=8))
        .all()
    )
    persistent = _frame_with(at, "hot in windows")
    assert persistent["hot in windows"].max() <= len(windows) // 2


def test_the_sidebar_says_where_work_runs(app) -> None:
    at = app("pages/home.py")
    assert any(m.value == "this process (no cluster)" for m in at.sidebar.markdown)


@pytest.mark.parametrize("setting", ["cluster please", "local:999", "tcp://host:99999"])
def test_a_compute_setting_the_app_cannot_use_is_one_message_and_the_batch_refuses(
    app, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("CTAS_COMPUTE", setting)
    refused = ("CTAS_COMPUTE must be", "A local cluster has")
    home = app("pages/home.py")  # AppTest keeps the sidebar's elements on the first page only
    assert any(e.value.replace("\\", "").startswith(refused) for e in home.sidebar.error)
    at = app("pages/fbas.py")
    at.button(key="fbas_sweep_run").click().run()
    assert not at.exception
    assert any(e.value.replace("\\", "").startswith(refused) for e in at.main.error)
    assert not any("breaks" in f.columns for f in _frames(at))
    at.radio(key="fbas_merge").set_value("Organization").run()  # any rerun: the failed batch is not tried again
    assert not any(e.value.replace("\\", "").startswith(refused) for e in at.main.error)

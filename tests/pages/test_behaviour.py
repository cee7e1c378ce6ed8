"""Behaviour page: enrol the sample's users, replay the live session, see the takeover flagged, replay, drift and
evaluation views, and clear messages for bad uploads."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.behaviour import sample
from core.behaviour.runner import FeedRunner
from core.behaviour.store import BehaviourStore
from core.warehouse import open_warehouse, resolve_path
from tests.waiting import wait_until

PAGE = "pages/behaviour.py"


@pytest.fixture(autouse=True)
def _stop_feeds() -> Iterator[None]:
    yield
    for runner in [o for o in gc.get_objects() if isinstance(o, FeedRunner)]:
        runner.stop()


def _texts(at) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.info, *at.success, *at.error, *at.warning, *at.caption])


def test_enrol_replay_and_evaluate(app) -> None:
    at = app(PAGE)
    assert "No scores yet" in _texts(at)
    assert "Enrol users first" in _texts(at)
    at.button(key="beh_enrol_sample").click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    assert "Enrolled **alice** (v1), **bob** (v1), **carol** (v1)" in _texts(at)
    warehouse = open_warehouse(resolve_path())
    assert BehaviourStore(warehouse).behaviour_profiles().user.tolist() == ["alice", "bob", "carol"]

    at.selectbox(key="beh_speed").set_value("as fast as possible").run()
    at.button(key="beh_start").click().run()
    store = BehaviourStore(warehouse)
    total = len(sample.live_events())

    def replayed() -> bool:
        feeds = store.behaviour_feeds()
        return not feeds.empty and int(feeds.accepted.iloc[0]) == total and not store.behaviour_alerts().empty

    wait_until(replayed, timeout=120, what="the whole replay with its alerts")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = {m.label: m.value for m in at.metric if m.label in ("alice", "bob", "carol")}
    assert set(tiles) == {"alice", "bob", "carol"}
    assert len(at.get("plotly_chart")) >= 2  # timelines (alice, carol), replay and drift charts
    alerts = [df for df in at.dataframe if "recommendation" in df.value.columns]
    assert alerts and set(alerts[0].value.user) == {"alice"}

    auc = {m.label: m.value for m in at.metric}.get("AUC")
    assert auc == "1.000"  # the sample's two impostor sessions score below every genuine one


def test_bad_uploads_get_clear_messages(app) -> None:
    at = app(PAGE)
    at.button(key="beh_enrol_sample").click().run(timeout=180)
    at.radio(key="beh_eval_source").set_value("Upload events and labels").run()
    at.file_uploader(key="beh_eval_events").upload("events.jsonl", b"not json at all\n", "application/json").run()
    at.file_uploader(key="beh_eval_labels").upload("labels.csv", b"session,is_illegal\na,1\n", "text/csv").run()
    assert not at.exception
    assert "No JSON event objects found" in _texts(at)
    at.file_uploader(key="beh_enrol_upload").upload("enrol.jsonl", b"\x1f\x8bnot gzip", "application/gzip").run()
    at.button(key="beh_enrol_file").click().run()
    assert not at.exception
    assert "Nothing enrolled." in _texts(at) and "damaged" in _texts(at)

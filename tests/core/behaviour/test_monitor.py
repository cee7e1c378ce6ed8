"""Continuous verification end to end: the shipped sample's takeover is caught, feeds write to a real warehouse file,
Redis events are scored, and bad events are counted without stopping anything."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest
import redis

from core.behaviour import feeds, sample, store
from core.behaviour.decision import TrustState
from core.behaviour.monitor import BehaviourMonitor
from core.behaviour.profiles import UserProfile
from core.behaviour.runner import FeedRunner
from core.behaviour.store import BehaviourStore
from core.cases.store import CaseStore
from core.warehouse import open_warehouse
from tests.waiting import wait_until

TAKEOVER_START_S, TAKEOVER_END_S = 150, 300


def _offsets(scores: pd.DataFrame) -> pd.Series:
    """Seconds from the start of the live sample to each window's end."""
    start = pd.Timestamp(sample.LIVE_START_US, unit="us")
    return (scores.ts - start).dt.total_seconds()


def test_the_sample_takeover_is_caught_and_nobody_else_is_flagged(sample_profiles, tmp_path: Path) -> None:
    warehouse = open_warehouse(tmp_path / "w.duckdb")
    monitor = BehaviourMonitor(sample_profiles, source="replay", host="WS-Alice")
    fed = feeds.replay(sample.live_events(), monitor, warehouse, speed=0)
    assert fed == len(sample.live_events()) and sum(monitor.rejected.values()) == 0
    scores = BehaviourStore(warehouse).behaviour_scores()
    alice = scores[scores.user == "alice"].assign(offset=_offsets)
    genuine = alice[(alice.offset <= TAKEOVER_START_S) | (alice.offset >= TAKEOVER_END_S + 60)]
    takeover = alice[(alice.offset >= TAKEOVER_START_S + 30) & (alice.offset <= TAKEOVER_END_S)]
    assert genuine.fused.median() > 90 and takeover.fused.median() < 35
    assert (genuine[genuine.offset <= TAKEOVER_START_S].state == "NORMAL").all()
    reached = takeover.state.map(lambda s: TrustState[s]).max()
    assert reached == TrustState.LOCKED
    first_lock = alice[alice.state == "LOCKED"].offset.min()
    assert first_lock - TAKEOVER_START_S <= 60  # escalation within a minute of the takeover
    assert alice.state.iloc[-1] in ("NORMAL", "MONITORING")  # and back once alice returns
    carol = scores[scores.user == "carol"]
    assert len(carol) > 70 and (carol.state == "NORMAL").all()
    alerts = BehaviourStore(warehouse).behaviour_alerts()
    assert set(alerts.user) == {"alice"}
    locked = alerts[alerts.to_state == "LOCKED"].iloc[0]
    assert locked.severity == "critical" and "MFA" in locked.recommendation
    # every escalation reaches investigations as a signal on alice and the feed's host; returns to NORMAL do not
    cases = CaseStore(warehouse)
    published = cases.entity_signals("user", "alice")
    escalations = alerts[alerts.severity != "info"]
    assert len(published) == len(escalations) and set(published.source) == {"behaviour"}
    assert set(published.severity) == set(escalations.severity) and "critical" in set(published.severity)
    assert set(cases.entity_signals("host", "ws-alice").id) == set(published.id)
    feeds.replay(sample.live_events(), BehaviourMonitor(sample_profiles, source="replay"), warehouse, speed=0)
    assert cases.signal_count() == len(published)  # the same replay again publishes nothing new


def test_bad_events_are_counted_and_never_stop_the_monitor(sample_profiles: dict[str, UserProfile]) -> None:
    monitor = BehaviourMonitor(sample_profiles, source="test", default_user="carol")
    junk = ["{", "[]", json.dumps({"type": "mouse", "ts": "x"}), json.dumps({"user": "mallory", "type": "app"}),
            b"\xff\xfe", "x" * 10_000, json.dumps({"type": "keystroke", "ts": 10, "key": "a", "event": "press"}),
            json.dumps({"type": "keystroke", "ts": 5, "key": "a", "event": "release"})]  # fmt: skip
    accepted = [monitor.feed(line) for line in junk]
    assert accepted == [False] * 6 + [True, False]
    assert dict(monitor.rejected) == {"malformed": 4, "wrong_type": 1, "unknown_user": 1, "time_backwards": 1}


def test_the_runner_replays_the_sample_into_the_warehouse(sample_profiles, tmp_path: Path) -> None:
    warehouse = open_warehouse(tmp_path / "w.duckdb")
    for profile in sample_profiles.values():
        store.save(warehouse, profile)
    runner = FeedRunner(warehouse)
    runner.start_replay(speed=0)
    wait_until(lambda: not runner.running, timeout=120, what="the end of the replay")
    assert runner.error == "" and runner.events == len(sample.live_events())
    assert set(BehaviourStore(warehouse).behaviour_scores().user) == {"alice", "carol"}
    feed = BehaviourStore(warehouse).behaviour_feeds().iloc[0]
    assert feed.source == "replay" and feed.accepted == runner.events


def test_profiles_round_trip_and_re_enrolment_adds_a_version(sample_profiles, tmp_path: Path) -> None:
    warehouse = open_warehouse(tmp_path / "w.duckdb")
    alice = sample_profiles["alice"]
    assert store.save(warehouse, alice) == 1 and store.save(warehouse, alice) == 2
    table = BehaviourStore(warehouse).behaviour_profiles()
    assert table.version.tolist() == [2] and table.versions.tolist() == [2]
    loaded = store.load_all(warehouse)["alice"]
    log = sample.enrolment_logs()["alice"]
    pd.testing.assert_frame_equal(loaded.score(log), alice.score(log))
    file = warehouse.models_folder / table.file.iloc[0]
    file.write_bytes(file.read_bytes()[:-1] + b"!")
    with pytest.raises(store.ProfileStoreError, match="is not signed by this installation's key"):
        store.load_all(warehouse)


def test_redis_events_are_scored_into_the_warehouse(sample_profiles, redis_url: str, tmp_path: Path) -> None:
    warehouse = open_warehouse(tmp_path / "w.duckdb")
    monitor = BehaviourMonitor(sample_profiles, source="redis", default_user="carol")
    stop, ready = threading.Event(), threading.Event()
    consumer = threading.Thread(
        target=feeds.consume_redis, args=(redis_url, monitor, warehouse), kwargs={"stop": stop, "ready": ready}
    )
    consumer.start()
    assert ready.wait(10)
    events = [e for e in sample.live_events() if e["user"] == "carol"]
    events = [e for e in events if e["ts"] < sample.LIVE_START_US + 90_000_000]
    client = redis.Redis.from_url(redis_url)
    for i, event in enumerate(events):
        payload = {k: v for k, v in event.items() if k != "user"}  # SecLyzer's events carry no user
        client.publish(feeds.CHANNEL, json.dumps(payload))
        if i % 1000 == 0:
            client.publish(feeds.CHANNEL, "not an event")
    wait_until(lambda: monitor.accepted >= len(events), timeout=30, what=f"the arrival of all {len(events)} events")
    stop.set()
    consumer.join(10)
    scores = BehaviourStore(warehouse).behaviour_scores("carol")
    assert len(scores) == 12  # windows ending at 30, 35, …, 85 s (a window closes with the first later event)
    assert (scores.state == "NORMAL").all() and scores.fused.min() > 70
    feed = BehaviourStore(warehouse).behaviour_feeds().iloc[0]
    assert feed.accepted == len(events) and json.loads(feed.rejected) == {"malformed": len(range(0, len(events), 1000))}
    client.close()


def test_gaps_and_clocks_far_ahead_cost_nothing(sample_profiles) -> None:
    monitor = BehaviourMonitor(sample_profiles, source="test", default_user="carol")
    events = [e for e in sample.live_events() if e["user"] == "carol"][:3000]
    for event in events:
        monitor.feed({k: v for k, v in event.items() if k != "user"})
    before = len(monitor.flush()[0])
    later = events[-1]["ts"] + 10 * 3600 * 1_000_000  # the next morning
    monitor.feed({"type": "app", "ts": later, "app_name": "vscode", "event": "focus"})
    monitor.feed({"type": "app", "ts": 4_000_000_000_000_000, "app_name": "vscode", "event": "focus"})  # year 2096
    scores = monitor.flush()[0]
    # only windows that still hold an event: ≤ 7 after the afternoon's last event, ≤ 6 after the morning's one
    assert before > 0 and len(scores) <= 13 and scores.fused.notna().all()
    live = BehaviourMonitor(sample_profiles, source="redis", default_user="carol", max_ahead_s=300)
    assert not live.feed({"type": "app", "ts": 4_000_000_000_000_000, "app_name": "x", "event": "focus"})
    assert dict(live.rejected) == {"time_ahead": 1}


def test_a_failed_batch_enrolment_saves_nobody(sample_profiles, tmp_path: Path, monkeypatch) -> None:
    from core import artifacts

    warehouse = open_warehouse(tmp_path / "w.duckdb")
    write, calls = artifacts.write, []

    def fail_on_second(*args: object) -> tuple[str, str]:
        calls.append(args)
        if len(calls) == 2:
            raise artifacts.ArtifactError("disk full")
        return write(*args)

    monkeypatch.setattr(artifacts, "write", fail_on_second)
    with pytest.raises(store.ProfileStoreError, match="disk full"):
        store.save_all(warehouse, sample_profiles)
    assert BehaviourStore(warehouse).behaviour_profiles().empty
    assert not any(warehouse.models_folder.iterdir())

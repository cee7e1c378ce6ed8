"""Where live events come from: a replay of recorded events (the embedded default, no server needed) or the Redis
channel SecLyzer publishes on. Both feed a BehaviourMonitor and write its scores to the warehouse as they go."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import redis

from core.behaviour.monitor import BehaviourMonitor
from core.behaviour.store import BehaviourStore
from core.tasks import CancelToken
from core.warehouse import Warehouse

CHANNEL = "seclyzer:events"
FLUSH_EVERY_S = 1.0


def _flush(monitor: BehaviourMonitor, warehouse: Warehouse) -> None:
    scores, alerts, feed = monitor.flush()
    BehaviourStore(warehouse).append_behaviour(scores, alerts, feed)


def replay(
    events: Iterable[dict],
    monitor: BehaviourMonitor,
    warehouse: Warehouse,
    *,
    speed: float = 1.0,
    stop: CancelToken | None = None,
) -> int:
    """Feed recorded events at `speed` × real time (0 = as fast as possible); returns how many were fed.

    Scores reach the warehouse at least every FLUSH_EVERY_S of wall time, and once more at the end.
    """
    if speed < 0:
        raise ValueError("speed must be ≥ 0")
    stop = stop or CancelToken()
    first_ts = None
    started = last_flush = time.monotonic()
    count = 0
    for event in events:
        if stop.is_set():
            break
        ts = event.get("ts") if isinstance(event, dict) else None
        if speed > 0 and isinstance(ts, int | float):
            first_ts = ts if first_ts is None else first_ts
            wait = (ts - first_ts) / 1e6 / speed - (time.monotonic() - started)
            if wait > 0 and stop.wait(wait):
                break
        monitor.feed(event)
        count += 1
        if time.monotonic() - last_flush >= FLUSH_EVERY_S:
            _flush(monitor, warehouse)
            last_flush = time.monotonic()
    _flush(monitor, warehouse)
    return count


def consume_redis(
    url: str,
    monitor: BehaviourMonitor,
    warehouse: Warehouse,
    *,
    channel: str = CHANNEL,
    stop: CancelToken,
    ready: threading.Event | None = None,
) -> None:
    """Subscribe to `channel` and score every message until `stop` is set. Messages that are not valid events are
    counted and skipped; a lost connection ends the loop with the error after a final flush."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
        if ready is not None:
            ready.set()
        last_flush = time.monotonic()
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message is not None and message.get("type") == "message":
                monitor.feed(message["data"])
            if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                _flush(monitor, warehouse)
                last_flush = time.monotonic()
    finally:
        _flush(monitor, warehouse)
        pubsub.close()
        client.close()

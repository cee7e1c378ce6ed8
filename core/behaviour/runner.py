"""A live feed running in the background: the sample replay (no server needed) or the Redis consumer, scoring into
the warehouse. One per warehouse; the page starts, stops and watches it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from core.behaviour import feeds, sample, store
from core.behaviour.monitor import BehaviourMonitor
from core.warehouse import Warehouse

REPLAY_SOURCE = "replay"
REDIS_SOURCE = "redis"
MAX_AHEAD_S = 300.0
"""A live event stamped further ahead of this machine's clock is refused (a bad clock would stall the user)."""


@dataclass
class FeedStatus:
    """What the background feed is doing."""

    source: str = ""
    running: bool = False
    started_at: float = 0.0
    error: str = ""


class FeedRunner:
    """Starts and stops one background feed for a warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.status = FeedStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._monitor: BehaviourMonitor | None = None
        self._lock = threading.Lock()  # one runner is shared by every browser session

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def events(self) -> int:
        """Events the current (or last) feed accepted."""
        return self._monitor.accepted if self._monitor is not None else 0

    def start_replay(self, *, speed: float = 1.0) -> None:
        """Replay the shipped live session against the enrolled profiles (earlier replay scores are replaced)."""
        self._start(REPLAY_SOURCE, lambda monitor: self._replay(monitor, speed))

    def start_redis(self, url: str, channel: str = feeds.CHANNEL, default_user: str | None = None) -> None:
        """Consume SecLyzer's Redis channel; events without a `user` field belong to `default_user`."""
        self._start(
            REDIS_SOURCE,
            lambda monitor: feeds.consume_redis(url, monitor, self.warehouse, channel=channel, stop=self._stop),
            default_user=default_user,
            max_ahead_s=MAX_AHEAD_S,
        )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _start(self, source: str, work, *, default_user: str | None = None, max_ahead_s: float | None = None) -> None:
        with self._lock:
            if self.running:
                raise RuntimeError("A feed is already running; stop it first.")
            profiles = store.load_all(self.warehouse)
            if not profiles:
                raise RuntimeError("Nobody is enrolled yet: enrol users first.")
            if source == REPLAY_SOURCE:  # a replay starts clean; live history (Redis) is an audit trail and stays
                self.warehouse.clear_behaviour_scores(source)
            self._monitor = BehaviourMonitor(
                profiles, source=source, default_user=default_user, max_ahead_s=max_ahead_s
            )
            self._stop = threading.Event()
            self.status = FeedStatus(source=source, running=True, started_at=time.time())
            self._launch(source, work, self._monitor)

    def _launch(self, source: str, work, monitor: BehaviourMonitor) -> None:
        def run() -> None:
            try:
                work(monitor)
            except Exception as exc:  # a feed failure is shown on the page, never a crash
                self.status.error = f"{type(exc).__name__}: {exc}"
            finally:
                self.status.running = False

        self._thread = threading.Thread(target=run, name=f"behaviour-{source}", daemon=True)
        self._thread.start()

    def _replay(self, monitor: BehaviourMonitor, speed: float) -> None:
        feeds.replay(sample.live_events(), monitor, self.warehouse, speed=speed, stop=self._stop)

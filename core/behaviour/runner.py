"""A live feed running in the background: the sample replay (no server needed) or the Redis consumer, scoring into
the warehouse. One per warehouse; the page starts, stops and watches it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.behaviour import feeds, sample, store
from core.behaviour.monitor import BehaviourMonitor
from core.behaviour.store import BehaviourStore
from core.cases import Entity, SignalError
from core.errors import CtasError
from core.tasks import CancelToken, Job
from core.warehouse import Warehouse

REPLAY_SOURCE = "replay"
REDIS_SOURCE = "redis"
MAX_AHEAD_S = 300.0
"""A live event stamped further ahead of this machine's clock is refused (a bad clock would stall the user)."""


class FeedError(CtasError):
    """A feed cannot start; the message says why."""


class FeedRunner:
    """Starts and stops one background feed (a `core.tasks.Job`) for a warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.job: Job | None = None
        self._monitor: BehaviourMonitor | None = None
        self._lock = threading.Lock()  # one runner is shared by every browser session

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.done

    @property
    def source(self) -> str:
        """The current (or last) feed's source, '' before the first."""
        return self.job.label if self.job is not None else ""

    @property
    def error(self) -> str:
        """Why the last feed stopped, if it failed ('' otherwise)."""
        if self.job is None or self.job.error is None:
            return ""
        return f"{type(self.job.error).__name__}: {self.job.error_message}"

    @property
    def events(self) -> int:
        """Events the current (or last) feed accepted."""
        return self._monitor.accepted if self._monitor is not None else 0

    def start_replay(self, *, speed: float = 1.0, host: str | None = None) -> None:
        """Replay the shipped live session against the enrolled profiles (earlier replay scores are replaced), as
        the input of `host` when one is named."""
        self._start(REPLAY_SOURCE, lambda monitor, stop: self._replay(monitor, speed, stop), host=host)

    def start_redis(
        self, url: str, channel: str = feeds.CHANNEL, default_user: str | None = None, host: str | None = None
    ) -> None:
        """Consume SecLyzer's Redis channel, the input of `host` when one is named; events without a `user` field
        belong to `default_user`."""
        self._start(
            REDIS_SOURCE,
            lambda monitor, stop: feeds.consume_redis(url, monitor, self.warehouse, channel=channel, stop=stop),
            default_user=default_user,
            max_ahead_s=MAX_AHEAD_S,
            host=host,
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the feed and wait up to `timeout` seconds for it to finish its last window."""
        if self.job is not None:
            self.job.cancel()
            self.job.join(timeout)

    def _start(
        self,
        source: str,
        work: Callable[[BehaviourMonitor, CancelToken], object],
        *,
        default_user: str | None = None,
        max_ahead_s: float | None = None,
        host: str | None = None,
    ) -> None:
        if host is not None and host.strip():
            try:
                host = Entity.of("host", host).value
            except SignalError as exc:
                raise FeedError(f"The feed's host: {exc.message}") from None
        else:
            host = None
        with self._lock:
            if self.running:
                raise FeedError("A feed is already running; stop it first.")
            profiles = store.load_all(self.warehouse)
            if not profiles:
                raise FeedError("Nobody is enrolled yet: enrol users first.")
            if source == REPLAY_SOURCE:  # a replay starts clean; live history (Redis) is an audit trail and stays
                BehaviourStore(self.warehouse).clear_behaviour_scores(source)
            self._monitor = BehaviourMonitor(
                profiles, source=source, host=host, default_user=default_user, max_ahead_s=max_ahead_s
            )
            monitor = self._monitor
            self.job = Job(lambda job: work(monitor, job.token), label=source).start(name=f"behaviour-{source}")

    def _replay(self, monitor: BehaviourMonitor, speed: float, stop: CancelToken) -> None:
        feeds.replay(sample.live_events(), monitor, self.warehouse, speed=speed, stop=stop)

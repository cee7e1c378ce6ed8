"""Shared fixtures: profiles enrolled from the shipped sample (once per session), a real redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from core.behaviour import sample
from core.behaviour.profiles import UserProfile, enrol
from tests.waiting import wait_until


@pytest.fixture(scope="session")
def sample_profiles() -> dict[str, UserProfile]:
    return enrol(sample.enrolment_logs())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server (Debian's, installed by ./run.sh test) on a free port, stopped afterwards."""
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: ./run.sh test installs Debian's redis-server"
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_until(answers, timeout=10, what="redis-server's start")
    yield url
    client.close()
    process.terminate()
    process.wait(10)

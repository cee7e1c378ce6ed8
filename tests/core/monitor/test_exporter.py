"""The Prometheus exporter, run as its command and scraped on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrape(url: str, process: subprocess.Popen, timeout: float = 30) -> str:
    pages: list[str] = []

    def answered() -> bool:
        assert process.poll() is None, process.stderr.read()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                pages.append(response.read().decode())
        except OSError:
            return False
        return True

    wait_until(answered, timeout=timeout, what="the exporter's answer")
    return pages[0]


def test_exporter_serves_host_readings() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "core.monitor.exporter", "--port", str(port)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        _scrape(url, process)
        families = {f.name: f for f in text_string_to_metric_families(_scrape(url, process))}
    finally:
        process.terminate()
        process.wait(timeout=10)
    cpu = {s.labels["cpu"]: s.value for s in families["ctas_cpu_percent"].samples}
    assert {"total", "0"} <= set(cpu) and all(0 <= v <= 100 for v in cpu.values())
    memory = families["ctas_memory_used_percent"].samples[0].value
    assert 0 < memory <= 100
    assert families["ctas_net_recv_bytes_per_s"].samples[0].value >= 0  # a rate from the second scrape on


def test_bad_port_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.monitor.exporter", "--port", "70000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--port must lie between" in result.stderr

"""Prometheus exposition of the host readings: `python -m core.monitor.exporter --port 9108`.

Each scrape takes a fresh reading with the sampler's `HostReader` (rates are per second since the previous scrape),
so the exporter needs neither the app nor the warehouse. Metric names are `ctas_` plus the reading's name with dots
as underscores; per-core CPU becomes `ctas_cpu_percent{cpu="N"}` beside `ctas_cpu_percent{cpu="total"}`.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections.abc import Iterator

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from core.monitor.sampler import HostReader

_CORE = re.compile(r"cpu\.core(\d+)$")


class HostCollector(Collector):
    """A Prometheus collector that reads the host on every scrape."""

    def __init__(self, reader: HostReader | None = None) -> None:
        self._reader = reader or HostReader()
        self._lock = threading.Lock()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family per reading (the CPU cores labelled under one family)."""
        with self._lock:
            readings = self._reader.read()
        cpu = GaugeMetricFamily("ctas_cpu_percent", "CPU busy, percent (total and per core)", labels=["cpu"])
        for name, value in sorted(readings.items()):
            core = _CORE.match(name)
            if name == "cpu.total" or core:
                cpu.add_metric(["total" if core is None else core.group(1)], value)
                continue
            family = "ctas_" + name.replace(".", "_")
            yield GaugeMetricFamily(family, f"CTAS host reading {name}", value=value)
        yield cpu


def main(argv: list[str] | None = None) -> None:
    """Serve /metrics until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9108)
    parser.add_argument("--address", default="127.0.0.1", help="interface to listen on (default loopback only)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.exit(2, f"--port must lie between 1 and 65535, got {args.port}\n")
    REGISTRY.register(HostCollector())
    try:
        server, thread = start_http_server(args.port, addr=args.address)
    except OSError as error:
        parser.exit(2, f"cannot listen on {args.address}:{args.port}: {error.strerror}\n")
    print(f"serving Prometheus metrics on http://{args.address}:{args.port}/metrics", file=sys.stderr, flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()

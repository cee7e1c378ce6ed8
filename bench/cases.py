"""Benchmark: the investigations queue over 100,000 signals, one JSON line a figure.

    python bench/cases.py [--signals 100000] [--repeats 5]

The signals are built from real data: intel matches on the source addresses of the shared honeypot events (with
their positions), emerging hot spots on the H3 cells (resolution 3) those positions fall in, host alerts and
behaviour trust alerts on a few hosts and users, so corroboration runs through both entity links (IP in cell) and
shared entities. Figures: publishing them, the two queue queries (median of `repeats`) against a pandas version of
the same ranking (own sources only, no links: a lower bound for pandas), the whole Investigations page's queue view
run by Streamlit's AppTest on a warehouse file holding them, and the same page loaded in Debian's chromium until the
queue is drawn (each a median of `repeats` after one warm-up run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import h3
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import median_seconds

from core.cases import triage
from core.cases.signals import Entity, Signal
from core.cases.store import CaseStore
from core.warehouse import ENV_VAR, Warehouse

REPO = Path(__file__).resolve().parent.parent
HONEYPOT = REPO.parent / "shared" / "data" / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz"
NOW = datetime(2026, 12, 1, 12)


def real_signals(count: int, seed: int = 7) -> list[Signal]:
    """`count` signals drawn from the shared honeypot events (70 % intel, 10 % each of the other sources)."""
    with gzip.open(HONEYPOT, "rt") as handle:
        events = pd.read_csv(handle, usecols=["datetime", "srcstr", "latitude", "longitude"]).dropna()
    rng = np.random.default_rng(seed)
    rows = events.iloc[rng.integers(0, len(events), count)].reset_index(drop=True)
    kinds = rng.choice(["intel", "threat map", "host monitor", "behaviour"], count, p=[0.7, 0.1, 0.1, 0.1])
    severities = rng.choice(["low", "medium", "high", "critical"], count, p=[0.4, 0.3, 0.2, 0.1])
    signals = []
    for i, (row, kind, severity) in enumerate(zip(rows.itertuples(index=False), kinds, severities, strict=True)):
        ts = datetime.fromisoformat(row.datetime)
        if kind == "intel":
            entities = (Entity.of("ip", row.srcstr, row.latitude, row.longitude),)
        elif kind == "threat map":
            entities = (Entity.of("h3", h3.latlng_to_cell(row.latitude, row.longitude, 3)),)
        elif kind == "host monitor":
            entities = (Entity.of("host", f"groucho-{i % 9}"),)
        else:
            entities = (Entity.of("user", f"user{i % 200}"), Entity.of("host", f"groucho-{i % 9}"))
        summary = f"{kind} on {entities[0].value}"
        signals.append(Signal(kind, kind, f"rule {i % 25}", f"bench:{i}", ts, severity, summary, entities, {"row": i}))
    return signals


def pandas_queue(signals: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """The entity ranking in pandas: severity, recency, own-source corroboration and volume per entity."""
    named = entities.merge(signals, left_on="signal_id", right_on="id")
    named["weight"] = named["severity"].map(triage.SEVERITY_WEIGHT)
    grouped = named.groupby(["kind", "value"]).agg(
        severity_term=("weight", "max"), raised_at=("raised_at", "max"), signals=("id", "nunique"),
        corroboration=("source", "nunique"),
    )  # fmt: skip
    hours = (pd.Timestamp(NOW) - grouped["raised_at"]).dt.total_seconds().clip(lower=0) / 3600
    volume = 1 + triage.VOLUME_GAIN * (1 - 1 / grouped["signals"])
    grouped["score"] = (
        grouped["severity_term"] * 0.5 ** (hours / triage.HALF_LIFE_HOURS) * grouped["corroboration"] * volume
    )
    return grouped.sort_values("score", ascending=False).head(500)


def page_seconds(path: Path, repeats: int) -> float:
    """The Investigations page's queue view, run whole by AppTest (median after a warm-up)."""
    from streamlit.testing.v1 import AppTest

    os.environ[ENV_VAR] = str(path)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("pages/investigations.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.main.metric[0].value == f"{len(real_signals_cache):,}"
    return median_seconds(at.run, repeats)


real_signals_cache: list[Signal] = []


def browser_seconds(path: Path, repeats: int) -> dict[str, float]:
    """In Debian's chromium against `streamlit run app.py` on the warehouse file (medians after a warm-up): loading
    Home (the cost of any page load), loading Investigations until its queue is drawn (metrics and the entity
    table), and coming back to the Queue view from the Entity view until it is drawn again (the queue's own render)."""
    from playwright.sync_api import sync_playwright

    port = 8599
    env = dict(os.environ, **{ENV_VAR: str(path)})
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    total = f"{len(real_signals_cache):,}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            base = f"http://127.0.0.1:{port}"
            for _ in range(120):  # the server's first answer
                try:
                    page.goto(base)
                    break
                except Exception:
                    time.sleep(0.5)

            def segment(name: str):
                return page.get_by_role("radio", name=name, exact=True)

            def drawn() -> None:
                page.get_by_text(total, exact=True).wait_for(timeout=60_000)
                page.locator('[data-testid="stDataFrame"] canvas').first.wait_for(timeout=60_000)

            def home() -> None:
                page.goto(base)
                page.get_by_text("CTAS — Convergent Threat Analysis System").wait_for(timeout=60_000)

            def load() -> None:
                page.goto(f"{base}/investigations")
                drawn()

            def back_to_queue() -> None:
                segment("Entity").click()
                page.get_by_text("Choose an entity in the queue").wait_for(timeout=60_000)
                started = time.perf_counter()
                segment("Queue").click()
                drawn()
                timings.append(time.perf_counter() - started)

            home(), load()
            figures = {"home_load_s": median_seconds(home, repeats), "queue_load_s": median_seconds(load, repeats)}
            timings: list[float] = []
            for _ in range(repeats + 1):
                back_to_queue()
            figures["queue_rerun_s"] = statistics.median(timings[1:])
            return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    signals = real_signals(args.signals)
    real_signals_cache[:] = signals
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.duckdb"
        store = CaseStore(Warehouse(path))
        started = time.perf_counter()
        for start in range(0, len(signals), 20_000):
            store.publish(signals[start : start + 20_000])
        published = time.perf_counter() - started
        print(json.dumps({"figure": "publish", "signals": len(signals), "seconds": round(published, 3),
                          "signals_per_s": round(len(signals) / published)}), flush=True)  # fmt: skip
        with store.warehouse.transaction() as cur:  # raised over the last week, as a live stream would be
            cur.execute("UPDATE case_signals SET raised_at = ?::TIMESTAMP - to_seconds(id % 604800)", [NOW])
        entity_s = median_seconds(lambda: store.entity_queue(at=NOW), args.repeats)
        signal_s = median_seconds(lambda: store.signal_queue(at=NOW), args.repeats)
        frame = store.warehouse.query("SELECT id, source, severity, raised_at FROM case_signals")
        named = store.warehouse.query("SELECT signal_id, kind, value FROM case_signal_entities")
        baseline = median_seconds(lambda: pandas_queue(frame, named), args.repeats)
        top = store.entity_queue(at=NOW).head(3)
        print(json.dumps({"figure": "entity queue", "signals": len(signals), "ctas_s": round(entity_s, 4),
                          "pandas_own_sources_s": round(baseline, 4), "ratio": round(baseline / entity_s, 2),
                          "top": [f"{r.kind} {r.value} ({r.corroboration} sources)" for r in top.itertuples()]}),
              flush=True)  # fmt: skip
        print(json.dumps({"figure": "signal queue (duplicates collapsed)", "signals": len(signals),
                          "ctas_s": round(signal_s, 4)}), flush=True)  # fmt: skip
        store.warehouse.close()
        drawn = {k: round(v, 3) for k, v in browser_seconds(path, args.repeats).items()}
        print(json.dumps({"figure": "queue view in chromium", "signals": len(signals), **drawn, "target_s": 1.0}),
              flush=True)  # fmt: skip
        page = page_seconds(path, args.repeats)  # last: AppTest keeps the file open in this process
        print(json.dumps({"figure": "queue view (AppTest, whole page run)", "signals": len(signals),
                          "seconds": round(page, 3), "target_s": 1.0}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

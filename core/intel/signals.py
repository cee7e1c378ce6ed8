"""Intel's signals for investigations: one per observed value that a feed lists, per match run (all of its hits in
the run collapse into one signal with the counts and a sample of the events as evidence)."""

from __future__ import annotations

import hashlib

import pandas as pd

from core.cases import Entity, Signal, SignalError, built, link

ENTITY_KIND = {"ipv4": "ip", "ipv6": "ip", "cidr": "ip", "domain": "domain", "url": "url", "email": "email",
               "md5": "hash", "sha1": "hash", "sha256": "hash"}  # fmt: skip
SAMPLE_ROWS = 10


def severity(confidence: int) -> str:
    """A feed's confidence (0–100) as a signal severity."""
    return "high" if confidence >= 80 else "medium" if confidence >= 50 else "low"


def match_signals(run_id: int, dataset: str, hits: pd.DataFrame, matched_at: pd.Timestamp) -> list[Signal]:
    """One signal per (feed, indicator, observed value) among a run's hits."""
    if hits.empty:
        return []
    hits = hits.sort_values(["row_number"], kind="stable")
    groups = hits.groupby(["source", "indicator_type", "indicator", "observed"], sort=False, dropna=False)
    return built(groups, lambda group: _signal(run_id, dataset, group[0], group[1], matched_at))


def _entities(kind: str, indicator: str, observed: str, where: tuple) -> tuple[Entity, ...]:
    """The value seen, and the listed indicator when it is another entity (the network or parent domain it is in).
    A value seen that is no entity of its own (a URL or e-mail address holding a listed domain, a zero-padded IP)
    is named by the indicator alone."""
    listed = Entity.of("cidr" if kind == "cidr" else ENTITY_KIND.get(kind, "ip"), indicator, *where)
    try:
        seen = Entity.of(ENTITY_KIND.get(kind, "ip"), observed, *where)
    except SignalError:
        return (listed,)
    return (seen,) if seen.value == listed.value else (seen, listed)


def _signal(run_id: int, dataset: str, key: tuple, rows: pd.DataFrame, matched_at: pd.Timestamp) -> Signal:
    source, kind, indicator, observed = key
    first = rows.iloc[0]
    times = pd.to_datetime(rows["event_time"]).dropna()
    entities = _entities(kind, indicator, observed, (first["lat"], first["lon"]))
    family = first["family"] if isinstance(first["family"], str) else None
    confidence = int(rows["confidence"].max())
    events = len(rows)
    evidence = {
        "dataset": dataset, "run": run_id, "feed": source, "indicator": indicator, "indicator_type": kind,
        "family": family, "confidence": confidence, "events": events, "columns": sorted(set(rows["column_name"])),
        "first_event": times.min().isoformat() if len(times) else None,
        "last_event": times.max().isoformat() if len(times) else None,
        "sample_rows": [int(r) for r in rows["row_number"].head(SAMPLE_ROWS)],
    }  # fmt: skip
    listed = f"{_short(indicator)} in {source}" + (f" ({family})" if family else "")
    digest = hashlib.sha256(f"{source}|{kind}|{indicator}|{observed}".encode()).hexdigest()[:32]
    return Signal(
        source="intel",
        kind="intel match",
        rule=source,
        key=f"intel:{run_id}:{digest}",
        ts=(times.min() if len(times) else matched_at).to_pydatetime(),
        severity=severity(confidence),
        summary=f"{_short(observed)} seen in {events:,} events of {dataset}: {listed}, confidence {confidence}",
        entities=entities,
        evidence=evidence,
        link=link("intel", run=run_id),
    )


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"

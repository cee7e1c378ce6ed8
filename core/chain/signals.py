"""The Bitcoin network page's signals for investigations: majority-attack, burst and run alerts about a pool (or
the network), and fee-spike episodes about the network."""

from __future__ import annotations

import math

import pandas as pd

from core.cases import Entity, Signal, link
from core.chain.blocks import pool_label

NETWORK = "bitcoin"
SEVERITY = {"majority": "critical", "burst": "medium", "run": "low"}


def _entities(pool: str) -> tuple[Entity, ...]:
    network = Entity.of("network", NETWORK)
    return (Entity.of("pool", pool), network) if pool else (network,)


def alert_signal(key: str, source: str, alert: dict) -> Signal:
    """The signal of one monitor alert (a row of MajorityMonitor.scan) over the blocks of `source`."""
    pool = str(alert["pool"] or "")
    who = f"{pool_label(pool)}: " if pool else ""
    probability = alert.get("probability")
    chance = (
        f"; probability of a majority {probability:.1%}"
        if isinstance(probability, float) and math.isfinite(probability)
        else ""
    )
    return Signal(
        source="bitcoin",
        kind=f"{alert['level']} alert",
        rule=f"bitcoin {alert['level']} test",
        key=key,
        ts=pd.Timestamp(alert["ts"]).to_pydatetime(),
        severity=SEVERITY[alert["level"]],
        summary=f"{who}{alert['detail']} at height {int(alert['height']):,}{chance} ({source})",
        entities=_entities(pool),
        evidence={k: v for k, v in alert.items() if k != "ts"} | {"source": source},
        link=link("bitcoin", blocks=source, height=int(alert["height"])),
    )


def episode_signal(key: str, source: str, episode: dict) -> Signal:
    """The signal of one fee-spike episode of the series of `source`."""
    magnitude, days = float(episode["magnitude"]), int(episode["days"])
    ratio = f"{magnitude:.1f}x their 14-day median" if math.isfinite(magnitude) else "above a 14-day median of zero"
    return Signal(
        source="bitcoin",
        kind="fee spike",
        rule="bitcoin fee spike",
        key=key,
        ts=pd.Timestamp(episode["peak_day"]).to_pydatetime(),
        severity="low" if magnitude < 5 else "medium",
        summary=f"Fees {ratio} on {episode['peak_day']:%Y-%m-%d} "
        f"({days} day{'s' if days != 1 else ''} from {episode['start']:%Y-%m-%d}; {episode['cause']}) ({source})",
        entities=_entities(""),
        evidence={k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in episode.items()} | {"source": source},
        link=link("bitcoin", series=source),
    )

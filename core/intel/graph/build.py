"""Build the correlation graph from the warehouse: linear in size by construction.

Nodes come from rows (an indicator, a family, a feed, an ATT&CK object, an event, a saved report); stored edges from
the rows that relate them. Two guards keep the graph linear in the events: a value seen in more than `max_share` of
a column's events (and in at least `MIN_HUB_EVENTS`) is kept as a counted attribute, not as an edge per event, and a
value on the exclusion list (exact, prefix, suffix or substring, as MISP's) is counted and never linked.
Inferred edges come from rules, each of which can be switched off, and each names its two premises.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import tasks
from core.intel.attack.store import AttackStore
from core.intel.graph.model import Graph
from core.intel.graph.store import REPORT_ITEMS, GraphStore
from core.intel.match import IndicatorIndex, match_values
from core.intel.store import IntelStore
from core.intel.values import classify
from core.warehouse import Warehouse

MAX_SHARE = 0.01
MIN_HUB_EVENTS = 50
RULES = {
    "cidr": "an address inside a listed network",
    "host": "a host, URL or e-mail under a listed domain",
    "alias": "a feed's family named as an ATT&CK software or group",
}
_MATCH_KIND = {"ipv4": "ipv4", "domain": "domain", "url": "url", "email": "email", "md5": "hash", "sha1": "hash",
               "sha256": "hash"}  # fmt: skip
_SUFFIX = re.compile(r"(?:ransomware|stealer|backdoor|botnet|loader|rat|c2)$")
MIN_ALIAS = 4  # shorter names (net, at, ps) are too ambiguous to equate


@dataclass(frozen=True)
class EventColumn:
    """A dataset column whose values become graph nodes, read as `kind` (ipv4, domain, url, hash or email)."""

    dataset: str
    column: str
    kind: str


def alias_key(name: str) -> str:
    """A name as families and ATT&CK aliases are compared: lower-case letters and digits, a kind suffix dropped."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    stripped = _SUFFIX.sub("", key)
    return stripped if len(stripped) >= MIN_ALIAS else key


def _event_values(intel: IntelStore, spec: EventColumn) -> pd.DataFrame:
    """One column's values normalised as indicators are: event key, dataset, column, type, value."""
    frame = intel.event_values(spec.dataset, [spec.column], None, None)
    raw = frame[f"v:{spec.column}"].astype("string")
    distinct = raw.dropna().unique()
    forced = None if spec.kind == "hash" else spec.kind
    normal = {value: classify(str(value), forced) for value in distinct}
    pairs = raw.map(normal, na_action="ignore")
    keep = pairs.notna().to_numpy()
    found = pairs[keep]
    rows = frame["row_number"].to_numpy()[keep]
    return pd.DataFrame(
        {
            "event": [f"{spec.dataset}#{r}" for r in rows],
            "event_label": [f"{spec.dataset} row {r}" for r in rows],
            "dataset": spec.dataset,
            "column_name": spec.column,
            "type": [p[0] for p in found],
            "value": [p[1] for p in found],
        }
    )


def _split_common(values: pd.DataFrame, graph: GraphStore, max_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values to link, counted attributes): excluded values and values in too many of a column's events."""
    if values.empty:
        return values, pd.DataFrame(columns=["dataset", "column_name", "type", "value", "events", "reason"])
    counts = values.groupby(["dataset", "column_name", "type", "value"], as_index=False).size()
    totals = values.groupby(["dataset", "column_name"])["event"].transform("nunique")
    share_cap = (values.assign(total=totals).groupby(["dataset", "column_name"])["total"].first() * max_share).rename(
        "cap"
    )
    counts = counts.join(share_cap, on=["dataset", "column_name"])
    excluded = graph.excluded(counts["value"].tolist())
    common = (counts["size"] > np.maximum(counts["cap"], MIN_HUB_EVENTS)).to_numpy()
    reason = np.where(excluded, "on the exclusion list", np.where(common, "in more than the share of events", ""))
    counts["reason"] = reason
    dropped = counts[counts["reason"] != ""]
    attributes = dropped[["dataset", "column_name", "type", "value", "size", "reason"]].rename(
        columns={"size": "events"}
    )
    kept = values.merge(dropped[["dataset", "column_name", "type", "value"]], how="left", indicator=True)
    return kept[kept["_merge"] == "left_only"].drop(columns="_merge"), attributes


def _matches(intel: IntelStore, observed: pd.DataFrame, rules: frozenset[str]) -> list[tuple]:
    """Inferred edges from observed values (events', reports') to the indicators that cover them but differ."""
    if not ({"cidr", "host"} & rules) or observed.empty:
        return []
    index = IndicatorIndex.build(intel.values_by_type())
    out = []
    for kind, group in observed.groupby("type"):
        match_kind = _MATCH_KIND.get(kind)
        if match_kind is None:
            continue
        tasks.check()
        values = group["value"].reset_index(drop=True)
        hits = match_values(index, values, match_kind)
        for row, indicator_type, indicator in zip(hits["row"], hits["indicator_type"], hits["indicator"], strict=True):
            value = values[int(row)]
            if (indicator_type, indicator) == (kind, value):
                continue  # the same node
            rule = "cidr" if indicator_type == "cidr" else "host"
            if rule not in rules:
                continue
            relation = "inside" if rule == "cidr" else "under"
            out.append((kind, value, indicator_type, indicator, relation, rule, f"{value} is {relation} {indicator}"))
    return out


def _aliases(intel: IntelStore, attack: AttackStore, release: str | None) -> list[tuple]:
    """Inferred edges from feed families to ATT&CK software and groups with an equal name or alias."""
    if release is None:
        return []
    families = intel.warehouse.query(
        "SELECT DISTINCT lower(family) AS family FROM intel_indicators WHERE family IS NOT NULL"
    )["family"]
    named = attack.search(release, kinds=("software", "group"), limit=100_000)
    keys: dict[str, list[tuple[str, str, str]]] = {}
    for row in named.itertuples(index=False):
        for name in {row.name, *filter(None, row.aliases.split(", "))}:
            if len(alias_key(name)) >= MIN_ALIAS:
                keys.setdefault(alias_key(name), []).append((row.kind, row.attack_id, name))
    out = []
    for family in families:
        for kind, attack_id, name in keys.get(alias_key(family), []):
            out.append(("family", family, kind, attack_id, "same_as", "alias", f"family {family} is named {name}"))
    return list(dict.fromkeys(out))


def build_graph(
    warehouse: Warehouse,
    events: list[EventColumn],
    release: str | None,
    *,
    max_share: float = MAX_SHARE,
    rules: frozenset[str] = frozenset(RULES),
) -> Graph:
    """Build the correlation graph (its summary and counted attributes replace the previous build's)."""
    if not 0 < max_share <= 1:
        raise ValueError("max_share must be in (0, 1].")
    started = time.perf_counter()
    intel, attack, graph_store = IntelStore(warehouse), AttackStore(warehouse), GraphStore(warehouse)
    frames = []
    for spec in events:
        tasks.check()
        frames.append(_event_values(intel, spec))
    columns = ["event", "event_label", "dataset", "column_name", "type", "value"]
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    values, attributes = _split_common(values, graph_store, max_share)
    reported = warehouse.query(f"SELECT DISTINCT type, value FROM ({REPORT_ITEMS}) WHERE kind = 'indicator'")
    observed = pd.concat([values[["type", "value"]], reported], ignore_index=True).drop_duplicates()
    tasks.check()
    inferred = _matches(intel, observed, rules) + (_aliases(intel, attack, release) if "alias" in rules else [])
    frame = pd.DataFrame(
        inferred, columns=["src_kind", "src_key", "dst_kind", "dst_key", "relation", "rule", "evidence"]
    ).astype(str)
    tasks.check()
    graph = Graph.from_tables(**graph_store.assemble(release, values[columns], frame))
    tasks.check()  # a cancelled build records nothing
    summary = {
        "release": release,
        "nodes": graph.nodes,
        "edges": graph.edges,
        "inferred": graph.edges - graph.first_inferred,
        "max_share": max_share,
        "seconds": time.perf_counter() - started,
    }
    graph_store.record(summary, attributes)
    return graph

"""A report's techniques: the ids it names (from extraction) and the mapper's sentence-level predictions, merged
into one table per technique with its best evidence; and what a saved report records."""

from __future__ import annotations

import hashlib

import pandas as pd

from core.intel.extract import Indicator
from core.intel.stix import graph_bundle

TECHNIQUE_COLUMNS = ("technique", "confidence", "how", "sentence", "offset")


def report_techniques(named: list[Indicator], text: str, mapped: pd.DataFrame | None) -> pd.DataFrame:
    """One row per technique: named in the text (confidence 1) or learned from a sentence (its calibrated
    confidence), the sentence or context that shows it, and where it starts."""
    rows = []
    for item in named:
        start, end = item.offsets[0] if item.offsets else (0, 0)
        rows.append((item.value, 1.0, "named in the text", text[max(0, start - 80) : end + 80].strip(), start))
    if mapped is not None and len(mapped):
        best = mapped.sort_values("confidence", ascending=False).drop_duplicates("technique")
        rows += [
            (r.technique, r.confidence, "learned from a sentence", r.sentence, r.offset) for r in best.itertuples()
        ]
    frame = pd.DataFrame(rows, columns=list(TECHNIQUE_COLUMNS))
    return frame.sort_values(["confidence", "technique"], ascending=[False, True]).drop_duplicates("technique")


def report_items(indicators: pd.DataFrame, techniques: pd.DataFrame) -> pd.DataFrame:
    """What a saved report records (`IntelStore.save_report`): its indicators not flagged benign and techniques."""
    kept = indicators[(indicators["benign"] == "") & (indicators["type"] != "attack_technique")]
    return pd.concat(
        [
            pd.DataFrame({"kind": "indicator", "type": kept["type"], "value": kept["value"], "confidence": 1.0,
                          "evidence": "extracted"}),
            pd.DataFrame({"kind": "technique", "type": "technique", "value": techniques["technique"],
                          "confidence": techniques["confidence"].astype(float), "evidence": techniques["how"]}),
        ],
        ignore_index=True,
    )  # fmt: skip


def report_stix(name: str, indicators: pd.DataFrame, techniques: pd.DataFrame) -> str:
    """A STIX 2.1 bundle of a report: its indicators (not flagged benign) and techniques, and a report object that
    refers to them."""
    kept = indicators[(indicators["benign"] == "") & (indicators["type"] != "attack_technique")]
    content = "\n".join([name, *sorted(kept["type"] + ":" + kept["value"]), *sorted(techniques["technique"])])
    nodes = pd.DataFrame(
        {
            "id": range(len(kept) + len(techniques) + 1),
            "kind": ["report", *kept["type"], *["technique"] * len(techniques)],
            "key": [hashlib.sha256(content.encode()).hexdigest(), *kept["value"], *techniques["technique"]],
            "label": [name or "CTAS report", *kept["value"], *techniques.get("name", techniques["technique"])],
        }
    )
    edges = pd.DataFrame(
        {"src": 0, "dst": nodes["id"][1:], "relation": ["mentions"] * len(kept) + ["describes"] * len(techniques),
         "source": "CTAS", "rule": "", "evidence": ""}
    )  # fmt: skip
    return graph_bundle(nodes, edges)

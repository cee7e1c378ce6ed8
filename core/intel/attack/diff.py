"""What changed between two ATT&CK releases: objects added, removed, renamed, changed, deprecated or revoked, and
relationships (who uses which technique, what mitigates it) gained or lost."""

from __future__ import annotations

import pandas as pd

CHANGE_COLUMNS = ("change", "kind", "attack_id", "name", "detail")


def _keyed(objects: pd.DataFrame) -> pd.DataFrame:
    """Objects with an ATT&CK id, one row per id (live before revoked or deprecated, then the latest)."""
    keyed = objects[objects["attack_id"].notna()].copy()
    keyed["live"] = ~(keyed["deprecated"] | keyed["revoked"])
    keyed = keyed.sort_values(["live", "modified", "stix_id"], na_position="first")
    return keyed.drop_duplicates("attack_id", keep="last").set_index("attack_id")


def object_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """One row per object that differs between the releases' object tables (`AttackStore.objects`)."""
    before, after = _keyed(old), _keyed(new)
    rows = []
    for attack_id in after.index.difference(before.index):
        rows.append(("added", after.at[attack_id, "kind"], attack_id, after.at[attack_id, "name"], ""))
    for attack_id in before.index.difference(after.index):
        rows.append(("removed", before.at[attack_id, "kind"], attack_id, before.at[attack_id, "name"], ""))
    both = before.index.intersection(after.index)
    b, a = before.loc[both], after.loc[both]
    for attack_id in both[(b["live"] & ~a["live"]).to_numpy()]:
        why = "revoked" if a.at[attack_id, "revoked"] else "deprecated"
        rows.append((why, a.at[attack_id, "kind"], attack_id, a.at[attack_id, "name"], ""))
    for attack_id in both[(~b["live"] & a["live"]).to_numpy()]:
        rows.append(("restored", a.at[attack_id, "kind"], attack_id, a.at[attack_id, "name"], ""))
    for attack_id in both[(b["name"] != a["name"]).to_numpy()]:
        rows.append(("renamed", a.at[attack_id, "kind"], attack_id, a.at[attack_id, "name"], b.at[attack_id, "name"]))
    same_name = b["name"] == a["name"]
    edited = (b["version"].fillna("") != a["version"].fillna("")) | (
        b["description"].fillna("") != a["description"].fillna("")
    )
    tactics = b["tactics"].map(tuple) != a["tactics"].map(tuple)
    for attack_id in both[(same_name & (edited | tactics) & a["live"]).to_numpy()]:
        parts = []
        if b.at[attack_id, "version"] != a.at[attack_id, "version"]:
            parts.append(f"version {b.at[attack_id, 'version']} → {a.at[attack_id, 'version']}")
        if tactics[attack_id]:
            parts.append(f"tactics {', '.join(b.at[attack_id, 'tactics'])} → {', '.join(a.at[attack_id, 'tactics'])}")
        if b.at[attack_id, "description"] != a.at[attack_id, "description"]:
            parts.append("description edited")
        rows.append(("changed", a.at[attack_id, "kind"], attack_id, a.at[attack_id, "name"], "; ".join(parts)))
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)).sort_values(
        ["change", "kind", "attack_id"], ignore_index=True
    )


def relationship_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Relationships (`AttackStore.relationship_pairs`) gained or lost: change, type, source, target and names."""
    key = ["source", "type", "target"]
    merged = old.merge(new, on=key, how="outer", indicator=True, suffixes=("_old", "_new"))
    merged = merged[merged["_merge"] != "both"]
    return pd.DataFrame(
        {
            "change": merged["_merge"].map({"left_only": "lost", "right_only": "gained"}).astype(str),
            "type": merged["type"],
            "source": merged["source"],
            "source_name": merged["source_name_new"].fillna(merged["source_name_old"]),
            "target": merged["target"],
            "target_name": merged["target_name_new"].fillna(merged["target_name_old"]),
        }
    ).sort_values(["change", "type", "source", "target"], ignore_index=True)

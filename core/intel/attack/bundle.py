"""An ATT&CK release read from its STIX bundle (enterprise, mobile or ICS), within bounds, into two frames.

Every bound is checked before the work it guards: the compressed and decompressed sizes before parsing, the nesting
depth while parsing (`core.safejson`), the object and relationship counts before any row is built. Nothing follows a
reference chain (revoked-by, subtechnique-of), so cycles in a hostile bundle cost nothing.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core import safejson
from core.errors import CtasError

MAX_BUNDLE_BYTES = 200 * 2**20  # decompressed; ATT&CK v18 enterprise is 33 MB
MAX_OBJECTS = 100_000  # v18 enterprise holds 4,723 objects that are not relationships
MAX_RELATIONSHIPS = 200_000  # v18 enterprise holds 20,048
MAX_TEXT = 20_000  # characters kept of one description
KINDS = {
    "attack-pattern": "technique",
    "x-mitre-tactic": "tactic",
    "intrusion-set": "group",
    "malware": "software",
    "tool": "software",
    "campaign": "campaign",
    "course-of-action": "mitigation",
    "x-mitre-data-source": "data source",
    "x-mitre-data-component": "data component",
    "x-mitre-matrix": "matrix",
}
OBJECT_COLUMNS = (
    "stix_id",
    "attack_id",
    "kind",
    "stix_type",
    "name",
    "description",
    "aliases",
    "tactics",
    "platforms",
    "parent_ref",
    "subtechnique",
    "deprecated",
    "revoked",
    "version",
    "modified",
    "ordinal",
    "url",
)
RELATIONSHIP_COLUMNS = ("stix_id", "type", "source_ref", "target_ref", "description", "modified")


class AttackBundleError(CtasError, ValueError):
    """A file that is not an ATT&CK STIX bundle CTAS can read; the message says why."""


@dataclass(frozen=True)
class AttackRelease:
    """One release: its objects and relationships (columns above), its domain and what identifies it."""

    objects: pd.DataFrame
    relationships: pd.DataFrame
    domain: str
    version: str | None  # the collection's x_mitre_version, when the bundle carries one
    spec_version: str | None
    last_modified: str
    sha256: str


def unpack(data: bytes, name: str, limit: int = MAX_BUNDLE_BYTES) -> bytes:
    """The bytes of a bundle, gunzipped if they are gzip, refusing more than `limit` bytes once decompressed."""
    if data[:2] != b"\x1f\x8b":
        if len(data) > limit:
            raise AttackBundleError(f"{name} is larger than the {limit / 2**20:,.0f} MiB limit.")
        return data
    inflate = zlib.decompressobj(wbits=31)
    try:
        out = inflate.decompress(data, limit + 1)
    except zlib.error:
        raise AttackBundleError(f"{name} is not a valid gzip file.") from None
    if len(out) > limit or inflate.unconsumed_tail:
        raise AttackBundleError(f"{name} is larger than the {limit / 2**20:,.0f} MiB limit once decompressed.")
    return out


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _strings(value: Any, limit: int = 200) -> list[str]:
    return [v[:200] for v in value[:limit] if isinstance(v, str)] if isinstance(value, list) else []


def _attack_reference(item: dict) -> tuple[str | None, str | None]:
    """The ATT&CK id (T1059.001, G0007, TA0002…) and page of an object, from its mitre-* external reference."""
    for ref in item.get("external_references", [])[:50] if isinstance(item.get("external_references"), list) else []:
        source = ref.get("source_name") if isinstance(ref, dict) else None
        if isinstance(source, str) and source.startswith("mitre") and isinstance(ref.get("external_id"), str):
            return ref["external_id"][:40], _text(ref.get("url"), 300)
    return None, None


def _object_row(item: dict, ordinal: dict[str, int]) -> tuple:
    attack_id, url = _attack_reference(item)
    phases = item.get("kill_chain_phases") if isinstance(item.get("kill_chain_phases"), list) else []
    tactics = [
        p["phase_name"][:80] for p in phases[:20] if isinstance(p, dict) and isinstance(p.get("phase_name"), str)
    ]
    if item["type"] == "x-mitre-tactic" and isinstance(item.get("x_mitre_shortname"), str):
        tactics = [item["x_mitre_shortname"][:80]]
    aliases = _strings(item.get("aliases")) or _strings(item.get("x_mitre_aliases"))
    return (
        item["id"][:200],
        attack_id,
        KINDS[item["type"]],
        item["type"],
        _text(item.get("name"), 300) or attack_id or item["id"][:200],
        _text(item.get("description")),
        aliases,
        tactics,
        _strings(item.get("x_mitre_platforms"), 40),
        _text(item.get("x_mitre_data_source_ref"), 200),
        item.get("x_mitre_is_subtechnique") is True,
        item.get("x_mitre_deprecated") is True,
        item.get("revoked") is True,
        _text(item.get("x_mitre_version"), 20),
        _text(item.get("modified"), 40),
        ordinal.get(item["id"]),
        url,
    )


def read_bundle(data: bytes, name: str) -> AttackRelease:
    """An ATT&CK release from the bytes of a STIX 2.0/2.1 bundle (plain or gzip); refuses anything else."""
    sha256 = hashlib.sha256(data).hexdigest()
    bundle = safejson.loads(unpack(data, name), what=name, max_bytes=MAX_BUNDLE_BYTES)
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise AttackBundleError(
            f"{name} is not a STIX bundle (a JSON object with type 'bundle' and a list of objects)."
        )
    items = [o for o in bundle["objects"] if isinstance(o, dict) and isinstance(o.get("type"), str)]
    relationships = [o for o in items if o["type"] == "relationship"]
    if len(relationships) > MAX_RELATIONSHIPS:
        raise AttackBundleError(
            f"{name} holds {len(relationships):,} relationships; at most {MAX_RELATIONSHIPS:,} are read."
        )
    if len(items) - len(relationships) > MAX_OBJECTS:
        raise AttackBundleError(f"{name} holds {len(items) - len(relationships):,} objects; at most {MAX_OBJECTS:,}.")
    known = [o for o in items if o["type"] in KINDS and isinstance(o.get("id"), str) and o["id"].strip()]
    matrices = [o for o in known if o["type"] == "x-mitre-matrix"]
    ordinal = {ref: i for i, ref in enumerate(_strings(matrices[0].get("tactic_refs"))) if matrices} if matrices else {}
    objects = pd.DataFrame([_object_row(o, ordinal) for o in known], columns=list(OBJECT_COLUMNS))
    if not ((objects["kind"] == "technique") & objects["attack_id"].notna()).any():
        raise AttackBundleError(
            f"{name} holds no ATT&CK technique (an attack-pattern with a mitre-attack id); it is not an ATT&CK release."
        )
    objects = objects.drop_duplicates("stix_id", keep="last")
    edges = pd.DataFrame(
        [
            (
                r.get("id", "")[:200] if isinstance(r.get("id"), str) else "",
                r.get("relationship_type", "")[:60] if isinstance(r.get("relationship_type"), str) else "",
                r.get("source_ref", "")[:200] if isinstance(r.get("source_ref"), str) else "",
                r.get("target_ref", "")[:200] if isinstance(r.get("target_ref"), str) else "",
                _text(r.get("description")),
                _text(r.get("modified"), 40),
            )
            for r in relationships
            if r.get("x_mitre_deprecated") is not True and r.get("revoked") is not True
        ],
        columns=list(RELATIONSHIP_COLUMNS),
    )
    edges = edges[(edges["type"] != "") & edges["source_ref"].isin(objects["stix_id"])]
    edges = edges[edges["target_ref"].isin(objects["stix_id"])].drop_duplicates("stix_id", keep="last")
    domains = [d for o in known[:2000] for d in _strings(o.get("x_mitre_domains"), 5)]
    collection = next((o for o in items if o["type"] == "x-mitre-collection"), {})
    return AttackRelease(
        objects=objects.reset_index(drop=True),
        relationships=edges.reset_index(drop=True),
        domain=Counter(domains).most_common(1)[0][0] if domains else "unknown",
        version=_text(collection.get("x_mitre_version"), 20),
        spec_version=_text(bundle.get("spec_version"), 20),
        last_modified=str(objects["modified"].dropna().max()) if objects["modified"].notna().any() else "",
        sha256=sha256,
    )

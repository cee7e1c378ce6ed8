"""STIX 2.1 bundles and MISP events in and out: indicators only, read within the bounds of `core.safejson`."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from core import safejson, stix
from core.intel.feeds import MAX_UPLOAD_BYTES, Feed, FeedError, frame
from core.intel.values import classify

MAX_OBJECTS = 500_000
# `object-path = 'literal'` inside a STIX pattern; the literal is read as an unambiguous alternation (linear time).
_COMPARISON = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")
_STIX_TYPES = {
    "ipv4-addr:value": None,
    "ipv6-addr:value": "ipv6",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "file:hashes.md5": "md5",
    "file:hashes.'md5'": "md5",
    "file:hashes.'sha-1'": "sha1",
    "file:hashes.sha1": "sha1",
    "file:hashes.'sha-256'": "sha256",
    "file:hashes.sha256": "sha256",
}
_OBSERVABLE_TYPES = {
    "ipv4-addr": None,
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
_MISP_TYPES = {
    "ip-src": None,
    "ip-dst": None,
    "ip-src|port": None,
    "ip-dst|port": None,
    "domain": "domain",
    "hostname": "domain",
    "url": "url",
    "uri": "url",
    "link": "url",
    "email": "email",
    "email-src": "email",
    "email-dst": "email",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "domain|ip": "domain",
    "filename|md5": "md5",
    "filename|sha1": "sha1",
    "filename|sha256": "sha256",
    "hostname|port": "domain",
}


def _load(data: bytes, name: str) -> Any:
    if len(data) > MAX_UPLOAD_BYTES:
        raise FeedError(f"{name} is larger than the {MAX_UPLOAD_BYTES / 2**20:,.0f} MiB upload limit.")
    return safejson.loads(data, what=name, max_bytes=MAX_UPLOAD_BYTES)


def _text(value: Any, limit: int = 200) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int | float) and str(value).strip() else None


def read_stix(data: bytes, name: str) -> Feed:
    """A STIX 2.x bundle: indicators' patterns (each equality comparison) and the observables in it."""
    bundle = _load(data, name)
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise FeedError(f"{name} is not a STIX bundle (a JSON object with type 'bundle' and a list of objects).")
    objects = bundle["objects"]
    if len(objects) > MAX_OBJECTS:
        raise FeedError(f"{name} holds {len(objects):,} objects; at most {MAX_OBJECTS:,} are read.")
    rows, skipped = [], 0
    for item in objects:
        if not isinstance(item, dict):
            skipped += 1
            continue
        kind = item.get("type") if isinstance(item.get("type"), str) else None
        labels = item.get("labels") if isinstance(item.get("labels"), list) else []
        family = _text(item.get("name")) or _text(",".join(str(label)[:60] for label in labels[:5]))
        seen = (_text(item.get("valid_from") or item.get("created")), _text(item.get("modified")))
        confidence = item.get("confidence") if isinstance(item.get("confidence"), int) else 60
        if kind == "indicator" and isinstance(item.get("pattern"), str):
            found = [
                classify(value.replace("\\'", "'"), _STIX_TYPES[f"{obj}:{path}".lower()])
                for obj, path, value in _COMPARISON.findall(item["pattern"][:10_000])
                if f"{obj}:{path}".lower() in _STIX_TYPES
            ]
        elif kind in _OBSERVABLE_TYPES and isinstance(item.get("value"), str):
            found = [classify(item["value"], _OBSERVABLE_TYPES[kind])]
        else:
            continue
        for indicator in found:
            if indicator is None:
                skipped += 1
            else:
                rows.append((*indicator, confidence, family, None, *seen))
    if not rows:
        raise FeedError(f"{name} holds no indicator CTAS can read ({skipped:,} skipped).")
    return Feed(frame([_clean(row) for row in rows]), None, skipped)


def _misp_time(value: Any) -> str | None:
    """A MISP time: epoch seconds as text (years 1970 to 2100), or a date string read later; None otherwise."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, UTC).isoformat() if seconds < 4_102_444_800 else None
    return _text(value)


def _clean(row: tuple) -> tuple:
    """A row's text with lone surrogates (which JSON escapes can carry) replaced, so it can be stored."""
    return tuple(v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v for v in row)


def read_misp(data: bytes, name: str) -> Feed:
    """A MISP event (`{"Event": {...}}` or the event itself): its attributes and its objects' attributes."""
    event = _load(data, name)
    event = event.get("Event", event) if isinstance(event, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("Attribute", []), list):
        raise FeedError(f"{name} is not a MISP event (an object with an Attribute list).")
    attributes = list(event.get("Attribute", []))
    for obj in event.get("Object", []) if isinstance(event.get("Object"), list) else []:
        if isinstance(obj, dict) and isinstance(obj.get("Attribute"), list):
            attributes.extend(obj["Attribute"])
    if len(attributes) > MAX_OBJECTS:
        raise FeedError(f"{name} holds {len(attributes):,} attributes; at most {MAX_OBJECTS:,} are read.")
    tag_list = event.get("Tag") if isinstance(event.get("Tag"), list) else []
    tags = ",".join(str(t.get("name"))[:60] for t in tag_list if isinstance(t, dict))[:500] or None
    family = _text(event.get("info"))
    rows, skipped = [], 0
    for attribute in attributes:
        if not isinstance(attribute, dict) or not isinstance(attribute.get("type"), str):
            skipped += 1
            continue
        if attribute["type"] not in _MISP_TYPES:
            skipped += 1
            continue
        value = str(attribute.get("value", ""))
        kind = attribute["type"]
        if "|" in kind:
            first, _, second = value.partition("|")
            value = second if kind.startswith("filename") else first
        found = classify(value, _MISP_TYPES[kind])
        if found is None:
            skipped += 1
            continue
        seen = (
            _misp_time(attribute.get("first_seen") or attribute.get("timestamp")),
            _misp_time(attribute.get("last_seen")),
        )
        confidence = 80 if attribute.get("to_ids") in (True, "1", 1) else 50
        rows.append((*found, confidence, family, tags, *seen))
    if not rows:
        raise FeedError(f"{name} holds no indicator CTAS can read ({skipped:,} skipped).")
    return Feed(frame([_clean(row) for row in rows]), None, skipped)


def read_json_feed(data: bytes, name: str) -> Feed:
    """A STIX bundle or a MISP event, told apart by their shape."""
    head = data[:4096].decode("utf-8", "replace")
    return read_stix(data, name) if '"bundle"' in head or '"objects"' in head else read_misp(data, name)


def to_stix_bundle(indicators: pd.DataFrame, created: datetime | None = None) -> str:
    """A STIX 2.1 bundle of indicator objects for rows with `type` and `value` (and optional `family`)."""
    now = stix.timestamp(created)
    objects = []
    for row in indicators.itertuples(index=False):
        family = getattr(row, "family", None)
        labels = {"labels": [family[:100]]} if isinstance(family, str) and family else {}
        item = stix.indicator(str(row.type), str(row.value), now, indicator_types=["malicious-activity"], **labels)
        if item is not None:
            objects.append(item)
    return stix.bundle(objects)


_SDO_TYPES = {
    "family": "malware",
    "software": "malware",
    "group": "intrusion-set",
    "campaign": "campaign",
    "technique": "attack-pattern",
}
_RELATIONSHIP_TYPES = {
    "listed_as": "indicates",
    "uses": "uses",
    "attributed-to": "attributed-to",
    "subtechnique-of": "subtechnique-of",
    "same_as": "related-to",
    "inside": "related-to",
    "under": "related-to",
}


def _stix_object(kind: str, key: str, label: str, now: str) -> dict | None:
    """A STIX 2.1 object for a graph node: an indicator for a value, an SDO for an actor, family or technique."""
    if kind in stix.PATTERN:
        return stix.indicator(kind, key, now)
    ident = uuid.uuid5(stix.NAMESPACE, f"{kind}:{key}")
    base = {"spec_version": "2.1", "created": now, "modified": now}
    if kind not in _SDO_TYPES:
        return None
    item = {**base, "type": _SDO_TYPES[kind], "id": f"{_SDO_TYPES[kind]}--{ident}", "name": label[:300]}
    if kind in ("family", "software"):
        item["is_family"] = True
    if kind != "family":
        item["external_references"] = [{"source_name": "mitre-attack", "external_id": key[:40]}]
    return item


def graph_bundle(nodes: pd.DataFrame, edges: pd.DataFrame, created: datetime | None = None) -> str:
    """A STIX 2.1 bundle of graph nodes (id, kind, key, label) and the edges between them (src, dst, relation,
    source, rule, evidence): indicators and SDOs, relationships that say where each edge came from, and a report
    object for each report node, referring to what it mentions and describes. Events and feeds are left out."""
    now = stix.timestamp(created)
    made = {int(n.id): _stix_object(n.kind, str(n.key), str(n.label), now) for n in nodes.itertuples(index=False)}
    objects = [o for o in made.values() if o is not None]
    reports: dict[int, list[str]] = {}
    for edge in edges.itertuples(index=False):
        src, dst = made.get(int(edge.src)), made.get(int(edge.dst))
        if edge.relation in ("mentions", "describes") and dst is not None:
            reports.setdefault(int(edge.src), []).append(dst["id"])
        kind = _RELATIONSHIP_TYPES.get(edge.relation)
        if src is None or dst is None or kind is None:
            continue
        why = f"CTAS rule {edge.rule}: {edge.evidence}" if edge.rule else f"source: {edge.source}"
        ident = uuid.uuid5(stix.NAMESPACE, "|".join((src["id"], kind, dst["id"])))
        objects.append({
            "type": "relationship", "spec_version": "2.1", "created": now, "modified": now,
            "id": f"relationship--{ident}",
            "relationship_type": kind, "source_ref": src["id"], "target_ref": dst["id"], "description": why[:1000],
        })  # fmt: skip
    labels, keys = nodes.set_index("id")["label"], nodes.set_index("id")["key"]
    for report, refs in reports.items():
        objects.append({
            "type": "report", "spec_version": "2.1", "created": now, "modified": now, "published": now,
            "id": f"report--{uuid.uuid5(stix.NAMESPACE, f'report:{keys.get(report, report)}')}",
            "name": str(labels.get(report, "report"))[:300], "object_refs": sorted(set(refs)),
        })  # fmt: skip
    return stix.bundle(objects)

"""What-if edits on an FBAS (nodes offline, quorum sets changed) and the before/after diff of the headline figures.

Edits never change the FBAS they are given: each returns a new one, so a list of edits can be replayed (undo is
"replay all but the last").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from core import safejson
from core.fbas.model import SENTINEL_THRESHOLD, Fbas, FbasFormatError, Node, QuorumSet, loads
from core.fbas.results import HEADLINES

MAX_QSET_TEXT = 1 * 2**20  # a pasted quorum set
MAX_QSET_DEPTH = 16  # JSON nesting of a pasted quorum set (4 levels of quorum sets need 9)


@dataclass(frozen=True)
class Offline:
    """Nodes that stop participating: they keep their entry but have no quorum set (never in a quorum)."""

    keys: tuple[str, ...]

    def describe(self) -> str:
        return f"{len(self.keys)} node(s) offline"


@dataclass(frozen=True)
class SetQuorumSet:
    """A node's quorum set replaced."""

    key: str
    qset: QuorumSet

    def describe(self) -> str:
        return f"quorum set of {self.key[:8]}… changed"


@dataclass(frozen=True)
class RemoveNodes:
    """Nodes deleted from the FBAS; quorum sets that name them treat them as unknown (never present)."""

    keys: tuple[str, ...]

    def describe(self) -> str:
        return f"{len(self.keys)} node(s) removed"


@dataclass(frozen=True)
class AddNode:
    """A new validator with a quorum set, optionally in an organization."""

    key: str
    qset: QuorumSet
    organization: str | None = None

    def describe(self) -> str:
        return f"node {self.key[:12]} added"


Edit = Offline | SetQuorumSet | RemoveNodes | AddNode


def apply_edits(fbas: Fbas, edits: list[Edit]) -> Fbas:
    """The FBAS after every edit in order."""
    nodes = dict(fbas.nodes)
    organizations = dict(fbas.organizations)
    for edit in edits:
        if isinstance(edit, Offline):
            for key in edit.keys:
                if key in nodes:
                    nodes[key] = replace(nodes[key], qset=None)
        elif isinstance(edit, RemoveNodes):
            for key in edit.keys:
                nodes.pop(key, None)
                organizations.pop(key, None)
        elif isinstance(edit, AddNode):
            if edit.key in nodes:
                raise FbasFormatError(f"A node {edit.key!r} exists already.")
            # a node the analyst adds is taken to validate and to publish a working history archive
            nodes[edit.key] = Node(
                edit.key, edit.qset, edit.key, {"isValidating": True, "historyArchiveHasError": False}
            )
            if edit.organization:
                organizations[edit.key] = edit.organization
        else:
            if edit.key not in nodes:
                raise FbasFormatError(f"There is no node {edit.key!r} to edit.")
            nodes[edit.key] = replace(nodes[edit.key], qset=edit.qset)
    return Fbas(nodes=nodes, organizations=organizations, warnings=fbas.warnings)


def offline_nodes(edits: list[Edit]) -> frozenset[str]:
    """Nodes an edit took offline and no later edit brought back (a new quorum set) or removed."""
    offline: set[str] = set()
    for edit in edits:
        if isinstance(edit, Offline):
            offline |= set(edit.keys)
        elif isinstance(edit, RemoveNodes):
            offline -= set(edit.keys)
        else:
            offline.discard(edit.key)
    return frozenset(offline)


def scenario_payload(base: Fbas, edits: list[Edit], source: str) -> str:
    """A saved scenario: the unedited FBAS (stellarbeat JSON, organizations) and the edits, replayable later."""
    encoded = [_encode(e) for e in edits]
    return json.dumps(
        {"source": source, "nodes": to_stellarbeat_json(base), "organizations": base.organizations, "edits": encoded}
    )


def scenario_from_payload(payload: str) -> tuple[Fbas, list[Edit], str]:
    """The unedited FBAS, its edits and where it came from, from `scenario_payload`'s JSON."""
    data = json.loads(payload)
    base = loads(data["nodes"])
    base.organizations.update(data["organizations"])
    return base, [_decode(e) for e in data["edits"]], data["source"]


def _encode(edit: Edit) -> dict[str, Any]:
    if isinstance(edit, Offline | RemoveNodes):
        return {"kind": type(edit).__name__, "keys": list(edit.keys)}
    extra = {"organization": edit.organization} if isinstance(edit, AddNode) else {}
    return {"kind": type(edit).__name__, "key": edit.key, "qset": edit.qset.to_json(), **extra}


def _decode(raw: dict[str, Any]) -> Edit:
    kind = raw["kind"]
    if kind in ("Offline", "RemoveNodes"):
        return (Offline if kind == "Offline" else RemoveNodes)(tuple(raw["keys"]))
    qset = _qset(raw["qset"], 1)
    return AddNode(raw["key"], qset, raw.get("organization")) if kind == "AddNode" else SetQuorumSet(raw["key"], qset)


def qset_from_json(text: str) -> QuorumSet:
    """A quorum set from `{"threshold", "validators", "innerQuorumSets"}` JSON, checked; FbasFormatError if bad."""
    try:
        raw = safejson.loads(text, what="The quorum set", max_bytes=MAX_QSET_TEXT, max_depth=MAX_QSET_DEPTH)
    except safejson.JsonInputError as exc:
        raise FbasFormatError(str(exc)) from None
    return _qset(raw, 1)


def _qset(raw: Any, depth: int) -> QuorumSet:
    if not isinstance(raw, dict):
        raise FbasFormatError("A quorum set must be an object with threshold, validators and innerQuorumSets.")
    threshold, validators = raw.get("threshold"), raw.get("validators", [])
    inner = raw.get("innerQuorumSets", [])
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise FbasFormatError("The threshold must be a whole number of at least 1.")
    if threshold > SENTINEL_THRESHOLD:
        raise FbasFormatError(f"The threshold must be at most {SENTINEL_THRESHOLD:,}.")
    if not isinstance(validators, list) or not all(isinstance(v, str) for v in validators):
        raise FbasFormatError("'validators' must be a list of public keys.")
    if not isinstance(inner, list) or depth > 4:
        raise FbasFormatError("'innerQuorumSets' must be a list (at most 4 levels deep).")
    qset = QuorumSet(threshold, tuple(validators), tuple(_qset(c, depth + 1) for c in inner))
    if threshold > qset.size:
        raise FbasFormatError(f"Threshold {threshold} is larger than the {qset.size} members: it could never be met.")
    return qset


def to_stellarbeat_json(fbas: Fbas) -> str:
    """The FBAS as a stellarbeat nodes list (metadata kept, quorum sets as edited)."""
    nodes = []
    for key, node in fbas.nodes.items():
        entry = {k: v for k, v in node.attrs.items() if k != "quorumSet"}
        entry["publicKey"] = key
        if node.name is not None:
            entry.setdefault("name", node.name)
        entry["quorumSet"] = node.qset.to_json() if node.qset is not None else None
        nodes.append(entry)
    return json.dumps(nodes, indent=1)


def diff_frame(before: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    """Before → after for every headline figure, flagging the ones that changed."""
    return pd.DataFrame(
        {
            "figure": [label for _, label in HEADLINES],
            "before": [str(before[key]) for key, _ in HEADLINES],
            "after": [str(after[key]) for key, _ in HEADLINES],
            "changed": ["yes" if before[key] != after[key] else "" for key, _ in HEADLINES],
        }
    )


def organization_inner_set(members: list[str]) -> QuorumSet:
    """An inner quorum set of an organization's nodes needing a simple majority of them (stellar-core's habit)."""
    if not members:
        raise FbasFormatError("An organization's inner set needs at least one node.")
    return QuorumSet(len(members) // 2 + 1, tuple(sorted(members)))


def organization_members(fbas: Fbas) -> dict[str, list[str]]:
    """Organization name -> its nodes in this FBAS."""
    members: dict[str, list[str]] = {}
    for key in fbas.nodes:
        org = fbas.organizations.get(key)
        if org is not None:
            members.setdefault(org, []).append(key)
    return members


def node_label(fbas: Fbas, key: str) -> str:
    """A readable label: the node's name (or short key) and its organization."""
    node = fbas.nodes.get(key)
    name = (node.name if node and node.name else None) or f"{key[:6]}…{key[-4:]}"
    org = fbas.organizations.get(key)
    return f"{name} ({org})" if org and org not in name else name


def validators_of(fbas: Fbas) -> list[str]:
    """Keys of the nodes with a quorum set, by label."""
    return sorted(fbas.validators, key=lambda k: node_label(fbas, k).lower())


def sets_frame(fbas: Fbas, sets: list[list[str]], merge: str) -> pd.DataFrame:
    """Sets of nodes (or groups) as a table: size and members, nodes shown by name."""

    def name(member: str) -> str:
        return node_label(fbas, member) if merge == "node" else member

    return pd.DataFrame({"size": [len(s) for s in sets], "members": [", ".join(sorted(map(name, s))) for s in sets]})

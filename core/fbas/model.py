"""The FBAS data model: nodes with quorum sets and metadata, read from stellarbeat or python-fbas JSON.

Loading never fails on odd but readable data: every oddity becomes a `DataWarning` (code, node, message) in
`Fbas.warnings`, and the data is kept as written. Input that is not an FBAS at all raises `FbasFormatError`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core import safejson
from core.errors import CtasError

SENTINEL_THRESHOLD = 9007199254740991  # 2**53 - 1: stellarbeat's "no quorum set" marker
MAX_NESTING = 4
MAX_FILE_BYTES = 64 * 2**20


class FbasFormatError(CtasError, ValueError):
    """The input is not an FBAS in a known format; the message says what is wrong."""


@dataclass(frozen=True)
class QuorumSet:
    """Threshold over validators (public keys) and inner quorum sets."""

    threshold: int
    validators: tuple[str, ...] = ()
    inner: tuple[QuorumSet, ...] = ()

    @property
    def size(self) -> int:
        return len(self.validators) + len(self.inner)

    def members(self) -> set[str]:
        """Every validator named at any depth."""
        found = set(self.validators)
        for child in self.inner:
            found |= child.members()
        return found

    def depth(self) -> int:
        return 1 + max((child.depth() for child in self.inner), default=0)

    def to_json(self) -> dict:
        return {
            "threshold": self.threshold,
            "validators": list(self.validators),
            "innerQuorumSets": [child.to_json() for child in self.inner],
        }


@dataclass(frozen=True)
class Node:
    """A node: its public key, quorum set (None when it has none) and the metadata used for grouping."""

    public_key: str
    qset: QuorumSet | None
    name: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def field(self, key: str) -> str | None:
        """A grouping value: organization, country, isp, or any top-level attribute such as homeDomain."""
        if key == "country":
            geo = self.attrs.get("geoData") or {}
            return geo.get("countryName") or geo.get("countryCode")
        value = self.attrs.get({"organization": "organizationId"}.get(key, key))
        return None if value is None else str(value)

    @property
    def is_validating(self) -> bool | None:
        value = self.attrs.get("isValidating")
        return None if value is None else bool(value)


@dataclass(frozen=True)
class DataWarning:
    """A data-quality finding: a stable code, the node it concerns (if any) and a readable message."""

    code: str
    node: str | None
    message: str


@dataclass
class Fbas:
    """A federated Byzantine agreement system: nodes by public key, organizations, and the warnings of loading."""

    nodes: dict[str, Node]
    organizations: dict[str, str] = field(default_factory=dict)  # validator public key -> organization name
    warnings: list[DataWarning] = field(default_factory=list)

    @property
    def validators(self) -> list[str]:
        """Public keys of nodes with a quorum set."""
        return [key for key, node in self.nodes.items() if node.qset is not None]

    def group_of(self, key: str, merge_by: str) -> str | None:
        """The group name of a node under a grouping ("node" is the node itself).

        ISP names are normalised as the stellarbeat scanner does (commas dropped, a trailing period stripped), so
        "amazon.com, Inc" and "amazon.com Inc." are the one ISP "amazon.com Inc".
        """
        node = self.nodes.get(key)
        if merge_by == "node" or node is None:
            return key
        if merge_by == "organization":  # membership comes from the organizations file, as in the scanner
            return self.organizations.get(key)
        value = node.field(merge_by)
        if value is None:
            return None
        if merge_by == "isp":
            return value.replace(",", "").strip().removesuffix(".").strip()
        return value


def loads(nodes_text: str | bytes, organizations_text: str | bytes | None = None) -> Fbas:
    """An FBAS from JSON text: stellarbeat nodes (with optional organizations) or python-fbas format."""
    data = _parse(nodes_text, "nodes")
    organizations = _parse(organizations_text, "organizations") if organizations_text else None
    if isinstance(data, dict) and "validators" in data and "qsets" in data:
        fbas = _from_python_fbas(data)
    elif isinstance(data, list):
        fbas = _from_stellarbeat(data)
    else:
        raise FbasFormatError(
            "Expected a stellarbeat nodes list or a python-fbas object with 'validators' and 'qsets'."
        )
    if organizations is not None:
        _add_organizations(fbas, organizations)
    fbas.warnings.extend(_validate(fbas))
    return fbas


def _parse(text: str | bytes, what: str) -> Any:
    try:
        return safejson.loads(text, what=f"The {what} file", max_bytes=MAX_FILE_BYTES)
    except safejson.JsonInputError as exc:
        raise FbasFormatError(str(exc)) from None


def _strings(value: Any, what: str, owner: str) -> tuple[str, ...]:
    """A JSON list of strings, or FbasFormatError."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FbasFormatError(f"{what} of {owner} must be a list of strings.")
    return tuple(value)


def _from_stellarbeat(items: list) -> Fbas:
    if not items:
        raise FbasFormatError("The nodes list is empty.")
    fbas = Fbas(nodes={})
    for position, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("publicKey"), str):
            raise FbasFormatError(f"Node {position} has no 'publicKey' string.")
        key = item["publicKey"]
        raw = item.get("quorumSet")
        qset = None if raw is None else _qset(raw, key, fbas.warnings, 1)
        if raw is None:
            fbas.warnings.append(DataWarning("missing-qset", key, "The node has no quorum set (quorumSet null)."))
        attrs = {k: v for k, v in item.items() if k != "quorumSet"}
        if not isinstance(attrs.get("geoData") or {}, dict):
            raise FbasFormatError(f"'geoData' of {key} must be an object.")
        name = item.get("name")
        _add_node(fbas, Node(key, qset, name if isinstance(name, str) else None, attrs))
    return fbas


def _from_python_fbas(data: dict) -> Fbas:
    qsets = data["qsets"]
    if not isinstance(qsets, dict) or not isinstance(data["validators"], list) or not data["validators"]:
        raise FbasFormatError("python-fbas format needs a non-empty 'validators' list and a 'qsets' object.")
    fbas = Fbas(nodes={})

    def build(ref: str, owner: str, depth: int) -> QuorumSet:
        raw = qsets.get(ref) if isinstance(ref, str) else None
        if not isinstance(raw, dict) or depth > MAX_NESTING + 4:
            raise FbasFormatError(f"Quorum set {ref!r} of {owner} is missing or nested too deeply.")
        members = _strings(raw.get("members", []), "The members", owner)
        validators = tuple(m for m in members if m not in qsets)
        inner = tuple(build(m, owner, depth + 1) for m in members if m in qsets)
        return _qset(
            {"threshold": raw.get("threshold"), "validators": validators, "innerQuorumSets": []},
            owner,
            fbas.warnings,
            depth,
            inner,
        )

    for position, item in enumerate(data["validators"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise FbasFormatError(f"Validator {position} has no 'id' string.")
        key = item["id"]
        ref = item.get("qset")
        qset = build(ref, key, 1) if ref is not None else None
        if qset is None:
            fbas.warnings.append(DataWarning("missing-qset", key, "The validator has no quorum set."))
        attrs = item.get("attrs") or {}
        if not isinstance(attrs, dict) or not isinstance(attrs.get("geoData") or {}, dict):
            raise FbasFormatError(f"The attributes of {key} must be an object (with geoData an object).")
        name = attrs.get("name")
        _add_node(fbas, Node(key, qset, name if isinstance(name, str) else None, attrs))
    return fbas


def _qset(
    raw: Any, owner: str, warnings: list[DataWarning], depth: int, inner: tuple[QuorumSet, ...] | None = None
) -> QuorumSet | None:
    if not isinstance(raw, dict):
        raise FbasFormatError(f"The quorum set of {owner} is not an object.")
    threshold = raw.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise FbasFormatError(f"The quorum set of {owner} has no integer threshold.")
    if abs(threshold) > SENTINEL_THRESHOLD:
        raise FbasFormatError(
            f"The quorum set of {owner} has threshold {threshold}, beyond ±{SENTINEL_THRESHOLD:,} (2^53 - 1, the "
            "largest integer JSON tools read exactly)."
        )
    validators = (
        _strings(raw.get("validators") or None, "The validators", owner)
        if inner is None
        else tuple(raw.get("validators") or ())
    )
    if inner is None:
        if "innerQuorumSets" not in raw:
            warnings.append(DataWarning("no-inner-key", owner, "A quorum set lacks 'innerQuorumSets' (read as none)."))
        children = raw.get("innerQuorumSets") or []
        if not isinstance(children, list) or depth > MAX_NESTING + 4:
            raise FbasFormatError(f"'innerQuorumSets' of {owner} must be a list, nested at most {MAX_NESTING} deep.")
        inner = tuple(q for q in (_qset(c, owner, warnings, depth + 1) for c in children) if q)
    if threshold == SENTINEL_THRESHOLD and not validators and not inner:
        warnings.append(DataWarning("sentinel-threshold", owner, "Empty quorum set with the 'no qset' threshold."))
        return None
    size = len(validators) + len(inner)
    if threshold > size:
        warnings.append(
            DataWarning("threshold-too-high", owner, f"Threshold {threshold} exceeds the {size} members: never met.")
        )
    elif threshold < 1:
        warnings.append(DataWarning("threshold-below-one", owner, f"Threshold {threshold}: always met."))
    duplicates = [v for v, n in Counter(validators).items() if n > 1]
    if duplicates:
        warnings.append(DataWarning("duplicate-member", owner, f"Listed more than once: {', '.join(duplicates)}."))
    if depth > MAX_NESTING:
        warnings.append(DataWarning("deep-nesting", owner, f"Quorum sets nested {depth} levels deep."))
    return QuorumSet(threshold, validators, inner)


def _add_node(fbas: Fbas, node: Node) -> None:
    if node.public_key in fbas.nodes:
        fbas.warnings.append(DataWarning("duplicate-node", node.public_key, "Listed twice; the first entry is kept."))
        return
    fbas.nodes[node.public_key] = node


def _add_organizations(fbas: Fbas, organizations: Any) -> None:
    if not isinstance(organizations, list):
        raise FbasFormatError("The organizations file must be a list of {id, name, validators}.")
    for org in organizations:
        if not isinstance(org, dict) or org.get("id") is None:
            raise FbasFormatError("Each organization needs an 'id' (and 'name', 'validators').")
        for key in _strings(org.get("validators"), "The validators", f"organization {org['id']}"):
            fbas.organizations[key] = str(org.get("name") or org["id"])


def _validate(fbas: Fbas) -> list[DataWarning]:
    """Warnings that need the whole FBAS: members that are not nodes of the file."""
    found = []
    for key, node in fbas.nodes.items():
        if node.qset is None:
            continue
        unknown = sorted(m for m in node.qset.members() if m not in fbas.nodes)
        if unknown:
            found.append(
                DataWarning("unknown-validator", key, f"Its quorum set names {len(unknown)} unknown validator(s).")
            )
    return found

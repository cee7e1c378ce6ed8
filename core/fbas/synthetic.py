"""Synthetic FBASs as stellarbeat nodes lists, for benchmarks and tests (each reproducible from its seed).

- `almost_symmetric`: like the Stellar top tier, organizations of three validators each. Every validator's quorum
  set asks for a two-thirds majority of organizations, each organization counting when two of its three validators
  agree (Stellar's recommended structure). "Almost": a few random deletions drop single validators from single
  quorum sets, breaking the symmetry that fast algorithms like to exploit.
- `sybil_network`: a small honest core of that shape, surrounded by sybil nodes that trust one another (and, as
  configured, the core), and that the core may trust in turn.
- `realistic_network`: the shape of a grown network: a top tier of organizations of 3 to 7 validators, more
  organizations that trust the top tier, and watchers (nodes that trust the top tier and that nobody trusts).
"""

from __future__ import annotations

import math
import random


def almost_symmetric(organizations: int, *, per_org: int = 3, deletions: int = 0, seed: int = 0) -> list[dict]:
    """A stellarbeat nodes list with `organizations` organizations of `per_org` validators."""
    if organizations < 1 or per_org < 1 or deletions < 0:
        raise ValueError("organizations and per_org must be positive, deletions not negative")
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not cryptography)
    keys = [[f"ORG{o:02d}_V{v}" for v in range(per_org)] for o in range(organizations)]
    inner_threshold = per_org // 2 + 1
    outer_threshold = math.ceil(2 * organizations / 3)
    nodes = []
    for o, members in enumerate(keys):
        for key in members:
            inner = [{"threshold": inner_threshold, "validators": list(group), "innerQuorumSets": []} for group in keys]
            nodes.append(
                {
                    "publicKey": key,
                    "name": key,
                    "organizationId": f"org{o:02d}",
                    "isValidating": True,
                    "quorumSet": {"threshold": outer_threshold, "validators": [], "innerQuorumSets": inner},
                }
            )
    for _ in range(deletions):
        node = rng.choice(nodes)
        group = rng.choice(node["quorumSet"]["innerQuorumSets"])
        if len(group["validators"]) > group["threshold"]:
            group["validators"].remove(rng.choice(group["validators"]))
    return nodes


def _organization_qset(members: list[str]) -> dict:
    return {"threshold": len(members) // 2 + 1, "validators": list(members), "innerQuorumSets": []}


def _node(key: str, organization: str, qset: dict) -> dict:
    return {"publicKey": key, "name": key, "organizationId": organization, "isValidating": True, "quorumSet": qset}


def sybil_network(
    core_organizations: int,
    sybils: int,
    *,
    sybil_peers: int = 6,
    sybil_threshold: float = 0.6,
    sybils_trust_core: int = 0,
    core_trusts_sybils: int = 0,
    seed: int = 0,
) -> list[dict]:
    """An honest core of `core_organizations` organizations of three validators (two-thirds of organizations, two of
    three validators each) and `sybils` sybil nodes. Each sybil names `sybil_peers` other sybils at random and
    `sybils_trust_core` core organizations, and needs `sybil_threshold` of them; each core validator also names
    `core_trusts_sybils` sybils at random, as one more entry of its quorum set."""
    if core_organizations < 1 or sybils < 0 or not 0 < sybil_threshold <= 1:
        raise ValueError("core_organizations positive, sybils not negative, sybil_threshold in (0, 1]")
    if sybils and not 1 <= sybil_peers < sybils:
        raise ValueError("sybil_peers must be at least 1 and fewer than the sybils")
    if not 0 <= sybils_trust_core <= core_organizations or core_trusts_sybils < 0:
        raise ValueError("sybils_trust_core in [0, core_organizations], core_trusts_sybils not negative")
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not cryptography)
    core = [[f"CORE{o:02d}_V{v}" for v in range(3)] for o in range(core_organizations)]
    sybil_keys = [f"SYBIL{s:03d}" for s in range(sybils)]
    nodes = []
    for o, members in enumerate(core):
        for key in members:
            inner = [_organization_qset(group) for group in core]
            validators = rng.sample(sybil_keys, min(core_trusts_sybils, sybils))
            threshold = math.ceil(2 * (len(inner) + len(validators)) / 3)
            qset = {"threshold": threshold, "validators": validators, "innerQuorumSets": inner}
            nodes.append(_node(key, f"core{o:02d}", qset))
    for index, key in enumerate(sybil_keys):
        peers = rng.sample(sybil_keys[:index] + sybil_keys[index + 1 :], sybil_peers)
        inner = [_organization_qset(group) for group in rng.sample(core, sybils_trust_core)]
        threshold = max(1, math.ceil(sybil_threshold * (len(peers) + len(inner))))
        nodes.append(
            _node(key, f"sybil{index:03d}", {"threshold": threshold, "validators": peers, "innerQuorumSets": inner})
        )
    return nodes


def realistic_network(validators: int, *, top_tier: int = 30, seed: int = 0) -> list[dict]:
    """`validators` nodes: organizations of 3 to 7 validators, up to about `top_tier` validators in all, form the top
    tier (two-thirds of its organizations, a majority of each); the rest are watchers, in organizations of five,
    that trust the top tier the same way and whom nobody trusts."""
    if validators < 3 or not 3 <= top_tier <= validators:
        raise ValueError("at least 3 validators, and a top tier of 3 to all of them")
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not cryptography)
    organizations: list[list[str]] = []
    count = 0
    while count < top_tier:
        size = min(rng.randint(3, 7), validators - count)
        organizations.append([f"TOP{len(organizations):02d}_V{v}" for v in range(size)])
        count += size
    tier_qset = {
        "threshold": math.ceil(2 * len(organizations) / 3),
        "validators": [],
        "innerQuorumSets": [_organization_qset(members) for members in organizations],
    }
    nodes = [_node(key, f"top{o:02d}", tier_qset) for o, members in enumerate(organizations) for key in members]
    nodes += [_node(f"WATCHER{i:04d}", f"watchers{i // 5:03d}", tier_qset) for i in range(validators - count)]
    return nodes

"""Synthetic "almost symmetric" FBASs, like the Stellar top tier: organizations of three validators each.

Every validator's quorum set asks for a two-thirds majority of organizations, each organization counting when
two of its three validators agree (Stellar's recommended structure). "Almost": a few random deletions drop single
validators from single quorum sets, breaking the symmetry that fast algorithms like to exploit.
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

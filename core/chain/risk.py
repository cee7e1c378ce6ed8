"""Double-spend risk: the probability that an attacker with a share `q` of the hash rate ever overtakes a chain in
which the merchant waited for `z` confirmations, in three models.

- `nakamoto`: the whitepaper's section 11 (the attacker's progress while the honest chain finds z blocks taken as
  Poisson with mean z·q/p). It reproduces the published table exactly but understates the risk.
- `rosenfeld`: Rosenfeld's exact analysis (2014): the attacker's progress is negative binomial.
- `closed_form`: Grunspan and Pérez-Marco (2018): the same exact probability as a regularised incomplete beta
  function, P = I_{4pq}(z, 1/2); it equals `rosenfeld` to rounding.

Every model gives 1 when q >= 1/2 (the attacker wins eventually) and when z = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import special

from core.errors import CtasError

DEFAULT_RISK = 0.001
MAX_DEPTH = 100_000


class RiskInputError(CtasError, ValueError):
    """A share or depth outside what the models accept."""


def _checked(q: float, z: int) -> tuple[float, int]:
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q) or not 0 <= q <= 1:
        raise RiskInputError(f"The attacker's share must be a number from 0 to 1, not {q!r}.")
    if isinstance(z, bool) or not isinstance(z, int) or not 0 <= z <= MAX_DEPTH:
        raise RiskInputError(f"The depth must be a whole number of confirmations from 0 to {MAX_DEPTH:,}, not {z!r}.")
    return float(q), z


def _certain(q: float, z: int) -> float | None:
    """1 where every model gives certainty (a majority attacker, or no confirmation), 0 for an attacker without hash
    rate, None otherwise."""
    if q >= 0.5 or z == 0:
        return 1.0
    return 0.0 if q == 0 else None


def nakamoto(q: float, z: int) -> float:
    """Nakamoto's attacker success probability, 1 - sum_k Poisson(k; zq/p) (1 - (q/p)^(z-k)), computed without the
    cancellation of "1 - sum" as P(Poisson > z) + sum_k Poisson(k) (q/p)^(z-k), so tiny risks stay exact."""
    q, z = _checked(q, z)
    if (certain := _certain(q, z)) is not None:
        return certain
    p = 1.0 - q
    lam = z * q / p
    total = float(special.gammainc(z + 1, lam))  # P(Poisson(lam) > z)
    for k in range(z + 1):
        total += math.exp(k * math.log(lam) - lam - math.lgamma(k + 1) + (z - k) * math.log(q / p))
    return min(1.0, total)


def rosenfeld(q: float, z: int) -> float:
    """Rosenfeld's exact probability, 1 - sum_{m=0..z} C(m+z-1, m) (p^z q^m - p^m q^z), computed without the
    cancellation of "1 - sum" as P(NegBin > z) + sum_m C(m+z-1, m) q^z p^m."""
    q, z = _checked(q, z)
    if (certain := _certain(q, z)) is not None:
        return certain
    p = 1.0 - q
    total = float(special.betainc(z + 1, z, q))  # P(attacker finds more than z blocks while honest miners find z)
    for m in range(z + 1):
        log_choose = math.lgamma(m + z) - math.lgamma(m + 1) - math.lgamma(z)
        total += math.exp(log_choose + z * math.log(q) + m * math.log(p))
    return min(1.0, total)


def closed_form(q: float, z: int) -> float:
    """Grunspan and Pérez-Marco's closed form: the regularised incomplete beta function I_{4pq}(z, 1/2)."""
    q, z = _checked(q, z)
    if (certain := _certain(q, z)) is not None:
        return certain
    return float(special.betainc(z, 0.5, 4.0 * q * (1.0 - q)))


MODELS: dict[str, Callable[[float, int], float]] = {
    "Nakamoto": nakamoto,
    "Rosenfeld": rosenfeld,
    "closed form": closed_form,
}


def safe_depth(model: str, q: float, risk: float = DEFAULT_RISK) -> int | None:
    """The fewest confirmations z with success probability below `risk` under `model`; None when there is none
    (q >= 1/2) or it would exceed MAX_DEPTH. The probability falls monotonically in z, so a doubling then a
    bisection finds it."""
    if model not in MODELS:
        raise RiskInputError(f"Unknown model {model!r}; use one of {', '.join(MODELS)}.")
    if isinstance(risk, bool) or not isinstance(risk, (int, float)) or not 0 < risk < 1:
        raise RiskInputError(f"The accepted risk must be a number strictly between 0 and 1, not {risk!r}.")
    probability = MODELS[model]
    _checked(q, 0)
    if q >= 0.5:
        return None
    high = 1
    while probability(q, high) >= risk:
        if high >= MAX_DEPTH:
            return None
        high = min(2 * high, MAX_DEPTH)
    low = high // 2  # probability(q, low) >= risk, or low == 0 where every model gives 1
    while high - low > 1:
        middle = (low + high) // 2
        if probability(q, middle) < risk:
            high = middle
        else:
            low = middle
    return high


def probability_table(shares: list[float], depths: list[int]) -> list[dict[str, float]]:
    """One row per (share, depth): the success probability under every model."""
    return [{"q": q, "z": z, **{name: model(q, z) for name, model in MODELS.items()}} for q in shares for z in depths]


def depth_table(shares: list[float], risk: float = DEFAULT_RISK) -> list[dict[str, object]]:
    """One row per share: the depth each model requires for a success probability below `risk`."""
    return [{"q": q, **{name: safe_depth(name, q, risk) for name in MODELS}} for q in shares]

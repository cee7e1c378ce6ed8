"""Double-spend risk: the whitepaper's table and depths, Rosenfeld's depths, and the models' properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.chain.risk import MODELS, RiskInputError, closed_form, depth_table, nakamoto, rosenfeld, safe_depth

# Nakamoto (2008), section 11: P for q = 0.1, z = 0..10 and q = 0.3, z = 0..50 step 5, printed to 7 decimals.
WHITEPAPER = {
    0.1: dict(zip(range(11), (1.0, 0.2045873, 0.0509779, 0.0131722, 0.0034552, 0.0009137, 0.0002428, 0.0000647,
                              0.0000173, 0.0000046, 0.0000012), strict=True)),
    0.3: dict(zip(range(0, 51, 5), (1.0, 0.1773523, 0.0416605, 0.0101008, 0.0024804, 0.0006132, 0.0001522,
                                    0.0000379, 0.0000095, 0.0000024, 0.0000006), strict=True)),
}  # fmt: skip
SHARES = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45]
NAKAMOTO_DEPTHS = [5, 8, 11, 15, 24, 41, 89, 340]  # the whitepaper's "solving for P less than 0.1%"
ROSENFELD_DEPTHS = [6, 9, 13, 20, 32, 58, 133, 539]  # Rosenfeld (2014), table for P < 0.1%
shares = st.floats(0.001, 0.499)
depths = st.integers(0, 400)


def test_the_whitepaper_table_reproduces_to_seven_decimals() -> None:
    values = [(q, z, p) for q, row in WHITEPAPER.items() for z, p in row.items()]
    assert len(values) == 22
    assert [round(nakamoto(q, z), 7) for q, z, _ in values] == [p for _, _, p in values]


def test_depths_for_one_in_a_thousand_match_nakamoto_and_rosenfeld() -> None:
    table = depth_table(SHARES)
    assert [row["Nakamoto"] for row in table] == NAKAMOTO_DEPTHS
    assert [row["Rosenfeld"] for row in table] == ROSENFELD_DEPTHS
    assert [row["closed form"] for row in table] == ROSENFELD_DEPTHS


def test_rosenfeld_gives_the_larger_risk_the_issue_quotes() -> None:
    assert round(rosenfeld(0.1, 6), 6) == 0.000591
    assert round(nakamoto(0.1, 6), 6) == 0.000243


@given(shares, depths)
def test_the_closed_form_equals_rosenfeld_even_for_tiny_risks(q: float, z: int) -> None:
    exact = closed_form(q, z)
    assert rosenfeld(q, z) == pytest.approx(exact, rel=1e-9, abs=1e-300)


@given(shares, depths, st.sampled_from(list(MODELS)))
def test_every_model_falls_with_depth_and_rises_with_share(q: float, z: int, model: str) -> None:
    probability = MODELS[model]
    assert 0 <= probability(q, z + 1) <= probability(q, z) * (1 + 1e-12)
    assert probability(q, z) <= 1
    assert probability(min(q + 0.01, 0.499), z) >= probability(q, z) * (1 - 1e-12)


@given(st.floats(0.5, 1.0), depths, st.sampled_from(list(MODELS)))
def test_a_majority_attacker_always_wins(q: float, z: int, model: str) -> None:
    assert MODELS[model](q, z) == 1.0
    assert safe_depth(model, q) is None


@given(shares, st.sampled_from(list(MODELS)))
def test_every_model_gives_certainty_with_no_confirmation(q: float, model: str) -> None:
    assert MODELS[model](q, 0) == 1.0


@given(st.floats(0.001, 0.45), st.sampled_from(list(MODELS)), st.sampled_from([1e-3, 1e-4, 1e-6]))
def test_a_safe_depth_is_the_first_below_the_risk(q: float, model: str, risk: float) -> None:
    depth = safe_depth(model, q, risk)
    probability = MODELS[model]
    assert probability(q, depth) < risk <= probability(q, depth - 1)


@pytest.mark.parametrize(
    ("q", "z"), [(-0.1, 1), (1.5, 1), (float("nan"), 1), ("0.1", 1), (True, 1), (0.1, -1), (0.1, 1.5), (0.1, 10**9)]
)
def test_bad_shares_and_depths_are_refused(q: object, z: object) -> None:
    for model in MODELS.values():
        with pytest.raises(RiskInputError):
            model(q, z)

"""Issue 15 item 6: the Teitz–Bart heuristic under the exact model's rules, and least shortage."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from schoolplan.optimize import (
    InfeasibleError,
    LocationModel,
    ModelInputError,
    optimality_gap,
    solve_heuristic,
)


def _costs(pairs: dict, group: str) -> pd.DataFrame:
    return pd.DataFrame([{"from_id": v, "to_id": s, "group": group, "distance_m": float(m),
                          "time_s": m / 1.0, "mode": "walk"} for (v, s), m in pairs.items()])


def _two_towns():
    """As in test_optimize: without the town rule J1 + J3 are best; with it J2 must be open."""
    costs = _costs({("V1", "J1"): 1000, ("V1", "J3"): 2500, ("V1", "J2"): 4000,
                    ("V2", "J2"): 5000, ("V2", "J1"): 6000,
                    ("V3", "J3"): 500, ("V3", "J1"): 1500}, "g7_9")
    groups = pd.DataFrame({"demand_id": ["V1", "V2", "V3"], "group": "g7_9",
                           "pupils": [100.0, 10.0, 200.0]})
    schools = pd.DataFrame({"school_id": ["J1", "J3", "J2"], "level": "junior",
                            "town_code": ["T1", "T1", "T2"], "seats_primary": np.nan,
                            "seats_junior": np.nan})
    return LocationModel.from_costs(costs, groups, schools, ["T1", "T2"])


def test_heuristic_keeps_a_junior_school_per_town():
    m = solve_heuristic(_two_towns(), p=2, junior_school_per_town=False)
    assert set(m.open_schools.index) == {"J1", "J3"}
    assert m.total_cost == pytest.approx(100 * 1000 + 10 * 6000 + 200 * 500)
    m = solve_heuristic(_two_towns(), p=2)
    assert set(m.open_schools.index) == {"J2", "J3"}  # the exact model's answer
    assert m.total_cost == pytest.approx(100 * 2500 + 10 * 5000 + 200 * 500)
    assert m.status == "heuristic" and m.shortage_pupils == 0
    assert (m.assignments["method"] == "optimised").all()


def test_heuristic_respects_must_keep_and_must_close():
    m = solve_heuristic(_two_towns(), p=2, must_keep=["J1"], junior_school_per_town=False)
    assert "J1" in m.open_schools.index and len(m.open_schools) == 2
    m = solve_heuristic(_two_towns(), p=2, must_close=["J3"], junior_school_per_town=False)
    assert set(m.open_schools.index) == {"J1", "J2"}


def test_heuristic_raises_what_the_exact_model_raises():
    with pytest.raises(InfeasibleError, match="p=1 is below the 2 towns that each need a school"):
        solve_heuristic(_two_towns(), p=1)
    with pytest.raises(ModelInputError, match="heuristic solves"):
        solve_heuristic(_two_towns(), "min_schools", p=2)
    with pytest.raises(ModelInputError, match="p was None"):
        solve_heuristic(_two_towns())


def _brute_force(cost: np.ndarray, pupils: np.ndarray, p: int) -> float:
    best = np.inf
    for combo in itertools.combinations(range(cost.shape[1]), p):
        nearest = cost[:, list(combo)].min(axis=1)
        if np.isfinite(nearest).all():
            best = min(best, float((pupils * nearest).sum()))
    return best


@pytest.mark.parametrize("seed,p", [(0, 2), (1, 3), (2, 5), (3, 7)])
def test_heuristic_close_to_brute_force(seed, p):
    """Random 30 x 10 instances (all pairs): the heuristic is within 2 % of the optimum found
    by trying every layout, and the gap is what optimality_gap reports."""
    rng = np.random.default_rng(seed)
    xy_v, xy_s = rng.uniform(0, 10_000, (30, 2)), rng.uniform(0, 10_000, (10, 2))
    cost = np.hypot(*(xy_v[:, None, :] - xy_s[None, :, :]).transpose(2, 0, 1)).round()
    pupils = rng.integers(1, 80, 30).astype(float)
    best = _brute_force(cost, pupils, p)
    m = solve_heuristic(LocationModel.from_cost_matrix(cost, pupils), p=p)
    assert len(m.open_schools) == p
    assert best <= m.total_cost <= best * 1.02
    assert optimality_gap(m.total_cost, best) == pytest.approx((m.total_cost - best) / best)


def test_optimality_gap():
    assert optimality_gap(101.0, 100.0) == pytest.approx(0.01)
    assert optimality_gap(0.0, 0.0) == 0.0


# --- least shortage ---------------------------------------------------------------------------
def _short_of_seats():
    """Three villages of 8 pupils, two schools of 10 seats: 4 pupils cannot have a seat."""
    cost = np.array([[100.0, 300.0], [200.0, 250.0], [400.0, 100.0]])
    return LocationModel.from_cost_matrix(cost, [8, 8, 8], seats=[10, 10])


def test_least_shortage_places_the_most_pupils_then_least_travel():
    with pytest.raises(InfeasibleError, match="4 primary pupils more than"):
        _short_of_seats().solve("p_median", p=2)
    m = _short_of_seats().solve("least_shortage")
    assert m.shortage_pupils == pytest.approx(4.0)
    # V0 -> S0 (8 x 100), V2 -> S1 (8 x 100), V1: 2 to S0 (x 200), 2 to S1 (x 250), 4 unplaced
    assert m.total_cost == pytest.approx(800 + 800 + 400 + 500)
    a = m.assignments
    assert a.loc[a["status"] == "no_seat", "pupils"].sum() == pytest.approx(4.0)
    assert a.loc[a["status"] == "no_seat", "demand_id"].tolist() == ["V1"]
    one = _short_of_seats().solve("least_shortage", p=1)
    assert len(one.open_schools) == 1 and one.shortage_pupils == pytest.approx(14.0)


def test_heuristic_reports_a_shortage_instead_of_failing():
    m = solve_heuristic(_short_of_seats(), "least_shortage", p=2)
    assert m.shortage_pupils == pytest.approx(4.0)
    assert m.total_cost == pytest.approx(2500.0)

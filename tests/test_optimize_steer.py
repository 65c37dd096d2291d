"""Issue 14 item 5 (the steerable optimiser) and issue 15 item 6 (the heuristic's fast
assignment): hand-made cases with answers worked out by hand, and relations to the exact model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan.optimize import (
    TRADEOFF_COLUMNS,
    InfeasibleError,
    LocationModel,
    solve_heuristic,
    steer,
    tradeoff_table,
)


def _line(pupils=(10.0, 10.0, 10.0, 10.0), seats=np.nan):
    """Four villages V0..V3 at 0, 1, 2, 3 km on a line and four primary schools S0..S3 at the
    same places; walking 1 m/s, so time in seconds = metres."""
    rows = []
    for i in range(4):
        for j in range(4):
            d = 1000.0 * abs(i - j)
            for g in ("g1_3", "g4_6"):
                rows.append({"from_id": f"V{i}", "to_id": f"S{j}", "group": g, "distance_m": d,
                             "time_s": d, "mode": "walk"})
    groups = pd.DataFrame([{"demand_id": f"V{i}", "group": g, "pupils": pupils[i]}
                           for i in range(4) for g in ("g1_3", "g4_6")])
    schools = pd.DataFrame({"school_id": [f"S{j}" for j in range(4)], "level": "primary",
                            "town_code": "T1", "seats_primary": seats, "seats_junior": np.nan})
    return LocationModel.from_costs(pd.DataFrame(rows), groups, schools, ["T1"])


OFF = {"max_time_g1_3_s": np.inf}


def test_time_cap_per_grade_group_limits_the_layout():
    # p=1 without caps: S1 or S2 (total 2 x 10 x (1+0+1+2) km = 80,000 pupil-m)
    m = _line().solve("p_median", p=1, **OFF)
    assert m.total_cost == pytest.approx(80_000)
    # grades 4-6 within 1,500 s: one school cannot reach both ends (3 km apart) -> p=1 infeasible
    with pytest.raises(InfeasibleError, match=r"grades 4–6 within 25 min"):
        _line().solve("p_median", p=1, max_time_s={"g4_6": 1500.0}, **OFF)
    m = _line().solve("min_schools", max_time_s={"g4_6": 1500.0}, **OFF)
    assert len(m.open_schools) == 2
    got = m.assignments
    assert (got["time_s"] <= 1500.0).all()


def test_added_travel_limit_against_today():
    today = pd.Series({("V0", "g1_3"): 0.0, ("V0", "g4_6"): 0.0, ("V1", "g1_3"): 0.0,
                       ("V1", "g4_6"): 0.0, ("V2", "g1_3"): 0.0, ("V2", "g4_6"): 0.0,
                       ("V3", "g1_3"): 0.0, ("V3", "g4_6"): 0.0})
    # nobody may travel more than 1,000 s more than today (all walk 0 today): every village needs
    # a school within 1 km, so at least 2 schools (S0|S1 and S2|S3 cover pairs)
    m = _line().solve("min_schools", max_added_time_s=1000.0, baseline_time_s=today, **OFF)
    assert len(m.open_schools) == 2
    assert (m.assignments["time_s"] <= 1000.0).all()
    h = solve_heuristic(_line(), p=2, max_added_time_s=1000.0, baseline_time_s=today, **OFF)
    assert (h.assignments["time_s"] <= 1000.0).all()
    assert h.total_cost == pytest.approx(m.total_cost)


def test_keep_one_of_lists_keep_a_school_open():
    # alone, p=1 opens S1 or S2; with {S3} as a cluster of its own, S3 stays open
    m = _line().solve("p_median", p=1, keep_one_of=[["S3"]], **OFF)
    assert list(m.open_schools.index) == ["S3"]
    h = solve_heuristic(_line(), p=2, keep_one_of=[["S0"], ["S3"]], **OFF)
    assert set(h.open_schools.index) == {"S0", "S3"}


def test_close_under_and_clusters_by_hand():
    schools = pd.DataFrame({"school_id": ["A", "B", "C"], "enrollment": [30, 50, 120]})
    assert steer.close_under(schools, 50) == ["B", "C"]
    villages = pd.DataFrame({"x": [0.0, 1500.0, 3000.0, 9000.0, 3100.0],
                             "y": [0.0, 0.0, 0.0, 0.0, 0.0],
                             "town_code": ["T1", "T1", "T1", "T1", "T2"]},
                            index=["a", "b", "c", "d", "e"])
    c = steer.village_clusters(villages, 2000.0)
    assert c["a"] == c["b"] == c["c"]  # chained 1.5 km links
    assert c["d"] != c["a"] and c["e"] != c["c"]  # too far; another town
    today = pd.DataFrame({"demand_id": ["a", "b", "c", "d", "e"], "group": "g1_3",
                          "school_id": ["S1", "S1", "S2", "S3", "S2"],
                          "pupils": [10.0, 10.0, 30.0, 5.0, 1.0]})
    lists = steer.cluster_keep_lists(c, today, {"S1", "S2", "S3"})
    assert sorted(map(sorted, lists)) == [["S1", "S2"], ["S3"]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_assignment_equals_the_exact_assignment_of_the_layout(seed):
    """Random instances: the heuristic's layout assigned by the fast path (nearest open school,
    or the transport when seats bind) costs what the exact model's assignment of it costs."""
    rng = np.random.default_rng(seed)
    n_v, n_s = 40, 12
    v, s = rng.uniform(0, 10_000, (n_v, 2)), rng.uniform(0, 10_000, (n_s, 2))
    d = np.hypot(v[:, None, 0] - s[None, :, 0], v[:, None, 1] - s[None, :, 1])
    pupils = rng.integers(5, 60, n_v).astype(float)
    for seats in (np.nan, pupils.sum() / 7):
        m = LocationModel.from_cost_matrix(d, pupils, seats=np.full(n_s, seats))
        solve_heuristic(m, p=8)
        fast = m.total_cost
        method = m.assign_method
        layout, closed = list(m.open_schools.index), list(m.closed_schools.index)
        m.solve("p_median", p=8, must_keep=layout, must_close=closed)
        assert fast == pytest.approx(m.total_cost, rel=1e-7)
        assert method in ("nearest_open", "transport")
        if np.isnan(seats):
            assert method == "nearest_open"


def test_tradeoff_end_points_are_the_exact_optimiser_results():
    m = _line(pupils=(10.0, 20.0, 30.0, 40.0))
    caps = {"max_time_s": {"g4_6": 2000.0}, **OFF}
    table = tradeoff_table(m, **caps)
    assert list(table.columns) == TRADEOFF_COLUMNS
    fewest = _line(pupils=(10.0, 20.0, 30.0, 40.0)).solve("min_schools", **caps)
    every = _line(pupils=(10.0, 20.0, 30.0, 40.0)).solve("p_median", p=4, **caps)
    first, last = table.iloc[0], table.iloc[-1]
    assert first["schools_open"] == len(fewest.open_schools) == 1
    assert first["total_cost"] == pytest.approx(fewest.total_cost)
    assert last["schools_open"] == 4 and last["total_cost"] == pytest.approx(every.total_cost) == 0
    assert first["method"] == last["method"] == "exact"
    assert set(table["method"].iloc[1:-1]) == {"heuristic"}
    assert table["schools_open"].tolist() == [1, 2, 3, 4]
    # travel falls as schools open; every mean is within the grade 4-6 cap
    assert table["total_cost"].is_monotonic_decreasing
    assert (table["p95_time_min_g4_6"] <= 2000 / 60).all()
    # the mean of the fewest layout by hand: S2 open, g1_3 pupils 10/20/30/40 at 2/1/0/1 km
    assert first["mean_distance_m_g1_3"] == pytest.approx((10 * 2000 + 20 * 1000 + 40 * 1000) / 100)


def test_tradeoff_spreads_the_points_it_solves():
    rng = np.random.default_rng(3)
    d = rng.uniform(100, 5000, (30, 14))
    m = LocationModel.from_cost_matrix(d, rng.integers(5, 50, 30).astype(float))
    table = tradeoff_table(m, max_points=5, **OFF)
    assert len(table) == 5
    assert table["schools_open"].iloc[0] == 1 and table["schools_open"].iloc[-1] == 14
    assert table["schools_open"].is_monotonic_increasing

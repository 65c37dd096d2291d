"""Optimiser: hand-made towns with obvious answers, brute force, and the demo county."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from schoolplan.catchments import ASSIGNMENT_COLUMNS
from schoolplan.errors import MissingColumnError, SchoolplanError
from schoolplan.optimize import InfeasibleError, LocationModel, ModelInputError
from schoolplan.settings import Settings

JUNIOR = ("junior", "nine_year", "complete")


def _costs(pairs: dict, group: str, *, speed_mps: float = 0.8, mode: str = "walk") -> pd.DataFrame:
    """Cost table from {(village, school): metres}; time = metres / speed."""
    return pd.DataFrame([{"from_id": v, "to_id": s, "group": group, "distance_m": float(m),
                          "time_s": m / speed_mps, "mode": mode} for (v, s), m in pairs.items()])


def _groups(pupils: dict, group: str) -> pd.DataFrame:
    return pd.DataFrame({"demand_id": list(pupils), "group": group,
                         "pupils": [float(v) for v in pupils.values()]})


def _schools(rows: list[tuple]) -> pd.DataFrame:
    """rows: (school_id, level, town_code, seats_primary, seats_junior)."""
    return pd.DataFrame(rows, columns=["school_id", "level", "town_code", "seats_primary",
                                       "seats_junior"])


def _open(m: LocationModel) -> set:
    return set(m.open_schools.index)


# --- a town whose only junior school must stay ------------------------------------------------
def _two_towns():
    """Town T1: big village V1 next to J1, V3 next to J3; town T2: small village V2, junior J2.

    Without the town rule the best two schools are J1 and J3 (V2 rides to J1); with it, J2 must
    be one of the two.
    """
    costs = _costs({("V1", "J1"): 1000, ("V1", "J3"): 2500, ("V1", "J2"): 4000,
                    ("V2", "J2"): 5000, ("V2", "J1"): 6000,
                    ("V3", "J3"): 500, ("V3", "J1"): 1500}, "g7_9")
    groups = _groups({"V1": 100, "V2": 10, "V3": 200}, "g7_9")
    schools = _schools([("J1", "junior", "T1", np.nan, np.nan), ("J3", "junior", "T1", np.nan, np.nan),
                        ("J2", "junior", "T2", np.nan, np.nan)])
    return LocationModel.from_costs(costs, groups, schools, ["T1", "T2"])


def test_only_junior_school_of_a_town_stays_open():
    m = _two_towns()
    m.solve("p_median", p=2, junior_school_per_town=False)
    assert _open(m) == {"J1", "J3"}
    assert m.objective_value == pytest.approx(100 * 1000 + 10 * 6000 + 200 * 500)
    m.solve("p_median", p=2)
    # J2 must be open; then {J1, J2}: V3 -> J1 costs 200*1500; {J3, J2}: V1 -> J3 costs 100*2500
    assert _open(m) == {"J2", "J3"}
    assert m.objective_value == pytest.approx(100 * 2500 + 10 * 5000 + 200 * 500)
    assert m.status == "optimal" and m.gap <= 1e-4
    assert list(m.assignments.columns) == ASSIGNMENT_COLUMNS
    assert (m.assignments["method"] == "optimised").all()
    assert dict(zip(m.assignments["demand_id"], m.assignments["school_id"], strict=True)) == {
        "V1": "J3", "V2": "J2", "V3": "J3"}


def test_p_below_the_towns_needing_a_junior_school():
    with pytest.raises(InfeasibleError, match="p=1 is below the 2 towns that each need a school"):
        _two_towns().solve("p_median", p=1)


def test_must_close_the_only_junior_school_names_the_town():
    with pytest.raises(InfeasibleError) as err:
        _two_towns().solve("p_median", p=2, must_close=["J2"])
    assert ("town T2 has no school teaching grades 7–9 among the allowed ones "
            "(must_close removes J2)") in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, SchoolplanError)


# --- a satellite kept for the 30-minute rule -------------------------------------------------
def _planet_and_satellite():
    """Planet P (primary) near V1; Q near V3; teaching point S is the only school within 30 min
    of the small village V2 (walking 0.8 m/s: 720 m = 15 min; P is 2160 m = 45 min away)."""
    costs = _costs({("V1", "P"): 400, ("V1", "Q"): 1400, ("V1", "S"): 1920,
                    ("V3", "Q"): 400, ("V3", "P"): 1200, ("V3", "S"): 2400,
                    ("V2", "S"): 720, ("V2", "P"): 2160, ("V2", "Q"): 3000}, "g1_3")
    groups = _groups({"V1": 300, "V2": 20, "V3": 200}, "g1_3")
    schools = _schools([("P", "primary", "T", 900.0, 0.0), ("Q", "primary", "T", 400.0, 0.0),
                        ("S", "teaching_point", "T", 40.0, 0.0)])
    return LocationModel.from_costs(costs, groups, schools, ["T"])


def test_satellite_kept_for_the_30_minute_rule():
    m = _planet_and_satellite()
    m.solve("p_median", p=2, max_time_g1_3_s=np.inf)
    assert _open(m) == {"P", "Q"}  # V2 walks 45 min to P
    m.solve("p_median", p=2)  # default limit: walk_limit_g1_3_min = 30
    assert _open(m) == {"P", "S"}
    v2 = m.assignments[m.assignments["demand_id"] == "V2"].iloc[0]
    assert v2["school_id"] == "S" and v2["time_s"] <= 30 * 60
    # fewest schools: without the rule P alone takes everyone; with it S must stay
    assert m.solve("min_schools", max_time_g1_3_s=np.inf).objective_value == 1
    assert _open(m) == {"P"}
    m.solve("min_schools")
    assert m.objective_value == 2 and _open(m) == {"P", "S"}
    assert m.total_cost == pytest.approx(300 * 400 + 20 * 720 + 200 * 1200)


def test_limit_taken_from_settings():
    costs = _costs({("V2", "S"): 720, ("V2", "P"): 2160}, "g1_3")
    schools = _schools([("P", "primary", "T", np.nan, 0.0), ("S", "primary", "T", np.nan, 0.0)])
    groups = _groups({"V2": 20}, "g1_3")
    strict = LocationModel.from_costs(costs, groups, schools, ["T"]).solve("p_median", p=1)
    assert _open(strict) == {"S"}
    lax = LocationModel.from_costs(costs, groups, schools, ["T"],
                                   settings=Settings({"walk_limit_g1_3_min": 60}))
    # with a 60-minute limit both are allowed; must_close S is then feasible
    assert _open(lax.solve("p_median", p=1, must_close=["S"])) == {"P"}


def test_village_out_of_reach_is_exempt_not_infeasible():
    costs = _costs({("V9", "P"): 3000, ("V9", "S"): 4000, ("V1", "S"): 100}, "g1_3")
    m = LocationModel.from_costs(costs, _groups({"V9": 5, "V1": 5}, "g1_3"),
                                 _schools([("P", "primary", "T", np.nan, 0.0),
                                           ("S", "primary", "T", np.nan, 0.0)]), ["T"])
    m.solve("p_median", p=1)
    assert _open(m) == {"S"}
    ex = m.exemptions[m.exemptions["rule"] == "g1_3_time_limit"]
    assert list(ex["object_id"]) == ["V9"] and "62 min away" in ex["detail"].iloc[0]


def test_must_close_removing_the_only_walkable_school_is_reported_with_the_town():
    m = _planet_and_satellite()
    with pytest.raises(InfeasibleError) as err:
        m.solve("p_median", p=2, must_close=["S"])
    assert "village V2 has no allowed school within 30 min for grades 1–3 (must_close removes S)" \
        in str(err.value)


def test_all_reasons_are_reported_at_once():
    m = _two_towns()
    with pytest.raises(InfeasibleError) as err:
        m.solve("p_median", p=3, must_close=["J2", "J1"])
    reasons = err.value.reasons
    assert len(reasons) == 3
    assert any("town T2 has no school teaching grades 7–9" in r for r in reasons)
    assert ("village V2 has no allowed school for grades 7–9 among its candidates "
            "(must_close removes J2, J1)") in reasons
    assert "p=3 is above the 1 schools allowed to open (3 schools, 2 on must_close)" in reasons


# --- capacities forcing a split ---------------------------------------------------------------
def _split_case(seats_a=110.0, seats_b=200.0):
    costs = _costs({("V1", "A"): 1000, ("V1", "B"): 3000, ("V2", "A"): 500, ("V2", "B"): 2000},
                   "g4_6")
    groups = _groups({"V1": 100, "V2": 30}, "g4_6")
    schools = _schools([("A", "primary", "T", seats_a, 0.0), ("B", "primary", "T", seats_b, 0.0)])
    return LocationModel.from_costs(costs, groups, schools, ["T"])


def test_capacity_forces_a_split():
    # A has 110 seats for 130 pupils: 20 must go to B; moving V2's pupils costs +1500 each,
    # V1's +2000, so 20 of V2 go to B
    m = _split_case().solve("p_median", p=2)
    got = {(r.demand_id, r.school_id): r.pupils for r in m.assignments.itertuples()}
    assert got == pytest.approx({("V1", "A"): 100, ("V2", "A"): 10, ("V2", "B"): 20})
    assert m.objective_value == pytest.approx(100 * 1000 + 10 * 500 + 20 * 2000)
    assert m.open_schools.loc["A", "pupils_primary"] == pytest.approx(110)
    # whole villages only: V2 (30 pupils) moves to B
    m.solve("p_median", p=2, allow_split=False)
    assert dict(zip(m.assignments["demand_id"], m.assignments["school_id"], strict=True)) == {"V1": "A", "V2": "B"}
    assert m.objective_value == pytest.approx(100 * 1000 + 30 * 2000)
    # uncapacitated: everyone to A, B closes when p=1
    m.solve("p_median", p=1, capacitated=False)
    assert _open(m) == {"A"}


def test_seats_short_in_total_are_reported_before_solving():
    with pytest.raises(InfeasibleError, match=r"seats: 20 primary pupils more than the allowed "
                                              r"schools' primary seats \(130 pupils, 110"):
        _split_case(seats_b=0.0).solve("p_median", p=2)
    with pytest.raises(InfeasibleError, match=r"with p=1 open schools at most 110 primary seats "
                                              r"for 130 primary pupils \(20 short\)"):
        _split_case(seats_b=100.0).solve("p_median", p=1)


def test_seats_short_at_one_school_are_found_after_solving():
    # seats suffice in total (310 for 130) but V1's only candidate A has 50
    costs = _costs({("V1", "A"): 1000, ("V2", "B"): 500, ("V2", "A"): 900}, "g4_6")
    m = LocationModel.from_costs(costs, _groups({"V1": 100, "V2": 30}, "g4_6"),
                                 _schools([("A", "primary", "T", 50.0, 0.0),
                                           ("B", "primary", "T", 260.0, 0.0)]), ["T"])
    with pytest.raises(InfeasibleError, match=r"seats: 50 primary pupils more than the open "
                                              r"schools' seats can take \(short at A by 50\)"):
        m.solve("p_median", p=2)


def test_size_cap_limits_the_pupils_of_a_school():
    costs = _costs({("V1", "A"): 1000, ("V1", "B"): 3000}, "g4_6")
    s = Settings({"school_size_cap": 60})
    m = LocationModel.from_costs(costs, _groups({"V1": 100}, "g4_6"),
                                 _schools([("A", "primary", "T", np.nan, 0.0),
                                           ("B", "primary", "T", np.nan, 0.0)]), ["T"], settings=s)
    m.solve("p_median", p=2)
    assert m.open_schools["pupils"].to_dict() == pytest.approx({"A": 60, "B": 40})
    m.solve("p_median", p=2, size_caps=False)
    assert m.open_schools["pupils"].to_dict() == pytest.approx({"A": 100, "B": 0})


def test_must_keep_and_must_close():
    m = _two_towns()
    m.solve("p_median", p=2, must_keep=["J1"])
    assert _open(m) == {"J1", "J2"}
    assert m.open_schools.loc["J1", "must_keep"]
    m.solve("p_median", p=2, must_close=["J3"])
    assert _open(m) == {"J1", "J2"}
    assert m.closed_schools.loc["J3", "reason"] == "must_close"


# --- brute force ------------------------------------------------------------------------------
def _brute_force(cost: np.ndarray, pupils: np.ndarray, p: int) -> float:
    best = np.inf
    for combo in itertools.combinations(range(cost.shape[1]), p):
        nearest = cost[:, list(combo)].min(axis=1)
        if np.isfinite(nearest).all():
            best = min(best, float((pupils * nearest).sum()))
    return best


@pytest.mark.parametrize("seed,p", [(0, 2), (1, 3), (2, 4), (3, 5)])
def test_p_median_equals_brute_force(seed, p):
    rng = np.random.default_rng(seed)
    n_v, n_s, k = 25, 9, 4
    xy_v, xy_s = rng.uniform(0, 10_000, (n_v, 2)), rng.uniform(0, 10_000, (n_s, 2))
    cost = np.hypot(*(xy_v[:, None, :] - xy_s[None, :, :]).transpose(2, 0, 1)).round()
    far = np.argsort(cost, axis=1)[:, k:]  # keep each village's k nearest candidates
    np.put_along_axis(cost, far, np.inf, axis=1)
    pupils = rng.integers(1, 80, n_v).astype(float)
    expected = _brute_force(cost, pupils, p)
    m = LocationModel.from_cost_matrix(cost, pupils).solve("p_median", p=p, mip_gap=0.0)
    assert m.objective_value == pytest.approx(expected, rel=1e-9)
    assert len(m.open_schools) == p
    # every village at its nearest open school
    open_idx = [int(s[1:]) for s in m.open_schools.index]
    assert m.total_cost == pytest.approx(float((pupils * cost[:, open_idx].min(axis=1)).sum()))


# --- inputs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"objective": "cheapest", "p": 2}, "objective was 'cheapest'"),
    ({"objective": "p_median"}, "p was None"),
    ({"objective": "p_median", "p": 1.5}, "p was 1.5"),
    ({"objective": "min_schools", "p": 2}, "p is only used"),
    ({"objective": "p_median", "p": 2, "must_keep": ["X9"]}, "unknown school ids: X9"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ModelInputError, match=match):
        _two_towns().solve(**kwargs)


def test_missing_column_is_named():
    costs = _costs({("V1", "A"): 1000}, "g4_6").drop(columns="time_s")
    with pytest.raises(MissingColumnError, match=r"costs has no column \['time_s'\]"):
        LocationModel.from_costs(costs, _groups({"V1": 1}, "g4_6"),
                                 _schools([("A", "primary", "T", 1.0, 0.0)]), ["T"])


# --- the demo county --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_model(request):
    from schoolplan import catchments as ca
    from schoolplan import scenario as sc
    from schoolplan.travel import network_mode

    root = request.config.rootpath
    scn = sc.load_scenario(root / "scenarios" / "demo-county.yaml")
    s = Settings(scn.settings, origin="scenario")
    inputs = sc.load_inputs(scn, s)
    groups = ca.demand_by_group(inputs.demand, s)
    networks, frames = {}, []
    for group in ca.GRADE_GROUPS:  # as schoolplan.scenario.prepare does
        nmode = network_mode(s[f"travel_mode_{group}"])
        if nmode not in networks:
            networks[nmode] = sc.load_roads(scn.inputs.get("roads"), mode=nmode, settings=s,
                                            towns=inputs.towns)
        frames.append(ca.catchment_costs(networks[nmode], inputs.demand, inputs.schools,
                                         groups[groups["group"] == group], settings=s))
    costs = pd.concat(frames, ignore_index=True)
    schools = inputs.schools[["school_id", "level", "town_code"]].join(
        ca.seats_by_part(inputs.schools), on="school_id")
    model = LocationModel.from_costs(costs, groups, schools, inputs.towns, settings=s)
    return model, groups, schools, inputs.towns


def test_demo_p_median_solves_to_optimality_and_keeps_a_junior_school_per_town(demo_model):
    m, groups, schools, _ = demo_model
    p = len(schools) - 15
    # on the demo most villages are beyond a 30-minute walk of any school (they are exempt);
    # the rule itself needs 64 schools (tested below), so switch it off here
    # proving optimality takes longer on the costs of edge snapping (issue 16, item 13): at the
    # default 60 s limit HiGHS stopped at a gap of 2.1e-4 on this shared 2-core machine
    m.solve("p_median", p=p, max_time_g1_3_s=np.inf, time_limit_s=300)
    assert m.status == "optimal" and m.gap <= 1e-4
    assert len(m.open_schools) == p
    junior_towns = set(schools.loc[schools["level"].isin(JUNIOR), "town_code"])
    open_junior = m.open_schools[m.open_schools["level"].isin(JUNIOR)]
    assert junior_towns <= set(open_junior["town_code"])
    # every pupil placed once, in an open school, within seats
    a = m.assignments
    assert a["school_id"].notna().all()
    assert set(a["school_id"]) <= set(m.open_schools.index)
    placed = a.groupby(["demand_id", "group"])["pupils"].sum()
    want = groups.set_index(["demand_id", "group"])["pupils"]
    assert placed.reindex(want.index).to_numpy() == pytest.approx(want.to_numpy(), abs=1e-2)
    o = m.open_schools
    for part in ("primary", "junior"):
        seats = o[f"seats_{part}"]
        assert (o[f"pupils_{part}"][seats.notna()] <= seats.dropna() + 1e-3).all()
    assert (o["pupils"] <= o["size_cap"] + 1e-3).all()
    assert m.n_variables == len(schools) + len(m.pairs)


def test_demo_30_minute_rule_needs_more_schools_than_p(demo_model):
    m, _, schools, _ = demo_model
    with pytest.raises(InfeasibleError, match=r"p=56 is below the \d+ schools needed") as err:
        m.solve("p_median", p=len(schools) - 15)
    need = int(re.search(r"below the (\d+) schools needed", str(err.value)).group(1))
    assert need > len(schools) - 15
    assert m.solve("min_schools").objective_value == need  # the message names the true minimum
    # village groups that cannot walk to any school within 30 min today are exempt, not infeasible
    assert (m.exemptions["rule"] == "g1_3_time_limit").sum() > 0

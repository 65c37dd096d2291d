"""Catchments: nearest and capacitated assignment on hand-made cases solved by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan.catchments import (
    assign_capacitated,
    assign_nearest,
    demand_by_group,
    seats_by_part,
    serves,
)


def _case(seats_a=100.0, seats_b=100.0):
    groups = pd.DataFrame({"demand_id": ["V1", "V2", "V3"], "town_code": "t", "group": "g1_3",
                           "pupils": [80.0, 60.0, 40.0]})
    d = {("V1", "A"): 1000, ("V1", "B"): 3000, ("V2", "A"): 1500, ("V2", "B"): 2000,
         ("V3", "A"): 500, ("V3", "B"): 4000}
    costs = pd.DataFrame([{"from_id": v, "to_id": s, "distance_m": m, "time_s": m / 0.8,
                           "mode": "walk_g1_3", "estimate": False, "status": "ok", "group": "g1_3"}
                          for (v, s), m in d.items()])
    seats = pd.DataFrame({"seats_primary": [seats_a, seats_b], "seats_junior": [0.0, 0.0]},
                         index=pd.Index(["A", "B"], name="school_id"))
    return costs, groups, seats


def _total(a):
    return float((a["pupils"] * a["distance_m"]).sum())


def test_nearest_sends_everyone_to_a():
    costs, groups, _ = _case()
    a = assign_nearest(costs, groups)
    assert list(a["school_id"]) == ["A", "A", "A"]
    assert list(a["distance_m"]) == [1000, 1500, 500]


def test_capacitated_with_split_matches_the_hand_solution():
    # A takes 100: moving V2 to B costs +500 per pupil (cheapest), then 20 of V1 (+2000 each)
    costs, groups, seats = _case()
    a, short = assign_capacitated(costs, groups, seats, allow_split=True)
    got = {(r.demand_id, r.school_id): r.pupils for r in a.itertuples()}
    assert got == pytest.approx({("V1", "A"): 60, ("V1", "B"): 20, ("V2", "B"): 60, ("V3", "A"): 40})
    assert _total(a) == pytest.approx(260_000)
    assert short.empty


def test_capacitated_without_split_matches_the_hand_solution():
    # whole villages: {V2, V3} -> A (100 pupils), V1 -> B costs 350,000; {V1} -> A costs 360,000
    costs, groups, seats = _case()
    a, _short = assign_capacitated(costs, groups, seats, allow_split=False)
    assert dict(zip(a["demand_id"], a["school_id"], strict=True)) == {"V1": "B", "V2": "A", "V3": "A"}
    assert _total(a) == pytest.approx(350_000)


def test_short_seats_are_reported_not_failed():
    costs, groups, seats = _case(seats_a=50, seats_b=50)
    a, short = assign_capacitated(costs, groups, seats, allow_split=True)
    assert short["pupils_unassigned"].sum() == pytest.approx(80)
    used = a[a["school_id"].notna()].groupby("school_id")["pupils"].sum()
    assert used.to_dict() == pytest.approx({"A": 50, "B": 50})
    assert (a.loc[a["school_id"].isna(), "status"] == "no_seat").all()


def test_unknown_seats_do_not_limit():
    costs, groups, seats = _case(seats_a=np.nan)
    a, _ = assign_capacitated(costs, groups, seats)
    assert set(a["school_id"]) == {"A"}


def test_village_without_candidate_is_listed():
    costs, groups, _ = _case()
    groups.loc[3] = ["V4", "t", "g1_3", 10.0]
    a = assign_nearest(costs, groups)
    row = a[a["demand_id"] == "V4"].iloc[0]
    assert pd.isna(row["school_id"]) and row["status"] == "no_school_within_cutoff"


def test_grade_groups_and_the_schools_that_serve_them():
    assert [lv for lv in ("primary", "teaching_point", "nine_year", "junior", "complete")
            if serves(lv, "g1_3")] == ["primary", "teaching_point", "nine_year"]
    assert [lv for lv in ("primary", "teaching_point", "nine_year", "junior", "complete")
            if serves(lv, "g4_6")] == ["primary", "nine_year"]
    assert [lv for lv in ("primary", "teaching_point", "nine_year", "junior", "complete")
            if serves(lv, "g7_9")] == ["nine_year", "junior", "complete"]
    demand = pd.DataFrame({"demand_id": ["V1"], "town_code": ["t"], "pupils_primary": [60.0],
                           "pupils_junior": [25.0]})
    g = demand_by_group(demand)
    assert dict(zip(g["group"], g["pupils"], strict=True)) == {"g1_3": 30.0, "g4_6": 30.0, "g7_9": 25.0}


def test_seats_of_a_nine_year_school_split_by_its_grades():
    schools = pd.DataFrame({"school_id": ["N", "P"], "level": ["nine_year", "primary"],
                            "seats": [900.0, 270.0], "enrollment": [600.0, 200.0],
                            **{f"enrollment_g{g}": [50.0 if g <= 6 else 100.0, 30.0 if g <= 6 else np.nan]
                               for g in range(1, 10)}})
    s = seats_by_part(schools)
    assert s.loc["N", "seats_junior"] == pytest.approx(450)  # 300 of 600 pupils in grades 7-9
    assert s.loc["N", "seats_primary"] == pytest.approx(450)
    assert s.loc["P", "seats_primary"] == 270 and s.loc["P", "seats_junior"] == 0

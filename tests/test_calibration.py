"""Calibration of today's assignment to the ledger, observed origins (生源), and 学位预警 by year,
on hand-made cases whose answers can be checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan import calibration as C
from schoolplan import diagnosis
from schoolplan.errors import InputValidationError, Problems
from schoolplan.io import read_origins
from schoolplan.schema import Base, Inputs, Scenario
from schoolplan.settings import Settings


def _costs(rows):
    """(village, group, school, km) -> a long cost frame."""
    return pd.DataFrame([{"from_id": v, "group": g, "to_id": s, "distance_m": km * 1000.0,
                          "time_s": km * 1000.0 / 0.8, "mode": "walk_g1_3", "estimate": False,
                          "status": None} for v, g, s, km in rows])


def _schools(rows):
    """(school_id, level, enrollment, seats) -> a ledger."""
    return pd.DataFrame([{"school_id": s, "name": f"学校{s}", "level": lv, "enrollment": e, "seats": st,
                          "town": "甲镇", "town_code": "1", "classes": np.nan, "status": "open"}
                         for s, lv, e, st in rows])


def test_symmetric_two_by_two_has_the_closed_form_answer():
    # f = exp(-ln3 * c): 1 on the diagonal, 1/3 off it; with equal margins T = 75/25
    r = C.balance_flows(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0.0, 1.0, 1.0, 0.0]),
                        np.array([100.0, 100.0]), np.array([100.0, 100.0]), decay_per_km=np.log(3))
    assert r.converged
    np.testing.assert_allclose(r.flows, [75, 25, 25, 75], atol=1e-6)


def test_both_margins_are_met_when_they_disagree_with_nearest_school():
    # village a (100 children) is next to school X, b (100) next to Y; the ledger says X 150, Y 50:
    # nearest would send 100/100; the balanced flows meet 150/50 and every village sends all.
    o, d = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    r = C.balance_flows(o, d, np.array([0.5, 3.0, 3.0, 0.5]), np.array([100.0, 100.0]),
                        np.array([150.0, 50.0]), decay_per_km=0.5, tolerance=1e-9, max_iterations=2000)
    np.testing.assert_allclose(np.bincount(o, r.flows), [100, 100], atol=1e-6)
    np.testing.assert_allclose(np.bincount(d, r.flows), [150, 50], atol=1e-6)
    assert r.flows[0] > r.flows[2]  # X takes more from its own village than from b


def test_decay_is_recovered_from_flows_the_model_made():
    rng = np.random.default_rng(3)
    o, d = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    km = rng.uniform(0.5, 6, size=12)
    true = C.balance_flows(o, d, km, np.array([80.0, 120, 60, 140]), np.array([150.0, 150, 100]),
                           decay_per_km=0.8, tolerance=1e-10, max_iterations=5000)
    beta = C.fit_decay(km, true.flows, o, d, km, o, d, max_iterations=5000)
    assert beta == pytest.approx(0.8, abs=1e-3)


def test_fit_model_scales_children_to_the_ledger_and_reports_why():
    # 200 children, 150 on the ledger: scaled by 0.75 (private schools, other counties)
    costs = _costs([("a", "g1_3", "X", 0.4), ("a", "g1_3", "Y", 2.0),
                    ("b", "g1_3", "X", 2.0), ("b", "g1_3", "Y", 0.4)])
    groups = pd.DataFrame({"demand_id": ["a", "b"], "town_code": "1", "group": "g1_3", "pupils": [100.0, 100.0]})
    schools = _schools([("X", "teaching_point", 120, 150), ("Y", "teaching_point", 30, 60)])
    cal = C.fit_model(costs, groups, schools, settings=Settings({"calibration_tolerance": 1e-6}))
    assert cal.scale["primary"]["factor"] == pytest.approx(0.75)
    assert "private" in cal.scale["primary"]["reason_en"]
    fit = cal.fit.set_index("school_id")
    assert fit.at["X", "modelled"] == pytest.approx(120, abs=0.1)
    assert fit.at["Y", "modelled"] == pytest.approx(30, abs=0.1)
    assert fit["within_band"].all()
    assert cal.summary["share_within_band"] == 1.0


def test_closing_a_school_sends_its_pupils_by_the_model_and_nothing_is_lost():
    costs = _costs([("a", "g1_3", "X", 0.5), ("a", "g1_3", "Y", 1.0), ("a", "g1_3", "Z", 2.0),
                    ("b", "g1_3", "X", 2.0), ("b", "g1_3", "Y", 1.0), ("b", "g1_3", "Z", 0.5)])
    groups = pd.DataFrame({"demand_id": ["a", "b"], "town_code": "1", "group": "g1_3", "pupils": [90.0, 60.0]})
    schools = _schools([("X", "teaching_point", 50, 100), ("Y", "teaching_point", 70, 100),
                        ("Z", "teaching_point", 30, 100)])
    s = Settings({"calibration_tolerance": 1e-8, "calibration_max_iterations": 5000})
    cal = C.fit_model(costs, groups, schools, settings=s)
    same = C.flows_for_state(cal, costs, groups, schools, settings=s)
    np.testing.assert_allclose(same.groupby("school_id")["pupils"].sum().reindex(["X", "Y", "Z"]),
                               [50, 70, 30], atol=1e-3)
    state = schools.assign(status=np.where(schools["school_id"] == "Y", "closed", "open"))
    moved = C.flows_for_state(cal, costs[costs["to_id"] != "Y"], groups, state, settings=s)
    got = moved.groupby("school_id")["pupils"].sum()
    assert got.sum() == pytest.approx(150, abs=1e-6)
    assert set(got.index) == {"X", "Z"}
    assert got["X"] > 50 and got["Z"] > 30
    merged = C.flows_for_state(cal, costs[costs["to_id"] != "Y"], groups, state, merge_into={"Y": "Z"},
                               settings=s)
    got = merged.groupby("school_id")["pupils"].sum()
    assert got.sum() == pytest.approx(150, abs=1e-6)
    assert got["Z"] == pytest.approx(30 + 70, abs=1e-3)  # all of Y's pupils go to Z


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_origins_with_chinese_headers_and_a_title_row(tmp_path):
    p = _write(tmp_path / "生源.csv", "2025年生源统计,,,,\n村庄代码,村庄名称,学校代码,学段,学生数\n"
               "a,甲村,X,小学,40\na,甲村,Y,小学,10\nb,乙村,Y,小学,20\nb,乙村,Y,小学,5\n")
    o = read_origins(p)
    assert list(o.columns[:5]) == ["demand_id", "school_id", "part", "pupils", "row"]
    assert o.set_index(["demand_id", "school_id"])["pupils"].to_dict() == {("a", "X"): 40, ("a", "Y"): 10,
                                                                           ("b", "Y"): 25}
    assert o.set_index(["demand_id", "school_id"]).at[("a", "X"), "row"] == 3


def test_bad_origin_rows_are_all_reported_with_excel_rows(tmp_path):
    p = _write(tmp_path / "o.csv", "村庄代码,学校代码,学段,学生数\na,X,高中,4\n,X,小学,3\nb,Y,初中,-2\n")
    with pytest.raises(InputValidationError) as exc:
        read_origins(p)
    text = str(exc.value)
    assert "row 2" in text and "高中" in text
    assert "row 3" in text and "row 4" in text


def test_observed_origins_are_todays_assignment_and_unknown_codes_are_reported():
    costs = _costs([("a", "g1_3", "X", 0.5), ("a", "g1_3", "Y", 2.0), ("b", "g1_3", "X", 2.0),
                    ("b", "g1_3", "Y", 0.5)])
    groups = pd.DataFrame({"demand_id": ["a", "b"], "town_code": "1", "group": "g1_3", "pupils": [50.0, 25.0]})
    schools = _schools([("X", "teaching_point", 40, 60), ("Y", "teaching_point", 35, 60)])
    origins = pd.DataFrame({"demand_id": ["a", "a", "b"], "school_id": ["X", "Y", "Y"],
                            "part": ["primary"] * 3, "pupils": [40.0, 10.0, 25.0], "row": [2, 3, 4]})
    cal = C.observed_flows(origins, costs, groups, schools)
    assert cal.method == "observed"
    got = cal.flows.set_index(["demand_id", "school_id"])["pupils"]
    assert got.to_dict() == {("a", "X"): 40.0, ("a", "Y"): 10.0, ("b", "Y"): 25.0}
    assert cal.fit.set_index("school_id")["ratio"].to_dict() == {"X": 1.0, "Y": 1.0}
    assert 0.001 < cal.decay_per_km < 20
    bad = origins.assign(demand_id=["a", "zz", "b"])
    probs = Problems()
    with pytest.raises(InputValidationError, match="row 3"):
        C.observed_flows(bad, costs, groups, schools, problems=probs, file="生源.csv")


def _base_with_growth(tmp_path, growth):
    schools = _schools([("X", "primary", 95, 100)])
    schools["classes"] = 6.0  # one class per grade: 45 intake places
    demand = pd.DataFrame({"demand_id": ["a"], "town_code": "1", "name": ["甲村"],
                           "pupils_primary": [95.0], "pupils_junior": [0.0]})
    history = pd.DataFrame({"school_id": ["X"], "year": [2025], "grade": [1], "pupils": [15.0]})
    inputs = Inputs(schools=schools, towns=pd.DataFrame(), demand=demand, problems=Problems(), files={},
                    history=history)
    base = Base(scenario=Scenario("t", "t", None, {}), settings=Settings(), inputs=inputs, groups=None,
                costs=None, networks={}, distance_method="test")
    base.cache["seat_warning_year_factors"] = {
        y: {"primary": pd.Series({"a": growth ** (y - 2025)}), "junior": pd.Series({"a": 1.0})}
        for y in range(2025, 2029)}
    return base, schools


def test_a_school_that_turns_red_in_a_later_year():
    # 95 pupils for 100 seats: yellow in 2025 (0.95); children grow 4 % a year: 98.8 in 2026
    # (yellow), 102.8 in 2027 (red)
    base, schools = _base_with_growth(None, 1.04)
    today = pd.DataFrame({"demand_id": ["a", "a"], "group": ["g1_3", "g4_6"], "school_id": ["X", "X"],
                          "pupils": [30.0, 65.0], "level": "primary"})
    t = diagnosis.seat_warning_table(base, schools, today).iloc[0]
    assert t["part_zh"] == "小学"
    assert t["intake_places"] == 45
    assert t["entry_2025"] == pytest.approx(10.0)  # a third of grades 1-3
    assert t["whole_util_2025"] == pytest.approx(0.95)
    assert [t[f"warning_{y}"] for y in range(2025, 2029)] == ["yellow", "yellow", "red", "red"]
    assert t["first_yellow_year"] == 2025 and t["first_red_year"] == 2027


def test_a_nine_year_school_has_a_primary_and_a_junior_part():
    base, _ = _base_with_growth(None, 1.0)
    schools = _schools([("N", "nine_year", 900, 900)])
    today = pd.DataFrame({"demand_id": ["a", "a", "a"], "group": ["g1_3", "g4_6", "g7_9"],
                          "school_id": "N", "pupils": [300.0, 300.0, 300.0],
                          "level": ["primary", "primary", "junior"]})
    t = diagnosis.seat_warning_table(base, schools, today).set_index("part_zh")
    assert list(t.index) == ["小学部", "初中部"]
    assert t.at["小学部", "seats"] == pytest.approx(600) and t.at["初中部", "seats"] == pytest.approx(300)
    assert t.at["初中部", "whole_2025"] == pytest.approx(300)


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_a_second_county_whose_demand_disagrees_calibrates_to_its_ledger(tmp_path):
    """Another seed and shape (11 rural towns, villages 1.15 km apart), 30 % of village-school
    pupils enrolled at the central school and village counts drawn with lognormal noise after
    the ledger, so that nearest-school demand misses the ledger: after calibration >= 90 % of
    schools are within +-10 % of their enrolment."""
    from schoolplan.demo import DemoShape
    from schoolplan.demo.generate import write_demo
    from schoolplan.scenario import evaluate, scenario_from_dict

    shape = DemoShape(n_zhen=10, n_xiang=1, village_spacing_m=1150, bypass=0.3, demand_noise=0.35)
    paths = write_demo(tmp_path / "data", seed=7, shape=shape)
    raw = {"name": "second", "synthetic": True, "inputs": {
        "schools": {"path": str(paths["schools"]), "coordinate_system": "wgs84"},
        "towns": str(paths["towns"]), "demand": str(paths["villages"]),
        "roads": str(paths["roads"])}}
    r = evaluate(scenario_from_dict(raw, base=tmp_path))
    s = r.schools.set_index("school_id")
    nearest = r.assignments[r.assignments["method"] == "nearest"].groupby("school_id")["pupils"].sum()
    before = ((nearest.reindex(s.index).fillna(0) / s["enrollment"] - 1).abs() <= 0.1).mean()
    assert before < 0.5  # the demand really disagrees with the ledger
    assert s["model_within_band"].astype(bool).mean() >= 0.9
    assert r.indicators["calibration"]["share_within_band"] >= 0.9


def test_a_year_scenario_has_the_seat_warning_table_with_a_column_per_year():
    from schoolplan.scenario import evaluate, load_scenario

    r = evaluate(load_scenario(ROOT / "scenarios" / "demo-2030.yaml"))
    t = r.seat_warnings
    years = t.attrs["years"]
    assert years[0] == 2025 and 2030 in years
    assert {f"warning_{y}" for y in years} <= set(t.columns)
    s = r.schools
    assert len(t) == (s["status"] != "closed").sum() + (s["level"] == "nine_year").sum()
    # the base year is today's calibrated picture: nine in ten schools within 1 % of the ledger
    whole = t.groupby("school_id")["whole_2025"].sum()
    ledger = s.set_index("school_id")["enrollment_ledger"]
    assert ((whole / ledger.reindex(whole.index) - 1).abs() <= 0.01).mean() >= 0.9
    later = t[(t["first_red_year"] > 2025)]
    assert len(later)  # schools that turn red only in a later year
    r0 = later.iloc[0]
    y = int(r0["first_red_year"])
    assert r0[f"warning_{y}"] == "red" and r0[f"warning_{y - 1}"] != "red"


def test_seat_warning_map_layer_escapes_names_and_shows_the_chosen_year():
    from types import SimpleNamespace

    import folium

    from schoolplan.outputs.seat_map import add_seat_warning_layers

    table = pd.DataFrame({"school_id": ["X"], "name": ["<b>坏</b>&学校"], "part": ["primary"],
                          "part_zh": ["小学"], "warning_2025": ["ok"], "entry_util_2025": [0.5],
                          "whole_util_2025": [0.5], "warning_2026": ["red"], "entry_util_2026": [1.2],
                          "whole_util_2026": [1.1]})
    table.attrs["years"] = [2025, 2026]
    result = SimpleNamespace(seat_warnings=table, scenario=SimpleNamespace(year=2026),
                             schools=pd.DataFrame({"school_id": ["X"], "lat": [36.5], "lon": [116.1]}))
    m = folium.Map(tiles=None)
    names = add_seat_warning_layers(m, result, lang="zh")
    assert len(names) == 2
    page = m.get_root().render()
    # the name reaches the page inside a JSON string (schoolplan.outputs.escape.js_literal) that
    # the page shows with textContent: never markup
    from schoolplan.outputs._map_layers import PointLayer
    from schoolplan.outputs.escape import js_literal

    assert js_literal("<b>坏</b>&学校")[1:-1] in page and "<b>坏</b>" not in page
    groups = {g.layer_name: g.show for g in m._children.values() if isinstance(g, PointLayer)}
    assert groups == {"学位预警 2025年 (0)": False, "学位预警 2026年 (1)": True}  # the scenario's year shown
    assert "红色预警" in page


def test_the_demo_tells_a_coherent_story():
    """Issue 13's done-when on the demo: village demand and ledger agree school by school even
    before calibration, grades 1-3 walks are plausible after it, and consolidation has a closure
    to recommend (a small school on the road to a larger one with seats)."""
    from schoolplan.scenario import evaluate, load_scenario

    r = evaluate(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))
    s = r.schools.set_index("school_id")
    a = r.assignments
    nearest = a[a["method"] == "nearest"].groupby("school_id")["pupils"].sum()
    assert ((nearest.reindex(s.index).fillna(0) / s["enrollment"] - 1).abs() <= 0.1).mean() >= 0.8
    assert r.indicators["calibration"]["share_within_band"] >= 0.9
    g = a[(a["method"] == "calibrated") & (a["group"] == "g1_3")]
    minutes, pupils = g["time_s"].to_numpy(float) / 60, g["pupils"].to_numpy(float)
    order = np.argsort(minutes)
    median = minutes[order][np.searchsorted(np.cumsum(pupils[order]) / pupils.sum(), 0.5)]
    assert median <= 20
    assert pupils[minutes > 30].sum() / pupils.sum() <= 0.15
    c = r.candidates
    assert (c["recommendation"] == "close").any()
    closed = c[c["recommendation"] == "close"]
    assert (closed["receiver_in_town"] == True).all() and (closed["receiver_has_seats"] == True).all()  # noqa: E712
    assert c["reasons"].astype(str).str.contains("scattered").any()


def test_seat_warning_table_sums_equal_a_plain_loop_over_the_flows(monkeypatch):
    """The table sums every (school, part, year) at once (issue 15); here the same sums one flow
    at a time, on the demo's 2030 scenario (a column per year, villages growing differently)."""
    from collections import defaultdict

    from schoolplan.scenario import evaluate, load_scenario

    seen = {}
    real = diagnosis.seat_warning_table

    def spy(base, schools, today):
        seen["args"] = (base, schools, today)
        return real(base, schools, today)

    monkeypatch.setattr(diagnosis, "seat_warning_table", spy)
    evaluate(load_scenario(ROOT / "scenarios" / "demo-2030.yaml"))
    base, schools, today = seen["args"]
    table = real(base, schools, today)
    factors = diagnosis._year_factors(base)
    years = list(factors) or ["today"]
    assert len(years) > 1
    sums: dict = defaultdict(float)
    for row in today[today["school_id"].notna()].itertuples():
        part = "junior" if row.group == "g7_9" else "primary"
        for y in years:
            f = factors[y][part].get(row.demand_id, 1.0) if y in factors else 1.0
            w = row.pupils * (1.0 if pd.isna(f) else f)
            sums[(row.school_id, part, y, "whole")] += w
            if row.group in ("g1_3", "g7_9"):
                sums[(row.school_id, part, y, "entry")] += w / 3.0
    checked = 0
    for rec in table.to_dict("records"):
        for y in years:
            for what in ("whole", "entry"):
                assert rec[f"{what}_{y}"] == pytest.approx(
                    round(sums[(rec["school_id"], rec["part"], y, what)], 1), abs=0.051)
                checked += 1
    assert checked == len(table) * len(years) * 2 and any(v > 0 for v in sums.values())

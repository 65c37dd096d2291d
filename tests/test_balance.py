"""优质均衡 indicators and the pupil-weighted CV, against worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schoolplan.balance import cv_contributors, cv_panel, school_indicators, weighted_cv


def test_weighted_cv_worked_example():
    # X = 2, 4, 6 with 100, 200, 100 pupils: mean = (200 + 800 + 600) / 400 = 4;
    # S^2 = (100*(2-4)^2 + 200*0 + 100*(6-4)^2) / 400 = 2; CV = sqrt(2) / 4 = 0.353553
    assert weighted_cv(np.array([2.0, 4, 6]), np.array([100.0, 200, 100])) == pytest.approx(0.3535534)
    # equal schools: CV 0; one school: undefined
    assert weighted_cv(np.array([3.0, 3.0]), np.array([10.0, 50.0])) == 0
    assert np.isnan(weighted_cv(np.array([3.0]), np.array([10.0])))


def _school(sid, level, enrollment, **resources):
    base = {"school_id": sid, "name": sid, "level": level, "enrollment": enrollment}
    return {**base, **resources}


FULL = dict(teachers_qualified=5, key_teachers=1, pe_arts_teachers=1, teaching_area_m2=450,
            sports_area_m2=750, equipment_value_yuan=200_000, multimedia_classrooms=3)


def test_indicators_and_six_of_seven():
    schools = pd.DataFrame([
        _school("A", "primary", 100, **FULL),                                  # meets all 7
        _school("B", "primary", 100, **{**FULL, "teachers_qualified": 4}),      # 4.0 < 4.2: 6 of 7
        _school("C", "primary", 100, **{**FULL, "teachers_qualified": 4, "sports_area_m2": 700}),
    ])
    ind = school_indicators(schools).set_index("school_id")
    assert ind.at["A", "teachers_qualified_per100"] == 5.0
    assert ind.at["A", "sports_area_m2_per_pupil"] == 7.5
    assert ind.at["A", "equipment_yuan_per_pupil"] == 2000
    assert list(ind["indicators_met"]) == [7, 6, 5]
    assert list(ind["meets_standard"]) == [True, True, False]


def test_missing_columns_are_not_computed_never_zero():
    schools = pd.DataFrame([_school("A", "primary", 100, teachers_qualified=5),
                            _school("B", "primary", 300, teachers_qualified=9)])
    ind = school_indicators(schools)
    assert ind["sports_area_m2_per_pupil"].isna().all()
    assert ind["meets_standard"].isna().all()  # cannot judge 6 of 7 with 1 known
    panel = cv_panel(ind).set_index(["level", "indicator"])
    assert np.isnan(panel.at[("primary", "sports_area_m2_per_pupil"), "cv"])
    assert panel.at[("primary", "sports_area_m2_per_pupil"), "ok"] is None
    # teachers per 100: 5 (100 pupils) and 3 (300 pupils): mean 3.5, S^2 = (100*2.25+300*0.25)/400
    assert panel.at[("primary", "teachers_qualified_per100"), "cv"] == pytest.approx(
        np.sqrt(0.75) / 3.5, abs=1e-4)


def test_nine_year_school_counts_in_both_levels_with_its_part_pupils():
    grades = {f"enrollment_g{g}": (50 if g <= 6 else 100) for g in range(1, 10)}
    schools = pd.DataFrame([_school("N", "nine_year", 600, **FULL, **grades)])
    ind = school_indicators(schools)
    assert list(ind["level"]) == ["primary", "junior"]
    assert list(ind["pupils"]) == [300, 300]


def test_the_outlier_pulls_the_cv_up_most():
    schools = pd.DataFrame([_school(s, "primary", 100, **{**FULL, "sports_area_m2": a})
                            for s, a in [("A", 700), ("B", 750), ("C", 800), ("D", 3000)]])
    top = cv_contributors(school_indicators(schools))
    sports = top[top["indicator"] == "sports_area_m2_per_pupil"]
    assert sports.iloc[0]["school_id"] == "D"


def test_demo_run_has_the_panel(tmp_path):
    from pathlib import Path

    from schoolplan.outputs.report import write_outputs
    from schoolplan.scenario import evaluate, load_scenario

    root = Path(__file__).resolve().parents[1]
    r = evaluate(load_scenario(root / "scenarios" / "demo-county.yaml"))
    assert r.balance is not None and (r.balance["indicators_known"] == 7).all()
    paths = write_outputs(r, tmp_path, lang="en")
    cv = pd.read_csv(paths["balance_cv"], encoding="utf-8-sig")
    assert len(cv) == 14 and set(cv["level"]) == {"primary", "junior"}
    # the CVs recomputed here from balance.csv agree
    b = pd.read_csv(paths["balance"], encoding="utf-8-sig")
    sub = b[b["level"] == "primary"]
    expect = weighted_cv(sub["sports_area_m2_per_pupil"].to_numpy(), sub["pupils"].to_numpy())
    got = cv.set_index(["level", "indicator"]).at[("primary", "sports_area_m2_per_pupil"), "cv"]
    assert got == pytest.approx(expect, abs=1e-4)
    over = cv[cv["ok"] == False]  # noqa: E712
    assert set(r.violations.loc[r.violations["rule_id"] == "balance_cv", "object_id"]) == \
        {f"{a}/{b}" for a, b in zip(over["level"], over["indicator"], strict=True)}

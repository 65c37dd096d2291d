"""Enrolment projections: readers, cohort progression, regression, back-test, demand by year."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from schoolplan import io as sio
from schoolplan import projection as P
from schoolplan.backtest import backtest, progression_check
from schoolplan.demo._history import (
    BIRTHS_FILE,
    DEFAULT_SEED,
    HISTORY_FILE,
    LEDGER_FILE,
    write_history,
)
from schoolplan.errors import InputValidationError
from schoolplan.io import read_demand, read_schools
from schoolplan.settings import Settings

NI_LEDGER = "northern_ireland/raw/School level - primary schools - data 202324.XLSX"


# ------------------------------------------------------------------------------------------------
# hand-made histories

RATIOS = {"A": [0.98, 0.97, 1.00, 0.95, 0.99], "B": [1.02, 1.01, 0.96, 0.99, 1.00]}
BIRTHS = {b: 1000.0 - 25 * (b - 2004) for b in range(2004, 2021)}  # 2004-2020


def _history(share=0.9, years=range(2016, 2026), ratios=RATIOS) -> pd.DataFrame:
    """Grade 1 = share x births six years before; grade g+1 = ratio x grade g the year before."""
    rows = []
    for sid, rs in ratios.items():
        size = 1.0 if sid == "A" else 0.5
        for y in years:
            for g in range(1, 7):
                rows.append((sid, y, g, share * size * BIRTHS[y - 5 - g] * np.prod(rs[:g - 1]), "T1"))
    return pd.DataFrame(rows, columns=["school_id", "year", "grade", "pupils", "town_code"])


def _births(scale=1.0) -> pd.DataFrame:
    b = pd.DataFrame({"area_id": "T1", "area": "town", "birth_year": list(BIRTHS),
                      "births": [v * scale for v in BIRTHS.values()], "observed_year": list(BIRTHS)})
    b.attrs["area"] = "town"
    return b


def test_known_progression_ratios_are_recovered_exactly():
    got = P.progression_ratios(_history(), settings=Settings({"projection_shrinkage_pupils": 0}))
    for sid, rs in RATIOS.items():
        r = got[got["school_id"] == sid].sort_values("grade_from")
        assert list(r["grade_from"]) == [1, 2, 3, 4, 5]
        np.testing.assert_allclose(r["ratio"], rs, rtol=1e-12)
        np.testing.assert_allclose(r["ratio_school"], rs, rtol=1e-12)


def test_a_school_with_few_pupils_is_pulled_toward_the_county_ratio():
    big = _history(ratios={"A": [1.0] * 5})
    small = pd.DataFrame({"school_id": "S", "year": [2024, 2024, 2025, 2025], "grade": [1, 2, 1, 2],
                          "pupils": [10.0, 9.0, 12.0, 8.0]})  # one move: 10 pupils -> 8
    got = P.progression_ratios(pd.concat([big, small]))
    s = got[(got["school_id"] == "S")].iloc[0]
    county = s["ratio_county"]
    # county ratio: all pupils moving from grade 1 to grade 2, both schools
    a = big[big["grade"].isin([1, 2])].pivot_table(index="year", columns="grade", values="pupils")
    num, den = a[2].iloc[1:].sum() + 8, a[1].iloc[:-1].sum() + 10
    assert county == pytest.approx(num / den)
    # by hand: (pupils arriving + 20 x county) / (pupils leaving + 20), weight 10 / 30
    assert s["ratio"] == pytest.approx((8 + 20 * county) / (10 + 20))
    assert s["weight_school"] == pytest.approx(10 / 30)
    assert s["ratio_school"] == pytest.approx(0.8)


def test_cohorts_move_up_by_their_ratios_and_births_feed_grade_one_six_years_later():
    h = _history()
    exact = Settings({"projection_shrinkage_pupils": 0})  # each school keeps its own ratios
    proj = P.cohort_projection(h, births=_births(scale=1.5), horizon=6, settings=exact)
    assert proj.attrs["base_year"] == 2025 and proj.attrs["method"] == "cohort"
    p = proj.set_index(["school_id", "year", "grade"])["pupils"]
    for sid, rs in RATIOS.items():
        size = 1.0 if sid == "A" else 0.5
        for y in range(2026, 2032):
            for g in range(1, 7):
                b = y - 5 - g  # birth year of the cohort in grade g
                births = BIRTHS[b] if b <= 2020 else np.mean([BIRTHS[2018], BIRTHS[2019], BIRTHS[2020]])
                want = 0.9 * size * births * np.prod(rs[:g - 1])
                assert p[(sid, y, g)] == pytest.approx(want, rel=1e-9), (sid, y, g)
    # share of town births: 0.9 / 1.5 for school A
    assert "0.6000 x births of town T1 6 years before" in proj.attrs["intake"]["A"]
    # noise-free history: no spread while births are known, a band once they are carried forward
    known = proj[(proj["year"] == 2026)]
    assert (known["high"] - known["low"]).max() == pytest.approx(0.0, abs=1e-9)
    later = proj[(proj["year"] == 2028) & (proj["grade"] == 1)]
    assert ((later["high"] > later["pupils"]) & (later["low"] < later["pupils"])).all()


@pytest.mark.parametrize("method", ["mean", "trend"])
def test_grade_one_without_births_is_held_at_the_recent_mean_or_trend(method):
    h = _history()
    proj = P.cohort_projection(h, horizon=3, settings=Settings({"projection_hold_method": method}))
    g1 = h[(h["school_id"] == "A") & (h["grade"] == 1)].set_index("year")["pupils"]
    last3 = g1.loc[2023:2025]
    got = proj[(proj["school_id"] == "A") & (proj["grade"] == 1) & ~proj["observed"]]
    if method == "mean":
        np.testing.assert_allclose(got["pupils"], [last3.mean()] * 3)
    else:  # births fall by 25 a year: grade 1 falls by 0.9 x 25
        np.testing.assert_allclose(got["pupils"], last3.iloc[-1] - 22.5 * np.arange(1, 4))
    assert "held at the " + method in proj.attrs["intake"]["A"]


def test_grade_seven_is_a_share_of_the_county_grade_six_a_year_before():
    prim = _history(ratios={"A": [1.0] * 5})
    g6 = prim[prim["grade"] == 6].set_index("year")["pupils"]
    rows = []
    for y in range(2017, 2026):  # the junior school takes 80 % of grade 6, all move up
        for g in (7, 8, 9):
            if y - (g - 7) - 1 in g6.index:
                rows.append(("J", y, g, 0.8 * g6[y - (g - 7) - 1]))
    h = pd.concat([prim, pd.DataFrame(rows, columns=["school_id", "year", "grade", "pupils"])])
    proj = P.cohort_projection(h, births=_births(), horizon=3)
    p = proj.set_index(["school_id", "year", "grade"])["pupils"]
    for y in (2026, 2027, 2028):
        assert p[("J", y, 7)] == pytest.approx(0.8 * p[("A", y - 1, 6)])
        assert p[("J", y, 9)] == pytest.approx(p[("J", y - 1, 8)])


def test_regression_trend_recovers_a_straight_line():
    rows = [("A", y, g, 100 + 5 * (y - 2016) + g) for y in range(2016, 2026) for g in (1, 2, 3)]
    h = pd.DataFrame(rows, columns=["school_id", "year", "grade", "pupils"])
    proj = P.regression_projection(h, horizon=5)
    got = proj[~proj["observed"]].set_index(["year", "grade"])["pupils"]
    for y in range(2026, 2031):
        assert got[(y, 2)] == pytest.approx(100 + 5 * (y - 2016) + 2)
    pooled = P.regression_projection(h, model="pooled", horizon=5)
    assert (pooled["pupils"] > 0).all() and (pooled["low"] <= pooled["high"]).all()


# ------------------------------------------------------------------------------------------------
# readers


def _write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_wide_ledger_with_a_title_row_and_chinese_headers(tmp_path):
    f = _write_csv(tmp_path / "h.csv",
                   "某县分年级在校生统计表,,,,,\n"
                   "学年,学校代码,学校名称,一年级,二年级,十年级\n"
                   "2023-2024学年,3715001,甲小学,30,28,\n"
                   "2024-2025学年,3715001,甲小学,25,,\n")
    h = sio.read_enrolment_history(f)
    assert list(h.columns) == ["school_id", "year", "grade", "pupils", "name"]
    assert h[["year", "grade", "pupils"]].values.tolist() == [[2023, 1, 30], [2023, 2, 28], [2024, 1, 25]]
    assert [p.code for p in h.attrs["problems"]] == ["grade_out_of_range"]


def test_long_ledger_with_grade_words(tmp_path):
    f = _write_csv(tmp_path / "h.csv", "年份,学校代码,年级,人数\n2024,J1,初一,300\n2024,J1,八年级,310\n"
                                      "2024,P1,3,40\n")
    h = sio.read_enrolment_history(f)
    assert h[["school_id", "grade", "pupils"]].values.tolist() == [["J1", 7, 300], ["J1", 8, 310],
                                                                   ["P1", 3, 40]]


@pytest.mark.parametrize(
    "text, code, row, column",
    [
        ("学年,学校代码,一年级\n2024,A,30\n2024,A,31\n", "duplicate_row", 3, "学校代码"),
        ("学年,学校代码,一年级\n2024,A,-3\n", "negative_value", 2, "一年级"),
        ("学年,学校代码,一年级\n2024,A,三十\n", "not_a_number", 2, "一年级"),
        ("学年,学校代码,一年级\n去年,A,30\n", "bad_year", 2, "学年"),
        ("学年,学校代码,年级,人数\n2024,A,高一,30\n", "grade_out_of_range", 2, "年级"),
        ("学年,学校代码,年级,人数\n2024,A,1,30\n2024,A,一年级,31\n", "duplicate_row", 3, "学校代码"),
        ("学校代码,一年级\nA,30\n", "missing_column", None, "year"),
    ],
)
def test_bad_history_rows_are_reported_with_their_rows(tmp_path, text, code, row, column):
    f = _write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(InputValidationError) as err:
        sio.read_enrolment_history(f)
    hits = [p for p in err.value.problems if p.code == code]
    assert hits, [p.code for p in err.value.problems]
    assert (hits[0].row, hits[0].column) == (row, column)
    assert str(f) in str(err.value)


def test_births_long_wide_and_by_age(tmp_path):
    long = sio.read_births(_write_csv(tmp_path / "b.csv", "乡镇代码,年份,出生人口\n101,2019,500\n101,2020,450\n"))
    assert long[["area_id", "birth_year", "births"]].values.tolist() == [["101", 2019, 500], ["101", 2020, 450]]
    assert long.attrs["area"] == "town"
    wide = sio.read_births(_write_csv(tmp_path / "w.csv", "乡镇代码,2019年,2020年\n101,500,450\n"))
    assert wide[["birth_year", "births"]].values.tolist() == [[2019, 500], [2020, 450]]
    ages = sio.read_births(_write_csv(tmp_path / "a.csv",
                                    "村代码,乡镇代码,年份,0岁,1岁\nV1,101,2023,20,22\nV1,101,2024,18,21\n"))
    # children aged a counted in year y were born in y - a; the latest count of a cohort is kept
    assert ages[["area_id", "birth_year", "births", "observed_year"]].values.tolist() == [
        ["V1", 2022, 22, 2023], ["V1", 2023, 21, 2024], ["V1", 2024, 18, 2024]]
    assert ages.attrs["area"] == "village" and list(ages["town_code"].unique()) == ["101"]
    with pytest.raises(InputValidationError, match="row 3"):
        sio.read_births(_write_csv(tmp_path / "x.csv", "乡镇代码,年份,出生人口\n101,2019,500\n101,2019,-4\n"))


# ------------------------------------------------------------------------------------------------
# the demo county's synthetic history


@pytest.fixture(scope="module")
def demo(request):
    from tests.conftest import ROOT

    data = ROOT / "data"
    history = sio.read_enrolment_history(data / HISTORY_FILE)
    births = sio.read_births(data / BIRTHS_FILE)
    return {"data": data, "history": history, "births": births}


def test_committed_history_is_current_and_matches_the_ledger(demo, tmp_path):
    """Run `python -m schoolplan.demo._history` when the demo ledger changes."""
    (tmp_path / "schools").mkdir()
    shutil.copy(demo["data"] / LEDGER_FILE, tmp_path / LEDGER_FILE)
    paths = write_history(tmp_path, seed=DEFAULT_SEED)
    for key, rel in (("history", HISTORY_FILE), ("births", BIRTHS_FILE)):
        assert paths[key].read_bytes() == (demo["data"] / rel).read_bytes(), rel
        assert "synthetic" in rel
    h = demo["history"]
    assert sorted(h["year"].unique()) == list(range(2016, 2026))
    ledger = read_schools(demo["data"] / LEDGER_FILE)
    last = h[h["year"] == 2025].pivot_table(index="school_id", columns="grade", values="pupils")
    for r in ledger.itertuples():
        for g in range(1, 10):
            v = getattr(r, f"enrollment_g{g}")
            assert (pd.isna(v) and g not in last.columns) or pd.isna(v) == pd.isna(last.at[r.school_id, g])
            if pd.notna(v):
                assert last.at[r.school_id, g] == v
    b = demo["births"].groupby("birth_year")["births"].sum()
    assert list(b.index) == list(range(2010, 2025))
    assert 0.4 <= b[2023] / b[2016] <= 0.6  # births roughly halve, as in China


def test_backtest_on_the_demo_history(demo):
    """Fit 2016-2023, project 2024-2025: the cohort method with births errs by under 5 %."""
    res = backtest(demo["history"], births=demo["births"], holdout_years=2)
    s = res.summary.set_index(["scope", "year"])
    assert res.train_years == (2016, 2023) and res.holdout_years == (2024, 2025)
    assert s.loc[("school-year", "all"), "n"] == 142
    assert s.loc[("school-year", "all"), "mape_pct"] < 5.0      # measured 2.9 %
    assert s.loc[("school-year", "all"), "wape_pct"] < 4.0      # measured 2.9 %
    assert s.loc[("school-year", "all"), "mae_pupils"] < 25.0
    assert s.loc[("county", "all"), "mape_pct"] < 2.0           # measured 0.3 %
    assert s.loc[("school-year", "all"), "in_band_pct"] >= 70.0  # 80 % band: measured 87 %
    assert f"MAPE {s.loc[('school-year', 'all'), 'mape_pct']:.1f} %" in res.text()
    for kw in ({"method": "cohort"}, {"method": "regression"}, {"method": "regression", "model": "pooled"}):
        other = backtest(demo["history"], holdout_years=2, **kw).summary.set_index(["scope", "year"])
        assert other.loc[("school-year", "all"), "wape_pct"] < 6.0, kw


def test_ten_year_projection_and_demand_for_2030(demo):
    proj = P.cohort_projection(demo["history"], births=demo["births"])
    assert proj["year"].max() == 2035 and (proj["low"] <= proj["pupils"]).all()
    assert (proj["pupils"] <= proj["high"]).all() and (proj["pupils"] >= 0).all()
    primary = proj[proj["grade"] <= 6].groupby("year")["pupils"].sum()
    assert primary[2030] < 0.8 * primary[2025]  # the birth fall reaches all primary grades
    width = proj[proj["grade"] == 1].groupby("year").apply(lambda f: (f["high"] - f["low"]).sum())
    assert width[2035] > width[2030]  # births carried beyond 2024 widen the band
    demand = read_demand(demo["data"] / "demand/demo_villages_synthetic.geojson")
    by_births = P.project_demand(demand, proj, year=2030, births=demo["births"])
    by_schools = P.project_demand(demand, proj, year=2030, by="schools")
    for out in (by_births, by_schools):
        assert list(out.columns) == list(demand.columns) and out.attrs["year"] == 2030
        ratio = out["pupils_primary"].sum() / demand["pupils_primary"].sum()
        assert 0.5 < ratio < 0.8, (out.attrs["projection_basis"], ratio)
    same = P.project_demand(demand, proj, year=2025, by="schools")
    np.testing.assert_allclose(same["pupils_primary"], demand["pupils_primary"])


# ------------------------------------------------------------------------------------------------
# real data: Northern Ireland 2023/24


@pytest.mark.shared_data
def test_northern_ireland_cross_sectional_progression(shared_data):
    """One year's year-1 … year-7 cohorts against the next year group, per school and council.

    Sane means: every council's ratio lies in 0.95-1.06 and the region's in 0.98-1.05 (NI
    births fell slowly, so older cohorts are slightly larger); under 5 % of schools are outliers.
    """
    path = shared_data / NI_LEDGER
    cols = {"school_id": "DE ref", "name": "school name",
            **{f"enrollment_g{g}": f"year {g}" for g in range(1, 8)}}
    h = sio.read_enrolment_history(path, sheet="Enrolments", header_row=4, columns=cols, year=2023)
    assert h["school_id"].nunique() == 787 and h["grade"].max() == 7
    footnotes = [p for p in h.attrs["problems"] if p.code == "no_counts"]
    assert footnotes and all(p.row > 790 for p in footnotes)
    ref = pd.read_excel(path, sheet_name="reference data", header=3, dtype={"De ref": str})
    council = dict(zip(ref["De ref"], ref["district council (2014)"], strict=True))
    check = progression_check(h, groups=council)
    g = check.groups.set_index("group")
    assert len(g) == 12  # 11 councils and all
    assert g["ratio"].drop("all").between(0.95, 1.06).all(), g["ratio"]
    assert 0.98 <= g.at["all", "ratio"] <= 1.05           # measured 1.018
    out = check.schools[check.schools["outlier"]]
    assert 0 < len(out) < 0.05 * 787
    assert (out["pupils_lower"] >= 50).all()
    t = check.transitions[check.transitions["group"] == "all"]
    assert list(t["grade_from"]) == [1, 2, 3, 4, 5, 6] and t["ratio"].between(0.95, 1.06).all()


def test_scenario_for_a_future_year_and_compare_across_years(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from schoolplan.cli import app
    from schoolplan.scenario import evaluate, load_scenario

    root = Path(__file__).resolve().parents[1]
    r = evaluate(load_scenario(root / "scenarios" / "demo-2030.yaml"))
    proj = r.inputs.projection
    at = proj[proj["year"] == 2030].groupby("school_id")["pupils"].sum().round(0)
    s = r.schools.set_index("school_id")
    assert (s.loc[at.index, "enrollment"] == at).all()
    assert (s["enrollment_ledger"] > 0).all()
    d = r.inputs.demand
    assert d["pupils_primary"].sum() < d["pupils_primary_base"].sum()  # births roughly halved
    res = CliRunner().invoke(app, ["-q", "compare", str(root / "scenarios" / "demo-2030.yaml"),
                                   "--years", "2025,2030", "--out", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "comparison.csv", encoding="utf-8-sig").set_index("indicator")
    assert t.at["small_lt50", "demo-2030 2030"] > t.at["small_lt50", "demo-2030 2025"]
    assert t.at["small_lt50", "demo-2030 2025"] == 15  # 2025 is the ledger year: as today


def test_first_year_of_seat_warnings():
    from pathlib import Path

    from schoolplan.scenario import evaluate, load_scenario

    root = Path(__file__).resolve().parents[1]
    today = evaluate(load_scenario(root / "scenarios" / "demo-county.yaml")).schools.set_index("school_id")
    r = evaluate(load_scenario(root / "scenarios" / "demo-2030.yaml")).schools.set_index("school_id")
    red_today = today.index[today["seat_warning"] == "red"]
    assert (r.loc[red_today, "first_red_year"] == 2025).all()
    red_2030 = r.index[r["seat_warning"] == "red"]
    assert (r.loc[red_2030, "first_red_year"] <= 2030).all()
    never = r["first_yellow_year"].isna()
    assert (r.loc[never, "first_red_year"].isna()).all()
    assert never.sum() > 0

"""County-level rules (schoolplan.counties) on hand-made ledgers whose answers a planner can
check by hand. The frames already carry the levels ``senior``, ``complete``, ``special``,
``kindergarten`` and an ``ownership`` column (public/private)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from schoolplan.counties import COUNTY_COLUMNS, county_checks
from schoolplan.settings import Settings


def _ledger() -> pd.DataFrame:
    """County 甲县:
    * 甲一中 public senior, 1,500 seats -> 500 grade-10 seats;
    * 甲完中 private complete, 600 seats, 600 pupils of whom 300 in grades 7-9 -> 300 senior
      seats (100 a year); its grade 9 is 100 pupils;
    * 甲初中 junior, 1,800 pupils, no grade columns -> 600 in grade 9;
    * kindergartens: public 300 children, private 300, one of unknown ownership (50).
    Grade-10 seats 600 for 700 graduates: 86 %.
    County 乙县: one public senior (seats 900 = 300 a year), a junior with grade 9 = 250
    pupils, a special school; kindergartens all public."""
    rows = [
        ("甲县", "甲一中", "senior", "public", 1500, 1400, {}),
        ("甲县", "甲完中", "complete", "private", 600, 600, {"enrollment_g7": 100, "enrollment_g8": 100,
                                                          "enrollment_g9": 100}),
        ("甲县", "甲初中", "junior", "public", 1900, 1800, {}),
        ("甲县", "甲公办园", "kindergarten", "public", 330, 300, {}),
        ("甲县", "甲民办园", "kindergarten", "private", 360, 300, {}),
        ("甲县", "甲某园", "kindergarten", None, 60, 50, {}),
        ("乙县", "乙一中", "senior", None, 900, 850, {}),
        ("乙县", "乙初中", "junior", "public", 800, 750, {"enrollment_g9": 250}),
        ("乙县", "乙特教", "special", "public", 100, 60, {}),
        ("乙县", "乙园", "kindergarten", "public", 200, 180, {}),
    ]
    out = pd.DataFrame([{"county": c, "name": n, "level": lv, "ownership": o, "seats": s, "enrollment": e,
                         "status": "open", **g} for c, n, lv, o, s, e, g in rows])
    out["school_id"] = [f"S{i}" for i in range(len(out))]
    return out


def _rule(table: pd.DataFrame, county: str, rule: str) -> pd.Series:
    return table[(table["county"] == county) & (table["rule_id"] == rule)].iloc[0]


def test_each_county_gets_every_rule_with_its_source():
    table = county_checks(_ledger(), population={"甲县": 250000, "乙县": 150000})
    assert list(table.columns) == COUNTY_COLUMNS
    assert len(table) == 8  # 2 counties x 4 rules
    assert table["source"].str.len().gt(0).all()
    assert "Liaocheng 2025" in _rule(table, "甲县", "senior_seat_supply")["source"]
    assert "Jining 2024" in _rule(table, "甲县", "special_school")["source"]


def test_public_high_school_counts_only_public_ones():
    table = county_checks(_ledger())
    a = _rule(table, "甲县", "public_high_school")
    assert (a["value"], a["limit"], a["verdict"]) == (1.0, 1.0, "ok")  # the private 完中 does not count
    assert "甲一中" in a["message_zh"]
    b = _rule(table, "乙县", "public_high_school")  # no ownership given: taken as public
    assert b["verdict"] == "ok"
    no_public = _ledger()
    no_public.loc[no_public["name"] == "甲一中", "ownership"] = "private"
    c = _rule(county_checks(no_public), "甲县", "public_high_school")
    assert (c["value"], c["verdict"], c["verdict_zh"], c["verdict_en"]) == (0.0, "fail", "未达标", "not met")


def test_senior_seats_against_junior_graduates():
    table = county_checks(_ledger())
    a = _rule(table, "甲县", "senior_seat_supply")
    assert a["value"] == pytest.approx(600 / 700, abs=1e-3) and a["verdict"] == "fail"
    assert "高一学位约 600 个，初三学生 700 人，供给率 86%" in a["message_zh"]
    assert "about 600 grade-10 seats for 700 grade-9 pupils: 86%" in a["message_en"]
    b = _rule(table, "乙县", "senior_seat_supply")  # 300 seats a year for 250 graduates
    assert (b["value"], b["verdict"]) == (1.2, "ok")
    looser = county_checks(_ledger(), settings=Settings().replace(county_senior_seat_supply_min=0.8))
    assert _rule(looser, "甲县", "senior_seat_supply")["verdict"] == "ok"


def test_special_school_by_population():
    table = county_checks(_ledger(), population={"甲县": 250000, "乙县": 150000})
    a, b = _rule(table, "甲县", "special_school"), _rule(table, "乙县", "special_school")
    assert (a["value"], a["verdict"]) == (0.0, "fail")
    assert "县人口 250,000 人，超过 200,000 人，特殊教育学校 0 所" in a["message_zh"]
    assert b["verdict"] == "not_applicable"
    unknown = _rule(county_checks(_ledger()), "甲县", "special_school")
    assert unknown["verdict"] == "unknown" and "county_population" in unknown["message_en"]
    from_setting = county_checks(_ledger(), settings=Settings().replace(county_population={"甲县": 300000}))
    assert _rule(from_setting, "甲县", "special_school")["verdict"] == "fail"


def test_public_share_of_kindergarten_children():
    table = county_checks(_ledger())
    a = _rule(table, "甲县", "kindergarten_public_share")
    assert (a["value"], a["limit"], a["verdict"]) == (0.5, 0.6, "fail")  # 300 / 600; the unknown 50 left out
    assert a["message_zh"] == "公办园在园幼儿 300 人 / 600 人 = 50%（不低于 60%）；1 所未注明办学性质，未计入"
    assert _rule(table, "乙县", "kindergarten_public_share")["verdict"] == "ok"
    no_kg = _ledger()
    no_kg = no_kg[no_kg["level"] != "kindergarten"]
    assert _rule(county_checks(no_kg), "甲县", "kindergarten_public_share")["verdict"] == "unknown"


def test_closed_schools_and_missing_seats():
    led = _ledger()
    led.loc[led["name"] == "乙一中", "status"] = "closed"
    table = county_checks(led)
    assert _rule(table, "乙县", "public_high_school")["verdict"] == "fail"
    led = _ledger()
    led.loc[led["name"] == "甲一中", "seats"] = np.nan
    assert _rule(county_checks(led), "甲县", "senior_seat_supply")["verdict"] == "unknown"


def test_counties_csv_and_sheet_are_written(tmp_path):
    from openpyxl import load_workbook
    from test_siting import _hand_files

    from schoolplan.outputs import write_outputs
    from schoolplan.scenario import evaluate, scenario_from_dict

    result = evaluate(scenario_from_dict(_hand_files(tmp_path), base=tmp_path))
    paths = write_outputs(result, tmp_path / "out", lang="zh")
    table = pd.read_csv(paths["counties"])
    assert set(table["rule_id"]) == {"public_high_school", "senior_seat_supply", "special_school",
                                     "kindergarten_public_share"}
    hs = table[table["rule_id"] == "public_high_school"].iloc[0]
    assert (hs["county"], hs["value"], hs["verdict"]) == ("示例县", 0.0, "fail")  # the hand county has none
    ws = load_workbook(paths["report"])["县级规则"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["县（区）", "规则"] and "依据" in header
    assert ws.cell(2, 2).value == "公办普通高中数" and ws.cell(2, header.index("结论") + 1).value == "未达标"


def test_a_ledger_with_every_level_and_ownership_passes_check_and_runs(tmp_path):
    """Issue 18, done when: a ledger with 普通高中, 十二年一贯制, 特殊教育学校, 幼儿园 and an ownership
    column (公办/民办) passes ``check`` and runs; the county table shows each rule with its source."""
    import shutil

    from typer.testing import CliRunner

    from schoolplan.cli import app

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "data", tmp_path / "data")
    ledger = pd.read_excel(tmp_path / "data/schools/demo_schools_synthetic.xlsx", sheet_name="学校台账",
                           dtype={"学校代码": str, "乡镇代码": str})
    grades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级"]
    first = ledger.iloc[0]
    extra = []
    for i, (name, level, pupils, seats, ownership) in enumerate([
            ("示范县第一高级中学", "普通高中", 1800, 2000, "公办"),
            ("示范县育才十二年一贯制学校", "十二年一贯制", 1500, 1600, "民办"),
            ("示范县特殊教育学校", "特殊教育学校", 120, 150, "公办"),
            ("示范县实验幼儿园", "幼儿园", 360, 390, "公办"),
            ("示范县阳光幼儿园", "幼儿园", 200, 240, "民办")]):
        row = first.copy()
        row[["学校代码", "学校名称", "学段", "在校生数", "学位数"]] = [f"37159909{i:02d}", name, level, pupils, seats]
        row[[*grades, "班级数"]] = None
        row["经度"] = float(first["经度"]) + 0.002 * (i + 1)
        row["办学性质"] = ownership
        extra.append(row)
    ledger["办学性质"] = "公办"
    pd.concat([ledger, pd.DataFrame(extra)], ignore_index=True).to_excel(
        tmp_path / "ledger.xlsx", index=False, sheet_name="学校台账")
    (tmp_path / "levels.yaml").write_text(
        "name: levels\nsynthetic: true\ninputs:\n"
        "  schools: {path: ledger.xlsx, coordinate_system: wgs84}\n"
        "  towns: {path: data/boundaries/demo_towns_synthetic.geojson}\n"
        "  demand: {path: data/demand/demo_villages_synthetic.geojson}\n"
        "  roads: none\n", encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(app, ["check", str(tmp_path / "levels.yaml"), "--lang", "en"])
    assert checked.exit_code == 0, checked.output
    assert "76 schools" in checked.output
    ran = runner.invoke(app, ["run", str(tmp_path / "levels.yaml"), "--out", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    counties = pd.read_csv(tmp_path / "out" / "counties.csv", encoding="utf-8-sig").set_index("rule_id")
    assert set(counties.index) >= {"public_high_school", "senior_seat_supply", "special_school",
                                   "kindergarten_public_share"}
    assert counties["source"].notna().all() and (counties["source"].str.len() > 0).all()
    # the private 十二年一贯制 school is no public high school: the county's ledger school 示范县第一中学
    # (complete) and the new public 普通高中 are
    assert counties.at["public_high_school", "value"] == 2
    assert counties.at["special_school", "value"] == 1
    # public kindergartens: 360 of 560 children
    assert counties.at["kindergarten_public_share", "value"] == pytest.approx(360 / 560, abs=1e-3)
    schools = pd.read_csv(tmp_path / "out" / "schools.csv", encoding="utf-8-sig", dtype={"school_id": str})
    assert set(schools["level"]) >= {"senior", "twelve_year", "special", "kindergarten"}

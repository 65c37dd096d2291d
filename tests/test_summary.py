"""The one-page 方案摘要 (summary.pdf / summary.html) on a hand-made county of three schools, and
the comparison summary on a hand-made comparison table: every figure checked by hand."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from schoolplan.errors import Problems
from schoolplan.outputs import summary
from schoolplan.outputs.summary import (
    FontMissingError,
    comparison_page,
    run_page,
    small_schools_sentence,
    write_comparison_summary,
    write_run_summary,
)
from schoolplan.schema import Inputs, Result, Scenario
from schoolplan.settings import Settings


def _result(*, settings: Settings | None = None) -> Result:
    """Two towns; 甲小学 stays, 乙小学 becomes a satellite, 丙教学点 closes."""
    towns = gpd.GeoDataFrame({"town_code": ["1", "2"], "town": ["甲镇", "乙镇"]},
                             geometry=[box(116.0, 36.0, 116.1, 36.1), box(116.1, 36.0, 116.2, 36.1)],
                             crs="EPSG:4326")
    schools = gpd.GeoDataFrame(
        {"school_id": ["s1", "s2", "s3"], "name": ["甲小学", "乙小学", "丙教学点"],
         "level": ["primary", "teaching_point", "teaching_point"],
         "level_before": ["primary", "primary", "teaching_point"],
         "status": ["open", "satellite", "closed"], "town": ["甲镇", "乙镇", "乙镇"],
         "town_code": ["1", "2", "2"], "enrollment": [420.0, 90.5, 30.0]},
        geometry=[Point(116.05, 36.05), Point(116.15, 36.05), Point(116.18, 36.02)], crs="EPSG:4326")
    counts = {"schools": 2, "schools_closed": 1, "small_schools_by_tier": {"lt200": 2, "lt100": 1, "lt50": 1},
              "violations": {"junior_middle_per_town": 2, "balance_cv": 1, "class_size": 0},
              "seat_warnings": {"red": 1, "yellow": 0, "ok": 1}, "towns": 2, "warnings": 0}
    travel = {"g1_3": {"pupils": 106.5, "mean_time_min": 21.25, "p95_time_min": 44.0,
                       "pupils_over_30_min": 10.5, "pupils_needing_bus": 0.5,
                       "pupils_needing_boarding": 0.0}}
    return Result(
        scenario=Scenario(name="t", title="测试县撤并方案 / Test county consolidation", path=None,
                          inputs={}, actions=[{"close": ["s3"]}, {"to_satellite": ["s2"]}],
                          synthetic=True),
        settings=settings or Settings(),
        inputs=Inputs(schools=schools, towns=towns, demand=None, problems=Problems(),
                      files={"schools": {"path": "/data/台账.xlsx", "sha256": "ab" * 32}}),
        schools=schools, towns=towns, violations=pd.DataFrame(), created="2026-03-05T10:00:00+08:00",
        distance_method="road network (walk)", counts=counts,
        indicators={"travel": travel, "seat_shortage": {"primary": 12.5}},
    )


def _section(page, title):
    return next(s for s in page.sections if s.title == title)


def test_schools_before_and_after_by_level():
    page = run_page(_result(), lang="zh")
    rows = {r[0]: r[1:] for r in _section(page, "学校数（按学段）").rows}
    # before: two primary schools and a teaching point; after: one primary, one satellite
    assert rows["小学"] == ("2", "1", "-1")
    assert rows["教学点"] == ("1", "1", "0")
    assert rows["合计"] == ("3", "2", "-1")


def test_travel_pupils_are_whole_and_times_one_decimal():
    page = run_page(_result(), lang="zh")
    sec = _section(page, "上学出行（按年级组）")
    assert sec.header[4] == "超过30分钟（人）"
    # 106.5 pupils -> 106 (round half to even), 10.5 -> 10, 0.5 bus riders -> 0
    assert sec.rows == (("1-3年级", "106", "21.2", "44.0", "10", "0", "0"),)


def test_the_walk_limit_setting_names_the_column():
    page = run_page(_result(settings=Settings({"walk_limit_g1_3_min": 40})), lang="zh")
    assert _section(page, "上学出行（按年级组）").header[4] == "超过40分钟（人）"


def test_lines_say_what_the_scenario_does_in_words():
    page = run_page(_result(), lang="zh")
    assert page.title == "方案摘要" and page.date == "2026年3月5日" and page.synthetic
    assert page.subtitle == "测试县撤并方案"  # the Chinese half of the bilingual title
    assert page.lines[0] == "方案内容：撤并 1 所学校；1 所学校改为卫星校（保留1-3年级）"
    assert page.lines[1] == "撤并学校 1 所，卫星校（保留1-3年级）1 所，新建学校 0 所：丙教学点"
    assert page.lines[2] == "乡村小规模学校 2 所（不足200人），其中不足100人 1 所、不足50人 1 所"


def test_rules_and_seats_in_words():
    page = run_page(_result(), lang="zh")
    rules = dict(_section(page, "规则检查").rows)
    assert rules == {"每个乡镇至少保留一所初中": "2", "校际差异系数超限": "1"}  # zero counts left out
    seats = dict(_section(page, "学位").rows)
    assert seats["红色预警学校（所）"] == "1" and seats["小学学位缺口（人）"] == "12"


def test_bureau_style_small_school_sentence():
    tiers = {"lt50": 12, "lt100": 26, "lt200": 38}
    assert small_schools_sentence(tiers, "zh") == (
        "乡村小规模学校 38 所（不足200人），其中不足100人 26 所、不足50人 12 所")
    assert small_schools_sentence(tiers, "en") == (
        "38 small rural schools (under 200 pupils), of which 26 under 100, 12 under 50")


def test_english_page_has_no_chinese_labels():
    page = run_page(_result(), lang="en")
    labels = [page.title, *page.lines[:2], *(s.title for s in page.sections),
              *(h for s in page.sections for h in s.header)]
    assert not [t for t in labels if re.search(r"[\u4e00-\u9fff]", t.replace("丙教学点", ""))]
    assert page.subtitle == "Test county consolidation" and page.date == "05 March 2026"


def test_pdf_is_one_a4_page_with_chinese_text(tmp_path):
    paths = write_run_summary(_result(), tmp_path, lang="zh")
    pdf = paths["summary_pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/Count 1\b", pdf)
    assert re.search(rb"/MediaBox \[ ?0 0 595\.\d+ 841\.\d+ ?\]", pdf)  # A4 portrait in points
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(paths["summary_pdf"]), "-"],
                              capture_output=True, text=True, check=True).stdout
        for words in ("方案摘要", "合成示范数据", "学校数（按学段）", "丙教学点", "第1页共1页"):
            assert words in text


def test_html_is_the_same_page_and_prints_on_a4(tmp_path):
    paths = write_run_summary(_result(), tmp_path, lang="zh")
    text = paths["summary_html"].read_text(encoding="utf-8")
    assert "@page{size:A4 portrait" in text and "<svg" in text and "<script" not in text
    assert "乡村小规模学校 2 所（不足200人）" in text
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text)  # nothing loaded from the network


def test_no_cjk_font_gives_a_bilingual_message():
    with pytest.raises(FontMissingError) as err:
        summary.cjk_fonts(("No Such Font 1", "No Such Font 2"))
    assert "没有找到可显示中文的字体" in str(err.value) and "No font that can show Chinese" in str(err.value)
    assert "fonts-wqy-microhei" in str(err.value) and "No Such Font 2" in str(err.value)


def test_without_a_font_the_html_is_still_written(tmp_path, monkeypatch, caplog):
    def missing(names=summary.CJK_FONT_NAMES):
        raise FontMissingError("没有找到可显示中文的字体 / No font that can show Chinese")

    monkeypatch.setattr(summary, "cjk_fonts", missing)
    with caplog.at_level(logging.WARNING, logger="schoolplan.outputs.summary"):
        paths = write_run_summary(_result(), tmp_path, lang="zh")
    assert set(paths) == {"summary_html"} and not (tmp_path / "summary.pdf").exists()
    assert "No font that can show Chinese" in caplog.text


def _table():
    return pd.DataFrame({
        "indicator": ["schools_closed", "g4_6_mean_time_min", "g4_6_pupils_over_30_min", "seat_red",
                      "violations_balance_cv", "violations_class_size"],
        "label_zh": ["撤并学校数", "4-6年级平均时间（分钟）", "4-6年级超过30分钟人数", "红色预警学校数",
                     "违规：balance_cv", "违规：平均班额超标"],
        "label_en": ["schools closed", "grades 4-6 mean time (min)", "grades 4-6 over 30 min",
                     "red", "violations: balance_cv", "violations: class size"],
        "base": [0, 31.8, 5960.0, 22, 1, 0], "ps": [3, 50.8, 7359.5, 15, 1, 0],
        "ps Δ": [3, 19.0, 1399.5, -7, 0, 0],
    })


def test_comparison_page_groups_and_colours():
    page = comparison_page(_table(), lang="zh", titles=["基准 / base", "行星卫星 / planet"])
    assert [s.title for s in page.sections] == ["学校", "出行", "学位", "规则"]
    travel = _section(page, "出行")
    assert travel.header == ("指标", "方案1", "方案2", "变化")
    assert travel.rows[0] == ("4-6年级平均时间（分钟）", "31.8", "50.8", "+19.0")
    assert travel.rows[1] == ("4-6年级超过30分钟人数", "5,960", "7,360", "+1,400")  # whole pupils
    assert travel.tones[0][3] == "worse"
    assert _section(page, "学位").tones[0][3] == "better"   # seven fewer red warnings
    assert _section(page, "学校").tones[0][3] == ""         # closing schools is neither
    rules = _section(page, "规则")
    assert rules.rows == (("不符合：校际差异系数超限", "1", "1", "0"),)  # all-zero rows left out
    assert page.lines[:2] == ("方案1：基准（基准）", "方案2：行星卫星")


def test_comparison_summary_files(tmp_path):
    paths = write_comparison_summary(_table(), tmp_path, lang="en", titles=["a", "b (synthetic)"])
    assert paths["summary_pdf"].read_bytes().startswith(b"%PDF")
    text = paths["summary_html"].read_text(encoding="utf-8")
    assert "class='worse'>+19.0<" in text and "not met: coefficient of variation above the limit" in text

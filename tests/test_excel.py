"""The Excel report (report.xlsx) of the demo run, reopened with openpyxl and checked by hand."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from schoolplan import __version__
from schoolplan.outputs import excel as _excel
from schoolplan.outputs.excel import COLUMN_LABELS, SHEET_TITLES, write_report_xlsx
from schoolplan.scenario import evaluate, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo-county.yaml"

SHEETS_ZH = ["说明", "学校", "乡镇", "学位预警", "规则检查", "预警与提示", "分配", "撤并候选", "均衡指标", "县级规则",
             "设置", "数据检查"]
SHEETS_EN = ["About", "Schools", "Towns", "Seat warnings", "Violations", "Warnings and notices", "Assignments",
             "Consolidation candidates", "Balance indicators", "County rules", "Settings", "Input checks"]


@pytest.fixture(scope="module")
def result():
    return evaluate(load_scenario(DEMO))


@pytest.fixture(scope="module")
def reports(result, tmp_path_factory):
    """The demo report in both languages, each written alone into a fresh folder."""
    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"report-{lang}")
        out[lang] = write_report_xlsx(result, folder / "report.xlsx", lang=lang)
    return out


@pytest.fixture(scope="module")
def book_zh(reports):
    return openpyxl.load_workbook(reports["zh"])


@pytest.fixture(scope="module")
def book_en(reports):
    return openpyxl.load_workbook(reports["en"])


def _table(ws) -> pd.DataFrame:
    """A sheet as a frame with its header row as column names."""
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _column(ws, header: str) -> int:
    """1-based column number of a header."""
    return [c.value for c in ws[1]].index(header) + 1


def _fill(cell) -> str | None:
    """The 6-digit fill colour of a cell, or None when it has no solid fill."""
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    return str(cell.fill.fgColor.rgb)[-6:]


def test_sheet_names_in_both_languages(book_zh, book_en):
    assert book_zh.sheetnames == SHEETS_ZH
    assert book_en.sheetnames == SHEETS_EN
    assert book_zh.active.title == "说明"


def test_every_shown_column_has_both_labels():
    specs = [v for k, v in vars(_excel).items() if k.endswith("_SHEET_COLUMNS")]
    assert len(specs) == 11
    for spec in specs:
        for col in spec:
            name = col if isinstance(col, str) else col.name
            zh, en = COLUMN_LABELS[name]
            assert zh and en, name
    for zh, en in SHEET_TITLES.values():
        assert len(zh) <= 31 and len(en) <= 31 and not set(zh + en) & set("[]:*?/\\")


def test_frozen_header_and_autofilter_on_every_table(book_zh):
    frozen = {"学校": "C2", "乡镇": "C2", "学位预警": "C2", "规则检查": "A2", "分配": "A2",
              "设置": "B2", "数据检查": "A2"}
    for title, pane in frozen.items():
        ws = book_zh[title]
        assert ws.freeze_panes == pane, title
        last = openpyxl.utils.get_column_letter(ws.max_column)
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}", title
        assert all(c.font.bold for c in ws[1]), title


def test_chinese_headers_with_units(book_zh, book_en):
    heads = [c.value for c in book_zh["学校"][1]]
    assert heads[:7] == ["学校代码", "名称", "学段", "乡镇代码", "乡镇", "县（区）", "在校生（人）"]
    assert {"需求/学位", "学位预警", "平均距离（米）", "平均时间（分钟）"} <= set(heads)
    assert [c.value for c in book_zh["分配"][1]][8:10] == ["距离（米）", "时间（分钟）"]
    assert [c.value for c in book_en["Assignments"][1]][8:10] == ["distance (m)", "time (min)"]
    assert [c.value for c in book_en["Schools"][1]][:3] == ["school id", "name", "level"]


def test_schools_sheet_has_one_row_per_school(result, book_zh, book_en):
    for book, sheet, head in ((book_zh, "学校", "学校代码"), (book_en, "Schools", "school id")):
        ids = _table(book[sheet])[head].tolist()
        assert ids == result.schools["school_id"].tolist()
        assert len(ids) == len(set(ids)) == result.counts["schools"] == 71


def test_codes_shown_as_words(result, book_zh, book_en):
    zh = _table(book_zh["学校"])
    assert set(zh["学段"]) <= {"小学", "初中", "九年一贯制", "完全中学", "教学点"}
    assert (zh["学段"] == "小学").sum() == result.counts["schools_by_level"]["primary"]
    assert set(zh["城乡类别"]) <= {"城区", "镇区", "乡村"}
    lt50 = (result.schools["small_tier"] == "lt50").sum()
    assert lt50 and (zh["小规模学校分档"] == "少于50人").sum() == lt50
    assert set(zh["学位预警"]) <= {"红色预警", "黄色预警", "正常", "无学位数"}
    assert set(zh["超规模"]) == {"是", "否"}
    a = _table(book_zh["分配"])
    assert set(a["分配方法"]) == {"按台账校准", "就近（未校准）", "按学位容量"}
    assert set(a["年级组"]) == {"1-3年级", "4-6年级", "7-9年级"}
    en = _table(book_en["Schools"])
    assert (en["level"] == "junior middle").sum() == result.counts["schools_by_level"]["junior"]
    assert (en["small-school tier"] == "under 50 pupils").sum() == lt50


def test_seat_warning_fills_on_exactly_the_red_and_yellow_schools(result, book_zh):
    bands = result.schools.set_index("school_id")["seat_warning"]
    expected = {sid: _excel.RED if b == "red" else _excel.YELLOW
                for sid, b in bands.items() if b in ("red", "yellow")}
    assert expected  # the demo has schools to colour (red and yellow under the calibrated assignment)
    ws = book_zh["学校"]
    band_col, util_col = _column(ws, "学位预警"), _column(ws, "需求/学位")
    filled = {}
    for row in ws.iter_rows(min_row=2):
        colour = _fill(row[band_col - 1])
        assert _fill(row[util_col - 1]) == colour
        if colour:
            filled[row[0].value] = colour
    assert filled == expected
    # the 学位预警 sheet: one row per school and 学段, the band cell coloured by its band
    table = result.seat_warnings
    ws = book_zh["学位预警"]
    col = _column(ws, "现状预警")
    got = {(row[0].value, row[4].value): _fill(row[col - 1]) for row in ws.iter_rows(min_row=2)}
    want = {(r.school_id, r.part_zh): {"red": _excel.RED, "yellow": _excel.YELLOW}.get(r.warning_today)
            for r in table.itertuples()}
    assert got == want


def test_seat_warning_sheet_has_a_row_per_school_and_part(result, book_zh):
    t = _table(book_zh["学位预警"])
    s = result.schools
    parts = len(s) + int((s["level"] == "nine_year").sum())  # a nine-year school has two rows
    assert len(t) == parts
    nine = s.loc[s["level"] == "nine_year", "school_id"].iloc[0]
    assert set(t.loc[t["学校代码"] == nine, "学段"]) == {"小学部", "初中部"}
    assert set(t["现状预警"]) <= {"红色预警", "黄色预警", "正常", "无学位数"}
    assert not any(c.isascii() and c.strip() for c in t.columns)  # no English keys in Chinese


def test_number_formats(book_zh):
    ws = book_zh["学校"]
    for header, fmt in (("需求/学位", "0.0%"), ("在校生（人）", "#,##0"),
                        ("平均班额（人/班）", "#,##0.0"), ("经度（WGS-84）", "0.000000")):
        col = _column(ws, header)
        formats = {ws.cell(row=r, column=col).number_format for r in range(2, ws.max_row + 1)
                   if ws.cell(row=r, column=col).value is not None}
        assert formats == {fmt}, header


def test_time_shown_in_minutes(result, book_zh):
    ws = book_zh["分配"]
    first = result.assignments.iloc[0]
    assert ws.cell(row=2, column=_column(ws, "时间（分钟）")).value == pytest.approx(
        first["time_s"] / 60)
    assert ws.cell(row=2, column=_column(ws, "距离（米）")).value == pytest.approx(
        first["distance_m"])
    assert ws.max_row - 1 == len(result.assignments)


def test_rule_violations_coloured(result, book_zh):
    ws = book_zh["学校"]
    over = set(result.schools.loc[result.schools["over_size_cap"], "school_id"])
    assert len(over) == 3
    col = _column(ws, "超规模")
    flagged = {r[0].value for r in ws.iter_rows(min_row=2) if _fill(r[col - 1]) == _excel.RED}
    assert flagged == over
    towns = book_zh["乡镇"]
    col = _column(towns, "符合每乡镇一所初中")
    red = [r[1].value for r in towns.iter_rows(min_row=2) if _fill(r[col - 1]) == _excel.RED]
    assert red == result.towns.loc[~result.towns["junior_middle_rule_ok"], "town"].tolist()
    v = _table(book_zh["规则检查"])
    assert len(v) == len(result.violations)
    assert "每个乡镇至少保留一所初中" in set(v["规则"])


def test_about_sheet_states_inputs_and_synthetic_label(result, book_zh, book_en):
    for book in (book_zh, book_en):
        ws = book.worksheets[0]
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        texts = [str(c.value) for c in cells]
        assert texts[0] == result.scenario.title
        assert result.scenario.name in texts
        assert f"schoolplan {__version__}" in texts
        for key, info in result.inputs.files.items():
            digest = hashlib.sha256(Path(info["path"]).read_bytes()).hexdigest()
            assert info["sha256"] == digest
            assert digest in texts, key
        label = next(c for c in cells if c.value == "合成示范数据 synthetic demo data")
        assert label.font.color.rgb.endswith("C00000") and label.font.bold
    zh = [str(c.value) for row in book_zh["说明"].iter_rows() for c in row if c.value is not None]
    assert "学校数" in zh and "学位预警：红色预警" in zh
    assert any(t.startswith("路网最短路径") for t in zh)


def test_synthetic_label_only_for_synthetic_data(result):
    real = dataclasses.replace(result, scenario=dataclasses.replace(result.scenario,
                                                                    synthetic=False))
    for res, expected in ((result, True), (real, False)):
        wb = openpyxl.Workbook()
        ws = _excel._add_about_sheet(wb, res, "zh", ["学校"])
        texts = {c.value for row in ws.iter_rows() for c in row}
        assert ("合成示范数据 synthetic demo data" in texts) is expected


def test_settings_sheet_lists_every_setting(result, book_zh):
    t = _table(book_zh["设置"]).set_index("设置项")
    assert list(t.index) == [r["name"] for r in result.settings.to_records()]
    tiers = t.loc["small_school_tiers"]
    assert tiers["数值"] == "200, 100, 50" and tiers["取值来自"] == "方案文件"
    assert t.loc["class_size_primary", "单位"] == "人/班"
    assert t.loc["class_size_primary", "含义"].startswith("小学标准班额")


def test_cjk_columns_fitted_wider(book_zh):
    ws = book_zh["学校"]
    names = [c.value for c in ws["B"][1:]]
    widest = max(2 * len(n) for n in names)  # names are all Chinese: two units each
    assert ws.column_dimensions["B"].width >= widest
    assert ws.column_dimensions["A"].width < widest  # ids are ten ASCII digits


def test_written_atomically_and_alone(reports):
    for path in reports.values():
        assert [p.name for p in path.parent.iterdir()] == ["report.xlsx"]


def test_failed_write_leaves_old_file_and_no_temp(result, tmp_path, monkeypatch):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("schoolplan.outputs.files.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report_xlsx(result, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_same_result_gives_same_bytes(result, reports, tmp_path):
    again = write_report_xlsx(result, tmp_path / "again.xlsx", lang="zh")
    assert again.read_bytes() == reports["zh"].read_bytes()


def test_text_starting_with_equals_stays_text_and_bad_characters_go():
    wb = openpyxl.Workbook()
    df = pd.DataFrame({"school_id": ["1", "2"], "name": ["=1+1", "东城\x0b小学"],
                       "level": ["primary", "nine_year"]})
    _excel.add_table_sheet(wb, "schools", df, ["school_id", "name", "level"], lang="zh")
    buffer = io.BytesIO()
    wb.save(buffer)
    ws = openpyxl.load_workbook(buffer)["学校"]
    assert [c.value for c in ws["B"]] == ["名称", "=1+1", "东城小学"]
    assert ws["B2"].data_type == "s"
    assert [c.value for c in ws["C"]] == ["学段", "小学", "九年一贯制"]


def test_unknown_language_is_refused(result, tmp_path):
    with pytest.raises(ValueError, match="lang"):
        write_report_xlsx(result, tmp_path / "r.xlsx", lang="fr")
    assert not list(tmp_path.iterdir())


def test_run_without_demand_leaves_out_assignment_sheets(tmp_path):
    raw = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del raw["inputs"]["demand"], raw["inputs"]["roads"]
    result = evaluate(scenario_from_dict(raw, base=DEMO.parent, path=DEMO))
    path = write_report_xlsx(result, tmp_path / "report.xlsx", lang="en")
    book = openpyxl.load_workbook(path)
    # no travel: no seat warnings or assignments; candidates (size only) and balance remain
    assert book.sheetnames == ["About", "Schools", "Towns", "Violations",
                               "Consolidation candidates", "Balance indicators", "County rules", "Settings",
                               "Input checks"]
    heads = [c.value for c in book["Schools"][1]]
    assert "demand / seats" not in heads and "pupils" in heads
    about = [c.value for row in book["About"].iter_rows() for c in row]
    assert "not computed (no demand input)" not in about  # English shows the method as is
    assert any(str(v).startswith("none") for v in about)


def test_rule_sources_in_the_users_language(result, book_zh, book_en):
    """The rule-check sheet cites each rule's source in the reader's language: the Chinese wording
    of the setting it comes from in zh (no English sentence), the English source in en."""
    from schoolplan.rules import RULES

    zh, en = _table(book_zh["规则检查"]), _table(book_en["Violations"])
    src_zh = next(c for c in zh.columns if "依据" in str(c) or "来源" in str(c))
    src_en = next(c for c in en.columns if "source" in str(c).lower())
    english_sentence = re.compile(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}")
    assert len(zh) and not zh[src_zh].astype(str).str.contains(english_sentence).any()
    by_rule = result.violations.drop_duplicates("rule_id").set_index("rule_id")
    for rule_id in by_rule.index.intersection(list(RULES)):
        assert RULES[rule_id].source_in("en") == RULES[rule_id].source
        assert RULES[rule_id].source_in("zh") in set(zh[src_zh])
    assert set(en[src_en]) <= {*result.violations["source"]}


def test_about_sheet_shows_whole_pupils_and_readable_ratios(book_zh, book_en):
    """Counted people in the 说明 sheet are shown as whole pupils (the cell keeps the exact value);
    a factor near 1 keeps three decimals instead of showing as 1.0."""
    for ws, people in ((book_zh.worksheets[0], "（人）"), (book_en.worksheets[0], "pupils")):
        rows = [(str(r[0].value), c) for r in ws.iter_rows() for c in r[1:2] if isinstance(c.value, float)]
        counted = [c for label, c in rows if people in label and "占比" not in label and "share" not in label]
        assert counted and all(c.number_format == "#,##0" for c in counted)
        small = [c for _, c in rows if 0 < abs(c.value) < 2 and not float(c.value).is_integer()
                 and c.number_format != "0.0%"]
        assert all(c.number_format == "0.000" for c in small)


def test_candidate_scores_explained_in_the_users_language(result, book_zh, book_en):
    """The 撤并候选 sheet explains each score in words of the reader's language."""
    assert len(result.candidates)
    zh = _table(book_zh["撤并候选"])["得分构成"].dropna().astype(str)
    en = _table(book_en["Consolidation candidates"])["how the score is made"].dropna().astype(str)
    assert len(zh) == len(en) == len(result.candidates)
    assert zh.str.startswith("规模档").all() and not zh.str.contains("[A-Za-z]").any()
    assert en.str.startswith("tier").all()


def test_a_table_longer_than_the_limit_names_its_csv_instead(result, tmp_path):
    """report_sheet_max_rows (issue 15): a longer table's sheet gives its row count and its CSV
    (which has every row); a table within the limit is listed whole."""
    import dataclasses

    from schoolplan.settings import Settings

    n_schools = len(result.schools)
    assert len(result.assignments) > n_schools
    limit = Settings({"report_sheet_max_rows": n_schools})
    short = dataclasses.replace(result, settings=limit)
    for lang, word in (("zh", "assignments.csv"), ("en", "assignments.csv")):
        book = openpyxl.load_workbook(write_report_xlsx(short, tmp_path / f"r-{lang}.xlsx", lang=lang))
        assignments = book["分配" if lang == "zh" else "Assignments"]
        note = str(assignments["A1"].value)
        assert word in note and f"{len(result.assignments):,}" in note and f"{n_schools:,}" in note
        assert assignments.max_row == 3  # the note, a blank row, the column names: no rows
        schools = _table(book["学校" if lang == "zh" else "Schools"])
        assert len(schools) == n_schools  # exactly at the limit: listed whole


def test_about_sheet_shows_the_calibration_error_and_band_as_percentages(book_zh, book_en):
    """The calibration's median error (a share of the ledger) and its band read as %, not 0.028."""
    for ws, words in ((book_zh.worksheets[0], ("中位绝对误差", "容许偏差")),
                      (book_en.worksheets[0], ("median absolute error", "band"))):
        cells = {str(r[0].value): r[1] for r in ws.iter_rows() if r[0].value and len(r) > 1}
        for word in words:
            hits = [c for label, c in cells.items() if label.endswith(("：" + word, ": " + word))]
            assert hits and all(c.number_format == "0.0%" for c in hits), (word, [c.number_format for c in hits])

"""Issue 16, item 6: a ledger cell holding an Excel formula. With the result Excel saved, the
result is read; a formula that was never calculated (a file written by a script) is reported
with its file, Excel row and column and the fix, in both languages, and never crashes. Hand-made
XLSX files of both shapes."""

from __future__ import annotations

import re
import zipfile

import openpyxl

from schoolplan.errors import Problems
from schoolplan.io import read_schools


def _ledger(path, *, saved_value: str | None):
    """A ledger whose second school's name is the formula ="乙"&"小学" (row 3, column 学校名称);
    with ``saved_value`` the file also holds the formula's result, as Excel saves it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学校代码", "学校名称", "学段", "在校生数", "经度", "纬度"])
    ws.append(["S1", "甲小学", "小学", 120, 116.50, 36.50])
    ws.append(["S2", '="乙"&"小学"', "小学", 80, 116.51, 36.51])
    ws.append(["S3", "丙小学", "小学", 60, 116.52, 36.52])
    wb.save(path)
    if saved_value is not None:  # what Excel writes: the formula and its cached string result
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        xml, n = re.subn(r'<c r="B3"><f>(.*?)</f>(?:<v\s*/>|<v></v>)',
                         lambda m: f'<c r="B3" t="str"><f>{m.group(1)}</f><v>{saved_value}</v>', xml)
        assert n == 1
        parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
        with zipfile.ZipFile(path, "w") as z:
            for name, data in parts.items():
                z.writestr(name, data)
    return path


def test_a_formula_with_its_saved_result_reads_the_result(tmp_path):
    problems = Problems()
    s = read_schools(_ledger(tmp_path / "saved.xlsx", saved_value="乙小学"),
                     coordinate_system="wgs84", problems=problems)
    assert s.set_index("school_id").loc["S2", "name"] == "乙小学"
    assert "formula_without_value" not in [p.code for p in problems]


def test_a_formula_never_calculated_is_reported_with_row_and_column(tmp_path):
    path = _ledger(tmp_path / "script.xlsx", saved_value=None)
    problems = Problems()
    s = read_schools(path, coordinate_system="wgs84", problems=problems)  # no exception
    assert s["school_id"].tolist() == ["S1", "S2", "S3"]  # the row is kept, not dropped
    found = [p for p in problems if p.code == "formula_without_value"]
    assert len(found) == 1
    p = found[0]
    assert p.severity == "error" and p.file == str(path)
    assert p.row == 3 and p.column == "学校名称"
    assert "formula" in p.message_en and "Excel" in p.fix_en
    assert "公式没有缓存值，请在 Excel 中打开并保存" in p.fix_zh and "第3行" in p.message_zh


def test_a_row_of_formulas_only_is_not_taken_for_an_empty_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学校代码", "学校名称", "学段", "在校生数"])
    ws.append(["S1", "甲小学", "小学", 120])
    ws.append(['="S"&"2"', '="乙"&"小学"', '="小"&"学"', "=40*2"])
    wb.save(tmp_path / "all.xlsx")
    problems = Problems()
    read_schools(tmp_path / "all.xlsx", require_location=False, problems=problems)
    found = {p.column: p for p in problems if p.code == "formula_without_value"}
    assert set(found) == {"学校代码", "学校名称", "学段", "在校生数"}
    assert all(p.row == 3 for p in found.values())


def test_formulas_in_a_column_the_tool_does_not_read_are_left_alone(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学校代码", "学校名称", "学段", "在校生数", "备注"])
    ws.append(["S1", "甲小学", "小学", 120, "=A2&B2"])
    wb.save(tmp_path / "notes.xlsx")
    problems = Problems()
    read_schools(tmp_path / "notes.xlsx", require_location=False, problems=problems)
    assert "formula_without_value" not in [p.code for p in problems]


def test_the_formula_scan_finds_formulas_and_skips_ledgers_without_any(tmp_path):
    """A ledger without formulas is not read a second time (issue 15); one with a formula, even
    a shared one or one with a namespace prefix, is."""
    from openpyxl import Workbook

    from schoolplan.io._files import _FORMULA_TAG, _has_formulas

    plain, formula = Workbook(), Workbook()
    plain.active.append(["学校名称", "在校生数"])
    plain.active.append(["=甲小学 (a name, written as text)", 12])
    plain.active["A2"].data_type = "s"
    formula.active.append(["学校名称", "在校生数"])
    formula.active.append(["甲小学", "=1+2"])
    plain.save(tmp_path / "plain.xlsx")
    formula.save(tmp_path / "formula.xlsx")
    assert not _has_formulas(tmp_path / "plain.xlsx")
    assert _has_formulas(tmp_path / "formula.xlsx")
    assert _has_formulas(tmp_path / "missing.xlsx")  # cannot scan: read the cells
    for tag in (b"<f>1+2</f>", b'<f t="shared" si="0"/>', b"<x:f>A1</x:f>"):
        assert _FORMULA_TAG.search(tag)
    for tag in (b"<fill>", b"<font/>", b"<formula>A1>0</formula>"):
        assert not _FORMULA_TAG.search(tag)

"""A4 printing of the workbooks (schoolplan.outputs.print_setup) on small hand-made sheets."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from openpyxl import Workbook

from schoolplan.outputs.excel import add_table_sheet
from schoolplan.outputs.print_setup import print_columns, print_rows


def _reopened(wb: Workbook) -> Workbook:
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def test_wide_sheets_print_their_leading_key_columns():
    cols = ["school_id", "name", "level", "town_code", "town", "county", "enrollment", "seats", "lon"]
    assert print_columns("schools", cols) == 7        # up to the pupils column
    assert print_columns("seat_warnings", cols) == 9  # not a wide sheet: every column
    assert print_columns("schools", ["name", "lon"]) == 2  # its last key column absent: all


def test_village_rows_are_left_out_of_the_printed_violations():
    records = [{"object_type": t} for t in ("town", "school", "village", "village", "school", "county")]
    # records on sheet rows 2..7; rows 4 and 5 are villages
    assert print_rows("violations", records) == [(2, 3), (6, 7)]
    assert print_rows("schools", records) == [(2, 7)]
    assert print_rows("assignments", records) == []


def test_table_sheet_prints_a4_landscape_with_repeated_header():
    wb = Workbook()
    wb.remove(wb.active)
    df = pd.DataFrame({"rule_id": ["class_size", "walk_time_g1_3", "class_size"],
                       "object_type": ["school", "village", "school"], "name": ["甲", "乙村", "丙"]})
    add_table_sheet(wb, "violations", df, ["rule_id", "object_type", "name"], lang="zh")
    ws = _reopened(wb)["规则检查"]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"  # 9 = A4
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # rows 2 (school) and 4 (school) print; row 3 (the village) does not
    assert ws.print_area == "'规则检查'!$A$1:$C$2,'规则检查'!$A$4:$C$4"
    assert "第 &P 页，共 &N 页" in ws.oddFooter.center.text


def test_assignments_print_only_their_header():
    wb = Workbook()
    wb.remove(wb.active)
    df = pd.DataFrame({"demand_id": [f"v{i}" for i in range(500)], "pupils": [1.0] * 500})
    add_table_sheet(wb, "assignments", df, ["demand_id", "pupils"], lang="en")
    ws = _reopened(wb)["Assignments"]
    assert ws.print_area == "'Assignments'!$A$1:$B$1"
    assert ws.max_row == 501  # the whole table stays in the sheet
    assert "page &P of &N" in ws.oddFooter.center.text

"""A4 printing of the workbooks: how each sheet comes out of the printer at a 局务会.

Every table sheet prints A4 landscape, fitted to the page width, with its header row repeated on
every page, narrow margins, and a footer with the sheet name and "第 n 页，共 m 页". Wide sheets
print only their leading key columns (the sheet itself keeps every column: the print area is not
the table); the assignments sheet, one row per village and grade group, prints only its header
row, since nobody reads thousands of rows on paper (it stays whole in the file and in
``assignments.csv``). The 说明 (About) sheet prints on one page.

Used by :mod:`schoolplan.outputs.excel` through one call per sheet::

    setup_table_print(ws, "schools", ["school_id", "name", ...], records)
    setup_about_print(ws)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["PRINT_HEADER_ONLY", "PRINT_LAST_COLUMN", "PRINT_SKIP_ROWS", "print_columns", "print_rows",
           "setup_about_print", "setup_table_print", "setup_town_print"]

#: Sheet key -> the last column printed: wide sheets print their columns up to it (their key
#: columns lead the sheet); sheets not named here print every column.
PRINT_LAST_COLUMN: dict[str, str] = {
    "schools": "enrollment",          # code, name, level, town code, town, county, pupils
    "towns": "pupils_junior",         # everything but the coordinates
    "candidates": "receiving_split",  # rank ... recommendation, reasons, receiver, where pupils go
    "layouts": "seats_left_at_planet",
    "settings": "confidence",         # the long descriptions stay on screen
}

#: Sheets that print only their header row (too long for paper; complete in the file).
PRINT_HEADER_ONLY: frozenset[str] = frozenset({"assignments"})

#: Sheet key -> (column, value): rows whose raw value in ``column`` is ``value`` are left out of
#: the print area (village-level detail: counted on the summary page, listed per town in
#: ``towns.xlsx``, complete in the sheet and the CSV).
PRINT_SKIP_ROWS: dict[str, tuple[str, str]] = {
    "violations": ("object_type", "village"),
}

_FOOTER = {"zh": "&A　第 &P 页，共 &N 页", "en": "&A  page &P of &N"}


def print_columns(key: str, columns: Sequence[str]) -> int:
    """How many leading ``columns`` of sheet ``key`` are printed."""
    last = PRINT_LAST_COLUMN.get(key)
    if last is None or last not in columns:
        return len(columns)
    return list(columns).index(last) + 1


def _page(ws: Worksheet, *, orientation: str, lang: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = orientation
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.25, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = _FOOTER["zh" if lang == "zh" else "en"]
    ws.oddFooter.center.size = 8


def print_rows(key: str, records: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """The sheet rows printed (first, last), as runs of consecutive rows; row 1 is the header,
    record ``i`` is on row ``i + 2``. Header-only sheets give ``[]``."""
    if key in PRINT_HEADER_ONLY:
        return []
    skip = PRINT_SKIP_ROWS.get(key)
    keep = [i + 2 for i, r in enumerate(records) if skip is None or r.get(skip[0]) != skip[1]]
    runs: list[tuple[int, int]] = []
    for row in keep:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def setup_table_print(ws: Worksheet, key: str, columns: Sequence[str],
                      records: Sequence[Mapping[str, Any]], *, lang: str = "zh") -> None:
    """Set A4 landscape printing of a table sheet (header in row 1, ``rows`` data rows below).

    Parameters
    ----------
    ws
        The sheet.
    key
        Its key in :data:`schoolplan.outputs.labels.SHEET_TITLES` (``"schools"``, ...).
    columns
        The column names shown on the sheet, in order.
    records
        The data rows (raw values by column name), in sheet order from row 2.
    lang
        ``"zh"`` or ``"en"``: the language of the page footer.
    """
    _page(ws, orientation="landscape", lang=lang)
    ws.print_title_rows = "1:1"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    last = get_column_letter(max(1, print_columns(key, columns)))
    runs = print_rows(key, records)
    if not runs:
        ws.print_area = f"A1:{last}1"
        return
    first = (1, runs[0][1]) if runs[0][0] == 2 else None  # the header prints as a title row anyway
    areas = [f"A{a}:{last}{b}" for a, b in ([first, *runs[1:]] if first else runs)]
    ws.print_area = areas if len(areas) > 1 else areas[0]


def setup_about_print(ws: Worksheet, *, lang: str = "zh") -> None:
    """The 说明 (About) sheet on one A4 page (portrait: it is a long list of two columns)."""
    _page(ws, orientation="portrait", lang=lang)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = f"A1:{get_column_letter(max(1, ws.max_column))}{max(1, ws.max_row)}"


def setup_town_print(ws: Worksheet, *, last_column: str, lang: str = "zh") -> None:
    """A town page of ``towns.xlsx``: A4 landscape, fitted to the width of columns A to
    ``last_column`` (the tables and the map beside them)."""
    _page(ws, orientation="landscape", lang=lang)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = f"A1:{last_column}{max(1, ws.max_row, 24)}"

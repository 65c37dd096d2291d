"""The Excel report of a run (``report.xlsx``): one sheet per table, in Chinese or English.

A planner takes this file to a meeting, so it is laid out for people, not programs: Chinese
(or English) sheet names and headers with units, level / area type / warning bands in words,
frozen header rows, columns as wide as their content (CJK characters count double), number
formats, red and yellow fills on seat warnings and broken rules, autofilters, and a first sheet
(说明 / About) that states the scenario, the date, the tool version, the inputs with their sha256,
the settings changed from the defaults, and the key counts and indicators.

The report renders results; it never computes them (only unit conversions for display, such as
``time_s`` shown as minutes in a column labelled so, and names joined to ids).

Adding a sheet is one call of :func:`add_table_sheet` with a key of :data:`SHEET_TITLES` and
column names that have labels in :data:`COLUMN_LABELS` (formats in ``_FORMATS``, fills in
``_FILLS``)::

    add_table_sheet(wb, "candidates", result.candidates, CANDIDATE_COLUMNS, lang=lang)

The file is written atomically and is byte-for-byte the same for the same result (the date in the
file is the run's ``created`` time).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schoolplan import __version__
from schoolplan.counties import result_counties
from schoolplan.outputs.files import atomic_write, output_time, xlsx_bytes
from schoolplan.outputs.print_setup import setup_about_print, setup_table_print
from schoolplan.rules import RULES, sources_in
from schoolplan.schema import GRADE_COLUMNS, LEVEL_LABELS

__all__ = [
    "ASSIGNMENT_SHEET_COLUMNS",
    "COLUMN_LABELS",
    "INPUT_CHECK_SHEET_COLUMNS",
    "SCHOOL_SHEET_COLUMNS",
    "SEAT_WARNING_SHEET_COLUMNS",
    "SETTING_SHEET_COLUMNS",
    "SHEET_TITLES",
    "TOWN_SHEET_COLUMNS",
    "VIOLATION_SHEET_COLUMNS",
    "write_report_xlsx",
]

Lang = Literal["zh", "en"]
_LANGS = ("zh", "en")

from schoolplan.outputs.labels import (  # noqa: E402  (the bilingual vocabulary of every sheet)
    _BOOL,
    _TIER_RE,
    ABOUT_KEY_LABELS,
    COLUMN_LABELS,
    LONG_TABLE_TEXT,
    SHEET_TITLES,
    SUMMARY_KEY_LABELS,
    VALUE_LABELS,
    summary_value,
)

# --- formats and fills --------------------------------------------------------------------------

INT = "#,##0"
DEC1 = "#,##0.0"
PCT = "0.0%"
COORD = "0.000000"

_FORMATS: dict[str, str] = {
    **{c: INT for c in ("enrollment", *GRADE_COLUMNS, "classes", "teachers", "seats", "size_cap",
                        "class_size_limit", "mean_distance_m", "distance_m", "schools",
                        "small_schools", "junior_middle_schools", "row")},
    **{c: DEC1 for c in ("avg_class_size", "assigned_primary", "assigned_junior",
                         "assigned_pupils", "mean_time_min", "max_time_min", "time_min",
                         "pupils", "pupils_primary", "pupils_junior")},
    "utilisation": PCT,
    "lon": COORD,
    "lat": COORD,
}

RED = "FFC7CE"     # Excel's "light red fill"
YELLOW = "FFEB9C"  # Excel's "yellow fill"
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_BANDS = {"red": RED, "yellow": YELLOW}

RowFill = Callable[[Mapping[str, Any]], "str | None"]


def _band(row: Mapping[str, Any]) -> str | None:
    return _BANDS.get(str(row.get("seat_warning")))


def _when(column: str, flag: bool, colour: str = RED) -> RowFill:
    """Fill when the row's boolean ``column`` is ``flag`` (missing values are never filled)."""
    def fill(row: Mapping[str, Any]) -> str | None:
        value = row.get(column)
        return colour if isinstance(value, (bool, np.bool_)) and bool(value) is flag else None
    return fill


#: Column -> function of the (untranslated) row giving the cell's fill colour, or None.
_FILLS: dict[str, RowFill] = {
    "seat_warning": _band,
    "utilisation": _band,
    "over_size_cap": _when("over_size_cap", True),
    "enrollment": _when("over_size_cap", True),
    "over_class_size": _when("over_class_size", True),
    "avg_class_size": _when("over_class_size", True),
    "junior_middle_rule_ok": _when("junior_middle_rule_ok", False),
    "junior_middle_schools": _when("junior_middle_rule_ok", False),
}


@dataclass(frozen=True)
class Col:
    """A column of a sheet when it needs more than its name: a format or a fill of its own."""

    name: str
    number_format: str | None = None
    fill: RowFill | None = None


ColumnSpec = Sequence["str | Col"]

# --- the columns of each sheet -----------------------------------------------------------------

SCHOOL_SHEET_COLUMNS: list[str | Col] = [
    "school_id", "name", "level", "town_code", "town", "county", "enrollment", *GRADE_COLUMNS,
    "classes", "teachers", "seats", "seats_source", "area_type", "small_tier",
    "size_cap", "over_size_cap", "avg_class_size", "class_size_limit", "over_class_size",
    "assigned_primary", "assigned_junior", "assigned_pupils", "utilisation", "seat_warning",
    "modelled_pupils", "ledger_enrollment", "model_ratio", "model_within_band",
    "mean_distance_m", "mean_time_min", "max_time_min", "lon", "lat", "town_match",
]
TOWN_SHEET_COLUMNS: list[str | Col] = [
    "town_code", "town", "county", "town_type", "schools", "enrollment", "small_schools",
    "junior_middle_schools", "junior_middle_rule_ok", "pupils_primary", "pupils_junior",
    "lon", "lat",
]
SEAT_WARNING_SHEET_COLUMNS: list[str | Col] = [
    "school_id", "name", "level", "town", "seats", "seats_source", "assigned_primary",
    "assigned_junior", "assigned_pupils", "utilisation", "seat_warning",
]
VIOLATION_SHEET_COLUMNS: list[str | Col] = [
    "rule_id", "object_type", "object_id", "name", Col("value", fill=lambda row: RED), "limit",
    "message", "source",
]
ASSIGNMENT_SHEET_COLUMNS: list[str | Col] = [
    "method", "group", "level", "demand_id", "demand_name", "pupils", "school_id", "school_name",
    "distance_m", "time_min", "mode", "estimate", "status",
]
COUNTY_SHEET_COLUMNS = ["county", "rule", "value", "limit", "verdict_text", "message", "setting", "source"]
SETTING_SHEET_COLUMNS: list[str | Col] = [
    "setting", "value", "default", "unit", "origin", "source", "confidence", "description",
]
CANDIDATE_SHEET_COLUMNS: list[str | Col] = [
    "rank", "school_id", "name", "level", "town", "enrollment", "small_tier", "catchment_pupils",
    Col("recommendation", fill=lambda row: YELLOW if row.get("recommendation") in ("close", "to_satellite") else None),
    "reasons_text", "receiving_school", "receiving_split", "seats_left_at_receiver",
    "receiving_split_with_seats", "pupils_without_seat_after",
    "added_distance_mean_m", "added_distance_max_m", "added_time_mean_min", "added_time_max_min",
    "g1_3_over_limit_before", "g1_3_over_limit_after", "pupils_needing_bus_after",
    "pupils_needing_boarding_after", "pupils_without_school_after", "score", "score_explained",
]
LAYOUT_SHEET_COLUMNS: list[str | Col] = [
    "town_code", "town", "planet", "satellites", "closed", "kept", "g4_6_pupils_at_planet",
    "primary_pupils_at_planet", "planet_seats_primary", "classes_needed_at_planet",
    Col("seats_left_at_planet", fill=lambda row: RED if (row.get("seats_left_at_planet") or 0) < 0 else None),
    "g1_3_over_limit", "g4_6_mean_distance_m", "g4_6_max_distance_m", "g4_6_pupils_needing_bus",
    "g4_6_pupils_needing_boarding",
]
BALANCE_SHEET_COLUMNS: list[str | Col] = [
    "school_id", "name", "level", "school_level", "pupils", "teachers_qualified_per100",
    "key_teachers_per100", "pe_arts_teachers_per100", "teaching_area_m2_per_pupil",
    "sports_area_m2_per_pupil", "equipment_yuan_per_pupil", "multimedia_classrooms_per100",
    "indicators_met", Col("meets_standard", fill=lambda row: RED if row.get("meets_standard") is False else None),
]
INPUT_CHECK_SHEET_COLUMNS: list[str | Col] = [
    "severity", "code", "file", "row", "column", "value", "message", "fix", "ids",
]

# --- cells ------------------------------------------------------------------------------------


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _plain(value: Any) -> Any:
    """Python scalars for openpyxl; lists and mappings as readable text."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_plain(v)) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return value


def label_value(column: str, value: Any, lang: str) -> Any:
    """The cell value of ``value`` in ``column``: codes in words, booleans as 是/否 or yes/no."""
    value = _plain(value)
    if isinstance(value, bool):
        return _pick(_BOOL[value], lang)
    if not isinstance(value, str):
        return value
    words = VALUE_LABELS.get(column)
    if words and value in words:
        return _pick(words[value], lang)
    if column == "rule_id" and value in RULES:  # looked up late: rules may be added later
        return RULES[value].title_zh if lang == "zh" else RULES[value].title_en
    if column == "small_tier":
        m = _TIER_RE.match(value)
        if m:
            return f"少于{m.group(1)}人" if lang == "zh" else f"under {m.group(1)} pupils"
    return value


def _text_width(text: str) -> int:
    """Display width: CJK (wide and full-width) characters count double."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _shown(value: Any, number_format: str | None) -> str:
    """Roughly the text Excel shows for a value, for fitting column widths."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if number_format == PCT:
        return f"{value:.1%}"
    if number_format == INT:
        return f"{value:,.0f}"
    if number_format == DEC1:
        return f"{value:,.1f}"
    if number_format == COORD:
        return f"{value:.6f}"
    return str(round(value, 4))


def _clean(value: Any) -> Any:
    """Text without the control characters Excel refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _no_formula(cell: Cell) -> Cell:
    """Text is always text: a name starting with ``=`` never becomes a formula."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _set(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    return _no_formula(ws.cell(row=row, column=col, value=_clean(value)))


def _cells_of(column: str, values: list[Any], lang: str) -> list[Any]:
    """The cell values of a column (codes in words), translating each distinct value once."""
    seen: dict[Any, Any] = {}
    out = []
    for value in values:
        try:
            out.append(seen[value])
        except (KeyError, TypeError):
            shown = label_value(column, value, lang)
            with contextlib.suppress(TypeError):  # lists and dicts (settings) are not hashable
                seen[value] = shown
            out.append(shown)
    return out


def _cell(ws: Worksheet, value: Any) -> Cell:
    """A detached cell for ``ws.append``."""
    return _no_formula(Cell(ws, value=_clean(value)))


def _fit_widths(ws: Worksheet, widths: Iterable[int], *, minimum: int = 6,
                maximum: int = 60) -> None:
    for j, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = max(minimum, min(maximum, w + 2))


# --- sheets -----------------------------------------------------------------------------------


def add_table_sheet(
    wb: Workbook,
    title: str,
    df: pd.DataFrame,
    columns: ColumnSpec,
    *,
    lang: str,
    freeze_columns: int = 0,
    csv: str | None = None,
    max_rows: int | None = None,
) -> Worksheet:
    """Add one table as a sheet: labelled header, words for codes, formats, fills, filter.

    Parameters
    ----------
    wb
        The workbook.
    title
        A key of :data:`SHEET_TITLES` (the sheet is named in ``lang``).
    df
        The table; its columns keep their codes (``primary``, ``red``), the sheet shows words.
    columns
        The columns to show, in order: names (labels from :data:`COLUMN_LABELS`, format from
        ``_FORMATS``, fill from ``_FILLS``) or :class:`Col` with a format or fill of their own.
        Columns absent from ``df`` are left out (a run without demand has no utilisation).
    lang
        ``"zh"`` or ``"en"``.
    freeze_columns
        How many leading columns stay in view when scrolling right (the header row always does).
    csv, max_rows
        A table of more than ``max_rows`` rows (setting ``report_sheet_max_rows``) is not listed:
        its sheet says how many rows it has and names ``csv``, the file beside the report that
        holds every row (writing cell by cell costs about 10 µs a cell: a prefecture's trips would
        take a minute, and nobody reads 200,000 rows in a meeting).
    """
    ws = wb.create_sheet(_pick(SHEET_TITLES[title], lang))
    specs = [c if isinstance(c, Col) else Col(c) for c in columns]
    specs = [c for c in specs if c.name in df.columns]
    if csv is not None and max_rows is not None and len(df) > max_rows:
        note = _pick(LONG_TABLE_TEXT, lang).format(n=len(df), limit=max_rows, csv=csv)
        _set(ws, 1, 1, note).font = Font(bold=True, color="C00000")
        for j, spec in enumerate(specs, 1):
            _set(ws, 3, j, _pick(COLUMN_LABELS.get(spec.name, (spec.name, spec.name)), lang)).font = Font(bold=True)
        ws.column_dimensions["A"].width = 24
        return ws
    formats = [c.number_format or _FORMATS.get(c.name) for c in specs]
    fills = [c.fill or _FILLS.get(c.name) for c in specs]
    widths = []
    bold = Font(bold=True)
    for j, spec in enumerate(specs, 1):
        label = _pick(COLUMN_LABELS.get(spec.name, (spec.name, spec.name)), lang)
        cell = _set(ws, 1, j, label)
        cell.font = bold
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(bottom=Side(style="thin"))
        widths.append(_text_width(label))
    fill_cache: dict[str, PatternFill] = {}
    records = df[[c.name for c in specs]].to_dict("records")
    columns_shown = [_cells_of(spec.name, [r[spec.name] for r in records], lang) for spec in specs]
    for j, (shown, fmt) in enumerate(zip(columns_shown, formats, strict=True)):
        texts = {_shown(v, fmt) for v in shown if isinstance(v, (str, int, float))}
        widths[j] = max([widths[j], *map(_text_width, texts)])
    for i, raw in enumerate(records):
        row = []
        for j, (fmt, fill) in enumerate(zip(formats, fills, strict=True)):
            cell = _cell(ws, columns_shown[j][i])
            if fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            colour = fill(raw) if fill else None
            if colour:
                cell.fill = fill_cache.setdefault(colour, PatternFill("solid", fgColor=colour))
            row.append(cell)
        ws.append(row)
    _fit_widths(ws, widths)
    ws.freeze_panes = ws.cell(row=2, column=freeze_columns + 1).coordinate
    if specs:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(specs))}{max(1, len(records) + 1)}"
    setup_table_print(ws, title, [c.name for c in specs], records, lang=lang)
    return ws


# About sheet ---------------------------------------------------------------------------------

_ABOUT = {
    "scenario": ("方案", "Scenario"),
    "scenario_file": ("方案文件", "Scenario file"),
    "created": ("生成时间", "Created"),
    "version": ("工具版本", "Tool version"),
    "data": ("数据性质", "Data"),
    "synthetic": ("合成示范数据 synthetic demo data", "合成示范数据 synthetic demo data"),
    "distance_method": ("距离计算方法", "Distance method"),
    "inputs": ("输入文件", "Inputs"),
    "input": ("输入", "input"),
    "file": ("文件", "file"),
    "sha256": ("SHA-256", "SHA-256"),
    "coordinate_system": ("坐标系", "coordinate system"),
    "changed": ("与默认值不同的设置", "Settings changed from the defaults"),
    "none_changed": ("无（全部为默认值）", "none (all defaults)"),
    "counts": ("主要数量", "Key counts"),
    "indicators": ("主要指标", "Indicators"),
    "sheets": ("工作表", "Sheets"),
}
_INPUT_NAMES = {"schools": ("学校", "schools"), "towns": ("乡镇", "towns"),
                "demand": ("需求点（村庄、小区）", "demand (villages, estates)"),
                "roads": ("路网", "roads")}
_METHODS = (("road network", ("路网最短路径", "road network")),
            ("straight line", ("直线距离×绕行系数（估算）", "straight line x circuity (estimate)")),
            ("none", ("未计算（无需求点输入）", "not computed (no demand input)")))

_KEY_LABELS = {**SUMMARY_KEY_LABELS, **ABOUT_KEY_LABELS}  # issue 19: the summary page's too
_COUNT_VOCABULARY = {"schools_by_level": "level", "small_schools_by_tier": "small_tier",
                     "violations": "rule_id", "alerts": "rule_id", "seat_warnings": "seat_warning",
                     "mode": "mode"}
_OVER_RE = re.compile(r"^(pupils|share)_over_(\d+)_min$")


def _key_label(key: str, parent: str | None, lang: str) -> str:
    if parent in _COUNT_VOCABULARY:
        return str(label_value(_COUNT_VOCABULARY[parent], key, lang))
    if key in _KEY_LABELS:
        return _pick(_KEY_LABELS[key], lang)
    if key in LEVEL_LABELS:
        return LEVEL_LABELS[key][lang]
    m = _OVER_RE.match(key)
    if m:
        what, minutes = m.groups()
        if what == "pupils":
            return f"步行超过{minutes}分钟（人）" if lang == "zh" else f"walk over {minutes} min"
        return f"步行超过{minutes}分钟占比" if lang == "zh" else f"share walking over {minutes} min"
    return key


#: Keys of counted people: shown as whole numbers.
_PUPIL_WORDS = ("pupils", "children", "enrol", "enrollment", "students", "riders", "boarders")


def _flatten(tree: Mapping[str, Any], lang: str, path: tuple[str, ...] = (),
             parent: str | None = None) -> list[tuple[str, Any, str | None]]:
    """(label, value, number format) rows of a nested dict of counts or indicators."""
    rows: list[tuple[str, Any, str | None]] = []
    sep = "：" if lang == "zh" else ": "
    for key, value in tree.items():
        if str(key).endswith("_en" if lang == "zh" else "_zh"):
            continue  # a bilingual pair (reason_zh / reason_en): the user's language only
        label = (*path, _key_label(str(key).removesuffix("_zh").removesuffix("_en"), parent, lang))
        if isinstance(value, Mapping):
            rows += _flatten(value, lang, label, str(key))
            continue
        if key == "mode":
            value = label_value("mode", value, lang)
        elif isinstance(value, (bool, np.bool_)):
            value = label_value("", value, lang)
        else:
            value = summary_value(str(key), value, lang)
        value = _plain(value)
        if str(key).startswith("share") or str(key).endswith("_error") or (key == "band" and parent == "calibration"):
            fmt: str | None = PCT  # shares, relative errors and the calibration band read as %
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            # pupils are shown as whole pupils (the cell keeps the exact value), issue 19
            zh = _key_label(str(key), parent, "zh") + (_key_label(parent, None, "zh") if parent else "")
            whole = (float(value).is_integer() or any(w in str(key) for w in _PUPIL_WORDS)
                     or "（人）" in zh or "人数" in zh)
            # a ratio or factor near 1 (calibration error, scaling factor) keeps three decimals
            fmt = INT if whole else "0.000" if abs(float(value)) < 2 else DEC1
        else:
            fmt = None
        rows.append((sep.join(label), value, fmt))
    return rows


_NETWORKS_ZH = {"walk": "步行路网", "drive": "车行路网", "bike": "骑行路网", "all": "全部道路"}


def _method_label(method: str, lang: str) -> str:
    for start, pair in _METHODS:
        if method.startswith(start):
            if lang != "zh":
                return method
            nets = re.findall(r"(\w+): ([\d,]+) nodes", method)  # "road network (walk: 4,336 nodes)"
            return _pick(pair, lang) + ("（" + "、".join(f"{_NETWORKS_ZH.get(m, m)} {n} 个节点" for m, n in nets)
                                        + "）" if nets else "")
    return method


def _add_about_sheet(wb: Workbook, result, lang: str, sheets: list[str]) -> Worksheet:
    ws = wb.create_sheet(_pick(SHEET_TITLES["about"], lang), 0)

    def t(key: str) -> str:
        return _pick(_ABOUT[key], lang)

    bold = Font(bold=True)
    widths = [0, 0, 0, 0]
    row = 1

    def put(values: Sequence[Any], *, font: Font | None = None,
            formats: Sequence[str | None] = (), fit: bool = True) -> None:
        nonlocal row
        for j, value in enumerate(values, 1):
            cell = _set(ws, row, j, value)
            if font is not None:
                cell.font = font
            fmt = formats[j - 1] if j - 1 < len(formats) else None
            if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = fmt
            if fit:
                widths[j - 1] = max(widths[j - 1], _text_width(_shown(value, fmt)))
        row += 1

    scenario = result.scenario
    put([scenario.title], font=Font(bold=True, size=14), fit=False)  # may overflow into B
    if scenario.synthetic:
        put([t("data"), t("synthetic")], font=Font(bold=True, color="C00000"))
    put([t("scenario"), scenario.name])
    put([t("scenario_file"), str(scenario.path) if scenario.path else None])
    put([t("created"), _created(result).strftime("%Y-%m-%d")])
    put([t("version"), f"schoolplan {__version__}"])
    put([t("distance_method"), _method_label(str(result.distance_method), lang)])
    row += 1
    put([t("inputs")], font=bold)
    put([t("input"), t("file"), t("sha256"), t("coordinate_system")], font=bold)
    mono = Font(name="Consolas")
    for key, info in result.inputs.files.items():
        put([_pick(_INPUT_NAMES.get(key, (key, key)), lang), info.get("path"), info.get("sha256"),
             label_value("coordinate_system", info.get("coordinate_system"), lang)])
        ws.cell(row=row - 1, column=3).font = mono
    row += 1
    put([t("changed")], font=bold)
    changed = [r for r in result.settings.to_records() if r["origin"] != "default"]
    for r in changed:
        put([r["name"], _plain(r["value"]), label_value("origin", r["origin"], lang)])
    if not changed:
        put(["", t("none_changed")])
    for key, tree in (("counts", result.counts), ("indicators", result.indicators)):
        row += 1
        put([t(key)], font=bold)
        for label, value, fmt in _flatten(tree, lang):
            put([label, value], formats=[None, fmt])
    row += 1
    put([t("sheets")], font=bold)
    for name in sheets:
        put(["", name])
    _fit_widths(ws, widths, maximum=90)
    for r in ws.iter_rows(min_col=2, max_col=2):
        for cell in r:
            cell.alignment = Alignment(horizontal="left")
    setup_about_print(ws, lang=lang)
    return ws


# --- tables of a result -------------------------------------------------------------------------


def _minutes(seconds: pd.Series) -> pd.Series:
    return pd.to_numeric(seconds, errors="coerce") / 60.0


def _school_table(result) -> pd.DataFrame:
    schools = pd.DataFrame(result.schools.drop(columns=result.schools.geometry.name))
    for col in ("mean_time_s", "max_time_s"):
        if col in schools:
            schools[col.replace("_s", "_min")] = _minutes(schools[col])
    return schools


def _seat_warning_table(schools: pd.DataFrame) -> pd.DataFrame:
    ordered = schools.sort_values("school_id", kind="mergesort")
    return ordered.sort_values("utilisation", ascending=False, na_position="last",
                               kind="mergesort")


#: 学位预警 sheet: column -> (zh, en); per-year columns take the year in front.
_SEAT_YEAR_LABELS: dict[str, tuple[str, str]] = {
    "school_id": ("学校代码", "school code"), "name": ("学校名称", "school"), "town": ("乡镇", "town"),
    "level": ("学校类型", "level"), "part_zh": ("学段", "part"), "seats": ("学位（个）", "seats"),
    "intake_places": ("起始年级学位（个）", "intake places"),
    "intake_source": ("起始年级学位来源", "intake places from"),
    "first_yellow_year": ("首次黄色预警年份", "first yellow year"),
    "first_red_year": ("首次红色预警年份", "first red year"),
    "entry": ("入学需求（人）", "entry cohort (pupils)"),
    "entry_util": ("入学需求/起始年级学位", "entry cohort / intake places"),
    "whole": ("在校需求（人）", "all pupils"), "whole_util": ("在校需求/学位", "all pupils / seats"),
    "warning": ("预警", "warning"),
}
_BAND_WORDS = {"red": ("红色预警", "red"), "yellow": ("黄色预警", "yellow"), "ok": ("正常", "ok"),
               "unknown": ("无学位数", "unknown (no seats)")}
_PART_EN = {"小学": "primary", "小学部": "primary part", "初中": "junior", "初中部": "junior part"}
_INTAKE_WORDS = {"ledger": ("台账招生计划", "the ledger's intake places"),
                 "classes x class size": ("起始年级班数×班额", "entry classes x class size"),
                 "seats / grades": ("学位数÷年级数", "seats / grades")}


def _seat_warning_years_sheet(wb: Workbook, table: pd.DataFrame, lang: str) -> None:
    """The 学位预警 sheet: one row per school and 学段, one group of columns per year, the first
    yellow and red year; cells coloured by band."""
    zh = lang == "zh"
    years = list(table.attrs.get("years") or [c[len("warning_"):] for c in table if c.startswith("warning_")])
    df = table.sort_values(["first_red_year", "first_yellow_year", "school_id"], na_position="last",
                           kind="mergesort").reset_index(drop=True)
    df["level"] = [_pick(VALUE_LABELS["level"].get(v, (v, v)), lang) for v in df["level"]]
    if not zh:
        df["part_zh"] = df["part_zh"].map(_PART_EN)
    if "intake_source" not in df:
        df["intake_source"] = None
    df["intake_source"] = [None if v is None or v is np.nan else _pick(_INTAKE_WORDS.get(v, (v, v)), lang)
                           for v in df["intake_source"]]
    head = ["school_id", "name", "town", "level", "part_zh", "seats", "intake_places", "intake_source",
            "first_yellow_year", "first_red_year"]
    cols, labels = list(head), [_pick(_SEAT_YEAR_LABELS[c], lang) for c in head]
    for y in years:
        year_zh = "现状" if y == "today" else f"{y}年"
        year_en = "today" if y == "today" else str(y)
        for k in ("entry", "entry_util", "whole", "whole_util", "warning"):
            cols.append(f"{k}_{y}")
            lab = _SEAT_YEAR_LABELS[k]
            labels.append(f"{year_zh}{lab[0]}" if zh else f"{year_en} {lab[1]}")
    bands = {f"warning_{y}": df[f"warning_{y}"].copy() for y in years}
    for c in bands:
        df[c] = [_pick(_BAND_WORDS.get(v, (v, v)), lang) for v in df[c]]
    ws = wb.create_sheet(_pick(SHEET_TITLES["seat_warnings"], lang))
    ws.append(labels)
    for j in range(1, len(labels) + 1):
        c = ws.cell(row=1, column=j)
        c.font, c.fill = Font(bold=True), _HEADER_FILL
    fills = {"red": PatternFill("solid", fgColor=RED), "yellow": PatternFill("solid", fgColor=YELLOW)}
    for i, rec in enumerate(df[cols].to_dict("records")):
        row = []
        for col in cols:
            v = rec[col]
            v = None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v
            cell = _cell(ws, int(v) if isinstance(v, (np.integer,)) else v)
            if isinstance(v, float):
                cell.number_format = PCT if "_util_" in col else INT if col in ("seats", "intake_places") else DEC1
            band = bands.get(col)
            if band is not None and band.iloc[i] in fills:
                cell.fill = fills[band.iloc[i]]
            row.append(cell)
        ws.append(row)
    _fit_widths(ws, [max(_text_width(lab), 8) for lab in labels])
    ws.freeze_panes = ws.cell(row=2, column=3).coordinate
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(df) + 1}"


def _assignment_table(result, schools: pd.DataFrame) -> pd.DataFrame:
    a = result.assignments.copy()
    a["time_min"] = _minutes(a["time_s"])
    demand = result.inputs.demand
    if demand is not None and "name" in demand:
        names = dict(zip(demand["demand_id"], demand["name"], strict=True))
        a["demand_name"] = a["demand_id"].map(names)
    a["school_name"] = a["school_id"].map(
        dict(zip(schools["school_id"], schools["name"], strict=True)))
    return a


def _in_language(df: pd.DataFrame, lang: str, **pairs: tuple[str, str]) -> pd.DataFrame:
    """Add a column per keyword from its ``_zh`` or ``_en`` source column."""
    out = df.copy()
    for new, (zh, en) in pairs.items():
        out[new] = out[zh if lang == "zh" else en] if len(out) else pd.Series(dtype=object)
    return out


def _settings_table(result, lang: str) -> pd.DataFrame:
    records = result.settings.to_records()
    df = pd.DataFrame(records)
    df = df.rename(columns={"name": "setting"})
    for col in ("value", "default"):
        df[col] = [_plain(v) for v in df[col]]
    return _in_language(df, lang, description=("description_zh", "description_en"), source=("source_zh", "source"))


def _build(result, lang: str) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    schools = _school_table(result)
    most = int(result.settings["report_sheet_max_rows"])
    add_table_sheet(wb, "schools", schools, SCHOOL_SHEET_COLUMNS, lang=lang, freeze_columns=2,
                    csv="schools.csv", max_rows=most)
    towns = pd.DataFrame(result.towns.drop(columns=result.towns.geometry.name))
    add_table_sheet(wb, "towns", towns, TOWN_SHEET_COLUMNS, lang=lang, freeze_columns=2)
    if result.seat_warnings is not None and len(result.seat_warnings):
        _seat_warning_years_sheet(wb, result.seat_warnings, lang)
    elif "seat_warning" in schools:
        add_table_sheet(wb, "seat_warnings", _seat_warning_table(schools),
                         SEAT_WARNING_SHEET_COLUMNS, lang=lang, freeze_columns=2)
    violations = sources_in(_in_language(result.violations, lang, message=("message_zh", "message_en")), lang)
    add_table_sheet(wb, "violations", violations, VIOLATION_SHEET_COLUMNS, lang=lang,
                    csv="violations.csv", max_rows=most)
    if result.alerts is not None and "seat_warning" in schools:  # 预警与提示 (red 学位预警), apart
        alerts = sources_in(_in_language(result.alerts, lang, message=("message_zh", "message_en")), lang)
        add_table_sheet(wb, "alerts", alerts, VIOLATION_SHEET_COLUMNS, lang=lang, csv="alerts.csv",
                        max_rows=most)
    if result.assignments is not None:
        add_table_sheet(wb, "assignments", _assignment_table(result, schools),
                         ASSIGNMENT_SHEET_COLUMNS, lang=lang, csv="assignments.csv", max_rows=most)
    if result.candidates is not None:
        cand = _in_language(result.candidates, lang, reasons_text=("reasons_zh", "reasons_en"))
        if "score_explained_zh" in cand:
            cand = _in_language(cand, lang, score_explained=("score_explained_zh", "score_explained"))
        add_table_sheet(wb, "candidates", cand, CANDIDATE_SHEET_COLUMNS, lang=lang, freeze_columns=3,
                        csv="candidates.csv", max_rows=most)
    if result.layouts is not None:
        add_table_sheet(wb, "layouts", result.layouts, LAYOUT_SHEET_COLUMNS, lang=lang, freeze_columns=2)
    if result.balance is not None:
        add_table_sheet(wb, "balance", result.balance, BALANCE_SHEET_COLUMNS, lang=lang, freeze_columns=2)
    add_table_sheet(wb, "counties", _in_language(result_counties(result), lang,
                    rule=("rule_zh", "rule_en"), verdict_text=("verdict_zh", "verdict_en"), message=(
                        "message_zh", "message_en"), source=("source_zh", "source")), COUNTY_SHEET_COLUMNS, lang=lang,
                    freeze_columns=2)
    add_table_sheet(wb, "settings", _settings_table(result, lang), SETTING_SHEET_COLUMNS,
                     lang=lang, freeze_columns=1)
    problems = _in_language(result.inputs.problems.to_frame(), lang,
                            message=("message_zh", "message_en"), fix=("fix_zh", "fix_en"))
    add_table_sheet(wb, "input_checks", problems, INPUT_CHECK_SHEET_COLUMNS, lang=lang)
    _add_about_sheet(wb, result, lang, wb.sheetnames)
    wb.active = 0
    return wb


# --- writing ----------------------------------------------------------------------------------


def _created(result) -> _dt.datetime:
    """The time stamped into the workbook (naive UTC): see :func:`~schoolplan.outputs.files.output_time`."""
    return output_time(str(result.created) if result.created else None)


def _to_bytes(wb: Workbook, when: _dt.datetime) -> bytes:
    """The workbook as .xlsx bytes with every date inside set to ``when`` (same result, same bytes)."""
    return xlsx_bytes(wb, when, creator=f"schoolplan {__version__}")


def write_report_xlsx(result, path: str | Path, *, lang: Lang = "zh") -> Path:
    """Write the Excel report of a run.

    Parameters
    ----------
    result
        A :class:`schoolplan.scenario.Result`.
    path
        The ``.xlsx`` file to write; written atomically (a temporary file in the same folder,
        then ``os.replace``), so a reader never sees half a file.
    lang
        ``"zh"`` (default) or ``"en"``: sheet names, headers and words for codes.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    Sheets: 说明/About, 学校/Schools, 乡镇/Towns, 学位预警/Seat warnings, 规则检查/Violations,
    分配/Assignments, 设置/Settings, 数据检查/Input checks. Seat warnings and Assignments are
    left out when the run had no demand input (nothing was assigned). Times are shown in
    minutes, distances in metres, utilisation as a percentage.
    """
    if lang not in _LANGS:
        raise ValueError(f"`lang` was {lang!r} but is expected to be in {list(_LANGS)}")
    wb = _build(result, lang)
    return atomic_write(path, _to_bytes(wb, _created(result)))

"""The comparison of scenarios as files: ``comparison.csv``, ``comparison.xlsx`` and a
self-contained ``comparison.html`` (the table comes from :func:`schoolplan.scenario.compare.compare`).

The CSV is the table as computed: indicator codes, exact values (fractional pupils included).
The workbook and the page are for a meeting: indicators named in the user's language and grouped
(学校, 出行 by grade group, 学位, 规则), a block of the main changes at the top
(:func:`schoolplan.scenario.indicator_kinds.headline`), pupils as whole numbers, and each change
coloured green when it is better and red when it is worse for that indicator (school counts are
neither: :func:`~schoolplan.scenario.indicator_kinds.kind_of`). Both print on A4 landscape with
the header repeated on every page and no group split over two pages where it fits on one.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.pagebreak import Break

from schoolplan.outputs.escape import add_csp, html_text
from schoolplan.outputs.excel import _cell, _to_bytes
from schoolplan.outputs.files import atomic_write, output_time
from schoolplan.outputs.folder import OutputFolder, moved
from schoolplan.outputs.labels import COMPARISON_TEXT
from schoolplan.outputs.print_setup import setup_town_print
from schoolplan.outputs.report import write_csv
from schoolplan.outputs.summary import title_in, write_comparison_summary
from schoolplan.scenario.indicator_kinds import GROUP_NAMES, headline, kind_of

__all__ = ["write_comparison"]

#: Rows of a printed A4 landscape page of the workbook (15-point rows, margins and footer off).
_ROWS_PER_PAGE = 30


def write_comparison(table: pd.DataFrame, out_dir: str | Path, *, lang: str = "zh",
                     titles: list[str] | None = None,
                     inputs: Iterable[str | Path] = (),
                     tradeoffs: dict[str, pd.DataFrame] | None = None) -> dict[str, Path]:
    """Write ``comparison.csv``, ``comparison.xlsx`` and ``comparison.html`` into ``out_dir``,
    as a whole (:class:`~schoolplan.outputs.folder.OutputFolder`); ``inputs`` (the scenario files
    and their data) are never overwritten: a folder holding one is refused. ``tradeoffs``
    (scenario name -> the optimiser's trade-off table) adds their charts and tables to the page."""
    with OutputFolder(out_dir, inputs=inputs, lang=lang) as tmp:
        paths = _write_all(table, tmp, lang, titles or [], tradeoffs or {})
    return moved(paths, tmp, out_dir)


def _write_all(table: pd.DataFrame, out_dir: Path, lang: str, titles: list[str],
               tradeoffs: dict[str, pd.DataFrame] | None = None) -> dict[str, Path]:
    view = comparison_view(table, lang, titles)
    paths = {"csv": write_csv(table, out_dir / "comparison.csv")}
    paths["xlsx"] = atomic_write(out_dir / "comparison.xlsx", _to_bytes(_workbook(view), output_time()))
    page = _html(view)
    if tradeoffs:  # the optimiser's trade-off charts (issue 14), one per scenario that has one
        from schoolplan.outputs.tradeoff import tradeoff_section

        extra = "".join(tradeoff_section(t, lang, title=name) for name, t in tradeoffs.items())
        page = page.replace("</body></html>", extra + "</body></html>")
    paths["html"] = atomic_write(out_dir / "comparison.html", page)
    paths.update(write_comparison_summary(table, out_dir, lang=lang, titles=titles))
    return paths


# --- the comparison as words and whole numbers -----------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One shown cell: the text, the number behind it (as shown: pupils whole) and its tone
    (``"better"``, ``"worse"`` or ``""``)."""

    text: str
    number: float | None = None
    fmt: str = "General"
    tone: str = ""


@dataclass(frozen=True)
class Block:
    """A titled group of indicator rows: (label, cells) per row."""

    title: str
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]


@dataclass(frozen=True)
class View:
    """The whole comparison in the user's language, ready to be written as a sheet or a page."""

    lang: str
    title: str
    lines: tuple[str, ...]
    synthetic: bool
    header: tuple[str, ...]
    headline: Block
    blocks: tuple[Block, ...]
    note: str


def _t(key: str, lang: str) -> str:
    zh, en = COMPARISON_TEXT[key]
    return zh if lang == "zh" else en


def _half_up(x: float, places: int = 0) -> float:
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def _shown(unit: str, v: float) -> float:
    """The value as the page shows it: whole pupils, counts and metres, minutes to 0.1."""
    return _half_up(v, 1) if unit == "min" else _half_up(v, 3) if unit == "share" else _half_up(v)


_FORMATS = {"min": ("#,##0.0", "+#,##0.0;-#,##0.0;0"), "share": ("0.0%", "+0.0%;-0.0%;0"),
            "count": ("#,##0", "+#,##0;-#,##0;0"), "pupils": ("#,##0", "+#,##0;-#,##0;0"),
            "m": ("#,##0", "+#,##0;-#,##0;0")}


def _value_cell(unit: str, v: float) -> Cell:
    if not np.isfinite(v):
        return Cell("")
    s = _shown(unit, v)
    text = f"{s:.1%}" if unit == "share" else f"{s:,.1f}" if unit == "min" else f"{int(s):,}"
    return Cell(text, s, _FORMATS[unit][0])


def _delta_cell(key: str, unit: str, v: float, base: float) -> Cell:
    if not (np.isfinite(v) and np.isfinite(base)):
        return Cell("")
    d = _half_up(_shown(unit, v) - _shown(unit, base), 3 if unit == "share" else 1)
    if d == 0:
        return Cell("0", 0.0, _FORMATS[unit][1])
    text = (f"{d * 100:+.1f}%" if unit == "share" else f"{d:+,.1f}" if unit == "min" else f"{int(d):+,}")
    direction = kind_of(key).direction
    tone = "" if not direction else "better" if (d > 0) == (direction > 0) else "worse"
    return Cell(text.replace("-", "−"), d, _FORMATS[unit][1], tone)


def _num(v: Any) -> float:
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def _row(r: pd.Series, names: Sequence[str], lang: str) -> tuple[str, tuple[Cell, ...]]:
    key = str(r["indicator"])
    unit = kind_of(key).unit
    base = _num(r[names[0]])
    cells = [_value_cell(unit, base)]
    for n in names[1:]:
        cells += [_value_cell(unit, _num(r[n])), _delta_cell(key, unit, _num(r[n]), base)]
    return str(r["label_zh" if lang == "zh" else "label_en"]), tuple(cells)


def comparison_view(table: pd.DataFrame, lang: str = "zh", titles: Sequence[str] = ()) -> View:
    """The comparison table (of :func:`schoolplan.scenario.compare.compare`) in words: the
    headline block, then the indicators by group; rows that are 0 in every scenario left out."""
    fixed = {"indicator", "label_zh", "label_en"}
    names = [c for c in table.columns if c not in fixed and not str(c).endswith(" Δ")]
    header = [_t("indicator", lang), _t("column", lang).format(i=1) + _t("base", lang)]
    for i in range(1, len(names)):
        header += [_t("column", lang).format(i=i + 1), _t("change", lang)]
    groups: dict[str, list[tuple[str, tuple[Cell, ...]]]] = {g: [] for g in GROUP_NAMES}
    for _, r in table.iterrows():
        values = [_num(r[n]) for n in names]
        if all(not np.isfinite(v) or v == 0 for v in values):
            continue
        groups.setdefault(kind_of(str(r["indicator"])).group, []).append(_row(r, names, lang))
    blocks = tuple(Block(GROUP_NAMES.get(g, (g, g))[0 if lang == "zh" else 1], tuple(rows))
                   for g, rows in groups.items() if rows)
    head = headline(table)
    top = Block(_t("headline", lang), tuple(_row(r, names, lang) for _, r in head.iterrows()))
    lines = tuple(_t("column", lang).format(i=i + 1) + _t("colon", lang)
                  + (title_in(titles[i], lang) if i < len(titles) and titles[i] else str(n))
                  + (_t("base", lang) if i == 0 else "") for i, n in enumerate(names))
    synthetic = any("合成" in t or "synthetic" in t.lower() for t in titles)
    return View(lang, _t("title", lang), (*lines, _t("legend", lang)), synthetic, tuple(header), top,
                blocks, _t("note", lang))


# --- comparison.xlsx ---------------------------------------------------------------------------------

_FILLS = {"better": PatternFill("solid", fgColor="C6EFCE"), "worse": PatternFill("solid", fgColor="FFC7CE")}
_GROUP_FILL = PatternFill("solid", fgColor="DDE7F3")
_HEAD_FILL = PatternFill("solid", fgColor="BDD7EE")


def _workbook(view: View) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = _t("sheet", view.lang)
    width = len(view.header)
    ws.append([_cell(ws, view.title)])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    if view.synthetic:
        ws.append([_cell(ws, _t("synthetic", view.lang))])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="C00000")
    for line in view.lines:
        ws.append([_cell(ws, line)])
    ws.append([])
    ws.append([_cell(ws, h) for h in view.header])
    header_row = ws.max_row
    for j in range(1, width + 1):
        ws.cell(header_row, j).font = Font(bold=True)
        ws.cell(header_row, j).fill = _HEAD_FILL
        ws.cell(header_row, j).alignment = Alignment(horizontal="center", wrap_text=True)
    used = header_row  # rows on the first printed page so far
    for block in (view.headline, *view.blocks):
        size = 1 + len(block.rows)
        if used + size > _ROWS_PER_PAGE and used > header_row:
            ws.row_breaks.append(Break(id=ws.max_row))  # the group starts a new page
            used = 1  # the repeated header row
        ws.append([_cell(ws, block.title)])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for j in range(1, width + 1):
            ws.cell(ws.max_row, j).fill = _GROUP_FILL
        for label, cells in block.rows:
            ws.append([_cell(ws, label), *(c.number if c.number is not None else None for c in cells)])
            for j, c in enumerate(cells, 2):
                cell = ws.cell(ws.max_row, j)
                cell.number_format = c.fmt
                if c.tone:
                    cell.fill = _FILLS[c.tone]
        used += size
    ws.append([])
    ws.append([_cell(ws, view.note)])
    ws.column_dimensions["A"].width = 46
    for j in range(2, width + 1):
        ws.column_dimensions[ws.cell(1, j).column_letter].width = 14
    ws.freeze_panes = ws.cell(header_row + 1, 2).coordinate
    setup_town_print(ws, last_column=ws.cell(1, width).column_letter, lang=view.lang)
    ws.print_title_rows = f"{header_row}:{header_row}"
    return wb


# --- comparison.html ---------------------------------------------------------------------------------

_CSS = (
    "@page{size:A4 landscape;margin:12mm}"
    "body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
    "margin:20px;color:#222;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "h1{font-size:22px;color:#1f3864;margin:0 0 6px}h2{font-size:15px;color:#1f3864;margin:14px 0 4px}"
    "p{margin:2px 0}.synthetic{color:#c00000;font-weight:bold}.legend,.note{color:#555;font-size:12px}"
    "table{border-collapse:collapse;font-size:13px;width:100%;max-width:68em}"
    "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left;width:36%}thead th{background:#bdd7ee;position:sticky;top:0}"
    "tr.group th{background:#dde7f3;text-align:left}"
    ".better{background:#c6efce}.worse{background:#ffc7ce}"
    "@media print{body{margin:0;font-size:11px}table{font-size:11px;width:100%}"
    "thead{display:table-header-group}thead th{position:static}"
    "tbody{break-inside:avoid;page-break-inside:avoid}tr{break-inside:avoid;page-break-inside:avoid}"
    "h2{break-after:avoid;page-break-after:avoid}.headline{break-inside:avoid}}"
)


def _table_html(view: View, blocks: Sequence[Block], cls: str, *, titled: bool = True) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in view.header)
    body = []
    for block in blocks:
        rows = [f"<tr class='group'><th colspan='{len(view.header)}'>{e(block.title)}</th></tr>"] if titled else []
        for label, cells in block.rows:
            rows.append(f"<tr><td>{html_text(label)}</td>" + "".join(
                f"<td class='{c.tone}'>{e(c.text)}</td>" if c.tone else f"<td>{e(c.text)}</td>"
                for c in cells) + "</tr>")
        body.append("<tbody>" + "".join(rows) + "</tbody>")
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead>{''.join(body)}</table>"


def _html(view: View) -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='{view.lang}'><head><meta charset='utf-8'>"
             f"<title>{e(view.title)}</title><style>{_CSS}</style></head><body><h1>{e(view.title)}</h1>"]
    if view.synthetic:
        parts.append(f"<p class='synthetic'>{e(_t('synthetic', view.lang))}</p>")
    *scenarios, legend = view.lines
    parts += [f"<p>{html_text(line)}</p>" for line in scenarios]
    parts.append(f"<p class='legend'>{e(legend)}</p>")
    parts.append(f"<h2>{e(view.headline.title)}</h2>"
                 + _table_html(view, [view.headline], "headline", titled=False))
    parts.append(f"<h2>{e(_t('all', view.lang))}</h2>" + _table_html(view, view.blocks, "all"))
    parts.append(f"<p class='note'>{e(view.note)}</p></body></html>")
    return add_csp("".join(parts))

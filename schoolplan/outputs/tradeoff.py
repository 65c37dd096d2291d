"""The optimiser's trade-off table as files and as a chart (issue 14 item 5).

:func:`write_tradeoff` writes ``tradeoff.csv`` (the table of
:func:`schoolplan.optimize.tradeoff_table`, its column keys), ``tradeoff.xlsx`` (labelled in the
user's language, with the chart), ``tradeoff.svg`` and ``tradeoff.html`` (the chart inline and the
table; no network); :func:`tradeoff_section` is the same chart and table as an HTML fragment for
the comparison page. The chart (matplotlib, drawn offline) shows, against the number of schools
open, the mean and the 95th-percentile travel time of each grade group; points solved by the
exact model are filled, heuristic ones hollow. Every text of the chart and the table is this
module's own (Chinese or English); values reach HTML only through :func:`html_text`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from schoolplan.outputs.escape import add_csp, html_text
from schoolplan.outputs.excel import _cell, _to_bytes
from schoolplan.outputs.files import atomic_write, output_time
from schoolplan.outputs.report import write_csv
from schoolplan.outputs.summary import (
    SVG_METADATA,
    FontMissingError,
    cjk_context,
    cjk_fonts,
    glyphs_logged,
)

__all__ = ["TRADEOFF_LABELS", "tradeoff_frame", "tradeoff_png", "tradeoff_section",
           "tradeoff_svg", "write_tradeoff"]

_GROUPS = {"g1_3": ("1-3年级", "grades 1-3"), "g4_6": ("4-6年级", "grades 4-6"),
           "g7_9": ("7-9年级", "grades 7-9")}
_STATS = {("mean", "time_min"): ("平均时间（分钟）", "mean time (min)"),
          ("p95", "time_min"): ("95%分位时间（分钟）", "95th percentile time (min)"),
          ("mean", "distance_m"): ("平均距离（米）", "mean distance (m)"),
          ("p95", "distance_m"): ("95%分位距离（米）", "95th percentile distance (m)")}

#: column -> (Chinese, English) header
TRADEOFF_LABELS: dict[str, tuple[str, str]] = {
    "schools_open": ("开办学校数", "schools open"),
    "schools_closed": ("撤并学校数", "schools closed"),
    "method": ("求解方法", "method"),
    "status": ("求解状态", "status"),
    "total_cost": ("学生出行总量（人·米）", "total pupil travel (pupil-m)"),
    "pupils_without_seat": ("无学位学生（人）", "pupils without a seat"),
    **{f"{stat}_{what}_{g}": (f"{gzh}{szh}", f"{gen} {sen}")
       for g, (gzh, gen) in _GROUPS.items() for (stat, what), (szh, sen) in _STATS.items()},
}
_VALUES = {"exact": ("精确求解", "exact"), "heuristic": ("启发式", "heuristic"),
           "optimal": ("最优", "optimal"), "time_limit": ("达到时限（可行）", "time limit (feasible)"),
           "heuristic_shortage": ("启发式（学位不足）", "heuristic (seats short)")}
_TEXT = {"title": ("布局优化权衡：开办学校数与出行时间", "Optimiser trade-off: schools open against travel"),
         "x": ("开办学校数", "schools open"), "y": ("出行时间（分钟）", "travel time (min)"),
         "mean": ("平均", "mean"), "p95": ("95%分位", "95th percentile"),
         "note": ("两端（最少学校数、全部保留）为精确求解；中间各点为{between}。",
                  "The end points (fewest schools, every school kept) are solved exactly; the points "
                  "in between by the {between} method."),
         "sheet": ("布局优化权衡", "Trade-off")}


def _t(key: str, lang: str) -> str:
    zh, en = _TEXT[key]
    return zh if lang == "zh" else en


def _value(v: Any, lang: str) -> Any:
    if isinstance(v, str) and v in _VALUES:
        return _VALUES[v][0 if lang == "zh" else 1]
    return v


def tradeoff_frame(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The table with headers and method/status words in the user's language."""
    out = table.copy()
    for col in ("method", "status"):
        out[col] = [_value(v, lang) for v in out[col]]
    return out.rename(columns={c: TRADEOFF_LABELS[c][0 if lang == "zh" else 1]
                               for c in out.columns if c in TRADEOFF_LABELS})


def _between(table: pd.DataFrame, lang: str) -> str:
    inner = [m for m in table["method"].iloc[1:-1] if isinstance(m, str)]
    name = inner[0] if inner else "exact"
    return _value(name, lang)


def _figure(table: pd.DataFrame, lang: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    x = table["schools_open"].to_numpy(float)
    exact = (table["method"] == "exact").to_numpy()
    colours = {"g1_3": "#1b9e77", "g4_6": "#d95f02", "g7_9": "#7570b3"}
    for g, (gzh, gen) in _GROUPS.items():
        for stat, style in (("mean", "-"), ("p95", "--")):
            col = f"{stat}_time_min_{g}"
            if col not in table or table[col].isna().all():
                continue
            y = pd.to_numeric(table[col], errors="coerce").to_numpy(float)
            label = f"{gzh if lang == 'zh' else gen} {_t(stat, lang)}"
            ax.plot(x, y, style, color=colours[g], label=label, linewidth=1.4)
            ax.plot(x[exact], y[exact], "o", color=colours[g], markersize=5)
            ax.plot(x[~exact], y[~exact], "o", color=colours[g], markersize=4, fillstyle="none")
    ax.set_xlabel(_t("x", lang))
    ax.set_ylabel(_t("y", lang))
    ax.set_title(_t("title", lang), fontsize=11)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncol=2, loc="best")
    fig.tight_layout()
    return fig


def _render(table: pd.DataFrame, lang: str, fmt: str) -> bytes | None:
    try:
        fonts = cjk_fonts()
    except FontMissingError:
        if lang == "zh":
            return None
        fonts = []
    with glyphs_logged("tradeoff chart"), cjk_context(fonts):
        fig = _figure(table, lang)
        buf = io.BytesIO()
        meta = SVG_METADATA if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, dpi=110, metadata=meta)
    return buf.getvalue()


def tradeoff_svg(table: pd.DataFrame, lang: str = "zh") -> str | None:
    """The chart as SVG markup (None when no font can show Chinese for a Chinese chart)."""
    data = _render(table, lang, "svg")
    return None if data is None else data.decode("utf-8")


def tradeoff_png(table: pd.DataFrame, lang: str = "zh") -> bytes | None:
    """The chart as PNG bytes (None when no font can show Chinese for a Chinese chart)."""
    return _render(table, lang, "png")


def _inline(svg: str | None) -> str:
    if not svg:
        return ""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""


def _table_html(table: pd.DataFrame, lang: str) -> str:
    shown = tradeoff_frame(table, lang)
    head = "".join(f"<th>{html_text(str(c))}</th>" for c in shown.columns)
    rows = []
    for rec in shown.itertuples(index=False):
        cells = []
        for v in rec:
            text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else (
                f"{v:,.1f}" if isinstance(v, float) else str(v))
            cells.append(f"<td>{html_text(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def tradeoff_section(table: pd.DataFrame, lang: str = "zh", title: str | None = None) -> str:
    """The chart (inline SVG) and the table as an HTML fragment; ``title`` (a scenario's name,
    data) is escaped."""
    heading = html_text(title) + " — " + html_text(_t("title", lang)) if title else html_text(
        _t("title", lang))
    note = html_text(_t("note", lang).format(between=_between(table, lang)))
    return (f"<section class='tradeoff'><h3>{heading}</h3><div>{_inline(tradeoff_svg(table, lang))}"
            f"</div><p>{note}</p>{_table_html(table, lang)}</section>")


def _page(table: pd.DataFrame, lang: str) -> str:
    title = html_text(_t("title", lang))
    return add_csp(
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',"
        "'WenQuanYi Micro Hei',sans-serif;margin:20px}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}</style>"
        f"</head><body>{tradeoff_section(table, lang)}</body></html>")


def _xlsx(table: pd.DataFrame, lang: str) -> bytes:
    from openpyxl.drawing.image import Image

    wb = Workbook()
    ws = wb.active
    ws.title = _t("sheet", lang)
    shown = tradeoff_frame(table, lang)
    ws.append([_cell(ws, str(c)) for c in shown.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for rec in shown.itertuples(index=False):
        ws.append([_cell(ws, None if isinstance(v, float) and np.isnan(v) else v) for v in rec])
    ws.append([])
    ws.append([_cell(ws, _t("note", lang).format(between=_between(table, lang)))])
    png = tradeoff_png(table, lang)
    if png:
        ws.add_image(Image(io.BytesIO(png)), f"A{ws.max_row + 2}")
    return _to_bytes(wb, output_time())


def write_tradeoff(table: pd.DataFrame | None, out_dir: Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``tradeoff.csv``, ``tradeoff.xlsx``, ``tradeoff.svg`` (when a font can draw it) and
    ``tradeoff.html`` into ``out_dir``; nothing without a table."""
    if table is None or not len(table):
        return {}
    out_dir = Path(out_dir)
    paths = {"tradeoff": write_csv(table, out_dir / "tradeoff.csv"),
             "tradeoff_xlsx": atomic_write(out_dir / "tradeoff.xlsx", _xlsx(table, lang))}
    svg = tradeoff_svg(table, lang)
    if svg:
        paths["tradeoff_svg"] = atomic_write(out_dir / "tradeoff.svg", svg)
    paths["tradeoff_html"] = atomic_write(out_dir / "tradeoff.html", _page(table, lang))
    return paths

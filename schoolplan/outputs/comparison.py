"""The comparison of scenarios as files: ``comparison.csv``, ``comparison.xlsx`` and a
self-contained ``comparison.html`` (the table comes from :func:`schoolplan.scenario.compare.compare`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from schoolplan.outputs.escape import add_csp, html_text
from schoolplan.outputs.excel import _cell, _to_bytes
from schoolplan.outputs.files import atomic_write, output_time
from schoolplan.outputs.folder import OutputFolder, moved
from schoolplan.outputs.report import write_csv
from schoolplan.outputs.summary import write_comparison_summary

__all__ = ["write_comparison"]


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
    label = "label_zh" if lang == "zh" else "label_en"
    shown = table.drop(columns=["label_zh" if lang != "zh" else "label_en"]).rename(
        columns={label: "指标" if lang == "zh" else "indicator label"})
    paths = {"csv": write_csv(table, out_dir / "comparison.csv")}
    paths["xlsx"] = _write_xlsx(shown, out_dir / "comparison.xlsx", lang)
    page = _html(shown, lang, titles)
    if tradeoffs:  # the optimiser's trade-off charts (issue 14), one per scenario that has one
        from schoolplan.outputs.tradeoff import tradeoff_section

        extra = "".join(tradeoff_section(t, lang, title=name) for name, t in tradeoffs.items())
        page = page.replace("</body></html>", extra + "</body></html>")
    paths["html"] = atomic_write(out_dir / "comparison.html", page)
    paths.update(write_comparison_summary(table, out_dir, lang=lang, titles=titles))
    return paths


def _write_xlsx(df: pd.DataFrame, path: Path, lang: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "方案对比" if lang == "zh" else "Comparison"
    ws.append([_cell(ws, str(c)) for c in df.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    better_lower = lambda key: not key.startswith(("schools_", "satellites", "utilisation"))  # noqa: E731
    for _, r in df.iterrows():
        ws.append([_cell(ws, None if (isinstance(v, float) and np.isnan(v)) else v) for v in r.tolist()])
        for j, col in enumerate(df.columns, 1):
            if str(col).endswith("Δ") and isinstance(r[col], (int, float)) and np.isfinite(r[col]) and r[col] != 0:
                worse = (r[col] > 0) == better_lower(r["indicator"])
                ws.cell(ws.max_row, j).fill = PatternFill("solid", fgColor="FFC7CE" if worse else "C6EFCE")
    ws.freeze_panes = "C2"
    ws.column_dimensions["B"].width = 34
    return atomic_write(path, _to_bytes(wb, output_time()))


def _html(df: pd.DataFrame, lang: str, titles: list[str]) -> str:
    head = "".join(f"<th>{html_text(str(c))}</th>" for c in df.columns)
    body = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else (
                f"{v:+,.1f}" if str(c).endswith("Δ") and isinstance(v, (int, float)) else
                f"{v:,.1f}" if isinstance(v, float) else str(v))
            cls = ""
            if str(c).endswith("Δ") and isinstance(v, (int, float)) and np.isfinite(v) and v != 0:
                cls = " class='up'" if v > 0 else " class='down'"
            cells.append(f"<td{cls}>{html_text(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = "方案对比" if lang == "zh" else "Scenario comparison"
    sub = "<br>".join(html_text(t) for t in titles)
    return add_csp(f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',"
            "'WenQuanYi Micro Hei',sans-serif;margin:20px}"
            "table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
            "td:nth-child(1),td:nth-child(2){text-align:left}th{background:#eee;position:sticky;top:0}"
            ".up{background:#fde2e2}.down{background:#e2f5e2}</style></head><body>"
            f"<h2>{title}</h2><p>{sub}</p><table><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></body></html>")

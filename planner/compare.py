"""Side-by-side comparison of scenarios: the indicators a meeting needs, each with its change
from the base scenario.

``planner compare base.yaml a.yaml b.yaml`` evaluates each scenario (scenarios that share their
inputs and settings share one set of travel costs: no new shortest-path run) and writes
``comparison.csv``, ``comparison.xlsx`` and a self-contained ``comparison.html``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner._files import atomic_write, sha256_of
from planner.diagnosis import Result
from planner.schema import LEVEL_LABELS

__all__ = ["indicators", "compare", "compare_files", "write_comparison"]

_GROUP = {"g1_3": ("1-3年级", "grades 1-3"), "g4_6": ("4-6年级", "grades 4-6"),
          "g7_9": ("7-9年级", "grades 7-9")}


def indicators(result: Result) -> list[tuple[str, str, str, Any]]:
    """The comparison indicators of one result: (key, label_zh, label_en, value)."""
    c, ind = result.counts, result.indicators
    rows: list[tuple[str, str, str, Any]] = [
        ("schools_open", "开办学校数", "schools open", c["schools"]),
        ("schools_closed", "撤并学校数", "schools closed", c.get("schools_closed", 0)),
        ("satellites", "卫星校（教学点）数", "satellites", c.get("schools_by_status", {}).get("satellite", 0)),
    ]
    for level, lab in LEVEL_LABELS.items():
        rows.append((f"schools_{level}", f"{lab['zh']}数", f"{lab['en']} schools",
                     c["schools_by_level"].get(level, 0)))
    for tier, n in c["small_schools_by_tier"].items():
        rows.append((f"small_{tier}", f"小规模学校（少于{tier[2:]}人）", f"small schools under {tier[2:]}", n))
    travel = ind.get("travel", {})
    for g, (zh, en) in _GROUP.items():
        t = travel.get(g)
        if not t:
            continue
        for stat, szh, sen in (("mean", "平均", "mean"), ("median", "中位", "median"),
                               ("p95", "95%分位", "95th percentile"), ("max", "最大", "max")):
            rows.append((f"{g}_{stat}_distance_m", f"{zh}{szh}距离（米）", f"{en} {sen} distance (m)",
                         t.get(f"{stat}_distance_m")))
            rows.append((f"{g}_{stat}_time_min", f"{zh}{szh}时间（分钟）", f"{en} {sen} time (min)",
                         t.get(f"{stat}_time_min")))
        for key in [k for k in t if k.startswith("pupils_over_")]:
            m = key.split("_")[2]
            rows.append((f"{g}_{key}", f"{zh}超过{m}分钟人数", f"{en} pupils over {m} min", t[key]))
        rows.append((f"{g}_bus", f"{zh}需校车人数", f"{en} pupils needing a bus", t["pupils_needing_bus"]))
        rows.append((f"{g}_boarding", f"{zh}需寄宿人数", f"{en} pupils needing boarding",
                     t["pupils_needing_boarding"]))
    short = ind.get("seat_shortage")
    if short:
        rows.append(("seat_shortfall_primary", "小学学位缺口（人）", "primary seat shortfall", short["primary"]))
        rows.append(("seat_shortfall_junior", "初中学位缺口（人）", "junior seat shortfall", short["junior"]))
    s = result.schools
    if "utilisation" in s:
        open_s = s[s["status"] != "closed"]
        rows.append(("utilisation_median", "学位使用率中位数", "median utilisation",
                     round(float(open_s["utilisation"].median()), 3) if open_s["utilisation"].notna().any() else None))
        for band, zh, en in (("red", "红色预警学校数", "schools in red"), ("yellow", "黄色预警学校数", "schools in yellow")):
            rows.append((f"seat_{band}", zh, en, int((open_s["seat_warning"] == band).sum())))
    rows.append(("towns_without_junior", "无初中乡镇数", "towns without a junior middle school",
                 c["towns_without_junior_middle_school"]))
    for rule, n in sorted(c.get("violations", {}).items()):
        from planner.rules import RULES

        r = RULES.get(rule)
        rows.append((f"violations_{rule}", f"违规：{r.title_zh if r else rule}",
                     f"violations: {r.title_en if r else rule}", n))
    return rows


def compare(results: list[Result], names: list[str] | None = None) -> pd.DataFrame:
    """One row per indicator; for each scenario its value and (after the first) its change from
    the first (the base)."""
    names = names or [r.scenario.name for r in results]
    tables = [indicators(r) for r in results]
    order: list[tuple[str, str, str]] = []
    for t in tables:
        for key, zh, en, _ in t:
            if key not in [o[0] for o in order]:
                order.append((key, zh, en))
    out = pd.DataFrame(order, columns=["indicator", "label_zh", "label_en"])
    values = [{k: v for k, _, _, v in t} for t in tables]
    base = values[0]
    for i, (name, vals) in enumerate(zip(names, values)):
        out[name] = [vals.get(k, 0 if k.startswith("violations_") else None) for k in out["indicator"]]
        if i:
            out[f"{name} Δ"] = [round(_num(vals.get(k, 0 if k.startswith("violations_") else None))
                                       - _num(base.get(k, 0 if k.startswith("violations_") else None)), 3)
                                for k in out["indicator"]]
    return out


def _num(v: Any) -> float:
    try:
        return float(v) if v is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def compare_files(paths: list[str | Path], *, settings_overrides: dict | None = None,
                  years: list[int] | None = None) -> list[Result]:
    """Evaluate scenario files, sharing travel costs between scenarios with the same inputs
    and settings. With ``years``, each scenario is evaluated for each year (it needs an
    enrolment ``history`` input) and named ``<name> <year>``."""
    import dataclasses

    from planner.actions import run_actions
    from planner.scenario import initial_state, load_scenario, prepare
    from planner.settings import Settings

    bases: dict[str, Any] = {}
    results = []
    scenarios = []
    for p in paths:
        sc = load_scenario(p)
        if years:
            if "history" not in sc.inputs:
                from planner.errors import ScenarioError

                raise ScenarioError(f"{p}: comparing years needs inputs.history in the scenario")
            scenarios += [dataclasses.replace(sc, year=y, name=f"{sc.name} {y}",
                                              title=f"{sc.title} ({y})") for y in years]
        else:
            scenarios.append(sc)
    for sc in scenarios:
        settings = Settings.layered(("scenario", sc.settings), ("cli", settings_overrides))
        key = json.dumps([sorted((k, sha256_of(v.path) if v.path.exists() else str(v.path))
                                 for k, v in sc.inputs.items()),
                          [(k, v.coordinate_system, v.columns, v.values, v.sheet) for k, v in sorted(sc.inputs.items())],
                          settings.to_records(), sc.year], sort_keys=True, default=str)
        if key not in bases:
            bases[key] = prepare(sc, settings=settings)
        base = bases[key]
        base_for = type(base)(sc, base.settings, base.inputs, base.groups, base.costs,
                              base.networks, base.distance_method, base.cache)
        results.append(run_actions(base_for, initial_state(base_for), sc.actions,
                                   with_candidates=False))
    return results


def write_comparison(table: pd.DataFrame, out_dir: str | Path, *, lang: str = "zh",
                     titles: list[str] | None = None) -> dict[str, Path]:
    """Write ``comparison.csv``, ``comparison.xlsx`` and ``comparison.html`` into ``out_dir``."""
    from planner.report import write_csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = "label_zh" if lang == "zh" else "label_en"
    shown = table.drop(columns=["label_zh" if lang != "zh" else "label_en"]).rename(
        columns={label: "指标" if lang == "zh" else "indicator label"})
    paths = {"csv": write_csv(table, out_dir / "comparison.csv")}
    paths["xlsx"] = _write_xlsx(shown, out_dir / "comparison.xlsx", lang)
    paths["html"] = atomic_write(out_dir / "comparison.html", _html(shown, lang, titles or []))
    return paths


def _write_xlsx(df: pd.DataFrame, path: Path, lang: str) -> Path:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "方案对比" if lang == "zh" else "Comparison"
    ws.append([str(c) for c in df.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    better_lower = lambda key: not key.startswith(("schools_", "satellites", "utilisation"))  # noqa: E731
    for _, r in df.iterrows():
        ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in r.tolist()])
        for j, col in enumerate(df.columns, 1):
            if str(col).endswith("Δ") and isinstance(r[col], (int, float)) and np.isfinite(r[col]) and r[col] != 0:
                worse = (r[col] > 0) == better_lower(r["indicator"])
                ws.cell(ws.max_row, j).fill = PatternFill("solid", fgColor="FFC7CE" if worse else "C6EFCE")
    ws.freeze_panes = "C2"
    ws.column_dimensions["B"].width = 34
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write(path, buf.getvalue())


def _html(df: pd.DataFrame, lang: str, titles: list[str]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
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
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = "方案对比" if lang == "zh" else "Scenario comparison"
    sub = "<br>".join(html.escape(t) for t in titles)
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:20px}"
            "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
            "td:nth-child(1),td:nth-child(2){text-align:left}th{background:#eee;position:sticky;top:0}"
            ".up{background:#fde2e2}.down{background:#e2f5e2}</style></head><body>"
            f"<h2>{title}</h2><p>{sub}</p><table><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></body></html>")

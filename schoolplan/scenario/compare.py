"""Side-by-side comparison of scenarios: the indicators a meeting needs, each with its change
from the base scenario.

``schoolplan compare base.yaml a.yaml b.yaml`` evaluates each scenario (scenarios that share their
inputs and settings share one set of travel costs: no new shortest-path run);
:func:`schoolplan.outputs.comparison.write_comparison` writes ``comparison.csv``,
``comparison.xlsx`` and a self-contained ``comparison.html``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schoolplan.errors import ScenarioError
from schoolplan.io import sha256_of
from schoolplan.rules import RULES
from schoolplan.scenario.actions import run_actions
from schoolplan.scenario.run import initial_state, prepare
from schoolplan.scenario.spec import load_scenario
from schoolplan.schema import LEVEL_LABELS, Result
from schoolplan.settings import Settings

__all__ = ["compare", "compare_files", "indicators", "tradeoffs"]

#: Rules made outside schoolplan.rules.RULES (by the balance diagnosis): their names.
_OTHER_RULES = {"balance_cv": ("校际差异系数超限", "coefficient of variation above the limit"),
                "balance_school": ("学校资源配置指标未达标", "school below the resource standards")}

_GROUP = {"g1_3": ("1-3年级", "grades 1-3"), "g4_6": ("4-6年级", "grades 4-6"),
          "g7_9": ("7-9年级", "grades 7-9")}


def indicators(result: Result) -> list[tuple[str, str, str, Any]]:
    """The comparison indicators of one result: (key, label_zh, label_en, value)."""
    c, ind = result.counts, result.indicators
    rows: list[tuple[str, str, str, Any]] = [
        ("schools_open", "开办学校数", "schools open", c["schools"]),
        ("schools_closed", "撤并学校数", "schools closed", c.get("schools_closed", 0)),
        ("satellites", "卫星校（保留1-3年级的附设校）数",
         "satellites (village schools kept for grades 1-3)", c.get("schools_by_status", {}).get("satellite", 0)),
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
        for band, zh, en in (("red", "红色预警学校数", "schools in red"),
                             ("yellow", "黄色预警学校数", "schools in yellow")):
            rows.append((f"seat_{band}", zh, en, int((open_s["seat_warning"] == band).sum())))
    rows.append(("towns_without_junior", "无初中乡镇数", "towns without a junior middle school",
                 c["towns_without_junior_middle_school"]))
    for rule, n in sorted(c.get("violations", {}).items()):
        r = RULES.get(rule)
        zh, en = (r.title_zh, r.title_en) if r else _OTHER_RULES.get(rule, (rule, rule))
        rows.append((f"violations_{rule}", f"不符合：{zh}", f"not met: {en}", n))
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
    for i, (name, vals) in enumerate(zip(names, values, strict=True)):
        out[name] = [vals.get(k, 0 if k.startswith("violations_") else None) for k in out["indicator"]]
        if i:
            out[f"{name} Δ"] = [round(_num(vals.get(k, 0 if k.startswith("violations_") else None))
                                       - _num(base.get(k, 0 if k.startswith("violations_") else None)), 3)
                                for k in out["indicator"]]
    return out


def tradeoffs(results: list[Result]) -> dict[str, pd.DataFrame]:
    """Scenario name -> the optimiser's trade-off table, for the scenarios that asked for one."""
    return {r.scenario.name: r.tradeoff for r in results if r.tradeoff is not None}


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
    bases: dict[str, Any] = {}
    results = []
    scenarios = []
    for p in paths:
        sc = load_scenario(p)
        if years:
            if "history" not in sc.inputs:
                raise ScenarioError(f"{p}: comparing years needs inputs.history in the scenario")
            scenarios += [dataclasses.replace(sc, year=y, name=f"{sc.name} {y}",
                                              title=f"{sc.title} ({y})") for y in years]
        else:
            scenarios.append(sc)
    for sc in scenarios:
        settings = Settings.layered(("scenario", sc.settings), ("cli", settings_overrides))
        key = json.dumps([sorted((k, sha256_of(v.path) if v.path.exists() else str(v.path))
                                 for k, v in sc.inputs.items()),
                          [(k, v.coordinate_system, v.columns, v.values, v.sheet)
                           for k, v in sorted(sc.inputs.items())],
                          settings.to_records(), sc.year], sort_keys=True, default=str)
        if key not in bases:
            bases[key] = prepare(sc, settings=settings)
        base = bases[key]
        base_for = type(base)(sc, base.settings, base.inputs, base.groups, base.costs,
                              base.networks, base.distance_method, base.cache)
        results.append(run_actions(base_for, initial_state(base_for), sc.actions,
                                   with_candidates=False))
    return results

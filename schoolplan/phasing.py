"""Phased housing estates (分期交付): an estate's children by year, the schools' seats by year, and
the delivery phase by which the estate's school must open (同步建设、同步交付).

* **children by year**: each phase brings its residents in its delivery year; its children are
  residents x the rate per 1,000 residents x the **age profile** of the level
  (``estate_profile_kindergarten`` / ``_primary`` / ``_junior``: a multiple of the rate by year
  since handover, year 0 = the delivery year; the last value holds). Young families move in
  first, so a new estate's primary pupils peak some years after handover and then settle: the
  default profiles are assumptions (confidence ``A``) to be set from a comparable estate;
* **seats by year**: seats of the school's part minus the children the catchment model sends
  there, those children scaled by the enrolment projection of the school's part
  (:func:`schoolplan.projection.cohort_projection`) from the scenario year to each year when an
  enrolment history is given, else held at the scenario year's figure;
* **the verdict per year and per phase**: the estates take the seats of the year in review order;
  a phase's verdict is its worst year from its delivery to the next phase's delivery (the last
  phase: to the end of the profile). The school must open with the phase in force in the first
  year short.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import projection as pj
from schoolplan.settings import Settings

__all__ = ["LEVEL_EN", "LEVEL_ZH", "PHASE_VERDICT_COLUMNS", "PHASE_YEAR_COLUMNS", "enrolment_ratios",
           "phase_review", "phase_summary", "pupils_by_year"]

PHASE_YEAR_COLUMNS = ["estate_id", "level", "year", "phase", "residents", "pupils", "seats_left",
                      "verdict", "short_by"]
PHASE_VERDICT_COLUMNS = ["estate_id", "level", "phase", "delivery_year", "until_year", "worst_year",
                         "pupils_max", "verdict", "short_by"]
Key = tuple[str, str]
LEVEL_ZH = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中"}
LEVEL_EN = {"kindergarten": "kindergarten", "primary": "primary", "junior": "junior middle"}


def pupils_by_year(phases: Sequence[tuple[int, float]], rate_per_1000: float, profile: Sequence[float],
                   years: np.ndarray) -> np.ndarray:
    """Children of an estate in each of ``years``: ``phases`` are (delivery year, residents)."""
    out = np.zeros(len(years))
    prof = np.asarray(profile, dtype=float)
    for year, residents in phases:
        since = years - int(year)
        factor = np.where(since < 0, 0.0, prof[np.clip(since, 0, len(prof) - 1)])
        out += float(residents) * rate_per_1000 / 1000.0 * factor
    return out


def enrolment_ratios(history: pd.DataFrame, *, births: pd.DataFrame | None, schools: pd.DataFrame,
                     base_year: int | None, years: Sequence[int], settings: Settings) -> pd.DataFrame:
    """Projected pupils of each school's primary (grades 1–6) and junior (7–9) part in ``years``
    over those in ``base_year`` (default the history's last year); years outside the projection
    take its nearest year. Columns ``school_id``, ``level``, ``year``, ``ratio``."""
    last = int(history["year"].max())
    horizon = max(int(max(years)) - last, int(base_year or last) - last, 1)
    proj = pj.cohort_projection(history, births=births, schools=schools, horizon=horizon, settings=settings)
    proj = proj.assign(level=np.where(proj["grade"] <= 6, "primary", "junior"))
    part = proj.groupby(["school_id", "level", "year"])["pupils"].sum()
    lo, hi = int(proj["year"].min()), int(proj["year"].max())
    base = min(max(int(base_year or last), lo), hi)
    rows = []
    for (sid, level), series in part.groupby(level=[0, 1]):
        by_year = series.droplevel([0, 1])
        at_base = float(by_year.get(base, np.nan))
        for y in years:
            v = float(by_year.get(min(max(int(y), lo), hi), np.nan))
            ratio = v / at_base if at_base > 0 and np.isfinite(v) else 1.0
            rows.append((sid, level, int(y), ratio))
    return pd.DataFrame(rows, columns=["school_id", "level", "year", "ratio"])


def phase_review(
    plans: Mapping[Key, tuple[list[tuple[int, float]], float, list[float]]],
    serving: Mapping[Key, list[str]],
    seats: Mapping[Key, float],
    assigned: Mapping[Key, float],
    ratios: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The verdict of every estate and level by year and by delivery phase.

    Parameters
    ----------
    plans
        (estate_id, level) -> (phases as (delivery year, residents), rate per 1,000 residents,
        age profile), in review order (earlier estates take the seats first).
    serving
        (estate_id, level) -> the schools within the radius.
    seats
        (school_id, level) -> seats of the part (NaN = unknown).
    assigned
        (school_id, level) -> children the catchment model sends there in the scenario year.
    ratios
        From :func:`enrolment_ratios`, or ``None`` (the scenario year's children held).

    Returns
    -------
    (by year, by phase): :data:`PHASE_YEAR_COLUMNS` and :data:`PHASE_VERDICT_COLUMNS`.
    """
    ratio = {} if ratios is None else {
        (r.school_id, r.level, r.year): r.ratio for r in ratios.itertuples(index=False)}
    taken: dict[tuple[str, str, int], float] = {}
    rows = []
    spans = {k: (min(y for y, _ in ph), max(y for y, _ in ph) + len(prof) - 1)
             for k, (ph, _, prof) in plans.items() if ph}
    if not spans:
        return pd.DataFrame(columns=PHASE_YEAR_COLUMNS), pd.DataFrame(columns=PHASE_VERDICT_COLUMNS)
    for year in range(min(a for a, _ in spans.values()), max(b for _, b in spans.values()) + 1):
        for key, (phases, rate, profile) in plans.items():
            if key not in spans or not spans[key][0] <= year <= spans[key][1]:
                continue
            level = key[1]
            pupils = float(pupils_by_year(phases, rate, profile, np.array([year]))[0])
            free, remaining, unknown = 0.0, pupils, False
            for sid in serving.get(key, []):
                part = seats.get((sid, level), np.nan)
                if not np.isfinite(part):
                    unknown = True
                    continue
                used = assigned.get((sid, level), 0.0) * ratio.get((sid, level, year), 1.0)
                avail = max(part - used - taken.get((sid, level, year), 0.0), 0.0)
                take = min(avail, remaining)
                taken[(sid, level, year)] = taken.get((sid, level, year), 0.0) + take
                remaining -= take
                free += avail
            short = pupils - free
            verdict = "served" if short <= 1e-9 else ("unknown" if unknown else "short")
            rows.append({"estate_id": key[0], "level": level, "year": year,
                         "phase": sum(y <= year for y, _ in phases),
                         "residents": round(sum(r for y, r in phases if y <= year), 1),
                         "pupils": round(pupils, 1), "seats_left": round(free, 1), "verdict": verdict,
                         "short_by": math.ceil(round(short, 1) - 1e-9) if verdict != "served" else 0})
    by_year = pd.DataFrame(rows, columns=PHASE_YEAR_COLUMNS)
    return by_year, _by_phase(by_year, plans)


def _by_phase(by_year: pd.DataFrame, plans) -> pd.DataFrame:
    out = []
    for (eid, level), g in by_year.groupby(["estate_id", "level"], sort=False):
        phases = plans[(eid, level)][0]
        for k, (year, _) in enumerate(phases, start=1):
            span = g[g["phase"] == k]
            if span.empty:
                continue
            worst = span.loc[span["short_by"].idxmax()] if (span["short_by"] > 0).any() \
                else span.loc[span["pupils"].idxmax()]
            verdict = "served" if (span["verdict"] == "served").all() else str(worst["verdict"])
            out.append({"estate_id": eid, "level": level, "phase": k, "delivery_year": int(year),
                        "until_year": int(span["year"].max()), "worst_year": int(worst["year"]),
                        "pupils_max": float(span["pupils"].max()), "verdict": verdict,
                        "short_by": int(span["short_by"].max())})
    return pd.DataFrame(out, columns=PHASE_VERDICT_COLUMNS)


def phase_summary(levels: pd.DataFrame, by_year: pd.DataFrame, by_phase: pd.DataFrame,
                  note: tuple[str, str]) -> pd.DataFrame:
    """Add to the level table (``estate_id``, ``level``) of a review: the peak, the first year
    short, the phase the school must open with, and the phase sentence (``phase_zh``/``phase_en``);
    ``note`` says (zh, en) how seats by year were found."""
    names = ("peak_year", "peak_pupils", "peak_short_by", "first_short_year", "open_by_phase", "open_by_year",
             "phase_zh", "phase_en")
    cols: dict[str, list[Any]] = {c: [] for c in names}
    for _, r in levels.iterrows():
        y = by_year[(by_year["estate_id"] == r["estate_id"]) & (by_year["level"] == r["level"])]
        p = by_phase[(by_phase["estate_id"] == r["estate_id"]) & (by_phase["level"] == r["level"])]
        if y.empty:
            for c in cols:
                cols[c].append(None)
            continue
        peak = y.loc[y["pupils"].idxmax()]
        short = y[y["verdict"] != "served"]
        first = short.iloc[0] if len(short) else None
        open_phase = int(first["phase"]) if first is not None else None
        open_year = int(p.loc[p["phase"] == open_phase, "delivery_year"].iloc[0]) if open_phase else None
        parts_zh, parts_en = [], []
        for _, ph in p.iterrows():
            if ph["verdict"] == "served":
                parts_zh.append(f"第{ph['phase']}期（{ph['delivery_year']}年交付）可满足")
                parts_en.append(f"phase {ph['phase']} (handed over {ph['delivery_year']}) served")
            else:
                parts_zh.append(f"第{ph['phase']}期（{ph['delivery_year']}年交付）最多缺 {ph['short_by']} 个学位"
                                f"（{ph['worst_year']}年）")
                parts_en.append(f"phase {ph['phase']} (handed over {ph['delivery_year']}) short by up to "
                                f"{ph['short_by']} seats ({ph['worst_year']})")
        word = "children" if r["level"] == "kindergarten" else "pupils"
        zh = (f"分期核算（交付后逐年，{note[0]}）：" + "；".join(parts_zh)
              + f"；{LEVEL_ZH[r['level']]}高峰 {int(peak['year'])} 年 {peak['pupils']:.0f} 人")
        en = (f"By phase (year by year after handover; {note[1]}): " + "; ".join(parts_en)
              + f"; peak {int(peak['year'])}: {peak['pupils']:.0f} {word}")
        steady = int(r["short_by"]) if pd.notna(r["short_by"]) else 0
        if int(y["short_by"].max()) > steady:
            zh += (f"；高峰缺 {int(y['short_by'].max())} 个学位，多于按千人指标的 {steady} 个，"
                   "配建规模宜按高峰核定")
            en += (f"; the peak gap, {int(y['short_by'].max())} seats, exceeds the {steady} at the steady "
                   "rate: size the places for the peak")
        if open_phase:
            zh += f"；配套{LEVEL_ZH[r['level']]}须随第{open_phase}期于 {open_year} 年同步交付。"
            en += f"; the {LEVEL_EN[r['level']]} places must open with phase {open_phase} in {open_year}."
        else:
            zh += "。"
            en += "."
        for c, v in zip(cols, (int(peak["year"]), float(peak["pupils"]), int(y["short_by"].max()),
                               int(first["year"]) if first is not None else None, open_phase, open_year,
                               zh, en), strict=True):
            cols[c].append(v)
    for c, values in cols.items():
        levels[c] = values
    for c in ("peak_year", "peak_short_by", "first_short_year", "open_by_phase", "open_by_year"):
        levels[c] = pd.array(pd.to_numeric(levels[c]), dtype="Int64")
    return levels

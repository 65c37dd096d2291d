"""优质均衡 (high-quality balanced development): the 7 per-school resource indicators of
教督〔2017〕6号 and their coefficient of variation (CV) across a county's schools.

Indicators, per school and level part, from ledger columns (:data:`schoolplan.schema.BALANCE_COLUMNS`):

=================================  ======================================  =====================
indicator                          ledger column                           unit
=================================  ======================================  =====================
``teachers_qualified_per100``      高于规定学历教师数                       per 100 pupils
``key_teachers_per100``            县级及以上骨干教师数                     per 100 pupils
``pe_arts_teachers_per100``        体育艺术专任教师数                       per 100 pupils
``teaching_area_m2_per_pupil``     教学及辅助用房面积                       m² per pupil
``sports_area_m2_per_pupil``       体育运动场馆面积                         m² per pupil
``equipment_yuan_per_pupil``       教学仪器设备值                           yuan per pupil
``multimedia_classrooms_per100``   网络多媒体教室数                         per 100 pupils
=================================  ======================================  =====================

A school meets the standard when it meets at least ``balance_min_met`` (6) of the 7 (settings
``balance_standards_primary``/``_junior``). A missing ledger column means "not computed", never
zero: schools are then judged only when all 7 are known.

CV per level and indicator is pupil-weighted, as in the 教督〔2017〕6号 formula:
``mean = Σ P_i X_i / Σ P_i``, ``S = sqrt(Σ P_i (X_i − mean)² / Σ P_i)``, ``CV = S / mean``, with
``P_i`` the pupils of school ``i``. Limits: primary ≤ ``cv_limit_primary`` (0.50), junior ≤
``cv_limit_junior`` (0.45). Nine-year and complete schools count in each level they teach, with
the pupils of that part (a nine-year school's resources per pupil are those of the whole school).
Teaching points count as primary schools.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schoolplan.schema import BALANCE_COLUMNS, GRADE_COLUMNS
from schoolplan.settings import Settings

__all__ = ["INDICATORS", "INDICATOR_NAMES", "cv_contributors", "cv_panel", "school_indicators", "weighted_cv"]

#: indicator -> (ledger column, multiplier to the indicator's unit)
INDICATORS: dict[str, tuple[str, float]] = {
    "teachers_qualified_per100": ("teachers_qualified", 100.0),
    "key_teachers_per100": ("key_teachers", 100.0),
    "pe_arts_teachers_per100": ("pe_arts_teachers", 100.0),
    "teaching_area_m2_per_pupil": ("teaching_area_m2", 1.0),
    "sports_area_m2_per_pupil": ("sports_area_m2", 1.0),
    "equipment_yuan_per_pupil": ("equipment_value_yuan", 1.0),
    "multimedia_classrooms_per100": ("multimedia_classrooms", 100.0),
}
assert {c for c, _ in INDICATORS.values()} == set(BALANCE_COLUMNS)

#: Indicator -> (Chinese, English) name, as 教督〔2017〕6号 words it.
INDICATOR_NAMES: dict[str, tuple[str, str]] = {
    "teachers_qualified_per100": ("每百名学生高于规定学历教师数", "qualified teachers per 100 pupils"),
    "key_teachers_per100": ("每百名学生县级以上骨干教师数", "key teachers per 100 pupils"),
    "pe_arts_teachers_per100": ("每百名学生体艺专任教师数", "PE and arts teachers per 100 pupils"),
    "teaching_area_m2_per_pupil": ("生均教学及辅助用房面积", "teaching floor area per pupil"),
    "sports_area_m2_per_pupil": ("生均体育运动场馆面积", "sports ground per pupil"),
    "equipment_yuan_per_pupil": ("生均教学仪器设备值", "equipment value per pupil"),
    "multimedia_classrooms_per100": ("每百名学生网络多媒体教室数", "multimedia classrooms per 100 pupils"),
}

_PARTS = {"primary": ("primary", "teaching_point", "nine_year"),
          "junior": ("junior", "nine_year", "complete")}


def _part_pupils(s: pd.Series, part: str) -> float:
    enr = float(s["enrollment"]) if pd.notna(s["enrollment"]) else np.nan
    if s["level"] in ("primary", "teaching_point", "junior"):
        return enr
    grades = [s.get(c) for c in GRADE_COLUMNS]
    if all(pd.notna(g) for g in grades[:9]) or (s["level"] == "complete" and all(pd.notna(g) for g in grades[6:9])):
        lo, hi = (0, 6) if part == "primary" else (6, 9)
        return float(sum(float(g) for g in grades[lo:hi] if pd.notna(g)))
    share = {"nine_year": 6 / 9, "complete": 0.0}[s["level"]] if part == "primary" else \
        {"nine_year": 3 / 9, "complete": 0.5}[s["level"]]
    return enr * share


def school_indicators(schools: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """One row per school and level part: the 7 indicators, whether each meets its standard,
    the number met, and ``meets_standard`` (≥ ``balance_min_met`` of 7; NA when not all 7 are
    known). Indicators whose ledger column is absent are NaN ("not computed")."""
    s = settings or Settings()
    rows = []
    for _, sch in schools.iterrows():
        for part, levels in _PARTS.items():
            if sch["level"] not in levels:
                continue
            pupils = _part_pupils(sch, part)
            enr = float(sch["enrollment"]) if pd.notna(sch["enrollment"]) else np.nan
            rec = {"school_id": sch["school_id"], "name": sch["name"], "level": part,
                   "school_level": sch["level"], "pupils": pupils}
            standards = s[f"balance_standards_{part}"]
            met = known = 0
            for ind, (col, mult) in INDICATORS.items():
                value = (float(sch[col]) / enr * mult
                         if col in sch and pd.notna(sch[col]) and enr and enr > 0 else np.nan)
                rec[ind] = round(value, 3) if np.isfinite(value) else np.nan
                ok = bool(value >= standards[ind]) if np.isfinite(value) else None
                rec[f"{ind}_ok"] = ok
                known += ok is not None
                met += bool(ok)
            rec["indicators_known"] = known
            rec["indicators_met"] = met
            rec["meets_standard"] = (met >= s["balance_min_met"]) if known == len(INDICATORS) else None
            rows.append(rec)
    return pd.DataFrame(rows)


def weighted_cv(values: np.ndarray, weights: np.ndarray) -> float:
    """Pupil-weighted coefficient of variation (教督〔2017〕6号 formula); NaN when undefined."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    if ok.sum() < 2:
        return float("nan")
    v, w = v[ok], w[ok]
    mean = np.sum(w * v) / np.sum(w)
    if mean == 0:
        return float("nan")
    return float(np.sqrt(np.sum(w * (v - mean) ** 2) / np.sum(w)) / mean)


def cv_panel(indicators: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """CV per level and indicator against the limit: ``level``, ``indicator``, ``schools``,
    ``cv``, ``limit``, ``ok`` (NA when the indicator is not computed)."""
    s = settings or Settings()
    rows = []
    for part in ("primary", "junior"):
        sub = indicators[indicators["level"] == part]
        limit = s[f"cv_limit_{part}"]
        for ind in INDICATORS:
            cv = weighted_cv(sub[ind].to_numpy(float), sub["pupils"].to_numpy(float)) if len(sub) else np.nan
            rows.append({"level": part, "indicator": ind, "schools": int(sub[ind].notna().sum()),
                         "cv": round(cv, 4) if np.isfinite(cv) else np.nan, "limit": limit,
                         "ok": bool(cv <= limit) if np.isfinite(cv) else None})
    return pd.DataFrame(rows)


def cv_contributors(indicators: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """The schools that pull each CV up most: the CV without the school minus the CV with it
    (most negative first); ``level``, ``indicator``, ``school_id``, ``name``, ``value``,
    ``cv_without``, ``cv_drop``."""
    rows = []
    for part in ("primary", "junior"):
        sub = indicators[indicators["level"] == part].reset_index(drop=True)
        for ind in INDICATORS:
            v, w = sub[ind].to_numpy(float), sub["pupils"].to_numpy(float)
            cv = weighted_cv(v, w)
            if not np.isfinite(cv):
                continue
            drops = []
            for i in range(len(sub)):
                if not np.isfinite(v[i]):
                    continue
                mask = np.arange(len(sub)) != i
                without = weighted_cv(v[mask], w[mask])
                drops.append((cv - without, i, without))
            for drop, i, without in sorted(drops, reverse=True)[:top]:
                if drop <= 0:
                    continue
                rows.append({"level": part, "indicator": ind, "school_id": sub.at[i, "school_id"],
                             "name": sub.at[i, "name"], "value": v[i], "cv": round(cv, 4),
                             "cv_without": round(without, 4), "cv_drop": round(drop, 4)})
    return pd.DataFrame(rows, columns=["level", "indicator", "school_id", "name", "value", "cv",
                                       "cv_without", "cv_drop"])

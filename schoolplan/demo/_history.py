"""A SYNTHETIC multi-year history for the demo county: enrolment 2016-2025 and births 2010-2024.

:func:`write_history` reads the current demo ledger (``data/schools/demo_schools_synthetic.xlsx``,
the school year 2025) through :func:`schoolplan.io.read_schools` and writes::

    data/schools/demo_enrolment_history_synthetic.xlsx   学年, 学校代码, …, 一年级 … 九年级, 2016-2025
    data/demand/demo_births_synthetic.csv                乡镇代码, 乡镇名称, 年份, 出生人口, 2010-2024

Nothing in them is real. How they are made:

* births per town follow the shape of China's national births (NBS: about 17.9 million in 2016,
  9.0 million in 2023, so they roughly halve), times a level and a trend per town fitted to the
  ledger's grade-1 to grade-6 cohorts (rural towns lose births faster, the county seat's 街道
  gain migrants), with 2 % noise;
* each school has grade-progression ratios near 1: rural village schools often lose 1-5 % of a
  cohort a year to the county seat, county-seat schools gain up to 3 %, with 2 % noise a year;
* the cohorts in school in 2025 are walked back from the ledger's values (so 2025 equals the
  ledger exactly); older cohorts enter as a share of their births (grade 1: births six years
  before; grade 7: births twelve years before) and move up by the same ratios.

Same seed, same bytes (fixed XLSX timestamps). Regenerate with
``python -m schoolplan.demo._history`` after ``python -m schoolplan.demo``.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from schoolplan.io import read_schools
from schoolplan.outputs.files import atomic_write, xlsx_bytes

__all__ = [
    "BIRTHS_FILE",
    "DEFAULT_SEED",
    "FIRST_YEAR",
    "HISTORY_FILE",
    "generate_history",
    "write_history",
]

logger = logging.getLogger(__name__)

HISTORY_FILE = "schools/demo_enrolment_history_synthetic.xlsx"
BIRTHS_FILE = "demand/demo_births_synthetic.csv"
LEDGER_FILE = "schools/demo_schools_synthetic.xlsx"
DEFAULT_SEED = 20239
FIRST_YEAR = 2016
BIRTH_YEARS = (2010, 2024)
SHEET = "分年级在校生（合成）"
_FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)
_GRADES_ZH = [f"{cn}年级" for cn in "一二三四五六七八九"]

#: China's births in millions (NBS statistical communiqués; from memory, shape only).
NATIONAL_BIRTHS_M = {
    1998: 19.42, 1999: 18.34, 2000: 17.71, 2001: 17.02, 2002: 16.47, 2003: 15.99, 2004: 15.93,
    2005: 16.17, 2006: 15.85, 2007: 15.94, 2008: 16.08, 2009: 15.91, 2010: 15.92, 2011: 16.04,
    2012: 16.35, 2013: 16.40, 2014: 16.87, 2015: 16.55, 2016: 17.86, 2017: 17.23, 2018: 15.23,
    2019: 14.65, 2020: 12.02, 2021: 10.62, 2022: 9.56, 2023: 9.02, 2024: 9.54,
}


def _segments(grades: list[int]) -> list[tuple[int, int]]:
    """(entry, top) grade of the primary and junior parts a school teaches."""
    out = []
    for part in ([g for g in grades if g <= 6], [g for g in grades if g >= 7]):
        if part:
            out.append((min(part), max(part)))
    return out


def generate_history(schools: pd.DataFrame, *, seed: int = DEFAULT_SEED,
                     base_year: int = 2025) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make the synthetic history and births for a school table (canonical columns).

    Returns
    -------
    history, births
        ``history``: one row per school and year (school_id, name, town_code, town, year,
        enrollment_g1…g9, blank where not taught); ``births``: town_code, town, year, births.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(FIRST_YEAR, base_year + 1)
    nat = pd.Series(NATIONAL_BIRTHS_M)
    towns = schools.groupby("town_code")["town"].first()
    urban = schools.groupby("town_code")["area_type"].apply(lambda a: (a == "urban").all())
    # 1. progression ratios per school and walk the 2025 cohorts back
    p: dict[str, dict[tuple[int, int], float]] = {}
    ratio: dict[str, float] = {}
    for r in schools.itertuples():
        area = r.area_type
        if area == "urban":
            ratio[r.school_id] = rng.uniform(1.0, 1.03)
        elif area == "rural" and rng.random() < 0.6:
            ratio[r.school_id] = rng.uniform(0.95, 0.99)
        else:
            ratio[r.school_id] = rng.uniform(0.985, 1.01)
        vals = {g: getattr(r, f"enrollment_g{g}") for g in range(1, 10)}
        grades = [g for g, v in vals.items() if pd.notna(v)]
        cells: dict[tuple[int, int], float] = {}
        for e, top in _segments(grades):
            for g0 in range(e, top + 1):
                v = float(vals[g0])
                cells[(base_year, g0)] = v
                y, g = base_year, g0
                while g > e and y > FIRST_YEAR:
                    v = v / (ratio[r.school_id] * np.exp(rng.normal(0, 0.02)))
                    y, g = y - 1, g - 1
                    cells[(y, g)] = float(round(v))
        p[r.school_id] = cells
    # 2. births per town: national shape x level x trend fitted to the entries walked back
    births = {}
    for t in towns.index:
        ids = schools.loc[(schools["town_code"] == t), "school_id"]
        b_years, g1 = [], []
        for y in range(base_year - 5, base_year + 1):
            tot = sum(p[s].get((y, 1), 0.0) for s in ids)
            if tot > 0:
                b_years.append(y - 6)
                g1.append(tot)
        k = 1.25 if urban[t] else rng.uniform(0.85, 0.95)  # pupils per birth: migration to the seat
        years_b = np.array(b_years)
        ratio_to_nat = np.log(np.array(g1) / k / nat[years_b].to_numpy())
        slope, icpt = np.polyfit(years_b - 2019, ratio_to_nat, 1) if len(years_b) > 1 else (0.0, ratio_to_nat[0])
        slope = float(np.clip(slope, -0.06, 0.03))
        yrs = np.array(sorted(NATIONAL_BIRTHS_M))
        births[t] = pd.Series(nat[yrs].to_numpy() * np.exp(icpt + slope * (yrs - 2019))
                              * np.exp(rng.normal(0, 0.02, len(yrs))), index=yrs)
    county_births = sum(births.values())
    # 3. older cohorts enter as a share of their births and move up
    for r in schools.itertuples():
        cells = p[r.school_id]
        grades = sorted({g for (_, g) in cells})
        for e, top in _segments(grades):
            b = births[r.town_code] if e == 1 or not urban[r.town_code] else county_births
            lag = 5 + e
            known = [(y, v) for (y, g), v in cells.items() if g == e]
            share = np.mean([v / b[y - lag] for y, v in known])
            for entry in range(FIRST_YEAR - (top - e), base_year - (top - e)):
                v = share * b[entry - lag] * np.exp(rng.normal(0, 0.03))
                y, g = int(entry), int(e)
                while g <= top and y < base_year:
                    if y >= FIRST_YEAR and (y, g) not in cells:
                        cells[(y, g)] = float(round(v))
                    v = v * ratio[r.school_id] * np.exp(rng.normal(0, 0.02))
                    y, g = y + 1, g + 1
    rows = []
    for y in [int(v) for v in years]:
        for r in schools.itertuples():
            cells = p[r.school_id]
            rows.append({"year": int(y), "school_id": r.school_id, "name": r.name,
                         "town_code": r.town_code, "town": r.town,
                         **{f"enrollment_g{g}": cells.get((int(y), g)) for g in range(1, 10)}})
    hist = pd.DataFrame(rows)
    brows = [{"town_code": t, "town": towns[t], "year": int(y), "births": round(float(births[t][y]))}
             for t in towns.index for y in range(BIRTH_YEARS[0], BIRTH_YEARS[1] + 1)]
    return hist, pd.DataFrame(brows)


def _xlsx_bytes(hist: pd.DataFrame, seed: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([(f"示范县（合成）{FIRST_YEAR}-{int(hist['year'].max())}学年 分年级在校生台账 —— 合成数据，"
                "非真实 / SYNTHETIC enrolment history, not real")])
    header = ["学年", "学校代码", "学校名称", "乡镇代码", "所属乡镇", *_GRADES_ZH, "在校生数"]
    ws.append(header)
    for c in ws[2]:
        c.font = Font(bold=True)
    for r in hist.itertuples(index=False):
        grades = [getattr(r, f"enrollment_g{g}") for g in range(1, 10)]
        vals = [None if v is None or pd.isna(v) else int(v) for v in grades]
        total = sum(v for v in vals if v is not None)
        ws.append([f"{r.year}-{r.year + 1}", r.school_id, r.name, r.town_code, r.town, *vals, total])
    ws.freeze_panes = "C3"
    for col, w in zip("ABCDE", (11, 13, 24, 12, 10), strict=True):
        ws.column_dimensions[col].width = w
    note = wb.create_sheet("说明")
    for line in (
        "本表为合成（虚构）数据：示范县及其学校、人数均为程序生成，不代表任何真实地区或学校。",
        f"由 schoolplan.demo._history 以随机种子 {seed} 生成，2025学年与 demo_schools_synthetic.xlsx 一致。",
        "This history is SYNTHETIC: generated by a program, it describes no real place or school.",
        f"Generated by schoolplan.demo._history with seed {seed}; the 2025 school year equals the demo ledger.",
        "学年 2025-2026 即 2025 年秋季入学的学年 / the year a school year starts in.",
        "空白：该校不设此年级 / blank: the school does not teach the grade.",
    ):
        note.append([line])
    note.column_dimensions["A"].width = 100
    props = wb.properties
    props.title = "示范县（合成）分年级在校生 / synthetic enrolment history"
    return xlsx_bytes(wb, _FIXED_TIME, creator="schoolplan.demo._history")


def _csv_bytes(births: pd.DataFrame) -> bytes:
    lines = ["乡镇代码,乡镇名称,年份,出生人口,数据性质"]
    for r in births.itertuples(index=False):
        lines.append(f"{r.town_code},{r.town},{r.year},{r.births},合成数据 synthetic")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def write_history(out_dir: Path | str = "data", *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write the synthetic enrolment history and births from the current demo ledger.

    Parameters
    ----------
    out_dir
        The data directory holding ``schools/demo_schools_synthetic.xlsx``.
    seed
        Seed of the random generator: the same seed (and ledger) gives the same bytes.

    Returns
    -------
    dict
        ``history`` and ``births`` -> path written.
    """
    out = Path(out_dir)
    schools = read_schools(out / LEDGER_FILE)
    schools = schools.sort_values("school_id")
    hist, births = generate_history(pd.DataFrame(schools.drop(columns="geometry")), seed=seed)
    paths = {"history": out / HISTORY_FILE, "births": out / BIRTHS_FILE}
    atomic_write(paths["history"], _xlsx_bytes(hist, seed))
    atomic_write(paths["births"], _csv_bytes(births))
    logger.info("wrote synthetic history (%d school-years) and births (%d town-years) to %s",
                len(hist), len(births), out)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m schoolplan.demo._history [out_dir] [--seed N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="data")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    write_history(args.out_dir, seed=args.seed)


if __name__ == "__main__":
    main()

"""Benchmark of :func:`schoolplan.consolidation.candidates` on a synthetic prefecture.

Run ``python benchmarks/bench_consolidation.py`` (``--towns 45`` for a county-sized run,
``--old PATH`` to time another version of the module, e.g. one written by
``git show 7040f54:schoolplan/consolidation.py > /tmp/old_consolidation.py``).

The input is SYNTHETIC and built in memory: 135 towns on an 8 km grid (Liaocheng has 135
township-level units), 17 schools per town (a 中心小学, a 初级中学, 12 village primaries of 30-300
pupils, 3 教学点 of 20-80: 2,295 schools) and 48 villages per town (6,480), with straight-line
travel costs x 1.3 to each village's 10 nearest schools per grade group (the pipeline's
``catchment_candidates``). Only the nearest assignment is computed (no capacitated solve), so the
time printed is the consolidation table alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schoolplan import catchments as ca
from schoolplan import consolidation
from schoolplan.errors import Problems
from schoolplan.rules import small_tier
from schoolplan.schema import Base, Inputs, Result, Scenario
from schoolplan.settings import Settings


def prefecture(n_towns: int = 135, seed: int = 0):
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_towns)))
    centres = [(8000.0 * (i % side), 8000.0 * (i // side)) for i in range(n_towns)]
    schools, villages, towns = [], [], []
    for t, (cx, cy) in enumerate(centres):
        code = f"3715{t:05d}"
        name = f"合成{t}镇"
        towns.append({"town_code": code, "town": name, "town_type": "镇", "x": cx, "y": cy})
        kinds = ([("中心小学", "primary", 800, 1080, "town"), ("初级中学", "junior", 700, 900, "town")]
                 + [(f"村{j}小学", "primary", int(rng.integers(30, 300)), 270, "rural") for j in range(12)]
                 + [(f"村{j}教学点", "teaching_point", int(rng.integers(20, 80)), 120, "rural") for j in range(3)])
        for j, (nm, level, enr, seats, area) in enumerate(kinds):
            r = 0 if j < 2 else 3500 * np.sqrt(rng.random())
            a = rng.random() * 2 * np.pi
            schools.append({"school_id": f"{code}{j:02d}", "name": f"{name}{nm}", "level": level,
                            "town_code": code, "town": name, "enrollment": float(enr), "seats": float(seats),
                            "classes": float(seats // 45), "area_type": area,
                            "x": cx + r * np.cos(a) + (j < 2) * 300 * j, "y": cy + r * np.sin(a)})
        for v in range(48):
            r, a = 4000 * np.sqrt(rng.random()), rng.random() * 2 * np.pi
            villages.append({"demand_id": f"{code}{v:03d}", "name": f"{name}村{v}", "town_code": code,
                             "pupils_primary": float(rng.integers(10, 120)),
                             "pupils_junior": float(rng.integers(5, 60)), "area_type": "rural",
                             "x": cx + r * np.cos(a), "y": cy + r * np.sin(a)})

    def frame(rows):
        df = pd.DataFrame(rows)
        df["lon"] = 115.5 + df["x"] / 89_000
        df["lat"] = 36.0 + df["y"] / 111_000
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)

    return frame(schools), frame(villages), frame(towns)


def costs_for(schools, demand, settings, k: int = 10) -> pd.DataFrame:
    parts = []
    vxy = demand[["x", "y"]].to_numpy()
    for group in ca.GRADE_GROUPS:
        mode = settings[f"travel_mode_{group}"]
        speed = settings["walk_speed_g1_3_mps"] if mode == "walk_g1_3" else settings["walk_speed_g4_9_mps"]
        ok = schools[[ca.serves(lv, group) for lv in schools["level"]]]
        d, j = cKDTree(ok[["x", "y"]].to_numpy()).query(vxy, k=min(k, len(ok)))
        d = d * settings["circuity_factor"]
        parts.append(pd.DataFrame({
            "from_id": np.repeat(demand["demand_id"].to_numpy(), d.shape[1]),
            "to_id": ok["school_id"].to_numpy()[j.ravel()], "distance_m": d.ravel(),
            "time_s": d.ravel() / speed, "mode": mode, "estimate": True, "status": "estimate",
            "from_snap_m": 0.0, "to_snap_m": 0.0, "group": group}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--towns", type=int, default=135)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--old", type=Path, help="another consolidation.py to time on the same input")
    args = ap.parse_args()
    settings = Settings()
    schools, demand, towns = prefecture(args.towns)
    schools["status"] = "open"
    schools["level_before"] = schools["level"]
    schools["small_tier"] = small_tier(schools, settings)
    costs = costs_for(schools, demand, settings)
    groups = ca.demand_by_group(demand, settings)
    sc = Scenario("bench", "synthetic prefecture", None, {}, synthetic=True)
    inputs = Inputs(schools=schools, towns=towns, demand=demand, problems=Problems(), files={})
    base = Base(sc, settings, inputs, groups, costs, {}, "straight line x 1.3 (synthetic)", {})
    result = Result(scenario=sc, settings=settings, inputs=inputs, schools=schools, towns=towns,
                    violations=pd.DataFrame(), created="", distance_method="synthetic", counts={},
                    assignments=ca.assign_nearest(costs, groups))
    consolidation.candidates(base, result)  # warm: the school-to-school costs are cached
    modules = [("new", consolidation)]
    if args.old:
        spec = importlib.util.spec_from_file_location("old_consolidation", args.old)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        modules.append(("old", old))
    print(f"{len(schools):,} schools, {len(demand):,} villages, {len(costs):,} cost rows")
    for label, mod in modules:
        times = []
        for _ in range(args.repeat if label == "new" else 1):
            t = time.perf_counter()
            out = mod.candidates(base, result)
            times.append(time.perf_counter() - t)
        print(f"{label}: candidates() {statistics.median(times):.2f} s (median of {len(times)}); "
              f"{int(out['candidate'].sum())} candidates, recommendations "
              f"{out['recommendation'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()

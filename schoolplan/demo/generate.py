"""A SYNTHETIC demo county for trying schoolplan without real data.

:func:`generate_demo` builds, from a seed alone, a county that looks like a county of the North
China Plain (like the counties of Liaocheng, Shandong): 13 township-level units (3 urban 街道 of
the county seat, 8 镇, 2 乡) tiling an irregular county outline, about 400 villages and urban
社区 with school-age children, a bureau-style school ledger (台账) of about 70 schools and a road
network. :func:`write_demo` writes it as the files ``schoolplan`` reads::

    data/boundaries/demo_towns_synthetic.geojson
    data/demand/demo_villages_synthetic.geojson
    data/schools/demo_schools_synthetic.xlsx
    data/roads/demo_roads_synthetic.graphml
    data/README.md

Nothing in it is real: the county is "示范县（合成）", its code 371599 does not exist, and every
file says it is synthetic. It is placed near lon 116.15, lat 36.5 in WGS-84 (EPSG:4326), which
overlaps real land; the labels keep it from being mistaken for it.

The same seed gives byte-identical files (fixed XLSX and ZIP timestamps, sorted rows, coordinates
rounded to 6 decimals). Regenerate the committed files with ``python -m schoolplan.demo``.

How it is built (all geometry in UTM zone 50N, EPSG:32650, metres):

1. an irregular county outline (a perturbed ellipse of about 970 km²);
2. the county seat: an urban core with a jittered street grid and urban 社区;
3. villages by Poisson-disk sampling (at least 1.25 km apart) outside the core;
4. towns by growing regions from town seats over the village adjacency (Delaunay) graph with
   noisy edge costs, balancing areas; a town is the union of its villages' Voronoi cells;
5. schools per town (central primary, junior middle or nine-year, village primaries, teaching
   points), urban schools in the core;
6. roads: village roads from a relative-neighbourhood graph plus some Gabriel edges, provincial,
   county and township roads routed over the Delaunay graph, subdivided every ~270 m.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

from schoolplan.demo import _estates
from schoolplan.demo._geography import (
    COUNTY_CODE,
    METRIC_CRS,
    _build_roads,
    _build_towns,
    _Frame,
    _subdivide,
    _village_table,
)
from schoolplan.demo._serialise import geojson_bytes, json_value
from schoolplan.outputs.files import atomic_write, xlsx_bytes
from schoolplan.schema import (
    BALANCE_COLUMNS,
    GRADE_COLUMNS,
    LEVEL_GRADES,
    LEVEL_LABELS,
    SCHOOL_COLUMNS,
    parse_area_type,
)

__all__ = ["DEFAULT_SEED", "DEMO_FILES", "LEDGER_COLUMNS", "DemoCounty", "generate_demo",
           "write_demo"]

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20231
#: Output files relative to the output directory, by key.
DEMO_FILES: dict[str, str] = {
    "towns": "boundaries/demo_towns_synthetic.geojson",
    "villages": "demand/demo_villages_synthetic.geojson",
    "schools": "schools/demo_schools_synthetic.xlsx",
    "roads": "roads/demo_roads_synthetic.graphml",
    "readme": "README.md",
}
COUNTY = "示范县（合成）"
COUNTY_SHORT = "示范县"
LEDGER_SHEET = "学校台账"
NOTE_SHEET = "说明"
_FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)
_LEVEL_ORDER = ("complete", "junior", "nine_year", "primary", "teaching_point")
_GRADES_ZH = [f"{cn}年级" for cn in "一二三四五六七八九"]
LEDGER_COLUMNS: tuple[str, ...] = (
    "学校代码", "学校名称", "学段", "乡镇代码", "所属乡镇", "在校生数", *_GRADES_ZH,
    "班级数", "专任教师数", "学位数", "城乡分类代码", "经度", "纬度",
    # 优质均衡 resource indicators (教督〔2017〕6号), synthetic
    "高于规定学历教师数", "县级及以上骨干教师数", "体育艺术专任教师数", "教学及辅助用房面积",
    "体育运动场馆面积", "教学仪器设备值", "网络多媒体教室数",
)




@dataclass(frozen=True)
class DemoCounty:
    """A synthetic demo county held in memory (WGS-84, EPSG:4326).

    Attributes
    ----------
    seed
        The seed it was generated from.
    outline
        The county polygon (lon/lat); the towns tile it.
    towns
        One row per township-level unit: ``town_code``, ``town``, ``county``, ``town_type``
        (街道/镇/乡), ``seat_lon``, ``seat_lat``, ``synthetic``; polygon geometry.
    villages
        Demand points (villages and urban 社区): ``demand_id``, ``name``, ``town_code``, ``town``,
        ``pupils_primary``, ``pupils_junior`` (school-age children), ``ur_code`` (NBS
        urban-rural code), ``synthetic``; point geometry.
    schools
        Schools with the canonical columns of :data:`schoolplan.schema.SCHOOL_COLUMNS` (pupils per
        grade ``<NA>`` where a grade is not taught, ``seats`` ``<NA>`` where the ledger is blank)
        plus ``ur_code``; point geometry.
    ledger
        The same schools as the bureau-style ledger (台账) with Chinese headers, as written to
        the XLSX file.
    roads
        Road network as an osmnx-style MultiDiGraph: nodes with ``x``/``y`` (lon/lat), edges
        in both directions with ``length`` (m), ``highway``, ``oneway``, ``reversed`` and, on
        named roads, ``name`` and ``ref``; graph attribute ``crs="epsg:4326"``.
    """

    seed: int
    outline: Polygon
    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    ledger: pd.DataFrame
    roads: nx.MultiDiGraph

    def counts(self) -> dict[str, Any]:
        """Summary counts: towns by type, villages, pupils, schools by level and small-school tier.

        Returns
        -------
        dict
            Plain Python values (used in ``data/README.md`` and the log).
        """
        s = self.schools
        rural = s[s["area_type"] == "rural"]
        junior_towns = set(s.loc[s["level"].isin(["junior", "nine_year", "complete"]), "town_code"])
        without = self.towns.loc[~self.towns["town_code"].isin(junior_towns), "town"].tolist()
        return {
            "towns": len(self.towns),
            "towns_by_type": {t: int((self.towns["town_type"] == t).sum())
                              for t in ("街道", "镇", "乡")},
            "villages": len(self.villages),
            "villages_by_ur_code": {k: int(v) for k, v in
                                    sorted(self.villages["ur_code"].value_counts().items())},
            "pupils_primary": int(self.villages["pupils_primary"].sum()),
            "pupils_junior": int(self.villages["pupils_junior"].sum()),
            "schools": len(s),
            "schools_by_level": {lv: int((s["level"] == lv).sum()) for lv in LEVEL_GRADES},
            "enrollment": int(s["enrollment"].sum()),
            "rural_lt50": int((rural["enrollment"] < 50).sum()),
            "rural_50_99": int(rural["enrollment"].between(50, 99).sum()),
            "rural_100_199": int(rural["enrollment"].between(100, 199).sum()),
            "over_2000": int((s["enrollment"] > 2000).sum()),
            "towns_without_junior": without,
            "road_nodes": self.roads.number_of_nodes(),
            "road_edges": self.roads.number_of_edges(),
        }


# --------------------------------------------------------------------------------------------
# geometry helpers










# --------------------------------------------------------------------------------------------
# the county seat, villages and towns










# --------------------------------------------------------------------------------------------
# villages (demand)




# --------------------------------------------------------------------------------------------
# roads






# --------------------------------------------------------------------------------------------
# schools




def _split(total: int, weights: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Split ``total`` into integer parts proportional to noisy ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float) * rng.uniform(0.9, 1.1, len(weights))
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - base), kind="stable")[: total - int(base.sum())]:
        base[k] += 1
    return [int(b) for b in base]


def _school(rng: np.random.Generator, level: str, name: str, total: int, *, urban: bool,
            class_size: float, junior_part: int = 0) -> dict[str, Any]:
    """One school record: pupils per grade, classes, teachers and (sometimes) seats."""
    grades: dict[int, int] = {}
    if level == "nine_year":
        primary = _split(total - junior_part, np.linspace(0.9, 1.1, 6), rng)
        grades.update(zip(range(1, 7), primary, strict=True))
        grades.update(zip(range(7, 10), _split(junior_part, np.ones(3), rng), strict=True))
    else:
        taught = [g for g in LEVEL_GRADES[level] if g <= 9]
        profile = np.ones(len(taught)) if urban else np.linspace(0.8, 1.2, len(taught))
        grades.update(zip(taught, _split(total, profile, rng), strict=True))
    if level == "teaching_point":
        classes = max(1, min(3, math.ceil(total / 20)))
    else:
        classes = sum(max(1, math.ceil(p / class_size)) for p in grades.values() if p > 0)
    prim = sum(p for g, p in grades.items() if g <= 6)
    jun = total - prim
    ratio_p = 20.0 if urban else (16.0 if prim > 300 else 11.0)
    need = prim / ratio_p * rng.uniform(0.9, 1.1) + jun / 12.5 * rng.uniform(0.9, 1.1)
    teachers = max(classes + (1 if level != "teaching_point" else 0), round(need))
    seats: int | None = None
    if rng.uniform() > 0.25:
        if level == "teaching_point":
            seats = 120
        else:
            design = classes * rng.uniform(0.8, 1.05 if urban else 1.3)
            p_cls = sum(1 for g, p in grades.items() if g <= 6 and p > 0) and \
                max(6, 6 * round(design * prim / total / 6))
            j_cls = sum(1 for g, p in grades.items() if g >= 7 and p > 0) and \
                max(3, 3 * round(design * jun / total / 3))
            seats = p_cls * 45 + j_cls * 50
    return {"level": level, "name": name, "grades": grades, "enrollment": total,
            "classes": classes, "teachers": teachers, "seats": seats}


def _balance_resources(rng: np.random.Generator, r: dict[str, Any]) -> list[int]:
    """Synthetic 优质均衡 resources of a school, spread around the 教督〔2017〕6号 standards:
    crowded urban schools run short of floor and sports area, small rural ones of key and
    qualified teachers, equipment and multimedia classrooms."""
    n, t, classes = r["enrollment"], r["teachers"], r["classes"]
    urban = str(r["ur_code"]).startswith("1")
    qualified = round(t * rng.uniform(0.8, 1.0) if urban else t * rng.uniform(0.55, 0.95))
    key = round(n / 100 * (rng.uniform(0.8, 2.2) if urban else rng.uniform(0.0, 1.6)))
    pe_arts = round(t * (rng.uniform(0.10, 0.20) if urban else rng.uniform(0.03, 0.15)))
    area = round(n * (rng.uniform(3.0, 6.5) if urban else rng.uniform(4.0, 11.0)))
    sports = round(n * (rng.uniform(3.5, 11.0) if urban else rng.uniform(6.0, 30.0)))
    equipment = round(n * (rng.uniform(1800, 4200) if urban else rng.uniform(600, 3500)), -2)
    multimedia = round(classes * (rng.uniform(0.9, 1.2) if urban else rng.uniform(0.2, 1.1)))
    return [int(v) for v in (qualified, key, pe_arts, area, sports, equipment, multimedia)]


def _build_schools(rng: np.random.Generator, f: _Frame, vil: pd.DataFrame,
                   node_tree: cKDTree) -> list[dict[str, Any]]:
    """List the schools: large urban schools in the core, and per rural town its schools."""
    town_of = {t: p.buffer(-60) for t, p in enumerate(f.town_polys)}
    for inner in town_of.values():
        shapely.prepare(inner)

    def place(anchor: np.ndarray, t: int, rmin: float, rmax: float) -> np.ndarray:
        for _ in range(60):
            ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(rmin, rmax)
            p = anchor + r * np.array([math.cos(ang), math.sin(ang)])
            if town_of[t].contains(Point(p)) and node_tree.query(p)[0] < 250:
                return p
        return anchor.copy()

    schools: list[dict[str, Any]] = []

    def add(rec: dict[str, Any], t: int, ur: str, xy: np.ndarray) -> None:
        rec.update(town=t, ur_code=ur, xy=xy)
        schools.append(rec)

    # --- county seat: large urban schools on 社区 blocks, spread out
    jiedao = [t for t in range(len(f.town_codes)) if f.town_types[t] == "街道"]
    taken: list[np.ndarray] = []

    def urban_site(t: int | None) -> tuple[int, np.ndarray]:
        pool = [i for i in range(f.n_shequ) if t is None or f.label[i] == t]
        best = max(pool, key=lambda i: min([float(np.linalg.norm(f.points[i] - q)) for q in taken]
                                           + [1e9]) + rng.uniform(0, 300))
        p = place(f.points[best], int(f.label[best]), 30, 150)
        taken.append(p)
        return int(f.label[best]), p

    big = rng.permutation([rng.integers(2050, 2600), rng.integers(2050, 2400),
                           *rng.integers(1300, 1950, 4)])
    crowded = rng.permutation([True, True, True, False, False, False])
    pnames = [f"{COUNTY_SHORT}{n}" for n in ("实验小学", "第二实验小学", "第三实验小学")]
    pnames += [f"{f.town_names[t]}中心小学" for t in sorted(jiedao, key=lambda t: f.town_codes[t])]
    for k, name in enumerate(pnames):
        t_fixed = sorted(jiedao, key=lambda t: f.town_codes[t])[k - 3] if k >= 3 else None
        t, p = urban_site(t_fixed)
        size = rng.uniform(47, 56) if crowded[k] else rng.uniform(40, 45)
        add(_school(rng, "primary", name, int(big[k]), urban=True, class_size=size), t, "111", p)
    jbig = rng.permutation([rng.integers(2050, 2400), *rng.integers(1400, 1900, 2)])
    jnames = [f"{COUNTY_SHORT}实验中学", f"{COUNTY_SHORT}育才中学", f"{COUNTY_SHORT}振华中学"]
    for k, name in enumerate(jnames):  # one junior middle school in each 街道
        t, p = urban_site(sorted(jiedao, key=lambda t: f.town_codes[t])[k % len(jiedao)])
        add(_school(rng, "junior", name, int(jbig[k]), urban=True,
                    class_size=rng.uniform(48, 57) if k == 0 else rng.uniform(44, 50)), t, "111", p)
    t, p = urban_site(None)
    add(_school(rng, "complete", f"{COUNTY_SHORT}第一中学", int(rng.integers(1600, 2200)),
                urban=True, class_size=rng.uniform(46, 52)), t, "111", p)
    v112 = vil[vil["ur_code"] == "112"].sort_values("pupils_primary", ascending=False)
    host = v112.iloc[0]
    ny_total = int(rng.integers(1500, 2600))
    add(_school(rng, "nine_year", f"{COUNTY_SHORT}文昌学校", ny_total, urban=True,
                class_size=rng.uniform(44, 50), junior_part=int(ny_total * rng.uniform(0.3, 0.36))),
        int(f.label[host["_i"]]), "112",
        place(f.points[host["_i"]], int(f.label[host["_i"]]), 80, 220))
    for _, host in v112.iloc[1:].sample(2, random_state=int(rng.integers(2**31))).iterrows():
        t = int(f.label[host["_i"]])
        add(_school(rng, "primary", f"{f.town_names[t]}{host['name'][:-1]}小学",
                    int(rng.integers(120, 320)), urban=False, class_size=45),
            t, "112", place(f.points[host["_i"]], t, 80, 220))
    # --- rural towns
    rural = sorted((t for t in range(len(f.town_codes)) if f.town_types[t] != "街道"),
                   key=lambda t: f.town_codes[t])
    xiang = [t for t in rural if f.town_types[t] == "乡"]
    no_junior = int(rng.choice(xiang))
    seat_xy = {t: f.points[f.seats[t]] for t in rural}
    receiver = min((t for t in rural if t != no_junior),
                   key=lambda t: float(np.linalg.norm(seat_xy[t] - seat_xy[no_junior])))
    others = [t for t in rural if t != no_junior]
    nine = set(rng.choice(others, 3, replace=False).tolist())
    n_vp = {t: int(rng.choice([2, 2, 3, 3, 3])) for t in rural}
    n_tp = {t: int(rng.choice([0, 1, 1, 2])) for t in rural}
    tiers = ["lt50"] * 2 + ["lt100"] * 4 + ["lt200"] * 4
    tiers += rng.choice(["lt50", "lt100", "lt100", "lt200", "lt200", "big"],
                        sum(n_vp.values()) - len(tiers)).tolist()
    tiers = iter(rng.permutation(tiers).tolist())
    tier_range = {"lt50": (25, 50), "lt100": (50, 100), "lt200": (100, 200), "big": (200, 330)}
    for t in rural:
        tv = vil[vil["town_code"] == f.town_codes[t]]
        d_primary, d_junior = int(tv["pupils_primary"].sum()), int(tv["pupils_junior"].sum())
        town_name = f.town_names[t]
        rec_list: list[tuple[dict[str, Any], str, np.ndarray]] = []
        hosts = tv[tv["ur_code"] == "220"]
        chosen: list[int] = []
        for _ in range(n_vp[t] + n_tp[t]):
            dist = [min(float(np.linalg.norm(f.points[i] - f.points[j]))
                        for j in [*chosen, f.seats[t]]) + rng.uniform(0, 1500)
                    for i in hosts["_i"]]
            chosen.append(int(hosts["_i"].iloc[int(np.argmax(dist))]))
        vname = dict(zip(tv["_i"], tv["name"], strict=True))
        k = 0
        if t in nine:  # in a village of the town area (镇区, 122) near the seat
            near = tv[tv["ur_code"] == "122"]
            i = int(near["_i"].iloc[int(rng.integers(len(near)))]) if len(near) else f.seats[t]
            jp = int(d_junior * rng.uniform(0.75, 0.9))
            tot = jp + int(rng.integers(250, 450))
            rec_list.append((_school(rng, "nine_year", f"{town_name}九年一贯制学校", tot,
                                     urban=False, class_size=rng.uniform(38, 45), junior_part=jp),
                             "122", place(f.points[i], t, 80, 220)))
        for _ in range(n_vp[t]):
            i = chosen[k]
            k += 1
            lo, hi = tier_range[next(tiers)]
            rec_list.append((_school(rng, "primary", f"{town_name}{vname[i][:-1]}小学",
                                     int(rng.integers(lo, hi)), urban=False, class_size=45),
                             "220", place(f.points[i], t, 80, 220)))
        for _ in range(n_tp[t]):
            i = chosen[k]
            k += 1
            tot = int(rng.integers(8, 50) if rng.uniform() < 0.8 else rng.integers(50, 75))
            rec_list.append((_school(rng, "teaching_point", f"{town_name}{vname[i][:-1]}教学点",
                                     tot, urban=False, class_size=30),
                             "220", place(f.points[i], t, 80, 220)))
        if t not in nine and t != no_junior:
            jp = int(d_junior * rng.uniform(0.75, 0.9))
            if t == receiver:
                lacking = vil["town_code"] == f.town_codes[no_junior]
                jp += int(vil.loc[lacking, "pupils_junior"].sum() * 0.6)
            rec_list.append((_school(rng, "junior", f"{town_name}初级中学", max(150, jp),
                                     urban=False, class_size=rng.uniform(42, 50)), "121",
                             place(seat_xy[t], t, 300, 700)))
        others_primary = sum(sum(p for g, p in r["grades"].items() if g <= 6)
                             for r, _, _ in rec_list)
        central = int(np.clip(d_primary * rng.uniform(0.8, 0.95) - others_primary, 300, 1600))
        rec_list.append((_school(rng, "primary", f"{town_name}中心小学", central, urban=False,
                                 class_size=rng.uniform(38, 45)),
                         "121", place(seat_xy[t], t, 100, 400)))
        for rec, ur, p in rec_list:
            add(rec, t, ur, p)
    return schools


# --------------------------------------------------------------------------------------------
# assembling


#: The demo's scenario file (``scenarios/demo-county.yaml`` in the repository is this text).
DEMO_SCENARIO_YAML = """\
# The bundled demo: a SYNTHETIC county generated by `schoolplan demo` (schoolplan/demo/).
# No school, village or road here is real.
name: demo-county
title: "示范县（合成数据）现状诊断 / Demo county (synthetic data): diagnosis"
synthetic: true
inputs:
  schools: {path: ../data/schools/demo_schools_synthetic.xlsx, coordinate_system: wgs84}
  towns:   {path: ../data/boundaries/demo_towns_synthetic.geojson}
  demand:  {path: ../data/demand/demo_villages_synthetic.geojson}
  roads:   {path: ../data/roads/demo_roads_synthetic.graphml}
settings:
  small_school_tiers: [200, 100, 50]
actions: []
"""


def generate_demo(*, seed: int = DEFAULT_SEED) -> DemoCounty:
    """Build the synthetic demo county in memory.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed gives the same county.

    Returns
    -------
    DemoCounty
        Towns, villages, schools (canonical columns and the Chinese ledger) and roads, all in
        WGS-84 (EPSG:4326) and all marked synthetic.
    """
    t0 = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    frame = _build_towns(streams[0])
    vil = _village_table(streams[1], frame)
    to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def wgs(geom: Any) -> Any:
        geom = shapely.transform(
            geom, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
        return shapely.transform(shapely.set_precision(geom, 1e-6), lambda c: np.round(c, 6))

    xy, edges = _build_roads(streams[2], frame, vil)
    n_vil = len(xy) - len(frame.grid_nodes)
    roads = _subdivide(streams[2], xy, edges, to_wgs, n_vil)
    to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    node_xy = np.column_stack(to_metric.transform(
        [d["x"] for _, d in roads.nodes(data=True)], [d["y"] for _, d in roads.nodes(data=True)]))
    recs = _build_schools(streams[3], frame, vil, cKDTree(node_xy))

    towns = gpd.GeoDataFrame({
        "town_code": frame.town_codes, "town": frame.town_names, "county": COUNTY,
        "town_type": frame.town_types,
        "seat_lon": [round(float(v), 6) for v in to_wgs.transform(*frame.points[frame.seats].T)[0]],
        "seat_lat": [round(float(v), 6) for v in to_wgs.transform(*frame.points[frame.seats].T)[1]],
        "synthetic": True}, geometry=[wgs(p) for p in frame.town_polys], crs="EPSG:4326")
    towns = towns.sort_values("town_code").reset_index(drop=True)
    villages = gpd.GeoDataFrame(vil.drop(columns="_i"),
                                geometry=[wgs(Point(frame.points[i])) for i in vil["_i"]],
                                crs="EPSG:4326")

    recs.sort(key=lambda r: (frame.town_codes[r["town"]], _LEVEL_ORDER.index(r["level"]),
                             r["name"]))
    rows, ledger_rows = [], []
    balance_rng = np.random.default_rng([seed, 7])  # own stream: other values stay as they were
    for k, r in enumerate(recs, start=1):
        r["balance"] = _balance_resources(balance_rng, r)
        pt = wgs(Point(r["xy"]))
        grades = [r["grades"].get(g) for g in range(1, 10)]
        code, town = frame.town_codes[r["town"]], frame.town_names[r["town"]]
        sid = f"{COUNTY_CODE}{k:04d}"
        rows.append({"school_id": sid, "name": r["name"], "level": r["level"], "town_code": code,
                     "town": town, "enrollment": r["enrollment"],
                     **dict(zip(GRADE_COLUMNS, grades, strict=True)),
                     "classes": r["classes"], "teachers": r["teachers"], "seats": r["seats"],
                     "area_type": parse_area_type(r["ur_code"]), "lon": pt.x, "lat": pt.y,
                     "ur_code": r["ur_code"], **dict(zip(BALANCE_COLUMNS, r["balance"], strict=True))})
        ledger_rows.append([sid, r["name"], LEVEL_LABELS[r["level"]]["zh"], code, town,
                            r["enrollment"], *grades, r["classes"], r["teachers"], r["seats"],
                            r["ur_code"], pt.x, pt.y, *r["balance"]])
    sdf = pd.DataFrame(rows, columns=[*SCHOOL_COLUMNS, "ur_code", *BALANCE_COLUMNS])
    for col in [*GRADE_COLUMNS, "seats"]:
        sdf[col] = sdf[col].astype("Int64")
    schools = gpd.GeoDataFrame(sdf, geometry=gpd.points_from_xy(sdf["lon"], sdf["lat"]),
                               crs="EPSG:4326")
    ledger = pd.DataFrame(ledger_rows, columns=list(LEDGER_COLUMNS))
    for col in [*_GRADES_ZH, "学位数"]:
        ledger[col] = ledger[col].astype("Int64")
    demo = DemoCounty(seed=seed, outline=wgs(frame.outline), towns=towns, villages=villages,
                      schools=schools, ledger=ledger, roads=roads)
    c = demo.counts()
    logger.info("synthetic demo county (seed %d) in %.1f s: %d towns, %d villages, %d schools, "
                "%d road nodes", seed, time.perf_counter() - t0, c["towns"], c["villages"],
                c["schools"], c["road_nodes"])
    return demo


# --------------------------------------------------------------------------------------------
# writing


def _temp_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _xlsx_bytes(ledger: pd.DataFrame, seed: int) -> bytes:
    """Serialise the ledger workbook with fixed timestamps: same data, same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = LEDGER_SHEET
    ws.append(list(ledger.columns))
    for row in ledger.itertuples(index=False):
        ws.append([None if pd.isna(v) else json_value(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "C2"
    widths = {"学校代码": 13, "学校名称": 28, "学段": 11, "乡镇代码": 12, "所属乡镇": 11,
              "经度": 12, "纬度": 11}
    for k, col in enumerate(ledger.columns, start=1):
        ws.column_dimensions[ws.cell(1, k).column_letter].width = widths.get(col, 9)
    note = wb.create_sheet(NOTE_SHEET)
    for line in _note_lines(seed):
        note.append([line])
    note.column_dimensions["A"].width = 110
    props = wb.properties
    props.title = "示范县（合成）学校台账 / synthetic school ledger"
    return xlsx_bytes(wb, _FIXED_TIME, creator="schoolplan.demo")


def _note_lines(seed: int) -> list[str]:
    return [
        "本台账为合成（虚构）数据：示范县及其乡镇、学校、人数、坐标均为程序生成，不代表任何真实地区或学校。",
        f"由 schoolplan.demo 以随机种子 {seed} 生成；重新生成：python -m schoolplan.demo",
        ("This ledger is SYNTHETIC: the county, its towns, schools, pupil numbers and "
         "coordinates are generated by a program and describe no real place or school."),
        f"Generated by schoolplan.demo with seed {seed}; regenerate with: python -m schoolplan.demo",
        "坐标系 / coordinates: WGS-84 (EPSG:4326) 经度、纬度。",
        "完全中学仅填报初中段（七至九年级）在校生 / complete middle schools: grades 7-9 only.",
        ("学位数空白时，schoolplan 按 班级数 × 班额 计算 / blank 学位数 (seats): "
         "schoolplan computes classes x class size."),
    ]


def _readme(demo: DemoCounty, seed: int) -> str:
    c = demo.counts()
    lv = c["schools_by_level"]
    zh = {k: v["zh"] for k, v in LEVEL_LABELS.items()}
    level_rows = "\n".join(f"| {zh[k]} ({k}) | {n} |" for k, n in lv.items())
    ur_rows = ", ".join(f"{k}: {n}" for k, n in c["villages_by_ur_code"].items())
    tt = c["towns_by_type"]
    return f"""# Demo data: 示范县（合成） — a SYNTHETIC county

**Everything in this directory is synthetic (合成数据).** The county 示范县（合成）, its code
371599, its towns, villages, schools, pupil numbers and roads were generated by `schoolplan.demo`
with seed **{seed}**. They look like a county of the North China Plain (like the counties of
Liaocheng, Shandong) and are placed near lon 116.15, lat 36.5 (WGS-84), on real land: do not
mistake them for it. Every file says it is synthetic.

Regenerate (byte-identical for the same seed) from the repository root:

```
python -m schoolplan.demo            # writes data/ ; --seed N for another county
```

`tests/test_demo.py` checks that these files equal what `schoolplan.demo` produces now.

## Files

* `boundaries/demo_towns_synthetic.geojson`: {c['towns']} township-level units tiling the
  county: `town_code`, `town`, `county`, `town_type` (街道/镇/乡), `seat_lon`, `seat_lat`,
  `synthetic`; polygons, WGS-84.
* `demand/demo_villages_synthetic.geojson`: {c['villages']} villages and urban 社区 with
  school-age children: `demand_id`, `name`, `town_code`, `town`, `pupils_primary`,
  `pupils_junior`, `ur_code` (NBS 城乡分类代码), `synthetic`; points, WGS-84.
* `schools/demo_schools_synthetic.xlsx`: a bureau-style ledger (台账) of {c['schools']} schools,
  sheet `学校台账` with Chinese headers (学校代码 … 纬度; pupils per grade 一年级 … 九年级,
  blank for grades a school does not teach; 学位数 blank for some schools, schoolplan then uses
  classes × class size); sheet `说明` says it is synthetic. 完全中学 report grades 7–9 only.
* `roads/demo_roads_synthetic.graphml`: road network as osmnx GraphML
  (`osmnx.load_graphml`), {c['road_nodes']} nodes and {c['road_edges']} directed edges with
  `length` (m), `highway`, `name`, `ref`, `oneway`: provincial (S), county (X) and township (Y)
  roads, village roads, a street grid in the county seat.
* `estates/demo_estates_synthetic.geojson`: three synthetic housing estates in the county seat
  and a proposed school site, for `schoolplan site-review`.
* `schools/demo_enrolment_history_synthetic.xlsx` and `demand/demo_births_synthetic.csv`: a
  synthetic enrolment history 2016–2025 per school (2025 equals the ledger) and births per town
  2010–2024 (falling by about half from 2016 to 2023), written by
  `python -m schoolplan.demo._history` after the files above.

## Counts

* Towns: {c['towns']} ({tt['街道']} 街道, {tt['镇']} 镇, {tt['乡']} 乡).
* Villages and 社区: {c['villages']} (by urban–rural code: {ur_rows}); school-age children
  {c['pupils_primary']} primary, {c['pupils_junior']} junior middle.
* Schools: {c['schools']}, {c['enrollment']} pupils enrolled; {c['over_2000']} over 2,000 pupils.

| 学段 (level) | schools |
|---|---|
{level_rows}

* Small rural schools (城乡分类代码 220): {c['rural_lt50']} under 50 pupils, {c['rural_50_99']} with
  50–99, {c['rural_100_199']} with 100–199.
* Town without a school teaching grades 7–9: {', '.join(c['towns_without_junior'])}.
"""


def write_demo(out_dir: Path | str = "data", *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate the synthetic demo county and write its files.

    Every file is written to a temporary file and moved into place, so a reader never sees a
    half-written file. The same seed gives byte-identical files.

    Parameters
    ----------
    out_dir
        Directory to write into; the subdirectories ``boundaries``, ``demand``, ``schools`` and
        ``roads`` are created.
    seed
        Seed of the random generator.

    Returns
    -------
    dict
        Key (``towns``, ``villages``, ``schools``, ``roads``, ``readme``) -> path written.
    """
    out = Path(out_dir)
    demo = generate_demo(seed=seed)
    paths = {key: out / rel for key, rel in DEMO_FILES.items()}
    atomic_write(paths["towns"], geojson_bytes(demo.towns, "demo_towns_synthetic", seed))
    atomic_write(paths["villages"], geojson_bytes(demo.villages, "demo_villages_synthetic", seed))
    atomic_write(paths["schools"], _xlsx_bytes(demo.ledger, seed))
    import osmnx as ox  # imported here: it takes seconds and only writing needs it

    tmp = _temp_path(paths["roads"])
    try:
        ox.save_graphml(demo.roads, filepath=tmp)
        os.replace(tmp, paths["roads"])
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write(paths["readme"], _readme(demo, seed).encode("utf-8"))
    _estates.write_estates(out, seed, demo=demo)
    logger.info("wrote synthetic demo files to %s", out)
    return paths


def write_estates(out_dir: Path | str, seed: int = DEFAULT_SEED, *,
                  demo: DemoCounty | None = None) -> Path:
    """Write the SYNTHETIC housing estates of the demo county (see
    :func:`schoolplan.demo._estates.write_estates`)."""
    return _estates.write_estates(out_dir, seed, demo=demo or generate_demo(seed=seed))


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m schoolplan.demo [out_dir] [--seed N]``."""
    parser = argparse.ArgumentParser(prog="python -m schoolplan.demo",
                                     description="Write the SYNTHETIC demo county files.")
    parser.add_argument("out_dir", nargs="?", default="data",
                        help="output directory (default: data)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for key, path in write_demo(args.out_dir, seed=args.seed).items():
        logger.info("%-8s %s (%d bytes)", key, path, path.stat().st_size)

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
import os
import time
from dataclasses import dataclass, field
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
    DemoShape,
    _build_roads,
    _build_towns,
    _subdivide,
    _village_table,
)
from schoolplan.demo._schools import balance_resources, build_sites, size_schools
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

__all__ = ["DEFAULT_SEED", "DEMO_FILES", "LEDGER_COLUMNS", "DemoCounty", "DemoShape",
           "generate_demo",
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
    shape
        The :class:`DemoShape` it was generated with.
    """

    seed: int
    outline: Polygon
    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    ledger: pd.DataFrame
    roads: nx.MultiDiGraph
    shape: DemoShape = field(default_factory=DemoShape)

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


def generate_demo(*, seed: int = DEFAULT_SEED, shape: DemoShape | None = None) -> DemoCounty:
    """Build the synthetic demo county in memory.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed gives the same county.
    shape
        Towns, village spacing, how many pupils bypass village schools and how far the village
        counts stray from the ledger (:class:`DemoShape`; default: the bundled demo).

    Returns
    -------
    DemoCounty
        Towns, villages, schools (canonical columns and the Chinese ledger) and roads, all in
        WGS-84 (EPSG:4326) and all marked synthetic.
    """
    t0 = time.perf_counter()
    shape = shape or DemoShape()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    frame = _build_towns(streams[0], shape)
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
    sites = build_sites(streams[3], frame, vil, cKDTree(node_xy))
    recs = size_schools(streams[3], sites, vil, frame, roads, node_xy, shape)
    if shape.demand_noise > 0:  # village counts that stray from the ledger, as real data does
        factor = streams[4].lognormal(0.0, shape.demand_noise, len(vil))
        prim = np.maximum(1, np.round(vil["pupils_primary"].to_numpy() * factor)).astype(int)
        jun = np.round(vil["pupils_junior"].to_numpy() * factor
                       * streams[4].lognormal(0.0, shape.demand_noise / 2, len(vil))).astype(int)
        vil["pupils_primary"] = prim
        vil["pupils_junior"] = np.clip(jun, 1, np.maximum(1, prim - 1))

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
        r["balance"] = balance_resources(balance_rng, r)
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
                      schools=schools, ledger=ledger, roads=roads, shape=shape)
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
    noise = ("" if demo.shape.demand_noise == 0 else
             f" The village counts were then drawn with lognormal noise (sigma "
             f"{demo.shape.demand_noise:g}), so they disagree with the ledger, as real data does.")
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

## Its story

Children have moved to the county seat and the town seats: most live in urban 社区 and in the
town seat (镇驻地), the villages that kept a school are the larger ones, and the other villages
have few children. Each school enrols the children of the villages nearest to it by road (times
0.98–1.02), less {round(100 * demo.shape.bypass)} % of a village school's pupils whom parents send
to the town's central school instead, so village demand and the ledger agree school by school.
Some towns have a small village school on the road to a larger one with seats to spare (a
closure for the consolidation check to recommend).{noise}

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


def write_demo(out_dir: Path | str = "data", *, seed: int = DEFAULT_SEED,
               shape: DemoShape | None = None) -> dict[str, Path]:
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
    shape
        :class:`DemoShape` (default: the bundled demo's).

    Returns
    -------
    dict
        Key (``towns``, ``villages``, ``schools``, ``roads``, ``readme``) -> path written.
    """
    out = Path(out_dir)
    demo = generate_demo(seed=seed, shape=shape)
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
    """Command line: ``python -m schoolplan.demo [out_dir] [--seed N] [--zhen N] [--xiang N]
    [--spacing M] [--bypass S] [--demand-noise S]``."""
    parser = argparse.ArgumentParser(prog="python -m schoolplan.demo",
                                     description="Write the SYNTHETIC demo county files.")
    parser.add_argument("out_dir", nargs="?", default="data",
                        help="output directory (default: data)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed (default {DEFAULT_SEED})")
    d = DemoShape()
    parser.add_argument("--zhen", type=int, default=d.n_zhen, help=f"number of 镇 (default {d.n_zhen})")
    parser.add_argument("--xiang", type=int, default=d.n_xiang, help=f"number of 乡 (default {d.n_xiang})")
    parser.add_argument("--spacing", type=float, default=d.village_spacing_m,
                        help=f"least distance between villages in m (default {d.village_spacing_m:g})")
    parser.add_argument("--bypass", type=float, default=d.bypass,
                        help="share of a village school's nearby pupils enrolled at the town's central "
                             f"school (default {d.bypass:g})")
    parser.add_argument("--demand-noise", type=float, default=d.demand_noise,
                        help="sigma of a lognormal factor on each village's children after the ledger "
                             f"was made, so that they disagree (default {d.demand_noise:g})")
    args = parser.parse_args(argv)
    shape = DemoShape(n_zhen=args.zhen, n_xiang=args.xiang, village_spacing_m=args.spacing,
                      bypass=args.bypass, demand_noise=args.demand_noise)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for key, path in write_demo(args.out_dir, seed=args.seed, shape=shape).items():
        logger.info("%-8s %s (%d bytes)", key, path, path.stat().st_size)

"""Running a scenario: reading and checking its inputs, loading roads, travel costs, evaluation.

:func:`prepare` reads and checks the inputs and computes the travel costs once (a
:class:`~schoolplan.schema.Base`); :func:`evaluate` applies the actions and diagnoses the result
(:mod:`schoolplan.diagnosis`). The scenario file's format is described in :mod:`schoolplan.scenario`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from schoolplan import catchments as ca
from schoolplan import coords
from schoolplan import io as _io
from schoolplan import network as net
from schoolplan import projection as pj
from schoolplan.cache import default_cache_dir
from schoolplan.errors import InputValidationError, Problems, ScenarioError
from schoolplan.io import read_layer, sha256_of
from schoolplan.io.history import read_births, read_enrolment_history
from schoolplan.io.towns import (
    check_coordinate_system,
    check_outside_extent,
    link_to_towns,
    towns_extent,
)
from schoolplan.scenario.actions import run_actions
from schoolplan.schema import GRADE_COLUMNS, Base, Inputs, InputSpec, Result, Scenario
from schoolplan.settings import Settings
from schoolplan.travel import network_mode, resolve_workers

__all__ = ["check_points_against_roads", "evaluate", "initial_state", "load_inputs", "load_roads", "prepare",
           "report_snapping"]

logger = logging.getLogger(__name__)

#: Nearest other schools kept per school for the consolidation step's school-to-school walk (the
#: ``k`` :mod:`schoolplan.consolidation` asks for when it computes them itself).
SCHOOL_PAIRS_K = 12

def load_inputs(scenario: Scenario, settings: Settings) -> Inputs:
    """Read every input, run the checks across them, and collect all problems.

    Raises :class:`InputValidationError` listing every problem when any is an error.
    """
    logger.info("reading and checking the inputs of %s", scenario.name)
    problems = Problems()
    specs = scenario.inputs
    files: dict[str, dict[str, Any]] = {}
    for key, spec in specs.items():
        if spec.path.exists():
            files[key] = {"path": str(spec.path), "sha256": sha256_of(spec.path),
                          "coordinate_system": spec.coordinate_system or "file's own / wgs84"}
    role_of: list[str] = []  # the input key each problem was found under

    def found_under(key: str) -> None:
        role_of.extend([key] * (len(problems) - len(role_of)))

    towns = _io.read_towns(specs["towns"].path, **specs["towns"].reader_kwargs(),
                           problems=problems)
    found_under("towns")
    tol = settings["extent_tolerance_m"]
    extent = towns_extent(towns, tol)
    s_spec = specs["schools"]
    schools = _io.read_schools(
        s_spec.path, **s_spec.reader_kwargs(), values=s_spec.values,
        require_location=s_spec.require_location, extent=extent, settings=settings,
        problems=problems,
    )
    schools = link_to_towns(schools, towns, problems=problems, id_column="school_id",
                            what_en="school", what_zh="学校")
    check_outside_extent(schools, extent, problems=problems, id_column="school_id",
                         what_en="school", what_zh="学校", tolerance_m=tol)
    check_coordinate_system(schools, towns, problems=problems, what_en="school", what_zh="学校")
    found_under("schools")
    demand = None
    if "demand" in specs:
        d_spec = specs["demand"]
        demand = _io.read_demand(d_spec.path, **d_spec.reader_kwargs(), extent=extent,
                                 problems=problems)
        demand = link_to_towns(demand, towns, problems=problems, id_column="demand_id",
                               what_en="demand point", what_zh="需求点")
        check_outside_extent(demand, extent, problems=problems, id_column="demand_id",
                             what_en="demand point", what_zh="需求点", tolerance_m=tol)
        check_coordinate_system(demand, towns, problems=problems, what_en="demand point",
                                what_zh="需求点")
        found_under("demand")
    history = births = None
    if "history" in specs:
        h = specs["history"]
        history = read_enrolment_history(h.path, columns=h.columns, sheet=h.sheet,
                                         header_row=h.header_row, encoding=h.encoding,
                                         problems=problems)
        if "births" in specs:
            b = specs["births"]
            births = read_births(b.path, columns=b.columns, sheet=b.sheet, header_row=b.header_row,
                                 encoding=b.encoding, problems=problems)
    found_under("history")
    problems.merge_roles(role_of, _ROLE_LABELS)  # a file read in two roles: one message each
    return Inputs(schools=schools, towns=towns, demand=demand, problems=problems, files=files,
                  history=history, births=births)


#: How a report names the input keys (a file read under two of them says so once).
_ROLE_LABELS = {"towns": ("towns", "乡镇"), "schools": ("schools", "学校"),
                "demand": ("demand", "需求点"), "history": ("enrolment history", "历年学籍")}


_ROAD_SUFFIXES = {".graphml": "graphml", ".osm": "osm", ".pbf": "osm", ".bz2": "osm",
                  ".gpkg": "lines", ".shp": "lines", ".geojson": "lines", ".json": "lines"}


def load_roads(spec: InputSpec | None, *, mode: net.NetworkMode, settings: Settings,
               towns: gpd.GeoDataFrame | None = None):
    """The road network of a scenario for a network mode (``walk`` or ``drive``), or ``None``.

    ``roads: none`` (or no roads input) means straight-line distance x ``circuity_factor``,
    marked as estimates in every output. ``roads: osm`` downloads the OpenStreetMap roads of the
    towns' area plus ``osm_download_buffer_m`` (needs internet once; then cached).
    """
    if spec is None or str(spec.path) == "none":
        return None
    if str(spec.path) == "osm":
        if towns is None or towns.geometry.is_empty.all():
            raise ScenarioError("roads: osm needs towns with polygons or seat points to know the area")
        metric = coords.metric_crs_for(*_lonlat(towns))
        area = gpd.GeoSeries(towns.geometry, crs=4326).to_crs(metric).union_all()
        area = area.convex_hull.buffer(settings["osm_download_buffer_m"])
        polygon = gpd.GeoSeries([area], crs=metric).to_crs(4326).iloc[0]
        path = net.download_osm_graphml(polygon, mode=mode, cache_dir=default_cache_dir(),
                                    timeout_s=settings["osm_download_timeout_s"])
        return net.network_from_graphml(
            path, mode=mode,
            private_residential_walk=bool(settings["walk_private_residential_roads"]))
    path = spec.path
    name = path.name.lower()
    kind = next((k for suf, k in _ROAD_SUFFIXES.items() if name.endswith(suf)), None)
    private = bool(settings["walk_private_residential_roads"])
    if kind == "graphml":
        return net.network_from_graphml(path, mode=mode, private_residential_walk=private)
    if kind == "osm":
        return net.network_from_osm(path, mode=mode, private_residential_walk=private)
    if kind == "lines":
        cols = spec.columns or {}
        # the network mode (one-way columns count for driving) and the settings in force
        opts: dict[str, Any] = {
            "road_class_column": cols.get("road_class"), "name_column": cols.get("name"),
            "maxspeed_column": cols.get("maxspeed"), "from_node_column": cols.get("from_node"),
            "to_node_column": cols.get("to_node"), "oneway_column": cols.get("oneway"),
            "mode": mode,
            "grade_separated_classes": settings["road_grade_separated_classes"],
            "max_scale_error": settings["metric_crs_max_scale_error"]}
        system = spec.coordinate_system
        if system is not None and coords.parse_coordinate_system(system)[0] in ("gcj02", "bd09"):
            lines = read_layer(path, layer=spec.layer, encoding=spec.encoding)
            name_cs, crs = coords.parse_coordinate_system(system)
            lines = lines.set_geometry(_io.geometry_to_wgs84(lines.geometry, name_cs, crs))
            return net.network_from_lines(lines, **opts)
        if system is not None:
            lines = read_layer(path, layer=spec.layer, encoding=spec.encoding)
            if lines.crs is None:
                lines = lines.set_crs(coords.parse_coordinate_system(system)[1])
            return net.network_from_lines(lines, **opts)
        encoding = spec.encoding
        if encoding is None and name.endswith(".shp") and not path.with_suffix(".cpg").exists():
            # Chinese offices' Shapefiles are often GBK without a .cpg: detect it as for inputs
            encoding = read_layer(path, layer=spec.layer).attrs.get("encoding")
        return net.network_from_lines(path, layer=spec.layer, encoding=encoding, **opts)
    raise ScenarioError(f"{path}: unknown road file type; use .graphml, .osm, .osm.pbf, "
                        ".gpkg, .shp or .geojson")


def _lonlat(gdf: gpd.GeoDataFrame):
    pts = gdf.geometry.representative_point()
    return pts.x.values, pts.y.values


def report_snapping(network, points, id_column, what_en, what_zh, problems: Problems,
                     settings: Settings, snapped: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """List points far from any road or on a cut-off piece of network in the validation report.

    ``snapped``: the located points already snapped (:func:`schoolplan.network.snap`), else they
    are snapped here. Returns the snapped frame (``None`` when no point is located).
    """
    located = points[np.isfinite(points["lon"])]
    if located.empty:
        return None
    if snapped is None:
        snapped = net.snap(network, located, id_column=id_column, settings=settings)
    row_of = pd.Series(located.index, index=located[id_column].values)
    file = points.attrs.get("file", "input")
    limit = settings["max_snap_distance_m"]
    flagged = snapped[snapped["too_far"] | snapped["off_main_component"]]
    for pid, r in flagged.iterrows():  # only the flagged points: linear in the points
        if r["too_far"]:
            problems.warning(
                "far_from_road", file, row=int(row_of[pid]), column="lon/lat", ids=[pid],
                value=round(float(r["snap_distance_m"])),
                en=f"{what_en} {pid} is {r['snap_distance_m']:.0f} m from the nearest road of the "
                   f"{network.mode} network (limit {limit:g} m); that straight stretch is counted "
                   "in its travel distance",
                zh=f"{what_zh}{pid}距最近道路 {r['snap_distance_m']:.0f} 米（上限 {limit:g} 米），"
                   "该段按直线计入出行距离",
                fix_en="check its coordinates or add the missing roads",
                fix_zh="请核对坐标或补充缺失道路",
            )
        if r["off_main_component"]:
            problems.warning(
                "off_main_network", file, row=int(row_of[pid]), column="lon/lat", ids=[pid],
                en=f"{what_en} {pid}: its nearest road is cut off from the rest of the network; "
                   "it was joined to the main network instead",
                zh=f"{what_zh}{pid}最近的道路与主路网不连通，已改为连接到主路网",
                fix_en="check the road file for missing connections",
                fix_zh="请检查路网数据是否缺少连接",
            )
    return snapped


def check_points_against_roads(network, points, snapped: pd.DataFrame | None, what_en: str,
                               what_zh: str, problems: Problems, settings: Settings,
                               roads_system: str | None = None) -> dict | None:
    """Do the points fit the roads better under another coordinate reading? (issue 16, items 8
    and 10)

    The points' input coordinates are read as WGS-84, GCJ-02 and BD-09 and snapped to the road
    network under each reading. When another reading brings the points a median
    ``road_fit_min_gain_m`` nearer to the roads and at most ``road_fit_max_ratio`` of the
    declared reading's median, the two layers disagree: the points or the roads carry the wrong
    ``coordinate_system:``, and a warning says so with the medians. Returns the median snap
    distance (metres) of each reading, or ``None`` when the check cannot run (no network, a
    projected or unknown system, fewer than 5 located points). ``O(n log E)`` per reading.
    """
    from pyproj import Transformer

    system = points.attrs.get("coordinate_system")
    if network is None or system not in coords.NAMED_SYSTEMS or snapped is None \
            or not points.attrs.get("usable", True) or "x_input" not in points:
        return None
    located = points[np.isfinite(points["lon"])]
    x_in, y_in = located["x_input"].to_numpy(float), located["y_input"].to_numpy(float)
    ok = np.isfinite(x_in) & np.isfinite(y_in)
    if ok.sum() < 5 or len(located) != len(snapped):
        return None
    declared = "wgs84" if system == "cgcs2000" else system
    to_metric = Transformer.from_crs(4326, network.crs, always_xy=True)
    medians: dict[str, float] = {}
    largest: dict[str, float] = {}
    for cs in ("wgs84", "gcj02", "bd09"):
        if cs == declared:  # the reading in force: snapped already
            d = snapped["snap_distance_m"].to_numpy(float)[ok]
        else:
            lon, lat = coords.to_wgs84(x_in[ok], y_in[ok], cs)
            mx, my = to_metric.transform(lon, lat)
            d = net.snap_xy(network, np.column_stack([mx, my]),
                            settings=settings)["snap_distance_m"].to_numpy(float)
        medians[cs], largest[cs] = float(np.median(d)), float(np.max(d))
    best = min(medians, key=lambda cs: (medians[cs], cs != declared))
    gain = medians[declared] - medians[best]
    if best != declared and gain >= float(settings["road_fit_min_gain_m"]) \
            and medians[best] <= float(settings["road_fit_max_ratio"]) * medians[declared]:
        roads_en = roads_system or "the file's own system"
        roads_zh = roads_system or "文件自带坐标系"
        problems.warning(
            "coordinate_system_roads", points.attrs.get("file", "input"), column="lon/lat",
            value=round(gain),
            en=f"the {what_en} coordinates and the road network disagree: read as the declared "
               f"{system}, the {what_en}s lie a median {medians[declared]:.0f} m from the nearest "
               f"road (largest {largest[declared]:.0f} m); read as {best}, a median "
               f"{medians[best]:.0f} m (largest {largest[best]:.0f} m). The roads are read in "
               f"{roads_en}: one of the two layers has the wrong coordinate system",
            zh=f"{what_zh}坐标与路网不一致：按声明的 {system} 解读，{what_zh}到最近道路的中位距离为 "
               f"{medians[declared]:.0f} 米（最大 {largest[declared]:.0f} 米）；按 {best} 解读仅 "
               f"{medians[best]:.0f} 米（最大 {largest[best]:.0f} 米）。路网按{roads_zh}读取，"
               "两个图层中有一个坐标系有误",
            fix_en=f"check where each layer comes from (高德/腾讯 = gcj02, 百度 = bd09, GPS and "
                   f"OpenStreetMap = wgs84) and set coordinate_system: of the {what_en}s or of "
                   "the roads in the scenario file",
            fix_zh=f"请核实两个图层的坐标来源（高德/腾讯为 gcj02，百度为 bd09，GPS 与 OpenStreetMap 为 "
                   f"wgs84），并在方案文件中修正{what_zh}或路网的 coordinate_system",
        )
    return medians



def prepare(scenario: Scenario, *, settings: Settings | None = None) -> Base:
    """Read and check the inputs, load the roads and compute the travel costs once.

    Raises :class:`InputValidationError` listing every input problem.
    """
    settings = settings or Settings(scenario.settings, origin="scenario")
    inputs = load_inputs(scenario, settings)
    if inputs.problems.errors:
        raise InputValidationError(list(inputs.problems))
    logger.info("inputs: %d schools, %d towns, %d demand points, %d warning(s)",
                len(inputs.schools), len(inputs.towns),
                0 if inputs.demand is None else len(inputs.demand), len(inputs.problems.warnings))
    if scenario.year is not None:
        _project_to_year(inputs, scenario.year, settings)
    demand = inputs.demand
    if demand is None or not len(demand):
        return Base(scenario, settings, inputs, None, None, {},
                    "none (no demand input: no travel computed)")
    groups = ca.demand_by_group(demand, settings)
    roads = scenario.inputs.get("roads")
    networks: dict[str, Any] = {}
    frames = []
    k = None if settings["catchment_within_town"] else settings["catchment_candidates"]
    workers = resolve_workers(None, settings=settings)
    cache: dict[str, Any] = {}
    by_network: dict[net.NetworkMode, list[str]] = {}
    checked_fit = False
    for group in ca.GRADE_GROUPS:
        by_network.setdefault(network_mode(settings[f"travel_mode_{group}"]), []).append(group)
    for nmode, mode_groups in by_network.items():
        t0 = time.perf_counter()
        networks[nmode] = load_roads(roads, mode=nmode, settings=settings, towns=inputs.towns)
        if networks[nmode] is not None:
            logger.info("%s road network: %s nodes, %s edges (%.1f s)", nmode,
                        f"{networks[nmode].n_nodes:,}", f"{networks[nmode].n_edges:,}",
                        time.perf_counter() - t0)
        snapped = None
        if networks[nmode] is not None:
            snapped = _snap_inputs(networks[nmode], inputs, demand, settings, roads,
                                   check_fit=not checked_fit)
            checked_fit = True
        # one shortest-path pass per network and kind of cost, shared by the grade groups and
        # (on the walking network) the school-to-school walk the consolidation step reads
        t0 = time.perf_counter()
        costs_n, school_costs = ca.shared_costs(
            networks[nmode], demand, inputs.schools, groups[groups["group"].isin(mode_groups)],
            k=k, settings=settings, workers=workers,
            school_pairs_k=SCHOOL_PAIRS_K if nmode == "walk" else None, snapped=snapped)
        logger.info("%s travel costs: %s pairs (%.1f s, %d worker(s))", nmode,
                    f"{len(costs_n):,}", time.perf_counter() - t0, workers)
        frames.append(costs_n)
        if school_costs is not None:
            cache["school_to_school"] = school_costs
    costs = pd.concat(frames, ignore_index=True)
    rank = costs["group"].map({g: i for i, g in enumerate(ca.GRADE_GROUPS)})
    costs = costs.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    logger.info("travel costs: %s village-school pairs by grade group", f"{len(costs):,}")
    used = {m: n for m, n in networks.items() if n is not None}
    method = ("road network (" + ", ".join(f"{m}: {n.n_nodes:,} nodes" for m, n in used.items()) + ")"
              if used else f"straight line x circuity factor {settings['circuity_factor']} (estimate)")
    return Base(scenario, settings, inputs, groups, costs, networks, method, cache)


def _snap_inputs(network, inputs: Inputs, demand, settings: Settings, roads,
                 *, check_fit: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snap the located villages and schools to ``network`` once (the snapped frames go to the
    travel pass), report far and cut-off points, and (once per run) check the points' coordinate
    reading against the roads (:func:`check_points_against_roads`)."""
    frames = []
    for points, col, en, zh in ((demand, "demand_id", "demand point", "需求点"),
                                (inputs.schools, "school_id", "school", "学校")):
        located = points[np.isfinite(points["lon"])]
        snapped = net.snap(network, located, id_column=col, settings=settings)
        report_snapping(network, points, col, en, zh, inputs.problems, settings, snapped=snapped)
        if check_fit:
            check_points_against_roads(network, points, snapped, en, zh, inputs.problems,
                                       settings, roads_system=getattr(roads, "coordinate_system",
                                                                      None))
        frames.append(snapped)
    return frames[0], frames[1]


def _project_to_year(inputs: Inputs, year: int, settings: Settings) -> None:
    """Replace the schools' enrolment and the villages' children by their projection for ``year``
    (cohort progression with births when given; :mod:`schoolplan.projection`). The ledger's values
    stay in ``enrollment_ledger`` and ``pupils_primary_base``/``pupils_junior_base``."""
    history = inputs.history
    if history is None:
        raise ScenarioError(f"year: {year} needs inputs.history (the enrolment by grade over past "
                            "years) to project from")
    base_year = int(history["year"].max())
    if year < base_year:
        raise ScenarioError(f"year {year} is before the last year of the enrolment history "
                            f"({base_year}); use a year from {base_year} on")
    proj = pj.cohort_projection(history, births=inputs.births, schools=inputs.schools,
                                horizon=max(year - base_year, 1), settings=settings)
    inputs.projection = proj
    at = proj[proj["year"] == year]
    logger.info("projected to %d from %d: %s pupils in the schools' grades 1-9", year, base_year,
                f"{at['pupils'].sum():,.0f}")
    schools = inputs.schools
    schools["enrollment_ledger"] = schools["enrollment"]
    by_grade = at.pivot_table(index="school_id", columns="grade", values="pupils", aggfunc="sum")
    known = schools["school_id"].isin(by_grade.index)
    for g in range(1, 10):
        col = GRADE_COLUMNS[g - 1]
        if g in by_grade.columns:
            schools.loc[known, col] = schools.loc[known, "school_id"].map(by_grade[g]).round(1).values
    total = at.groupby("school_id")["pupils"].sum()
    schools.loc[known, "enrollment"] = schools.loc[known, "school_id"].map(total).round(0).values
    missing = schools.loc[~known, "school_id"].tolist()
    if missing:
        inputs.problems.warning(
            "not_in_history", inputs.files.get("history", {}).get("path", "history"),
            ids=missing,
            en=f"{len(missing)} school(s) are not in the enrolment history; their ledger enrolment is used for {year}",
            zh=f"{len(missing)} 所学校不在历年学籍数据中，{year} 年沿用台账在校生数",
            fix_en="add their past enrolment to the history file", fix_zh="请在历年数据中补充这些学校")
    if inputs.demand is not None and len(inputs.demand):
        d = inputs.demand
        projected = pj.project_demand(d, proj, year=year, births=inputs.births, settings=settings)
        for col in ("pupils_primary", "pupils_junior"):
            d[f"{col}_base"] = d[col]
            d[col] = projected[col].values


def initial_state(base: Base) -> gpd.GeoDataFrame:
    """The schools as the ledger has them: every school ``open``."""
    schools = base.inputs.schools.copy()
    schools["status"] = "open"
    schools["level_before"] = schools["level"]
    return schools


def evaluate(scenario: Scenario, *, settings: Settings | None = None) -> Result:
    """Read and check the inputs, apply the scenario's actions and compute the diagnosis.

    Parameters
    ----------
    scenario
        A loaded scenario.
    settings
        Settings in force; by default the defaults overridden by the scenario's ``settings``.
    """
    base = prepare(scenario, settings=settings)
    return run_actions(base, initial_state(base), scenario.actions)

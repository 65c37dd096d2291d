"""Scenario files: what to read, which settings to use, which actions to take; and running them.

A scenario file is YAML that users write by hand; its shape is a contract (keys may be added,
these stay)::

    name: demo-county
    title: 示范县（合成数据）现状诊断
    inputs:
      schools: {path: ../data/schools/demo_schools.xlsx, coordinate_system: wgs84}
      towns:   {path: ../data/boundaries/demo_towns.geojson}
      demand:  {path: ../data/demand/demo_villages.geojson}
      roads:   {path: ../data/roads/demo_roads.graphml}
    settings:
      small_school_tiers: [200, 100, 50]
    actions: []

Paths are relative to the scenario file. ``coordinate_system`` defaults to ``wgs84`` for tables
and to the file's own CRS for layers. ``roads`` and ``demand`` are optional. Each input may also
give ``columns`` (canonical name -> header), ``values`` (extra level / area-type vocabularies),
``sheet``, ``header_row``, ``encoding``, ``layer``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from planner import coords
from planner import io as _io
from planner import rules as _rules
from planner._files import sha256_of
from planner._validate import Problems
from planner.errors import InputValidationError, ScenarioError
from planner.settings import Settings
from planner.towns import check_coordinate_system, check_outside_extent, link_to_towns, towns_extent

__all__ = ["Scenario", "InputSpec", "Inputs", "Result", "load_scenario", "load_inputs", "evaluate"]

logger = logging.getLogger(__name__)

_TOP_KEYS = {"name", "title", "description", "synthetic", "inputs", "settings", "actions"}
_INPUT_NAMES = {"schools", "towns", "demand", "roads"}
_INPUT_KEYS = {"path", "coordinate_system", "columns", "values", "sheet", "header_row",
               "encoding", "layer", "require_location", "mode"}
_ACTIONS_SUPPORTED: set[str] = set()  # actions arrive with the scenario issue


@dataclass(frozen=True)
class InputSpec:
    """One input file and how to read it."""

    path: Path
    coordinate_system: str | None = None
    columns: dict[str, str] | None = None
    values: dict[str, dict[str, str]] | None = None
    sheet: Any = None
    header_row: int | None = None
    encoding: str | None = None
    layer: str | None = None
    require_location: bool = True
    mode: str | None = None

    def reader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the :mod:`planner.io` readers."""
        return {k: v for k, v in {
            "coordinate_system": self.coordinate_system, "columns": self.columns,
            "sheet": self.sheet, "header_row": self.header_row, "encoding": self.encoding,
            "layer": self.layer}.items() if v is not None}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    title: str
    path: Path | None
    inputs: dict[str, InputSpec]
    settings: dict[str, Any] = field(default_factory=dict)
    actions: list[Any] = field(default_factory=list)
    synthetic: bool = False


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raise one :class:`ScenarioError` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    return scenario_from_dict(raw, base=path.parent, path=path)


def scenario_from_dict(raw: Any, *, base: Path, path: Path | None = None) -> Scenario:
    """Build a :class:`Scenario` from a parsed mapping; paths are relative to ``base``."""
    where = str(path) if path else "scenario"
    errs: list[str] = []
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: the file must be a mapping with name, inputs, settings, actions")
    for k in sorted(set(raw) - _TOP_KEYS):
        errs.append(f"unknown key '{k}' (known: {', '.join(sorted(_TOP_KEYS))})")
    name = str(raw.get("name") or (path.stem if path else "scenario"))
    inputs_raw = raw.get("inputs")
    specs: dict[str, InputSpec] = {}
    if not isinstance(inputs_raw, dict):
        errs.append("'inputs' is missing or not a mapping (it needs at least schools and towns)")
        inputs_raw = {}
    for need in ("schools", "towns"):
        if need not in inputs_raw:
            errs.append(f"inputs.{need} is missing")
    for key, spec in inputs_raw.items():
        if key not in _INPUT_NAMES:
            errs.append(f"unknown input '{key}' (known: {', '.join(sorted(_INPUT_NAMES))})")
            continue
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict) or "path" not in spec:
            errs.append(f"inputs.{key} needs a path (e.g. {{path: ../data/{key}.xlsx}})")
            continue
        for k in sorted(set(spec) - _INPUT_KEYS):
            errs.append(f"inputs.{key}: unknown key '{k}' (known: {', '.join(sorted(_INPUT_KEYS))})")
        p = Path(str(spec["path"]))
        if key == "roads" and str(spec["path"]).lower() in ("osm", "none"):
            resolved = Path(str(spec["path"]).lower())
        else:
            resolved = p if p.is_absolute() else (base / p)
            if not resolved.exists():
                errs.append(f"inputs.{key}: file {resolved} does not exist")
        header_row = spec.get("header_row")
        if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
            errs.append(f"inputs.{key}.header_row must be a row number >= 1, got {header_row!r}")
        for mkey in ("columns", "values"):
            if spec.get(mkey) is not None and not isinstance(spec.get(mkey), dict):
                errs.append(f"inputs.{key}.{mkey} must be a mapping")
        specs[key] = InputSpec(
            path=resolved, coordinate_system=spec.get("coordinate_system"),
            columns=spec.get("columns"), values=spec.get("values"), sheet=spec.get("sheet"),
            header_row=header_row, encoding=spec.get("encoding"), layer=spec.get("layer"),
            require_location=bool(spec.get("require_location", True)), mode=spec.get("mode"),
        )
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        errs.append("'settings' must be a mapping of setting name to value")
        settings = {}
    else:
        try:
            Settings(settings, origin="scenario")
        except Exception as exc:  # SettingsError: report with the rest
            errs.append(str(exc))
    actions = raw.get("actions") or []
    if not isinstance(actions, list):
        errs.append("'actions' must be a list")
        actions = []
    for i, a in enumerate(actions, 1):
        kind = next(iter(a)) if isinstance(a, dict) and a else a
        if kind not in _ACTIONS_SUPPORTED:
            errs.append(f"actions[{i}]: '{kind}' is not supported yet by this version of planner")
    if errs:
        raise ScenarioError(f"{where}: {len(errs)} problem(s):\n  - " + "\n  - ".join(errs))
    return Scenario(
        name=name, title=str(raw.get("title") or name), path=path, inputs=specs,
        settings=dict(settings), actions=list(actions), synthetic=bool(raw.get("synthetic", False)),
    )


@dataclass
class Inputs:
    """The validated inputs of a scenario, in WGS-84, linked to their towns."""

    schools: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame | None
    problems: Problems
    files: dict[str, dict[str, Any]]


def load_inputs(scenario: Scenario, settings: Settings) -> Inputs:
    """Read every input, run the checks across them, and collect all problems.

    Raises :class:`InputValidationError` listing every problem when any is an error.
    """
    problems = Problems()
    specs = scenario.inputs
    files: dict[str, dict[str, Any]] = {}
    for key, spec in specs.items():
        if spec.path.exists():
            files[key] = {"path": str(spec.path), "sha256": sha256_of(spec.path),
                          "coordinate_system": spec.coordinate_system or "file's own / wgs84"}
    towns = _io.read_towns(spec_path(specs["towns"]), **specs["towns"].reader_kwargs(),
                           problems=problems)
    tol = settings["extent_tolerance_m"]
    extent = towns_extent(towns, tol)
    s_spec = specs["schools"]
    schools = _io.read_schools(
        spec_path(s_spec), **s_spec.reader_kwargs(), values=s_spec.values,
        require_location=s_spec.require_location, extent=extent, settings=settings,
        problems=problems,
    )
    schools = link_to_towns(schools, towns, problems=problems, id_column="school_id",
                            what_en="school", what_zh="学校")
    check_outside_extent(schools, extent, problems=problems, id_column="school_id",
                         what_en="school", what_zh="学校", tolerance_m=tol)
    check_coordinate_system(schools, towns, problems=problems, what_en="school", what_zh="学校")
    demand = None
    if "demand" in specs:
        d_spec = specs["demand"]
        demand = _io.read_demand(spec_path(d_spec), **d_spec.reader_kwargs(), extent=extent,
                                 problems=problems)
        demand = link_to_towns(demand, towns, problems=problems, id_column="demand_id",
                               what_en="demand point", what_zh="需求点")
        check_outside_extent(demand, extent, problems=problems, id_column="demand_id",
                             what_en="demand point", what_zh="需求点", tolerance_m=tol)
        check_coordinate_system(demand, towns, problems=problems, what_en="demand point",
                                what_zh="需求点")
    return Inputs(schools=schools, towns=towns, demand=demand, problems=problems, files=files)


def spec_path(spec: InputSpec) -> Path:
    """The file of an input spec."""
    return spec.path


@dataclass
class Result:
    """Everything a run computed, before it is written."""

    scenario: Scenario
    settings: Settings
    inputs: Inputs
    schools: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    violations: pd.DataFrame
    created: str
    distance_method: str
    counts: dict[str, Any]
    assignments: pd.DataFrame | None = None
    shortage: pd.DataFrame | None = None
    catchments: gpd.GeoDataFrame | None = None
    indicators: dict[str, Any] = field(default_factory=dict)
    balance: pd.DataFrame | None = None
    balance_cv: pd.DataFrame | None = None
    balance_contributors: pd.DataFrame | None = None


_ROAD_SUFFIXES = {".graphml": "graphml", ".osm": "osm", ".pbf": "osm", ".bz2": "osm",
                  ".gpkg": "lines", ".shp": "lines", ".geojson": "lines", ".json": "lines"}


def load_roads(spec: InputSpec | None, *, mode: str, settings: Settings,
               towns: gpd.GeoDataFrame | None = None):
    """The road network of a scenario for a network mode (``walk`` or ``drive``), or ``None``.

    ``roads: none`` (or no roads input) means straight-line distance x ``circuity_factor``,
    marked as estimates in every output. ``roads: osm`` downloads the OpenStreetMap roads of the
    towns' area plus ``osm_download_buffer_m`` (needs internet once; then cached).
    """
    from planner import network as net

    if spec is None or str(spec.path) == "none":
        return None
    if str(spec.path) == "osm":
        from planner._cache import default_cache_dir
        from planner._download import download_osm_graphml

        if towns is None or towns.geometry.is_empty.all():
            raise ScenarioError("roads: osm needs towns with polygons or seat points to know the area")
        metric = coords.metric_crs_for(*_lonlat(towns))
        area = gpd.GeoSeries(towns.geometry, crs=4326).to_crs(metric).union_all()
        area = area.convex_hull.buffer(settings["osm_download_buffer_m"])
        polygon = gpd.GeoSeries([area], crs=metric).to_crs(4326).iloc[0]
        path = download_osm_graphml(polygon, mode=mode, cache_dir=default_cache_dir(),
                                    timeout_s=settings["osm_download_timeout_s"])
        return net.network_from_graphml(path, mode=mode)
    path = spec.path
    name = path.name.lower()
    kind = next((k for suf, k in _ROAD_SUFFIXES.items() if name.endswith(suf)), None)
    if kind == "graphml":
        return net.network_from_graphml(path, mode=mode)
    if kind == "osm":
        return net.network_from_osm(path, mode=mode)
    if kind == "lines":
        cols = spec.columns or {}
        opts = {"road_class_column": cols.get("road_class"), "name_column": cols.get("name"),
                "maxspeed_column": cols.get("maxspeed")}
        system = spec.coordinate_system
        if system is not None and coords.parse_coordinate_system(system)[0] in ("gcj02", "bd09"):
            from planner._files import read_layer
            from planner.io import _geometry_to_wgs84

            lines = read_layer(path, layer=spec.layer, encoding=spec.encoding)
            name_cs, crs = coords.parse_coordinate_system(system)
            lines = lines.set_geometry(_geometry_to_wgs84(lines.geometry, name_cs, crs))
            return net.network_from_lines(lines, **opts)
        if system is not None:
            from planner._files import read_layer

            lines = read_layer(path, layer=spec.layer, encoding=spec.encoding)
            if lines.crs is None:
                lines = lines.set_crs(coords.parse_coordinate_system(system)[1])
            return net.network_from_lines(lines, **opts)
        return net.network_from_lines(path, layer=spec.layer, encoding=spec.encoding, **opts)
    raise ScenarioError(f"{path}: unknown road file type; use .graphml, .osm, .osm.pbf, "
                        ".gpkg, .shp or .geojson")


def _lonlat(gdf: gpd.GeoDataFrame):
    pts = gdf.geometry.representative_point()
    return pts.x.values, pts.y.values


def _report_snapping(network, points, id_column, what_en, what_zh, problems: Problems,
                     settings: Settings) -> None:
    """List points far from any road or on a cut-off piece of network in the validation report."""
    from planner import network as net

    located = points[np.isfinite(points["lon"])]
    if located.empty:
        return
    snapped = net.snap(network, located, id_column=id_column, settings=settings)
    row_of = pd.Series(located.index, index=located[id_column].values)
    file = points.attrs.get("file", "input")
    limit = settings["max_snap_distance_m"]
    for pid, r in snapped.iterrows():
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


def _network_mode(travel_mode: str) -> str:
    return "drive" if travel_mode == "bus" else "walk"


def _catchments(inputs: Inputs, schools: gpd.GeoDataFrame, settings: Settings, roads: InputSpec | None):
    """Costs, nearest and capacitated assignments, shortage, catchment areas."""
    from planner import catchments as ca

    demand = inputs.demand
    groups = ca.demand_by_group(demand, settings)
    networks: dict[str, Any] = {}
    frames = []
    for group in ca.GRADE_GROUPS:
        mode = settings[f"travel_mode_{group}"]
        nmode = _network_mode(mode)
        if nmode not in networks:
            networks[nmode] = load_roads(roads, mode=nmode, settings=settings, towns=inputs.towns)
            if networks[nmode] is not None:
                _report_snapping(networks[nmode], schools, "school_id", "school", "学校",
                                 inputs.problems, settings)
                _report_snapping(networks[nmode], demand, "demand_id", "demand point", "需求点",
                                 inputs.problems, settings)
        sub = groups[groups["group"] == group]
        group_settings = settings
        frames.append(ca.catchment_costs(networks[nmode], demand, schools, sub,
                                         settings=group_settings))
    costs = pd.concat(frames, ignore_index=True)
    nearest = ca.assign_nearest(costs, groups)
    if settings["catchment_within_town"]:
        free_settings = settings.replace(catchment_within_town=False, origin="internal")
        free = ca.assign_nearest(pd.concat(
            [ca.catchment_costs(networks[_network_mode(settings[f"travel_mode_{g}"])], demand,
                                schools, groups[groups["group"] == g], settings=free_settings)
             for g in ca.GRADE_GROUPS], ignore_index=True), groups)
        nearest = nearest.merge(
            free[["demand_id", "group", "school_id", "distance_m"]].rename(
                columns={"school_id": "nearest_any_town", "distance_m": "nearest_any_town_m"}),
            on=["demand_id", "group"], how="left")
        nearest["extra_distance_m_town_rule"] = (nearest["distance_m"]
                                                 - nearest["nearest_any_town_m"]).clip(lower=0)
    seats = ca.seats_by_part(schools)
    capacitated, shortage = ca.assign_capacitated(costs, groups, seats,
                                                  allow_split=settings["catchment_allow_split"])
    areas = pd.concat([ca.catchment_areas(demand, nearest, inputs.towns, group=g)
                       for g in ("g1_3", "g7_9")], ignore_index=True)
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=4326)
    method = ("road network (" + ", ".join(f"{k}: {type(v).__name__}" for k, v in networks.items()
                                          if v is not None) + ")"
              if any(v is not None for v in networks.values())
              else f"straight line x circuity factor {settings['circuity_factor']} (estimate)")
    return nearest, capacitated, shortage, seats, areas, method


def evaluate(scenario: Scenario, *, settings: Settings | None = None) -> Result:
    """Read and check the inputs, then compute the diagnosis.

    Parameters
    ----------
    scenario
        A loaded scenario.
    settings
        Settings in force; by default the defaults overridden by the scenario's ``settings``.
    """
    settings = settings or Settings(scenario.settings, origin="scenario")
    inputs = load_inputs(scenario, settings)
    if inputs.problems.errors:
        raise InputValidationError(list(inputs.problems))
    schools = inputs.schools.copy()
    schools["small_tier"] = _rules.small_tier(schools, settings)
    size_cols, size_viol = _rules.size_checks(schools, settings)
    schools = schools.join(size_cols)
    counts_by_town, jm_viol = _rules.junior_middle_per_town(schools, inputs.towns)
    towns = inputs.towns.copy()
    key = "town_code" if towns["town_code"].notna().all() else "town"
    towns["junior_middle_schools"] = counts_by_town["junior_middle_schools"].values
    towns["junior_middle_rule_ok"] = counts_by_town["junior_middle_rule_ok"].values
    towns["schools"] = towns[key].map(schools.groupby(key).size()).fillna(0).astype(int)
    towns["enrollment"] = towns[key].map(schools.groupby(key)["enrollment"].sum()).fillna(0)
    towns["small_schools"] = towns[key].map(
        schools[schools["small_tier"] != ""].groupby(key).size()).fillna(0).astype(int)
    violation_parts = [jm_viol, size_viol]
    indicators: dict[str, Any] = {}
    assignments = shortage = areas = None
    method = "none (no demand input: no travel computed)"
    if inputs.demand is not None and len(inputs.demand):
        for col in ("pupils_primary", "pupils_junior"):
            towns[col] = towns[key].map(inputs.demand.groupby(key)[col].sum()).fillna(0)
        nearest, capacitated, shortage, seats, areas, method = _catchments(
            inputs, schools, settings, scenario.inputs.get("roads"))
        assignments = pd.concat([nearest, capacitated], ignore_index=True)
        seat_cols, seat_viol = _rules.seat_warnings(schools, nearest, seats, settings)
        schools = schools.join(seat_cols)
        travel = nearest[nearest["school_id"].notna()].assign(
            _pd=lambda d: d["pupils"] * d["distance_m"], _pt=lambda d: d["pupils"] * d["time_s"])
        agg = travel.groupby("school_id").agg(p=("pupils", "sum"), d=("_pd", "sum"),
                                              t=("_pt", "sum"), tmax=("time_s", "max"))
        schools["mean_distance_m"] = schools["school_id"].map((agg["d"] / agg["p"]).round(0))
        schools["mean_time_s"] = schools["school_id"].map((agg["t"] / agg["p"]).round(0))
        schools["max_time_s"] = schools["school_id"].map(agg["tmax"].round(0))
        walk_summary, walk_viol = _rules.walk_time_g1_3(nearest, inputs.demand, settings)
        indicators["walk_time_g1_3"] = walk_summary
        indicators["service_radius"] = _rules.service_radius_coverage(nearest, inputs.demand, settings)
        if "extra_distance_m_town_rule" in nearest:
            hit = nearest[nearest["extra_distance_m_town_rule"] > 1.0]
            indicators["within_town"] = {
                "pupils_with_extra_travel": round(float(hit["pupils"].sum()), 1),
                "villages": int(hit["demand_id"].nunique()),
                "mean_extra_m": round(float((hit["pupils"] * hit["extra_distance_m_town_rule"]).sum()
                                            / hit["pupils"].sum()), 0) if len(hit) else 0.0,
                "max_extra_m": round(float(hit["extra_distance_m_town_rule"].max()), 0) if len(hit) else 0.0,
            }
        indicators["seat_shortage"] = {
            lvl: round(float(shortage.loc[shortage["level"] == lvl, "pupils_unassigned"].sum()), 1)
            for lvl in ("primary", "junior")}
        violation_parts += [seat_viol, walk_viol]
    balance_tables = _balance(schools, settings)
    if balance_tables is not None:
        violation_parts.append(balance_tables[3])
        indicators["balance"] = {
            "schools_meeting_standard": int((balance_tables[0]["meets_standard"] == True).sum()),  # noqa: E712
            "schools_judged": int(balance_tables[0]["meets_standard"].notna().sum()),
            "cv_over_limit": [f"{r.level}/{r.indicator}" for r in balance_tables[1].itertuples()
                              if r.ok is False],
        }
    violations = pd.concat([v for v in violation_parts if len(v)], ignore_index=True) \
        if any(len(v) for v in violation_parts) else jm_viol.iloc[0:0]
    disabled = {r.strip() for r in settings["rules_disabled"].split(",") if r.strip()}
    known = set(_rules.RULES) | {"balance_cv", "balance_school"}
    unknown = disabled - known
    if unknown:
        raise ScenarioError(f"rules_disabled names unknown rule(s) {sorted(unknown)}; "
                            f"known: {sorted(known)}")
    violations = violations[~violations["rule_id"].isin(disabled)].reset_index(drop=True)
    tiers = sorted(settings["small_school_tiers"])
    counts = {
        "schools": int(len(schools)),
        "schools_by_level": {str(k): int(v) for k, v in schools["level"].value_counts().sort_index().items()},
        "small_schools_by_tier": {f"lt{t}": int((schools["enrollment"] < t)
                                                [schools["small_tier"] != ""].sum()) for t in tiers},
        "towns": int(len(towns)),
        "towns_without_junior_middle_school": int((~towns["junior_middle_rule_ok"]).sum()),
        "demand_points": 0 if inputs.demand is None else int(len(inputs.demand)),
        "violations": {str(k): int(v) for k, v in violations["rule_id"].value_counts().items()},
        "warnings": len(inputs.problems.warnings),
    }
    if "seat_warning" in schools:
        counts["seat_warnings"] = {str(k): int(v) for k, v in
                                   schools["seat_warning"].value_counts().sort_index().items()}
    return Result(
        scenario=scenario, settings=settings, inputs=inputs, schools=schools, towns=towns,
        violations=violations, created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        distance_method=method, counts=counts, assignments=assignments, shortage=shortage,
        catchments=areas, indicators=indicators,
        balance=None if balance_tables is None else balance_tables[0],
        balance_cv=None if balance_tables is None else balance_tables[1],
        balance_contributors=None if balance_tables is None else balance_tables[2],
    )


def _balance(schools: pd.DataFrame, settings: Settings):
    """The 优质均衡 panel when the ledger has any of its columns, else ``None``."""
    from planner import balance
    from planner.schema import BALANCE_COLUMNS

    if not any(c in schools and schools[c].notna().any() for c in BALANCE_COLUMNS):
        return None
    ind = balance.school_indicators(schools, settings)
    cv = balance.cv_panel(ind, settings)
    contrib = balance.cv_contributors(ind)
    rule = _rules.Rule("balance_cv", ("cv_limit_primary", "cv_limit_junior"),
                       "教督〔2017〕6号", "校际差异系数超限", "coefficient of variation above the limit")
    rows = []
    for r in cv.itertuples():
        if r.ok is False:
            lvl_zh = "小学" if r.level == "primary" else "初中"
            rows.append([rule.rule_id, "county", f"{r.level}/{r.indicator}", r.indicator, r.cv, r.limit,
                         f"{lvl_zh}“{r.indicator}”校际差异系数 {r.cv:.3f}，超过 {r.limit:.2f}",
                         f"{r.level} {r.indicator}: CV {r.cv:.3f} above {r.limit:.2f}", rule.source])
    for r in ind[ind["meets_standard"] == False].itertuples():  # noqa: E712
        rows.append(["balance_school", "school", r.school_id, r.name, r.indicators_met,
                     settings["balance_min_met"],
                     f"{r.name}（{'小学' if r.level == 'primary' else '初中'}部分）7项资源指标仅 {r.indicators_met} 项达标",
                     f"{r.name} ({r.level} part) meets only {r.indicators_met} of 7 resource standards",
                     rule.source])
    return ind, cv, contrib, pd.DataFrame(rows, columns=_rules.VIOLATION_COLUMNS)

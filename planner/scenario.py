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
and to the file's own CRS for layers. ``roads`` and ``demand`` are optional; ``roads`` may also
be ``none`` (straight line x circuity, marked as estimates) or ``osm`` (downloaded once, then
cached). Each input may also give ``columns`` (canonical name -> header), ``values`` (extra
level / area-type vocabularies), ``sheet``, ``header_row``, ``encoding``, ``layer``.

Further keys: ``actions`` (:mod:`planner.actions`: close, merge, to_satellite, new_school,
planet_satellite, optimise), ``synthetic: true`` (labels every output as synthetic data), and
``year`` with the inputs ``history`` (enrolment by grade over past years) and ``births``
(:mod:`planner.projection`): the schools and villages are projected to that year first.

:func:`prepare` reads and checks the inputs and computes the travel costs once;
:func:`evaluate` applies the actions and diagnoses the result (:mod:`planner.diagnosis`).
"""

from __future__ import annotations

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
from planner._files import sha256_of
from planner._validate import Problems
from planner.diagnosis import Base, Result
from planner.errors import InputValidationError, ScenarioError
from planner.settings import Settings
from planner.towns import check_coordinate_system, check_outside_extent, link_to_towns, towns_extent

__all__ = ["Scenario", "InputSpec", "Inputs", "Base", "Result", "load_scenario", "load_inputs",
           "prepare", "initial_state", "evaluate"]

logger = logging.getLogger(__name__)

_TOP_KEYS = {"name", "title", "description", "synthetic", "inputs", "settings", "actions", "year"}
_INPUT_NAMES = {"schools", "towns", "demand", "roads", "history", "births"}
_INPUT_KEYS = {"path", "coordinate_system", "columns", "values", "sheet", "header_row",
               "encoding", "layer", "require_location", "mode"}


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
    year: int | None = None


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
    from planner.actions import check_action

    for i, a in enumerate(actions, 1):
        errs.extend(f"actions[{i}]: {e}" for e in check_action(a))
    year = raw.get("year")
    if year is not None:
        if not isinstance(year, int) or not 1990 <= year <= 2100:
            errs.append(f"'year' must be a calendar year such as 2030, got {year!r}")
        elif "history" not in inputs_raw:
            errs.append("'year' needs inputs.history (enrolment by grade over past years) to "
                        "project the schools and villages to that year")
    if errs:
        raise ScenarioError(f"{where}: {len(errs)} problem(s):\n  - " + "\n  - ".join(errs))
    return Scenario(
        name=name, title=str(raw.get("title") or name), path=path, inputs=specs,
        settings=dict(settings), actions=list(actions), synthetic=bool(raw.get("synthetic", False)),
        year=year,
    )


@dataclass
class Inputs:
    """The validated inputs of a scenario, in WGS-84, linked to their towns."""

    schools: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame | None
    problems: Problems
    files: dict[str, dict[str, Any]]
    history: pd.DataFrame | None = None
    births: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None


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
    towns = _io.read_towns(specs["towns"].path, **specs["towns"].reader_kwargs(),
                           problems=problems)
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
    history = births = None
    if "history" in specs:
        from planner.projection import read_births, read_enrolment_history

        h = specs["history"]
        history = read_enrolment_history(h.path, columns=h.columns, sheet=h.sheet,
                                         header_row=h.header_row, encoding=h.encoding,
                                         problems=problems)
        if "births" in specs:
            b = specs["births"]
            births = read_births(b.path, columns=b.columns, sheet=b.sheet, header_row=b.header_row,
                                 encoding=b.encoding, problems=problems)
    return Inputs(schools=schools, towns=towns, demand=demand, problems=problems, files=files,
                  history=history, births=births)


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
        encoding = spec.encoding
        if encoding is None and name.endswith(".shp") and not path.with_suffix(".cpg").exists():
            from planner._files import read_layer

            # Chinese offices' Shapefiles are often GBK without a .cpg: detect it as for inputs
            encoding = read_layer(path, layer=spec.layer).attrs.get("encoding")
        return net.network_from_lines(path, layer=spec.layer, encoding=encoding, **opts)
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


def prepare(scenario: Scenario, *, settings: Settings | None = None) -> Base:
    """Read and check the inputs, load the roads and compute the travel costs once.

    Raises :class:`InputValidationError` listing every input problem.
    """
    import time

    from planner import catchments as ca

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
    for group in ca.GRADE_GROUPS:
        nmode = _network_mode(settings[f"travel_mode_{group}"])
        if nmode not in networks:
            t0 = time.perf_counter()
            networks[nmode] = load_roads(roads, mode=nmode, settings=settings, towns=inputs.towns)
            if networks[nmode] is not None:
                logger.info("%s road network: %s nodes, %s edges (%.1f s)", nmode,
                            f"{networks[nmode].n_nodes:,}", f"{networks[nmode].n_edges:,}",
                            time.perf_counter() - t0)
            if networks[nmode] is not None:
                _report_snapping(networks[nmode], inputs.schools, "school_id", "school", "学校",
                                 inputs.problems, settings)
                _report_snapping(networks[nmode], demand, "demand_id", "demand point", "需求点",
                                 inputs.problems, settings)
        frames.append(ca.catchment_costs(networks[nmode], demand, inputs.schools,
                                         groups[groups["group"] == group], k=k, settings=settings))
    costs = pd.concat(frames, ignore_index=True)
    logger.info("travel costs: %s village-school pairs by grade group", f"{len(costs):,}")
    used = {m: n for m, n in networks.items() if n is not None}
    method = ("road network (" + ", ".join(f"{m}: {n.n_nodes:,} nodes" for m, n in used.items()) + ")"
              if used else f"straight line x circuity factor {settings['circuity_factor']} (estimate)")
    return Base(scenario, settings, inputs, groups, costs, networks, method)


def _project_to_year(inputs: Inputs, year: int, settings: Settings) -> None:
    """Replace the schools' enrolment and the villages' children by their projection for ``year``
    (cohort progression with births when given; :mod:`planner.projection`). The ledger's values
    stay in ``enrollment_ledger`` and ``pupils_primary_base``/``pupils_junior_base``."""
    from planner import projection as pj
    from planner.schema import GRADE_COLUMNS

    history = inputs.history
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
    from planner import actions as _actions

    base = prepare(scenario, settings=settings)
    return _actions.run_actions(base, initial_state(base), scenario.actions)

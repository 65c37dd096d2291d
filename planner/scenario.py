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
import pandas as pd
import yaml

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


def evaluate(scenario: Scenario, *, settings: Settings | None = None) -> Result:
    """Read and check the inputs, then compute the diagnosis the spine offers.

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
    if inputs.demand is not None:
        for col in ("pupils_primary", "pupils_junior"):
            towns[col] = towns[key].map(inputs.demand.groupby(key)[col].sum()).fillna(0)
    violations = pd.concat([jm_viol, size_viol], ignore_index=True)
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
    return Result(
        scenario=scenario, settings=settings, inputs=inputs, schools=schools, towns=towns,
        violations=violations, created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        distance_method="none (road travel arrives with the travel model)",
        counts=counts,
    )

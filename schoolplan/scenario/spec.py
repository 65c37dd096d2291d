"""Scenario files: what to read, which settings to use, which actions to take.

A scenario file is YAML that users write by hand; its shape is a contract (keys may be added,
these stay); see :mod:`schoolplan.scenario`. :func:`load_scenario` reads one and reports every
problem at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schoolplan.errors import ScenarioError
from schoolplan.scenario.actions import check_action
from schoolplan.schema import InputSpec, Scenario
from schoolplan.settings import Settings

__all__ = ["load_scenario", "scenario_from_dict"]

_TOP_KEYS = {"name", "title", "description", "synthetic", "inputs", "settings", "actions", "year"}
_INPUT_NAMES = {"schools", "towns", "demand", "roads", "history", "births", "origins"}
_INPUT_KEYS = {"path", "coordinate_system", "columns", "values", "sheet", "header_row",
               "encoding", "layer", "require_location", "mode"}


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raise one :class:`ScenarioError` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found / 找不到方案文件")
    if not path.is_file():
        raise ScenarioError(f"{path}: is a folder, not a scenario file (give the .yaml file) / "
                            "这是文件夹而不是方案文件，请指定 .yaml 文件")
    try:
        loader = _UniqueKeyLoader(path.read_text(encoding="utf-8-sig"))
        try:
            raw = loader.get_single_data()
        finally:
            loader.dispose()
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc}) / 不是有效的 YAML 文件") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror}) / 无法读取") from None
    if loader.duplicates:
        lines = "\n  - ".join(
            f"line {line}: key '{key}' appears again (first on line {first}); YAML would keep only "
            f"the last one / 第{line}行：键“{key}”重复（首次在第{first}行），只有最后一个生效"
            for key, line, first in loader.duplicates)
        raise ScenarioError(f"{path}: {len(loader.duplicates)} duplicate key(s):\n  - {lines}")
    return scenario_from_dict(raw, base=path.parent, path=path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that records keys given twice in one mapping (PyYAML keeps the last)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append((str(key), line, seen[key]))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


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
            elif not resolved.is_file():
                errs.append(f"inputs.{key}: {resolved} is a folder, not a file (name the file "
                            "inside it) / 这是文件夹而不是文件")
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

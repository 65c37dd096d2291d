"""A synthetic county whose every name is hostile: the demo county's data (same places, same
pupils) with school, town, village and estate names an attacker might type into a ledger."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

#: Each name is tried by JavaScript template literals, script ends, attribute breaks, HTML
#: handlers, template engines, spreadsheet formulas, emoji and right-to-left marks.
HOSTILE = [
    "${alert(2)}",
    "`${alert(3)}`",
    "</script><script>alert(4)</script>",
    "\"'><img src=x onerror=alert(5)>",
    "<img src=x onerror=alert(6)>",
    "{{constructor.constructor('alert(7)')()}}",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "学校😀\u202e\u200f名",
    "'\"quote`",
    "<!--\u2028\u2029-->",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

SCENARIO = """\
name: {name}
title: {title}
synthetic: true
inputs:
  schools: {{path: data/schools/demo_schools_synthetic.xlsx, coordinate_system: wgs84}}
  towns:   {{path: data/boundaries/demo_towns_synthetic.geojson}}
  demand:  {{path: data/demand/demo_villages_synthetic.geojson}}
  roads:   {{path: data/roads/demo_roads_synthetic.graphml}}
settings:
  small_school_tiers: [200, 100, 50]
actions:
  - planet_satellite: {{}}   # its planet, satellite, closure and catchment layers carry names too
"""
HOSTILE_TITLE = "'</title><script>alert(8)</script>${alert(9)} 示范县'"


def hostile(i: int, kind: str) -> str:
    """The ``i``-th hostile name of a ``kind`` (unique: the map's tooltips identify schools)."""
    return f"{HOSTILE[i % len(HOSTILE)]} {kind}{i}"


def write_county(folder: Path, *, hostile_names: bool = True, name: str = "hostile-county",
                 title: str = HOSTILE_TITLE) -> Path:
    """Copy the demo data into ``folder`` (names made hostile) and write a scenario; return it."""
    data = folder / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("README.md"))
    if hostile_names:
        schools_path = data / "schools" / "demo_schools_synthetic.xlsx"
        schools = pd.read_excel(schools_path, dtype={"学校代码": str, "乡镇代码": str})
        towns_path = data / "boundaries" / "demo_towns_synthetic.geojson"
        towns = gpd.read_file(towns_path)
        rename = {old: hostile(i, "镇") for i, old in enumerate(towns["town"])}
        towns["town"] = towns["town"].map(rename)
        towns.to_file(towns_path, driver="GeoJSON")
        schools["学校名称"] = [hostile(i, "校") for i in range(len(schools))]
        schools["所属乡镇"] = schools["所属乡镇"].map(lambda t: rename.get(t, t))
        _to_xlsx_as_text(schools, schools_path)
        villages_path = data / "demand" / "demo_villages_synthetic.geojson"
        villages = gpd.read_file(villages_path)
        villages["name"] = [hostile(i, "村") for i in range(len(villages))]
        villages["town"] = villages["town"].map(lambda t: rename.get(t, t))
        villages.to_file(villages_path, driver="GeoJSON")
        estates_path = data / "estates" / "demo_estates_synthetic.geojson"
        estates = gpd.read_file(estates_path)
        estates["name"] = [hostile(i + 3, "小区") for i in range(len(estates))]
        estates.to_file(estates_path, driver="GeoJSON")
    scenario = folder / "county.yaml"
    scenario.write_text(SCENARIO.format(name=name, title=title), encoding="utf-8")
    return scenario


def _to_xlsx_as_text(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as a ledger in which ``=...`` is text, as a bureau's typed cell is (pandas
    would store it as a formula with no value)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
    wb.save(path)

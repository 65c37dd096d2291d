"""run.gpkg (every layer of a run, with QGIS styles) on the hand-made county of tests/test_summary.py."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import Point
from test_summary import _result

from schoolplan.outputs.gpkg import qml_style, write_geopackage


def _run():
    result = _result()
    result.inputs.demand = gpd.GeoDataFrame(
        {"demand_id": ["v1", "v2"], "name": ["一村", "二村"]},
        geometry=[Point(116.02, 36.02), Point(116.12, 36.08)], crs="EPSG:4326")
    result.assignments = pd.DataFrame({
        "demand_id": ["v1", "v2", "v2"], "group": ["g1_3", "g1_3", "g4_6"],
        "school_id": ["s1", "s2", "s9"], "pupils": [10.5, 4.0, 3.0], "distance_m": [3000.0, 2500.0, 0.0]})
    result.layouts = pd.DataFrame({"town_code": ["2"], "town": ["乙镇"], "planet_id": ["s1"],
                                   "satellite_ids": ["s2"], "closed_ids": ["s3"]})
    return result


def test_every_layer_with_its_style(tmp_path):
    path = write_geopackage(_run(), tmp_path / "run.gpkg", lang="zh")
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"towns", "assignments", "layouts", "schools", "layer_styles"}
    assert layers["schools"] == "Point" and layers["assignments"] == "LineString"
    # one line per assignment whose school exists: v1 -> s1, v2 -> s2 (s9 is unknown)
    lines = gpd.read_file(path, layer="assignments")
    assert lines.crs.to_epsg() == 4326 and len(lines) == 2
    assert list(lines.geometry.iloc[0].coords) == [(116.02, 36.02), (116.05, 36.05)]
    assert lines["pupils"].tolist() == [10.5, 4.0]  # exact, as in the CSV
    links = gpd.read_file(path, layer="layouts")
    assert links[["school_id", "kind"]].values.tolist() == [["s2", "satellite"], ["s3", "closed"]]
    assert list(links.geometry.iloc[1].coords) == [(116.18, 36.02), (116.05, 36.05)]
    schools = gpd.read_file(path, layer="schools")
    assert schools.set_index("school_id")["status"].to_dict() == {"s1": "open", "s2": "satellite", "s3": "closed"}
    with sqlite3.connect(path) as con:
        styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))
        contents = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    assert set(styles) == {"towns", "assignments", "layouts", "schools"} and "layer_styles" in contents
    for qml in styles.values():
        ET.fromstring(qml.split("\n", 1)[1])  # well-formed XML after the doctype


def test_school_style_by_level_with_closed_as_crosses():
    root = ET.fromstring(qml_style("schools", "zh").split("\n", 1)[1])
    cats = {c.get("value"): c.get("label") for c in root.iter("category")}
    assert cats == {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制", "complete": "完全中学",
                    "teaching_point": "教学点", "closed": "撤并"}
    shapes = [o.get("value") for o in root.iter("Option") if o.get("name") == "name"]
    assert shapes.count("circle") == 5 and shapes.count("cross2") == 1
    assert root.find("labeling/settings/text-style").get("fieldName") == "name"
    towns = ET.fromstring(qml_style("towns", "en").split("\n", 1)[1])
    assert {c.get("value"): c.get("label") for c in towns.iter("category")} == {
        "1": "has a school teaching grades 7-9", "0": "no junior middle school (rule not met)"}


def test_trip_lines_built_as_arrays_equal_one_linestring_per_row():
    """run.gpkg's trip lines are built as arrays (issue 15); they equal a LineString per row from
    the points by id, the last point of a repeated id, None where an end has no point."""
    from shapely.geometry import LineString

    from schoolplan.outputs.gpkg import _lines

    start = gpd.GeoDataFrame({"demand_id": ["v1", "v2", "v2", "v3"]},
                             geometry=[Point(0, 0), Point(1, 1), Point(2, 2), None], crs="EPSG:4326")
    ends = gpd.GeoDataFrame({"school_id": ["a", "b"]}, geometry=[Point(5, 5), Point(6, 7)], crs="EPSG:4326")
    trips = pd.DataFrame({"demand_id": ["v1", "v2", "v3", "v1", "vx"], "school_id": ["a", "b", "a", None, "a"]})
    got = _lines(trips, "demand_id", ends, "school_id", start, "demand_id")
    p0 = dict(zip(start["demand_id"], start.geometry, strict=True))
    p1 = dict(zip(ends["school_id"], ends.geometry, strict=True))
    for (u, v), line in zip(zip(trips["demand_id"], trips["school_id"], strict=True), got, strict=True):
        g0, g1 = p0.get(u), p1.get(v)
        if g0 is None or g1 is None:
            assert line is None
        else:
            assert line.equals_exact(LineString([g0, g1]), 0)
    assert [g is None for g in got] == [False, False, True, True, True]

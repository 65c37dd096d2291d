"""One GeoPackage per run for the GIS staff of the natural-resources bureau: ``run.gpkg`` with every
layer of the run and a QGIS style for each, stored in the GeoPackage (the ``layer_styles`` table
QGIS reads and writes), so the run opens in QGIS looking like the HTML map.

Layers (WGS-84, EPSG:4326; those without data in a run are left out):

* ``schools``: points with their results (level, status, pupils, seats, seat warning, tier, travel);
  styled by level, closed schools as crosses, labelled by name from 1:100,000;
* ``towns``: polygons with the rule checks (``junior_middle_rule_ok``); outlines, red where a town
  lacks a school teaching grades 7-9, labelled by name;
* ``catchments``: the catchment polygons, as outlines;
* ``assignments``: one line per village, grade group and school, from the village to the school;
* ``layouts``: one line from each satellite or closed school to its town's planet (中心校).

The writer renders results; it never computes them (only joins ids to points to draw lines).
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from schoolplan.outputs.files import output_time
from schoolplan.outputs.labels import GPKG_TEXT, VALUE_LABELS

__all__ = ["GPKG_LAYERS", "layers_of", "qml_style", "write_geopackage"]

GPKG_LAYERS = ("towns", "catchments", "assignments", "layouts", "schools")
_WGS84 = "EPSG:4326"
_LEVEL_RGB = {"primary": "31,119,180", "junior": "214,39,40", "nine_year": "148,103,189",
              "complete": "140,86,75", "teaching_point": "44,160,44"}


def _plain_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Columns GeoPackage can hold: lists and mixed objects as text."""
    out = df.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry:
            continue
        s = out[col]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna()}
            if kinds - {str}:
                out[col] = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s]
    return out


def _lines(a: pd.DataFrame, a_id: str, b: gpd.GeoDataFrame, b_id: str, start: gpd.GeoDataFrame,
           start_id: str) -> gpd.GeoSeries:
    """Lines from the point of ``a[a_id]`` in ``start`` to the point of ``a[b_id]`` in ``b``
    (``O(rows)``, built as arrays: a prefecture's 200,000 trips)."""
    import shapely

    def points_of(keys: pd.Series, frame: gpd.GeoDataFrame, key: str) -> tuple[np.ndarray, np.ndarray]:
        ids = frame[key].astype(str) if key in frame else frame["school_id"].astype(str)
        last = ~ids[::-1].duplicated().to_numpy()[::-1]  # a repeated id: its last point, as before
        pts = frame.geometry.to_numpy()[last]
        xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])  # NaN where no point
        at = pd.Index(ids[last].to_numpy()).get_indexer(keys.astype(str).to_numpy())
        ok = at >= 0
        out = np.full((len(keys), 2), np.nan)
        out[ok] = xy[at[ok]]
        return out, ok & ~np.isnan(out).any(axis=1)

    p0, ok0 = points_of(a[a_id], start, start_id)
    p1, ok1 = points_of(a[b_id], b, b_id)
    ok = ok0 & ok1
    geoms = np.full(len(a), None, dtype=object)
    if ok.any():
        coords = np.stack([p0[ok], p1[ok]], axis=1)  # (n, 2 points, 2)
        geoms[ok] = shapely.linestrings(coords)
    return gpd.GeoSeries(geoms, index=a.index, crs=_WGS84)


def layers_of(result) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a run, by name, in WGS-84."""
    out: dict[str, gpd.GeoDataFrame] = {}
    out["towns"] = result.towns.to_crs(_WGS84)
    if result.catchments is not None and len(result.catchments):
        out["catchments"] = result.catchments.to_crs(_WGS84)
    schools = result.schools.to_crs(_WGS84)
    demand = result.inputs.demand
    if result.assignments is not None and demand is not None and len(result.assignments):
        a = result.assignments.copy()
        geom = _lines(a, "demand_id", schools, "school_id", demand.to_crs(_WGS84), "demand_id")
        out["assignments"] = gpd.GeoDataFrame(a, geometry=geom, crs=_WGS84)[geom.notna().to_numpy()]
    if result.layouts is not None and len(result.layouts):
        rows = []
        for _, lay in result.layouts.iterrows():
            for kind, col in (("satellite", "satellite_ids"), ("closed", "closed_ids")):
                ids = str(lay.get(col) or "")
                for sid in [i for i in re.split(r"[;,、]", ids) if i.strip()]:
                    rows.append({"town_code": lay["town_code"], "town": lay["town"], "kind": kind,
                                 "school_id": sid.strip(), "planet_id": str(lay["planet_id"])})
        if rows:
            links = pd.DataFrame(rows)
            geom = _lines(links, "school_id", schools, "planet_id", schools, "school_id")
            out["layouts"] = gpd.GeoDataFrame(links, geometry=geom, crs=_WGS84)[geom.notna().to_numpy()]
    out["schools"] = schools
    return out


# --- QGIS styles ---------------------------------------------------------------------------------


def _symbol(parent: ET.Element, name: str, kind: str, layer_class: str, options: dict[str, str]) -> None:
    sym = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": "1",
                                           "clip_to_extent": "1", "force_rhr": "0"})
    layer = ET.SubElement(sym, "layer", {"class": layer_class, "pass": "0", "locked": "0", "enabled": "1"})
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in options.items():
        ET.SubElement(opts, "Option", {"name": k, "type": "QString", "value": v})


def _marker(rgb: str, shape: str = "circle", size: str = "2.6") -> dict[str, str]:
    return {"name": shape, "color": f"{rgb},255", "size": size, "outline_color": "255,255,255,255",
            "outline_width": "0.2", "outline_style": "solid"}


def _outline(rgb: str, width: str) -> dict[str, str]:
    return {"color": "255,255,255,0", "style": "no", "outline_color": f"{rgb},255",
            "outline_width": width, "outline_style": "solid"}


def _line(rgb: str, width: str, alpha: int = 255) -> dict[str, str]:
    return {"line_color": f"{rgb},{alpha}", "line_width": width, "line_style": "solid",
            "capstyle": "round"}


def _labels(root: ET.Element, field: str, size: str, max_scale: str | None) -> None:
    lab = ET.SubElement(root, "labeling", {"type": "simple"})
    st = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    ET.SubElement(st, "text-style", {"fieldName": field, "fontSize": size, "textColor": "40,40,40,255",
                                     "fontFamily": "Microsoft YaHei", "isExpression": "0"})
    ET.SubElement(st, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8",
                                      "bufferColor": "255,255,255,255"})
    ET.SubElement(st, "placement", {"placement": "1" if field == "name" else "0"})
    ET.SubElement(st, "rendering", {"scaleVisibility": "1" if max_scale else "0", "scaleMin": max_scale or "0",
                                    "scaleMax": "0", "obstacle": "1"})


def qml_style(layer: str, lang: str = "zh") -> str:
    """The QGIS style (QML) of a layer of :data:`GPKG_LAYERS`, its legend in ``lang``."""
    i = 0 if lang == "zh" else 1
    root = ET.Element("qgis", {"version": "3.28.0", "styleCategories": "AllStyleCategories"})
    geometry = {"schools": "0", "assignments": "1", "layouts": "1"}.get(layer, "2")
    if layer == "schools":
        r = ET.SubElement(root, "renderer-v2", {"type": "categorizedSymbol", "attr": "level_or_closed",
                                                "symbollevels": "0", "forceraster": "0", "enableorderby": "0"})
        r.set("attr", "CASE WHEN \"status\" = 'closed' THEN 'closed' ELSE \"level\" END")
        cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
        levels = VALUE_LABELS["level"]
        for n, (code, rgb) in enumerate(_LEVEL_RGB.items()):
            ET.SubElement(cats, "category", {"render": "true", "symbol": str(n), "value": code,
                                             "label": levels[code][i]})
            _symbol(syms, str(n), "marker", "SimpleMarker", _marker(rgb))
        n = len(_LEVEL_RGB)
        ET.SubElement(cats, "category", {"render": "true", "symbol": str(n), "value": "closed",
                                         "label": GPKG_TEXT["closed"][i]})
        _symbol(syms, str(n), "marker", "SimpleMarker", {**_marker("0,0,0", "cross2", "3.2"),
                                                         "outline_color": "0,0,0,255", "outline_width": "0.5"})
        _labels(root, "name", "7", "100000")
    elif layer == "towns":
        r = ET.SubElement(root, "renderer-v2", {"type": "categorizedSymbol", "attr": "junior_middle_rule_ok",
                                                "symbollevels": "0", "forceraster": "0", "enableorderby": "0"})
        cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
        for n, (value, label, rgb, width) in enumerate((
                ("1", GPKG_TEXT["rule_ok"][i], "80,80,80", "0.5"),
                ("0", GPKG_TEXT["rule_broken"][i], "200,0,0", "0.9"))):
            ET.SubElement(cats, "category", {"render": "true", "symbol": str(n), "value": value, "label": label})
            _symbol(syms, str(n), "fill", "SimpleFill", _outline(rgb, width))
        _labels(root, "town", "9", None)
    else:
        r = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                                "forceraster": "0", "enableorderby": "0"})
        syms = ET.SubElement(r, "symbols")
        if layer == "catchments":
            _symbol(syms, "0", "fill", "SimpleFill", _outline("31,119,180", "0.3"))
        elif layer == "assignments":
            _symbol(syms, "0", "line", "SimpleLine", _line("120,120,120", "0.15", 110))
        else:  # layouts
            _symbol(syms, "0", "line", "SimpleLine", _line("230,120,20", "0.4"))
    ET.SubElement(root, "layerGeometryType").text = geometry
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def _store_styles(path: Path, layers: dict[str, gpd.GeoDataFrame], lang: str, created: str) -> None:
    """The ``layer_styles`` table QGIS reads (default style of each layer), registered as an
    attributes table in ``gpkg_contents``."""
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
            "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), "
            "styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, "
            "owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT CURRENT_TIMESTAMP)")
        for name in layers:
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
                " VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'schoolplan', '', ?)",
                (name, "geom", name, qml_style(name, lang), GPKG_TEXT[f"layer:{name}"][0 if lang == "zh" else 1],
                 created))
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', ?)", (created,))
        # GDAL stamps each layer with the current time: use the run's stamp, so that the same
        # inputs give the same bytes (issue 17)
        con.execute("UPDATE gpkg_contents SET last_change = ?", (created.replace(" ", "T") + "Z",))
        con.commit()
    finally:
        con.close()


def write_geopackage(result, path: str | Path, *, lang: str = "zh") -> Path:
    """Write every layer of a run and its QGIS style into one GeoPackage (atomically).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    layers = layers_of(result)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        for name, gdf in layers.items():
            _plain_columns(gdf).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        _store_styles(tmp, layers, lang, output_time(result.created).strftime("%Y-%m-%d %H:%M:%S"))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


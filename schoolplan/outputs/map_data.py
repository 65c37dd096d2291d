"""What the maps draw that a :class:`~schoolplan.schema.Result` does not hold ready-made: the road
lines, the points far from any road and the catchments of the planets of a layout.

The renderers (:mod:`schoolplan.outputs.maps` and its layers) only draw; these functions compute,
each in about ``n log n`` of its input (roads: edges; points: points, a KD-tree query).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from schoolplan import catchments as ca
from schoolplan import network as net

__all__ = ["far_from_road", "map_network", "planet_catchments", "road_lines", "round_geometry"]


def round_geometry(geoms, decimals: int):
    """``geoms`` with every coordinate rounded to ``decimals`` places (5: about 1 m in degrees)."""
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, decimals))


def map_network(result):
    """The road network a map draws: the walking network, else the first the run has, else None."""
    nets = getattr(result, "networks", None) or {}
    if nets.get("walk") is not None:
        return nets["walk"]
    return next((n for n in nets.values() if n is not None), None)


def road_lines(network, settings) -> gpd.GeoDataFrame:
    """The roads of ``network`` of the classes in ``map_road_classes``, one merged and simplified
    (``map_road_simplify_m``) line set per class, in WGS-84 rounded to ``map_coordinate_decimals``.

    Each road is drawn once though the network holds both directions. Cost: sorting the edges.
    """
    classes = [c.strip() for c in str(settings["map_road_classes"]).split(",") if c.strip()]
    hw = np.asarray(network.highway_classes, dtype=object)[network.highway_code]
    keep = np.isin(hw, classes)
    src, dst = network.edge_source[keep], network.indices[keep]
    pairs = np.column_stack([np.minimum(src, dst), np.maximum(src, dst)])
    pairs, first = np.unique(pairs, axis=0, return_index=True)
    hw = hw[keep][first]
    rows = []
    for cls in [c for c in classes if (hw == c).any()]:
        p = pairs[hw == cls]
        coords = np.stack([np.column_stack([network.x[p[:, 0]], network.y[p[:, 0]]]),
                           np.column_stack([network.x[p[:, 1]], network.y[p[:, 1]]])], axis=1)
        merged = shapely.line_merge(shapely.multilinestrings(shapely.linestrings(coords)))
        rows.append({"highway": cls,
                     "geometry": shapely.simplify(merged, float(settings["map_road_simplify_m"]))})
    if not rows:
        return gpd.GeoDataFrame({"highway": []}, geometry=[], crs=4326)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.crs).to_crs(4326)
    out["geometry"] = round_geometry(out.geometry.values, int(settings["map_coordinate_decimals"]))
    return out


def far_from_road(result, network) -> pd.DataFrame:
    """Schools and villages farther than ``max_snap_distance_m`` from the nearest road node of
    ``network`` (the distance the travel model counts in a straight line): ``kind`` (``school``
    or ``village``), ``id``, ``name``, ``lat``, ``lon``, ``distance_m``. Cost: a KD-tree query."""
    out = []
    s = result.schools
    points = [("school", s.drop_duplicates("school_id"), "school_id")]
    if result.inputs.demand is not None:
        points.append(("village", result.inputs.demand, "demand_id"))
    for kind, pts, id_col in points:
        located = pts[np.isfinite(pts["lon"]) & np.isfinite(pts["lat"])]
        if located.empty:
            continue
        snapped = net.snap(network, located, id_column=id_col, settings=result.settings)
        far = snapped[snapped["too_far"]]
        if far.empty:
            continue
        rows = located.set_index(id_col).loc[far.index]
        out.append(pd.DataFrame({"kind": kind, "id": far.index.astype(str),
                                 "name": rows["name"].astype(str).values,
                                 "lat": rows["lat"].values, "lon": rows["lon"].values,
                                 "distance_m": far["snap_distance_m"].round().values}))
    cols = ["kind", "id", "name", "lat", "lon", "distance_m"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def planet_catchments(result, planets: list[str]) -> gpd.GeoDataFrame | None:
    """The grade 4-6 catchment areas (nearest assignment) of the ``planets`` of a layout, or None
    when the run has no assignments or villages."""
    if result.assignments is None or result.inputs.demand is None or not planets:
        return None
    near = result.assignments[result.assignments["method"] == "nearest"]
    areas = ca.catchment_areas(result.inputs.demand, near, result.inputs.towns, group="g4_6")
    return areas[areas["school_id"].isin(planets)]

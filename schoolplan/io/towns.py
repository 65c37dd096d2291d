"""Towns (乡镇) and what lies in them: linking schools and demand points to their town.

Schools and villages are matched to towns by ``town_code``, else by town name, else (when the
towns have polygons) by location. Every unmatched row is reported, never dropped. With town
polygons the module also checks that points lie inside the area, and whether the declared
coordinate system fits (a GCJ-02 offset of ~500 m moves schools near a town line into the
neighbouring town).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.schema import to_simplified
from schoolplan.settings import Settings

__all__ = [
    "TownsExtent",
    "check_coordinate_system",
    "check_outside_extent",
    "link_to_towns",
    "normalise_town_name",
    "towns_extent",
]

_SUFFIXES = ("街道办事处", "办事处", "街道", "镇", "乡")


def _row(row: object) -> int | None:
    """The Excel row of an input row; None for rows a scenario added (new schools)."""
    try:
        return int(row)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def normalise_town_name(name: object) -> str | None:
    """The form town names are compared in: full-width to half-width (NFKC), every space removed,
    traditional characters to simplified (臺 -> 台, 鄉 -> 乡, 鎮 -> 镇), letters case-folded.

    These changes never make two different official names equal, so a match after them is
    unambiguous; anything further (a suffix 镇/乡/街道 dropped, a near miss) is only a
    "did you mean" or, for the suffix, a match when exactly one town fits.
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return None
    text = unicodedata.normalize("NFKC", str(name))
    text = re.sub(r"\s+", "", text)
    return to_simplified(text).casefold() or None


def _did_you_mean(name: object, names: list[str], n: int = 3) -> list[str]:
    key = normalise_town_name(name) or ""
    by_key = {normalise_town_name(t) or "": t for t in names}
    hits = difflib.get_close_matches(key, list(by_key), n=n, cutoff=0.5)
    return [by_key[h] for h in hits]


def _short(name: object) -> str | None:
    text = normalise_town_name(name)
    if text is None:
        return None
    for suf in _SUFFIXES:
        if text.endswith(suf) and len(text) > len(suf):
            return text[: -len(suf)]
    return text


class TownsExtent(tuple):
    """WGS-84 ``(lon_min, lat_min, lon_max, lat_max)`` of the towns, grown by a tolerance.

    A plain 4-tuple for every caller, plus ``kind`` (the towns' ``geometry_kind``: ``polygon``,
    ``point`` or ``none``) and ``tolerance_m``, the margin actually used. With seat points the
    margin also allows for the towns' size (see :func:`towns_extent`), and points beyond it are
    a warning, not an error: seats are not boundaries.
    """

    kind: str
    tolerance_m: float

    def __new__(cls, bounds: tuple[float, float, float, float], kind: str,
                tolerance_m: float) -> TownsExtent:
        obj = super().__new__(cls, bounds)
        obj.kind = kind
        obj.tolerance_m = tolerance_m
        return obj


def _seat_spacing_m(geom: gpd.GeoSeries) -> float:
    """Median distance from each town seat to its nearest other seat, in metres (0 if < 2)."""
    pts = geom[geom.geom_type == "Point"]
    pts = pts[np.isfinite(pts.x.to_numpy()) & np.isfinite(pts.y.to_numpy())]
    if len(pts) < 2:
        return 0.0
    metric = pts.to_crs(coords.metric_crs_for(pts.x.to_numpy(), pts.y.to_numpy()))
    xy = np.column_stack([metric.x.to_numpy(), metric.y.to_numpy()])
    d, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(d[:, 1]))


def towns_extent(towns: gpd.GeoDataFrame, tolerance_m: float, *,
                 seat_spacing_factor: float | None = None) -> TownsExtent | None:
    """WGS-84 bounds of the towns (polygons or seat points) grown by ``tolerance_m`` metres.

    With seat points (or a table with seat coordinates) a town reaches beyond its seat: the
    margin grows by ``seat_spacing_factor`` (setting ``town_seat_extent_factor``) times the
    median nearest-seat spacing.
    """
    if not towns.attrs.get("usable", True):
        return None
    geom = towns.geometry[~towns.geometry.is_empty & towns.geometry.notna()]
    if geom.empty:
        return None
    x0, y0, x1, y1 = geom.total_bounds
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    kind = str(towns.attrs.get("geometry_kind", "polygon"))
    margin = float(tolerance_m)
    if kind != "polygon":
        factor = (Settings()["town_seat_extent_factor"] if seat_spacing_factor is None
                  else seat_spacing_factor)
        margin += factor * _seat_spacing_m(geom)
    dlat = margin / 111_320.0
    dlon = margin / (111_320.0 * max(math.cos(math.radians((y0 + y1) / 2)), 0.05))
    return TownsExtent((x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat), kind, margin)


def link_to_towns(
    points: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    *,
    problems: Problems,
    id_column: str,
    what_en: str,
    what_zh: str,
) -> gpd.GeoDataFrame:
    """Fill ``town_code``, ``town`` and ``county`` of each point from the towns table.

    Returns a copy with ``town_match`` = ``code``, ``name``, ``location`` or ``none``.
    """
    out = points.copy()
    file = points.attrs.get("file", "input")
    if not points.attrs.get("usable", True) or not towns.attrs.get("usable", True) or towns.empty:
        # the file's own problem (a missing column, no rows, no CRS) is reported once, not per row
        out["town_match"] = "none"
        for col in ("town_code", "town", "county"):
            if col not in out:
                out[col] = None
        return out
    by_code = {str(c): i for i, c in towns["town_code"].items() if pd.notna(c)}
    by_name: dict[str, list] = {}
    by_short: dict[str, list] = {}
    by_name_cf: dict[str, list] = {}
    for i, t in towns["town"].items():
        if pd.notna(t):
            by_name.setdefault(str(t), []).append(i)
            by_name_cf.setdefault(normalise_town_name(t) or "", []).append(i)
            by_short.setdefault(_short(t) or "", []).append(i)
    all_names = [str(t) for t in towns["town"].dropna().unique()]
    polygons = towns.attrs.get("geometry_kind") == "polygon"
    cols = points.attrs.get("colmap", {})
    code_col, name_col = cols.get("town_code", "town_code"), cols.get("town", "town")
    match: list[str] = []
    idx: list[Any] = []
    n = len(out)

    def column(name: str) -> list:
        return out[name].tolist() if name in out else [None] * n

    # plain lists, not iterrows (a Series per row was most of a prefecture's check: issue 15)
    rows = zip(out.index, column("town_code"), column("town"), out[id_column].tolist(),
               list(out.geometry.values), strict=True)
    for row, code, name, pid, geom in rows:
        hit, how = None, "none"
        if pd.notna(code) and str(code) in by_code:
            hit, how = by_code[str(code)], "code"
        elif pd.notna(code) and by_code:
            problems.error(
                "unknown_town", file, row=_row(row), column=code_col, value=code, ids=[pid],
                en=f"{what_en} {pid}: town code {code} is not in the towns list",
                zh=f"{what_zh}{pid}：乡镇代码 {code} 不在乡镇名单中",
                fix_en="correct the code or add the town to the towns file",
                fix_zh="请更正代码或在乡镇文件中补充该乡镇",
            )
            match.append("none")
            idx.append(None)
            continue
        elif pd.notna(name):
            cands = by_name.get(str(name)) or by_name_cf.get(normalise_town_name(name) or "") \
                or by_short.get(_short(name) or "") or []
            if len(cands) == 1:
                hit, how = cands[0], "name"
            elif not cands:
                near = _did_you_mean(name, all_names)
                problems.error(
                    "unknown_town", file, row=_row(row), column=name_col, value=name, ids=[pid],
                    en=f"{what_en} {pid}: town '{name}' is not in the towns list"
                       + (f"; did you mean {' or '.join(near)}?" if near else ""),
                    zh=f"{what_zh}{pid}：乡镇“{name}”不在乡镇名单中"
                       + (f"；是否为“{'”或“'.join(near)}”？" if near else ""),
                    fix_en="correct the name (towns are renamed and merged: check the current list) "
                           "or give the town code",
                    fix_zh="请更正乡镇名称（注意乡镇更名、合并），或填写乡镇代码",
                )
                match.append("none")
                idx.append(None)
                continue
            else:
                problems.error(
                    "ambiguous_town", file, row=_row(row), column=name_col, value=name, ids=[pid],
                    en=f"{what_en} {pid}: town name '{name}' matches {len(cands)} towns",
                    zh=f"{what_zh}{pid}：乡镇名称“{name}”对应多个乡镇",
                    fix_en="give the town code (乡镇代码) instead of the name",
                    fix_zh="请填写乡镇代码",
                )
                match.append("none")
                idx.append(None)
                continue
        if hit is None and polygons and geom is not None and not geom.is_empty:
            inside = towns.index[towns.geometry.contains(geom)]
            if len(inside):
                hit, how = inside[0], "location"
        if hit is None:
            problems.error(
                "unknown_town", file, row=_row(row), column=name_col, value=name, ids=[pid],
                en=f"{what_en} {pid}: its town is unknown"
                   + (f" ('{name}' is not in the towns list)" if pd.notna(name) else ""),
                zh=f"{what_zh}{pid}：无法确定所属乡镇",
                fix_en="fill in 乡镇代码/所属乡镇 with a town of the towns file",
                fix_zh="请填写乡镇文件中存在的乡镇代码或名称",
            )
        match.append(how)
        idx.append(hit)
    out["town_match"] = match
    for col in ("town_code", "town", "county"):
        of_town = towns[col].to_dict() if col in towns else {}
        vals = [of_town.get(i) if i is not None else None for i in idx]
        own = column(col)
        out[col] = [v if v is not None else o for v, o in zip(vals, own, strict=True)]
    if polygons:
        _check_in_own_town(out, towns, idx, problems, id_column, what_en, what_zh)
    return out


def _check_in_own_town(out, towns, idx, problems, id_column, what_en, what_zh) -> None:
    file = out.attrs.get("file", "input")
    geoms = np.asarray(out.geometry.values, dtype=object)
    known = np.array([t is not None for t in idx], bool)
    known &= ~(pd.isna(geoms) | shapely.is_empty(geoms)) & (out["town_match"] != "location").to_numpy()
    # no coordinates: reported once already, not also as "outside its town"
    known &= np.isfinite(pd.to_numeric(out.get("lon", pd.Series(np.nan, index=out.index)),
                                       errors="coerce").to_numpy(float))
    # each town buffered once (~50 m slack for edge points), every point tested in one call
    slack = {t: towns.geometry[t].buffer(0.0005) for t in {idx[k] for k in np.flatnonzero(known)}}
    ok = np.ones(len(out), bool)
    if known.any():
        where = np.flatnonzero(known)
        ok[where] = shapely.contains(np.array([slack[idx[k]] for k in where], dtype=object),
                                     geoms[where])
    for k in np.flatnonzero(~ok):
        row, t, g, pid = out.index[k], idx[k], geoms[k], out[id_column].iat[k]
        inside = towns.index[towns.geometry.contains(g)]
        other = towns.at[inside[0], "town"] if len(inside) else None
        problems.warning(
            "outside_own_town", file, row=_row(row), column="lon/lat", ids=[pid],
            en=f"{what_en} {pid} is listed in {towns.at[t, 'town']} but lies "
               + (f"in {other}" if other else "outside every town"),
            zh=f"{what_zh}{pid}属于{towns.at[t, 'town']}，但坐标位于"
               + (f"{other}" if other else "所有乡镇之外"),
            fix_en="check the coordinates, their coordinate system, or the town",
            fix_zh="请核对坐标、坐标系或所属乡镇",
        )


def check_outside_extent(points: gpd.GeoDataFrame, extent, *, problems: Problems, id_column: str,
                         what_en: str, what_zh: str, tolerance_m: float) -> None:
    """Report points farther than ``tolerance_m`` outside the towns' extent."""
    if extent is None or not points.attrs.get("usable", True):
        return
    file = points.attrs.get("file", "input")
    x0, y0, x1, y1 = extent
    seats = isinstance(extent, TownsExtent) and extent.kind != "polygon"
    margin = extent.tolerance_m if isinstance(extent, TownsExtent) else tolerance_m
    report = problems.warning if seats else problems.error
    geoms = np.asarray(points.geometry.values, dtype=object)
    usable = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    px = np.full(len(points), np.nan)
    py = np.full(len(points), np.nan)
    px[usable], py[usable] = shapely.get_x(geoms[usable]), shapely.get_y(geoms[usable])
    with np.errstate(invalid="ignore"):
        outside = np.isfinite(px) & ~((x0 <= px) & (px <= x1) & (y0 <= py) & (py <= y1))
    for k in np.flatnonzero(outside):  # one vectorised test; only the points outside are visited
        row, g, pid = points.index[k], geoms[k], points[id_column].iat[k]
        report(
            "outside_area", file, row=_row(row), column="lon/lat", value=f"{g.x:.5f}, {g.y:.5f}",
            ids=[pid],
            en=f"{what_en} {pid} at {g.x:.5f}, {g.y:.5f} is more than "
               f"{margin / 1000:.3g} km outside the area of the "
               + ("town seats (seats are not boundaries: a warning only)" if seats else "towns"),
            zh=f"{what_zh}{pid}（{g.x:.5f}, {g.y:.5f}）"
               + (f"距乡镇驻地范围超过 {margin / 1000:.3g} 公里（驻地不是边界，仅提示）" if seats
                  else f"位于乡镇范围之外超过 {margin / 1000:.3g} 公里"),
            fix_en="check the coordinates and the declared coordinate system",
            fix_zh="请核对坐标和声明的坐标系",
        )


def check_coordinate_system(points: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, *,
                            problems: Problems, what_en: str, what_zh: str) -> dict | None:
    """Does another coordinate system place clearly more points inside their own town?

    For points matched to a town by code or name, count how many lie inside their own town
    polygon when the input coordinates are read as WGS-84, GCJ-02 and BD-09. The test is
    relative, so that it also fires with small town polygons and few points: a warning is given
    when an undeclared reading puts at least 2 more points in their own town and removes at least
    a quarter of the declared reading's misplaced points. Returns the counts (or ``None`` when it
    cannot be run: fewer than 5 matched points, no polygons, or a projected system).
    """
    system = points.attrs.get("coordinate_system")
    if towns.attrs.get("geometry_kind") != "polygon" or system not in coords.NAMED_SYSTEMS \
            or not points.attrs.get("usable", True) or not towns.attrs.get("usable", True):
        return None
    sel = points[points["town_match"].isin(["code", "name"]) & np.isfinite(points["x_input"])
                 & np.isfinite(points["y_input"])]
    if len(sel) < 5:
        return None
    own = towns.set_index("town_code" if towns["town_code"].notna().all() else "town").geometry
    key = "town_code" if towns["town_code"].notna().all() else "town"
    if own.index.has_duplicates or not sel[key].isin(own.index).all():
        return None
    polys = gpd.GeoSeries(own.loc[sel[key]].values, crs=4326)
    counts = {}
    for cs in ("wgs84", "gcj02", "bd09"):
        lon, lat = coords.to_wgs84(sel["x_input"].values, sel["y_input"].values,
                                   "wgs84" if cs == "cgcs2000" else cs)
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
        counts[cs] = int(polys.contains(pts).sum())
    declared = "wgs84" if system == "cgcs2000" else system
    best = max(counts, key=lambda cs: counts[cs])
    gain = counts[best] - counts[declared]
    misplaced = len(sel) - counts[declared]
    if best != declared and gain >= 2 and gain >= 0.25 * misplaced:
        problems.warning(
            "coordinate_system_suspect", points.attrs.get("file", "input"), column="lon/lat",
            en=f"the {what_en} coordinates fit {best} better than the declared {system}: read as "
               f"{best}, {counts[best]} of {len(sel)} lie in their own town, as {system} only "
               f"{counts[declared]}",
            zh=f"{what_zh}坐标更像 {best} 而非声明的 {system}：按 {best} 有 "
               f"{counts[best]}/{len(sel)} 个位于所属乡镇内，"
               f"按 {system} 仅 {counts[declared]} 个",
            fix_en="check where the coordinates were copied from (高德/腾讯 = gcj02, 百度 = bd09, GPS = wgs84)",
            fix_zh="请核实坐标来源（高德/腾讯为 gcj02，百度为 bd09，GPS 为 wgs84）",
        )
    return counts

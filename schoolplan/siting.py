"""Housing-estate school review (住宅小区配套学校审查) for the natural-resources and planning bureau.

A new estate must have its school places "planned, built and handed over with it"
(同步规划、同步建设、同步交付使用). For each estate and level (primary, junior middle) the review
answers:

* **pupils generated**: residents x ``pupils_primary_per_1000_residents`` /
  ``pupils_junior_per_1000_residents`` / 1000; residents are the estate's own figure, or
  households x ``persons_per_household`` when only households (户数) are given (the table says
  which, in ``residents_source``). All three rates are assumptions (confidence ``A``) a reviewer
  sets for the county (``../shared/DOMAIN.md``);
* **the schools that serve it**: the open schools teaching the level within the service radius
  (``radius_primary_m`` 500 m, ``radius_junior_m`` 1000 m, Shandong 2018) by **walking distance
  on the road network** from the estate's centroid (a point inside the polygon when the centroid
  falls outside it), or from its entrances when they are given (the nearest entrance counts);
  when none lies within the radius, the nearest school by road (``within_radius`` is then
  ``False``). Without a road network the distance is straight line x ``circuity_factor``, marked
  as an estimate;
* **their seats left**: seats of the school's part (:func:`schoolplan.catchments.seats_by_part`)
  minus the children the catchment model already sends there (nearest assignment of the
  :class:`~schoolplan.diagnosis.Result`), then minus the estate's pupils (nearest school first).
  Estates are reviewed **in the order given**: an estate only gets the seats earlier estates
  left (two estates competing for the same seats);
* **verdict**: ``served``, ``short`` (by ``short_by`` seats, rounded up) or ``unknown`` (a
  serving school has no seat count and the known seats are not enough);
* **when short, the school the estate must provide** for the pupils the schools cannot seat:
  classes at ``class_size_primary`` / ``class_size_junior`` (45 / 50, GB 50099-2011), rounded up
  to whole streams (轨: 6 classes for primary, 3 for junior), at most
  ``estate_school_max_classes`` (36) per school, or one nine-year school of at most
  ``estate_school_max_classes_nine_year`` (45) when both levels are short (Shandong 2018);
* **the proposed site** (optional): its walking distance from the estate, whether it is within
  the radius, its seats, and the households it covers: the share of the estate polygon's area
  within walking reach of the site (the union of discs of radius ``radius - d`` around every
  road node the site reaches within ``d < radius``) x households; 1 or 0 for a point estate.

Texts are in Chinese and English (``message_zh`` / ``message_en``). :func:`write_review` writes
``estates.csv``, one offline HTML page per estate and ``report.xlsx``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from schoolplan import catchments as ca
from schoolplan import coords, travel
from schoolplan.errors import SchoolplanError
from schoolplan.io.estates import parse_phases
from schoolplan.network import snap_xy
from schoolplan.schema import Result
from schoolplan.settings import Settings

__all__ = [
    "LEVELS",
    "LEVEL_COLUMNS",
    "LEVEL_EN",
    "LEVEL_ZH",
    "VERDICT_LABELS",
    "Review",
    "number_text",
    "review_estates",
]

logger = logging.getLogger(__name__)

Level = Literal["primary", "junior"]
LEVELS: tuple[str, ...] = ("primary", "junior")
_GROUP = {"primary": "g4_6", "junior": "g7_9"}  # a school serving the level teaches this group
_MODE = {"primary": "walk_g1_3", "junior": "walk_g4_9"}  # walking speed for the times shown
_GRADES = {"primary": 6, "junior": 3}  # classes per stream (轨)
LEVEL_ZH = {"primary": "小学", "junior": "初中"}
LEVEL_EN = {"primary": "primary", "junior": "junior middle"}

#: Columns of :attr:`Review.levels` (one row per estate and level), the CSV and the sheet.
LEVEL_COLUMNS = [
    "estate_id", "name", "level", "county", "town", "households", "residents", "residents_source",
    "delivery_year", "rate_per_1000", "pupils", "radius_m", "distance_from", "schools_within_radius",
    "within_radius", "serving_schools", "nearest_distance_m", "seats_left_before", "seats_left_after",
    "verdict", "short_by", "class_size", "classes_needed", "classes_planned", "schools_needed",
    "max_classes", "nine_year_classes", "site_id", "site_distance_m", "site_within_radius",
    "site_seats", "site_covers_shortfall", "households_covered", "estimate", "message",
]
#: The settings every review depends on (shown with value and source on each page).
LIMIT_SETTINGS = ("pupils_primary_per_1000_residents", "pupils_junior_per_1000_residents",
                  "persons_per_household", "radius_primary_m", "radius_junior_m",
                  "class_size_primary", "class_size_junior", "estate_school_max_classes",
                  "estate_school_max_classes_nine_year", "circuity_factor")

VERDICT_LABELS = {"served": ("可满足", "served"), "short": ("学位不足", "short"),
            "unknown": ("无法判断（学校无学位数）", "unknown (school without seat count)")}


@dataclass
class Review:
    """What :func:`review_estates` computed.

    Attributes
    ----------
    estates
        One row per estate (WGS-84): ``estate_id``, ``name``, ``households``, ``residents``,
        ``residents_source``, ``delivery_year``, ``county``, ``town``, ``origin_lon/lat`` (where
        distances start), ``distance_from`` (``centroid`` or ``entrances (n)``); its polygon or
        point.
    levels
        One row per estate and level in :data:`LEVEL_COLUMNS` (``message_zh``/``message_en``).
    schools
        One row per estate, level and serving school: ``distance_m`` (walking), ``time_min``,
        ``within_radius``, ``seats_part``, ``assigned`` (children of the catchment model),
        ``seats_left_before`` (after earlier estates), ``taken``, ``seats_left_after``.
    sites
        One row per estate, level and proposed site of that level.
    phases
        Pupils by delivery year (cumulative) per estate.
    limits
        Every setting used: value, unit, source, confidence, where its value came from.
    areas
        Walking service areas (WGS-84): ``kind`` ``estate`` (reach of the estate within the
        radius) or ``site``; for the maps.
    """

    estates: gpd.GeoDataFrame
    levels: pd.DataFrame
    schools: pd.DataFrame
    sites: pd.DataFrame
    phases: pd.DataFrame
    limits: pd.DataFrame
    areas: gpd.GeoDataFrame
    school_points: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame | None
    distance_method: str
    settings: Settings
    title: str = ""
    synthetic: bool = False
    created: str = ""
    notes: list[str] = field(default_factory=list)

    def table(self, lang: str = "en") -> pd.DataFrame:
        """:attr:`levels` with the ``message`` column in ``lang``."""
        out = self.levels.copy()
        out["message"] = out["message_zh" if lang == "zh" else "message_en"]
        return out[LEVEL_COLUMNS]


# --------------------------------------------------------------------------------------------
# review


def _origins(est_m: gpd.GeoDataFrame, entrances, metric: CRS) -> pd.DataFrame:
    """Points distances start from: entrances when given for an estate, else its centroid."""
    rows = []
    by_estate = {}
    if entrances is not None and len(entrances):
        ent = entrances.to_crs(metric)
        for eid, g in ent.groupby(ent["estate_id"].astype(str)):
            by_estate[eid] = list(g.geometry)
    for eid, geom in zip(est_m["estate_id"], est_m.geometry, strict=True):
        pts = by_estate.get(str(eid))
        if pts:
            rows += [(f"{eid}#{k}", eid, p.x, p.y, f"entrances ({len(pts)})") for k, p in enumerate(pts)]
        else:
            c = geom.centroid
            if geom.geom_type != "Point" and not geom.contains(c):
                c = geom.representative_point()
            rows.append((f"{eid}#c", eid, c.x, c.y, "centroid"))
    return pd.DataFrame(rows, columns=["origin_id", "estate_id", "x", "y", "distance_from"])


def _costs(network, origins: pd.DataFrame, dests: gpd.GeoDataFrame, id_col: str, metric: CRS,
           mode: str, settings: Settings) -> pd.DataFrame:
    """Walking distance from every estate (its nearest origin) to every destination."""
    cols = ["estate_id", id_col, "distance_m", "time_s", "estimate"]
    if origins.empty or dests.empty:
        return pd.DataFrame(columns=cols)
    o = gpd.GeoDataFrame(origins[["origin_id"]], geometry=gpd.points_from_xy(origins["x"], origins["y"]),
                         crs=metric)
    d = dests[[id_col, "geometry"]].copy()
    d["geometry"] = d.geometry.to_crs(metric).centroid
    d = gpd.GeoDataFrame(d, geometry="geometry", crs=metric)
    c = travel.travel_costs(network, o, d, mode=mode, origin_id="origin_id", destination_id=id_col,
                            cutoff_m=settings["catchment_cutoff_m"], settings=settings)
    c = c.merge(origins[["origin_id", "estate_id"]], left_on="from_id", right_on="origin_id")
    c = c.sort_values("distance_m").drop_duplicates(["estate_id", "to_id"])
    return c.rename(columns={"to_id": id_col})[cols].sort_values(["estate_id", "distance_m"])


def _service_area(network, x: float, y: float, radius_m: float, settings: Settings):
    """Points (metric) within ``radius_m`` walking of (x, y): the union of discs of radius
    ``radius - leg - d`` around every road node reached ``d`` metres from the point's own node
    (``leg``: its snap leg), as the travel model counts straight legs to the road; a circle of
    ``radius / circuity_factor`` without a network."""
    from scipy.sparse.csgraph import dijkstra


    if network is None:
        return shapely.Point(x, y).buffer(radius_m / settings["circuity_factor"])
    snapped = snap_xy(network, np.array([[x, y]]), settings=settings)
    leg = float(snapped["snap_distance_m"].iloc[0])
    budget = radius_m - leg
    if budget <= 0:  # the point lies farther than the radius from any road
        return shapely.Polygon()
    dist = dijkstra(network.matrix().T.tocsr(), indices=int(snapped["node"].iloc[0]), limit=budget)
    reach = np.flatnonzero(np.isfinite(dist))
    discs = shapely.buffer(shapely.points(network.x[reach], network.y[reach]), budget - dist[reach])
    return shapely.union_all(discs)


def _seats_left(result) -> dict[tuple[str, str], float]:
    """(school_id, level) -> seats of the part minus children the catchment model sends there."""
    schools = result.schools
    open_s = schools[schools["status"] != "closed"]
    seats = ca.seats_by_part(open_s)
    out = {}
    for _, s in open_s.iterrows():
        sid = s["school_id"]
        for level in LEVELS:
            if ca.serves(s["level"], _GROUP[level]):
                assigned = float(s.get(f"assigned_{level}", 0.0) or 0.0)
                out[(sid, level)] = float(seats.at[sid, f"seats_{level}"]) - assigned
    return out


def _town_of(points: gpd.GeoSeries, towns: gpd.GeoDataFrame) -> pd.DataFrame:
    """County and town of each point: the town polygon holding it, or the nearest town seat
    (in metres) when the towns are seat points."""
    out = pd.DataFrame({"county": None, "town_code": None, "town": None}, index=points.index)
    if towns is None or towns.empty:
        return out
    kind = towns.attrs.get("geometry_kind")
    located = towns[towns.geometry.notna() & ~towns.geometry.is_empty]
    if kind == "point" and len(located):
        metric = coords.metric_crs_for(located.geometry.x, located.geometry.y)
        seats_m, points_m = located.geometry.to_crs(metric), points.to_crs(metric)
    for i, p in points.items():
        hit = None
        if kind == "polygon":
            inside = towns.index[towns.geometry.contains(p)]
            hit = inside[0] if len(inside) else None
        elif kind == "point" and len(located):
            hit = seats_m.distance(points_m[i]).idxmin()  # the nearest town seat
        if hit is not None:
            out.loc[i] = [towns.at[hit, c] if c in towns else None for c in ("county", "town_code", "town")]
    return out


def _required(level: str, shortfall: float, s: Settings) -> dict[str, Any]:
    size = s[f"class_size_{level}"]
    needed = math.ceil(shortfall / size - 1e-9)
    planned = math.ceil(needed / _GRADES[level]) * _GRADES[level]
    cap = s["estate_school_max_classes"]
    return {"class_size": size, "classes_needed": needed, "classes_planned": planned,
            "schools_needed": max(1, math.ceil(planned / cap)), "max_classes": cap}


def _site_seats(site: pd.Series, level: str, s: Settings) -> float:
    """Seats a proposed site gives the level: ``seats``, else classes x class size (a nine-year
    site's classes split 6:3 between its primary and junior parts)."""
    share = {"primary": 6 / 9, "junior": 3 / 9} if site["level"] == "nine_year" else {level: 1.0}
    if pd.notna(site.get("seats")):
        return float(site["seats"]) * share[level]
    if pd.notna(site.get("classes")):
        return round(float(site["classes"]) * share[level]) * s[f"class_size_{level}"]
    return float("nan")


def review_estates(
    estates: gpd.GeoDataFrame,
    result: Result,
    *,
    proposed_sites: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
    network: Any = "auto",
) -> Review:
    """Review housing estates against the schools of a diagnosed layout (see the module notes).

    Parameters
    ----------
    estates
        From :func:`read_estates` (or any GeoDataFrame with ``estate_id``, ``households``
        and/or ``residents`` and a CRS). Reviewed in row order: later estates get the seats
        earlier ones left.
    result
        A :class:`~schoolplan.schema.Result` (its schools, seats and nearest assignment), e.g.
        from :func:`schoolplan.scenario.evaluate`.
    proposed_sites
        From :func:`read_sites` (optional).
    entrances
        Points with ``estate_id``: distances start from the nearest entrance of the estate
        instead of its centroid (optional).
    settings
        Rates, radii and limits; default the result's settings.
    network
        The walking :class:`~schoolplan.network.RoadNetwork`; ``"auto"`` (default) uses the
        walking network the result was computed on, ``None`` straight line x ``circuity_factor``
        (estimate).
    """
    if not isinstance(result, Result):
        raise SchoolplanError("review_estates needs a Result (from schoolplan.scenario.evaluate), "
                              f"got {type(result).__name__}")
    net = result.networks.get("walk") if isinstance(network, str) and network == "auto" else network
    s = settings or result.settings
    if estates.crs is None:
        raise SchoolplanError("the estates have no coordinate system: read them with read_estates "
                           "or set one (gdf.set_crs('EPSG:4326'))")
    missing = {"estate_id"} - set(estates.columns)
    if missing or not ({"households", "residents"} & set(estates.columns)):
        raise SchoolplanError("the estates need estate_id and households or residents columns "
                           f"(got {list(estates.columns)})")
    est = estates.to_crs(4326).copy()
    est["estate_id"] = est["estate_id"].astype(str)
    for col in ("households", "residents", "delivery_year"):
        est[col] = pd.to_numeric(est[col], errors="coerce") if col in est else np.nan
    if "phases" not in est:
        est["phases"] = None
    pph = s["persons_per_household"]
    has_res = est["residents"] > 0
    est["residents_source"] = np.where(has_res, "given", "households x persons_per_household")
    est["residents"] = est["residents"].where(has_res, est["households"] * pph)
    metric = net.crs if net is not None else coords.metric_crs_for(
        est.geometry.representative_point().x, est.geometry.representative_point().y)
    est_m = est.to_crs(metric)
    origins = _origins(est_m, entrances.to_crs(metric) if entrances is not None else None, metric)
    first = origins.drop_duplicates("estate_id").set_index("estate_id")
    est["distance_from"] = est["estate_id"].map(first["distance_from"])
    opts = gpd.GeoSeries(gpd.points_from_xy(first["x"], first["y"]), index=first.index, crs=metric).to_crs(4326)
    est["origin_lon"] = est["estate_id"].map(opts.x)
    est["origin_lat"] = est["estate_id"].map(opts.y)
    places = _town_of(gpd.GeoSeries(gpd.points_from_xy(est["origin_lon"], est["origin_lat"]),
                                    index=est.index, crs=4326), result.towns)
    est[["county", "town_code", "town"]] = places[["county", "town_code", "town"]]
    method = ("walking distance on the road network" if net is not None
              else f"straight line x circuity factor {s['circuity_factor']} (estimate)")

    schools = result.schools
    usable = schools[(schools["status"] != "closed") & np.isfinite(schools["lon"])]
    left = _seats_left(result)
    sites = proposed_sites.to_crs(4326) if proposed_sites is not None and len(proposed_sites) else None
    level_rows, school_rows, site_rows, area_rows = [], [], [], []
    names = schools.set_index("school_id")["name"]
    for level in LEVELS:
        eligible = usable[usable["level"].map(lambda lv, g=_GROUP[level]: ca.serves(lv, g))]
        costs = _costs(net, origins, eligible, "school_id", metric, _MODE[level], s)
        lvl_sites = None
        if sites is not None:
            lvl_sites = sites[sites["level"].map(lambda lv, g=_GROUP[level]: ca.serves(lv, g))]
            site_costs = _costs(net, origins, lvl_sites, "site_id", metric, _MODE[level], s)
        radius = s[f"radius_{level}_m"]
        for _, e in est.iterrows():
            eid = e["estate_id"]
            ox, oy = first.at[eid, "x"], first.at[eid, "y"]
            area = _service_area(net, ox, oy, radius, s)
            area_rows.append({"kind": "estate", "id": eid, "estate_id": eid, "level": level, "geometry": area})
        for _, e in est.iterrows():
            level_rows.append(_review_one(e, level, costs, left, names, s, radius, school_rows))
        if lvl_sites is not None and len(lvl_sites):
            for _, site in lvl_sites.iterrows():
                c = site.geometry.centroid if site.geometry.geom_type != "Point" else site.geometry
                cm = gpd.GeoSeries([c], crs=4326).to_crs(metric).iloc[0]
                area = _service_area(net, cm.x, cm.y, radius, s)
                area_rows.append({"kind": "site", "id": site["site_id"], "estate_id": site["estate_id"],
                                  "level": level, "geometry": area})
                for row in level_rows[-len(est):]:
                    if pd.notna(site["estate_id"]) and str(site["estate_id"]) != row["estate_id"]:
                        continue
                    site_rows.append(_site_row(row, site, site_costs, area, est_m, metric, level, s))
    levels = pd.DataFrame(level_rows)
    for col in ("households", "delivery_year"):
        levels[col] = pd.array(pd.to_numeric(levels[col]).round(), dtype="Int64")
    site_df = pd.DataFrame(site_rows, columns=["estate_id", "level", "site_id", "site_name", "site_level",
                                               "site_distance_m", "site_within_radius", "site_seats",
                                               "site_covers_shortfall", "households_covered",
                                               "area_share_covered"])
    levels = _attach_sites(levels, site_df, s)
    areas = gpd.GeoDataFrame(area_rows, geometry="geometry", crs=metric).to_crs(4326) if area_rows else \
        gpd.GeoDataFrame({"kind": [], "id": [], "estate_id": [], "level": []}, geometry=[], crs=4326)
    limits = pd.DataFrame([r for r in s.to_records() if r["name"] in LIMIT_SETTINGS])
    order = {eid: i for i, eid in enumerate(est["estate_id"])}
    levels = levels.sort_values(["estate_id", "level"], key=lambda c: c.map(order) if c.name == "estate_id"
                                else c.map({"primary": 0, "junior": 1})).reset_index(drop=True)
    levels["estimate"] = net is None
    pts = usable[["school_id", "name", "level", "seats", "enrollment", "lon", "lat", "geometry"]]
    scenario = result.scenario
    review = Review(
        estates=est[["estate_id", "name", "households", "residents", "residents_source", "delivery_year",
                     "phases", "county", "town_code", "town", "origin_lon", "origin_lat", "distance_from",
                     "geometry"]],
        levels=levels, schools=pd.DataFrame(school_rows), sites=site_df,
        phases=_phases(est, s), limits=limits, areas=areas, school_points=pts.copy(),
        proposed=sites, distance_method=method, settings=s,
        title=str(getattr(scenario, "title", "") or ""), synthetic=bool(getattr(scenario, "synthetic", False)),
        created=str(result.created),
    )
    if result.assignments is None:
        review.notes.append("no demand input: seats left are the schools' full seats")
    return review


def _review_one(e, level, costs, left, names, s, radius, school_rows) -> dict[str, Any]:
    """One estate and level: allocate its pupils to the serving schools' seats left."""
    eid = e["estate_id"]
    rate = s[f"pupils_{level}_per_1000_residents"]
    pupils = float(e["residents"]) * rate / 1000.0
    mine = costs[costs["estate_id"] == eid]
    within = mine[mine["distance_m"] <= radius]
    serving = within if len(within) else mine.head(1)
    remaining, pool, unknown = pupils, 0.0, False
    for _, c in serving.iterrows():
        sid = c["school_id"]
        before = left.get((sid, level), float("nan"))
        free = max(before, 0.0) if np.isfinite(before) else float("nan")
        unknown |= not np.isfinite(before)
        take = min(remaining, free) if np.isfinite(free) else 0.0
        pool += free if np.isfinite(free) else 0.0
        remaining -= take
        if np.isfinite(before):
            left[(sid, level)] = before - take
        school_rows.append({
            "estate_id": eid, "level": level, "school_id": sid, "school_name": names.get(sid),
            "distance_m": round(float(c["distance_m"]), 0), "time_min": round(float(c["time_s"]) / 60, 1),
            "within_radius": bool(c["distance_m"] <= radius), "seats_left_before": round(before, 1),
            "taken": round(take, 1), "seats_left_after": round(before - take, 1)})
    short = pupils - pool
    verdict = "served" if short <= 1e-9 else ("unknown" if unknown else "short")
    row = {"estate_id": eid, "name": e["name"], "level": level, "county": e["county"], "town": e["town"],
           "households": e["households"], "residents": round(float(e["residents"]), 1),
           "residents_source": e["residents_source"], "delivery_year": e["delivery_year"],
           "rate_per_1000": rate, "pupils": round(pupils, 1), "radius_m": radius,
           "distance_from": e["distance_from"], "schools_within_radius": len(within),
           "within_radius": bool(len(within)), "serving_schools": ";".join(serving["school_id"]),
           "nearest_distance_m": round(float(mine["distance_m"].min()), 0) if len(mine) else np.nan,
           "seats_left_before": round(pool, 1), "seats_left_after": round(pool - pupils, 1),
           "verdict": verdict, "short_by": math.ceil(short - 1e-9) if verdict != "served" else 0}
    if verdict != "served":
        row.update(_required(level, row["short_by"], s))
    return row


def _site_row(row, site, site_costs, area, est_m, metric, level, s) -> dict[str, Any]:
    eid = row["estate_id"]
    c = site_costs[(site_costs["estate_id"] == eid) & (site_costs["site_id"] == site["site_id"])]
    dist = float(c["distance_m"].iloc[0]) if len(c) else float("nan")
    within = bool(dist <= row["radius_m"])
    geom = est_m.loc[est_m["estate_id"] == eid].geometry.iloc[0]
    if geom.geom_type == "Point":
        share = 1.0 if within else 0.0
    else:
        share = float(geom.intersection(area).area / geom.area) if geom.area > 0 else 0.0
    seats = _site_seats(site, level, s)
    households = row["households"] if pd.notna(row["households"]) else np.nan
    return {"estate_id": eid, "level": level, "site_id": site["site_id"], "site_name": site["name"],
            "site_level": site["level"], "site_distance_m": round(dist, 0), "site_within_radius": within,
            "site_seats": seats,
            "site_covers_shortfall": bool(seats >= row["short_by"]) if np.isfinite(seats) else None,
            "households_covered": round(share * households) if np.isfinite(households) else np.nan,
            "area_share_covered": round(share, 3)}


def _attach_sites(levels: pd.DataFrame, sites: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """First proposed site per estate and level into the level table; nine-year option; texts."""
    first = sites.drop_duplicates(["estate_id", "level"]).set_index(["estate_id", "level"])
    for col in ("site_id", "site_distance_m", "site_within_radius", "site_seats",
                "site_covers_shortfall", "households_covered"):
        levels[col] = [first[col].get((e, lv)) if (e, lv) in first.index else None
                       for e, lv in zip(levels["estate_id"], levels["level"], strict=True)]
    for col in ("class_size", "classes_needed", "classes_planned", "schools_needed", "max_classes"):
        if col not in levels:
            levels[col] = np.nan
    nine = {}
    for eid, g in levels.groupby("estate_id"):
        if (g["verdict"] != "served").all() and len(g) == 2:
            total = int(g["classes_planned"].sum())
            nine[eid] = total if total <= s["estate_school_max_classes_nine_year"] else -total
    levels["nine_year_classes"] = levels["estate_id"].map(nine)
    texts = [_message(r, s) for _, r in levels.iterrows()]
    levels["message_zh"] = [t[0] for t in texts]
    levels["message_en"] = [t[1] for t in texts]
    return levels


def number_text(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{float(v):,.0f}"


def _message(r: pd.Series, s: Settings) -> tuple[str, str]:
    lv = r["level"]
    radius = f"{r['radius_m']:g}"
    if r["schools_within_radius"]:
        where_zh = f"服务半径 {radius} 米（步行）内有 {r['schools_within_radius']} 所{LEVEL_ZH[lv]}"
        where_en = f"{r['schools_within_radius']} {LEVEL_EN[lv]} school(s) within the {radius} m walking radius"
    elif r["serving_schools"]:
        nearest = number_text(r["nearest_distance_m"])
        where_zh = f"服务半径 {radius} 米内无{LEVEL_ZH[lv]}，最近学校步行 {nearest} 米（超出半径）"
        where_en = (f"no {LEVEL_EN[lv]} school within {radius} m; the nearest is {nearest} m "
                    "away by road (beyond the radius)")
    else:
        where_zh, where_en = f"附近无可达的{LEVEL_ZH[lv]}", f"no {LEVEL_EN[lv]} school within reach"
    left = number_text(r["seats_left_before"])
    zh = f"{LEVEL_ZH[lv]}：新增学生 {r['pupils']:.0f} 人；{where_zh}，剩余学位 {left} 个"
    en = f"{LEVEL_EN[lv].capitalize()}: {r['pupils']:.0f} new pupils; {where_en}, {left} seats left"
    if r["verdict"] == "served":
        zh += f"，接收后剩余 {number_text(r['seats_left_after'])} 个：可满足。"
        en += f", {number_text(r['seats_left_after'])} after this estate: served."
    else:
        zh += (f"，缺 {r['short_by']} 个学位：须配建{LEVEL_ZH[lv]} {r['classes_needed']:.0f} 班"
               f"（每班 {r['class_size']:.0f} 人），按整轨规划 {r['classes_planned']:.0f} 班")
        en += (f"; short by {r['short_by']} seats: the estate must provide a {LEVEL_EN[lv]} school of "
               f"{r['classes_needed']:.0f} class{'' if r['classes_needed'] == 1 else 'es'} "
               f"({r['class_size']:.0f} per class), "
               f"{r['classes_planned']:.0f} in whole streams")
        if r["schools_needed"] > 1:
            zh += f"，超过单校 {r['max_classes']:.0f} 班上限，需 {r['schools_needed']:.0f} 所"
            en += f", above the {r['max_classes']:.0f}-class cap: {r['schools_needed']:.0f} schools"
        zh += "。"
        en += "."
        if r["verdict"] == "unknown":
            zh += "（服务学校中有学校无学位数，无法确定）"
            en += " (a serving school has no seat count: cannot be sure)"
    if r.get("site_id") is not None and pd.notna(r.get("site_id")):
        ok_zh = "在服务半径内" if r["site_within_radius"] else "不在服务半径内"
        ok_en = "within" if r["site_within_radius"] else "outside"
        zh += (f" 拟建校址 {r['site_id']} 距小区步行 {number_text(r['site_distance_m'])} 米，{ok_zh}，"
               f"覆盖 {number_text(r['households_covered'])} 户，学位 {number_text(r['site_seats'])} 个。")
        en += (f" Proposed site {r['site_id']}: {number_text(r['site_distance_m'])} m walk, {ok_en} the radius, "
               f"covers {number_text(r['households_covered'])} households, {number_text(r['site_seats'])} seats.")
    return zh, en


def _phases(est: gpd.GeoDataFrame, s: Settings) -> pd.DataFrame:
    rows = []
    for _, e in est.iterrows():
        phases = parse_phases(e["phases"]) or []
        unit = e["households"] if e["residents_source"] != "given" else e["residents"]
        if not phases:
            phases = [(e["delivery_year"], unit)]
        per_unit = float(e["residents"]) / float(unit) if unit and unit > 0 else 0.0
        cum = 0.0
        for year, amount in phases:
            cum += float(amount) * per_unit
            rows.append({"estate_id": e["estate_id"], "delivery_year": year, "residents": round(cum, 1),
                         **{f"pupils_{lv}": round(cum * s[f"pupils_{lv}_per_1000_residents"] / 1000, 1)
                            for lv in LEVELS}})
    out = pd.DataFrame(rows, columns=["estate_id", "delivery_year", "residents", "pupils_primary",
                                      "pupils_junior"])
    out["delivery_year"] = pd.array(pd.to_numeric(out["delivery_year"]).round(), dtype="Int64")
    return out

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
from schoolplan import coords, phasing, travel
from schoolplan.errors import SchoolplanError
from schoolplan.io.estates import parse_phases
from schoolplan.network import snap_xy
from schoolplan.network.legs import end_legs
from schoolplan.phasing import LEVEL_EN, LEVEL_ZH
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

Level = Literal["kindergarten", "primary", "junior"]
#: Levels an estate is reviewed for (kindergartens when the ledger lists any, or a site is one).
LEVELS: tuple[str, ...] = ("kindergarten", "primary", "junior")
_GROUP = {"primary": "g4_6", "junior": "g7_9"}  # a school serving the level teaches this group
#: walking speed of the times shown
_MODE: dict[str, travel.TravelMode] = {"kindergarten": "walk_g1_3", "primary": "walk_g1_3", "junior": "walk_g4_9"}
_GRADES = {"kindergarten": 3, "primary": 6, "junior": 3}  # classes per stream (轨): one per year

#: Columns of :attr:`Review.levels` (one row per estate and level), the CSV and the sheet.
LEVEL_COLUMNS = [
    "estate_id", "name", "level", "county", "town", "households", "residents", "residents_source",
    "delivery_year", "rate_per_1000", "pupils", "radius_m", "distance_from", "schools_within_radius",
    "within_radius", "serving_schools", "nearest_distance_m", "seats_left_before", "seats_left_after",
    "beyond_school_id", "beyond_distance_m", "seats_beyond", "verdict", "short_by", "public_required",
    "class_size", "classes_needed", "classes_planned", "schools_needed", "min_classes", "max_classes",
    "advice", "expand_school_id", "joint_estates", "joint_seats", "joint_classes", "nine_year_classes",
    "peak_year", "peak_pupils", "peak_short_by", "first_short_year", "open_by_phase", "open_by_year",
    "site_id", "site_distance_m", "site_within_radius", "site_seats", "site_covers_shortfall",
    "households_covered", "estimate", "message",
]
#: The settings every review depends on (shown with value and source on each page).
LIMIT_SETTINGS = ("pupils_primary_per_1000_residents", "pupils_junior_per_1000_residents",
                  "persons_per_household", "radius_primary_m", "radius_junior_m",
                  "class_size_primary", "class_size_junior", "estate_school_max_classes",
                  "estate_school_max_classes_nine_year", "circuity_factor",
                  "pupils_kindergarten_per_1000_residents", "radius_kindergarten_m", "class_size_kindergarten",
                  "estate_kindergarten_min_classes", "estate_kindergarten_max_classes",
                  "estate_school_min_classes_primary", "estate_school_min_classes_junior",
                  "estate_fallback_radius_factor", "estate_joint_distance_factor", "estate_profile_kindergarten",
                  "estate_profile_primary", "estate_profile_junior", "estate_kindergarten_public_counties")

VERDICT_LABELS = {"served": ("可满足", "served"), "short": ("学位不足", "short"),
                  "beyond_radius": ("超出服务半径（不达标）", "beyond the radius (not compliant)"),
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
    phase_years: pd.DataFrame = field(default_factory=pd.DataFrame)
    phase_verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)
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
           mode: travel.TravelMode, settings: Settings) -> pd.DataFrame:
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
    c["distance_m"] = c["distance_m"].round(1)  # a radius of 1000 m includes 1000.0000001 m
    c = c.sort_values("distance_m").drop_duplicates(["estate_id", "to_id"])
    return c.rename(columns={"to_id": id_col})[cols].sort_values(["estate_id", "distance_m"])


def _service_area(network, x: float, y: float, radius_m: float, settings: Settings):
    """Points (metric) within ``radius_m`` walking of (x, y): the union of discs of radius
    ``radius - d`` around every road node reached ``d`` metres from the point (its snap leg and
    the part of its edge to an end included), as the travel model counts them; a circle of
    ``radius / circuity_factor`` without a network."""
    from scipy.sparse.csgraph import dijkstra


    if network is None:
        return shapely.Point(x, y).buffer(radius_m / settings["circuity_factor"])
    snapped = snap_xy(network, np.array([[x, y]]), settings=settings)
    _, ends, legs, _ = end_legs(snapped, network.length_m, network.length_m,
                                snapped["snap_distance_m"].to_numpy(), inbound=True)
    if legs.min() >= radius_m:  # the point lies farther than the radius from any road
        return shapely.Polygon()
    # from each end of the point's edge (its legs included), the nearer one counts
    back = network.matrix().T.tocsr()
    dist = np.min([dijkstra(back, indices=int(e), limit=max(radius_m - leg, 0.0)) + leg
                   for e, leg in zip(ends, legs, strict=True)], axis=0)
    budget = radius_m
    reach = np.flatnonzero(np.isfinite(dist))
    discs = shapely.buffer(shapely.points(network.x[reach], network.y[reach]), budget - dist[reach])
    return shapely.union_all(discs)


def school_serves(school_level: str, level: str) -> bool:
    """True when a school of ``school_level`` takes the estate's children of ``level``."""
    if level == "kindergarten":
        return school_level == "kindergarten"
    return school_level == "twelve_year" or ca.serves(school_level, _GROUP[level])


def _seats_and_assigned(result: Result, s: Settings) -> tuple[dict, dict]:
    """(school_id, level) -> seats of the part, and -> children already there: for schools the
    catchment model's nearest assignment; for kindergartens (not modelled) their enrolment, and
    seats = ``seats``, else classes x ``class_size_kindergarten``."""
    schools = result.schools
    open_s = schools[schools["status"] != "closed"]
    kg = open_s["level"] == "kindergarten"
    parts = ca.seats_by_part(open_s[~kg])
    seats, assigned = {}, {}
    for _, r in open_s.iterrows():
        sid = r["school_id"]
        if r["level"] == "kindergarten":
            given = r["seats"] if pd.notna(r["seats"]) else (
                r["classes"] * s["class_size_kindergarten"] if pd.notna(r.get("classes")) else np.nan)
            seats[(sid, "kindergarten")] = float(given)
            assigned[(sid, "kindergarten")] = float(r["enrollment"]) if pd.notna(r["enrollment"]) else 0.0
            continue
        for level in ("primary", "junior"):
            if school_serves(r["level"], level):
                seats[(sid, level)] = float(parts.at[sid, f"seats_{level}"])
                assigned[(sid, level)] = float(r.get(f"assigned_{level}", 0.0) or 0.0)
    return seats, assigned


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


def _whole(seats: float) -> int:
    """Seats short as a whole number: rounded to a tenth of a child first (75.04 -> 75, 75.2 -> 76)."""
    return math.ceil(round(seats, 1) - 1e-9)


def _size_limits(level: str, s: Settings) -> tuple[int, int]:
    """(smallest, largest) school worth building for the level, in classes."""
    if level == "kindergarten":
        return s["estate_kindergarten_min_classes"], s["estate_kindergarten_max_classes"]
    return s[f"estate_school_min_classes_{level}"], s["estate_school_max_classes"]


def _required(level: str, shortfall: float, s: Settings) -> dict[str, Any]:
    """Classes for ``shortfall`` seats, and the school of a viable size (whole streams, between the
    smallest and the largest size) when they are enough for one."""
    size = s[f"class_size_{level}"]
    needed = math.ceil(shortfall / size - 1e-9)
    smallest, cap = _size_limits(level, s)
    planned = max(math.ceil(needed / _GRADES[level]) * _GRADES[level], smallest)
    return {"class_size": size, "classes_needed": needed, "classes_planned": planned,
            "schools_needed": max(1, math.ceil(planned / cap)), "max_classes": cap,
            "min_classes": smallest}


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
    seats, assigned = _seats_and_assigned(result, s)
    left = {k: v - assigned.get(k, 0.0) for k, v in seats.items()}
    sites = proposed_sites.to_crs(4326) if proposed_sites is not None and len(proposed_sites) else None
    reviewed = [lv for lv in LEVELS if lv != "kindergarten" or (usable["level"] == "kindergarten").any()
                or (sites is not None and (sites["level"] == "kindergarten").any())]
    public = {c.strip() for c in str(s["estate_kindergarten_public_counties"]).replace("，", ",").split(",")}
    every = bool(public & {"*", "all", "全部"})
    est["public_required_kindergarten"] = [every or str(c) in public for c in est["county"]]
    private = set(usable.loc[usable["ownership"] == "private", "school_id"]) if "ownership" in usable else set()
    level_rows: list[dict[str, Any]] = []
    school_rows: list[dict[str, Any]] = []
    site_rows: list[dict[str, Any]] = []
    area_rows: list[dict[str, Any]] = []
    names = schools.set_index("school_id")["name"]
    for level in reviewed:
        eligible = usable[usable["level"].map(lambda lv, g=level: school_serves(lv, g))]
        costs = _costs(net, origins, eligible, "school_id", metric, _MODE[level], s)
        lvl_sites = None
        if sites is not None:
            lvl_sites = sites[sites["level"].map(lambda lv, g=level: school_serves(lv, g))]
            site_costs = _costs(net, origins, lvl_sites, "site_id", metric, _MODE[level], s)
        radius = s[f"radius_{level}_m"]
        for _, e in est.iterrows():
            eid = e["estate_id"]
            ox, oy = first.at[eid, "x"], first.at[eid, "y"]
            area = _service_area(net, ox, oy, radius, s)
            area_rows.append({"kind": "estate", "id": eid, "estate_id": eid, "level": level, "geometry": area})
        for _, e in est.iterrows():
            mine = costs
            if level == "kindergarten" and e["public_required_kindergarten"]:
                mine = costs[~costs["school_id"].isin(private)]
            level_rows.append(_review_one(e, level, mine, left, names, s, radius, school_rows))
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
    levels["expand_school_name"] = levels["expand_school_id"].map(names)
    levels["beyond_school_name"] = levels["beyond_school_id"].map(names)
    site_df = pd.DataFrame(site_rows, columns=["estate_id", "level", "site_id", "site_name", "site_level",
                                               "site_distance_m", "site_within_radius", "site_seats",
                                               "site_covers_shortfall", "households_covered",
                                               "area_share_covered"])
    xy = {eid: (float(first.at[eid, "x"]), float(first.at[eid, "y"])) for eid in est["estate_id"]}
    levels = _attach_sites(levels, site_df, s, xy)
    phase_years, phase_verdicts, seats_note = _phase_review(est, levels, school_rows, seats, assigned,
                                                            result, s)
    levels = phasing.phase_summary(levels, phase_years, phase_verdicts, seats_note)
    texts = [_message(r, s) for _, r in levels.iterrows()]
    levels["message_zh"] = [t[0] for t in texts]
    levels["message_en"] = [t[1] for t in texts]
    areas = gpd.GeoDataFrame(area_rows, geometry="geometry", crs=metric).to_crs(4326) if area_rows else \
        gpd.GeoDataFrame({"kind": [], "id": [], "estate_id": [], "level": []}, geometry=[], crs=4326)
    limits = pd.DataFrame([r for r in s.to_records() if r["name"] in LIMIT_SETTINGS])
    order = {eid: i for i, eid in enumerate(est["estate_id"])}
    levels = levels.sort_values(["estate_id", "level"], key=lambda c: c.map(order) if c.name == "estate_id"
                                else c.map({lv: i for i, lv in enumerate(LEVELS)})).reset_index(drop=True)
    levels["estimate"] = net is None
    pts = usable[["school_id", "name", "level", "seats", "enrollment", "lon", "lat", "geometry"]]
    scenario = result.scenario
    review = Review(
        estates=est[["estate_id", "name", "households", "residents", "residents_source", "delivery_year",
                     "phases", "county", "town_code", "town", "origin_lon", "origin_lat", "distance_from",
                     "geometry"]],
        levels=levels, schools=pd.DataFrame(school_rows), sites=site_df,
        phases=_phases(est, s, reviewed), limits=limits, areas=areas, school_points=pts.copy(),
        proposed=sites, distance_method=method, settings=s,
        phase_years=phase_years, phase_verdicts=phase_verdicts,
        title=str(scenario.title or ""), synthetic=bool(scenario.synthetic),
        created=str(result.created),
    )
    if result.assignments is None:
        review.notes.append("no demand input: seats left are the schools' full seats")
    if "kindergarten" not in reviewed:
        review.notes.append("the school ledger lists no kindergarten: kindergartens not reviewed")
    review.notes.append(seats_note[1])
    return review


def _estate_phases(e: pd.Series) -> list[tuple[int, float]]:
    """(delivery year, residents) of each phase; [] when the estate has no year."""
    phases = parse_phases(e["phases"]) or []
    unit = e["households"] if e["residents_source"] != "given" else e["residents"]
    if not phases:
        if pd.isna(e["delivery_year"]):
            return []
        phases = [(int(e["delivery_year"]), float(unit))]
    total = sum(v for _, v in phases)
    return [(int(y), float(e["residents"]) * v / total) for y, v in phases] if total > 0 else []


def _phase_review(est, levels, school_rows, seats, assigned, result: Result, s: Settings):
    """Verdicts by year and phase (:mod:`schoolplan.phasing`) and how seats by year were found."""
    plans, serving = {}, {}
    rows = pd.DataFrame(school_rows, columns=["estate_id", "level", "school_id", "within_radius"])
    by_id = est.set_index("estate_id")
    for _, r in levels.iterrows():
        key = (r["estate_id"], r["level"])
        plans[key] = (_estate_phases(by_id.loc[r["estate_id"]]), r["rate_per_1000"],
                      list(s[f"estate_profile_{r['level']}"]))
        mine = rows[(rows["estate_id"] == key[0]) & (rows["level"] == key[1]) & rows["within_radius"]]
        serving[key] = list(mine["school_id"])
    ratios, base = None, result.scenario.year
    history = result.inputs.history
    years = [y for ph, _, prof in plans.values() for y0, _ in ph for y in (y0, y0 + len(prof))]
    if history is not None and len(history) and years:
        ratios = phasing.enrolment_ratios(history, births=result.inputs.births, schools=result.inputs.schools,
                                          base_year=base, years=range(min(years), max(years) + 1), settings=s)
        note = ("学位按在校生预测逐年核算", "seats by year from the enrolment projection")
    else:
        when = f"{base} 年" if base else "台账年份"
        note = (f"各年学位按{when}在校生核算，无历年数据",
                f"seats of every year held at {base or 'the ledger year'} (no enrolment history)")
    by_year, by_phase = phasing.phase_review(plans, serving, seats, assigned, ratios)
    return by_year, by_phase, note


def _review_one(e, level, costs, left, names, s, radius, school_rows) -> dict[str, Any]:
    """One estate and level: its pupils take the seats left of the schools within the radius
    (nearest first); what they cannot seat is checked at the nearest school up to
    ``estate_fallback_radius_factor`` x the radius (seats there are not compliant)."""
    eid = e["estate_id"]
    rate = s[f"pupils_{level}_per_1000_residents"]
    pupils = float(e["residents"]) * rate / 1000.0
    mine = costs[costs["estate_id"] == eid]
    within = mine[mine["distance_m"] <= radius]
    fallback = mine[(mine["distance_m"] > radius)
                    & (mine["distance_m"] <= radius * s["estate_fallback_radius_factor"])].head(1)
    remaining, pool, beyond_pool, unknown = pupils, 0.0, 0.0, False
    for inside, group in ((True, within), (False, fallback)):
        if not inside and remaining <= 1e-9:
            break
        for _, c in group.iterrows():
            sid = c["school_id"]
            before = left.get((sid, level), float("nan"))
            free = max(before, 0.0) if np.isfinite(before) else float("nan")
            unknown |= inside and not np.isfinite(before)
            take = min(remaining, free) if np.isfinite(free) else 0.0
            if inside:
                pool += free if np.isfinite(free) else 0.0
            else:
                beyond_pool += free if np.isfinite(free) else 0.0
            remaining -= take
            if np.isfinite(before):
                left[(sid, level)] = before - take
            school_rows.append({
                "estate_id": eid, "level": level, "school_id": sid, "school_name": names.get(sid),
                "distance_m": round(float(c["distance_m"]), 0), "time_min": round(float(c["time_s"]) / 60, 1),
                "within_radius": inside, "seats_left_before": round(before, 1),
                "taken": round(take, 1), "seats_left_after": round(before - take, 1)})
    short = pupils - pool
    if short <= 1e-9:
        verdict = "served"
    elif unknown:
        verdict = "unknown"
    elif len(fallback) and beyond_pool >= short - 1e-9:
        verdict = "beyond_radius"
    else:
        verdict = "short"
    serving = pd.concat([within, fallback]) if verdict == "beyond_radius" or not len(within) else within
    row = {"estate_id": eid, "name": e["name"], "level": level, "county": e["county"], "town": e["town"],
           "households": e["households"], "residents": round(float(e["residents"]), 1),
           "residents_source": e["residents_source"], "delivery_year": e["delivery_year"],
           "rate_per_1000": rate, "pupils": round(pupils, 1), "radius_m": radius,
           "distance_from": e["distance_from"], "schools_within_radius": len(within),
           "within_radius": bool(len(within)), "serving_schools": ";".join(serving["school_id"]),
           "nearest_distance_m": round(float(mine["distance_m"].min()), 0) if len(mine) else np.nan,
           "seats_left_before": round(pool, 1), "seats_left_after": round(pool - pupils, 1),
           "beyond_school_id": fallback["school_id"].iloc[0] if len(fallback) else None,
           "beyond_distance_m": round(float(fallback["distance_m"].iloc[0]), 0) if len(fallback) else np.nan,
           "seats_beyond": round(beyond_pool, 1),
           "verdict": verdict, "short_by": _whole(short) if verdict != "served" else 0,
           "public_required": bool(e.get(f"public_required_{level}", False)),
           "expand_school_id": within["school_id"].iloc[0] if len(within) else None}
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


def _advise(levels: pd.DataFrame, xy: dict[str, tuple[float, float]], s: Settings) -> pd.DataFrame:
    """What each short estate must do: ``build`` a school of viable size; below the smallest
    size, ``expand`` the nearest school within the radius, else provide ``joint``-ly with the
    short estates nearby (when together they reach the smallest size), else ``build_min`` (the
    smallest school, more seats than the gap)."""
    levels["advice"], levels["joint_estates"] = None, None
    levels["joint_seats"], levels["joint_classes"] = np.nan, np.nan
    short = levels[levels["verdict"] != "served"]
    for i, r in short.iterrows():
        lv, smallest = r["level"], r["min_classes"]
        if r["classes_needed"] >= smallest:
            levels.at[i, "advice"] = "build"
            continue
        reach = r["radius_m"] * s["estate_joint_distance_factor"]
        x0, y0 = xy[r["estate_id"]]
        mates = short[(short["level"] == lv) & (short["estate_id"] != r["estate_id"])]
        mates = mates[[math.hypot(xy[m][0] - x0, xy[m][1] - y0) <= reach for m in mates["estate_id"]]]
        if len(mates):
            seats = int(r["short_by"] + mates["short_by"].sum())
            levels.at[i, "joint_estates"] = ";".join(mates["estate_id"])
            levels.at[i, "joint_seats"] = seats
            levels.at[i, "joint_classes"] = math.ceil(seats / r["class_size"] - 1e-9)
        if pd.notna(r["expand_school_id"]):
            levels.at[i, "advice"] = "expand"
            levels.at[i, "classes_planned"] = r["classes_needed"]
        elif len(mates) and levels.at[i, "joint_classes"] >= smallest:
            levels.at[i, "advice"] = "joint"
        else:
            levels.at[i, "advice"] = "build_min"
    return levels


def _attach_sites(levels: pd.DataFrame, sites: pd.DataFrame, s: Settings,
                  xy: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """First proposed site per estate and level into the level table; advice; nine-year option."""
    first = sites.drop_duplicates(["estate_id", "level"]).set_index(["estate_id", "level"])
    for col in ("site_id", "site_distance_m", "site_within_radius", "site_seats",
                "site_covers_shortfall", "households_covered"):
        levels[col] = [first[col].get((e, lv)) if (e, lv) in first.index else None
                       for e, lv in zip(levels["estate_id"], levels["level"], strict=True)]
    for col in ("class_size", "classes_needed", "classes_planned", "schools_needed", "max_classes",
                "min_classes"):
        if col not in levels:
            levels[col] = np.nan
    levels = _advise(levels, xy, s)
    nine = {}
    school_levels = levels[levels["level"].isin(["primary", "junior"])]
    for eid, g in school_levels.groupby("estate_id"):
        if (g["verdict"] != "served").all() and len(g) == 2 and (g["advice"] == "build").all():
            total = int(g["classes_planned"].sum())
            nine[eid] = total if total <= s["estate_school_max_classes_nine_year"] else -total
    levels["nine_year_classes"] = levels["estate_id"].map(nine)
    return levels


def number_text(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{float(v):,.0f}"


def _seat_word(level: str) -> tuple[str, str]:
    return ("幼儿", "children") if level == "kindergarten" else ("学生", "pupils")


def _advice_text(r: pd.Series) -> tuple[str, str]:
    """The school the estate must provide, expand or share (see :func:`_advise`)."""
    lv, zh_lv, en_lv = r["level"], LEVEL_ZH[r["level"]], LEVEL_EN[r["level"]]
    size, planned, need = r["class_size"], int(r["classes_planned"]), int(r["classes_needed"])
    std = "建标175-2016" if lv == "kindergarten" else "建标109-2008"
    joint_zh = joint_en = ""
    if pd.notna(r["joint_estates"]) and r["joint_classes"] >= r["min_classes"]:
        mates = r["joint_estates"].replace(";", "、")
        joint_zh = (f"与相邻小区 {mates} 联合配建{zh_lv}（合计缺 {r['joint_seats']:.0f} 个学位，"
                    f"{r['joint_classes']:.0f} 班）")
        joint_en = (f"provide a {en_lv} school jointly with the neighbouring estate(s) "
                    f"{r['joint_estates'].replace(';', ', ')} ({r['joint_seats']:.0f} seats short together, "
                    f"{r['joint_classes']:.0f} classes)")
    if r["advice"] == "build":
        zh = f"须配建{zh_lv} {planned} 班（{size:.0f} 人/班，学位 {planned * size:,.0f} 个）"
        en = (f"the estate must provide a {en_lv} school of {planned} classes ({size:.0f} per class, "
              f"{planned * size:,.0f} seats)")
        if r["schools_needed"] > 1:
            zh += f"，超过单校 {r['max_classes']:.0f} 班上限，需 {r['schools_needed']:.0f} 所"
            en += f", above the {r['max_classes']:.0f}-class cap: {r['schools_needed']:.0f} schools"
    elif r["advice"] == "expand":
        name = html_free(r["expand_school_name"])
        zh = (f"缺口不足一所{zh_lv}的最小规模（{r['min_classes']:.0f} 班，{std}）：须扩建{name}"
              f"（{r['expand_school_id']}）{r['short_by']} 个学位（{need} 班）")
        en = (f"too few for a {en_lv} school of the smallest size ({r['min_classes']:.0f} classes, {std}): "
              f"expand {name} ({r['expand_school_id']}) by {r['short_by']} seats ({need} "
              f"class{'' if need == 1 else 'es'})")
        if joint_zh:
            zh, en = f"{zh}，或{joint_zh}", f"{en}, or {joint_en}"
    elif r["advice"] == "joint":
        zh, en = f"须{joint_zh}", f"the estate must {joint_en}"
    else:
        zh = (f"半径内无可扩建的{zh_lv}：须配建最小规模{zh_lv} {planned} 班（{std}，学位 "
              f"{planned * size:,.0f} 个，多于缺口）")
        en = (f"no {en_lv} school within the radius to expand: the estate must provide a {en_lv} school "
              f"of the smallest size, {planned} classes ({std}; {planned * size:,.0f} seats, more than the gap)")
        if pd.notna(r["joint_estates"]):
            zh += (f"；可与相邻小区 {r['joint_estates'].replace(';', '、')} 统筹"
                   f"（合计缺 {r['joint_seats']:.0f} 个学位）")
            en += (f"; or plan it with the neighbouring estate(s) {r['joint_estates'].replace(';', ', ')} "
                   f"({r['joint_seats']:.0f} seats short together)")
    if r["public_required"]:
        zh += "，须举办为公办园"
        en += ", run as a public kindergarten"
    return zh + "。", en + "."


def html_free(v: Any) -> str:
    """A name as plain text (``–`` when missing)."""
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else str(v)


def _message(r: pd.Series, s: Settings) -> tuple[str, str]:
    lv = r["level"]
    radius = f"{r['radius_m']:g}"
    w_zh, w_en = _seat_word(lv)
    if r["schools_within_radius"]:
        where_zh = f"服务半径 {radius} 米（步行）内有 {r['schools_within_radius']} 所{LEVEL_ZH[lv]}"
        where_en = f"{r['schools_within_radius']} {LEVEL_EN[lv]} school(s) within the {radius} m walking radius"
    elif pd.notna(r["nearest_distance_m"]):
        nearest = number_text(r["nearest_distance_m"])
        where_zh = f"服务半径 {radius} 米内无{LEVEL_ZH[lv]}（最近的步行 {nearest} 米）"
        where_en = f"no {LEVEL_EN[lv]} school within {radius} m (the nearest is {nearest} m away by road)"
    else:
        where_zh, where_en = f"附近无可达的{LEVEL_ZH[lv]}", f"no {LEVEL_EN[lv]} school within reach"
    left = number_text(r["seats_left_before"])
    zh = f"{LEVEL_ZH[lv]}：新增{w_zh} {r['pupils']:.0f} 人；{where_zh}，半径内剩余学位 {left} 个"
    en = f"{LEVEL_EN[lv].capitalize()}: {r['pupils']:.0f} new {w_en}; {where_en}, {left} seats left within it"
    if r["public_required"]:
        zh += "（本县规定新建居住区配套幼儿园须为公办园，仅计公办园学位）"
        en += " (the county requires new estates' kindergartens to be public: only public seats count)"
    if r["verdict"] == "served":
        zh += f"，接收后剩余 {number_text(r['seats_left_after'])} 个：可满足。"
        en += f", {number_text(r['seats_left_after'])} after this estate: served."
    elif r["verdict"] == "beyond_radius":
        name = html_free(r["beyond_school_name"])
        zh += (f"，缺 {r['short_by']} 个学位；{name} 步行 {number_text(r['beyond_distance_m'])} 米"
               f"（超出服务半径 {radius} 米）尚有 {number_text(r['seats_beyond'])} 个学位：不符合服务半径要求。")
        en += (f"; {r['short_by']} seats short within the radius; {name} is "
               f"{number_text(r['beyond_distance_m'])} m away by road (beyond the {radius} m radius) with "
               f"{number_text(r['seats_beyond'])} seats left: not compliant with the service radius.")
    else:
        zh += f"，缺 {r['short_by']} 个学位：学位不足。"
        en += f"; short by {r['short_by']} seats."
    if r["verdict"] != "served":
        a_zh, a_en = _advice_text(r)
        zh += a_zh
        en += " " + a_en[0].upper() + a_en[1:]
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
    if isinstance(r.get("phase_zh"), str):
        zh += " " + r["phase_zh"]
        en += " " + r["phase_en"]
    return zh, en


def _phases(est: gpd.GeoDataFrame, s: Settings, levels: list[str]) -> pd.DataFrame:
    """Residents and children at the rate per 1,000 residents, cumulative by delivery year."""
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
                            for lv in levels}})
    out = pd.DataFrame(rows, columns=["estate_id", "delivery_year", "residents",
                                      *[f"pupils_{lv}" for lv in levels]])
    out["delivery_year"] = pd.array(pd.to_numeric(out["delivery_year"]).round(), dtype="Int64")
    return out

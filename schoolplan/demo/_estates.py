"""SYNTHETIC housing estates for the demo county's estate school review (schoolplan.siting)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from schoolplan.demo._geography import METRIC_CRS
from schoolplan.demo._serialise import geojson_bytes
from schoolplan.outputs.files import atomic_write

if TYPE_CHECKING:
    from schoolplan.demo.generate import DemoCounty

__all__ = ["ESTATE_FILE", "write_estates"]

ESTATE_FILE = "estates/demo_estates_synthetic.geojson"


def _primary_free_seats(demo: DemoCounty) -> pd.Series:
    """Primary seats left per school today: seats minus the ledger's grade 1-6 pupils (the
    calibrated picture reproduces the ledger; used only to size the demo estates)."""
    s = demo.schools[demo.schools["level"].isin(["primary", "nine_year"])]
    primary = s[[f"enrollment_g{g}" for g in range(1, 7)]].astype(float).sum(axis=1).to_numpy()
    share = np.where(s["level"] == "nine_year", 6 / 9, 1.0)
    seats = s["seats"].astype(float).fillna(s["classes"].astype(float) * 45).to_numpy() * share
    return pd.Series(seats - primary, index=s["school_id"].to_numpy())


def write_estates(out_dir: Path | str, seed: int, *, demo: DemoCounty) -> Path:
    """Write SYNTHETIC housing estates in the demo county seat and a proposed school site.

    Three estates (polygons) near urban primary schools, sized from the seats those schools have
    left today (seats minus the ledger's pupils): ``DEMO-E1`` near the school with
    the most seats left (served), ``DEMO-E2`` and ``DEMO-E3`` on two sides of a school with few
    seats left (they compete for them: E2 is served, E3 is short), and a proposed primary school
    parcel ``DEMO-S1`` for E3 (``kind`` = ``site``). Each estate lies more than 650 m in a
    straight line from every other primary school, so its own school is the only one within the
    500 m walking radius. Written to ``estates/demo_estates_synthetic.geojson``; same seed, same
    bytes.
    """
    to_m = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    free = _primary_free_seats(demo)
    s = demo.schools[demo.schools["level"].isin(["primary", "nine_year"])].set_index("school_id")
    sxy = dict(zip(s.index, np.column_stack(to_m.transform(s["lon"].to_numpy(), s["lat"].to_numpy())), strict=True))
    urban = [i for i in s.index if s.at[i, "area_type"] == "urban" and s.at[i, "level"] == "primary"]
    nodes = np.array([(d["x"], d["y"]) for _, d in sorted(demo.roads.nodes(data=True))])
    nxy = np.column_stack(to_m.transform(nodes[:, 0], nodes[:, 1]))

    def spots(school: str) -> np.ndarray:
        """Road nodes 150-320 m from ``school`` and over 650 m from every other one."""
        d_own = np.hypot(*(nxy - sxy[school]).T)
        others = np.array([sxy[o] for o in s.index if o != school])
        d_other = cKDTree(others).query(nxy)[0]
        return np.flatnonzero((d_own > 150) & (d_own < 320) & (d_other > 650))

    ranked = sorted(urban, key=lambda i: (-free[i], i))
    served = next(i for i in ranked if len(spots(i)))
    pool = [i for i in urban if i != served and len(spots(i)) >= 2]
    enough = [i for i in pool if free[i] >= 100]  # few seats left, but some to compete for
    shared = (min(enough, key=lambda i: (free[i], i)) if enough
              else max(pool, key=lambda i: (free[i], i)))
    a = spots(served)[0]
    cand = spots(shared)
    angle = np.arctan2(*(nxy[cand] - sxy[shared]).T[::-1])
    b = cand[0]
    c = cand[int(np.argmax(np.abs(np.angle(np.exp(1j * (angle - angle[0]))))))]
    rate, pph = 40.0 / 1000.0, 2.8  # the default settings: pupils per resident, persons per household

    def households(pupils: float) -> int:
        return round(pupils / rate / pph / 10.0) * 10

    def block(xy: np.ndarray, w: float, h: float) -> Polygon:
        x, y = xy
        return Polygon([(x - w / 2, y - h / 2), (x + w / 2, y - h / 2), (x + w / 2, y + h / 2),
                        (x - w / 2, y + h / 2)])

    half = max(float(free[shared]) / 2.0, 60.0)
    away = nxy[c] + 180.0 * (nxy[c] - sxy[shared]) / np.hypot(*(nxy[c] - sxy[shared]))
    rows: list[tuple[Any, ...]] = [
        ("estate", "DEMO-E1", "锦园小区（合成）", households(min(0.3 * free[served], 150.0)), 2026,
         None, None, None, None, block(nxy[a], 220, 180)),
        ("estate", "DEMO-E2", "翠湖花园（合成）", households(half), 2026, None, None, None, None,
         block(nxy[b], 200, 160)),
        ("estate", "DEMO-E3", "书香名邸（合成）", households(half + 120.0), 2028, None, None, None,
         None, block(nxy[c], 240, 200)),
        ("site", "DEMO-S1", "书香名邸配套小学用地（合成）", None, None, None, "DEMO-E3", "小学", 12,
         block(away, 120, 100)),
    ]
    e3 = rows[2]
    rows[2] = (*e3[:5], f"2027:{e3[3] // 2};2028:{e3[3] - e3[3] // 2}", *e3[6:])

    def wgs(poly: Polygon) -> Polygon:
        geom = shapely.transform(poly, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
        return shapely.transform(geom, lambda xy: np.round(xy, 6))

    gdf = gpd.GeoDataFrame(pd.DataFrame(
        [{"kind": k, "id": i, "name": n, "households": h, "delivery_year": y, "phases": p,
          "for_estate": e, "level": lv, "classes": cl, "synthetic": True}
         for k, i, n, h, y, p, e, lv, cl, _ in rows], dtype=object),
        geometry=[wgs(r[-1]) for r in rows], crs="EPSG:4326")
    path = Path(out_dir) / ESTATE_FILE
    atomic_write(path, geojson_bytes(gdf, "demo_estates_synthetic", seed))
    return path

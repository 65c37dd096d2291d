"""Coordinate systems used in China, and the metric CRS analyses run in.

Every input declares its coordinate system explicitly:

* ``wgs84`` — GPS, OpenStreetMap (EPSG:4326);
* ``cgcs2000`` — official natural-resources data: geographic EPSG:4490, or a projected
  Gauss–Krüger code given as ``EPSG:4548`` etc. (treated as the same datum as WGS-84: they differ
  by centimetres);
* ``gcj02`` — 高德 Amap / Tencent web-map coordinates (WGS-84 plus a non-linear offset, about
  510 m east in Liaocheng);
* ``bd09`` — 百度 Baidu coordinates (a further offset on top of GCJ-02);
* any ``EPSG:<code>`` PROJ knows.

GCJ-02 and BD-09 are not in PROJ: this module converts them to WGS-84 itself with the published
algorithm (forward transform; inverse by fixed-point iteration to below 1e-9 degrees, i.e. a few
millimetres). Outside mainland China the offset is zero, as in the published algorithm.

Analyses run in a metric CRS chosen for the area (:func:`metric_crs_for`: the UTM zone of the
data's centre, EPSG:32650 for Liaocheng); results go back in WGS-84.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError

from schoolplan.errors import CoordinateSystemError

__all__ = [
    "CHINA_BOUNDS",
    "NAMED_SYSTEMS",
    "CoordinateSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "metric_crs_for",
    "parse_coordinate_system",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CoordinateSystem = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
NAMED_SYSTEMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: Rough bounding box (lon_min, lat_min, lon_max, lat_max) used by the published GCJ-02
#: algorithm to decide where the offset applies; also used to check Chinese inputs.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs 84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "gps": "wgs84", "osm": "wgs84",
    "cgcs2000": "cgcs2000", "cgcs 2000": "cgcs2000", "epsg:4490": "cgcs2000", "4490": "cgcs2000",
    "2000": "cgcs2000", "国家2000": "cgcs2000",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "高德": "gcj02",
    "tencent": "gcj02", "腾讯": "gcj02", "火星坐标": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "百度": "bd09",
}


def parse_coordinate_system(value: str | int | None) -> tuple[str, CRS]:
    """Parse a declared coordinate system.

    Returns
    -------
    name, crs
        ``name`` is ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or ``epsg:<code>``; ``crs`` is the
        pyproj CRS the coordinates are stored in (EPSG:4326 for GCJ-02 and BD-09: lon/lat degrees
        that still need :func:`to_wgs84`).
    """
    if value is None:
        return "wgs84", CRS.from_epsg(4326)
    key = str(value).strip().lower()
    if key in _ALIASES:
        name = _ALIASES[key]
        return name, CRS.from_epsg(4490 if name == "cgcs2000" else 4326)
    try:
        crs = CRS.from_user_input(value if not key.isdigit() else int(key))
    except CRSError:
        raise CoordinateSystemError(
            f"coordinate system {value!r} is not known. Use one of {', '.join(NAMED_SYSTEMS)} "
            "or an EPSG code such as EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E)."
        ) from None
    epsg = crs.to_epsg()
    if epsg == 4326:
        return "wgs84", crs
    if epsg == 4490:
        return "cgcs2000", crs
    return f"epsg:{epsg}" if epsg else crs.to_string(), crs


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def in_china(lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
    """True where a point lies in the box the GCJ-02 algorithm applies its offset in."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lo0, la0, lo1, la1 = CHINA_BOUNDS
    return (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return np.atleast_1d(np.asarray(lon, dtype=float)), np.atleast_1d(np.asarray(lat, dtype=float))


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 transform (degrees in, degrees out); no offset outside China."""
    lon, lat = _as_arrays(lon, lat)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, *, tol_deg: float = 1e-10, max_iter: int = 30):
    """Inverse GCJ-02 by fixed-point iteration (residual below ``tol_deg`` degrees)."""
    glon, glat = _as_arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = flon - glon, flat - glat
        wlon = wlon - dlon
        wlat = wlat - dlat
        finite = np.isfinite(dlon) & np.isfinite(dlat)
        if not finite.any() or np.nanmax(np.abs(np.r_[dlon[finite], dlat[finite]])) < tol_deg:
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to BD-09 (Baidu's published transform)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """BD-09 to GCJ-02 (inverse of :func:`gcj02_to_bd09`, the published approximation)."""
    bx, by = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon, lat):
    """WGS-84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat degrees in ``system`` (wgs84, cgcs2000, gcj02, bd09) to WGS-84."""
    if system in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise CoordinateSystemError(f"cannot convert from {system!r} with to_wgs84; use pyproj")


def from_wgs84(lon, lat, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 lon/lat degrees to ``system`` (wgs84, cgcs2000, gcj02, bd09)."""
    if system in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if system == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if system == "bd09":
        return wgs84_to_bd09(lon, lat)
    raise CoordinateSystemError(f"cannot convert to {system!r} with from_wgs84; use pyproj")


def metric_crs_for(lon, lat) -> CRS:
    """The UTM zone (WGS-84) around the median of the given WGS-84 points, e.g. EPSG:32650.

    UTM keeps scale error below 0.04 % within a zone; a prefecture the size of Liaocheng
    (115.3–116.6°E) fits zone 50 with its edge at 114°E.
    """
    lon, lat = _as_arrays(lon, lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise CoordinateSystemError("no valid coordinates to choose a metric CRS from")
    mlon, mlat = float(np.median(lon[ok])), float(np.median(lat[ok]))
    zone = int((mlon + 180) // 6) + 1
    zone = min(max(zone, 1), 60)
    return CRS.from_epsg((32600 if mlat >= 0 else 32700) + zone)

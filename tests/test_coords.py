import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from schoolplan import coords
from schoolplan.errors import CoordinateSystemError

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_published_reference_values():
    # wandergis/coordtransform README (widely used reference vectors), Tiananmen 116.404, 39.915
    lon, lat = coords.wgs84_to_gcj02(116.404, 39.915)
    assert lon[0] == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat[0] == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = coords.gcj02_to_bd09(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)
    lon, lat = coords.bd09_to_gcj02(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-12)


def test_round_trips_within_a_metre_over_china():
    rng = np.random.default_rng(1)
    lon = rng.uniform(74, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, *back)) < 0.01
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert np.max(_metres(lon, lat, *back)) < 1.0


def test_offset_in_liaocheng_is_about_510_m_east():
    lon, lat = coords.wgs84_to_gcj02(115.98, 36.45)
    d = _metres(115.98, 36.45, lon[0], lat[0])
    assert 450 < d < 600 and lon[0] > 115.98


def test_no_offset_outside_china():
    lon, lat = coords.wgs84_to_gcj02(-5.93, 54.6)  # Belfast
    assert (lon[0], lat[0]) == (-5.93, 54.6)


def test_metric_crs_for_liaocheng_is_utm_50n():
    assert coords.metric_crs_for([115.6, 116.2], [36.3, 36.8]).to_epsg() == 32650


@pytest.mark.parametrize("value, name", [("wgs84", "wgs84"), ("GCJ-02", "gcj02"), ("百度", "bd09"),
                                         ("EPSG:4490", "cgcs2000"), ("EPSG:4548", "epsg:4548"),
                                         (None, "wgs84")])
def test_parse_coordinate_system(value, name):
    assert coords.parse_coordinate_system(value)[0] == name


def test_unknown_coordinate_system_names_the_choices():
    with pytest.raises(CoordinateSystemError, match="wgs84, cgcs2000, gcj02, bd09"):
        coords.parse_coordinate_system("mars")


def test_real_town_points_gcj02_match_their_published_wgs84_conversion(shared_data):
    towns = pd.read_csv(shared_data / "liaocheng" / "liaocheng_towns_vonng_2016.csv").dropna(
        subset=["lon_gcj02"])
    assert len(towns) == 109
    lon, lat = coords.gcj02_to_wgs84(towns["lon_gcj02"], towns["lat_gcj02"])
    d = _metres(lon, lat, towns["lon_wgs84"].values, towns["lat_wgs84"].values)
    assert np.max(d) < 2.0


def test_real_county_polygons_gcj02_match_wgs84_twin(shared_data):
    from schoolplan.io import read_towns

    base = shared_data / "liaocheng"
    gcj = read_towns(base / "liaocheng_counties_amap_cnmaps_gcj02.geojson",
                     coordinate_system="gcj02", columns={"town_code": "adcode", "town": "name"})
    wgs = read_towns(base / "liaocheng_counties_amap_cnmaps_wgs84.geojson",
                     columns={"town_code": "adcode", "town": "name"})
    assert len(gcj) == len(wgs) == 8
    a = np.concatenate([np.asarray(g.exterior.coords) for geom in gcj.geometry for g in geom.geoms])
    b = np.concatenate([np.asarray(g.exterior.coords) for geom in wgs.geometry for g in geom.geoms])
    assert a.shape == b.shape
    assert np.max(_metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1])) < 2.0
    raw = json.loads((base / "liaocheng_counties_amap_cnmaps_gcj02.geojson").read_text())
    assert {f["properties"]["name"] for f in raw["features"]} == set(gcj["town"])

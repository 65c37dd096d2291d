"""Issue 16, roads: Web Mercator layers measured in true metres, the file's own from/to topology
and one-way column, grade separation of limited-access classes, and invalid lengths refused."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from schoolplan.errors import NetworkError
from schoolplan.network import network_from_lines
from schoolplan.network.roads import GradeSeparationWarning

UTM50 = "EPSG:32650"
# a Liaocheng-like origin in UTM 50N (about 116.0E, 36.45N)
X0, Y0 = 410_000.0, 4_035_000.0


def dist(net, a, b) -> float:
    d = dijkstra(net.matrix(), indices=[a])[0]
    return float(d[b])


def node_near(net, x, y) -> int:
    return int(np.argmin(np.hypot(net.x - x, net.y - y)))


def frame(rows: dict, crs=UTM50) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, crs=crs)


def test_web_mercator_layer_is_measured_in_true_metres():
    # a 1,000 m road in UTM, written out in EPSG:3857 (whose "metres" are 1/cos(lat) too long)
    road = LineString([(X0, Y0), (X0 + 1000.0, Y0)])
    merc = gpd.GeoSeries([road], crs=UTM50).to_crs(3857)
    lat = gpd.GeoSeries([road], crs=UTM50).to_crs(4326).iloc[0].coords[0][1]
    assert merc.length.iloc[0] == pytest.approx(1000 / math.cos(math.radians(lat)), rel=0.01)
    net = network_from_lines(gpd.GeoDataFrame(geometry=merc))
    assert net.crs.to_epsg() == 32650
    assert net.length_m.sum() / 2 == pytest.approx(1000.0, abs=1.0)


def test_gauss_kruger_layer_is_kept_in_its_own_crs():
    road = gpd.GeoSeries([LineString([(X0, Y0), (X0 + 1000.0, Y0)])], crs=UTM50).to_crs(4548)
    net = network_from_lines(gpd.GeoDataFrame(geometry=road))
    assert net.crs.to_epsg() == 4548
    assert net.length_m.sum() / 2 == pytest.approx(1000.0, abs=1.0)


def _interchange(**extra):
    """A motorway (west-east) over a county road (south-north), crossing at (X0+500, Y0) with a
    shared vertex, and a ramp from the county road's south end up to the motorway's vertex at
    (X0+800, Y0)."""
    return frame({
        "geometry": [
            LineString([(X0, Y0), (X0 + 500, Y0), (X0 + 800, Y0), (X0 + 1000, Y0)]),
            LineString([(X0 + 500, Y0 - 500), (X0 + 500, Y0), (X0 + 500, Y0 + 500)]),
            LineString([(X0 + 500, Y0 - 500), (X0 + 800, Y0)]),
        ],
        "等级": ["高速公路", "县道", "匝道"],
        **extra,
    })


def test_limited_access_roads_do_not_join_where_they_cross():
    with pytest.warns(GradeSeparationWarning, match="1 crossing"):
        net = network_from_lines(_interchange(), road_class_column="等级")
    west = node_near(net, X0, Y0)
    north = node_near(net, X0 + 500, Y0 + 500)
    # no junction at the crossing: west end -> ramp (800 m along) -> down the ramp -> north
    ramp = math.hypot(300, 500)
    assert dist(net, west, north) == pytest.approx(800 + ramp + 1000, abs=0.01)


def test_layer_columns_switch_the_class_rule_off():
    g = _interchange(layer=[0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = network_from_lines(g, road_class_column="等级")
    assert dist(net, node_near(net, X0, Y0), node_near(net, X0 + 500, Y0 + 500)) == pytest.approx(1000)


def test_file_topology_from_node_columns_and_one_way_for_driving():
    # a navigation-style layer: FNODE_/TNODE_ columns, a one-way link and a flyover that
    # crosses road 2 without a node
    g = frame({
        "geometry": [
            LineString([(X0, Y0), (X0 + 1000, Y0)]),             # 1 -> 2, one-way
            LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 1000)]),  # 2 -> 3
            LineString([(X0, Y0 + 1000), (X0 + 1000, Y0 + 1000)]),  # 4 -> 3
            LineString([(X0 + 500, Y0 - 500), (X0 + 500, Y0 + 500)]),  # 5 -> 6, crosses link 1
        ],
        "FNODE_": [1, 2, 4, 5], "TNODE_": [2, 3, 3, 6], "ONEWAY": ["yes", "no", None, "no"],
    })
    walk = network_from_lines(g, mode="walk")
    drive = network_from_lines(g, mode="drive")
    a, b = node_near(walk, X0, Y0), node_near(walk, X0 + 1000, Y0)
    assert walk.n_nodes == 6  # no node inserted at the crossing of links 1 and 4
    assert dist(walk, b, a) == pytest.approx(1000)
    a, b = node_near(drive, X0, Y0), node_near(drive, X0 + 1000, Y0)
    assert dist(drive, a, b) == pytest.approx(1000)
    # driving back against the one-way link: round by 2 -> 3 -> 4, and no way from 4 to 1
    assert not np.isfinite(dist(drive, b, a))
    south = node_near(walk, X0 + 500, Y0 - 500)
    assert not np.isfinite(dist(walk, south, node_near(walk, X0, Y0)))


def test_direction_codes_of_navigation_data():
    g = frame({
        "geometry": [LineString([(X0, Y0), (X0 + 100, Y0)]), LineString([(X0 + 100, Y0), (X0 + 200, Y0)])],
        "snodeid": ["a", "b"], "enodeid": ["b", "c"], "direction": [3, 1],
    })
    drive = network_from_lines(g, mode="drive")
    a, c = node_near(drive, X0, Y0), node_near(drive, X0 + 200, Y0)
    assert dist(drive, c, a) == pytest.approx(200)
    assert not np.isfinite(dist(drive, a, c))


def test_blank_node_ids_and_nan_coordinates_are_refused():
    g = frame({"geometry": [LineString([(X0, Y0), (X0 + 100, Y0)])], "from_node": [None],
               "to_node": [2]})
    with pytest.raises(NetworkError, match="blank node id"):
        network_from_lines(g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns when it builds the line
        bad = frame({"geometry": [LineString([(X0, Y0), (np.nan, Y0)])]})
    with pytest.raises(NetworkError, match="NaN"):
        network_from_lines(bad)


def test_negative_lengths_are_refused_with_the_feature():
    from schoolplan.network._noding import check_lengths

    with pytest.raises(NetworkError, match=r"2 road edge\(s\).*7, 9"):
        check_lengths(np.array([1.0, -3.0, 2.0, np.nan]), np.array([5, 7, 8, 9]), "roads.gpkg")


def test_layer_without_crs_names_the_scenario_key_and_the_prj(tmp_path):
    path = tmp_path / "道路.shp"
    gpd.GeoDataFrame({"名称": ["聊阳路"]}, geometry=[LineString([(X0, Y0), (X0 + 10, Y0)])],
                     crs=UTM50).to_file(path, encoding="utf-8")
    path.with_suffix(".prj").unlink()
    with pytest.raises(NetworkError, match=r"道路\.prj is missing") as exc:
        network_from_lines(path, use_cache=False)
    assert "inputs.roads.coordinate_system" in str(exc.value) and "缺少 .prj" in str(exc.value)


def test_mercator_crs_transformer_sanity():
    # the check the module relies on: EPSG:3857 scale at 36.45N is about 1.24
    t = Transformer.from_crs(4326, 3857, always_xy=True)
    x1, _ = t.transform(116.0, 36.45)
    x2, _ = t.transform(116.01, 36.45)
    true = 0.01 * 111_320 * math.cos(math.radians(36.45))
    assert (x2 - x1) / true == pytest.approx(1 / math.cos(math.radians(36.45)), rel=0.01)


def test_private_estate_roads_are_walkable_but_not_drivable():
    from schoolplan.network._osm import way_allowed

    estate = {"highway": "service", "access": "private"}
    assert way_allowed(estate, "walk")
    assert not way_allowed(estate, "walk", private_residential_walk=False)
    assert not way_allowed(estate, "drive")
    assert not way_allowed({**estate, "foot": "no"}, "walk")
    assert not way_allowed({"highway": "track", "access": "private"}, "walk")  # farm tracks stay out

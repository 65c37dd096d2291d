"""Issue 16, item 5 (rest): a scenario's road file is read for the network mode (one-way columns
count for driving), the settings in force reach the line noder and the way filter, and graphs
with negative lengths are refused. Hand-made files of each shape."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from schoolplan.errors import NetworkError
from schoolplan.network import network_from_graph
from schoolplan.network.roads import GradeSeparationWarning
from schoolplan.scenario.run import load_roads
from schoolplan.schema import InputSpec
from schoolplan.settings import Settings

UTM50 = "EPSG:32650"
X0, Y0 = 460_000.0, 4_040_000.0


def _lines(tmp_path, rows: dict, name="roads.gpkg"):
    path = tmp_path / name
    gpd.GeoDataFrame(rows, crs=UTM50).to_file(path)
    return path


def _dist(net, a, b) -> float:
    from scipy.sparse.csgraph import dijkstra

    def node(x, y):
        return int(np.argmin(np.hypot(net.x - x, net.y - y)))

    return float(dijkstra(net.matrix(), indices=node(*a))[node(*b)])


def test_a_one_way_column_counts_for_driving_not_for_walking(tmp_path):
    # a one-way street A -> B (100 m) and a two-way detour B -> C -> A (300 m)
    a, b, c = (X0, Y0), (X0 + 100, Y0), (X0 + 50, Y0 + 141.4213562)
    path = _lines(tmp_path, {
        "from_node": [1, 2, 3], "to_node": [2, 3, 1], "oneway": ["yes", "no", "no"],
        "geometry": [LineString([a, b]), LineString([b, c]), LineString([c, a])]})
    spec = InputSpec(path=path, columns={"oneway": "oneway"})
    drive = load_roads(spec, mode="drive", settings=Settings())
    walk = load_roads(spec, mode="walk", settings=Settings())
    assert drive.mode == "drive" and walk.mode == "walk"
    assert _dist(drive, a, b) == pytest.approx(100.0)
    assert _dist(drive, b, a) == pytest.approx(300.0, abs=0.01)  # not against the one-way
    assert _dist(walk, b, a) == pytest.approx(100.0)


def test_the_grade_separation_setting_reaches_the_line_noder(tmp_path):
    # an expressway crossing a county road with no junction columns: by default they do not
    # meet where they cross; with the setting emptied they do
    path = _lines(tmp_path, {
        "等级": ["高速", "县道"],
        "geometry": [LineString([(X0 - 500, Y0), (X0 + 500, Y0)]),
                     LineString([(X0, Y0 - 500), (X0, Y0 + 500)])]})
    spec = InputSpec(path=path, columns={"road_class": "等级"})
    with pytest.warns(GradeSeparationWarning):
        default = load_roads(spec, mode="walk", settings=Settings())
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradeSeparationWarning)
        joined = load_roads(spec, mode="walk",
                            settings=Settings({"road_grade_separated_classes": "高架"}))
    assert joined.n_nodes == default.n_nodes + 1  # the crossing became a junction
    assert _dist(joined, (X0 - 500, Y0), (X0, Y0 + 500)) == pytest.approx(1000.0)
    assert not np.isfinite(_dist(default, (X0 - 500, Y0), (X0, Y0 + 500)))


def _graphml_with_an_estate_road(tmp_path):
    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_node(1, x=116.50, y=36.50)
    g.add_node(2, x=116.501, y=36.50)
    g.add_node(3, x=116.502, y=36.50)
    for u, v in ((1, 2), (2, 1)):
        g.add_edge(u, v, highway="residential", length=89.4, oneway="False")
    for u, v in ((2, 3), (3, 2)):  # inside a gated 小区
        g.add_edge(u, v, highway="service", access="private", length=89.4, oneway="False")
    path = tmp_path / "roads.graphml"
    nx.write_graphml(g, path)
    return path


def test_the_private_estate_road_setting_reaches_the_way_filter(tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    spec = InputSpec(path=_graphml_with_an_estate_road(tmp_path))
    kept = load_roads(spec, mode="walk", settings=Settings())
    dropped = load_roads(spec, mode="walk",
                         settings=Settings({"walk_private_residential_roads": False}))
    assert kept.n_nodes == 3 and dropped.n_nodes == 2  # the cache keys on the setting too


def test_a_graph_with_a_negative_length_is_refused_with_the_edge():
    g = nx.Graph(crs=UTM50)
    g.add_node(1, x=0.0, y=0.0)
    g.add_node(2, x=100.0, y=0.0)
    g.add_node(3, x=200.0, y=0.0)
    g.add_edge(1, 2, length=100.0)
    g.add_edge(2, 3, length=-5.0)
    with pytest.raises(NetworkError, match=r"negative.*2-3") as info:
        network_from_graph(g)
    assert "长度为负数" in str(info.value)
    g.edges[2, 3]["length"] = float("inf")  # (a NaN length is a missing one: computed)
    with pytest.raises(NetworkError, match="infinite"):
        network_from_graph(g)

"""Issue 16, item 13: points join the nearest point of the nearest road edge, which the travel
model splits virtually (the legs to both end nodes, one-way edges one way, two points on one
edge along it). Hand-made networks with answers worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from _split import split_graph
from shapely.geometry import LineString

from schoolplan import travel
from schoolplan.network import network_from_graph, network_from_lines, snap_xy
from schoolplan.settings import Settings

UTM50 = "EPSG:32650"


def net_from(edges, coords, *, directed=False, mode=None):
    g = nx.DiGraph(crs=UTM50) if directed else nx.Graph(crs=UTM50)
    for n, (x, y) in coords.items():
        g.add_node(n, x=x, y=y)
    for u, v, length in edges:
        g.add_edge(u, v, length=length, highway="residential")
    return network_from_graph(g, mode=mode)


@pytest.fixture
def long_edge():
    """1 (0, 0) --1000 m-- 2 (1000, 0) --500 m-- 3 (1000, 500)."""
    return net_from([(1, 2, 1000.0), (2, 3, 500.0)],
                    {1: (0.0, 0.0), 2: (1000.0, 0.0), 3: (1000.0, 500.0)}, mode="walk")


def test_a_point_beside_the_middle_of_a_long_edge_joins_it_there(long_edge):
    s = snap_xy(long_edge, np.array([[500.0, 20.0]]))
    assert s["snap_distance_m"].iloc[0] == pytest.approx(20.0)  # not 500.4 m to a node
    assert (s["road_x"].iloc[0], s["road_y"].iloc[0]) == pytest.approx((500.0, 0.0))
    # to a school at node 3: 20 m to the road, 500 m to node 2, 500 m up
    costs = travel.travel_costs(long_edge, np.array([[500.0, 20.0]]), np.array([[1000.0, 500.0]]))
    assert costs["distance_m"].iloc[0] == pytest.approx(1020.0)
    assert costs["from_snap_m"].iloc[0] == pytest.approx(20.0)
    near = travel.nearest(long_edge, np.array([[500.0, 20.0]]), np.array([[1000.0, 500.0]]))
    assert near["distance_m"].iloc[0] == pytest.approx(1020.0)


def test_two_points_on_one_edge_go_along_it(long_edge):
    homes = np.array([[500.0, 20.0], [100.0, -5.0]])
    schools = np.array([[800.0, -10.0], [1000.0, 400.0]])
    costs = travel.travel_costs(long_edge, homes, schools)
    got = {(int(r.from_id), int(r.to_id)): r.distance_m for r in costs.itertuples()}
    assert got[(0, 0)] == pytest.approx(20 + 300 + 10)  # along the edge, not via a node
    assert got[(1, 0)] == pytest.approx(5 + 700 + 10)
    assert got[(0, 1)] == pytest.approx(20 + 500 + 400)
    assert got[(1, 1)] == pytest.approx(5 + 900 + 400)
    near = travel.nearest(long_edge, homes, schools)
    assert near["to_id"].tolist() == [0, 0]
    assert near["distance_m"].tolist() == pytest.approx([330.0, 715.0])
    # a school before the home on the same edge: along it the other way (two-way edge)
    back = travel.travel_costs(long_edge, np.array([[800.0, 0.0]]), np.array([[200.0, 0.0]]))
    assert back["distance_m"].iloc[0] == pytest.approx(600.0)


def test_one_way_edge_for_driving_is_split_in_its_direction_only():
    # 1 -> 2 one-way along y = 0 (1000 m); the way back 2 -> 3 -> 1 (500 m + 700 m)
    net = net_from([(1, 2, 1000.0), (2, 3, 500.0), (3, 1, 700.0)],
                   {1: (0.0, 0.0), 2: (1000.0, 0.0), 3: (500.0, 400.0)}, directed=True,
                   mode="drive")
    assert not net.symmetric
    s = snap_xy(net, np.array([[800.0, 10.0]]))
    assert (s["edge_ab"].iloc[0] >= 0) != (s["edge_ba"].iloc[0] >= 0)  # one direction only
    flat = Settings({"bus_speed_kph_by_road_class": {"residential": 36.0, "other": 36.0}})
    home, school = np.array([[800.0, 10.0]]), np.array([[200.0, 0.0]])
    costs = travel.travel_costs(net, home, school, mode="bus", settings=flat)
    # forward to node 2 (200 m), round by 3 to 1 (1200 m), then 200 m to the school
    assert costs["distance_m"].iloc[0] == pytest.approx(10 + 200 + 1200 + 200)
    walk = 10 / flat["walk_speed_g4_9_mps"]
    assert costs["time_s"].iloc[0] == pytest.approx(walk + 1600 / 10.0)
    near = travel.nearest(net, home, school, mode="bus", settings=flat)
    assert near["distance_m"].iloc[0] == pytest.approx(1610.0)
    # the other way round the school lies ahead on the same edge: 600 m along it
    ahead = travel.travel_costs(net, school, home, mode="bus", settings=flat)
    assert ahead["distance_m"].iloc[0] == pytest.approx(600 + 10)
    assert travel.nearest(net, school, home, mode="bus", settings=flat)["distance_m"].iloc[0] \
        == pytest.approx(610.0)


def test_edge_snapping_equals_splitting_the_graph_for_real(long_edge):
    """Random points on a random grid: every distance equals networkx on the graph with the
    points' edges split at their positions (tests/test_travel.py builds that reference)."""
    rng = np.random.default_rng(16)
    h = nx.Graph(crs=UTM50)
    for i in range(12):
        for j in range(12):
            h.add_node(i * 12 + j, x=i * 120.0, y=j * 120.0)
    for i in range(12):
        for j in range(12):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 12 and j + dj < 12 and rng.random() < 0.8:
                    h.add_edge(i * 12 + j, (i + di) * 12 + j + dj, length=120 + rng.random() * 30,
                               highway="residential")
    h = h.subgraph(max(nx.connected_components(h), key=len)).copy()
    h.graph["crs"] = UTM50
    net = network_from_graph(h, mode="walk")
    homes, schools = rng.uniform(0, 1320, (30, 2)), rng.uniform(0, 1320, (8, 2))
    hs, ss = snap_xy(net, homes), snap_xy(net, schools)
    ref_graph = split_graph(h, net, {"h": hs, "s": ss})
    costs = travel.travel_costs(net, hs, ss)
    near = travel.nearest(net, hs, ss)
    for j in range(len(schools)):
        ref = nx.single_source_dijkstra_path_length(ref_graph, ("s", j), weight="length")
        got = costs[costs["to_id"] == j].set_index("from_id")["distance_m"]
        assert np.allclose(got.sort_index().to_numpy(), [ref[("h", i)] for i in range(len(homes))])
    best = costs.groupby("from_id")["distance_m"].min()
    assert np.allclose(near["distance_m"].to_numpy(), best.to_numpy())


def test_the_travel_cache_keys_on_the_position_along_the_edge(long_edge, tmp_path):
    school = snap_xy(long_edge, np.array([[1000.0, 500.0]]))
    runs = []
    for x in (500.0, 600.0):  # same snap distance (20 m), same nearest end, other position
        home = snap_xy(long_edge, np.array([[x, 20.0]]))
        runs.append(travel.pair_costs(long_edge, home, school, use_cache=True,
                                      cache_dir=tmp_path).long()["distance_m"].iloc[0])
    assert runs == pytest.approx([1020.0, 920.0])
    assert len(list(tmp_path.rglob("*.npz"))) == 2


def test_a_curved_line_with_its_own_nodes_is_snapped_to_as_drawn():
    # one road link from node 7 to node 9 bending at (500, 500): a point beside the bend is
    # 10 m from the road, not ~350 m from the chord between the link's ends
    link = LineString([(0, 0), (500, 500), (1000, 0)])
    lines = gpd.GeoDataFrame({"from_node": [7], "to_node": [9]}, geometry=[link], crs=UTM50)
    net = network_from_lines(lines)
    assert net.n_nodes == 3
    s = snap_xy(net, np.array([[500.0, 510.0]]))
    assert s["snap_distance_m"].iloc[0] == pytest.approx(10.0)
    costs = travel.travel_costs(net, np.array([[500.0, 510.0]]), np.array([[1000.0, 0.0]]))
    assert costs["distance_m"].iloc[0] == pytest.approx(10 + 500 * np.sqrt(2))

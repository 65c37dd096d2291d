"""Tests of schoolplan.travel: exact costs on hand-made graphs, cut-offs, k-nearest, re-assignment."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from _split import split_graph
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st
from shapely.geometry import Point

from schoolplan.errors import NetworkError
from schoolplan.network import network_from_graph
from schoolplan.settings import Settings
from schoolplan.travel import (
    Reassigner,
    edge_speed_kph,
    nearest,
    straight_line_costs,
    travel_costs,
)

UTM50 = "EPSG:32650"


def graph(edges, coords, *, directed=False):
    g = nx.DiGraph(crs=UTM50) if directed else nx.Graph(crs=UTM50)
    for n, (x, y) in coords.items():
        g.add_node(n, x=x, y=y)
    for e in edges:
        u, v, length = e[:3]
        attrs = e[3] if len(e) > 3 else {}
        g.add_edge(u, v, length=length, **{"highway": "residential", **attrs})
    return g


@pytest.fixture
def line3():
    """Three nodes on a line: 1 --100 m-- 2 --50 m-- 3."""
    return network_from_graph(graph([(1, 2, 100.0), (2, 3, 50.0)],
                                    {1: (0, 0), 2: (100, 0), 3: (150, 0)}))


def one(costs, a, b):
    row = costs[(costs["from_id"] == a) & (costs["to_id"] == b)]
    assert len(row) == 1
    return row.iloc[0]


def test_three_node_graph_exact_distances_and_times_by_mode(line3):
    homes = np.array([[0, 10.0]])  # 10 m north of node 1
    schools = np.array([[150, 0.0], [100, 0.0]])
    walk = travel_costs(line3, homes, schools, mode="walk_g1_3")
    r = one(walk, 0, 0)
    assert r["distance_m"] == pytest.approx(160.0)  # 10 m snap + 150 m road
    assert r["time_s"] == pytest.approx(160.0 / 0.8)
    assert r["from_snap_m"] == pytest.approx(10) and r["to_snap_m"] == 0
    assert r["status"] == "ok" and not r["estimate"] and r["mode"] == "walk_g1_3"
    assert one(walk, 0, 1)["distance_m"] == pytest.approx(110.0)
    assert list(walk["to_id"]) == [1, 0]  # sorted by cost
    g49 = travel_costs(line3, homes, schools, mode="walk_g4_9")
    assert one(g49, 0, 0)["time_s"] == pytest.approx(160.0)
    bike = travel_costs(line3, homes, schools, mode="bicycle")
    assert one(bike, 0, 0)["time_s"] == pytest.approx(160.0 / (12 / 3.6))
    slow = travel_costs(line3, homes, schools, mode="walk_g4_9",
                        settings=Settings({"walk_speed_g4_9_mps": 0.5}))
    assert one(slow, 0, 0)["time_s"] == pytest.approx(320.0)


def test_one_way_street_distance_depends_on_direction():
    coords = {1: (0, 0), 2: (100, 0), 3: (50, 80)}
    g = graph([(1, 2, 100.0), (2, 3, 95.0), (3, 1, 95.0)], coords, directed=True)
    net = network_from_graph(g, mode="drive")
    a, b = np.array([[0.0, 0.0]]), np.array([[100.0, 0.0]])
    assert travel_costs(net, a, b, mode="walk_g4_9")["distance_m"].iloc[0] == 100.0
    assert travel_costs(net, b, a, mode="walk_g4_9")["distance_m"].iloc[0] == 190.0
    # many origins, one school: the search runs from the school on the reversed graph
    homes = np.array([[0.0, 0.0], [50.0, 80.0]])
    back = travel_costs(net, homes, b)
    assert back["distance_m"].tolist() == [100.0, 195.0]  # 3 -> 1 -> 2
    near = nearest(net, homes, b)
    assert near["distance_m"].tolist() == [100.0, 195.0]


def test_two_components_are_reported_not_infinite():
    coords = {1: (0, 0), 2: (100, 0), 3: (200, 0), 10: (1000, 0), 11: (1100, 0)}
    net = network_from_graph(graph([(1, 2, 100.0), (2, 3, 100.0), (10, 11, 100.0)], coords))
    homes = np.array([[0, 0.0], [1100, 0.0]])  # the second lies on the small island
    costs = travel_costs(net, homes, np.array([[200, 0.0]]))
    assert len(costs) == 2 and np.isfinite(costs["distance_m"]).all()
    island = one(costs, 1, 0)
    assert island["status"] == "off_main_component"
    assert island["distance_m"] == pytest.approx(900 + 0)  # joined to node 3 by a 900 m leg
    near = nearest(net, homes, np.array([[200, 0.0]]))
    assert near["status"].tolist() == ["ok", "off_main_component"]


def test_far_point_is_flagged_too_far_with_its_long_snap_leg(line3):
    costs = travel_costs(line3, np.array([[0, 20_000.0]]), np.array([[150, 0.0]]))
    r = costs.iloc[0]
    assert r["status"] == "too_far" and r["distance_m"] == pytest.approx(20_000 + 150)


def test_cutoff_and_k_nearest(line3):
    homes = np.array([[0, 0.0], [150, 0.0]])
    schools = np.array([[0, 0.0], [100, 0.0], [150, 0.0]])
    cut = travel_costs(line3, homes, schools, cutoff_m=100)
    assert set(zip(cut["from_id"], cut["to_id"], strict=True)) == {(0, 0), (0, 1), (1, 1), (1, 2)}
    k1 = travel_costs(line3, homes, schools, k=1)
    assert k1["to_id"].tolist() == [0, 2] and k1["distance_m"].tolist() == [0, 0]
    k2 = travel_costs(line3, homes, schools, k=2, cutoff_m=60)
    assert set(zip(k2["from_id"], k2["to_id"], strict=True)) == {(0, 0), (1, 2), (1, 1)}
    none = nearest(line3, np.array([[0, 0.0]]), np.array([[150, 0.0]]), cutoff_m=100)
    assert none["status"].iloc[0] == "none_within_cutoff" and pd.isna(none["to_id"].iloc[0])
    with pytest.raises(NetworkError, match="k"):
        travel_costs(line3, homes, schools, k=0)


def test_nearest_counts_the_school_snap_leg():
    # school A lies 80 m off the road near the home; school B on the road 60 m away
    net = network_from_graph(graph([(1, 2, 60.0)], {1: (0, 0), 2: (60, 0)}))
    near = nearest(net, np.array([[0, 0.0]]), np.array([[0, 80.0], [60, 0.0]]))
    assert near["to_id"].iloc[0] == 1 and near["distance_m"].iloc[0] == pytest.approx(60)


def test_bus_takes_the_fastest_path_and_reports_its_length():
    # 1 -> 2 directly: 1,000 m of track (15 km/h); or via 3: 2 x 800 m of primary (50 km/h)
    coords = {1: (0, 0), 2: (1000, 0), 3: (500, 600)}
    g = graph([(1, 2, 1000.0, {"highway": "track"}), (1, 3, 800.0, {"highway": "primary"}),
               (3, 2, 800.0, {"highway": "primary"})], coords)
    net = network_from_graph(g)
    a, b = np.array([[0, 0.0]]), np.array([[1000, 0.0]])
    bus = travel_costs(net, a, b, mode="bus").iloc[0]
    assert bus["time_s"] == pytest.approx(1600 / (50 / 3.6))
    assert bus["distance_m"] == pytest.approx(1600)
    walk = travel_costs(net, a, b, mode="walk_g4_9").iloc[0]
    assert walk["distance_m"] == pytest.approx(1000)
    nb = nearest(net, a, b, mode="bus").iloc[0]
    assert nb["distance_m"] == pytest.approx(1600) and nb["time_s"] == pytest.approx(bus["time_s"])
    # a posted maxspeed overrides the class speed
    g2 = graph([(1, 2, 1000.0, {"highway": "track", "maxspeed": "60"}),
                (1, 3, 800.0, {"highway": "primary"}), (3, 2, 800.0, {"highway": "primary"})],
               coords)
    net2 = network_from_graph(g2)
    assert sorted(set(edge_speed_kph(net2))) == [50.0, 60.0]
    assert travel_costs(net2, a, b, mode="bus")["distance_m"].iloc[0] == pytest.approx(1000)


def test_od_equals_networkx_on_a_random_grid_and_workers_agree():
    rng = np.random.default_rng(7)
    g = nx.grid_2d_graph(30, 30)
    h = nx.Graph(crs=UTM50)
    for (i, j) in g.nodes:
        h.add_node(i * 30 + j, x=i * 100.0, y=j * 100.0)
    for (a, b) in g.edges:
        if rng.random() < 0.85:
            h.add_edge(a[0] * 30 + a[1], b[0] * 30 + b[1], length=100 + rng.random() * 50,
                       highway="residential")
    net = network_from_graph(h)
    homes = rng.uniform(0, 2900, (40, 2))
    schools = rng.uniform(0, 2900, (12, 2))
    one_proc = travel_costs(net, homes, schools, batch_size=5)
    two_proc = travel_costs(net, homes, schools, batch_size=5, workers=2)
    pd.testing.assert_frame_equal(one_proc, two_proc)
    from schoolplan.network import snap

    hs, ss = snap(net, homes), snap(net, schools)
    split = split_graph(h, net, {"h": hs, "s": ss})
    for j in range(len(schools)):
        ref = nx.single_source_dijkstra_path_length(split, ("s", j), weight="length")
        got = one_proc[one_proc["to_id"] == j].set_index("from_id")["distance_m"]
        for i in range(len(homes)):
            assert got[i] == pytest.approx(ref[("h", i)], abs=1e-6)
    near = nearest(net, homes, schools)
    best = one_proc.groupby("from_id")["distance_m"].min()
    assert np.allclose(near["distance_m"].to_numpy(), best.to_numpy())


def test_reassignment_after_closing_schools(line3):
    homes = np.array([[0, 0.0], [150, 0.0], [100, 0.0]])
    schools = np.array([[0, 0.0], [100, 0.0], [150, 0.0]])
    costs = travel_costs(line3, homes, schools, k=2, cutoff_m=120)
    r = Reassigner.from_costs(costs, origins=[0, 1, 2, 99])
    base = r.assign()
    assert base.loc[[0, 1, 2], "to_id"].tolist() == [0, 2, 1]
    assert bool(base.loc[99, "lost_all"])  # no candidate at all
    after = r.assign(closed=[1])
    assert after.loc[2, "to_id"] == 2 and after.loc[2, "distance_m"] == pytest.approx(50)
    assert after.loc[2, "rank"] == 1
    gone = r.assign(closed=[0, 1])
    assert bool(gone.loc[0, "lost_all"]) and pd.isna(gone.loc[0, "distance_m"])
    assert gone.loc[1, "to_id"] == 2


def test_straight_line_fallback_is_marked_as_estimate():
    # near Liaocheng (zone 50, close to its central meridian): UTM distances are exact to 0.04 %
    homes = gpd.GeoDataFrame({"vid": ["v1"]}, geometry=[Point(500_000, 4_030_000)],
                             crs=UTM50).to_crs(4326)
    schools = gpd.GeoDataFrame({"sid": ["s1"]}, geometry=[Point(503_000, 4_034_000)], crs=UTM50)
    costs = travel_costs(None, homes, schools, origin_id="vid", destination_id="sid")
    r = costs.iloc[0]
    assert (r["from_id"], r["to_id"]) == ("v1", "s1")
    assert bool(r["estimate"]) and r["status"] == "estimate"
    assert r["distance_m"] == pytest.approx(5000 * 1.3, rel=1e-3)
    assert r["time_s"] == pytest.approx(r["distance_m"] / 1.0)
    arr = straight_line_costs(np.array([[0, 0.0]]), np.array([[30, 40.0]]), mode="bus")
    assert arr["time_s"].iloc[0] == pytest.approx(65 / (25 / 3.6))
    near = nearest(None, np.array([[0, 0.0]]), np.array([[30, 40.0], [0, 10.0]]))
    assert near["to_id"].iloc[0] == 1 and bool(near["estimate"].iloc[0])


def test_geodataframe_inputs_keep_their_ids_and_crs_less_points_are_refused(line3):
    homes = gpd.GeoDataFrame({"村": ["张庄"]}, geometry=[Point(0, 10)], crs=UTM50).to_crs(4490)
    schools = gpd.GeoDataFrame({"校": ["实验小学"]}, geometry=[Point(150, 0)], crs=UTM50)
    costs = travel_costs(line3, homes, schools, origin_id="村", destination_id="校")
    assert costs[["from_id", "to_id"]].values.tolist() == [["张庄", "实验小学"]]
    assert costs["distance_m"].iloc[0] == pytest.approx(160, abs=0.01)
    with pytest.raises(NetworkError, match="no coordinate system"):
        travel_costs(line3, gpd.GeoDataFrame(geometry=[Point(0, 0)]), schools)
    with pytest.raises(NetworkError, match="mode"):
        travel_costs(line3, homes, schools, mode="car")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["walk_g4_9", "bus"])
def test_cutoff_search_on_a_window_gives_the_same_pairs_as_a_full_search(mode):
    rng = np.random.default_rng(11)
    side = 40
    h = nx.Graph(crs=UTM50)
    for i in range(side):
        for j in range(side):
            h.add_node(i * side + j, x=i * 250.0 + rng.uniform(-50, 50),
                       y=j * 250.0 + rng.uniform(-50, 50))
    classes = ["primary", "secondary", "residential", "track"]
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < side and j + dj < side and rng.random() < 0.8:
                    a, b = i * side + j, (i + di) * side + j + dj
                    chord = np.hypot(h.nodes[a]["x"] - h.nodes[b]["x"],
                                     h.nodes[a]["y"] - h.nodes[b]["y"])
                    h.add_edge(a, b, length=chord * rng.uniform(1, 1.2),
                               highway=classes[rng.integers(4)])
    net = network_from_graph(h)
    homes = rng.uniform(0, 9750, (60, 2))
    schools = rng.uniform(0, 9750, (25, 2))
    cutoff = 2500.0
    full = travel_costs(net, homes, schools, mode=mode)
    full = full[full["distance_m"] <= cutoff].reset_index(drop=True)
    windowed = travel_costs(net, homes, schools, mode=mode, cutoff_m=cutoff, batch_size=4)
    assert len(windowed) > 50
    pd.testing.assert_frame_equal(windowed, full)


def test_progress_bars_only_when_enabled(capsys):
    from schoolplan import progress as _progress

    items = list(range(30))
    assert list(_progress.steps(iter(items), total=30, desc="x")) == items
    assert capsys.readouterr().err == ""  # library code prints nothing by default
    _progress.enable(True)
    try:
        assert list(_progress.steps(iter(items), total=30, desc="shortest paths")) == items
    finally:
        _progress.enable(False)
    assert "shortest paths" in capsys.readouterr().err


@settings_h(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 1.5, 2.0, np.inf, np.nan]),
                          st.integers(0, 3)), max_size=30))
def test_a_pass_kept_in_order_gives_the_order_lexsort_gives(rows):
    """The shared pass is sorted once (origin, rank, destination) so the tables skip the sort:
    the O(n) order check must agree with ``np.lexsort`` exactly, ties and NaN included."""
    from schoolplan.travel import _in_order, _ordered

    oi = np.array([r[0] for r in rows], dtype=np.int64)
    rank = np.array([r[1] for r in rows], dtype=float)
    di = np.array([r[2] for r in rows], dtype=np.int64)
    got = _ordered(oi, di, rank, rank * 2, "walk_g4_9")
    order = np.lexsort((di, np.where(np.isfinite(rank), rank, np.inf), oi))
    assert np.array_equal(got["oi"], oi[order]) and np.array_equal(got["di"], di[order])
    ok = np.isfinite(got["distance_m"])
    assert _in_order(got["oi"][ok], got["distance_m"][ok], got["di"][ok])
    fin = np.isfinite(rank)
    direct = np.lexsort((di[fin], rank[fin], oi[fin]))
    assert _in_order(oi[fin], rank[fin], di[fin]) == bool(np.array_equal(direct, np.arange(fin.sum())))


def test_the_shared_pass_is_sorted_and_its_tables_equal_a_sorted_copy(line3):
    from schoolplan.network import snap
    from schoolplan.travel import PairCosts, pair_costs

    homes, schools = np.array([[10.0, 5.0], [140.0, 0.0], [60.0, 1.0]]), np.array([[0.0, 0.0], [150.0, 0.0]])
    pc = pair_costs(line3, snap(line3, homes), snap(line3, schools), use_cache=False)
    assert np.all(np.diff(pc.oi) >= 0)
    rev = slice(None, None, -1)  # the same pairs backwards: the table must sort them back
    back = PairCosts(pc.o_snap, pc.d_snap, pc.oi[rev], pc.di[rev], pc.distance_m[rev], pc.time_s[rev],
                     pc.mode)
    pd.testing.assert_frame_equal(pc.long(k=1), back.long(k=1))
    pd.testing.assert_frame_equal(pc.long(), back.long())

"""Tests of schoolplan.network: building networks from every source, caching, snapping."""

from __future__ import annotations

import bz2
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from schoolplan.errors import NetworkError, UnreadableFileError
from schoolplan.network import (
    RoadNetwork,
    network_from_graph,
    network_from_graphml,
    network_from_lines,
    network_from_osm,
    snap,
)
from schoolplan.network.graph import hilbert_order, tree_sums
from schoolplan.settings import Settings

OSM = Path(__file__).parent / "data" / "osm"
HELSINKI = OSM / "Helsinki.osm.pbf"
TEST_PBF = OSM / "test.osm.pbf"
UTM50 = "EPSG:32650"


def graph(edges, coords, *, directed=True, crs=UTM50):
    """A networkx graph from ``(u, v, length)`` edges and ``{node: (x, y)}`` coordinates."""
    g = nx.DiGraph(crs=crs) if directed else nx.Graph(crs=crs)
    for n, (x, y) in coords.items():
        g.add_node(n, x=x, y=y)
    for u, v, length in edges:
        g.add_edge(u, v, length=length, highway="residential", name="人民路")
    return g


def dist(net: RoadNetwork, a, b) -> float:
    from scipy.sparse.csgraph import dijkstra

    ia = int(np.flatnonzero(net.node_id == a)[0])
    ib = int(np.flatnonzero(net.node_id == b)[0])
    return float(dijkstra(net.matrix(), indices=ia)[ib])


# --- hand-made graphs -----------------------------------------------------------------------
def test_three_node_graph_keeps_lengths_and_names():
    g = graph([(1, 2, 100.0), (2, 3, 50.0)], {1: (0, 0), 2: (100, 0), 3: (100, 50)},
              directed=False)
    net = network_from_graph(g)
    assert net.n_nodes == 3 and net.n_edges == 4 and net.symmetric
    assert dist(net, 1, 3) == 150.0 and dist(net, 3, 1) == 150.0
    assert net.crs.to_epsg() == 32650
    assert set(net.edges()["name"]) == {"人民路"}


def test_one_way_street_kept_in_drive_mode_and_ignored_in_walk_mode():
    coords = {1: (0, 0), 2: (100, 0), 3: (50, 80)}
    g = graph([(1, 2, 100.0), (2, 3, 95.0), (3, 1, 95.0)], coords)  # 1 -> 2 one-way
    drive = network_from_graph(g, mode="drive")
    assert dist(drive, 1, 2) == 100.0
    assert dist(drive, 2, 1) == 190.0  # around the block
    assert not drive.symmetric
    walk = network_from_graph(g, mode="walk")
    assert dist(walk, 2, 1) == 100.0


def test_parallel_edges_keep_the_shortest():
    g = nx.MultiDiGraph(crs=UTM50)
    g.add_node(1, x=0, y=0)
    g.add_node(2, x=10, y=0)
    g.add_edge(1, 2, length=30.0)
    g.add_edge(1, 2, length=12.0)
    net = network_from_graph(g, mode="drive")
    assert net.n_edges == 1 and dist(net, 1, 2) == 12.0  # scipy would have summed them


def test_graph_without_crs_is_refused_with_the_fix():
    g = nx.DiGraph()
    g.add_node(1, x=0, y=0)
    g.add_node(2, x=1, y=0)
    g.add_edge(1, 2, length=1.0)
    with pytest.raises(NetworkError, match="crs="):
        network_from_graph(g)


def test_geographic_graph_is_projected_to_utm_and_lengths_are_great_circle():
    g = nx.DiGraph(crs="EPSG:4326")
    g.add_node(1, x=115.98, y=36.45)  # Liaocheng
    g.add_node(2, x=115.99, y=36.45)
    g.add_edge(1, 2)
    net = network_from_graph(g, mode="all")
    assert net.crs.to_epsg() == 32650
    assert abs(net.length_m[0] - 894.6) < 1.0  # 0.01 deg of longitude at 36.45 N
    # osmnx's spherical great circle vs the ellipsoidal UTM plane: within 0.3 %
    planar = np.hypot(np.diff(net.x), np.diff(net.y))[0]
    assert abs(planar - net.length_m[0]) / planar < 0.003


def test_hilbert_order_is_a_permutation_and_tree_sums_are_exact():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1000, 500), rng.uniform(0, 1000, 500)
    order = hilbert_order(x, y)
    assert sorted(order) == list(range(500))
    # consecutive nodes in Hilbert order are close
    assert np.median(np.hypot(np.diff(x[order]), np.diff(y[order]))) < 60
    pred = np.array([-9999, 0, 1, 2, 1, -9999, 5, 6, -9999])
    step = np.array([0, 1.0, 2, 3, 4, 0, 7, 8, 0])
    assert tree_sums(pred, step).tolist() == [0, 1, 3, 6, 5, 0, 7, 15, 0]


# --- OpenStreetMap files --------------------------------------------------------------------
def write_highway_xml(pbf: Path, out: Path) -> None:
    """Write the highway ways of ``pbf`` as OSM XML, split where nodes are missing (as we do)."""
    import osmium

    nodes = {}
    ways = []
    for o in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
        if o.is_node():
            nodes[o.id] = (o.location.lon, o.location.lat)
        elif "highway" in o.tags:
            ways.append([n.ref for n in o.nodes])
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    used = set()
    pieces = []
    for refs in ways:
        cur: list[int] = []
        for r in [*refs, None]:
            if r is not None and r in nodes:
                cur.append(r)
            else:
                if len(cur) > 1:
                    pieces.append(cur)
                cur = []
    for piece in pieces:
        used.update(piece)
    for n in sorted(used):
        lon, lat = nodes[n]
        lines.append(f'<node id="{n}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for i, piece in enumerate(pieces, start=1):
        nds = "".join(f'<nd ref="{r}"/>' for r in piece)
        lines.append(f'<way id="{i}">{nds}<tag k="highway" v="residential"/></way>')
    lines.append("</osm>")
    out.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def helsinki_all():
    return network_from_osm(HELSINKI, mode="all", use_cache=False)


def test_osm_modes_keep_only_roads(helsinki_all):
    walk = network_from_osm(HELSINKI, mode="walk", use_cache=False)
    drive = network_from_osm(HELSINKI, mode="drive", use_cache=False)
    assert drive.n_nodes < walk.n_nodes <= helsinki_all.n_nodes
    assert walk.symmetric and not drive.symmetric
    assert "footway" in walk.highway_classes and "footway" not in drive.highway_classes
    assert helsinki_all.crs.to_epsg() == 32635  # UTM zone of Helsinki
    assert helsinki_all.main_component().mean() > 0.9
    assert "Aleksanterinkatu" in helsinki_all.names


def test_osm_xml_and_bz2_give_the_same_network_as_pbf(tmp_path):
    import osmium

    xml = tmp_path / "test.osm"
    with osmium.SimpleWriter(str(xml)) as w:
        for o in osmium.FileProcessor(str(TEST_PBF)):
            w.add(o)
    bz = tmp_path / "test.osm.bz2"
    bz.write_bytes(bz2.compress(xml.read_bytes()))
    nets = [network_from_osm(p, mode="walk", use_cache=False) for p in (TEST_PBF, xml, bz)]
    for other in nets[1:]:
        assert np.array_equal(other.node_id, nets[0].node_id)
        assert np.allclose(other.length_m, nets[0].length_m)


def test_distances_equal_networkx_on_osmnx_graph_within_0_1_m(tmp_path, helsinki_all):
    import osmnx as ox

    xml = tmp_path / "highways.osm"
    write_highway_xml(HELSINKI, xml)
    G = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    assert G.number_of_nodes() == helsinki_all.n_nodes
    rng = np.random.default_rng(4)
    main = helsinki_all.node_id[helsinki_all.main_component()]
    schools = rng.choice(main, 10, replace=False)
    origins = rng.choice(main, 20, replace=False)
    from scipy.sparse.csgraph import dijkstra

    idx = {int(n): i for i, n in enumerate(helsinki_all.node_id)}
    ours = dijkstra(helsinki_all.matrix(), indices=[idx[int(s)] for s in schools])
    compared = 0
    for row, s in enumerate(schools):
        ref = nx.single_source_dijkstra_path_length(G, int(s), weight="length")
        for o in origins:
            assert abs(ours[row, idx[int(o)]] - ref[int(o)]) < 0.1
            compared += 1
    assert compared == 200


def test_every_school_in_the_extract_gets_a_distance(helsinki_all):
    import osmium

    from schoolplan.travel import nearest, travel_costs

    found = []  # every amenity=school: nodes as points, ways/multipolygons as area centres
    fp = osmium.FileProcessor(str(HELSINKI)).with_areas().with_filter(
        osmium.filter.TagFilter(("amenity", "school")))
    for o in fp:
        if o.is_node():
            found.append(Point(o.location.lon, o.location.lat))
        elif o.is_area():
            ring = [(n.lon, n.lat) for r in o.outer_rings() for n in r]
            found.append(Point(np.mean(ring, axis=0)))
    schools = gpd.GeoDataFrame(geometry=found, crs=4326)
    assert len(schools) >= 3
    homes = gpd.GeoDataFrame(geometry=[Point(24.94, 60.17), Point(24.95, 60.165)], crs=4326)
    costs = travel_costs(helsinki_all, homes, schools, mode="walk_g4_9")
    assert len(costs) == 2 * len(schools)
    assert costs["distance_m"].notna().all() and np.isfinite(costs["distance_m"]).all()
    near = nearest(helsinki_all, schools, homes)
    assert near["distance_m"].notna().all()


def test_cache_is_by_content_not_path(tmp_path):
    cache = tmp_path / "cache"
    copy = tmp_path / "copy.osm.pbf"
    copy.write_bytes(TEST_PBF.read_bytes())
    a = network_from_osm(TEST_PBF, mode="walk", cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1
    b = network_from_osm(copy, mode="walk", cache_dir=cache)  # same bytes: cache hit
    assert len(list(cache.glob("*.npz"))) == 1
    assert np.array_equal(a.length_m, b.length_m) and b.source == a.source
    network_from_osm(copy, mode="drive", cache_dir=cache)  # other options: new entry
    assert len(list(cache.glob("*.npz"))) == 2
    network_from_osm(TEST_PBF, mode="all", cache_dir=tmp_path / "none", use_cache=False)
    assert not (tmp_path / "none").exists()


def test_graphml_round_trip(tmp_path):
    import osmnx as ox

    xml = tmp_path / "h.osm"
    write_highway_xml(TEST_PBF, xml)
    G = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    path = tmp_path / "h.graphml"
    ox.save_graphml(G, path)
    net = network_from_graphml(path, mode="all", use_cache=False)
    ref = network_from_osm(TEST_PBF, mode="all", use_cache=False)
    assert net.n_nodes == ref.n_nodes
    a, b = int(ref.node_id[0]), int(ref.node_id[ref.n_nodes // 2])
    assert abs(dist(net, a, b) - dist(ref, a, b)) < 0.01 or not np.isfinite(dist(ref, a, b))


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("bad.osm.pbf", b"this is not a pbf file", UnreadableFileError),
        ("bad.graphml", b"<html>not a graph</html>", UnreadableFileError),
        ("roads.csv", b"a,b\n1,2\n", UnreadableFileError),
        (
            "buildings.osm",
            (b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="36.4" lon="115.9"/>'
            b'<node id="2" lat="36.5" lon="115.9"/><node id="3" lat="36.5" lon="116.0"/>'
            b'<way id="9"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>'
            b'<tag k="building" v="yes"/></way></osm>'),
            NetworkError,
        ),
    ],
)
def test_bad_network_files_raise_clear_errors(tmp_path, name, content, error):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(error, match=name):
        if name.endswith(".graphml"):
            network_from_graphml(p, use_cache=False)
        else:
            network_from_osm(p, use_cache=False)


def test_missing_file():
    with pytest.raises(UnreadableFileError, match="does not exist"):
        network_from_osm("/nonexistent/roads.osm.pbf")


# --- road line layers -----------------------------------------------------------------------
def lines_frame(rows, crs=UTM50):
    return gpd.GeoDataFrame(rows, crs=crs)


def node_at(net, x, y):
    d = np.hypot(net.x - x, net.y - y)
    return int(net.node_id[np.argmin(d)]), float(d.min())


def test_unnoded_crossing_becomes_a_junction_but_a_bridge_crossing_does_not():
    frame = lines_frame(
        {
            "geometry": [
                LineString([(0, 0), (200, 0)]),  # road A (west-east)
                LineString([(100, -100), (100, 100)]),  # road B crosses A, no shared vertex
                LineString([(300, -100), (300, 0), (300, 100)]),  # bridge over road C
                LineString([(200, 0), (400, 0)]),  # road C, continues A
            ],
            "bridge": [None, None, "yes", None],
            "等级": ["县道", "村道", "省道", "县道"],
            "名称": ["聊阳路", "", "东昌路大桥", "聊阳路"],
        }
    )
    net = network_from_lines(frame, road_class_column="等级", name_column="名称")
    _, d = node_at(net, 100, 0)
    assert d == 0.0
    assert dist(net, *[node_at(net, 100, -100)[0], node_at(net, 0, 0)[0]]) == pytest.approx(
        100 + 100
    )
    # the bridge shares the vertex (300, 0) with nothing, and must not join road C at (300, 0)
    south, north = node_at(net, 300, -100)[0], node_at(net, 300, 100)[0]
    c_mid = [i for i, (x, y) in enumerate(zip(net.x, net.y, strict=True)) if (x, y) == (300.0, 0.0)]
    assert len(c_mid) == 1  # only the bridge has that vertex; C has no vertex there
    assert not np.isfinite(dist(net, south, node_at(net, 400, 0)[0]))
    assert dist(net, south, north) == pytest.approx(200)
    assert {"secondary", "unclassified", "primary"} <= set(net.highway_classes)
    assert "东昌路大桥" in net.names


def test_bridge_vertex_at_same_place_as_road_vertex_is_not_a_junction():
    frame = lines_frame(
        {
            "geometry": [
                LineString([(0, 0), (100, 0), (200, 0)]),
                LineString([(100, -100), (100, 0), (100, 100)]),
            ],
            "layer": [0, 1],
        }
    )
    net = network_from_lines(frame)
    west = node_at(net, 0, 0)[0]
    assert not np.isfinite(dist(net, west, node_at(net, 100, 100)[0]))
    same_level = network_from_lines(frame.assign(layer=[0, 0]))
    assert dist(same_level, node_at(same_level, 0, 0)[0],
                node_at(same_level, 100, 100)[0]) == pytest.approx(200)


def test_t_junction_within_tolerance_and_bridge_ends_join_their_approaches():
    frame = lines_frame(
        {
            "geometry": [
                LineString([(0, 0), (200, 0)]),
                LineString([(100, 0.3), (100, 100)]),  # ends 0.3 m from the road: a T
                LineString([(200, 0), (300, 0)]),  # bridge starting at the road's end
            ],
            "bridge": ["no", "no", "yes"],
        }
    )
    net = network_from_lines(frame, tolerance_m=0.5)
    top = node_at(net, 100, 100)[0]
    # the road is bent through the stem's end: 99.7 + hypot(100, 0.3)
    assert dist(net, top, node_at(net, 0, 0)[0]) == pytest.approx(99.7 + np.hypot(100, 0.3))
    assert dist(net, node_at(net, 0, 0)[0], node_at(net, 300, 0)[0]) == pytest.approx(300, abs=0.01)


def test_lines_from_a_file_with_cache_and_crs_rules(tmp_path):
    frame = lines_frame(
        {"geometry": [LineString([(115.98, 36.45), (115.99, 36.45)])], "name": ["卫育路"]},
        crs="EPSG:4326",
    )
    path = tmp_path / "roads.gpkg"
    frame.to_file(path)
    net = network_from_lines(path, name_column="name", cache_dir=tmp_path / "c")
    assert net.crs.to_epsg() == 32650 and "卫育路" in net.names
    assert net.length_m[0] == pytest.approx(894.6, abs=2)
    again = network_from_lines(path, name_column="name", cache_dir=tmp_path / "c")
    assert again.source == net.source
    with pytest.raises(NetworkError, match="no coordinate system"):
        network_from_lines(frame.set_crs(None, allow_override=True))
    with pytest.raises(NetworkError, match="must hold lines"):
        network_from_lines(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=UTM50))


# --- snapping -------------------------------------------------------------------------------
def two_component_network():
    coords = {1: (0, 0), 2: (100, 0), 3: (200, 0), 10: (5000, 0), 11: (5100, 0)}
    g = graph([(1, 2, 100.0), (2, 3, 100.0), (10, 11, 100.0)], coords, directed=False)
    return network_from_graph(g)


def test_snap_flags_far_points_and_points_off_the_main_component():
    net = two_component_network()
    pts = np.array([[0, 30], [5050, 10], [0, 20_000]])
    s = snap(net, pts)
    assert s["node_id"].tolist() == [1, 3, 1]
    assert s["snap_distance_m"].iloc[0] == pytest.approx(30)
    assert s["snap_distance_m"].iloc[1] == pytest.approx(np.hypot(4850, 10))  # to main comp.
    assert s["off_main_component"].tolist() == [False, True, False]
    assert s["too_far"].tolist() == [False, True, True]
    anyc = snap(net, pts, component="any")
    assert anyc["node_id"].iloc[1] in (10, 11) and anyc["snap_distance_m"].iloc[1] < 60
    strict = snap(net, pts, settings=Settings({"max_snap_distance_m": 10}))
    assert strict["too_far"].tolist() == [True, True, True]


def test_snap_reprojects_geodataframes_and_refuses_crs_less_points():
    net = two_component_network()
    pts = gpd.GeoDataFrame({"code": ["a"]}, geometry=[Point(0, 30)], crs=UTM50).to_crs(4326)
    s = snap(net, pts, id_column="code")
    assert s.index.tolist() == ["a"] and s["snap_distance_m"].iloc[0] == pytest.approx(30)
    with pytest.raises(NetworkError, match="no coordinate system"):
        snap(net, gpd.GeoDataFrame(geometry=[Point(0, 30)]))

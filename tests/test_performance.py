"""Issue 15: one shared shortest-path pass, the travel-cost cache, GraphML streamed into arrays.

Every check compares the fast way with the slow way (or a hand-computed value) on small
hand-made cases or the synthetic demo county; no wall-clock asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from schoolplan import catchments as ca
from schoolplan import travel
from schoolplan.errors import NetworkError, UnreadableFileError
from schoolplan.network import network_from_graph, network_from_graphml, network_from_osm, snap_xy
from schoolplan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
UTM50 = "EPSG:32650"
OSM = ROOT / "tests" / "data" / "osm"


def line_network(lengths=(100.0, 50.0)):
    """Nodes 1 -- 2 -- 3 on a line (x = 0, 100, 150 m); edge lengths as given."""
    g = nx.Graph(crs=UTM50)
    for n, x in ((1, 0.0), (2, 100.0), (3, 150.0)):
        g.add_node(n, x=x, y=0.0)
    g.add_edge(1, 2, length=lengths[0], highway="residential")
    g.add_edge(2, 3, length=lengths[1], highway="residential")
    return network_from_graph(g, mode="walk")


# --- workers ----------------------------------------------------------------------------------
def test_workers_setting_zero_means_every_core(monkeypatch):
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert travel.resolve_workers(None, settings=Settings()) == 6
    assert travel.resolve_workers(None, settings=Settings({"workers": 1})) == 1
    assert travel.resolve_workers(3) == 3
    with pytest.raises(NetworkError, match="workers"):
        travel.resolve_workers(-1)


# --- one pass shared by the walking modes -----------------------------------------------------
def test_pair_costs_retimed_equal_a_pass_per_mode():
    net = line_network()
    homes = snap_xy(net, np.array([[0.0, 10.0], [150.0, 0.0]]))
    schools = snap_xy(net, np.array([[100.0, 0.0], [150.0, 5.0]]))
    shared = travel.pair_costs(net, homes, schools, mode="walk_g4_9", use_cache=False)
    for mode in ("walk_g1_3", "walk_g4_9", "bicycle"):
        fast = shared.retimed(mode).long()
        slow = travel.travel_costs(net, homes, schools, mode=mode)
        pd.testing.assert_frame_equal(fast, slow)
    # home 0: 10 m snap + 100 m road to school 0; 10 + 150 + 5 m to school 1
    g13 = shared.retimed("walk_g1_3").long()
    assert g13["distance_m"].tolist()[:2] == pytest.approx([110.0, 165.0])
    assert g13["time_s"].tolist()[:2] == pytest.approx([110.0 / 0.8, 165.0 / 0.8])
    with pytest.raises(NetworkError, match="own pass"):
        shared.retimed("bus")


def test_select_keeps_order_and_renumbers():
    net = line_network()
    homes = snap_xy(net, np.array([[0.0, 0.0], [100.0, 0.0], [150.0, 0.0]]), ["a", "b", "c"])
    schools = snap_xy(net, np.array([[0.0, 0.0], [150.0, 0.0]]), ["s1", "s2"])
    pc = travel.pair_costs(net, homes, schools, use_cache=False)
    sub = pc.select(np.array([False, True, True]), np.array([False, True])).long()
    assert sub["from_id"].tolist() == ["c", "b"] or sub["from_id"].tolist() == ["b", "c"]
    assert dict(zip(sub["from_id"], sub["distance_m"], strict=True)) == {"b": 50.0, "c": 0.0}


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory):
    import os

    from schoolplan.scenario import load_scenario
    from schoolplan.scenario.run import prepare

    os.environ["SCHOOLPLAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    sc = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    return prepare(sc, settings=Settings({"workers": 2}, origin="call"))


def test_shared_pass_equals_a_pass_per_group_on_the_demo_county(demo_base):
    """The fast way (one pass for three grade groups and the school-to-school walk, two
    processes, cached) gives the same candidates as the slow way (one travel_costs per group)."""
    b, s = demo_base, demo_base.settings
    demand, schools = b.inputs.demand, b.inputs.schools
    located = schools[np.isfinite(schools["lon"]) & schools["level"].notna()]
    frames = []
    for group in ca.GRADE_GROUPS:
        ids = set(b.groups.loc[b.groups["group"] == group, "demand_id"])
        origins = demand[demand["demand_id"].isin(ids) & np.isfinite(demand["lon"])]
        eligible = located[located["level"].map(lambda lv, g=group: ca.serves(lv, g))]
        slow = travel.travel_costs(b.networks["walk"], origins, eligible,
                                   mode=s[f"travel_mode_{group}"], origin_id="demand_id",
                                   destination_id="school_id", cutoff_m=s["catchment_cutoff_m"],
                                   k=s["catchment_candidates"], settings=s, workers=1)
        frames.append(slow.assign(group=group))
    slow = pd.concat(frames, ignore_index=True)
    fast = b.costs
    assert len(fast) == len(slow) > 1000
    assert (fast[["from_id", "to_id", "group", "mode", "status"]].to_numpy()
            == slow[["from_id", "to_id", "group", "mode", "status"]].to_numpy()).all()
    np.testing.assert_allclose(fast["distance_m"], slow["distance_m"], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(fast["time_s"], slow["time_s"], rtol=1e-12, atol=1e-6)
    every = schools[np.isfinite(schools["lon"])]
    s2s = travel.travel_costs(b.networks["walk"], every, every, mode="walk_g4_9",
                              origin_id="school_id", destination_id="school_id",
                              cutoff_m=s["catchment_cutoff_m"], k=12, settings=s)
    got = b.cache["school_to_school"]
    assert (got[["from_id", "to_id"]].to_numpy() == s2s[["from_id", "to_id"]].to_numpy()).all()
    np.testing.assert_allclose(got["distance_m"], s2s["distance_m"], rtol=1e-12, atol=1e-6)


def test_run_outputs_equal_fast_and_slow(demo_base):
    """A whole run (diagnosis, catchments, consolidation) from the shared, cached, two-process
    pass equals the run from one process without any cache."""
    from schoolplan.scenario import load_scenario
    from schoolplan.scenario.actions import run_actions
    from schoolplan.scenario.run import initial_state, prepare

    sc = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    slow_base = prepare(sc, settings=Settings({"workers": 1, "travel_cache": False}))
    fast = run_actions(demo_base, initial_state(demo_base), sc.actions)
    slow = run_actions(slow_base, initial_state(slow_base), sc.actions)
    cols = ["demand_id", "group", "school_id", "pupils"]
    pd.testing.assert_frame_equal(fast.assignments[cols], slow.assignments[cols])
    pd.testing.assert_frame_equal(fast.candidates, slow.candidates)
    assert fast.counts == slow.counts


# --- travel-cost cache ------------------------------------------------------------------------
def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("travel-*.npz")) if folder.exists() else []


def test_travel_cache_hit_and_invalidation(tmp_path):
    cache = tmp_path / "c"
    net = line_network()
    homes = snap_xy(net, np.array([[0.0, 10.0]]))
    schools = snap_xy(net, np.array([[150.0, 0.0]]))

    def run(network=net, h=homes, sch=schools, mode="walk_g4_9", settings=None, cutoff=None):
        return travel.pair_costs(network, h, sch, mode=mode, settings=settings, cutoff_m=cutoff,
                                 cache_dir=cache, use_cache=True).long()

    first = run()
    assert first["distance_m"].tolist() == [160.0] and len(_files(cache)) == 1
    pd.testing.assert_frame_equal(run(), first)  # hit: nothing new written
    assert len(_files(cache)) == 1
    # a road changes length: new key, new distance
    assert run(network=line_network((100.0, 80.0)))["distance_m"].tolist() == [190.0]
    assert len(_files(cache)) == 2
    # a point moves (other snap distance)
    moved = snap_xy(net, np.array([[0.0, 30.0]]))
    assert run(h=moved)["distance_m"].tolist() == [180.0]
    assert len(_files(cache)) == 3
    # a speed setting changes the times of that mode
    slow = run(mode="walk_g1_3", settings=Settings({"walk_speed_g1_3_mps": 0.5}))
    assert slow["time_s"].tolist() == [320.0]
    assert len(_files(cache)) == 4
    # a cut-off changes the pairs kept
    assert run(cutoff=100.0).empty
    assert len(_files(cache)) == 5
    # bypass: nothing written
    travel.pair_costs(net, homes, moved, use_cache=False, cache_dir=tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_travel_cache_survives_a_broken_file_and_deletion(tmp_path):
    cache = tmp_path / "c"
    net = line_network()
    homes = snap_xy(net, np.array([[0.0, 10.0]]))
    schools = snap_xy(net, np.array([[150.0, 0.0]]))
    travel.pair_costs(net, homes, schools, cache_dir=cache, use_cache=True)
    (f,) = _files(cache)
    f.write_bytes(b"truncated")
    again = travel.pair_costs(net, homes, schools, cache_dir=cache, use_cache=True).long()
    assert again["distance_m"].tolist() == [160.0]
    for p in _files(cache):
        p.unlink()
    assert travel.pair_costs(net, homes, schools, cache_dir=cache,
                             use_cache=True).long()["distance_m"].tolist() == [160.0]


# --- GraphML streamed into arrays, filtered like OSM files ------------------------------------
_GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="graph" attr.name="crs" attr.type="string"/>
  <key id="x" for="node" attr.name="x" attr.type="string"/>
  <key id="y" for="node" attr.name="y" attr.type="string"/>
  <key id="h" for="edge" attr.name="highway" attr.type="string"/>
  <key id="a" for="edge" attr.name="access" attr.type="string"/>
  <key id="l" for="edge" attr.name="length" attr.type="string"/>
  <key id="b" for="edge" attr.name="building" attr.type="string"/>
  <graph edgedefault="directed">
    <data key="d0">{crs}</data>
    <node id="1"><data key="x">0</data><data key="y">0</data></node>
    <node id="2"><data key="x">100</data><data key="y">0</data></node>
    <node id="3"><data key="x">200</data><data key="y">0</data></node>
    <node id="4"><data key="x">100</data><data key="y">100</data></node>
    <node id="5"><data key="x">150</data><data key="y">100</data></node>
    <edge source="1" target="2"><data key="h">['residential', 'tertiary']</data></edge>
    <edge source="2" target="3"><data key="h">residential</data><data key="l">120</data></edge>
    <edge source="1" target="4"><data key="h">service</data><data key="a">private</data></edge>
    <edge source="4" target="3"><data key="h">construction</data></edge>
    <edge source="4" target="5"><data key="b">yes</data></edge>
    <edge source="5" target="4"><data key="h">motorway</data></edge>
  </graph>
</graphml>
"""


def test_graphml_walk_filter_drops_construction_and_buildings_keeps_gated_estate_roads(tmp_path):
    p = tmp_path / "roads.graphml"
    p.write_text(_GRAPHML.format(crs=UTM50), encoding="utf-8")
    walk = network_from_graphml(p, mode="walk", use_cache=False)
    # the two residential edges and the private service road (children walk out of gated 小区:
    # walk_private_residential_roads, issue 16 item 14); not construction, a building or a motorway
    assert sorted(walk.node_id.tolist()) == [1, 2, 3, 4]
    assert walk.n_edges == 6 and walk.symmetric
    i1, i3 = (int(np.flatnonzero(walk.node_id == n)[0]) for n in (1, 3))
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(walk.matrix(), indices=i1)[i3]
    assert d == pytest.approx(100.0 + 120.0)  # planar length where none given, else the file's
    assert walk.highway_classes == ("residential", "service")  # first value of an osmnx list
    everything = network_from_graphml(p, mode="all", use_cache=False)
    assert sorted(everything.node_id.tolist()) == [1, 2, 3, 4, 5]  # buildings are never roads
    assert everything.n_edges == 10


def test_graphml_without_crs_or_malformed_is_refused(tmp_path):
    p = tmp_path / "nocrs.graphml"
    p.write_text(_GRAPHML.format(crs=""), encoding="utf-8")
    with pytest.raises(NetworkError, match="no CRS"):
        network_from_graphml(p, use_cache=False)
    assert network_from_graphml(p, crs=UTM50, use_cache=False).n_nodes == 4
    bad = tmp_path / "cut.graphml"
    bad.write_text(_GRAPHML.format(crs=UTM50)[:900], encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"cut\.graphml"):
        network_from_graphml(bad, use_cache=False)


def test_graphml_streamed_equals_osmnx_and_osm_file(tmp_path):
    """An osmnx GraphML of every way of a real OSM extract (buildings included) gives, for
    walking, exactly the network read from the OSM file itself, and equals osmnx's own load."""
    ox = pytest.importorskip("osmnx")
    sys.path.insert(0, str(Path(__file__).parent))
    from _osm_full import write_full_xml

    pbf = OSM / "test.osm.pbf"
    xml = tmp_path / "t.osm"
    write_full_xml(pbf, xml)
    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*old, "foot"]
    try:
        G = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = old
    gml = tmp_path / "t.graphml"
    ox.save_graphml(G, gml)
    for mode in ("walk", "all"):
        streamed = network_from_graphml(gml, mode=mode, use_cache=False)
        from_osm = network_from_osm(pbf, mode=mode, use_cache=False)
        assert streamed.n_nodes == from_osm.n_nodes and streamed.n_edges == from_osm.n_edges
        assert set(streamed.node_id.tolist()) == set(from_osm.node_id.tolist())
    # on a roads-only file the stream equals osmnx's load + network_from_graph, every mode
    demo = ROOT / "data" / "roads" / "demo_roads_synthetic.graphml"
    for mode in ("walk", "drive", "all"):
        via_nx = network_from_graph(ox.load_graphml(demo), mode=mode)
        streamed = network_from_graphml(demo, mode=mode, use_cache=False)
        for field in ("node_id", "indptr", "indices", "highway_code"):
            assert np.array_equal(getattr(via_nx, field), getattr(streamed, field))
        np.testing.assert_allclose(via_nx.length_m, streamed.length_m)
        np.testing.assert_allclose(via_nx.x, streamed.x)


def test_outputs_written_by_forked_writers_equal_those_written_in_one_process(tmp_path):
    """The long writers (map, report, towns book, summary page, GeoPackage) run in ``workers``
    processes (issue 15): every file is byte for byte the one a single process writes."""
    import dataclasses
    import multiprocessing as mp

    from schoolplan.outputs.report import write_outputs
    from schoolplan.scenario import evaluate, load_scenario

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this system: the writers run in one process anyway")
    result = evaluate(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))
    files = {}
    for workers in (1, 2):
        r = dataclasses.replace(result, settings=Settings.layered(
            ("scenario", result.settings.overridden()), ("cli", {"workers": workers})))
        paths = write_outputs(r, tmp_path / f"w{workers}", lang="zh")
        files[workers] = {Path(p).name: Path(p).read_bytes() for p in paths.values()}
    assert list(files[1]) == list(files[2])  # the same files, listed in the same order
    differ = [name for name in files[1] if files[1][name] != files[2][name]]
    # the two runs differ in one setting, `workers`, which summary.json and report.xlsx record
    assert sorted(differ) == ["report.xlsx", "summary.json"], differ
    import io
    import json

    import openpyxl

    def settings_dropped(raw: bytes) -> dict:
        doc = json.loads(raw)
        doc["settings"] = [s for s in doc["settings"] if s["name"] != "workers"]
        return doc

    def cells(raw: bytes) -> dict:
        book = openpyxl.load_workbook(io.BytesIO(raw))
        return {ws.title: [row for row in ws.iter_rows(values_only=True) if "workers" not in row]
                for ws in book}

    assert settings_dropped(files[1]["summary.json"]) == settings_dropped(files[2]["summary.json"])
    assert cells(files[1]["report.xlsx"]) == cells(files[2]["report.xlsx"])


def test_snaps_are_cached_by_content_and_invalidated(tmp_path, monkeypatch):
    """Snaps are kept with the travel costs (issue 15: a warm prefecture run built an index of
    931,510 edges to join 8,800 points): the same points on the same roads read back equal; a
    moved point, a changed road or the other component rule is a new entry; a broken entry is
    rebuilt; travel_cache off writes nothing."""
    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path / "c"))

    def files() -> list[Path]:
        return sorted((tmp_path / "c").glob("snap-*.npz")) if (tmp_path / "c").exists() else []

    net, pts = line_network(), np.array([[20.0, 10.0], [140.0, -5.0]])
    first = snap_xy(net, pts)
    assert len(files()) == 1
    pd.testing.assert_frame_equal(snap_xy(net, pts), first)
    assert len(files()) == 1
    pd.testing.assert_frame_equal(first, snap_xy(net, pts, settings=Settings({"travel_cache": False})))
    moved = snap_xy(net, pts + np.array([[0.0, 5.0], [0.0, 0.0]]))
    assert moved["snap_distance_m"].iloc[0] == pytest.approx(15.0) and len(files()) == 2
    longer = snap_xy(line_network((100.0, 80.0)), pts)  # same nodes, another length: new entry
    assert len(files()) == 3 and longer["t"].tolist() == first["t"].tolist()
    snap_xy(net, pts, component="any")
    assert len(files()) == 4
    for f in files():
        f.write_bytes(b"broken")
    pd.testing.assert_frame_equal(snap_xy(net, pts), first)  # rebuilt from the roads
    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path / "off"))
    snap_xy(net, pts, settings=Settings({"travel_cache": False}))
    assert not (tmp_path / "off").exists()

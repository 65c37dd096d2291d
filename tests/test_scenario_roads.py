"""`schoolplan run` with each road source: the demo GraphML, none (estimates), OSM online (mocked),
a road line layer in GCJ-02; far-from-road points in the validation report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from schoolplan import coords
from schoolplan.errors import NetworkError
from schoolplan.scenario import evaluate, load_scenario, scenario_from_dict
from schoolplan.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_result():
    return evaluate(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))


def _scenario(roads, *, settings=None):
    raw = {
        "name": "t",
        "inputs": {
            "schools": {"path": "data/schools/demo_schools_synthetic.xlsx"},
            "towns": {"path": "data/boundaries/demo_towns_synthetic.geojson"},
            "demand": {"path": "data/demand/demo_villages_synthetic.geojson"},
            **({"roads": roads} if roads is not None else {}),
        },
        "settings": settings or {},
    }
    return scenario_from_dict(raw, base=ROOT)


def test_demo_uses_road_distances(demo_result):
    r = demo_result
    assert r.distance_method.startswith("road network")
    a = r.assignments
    assert set(a["method"]) == {"calibrated", "nearest", "capacitated"}
    near = a[a["method"] == "nearest"]
    assert not near["estimate"].any()
    assert set(near["mode"]) == {"walk_g1_3", "walk_g4_9"}
    # every village and grade group assigned; time = distance / walking speed
    g13 = near[near["group"] == "g1_3"]
    assert np.allclose(g13["time_s"], g13["distance_m"] / 0.8)
    g79 = near[near["group"] == "g7_9"]
    assert np.allclose(g79["time_s"], g79["distance_m"] / 1.0)
    # road distance is never shorter than the straight line
    est = evaluate(_scenario({"path": "none"})).assignments
    est = est[est["method"] == "nearest"].set_index(["demand_id", "group"])
    both = near.merge(est.reset_index(), on=["demand_id", "group"], suffixes=("", "_line"))
    same = both[both["school_id"] == both["school_id_line"]]
    line = same["distance_m_line"] / Settings()["circuity_factor"]
    assert (same["distance_m"] >= line - 1.0).all()


def test_pupils_are_conserved(demo_result):
    r = demo_result
    a = r.assignments
    children = r.inputs.demand["pupils_primary"].sum() + r.inputs.demand["pupils_junior"].sum()
    for method in ("nearest", "capacitated"):
        assert a.loc[a["method"] == method, "pupils"].sum() == pytest.approx(children, rel=1e-6)
    # the calibrated assignment (the one in force) carries the ledger's pupils: the villages'
    # children scaled per 学段 to the ledger's total
    sch = r.schools
    ledger = sch["enrollment"].sum()
    assert a.loc[a["method"] == "calibrated", "pupils"].sum() == pytest.approx(ledger, rel=1e-3)
    assert sch["assigned_pupils"].sum() == pytest.approx(ledger, rel=1e-3)


def test_capacitated_never_exceeds_seats(demo_result):
    from schoolplan.catchments import seats_by_part

    r = demo_result
    cap = r.assignments[(r.assignments["method"] == "capacitated") & r.assignments["school_id"].notna()]
    seats = seats_by_part(r.schools)
    used = cap.groupby(["school_id", "level"])["pupils"].sum()
    for (sid, level), pupils in used.items():
        limit = seats.at[sid, f"seats_{level}"]
        assert not np.isfinite(limit) or pupils <= limit + 0.01, (sid, level)  # pupils rounded to 1e-3


def test_seat_warning_bands(demo_result):
    s = demo_result.schools
    red = s["seat_warning"] == "red"
    assert (s.loc[red, "utilisation"] >= 1.0).all()
    yellow = s["seat_warning"] == "yellow"
    assert s.loc[yellow, "utilisation"].between(0.9, 1.0, inclusive="left").all()
    assert (s.loc[s["seat_warning"] == "ok", "utilisation"] < 0.9).all()


def test_no_roads_gives_estimates_marked_as_such():
    r = evaluate(_scenario({"path": "none"}))
    assert "estimate" in r.distance_method
    assert r.assignments.loc[r.assignments["school_id"].notna(), "estimate"].all()
    assert r.indicators["walk_time_g1_3"]["estimate"] is True


def test_points_far_from_roads_are_listed():
    sc = _scenario({"path": "data/roads/demo_roads_synthetic.graphml"})
    r = evaluate(sc, settings=Settings({"max_snap_distance_m": 100}))
    far = [p for p in r.inputs.problems if p.code == "far_from_road"]
    assert far and all(p.severity == "warning" and p.ids for p in far)
    assert all(float(p.value) >= 100 for p in far)  # the value is rounded to whole metres


def test_osm_online_is_mocked_cached_and_fails_clearly(monkeypatch, tmp_path):
    import osmnx as ox

    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    demo = ox.load_graphml(ROOT / "data/roads/demo_roads_synthetic.graphml")
    calls = []

    def fake(polygon, network_type, retain_all):
        calls.append((network_type, ox.settings.requests_timeout, ox.settings.overpass_rate_limit))
        return demo

    monkeypatch.setattr(ox, "graph_from_polygon", fake)
    r = evaluate(_scenario("osm", settings={"osm_download_timeout_s": 7}))
    assert r.distance_method.startswith("road network")
    assert calls == [("walk", 7.0, False)]
    assert ox.settings.requests_timeout != 7  # osmnx settings restored

    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    evaluate(_scenario("osm"))  # second run: from the cache, no download
    monkeypatch.setenv("SCHOOLPLAN_CACHE_DIR", str(tmp_path / "empty-cache"))
    with pytest.raises(NetworkError, match=r"could not download the road network.*local road file"):
        evaluate(_scenario("osm"))


def test_road_lines_in_gcj02(tmp_path):
    """A bureau road layer copied from a web map (GCJ-02) gives the same distances as the
    same roads in WGS-84."""
    import osmnx as ox

    g = ox.load_graphml(ROOT / "data/roads/demo_roads_synthetic.graphml")
    edges = ox.graph_to_gdfs(nx.MultiDiGraph(g), nodes=False).reset_index()
    edges = edges[edges["u"] < edges["v"]][["highway", "geometry"]]
    edges["highway"] = edges["highway"].astype(str)
    edges.to_file(tmp_path / "roads_wgs84.gpkg")

    def to_gcj(xy):
        lon, lat = coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    import shapely

    gcj = edges.copy()
    gcj["geometry"] = shapely.transform(edges.geometry.values, to_gcj)
    gcj.to_file(tmp_path / "roads_gcj02.gpkg")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    res = {}
    for name, cs in (("roads_wgs84.gpkg", None), ("roads_gcj02.gpkg", "gcj02")):
        roads = {"path": str(tmp_path / name), "columns": {"road_class": "highway"}}
        if cs:
            roads["coordinate_system"] = cs
        r = evaluate(_scenario(roads))
        near = r.assignments[r.assignments["method"] == "nearest"]
        res[name] = near.set_index(["demand_id", "group"])[["school_id", "distance_m"]]
    a, b = res["roads_wgs84.gpkg"], res["roads_gcj02.gpkg"]
    assert (a["school_id"] == b["school_id"]).mean() > 0.99
    assert np.nanmax(np.abs(a["distance_m"] - b["distance_m"])) < 5.0


def test_summary_records_travel_indicators(tmp_path, demo_result):
    from schoolplan.outputs.report import write_outputs

    paths = write_outputs(demo_result, tmp_path, lang="en")
    s = json.loads(paths["summary"].read_text(encoding="utf-8"))
    w = s["indicators"]["walk_time_g1_3"]
    assert w["limit_min"] == 30 and 0 <= w["share_over_30_min"] <= 1
    assert w["pupils_over_30_min"] >= w["pupils_over_40_min"] >= w["pupils_over_60_min"]
    a = pd.read_csv(paths["assignments"], encoding="utf-8-sig")
    assert list(a.columns[:8]) == ["demand_id", "level", "group", "school_id", "pupils",
                                   "distance_m", "time_s", "mode"]
    areas = gpd.read_file(paths["catchments"])
    assert set(areas["group"]) == {"g1_3", "g7_9"}
    # catchment areas of one group do not overlap and cover the county
    g = areas[areas["group"] == "g1_3"].to_crs(32650)
    towns = demo_result.towns.to_crs(32650)
    assert g.area.sum() == pytest.approx(towns.area.sum(), rel=0.01)


def test_keeping_pupils_in_their_town_reports_the_extra_travel():
    r = evaluate(_scenario({"path": "data/roads/demo_roads_synthetic.graphml"}),
                 settings=Settings({"catchment_within_town": True}))
    near = r.assignments[(r.assignments["method"] == "nearest") & r.assignments["school_id"].notna()]
    schools = r.schools.set_index("school_id")["town_code"]
    demand = r.inputs.demand.set_index("demand_id")["town_code"]
    assert (near["school_id"].map(schools).values == near["demand_id"].map(demand).values).all()
    w = r.indicators["within_town"]
    hit = near[near["extra_distance_m_town_rule"] > 1]
    assert w["pupils_with_extra_travel"] == pytest.approx(hit["pupils"].sum(), abs=0.1) and w["villages"] > 0
    # the pupils who pay extra are those whose nearest school lies in another town
    assert (hit["nearest_any_town"] != hit["school_id"]).all()


def test_gbk_road_shapefile_with_chinese_classes_and_check_reports_a_broken_road_file(tmp_path):
    """A bureau's road layer: Shapefile in GBK without .cpg, Chinese road classes (县道, 村道)."""
    import osmnx as ox
    from typer.testing import CliRunner

    from schoolplan.cli import app

    g = ox.load_graphml(ROOT / "data/roads/demo_roads_synthetic.graphml")
    edges = ox.graph_to_gdfs(nx.MultiDiGraph(g), nodes=False).reset_index()
    edges = edges[edges["u"] < edges["v"]][["highway", "geometry"]]
    cn = {"primary": "省道", "secondary": "县道", "tertiary": "乡道"}
    edges["道路等级"] = edges["highway"].astype(str).map(cn).fillna("村道")
    edges[["道路等级", "geometry"]].to_file(tmp_path / "roads.shp", encoding="gbk")
    (tmp_path / "roads.cpg").unlink(missing_ok=True)
    net = load_roads_for(tmp_path / "roads.shp", {"road_class": "道路等级"})
    assert {"primary", "secondary", "tertiary", "unclassified"} <= set(net.highway_classes)
    # schoolplan check finds a broken road file before any run
    (tmp_path / "broken.graphml").write_text("<graphml>not a graph", encoding="utf-8")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    sc = tmp_path / "s.yaml"
    sc.write_text(
        "name: s\ninputs:\n  schools: {path: data/schools/demo_schools_synthetic.xlsx}\n"
        "  towns: {path: data/boundaries/demo_towns_synthetic.geojson}\n"
        "  roads: {path: broken.graphml}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["-q", "check", str(sc), "--lang", "en"])
    assert res.exit_code == 1 and "broken.graphml" in res.output


def load_roads_for(path, columns):
    from schoolplan.scenario import InputSpec, load_roads

    return load_roads(InputSpec(path=Path(path), columns=columns), mode="walk", settings=Settings())


def test_network_in_a_projected_cgcs2000_crs_gives_the_same_distances(tmp_path):
    """The demo roads saved in CGCS2000 / Gauss-Kruger (EPSG:4548) instead of WGS-84: the same
    villages get the same schools at (almost) the same road distances."""
    import osmnx as ox

    g = ox.load_graphml(ROOT / "data/roads/demo_roads_synthetic.graphml")
    ox.save_graphml(ox.project_graph(g, to_crs="EPSG:4548"), tmp_path / "roads_4548.graphml")
    a = evaluate(_scenario({"path": "data/roads/demo_roads_synthetic.graphml"}))
    b = evaluate(_scenario({"path": str(tmp_path / "roads_4548.graphml")}))
    na = a.assignments[a.assignments["method"] == "nearest"].set_index(["demand_id", "group"])
    nb = b.assignments[b.assignments["method"] == "nearest"].set_index(["demand_id", "group"])
    assert (na["school_id"] == nb["school_id"]).mean() > 0.99
    rel = (na["distance_m"] - nb["distance_m"]).abs() / na["distance_m"]
    assert rel.median() < 0.002  # great-circle vs projected lengths and snapping: within 0.2 %

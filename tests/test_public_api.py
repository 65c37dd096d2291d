"""The public surface a planner or a GIS colleague uses directly: the README's Python example,
the networkx export of a road network, and the map layers of a scenario with closures and a
planet-satellite layout."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from schoolplan.network import network_from_lines
from schoolplan.outputs.maps import overview_map
from schoolplan.scenario import initial_state, prepare, run_actions
from schoolplan.scenario.spec import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python\s+```python\n(.*?)```", text, re.S)
    assert block, "README.md has no Python example under '## Python'"
    monkeypatch.chdir(ROOT)
    names: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), names)  # our own README, run as a user would
    result, schools = names["result"], names["schools"]
    assert result.settings["class_size_primary"] == 40
    assert result.settings.origin("class_size_primary") == "call"
    assert len(result.schools) == len(schools) == 71
    small = result.schools.query("small_tier != ''")
    assert 0 < len(small) < len(result.schools)


def test_to_networkx_keeps_ids_coordinates_and_shortest_parallel_edge():
    # A-B twice (100 m straight, 141 m detour), B-C 50 m: networkx must see A->C = 150 m
    lines = gpd.GeoDataFrame(
        {"highway": ["residential"] * 3},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 0), (50, 50), (100, 0)]),
                  LineString([(100, 0), (150, 0)])], crs="EPSG:32650")
    net = network_from_lines(lines, use_cache=False)
    g = net.to_networkx()
    assert g.number_of_nodes() == net.n_nodes
    xy = {(round(d["x"]), round(d["y"])) for _, d in g.nodes(data=True)}
    assert {(0, 0), (100, 0), (150, 0)} <= xy
    node = {(round(d["x"]), round(d["y"])): n for n, d in g.nodes(data=True)}
    assert nx.shortest_path_length(g, node[(0, 0)], node[(150, 0)], weight="length") == pytest.approx(150.0)
    assert g[node[(0, 0)]][node[(100, 0)]]["length"] == pytest.approx(100.0)
    assert g.graph["crs"].endswith("32650")


def test_to_networkx_distances_equal_the_network_on_the_demo():
    from scipy.sparse.csgraph import dijkstra

    sc = load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    base = prepare(sc)
    net = base.networks["walk"]
    g = net.to_networkx()
    rng = np.random.default_rng(7)
    for i in rng.choice(net.n_nodes, 3, replace=False):
        ours = dijkstra(net.matrix(), indices=int(i))
        theirs = nx.single_source_dijkstra_path_length(g, int(net.node_id[i]), weight="length")
        pos = {int(n): k for k, n in enumerate(net.node_id)}
        for n, d in list(theirs.items())[:200]:
            assert ours[pos[n]] == pytest.approx(d, abs=1e-6)


@pytest.fixture(scope="module")
def demo_base():
    return prepare(load_scenario(ROOT / "scenarios" / "demo-county.yaml"))


def _layer_names(m) -> list[str]:
    return [getattr(c, "layer_name", "") for c in m._children.values()]


def test_closed_schools_get_their_own_map_layer(demo_base):
    start = run_actions(demo_base, initial_state(demo_base), [], with_candidates=False)
    s = start.schools
    ids = s[(s["level"] == "primary") & (s["small_tier"] != "")].sort_values("enrollment")["school_id"].head(3)
    r = run_actions(demo_base, initial_state(demo_base), [{"close": ids.tolist()}], with_candidates=False)
    names = _layer_names(overview_map(r, lang="zh"))
    assert "撤并学校 (3)" in names
    assert not any(n.startswith("撤并学校") for n in _layer_names(overview_map(start, lang="zh")))
    html = overview_map(r, lang="en").get_root().render()
    assert "closed in this scenario" in html


def test_planet_satellite_layout_draws_its_links(demo_base):
    r = run_actions(demo_base, initial_state(demo_base), [{"planet_satellite": {"towns": "all"}}],
                    with_candidates=False)
    assert r.layouts is not None and len(r.layouts)
    names = _layer_names(overview_map(r, lang="zh"))
    link_layer = [n for n in names if n.startswith("行星-卫星")]
    assert link_layer, names
    # one line per satellite or closed school of every laid-out town
    m = overview_map(r, lang="zh")
    group = next(c for c in m._children.values() if getattr(c, "layer_name", "") in link_layer)
    # one PolyLine per line style (solid, dashed), holding one segment per school
    n_lines = sum(len(c.locations) for c in group._children.values() if type(c).__name__ == "PolyLine")
    expected = sum(len([i for i in str(ids).split(";") if i]) for col in ("satellite_ids", "closed_ids")
                   for ids in r.layouts[col].fillna(""))
    assert n_lines == expected > 0


def test_every_level_of_the_ledger_is_drawn_on_the_map_with_its_legend(demo_base):
    """Kindergartens, general high schools, twelve-year and special schools are drawn (issue 18:
    kindergartens on the map), each level in its own layer, and the legend lists only the levels
    the ledger has."""
    r = run_actions(demo_base, initial_state(demo_base), [], with_candidates=False)
    ids = r.schools.sort_values("school_id")["school_id"].tolist()
    new = {ids[0]: "kindergarten", ids[1]: "senior", ids[2]: "special", ids[3]: "twelve_year"}
    r.schools["level"] = [new.get(i, lv) for i, lv in zip(r.schools["school_id"], r.schools["level"], strict=True)]
    m = overview_map(r, lang="zh")
    names = _layer_names(m)
    for label in ("幼儿园 (1)", "普通高中 (1)", "特殊教育学校 (1)", "十二年一贯制 (1)"):
        assert label in names, names
    start = run_actions(demo_base, initial_state(demo_base), [], with_candidates=False)
    legend = overview_map(start, lang="zh").get_root().render()
    assert "幼儿园" not in legend  # the demo ledger has no kindergarten: not in its legend

"""Tests of the SYNTHETIC demo county generator (schoolplan.demo) and of the committed data/ files."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from schoolplan.demo import DEFAULT_SEED, DEMO_FILES, LEDGER_COLUMNS, generate_demo, write_demo

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
OTHER_SEED = 7
METRIC = "EPSG:32650"
GRADES = [f"{cn}年级" for cn in "一二三四五六七八九"]
LEVEL_GRADES_ZH = {"小学": range(1, 7), "初中": range(7, 10), "九年一贯制": range(1, 10),
                   "完全中学": range(7, 10), "教学点": range(1, 4)}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The demo written twice with the default seed and once with another seed."""
    base = tmp_path_factory.mktemp("demo")
    return {
        "a": write_demo(base / "a", seed=DEFAULT_SEED),
        "b": write_demo(base / "b", seed=DEFAULT_SEED),
        "other": write_demo(base / "other", seed=OTHER_SEED),
    }


@pytest.fixture(scope="module")
def demo():
    """The default demo county in memory."""
    return generate_demo(seed=DEFAULT_SEED)


def _read_ledger(path: Path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="学校台账",
                         dtype={"学校代码": str, "乡镇代码": str, "城乡分类代码": str})


def _schools_gdf(path: Path) -> gpd.GeoDataFrame:
    df = _read_ledger(path)
    points = gpd.points_from_xy(df["经度"], df["纬度"])
    return gpd.GeoDataFrame(df, geometry=points, crs="EPSG:4326")


def test_same_seed_gives_identical_bytes(written):
    for key in DEMO_FILES:
        assert written["a"][key].read_bytes() == written["b"][key].read_bytes(), key


def test_other_seed_gives_other_files(written):
    for key in ("towns", "villages", "schools", "roads"):
        assert written["a"][key].read_bytes() != written["other"][key].read_bytes(), key


def test_committed_data_files_are_current(written):
    """data/ must equal what write_demo produces now: run `python -m schoolplan.demo` if this fails."""
    for key, rel in DEMO_FILES.items():
        committed = REPO_DATA / rel
        assert committed.exists(), f"{committed} is missing: run `python -m schoolplan.demo`"
        assert committed.read_bytes() == written["a"][key].read_bytes(), (
            f"{committed} is out of date: run `python -m schoolplan.demo`"
        )


def test_written_files_have_the_expected_names(written):
    for key, path in written["a"].items():
        assert path.name == Path(DEMO_FILES[key]).name
        if key != "readme":
            assert "synthetic" in path.name


@pytest.mark.parametrize("which", ["a", "other"])
def test_towns_tile_the_county(written, which):
    towns = gpd.read_file(written[which]["towns"])
    assert list(towns.columns) == ["town_code", "town", "county", "town_type", "seat_lon",
                                   "seat_lat", "synthetic", "geometry"]
    assert 10 <= len(towns) <= 14
    assert towns["synthetic"].all() and towns["town_code"].is_unique
    assert towns["town_code"].str.fullmatch(r"371599\d{3}").all()
    assert set(towns["town_type"]) == {"街道", "镇", "乡"}
    assert towns.geometry.is_valid.all() and (towns.geom_type == "Polygon").all()
    metric = towns.to_crs(METRIC)
    area_km2 = metric.area / 1e6
    union = metric.union_all()
    assert union.geom_type == "Polygon" and not union.interiors  # no gaps inside the county
    assert area_km2.sum() * 1e6 - union.area < 1_000  # overlaps below 0.001 km² in total
    for i, j in combinations(range(len(metric)), 2):
        assert metric.geometry.iloc[i].intersection(metric.geometry.iloc[j]).area < 100
    urban = (towns["town_type"] == "街道").to_numpy()
    assert 2 <= urban.sum() <= 3
    assert area_km2[~urban].between(50, 120).all(), area_km2[~urban].tolist()
    assert area_km2[urban].max() < area_km2[~urban].min()
    # seats inside their towns, the county in the North China Plain box
    seats = gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"], crs="EPSG:4326")
    assert all(towns.geometry.iloc[k].contains(seats[k]) for k in range(len(towns)))
    minx, miny, maxx, maxy = towns.total_bounds
    assert minx > 115.85 and maxx < 116.45 and miny > 36.25 and maxy < 36.75


def test_towns_equal_the_county_outline(demo):
    towns = demo.towns.to_crs(METRIC)
    outline = gpd.GeoSeries([demo.outline], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert towns.union_all().symmetric_difference(outline).area < 1_000
    assert 900e6 < outline.area < 1_050e6


@pytest.mark.parametrize("which", ["a", "other"])
def test_villages(written, which):
    towns = gpd.read_file(written[which]["towns"])
    vil = gpd.read_file(written[which]["villages"])
    assert list(vil.columns) == ["demand_id", "name", "town_code", "town", "pupils_primary",
                                 "pupils_junior", "ur_code", "synthetic", "geometry"]
    assert vil["synthetic"].all() and vil["demand_id"].is_unique
    assert not vil.duplicated(["town_code", "name"]).any()
    assert set(vil["ur_code"]) == {"111", "112", "121", "122", "220"}
    # children live in the county seat and the town seats; villages without a school have few
    rural = vil[vil["ur_code"] == "220"]
    ledger = _read_ledger(written[which]["schools"])
    school_villages = {n[len(t):-2] + "村" for n, t in zip(ledger["学校名称"], ledger["所属乡镇"], strict=True)
                       if n.startswith(t) and (n.endswith("小学") and not n.endswith("中心小学"))}
    school_villages |= {n[len(t):-3] + "村" for n, t in zip(ledger["学校名称"], ledger["所属乡镇"], strict=True)
                        if n.startswith(t) and n.endswith("教学点")}
    hamlets = rural[~rural["name"].isin(school_villages)]
    assert len(hamlets) > len(rural) / 2 and hamlets["pupils_primary"].between(2, 16).all()
    assert rural["pupils_primary"].max() > hamlets["pupils_primary"].max()  # 中心村 keep a school
    seats = vil.loc[vil["ur_code"] == "121", "pupils_primary"]
    assert vil.loc[vil["ur_code"] == "111", "pupils_primary"].min() > rural["pupils_primary"].max()
    assert seats.min() > rural["pupils_primary"].max()
    # three grades against six: fewer junior than primary children (equal only in the tiniest hamlets)
    assert (vil["pupils_junior"] <= vil["pupils_primary"]).all()
    assert (vil.loc[vil["pupils_primary"] > 2, "pupils_junior"] < vil.loc[vil["pupils_primary"] > 2,
                                                                       "pupils_primary"]).all()
    joined = gpd.sjoin(vil, towns[["town_code", "town_type", "geometry"]], predicate="within")
    assert len(joined) == len(vil)
    assert (joined["town_code_left"] == joined["town_code_right"]).all()
    assert set(joined.loc[joined["ur_code"].isin(["111", "112"]), "town_type"]) == {"街道"}
    # villages every 1-2 km: nearest neighbour between 1.25 and 3 km for (almost) all villages
    xy = np.column_stack([vil.to_crs(METRIC).geometry.x, vil.to_crs(METRIC).geometry.y])
    villages_only = xy[(vil["ur_code"] != "111").to_numpy()]
    dist, _ = cKDTree(villages_only).query(villages_only, k=2)
    assert dist[:, 1].min() > 1_240 and np.median(dist[:, 1]) < 2_000


@pytest.mark.parametrize("which", ["a", "other"])
def test_school_ledger(written, which):
    ledger = _read_ledger(written[which]["schools"])
    assert tuple(ledger.columns) == LEDGER_COLUMNS
    assert 50 <= len(ledger) <= 80
    assert ledger["学校代码"].is_unique and ledger["学校名称"].is_unique
    assert set(ledger["学段"]) == set(LEVEL_GRADES_ZH)
    assert set(ledger["城乡分类代码"]) <= {"111", "112", "121", "122", "220"}
    for _, row in ledger.iterrows():
        taught = LEVEL_GRADES_ZH[row["学段"]]
        for g, col in enumerate(GRADES, start=1):
            assert pd.isna(row[col]) != (g in taught), (row["学校名称"], col)
        assert sum(row[GRADES[g - 1]] for g in taught) == row["在校生数"]
        assert row["班级数"] >= 1 and row["专任教师数"] >= 1
    assert ledger["学位数"].isna().any() and ledger["学位数"].notna().sum() > len(ledger) / 2
    # large urban schools: some over the 2000-pupil cap, some over 45 pupils a class
    urban = ledger[ledger["城乡分类代码"] == "111"]
    assert (urban["在校生数"] > 2000).sum() >= 2
    primary = urban[urban["学段"] == "小学"]
    assert (primary["在校生数"] / primary["班级数"] > 45).any()
    # small rural schools in every tier
    rural = ledger.loc[ledger["城乡分类代码"] == "220", "在校生数"]
    assert (rural < 50).any() and rural.between(50, 99).any() and rural.between(100, 199).any()
    notes = pd.read_excel(written[which]["schools"], sheet_name="说明", header=None)
    notes = notes[0].str.cat(sep=" ")
    assert "合成" in notes and "SYNTHETIC" in notes
    assert f"seed {DEFAULT_SEED if which == 'a' else OTHER_SEED}" in notes


@pytest.mark.parametrize("which", ["a", "other"])
def test_schools_lie_in_their_towns_and_one_town_lacks_junior(written, which):
    towns = gpd.read_file(written[which]["towns"])
    schools = _schools_gdf(written[which]["schools"])
    polys = towns.set_index("town_code").geometry
    for _, s in schools.iterrows():
        assert polys[s["乡镇代码"]].contains(s.geometry), s["学校名称"]
        assert towns.set_index("town_code").loc[s["乡镇代码"], "town"] == s["所属乡镇"]
    teaches_7_9 = schools.loc[schools["学段"].isin(["初中", "九年一贯制", "完全中学"]), "乡镇代码"]
    without = set(towns["town_code"]) - set(teaches_7_9)
    assert len(without) == 1
    assert towns.set_index("town_code").loc[next(iter(without)), "town_type"] != "街道"
    central = schools[schools["学校名称"].str.endswith("中心小学")]
    assert set(central["乡镇代码"]) == set(towns["town_code"])  # one central primary per town


@pytest.mark.parametrize("which", ["a", "other"])
def test_road_network(written, which):
    ox = pytest.importorskip("osmnx")
    path = written[which]["roads"]
    assert path.stat().st_size < 3_200_000
    graph = ox.load_graphml(path)
    assert graph.graph["crs"] == "epsg:4326"
    assert 2_000 <= graph.number_of_nodes() <= 8_000
    assert nx.is_strongly_connected(graph)
    highways = {d["highway"] for _, _, d in graph.edges(data=True)}
    assert highways == {"primary", "secondary", "tertiary", "unclassified", "residential"}
    lengths = np.array([d["length"] for _, _, d in graph.edges(data=True)])
    assert lengths.min() > 10 and lengths.max() < 600
    names = {d.get("name") for _, _, d in graph.edges(data=True)}
    assert "S316省道" in names and any(str(n).startswith("县道X") for n in names)
    for u, v, d in graph.edges(data=True):  # both directions, as osmnx builds two-way roads
        assert graph.has_edge(v, u) and d["oneway"] is False
    nodes = ox.graph_to_gdfs(graph, edges=False).to_crs(METRIC)
    tree = cKDTree(np.column_stack([nodes.geometry.x, nodes.geometry.y]))
    for gdf in (_schools_gdf(written[which]["schools"]), gpd.read_file(written[which]["villages"])):
        m = gdf.to_crs(METRIC)
        dist, _ = tree.query(np.column_stack([m.geometry.x, m.geometry.y]))
        assert dist.max() <= 300, dist.max()


def test_in_memory_county_matches_files(demo, written):
    assert demo.seed == DEFAULT_SEED
    assert len(demo.towns) == len(gpd.read_file(written["a"]["towns"]))
    assert len(demo.schools) == len(demo.ledger)
    assert demo.schools.crs == "EPSG:4326" and demo.villages.crs == "EPSG:4326"
    assert set(demo.schools["level"]) == {"primary", "junior", "nine_year", "complete",
                                          "teaching_point"}
    assert set(demo.schools["area_type"]) == {"urban", "town", "rural"}
    counts = demo.counts()
    assert len(counts["towns_without_junior"]) == 1
    assert counts["rural_lt50"] and counts["rural_50_99"] and counts["rural_100_199"]
    readme = written["a"]["readme"].read_text(encoding="utf-8")
    assert "synthetic" in readme.lower() and "python -m schoolplan.demo" in readme
    assert counts["towns_without_junior"][0] in readme

"""Issue 16, items 8 (road half) and 10: the points are checked against the road network under
each coordinate reading, and a warning says when the layers disagree. Hand-made layers: a road
grid near Liaocheng in WGS-84 and villages on its roads, written as a CSV in WGS-84 or shifted
to GCJ-02 (as copied from 高德), each declared right or wrong."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from schoolplan import coords
from schoolplan.errors import Problems
from schoolplan.io import read_demand
from schoolplan.network import network_from_graph, snap
from schoolplan.scenario.run import check_points_against_roads
from schoolplan.settings import Settings

UTM50 = "EPSG:32650"
TO_LONLAT = Transformer.from_crs(UTM50, 4326, always_xy=True)
X0, Y0 = 460_000.0, 4_040_000.0  # about 116.55°E, 36.5°N


@pytest.fixture(scope="module")
def grid():
    """Roads every 1,500 m over 12 x 12 km (WGS-84 coordinates, measured in UTM 50N)."""
    g = nx.Graph(crs=UTM50)
    n = 9
    for i in range(n):
        for j in range(n):
            g.add_node(i * n + j, x=X0 + 1500.0 * i, y=Y0 + 1500.0 * j)
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                g.add_edge(i * n + j, (i + 1) * n + j, length=1500.0, highway="residential")
            if j + 1 < n:
                g.add_edge(i * n + j, i * n + j + 1, length=1500.0, highway="residential")
    return network_from_graph(g, mode="walk")


def _villages(tmp_path, system: str, declared: str):
    """40 villages within 20 m of a road, written in ``system`` and read as ``declared``.

    GCJ-02 moves points here ~490 m east (3 m north), so most villages lie on north-south roads,
    which that shift takes them off."""
    rng = np.random.default_rng(10)
    along = rng.uniform(0, 12_000, 40)
    line = rng.integers(1, 7, 40) * 1500.0
    off = rng.uniform(-20, 20, 40)
    vertical = rng.random(40) < 0.8
    x = X0 + np.where(vertical, line + off, along)
    y = Y0 + np.where(vertical, along, line + off)
    lon, lat = TO_LONLAT.transform(x, y)
    lon, lat = coords.from_wgs84(np.asarray(lon), np.asarray(lat), system)
    path = tmp_path / f"villages-{system}.csv"
    pd.DataFrame({"村庄代码": [f"V{i:02d}" for i in range(40)], "小学适龄人口": 30,
                  "经度": lon, "纬度": lat}).to_csv(path, index=False, encoding="utf-8")
    problems = Problems()
    demand = read_demand(path, coordinate_system=declared, problems=problems)
    return demand, problems


def _check(grid, demand, problems, settings=None):
    s = settings or Settings()
    snapped = snap(grid, demand[np.isfinite(demand["lon"])], id_column="demand_id", settings=s)
    medians = check_points_against_roads(grid, demand, snapped, "village", "村庄", problems, s)
    return medians, [p for p in problems if p.code == "coordinate_system_roads"]


def test_gcj02_points_declared_as_wgs84_on_wgs84_roads_are_reported(grid, tmp_path):
    demand, problems = _villages(tmp_path, "gcj02", "wgs84")
    medians, found = _check(grid, demand, problems)
    assert medians["gcj02"] < 20 < 100 < medians["wgs84"]  # shifted by ~600 m, spacing 1.5 km
    assert len(found) == 1 and found[0].severity == "warning"
    p = found[0]
    assert "gcj02" in p.message_en and "wgs84" in p.message_en and f"{medians['wgs84']:.0f} m" in p.message_en
    assert f"{medians['wgs84']:.0f} 米" in p.message_zh and "坐标系" in p.message_zh
    assert "village" not in p.message_zh and "road" not in p.message_zh  # the Chinese text has no English words
    assert "coordinate_system" in p.fix_en and "coordinate_system" in p.fix_zh


def test_wgs84_points_declared_as_gcj02_are_reported_the_other_way(grid, tmp_path):
    demand, problems = _villages(tmp_path, "wgs84", "gcj02")
    medians, found = _check(grid, demand, problems)
    assert medians["wgs84"] < 20 and medians["gcj02"] > 100
    assert len(found) == 1 and "wgs84" in found[0].message_en


@pytest.mark.parametrize("system", ["wgs84", "gcj02"])
def test_points_declared_right_are_not_reported(grid, tmp_path, system):
    demand, problems = _villages(tmp_path, system, system)
    medians, found = _check(grid, demand, problems)
    assert medians[system] < 20 and found == []


def test_the_gain_needed_is_a_setting(grid, tmp_path):
    demand, problems = _villages(tmp_path, "gcj02", "wgs84")
    medians, found = _check(grid, demand, problems,
                            Settings({"road_fit_min_gain_m": 5_000.0}))
    assert medians["wgs84"] > 100 and found == []


def test_projected_or_too_few_points_are_not_checked(grid, tmp_path):
    demand, problems = _villages(tmp_path, "wgs84", "wgs84")
    few = demand.iloc[:4].copy()
    few.attrs = dict(demand.attrs)
    assert _check(grid, few, problems)[0] is None
    projected = demand.copy()
    projected.attrs = {**demand.attrs, "coordinate_system": "EPSG:4548"}
    assert _check(grid, projected, problems)[0] is None

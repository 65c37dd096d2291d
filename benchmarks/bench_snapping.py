"""Edge snapping against node snapping (issue 16, item 13): what joining points to the nearest
point of the nearest road edge changes, on the demo county and on a real OpenStreetMap extract.

Run ``python benchmarks/bench_snapping.py``. For each network it prints, per end, the snap
distance of both methods; for every village-school pair within the cut-off the road distance of
both (the node method rebuilt exactly: every point joined to its nearest main-component node,
the straight line to it added); the share of villages whose nearest school changes; and the
median time of snapping (``--repeat`` runs) with its ratio to the KD-tree node snap.

Networks: the demo county (``data/``: synthetic) and Helsinki (``tests/data/osm/Helsinki.osm.pbf``,
© OpenStreetMap contributors, ODbL; walking network) with points at random nodes moved up to
150 m (a village or school beside the road).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schoolplan import travel  # noqa: E402
from schoolplan.network import RoadNetwork, network_from_graphml, network_from_osm, snap_xy  # noqa: E402


def node_snap(net: RoadNetwork, xy: np.ndarray, ids=None) -> pd.DataFrame:
    """The former method: the nearest main-component node, the straight line to it."""
    main = np.flatnonzero(net.main_component())
    dist, k = cKDTree(np.column_stack([net.x[main], net.y[main]])).query(xy)
    node = main[k]
    n = len(xy)
    return pd.DataFrame({
        "x": xy[:, 0], "y": xy[:, 1], "node": node, "node_id": net.node_id[node],
        "snap_distance_m": dist, "too_far": np.zeros(n, bool), "off_main_component": np.zeros(n, bool),
        "node_a": node, "node_b": node, "edge_ab": -1, "edge_ba": -1, "t": 0.0,
    }, index=pd.RangeIndex(n) if ids is None else ids)


def _q(a: np.ndarray) -> str:
    a = np.asarray(a, dtype=float)
    return (f"median {np.median(a):+.1f} m, p95 {np.percentile(a, 95):+.1f} m, "
            f"min {a.min():+.1f} m, max {a.max():+.1f} m")


def _timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(name: str, net: RoadNetwork, villages: np.ndarray, schools: np.ndarray, *,
            cutoff_m: float, repeat: int) -> None:
    print(f"\n== {name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges; {len(villages):,} villages, "
          f"{len(schools):,} schools")
    ev, es = snap_xy(net, villages), snap_xy(net, schools)
    nv, ns = node_snap(net, villages), node_snap(net, schools)
    both = np.concatenate([ev["snap_distance_m"], es["snap_distance_m"]])
    old = np.concatenate([nv["snap_distance_m"], ns["snap_distance_m"]])
    print(f"snap distance per end, edge: median {np.median(both):.1f} m, max {both.max():.1f} m; "
          f"node: median {np.median(old):.1f} m, max {old.max():.1f} m")
    print(f"node minus edge, per end: {_q(old - both)}")
    new = travel.pair_costs(net, ev, es, cutoff_m=cutoff_m, use_cache=False).long(cutoff_m=cutoff_m)
    was = travel.pair_costs(net, nv, ns, cutoff_m=cutoff_m, use_cache=False).long(cutoff_m=cutoff_m)
    m = new.merge(was, on=["from_id", "to_id"], suffixes=("_edge", "_node"))
    diff = (m["distance_m_edge"] - m["distance_m_node"]).to_numpy()
    print(f"{len(m):,} pairs within {cutoff_m:.0f} m in both; edge minus node distance: {_q(diff)}")
    rel = diff / m["distance_m_node"].clip(lower=1.0).to_numpy()
    print(f"relative: median {np.median(rel) * 100:+.2f} %, p95 |rel| "
          f"{np.percentile(np.abs(rel), 95) * 100:.2f} %")
    near_e = travel.nearest(net, ev, es)["to_id"]
    near_n = travel.nearest(net, nv, ns)["to_id"]
    changed = float((near_e != near_n).mean())
    print(f"nearest school changes for {changed * 100:.1f} % of the villages")
    pts = np.vstack([villages, schools])
    t_edge = _timed(lambda: snap_xy(net, pts), repeat)
    t_node = _timed(lambda: node_snap(net, pts), repeat)
    print(f"snapping {len(pts):,} points: edge {t_edge * 1000:.0f} ms (median of {repeat}), "
          f"node {t_node * 1000:.0f} ms; ratio {t_edge / t_node:.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from schoolplan.io import read_demand, read_schools

    net = network_from_graphml(ROOT / "data/roads/demo_roads_synthetic.graphml", mode="walk",
                               use_cache=False)
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, net.crs, always_xy=True)
    s = read_schools(ROOT / "data/schools/demo_schools_synthetic.xlsx", coordinate_system="wgs84")
    d = read_demand(ROOT / "data/demand/demo_villages_synthetic.geojson")
    s, d = s[np.isfinite(s["lon"])], d[np.isfinite(d["lon"])]
    sxy = np.column_stack(to_m.transform(s["lon"].to_numpy(), s["lat"].to_numpy()))
    dxy = np.column_stack(to_m.transform(d["lon"].to_numpy(), d["lat"].to_numpy()))
    compare("demo county (synthetic)", net, dxy, sxy, cutoff_m=20_000, repeat=args.repeat)

    hel = network_from_osm(ROOT / "tests/data/osm/Helsinki.osm.pbf", mode="walk", use_cache=False)
    rng = np.random.default_rng(16)
    main_nodes = np.flatnonzero(hel.main_component())

    def beside(n: int) -> np.ndarray:
        k = rng.choice(main_nodes, n)
        ang, r = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 150, n)
        return np.column_stack([hel.x[k] + r * np.cos(ang), hel.y[k] + r * np.sin(ang)])

    compare("Helsinki OSM extract (walk)", hel, beside(2000), beside(60), cutoff_m=5_000,
            repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of schoolplan.travel on a prefecture-scale road-like graph.

Run ``python benchmarks/bench_travel.py`` (about 4 minutes on 2 cores) or with ``--quick`` (a
few seconds). Prints medians of ``--repeat`` runs (default 3) for:

* OD with a 15 km cut-off, villages -> schools (``travel_costs``);
* nearest school for 50,000 points (``nearest``, one Dijkstra pass);
* re-assignment after closing 10 schools (``Reassigner.assign`` on the k=20 candidates);

against the same done by hand with networkx (``single_source_dijkstra_path_length`` per school,
timed on a subset and scaled) and against a raw ``scipy.sparse.csgraph.dijkstra`` call on the same
CSR arrays (the floor), with the ratios and peak memory.

The graph: a jittered grid over ~90 km x 90 km (Liaocheng is ~8,600 km2) with about 25 % of the
grid links removed (mean degree ~3), a coarser network of primary/secondary roads every ~2 km, and
edge lengths 1.0-1.15 x the straight line; ~2,300 schools and ~6,500 villages (Liaocheng's counts).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from pyproj import CRS
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schoolplan.network import RoadNetwork, snap
from schoolplan.network.roads import _build
from schoolplan.travel import Reassigner, nearest, travel_costs


def road_like_graph(side: int, extent_m: float, seed: int = 0) -> RoadNetwork:
    """A jittered grid of ``side x side`` nodes over ``extent_m`` with ~25 % of links removed."""
    rng = np.random.default_rng(seed)
    step = extent_m / side
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (i * step + rng.uniform(-0.3, 0.3, i.shape) * step).ravel() + 500_000.0
    y = (j * step + rng.uniform(-0.3, 0.3, j.shape) * step).ravel() + 4_000_000.0
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    major_every = max(int(2000 / step), 2)
    on_row = np.concatenate([(i[:-1, :] % major_every == 0).ravel(),
                             (j[:, :-1] % major_every == 0).ravel()])
    on_col = np.concatenate([(j[:-1, :] % major_every == 0).ravel(),
                             (i[:, :-1] % major_every == 0).ravel()])
    major = on_col  # links along a major line
    keep = major | (rng.random(len(u)) < 0.72)
    u, v, major = u[keep], v[keep], major[keep]
    _ = on_row
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, len(u))
    cls = np.where(major, np.where(rng.random(len(u)) < 0.3, "primary", "secondary"),
                   np.where(rng.random(len(u)) < 0.5, "residential", "track"))
    hw = cls.tolist()
    return _build(
        node_id=np.arange(side * side), x=x, y=y, crs=CRS.from_epsg(32650),
        u=np.concatenate([u, v]), v=np.concatenate([v, u]),
        length_m=np.concatenate([length, length]), highway=hw + hw,
        maxspeed_kph=np.full(2 * len(u), np.nan), name=[""] * (2 * len(u)), mode="all",
        source="synthetic", where="benchmark",
    )


def points_near_nodes(net: RoadNetwork, n: int, rng, jitter_m: float = 150.0) -> np.ndarray:
    main = np.flatnonzero(net.main_component())
    pick = rng.choice(main, n, replace=n > len(main))
    return np.column_stack([net.x[pick], net.y[pick]]) + rng.uniform(-jitter_m, jitter_m, (n, 2))


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small graph, runs in seconds")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1, help="processes for the OD run")
    ap.add_argument("--nx-subset", type=int, default=None,
                    help="schools timed with networkx (then scaled)")
    args = ap.parse_args(argv)
    if args.quick:
        side, extent, n_schools, n_villages, n_points, cutoff = 150, 25_000.0, 200, 600, 5_000, \
            5_000.0
    else:
        side, extent, n_schools, n_villages, n_points, cutoff = 560, 90_000.0, 2_300, 6_500, \
            50_000, 15_000.0
    nx_subset = args.nx_subset or (5 if args.quick else 10)
    rng = np.random.default_rng(1)

    t0 = time.perf_counter()
    net = road_like_graph(side, extent)
    build_s = time.perf_counter() - t0
    deg = net.n_edges / net.n_nodes
    schools = points_near_nodes(net, n_schools, rng)
    villages = points_near_nodes(net, n_villages, rng)
    points = rng.uniform([net.x.min(), net.y.min()], [net.x.max(), net.y.max()], (n_points, 2))
    print(f"graph: {net.n_nodes:,} nodes, {net.n_edges:,} directed edges, mean degree "
          f"{deg:.2f}, {extent / 1000:.0f} km x {extent / 1000:.0f} km, built in {build_s:.1f} s; "
          f"{n_schools:,} schools, {n_villages:,} villages, {n_points:,} points; "
          f"medians of {args.repeat} runs")
    csr = net.matrix()
    s_snap, v_snap, p_snap = snap(net, schools), snap(net, villages), snap(net, points)
    s_nodes = s_snap["node"].to_numpy()
    v_nodes = v_snap["node"].to_numpy()
    us_nodes = np.unique(s_nodes)
    import networkx as nx

    t0 = time.perf_counter()
    G = net.to_networkx()
    print(f"networkx graph built in {time.perf_counter() - t0:.1f} s (not counted)")
    rows = []

    # --- 1. OD with cut-off -----------------------------------------------------------------
    def ours_od(workers=1):
        return travel_costs(net, villages, schools, cutoff_m=cutoff, workers=workers)

    def raw_od():
        out = []
        for k in range(0, len(us_nodes), 16):
            d = dijkstra(csr, indices=us_nodes[k:k + 16], limit=cutoff)
            out.append(d[:, v_nodes])
        return np.vstack(out)

    sub = s_nodes[:nx_subset]

    def nx_od():
        for s in sub:
            d = nx.single_source_dijkstra_path_length(G, int(net.node_id[s]), cutoff=cutoff,
                                                      weight="length")
            [d.get(int(net.node_id[v])) for v in v_nodes]

    t_od, od = timed(ours_od, args.repeat)
    t_od2, _ = timed(lambda: ours_od(2), args.repeat)
    t_od_raw, _ = timed(raw_od, args.repeat)
    t_nx_sub, _ = timed(nx_od, 1)
    t_od_nx = t_nx_sub / len(sub) * n_schools
    label = f"OD villages x schools, {cutoff / 1000:.0f} km cut-off"
    rows.append((label, t_od, t_od_raw, t_od_nx, f"{len(od):,} pairs"))
    rows.append((label + ", 2 processes", t_od2, t_od_raw, t_od_nx, "same pairs"))

    # --- 2. nearest school for many points ---------------------------------------------------
    def ours_near():
        return nearest(net, points, schools)

    def ours_near_snapped():
        return nearest(net, p_snap, s_snap)

    def raw_near():
        return dijkstra(csr, indices=us_nodes, min_only=True, return_predecessors=True)

    t_near, _ = timed(ours_near, args.repeat)
    t_near_s, _ = timed(ours_near_snapped, args.repeat)
    t_near_raw, _ = timed(raw_near, args.repeat)
    nsub = s_nodes[: max(2, nx_subset // 3)]

    def nx_near():
        for s in nsub:
            nx.single_source_dijkstra_path_length(G, int(net.node_id[s]), weight="length")

    t_nx_near_sub, _ = timed(nx_near, 1)
    t_near_nx = t_nx_near_sub / len(nsub) * n_schools
    t_nx_multi, _ = timed(lambda: nx.multi_source_dijkstra_path_length(
        G, {int(net.node_id[s]) for s in us_nodes}, weight="length"), 1)
    label = f"nearest school for {n_points:,} points"
    rows.append((label + " (incl. snapping)", t_near, t_near_raw, t_near_nx,
                 (f"vs nx multi_source_dijkstra ({t_nx_multi:.2f} s): "
                  f"{t_nx_multi / t_near:.0f}x")))
    rows.append((label + " (pre-snapped)", t_near_s, t_near_raw, t_near_nx,
                 f"vs nx multi_source_dijkstra: {t_nx_multi / t_near_s:.0f}x"))

    # --- 3. closing 10 schools ---------------------------------------------------------------
    od20 = travel_costs(net, villages, schools, cutoff_m=cutoff, k=20)
    reassigner = Reassigner.from_costs(od20, origins=range(n_villages))
    closed = rng.choice(n_schools, 10, replace=False)

    def ours_close():
        return reassigner.assign(closed=closed)

    remaining = np.unique(np.delete(s_nodes, closed))

    def raw_close():
        return dijkstra(csr, indices=remaining, min_only=True, limit=cutoff)

    t_close, assigned = timed(ours_close, max(args.repeat, 5))
    t_close_raw, _ = timed(raw_close, args.repeat)
    t_close_nx = t_od_nx  # by hand: re-run every school's search with the cut-off
    rows.append(("close 10 schools, re-assign villages", t_close, t_close_raw, t_close_nx,
                 (f"{int(assigned['lost_all'].sum())} villages lost all 20 candidates; raw = "
                  "a new multi-source run")))

    print(f"\n{'task':58s} {'ours s':>8s} {'raw s':>8s} {'networkx s':>11s} "
          f"{'nx/ours':>8s} {'ours/raw':>9s}")
    for name, ours, raw, nxs, note in rows:
        print(f"{name:58s} {ours:8.3f} {raw:8.3f} {nxs:11.1f} {nxs / ours:7.0f}x "
              f"{ours / raw:8.2f}x   {note}")
    print("networkx: per-school single_source_dijkstra_path_length timed on "
          f"{len(sub)} (OD) / {len(nsub)} (nearest) schools and scaled to {n_schools:,}; "
          "raw: scipy.sparse.csgraph.dijkstra on the same CSR arrays with already-snapped "
          "nodes and no output table.")

    peak_od = peak_mb(ours_od)
    peak_near = peak_mb(ours_near)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (tracemalloc): OD {peak_od:.0f} MB, nearest {peak_near:.0f} MB; "
          f"process max RSS {rss:.0f} MB (includes the networkx graph)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of the prefecture-scale pipeline steps of issue 15 through the Python API on
in-memory inputs (SYNTHETIC data); the CLI end to end on bureau-shaped files is
``benchmarks/bench_pipeline.py``.

Run ``python benchmarks/bench_steps.py`` (about 15 minutes on 2 cores for the three sizes) or
``--sizes county`` (about a minute). For each size it generates, deterministically from
``--seed`` and labelled synthetic, a road-like graph (a jittered grid with ~28 % of links removed
and a primary/secondary grid every ~2 km; see ``benchmarks/bench_travel.py``) written as an
``.osm.pbf`` and as a GraphML file, plus schools (levels, towns, seats) and villages (pupils) at
road nodes:

======================  =======  ========  =======  =====
size                    nodes    schools   villages towns
======================  =======  ========  =======  =====
``county``              ~39,000  300       810      17
``prefecture``          ~312,000 2,300     6,500    135   (Liaocheng's counts)
``prefecture3``         ~900,000 6,900     19,500   405
======================  =======  ========  =======  =====

Each stage runs in a fresh Python process (so its peak RSS is its own), ``--repeat`` times
(median printed), with its wall time and its CPU time (this process and its workers: on a
shared machine the CPU time is the steadier figure):

* ``graphml`` / ``osm``: build the walking network from the file, cold (no cache);
* ``graphml_osmnx``: the previous way, ``osmnx.load_graphml`` + ``network_from_graph``
  (county and prefecture only: at 3x it needs more memory than the machine has);
* ``travel_old``: village-school costs as ``prepare`` computed them before: one pass per grade
  group plus a fourth for the school-to-school walk, one process;
* ``travel_new``: the shared pass (:func:`schoolplan.catchments.shared_costs`) over every core,
  cold cache; ``travel_warm``: the same read back from the cache;
* ``heuristic`` and (county only) ``exact``: the p-median layout keeping 85 % of the schools with
  a school teaching grades 7–9 per town (no walking limit, seats not binding), and the gap;
* ``cli_help``: ``schoolplan --help`` start-up.

Then the scaling exponent of each stage between the smallest and the largest size run
(``log(t2 / t1) / log(n2 / n1)`` over nodes). Results also go to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_bureau import graph_arrays, write_roads  # noqa: E402  (the same roads as the CLI benchmark)

SIZES = {  # side (nodes per grid row), extent (m), schools, villages, towns
    "county": (198, 31_800.0, 300, 810, 17),
    "prefecture": (560, 90_000.0, 2_300, 6_500, 135),
    "prefecture3": (970, 156_000.0, 6_900, 19_500, 405),
}
LEVELS = (["primary"] * 60 + ["teaching_point"] * 12 + ["junior"] * 14 + ["nine_year"] * 14)


# ---------------------------------------------------------------------------------------------
# synthetic data (deterministic)
# ---------------------------------------------------------------------------------------------
def generate(size: str, folder: Path, seed: int) -> None:
    """Write ``roads_synthetic.osm.pbf``, ``roads_synthetic.graphml`` and ``points.npz``."""
    from pyproj import Transformer

    side, extent, n_s, n_v, n_t = SIZES[size]
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "points.npz").exists():
        return
    x, y, u, v, hw = graph_arrays(side, extent, seed)
    lon, lat = Transformer.from_crs(32650, 4326, always_xy=True).transform(x, y)
    write_roads(folder, lon, lat, u, v, hw)
    rng = np.random.default_rng([seed, 1])
    # towns: a grid of square cells; schools and villages at random nodes (+ jitter)
    cells = math.ceil(math.sqrt(n_t))

    def town_of(px, py):
        cx = np.minimum(((px - x.min()) / (np.ptp(x) + 1) * cells).astype(int), cells - 1)
        cy = np.minimum(((py - y.min()) / (np.ptp(y) + 1) * cells).astype(int), cells - 1)
        return (cx * cells + cy) % n_t

    def at_nodes(n):
        pick = rng.choice(len(x), n, replace=False)
        return x[pick] + rng.uniform(-80, 80, n), y[pick] + rng.uniform(-80, 80, n)

    sx, sy = at_nodes(n_s)
    vx, vy = at_nodes(n_v)
    levels = np.array(LEVELS)[rng.integers(0, len(LEVELS), n_s)]
    stown = town_of(sx, sy)
    for t in range(n_t):  # every town has a school teaching grades 7-9
        here = np.flatnonzero(stown == t)
        if len(here) and not np.isin(levels[here], ["junior", "nine_year"]).any():
            levels[here[0]] = "junior"
    slon, slat = Transformer.from_crs(32650, 4326, always_xy=True).transform(sx, sy)
    vlon, vlat = Transformer.from_crs(32650, 4326, always_xy=True).transform(vx, vy)
    np.savez(folder / "points.npz", slon=slon, slat=slat, levels=levels.astype("U16"),
             stown=stown, vlon=vlon, vlat=vlat, vtown=town_of(vx, vy),
             primary=rng.integers(20, 260, n_v).astype(float),
             junior=rng.integers(10, 130, n_v).astype(float), n_nodes=len(x))


def _frames(folder: Path):
    import geopandas as gpd

    z = np.load(folder / "points.npz")
    schools = gpd.GeoDataFrame(
        {"school_id": [f"S{i:05d}" for i in range(len(z["slon"]))], "level": z["levels"],
         "town_code": [f"T{t:03d}" for t in z["stown"]], "lon": z["slon"], "lat": z["slat"],
         "seats": np.nan, "enrollment": np.nan},
        geometry=gpd.points_from_xy(z["slon"], z["slat"]), crs=4326)
    demand = gpd.GeoDataFrame(
        {"demand_id": [f"V{i:05d}" for i in range(len(z["vlon"]))],
         "town_code": [f"T{t:03d}" for t in z["vtown"]], "lon": z["vlon"], "lat": z["vlat"],
         "pupils_primary": z["primary"], "pupils_junior": z["junior"]},
        geometry=gpd.points_from_xy(z["vlon"], z["vlat"]), crs=4326)
    return schools, demand


# ---------------------------------------------------------------------------------------------
# stages (each in its own process)
# ---------------------------------------------------------------------------------------------
def stage(name: str, folder: Path, cache: Path) -> dict:
    import os

    os.environ["SCHOOLPLAN_CACHE_DIR"] = str(cache)
    from schoolplan import catchments as ca
    from schoolplan import travel
    from schoolplan.network import network_from_graph, network_from_graphml, network_from_osm
    from schoolplan.settings import Settings

    gml, pbf = folder / "roads_synthetic.graphml", folder / "roads_synthetic.osm.pbf"
    extra: dict = {}

    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
            resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    t0, c0 = time.perf_counter(), cpu()
    if name == "graphml":
        extra["nodes"] = network_from_graphml(gml, mode="walk", use_cache=False).n_nodes
    elif name == "graphml_osmnx":
        import osmnx as ox

        network_from_graph(ox.load_graphml(gml), mode="walk")
    elif name == "osm":
        network_from_osm(pbf, mode="walk", use_cache=False)
    elif name.startswith("travel") or name in ("heuristic", "exact"):
        net = network_from_graphml(gml, mode="walk", cache_dir=cache)  # warm network cache
        schools, demand = _frames(folder)
        s = Settings({"catchment_cutoff_m": 15_000.0, "travel_cache": name == "travel_warm"})
        groups = ca.demand_by_group(demand, s)
        if name == "travel_warm":  # fill the cache first: the timed call reads it back
            ca.shared_costs(net, demand, schools, groups, settings=s, workers=0, school_pairs_k=12)
        t0, c0 = time.perf_counter(), cpu()
        if name == "travel_old":
            k = s["catchment_candidates"]
            for group in ca.GRADE_GROUPS:
                eligible = schools[schools["level"].map(lambda lv, g=group: ca.serves(lv, g))]
                travel.travel_costs(net, demand, eligible, mode=s[f"travel_mode_{group}"],
                                    origin_id="demand_id", destination_id="school_id",
                                    cutoff_m=s["catchment_cutoff_m"], k=k, settings=s, workers=1)
            travel.travel_costs(net, schools, schools, mode="walk_g4_9", origin_id="school_id",
                                destination_id="school_id", cutoff_m=s["catchment_cutoff_m"],
                                k=12, settings=s, workers=1)
        elif name in ("travel_new", "travel_warm"):
            costs, _ = ca.shared_costs(net, demand, schools, groups, settings=s, workers=0,
                                       school_pairs_k=12)
            extra["pairs"] = len(costs)
        else:
            from schoolplan.optimize import LocationModel, solve_heuristic

            costs, _ = ca.shared_costs(net, demand, schools, groups, settings=s, workers=0)
            model = LocationModel.from_costs(costs, groups, schools, settings=s)
            p = round(0.85 * len(schools))
            t0, c0 = time.perf_counter(), cpu()
            opts = {"p": p, "max_time_g1_3_s": np.inf, "capacitated": False}
            if name == "heuristic":
                solve_heuristic(model, **opts)
            else:
                model.solve("p_median", time_limit_s=600, **opts)
            extra["total_cost"] = model.total_cost
    elif name == "cli_help":
        subprocess.run([str(Path(sys.executable).parent / "schoolplan"), "--help"],
                       check=True, capture_output=True)
    else:
        raise SystemExit(f"unknown stage {name}")
    out = {"time_s": time.perf_counter() - t0, "cpu_s": cpu() - c0,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    return {**out, **extra}


def run_stage(name: str, folder: Path, cache: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        res = subprocess.run([sys.executable, __file__, "--stage", name, "--dir", str(folder),
                              "--cache", str(cache)], capture_output=True, text=True)
        if res.returncode != 0:
            return {"error": res.stderr.strip().splitlines()[-1:]}
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    out = dict(runs[-1])
    out["time_s"] = statistics.median(r["time_s"] for r in runs)
    out["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="county,prefecture,prefecture3")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/schoolplan-bench"))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--stages", default=None, help="comma-separated subset of the stages")
    ap.add_argument("--stage", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cache", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage:  # child process
        print(json.dumps(stage(args.stage, args.dir, args.cache)))
        return 0
    results: dict = {}
    sizes = args.sizes.split(",")
    for size in sizes:
        folder = args.dir / f"{size}-seed{args.seed}"
        t = time.perf_counter()
        generate(size, folder, args.seed)
        print(f"[{size}] synthetic data in {folder} ({time.perf_counter() - t:.0f} s)", flush=True)
        cache = folder / "cache"
        stages = ["graphml", "osm", "graphml_osmnx", "travel_old", "travel_new", "travel_warm",
                  "heuristic", "exact", "cli_help"]
        if size == "prefecture3":
            stages.remove("graphml_osmnx")
        if size != "county":
            stages.remove("exact")
        if args.stages:
            stages = [s for s in stages if s in args.stages.split(",")]
        results[size] = {"nodes": int(np.load(folder / "points.npz")["n_nodes"])}
        for name in stages:
            r = run_stage(name, folder, cache, 1 if name == "exact" else args.repeat)
            results[size][name] = r
            print(f"[{size}] {name:14s} " + (f"{r['time_s']:8.2f} s wall {r['cpu_s']:8.2f} s CPU  "
                                             f"peak {r['peak_rss_mb']:7.0f} MB"
                                             if "time_s" in r else f"failed: {r['error']}"),
                  flush=True)
        h, e = results[size].get("heuristic", {}), results[size].get("exact", {})
        if "total_cost" in h and "total_cost" in e:
            gap = (h["total_cost"] - e["total_cost"]) / e["total_cost"]
            results[size]["heuristic_gap"] = gap
            print(f"[{size}] heuristic gap to the exact optimum: {gap:.3%}")
    if len(sizes) > 1:
        a, b = sizes[0], sizes[-1]
        n_a, n_b = results[a]["nodes"], results[b]["nodes"]
        for name in ("graphml", "osm", "travel_new", "travel_warm", "heuristic"):
            for what in ("time_s", "cpu_s"):
                ta = results[a].get(name, {}).get(what)
                tb = results[b].get(name, {}).get(what)
                if ta and tb:
                    expo = math.log(tb / ta) / math.log(n_b / n_a)
                    print(f"scaling exponent {name:12s} ({what}) {a} -> {b}: {expo:.2f}")
                    results.setdefault("scaling", {})[f"{name}_{what}"] = expo
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

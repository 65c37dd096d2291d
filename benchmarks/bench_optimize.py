"""Benchmark and cross-check of schoolplan.optimize against PySAL spopt's ``PMedian``.

Run ``python benchmarks/bench_optimize.py`` (``--quick`` for the demo county only). Needs
``spopt`` (``pip install spopt``, the ``bench`` extra); without it only schoolplan's own timings are
printed, with a message.

Two p-median instances with **no policy constraints** (no seats, caps, towns or walking limit):

* the demo county (``scenarios/demo-county.yaml``): every (village, grade group) is a demand
  point, its road-distance candidates from ``schoolplan.catchments.catchment_costs`` are the pairs,
  p = number of schools - 15;
* a synthetic instance: ``--villages`` x ``--schools`` uniform points over 60 km x 60 km,
  distance = 1.3 x straight line, each village keeping its ``--k`` nearest schools, weights 5-300
  pupils, p = ``--p``.

and ``--prefecture``: the heuristic optimiser (:func:`schoolplan.optimize.solve_heuristic`) at
Liaocheng's scale (issue 15 item 6: 2,300 schools, 6,500 villages, 135 towns, three grade groups,
each village group keeping its ``--k-prefecture`` nearest schools teaching it; p = 85 % of the
schools, a school teaching grades 7-9 per town, no walking limit), timed with its layout's
assignment, medians of ``--repeat``: with the size caps on they bind (the active-set transport,
then the seat-aware improvement of the layout, :mod:`schoolplan.optimize.capacitated`), with them
off nothing binds (the nearest-open assignment); each against the exact HiGHS assignment of the
same layout (the previous way). On the demo county: the heuristic's gap to the exact optimum at
several p, with seats off and on (the pupils left without a seat, if any, are printed: a
layout that leaves pupils without a seat has less travel, so its gap alone would flatter it).

spopt gets the same matrix, dense, with pairs that are not candidates at a prohibitive cost
(``--big`` x the largest cost); its optimum equals ours when it uses none of them (reported).
spopt solves with its PuLP + CBC default (``--spopt-solver highs`` uses PuLP's HiGHS interface
when ``highspy`` is installed). Times are wall-clock medians of ``--repeat`` runs, model building
included for both.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schoolplan.optimize import LocationModel  # noqa: E402  (after the sys.path line above)

NO_POLICY = {"capacitated": False, "size_caps": False, "junior_school_per_town": False,
             "max_time_g1_3_s": np.inf}


def demo_instance():
    """(costs, demand groups, schools, towns) of the demo county, as schoolplan.scenario builds them."""
    from schoolplan import catchments as ca
    from schoolplan import scenario as sc
    from schoolplan.settings import Settings
    from schoolplan.travel import network_mode

    scn = sc.load_scenario(ROOT / "scenarios" / "demo-county.yaml")
    s = Settings(scn.settings, origin="scenario")
    inputs = sc.load_inputs(scn, s)
    groups = ca.demand_by_group(inputs.demand, s)
    networks, frames = {}, []
    for group in ca.GRADE_GROUPS:
        nmode = network_mode(s[f"travel_mode_{group}"])
        if nmode not in networks:
            networks[nmode] = sc.load_roads(scn.inputs.get("roads"), mode=nmode, settings=s,
                                            towns=inputs.towns)
        frames.append(ca.catchment_costs(networks[nmode], inputs.demand, inputs.schools,
                                         groups[groups["group"] == group], settings=s))
    costs = pd.concat(frames, ignore_index=True)
    schools = inputs.schools[["school_id", "level", "town_code"]].join(
        ca.seats_by_part(inputs.schools), on="school_id")
    return costs, groups, schools, inputs.towns


def synthetic_instance(n_villages: int, n_schools: int, k: int, seed: int = 0):
    """Uniform villages and schools over 60 km x 60 km, each village's k nearest schools."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0, 60_000, (n_villages, 2))
    s = rng.uniform(0, 60_000, (n_schools, 2))
    d = 1.3 * np.hypot(v[:, None, 0] - s[None, :, 0], v[:, None, 1] - s[None, :, 1])
    nearest = np.argsort(d, axis=1)[:, :k]
    rows = np.repeat(np.arange(n_villages), k)
    cols = nearest.ravel()
    sid = np.array([f"S{j}" for j in range(n_schools)], dtype=object)
    vid = np.array([f"V{i}" for i in range(n_villages)], dtype=object)
    costs = pd.DataFrame({"from_id": vid[rows], "to_id": sid[cols], "group": "g4_6",
                          "distance_m": d[rows, cols].round(1), "time_s": np.nan,
                          "mode": "walk_g4_9"})
    groups = pd.DataFrame({"demand_id": vid, "group": "g4_6",
                           "pupils": rng.integers(5, 300, n_villages).astype(float)})
    schools = pd.DataFrame({"school_id": sid, "level": "primary", "town_code": None,
                            "seats_primary": np.nan, "seats_junior": np.nan})
    return costs, groups, schools, []


LEVELS = ["primary"] * 60 + ["teaching_point"] * 12 + ["junior"] * 14 + ["nine_year"] * 14


def prefecture_instance(n_villages: int = 6_500, n_schools: int = 2_300, n_towns: int = 135,
                        k: int = 10, seed: int = 15):
    """A synthetic prefecture: uniform points over 150 km x 150 km, towns as grid cells, school
    levels in the proportions of ``bench_pipeline.py``, seats not binding, cost 1.3 x straight line
    to the ``k`` nearest schools teaching each grade group (SYNTHETIC data)."""
    from scipy.spatial import cKDTree

    from schoolplan.catchments import GRADE_GROUPS, serves

    rng = np.random.default_rng(seed)
    side = 150_000.0
    v = rng.uniform(0, side, (n_villages, 2))
    s = rng.uniform(0, side, (n_schools, 2))
    cells = int(np.ceil(np.sqrt(n_towns)))

    def town(xy):
        c = np.minimum((xy / side * cells).astype(int), cells - 1)
        return np.minimum(c[:, 0] * cells + c[:, 1], n_towns - 1)

    level = np.array(LEVELS, dtype=object)[rng.integers(0, len(LEVELS), n_schools)]
    sid = np.array([f"S{j}" for j in range(n_schools)], dtype=object)
    vid = np.array([f"V{i}" for i in range(n_villages)], dtype=object)
    frames, groups = [], []
    for g in GRADE_GROUPS:
        ok = np.flatnonzero([serves(lv, g) for lv in level])
        d, idx = cKDTree(s[ok]).query(v, k=min(k, len(ok)))
        frames.append(pd.DataFrame({"from_id": np.repeat(vid, d.shape[1]),
                                    "to_id": sid[ok][idx.ravel()], "group": g,
                                    "distance_m": (1.3 * d.ravel()).round(1),
                                    "time_s": (1.3 * d.ravel() / 1.1).round(1), "mode": "walk"}))
        groups.append(pd.DataFrame({"demand_id": vid, "group": g,
                                    "pupils": rng.integers(5, 150, n_villages).astype(float)}))
    schools = pd.DataFrame({"school_id": sid, "level": level,
                            "town_code": [f"T{t}" for t in town(s)],
                            "seats_primary": np.nan, "seats_junior": np.nan})
    return (pd.concat(frames, ignore_index=True), pd.concat(groups, ignore_index=True), schools,
            sorted(schools["town_code"].unique()))


def bench_heuristic(args) -> None:
    """Heuristic + its assignment at prefecture scale; the county gap to the exact optimum."""
    from schoolplan.optimize import solve_heuristic

    costs, groups, schools, towns = prefecture_instance(k=args.k_prefecture)
    model = LocationModel.from_costs(costs, groups, schools, towns)
    p = round(0.85 * len(model.schools))
    opts = {"p": p, "max_time_g1_3_s": np.inf, "capacitated": False}
    print(f"\n== heuristic, synthetic prefecture: {len(model.demand):,} village groups x "
          f"{len(model.schools):,} schools, {len(model.pairs):,} candidate pairs, "
          f"{len(towns)} towns, p={p}")
    solve_heuristic(model, **opts, size_caps=False)  # the first run imports scipy.optimize
    for caps in (True, False):
        o = {**opts, "size_caps": caps}
        fast, cpu, cost_fast = [], [], None
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            solve_heuristic(model, **o)
            fast.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            cost_fast = model.total_cost
        method = model.assign_method
        layout = model.open_schools.index.tolist()
        closed = model.closed_schools.index.tolist()
        t0, c0 = time.perf_counter(), time.process_time()
        model.solve("p_median", p=p, must_keep=layout, must_close=closed, time_limit_s=600,
                    **{k: v for k, v in o.items() if k != "p"})
        exact_wall, exact_cpu = time.perf_counter() - t0, time.process_time() - c0
        med, med_cpu = statistics.median(fast), statistics.median(cpu)
        print(f"  size caps {'on (they bind on this instance)' if caps else 'off (nothing binds)'}:"
              f" search + {method} assignment, median of {len(fast)}: {med:.2f} s wall, "
              f"{med_cpu:.2f} s CPU (runs: {', '.join(f'{t:.2f}' for t in fast)} s); "
              f"total travel {cost_fast:,.0f}")
        print(f"    the same layout assigned by the exact model (the previous way): {exact_wall:.2f} s "
              f"wall, {exact_cpu:.2f} s CPU, total travel {model.total_cost:,.0f} (relative "
              f"difference {abs(model.total_cost - cost_fast) / model.total_cost:.1e}); "
              f"previous way (search + exact assignment) / now: "
              f"{(med_cpu + exact_cpu) / med_cpu:.1f}x CPU")
    # the county: the gap to the exact optimum
    demo = demo_instance()
    m = LocationModel.from_costs(*demo)
    n = len(m.schools)
    print(f"\n== heuristic gap on the demo county ({n} schools, town rule, walking limit off)")
    for cap in (False, True):
        for p in sorted({max(n - 5, 1), max(n - 15, 1), max(n - 25, 1), round(0.7 * n),
                         max(n - 30, 1), max(n - 35, 1)}):
            o = {"p": p, "max_time_g1_3_s": np.inf, "capacitated": cap}
            try:
                t0 = time.perf_counter()
                m.solve("p_median", time_limit_s=args.time_limit, **o)
                te, exact = time.perf_counter() - t0, m.total_cost
                t0 = time.perf_counter()
                solve_heuristic(m, **o)
                th = time.perf_counter() - t0
            except Exception as exc:  # an infeasible p is reported, not a failure
                print(f"  seats {'on ' if cap else 'off'} p={p}: {str(exc).splitlines()[0]}")
                continue
            gap = (m.total_cost - exact) / exact if exact else 0.0
            short = (f"; {m.shortage_pupils:,.0f} pupils without a seat, the exact layout none"
                     if m.shortage_pupils else "")
            print(f"  seats {'on ' if cap else 'off'} p={p}: gap {gap:.3%} "
                  f"(heuristic {th:.2f} s, {m.assign_method} assignment, status {m.status}; "
                  f"exact {te:.2f} s{short})")


def dense_matrix(model: LocationModel, big: float):
    """The model's pairs as a dense demand x school matrix; non-candidates cost ``big`` x max."""
    pr = model.pairs
    m = np.full((len(model.demand), len(model.schools)), np.nan)
    m[pr["k"].to_numpy(), pr["j"].to_numpy()] = pr["cost"].to_numpy()
    absent = np.isnan(m)
    m[absent] = big * float(np.nanmax(m))
    return m, absent, model.demand["pupils"].to_numpy(float)


def run_planner(costs, groups, schools, towns, p, time_limit_s):
    t0 = time.perf_counter()
    m = LocationModel.from_costs(costs, groups, schools, towns)
    m.solve("p_median", p=p, time_limit_s=time_limit_s, mip_gap=1e-6, **NO_POLICY)
    return m, time.perf_counter() - t0


def run_spopt(matrix, weights, p, solver_name, time_limit_s):
    import pulp
    from spopt.locate import PMedian

    if solver_name == "highs":
        solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=1e-6)
    else:
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=1e-6)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PMedian.from_cost_matrix(matrix, weights, p_facilities=p).solve(solver)
    elapsed = time.perf_counter() - t0
    status = pulp.LpStatus[model.problem.status]
    open_idx = [j for j, var in enumerate(model.fac_vars) if var.value() and var.value() > 0.5]
    return float(model.problem.objective.value()), status, open_idx, elapsed


def bench(name, instance, p, args, spopt_ok):
    costs, groups, schools, towns = instance
    times, m = [], None
    for _ in range(args.repeat):
        m, t = run_planner(costs, groups, schools, towns, p, args.time_limit)
        times.append(t)
    solver_times = []  # solver only, last run
    print(f"\n== {name}: {len(m.demand):,} demand points x {len(m.schools):,} schools, "
          f"{len(m.pairs):,} candidate pairs, p={p}")
    print(f"schoolplan (scipy milp / HiGHS): objective {m.objective_value:,.1f}  status {m.status}  "
          f"gap {m.gap:.1e}  {m.n_variables:,} variables, {m.n_constraints:,} constraints")
    print(f"  time median of {len(times)}: {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}; solver alone in the last run "
          f"{m.solve_time_s:.2f} s)")
    _ = solver_times
    if not spopt_ok:
        return
    matrix, absent, weights = dense_matrix(m, args.big)
    s_times, obj, status, open_idx = [], None, None, []
    for _ in range(args.spopt_repeat or args.repeat):
        obj, status, open_idx, t = run_spopt(matrix, weights, p, args.spopt_solver,
                                              args.spopt_time_limit)
        s_times.append(t)
    chosen = matrix[:, open_idx].argmin(axis=1) if open_idx else np.array([], int)
    uses_absent = bool(open_idx) and bool(absent[np.arange(len(matrix)),
                                                 np.asarray(open_idx)[chosen]].any())
    print(f"spopt PMedian.from_cost_matrix ({args.spopt_solver}): objective {obj:,.1f}  "
          f"status {status}  dense {matrix.shape[0]:,} x {matrix.shape[1]:,} = "
          f"{matrix.size:,} assignment variables")
    print(f"  time median of {len(s_times)}: {statistics.median(s_times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in s_times)})")
    same = abs(obj - m.objective_value) <= 1e-6 * max(1.0, abs(obj))
    print(f"  objectives equal: {same} (relative difference "
          f"{abs(obj - m.objective_value) / max(1.0, abs(obj)):.1e}); spopt uses a non-candidate "
          f"pair: {uses_absent}; same open schools: "
          f"{set(open_idx) == set(m.schools.index.get_indexer(m.open_schools.index))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="demo county only")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--spopt-repeat", type=int, default=None,
                    help="runs of spopt (default: --repeat)")
    ap.add_argument("--villages", type=int, default=2000)
    ap.add_argument("--schools", type=int, default=300)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--p", type=int, default=100)
    ap.add_argument("--big", type=float, default=100.0)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--spopt-time-limit", type=float, default=900.0)
    ap.add_argument("--spopt-solver", choices=("cbc", "highs"), default="cbc")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--prefecture", action="store_true",
                    help="only the heuristic at prefecture scale and its county gap")
    ap.add_argument("--k-prefecture", type=int, default=10)
    args = ap.parse_args(argv)
    logging.getLogger("schoolplan").setLevel(logging.WARNING)
    if args.prefecture:
        bench_heuristic(args)
        return 0
    spopt_ok = False
    if not args.no_spopt:
        spopt_ok = importlib.util.find_spec("spopt") is not None
        if not spopt_ok:
            print("spopt is not installed (pip install spopt): skipping the cross-check, "
                  "schoolplan timings only")
    demo = demo_instance()
    bench("demo county", demo, len(demo[2]) - 15, args, spopt_ok)
    if not args.quick:
        syn = synthetic_instance(args.villages, args.schools, args.k)
        bench(f"synthetic ({args.k} nearest candidates)", syn, args.p, args, spopt_ok)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``schoolplan`` command line end to end on bureau-shaped SYNTHETIC files (issue 15).

    python benchmarks/bench_pipeline.py                       # county, prefecture, 3x; medians of 3
    python benchmarks/bench_pipeline.py --sizes county --repeat 1          # a quick run (minutes)
    python benchmarks/bench_pipeline.py --sizes prefecture --stages run_warm,close20

For each size (``benchmarks/synthetic_bureau.py``: a county of 300 schools; a prefecture with
Liaocheng's counts, 2,300 schools, 6,500 villages, 135 towns in 8 counties, 313,600 road nodes;
``prefecture3``, three times it) it writes, deterministically from ``--seed``, the files a
bureau has (ledger ``.xlsx`` with Chinese headers, towns and villages as GeoJSON, roads as
``.osm.pbf`` and as GraphML) and scenario files, then times the installed ``schoolplan``
command in a child process, each stage ``--repeat`` times (median):

=====================  ==========================================================  =========
stage                  command                                                     cache
=====================  ==========================================================  =========
``startup_help``       ``schoolplan --help``                                       —
``check_cold``         ``schoolplan check base-pbf.yaml`` (inputs and roads)       empty
``check``              the same                                                    warm
``run_pbf_cold``       ``schoolplan run base-pbf.yaml`` (roads ``.osm.pbf``)       empty
``run_graphml_cold``   ``schoolplan run base-graphml.yaml`` (roads GraphML)        empty
``run_warm``           ``schoolplan run base-pbf.yaml`` again                      warm
``close20``            a scenario closing the 20 smallest primary schools          warm
``planet_satellite``   every town laid out as planet and satellites                warm
``optimise_exact``     p-median keeping 85 % of the schools, HiGHS                 warm
``optimise_heuristic`` the same, greedy + interchange (``method: heuristic``)      warm
``compare3``           ``schoolplan compare`` of base, close20, planet_satellite   warm
=====================  ==========================================================  =========

"Empty" is a new cache folder for every repetition (``SCHOOLPLAN_CACHE_DIR``); "warm" is one
filled by an untimed base run first. For each stage it prints the wall time, the CPU time of the
child and everything it waited for (its worker processes included; on a shared machine the
steadier figure) and the peak RSS of the largest of those processes (``os.wait4``), plus the
load average; the child's progress lines (stderr) are kept in ``<dir>/logs`` to see where the
time goes. Then the scaling exponent of each stage between the smallest and the largest size
(``log(t2 / t1) / log(n2 / n1)`` over road nodes). ``--json`` writes every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synthetic_bureau import SIZES, write_bureau  # noqa: E402

STAGES = ("startup_help", "check_cold", "check", "run_pbf_cold", "run_graphml_cold", "run_warm",
          "close20", "planet_satellite", "optimise_exact", "optimise_heuristic", "compare3")
SCALED = ("check", "run_pbf_cold", "run_graphml_cold", "run_warm", "close20", "planet_satellite",
          "optimise_heuristic", "compare3")

_HEAD = """# SYNTHETIC benchmark data (benchmarks/synthetic_bureau.py): nothing here is real.
name: {name}
title: "合成基准 {size}（合成数据）/ Synthetic benchmark {size} (synthetic data)"
synthetic: true
inputs:
  schools: {{path: ../schools_synthetic.xlsx, coordinate_system: wgs84}}
  towns:   {{path: ../towns_synthetic.geojson}}
  demand:  {{path: ../villages_synthetic.geojson}}
  roads:   {{path: ../roads_synthetic.{roads}}}
settings:
  small_school_tiers: [200, 100, 50]
actions: {actions}
"""


def write_scenarios(folder: Path, size: str, counts: dict) -> dict[str, Path]:
    """The scenario files of the stages, in ``folder/scenarios``."""
    p = round(0.85 * counts["schools"])
    opt = ("\n  - optimise: {{objective: p_median, p: {p}, method: {m}, walk_limit_g1_3: false, "
           "capacitated: false, time_limit_s: 600}}")
    actions = {
        "base-pbf": ("pbf", "osm.pbf", "[]"),
        "base-graphml": ("graphml", "graphml", "[]"),
        "close20": ("close20", "osm.pbf", "\n  - close: [" + ", ".join(
            f"'{i}'" for i in counts["close20"]) + "]"),
        "planet-satellite": ("planet-satellite", "osm.pbf",
                             "\n  - planet_satellite: {towns: all, planet_rule: central}"),
        "optimise-exact": ("optimise-exact", "osm.pbf", opt.format(p=p, m="exact")),
        "optimise-heuristic": ("optimise-heuristic", "osm.pbf", opt.format(p=p, m="heuristic")),
    }
    out = {}
    (folder / "scenarios").mkdir(exist_ok=True)
    for key, (name, roads, acts) in actions.items():
        path = folder / "scenarios" / f"{key}.yaml"
        path.write_text(_HEAD.format(name=f"bench-{size}-{name}", size=size, roads=roads,
                                     actions=acts), encoding="utf-8")
        out[key] = path
    return out


def measure(argv: list[str], env: dict, log: Path) -> dict:
    """Run one command; wall time, CPU time of it and its reaped descendants, peak RSS (MB)."""
    with open(log, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    out = {"time_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
           "peak_rss_mb": usage.ru_maxrss / 1024}
    first = log.read_text(encoding="utf-8", errors="replace").lstrip().split("]", 1)[0]
    if first.startswith("["):  # "[   4.7 s] reading ...": the start-up before the first step
        with contextlib.suppress(ValueError):
            out["startup_s"] = float(first[1:].split()[0])
    return out


def stage_command(name: str, sc: dict[str, Path], out: Path) -> list[str]:
    exe = str(Path(sys.executable).parent / "schoolplan")
    run = [exe, "run", "--lang", "en", "--out", str(out)]
    return {
        "startup_help": [exe, "--help"],
        "check_cold": [exe, "check", str(sc["base-pbf"]), "--lang", "en"],
        "check": [exe, "check", str(sc["base-pbf"]), "--lang", "en"],
        "run_pbf_cold": [*run, str(sc["base-pbf"])],
        "run_graphml_cold": [*run, str(sc["base-graphml"])],
        "run_warm": [*run, str(sc["base-pbf"])],
        "close20": [*run, str(sc["close20"])],
        "planet_satellite": [*run, str(sc["planet-satellite"])],
        "optimise_exact": [*run, str(sc["optimise-exact"])],
        "optimise_heuristic": [*run, str(sc["optimise-heuristic"])],
        "compare3": [exe, "compare", "--lang", "en", "--out", str(out), str(sc["base-pbf"]),
                     str(sc["close20"]), str(sc["planet-satellite"])],
    }[name]


def run_stage(name: str, folder: Path, sc: dict[str, Path], repeat: int) -> dict:
    runs = []
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    for k in range(repeat):
        cold = name.endswith("_cold")
        cache = folder / (f"cache-cold-{name}" if cold else "cache-warm")
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        env = {**os.environ, "SCHOOLPLAN_CACHE_DIR": str(cache), "PYTHONHASHSEED": "0"}
        out = folder / "out" / f"{name}-{k}"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        r = measure(stage_command(name, sc, out), env, logs / f"{name}-{k}.log")
        shutil.rmtree(out, ignore_errors=True)
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        if "error" in r:
            return r
        runs.append({**r, "load": load})
    return {"time_s": statistics.median(r["time_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "load": statistics.median(r["load"] for r in runs), "runs": runs,
            **({"startup_s": statistics.median(r["startup_s"] for r in runs)}
               if all("startup_s" in r for r in runs) else {})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="county,prefecture,prefecture3",
                    help=f"comma-separated, of {', '.join(SIZES)}")
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage (median printed)")
    ap.add_argument("--stages", default=None, help=f"comma-separated subset of {', '.join(STAGES)}")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/schoolplan-bench-cli"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    sizes = args.sizes.split(",")
    stages = [s for s in STAGES if args.stages is None or s in args.stages.split(",")]
    unknown = set(sizes) - set(SIZES) | set((args.stages or "").split(",") if args.stages else ()) - set(STAGES)
    if unknown:
        ap.error(f"unknown size or stage: {sorted(unknown)}")
    results: dict = {}
    for size in sizes:
        folder = args.dir / f"{size}-seed{args.seed}"
        t = time.perf_counter()
        counts = write_bureau(size, folder, args.seed)
        sc = write_scenarios(folder, size, counts)
        print(f"[{size}] SYNTHETIC files in {folder} ({time.perf_counter() - t:.0f} s): "
              f"{counts['nodes']:,} road nodes, {counts['schools']:,} schools, "
              f"{counts['villages']:,} villages, {counts['towns']} towns in "
              f"{counts['counties']} counties", flush=True)
        results[size] = {"counts": {k: v for k, v in counts.items() if k != "close20"}}
        warm = folder / "cache-warm"
        shutil.rmtree(warm, ignore_errors=True)
        if set(stages) - {"startup_help", "check_cold", "run_pbf_cold", "run_graphml_cold"}:
            primed = measure(stage_command("run_warm", sc, folder / "out" / "prime"),
                             {**os.environ, "SCHOOLPLAN_CACHE_DIR": str(warm)},
                             folder / "prime.log")
            shutil.rmtree(folder / "out" / "prime", ignore_errors=True)
            if "error" in primed:
                print(f"[{size}] priming run failed: {primed['error']}", flush=True)
                continue
            results[size]["prime"] = primed  # a cold run too (one repetition): printed for short runs
            print(f"[{size}] {'(priming run_pbf)':18s} {primed['time_s']:8.2f} s wall "
                  f"{primed['cpu_s']:8.2f} s CPU  peak {primed['peak_rss_mb']:6.0f} MB", flush=True)
        for name in stages:
            r = run_stage(name, folder, sc, args.repeat)
            results[size][name] = r
            print(f"[{size}] {name:18s} " + (
                f"{r['time_s']:8.2f} s wall {r['cpu_s']:8.2f} s CPU  peak {r['peak_rss_mb']:6.0f} MB"
                f"  (load {r['load']:.1f})" + (f"  start-up {r['startup_s']:.1f} s" if "startup_s" in r
                                               else "") if "time_s" in r else f"failed: {r['error']}"),
                flush=True)
    done = [s for s in sizes if s in results and "counts" in results[s]]
    if len(done) > 1:
        a, b = done[0], done[-1]
        n_a, n_b = results[a]["counts"]["nodes"], results[b]["counts"]["nodes"]
        for name in SCALED:
            for what in ("time_s", "cpu_s"):
                ta, tb = results[a].get(name, {}).get(what), results[b].get(name, {}).get(what)
                if ta and tb:
                    expo = math.log(tb / ta) / math.log(n_b / n_a)
                    results.setdefault("scaling", {})[f"{name}_{what}"] = expo
                    print(f"scaling exponent {name:18s} ({what[:-2]:4s}) {a} -> {b}: {expo:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

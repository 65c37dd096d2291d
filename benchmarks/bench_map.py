"""Benchmark of the prefecture map (issue 15 item 7): file size and draw time in Chromium.

Run ``python benchmarks/bench_map.py`` (about two minutes). SYNTHETIC data: the bundled demo
county is evaluated once, then tiled ``--copies`` times (default 32: about 2,300 schools, as in
Liaocheng) side by side, each copy with its own ids and names and every geometry shifted, roads
included; every other village is kept so the prefecture has about Liaocheng's 6,500. The overview
map of that prefecture is written with :func:`schoolplan.outputs.maps.save_map` and opened
``--repeat`` times in Debian's headless Chromium (never a downloaded browser; no network).

Printed: the county's and the prefecture's map size (MB), the time to write the map (s) and the
draw time in Chromium: from navigation start until Leaflet has drawn every layer shown when the
map opens and two animation frames have passed (median of ``--repeat``, with the spread). The
targets are ≤ 8 MB and ≤ 3 s. Draw times depend on the machine and on its load; the figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DEMO = ROOT / "scenarios" / "demo-county.yaml"


def _shift(gdf, dx: float, dy: float):
    from shapely import affinity

    out = gdf.copy()
    if "geometry" in out and hasattr(out, "geometry"):
        out["geometry"] = [None if g is None else affinity.translate(g, dx, dy) for g in out.geometry]
    for col, d in (("lon", dx), ("lat", dy)):
        if col in out:
            out[col] = out[col] + d
    return out


def _ids(df, columns, k: int):
    out = df.copy()
    for col in columns:
        if col in out:
            out[col] = [v if not isinstance(v, str) or not v else
                        ";".join(f"{i}~{k}" for i in v.split(";")) for v in out[col]]
    return out


def _tile_network(net, copies: list[tuple[float, float]]):
    """``net`` repeated at each (dx, dy) offset in metres: one graph of disjoint copies."""
    n, e = net.n_nodes, net.n_edges
    k = len(copies)
    return dataclasses.replace(
        net,
        node_id=np.concatenate([net.node_id.astype(str) + f"~{i}" for i in range(k)]),
        x=np.concatenate([net.x + dx for dx, _ in copies]),
        y=np.concatenate([net.y + dy for _, dy in copies]),
        indptr=np.concatenate([net.indptr[:1]] + [net.indptr[1:] + i * e for i in range(k)]),
        indices=np.concatenate([net.indices + i * n for i in range(k)]),
        length_m=np.tile(net.length_m, k), highway_code=np.tile(net.highway_code, k),
        maxspeed_kph=np.tile(net.maxspeed_kph, k), name_code=np.tile(net.name_code, k),
        in_main_component=np.tile(net.in_main_component, k))


def tiled_result(result, copies: int, *, village_every: int = 2):
    """The demo ``result`` as a synthetic prefecture of ``copies`` counties side by side."""
    import geopandas as gpd
    from pyproj import Transformer

    x0, y0, x1, y1 = result.towns.total_bounds
    cols = int(np.ceil(np.sqrt(copies * 2)))
    offsets = [((i % cols) * (x1 - x0) * 1.02, (i // cols) * (y1 - y0) * 1.02) for i in range(copies)]
    net = result.networks.get("walk")
    to_m = Transformer.from_crs(4326, net.crs, always_xy=True) if net is not None else None
    sid = ["school_id", "planet_id", "satellite_ids", "closed_ids", "demand_id"]

    def cat(frames):
        first = frames[0]
        out = pd.concat(frames, ignore_index=True)
        if isinstance(first, gpd.GeoDataFrame):
            out = gpd.GeoDataFrame(out, geometry="geometry", crs=first.crs)
        out.attrs = dict(first.attrs)
        return out

    def tile(df, *, geo=True, names=(), ids=sid):
        if df is None:
            return None
        parts = []
        for k, (dx, dy) in enumerate(offsets):
            part = _shift(df, dx, dy) if geo else df.copy()
            part = _ids(part, ids, k)
            for col in names:
                part[col] = part[col].astype(str) + f"·{k + 1}"
            parts.append(part)
        return cat(parts)

    towns = tile(result.towns, names=("town",), ids=("town_code",))
    demand = tile(result.inputs.demand, names=("name",))
    demand = demand.iloc[::village_every].reset_index(drop=True)
    networks = dict(result.networks)
    if net is not None:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        mx, my = to_m.transform([cx + dx for dx, _ in offsets], [cy + dy for _, dy in offsets])
        bx, by = to_m.transform(cx, cy)
        networks["walk"] = _tile_network(net, [(a - bx, b - by) for a, b in zip(mx, my, strict=True)])
    inputs = dataclasses.replace(result.inputs, demand=demand)
    return dataclasses.replace(
        result, inputs=inputs, towns=towns, networks=networks,
        schools=tile(result.schools, names=("name",)),
        catchments=tile(result.catchments),
        seat_warnings=tile(result.seat_warnings, geo=False),
        candidates=tile(result.candidates, geo=False),
        layouts=tile(result.layouts, geo=False),
        assignments=tile(result.assignments, geo=False))


_DRAWN_JS = r"""
() => new Promise(resolve => {
  const frames = () => requestAnimationFrame(() => requestAnimationFrame(
      () => resolve(performance.now())));
  if (document.readyState === 'complete') frames();
  else window.addEventListener('load', frames);
})
"""


def draw_times(path: Path, repeat: int) -> list[float]:
    """Seconds from navigation start until the map has been drawn, ``repeat`` fresh pages."""
    from _browser import BROWSER_ARGS
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium fonts-wqy-microhei")
    times = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                   args=BROWSER_ARGS,
                                                   viewport={"width": 1600, "height": 1000})
        try:
            for _ in range(repeat):
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri(), wait_until="commit", timeout=120_000)
                ms = page.evaluate(_DRAWN_JS)
                if errors:
                    raise SystemExit(f"the map has script errors: {errors[:3]}")
                times.append(ms / 1000)
                page.close()
        finally:
            ctx.close()
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="folder for the maps (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--also", type=Path, default=None,
                    help="another saved map (e.g. one written by an older version) timed alternately with "
                         "the prefecture map, so that both see the same machine load")
    args = ap.parse_args(argv)

    from schoolplan.outputs.maps import overview_map, save_map
    from schoolplan.scenario import evaluate, load_scenario

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-map-"))
    out.mkdir(parents=True, exist_ok=True)
    county = evaluate(load_scenario(DEMO))
    pref = tiled_result(county, args.copies)
    figures: dict = {"copies": args.copies}
    for name, result in (("county", county), ("prefecture", pref)):
        t0 = time.perf_counter()
        path = save_map(overview_map(result), out / f"map-{name}.html")
        write_s = time.perf_counter() - t0
        draws = draw_times(path, args.repeat)
        figures[name] = {
            "schools": len(result.schools), "towns": len(result.towns),
            "villages": len(result.inputs.demand),
            "catchments": 0 if result.catchments is None else len(result.catchments),
            "road_nodes": result.networks["walk"].n_nodes if result.networks.get("walk") else 0,
            "mb": round(path.stat().st_size / 1e6, 2), "write_s": round(write_s, 2),
            "draw_s_median": round(statistics.median(draws), 2),
            "draw_s_min": round(min(draws), 2), "draw_s_max": round(max(draws), 2),
            "path": str(path)}
        f = figures[name]
        print(f"{name:10s} {f['schools']:5d} schools {f['towns']:4d} towns {f['villages']:6d} villages "
              f"{f['catchments']:5d} catchments: {f['mb']:6.2f} MB, written in {f['write_s']:.1f} s, "
              f"drawn in {f['draw_s_median']:.2f} s (median of {args.repeat}, "
              f"{f['draw_s_min']:.2f}-{f['draw_s_max']:.2f})", flush=True)
    if args.also:
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours += draw_times(Path(figures["prefecture"]["path"]), 1)
            theirs += draw_times(args.also, 1)
        figures["also"] = {"path": str(args.also), "mb": round(args.also.stat().st_size / 1e6, 2),
                           "draw_s_median": round(statistics.median(theirs), 2),
                           "prefecture_draw_s_median": round(statistics.median(ours), 2)}
        print(f"alternating: this map {statistics.median(ours):.2f} s, {args.also.name} "
              f"({figures['also']['mb']} MB) {statistics.median(theirs):.2f} s (medians of {args.repeat}); "
              f"ratio {statistics.median(theirs) / statistics.median(ours):.2f}")
    print(f"targets: prefecture <= 8 MB ({figures['prefecture']['mb']} MB), "
          f"drawn <= 3 s ({figures['prefecture']['draw_s_median']} s); maps in {out}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

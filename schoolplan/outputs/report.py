"""Writing a run's results: CSV tables, ``summary.json``, the map, the validation report.

Files are written atomically (a temporary file in the same folder, then ``os.replace``), CSV in
UTF-8 with a BOM so that Excel opens Chinese text correctly, and never over an input file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import __version__
from schoolplan.counties import result_counties
from schoolplan.outputs import maps
from schoolplan.outputs.escape import csv_safe
from schoolplan.outputs.excel import write_report_xlsx
from schoolplan.outputs.files import atomic_write
from schoolplan.outputs.folder import OutputFolder, moved
from schoolplan.outputs.gpkg import write_geopackage
from schoolplan.outputs.summary import write_run_summary
from schoolplan.outputs.towns_book import write_towns_xlsx
from schoolplan.schema import GRADE_COLUMNS

__all__ = ["SCHOOL_OUTPUT_COLUMNS", "TOWN_OUTPUT_COLUMNS", "write_csv", "write_outputs"]

logger = logging.getLogger(__name__)

SCHOOL_OUTPUT_COLUMNS = [
    "school_id", "name", "level", "town_code", "town", "county", "enrollment", "enrollment_ledger",
    *GRADE_COLUMNS,
    "classes", "teachers", "seats", "seats_source", "area_type", "lon", "lat", "small_tier",
    "size_cap", "over_size_cap", "avg_class_size", "class_size_limit", "over_class_size",
    "status", "level_before", "assigned_primary", "assigned_junior", "assigned_pupils", "utilisation", "seat_warning",
    "first_yellow_year", "first_red_year", "modelled_pupils", "ledger_enrollment", "model_ratio",
    "model_within_band", "mean_distance_m", "mean_time_s", "max_time_s", "town_match",
]
TOWN_OUTPUT_COLUMNS = [
    "town_code", "town", "county", "schools", "enrollment", "small_schools",
    "junior_middle_schools", "junior_middle_rule_ok", "pupils_primary", "pupils_junior",
    "lon", "lat",
]


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV with BOM, atomically; text cells that Excel would take for a
    formula (``=``, ``+``, ``-``, ``@``, tab, CR first) get a leading ``'`` (:func:`csv_cell`)."""
    return atomic_write(path, csv_safe(df).to_csv(index=False, lineterminator="\n"),
                        encoding="utf-8-sig")


def _finite(value: Any) -> Any:
    """NaN and infinities become null: strict JSON readers reject NaN."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return str(value)


def write_outputs(result, out_dir: str | Path, *, lang: str = "zh",
                  tiles: str | None = None) -> dict[str, Path]:
    """Write ``schools.csv``, ``towns.csv``, ``violations.csv`` (rule breaches, 违规),
    ``alerts.csv`` (预警与提示: red 学位预警), ``validation.csv``,
    ``summary.json`` and ``map.html`` into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    names = ["schools.csv", "towns.csv", "violations.csv", "validation.csv", "summary.json",
             "map.html"]
    if result.alerts is not None:
        names += ["alerts.csv"]
    if result.assignments is not None:
        names += ["assignments.csv", "shortage.csv", "catchments.geojson"]
    if result.seat_warnings is not None:
        names += ["seat_warnings.csv"]
    if result.balance is not None:
        names += ["balance.csv", "balance_cv.csv"]
    if result.candidates is not None:
        names += ["candidates.csv"]
    if result.layouts is not None:
        names += ["layouts.csv"]
    if result.actions is not None and len(result.actions):
        names += ["actions.csv"]
    if getattr(result, "tradeoff", None) is not None:
        names += ["tradeoff.csv", "tradeoff.xlsx", "tradeoff.svg", "tradeoff.html"]
    names += ["counties.csv", "report.xlsx", "summary.pdf", "summary.html", "towns.xlsx", "run.gpkg"]
    inputs = [info["path"] for info in result.inputs.files.values() if info.get("path")]
    if result.scenario.path:
        inputs.append(result.scenario.path)
    if tiles and tiles.startswith("local:"):
        inputs.append(tiles[6:])  # a tile folder inside --out would be replaced with it
    logger.info("writing %d files to %s", len(names), out_dir)
    with OutputFolder(out_dir, inputs=inputs, lang=lang) as tmp:
        paths = _write_all(result, tmp, names, lang=lang, tiles=tiles, final_dir=out_dir)
    return moved(paths, tmp, out_dir)


def _write_all(result, out_dir: Path, names: list[str], *, lang: str, tiles: str | None,
               final_dir: Path) -> dict[str, Path]:
    """Write every file into ``out_dir`` (the temporary folder); links are relative to ``final_dir``."""
    pending, pool = _start_heavy(result, out_dir, lang=lang, tiles=tiles, final_dir=final_dir)
    try:
        return _write_tables(result, out_dir, names, pending, lang=lang)
    except BaseException:  # an error, Ctrl-C: no writer goes on writing into the folder
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _JOB.clear()


def _write_tables(result, out_dir: Path, names: list[str], pending: list, *, lang: str) -> dict[str, Path]:
    """The tables and summary.json, then the results of the ``pending`` writers."""
    paths: dict[str, Path] = {}
    schools = result.schools
    cols = [c for c in SCHOOL_OUTPUT_COLUMNS if c in schools.columns]
    paths["schools"] = write_csv(pd.DataFrame(schools[cols]), out_dir / "schools.csv")
    towns = result.towns
    tcols = [c for c in TOWN_OUTPUT_COLUMNS if c in towns.columns]
    paths["towns"] = write_csv(pd.DataFrame(towns[tcols]), out_dir / "towns.csv")
    paths["violations"] = write_csv(result.violations, out_dir / "violations.csv")  # 违规
    if result.alerts is not None:  # 预警与提示: red 学位预警, not rule breaches
        paths["alerts"] = write_csv(result.alerts, out_dir / "alerts.csv")
    paths["validation"] = write_csv(result.inputs.problems.to_frame(), out_dir / "validation.csv")
    paths["counties"] = write_csv(result_counties(result), out_dir / "counties.csv")
    if result.assignments is not None:
        a = result.assignments.copy()
        for col in ("distance_m", "time_s"):
            a[col] = a[col].round(1)
        paths["assignments"] = write_csv(a, out_dir / "assignments.csv")
        paths["shortage"] = write_csv(result.shortage, out_dir / "shortage.csv")
        areas = result.catchments.copy()
        areas["geometry"] = areas.geometry.simplify(0.00005)
        paths["catchments"] = atomic_write(out_dir / "catchments.geojson", areas.to_json(drop_id=True))
    if result.seat_warnings is not None:
        paths["seat_warnings"] = write_csv(result.seat_warnings, out_dir / "seat_warnings.csv")
    if result.balance is not None:
        paths["balance"] = write_csv(result.balance, out_dir / "balance.csv")
        cv = result.balance_cv.merge(
            result.balance_contributors.groupby(["level", "indicator"])["name"].agg("、".join)
            .rename("pulled_up_most_by").reset_index(), on=["level", "indicator"], how="left")
        paths["balance_cv"] = write_csv(cv, out_dir / "balance_cv.csv")
    if result.candidates is not None:
        paths["candidates"] = write_csv(result.candidates, out_dir / "candidates.csv")
    if result.layouts is not None:
        paths["layouts"] = write_csv(result.layouts, out_dir / "layouts.csv")
    if result.actions is not None and len(result.actions):
        paths["actions"] = write_csv(result.actions, out_dir / "actions.csv")
    if getattr(result, "tradeoff", None) is not None:  # the optimiser's trade-off (issue 14)
        from schoolplan.outputs.tradeoff import write_tradeoff

        paths.update(write_tradeoff(result.tradeoff, out_dir, lang=lang))
    summary = {
        "tool": "schoolplan",
        "version": __version__,
        "scenario": {"name": result.scenario.name, "title": result.scenario.title,
                     "year": getattr(result.scenario, "year", None),
                     "file": str(result.scenario.path) if result.scenario.path else None},
        "created": result.created,
        "synthetic_data": result.scenario.synthetic,
        "inputs": result.inputs.files,
        "distance_method": result.distance_method,
        "settings": result.settings.to_records(),
        "counts": result.counts,
        "indicators": result.indicators,
        "outputs": names,
    }
    paths["summary"] = atomic_write(
        out_dir / "summary.json",
        json.dumps(_finite(summary), ensure_ascii=False, indent=2, default=_json_default,
                   allow_nan=False) + "\n",
    )
    from concurrent.futures.process import BrokenProcessPool

    done: dict[str, dict[str, Path]] = {}
    for name, got in pending:  # the writers started above, in their processes or here
        try:
            done[name] = got() if callable(got) else got.result()
        except BrokenProcessPool:  # a writer process died (killed, out of memory): write it here
            logger.warning("a writer process stopped; writing %s in this process", name)
            done[name] = _write_one(name)
    for name in ("map", "report", "summary", "towns_book", "geopackage"):  # the order files are listed
        paths.update(done[name])
    return paths


#: The longer writers of a run, longest first (measured at prefecture scale, issue 15): run in
#: ``workers`` processes forked after the result exists, while this process writes the tables.
HEAVY_WRITERS = ("towns_book", "map", "report", "geopackage", "summary")

#: What a forked writer reads: (result, out_dir, lang, tiles, final_dir), set just before the
#: fork so that the result is shared by the processes (copy on write), never pickled.
_JOB: dict[str, tuple] = {}


def _write_one(name: str) -> dict[str, Path]:
    """Write one of :data:`HEAVY_WRITERS` (in this process or a forked one)."""
    result, out_dir, lang, tiles, final_dir = _JOB["run"]
    t0 = time.perf_counter()
    if name == "map":
        layer = maps.base_layer(tiles, out_dir=final_dir)
        out = {"map": maps.save_map(maps.overview_map(result, lang=lang, tiles=layer), out_dir / "map.html")}
    elif name == "report":
        out = {"report": write_report_xlsx(result, out_dir / "report.xlsx", lang="en" if lang == "en" else "zh")}
    elif name == "summary":
        out = write_run_summary(result, out_dir, lang=lang)  # summary.pdf, summary.html
    elif name == "towns_book":
        out = {"towns_book": write_towns_xlsx(result, out_dir / "towns.xlsx", lang=lang)}
    else:
        out = {"geopackage": write_geopackage(result, out_dir / "run.gpkg", lang=lang)}  # for QGIS
    logger.info("%s: %.1f s", ", ".join(p.name for p in out.values()), time.perf_counter() - t0)
    return out


def _start_heavy(result, out_dir: Path, *, lang: str, tiles: str | None, final_dir: Path):
    """Start :data:`HEAVY_WRITERS` over the ``workers`` setting's processes (forked; 1, or a
    system without fork: later, in this process). Returns (name, future or function) pairs and
    the pool to shut down."""
    import multiprocessing as mp

    from schoolplan.forked import child_started
    from schoolplan.travel import resolve_workers

    _JOB["run"] = (result, out_dir, lang, tiles, final_dir)
    workers = min(resolve_workers(None, settings=result.settings), len(HEAVY_WRITERS))
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        return [(n, partial(_write_one, n)) for n in HEAVY_WRITERS], None
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"),
                               initializer=child_started, initargs=(os.getpid(),))
    return [(n, pool.submit(_write_one, n)) for n in HEAVY_WRITERS], pool

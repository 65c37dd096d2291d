"""The ``schoolplan`` command line: parses, configures logging, prints; no analysis here.

    schoolplan run scenarios/demo-county.yaml --out out/demo-county
    schoolplan check scenarios/my-county.yaml
    schoolplan settings
    schoolplan demo --out-dir data

Exit codes: 0 success, 1 input problems (the report lists every one), 2 usage errors.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml

from schoolplan.errors import InputValidationError, SchoolplanError

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="School-layout planning for Chinese counties / 县域中小学布局规划工具. "
                       "Exit codes: 0 success; 1 input or scenario problems (all listed); "
                       "2 wrong command-line usage; 3 unexpected error (run with -v for the traceback).")

_STATE = {"verbose": 0}


class _Elapsed(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.elapsed = record.relativeCreated / 1000.0
        return True


@app.callback()
def _options(
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True,
                                         help="more detail; -v also shows tracebacks")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="only warnings and errors")] = False,
) -> None:
    """Set how much the steps of a run are reported (progress lines go to stderr)."""
    _STATE["verbose"] = verbose
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler()
    handler.addFilter(_Elapsed())
    handler.setFormatter(logging.Formatter(
        "[%(elapsed)6.1f s] %(levelname)s %(name)s: %(message)s" if verbose
        else "[%(elapsed)6.1f s] %(message)s"))
    log = logging.getLogger("schoolplan")
    log.handlers[:] = [h for h in log.handlers if isinstance(h, logging.NullHandler)] + [handler]
    log.setLevel(level)
    log.propagate = False
    from schoolplan import progress as _progress

    _progress.enable(not quiet)


def _unexpected(exc: Exception, lang: str) -> None:
    """One clear message for an error schoolplan did not foresee; the traceback with -v."""
    if _STATE["verbose"]:
        import traceback

        typer.echo(traceback.format_exc(), err=True)
    typer.echo(_msg(lang, f"意外错误：{type(exc).__name__}: {exc}（加 -v 查看详细信息）",
                    f"Unexpected error: {type(exc).__name__}: {exc} (run with -v for the traceback)"),
               err=True)
    raise typer.Exit(3) from None


@contextmanager
def _reported(lang: str):
    """Input problems and schoolplan errors as one message (exit 1), anything else via
    :func:`_unexpected` (exit 3); never a bare traceback."""
    try:
        yield
    except InputValidationError as exc:
        typer.echo(str(InputValidationError(exc.problems, lang=lang)), err=True)
        raise typer.Exit(1) from None
    except SchoolplanError as exc:
        typer.echo(_msg(lang, "错误：", "Error: ") + str(exc), err=True)
        raise typer.Exit(1) from None
    except OSError as exc:  # --out is a file or read-only, a path is a folder: the user's to fix
        typer.echo(_msg(lang, f"错误：无法读写 {exc.filename}（{exc.strerror}）。请检查路径和权限。",
                        f"Error: cannot read or write {exc.filename} ({exc.strerror}). Check the "
                        "path and its permissions."), err=True)
        raise typer.Exit(1) from None
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as exc:
        _unexpected(exc, lang)

Lang = Annotated[str, typer.Option("--lang", help="zh (中文) or en", envvar="SCHOOLPLAN_LANG")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="override a setting: --set class_size_primary=40 (repeatable)")]


def _msg(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _parse_sets(items: list[str] | None, lang: str) -> dict:
    """``--set name=value`` items as a dict; the value is read as YAML (40, 0.5, [200, 100],
    true, text). A malformed item is a usage error: one message in the user's language (no
    English framing in a Chinese output), exit 2, before any work is done."""
    out = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            _usage_error(_msg(
                lang, f"--set 应写成 名称=值，例如 --set class_size_primary=40，而不是 {item!r}",
                f"--set expects name=value, e.g. --set class_size_primary=40, got {item!r}"), lang)
        try:
            out[k.strip()] = yaml.safe_load(v)
        except yaml.YAMLError:
            _usage_error(_msg(
                lang, f"--set {item}：{v!r} 不是有效的值。请写数字（40、0.5）、列表（[200, 100]）、"
                      "true/false 或文字；含特殊符号的文字请加引号，例如 --set 'name=\"*\"'",
                f"--set {item}: {v!r} is not a valid value. Give a number (40, 0.5), a list "
                "([200, 100]), true/false or text; quote text with special characters, e.g. "
                "--set 'name=\"*\"'"), lang)
    return out


def _usage_error(message: str, lang: str) -> NoReturn:
    typer.echo(_msg(lang, "用法错误：", "Usage error: ") + message, err=True)
    raise typer.Exit(2)


def _check_lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise typer.BadParameter(f"--lang was {lang!r} but is expected to be 'zh' or 'en'")
    return lang


def _scenario_inputs(sc) -> list[Path]:
    """The files a scenario reads (itself included): an --out must hold none of them."""
    files = [spec.path for spec in sc.inputs.values()]
    return [*files, sc.path] if sc.path else files


def _check_out(out: Path, inputs: list[Path], lang: str) -> None:
    """Refuse a bad --out before any work is done (every problem at once, exit 1)."""
    from schoolplan.outputs.folder import check_out_dir

    check_out_dir(out, inputs=inputs, lang=lang)


def _settings_for(scenario, sets: dict):
    from schoolplan.settings import Settings

    return Settings.layered(("scenario", scenario.settings), ("cli", sets))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file / 方案文件")],
    out: Annotated[Path | None, typer.Option("--out", help="output folder (default out/<name>)")] = None,
    lang: Lang = "zh",
    set_: SetOpt = None,
    tiles: Annotated[str | None, typer.Option(
        "--tiles", help="map base layer: none (default, offline), local:<folder>, an intranet URL "
                        "template with {z}/{x}/{y}, osm, tianditu:<key>, amap (GCJ-02)")] = None,
) -> None:
    """Run a scenario and write its tables, map.html and report.xlsx."""
    from schoolplan.outputs.folder import safe_folder_name
    from schoolplan.outputs.report import write_outputs
    from schoolplan.scenario import evaluate, load_scenario

    lang = _check_lang(lang)
    sets = _parse_sets(set_, lang)
    with _reported(lang):
        sc = load_scenario(scenario)
        out_dir = out or Path("out") / safe_folder_name(sc.name)
        tile_dir = [Path(tiles[6:])] if tiles and tiles.startswith("local:") else []
        _check_out(out_dir, [*_scenario_inputs(sc), *tile_dir], lang)
        settings = _settings_for(sc, sets)
        result = evaluate(sc, settings=settings)
        paths = write_outputs(result, out_dir, lang=lang, tiles=tiles)
    from schoolplan.outputs.summary import small_schools_sentence, title_in

    c = result.counts
    small = small_schools_sentence(c["small_schools_by_tier"], lang)
    if sc.synthetic:
        typer.echo(_msg(lang, "注意：本方案使用合成示范数据。", "Note: this scenario uses synthetic demo data."))
    rule_on = "junior_middle_per_town" not in result.settings["rules_disabled"]
    n_towns = c["towns_without_junior_middle_school"]
    typer.echo(_msg(
        lang,
        f"{title_in(sc.title, 'zh')}：学校 {c['schools']} 所，乡镇 {c['towns']} 个"
        + (f"，其中 {n_towns} 个乡镇没有初中" if rule_on else "")
        + (f"；{small}" if small else "") + f"；数据检查警告 {c['warnings']} 条。",
        f"{title_in(sc.title, 'en')}: {c['schools']} schools, {c['towns']} towns"
        + (f", {n_towns} town(s) without a junior middle school" if rule_on else "")
        + (f"; {small}" if small else "") + f"; {c['warnings']} input warning(s).",
    ))
    n_breach = sum((c.get("violations") or {}).values())
    n_alert = sum((c.get("alerts") or {}).values())
    typer.echo(_msg(lang, f"违规 {n_breach} 条（规则检查）；预警与提示 {n_alert} 条（学位预警等，不计为违规）。",
                    f"{n_breach} rule breach(es); {n_alert} warning(s) and notice(s) "
                    "(seat warnings and the like, not breaches)."))
    typer.echo(_msg(lang, f"结果已写入 {out_dir}/：", f"Outputs written to {out_dir}/:"))
    for p in paths.values():
        typer.echo(f"  {p}")


@app.command("optimise")
def optimise(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file / 方案文件")],
    out: Annotated[Path | None, typer.Option("--out", help="output folder (default out/<name>-optimised)")] = None,
    p: Annotated[int | None, typer.Option(
        "--p", help="schools to keep open (default: the fewest that meet the rules)")] = None,
    method: Annotated[str, typer.Option("--method", help="exact or heuristic")] = "exact",
    max_time: Annotated[list[str] | None, typer.Option(
        "--max-time", help="longest trip of a grade group in minutes, e.g. g1_3=40 (repeatable)")] = None,
    max_added: Annotated[float | None, typer.Option(
        "--max-added-min", help="longest trip added to a pupil's trip of today, minutes")] = None,
    preset: Annotated[list[str] | None, typer.Option(
        "--preset", help="close_only_under or keep_one_per_cluster (repeatable)")] = None,
    tradeoff: Annotated[bool, typer.Option("--tradeoff/--no-tradeoff",
                                           help="write the trade-off table and chart")] = True,
    lang: Lang = "zh",
    set_: SetOpt = None,
) -> None:
    """Run a scenario with the optimiser as its last action (the scenario's optimise keys) and
    write its outputs, with the trade-off table and chart (tradeoff.csv/.xlsx/.svg/.html)."""
    import dataclasses

    from schoolplan.outputs.report import write_outputs
    from schoolplan.scenario import evaluate, load_scenario

    lang = _check_lang(lang)
    overrides = _parse_sets(set_, lang)
    caps = {}
    for item in max_time or []:
        g, _, v = item.partition("=")
        try:
            caps[g.strip()] = yaml.safe_load(v)
        except yaml.YAMLError:  # kept as text: the optimise action's checks report it
            caps[g.strip()] = v
    options = {"objective": "p_median" if p else "min_schools", "p": p, "method": method,
               "max_time_min": caps, "max_added_time_min": max_added, "preset": preset or [],
               "tradeoff": tradeoff}
    with _reported(lang):
        sc = load_scenario(scenario)
        sc = dataclasses.replace(sc, actions=[*sc.actions, {"optimise": options}])
        out_dir = out or Path("out") / f"{sc.name}-optimised"
        _check_out(out_dir, _scenario_inputs(sc), lang)
        result = evaluate(sc, settings=_settings_for(sc, overrides))
        paths = write_outputs(result, out_dir, lang=lang)
    detail = result.actions["detail"].iloc[-1] if result.actions is not None else ""
    typer.echo(_msg(lang, f"优化结果：{detail}", f"Optimised: {detail}"))
    typer.echo(_msg(lang, f"结果已写入 {out_dir}/：", f"Outputs written to {out_dir}/:"))
    for path in paths.values():
        typer.echo(f"  {path}")


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file / 方案文件")],
    lang: Lang = "zh",
    set_: SetOpt = None,
) -> None:
    """Check a scenario's inputs only; print every problem; exit 1 on errors."""
    from schoolplan.errors import format_problems
    from schoolplan.scenario import load_inputs, load_scenario

    lang = _check_lang(lang)
    sets = _parse_sets(set_, lang)
    with _reported(lang):
        sc = load_scenario(scenario)
        inputs_settings = _settings_for(sc, sets)
        inputs = load_inputs(sc, inputs_settings)
    problems = inputs.problems
    roads = sc.inputs.get("roads")
    if roads is not None and str(roads.path) not in ("none", "osm"):
        from schoolplan.errors import NetworkError, UnreadableFileError
        from schoolplan.scenario import load_roads, report_snapping

        try:  # the road file too: a broken one is found now, not halfway through a run
            net = load_roads(roads, mode="walk", settings=inputs_settings, towns=inputs.towns)
            if net is not None:
                report_snapping(net, inputs.schools, "school_id", "school", "学校", problems,
                                 inputs_settings)
        except (NetworkError, UnreadableFileError) as exc:
            problems.error("bad_roads", str(roads.path), en=str(exc), zh=f"路网文件无法使用：{exc}",
                           fix_en="give a road file schoolplan can read (.osm/.pbf, .graphml, line layer)",
                           fix_zh="请提供可读取的路网文件（.osm/.pbf、.graphml 或线图层）")
    if len(problems):
        typer.echo(format_problems(problems, lang=lang), err=bool(problems.errors))
    if problems.errors:
        raise typer.Exit(1)
    typer.echo(_msg(lang, f"检查通过：{len(inputs.schools)} 所学校，{len(inputs.towns)} 个乡镇。",
                    f"Inputs OK: {len(inputs.schools)} schools, {len(inputs.towns)} towns."))


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="base scenario first, then the others / 基准方案在前")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out/compare"),
    lang: Lang = "zh",
    set_: SetOpt = None,
    years: Annotated[str | None, typer.Option(
        "--years", help="compare each scenario across years, e.g. 2025,2027,2030 (needs inputs.history)")] = None,
) -> None:
    """Compare scenarios side by side (or one scenario across years): comparison.csv, .xlsx, .html."""
    from schoolplan.outputs import write_comparison
    from schoolplan.scenario import compare as cmp  # the module
    from schoolplan.scenario import load_scenario

    lang = _check_lang(lang)
    parts = [y for y in (years or "").replace(" ", "").replace("，", ",").split(",") if y]
    if any(not y.isdigit() for y in parts):
        raise typer.BadParameter(f"--years was {years!r} but is expected to be years such as "
                                 "2025,2027,2030 / --years 应为年份列表，如 2025,2027,2030")
    year_list = [int(y) for y in parts] if parts else None
    sets = _parse_sets(set_, lang)
    if len(scenarios) * len(year_list or [1]) < 2:
        raise typer.BadParameter("give a base scenario and at least one more to compare, "
                                 "or one scenario with --years")
    files: list[str | Path] = list(scenarios)
    with _reported(lang):
        inputs = [*scenarios]
        for path in dict.fromkeys(scenarios):
            if path.is_file():
                inputs += _scenario_inputs(load_scenario(path))
        _check_out(out, inputs, lang)
        results = cmp.compare_files(files, settings_overrides=sets, years=year_list)
        table = cmp.compare(results)
        paths = write_comparison(table, out, lang=lang, inputs=inputs,
                                 titles=[r.scenario.title for r in results],
                                 tradeoffs=cmp.tradeoffs(results))
    if any(r.scenario.synthetic for r in results):
        typer.echo(_msg(lang, "注意：使用合成示范数据。", "Note: synthetic demo data."))
    typer.echo(_msg(lang, f"方案对比已写入 {out}/：", f"Comparison written to {out}/:"))
    for p in paths.values():
        typer.echo(f"  {p}")


@app.command("settings")
def settings_cmd(lang: Lang = "zh") -> None:
    """List every setting with its default, unit, source and confidence."""
    from schoolplan.outputs.labels import unit_words
    from schoolplan.settings import describe

    lang = _check_lang(lang)
    typer.echo(describe(lang, unit_words=unit_words(lang)))


@app.command()
def demo(
    directory: Annotated[Path, typer.Option(
        "--dir", help="folder for the demo's data, scenario and outputs")] = Path("schoolplan-demo"),
    out: Annotated[Path | None, typer.Option(
        "--out", help="output folder of the demo run (default <dir>/out/demo-county)")] = None,
    seed: int = 20231,
    lang: Lang = "zh",
    run_it: Annotated[bool, typer.Option("--run/--no-run", help="run the demo scenario after writing it")] = True,
) -> None:
    """Write the synthetic demo county (data and scenario) into a folder and run it."""
    from schoolplan.demo import DEMO_SCENARIO_YAML, write_demo
    from schoolplan.outputs.folder import check_out_dir

    lang = _check_lang(lang)
    out_dir = out or directory / "out" / "demo-county"
    scenario = directory / "scenarios" / "demo-county.yaml"
    with _reported(lang):
        check_out_dir(directory, lang=lang, replaced=False)
        if run_it:
            _check_out(out_dir, [directory / "data", scenario], lang)
        write_demo(directory / "data", seed=seed)
        scenario.parent.mkdir(parents=True, exist_ok=True)
        scenario.write_text(DEMO_SCENARIO_YAML, encoding="utf-8")
    typer.echo(_msg(lang, f"合成示范县已写入 {directory}/（数据和方案文件）",
                    f"Synthetic demo county written to {directory}/ (data and scenario)"))
    if run_it:
        run(scenario, out=out_dir, lang=lang, set_=None, tiles=None)


@app.command("site-review")
def site_review(
    estates: Annotated[Path, typer.Argument(help="estates file (polygons or points) / 住宅小区文件")],
    scenario: Annotated[Path, typer.Option("--scenario", help="scenario YAML with the schools / 方案文件")],
    sites: Annotated[Path | None, typer.Option(
        "--sites", help="proposed school sites / 拟建校址 (default: rows of kind 'site' in the estates file)")] = None,
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out/site-review"),
    coordinate_system: Annotated[str | None, typer.Option(
        "--coordinate-system", help="of the estates and sites: wgs84, cgcs2000, gcj02, bd09, EPSG:xxxx")] = None,
    lang: Lang = "zh",
    set_: SetOpt = None,
) -> None:
    """Review housing estates: pupils, serving schools, seats, the school to provide (estates.csv,
    review-<id>.html, report.xlsx)."""
    from schoolplan import siting
    from schoolplan.io import read_estates, read_sites
    from schoolplan.outputs import write_review
    from schoolplan.scenario import evaluate, load_scenario

    lang = _check_lang(lang)
    sets = _parse_sets(set_, lang)
    with _reported(lang):
        sc = load_scenario(scenario)
        inputs = [estates, *([sites] if sites else []), *_scenario_inputs(sc)]
        _check_out(out, inputs, lang)
        settings = _settings_for(sc, sets)
        est = read_estates(estates, coordinate_system=coordinate_system)
        # sites come from --sites, or from rows of the estates file marked as sites (类型 = 学校用地)
        site_gdf = (read_sites(sites, coordinate_system=coordinate_system) if sites is not None
                    else read_sites(estates, coordinate_system=coordinate_system, marked_only=True))
        review = siting.review_estates(est, evaluate(sc, settings=settings), proposed_sites=site_gdf,
                                       settings=settings)
        paths = write_review(review, out, lang=lang, inputs=inputs)
    if review.synthetic:
        typer.echo(_msg(lang, "注意：使用合成示范数据。", "Note: synthetic demo data."))
    for _, r in review.levels.iterrows():
        typer.echo(f"{r['estate_id']} {r['name']}: {r['message_zh' if lang == 'zh' else 'message_en']}")
    typer.echo(_msg(lang, f"审查结果已写入 {out}/：", f"Review written to {out}/:"))
    for p in paths.values():
        typer.echo(f"  {p}")


def main() -> None:
    """Entry point of the ``schoolplan`` console script."""
    app(prog_name="schoolplan")


if __name__ == "__main__":  # pragma: no cover
    main()

"""Files that are safe to share: escaping, CSV formulas, output paths, whole-or-absent folders,
reproducible bytes. The browser half is in ``test_safety_browser.py``."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _hostile import FORMULA_START, write_county
from filelock import FileLock
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from schoolplan.cli import app
from schoolplan.errors import InputValidationError, SchoolplanError
from schoolplan.outputs import write_comparison, write_outputs
from schoolplan.outputs.escape import add_csp, csp_policy, csv_cell, csv_safe, html_text, js_literal
from schoolplan.outputs.folder import OutputFolder, check_out_dir, safe_folder_name
from schoolplan.scenario import evaluate, load_scenario

# --------------------------------------------------------------------------- the escaping path


def test_js_literal_cannot_close_a_script_or_open_a_template() -> None:
    text = js_literal("</script><!--${alert(1)}`\u2028\u2029&{{x}}{%y%}{#z#}")
    assert text == ('"\\u003c/script\\u003e\\u003c!--${alert(1)}`\\u2028\\u2029\\u0026'
                    '\\u007b{x}}\\u007b%y%}\\u007b#z#}"')
    # structural JSON keeps its braces; it is still JSON
    assert js_literal({"a": {"b": []}}) == '{"a": {"b": []}}'


def test_html_text_escapes_quotes_too() -> None:
    assert html_text("<img src=x onerror='a'>\"&") == "&lt;img src=x onerror=&#x27;a&#x27;&gt;&quot;&amp;"


@pytest.mark.parametrize(("value", "shown"), [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+SUM(1,2)", "'+SUM(1,2)"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-5", "-5"),          # a number written as text is not a formula
    ("+1.5e3", "+1.5e3"),
    ("示范小学", "示范小学"),
    ("a=b", "a=b"),
    (-5, -5),
    (3.5, 3.5),
    (None, None),
])
def test_csv_cell_neutralises_formulas_only(value, shown) -> None:
    assert csv_cell(value) == shown


def test_csv_safe_leaves_numbers_alone() -> None:
    df = pd.DataFrame({"name": ["=1+1", "ok"], "pupils": [-3, 4], "share": [-0.5, 0.25]})
    out = csv_safe(df)
    assert out["name"].tolist() == ["'=1+1", "ok"]
    assert out["pupils"].tolist() == [-3, 4] and out["share"].tolist() == [-0.5, 0.25]
    assert df["name"].tolist() == ["=1+1", "ok"]  # the input is not changed


def test_csp_allows_only_the_pages_own_scripts() -> None:
    page = "<html><head><title>t</title></head><body><script>var a = 1;\r\n</script></body></html>"
    out = add_csp(page)
    digest = base64.b64encode(hashlib.sha256(b"var a = 1;\n").digest()).decode()  # CRLF -> LF
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', out)
    assert meta and out.index(meta.group(0)) < out.index("<title>")
    policy = meta.group(1).replace("&#x27;", "'")
    assert policy.startswith("default-src 'none'; ")
    assert f"script-src 'sha256-{digest}'" in policy
    assert "connect-src" not in policy and "unsafe-eval" not in policy
    assert "img-src data: https://tiles.example.cn" in csp_policy(images=["https://tiles.example.cn"])


# --------------------------------------------------------------------------- output folder names


@pytest.mark.parametrize(("name", "folder"), [
    ("../../escape", "_.._escape"),
    ("/etc/passwd", "_etc_passwd"),
    ("..", "scenario"),
    ("", "scenario"),
    ("C:\\Windows\\x", "C_Windows_x"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("示范县 2030 方案", "示范县 2030 方案"),
    ("a\u202eb\x00c", "a_b_c"),
    ("x" * 300, "x" * 100),
])
def test_safe_folder_name(name, folder) -> None:
    assert safe_folder_name(name) == folder


# --------------------------------------------------------------------------- a hostile county


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The hostile county (``_hostile.py``) with the scenario name ``../../escape``, evaluated."""
    base = tmp_path_factory.mktemp("county")
    scenario = write_county(base, name="../../escape")
    return base, scenario, evaluate(load_scenario(scenario))


@pytest.fixture(scope="module")
def cli_runs(county, tmp_path_factory):
    """Two CLI runs of the same scenario: one with no --out (from a working folder), one with."""
    base, scenario, _ = county
    work = tmp_path_factory.mktemp("work")
    old = Path.cwd()
    os.chdir(work)
    try:
        first = CliRunner().invoke(app, ["run", str(scenario), "--lang", "en"])
    finally:
        os.chdir(old)
    second = CliRunner().invoke(app, ["run", str(scenario), "--out", str(base / "second"), "--lang", "en"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    return work, base / "second"


def test_scenario_name_cannot_leave_the_out_folder(cli_runs) -> None:
    work, _ = cli_runs
    assert sorted(p.name for p in work.iterdir()) == ["out"]
    assert sorted(p.name for p in (work / "out").iterdir()) == ["._.._escape.lock", "_.._escape"]
    assert (work / "out" / "_.._escape" / "map.html").is_file()


def test_same_inputs_give_the_same_bytes(cli_runs) -> None:
    work, second = cli_runs
    first = work / "out" / "_.._escape"
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) >= 13
    differ = [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    assert differ == ["summary.json"]  # its "created" is the time of the run
    page = (first / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", page)  # no random ids left
    assert re.search(r"\bmap_0000000[0-9a-f]\b", page)  # numbered in order of appearance


def test_csv_cells_are_never_formulas(cli_runs, county) -> None:
    _, second = cli_runs
    _, _, result = county
    schools = pd.read_csv(second / "schools.csv", encoding="utf-8-sig", dtype={"name": str})
    raw = result.schools.set_index("school_id")["name"].astype(str)
    shown = schools.set_index(schools["school_id"].astype(str))["name"]
    formula_names = [n for n in raw if n.startswith(FORMULA_START)]
    assert len(formula_names) >= 15  # 4 of the 13 hostile names, over 71 schools
    for sid, name in raw.items():
        assert shown[str(sid)] == ("'" + name if name.startswith(FORMULA_START) else name)
    assert (schools["enrollment"].to_numpy() == result.schools["enrollment"].to_numpy()).all()
    neutralised = 0
    for csv in second.glob("*.csv"):
        table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for col in table.columns:
            cells = table[col]
            bad = cells[cells.str.startswith(FORMULA_START)
                        & ~cells.str.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")]
            assert bad.empty, (csv.name, col, bad.head().tolist())
            neutralised += int(cells.str.startswith("'").sum())
    assert neutralised >= len(formula_names)


def test_xlsx_keeps_text_as_text(cli_runs) -> None:
    _, second = cli_runs
    wb = load_workbook(second / "report.xlsx")
    formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("=cmd|' /C calc'!A0") for t in texts)  # the name itself, as text


def test_comparison_files_are_safe(tmp_path: Path) -> None:
    table = pd.DataFrame({"indicator": ["schools", "=HYPERLINK(\"x\")"],
                          "label_zh": ["学校数", "@SUM(1)"], "label_en": ["schools", "-1+1"],
                          "a": [10, 3], "b": [12, 4], "b Δ": [2, 1]})
    paths = write_comparison(table, tmp_path / "cmp", lang="en", titles=["<b>${alert(1)}</b>"])
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert csv["indicator"].tolist() == ["schools", "'=HYPERLINK(\"x\")"]
    assert csv["label_en"].tolist() == ["schools", "'-1+1"] and csv["a"].tolist() == ["10", "3"]
    wb = load_workbook(paths["xlsx"])
    cells = [c for row in wb.active.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert "-1+1" in [c.value for c in cells]  # the label, as text (the codes are in the CSV only)
    page = paths["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;${alert(1)}&lt;/b&gt;" in page and "<b>$" not in page
    assert "default-src &#x27;none&#x27;" in page


def test_source_date_epoch_sets_the_workbook_time(county, tmp_path: Path, monkeypatch) -> None:
    _, _, result = county
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    paths = write_outputs(result, tmp_path / "o", lang="en")
    wb = load_workbook(paths["report"])
    assert str(wb.properties.created) == "2023-11-14 22:13:20"
    assert "2023-11-14" in paths["map"].read_text(encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(SchoolplanError, match="SOURCE_DATE_EPOCH"):
        write_outputs(result, tmp_path / "p", lang="en")


# --------------------------------------------------------------------------- --out checks


def _cli(*args: str, lang: str = "en"):
    return CliRunner().invoke(app, [*args, "--lang", lang])


def test_run_refuses_an_out_holding_an_input(county) -> None:
    base, scenario, _ = county
    schools = base / "data" / "schools"
    before = {p.name: p.read_bytes() for p in schools.iterdir()}
    res = _cli("run", str(scenario), "--out", str(schools))
    assert res.exit_code == 1
    assert "holds the input" in res.output and "demo_schools_synthetic.xlsx" in res.output
    zh = _cli("run", str(scenario), "--out", str(base / "data"), lang="zh")
    assert zh.exit_code == 1 and "输出文件夹" in zh.output and "输入文件" in zh.output
    assert "holds the input" not in zh.output  # Chinese only
    assert {p.name: p.read_bytes() for p in schools.iterdir()} == before


def test_every_command_refuses_a_bad_out(county, tmp_path: Path) -> None:
    base, scenario, _ = county
    estates = base / "data" / "estates" / "demo_estates_synthetic.geojson"
    a_file = tmp_path / "report.txt"
    a_file.write_text("not a folder")
    cases = {
        "run: a file": ("run", str(scenario), "--out", str(a_file)),
        "run: under a file": ("run", str(scenario), "--out", str(a_file / "x")),
        "compare: holds the scenario": ("compare", str(scenario), str(scenario), "--out", str(base)),
        "site-review: holds the estates": ("site-review", str(estates), "--scenario", str(scenario),
                                           "--out", str(estates.parent)),
        "site-review: a file": ("site-review", str(estates), "--scenario", str(scenario),
                                "--out", str(a_file)),
        "demo: dir is a file": ("demo", "--dir", str(a_file), "--no-run"),
        "demo: out is a file": ("demo", "--dir", str(tmp_path / "d"), "--out", str(a_file)),
    }
    for case, args in cases.items():
        res = _cli(*args)
        assert res.exit_code == 1, (case, res.output)
        assert "output folder" in res.output, (case, res.output)
        assert "Unexpected" not in res.output
    assert a_file.read_text() == "not a folder"
    assert not (tmp_path / "d").exists()  # refused before anything was written


def test_a_folder_with_other_files_is_not_replaced(county, tmp_path: Path) -> None:
    _, _, result = county
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.docx").write_bytes(b"a planner's own notes")
    with pytest.raises(InputValidationError, match=r"did not write \(notes.docx\)"):
        write_outputs(result, out, lang="en")
    assert [p.name for p in out.iterdir()] == ["notes.docx"]


def test_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    """A folder without write permission (as a user), or on a read-only disk (as root, who may
    write anywhere else): refused before any work, with the reason."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            with pytest.raises(InputValidationError, match="cannot be written"):
                check_out_dir(folder / "out")
        finally:
            folder.chmod(0o700)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"root, and no read-only tmpfs can be mounted here: {done.stderr.strip()}")
    try:
        with pytest.raises(InputValidationError, match="cannot be written"):
            check_out_dir(folder / "out", lang="en")
        with pytest.raises(InputValidationError, match="无法写入输出文件夹"):
            check_out_dir(folder / "out", lang="zh")
    finally:
        subprocess.run(["umount", str(folder)], check=False)


# --------------------------------------------------------------------------- whole or absent


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def test_a_failed_write_leaves_the_previous_output(county, tmp_path: Path, monkeypatch) -> None:
    _, _, result = county
    out = tmp_path / "out"
    write_outputs(result, out, lang="en")
    before = _snapshot(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("schoolplan.outputs.report.write_report_xlsx", full)
    with pytest.raises(SchoolplanError, match=r"the disk is full.*unchanged"):
        write_outputs(result, out, lang="zh")
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


def test_a_second_writer_stops_with_a_message(county, tmp_path: Path) -> None:
    _, _, result = county
    out = tmp_path / "out"
    with FileLock(tmp_path / ".out.lock"), \
            pytest.raises(SchoolplanError, match="another schoolplan run is writing into"):
        write_outputs(result, out, lang="en")
    assert not out.exists()


def test_an_output_left_aside_by_a_kill_is_put_back(tmp_path: Path) -> None:
    """A kill between the two renames of the swap leaves the old output aside: the next
    writer puts it back before it starts, and cleans up a killed writer's temporary folder."""
    aside = tmp_path / ".out.old-abc"
    aside.mkdir()
    (aside / "schools.csv").write_text("old")
    (tmp_path / ".out.tmp-xyz").mkdir()
    folder = OutputFolder(tmp_path / "out")
    with pytest.raises(RuntimeError), folder:
        assert (tmp_path / "out" / "schools.csv").read_text() == "old"
        raise RuntimeError("stop before the swap")
    assert (tmp_path / "out" / "schools.csv").read_text() == "old"
    assert _leftovers(tmp_path) == []


KILL_AFTER_FILES = [0, 3, 12]  # files in the temporary folder when the run is killed


def _processes_running(scenario: Path) -> list[str]:
    """Live (not zombie) processes whose command line names ``scenario`` (Linux; elsewhere
    none are seen)."""
    found: list[str] = []
    if not Path("/proc").is_dir():
        return found
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(scenario) in cmd and state not in ("Z", "X"):
            found.append(proc.name)
    return found


def test_kill_9_leaves_the_previous_output_or_nothing(county, tmp_path: Path) -> None:
    """``kill -9`` a real run at several moments: the folder is always the previous complete
    output (here: the English one, while the killed runs write Chinese)."""
    _, scenario, result = county
    out = tmp_path / "out"
    write_outputs(result, out, lang="en")
    before = _snapshot(out)
    script = Path(sys.executable).with_name("schoolplan")
    for files in KILL_AFTER_FILES:
        proc = subprocess.Popen([str(script), "-q", "run", str(scenario), "--out", str(out), "--lang", "zh"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                tmps = list(tmp_path.glob(".out.tmp-*"))
                if tmps and len(list(tmps[0].iterdir())) >= files:
                    break
                time.sleep(0.005)
            proc.kill()
        finally:
            proc.wait(timeout=60)
        assert proc.returncode == -9, f"the run ended before the kill at {files} files"
        assert _snapshot(out) == before, files
        # no writer process of the killed run lives on, writing into its folder (issue 15)
        deadline = time.monotonic() + 10
        while _processes_running(scenario) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _processes_running(scenario), "a writer process outlived the killed run"
    res = _cli("run", str(scenario), "--out", str(out), lang="zh")
    assert res.exit_code == 0, res.output
    assert _snapshot(out) != before and set(_snapshot(out)) == set(before)
    assert _leftovers(tmp_path) == []


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 1 MB tmpfs (a map alone is about 2 MB); skipped where it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_leaves_the_previous_output(county, tiny_disk: Path) -> None:
    _, scenario, _ = county
    out = tiny_disk / "out"
    out.mkdir()
    (out / "schools.csv").write_text("school_id,name\n1,previous\n")  # a previous (small) output
    res = _cli("run", str(scenario), "--out", str(out))
    assert res.exit_code == 1, res.output
    assert "the disk is full" in res.output and "Unexpected" not in res.output
    assert _snapshot(out) == {"schools.csv": b"school_id,name\n1,previous\n"}
    assert _leftovers(tiny_disk) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="=+-@\t\r'a1.e ", max_size=5), st.none(),
                          st.integers(-3, 3), st.floats(allow_nan=True)), min_size=1, max_size=12))
def test_csv_safe_judging_each_distinct_text_once_equals_cell_by_cell(cells):
    """csv_safe judges each distinct text of a column once (issue 15: 1.9 million cells at
    prefecture scale); it must neutralise exactly the cells csv_cell neutralises one by one."""
    from schoolplan.outputs.escape import csv_cell, csv_safe

    df = pd.DataFrame({"t": pd.Series(cells, dtype=object), "n": range(len(cells))})
    got = csv_safe(df)
    want = [csv_cell(v) for v in cells]
    assert [g if isinstance(g, str) else None for g in got["t"]] == \
        [w if isinstance(w, str) else None for w in want]
    assert list(got["n"]) == list(range(len(cells)))

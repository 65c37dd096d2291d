"""Every word in the user's language: a scan of every Chinese output of a run, of a comparison and
of an estate review (workbook cells and sheet names, the visible text of every HTML page, the PDF
text, the CLI messages, ``schoolplan settings``) for code keys (snake_case), English sentences and
情景 (a scenario is 方案), with a short allowed list: file names, EPSG codes, ids, the names of
settings a user types after ``--set``, and the user's own text (the scenario title, file paths).
The English outputs are scanned for Chinese labels the same way (names of schools, towns and
estates are data and allowed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from schoolplan.cli import app
from schoolplan.rules import RULES
from schoolplan.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "scenarios" / "demo-planet-satellite.yaml"
BASE = ROOT / "scenarios" / "demo-county.yaml"
ESTATES = ROOT / "data" / "estates" / "demo_estates_synthetic.geojson"

SNAKE = re.compile(r"(?<![\w./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.])")
SENTENCE = re.compile(r"(?<![\w./\\-])[A-Za-z][A-Za-z]+(?:[ ,;:'-]+[A-Za-z][A-Za-z]+){2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")

#: Text that may stay as it is in a Chinese output (see the module docstring).
ALLOWED = [
    re.compile(r"\S+\.(?:csv|xlsx|geojson|graphml|html|pdf|json|yaml|yml|gpkg|qml|osm|pbf)\b"),
    re.compile(r"EPSG:\d+"),
    re.compile(r"schoolplan(?: \d+\.\d+\.\d+)?"),
    re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, sorted(SETTINGS, key=len, reverse=True)))
               + r")(?![\w-])"),
    re.compile(r"OpenStreetMap contributors|Leaflet|WGS-84|SHA-256|GCJ-02|BD-09|CGCS2000"),
    # the keys of dict-valued settings and the words of text settings, typed after --set as well
    re.compile(r"(?<![\w-])(?:" + "|".join(sorted(
        {re.escape(k) for s in SETTINGS.values() if isinstance(s.default, dict) for k in s.default}
        | {re.escape(w) for s in SETTINGS.values() if isinstance(s.default, str)
           for w in (s.default, *(s.choices or ())) if w}, key=len, reverse=True)) + r")(?![\w-])"),
]

#: Whole texts allowed as they are in a Chinese output: the synthetic-data flag, bilingual on
#: purpose so that nobody misses it, and the sources of the rules (quoted plans). The settings'
#: sources are shown in Chinese (``Setting.source_zh``) and scanned like any other text.
ALLOWED_TEXT = {r.source for r in RULES.values()} | {"合成示范数据 synthetic demo data"}

#: ... and in an English output, the settings' sources too: citations of Chinese regulations.
ALLOWED_TEXT_EN = ALLOWED_TEXT | {s.source for s in SETTINGS.values()}

#: One word per idea: a Chinese output calls a scenario 方案, never 情景.
OTHER_TERMS = re.compile("情景")


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: HTML inside a script: template strings and quoted strings that start with a tag
_FRAGMENT = re.compile(r"`\s*(<[^`]*)`|\"(<(?:[^\"\\]|\\.)*)\"")


class _Text(HTMLParser):
    """Text nodes outside <script> and <style>, and the HTML fragments inside scripts (tooltips,
    popups, legends, layer names of the map)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._script = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
            self._script = tag == "script"
        for name, value in attrs:
            if name in ("title", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
            self._script = False

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
        elif self._script and "(vendored by schoolplan)" not in data[:200]:
            for fragment in _FRAGMENT.findall(data):
                inner = _Text()
                inner.feed(_UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), fragment[0] or fragment[1]))
                self.parts += inner.parts
            # the layer switcher's names: "名称" : layer
            self.parts += re.findall(r"\"([^\"<>]{1,60})\"\s*:\s*(?:feature_group|geo_json|tile_layer)_", data)


def html_text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return [t.strip() for t in parser.parts if t.strip()]


def workbook_text(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    out = list(book.sheetnames)
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            out += [v for v in row if isinstance(v, str)]
    return out


def pdf_text(path: Path) -> list[str]:
    if not shutil.which("pdftotext"):
        return []
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [line for line in text.splitlines() if line.strip()]


def problems_zh(texts: list[str], allowed_text: list[str]) -> list[str]:
    """Snake_case keys and English sentences left after removing the allowed text."""
    found = []
    for text in texts:
        if text in ALLOWED_TEXT:
            continue
        rest = text
        for user in allowed_text:
            rest = rest.replace(user, " ")
        for pattern in ALLOWED:
            rest = pattern.sub(" ", rest)
        found += [f"{m!r} in {text[:80]!r}" for m in SNAKE.findall(rest)]
        found += [f"{m!r} in {text[:80]!r}" for m in SENTENCE.findall(rest)]
        found += [f"{m!r} (say 方案) in {text[:80]!r}" for m in OTHER_TERMS.findall(text)]
    return sorted(set(found))


#: Chinese that stays in an English output: the numbers and names of Chinese regulations (cited
#: as they are published) and Chinese terms glossed in brackets after their English.
CHINESE_ALLOWED = [
    re.compile(r"[^\s(（]*(?:〔\d{4}〕\d+号|建标\s?\d+|GB\s?\d+|义务教育法)[^\s,;)）]*(?:\s第[^\s:：]+条)?"),
    re.compile(r"(?:山东省|聊城市|重庆市|浙江省)[^\s:：;,(（]*(?:\s[^\s:：;,(（]*[\u4e00-\u9fff][^\s:：;,(（]*)*"),
    re.compile(r"[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]"),
    re.compile(r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff]+(?= (?:follows|is|are)\b)"),
    # the values of text settings, which a user types after --set as they are (e.g. 镇,乡)
    re.compile("|".join(sorted({re.escape(s.default) for s in SETTINGS.values()
                                if isinstance(s.default, str) and CJK.search(s.default)},
                               key=len, reverse=True))),
]


def problems_en(texts: list[str], allowed_text: list[str]) -> list[str]:
    """Chinese left in an English output after removing data (names) and the allowed text."""
    found = []
    allowed_text = sorted([*allowed_text, *ALLOWED_TEXT_EN], key=len, reverse=True)
    for text in texts:
        rest = text
        for user in allowed_text:
            rest = rest.replace(user, " ")
        for pattern in CHINESE_ALLOWED:
            rest = pattern.sub(" ", rest)
        if CJK.search(rest):
            found.append(repr(text[:100]))
    return sorted(set(found))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The demo's planet-satellite run, its comparison with the base and the review of the demo
    estates, in both languages, written by the CLI (two evaluations, shared by the commands),
    and the CLI's list of settings."""
    from schoolplan.scenario import compare as cmp

    results = cmp.compare_files([BASE, RUN])
    tmp = tmp_path_factory.mktemp("language")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("schoolplan.scenario.evaluate", lambda sc, settings=None: results[1])
        mp.setattr(cmp, "compare_files", lambda paths, **kw: results)
        for lang in ("zh", "en"):
            run_dir, cmp_dir, review_dir = tmp / f"run-{lang}", tmp / f"cmp-{lang}", tmp / f"review-{lang}"
            cli = ""
            for args in (["run", str(RUN), "--out", str(run_dir)],
                         ["compare", str(BASE), str(RUN), "--out", str(cmp_dir)],
                         ["site-review", str(ESTATES), "--scenario", str(RUN), "--out", str(review_dir)],
                         ["settings"]):
                res = CliRunner().invoke(app, ["-q", *args, "--lang", lang])
                assert res.exit_code == 0, res.output
                cli += res.output
            out[lang] = (run_dir, cmp_dir, review_dir, cli)
    return out


def _texts(run_dir: Path, cmp_dir: Path, review_dir: Path, cli: str) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {"CLI": [line for line in cli.splitlines() if line.strip()]}
    for folder in (run_dir, cmp_dir, review_dir):
        for path in sorted(folder.iterdir()):
            if path.suffix == ".xlsx":
                texts[str(path)] = workbook_text(path)
            elif path.suffix == ".html":
                texts[str(path)] = html_text(path)
            elif path.suffix == ".pdf":
                texts[str(path)] = pdf_text(path)
            elif path.suffix == ".csv" and path.name == "estates.csv":
                pass  # data (codes and exact values by design), like every CSV
    return texts


def _user_text(lang: str) -> list[str]:
    """The user's own text: scenario titles (both halves), paths of the inputs and outputs."""
    import yaml

    out = []
    for sc in (RUN, BASE):
        raw = yaml.safe_load(sc.read_text(encoding="utf-8"))
        out += [raw["title"], *raw["title"].split(" / "), raw["name"]]
    out += [str(ROOT), "../data/"]
    return sorted(out, key=len, reverse=True)


def _scan(outputs, lang) -> dict[str, list[str]]:
    run_dir, cmp_dir, review_dir, cli = outputs[lang]
    texts = _texts(run_dir, cmp_dir, review_dir, cli)
    check = problems_zh if lang == "zh" else problems_en
    allowed = _user_text(lang) + (_names(run_dir) + _estate_names() if lang == "en" else [])
    report = {where: check(t, allowed) for where, t in texts.items()}
    return {k: v for k, v in report.items() if v}


def _estate_names() -> list[str]:
    """The names of the demo estates and sites (data: Chinese in every language)."""
    import json

    features = json.loads(ESTATES.read_text("utf-8"))["features"]
    return sorted({str(f["properties"]["name"]) for f in features if f["properties"].get("name")},
                  key=len, reverse=True)


def _names(run_dir: Path) -> list[str]:
    """Names in the data (schools, towns, villages, counties) and of the 优质均衡 indicators as the
    objects of a rule check: Chinese in every language."""
    import pandas as pd

    from schoolplan.balance import INDICATOR_NAMES

    names: set[str] = {lvl + zh for zh, _ in INDICATOR_NAMES.values() for lvl in ("小学", "初中")}
    for file, cols in (("schools.csv", ("name", "town", "county")), ("towns.csv", ("town", "county"))):
        df = pd.read_csv(run_dir / file, dtype=str)
        for c in cols:
            names |= set(df[c].dropna())
    villages = ROOT / "data" / "demand" / "demo_villages_synthetic.geojson"
    import json

    names |= {f["properties"].get("name") or "" for f in json.loads(villages.read_text("utf-8"))["features"]}
    return sorted((n for n in names if n), key=len, reverse=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_output_is_in_the_users_language(outputs, lang):
    texts = _texts(*outputs[lang])
    names = [Path(p).name for p in texts]
    for expected in ("CLI", "report.xlsx", "map.html", "summary.pdf", "summary.html", "comparison.html",
                     "comparison.xlsx", "review-DEMO-E1.html"):
        assert expected in names
    assert sum(len(v) for v in texts.values()) > 1000  # the scan saw the outputs, not nothing
    report = _scan(outputs, lang)
    assert not report, "\n".join(f"{k}:\n  " + "\n  ".join(v[:40]) for k, v in report.items())


def test_the_scan_finds_keys_and_sentences():
    found = problems_zh(["违规：balance_cv", "travel：g1_3：mean_distance_m", "derivation in DOMAIN.md",
                         "学位预警（seat_warning_red 可用 --set 修改）", "report.xlsx", "EPSG:4490",
                         "情景文件"], [])
    assert found == ["'balance_cv' in '违规：balance_cv'",
                     "'derivation in DOMAIN' in 'derivation in DOMAIN.md'",
                     "'g1_3' in 'travel：g1_3：mean_distance_m'",
                     "'mean_distance_m' in 'travel：g1_3：mean_distance_m'",
                     "'情景' (say 方案) in '情景文件'"]

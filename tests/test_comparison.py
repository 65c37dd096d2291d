"""comparison.html and comparison.xlsx on a hand-made comparison table: the indicators in words and
grouped, the headline block computed from the rows, colours that mean better or worse for each
indicator, whole pupils on the page (exact in the CSV), A4 landscape printing."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest

from schoolplan.outputs import write_comparison
from schoolplan.outputs.comparison import comparison_view
from schoolplan.scenario.indicator_kinds import GROUP_NAMES, headline, kind_of

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _table() -> pd.DataFrame:
    """Two scenarios: the base and one that closes 3 schools; known answers in the comments."""
    rows = [
        # key, zh, en, base, other
        ("schools_open", "开办学校数", "schools open", 10, 7),             # neutral: −3
        ("schools_closed", "撤并学校数", "schools closed", 0, 3),          # neutral
        ("schools_primary", "小学数", "primary schools", 8, 5),            # neutral
        ("schools_senior", "普通高中数", "general high schools", 0, 0),    # all zero: left out
        ("small_lt100", "小规模学校（少于100人）", "small schools under 100", 4, 1),  # neutral
        ("g4_6_mean_time_min", "4-6年级平均时间（分钟）", "grades 4-6 mean time (min)", 31.84, 50.81),
        ("g4_6_bus", "4-6年级需校车人数", "grades 4-6 pupils needing a bus", 106.5, 110.4),
        ("seat_shortfall_primary", "小学学位缺口（人）", "primary seat shortfall", 0.5, 20.0),
        ("seat_shortfall_junior", "初中学位缺口（人）", "junior seat shortfall", 10.0, 0.0),
        ("seat_red", "红色预警学校数", "schools in red", 4, 2),
        ("utilisation_median", "学位使用率中位数", "median utilisation", 0.624, 0.7),
        ("violations_class_size", "不符合：平均班额超标", "not met: class size", 2, 0),
        ("violations_seat_warning", "不符合：学位预警", "not met: seat warning", 4, 2),
        ("violations_walk_time_g1_3", "不符合：1-3年级步行时间超限", "not met: walk", 0, 5),
    ]
    t = pd.DataFrame(rows, columns=["indicator", "label_zh", "label_en", "base", "close3"])
    t["close3 Δ"] = (t["close3"] - t["base"]).round(3)
    return t


def _block(view, title):
    return {b.title: b for b in view.blocks}[title]


def _cells(block, label):
    return dict(block.rows)[label]


def test_every_indicator_has_a_group_and_counts_of_schools_are_neutral():
    assert kind_of("schools_primary").direction == 0 and kind_of("small_lt50").direction == 0
    assert kind_of("satellites").direction == 0 and kind_of("utilisation_median").direction == 0
    assert kind_of("violations_class_size") .direction == -1 and kind_of("seat_red").direction == -1
    assert kind_of("g7_9_p95_time_min").group == "travel:g7_9" and kind_of("g7_9_bus").unit == "pupils"
    assert {kind_of(k).group for k in _table()["indicator"]} <= set(GROUP_NAMES)


def test_headline_is_computed_from_the_rows():
    h = headline(_table()).set_index("indicator")
    assert h.at["schools_closed", "close3"] == 3
    assert h.at["seat_shortfall_total", "base"] == 10.5 and h.at["seat_shortfall_total", "close3"] == 20
    assert h.at["rules_breached", "base"] == 2 and h.at["rules_breached", "close3"] == 2   # rules with a breach
    assert h.at["rules_breaches", "base"] == 6 and h.at["rules_breaches", "close3 Δ"] == 1  # 6 -> 7 objects
    assert "satellites" not in h.index  # none in any scenario


def test_view_in_chinese_grouped_coloured_and_in_whole_pupils():
    view = comparison_view(_table(), "zh", ["示范 / demo base", "撤并三校 / close three"])
    assert view.header == ("指标", "方案1（基准）", "方案2", "变化")
    assert [b.title for b in view.blocks] == ["学校", "出行：4-6年级", "学位", "规则"]
    schools = _block(view, "学校")
    assert "普通高中数" not in dict(schools.rows)            # 0 in every scenario
    assert [c.tone for c in _cells(schools, "小学数")] == ["", "", ""]  # −3 primary schools: neither
    assert _cells(schools, "小学数")[2].text == "−3"
    travel = _block(view, "出行：4-6年级")
    time = _cells(travel, "4-6年级平均时间（分钟）")
    assert [c.text for c in time] == ["31.8", "50.8", "+19.0"] and time[2].tone == "worse"
    bus = _cells(travel, "4-6年级需校车人数")
    assert [c.text for c in bus] == ["107", "110", "+3"]     # 106.5 -> 107 (half up), Δ of the shown values
    seats = _block(view, "学位")
    assert [c.text for c in _cells(seats, "小学学位缺口（人）")] == ["1", "20", "+19"]
    assert _cells(seats, "红色预警学校数")[2].tone == "better"   # two fewer red warnings
    assert _cells(seats, "学位使用率中位数")[2].text == "+7.6%"
    rules = _block(view, "规则")
    assert _cells(rules, "不符合：平均班额超标")[2].tone == "better"
    assert _cells(rules, "不符合：1-3年级步行时间超限")[2].tone == "worse"
    top = dict(view.headline.rows)
    assert [c.text for c in top["学位缺口合计（人）"]] == ["11", "20", "+9"]
    assert top["撤并学校（所）"][2].tone == ""
    assert view.lines[:2] == ("方案1：示范（基准）", "方案2：撤并三校")


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        self._skip = tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip = False

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_files_codes_only_in_the_csv(tmp_path, lang):
    paths = write_comparison(_table(), tmp_path, lang=lang, titles=["示范 / base", "撤并 / close"])
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert csv["indicator"].tolist() == _table()["indicator"].tolist()          # codes and
    assert csv.set_index("indicator").at["g4_6_bus", "base"] == 106.5           # exact pupils
    parser = _Visible()
    parser.feed(paths["html"].read_text(encoding="utf-8"))
    assert parser.text and not [t for t in parser.text if SNAKE.search(t)]
    page = paths["html"].read_text(encoding="utf-8")
    assert "<td class='worse'>+19.0</td>" in page and "<td class='better'>−2</td>" in page
    assert "@page{size:A4 landscape" in page and "thead{display:table-header-group}" in page
    wb = openpyxl.load_workbook(paths["xlsx"])
    ws = wb.active
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if SNAKE.search(t)]
    assert ("主要变化" if lang == "zh" else "What changes most") in texts
    numbers = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, float | int)]
    assert 106.5 not in numbers and 107 in numbers                                # whole pupils


def test_workbook_prints_a4_landscape_header_repeated_groups_on_one_page(tmp_path):
    longer = pd.DataFrame({"indicator": [f"g1_3_pupils_over_{m}_min" for m in range(30, 50)],
                           "label_zh": [f"1-3年级超过{m}分钟人数" for m in range(30, 50)],
                           "label_en": [f"grades 1-3 over {m} min" for m in range(30, 50)],
                           "base": range(20), "close3": range(1, 21), "close3 Δ": [1] * 20})
    big = pd.concat([_table(), longer], ignore_index=True)
    ws = openpyxl.load_workbook(write_comparison(big, tmp_path, lang="zh")["xlsx"]).active
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "指标")
    assert ws.print_title_rows == f"${header}:${header}"
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks  # the long travel group does not fit after the headline and the schools
    titles = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for b in breaks:  # every page break falls just before a group title
        assert ws.cell(b + 1, 1).value in {t for t, _ in GROUP_NAMES.values()}
    assert titles["出行：1-3年级"] - 1 in breaks


def test_printed_page_keeps_groups_together(tmp_path):
    """Chromium's print of comparison.html: A4 landscape pages, the header row on each page, and
    every group's title on the same page as its last row."""
    from _browser import chromium_context

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    big = pd.concat([_table()] + [
        pd.DataFrame({"indicator": [f"g{g}_pupils_over_{m}_min" for m in range(30, 42)],
                      "label_zh": [f"{g.replace('_', '-')}年级超过{m}分钟人数" for m in range(30, 42)],
                      "label_en": [f"grades {g} over {m}" for m in range(30, 42)],
                      "base": range(12), "close3": range(1, 13), "close3 Δ": [1] * 12})
        for g in ("1_3", "4_6", "7_9")], ignore_index=True)
    page_path = write_comparison(big, tmp_path / "out", lang="zh")["html"]
    pdf = tmp_path / "print.pdf"
    with chromium_context(tmp_path / "profile") as ctx:
        page = ctx.new_page()
        page.goto(page_path.as_uri())
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    assert all("方案1（基准）" in p for p in pages)  # the header row repeated
    for group in ("出行：1-3年级", "出行：4-6年级", "出行：7-9年级", "学位", "规则"):
        last = {"出行：1-3年级": "1-3年级超过41分钟人数", "出行：4-6年级": "4-6年级超过41分钟人数",
                "出行：7-9年级": "7-9年级超过41分钟人数", "学位": "学位使用率中位数",
                "规则": "不符合：1-3年级步行时间超限"}[group]
        where = [i for i, p in enumerate(pages) if re.search(rf"^\s*{group}\s*$", p, re.M)]
        assert where and last in pages[where[-1]], group

"""The one-page 方案摘要 (scenario summary) of a run or a comparison: what goes on the table at a
局务会, as an A4 PDF and the same page as print-ready HTML.

The page is built in two steps so that the PDF and the HTML say the same thing:
:func:`run_page` and :func:`comparison_page` gather the facts of a result (or of a comparison
table) into a :class:`Page` of titled :class:`Section` tables, already in words and whole pupils;
:func:`write_page_pdf` draws it with matplotlib (A4 portrait, a title band, the date, a footer
with the tool version and "第 1 页 共 1 页", and a static map of towns, schools by level and
closures); :func:`write_page_html` writes it as one self-contained HTML page with print CSS.

Chinese needs a CJK font: :func:`cjk_fonts` finds one by name (SimHei / Microsoft YaHei on
Windows, PingFang on macOS, Noto / WenQuanYi / Source Han on Linux) in matplotlib's font list;
without one :class:`FontMissingError` says, in Chinese and English, what to install.
The page renders results; it never computes them (only counts by level and unit conversions).
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schoolplan import __version__
from schoolplan.errors import SchoolplanError
from schoolplan.outputs.drawing import MAP_LEGEND, draw_outlines
from schoolplan.outputs.files import atomic_write
from schoolplan.outputs.labels import SUMMARY_TEXT, summary_action_text
from schoolplan.outputs.maps import LEVEL_COLOURS
from schoolplan.rules import RULES
from schoolplan.scenario.indicator_kinds import kind_of
from schoolplan.schema import LEVEL_LABELS
from schoolplan.settings import Settings

__all__ = [
    "CJK_FONT_NAMES",
    "FontMissingError",
    "Page",
    "Section",
    "cjk_fonts",
    "comparison_page",
    "run_page",
    "write_comparison_summary",
    "write_page_html",
    "write_page_pdf",
    "write_page_png",
    "write_run_summary",
]

logger = logging.getLogger(__name__)

#: CJK fonts looked for, in order: Windows, macOS, then the Linux families.
CJK_FONT_NAMES: tuple[str, ...] = (
    "Microsoft YaHei", "SimHei", "DengXian", "SimSun", "PingFang SC", "Hiragino Sans GB",
    "Heiti SC", "STHeiti", "Songti SC", "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "Droid Sans Fallback", "AR PL UMing CN",
)

_LEVEL_COLOURS = LEVEL_COLOURS  # the map's colours: one encoding on screen and on paper
_LEVEL_ORDER = tuple(LEVEL_COLOURS)
_GROUPS = ("g1_3", "g4_6", "g7_9")


class FontMissingError(SchoolplanError, RuntimeError):
    """No font that can show Chinese was found."""


def _t(key: str, lang: str) -> str:
    zh, en = SUMMARY_TEXT[key]
    return zh if lang == "zh" else en


def cjk_fonts(names: Sequence[str] = CJK_FONT_NAMES) -> list[str]:
    """The installed fonts among ``names`` (matplotlib's font list), in the order of ``names``.

    Raises
    ------
    FontMissingError
        When none is installed, with what to install on each system, in Chinese and English.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [n for n in names if n in installed]
    if not found:
        raise FontMissingError(
            "没有找到可显示中文的字体，无法生成方案摘要PDF（HTML版已生成）。请安装其一："
            "Windows 微软雅黑/黑体（系统自带）、macOS 苹方（系统自带）、Linux "
            "fonts-noto-cjk 或 fonts-wqy-microhei（如 apt-get install fonts-wqy-microhei），"
            "然后删除 matplotlib 字体缓存后重试。 / No font that can show Chinese was found, so the "
            "summary PDF was not written (the HTML page was). Install one: Microsoft YaHei or SimHei "
            "(Windows), PingFang SC (macOS), fonts-noto-cjk or fonts-wqy-microhei (Linux), then delete "
            "matplotlib's font cache and run again. Fonts looked for: " + ", ".join(names))
    return found


# --- the page as data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A titled table of the page: a header row and rows of text cells.

    ``tones`` gives, per row and cell, ``"better"``, ``"worse"`` or ``""`` (colours in the page).
    """

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    tones: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Page:
    """The one-page summary: title, date, lines of text, sections, sources and map data."""

    lang: str
    title: str
    subtitle: str
    date: str
    synthetic: bool
    lines: tuple[str, ...]
    sections: tuple[Section, ...]
    sources: tuple[str, ...]
    towns: Any = None     # GeoDataFrame of town polygons for the map, or None
    schools: Any = None   # GeoDataFrame of schools (level, status) for the map, or None
    #: height of the map as a share of the page (setting ``summary_map_height_share``)
    map_share: float | None = None


def title_in(title: str, lang: str) -> str:
    """The part of a bilingual title "中文 / English" in ``lang`` (the whole title otherwise)."""
    if " / " not in title:
        return title
    zh, en = title.split(" / ", 1)
    return zh.strip() if lang == "zh" else en.strip()


def _whole(value: Any) -> str:
    """Pupils as a whole number with thousands separators ('' when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{round(float(value)):,}"


def _one(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{float(value):,.1f}"


def _date(created: str) -> str:
    try:
        when = _dt.datetime.fromisoformat(str(created))
    except ValueError:
        return str(created)
    return f"{when.year}年{when.month}月{when.day}日"


def _date_en(created: str) -> str:
    try:
        return _dt.datetime.fromisoformat(str(created)).strftime("%d %B %Y")
    except ValueError:
        return str(created)


def _level_name(level: str, lang: str) -> str:
    return LEVEL_LABELS.get(level, {"zh": level, "en": level})[lang]


def _rule_name(rule_id: str, lang: str) -> str:
    if rule_id in RULES:
        return RULES[rule_id].title_zh if lang == "zh" else RULES[rule_id].title_en
    key = f"rule:{rule_id}"
    return _t(key, lang) if key in SUMMARY_TEXT else rule_id


def _schools_section(schools: pd.DataFrame, lang: str) -> Section:
    before = schools["level_before"].fillna(schools["level"]) if "level_before" in schools else schools["level"]
    was = schools["status"] != "new" if "status" in schools else pd.Series(True, index=schools.index)
    is_open = schools["status"] != "closed" if "status" in schools else pd.Series(True, index=schools.index)
    rows = []
    for level in _LEVEL_ORDER:
        b = int(((before == level) & was).sum())
        a = int(((schools["level"] == level) & is_open).sum())
        if b or a:
            rows.append((_level_name(level, lang), str(b), str(a), f"{a - b:+d}" if a != b else "0"))
    b_all, a_all = int(was.sum()), int(is_open.sum())
    rows.append((_t("total", lang), str(b_all), str(a_all), f"{a_all - b_all:+d}" if a_all != b_all else "0"))
    return Section(_t("sec_schools", lang), (_t("level", lang), _t("before", lang), _t("after", lang),
                                              _t("change", lang)), tuple(rows))


def _travel_section(result, lang: str) -> Section | None:
    travel = result.indicators.get("travel") or {}
    limit = f"{float(result.settings['walk_limit_g1_3_min']):g}"
    rows = []
    for g in _GROUPS:
        t = travel.get(g)
        if not t:
            continue
        over = t.get(f"pupils_over_{limit}_min")
        rows.append((_t(f"group:{g}", lang), _whole(t.get("pupils")), _one(t.get("mean_time_min")),
                     _one(t.get("p95_time_min")), _whole(over), _whole(t.get("pupils_needing_bus")),
                     _whole(t.get("pupils_needing_boarding"))))
    if not rows:
        return None
    return Section(_t("sec_travel", lang),
                   (_t("group", lang), _t("pupils", lang), _t("mean_min", lang), _t("p95_min", lang),
                    _t("over_min", lang).format(limit=limit), _t("bus", lang), _t("boarding", lang)),
                   tuple(rows))


def _seats_section(result, lang: str) -> Section:
    c = result.counts
    warn = c.get("seat_warnings") or {}
    short = result.indicators.get("seat_shortage") or {}
    rows = [(_t("seat_red", lang), str(int(warn.get("red", 0)))),
            (_t("seat_yellow", lang), str(int(warn.get("yellow", 0))))]
    for level in ("primary", "junior"):
        if level in short:
            rows.append((_t(f"shortage:{level}", lang), _whole(short[level])))
    if result.layouts is not None and len(result.layouts) and "seats_left_at_planet" in result.layouts:
        gap = pd.to_numeric(result.layouts["seats_left_at_planet"], errors="coerce")
        rows.append((_t("planet_gap", lang), str(int((gap < 0).sum()))))
    return Section(_t("sec_seats", lang), (_t("item", lang), _t("count", lang)), tuple(rows))


def _rules_section(result, lang: str) -> Section:
    counts = result.counts.get("violations") or {}
    rows = [(_rule_name(str(k), lang), str(int(v))) for k, v in counts.items() if int(v)]
    if not rows:
        rows = [(_t("no_violations", lang), "0")]
    return Section(_t("sec_rules", lang), (_t("rule", lang), _t("count", lang)), tuple(rows))


def _alerts_section(result, lang: str) -> Section | None:
    """预警与提示 (red 学位预警 and the other checks of ``ALERT_RULES``): warnings, not breaches."""
    counts = result.counts.get("alerts") or {}
    rows = [(_rule_name(str(k), lang), str(int(v))) for k, v in counts.items() if int(v)]
    if not rows:
        return None
    return Section(_t("sec_alerts", lang), (_t("item", lang), _t("count", lang)), tuple(rows))


def _changes_lines(result, lang: str) -> list[str]:
    schools = result.schools
    lines = []
    acts = list(result.scenario.actions or [])
    lines.append(_t("actions", lang) + (
        ("；" if lang == "zh" else "; ").join(summary_action_text(a, lang) for a in acts) if acts
        else _t("no_actions", lang)))
    if "status" in schools:
        closed = schools[schools["status"] == "closed"]
        sats = schools[schools["status"] == "satellite"]
        new = schools[schools["status"] == "new"]
        sep = "、" if lang == "zh" else ", "
        most = int(result.settings["summary_closed_names_max"])
        names = sep.join(map(str, closed["name"].head(most)))
        more = len(closed) - most
        tail = (_t("and_more", lang).format(n=more) if more > 0 else "")
        lines.append(_t("closures", lang).format(n=len(closed), s=len(sats), new=len(new))
                     + (f"{_t('colon', lang)}{names}{tail}" if len(closed) else ""))
    tiers = result.counts.get("small_schools_by_tier") or {}
    if tiers:
        lines.append(small_schools_sentence(tiers, lang))
    return lines


def small_schools_sentence(tiers: dict[str, int], lang: str) -> str:
    """Bureau style: "乡村小规模学校 38 所（不足200人），其中不足100人 26 所、不足50人 12 所"."""
    ordered = sorted(((int(str(k)[2:]), int(v)) for k, v in tiers.items()), reverse=True)
    if not ordered:
        return ""
    (top, n), rest = ordered[0], ordered[1:]
    if lang == "zh":
        out = f"乡村小规模学校 {n} 所（不足{top}人）"
        if rest:
            out += "，其中" + "、".join(f"不足{t}人 {m} 所" for t, m in rest)
        return out
    out = f"{n} small rural schools (under {top} pupils)"
    if rest:
        out += ", of which " + ", ".join(f"{m} under {t}" for t, m in rest)
    return out


def _sources(result, lang: str) -> list[str]:
    names = {"schools": ("学校台账", "school ledger"), "towns": ("乡镇边界", "town boundaries"),
             "demand": ("村庄及小区", "villages and estates"), "roads": ("路网", "roads"),
             "history": ("历年在校生", "enrolment history"), "births": ("出生人口", "births")}
    out = []
    for key, info in result.inputs.files.items():
        label = names.get(key, (key, key))[0 if lang == "zh" else 1]
        sha = str(info.get("sha256") or "")[:12]
        out.append(f"{label}{_t('colon', lang)}{Path(str(info.get('path'))).name}"
                   + (f"（SHA-256 {sha}…）" if lang == "zh" and sha else f" (SHA-256 {sha}…)" if sha else ""))
    method = str(result.distance_method)
    out.append(_t("distance_method", lang) + (
        _t("by_road", lang) if method.startswith("road") else
        _t("by_line", lang) if method.startswith("straight") else _t("not_computed", lang)))
    changed = [r["name"] for r in result.settings.to_records() if r["origin"] != "default"]
    out.append(_t("settings_changed", lang) + ("、" if lang == "zh" else ", ").join(changed)
               if changed else _t("settings_default", lang))
    return out


def run_page(result, *, lang: str = "zh") -> Page:
    """The summary page of one run, as a :class:`Page` (words and whole pupils in ``lang``)."""
    sections = [_schools_section(pd.DataFrame(result.schools), lang)]
    travel = _travel_section(result, lang)
    if travel is not None:
        sections.append(travel)
    sections += [_seats_section(result, lang), _rules_section(result, lang)]
    alerts = _alerts_section(result, lang)
    if alerts is not None:
        sections.append(alerts)
    created = str(result.created)
    return Page(
        lang=lang, title=_t("title_run", lang), subtitle=title_in(str(result.scenario.title), lang),
        date=_date(created) if lang == "zh" else _date_en(created),
        synthetic=bool(result.scenario.synthetic), lines=tuple(_changes_lines(result, lang)),
        sections=tuple(sections), sources=tuple(_sources(result, lang)),
        towns=result.towns, schools=result.schools,
        map_share=float(result.settings["summary_map_height_share"]),
    )


# --- comparison ---------------------------------------------------------------------------------

_COMPARISON_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("grp_schools", ("schools_open", "schools_closed", "satellites", "small_")),
    ("grp_travel", ("g1_3_mean_time", "g1_3_p95_time", "g1_3_pupils_over_30", "g1_3_bus",
                    "g4_6_mean_time", "g4_6_p95_time", "g4_6_pupils_over_30", "g4_6_bus", "g4_6_boarding",
                    "g7_9_mean_time", "g7_9_p95_time", "g7_9_pupils_over_30", "g7_9_bus", "g7_9_boarding")),
    ("grp_seats", ("seat_shortfall", "seat_red", "seat_yellow")),
    ("grp_rules", ("towns_without", "violations_")),
)


def direction(indicator: str) -> int:
    """+1 when a higher value of ``indicator`` is better, -1 when lower is better, 0 neither
    (:func:`schoolplan.scenario.indicator_kinds.kind_of`: one judgement on every page)."""
    return kind_of(indicator).direction


def _tone(indicator: str, delta: float) -> str:
    d = direction(indicator)
    if not d or not np.isfinite(delta) or delta == 0:
        return ""
    return "better" if (delta > 0) == (d > 0) else "worse"


def _cmp_cell(indicator: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if "_time_min" in indicator or "utilisation" in indicator:
        return f"{float(value):,.1f}" if "utilisation" not in indicator else f"{float(value):.1%}"
    if "_distance_m" in indicator:
        return f"{float(value):,.0f}"
    return f"{round(float(value)):,}"


def _cmp_delta(indicator: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    v = float(value)
    if v == 0:
        return "0"
    if "_time_min" in indicator:
        return f"{v:+,.1f}"
    if "utilisation" in indicator:
        return f"{v * 100:+.1f}%"
    return f"{round(v):+,}"


def comparison_page(table: pd.DataFrame, *, lang: str = "zh", titles: Sequence[str] = (),
                    created: str | None = None, synthetic: bool = False) -> Page:
    """The summary page of a comparison (the table of
    :func:`schoolplan.scenario.compare.compare`): key indicators grouped into schools, travel,
    seats and rules, each scenario's value and its change from the base, coloured better/worse."""
    label = "label_zh" if lang == "zh" else "label_en"
    fixed = {"indicator", "label_zh", "label_en"}
    names = [c for c in table.columns if c not in fixed and not str(c).endswith(" Δ")]
    header = [_t("indicator", lang)]
    for i in range(len(names)):
        header.append(_t("cmp_column", lang).format(i=i + 1))
        if i:
            header.append(_t("change", lang))
    sections = []
    for key, prefixes in _COMPARISON_GROUPS:
        rows, tones = [], []
        for _, r in table.iterrows():
            ind = str(r["indicator"])
            if not ind.startswith(prefixes):
                continue
            if ind.startswith("violations_") and all(
                    _num(r[n]) == 0 for n in names):
                continue
            cells, cell_tones = [_display_label(ind, str(r[label]), lang)], [""]
            for i, n in enumerate(names):
                cells.append(_cmp_cell(ind, r[n]))
                cell_tones.append("")
                if i:
                    delta = _num(r[f"{n} Δ"])
                    cells.append(_cmp_delta(ind, delta))
                    cell_tones.append(_tone(ind, delta))
            rows.append(tuple(cells))
            tones.append(tuple(cell_tones))
        if rows:
            sections.append(Section(_t(key, lang), tuple(header), tuple(rows), tuple(tones)))
    when = created or _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [_t("cmp_column", lang).format(i=i + 1) + _t("colon", lang)
             + (title_in(titles[i], lang) if i < len(titles) and titles[i] else str(n))
             + (_t("cmp_is_base", lang) if i == 0 else "") for i, n in enumerate(names)]
    lines.append(_t("cmp_legend", lang))
    return Page(lang=lang, title=_t("title_cmp", lang),
                subtitle=_t("cmp_subtitle", lang).format(n=len(names)),
                date=_date(when) if lang == "zh" else _date_en(when), synthetic=synthetic,
                lines=tuple(lines), sections=tuple(sections), sources=())


def _display_label(indicator: str, label: str, lang: str) -> str:
    """The comparison's label, with rule codes replaced by the rule's name."""
    if indicator.startswith("violations_"):
        return _t("violations_of", lang).format(rule=_rule_name(indicator[len("violations_"):], lang))
    return label


def _num(v: Any) -> float:
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


# --- drawing ------------------------------------------------------------------------------------

#: SVG metadata left out: no date (same result, same bytes) and no RDF block, whose links
#: (matplotlib.org, purl.org, creativecommons.org) would be the only web addresses in an offline page.
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

_A4 = (8.27, 11.69)  # inches, portrait
_TONE_COLOURS = {"better": "#d9f0d3", "worse": "#f8d0d0"}


def _draw_map(ax, page: Page, *, legend: bool = True) -> None:
    ax.set_axis_off()
    towns, schools = page.towns, page.schools
    if towns is not None and len(towns):
        draw_outlines(ax, towns.geometry, color="#555555", linewidth=0.6)
        pts = towns.geometry.representative_point()
        for name, p in zip(towns.get("town", []), pts, strict=False):
            ax.annotate(str(name), (p.x, p.y), ha="center", va="center", fontsize=6, color="#333333")
    if schools is not None and len(schools):
        # arrays once, masks per level (a prefecture draws 135 of these maps for towns.xlsx)
        status = (schools["status"].astype(str).to_numpy() if "status" in schools
                  else np.full(len(schools), "open", dtype=object))
        level_of = schools["level"].astype(str).to_numpy()
        x, y = schools.geometry.x.to_numpy(), schools.geometry.y.to_numpy()
        is_open = status != "closed"
        for level in _LEVEL_ORDER:
            sel = is_open & (level_of == level)
            if sel.any():
                ax.scatter(x[sel], y[sel], s=np.where(status[sel] == "satellite", 8, 16),
                           color=_LEVEL_COLOURS[level], edgecolors="white", linewidths=0.3,
                           label=_level_name(level, page.lang), zorder=3)
        if (~is_open).any():
            ax.scatter(x[~is_open], y[~is_open], s=22, marker="x", color="black",
                       linewidths=0.9, label=_t("closed", page.lang), zorder=4)
        if legend:
            ax.legend(**MAP_LEGEND)
    ax.set_aspect(1 / max(0.2, math.cos(math.radians(float(_mid_lat(page))))))


def _mid_lat(page: Page) -> float:
    g = page.towns if page.towns is not None and len(page.towns) else page.schools
    if g is None or not len(g):
        return 0.0
    b = g.total_bounds
    return (b[1] + b[3]) / 2


def _draw_table(fig, section: Section, top: float, *, left: float = 0.07, width: float = 0.86,
                bottom: float = 0.05, row_h: float = 0.0148) -> float:
    """Draw a section at ``top`` (figure fraction), no lower than ``bottom``; return the y below it.
    Rows that do not fit are counted in a last row ("另 n 项见 report.xlsx")."""
    from matplotlib.patches import Rectangle

    fig.text(left, top, section.title, fontsize=10, color="#1f3864", va="top")
    y = top - 0.021
    n = len(section.header)
    widths = [2.4] + [1.0] * (n - 1)
    xs = [left]
    for w in widths:
        xs.append(xs[-1] + width * w / sum(widths))

    def cell(j: int, text: str, yy: float, **kw: Any) -> None:
        fig.text(xs[j] + 0.004 if j == 0 else xs[j + 1] - 0.004, yy - row_h / 2 + 0.003, text,
                 fontsize=6.8, va="center", ha="left" if j == 0 else "right", **kw)

    fig.add_artist(Rectangle((left, y - row_h + 0.003), width, row_h, color="#dde7f3",
                             transform=fig.transFigure, zorder=0))
    for j, h in enumerate(section.header):
        cell(j, h, y, color="#1f3864")
    y -= row_h
    fits = max(0, int((y - bottom) / row_h))
    rows = section.rows
    if len(rows) > fits:
        rows = rows[:max(0, fits - 1)]
    for i, row in enumerate(rows):
        tones = section.tones[i] if i < len(section.tones) else ()
        for j, text in enumerate(row):
            tone = tones[j] if j < len(tones) else ""
            if tone:
                fig.add_artist(Rectangle((xs[j], y - row_h + 0.003), xs[j + 1] - xs[j], row_h,
                                         color=_TONE_COLOURS[tone], transform=fig.transFigure, zorder=0))
            cell(j, text, y)
        fig.add_artist(_hline(left, left + width, y - row_h + 0.003))
        y -= row_h
    if len(rows) < len(section.rows):
        cell(0, _t("more_rows", section_lang(section)).format(n=len(section.rows) - len(rows)), y,
             color="#555555")
        y -= row_h
    return y - 0.012


def section_lang(section: Section) -> str:
    """``zh`` when the section's title has Chinese characters, else ``en``."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in section.title) else "en"


def _hline(x0: float, x1: float, y: float):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color="#cccccc", linewidth=0.4)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap by display width (CJK characters count double), breaking after a space or a list
    mark (、，,；;) where one lies in the second half of the line, so that a school's name is not
    cut in two; a run longer than a line is cut where it fills the line."""
    import unicodedata

    def w(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)

    lines, cur = [], ""
    for ch in text:
        if cur and w(cur) + w(ch) > width:
            cut = max(cur.rfind(b) for b in " 、，,；;")
            if cut >= 0 and w(cur[:cut + 1]) * 2 >= width:
                lines.append(cur[:cut + 1].rstrip())
                cur = cur[cut + 1:].lstrip()
            else:
                lines.append(cur)
                cur = ""
        cur += ch
    if cur:
        lines.append(cur)
    return lines


@contextmanager
def cjk_context(fonts: Sequence[str] | None = None) -> Iterator[None]:
    """matplotlib settings for Chinese text: the CJK fonts found (:func:`cjk_fonts`), then DejaVu
    Sans; fonts are looked up when a figure is drawn, so draw and save inside this context."""
    import matplotlib

    found = list(fonts) if fonts is not None else cjk_fonts()
    with matplotlib.rc_context({"font.sans-serif": [*found, "DejaVu Sans"], "font.family": "sans-serif",
                                "axes.unicode_minus": False, "pdf.fonttype": 42,
                                "svg.fonttype": "none", "svg.hashsalt": "schoolplan"}):
        yield


def render_figure(page: Page):
    """The page as a matplotlib Figure (A4 portrait); draw or save it inside :func:`cjk_context`.

    Layout: title band (title, date, scenario, 合成示范数据), the lines of text, then the map on
    the left with the narrow tables (up to four columns) beside it, the wide tables below at full
    width, the remaining narrow tables two abreast, the data sources, and the footer.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    share = Settings()["summary_map_height_share"] if page.map_share is None else page.map_share
    left, right = 0.07, 0.93
    fig = Figure(figsize=_A4)
    fig.text(left, 0.965, page.title, fontsize=18, color="#1f3864", va="top")
    fig.text(right, 0.962, page.date, fontsize=9, ha="right", va="top")
    y = 0.932
    for line in _wrap(page.subtitle, 80):
        fig.text(left, y, line, fontsize=9.5, va="top")
        y -= 0.016
    if page.synthetic:
        fig.text(right, 0.945, _t("synthetic", page.lang), fontsize=9, ha="right", va="top",
                 color="#c00000")
    fig.add_artist(Line2D([left, right], [y - 0.002, y - 0.002], color="#1f3864", linewidth=1.2))
    y -= 0.014
    for text in page.lines:
        for line in _wrap(text, 104):
            fig.text(left, y, line, fontsize=8, va="top")
            y -= 0.0145
    y -= 0.008
    narrow = [sec for sec in page.sections if len(sec.header) <= 4]
    wide = [sec for sec in page.sections if len(sec.header) > 4]
    if page.towns is not None or page.schools is not None:
        ax = fig.add_axes((left, y - share, 0.50, share))
        _draw_map(ax, page)
        side = y
        while narrow and side - 0.021 - 0.0148 * (len(narrow[0].rows) + 1) > y - share:
            side = _draw_table(fig, narrow.pop(0), side, left=0.60, width=right - 0.60,
                               bottom=y - share)
        y = min(y - share - 0.012, side)
    for sec in wide:
        y = _draw_table(fig, sec, y, left=left, width=right - left, bottom=0.12)
    half = (right - left - 0.04) / 2
    sources_at: tuple[float, float, float] = (left, y, 130)
    while narrow:
        pair = [narrow.pop(0)] + ([narrow.pop(0)] if narrow else [])
        ys = [_draw_table(fig, sec, y, left=left + k * (half + 0.04), width=half, bottom=0.12)
              for k, sec in enumerate(pair)]
        sources_at = (left + half + 0.04, y, 62) if len(pair) == 1 else (left, min(ys), 130)
        y = min(ys)
    if page.sources:
        x, y, chars = sources_at
        fig.text(x, y, _t("sec_sources", page.lang), fontsize=9, color="#1f3864", va="top")
        y -= 0.018
        for text in page.sources:
            for line in _wrap(text, int(chars)):
                if y < 0.045:
                    break
                fig.text(x, y, line, fontsize=6.3, va="top", color="#333333")
                y -= 0.0115
    fig.add_artist(Line2D([left, right], [0.035, 0.035], color="#999999", linewidth=0.5))
    fig.text(left, 0.03, f"schoolplan {__version__} · {_t('footer', page.lang)}", fontsize=6.5,
             color="#555555", va="top")
    fig.text(right, 0.03, _t("page_of", page.lang), fontsize=6.5, ha="right", color="#555555", va="top")
    return fig


@contextmanager
def glyphs_logged(what: str) -> Iterator[None]:
    """Draw with matplotlib, turning its "Glyph ... missing from font" warnings (an emoji in a
    school name, say: drawn as a box) into one log line for ``what``; other warnings pass on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    glyphs = sorted({str(w.message) for w in caught if "missing from font" in str(w.message)})
    for w in caught:
        if "missing from font" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if glyphs:
        logger.warning("%s: %d character(s) of the data have no glyph in the CJK font and are drawn "
                       "as boxes (the HTML pages show them): %s", what, len(glyphs), "; ".join(glyphs[:3]))


def write_page_pdf(page: Page, path: str | Path) -> Path:
    """Draw ``page`` as a one-page A4 PDF at ``path`` (atomically)."""
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with glyphs_logged(Path(path).name), cjk_context(), PdfPages(
            buf, metadata={"Title": page.title, "Creator": f"schoolplan {__version__}",
                           "CreationDate": None}) as pdf:
        pdf.savefig(render_figure(page))
    return atomic_write(path, buf.getvalue())


def write_page_png(page: Page, path: str | Path, *, dpi: int = 110) -> Path:
    """Draw ``page`` as a PNG image (to look at it, or to paste it into a slide)."""
    buf = io.BytesIO()
    with glyphs_logged(Path(path).name), cjk_context():
        render_figure(page).savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return atomic_write(path, buf.getvalue())


def _map_svg(page: Page) -> str:
    if page.towns is None and page.schools is None:
        return ""
    from matplotlib.figure import Figure

    try:
        fonts = cjk_fonts()
    except FontMissingError:
        fonts = []  # the SVG keeps text as text: the browser's own CJK font shows it
    with cjk_context(fonts), warnings.catch_warnings():
        # the SVG keeps text as text (svg.fonttype none): matplotlib's glyph check does not apply
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig = Figure(figsize=(7.2, 4.2))
        ax = fig.add_axes((0, 0, 1, 1))
        _draw_map(ax, page)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=SVG_METADATA)
    text = buf.getvalue()
    return text[text.find("<svg"):]


_CSS = (
    "@page{size:A4 portrait;margin:14mm}"
    "body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;"
    "max-width:190mm;margin:10px auto;color:#222;font-size:12px}"
    "h1{font-size:22px;color:#1f3864;margin:0}h2{font-size:14px;color:#1f3864;margin:12px 0 4px}"
    ".meta{display:flex;justify-content:space-between;border-bottom:2px solid #1f3864;padding-bottom:4px}"
    ".synthetic{color:#c00000;font-weight:bold}table{border-collapse:collapse;width:100%;font-size:11px}"
    "th{background:#dde7f3}td,th{border-bottom:1px solid #ccc;padding:2px 6px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.better{background:#d9f0d3}.worse{background:#f8d0d0}"
    ".row{display:flex;gap:14px;align-items:flex-start}.row .map{flex:0 0 56%}.row .side{flex:1}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:14px}"
    ".map svg{width:100%;height:auto}"
    "p{margin:3px 0}.sources{font-size:10px;color:#444}"
    "footer{border-top:1px solid #999;margin-top:8px;font-size:10px;color:#555;display:flex;"
    "justify-content:space-between}"
    "@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid;margin:6px 0 2px}"
    "table{break-inside:avoid;font-size:10px}}"
)


def _section_html(s: Section) -> str:
    e = html.escape
    parts = [f"<h2>{e(s.title)}</h2><table><thead><tr>"
             + "".join(f"<th>{e(h)}</th>" for h in s.header) + "</tr></thead><tbody>"]
    for i, row in enumerate(s.rows):
        tones = s.tones[i] if i < len(s.tones) else ()
        parts.append("<tr>" + "".join(
            f"<td class='{tones[j]}'>{e(c)}</td>" if j < len(tones) and tones[j] else f"<td>{e(c)}</td>"
            for j, c in enumerate(row)) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def page_html(page: Page) -> str:
    """The page as one self-contained HTML document (inline SVG map, print CSS for A4)."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='{page.lang}'><head><meta charset='utf-8'>"
             f"<title>{e(page.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(page.title)}</h1><div class='meta'><span>{e(page.subtitle)}</span>"
             f"<span>{e(page.date)}</span></div>"]
    if page.synthetic:
        parts.append(f"<p class='synthetic'>{e(_t('synthetic', page.lang))}</p>")
    parts += [f"<p>{e(line)}</p>" for line in page.lines]
    narrow = [sec for sec in page.sections if len(sec.header) <= 4]
    wide = [sec for sec in page.sections if len(sec.header) > 4]
    svg = _map_svg(page)
    if svg:  # as on the PDF: the map with the narrow tables beside it
        side = narrow[:2]
        narrow = narrow[2:]
        parts.append(f"<div class='row'><div class='map'>{svg}</div><div class='side'>"
                     + "".join(_section_html(sec) for sec in side) + "</div></div>")
    parts += [_section_html(sec) for sec in wide]
    if narrow:
        parts.append("<div class='pair'>" + "".join(f"<div>{_section_html(sec)}</div>" for sec in narrow)
                     + "</div>")
    if page.sources:
        parts.append(f"<h2>{e(_t('sec_sources', page.lang))}</h2><div class='sources'>"
                     + "".join(f"<div>{e(s)}</div>" for s in page.sources) + "</div>")
    parts.append(f"<footer><span>schoolplan {e(__version__)} · {e(_t('footer', page.lang))}</span>"
                 f"<span>{e(_t('page_of', page.lang))}</span></footer></body></html>")
    return "".join(parts)


def write_page_html(page: Page, path: str | Path) -> Path:
    """Write ``page`` as a self-contained, print-ready HTML file (atomically)."""
    return atomic_write(path, page_html(page))


def _write_both(page: Page, out_dir: Path) -> dict[str, Path]:
    name = "summary"
    paths = {"summary_html": write_page_html(page, out_dir / f"{name}.html")}
    try:
        paths["summary_pdf"] = write_page_pdf(page, out_dir / f"{name}.pdf")
    except FontMissingError as exc:
        logger.warning("%s", exc)
    return paths


def write_run_summary(result, out_dir: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``方案摘要.pdf`` and ``方案摘要.html`` (``summary.pdf``/``.html`` in English) of a run
    into ``out_dir``. Without a CJK font only the HTML is written and a warning says why."""
    return _write_both(run_page(result, lang=lang), Path(out_dir))


def write_comparison_summary(table: pd.DataFrame, out_dir: str | Path, *, lang: str = "zh",
                             titles: Sequence[str] = ()) -> dict[str, Path]:
    """Write the one-page summary of a comparison next to ``comparison.html``."""
    synthetic = any("合成" in t or "synthetic" in t.lower() for t in titles)
    return _write_both(comparison_page(table, lang=lang, titles=titles, synthetic=synthetic), Path(out_dir))

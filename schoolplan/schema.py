"""The data model: canonical columns, the aliases bureau ledgers use, and value vocabularies.

The canonical column names are a contract: users' files and scripts rely on them. Inputs may use
the English names or the Chinese headers of a bureau ledger (台账); :func:`canonical_columns`
maps them. Level and area-type values are accepted in English, in Chinese and (for the area type)
as NBS urban-rural codes (城乡分类代码).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # typing only: the data model imports no heavy library at run time
    import geopandas as gpd
    import pandas as pd

    from schoolplan.errors import Problems
    from schoolplan.network import RoadNetwork
    from schoolplan.settings import Settings

__all__ = [
    "AREA_TYPES",
    "AREA_TYPE_ALIASES",
    "BALANCE_COLUMNS",
    "CLASS_GRADE_COLUMNS",
    "DEMAND_ALIASES",
    "DEMAND_COLUMNS",
    "GRADE_COLUMNS",
    "INTAKE_COLUMNS",
    "LEVELS",
    "LEVEL_ALIASES",
    "LEVEL_GRADES",
    "LEVEL_LABELS",
    "NBS_URBAN_RURAL",
    "OWNERSHIP_ALIASES",
    "OWNERSHIP_LABELS",
    "SCHOOL_ALIASES",
    "SCHOOL_COLUMNS",
    "SERVICE_COLUMNS",
    "TOWN_ALIASES",
    "TOWN_COLUMNS",
    "Base",
    "InputSpec",
    "Inputs",
    "Result",
    "Scenario",
    "canonical_columns",
    "normalise_header",
    "parse_area_type",
    "parse_level",
    "parse_ownership",
    "teaches_grades",
    "teaches_junior",
    "teaches_primary",
    "to_simplified",
]

#: School levels and the grades each teaches. A teaching point (教学点) teaches some lower grades;
#: grades 1-3 is the usual case and the default here. Special-education schools (特殊教育学校) serve
#: the whole county and kindergartens (幼儿园) no school grade: both teach no grade of the
#: catchment and town rules, but they are read, counted and reported.
LEVEL_GRADES: Final[dict[str, tuple[int, ...]]] = {
    "primary": (1, 2, 3, 4, 5, 6),
    "junior": (7, 8, 9),
    "nine_year": (1, 2, 3, 4, 5, 6, 7, 8, 9),
    "complete": (7, 8, 9, 10, 11, 12),
    "teaching_point": (1, 2, 3),
    "twelve_year": tuple(range(1, 13)),
    "senior": (10, 11, 12),
    "special": (),
    "kindergarten": (),
}
LEVELS: Final[tuple[str, ...]] = tuple(LEVEL_GRADES)

LEVEL_LABELS: Final[dict[str, dict[str, str]]] = {
    "primary": {"zh": "小学", "en": "primary"},
    "junior": {"zh": "初中", "en": "junior middle"},
    "nine_year": {"zh": "九年一贯制", "en": "nine-year"},
    "complete": {"zh": "完全中学", "en": "complete middle (7-12)"},
    "teaching_point": {"zh": "教学点", "en": "teaching point"},
    "twelve_year": {"zh": "十二年一贯制", "en": "twelve-year (1-12)"},
    "senior": {"zh": "普通高中", "en": "general high school (10-12)"},
    "special": {"zh": "特殊教育学校", "en": "special education"},
    "kindergarten": {"zh": "幼儿园", "en": "kindergarten"},
}

LEVEL_ALIASES: Final[dict[str, str]] = {
    # English
    "primary": "primary", "primary school": "primary", "junior": "junior",
    "junior middle": "junior", "junior middle school": "junior", "junior_middle": "junior",
    "nine_year": "nine_year", "nine-year": "nine_year", "nine year": "nine_year",
    "complete": "complete", "complete middle": "complete", "complete middle school": "complete",
    "teaching_point": "teaching_point", "teaching point": "teaching_point",
    "twelve_year": "twelve_year", "twelve-year": "twelve_year", "twelve year": "twelve_year",
    "senior": "senior", "high school": "senior", "senior high school": "senior",
    "special": "special", "special education": "special", "special school": "special",
    "kindergarten": "kindergarten",
    # Chinese (traditional forms are converted to simplified before matching: 國小 -> 国小)
    "小学": "primary", "完全小学": "primary", "完小": "primary", "中心小学": "primary",
    "中心校": "primary", "普通小学": "primary", "村小": "primary", "村完小": "primary",
    "国小": "primary", "国民小学": "primary", "小学校": "primary",
    "初中": "junior", "初级中学": "junior", "普通初中": "junior", "初中学校": "junior",
    "国中": "junior", "国民中学": "junior",
    "九年一贯制": "nine_year", "九年一贯制学校": "nine_year", "九年制": "nine_year",
    "一贯制学校": "nine_year", "一贯制": "nine_year", "九年制学校": "nine_year",
    "完全中学": "complete", "完中": "complete",
    "十二年一贯制": "twelve_year", "十二年一贯制学校": "twelve_year", "十二年制学校": "twelve_year",
    "普通高中": "senior", "高中": "senior", "高级中学": "senior",
    "特殊教育学校": "special", "特殊教育": "special", "特教学校": "special", "培智学校": "special",
    "幼儿园": "kindergarten", "幼稚园": "kindergarten",
    "教学点": "teaching_point", "小学教学点": "teaching_point",
}

#: Ownership words (办学性质). 民办/公办 is who runs a school, not a level: a level cell that holds
#: one of them ("民办小学") is read as the level plus the ownership.
OWNERSHIP_ALIASES: Final[dict[str, str]] = {
    "public": "public", "private": "private", "公办": "public", "公立": "public",
    "民办": "private", "私立": "private",
}
OWNERSHIP_LABELS: Final[dict[str, dict[str, str]]] = {
    "public": {"zh": "公办", "en": "public"}, "private": {"zh": "民办", "en": "private"},
}

AREA_TYPES: Final[tuple[str, ...]] = ("urban", "town", "rural")
AREA_TYPE_LABELS: Final[dict[str, dict[str, str]]] = {
    "urban": {"zh": "城区", "en": "urban"},
    "town": {"zh": "镇区", "en": "town area"},
    "rural": {"zh": "乡村", "en": "rural"},
}

#: NBS urban-rural classification codes (统计用城乡划分代码).
NBS_URBAN_RURAL: Final[dict[str, str]] = {
    "111": "urban",  # 主城区
    "112": "urban",  # 城乡结合区
    "121": "town",   # 镇中心区
    "122": "town",   # 镇乡结合区
    "123": "town",   # 特殊区域
    "210": "rural",  # 乡中心区
    "220": "rural",  # 村庄
}

AREA_TYPE_ALIASES: Final[dict[str, str]] = {
    "urban": "urban", "city": "urban", "town": "town", "township": "town", "rural": "rural",
    "village": "rural", "城区": "urban", "城市": "urban", "主城区": "urban", "城乡结合区": "urban",
    "镇区": "town", "镇": "town", "镇中心区": "town", "镇乡结合区": "town", "县镇": "town",
    "乡村": "rural", "农村": "rural", "村庄": "rural", "乡中心区": "rural", "乡": "rural",
    **NBS_URBAN_RURAL,
}

GRADE_COLUMNS: Final[tuple[str, ...]] = tuple(f"enrollment_g{g}" for g in range(1, 10))
#: Classes per grade (一年级班数 …), optional; summed into ``classes`` when that is blank.
CLASS_GRADE_COLUMNS: Final[tuple[str, ...]] = tuple(f"classes_g{g}" for g in range(1, 13))

SCHOOL_COLUMNS: Final[tuple[str, ...]] = (
    "school_id", "name", "level", "town_code", "town", "enrollment", *GRADE_COLUMNS,
    "classes", "teachers", "seats", "area_type", "lon", "lat",
)
TOWN_COLUMNS: Final[tuple[str, ...]] = ("town_code", "town", "county", "lon", "lat")
#: Values of the ledger's 中心校 (``is_central``) column read as yes / no (lower case, trimmed).
CENTRAL_YES: Final[frozenset[str]] = frozenset({"是", "1", "1.0", "y", "yes", "true", "t", "中心校", "√", "✓"})
CENTRAL_NO: Final[frozenset[str]] = frozenset({"否", "0", "0.0", "n", "no", "false", "f", ""})

DEMAND_COLUMNS: Final[tuple[str, ...]] = (
    "demand_id", "name", "town_code", "town", "pupils_primary", "pupils_junior", "area_type",
    "lon", "lat",
)

_COMMON: Final[dict[str, tuple[str, ...]]] = {
    "town_code": ("town_code", "乡镇代码", "乡镇编码", "乡镇区划代码", "街道乡镇代码", "town code"),
    "town": ("town", "town_name", "所属乡镇", "乡镇", "乡镇名称", "乡镇（街道）", "乡镇(街道)", "街道"),
    "lon": ("lon", "lng", "longitude", "x", "经度", "gis_longitude"),
    "lat": ("lat", "latitude", "y", "纬度", "gis_latitude"),
}

SCHOOL_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "school_id": ("school_id", "学校代码", "学校标识码", "学校编码", "学校编号", "school code", "id"),
    "name": ("name", "school_name", "学校名称", "学校", "校名"),
    "level": ("level", "学段", "办学类型", "学校类型", "学校类别", "school type"),
    "enrollment": ("enrollment", "enrolment", "pupils", "在校生数", "学生数", "在校学生数", "在校生", "学生人数"),
    **{f"enrollment_g{g}": (f"enrollment_g{g}", f"enrolment_g{g}", f"{cn}年级", f"{cn}年级学生数",
                            f"{cn}年级人数", f"grade {g}", f"grade_{g}")
       for g, cn in zip(range(1, 10), "一二三四五六七八九", strict=True)},
    "classes": ("classes", "班级数", "班数", "教学班数"),
    "teachers": ("teachers", "专任教师数", "教师数", "专任教师"),
    "seats": ("seats", "学位数", "核定学位", "核定学位数", "学位"),
    "area_type": ("area_type", "城乡类别", "城乡分类代码", "城乡分类", "城乡属性", "城乡代码", "urban_rural"),
    "ownership": ("ownership", "办学性质", "举办者类型", "公办民办", "公民办", "学校性质"),
    # classes per grade (一年级班数…): summed into ``classes`` when the ledger has no total
    **{f"classes_g{g}": (f"classes_g{g}", f"{cn}年级班数", f"{cn}年级班级数", f"{cn}年级班级",
                         f"{cn}年级教学班数", f"classes grade {g}")
       for g, cn in zip(range(1, 13), ["一", "二", "三", "四", "五", "六", "七", "八", "九",
                                      "十", "十一", "十二"], strict=True)},
    # 优质均衡 resources (教督〔2017〕6号), optional
    "teachers_qualified": ("teachers_qualified", "高于规定学历教师数", "高学历教师数"),
    "key_teachers": ("key_teachers", "县级及以上骨干教师数", "骨干教师数"),
    "pe_arts_teachers": ("pe_arts_teachers", "体育艺术专任教师数", "体育、艺术专任教师数", "体艺教师数"),
    "teaching_area_m2": ("teaching_area_m2", "教学及辅助用房面积", "教学及辅助用房面积（平方米）"),
    "sports_area_m2": ("sports_area_m2", "体育运动场馆面积", "运动场馆面积", "体育运动场馆面积（平方米）"),
    "equipment_value_yuan": ("equipment_value_yuan", "教学仪器设备值", "教学仪器设备值（元）"),
    "multimedia_classrooms": ("multimedia_classrooms", "网络多媒体教室数", "多媒体教室数"),
    # what a closure needs at the receiving school (交通、午餐、午休), optional
    "boarding_beds": ("boarding_beds", "寄宿床位", "寄宿床位数", "床位数", "住宿床位"),
    "canteen_seats": ("canteen_seats", "食堂座位", "食堂座位数", "就餐座位数", "食堂餐位"),
    "is_central": ("is_central", "中心校", "是否中心校", "中心学校", "central school"),
    # intake places of the entry grade (招生计划), optional: the 学位预警 entry-cohort check
    # uses them instead of entry classes x class size
    "intake_primary": ("intake_primary", "一年级学位", "一年级学位数", "一年级招生计划", "一年级计划招生数",
                       "小学招生计划", "小学起始年级学位数"),
    "intake_junior": ("intake_junior", "七年级学位", "七年级学位数", "七年级招生计划", "七年级计划招生数",
                      "初中招生计划", "初中起始年级学位数"),
    "intake_places": ("intake_places", "招生计划", "招生计划数", "计划招生数", "起始年级学位数",
                      "起始年级学位", "招生学位数"),
    **_COMMON,
}
BALANCE_COLUMNS: Final[tuple[str, ...]] = (
    "teachers_qualified", "key_teachers", "pe_arts_teachers", "teaching_area_m2",
    "sports_area_m2", "equipment_value_yuan", "multimedia_classrooms",
)
#: Optional ledger counts of what a closure needs at the receiving school (beds, canteen seats).
SERVICE_COLUMNS: Final[tuple[str, ...]] = ("boarding_beds", "canteen_seats")
#: Optional intake places (招生计划) of the entry grade 1 and 7; ``intake_places`` (one entry
#: grade, e.g. 起始年级学位数) is read into the part a school has when it has one.
INTAKE_COLUMNS: Final[tuple[str, ...]] = ("intake_places", "intake_primary", "intake_junior")

TOWN_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "town_code": _COMMON["town_code"],
    "town": _COMMON["town"] + ("乡镇街道",),
    "county": ("county", "所属县区", "县区", "所属县（市、区）", "县（市、区）", "区县", "县"),
    "lon": _COMMON["lon"],
    "lat": _COMMON["lat"],
}

DEMAND_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "demand_id": ("demand_id", "村庄代码", "村代码", "行政村代码", "村庄编码", "小区编号", "id"),
    "name": ("name", "村庄名称", "村名", "行政村", "小区名称", "名称"),
    "pupils_primary": ("pupils_primary", "小学适龄人口", "小学学龄人口", "小学适龄儿童", "小学生数"),
    "pupils_junior": ("pupils_junior", "初中适龄人口", "初中学龄人口", "初中适龄少年", "初中生数"),
    "area_type": ("area_type", "城乡分类代码", "城乡类别", "城乡分类", "城乡代码", "ur_code", "urban_rural"),
    **_COMMON,
}


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # a small compiled dictionary; loaded once

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified ones (OpenCC ``t2s``): 學校 -> 学校, 臺 -> 台.

    Used on headers, level words and town names, so a traditional-Chinese ledger (Big5 offices)
    reads like a simplified one. Text without traditional characters comes back unchanged.
    """
    if text.isascii():
        return text
    return str(_converter().convert(text))


@functools.lru_cache(maxsize=65536)
def normalise_header(header: object) -> str:
    """Lower-case, strip, full-width to half-width (NFKC), traditional to simplified characters,
    and collapse whitespace/underscores."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    text = text.replace("\u3000", " ")
    text = to_simplified(text)
    text = re.sub(r"[\s_]+", " ", text)
    return text


def canonical_columns(
    headers: list[str], aliases: dict[str, tuple[str, ...]], explicit: dict[str, str] | None = None
) -> tuple[dict[str, str], list[tuple[str, list[str]]]]:
    """Map a file's headers to canonical names.

    Parameters
    ----------
    headers
        The column names as they are in the file.
    aliases
        Canonical name -> accepted aliases (``SCHOOL_ALIASES`` etc.).
    explicit
        A user's own mapping canonical name -> header in the file; it wins over aliases.

    Returns
    -------
    mapping, ambiguous
        ``mapping`` is file header -> canonical name. ``ambiguous`` lists canonical names that two
        or more headers matched, with those headers (the caller reports them).
    """
    explicit = dict(explicit or {})
    mapping: dict[str, str] = {}
    ambiguous: list[tuple[str, list[str]]] = []
    by_norm: dict[str, list[str]] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), []).append(h)
    taken: set[str] = set()
    for canon, header in explicit.items():
        mapping[header] = canon
        taken.add(canon)
    for canon, names in aliases.items():
        if canon in taken:
            continue
        hits: list[str] = []
        for alias in names:
            for h in by_norm.get(normalise_header(alias), []):
                if h not in mapping and h not in hits:
                    hits.append(h)
        if len(hits) == 1:
            mapping[hits[0]] = canon
        elif len(hits) > 1:
            # Prefer the header that equals the canonical name itself.
            exact = [h for h in hits if normalise_header(h) == normalise_header(canon)]
            if len(exact) == 1:
                mapping[exact[0]] = canon
            else:
                ambiguous.append((canon, hits))
    return mapping, ambiguous


def _key(value: object) -> str:
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return normalise_header(text)


_LEVEL_KEYS: Final[dict[str, str]] = {normalise_header(a): lv for a, lv in LEVEL_ALIASES.items()}
_OWNERSHIP_KEYS: Final[dict[str, str]] = {normalise_header(a): o for a, o in OWNERSHIP_ALIASES.items()}


def parse_level(value: object, extra: dict[str, str] | None = None) -> str | None:
    """Return the canonical level of a ledger value, or ``None`` if it is not recognised.

    Ownership words around a level (``民办小学``, ``公办 初中``) are ignored here; see
    :func:`parse_ownership`.
    """
    key = _key(value)
    if extra:
        for k, v in extra.items():
            if _key(k) == key:
                return v
    level = _LEVEL_KEYS.get(key)
    if level is None:
        stripped = _strip_ownership(key)
        if stripped and stripped != key:
            level = _LEVEL_KEYS.get(stripped)
    return level


def _strip_ownership(key: str) -> str:
    for word in sorted(OWNERSHIP_ALIASES, key=len, reverse=True):
        if not word.isascii():
            key = key.replace(word, "")
    return re.sub(r"^[\s/()·、-]+|[\s/()·、-]+$", "", key)


def parse_ownership(value: object) -> str | None:
    """``public`` or ``private`` for 公办/民办 (also inside a level cell: ``民办小学``), else None."""
    key = _key(value)
    if key in _OWNERSHIP_KEYS:
        return _OWNERSHIP_KEYS[key]
    for word, own in OWNERSHIP_ALIASES.items():
        if not word.isascii() and word in key:
            return own
    return None


def parse_area_type(value: object, extra: dict[str, str] | None = None) -> str | None:
    """Return ``urban``, ``town`` or ``rural`` for a ledger value or NBS code, else ``None``."""
    key = _key(value)
    if extra:
        for k, v in extra.items():
            if _key(k) == key:
                return v
    for alias, area in AREA_TYPE_ALIASES.items():
        if normalise_header(alias) == key:
            return area
    return None


def teaches_grades(level: str) -> tuple[int, ...]:
    """The grades a school of ``level`` teaches."""
    return LEVEL_GRADES[level]


def teaches_junior(level: str) -> bool:
    """True when a school of ``level`` teaches grades 7-9 (初中, 九年一贯制, 完全中学)."""
    return 7 in LEVEL_GRADES.get(level, ())


def teaches_primary(level: str) -> bool:
    """True when a school of ``level`` teaches any of grades 1-6."""
    return any(g <= 6 for g in LEVEL_GRADES.get(level, ()))


# --- Scenarios, their inputs and results: the typed records every floor passes upwards ---------


@dataclass(frozen=True)
class InputSpec:
    """One input file and how to read it."""

    path: Path
    coordinate_system: str | None = None
    columns: dict[str, str] | None = None
    values: dict[str, dict[str, str]] | None = None
    sheet: Any = None
    header_row: int | None = None
    encoding: str | None = None
    layer: str | None = None
    require_location: bool = True
    mode: str | None = None

    def reader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the :mod:`schoolplan.io` readers."""
        return {k: v for k, v in {
            "coordinate_system": self.coordinate_system, "columns": self.columns,
            "sheet": self.sheet, "header_row": self.header_row, "encoding": self.encoding,
            "layer": self.layer}.items() if v is not None}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    title: str
    path: Path | None
    inputs: dict[str, InputSpec]
    settings: dict[str, Any] = field(default_factory=dict)
    actions: list[Any] = field(default_factory=list)
    synthetic: bool = False
    year: int | None = None


@dataclass
class Inputs:
    """The validated inputs of a scenario, in WGS-84, linked to their towns."""

    schools: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame | None
    problems: Problems
    files: dict[str, dict[str, Any]]
    history: pd.DataFrame | None = None
    births: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None


@dataclass
class Base:
    """What every variant of a scenario shares: inputs, settings and travel costs."""

    scenario: Scenario
    settings: Settings
    inputs: Inputs
    groups: pd.DataFrame | None
    costs: pd.DataFrame | None
    networks: dict[str, RoadNetwork | None]
    distance_method: str
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """Everything a run computed, before it is written."""

    scenario: Scenario
    settings: Settings
    inputs: Inputs
    schools: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    #: rule breaches (违规); warnings are in ``alerts``
    violations: pd.DataFrame
    created: str
    distance_method: str
    counts: dict[str, Any]
    assignments: pd.DataFrame | None = None
    shortage: pd.DataFrame | None = None
    catchments: gpd.GeoDataFrame | None = None
    indicators: dict[str, Any] = field(default_factory=dict)
    balance: pd.DataFrame | None = None
    balance_cv: pd.DataFrame | None = None
    balance_contributors: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None
    layouts: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None
    #: 学位预警 per school, 学段 (part) and year (:func:`schoolplan.diagnosis.seat_warning_table`)
    seat_warnings: pd.DataFrame | None = None
    #: 预警与提示: rows of the checks in :data:`schoolplan.rules.ALERT_RULES` (red 学位预警),
    #: columns as ``violations``; not rule breaches
    alerts: pd.DataFrame | None = None
    #: modelled pupils against the ledger per school and part (:mod:`schoolplan.calibration`)
    calibration: pd.DataFrame | None = None
    #: the optimiser's trade-off table (schools open against travel), when asked for
    #: (:func:`schoolplan.optimize.tradeoff_table`)
    tradeoff: pd.DataFrame | None = None
    #: the road networks the travel costs were computed on, by network mode (``walk``, ``drive``)
    networks: dict[str, RoadNetwork | None] = field(default_factory=dict)
    #: county-level rules per county (:func:`schoolplan.counties.county_checks`), computed once
    #: by the diagnosis; ``None`` on a result built without it (the outputs then compute it)
    counties: pd.DataFrame | None = None

"""Named settings with their sources.

Every default number schoolplan uses is a :class:`Setting` here: a name, a typed default, the unit,
the source it comes from and how sure we are of it (``../shared/DOMAIN.md``):

* ``V`` verified in a retrieved source,
* ``P`` partly verified,
* ``M`` from memory or derivation, to confirm,
* ``A`` an assumption of this tool that a user should set for their county.

A :class:`Settings` object holds the values in force. It is built from the defaults and layers of
overrides, each named after where it came from (``scenario``, ``cli``, ``call``), so every output
can say which value was used and why::

    s = Settings.layered(("scenario", {"class_size_primary": 40}), ("cli", {...}))
    s["class_size_primary"]        # 40
    s.origin("class_size_primary") # "scenario"
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from schoolplan._settings_zh import SOURCE_ZH
from schoolplan.errors import SettingsError

__all__ = ["SETTINGS", "Setting", "Settings", "defaults", "describe"]

Confidence = Literal["V", "P", "M", "A"]


@dataclass(frozen=True)
class Setting:
    """One named default with its unit, source and confidence."""

    name: str
    default: Any
    kind: Literal["int", "float", "bool", "str", "list[int]", "list[float]", "dict[str,float]"]
    unit: str
    source: str
    confidence: Confidence
    description_en: str
    description_zh: str
    minimum: float | None = 0
    choices: tuple[str, ...] | None = None
    #: the source in Chinese where ``source`` is an English sentence ("" = ``source`` as it is)
    source_zh: str = ""

    def source_in(self, lang: str) -> str:
        """The source as an output in ``lang`` (``zh`` or ``en``) shows it."""
        return (self.source_zh or self.source) if lang == "zh" else self.source

    def coerce(self, value: Any, *, origin: str = "call") -> Any:
        """Return ``value`` converted to this setting's type, or raise :class:`SettingsError`."""
        where = f"setting '{self.name}' (from {origin})"
        try:
            if self.kind == "int":
                if isinstance(value, bool) or float(value) != int(float(value)):
                    raise ValueError
                out: Any = int(float(value))
            elif self.kind == "float":
                if isinstance(value, bool):
                    raise ValueError
                out = float(value)
            elif self.kind == "bool":
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low not in {"true", "false", "yes", "no", "1", "0", "on", "off"}:
                        raise ValueError
                    out = low in {"true", "yes", "1", "on"}
                else:
                    out = bool(value)
            elif self.kind == "str":
                out = str(value)
            elif self.kind in ("list[int]", "list[float]"):
                if isinstance(value, str):
                    value = [v for v in value.replace(";", ",").split(",") if v.strip()]
                if not isinstance(value, (list, tuple)):
                    raise ValueError
                conv = int if self.kind == "list[int]" else float
                out = [conv(float(v)) for v in value]
            elif self.kind == "dict[str,float]":
                if not isinstance(value, Mapping):
                    raise ValueError
                out = {str(k): float(v) for k, v in value.items()}
            else:  # pragma: no cover - programming error
                raise SettingsError(f"unknown kind {self.kind}")
        except (TypeError, ValueError):
            raise SettingsError(
                f"{where} was {value!r} but is expected to be of type {self.kind} "
                f"(unit: {self.unit}); default is {self.default!r}"
            ) from None
        if self.choices is not None and out not in self.choices:
            raise SettingsError(
                f"{where} was {value!r} but is expected to be one of {list(self.choices)}"
            )
        if self.minimum is not None:
            values = (
                out
                if isinstance(out, list)
                else list(out.values())
                if isinstance(out, dict)
                else [out]
                if self.kind in ("int", "float")
                else []
            )
            for v in values:
                if v < self.minimum:
                    raise SettingsError(
                        f"{where} was {value!r} but must be >= {self.minimum} ({self.unit})"
                    )
        return out


def _s(*args: Any, **kwargs: Any) -> Setting:
    return Setting(*args, **kwargs)


GB50099 = "GB 50099-2011 中小学校设计规范 §3.0.1"
JIAODU_2017 = "教督〔2017〕6号 县域义务教育优质均衡发展督导评估办法"
SHANDONG_2018 = "山东省 关于城镇居住区配套教育设施规划建设的意见 (2018); GB 50180-2018"
GUOBAN_2018 = "国办发〔2018〕27号 关于全面加强乡村小规模学校和乡镇寄宿制学校建设的指导意见"

_MODES = ("walk_g1_3", "walk_g4_9", "bicycle", "bus")

_ALL: list[Setting] = [
    # --- class and school sizes -------------------------------------------------------------
    _s("class_size_primary", 45, "int", "pupils per class", GB50099, "V",
       "Standard class size of a primary school; seats = classes x class size when a ledger has no seats.",
       "小学标准班额；台账无学位数时，学位 = 班级数 × 班额"),
    _s("class_size_junior", 50, "int", "pupils per class", GB50099, "V",
       "Standard class size of a junior middle school (grades 7-9).",
       "初中标准班额"),
    _s("class_size_teaching_point", 30, "int", "pupils per class", GB50099 + " (non-complete primary)", "V",
       "Class size of a non-complete primary school or teaching point.",
       "非完全小学（教学点）班额"),
    _s("school_size_cap", 2000, "int", "pupils", JIAODU_2017, "V",
       "Largest primary or junior middle school (pupils).", "小学、初中办学规模上限（人）"),
    _s("school_size_cap_nine_year", 2500, "int", "pupils", JIAODU_2017, "V",
       "Largest nine-year or twelve-year school, compulsory part (pupils).",
       "九年一贯制、十二年一贯制学校（义务教育段）办学规模上限（人）"),
    _s("rural_school_sizes",
       {"teaching_point_max_classes": 4, "teaching_point_max_pupils": 120,
        "primary_min_classes": 6, "primary_max_classes": 24, "primary_max_pupils": 1080,
        "junior_min_classes": 12, "junior_max_classes": 24, "junior_max_pupils": 1200},
       "dict[str,float]", "classes / pupils", "建标109-2008 农村普通中小学校建设标准 §8", "V",
       "Rural school sizes of the national construction standard (an informational check).",
       "农村中小学校建设规模（建标109-2008，提示性检查）"),
    # --- small schools ------------------------------------------------------------------------
    _s("small_school_tiers", [200, 100, 50], "list[int]", "pupils",
       "Liaocheng city statistics count <200 / <100 / <50; national definition <100: " + GUOBAN_2018, "V",
       "Enrolment tiers below which a school is flagged small (lt200, lt100, lt50).",
       "小规模学校分档（在校生少于200/100/50人）"),
    _s("small_school_area_types", "rural", "str", "comma-separated area types",
       GUOBAN_2018 + " (乡村小规模学校: rural schools)", "V",
       "Which area types are flagged small; 'rural' by default, 'rural,town' to include town-area schools.",
       "参与小规模学校标记的城乡类别（默认仅乡村）", minimum=None),
    # --- service radii (urban) ----------------------------------------------------------------
    _s("radius_kindergarten_m", 300, "float", "m", SHANDONG_2018, "V",
       "Urban service radius of a kindergarten.", "幼儿园服务半径（城镇）"),
    _s("radius_primary_m", 500, "float", "m", SHANDONG_2018, "V",
       "Urban service radius of a primary school.", "小学服务半径（城镇）"),
    _s("radius_junior_m", 1000, "float", "m", SHANDONG_2018, "V",
       "Urban service radius of a junior middle school.", "初中服务半径（城镇）"),
    # --- travel -----------------------------------------------------------------------------
    _s("walk_limit_g1_3_min", 30, "float", "minutes", GUOBAN_2018, "V",
       "Longest normal walk to school for grades 1-3 (no boarding).",
       "1-3年级学生上学单程步行时间上限（不寄宿）"),
    _s("walk_limit_extra_min", [40, 60], "list[float]", "minutes", "schoolplan reporting convention", "A",
       "Further walking-time thresholds also counted in reports.", "报告中另行统计的步行时间阈值"),
    _s("trip_limit_lower_grades_km", 2.5, "float", "km", "重庆市 2012 农村义务教育学校布局调整规定 (another province)", "V",
       "One-way trip distance limit for lower grades used in rural checks.", "低年级单程上学距离上限"),
    _s("trip_limit_upper_grades_km", 5.0, "float", "km", "重庆市 2012 农村义务教育学校布局调整规定 (another province)", "V",
       "One-way trip distance limit for upper grades used in rural checks.", "高年级单程上学距离上限"),
    _s("walk_speed_g1_3_mps", 0.8, "float", "m/s", "derived from GB 50180 radius-time pairs and US K-5 design speed", "M",
       "Walking speed of pupils in grades 1-3.", "1-3年级学生步行速度"),
    _s("walk_speed_g4_9_mps", 1.0, "float", "m/s", "derived from GB 50180 radius-time pairs (1.0-1.1 m/s)", "M",
       "Walking speed of pupils in grades 4-9.", "4-9年级学生步行速度"),
    _s("bicycle_speed_kph", 12.0, "float", "km/h", "typical child cycling speed; assumption to confirm locally", "A",
       "Cycling speed of pupils.", "学生骑行速度"),
    _s("bus_speed_kph_by_road_class",
       {"motorway": 80.0, "trunk": 60.0, "primary": 50.0, "secondary": 40.0, "tertiary": 35.0,
        "unclassified": 30.0, "residential": 25.0, "service": 15.0, "track": 15.0, "other": 25.0},
       "dict[str,float]", "km/h", "school-bus speeds by road class where OSM maxspeed is absent; assumption", "A",
       "School-bus / car speed by road class.", "校车按道路等级的行驶速度"),
    _s("circuity_factor", 1.3, "float", "ratio road/straight-line",
       "road-network circuity 1.2-1.4 (Ballou et al. 2002; Boeing 2019 for OSM street networks)", "M",
       "Road distance as a multiple of straight-line distance when no road network is given.",
       "无路网时，道路距离 = 直线距离 × 绕行系数"),
    _s("max_snap_distance_m", 1000.0, "float", "m", "schoolplan convention; a point farther from any road is reported", "A",
       "Farthest a school or village may lie from the road network before it is reported.",
       "学校或村庄距路网的最大允许距离"),
    # --- catchments ---------------------------------------------------------------------------
    _s("travel_mode_g1_3", "walk_g1_3", "str", "mode name", GUOBAN_2018 + " (grades 1-3 walk, no boarding)", "V",
       "Travel mode of grades 1-3 to school (walk_g1_3, walk_g4_9, bicycle, bus).",
       "1-3年级上学方式", minimum=None, choices=_MODES),
    _s("travel_mode_g4_6", "walk_g4_9", "str", "mode name", "schoolplan default; set bus where a school bus runs", "A",
       "Travel mode of grades 4-6 to school.", "4-6年级上学方式", minimum=None, choices=_MODES),
    _s("travel_mode_g7_9", "walk_g4_9", "str", "mode name", "schoolplan default; set bicycle or bus to suit the county", "A",
       "Travel mode of grades 7-9 to school.", "7-9年级上学方式", minimum=None, choices=_MODES),
    _s("catchment_candidates", 10, "int", "schools", "schoolplan convention (RECIPES: ~20 nearest candidates solve optimally)", "A",
       "How many nearest schools of the right level each village keeps as candidates.",
       "每个村庄保留的候选学校数"),
    _s("catchment_cutoff_m", 20000.0, "float", "m", "schoolplan convention; beyond it a school is not a candidate", "A",
       "Longest road distance from a village to a candidate school.", "村庄到候选学校的最大道路距离"),
    _s("catchment_within_town", False, "bool", "yes/no", "划片招生 follows town lines in most counties; off by default", "A",
       "Keep pupils in their own town's schools.", "是否按乡镇划片（学生只上本乡镇学校）", minimum=None),
    _s("catchment_allow_split", True, "bool", "yes/no", "schoolplan default", "A",
       "Allow the pupils of one village to be split between schools in the capacitated assignment.",
       "容量约束分配时是否允许同一村庄学生分到多所学校", minimum=None),
    _s("share_g1_3_of_primary", 0.5, "float", "share", "equal grade sizes; set from the ledger where cohorts shrink", "A",
       "Share of primary-age children in grades 1-3 when the demand has no grade-group columns.",
       "小学适龄儿童中1-3年级所占比例（需求数据无分年级时）"),
    _s("osm_download_timeout_s", 30.0, "float", "s", "schoolplan convention: fail fast without internet (osmnx default is 180 s)", "A",
       "Timeout of each request when roads are downloaded from OpenStreetMap (roads: osm).",
       "在线下载 OpenStreetMap 路网的请求超时"),
    _s("osm_download_buffer_m", 2000.0, "float", "m", "schoolplan convention", "A",
       "Margin around the towns for roads downloaded from OpenStreetMap.", "在线下载路网时乡镇范围外扩距离"),
    _s("boarding_beyond_km", 10.0, "float", "km", "schoolplan assumption; 国办发〔2018〕27号 allows boarding from grade 4 where needed", "A",
       "Pupils of grades 4-9 living farther than this from their school are counted as needing boarding.",
       "4-9年级学生距学校超过该距离视为需寄宿"),
    _s("scattered_within_min", 15.0, "float", "minutes", "schoolplan assumption", "A",
       "A school is 'scattered' when another school of the same level is within this walking time (grades 4-9 speed).",
       "同学段另一所学校在该步行时间内，视为布点分散"),
    # --- seat warnings and balance ----------------------------------------------------------
    _s("seat_warning_yellow", 0.90, "float", "demand / seats", "浙教基〔2018〕100号 (Zhejiang)", "V",
       "Utilisation from which a school gets a yellow seat warning.", "学位黄色预警阈值（需求/学位）"),
    _s("seat_warning_red", 1.00, "float", "demand / seats", "浙教基〔2018〕100号 (Zhejiang)", "V",
       "Utilisation from which a school gets a red seat warning.", "学位红色预警阈值（需求/学位）"),
    _s("cv_limit_primary", 0.50, "float", "coefficient of variation", JIAODU_2017, "V",
       "Largest CV of indicators across a county's primary schools (优质均衡).", "小学校际差异系数上限"),
    _s("cv_limit_junior", 0.45, "float", "coefficient of variation", JIAODU_2017, "V",
       "Largest CV of indicators across a county's junior middle schools (优质均衡).", "初中校际差异系数上限"),
    _s("balance_standards_primary",
       {"teachers_qualified_per100": 4.2, "key_teachers_per100": 1.0, "pe_arts_teachers_per100": 0.9,
        "teaching_area_m2_per_pupil": 4.5, "sports_area_m2_per_pupil": 7.5,
        "equipment_yuan_per_pupil": 2000.0, "multimedia_classrooms_per100": 2.3},
       "dict[str,float]", "per 100 pupils / per pupil", JIAODU_2017 + " (secondary copies)", "V",
       "The 7 resource standards a primary school must meet (优质均衡).", "小学优质均衡7项资源配置标准"),
    _s("balance_standards_junior",
       {"teachers_qualified_per100": 5.3, "key_teachers_per100": 1.0, "pe_arts_teachers_per100": 0.9,
        "teaching_area_m2_per_pupil": 5.8, "sports_area_m2_per_pupil": 10.2,
        "equipment_yuan_per_pupil": 2500.0, "multimedia_classrooms_per100": 2.4},
       "dict[str,float]", "per 100 pupils / per pupil", JIAODU_2017 + " (secondary copies)", "V",
       "The 7 resource standards a junior middle school must meet (优质均衡).", "初中优质均衡7项资源配置标准"),
    _s("balance_min_met", 6, "int", "indicators of 7", JIAODU_2017, "V",
       "A school must meet at least this many of the 7 resource standards.", "每所学校至少达标的指标项数"),
    _s("rules_disabled", "", "str", "comma-separated rule ids", "schoolplan convention", "A",
       "Rules switched off for a scenario (e.g. 'walk_time_g1_3,class_size'); see `schoolplan settings`.",
       "本方案停用的规则（逗号分隔的规则编号）", minimum=None),
    # --- estates ----------------------------------------------------------------------------
    _s("pupils_primary_per_1000_residents", 40.0, "float", "pupils per 1,000 residents",
       "no Shandong value found; estimated at 35-45 from the post-2020 birth cohorts", "A",
       "Primary pupils generated per 1,000 residents of a new estate: set it for your county.",
       "每千居民小学生数（无山东官方值，请按本地设置）"),
    _s("pupils_junior_per_1000_residents", 20.0, "float", "pupils per 1,000 residents",
       "about half the primary rate (an estimate)", "A",
       "Junior middle pupils generated per 1,000 residents of a new estate.",
       "每千居民初中生数（假设值，请按本地设置）"),
    _s("persons_per_household", 2.8, "float", "persons per household",
       "assumption: the 2020 census national average family household was about 2.6 persons "
       "(M); new urban estates house more families with children; set it for your county", "A",
       "Residents per household (户均人口) of a new estate when only households (户数) are given.",
       "户均人口（仅提供户数时，居住人口 = 户数 × 户均人口）"),
    _s("estate_school_max_classes", 36, "int", "classes", SHANDONG_2018, "V",
       "Largest primary or junior middle school an estate provides (classes).",
       "居住区配套小学或初中办学规模上限（班）"),
    _s("estate_school_max_classes_nine_year", 45, "int", "classes", SHANDONG_2018, "V",
       "Largest nine-year school an estate provides (classes).",
       "居住区配套九年一贯制学校办学规模上限（班）"),
    # --- enrolment projections (schoolplan.projection) ----------------------------------------
    _s("projection_horizon_years", 10, "int", "years", "issue 9: plans look 5-10 years ahead (Liaocheng to 2027 and 2030)", "A",
       "How many school years after the last year of the history are projected.",
       "在校生预测年限（历史数据最后一年之后的年数）", minimum=1),
    _s("projection_school_start_age", 6, "int", "years of age",
       "义务教育法 第十一条: children enter school at age 6 (7 where conditions are lacking)", "M",
       "Age at entry to grade 1: births of year b feed grade 1 of the school year starting in b + this.",
       "入学年龄：b年出生人口进入 b+该值 年秋季一年级"),
    _s("projection_shrinkage_pupils", 20.0, "float", "pupils (pseudo-count)",
       "schoolplan assumption: credibility weighting (Buehlmann) of a school's ratio against the county's", "A",
       "A school's grade-progression ratio is pooled with the county ratio as if the county had "
       "contributed this many pupils to the school's history: few years or few pupils -> close to the county.",
       "学校升级率向全县升级率收缩的权重（相当于全县贡献的学生数）"),
    _s("projection_entry_years", 3, "int", "years",
       "schoolplan assumption: recent years follow migration to the county seat", "A",
       "How many recent years estimate a school's intake ratios (grade 1 per birth six years before; "
       "grade 7 per county grade-6 pupil a year before).",
       "估计入学比例（一年级/六年前出生人口、七年级/上年全县六年级）所用的最近年数", minimum=1),
    _s("projection_hold_method", "mean", "str", "mean or trend",
       "schoolplan assumption: a held mean does not extrapolate a falling series to zero", "A",
       "How grade 1 is carried forward without births data, and births beyond the last year given: "
       "'mean' (the mean of the recent years) or 'trend' (their straight-line trend, never below zero).",
       "无出生数据时一年级人数（及出生数据之后年份的出生人口）的外推方式：mean 近年均值 / trend 线性趋势",
       minimum=None, choices=("mean", "trend")),
    _s("projection_hold_years", 3, "int", "years", "schoolplan assumption", "A",
       "How many recent years the held mean or trend is computed from.",
       "外推所用的最近年数", minimum=2),
    _s("projection_band_level", 0.8, "float", "probability",
       "schoolplan convention: a central 80 % band (10th-90th percentile)", "A",
       "Coverage of the low/high bands of projected pupils.", "预测区间的置信水平（默认80%）"),
    _s("projection_outlier_z", 3.5, "float", "modified z-score",
       "Iglewicz and Hoaglin (1993): |modified z| > 3.5 flags an outlier", "M",
       "A school's grade-progression ratio is reported as an outlier beyond this robust z-score "
       "(median and MAD of the log ratios of all schools).",
       "升级率异常值阈值（稳健z分数，基于对数比值的中位数与MAD）"),
    _s("projection_outlier_min_pupils", 50, "int", "pupils", "schoolplan assumption: ratios of a handful of pupils are noise", "A",
       "Ratios from fewer pupils in the lower grades than this are shown but not flagged as outliers.",
       "低年级人数少于该值时，不判定升级率异常"),
    # --- input checks -----------------------------------------------------------------------
    _s("extent_tolerance_m", 5000.0, "float", "m", "schoolplan convention", "A",
       "How far outside the towns' extent a school or village may lie before it is reported.",
       "学校或村庄超出乡镇范围的容许距离"),
    # --- consolidation and planet-satellite (issue 14) ------------------------------------------
    _s("consolidation_within_town", True, "bool", "yes/no",
       "聊城 2022/2025 与山东 2023：撤并“一镇一策”，在镇域内并入中心校", "V",
       "Receivers of a closed school lie in its own town; another town's school only when the town "
       "has no other school teaching those grades (the row says so).",
       "撤并学校的学生只并入本乡镇学校（本乡镇无同学段学校时才跨乡镇，并注明）", minimum=None),
    _s("consolidation_prefer_central", True, "bool", "yes/no",
       "聊城 2022 报告：4-6年级在“行星”（中心校）就读", "V",
       "Grades 4-6 of a closed school go to their town's central school (中心校) when it is within the "
       "cut-off; grades 1-3 and 7-9 go to the nearest school of the town.",
       "撤并后4-6年级学生并入本乡镇中心校（在距离上限内时）；1-3、7-9年级并入本乡镇最近学校",
       minimum=None),
    _s("central_school_pattern", "中心小学|中心校|中心学校", "str", "regular expression",
       "聊城 2022 报告：行星（中心校）；山东乡镇中心小学的通行命名", "P",
       "Name pattern of a town's central school (中心校) when the ledger has no central-school (中心校) column.",
       "台账无“中心校”列时，按校名识别乡镇中心校的正则表达式", minimum=None),
    _s("shrinking_decline_share", 0.15, "float", "share of the first year's enrolment",
       "schoolplan assumption; set for the county", "A",
       "A school is 'shrinking' when its enrolment fell by at least this share over the enrolment history.",
       "在校生历史数据中降幅达到该比例，视为生源萎缩"),
    _s("lunch_at_school_share", 1.0, "float", "share of pupils",
       "聊城 2025：撤并须保障午餐配备；assumption that every pupil eats at school", "A",
       "Share of a receiving school's pupils who need a canteen seat (lunch at school).",
       "在校就餐（需要食堂座位）的学生比例"),
    _s("planet_satellite_town_types", "镇,乡", "str", "comma-separated town types",
       "聊城 2022 报告：行星-卫星布局在镇域内（农村乡镇）", "V",
       "Town types laid out by planet_satellite when towns are not named (街道 only when named).",
       "行星-卫星布局默认适用的乡镇类型（街道须点名）", minimum=None),
    # --- estate review: kindergartens, viable sizes, phases (issue 18) --------------------------
    _s("pupils_kindergarten_per_1000_residents", 30.0, "float", "children per 1,000 residents",
       "assumption: three cohorts (ages 3-5) of about 10 births per 1,000 residents of a new estate; "
       "no Shandong value found", "A",
       "Kindergarten children (ages 3-5) generated per 1,000 residents of a new estate: set it for your county.",
       "每千居民幼儿园幼儿数（3-5岁，假设值，请按本地设置）"),
    _s("class_size_kindergarten", 30, "int", "children per class",
       "幼儿园工作规程 (教育部令第39号, 2016) 第十一条: 小班25人、中班30人、大班35人、混合班30人", "M",
       "Standard class size of a kindergarten (the middle class); seats = classes x class size when a "
       "kindergarten has no seat count.", "幼儿园标准班额（中班）；无学位数时，学位 = 班数 × 班额"),
    _s("estate_kindergarten_max_classes", 12, "int", "classes", SHANDONG_2018, "V",
       "Largest kindergarten an estate provides (classes).", "居住区配套幼儿园办学规模上限（班）"),
    _s("estate_kindergarten_min_classes", 3, "int", "classes",
       "建标175-2016 幼儿园建设标准: kindergartens of 3, 6, 9 and 12 classes", "M",
       "Smallest kindergarten worth building (classes): one class per age.",
       "幼儿园最小办园规模（班，每个年龄段一个班）", minimum=1),
    _s("estate_school_min_classes_primary", 6, "int", "classes",
       "建标109-2008 §8: complete primary school 6-24 classes", "V",
       "Smallest primary school worth building (classes); a smaller gap is met by expanding a named "
       "school or jointly with neighbouring estates.",
       "小学最小办学规模（班）；缺口更小时，扩建就近学校或与相邻小区联合配建", minimum=1),
    _s("estate_school_min_classes_junior", 12, "int", "classes",
       "建标109-2008 §8: junior middle school 12-24 classes", "V",
       "Smallest junior middle school worth building (classes).", "初中最小办学规模（班）", minimum=1),
    _s("estate_fallback_radius_factor", 2.0, "float", "x service radius",
       "schoolplan assumption: seats a little beyond the radius are reported, not counted as compliant", "A",
       "When the schools within the radius lack seats, the nearest school up to this multiple of the "
       "radius is checked: seats there are reported as 'beyond the radius' (not compliant).",
       "半径内学位不足时，检查该倍数半径内的最近学校（其学位记为“超出服务半径”，不视为达标）", minimum=1),
    _s("estate_joint_distance_factor", 2.0, "float", "x service radius",
       "schoolplan assumption: estates whose centres are this close can share one school", "A",
       "Short estates whose starting points lie within this multiple of the radius of each other are "
       "named as partners to provide one school jointly.",
       "起点相距在该倍数半径内的缺学位小区，可联合配建一所学校"),
    _s("estate_profile_kindergarten", [1.2, 1.4, 1.4, 1.2, 1.1, 1.0], "list[float]",
       "x steady rate, by year since handover",
       "schoolplan assumption (no Shandong source found): young families move in first; set it from a "
       "comparable estate's registry", "A",
       "Kindergarten children of a delivered phase by year since handover (year 0 = delivery year), as a "
       "multiple of the rate per 1,000 residents; the last value holds.",
       "交付后各年幼儿数相对千人指标的倍数（第0年为交付当年，末值保持）"),
    _s("estate_profile_primary", [0.7, 0.9, 1.1, 1.3, 1.4, 1.4, 1.3, 1.2, 1.1, 1.0], "list[float]",
       "x steady rate, by year since handover",
       "schoolplan assumption (no Shandong source found): an estate's primary pupils peak 4-5 years after "
       "handover and settle at the rate per 1,000 residents", "A",
       "Primary pupils of a delivered phase by year since handover, as a multiple of the rate per 1,000 "
       "residents; the last value holds.", "交付后各年小学生数相对千人指标的倍数（末值保持）"),
    _s("estate_profile_junior", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.3, 1.4, 1.3, 1.2, 1.1, 1.0],
       "list[float]", "x steady rate, by year since handover",
       "schoolplan assumption (no Shandong source found): junior pupils peak when the first primary "
       "cohorts move up", "A",
       "Junior middle pupils of a delivered phase by year since handover, as a multiple of the rate per "
       "1,000 residents; the last value holds.", "交付后各年初中生数相对千人指标的倍数（末值保持）"),
    _s("estate_kindergarten_public_counties", "", "str", "comma-separated county names, or all",
       "Jining 2024: 新建居住区配套幼儿园…全部举办为公办园 (V); set the counties whose rule says so", "V",
       "Counties whose new estates' kindergartens must be public (公办): only public kindergartens' seats "
       "count, and the kindergarten to provide must be public. 'all' (or 全部) = every county.",
       "新建居住区配套幼儿园须为公办园的县（逗号分隔，all 或“全部”表示所有县）", minimum=None),
    # --- county checks (schoolplan.counties) ------------------------------------------------------
    _s("county_public_high_schools_min", 1, "int", "schools",
       "Shandong 2023; Liaocheng 2025: 支持每个县至少办好一所公办普通高中", "V",
       "Public general high schools every county runs at least.", "每县至少举办的公办普通高中数"),
    _s("county_senior_seat_supply_min", 1.0, "float", "entry seats per junior graduate",
       "Liaocheng 2025: 高中阶段学校学位供给率 ≥ 100 % by 2026", "V",
       "Senior-secondary entry seats (grade 10) per junior graduate (grade 9 pupils), at least.",
       "高中阶段学位供给率下限（高一学位/初三学生）"),
    _s("county_special_school_population", 200000.0, "float", "persons",
       "Jining 2024: 20万人口以上的县（市、区）办好一所特殊教育学校 by 2025", "V",
       "Counties above this population must have a special-education school.",
       "人口超过该值的县须设特殊教育学校"),
    _s("county_population", {}, "dict[str,float]", "persons by county name",
       "user input (统计年鉴)", "A",
       "Population of each county (for the special-education rule) when no population input is given.",
       "各县常住人口（用于特殊教育学校规则）"),
    _s("kindergarten_public_share_min", 0.6, "float", "share of kindergarten children",
       "Shandong 2023; Liaocheng 2025: 公办园在园幼儿占比 ≥ 60 % by 2027 (Jining 2024: 80 %)", "V",
       "Share of a county's kindergarten children in public kindergartens, at least.",
       "公办幼儿园在园幼儿占比下限"),
    # --- today's picture: demand calibrated to the ledger (calibration.py) ------------------
    _s("assignment_method", "calibrated", "str", "method", "DOMAIN.md 'today's picture': the ledger is the truth for today", "A",
       "How villages' children are assigned to schools: 'calibrated' (observed 生源 when given, else a doubly-constrained spatial-interaction model balanced to the ledger) or 'nearest' (uncalibrated nearest school by road).",
       "村庄学生分配方法：calibrated（按台账校准：有生源数据用生源，否则用双约束空间交互模型）或 nearest（未校准的就近分配）",
       minimum=None, choices=("calibrated", "nearest")),
    _s("calibration_decay_per_km", 3.0, "float", "1/km", "Wilson 1971 doubly-constrained model f(d)=exp(-beta*d); value a schoolplan assumption (no estimate for Chinese counties found): pupils attend the school near home (就近入学, 义务教育法 第十二条), so a school 1 km farther keeps 5 % of the pull; fitted from 生源 by the mean trip length when origins are given (Hyman 1969, the Poisson-GLM maximum-likelihood estimate)", "A",
       "Distance-decay parameter beta of the calibrated assignment: larger keeps children nearer home.",
       "校准分配的距离衰减参数β：越大，学生越集中于就近学校"),
    _s("calibration_band", 0.10, "float", "share of ledger enrolment", "schoolplan convention (issue 13: within +-10 % of the ledger)", "A",
       "A school whose modelled pupils differ from its ledger enrolment by more than this share gets a warning.",
       "模型学生数与台账在校生相差超过该比例时提示"),
    _s("calibration_max_iterations", 500, "int", "iterations", "schoolplan convention", "A",
       "Most balancing (iterative proportional fitting) iterations of the calibration.", "校准迭代比例拟合的最大迭代次数", minimum=1),
    _s("calibration_tolerance", 0.001, "float", "share", "schoolplan convention", "A",
       "The balancing stops when every school's modelled pupils are within this share of its target.", "校准收敛容差（学校目标的比例）"),
    _s("calibration_reassign", "model", "str", "method", "schoolplan assumption", "A",
       "Where a scenario sends the pupils of a closed school: 'model' (the calibrated model's other schools, by their fitted attractiveness) or 'nearest_with_seats' (the nearest open school with free seats).",
       "方案中被撤并学校学生的去向：model（按校准模型在其余学校间分配）或 nearest_with_seats（最近的有空余学位的学校）",
       minimum=None, choices=("model", "nearest_with_seats")),
    # --- reading bureau files (issue 16) ------------------------------------------------------
    _s("class_size_senior", 50, "float", "pupils per class", GB50099 + " (高中 50)", "P",
       "Class size used to compute seats of grades 10-12 from per-grade class counts.",
       "由分年级班数计算高中年级学位时的班额", minimum=1),
    _s("area_type_blank_jiedao", "urban", "str", "area type",
       "NBS 统计用城乡划分: 街道 lie in 主城区/城乡结合区 (codes 111/112) as a rule", "P",
       "Area type given to a school with a blank urban/rural cell whose town is a subdistrict (街道) "
       "('unknown' to leave it blank). Every such school is reported.",
       "城乡类别为空、所在乡镇为街道的学校推定的城乡类别（unknown 表示不推定）",
       minimum=None, choices=("urban", "town", "rural", "unknown")),
    _s("area_type_blank_zhen", "rural", "str", "area type",
       "schoolplan assumption: most schools of a 镇 lie outside its 镇中心区 (NBS 220 村庄); "
       "a 镇区 school (121/122) needs its code in the ledger", "M",
       "Area type given to a school with a blank urban/rural cell whose town is a town (镇).",
       "城乡类别为空、所在乡镇为镇的学校推定的城乡类别",
       minimum=None, choices=("urban", "town", "rural", "unknown")),
    _s("area_type_blank_xiang", "rural", "str", "area type",
       "NBS 统计用城乡划分: a 乡 has no 镇区 (codes 210/220 only)", "V",
       "Area type given to a school with a blank urban/rural cell whose town is a township (乡).",
       "城乡类别为空、所在乡镇为乡的学校推定的城乡类别",
       minimum=None, choices=("urban", "town", "rural", "unknown")),
    _s("enrollment_plausible_max", 8000, "int", "pupils",
       "schoolplan assumption: the largest county schools in Shandong have 5,000-7,000 pupils", "M",
       "A school with more pupils than this is reported as a likely typing error (a warning).",
       "在校生超过该值时提示可能录入错误", minimum=1),
    _s("town_seat_extent_factor", 1.0, "float", "x median seat spacing",
       "schoolplan convention: a town reaches about one seat spacing beyond its seat", "A",
       "With towns as seat points or a table, the extent check allows this many median "
       "nearest-seat spacings beyond the seats (on top of extent_tolerance_m), and only warns.",
       "乡镇为驻地点或表格时，范围检查在驻地外另加的驻地间距倍数（仅警告）"),
    _s("metric_crs_max_scale_error", 0.005, "float", "fraction",
       "schoolplan convention: 5 m per km; UTM and Gauss-Krüger zones stay below it even somewhat "
       "beyond their edges, Web Mercator exceeds it everywhere north of 5.7°N (+24 % at 36°N)", "A",
       "A projected input CRS is used for distances only where its scale error at the data is "
       "below this; otherwise (e.g. Web Mercator EPSG:3857) the data are reprojected to the local UTM zone.",
       "输入投影坐标系在数据处的尺度误差低于该值时才直接用于量算，否则（如 EPSG:3857）转换到当地 UTM 带"),
    _s("road_grade_separated_classes", "motorway,motorway_link,trunk,trunk_link,高速,快速路,高架,立交",
       "str", "comma-separated road classes or words in the class",
       "schoolplan rule: limited-access roads cross other roads on bridges (JTG D20 / CJJ 37)", "P",
       "Without from/to node or bridge/layer columns, lines of these classes (or whose class contains "
       "one of these words) meet other lines only at their ends, never where they cross.",
       "无起止节点或桥梁/层级字段时，这些等级的道路仅在端点与其他道路相接（立体交叉）", minimum=None),
    _s("walk_private_residential_roads", True, "bool", "yes/no",
       "schoolplan assumption: children live inside gated 小区 and walk out on its private roads", "A",
       "Keep access=private service/residential OSM ways in the walking network (home-to-school "
       "walks start inside gated estates); foot=no still excludes a way.",
       "步行路网保留 access=private 的小区内部道路（service/residential），foot=no 仍排除", minimum=None),
    # --- printed outputs: the one-page summary (issue 19) -------------------
    _s("summary_map_height_share", 0.36, "float", "share of the page height",
       "schoolplan layout convention: the map takes about a third of the A4 page, the tables the rest", "A",
       "Height of the static map on the one-page summary (方案摘要), as a share of the A4 page.",
       "方案摘要页中静态地图的高度（占A4页面高度的比例）", minimum=0.1),
    _s("summary_closed_names_max", 8, "int", "schools",
       "schoolplan layout convention: one line of names on the summary page", "A",
       "How many closed schools the summary page names (the rest are counted).",
       "方案摘要页列出撤并学校名称的最多个数（其余只计数）"),
    # --- performance (issue 15) -----------------------------------------------------------------
    _s("workers", 0, "int", "processes (0 = every core)",
       "RECIPES.md: scipy's Dijkstra holds the GIL; 2 processes measured 1.7-2.1x on a 2-core machine", "V",
       "Processes the shortest-path searches and the writing of the long output files (map, "
       "report, town book, summary page, GeoPackage) are split over (0 = one per CPU core; "
       "1 = this process only).",
       "最短路径计算和较大输出文件（地图、报告、一镇一策、摘要页、GeoPackage）写出所用的进程数"
       "（0 = 每个CPU核一个；1 = 仅本进程）"),
    _s("fork_diagnosis_min_rows", 20000, "int", "rows",
       "schoolplan measurement (issue 15): forking a prefecture run costs about 0.05 s, the "
       "capacitated assignment about 1.4 s per 100,000 cost rows (HiGHS, 2 cores)", "A",
       "With more than one worker, a diagnosis with at least this many village-school cost rows "
       "solves its capacitated assignment, draws its catchment areas and judges half of the "
       "consolidation candidates in forked processes while this one goes on.",
       "多进程时，村庄-学校成本行数不少于此值的诊断在子进程中求解容量约束分配、绘制服务范围并评估一半撤并候选学校，同时本进程继续计算",
       minimum=0),
    _s("travel_cache", True, "bool", "yes/no", "schoolplan convention: keyed by content, safe to delete", "A",
       "Keep travel costs in the cache folder, keyed by the road network, the points and the settings that affect them.",
       "在缓存目录中保存出行成本（按路网、点位与相关设置的内容建键，可随时删除）", minimum=None),
    _s("optimise_heuristic_max_passes", 10, "int", "passes",
       "Teitz & Bart (1968) vertex interchange; schoolplan convention (passes stop earlier when no swap helps)", "A",
       "Most interchange passes of the heuristic optimiser (each tries every open school against every closed one).",
       "启发式优化交换步骤的最多轮数（每轮对每所保留学校尝试与每所关闭学校互换）", minimum=1),
    # --- the steerable optimiser and the within-town assignment (issue 14, rest) ------------------
    _s("optimise_tradeoff_max_points", 25, "int", "rows",
       "schoolplan convention: one chart readable in a meeting; the end points are always solved exactly", "A",
       "Most rows of the optimiser's trade-off table (schools open against travel); the numbers of "
       "schools between the fewest and today's are spread evenly when there are more.",
       "布局优化权衡表的最多行数（开办学校数与出行时间）；介于最少与现状之间的学校数过多时均匀抽取", minimum=2),
    _s("optimise_close_only_under", 50, "float", "pupils",
       "Liaocheng city statistics' smallest tier (<50 pupils, see small_school_tiers); issue 14 preset", "P",
       "The close_only_under preset of the optimiser: only schools with fewer pupils than this may close.",
       "布局优化预设“只撤并小于该人数的学校”的在校生人数", minimum=1),
    _s("optimise_cluster_link_m", 2000.0, "float", "m",
       "schoolplan assumption: villages within about 2 km (a 25-30 minute walk) of each other form "
       "one cluster; set it for the county", "A",
       "The keep_one_per_cluster preset: villages of the same town within this straight-line distance "
       "of each other (chained) form a cluster that keeps at least one of its schools.",
       "布局优化预设“每个村庄片区保留一所学校”：同一乡镇内直线距离在该值以内（可串联）的村庄为一个片区",
       minimum=1),
    _s("capacitated_within_town", True, "bool", "yes/no",
       "聊城 2022/2025、山东 2023：在镇域内布局，学生就近在本乡镇入学（划片招生按乡镇）", "P",
       "The capacitated assignment keeps pupils in their own town's schools; a village's pupils go to "
       "another town only when its town lacks seats of that level (reported).",
       "按学位分配时学生只进入本乡镇学校；本乡镇该学段学位不足时才跨乡镇（并报告）", minimum=None),
    _s("optimise_heuristic_seat_rounds", 1, "int", "rounds",
       "Lagrangian relaxation of the seat constraints (seat prices from the transport's duals); "
       "schoolplan measurement (benchmarks/bench_optimize.py --prefecture, demo county with seats, p = 36-66): a "
       "second round brought p = 41 from 0.42 % to 0.00 % of the exact optimum but at p = 36 ended 133 pupils "
       "short of a seat where one round placed all, and was no better at p = 46-66; each round costs a search "
       "and a transport; rounds stop earlier when the layout no longer improves", "A",
       "Rounds of the heuristic optimiser that search again with seat prices when its layout's seats bind.",
       "启发式优化在学位约束起作用时，按学位影子价格重新搜索的最多轮数", minimum=0),
    # --- maps readable at a meeting (issue 19 item 4) and light at prefecture scale (issue 15 item 7) ---
    _s("map_catchment_fill", False, "bool", "yes/no",
       "schoolplan layout convention: outlines keep the town boundaries readable (issue 19)", "A",
       "Fill the catchment areas on map.html with a colour per school (default: outlines only).",
       "地图中学区（片区）按学校填色（默认仅画边界线）", minimum=None),
    _s("map_roads", True, "bool", "yes/no", "schoolplan convention: roads help orientation on a printed map", "A",
       "Draw the road network of the run as a light layer on map.html, with the points far from any road.",
       "在地图中以浅色图层绘制本次运行所用路网，并标出远离道路的点", minimum=None),
    _s("map_road_classes", "motorway,trunk,primary,secondary,tertiary", "str", "comma-separated OSM highway classes",
       "schoolplan convention: the main road classes keep a prefecture map light (issue 15)", "A",
       "Road classes drawn on map.html (the travel model uses every road; the map only these).",
       "地图中绘制的道路等级（逗号分隔；出行模型使用全部道路，地图只画这些）", minimum=None),
    _s("map_road_simplify_m", 15.0, "float", "m",
       "schoolplan convention: well under a line width at county zoom", "A",
       "Tolerance of the simplification of the roads drawn on map.html (Douglas-Peucker, metres).",
       "地图道路线简化容差（Douglas-Peucker算法，米）"),
    _s("map_area_simplify_m", 30.0, "float", "m",
       "schoolplan convention: under one screen pixel at county zoom (about 40 m per pixel at zoom 12)", "A",
       "Tolerance of the simplification of the town and catchment outlines drawn on map.html (metres).",
       "地图乡镇与学区边界线简化容差（米）"),
    _s("map_school_label_zoom", 12, "int", "Leaflet zoom level",
       "issue 19: school names from zoom 12 (about 40 m per pixel); towns are always named", "A",
       "Zoom level from which map.html names every school next to its marker.",
       "地图中从该缩放级别起在学校旁标注校名（乡镇名始终标注）", minimum=0),
    _s("map_coordinate_decimals", 5, "int", "decimal places of degrees",
       "geodesy: 1e-5 degree is about 1 m in latitude", "V",
       "Decimal places of the coordinates written into map.html (5: about 1 m).",
       "地图文件中坐标保留的小数位数（5位约1米）", minimum=4),
    _s("map_canvas_from_schools", 1000, "int", "schools",
       "schoolplan measurement (benchmarks/bench_map.py): at prefecture scale a canvas draws faster than "
       "thousands of SVG elements; SVG prints sharper", "A",
       "From this many schools map.html draws its markers and outlines on a canvas (faster; prints as an image) "
       "instead of as SVG (sharper on paper).",
       "学校数达到该值时，地图以画布（canvas）绘制点与边界（更快，打印为图像），否则用SVG（打印更清晰）"),
    # --- points against roads (issue 16, items 8 and 10) ----------------------------------------
    _s("road_fit_min_gain_m", 30.0, "float", "m",
       "schoolplan convention: GCJ-02 declared on WGS-84 roads raised the median snap distance by "
       "112 m on a real county (issue 16); a right reading is rarely beaten by tens of metres", "A",
       "How much nearer (median, metres) the roads must be under another coordinate reading of "
       "the schools or villages before the layers are reported as disagreeing.",
       "学校或村庄按另一坐标系解读时，到道路的中位距离至少缩短多少米才提示图层坐标系不一致"),
    _s("road_fit_max_ratio", 0.5, "float", "ratio",
       "schoolplan convention: the other reading must also halve the median snap distance", "A",
       "The other reading's median snap distance must be at most this share of the declared "
       "reading's for the warning.",
       "另一坐标系解读下的中位贴路距离不超过声明坐标系下的该比例时才提示", minimum=0),
    # --- writing the outputs of a prefecture (issue 15) ------------------------------------------
    _s("report_sheet_max_rows", 20000, "int", "rows",
       "schoolplan convention: a sheet a planner reads and filters in a meeting; writing a table "
       "cell by cell costs about 10 microseconds a cell (benchmarks/bench_pipeline.py), so a "
       "prefecture's 200,000 trips would take a minute; the CSV of the table always has every row", "A",
       "Longest table shown row by row in report.xlsx; a longer table's sheet says how many rows it "
       "has and names the CSV file (same folder) that holds all of them.",
       "report.xlsx 中逐行列出的最长表格行数；更长的表格只在工作表中注明行数和存放全部行的 CSV 文件（同一文件夹）",
       minimum=1),
    # --- the heuristic optimiser when seats bind (issue 15 item 6) ---------------------------------
    _s("optimise_heuristic_exact_swaps", 3, "int", "swaps",
       "schoolplan measurement (benchmarks/bench_optimize.py --prefecture): on the demo county at "
       "p = 36-56 every swap that lowered the objective was among the 3 best ranked, and 5 or 8 "
       "found no more; each evaluation is a warm transport (about 20 ms at county scale)", "A",
       "When seats bind: how many of the best swaps (ranked by the seat prices) the heuristic "
       "optimiser evaluates exactly, with its layout's assignment within every seat, before it "
       "stops (0: none).",
       "学位约束起作用时，启发式优化按学位影子价格排序后，对排在最前的多少个交换做精确评估"
       "（含学位约束的分配）；均不改进时停止（0为不评估）",
       minimum=0),
    _s("optimise_heuristic_short_swaps", 60, "int", "swaps",
       "schoolplan measurement (tests/test_optimize_transport.py, 20 random instances with seats for 1.05 x the "
       "pupils): each of the 4 layouts left short of seats where the exact optimum placed every pupil then placed "
       "every pupil, within 2-11 evaluations (29 at most where no layout could); each is a warm transport (about "
       "20 ms at county scale), spent only while pupils are without a seat", "A",
       "When the heuristic optimiser's layout still leaves pupils without a seat: at most this many more swaps "
       "(each open school with its 3 best partners by the seat prices) evaluated exactly (0: none).",
       "启发式优化的布局仍有学生无学位时：再精确评估的最多交换次数（每所保留学校按学位影子价格取3个最佳交换对象；0为不评估）",
       minimum=0),
]

SETTINGS: dict[str, Setting] = {s.name: s for s in _ALL}
SETTINGS.update({name: replace(SETTINGS[name], source_zh=zh) for name, zh in SOURCE_ZH.items() if name in SETTINGS})


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every setting's default value."""
    return {name: _copy(s.default) for name, s in SETTINGS.items()}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class Settings(Mapping[str, Any]):
    """The setting values in force, with where each came from.

    Parameters
    ----------
    overrides
        Values replacing the defaults, by setting name.
    origin
        Where the overrides came from (``"call"``, ``"scenario"``, ``"cli"``); kept for reports.
    """

    def __init__(self, overrides: Mapping[str, Any] | None = None, *, origin: str = "call"):
        self._values: dict[str, Any] = defaults()
        self._origins: dict[str, str] = {name: "default" for name in SETTINGS}
        self._apply(overrides or {}, origin)

    @classmethod
    def layered(cls, *layers: tuple[str, Mapping[str, Any] | None]) -> Settings:
        """Build settings from ``(origin, overrides)`` layers applied in order (later wins)."""
        out = cls()
        for origin, overrides in layers:
            out._apply(overrides or {}, origin)
        return out

    def replace(self, overrides: Mapping[str, Any] | None = None, *, origin: str = "call",
                **kwargs: Any) -> Settings:
        """Return a copy with further overrides applied."""
        out = Settings.__new__(Settings)
        out._values = {k: _copy(v) for k, v in self._values.items()}
        out._origins = dict(self._origins)
        out._apply({**(overrides or {}), **kwargs}, origin)
        return out

    def _apply(self, overrides: Mapping[str, Any], origin: str) -> None:
        unknown = [k for k in overrides if k not in SETTINGS]
        if unknown:
            import difflib

            hints = []
            for k in unknown:
                close = difflib.get_close_matches(str(k), SETTINGS, n=1)
                hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            raise SettingsError(
                f"unknown setting(s) from {origin}: {', '.join(hints)}. "
                "Run `schoolplan settings` to list every setting."
            )
        for key, value in overrides.items():
            self._values[key] = SETTINGS[key].coerce(value, origin=origin)
            self._origins[key] = origin
        ty, tr = self._values["seat_warning_yellow"], self._values["seat_warning_red"]
        if ty > tr:
            raise SettingsError(
                f"seat_warning_yellow ({ty}) must not be above seat_warning_red ({tr})"
            )

    def __getitem__(self, name: str) -> Any:
        if name not in SETTINGS:
            raise SettingsError(f"unknown setting '{name}'")
        return _copy(self._values[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def origin(self, name: str) -> str:
        """Where the value of ``name`` came from: ``default``, ``scenario``, ``cli``, ``call``."""
        return self._origins[name]

    def overridden(self) -> dict[str, Any]:
        """The settings whose value is not the default's origin."""
        return {k: self[k] for k, o in self._origins.items() if o != "default"}

    def to_records(self) -> list[dict[str, Any]]:
        """One record per setting: value, default, unit, source, confidence, origin."""
        return [
            {
                "name": name,
                "value": self[name],
                "default": s.default,
                "unit": s.unit,
                "origin": self._origins[name],
                "source": s.source,
                "source_zh": s.source_in("zh"),
                "confidence": s.confidence,
                "description_en": s.description_en,
                "description_zh": s.description_zh,
            }
            for name, s in SETTINGS.items()
        ]

    def __repr__(self) -> str:
        over = self.overridden()
        return f"Settings({over!r})" if over else "Settings(defaults)"


def describe(lang: str = "en", *, unit_words: Mapping[str, str] | None = None) -> str:
    """A plain-text table of every setting, its default, unit, source and confidence, in ``lang``
    (``zh``: the Chinese description and source; ``unit_words`` gives the units' words in that
    language, by unit, where the caller has them)."""
    lines = []
    words = unit_words or {}
    for s in SETTINGS.values():
        desc = s.description_zh if lang == "zh" else s.description_en
        unit = words.get(s.unit, s.unit)
        source = ("依据：" if lang == "zh" else "source: ") + s.source_in(lang)
        lines.append(f"{s.name} = {s.default!r} [{unit}]  ({s.confidence}) {desc}\n    {source}")
    return "\n".join(lines)

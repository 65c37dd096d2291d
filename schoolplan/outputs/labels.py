"""Private: the bilingual (Chinese / English) vocabulary of the Excel report: sheet titles,
column labels with units, and words for coded values."""

from __future__ import annotations

import re
from typing import Any

from schoolplan.balance import INDICATOR_NAMES
from schoolplan.schema import AREA_TYPE_LABELS, GRADE_COLUMNS, LEVEL_LABELS

#: Sheet key -> (Chinese name, English name). Excel allows 31 characters and no ``[]:*?/\``.
SHEET_TITLES: dict[str, tuple[str, str]] = {
    "about": ("说明", "About"),
    "schools": ("学校", "Schools"),
    "towns": ("乡镇", "Towns"),
    "seat_warnings": ("学位预警", "Seat warnings"),
    "violations": ("规则检查", "Violations"),
    "alerts": ("预警与提示", "Warnings and notices"),
    "assignments": ("分配", "Assignments"),
    "settings": ("设置", "Settings"),
    "input_checks": ("数据检查", "Input checks"),
    # sheets of later issues
    "candidates": ("撤并候选", "Consolidation candidates"),
    "layouts": ("行星卫星", "Planet-satellite layouts"),
    "balance": ("均衡指标", "Balance indicators"),
    "comparison": ("方案对比", "Scenario comparison"),
    "counties": ("县级规则", "County rules"),
}

_GRADE_ZH = "一二三四五六七八九"

#: Column -> (Chinese header, English header), units included. The one place headers live.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    # schools
    "school_id": ("学校代码", "school id"),
    "name": ("名称", "name"),
    "level": ("学段", "level"),
    "town_code": ("乡镇代码", "town code"),
    "town": ("乡镇", "town"),
    "county": ("县（区）", "county"),
    "rule": ("规则", "rule"), "verdict_text": ("结论", "verdict"),
    "enrollment": ("在校生（人）", "pupils"),
    **{g: (f"{_GRADE_ZH[i]}年级（人）", f"grade {i + 1} (pupils)")
       for i, g in enumerate(GRADE_COLUMNS)},
    "classes": ("班级数", "classes"),
    "teachers": ("教师数", "teachers"),
    "seats": ("学位数", "seats"),
    "seats_source": ("学位数来源", "seats from"),
    "area_type": ("城乡类别", "area type"),
    "lon": ("经度（WGS-84）", "longitude (WGS-84)"),
    "lat": ("纬度（WGS-84）", "latitude (WGS-84)"),
    "small_tier": ("小规模学校分档", "small-school tier"),
    "size_cap": ("规模上限（人）", "size cap (pupils)"),
    "over_size_cap": ("超规模", "above size cap"),
    "avg_class_size": ("平均班额（人/班）", "average class size (pupils/class)"),
    "class_size_limit": ("标准班额（人/班）", "standard class size (pupils/class)"),
    "over_class_size": ("超标准班额", "above standard class size"),
    "assigned_primary": ("片区需求：小学（人）", "children assigned: primary"),
    "assigned_junior": ("片区需求：初中（人）", "children assigned: junior"),
    "assigned_pupils": ("片区需求（人）", "children assigned to it"),
    "utilisation": ("需求/学位", "demand / seats"),
    "modelled_pupils": ("模型学生数（人）", "modelled pupils"),
    "ledger_enrollment": ("台账在校生（人）", "ledger enrolment"),
    "model_ratio": ("模型/台账", "model / ledger"),
    "model_within_band": ("与台账吻合", "matches the ledger"),
    "seat_warning": ("学位预警", "seat warning"),
    "mean_distance_m": ("平均距离（米）", "mean distance (m)"),
    "mean_time_min": ("平均时间（分钟）", "mean time (min)"),
    "max_time_min": ("最长时间（分钟）", "longest time (min)"),
    "town_match": ("乡镇匹配方式", "town matched by"),
    # towns
    "town_type": ("乡镇类型", "town type"),
    "schools": ("学校数", "schools"),
    "small_schools": ("小规模学校数", "small schools"),
    "junior_middle_schools": ("开设7-9年级学校数", "schools teaching grades 7-9"),
    "junior_middle_rule_ok": ("符合每乡镇一所初中", "one junior middle school per town met"),
    "pupils_primary": ("小学适龄人口（人）", "primary-age children"),
    "pupils_junior": ("初中适龄人口（人）", "junior-age children"),
    # violations
    "rule_id": ("规则", "rule"),
    "object_type": ("对象类型", "object type"),
    "object_id": ("对象代码", "object id"),
    "value": ("数值", "value"),
    "limit": ("限值", "limit"),
    "message": ("说明", "message"),
    "source": ("依据", "source"),
    # assignments
    "demand_id": ("需求点代码", "demand point id"),
    "demand_name": ("需求点", "demand point"),
    "school_name": ("学校", "school"),
    "group": ("年级组", "grade group"),
    "pupils": ("学生数（人）", "pupils"),
    "distance_m": ("距离（米）", "distance (m)"),
    "time_min": ("时间（分钟）", "time (min)"),
    "mode": ("出行方式", "travel mode"),
    "method": ("分配方法", "method"),
    "estimate": ("直线估算", "straight-line estimate"),
    "status": ("状态", "status"),
    # settings
    "setting": ("设置项", "setting"),
    "default": ("默认值", "default"),
    "unit": ("单位", "unit"),
    "origin": ("取值来自", "set by"),
    "confidence": ("可信度", "confidence"),
    "description": ("含义", "description"),
    # input checks
    "severity": ("级别", "severity"),
    "code": ("问题类型", "problem"),
    "file": ("文件", "file"),
    "row": ("行号", "row"),
    "column": ("列", "column"),
    "fix": ("修改建议", "fix"),
    "ids": ("相关代码", "ids"),
}

_MODE = {
    "walk_g1_3": ("步行（1-3年级速度）", "walk (grades 1-3 speed)"),
    "walk_g4_9": ("步行（4-9年级速度）", "walk (grades 4-9 speed)"),
    "bicycle": ("骑行", "bicycle"),
    "bus": ("校车/公交", "bus"),
}

#: Column -> value -> (zh, en): words for the codes in the tables.
VALUE_LABELS: dict[str, dict[Any, tuple[str, str]]] = {
    "level": {k: (v["zh"], v["en"]) for k, v in LEVEL_LABELS.items()},
    "area_type": {k: (v["zh"], v["en"]) for k, v in AREA_TYPE_LABELS.items()},
    "seat_warning": {"red": ("红色预警", "red"), "yellow": ("黄色预警", "yellow"),
                     "ok": ("正常", "ok"), "unknown": ("无学位数", "unknown (no seats)")},
    "seats_source": {"ledger": ("台账", "ledger"),
                     "classes x class size": ("班级数×标准班额", "classes x class size")},
    "town_match": {"code": ("代码", "code"), "name": ("名称", "name"),
                   "location": ("位置", "location"), "none": ("未匹配", "none")},
    "method": {"nearest": ("就近（未校准）", "nearest (uncalibrated)"), "capacitated": ("按学位容量", "within seats"),
               "calibrated": ("按台账校准", "calibrated to the ledger")},
    "status": {"ok": ("正常", "ok"), "no_seat": ("无剩余学位", "no seat left"),
               "no_school_within_cutoff": ("范围内无学校", "no school within cut-off")},
    "group": {"g1_3": ("1-3年级", "grades 1-3"), "g4_6": ("4-6年级", "grades 4-6"),
              "g7_9": ("7-9年级", "grades 7-9")},
    "mode": _MODE,
    "rule_id": {  # rules made outside schoolplan.rules.RULES; the rest are looked up there
        "balance_cv": ("校际差异系数超限", "coefficient of variation above the limit"),
        "balance_school": ("学校资源配置指标未达标", "school below the resource standards"),
    },
    "object_type": {"school": ("学校", "school"), "town": ("乡镇", "town"),
                    "county": ("县（区）", "county"),
                    "village": ("村庄/小区", "village / estate")},
    "severity": {"error": ("错误", "error"), "warning": ("警告", "warning")},
    "origin": {"default": ("默认值", "default"), "scenario": ("方案文件", "scenario file"),
               "cli": ("命令行", "command line"), "call": ("程序调用", "program call")},
    "confidence": {"V": ("V 已核实来源", "V verified"), "P": ("P 部分核实", "P partly verified"),
                   "M": ("M 推算，待确认", "M derived, to confirm"),
                   "A": ("A 假设，宜按本地设定", "A assumption, set locally")},
    "unit": {"pupils": ("人", "pupils"), "m": ("米", "m"), "km": ("公里", "km"),
             "s": ("秒", "s"), "minutes": ("分钟", "minutes"), "m/s": ("米/秒", "m/s"),
             "km/h": ("公里/小时", "km/h"), "pupils per class": ("人/班", "pupils per class"),
             "schools": ("所", "schools"), "share": ("比例", "share"),
             "yes/no": ("是/否", "yes/no"),
             "demand / seats": ("需求/学位", "demand / seats"),
             "mode name": ("出行方式名", "mode name"),
             "pupils per 1,000 residents": ("人/千人", "pupils per 1,000 residents"),
             "coefficient of variation": ("差异系数", "coefficient of variation"),
             "ratio road/straight-line": ("路网/直线距离比", "ratio road/straight-line")},
}

_TIER_RE = re.compile(r"^lt(\d+)$")
_BOOL = {True: ("是", "yes"), False: ("否", "no")}

COLUMN_LABELS.update({
    "rank": ("排序", "rank"), "catchment_pupils": ("就近入学学生（模型）", "children nearest (model)"),
    "recommendation": ("建议", "recommendation"), "reasons_text": ("理由及依据", "reasons and evidence"),
    "receiving_school": ("接收学校", "receiving school"), "receiving_split": ("学生去向", "where pupils go"),
    "seats_left_at_receiver": ("接收校剩余学位", "seats left at receiver"),
    "receiving_split_with_seats": ("按学位分流（人）", "where pupils go within seats (pupils)"),
    "pupils_without_seat_after": ("撤并后无学位人数", "pupils without a seat after"),
    "added_distance_mean_m": ("平均增加距离（米）", "mean added distance (m)"),
    "added_distance_max_m": ("最大增加距离（米）", "worst added distance (m)"),
    "added_time_mean_min": ("平均增加时间（分钟）", "mean added time (min)"),
    "added_time_max_min": ("最大增加时间（分钟）", "worst added time (min)"),
    "g1_3_over_limit_before": ("撤并前1-3年级超时人数", "grade 1-3 over limit before"),
    "g1_3_over_limit_after": ("撤并后1-3年级超时人数", "grade 1-3 over limit after"),
    "pupils_needing_bus_after": ("撤并后需校车人数", "needing a bus after"),
    "pupils_needing_boarding_after": ("撤并后需寄宿人数", "needing boarding after"),
    "pupils_without_school_after": ("撤并后无校可上人数", "without a school after"),
    "score": ("得分", "score"), "score_explained": ("得分构成", "how the score is made"),
    "planet": ("中心校（行星）", "planet (central school)"),
    "satellites": ("卫星校（保留1-3年级）", "satellites (grades 1-3)"),
    "closed": ("撤并学校", "closed"), "kept": ("保持不变", "kept as they are"),
    "g4_6_pupils_at_planet": ("中心校4-6年级学生", "grade 4-6 pupils at the planet"),
    "primary_pupils_at_planet": ("中心校小学生", "primary pupils at the planet"),
    "planet_seats_primary": ("中心校小学学位", "planet primary seats"),
    "classes_needed_at_planet": ("中心校所需班数（45人/班）", "classes needed at the planet (45 each)"),
    "seats_left_at_planet": ("中心校剩余学位", "seats left at the planet"),
    "g1_3_over_limit": ("1-3年级超时人数", "grade 1-3 over the walk limit"),
    "g4_6_mean_distance_m": ("4-6年级平均距离（米）", "grade 4-6 mean distance (m)"),
    "g4_6_max_distance_m": ("4-6年级最远距离（米）", "grade 4-6 longest distance (m)"),
    "g4_6_pupils_needing_bus": ("4-6年级需校车人数", "grade 4-6 needing a bus"),
    "g4_6_pupils_needing_boarding": ("4-6年级需寄宿人数", "grade 4-6 needing boarding"),
    "school_level": ("学校学段", "school level"), "pupils": ("学生数", "pupils"),
    "teachers_qualified_per100": ("每百名学生高于规定学历教师数", "qualified teachers per 100 pupils"),
    "key_teachers_per100": ("每百名学生县级以上骨干教师数", "key teachers per 100 pupils"),
    "pe_arts_teachers_per100": ("每百名学生体艺专任教师数", "PE and arts teachers per 100 pupils"),
    "teaching_area_m2_per_pupil": ("生均教学及辅助用房面积（平方米）", "teaching floor area per pupil (m²)"),
    "sports_area_m2_per_pupil": ("生均体育运动场馆面积（平方米）", "sports ground per pupil (m²)"),
    "equipment_yuan_per_pupil": ("生均教学仪器设备值（元）", "equipment value per pupil (yuan)"),
    "multimedia_classrooms_per100": ("每百名学生网络多媒体教室数", "multimedia classrooms per 100 pupils"),
    "indicators_met": ("达标项数（共7项）", "standards met (of 7)"),
    "meets_standard": ("达标（≥6项）", "meets the standard (6 of 7)"),
})
VALUE_LABELS.setdefault("recommendation", {}).update({
    "close": ("撤并", "close"), "to_satellite": ("改为教学点（卫星校）", "to satellite (grades 1-3)"),
    "keep: remote": ("保留（偏远）", "keep: remote"), "keep: rule": ("保留（唯一初中）", "keep: rule"),
    "keep": ("保留", "keep"),
})


# --- consolidation and planet-satellite (issue 14) ----------------------------------------------
COLUMN_LABELS.update({
    "receiver_in_town": ("接收校在本乡镇", "receiver in its town"),
    "receiver_note": ("接收说明", "receiver note"),
    "classes_to_add_at_receiver": ("接收校需增加班数", "classes to add at the receiver"),
    "boarding_needed_at_receiver": ("接收校所需寄宿床位", "boarding places needed at the receiver"),
    "boarding_beds_at_receiver": ("接收校寄宿床位（台账）", "boarding beds at the receiver (ledger)"),
    "canteen_needed_at_receiver": ("接收校所需食堂座位", "canteen seats needed at the receiver"),
    "canteen_seats_at_receiver": ("接收校食堂座位（台账）", "canteen seats at the receiver (ledger)"),
    "bus_riders_by_receiver": ("需校车人数（按接收校）", "school-bus riders by receiving school"),
    "planet_rule_used": ("中心校确定方式", "how the planet was chosen"),
    "planet_seat_gap": ("中心校学位缺口（人）", "planet seat gap (pupils)"),
    "boarding_needed_at_planet": ("中心校所需寄宿床位", "boarding places needed at the planet"),
    "boarding_beds_at_planet": ("中心校寄宿床位（台账）", "boarding beds at the planet (ledger)"),
    "canteen_needed_at_planet": ("中心校所需食堂座位", "canteen seats needed at the planet"),
    "canteen_seats_at_planet": ("中心校食堂座位（台账）", "canteen seats at the planet (ledger)"),
    "boarding_beds": ("寄宿床位", "boarding beds"), "canteen_seats": ("食堂座位", "canteen seats"),
    "is_central": ("中心校", "central school"),
})
VALUE_LABELS["recommendation"].update({
    "to_satellite": ("改为卫星校（保留1-3年级的附设校）", "to satellite (village school kept for grades 1-3)"),
    "keep: seats": ("暂缓（接收校学位不足）", "not yet: receivers lack seats"),
    "keep: receiver": ("保留（接收校）", "keep: receives another school's pupils"),
})
VALUE_LABELS["planet_rule_used"] = {
    "central": ("中心校（台账或校名）", "central school (ledger or name)"),
    "largest (no 中心校)": ("规模最大（本乡镇无中心校）", "largest (the town has no central school)"),
    "largest": ("规模最大", "largest"), "nearest_seat": ("距乡镇驻地最近", "nearest the town seat"),
    "user": ("用户指定", "chosen by the user"),
}

#: Words of the planet-satellite map layers: key -> (Chinese, English).
MAP_TEXT: dict[str, tuple[str, str]] = {
    "planet_layer": ("行星（中心校）", "Planets (central schools)"),
    "planet_label": ("行星（中心校）", "planet (central school)"),
    "satellite_layer": ("卫星校（保留1-3年级的附设校）", "Satellites (village schools kept for grades 1-3)"),
    "satellite_label": ("卫星校（保留1-3年级的附设校）", "satellite (village school kept for grades 1-3)"),
    "layout_closed_layer": ("布局撤并校（虚线）", "Closed by the layout (dashed)"),
    "closed_label": ("撤并", "closed"),
    "planet_catchment_layer": ("4-6年级到中心校的片区", "Grade 4-6 catchments of the planets"),
    "villages": ("村庄数", "villages"),
}


def text(key: str, lang: str) -> str:
    """A map word in ``lang`` (``zh`` or ``en``)."""
    zh, en = MAP_TEXT[key]
    return zh if lang == "zh" else en
# --- issue 19: the one-page summary (方案摘要), per-town pages and print layouts ----------------

#: Key -> (zh, en): the text of the one-page summary and the town pages.
SUMMARY_TEXT: dict[str, tuple[str, str]] = {
    "title_run": ("方案摘要", "Scenario summary"),
    "title_cmp": ("方案对比摘要", "Scenario comparison summary"),
    "synthetic": ("合成示范数据", "合成示范数据 synthetic demo data"),
    "footer": ("县域中小学布局规划工具生成，供研究讨论", "made with schoolplan, for discussion"),
    "page_of": ("第 1 页 共 1 页", "page 1 of 1"),
    "colon": ("：", ": "),
    "actions": ("方案内容：", "What the scenario does: "),
    "no_actions": ("现状诊断（不调整学校）", "diagnosis of today's schools (no changes)"),
    "closures": ("撤并学校 {n} 所，卫星校（保留1-3年级）{s} 所，新建学校 {new} 所",
                 "{n} schools closed, {s} satellites (grades 1-3 kept), {new} new schools"),
    "and_more": ("等（另 {n} 所）", " and {n} more"),
    "sec_schools": ("学校数（按学段）", "Schools by level"),
    "level": ("学段", "level"), "before": ("调整前", "before"), "after": ("调整后", "after"),
    "change": ("变化", "change"), "total": ("合计", "total"),
    "sec_travel": ("上学出行（按年级组）", "Travel to school by grade group"),
    "group": ("年级组", "grade group"), "pupils": ("学生（人）", "pupils"),
    "mean_min": ("平均（分钟）", "mean (min)"), "p95_min": ("95%分位（分钟）", "95th pct (min)"),
    "over_min": ("超过{limit}分钟（人）", "over {limit} min (pupils)"),
    "bus": ("需校车（人）", "bus riders"), "boarding": ("需寄宿（人）", "boarding places"),
    "group:g1_3": ("1-3年级", "grades 1-3"), "group:g4_6": ("4-6年级", "grades 4-6"),
    "group:g7_9": ("7-9年级", "grades 7-9"),
    "sec_seats": ("学位", "Seats"), "item": ("项目", "item"), "count": ("数量", "count"),
    "seat_red": ("红色预警学校（所）", "schools with a red seat warning"),
    "seat_yellow": ("黄色预警学校（所）", "schools with a yellow seat warning"),
    "shortage:primary": ("小学学位缺口（人）", "primary pupils without a seat"),
    "shortage:junior": ("初中学位缺口（人）", "junior pupils without a seat"),
    "planet_gap": ("中心校学位不足的乡镇（个）", "towns whose planet lacks seats"),
    "sec_rules": ("规则检查", "Rule checks"), "rule": ("规则", "rule"),
    "sec_alerts": ("预警与提示", "Warnings and notices"),
    "no_violations": ("全部符合", "all met"),
    "rule:balance_cv": ("校际差异系数超限", "coefficient of variation above the limit"),
    "rule:balance_school": ("学校资源配置指标未达标", "school below the resource standards"),
    "sec_sources": ("数据来源", "Data sources"),
    "distance_method": ("距离计算：", "Distances: "),
    "by_road": ("路网最短路径", "shortest paths on the road network"),
    "by_line": ("直线距离×绕行系数（估算）", "straight line x circuity (estimate)"),
    "not_computed": ("未计算（无需求点输入）", "not computed (no demand input)"),
    "settings_changed": ("与默认值不同的设置：", "Settings changed from the defaults: "),
    "settings_default": ("全部设置为默认值", "all settings at their defaults"),
    "closed": ("撤并", "closed"),
    "indicator": ("指标", "indicator"),
    "grp_schools": ("学校", "Schools"), "grp_travel": ("出行", "Travel"),
    "grp_seats": ("学位", "Seats"), "grp_rules": ("规则", "Rules"),
    "cmp_column": ("方案{i}", "Scenario {i}"),
    "cmp_is_base": ("（基准）", " (base)"),
    "cmp_subtitle": ("{n} 个方案的主要指标及与基准方案的变化",
                     "Key indicators of {n} scenarios and their change from the base"),
    "cmp_legend": ("变化为与基准方案之差；绿色表示改善，红色表示变差，无色表示无优劣之分。",
                   "Changes are against the base; green is better, red is worse, no colour is neither."),
    "violations_of": ("不符合：{rule}", "not met: {rule}"),
    "more_rows": ("…另 {n} 项见 report.xlsx", "… {n} more in report.xlsx"),
}

_ACTION_TEXT: dict[str, tuple[str, str]] = {
    "close": ("撤并 {n} 所学校", "close {n} school(s)"),
    "merge": ("并入另一所学校 {n} 所", "merge {n} school(s) into another"),
    "to_satellite": ("{n} 所学校改为卫星校（保留1-3年级）", "{n} school(s) to satellites (grades 1-3)"),
    "new_school": ("新建学校 {n} 所", "{n} new school(s)"),
    "planet_satellite": ("按行星-卫星布局调整{towns}", "planet-satellite layout in {towns}"),
    "optimise": ("优化布局（{objective}）", "optimised layout ({objective})"),
}
_OBJECTIVES = {"min_schools": ("学校数最少", "fewest schools"),
               "p_median": ("给定校数下出行最短", "least travel for a given number of schools")}


def summary_action_text(action: Any, lang: str) -> str:
    """One scenario action (``{"close": [...]}``) in words."""
    i = 0 if lang == "zh" else 1
    if not isinstance(action, dict) or len(action) != 1:
        return str(action)
    kind, arg = next(iter(action.items()))
    if kind not in _ACTION_TEXT:
        return str(kind)
    text = _ACTION_TEXT[kind][i]
    n = len(arg) if isinstance(arg, (list, tuple)) else 1  # close / to_satellite take a list
    if kind == "planet_satellite":
        towns = arg.get("towns", "all") if isinstance(arg, dict) else "all"
        where = (("全部乡镇", "every town") if towns == "all" else
                 (f"{len(towns) if isinstance(towns, list) else 1} 个乡镇",
                  f"{len(towns) if isinstance(towns, list) else 1} town(s)"))[i]
        return text.format(towns=where)
    if kind == "optimise":
        obj = arg.get("objective", "") if isinstance(arg, dict) else ""
        return text.format(objective=_OBJECTIVES.get(obj, (obj, obj))[i])
    return text.format(n=n)

#: Keys of a run's ``counts`` and ``indicators`` (the 说明 sheet) that had no words yet.
SUMMARY_KEY_LABELS: dict[str, tuple[str, str]] = {
    "schools_closed": ("撤并学校数", "schools closed"),
    "schools_by_status": ("按状态学校数", "schools by status"),
    "open": ("开办", "open"), "closed": ("撤并", "closed"),
    "satellite": ("卫星校（保留1-3年级）", "satellite (grades 1-3)"), "new": ("新建", "new"),
    "travel": ("上学出行", "travel to school"),
    "g1_3": ("1-3年级", "grades 1-3"), "g4_6": ("4-6年级", "grades 4-6"), "g7_9": ("7-9年级", "grades 7-9"),
    **{f"{stat}_distance_m": (f"{zh}距离（米）", f"{en} distance (m)")
       for stat, zh, en in (("mean", "平均", "mean"), ("median", "中位", "median"),
                            ("p95", "95%分位", "95th percentile"), ("max", "最大", "longest"))},
    **{f"{stat}_time_min": (f"{zh}时间（分钟）", f"{en} time (min)")
       for stat, zh, en in (("mean", "平均", "mean"), ("median", "中位", "median"),
                            ("p95", "95%分位", "95th percentile"), ("max", "最大", "longest"))},
    "pupils_needing_bus": ("需校车（人）", "pupils needing a bus"),
    "pupils_needing_boarding": ("需寄宿（人）", "pupils needing boarding"),
    "primary": ("小学", "primary"), "junior": ("初中", "junior middle"),
    "walk_time_g1_3": ("1-3年级步行时间", "grades 1-3 walking time"),
    # the calibration of the base year (issue 13) and the planets' seat gaps (issue 14)
    "calibration": ("现状校准", "calibration of today"),
    "decay_per_km": ("距离衰减系数（每公里）", "distance decay per km"),
    "decay_source": ("衰减系数来源", "source of the decay"),
    "median_abs_error": ("中位绝对误差", "median absolute error"),
    "schools_within_band": ("在容许范围内的学校数", "schools within the band"),
    "share_within_band": ("在容许范围内的学校比例", "share of schools within the band"),
    "scale": ("总量调整", "scaling of the totals"),
    "ledger_pupils": ("台账在校生", "ledger pupils"),
    "village_children": ("村庄适龄儿童", "village children"),
    "factor": ("调整系数", "factor"),
    "reason": ("原因", "reason"),
    "primary_planet_gaps": ("其中中心校（小学）缺口", "of which the planets' primary gaps"),
}

VALUE_LABELS["unit"].update({
    "comma-separated area types": ("城乡类别（逗号分隔）", "comma-separated area types"),
    "comma-separated rule ids": ("规则代码（逗号分隔）", "comma-separated rule ids"),
    "mean or trend": ("mean（均值）或 trend（趋势）", "mean or trend"),
    "classes / pupils": ("班 / 人", "classes / pupils"),
    "indicators of 7": ("项（共7项）", "indicators of 7"),
    "modified z-score": ("稳健z分数", "modified z-score"),
    "per 100 pupils / per pupil": ("每百名学生 / 生均", "per 100 pupils / per pupil"),
    "probability": ("概率", "probability"),
    "pupils (pseudo-count)": ("人（等效学生数）", "pupils (pseudo-count)"),
    "years": ("年", "years"), "years of age": ("周岁", "years of age"),
    "share of the page height": ("占页面高度的比例", "share of the page height"),
    "children per class": ("人/班", "children per class"),
    "comma-separated town types": ("乡镇类型（逗号分隔）", "comma-separated town types"),
    "comma-separated county names, or all": ("县（区）名（逗号分隔），或 all 表示全部",
                                             "comma-separated county names, or all"),
    "comma-separated road classes or words in the class": ("道路等级或其中的词（逗号分隔）",
                                                           "comma-separated road classes or words in the class"),
    "entry seats per junior graduate": ("每名初中毕业生对应的高一学位", "entry seats per junior graduate"),
    "x median seat spacing": ("× 乡镇驻地间距中位数", "x median seat spacing"),
    "persons by county name": ("人（按县区名）", "persons by county name"),
    "share of kindergarten children": ("在园幼儿比例", "share of kindergarten children"),
    "share of ledger enrolment": ("占台账在校生的比例", "share of ledger enrolment"),
    "share of pupils": ("占学生的比例", "share of pupils"),
    "share of the first year's enrolment": ("占首年在校生的比例", "share of the first year's enrolment"),
    "x steady rate, by year since handover": ("× 稳定期比率（按交付后年数）", "x steady rate, by year since handover"),
})

VALUE_LABELS["school_level"] = VALUE_LABELS["level"]  # the balance sheet's whole-school level
VALUE_LABELS["town_type"] = {"镇": ("镇", "town"), "乡": ("乡", "township"), "街道": ("街道", "subdistrict")}

#: Key -> (zh, en): the text of the town pages (towns.xlsx).
TOWN_BOOK_TEXT: dict[str, tuple[str, str]] = {
    "contents": ("目录", "Contents"), "town": ("乡镇", "town"), "code": ("乡镇代码", "town code"),
    "sheet": ("工作表", "sheet"),
    "title": ("{town}　一镇一策", "{town}: the town's schools"),
    "facts": ("开办学校 {n} 所，在校生 {pupils} 人，其中小规模学校 {small} 所；本方案撤并 {closed} 所",
              "{n} schools open, {pupils} pupils, {small} of them small schools; {closed} closed in this scenario"),
    "synthetic": ("合成示范数据", "合成示范数据 synthetic demo data"),
    "schools": ("学校", "Schools"), "status": ("方案中状态", "status in the scenario"),
    "layout": ("行星-卫星布局", "Planet and satellites"),
    "candidates": ("撤并候选", "Consolidation candidates"),
    "checks": ("规则检查与预警", "Rule checks and warnings"),
    "none": ("无", "none"),
}

#: Key -> (zh, en): the layer descriptions and legend words of run.gpkg's QGIS styles.
GPKG_TEXT: dict[str, tuple[str, str]] = {
    "closed": ("撤并", "closed"),
    "rule_ok": ("有开设7-9年级的学校", "has a school teaching grades 7-9"),
    "rule_broken": ("没有初中（不符合每乡镇一所初中）", "no junior middle school (rule not met)"),
    "layer:schools": ("学校及其结果（按学段着色，撤并为叉）",
                      "schools and their results (by level, closed as crosses)"),
    "layer:towns": ("乡镇及规则检查", "towns and their rule checks"),
    "layer:catchments": ("学区（片区）", "catchments"),
    "layer:assignments": ("村庄到学校的分配连线", "lines from each village to its school"),
    "layer:layouts": ("卫星校及撤并校到中心校的连线", "lines from satellites and closed schools to the planet"),
}

#: Key -> (zh, en): the text of comparison.html and comparison.xlsx (issue 19).
COMPARISON_TEXT: dict[str, tuple[str, str]] = {
    "title": ("方案对比", "Scenario comparison"),
    "sheet": ("方案对比", "Comparison"),
    "indicator": ("指标", "indicator"),
    "column": ("方案{i}", "Scenario {i}"),
    "base": ("（基准）", " (base)"),
    "change": ("变化", "change"),
    "colon": ("：", ": "),
    "headline": ("主要变化", "What changes most"),
    "all": ("全部指标", "All indicators"),
    "legend": ("“变化”为与基准方案（方案1）之差；绿色表示改善，红色表示变差，无底色表示无优劣之分"
               "（如学校数）或没有变化。",
               "A change is the difference from the base (scenario 1); green is better, red is worse, "
               "no colour is neither (such as school counts) or no change."),
    "note": ("学生数取整显示；各方案均为0的指标未列出；完整数值见 comparison.csv。",
             "Pupils are shown as whole numbers; indicators that are 0 in every scenario are left out; "
             "the exact figures are in comparison.csv."),
    "synthetic": ("合成示范数据", "合成示范数据 synthetic demo data"),
}

VALUE_LABELS["unit"].update({  # units of later settings that had no words yet
    "1/km": ("每公里", "1/km"), "area type": ("城乡类别", "area type"),
    "children per 1,000 residents": ("人/千人", "children per 1,000 residents"),
    "fraction": ("比例", "fraction"), "iterations": ("次", "iterations"), "method": ("方法", "method"),
    "passes": ("轮", "passes"), "persons": ("人", "persons"),
    "processes (0 = every core)": ("个进程（0 = 每个CPU核一个）", "processes (0 = every core)"),
    "regular expression": ("正则表达式", "regular expression"),
    "x service radius": ("× 服务半径", "x service radius"),
})


def unit_words(lang: str) -> dict[str, str]:
    """Unit (as written in :mod:`schoolplan.settings`) -> its words in ``lang``."""
    return {unit: pair[0 if lang == "zh" else 1] for unit, pair in VALUE_LABELS["unit"].items()}

# --- words the language scan of issue 19 found still in code form ---------------------------------
VALUE_LABELS["seat_warning"].setdefault("closed", ("已撤并", "closed"))
VALUE_LABELS["status"].setdefault("merged", ("随撤并转入接收校", "moved to the receiving school"))
VALUE_LABELS["coordinate_system"] = {
    "wgs84": ("WGS-84", "WGS-84"), "cgcs2000": ("CGCS2000", "CGCS2000"), "gcj02": ("GCJ-02", "GCJ-02"),
    "bd09": ("BD-09", "BD-09"),
    "file's own / wgs84": ("按文件自带坐标系（无则为 WGS-84）", "the file's own (WGS-84 when it has none)"),
}
VALUE_LABELS["distance_from"] = {"centroid": ("小区中心点", "centroid"), "entrances": ("小区出入口", "entrances")}
SUMMARY_KEY_LABELS.update({
    "method": ("方法", "method"), "iterations": ("迭代次数", "iterations"),
    "converged": ("已收敛", "converged"), "band": ("容许偏差", "band"),
})
#: Key of a run's ``counts``/``indicators`` -> value -> (zh, en): coded text values in the 说明 sheet.
SUMMARY_VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "method": {"model": ("空间交互模型（按台账校准）", "spatial-interaction model (calibrated to the ledger)"),
               "observed": ("实际生源", "observed origins")},
    "decay_source": {"setting calibration_decay_per_km": ("设置项 calibration_decay_per_km",
                                                          "setting calibration_decay_per_km"),
                     "fitted to 生源 by the mean trip length (Hyman 1969)": (
                         "按生源数据的平均出行距离拟合（Hyman，1969）",
                         "fitted to 生源 by the mean trip length (Hyman 1969)")},
}


def summary_value(key: str, value: Any, lang: str) -> Any:
    """A value of a run's ``counts``/``indicators`` in words where it is a code: the words of
    :data:`SUMMARY_VALUE_LABELS`, and the ``level/indicator`` list of ``cv_over_limit`` as the
    indicators' names (小学生均体育运动场馆面积, ...)."""
    i = 0 if lang == "zh" else 1
    if isinstance(value, str) and value in SUMMARY_VALUE_LABELS.get(key, {}):
        return SUMMARY_VALUE_LABELS[key][value][i]
    if key == "cv_over_limit" and isinstance(value, (list, tuple)):
        out = []
        for item in value:
            level, _, indicator = str(item).partition("/")
            lv = LEVEL_LABELS.get(level, {}).get(lang, level)
            name = INDICATOR_NAMES.get(indicator, (indicator, indicator))[i]
            out.append(f"{lv}{name}" if lang == "zh" else f"{lv}: {name}")
        return ("、" if lang == "zh" else "; ").join(out)
    return value


# the units of the map and optimiser settings (issue 19 item 4, issue 15 item 7, issue 14 item 5)
VALUE_LABELS["unit"].update({
    "rounds": ("轮", "rounds"),
    "swaps": ("次交换", "swaps"),
    "ratio": ("比值", "ratio"),
    "rows": ("行", "rows"),
    "comma-separated OSM highway classes": ("OSM道路等级（逗号分隔）", "comma-separated OSM highway classes"),
    "decimal places of degrees": ("度的小数位数", "decimal places of degrees"),
    "Leaflet zoom level": ("地图缩放级别", "Leaflet zoom level"),
})


#: Keys of ``counts`` and ``indicators`` -> (zh, en), on the About (说明) sheet of report.xlsx; sub-keys
#: of a count are labelled with the vocabulary of a column (``excel._COUNT_VOCABULARY``).
ABOUT_KEY_LABELS: dict[str, tuple[str, str]] = {
    "schools": ("学校数", "schools"),
    "schools_by_level": ("按学段学校数", "schools by level"),
    "small_schools_by_tier": ("小规模学校", "small schools"),
    "towns": ("乡镇数", "towns"),
    "towns_without_junior_middle_school": ("无初中的乡镇数",
                                           "towns without a junior middle school"),
    "demand_points": ("需求点数", "demand points"),
    "violations": ("规则检查（违规）", "rule violations"),
    "alerts": ("预警与提示", "warnings and notices"),
    "warnings": ("数据检查警告数", "input-check warnings"),
    "seat_warnings": ("学位预警", "seat warnings"),
    "walk_time_g1_3": ("1-3年级步行时间", "grades 1-3 walking time"),
    "pupils_g1_3": ("1-3年级学生（人）", "pupils in grades 1-3"),
    "limit_min": ("步行时间上限（分钟）", "limit (min)"),
    "mode": ("出行方式", "travel mode"),
    "estimate": ("直线估算", "straight-line estimate"),
    "pupils_without_school": ("无可达学校（人）", "pupils without a school"),
    "service_radius": ("城镇服务半径覆盖", "urban service-radius coverage"),
    "computed": ("已计算", "computed"),
    "radius_m": ("服务半径（米）", "radius (m)"),
    "pupils": ("适龄人口（人）", "children"),
    "within": ("半径内（人）", "within the radius"),
    "share_within": ("半径内占比", "share within the radius"),
    "seat_shortage": ("学位缺口（人）", "pupils without a seat"),
    "balance": ("优质均衡", "balanced development"),
    "schools_meeting_standard": ("资源配置达标学校数", "schools meeting the standards"),
    "schools_judged": ("参评学校数", "schools judged"),
    "cv_over_limit": ("差异系数超限的指标", "indicators with CV above the limit"),
    # the capacitated assignment inside the town (issue 14): what crosses, and why
    "capacitated_within_town": ("按学位分配（限本乡镇）", "capacitated assignment inside the town"),
    "pupils_crossing_town": ("跨乡镇就读（人）", "pupils sent to another town"),
    "villages_crossing_town": ("跨乡镇就读的村庄数", "villages sending pupils to another town"),
    "primary_short_by_town": ("小学学位不足的乡镇（缺口人数）", "towns short of primary seats (pupils)"),
    "junior_short_by_town": ("初中学位不足的乡镇（缺口人数）", "towns short of junior seats (pupils)"),
}

#: The sheet of a table too long to list in report.xlsx (setting report_sheet_max_rows, issue 15).
LONG_TABLE_TEXT = (
    "本表共 {n:,} 行，多于本报告逐行列出的上限 {limit:,} 行（设置 report_sheet_max_rows）。"
    "全部行见同一文件夹中的 {csv}，可用 Excel 打开并筛选。",
    "This table has {n:,} rows, more than the {limit:,} this report lists row by row (setting "
    "report_sheet_max_rows). Every row is in {csv} in the same folder; open it in Excel to filter.",
)

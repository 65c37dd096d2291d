"""Private: the Chinese wording of the settings' sources (:attr:`schoolplan.settings.Setting.source_zh`).

Setting name -> the source as a Chinese output shows it. A setting not named here has a source
that is already a citation a Chinese reader reads as it is (a standard code and its Chinese title,
such as ``GB 50099-2011 中小学校设计规范 §3.0.1``); a setting whose source is an English sentence
needs its Chinese here (``tests/test_settings.py`` checks it). "本工具" is schoolplan.
"""

from __future__ import annotations

_GUOBAN_2018 = "国办发〔2018〕27号 关于全面加强乡村小规模学校和乡镇寄宿制学校建设的指导意见"
_JIAODU_2017 = "教督〔2017〕6号 县域义务教育优质均衡发展督导评估办法"

SOURCE_ZH: dict[str, str] = {
    "class_size_teaching_point": "GB 50099-2011 中小学校设计规范 §3.0.1（非完全小学）",
    "small_school_tiers": "聊城市统计按不足200人、不足100人、不足50人分档；国家定义为不足100人：" + _GUOBAN_2018,
    "small_school_area_types": _GUOBAN_2018 + "（乡村小规模学校：仅指乡村学校）",
    "walk_limit_extra_min": "本工具的报告惯例",
    "trip_limit_lower_grades_km": "重庆市 2012 农村义务教育学校布局调整规定（外省规定，供参考）",
    "trip_limit_upper_grades_km": "重庆市 2012 农村义务教育学校布局调整规定（外省规定，供参考）",
    "walk_speed_g1_3_mps": "由 GB 50180 服务半径与步行时间的对应关系及美国小学（K-5）设计步速推算",
    "walk_speed_g4_9_mps": "由 GB 50180 服务半径与步行时间的对应关系推算（1.0-1.1 米/秒）",
    "bicycle_speed_kph": "儿童骑行的常见速度；为假设值，请按本地情况确认",
    "bus_speed_kph_by_road_class": "OpenStreetMap 无限速信息时按道路等级取校车车速；为假设值",
    "circuity_factor": "路网绕行系数一般为1.2-1.4（Ballou 等，2002；Boeing，2019，基于 OpenStreetMap 街道网络）",
    "max_snap_distance_m": "本工具约定；距任何道路更远的点会被报告",
    "travel_mode_g1_3": _GUOBAN_2018 + "（1-3年级步行上学，不寄宿）",
    "travel_mode_g4_6": "本工具默认值；有校车的地方请设为 bus",
    "travel_mode_g7_9": "本工具默认值；请按本县情况设为 bicycle 或 bus",
    "catchment_candidates": "本工具约定（约20所最近的候选学校即可求得最优分配）",
    "catchment_cutoff_m": "本工具约定；超过该距离的学校不作为候选",
    "catchment_within_town": "多数县按乡镇界线划片招生；默认不启用",
    "catchment_allow_split": "本工具默认值",
    "share_g1_3_of_primary": "按各年级人数相等；低年级人数减少时请按台账设置",
    "osm_download_timeout_s": "本工具约定：无网络时尽快报错（osmnx 默认为180秒）",
    "osm_download_buffer_m": "本工具约定",
    "boarding_beyond_km": "本工具假设；国办发〔2018〕27号 允许确有需要时从四年级起寄宿",
    "scattered_within_min": "本工具假设",
    "seat_warning_yellow": "浙教基〔2018〕100号（浙江省）",
    "seat_warning_red": "浙教基〔2018〕100号（浙江省）",
    "balance_standards_primary": _JIAODU_2017 + "（据转载文本）",
    "balance_standards_junior": _JIAODU_2017 + "（据转载文本）",
    "rules_disabled": "本工具约定",
    "pupils_primary_per_1000_residents": "未找到山东省官方值；按2020年后的出生人口推算约为每千人35-45人，请按本县设置",
    "pupils_junior_per_1000_residents": "约为小学千人指标的一半（推算值），请按本县设置",
    "persons_per_household": ("假设：2020年人口普查全国家庭户平均约2.6人（M）；新建城镇小区有子女的家庭较多；"
                              "请按本县设置"),
    "projection_horizon_years": "规划一般展望5-10年（聊城规划至2027年和2030年）",
    "projection_school_start_age": "义务教育法 第十一条：儿童满六周岁入学（条件不具备的地区可推迟到七周岁）",
    "projection_shrinkage_pupils": "本工具假设：学校升级率与全县升级率按可信度加权（Bühlmann 方法）",
    "projection_entry_years": "本工具假设：最近几年反映向县城流动的趋势",
    "projection_hold_method": "本工具假设：取均值不会把下降的序列外推到零",
    "projection_hold_years": "本工具假设",
    "projection_band_level": "本工具约定：取中间80%的区间（第10至第90百分位）",
    "projection_outlier_z": "Iglewicz 与 Hoaglin（1993）：稳健z分数绝对值大于3.5视为异常值",
    "projection_outlier_min_pupils": "本工具假设：人数很少时的比率只是随机波动",
    "extent_tolerance_m": "本工具约定",
    "shrinking_decline_share": "本工具假设；请按本县设置",
    "lunch_at_school_share": "聊城 2025：撤并须保障午餐配备；假设每名学生都在校用餐",
    "pupils_kindergarten_per_1000_residents": ("假设：新建小区每千居民每年约出生10人，3-5岁共三个年龄组；"
                                               "未找到山东省官方值"),
    "class_size_kindergarten": ("幼儿园工作规程（教育部令第39号，2016）第十一条：小班25人、中班30人、"
                                "大班35人、混合班30人"),
    "estate_kindergarten_min_classes": "建标175-2016 幼儿园建设标准：幼儿园规模为3、6、9、12班",
    "estate_school_min_classes_primary": "建标109-2008 §8：完全小学6-24班",
    "estate_school_min_classes_junior": "建标109-2008 §8：初级中学12-24班",
    "estate_fallback_radius_factor": "本工具假设：半径外不远处的剩余学位会列出，但不算作达标",
    "estate_joint_distance_factor": "本工具假设：中心点相距在此范围内的小区可共用一所学校",
    "estate_profile_kindergarten": "本工具假设（未找到山东省依据）：年轻家庭先入住；请按可比小区的登记数据设置",
    "estate_profile_primary": "本工具假设（未找到山东省依据）：小区小学生数在交付后4-5年达到高峰，之后稳定在千人指标",
    "estate_profile_junior": "本工具假设（未找到山东省依据）：首批小学生升入初中时初中生数达到高峰",
    "estate_kindergarten_public_counties": "济宁 2024：新建居住区配套幼儿园…全部举办为公办园（V）；请填写有此规定的县",
    "county_public_high_schools_min": "山东省 2023；聊城 2025：支持每个县至少办好一所公办普通高中",
    "county_senior_seat_supply_min": "聊城 2025：到2026年高中阶段学校学位供给率 ≥ 100%",
    "county_special_school_population": "济宁 2024：到2025年，20万人口以上的县（市、区）办好一所特殊教育学校",
    "county_population": "用户输入（统计年鉴）",
    "kindergarten_public_share_min": "山东省 2023；聊城 2025：到2027年公办园在园幼儿占比 ≥ 60%（济宁 2024：80%）",
    "assignment_method": "本工具的“现状”原则：现状以台账为准",
    "calibration_decay_per_km": ("Wilson（1971）双约束空间交互模型 f(d)=exp(-β·d)；取值为本工具对农村小学出行的"
                                 "假设（未找到我国县域的估计值）；有生源数据时按平均出行距离拟合（Hyman，1969，"
                                 "泊松广义线性模型的最大似然估计）"),
    "calibration_band": "本工具约定（与台账相差不超过±10%）",
    "calibration_max_iterations": "本工具约定",
    "calibration_tolerance": "本工具约定",
    "calibration_reassign": "本工具假设",
    "class_size_senior": "GB 50099-2011 中小学校设计规范 §3.0.1（高中50人）",
    "area_type_blank_jiedao": "国家统计局统计用城乡划分：街道一般属于主城区或城乡结合区（代码111/112）",
    "area_type_blank_zhen": ("本工具假设：镇内多数学校不在镇中心区（国家统计局代码220 村庄）；"
                             "镇区学校（121/122）须在台账中填写代码"),
    "area_type_blank_xiang": "国家统计局统计用城乡划分：乡没有镇区（只有代码210/220）",
    "enrollment_plausible_max": "本工具假设：山东规模最大的县域学校有5000-7000名学生",
    "town_seat_extent_factor": "本工具约定：乡镇范围约为驻地外一个驻地间距",
    "metric_crs_max_scale_error": ("本工具约定：每公里5米；UTM 和高斯-克吕格投影带即使略超出带边也低于该值，"
                                   "Web Mercator 在北纬5.7°以北处处超出（北纬36°处为+24%）"),
    "road_grade_separated_classes": "本工具规则：高速公路等控制出入的道路以桥梁与其他道路立体交叉（JTG D20 / CJJ 37）",
    "walk_private_residential_roads": "本工具假设：儿童住在封闭小区内，经小区内部道路步行出门",
    "summary_map_height_share": "本工具版式约定：地图约占A4页面的三分之一，其余为表格",
    "summary_closed_names_max": "本工具版式约定：摘要页用一行列出学校名称",
    "workers": "scipy 的 Dijkstra 计算时持有全局解释器锁；在双核机器上实测2个进程提速1.7-2.1倍",
    "travel_cache": "本工具约定：按内容建键，可随时删除",
    "optimise_heuristic_max_passes": "Teitz 与 Bart（1968）顶点交换法；本工具约定（没有可改进的交换时提前结束）",
    "optimise_tradeoff_max_points": "本工具约定：一张图在会上看得清；两端总是用精确模型求解",
    "optimise_close_only_under": "聊城市统计的最小一档（不足50人，见 small_school_tiers）；撤并预设",
    "optimise_cluster_link_m": "本工具假设：相距约2公里（步行25-30分钟）以内的村庄为一个村庄群；请按本县情况设置",
    "optimise_heuristic_seat_rounds": (
        "学位约束的拉格朗日松弛（学位影子价格取自运输问题的对偶解）；"
        "本工具实测（benchmarks/bench_optimize.py --prefecture，示范县，计学位，p=36-66）："
        "第二轮使 p=41 与精确最优的差距由0.42%降到0.00%，但在 p=36 时最终有133名学生无学位"
        "（一轮时全部有学位），在 p=46-66 时没有更好结果；"
        "每轮需一次搜索和一次运输求解；布局不再改进时提前结束"),
    "map_catchment_fill": "本工具版式约定：只画片区边线，乡镇边界在图上清楚可读",
    "map_roads": "本工具约定：道路帮助在打印的地图上辨认方位",
    "map_road_classes": "本工具约定：只画主要道路等级，地级市地图保持轻便",
    "map_area_simplify_m": "本工具约定：县域缩放级别下不到一个屏幕像素（12级约每像素40米）",
    "map_school_label_zoom": "本工具约定：12级（约每像素40米）起显示学校名称；乡镇名称始终显示",
    "map_canvas_from_schools": (
        "本工具实测（benchmarks/bench_map.py）：地级市规模下用画布绘制比数千个 SVG 元素快；SVG 打印更清晰"),
    "map_road_simplify_m": "本工具约定：县域缩放级别下远小于一条线的宽度",
    "map_coordinate_decimals": "大地测量：纬度方向 0.00001 度约为1米",
    "road_fit_min_gain_m": (
        "本工具约定：在一个真实县的数据中，WGS-84 道路上的点被声明为 GCJ-02 时，"
        "吸附距离中位数增加112米；正确的坐标系很少被另一种解读以几十米之差胜出"),
    "road_fit_max_ratio": "本工具约定：另一种坐标解读还须使吸附距离中位数减半",
    "fork_diagnosis_min_rows": (
        "本工具实测（问题15）：分叉一个地级市规模的进程约0.05秒，"
        "容量约束分配每10万条成本行约1.4秒（HiGHS，双核）"),
    "report_sheet_max_rows": (
        "本工具约定：规划人员在会上阅读、筛选的工作表；逐格写入表格每格约10微秒"
        "（benchmarks/bench_pipeline.py），一个地级市约20万条出行记录需写一分钟；该表的 CSV 文件始终包含全部行"),
    "optimise_heuristic_exact_swaps": (
        "本工具实测（benchmarks/bench_optimize.py --prefecture）：示范县 p=36-56 时，"
        "每个降低目标值的交换都排在前3位，评估5或8个也没有更多改进；"
        "每次评估是一次热启动的运输求解（县级规模约20毫秒）"),
    "optimise_heuristic_short_swaps": (
        "本工具实测（tests/test_optimize_transport.py，20个学位为学生数1.05倍的随机算例）："
        "精确最优可让全部学生有学位而布局仍有学生无学位的4例，经2-11次评估后全部学生有学位"
        "（任何布局都不够时最多29次）；每次评估是一次热启动的运输求解（县级规模约20毫秒），只在有学生无学位时进行"),
}

"""Private: the schools of the synthetic demo county, sized from the children living nearest.

Sites first (:func:`build_sites`): large urban schools in the county seat, and per rural town its
central primary (中心小学) at the town seat, a junior middle or nine-year school, two or three
village primaries and some teaching points in the villages farthest from the seat, and in some
towns a small village school next to a larger one (a "scattered" pair that consolidation can
merge). The villages that keep a school are enlarged (中心村).

Then the ledger (:func:`size_schools`): every school enrols the children of the villages nearest
to it by road (per grade group, over the schools teaching it), times 0.98-1.02, less the share
``DemoShape.bypass`` of a village school's pupils whom parents send to the town's central school.
So village demand and ledger agree school by school, as in a county whose ledger is true.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import Point

from schoolplan.demo._geography import DemoShape, _Frame
from schoolplan.schema import LEVEL_GRADES

__all__ = ["balance_resources", "build_sites", "size_schools"]

COUNTY_SHORT = "示范县"
#: grade groups a level teaches (teaching points: grades 1-3 only; complete: its grades 7-9)
_GROUPS = {"primary": ("g1_3", "g4_6"), "teaching_point": ("g1_3",), "junior": ("g7_9",),
           "nine_year": ("g1_3", "g4_6", "g7_9"), "complete": ("g7_9",)}
#: host-village children (primary age) of a village school by its tier
_HOST = {"lt50": (15, 30), "lt100": (35, 65), "lt200": (75, 140), "big": (150, 240)}


def _split(total: int, weights: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Split ``total`` into integer parts proportional to noisy ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float) * rng.uniform(0.9, 1.1, len(weights))
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - base), kind="stable")[: total - int(base.sum())]:
        base[k] += 1
    return [int(b) for b in base]


def _school(rng: np.random.Generator, level: str, name: str, total: int, *, urban: bool,
            class_size: float, junior_part: int = 0) -> dict[str, Any]:
    """One school record: pupils per grade, classes, teachers and (sometimes) seats."""
    grades: dict[int, int] = {}
    if level == "nine_year":
        primary = _split(total - junior_part, np.linspace(0.9, 1.1, 6), rng)
        grades.update(zip(range(1, 7), primary, strict=True))
        grades.update(zip(range(7, 10), _split(junior_part, np.ones(3), rng), strict=True))
    else:
        taught = [g for g in LEVEL_GRADES[level] if g <= 9]
        profile = np.ones(len(taught)) if urban else np.linspace(0.8, 1.2, len(taught))
        grades.update(zip(taught, _split(total, profile, rng), strict=True))
    if level == "teaching_point":
        classes = max(1, min(3, math.ceil(total / 20)))
    else:
        classes = sum(max(1, math.ceil(p / class_size)) for p in grades.values() if p > 0)
    prim = sum(p for g, p in grades.items() if g <= 6)
    jun = total - prim
    ratio_p = 20.0 if urban else (16.0 if prim > 300 else 11.0)
    need = prim / ratio_p * rng.uniform(0.9, 1.1) + jun / 12.5 * rng.uniform(0.9, 1.1)
    teachers = max(classes + (1 if level != "teaching_point" else 0), round(need))
    seats: int | None = None
    if rng.uniform() > 0.25:
        if level == "teaching_point":
            seats = 120
        else:
            design = classes * rng.uniform(0.8, 1.05 if urban else 1.3)
            p_cls = sum(1 for g, p in grades.items() if g <= 6 and p > 0) and \
                max(6, 6 * round(design * prim / total / 6))
            j_cls = sum(1 for g, p in grades.items() if g >= 7 and p > 0) and \
                max(3, 3 * round(design * jun / total / 3))
            seats = p_cls * 45 + j_cls * 50
    return {"level": level, "name": name, "grades": grades, "enrollment": total,
            "classes": classes, "teachers": teachers, "seats": seats}


def balance_resources(rng: np.random.Generator, r: dict[str, Any]) -> list[int]:
    """Synthetic 优质均衡 resources of a school, spread around the 教督〔2017〕6号 standards:
    crowded urban schools run short of floor and sports area, small rural ones of key and
    qualified teachers, equipment and multimedia classrooms."""
    n, t, classes = r["enrollment"], r["teachers"], r["classes"]
    urban = str(r["ur_code"]).startswith("1")
    qualified = round(t * rng.uniform(0.8, 1.0) if urban else t * rng.uniform(0.55, 0.95))
    key = round(n / 100 * (rng.uniform(0.8, 2.2) if urban else rng.uniform(0.0, 1.6)))
    pe_arts = round(t * (rng.uniform(0.10, 0.20) if urban else rng.uniform(0.03, 0.15)))
    area = round(n * (rng.uniform(3.0, 6.5) if urban else rng.uniform(4.0, 11.0)))
    sports = round(n * (rng.uniform(3.5, 11.0) if urban else rng.uniform(6.0, 30.0)))
    equipment = round(n * (rng.uniform(1800, 4200) if urban else rng.uniform(600, 3500)), -2)
    multimedia = round(classes * (rng.uniform(0.9, 1.2) if urban else rng.uniform(0.2, 1.1)))
    return [int(v) for v in (qualified, key, pe_arts, area, sports, equipment, multimedia)]



def build_sites(rng: np.random.Generator, f: _Frame, vil: pd.DataFrame,
                node_tree: cKDTree) -> list[dict[str, Any]]:
    """Place the schools (level, name, town, urban-rural code, metric ``xy``, class size).

    Enlarges, in ``vil``, the villages that keep a school. A ``pair_of`` key names the school
    that a small school of a scattered pair lies next to.
    """
    town_of = {t: p.buffer(-60) for t, p in enumerate(f.town_polys)}
    for inner in town_of.values():
        shapely.prepare(inner)
    row_of = {int(i): k for k, i in enumerate(vil["_i"])}

    def place(anchor: np.ndarray, t: int, rmin: float, rmax: float) -> np.ndarray:
        for _ in range(60):
            ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(rmin, rmax)
            p = anchor + r * np.array([math.cos(ang), math.sin(ang)])
            if town_of[t].contains(Point(p)) and node_tree.query(p)[0] < 250:
                return p
        return anchor.copy()

    def grow(i: int, lo: int, hi: int) -> None:
        """A village that keeps a school holds ``lo``-``hi`` primary-age children."""
        k = row_of[i]
        p = int(rng.integers(lo, hi))
        vil.iloc[k, vil.columns.get_loc("pupils_primary")] = p
        vil.iloc[k, vil.columns.get_loc("pupils_junior")] = max(2, round(p * rng.uniform(0.42, 0.58)))

    sites: list[dict[str, Any]] = []

    def add(level: str, name: str, t: int, ur: str, xy: np.ndarray, class_size: float,
            **extra: Any) -> dict[str, Any]:
        rec = {"level": level, "name": name, "town": t, "ur_code": ur, "xy": xy,
               "class_size": class_size, "urban": ur.startswith("11"), **extra}
        sites.append(rec)
        return rec

    # --- county seat: large urban schools on 社区 blocks, spread out
    jiedao = sorted((t for t in range(len(f.town_codes)) if f.town_types[t] == "街道"),
                    key=lambda t: f.town_codes[t])
    taken: list[np.ndarray] = []

    def urban_site(t: int | None) -> tuple[int, np.ndarray]:
        pool = [i for i in range(f.n_shequ) if t is None or f.label[i] == t]
        best = max(pool, key=lambda i: min([float(np.linalg.norm(f.points[i] - q)) for q in taken]
                                           + [1e9]) + rng.uniform(0, 300))
        p = place(f.points[best], int(f.label[best]), 30, 150)
        taken.append(p)
        return int(f.label[best]), p

    crowded = rng.permutation([True, True, True, True, False, False, False, False])
    first = ("实验小学", "第二实验小学", "第三实验小学", "育英小学", "光明小学")
    pnames = [f"{COUNTY_SHORT}{n}" for n in first]
    pnames += [f"{f.town_names[t]}中心小学" for t in jiedao]
    # primaries where the children are: the 社区 nearest to the centres of a weighted k-means
    sq = f.points[:f.n_shequ]
    weight = vil.set_index("_i").loc[np.arange(f.n_shequ), "pupils_primary"].to_numpy(float)
    picked = [int(rng.integers(len(sq)))]  # farthest-point start, so that no block is left far
    for _ in range(len(pnames) - 1):
        gap = np.min(np.linalg.norm(sq[:, None, :] - sq[picked][None], axis=2), axis=1)
        picked.append(int(np.argmax(gap)))
    centres = sq[picked].copy()
    for _ in range(40):
        near = np.argmin(np.linalg.norm(sq[:, None, :] - centres[None], axis=2), axis=1)
        for c in range(len(centres)):
            if (near == c).any():
                centres[c] = np.average(sq[near == c], axis=0, weights=weight[near == c])
    blocks = [int(np.argmin(np.linalg.norm(sq - c, axis=1))) for c in centres]
    order: list[int | None] = [None] * len(pnames)
    for k, t in enumerate(jiedao):  # each 街道's central primary on a block of that 街道
        mine = [c for c in range(len(blocks)) if f.label[blocks[c]] == t and c not in order]
        order[len(first) + k] = mine[0] if mine else None
    rest = iter(c for c in range(len(blocks)) if c not in order)
    for k in range(len(first)):
        order[k] = next(rest, None)
    for k, name in enumerate(pnames):
        slot = order[k]
        if slot is None:
            t, p = urban_site(jiedao[k - len(first)] if k >= len(first) else None)
        else:
            t = int(f.label[blocks[slot]])
            p = place(sq[blocks[slot]], t, 30, 150)
            taken.append(p)
        size = rng.uniform(47, 56) if crowded[k] else rng.uniform(40, 45)
        add("primary", name, t, "111", p, size)
    jnames = [f"{COUNTY_SHORT}实验中学", f"{COUNTY_SHORT}育才中学", f"{COUNTY_SHORT}振华中学"]
    for k, name in enumerate(jnames):  # one junior middle school in each 街道
        t, p = urban_site(jiedao[k % len(jiedao)])
        add("junior", name, t, "111", p, rng.uniform(48, 57) if k == 0 else rng.uniform(44, 50))
    t, p = urban_site(None)
    add("complete", f"{COUNTY_SHORT}第一中学", t, "111", p, rng.uniform(46, 52))
    v112 = vil[vil["ur_code"] == "112"].sort_values(["pupils_primary", "demand_id"],
                                                    ascending=[False, True])
    host = v112.iloc[0]
    grow(int(host["_i"]), 500, 900)  # an urbanising village (城中村) with a nine-year school
    add("nine_year", f"{COUNTY_SHORT}文昌学校", int(f.label[host["_i"]]), "112",
        place(f.points[host["_i"]], int(f.label[host["_i"]]), 80, 220), rng.uniform(44, 50))
    for _, host in v112.iloc[1:].sample(2, random_state=int(rng.integers(2**31))).iterrows():
        t = int(f.label[host["_i"]])
        grow(int(host["_i"]), 80, 200)
        add("primary", f"{f.town_names[t]}{host['name'][:-1]}小学", t, "112",
            place(f.points[host["_i"]], t, 80, 220), 45.0)
    # --- rural towns
    rural = sorted((t for t in range(len(f.town_codes)) if f.town_types[t] != "街道"),
                   key=lambda t: f.town_codes[t])
    xiang = [t for t in rural if f.town_types[t] == "乡"]
    no_junior = int(rng.choice(xiang))
    seat_xy = {t: f.points[f.seats[t]] for t in rural}
    others = [t for t in rural if t != no_junior]
    nine = set(rng.choice(others, min(3, len(others) - 1), replace=False).tolist())
    paired = set(rng.choice(rural, max(2, len(rural) // 3), replace=False).tolist())
    n_vp = {t: int(rng.choice([2, 2, 3, 3, 3])) for t in rural}
    n_tp = {t: int(rng.choice([0, 1, 1, 2])) for t in rural}
    tiers = ["lt50"] * 2 + ["lt100"] * 4 + ["lt200"] * 4
    tiers += rng.choice(["lt50", "lt100", "lt100", "lt200", "lt200", "big"],
                        max(0, sum(n_vp.values()) - len(tiers))).tolist()
    tiers = iter(rng.permutation(tiers).tolist())
    all_tree = cKDTree(f.points)
    for t in rural:
        tv = vil[vil["town_code"] == f.town_codes[t]]
        town_name = f.town_names[t]
        hosts = tv[tv["ur_code"] == "220"]
        chosen: list[int] = []
        for _ in range(n_vp[t] + n_tp[t]):
            dist = [min(float(np.linalg.norm(f.points[i] - f.points[j]))
                        for j in [*chosen, f.seats[t]]) + rng.uniform(0, 1500)
                    for i in hosts["_i"]]
            chosen.append(int(hosts["_i"].iloc[int(np.argmax(dist))]))
        vname = dict(zip(tv["_i"], tv["name"], strict=True))
        if t in nine:  # in a village of the town area (镇区, 122) near the seat
            near = tv[tv["ur_code"] == "122"]
            i = int(near["_i"].iloc[int(rng.integers(len(near)))]) if len(near) else f.seats[t]
            if i != f.seats[t]:
                grow(i, 120, 260)
            add("nine_year", f"{town_name}九年一贯制学校", t, "122", place(f.points[i], t, 80, 220),
                rng.uniform(38, 45))
        for k in range(n_vp[t]):
            i = chosen[k]
            tier = next(tiers)
            grow(i, *_HOST[tier])
            rec = add("primary", f"{town_name}{vname[i][:-1]}小学", t, "220",
                      place(f.points[i], t, 80, 220), 45.0)
            if k == 0 and t in paired:  # a small school on the road to this one (scattered)
                _, nb = all_tree.query(f.points[i], k=2)
                j = int(nb[1])
                if (int(f.label[j]) == t and j in set(hosts["_i"]) and j not in chosen
                        and float(np.linalg.norm(f.points[j] - f.points[i])) < 1500):
                    grow(i, *_HOST["lt200"])
                    grow(j, *_HOST["lt50"])
                    a, b = f.points[j], f.points[i]
                    rec["xy"] = b + 0.2 * (a - b)
                    add("primary", f"{town_name}{vname[j][:-1]}小学", t, "220", a + 0.35 * (b - a),
                        45.0, pair_of=rec["name"])
                    rec["receiver_of_pair"] = True
        for k in range(n_vp[t], n_vp[t] + n_tp[t]):
            i = chosen[k]
            grow(i, 10, 40)
            add("teaching_point", f"{town_name}{vname[i][:-1]}教学点", t, "220",
                place(f.points[i], t, 80, 220), 30.0)
        if t not in nine and t != no_junior:
            add("junior", f"{town_name}初级中学", t, "121", place(seat_xy[t], t, 300, 700),
                rng.uniform(42, 50))
        add("primary", f"{town_name}中心小学", t, "121", place(seat_xy[t], t, 100, 400),
            rng.uniform(38, 45), central=True)
    return sites


def _nearest_by_road(roads: nx.MultiDiGraph, node_xy: np.ndarray, sources: np.ndarray,
                     points: np.ndarray) -> np.ndarray:
    """For every point, the position (into ``sources``) of the source nearest by road."""
    pos = {n: k for k, n in enumerate(roads.nodes)}
    e = pd.DataFrame([(pos[u], pos[v], float(d["length"])) for u, v, d in roads.edges(data=True)],
                     columns=["u", "v", "w"]).groupby(["u", "v"], as_index=False)["w"].min()
    n = len(pos)
    graph = coo_matrix((e["w"].to_numpy(), (e["u"].to_numpy(), e["v"].to_numpy())), shape=(n, n)).tocsr()
    tree = cKDTree(node_xy)
    s_node = tree.query(sources)[1]
    p_node = tree.query(points)[1]
    first: dict[int, int] = {}
    for k, node in enumerate(s_node):
        first.setdefault(int(node), k)
    nodes = np.array(sorted(first), dtype=int)
    _, _, src = dijkstra(graph, directed=True, indices=nodes, min_only=True,
                         return_predecessors=True)
    return np.array([first.get(int(src[v]), -1) for v in p_node])


def size_schools(rng: np.random.Generator, sites: list[dict[str, Any]], vil: pd.DataFrame,
                 f: _Frame, roads: nx.MultiDiGraph, node_xy: np.ndarray,
                 shape: DemoShape) -> list[dict[str, Any]]:
    """The ledger: each site enrols the children of the villages nearest to it by road."""
    points = f.points[vil["_i"].to_numpy()]
    prim = vil["pupils_primary"].to_numpy(float)
    children = {"g1_3": prim / 2, "g4_6": prim / 2, "g7_9": vil["pupils_junior"].to_numpy(float)}
    got = np.zeros((len(sites), 3))
    for g, group in enumerate(("g1_3", "g4_6", "g7_9")):
        serving = [k for k, s in enumerate(sites) if group in _GROUPS[s["level"]]]
        near = _nearest_by_road(roads, node_xy, np.array([sites[k]["xy"] for k in serving]), points)
        ok = near >= 0
        np.add.at(got[:, g], np.array(serving)[near[ok]], children[group][ok])
    central = {s["town"]: k for k, s in enumerate(sites) if s.get("central")}
    for k, s in enumerate(sites):  # parents bypass village schools for the town's central school
        if s["ur_code"] == "220" and s["town"] in central:
            moved = got[k, :2] * shape.bypass
            got[k, :2] -= moved
            got[central[s["town"]], :2] += moved
    out = []
    for k, s in enumerate(sites):
        noise = rng.uniform(0.98, 1.02)
        primary = int(np.round((got[k, 0] + got[k, 1]) * noise))
        junior = int(np.round(got[k, 2] * noise))
        lv = s["level"]
        if lv == "teaching_point":
            total, junior = max(6, primary), 0
        elif lv == "primary":
            total, junior = max(20, primary), 0
        elif lv in ("junior", "complete"):
            total = junior = max(60, junior)
        else:
            junior = max(30, junior)
            total = max(60, primary) + junior
        rec = _school(rng, lv, s["name"], total, urban=s["urban"], class_size=s["class_size"],
                      junior_part=junior)
        if s.get("central") and rec["seats"] is not None:  # built for the town (全面改薄): room
            rec["seats"] = max(rec["seats"], 45 * 6 * math.ceil(1.2 * total / 270))
        if s.get("receiver_of_pair"):  # room for the small school next to it
            pair = next(o for o in sites if o.get("pair_of") == s["name"])
            need = total + (got[sites.index(pair), 0] + got[sites.index(pair), 1])
            rec["seats"] = 45 * 6 * max(1, math.ceil(need / 240))
        rec.update(town=s["town"], ur_code=s["ur_code"], xy=s["xy"])
        out.append(rec)
    return out

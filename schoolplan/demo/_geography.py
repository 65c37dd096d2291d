"""Private: the geography of the synthetic demo county (outline, towns, villages, roads).

Used by :mod:`schoolplan.demo`; every function takes its random generator, so the output is
deterministic for a seed."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from schoolplan.errors import SchoolplanError

logger = logging.getLogger("schoolplan.demo")
METRIC_CRS = "EPSG:32650"
COUNTY_CODE = "371599"
_N_JIEDAO = 3  # urban 街道 of the county seat (the 镇 and 乡 are set by :class:`DemoShape`)


@dataclass(frozen=True)
class DemoShape:
    """What a demo county looks like besides its seed.

    Attributes
    ----------
    n_zhen, n_xiang
        Rural towns: 镇 (at most 12) and 乡 (at most 5); the county seat always has three 街道.
    village_spacing_m
        Least distance between two villages (Poisson-disk sampling).
    bypass
        Share of the pupils living nearest to a village school (城乡分类代码 220) whom the ledger
        enrols at their town's central school instead (parents bypass village schools).
    demand_noise
        Spread (sigma of a lognormal factor) of each village's children drawn after the ledger
        was made from them: the village counts then disagree with the ledger, as real data does.
    """

    n_zhen: int = 8
    n_xiang: int = 2
    village_spacing_m: float = 1250.0
    bypass: float = 0.04
    demand_noise: float = 0.0

    def __post_init__(self) -> None:
        if not (1 <= self.n_zhen <= len(_ZHEN_NAMES) and 1 <= self.n_xiang <= len(_XIANG_NAMES)):
            raise SchoolplanError(f"a demo county has 1-{len(_ZHEN_NAMES)} 镇 and "
                                  f"1-{len(_XIANG_NAMES)} 乡")
        if not (900.0 <= self.village_spacing_m <= 2000.0):
            raise SchoolplanError("village_spacing_m must be 900-2000 m")
        if not (0.0 <= self.bypass < 1.0 and 0.0 <= self.demand_noise <= 1.0):
            raise SchoolplanError("bypass must be in [0, 1) and demand_noise in [0, 1]")


_CENTRE_LONLAT = (116.15, 36.50)


_GRID_M = 350.0


_SEGMENT_M = 270.0


_JIEDAO_NAMES = [
    "古城街道", "新华街道", "文昌街道", "东城街道", "振兴街道",
]


_ZHEN_NAMES = [
    "王集镇", "李寨镇", "刘楼镇", "高庄镇", "马集镇", "杨屯镇", "沙河镇", "柳林镇",
    "孙店镇", "韩营镇", "徐堂镇", "郭店镇",
]


_XIANG_NAMES = [
    "赵堂乡", "何楼乡", "吕集乡", "姜店乡", "董寨乡",
]


_SURNAMES = list("张王李刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈彭吕苏卢蒋"
                 "蔡贾丁魏薛叶阎潘杜戴夏田任姜范方石姚郝孔白崔康毛邱秦史侯邵孟段雷尹常武乔贺")


_SUFFIXES = ["庄"] * 8 + ["屯"] * 3 + ["楼", "寨"] * 2 + [
    "集", "营", "店", "洼", "堂", "口", "桥", "庙", "园", "家",
    "官庄", "辛庄", "堤", "铺",
]


_PREFIXES = [""] * 14 + list("东西南北前后大小")


_SHEQU_NAMES = [
    "东关", "西关", "南关", "北关", "幸福", "和平", "建设", "新华", "文化", "育才", "振兴", "光明",
    "胜利", "民主", "团结", "花园", "滨河", "府前", "翠园", "金桥", "阳光", "锦绣", "朝阳", "紫荆",
    "银河", "前进", "康乐", "怡和", "盛世", "书香", "华府", "世纪", "丽景", "兴隆", "富民", "长安",
    "永安", "泰和", "昌平", "安居", "青年", "广场", "迎宾", "汇景", "鑫苑",
]


_STREETS_EW = [
    "人民路", "建设路", "文化路", "振兴路", "育才路", "光明路", "新华路", "和平路", "胜利路",
    "幸福路", "团结路", "迎宾路", "富民路", "滨河路", "朝阳路", "昌盛路", "金水路", "华山路",
]


_STREETS_NS = [
    "中华大街", "府前街", "东关街", "西关街", "兴华街", "鲁西街", "德政街", "仁和街", "永安街",
    "长安街", "中山街", "安泰街", "广场街", "青年街", "学府街", "民生街", "泰山街", "黄河街",
]


_HIGHWAY_RANK = {"primary": 4, "secondary": 3, "tertiary": 2, "residential": 1, "unclassified": 0}


def _radial_polygon(cx: float, cy: float, radius: np.ndarray, theta: np.ndarray) -> Polygon:
    return Polygon(np.column_stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)]))


def _county_outline(rng: np.random.Generator, cx: float, cy: float) -> Polygon:
    """Return an irregular, slightly north-south elongated outline of 930-1000 km²."""
    theta = np.linspace(0.0, 2 * np.pi, 540, endpoint=False)
    a, b, rot = 15.5e3, 20.0e3, np.pi / 2 + rng.uniform(-0.3, 0.3)
    r = a * b / np.sqrt((a * np.cos(theta - rot)) ** 2 + (b * np.sin(theta - rot)) ** 2)
    mult = np.ones_like(theta)
    for k in range(2, 25):
        amp = rng.uniform(0.02, 0.055) if k <= 5 else rng.uniform(0.0, 0.02) / math.sqrt(k - 4)
        mult += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    wiggle = rng.normal(0.0, 0.004, theta.size)
    mult += (np.roll(wiggle, 1) + wiggle + np.roll(wiggle, -1)) / 3
    poly = _radial_polygon(0.0, 0.0, r * mult, theta)
    scale = math.sqrt(rng.uniform(930e6, 1000e6) / poly.area)
    return _radial_polygon(cx, cy, r * mult * scale, theta)


def _poisson_disk(rng: np.random.Generator, domain: Any, spacing: float, k: int = 30) -> np.ndarray:
    """Bridson's Poisson-disk sampling of ``domain`` with points at least ``spacing`` apart."""
    shapely.prepare(domain)
    minx, miny, maxx, maxy = domain.bounds
    cell = spacing / math.sqrt(2)
    nx_, ny_ = int((maxx - minx) / cell) + 1, int((maxy - miny) / cell) + 1
    grid = -np.ones((nx_, ny_), dtype=int)
    pts: list[tuple[float, float]] = []

    def fits(x: float, y: float) -> bool:
        if not (minx <= x <= maxx and miny <= y <= maxy) or not shapely.contains_xy(domain, x, y):
            return False
        gx, gy = int((x - minx) / cell), int((y - miny) / cell)
        for i in range(max(gx - 2, 0), min(gx + 3, nx_)):
            for j in range(max(gy - 2, 0), min(gy + 3, ny_)):
                q = grid[i, j]
                if q >= 0 and (pts[q][0] - x) ** 2 + (pts[q][1] - y) ** 2 < spacing**2:
                    return False
        return True

    def add(x: float, y: float) -> None:
        grid[int((x - minx) / cell), int((y - miny) / cell)] = len(pts)
        pts.append((x, y))

    start = domain.representative_point()
    add(start.x, start.y)
    active = [0]
    while active:
        idx = active[int(rng.integers(len(active)))]
        px, py = pts[idx]
        for _ in range(k):
            ang, rad = rng.uniform(0, 2 * np.pi), spacing * math.sqrt(rng.uniform(1, 4))
            x, y = px + rad * math.cos(ang), py + rad * math.sin(ang)
            if fits(x, y):
                add(x, y)
                active.append(len(pts) - 1)
                break
        else:
            active.remove(idx)
    return np.array(pts)


def _delaunay_edges(xy: np.ndarray) -> list[tuple[int, int]]:
    tri = Delaunay(xy)
    edges = set()
    for simplex in tri.simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            u, v = sorted((int(simplex[a]), int(simplex[b])))
            edges.add((u, v))
    return sorted(edges)


@dataclass
class _Frame:
    """Everything in metric coordinates while the county is being built."""

    outline: Polygon
    centre: np.ndarray
    grid_nodes: np.ndarray  # urban street-grid node coordinates
    grid_ij: list[tuple[int, int]]
    points: np.ndarray  # demand points: urban 社区 first, then villages
    n_shequ: int
    cells: list[Any]  # Voronoi cell of every demand point, clipped to the outline
    label: np.ndarray  # town index of every demand point
    seats: list[int]  # demand-point index of each town's seat
    town_polys: list[Any]
    town_types: list[str]
    town_names: list[str]
    town_codes: list[str]


def _urban_core(rng: np.random.Generator, outline: Polygon) -> tuple[
        np.ndarray, Polygon, np.ndarray, list[tuple[int, int]], np.ndarray]:
    """County-seat centre, core polygon, jittered street grid and urban 社区 points."""
    c0 = np.array(outline.centroid.coords[0])
    while True:
        centre = c0 + rng.uniform(-2500, 2500, 2)
        if outline.boundary.distance(Point(centre)) > 9000:
            break
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    rad = np.asarray(rng.uniform(2100, 2400)) * (1 + sum(rng.uniform(0.03, 0.08) * np.cos(
        k * theta + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 4)))
    core = _radial_polygon(centre[0], centre[1], rad, theta)
    alpha = rng.uniform(-0.15, 0.15)
    ux = np.array([math.cos(alpha), math.sin(alpha)])
    uy = np.array([-math.sin(alpha), math.cos(alpha)])
    ij = [(i, j) for i in range(-9, 10) for j in range(-9, 10)
          if core.contains(Point(centre + i * _GRID_M * ux + j * _GRID_M * uy))]
    nodes = np.array([centre + i * _GRID_M * ux + j * _GRID_M * uy for i, j in ij])
    nodes += rng.normal(0, 12, nodes.shape)
    have = set(ij)
    shequ = [centre + (i + 0.5 + rng.uniform(-0.2, 0.2)) * _GRID_M * ux
             + (j + 0.5 + rng.uniform(-0.2, 0.2)) * _GRID_M * uy
             for i, j in ij if i % 2 == 0 and j % 2 == 0
             and {(i + 1, j), (i, j + 1), (i + 1, j + 1)} <= have]
    return centre, core, nodes, ij, np.array(shequ)


def _grow_regions(n: int, adj: list[list[tuple[int, float]]], sources: list[int],
                  offsets: np.ndarray, urban_only: np.ndarray, n_urban_towns: int) -> np.ndarray:
    """Multi-source Dijkstra: label every node with the source of least offset + path cost."""
    label = -np.ones(n, dtype=int)
    heap = [(float(offsets[t]), t, s) for t, s in enumerate(sources)]
    heapq.heapify(heap)
    while heap:
        d, t, v = heapq.heappop(heap)
        if label[v] >= 0:
            continue
        label[v] = t
        for w, cost in adj[v]:
            if label[w] < 0 and (t < n_urban_towns or not urban_only[w]):
                heapq.heappush(heap, (d + cost, t, w))
    return label


def _build_towns(rng: np.random.Generator, shape: DemoShape) -> _Frame:
    """Outline, urban core, villages and town polygons; retries until the areas fit."""
    _N_ZHEN, _N_XIANG = shape.n_zhen, shape.n_xiang
    to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    cx, cy = to_metric.transform(*_CENTRE_LONLAT)
    n_rural = _N_ZHEN + _N_XIANG
    n_towns = _N_JIEDAO + n_rural
    for attempt in range(25):
        outline = _county_outline(rng, cx, cy)
        centre, core, grid_nodes, grid_ij, shequ = _urban_core(rng, outline)
        domain = outline.buffer(-200).difference(core.buffer(450))
        villages = _poisson_disk(rng, domain, shape.village_spacing_m)
        points = np.vstack([shequ, villages])
        n, n_shequ = len(points), len(shequ)
        vor = shapely.voronoi_polygons(MultiPoint(points), extend_to=outline.envelope.buffer(5000),
                                       ordered=True)
        cells = [g.intersection(outline) for g in vor.geoms]
        area = np.array([c.area for c in cells]) / 1e6
        adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for u, v in _delaunay_edges(points):
            cost = float(np.linalg.norm(points[u] - points[v])) * rng.uniform(0.6, 1.5)
            adj[u].append((v, cost))
            adj[v].append((u, cost))
        urban_only = np.arange(n) < n_shequ
        # sources: 街道 around the centre, rural seats from a weighted k-means
        phi = rng.uniform(0, 2 * np.pi)
        jsrc = [int(np.argmin(np.linalg.norm(shequ - centre - 1100 * np.array(
            [math.cos(phi + 2 * np.pi * k / _N_JIEDAO), math.sin(phi + 2 * np.pi * k / _N_JIEDAO)]),
            axis=1))) for k in range(_N_JIEDAO)]
        far = np.flatnonzero(np.linalg.norm(points - centre, axis=1) > 6000)
        centres = np.vstack([points[jsrc], points[rng.choice(far, n_rural, replace=False)]])
        for _ in range(30):
            near = np.argmin(np.linalg.norm(points[:, None, :] - centres[None], axis=2), axis=1)
            for t in range(_N_JIEDAO, n_towns):
                m = near == t
                if m.any():
                    centres[t] = np.average(points[m], axis=0, weights=area[m])
        tree = cKDTree(points[n_shequ:])
        rsrc: list[int] = []
        for t in range(_N_JIEDAO, n_towns):
            _, cand = tree.query(centres[t], k=4)
            options = [int(c) + n_shequ for c in cand if int(c) + n_shequ not in rsrc]
            rsrc.append(options[int(rng.integers(min(3, len(options))))])
        sources = jsrc + rsrc
        target = np.empty(n_towns)
        target[:_N_JIEDAO] = rng.uniform(17, 32, _N_JIEDAO)
        rural_t = rng.uniform(0.85, 1.15, n_rural)
        target[_N_JIEDAO:] = rural_t / rural_t.sum() * (area.sum() - target[:_N_JIEDAO].sum())
        offsets = np.zeros(n_towns)
        ok = False
        for _ in range(150):
            label = _grow_regions(n, adj, sources, offsets, urban_only, _N_JIEDAO)
            got = np.bincount(label, weights=area, minlength=n_towns)
            rural = got[_N_JIEDAO:]
            if (np.abs(got / target - 1) < 0.12).all() and rural.min() > 55 and rural.max() < 115:
                ok = True
                break
            offsets += 1200 * np.log(np.maximum(got, 1e-3) / target)
        if not ok:
            logger.debug("attempt %d: town areas did not converge", attempt)
            continue
        polys = [shapely.union_all([cells[i] for i in np.flatnonzero(label == t)])
                 for t in range(n_towns)]
        if not all(p.geom_type == "Polygon" and not p.interiors for p in polys):
            logger.debug("attempt %d: a town is not one simple polygon", attempt)
            continue
        break
    else:  # pragma: no cover - never reached with the tested seeds
        raise SchoolplanError("could not build demo towns; try another seed")
    # names and codes: 城关街道 holds the centre; rural towns numbered north to south
    order_j = sorted(range(_N_JIEDAO),
                     key=lambda t: float(np.linalg.norm(points[sources[t]] - centre)))
    jnames = ["城关街道", *rng.choice(_JIEDAO_NAMES, _N_JIEDAO - 1, replace=False).tolist()]
    dist_c = [float(np.linalg.norm(points[sources[t]] - centre)) for t in range(_N_JIEDAO, n_towns)]
    far_half = np.argsort(dist_c)[n_rural // 2:]
    xiang = {int(t) + _N_JIEDAO for t in rng.choice(far_half, _N_XIANG, replace=False)}
    zh = iter(rng.choice(_ZHEN_NAMES, _N_ZHEN, replace=False).tolist())
    xi = iter(rng.choice(_XIANG_NAMES, _N_XIANG, replace=False).tolist())
    rural_order = sorted(range(_N_JIEDAO, n_towns),
                         key=lambda t: (-round(points[sources[t]][1], -2), points[sources[t]][0]))
    names, types, codes = [""] * n_towns, [""] * n_towns, [""] * n_towns
    for k, t in enumerate(order_j):
        names[t], types[t], codes[t] = jnames[k], "街道", f"{COUNTY_CODE}{k + 1:03d}"
    nz = nx_ = 0
    for t in rural_order:
        if t in xiang:
            names[t], types[t], codes[t] = next(xi), "乡", f"{COUNTY_CODE}{200 + nx_:03d}"
            nx_ += 1
        else:
            names[t], types[t], codes[t] = next(zh), "镇", f"{COUNTY_CODE}{100 + nz:03d}"
            nz += 1
    return _Frame(outline, centre, grid_nodes, grid_ij, points, n_shequ, cells, label, sources,
                  polys, types, names, codes)


def _village_table(rng: np.random.Generator, f: _Frame) -> pd.DataFrame:
    """Names, codes, urban-rural codes and school-age children of every demand point."""
    n = len(f.points)
    ur = np.full(n, "220", dtype=object)
    seat_set = set(f.seats)
    for i in range(n):
        t = f.label[i]
        if f.town_types[t] == "街道":
            ur[i] = "111" if i < f.n_shequ else "112"
        elif i in seat_set:
            ur[i] = "121"
        elif np.linalg.norm(f.points[i] - f.points[f.seats[t]]) < 2200:
            ur[i] = "122"
    # children have moved to the county seat and the town seats (城镇挤、乡村弱): the urban 社区
    # and the town seat hold most of them, the villages few (the villages that keep a school are
    # enlarged by the school builder, schoolplan.demo._schools)
    ranges = {"111": (450, 900), "112": (5, 18), "121": (800, 1400), "122": (5, 16)}
    primary = np.empty(n, dtype=int)
    for i in range(n):
        if ur[i] in ranges:
            primary[i] = rng.integers(*ranges[ur[i]])
        else:
            primary[i] = int(np.clip(round(rng.lognormal(math.log(5), 0.5)), 2, 16))
    junior = np.maximum(2, np.round(primary * rng.uniform(0.42, 0.58, n))).astype(int)
    shequ_names = iter(rng.permutation(_SHEQU_NAMES).tolist())
    names = [""] * n
    rows = []
    for t, code in enumerate(f.town_codes):
        members = [int(i) for i in np.flatnonzero(f.label == t)]
        members.sort(key=lambda i: (i != f.seats[t] or f.town_types[t] == "街道", i >= f.n_shequ,
                                    -round(f.points[i][1], -1), f.points[i][0]))
        used = {name[:-1] + "村" for name in f.town_names}  # no village named like a seat
        n_sq = n_vil = 0
        for i in members:
            if i < f.n_shequ:
                names[i] = next(shequ_names) + "社区"
                did = f"{code}{1 + n_sq:03d}"
                n_sq += 1
            else:
                if i == f.seats[t] and f.town_types[t] != "街道":
                    names[i] = f.town_names[t][:-1] + "村"
                else:
                    while True:
                        name = (str(rng.choice(_PREFIXES)) + str(rng.choice(_SURNAMES))
                                + str(rng.choice(_SUFFIXES)) + "村")
                        if name not in used:
                            break
                    names[i] = name
                used.add(names[i])
                did = f"{code}{201 + n_vil:03d}"
                n_vil += 1
            rows.append({"demand_id": did, "name": names[i], "town_code": code,
                         "town": f.town_names[t], "pupils_primary": int(primary[i]),
                         "pupils_junior": int(junior[i]), "ur_code": str(ur[i]), "synthetic": True,
                         "_i": i})
    return pd.DataFrame(rows).sort_values("demand_id", kind="stable").reset_index(drop=True)


def _build_roads(rng: np.random.Generator, f: _Frame, vil: pd.DataFrame
                 ) -> tuple[list[np.ndarray], list[tuple[int, int, dict[str, str]]]]:
    """Road nodes (metric) and undirected edges with attributes, before subdivision."""
    vil_pts = [f.points[i] for i in vil["_i"] if i >= f.n_shequ]
    vil_idx = {int(i): k for k, i in enumerate(i for i in vil["_i"] if i >= f.n_shequ)}
    n_v = len(vil_pts)
    xy = np.vstack([np.array(vil_pts), f.grid_nodes])
    ij_index = {ij: n_v + k for k, ij in enumerate(f.grid_ij)}
    lattice: dict[tuple[int, int], dict[str, str]] = {}
    rows_names = rng.permutation(_STREETS_EW).tolist()
    cols_names = rng.permutation(_STREETS_NS).tolist()
    for (i, j), u in ij_index.items():
        for di, dj in ((1, 0), (0, 1)):
            v = ij_index.get((i + di, j + dj))
            if v is not None:
                along = j if di else i  # the index fixed along this street
                main = along % 3 == 0
                name = (rows_names if di else cols_names)[(along + 9) % len(rows_names)]
                lattice[(u, v)] = {"highway": "tertiary" if main else "residential", "name": name}
    length = {}
    cand = []
    outline_ok = f.outline.buffer(150)
    shapely.prepare(outline_ok)
    for u, v in _delaunay_edges(xy):
        if u >= n_v and v >= n_v:
            continue
        if not outline_ok.contains(LineString([xy[u], xy[v]])):
            continue
        cand.append((u, v))
    tree = cKDTree(xy)
    rng_edges, gabriel = [], []
    for u, v in cand:
        d = float(np.linalg.norm(xy[u] - xy[v]))
        length[(u, v)] = d
        near = tree.query_ball_point((xy[u] + xy[v]) / 2, d * 0.5 + 1e-6)
        if all(w in (u, v) or np.linalg.norm(xy[w] - (xy[u] + xy[v]) / 2) >= d / 2 for w in near):
            gabriel.append((u, v))
        lune = tree.query_ball_point(xy[u], d)
        if all(w in (u, v) or max(np.linalg.norm(xy[w] - xy[u]), np.linalg.norm(xy[w] - xy[v])) >= d
               for w in lune):
            rng_edges.append((u, v))
    keep = set(rng_edges) | {e for e in gabriel if rng.uniform() < 0.45}
    edges: dict[tuple[int, int], dict[str, str]] = {
        e: {"highway": "unclassified"} for e in sorted(keep)}
    edges.update(lattice)
    # join any components left apart (Kruskal over all candidate edges)
    parent = list(range(len(xy)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for u, v in edges:
        parent[find(u)] = find(v)
    for u, v in sorted(cand, key=lambda e: length[e]):
        if find(u) != find(v):
            parent[find(u)] = find(v)
            edges[(u, v)] = {"highway": "unclassified"}
    # major roads routed over all candidate edges, preferring roads already built
    graph = nx.Graph()
    for (u, v) in sorted(set(cand) | set(lattice)):
        graph.add_edge(u, v, base=float(np.linalg.norm(xy[u] - xy[v])))

    def route(a: int, b: int, highway: str, ref: str, name: str) -> None:
        for u, v, data in graph.edges(data=True):
            e = edges.get((min(u, v), max(u, v)))
            factor = 1.25 if e is None else (0.75 if _HIGHWAY_RANK[e["highway"]] >= 2 else 1.0)
            data["w"] = data["base"] * factor
        path = nx.shortest_path(graph, a, b, weight="w")
        for u, v in itertools.pairwise(path):
            key = (min(u, v), max(u, v))
            old = edges.get(key)
            if old is None or (old.get("ref") is None and \
                    _HIGHWAY_RANK[old["highway"]] <= _HIGHWAY_RANK[highway]):
                edges[key] = {"highway": highway, "ref": ref, "name": name}

    hub = n_v + int(np.argmin(np.linalg.norm(f.grid_nodes - f.centre, axis=1)))
    border = [k for k in range(n_v) if f.outline.boundary.distance(Point(xy[k])) < 2000]
    for ref, angle in (("S316", rng.uniform(-0.3, 0.3)),
                       ("S254", np.pi / 2 + rng.uniform(-0.3, 0.3))):
        direction = np.array([math.cos(angle), math.sin(angle)])
        proj = [(float((xy[b] - f.centre) @ direction), b) for b in border]
        route(min(proj)[1], hub, "primary", ref, f"{ref}省道")
        route(hub, max(proj)[1], "primary", ref, f"{ref}省道")
    rural = [t for t in range(len(f.town_codes)) if f.town_types[t] != "街道"]
    rural.sort(key=lambda t: f.town_codes[t])
    seat_node = {t: vil_idx[f.seats[t]] for t in rural}
    for k, t in enumerate(rural):
        ref = f"X{21 + k:03d}"
        route(seat_node[t], hub, "secondary", ref, f"县道{ref}")
    seats_xy = np.array([xy[seat_node[t]] for t in rural])
    k = 0
    for a, b in _delaunay_edges(seats_xy):
        mid, d = (seats_xy[a] + seats_xy[b]) / 2, float(np.linalg.norm(seats_xy[a] - seats_xy[b]))
        others = [c for c in range(len(rural)) if c not in (a, b)]
        if d < 16000 and all(np.linalg.norm(seats_xy[c] - mid) > d / 2 for c in others):
            ref = f"Y{101 + k}"
            route(seat_node[rural[a]], seat_node[rural[b]], "tertiary", ref, f"乡道{ref}")
            k += 1
    return list(xy), sorted((u, v, a) for (u, v), a in edges.items())


def _subdivide(rng: np.random.Generator, xy: list[np.ndarray],
               edges: list[tuple[int, int, dict[str, str]]], to_wgs: Transformer,
               n_lattice_from: int) -> nx.MultiDiGraph:
    """Bend and subdivide every edge every ~270 m; return the osmnx-style directed graph."""
    pts = list(xy)
    segments: list[tuple[int, int, dict[str, str]]] = []
    for u, v, attrs in edges:
        p, q = xy[u], xy[v]
        d = float(np.linalg.norm(q - p))
        n = max(1, round(d / _SEGMENT_M))
        urban = u >= n_lattice_from and v >= n_lattice_from
        bend = {"unclassified": 0.035, "tertiary": 0.02}.get(attrs["highway"], 0.012)
        scale = 0.0 if urban else bend
        a1, a2 = rng.normal(0, scale * d), rng.normal(0, scale * d / 2)
        normal = np.array([-(q - p)[1], (q - p)[0]]) / d
        chain = [u]
        for s in range(1, n):
            t = s / n
            offset = a1 * math.sin(math.pi * t) + a2 * math.sin(2 * math.pi * t)
            pts.append(p + t * (q - p) + normal * offset)
            chain.append(len(pts) - 1)
        chain.append(v)
        segments.extend((a, b, attrs) for a, b in itertools.pairwise(chain))
    arr = np.array(pts)
    lon, lat = to_wgs.transform(arr[:, 0], arr[:, 1])
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    g = nx.MultiDiGraph(crs="epsg:4326", created_with="schoolplan.demo", synthetic="True",
                        note="SYNTHETIC demo road network of 示范县（合成）; not real roads")
    for k in range(len(pts)):
        g.add_node(k + 1, y=float(lat[k]), x=float(lon[k]))
    seg_a = np.array([s[0] for s in segments])
    seg_b = np.array([s[1] for s in segments])
    lengths = np.round(_great_circle_m(lat[seg_a], lon[seg_a], lat[seg_b], lon[seg_b]), 3)
    for (a, b, attrs), length in zip(segments, lengths, strict=True):
        data = {"highway": attrs["highway"], "oneway": False, "length": float(length)}
        for key in ("ref", "name"):
            if key in attrs:
                data[key] = attrs[key]
        g.add_edge(a + 1, b + 1, key=0, reversed=False, **data)
        g.add_edge(b + 1, a + 1, key=0, reversed=True, **data)
    return g


def _great_circle_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                    lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres, the formula of ``osmnx.distance.great_circle``."""
    y1, y2, x1, x2 = np.deg2rad(lat1), np.deg2rad(lat2), np.deg2rad(lon1), np.deg2rad(lon2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * 6_371_009

"""The reference graph of edge snapping (issue 16, item 13), shared by travel tests."""

from __future__ import annotations

import itertools

import networkx as nx


def split_graph(g, net, frames):
    """The reference the travel model must equal: a copy of ``g`` (undirected, ``length``) with
    every snapped point's edge split at its ``t`` into a chain of road points, and each point
    joined to its road point by its snap leg. Nodes ``(name, position)`` are the points."""
    out = nx.Graph(g)
    on_edge: dict = {}
    for name, fr in frames.items():
        for i in range(len(fr)):
            r = fr.iloc[i]
            a, b = int(net.node_id[int(r["node_a"])]), int(net.node_id[int(r["node_b"])])
            if a == b:
                out.add_edge((name, i), a, length=float(r["snap_distance_m"]))
                continue
            on_edge.setdefault((a, b), []).append((float(r["t"]), (name, i),
                                                   float(r["snap_distance_m"])))
    for (a, b), pts in on_edge.items():
        length = g.edges[a, b]["length"]
        out.remove_edge(a, b)
        chain = [(0.0, a)] + [(t, ("road", p)) for t, p, _ in sorted(pts)] + [(1.0, b)]
        for (t0, n0), (t1, n1) in itertools.pairwise(chain):
            out.add_edge(n0, n1, length=(t1 - t0) * length)
        for _, p, leg in pts:
            out.add_edge(p, ("road", p), length=leg)
    return out

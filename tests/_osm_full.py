"""Test helper: write every way of an OSM extract (all tags, buildings too) as OSM XML, split
where nodes are missing from the extract, for osmnx.graph_from_xml."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr


def write_full_xml(pbf, out):
    import osmium
    nodes, ways = {}, []
    for o in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
        if o.is_node():
            nodes[o.id] = (o.location.lon, o.location.lat)
        else:
            ways.append((o.id, [n.ref for n in o.nodes], {t.k: t.v for t in o.tags}))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    pieces = []
    for wid, refs, tags in ways:
        cur = []
        for r in [*refs, None]:
            if r is not None and r in nodes:
                cur.append(r)
            else:
                if len(cur) > 1:
                    pieces.append((wid, cur, tags))
                cur = []
    used = sorted({n for _, p, _ in pieces for n in p})
    for n in used:
        lon, lat = nodes[n]
        lines.append(f'<node id="{n}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for i, (_wid, piece, tags) in enumerate(pieces, start=1):
        nds = "".join(f'<nd ref="{r}"/>' for r in piece)
        tg = "".join(f'<tag k={quoteattr(k)} v={quoteattr(v)}/>' for k, v in tags.items())
        lines.append(f'<way id="{i}">{nds}{tg}</way>')
    lines.append("</osm>")
    out.write_text("\n".join(lines), encoding="utf-8")

"""Private: the light building blocks of the overview map (shared by its layers).

* :class:`PointLayer`: many circle markers (or badges) from one compact JSON array, the styles
  shared (not one JavaScript object per marker); tooltips, permanent labels and popups are built
  in the browser with ``textContent``, so a name from a ledger is always text, never markup;
* :class:`LabelLayer`: permanent labels (town names) of another layer, shown from a zoom level;
* :func:`add_furniture`: the metric scale bar, the plain attribution, the print layout
  (A4 landscape: controls hidden, the legend beside the map) and the shared script.

Every array handed to the page goes through :func:`~schoolplan.outputs.escape.js_literal`.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Figure, Template

from schoolplan.outputs.escape import Markup, html_text, js_literal

__all__ = ["LabelLayer", "PointLayer", "add_furniture"]

# One script for the page (in its head, before the layers use it).
_SCRIPT = r"""<script>
(function () {
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function popup(labels, p) {  // p = [id, name, values, flags]
    var div = el('div', 'school-popup');
    div.setAttribute('data-school-id', p[0]);
    div.appendChild(el('b', '', p[1]));
    div.appendChild(document.createTextNode(' '));
    div.appendChild(el('small', '', '(' + p[0] + ')'));
    var t = el('table');
    div.appendChild(t);
    p[2].forEach(function (v, i) {
      var r = t.insertRow();
      r.appendChild(el('th', '', labels[i]));
      r.insertCell().textContent = String(v);
    });
    p[3].forEach(function (f) { div.appendChild(el('div', 'sp-flag', '\u2691 ' + f)); });
    return div;
  }
  // labels: [[lat, lon, text, offset px], ...] shown while `owner` is on the map and zoom >= minZoom;
  // markers with a div icon of no set size: the browser never has to measure a label (a Leaflet
  // tooltip measures itself, one forced layout per label)
  function labels(map, owner, rows, minZoom, cls) {
    var group = L.layerGroup();
    rows.forEach(function (r) {
      var span = el('span', r[3] ? 'sp-right' : 'sp-centre', r[2]);
      if (r[3]) span.style.left = r[3] + 'px';
      group.addLayer(L.marker([r[0], r[1]], {icon: L.divIcon({className: cls, html: span, iconSize: null}),
                                             interactive: false, keyboard: false}));
    });
    function sync() {
      var on = map.hasLayer(owner) && map.getZoom() >= minZoom;
      if (on && !map.hasLayer(group)) map.addLayer(group);
      if (!on && map.hasLayer(group)) map.removeLayer(group);
    }
    map.on('zoomend', sync);
    owner.on('add remove', sync);
    map.whenReady(sync);
    return group;
  }
  window.schoolplanLabels = labels;
  // rows: [lat, lon, style, radius, tooltip, popup or 0, label or null]
  window.schoolplanPoints = function (map, rows, styles, o) {
    var group = L.featureGroup(), named = [];
    var icons = styles.map(function (s) {
      return s.badge ? L.divIcon({className: 'sp-badge sp-badge-' + s.badge, html: '!',
                                  iconSize: [12, 12], iconAnchor: s.anchor}) : null;
    });
    function build() {
      rows.forEach(function (r) {
        var m = icons[r[2]] ? L.marker([r[0], r[1]], {icon: icons[r[2]], keyboard: false})
                            : L.circleMarker([r[0], r[1]], L.extend({radius: r[3]}, styles[r[2]]));
        if (r[4] !== null) m.bindTooltip(el('div', 'sp-tip', r[4]), {sticky: true});
        if (r[5]) { var p = r[5]; m.bindPopup(function () { return popup(o.labels, p); }, o.popup); }
        group.addLayer(m);
      });
    }
    rows.forEach(function (r) { if (r[6] !== null) named.push([r[0], r[1], r[6], r[3] + 2]); });
    // a layer hidden when the map opens is built when first switched on: it costs nothing before
    if (o.lazy) group.once('add', build); else build();
    if (named.length && o.labelZoom !== null) labels(map, group, named, o.labelZoom, 'sp-label');
    return group;
  };
  window.schoolplanPrint = function (map, bounds, padding) {
    var printing = false;
    // at prefecture zoom (below 10) the town names get smaller, so that 100 towns stay legible
    function far() { map.getContainer().classList.toggle('sp-far', map.getZoom() < 10); }
    map.on('zoomend', far);
    map.whenReady(far);
    function fit(print) {
      if (print === printing) return;
      printing = print;
      document.body.classList.toggle('sp-printing', print);
      // a zoom still animating (the opening fit) would swallow the new view: end it first
      if (map._animatingZoom) map._onZoomTransitionEnd();
      map.invalidateSize({animate: false, pan: false});
      // on paper the county fills the map: a fractional zoom (no tiles to match)
      var snap = map.options.zoomSnap;
      if (print) map.options.zoomSnap = 0.1;
      map.fitBounds(bounds, print ? {animate: false} : L.extend({animate: false}, padding));
      map.options.zoomSnap = snap;
    }
    window.addEventListener('beforeprint', function () { fit(true); });
    window.addEventListener('afterprint', function () { fit(false); });
    if (window.matchMedia) {
      var q = window.matchMedia('print');
      if (q.addEventListener) q.addEventListener('change', function (e) { fit(e.matches); });
    }
  };
})();
</script>"""

_FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'

# the print layout, used under @media print and while body has the class sp-printing (set just
# before printing, so that Leaflet measures the printed size of the map and refits it)
_PRINT = """
  @page{size:A4 landscape;margin:8mm}
  html,body{width:281mm;height:192mm;margin:0;padding:0;overflow:hidden}
  .leaflet-control-zoom,.leaflet-control-layers,#schoolplan-title{display:none!important}
  .folium-map{position:absolute!important;left:0!important;top:0!important;width:222mm!important;
    height:192mm!important;border:0.3mm solid #888;box-sizing:border-box}
  #schoolplan-legend{position:absolute!important;left:226mm!important;top:0!important;right:auto!important;
    bottom:auto!important;width:55mm!important;border:none!important;background:#fff!important;padding:0!important}
  .sp-print-only{display:block}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
"""

def _printing(rules: str) -> str:
    """``rules`` for the screen while body has the class ``sp-printing`` (each selector prefixed)."""
    out = []
    for rule in rules.split("}"):
        if "{" not in rule or "@page" in rule:
            continue
        sel, body = rule.split("{", 1)
        sels = ["body.sp-printing" if x.strip() in ("html", "body") else f"body.sp-printing {x.strip()}"
                for x in sel.split(",")]
        out.append(f"{','.join(dict.fromkeys(sels))}{{{body.strip()}}}")
    return "\n".join(out)


_CSS = """<style>
.leaflet-container.leaflet-container{background:#f4f1ea;font-family:FONT}
.sp-label,.sp-town{width:0;height:0;pointer-events:none}
.sp-label span,.sp-town span{position:absolute;white-space:nowrap;color:#222;
  text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff}
.sp-label span{font-size:11px;transform:translateY(-50%)}
.sp-town span{font-size:13px;font-weight:bold;color:#333;letter-spacing:1px;transform:translate(-50%,-50%)}
.sp-far .sp-town span{font-size:10px;letter-spacing:0}
.sp-badge{border-radius:2px;color:#fff;font:bold 10px/12px sans-serif;text-align:center;border:1px solid #fff;
  box-shadow:0 0 1px #000}
.sp-badge-red{background:#c0392b}.sp-badge-yellow{background:#e6a800;color:#000}
.school-popup{font-family:FONT;min-width:180px}
.school-popup th{text-align:left;padding-right:6px}
.school-popup .sp-flag{color:#b00}
.leaflet-control-attribution.leaflet-control-attribution{font-family:FONT;font-size:11px}
.sp-print-only{display:none}
.sp-tip{white-space:pre-line}
@media print{PRINT}
PRINTING
</style>""".replace("FONT", _FONT).replace("PRINT}", _PRINT + "}").replace("PRINTING", _printing(_PRINT))


class PointLayer(folium.map.Layer):
    """A layer of many points drawn from one array.

    ``rows`` are ``[lat, lon, style index, radius, tooltip text or None, popup or 0, label or
    None]`` with ``popup = [id, name, values, flags]`` (values shown against ``popup_labels``);
    ``styles`` are Leaflet path options, or ``{"badge": "red" | "yellow", "anchor": [x, y]}`` for a
    small square badge. Labels appear from ``label_zoom`` (None: never). A layer not shown when
    the map opens gets its markers when it is first switched on.
    """

    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = schoolplanPoints({{ this._parent.get_name() }}, {{ this.rows_js }},
    {{ this.styles_js }}, {{ this.options_js }});
{% endmacro %}""")

    def __init__(self, name: str, rows: list[list[Any]], styles: list[dict[str, Any]], *,
                 show: bool = True, popup_labels: list[str] | None = None,
                 label_zoom: int | None = None, popup_options: dict[str, Any] | None = None):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.count = len(rows)
        self.rows_js = js_literal(rows)
        self.styles_js = js_literal(styles)
        self.options_js = js_literal({"labels": popup_labels or [], "labelZoom": label_zoom,
                                      "popup": popup_options or {}, "lazy": not show})


class LabelLayer(folium.MacroElement):
    """Permanent labels ``[[lat, lon, text, 0], ...]`` of ``owner`` (a layer of the map), shown
    while ``owner`` is and the zoom is at least ``min_zoom``."""

    _template = Template("""{% macro script(this, kwargs) %}
schoolplanLabels({{ this._parent.get_name() }}, {{ this.owner.get_name() }}, {{ this.rows_js }},
    {{ this.min_zoom }}, {{ this.cls_js }});
{% endmacro %}""")

    def __init__(self, owner: folium.map.Layer, rows: list[list[Any]], *, min_zoom: int = 0,
                 cls: str = "sp-town"):
        super().__init__()
        self._name = "LabelLayer"
        self.owner = owner
        self.rows_js = js_literal(rows)
        self.min_zoom = int(min_zoom)
        self.cls_js = js_literal(cls)


class _Furniture(folium.MacroElement):
    _template = Template("""{% macro script(this, kwargs) %}
L.control.scale({metric: true, imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
{{ this._parent.get_name() }}.attributionControl.setPrefix(false);
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution_js }});
schoolplanPrint({{ this._parent.get_name() }}, {{ this.bounds_js }}, {{ this.padding_js }});
{% endmacro %}""")

    def __init__(self, attribution: str, bounds, padding: dict[str, Any]):
        super().__init__()
        self._name = "Furniture"
        self.attribution_js = js_literal(html_text(attribution))
        self.bounds_js = js_literal(bounds)
        self.padding_js = js_literal(padding)


def add_furniture(m: folium.Map, *, attribution: str, bounds, padding: dict[str, Any]) -> None:
    """The page's shared script and style, a metric-only scale bar, ``attribution`` as plain text
    instead of Leaflet's flag and link, and the print layout (A4 landscape, the map fitted to
    ``bounds`` when printed, refitted with ``padding`` after)."""
    fig = m.get_root()
    assert isinstance(fig, Figure)
    fig.header.add_child(Markup(_CSS), name="schoolplan_css")
    fig.header.add_child(Markup(_SCRIPT), name="schoolplan_js")
    m.add_child(_Furniture(attribution, bounds, padding))

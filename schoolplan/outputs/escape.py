"""The one path by which data reaches a page, a script or a spreadsheet cell.

Names in a ledger are typed by anyone; a page a planner e-mails must not run them. Every text
that comes from data goes through one of these:

* :func:`html_text` for markup (HTML-escaped, quotes included);
* :func:`js_literal` for JavaScript: JSON with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, so
  the literal can neither close its ``<script>`` nor break the script; never a template literal;
* :class:`Tooltip`, :class:`Popup` and :class:`GeoJsonTooltip` replace folium's own, which put
  their text into JavaScript template literals (where ``${...}`` runs) and feature properties into
  ``innerHTML``; these hand Leaflet a JSON string of escaped markup, or set ``textContent``;
* :func:`csv_cell` / :func:`csv_safe` for CSV cells (formula injection, OWASP);
* :func:`add_csp` puts a Content-Security-Policy in every page: no network at all, and only the
  page's own scripts (by their sha256) may run, so even a missed injection neither runs nor sends
  anything anywhere;
* :func:`stable_ids` names folium's elements in document order instead of at random, so the same
  map gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import folium
import pandas as pd
from branca.element import Element
from jinja2 import Template

__all__ = [
    "GeoJsonTooltip",
    "Markup",
    "Popup",
    "Tooltip",
    "add_csp",
    "csp_policy",
    "csv_cell",
    "csv_safe",
    "html_text",
    "jinja_safe_json",
    "js_literal",
    "stable_ids",
]

_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
               "\u2029": "\\u2029"}
_JS_UNSAFE = re.compile("[<>&\u2028\u2029]")
# branca compiles the script folium renders once more as a Jinja template: a ``{{``, ``{%`` or
# ``{#`` from data would run there (in Python). Structural JSON never has them (an object opens
# with ``{"`` or ``{}``), so they are inside strings, where ``\u007b`` is the same text.
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def _no_jinja(text: str) -> str:
    return _JINJA_OPEN.sub(lambda _: "\\u007b", text)


def js_literal(value: Any) -> str:
    """``value`` as a JavaScript literal safe anywhere inside ``<script>``: JSON with ``<``,
    ``>``, ``&``, U+2028 and U+2029 as ``\\uXXXX`` escapes (so no ``</script>`` or ``<!--``),
    and the ``{`` of ``{{``, ``{%``, ``{#`` too (folium's pages pass through Jinja twice)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return _no_jinja(_JS_UNSAFE.sub(lambda m: _JS_ESCAPES[m.group(0)], text))


def _template_safe_dumps(obj: Any, **kwargs: Any) -> str:
    return _no_jinja(json.dumps(obj, **kwargs))


@contextmanager
def jinja_safe_json() -> Iterator[None]:
    """While rendering a folium map, make Jinja's ``tojson`` (folium's GeoJSON data, layer
    names, feature ids) escape ``{{``, ``{%``, ``{#`` inside strings as :func:`js_literal` does,
    so that data cannot become a template when branca compiles the rendered script again."""
    envs = {id(e): e for e in (folium.GeoJson._template.environment, Template("").environment)}
    saved = {key: env.policies.get("json.dumps_function") for key, env in envs.items()}
    for env in envs.values():
        env.policies["json.dumps_function"] = _template_safe_dumps
    try:
        yield
    finally:
        for key, env in envs.items():
            env.policies["json.dumps_function"] = saved[key]


def html_text(value: Any) -> str:
    """``value`` as HTML text or attribute value: ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- folium elements


class Markup(Element):
    """Finished HTML (built with :func:`html_text`) placed in a page as it is.

    ``folium.Element(text)`` compiles ``text`` as a Jinja template: a name containing ``{{ ... }}``
    would be evaluated in Python while the page is rendered. This element never is a template.
    """

    _template = Template("{{ this.markup }}")

    def __init__(self, markup: str):
        super().__init__()
        self._name = "Markup"
        self.markup = str(markup)


class Tooltip(folium.Tooltip):
    """A tooltip whose content is ``markup`` (HTML built with :func:`html_text`), handed to
    Leaflet as a JSON string. Use :meth:`plain` for a plain string."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindTooltip({{ this.content_js }}, "
        "{{ this.options_js }});"
        "{% endmacro %}")

    def __init__(self, markup: str, *, sticky: bool = True, **options: Any):
        super().__init__("", sticky=sticky, **options)
        self.markup = str(markup)
        self.content_js = js_literal(f"<div>{self.markup}</div>")
        self.options_js = js_literal(self.options)

    @classmethod
    def plain(cls, value: Any, **options: Any) -> Tooltip:
        """A tooltip showing ``value`` as plain text."""
        return cls(html_text(value), **options)


class Popup(folium.Popup):
    """A popup whose content is ``markup`` (HTML built with :func:`html_text`), handed to
    Leaflet as a JSON string (folium's own puts it into a template literal)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.popup({{ this.options_js }});"
        "{{ this.get_name() }}.setContent({{ this.content_js }});"
        "{{ this._parent.get_name() }}.bindPopup({{ this.get_name() }});"
        "{% endmacro %}")

    def __init__(self, markup: str, **options: Any):
        super().__init__(None, **options)
        self.markup = str(markup)
        self.content_js = js_literal(self.markup)
        self.options_js = js_literal(self.options)

    def render(self, **kwargs: Any) -> str:
        """Render as a plain MacroElement (folium's Popup renders its ``html`` children)."""
        folium.MacroElement.render(self, **kwargs)
        return ""


class GeoJsonTooltip(folium.GeoJsonTooltip):
    """folium's GeoJSON tooltip (a table of feature properties), but the cells are filled with
    ``textContent``: a property is always shown as text, never parsed as HTML."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindTooltip(function (layer) {"
        " var fields = {{ this.fields_js }}, aliases = {{ this.aliases_js }};"
        " var div = L.DomUtil.create('div'), table = L.DomUtil.create('table', '', div);"
        " fields.forEach(function (field, i) {"
        "  var row = table.insertRow(), th = document.createElement('th'), v = layer.feature.properties[field];"
        "  th.textContent = aliases[i]; row.appendChild(th);"
        "  row.insertCell().textContent = v === null || v === undefined ? ''"
        "   : (typeof v === 'object' ? JSON.stringify(v) : String(v));"
        " });"
        " return div;"
        "}, {{ this.options_js }});"
        "{% endmacro %}")

    def __init__(self, fields: list[str], aliases: list[str] | None = None, **options: Any):
        super().__init__(fields, aliases=aliases, **options)
        self.fields_js = js_literal(list(self.fields))
        self.aliases_js = js_literal(list(self.aliases))
        self.options_js = js_literal(self.tooltip_options)


def _element_ids(root: Element) -> set[str]:
    seen: set[int] = set()
    ids: set[str] = set()
    stack: list[Element] = [root]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        ids.add(el._id)
        for key, value in vars(el).items():
            if key == "_parent":
                continue
            values = value.values() if isinstance(value, dict) else (value,)
            stack.extend(v for v in values if isinstance(v, Element))
    return ids


_HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def stable_ids(page: str, root: Element) -> str:
    """``page`` (rendered from ``root``) with folium's random element ids replaced by numbers in
    order of appearance (``map_00000001``, ...): the same map gives the same bytes.

    Only the ids of elements of ``root``'s tree are replaced, so data is never changed; the
    folium objects are not touched (a map shown in a notebook and then saved stays whole).
    """
    ids = _element_ids(root)
    numbers: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        found = match.group(0)
        if found not in ids:
            return found
        return numbers.setdefault(found, f"{len(numbers) + 1:08x}")

    return _HEX_ID.sub(number, page)


# --------------------------------------------------------------------------- CSP

_SCRIPT_BODY = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
_HEAD = re.compile(r"<head\b[^>]*>", re.I)


def csp_policy(scripts: Iterable[str] = (), *, images: Iterable[str] = ()) -> str:
    """A Content-Security-Policy that allows no network access: nothing but the page itself,
    ``data:`` images and fonts (the inlined assets), inline styles, the ``scripts`` given (by
    their sha256) and images from the ``images`` sources (a tile server asked for)."""
    # the browser hashes the script as parsed: line ends normalised to \n (HTML input stream)
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(
        s.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")).digest()).decode("ascii") + "'"
        for s in scripts})
    img = " ".join(["data:", *dict.fromkeys(images)])
    parts = ["default-src 'none'", f"img-src {img}", "font-src data:", "style-src 'unsafe-inline'",
             "base-uri 'none'", "form-action 'none'"]
    if hashes:
        parts.insert(1, "script-src " + " ".join(hashes))
    return "; ".join(parts)


def add_csp(page: str, *, images: Iterable[str] = ()) -> str:
    """``page`` with a ``<meta http-equiv="Content-Security-Policy">`` first in its head that
    allows exactly the page's own inline scripts (see :func:`csp_policy`)."""
    scripts = [m.group(1) for m in _SCRIPT_BODY.finditer(page)]
    meta = (f'<meta http-equiv="Content-Security-Policy" '
            f'content="{html_text(csp_policy(scripts, images=images))}">')
    head = _HEAD.search(page)
    if head is None:
        raise ValueError("the page has no <head>: cannot add its Content-Security-Policy")
    return page[: head.end()] + "\n" + meta + page[head.end():]


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A CSV cell Excel will not run: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a leading ``'`` (OWASP, CSV injection). Numbers, and text that is only
    a number (``-5``), are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell (and text column label) passed through
    :func:`csv_cell`; numeric columns are untouched."""
    out = df.copy()
    for col in out.columns:
        cells = out[col]
        if not (cells.dtype == object or pd.api.types.is_string_dtype(cells)):
            continue
        try:  # each distinct text judged once (a prefecture's CSVs hold 1.9 million cells)
            distinct = pd.unique(cells)
        except TypeError:  # unhashable cells (lists): one by one
            out[col] = cells.map(csv_cell)
            continue
        fix = {v: csv_cell(v) for v in distinct if isinstance(v, str) and csv_cell(v) is not v}
        if fix:
            out[col] = cells.map(lambda v, fix=fix: fix.get(v, v) if isinstance(v, str) else v)
    out.columns = [csv_cell(c) for c in out.columns]
    return out

"""Self-contained folium maps: every CDN script, stylesheet, font and image inlined.

Stock folium HTML loads Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers, d3 (for branca
colormaps) and leaflet.markercluster from CDNs, so on an intranet PC without a network the page is
blank. This module replaces each known CDN reference with the vendored copy in
``schoolplan/outputs/_assets`` (see its ``README.md`` for packages, versions, checksums and licences):

* ``<script src=CDN></script>`` becomes ``<script>…code…</script>``;
* ``<link rel="stylesheet" href=CDN>`` becomes ``<style>…css…</style>``, with every CSS ``url()``
  (fonts, marker sprites) turned into a ``data:`` URI;
* Leaflet's default marker icon (normally found through the stylesheet's folder) points at
  ``data:`` URIs.

Each CDN URL is mapped **explicitly** in ``_CDN_ASSETS``. Any other ``http(s)://`` or
protocol-relative resource left in the page (a script, stylesheet, image, CSS ``url()``, tile
layer or other bare URL string in the page's own code) raises :class:`OfflineAssetError` naming
every such URL, so a new plugin or a folium upgrade can never silently bring a CDN back. Plain
hyperlinks (``<a href="https://…">``, e.g. attribution text) are not resources and stay.
"""

from __future__ import annotations

import base64
import functools
import html as html_lib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from schoolplan.errors import SchoolplanError
from schoolplan.outputs.escape import add_csp, jinja_safe_json, stable_ids

__all__ = [
    "AssetsMissingError",
    "OfflineAssetError",
    "inline_html",
    "offline_repr_html",
    "save_offline",
]

_ASSETS_DIR = Path(__file__).resolve().parent / "_assets"

#: Every CDN URL folium 0.20 / branca 0.8 emit for the features schoolplan uses, mapped to the
#: vendored file (relative to ``schoolplan/outputs/_assets``). Versions must match the URL exactly.
_CDN_ASSETS: dict[str, str] = {
    # Leaflet (folium.Map)
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    # jQuery (folium.Map; popups)
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    # Bootstrap 5 (folium.Map)
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    # Bootstrap 3 glyphicons (awesome-markers' default "glyphicon" prefix)
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "bootstrap3-glyphicons/bootstrap-glyphicons.css"
    ),
    # Font Awesome 6 (folium.Icon(prefix="fa"))
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free/css/all.min.css"
    ),
    # Leaflet.awesome-markers (folium.Icon)
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.js": "leaflet-awesome-markers/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.css": "leaflet-awesome-markers/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": "folium/leaflet.awesome.rotate.min.css",
    # d3 3.5.5 (branca LinearColormap / StepColormap legends)
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3/d3.min.js",
    # leaflet.markercluster (folium.plugins.MarkerCluster)
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
}

#: Leaflet's default marker images, set as ``data:`` URIs right after Leaflet's code.
_LEAFLET_ASSET = "leaflet/leaflet.js"
_DEFAULT_ICON = {
    "iconUrl": "leaflet/images/marker-icon.png",
    "iconRetinaUrl": "leaflet/images/marker-icon-2x.png",
    "shadowUrl": "leaflet/images/marker-shadow.png",
}

_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}

# A remote URL: http(s):// or protocol-relative //host.
_REMOTE = r"(?:https?:)?//[^\s\"'`<>\\)]+"
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>\s*</script\s*>", re.I)
_LINK_TAG = re.compile(r"<link\b([^>]*)>", re.I)
_ATTR = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))")
# Attributes that make a browser fetch something, in raw or JS-escaped (\") HTML.
_RESOURCE_ATTR = re.compile(
    r"\b(src|srcset|poster|data|background|xlink:href)\s*=\s*\\?[\"']?\s*(" + _REMOTE + ")",
    re.I,
)
_HREF_ATTR = re.compile(r"<([a-zA-Z][\w:-]*)\b[^<>]*?\bhref\s*=\s*\\?[\"']?\s*(" + _REMOTE + ")")
_CSS_URL = re.compile(r"url\(\s*\\?[\"']?\s*(" + _REMOTE + ")", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?(" + _REMOTE + ")", re.I)
_BARE_URL = re.compile(r"([\"'`])(" + _REMOTE + r")\1")
_NAMESPACE_PREFIXES = ("http://www.w3.org/", "https://www.w3.org/")
_HYPERLINK_TAGS = {"a", "area", "base"}
# Keys of JSON/JS objects whose URL values a page loads (other keys' URLs are data).
_URL_KEYS = re.compile(r"(?i)url|src|source|tiles|template|endpoint|(?:icon|iconRetina|shadow)Url")
_SOURCE_MAP = re.compile(r"\n?(?://[#@] sourceMappingURL=[^\n]*|/\*[#@] sourceMappingURL=.*?\*/)")
_ASSET_URL = re.compile(r"url\(\s*([\"']?)([^\"')]*)\1\s*\)")


class OfflineAssetError(SchoolplanError, ValueError):
    """A page refers to a remote resource that has no vendored copy.

    ``urls`` lists every such URL, in order of appearance.
    """

    def __init__(self, message: str, urls: Iterable[str] = ()):
        super().__init__(message)
        self.urls = list(urls)


class AssetsMissingError(SchoolplanError, FileNotFoundError):
    """schoolplan's vendored web assets (``schoolplan/outputs/_assets``) are missing: a broken install."""


# --------------------------------------------------------------------------- assets


def _assets_root() -> Path:
    root = _ASSETS_DIR
    if not root.is_dir():
        raise AssetsMissingError(
            f"schoolplan's vendored web assets are missing: {root} does not exist. Offline maps "
            "cannot be written without them. Reinstall schoolplan (pip install --force-reinstall "
            "schoolplan); a source checkout needs the schoolplan/outputs/_assets folder from the repository."
        )
    return root


def _asset_path(relative: str) -> Path:
    root = _assets_root()
    path = root / relative
    if not path.is_file():
        raise AssetsMissingError(
            f"schoolplan's vendored web asset {relative!r} is missing from {root}: the install is "
            "incomplete. Reinstall schoolplan, or rebuild the folder with "
            "`python tools/vendor_assets.py`."
        )
    return path


@functools.lru_cache(maxsize=64)
def _read_asset(path: Path) -> bytes:
    return path.read_bytes()


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise OfflineAssetError(f"no MIME type known for vendored asset {path.name!r}")
    return f"data:{mime};base64," + base64.b64encode(_read_asset(path)).decode("ascii")


@functools.lru_cache(maxsize=32)
def _inline_css(path: Path) -> str:
    """Return a vendored stylesheet with its ``url()`` references as ``data:`` URIs."""
    css = _SOURCE_MAP.sub("", _read_asset(path).decode("utf-8"))
    root = _ASSETS_DIR.resolve()

    def replace(match: re.Match[str]) -> str:
        target = match.group(2).strip()
        if not target or target.startswith(("data:", "#")):
            return match.group(0)
        if re.match(r"(?:[a-z][\w+.-]*:)?//", target, re.I):
            raise OfflineAssetError(
                f"vendored stylesheet {path.name} refers to remote {target}", [target]
            )
        file = (path.parent / target.split("?")[0].split("#")[0]).resolve()
        if root not in file.parents:
            raise OfflineAssetError(f"vendored stylesheet {path.name} refers outside the assets")
        rel = file.relative_to(root).as_posix()
        return f'url("{_data_uri(_asset_path(rel))}")'

    css = _ASSET_URL.sub(replace, css)
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.I)


@functools.lru_cache(maxsize=32)
def _inline_js(path: Path) -> str:
    js = _SOURCE_MAP.sub("", _read_asset(path).decode("utf-8"))
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)


def _leaflet_icon_js() -> str:
    options = ",".join(
        f'{name}:"{_data_uri(_asset_path(rel))}"' for name, rel in _DEFAULT_ICON.items()
    )
    return (
        f'\n(function(){{var d=L.Icon.Default;d.imagePath="";d.mergeOptions({{{options}}});}})();\n'
    )


# --------------------------------------------------------------------------- inlining


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _ATTR.finditer(text)
    }


def _is_remote(url: str) -> bool:
    return bool(re.match(r"(?:https?:)?//", url.strip(), re.I))


def _find_unknown_remote(page: str) -> list[str]:
    """Every remote resource reference left in ``page`` (after known tags were taken out)."""
    found: list[str] = []
    found.extend(m.group(2) for m in _RESOURCE_ATTR.finditer(page))
    found.extend(
        m.group(2) for m in _HREF_ATTR.finditer(page) if m.group(1).lower() not in _HYPERLINK_TAGS
    )
    for pattern in (_CSS_URL, _CSS_IMPORT):
        found.extend(m.group(1) for m in pattern.finditer(page))
    for m in _BARE_URL.finditer(page):
        before = page[max(0, m.start() - 60) : m.start()]
        if before.endswith("\\") or re.search(r"[\w:-]=\\?$", before):
            continue  # an escaped quote inside another string, or an HTML attribute value
        key = re.search(r"[\"']([\w-]*)[\"']\s*:\s*$", before)
        if key and not _URL_KEYS.fullmatch(key.group(1)):
            continue  # a data value ({"website": "https://..."} in GeoJSON properties)
        found.append(m.group(2))
    unique: list[str] = []
    for url in found:
        if url.startswith(_NAMESPACE_PREFIXES) or url in unique:
            continue
        unique.append(url)
    return unique


def _is_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    return bool(allowed) and url.startswith(allowed)


def inline_html(html: str, *, allow_remote: Iterable[str] = (), images: Iterable[str] = ()) -> str:
    """Make a folium page self-contained: inline every known CDN asset.

    Parameters
    ----------
    html : str
        A complete HTML page as rendered by folium/branca (``m.get_root().render()``).
    allow_remote : iterable of str, optional
        URL prefixes that may stay remote on purpose, e.g. an intranet tile server
        (``"http://10.1.2.3/tiles/"``). Empty by default: nothing remote is allowed.

    Returns
    -------
    str
        The same page with every known CDN ``<script src>`` turned into an inline ``<script>``,
        every known CDN stylesheet ``<link>`` into an inline ``<style>`` (CSS ``url()`` as
        ``data:`` URIs) and Leaflet's default marker icon pointed at ``data:`` URIs.

    Raises
    ------
    OfflineAssetError
        If the page refers to any remote resource (script, stylesheet, image, CSS ``url()``,
        tile layer or other bare URL in the page's code) that has no vendored copy and is not
        under an ``allow_remote`` prefix; the message and ``urls`` name every such URL.

    Notes
    -----
    The page gets a Content-Security-Policy (:func:`schoolplan.outputs.escape.add_csp`): no
    network access except images from the ``allow_remote`` servers and the ``images`` CSP sources
    (``"'self'"`` for a tile folder next to the page), and only the page's own scripts run.
        Hyperlinks (``<a href>``) are not resources and are left alone.
    AssetsMissingError
        If schoolplan's vendored assets are missing (a broken install).
    """
    allowed = (allow_remote,) if isinstance(allow_remote, str) else tuple(allow_remote)
    _assets_root()  # fail first, and clearly, on a broken install
    blocks: list[str] = []
    unknown: list[str] = []

    def stash(content: str) -> str:
        blocks.append(content)
        return f"\x00planner-asset-{len(blocks) - 1}\x00"

    def script(match: re.Match[str]) -> str:
        src = _attrs(match.group(1)).get("src", "")
        if not _is_remote(src):
            return match.group(0)
        if src in _CDN_ASSETS and _CDN_ASSETS[src].endswith(".js"):
            rel = _CDN_ASSETS[src]
            code = _inline_js(_asset_path(rel))
            if rel == _LEAFLET_ASSET:
                code += _leaflet_icon_js()
            return stash(f"<script>/* {rel} (vendored by schoolplan) */\n{code}\n</script>")
        if not _is_allowed(src, allowed):
            unknown.append(src)
        return match.group(0)

    def link(match: re.Match[str]) -> str:
        attrs = _attrs(match.group(1))
        href = attrs.get("href", "")
        if not _is_remote(href):
            return match.group(0)
        rel_attr = attrs.get("rel", "").lower().split()
        if href in _CDN_ASSETS and _CDN_ASSETS[href].endswith(".css") and "stylesheet" in rel_attr:
            rel = _CDN_ASSETS[href]
            css = _inline_css(_asset_path(rel))
            return stash(f"<style>/* {rel} (vendored by schoolplan) */\n{css}\n</style>")
        if not _is_allowed(href, allowed):
            unknown.append(href)
        return match.group(0)

    page = _SCRIPT_TAG.sub(script, html)
    page = _LINK_TAG.sub(link, page)
    for url in _find_unknown_remote(page):
        if url not in unknown and not _is_allowed(url, allowed):
            unknown.append(url)
    if unknown:
        listing = "\n".join(f"  - {url}" for url in unknown)
        raise OfflineAssetError(
            f"the map refers to {len(unknown)} remote resource(s) that schoolplan has no offline "
            f"copy of:\n{listing}\nOn a PC without a network these would fail to load. Vendor the "
            "asset (tools/vendor_assets.py and _CDN_ASSETS in schoolplan/outputs/offline.py), remove "
            "the layer or plugin that adds it (for tiles: folium.Map(tiles=None)), or pass "
            "allow_remote=(<url prefix>,) for a server the users can reach, e.g. an intranet "
            "tile server.",
            unknown,
        )
    page = re.sub(r"\x00planner-asset-(\d+)\x00", lambda m: blocks[int(m.group(1))], page)
    return add_csp(page, images=[*_origins(allowed), *images])


def _origins(prefixes: Iterable[str]) -> list[str]:
    """The CSP source (scheme://host[:port]) of each allowed URL prefix."""
    out = []
    for prefix in prefixes:
        match = re.match(r"((?:https?:)?//[^/?#{}]+)", prefix.strip(), re.I)
        if match:
            out.append(match.group(1))
    return out


# --------------------------------------------------------------------------- folium objects


def _render(m: Any) -> str:
    """Render a folium Map, any branca element or a Figure to a full HTML page."""
    from branca.element import Figure

    if not hasattr(m, "get_root"):
        raise TypeError(f"expected a folium Map or a branca Figure/Element, got {type(m).__name__}")
    root = m.get_root()
    if isinstance(root, Figure):
        with jinja_safe_json():
            return stable_ids(root.render(), root)
    # A detached element: render it inside a temporary Figure, as folium's _repr_html_ does.
    parent = root._parent
    try:
        Figure().add_child(root)
        figure = root.get_root()
        with jinja_safe_json():
            return stable_ids(figure.render(), figure)
    finally:
        root._parent = parent


def save_offline(m: Any, path: str | os.PathLike[str], *, allow_remote: Iterable[str] = (),
                 images: Iterable[str] = ()) -> Path:
    """Write a map as one self-contained HTML file that works without any network.

    The file is written atomically: to a temporary file in the same folder, then moved over
    ``path`` with :func:`os.replace`, so a reader never sees a half-written map and a failure
    leaves any previous file untouched.

    Parameters
    ----------
    m : folium.Map or branca.element.Figure
        The map (or any branca element inside a Figure) to save.
    path : str or os.PathLike
        Target HTML file; its folder must exist.
    allow_remote : iterable of str, optional
        URL prefixes that may stay remote (see :func:`inline_html`).

    Returns
    -------
    pathlib.Path
        The absolute path of the written file.

    Raises
    ------
    OfflineAssetError
        If the map needs a remote resource schoolplan has no copy of (see :func:`inline_html`).
    AssetsMissingError
        If schoolplan's vendored assets are missing.
    """
    page = inline_html(_render(m), allow_remote=allow_remote, images=images)
    target = Path(path).absolute()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes 0600; a map is a shared document
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def offline_repr_html(m: Any, *, allow_remote: Iterable[str] = ()) -> str:
    """HTML for a notebook cell that shows the map without any network.

    Like folium's own ``_repr_html_`` (an ``<iframe srcdoc=…>`` holding the page), but with
    the page inlined by :func:`inline_html`, so the cell also works offline and in a notebook
    opened on another PC.

    Parameters
    ----------
    m : folium.Map or branca.element.Figure
        The map to show.
    allow_remote : iterable of str, optional
        URL prefixes that may stay remote (see :func:`inline_html`).

    Returns
    -------
    str
        An HTML fragment: a responsive ``<div>`` holding the ``<iframe>``, sized like folium's
        (the Figure's width and ratio, or its fixed height).
    """
    from branca.element import Figure

    page = html_lib.escape(inline_html(_render(m), allow_remote=allow_remote), quote=True)
    root = m.get_root() if hasattr(m, "get_root") else None
    fig = root if isinstance(root, Figure) else Figure()
    frame_style = "border:none !important;"
    if fig.height is None:
        return (
            f'<div style="width:{fig.width};">'
            f'<div style="position:relative;width:100%;height:0;padding-bottom:{fig.ratio};">'
            f'<iframe srcdoc="{page}" style="position:absolute;width:100%;height:100%;left:0;'
            f'top:0;{frame_style}" allowfullscreen></iframe></div></div>'
        )
    return (
        f'<iframe srcdoc="{page}" width="{fig.width}" height="{fig.height}" '
        f'style="{frame_style}" allowfullscreen></iframe>'
    )

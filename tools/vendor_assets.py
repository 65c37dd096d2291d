"""Rebuild ``schoolplan/outputs/_assets`` from the npm registry (maintainer tool, not part of the package).

Run from the repository root with network access to the npm registry::

    python tools/vendor_assets.py

For every package it runs ``npm pack NAME@VERSION`` in a temporary directory, checks the
tarball's SHA-1 against the pinned value below (so a changed upload is noticed), copies only the
files folium's templates need plus the licence, applies the small, documented edits listed in
``EDITS`` and writes ``README.md``. The versions are the ones folium 0.20's templates reference;
when folium changes a CDN URL, update ``PACKAGES`` here and ``_CDN_ASSETS`` in
``schoolplan/outputs/offline.py`` together.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "schoolplan" / "outputs" / "_assets"

# npm spec, pinned tarball sha1, licence name, target folder, {member in tarball: target path}
PACKAGES: list[dict] = [
    {
        "spec": "leaflet@1.9.3",
        "sha1": "52ec436954964e2d3d39e0d433da4b2500d74414",
        "licence": "BSD-2-Clause",
        "dir": "leaflet",
        "files": {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
            "LICENSE": "LICENSE",
        },
    },
    {
        "spec": "jquery@3.7.1",
        "sha1": "083ef98927c9a6a74d05a6af02806566d16274de",
        "licence": "MIT",
        "dir": "jquery",
        "files": {"dist/jquery.min.js": "jquery.min.js", "LICENSE.txt": "LICENSE.txt"},
    },
    {
        "spec": "bootstrap@5.2.2",
        "sha1": "834e053eed584a65e244d8aa112a6959f56e27a0",
        "licence": "MIT",
        "dir": "bootstrap",
        "files": {
            "dist/css/bootstrap.min.css": "bootstrap.min.css",
            "dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
            "LICENSE": "LICENSE",
        },
    },
    {
        # folium links Bootstrap 3.0.0's glyphicons stylesheet (used by awesome-markers' default
        # "glyphicon" prefix). 3.0.0 is not on npm; 3.4.1's Glyphicons Halflings font is a
        # superset with the same code points. Only the glyphicon rules and the woff2 font are kept.
        "spec": "bootstrap@3.4.1",
        "sha1": "c3a347d419e289ad11f4033e3c4132b87c081d72",
        "licence": "MIT",
        "dir": "bootstrap3-glyphicons",
        "files": {
            "dist/css/bootstrap.css": "bootstrap-glyphicons.css",
            "dist/fonts/glyphicons-halflings-regular.woff2": (
                "fonts/glyphicons-halflings-regular.woff2"
            ),
            "LICENSE": "LICENSE",
        },
    },
    {
        "spec": "@fortawesome/fontawesome-free@6.2.0",
        "sha1": "ba3510825b332816fe7190f28827f8cb33a298b5",
        "licence": "Icons CC-BY-4.0, fonts OFL-1.1, code MIT",
        "dir": "fontawesome-free",
        "files": {
            "css/all.min.css": "css/all.min.css",
            "webfonts/fa-brands-400.woff2": "webfonts/fa-brands-400.woff2",
            "webfonts/fa-regular-400.woff2": "webfonts/fa-regular-400.woff2",
            "webfonts/fa-solid-900.woff2": "webfonts/fa-solid-900.woff2",
            "LICENSE.txt": "LICENSE.txt",
        },
    },
    {
        "spec": "drmonty-leaflet-awesome-markers@2.0.2",
        "sha1": "8d5ba66b74b33e0a695390a7fde7192fe6976dee",
        "licence": "MIT",
        "dir": "leaflet-awesome-markers",
        "files": {
            # not the .min.js: the package's minified file is an older build (2.0.1) without
            # the extraClasses option folium uses for Icon(angle=...)
            "js/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
            "css/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
            "css/images/markers-soft.png": "images/markers-soft.png",
            "css/images/markers-soft@2x.png": "images/markers-soft@2x.png",
            "css/images/markers-shadow.png": "images/markers-shadow.png",
            "css/images/markers-shadow@2x.png": "images/markers-shadow@2x.png",
        },
    },
    {
        "spec": "leaflet.markercluster@1.1.0",
        "sha1": "547c480c46422a3c6199c8b757705f0c3afd2090",
        "licence": "MIT",
        "dir": "leaflet.markercluster",
        "files": {
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
            "MIT-LICENCE.txt": "MIT-LICENCE.txt",
        },
    },
    {
        "spec": "d3@3.5.5",
        "sha1": "be1aba6a84fb6653283b3ebebb7f570e3bda187e",
        "licence": "BSD-3-Clause",
        "dir": "d3",
        "files": {"d3.min.js": "d3.min.js", "LICENSE": "LICENSE"},
    },
]

EDITS = {
    "leaflet-awesome-markers/leaflet.awesome-markers.js": (
        "not an edit, a choice: the unminified file is kept (it is the file the CDN URL names); "
        "the package's leaflet.awesome-markers.min.js is an older 2.0.1 build without the "
        "extraClasses option that folium.Icon(angle=...) needs"
    ),
    "bootstrap3-glyphicons/bootstrap-glyphicons.css": (
        "extracted from Bootstrap 3.4.1 dist/css/bootstrap.css: the Glyphicons Halflings "
        "@font-face (woff2 only) and the .glyphicon* rules; nothing else"
    ),
    "fontawesome-free/css/all.min.css": (
        "woff2 only (the .ttf fallbacks are dropped); the @font-face rules for the legacy family "
        'names "Font Awesome 5 Free/Brands" and "FontAwesome" are dropped (no class rule uses '
        "them; they would embed the same fonts up to three times), so fa-v4compatibility is not "
        "kept"
    ),
    "leaflet-awesome-markers/LICENSE": (
        "the npm package ships no licence file; its package.json and file headers say MIT "
        "(L. Voogdt); this is the standard MIT text with that notice"
    ),
    "folium/leaflet.awesome.rotate.min.css": (
        "generated here: the .fa-rotate-N rules (N = 0..359) that folium's own "
        "leaflet.awesome.rotate.min.css holds, for folium.Icon(angle=N), without the "
        "-ms-/-webkit- prefixes"
    ),
}

AWESOME_MARKERS_LICENCE = """The MIT License (MIT)

Copyright (c) 2013 L. Voogdt

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def _glyphicons_css(bootstrap_css: str) -> str:
    # whole rules only: the selector runs from the previous "}" (or the start) to "{"
    rules = re.findall(r"(?:^|(?<=\}))\s*([^{}]+)\{([^{}]*)\}", bootstrap_css)
    out = [
        '@font-face{font-family:"Glyphicons Halflings";'
        'src:url(fonts/glyphicons-halflings-regular.woff2) format("woff2")}'
    ]
    for selector, body in rules:
        selectors = [s.strip() for s in selector.split(",")]
        if not all(s.startswith(".glyphicon") for s in selectors):
            continue
        decls = ";".join(d.strip() for d in body.split(";") if d.strip())
        out.append(",".join(selectors) + "{" + decls + "}")
    return (
        "/* Glyphicons from Bootstrap v3.4.1 (https://getbootstrap.com/), MIT licence, "
        "Copyright 2011-2019 Twitter, Inc. */\n" + "\n".join(out) + "\n"
    )


def _fontawesome_css(css: str) -> str:
    def keep(match: re.Match) -> str:
        rule = match.group(0)
        if '"Font Awesome 6 ' not in rule:
            return ""
        return re.sub(r',url\([^)]*\.ttf\) format\("truetype"\)', "", rule)

    css = re.sub(r"@font-face\{[^}]*\}", keep, css)
    if ".ttf" in css or "v4compatibility" in css:
        raise SystemExit("Font Awesome CSS still references .ttf or v4compatibility fonts")
    return css


def _rotate_css() -> str:
    rules = [f".fa-rotate-{n}{{transform:rotate({n}deg)}}" for n in range(360)]
    return "\n".join(rules) + "\n"


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for pkg in PACKAGES:
            out = subprocess.run(
                ["npm", "pack", pkg["spec"], "--json"],
                cwd=tmpdir,
                check=True,
                capture_output=True,
                text=True,
            )
            info = json.loads(out.stdout)[0]
            if info["shasum"] != pkg["sha1"]:
                raise SystemExit(f"{pkg['spec']}: sha1 {info['shasum']} != pinned {pkg['sha1']}")
            target = HERE / pkg["dir"]
            if target.exists():
                shutil.rmtree(target)
            with tarfile.open(tmpdir / info["filename"]) as tar:
                for member, dest in pkg["files"].items():
                    data = tar.extractfile(f"package/{member}").read()  # type: ignore[union-attr]
                    path = target / dest
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            rows.append((pkg, info))

    glyph = HERE / "bootstrap3-glyphicons" / "bootstrap-glyphicons.css"
    glyph.write_text(_glyphicons_css(glyph.read_text(encoding="utf-8")), encoding="utf-8")
    fa = HERE / "fontawesome-free" / "css" / "all.min.css"
    fa.write_text(_fontawesome_css(fa.read_text(encoding="utf-8")), encoding="utf-8")
    (HERE / "leaflet-awesome-markers" / "LICENSE").write_text(
        AWESOME_MARKERS_LICENCE, encoding="utf-8"
    )
    folium_dir = HERE / "folium"
    folium_dir.mkdir(exist_ok=True)
    (folium_dir / "leaflet.awesome.rotate.min.css").write_text(_rotate_css(), encoding="utf-8")
    try:
        from importlib.metadata import distribution

        lic = next(
            f for f in distribution("folium").files or [] if f.name.upper().startswith("LICENSE")
        )
        (folium_dir / "LICENSE.txt").write_text(lic.read_text(encoding="utf-8"), encoding="utf-8")
    except (ImportError, StopIteration) as exc:  # pragma: no cover - maintainer tool
        raise SystemExit(f"cannot copy folium's licence: {exc}") from exc

    _write_readme(rows)
    return 0


def _write_readme(rows: list) -> None:
    total = sum(
        p.stat().st_size
        for p in HERE.rglob("*")
        if p.is_file() and p.suffix != ".py" and p.name != "README.md"
    )
    lines = [
        "# Vendored web assets for offline folium maps",
        "",
        "`schoolplan.outputs.offline` inlines these files into saved maps so that a map opens on a PC with",
        "no network at all. Each file is a verbatim copy from the npm tarball named below, except",
        "for the edits listed after the table. Do not edit by hand: run",
        "`python tools/vendor_assets.py` (needs the npm registry), which checks each",
        "tarball's SHA-1 against the pinned value and rewrites this file.",
        "",
        "| folder | npm package | version | tarball SHA-1 | integrity | licence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for pkg, info in rows:
        lines.append(
            f"| `{pkg['dir']}/` | `{info['name']}` | {info['version']} | `{info['shasum']}` "
            f"| `{info['integrity']}` | {pkg['licence']} |"
        )
    lines.append(
        "| `folium/` | (generated; folium's own file) | folium 0.20 | - | - | MIT (folium) |"
    )
    lines += ["", "Files kept per folder:", ""]
    for pkg, _info in rows:
        files = ", ".join(f"`{v}`" for v in pkg["files"].values())
        lines.append(f"* `{pkg['dir']}/`: {files}")
    lines.append("* `folium/`: `leaflet.awesome.rotate.min.css`, `LICENSE.txt`")
    lines += ["", "Edits:", ""]
    for path, text in EDITS.items():
        lines.append(f"* `{path}`: {text}.")
    lines += [
        "",
        "At inline time `schoolplan.outputs.offline` also drops `sourceMappingURL` comments, turns every",
        "CSS `url()` into a `data:` URI and points Leaflet's default marker icon at `data:` URIs.",
        "",
        f"Total size of the vendored files: {total / 1024:.0f} KiB.",
        "",
    ]
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

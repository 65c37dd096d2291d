"""Low-level file readers: tables (CSV in UTF-8 or GBK, XLSX) and vector layers.

Tables come back with the row number a user sees in Excel as their index, so every later problem
can name the row. Layers come back with the feature number (1-based) as their index.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from schoolplan.errors import UnreadableFileError
from schoolplan.schema import normalise_header

__all__ = [
    "LAYER_SUFFIXES",
    "TABLE_SUFFIXES",
    "is_table",
    "read_layer",
    "read_table",
    "sha256_of",
]

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
LAYER_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml")

_HEADER_SCAN_ROWS = 30


def is_table(path: Path) -> bool:
    """True for CSV/XLSX files, False for vector layers; raise for anything else."""
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return True
    if suffix in LAYER_SUFFIXES:
        return False
    raise UnreadableFileError(
        f"{path}: unsupported file type '{suffix}'. Tables: {', '.join(TABLE_SUFFIXES)}; "
        f"layers: {', '.join(LAYER_SUFFIXES)}."
    )


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise UnreadableFileError(f"{path}: file not found. Check the path (relative paths in a "
                                  "scenario file are relative to the scenario file).")


def _detect_header(raw: pd.DataFrame, known: Iterable[str]) -> int:
    """0-based index of the row that looks most like a header (most known column names)."""
    known_norm = {normalise_header(k) for k in known}
    best, best_score = 0, 0
    for i in range(min(len(raw), _HEADER_SCAN_ROWS)):
        cells = [normalise_header(v) for v in raw.iloc[i].tolist() if pd.notna(v)]
        score = sum(c in known_norm for c in cells)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 2 else 0


def _read_csv(path: Path, encoding: str | None, header: int | None, nrows: int | None = None):
    encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    last: Exception | None = None
    for enc in encodings:
        try:
            df = pd.read_csv(path, dtype=object, header=header, encoding=enc, sep=sep,
                             engine="python", skip_blank_lines=False, nrows=nrows,
                             keep_default_na=False, na_values=[""])
            return df, enc
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UnreadableFileError(f"{path}: not a readable CSV table ({exc}).") from None
    raise UnreadableFileError(
        f"{path}: cannot decode the text as {' or '.join(encodings)} ({last}). Save it as UTF-8 "
        "or pass encoding=... (e.g. gbk)."
    )


def read_table(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    known_headers: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV or XLSX table with every cell as text or number, indexed by its Excel row.

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv`` (UTF-8, UTF-8 with BOM, or GBK/GB18030, tried in that order)
        or ``.xlsx`` file.
    sheet
        Sheet name or 0-based position for Excel files; the first sheet by default.
    header_row
        The 1-based row that holds the column names, as a user sees it in Excel. By default the
        first of the first 30 rows that contains at least two ``known_headers`` (ledgers often
        have title rows above the header), else row 1.
    encoding
        Text encoding of a CSV; tried automatically when omitted.
    known_headers
        Column names (and aliases) used to find the header row.

    Returns
    -------
    pandas.DataFrame
        Columns as in the file (stripped of surrounding spaces), index = the Excel row number of
        each data row. Fully empty rows are left out (they are not data). ``attrs`` holds ``file``,
        ``sheet``, ``header_row`` and ``encoding``.
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    enc_used = None
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            with pd.ExcelFile(path) as book:
                if sheet is None:
                    sheet_name: str | int = 0
                elif isinstance(sheet, int) or str(sheet) in book.sheet_names:
                    sheet_name = sheet
                else:
                    raise UnreadableFileError(
                        f"{path}: no sheet named {sheet!r}; the sheets are {book.sheet_names}."
                    )
                raw = pd.read_excel(book, sheet_name=sheet_name, header=None, dtype=object)
                sheet = book.sheet_names[sheet_name] if isinstance(sheet_name, int) else sheet_name
        elif suffix in (".csv", ".txt", ".tsv"):
            raw, enc_used = _read_csv(path, encoding, header=None)
        else:
            raise UnreadableFileError(f"{path}: not a table file ({', '.join(TABLE_SUFFIXES)}).")
    except UnreadableFileError:
        raise
    except Exception as exc:  # openpyxl/zipfile raise many kinds for a broken file
        raise UnreadableFileError(f"{path}: cannot be read as a table ({exc}).") from None
    if raw.empty:
        raise UnreadableFileError(f"{path}: the table is empty.")
    h = (header_row - 1) if header_row else _detect_header(raw, known_headers)
    if h < 0 or h >= len(raw):
        raise UnreadableFileError(f"{path}: header_row {header_row} is outside the table.")
    headers = []
    for j, v in enumerate(raw.iloc[h].tolist()):
        name = str(v).strip() if pd.notna(v) and str(v).strip() else f"unnamed_{j + 1}"
        while name in headers:
            name += "_dup"
        headers.append(name)
    body = raw.iloc[h + 1:].copy()
    body.columns = headers
    body.index = pd.RangeIndex(h + 2, h + 2 + len(body), name="row")
    for c in body.columns:
        body[c] = body[c].map(lambda v: v.strip() if isinstance(v, str) else v)
        body[c] = body[c].map(lambda v: None if isinstance(v, str) and v == "" else v)
    body = body.dropna(how="all")
    drop = [c for c in body.columns if c.startswith("unnamed_") and body[c].isna().all()]
    body = body.drop(columns=drop)
    body.attrs.update(file=str(path), sheet=sheet, header_row=h + 1, encoding=enc_used)
    return body


def _fix_text_encoding(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    """Columns read as latin-1 bytes are decoded as UTF-8 if valid, else GB18030."""
    texts = [c for c in gdf.columns if c != gdf.geometry.name
             and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c].dtype))]
    chosen = "utf-8"
    try:
        for c in texts:
            for v in gdf[c].dropna():
                if isinstance(v, str):
                    v.encode("latin1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        chosen = "gb18030"
    for c in texts:
        gdf[c] = gdf[c].map(
            lambda v: v.encode("latin1").decode(chosen, errors="replace") if isinstance(v, str) else v
        )
    rename = {}
    for c in gdf.columns:
        if c != gdf.geometry.name:
            with contextlib.suppress(UnicodeDecodeError, UnicodeEncodeError):
                rename[c] = c.encode("latin1").decode(chosen)
    return gdf.rename(columns=rename), chosen


def read_layer(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile, …), indexed by feature number (1-based).

    A Shapefile without a ``.cpg`` file is read byte-exact and decoded as UTF-8 when valid, else as
    GBK/GB18030 (Chinese offices' default), so Chinese names never come out garbled. ``attrs``
    holds ``file``, ``layer`` and ``encoding``.
    """
    path = Path(path)
    _check_exists(path)
    kwargs = {"layer": layer} if layer else {}
    used = encoding
    try:
        if path.suffix.lower() == ".shp" and encoding is None and not path.with_suffix(".cpg").exists():
            gdf = gpd.read_file(path, engine="pyogrio", encoding="latin1", **kwargs)
            gdf, used = _fix_text_encoding(gdf)
        else:
            if encoding:
                kwargs["encoding"] = encoding
            gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    except Exception as exc:
        raise UnreadableFileError(f"{path}: cannot be read as a map layer ({exc}).") from None
    gdf.index = pd.RangeIndex(1, len(gdf) + 1, name="row")
    gdf.columns = [str(c).strip() if c != gdf.geometry.name else c for c in gdf.columns]
    gdf.attrs.update(file=str(path), layer=layer, encoding=used)
    return gdf


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

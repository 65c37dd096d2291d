"""Low-level file readers: tables (CSV in UTF-8 or GBK, XLSX) and vector layers.

Tables come back with the row number a user sees in Excel as their index, so every later problem
can name the row. Layers come back with the feature number (1-based) as their index.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from schoolplan.errors import UnreadableFileError
from schoolplan.schema import normalise_header, to_simplified

__all__ = [
    "LAYER_SUFFIXES",
    "TABLE_SUFFIXES",
    "decode_text",
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
    if best_score >= 2:
        return best
    # no known names: the first row with as many text cells as the widest row (title rows above
    # a header hold one or two cells)
    widths = []
    for i in range(min(len(raw), _HEADER_SCAN_ROWS)):
        vals = [v for v in raw.iloc[i].tolist() if v is not None and pd.notna(v)]
        texts = [v for v in vals if isinstance(v, str) and not _NUMBER.match(v.strip())]
        widths.append(len(texts) if len(texts) == len(vals) else 0)
    top = max(widths, default=0)
    return widths.index(top) if top >= 2 else 0


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _plausible_share(text: str) -> float:
    """Share of the CJK characters of ``text`` that are common ones (in GB 2312 once simplified).

    Text decoded with the wrong Chinese codec (Big5 bytes read as GB18030, or the reverse) comes
    out as rare characters from the extension areas; real text, simplified or traditional, is
    almost all common characters.
    """
    chars = _CJK.findall(text)
    if not chars:
        return 1.0
    common = 0
    for ch in chars:
        try:
            to_simplified(ch).encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(chars)


def _known_hits(text: str, known: Iterable[str]) -> int:
    head = normalise_header(text[:4000])
    return sum(1 for k in {normalise_header(k) for k in known} if len(k) > 1 and k in head)


def decode_text(data: bytes, path: Path, *, encoding: str | None = None,
                known: Iterable[str] = ()) -> tuple[str, str]:
    """Decode a text file's bytes; returns ``(text, encoding)``.

    With ``encoding`` given, decode strictly with it. Otherwise a byte-order mark decides (UTF-8,
    UTF-16); else UTF-8 is tried strictly, then GB18030 and Big5, each strictly, and the decoding
    whose Chinese characters are common ones (and that finds more known column names) wins.
    When no reading is convincing, raise :class:`UnreadableFileError` naming the best guess and
    how to declare the encoding: the tool never goes on with garbled text.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise UnreadableFileError(
                f"{path}: unknown encoding {encoding!r}; use utf-8, gb18030, big5 or utf-16. / "
                f"未知编码 {encoding!r}，可用 utf-8、gb18030、big5、utf-16。") from None
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(
                f"{path}: the text is not valid {encoding} (byte {exc.start}); remove "
                f"'encoding: {encoding}' to detect it, or declare the right one. / "
                f"文件不是有效的 {encoding} 编码（第 {exc.start} 字节）；请删除 encoding 以自动识别，"
                "或填写正确的编码。") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    scored = []
    for enc in ("gb18030", "big5", "utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc.startswith("utf-16") and ("\n" not in text or _CONTROL.search(text)):
            continue  # random bytes read as UTF-16: no line breaks, or control characters
        scored.append((_known_hits(text, known), _plausible_share(text), enc, text))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    if scored and scored[0][1] >= 0.95:
        return scored[0][3], scored[0][2]
    guess = scored[0][2] if scored else "unknown"
    raise UnreadableFileError(
        f"{path}: the text encoding cannot be recognised (best guess {guess}, but the text would "
        "come out garbled). Save the file as UTF-8, or declare its encoding in the scenario file "
        "(inputs.<name>.encoding: big5 / gb18030 / utf-16). / "
        f"无法识别文件编码（最可能为 {guess}，但解码后为乱码）。请另存为 UTF-8，或在方案文件中声明 "
        "encoding（big5、gb18030、utf-16）。"
    )


def _read_csv(path: Path, encoding: str | None, known: Iterable[str] = ()) -> tuple[pd.DataFrame, str]:
    """Every cell of a CSV as text (blank -> None), rows of any length (title rows above the
    header have fewer cells), without a header: :func:`read_table` finds it."""
    text, enc = decode_text(path.read_bytes(), path, encoding=encoding, known=known)
    if not text.strip():
        raise UnreadableFileError(f"{path}: the file is empty (no header, no rows). / "
                                  "文件为空（没有表头和数据行）。")
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        sample = "\n".join(text.splitlines()[:50])
        counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFileError(f"{path}: not a readable CSV table ({exc}). / "
                                  "无法按 CSV 表格读取。") from None
    width = max((len(r) for r in rows), default=0)
    cells = [[(c if c.strip() else None) for c in r] + [None] * (width - len(r)) for r in rows]
    return pd.DataFrame(cells, dtype=object), enc


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
    known_headers = list(known_headers)
    suffix = path.suffix.lower()
    enc_used = None
    formulas: list[tuple[int, int]] = []
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            with pd.ExcelFile(path) as book:
                if sheet is None:
                    sheet_name: str | int = 0
                elif (isinstance(sheet, int) and 0 <= sheet < len(book.sheet_names)) \
                        or str(sheet) in book.sheet_names:
                    sheet_name = sheet
                else:
                    raise UnreadableFileError(
                        f"{path}: no sheet named {sheet!r}; the sheets are {book.sheet_names} "
                        f"(set inputs.<name>.sheet). / 没有名为 {sheet!r} 的工作表；工作表有："
                        f"{'、'.join(map(str, book.sheet_names))}（请设置 sheet）。"
                    )
                raw = pd.read_excel(book, sheet_name=sheet_name, header=None, dtype=object)
                sheet = book.sheet_names[sheet_name] if isinstance(sheet_name, int) else sheet_name
            if suffix in (".xlsx", ".xlsm"):
                formulas = _formulas_without_value(path, str(sheet), raw)
        elif suffix in (".csv", ".txt", ".tsv"):
            raw, enc_used = _read_csv(path, encoding, known=known_headers)
        else:
            raise UnreadableFileError(f"{path}: not a table file ({', '.join(TABLE_SUFFIXES)}).")
    except UnreadableFileError:
        raise
    except Exception as exc:  # openpyxl/zipfile raise many kinds for a broken file
        raise UnreadableFileError(f"{path}: cannot be read as a table ({exc}).") from None
    if raw.empty:
        raise UnreadableFileError(f"{path}: the table is empty (no header, no rows). / 表格为空。")
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
    # formula cells without a saved result: (Excel row, header) of the data rows
    blank_formulas = [(r, headers[c]) for r, c in formulas if r > h + 1 and c < len(headers)]
    with_formula = body.index.isin([r for r, _ in blank_formulas])
    body = body[body.notna().any(axis=1) | with_formula]  # such a row is not an empty row
    drop = [c for c in body.columns if c.startswith("unnamed_") and body[c].isna().all()
            and c not in {col for _, col in blank_formulas}]
    body = body.drop(columns=drop)
    body.attrs.update(file=str(path), sheet=sheet, header_row=h + 1, encoding=enc_used,
                      formulas_without_value=blank_formulas)
    return body


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the .xlsx holds a formula element (``<f>``): one scan of the
    sheets' XML, about 100 times faster than reading the cells a second time. True when the
    file cannot be scanned (then the cells are read)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with z.open(name) as f:
                        tail = b""
                        while chunk := f.read(1 << 20):
                            if _FORMULA_TAG.search(tail + chunk):
                                return True
                            tail = chunk[-64:]
        return False
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError):
        return True


def _formulas_without_value(path: Path, sheet: str, raw: pd.DataFrame) -> list[tuple[int, int]]:
    """(Excel row, 0-based column) of every formula cell of ``sheet`` with no saved result.

    pandas reads what Excel saved with each formula (openpyxl ``data_only``); a file written by a
    program that never calculated it holds the formula alone, which reads as an empty cell.
    One read-only pass over the sheet's cells.
    """
    import openpyxl

    if not _has_formulas(path):  # most ledgers: no formula anywhere, no second pass over the cells
        return []
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # the file was read once already; no second opinion, no new failure
        return []
    try:
        ws = book[sheet]
        out = []
        n_rows, n_cols = raw.shape
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            for j, v in enumerate(row):
                formula = (isinstance(v, str) and v.startswith("=") and len(v) > 1) or \
                    type(v).__name__ in ("ArrayFormula", "DataTableFormula")
                if formula and (i >= n_rows or j >= n_cols or pd.isna(raw.iat[i, j])):
                    out.append((i + 1, j))
        return out
    finally:
        book.close()


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

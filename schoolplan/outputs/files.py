"""Writing output files: whole or not at all, and the same bytes for the same content.

:func:`atomic_write` writes through a temporary file in the target folder and ``os.replace``;
:func:`xlsx_bytes` saves an openpyxl workbook with every date inside set to one timestamp.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import tempfile
import zipfile
from pathlib import Path

from schoolplan.errors import SchoolplanError

__all__ = ["atomic_write", "output_time", "xlsx_bytes"]


def output_time(created: str | None = None) -> _dt.datetime:
    """The time stamped into the files of a run (workbook properties, zip entries, the date on
    the map and in the report), as naive UTC: ``SOURCE_DATE_EPOCH`` (seconds since 1970, the
    reproducible-builds convention) when set, else midnight UTC of the run's day (``created``, an
    ISO time; today when absent). So the same inputs and settings give the same bytes; the full
    time of the run is in ``summary.json``.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise SchoolplanError(
                f"SOURCE_DATE_EPOCH was {epoch!r} but is expected to be whole seconds since "
                f"1970-01-01 (e.g. 1700000000); unset it to stamp the run's date / "
                f"环境变量 SOURCE_DATE_EPOCH 应为自1970-01-01起的整秒数（如 1700000000），"
                f"或删除该变量以使用运行日期") from None
    try:
        when = _dt.datetime.fromisoformat(str(created)) if created else _dt.datetime.now(_dt.UTC)
    except ValueError:
        when = _dt.datetime.now(_dt.UTC)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC).replace(tzinfo=None)
    return _dt.datetime(when.year, when.month, when.day)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode(encoding) if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class _StampedZip(zipfile.ZipFile):
    """A zip file whose entries all carry one date (openpyxl would stamp the current time)."""

    def __init__(self, file, when: _dt.datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = max(when, _dt.datetime(1980, 1, 1)).timetuple()[:6]

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o644 << 16
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs) -> None:
        # openpyxl writes each worksheet from a temporary file, which would carry its mtime
        with open(filename, "rb") as fh:
            self.writestr(str(arcname or filename), fh.read())


def xlsx_bytes(wb, when: _dt.datetime, *, creator: str) -> bytes:
    """An openpyxl workbook as .xlsx bytes with every date inside (properties and zip entries)
    set to ``when``: the same workbook gives the same bytes."""
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = creator
    buffer = io.BytesIO()
    ExcelWriter(wb, _StampedZip(buffer, when)).save()  # save() closes the archive
    return buffer.getvalue()

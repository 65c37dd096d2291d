"""Output folders that are whole or absent, never over an input, one writer at a time.

:class:`OutputFolder` is what every command writes through::

    with OutputFolder(out_dir, inputs=[ledger, towns]) as tmp:
        ...write every file into tmp...
    # here out_dir holds the new, complete set of files

* Before anything is written, :func:`check_out_dir` refuses (listing every problem, in Chinese and
  English) a target that is a file, lies under a file, cannot be written, holds one of the inputs,
  or holds files schoolplan did not write (they would be lost when the folder is replaced).
* The files go into a temporary folder beside the target (``.<name>.tmp-XXXX``); only when all are
  written is it swapped in (two renames; the previous output, if any, is then deleted). A kill or a
  full disk leaves the previous complete output, or nothing; the next run cleans up what a killed
  run left and puts back a previous output that a kill between the two renames left aside.
* A lock file beside the target (``.<name>.lock``, :mod:`filelock`: released by the system when
  the process dies) makes a second run into the same folder stop at once with a message.

:func:`safe_folder_name` turns a scenario name into one folder name (no ``/``, ``..``, drive or
reserved device names), so ``name: ../../escape`` stays inside ``out/``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from schoolplan.errors import InputValidationError, Problems, SchoolplanError

__all__ = ["KNOWN_OUTPUTS", "OutputFolder", "check_out_dir", "moved", "safe_folder_name"]

#: Files (glob patterns) schoolplan's commands write; a target folder holding anything else is
#: refused rather than replaced. ``summary.json``'s ``outputs`` list adds to these.
KNOWN_OUTPUTS = (
    "schools.csv", "towns.csv", "violations.csv", "validation.csv", "summary.json", "map.html",
    "assignments.csv", "shortage.csv", "catchments.geojson", "balance.csv", "balance_cv.csv",
    "candidates.csv", "layouts.csv", "actions.csv", "report.xlsx", "comparison.csv",
    "comparison.xlsx", "comparison.html", "estates.csv", "review-*.html",
)

_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$")
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]+')
_MAX_NAME = 100


def safe_folder_name(name: object, *, default: str = "scenario") -> str:
    """``name`` as one folder name that is safe on Windows, macOS and Linux.

    Path separators, ``:``, ``*``, ``?``, quotes, ``<>|``, control characters and bidirectional
    marks become ``_``; leading and trailing dots and spaces go (so no ``.`` or ``..``); a reserved
    device name (``CON``, ``NUL``, ``COM1``...) gets a leading ``_``; at most 100 characters.
    Chinese and other letters stay. An empty result gives ``default``.

    >>> safe_folder_name("../../escape")
    '_.._escape'
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE_CHARS.sub("_", text).strip(" .")
    text = text[:_MAX_NAME].rstrip(" .")
    if not text.strip("._"):
        return default
    return "_" + text if _RESERVED.match(text) else text


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (a real try: ``os.access`` says yes to root
    on a read-only disk)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _expected(target: Path) -> list[str]:
    patterns = list(KNOWN_OUTPUTS)
    summary = target / "summary.json"
    if summary.is_file():
        try:
            listed = json.loads(summary.read_text(encoding="utf-8")).get("outputs", [])
            patterns += [str(n) for n in listed if isinstance(n, str)]
        except (OSError, ValueError, AttributeError):
            pass
    return patterns


def check_out_dir(out_dir: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                  lang: str = "en", replaced: bool = True) -> None:
    """Refuse an output folder that cannot safely be (re)written; every problem at once.

    ``replaced=False`` for a folder whose files are written one by one (``demo --dir``): its
    other contents are then no reason to refuse it.

    Raises
    ------
    InputValidationError
        When ``out_dir`` is a file or lies under one, cannot be written, holds (or is) one of
        ``inputs``, or holds entries schoolplan did not write (replacing it would lose them).
    """
    target = Path(out_dir).absolute()
    problems = Problems()
    where = str(out_dir)
    fix_en = "give --out a new or empty folder, or one schoolplan wrote before"
    fix_zh = "请为 --out 指定一个新的或空的文件夹，或 schoolplan 以前写入的结果文件夹"
    if target.exists() and not target.is_dir():
        problems.error("out_is_file", where, value=where,
                       en=f"the output folder {where} is a file, not a folder",
                       zh=f"输出文件夹 {where} 是一个文件，不是文件夹", fix_en=fix_en, fix_zh=fix_zh)
    else:
        existing = _nearest_existing(target.parent)
        if not existing.is_dir():
            problems.error("out_under_file", where, value=str(existing),
                           en=f"the output folder {where} would lie under {existing}, which is a file",
                           zh=f"输出文件夹 {where} 位于文件 {existing} 之下", fix_en=fix_en, fix_zh=fix_zh)
        elif not _writable(existing) or (target.is_dir() and not os.access(target, os.W_OK)):
            problems.error("out_not_writable", where, value=str(existing),
                           en=f"the output folder {where} cannot be written ({existing} does not allow "
                              "new files)",
                           zh=f"无法写入输出文件夹 {where}（{existing} 不允许新建文件）",
                           fix_en="choose a folder you may write to, or ask for write permission",
                           fix_zh="请选择有写入权限的文件夹，或申请写入权限")
    resolved = target.resolve()
    for item in inputs:
        p = Path(item).absolute().resolve()
        if not p.exists():
            continue  # "none", "osm" or a file not there: nothing to overwrite
        if p == resolved or resolved in p.parents:
            problems.error("out_holds_input", where, value=str(item),
                           en=f"the output folder {where} holds the input {item}: writing the outputs "
                              "would overwrite or delete it",
                           zh=f"输出文件夹 {where} 中有输入文件 {item}，写入结果会覆盖或删除它",
                           fix_en="give --out a folder that holds none of the inputs",
                           fix_zh="请为 --out 指定不含任何输入文件的文件夹")
    if replaced and target.is_dir() and not problems.errors:
        patterns = _expected(target)
        foreign = sorted(p.name for p in target.iterdir()
                         if not (p.is_file() and any(Path(p.name).match(pat) for pat in patterns)))
        if foreign:
            shown = ", ".join(foreign[:10]) + (" ..." if len(foreign) > 10 else "")
            problems.error("out_not_ours", where, value=shown,
                           en=f"the output folder {where} holds {len(foreign)} entr(y/ies) schoolplan "
                              f"did not write ({shown}); replacing the folder would lose them",
                           zh=f"输出文件夹 {where} 中有 {len(foreign)} 个不是 schoolplan 写入的文件或文件夹"
                              f"（{shown}），替换该文件夹会丢失它们",
                           fix_en=fix_en, fix_zh=fix_zh)
    if problems.errors:
        raise InputValidationError(list(problems), lang=lang)


class OutputFolder:
    """Write a set of output files into ``target`` as a whole (see the module docstring).

    ``with OutputFolder(target, inputs=...) as tmp:`` checks the target
    (:func:`check_out_dir`), takes the lock and yields a temporary folder beside the target;
    leaving the block without an error swaps it in, with an error deletes it (the previous output
    stays). A full disk or another write failure becomes a :class:`SchoolplanError` that says
    what happened and that the previous output is unchanged.
    """

    def __init__(self, target: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 lang: str = "en"):
        self.target = Path(target).absolute()
        self.inputs = list(inputs)
        self.lang = lang
        self.tmp: Path | None = None
        self._lock: FileLock | None = None

    @property
    def _stem(self) -> str:
        return "." + self.target.name

    def __enter__(self) -> Path:
        check_out_dir(self.target, inputs=self.inputs, lang=self.lang)
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        lock_path = parent / f"{self._stem}.lock"
        self._lock = FileLock(lock_path, timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            raise SchoolplanError(
                f"another schoolplan run is writing into {self.target} (lock file {lock_path}); "
                f"wait for it to finish, or choose another --out / 另一个 schoolplan 进程正在写入 "
                f"{self.target}（锁文件 {lock_path}），请等待其完成或另选 --out") from None
        try:
            self._recover()
            self.tmp = Path(tempfile.mkdtemp(prefix=f"{self._stem}.tmp-", dir=parent))
        except BaseException:
            self._release()
            raise
        return self.tmp

    def _recover(self) -> None:
        """Clean up after a killed run: put back a previous output left aside, delete temp folders."""
        parent = self.target.parent
        old = sorted(parent.glob(f"{glob_escape(self._stem)}.old-*"))
        if old and not self.target.exists():
            os.rename(old.pop(), self.target)
        for leftover in [*old, *parent.glob(f"{glob_escape(self._stem)}.tmp-*")]:
            shutil.rmtree(leftover, ignore_errors=True)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        tmp = self.tmp
        try:
            if exc is None and tmp is not None:
                self._swap(tmp)
                return
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, SchoolplanError):
                raise _write_error(exc, self.target) from exc
        finally:
            self.tmp = None
            self._release()

    def _swap(self, tmp: Path) -> None:
        try:
            aside = None
            if self.target.exists():
                aside = Path(tempfile.mkdtemp(prefix=f"{self._stem}.old-", dir=self.target.parent))
                os.rmdir(aside)
                os.rename(self.target, aside)
            os.rename(tmp, self.target)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _write_error(err, self.target) from err
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def moved(paths: dict[str, Path], tmp: Path, target: str | os.PathLike) -> dict[str, Path]:
    """``paths`` written into the temporary folder ``tmp``, as they are after the swap into
    ``target``."""
    return {key: Path(target) / Path(p).absolute().relative_to(Path(tmp).absolute())
            for key, p in paths.items()}


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters (``*?[``) taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _write_error(err: OSError, target: Path) -> SchoolplanError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return SchoolplanError(
            f"the disk is full: the outputs could not be written into {target}. Nothing was "
            f"changed there (a previous output is complete and unchanged). Free some space or choose "
            f"another --out, then run again / 磁盘已满，无法写入 {target}；该文件夹未被改动（以前的结果完整"
            f"保留）。请清理磁盘空间或另选 --out 后重新运行")
    return SchoolplanError(
        f"the outputs could not be written into {target}: {err.strerror or err} "
        f"({err.filename or target}). Nothing was changed there / 无法写入 {target}："
        f"{err.strerror or err}；该文件夹未被改动")

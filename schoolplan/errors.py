"""The exception hierarchy of schoolplan.

Every error the tool raises on purpose is a :class:`SchoolplanError`. Subclasses also inherit the
builtin exception a Python user would expect (``KeyError`` for a missing column, ``ValueError``
for bad values), following r5py's ``util/exceptions.py``.

Input validation collects *every* problem of an input before raising one
:class:`InputValidationError` that lists them all (:class:`Problems`, below).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CoordinateSystemError",
    "InputValidationError",
    "MissingColumnError",
    "NetworkError",
    "Problem",
    "Problems",
    "ScenarioError",
    "SchoolplanError",
    "SettingsError",
    "UnreadableFileError",
    "format_problems",
]


class SchoolplanError(Exception):
    """Base class of every error raised by schoolplan on purpose."""


class InputValidationError(SchoolplanError, ValueError):
    """One or more inputs have problems; ``problems`` lists every one of them.

    The message is the full report (file, row as seen in Excel, column, value, fix) so that a user
    sees all problems at once instead of fixing them one run at a time.
    """

    def __init__(self, problems: list[Problem], *, lang: str = "en"):
        self.problems = list(problems)
        super().__init__(format_problems(self.problems, lang=lang))


class MissingColumnError(SchoolplanError, KeyError):
    """A required column is absent; the message lists the aliases that were looked for."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CoordinateSystemError(SchoolplanError, ValueError):
    """A coordinate system is unknown, missing, or does not fit the data."""


class ScenarioError(SchoolplanError, ValueError):
    """A scenario file is malformed (unknown keys, wrong types, missing inputs)."""


class SettingsError(SchoolplanError, ValueError):
    """A setting name is unknown or its value has the wrong type or range."""


class NetworkError(SchoolplanError, ValueError):
    """A road network cannot be read or built, or a point cannot be joined to it."""


class UnreadableFileError(SchoolplanError, OSError):
    """A file does not exist, has an unsupported format, or cannot be decoded."""


# Problems found in inputs, collected and reported all at once: every reader and check appends
# Problem records to a Problems list instead of raising at the first one.

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem in an input.

    ``row`` is the row number a user sees in Excel or a text editor (the header is row 1 of a
    plain CSV); ``None`` for problems of a whole file or column.
    """

    severity: Severity
    code: str
    file: str
    row: int | None
    column: str | None
    value: Any
    message_en: str
    message_zh: str
    fix_en: str = ""
    fix_zh: str = ""
    ids: tuple[str, ...] = field(default_factory=tuple)

    def text(self, lang: str = "en") -> str:
        """One line: where, what, and the fix."""
        zh = lang == "zh"
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行" if zh else f"row {self.row}")
        if self.column:
            where.append(f"列“{self.column}”" if zh else f"column '{self.column}'")
        head = (", ".join(where) + ": ") if where else ""
        if zh:
            head = "，".join(where) + "：" if where else ""
        msg = self.message_zh if zh else self.message_en
        fix = self.fix_zh if zh else self.fix_en
        tail = (("。修改：" if zh else ". Fix: ") + fix) if fix else ""
        return f"{head}{msg}{tail}"


class Problems:
    """An ordered collection of problems across the inputs of one run."""

    def __init__(self, items: Iterable[Problem] = ()):
        self._items: list[Problem] = list(items)

    def add(
        self,
        severity: Severity,
        code: str,
        file: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        en: str,
        zh: str,
        fix_en: str = "",
        fix_zh: str = "",
        ids: Iterable[str] = (),
    ) -> None:
        """Record a problem."""
        if isinstance(value, float) and value != value:  # NaN
            value = None
        self._items.append(
            Problem(severity, code, str(file), row, column, value, en, zh, fix_en, fix_zh,
                    tuple(str(i) for i in ids))
        )

    def error(self, code: str, file: str, **kw: Any) -> None:
        """Record an error (the input cannot be used as it is)."""
        self.add("error", code, file, **kw)

    def warning(self, code: str, file: str, **kw: Any) -> None:
        """Record a warning (the input is used; the user should look)."""
        self.add("warning", code, file, **kw)

    def extend(self, other: Iterable[Problem]) -> None:
        """Append problems from another collection."""
        self._items.extend(other)

    @property
    def errors(self) -> list[Problem]:
        """Problems with severity ``error``."""
        return [p for p in self._items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems with severity ``warning``."""
        return [p for p in self._items if p.severity == "warning"]

    def merge_roles(self, role_of: list[str], labels: dict[str, tuple[str, str]]) -> None:
        """One message per problem of a file read in several roles (e.g. as schools and as
        demand): ``role_of[i]`` is the input key the ``i``-th problem was found under (problems
        past the list keep theirs), ``labels`` its English and Chinese name.

        In a file read under more than one key, problems of the same kind, row, column and ids
        found under several keys become one, which names the roles; the others say theirs (ids
        are not compared: one row has a school code and a village code).
        Linear in the problems.
        """
        roles_of_file: dict[str, list[str]] = {}
        for p, found_as in zip(self._items, role_of, strict=False):
            got = roles_of_file.setdefault(p.file, [])
            if found_as not in got:
                got.append(found_as)
        file_roles = {f: r for f, r in roles_of_file.items() if len(r) > 1}
        if not file_roles:
            return
        seen: dict[tuple, int] = {}
        found_in: list[list[str]] = []
        out: list[Problem] = []
        for i, p in enumerate(self._items):
            role: str | None = role_of[i] if i < len(role_of) else None
            if p.file not in file_roles or role is None:
                out.append(p)
                found_in.append([])
                continue
            key = (p.severity, p.code, p.file, p.row, p.column)
            if key in seen:
                if role not in found_in[seen[key]]:
                    found_in[seen[key]].append(role)
                continue
            seen[key] = len(out)
            out.append(p)
            found_in.append([role])
        for j, roles in enumerate(found_in):
            if not roles:
                continue
            en = " and ".join(labels.get(r, (r, r))[0] for r in roles)
            zh = "和".join(labels.get(r, (r, r))[1] for r in roles)
            p = out[j]
            out[j] = replace(p, message_en=f"{p.message_en} (this file is read as {en})",
                             message_zh=f"{p.message_zh}（该文件作为{zh}读取）")
        self._items = out

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_errors(self, *, lang: str = "en") -> None:
        """Raise one :class:`InputValidationError` listing every problem, if any is an error."""
        if self.errors:
            raise InputValidationError(self._items, lang=lang)

    def to_frame(self) -> pd.DataFrame:
        """The problems as a table (for ``validation.csv`` and the report)."""
        import pandas as pd

        cols = [f for f in Problem.__dataclass_fields__]
        if not self._items:
            return pd.DataFrame(columns=cols)
        rows = []
        for p in self._items:
            d = asdict(p)
            d["ids"] = ";".join(p.ids)
            d["value"] = None if p.value is None else str(p.value)
            rows.append(d)
        return pd.DataFrame(rows, columns=cols)


def format_problems(problems: Iterable[Problem], *, lang: str = "en") -> str:
    """A report of problems grouped by file, errors first."""
    items = sorted(problems, key=lambda p: (p.file, p.severity != "error", p.row or 0))
    n_err = sum(p.severity == "error" for p in items)
    n_warn = len(items) - n_err
    if lang == "zh":
        lines = [f"输入数据检查：{n_err} 个错误，{n_warn} 个警告"]
    else:
        lines = [f"Input check: {n_err} error(s), {n_warn} warning(s)"]
    current = None
    for p in items:
        if p.file != current:
            current = p.file
            lines.append(f"  {p.file}")
        tag = {"error": "错误" if lang == "zh" else "ERROR",
               "warning": "警告" if lang == "zh" else "warning"}[p.severity]
        lines.append(f"    [{tag}] {p.text(lang)}")
    return "\n".join(lines)

"""Private: progress of long steps, shown only when the command line asks for it.

Library code calls :func:`steps` around a loop; by default nothing is printed (library code never
prints). The CLI switches bars on with :func:`enable` (tqdm on stderr), so a planner waiting for
a prefecture's travel costs sees them advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["enable", "steps"]

T = TypeVar("T")
_STATE = {"on": False, "min_items": 20}


def enable(on: bool = True) -> None:
    """Show progress bars (the CLI calls this; tests and notebooks leave it off)."""
    _STATE["on"] = on


def steps(items: Iterable[T], *, total: int, desc: str) -> Iterator[T]:
    """``items`` unchanged, with a tqdm bar on stderr when enabled and the loop is long."""
    if not _STATE["on"] or total < _STATE["min_items"]:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="batch", leave=False, mininterval=0.5)

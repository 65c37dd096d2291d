"""Private home of :class:`schoolplan.travel.Reassigner` (re-exported there): each origin's ranked
candidate destinations, re-assigned after closures without a new shortest-path search."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Reassigner"]

logger = logging.getLogger("schoolplan.travel")


@dataclass(frozen=True, eq=False)
class Reassigner:
    """Each origin's ranked candidate destinations, to re-assign after closures without a new
    shortest-path run.

    Build it with :meth:`from_costs` from a :func:`travel_costs` table (typically with ``k`` and
    a cut-off); :meth:`assign` then gives every origin its best open candidate in milliseconds.

    Attributes
    ----------
    from_ids, to_ids
        Origin ids (rows) and destination ids (codes used in ``candidates``).
    candidates
        ``n_origins x k`` destination codes in rank order, ``-1`` padded.
    distance_m, time_s
        Costs of each candidate (metres, seconds; NaN where padded).
    mode
        Travel mode of the costs.
    """

    from_ids: pd.Index
    to_ids: pd.Index
    candidates: np.ndarray
    distance_m: np.ndarray
    time_s: np.ndarray
    mode: str

    @classmethod
    def from_costs(
        cls,
        costs: pd.DataFrame,
        *,
        k: int | None = None,
        by: Literal["distance_m", "time_s"] | None = None,
        origins: Iterable[Any] | None = None,
    ) -> Reassigner:
        """Keep each origin's ``k`` best rows of ``costs`` (all when ``None``), ranked by ``by``
        (default ``time_s`` for bus, else ``distance_m``). ``origins`` lists every origin id so
        that those without any candidate are kept (and reported by :meth:`assign`)."""
        mode = str(costs["mode"].iloc[0]) if len(costs) else "walk_g4_9"
        by = by or ("time_s" if mode == "bus" else "distance_m")
        c = costs.sort_values(["from_id", by], kind="stable")
        from_ids = pd.Index(pd.unique(c["from_id"]))
        if origins is not None:
            extra = pd.Index(list(origins)).difference(from_ids, sort=False)
            from_ids = from_ids.append(extra)
        to_ids = pd.Index(pd.unique(c["to_id"]))
        row = from_ids.get_indexer(c["from_id"])
        rank = c.groupby("from_id", sort=False).cumcount().to_numpy()
        width = int(rank.max()) + 1 if len(c) else 1
        if k is not None:
            width = min(width, k)
        keep = rank < width
        cand = np.full((len(from_ids), width), -1, dtype=np.int64)
        dist = np.full((len(from_ids), width), np.nan)
        tim = np.full((len(from_ids), width), np.nan)
        cand[row[keep], rank[keep]] = to_ids.get_indexer(c["to_id"])[keep]
        dist[row[keep], rank[keep]] = c["distance_m"].to_numpy()[keep]
        tim[row[keep], rank[keep]] = c["time_s"].to_numpy()[keep]
        return cls(from_ids, to_ids, cand, dist, tim, mode)

    def assign(self, *, closed: Iterable[Any] = ()) -> pd.DataFrame:
        """Best open candidate of every origin once the ``closed`` destinations are removed.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``from_id``: ``to_id``, ``distance_m``, ``time_s``, ``rank`` (0 = first
            choice) and ``lost_all`` (True when every candidate is closed or there was none:
            such origins need a new search with a larger ``k`` or cut-off).
        """
        closed_codes = self.to_ids.get_indexer(pd.Index(list(closed)))
        is_closed = np.zeros(len(self.to_ids) + 1, dtype=bool)  # last slot: padding (-1)
        is_closed[-1] = True
        is_closed[closed_codes[closed_codes >= 0]] = True
        open_ = ~is_closed[self.candidates]
        rank = np.argmax(open_, axis=1)
        rows = np.arange(len(self.from_ids))
        found = open_[rows, rank]
        code = self.candidates[rows, rank]
        out = pd.DataFrame(
            {
                "to_id": pd.Series(self.to_ids.to_numpy()[np.where(found, code, 0)]
                                   if len(self.to_ids) else np.full(len(rows), None),
                                   index=self.from_ids).where(found),
                "distance_m": np.where(found, self.distance_m[rows, rank], np.nan),
                "time_s": np.where(found, self.time_s[rows, rank], np.nan),
                "rank": np.where(found, rank, -1),
                "lost_all": ~found,
            },
            index=self.from_ids,
        )
        out.index.name = "from_id"
        n_lost = int((~found).sum())
        if n_lost:
            logger.info("%d origin(s) lost all their candidate destinations", n_lost)
        return out


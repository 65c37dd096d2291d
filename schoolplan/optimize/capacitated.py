"""The heuristic's layout improved when seats bind: seat prices in the search, then exact swaps.

When the nearest-open assignment of the searched layout exceeds a seat or a size cap, the
travel of the search (every village group to its nearest open school) is no longer what the
layout costs. :func:`improve` then works on the **capacitated objective** of a layout: the
travel of its exact assignment (:func:`.transport.transport`) plus, for the pupils the seats
cannot take, the least-shortage model's cost per pupil without a seat. Two steps, each bounded:

1. **priced search** (Lagrangian relaxation of the seat rows): the interchange again, each pair's
   cost raised by its school's seat price (the transport's duals) and each open school credited
   with its seats times their price (what closing it gives up); the new layout's exact objective
   is kept when lower, and the round repeats with its prices
   (``optimise_heuristic_seat_rounds`` rounds at most, fewer when a round does not improve);
2. **exact swaps**: the priced swap deltas of every open school rank the swaps (the best closed
   school for each); the ``optimise_heuristic_exact_swaps`` best ranked are evaluated exactly,
   each by a transport warm-started from the current assignment (only the village groups of the
   closed school and those that prefer the opened one are solved again), and the first that
   lowers the objective is made; then the swaps are ranked again, until none of the best
   ranked improves (at most ``optimise_heuristic_max_passes`` swaps made).

Costs, with ``P`` pairs, ``S`` schools, ``p`` open: a priced round is one interchange
(``O(p (pairs of a school's groups + S))`` per pass) and one transport; ranking the swaps one
interchange pass; an exact swap a warm transport (a programme over the groups around the two
schools and an ``O(P)`` check).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from schoolplan.optimize.transport import Transport, TransportProblem, transport

__all__ = ["Improved", "improve", "objective"]


def objective(tp: TransportProblem, got: Transport) -> float:
    """Travel plus the least-shortage cost of the pupils without a seat (pupil-cost units)."""
    return got.travel + tp.penalty * got.shortage


@dataclass
class Improved:
    """The layout found, its exact assignment, and what the steps did."""

    is_open: np.ndarray
    got: Transport
    start_objective: float
    priced_rounds: int
    priced_gain: float
    exact_evaluations: int
    exact_swaps: int
    short_evaluations: int


def credit_of(tp: TransportProblem, got: Transport) -> np.ndarray:
    """Each school's seats times their price (pupil-cost units; 0 where no row applies)."""
    lim = np.where(np.isfinite(tp.limits), tp.limits, 0.0)
    return (lim * got.school_price).sum(axis=0)


def _first_better(tp, is_open, got, obj, pairs):
    """The first swap ``(close a, open b)`` of ``pairs`` that lowers the objective (the result
    of :func:`_swap_if_better`, or None) and how many swaps were evaluated."""
    n = 0
    for a, b in pairs:
        n += 1
        better = _swap_if_better(tp, is_open, got, obj, a, b)
        if better is not None:
            return better, n
    return None, n


def _swap_if_better(tp, is_open, got, obj_now: float, a: int, b: int):
    """Close ``a`` and open ``b`` and solve the transport warm from ``got``: the new (layout,
    assignment, objective) when it lowers the objective, else None."""
    trial = is_open.copy()
    trial[a], trial[b] = False, True
    trial_got = transport(tp, trial, start=(got.share, got.unplaced), prices=got.school_price)
    obj = objective(tp, trial_got)
    if obj < obj_now - 1e-9 * max(obj_now, 1.0):
        return trial, trial_got, obj
    return None


def improve(tp: TransportProblem, is_open: np.ndarray, got: Transport, *,
            priced_search: Callable[[np.ndarray, Transport], np.ndarray],
            ranked_swaps: Callable[..., list[tuple[int, int]]],
            rounds: int, exact_swaps: int, max_swaps: int, short_swaps: int = 0) -> Improved:
    """Improve the layout ``is_open`` (exact assignment ``got``) on the capacitated objective.

    ``priced_search(layout, got)`` returns the interchange's layout under ``got``'s seat prices;
    ``ranked_swaps(layout, got)`` the swaps ``(close, open)`` best first under them (the caller
    holds the search's rules: must-keep, towns, seats in total). ``rounds`` priced rounds at
    most; then the ``exact_swaps`` best ranked swaps are evaluated exactly, the first that lowers
    the objective made and the swaps ranked again, at most ``max_swaps`` times. When pupils are
    still without a seat, ``ranked_swaps(layout, got, deep=True)`` (more swaps per school) are
    evaluated the same way, up to ``short_swaps`` evaluations in all."""
    best_open, best = is_open.copy(), got
    best_obj = start = objective(tp, got)
    done = 0
    for _ in range(rounds):
        trial = priced_search(best_open.copy(), best)
        if (trial == best_open).all():
            break
        done += 1
        trial_got = transport(tp, trial, start=(best.share, best.unplaced),
                              prices=best.school_price)
        if objective(tp, trial_got) < best_obj - 1e-9 * max(best_obj, 1.0):
            best_open, best, best_obj = trial, trial_got, objective(tp, trial_got)
        else:
            break
    priced_gain = start - best_obj
    evals = swaps = 0
    for _ in range(max_swaps):  # the first improving swap among the best ranked, again
        better, n = _first_better(tp, best_open, best, best_obj,
                                  ranked_swaps(best_open, best)[:exact_swaps])
        evals += n
        if better is None:
            break
        best_open, best, best_obj = better
        swaps += 1
    deep = 0
    while best.shortage > 1e-6 and deep < short_swaps:  # pupils without a seat: a wider look
        better, n = _first_better(tp, best_open, best, best_obj, itertools.islice(
            ranked_swaps(best_open, best, deep=True), short_swaps - deep))
        deep += n
        if better is None:
            break
        best_open, best, best_obj = better
        swaps += 1
    return Improved(is_open=best_open, got=best, start_objective=start, priced_rounds=done,
                    priced_gain=priced_gain, exact_evaluations=evals, exact_swaps=swaps,
                    short_evaluations=deep)

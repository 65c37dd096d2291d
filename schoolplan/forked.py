"""Work in forked processes that die with the run (issue 15).

* :func:`child_started`: the initializer of every process a run forks (the output writers of
  :mod:`schoolplan.outputs.report`, :class:`Aside`): it dies with the run (``kill -9`` of the run
  must not leave a process behind: Linux ``PR_SET_PDEATHSIG``, and a thread that watches the
  parent) and leaves Ctrl-C to the run.
* :class:`Aside`: one function run in a forked process while the run goes on (the capacitated
  assignment of a diagnosis, while the calibrated flows are computed), its result collected
  later. Its arguments are inherited by the fork, not pickled; only the result comes back. With
  one worker, or where there is no ``fork``, or when the process dies, the function runs in this
  process when its result is asked for: the result is the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Aside", "child_started"]

logger = logging.getLogger(__name__)


def child_started(parent: int) -> None:
    """In a forked process: die with the run ``parent`` and ignore Ctrl-C (the run handles it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # not Linux: the run kills its children on an error
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the run died before the line above
        os._exit(1)

    def watch() -> None:  # and where the signal is not delivered (seen here): a look every 0.2 s
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    import threading

    threading.Thread(target=watch, name="schoolplan-child-watch", daemon=True).start()


#: The job a forked :class:`Aside` runs: set just before the fork, read by the child.
_JOB: dict[int, tuple[Callable[..., Any], tuple, dict]] = {}


def _run(job: int) -> Any:
    fn, args, kwargs = _JOB[job]
    return fn(*args, **kwargs)


class Aside:
    """``fn(*args, **kwargs)`` started in a forked process when ``workers`` > 1; :meth:`result`
    waits for it (or runs it here). Use as a context manager: leaving it without the result
    kills the process."""

    def __init__(self, fn: Callable[..., Any], *args: Any, workers: int = 1, **kwargs: Any):
        import multiprocessing as mp

        self._call = (fn, args, kwargs)
        self._pool: Any = None
        self._future: Any = None
        if workers <= 1 or "fork" not in mp.get_all_start_methods():
            return
        from concurrent.futures import ProcessPoolExecutor

        job = id(self)
        _JOB[job] = self._call
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"),
                                             initializer=child_started, initargs=(os.getpid(),))
            self._future = self._pool.submit(_run, job)  # forks here, with _JOB[job] set
        except OSError as exc:  # no process to be had (limits): here, later
            logger.info("running %s in this process (%s)", getattr(fn, "__name__", fn), exc)
            self._close(kill=True)
        finally:
            _JOB.pop(job, None)

    def result(self) -> Any:
        """The function's result (its exception, raised here, if it failed)."""
        if self._future is None:
            fn, args, kwargs = self._call
            return fn(*args, **kwargs)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._future.result()
        except BrokenProcessPool:  # the process died (killed, out of memory): here
            fn, args, kwargs = self._call
            logger.warning("the process of %s died; running it in this process",
                           getattr(fn, "__name__", fn))
            self._close(kill=True)
            return fn(*args, **kwargs)
        finally:
            self._close(kill=False)

    def _close(self, *, kill: bool) -> None:
        pool, self._pool, self._future = self._pool, None, None
        if pool is None:
            return
        if kill:
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        pool.shutdown(wait=not kill, cancel_futures=True)

    def __enter__(self) -> Aside:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close(kill=True)

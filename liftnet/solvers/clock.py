"""The clock the ALM and the baselines time themselves with: wall time that can be paused.

Their reported ``time`` is their own work. The seconds they spend only to report (the ``Phi``
of a history record, a callback, the baselines' objective evaluations) are kept off it, so
that :mod:`liftnet.compare` times the ALM and the baselines alike, and so is a time limit:
``time_limit`` is on the same clock.

:func:`liftnet.solve_ipopt` is the exception: it is timed on the wall clock
(``time.monotonic``), its callback's seconds included, because IPOPT enforces its time limit
itself (``max_wall_time``), on a clock that cannot be paused; there a slow callback uses up
``time_limit``.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager


class PausableClock:
    """Seconds since construction (``time.monotonic``), less the time spent paused.

    ``elapsed`` is the solver's own time; ``paused_total`` the seconds left out.
    ``PausableClock(paused=True)`` reads 0 until resumed (the clock of a trainer that a Ctrl-C
    stopped before its clock started). Pausing a paused clock, or resuming a running one, does
    nothing, so :meth:`off` nests.
    """

    def __init__(self, paused: bool = False):
        self._start = time.monotonic()
        self._paused_at = self._start if paused else None
        self.paused_total = 0.0

    @property
    def elapsed(self) -> float:
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return now - self._start - self.paused_total

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self.paused_total += time.monotonic() - self._paused_at
            self._paused_at = None

    @contextmanager
    def off(self):
        """The block's seconds are left out (``with clock.off(): ...``)."""
        was_paused = self._paused_at is not None
        self.pause()
        try:
            yield self
        finally:
            if not was_paused:
                self.resume()

    def exclude(self, seconds: float) -> None:
        """Leave out ``seconds`` spent elsewhere (a presolve's own reporting time)."""
        self.paused_total += float(seconds)

    def deadline(self, limit: float | None) -> float | None:
        """The ``time.monotonic()`` at which ``elapsed`` reaches ``limit`` if the clock runs
        from now on without a pause (``None`` for no limit): what the inner solvers compare
        with. Asked while paused, the clock is taken to resume now (until 2026-12-06 the
        pause in progress was left out: a deadline that early)."""
        return None if limit is None else time.monotonic() + (limit - self.elapsed)


@contextmanager
def notice_if_slow(notice, message: str, after: float):
    """Call ``notice(message)`` once, from a timer thread, if the block still runs ``after``
    seconds after it began (nothing when ``notice`` is None): the word a long wait owes a user
    who would otherwise watch a silent terminal (the first :func:`liftnet.solvers.alm.warm_up`
    after an install, which compiles for about a minute)."""
    if notice is None:
        yield
        return
    timer = threading.Timer(after, notice, args=(message,))
    timer.daemon = True  # (a process that ends in the block does not wait for it)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()

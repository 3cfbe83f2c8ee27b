"""Ctrl-C inside compiled code.

A KeyboardInterrupt raised by the SIGINT handler normally surfaces as itself. When the signal is
handled while a numba-compiled function is calling back into Python (measured: the call that
materialises one of its constants, ``numba.core.serialize._numba_unpickle``), the
KeyboardInterrupt is set while the function still returns a value, and CPython raises
``SystemError: ... returned a result with an exception set`` with the KeyboardInterrupt as its
cause. In a scratch stress test (the CLI's ``solve`` on a teacher, a timer raising
KeyboardInterrupt after 0.05-1 s, 2 x 150 runs) 4 of 300 interruptions surfaced that way.
The solvers catch :data:`INTERRUPTS` and pass them to :func:`interrupted`, which re-raises what
is not a Ctrl-C, so that Ctrl-C returns the best iterate whatever code it lands in.
"""

from __future__ import annotations

import contextlib
import signal
import threading

INTERRUPTS = (KeyboardInterrupt, SystemError)


def is_interrupt(exc: BaseException) -> bool:
    """``exc`` is a KeyboardInterrupt, or an error whose chain of causes holds one."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def interrupted(exc: BaseException) -> str:
    """The status ``"interrupted"`` for a Ctrl-C (:func:`is_interrupt`); any other error is
    raised again. Use: ``except INTERRUPTS as exc: status = interrupted(exc)``."""
    if not is_interrupt(exc):
        raise exc
    return "interrupted"


def stop_if_interrupted(res):
    """``res`` (a solver's result), unless a Ctrl-C stopped it: a caller that passes no
    callbacks (the comparison harness, the benchmark scripts) sees status ``interrupted`` only
    from a Ctrl-C, which every solver turns into that status, and stops as a whole
    (KeyboardInterrupt) with what it has finished."""
    if res.status == "interrupted":
        raise KeyboardInterrupt
    return res


@contextlib.contextmanager
def sigint_ignored(active: bool = True):
    """Ctrl-C ignored inside the block (with ``active``; in the main thread only: another
    thread cannot set the SIGINT handler, and runs the block as it is); the handler is put
    back on exit. For the few milliseconds in which a finished result is written (``liftnet
    solve``'s files, the comparison's table and files): a Ctrl-C there must not lose it."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if old is not None:  # (None: a handler not set from Python, which cannot be put back)
            signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def sigint_deferred(active: bool = True):
    """Ctrl-C held back inside the block and delivered when it ends (to the handler in place
    before it: Python's raises KeyboardInterrupt there). For code that must not be cut
    halfway by a KeyboardInterrupt because the interrupt would be lost or leave a broken
    state behind: numba's first compile of a kernel (a Ctrl-C inside llvmlite's object-cache
    callback is swallowed, and numba then fails with ``RuntimeError: no compiled object
    yet``), the first import of torch's optimiser machinery (a half-imported
    ``torch._dynamo`` breaks every later baseline in the process), an object's ``__del__``
    (where Python prints and drops the KeyboardInterrupt). A Ctrl-C ignored where the block
    starts (:func:`sigint_ignored`) stays ignored. Main thread only, as
    :func:`sigint_ignored`; elsewhere the block runs as it is."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGINT)
    if old is signal.SIG_IGN or old is None:
        yield
        return
    got = []

    def hold(signum, frame):
        got.append(frame)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if got:  # (after the block ended normally: an error of its own goes on as it is)
        if callable(old):
            old(signal.SIGINT, got[-1])
        else:  # SIG_DFL: the process would end; a KeyboardInterrupt is the gentler same
            raise KeyboardInterrupt

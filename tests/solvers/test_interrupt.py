"""The Ctrl-C plumbing every solver shares (liftnet/solvers/_interrupt.py): what counts as an
interrupt (a KeyboardInterrupt, or the SystemError CPython raises when one lands in compiled
code, followed through causes and contexts), and the block that ignores SIGINT."""

import os
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from liftnet.solvers._interrupt import (
    INTERRUPTS,
    interrupted,
    is_interrupt,
    sigint_deferred,
    sigint_ignored,
    stop_if_interrupted,
)


def chained(inner, depth=1, how="cause"):
    """``inner`` wrapped ``depth`` times in the SystemError of a compiled call, through
    ``__cause__`` or ``__context__``."""
    exc = inner
    for _ in range(depth):
        outer = SystemError("returned a result with an exception set")
        setattr(outer, "__cause__" if how == "cause" else "__context__", exc)
        exc = outer
    return exc


def test_is_interrupt_follows_causes_and_contexts():
    """A KeyboardInterrupt anywhere down the chain of causes or contexts is one; a plain
    SystemError is a bug, not an interrupt; a cyclic chain ends the walk."""
    assert INTERRUPTS == (KeyboardInterrupt, SystemError)
    assert is_interrupt(KeyboardInterrupt())
    assert is_interrupt(chained(KeyboardInterrupt(), depth=3, how="cause"))
    assert is_interrupt(chained(KeyboardInterrupt(), depth=2, how="context"))
    assert not is_interrupt(SystemError("a real bug"))
    assert not is_interrupt(chained(ValueError("x"), depth=2))
    # a cycle in the chain ends the walk (in a thread: a walk that does not end fails here)
    a, b = SystemError("a"), SystemError("b")
    a.__cause__, b.__cause__ = b, a
    out = []
    t = threading.Thread(target=lambda: out.append(is_interrupt(a)), daemon=True)
    t.start()
    t.join(timeout=5.0)
    assert not t.is_alive() and out == [False]


def test_interrupted_raises_what_is_not_a_ctrl_c():
    """``interrupted`` names the status of a Ctrl-C and re-raises anything else as it is."""
    assert interrupted(KeyboardInterrupt()) == "interrupted"
    assert interrupted(chained(KeyboardInterrupt())) == "interrupted"
    err = SystemError("not an interrupt")
    with pytest.raises(SystemError) as info:
        interrupted(err)
    assert info.value is err


def test_stop_if_interrupted():
    """A result that says ``interrupted`` becomes a KeyboardInterrupt again; others pass."""
    res = SimpleNamespace(status="converged")
    assert stop_if_interrupted(res) is res
    with pytest.raises(KeyboardInterrupt):
        stop_if_interrupted(SimpleNamespace(status="interrupted"))


def test_sigint_ignored_ignores_and_restores_the_handler():
    """SIGINT is ignored inside the block and the handler before it is back after it, also
    when the block raises; ``active=False`` changes nothing."""
    before = signal.getsignal(signal.SIGINT)
    with sigint_ignored():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is before
    with sigint_ignored(active=False):
        assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(RuntimeError):
        with sigint_ignored():
            raise RuntimeError
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("guard", [sigint_ignored, sigint_deferred])
def test_a_sigint_guard_in_another_thread_runs_the_block_as_it_is(guard):
    """Only the main thread may set signal handlers: elsewhere the block runs unchanged
    (no ValueError from ``signal.signal``)."""
    seen, errors = [], []

    def body():
        try:
            with guard():
                seen.append(signal.getsignal(signal.SIGINT))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert not errors and seen == [signal.getsignal(signal.SIGINT)]


def test_sigint_deferred_delivers_the_ctrl_c_when_the_block_ends():
    """A Ctrl-C inside the block does not cut it: the block runs to its end, then the handler
    in place before it gets the signal (Python's raises KeyboardInterrupt); a handler of the
    caller's (a stop flag) is called instead, an ignored Ctrl-C stays ignored, and the
    handler is back after the block."""
    before = signal.getsignal(signal.SIGINT)
    done = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # (the signal is handled between bytecodes: it has been)
            done.append(True)
    assert done == [True] and signal.getsignal(signal.SIGINT) is before
    with sigint_deferred():  # no Ctrl-C: nothing raised
        pass
    flag = []
    signal.signal(signal.SIGINT, lambda signum, frame: flag.append(signum))
    try:
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert flag == []
        assert flag == [signal.SIGINT]
        with sigint_ignored():
            with sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
        assert flag == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)
    with pytest.raises(RuntimeError):  # the block's own error goes on, the handler back
        with sigint_deferred():
            raise RuntimeError
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_deferred_lets_the_blocks_own_error_go_on_after_a_ctrl_c():
    """A Ctrl-C held back, then an error of the block: the error goes on, the Ctrl-C is not
    delivered (its handler is not called), and the handler is back."""
    before = signal.getsignal(signal.SIGINT)
    flag = []
    signal.signal(signal.SIGINT, lambda signum, frame: flag.append(signum))
    try:
        with pytest.raises(RuntimeError):
            with sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                raise RuntimeError
        assert flag == []
    finally:
        signal.signal(signal.SIGINT, before)


def test_sigint_deferred_under_the_default_handler_raises_keyboardinterrupt():
    """SIG_DFL before the block: the held Ctrl-C comes out as a KeyboardInterrupt, not lost."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        with pytest.raises(KeyboardInterrupt):
            with sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, before)


def test_is_interrupt_follows_the_cause_when_the_context_differs():
    """``raise SystemError from KeyboardInterrupt`` inside another handler: the cause is the
    Ctrl-C, the context another error."""
    exc = SystemError("returned a result with an exception set")
    exc.__cause__, exc.__context__ = KeyboardInterrupt(), ValueError("handled before")
    assert is_interrupt(exc)

"""Helpers that several test files share (``tests/`` is on the path: pyproject's pytest
``pythonpath``)."""

from __future__ import annotations


def interrupt_call(real, n, when=lambda *args, **kw: True):
    """``real``, except that Ctrl-C lands in its ``n``-th call among those that ``when``
    accepts (once: a later call runs)."""
    calls = []

    def wrapped(*args, **kw):
        if when(*args, **kw):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
        return real(*args, **kw)

    return wrapped


def cut_bytes(path, keep: str) -> None:
    """The zip archive at ``path`` (an .npz) with only part of its bytes: ``first_half`` (no
    zip directory at the end: ``zipfile.is_zipfile`` says no), ``second_half`` (the directory
    is there, ``is_zipfile`` says yes, but no zip header at the start: ``np.load`` reads a
    pickle) or ``middle_cut``, its first half plus the 22-byte end record (``is_zipfile``
    says yes, ``np.load`` opens it and finds no directory where the end record points)."""
    data = path.read_bytes()
    half = len(data) // 2
    path.write_bytes({"first_half": data[:half], "second_half": data[half:],
                      "middle_cut": data[:half] + data[-22:]}[keep])


def make_unreadable(path, monkeypatch) -> None:
    """Take the read permission off the file at ``path``. Root reads such a file anyway, and
    the README's test command runs as root (CI): there, opening ``path`` by ``builtins.open``
    or ``io.open`` (``np.load``'s and ``pathlib``'s way in) is made to fail as it fails for
    other users, with ``PermissionError`` (EACCES), for the rest of the test. (Until session
    52 the test was skipped there: it could not fail in CI.)"""
    import builtins
    import errno
    import io
    import os

    os.chmod(path, 0)
    try:
        open(path, "rb").close()
    except PermissionError:
        return
    target = os.path.realpath(path)
    real_open = builtins.open

    def open_but_not_path(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            name = os.fsdecode(file)
            if os.path.realpath(name) == target:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_but_not_path)
    monkeypatch.setattr(io, "open", open_but_not_path)


def slow_warm_up(monkeypatch, seconds=0.5):
    """A warm-up that takes ``seconds`` more (as a compile does) and whose notice comes after
    0.05 s; returns the notice a float64 warm-up gives (``alm.COMPILE_NOTICE``)."""
    import time

    import numpy as np

    import liftnet.solvers.alm as alm

    monkeypatch.setattr(alm, "NOTICE_AFTER", 0.05)
    real = alm.kernels.warm_up_parallel
    monkeypatch.setattr(alm.kernels, "warm_up_parallel",
                        lambda dtype: time.sleep(seconds) or real(dtype))  # fmt: skip
    return alm.COMPILE_NOTICE.format(dtype=np.dtype(np.float64))


def make_read_only(path, monkeypatch) -> None:
    """Take the write permission off the file at ``path``. Root writes such a file anyway
    (and CI runs as root): there ``os.access(path, W_OK)`` is made to answer as for another
    user, False, for the rest of the test. (Until session 52 the test was skipped there.)"""
    import os

    os.chmod(path, 0o444)
    if not os.access(path, os.W_OK):
        return
    target = os.path.realpath(path)
    real_access = os.access

    def access_but_not_path(p, mode, *args, **kwargs):
        if mode & os.W_OK and os.path.realpath(os.fsdecode(p)) == target:
            return False
        return real_access(p, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access_but_not_path)


def run_with_failing_stdout(args, stdout: str, rc: int, env=None) -> str:
    """``python -m liftnet *args`` in a child process whose standard output fails: ``"pipe"``,
    a pipe whose reader is gone before anything is printed (as ``| head`` leaves it), or
    ``"full"``, ``/dev/full`` (every write fails with ENOSPC). ``env`` (default: this
    process's, with ``PYTHONUNBUFFERED=1`` so that each print meets the failure at once).
    Asserts what every command does then: exit status ``rc``, no traceback, and on standard
    error nothing for the closed pipe, one line naming the command and the failure for
    ``/dev/full``. Returns the standard error."""
    import os
    import subprocess
    import sys

    if env is None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sink = open("/dev/full", "w") if stdout == "full" else subprocess.PIPE
    try:
        p = subprocess.Popen([sys.executable, "-m", "liftnet", *args], stdout=sink,
                             stderr=subprocess.PIPE, env=env, text=True)  # fmt: skip
        if stdout == "pipe":
            p.stdout.close()  # the reader leaves before anything is printed
        err = p.communicate(timeout=300)[1]
    finally:
        if sink is not subprocess.PIPE:
            sink.close()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert p.returncode == rc, err
    if stdout == "pipe":
        assert err == ""
    else:
        assert err.strip().count("\n") == 0, err
        assert (f"liftnet {args[0]}: error: cannot print to standard output: No space left on "
                f"device") in err, err  # fmt: skip
    return err


def zero_kkt() -> dict:
    """The certificate of a stub result: every part of ``KKTReport`` and the residual 0."""
    from liftnet.verification.kkt import KKTReport

    return dict.fromkeys((*KKTReport.PARTS, "residual"), 0.0)


def ctrl_c_in_first_ampl_release(monkeypatch) -> list:
    """PyNumero's ``AmplInterface.__del__`` patched to send this process a Ctrl-C (SIGINT)
    as the first one is released (where the cyclic garbage collector used to drop it);
    returns the list that counts the releases."""
    import os
    import signal

    from pyomo.contrib.pynumero import asl

    real, frees = asl.AmplInterface.__del__, []

    def ctrl_c_in_del(self):
        frees.append(1)
        if len(frees) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        real(self)

    monkeypatch.setattr(asl.AmplInterface, "__del__", ctrl_c_in_del)
    return frees


def slightly_infeasible_point(seed, hidden=(4, 3), N=12, bias=False, coupling="complementarity",
                              groups="column", zero=True, lam=0.05, dtype="float64"):
    """``(prob, W, b, V)``: a slightly infeasible point (the lift plus noise) with
    (optionally) one zero group in ``W_1``, for the multiplier and certificate tests."""
    import numpy as np

    from liftnet import LiftedProblem

    rng = np.random.default_rng(seed)
    prob = LiftedProblem(rng.standard_normal((N, 3)), rng.standard_normal((N, 2)),
                         hidden=hidden, bias=bias, coupling=coupling, groups=groups,
                         lam=lam, alpha=0.2, dtype=dtype)
    W, _ = prob.initial_weights(seed)
    if zero:
        W[0][:, 0] = 0.0
    b = [0.3 * rng.standard_normal(s) for s in prob.b_shapes] if bias else None
    V = [v + 0.1 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    return prob, W, b, V


def bench_problem(dtype="float64"):
    """A small problem with biases (40 samples, widths 5-6-4-2) on which the benchmarks' timing
    functions run in a test's time."""
    import numpy as np

    from liftnet import LiftedProblem

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)).astype(dtype)
    Y = rng.standard_normal((40, 2)).astype(dtype)
    return LiftedProblem(X, Y, hidden=(6, 4), lam=1e-2, bias=True, dtype=dtype)

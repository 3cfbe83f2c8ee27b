"""The compiled group OWL-QN (liftnet/solvers/owlqn_compiled.py) against the Python loop of
``quasi_newton.group_owlqn``: the same iterates to the bit, the same result, and the same
handling of time limits and Ctrl-C."""

import os
import signal
import threading

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem, solve_alm
from liftnet.datasets import make_teacher
from liftnet.solvers import owlqn_compiled as oc
from liftnet.solvers import threads
from liftnet.solvers.alm import _BranchSubproblem, _Subproblem, _WeightsOnly, warm_up
from liftnet.solvers.quasi_newton import FINISH_EVERY, CompactLBFGS, group_owlqn
from liftnet.solvers.threads import limit_blas
from liftnet.verification.kkt import initial_multipliers


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The compiled loop runs with the BLAS held to one thread (``threads.one_thread``), as
    ``solve_alm`` holds it on small problems: every test here calls the solvers that way."""
    with limit_blas(1):
        yield


def _problem(widths=(3, 5, 4, 2), N=60, coupling="complementarity", bias=False, seed=0,
             lam=1e-2, groups="column"):
    X, Y, _, _ = make_teacher(N, widths, alpha=0.1, noise=0.1, seed=seed)
    return LiftedProblem(X, Y, hidden=widths[1:-1], coupling=coupling, bias=bias, lam=lam,
                         groups=groups)


def _subproblem(prob, rho=1.0, branch=True, seed=0):
    """An ALM subproblem at the lift of the initial weights, with its starting point."""
    W, b = prob.initial_weights(seed)
    V = prob.lift(W, b)
    sub = _Subproblem(prob)
    sub.set(*initial_multipliers(prob, W, b, V), rho)
    z = prob.layout.pack(W, b, V, dtype=prob.dtype)
    if branch:
        bsub = _BranchSubproblem(sub, z)
        return bsub, bsub.x0
    return sub, z


def _both(sub, x0, **kw):
    """The Python loop's and the compiled solver's results from the same start."""
    lb = CompactLBFGS.sized(x0, kw.pop("memory", 5), blocks=sub.blocks,
                            direct=sub.n_nonsmooth)
    assert oc.usable(sub, x0, lb, None)
    oc.ENABLED = False
    try:
        py = group_owlqn(sub, x0, lbfgs=lb, **kw)
    finally:
        oc.ENABLED = True
    return py, oc.solve(sub, x0, lbfgs=lb, **kw)


def _assert_same(py, cc):
    (xa, ia), (xb, ib) = py, cc
    np.testing.assert_array_equal(xa, xb)
    assert (ia.status, ia.nit, ia.n_backtracks) == (ib.status, ib.nit, ib.n_backtracks)
    assert ia.residual == ib.residual and ia.value == ib.value
    np.testing.assert_array_equal(ia.steps, ib.steps)
    np.testing.assert_array_equal(ia.grad, ib.grad)
    for a, b in zip(ia.cache[1] + ia.cache[2], ib.cache[1] + ib.cache[2]):  # V and U
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("branch", [True, False])
def test_the_same_iterates_to_the_bit(coupling, bias, branch):
    """400 iterations (statuses, counts, point, gradient, cache, block scales all equal)."""
    prob = _problem(coupling=coupling, bias=bias)
    sub, x0 = _subproblem(prob, rho=5.0, branch=branch)
    py, cc = _both(sub, x0, tol=1e-10, max_iter=400)
    assert py[1].nit > 100  # (a solve long enough to pass the memory's wrap-around)
    _assert_same(py, cc)


@pytest.mark.parametrize("groups", ["element", "row", "column"])
def test_the_same_iterates_for_every_group_shape_and_to_convergence(groups):
    prob = _problem(groups=groups, lam=3e-2, seed=2)
    sub, x0 = _subproblem(prob, rho=2.0)
    py, cc = _both(sub, x0, tol=1e-5, max_iter=5000)
    assert py[1].status == "converged"
    _assert_same(py, cc)


@pytest.mark.parametrize("bias", [False, True])
def test_the_same_iterates_with_one_hidden_layer(bias):
    prob = _problem(widths=(4, 3, 2), N=50, bias=bias)
    for branch in (True, False):
        sub, x0 = _subproblem(prob, rho=1.0, branch=branch)
        _assert_same(*_both(sub, x0, tol=1e-10, max_iter=200))


def test_the_same_iterates_where_the_memory_keeps_its_products():
    """``2 m n >= 2^18``: :meth:`CompactLBFGS.push` keeps ``Z g`` for the next pair and
    :meth:`apply` reuses it (the 8-16-16-4 teacher at N = 1600, 51,600 variables)."""
    prob = _problem(widths=(8, 16, 16, 4), N=1600, lam=1e-3)
    sub, x0 = _subproblem(prob, rho=15.6)
    py, cc = _both(sub, x0, tol=1e-10, max_iter=150)
    assert 2 * 5 * x0.size >= 1 << 18
    _assert_same(py, cc)


def test_the_same_end_for_scales_patience_floor_and_short_steps():
    prob = _problem(bias=True, seed=3)
    sub, x0 = _subproblem(prob, rho=3.0)
    scales0 = np.linspace(0.5, 2.0, len(sub.blocks))
    _assert_same(*_both(sub, x0, tol=1e-10, max_iter=800, scales0=scales0))
    _assert_same(*_both(sub, x0, tol=1e-10, max_iter=3000, patience=40))
    py, cc = _both(sub, x0, tol=1e-10, max_iter=500, floor=sub.value(x0)[0] - 1e-3)
    assert py[1].status == "unbounded"
    _assert_same(py, cc)
    py, cc = _both(sub, x0, tol=1e-10, max_iter=500, max_short=1, memory=2)
    _assert_same(py, cc)


@pytest.mark.parametrize("patience, max_short", [(-1, 20), (2.5, 20), (3, 1.5),
                                                (float("inf"), 20), (None, float("nan"))])
def test_patience_and_max_short_outside_the_integers_as_the_python_loop_reads_them(
        patience, max_short):
    """``k >= patience`` and ``n >= max_short``, whatever number they are: the compiled loop
    took ``int()`` of them, and -1 for no patience (-1: stalled at once in the Python loop,
    never in the compiled one; 2.5: after 5 iterations against 4)."""
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0, branch=False)
    py, cc = _both(sub, x0, tol=1e-10, max_iter=300, patience=patience,
                   max_short=max_short, c1=0.9)
    _assert_same(py, cc)


@pytest.mark.parametrize("every", [0.0, 1e-9, float("nan")])
@pytest.mark.parametrize("stop", [dict(max_iter=20), dict(max_iter=300, patience=3)])
def test_the_monitor_sees_the_last_iterate_as_in_the_python_loop(every, stop):
    """``monitor`` after every accepted iterate that is due, the last one too (the compiled
    loop skipped the iterate at which the next top's tests ended the solve), and a monitor
    that stops there ends the solve ``interrupted`` in both; ``monitor_every`` NaN: never."""
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0, branch=False)
    calls = {}
    for enabled in (False, True):
        ks = calls[enabled] = []
        oc.ENABLED = enabled
        try:
            group_owlqn(sub, x0, tol=1e-10, monitor=lambda k, *a, ks=ks: ks.append(k),
                        monitor_every=every,
                        lbfgs=CompactLBFGS.sized(x0, 5, blocks=sub.blocks,
                                                 direct=sub.n_nonsmooth), **stop)
        finally:
            oc.ENABLED = True
    assert calls[True] == calls[False]
    if every != every:  # NaN
        assert calls[True] == []
        return
    last = calls[False][-1]
    assert last > 0
    py, cc = _both(sub, x0, tol=1e-10, monitor=lambda k, *a: k == last, monitor_every=every,
                   **stop)
    assert py[1].status == "interrupted"
    _assert_same(py, cc)


@pytest.mark.parametrize("bias", [False, True])
def test_the_same_weight_polish(bias):
    """``alm._WeightsOnly`` (``V`` held fixed, its gradient zero there): the same iterates, and
    ``V`` does not move."""
    prob = _problem(bias=bias, seed=4)
    sub, z = _subproblem(prob, rho=5.0, branch=False)
    # a point where the weights have something left to do: a few iterations of the whole
    lb = CompactLBFGS.sized(z, 5, blocks=sub.blocks, direct=sub.n_nonsmooth)
    z, _ = group_owlqn(sub, z, tol=1e-12, max_iter=60, lbfgs=lb)
    wsub = _WeightsOnly(sub)
    py, cc = _both(wsub, z, tol=1e-12, max_iter=300)
    _assert_same(py, cc)
    assert py[1].nit > 50
    np.testing.assert_array_equal(cc[0][wsub.n_free:], z[wsub.n_free:])


def test_the_checkpoints_and_certificates_come_at_the_same_iterations():
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0)
    seen = {True: [], False: []}
    for compiled in (True, False):
        real_cert, real_check = sub.certify, sub.sub.checkpoint

        def certify(x, g, cache, compiled=compiled, real=real_cert):
            seen[compiled].append(("certify", x.copy()))
            return real(x, g, cache)

        def checkpoint(x, cache=None, compiled=compiled, real=real_check):
            seen[compiled].append(("checkpoint", x.copy()))
            return real(x, cache)

        sub.certify, sub.checkpoint = certify, checkpoint
        lb = CompactLBFGS.sized(x0, 5, blocks=sub.blocks, direct=sub.n_nonsmooth)
        oc.ENABLED = compiled
        try:
            group_owlqn(sub, x0, tol=1e-6, max_iter=300, lbfgs=lb)
        finally:
            oc.ENABLED = True
            del sub.certify, sub.checkpoint
    assert [k for k, _ in seen[True]] == [k for k, _ in seen[False]]
    assert len(seen[True]) >= 20
    for (_, a), (_, b) in zip(seen[True], seen[False]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("stop_at", [None, 3])
def test_finish_is_asked_at_the_same_iterations_and_ends_the_solve_alike(stop_at):
    """``finish`` sees the same iterates, gradients and residuals in both loops, and the
    solve it ends (at its third call) ends alike, status ``finished``."""
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0)
    seen = []

    def finish(k, x, g, cache, r):
        seen.append((k, x.copy(), g.copy(), r, [v.copy() for v in cache[1]]))
        return stop_at is not None and k == stop_at * FINISH_EVERY

    py, cc = _both(sub, x0, tol=1e-9, max_iter=200, finish=finish)
    _assert_same(py, cc)
    n = len(seen) // 2
    assert n == (3 if stop_at else 7) and len(seen) == 2 * n
    assert (py[1].status == "finished") == bool(stop_at)
    for a, b in zip(seen[:n], seen[n:]):
        assert a[0] == b[0] and a[3] == b[3]
        for u, v in zip(a[1:3] + tuple(a[4]), b[1:3] + tuple(b[4])):
            np.testing.assert_array_equal(u, v)


def test_solve_alm_takes_it_and_ends_where_the_python_loop_does():
    """The whole ALM (unbounded restarts, both coordinate systems, the weight polish) with and
    without the compiled loop: the same point, history and certificate."""
    prob = _problem(widths=(4, 8, 6, 2), N=120, bias=True, lam=1e-3)
    runs = []
    for enabled in (True, False):
        oc.ENABLED = enabled
        try:
            runs.append(solve_alm(prob, tol=1e-7, seed=1, max_iter=15))
        finally:
            oc.ENABLED = True
    a, b = runs
    for x, y in zip(a.W + a.V + a.M1, b.W + b.V + b.M1):
        np.testing.assert_array_equal(x, y)
    assert a.kkt["residual"] == b.kkt["residual"] and a.status == b.status
    assert ([h["inner_iterations"] for h in a.history]
            == [h["inner_iterations"] for h in b.history])


def test_where_it_applies():
    prob = _problem()
    sub, x0 = _subproblem(prob)
    lb = CompactLBFGS.sized(x0, 5, blocks=sub.blocks, direct=sub.n_nonsmooth)
    assert oc.usable(sub, x0, lb, None) and oc.usable(sub.sub, x0, lb, None)
    assert not oc.usable(sub, x0, lb, lambda *a: False)  # a per-iteration callback
    with limit_blas(2):  # small products: the compiled loop takes one thread of the two
        assert oc.usable(sub, x0, lb, None)
        with limit_blas(None):
            assert oc.usable(sub, x0, lb, None)
    wide = _problem(widths=(784, 16, 4), N=800)
    assert threads.product_size(wide) >= threads.SMALL_PRODUCTS
    wsub, wx0 = _subproblem(wide)
    wlb = CompactLBFGS.sized(wx0, 5, blocks=wsub.blocks, direct=wsub.n_nonsmooth)
    assert oc.usable(wsub, wx0, wlb, None)  # (this module's tests hold the BLAS to one)
    with limit_blas(2):
        assert not oc.usable(wsub, wx0, wlb, None)
        with limit_blas(1):
            assert oc.usable(wsub, wx0, wlb, None)
    assert not oc.usable(sub, x0, None, None)  # no memory given
    nw = sub.n_nonsmooth
    other = CompactLBFGS(x0.size, 5, [slice(0, nw), slice(nw, x0.size)], direct=nw)
    assert len(sub.blocks) > 2 and not oc.usable(sub, x0, other, None)
    x, info = group_owlqn(sub, x0, tol=1e-10, max_iter=30, lbfgs=other)
    assert info.nit == 30
    assert oc.usable(_WeightsOnly(sub.sub), x0, lb, None)  # the weight polish
    p32 = LiftedProblem(prob.X.astype(np.float32), prob.Y.astype(np.float32), hidden=(5, 4),
                        dtype=np.float32)
    s32, z32 = _subproblem(p32)
    assert not oc.usable(s32, z32, CompactLBFGS.sized(z32, 5, blocks=s32.blocks,
                                                      direct=s32.n_nonsmooth), None)
    # a Fortran-ordered X is copied C-ordered: V0 = X.T is F-ordered and the loop applies
    pF = LiftedProblem(np.asfortranarray(prob.X), prob.Y, hidden=(5, 4))
    sF, zF = _subproblem(pF)
    lbF = CompactLBFGS.sized(zF, 5, blocks=sF.blocks, direct=sF.n_nonsmooth)
    assert pF.V0.flags.f_contiguous and oc.usable(sF, zF, lbF, None)
    # a V0 that is not F-ordered (X.T of a C-ordered X is; a C-ordered copy is not) is the
    # Python loop's: the compiled kernels index V0's transpose as C-ordered rows
    pF.V0 = np.ascontiguousarray(pF.V0)
    assert not pF.V0.flags.f_contiguous and not oc.usable(sF, zF, lbF, None)


def _blas_threads():
    """The thread counts of the BLAS libraries loaded (numpy's and SciPy's, numba's)."""
    from threadpoolctl import threadpool_info

    return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()
                  if i["user_api"] == "blas")


def test_it_runs_on_one_blas_thread_and_gives_the_callers_threads_back():
    """Under a two-thread limit (compare's harness) a small problem's subproblem runs the
    compiled loop with every BLAS library on one thread, its callbacks included, and the
    caller's limit holds again afterwards; the iterates are those of the Python loop on one
    thread."""
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0)
    seen = []

    def monitor(k, x, cache, r):
        seen.append(_blas_threads())
        return False

    lb = CompactLBFGS.sized(x0, 5, blocks=sub.blocks, direct=sub.n_nonsmooth)
    with limit_blas(2):
        before = _blas_threads()
        assert len(before) >= 2  # numpy's and SciPy's (numba's products)
        cc = group_owlqn(sub, x0, tol=1e-9, max_iter=400, lbfgs=lb, monitor=monitor,
                         monitor_every=0.0)
        assert _blas_threads() == before
    assert seen and all({n for _, n in s} == {1} and len(s) == len(before) for s in seen)
    oc.ENABLED = False
    try:
        py = group_owlqn(sub, x0, tol=1e-9, max_iter=400, lbfgs=lb)  # (one thread: fixture)
    finally:
        oc.ENABLED = True
    np.testing.assert_array_equal(cc[0], py[0])
    assert cc[1].nit == py[1].nit > 0


def test_a_past_deadline_stops_before_the_first_iteration_as_the_python_loop_does():
    prob = _problem(bias=True)
    sub, x0 = _subproblem(prob, rho=5.0)
    py, cc = _both(sub, x0, tol=1e-12, max_iter=10**6, deadline=0.0)
    _assert_same(py, cc)
    x, info = cc
    assert info.status == "time_limit" and info.nit == 0
    # the returned residual is the certificate's (model coordinates), of the returned point
    g = sub.sub.gradient(x, info.cache)
    assert info.residual == sub.sub.residual_from_pg(sub.sub.pseudo_gradient(x, g, info.cache))


def test_ctrl_c_inside_the_compiled_loop_returns_the_best_iterate():
    """A real SIGINT while the compiled iterations run: Python raises it when the current chunk
    returns, and the solve ends ``interrupted`` with its best iterate, certified."""
    prob = _problem(widths=(8, 16, 16, 4), N=400, lam=1e-3)
    sub, x0 = _subproblem(prob, rho=15.6)
    lb = CompactLBFGS.sized(x0, 5, blocks=sub.blocks, direct=sub.n_nonsmooth)
    warm_up()  # (compiled or loaded first: both loops, the certificate's kernels too)
    oc.solve(sub, x0, tol=1e-12, max_iter=5, lbfgs=lb)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    # one BLAS thread, as solve_alm runs such a problem (two threads fight for the cores of a
    # busy machine: 8 ms per iteration instead of 0.2 ms, measured while a benchmark ran)
    with limit_blas(1):
        try:
            timer.start()
            x, info = oc.solve(sub, x0, tol=1e-14, max_iter=10**6, lbfgs=lb)
        finally:
            timer.cancel()
    assert info.status == "interrupted" and info.nit > 100
    assert np.isfinite(info.residual) and np.all(np.isfinite(x))
    g = sub.sub.gradient(x, info.cache)
    assert info.residual == sub.sub.residual_from_pg(sub.sub.pseudo_gradient(x, g, info.cache))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=700),
       st.integers(1, 3))
@example([float((i * 37) % 101) - 50.3 for i in range(700)], 2)  # 350 strided terms: 2 levels
@example([float((i * 37) % 101) - 50.3 for i in range(400)], 3)  # 134 strided terms: 1 split
def test_numpy_sum_order(values, step):
    """``_numpy_sum`` / ``_pairwise`` add in numpy's order: equal to ``np.sum`` to the bit."""
    a = np.array(values, dtype=float)
    assert oc._numpy_sum(a) == a.sum() or (a.size == 0 and oc._numpy_sum(a) == 0.0)
    strided = a[::step]
    assert 0.0 + oc._pairwise(a, 0, strided.size, step) == strided.sum()


@pytest.mark.parametrize("n", [1, 7, 8, 129, 1437, 8193, 60000])
def test_numpy_sum_order_on_long_vectors(n):
    a = np.random.default_rng(n).standard_normal(n) * 1e3
    assert oc._numpy_sum(a) == a.sum()
    D = a.reshape(1, -1)
    assert 0.0 + oc._pairwise(D[0], 0, n, 1) == D.sum(axis=1)[0]


def test_a_sampled_inner_callback_keeps_the_compiled_loop_and_the_iterates(monkeypatch):
    """``inner_callback_every``: the callback sees iterates (with their certificate's inputs)
    at most that often, the compiled loop runs (its solve is called), and the run ends where
    it ends without a callback; a callback that asks to stop ends it ``interrupted``."""
    import time

    from liftnet import kkt_residuals

    prob = _problem(widths=(8, 16, 16, 4), N=400, lam=1e-3)
    plain = solve_alm(prob, tol=1e-4, seed=0, max_iter=4)
    solves, real = [], oc.solve

    def spy(*a, **k):
        solves.append(k.get("monitor") is not None)
        return real(*a, **k)

    monkeypatch.setattr(oc, "solve", spy)
    seen = []

    def watch(rec):
        seen.append((time.monotonic(), rec["iteration"]))
        if len(seen) == 1:
            p = rec["iterate"]()
            assert np.isfinite(kkt_residuals(prob, p["W"], p["b"], p["V"], p["M1"],
                                             p["M2"])["residual"])

    res = solve_alm(prob, tol=1e-4, seed=0, max_iter=4, inner_callback=watch,
                    inner_callback_every=0.02)
    assert solves and all(solves)
    for a, b in zip(res.W + res.V, plain.W + plain.V):
        np.testing.assert_array_equal(a, b)
    assert len(seen) >= 5
    # the solver reads its clock just before the call, the callback just after: under load a
    # preemption between the two shifts one reading by milliseconds (a 1 ms slack failed with
    # four test runs on 2 cores, session 49), so half the interval is asked for
    gaps = np.diff([t for t, _ in seen])
    assert np.all(gaps >= 0.5 * 0.02) or len(seen) < 2
    stopped = solve_alm(prob, tol=1e-4, seed=0, max_iter=4, inner_callback=lambda rec: True,
                        inner_callback_every=0.001)
    assert stopped.status == "interrupted" and stopped.message == "stopped by callback"


def test_inner_callback_every_thins_the_python_loops_calls_too():
    """The Python loop (float32 here) calls back at most every ``inner_callback_every``."""
    import time

    p32 = _problem(widths=(4, 8, 6, 2), N=200, lam=1e-3)
    prob = LiftedProblem(p32.X.astype(np.float32), p32.Y.astype(np.float32), hidden=(8, 6),
                         lam=1e-3, dtype=np.float32)
    every, all_ = [], []
    solve_alm(prob, tol=1e-4, seed=0, max_iter=3, inner_callback=lambda r: all_.append(1))
    solve_alm(prob, tol=1e-4, seed=0, max_iter=3, inner_callback_every=0.01,
              inner_callback=lambda r: every.append(time.monotonic()))
    assert 0 < len(every) < len(all_)
    assert np.all(np.diff(every) >= 0.01 - 1e-3)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1.0, ValueError),
                                        (float("nan"), ValueError), ("5ms", TypeError)])
def test_inner_callback_every_is_checked(bad, error):
    prob = _problem()
    with pytest.raises(error, match="inner_callback_every"):
        solve_alm(prob, inner_callback=lambda r: None, inner_callback_every=bad, max_iter=1)
    with pytest.raises(ValueError, match="inner_callback_every needs an inner_callback"):
        solve_alm(prob, inner_callback_every=0.01, max_iter=1)


def test_ctrl_c_in_solve_alm_on_the_compiled_loop_returns_its_best_point():
    """A real SIGINT into ``solve_alm`` while its compiled inner loop runs: status
    ``interrupted``, the point of smallest certified residual, its certificate recomputable."""
    from liftnet import kkt_residuals

    prob = _problem(widths=(8, 16, 16, 4), N=400, lam=1e-3)
    solve_alm(prob, tol=1e-3, max_iter=1)  # (warm: the kernels loaded before the timer)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        res = solve_alm(prob, tol=1e-12, seed=0, max_iter=1000)
    finally:
        timer.cancel()
    assert res.status == "interrupted" and res.history
    rep = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    assert res.kkt["residual"] == pytest.approx(rep["residual"], rel=1e-12)
    assert res.kkt["residual"] == min([res.start["residual"]]
                                      + [h["residual"] for h in res.history])


def test_solve_alm_on_more_blas_threads_runs_the_python_loop_on_large_products(monkeypatch):
    """``threads=2``: a problem of small products still runs the compiled loop (on one
    thread, :func:`.owlqn_compiled.one_blas_thread`), one of large products the Python loop,
    whose products are numpy's on the two threads; ``"auto"``: the compiled loop on both
    (inside this module's one-thread limit)."""
    calls = []
    real = oc.solve
    monkeypatch.setattr(oc, "solve", lambda *a, **k: calls.append(1) or real(*a, **k))
    solve_alm(_problem(), tol=1e-3, max_iter=2, threads=2)
    assert calls
    wide = _problem(widths=(784, 16, 4), N=800)
    calls.clear()
    solve_alm(wide, tol=1e-3, max_iter=1, threads=2)
    assert not calls
    solve_alm(wide, tol=1e-3, max_iter=1)
    assert calls


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "compiled"])
def test_push_skips_pairs_whose_curvature_is_below_1e_12_of_their_lengths(compiled):
    """``s.y <= 1e-12 |s| |y|``: the pair is skipped (its curvature is lost in rounding); just
    above, it is stored. The Python push and the compiled loop's push use the same threshold
    (a mutation review changed either to ``s.y > 0`` and no other test noticed)."""
    x = g = np.zeros(2)
    xn = np.array([1.0, 0.0])
    for sy, expected in [(1e-14, False), (0.0, False), (-1.0, False), (1e-10, True)]:
        gn = np.array([sy, 1.0])  # s = (1, 0), y = (sy, 1): |s| |y| ~ 1
        mem = CompactLBFGS(2, 3, [slice(0, 2)])
        if compiled:
            lb = (mem.Z, mem.SY, mem.G, mem.bounds, np.zeros((1, 2 * mem.m)), mem.n_direct,
                  mem.m)
            ist = np.zeros(17, dtype=np.int64)
            _, stored = oc._push(lb, np.zeros(mem.m, dtype=np.int64), ist, x, xn, g, gn)
            assert ist[oc._NORD] == int(expected)
        else:
            _, stored = mem.push(x, xn, g, gn)
            assert len(mem.order) == int(expected)
        assert bool(stored) == expected, (sy, compiled)


def test_the_cache_guard_covers_every_module_the_compiled_loop_calls_into():
    """numba keeps a compiled caller's copy of its callees: the stamp that drops the compiled
    loop's cache must cover every module whose compiled functions it calls, the kernels' own
    sources (couplings, entrywise) included, and the stamp on disk is of those files."""
    import hashlib
    import os
    from pathlib import Path

    from liftnet.solvers import kernels

    inlined = {m.__name__ for m in oc.INLINED}
    called = {v.py_func.__module__ for v in vars(oc).values() if hasattr(v, "py_func")}
    called |= {v.py_func.__module__ for v in vars(kernels).values()  # (couplings, entrywise)
               if hasattr(v, "py_func")}
    called.discard(oc.__name__)
    assert called <= inlined, called - inlined
    # where the guard writes it: __pycache__, or numba's subfolder of NUMBA_CACHE_DIR (looking
    # in __pycache__ alone skipped this check exactly where the stale cache had run)
    # (numba's own folder of the compiled loop's cache, not the guard's idea of it)
    cache = getattr(oc._run, "_cache", None)
    folder = Path(getattr(cache, "_cache_path", None) or kernels._numba_cache_folder())
    stamp = folder / "owlqn_compiled.sources-sha256"
    if not stamp.exists() and not os.access(folder if folder.exists() else folder.parent,
                                            os.W_OK):
        pytest.skip("a read-only install keeps no stamp")
    want = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in oc.INLINED))
    assert stamp.read_text() == want.hexdigest()

"""The interior-point method for convex problems over x >= 0 (liftnet.solvers.interior_point)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls

from liftnet.solvers.interior_point import interior_point_cg


def nnls_problem(A, c, offset=0.0):
    """``f = 1/2 ||A x - c||^2 + offset`` as the method's callables (Jacobi preconditioner)."""
    H = A.T @ A

    def fun(x):
        r = A @ x - c
        return 0.5 * float(r @ r) + offset, r

    def grad(x, r):
        return A.T @ r

    def hessp(r, v):
        return H @ v

    def precond(r, shift):
        d = np.diag(H) + shift
        return lambda v: v / d

    return fun, grad, hessp, precond


@settings(max_examples=25, deadline=None)
@given(m=st.integers(3, 30), n=st.integers(1, 20), seed=st.integers(0, 2**16))
def test_matches_scipy_nnls(m, n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    c = rng.standard_normal(m)
    x_ref, r_ref = nnls(A, c)
    fun, grad, hessp, precond = nnls_problem(A, c)
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(n), tol=1e-10,
                                max_iter=200)
    assert info.status == "converged"
    assert np.all(x > 0)  # strictly interior
    f_ref = 0.5 * r_ref**2
    assert info.value == pytest.approx(f_ref, rel=1e-6, abs=1e-10)
    # the KKT conditions of the bound-constrained problem, up to the tolerance
    g = grad(x, fun(x)[1])
    scale = max(1.0, float(np.abs(A.T @ c).max()))
    assert g.min() >= -1e-5 * scale
    assert float(np.max(np.minimum(x, np.maximum(g, 0)))) <= 1e-4 * scale


def test_score_returns_the_best_iterate_and_stops_on_stall():
    rng = np.random.default_rng(0)
    A, c = rng.standard_normal((40, 15)), rng.standard_normal(40)
    fun, grad, hessp, precond = nnls_problem(A, c)
    seen = []

    def score(r):
        # a score with its minimum early: the distance of ||r|| from a value passed on the way
        s = abs(float(np.linalg.norm(r)) - 5.0)
        seen.append((s, r.copy()))
        return s

    patience = 3
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14,
                                max_iter=200, score=score, patience=patience)
    s_min, r_best = min(seen, key=lambda t: t[0])
    assert info.score == pytest.approx(s_min)
    np.testing.assert_allclose(A @ x - c, r_best, atol=1e-12)  # x is that iterate
    # the stall rule, not the ftol or residual rule, ended the run
    assert info.status == "stalled" and info.nit < 200
    # replay: the last `patience` scores did not improve the best before them by 1%, and the
    # score just before them did (else the rule would have stopped one iteration earlier)
    scores = [s for s, _ in seen]
    assert min(scores[-patience:]) >= 0.99 * min(scores[:-patience])
    assert scores[-patience - 1] < 0.99 * min(scores[:-patience - 1])


def test_deadline_and_interrupt_return_an_iterate():
    rng = np.random.default_rng(1)
    A, c = rng.standard_normal((30, 10)), rng.standard_normal(30)
    fun, grad, hessp, precond = nnls_problem(A, c)
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(10), tol=1e-12,
                                max_iter=100, deadline=0.0)
    assert info.status == "time_limit" and info.nit == 0 and np.all(x > 0)

    calls = []

    def cut(x):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return fun(x)

    x, info = interior_point_cg(cut, grad, hessp, precond, np.zeros(10), tol=1e-12,
                                max_iter=100)
    assert info.status == "interrupted" and info.nit == 2
    assert np.all(np.isfinite(x)) and info.value == pytest.approx(fun(x)[0])


def test_divergence_returns_the_last_finite_iterate():
    """An iterate whose value is not finite ends the run ``diverged`` with the iterate before
    it (without a score the NaN iterate itself came back, and a caller fell back to its
    start)."""
    rng = np.random.default_rng(2)
    A, c = rng.standard_normal((30, 10)), rng.standard_normal(30)
    fun, grad, hessp, precond = nnls_problem(A, c)
    seen = []

    def breaks(x):
        seen.append(x.copy())
        return (np.nan, None) if len(seen) == 5 else fun(x)

    x, info = interior_point_cg(breaks, grad, hessp, precond, np.zeros(10), tol=1e-14,
                                max_iter=100)
    assert info.status == "diverged" and info.nit == 3
    np.testing.assert_array_equal(x, seen[3])
    assert np.isfinite(info.value) and info.value == fun(x)[0]


@pytest.mark.parametrize("with_score", [True, False])
def test_interrupt_in_the_start_evaluation_returns_the_start(with_score):
    """Ctrl-C in the first call of ``fun`` (with a score: the caller's start, scored before
    the iterations; without: the start moved into the interior) returns the start
    ``max(x0, 0)``, unevaluated, with status "interrupted"."""
    rng = np.random.default_rng(2)
    A, c = rng.standard_normal((30, 10)), rng.standard_normal(30)
    fun, grad, hessp, precond = nnls_problem(A, c)

    def cut(x):
        raise KeyboardInterrupt

    x0 = rng.standard_normal(10)
    x, info = interior_point_cg(cut, grad, hessp, precond, x0, tol=1e-12, max_iter=100,
                                score=(lambda r: float(np.linalg.norm(r))) if with_score
                                else None)
    assert info.status == "interrupted" and info.nit == 0 and info.start
    np.testing.assert_array_equal(x, np.maximum(x0, 0.0))
    assert np.isnan(info.value)
    assert (np.isnan(info.score) if with_score else info.score is None)


def _nnls(A, c):
    H = A.T @ A
    return (lambda x: (0.5 * float((A @ x - c) @ (A @ x - c)), A @ x - c),
            lambda x, r: A.T @ r, lambda r, v: H @ v,
            lambda r, shift: (lambda v: v / (np.diag(H) + shift)))


@pytest.mark.parametrize("kw, error, match", [
    ({"tol": -1.0}, ValueError, "^tol must be"),
    ({"tol": float("nan")}, ValueError, "^tol must be finite"),
    ({"ftol": -1.0}, ValueError, "^ftol must be"),
    ({"max_iter": -3}, ValueError, "^max_iter must be"),
    ({"max_iter": 2.5}, TypeError, "^max_iter must be an integer"),
    ({"patience": -1}, ValueError, "^patience must be"),
    ({"sigma": 0.0}, ValueError, "^sigma must be"),
    ({"sigma": 1.0}, ValueError, "^sigma must be"),
    ({"cg_tol": 0.0}, ValueError, "^cg_tol must be"),
    ({"cg_max_iter": 0}, ValueError, "^cg_max_iter must be"),
    ({"deadline": "soon"}, TypeError, "^deadline must be"),
])
def test_interior_point_arguments_are_checked_by_name(kw, error, match):
    """Every argument is checked by name (a test audit: tol = -1 or NaN ran to max_iter,
    max_iter = -3 returned at once with status "max_iter")."""
    rng = np.random.default_rng(0)
    fun, grad, hessp, precond = _nnls(rng.standard_normal((10, 4)), rng.standard_normal(10))
    args = {"tol": 1e-8, "max_iter": 5, **kw}
    with pytest.raises(error, match=match):
        interior_point_cg(fun, grad, hessp, precond, np.zeros(4), **args)

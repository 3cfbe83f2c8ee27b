"""The interior point of the multiplier estimate in detail (liftnet/solvers/interior_point.py):
its documented constants (the 1% start shift, the 0.5% kept from the boundary), the score's
bookkeeping (patience, the 1% rule, the floor, ties keep the earlier point), the ftol and
max_iter rules, the stopping rule's scales with negative values, and the conjugate gradients."""

import numpy as np
import pytest
from test_interior_point import nnls_problem

from liftnet.solvers.interior_point import interior_point_cg, pcg


def scripted_score(values):
    """A score returning ``values`` call after call (the last one repeated)."""
    calls = []

    def score(r):
        calls.append(1)
        return float(values[min(len(calls), len(values)) - 1])

    return score, calls


def problem(seed=0, m=40, n=15):
    rng = np.random.default_rng(seed)
    return nnls_problem(rng.standard_normal((m, n)), rng.standard_normal(m))


def test_iterations_start_one_percent_of_the_mean_positive_entry_inside():
    """``x_s = max(x0, 0) + 1e-2 * mean(positive entries)`` (1.0 when there are none)."""
    fun, grad, hessp, precond = problem(n=4, m=10)
    for x0, shift in ((np.array([1.0, -5.0, 3.0, 0.0]), 0.02), (np.zeros(4), 0.01)):
        seen = []

        def rec(x, seen=seen):
            seen.append(x.copy())
            return fun(x)

        interior_point_cg(rec, grad, hessp, precond, x0, tol=1e-8, max_iter=0)
        np.testing.assert_allclose(seen[0], np.maximum(x0, 0.0) + shift, rtol=1e-15)


def test_a_start_at_the_score_floor_is_returned_at_once():
    fun, grad, hessp, precond = problem()
    score, calls = scripted_score([0.0, 1.0])
    x0 = np.abs(np.random.default_rng(3).standard_normal(15))
    x, info = interior_point_cg(fun, grad, hessp, precond, x0, tol=1e-14, max_iter=50,
                                score=score)
    assert info.status == "converged" and info.nit == 0 and info.start
    assert info.score == 0.0 and len(calls) == 1
    np.testing.assert_array_equal(x, x0)


def test_an_iterate_at_the_score_floor_stops_the_iterations():
    fun, grad, hessp, precond = problem()
    # start, x_s, iterate 1, iterate 2 (at the floor), ...
    score, calls = scripted_score([3.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0625])
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14,
                                max_iter=50, score=score, score_floor=0.5, patience=3)
    assert info.status == "converged" and info.nit == 2 and info.score == 0.5
    assert not info.start


def test_patience_counts_iterations_without_progress_and_a_tie_keeps_the_start():
    """A constant score: ``patience`` iterations, then "stalled" with the start (it ties
    every iterate, and no iterate beats it)."""
    fun, grad, hessp, precond = problem()
    x0 = np.abs(np.random.default_rng(4).standard_normal(15))
    for patience in (1, 3):
        score, _ = scripted_score([1.0])
        x, info = interior_point_cg(fun, grad, hessp, precond, x0, tol=1e-14, ftol=0.0,
                                    max_iter=50, score=score, patience=patience)
        assert info.status == "stalled" and info.nit == patience
        assert info.start and info.score == 1.0
        np.testing.assert_array_equal(x, x0)


def test_a_tie_between_iterates_keeps_the_earlier():
    """The start scores worse; x_s and every iterate tie: x_s is returned."""
    fun, grad, hessp, precond = problem()
    x0 = np.zeros(15)
    score, _ = scripted_score([2.0, 1.0])
    x, info = interior_point_cg(fun, grad, hessp, precond, x0, tol=1e-14, ftol=0.0,
                                max_iter=50, score=score, patience=3)
    assert info.status == "stalled" and info.nit == 3 and not info.start
    np.testing.assert_array_equal(x, x0 + 1e-2)  # x_s
    assert info.value == fun(x0 + 1e-2)[0]


@pytest.mark.parametrize("ratio, status", [(0.995, "stalled"), (0.95, "max_iter")])
def test_progress_counts_only_when_the_score_improves_by_one_percent(ratio, status):
    fun, grad, hessp, precond = problem()
    score, _ = scripted_score([ratio**j for j in range(60)])
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14, ftol=0.0,
                                max_iter=8, score=score, patience=3)
    assert info.status == status
    assert info.nit == (3 if status == "stalled" else 8)
    assert info.score == pytest.approx(ratio ** (info.nit + 1))  # the last iterate: the best
    assert not info.start


def test_max_iter_bounds_the_iterations():
    fun, grad, hessp, precond = problem()
    for max_iter in (0, 1, 4):
        _, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-16,
                                    ftol=0.0, max_iter=max_iter)
        assert info.status == "max_iter" and info.nit == max_iter


def test_ftol_stops_at_the_first_ten_iterations_without_relative_decrease():
    """Stops at the first iteration ``k >= 10`` with ``f_{k-10} - f_k <= ftol |f_k|``."""
    fun, grad, hessp, precond = problem(seed=5, m=60, n=30)
    seen = []

    def rec(x):
        out = fun(x)
        seen.append(out[0])
        return out

    ftol = 1e-6
    _, info = interior_point_cg(rec, grad, hessp, precond, np.zeros(30), tol=0.0, ftol=ftol,
                                max_iter=500, cg_max_iter=2)
    f = seen  # f(x_s), then one value per iteration
    assert info.status == "converged" and len(f) == info.nit + 1
    K = info.nit
    assert K >= 10 and f[K - 10] - f[K] <= ftol * abs(f[K])
    for k in range(10, K):
        assert f[k - 10] - f[k] > ftol * abs(f[k])


def test_residual_rule_with_negative_values_of_f():
    """The scales are ``|f|``: an ``f`` negative at the start converges by the residual rule
    (with ftol=0 nothing else stops it before max_iter)."""
    rng = np.random.default_rng(6)
    A = np.eye(5) + 0.1 * rng.standard_normal((5, 5))
    c = np.abs(rng.standard_normal(5)) + 1.0
    fun, grad, hessp, precond = nnls_problem(A, c, offset=-100.0)
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(5), tol=1e-8, ftol=0.0,
                                max_iter=200)
    assert info.status == "converged" and info.residual <= 1e-8 and info.nit < 200


def test_residual_rule_with_a_negative_gradient_at_the_start():
    """The scales use ``|grad f|``: a start where every partial derivative is negative."""
    A = np.diag([1.0, 2.0, 3.0])
    c = np.array([1.0, 2.0, 3.0])  # optimum x = 1 (interior); grad f(0) = -A^T c < 0
    fun, grad, hessp, precond = nnls_problem(A, c)
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(3), tol=1e-8, ftol=0.0,
                                max_iter=200)
    assert info.status == "converged" and info.residual <= 1e-8 and info.nit < 200
    np.testing.assert_allclose(x, 1.0, rtol=1e-6)


def test_pcg_counts_products_and_stops_at_max_iter():
    rng = np.random.default_rng(7)
    B = rng.standard_normal((4, 4))
    M = B @ B.T + 4 * np.eye(4)
    b = rng.standard_normal(4)
    x, k = pcg(lambda v: M @ v, lambda v: v.copy(), b, 1e-12, 50)
    assert k == 4  # CG's finite termination in exact arithmetic, up to rounding
    np.testing.assert_allclose(M @ x, b, atol=1e-10)
    x, k = pcg(lambda v: M @ v, lambda v: v.copy(), b, 1e-12, 1)
    assert k == 1  # one product: the steepest-descent step
    np.testing.assert_allclose(x, (b @ b) / (b @ M @ b) * b, rtol=1e-12)


def test_pcg_stops_on_a_singular_direction():
    x, k = pcg(lambda v: np.zeros_like(v), lambda v: v.copy(), np.ones(3), 1e-8, 10)
    assert k == 1
    np.testing.assert_array_equal(x, np.zeros(3))


def test_residual_rule_bounds_the_negative_gradient_with_the_absolute_scale():
    """Converged means ``||grad f - z||_inf <= tol g_0`` with ``z >= 0``, so ``grad f >= -tol
    g_0`` (``g_0`` the smaller sup-norm of the gradient at ``x_0``, ``x_s``), also where
    the gradient is negative everywhere at the start."""
    A = np.diag([1.0, 2.0, 3.0])
    c = np.array([1.0, 2.0, 3.0])  # optimum x = 1 (interior); grad f(0) = -A^T c < 0
    fun, grad, hessp, precond = nnls_problem(A, c)
    tol = 1e-3
    x, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(3), tol=tol, ftol=0.0,
                                max_iter=200)
    g0 = min(np.abs(grad(x0, fun(x0)[1])).max() for x0 in (np.zeros(3), np.full(3, 1e-2)))
    assert info.status == "converged" and info.residual <= tol
    assert grad(x, fun(x)[1]).min() >= -tol * g0


@pytest.mark.parametrize("case", ["x_s nearer", "x_0 nearer"])
def test_a_score_does_not_change_the_stopping_rule(case):
    """The scales are the smaller of those at ``x_0`` and ``x_s`` whether ``x_0`` is evaluated
    at once (with a score) or once the rule holds at ``x_s``'s: a score that never stops the
    run gives the same iterations."""
    A = np.eye(3)
    if case == "x_s nearer":  # x_s = x_0 + 0.01 is nearly optimal, x_0 is not
        x0, c = np.ones(3), 1.01 + np.array([1e-4, -1e-4, 2e-4])
    else:
        x0, c = np.ones(3), np.array([1.0 + 1e-5, 1.0 - 1e-5, 1.0])
    fun, grad, hessp, precond = nnls_problem(A, c)
    score, _ = scripted_score([0.5**j for j in range(1, 400)])
    runs = [interior_point_cg(fun, grad, hessp, precond, x0, tol=1e-1, ftol=0.0, max_iter=100,
                              score=s, patience=1000) for s in (None, score)]
    (x1, i1), (x2, i2) = runs
    assert i1.status == i2.status == "converged"
    assert i1.nit == i2.nit and i1.residual == i2.residual
    np.testing.assert_array_equal(x1, x2)


@pytest.mark.parametrize("c", [2.0, -1.0])
def test_first_iterate_is_the_documented_newton_step(c):
    """One variable, ``f = (x - c)^2 / 2``, from ``x0 = 0``: ``x_s = 0.01``, ``z_0 = max(g, 0) +
    1% of |g|``, ``mu = sigma x z``, ``(1 + z/x) dx = mu/x - g`` (CG exact in one product) and
    the step keeps 0.5% of the distance to the boundary."""
    fun, grad, hessp, precond = nnls_problem(np.eye(1), np.array([c]))
    seen = []

    def rec(x):
        seen.append(float(x[0]))
        return fun(x)

    interior_point_cg(rec, grad, hessp, precond, np.zeros(1), tol=1e-16, ftol=0.0,
                      max_iter=1)
    x = 0.01
    g = x - c
    z = max(g, 0.0) + 0.01 * abs(g)
    mu = 0.1 * x * z
    dx = (mu / x - g) / (1 + z / x)
    a = 1.0 if dx >= 0 else min(1.0, 0.995 * x / -dx)
    assert seen[0] == x
    assert seen[1] == pytest.approx(x + a * dx, rel=1e-12)


def test_step_to_boundary_keeps_half_a_percent_of_the_distance():
    from liftnet.solvers.interior_point import _step_to_boundary

    x = np.array([1.0, 2.0, 3.0])
    assert _step_to_boundary(x, np.array([-2.0, 1.0, -1.0])) == pytest.approx(0.995 * 0.5)
    assert _step_to_boundary(x, np.array([-0.5, 1.0, 0.0])) == 1.0  # capped at a full step
    assert _step_to_boundary(x, np.array([1.0, 0.0, 2.0])) == 1.0  # no bound in the way


def test_the_callback_gets_the_best_score_so_far():
    """``callback(k, f, best_score)``: the best score up to iteration k, not the iterate's."""
    fun, grad, hessp, precond = problem()
    score, _ = scripted_score([5.0, 4.0, 1.0, 3.0, 2.0])  # start, x_s, iterates 1, 2, 3
    seen = []
    interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14, ftol=0.0,
                      max_iter=3, score=score, patience=10,
                      callback=lambda k, f, best: seen.append((k, best)))
    assert seen == [(1, 1.0), (2, 1.0), (3, 1.0)]


def test_ftol_zero_stops_when_f_stays_exactly_the_same():
    """``f`` decreased by at most ``ftol`` (relative) over ten iterations: with ``ftol=0`` a
    constant ``f`` (here 0, as at an exact KKT point of the multiplier program) stops."""
    zero = (lambda x: (0.0, None), lambda x, s: np.zeros_like(x), lambda s, v: 0.0 * v,
            lambda s, shift: (lambda v: v / shift))
    _, info = interior_point_cg(*zero, np.ones(3), tol=1e-8, ftol=0.0, max_iter=50)
    assert info.status == "converged" and info.nit == 10


def test_max_iter_is_tested_before_the_deadline():
    """Both reached: the status says ``max_iter`` (the order of the tests in the loop)."""
    fun, grad, hessp, precond = problem()
    _, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14,
                                max_iter=0, deadline=0.0)
    assert info.status == "max_iter" and info.nit == 0


def test_an_improvement_of_exactly_one_percent_is_not_progress():
    """``since_best`` restarts only when ``s < 0.99 best`` (strictly): a score falling by exactly
    1% per iteration stalls after ``patience`` iterations."""
    fun, grad, hessp, precond = problem()
    v = [1.0, 1.0]  # start, x_s
    for _ in range(20):
        v.append(0.99 * v[-1])  # s == 0.99 * best, bit for bit
    score, _ = scripted_score(v)
    _, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14, ftol=0.0,
                                max_iter=8, score=score, patience=3)
    assert info.status == "stalled" and info.nit == 3


def test_a_gradient_that_is_not_finite_ends_the_run_diverged():
    """``f`` finite but ``grad f`` NaN: the residual is not finite, status ``diverged``."""
    fun, grad, hessp, precond = problem()
    calls = []

    def bad_grad(x, r):
        calls.append(1)
        return grad(x, r) * (np.nan if len(calls) == 3 else 1.0)

    _, info = interior_point_cg(fun, bad_grad, hessp, precond, np.zeros(15), tol=1e-14,
                                max_iter=50)
    assert info.status == "diverged" and info.nit == 2


def test_the_default_patience_is_five():
    fun, grad, hessp, precond = problem()
    score, _ = scripted_score([2.0, 1.0])  # x_s beats the start, every iterate ties it
    _, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14, ftol=0.0,
                                max_iter=50, score=score)
    assert info.status == "stalled" and info.nit == 5


@pytest.mark.parametrize("scores", [[np.inf], [np.nan, np.inf]], ids=["start", "iterate"])
def test_an_infinite_score_at_an_infinite_floor_is_diverged_not_converged(scores):
    """A point whose KKT residual overflows whatever the multipliers (weights of 1e60: the
    floor, the part no multipliers change, is inf) ended "converged" with residual inf;
    ``kkt_residuals`` then said its estimate had converged. (A NaN start is not at the floor:
    the first iterate's inf is.)"""
    fun, grad, hessp, precond = problem()
    score, _ = scripted_score(scores + [np.inf] * 10)
    _, info = interior_point_cg(fun, grad, hessp, precond, np.zeros(15), tol=1e-14,
                                max_iter=5, score=score, patience=3, score_floor=np.inf)
    assert info.status == "diverged"

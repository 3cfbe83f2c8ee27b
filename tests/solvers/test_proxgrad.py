"""The nonmonotone proximal gradient with block Barzilai-Borwein steps (``prox_gradient_bb``,
``solve_alm(inner="proxgrad")`` and the multiplier estimate): its line search, its steps, its
statuses, on problems whose answers are known in closed form."""
import time

import numpy as np
import pytest

from liftnet.solvers.proxgrad import prox_gradient_bb, stop_reason


def quad(diag, lam=0.0, blocks=None, target=None):
    """phi = 0.5 sum diag_i (x_i - target_i)^2, h = lam sum_blk ||x_blk||; callables + recorder."""
    diag = np.asarray(diag, float)
    target = np.zeros_like(diag) if target is None else np.asarray(target, float)
    blocks = blocks or [slice(0, diag.size)]
    accepted = []

    def value(x):
        v = 0.5 * float(np.sum(diag * (x - target) ** 2))
        v += lam * sum(np.linalg.norm(x[b]) for b in blocks)
        return v, v

    def gradient(x, cache):
        accepted.append(cache)  # called on accepted points only
        return diag * (x - target)

    def prox(y, steps):
        for i, b in enumerate(blocks):
            n = np.linalg.norm(y[b])
            y[b] *= max(0.0, 1.0 - steps[i] * lam / n) if n > 0 else 0.0

    def residual(x, g, cache):
        out = 0.0
        for b in blocks:
            n = np.linalg.norm(x[b])
            if n > 0:
                out = max(out, np.linalg.norm(g[b] + lam * x[b] / n))
            else:
                out = max(out, max(0.0, np.linalg.norm(g[b]) - lam))
        return out

    return value, gradient, prox, residual, blocks, accepted


def test_a_step_that_raises_the_value_slightly_is_rejected():
    # from x = 1 on 0.5 x^2 the step t = 2.00005 lands at -1.00005: the value rises by 5e-5,
    # less than (sigma/2) dec = 1e-4; the sufficient-decrease test must reject it
    value, gradient, prox, residual, blocks, _ = quad([1.0])
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.array([1.0]), blocks,
                               tol=1e-300, max_iter=1, steps0=np.array([2.00005]))
    assert info.nit == 1
    assert info.n_backtracks == 1
    assert info.value < 0.5  # the accepted point decreased the value
    assert x[0] == pytest.approx(1.0 - 0.25 * 2.00005)  # one backtrack: steps * 0.25


def test_the_nonmonotone_test_accepts_increases_within_its_memory():
    # ill-conditioned quadratic: BB steps are nonmonotone; with memory 1 the accepted values
    # must decrease, with memory 5 (GLL) some accepted value is above the one before it
    diag = np.logspace(0, 3, 30)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(30)
    seqs = {}
    for memory in (1, 5):
        value, gradient, prox, residual, blocks, acc = quad(diag)
        x, info = prox_gradient_bb(value, gradient, prox, residual, x0, blocks, tol=1e-10,
                                   max_iter=2000, memory=memory)
        assert info.status == "converged"
        seqs[memory] = np.array(acc)
    assert np.all(np.diff(seqs[1]) <= 0)
    assert np.any(np.diff(seqs[5]) > 0)


def test_one_block_at_the_smallest_step_does_not_stall_the_others():
    # block 0 starts at step_min, block 1 overshoots and must be backtracked: the search
    # stops only when *all* steps are at step_min
    value, gradient, prox, residual, _, _ = quad([1e11, 1.0])
    blocks = [slice(0, 1), slice(1, 2)]
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.array([1e-5, 1.0]), blocks,
                               tol=1e-8, max_iter=200, steps0=np.array([1e-12, 10.0]))
    assert info.n_backtracks >= 1
    assert info.status == "converged"


def test_a_value_that_is_nan_off_the_start_is_diverged_not_stalled():
    def value(x):
        return (0.5 * float(x @ x), None) if np.all(x == 1.0) else (np.nan, None)
    x, info = prox_gradient_bb(value, lambda x, c: x.copy(), lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.ones(3),
                               [slice(0, 3)], tol=1e-8, max_iter=10)
    assert info.status == "diverged"
    assert np.all(x == 1.0)


def test_a_wrong_gradient_stalls():
    # a gradient pointing uphill: no step decreases the value; finite values: stalled
    def value(x):
        return 0.5 * float(x @ x), None
    x, info = prox_gradient_bb(value, lambda x, c: -x, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.ones(3),
                               [slice(0, 3)], tol=1e-8, max_iter=10)
    assert info.status == "stalled"
    assert np.all(x == 1.0)


def test_unbounded_returns_the_last_point_above_the_floor_with_its_own_evaluation():
    """A step below ``floor`` ends the solve; the point returned is the one before it, with
    its own value, gradient and residual (the trial point is dropped, as group_owlqn drops
    it)."""
    def value(x):
        return (-float(x.sum()), x.copy())
    grads = []

    def gradient(x, cache):
        grads.append(x.copy())
        return -np.ones_like(x) * (1.0 + 0.01 * float(x.sum()))

    x, info = prox_gradient_bb(value, gradient, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.zeros(2),
                               [slice(0, 2)], tol=1e-8, max_iter=100, floor=-10.0)
    assert info.status == "unbounded"
    assert -10.0 <= info.value == value(x)[0]
    np.testing.assert_array_equal(info.cache, x)
    np.testing.assert_array_equal(info.grad, gradient(x, None))
    assert info.residual == float(np.abs(info.grad).max())
    assert info.nit == len(grads) - 2  # one gradient per accepted point (the last: ours)


def test_group_lasso_solution_exact_zeros_and_kkt():
    # separable: the solution per block is max(0, 1 - lam/(d ||c||)) c
    d = np.array([1.0, 1.0, 4.0, 4.0, 0.5, 0.5])
    c = np.array([3.0, 4.0, 0.1, 0.1, 2.0, -1.0])
    lam = 1.0
    blocks = [slice(0, 2), slice(2, 4), slice(4, 6)]
    value, gradient, prox, residual, blocks, acc = quad(d, lam, blocks, c)
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.ones(6), blocks,
                               tol=1e-10, max_iter=500)
    assert info.status == "converged" and info.residual <= 1e-10
    assert np.all(x[2:4] == 0.0)
    expect = np.concatenate([max(0, 1 - lam / (d[b][0] * np.linalg.norm(c[b]))) * c[b]
                             for b in blocks])
    np.testing.assert_allclose(x, expect, atol=1e-9)
    assert info.nit == len(acc) - 1  # one gradient per accepted iterate, plus the start
    assert info.value == value(x)[0]


def test_steps_stay_within_their_bounds():
    value, gradient, prox, residual, blocks, _ = quad([1e-15, 1e-15])
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.ones(2), blocks,
                               tol=1e-300, max_iter=3, step_max=1e6)
    assert np.all(info.steps <= 1e6) and np.all(info.steps >= 1e-12)


def test_max_iter_is_exact():
    diag = np.logspace(0, 3, 30)
    value, gradient, prox, residual, blocks, acc = quad(diag)
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.ones(30), blocks,
                               tol=1e-300, max_iter=7)
    assert info.status == "max_iter" and info.nit == 7 and len(acc) == 8


def test_stop_reason():
    assert stop_reason(1.0, 1.0, 0, 5, None) == "converged"
    assert stop_reason(1.0, 0.5, 5, 5, None) == "max_iter"
    assert stop_reason(1.0, 0.5, 4, 5, None) == ""
    assert stop_reason(1.0, 0.5, 0, 5, lambda: -1.0) == "time_limit"
    assert stop_reason(1.0, 0.5, 0, 5, lambda: None) == ""


def test_a_non_finite_start_is_diverged():
    def value(x):
        return (np.inf if np.all(x == 1.0) else 0.5 * float(x @ x), None)
    x, info = prox_gradient_bb(value, lambda x, c: x, lambda y, s: None,
                               lambda x, g, c: 1.0, np.ones(2), [slice(0, 2)], tol=1e-8,
                               max_iter=10)
    assert info.status == "diverged" and info.nit == 0


def test_a_non_finite_gradient_is_diverged():
    def value(x):
        return (0.5 * float(x @ x), None)
    calls = []
    def gradient(x, c):
        calls.append(1)
        g = x.copy()
        if len(calls) > 1:
            g[0] = np.nan
        return g
    x, info = prox_gradient_bb(value, gradient, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.ones(3),
                               [slice(0, 3)], tol=1e-12, max_iter=10)
    assert info.status == "diverged" and info.nit == 0
    assert np.all(np.isfinite(info.grad))


def test_the_sufficient_decrease_scales_with_the_inverse_step():
    # sigma = 1 on 5 x^2 from 1: t = 0.15 lands at -0.5, a decrease of 3.75 < (1/2) |d|^2 / t
    value, gradient, prox, residual, blocks, _ = quad([10.0])
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.array([1.0]), blocks,
                               tol=1e-300, max_iter=1, steps0=np.array([0.15]), sigma=1.0)
    assert info.n_backtracks == 1


def test_negative_curvature_does_not_freeze_the_steps():
    # double well -x^2/2 + x^4/4 from 0.1: the first pairs see negative curvature
    def value(x):
        return (float(-0.5 * x @ x + 0.25 * np.sum(x ** 4)), None)
    def gradient(x, c):
        return -x + x ** 3
    x, info = prox_gradient_bb(value, gradient, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.array([0.1, -0.05]),
                               [slice(0, 1), slice(1, 2)], tol=1e-9, max_iter=200)
    assert info.status == "converged"
    np.testing.assert_allclose(np.abs(x), 1.0, atol=1e-6)
    assert np.all(info.steps > 1e-6)


def test_the_first_steps_move_each_block_by_a_hundredth():
    """Without ``steps0`` each block's first step is ``1e-2 / ||g_block||``: the first
    iterate is ``x0 - 1e-2 g / ||g||`` per block (no backtrack on a quadratic that mild)."""
    value, gradient, prox, residual, _, _ = quad([1.0, 1.0, 2.0])
    blocks = [slice(0, 2), slice(2, 3)]
    x0 = np.array([3.0, 4.0, -1.0])
    x, info = prox_gradient_bb(value, gradient, prox, residual, x0, blocks, tol=1e-300,
                               max_iter=1)
    assert info.nit == 1 and info.n_backtracks == 0
    np.testing.assert_allclose(x, [3.0 - 1e-2 * 3 / 5, 4.0 - 1e-2 * 4 / 5, -1.0 + 1e-2])


@pytest.mark.parametrize("kw, error, match", [
    ({"memory": 0}, ValueError, "memory"),  # was "max() arg is an empty sequence"
    ({"deadline": "x"}, TypeError, "deadline"),  # was a str/float comparison in past()
    ({"tol": -1.0}, ValueError, "tol"),
    ({"max_iter": -1}, ValueError, "max_iter"),
    ({"step_min": 1.0, "step_max": 0.5}, ValueError, "step_max"),
    ({"steps0": [1.0, 1.0]}, ValueError, r"steps0 must hold one positive finite step per block"),
    ({"steps0": [0.0]}, ValueError, r"steps0 must hold one positive finite step per block"),
])
def test_arguments_are_checked_by_name(kw, error, match):
    """Called directly (its callers check what they pass), a bad argument failed deep inside
    or was taken (a wrong ``steps0`` length, ``tol < 0``, ``step_min > step_max``)."""
    value, gradient, prox, residual, blocks, _ = quad([1.0, 2.0])
    args = {"tol": 1e-8, "max_iter": 10, **kw}
    with pytest.raises(error, match=match):
        prox_gradient_bb(value, gradient, prox, residual, np.ones(2), blocks, **args)


def test_the_deadline_is_honoured_inside_a_line_search():
    """A deadline that passes while the line search backtracks ends the solve after that
    trial, at the last accepted point, with ``time_limit``; without the deadline the same
    search tries every step down to ``step_min``."""
    def run(deadline_after):
        calls = {"value": 0, "deadline": 0}

        def value(x):
            calls["value"] += 1
            return (0.5 * float(x @ x), None) if np.all(x == 1.0) else (np.nan, None)

        def deadline():
            calls["deadline"] += 1
            return None if calls["deadline"] <= deadline_after else 0.0  # 0.0: long past

        x, info = prox_gradient_bb(value, lambda x, c: x.copy(), lambda y, s: None,
                                   lambda x, g, c: float(np.abs(g).max()), np.ones(3),
                                   [slice(0, 3)], tol=1e-8, max_iter=10, deadline=deadline)
        return x, info, calls["value"]

    x, info, n_values = run(deadline_after=10**6)
    assert info.status == "diverged" and n_values > 10
    x, info, n_values = run(deadline_after=1)  # the first check (before iteration 0) passes
    assert info.status == "time_limit"
    assert n_values == 2  # the start and one trial
    assert np.all(x == 1.0) and info.nit == 0


def _quad(diag, target):
    diag, target = np.asarray(diag, float), np.asarray(target, float)

    def value(x):
        v = 0.5 * float(np.sum(diag * (x - target) ** 2))
        return v, v
    return (value, lambda x, c: diag * (x - target), lambda y, s: None,
            lambda x, g, c: float(np.abs(g).max()))


def test_infinite_steps0_is_refused():
    """``steps0 = inf`` is refused up front: taken, the line search never ended (``inf * 0.25``
    never reaches ``step_min``, and the trial values stay NaN); the deadline only bounds this
    test on such a build."""
    value, gradient, prox, residual = _quad([1.0], [0.0])
    for bad in ([np.inf], [np.nan]):
        with pytest.raises(ValueError, match="steps0 must hold one positive finite step"):
            prox_gradient_bb(value, gradient, prox, residual, np.ones(1), [slice(0, 1)],
                             tol=1e-8, max_iter=5, steps0=np.array(bad),
                             deadline=time.monotonic() + 2.0)


def test_the_callers_steps0_and_x0_are_not_modified():
    """``steps0`` is copied (a solve that backtracks scaled the caller's array in place)."""
    value, gradient, prox, residual = _quad([1.0, 1e3], [0.0, 0.0])
    steps0 = np.array([10.0, 10.0])
    x0 = np.ones(2)
    x, info = prox_gradient_bb(value, gradient, prox, residual, x0, [slice(0, 1), slice(1, 2)],
                               tol=1e-10, max_iter=100, steps0=steps0)
    assert info.n_backtracks >= 1 and info.status == "converged"
    np.testing.assert_array_equal(steps0, [10.0, 10.0])
    np.testing.assert_array_equal(x0, [1.0, 1.0])


def test_a_block_that_does_not_move_keeps_its_step():
    """BB updates only blocks that moved: a block already at its minimiser keeps its step (a
    dropped ``ss == 0`` skip multiplied it by 4 every iteration, up to ``step_max``)."""
    value, gradient, prox, residual = _quad([1.0, 2.0, 1.0], [0.0, 0.0, 5.0])
    blocks = [slice(0, 2), slice(2, 3)]
    x, info = prox_gradient_bb(value, gradient, prox, residual, np.array([1.0, -1.0, 5.0]),
                               blocks, tol=1e-300, max_iter=6, steps0=np.array([0.3, 0.7]))
    assert info.nit == 6 and x[2] == 5.0
    assert info.steps[1] == 0.7


def test_negative_curvature_grows_the_step_moderately():
    """Where ``<s, y> <= 0`` the step grows by a bounded factor, not to ``step_max`` (which
    costs ~20 backtracks, each a forward pass, at the next iteration)."""
    def value(x):
        return (float(-0.5 * x @ x + 0.25 * np.sum(x ** 4)), None)
    x, info = prox_gradient_bb(value, lambda x, c: -x + x ** 3, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.array([0.1]),
                               [slice(0, 1)], tol=1e-300, max_iter=1, steps0=np.array([0.5]))
    assert info.n_backtracks == 0 and 0.5 < info.steps[0] <= 10.0
    x, info = prox_gradient_bb(value, lambda x, c: -x + x ** 3, lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.array([0.1, -0.05]),
                               [slice(0, 1), slice(1, 2)], tol=1e-9, max_iter=200)
    assert info.status == "converged" and info.n_backtracks <= 15


def test_a_minus_inf_trial_value_is_never_accepted():
    """A trial whose value is ``-inf`` is not finite: rejected like NaN (it was accepted and
    the solve reported ``converged`` with value ``-inf``)."""
    def value(x):
        return (0.5 * float(x @ x), None) if np.all(x == 1.0) else (-np.inf, None)
    x, info = prox_gradient_bb(value, lambda x, c: x.copy(), lambda y, s: None,
                               lambda x, g, c: float(np.abs(g).max()), np.ones(3),
                               [slice(0, 3)], tol=1e-8, max_iter=10)
    assert info.status == "diverged" and np.isfinite(info.value)
    assert np.all(x == 1.0)

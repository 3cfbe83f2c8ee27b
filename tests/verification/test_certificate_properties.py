"""Properties of the certificate's pieces that the other tests left unchecked: a review by
mutation (session 48) changed one line at a time of ``liftnet/verification/kkt.py``,
``multipliers.py`` and ``mfcq.py``, and 20 changes with a visible effect passed every test
(the report's objective without ``lam R(W)``, a NaN part read as 0, a multiplier estimate in
float64 for a float32 problem, a preconditioner no longer the exact inverse it documents,
``n_constraints`` half the count, ...). Each test below fails on at least one of them."""
import numpy as np
import pytest
from _helpers import interrupt_call, slightly_infeasible_point
from test_mfcq import make_problem
from test_multipliers import exact_kkt_point

from liftnet import LiftedProblem, kkt_residuals
from liftnet.verification import multipliers
from liftnet.verification.kkt import primal_violation
from liftnet.verification.mfcq import check_mfcq
from liftnet.verification.multipliers import (
    MultiplierLSQ,
    estimate_multipliers,
    initial_multipliers,
)

make_point = slightly_infeasible_point


# ---------------------------------------------------------------- kkt.py
def test_report_objective_is_F_including_the_regulariser():  # K5
    prob, W, b, V = make_point(8, lam=0.5)
    assert prob.regulariser(W) > 1.0
    rep = kkt_residuals(prob, W, b, V, *prob.zero_multipliers())
    assert rep.objective == pytest.approx(prob.F(W, b, V), rel=1e-12)
    assert kkt_residuals(prob, W, b, V).objective == pytest.approx(prob.F(W, b, V), rel=1e-12)


def test_estimated_report_keeps_the_zero_threshold():  # K3
    prob, W, b, V = make_point(8)
    rep = kkt_residuals(prob, W, b, V, zero_threshold=1e-3)
    assert rep.multipliers == "estimated" and rep.zero_threshold == 1e-3


def test_nan_parts_read_as_inf():  # K1
    # NaN anywhere (first or not) is the worst value, never skipped
    assert primal_violation([np.array([[np.nan, 0.0]])], [np.zeros((1, 2))]) == np.inf
    assert primal_violation([np.array([[1.0]])], [np.array([[np.nan]])]) == np.inf
    # through kkt_residuals: an overflowing U_1 (inf) with M = 0 gives M * g = 0 * inf = NaN
    X = np.full((4, 8), 10.0)
    prob = LiftedProblem(X, np.zeros((4, 1)), hidden=(2,), lam=0.1)
    W = [np.vstack([np.r_[[1e308] * 4, [-1e308] * 4], np.zeros(8)]), np.zeros((1, 2))]
    with np.errstate(all="ignore"):
        rep = kkt_residuals(prob, W, None, [np.zeros((2, 4))], *prob.zero_multipliers())
    assert rep.complementarity == np.inf and rep.residual == np.inf


# ---------------------------------------------------------------- multipliers.py
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("groups", ["column", "row"])
def test_score_equals_the_kkt_residual_at_generic_points(seed, groups):  # M4, M5
    """score == kkt_residuals(...).residual wherever the stationarity of W (a group norm, not
    an entry) or of b / V is the largest part."""
    doms = set()
    for s in range(seed, seed + 6):
        prob, W, b, V = make_point(s, bias=True, groups=groups, zero=False)
        lsq = MultiplierLSQ(prob, W, b, V)
        m = lsq.guess() + 0.1 * np.random.default_rng(s).random(lsq.size)
        rep = kkt_residuals(prob, W, b, V, *lsq.split(m))
        assert lsq.score(lsq.value(m)[1]) == pytest.approx(rep.residual, rel=1e-12)
        doms.add(max(("stationarity_W", "stationarity_b", "stationarity_V"), key=rep.get))
    assert {"stationarity_W", "stationarity_b"} <= doms  # both cases were exercised


def test_floor_is_what_no_multiplier_changes():  # M2, M3
    # a primal violation of 50: the floor is at least the primal infeasibility
    prob, W, b, V = make_point(0, zero=False)
    V[0][0, 0] -= 50.0
    lsq = MultiplierLSQ(prob, W, b, V)
    assert lsq.floor >= lsq.primal > 40.0
    # an output bias far off: the floor is at least |grad b_L| = |dU_L 1|, and every
    # multipliers' residual is at least the floor
    prob, W, b, V = make_point(0, bias=True, zero=False)
    b[-1] = b[-1] + 10.0
    lsq = MultiplierLSQ(prob, W, b, V)
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, _ = prob.smooth_partials(U[-1], g1, g2)
    assert lsq.floor >= float(np.max(np.abs(dU[-1].sum(axis=1)))) > 1.0
    rng = np.random.default_rng(0)
    for _ in range(3):
        M = [[rng.random(s) for s in prob.V_shapes] for _ in range(2)]
        assert kkt_residuals(prob, W, b, V, *M).residual >= lsq.floor


def test_refined_is_false_when_refine_does_not_improve(monkeypatch):  # M6
    # exact lift of random weights: the interior point stops at the floor, refine returns it
    prob, W, b, _ = make_point(9, hidden=(5, 4), N=30, zero=False)
    V = prob.lift(W, b)
    _, _, info = estimate_multipliers(prob, W, b, V, patience=5, return_info=True)
    assert not info["kept_start"]
    assert info["refined"] is False
    # and True when it does improve (refine stubbed: same m, half the score it was given)
    prob, W, b, V = make_point(0, hidden=(6, 4), N=60)
    monkeypatch.setattr(MultiplierLSQ, "refine",
                        lambda self, m, rounds=3, deadline=None, score=None: (m, 0.5 * score))
    _, _, info = estimate_multipliers(prob, W, b, V, patience=5, return_info=True)
    assert not info["kept_start"] and info["refined"] is True


def test_estimate_keeps_the_problems_dtype():  # M11
    prob, W, b, V = make_point(8, dtype="float32")
    M1, M2 = estimate_multipliers(prob, W, b, V)
    assert all(x.dtype == np.float32 for x in (*M1, *M2))
    rep = kkt_residuals(prob, W, b, V)
    assert all(x.dtype == np.float32 for x in (*rep.M1, *rep.M2))


@pytest.mark.parametrize("bias", [False, True])
def test_block_preconditioner_inverts_the_hessians_2x2_diagonal_blocks(bias):  # M8, M9, M10
    """Without the Woodbury part, precond is exactly the inverse of the 2 x 2 blocks
    (M1[i, n], M2[i, n]) of the Hessian plus the shift: two hidden layers (the ||W_l[i,:]||^2
    term of l > 1), a zero group whose factor is 0 (lam large: ||q|| <= lam there)."""
    prob, W, b, V = make_point(2, hidden=(4, 3), bias=bias, zero=True, lam=50.0)
    lsq = MultiplierLSQ(prob, W, b, V, woodbury=False)
    rng = np.random.default_rng(0)
    m = lsq.guess() + rng.random(lsq.size)
    _, state = lsq.value(m)
    assert lsq.zero.any() and np.all(state[5][lsq.zero] == 0.0)  # zero groups: factor 0
    shift = rng.random(lsq.size)
    P = lsq.precond(state, shift)
    half = lsq.size // 2
    for k in rng.choice(half, 25, replace=False):
        cols = []
        for j in (k, k + half):
            e = np.zeros(lsq.size)
            e[j] = 1.0
            cols.append((lsq.hessp(state, e) + shift * e, P(e)))
        B, Binv = (np.array([[cols[0][i][k], cols[1][i][k]],
                             [cols[0][i][k + half], cols[1][i][k + half]]]) for i in (0, 1))
        np.testing.assert_allclose(Binv @ B, np.eye(2), atol=1e-10)


def test_backward_guess_puts_a_kinks_multiplier_on_g1():  # M1
    """At a dead unit (U = V = 0, g1 = g2 = 0) the guess follows its docstring: U >= 0 -> g1."""
    prob, W, b, _ = make_point(0, hidden=(4,), zero=False)
    W[0][1, :] = 0.0
    V = prob.lift(W)
    M1, M2 = initial_multipliers(prob, W, None, V)
    assert M1[0][1].sum() > 0 and np.all(M2[0][1] == 0)


# ---------------------------------------------------------------- mfcq.py
def test_n_constraints_counts_both_families():  # F2
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), hidden=(3, 4))
    W, _ = prob.initial_weights(0)
    assert check_mfcq(prob, W, lp=False).n_constraints == 2 * 5 * (3 + 4)


def test_default_active_tol_follows_the_scale_of_U_and_V():  # F3, F6
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((5, 2)), rng.standard_normal((5, 2)),
                         hidden=(3, 4), alpha=0.05, lam=0.1)
    W = [1e6 * rng.standard_normal(s) for s in prob.W_shapes]
    V = prob.lift(W)
    U = prob.pre_activations(W, None, V)
    s = max([1.0] + [float(np.max(np.abs(a))) for a in (*U[:-1], *V)])
    assert s > float(max(np.max(np.abs(v)) for v in V))  # U is what sets the scale here
    expected = max(1e-8, 64 * np.finfo(float).eps * s)
    assert check_mfcq(prob, W, None, V, lp=False).active_tol == expected


@pytest.mark.parametrize("bias", [False, True])
def test_woodbury_preconditioner_is_exact_with_zero_group_factors(bias, monkeypatch):  # M20
    """As test_preconditioner_is_the_exact_inverse_for_one_hidden_layer, but with a zero group
    whose factor ha is strictly between 0 and 1 (rank-one part hs set to 0, so the Hessian is
    exactly what the preconditioner models): the Woodbury rows need S = sqrt(ha)."""
    from liftnet.verification import multipliers
    monkeypatch.setattr(multipliers, "B_REGULARISATION", 0.0)
    prob, W, b, V = make_point(3, hidden=(5,), bias=bias, zero=True)
    lsq = MultiplierLSQ(prob, W, b, V, woodbury=True)
    rng = np.random.default_rng(0)
    _, state = lsq.value(lsq.guess() + rng.random(lsq.size))
    assert lsq.zero.any()
    ha = state[5].copy()
    ha[lsq.zero] = 0.25
    state = (*state[:5], ha, np.zeros_like(state[6]))
    shift = rng.random(lsq.size) * 10.0 ** rng.uniform(-3, 3, lsq.size)
    P = lsq.precond(state, shift)
    v = rng.standard_normal(lsq.size)
    np.testing.assert_allclose(P(lsq.hessp(state, v) + shift * v), v, rtol=1e-8, atol=1e-8)


def test_a_kept_start_is_never_reported_refined(monkeypatch):  # M30
    """refine claims an improvement (a stub), the start is still better: the start is returned
    and info says it was not refined."""
    from liftnet.verification import multipliers
    rng = np.random.default_rng(4)
    N = 200
    X = rng.standard_normal((N, 2))
    W = [rng.standard_normal((4, 2)), rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    b = [rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(2)]
    W[0][1, :], b[0][1] = 0.0, 0.0
    kw = dict(hidden=(4, 3), alpha=0.1, beta=1000.0, lam=0.0, bias=True)
    prob = LiftedProblem(X, LiftedProblem(X, np.zeros((N, 2)), **kw).predict(W, b, X), **kw)
    V = prob.lift(W, b)
    monkeypatch.setattr(multipliers.MultiplierLSQ, "refine",
                        lambda self, m, rounds=3, deadline=None, score=None: (m, 0.0))
    _, _, info = estimate_multipliers(prob, W, b, V, patience=5, return_info=True)
    assert info["kept_start"] and not info["refined"]


def test_bb_converges_on_its_projected_gradient():  # M33
    prob, W, b, V = make_point(5, hidden=(4, 3), bias=True)
    _, _, info = estimate_multipliers(prob, W, b, V, method="bb", return_info=True)
    assert info["status"] == "converged" and info["iterations"] < 5000


def test_auto_lp_runs_at_exactly_lp_max_constraints():  # F14
    rng = np.random.default_rng(3)
    prob = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4, 3))
    W, _ = prob.initial_weights(0)
    n = check_mfcq(prob, W, lp=False).n_active
    assert check_mfcq(prob, W, lp="auto", lp_max_constraints=n).lp_status == "optimal"
    assert check_mfcq(prob, W, lp="auto", lp_max_constraints=n - 1).lp_status == "not run"


# ---- a second mutation review (session 49): kkt.py, multipliers.py and mfcq.py again


def test_zero_threshold_snaps_a_group_whose_norm_equals_it():
    """``zero_threshold`` zeroes every group with ``||W[g]|| <= zero_threshold`` (the boundary
    and just below it included): the report is that of the point with those groups exactly
    zero, objective included (no ``lam ||W[g]||`` left of them)."""
    prob, W, b, V = slightly_infeasible_point(3, zero=False)
    M = prob.zero_multipliers()
    thr = 1e-3
    W = [w.copy() for w in W]
    W[0][:, 1] *= thr / np.linalg.norm(W[0][:, 1])          # norm exactly thr
    W[0][:, 2] *= 0.8 * thr / np.linalg.norm(W[0][:, 2])    # norm 0.8 thr
    Wz = [w.copy() for w in W]
    Wz[0][:, 1:3] = 0.0
    rep = kkt_residuals(prob, W, b, V, *M, zero_threshold=thr)
    exact = kkt_residuals(prob, Wz, b, V, *M)
    for k in ("objective", "stationarity_W", "residual"):
        assert rep[k] == exact[k], k


def test_refine_returns_the_best_iterate_not_the_last(monkeypatch):
    """A round that does not improve ends ``refine``, which returns the best iterate so far:
    here the very first round is made worse (a bad Newton direction), so ``m`` comes back
    unchanged with its own score."""
    prob, W, b, V, M1, M2 = exact_kkt_point(0, 1.0)
    lsq = MultiplierLSQ(prob, W, b, V)
    m = 1.5 * lsq.pack(M1, M2)  # score > floor = 0
    s0 = lsq.score(lsq.value(m)[1])
    assert s0 > lsq.floor
    monkeypatch.setattr(multipliers, "pcg", lambda *a, **k: (np.full(lsq.size, 5.0), None))
    m_r, score = lsq.refine(m)
    assert score == s0
    np.testing.assert_array_equal(m_r, m)


def test_lp_margin_scales_with_the_gradients_beyond_one():
    """``t`` is free above: the optimum of ``max t, J d + t 1 <= 0, |d|_inf <= 1`` is
    homogeneous in ``J`` (``3 J`` gives ``3 t``), and ``[[-1, -1], [-2, 0]]`` gives ``t = 2``
    at ``d = (1, 1)``. Catches a bound on ``t`` (e.g. ``(None, 1)``, which the ``e1, e2``
    case, ``t = 1``, does not see)."""
    import scipy.sparse as sp

    from liftnet.verification.mfcq import _lp_margin

    J = sp.csr_matrix(np.array([[-1.0, -1.0], [-2.0, 0.0]]))
    t, d, status, _ = _lp_margin(J)
    assert status == "optimal" and t == pytest.approx(2.0)
    t3, _, _, _ = _lp_margin(3.0 * J)
    assert t3 == pytest.approx(6.0)


def test_feasible_reads_the_callers_active_tol():
    """``feasible`` is ``max_violation <= active_tol`` with the ``active_tol`` in use, not the
    default's 1e-8: a violation of 1e-6 is feasible under ``active_tol=1e-5`` (and not under
    ``1e-7``)."""
    from liftnet.verification.mfcq import check_mfcq

    prob = make_problem(2)
    W, b = prob.initial_weights(0)
    V = [v.copy() for v in prob.lift(W, b)]
    V[0][0, 0] -= 1e-6
    for tol, feasible in ((1e-5, True), (1e-7, False)):
        rep = check_mfcq(prob, W, b, V, lp=False, active_tol=tol)
        assert rep.active_tol == tol and rep.feasible is feasible


def test_ctrl_c_in_the_interior_point_skips_the_refinement(monkeypatch):
    """After a Ctrl-C in the interior point (status "interrupted") the estimate returns its
    best multipliers so far at once: no Newton rounds on the support (up to
    ``REFINE_ROUNDS * REFINE_CG_MAX_ITER`` Hessian products the user asked not to wait for)."""
    from liftnet.verification.multipliers import estimate_with_report

    prob, W, b, V = slightly_infeasible_point(6, hidden=(6, 4), N=60)
    refines = []
    real_refine = MultiplierLSQ.refine

    def spy(self, *a, **k):
        refines.append(1)
        return real_refine(self, *a, **k)

    monkeypatch.setattr(MultiplierLSQ, "refine", spy)
    # Ctrl-C in the interior point's third iteration (the program's start, its score, the
    # shifted start and two iterations come before it: value's 6th call)
    monkeypatch.setattr(MultiplierLSQ, "value", interrupt_call(MultiplierLSQ.value, 6))
    _, _, info, report = estimate_with_report(prob, W, b, V, patience=5)
    assert info["status"] == "interrupted" and info["refined"] is False
    assert refines == [] and report is not None


def test_a_misshapen_M2_is_named_M2():
    """Given multipliers are checked by name: a wrong shape in ``M2`` (with ``M1`` right)
    says ``M2``, not ``M1``."""
    prob, W, b, V = slightly_infeasible_point(1)
    M1, M2 = prob.zero_multipliers()
    with pytest.raises(ValueError, match=r"M2\[0\]"):
        kkt_residuals(prob, W, b, V, M1, [np.zeros((1, 1))] + M2[1:])
    with pytest.raises(ValueError, match=r"M1\[0\]"):
        kkt_residuals(prob, W, b, V, [np.zeros((1, 1))] + M1[1:], M2)


def test_refine_preconditions_on_the_support_only(monkeypatch):
    """``refine``'s conjugate gradients run on the free entries with a preconditioner whose
    fixed entries carry a huge shift (1e30), so a free ``M1`` is not coupled through its 2 x 2
    block to a fixed ``M2``: each round converges in about 40 iterations here (a shift of
    ``REFINE_SHIFT`` everywhere took 200, the cap ``REFINE_CG_MAX_ITER``, every round), and
    the exact multipliers are reached."""
    from liftnet.solvers.interior_point import interior_point_cg

    prob, W, b, V, M1, M2 = exact_kkt_point(2, 1.0)
    lsq = MultiplierLSQ(prob, W, b, V)
    m, _ = interior_point_cg(lsq.value, lsq.gradient, lsq.hessp, lsq.precond,
                             np.zeros(lsq.size), tol=1e-8, max_iter=200, score=lsq.score,
                             patience=5, score_floor=lsq.floor)
    its = []
    real = multipliers.pcg

    def spy(*a, **k):
        d, nit = real(*a, **k)
        its.append(nit)
        return d, nit

    monkeypatch.setattr(multipliers, "pcg", spy)
    _, score = lsq.refine(m)
    assert score <= 1e-12
    assert its and max(its) <= 100 < multipliers.REFINE_CG_MAX_ITER


def test_a_score_with_a_nan_part_is_inf_and_the_estimate_is_not_converged():
    """At weights of 1e150 the multipliers' start overflows and a part of the score is NaN:
    Python's ``max`` skipped it, the score read 0.0 and ``kkt_residuals`` said its estimate
    had ``converged`` (residual inf); a NaN part reads as inf, as in the report."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((5, 3)), rng.standard_normal((5, 2)),
                         hidden=(4,), lam=0.1)
    W, _ = prob.initial_weights(0)
    W = [w * 1e150 for w in W]
    with np.errstate(all="ignore"):
        V = prob.lift(W)
        lsq = MultiplierLSQ(prob, W, None, V)
        assert lsq.score(lsq.value(lsq.guess())[1]) == np.inf
        rep = kkt_residuals(prob, W, None, None)
    assert rep.residual == np.inf and rep.estimate["status"] == "diverged"

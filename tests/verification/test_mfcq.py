"""MFCQ certificates of (M): MODEL.md 4 (fact 3) and 7."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet.formulation.problem import LiftedProblem
from liftnet.verification.mfcq import (
    _lp_margin,
    check_mfcq,
    constraint_jacobian,
    constraint_values,
    mfcq_direction,
)


def make_problem(seed, hidden=(4, 3), N=6, bias=False, n0=3, nL=2, **kw):
    rng = np.random.default_rng(seed)
    return LiftedProblem(
        rng.standard_normal((N, n0)), rng.standard_normal((N, nL)), hidden=hidden, bias=bias, **kw
    )


def random_feasible_point(prob, seed, scale=1.0, kink_rows=0):
    """Random W (and b), V = lift + a nonnegative perturbation on about half the entries.

    ``kink_rows`` rows of every hidden ``W_l`` (and ``b_l``) are zeroed, so ``U_l = 0`` there and
    at ``V_l = 0`` both constraints are active (the kink).
    """
    rng = np.random.default_rng(seed)
    W = [scale * rng.standard_normal(s) for s in prob.W_shapes]
    b = [rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    for l in range(prob.L - 1):
        W[l][:kink_rows] = 0.0
        if b is not None:
            b[l][:kink_rows] = 0.0
    # lift layer by layer, perturbing off the kink rows only (keeps U = V = 0 there)
    V = []
    for l in range(prob.L - 1):
        U = prob.pre_activations(W, b, V + [np.zeros(s) for s in prob.V_shapes[l:]])[l]
        P = rng.random(U.shape) * (rng.random(U.shape) < 0.5)
        P[:kink_rows] = 0.0
        V.append(prob.sigma(U) + P)
    return W, b, V


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kink_rows", [0, 2])
def test_lp_and_constructive_margin_agree_at_feasible_points(seed, bias, kink_rows):
    prob = make_problem(seed, bias=bias)
    W, b, V = random_feasible_point(prob, seed, scale=1.5, kink_rows=kink_rows)
    rep = check_mfcq(prob, W, b, V, lp=True)
    assert rep.max_violation == 0.0
    assert rep.holds
    assert rep.margin_raw >= 1.0 - 1e-12  # fact 3, up to rounding
    assert 0.0 < rep.margin <= rep.lp_margin + 1e-9  # constructive d / |d|_inf is LP-feasible
    assert rep.n_kink == kink_rows * prob.N * (prob.L - 1)
    if kink_rows == 0:
        # perturbed entries are strictly inside, the others have exactly one active constraint
        n_strict = sum(
            int(np.sum(v > prob.sigma(u)))
            for v, u in zip(V, prob.pre_activations(W, b, V), strict=False)
        )
        assert rep.n_active == sum(v.size for v in V) - n_strict
    g = constraint_values(prob, W, b, V)
    J = constraint_jacobian(prob, W, b, V)
    # the constructive margin is that of d / |d|_inf (|d|_inf = max_l c_l), by the Jacobian
    c, d = mfcq_direction(prob, W)
    assert rep.direction_norm == np.max(np.abs(d)) == np.max(c)
    assert rep.margin == pytest.approx(rep.margin_raw / rep.direction_norm, rel=1e-12)
    assert float(np.max(J @ (d / np.max(np.abs(d))))) == pytest.approx(-rep.margin, rel=1e-9)
    # the LP's direction is a genuine certificate: every active gradient is <= -lp_margin
    active = g >= -rep.active_tol
    assert np.max(J[active] @ rep.lp_direction) <= -rep.lp_margin + 1e-9
    assert np.max(np.abs(rep.lp_direction)) <= 1.0 + 1e-12


@settings(max_examples=40, deadline=None)
@given(
    L=st.integers(2, 4),
    width=st.integers(1, 4),
    N=st.integers(1, 5),
    bias=st.booleans(),
    scale=st.floats(0.05, 5.0),
    kink=st.integers(0, 1),
    seed=st.integers(0, 10_000),
)
def test_certificates_agree_on_random_shapes(L, width, N, bias, scale, kink, seed):
    prob = make_problem(seed, hidden=(width,) * (L - 1), N=N, bias=bias, n0=2, nL=1)
    W, b, V = random_feasible_point(prob, seed, scale=scale, kink_rows=kink)
    rep = check_mfcq(prob, W, b, V, lp=True)
    assert rep.holds and rep.margin_raw >= 1.0 - 1e-12  # fact 3, up to rounding
    assert 0.0 < rep.margin <= rep.lp_margin + 1e-9
    assert rep.n_kink >= kink * N * (L - 1)


def test_active_sets_at_the_lift():
    prob = make_problem(7)
    W, b = prob.initial_weights(3)
    U = prob.forward(W, b)[0]
    rep = check_mfcq(prob, W, b)  # V defaults to the lift
    assert rep.n_active_g1 == sum(int(np.sum(u > 0)) for u in U[:-1])
    assert rep.n_active_g2 == sum(int(np.sum(u < 0)) for u in U[:-1])
    assert rep.n_kink == 0
    assert rep.lp_margin is not None and rep.lp_margin > 0


def test_float32_points_have_the_active_set_of_float64():
    """A float32 point whose ``V`` was formed elsewhere (here the float64 lift, rounded) has
    ``g = U - V`` at about ``1e-6`` instead of 0 on the lift's active entries: under the old
    fixed ``active_tol = 1e-8`` 24 of the 35 active constraints were found and the LP margin
    read 0.558 against float64's 0.235. The default tolerance follows the dtype's rounding."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    kw = dict(hidden=(3, 4), alpha=0.8, lam=0.1, coupling="squared")
    P64, P32 = LiftedProblem(X, Y, **kw), LiftedProblem(X, Y, dtype="float32", **kw)
    W32 = [(rng.standard_normal(s) * 2 + 1.0).astype(np.float32) for s in P64.W_shapes]
    W64 = [w.astype(np.float64) for w in W32]
    V64 = P64.lift(W64)
    a = check_mfcq(P64, W64, None, V64, lp=True)
    b = check_mfcq(P32, W32, None, [v.astype(np.float32) for v in V64], lp=True)
    assert a["active_tol"] == 1e-8 and b["active_tol"] > 1e-6
    assert b["n_active"] == a["n_active"] == 35
    assert b["lp_margin"] == pytest.approx(a["lp_margin"], rel=1e-5)


@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0])
def test_constructive_direction_against_finite_differences(scale):
    prob = make_problem(11, hidden=(3, 4, 2), bias=True)
    W, b, V = random_feasible_point(prob, 5, scale=scale)
    c, d = mfcq_direction(prob, W)
    assert c[0] == 0.0 and np.all(c[1:] >= 1.0)
    z = prob.layout.pack(W, b, V)
    h = 1e-3
    fd = (
        constraint_values(prob, *prob.layout.unpack(z + h * d))
        - constraint_values(prob, *prob.layout.unpack(z - h * d))
    ) / (2 * h)
    tol = 1e-8 * max(1.0, float(np.max(c)) * scale**2)
    assert np.max(fd) <= -1.0 + tol  # MODEL.md 4 fact 3: <grad g, d> <= -1 for every g
    rep = check_mfcq(prob, W, b, V, lp=False)
    assert rep.lp_margin is None
    assert rep.margin_raw == pytest.approx(-np.max(fd), rel=1e-7)
    assert rep.direction_norm == pytest.approx(np.max(np.abs(d)))


def test_jacobian_against_finite_differences():
    prob = make_problem(2, hidden=(3, 2), bias=True)
    W, b, V = random_feasible_point(prob, 1)
    z = prob.layout.pack(W, b, V)
    J = constraint_jacobian(prob, W, b, V)
    assert sp.issparse(J) and J.shape == (2 * sum(v.size for v in V), prob.layout.size)
    rng = np.random.default_rng(0)
    for _ in range(3):
        dz = rng.standard_normal(z.size)
        h = 1e-4  # g is bilinear in (W, V): the central difference is exact up to rounding
        fd = (
            constraint_values(prob, *prob.layout.unpack(z + h * dz))
            - constraint_values(prob, *prob.layout.unpack(z - h * dz))
        ) / (2 * h)
        assert np.allclose(J @ dz, fd, atol=1e-8)


def test_lp_detects_a_system_without_mfcq():
    # gradients e1 and -e1: no d with both <d, .> < 0, so the LP optimum is t = 0
    t, d, status, _ = _lp_margin(sp.csr_matrix(np.array([[1.0, 0.0], [-1.0, 0.0]])))
    assert t == pytest.approx(0.0, abs=1e-12) and status == "optimal"
    t, d, status, _ = _lp_margin(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]])))
    assert t == pytest.approx(1.0) and status == "optimal"


def test_lp_time_limit_goes_to_highs_and_leaves_the_constructive_certificate(monkeypatch):
    """The LP had no time limit (``lp=True`` at N = 2000, widths 10-16-16-3: 22 s, and a
    Ctrl-C waited for HiGHS to finish). ``time_limit`` bounds it: HiGHS gets what is left of
    it after the Jacobian, and when it stops there is no LP margin, ``holds`` resting on the
    constructive one."""
    import time

    import liftnet.verification.mfcq as mfcq

    prob = make_problem(0, hidden=(8, 8), N=1000, n0=10, nL=3)
    W, b = prob.initial_weights(0)
    real, limits = mfcq.linprog, []

    def linprog(*a, options=None, **k):
        limits.append((options or {}).get("time_limit"))
        return real(*a, options=options, **k)

    monkeypatch.setattr(mfcq, "linprog", linprog)
    t0 = time.monotonic()
    rep = check_mfcq(prob, W, b, lp=True, time_limit=0.3)
    wall = time.monotonic() - t0
    assert len(limits) == 1 and 0 < limits[0] <= 0.3
    assert rep.lp_status == "time_limit" and "time_limit" in rep.lp_message
    assert rep.lp_margin is None and rep.lp_direction is None
    assert rep.holds is True and rep.margin > 0  # the constructive certificate
    assert wall < 0.3 + 1.0  # (the LP alone: about 2 s)
    # with time enough, HiGHS's answer as before; none asked for, HiGHS gets none
    small = make_problem(1)
    Ws, bs = small.initial_weights(0)
    full = check_mfcq(small, Ws, bs, lp=True, time_limit=60.0)
    assert full.lp_status == "optimal" and full.lp_margin > 0 and limits[1] <= 60.0
    assert check_mfcq(small, Ws, bs, lp=True).lp_margin == full.lp_margin and limits[2] is None
    assert check_mfcq(small, Ws, bs, lp=False).lp_status == "not run"
    # nothing left once the Jacobian is built: HiGHS is not started
    monkeypatch.setattr(mfcq, "constraint_jacobian", _slow(mfcq.constraint_jacobian, 0.05))
    late = check_mfcq(small, Ws, bs, lp=True, time_limit=0.01)
    assert late.lp_status == "time_limit" and late.lp_margin is None and len(limits) == 3
    with pytest.raises(ValueError, match="time_limit"):
        check_mfcq(small, Ws, bs, time_limit=0)


def _slow(real, seconds):
    import time

    def slow(*a, **k):
        time.sleep(seconds)
        return real(*a, **k)

    return slow


def test_auto_lp_size_limit_and_validation():
    prob = make_problem(3)
    W, b = prob.initial_weights(0)
    assert check_mfcq(prob, W, lp="auto", lp_max_constraints=1).lp_margin is None
    assert check_mfcq(prob, W, lp="auto").lp_margin > 0
    with pytest.raises(ValueError, match="lp"):
        check_mfcq(prob, W, lp="yes")
    with pytest.raises(ValueError, match="active_tol"):
        check_mfcq(prob, W, active_tol=-1.0)
    with pytest.raises(ValueError, match="b must be None"):
        check_mfcq(prob, W, b=[np.zeros(s) for s in prob.b_shapes])
    with pytest.raises(ValueError, match=r"W\[0\]"):
        check_mfcq(prob, [w.T for w in W])


@pytest.mark.parametrize("s", [1e8, 1e12])
def test_constructive_margin_survives_large_weights(s):
    """MODEL.md 4 fact 3 gives ``<grad g, d> <= -1`` for every constraint at every point. At
    weights ``1e8`` (2-2-2-2, all entries equal) ``c_3 = 4e16``, and ``c_{l-1} (W_l 1)_i - c_l``
    subtracted two numbers of that size: ``margin_raw`` came out ``-0.0`` and ``holds`` False.
    In the form ``-(1 + c_{l-1} (m_l - (W_l 1)_i))`` the ``-1`` is never lost."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(
        rng.standard_normal((5, 2)), rng.standard_normal((5, 1)), hidden=(2, 2, 2), alpha=0.1
    )
    W = [np.full(shape, s) for shape in prob.W_shapes]
    rep = check_mfcq(prob, W, lp=False)
    assert rep.c[-1] > 1.0 / np.finfo(float).eps  # where the old form lost the 1
    assert rep.margin_raw == 1.0 and rep.margin_active_raw >= 1.0  # the rows at m_l: exactly 1
    assert rep.holds and rep.margin > 0


@settings(max_examples=60, deadline=None)
@given(
    L=st.integers(2, 4),
    width=st.integers(1, 4),
    bias=st.booleans(),
    log_scale=st.floats(-3.0, 12.0),
    alpha=st.floats(0.01, 0.99),
    seed=st.integers(0, 10_000),
)
def test_constructive_margin_is_at_least_one_at_any_scale(L, width, bias, log_scale, alpha, seed):
    """``margin_raw >= 1`` exactly (no rounding slack) at random points of any scale, feasible
    or not (fact 3 holds for every constraint at every point)."""
    prob = make_problem(seed, hidden=(width,) * (L - 1), N=3, bias=bias, n0=2, nL=1, alpha=alpha)
    rng = np.random.default_rng(seed)
    W = [10.0**log_scale * rng.standard_normal(shape) for shape in prob.W_shapes]
    b = [rng.standard_normal(shape) for shape in prob.b_shapes] if bias else None
    V = [rng.standard_normal(shape) for shape in prob.V_shapes]
    rep = check_mfcq(prob, W, b, V, lp=False)
    assert rep.margin_raw >= 1.0 and rep.margin_active_raw >= 1.0
    assert rep.holds


def test_n_kink_counts_entries_below_both_constraints_at_infeasible_points():
    """``n_kink``: both constraints active or violated, ``V <= min(U, alpha U) + active_tol``;
    at a feasible point the kinks ``U = V = 0``, at an infeasible one also ``V`` below both."""
    prob = make_problem(0, hidden=(3,), N=4)
    W, _ = prob.initial_weights(0)
    U = prob.pre_activations(W, None, prob.lift(W))[0]
    V = [np.minimum(U, prob.alpha * U) - 1.0]  # every entry below both: no kink U = V = 0
    rep = check_mfcq(prob, W, None, V, lp=False)
    assert rep.n_kink == U.size and rep.max_violation > 0
    # holds (the direction decreases every active or violated constraint), but not feasible
    assert rep.holds and not rep.feasible
    exact = check_mfcq(prob, W, None, [prob.sigma(U)], lp=False)
    assert exact.n_kink == 0 and exact.feasible and exact.max_violation == 0.0


def _active_margin_by_jacobian(prob, W, b, V, active_tol):
    """``-max <grad g_i, d>`` over the active constraints, from the sparse Jacobian and the
    constructive direction (independent of check_mfcq's closed-form per-row products)."""
    g = constraint_values(prob, W, b, V)
    J = constraint_jacobian(prob, W, b, V)
    _, d = mfcq_direction(prob, W)
    active = g >= -active_tol
    return -float(np.max(J[active] @ d)), active


@pytest.mark.parametrize("case", ["all g2", "seed 0", "seed 1", "seed 2"])
def test_margin_active_raw_is_the_worst_active_gradient_of_a_deeper_layer(case):
    """``margin_active_raw = -max_{i active} <grad g_i, d>`` (constructive ``d``). Layer 1 has
    ``c_0 = 0``, so every layer-1 product is exactly -1 and ``margin_raw`` is 1 whatever the
    deeper layers hold: only ``margin_active_raw`` sees them. Here layer 1 is lifted by +1
    (inactive) and layer 2 sits at its lift, so the active set is layer 2's alone, and the
    value must equal the Jacobian's. ``"all g2"``: ``V_1 > 0`` and ``W_2 < 0`` make every
    ``U_2 < 0``, only ``g2`` active, and the closed form ``1 - alpha max_i (W_2 1)_i``. Catches
    the ``g2`` products without ``alpha`` (``top - rs``) and the active ``g2`` entries left
    out of the maximum (``margin_active_raw`` would be inf in the first case)."""
    prob = make_problem(3, hidden=(4, 3), N=6, alpha=0.3)
    if case == "all g2":
        W, _ = prob.initial_weights(0)
        W[1] = -np.abs(W[1]) - 0.1
        V1 = np.maximum(prob.lift(W)[0], 0.0) + 1.0
    else:
        W, _ = prob.initial_weights(int(case[-1]))
        W = [2.0 * w for w in W]
        V1 = prob.lift(W)[0] + 1.0
    U2 = prob.pre_activations(W, None, [V1, np.zeros(prob.V_shapes[1])])[1]
    V = [V1, prob.sigma(U2)]
    rep = check_mfcq(prob, W, None, V, lp=False)
    want, active = _active_margin_by_jacobian(prob, W, None, V, rep.active_tol)
    n_layer1 = V1.size
    g1_rows, g2_rows = active[: active.size // 2], active[active.size // 2:]
    assert not g1_rows[:n_layer1].any() and not g2_rows[:n_layer1].any()  # layer 1 inactive
    assert g2_rows[n_layer1:].any()  # some active g2 in layer 2
    assert rep.margin_raw == 1.0  # layer 1's products: exactly -1 (c_0 = 0)
    assert rep.margin_active_raw == pytest.approx(want, rel=1e-12)
    if case == "all g2":
        assert rep.n_active_g1 == 0 and rep.n_active_g2 == U2.size
        rs = W[1].sum(axis=1)
        assert rep.margin_active_raw == pytest.approx(1.0 - prob.alpha * rs.max(), rel=1e-12)


def test_an_lp_optimum_of_zero_means_mfcq_fails(monkeypatch):
    """MODEL.md 7: the LP ``max t`` certifies MFCQ only when ``t > 0``; ``t = 0`` is the
    optimum exactly when no direction decreases every active constraint (see
    ``test_lp_detects_a_system_without_mfcq``), so ``holds`` must be False though the
    constructive margin is positive. Catches ``lp_margin >= 0``."""
    import liftnet.verification.mfcq as mfcq

    prob = make_problem(0)
    W, b = prob.initial_weights(0)
    assert check_mfcq(prob, W, b, lp=True).holds
    for t, holds in ((0.0, False), (1e-12, True), (-1e-3, False)):
        monkeypatch.setattr(
            mfcq, "_lp_margin",
            lambda J, time_limit=None, t=t: (t, np.zeros(J.shape[1]), "optimal", "stub"))
        rep = check_mfcq(prob, W, b, lp=True)
        assert rep.lp_margin == t and rep.margin > 0
        assert rep.holds is holds, t


def test_feasible_allows_a_violation_within_active_tol():
    """``feasible`` is ``max_violation <= active_tol``: the lift with one active entry pushed
    down by 1e-10 (``g = 1e-10 > 0``, within the default ``active_tol = 1e-8``) is feasible
    up to the tolerance the active set is read with; by 1e-6 it is not. Catches a
    ``violation <= 0`` test, which calls the rounding of any computed lift infeasible."""
    prob = make_problem(2)
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)
    for eps, feasible in ((1e-10, True), (1e-6, False)):
        Vs = [v.copy() for v in V]
        Vs[0][0, 0] -= eps  # both g1 and g2 rise by eps; one of them was 0 (active)
        rep = check_mfcq(prob, W, b, Vs, lp=False)
        assert rep.active_tol == 1e-8
        assert rep.max_violation == pytest.approx(eps, rel=1e-3)
        assert rep.feasible is feasible


@pytest.fixture(scope="module")
def large_active_jacobian():
    """The active rows at the lift of a random start, N = 1000, widths 10-8-8-3: 16000
    constraints, an LP of seconds."""
    import liftnet.verification.mfcq as mfcq

    prob = make_problem(0, hidden=(8, 8), N=1000, n0=10, nL=3)
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)
    g = mfcq.constraint_values(prob, W, b, V)
    return mfcq.constraint_jacobian(prob, W, b, V)[np.flatnonzero(g >= -1e-8)]


@pytest.mark.parametrize("limit", [0.02, 0.1])
def test_the_lp_stops_at_its_time_limit(large_active_jacobian, limit):
    """SciPy 1.17's HiGHS interior point looks at ``time_limit`` only before it starts: limits
    of 0.05 and 0.1 s ran 2.0-2.6 s to "optimal" here, and the test above failed whenever the
    Jacobian left HiGHS more than that check. With a limit the LP runs by dual simplex, which
    stops on it."""
    import time

    import liftnet.verification.mfcq as mfcq

    t0 = time.monotonic()
    t, d, status, message = mfcq._lp_margin(large_active_jacobian, time_limit=limit)
    wall = time.monotonic() - t0
    assert status == "time_limit" and t is None and d is None, (status, wall, message)
    assert wall < limit + 1.5


def test_the_lp_with_a_generous_limit_gives_the_same_margin():
    """The simplex a limit chooses and the interior point give the same optimal margin."""
    prob = make_problem(1)
    W, _ = prob.initial_weights(0)
    free = check_mfcq(prob, W, lp=True)
    timed = check_mfcq(prob, W, lp=True, time_limit=60.0)
    assert free.lp_status == timed.lp_status == "optimal"
    assert timed.lp_margin > 0
    assert abs(timed.lp_margin - free.lp_margin) <= 1e-7 * max(1.0, free.lp_margin)
    assert timed.margin <= timed.lp_margin + 1e-12


# A mutation review of theory.py and mfcq.py (session 51).
def test_lp_margin_with_no_time_left_does_not_start_highs():
    # check_mfcq passes what is left of time_limit: exactly 0 s left must not start HiGHS
    # (with a limit of 0 HiGHS may or may not return an optimum: no answer either way)
    J = sp.csr_matrix(np.array([[1.0, -1.0], [-1.0, 0.0]]))
    t, d, status, message = _lp_margin(J, time_limit=0.0)
    assert (t, d, status) == (None, None, "time_limit")
    assert "before HiGHS started" in message
    # with no constraint at all the answer needs no solve, whatever the limit
    t, d, status, _ = _lp_margin(sp.csr_matrix((0, 2)), time_limit=0.0)
    assert t == np.inf and status == "optimal" and np.array_equal(d, np.zeros(2))


def test_margin_active_raw_matches_the_jacobian_at_a_point_with_layer_one_inactive():
    # layer 1 strictly inside (V_1 = sigma(U_1) + 1, where c_0 = 0 would give -1 everywhere),
    # layer 2 at its lift: the worst active <grad g, d> comes from layer 2 and depends on c_1
    prob = make_problem(0, alpha=0.01)  # widths 3-4-3-2
    W = [np.zeros(s) for s in prob.W_shapes]
    W[1][:] = [[2.0, 2.0, 2.0, -1.0],  # row sum 5 = m_2, U = -4 < 0: only g2 active
               [1.0, 0.0, 0.0, 0.0],  # row sum 1, U = 1 > 0: g1 active
               [-1.0, 0.0, 0.0, 0.0]]  # row sum -1, U = -1: g2 active
    V1 = np.tile(np.array([[1.0], [1.0], [1.0], [10.0]]), (1, prob.N))  # U_1 = 0: inactive
    V = [V1, prob.sigma(W[1] @ V1)]
    rep = check_mfcq(prob, W, None, V, lp=False, active_tol=1e-10)
    _, d = mfcq_direction(prob, W)
    act = constraint_values(prob, W, None, V) >= -1e-10
    ref = -float(np.max(constraint_jacobian(prob, W, None, V)[np.flatnonzero(act)] @ d))
    # c_1 = 1: row 1's g1 gives 1 + c_1 (5 - 1) = 5, row 0's g2 5.95, row 2's g2 6.01
    assert ref == pytest.approx(5.0) and rep.margin_active_raw == pytest.approx(ref, rel=1e-12)
    assert rep.margin_raw == 1.0  # layer 1's constraints (c_0 = 0) give exactly -1


def test_lp_max_constraints_must_be_at_least_one():
    from liftnet.verification.mfcq import check_mfcq

    prob = make_problem(0)
    W = [np.ones(s) for s in prob.W_shapes]
    with pytest.raises(ValueError, match="lp_max_constraints"):
        check_mfcq(prob, W, lp="auto", lp_max_constraints=0)


def test_a_failed_highs_solve_gives_nan_and_not_a_zero_margin(monkeypatch):
    # "failed" must not read as an LP optimum of 0 (which would say: MFCQ fails)
    from types import SimpleNamespace

    import liftnet.verification.mfcq as mfcq

    monkeypatch.setattr(mfcq, "linprog", lambda *a, **k: SimpleNamespace(
        status=4, message="numerical difficulties", fun=None, x=None))
    J = sp.csr_matrix(np.array([[1.0, -1.0], [-1.0, 0.0]]))
    t, d, status, message = mfcq._lp_margin(J)
    assert np.isnan(t) and d is None and status == "failed" and "status 4" in message


# mfcq_direction and constraint_jacobian check their point as constraint_values does:
# a list of nested lists, a short list, a wrong shape or a missing V is a TypeError or
# ValueError naming the parameter, not an AttributeError, IndexError or numpy broadcast error
# from inside (or, for mfcq_direction, a silently wrong c from a transposed W).
def test_mfcq_direction_takes_nested_lists_as_arrays():
    prob = make_problem(0)
    W, _ = prob.initial_weights(seed=0)
    c, d = mfcq_direction(prob, W)
    c2, d2 = mfcq_direction(prob, [Wl.tolist() for Wl in W])
    np.testing.assert_array_equal(c, c2)
    np.testing.assert_array_equal(d, d2)


@pytest.mark.parametrize("bad", ["short", "transposed", "nan"])
def test_mfcq_direction_refuses_a_wrong_W_by_name(bad):
    prob = make_problem(0)
    W, _ = prob.initial_weights(seed=0)
    W = {"short": W[:-1], "transposed": [Wl.T for Wl in W],
         "nan": [np.full_like(Wl, np.nan) for Wl in W]}[bad]
    with pytest.raises(ValueError, match=r"^W"):
        mfcq_direction(prob, W)


def test_constraint_jacobian_takes_nested_lists_as_arrays():
    prob = make_problem(0)
    W, _ = prob.initial_weights(seed=0)
    V = prob.lift(W)
    J = constraint_jacobian(prob, W, None, V)
    J2 = constraint_jacobian(prob, [Wl.tolist() for Wl in W], None, [Vl.tolist() for Vl in V])
    assert (J != J2).nnz == 0


@pytest.mark.parametrize("bad", ["V None", "V short", "V transposed", "W short", "W transposed",
                                 "b missing"])
def test_constraint_jacobian_refuses_what_constraint_values_refuses(bad):
    prob = make_problem(0, bias=bad == "b missing")
    W, b = prob.initial_weights(seed=0)
    V = prob.lift(W, b)
    args = {"V None": (W, b, None), "V short": (W, b, V[:-1]),
            "V transposed": (W, b, [Vl.T for Vl in V]), "W short": (W[:-1], b, V),
            "W transposed": ([Wl.T for Wl in W], b, V), "b missing": (W, None, V)}[bad]
    with pytest.raises((TypeError, ValueError)) as values_error:
        constraint_values(prob, *args)
    with pytest.raises(type(values_error.value), match=r"^[WbV]"):
        constraint_jacobian(prob, *args)

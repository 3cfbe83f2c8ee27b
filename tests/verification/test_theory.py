"""Facts 1, 2 and 4 of MODEL.md section 4, checked numerically."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet.formulation.problem import LiftedProblem
from liftnet.verification.theory import (
    complementarity_gap,
    inside_level_set,
    level_set_radius,
    lift_feasibility,
    lift_objective_gap,
    lifted_only_units,
)


def make_problem(seed, hidden=(4, 3), N=8, n0=3, nL=2, **kw):
    rng = np.random.default_rng(seed)
    return LiftedProblem(
        rng.standard_normal((N, n0)), rng.standard_normal((N, nL)), hidden=hidden, **kw
    )


@st.composite
def problems_and_weights(draw):
    L = draw(st.integers(2, 4))
    widths = [draw(st.integers(1, 4)) for _ in range(L + 1)]
    N = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    prob = make_problem(
        seed,
        hidden=tuple(widths[1:-1]),
        N=N,
        n0=widths[0],
        nL=widths[-1],
        alpha=draw(st.floats(0.01, 0.99)),
        beta=draw(st.floats(0.1, 10.0)),
        bias=draw(st.booleans()),
        coupling=draw(st.sampled_from(["complementarity", "squared"])),
        groups=draw(st.sampled_from(["column", "row", "element"])),
    )
    rng = np.random.default_rng(seed + 1)
    scale = draw(st.floats(0.01, 10.0))
    W = [scale * rng.standard_normal(s) for s in prob.W_shapes]
    b = [rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    if draw(st.booleans()):  # a dead unit: U = V = 0 on its row (the kink, lifted_only_units'
        W[0][0] = 0.0        # V != 0 test), which random normals never give
        if b is not None:
            b[0][0] = 0.0
    return prob, W, b


@settings(max_examples=60, deadline=None)
@given(problems_and_weights())
def test_lift_is_feasible_and_F_equals_Phi_up_to_the_closed_form(case):
    prob, W, b = case
    assert lift_feasibility(prob, W, b) <= 0.0  # fact 1, exactly
    rep = lift_objective_gap(prob, W, b)  # fact 4
    assert rep.error <= 1e-12 * max(1.0, rep.F)
    U = prob.forward(W, b)[0]
    if prob.coupling_name == "complementarity":
        assert rep.predicted_gap == 0.0
    else:  # independent evaluation of (beta/N)(1-alpha)^2 sum ||min(U_l,0)||^2
        manual = sum(float(np.sum(np.where(u < 0, u, 0.0) ** 2)) for u in U[:-1])
        expected = prob.beta / prob.N * (1 - prob.alpha) ** 2 * manual
        # gap = F - Phi by subtraction: its rounding error scales with F, not with the gap
        assert rep.gap == pytest.approx(expected, rel=1e-9, abs=1e-12 * max(1.0, rep.F))
    assert complementarity_gap(prob, W, b) == 0.0


def test_squared_gap_is_positive_when_some_unit_is_negative():
    prob = make_problem(0, coupling="squared", beta=2.0)
    W, b = prob.initial_weights(0)
    rep = lift_objective_gap(prob, W, b)
    assert rep.predicted_gap > 1e-3
    assert rep.gap == pytest.approx(rep.predicted_gap, rel=1e-10)
    # the report's fields: F at the lift, Phi, and their difference
    assert rep.F == prob.F(W, b, prob.lift(W, b)) and rep.Phi == prob.Phi(W, b)
    assert rep.gap == rep.F - rep.Phi and rep.F > rep.Phi


def test_complementarity_gap_off_the_lift():
    prob = make_problem(1, alpha=0.2)
    W, b = prob.initial_weights(1)
    V = prob.lift(W, b)
    rng = np.random.default_rng(0)
    P = [rng.random(v.shape) for v in V]
    Vp = [v + p for v, p in zip(V, P, strict=False)]
    U = prob.pre_activations(W, b, Vp)
    manual = sum(
        float(np.sum(np.abs((v - u) * (v - 0.2 * u)))) for v, u in zip(Vp, U[:-1], strict=True)
    )
    gap = complementarity_gap(prob, W, b, Vp)
    assert gap > 0 and gap == pytest.approx(manual, rel=1e-12)
    # infeasible side too: V below sigma(U)
    assert complementarity_gap(prob, W, b, [v - p for v, p in zip(V, P, strict=False)]) > 0
    # with the gap zero, F (complementarity) equals Phi (fact 4)
    assert prob.F(W, b, V) == pytest.approx(prob.Phi(W, b), rel=1e-14)


def _level_set_points(prob, F0, rng, n=100):
    """Random feasible points z = (W, sigma(U) + P), P >= 0, rescaled to lie in {F <= F0}."""
    pts = []
    while len(pts) < n:
        W = [rng.standard_normal(s) * rng.uniform(0.01, 3) for s in prob.W_shapes]
        V = []
        for l in range(prob.L - 1):
            U = prob.pre_activations(W, None, V + [np.zeros(s) for s in prob.V_shapes[l:]])[l]
            V.append(prob.sigma(U) + rng.uniform(0, 3) * rng.random(U.shape))
        if prob.F(W, None, V) <= F0:
            pts.append((W, None, V))
    return pts


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_level_set_radius_contains_start_and_level_set_points(coupling):
    prob = make_problem(4, hidden=(3, 3), lam=0.5, beta=0.5, coupling=coupling)
    W0, _ = prob.initial_weights(0)
    V0 = prob.lift(W0)
    F0 = prob.F(W0, None, V0)
    rad = level_set_radius(prob, F0)
    assert rad.W_radius == pytest.approx(F0 / prob.lam)
    assert rad.pi_radius == pytest.approx(np.sqrt(prob.N * F0 / prob.beta))
    pts = [(W0, None, V0)] + _level_set_points(prob, F0, np.random.default_rng(1))
    rep = inside_level_set(prob, pts, rad)
    assert rep.all_inside and rep.max_norm <= rad.radius
    assert max(rep.W_sums) <= rad.W_radius
    for W, _, V in pts:  # the layer-by-layer bounds of the derivation
        U = prob.pre_activations(W, None, V)
        for l in range(prob.L - 1):
            assert np.linalg.norm(V[l] - prob.sigma(U[l])) <= rad.pi_radius
            assert np.linalg.norm(V[l]) <= rad.V_radius[l]
    # a point far outside is reported as such (the check can fail)
    far = ([100 * w for w in W0], None, None)
    assert inside_level_set(prob, [far], rad).inside == [False]


def test_pi_radius_is_nearly_attained():
    """At W = 0, V_l = c 1: ||V_l - sigma(U_l)||^2 = pi_l and F0 - loss = (beta/N) sum pi_l, so
    the bound r = sqrt(N F0 / beta) is tight up to the loss (guards against a wrong factor)."""
    prob = make_problem(5, hidden=(2,), lam=0.1, beta=1.0, N=8)
    W = [np.zeros(s) for s in prob.W_shapes]
    V = [np.full(prob.V_shapes[0], 20.0)]
    F0 = prob.F(W, None, V)
    rad = level_set_radius(prob, F0)
    dist = np.linalg.norm(V[0])
    assert dist <= rad.pi_radius
    assert dist >= 0.99 * rad.pi_radius


def test_level_set_radius_validation():
    with pytest.raises(ValueError, match="lam"):
        level_set_radius(make_problem(0, lam=0.0), 1.0)
    with pytest.raises(ValueError, match="bias"):
        level_set_radius(make_problem(0, bias=True), 1.0)
    with pytest.raises(ValueError, match="F0"):
        level_set_radius(make_problem(0), -1.0)
    with pytest.raises(TypeError, match="points"):
        inside_level_set(make_problem(0), [1.0], 1.0)


def test_a_bad_point_is_named_by_its_place_in_points():
    """``inside_level_set`` said "W must hold 3 arrays, got 2" without saying which point, and
    read a 3-layer network's W alone as a tuple ``(W, b, V)``."""
    prob = make_problem(0)  # 3 layers: W is a list of 3 arrays
    W, _ = prob.initial_weights(0)
    with pytest.raises(ValueError, match=r"^points\[1\]: W must hold 3"):
        inside_level_set(prob, [{"W": W}, {"W": W[:2]}], 1.0)
    with pytest.raises(TypeError, match=r"points\[0\] is a list of 3 arrays, a network's W "
                                        r"alone: pass \{'W': W\}"):
        inside_level_set(prob, [W], 1.0)
    assert inside_level_set(prob, [{"W": W}, (W, None, None)], 1e9).all_inside
    # one point given bare, not in a list (a review: the message told the caller to pass the
    # tuple they had passed)
    with pytest.raises(TypeError, match=r"one point \(W, b, V\) goes in a list"):
        inside_level_set(prob, (W, None, None), 1.0)


def test_result_history_iterates_are_read():
    prob = make_problem(6, lam=0.2)
    W0, _ = prob.initial_weights(0)
    res = {
        "W": W0,
        "b": None,
        "V": None,
        "history": [{"k": 1, "W": [2 * w for w in W0]}, {"k": 2, "objective": 1.0}],
    }
    rep = inside_level_set(prob, res, 1e9)
    assert len(rep.norms) == 2  # the stored iterate and the final point
    assert rep.norms[0] == pytest.approx(
        np.sqrt(
            sum(np.sum((2 * w) ** 2) for w in W0)
            + sum(np.sum(v**2) for v in prob.lift([2 * w for w in W0]))
        )
    )


def test_alm_iterates_stay_in_the_level_set_ball():
    alm = pytest.importorskip("liftnet.solvers.alm")
    prob = make_problem(8, hidden=(4,), N=20, lam=0.05)
    W0, _ = prob.initial_weights(0)
    init = {"W": W0}
    rad = level_set_radius(prob, prob.F(W0, None, prob.lift(W0)))
    # ALM iterates of one run: the (best) outer iterate after k outer steps, and the end point
    pts = [alm.solve_alm(prob, init=init, max_iter=k, tol=1e-10, max_inner=300) for k in (1, 3, 9)]
    rep = inside_level_set(prob, pts, rad)
    assert rep.all_inside, (rep.norms, rad.radius)
    assert len(rep.norms) == 3 and min(rep.norms) > 0
    # and the check can fail: the last point's weights scaled out past the radius
    far = 2 * rad.radius / rep.norms[-1]
    out = inside_level_set(prob, [{"W": [far * w for w in pts[-1].W], "V": pts[-1].V}], rad)
    assert not out.all_inside and out.max_norm > rad.radius


@settings(max_examples=40, deadline=None)
@given(problems_and_weights())
def test_an_exact_network_has_no_lifted_only_units(case):
    prob, W, b = case
    assert lifted_only_units(prob, W, b).count == 0


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_a_unit_with_zero_inputs_and_a_free_V_row_is_lifted_only(coupling):
    """Unit 1 of layer 1 gets a zero incoming row and a positive ``V`` row (feasible: ``V >=
    max(U, alpha U) = 0``): the one unit flagged; ``F`` then differs from ``Phi`` by the
    coupling's price of that row, ``(beta/N) ||V_1[1]||^2`` (both couplings at ``U = 0``)."""
    prob = make_problem(3, hidden=(4, 3), N=8, coupling=coupling, beta=2.0)
    W, _ = prob.initial_weights(0)
    W[0][1] = 0.0
    V = prob.lift(W)
    assert lifted_only_units(prob, W, None, V).count == 0
    V[0][1] = np.linspace(0.1, 0.8, prob.N)
    rep = lifted_only_units(prob, W, None, V)
    assert rep.count == 1 and list(rep.units[0]) == [1] and len(rep.units[1]) == 0
    assert rep.V_max[0][0] == pytest.approx(0.8) and rep.U_max[0][0] == 0.0
    # the coupling's price of the free row (the next layers see V, not the network)
    g1, g2 = prob.constraints(prob.pre_activations(W, None, V), V)
    pi_row = prob.coupling.value_from_gaps(g1[0][1:2], g2[0][1:2])
    assert prob.beta / prob.N * pi_row == pytest.approx(
        prob.beta / prob.N * np.sum(V[0][1] ** 2))
    # a small input signal, relative to the row, still counts; a large one does not
    W[0][1] = 1e-7
    assert lifted_only_units(prob, W, None, V).count == 1
    W[0][1] = 1.0
    assert lifted_only_units(prob, W, None, V).count == 0
    with pytest.raises(ValueError, match="^tol must be"):
        lifted_only_units(prob, W, None, V, tol=1.5)


def test_an_overflowing_lift_is_refused_not_nan():
    """Finite weights whose lift overflows gave NaN from the theory checks and ``check_mfcq``
    (``check_point`` did not check the lift it computed): a ``ValueError`` naming ``W``."""
    from liftnet import check_mfcq

    prob = make_problem(0)
    W = [np.full(s, 1e308) for s in prob.W_shapes]
    for f in (lift_feasibility, complementarity_gap, lift_objective_gap, check_mfcq):
        with pytest.raises(ValueError, match=r"^W overflows"):
            f(prob, W)


def test_the_infinite_radius_of_level_set_radius_holds_every_point():
    """``level_set_radius`` returns ``inf`` on purpose for a huge ``F0``; ``inside_level_set``
    refused it as not finite."""
    prob = make_problem(0, lam=0.02)
    W, b = prob.initial_weights(0)
    rep = level_set_radius(prob, 1e300)
    assert rep["radius"] == np.inf
    assert inside_level_set(prob, [(W, b, None)], rep)["all_inside"]
    assert inside_level_set(prob, [(W, b, None)], float("inf"))["all_inside"]
    with pytest.raises(ValueError, match="radius must be finite"):
        inside_level_set(prob, [(W, b, None)], float("-inf"))


def test_lift_feasibility_is_exactly_zero_when_every_unit_is_negative():
    """Positive inputs and negative first-layer weights make every ``U_1 < 0``: at the lift
    ``V_1 = alpha U_1`` so ``g2 = 0`` exactly and ``g1 = (1 - alpha) U_1 < 0``, and
    ``max(g1, g2) = 0.0`` exactly (MODEL.md 4, fact 1). Catches a check that reads only ``g1``
    (it would return ``(1 - alpha) max U_1 < 0``)."""
    rng = np.random.default_rng(11)
    prob = LiftedProblem(rng.uniform(0.5, 2.0, (6, 3)), rng.standard_normal((6, 2)),
                         hidden=(4,), alpha=0.3)
    W = [-rng.uniform(0.5, 2.0, prob.W_shapes[0]), rng.standard_normal(prob.W_shapes[1])]
    assert np.all(prob.forward(W)[0][0] < 0)
    assert lift_feasibility(prob, W) == 0.0


def test_level_set_radius_matches_the_recurrence_of_fact_2():
    """The radius of MODEL.md 4 fact 2, recomputed here: ``w = F0/lam``, ``r = sqrt(N F0 /
    beta)``, ``v_0 = ||X||_F``, ``v_l = w v_{l-1} + r`` (l = 1..L-1), ``R = sqrt(w^2 + sum
    v_l^2)``. Catches a recurrence without ``+ r`` and a radius without the ``w^2`` term."""
    prob = make_problem(9, hidden=(3, 2), lam=0.7, beta=1.3)
    F0 = 2.5
    rad = level_set_radius(prob, F0)
    w, r = F0 / 0.7, np.sqrt(prob.N * F0 / 1.3)
    v, vs = np.linalg.norm(prob.X), []
    for _ in range(2):
        v = w * v + r
        vs.append(v)
    assert rad.V_radius == pytest.approx(vs, rel=1e-12)
    assert rad.radius == pytest.approx(np.sqrt(w**2 + sum(x**2 for x in vs)), rel=1e-12)


def test_level_set_points_dominated_by_V_or_by_W_are_inside():
    """Two feasible points with ``F = F0`` (so in the level set; MODEL.md 4, fact 2):
    ``W = 0``, ``V = 20`` (lam = 1e3): ``||z|| = ||V|| <= r``, inside only if the recurrence
    adds ``r``; and ``W_1 = 0`` (so ``V_1 = 0``, ``U_L = 0``) with one nonzero column of
    ``W_L``, on tiny data and a large ``beta``: ``||z|| = ||W_L||_F = R(W) ~ w``, inside only
    if the radius counts ``w^2``. Catches ``v_l = w v_{l-1}`` and ``R = sqrt(sum v_l^2)``."""
    prob = make_problem(5, hidden=(2,), lam=1e3, beta=1.0, N=8)
    W = [np.zeros(s) for s in prob.W_shapes]
    V = [np.full(prob.V_shapes[0], 20.0)]
    rep = inside_level_set(prob, [(W, None, V)], level_set_radius(prob, prob.F(W, None, V)))
    assert rep.all_inside

    rng = np.random.default_rng(12)
    prob = LiftedProblem(1e-3 * rng.standard_normal((8, 3)), 1e-3 * rng.standard_normal((8, 2)),
                         hidden=(4,), lam=1.0, beta=1e6)
    W = [np.zeros(s) for s in prob.W_shapes]
    W[1][:, 0] = rng.standard_normal(prob.widths[-1])  # one group: R(W) = ||W||_F
    rad = level_set_radius(prob, prob.F(W, None, None))
    rep = inside_level_set(prob, [(W, None, None)], rad)
    assert rep.all_inside and rep.max_norm == pytest.approx(np.linalg.norm(W[1]))
    assert rep.max_norm > 0.9 * rad.radius  # the W term of the radius is what holds it


def test_inside_level_set_reports_a_violation_of_g2_only():
    """The lift with one entry of ``U < 0`` moved to ``V = alpha U - 0.3``: ``g2 = 0.3`` there
    and ``g1 <= 0`` everywhere, so the reported violation ``max(0, g1, g2)`` is 0.3
    (MODEL.md 4). Catches a violation read from ``g1`` only."""
    prob = make_problem(7, hidden=(4,), alpha=0.2)
    rng = np.random.default_rng(7)
    W = [3.0 * rng.standard_normal(s) for s in prob.W_shapes]
    V = prob.lift(W)
    U = prob.pre_activations(W, None, V)
    i, n = np.unravel_index(np.argmin(U[0]), U[0].shape)
    assert U[0][i, n] < -1.0  # g1 = (1 - alpha) U + 0.3 stays < 0
    V[0][i, n] = prob.alpha * U[0][i, n] - 0.3
    rep = inside_level_set(prob, [(W, None, V)], float("inf"))
    assert rep.violations[0] == pytest.approx(0.3, rel=1e-12)


def test_lifted_only_units_threshold_follows_tol():
    """One hidden layer; unit 1's ``V`` row is set to ``max|U_1[1]| / 0.3`` (so ``max|U| = 0.3
    max|V|``). The rule ``max|U| <= tol max|V|`` counts it at ``tol = 0.5`` but not at
    ``tol = 0.2`` nor at the default ``1e-4``; the other units, at the lift (``|V| <= |U|``),
    never count. Catches a rule that ignores ``tol``."""
    prob = make_problem(13, hidden=(4,), N=8)
    W, _ = prob.initial_weights(0)
    V = prob.lift(W)
    u = float(np.max(np.abs(prob.pre_activations(W, None, V)[0][1])))
    assert u > 0
    V[0][1] = u / 0.3
    assert lifted_only_units(prob, W, None, V).count == 0
    assert lifted_only_units(prob, W, None, V, tol=0.2).count == 0
    rep = lifted_only_units(prob, W, None, V, tol=0.5)
    assert rep.count == 1 and list(rep.units[0]) == [1]
    assert rep.U_max[0][0] == pytest.approx(0.3 * rep.V_max[0][0], rel=1e-12)


# A mutation review of theory.py and mfcq.py (session 51).


def test_lift_objective_gap_refuses_F_overflow_with_Phi_finite():
    # squared coupling, W_2 = W_3 = 0: Phi = loss + lam R stays finite (element groups: |w| = 1e154)
    # but the coupling (beta/N)(1-alpha)^2 ||min(U_1, 0)||^2 overflows: F = inf alone, and the
    # report would say gap = inf, error = nan.
    prob = make_problem(0, coupling="squared", lam=1e-3, groups="element")
    W = [np.zeros(s) for s in prob.W_shapes]
    W[0][:] = -1e154
    with np.errstate(over="ignore", invalid="ignore"):
        F, Phi = prob.F(W, None, prob.lift(W)), prob.Phi(W)
    assert np.isfinite(Phi) and not np.isfinite(F)  # the case this test is about
    with pytest.raises(ValueError, match="too large"):
        lift_objective_gap(prob, W)


def test_inside_level_set_all_inside_is_false_when_one_point_is_outside():
    from liftnet.verification.theory import inside_level_set

    prob = make_problem(1)
    rng = np.random.default_rng(2)
    small = [0.01 * rng.standard_normal(s) for s in prob.W_shapes]
    big = [100.0 * w for w in small]
    n_small = np.sqrt(sum(float(np.vdot(x, x)) for x in (*small, *prob.lift(small))))
    n_big = np.sqrt(sum(float(np.vdot(x, x)) for x in (*big, *prob.lift(big))))
    R = 0.5 * (n_small + n_big)
    rep = inside_level_set(prob, [{"W": small}, {"W": big}], R)
    assert rep.inside == [True, False]
    assert rep.all_inside is False
    assert inside_level_set(prob, [{"W": small}], R).all_inside is True


def test_inside_level_set_reports_F_at_the_given_V_not_Phi():
    from liftnet.verification.theory import inside_level_set

    prob = make_problem(3)  # complementarity: F = Phi only at the lift
    rng = np.random.default_rng(4)
    W = [rng.standard_normal(s) for s in prob.W_shapes]
    V, prev = [], prob.V0  # V_l = sigma(W_l V_{l-1}) + 1: feasible, not an exact network
    for Wl in W[:-1]:
        prev = prob.sigma(Wl @ prev) + 1.0
        V.append(prev)
    rep = inside_level_set(prob, [(W, None, V), {"W": W}], np.inf)
    assert rep.objectives[0] == pytest.approx(prob.F(W, None, V), rel=1e-12)
    assert rep.objectives[0] > prob.Phi(W) + 1e-6  # the coupling of V - sigma(U) = 1 counts
    assert rep.objectives[1] == pytest.approx(prob.Phi(W), rel=1e-12)
    assert rep.violations == [0.0, 0.0]


# A mutation review of theory.py and mfcq.py (session 51).
def test_level_set_radius_is_inf_not_nan_at_zero_data_and_overflowing_w():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(np.zeros((5, 3)), rng.standard_normal((5, 2)), hidden=(4, 3), lam=1e-3)
    rep = level_set_radius(prob, 1e306)  # w = F0 / lam overflows to inf, v_0 = ||X||_F = 0
    assert rep.W_radius == np.inf
    assert rep.V_radius[0] == rep.pi_radius  # v_1 = w * 0 + r = r
    assert rep.radius == np.inf
    W0 = [np.zeros(s) for s in prob.W_shapes]
    assert inside_level_set(prob, [{"W": W0}], rep).all_inside


def test_inside_level_set_reports_the_finite_radius_it_was_given():
    """``radius`` in the report is the radius the points were judged against, a float: the
    one passed, or the ``radius`` of a :func:`level_set_radius` report (not the report
    itself, not the largest norm); ``inside`` agrees with it."""
    prob = make_problem(0, lam=0.05)
    W, _ = prob.initial_weights(0)
    rad = level_set_radius(prob, prob.F(W, None, prob.lift(W)))
    assert 0 < rad.radius < np.inf
    rep = inside_level_set(prob, [{"W": W}], rad)
    assert type(rep.radius) is float and rep.radius == rad.radius
    assert rep.inside == [True] and rep.max_norm <= rep.radius
    for R in (2.5, np.float64(0.5 * rep.max_norm), 3):
        out = inside_level_set(prob, [{"W": W}], R)
        assert type(out.radius) is float and out.radius == float(R)
        assert out.inside == [bool(out.norms[0] <= float(R))]
    assert inside_level_set(prob, [{"W": W}], 0.5 * rep.max_norm).inside == [False]

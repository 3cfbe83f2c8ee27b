"""CVXPY declarations of the ALM's convex pieces against the numpy model and prox-gradient."""

import cvxpy as cp
import numpy as np
import pytest

from liftnet.formulation.cvxpy_blocks import (
    augmented_lagrangian_expr,
    convex_v_layers,
    estimate_multipliers_cvxpy,
    group_norm_expr,
    multiplier_objective,
    v_block,
    w_block,
)
from liftnet.formulation.problem import LiftedProblem


def make_problem(seed, hidden=(4, 3), N=10, **kw):
    rng = np.random.default_rng(seed)
    return LiftedProblem(
        rng.standard_normal((N, 3)), rng.standard_normal((N, 2)), hidden=hidden, **kw
    )


def point(prob, seed):
    """A slightly infeasible point (V = lift + noise) and positive multipliers."""
    rng = np.random.default_rng(seed)
    W, _ = prob.initial_weights(seed)
    b = [0.3 * rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    V = [v + 0.2 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    M1 = [rng.random(s) / prob.N for s in prob.V_shapes]
    M2 = [rng.random(s) / prob.N for s in prob.V_shapes]
    return W, b, V, M1, M2


def L_rho(prob, W, b, V, M1, M2, rho):
    """MODEL.md 6 from the problem's own F and constraints."""
    g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    pen = sum(
        np.sum(np.maximum(0.0, m + rho * g) ** 2) - np.sum(m**2)
        for m, g in zip((*M1, *M2), (*g1, *g2), strict=True)
    )
    return prob.F(W, b, V) + pen / (2 * rho)


def prox_gradient_w_block(prob, V, M1, M2, rho, W, b, iters=3000):
    """FISTA with backtracking on (W, b) for fixed V; prox = prob.penalty.prox (exact group prox).

    The gradient of L_rho in (W, b) is that of f + <Mh, g> with Mh = max(0, M + rho g).
    """

    def smooth(W, b):
        return L_rho(prob, W, b, V, M1, M2, rho) - prob.regulariser(W)

    def grad(W, b):
        g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
        Mh1 = [np.maximum(0, m + rho * g) for m, g in zip(M1, g1, strict=True)]
        Mh2 = [np.maximum(0, m + rho * g) for m, g in zip(M2, g2, strict=True)]
        gW, gb, _ = prob.lagrangian_gradient(W, b, V, Mh1, Mh2)
        return gW, gb

    t, step = 1.0, 1.0
    X = (W, b)
    Y = X
    for _ in range(iters):
        fY = smooth(*Y)
        gW, gb = grad(*Y)
        while True:
            Wn = [prob.penalty.prox(w - step * g, step) for w, g in zip(Y[0], gW, strict=True)]
            bn = None if b is None else [x - step * g for x, g in zip(Y[1], gb, strict=True)]
            dW = [a - c for a, c in zip(Wn, Y[0], strict=True)]
            db = [] if b is None else [a - c for a, c in zip(bn, Y[1], strict=True)]
            lin = sum(np.vdot(g, d) for g, d in zip((*gW, *(gb or [])), (*dW, *db), strict=True))
            quad = sum(np.vdot(d, d) for d in (*dW, *db)) / (2 * step)
            if smooth(Wn, bn) <= fY + lin + quad + 1e-15:
                break
            step /= 2
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        mom = (t - 1) / tn
        Y = (
            [a + mom * (a - c) for a, c in zip(Wn, X[0], strict=True)],
            None if b is None else [a + mom * (a - c) for a, c in zip(bn, X[1], strict=True)],
        )
        if sum(np.vdot(d, d) for d in (*dW, *db)) < 1e-24:
            X = (Wn, bn)
            break
        X, t = (Wn, bn), tn
        step *= 1.5
    return X


@pytest.mark.parametrize(
    "coupling,groups,bias",
    [
        ("complementarity", "column", False),
        ("squared", "row", True),
        ("complementarity", "element", True),
    ],
)
def test_w_block_optimum(coupling, groups, bias):
    prob = make_problem(0, coupling=coupling, groups=groups, bias=bias, lam=0.05)
    W, b, V, M1, M2 = point(prob, 1)
    rho = 2.0
    sol = w_block(prob, V, M1, M2, rho)
    # the declaration is the model: its value at the optimum is the numpy L_rho there
    assert sol.value == pytest.approx(L_rho(prob, sol.W, sol.b, V, M1, M2, rho), rel=1e-10)
    # no random (W, b) does better
    rng = np.random.default_rng(2)
    for _ in range(30):
        Wr = [w + rng.standard_normal(w.shape) * rng.uniform(0.01, 1) for w in sol.W]
        br = None if b is None else [x + rng.standard_normal(x.shape) for x in sol.b]
        assert sol.value <= L_rho(prob, Wr, br, V, M1, M2, rho) + 1e-9
    # prox-gradient with the exact group prox reaches the same optimum
    Wp, bp = prox_gradient_w_block(prob, V, M1, M2, rho, W, b)
    val_p = L_rho(prob, Wp, bp, V, M1, M2, rho)
    assert val_p == pytest.approx(sol.value, rel=1e-6, abs=1e-8)
    assert val_p >= sol.value - 1e-7
    assert max(np.max(np.abs(a - c)) for a, c in zip(Wp, sol.W, strict=True)) < 1e-4


def shifted_L_rho(prob, W, b, V, M1, M2, dW, db, s, rho=3.0):
    """``L_rho`` at ``(W + s dW, b + s db, V)``."""
    Ws = [w + s * d for w, d in zip(W, dW, strict=True)]
    bs = [x + s * d for x, d in zip(b, db, strict=True)]
    return L_rho(prob, Ws, bs, V, M1, M2, rho)


def test_w_block_is_convex_numerically():
    """Statement (a): second differences of L_rho along random (W, b) lines are >= 0."""
    for coupling in ("complementarity", "squared"):
        prob = make_problem(3, coupling=coupling, bias=True)
        W, b, V, M1, M2 = point(prob, 3)
        rng = np.random.default_rng(4)
        for _ in range(50):
            dW = [rng.standard_normal(w.shape) for w in W]
            db = [rng.standard_normal(x.shape) for x in b]
            h = rng.uniform(0.01, 1.0)
            vals = [shifted_L_rho(prob, W, b, V, M1, M2, dW, db, s) for s in (-h, 0.0, h)]
            assert vals[0] - 2 * vals[1] + vals[2] >= -1e-10


def test_w_block_problem_is_dcp_and_names_the_symbols():
    prob = make_problem(0)
    W, b, V, M1, M2 = point(prob, 0)
    sol = w_block(prob, V, M1, M2, 1.0)
    assert sol.problem.is_dcp()
    assert {v.name() for v in sol.problem.variables()} == {"W_1", "W_2", "W_3"}


def nonconvexity_witness(prob, alpha):
    """A feasible interior point and a direction (dV_1, dV_2 = c W_2 dV_1), c = (1 + alpha)/2,
    along which pi_2 has curvature -(1-alpha)^2/4 ||W_2 dV_1||^2 (module doc (b))."""
    rng = np.random.default_rng(0)
    W = [rng.standard_normal(s) for s in prob.W_shapes]
    W[1] *= 10.0  # ||W_2 dV_1|| >> ||dV_1||: pi_2's negative curvature wins over pi_1's
    W[2] *= 1e-3  # the loss hardly sees V_2
    V = [v + 1.0 for v in prob.lift(W)]  # strictly feasible: the penalty (M = 0) is flat
    d1 = rng.standard_normal(prob.V_shapes[0])
    d2 = (1 + alpha) / 2 * (W[1] @ d1)
    return W, V, d1, d2


def test_v_block_convexity_statements():
    comp = make_problem(5, hidden=(3, 3, 2), alpha=0.1)
    sq = make_problem(5, hidden=(3, 3, 2), alpha=0.1, coupling="squared")
    assert convex_v_layers(comp, (1, 3)) and not convex_v_layers(comp, (1, 2))
    assert convex_v_layers(sq, (1, 2, 3))
    W, V, d1, d2 = nonconvexity_witness(comp, 0.1)
    M1, M2 = comp.zero_multipliers()

    def second_difference(prob, h=1e-2):
        def at(s):
            Vs = [V[0] + s * d1, V[1] + s * d2, V[2]]
            return L_rho(prob, W, None, Vs, M1, M2, 1.0)

        return at(h) - 2 * at(0.0) + at(-h)

    assert second_difference(comp) < 0  # (V_1, V_2) jointly: not convex for complementarity
    assert second_difference(sq) > 0
    with pytest.raises(ValueError, match="adjacent"):
        v_block(comp, W, None, V, layers=(1, 2))
    # the CVXPY expression refuses the nonconvex declaration too
    Vx = [cp.Variable(s) for s in comp.V_shapes]
    assert not augmented_lagrangian_expr(comp, W, None, Vx, M1, M2, 1.0).is_dcp()
    assert augmented_lagrangian_expr(sq, W, None, Vx, M1, M2, 1.0).is_dcp()


@pytest.mark.parametrize(
    "coupling,layers", [("complementarity", (1, 3)), ("complementarity", (2,)), ("squared", None)]
)
def test_v_block_optimum(coupling, layers):
    prob = make_problem(6, hidden=(3, 3, 2), coupling=coupling, bias=True)
    W, b, V, M1, M2 = point(prob, 6)
    rho = 2.0
    sol = v_block(prob, W, b, V, M1, M2, rho, layers=layers)
    assert sol.value == pytest.approx(L_rho(prob, W, b, sol.V, M1, M2, rho), rel=1e-10)
    assert sol.value <= L_rho(prob, W, b, V, M1, M2, rho)
    free = sol.layers
    for l in range(1, prob.L):  # fixed layers are untouched
        if l not in free:
            assert np.array_equal(sol.V[l - 1], V[l - 1])
    rng = np.random.default_rng(7)
    for _ in range(30):
        Vr = [
            v + (rng.standard_normal(v.shape) * 0.3 if l + 1 in free else 0.0)
            for l, v in enumerate(sol.V)
        ]
        assert sol.value <= L_rho(prob, W, b, Vr, M1, M2, rho) + 1e-9


@pytest.mark.parametrize(
    "coupling,groups,bias",
    [("complementarity", "column", False), ("squared", "element", True)],
)
def test_multiplier_estimate_matches_kkt_estimate(coupling, groups, bias):
    kkt = pytest.importorskip("liftnet.verification.kkt")
    prob = make_problem(8, coupling=coupling, groups=groups, bias=bias, lam=0.05)
    W, b, V, _, _ = point(prob, 8)
    W[0][:, 0] = 0.0  # a zero group (for elements: a zero column of entries)
    sol = estimate_multipliers_cvxpy(prob, W, b, V)
    assert all(np.all(m >= 0) for m in (*sol.M1, *sol.M2))
    assert sol.value == pytest.approx(
        multiplier_objective(prob, W, b, V, sol.M1, sol.M2), rel=1e-7, abs=1e-12
    )
    A1, A2 = kkt.estimate_multipliers(prob, W, b, V)
    lead = multiplier_objective(prob, W, b, V, A1, A2)
    # both solve the same convex program: equal optimal values
    assert lead == pytest.approx(sol.value, rel=1e-5, abs=1e-10)
    # and so the stationarity part of the KKT residual agrees
    r_cvx = kkt.kkt_residuals(prob, W, b, V, sol.M1, sol.M2)
    r_lead = kkt.kkt_residuals(prob, W, b, V, A1, A2)
    assert r_cvx.stationarity == pytest.approx(r_lead.stationarity, rel=1e-2)


def test_validation():
    prob = make_problem(0)
    W, b, V, M1, M2 = point(prob, 0)
    with pytest.raises(ValueError, match="rho"):
        w_block(prob, V, M1, M2, rho=0.0)
    with pytest.raises(ValueError, match="M1"):
        w_block(prob, V, [-m for m in M1], M2)
    with pytest.raises(ValueError, match="both"):
        w_block(prob, V, M1, None)
    with pytest.raises(ValueError, match="layers"):
        v_block(prob, W, None, V, layers=(0,))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda p, W, V: v_block(p, W, None, V, layers=1), TypeError, "layers must be an iterable"),
        (lambda p, W, V: convex_v_layers(p, "12"), TypeError, "layers must be an iterable"),
        (lambda p, W, V: convex_v_layers(p, (1.5,)), TypeError, r"layers\[0\] must be an integer"),
        (lambda p, W, V: convex_v_layers(p, (True,)), TypeError, r"layers\[0\] must be an integer"),
        (lambda p, W, V: convex_v_layers(p, (1, 3)), ValueError, r"layers\[1\] must be <= 2"),
        (lambda p, W, V: convex_v_layers(p, ()), ValueError, "layers must hold at least one"),
        (lambda p, W, V: v_block(p, W, None, V, solver="NOPE"), ValueError,
         "solver must be one of the installed"),
        (lambda p, W, V: w_block(p, V, solver=1), TypeError, "solver must be a CVXPY solver"),
        (lambda p, W, V: estimate_multipliers_cvxpy(p, W, solver=["CLARABEL"]), TypeError,
         "solver must be a CVXPY solver"),
        (lambda p, W, V: group_norm_expr(p, W[0][0]), ValueError, "Wl must be 2-D"),
        (lambda p, W, V: augmented_lagrangian_expr(p, W, None, [v.T for v in V], None, None, 1.0),
         ValueError, r"V\[0\] must have shape \(4, 10\)"),
        (lambda p, W, V: augmented_lagrangian_expr(p, W, None, V, None, None, 0.0), ValueError,
         "rho must be > 0"),
        (lambda p, W, V: augmented_lagrangian_expr(p, W, [np.ones(4), np.ones(3), np.ones(2)], V,
                                                   None, None, 1.0), ValueError, "b must be None"),
        (lambda p, W, V: augmented_lagrangian_expr(
            p, [cp.Variable((3, 3)), *W[1:]], None, V, None, None, 1.0), ValueError,
         r"W\[0\] must have shape \(4, 3\), got \(3, 3\)"),
        (lambda p, W, V: multiplier_objective(p, W, None, V, [v.T for v in V], V), ValueError,
         r"M1\[0\] must have shape"),
        (lambda p, W, V: multiplier_objective(p, W, None, [np.nan * v for v in V], V, V),
         ValueError, r"V\[0\] must be finite"),
        # (CVXPY's own ValueError, "Problem data contains NaN or Inf", named nothing of ours)
        (lambda p, W, V: w_block(p, V, rho=1e308), ValueError,
         "not finite once scaled: rho or the multipliers too large"),
    ],
)
def test_arguments_are_checked_and_named(call, exc, match):
    """Every public function checks its arguments first, naming the bad one (``layers=1`` used
    to fail with "'int' object is not iterable", ``convex_v_layers(prob, "12")`` inside
    ``sorted``, a wrong solver name only after the problem was built)."""
    prob = make_problem(0)
    W, _ = prob.initial_weights(0)
    with pytest.raises(exc, match=match):
        call(prob, W, prob.lift(W))


def test_an_inaccurate_solve_says_so_and_an_unfit_solver_is_a_runtime_error():
    """``optimal_inaccurate`` is the solution's status (SCS cut after two iterations: 2.38
    for an optimum of 1.20; CVXPY warns), and a solver that cannot take the block (OSQP: no
    second-order cone) raised CVXPY's ``SolverError`` instead of the documented
    ``RuntimeError``."""
    prob = make_problem(0)
    W, b, V, M1, M2 = point(prob, 0)
    with pytest.warns(UserWarning, match="inaccurate"):
        sol = w_block(prob, V, M1, M2, solver="SCS", max_iters=2)
    assert sol.status == cp.OPTIMAL_INACCURATE
    with pytest.raises(RuntimeError, match="CVXPY/OSQP could not solve the block"):
        w_block(prob, V, M1, M2, solver="OSQP")


def test_solver_name_is_case_insensitive():
    """``solver``: "the name of an installed CVXPY solver (any case)"."""
    prob = make_problem(0, hidden=(3,), N=6)
    W, _ = prob.initial_weights(0)
    V = prob.lift(W)
    assert w_block(prob, V, solver="clarabel").status == "optimal"


@pytest.mark.parametrize("which", ["M1", "M2"])


@pytest.mark.parametrize("layer", [0, 1])


def test_one_negative_multiplier_entry_is_refused(which, layer):
    """A single negative entry in any one layer is refused (not only when every layer has
    one)."""
    prob = make_problem(0)
    W, _ = prob.initial_weights(0)
    M1, M2 = prob.zero_multipliers()
    M = M1 if which == "M1" else M2
    M[layer][0, 0] = -1e-3
    with pytest.raises(ValueError, match=f"{which} must be nonnegative"):
        multiplier_objective(prob, W, None, None, M1, M2)
    with pytest.raises(ValueError, match=f"{which} must be nonnegative"):
        w_block(prob, prob.lift(W), M1, M2)


def test_v_block_default_optimises_every_hidden_layer():
    """``layers=None``: "default all" hidden layers 1..L-1 (squared coupling: convex)."""
    prob = make_problem(6, hidden=(3, 3, 2), coupling="squared", bias=True)
    W, _ = prob.initial_weights(6)
    rng = np.random.default_rng(6)
    b = [0.3 * rng.standard_normal(s) for s in prob.b_shapes]
    V = [v + 0.2 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    sol = v_block(prob, W, b, V, rho=2.0)
    assert sol.layers == (1, 2, 3)
    every = v_block(prob, W, b, V, rho=2.0, layers=(1, 2, 3))
    assert sol.value == pytest.approx(every.value, rel=1e-7, abs=1e-10)
    assert not np.allclose(sol.V[-1], V[-1])  # the last hidden layer moved too


def test_v_block_fixed_layers_are_copies():
    """The returned ``V`` is the caller's to edit: its fixed layers are fresh arrays, so
    writing into them leaves the caller's ``V`` as it was."""
    prob = make_problem(6, hidden=(3, 3, 2))
    W, _ = prob.initial_weights(6)
    V = [v + 0.5 for v in prob.lift(W)]
    before = [v.copy() for v in V]
    sol = v_block(prob, W, None, V, layers=(2,))
    for l in (0, 2):  # fixed layers: equal values, not the same arrays
        np.testing.assert_array_equal(sol.V[l], V[l])
        assert not np.shares_memory(sol.V[l], V[l])
        sol.V[l][...] = 0.0
    for v, c in zip(V, before, strict=True):
        np.testing.assert_array_equal(v, c)


@pytest.mark.parametrize("bias", [False, True])


def test_multiplier_estimate_row_groups_is_the_numpy_objective(bias):
    """Row groups (only column and element were compared): the CVXPY program's value at its
    optimum is ``multiplier_objective`` there, a zero row group included, and no random
    nonnegative multipliers do better."""
    prob = make_problem(8, hidden=(4, 3), groups="row", bias=bias, lam=0.05)
    rng = np.random.default_rng(8)
    W, _ = prob.initial_weights(8)
    W[1][0, :] = 0.0  # a zero row group
    b = [0.3 * rng.standard_normal(s) for s in prob.b_shapes] if bias else None
    V = [v + 0.2 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    sol = estimate_multipliers_cvxpy(prob, W, b, V)
    val = multiplier_objective(prob, W, b, V, sol.M1, sol.M2)
    assert sol.value == pytest.approx(val, rel=1e-6, abs=1e-12)
    for _ in range(10):
        R1 = [np.maximum(m + 0.01 * rng.standard_normal(m.shape) / prob.N, 0) for m in sol.M1]
        R2 = [np.maximum(m + 0.01 * rng.standard_normal(m.shape) / prob.N, 0) for m in sol.M2]
        assert val <= multiplier_objective(prob, W, b, V, R1, R2) + 1e-12


# CVXPY refuses non-finite problem data with two messages: "Problem data contains NaN or
# Inf" (an inf in the objective or a matrix) and "Problem data contains NaN" (a NaN in a
# right-hand side). The blocks turned the first into their ValueError about the data's scale;
# the second (a finite point too large, W = 1e200 at a given V, in the multiplier estimate)
# came out as CVXPY's own message, naming nothing of liftnet's.
def test_a_nan_in_the_estimates_data_is_the_blocks_error():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((10, 3)), rng.standard_normal((10, 2)),
                         hidden=(4, 3))
    W, _ = prob.initial_weights(0)
    V = prob.lift(W)
    with pytest.raises(ValueError, match="not finite once scaled"):
        estimate_multipliers_cvxpy(prob, [1e200 * Wl for Wl in W], None, V)

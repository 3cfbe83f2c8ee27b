"""kkt_residuals: ~0 at KKT points with known multipliers, large away from them."""

import time
import types

import numpy as np
import pytest
from _helpers import slightly_infeasible_point

from liftnet import LiftedProblem, kkt_residuals, solve_alm
from liftnet.datasets import make_teacher
from liftnet.solvers import interior_point
from liftnet.verification import multipliers
from liftnet.verification.kkt import estimate_multipliers


@pytest.fixture(scope="module")
def solved():
    X, Y, _, _ = make_teacher(20, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=0, bias=False)
    prob = LiftedProblem(X, Y, hidden=(4, 3), coupling="squared", lam=1e-2)
    res = solve_alm(prob, tol=1e-7, time_limit=60)
    assert res.status == "converged"
    return prob, res


def test_zero_network_is_kkt_with_zero_multipliers():
    # W = 0: U = V = 0, g1 = g2 = 0 (the kink), every gradient vanishes with M = 0
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((7, 3)), rng.standard_normal((7, 2)),
                         hidden=(4,), lam=1.0)
    W = [np.zeros(s) for s in prob.W_shapes]
    M1, M2 = prob.zero_multipliers()
    rep = kkt_residuals(prob, W, None, None, M1, M2)
    assert rep["residual"] == 0.0 and rep["multipliers"] == "given"
    # a large enough nonzero output weight breaks stationarity
    W[1][0, 0] = 1.0
    assert kkt_residuals(prob, W, None, None, M1, M2)["residual"] > 1e-2


def test_alm_point_with_its_multipliers(solved):
    prob, res = solved
    rep = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    assert rep["residual"] <= 1e-7
    assert set(rep.PARTS) <= set(rep)


def test_estimated_multipliers_certify_the_point(solved):
    prob, res = solved
    rep = kkt_residuals(prob, res.W, res.b, res.V)
    assert rep["multipliers"] == "estimated"
    assert rep["residual"] <= 1e-6
    M1, M2 = estimate_multipliers(prob, res.W, res.b, res.V)
    assert all(np.all(m >= 0) for m in M1 + M2)


def test_perturbed_points_are_not_kkt(solved):
    prob, res = solved
    rng = np.random.default_rng(1)
    W = [w + 1e-2 * rng.standard_normal(w.shape) for w in res.W]
    assert kkt_residuals(prob, W, res.b, res.V, res.M1, res.M2)["residual"] > 1e-4
    V = [v - 1e-2 for v in res.V]  # infeasible
    rep = kkt_residuals(prob, res.W, res.b, V, res.M1, res.M2)
    assert rep["primal_feasibility"] >= 1e-2 - 1e-12
    negM = [-m - 1e-3 for m in res.M1]
    assert kkt_residuals(prob, res.W, res.b, res.V, negM, res.M2)["dual_feasibility"] >= 1e-3


def test_zero_threshold_snaps_small_groups(solved):
    prob, res = solved
    W = [w.copy() for w in res.W]
    col = int(np.argmin(prob.penalty.group_norms(W[0])))
    W[0][:, col] = 1e-9
    rep = kkt_residuals(prob, W, res.b, res.V, res.M1, res.M2, zero_threshold=1e-8)
    assert rep["zero_threshold"] == 1e-8
    # the threshold checks the point with that group exactly zero ...
    Wz = [w.copy() for w in W]
    Wz[0][:, col] = 0.0
    exact = kkt_residuals(prob, Wz, res.b, res.V, res.M1, res.M2)
    assert rep["residual"] == exact["residual"]
    # ... where without it the tiny group is "nonzero" and its residual is off by about lam
    raw = kkt_residuals(prob, W, res.b, res.V, res.M1, res.M2)
    assert raw["stationarity_W"] > 2 * rep["stationarity_W"]
    with pytest.raises(ValueError, match="zero_threshold"):
        kkt_residuals(prob, W, zero_threshold=-1.0)


def test_shape_errors_name_the_argument(solved):
    prob, res = solved
    with pytest.raises(ValueError, match=r"W\[0\]"):
        kkt_residuals(prob, [np.ones((2, 2))] + res.W[1:])
    with pytest.raises(ValueError, match="b must be None"):
        kkt_residuals(prob, res.W, [np.ones(4)] * 3)


def test_multiplier_estimate_honours_its_time_limit(monkeypatch):
    from liftnet.datasets import make_teacher

    X, Y, _, _ = make_teacher(300, (6, 20, 20, 2), alpha=0.1, noise=0.1, seed=0)
    prob = LiftedProblem(X, Y, hidden=(20, 20), lam=1e-2)
    W, b = prob.initial_weights(0)
    t = time.monotonic()
    rep = kkt_residuals(prob, W, b, time_limit=0.2)
    assert time.monotonic() - t < 5.0
    assert rep["multipliers"] == "estimated" and np.isfinite(rep["residual"])
    with pytest.raises(ValueError, match="time_limit"):
        kkt_residuals(prob, W, b, time_limit=-1)

    # the limit reaches the estimate: a clock moving 0.1 s per evaluation of the program
    clock = {"now": 0.0}
    fake = types.SimpleNamespace(monotonic=lambda: clock["now"])
    value = multipliers.MultiplierLSQ.value

    def slow_value(self, *a, **k):
        clock["now"] += 0.1
        return value(self, *a, **k)

    monkeypatch.setattr(multipliers.MultiplierLSQ, "value", slow_value)
    monkeypatch.setattr(multipliers, "time", fake)
    monkeypatch.setattr(interior_point, "time", fake)
    prob, W, b, V = slightly_infeasible_point(4, hidden=(6, 4), N=40)  # the estimate iterates
    free = kkt_residuals(prob, W, b, V)
    assert free.estimate["status"] != "time_limit" and free.estimate["iterations"] >= 3
    limited = kkt_residuals(prob, W, b, V, time_limit=0.45)
    assert limited.estimate["status"] == "time_limit"
    assert limited.estimate["iterations"] < free.estimate["iterations"]
    assert np.isfinite(limited.residual) and limited.residual >= free.residual * (1 - 1e-9)


def test_an_overflowing_lift_is_refused_naming_W_not_V():
    """Without ``V`` the lift is computed: finite weights whose forward pass overflows are
    refused under ``W`` (the message named ``V``, which the caller never passed)."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((6, 2)), rng.standard_normal((6, 1)), hidden=(3,))
    W = [np.full(s, 1e308) for s in prob.W_shapes]
    with pytest.raises(ValueError, match=r"^W overflows"):
        kkt_residuals(prob, W)
    with pytest.raises(ValueError, match=r"^W overflows"):
        estimate_multipliers(prob, W, None, None)


def _lift_point(seed=0, alpha=0.2, hidden=(4,)):
    """A small problem (no bias, N=7) and its exact lift ``V = sigma(U)`` at random weights."""
    rng = np.random.default_rng(seed)
    prob = LiftedProblem(rng.standard_normal((7, 3)), rng.standard_normal((7, 2)),
                         hidden=hidden, alpha=alpha, lam=1e-2)
    W = [3.0 * rng.standard_normal(s) for s in prob.W_shapes]
    return prob, W, prob.lift(W)


def test_a_violation_of_g2_only_is_primal_infeasibility():
    """At the lift every entry has ``g1 <= 0`` and ``g2 <= 0``; moving one entry with ``U < 0``
    to ``V = alpha U - 0.3`` makes ``g2 = 0.3`` while ``g1 = (1-alpha) U + 0.3`` stays < 0, so
    ``primal_feasibility = max(0, g1, g2)`` is 0.3 (MODEL.md 5). Catches a primal part that
    reads only ``g1``."""
    prob, W, V = _lift_point()
    U = prob.pre_activations(W, None, V)
    i, n = np.unravel_index(np.argmin(U[0]), U[0].shape)
    assert U[0][i, n] < -1.0  # so g1 = (1 - alpha) U + 0.3 < 0 there
    V[0][i, n] = prob.alpha * U[0][i, n] - 0.3
    M1, M2 = prob.zero_multipliers()
    rep = kkt_residuals(prob, W, None, V, M1, M2)
    g1, g2 = prob.constraints(prob.pre_activations(W, None, V), V)
    assert g1[0][i, n] < 0 and max(float(np.max(g)) for g in g1) <= 0.0
    assert rep["primal_feasibility"] == pytest.approx(0.3, rel=1e-12)


def test_a_negative_M2_entry_is_dual_infeasibility():
    """``dual_feasibility = max(0, -M)`` over both multipliers (MODEL.md 5): ``M1 = 0`` and one
    entry of ``M2`` equal to -1 give exactly 1. Catches a dual part that reads only ``M1``."""
    prob, W, V = _lift_point()
    M1, M2 = prob.zero_multipliers()
    M2[0][1, 2] = -1.0
    assert kkt_residuals(prob, W, None, V, M1, M2)["dual_feasibility"] == 1.0
    M1, M2 = prob.zero_multipliers()
    M1[0][0, 0] = -0.5
    assert kkt_residuals(prob, W, None, V, M1, M2)["dual_feasibility"] == 0.5


def test_complementarity_reads_both_pairs_in_absolute_value():
    """At the lift (``g1, g2 <= 0``): with ``M1 = 0, M2 = 1`` the complementarity part
    ``max(|M1 g1|, |M2 g2|)`` equals ``max |g2| > 0``, and with ``M1 = 1, M2 = 0`` it equals
    ``max |g1|`` (MODEL.md 5). Catches a part that pairs only ``(M1, g1)`` and one that takes
    the signed product ``M g`` (which is ``<= 0`` here and reads as 0)."""
    prob, W, V = _lift_point()
    g1, g2 = prob.constraints(prob.pre_activations(W, None, V), V)
    zeros, _ = prob.zero_multipliers()
    ones = [np.ones(s) for s in prob.V_shapes]
    rep = kkt_residuals(prob, W, None, V, zeros, ones)
    expected2 = max(float(np.max(np.abs(g))) for g in g2)
    assert expected2 > 0.1
    assert rep["complementarity"] == expected2
    rep = kkt_residuals(prob, W, None, V, ones, zeros)
    expected1 = max(float(np.max(np.abs(g))) for g in g1)
    assert expected1 > 0.1
    assert rep["complementarity"] == expected1


def test_bias_stationarity_is_the_largest_absolute_b_gradient():
    """Bias, ``W = 0``, ``b_1 = 0`` (so ``U_1 = V_1 = 0``), ``b_L = c``, ``M = 0``: every
    gradient vanishes but ``grad_{b_L} = dU_L 1 = 2 (c - mean(Y))`` (MODEL.md 5). With
    ``c = mean(Y) - (1, 3)`` it is ``(-2, -6)``: ``stationarity_b`` and ``stationarity`` are 6.
    Catches a ``b`` part taken as the signed max (which gives 0 here) and a stationarity that
    leaves the ``b`` part out."""
    rng = np.random.default_rng(3)
    Y = rng.standard_normal((9, 2))
    prob = LiftedProblem(rng.standard_normal((9, 3)), Y, hidden=(4,), bias=True, lam=0.1)
    W = [np.zeros(s) for s in prob.W_shapes]
    b = [np.zeros(s) for s in prob.b_shapes]
    b[-1] = Y.mean(axis=0) - np.array([1.0, 3.0])
    M1, M2 = prob.zero_multipliers()
    rep = kkt_residuals(prob, W, b, None, M1, M2)
    assert rep["stationarity_W"] == 0.0 and rep["stationarity_V"] == 0.0
    assert rep["stationarity_b"] == pytest.approx(6.0, rel=1e-12)
    assert rep["stationarity"] == rep["stationarity_b"]
    assert rep["residual"] == rep["stationarity_b"]


def test_V_stationarity_is_the_largest_absolute_V_gradient_of_every_layer():
    """Zero network, ``V = 0``: ``dV = 0`` and ``W_{l+1}^T D_{l+1} = 0``, so
    ``grad_{V_l} = -(M1_l + M2_l)`` (MODEL.md 5). One hidden layer, ``M1 = 0.5``, ``M2 = 0``
    (``lam`` large so the W part is 0): ``stationarity_V`` is exactly 0.5. Two hidden layers
    with ``M1 = 0.5`` on the last one only: again 0.5, from the last ``V`` alone (here
    ``grad_{W_l} = D_l V_{l-1}^T`` vanishes for any ``lam``). Catches a signed max over the
    ``V`` gradient (-0.5 reads as 0) and one that skips the last layer's ``V``."""
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    prob = LiftedProblem(X, Y, hidden=(4,), lam=100.0)
    W = [np.zeros(s) for s in prob.W_shapes]
    M1, M2 = prob.zero_multipliers()
    M1 = [np.full(s, 0.5) for s in prob.V_shapes]
    rep = kkt_residuals(prob, W, None, None, M1, M2)
    assert rep["stationarity_W"] == 0.0
    assert rep["stationarity_V"] == 0.5 and rep["stationarity"] == 0.5
    assert rep["residual"] == 0.5

    prob = LiftedProblem(X, Y, hidden=(4, 3), lam=1e-3)
    W = [np.zeros(s) for s in prob.W_shapes]
    M1, M2 = prob.zero_multipliers()
    M1[1][:] = 0.5
    rep = kkt_residuals(prob, W, None, None, M1, M2)
    assert rep["stationarity_W"] == 0.0
    assert rep["stationarity_V"] == 0.5 and rep["residual"] == 0.5


def test_residual_is_the_largest_part_dual_included():
    """Zero network, ``M1 = 1`` and ``M2 = -1`` on one entry: ``M1 + M2 = 0`` keeps the ``V``
    gradient 0, ``g = 0`` keeps primal and complementarity 0, ``lam`` large keeps the ``W`` part
    0; dual infeasibility is 1 and so is the residual, the largest of the four parts
    (MODEL.md 5). Catches a residual that leaves dual feasibility out. Also checks
    ``residual == max(parts)`` at a generic point."""
    rng = np.random.default_rng(5)
    prob = LiftedProblem(rng.standard_normal((7, 3)), rng.standard_normal((7, 2)),
                         hidden=(4,), lam=100.0)
    W = [np.zeros(s) for s in prob.W_shapes]
    M1, M2 = prob.zero_multipliers()
    M1[0][2, 3], M2[0][2, 3] = 1.0, -1.0
    rep = kkt_residuals(prob, W, None, None, M1, M2)
    assert rep["stationarity"] == 0.0 and rep["primal_feasibility"] == 0.0
    assert rep["complementarity"] == 0.0
    assert rep["dual_feasibility"] == 1.0 and rep["residual"] == 1.0
    # generic point: residual is the max of the four parts
    prob, W, V = _lift_point(6, hidden=(4, 3))
    M1 = [rng.standard_normal(s) for s in prob.V_shapes]
    M2 = [rng.standard_normal(s) for s in prob.V_shapes]
    rep = kkt_residuals(prob, W, None, [v - 0.1 for v in V], M1, M2)
    assert rep["residual"] == max(rep[k] for k in rep.PARTS)

"""kkt_residuals: ~0 at KKT points with known multipliers, large away from them."""

import numpy as np
import pytest

from liftnet import LiftedProblem, kkt_residuals, solve_alm
from liftnet.datasets import make_teacher
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


def test_multiplier_estimate_honours_its_time_limit():
    import time

    from liftnet.datasets import make_teacher

    X, Y, _, _ = make_teacher(300, (6, 20, 20, 2), alpha=0.1, noise=0.1, seed=0)
    prob = LiftedProblem(X, Y, hidden=(20, 20), lam=1e-2)
    W, b = prob.initial_weights(0)
    t = time.monotonic()
    rep = kkt_residuals(prob, W, b, time_limit=0.2)
    assert time.monotonic() - t < 5.0  # unbounded, this estimate runs its 5000 iterations
    assert rep["multipliers"] == "estimated" and np.isfinite(rep["residual"])
    with pytest.raises(ValueError, match="time_limit"):
        kkt_residuals(prob, W, b, time_limit=-1)


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

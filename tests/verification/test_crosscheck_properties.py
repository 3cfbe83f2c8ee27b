"""The cross-check's distances and report: properties that a mutation review (session 49)
found unpinned, each failing on a one-line change of ``liftnet/verification/crosscheck.py``
that every other test passed. IPOPT is stubbed (``solve_ipopt`` replaced): these run without
it."""
import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.verification.crosscheck import solution_distance


def small_problem(bias=False):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    Y = np.sin(X[:, :1]) + 0.1 * rng.standard_normal((20, 1))
    return LiftedProblem(X, Y, hidden=(3, 3), lam=0.02, coupling="squared", bias=bias)


def test_solution_distance_scale_counts_every_block_of_z():
    """``||z_p - z_q||_inf / max(1, ||z_p||_inf)`` with ``z = (W, b, V)``: the scale is the
    largest entry of any block, here ``V`` (10) and then ``b`` (20), not only ``W`` (0.5)."""
    prob = small_problem()
    W = [0.5 * np.ones(s) for s in prob.W_shapes]
    V = [10.0 * np.ones(s) for s in prob.V_shapes]
    p = {"W": W, "b": None, "V": V}
    q = {"W": W, "b": None, "V": [v + 1.0 for v in V]}
    assert solution_distance(prob, p, q) == pytest.approx(0.1, rel=1e-14)
    probb = small_problem(bias=True)
    Wb = [0.5 * np.ones(s) for s in probb.W_shapes]
    Vb = [np.ones(s) for s in probb.V_shapes]
    b = [20.0 * np.ones(s) for s in probb.b_shapes]
    pb = {"W": Wb, "b": b, "V": Vb}
    qb = {"W": Wb, "b": [x + 2.0 for x in b], "V": Vb}
    assert solution_distance(probb, pb, qb) == pytest.approx(0.1, rel=1e-14)


def test_identifiable_distance_sees_a_change_of_the_outputs():
    """Same ``W`` and ``V``, the last layer's bias moved by 0.5: the outputs ``U_L`` move by
    0.5 on every sample, a real change of the network that the distance must report:
    ``0.5 / max(1, |W_p|, |U_L(p)|)``."""
    from liftnet.verification.crosscheck import identifiable_distance

    prob = small_problem(bias=True)
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)
    b2 = [x.copy() for x in b]
    b2[-1] += 0.5
    p, q = {"W": W, "b": b, "V": V}, {"W": W, "b": b2, "V": V}
    UL = prob.pre_activations(W, b, V)[-1]
    scale = max(1.0, max(float(np.max(np.abs(w))) for w in W), float(np.max(np.abs(UL))))
    assert identifiable_distance(prob, p, q) == pytest.approx(0.5 / scale, rel=1e-12)


def test_the_reported_polish_threshold_is_the_warm_runs(monkeypatch):
    """``polish_threshold`` of the report is the warm IPOPT run's (the point judged), not the
    cold run's: a stub gives the two runs different thresholds."""
    import liftnet.verification.crosscheck as cc

    prob = small_problem()
    W, b = prob.initial_weights(0)
    alm = {"W": W, "b": None, "V": prob.lift(W, b),
           "M1": [np.ones(s) for s in prob.V_shapes], "M2": [np.ones(s) for s in prob.V_shapes]}

    def solve(prob, init=None, **kw):
        warm = init is not None and init.get("M1") is not None
        Ws = init["W"] if warm else prob.initial_weights(0)[0]
        return {"W": Ws, "b": None, "V": prob.lift(Ws, None), "M1": alm["M1"], "M2": alm["M2"],
                "status": "converged", "message": "stub", "kkt": {"residual": 0.0},
                "time": 0.0, "nit": 1, "polish_threshold": 0.125 if warm else 0.5}

    monkeypatch.setattr(cc, "solve_ipopt", solve)
    rep = cc.crosscheck_ipopt(prob, alm, tol=1e6, cold=True, mfcq_lp=False)
    assert set(rep.results) == {"ipopt_warm", "ipopt_cold"}
    assert rep.polish_threshold == 0.125


def test_the_alm_points_kkt_is_checked_with_its_own_multipliers(monkeypatch):
    """The ALM point is judged with the ALM's multipliers (MODEL.md 5), not with the best
    ones for its primal point: the same point with multipliers 1 and with 5 has two different
    residuals, and the report gives each."""
    import liftnet.verification.crosscheck as cc
    from liftnet.verification.kkt import kkt_residuals

    prob = small_problem()
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)

    def solve(prob, init=None, **kw):
        return {**{k: init[k] for k in ("W", "b", "V", "M1", "M2")}, "status": "converged",
                "message": "stub", "kkt": {"residual": 0.0}, "time": 0.0, "nit": 1}

    monkeypatch.setattr(cc, "solve_ipopt", solve)
    got = []
    for c in (1.0, 5.0):
        M = [c * np.ones(s) for s in prob.V_shapes]
        alm = {"W": W, "b": None, "V": V, "M1": M, "M2": M}
        want = kkt_residuals(prob, W, None, V, M, M)["residual"]
        rep = cc.crosscheck_ipopt(prob, alm, tol=1e6, cold=False, mfcq_lp=False)
        assert rep.points["alm"]["kkt"] == pytest.approx(want, rel=1e-12)
        got.append(want)
    assert got[0] != pytest.approx(got[1], rel=1e-3)


def test_ipopt_arguments_reach_both_runs(monkeypatch):
    """``ipopt_tol``, ``time_limit``, ``zero_threshold`` and ``solver`` are passed to both IPOPT
    runs (documented: "Passed to solve_ipopt"); the cold run gets the seed."""
    import liftnet.verification.crosscheck as cc

    prob = small_problem()
    W, b = prob.initial_weights(0)
    M = [np.ones(s) for s in prob.V_shapes]
    alm = {"W": W, "b": None, "V": prob.lift(W, b), "M1": M, "M2": M}
    calls = []

    def solve(prob, init=None, **kw):
        calls.append(kw)
        return {**{k: alm[k] for k in ("W", "b", "V", "M1", "M2")}, "status": "converged",
                "message": "stub", "kkt": {"residual": 0.0}, "time": 0.0, "nit": 1}

    monkeypatch.setattr(cc, "solve_ipopt", solve)
    cc.crosscheck_ipopt(prob, alm, tol=1e6, seed=3, ipopt_tol=1e-9, time_limit=50.0,
                        zero_threshold=0.0125, solver="cyipopt", mfcq_lp=False)
    assert len(calls) == 2
    for kw in calls:
        assert kw["tol"] == 1e-9 and kw["time_limit"] == 50.0
        assert kw["zero_threshold"] == 0.0125 and kw["solver"] == "cyipopt"
    assert calls[1]["seed"] == 3

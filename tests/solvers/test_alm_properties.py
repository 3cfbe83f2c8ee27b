"""Properties of the ALM's outer loop that its end-to-end tests do not pin (a mutation review,
session 49): the rounding scale of ``L_rho``, the unbounded floor, the rounding note, the
deadline's reserve, the presolve's start, the finish test's back-off and the polish threshold.
Each test here failed on one one-line change of ``liftnet/solvers/alm.py`` that every other test
passed."""

import time
import types

import numpy as np
import pytest

from liftnet import LiftedProblem, solve_alm
from liftnet.datasets import make_teacher
from liftnet.verification.kkt import initial_multipliers


def teacher_problem(coupling="squared", bias=False, N=20, seed=0, lam=1e-2, **kw):
    X, Y, _, _ = make_teacher(N, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=seed, bias=False)
    return LiftedProblem(X, Y, hidden=(4, 3), coupling=coupling, bias=bias, lam=lam, **kw)


def test_rounding_note_measures_V_at_least_one():
    """M08: ``rho eps max(1, max|V|)``: a V below 1 does not lower the level."""
    from liftnet.solvers.alm import _rounding_note

    V = [np.full((2, 3), 0.01, np.float32)]
    level = 6.25 * float(np.finfo(np.float32).eps)  # max(1, 0.01) = 1
    assert _rounding_note(np.float32, 6.25, V, 5 * level) != ""
    assert _rounding_note(np.float32, 6.25, V, 20 * level) == ""


def test_value_scale_is_the_cancelling_term_of_L_rho():
    """M06: where every max(0, M + rho g) is 0, L_rho = F - ||M||^2/(2 rho) = F - value_scale."""
    from liftnet.solvers.alm import _Subproblem

    prob = teacher_problem()
    W, b = prob.initial_weights(0)
    U = prob.pre_activations(W, b, prob.lift(W, b))
    V = [np.maximum(u, prob.alpha * u) + 1.0 for u in U[:-1]]  # g1, g2 <= -1
    M1 = [np.full_like(v, 0.3) for v in V]
    M2 = [np.full_like(v, 0.2) for v in V]
    sub = _Subproblem(prob)
    sub.set(M1, M2, 1.0)
    val = sub.value(prob.layout.pack(W, b, V))[0]
    assert prob.F(W, b, V) - val == pytest.approx(sub.value_scale, rel=1e-12)


def test_the_presolve_starts_from_inits_biases(monkeypatch):
    """M10: the presolve starts from init's network, W and b."""
    import liftnet.solvers.alm as alm

    X, Y, _, _ = make_teacher(60, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=1)
    prob = LiftedProblem(X, Y, hidden=(4, 3), bias=True, lam=1e-2)
    W, b = prob.initial_weights(3)
    b = [np.full_like(c, 0.7) for c in b]
    real, seen = alm.solve_alm, []

    def spy(*a, **k):
        if k.get("presolve", "auto") is None and k.get("init") is not None:
            seen.append(k.get("init"))
        return real(*a, **k)

    monkeypatch.setattr(alm, "solve_alm", spy)
    real(prob, init={"W": W, "b": b}, presolve=0.5, max_iter=1, seed=0)
    assert len(seen) == 1 and seen[0]["b"] is not None
    for got, want in zip(seen[0]["b"], b):
        np.testing.assert_array_equal(got, want)


def test_the_inner_deadline_reserves_two_certificates(monkeypatch):
    """M09: with a 0.5 s certificate, a 1.2 s limit leaves no time for a subproblem after the
    start's certificate (deadline 1.2 - 2 * 0.5 = 0.2 s < 0.5 s already spent)."""
    import liftnet.solvers.alm as alm

    alm.warm_up()
    real = alm.kkt_residuals

    def slow(*a, **k):
        time.sleep(0.5)
        return real(*a, **k)

    monkeypatch.setattr(alm, "kkt_residuals", slow)
    res = solve_alm(teacher_problem("complementarity", N=200), tol=1e-18, time_limit=1.2)
    assert res.status == "time_limit" and res.nit == 0


def test_a_failed_finish_test_backs_off_ten_times_its_polish(monkeypatch):
    """M02: after a polish that does not certify, no test for FINISH_BACKOFF * its iterations."""
    import liftnet.solvers.alm as alm

    prob = teacher_problem()
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)
    M1, M2 = initial_multipliers(prob, W, b, V)
    fin = alm._Finish(prob, 5, 1e3, lambda *a: {"residual": np.inf}, 1e10, lambda: None)
    fin.start(M1, M2, 1.0, lambda x, cache: x.copy())
    z = prob.layout.pack(W, b, V)
    val, cache = fin.sub.value(z)
    calls = []

    def fake(sub, z0, **kw):
        calls.append(1)
        _, c = fin.sub.value(z0)
        return z0, types.SimpleNamespace(nit=7, status="max_iter", cache=c, value=val)

    monkeypatch.setattr(alm, "group_owlqn", fake)
    assert fin(3, z, None, cache, 0.0) is False and len(calls) == 1
    assert fin.next_k == 3 + alm.FINISH_BACKOFF * 7
    assert fin(3 + alm.FINISH_BACKOFF * 7 - 1, z, None, cache, 0.0) is False and len(calls) == 1


def test_the_unbounded_floor_uses_the_size_of_F(monkeypatch):
    """M07: floor = -||M||^2/(2 rho) - UNBOUNDED_SLACK (|F(z_k)| + 1), also where F(z_k) < 0."""
    import liftnet.solvers.alm as alm

    prob = teacher_problem("complementarity", beta=50.0)
    W, b = prob.initial_weights(0)
    U = prob.pre_activations(W, b, prob.lift(W, b))
    V = [np.where(u > 0, 0.55 * u, 0.1 * u) for u in U[:-1]]  # infeasible: F < 0
    F0 = prob.F(W, b, V)
    assert F0 < 0
    M1, M2 = initial_multipliers(prob, W, b, V)
    Msq = sum(float(np.vdot(m, m)) for m in (*M1, *M2))
    rho = alm.default_rho0(prob)
    floors, real = [], alm.group_owlqn

    def spy(*a, **k):
        floors.append(k.get("floor"))
        return real(*a, **k)

    monkeypatch.setattr(alm, "group_owlqn", spy)
    solve_alm(prob, init={"W": W, "V": V}, max_iter=1, tol=1e-12)
    want = -Msq / (2 * rho) - alm.UNBOUNDED_SLACK * (abs(F0) + 1.0)
    assert floors[0] == pytest.approx(want, rel=1e-9)


def test_a_solve_of_exactly_POLISH_MIN_INNER_iterations_is_polished(monkeypatch):
    """M21: 'at least POLISH_MIN_INNER' iterations: a solve cut at max_inner = POLISH_MIN_INNER
    is followed by a weight polish."""
    import liftnet.solvers.alm as alm

    monkeypatch.setattr(alm, "POLISH_MIN_INNER", 50)
    res = solve_alm(teacher_problem("complementarity", N=30), tol=1e-6, seed=0, max_inner=50,
                    max_iter=2)
    cut = [h for h in res.history if h["inner_iterations"] == 50]
    assert cut and all(h["polish_iterations"] > 0 for h in cut)

"""IPOPT on the Pyomo declaration of (M): signs, polish, warm start, failures (MODEL.md 5, 7)."""

import os
import re

import numpy as np
import pytest
from _helpers import ctrl_c_in_first_ampl_release

from liftnet import LiftedProblem
from liftnet.datasets import make_teacher
from liftnet.solvers.ipopt import solve_ipopt
from liftnet.solvers.ipopt_backends import CyIpoptBackend, ExecutableBackend
from liftnet.verification.kkt import estimate_multipliers, kkt_residuals

pytestmark = pytest.mark.skipif(
    not (CyIpoptBackend.available() or ExecutableBackend.available()), reason="no IPOPT"
)


def small_problem(coupling="complementarity", bias=False, seed=0, N=20, lam=0.02):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 2))
    Y = np.sin(X[:, :1]) + 0.1 * rng.standard_normal((N, 1))
    return LiftedProblem(X, Y, hidden=(3, 3), lam=lam, coupling=coupling, bias=bias)


def sign_problem():
    """One neuron, five samples: IPOPT ends with one clearly active ``g2`` (``M2 ~ 0.63``)."""
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((5, 1)), rng.standard_normal((5, 1))
    return LiftedProblem(X, Y, hidden=(1,), lam=0.01, coupling="squared")


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_multiplier_sign_matches_the_hand_computed_multiplier():
    """Pins the cyipopt sign: for L = 2 the V-stationarity of MODEL.md 5 gives
    ``M1 + M2 = dV_1 + W_2^T dU_2`` exactly, computed here by hand from IPOPT's point."""
    prob = sign_problem()
    r = solve_ipopt(prob, seed=0, solver="cyipopt")
    assert r.status == "converged" and r.interface == "cyipopt"
    U = prob.pre_activations(r.W, r.b, r.V)
    g1, g2 = prob.constraints(U, r.V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    S = dV[0] + r.W[1].T @ dU[1]  # = M1 + M2 by stationarity in V_1
    active = S > 1e-3
    assert active.sum() >= 1  # the test needs a clearly nonzero multiplier
    np.testing.assert_allclose((r.M1[0] + r.M2[0])[active], S[active], rtol=1e-6)
    # the active constraint is g2 (U < 0 there): M2 carries it, with the MODEL.md sign (>= 0)
    assert np.all(U[0][active] < 0) and np.all(r.M2[0][active] > 0.1)
    # the best multipliers of the point (convex estimate) agree with IPOPT's
    E1, E2 = estimate_multipliers(prob, r.W, r.b, r.V)
    np.testing.assert_allclose(r.M2[0][active], E2[0][active], rtol=1e-5)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_raw_cyipopt_dual_is_nonnegative_for_an_active_upper_constraint():
    """The backend's ``dual_sign`` (+1 for cyipopt) is what makes ``M >= 0``."""
    import pyomo.environ as pyo

    from liftnet.formulation.pyomo_model import build_pyomo_model
    from liftnet.solvers.ipopt_backends import add_suffixes

    m = build_pyomo_model(sign_problem(), init={"W": [np.ones((1, 1)), np.ones((1, 1))]})
    add_suffixes(m)
    run = CyIpoptBackend().solve(m, {"print_level": 0, "sb": "yes", "tol": 1e-10}, False, False)
    assert run.status == "converged"
    duals = [m.dual[c] for c in m.g2.values()]
    assert max(duals) > 0.1 and min(duals) > -1e-8
    assert CyIpoptBackend.dual_sign == 1.0 and ExecutableBackend.dual_sign == -1.0
    assert pyo.value(m.F) == pytest.approx(run.objective, rel=1e-10)


@pytest.mark.parametrize(
    "coupling,bias,seed",
    [
        ("complementarity", False, 0),
        ("complementarity", True, 1),
        ("squared", False, 2),
        ("squared", True, 2),
    ],
)
def test_polished_point_is_a_kkt_point_with_exact_zeros(coupling, bias, seed):
    prob = small_problem(coupling, bias, seed)
    r = solve_ipopt(prob, seed=seed)
    assert r.status == "converged", r.message
    assert r.solver == "ipopt" and r.ipopt_status in (
        "Solve_Succeeded",
        "Solved_To_Acceptable_Level",
    )
    assert r.polish_threshold > 0 and r.n_zero_groups >= 1
    # the one checker, at the returned point with IPOPT's multipliers, no threshold needed
    rep = kkt_residuals(prob, r.W, r.b, r.V, r.M1, r.M2)
    assert rep.residual <= 1e-6
    assert r.kkt.residual == pytest.approx(rep.residual)
    assert all(np.all(m >= 0) for m in (*r.M1, *r.M2))
    assert r.objective == pytest.approx(prob.F(r.W, r.b, r.V))


def test_without_polish_zero_groups_are_not_exact():
    """Why the polish exists: IPOPT's epigraph leaves zero groups small but nonzero."""
    prob = small_problem("complementarity", False, 0)
    r = solve_ipopt(prob, seed=0, polish=False)
    # IPOPT converged on its measure, but its small groups fail liftnet's certificate
    assert r.status == "uncertified" and r.polish_threshold is None
    assert r.ipopt_status == "Solve_Succeeded" and r.kkt.residual > 1e-6
    norms = np.concatenate([prob.penalty.group_norms(w) for w in r.W])
    small = norms[norms < 1e-2]
    assert small.size >= 1 and np.all(small > 0)
    assert r.n_zero_groups == 0
    # the certificate is of the returned arrays, small groups and all (it used to zero the
    # groups below the default threshold: 8.9e-6 reported for a point of residual 1e-2)
    own = kkt_residuals(prob, r.W, r.b, r.V, r.M1, r.M2)
    assert own.residual > 1e-6 and r.kkt.residual == own.residual
    assert r.kkt["zero_threshold"] == 0 and f"{own.residual:.2e}" in r.message


def test_a_failed_polish_keeps_the_certified_phase_one_point(monkeypatch):
    """At ``lam = 0`` (no group to fix) IPOPT's polish re-solve declared the problem infeasible
    from a phase-1 point of KKT residual 1.9e-8, and the result took that round's status,
    ``failed``: the phase-1 point comes back with phase 1's status, certified by liftnet.
    (Whether IPOPT fails there depends on the machine's rounding, so the re-solve's failure is
    made here: every IPOPT call after phase 1 reports it.)"""
    from liftnet.datasets import make_teacher
    from liftnet.solvers import ipopt_backends as ib

    real, calls = ib.CyIpoptBackend.solve, []

    def phase_one_only(self, m, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            return real(self, m, *args, **kwargs)
        return ib.Run("failed", "Infeasible_Problem_Detected",
                      "IPOPT: Infeasible_Problem_Detected", 3, 0.01)

    monkeypatch.setattr(ib.CyIpoptBackend, "solve", phase_one_only)
    X, Y, _, _ = make_teacher(15, (2, 3, 3, 1), alpha=0.1, noise=0.1, seed=0)
    r = solve_ipopt(LiftedProblem(X, Y, hidden=(3, 3), lam=0.0), solver="cyipopt")
    assert len(calls) == 2  # phase 1 and the failed round
    assert r.status == "converged" and r.kkt.residual <= 1e-6, r.message
    assert r.n_zero_groups == 0 and "phase-1 point returned" in r.message
    own = kkt_residuals(LiftedProblem(X, Y, hidden=(3, 3), lam=0.0), r.W, r.b, r.V, r.M1, r.M2)
    assert r.kkt.residual == own.residual and r.kkt["zero_threshold"] == 0


def test_float32_problems_get_float32_arrays_and_their_certificate():
    """IPOPT works in float64; the result is in the problem's dtype (it was float64 while its
    certificate was of the float32 rounding: ``kkt_residuals`` casts to ``prob.dtype``)."""
    prob = small_problem("complementarity", False, 0)
    p32 = LiftedProblem(prob.X, prob.Y, hidden=(3, 3), lam=prob.lam, dtype=np.float32)
    r = solve_ipopt(p32, seed=0)
    assert {a.dtype for a in (*r.W, *r.V, *r.M1, *r.M2)} == {np.dtype(np.float32)}
    assert kkt_residuals(p32, r.W, r.b, r.V, r.M1, r.M2).residual == r.kkt.residual


def test_warm_start_from_a_solution_stays_there():
    prob = small_problem("squared", False, 1)
    r = solve_ipopt(prob, seed=1)
    assert r.status == "converged"
    w = solve_ipopt(prob, init=r)
    assert w.status == "converged"
    assert w.kkt.residual <= 1e-6
    moved = max(np.max(np.abs(a - c)) for a, c in zip((*r.W, *r.V), (*w.W, *w.V), strict=True))
    assert moved < 1e-5
    assert w.history[0]["nit"] < r.history[0]["nit"]


def test_explicit_threshold_is_reported_and_used():
    """The threshold decides the zero set (no group norm of phase 1 lies between the default,
    about 1.8e-3, and 1e-2, so smaller ones are the thresholds that tell)."""
    prob = small_problem("squared", False, 1)
    r = solve_ipopt(prob, seed=1, zero_threshold=1e-2)
    assert r.polish_threshold == 1e-2 and r.n_zero_groups == 4
    assert "threshold 1.0e-02" in r.message
    assert r.status == "converged" and r.kkt.residual <= 1e-6
    # 1e-6 fixes one group after phase 1 (it left the other three at about 1e-4); polish
    # round 1 pushes those three to about 1e-9, under the threshold, where they meet
    # ||q|| <= lam: they are fixed too (they stayed "nonzero", residual 2e-2, uncertified)
    mid = solve_ipopt(prob, seed=1, zero_threshold=1e-6)
    assert mid.polish_threshold == 1e-6 and mid.n_zero_groups == 4
    assert mid.status == "converged" and mid.kkt.residual <= 1e-6, mid.message
    # too small: groups IPOPT left near zero stay "nonzero", and their nonsmooth residual
    # is off by up to 2 lam: IPOPT converged, liftnet's certificate does not hold
    lo = solve_ipopt(prob, seed=1, zero_threshold=1e-12)
    assert lo.polish_threshold == 1e-12 and lo.n_zero_groups == 0
    assert lo.status == "uncertified" and not lo.success and lo.kkt.residual > 1e-3
    assert "not a certified KKT point" in lo.message


def teacher_problem(groups="element", lam=1e-3, N=20, seed=0):
    from liftnet.datasets import make_teacher

    X, Y, _, _ = make_teacher(N, widths=(3, 4, 4, 2), alpha=0.1, noise=0.1, seed=seed)
    return LiftedProblem(X, Y, hidden=(4, 4), alpha=0.1, lam=lam, groups=groups)


def test_polish_fixes_again_a_released_group_that_ipopt_pushes_back_to_zero():
    """Element groups, lam = 1e-3: polish round 1 releases groups, and round 2 pushes one of
    them back to about 1e-8 (IPOPT's epigraph stalls there, never exactly zero) with
    ``||q|| < lam``. Only the still-fixed groups were tested for release: the released one was
    never fixed again and the point came back ``uncertified`` (residual 6.7e-4, 1.0e-9 with that
    group zeroed). Now it is fixed again and one more round runs: exact zeros, certified."""
    prob = teacher_problem()
    r = solve_ipopt(prob, seed=0)
    assert r.status == "converged" and r.kkt.residual <= 1e-6, r.message
    assert [h["phase"] for h in r.history] == ["phase 1", "polish 1", "polish 2", "polish 3"]
    own = kkt_residuals(prob, r.W, r.b, r.V, r.M1, r.M2)
    assert own.residual == r.kkt.residual and r.kkt["zero_threshold"] == 0
    # no group is left stalled near zero: each is an exact zero or clearly nonzero
    norms = np.concatenate([prob.penalty.group_norms(w).ravel() for w in r.W])
    assert not np.any((norms > 0) & (norms < 1e-6))
    assert r.n_zero_groups == int(np.sum(norms == 0)) == 7


def test_polish_regroup_uses_the_certificate_tolerance():
    """The release test (a fixed group with ``||q|| - lam > cert_tol``) and the fix-again test
    (a free group under the threshold, not stationary as nonzero, ``||q|| - lam <= cert_tol``
    at zero) of a polish round. The release test used IPOPT's ``tol`` (1e-8): a fixed group
    at ``||q|| = lam + 1e-7``, within the certificate, was released and flipped."""
    from liftnet.solvers.ipopt import _regroup

    prob = small_problem()  # column groups, lam = 0.02; W shapes 3x2, 3x3, 1x3
    lam, cert_tol, thr = prob.lam, 1e-6, 1e-2
    e = np.array([0.6, 0.8, 0.0])
    W = [np.zeros((3, 2)), np.zeros((3, 3)), np.ones((1, 3))]
    gW = [np.zeros((3, 2)), np.zeros((3, 3)), np.zeros((1, 3))]
    zero = [np.array([True, True]), np.array([False, False, False]), np.zeros(3, dtype=bool)]
    gW[0][:, 0] = (lam + 1e-7) * e  # fixed, within the certificate: stays fixed
    gW[0][:, 1] = (lam + 1e-5) * e  # fixed, breaks ||q|| <= lam: released
    W[1][:, 0] = 1e-8 * e[::-1]  # stalled near zero, happy at zero: fixed again
    gW[1][:, 0] = 0.5 * lam * e
    W[1][:, 1] = 1e-3 * e  # small but stationary as a nonzero group: stays free
    gW[1][:, 1] = -lam * e
    W[1][:, 2] = 1e-8 * e  # near zero but ||q|| > lam: wants out, stays free
    gW[1][:, 2] = 2 * lam * e
    gW[2][:] = -lam  # nonzero, stationary
    release, refix = _regroup(prob, zero, W, gW, thr, cert_tol)
    assert [x.tolist() for x in release] == [[False, True], [False] * 3, [False] * 3]
    assert [x.tolist() for x in refix] == [[False, False], [True, False, False], [False] * 3]


def test_polish_releases_no_group_twice(monkeypatch):
    """A group fixed again after its release is not released a second time (no fix-release
    cycle): forced here, the polish stops and says why, the group an exact zero."""
    from liftnet.solvers import ipopt as ipopt_module

    real, picked = ipopt_module._regroup, []

    def flip(prob, zero, W, gW, thr, cert_tol):
        release, refix = real(prob, zero, W, gW, thr, cert_tol)
        if not picked:
            layer = next(i for i, z in enumerate(zero) if np.any(z))
            picked.append((layer, np.flatnonzero(zero[layer])[0]))
        layer, g = picked[0]
        if zero[layer].ravel()[g]:
            release[layer].ravel()[g] = True
        else:
            refix[layer].ravel()[g] = True
        return release, refix

    monkeypatch.setattr(ipopt_module, "_regroup", flip)
    # the point with the group zeroed never certifies here: every fix-again takes a round
    monkeypatch.setattr(ipopt_module, "_zeroed", lambda prob, W, zero: [w + 1.0 for w in W])
    prob = small_problem()
    r = solve_ipopt(prob, seed=0, max_polish_rounds=10)
    assert [h["phase"] for h in r.history] == ["phase 1", "polish 1", "polish 2", "polish 3"]
    assert "released by an earlier round already (none is released twice)" in r.message
    layer, g = picked[0]
    assert prob.penalty.group_norms(r.W[layer]).ravel()[g] == 0.0


def test_iteration_limit_is_a_status_with_ipopt_message():
    r = solve_ipopt(small_problem(), max_iter=2)
    assert r.status == "max_iter" and not r.success
    assert "Maximum_Iterations_Exceeded" in r.message
    assert np.isfinite(r.objective) and r.kkt is not None


def test_time_limit_is_a_status():
    r = solve_ipopt(small_problem(N=30), time_limit=1e-3)
    assert r.status == "time_limit"
    if "WallTime" in r.message:  # IPOPT itself stopped on max_wall_time
        return
    # 1 ms runs out before IPOPT starts: the message names the caller's limit (not the
    # deadline's clock reading, not another value) and says the start point came back
    assert re.match(r"time_limit=0\.001 s\b", r.message), r.message
    assert "IPOPT not started" in r.message or "building the Pyomo model" in r.message
    assert "the start point returned" in r.message and r.nit == 0
    assert r.ipopt_status == "not started"


@pytest.mark.parametrize("options, named", [
    ({"no_such_ipopt_option": 1}, "'no_such_ipopt_option' = 1"),
    ({"tol": 1e-8, "max_iter": "abc"}, "'max_iter' = 'abc'"),
])
def test_invalid_ipopt_option_fails_with_a_message_naming_it(options, named):
    """The message names the option (cyipopt's says only "Error while assigning an option")."""
    r = solve_ipopt(small_problem(), options=options, solver="cyipopt")
    assert r.status == "failed" and f"IPOPT rejected the option {named}" in r.message


@pytest.mark.skipif(ExecutableBackend.available(), reason="an ipopt executable is present")
def test_missing_executable_is_a_failed_status():
    r = solve_ipopt(small_problem(), solver="ipopt")
    assert r.status == "failed" and "not available" in r.message
    assert r.nit == 0 and r.kkt is not None  # the start point, checked


def test_argument_errors_name_the_parameter():
    prob = small_problem()
    with pytest.raises(TypeError, match="^prob must be"):
        solve_ipopt("x")
    with pytest.raises(ValueError, match="^tol must be"):
        solve_ipopt(prob, tol=0)
    with pytest.raises(ValueError, match="^max_iter must be"):
        solve_ipopt(prob, max_iter=0)
    # IPOPT's integer options are C ints: a larger one came back as a failed solve
    with pytest.raises(ValueError, match="^max_iter must be <= 2147483647, got 2147483648"):
        solve_ipopt(prob, max_iter=2**31)
    with pytest.raises(ValueError, match="^zero_threshold must be"):
        solve_ipopt(prob, zero_threshold=-1.0)
    with pytest.raises(ValueError, match="^solver must be"):
        solve_ipopt(prob, solver="knitro")
    with pytest.raises(TypeError, match="^polish must be"):
        solve_ipopt(prob, polish="yes")


def test_ctrl_c_while_building_the_model_returns_the_start_point(monkeypatch):
    """Ctrl-C before IPOPT has an iterate (the Pyomo build takes minutes at large N): the
    start point comes back, status ``interrupted``, checked by the KKT checker; no exception."""
    from liftnet.solvers import ipopt as ipopt_module

    def build_then_ctrl_c(prob, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(ipopt_module, "build_pyomo_model", build_then_ctrl_c)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 3))
    prob = LiftedProblem(X, X[:, :2] ** 2, hidden=(4,), lam=1e-2)
    W0, b0 = prob.initial_weights(3)
    try:
        res = solve_ipopt(prob, seed=3)
    except KeyboardInterrupt:  # not raised out of solve_ipopt (it would stop pytest itself)
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the model build through")
    assert res.status == "interrupted" and "building the Pyomo model" in res.message
    assert not res.success and res.nit == 0
    for got, want in zip(res.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)
    assert res.kkt is not None and res.kkt["primal_feasibility"] == 0.0  # the exact lift
    assert res.objective == pytest.approx(prob.Phi(W0, b0))


def test_time_limit_stops_the_pyomo_model_build(monkeypatch):
    """The Pyomo model's build did not look at the time limit, checked only once it was done
    (time_limit=0.5 s at N = 1000, widths 6-8-8-3: 1.78 s, the build 1.6 s): it stops at the
    deadline, and the start point comes back (``time_limit``, IPOPT not started). Here a build
    slowed to about 1.5 s (10 ms per sum) under time_limit=0.2."""
    import time

    import liftnet.formulation.pyomo_model as pyomo_model

    real = pyomo_model.pyo.quicksum

    def slow_sum(*a, **k):
        time.sleep(0.01)
        return real(*a, **k)

    monkeypatch.setattr(pyomo_model.pyo, "quicksum", slow_sum)
    prob = small_problem()
    W0, _ = prob.initial_weights(0)
    r = solve_ipopt(prob, seed=0, time_limit=0.2)
    monkeypatch.undo()
    assert r.status == "time_limit" and r.ipopt_status == "not started" and r.nit == 0
    assert "reached while building the Pyomo model: the start point returned" in r.message
    assert r.history == [] and r.time < 0.2 + 0.4
    for got, want in zip(r.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)
    assert r.kkt is not None and r.kkt["primal_feasibility"] == 0.0  # the exact lift


def test_the_model_builds_deadline(monkeypatch):
    """``build_pyomo_model(deadline=)``: past it, :class:`BuildTimeLimit` (before anything,
    or between two entries of ``U``); before it, the model of a build without one."""
    import sys
    import time

    import liftnet.formulation.pyomo_model as pyomo_model
    from liftnet.formulation.pyomo_model import BuildTimeLimit, build_pyomo_model

    prob = small_problem(bias=True)
    with pytest.raises(BuildTimeLimit, match="the Pyomo model"):
        build_pyomo_model(prob, deadline=time.monotonic() - 1.0)
    clock, calls = time.monotonic, []

    def late_in_U():  # the clock jumps past the deadline at U's 10th entry (U is filled
        # first; frames: this one, _check_deadline, its caller)
        if sys._getframe(2).f_code.co_name == "_fill":
            calls.append(1)
        return clock() + (3600.0 if len(calls) >= 10 else 0.0)

    monkeypatch.setattr(pyomo_model.time, "monotonic", late_in_U)
    with pytest.raises(BuildTimeLimit, match="building U"):
        build_pyomo_model(prob, deadline=clock() + 60.0)
    monkeypatch.undo()
    assert len(calls) == 10  # (stopped there, not at the next look)
    a, c = build_pyomo_model(prob), build_pyomo_model(prob, deadline=clock() + 60.0)
    for name in ("U", "g1", "g2", "epi"):
        ca, cc = getattr(a, name), getattr(c, name)
        assert list(ca.keys()) == list(cc.keys())
        assert [str(x.expr) for x in ca.values()] == [str(x.expr) for x in cc.values()]
    assert str(a.F.expr) == str(c.F.expr)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_returns_ipopts_iterate_with_status_interrupted(monkeypatch):
    """SIGINT (Ctrl-C) 1 s into a solve that needs minutes: IPOPT stops after its current
    iteration and the point comes back, checked by the one KKT checker."""
    import contextlib
    import os
    import signal
    import threading
    import time

    from liftnet.solvers import ipopt_backends

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 8))
    prob = LiftedProblem(X, np.tanh(X[:, :4]), hidden=(16, 16), lam=1e-3)
    # the clock starts when IPOPT starts (building the model took more than 1 s on a fresh
    # clone, and a SIGINT then was a plain KeyboardInterrupt out of the build)
    real = ipopt_backends.ctrl_c_requests_stop

    @contextlib.contextmanager
    def ctrl_c_one_second_in(flag):
        with real(flag):
            timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
            try:
                yield
            finally:
                timer.cancel()

    monkeypatch.setattr(ipopt_backends, "ctrl_c_requests_stop", ctrl_c_one_second_in)
    # the handler in place before (Python's default; SIG_IGN when the suite runs as a
    # background job of a non-interactive shell) is the one in place after
    before = signal.getsignal(signal.SIGINT)
    t0 = time.monotonic()
    res = solve_ipopt(prob, tol=1e-12, max_iter=100000)
    assert res.status == "interrupted" and "User_Requested_Stop" in res.message
    assert time.monotonic() - t0 < 30
    assert res.kkt is not None and all(np.all(np.isfinite(w)) for w in res.W)
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_callback_sees_every_iterate_and_the_last_one_is_the_returned_point():
    """One record per IPOPT iteration of every phase (IPOPT's count starts at 0 in each), in
    time order; the last record's iterate is the result's point with its multipliers (the
    same sign convention), so the KKT checker gives the result's residual on it."""
    prob = small_problem(N=15)
    recs = []

    def keep(rec):
        recs.append({**rec, "point": rec["iterate"]()})

    r = solve_ipopt(prob, seed=1, callback=keep)
    assert r.status == "converged" and r.interface == "cyipopt"
    phases = [h["phase"] for h in r.history]
    assert len(recs) == r.nit + len(phases)  # iteration 0 of each phase, then one per step
    assert [x["phase"] for x in recs if x["iteration"] == 0] == phases
    times = [x["time"] for x in recs]
    assert times == sorted(times) and 0 < times[-1] <= r.time
    last = recs[-1]["point"]
    for name in ("W", "V", "M1", "M2"):
        for got, want in zip(last[name], r[name], strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    rep = kkt_residuals(prob, last["W"], last["b"], last["V"], last["M1"], last["M2"])
    assert rep["residual"] == pytest.approx(r.kkt["residual"], rel=1e-6, abs=1e-14)
    # the first iterate is the start, far from stationary
    first = recs[0]["point"]
    rep0 = kkt_residuals(prob, first["W"], first["b"], first["V"], first["M1"], first["M2"])
    assert rep0["residual"] > 1e3 * max(r.kkt["residual"], 1e-9)
    # the getter of a record is dead once its callback returned (IPOPT's iterate is gone)
    assert all(x["iterate"]() is None for x in (recs[0], recs[-1]))


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_callback_returning_true_stops_ipopt_and_its_errors_propagate():
    prob = small_problem(N=15)
    r = solve_ipopt(prob, seed=1, callback=lambda rec: rec["iteration"] >= 3)
    assert r.status == "interrupted" and "stopped by callback" in r.message
    assert r.nit == 3 and r.kkt is not None and len(r.history) == 1  # no polish after a stop

    def broken(rec):
        raise RuntimeError("user callback failed")

    with pytest.raises(RuntimeError, match="user callback failed"):
        solve_ipopt(prob, seed=1, callback=broken)
    with pytest.raises(TypeError, match="^callback must be callable"):
        solve_ipopt(prob, callback=3)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_keyboard_interrupt_in_the_callback_stops_ipopt_with_its_iterate():
    """A KeyboardInterrupt raised in the callback (as a Ctrl-C landing there is) is a stop
    request: IPOPT's point of that iteration comes back, ``interrupted``, with its ``nit`` and
    history. It came out of IPOPT's callback and threw the run away: the start point, nit 0,
    no history."""
    prob = small_problem(N=15)
    seen = {}

    def ki_at_5(rec):
        seen[rec["iteration"]] = rec["iterate"]()
        if rec["iteration"] == 5:
            raise KeyboardInterrupt

    try:
        r = solve_ipopt(prob, seed=1, callback=ki_at_5)
    except KeyboardInterrupt:  # not raised out of solve_ipopt (it would stop pytest itself)
        pytest.fail("solve_ipopt let the callback's KeyboardInterrupt through")
    assert r.status == "interrupted" and r.ipopt_status == "User_Requested_Stop"
    assert "KeyboardInterrupt in the callback" in r.message
    assert r.nit == 5 and [(h["phase"], h["nit"]) for h in r.history] == [("phase 1", 5)]
    assert sorted(seen) == list(range(6))  # the callback is not called again after the stop
    assert_same_point(r, seen[5])
    assert r.kkt is not None and r.kkt_phase1 is not None


def test_what_the_callback_prints_is_shown_and_ipopt_prints_nothing(capfd):
    """Without ``verbose`` IPOPT writes nothing (``print_level`` 0, ``sb=yes``), and what the
    callback prints reaches the caller's streams (a review found it captured and dropped with
    IPOPT's output)."""
    seen = []

    def shout(rec):
        seen.append(f"callback {rec['phase']} {rec['iteration']}")
        print(seen[-1], flush=True)

    solve_ipopt(small_problem(N=10), seed=0)
    assert capfd.readouterr() == ("", "")
    r = solve_ipopt(small_problem(N=10), seed=0, callback=shout)
    out, err = capfd.readouterr()
    assert r.status == "converged" and len(seen) >= 3 and err == ""
    assert out.splitlines() == seen


def test_callback_with_the_executable_interface_is_refused(monkeypatch):
    """The ``ipopt`` executable reports no iterations: a callback is a clear error up front."""
    from liftnet.solvers import ipopt as ipopt_module

    monkeypatch.setattr(ipopt_module, "select_backend", lambda solver: (ExecutableBackend(), ""))
    with pytest.raises(ValueError, match="callback needs the cyipopt interface"):
        solve_ipopt(small_problem(N=10), callback=lambda rec: None)


FAKE_IPOPT = """#!{python}
# A stand-in for IPOPT's AMPL executable: answers -v, and for a .nl file writes the .sol
# file IPOPT writes when it stops with result code $FAKE_IPOPT_CODE, with the point all zeros
import os, sys
if "-v" in sys.argv:
    print("Ipopt 3.14.16 (fake)")
    sys.exit(0)
nl = next(a for a in sys.argv[1:] if a.endswith(".nl"))
with open(nl) as f:
    f.readline()
    n_var, n_con = (int(x) for x in f.readline().split()[:2])
if os.environ.get("FAKE_IPOPT_ARGV"):  # where to record the command line and its options
    with open(os.environ["FAKE_IPOPT_ARGV"], "a") as f:
        f.write(" ".join(sys.argv) + " " + os.environ.get("ipopt_options", "") + "\\n")
code = int(os.environ["FAKE_IPOPT_CODE"])
said = {{0: "Optimal Solution Found", 300: "Iterates diverging; problem might be unbounded.",
        400: "Maximum Number of Iterations Exceeded.", 401: "Maximum CPU Time Exceeded.",
        402: "Maximum Wall Time Exceeded."}}[code]
with open(nl[:-3] + ".sol", "w") as f:
    f.write(f"Ipopt 3.14.16: {{said}}\\n\\nOptions\\n3\\n1\\n1\\n0\\n")
    f.write(f"{{n_con}}\\n{{n_con}}\\n{{n_var}}\\n{{n_var}}\\n" + "0\\n" * (n_con + n_var))
    f.write(f"objno 0 {{code}}\\n")
"""


@pytest.fixture
def fake_ipopt(tmp_path, monkeypatch):
    """An ``ipopt`` executable on PATH that ends every run with the code it is given."""
    import sys

    from pyomo.common import Executable

    exe = tmp_path / "ipopt"
    exe.write_text(FAKE_IPOPT.format(python=sys.executable))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    Executable("ipopt").rehash()
    yield lambda code: monkeypatch.setenv("FAKE_IPOPT_CODE", str(code))
    monkeypatch.undo()
    Executable("ipopt").rehash()


@pytest.mark.parametrize("code,status", [(400, "max_iter"), (401, "time_limit"),
                                         (402, "time_limit")])
def test_the_executables_time_limit_is_a_time_limit(fake_ipopt, code, status):
    """IPOPT's AMPL driver ends a run stopped by its CPU or wall time limit with result code
    401 or 402, which Pyomo's reader calls maxIterations like 400 (a review: a time-limited
    run said ``max_iter``); its message, whose colons Pyomo escapes, reads as IPOPT wrote it."""
    fake_ipopt(code)
    r = solve_ipopt(small_problem(N=10), solver="ipopt", time_limit=30.0, polish=False)
    assert r.status == status
    assert "\\x3a" not in r.message and "Ipopt 3.14.16: Maximum" in r.message


@pytest.mark.parametrize("code, status", [(0, "converged"), (300, "diverged"),
                                          (400, "max_iter"), (402, "time_limit")])
def test_the_executables_result_codes_map_to_statuses_and_its_point_is_read(fake_ipopt, code,
                                                                             status):
    """The AMPL driver's result codes through Pyomo's termination conditions: 0 optimal,
    300 unbounded (IPOPT's Diverging_Iterates) ``diverged``, 400 ``max_iter``, 402 wall time;
    the point returned is the one the executable wrote (all zeros, a KKT point of this
    instance, so ``converged`` stands), not the start (Pyomo keeps no point of an unbounded
    run)."""
    fake_ipopt(code)
    r = solve_ipopt(small_problem(N=10), solver="ipopt", polish=False)
    assert r.interface == "ipopt"
    assert r.status == status, r.message
    assert code == 300 or all(np.all(w == 0) for w in (*r.W, *r.V))


def test_the_executable_gets_the_time_left_as_max_wall_time(fake_ipopt, tmp_path,
                                                            monkeypatch):
    """With ``time_limit`` the executable is given ``max_wall_time`` (the time left, at most
    the limit), as the cyipopt interface is."""
    record = tmp_path / "argv.txt"
    monkeypatch.setenv("FAKE_IPOPT_ARGV", str(record))
    fake_ipopt(0)
    r = solve_ipopt(small_problem(N=10), solver="ipopt", polish=False, time_limit=30.0)
    assert r.status == "converged", r.message
    words = record.read_text().split()
    walls = [float(w.split("=", 1)[1]) for w in words if w.startswith("max_wall_time=")]
    assert len(walls) == 1 and 0 < walls[0] <= 30.0, words


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_every_ipopt_call_gets_the_documented_tolerances_and_options(monkeypatch):
    """``tol`` is IPOPT's ``tol``, ``dual_inf_tol``, ``constr_viol_tol`` and ``compl_inf_tol``
    (1e-4 tol in a polish round, whose bounds are not relaxed); polish rounds are warm starts
    (WARM_START_OPTIONS); a user's ``options`` override liftnet's."""
    from pyomo.contrib.pynumero.interfaces.cyipopt_interface import CyIpoptNLP

    from liftnet.solvers.ipopt import WARM_START_OPTIONS

    real, calls, seen = CyIpoptNLP.add_option, [], {}

    def add_option(self, key, value):  # every IPOPT call's options: one dict per call
        if id(self) not in seen:
            seen[id(self)] = {}
            calls.append(seen[id(self)])
        seen[id(self)][key] = value
        real(self, key, value)

    monkeypatch.setattr(CyIpoptNLP, "add_option", add_option)
    tol = 3e-9
    r = solve_ipopt(small_problem(), seed=0, tol=tol, options={"max_iter": 2000},
                    solver="cyipopt")
    assert r.status == "converged" and len(calls) >= 2  # phase 1 and at least one round
    assert len(calls) == len(r.history)
    for k, opts in enumerate(calls):
        polish = k > 0
        assert opts["tol"] == tol and opts["dual_inf_tol"] == tol
        assert opts["constr_viol_tol"] == tol
        assert opts["compl_inf_tol"] == pytest.approx(1e-4 * tol if polish else tol, rel=1e-12)
        assert opts["bound_relax_factor"] == (0.0 if polish else 1e-8)
        assert opts["max_iter"] == 2000  # the user's value wins
        for key, value in WARM_START_OPTIONS.items():
            if polish:
                assert opts[key] == value
            else:  # phase 1 from seed 0 is a cold start
                assert key not in opts


@pytest.mark.parametrize("ratio, zeroed", [(0.5, True), (1.0, False), (2.0, False)])
def test_phase1_best_returns_the_strictly_better_certified_point(ratio, zeroed):
    """``_phase1_best`` returns the zeroed point exactly when its residual (``kkt1``) is
    smaller than that of IPOPT's own point, by any margin; IPOPT's point on a tie."""
    from liftnet.solvers.ipopt import _phase1_best, _safe_kkt

    prob = small_problem()
    W, b = prob.initial_weights(0)
    W[1][:, 0] *= 1e-9  # one column group near zero, as IPOPT leaves a zero group
    V = prob.lift(W, b)
    M1, M2 = prob.zero_multipliers()
    raw = _safe_kkt(prob, W, b, V, M1, M2)["residual"]
    Wr, kr, how = _phase1_best(prob, W, b, V, M1, M2, 1e-6, {"residual": ratio * raw})
    if zeroed:
        assert np.all(Wr[1][:, 0] == 0) and kr is None and "set to exact zeros" in how
    else:
        assert np.array_equal(Wr[1], W[1]) and kr["residual"] == raw and how == ""


# ------------------------------------------------------------ time limit and Ctrl-C, phase by phase
def patch_nlp_build(monkeypatch, delay=0.0, ctrl_c_on=None):
    """Building IPOPT's NLP (``PyomoNLP``, once per phase: 3.6 s of each on a teacher N = 1000,
    widths 4-8-8-2) takes ``delay`` s more, and the ``ctrl_c_on``-th build (1: phase 1's)
    raises KeyboardInterrupt, as a Ctrl-C there does. Returns the list of builds begun."""
    import time

    from pyomo.contrib.pynumero.interfaces.pyomo_nlp import PyomoNLP

    real, builds = PyomoNLP.__init__, []

    def build(self, *args, **kwargs):
        builds.append(time.monotonic())
        if len(builds) == ctrl_c_on:
            raise KeyboardInterrupt
        time.sleep(delay)
        real(self, *args, **kwargs)

    monkeypatch.setattr(PyomoNLP, "__init__", build)  # (its own code names the class)
    return builds


def phase_one_point(prob, seed):
    """The point phase 1 ends at (IPOPT is deterministic: the same with or without polish)."""
    r = solve_ipopt(prob, seed=seed, polish=False)
    assert r.ipopt_status == "Solve_Succeeded"
    return r


def zeroed_phase_one_point(prob, p1):
    """``p1`` (:func:`phase_one_point`) with its groups at most the default zero threshold set
    to exact zeros: what comes back of the phase-1 point when the polish does not finish
    (it certifies better than IPOPT's own point, whose small groups are about 1e-4 here)."""
    from liftnet.solvers.ipopt import default_zero_threshold

    thr, pen = default_zero_threshold(prob, p1.W), prob.penalty
    W = [pen.keep_groups(Wl.copy(), ~pen.zero_groups(Wl, thr)) for Wl in p1.W]
    assert pen.n_zero_groups(W) > pen.n_zero_groups(p1.W)  # (the test needs one to zero)
    return {**p1, "W": W}


def assert_same_point(got, want):
    for name in ("W", "V", "M1", "M2"):
        for a, c in zip(got[name], want[name], strict=True):
            np.testing.assert_allclose(a, c, rtol=0, atol=1e-12)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ipopt_gets_what_is_left_of_the_time_limit_after_the_nlp_build(monkeypatch):
    """IPOPT's ``max_wall_time`` was the time left before the NLP was built, the build then
    came on top of it (teacher N = 1000, time_limit=3: 9.2 s); it is what is left when IPOPT
    starts. A build that takes 0.4 s: the k-th IPOPT call gets at most ``3 - 0.4 k``."""
    from pyomo.contrib.pynumero.interfaces.cyipopt_interface import CyIpoptNLP

    real, walls = CyIpoptNLP.add_option, []

    def add_option(self, key, value):
        if key == "max_wall_time":
            walls.append(value)
        real(self, key, value)

    monkeypatch.setattr(CyIpoptNLP, "add_option", add_option)
    builds = patch_nlp_build(monkeypatch, delay=0.4)
    r = solve_ipopt(small_problem(), seed=0, time_limit=3.0)
    assert len(walls) >= 1 and len(builds) >= len(walls)
    for k, wall in enumerate(walls, start=1):
        assert 0 < wall <= 3.0 - 0.4 * k
    assert all(h["build_time"] >= 0.4 for h in r.history)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_no_ipopt_when_the_nlp_build_used_up_the_time_limit(monkeypatch):
    """Nothing left once the NLP is built: IPOPT is not started, the start point comes back
    (``time_limit``), and the call ends with that build (it went on to IPOPT and the polish,
    each round with a build of its own)."""
    builds = patch_nlp_build(monkeypatch, delay=1.0)
    prob = small_problem()
    W0, _ = prob.initial_weights(0)
    r = solve_ipopt(prob, seed=0, time_limit=0.5)
    assert r.status == "time_limit" and r.ipopt_status == "not started" and r.nit == 0
    assert "IPOPT not started" in r.message and len(builds) == 1
    assert len(r.history) == 1 and r.history[0]["build_time"] >= 1.0
    for got, want in zip(r.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)
    assert r.kkt is not None and r.time < 1.0 + 0.6  # the build under way, and no more
    assert r.kkt_phase1 is None  # (no phase-1 point: it was the start point's residual)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_no_polish_round_when_less_time_is_left_than_the_nlp_build(monkeypatch):
    """A polish round rebuilds the NLP (as long as phase 1's): with less time left it could
    not start IPOPT before the deadline, and is not begun. The call ends within the limit,
    where it went on to a 1.5 s build past it."""
    builds = patch_nlp_build(monkeypatch, delay=1.5)
    prob = small_problem()
    r = solve_ipopt(prob, seed=0, time_limit=2.5)  # phase 1: 1.5 s build, then 0.1 s IPOPT
    assert r.status == "time_limit" and len(builds) == 1 and len(r.history) == 1
    assert r.time < 2.5 + 0.9  # IPOPT's last iteration and the checks
    if r.history[0]["status"] == "converged":  # (a loaded machine may spend 1 s in phase 1)
        assert "polish round 1 stopped: IPOPT not started" in r.message
        assert "phase-1 point returned" in r.message and r.ipopt_status == "not started"
        assert_same_point(r, zeroed_phase_one_point(prob, phase_one_point(prob, 0)))


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_no_phase_one_nlp_build_when_the_time_left_is_shorter_than_it_takes(monkeypatch):
    """Phase 1's NLP build (about twice the Pyomo model's build or more) was begun whatever
    was left (N = 400, time_limit=1: with 0.5 s left, it took 1.55 s, and IPOPT never ran).
    Here the model's build takes 0.3 s of a 0.6 s limit: the NLP build is not begun, the start
    point comes back (``time_limit``) within the limit."""
    import time

    import liftnet.solvers.ipopt as ipopt_module

    real = ipopt_module.build_pyomo_model

    def slow_model_build(*args, **kwargs):
        m = real(*args, **kwargs)
        time.sleep(0.3)
        return m

    monkeypatch.setattr(ipopt_module, "build_pyomo_model", slow_model_build)
    builds = patch_nlp_build(monkeypatch)
    prob = small_problem()
    W0, _ = prob.initial_weights(0)
    r = solve_ipopt(prob, seed=0, time_limit=0.6)
    assert builds == [] and r.history == [] and r.nit == 0
    assert r.status == "time_limit" and r.ipopt_status == "not started"
    assert "IPOPT not started, the start point returned" in r.message
    for got, want in zip(r.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)
    assert r.kkt is not None and r.time < 0.6


def test_kernels_are_loaded_before_the_clock_starts(monkeypatch):
    """numba's first load of the KKT check's kernels in a process (0.2-0.5 s) came after the
    deadline, in the final check (time_limit=0.3 s ended at 0.75-0.84 s in a fresh process).
    It is done before the clock starts now (``warm_up``, as ``solve_alm`` does), once per
    dtype and process; a Ctrl-C there returns the start point, ``interrupted``."""
    import time

    import liftnet.solvers.alm as alm
    import liftnet.solvers.ipopt as ipopt_module

    calls = []

    def slow_warm_up(dtype=np.float64):
        calls.append(np.dtype(dtype))
        time.sleep(0.4)
        alm._WARM_DTYPES.add(np.dtype(dtype))

    monkeypatch.setattr(alm, "_WARM_DTYPES", set())
    monkeypatch.setattr(alm, "warm_up", slow_warm_up)
    prob = small_problem()
    solve_ipopt(prob, seed=0, polish=False)  # (no time limit: no warm-up, as solve_alm's)
    assert calls == []
    start = time.monotonic()
    r = solve_ipopt(prob, seed=0, time_limit=30.0, polish=False)
    wall = time.monotonic() - start
    assert calls == [prob.dtype] and wall - r.time >= 0.4  # off the clock
    solve_ipopt(prob, seed=0, time_limit=30.0, polish=False)
    assert calls == [prob.dtype]  # once

    def ctrl_c(dtype=np.float64):
        raise KeyboardInterrupt

    def never(*a, **k):
        raise AssertionError("the model was built")

    monkeypatch.setattr(alm, "_WARM_DTYPES", set())
    monkeypatch.setattr(alm, "warm_up", ctrl_c)
    monkeypatch.setattr(ipopt_module, "build_pyomo_model", never)
    try:
        r = solve_ipopt(prob, seed=0, time_limit=30.0)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the warm-up through")
    assert r.status == "interrupted" and "compiled kernels" in r.message and r.nit == 0
    W0, _ = prob.initial_weights(0)
    for got, want in zip(r.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_while_building_the_nlp_returns_the_start_point(monkeypatch):
    """The NLP build is the longest step of a phase at large N, outside IPOPT's own Ctrl-C
    handling: a Ctrl-C there came out of solve_ipopt as a KeyboardInterrupt."""
    patch_nlp_build(monkeypatch, ctrl_c_on=1)
    prob = small_problem()
    W0, _ = prob.initial_weights(0)
    try:
        r = solve_ipopt(prob, seed=0)
    except KeyboardInterrupt:  # not raised out of solve_ipopt (it would stop pytest itself)
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the NLP build through")
    assert r.status == "interrupted" and not r.success and r.nit == 0
    assert "during phase 1: the start point returned" in r.message
    for got, want in zip(r.W, W0, strict=True):
        np.testing.assert_array_equal(got, want)
    assert r.kkt is not None and r.kkt["primal_feasibility"] == 0.0  # the exact lift


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_while_building_a_polish_nlp_returns_the_phase_one_point(monkeypatch):
    prob = small_problem()
    p1 = phase_one_point(prob, 0)
    builds = patch_nlp_build(monkeypatch, ctrl_c_on=2)
    try:
        r = solve_ipopt(prob, seed=0)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the polish's NLP build through")
    assert len(builds) == 2 and [h["phase"] for h in r.history] == ["phase 1"]
    assert r.status == "interrupted" and not r.success
    assert "during polish round 1: the phase-1 point returned" in r.message
    assert "set to exact zeros" in r.message and r.kkt.residual == r.kkt_phase1 < 1e-4
    assert_same_point(r, zeroed_phase_one_point(prob, p1))
    assert r.nit == p1.nit and r.polish_threshold > 0 and r.kkt is not None


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
@pytest.mark.parametrize("how", ["callback", "ctrl_c", "keyboard_interrupt"])
def test_a_stop_in_the_first_polish_round_is_interrupted_with_the_phase_one_point(how):
    """A callback's stop or a Ctrl-C in polish round 1 came back as phase 1's status
    (``uncertified``: the phase-1 point's small groups are not exact zeros), as if the polish
    had failed on its own. A KeyboardInterrupt raised in the callback is a Ctrl-C: it lost the
    round from the history and its iterations from ``nit``."""
    import os
    import signal

    prob = small_problem()
    p1 = phase_one_point(prob, 0)

    def stop_in_polish(rec):
        if rec["phase"] == "polish 1" and rec["iteration"] >= 1:
            if how == "callback":
                return True
            if how == "keyboard_interrupt":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)  # IPOPT's handler: stop after this iteration
        return False

    try:
        r = solve_ipopt(prob, seed=0, callback=stop_in_polish)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt through")
    assert [h["phase"] for h in r.history] == ["phase 1", "polish 1"]
    assert r.nit == p1.nit + 1 and r.history[1]["nit"] == 1
    assert r.status == "interrupted" and not r.success
    assert "polish round 1 stopped" in r.message and "phase-1 point returned" in r.message
    assert r.ipopt_status == "User_Requested_Stop"
    assert ("stopped by callback" in r.message) == (how == "callback")
    assert_same_point(r, zeroed_phase_one_point(prob, p1))


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_as_ipopt_returns_keeps_its_point_and_stops(monkeypatch):
    """A Ctrl-C after IPOPT's last iteration, while its point is copied into the model,
    raised out of solve_ipopt with a half-copied point: now the copy completes, the status is
    ``interrupted``, and no polish follows."""
    import os
    import signal

    from liftnet.solvers import ipopt_backends

    prob = small_problem()
    p1 = phase_one_point(prob, 0)
    real, copies = ipopt_backends._load_state, []

    def ctrl_c_then_copy(*args):
        copies.append(1)
        if len(copies) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        real(*args)

    monkeypatch.setattr(ipopt_backends, "_load_state", ctrl_c_then_copy)
    try:
        r = solve_ipopt(prob, seed=0)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the copy through")
    assert r.status == "interrupted" and "Solve_Succeeded" in r.message
    assert "then Ctrl-C" in r.message and len(r.history) == 1
    assert_same_point(r, zeroed_phase_one_point(prob, p1))  # (the better certified)


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_while_the_nlp_is_freed_is_not_lost(monkeypatch):
    """PyNumero's ``AmplInterface`` sits in a reference cycle and was freed by the garbage
    collector at some later moment: a Ctrl-C landing in its ``__del__`` was printed and
    dropped by Python, and the call ran on to ``converged``. Now the NLP is freed before
    phase 1's IPOPT call returns, with Ctrl-C held back: the Ctrl-C stops the call."""
    frees = ctrl_c_in_first_ampl_release(monkeypatch)
    try:
        r = solve_ipopt(small_problem(), seed=0)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the NLP's release through")
    assert len(frees) == 1  # freed in the call (phase 1's), not left to the collector
    assert r.status == "interrupted" and not r.success
    assert [h["phase"] for h in r.history] == ["phase 1"] and "then Ctrl-C" in r.message
    assert r.kkt is not None


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_ctrl_c_in_the_ampl_interface_build_prints_no_error(monkeypatch):
    """A Ctrl-C in ``AmplInterface.__init__`` (before its ``_obj``) left a half-built object
    whose ``__del__`` printed ``AttributeError: ... '_obj'`` when the collector freed it; it
    is freed quietly now, and the start point comes back ``interrupted``."""
    import gc
    import sys

    from pyomo.contrib.pynumero import asl

    def ctrl_c_in_init(self, *args, **kwargs):
        raise KeyboardInterrupt  # as a Ctrl-C landing before `self._obj = ...`

    printed = []
    monkeypatch.setattr(asl.AmplInterface, "__init__", ctrl_c_in_init)
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    try:
        r = solve_ipopt(small_problem(), seed=0)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt of the NLP build through")
    gc.collect()
    assert r.status == "interrupted" and "during phase 1: the start point returned" in r.message
    assert [(type(u.exc_value).__name__, str(u.exc_value)) for u in printed] == []


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
def test_option_values_of_python_and_numpy_number_types_are_taken():
    """``{"tol": 1}`` (an int for a real option) and numpy scalars came back as failed solves
    (cyipopt picks IPOPT's option type from the Python type); now they are taken as IPOPT's
    types, and take effect (``max_iter`` 1: one iteration per IPOPT call)."""
    prob = small_problem()
    r = solve_ipopt(prob, options={"max_iter": np.int64(1), "bound_push": 1,
                                   "acceptable_tol": np.float32(1e-6)}, polish=False)
    assert r.status != "failed", r.message
    assert r.nit <= 1 and "Maximum_Iterations_Exceeded" in r.message


@pytest.mark.parametrize("options, error, match", [
    ({1: 2}, TypeError, r"options keys must be IPOPT option names \(str\), got 1"),
    ({"tol": None}, TypeError, r"options\['tol'\] must be a str, int or float"),
    ({"tol": True}, TypeError, r"options\['tol'\] must be a str, int or float"),
    ({"tol": [1e-8]}, TypeError, r"options\['tol'\] must be a str, int or float"),
    ({"tol": float("nan")}, ValueError, r"options\['tol'\] must be a number, got nan"),
    ({"acceptable_tol": np.float32("nan")}, ValueError, r"options\['acceptable_tol'\] must"),
])
def test_option_names_and_value_types_are_checked_before_any_work(options, error, match,
                                                                   monkeypatch):
    """Refused by name before the Pyomo model is built (they came back as failed solves)."""
    import liftnet.solvers.ipopt as ipopt_mod

    def never(*a, **k):
        raise AssertionError("the model was built")

    monkeypatch.setattr(ipopt_mod, "build_pyomo_model", never)
    with pytest.raises(error, match=match):
        solve_ipopt(small_problem(), options=options)


def test_a_start_whose_Phi_overflows_is_refused_by_name():
    """Weights of 1e100 (a finite lift, ``Phi = inf``) ran IPOPT to "Invalid_Number_Detected"
    and came back ``failed``; refused naming ``init['W']``, as by ``solve_alm`` and every
    baseline."""
    prob = small_problem()
    W, _ = prob.initial_weights(0)
    with pytest.raises(ValueError, match=r"^init\['W'\] is too large: the objective Phi of the "
                                         r"start is inf"):
        solve_ipopt(prob, init={"W": [w * 1e100 for w in W]}, max_iter=3)


def test_the_solve_is_not_paused_by_garbage_collections():
    """The collector is paused for the whole call: resumed after the build, its first
    collection walked the model at once, past the deadline (session 50); on again after."""
    import gc

    seen = []

    def count(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        res = solve_ipopt(small_problem(N=40), max_iter=20)
    finally:
        gc.callbacks.remove(count)
    assert res.status in ("converged", "max_iter") and seen == [] and gc.isenabled()


def test_the_executables_objective_is_ipopts_or_nan(fake_ipopt):
    """``Run.objective`` is IPOPT's final value: a run that returned no point (Pyomo keeps
    none of an unbounded one) reported the start's objective, and an objective of exactly 0
    became NaN (``value or nan``)."""
    fake_ipopt(300)
    r = solve_ipopt(small_problem(N=10), solver="ipopt", polish=False, seed=0)
    assert r.status == "diverged" and np.isnan(r.history[0]["objective"]), r.history[0]
    X, Y, _, _ = make_teacher(10, (2, 3, 3, 1), alpha=0.1, noise=0.1, seed=0)
    zero = LiftedProblem(X, np.zeros_like(Y), hidden=(3, 3), lam=0.02)  # F = 0 at the zeros
    fake_ipopt(0)
    r = solve_ipopt(zero, solver="ipopt", polish=False, seed=0)
    assert r.status == "converged", r.message
    assert r.objective == 0.0 and r.history[0]["objective"] == 0.0


@pytest.mark.parametrize("bad", [-1.0, 0.0, "abc"])
def test_a_max_wall_time_ipopt_refuses_is_not_replaced_under_a_time_limit(fake_ipopt, tmp_path,
                                                                            monkeypatch, bad):
    """A ``max_wall_time`` that is no positive number is IPOPT's to refuse (the cyipopt
    interface returns its refusal, ``failed``, with or without ``time_limit``): with a
    ``time_limit`` the executable got the seconds left instead, and the run went on."""
    record = tmp_path / "argv.txt"
    monkeypatch.setenv("FAKE_IPOPT_ARGV", str(record))
    fake_ipopt(0)
    solve_ipopt(small_problem(N=10), solver="ipopt", polish=False, time_limit=30.0,
                options={"max_wall_time": bad})
    walls = [w.split("=", 1)[1] for w in record.read_text().split()
             if w.startswith("max_wall_time=")]
    assert walls == [str(bad)], walls

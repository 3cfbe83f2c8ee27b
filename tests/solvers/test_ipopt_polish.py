"""IPOPT's driver in detail (liftnet/solvers/ipopt.py, ipopt_backends.py): the default zero
threshold of the active-group polish, the warm-start multipliers in the dual suffixes, the
fixing, release and restart of groups between polish rounds, a failing later round, and the
statuses and time left IPOPT gets."""

import numpy as np
import pytest
from test_ipopt import small_problem

from liftnet import LiftedProblem
from liftnet.solvers.ipopt import _fix_zero_groups, _set_warm_duals, default_zero_threshold
from liftnet.solvers.ipopt_backends import CyIpoptBackend, ExecutableBackend

pytestmark = pytest.mark.skipif(
    not (CyIpoptBackend.available() or ExecutableBackend.available()), reason="no IPOPT"
)


def weights(prob, scale, seed=0):
    """Random weights of ``prob``'s shapes, entries of size ``scale``."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in prob.W_shapes]


@pytest.mark.parametrize("scale", [1e-2, 10.0])
def test_default_zero_threshold_is_a_thousandth_of_the_largest_group_or_of_one(scale):
    """The polish's default threshold ``1e-3 max(1, largest group norm)`` (docs/maths.md 7),
    ``1e-3`` for the zero network."""
    prob = small_problem()
    W = weights(prob, scale)
    top = max(float(np.max(prob.penalty.group_norms(w))) for w in W)
    assert default_zero_threshold(prob, W) == pytest.approx(1e-3 * max(1.0, top), rel=1e-15)
    assert default_zero_threshold(prob, [np.zeros_like(w) for w in W]) == 1e-3


def pyomo_model(prob, W):
    """The Pyomo declaration of ``prob`` with IPOPT's suffixes, at the weights ``W``."""
    pytest.importorskip("pyomo")
    from liftnet.formulation.pyomo_model import build_pyomo_model, set_values
    from liftnet.solvers.ipopt_backends import add_suffixes

    m = build_pyomo_model(prob)
    add_suffixes(m)
    set_values(m, W)
    return m


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_warm_duals_are_the_multipliers_and_make_t_stationary(sign):
    """``dual = sign * M`` for ``g1, g2``; for ``epi`` (``||W_l[g]||^2 - t^2 <= 0``) the
    multiplier ``mu = lam / (2 t)`` of ``t``'s stationarity ``lam - 2 t mu = 0``; a zero group's
    bound ``t >= 0`` gets ``lam`` (its stationarity ``lam - z = 0``), others 0."""
    prob = small_problem()
    W = weights(prob, 1.0)
    W[0][:, 1] = 0.0  # a zero group (column groups)
    m = pyomo_model(prob, W)
    rng = np.random.default_rng(1)
    M1 = [rng.uniform(0.1, 1.0, s) for s in prob.V_shapes]
    M2 = [rng.uniform(0.1, 1.0, s) for s in prob.V_shapes]
    _set_warm_duals(m, prob, M1, M2, sign)
    for (l, i, k), con in m.g1.items():
        assert m.dual[con] == sign * M1[l - 1][i - 1, k - 1]
    for (l, i, k), con in m.g2.items():
        assert m.dual[con] == sign * M2[l - 1][i - 1, k - 1]
    n_zero = 0
    for (l, g), con in m.epi.items():
        t = m.t[l, g].value
        if t > 0:
            mu = sign * m.dual[con]
            assert prob.lam - 2.0 * t * mu == pytest.approx(0.0, abs=1e-15)
            assert m.ipopt_zL_in[m.t[l, g]] == 0.0
        else:
            n_zero += 1
            assert m.dual[con] == 0.0 and m.ipopt_zL_in[m.t[l, g]] == prob.lam
    assert n_zero == 1


def test_fixing_and_releasing_groups():
    """A fixed group: ``W_l[g] = 0``, ``t = 0`` fixed and ``epi`` off; released, it is free
    again and restarts at a small positive ``t`` (1e-6), off the epigraph's corner."""
    prob = small_problem()
    W = weights(prob, 1.0)
    m = pyomo_model(prob, W)
    zero = [np.zeros(prob.penalty.group_norms(w).shape, dtype=bool) for w in W]
    zero[1].ravel()[2] = True
    _fix_zero_groups(m, prob, zero)
    t = m.t[2, 3]
    assert t.fixed and t.value == 0.0 and not m.epi[2, 3].active
    assert all(m.W[2, i, j].fixed and m.W[2, i, j].value == 0.0 for i, j in m.G[2, 3])
    assert not m.t[2, 1].fixed and m.epi[2, 1].active
    zero[1].ravel()[2] = False
    _fix_zero_groups(m, prob, zero)
    assert not t.fixed and m.epi[2, 3].active and t.value == 1e-6
    assert not any(m.W[2, i, j].fixed for i, j in m.G[2, 3])
    # a group free throughout keeps its t
    assert m.t[2, 1].value == pytest.approx(
        float(prob.penalty.group_norms(W[1]).ravel()[0]), rel=1e-12)


def test_groups_only_to_fix_again_end_the_polish_when_their_zeros_certify():
    """zero_threshold=1e-6 (as test_ipopt's explicit-threshold test): polish round 1 pushes
    three groups to about 1e-9 with ``||q|| <= lam``; IPOPT's multipliers certify the point
    with them set to exact zeros, so it is returned without a second round."""
    from liftnet.solvers.ipopt import solve_ipopt
    from liftnet.verification.kkt import kkt_residuals

    prob = small_problem("squared", False, 1)
    r = solve_ipopt(prob, seed=1, zero_threshold=1e-6)
    assert r.status == "converged" and r.kkt.residual <= 1e-6, r.message
    assert [h["phase"] for h in r.history] == ["phase 1", "polish 1"]
    norms = np.concatenate([prob.penalty.group_norms(w).ravel() for w in r.W])
    assert r.n_zero_groups == int(np.sum(norms == 0)) == 4
    assert kkt_residuals(prob, r.W, r.b, r.V, r.M1, r.M2).residual == r.kkt.residual


def test_released_groups_restart_against_their_gradient():
    """``_restart_released``: a released group restarts at ``-1e-4 q/||q||`` (a descent step
    off zero), the others keep their values."""
    from liftnet.solvers.ipopt import _restart_released

    prob = small_problem()  # column groups
    W = weights(prob, 1.0)
    gW = weights(prob, 1.0, seed=5)
    release = [np.zeros(prob.penalty.group_norms(w).shape, dtype=bool) for w in W]
    release[0].ravel()[1] = True
    out = _restart_released(prob, W, gW, release)
    q = gW[0][:, 1]
    np.testing.assert_allclose(out[0][:, 1], -1e-4 * q / np.linalg.norm(q), rtol=1e-12)
    np.testing.assert_array_equal(out[0][:, 0], W[0][:, 0])
    for a, b in zip(out[1:], W[1:], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_later_polish_round_that_fails_gives_its_status_with_the_last_converged_point(
        monkeypatch):
    """The teacher of test_ipopt's fix-again test polishes in three rounds; round 2 made to
    fail here: the point of round 1 comes back with round 2's status (not round 1's
    "converged"), the message naming the round."""
    from liftnet.datasets import make_teacher
    from liftnet.solvers import ipopt_backends as ib
    from liftnet.solvers.ipopt import solve_ipopt

    X, Y, _, _ = make_teacher(20, widths=(3, 4, 4, 2), alpha=0.1, noise=0.1, seed=0)
    prob = LiftedProblem(X, Y, hidden=(4, 4), alpha=0.1, lam=1e-3, groups="element")
    real, calls, points = ib.CyIpoptBackend.solve, [], []

    def third_fails(self, m, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            return ib.Run("max_iter", "Maximum_Iterations_Exceeded",
                          "IPOPT: Maximum_Iterations_Exceeded", 7, 0.01)
        out = real(self, m, *args, **kwargs)
        from liftnet.formulation.pyomo_model import get_values
        points.append(get_values(m)[0])
        return out

    monkeypatch.setattr(ib.CyIpoptBackend, "solve", third_fails)
    r = solve_ipopt(prob, seed=0, solver="cyipopt")
    assert [h["phase"] for h in r.history] == ["phase 1", "polish 1", "polish 2"]
    assert r.status == "max_iter" and not r.success
    assert "polish round 2 stopped" in r.message
    for a, b in zip(r.W, points[1], strict=True):  # round 1's point
        np.testing.assert_allclose(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("option, name", [("max_wall_time", "Maximum_WallTime_Exceeded"),
                                          ("max_cpu_time", "Maximum_CpuTime_Exceeded")])
def test_ipopts_own_time_limits_are_the_time_limit_status(option, name):
    """IPOPT stopped by its own clock (here an ``options`` value, no ``time_limit``):
    status ``time_limit`` with IPOPT's name of it."""
    from liftnet.solvers.ipopt import solve_ipopt
    from liftnet.solvers.ipopt_backends import CyIpoptBackend

    if not CyIpoptBackend.available():
        pytest.skip("cyipopt missing")
    r = solve_ipopt(small_problem(N=30), options={option: 1e-6}, solver="cyipopt")
    assert r.status == "time_limit" and not r.success
    assert r.ipopt_status == name and name in r.message


def test_ipopt_status_codes_map_to_the_documented_statuses():
    """IPOPT's ApplicationReturnStatus codes (IpReturnCodes_inc.h) and liftnet's statuses."""
    from liftnet.solvers.ipopt_backends import IPOPT_STATUS

    assert IPOPT_STATUS[0] == ("Solve_Succeeded", "converged")
    assert IPOPT_STATUS[1] == ("Solved_To_Acceptable_Level", "converged")
    assert IPOPT_STATUS[2] == ("Infeasible_Problem_Detected", "failed")
    assert IPOPT_STATUS[4] == ("Diverging_Iterates", "diverged")
    assert IPOPT_STATUS[5] == ("User_Requested_Stop", "interrupted")
    assert IPOPT_STATUS[-1] == ("Maximum_Iterations_Exceeded", "max_iter")
    assert IPOPT_STATUS[-4] == ("Maximum_CpuTime_Exceeded", "time_limit")
    assert IPOPT_STATUS[-5] == ("Maximum_WallTime_Exceeded", "time_limit")
    assert {s for _, s in IPOPT_STATUS.values()} == {
        "converged", "failed", "diverged", "interrupted", "max_iter", "time_limit"}


def test_wall_time_left_is_the_smaller_of_the_deadline_and_the_option():
    import time

    from liftnet.solvers.ipopt_backends import wall_time_left

    assert wall_time_left({"max_wall_time": 5.0}, None) is None
    deadline = time.monotonic() + 100.0
    assert wall_time_left({"max_wall_time": 5.0}, deadline) == 5.0
    assert 99.0 < wall_time_left({"max_wall_time": 500.0}, deadline) <= 100.0
    assert 99.0 < wall_time_left({}, deadline) <= 100.0
    # not a positive number: IPOPT's to refuse, the deadline's seconds stand
    for bad in (0.0, -3.0, "abc"):
        assert 99.0 < wall_time_left({"max_wall_time": bad}, deadline) <= 100.0
    assert wall_time_left({}, time.monotonic() - 1.0) < 0  # nothing left


def test_no_ipopt_when_exactly_nothing_is_left(monkeypatch):
    """``wall_time_left <= 0``: IPOPT is not started (its ``max_wall_time`` must be positive)."""
    from liftnet.solvers import ipopt_backends as ib
    from liftnet.solvers.ipopt import solve_ipopt

    if not ib.CyIpoptBackend.available():
        pytest.skip("cyipopt missing")
    monkeypatch.setattr(ib, "wall_time_left", lambda options, deadline: 0.0)
    r = solve_ipopt(small_problem(), time_limit=100.0, solver="cyipopt")
    assert r.status == "time_limit" and r.ipopt_status == "not started" and r.nit == 0


@pytest.mark.skipif(not CyIpoptBackend.available(), reason="cyipopt missing")
@pytest.mark.parametrize("where", ["polish round 1", "phase 1's certificate"])
def test_a_ctrl_c_after_phase_one_returns_its_better_certified_zeroed_point(where, monkeypatch):
    """A Ctrl-C in polish round 1 (or in phase 1's certificate) returned the phase-1 point as
    IPOPT left it, its zero groups near 1e-4 (KKT residual 1e-2), where the same point with
    those groups set to exact zeros, the one the polish starts from, had 2.4e-6 (1.7e-7 on a
    larger teacher), reported as ``kkt_phase1``: that point comes back now."""
    import os
    import signal

    import liftnet.solvers.ipopt as ipopt_module
    from liftnet import kkt_residuals
    from liftnet.datasets import make_teacher

    X, Y, _, _ = make_teacher(20, (3, 3, 3, 2), alpha=0.1, noise=0.1, seed=0)
    prob = LiftedProblem(X, Y, hidden=(3, 3), alpha=0.1, beta=3.0, lam=1e-2)
    callback = None
    if where == "polish round 1":
        def callback(rec):
            if rec["phase"] == "polish 1" and rec["iteration"] == 1:
                os.kill(os.getpid(), signal.SIGINT)  # IPOPT's handler: stop after this one
    else:
        real, calls = ipopt_module._safe_kkt, []

        def certificate(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:  # phase 1's, the first
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(ipopt_module, "_safe_kkt", certificate)
    try:
        r = ipopt_module.solve_ipopt(prob, seed=0, callback=callback)
    except KeyboardInterrupt:
        pytest.fail("solve_ipopt let the KeyboardInterrupt through")
    assert r.status == "interrupted" and r.history[0]["status"] == "converged"
    assert "phase-1 point returned" in r.message and "set to exact zeros" in r.message
    assert r.kkt_phase1 is not None and r.kkt.residual == pytest.approx(r.kkt_phase1, rel=1e-9)
    assert r.kkt.residual < 1e-5 and r.n_zero_groups >= 3
    # the point returned is IPOPT's phase-1 point, its groups below the threshold zeroed
    raw = ipopt_module.solve_ipopt(prob, seed=0, polish=False)
    pen, thr = prob.penalty, r.polish_threshold
    for got, w in zip(r.W, raw.W, strict=True):
        np.testing.assert_array_equal(got, pen.keep_groups(w.copy(), ~pen.zero_groups(w, thr)))
    assert kkt_residuals(prob, raw.W, raw.b, raw.V, raw.M1, raw.M2).residual > 1e-3

"""The multiplier program of the KKT check (liftnet.verification.multipliers)."""

import json
import time
import types

import numpy as np
import pytest
from _helpers import slightly_infeasible_point
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem, kkt_residuals
from liftnet.solvers import interior_point
from liftnet.solvers.interior_point import interior_point_cg
from liftnet.verification import multipliers
from liftnet.verification.kkt import initial_multipliers
from liftnet.verification.multipliers import MultiplierLSQ, estimate_multipliers

make_point = slightly_infeasible_point


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), bias=st.booleans(),
       coupling=st.sampled_from(["complementarity", "squared"]),
       groups=st.sampled_from(["column", "row", "element"]),
       hidden=st.sampled_from([(4,), (4, 3), (3, 5, 2)]))
def test_gradient_and_hessian_match_finite_differences(seed, bias, coupling, groups, hidden):
    prob, W, b, V = make_point(seed, hidden=hidden, bias=bias, coupling=coupling,
                               groups=groups)
    lsq = MultiplierLSQ(prob, W, b, V)
    rng = np.random.default_rng(seed)
    m = lsq.guess() + rng.random(lsq.size)
    v = rng.standard_normal(lsq.size)
    f, state = lsq.value(m)
    g = lsq.gradient(m, state)
    h = 1e-6
    fp, sp = lsq.value(m + h * v)
    fm, sm = lsq.value(m - h * v)
    assert (fp - fm) / (2 * h) == pytest.approx(g @ v, rel=1e-5, abs=1e-8)
    Hv = lsq.hessp(state, v)
    fd = (lsq.gradient(m + h * v, sp) - lsq.gradient(m - h * v, sm)) / (2 * h)
    # equal where no zero group changes piece between m - h v and m + h v (almost surely)
    np.testing.assert_allclose(Hv, fd, rtol=1e-4, atol=1e-6 * np.abs(Hv).max())


@pytest.mark.parametrize("bias", [False, True])
def test_preconditioner_is_the_exact_inverse_for_one_hidden_layer(bias, monkeypatch):
    # one hidden layer, no zero group: nothing couples the rows of a sample, so the 2x2 blocks
    # and the Woodbury correction invert the Hessian plus any positive diagonal exactly (with
    # the blocks' regularisation off)
    monkeypatch.setattr(multipliers, "B_REGULARISATION", 0.0)
    prob, W, b, V = make_point(3, hidden=(5,), bias=bias, zero=False)
    lsq = MultiplierLSQ(prob, W, b, V, woodbury=True)
    rng = np.random.default_rng(0)
    m = lsq.guess() + rng.random(lsq.size)
    _, state = lsq.value(m)
    shift = rng.random(lsq.size) * 10.0 ** rng.uniform(-3, 3, lsq.size)
    P = lsq.precond(state, shift)
    v = rng.standard_normal(lsq.size)
    np.testing.assert_allclose(P(lsq.hessp(state, v) + shift * v), v, rtol=1e-8, atol=1e-8)
    # without the Woodbury part it is not (the weight terms couple the samples)
    lsq.woodbury = False
    P = lsq.precond(state, shift)
    assert np.abs(P(lsq.hessp(state, v) + shift * v) - v).max() > 1e-2


@pytest.mark.parametrize("method", ["lbfgsb", "bb"])
def test_methods_agree_on_the_optimal_value(method):
    prob, W, b, V = make_point(5, hidden=(4, 3), bias=True)
    lsq = MultiplierLSQ(prob, W, b, V)

    def value(M1, M2):
        return lsq.value(lsq.pack(M1, M2))[0]

    A1, A2, info = estimate_multipliers(prob, W, b, V, return_info=True)
    assert info["method"] == "interior-point" and info["status"] == "converged"
    assert all(np.all(x >= 0) for x in (*A1, *A2))
    B1, B2 = estimate_multipliers(prob, W, b, V, method=method, max_iter=20000, tol=1e-12)
    assert value(A1, A2) == pytest.approx(value(B1, B2), rel=1e-5)
    assert value(A1, A2) < value(*lsq.split(lsq.guess()))


def _fake_time(clock):
    """A stand-in for the ``time`` module whose ``monotonic()`` reads ``clock["now"]``."""
    return types.SimpleNamespace(monotonic=lambda: clock["now"])


def test_dead_unit_with_a_zero_incoming_group_keeps_the_estimate_finite():
    """A dead unit whose incoming row is a zero group has no weight term in the
    preconditioner's 2 x 2 block, which turned singular once the interior point's shifts fell
    below rounding: the estimate ended ``diverged`` at its start, 1.8 times the best value
    (0.204 against 0.111 here)."""
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    prob = LiftedProblem(X, Y, hidden=(3, 2), lam=0.1, groups="row", alpha=0.25, beta=1.3)
    W, _ = prob.initial_weights(1)
    W[1][0, :] = 0  # unit 0 of the second hidden layer: dead, its incoming row a zero group
    V = prob.lift(W)
    with np.errstate(divide="raise", invalid="raise"):
        M1, M2, info = estimate_multipliers(prob, W, None, V, return_info=True)
    ref = estimate_multipliers(prob, W, None, V, method="lbfgsb")
    lsq = MultiplierLSQ(prob, W, None, V)
    value = lsq.value(prob.N * np.concatenate([m.ravel() for m in (*M1, *M2)]))[0]
    best = lsq.value(prob.N * np.concatenate([m.ravel() for m in (*ref[0], *ref[1])]))[0]
    assert info["status"] != "diverged" and not info["kept_start"]
    assert value <= best * (1 + 1e-6)


def test_patience_returns_the_best_residual_of_the_path():
    prob, W, b, V = make_point(7, hidden=(6, 4), N=60)
    full = estimate_multipliers(prob, W, b, V)
    M1, M2, info = estimate_multipliers(prob, W, b, V, patience=3, return_info=True)
    r_full = kkt_residuals(prob, W, b, V, *full)["residual"]
    r_kkt = kkt_residuals(prob, W, b, V, M1, M2)["residual"]
    assert r_kkt <= 1.01 * r_full
    assert info["status"] in ("stalled", "converged")


def test_floor_bounds_every_residual_and_ends_the_estimate():
    # an exact lift (primal feasible) of random weights: the output layer's stationarity, which
    # no multipliers change, is the residual's floor
    prob, W, b, _ = make_point(9, hidden=(5, 4), N=30, zero=False)
    V = prob.lift(W, b)
    lsq = MultiplierLSQ(prob, W, b, V)
    assert lsq.primal == 0.0 and lsq.floor > 1e-3
    rng = np.random.default_rng(0)
    for _ in range(5):
        M1 = [rng.random(s) for s in prob.V_shapes]
        M2 = [rng.random(s) for s in prob.V_shapes]
        assert kkt_residuals(prob, W, b, V, M1, M2).residual >= lsq.floor
    rep = kkt_residuals(prob, W, b, V)
    assert rep.residual == pytest.approx(lsq.floor)
    assert rep.estimate["status"] == "converged" and rep.estimate["iterations"] <= 1


def exact_kkt_point(seed, beta, N=30, alpha=0.05, dead=False):
    """A network with biases that fits its own outputs, at its lift, with ``lam = 0``: a KKT
    point whose multipliers are known, ``M1 = c max(U, 0)``, ``M2 = c max(-U, 0)`` with
    ``c = beta (1 - alpha) / N`` (stationarity in ``V`` and ``U``, MODEL.md 5); ``dead``: unit
    2 of layer 1 is dead (``U = V = 0`` on every sample, both constraints active).
    Returns ``prob, W, b, V, M1, M2``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 2))
    W = [rng.standard_normal((4, 2)), rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    b = [rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(2)]
    if dead:
        W[0][1, :] = 0.0
        b[0][1] = 0.0
    kw = dict(hidden=(4, 3), alpha=alpha, beta=beta, lam=0.0, bias=True)
    Y = LiftedProblem(X, np.zeros((N, 2)), **kw).predict(W, b, X)
    prob = LiftedProblem(X, Y, **kw)
    U, V = prob.forward(W, b)
    c = beta * (1 - alpha) / N
    M1 = [c * np.maximum(u, 0.0) for u in U[:-1]]
    M2 = [c * np.maximum(-u, 0.0) for u in U[:-1]]
    return prob, W, b, V, M1, M2


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("beta", [1.0, 30.0])
def test_estimate_at_an_exact_kkt_point_is_exact(seed, beta):
    """At :func:`exact_kkt_point` the backward guess is exact, and the estimate keeps it (the
    interior point moved into the interior stopped at 6e-7, ``beta`` 1, and 1.8e-5, ``beta``
    30, on seed 0)."""
    prob, W, b, V, M1, M2 = exact_kkt_point(seed, beta)
    assert kkt_residuals(prob, W, b, V, M1, M2).residual <= 1e-12  # the construction
    rep = kkt_residuals(prob, W, b, V)
    assert rep.residual <= 1e-12
    assert max(float(np.max(np.abs(e - m))) for e, m in zip((*rep.M1, *rep.M2), (*M1, *M2))) \
        <= 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("beta", [1.0, 30.0])
def test_refine_recovers_the_exact_multipliers_after_the_interior_point(seed, beta):
    """The crossover (``MultiplierLSQ.refine``): from the interior point's multipliers (started
    at zero, its iterates positive, its residual 1e-5 to 4e-3 here) Newton steps on the
    support reach the exact ones."""
    prob, W, b, V, M1, M2 = exact_kkt_point(seed, beta)
    lsq = MultiplierLSQ(prob, W, b, V)
    m, info = interior_point_cg(lsq.value, lsq.gradient, lsq.hessp, lsq.precond,
                                np.zeros(lsq.size), tol=1e-8, max_iter=200, score=lsq.score,
                                patience=5, score_floor=lsq.floor)
    assert info.score > 1e-7
    m_r, score = lsq.refine(m)
    assert score <= 1e-12 and score == lsq.score(lsq.value(m_r)[1])
    got = lsq.split(m_r)
    assert max(float(np.max(np.abs(e - m))) for e, m in zip((*got[0], *got[1]), (*M1, *M2))) \
        <= 1e-9


@pytest.mark.parametrize("method,patience", [("interior-point", 5), ("interior-point", None),
                                             ("lbfgsb", None), ("bb", None)])
def test_estimate_is_never_worse_than_its_start(method, patience):
    """At an exact KKT point with a dead unit (``beta = 1000``, ``N = 200``) the backward
    guess gives 3.8e-15; the interior point, started from it moved into the interior, had
    ended at 4.1e-5 with ``patience`` (``kkt_residuals``' estimate) and 3.4e-4 without, both
    "converged", before its stopping rule was made relative to the caller's start; now it ends
    at about 2e-14 (1.8e-14 "stalled", 2.1e-14 "converged"; 2026-12-07), still above the
    guess. Every method returns the start then, and says so."""
    prob, W, b, V, M1, M2 = exact_kkt_point(4, 1000.0, N=200, alpha=0.1, dead=True)
    assert kkt_residuals(prob, W, b, V, M1, M2).residual <= 1e-12  # the construction
    start = kkt_residuals(prob, W, b, V, *multipliers.initial_multipliers(prob, W, b, V))
    A1, A2, info = estimate_multipliers(prob, W, b, V, method=method, patience=patience,
                                        return_info=True)
    assert kkt_residuals(prob, W, b, V, A1, A2).residual <= start.residual
    assert info["kept_start"] and not info["refined"]
    for a, s in zip((*A1, *A2), (*start.M1, *start.M2)):
        np.testing.assert_array_equal(a, s)
    if patience is not None:  # kkt_residuals' estimate: the same, and the report says how
        rep = kkt_residuals(prob, W, b, V)
        assert rep.residual <= start.residual
        assert rep.estimate["kept_start"] and rep.estimate["status"] == "stalled"


def test_interior_point_stops_relative_to_the_callers_start():
    """The interior point's stopping rule is relative to ``f`` at the caller's start, not at
    the start moved into the interior: at the dead-unit point, from the exact multipliers
    times ``1 + 1e-6 u`` (``f`` 0.25) the shift raised ``f`` to ~1e7, and the method said
    "converged" at ``f = 0.01`` (its residual 3.4e-4 against the start's 2.3e-3); with the
    start's scale it goes on to ``f = 2e-10``."""
    prob, W, b, V, M1, M2 = exact_kkt_point(4, 1000.0, N=200, alpha=0.1, dead=True)
    lsq = MultiplierLSQ(prob, W, b, V)
    m0 = lsq.pack(M1, M2) * (1.0 + 1e-6 * np.random.default_rng(0).random(lsq.size))
    f0 = lsq.value(m0)[0]
    m, info = interior_point_cg(lsq.value, lsq.gradient, lsq.hessp, lsq.precond, m0,
                                tol=1e-8, max_iter=200)
    assert info.status == "converged"
    assert info.value <= 1e-6 * f0
    assert lsq.score(lsq.value(m)[1]) <= 1e-3 * lsq.score(lsq.value(m0)[1])
    # with a score the start is a candidate: from the exact multipliers (1.3e-13 after the
    # scaling's rounding) nothing worse comes back (the iterates from it moved into the
    # interior stopped at 3.4e-4)
    exact = lsq.pack(M1, M2)
    s0 = lsq.score(lsq.value(exact)[1])
    m, info = interior_point_cg(lsq.value, lsq.gradient, lsq.hessp, lsq.precond, exact,
                                tol=1e-8, max_iter=200, score=lsq.score, patience=5)
    assert info.score <= s0 and info.score == lsq.score(lsq.value(m)[1])
    assert info.start == np.array_equal(m, exact)


def test_kkt_residuals_reports_the_estimate():
    prob, W, b, V = make_point(8)
    t = time.monotonic()
    rep = kkt_residuals(prob, W, b, V)
    wall = time.monotonic() - t
    assert rep.multipliers == "estimated"
    assert rep.estimate["method"] == "interior-point"
    assert rep.estimate["iterations"] >= 1
    # the estimate's own duration: it ran (> 0) and within this call (<= its wall time)
    assert 0.0 < rep.estimate["seconds"] <= wall
    # summary(): the numbers only (JSON-friendly), the estimate's record kept, no arrays
    summ = rep.summary()
    assert "estimate" in summ and not {"M1", "M2"} & set(summ)
    assert json.loads(json.dumps(summ)) == json.loads(json.dumps({k: rep[k] for k in summ}))
    given = kkt_residuals(prob, W, b, V, rep.M1, rep.M2)
    assert given.estimate is None and given.residual == rep.residual


@pytest.mark.parametrize("method", ["interior-point", "lbfgsb", "bb"])
def test_time_limit_is_reported(method):
    prob, W, b, V = make_point(4, hidden=(6, 4), N=40)
    M1, M2, info = estimate_multipliers(prob, W, b, V, method=method, time_limit=1e-9,
                                        return_info=True)
    assert info["status"] == "time_limit"
    assert all(np.all(np.isfinite(x)) and np.all(x >= 0) for x in (*M1, *M2))


def test_lbfgsb_evaluates_nothing_after_its_deadline(monkeypatch):
    """L-BFGS-B's time limit is tested before every evaluation: on a clock that moves one
    second per evaluation, ``time_limit=2.5`` allows the evaluations that start before 2.5 s
    and no other (tested only in scipy's per-iteration callback, a first iteration of 0.9 s
    of evaluations had overrun ``time_limit=0.05`` to 1.3 s). The last accepted iterate
    comes back, with its iteration count."""
    prob, W, b, V = make_point(4, hidden=(6, 4), N=40)
    clock = {"now": 0.0}
    starts = []
    value = MultiplierLSQ.value

    def slow(self, m):
        starts.append(clock["now"])
        clock["now"] += 1.0
        return value(self, m)

    FakeTime = _fake_time(clock)

    monkeypatch.setattr(MultiplierLSQ, "value", slow)
    monkeypatch.setattr(multipliers, "time", FakeTime)
    M1, M2, info = estimate_multipliers(prob, W, b, V, method="lbfgsb", time_limit=2.5,
                                        return_info=True)
    assert info["status"] == "time_limit"
    assert starts and max(starts) <= 2.5 and len(starts) == 3
    assert info["iterations"] <= 2
    assert all(np.all(np.isfinite(x)) and np.all(x >= 0) for x in (*M1, *M2))


def test_progress_lines_and_ctrl_c_keep_the_report(capsys, monkeypatch):
    prob, W, b, V = make_point(6, hidden=(6, 4), N=60)
    full = kkt_residuals(prob, W, b, V, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == full.estimate["iterations"] >= 2
    assert all(line.startswith("multiplier estimate: iteration") for line in lines)

    calls = []
    value = MultiplierLSQ.value

    def cut(self, m):  # Ctrl-C in the estimate's third iteration (the calls before it: the
        calls.append(1)  # program's start, the interior point's score of it, its shifted
        if len(calls) == 6:  # start, two iterations)
            raise KeyboardInterrupt
        return value(self, m)

    monkeypatch.setattr(MultiplierLSQ, "value", cut)
    rep = kkt_residuals(prob, W, b, V)
    assert rep.estimate["status"] == "interrupted" and rep.estimate["iterations"] == 2
    assert np.isfinite(rep.residual) and rep.residual >= full.residual * (1 - 1e-9)


def test_bad_arguments_are_named():
    prob, W, b, V = make_point(0)
    with pytest.raises(ValueError, match="method"):
        estimate_multipliers(prob, W, b, V, method="newton")
    with pytest.raises(ValueError, match="patience"):
        estimate_multipliers(prob, W, b, V, patience=0)
    with pytest.raises(TypeError, match="max_iter"):
        estimate_multipliers(prob, W, b, V, max_iter=2.5)
    with pytest.raises(ValueError, match="tol"):
        estimate_multipliers(prob, W, b, V, tol=-1.0)
    with pytest.raises(TypeError, match="verbose"):
        kkt_residuals(prob, W, b, V, verbose="yes")
    with pytest.raises(TypeError, match="return_info"):
        estimate_multipliers(prob, W, b, V, return_info=1)



@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dominant", ["M2 g2", "M1 g1", "primal"])
def test_score_is_the_kkt_residual_of_the_multipliers(seed, dominant):
    """:meth:`MultiplierLSQ.score` is the residual :func:`kkt_residuals` reports with the
    multipliers ``split(m)`` (``m >= 0``): the largest of stationarity, complementarity of
    both constraints and the primal infeasibility no multiplier changes. Checked where each
    of these alone is the largest: ``V_1[0, 0]`` 20 above the lift (deeper layers lifted from
    it, so feasible) with multiplier 100 on its ``g2`` (or ``g1``), complementarity 2000
    against a stationarity of about 100; and ``V_2[0, 0]`` 10 below the lift, a unit whose
    outgoing weights are zero (so nothing downstream moves), with small multipliers: primal
    10 against a stationarity below 4. Catches ``score`` without the ``M2 g2`` terms or
    without the primal part, which reads those points as near-KKT."""
    prob, W, b, _ = make_point(seed, bias=bool(seed % 2), zero=False)
    if dominant == "primal":
        W[-1][:, 0] = 0.0
        V = prob.lift(W, b)
        V[-1][0, 0] -= 10.0
    else:
        V = []
        for l in range(prob.L - 1):  # the lift, V_1[0, 0] raised by 20 before layer 2
            U = prob.pre_activations(W, b, V + [np.zeros(s) for s in prob.V_shapes[l:]])[l]
            V.append(prob.sigma(U))
            if l == 0:
                V[0][0, 0] += 20.0
    lsq = MultiplierLSQ(prob, W, b, V)
    m = 1e-3 * np.random.default_rng(seed).random(lsq.size)  # >= 0
    if dominant != "primal":
        m[lsq.blocks[lsq.Lh if dominant == "M2 g2" else 0].start] = 100.0 * prob.N
    score = lsq.score(lsq.value(m)[1])
    rep = kkt_residuals(prob, W, b, V, *lsq.split(m))
    assert score == pytest.approx(rep.residual, rel=1e-10)
    M1, M2 = lsq.split(m)
    comp1 = max(float(np.max(np.abs(x * g))) for x, g in zip(M1, lsq.g1))
    comp2 = max(float(np.max(np.abs(x * g))) for x, g in zip(M2, lsq.g2))
    assert rep.complementarity == max(comp1, comp2)
    part = {"M2 g2": comp2, "M1 g1": comp1, "primal": rep.primal_feasibility}[dominant]
    others = [rep.stationarity, rep.primal_feasibility, comp1, comp2]
    others.remove(part)
    assert rep.residual == part and part > 1.5 * max(others)  # that part alone decides


# When the estimate's set-up alone uses up time_limit (as it can at 784-256-128-10, N = 4000,
# float32), no method runs and the start is used with one report, not two. A clock that moves
# only in the set-up: no timing in the tests.
def _slow_set_up(monkeypatch, seconds):
    clock = {"now": 0.0}
    init = MultiplierLSQ.__init__

    def slow(self, *args, **kwargs):
        init(self, *args, **kwargs)
        clock["now"] += seconds

    FakeTime = _fake_time(clock)

    monkeypatch.setattr(MultiplierLSQ, "__init__", slow)
    monkeypatch.setattr(multipliers, "time", FakeTime)
    monkeypatch.setattr(interior_point, "time", FakeTime)  # (the method's deadline test)
    reports = []
    report = multipliers._report
    monkeypatch.setattr(multipliers, "_report",
                        lambda *a: reports.append(1) or report(*a))
    return reports


@pytest.mark.parametrize("method", ["interior-point", "lbfgsb", "bb"])
def test_a_set_up_past_the_limit_runs_no_method(monkeypatch, method):
    prob, W, b, V = slightly_infeasible_point(4, hidden=(6, 4), N=40)
    start = multipliers.initial_multipliers(prob, W, b, V)
    reports = _slow_set_up(monkeypatch, 10.0)

    def no_method(*a, **k):
        raise AssertionError("the method ran after the set-up used up the time limit")

    monkeypatch.setattr(multipliers, "interior_point_cg", no_method)
    monkeypatch.setattr(multipliers, "prox_gradient_bb", no_method)
    monkeypatch.setattr(multipliers, "minimize", no_method)
    M1, M2, info = estimate_multipliers(prob, W, b, V, method=method, time_limit=1.0,
                                        return_info=True)
    assert info["status"] == "time_limit" and info["iterations"] == 0
    assert info["kept_start"] and len(reports) == 1
    for a, s in zip((*M1, *M2), (*start[0], *start[1])):
        np.testing.assert_array_equal(a, s)


def test_a_limit_that_does_not_bind_changes_nothing(monkeypatch):
    prob, W, b, V = slightly_infeasible_point(4, hidden=(6, 4), N=40)
    free = kkt_residuals(prob, W, b, V)
    _slow_set_up(monkeypatch, 0.5)  # set-up within the limit; the iterations take no time
    limited = kkt_residuals(prob, W, b, V, time_limit=1.0)
    assert limited.estimate["status"] == free.estimate["status"] != "time_limit"
    assert limited.residual == free.residual
    for a, c in zip((*limited.M1, *limited.M2), (*free.M1, *free.M2)):
        np.testing.assert_array_equal(a, c)


def test_lbfgsb_reports_a_failed_line_search_as_stalled_not_max_iter():
    """L-BFGS-B's line search failed (scipy's status 2, ABNORMAL) after 83 of its 5000
    iterations and the info said "max_iter", as if the iterations had run out."""
    prob, W, b, V = slightly_infeasible_point(0, hidden=(4, 3), bias=True)
    M1, M2, info = estimate_multipliers(prob, W, b, V, method="lbfgsb", return_info=True)
    assert info["iterations"] < 5000 and info["status"] in ("converged", "stalled")
    assert all(np.all(x >= 0) for x in (*M1, *M2))
    prob, W, b, V = slightly_infeasible_point(1, hidden=(4, 3), bias=True)
    info = estimate_multipliers(prob, W, b, V, method="lbfgsb", max_iter=3, return_info=True)[2]
    assert info["status"] == "max_iter" and info["iterations"] == 3


# initial_multipliers (re-exported by liftnet.verification.kkt) takes array-likes as the
# model's evaluations do: nested lists gave an AttributeError ('list' object has no attribute
# 'T') from inside _backward_guess, after pre_activations had accepted them.
def test_initial_multipliers_of_nested_lists_are_those_of_the_arrays():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((8, 3)), rng.standard_normal((8, 1)),
                         hidden=(4, 3), bias=True)
    W, b = prob.initial_weights(seed=0)
    b = [bl + 0.1 for bl in b]
    V = prob.lift(W, b)
    M1, M2 = initial_multipliers(prob, W, b, V)
    L1, L2 = initial_multipliers(prob, [Wl.tolist() for Wl in W], [bl.tolist() for bl in b],
                                 [Vl.tolist() for Vl in V])
    for a, c in zip((*M1, *M2), (*L1, *L2)):
        np.testing.assert_array_equal(a, c)

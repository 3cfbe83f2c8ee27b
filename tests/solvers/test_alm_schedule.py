"""The ALM's outer loop (liftnet/solvers/alm.py): its schedule of ``rho`` and ``eps``, what a
warm start carries over, the presolve, the multiplier caps and the bookkeeping of a diverged
run. Every solve here is bounded by ``max_iter`` (and ``max_inner``), not by wall time."""

import dataclasses

import numpy as np
import pytest
from test_alm import _random_subproblem, teacher_problem

from liftnet import kkt_residuals, solve_alm
from liftnet.solvers import alm


def test_the_first_inner_tolerance_is_never_below_tol():
    """``eps_0 = max(eps0, tol)``: a subproblem solved more tightly than the run's own target
    buys nothing (a mutation audit: the ``max`` with ``tol`` dropped)."""
    res = solve_alm(teacher_problem(), tol=1e-3, eps0=1e-5, max_iter=1)
    assert res.history[0]["eps"] == 1e-3


def test_explicit_rho0_and_eps0_beat_a_warm_starts_carried_ones():
    """A result carries ``rho`` and ``eps`` and a run from it goes on with them exactly; an
    explicit ``rho0`` or ``eps0`` is the caller's choice and wins over them (a mutation audit:
    the carried value tried before the argument)."""
    prob = teacher_problem()
    res = solve_alm(prob, max_iter=3)
    assert (res.rho, res.eps) != (0.123, 0.0123)
    plain = solve_alm(prob, init=res, max_iter=1)
    assert (plain.history[0]["rho"], plain.history[0]["eps"]) == (res.rho, res.eps)
    again = solve_alm(prob, init=res, rho0=0.123, eps0=0.0123, max_iter=1)
    assert (again.history[0]["rho"], again.history[0]["eps"]) == (0.123, 0.0123)


def test_a_presolve_starts_its_own_schedule_instead_of_the_carried_one():
    """With a presolve the warm start's ``eps`` is not carried: the full problem starts at
    ``EPS0`` again, as the presolve's network is a new start (a mutation audit: the carried
    state read with a presolve too)."""
    prob = teacher_problem("complementarity", N=60, seed=1)
    res = solve_alm(prob, max_iter=4, tol=1e-12)
    assert res.eps < alm.EPS0
    pre = solve_alm(prob, init=res, presolve=0.5, max_iter=1, tol=1e-12)
    assert pre.presolve is not None and pre.history[0]["eps"] == alm.EPS0


def test_a_presolve_fraction_that_takes_every_sample_is_no_presolve():
    """``ceil(presolve N) = N`` would solve the same problem twice: the presolve is off (at
    N = 20, 0.99 rounds up to all 20 samples; 0.9 takes 18) (a mutation audit: the fraction
    used as given)."""
    prob = teacher_problem(N=20)
    assert solve_alm(prob, presolve=0.99, max_iter=1).presolve is None
    assert solve_alm(prob, presolve=0.9, max_iter=1).presolve["n_samples"] == 18


@pytest.fixture
def presolve_calls(monkeypatch):
    """The ``(prob, kwargs, result)`` of the presolve's inner ``solve_alm`` call (the one with
    ``presolve=None``), recorded as the full solve makes it; its result's ``time_excluded``
    is raised by ``presolve_calls.extra_excluded`` seconds (default 0)."""
    real = alm.solve_alm

    class Calls(list):
        extra_excluded = 0.0

    calls = Calls()

    def spy(prob, *args, **kw):
        res = real(prob, *args, **kw)
        if kw.get("presolve", "auto") is None:
            res["time_excluded"] += calls.extra_excluded
            calls.append((prob, kw, res))
        return res

    monkeypatch.setattr(alm, "solve_alm", spy)
    return calls


def test_the_presolve_solves_to_1e_4_at_most_and_hands_on_rho_per_sample(presolve_calls):
    """The presolve is a start, solved to ``max(tol, 1e-4)``; its penalty goes on to the full
    problem scaled by ``n / N`` (``F`` carries ``1/N``: ``rho N`` is what is kept) (a mutation
    audit: the presolve at the full ``tol``; its ``rho`` handed on unscaled)."""
    prob = teacher_problem("complementarity", N=60, seed=1)
    res = solve_alm(prob, tol=1e-6, seed=0, presolve=0.5, max_iter=1)
    (small, kw, pre), = presolve_calls
    assert small.N == 30 and kw["tol"] == pre.tol == 1e-4
    assert res.history[0]["rho"] == pytest.approx(pre.rho * 30 / 60, rel=1e-15)


def test_the_presolves_excluded_time_is_excluded_from_the_run(presolve_calls):
    """The seconds the presolve left off its clock (its callbacks', its reports') stay off the
    full run's clock and time limit (a mutation audit: they were not passed on)."""
    presolve_calls.extra_excluded = 100.0
    prob = teacher_problem("complementarity", N=60, seed=1)
    res = solve_alm(prob, seed=0, presolve=0.5, max_iter=1)
    assert len(presolve_calls) == 1 and res.time_excluded >= 100.0


def test_the_presolves_samples_are_drawn_with_the_seed(presolve_calls):
    """``presolve`` takes ``ceil(presolve N)`` samples drawn with ``seed`` (documented), so a
    run is reproducible from its seed and different seeds see different subsets (a mutation
    audit: a fixed seed 0)."""
    prob = teacher_problem("complementarity", N=60, seed=1)
    solve_alm(prob, seed=5, presolve=0.5, max_iter=1)
    rows = np.sort(np.random.default_rng(5).permutation(60)[:30])
    np.testing.assert_array_equal(presolve_calls[0][0].X, prob.subset(rows).X)


def test_rho_never_exceeds_rho_max():
    """``rho_max`` caps the penalty (the growth ``gamma rho`` would otherwise go past it; a
    mutation audit: the cap dropped). The cap is set just above the first penalty of a run
    whose penalty grows."""
    prob = teacher_problem("complementarity")
    rhos = [h["rho"] for h in solve_alm(prob, max_iter=12, tol=1e-12).history]
    assert max(rhos) > 1.5 * rhos[0]  # without the cap the penalty passes it
    cap = 1.5 * rhos[0]
    res = solve_alm(prob, max_iter=12, tol=1e-12, rho_max=cap)
    assert max(h["rho"] for h in res.history) <= cap and res.rho <= cap


def test_the_multipliers_inner_callback_sees_are_capped_at_M_max():
    """``M_max`` safeguards the multiplier update, and the multipliers an ``inner_callback``'s
    ``iterate()`` shows are the update's, capped too (a mutation audit: the cap dropped in
    ``_capped``, or in ``iterate``)."""
    seen = []

    def watch(rec):
        it = rec["iterate"]()
        seen.append(max(float(m.max()) for m in (*it["M1"], *it["M2"])))

    solve_alm(teacher_problem(), tol=1e-12, max_iter=2, M_max=1e-5, inner_callback=watch)
    assert seen and max(seen) <= 1e-5


def test_a_warm_start_without_multipliers_gets_estimated_ones():
    """A warm start of ``W`` alone starts with ``initial_multipliers`` (exact V-stationarity),
    not with ``parse_init``'s zeros: its certified start is that point's (a mutation audit:
    the estimate made only for ``init=None``)."""
    from liftnet.verification.kkt import initial_multipliers

    prob = teacher_problem()
    W, b = prob.initial_weights(7)
    V = prob.lift(W, b)
    res = solve_alm(prob, init={"W": W}, max_iter=1)
    rep = kkt_residuals(prob, W, b, V, *initial_multipliers(prob, W, b, V))
    assert res.start["residual"] == rep["residual"]


def test_the_violation_is_measured_with_the_multipliers_the_subproblem_used():
    """Step 3's violation ``max |min(-g, M_k / rho)|`` at ``z_{k+1}`` uses ``M_k`` (the
    subproblem's multipliers) divided by ``rho``, not the updated ones (a mutation audit:
    ``Mh`` in place of ``M``; ``m`` for ``m / rho``). One iteration from the start, whose
    multipliers are ``initial_multipliers``, and the returned point is the record's."""
    from liftnet.solvers.init import parse_init
    from liftnet.verification.kkt import initial_multipliers

    prob = teacher_problem("squared")
    W, b, V, _, _ = parse_init(prob, None, 0)
    M1, M2 = initial_multipliers(prob, W, b, V)
    res = solve_alm(prob, tol=1e-12, max_iter=1, seed=0)
    rec = res.history[0]
    assert rec["inner_status"] != "unbounded" and res.kkt["residual"] == rec["residual"]
    U = prob.pre_activations(res.W, res.b, res.V)
    g1, g2 = prob.constraints(U[:-1], res.V)
    want = max(float(np.max(np.abs(np.minimum(-g, m / rec["rho"]))))
               for g, m in zip((*g1, *g2), (*M1, *M2)))
    assert rec["violation"] == pytest.approx(want, rel=1e-12)


def test_a_failed_subproblem_is_retried_in_the_other_coordinates(monkeypatch):
    """An inner solve that stops at ``max_inner`` (or stalls) is retried in the other
    coordinate system, branch and model's in turn (docs/maths.md 6.2; a mutation audit: the
    switch dropped, every solve in branch coordinates)."""
    real, kinds = alm.group_owlqn, []

    def spy(sub, *args, **kw):
        kinds.append(type(sub).__name__)
        return real(sub, *args, **kw)

    monkeypatch.setattr(alm, "group_owlqn", spy)
    res = solve_alm(teacher_problem(), tol=1e-12, max_iter=4, max_inner=3)
    assert all(h["inner_status"] == "max_iter" for h in res.history)
    assert kinds == ["_BranchSubproblem", "_Subproblem"] * 2


def _failing_second_solve(monkeypatch, **change):
    """``alm.group_owlqn``, with the info of its second call replaced by ``change``; returns the
    list of every call's real ``info.nit``. (The solves below stop at ``max_inner=200``, below
    ``POLISH_MIN_INNER``: no weight polish calls it in between.)"""
    real, nits = alm.group_owlqn, []

    def spy(*args, **kw):
        z, info = real(*args, **kw)
        nits.append(info.nit)
        return z, (dataclasses.replace(info, **change) if len(nits) == 2 else info)

    monkeypatch.setattr(alm, "group_owlqn", spy)
    return nits


def test_a_nonfinite_subproblem_value_ends_the_run_diverged(monkeypatch):
    """A subproblem whose value is not finite (an overflow the inner solver did not flag) ends
    the run ``diverged``, with the best finite point and no record of that iteration (a
    mutation audit: only the inner status looked at)."""
    _failing_second_solve(monkeypatch, value=np.inf)
    res = solve_alm(teacher_problem(), tol=1e-12, max_iter=5, max_inner=200)
    assert res.status == "diverged" and res.nit == len(res.history) == 1


def test_a_diverged_solve_counts_its_inner_iterations(monkeypatch):
    """``n_inner`` counts the inner iterations of a diverged last solve too (they were made;
    the run has no record of that iteration, so ``n_inner`` is more than the records' sum) (a
    mutation audit: they were left out)."""
    nits = _failing_second_solve(monkeypatch, status="diverged")
    res = solve_alm(teacher_problem(), tol=1e-12, max_iter=5, max_inner=200)
    assert res.status == "diverged" and res.nit == 1
    assert nits[1] > 0 and res.n_inner == sum(nits)


def test_overflowing_multipliers_end_the_run_diverged(monkeypatch):
    """Multipliers ``Mh = max(0, M + rho g)`` that overflow end the run ``diverged`` with the
    best finite point, not a next iteration from infinite multipliers (a mutation audit: the
    check dropped)."""
    real, calls = alm._Subproblem.constraint_state, []

    def overflowing_second(self, cache):
        calls.append(1)
        g1, g2, Mh1, Mh2 = real(self, cache)
        return g1, g2, [m + np.inf for m in Mh1] if len(calls) == 2 else Mh1, Mh2

    monkeypatch.setattr(alm._Subproblem, "constraint_state", overflowing_second)
    res = solve_alm(teacher_problem(), tol=1e-12, max_iter=5, max_inner=200)
    assert res.status == "diverged" and "multipliers" in res.message
    assert res.nit == len(res.history) == 1
    assert all(np.all(np.isfinite(m)) for m in res.M1 + res.M2)


def test_a_time_limited_stop_at_a_point_that_meets_tol_is_converged(monkeypatch):
    """A subproblem cut by the time limit whose point turns out to meet ``tol`` ends the run
    ``converged`` (the certificate decides, not the reason the solve stopped; a mutation
    audit: always ``time_limit``). The cut is simulated: the first solve reports
    ``time_limit``, and its point is at residual 0.055 (measured) against ``tol`` 0.06."""
    alm.warm_up()  # (the time-limited run's own warm-up solve is not to see the patch)
    real = alm.group_owlqn

    def cut(*args, **kw):
        z, info = real(*args, **kw)
        return z, dataclasses.replace(info, status="time_limit")

    monkeypatch.setattr(alm, "group_owlqn", cut)
    res = solve_alm(teacher_problem(), tol=0.06, max_iter=5, time_limit=1000.0)
    assert res.nit == 1 and res.start["residual"] > 0.06 >= res.kkt["residual"]
    assert res.status == "converged" and res.message.startswith("KKT residual")


def test_the_weight_polish_takes_at_most_a_tenth_of_the_solves_iterations():
    """The weight polish after a solve of ``n`` inner iterations is given
    ``ceil(POLISH_SHARE n)`` of them, at least 1 (docs/maths.md 6.4; a mutation audit: ``n``
    whole). Its tolerance, a tenth of ``eps = 1e-9``, is not met in 3 iterations here, so the
    polish runs its whole share: 2 after 20, 3 after 21 (the ceiling: ``floor`` would give 2),
    1 after 1 and after 0 (the floor of one)."""
    from liftnet.solvers.quasi_newton import group_owlqn

    assert alm.POLISH_SHARE == 0.1
    sub, z = _random_subproblem("complementarity", False, 3, 10.0)
    z1, info = group_owlqn(sub, z, tol=1.0, max_iter=20)
    got = {}
    for nit in (0, 1, 20, 21):
        _, _, got[nit] = alm._polish_weights(sub, z1.copy(), dataclasses.replace(info, nit=nit),
                                             1e-9, None)
    assert got == {0: 1, 1: 1, 20: 2, 21: 3}


def test_a_converged_message_has_no_rounding_note(monkeypatch):
    """The note that the residual is near what the dtype resolves is for an unconverged run
    only (a mutation audit: added to every message). ``_rounding_note`` is made to always
    speak, and the unconverged run shows it does."""
    monkeypatch.setattr(alm, "_rounding_note", lambda *args: "; NOTE")
    prob = teacher_problem()
    res = solve_alm(prob, tol=1e-2, max_iter=20)
    assert res.status == "converged" and "NOTE" not in res.message
    assert solve_alm(prob, tol=1e-12, max_iter=1).message.endswith("; NOTE")

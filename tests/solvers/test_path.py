"""Regularisation paths (``liftnet.solve_alm_path``, ``liftnet.solvers.path``)."""

import numpy as np
import pytest
from _helpers import interrupt_call

import liftnet
from liftnet import LiftedProblem, kkt_residuals, solve_alm
from liftnet.datasets import make_teacher
from liftnet.solvers.init import reseed_dead_units
from liftnet.solvers.path import check_lams, solve_alm_path, warm_started_path

LAMS = (3e-2, 1e-2, 3e-3)


@pytest.fixture(scope="module")
def prob():
    X, Y, _, _ = make_teacher(60, (4, 6, 5, 2), alpha=0.1, noise=0.05, seed=3)
    return LiftedProblem(X, Y, hidden=(6, 5), lam=0.5)


@pytest.fixture(scope="module")
def path(prob):
    return solve_alm_path(prob, LAMS, tol=1e-6, time_limit=20)


def test_with_lam_is_the_same_model_with_another_lam(prob):
    q = prob.with_lam(1e-2)
    assert q.lam == 1e-2 and prob.lam == 0.5
    assert repr(q) == repr(prob).replace("lam=0.5", "lam=0.01")
    W, b = prob.initial_weights(0)
    R = prob.regulariser(W) / prob.lam  # regulariser() is lam R(W)
    assert q.Phi(W, b) - prob.Phi(W, b) == pytest.approx((1e-2 - 0.5) * R)
    with pytest.raises(ValueError, match="lam"):
        prob.with_lam(-1.0)


def test_every_point_is_a_certified_kkt_point_of_its_own_lam(prob, path):
    assert [r.lam for r in path] == list(LAMS)
    for r in path:
        assert r.status == "converged"
        own = kkt_residuals(prob.with_lam(r.lam), r.W, r.b, r.V, r.M1, r.M2)["residual"]
        assert own <= 1e-6
    # ... and not of the next one: each point was solved for its own lam
    for r, lam_next in zip(path, LAMS[1:]):
        other = kkt_residuals(prob.with_lam(lam_next), r.W, r.b, r.V, r.M1, r.M2)["residual"]
        assert other > 1e-4


def test_the_path_is_the_loop_it_documents(prob, path):
    """Each solve starts from the previous result with its dead units reseeded (same seed),
    the first from the random start: the same numbers as the loop written out."""
    prev, manual = None, []
    for lam in LAMS:
        p = prob.with_lam(lam)
        init = None if prev is None else reseed_dead_units(p, prev, 0)
        prev = solve_alm(p, tol=1e-6, seed=0, init=init, time_limit=20)
        manual.append(prev)
    for a, m in zip(path, manual):
        assert a.nit == m.nit and a.Phi == m.Phi
        for x, y in zip(a.W, m.W):
            np.testing.assert_array_equal(x, y)


def test_a_reseeded_start_restarts_the_penalty_a_plain_one_carries_it():
    """``reseed=True`` carries the network and multipliers, not ``rho``/``eps``: the second
    point starts at the default ``rho0`` even with no unit to reseed; ``reseed=False`` goes on
    at the previous point's ``rho`` (a review found the docs promising "everything else is the
    result's" for the reseeded start)."""
    from liftnet.pruning import unit_masks
    from liftnet.solvers.alm import default_rho0

    X, Y, _, _ = make_teacher(40, (3, 4, 2), alpha=0.1, noise=0.05, seed=3)
    p = LiftedProblem(X, Y, hidden=(4,), lam=0.5)
    reseeded = solve_alm_path(p, (1e-3, 9e-4), tol=1e-6, max_iter=50)
    plain = solve_alm_path(p, (1e-3, 9e-4), reseed=False, tol=1e-6, max_iter=50)
    assert all(m.all() for m in unit_masks(reseeded[0].W)[1:-1])  # nothing to reseed
    assert reseeded[0].rho > 100 * default_rho0(p)
    assert reseeded[1].history[0]["rho"] == default_rho0(p)
    assert plain[1].history[0]["rho"] == plain[0].rho
    assert "rho" not in reseed_dead_units(p.with_lam(9e-4), reseeded[0])


def test_a_plain_warm_start_from_the_zero_network_stays_a_reseeded_one_leaves(prob):
    W0, _ = prob.initial_weights(0)
    zero = {"W": [np.zeros_like(w) for w in W0]}
    plain = solve_alm_path(prob, (1e-2, 1e-3), init=zero, reseed=False, tol=1e-6,
                           time_limit=20)
    reseeded = solve_alm_path(prob, (1e-2, 1e-3), init=zero, tol=1e-6, time_limit=20)
    phi_zero = prob.with_lam(1e-3).Phi(zero["W"])
    assert plain[1].Phi == pytest.approx(phi_zero)  # the zero network is a KKT point
    assert reseeded[1].Phi < 0.5 * phi_zero


def test_an_interrupted_solve_ends_the_path_with_what_it_has(prob):
    calls = []

    def stop_in_the_second_solve(rec):
        calls.append(rec["k"])
        return len(calls) > 1 and calls[-1] <= calls[-2]  # the first record of a later solve

    out = solve_alm_path(prob, LAMS, tol=1e-6, time_limit=20, callback=stop_in_the_second_solve)
    assert len(out) == 2
    assert out[0].status == "converged" and out[1].status == "interrupted"


@pytest.mark.parametrize("where", ["next problem", "reseeding", "next solve's set-up"])
def test_ctrl_c_between_two_points_keeps_the_finished_ones(monkeypatch, prob, path, where):
    """A Ctrl-C while the second point's start is prepared (its problem, the reseeded units, the
    set-up inside solve_alm) ends the path with the first point (all were lost: the
    KeyboardInterrupt escaped); one in solve_alm's set-up is that solve's, which returns its
    start as ``interrupted``."""
    import liftnet.solvers.alm as alm
    import liftnet.solvers.path as path_module

    target, attr, n, when = {
        "next problem": (LiftedProblem, "with_lam", 2, lambda *a, **k: True),
        "reseeding": (path_module, "reseed_dead_units", 1, lambda *a, **k: True),
        "next solve's set-up": (alm, "parse_init", 1, lambda p, *a, **k: p.lam == LAMS[1]),
    }[where]
    monkeypatch.setattr(target, attr, interrupt_call(getattr(target, attr), n, when))
    try:
        out = solve_alm_path(prob, LAMS, tol=1e-6, time_limit=20)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped solve_alm_path")
    monkeypatch.undo()
    assert out[0].status == "converged" and out[0].lam == LAMS[0]
    for a, c in zip(out[0].W, path[0].W, strict=True):
        np.testing.assert_array_equal(a, c)
    if where == "next solve's set-up":
        assert [r.lam for r in out] == list(LAMS[:2])
        assert out[1].status == "interrupted" and out[1].nit == 0 and out[1].history == []
    else:
        assert len(out) == 1


def test_ctrl_c_just_after_a_solve_returned_keeps_its_point(monkeypatch, prob, path):
    """A Ctrl-C landing as a finished point is labelled with its ``lam`` (the first Python
    code after ``solve_alm`` returns) dropped that point: the path ended with the points
    before it (the converged ``lam = 0.01`` point lost). It is kept, with its ``lam``, and
    the path ends there."""
    from liftnet.solvers.result import LiftedResult

    monkeypatch.setattr(LiftedResult, "__setattr__", interrupt_call(
        LiftedResult.__setattr__, 2, lambda self, name, value: name == "lam"))
    try:
        out = solve_alm_path(prob, LAMS, tol=1e-6, time_limit=20)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped solve_alm_path")
    monkeypatch.undo()
    assert [r.lam for r in out] == list(LAMS[:2])
    assert [r.status for r in out] == ["converged", "converged"]
    for got, want in zip(out, path[:2], strict=True):
        for a, c in zip(got.W, want.W, strict=True):
            np.testing.assert_array_equal(a, c)


def test_ctrl_c_before_the_first_solve_is_passed_on(monkeypatch, prob):
    """Nothing is solved yet: the KeyboardInterrupt reaches the caller."""
    monkeypatch.setattr(LiftedProblem, "with_lam", interrupt_call(LiftedProblem.with_lam, 1))
    with pytest.raises(KeyboardInterrupt):
        solve_alm_path(prob, LAMS, tol=1e-6)


def test_warm_started_path_calls_the_solver_with_each_start():
    seen = []

    class Res(dict):
        status = "converged"

    def solve(p, init):
        seen.append(init)
        return Res(W=[np.ones((2, 3)), np.ones((1, 2))], b=None)

    X = np.random.default_rng(0).standard_normal((5, 3))
    prob = LiftedProblem(X, X[:, :1], hidden=(2,))
    problems = [prob.with_lam(lam) for lam in (1.0, 0.5)]
    out = list(warm_started_path(problems, solve, reseed=False, init={"W": "start"}))
    assert [p.lam for p, _ in out] == [1.0, 0.5]
    assert seen[0] == {"W": "start"} and seen[1] is out[0][1]
    with pytest.raises(TypeError, match="^problems must be an iterable of LiftedProblem, got int"):
        next(warm_started_path(3, solve))


@pytest.mark.parametrize("lams, match", [
    ([], "nonempty"), ([[1e-2]], "1-d"), ([1e-2, np.nan], "finite"), ([1e-2, -1.0], ">= 0"),
    ([1e-3, 1e-2], "strictly decreasing"), ([1e-2, 1e-2], "strictly decreasing"),
])
def test_bad_lams_name_the_parameter(lams, match):
    with pytest.raises(ValueError, match=match):
        check_lams(lams)
    with pytest.raises(TypeError, match="lams"):
        check_lams(["a", "b"])


def test_exported():
    assert liftnet.solve_alm_path is solve_alm_path


@pytest.mark.parametrize("seed", [7, None])
def test_the_seed_reaches_every_solve_and_every_reseeding(monkeypatch, seed):
    """``solve_alm_path(seed=s)`` passes ``s`` to each :func:`solve_alm` (its random start and
    its own draws) and to :func:`reseed_dead_units` before every solve after the first (the
    reseeded units' fresh weights), as documented; every other test uses the default seed 0,
    so a hard-coded 0 in either call would go unseen. Both are stubbed (no solve runs): each
    records the seed it was given."""
    import liftnet.solvers.alm as alm
    import liftnet.solvers.path as path_module
    from liftnet.solvers.result import LiftedResult

    solves, reseeds = [], []

    def solve(p, seed=0, init=None, **kw):
        solves.append((p.lam, seed, init))
        return LiftedResult(status="converged", W=[np.full(s, p.lam) for s in p.W_shapes])

    def reseed(p, prev, seed=0):
        reseeds.append((p.lam, seed))
        return {"W": prev["W"], "reseeded": [], "from": prev}

    monkeypatch.setattr(alm, "solve_alm", solve)
    monkeypatch.setattr(path_module, "reseed_dead_units", reseed)
    X = np.random.default_rng(0).standard_normal((5, 3))
    prob = LiftedProblem(X, X[:, :1], hidden=(2,))
    out = solve_alm_path(prob, LAMS, seed=seed, tol=1e-3)
    assert [r.lam for r in out] == list(LAMS)
    assert [s for _, s, _ in solves] == [seed] * len(LAMS)
    assert reseeds == [(lam, seed) for lam in LAMS[1:]]
    # each later solve starts from the reseeded previous point (the walk itself)
    assert solves[0][2] is None
    for (_, _, start), prev in zip(solves[1:], out):
        assert start["from"] is prev and "reseeded" not in start


def test_a_lam_too_large_for_the_dtype_is_named_by_its_place_in_lams():
    """``solve_alm_path(prob, [1e200, 1e-2])`` said ``lam=np.float64(1e+200) is too large``
    (LiftedProblem's parameter, numpy's repr); it names ``lams[0]``, before any solve."""
    X = np.random.default_rng(0).standard_normal((10, 3))
    prob = LiftedProblem(X, X[:, :1], hidden=(2,))
    with pytest.raises(ValueError, match=r"^lams\[0\]=1e\+200 is too large for float64"):
        solve_alm_path(prob, [1e200, 1e-2], max_iter=1)


# A mutation review (session 51).
LAMS = (3e-2, 1e-2, 3e-3)


def small():
    X = np.random.default_rng(0).standard_normal((5, 3))
    return LiftedProblem(X, X[:, :1], hidden=(2,))


def test_warm_started_path_yields_the_interrupted_result_then_stops():
    """A result with status ``interrupted`` is yielded (the caller keeps it) and the walk
    starts nothing more."""

    class Res(dict):
        def __init__(self, status):
            super().__init__(W=[np.ones((2, 3)), np.ones((1, 2))], b=None)
            self.status = status

    calls = []

    def solve(p, init):
        calls.append(p.lam)
        return Res("interrupted" if len(calls) == 2 else "converged")

    problems = [small().with_lam(lam) for lam in LAMS]
    out = list(warm_started_path(problems, solve, reseed=False))
    assert calls == list(LAMS[:2])
    assert [r.status for _, r in out] == ["converged", "interrupted"]
    assert [p.lam for p, _ in out] == list(LAMS[:2])


def test_warm_started_path_names_a_solver_that_is_not_callable():
    with pytest.raises(TypeError, match="^solve must be callable, got int"):
        next(warm_started_path([small()], 3))


def test_an_error_between_two_points_that_is_no_ctrl_c_is_raised(monkeypatch):
    """Only a Ctrl-C (or a SystemError caused by one) ends the path with the points kept; any
    other error between two solves (here a SystemError of its own, in the reseeding) reaches
    the caller instead of being taken for an interrupt."""
    import liftnet.solvers.alm as alm
    import liftnet.solvers.path as path_module
    from liftnet.solvers.result import LiftedResult

    def solve(p, seed=0, init=None, **kw):
        return LiftedResult(status="converged", W=[np.full(s, p.lam) for s in p.W_shapes])

    def reseed(p, prev, seed=0):
        raise SystemError("not an interrupt")

    monkeypatch.setattr(alm, "solve_alm", solve)
    monkeypatch.setattr(path_module, "reseed_dead_units", reseed)
    with pytest.raises(SystemError, match="not an interrupt"):
        solve_alm_path(small(), LAMS, tol=1e-3)


@pytest.mark.parametrize("reseed", [True, False])
def test_warm_started_path_checks_its_seed_before_any_solve(reseed):
    """A bad ``seed`` is refused before the first solve runs (and with ``reseed=False`` too,
    where no reseeding would ever read it)."""
    calls = []

    def solve(p, init):
        calls.append(p.lam)
        raise AssertionError("a solve ran")

    with pytest.raises(ValueError, match="seed"):
        next(warm_started_path([small()], solve, seed=-1, reseed=reseed))
    assert calls == []

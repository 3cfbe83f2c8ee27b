"""Ctrl-C injection over the long-running entry points: a KeyboardInterrupt at the k-th call of
the problem's methods (forward, F, Phi, backprop, ...) or of ``time.monotonic`` (every solver
clock reads it), once or twice in a row. Each run must end as documented (status
``interrupted`` with a finite, consistent, best-so-far point; the estimator keeps the
interrupted fit; ``liftnet solve`` exits 130 with its files written or "nothing to save"),
and leave the global state (numpy's error state, SIGINT handler, BLAS and numba threads,
``owlqn_compiled.ENABLED``) as it found it.

Until session 50 a Ctrl-C in ``solve_alm``'s clock set-up (after the argument checks, outside
its handler) raised KeyboardInterrupt (and with it ``solve_alm_path``,
``SparseLeakyReLUNet.fit``), and so did one at the clock readings around ``solve_ipopt``'s Pyomo
model build: the cases ``clock`` 1 (ALM) and 2, 3 (IPOPT) below."""

import contextlib
import glob
import io
import json
import signal
import time
import warnings

import numpy as np
import pytest

from liftnet import LiftedProblem, kkt_residuals, solve_alm, solve_alm_path
from liftnet.datasets import make_teacher
from liftnet.formulation.problem import LiftedProblem as _Problem
from liftnet.io import load_result
from liftnet.solvers import owlqn_compiled

METHODS = ("forward", "F", "Phi", "backprop", "backprop_into", "lagrangian_gradient",
           "constraints", "smooth_value", "smooth_partials", "loss_gradient",
           "pre_activations", "lift", "regulariser")


def small_problem():
    X, Y, _, _ = make_teacher(30, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=0, bias=False)
    return LiftedProblem(X, Y, hidden=(4, 3), lam=1e-2)


class CtrlC:
    """KeyboardInterrupt at the calls numbered ``at`` (one count over all wrapped callables)."""

    def __init__(self, at):
        self.at, self.n, self.fired = set(at), 0, 0

    def wrap(self, real):
        def wrapped(*args, **kw):
            self.n += 1
            if self.n in self.at:
                self.fired += 1
                raise KeyboardInterrupt
            return real(*args, **kw)

        return wrapped

    def install(self, monkeypatch, hook):
        if hook == "problem":
            for name in METHODS:
                monkeypatch.setattr(_Problem, name, self.wrap(getattr(_Problem, name)))
        else:
            monkeypatch.setattr(time, "monotonic", self.wrap(time.monotonic))


class Escaped(AssertionError):
    """A Ctrl-C reached the caller where a result was due (pytest itself would stop on the
    KeyboardInterrupt)."""


def call(ctrl_c, fn, *args, **kw):
    """``fn(...)``; None when the second of two Ctrl-Cs reached the caller (documented: one
    while the interrupted result is made); Escaped for a first one that reached it."""
    try:
        return fn(*args, **kw)
    except KeyboardInterrupt:
        if ctrl_c.fired >= 2:
            return None
        raise Escaped("KeyboardInterrupt escaped") from None


def global_state():
    import numba
    from threadpoolctl import threadpool_info

    return (np.geterr(), signal.getsignal(signal.SIGINT), numba.get_num_threads(),
            owlqn_compiled.ENABLED,
            {(d["internal_api"], d["filepath"]): d["num_threads"] for d in threadpool_info()})


def same_state(a, b):
    common = a[-1].keys() & b[-1].keys()  # (a library loaded in between is no change)
    return a[:-1] == b[:-1] and all(a[-1][c] == b[-1][c] for c in common)


def check_point(prob, res):
    """Finite, of the right shapes, its reports those of its arrays, history whole."""
    assert [w.shape for w in res.W] == [tuple(s) for s in prob.W_shapes]
    for arrs in (res.W, res.b or [], res.V or [], res.M1 or [], res.M2 or []):
        assert all(np.all(np.isfinite(a)) for a in arrs)
    assert res.Phi == pytest.approx(prob.Phi(res.W, res.b), rel=1e-9, abs=1e-12)
    hist = res.history or []
    assert all(set(r) == set(hist[0]) for r in hist)  # no half-written record
    if res.solver == "alm":
        assert len(hist) == res.nit
        assert res.objective == pytest.approx(prob.F(res.W, res.b, res.V), rel=1e-9, abs=1e-12)
        rep = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
        assert res.kkt["residual"] == pytest.approx(rep["residual"], rel=1e-7, abs=1e-12)
        if res.status != "converged":  # the best of the start and the records
            cands = ([res.start["residual"]] if res.start else []) + [r["residual"] for r in hist]
            assert not cands or res.kkt["residual"] <= min(cands)
    elif hist and res.solver != "ipopt":  # baselines: the best checkpoint
        assert res.Phi == pytest.approx(min(r["Phi"] for r in hist), rel=1e-9, abs=1e-12)


def _alm(**kw):
    return lambda prob: solve_alm(prob, max_iter=8, **kw)


def _python_loop(prob):
    owlqn_compiled.ENABLED = False
    try:
        return solve_alm(prob, max_iter=8)
    finally:
        owlqn_compiled.ENABLED = True


def _baseline(name):
    def run(prob):
        from liftnet.solvers.baselines import BASELINES

        return BASELINES[name](prob, max_epochs=10)

    return run


SOLVERS = {
    "alm_compiled": _alm(),
    "alm_python_loop": _python_loop,
    "alm_proxgrad": _alm(inner="proxgrad", max_inner=100),
    "alm_presolve": _alm(presolve=0.5),
    "alm_no_polish": _alm(polish_weights=False),
    **{name: _baseline(name) for name in ("prox_gradient", "sgd", "adam", "prox_sgd", "prox_adam")},
}


_WARM = set()


def cases():
    out = []
    for name in SOLVERS:
        for hook, ks in (("problem", (1, 4, 11, 23)), ("clock", (1, 2, 6, 17))):
            for k in ks:
                for at in ((k,), (k, k + 1)) if k in (4, 6) else ((k,),):
                    out.append(pytest.param(name, hook, at,
                                            id=f"{name}-{hook}-{'+'.join(map(str, at))}"))
    return out


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name,hook,at", cases())
def test_ctrl_c_returns_the_best_point(name, hook, at, monkeypatch, quiet):
    prob = small_problem()
    if name not in _WARM:  # (imports and kernels loaded once, outside the count)
        SOLVERS[name](prob)
        _WARM.add(name)
    before = global_state()
    ctrl_c = CtrlC(at)
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, hook)
        res = call(ctrl_c, SOLVERS[name], prob)
    assert same_state(before, global_state())
    assert ctrl_c.fired >= 1
    if res is None:
        return
    assert res.status == "interrupted"
    check_point(prob, res)


@pytest.mark.parametrize("hook,k", [
    ("clock", 1),
    ("problem", 1), ("problem", 5), ("clock", 3), ("problem", 30)])
def test_ctrl_c_in_a_path(hook, k, monkeypatch, quiet):
    """Points kept up to the interrupted one, which ends the path (before the first solve's
    own set-up: KeyboardInterrupt)."""
    prob = small_problem()
    ctrl_c = CtrlC((k,))
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, hook)
        path = call(ctrl_c, solve_alm_path, prob, [3e-2, 1e-2, 3e-3], max_iter=4)
    # (these Ctrl-Cs all land in the first solve: the later ones are the next test's)
    assert ctrl_c.fired == 1 and [r.status for r in path] == ["interrupted"]
    assert path[0].lam == 3e-2
    check_point(prob.with_lam(path[0].lam), path[0])


def _path_marks(prob, lams, hook, monkeypatch):
    """``(first call, last call, status)`` of each solve of an uninterrupted path, its calls
    numbered as :class:`CtrlC` numbers them: where a Ctrl-C lands in the second solve, between
    two solves or in the third, found afresh (no count that a change of the solver moves)."""
    import liftnet.solvers.alm as alm

    alm.warm_up(prob.dtype)  # (a first solve's warm-up, with solves of its own, not counted)
    counter, marks, real, depth = CtrlC(()), [], alm.solve_alm, [0]

    def recorded(*args, **kw):
        first = counter.n + 1
        depth[0] += 1
        try:
            res = real(*args, **kw)
        finally:
            depth[0] -= 1
        if depth[0] == 0:  # the path's own solves
            marks.append((first, counter.n, res.status))
        return res

    with monkeypatch.context() as mp:
        counter.install(mp, hook)
        mp.setattr(alm, "solve_alm", recorded)  # (solve_alm_path imports it at each call)
        solve_alm_path(prob, lams, max_iter=4)
    return marks


@pytest.mark.parametrize("hook,where", [
    ("problem", "second solve"), ("clock", "second solve"), ("problem", "between"),
    ("problem", "third solve"), ("clock", "third solve")])
def test_ctrl_c_later_in_a_path(hook, where, monkeypatch, quiet):
    """A Ctrl-C in the second or third solve ends the path there: the points before it as
    they were, the interrupted one last; one between two solves ends it with the points
    finished before it (solve_alm_path's docstring). The test before only ever interrupted
    the first solve, and a path that kept only its last point passed it (a test audit)."""
    prob, lams = small_problem(), [3e-2, 1e-2, 3e-3]
    marks = _path_marks(prob, lams, hook, monkeypatch)
    assert len(marks) == 3
    done = [status for _, _, status in marks]
    (_, _, _), (a2, b2, _), (a3, b3, _) = marks
    if where == "between":
        assert b2 + 1 < a3  # the path's own work between the solves calls the model
        k, expected = b2 + 1, done[:2]
    elif where == "second solve":
        k, expected = (a2 + b2) // 2, [done[0], "interrupted"]
    else:
        k, expected = (a3 + b3) // 2, [*done[:2], "interrupted"]
    ctrl_c = CtrlC((k,))
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, hook)
        path = call(ctrl_c, solve_alm_path, prob, lams, max_iter=4)
    assert ctrl_c.fired == 1 and [r.status for r in path] == expected
    assert [r.lam for r in path] == lams[:len(path)]
    for r in path:
        check_point(prob.with_lam(r.lam), r)


@pytest.mark.parametrize("hook,k", [
    ("clock", 1), ("problem", 1), ("problem", 7),
    ("clock", 4)])
def test_ctrl_c_in_the_estimator_keeps_the_fit(hook, k, monkeypatch, quiet):
    from liftnet import SparseLeakyReLUNet

    X, Y, _, _ = make_teacher(30, (3, 4, 1), alpha=0.1, noise=0.1, seed=0)
    est = SparseLeakyReLUNet(hidden=(4,), max_iter=6, lam=1e-2).fit(X, Y.ravel())
    ctrl_c = CtrlC((k,))
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, hook)
        call(ctrl_c, est.fit, X, Y.ravel())
    assert ctrl_c.fired == 1 and est.result_.status == "interrupted"
    assert np.all(np.isfinite(est.predict(X)))


@pytest.mark.parametrize("hook,at", [("problem", (1,)), ("problem", (9,)), ("clock", (1,)),
                                     ("clock", (3,)), ("clock", (3, 4))])
def test_ctrl_c_in_the_cli_solve(hook, at, monkeypatch, tmp_path, quiet):
    """Exit 130, with both files written (the report says ``interrupted`` and the npz holds
    its finite point), or "nothing to save" and no file before the solver has a point; never
    a traceback. (The original asked for any file *or* the message: a solve that wrote the
    report alone, no ``PREFIX.npz``, passed.)"""
    from liftnet.cli import main

    out = str(tmp_path / "run")
    ctrl_c = CtrlC(at)
    err = io.StringIO()
    with monkeypatch.context() as mp, contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        ctrl_c.install(mp, hook)
        rc = call(ctrl_c, main, ["solve", "--hidden", "4", "--max-iter", "4", "--quiet",
                                 "--data", "teacher", "--n-samples", "40", "--out", out])
    assert ctrl_c.fired >= 1 and rc == 130 and "Traceback" not in err.getvalue()
    files = sorted(glob.glob(out + "*"))
    if "nothing to save" in err.getvalue():
        assert files == []
        return
    assert files == [out + ".json", out + ".npz"], (files, err.getvalue())
    rep = json.loads(open(out + ".json").read())
    assert rep["status"] == "interrupted"
    W = load_result(out + ".npz")["W"]
    assert [w.shape for w in W] == [(4, 10), (2, 4)] and all(np.all(np.isfinite(w)) for w in W)


@pytest.mark.parametrize("k", [7, 9])
def test_ctrl_c_in_the_multiplier_estimate(k, monkeypatch):
    """kkt_residuals without multipliers: a Ctrl-C in the estimate's iterations gives its
    best multipliers so far, the report that of those multipliers."""
    prob = small_problem()
    W, b = prob.initial_weights(0)
    ctrl_c = CtrlC((k,))
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, "problem")
        rep = call(ctrl_c, kkt_residuals, prob, W, b)
    assert ctrl_c.fired == 1 and rep["estimate"]["status"] == "interrupted"
    again = kkt_residuals(prob, W, b, None, rep["M1"], rep["M2"])
    assert again["residual"] == pytest.approx(rep["residual"], rel=1e-9, abs=1e-14)
    assert all(np.all(m >= 0) and np.all(np.isfinite(m)) for m in (*rep["M1"], *rep["M2"]))


@pytest.mark.parametrize("hook,k", [
    ("problem", 5), ("problem", 12), ("problem", 20),
    ("clock", 2), ("clock", 3)])
def test_ctrl_c_in_ipopt(hook, k, monkeypatch, quiet):
    pytest.importorskip("pyomo")
    from liftnet import solve_ipopt

    prob = small_problem()
    if solve_ipopt(prob, max_iter=5).status == "failed":
        pytest.skip("no IPOPT")
    ctrl_c = CtrlC((k,))
    with monkeypatch.context() as mp:
        ctrl_c.install(mp, hook)
        res = call(ctrl_c, solve_ipopt, prob, max_iter=30)
    assert ctrl_c.fired == 1 and res.status == "interrupted"
    check_point(prob, res)
    rep = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    assert res.kkt["residual"] == pytest.approx(rep["residual"], rel=1e-7, abs=1e-12)


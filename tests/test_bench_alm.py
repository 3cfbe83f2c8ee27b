"""benchmarks/bench_alm.py: the parts it times are those of group OWL-QN's iteration."""

import os
import sys

import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.solvers import owlqn_compiled, quasi_newton
from liftnet.solvers.quasi_newton import CompactLBFGS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_alm  # noqa: E402 (the benchmarks folder on the path)
from _helpers import bench_problem  # noqa: E402


def test_the_lbfgs_part_is_the_solvers_push_and_direction(monkeypatch):
    """group OWL-QN pushes pseudo-gradient pairs and asks for the direction of the vector it
    pushed (its products with the memory reused: ``apply(q, grad=q)``). The benchmark pushed
    gradients and asked for another vector's direction, a pass over the ``W`` blocks that no
    iteration makes (a review, 2026-12-07)."""
    pushed, applied = [], []
    push, apply = CompactLBFGS.push, CompactLBFGS.apply

    def record_push(self, x, x_new, g, g_new):
        pushed.append(g_new)
        return push(self, x, x_new, g, g_new)

    def record_apply(self, q, scales, sign=1.0, *, grad=None, **kw):
        applied.append((q is grad, q is pushed[-1] if pushed else False))
        return apply(self, q, scales, sign, grad=grad, **kw)

    monkeypatch.setattr(CompactLBFGS, "push", record_push)
    monkeypatch.setattr(CompactLBFGS, "apply", record_apply)
    with bench_alm.forced(owlqn_compiled, "ENABLED", False):  # the solver's calls, seen too
        _, _, loop, *_ = bench_alm.inner_iteration_cost(bench_problem(), n_iter=5, repeats=1)
    assert loop == "python" and applied
    assert all(same for same, _ in applied)  # the solver's own calls and the benchmark's
    assert all(last for _, last in applied)


@pytest.mark.parametrize("dtype, loop", [(np.float64, "compiled"), (np.float32, "python")])
def test_the_loop_timed_is_named_and_the_python_loop_timed_beside_it(dtype, loop):
    """Small float64 problems iterate in the compiled loop, whose parts cannot be timed
    apart: the row names the loop, and the Python loop's iteration (of which ``eval_ms`` and
    ``lbfgs_ms`` are parts) is timed as well."""
    per_it, evals, name, per_py, per_eval, per_qn, qn_floor = bench_alm.inner_iteration_cost(
        bench_problem(dtype), n_iter=5, repeats=1)
    assert name == loop
    assert evals >= 1.0 + 1.0 / 5  # the start's evaluation counts
    assert all(t > 0 and np.isfinite(t) for t in (per_it, per_py, per_eval, per_qn, qn_floor))
    if loop == "python":
        assert per_py == per_it


# ``qn_floor_ms`` (the L-BFGS's own matrix products, the second floor of ``ratio_all``)
# multiplies as many entries as the push and the direction that ``lbfgs_ms`` times. On the path
# of products by difference (``2 m n >= _REUSE_FROM``, every benchmark row) the push also forms
# the rows' products with the new ``y`` on the group norm's blocks: a third product, over the
# ``W`` columns (38% of the MNIST-shaped N = 1000's variables), that the floor left out (a
# review of the benchmark, session 54).
class _Counted(np.ndarray):
    """An array whose matrix products are counted (multiply-adds into ``log``)."""

    log: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        plain = [np.asarray(a) if isinstance(a, _Counted) else a for a in inputs]
        if ufunc is np.matmul:
            a, b = plain
            _Counted.log.append(int(np.prod(a.shape)) if a.ndim == 2 else int(np.prod(b.shape)))
        return getattr(ufunc, method)(*plain, **kw)


def test_the_lbfgs_floor_has_the_products_of_the_push_and_the_direction(monkeypatch):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((200, 100)), rng.standard_normal((200, 2))
    prob = LiftedProblem(X, Y, hidden=(100, 50), lam=1e-2, bias=True)
    timed = []
    monkeypatch.setattr(bench_alm, "timed", lambda f, repeats, n=1: timed.append(f) or 1.0)
    bench_alm.inner_iteration_cost(prob, n_iter=6, repeats=1)
    _, quasi_newton_work, qn_products = timed[-3:]
    quasi_newton_work()  # as the benchmark's repeats find it: each push finds the last gradient

    # the solver's products in the benchmark's own push and direction (two steps): the push's
    # through _block_products, the direction's one pass over the 2k rows
    made, passes = [], []
    block_products, apply = CompactLBFGS._block_products, CompactLBFGS.apply

    def counted_products(self, v, k, first=0, last=None):
        end = len(self.blocks) if last is None else last
        made.append(2 * k * int(self.bounds[end] - self.bounds[first]))
        return block_products(self, v, k, first, last)

    def counted_apply(self, q, *args, **kw):
        passes.append(2 * len(self.order) * q.size)
        return apply(self, q, *args, **kw)

    monkeypatch.setattr(CompactLBFGS, "_block_products", counted_products)
    monkeypatch.setattr(CompactLBFGS, "apply", counted_apply)
    quasi_newton_work()
    lbfgs = next(c.cell_contents for c in quasi_newton_work.__closure__
                 if isinstance(c.cell_contents, CompactLBFGS))
    assert 2 * lbfgs.m * lbfgs.Z.shape[1] >= quasi_newton._REUSE_FROM  # the benchmark's path
    per_step = (sum(made) + sum(passes)) / 2
    assert sum(made) / 2 > 2 * len(lbfgs.order) * lbfgs.Z.shape[1]  # the direct products made

    # the floor's products, counted by swapping its arrays for counted views
    _Counted.log = []
    for cell in qn_products.__closure__:
        if isinstance(cell.cell_contents, np.ndarray):
            cell.cell_contents = cell.cell_contents.view(_Counted)
    qn_products()
    assert sum(_Counted.log) == per_step


def test_the_solves_evaluations_are_counted_over_its_inner_solves_only(monkeypatch):
    """``solve_evals_per_it`` counts the inner iterations and value evaluations of the ALM's
    subproblem solves (the weight polish's solves left out): its iterations are those of the
    history's records, and every solve makes one evaluation more than its iterations (its
    start) plus the line search's backtracks."""
    from liftnet import solve_alm
    from liftnet.solvers import alm

    prob = bench_problem()
    solves = []
    solve = alm.group_owlqn

    def recorded(sub, x0, **kw):
        x, info = solve(sub, x0, **kw)
        solves.append((isinstance(sub, alm._WeightsOnly), info.nit, info.n_backtracks))
        return x, info

    alm.warm_up(prob.dtype)  # (as run() does: the kernels' warm-up solves tiny problems)
    monkeypatch.setattr(alm, "group_owlqn", recorded)
    with bench_alm.counted_inner() as counts:
        res = solve_alm(prob, tol=1e-6, seed=0, max_iter=8, polish_weights=True)
    assert res.status in ("converged", "max_iter")  # (every solve recorded: no clock)
    assert alm.group_owlqn is recorded  # put back as it was
    assert counts[0] == sum(h["inner_iterations"] for h in res.history) > 0
    inner = [(nit, bt) for polish, nit, bt in solves if not polish]
    assert counts[1] == sum(nit + 1 + bt for nit, bt in inner)

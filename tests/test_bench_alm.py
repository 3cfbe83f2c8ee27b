"""benchmarks/bench_alm.py: the parts it times are those of group OWL-QN's iteration."""

import os
import sys

import numpy as np
import pytest

from liftnet.solvers import owlqn_compiled
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

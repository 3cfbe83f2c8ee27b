"""benchmarks/bench_lbfgs.py: each column times the path it names, and the switch is restored."""

import os
import sys

import numpy as np
import pytest

import liftnet.solvers.quasi_newton as qn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_lbfgs  # noqa: E402 (the benchmarks folder on the path)


@pytest.mark.parametrize("small, compiled", [(bench_lbfgs.ALWAYS, True),
                                             (bench_lbfgs.NEVER, False)])
def test_forced_switch_takes_one_path_and_is_restored(monkeypatch, small, compiled):
    calls = []
    original = qn._apply_compiled

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(qn, "_apply_compiled", counting)
    before = qn._SMALL
    t = bench_lbfgs.lbfgs_seconds(96, 2, np.float64, small, repeats=1, calls=2)
    assert np.isfinite(t) and t > 0
    assert bool(calls) == compiled
    assert qn._SMALL == before

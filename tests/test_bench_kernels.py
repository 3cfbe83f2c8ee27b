"""benchmarks/bench_kernels.py: each column times the driver it names, and the switch is
restored."""

import os
import sys

import numpy as np
import pytest

import liftnet.solvers.kernels as K

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_kernels  # noqa: E402 (the benchmarks folder on the path)


@pytest.mark.parametrize("min_size, driver", [(bench_kernels.SERIAL, "serial"),
                                              (bench_kernels.PARALLEL, "parallel"),
                                              (None, None)])
def test_forced_switch_takes_one_driver_and_is_restored(monkeypatch, min_size, driver):
    calls = []
    for name in ("_value_serial", "_value_parallel", "_gradient_serial", "_gradient_parallel"):
        original = getattr(K, name)

        def counting(*args, _f=original, _name=name):
            calls.append(_name.split("_")[-1])
            return _f(*args)

        monkeypatch.setattr(K, name, counting)
    before = K._PARALLEL_MIN_SIZE
    t = bench_kernels.layer_seconds(5, 4, 3, 7, np.float64, min_size, repeats=1, calls=2)
    assert np.isfinite(t) and t > 0
    assert set(calls) == (set() if driver is None else {driver})
    assert len(calls) == (0 if driver is None else 2 * 3)  # 2 kernels, warm-up + 2 calls
    assert K._PARALLEL_MIN_SIZE == before

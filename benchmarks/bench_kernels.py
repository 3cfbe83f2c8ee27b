"""The two drivers of the compiled entrywise kernels, timed in one process (issue 2).

:mod:`liftnet.solvers.kernels` runs each hidden layer's fused value and gradient passes either
on one core (``_value_serial``, ``_gradient_serial``) or on all of numba's threads
(``_value_parallel``, ``_gradient_parallel``). Where it switches is the constant
``_PARALLEL_MIN_SIZE`` on the layer's entries ``n_l N``. This prints, for the layer shapes of
the digits and of the MNIST-shaped data of ``bench_alm.py``, the time of one hidden layer's
share of an evaluation of ``L_rho`` as the ALM does it in branch coordinates: the product
``W_l V_{l-1}``, the value kernel, the product ``W_{l+1}^T D_{l+1}``, the gradient kernel and the
product ``D_l V_{l-1}^T``, with each driver forced in turn; the products alone (the floor of
``bench_alm.py``); the ratio parallel / serial (below 1 the parallel driver is faster), and the
driver the current ``_PARALLEL_MIN_SIZE`` takes. The kernels run between BLAS products because
that is where they run in a solve: the two compete for the cores there.

    .venv/bin/python benchmarks/bench_kernels.py            # about 25 s
    .venv/bin/python benchmarks/bench_kernels.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext

import numba
import numpy as np

import liftnet.solvers.kernels as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_alm import forced, timed  # noqa: E402 (the folder on the path)

#: ``_PARALLEL_MIN_SIZE`` values that force one driver: every layer serial, or every parallel
SERIAL, PARALLEL = 1 << 62, 0
_DIGITS = ((64, 32, 16, 1347), (32, 16, 10, 1347))
_MNIST = ((784, 256, 128), (256, 128, 10))


def layer_seconds(n_prev, n, n_next, N, dtype, min_size, repeats=3, calls=10, seed=0):
    """Seconds of one hidden layer's products and kernels (``n_l = n`` units between widths
    ``n_prev`` and ``n_next``, ``N`` samples) with ``_PARALLEL_MIN_SIZE = min_size`` (restored
    after; ``None``: the products alone)."""
    rng = np.random.default_rng(seed)

    def draw(*shape, positive=False):
        a = rng.standard_normal(shape).astype(dtype)
        return np.abs(a) if positive else a

    W, Wn, Vp, Dn = draw(n, n_prev), draw(n_next, n), draw(n_prev, N), draw(n_next, N)
    S, C = draw(n, N), draw(n, N, positive=True)
    M1, M2 = draw(n, N, positive=True), draw(n, N, positive=True)
    U, V, G = (np.empty((n, N), dtype=dtype) for _ in range(3))
    # D is read by the last product before the gradient kernel writes it (and with the
    # products alone, never written): drawn, not np.empty, whose leftover bytes overflowed
    # float32's matmul (a RuntimeWarning in the products-only row, session 42)
    D = draw(n, N)
    gW = np.empty((n, n_prev), dtype=dtype)
    no_b = K.not_given(dtype, 1)
    alpha, rho, c = 0.1, 1.0, 1.0 / N

    def layer():
        np.matmul(W, Vp, out=U)
        if min_size is not None:
            K.layer_value(U, no_b, S, C, M1, M2, V, alpha, rho, 0)
        np.matmul(Wn.T, Dn, out=G)
        if min_size is not None:
            K.layer_gradient(U, V, C, M1, M2, G, D, alpha, rho, c, 0)
        np.matmul(D, Vp.T, out=gW)

    with nullcontext() if min_size is None else forced(K, "_PARALLEL_MIN_SIZE", min_size):
        layer()  # compiled code loaded, pages touched
        return timed(layer, repeats, calls)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the digits and N = 1000 only")
    args = ap.parse_args(argv)
    Ns = (1000,) if args.quick else (1000, 4000, 16000, 60000)
    cases = [(*s, np.float64) for s in _DIGITS]
    cases += [(*s, N, np.float32) for N in Ns for s in _MNIST]
    if not args.quick:
        cases += [(*s, 4000, np.float64) for s in _MNIST]
    for dtype in {c[-1] for c in cases}:
        K.warm_up_parallel(dtype)
    print(f"_PARALLEL_MIN_SIZE = {K._PARALLEL_MIN_SIZE:,} entries n_l N "
          f"(parallel from there); numba threads {numba.get_num_threads()}, "
          f"layer {numba.config.THREADING_LAYER}")
    print(f"{'dtype':>8} {'widths':>12} {'N':>6} {'n_l N':>10} {'products_ms':>11} "
          f"{'serial_ms':>9} {'parallel_ms':>11} {'ratio':>6} {'taken':>8}")
    for n_prev, n, n_next, N, dtype in cases:
        big = n * N > 1e6
        repeats, calls = (3, 2) if big else (5, 20)
        kw = {"repeats": repeats, "calls": calls}
        floor = layer_seconds(n_prev, n, n_next, N, dtype, None, **kw)
        ser = layer_seconds(n_prev, n, n_next, N, dtype, SERIAL, **kw)
        par = layer_seconds(n_prev, n, n_next, N, dtype, PARALLEL, **kw)
        taken = "parallel" if n * N >= K._PARALLEL_MIN_SIZE else "serial"
        print(f"{np.dtype(dtype).name:>8} {f'{n_prev}-{n}-{n_next}':>12} {N:>6} {n * N:>10,} "
              f"{floor * 1e3:>11.3f} {ser * 1e3:>9.3f} {par * 1e3:>11.3f} {par / ser:>6.2f} "
              f"{taken:>8}", flush=True)


if __name__ == "__main__":
    main()

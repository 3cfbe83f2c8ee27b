"""The two paths of the compact L-BFGS product, timed in one process (issue 2).

:class:`liftnet.solvers.quasi_newton.CompactLBFGS` forms its block products ``Z[:2k] v`` and
the direction of :meth:`~CompactLBFGS.apply` either in one compiled call (small memories) or
by BLAS per block (large ones). Where it switches is the constant ``_SMALL`` on ``2 k n``
(``k`` pairs held, ``n`` entries). This prints, for sizes around the switch, the time of one
inner iteration's L-BFGS work (a :meth:`~CompactLBFGS.push` and an
:meth:`~CompactLBFGS.apply` with the pushed vector, as :func:`group_owlqn` does them) on each
path, their ratio (compiled / BLAS: below 1 the compiled path is faster) and the path the
current ``_SMALL`` takes. The memory is full (``m`` pairs), the pairs have positive curvature
(every push stores one), and each push starts where the last one ended, as in a solve. Five
blocks, the first one ``direct`` (the group norm's).

    .venv/bin/python benchmarks/bench_lbfgs.py            # about 20 s
    .venv/bin/python benchmarks/bench_lbfgs.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import liftnet.solvers.quasi_newton as qn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_alm import forced, timed  # noqa: E402 (the folder on the path)

#: ``_SMALL`` values that force one path: every size compiled, or none
ALWAYS, NEVER = 1 << 62, -1
#: points in the ring of iterates (four vectors and their gradients: a few memories' worth)
_RING = 4


def lbfgs_seconds(n, m, dtype, small, n_blocks=5, repeats=5, calls=20, seed=0):
    """Seconds per push + apply on a full memory of ``m`` pairs of ``n`` entries, with
    ``_SMALL = small`` (restored after)."""
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    mem = qn.CompactLBFGS(n, m, blocks, dtype=dtype, direct=int(edges[1]))
    # a ring of points walked in order, as a solve walks its iterates: each push starts at the
    # last one's end, so the products kept from it are reused (CompactLBFGS.push)
    xs = [rng.standard_normal(n).astype(dtype) for _ in range(_RING)]
    # gradients of a convex quadratic plus noise: s.y > 0, every pair is stored
    gs = [(2.0 * x + 0.1 * rng.standard_normal(n)).astype(dtype) for x in xs]
    scales = np.ones(n_blocks)
    step = 0

    def iteration():
        nonlocal step
        i, j = step % _RING, (step + 1) % _RING
        mem.push(xs[i], xs[j], gs[i], gs[j])
        mem.apply(gs[j], scales, sign=-1.0, grad=gs[j])
        step += 1

    with forced(qn, "_SMALL", small):
        for _ in range(m + 1):  # fill the memory
            iteration()
        return timed(iteration, repeats, calls)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="three sizes, float64 only")
    args = ap.parse_args(argv)
    sizes = (2**16, 2**17, 2**18) if args.quick else (2**15, 2**16, 2**17, 2**18, 2**19, 2**20)
    dtypes = (np.float64,) if args.quick else (np.float64, np.float32)
    print(f"_SMALL = 2^{qn._SMALL.bit_length() - 1} = {qn._SMALL:,} (compiled when 2 k n <= it)")
    print(f"{'dtype':>8} {'n':>9} {'m':>3} {'2mn':>9} {'BLAS_ms':>8} {'compiled_ms':>11} "
          f"{'ratio':>6} {'taken':>9}")
    for dtype in dtypes:
        for n in sizes:
            for m in (5, 10):
                t_blas = lbfgs_seconds(n, m, dtype, NEVER)
                t_comp = lbfgs_seconds(n, m, dtype, ALWAYS)
                taken = "compiled" if 2 * m * n <= qn._SMALL else "BLAS"
                print(f"{np.dtype(dtype).name:>8} {n:9d} {m:3d} {2 * m * n:9.2e} "
                      f"{1e3 * t_blas:8.3f} {1e3 * t_comp:11.3f} {t_comp / t_blas:6.2f} "
                      f"{taken:>9}", flush=True)


if __name__ == "__main__":
    main()

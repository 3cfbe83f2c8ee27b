"""Same iterates to the bit? Hashes of the end points of solves cut by iteration counts.

A change meant to leave the solver's arithmetic alone (bookkeeping, fewer numpy calls, another
memory layout) must leave every iterate as it was. This script runs a fixed set of ALM solves,
each bounded by its outer iteration count only (no clock: the same iterates on one machine
whatever its load), and prints per case a hash of the end point ``(W, b, V, M1, M2)``, its
status, outer and inner iterations, KKT residual, and the time (the best of ``--repeats``
runs, every one of which must end at the same hash: else ``UNSTABLE``). Run it before and after
a change, or with ``PYTHONPATH`` at an older checkout in the same session: equal hashes mean
the same iterates; the ``ms/inner`` column compares speed (alternate the two, the machine's
speed drifts). Session 37 checked its bookkeeping change this way (docs/benchmarks.md).

    .venv/bin/python benchmarks/fingerprint.py                  # every case, about 30 s
    .venv/bin/python benchmarks/fingerprint.py --cases teacher400 digits --repeats 3

``--loops`` runs every case with both inner loops of group OWL-QN in one process, in turn
(``--repeats`` rounds of Python then compiled): the Python loop, and the compiled loop of small
float64 problems (``liftnet/solvers/owlqn_compiled.py``, which the ALM takes where it applies);
it prints both hashes (equal: the same iterates to the bit), the best ms per inner iteration of
each and their ratio. Cases the compiled loop does not take (float32, the proximal gradient)
run the Python loop both times.

    .venv/bin/python benchmarks/fingerprint.py --loops --repeats 2
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np
from bench_args import no_repeats, positive_int, rows_until_ctrl_c, stop_if_interrupted
from bench_ipopt import teacher_problem

from liftnet import LiftedProblem, solve_alm
from liftnet.datasets import load_digits_problem, make_teacher
from liftnet.solvers.alm import warm_up


def _quick(dtype=np.float64, **kw):
    """The README quickstart's data (5-8-6-2 teacher, N = 200) with ``beta = 3``."""
    X, Y, _, _ = make_teacher(200, (5, 8, 6, 2), alpha=0.1, noise=0.1, seed=0)
    return LiftedProblem(X.astype(dtype), Y.astype(dtype), hidden=(8, 6), beta=3.0, lam=1e-2,
                         dtype=dtype, **kw)


def _digits():
    d = load_digits_problem()
    return LiftedProblem(d.X_train, d.Y_train, hidden=(32, 16), lam=1e-2)


def _presolved():
    """N = 2500: ``presolve="auto"`` solves a sixteenth of the samples first."""
    X, Y, _, _ = make_teacher(2500, (6, 10, 8, 2), alpha=0.1, noise=0.1, seed=1)
    return LiftedProblem(X, Y, hidden=(10, 8), lam=1e-3)


#: name -> (problem factory, solve_alm keywords): the paths the inner solver can take (branch and
#: model coordinates, biases, both couplings, float32, the proximal-gradient inner solver, the
#: presolve, a large V block)
CASES = {
    "teacher400": (lambda: teacher_problem(400, (8, 16, 16, 4)), {"max_iter": 5}),
    "quick_bias": (lambda: _quick(bias=True), {"max_iter": 12}),
    "squared": (lambda: _quick(bias=True, coupling="squared"), {"max_iter": 12}),
    "float32": (lambda: _quick(np.float32), {"max_iter": 12}),
    "proxgrad": (_quick, {"max_iter": 8, "inner": "proxgrad"}),
    "digits": (_digits, {"max_iter": 4}),
    "presolve": (_presolved, {"max_iter": 4}),
}


def fingerprint(res) -> str:
    """The first 12 hex digits of the SHA-1 of the end point's arrays, in a fixed order."""
    h = hashlib.sha1()
    for a in [*res.W, *(res.b or []), *res.V, *res.M1, *res.M2]:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def run_case(name, repeats):
    """``(hash, result, best seconds)`` of ``repeats`` solves of case ``name`` (the hash
    ``UNSTABLE`` when they did not all end at the same point)."""
    make, kw = CASES[name]
    prob = make()
    hashes, best, res = set(), np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = stop_if_interrupted(solve_alm(prob, tol=1e-6, seed=0, **kw))
        best = min(best, time.perf_counter() - t0)
        hashes.add(fingerprint(res))
    return hashes.pop() if len(hashes) == 1 else "UNSTABLE", res, best


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES),
                    help="which solves (default: all)")
    ap.add_argument("--repeats", type=positive_int, default=1,
                    help="solves per case: the time is the best, the hash must not change")
    ap.add_argument("--loops", action="store_true",
                    help="each case with the Python and the compiled inner loop in turn: "
                         "both hashes, ms per inner iteration and their ratio")
    return ap


def compare_loops(name, repeats):
    """``(hash with the Python loop, hash with the compiled one, best s of each, result)``:
    ``repeats`` rounds of one solve with each loop (``owlqn_compiled.ENABLED``), in turn."""
    from liftnet.solvers import owlqn_compiled

    make, kw = CASES[name]
    prob = make()
    hashes = {False: set(), True: set()}
    best = {False: np.inf, True: np.inf}
    res = None
    try:
        for _ in range(repeats):
            for compiled in (False, True):
                owlqn_compiled.ENABLED = compiled
                t0 = time.perf_counter()
                res = stop_if_interrupted(solve_alm(prob, tol=1e-6, seed=0, **kw))
                best[compiled] = min(best[compiled], time.perf_counter() - t0)
                hashes[compiled].add(fingerprint(res))
    finally:
        owlqn_compiled.ENABLED = True
    digest = {c: h.pop() if len(h) == 1 else "UNSTABLE" for c, h in hashes.items()}
    return digest[False], digest[True], best[False], best[True], res


def main(argv=None):
    """Prints one row per case and returns the rows; Ctrl-C stops the whole script (the rows
    finished before it, then ``SystemExit(130)``)."""
    ap = build_parser()
    args = ap.parse_args(argv)
    no_repeats(ap, args, "cases")

    def work(rows):
        warm_up()  # compiling (or loading) the kernels is not the solves' time
        warm_up(np.float32)
        if args.loops:
            print("case | hash (Python loop) | hash (compiled) | inner | ms/inner Python | "
                  "ms/inner compiled | ratio")
            for name in args.cases:
                hp, hc, tp, tc, res = compare_loops(name, args.repeats)
                rows.append((name, hp, hc, tp, tc))
                n = max(res.n_inner, 1)
                print(f"{name} | {hp} | {hc} | {res.n_inner} | {1e3 * tp / n:.3f} | "
                      f"{1e3 * tc / n:.3f} | {tp / tc:.2f}", flush=True)
            return
        print("case | hash | status | outer | inner | kkt | time_s | ms/inner")
        for name in args.cases:
            digest, res, t = run_case(name, args.repeats)
            rows.append((name, digest, res, t))
            print(f"{name} | {digest} | {res.status} | {len(res.history)} | {res.n_inner} | "
                  f"{res.kkt['residual']:.6e} | {t:.2f} | {1e3 * t / max(res.n_inner, 1):.3f}",
                  flush=True)

    return rows_until_ctrl_c(work)


if __name__ == "__main__":
    main()

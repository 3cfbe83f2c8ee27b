"""The multiplier estimate of the KKT check: interior point against L-BFGS-B and projected BB.

``kkt_residuals(prob, W, b, V)`` without multipliers first estimates the best ones
(MODEL.md section 7; :mod:`liftnet.verification.multipliers`). This times the methods of
``estimate_multipliers`` on the same points, in one process:

* ``ip-kkt``: the interior point stopped when the KKT residual stops improving (1% in 5
  iterations): what ``kkt_residuals`` runs;
* ``ip``: the interior point solving the convex program to its tolerance;
* ``lbfgsb``: scipy's L-BFGS-B (30 pairs; liftnet's method until 2026-12), ``bb``: projected
  Barzilai-Borwein; both stopped at ``--cap`` seconds.

Points: the ALM's iterate after ``--outer`` outer iterations (deterministic: no time limit) on
the 8-16-16-4 teacher of ``bench_ipopt.py`` at several N and on the digits (hidden 32-16,
``lam`` 1e-2), and a network trained on (P) by full-batch proximal gradient on the digits,
lifted exactly (``V = sigma(U)``: the check of a network from any trainer). Reported: seconds,
the KKT residual the multipliers give (``kkt_residuals`` with them), the program's value, the
method's status, and the ratio of each method's time to ``ip-kkt``'s with its residual.

    python benchmarks/bench_multipliers.py --quick
    python benchmarks/bench_multipliers.py            # all points, L-BFGS-B and BB up to 120 s
"""

from __future__ import annotations

import argparse
import time

from bench_args import (
    no_repeats,
    positive_float,
    positive_int,
    stop_if_interrupted,
    until_ctrl_c,
)
from bench_ipopt import teacher_problem

from liftnet import LiftedProblem, kkt_residuals
from liftnet.datasets import load_digits_problem
from liftnet.solvers.alm import solve_alm, warm_up
from liftnet.solvers.baselines import prox_gradient
from liftnet.verification.kkt import ESTIMATE_PATIENCE
from liftnet.verification.multipliers import MultiplierLSQ, estimate_multipliers

METHODS = {
    "ip-kkt": {"method": "interior-point", "patience": ESTIMATE_PATIENCE},
    "ip": {"method": "interior-point"},
    "lbfgsb": {"method": "lbfgsb"},
    "bb": {"method": "bb"},
}


def points(Ns, outer, quick):
    """``(name, prob, W, b, V)`` of the points to check."""
    for N in Ns:
        prob = teacher_problem(N, (8, 16, 16, 4))
        res = stop_if_interrupted(solve_alm(prob, seed=0, max_iter=outer))
        yield f"teacher N={N}, ALM", prob, res.W, res.b, res.V
    if quick:
        return
    s = load_digits_problem(seed=0)
    prob = LiftedProblem(s.X_train, s.Y_train, hidden=(32, 16), lam=1e-2)
    res = stop_if_interrupted(solve_alm(prob, seed=0, max_iter=outer))
    yield "digits, ALM", prob, res.W, res.b, res.V
    pg = stop_if_interrupted(prox_gradient(prob, seed=0, max_epochs=500))
    yield "digits, prox. gradient (lifted)", prob, pg.W, pg.b, None


def run(Ns, outer, cap, methods, quick):
    head = (f"{'point':<32} {'method':<7} {'seconds':>8} {'KKT residual':>12} "
            f"{'value':>12} {'status':<10} {'time / ip-kkt':>13}")
    print(f"ALM points after {outer} outer iterations; L-BFGS-B and BB stopped at {cap:g} s")
    print(head)
    print("-" * len(head))
    warm_up()
    for name, prob, W, b, V in points(Ns, outer, quick):
        if V is None:
            V = prob.lift(W, b)
        lsq = MultiplierLSQ(prob, W, b, V)
        ref = None
        # ip-kkt first, whatever the order given: the ratio column is against its time (a
        # method listed before it had a blank ratio; a review, 2026-12-07)
        for meth in sorted(methods, key=lambda m: m != "ip-kkt"):
            limit = cap if meth in ("lbfgsb", "bb") else None
            t = time.perf_counter()
            M1, M2, info = estimate_multipliers(prob, W, b, V, time_limit=limit,
                                                return_info=True, **METHODS[meth])
            sec = time.perf_counter() - t
            if info["status"] == "interrupted":  # Ctrl-C: a cut estimate is no row
                raise KeyboardInterrupt
            r = kkt_residuals(prob, W, b, V, M1, M2)["residual"]
            value = lsq.value(lsq.pack(M1, M2))[0]
            ref = sec if meth == "ip-kkt" else ref
            ratio = f"{sec / ref:13.1f}" if ref else f"{'':>13}"
            print(f"{name:<32} {meth:<7} {sec:8.2f} {r:12.3e} {value:12.5e} "
                  f"{info['status']:<10} {ratio}", flush=True)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="teacher N = 100, 400 only, cap 20 s")
    p.add_argument("--Ns", type=positive_int, nargs="+", default=None)
    p.add_argument("--outer", type=positive_int, default=20,
                   help="ALM outer iterations of the points")
    p.add_argument("--cap", type=positive_float, default=None,
                   help="seconds for L-BFGS-B and BB (default 20 with --quick, else 120)")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    return p


def main(argv=None):
    """Prints the table; after Ctrl-C, ``SystemExit(130)`` below the rows finished."""
    p = build_parser()
    a = p.parse_args(argv)
    no_repeats(p, a, "Ns", "methods")
    Ns = a.Ns or ([100, 400] if a.quick else [100, 400, 1600])
    cap = a.cap if a.cap is not None else (20.0 if a.quick else 120.0)
    until_ctrl_c(run, Ns, a.outer, cap, a.methods, a.quick)


if __name__ == "__main__":
    main()

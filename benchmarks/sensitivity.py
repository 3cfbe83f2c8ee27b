"""How far one time-limited ALM run can be trusted: the same start perturbed by rounding.

The ALM is deterministic (same seed, same result), but the path of its inner solves on this
nonconvex problem is not stable under rounding: which line searches backtrack, which groups
are zeroed and when the penalty grows all depend on the last bits. This script solves the
digits problem of ``benchmarks/bench_alm.py`` from each seed's initial weights and from the same
weights multiplied entrywise by ``1 + eps * xi`` (``xi`` standard normal, ``eps = 1e-13`` by
default, a few units in the last place), with the same time limit, and prints one row per run.
The spread between a row and its perturbed twin is the noise floor of any single-run number
(status, time to converge, KKT residual at the limit) in the benchmarks and the closing notes.

    .venv/bin/python benchmarks/sensitivity.py                  # lam 3e-2, seeds 0-2, 30 s each
    .venv/bin/python benchmarks/sensitivity.py --lam 1e-2 --time-limit 20 --seeds 0 1
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_args import (
    finite_float,
    no_repeats,
    nonnegative_float,
    positive_float,
    rows_until_ctrl_c,
    seed_int,
    stop_if_interrupted,
)

from liftnet import LiftedProblem, solve_alm
from liftnet.datasets import load_digits_problem
from liftnet.solvers.alm import warm_up


def perturbed(W, eps, seed=12345):
    """``W`` multiplied entrywise by ``1 + eps * xi``, ``xi`` standard normal."""
    rng = np.random.default_rng(seed)
    return [w * (1.0 + eps * rng.standard_normal(w.shape)) for w in W]


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", type=nonnegative_float, default=3e-2)
    ap.add_argument("--time-limit", type=positive_float, default=30.0)
    ap.add_argument("--seeds", type=seed_int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--eps", type=finite_float, default=1e-13, help="relative perturbation")
    return ap


def main(argv=None):
    """Prints one row per run and returns the rows; Ctrl-C stops the whole script (the rows
    finished before it, then ``SystemExit(130)``)."""
    ap = build_parser()
    args = ap.parse_args(argv)
    no_repeats(ap, args, "seeds")

    def work(rows):
        split = load_digits_problem(seed=0)
        prob = LiftedProblem(split.X_train, split.Y_train, hidden=(32, 16), lam=args.lam,
                             bias=True)
        warm_up(prob.dtype)  # compiling the kernels is not the solver's time
        print("seed | start | status | time_s | kkt | inner | Phi")
        for seed in args.seeds:
            W, b = prob.initial_weights(seed)
            for name, W0 in (("seed", W), (f"x(1+{args.eps:g} xi)", perturbed(W, args.eps))):
                # Ctrl-C: stop the script, not only this run
                res = stop_if_interrupted(solve_alm(prob, tol=1e-6, time_limit=args.time_limit,
                                                    init={"W": W0, "b": b}))
                rows.append((seed, name, res))
                print(f"{seed} | {name} | {res.status} | {res.time:.1f} | "
                      f"{res.kkt['residual']:.2e} | {res.n_inner} | {res.Phi:.5f}", flush=True)

    return rows_until_ctrl_c(work)


if __name__ == "__main__":
    main()

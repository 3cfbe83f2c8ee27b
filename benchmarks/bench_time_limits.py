"""Time limits: how far past its ``time_limit`` each entry point returns (the overshoot).

The project promises that long runs honour a time limit. For each entry point, data set and
limit this times whole calls on the wall clock (``time.monotonic`` around the call, nothing
else inside) and prints the overshoot, wall time minus the limit (negative: the call ended
before its limit, converged or stopped by its own rule), as median and max over ``repeats``
calls with seeds 0, 1, ..., the statuses returned, the median ``time_excluded`` where the
result has one (seconds left out of the solver's own clock: reporting-only ``Phi`` evaluations,
callbacks) and the median overshoot beyond it (what the clock itself overran).

Entry points (``--entries``): ``alm`` (:func:`liftnet.solve_alm`), ``estimator``
(``SparseLeakyReLUNet(time_limit=...).fit``), ``path`` (:func:`liftnet.solve_alm_path` on two
``lam``; the limit is per point, so the overshoot is against twice the limit and
``time_excluded`` is the points' sum), ``prox_gradient`` (full-batch proximal gradient) and
``adam`` (:mod:`liftnet.solvers.baselines`), ``kkt`` (:func:`liftnet.kkt_residuals` without
multipliers: its limit is on the multiplier estimate's iterations only, the set-up and the
final reports are not cut, so a small limit is overrun by design) and ``ipopt``
(:func:`liftnet.solve_ipopt`; its rows are skipped with a note when IPOPT is unavailable).

Data: the digits (64-32-16-10, ``lam`` 1e-3, float64) for every entry; in full mode also the
MNIST-shaped data (N = 4000, 784-256-128-10, float32) for ``alm`` and ``estimator`` only.
The estimator fits in float64 whatever the data's dtype (its MNIST-shaped rows solve the
float64 problem), and its wall time includes what ``fit`` does off the solver's clock (the
data's validation and scaling, the problem's build). ``--quick`` uses a small teacher
(N = 500, 10-16-8-3, noise 0.3, ``lam`` 1e-3, float64) and the digits, limits 0.2 and 1 s,
two repeats.

Before any clock, per data set, the ALM's compiled kernels are loaded
(:func:`liftnet.solvers.alm.warm_up`), each baseline runs one untimed epoch (torch's set-up)
and IPOPT one untimed tiny solve (Pyomo's and cyipopt's imports). The BLAS, torch and numba
run on one thread each (``liftnet.compare``'s thread limit, restored after), as in the survey
this script grew from (session 50): on a shared 2-core machine, pools of two threads compete
for the cores.

    .venv/bin/python benchmarks/bench_time_limits.py            # about 3.5 minutes (2-core
                                                                # AMD EPYC, 2026-12-07)
    .venv/bin/python benchmarks/bench_time_limits.py --quick    # 40 s
    .venv/bin/python benchmarks/bench_time_limits.py --entries alm path --limits 0.5 2
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
from bench_args import (
    no_repeats,
    positive_float,
    positive_int,
    rows_until_ctrl_c,
    stop_if_interrupted,
)

from liftnet import LiftedProblem, SparseLeakyReLUNet, kkt_residuals, solve_alm, solve_alm_path
from liftnet.compare import _threads
from liftnet.datasets import load_digits_problem, make_mnist_like, make_teacher
from liftnet.solvers.alm import warm_up

ENTRIES = ("alm", "estimator", "path", "prox_gradient", "adam", "kkt", "ipopt")
#: entries run on the MNIST-shaped data (full mode)
LARGE_ENTRIES = ("alm", "estimator")
#: the two ``lam`` of the ``path`` rows (decreasing, as solve_alm_path requires)
PATH_LAMS = (1e-2, 3e-3)
#: tolerances no run meets before its limit (the limit is what is measured)
TOL, MAX_ITER = 1e-10, 10**6
FULL_LIMITS, QUICK_LIMITS = (0.05, 0.2, 1.0, 3.0), (0.2, 1.0)

LEGEND = """\
entry: the entry point called; data: the problem; limit_s: its time_limit (per point for path);
repeats: calls timed (seeds 0, 1, ...); med_over_s, max_over_s: wall time of the call minus
its limit (path: minus twice it), median and max; status: the statuses returned (kkt: the
multiplier estimate's) with their counts; med_excl_s: median time_excluded (- where the result
has none); over_less_excl_s: median of the overshoot less time_excluded."""


@dataclass
class Case:
    """One data set: its :class:`LiftedProblem` and ``y``, the estimator's
    targets (class labels for the classification sets)."""

    name: str
    prob: LiftedProblem
    y: np.ndarray


def teacher_case() -> Case:
    # (a 200-sample 10-8-3 teacher converged to tol 1e-10 within 0.12 s: no limit to measure)
    X, Y = make_teacher(500, widths=(10, 16, 8, 3), noise=0.3, seed=0)[:2]
    return Case("teacher500", LiftedProblem(X, Y, hidden=(16, 8), lam=1e-3, bias=True), Y)


def digits_case() -> Case:
    s = load_digits_problem(seed=0)
    prob = LiftedProblem(s.X_train, s.Y_train, hidden=(32, 16), lam=1e-3, bias=True)
    return Case("digits", prob, s.Y_train.argmax(1))


def mnist_case() -> Case:
    X, Y = make_mnist_like(4000, seed=0, dtype=np.float32)[:2]
    prob = LiftedProblem(X, Y, hidden=(256, 128), lam=1e-3, bias=True, dtype=np.float32)
    return Case("mnist4000", prob, Y.argmax(1))


# --- one timed call per entry: (wall seconds, limit it is held to, statuses, time_excluded) --

def _timed(call):
    t = time.monotonic()
    out = call()
    return time.monotonic() - t, out


def _one_result(call, limit):
    """The sample of a ``call`` that returns one result (a cut one stops the script)."""
    wall, res = _timed(call)
    stop_if_interrupted(res)
    return wall, limit, (res.status,), getattr(res, "time_excluded", None)


def call_alm(case, limit, seed):
    return _one_result(lambda: solve_alm(case.prob, tol=TOL, seed=seed, time_limit=limit,
                                         max_iter=MAX_ITER), limit)


def call_estimator(case, limit, seed):
    p = case.prob
    est = SparseLeakyReLUNet(hidden=p.widths[1:-1], lam=p.lam, tol=TOL, max_iter=MAX_ITER,
                             time_limit=limit, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fit cut by its limit warns that it did not converge
        wall, _ = _timed(lambda: est.fit(p.X, case.y))
    res = stop_if_interrupted(est.result_)
    return wall, limit, (res.status,), res.time_excluded


def call_path(case, limit, seed):
    wall, path = _timed(lambda: solve_alm_path(case.prob, PATH_LAMS, seed=seed, tol=TOL,
                                               time_limit=limit, max_iter=MAX_ITER))
    if len(path) < len(PATH_LAMS):  # a Ctrl-C between two points
        raise KeyboardInterrupt
    for r in path:
        stop_if_interrupted(r)
    return (wall, len(PATH_LAMS) * limit, tuple(r.status for r in path),
            sum(r.time_excluded for r in path))


def _baseline(name):
    from liftnet.solvers import baselines

    return getattr(baselines, name)


def call_prox_gradient(case, limit, seed):
    f = _baseline("prox_gradient")
    return _one_result(lambda: f(case.prob, seed=seed, time_limit=limit, max_epochs=MAX_ITER,
                                 tol=TOL), limit)


def call_adam(case, limit, seed):
    f = _baseline("adam")
    return _one_result(lambda: f(case.prob, seed=seed, time_limit=limit, max_epochs=MAX_ITER),
                       limit)


def call_kkt(case, limit, seed):
    W, b = case.prob.initial_weights(seed)
    wall, rep = _timed(lambda: kkt_residuals(case.prob, W, b, time_limit=limit))
    status = (rep.get("estimate") or {}).get("status")
    if status == "interrupted":
        raise KeyboardInterrupt
    return wall, limit, (str(status),), None


def call_ipopt(case, limit, seed):
    from liftnet import solve_ipopt

    return _one_result(lambda: solve_ipopt(case.prob, seed=seed, time_limit=limit), limit)


CALLS = {"alm": call_alm, "estimator": call_estimator, "path": call_path,
         "prox_gradient": call_prox_gradient, "adam": call_adam, "kkt": call_kkt,
         "ipopt": call_ipopt}


def ipopt_missing() -> str:
    """Why IPOPT cannot run here ('' when it can)."""
    from liftnet.solvers.ipopt_backends import select_backend

    return select_backend(None)[1]


def warm(entry, case):
    """Untimed set-up of ``entry`` on ``case`` (the ALM's kernels are loaded per data set)."""
    if entry == "estimator":
        warm_up(np.float64)  # the estimator fits in float64 whatever the data's dtype
    elif entry in ("prox_gradient", "adam"):
        stop_if_interrupted(_baseline(entry)(case.prob, seed=0, max_epochs=1))
    elif entry == "ipopt":
        from liftnet import solve_ipopt

        X, Y = make_teacher(20, widths=(3, 4, 2), seed=0)[:2]
        tiny = LiftedProblem(X, Y, hidden=(4,), lam=1e-2, bias=True, dtype=case.prob.dtype)
        stop_if_interrupted(solve_ipopt(tiny, max_iter=5, polish=False))


def aggregate(entry, data, limit, samples) -> dict:
    """One row from the ``samples`` (``(wall, held_to, statuses, excluded)`` of each call)."""
    over = [w - held for w, held, _, _ in samples]
    excl = [x for *_, x in samples if x is not None]
    counts = Counter(",".join(st) for _, _, st, _ in samples)
    return {
        "entry": entry, "data": data, "limit_s": limit, "repeats": len(samples),
        "med_over_s": statistics.median(over), "max_over_s": max(over),
        "status": " ".join(f"{s} ({n})" for s, n in counts.items()),
        "med_excl_s": statistics.median(excl) if len(excl) == len(samples) else None,
        "over_less_excl_s": (statistics.median(o - x for o, x in zip(over, excl))
                             if len(excl) == len(samples) else None),
    }


COLUMNS = (("entry", 13), ("data", 10), ("limit_s", 7), ("repeats", 7), ("med_over_s", 10),
           ("max_over_s", 10), ("med_excl_s", 10), ("over_less_excl_s", 16), ("status", 0))


def format_row(row) -> str:
    def cell(name, width):
        v = row[name]
        text = "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
        return text.rjust(width) if width and name not in ("entry", "data") else text.ljust(width)

    return " ".join(cell(n, w) for n, w in COLUMNS).rstrip()


def header() -> str:
    return " ".join(n.ljust(w) if n in ("entry", "data") else n.rjust(w)
                    for n, w in COLUMNS).rstrip()


def plan(args):
    """``(case maker, entries)`` in the order run."""
    entries = args.entries or ENTRIES
    if args.quick:
        return [(teacher_case, entries), (digits_case, entries)]
    large = tuple(e for e in entries if e in LARGE_ENTRIES)
    return [(digits_case, entries)] + ([(mnist_case, large)] if large else [])


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="teacher and digits, limits 0.2 and 1 s, 2 repeats")
    ap.add_argument("--entries", nargs="+", choices=ENTRIES, help="only these entry points")
    ap.add_argument("--limits", type=positive_float, nargs="+",
                    help="time limits in seconds (default 0.05 0.2 1 3; --quick 0.2 1)")
    ap.add_argument("--repeats", type=positive_int,
                    help="calls per row (default 5; --quick 2)")
    return ap


def main(argv=None):
    """Prints the table row by row; after Ctrl-C the rows finished before it stand, then
    ``SystemExit(130)``."""
    ap = build_parser()
    args = ap.parse_args(argv)
    no_repeats(ap, args, "entries", "limits")
    limits = args.limits or (QUICK_LIMITS if args.quick else FULL_LIMITS)
    repeats = args.repeats or (2 if args.quick else 5)
    steps = plan(args)
    missing = ipopt_missing() if any("ipopt" in e for _, e in steps) else ""
    if missing:
        print(f"note: ipopt rows skipped ({missing})")
    print(LEGEND)
    print(header(), flush=True)

    def work(rows):
        with _threads(1):
            for make, entries in steps:
                case = make()
                warm_up(case.prob.dtype)  # the kernels' compile or cache load: not timed
                for entry in entries:
                    if entry == "ipopt" and missing:
                        continue
                    warm(entry, case)
                    for limit in limits:
                        samples = [CALLS[entry](case, limit, seed) for seed in range(repeats)]
                        rows.append(aggregate(entry, case.name, limit, samples))
                        print(format_row(rows[-1]), flush=True)

    t = time.monotonic()
    rows = rows_until_ctrl_c(work)
    print(f"({time.monotonic() - t:.0f} s)")
    return rows


if __name__ == "__main__":
    main()

"""The ALM over a family of instances: how many reach the KKT target, in how long (issue 2).

Single runs of the ALM are chaotic (``benchmarks/sensitivity.py``): a rounding-level change
of the start can move a run's time several-fold. Two versions of the solver are compared on
many instances at once, by the counts and medians this script prints, e.g. in two checkouts:

    .venv/bin/python benchmarks/sweep.py teacher24                       # 24 tiny teachers
    PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/sweep.py teacher24

Families (``--time-limit`` seconds per run; ``--tol`` the KKT target; ``--param NAME=VALUE``,
repeatable, passes a keyword of ``solve_alm``, e.g. ``--param kappa=0``; ``C/N`` for a value
per instance, e.g. ``--param rho0=1000/N``):

* ``teacher24``: the 3-4-3-1 teachers of ``tests/solvers/test_alm.py``: N = 20, 30, seeds 0-2,
  both couplings, with and without bias (lam 1e-2);
* ``quick18``: six 5-8-6-2 teachers (N = 200, lam 1e-2), three initial seeds each;
* ``quick18b3``: the same with ``beta = 3``, the README's quickstart problem until session 50
  (its data set 0; the README now passes ``beta = 5``): where a looser ``eps0`` stalled
  (docs/maths.md 6.1);
* ``digits9``: the digits (hidden 32-16, float64, without biases, unlike the rows of
  ``bench_alm.py`` and the demo) at lam 1e-3, 1e-2, 3e-2, seeds 0-2;
* ``compare3``: the teacher of ``benchmarks/compare.py --mode full`` (N = 4000, 20-32-3, half
  the inputs irrelevant; lam 1e-2), seeds 0-2;
* ``wide``: the 8-16-16-4 teacher of ``benchmarks/bench_ipopt.py`` at ``--Ns`` (default 50,
  100, 200, 400) and ``--seeds`` (default 0); the other families fix their N and seeds, and
  refuse ``--Ns`` and ``--seeds``.

``--levels R1 R2 ...`` adds, per run, the time at which the KKT residual first reached each
level (``-`` when it did not; the path traced through the inner iterates as by
``bench_ipopt.py``'s ``traced_alm``, the checks off the clock), and for ``wide`` the
slope of ``log t`` against ``log N`` per level over the ``N`` that reached it (1: time linear
in ``N``; issue 3); with several ``--seeds`` the slope is that of the median time per ``N``
(a single run's time to a level moves several-fold with rounding), e.g.

    .venv/bin/python benchmarks/sweep.py wide --Ns 50 100 200 400 800 1600 --levels 1e-2 1e-3 1e-4
    .venv/bin/python benchmarks/sweep.py wide --Ns 100 400 1600 --seeds 0 1 2 --levels 1e-2 1e-3
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys

import numpy as np

from liftnet import LiftedProblem, solve_alm
from liftnet.datasets import load_digits_problem, make_teacher
from liftnet.solvers import alm as _alm
from liftnet.solvers.alm import warm_up

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_args import (  # noqa: E402 (the folder on the path)
    INTERRUPTED,
    no_repeats,
    positive_float,
    positive_int,
    seed_int,
    stop_if_interrupted,
)
from bench_ipopt import first_time, teacher_problem, traced_alm  # noqa: E402 (the folder on the path)

#: the keywords of ``solve_alm`` that ``--param`` may set: not those this script sets itself
#: (the problem, ``--tol``, the seed, ``--time-limit``, and the callbacks of ``--levels``), nor
#: the start or the printing
HARNESS_KEYWORDS = {"prob", "tol", "seed", "time_limit", "init", "verbose", "callback",
                    "inner_callback", "inner_callback_every"}
_SOLVE_ALM_PARAMETERS = inspect.signature(solve_alm).parameters
PARAM_NAMES = sorted(set(_SOLVE_ALM_PARAMETERS) - HARNESS_KEYWORDS)
TEXT_PARAMS = {k for k, p in _SOLVE_ALM_PARAMETERS.items()
               if isinstance(p.default, str)}  # inner, presolve, threads


def teacher24(args):
    for coupling in ("complementarity", "squared"):
        for bias in (False, True):
            for N in (20, 30):
                for seed in range(3):
                    X, Y, _, _ = make_teacher(N, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=seed)
                    prob = LiftedProblem(X, Y, hidden=(4, 3), coupling=coupling, bias=bias,
                                         lam=1e-2)
                    yield f"{coupling[:4]} bias={int(bias)} N={N} seed={seed}", prob, 0


def _quickstart_like(beta):
    """Six 5-8-6-2 teachers (N = 200, lam 1e-2) at ``beta``, three initial seeds each."""
    for data_seed in range(6):
        X, Y, _, _ = make_teacher(200, (5, 8, 6, 2), alpha=0.1, noise=0.1, seed=data_seed)
        prob = LiftedProblem(X, Y, hidden=(8, 6), alpha=0.1, beta=beta, lam=1e-2)
        for seed in range(3):
            yield f"data={data_seed} seed={seed}", prob, seed


def quick18(args):
    yield from _quickstart_like(1.0)


def quick18b3(args):
    yield from _quickstart_like(3.0)


def digits9(args):
    split = load_digits_problem(seed=0)
    for lam in (1e-3, 1e-2, 3e-2):
        prob = LiftedProblem(split.X_train, split.Y_train, hidden=(32, 16), lam=lam)
        for seed in range(3):
            yield f"lam={lam:g} seed={seed}", prob, seed


def compare3(args):
    from liftnet.compare import runs

    prob = runs.make_problem("teacher", runs.MODES["full"])[0]
    for seed in range(3):
        yield f"compare teacher seed={seed}", prob, seed


def wide(args):
    for N in args.Ns:
        prob = teacher_problem(N, (8, 16, 16, 4))
        for seed in args.seeds:
            yield f"8-16-16-4 N={N} seed={seed}", prob, seed


def parse_param(item):
    """``(name, value)`` of ``--param NAME=VALUE``: ``true`` or ``false`` (a flag, e.g.
    ``polish_weights=false``), an int, a float, ``C/N``, a function of the instance's sample
    count (``rho0=1000/N`` for ``rho0 = 1000 / N``, as the default ``10 beta / N`` scales), or
    for a keyword whose default is text (``inner``, ``presolve``, ``threads``) the text itself.
    Only the form is checked here; :func:`check_params` checks the values."""
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ValueError(f"--param takes NAME=VALUE, got {item!r}")
    if name not in PARAM_NAMES:
        why = ("set by this script" if name in HARNESS_KEYWORDS
               else "not a keyword of solve_alm")
        raise ValueError(f"--param {name}: {why}; one of {', '.join(PARAM_NAMES)}")
    if value.lower() in ("true", "false"):
        return name, value.lower() == "true"
    try:
        if value.endswith("/N"):
            c = float(value[:-2])
            return name, lambda N: c / N
        return name, int(value) if value.lstrip("-").isdigit() else float(value)
    except ValueError:
        if name in TEXT_PARAMS:
            return name, value  # (inner=proxgrad: solve_alm's own check names the choices)
        raise ValueError(f"--param {name}: expected true, false, a number or C/N, got "
                         f"{value!r}") from None


def check_params(family, args, params) -> None:
    """``ValueError`` naming ``--param NAME`` where ``solve_alm`` refuses the values of
    ``params`` on the family's first instance: its own checks, called with a time limit too
    short for any iteration, before the sweep starts (``kappa=-5`` had failed with a
    traceback after the header and the warm-up; a review, 2026-12-07)."""
    if not params:
        return
    _, prob, seed = next(iter(FAMILIES[family](args)))
    extra = {k: v(prob.N) if callable(v) else v for k, v in params.items()}
    try:  # (through the module: the sweep's own name may be a test's stand-in)
        _alm.solve_alm(prob, seed=seed, time_limit=1e-9, **{"max_iter": 1, **extra})
    except (ValueError, TypeError) as exc:
        said = str(exc)
        name = next((n for n in extra if said.startswith(n)), None)
        raise type(exc)(f"--param {name}: {said}" if name else f"--param: {said}") from None


def median_over_seeds(ts, n_seeds):
    """Per ``N``, the median over its ``n_seeds`` runs of the times in ``ts`` (runs in the
    order ``N``-major, as ``wide`` yields them; ``inf`` where a run did not reach the level,
    so the median is finite only when most runs reached it)."""
    ts = np.where(np.isfinite(ts), ts, np.inf).reshape(-1, n_seeds, *np.shape(ts)[1:])
    return np.median(ts, axis=1)


def loglog_slope(Ns, ts):
    """Least-squares slope of ``log t`` against ``log N`` over the finite ``t`` (nan if
    fewer than two)."""
    ok = np.isfinite(ts)
    if ok.sum() < 2:
        return np.nan
    return float(np.polyfit(np.log(np.asarray(Ns)[ok]), np.log(np.asarray(ts)[ok]), 1)[0])


FAMILIES = {"teacher24": teacher24, "quick18": quick18, "quick18b3": quick18b3,
            "digits9": digits9, "compare3": compare3, "wide": wide}
#: the N of the wide family without ``--Ns``
WIDE_NS = (50, 100, 200, 400)
DEFAULT_TIME = {"teacher24": 20.0, "quick18": 20.0, "quick18b3": 20.0, "digits9": 20.0,
                "compare3": 30.0, "wide": 60.0}


def _run_family(a, T, params, rows, reach) -> None:
    """Solve the family's instances in turn, printing a line per run and appending to ``rows``
    and ``reach`` as it goes. A Ctrl-C raises ``KeyboardInterrupt`` wherever it lands, a
    solve's included (``stop_if_interrupted``: no row is made of a run it cut)."""
    warmed = set()
    for name, prob, seed in FAMILIES[a.family](a):
        extra = {k: v(prob.N) if callable(v) else v for k, v in params.items()}
        if prob.dtype not in warmed:  # compiling the kernels is not the solver's time
            warm_up(prob.dtype)
            warmed.add(prob.dtype)
        if a.levels:  # the path traced as bench_ipopt.py traces it (checks off the clock)
            r, trace = traced_alm(prob, seed, a.tol, T, **extra)
        else:
            r, trace = solve_alm(prob, tol=a.tol, seed=seed, time_limit=T, **extra), []
        stop_if_interrupted(r)
        rows.append((r.status == "converged", r.kkt["residual"], r.time, r.n_inner))
        reach.append([first_time(trace, v) for v in a.levels])
        print(f"{name:30s} {r.status:>10} {r.kkt['residual']:8.1e} {r.time:7.2f} {r.nit:5d} "
              f"{r.n_inner:7d} {r.Phi:9.5g}"
              + "".join(f" {t:8.2f}" if np.isfinite(t) else f" {'-':>8}" for t in reach[-1]),
              flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("--time-limit", type=positive_float, default=None,
                    help="seconds per run (default: 20; 30 for compare3, 60 for wide)")
    ap.add_argument("--tol", type=positive_float, default=1e-6)
    ap.add_argument("--Ns", type=positive_int, nargs="+", default=None,
                    help="N of the wide family (default "
                         f"{' '.join(map(str, WIDE_NS))}; refused with the other families, "
                         "which fix their N)")
    ap.add_argument("--seeds", type=seed_int, nargs="+", default=None,
                    help="initial-weight seeds per N of the wide family (default 0; with "
                         "several, the slope is taken over the median time per N; refused "
                         "with the other families, which fix their seeds)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a keyword argument of solve_alm: a number, true or false, C/N for "
                         "C divided by the instance's N, or text for inner, presolve and "
                         "threads (e.g. kappa=0, rho0=1000/N, polish_weights=false, "
                         "inner=proxgrad); solve_alm's own checks run before the sweep")
    ap.add_argument("--levels", type=positive_float, nargs="+", default=[],
                    help="KKT residuals whose time of first reach is reported per run")
    a = ap.parse_args(argv)
    no_repeats(ap, a, "Ns", "seeds", "levels")
    # --Ns and --seeds are None when not given: given with another family, they are refused
    # (that family would ignore them), even at wide's defaults
    if a.family != "wide" and a.seeds is not None:
        ap.error(f"argument --seeds: --seeds applies to the wide family (the {a.family} family "
                 "fixes its seeds)")
    if a.family != "wide" and a.Ns is not None:
        ap.error(f"argument --Ns: --Ns applies to the wide family (the {a.family} family fixes "
                 "its N)")
    a.Ns = list(WIDE_NS) if a.Ns is None else a.Ns
    a.seeds = [0] if a.seeds is None else a.seeds
    T = DEFAULT_TIME[a.family] if a.time_limit is None else a.time_limit
    try:
        pairs = [parse_param(item) for item in a.param]
    except ValueError as exc:
        ap.error(str(exc))
    names = [n for n, _ in pairs]
    twice = sorted({n for n in names if names.count(n) > 1}, key=names.index)
    if twice:
        ap.error(f"--param {twice[0]}: given more than once ({', '.join(a.param)})")
    params = dict(pairs)
    try:
        check_params(a.family, a, params)
    except (ValueError, TypeError) as exc:
        ap.error(str(exc))
    print(f"{a.family}: tol {a.tol:g}, time limit {T:g} s per run"
          + "".join(f", {item}" for item in a.param))
    head = (f"{'instance':30s} {'status':>10} {'kkt':>8} {'time':>7} {'outer':>5} "
            f"{'inner':>7} {'Phi':>9}" + "".join(f" {'t@' + format(v, 'g'):>8}" for v in a.levels))
    print(head)
    print("-" * len(head))
    rows, reach = [], []
    stopped = False
    try:  # a Ctrl-C in a solve, the warm-up or the next instance's data: the runs so far
        _run_family(a, T, params, rows, reach)
    except KeyboardInterrupt:
        print("interrupted: the summary covers the runs above")
        stopped = True
    if not rows:  # cut before the first run ended: nothing to summarise
        raise SystemExit(INTERRUPTED)
    conv, kkt, t, inner = (np.array(c) for c in zip(*rows))
    print(f"SUMMARY {a.family}: converged {conv.sum()}/{len(rows)}, median time "
          f"{np.median(t):.2f} s, total {t.sum():.1f} s, inner iterations {inner.sum()}, "
          f"median KKT {np.median(kkt):.1e}")
    if a.family == "wide" and a.levels and len(reach) == len(a.Ns) * len(a.seeds):
        ts = median_over_seeds(np.array(reach), len(a.seeds))
        if len(a.seeds) > 1:
            for N, row in zip(a.Ns, ts):
                print(f"MEDIAN over {len(a.seeds)} seeds, N={N}: " + ", ".join(
                    f"t@{v:g} {t:.2f} s" if np.isfinite(t) else f"t@{v:g} -"
                    for v, t in zip(a.levels, row)))
        print("SLOPE of log(time to level) against log N (1 = linear in N): " + ", ".join(
            f"{v:g}: {loglog_slope(a.Ns, ts[:, j]):.2f} over {int(np.isfinite(ts[:, j]).sum())}"
            f" N" for j, v in enumerate(a.levels)))
    if stopped:
        raise SystemExit(INTERRUPTED)
    return rows


if __name__ == "__main__":
    main()

"""ALM against IPOPT on one instance family as N grows (MODEL.md sections 6 and 7).

For each N: the same problem (a random teacher network with widths ``n_0-...-n_L``, noisy
targets), the same start (``prob.initial_weights(seed)``, lifted); the ALM to the KKT residual
``--tol``, IPOPT (with its active-group polish) from the same start. Reported: wall time of each
to its final point, both KKT residuals by the one checker (``liftnet.kkt_residuals``), the
ratio ``t_IPOPT / t_ALM``, and the time the ALM first reached IPOPT's final residual or
``--tol``, whichever is larger (from its traced path, below; ``inf`` when it never did), with
the ratio of IPOPT's whole run to it. IPOPT's time includes building the Pyomo model (reported
apart). N doubles until IPOPT needs more than ``--cap`` seconds.

Both solvers' paths are traced by the same ``kkt_residuals``. With the cyipopt interface every
IPOPT iterate is kept (``solve_ipopt(callback=)``) and checked afterwards with IPOPT's
multipliers (phase-1 groups below the polish threshold counted as zero, as the polish does);
the ALM's outer iterates and, every 2% of its clock, its inner iterates with the multipliers it
would take there (``solve_alm(inner_callback=)``: the iterate it holds; a run stopped there
returns its best recorded point instead, docs/maths.md 7) are checked as it runs (until
2026-12-03 only its outer iterates: up to a whole inner solve late).
A second table gives, for each ``--levels`` residual, the time each solver first reached it and
the ratio: each one's own time to a residual, not its whole run. The copying and checking are
taken off both clocks. Its column ``t_ALM(tol)`` is the time of one more ALM run per level,
``solve_alm(tol=level)``: when a user who asks for that residual gets a point certified at it
(``-`` when the run did not converge within ``--alm-time-limit``, or without one within twice
the traced run's time plus a second), with its ratio to IPOPT's
traced time (a solve asked for a residual can stop sooner than the traced path of one asked for
``--tol``: its tests of docs/maths.md 6.5 certify a polished copy of an inner iterate; the
traced path sees inner iterates without that polish).
With ``--warm`` a last column adds IPOPT warm-started at the ALM's final point (primal values
and multipliers, as ``liftnet.crosscheck_ipopt`` does): the ALM's whole time plus that IPOPT
run's time to each residual (a second local solve: it may end at another point).

``--seed`` takes one seed or several (``--seed 0 1 2``): each sets the data and the start, and
every N runs them all (the stop on IPOPT's cap after the last); with several, the second table
ends with each N's medians over the seeds (a single instance's ratio moves by a factor of two
between seeds: 36-66 at N = 400 on the Intel Xeon of session 42, docs/benchmarks.md).

``--quick`` is a smoke run of fixed sizes (widths 3-4-4-2, N = 20, 40), refused together with
``--widths``, ``--N0`` or ``--Nmax``; it caps IPOPT at 30 s and the ALM at 60 s unless
``--cap`` or ``--alm-time-limit`` is given, which it then honours.

    python benchmarks/bench_ipopt.py --quick
    python benchmarks/bench_ipopt.py --cap 600            # widths 8-16-16-4, N = 50, 100, ...
    python benchmarks/bench_ipopt.py --N0 400 --Nmax 400 --cap 600 --alm-time-limit 60
    python benchmarks/bench_ipopt.py --N0 400 --Nmax 400 --cap 200 --alm-time-limit 30 --seed 0 1 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_args import (
    INTERRUPTED,
    no_repeats,
    nonnegative_float,
    positive_float,
    positive_int,
    seed_int,
    until_ctrl_c,
    widths_type,
)

from liftnet import LiftedProblem
from liftnet.formulation.pyomo_model import build_pyomo_model
from liftnet.solvers.alm import solve_alm, warm_up
from liftnet.solvers.ipopt import default_zero_threshold, solve_ipopt
from liftnet.solvers.ipopt_backends import CyIpoptBackend
from liftnet.verification.kkt import kkt_residuals


def teacher_problem(N, widths, seed=0, lam=1e-3, coupling="complementarity"):
    """Data from a random leaky-ReLU teacher with the same widths, plus 10% noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, widths[0]))
    probe = LiftedProblem(X, np.zeros((N, widths[-1])), hidden=widths[1:-1])
    W, b = probe.initial_weights(seed + 1)
    Y = probe.predict(W, b, X)
    Y = Y + 0.1 * Y.std() * rng.standard_normal(Y.shape)
    return LiftedProblem(X, Y, hidden=widths[1:-1], lam=lam, coupling=coupling)


def first_time(trace, level):
    """The first time of ``trace`` (``[(time, KKT residual), ...]``, in time order) whose
    residual is at most ``level``, or ``inf``."""
    return next((t for t, r in trace if r <= level), np.inf)


def traced_alm(prob, seed, tol, time_limit, resolution=0.02, **kwargs):
    """The ALM from ``prob.initial_weights(seed)`` with its KKT residual traced along the whole
    path, as :func:`traced_ipopt` traces IPOPT's: every outer iterate (``callback``) and the
    inner iterates (``inner_callback``, with the multipliers the ALM would take there, i.e. the
    point it would return if stopped) whenever the solver's clock has moved by ``resolution``
    of itself since the last check (at least 5 ms: a few hundred checks in a minute). The
    checks run inside the callbacks, which :func:`solve_alm` keeps off its clock: off the
    times and off ``time_limit``. ``kwargs`` go to :func:`solve_alm`. Returns the result and
    its trace ``[(time, KKT residual), ...]``."""
    trace, last = [], [-np.inf]

    def outer(rec):
        trace.append((rec["time"], rec["residual"]))

    def inner(rec):
        t = rec["time"]
        if t - last[0] < max(0.005, resolution * t):
            return
        last[0] = t
        p = rec["iterate"]()
        trace.append((t, kkt_residuals(prob, p["W"], p["b"], p["V"], p["M1"], p["M2"])["residual"]))

    # (inner_callback_every: the calls the trace keeps, at least 5 ms apart, come as they would
    # after every iteration, and small problems keep their compiled inner loop)
    res = solve_alm(prob, tol=tol, seed=seed, time_limit=time_limit, callback=outer,
                    inner_callback=inner, inner_callback_every=0.005, **kwargs)
    trace.append((res.time, res.kkt["residual"]))
    return res, sorted(trace)


def traced_ipopt(prob, seed, cap, init=None):
    """IPOPT from the start of ``solve_alm(seed=seed)`` (or warm-started at ``init``, a result
    with multipliers) with every iterate kept; returns the result and its trace
    ``[(time, KKT residual), ...]`` (the time without the copying of the iterates; ``[]``
    without the cyipopt interface)."""
    if not CyIpoptBackend.available():
        return solve_ipopt(prob, init=init, seed=seed, time_limit=cap), []
    kept, spent = [], [0.0]

    def keep(rec):
        t = time.monotonic()
        point = rec["iterate"]()
        if point is not None:
            kept.append((rec["time"] - spent[0], rec["phase"], point))
        spent[0] += time.monotonic() - t

    ip = solve_ipopt(prob, init=init, seed=seed, time_limit=cap, callback=keep)
    ip.time -= spent[0]
    trace = []
    for t, phase, p in kept:
        thr = default_zero_threshold(prob, p["W"]) if phase == "phase 1" else 0.0
        if all(np.all(np.isfinite(a)) for a in (*p["W"], *p["V"])):
            rep = kkt_residuals(prob, p["W"], p["b"], p["V"], p["M1"], p["M2"], zero_threshold=thr)
            trace.append((t, rep["residual"]))
    return ip, trace


def run(widths, Ns, cap, tol, seeds, coupling, lam, alm_time_limit, levels=(), warm=False):
    """The rows (one per N and seed of the list ``seeds``) and their printout; stops after the
    N at which IPOPT ran past ``cap`` (all its seeds run), or at a Ctrl-C."""
    head = (
        f"{'N':>6} {'seed':>5} {'t_ALM':>8} {'kkt_ALM':>9} {'ALM':>10} {'t_IPOPT':>9} "
        f"{'build':>7} {'kkt_IPOPT':>9} {'IPOPT':>10} {'ratio':>8} {'t_ALM@':>9} {'ratio@':>8}"
    )
    print(
        f"widths {'-'.join(map(str, widths))}, coupling={coupling}, lam={lam}, tol={tol:g}, "
        f"IPOPT cap {cap:g} s"
    )
    _print_head(head)
    rows = Rows()
    warm_up()  # compiling the ALM's kernels is not its time (IPOPT's model build is counted)
    for N in Ns:
        over_cap = False
        for seed in seeds:
            over_cap |= _run_one(rows, N, seed, widths, cap, tol, coupling, lam,
                                 alm_time_limit, levels, warm)
            if rows.interrupted:
                break
        if rows.interrupted:
            break
        if over_cap:
            print(f"IPOPT exceeded the cap of {cap:g} s at N={N}: stop.")
            break
    if levels and any(r["reach"] for r in rows):
        print_levels(rows, levels)
    return rows


def _run_one(rows, N, seed, widths, cap, tol, coupling, lam, alm_time_limit, levels, warm):
    """One instance (``N``, ``seed``): the ALM, then IPOPT, their row appended to ``rows``
    and printed (``rows.interrupted`` set on a Ctrl-C in either). True when IPOPT ran past
    ``cap``."""
    prob = teacher_problem(N, widths, seed, lam, coupling)
    alm, alm_trace = traced_alm(prob, seed, tol, alm_time_limit)
    if alm.status == "interrupted":  # Ctrl-C: the rows so far, and no IPOPT run
        print(f"interrupted during the ALM at N={N}: stop.")
        rows.interrupted = True
        return False
    t = time.monotonic()
    build_pyomo_model(prob)
    t_build = time.monotonic() - t
    ip, trace = traced_ipopt(prob, seed, cap)
    ratio = ip.time / alm.time if alm.time > 0 else float("nan")
    k_ip = ip.kkt["residual"] if ip.kkt is not None else float("nan")
    # the ALM's time to IPOPT's final residual (or tol): the same KKT residual for both
    t_match = first_time(alm_trace, max(k_ip, tol))
    ratio_match = ip.time / t_match if t_match > 0 else float("nan")
    # --warm: IPOPT warm-started at the ALM's final point (the cross-check's second run);
    # its times count from the start of the ALM
    wtrace = traced_ipopt(prob, seed, cap, init=alm)[1] if warm and levels else []
    reach = {v: (first_time(alm_trace, v), first_time(trace, v),
                 alm.time + first_time(wtrace, v) if wtrace else np.nan,
                 alm_time_to(prob, seed, v, alm_time_limit if alm_time_limit is not None
                             else 2.0 * alm.time + 1.0))
             for v in levels}
    rows.append(
        dict(
            N=N,
            seed=seed,
            t_alm=alm.time,
            kkt_alm=alm.kkt["residual"],
            alm=alm.status,
            t_ipopt=ip.time,
            build=t_build,
            kkt_ipopt=k_ip,
            ipopt=ip.status,
            ratio=ratio,
            t_alm_at_ipopt=t_match,
            ratio_at_ipopt=ratio_match,
            best_ipopt=min((r for _, r in trace), default=np.nan),
            reach=reach,
        )
    )
    print(
        f"{N:6d} {seed:5d} {alm.time:8.2f} {alm.kkt['residual']:9.1e} {alm.status:>10} "
        f"{ip.time:9.2f} {t_build:7.2f} {k_ip:9.1e} {ip.status:>10} {ratio:8.1f} "
        f"{t_match:9.2f} {ratio_match:8.1f}",
        flush=True,
    )
    if ip.status == "interrupted":
        print(f"interrupted during IPOPT at N={N}: stop.")
        rows.interrupted = True
        return False
    return ip.status == "time_limit" or ip.time > cap


def alm_time_to(prob, seed, level, time_limit):
    """The time of ``solve_alm(prob, tol=level)`` from the start of ``seed`` when it converged
    (its point certified at ``level``), ``inf`` when it did not within ``time_limit``
    (``--alm-time-limit``, or without one twice the traced run's time plus a second). A
    Ctrl-C in it ends the benchmark (KeyboardInterrupt: the rows above are complete)."""
    res = solve_alm(prob, tol=level, seed=seed, time_limit=time_limit)
    if res.status == "interrupted":
        raise KeyboardInterrupt
    return res.time if res.status == "converged" else np.inf


def print_levels(rows, levels):
    """Each solver's time to each KKT residual (IPOPT's from its traced iterates)."""
    print("\ntime to each KKT residual (s; '-': not reached; ratio>=: the ratio, or where only "
          "the ALM reached the level IPOPT's whole run over the ALM's time, a lower bound; "
          "best_IPOPT: the smallest residual of IPOPT's traced iterates; t_ALM+IPOPT: with "
          "--warm; t_ALM(tol): the ALM run with tol=level, when it converged, and ratio(tol) "
          "IPOPT's time over it)")
    head = (f"{'N':>6} {'seed':>5} {'level':>8} {'t_ALM':>8} {'t_IPOPT':>9} {'ratio':>8} "
            f"{'ratio>=':>8} {'best_IPOPT':>10} {'t_ALM+IPOPT':>11} {'t_ALM(tol)':>10} "
            f"{'ratio(tol)':>10}")
    _print_head(head)
    for r in rows:
        for v in levels:
            ta, ti, tw, tr = r["reach"][v]
            print(f"{r['N']:6d} {r['seed']:5d} {v:8.0e} {_fmt(ta, 8)} {_fmt(ti, 9)} "
                  f"{level_ratio(ta, ti):8.1f} {level_bound(ta, ti, r['t_ipopt']):8.1f} "
                  f"{r['best_ipopt']:10.1e} {_fmt(tw, 11)} {_fmt(tr, 10)} "
                  f"{level_ratio(tr, ti):10.1f}")
    if len({r["seed"] for r in rows}) > 1:
        print_medians(rows, levels)


def _print_head(head):
    """A table's column names and the rule under them."""
    print(head)
    print("-" * len(head))


def _fmt(t, w):
    return f"{t:{w}.2f}" if np.isfinite(t) else f"{'-':>{w}}"


def level_ratio(t_alm, t_ipopt):
    """``t_IPOPT / t_ALM`` to one residual; NaN unless both reached it."""
    ok = np.isfinite(t_alm) and np.isfinite(t_ipopt) and t_alm > 0
    return t_ipopt / t_alm if ok else np.nan


def level_bound(t_alm, t_ipopt, t_ipopt_run):
    """A lower bound of ``t_IPOPT / t_ALM`` to one residual: the ratio where both reached it;
    where only the ALM did, IPOPT's whole run (``t_ipopt_run``, which ended above the residual)
    over the ALM's time (IPOPT's time to it is longer, or infinite); NaN where the ALM did
    not reach it."""
    if not (np.isfinite(t_alm) and t_alm > 0):
        return np.nan
    return t_ipopt / t_alm if np.isfinite(t_ipopt) else t_ipopt_run / t_alm


def level_medians(rows, N, level):
    """Over the seeds of ``N``: the median time of each solver to ``level`` (``inf`` when
    half or more of the seeds never reached it), the median of the per-seed ratios where both
    reached it, and how many seeds those are, of how many; then the median of the per-seed
    lower bounds (:func:`level_bound`) and how many seeds the ALM reached the level in: with
    all of them, a lower bound of the median ratio (each seed's ratio is at least its bound);
    then the median time of the runs with ``tol=level`` (``t_ALM(tol)``) and the median of
    their ratios where both reached it, and how many seeds those are."""
    sel = [r for r in rows if r["N"] == N]
    reach = [r["reach"][level] for r in sel]
    ratios = [q for q in (level_ratio(ta, ti) for ta, ti, _, _ in reach) if np.isfinite(q)]
    bounds = [q for q in (level_bound(ta, ti, r.get("t_ipopt", np.nan))
                          for (ta, ti, _, _), r in zip(reach, sel)) if np.isfinite(q)]
    run_ratios = [q for q in (level_ratio(tr, ti) for _, ti, _, tr in reach) if np.isfinite(q)]
    return (float(np.median([ta for ta, _, _, _ in reach])),
            float(np.median([ti for _, ti, _, _ in reach])),
            float(np.median(ratios)) if ratios else np.nan, len(ratios), len(reach),
            float(np.median(bounds)) if bounds else np.nan, len(bounds),
            float(np.median([tr for _, _, _, tr in reach])),
            float(np.median(run_ratios)) if run_ratios else np.nan, len(run_ratios))


def print_medians(rows, levels):
    """Each N's medians over its seeds (:func:`level_medians`)."""
    print("\nmedians over the seeds (ratio: the median of the seeds' ratios where both reached "
          "the level; both: how many seeds those are, of all; ratio>=: the median of the "
          "seeds' lower bounds, IPOPT's whole run where it never reached the level; alm: the "
          "seeds where the ALM did, of all: with all, a lower bound of the median ratio; "
          "t_ALM(tol), ratio(tol), both(tol): the same for the ALM runs with tol=level)")
    head = (f"{'N':>6} {'level':>8} {'t_ALM':>8} {'t_IPOPT':>9} {'ratio':>8} {'both':>6} "
            f"{'ratio>=':>8} {'alm':>5} {'t_ALM(tol)':>10} {'ratio(tol)':>10} {'both(tol)':>9}")
    _print_head(head)
    for N in dict.fromkeys(r["N"] for r in rows):
        for v in levels:
            ta, ti, q, n_both, n, lb, n_alm, tr, qr, n_run = level_medians(rows, N, v)
            print(f"{N:6d} {v:8.0e} {_fmt(ta, 8)} {_fmt(ti, 9)} {q:8.1f} {f'{n_both}/{n}':>6} "
                  f"{lb:8.1f} {f'{n_alm}/{n}':>5} {_fmt(tr, 10)} {qr:10.1f} "
                  f"{f'{n_run}/{n}':>9}")


#: the sizes of a run without ``--quick`` (what ``--widths``, ``--N0``, ``--Nmax`` and ``--cap``
#: default to)
DEFAULTS = {"widths": (8, 16, 16, 4), "N0": 50, "Nmax": 6400, "cap": 600.0}
#: ``--quick``: its widths and N (fixed: ``--widths``, ``--N0`` and ``--Nmax`` are refused with
#: it), and its IPOPT cap and ALM time limit (s) unless ``--cap`` or ``--alm-time-limit`` is given
QUICK = {"widths": (3, 4, 4, 2), "Ns": [20, 40], "cap": 30.0, "alm_time_limit": 60.0}


def build_parser():
    """The options; ``--widths``, ``--N0``, ``--Nmax`` and ``--cap`` parse to None when not
    given (:func:`parse_args` resolves them), so that ``--quick`` knows what was given."""
    q = QUICK
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"a smoke run of fixed sizes: widths {'-'.join(map(str, q['widths']))}, "
                         f"N = {', '.join(map(str, q['Ns']))} (not with --widths, --N0, --Nmax); "
                         f"IPOPT cap {q['cap']:g} s and ALM time limit {q['alm_time_limit']:g} s "
                         "unless --cap or --alm-time-limit is given")
    ap.add_argument("--cap", type=positive_float, default=None,
                    help=f"IPOPT time cap per N (s; default {DEFAULTS['cap']:g}, "
                         f"{q['cap']:g} with --quick)")
    ap.add_argument("--tol", type=positive_float, default=1e-6, help="ALM's KKT target")
    ap.add_argument("--widths", type=widths_type, default=None,
                    help="layer widths n_0-...-n_L (default "
                         f"{'-'.join(map(str, DEFAULTS['widths']))}; not with --quick)")
    ap.add_argument("--N0", type=positive_int, default=None,
                    help=f"first N, then doubled (default {DEFAULTS['N0']}; not with --quick)")
    ap.add_argument("--Nmax", type=positive_int, default=None,
                    help=f"largest N, >= --N0 (default {DEFAULTS['Nmax']}; not with --quick)")
    ap.add_argument("--coupling", default="complementarity",
                    choices=["squared", "complementarity"])
    ap.add_argument("--lam", type=nonnegative_float, default=1e-3)
    ap.add_argument("--seed", type=seed_int, nargs="+", default=[0],
                    help="seeds of the data and the start, each run at every N (several: "
                         "medians over them at the end)")
    ap.add_argument("--alm-time-limit", type=positive_float, default=None,
                    help="the ALM's time limit per N (s; default none, "
                         f"{q['alm_time_limit']:g} with --quick)")
    ap.add_argument("--levels", type=positive_float, nargs="+",
                    default=[1e-2, 1e-3, 1e-4, 1e-5, 1e-6],
                    help="KKT residuals of the time-to-level table")
    ap.add_argument("--warm", action="store_true",
                    help="also IPOPT warm-started at the ALM's final point (last column of the "
                         "time-to-level table: the ALM's time plus IPOPT's)")
    return ap


def parse_args(argv=None):
    """The options of ``argv`` with the sizes resolved: ``widths``, ``Ns`` (``N0`` doubled up to
    ``Nmax``), ``cap`` and ``alm_time_limit`` as the run takes them (:data:`DEFAULTS`, or
    :data:`QUICK` with ``--quick``). Exit status 2 (``ap.error``) for a repeated ``--seed`` or
    ``--levels`` value, for ``--quick`` with an explicit ``--widths``, ``--N0`` or ``--Nmax``,
    and for ``--Nmax`` below ``--N0``."""
    ap = build_parser()
    a = ap.parse_args(argv)
    # a repeated seed would count one instance twice in the medians, a repeated level print
    # its rows twice (a review, 2026-12-07)
    no_repeats(ap, a, "seed", "levels")
    if a.quick:
        for opt in ("widths", "N0", "Nmax"):
            if getattr(a, opt) is not None:
                ap.error(f"argument --{opt}: not allowed with argument --quick (a smoke run of "
                         f"fixed sizes: widths {'-'.join(map(str, QUICK['widths']))}, N = "
                         f"{', '.join(map(str, QUICK['Ns']))}); leave out --quick to set --{opt}")
        a.widths, a.Ns = QUICK["widths"], list(QUICK["Ns"])
        a.cap = QUICK["cap"] if a.cap is None else a.cap
        if a.alm_time_limit is None:
            a.alm_time_limit = QUICK["alm_time_limit"]
        return a
    for opt, value in DEFAULTS.items():
        if getattr(a, opt) is None:
            setattr(a, opt, value)
    if a.Nmax < a.N0:
        ap.error(f"argument --Nmax: must be >= --N0 ({a.N0}), got {a.Nmax}")
    a.Ns, N = [], a.N0
    while N <= a.Nmax:
        a.Ns.append(N)
        N *= 2
    return a


def main(argv=None):
    """Runs the benchmark and returns its rows; after Ctrl-C, ``SystemExit(130)`` once the
    rows so far are printed."""
    a = parse_args(argv)
    # (a Ctrl-C outside the solvers: data, model build)
    rows = until_ctrl_c(run, a.widths, a.Ns, a.cap, a.tol, a.seed, a.coupling, a.lam,
                        a.alm_time_limit, a.levels, a.warm)
    if rows.interrupted:
        raise SystemExit(INTERRUPTED)
    return rows


class Rows(list):
    """The rows of :func:`run`, and whether Ctrl-C stopped it (``interrupted``)."""

    interrupted = False


if __name__ == "__main__":
    main()

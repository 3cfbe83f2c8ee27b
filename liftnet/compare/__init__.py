"""The comparison harness: liftnet's ALM against the baselines on (P), measured.

For each data set (``digits``, ``teacher``, ``mnist_like``; :mod:`liftnet.datasets`) and seed,
the ALM (on the lift (M), :func:`run_alm`) and every baseline (on (P),
:data:`liftnet.solvers.baselines.BASELINES`) start from ``prob.initial_weights(seed)`` and run

* ``budget="time"``: for the same wall-clock budget;
* ``budget="converge"``: to their own stopping test, bounded by iteration counts (a time cap
  is only a safety net), so that the numbers are reproducible from the seeds.

All runs of a comparison share the problem's ``dtype`` (float64, or float32 with
``dtype="float32"``/``--dtype float32``) and the thread count of the mode (torch, BLAS and
numba); warm-up and the objective evaluations made only to report are off every method's
clock (the baselines' paused clock, the ALM's ``time_excluded``).

Every final objective is ``prob.Phi`` at the returned weights (MODEL.md 3). The table gives the
median over seeds of ``Phi``, the time to reach the target ``Phi`` (the best baseline's final
``Phi`` of the converge runs, per seed, the ALM's own without a baseline, with relative slack
:data:`TARGET_RTOL`; a method
reaches it when the point it would return if stopped then does, :func:`~.runs.trajectory`),
group sparsity (exact zeros, and ``<= 1e-6``), train/test accuracy (classes) or mean squared
error (regression), the ALM's KKT residual of (M) at its own point ``(W, b, V, M1, M2)``
(``kkt``, :func:`liftnet.kkt_residuals`) and, in full mode, at the exact lift ``V = sigma(U)``
of its network with estimated multipliers (``kkt_net``: converge runs, first seed, the data
sets of the mode's ``kkt_net``, as estimating multipliers is costly), and ratios against the
ALM (a time ratio is ``nan`` where the ALM never reached the target, ``inf`` where only the ALM
did; ``report.json``, strict JSON, writes both as ``null``, and a ``t_target`` of ``inf``,
"never", too: ``table.csv`` keeps them apart). Rows of the converge budget whose runs all
stopped for a reason other than the clock (no status ``time_limit``, and no ALM presolve
stopped by its share of the time limit) are flagged
``deterministic`` (a row of the time budget never is, even when its runs converged: whether they
do before the clock stops them depends on the machine): their non-timing columns
(:data:`DETERMINISTIC_COLUMNS`) are equal for equal seeds; ``table.txt`` prints them apart, as
its reproducible part, byte for byte equal for equal seeds
(:func:`~.report.reproducible_part`), before the full table. A lambda path (ALM warm-started
along decreasing ``lam`` from its previous result, with the units that result pruned restarted,
:func:`liftnet.solvers.init.reseed_dead_units`; the baselines likewise on the same grid) gives
the sparsity-accuracy curves. Outputs: ``table.txt``, ``table.csv``, ``report.json``,
``phi_vs_time_<dataset>.png`` and, with the lambda path, ``lambda_path.csv`` and
``sparsity_vs_score.png``; ``table.csv`` has three more columns, ``n_seeds``, ``deterministic``
and ``kkt_net_expired`` (the multiplier estimate of ``kkt_net`` was stopped by its time limit:
the value is an upper bound). Before writing them, the files of these names that an earlier
run left in the folder are removed (:func:`~.report.remove_outputs`; no other file), so that
the folder holds only this run's outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Mapping, Set

from .._validation import (
    check_argv,
    check_bool,
    check_choice,
    check_float_dtype,
    check_no_repeats,
    check_path,
    check_seed,
)
from ..cli import _Output, dataset_name, seed_int
from ..io import writable_folder
from ..solvers._interrupt import INTERRUPTS, interrupted, sigint_ignored
from ..solvers.alm import warm_up
from .report import (
    DETERMINISTIC_COLUMNS,
    OUTPUT_NAMES,
    TIMING_COLUMNS,
    deterministic_view,
    format_report,
    plots,
    remove_outputs,
    reproducible_part,
    table_rows,
    write,
)
from .runs import (
    DATASETS,
    METHODS,
    MODES,
    TARGET_RTOL,
    kkt_checker,
    make_problem,
    record,
    run,
    run_alm,
    run_lambda_path,
    time_to,
    tune_lr,
)

__all__ = [
    "DATASETS",
    "DETERMINISTIC_COLUMNS",
    "METHODS",
    "MODES",
    "TARGET_RTOL",
    "TIMING_COLUMNS",
    "deterministic_view",
    "main",
    "make_problem",
    "reproducible_part",
    "run_alm",
    "run_comparison",
]


def _refuse_unordered(x, name: str) -> None:
    """A ``TypeError`` for a mapping or a set where an ordered sequence is asked: a set of
    names iterates in an order that changes from one interpreter to the next (string hashing
    is salted), so the table's rows would; a mapping would give its keys."""
    if isinstance(x, (Mapping, Set)):
        raise TypeError(f"{name} must be a sequence (a list or tuple: its order is the "
                        f"table's), got {type(x).__name__}")


def _names(x, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A non-empty sequence of names drawn from ``allowed``, as a tuple."""
    what = f"{name} must be a non-empty sequence drawn from {allowed}, got {x!r}"
    if isinstance(x, str):
        raise ValueError(what)
    _refuse_unordered(x, name)
    try:
        x = tuple(x)
    except TypeError:
        raise TypeError(what) from None
    if not x or not all(isinstance(v, str) and v in allowed for v in x):
        raise ValueError(what)
    return check_no_repeats(x, name)


@contextlib.contextmanager
def _threads(n):
    """At most ``n`` threads for every pool the runs use: torch's, the BLAS/OpenMP ones
    (threadpoolctl) and numba's (the ALM's compiled kernels); restored on exit."""
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    old, old_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(old)
        numba.set_num_threads(old_numba)


def _run_dataset(ds, cfg, methods, runs, kkt, log):
    """Every method and seed on one data set, both budgets, into ``runs``; then each run's
    time to the data set's target."""
    prob, Xte, Yte, metric = make_problem(ds, cfg)  # (in the mode's dtype, cfg["dtype"])
    if "alm" in methods:
        # untimed: compiling (after an install or a change of the code, about a minute:
        # logged) or loading (~0.6 s) the ALM's kernels for this dtype is a one-off cost, not
        # the solver's (the stochastic baselines are warmed by tune_lr)
        warm_up(prob.dtype, notice=log)
    cfg.setdefault("lr_by_dataset", {})[ds] = tune_lr(prob, cfg, ds, methods, log)
    for budget in ("converge", "time"):
        for m in methods:
            runs[(ds, budget, m)] = []
            for seed in cfg["seeds"]:
                res = run(m, prob, cfg, seed, budget, ds)
                at_net = ds in cfg["kkt_net"] and budget == "converge" and seed == cfg["seeds"][0]
                rec = record(m, res, prob, Xte, Yte, metric, kkt, at_net=at_net)
                rec["seed"] = seed
                runs[(ds, budget, m)].append(rec)
                log(f"{ds} {budget} {m} seed={seed}: Phi={res.Phi:.5g} "
                    f"time={res.time:.2f}s {res.status}")
    # target per seed: the best baseline's final Phi of the converge runs
    for i in range(len(cfg["seeds"])):
        finals = [runs[(ds, "converge", m)][i]["Phi"] for m in methods if m != "alm"]
        target = min(finals) if finals else runs[(ds, "converge", "alm")][i]["Phi"]
        for budget in ("converge", "time"):
            for m in methods:
                rec = runs[(ds, budget, m)][i]
                rec["target"], rec["t_target"] = target, time_to(rec["traj"], target)


def _draw_plots(out_dir, runs, path_rows, done, methods, seed, lambda_path):
    """The PNGs of :func:`~.report.plots`, one call per figure: ``(files, unplotted)``, where
    ``unplotted`` is ``""``, or after a Ctrl-C (which stops the plotting) what was not drawn,
    in words. The figures finished before it are kept; the one under way is removed, as its
    file may be half written (every PNG name of :data:`~.report.OUTPUT_NAMES` that is in the
    folder and not drawn is this run's: :func:`~.report.remove_outputs` ran before)."""
    figures = [([ds], False) for ds in done] + ([([], True)] if lambda_path else [])
    files = []
    try:
        for datasets_, path in figures:
            files += plots(out_dir, runs, path_rows, datasets_, methods, seed, lambda_path=path)
    except INTERRUPTS as exc:
        interrupted(exc)  # (re-raises anything else)
        for name in OUTPUT_NAMES:
            path = os.path.join(out_dir, name)
            if name.endswith(".png") and path not in files and os.path.isfile(path):
                os.remove(path)
        return files, f"{len(files)} of {len(figures)} plots drawn"
    return files, ""


def run_comparison(
    mode="fast",
    datasets=DATASETS,
    seeds=None,
    out_dir="compare_out",
    methods=METHODS,
    lambda_path=True,
    verbose=False,
    dtype="float64",
):
    """Run the comparison and write its table and plots.

    Parameters
    ----------
    mode : {"fast", "full"}
        ``fast``: tiny sizes and budgets (tests, seconds per data set); ``full``: the real
        comparison (about 21 minutes on 2 cores).
    datasets : sequence of str
        Drawn from :data:`DATASETS`.
    seeds : sequence of int >= 0 or None
        Seeds of the starts and batch orders; default the mode's.
    out_dir : str or os.PathLike
        Folder for ``table.txt``, ``table.csv``, ``lambda_path.csv``, ``report.json``, PNGs.
        Once the runs are done, the files of these names an earlier run left there
        (:data:`~.report.OUTPUT_NAMES`, e.g. its ``lambda_path.csv`` or the
        ``phi_vs_time_<dataset>.png`` of other data sets) are removed before writing, so that
        the folder holds only this run's outputs; other files stay.
    methods : sequence of str
        Drawn from :data:`METHODS` (``"alm"`` is the reference of the ratio columns).
    lambda_path : bool
        Also run the lambda path (and write ``lambda_path.csv``, ``sparsity_vs_score.png``).
    verbose : bool
        Print one line per run.
    dtype : {"float64", "float32"}
        Floating type of every problem, hence of every run (anything ``numpy.dtype`` reads as
        one of the two).

    Returns
    -------
    dict
        ``rows`` (one dict per data set, budget and method; medians over seeds), ``path_rows``,
        ``table`` (text: header, legend, reproducible part, full table), ``files`` (paths
        written), ``removed`` (paths of an earlier run's outputs removed before writing; those
        of ``files`` among them were rewritten), ``out_dir`` (absolute), ``config`` (with
        ``dtype``), ``interrupted`` (``None``, or where Ctrl-C stopped the comparison: the
        files then hold the data sets finished before, and the lambda path's points so far;
        ``"while drawing the plots"`` when every run had finished: the plots drawn before it
        are kept, and ``table`` says how many). A Ctrl-C while the table and files are
        written (milliseconds) is ignored.
    """
    cfg = dict(MODES[check_choice(mode, "mode", tuple(MODES))])
    datasets = _names(datasets, "datasets", DATASETS)
    methods = _names(methods, "methods", METHODS)
    if seeds is not None:
        what = f"seeds must be None or a non-empty sequence of non-negative ints, got {seeds!r}"
        _refuse_unordered(seeds, "seeds")
        try:
            seeds = tuple(seeds)
        except TypeError:
            raise TypeError(what) from None
        if not seeds:
            raise ValueError(what)
        cfg["seeds"] = check_no_repeats(tuple(check_seed(s, f"seeds[{i}]")
                                         for i, s in enumerate(seeds)), "seeds")
    lambda_path = check_bool(lambda_path, "lambda_path")
    verbose = check_bool(verbose, "verbose")
    cfg["dtype"] = check_float_dtype(dtype, "dtype").name
    # created now, not after the runs
    out_dir = writable_folder(check_path(out_dir, "out_dir", folder=True), "out_dir")
    taken = [name for name in OUTPUT_NAMES if os.path.isdir(os.path.join(out_dir, name))]
    if taken:  # (the runs went through, then the write failed with a traceback)
        raise ValueError(f"out_dir: {os.path.join(out_dir, taken[0])!r} is a folder where the "
                         f"comparison writes its file {taken[0]!r}; move it or choose another "
                         f"out_dir")
    log = print if verbose else (lambda *a: None)
    kkt = kkt_checker()
    runs, done, path_rows, where = {}, [], [], None
    with _threads(cfg["threads"]):
        try:
            for ds in datasets:
                where = f"during the data set {ds!r}"
                _run_dataset(ds, cfg, methods, runs, kkt, log)
                done.append(ds)
            where = "during the lambda path"
            if lambda_path:
                run_lambda_path(cfg, methods, kkt, log, rows=path_rows)
            where = None
        except INTERRUPTS as exc:  # Ctrl-C: report what is finished, lose nothing of it
            interrupted(exc)  # (re-raises anything else)
            log(f"interrupted {where}: reporting the finished data sets {done}")
    # The outputs. Their writing is not interrupted: a Ctrl-C while the rows are made and the
    # files written (milliseconds) is ignored, as `liftnet solve` ignores one while it writes
    # its result. The plots take longer (about 1 s, most of it matplotlib's first import and
    # savefig): a Ctrl-C there stops them and is reported as the others are (it raised out of
    # run_comparison, the table lost and an earlier run's files already removed); so they
    # come before the files that say where the comparison stopped.
    with sigint_ignored():
        rows = table_rows(runs, done, methods)
        # an earlier run's outputs go (only the names the harness writes): none is left
        # beside this run's, e.g. its lambda path or another data set's plot
        removed = remove_outputs(out_dir)
    pngs, unplotted = _draw_plots(out_dir, runs, path_rows, done, methods, cfg["seeds"][0],
                                  lambda_path)
    if unplotted:
        where = where or "while drawing the plots"
        log(f"interrupted while drawing the plots: {unplotted}")
    with sigint_ignored():
        table = format_report(rows, cfg, mode)
        if where and where != "while drawing the plots":
            table += f"\n(interrupted {where}: the rows above are the finished data sets)"
        if unplotted:
            table += f"\n(interrupted while drawing the plots: {unplotted})"
        files = write(out_dir, rows, path_rows, table, cfg, mode, where,
                      lambda_path=lambda_path)
    files += pngs
    return {
        "interrupted": where,
        "rows": rows,
        "path_rows": path_rows,
        "table": table,
        "files": files,
        "removed": removed,
        "out_dir": os.path.abspath(out_dir),
        "config": {k: v for k, v in cfg.items()},
        "mode": mode,
    }


def main(argv=None) -> int:
    """``liftnet compare`` / ``benchmarks/compare.py``: run and print the table; the outputs
    of an earlier run in ``--out-dir`` are removed before writing (and listed).

    Exit status: 0, 130 after Ctrl-C (the finished data sets written), 2 for bad arguments.
    A standard output that fails (``| head``, ``> /dev/full``) ends the printing only: the
    files are written, and a status of 0 becomes 141 (a closed pipe, in silence) or 1 (with a
    one-line error)."""
    p = argparse.ArgumentParser(prog="liftnet compare", description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=tuple(MODES), default="fast",
                   help="fast: small problems, seconds (the tests'); full: the issue's sizes, "
                        "seeds 0-2, about 21 minutes on 2 cores (default fast)")  # fmt: skip
    p.add_argument("--datasets", nargs="+", type=dataset_name(DATASETS), choices=DATASETS,
                   default=list(DATASETS),
                   help="data sets (mnist-like is accepted for mnist_like)")  # fmt: skip
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="solvers to run (default all)")
    p.add_argument("--seeds", nargs="+", type=seed_int, default=None,
                   help="seeds of the initial weights, no repeats (default: the mode's, 0 1 "
                        "in fast mode, 0 1 2 in full mode)")  # fmt: skip
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="floating type of every problem and run (default float64)")
    p.add_argument("--out-dir", default="compare_out",
                   help="folder of table.txt, table.csv, report.json, the PNGs and "
                        "lambda_path.csv (default compare_out); files of these names left by "
                        "an earlier run are removed before writing, other files stay")  # fmt: skip
    p.add_argument("--no-path", action="store_true", help="skip the lambda path")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (the table, its legend and the path's lines stay)")
    a = p.parse_args(check_argv(argv))
    try:  # repeated values and an unusable folder are refused now, not after the runs (and
        # the values first: a refused command leaves no folder behind)
        for opt in ("datasets", "methods", "seeds"):
            if getattr(a, opt) is not None:
                check_no_repeats(tuple(getattr(a, opt)), f"--{opt}")
        writable_folder(a.out_dir, "--out-dir")  # ("" is the current folder)
    except ValueError as exc:
        p.error(str(exc))
    t0 = time.perf_counter()
    # a print that fails (| head, > /dev/full) ends the printing, not the comparison: its
    # progress lines met a closed pipe with BrokenPipeError, and minutes of runs were lost
    out = _Output(sys.stdout)
    with contextlib.redirect_stdout(out):
        rep = run_comparison(
            a.mode,
            a.datasets,
            a.seeds,
            a.out_dir,
            a.methods,
            lambda_path=not a.no_path,
            verbose=not a.quiet,
            dtype=a.dtype,
        )
        _print_outcome(rep, t0)
        out.flush()  # a failure of buffered output shows here, not at the interpreter's exit
    # the comparison's own status comes first
    return out.exit_status(130 if rep["interrupted"] else 0, "compare",
                           [f"{len(rep['files'])} files in {rep['out_dir']}"])


def _print_outcome(rep, t0) -> None:
    """The table, the lambda path's lines and the files of :func:`main`."""
    print(rep["table"])
    for r in rep["path_rows"]:
        print(
            f"path lam={r['lam']:<8g} {r['method']:>13}: Phi={r['Phi']:.4g} "
            f"sparsity={r['sparsity']:.3f} test {r['metric']}={r['test_score']:.4g} "
            f"{r['status']}"
        )
    where = rep["out_dir"]  # (absolute: "" is the current folder)
    stale = sorted(os.path.basename(f) for f in set(rep.get("removed", ())) - set(rep["files"]))
    if stale:  # an earlier run's outputs that this run did not rewrite
        print(f"removed {len(stale)} file{'s' * (len(stale) != 1)} of an earlier run from "
              f"{where}: {', '.join(stale)}")
    print(f"wrote {len(rep['files'])} files to {where} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())

"""The ``liftnet`` command line: ``demo``, ``solve``, ``verify``, ``compare``.

* ``liftnet demo``: train a sparse leaky-ReLU network on scikit-learn's digits with the inexact
  ALM (MODEL.md section 6) and print its KKT certificate (section 5), the group sparsity per
  layer, the pruned size, the accuracy and the time.
* ``liftnet solve``: the same solver on a built-in dataset (``digits``, ``teacher``,
  ``mnist-like``) or a user file (``.npz``/``.csv``); writes ``PREFIX.npz`` (``W_l``, ``b_l``,
  ``V_l``, ``M1_l``, ``M2_l``, see :mod:`liftnet.io`) and ``PREFIX.json`` (parameters, status,
  KKT residuals, objective, sparsity, warnings, timings, history). Ctrl-C stops the solver,
  which returns its best iterate: both files are still written.
* ``demo`` and ``solve`` print ``warning: ...`` (``solve`` also records it under ``warnings``)
  where ``SparseLeakyReLUNet.fit`` would raise its ``LiftGapWarning``
  (:func:`liftnet.estimator.lift_gap_message`: one rule for both). The solver's compiled
  kernels are loaded before its clock starts (``warm_up`` in the timings); when that compiles
  them (a minute, after an install or a change of the code) a line on stderr says so, unless
  ``--quiet``.
* ``liftnet verify ...`` / ``liftnet compare ...``: passed on to
  ``liftnet.verification.crosscheck.main`` and ``liftnet.compare.main``.

Exit status: 0 when the solver returned a point (any status but ``diverged``/``failed``,
``interrupted``), 1 for ``diverged``/``failed``, 2 for bad arguments or data, 130 after Ctrl-C
(as ``liftnet verify`` and ``liftnet compare``; ``solve`` has still written its files).

``solve`` writes its two files before it prints the summary, each on its own: a failure
while writing one (a full disk) is one line on stderr naming the file, the other is still
written (all or nothing, :func:`liftnet.io.save_result`), and the exit status is 1 whatever
the solver's. A name that cannot be created (one too long) is refused before the solve (2).
A standard output that fails (``| head`` closing the pipe, ``> /dev/full``) ends the printing
only: the files are written, and where the status would have been 0 it is 141 for a closed
pipe (128 + SIGPIPE, what a shell reports for a program a closed pipe ended; no message, as
Python's ``signal`` documentation advises) and 1 with a one-line error otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time

import numpy as np

from . import __version__
from ._validation import check_argv
from .cli_data import DATASETS, MAX_MNIST_LIKE, as_option, load_problem_data
from .io import reason
from .solvers._interrupt import sigint_ignored

DELEGATED = {
    "verify": ("liftnet.verification.crosscheck", "cross-check the ALM against IPOPT"),
    "compare": ("liftnet.compare", "compare the ALM with baseline training methods"),
}


# ------------------------------------------------------- argument types
# Numeric options are checked by argparse itself, so a bad value stops the command (exit 2,
# "argument --tol: ...") before any data is loaded or any solve runs.
def _float_in(low: float, high: float | None, *, low_open: bool, high_open: bool, what: str):
    """An argparse type: a finite number in the given interval (``what`` says which), so that
    a model parameter out of range is refused under its option's name (``argument --alpha:
    ...``) before any data is loaded, not by the library under its Python name."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = math.isfinite(v) and (v > low if low_open else v >= low)
        if high is not None:
            ok = ok and (v < high if high_open else v <= high)
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return v

    return parse


def _int_at_least(low: int, what: str, high: int | None = None):
    """An argparse type: an integer ``>= low`` (and ``<= high`` when given)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < low or (high is not None and v > high):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return v

    return parse


#: The largest seed: scikit-learn's ``random_state`` (the data split) takes ``[0, 2**32 - 1]``.
MAX_SEED = 2**32 - 1
#: argparse types: an integer >= 1; a seed (an integer in [0, 2**32 - 1]).
positive_int = _int_at_least(1, "an integer >= 1")
seed_int = _int_at_least(0, f"a non-negative integer <= {MAX_SEED} (2**32 - 1)", high=MAX_SEED)

#: argparse types: a number > 0 (--beta, --tol, time limits); the leaky-ReLU slope in (0, 1)
#: (--alpha); a weight >= 0 (--lam); a held-out fraction in [0, 1) (--test-size).
positive_float = _float_in(0.0, None, low_open=True, high_open=False,
                           what="a finite number > 0")  # fmt: skip
slope_float = _float_in(0.0, 1.0, low_open=True, high_open=True, what="a number in (0, 1)")
nonnegative_float = _float_in(0.0, None, low_open=False, high_open=False,
                              what="a finite number >= 0")  # fmt: skip
fraction_float = _float_in(0.0, 1.0, low_open=False, high_open=True, what="a number in [0, 1)")


def dataset_name(names):
    """An argparse type for a dataset option: ``mnist-like`` and ``mnist_like`` (any ``-`` /
    ``_`` spelling) both give the canonical spelling in ``names``, which ``choices`` (and so
    ``--help``) shows; ``solve`` spells it ``mnist-like``, ``compare`` ``mnist_like``."""
    canonical = {n.replace("_", "-"): n for n in names}

    def parse(text: str) -> str:
        return canonical.get(text.replace("_", "-"), text)  # an unknown name: choices refuses it

    return parse


# ----------------------------------------------------------------- helpers
def group_sparsity(prob, W) -> list[dict]:
    """Per layer: groups of ``W_l`` that are exactly zero (``prob.penalty.group_norms``)."""
    out = []
    for l, Wl in enumerate(W, start=1):
        norms = prob.penalty.group_norms(Wl)
        out.append({"layer": l, "shape": list(Wl.shape), "groups": prob.groups,
                    "zero": int(np.sum(norms == 0)), "total": int(norms.size)})  # fmt: skip
    return out


def _progress(total: int, quiet: bool, time_limit):
    """A tqdm bar (shown after 1 s) and the ``callback`` feeding it after each outer iteration.

    With a time limit the bar measures seconds out of it; without, it counts outer iterations
    (no total: the ALM stops at the KKT tolerance long before ``max_iter``, so a total would
    give a meaningless ETA). The postfix shows the KKT residual and the penalty ``rho``.
    """
    from tqdm.auto import tqdm

    timed = time_limit is not None
    bar = tqdm(total=time_limit if timed else None, unit="s" if timed else "outer it",
               disable=quiet, delay=1.0, leave=False, dynamic_ncols=True, file=sys.stderr,
               bar_format=("{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}" if timed
                           else None))  # fmt: skip

    def callback(rec):
        # the postfix first: update() draws the bar, which showed the previous iteration's
        # numbers beside this one's count (a review, 2026-12-07)
        bar.set_postfix(it=rec.get("k"), kkt=f"{rec.get('residual', float('nan')):.1e}",
                        rho=f"{rec.get('rho', float('nan')):.1e}", refresh=False)  # fmt: skip
        if timed:
            bar.update(min(rec.get("time", bar.n), time_limit) - bar.n)
        else:
            bar.update(1)
        return False

    return bar, callback


def _to_stderr(line: str) -> None:
    """A line for the user beside the progress bar (stderr: stdout carries the summary)."""
    print(line, file=sys.stderr, flush=True)


def _solver_default(name):
    """The default of ``solve_alm``'s keyword ``name`` (the value used, and reported, when the
    option was not given)."""
    import inspect

    from .solvers.alm import solve_alm

    return inspect.signature(solve_alm).parameters[name].default


def _solve(prob, args, init=None):
    """``solve_alm`` with the CLI's options, a progress bar, and Ctrl-C turned into
    ``status="interrupted"`` (the solver itself catches it and returns its best iterate)."""
    from .solvers.alm import solve_alm

    bar, callback = _progress(args.max_iter, args.quiet, args.time_limit)
    try:
        return solve_alm(prob, tol=args.tol, seed=args.seed, time_limit=args.time_limit,
                         init=init, max_iter=args.max_iter, max_inner=args.max_inner,
                         polish_weights=args.polish_weights, callback=callback)  # fmt: skip
    finally:
        # a Ctrl-C while the bar is erased would lose the result solve_alm has returned
        with sigint_ignored():
            bar.close()


#: What the ``train_*`` / ``test_*`` metrics are, per task (written into ``PREFIX.json``): the
#: definitions of ``SparseLeakyReLUNet.score``, so the CLI and the estimator report one number.
#: R^2 of several outputs is their uniform average, not the variance-weighted one.
METRIC_DEFINITIONS = {
    "classification": {"accuracy": "fraction of samples whose largest output is the true class"},
    "regression": {"r2": "coefficient of determination, uniform average over the outputs "
                         "(sklearn.metrics.r2_score's default, as SparseLeakyReLUNet.score)"},
}  # fmt: skip


def _metrics(prob, res, data) -> dict:
    """Train/test accuracy (classification) or R^2 (regression) of the exact network, as
    :data:`METRIC_DEFINITIONS` defines them.

    The targets are shaped as :class:`~liftnet.LiftedProblem` shapes them, ``(M, n_L)``: a 1-D
    target (one csv column, a 1-D ``Y`` in an npz) against the ``(M, 1)`` prediction would
    otherwise broadcast to ``(M, M)``. Fewer than two samples give ``nan`` (R^2 is undefined).
    """
    from sklearn.metrics import r2_score

    out = {}
    for part, X, Y in (("train", data.X_train, data.Y_train), ("test", data.X_test, data.Y_test)):
        if X is None or len(X) == 0:
            continue
        F = prob.predict(res.W, res.b, X)
        Y = np.asarray(Y).reshape(len(X), -1)
        if data.task == "classification":
            out[f"{part}_accuracy"] = float(np.mean(F.argmax(1) == Y.argmax(1)))
        else:
            # (in float64: float32 sums of squares overflowed to an R^2 of -inf)
            out[f"{part}_r2"] = (float(r2_score(Y.astype(np.float64), F.astype(np.float64)))
                                 if len(Y) >= 2 else float("nan"))
    return out


def _lift_gap(prob, res):
    """SparseLeakyReLUNet's LiftGapWarning text for this result (one rule), or None."""
    from .estimator import constant_network_Phi, lift_gap_message

    return lift_gap_message(res, prob.beta, constant_network_Phi(prob))


def _print_summary(prob, res, data, metrics, t_data, t_total, out=None, t_warm=0.0):
    """Print the result (``metrics``: :func:`_metrics`, computed by the caller, whose files
    are written before this prints)."""
    from .pruning import prune_weights

    kkt = res.kkt
    out = sys.stdout if out is None else out
    p = lambda *a: print(*a, file=out)  # noqa: E731
    if data.info.get("note"):  # how the data were read, where it may not be what was meant
        p(f"note: {data.info['note']}")
    # (a Ctrl-C's message, "interrupted (KeyboardInterrupt)", names the status already: it
    # was printed "interrupted (interrupted (KeyboardInterrupt))", as liftnet verify did)
    said = (res.message if res.message.startswith(f"{res.status} (")
            else f"{res.status} ({res.message})")  # fmt: skip
    p(f"status: {said} after {res.nit} outer / {res.get('n_inner', '?')} inner iterations")
    p("KKT certificate (docs/maths.md 5, infinity norms, multipliers "
      f"{kkt.get('multipliers', 'given')}):")  # fmt: skip
    for key in ("stationarity", "primal_feasibility", "dual_feasibility", "complementarity"):
        p(f"  {key.replace('_', ' '):<20} {kkt[key]:.3e}")
    p(f"  {'residual':<20} {kkt['residual']:.3e}   (tol {res.get('tol', float('nan')):g})")
    p(f"objective F = {res.objective:.6g}, Phi = {res.Phi:.6g}")
    if "target_scale" in data.info:  # F and Phi are those of the standardised target
        mean, scale = data.info["target_mean"], data.info["target_scale"]
        p(f"  (of the target standardised as (y - {', '.join(f'{m:.6g}' for m in mean)}) / "
          f"{', '.join(f'{v:.6g}' for v in scale)}; --no-standardize keeps it as read)")
    gap = _lift_gap(prob, res)
    if gap is not None:
        p(f"warning: {gap}")
    p(f"group sparsity ({prob.groups} groups, exact zeros):")
    for s in group_sparsity(prob, res.W):
        p(f"  W_{s['layer']} {s['shape'][0]}x{s['shape'][1]}: {s['zero']}/{s['total']} zero")
    W2, b2, _ = prune_weights(res.W, res.b, alpha=prob.alpha)
    size = lambda W, b: sum(w.size for w in W) + (0 if b is None else sum(x.size for x in b))  # noqa: E731
    widths = [W2[0].shape[1]] + [w.shape[0] for w in W2]
    p(f"pruned network: {'-'.join(map(str, prob.widths))} -> {'-'.join(map(str, widths))} "
      f"({size(res.W, res.b)} -> {size(W2, b2)} parameters, same function)")  # fmt: skip
    p("  ".join(f"{k.replace('_', ' ')}: {v:.4f}" for k, v in metrics.items()))
    warm = f", kernels' warm-up {_seconds(t_warm)} s" if t_warm else ""
    p(f"time: {_seconds(t_total)} s (data {_seconds(t_data)} s{warm}, "
      f"solver {_seconds(res.time)} s)")


def _seconds(t) -> str:
    """A duration for the summary: tenths of a second, hundredths below one second (a solve
    of 600 inner iterations on a small problem printed as 'solver 0.0 s')."""
    return f"{t:.2f}" if t < 1 else f"{t:.1f}"


def _report(args, prob, res, data, metrics, timings) -> dict:
    gap = _lift_gap(prob, res)
    return {
        "command": "liftnet solve",
        "data": data.info,
        "params": {
            "hidden": list(prob.widths[1:-1]),
            "widths": list(prob.widths),
            "alpha": prob.alpha,
            "beta": prob.beta,
            "lam": prob.lam,
            "groups": prob.groups,
            "coupling": prob.coupling_name,
            "bias": prob.bias,
            "tol": args.tol,
            "max_iter": args.max_iter,
            "max_inner": args.max_inner,
            "polish_weights": args.polish_weights,
            "time_limit": args.time_limit,
            "seed": args.seed,
            # the split a later --init must match (a review: not in the report)
            "test_size": getattr(args, "test_size", None),
            "n_samples": getattr(args, "n_samples", None),
            "dtype": str(prob.dtype),
            "init": args.init,  # the --init result file as given (null without a warm start)
        },  # fmt: skip
        "status": res.status,
        "message": res.message,
        "success": bool(res.success),
        "kkt": {k: v for k, v in res.kkt.items() if k not in ("M1", "M2")},
        "objective": res.objective,
        "Phi": res.Phi,
        "nit": res.nit,
        "n_inner": res.get("n_inner"),
        "sparsity": {"layers": group_sparsity(prob, res.W), "fraction": res.sparsity},
        "metrics": metrics,
        "metrics_definition": METRIC_DEFINITIONS[data.task],
        # what the summary printed as "warning: ..." (SparseLeakyReLUNet's LiftGapWarning)
        "warnings": [] if gap is None else [gap],
        "timings": timings,
        "history": res.history,
    }


# --------------------------------------------------------------- commands
def _add_model_args(sp, *, hidden, lam, time_limit, bias):
    # the model's numbers are checked here, under the options' names, not by LiftedProblem
    # under its parameters' names (alpha, lam, ...) after the data are loaded
    sp.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=list(hidden),
        help=f"hidden widths n_1..n_(L-1) (default {' '.join(map(str, hidden))})",
    )
    sp.add_argument("--alpha", type=slope_float, default=0.1, help="leaky-ReLU slope in (0, 1)")
    sp.add_argument("--beta", type=positive_float, default=1.0, help="coupling weight > 0")
    sp.add_argument("--lam", type=nonnegative_float, default=lam,
                    help=f"group-sparsity weight >= 0 (default {lam:g})")  # fmt: skip
    sp.add_argument("--groups", default="column", choices=("column", "row", "element"))
    sp.add_argument("--coupling", default="complementarity", choices=("complementarity", "squared"))
    sp.add_argument("--bias", action=argparse.BooleanOptionalAction, default=bias,
                    help=f"layers with biases b_l (default: {'with' if bias else 'without'})")
    sp.add_argument("--tol", type=positive_float, default=1e-6, help="target KKT residual")
    sp.add_argument("--max-iter", type=positive_int, default=200, help="outer ALM iterations")
    sp.add_argument("--max-inner", type=positive_int, default=None,
                    help="inner iterations per outer one (default: solve_alm's; "
                         "docs/maths.md 6.1)")  # fmt: skip
    sp.add_argument("--polish-weights", action=argparse.BooleanOptionalAction, default=None,
                    help="the weights alone after long inner solves, and on copies of the "
                         "iterate near --tol (default: solve_alm's, on; docs/maths.md 6.4, "
                         "6.5)")  # fmt: skip
    sp.add_argument(
        "--time-limit",
        type=positive_float,
        default=time_limit,
        help=f"solver time limit in seconds: wall time less its reporting-only "
             f"evaluations (default {time_limit})",
    )
    sp.add_argument("--seed", type=seed_int, default=0,
                    help="seed of the data split and the weights")  # fmt: skip
    sp.add_argument("--quiet", action="store_true",
                    help="no progress bar, no header lines and no compile notice (the summary "
                         "stays)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liftnet", description=(
        "Sparse leaky-ReLU networks trained to certified KKT points of the lifted model "
        "by an inexact augmented Lagrangian method."))  # fmt: skip
    parser.add_argument("--version", action="version", version=f"liftnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{demo,solve,verify,compare}")
    demo = sub.add_parser("demo", help="train on the digits, print the KKT certificate")
    # lam 1e-2 without biases: the ALM reaches its tol 1e-6 there in about 7 s (seeds 0-2,
    # 2026-12-03), so the demo prints a certificate that holds; with biases (level sets
    # unbounded, docs/maths.md 4, fact 2) or at lam 1e-3 it was at 5e-5 to 7e-4 after 50 s
    # (README)
    _add_model_args(demo, hidden=(32, 16), lam=1e-2, time_limit=50.0, bias=False)
    solve = sub.add_parser("solve", help="solve on a built-in dataset or a file, write results")
    src = solve.add_mutually_exclusive_group()
    # default None, not "digits": argparse tells a given option by its value not being the
    # default object, and dataset_name returns that very string, so "--data digits --file F"
    # passed as --file alone (load_problem_data reads None as digits)
    src.add_argument("--data", type=dataset_name(DATASETS), choices=DATASETS, default=None,
                     help="built-in dataset (default digits; mnist_like is accepted for "
                          "mnist-like)")  # fmt: skip
    src.add_argument("--file", help="user data: .npz (arrays X, Y) or .csv (target column)")
    solve.add_argument("--target", help="with --file: npz key or csv column (name or index) "
                                        "of the target")  # fmt: skip
    solve.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="with --file; auto: integer labels (<= 50 values) or one-hot rows -> classes",
    )
    solve.add_argument(
        "--header",
        choices=("auto", "yes", "no"),
        default="auto",
        help="with a .csv --file: its first row holds column names (yes) or data (no); auto: "
        "names when one of its cells holds text that is no number (else it is read as data, "
        "and the summary and PREFIX.json say so)",
    )
    solve.add_argument(
        "--n-samples",
        type=positive_int,
        default=None,
        help="samples for --data teacher (all of them, split by --test-size; default 500) or "
        "mnist-like (the training ones, the held-out ones generated on top; default 2000; at "
        f"most {MAX_MNIST_LIKE} generated in all); refused with --data digits and --file, "
        "whose samples are given",
    )
    solve.add_argument("--test-size", type=fraction_float, default=0.25,
                       help="held-out fraction in [0, 1) (default 0.25); 0: train on all "
                            "samples, no test metrics (not with --data digits)")  # fmt: skip
    solve.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        help="with --file: keep its columns as they are (by default the inputs, and the "
             "targets of a regression, are standardised with the training statistics: "
             "PREFIX.json's data.target_mean and data.target_scale map the network's outputs "
             "back to the file's units)",
    )
    solve.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                       help="the problem's dtype (default float64); a --file is read, split "
                            "and standardised in float64 and cast last")  # fmt: skip
    solve.add_argument("--init", metavar="NPZ",
                       help="warm start from a result file of an earlier solve")  # fmt: skip
    solve.add_argument("--out", default="liftnet_result",
                       help="output prefix (default liftnet_result): writes PREFIX.npz and "
                            "PREFIX.json (a given .npz or .json ending is dropped: --out "
                            "run.npz writes run.npz and "
                            "run.json); a folder is refused (give DIR/run), and so is a "
                            "prefix whose files would overwrite --file")  # fmt: skip
    _add_model_args(solve, hidden=(16,), lam=1e-3, time_limit=None, bias=True)
    for name, (_, helptext) in DELEGATED.items():
        sub.add_parser(name, help=helptext + " (arguments passed on)", add_help=False)
    return parser


def _delegate(name: str, argv: list[str]) -> int:
    module, _ = DELEGATED[name]
    try:
        entry = importlib.import_module(module).main
    except (ImportError, AttributeError) as exc:
        print(f"liftnet {name}: not available: cannot import {module}.main ({exc})",
              file=sys.stderr)  # fmt: skip
        return 2
    except KeyboardInterrupt:  # its imports (Pyomo, PyTorch) take a second or two
        print(f"liftnet {name}: interrupted while starting; nothing was run", file=sys.stderr)
        return 130
    rc = entry(argv)
    return 0 if rc is None else int(rc)


def _out_prefix(out: str) -> str:
    """``--out``: the prefix of ``PREFIX.npz`` and ``PREFIX.json``; a given ``.npz`` or
    ``.json`` ending (any case) is the user naming one of the two files, not a prefix.

    A folder (``DIR/``, ``DIR`` that exists as one, an empty name) is refused: its prefix
    would write the hidden files ``DIR/.npz`` and ``DIR/.json`` (or ``DIR.npz`` beside it)."""
    seps = tuple(c for c in (os.sep, os.altsep) if c)
    if not out:
        raise ValueError("--out: the prefix is empty, expected one such as 'run' (writes "
                         "run.npz and run.json)")  # fmt: skip
    if out.endswith(seps) or os.path.isdir(out) or os.path.basename(out) in (".", ".."):
        raise ValueError(f"--out: {out!r} is a folder, expected a file prefix such as "
                         f"{os.path.join(os.path.normpath(out), 'run')!r} (writes "
                         f"PREFIX.npz and PREFIX.json)")  # fmt: skip
    if os.path.basename(out).lower() in (".npz", ".json"):  # (wrote .npz.npz and .npz.json)
        raise ValueError(f"--out: {out!r} names no prefix, only an ending: give one such as "
                         f"'run' (writes run.npz and run.json)")
    stem, ext = os.path.splitext(out)
    return stem if ext.lower() in (".npz", ".json") and os.path.basename(stem) else out


def _check_not_input(prefix: str, file) -> None:
    """``--out``'s files must not be ``--file`` (``--file run.npz --out run`` wrote the result
    over the data): compared as files (links, relative paths, case-insensitive systems)."""
    if file is None:
        return
    for path in (prefix + ".npz", prefix + ".json"):
        try:
            same = os.path.samefile(path, file)
        except OSError:  # one of them does not exist (yet): not one file
            same = False
        if same:
            raise ValueError(f"--out: {path!r} would overwrite the input --file {file!r}; give "
                             f"another --out")  # fmt: skip


def _load_init(args, prob):
    """``--init``: a result file of an earlier solve, checked against this problem now (not
    inside the solver); errors name ``--init``."""
    from .io import load_result
    from .solvers.init import parse_init

    try:
        init = load_result(args.init)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise as_option(exc, {"path": "--init"}) from None
    try:
        parse_init(prob, init, args.seed)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"--init: the result in {args.init!r} does not fit this problem: "
                        f"{exc}") from None  # fmt: skip
    return init


class _Output:
    """The stream the command prints to, for ``print(file=...)``: a write that fails (the
    reader of a pipe gone, ``| head``; a full disk, ``> /dev/full``) ends the printing, not the
    command. A solve's files are its result and the summary only a view of it: a
    BrokenPipeError there lost both with a traceback. ``error`` keeps the first failure, for
    the exit status (:func:`_output_failed`)."""

    def __init__(self, stream):
        # (a closed standard output, `>&-` under cron, is None: a traceback at the first
        # print, before the solve, and no files; now the prints go nowhere)
        self.stream = open(os.devnull, "w") if stream is None else stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                self.stream.write(text)
            except OSError as exc:
                self.error = exc
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self.error = exc

    def exit_status(self, rc: int, mode: str, written) -> int:
        """The command's exit status: ``rc``, its own, when printing went well; else the
        failure is dealt with (:func:`_output_failed`: what is still buffered goes nowhere,
        so that the interpreter's exit does not fail on it again, whatever ``rc``) and its
        status (141 or 1) replaces an ``rc`` of 0."""
        if self.error is None:
            return rc
        failed = _output_failed(self.stream, self.error, mode, written)
        return rc or failed

    def __getattr__(self, name):
        # the rest of a text stream (encoding, isatty, fileno) is the stream's: the
        # comparison runs with it as sys.stdout (liftnet.compare.main)
        return getattr(self.stream, name)


def _output_failed(stream, exc: OSError, mode: str, written) -> int:
    """The exit status after ``stream`` (standard output) failed with ``exc``: 141 (128 +
    SIGPIPE) in silence for a closed pipe, else 1 with a one-line error saying which files
    were written all the same. What is still buffered for the stream is sent to ``os.devnull``
    (Python's advice for SIGPIPE): the interpreter's last flush would fail again and print
    "Exception ignored ... BrokenPipeError" (status 120)."""
    try:
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's stream)
        pass
    if isinstance(exc, BrokenPipeError):
        return 141
    files = f"; written: {' and '.join(written)}" if written else ""
    print(f"liftnet {mode}: error: cannot print to standard output: {reason(exc)}{files}",
          file=sys.stderr)  # fmt: skip
    return 1


def _write_results(args, prob, res, data, metrics, timings, mode: str):
    """Write ``PREFIX.npz`` and ``PREFIX.json``, each on its own: a failure of one (a full
    disk) is one line on stderr naming the file, and the other is still written. Returns the
    files written and those that failed."""
    from .io import save_result, write_json

    jobs = ((args.out + ".npz", lambda path: save_result(path, res)),
            (args.out + ".json", lambda path: write_json(
                path, _report(args, prob, res, data, metrics, timings))))  # fmt: skip
    written, failed = [], []
    for path, write in jobs:
        try:
            written.append(write(path))
        except (OSError, ValueError) as exc:  # ValueError: save_result's check of the place
            print(f"liftnet {mode}: error: cannot write {path!r}: {reason(exc)}", file=sys.stderr)
            failed.append(path)
    return written, failed


def _check_model_options(args) -> None:
    """The model's options that ``LiftedProblem`` checks against the dtype (``--lam``: the
    solvers square it), refused under their options' names before any data is loaded: a
    one-sample problem built with them runs the one rule there is."""
    from .formulation.problem import LiftedProblem

    try:
        LiftedProblem(np.zeros((1, 1)), np.zeros((1, 1)), hidden=(1,), alpha=args.alpha,
                      beta=args.beta, lam=args.lam, groups=args.groups,
                      coupling=args.coupling, bias=args.bias,
                      dtype=getattr(args, "dtype", "float64"))  # fmt: skip
    except (ValueError, TypeError) as exc:
        raise as_option(exc, MODEL_OPTIONS) from None


#: LiftedProblem's parameters and the options that set them (its messages name the former;
#: X and Y are the data of --file or --data)
MODEL_OPTIONS = {"alpha": "--alpha", "beta": "--beta", "lam": "--lam", "groups": "--groups",
                 "coupling": "--coupling", "bias": "--bias", "hidden": "--hidden",
                 "X": "--file's inputs X",
                 "Y": "--file's targets Y (standardised unless --no-standardize)"}  # fmt: skip

#: solve_alm's parameters and the options that set them
SOLVER_OPTIONS = {"max_inner": "--max-inner", "max_iter": "--max-iter", "tol": "--tol",
                  "time_limit": "--time-limit", "seed": "--seed"}  # fmt: skip


def _solver_option(exc: Exception) -> Exception:
    """A refusal of ``solve_alm`` in the command line's words: its parameter replaced by the
    option (:data:`SOLVER_OPTIONS`), a refused start (``init['rho'] = ...``) under
    ``--init``."""
    if str(exc).startswith("init["):
        return type(exc)(f"--init: {exc}")
    if str(exc).startswith("the default rho0 = 10 beta / N"):
        return type(exc)(f"--beta: {exc}")
    return as_option(exc, SOLVER_OPTIONS)


def _run(args, mode: str, out=None) -> int:
    out = _Output(sys.stdout if out is None else out)
    t0 = time.perf_counter()
    t_warm = 0.0
    try:
        # the solver's modules (numba, scipy: about 0.3 s) load inside the Ctrl-C guard below
        from .formulation.problem import LiftedProblem
        from .io import writable_file
        from .solvers.alm import warm_up

        if mode == "solve":  # both files go to one folder: usable now, not after the solve
            args.out = _out_prefix(args.out)
            _check_not_input(args.out, args.file)
            writable_file(args.out + ".npz", "--out")
            writable_file(args.out + ".json", "--out")
        _check_model_options(args)
        data = load_problem_data(args, mode)
        try:
            prob = LiftedProblem(data.X_train, data.Y_train, hidden=tuple(args.hidden),
                                 alpha=args.alpha, beta=args.beta, lam=args.lam,
                                 groups=args.groups, coupling=args.coupling, bias=args.bias,
                                 dtype=getattr(args, "dtype", "float64"))  # fmt: skip
        except (ValueError, TypeError) as exc:
            raise as_option(exc, MODEL_OPTIONS) from None
        init = None
        if getattr(args, "init", None) is not None:
            init = _load_init(args, prob)
        t_data = time.perf_counter() - t0
        # the compiled kernels are loaded (0.6 s) or compiled (about a minute, after an
        # install or a change of the code: said on stderr unless --quiet) before the solve,
        # off the solver's clock as SparseLeakyReLUNet.fit and the comparison harness do
        warm_up(prob.dtype, notice=None if args.quiet else _to_stderr)
        t_warm = time.perf_counter() - t0 - t_data
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"liftnet {mode}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted_before_the_solve(mode)
    try:
        if not args.quiet:
            print(
                f"liftnet {mode}: {data.info['name']}, {prob.N} training samples, network "
                f"{'-'.join(map(str, prob.widths))}, {data.task}",
                file=out,
            )
            print(f"model (M): alpha={prob.alpha:g} beta={prob.beta:g} lam={prob.lam:g} "
                  f"groups={prob.groups} coupling={prob.coupling_name} bias={prob.bias}; "
                  f"ALM tol={args.tol:g} time_limit={args.time_limit} seed={args.seed}",
                  file=out)  # fmt: skip
        for name in ("max_inner", "polish_weights"):  # resolved once: the solve and the
            if getattr(args, name) is None:            # report read the same value
                setattr(args, name, _solver_default(name))
        # a Ctrl-C from here to the solver's first iterate (the progress bar's start, the
        # solver's BLAS limit; solve_alm raises it when no iterate exists yet) is the same
        # as one in the data load: a traceback until a review found it (2026-12-07)
        res = _solve(prob, args, init)
    except KeyboardInterrupt:
        return _interrupted_before_the_solve(mode)
    except (ValueError, TypeError) as exc:
        # solve_alm's own checks of the options and the start, before any iterate (--beta
        # 1e13 gave a default rho0 above rho_max, --init a rho above it; a traceback until
        # a review, 2026-12-07)
        print(f"liftnet {mode}: error: {_solver_option(exc)}", file=sys.stderr)
        return 2
    t_total = time.perf_counter() - t0
    # the solver has returned its best point: a further Ctrl-C must not lose it
    written, failed = [], []
    with sigint_ignored(mode == "solve"):
        metrics = _metrics(prob, res, data)
        if mode == "solve":  # the files first: a failing stdout must not lose them
            timings = {"data": t_data, "warm_up": t_warm, "solver": res.time,
                       "total": t_total}  # fmt: skip
            written, failed = _write_results(args, prob, res, data, metrics, timings, mode)
        _print_summary(prob, res, data, metrics, t_data, t_total, out=out, t_warm=t_warm)
        if written:
            print(f"wrote {' and '.join(written)}", file=out)
        out.flush()  # a failure of buffered output shows here, not at the interpreter's exit
    if failed:  # the result is (in part) lost, whatever the solver's status
        rc = 1
    elif res.status == "interrupted":  # the shell's code for Ctrl-C, the files written
        rc = 130
    else:
        rc = 1 if res.status in ("diverged", "failed") else 0
    return out.exit_status(rc, mode, written)  # the solver's and the files' status come first


def _interrupted_before_the_solve(mode) -> int:
    """A Ctrl-C before the solver has an iterate: one line instead of a traceback, and the
    shell's status for it."""
    print(f"liftnet {mode}: interrupted before the solve started; nothing to save",
          file=sys.stderr)
    return 130


def main(argv=None) -> int:
    """Entry point of the ``liftnet`` console script; returns the exit status."""
    argv = check_argv(argv)
    argv = list(sys.argv[1:]) if argv is None else argv
    if sys.stdout is None:  # a closed standard output (`>&-`): the prints go nowhere
        sys.stdout = open(os.devnull, "w")
    if argv and argv[0] in DELEGATED:
        try:
            rc = _delegate(argv[0], argv[1:])
            sys.stdout.flush()  # buffered output fails here, not at the interpreter's exit
            return rc
        except BrokenPipeError as exc:  # their output piped into a reader that left (| head)
            return _output_failed(sys.stdout, exc, argv[0], [])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _run(args, args.command)

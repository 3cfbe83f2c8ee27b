"""``liftnet verify``: the ALM against IPOPT on a small built-in teacher instance (MODEL.md 7).

Builds a teacher instance (:func:`liftnet.datasets.make_teacher`, a random leaky-ReLU network
with the student's widths and noisy samples of it), the lifted model
(:class:`liftnet.LiftedProblem`), solves it with :func:`liftnet.solve_alm`, runs
:func:`liftnet.verification.crosscheck.crosscheck_ipopt`, prints the report as a table and,
with ``--json PATH``, writes it (with the instance's parameters) as JSON.

When every group of the ALM's network is zero (``W = 0``, a large ``--lam``), a warning says
that the comparison is then of the zero network (JSON: ``zero_network``).

Exit status: 0 when the verdict is ``agree``, 1 when it is not, 2 for bad arguments, 130 when
Ctrl-C stopped the ALM (no IPOPT run follows) or the cross-check (no run follows the one it
stopped), with no verdict: the report of what is finished (the ALM's point alone after a
Ctrl-C in the ALM, ``interrupted_during`` ``"the ALM"``) is printed and written all the same.
A ``--json`` name that cannot be created (one too long) is refused before any solve (2); a
failure while writing it (a full disk) is one line on stderr naming the file, exit status 1
whatever the verdict. The file is written before the table is printed, and a standard output
that fails ends the printing only (not the run): with ``| head -1`` the next print raised
BrokenPipeError, a traceback and no ``--json`` file. Such a run ends 141 (128 + SIGPIPE) in
silence for a closed pipe, 1 with a one-line error for another failure (``> /dev/full``),
unless the run's own status is already nonzero.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..cli import (
    MODEL_OPTIONS,
    _Output,
    _to_stderr,
    nonnegative_float,
    positive_float,
    positive_int,
    seed_int,
    slope_float,
)
from ..cli_data import as_option

#: the parameters of the instance's checks (make_teacher, LiftedProblem) as verify's options
VERIFY_OPTIONS = {**MODEL_OPTIONS, "noise": "--noise", "N": "--N"}


def _hidden(text: str) -> tuple[int, ...]:
    """One ``--hidden`` word: a width, or widths joined by commas (``3,3``). A comma at either
    end is the shell's split of ``3, 3`` (the words ``3,`` and ``3``); an empty field between
    two commas (``2,,2``) is refused, not dropped (a width left out by mistake)."""
    fields = text.replace(" ", "").split(",")
    if len(fields) > 1 and not fields[-1]:
        fields.pop()
    if len(fields) > 1 and not fields[0]:
        fields.pop(0)
    if len(fields) > 1 and not all(fields):
        raise argparse.ArgumentTypeError(f"expected positive widths such as 3 3 or 3,3, got "
                                         f"{text!r} (an empty field between commas)")
    try:
        widths = tuple(int(t) for t in fields if t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected positive widths such as 3 3 or 3,3, got "
                                         f"{text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected positive widths such as 3 3 or 3,3, got "
                                         f"{text!r}")
    return widths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="liftnet verify",
        description="Cross-check the ALM against IPOPT on a small teacher instance of (M): "
        "objectives, KKT residuals by one checker, solution and multiplier distances, MFCQ, "
        "and a verdict.",
    )
    p.add_argument("--N", type=positive_int, default=20, help="number of samples (default 20)")
    p.add_argument("--hidden", type=_hidden, nargs="+", default=[(3, 3)],
                   help="hidden widths, as demo and solve take them (3 3) or comma-separated "
                        "(3,3) (default 3 3)")  # fmt: skip
    p.add_argument("--inputs", type=positive_int, default=2, help="input width n_0 (default 2)")
    p.add_argument("--outputs", type=positive_int, default=1, help="output width n_L (default 1)")
    p.add_argument("--coupling", default="squared", choices=("squared", "complementarity"),
                   help="coupling of (M) (default squared)")  # fmt: skip
    p.add_argument("--bias", action="store_true", help="layers with biases (teacher and model)")
    p.add_argument("--alpha", type=slope_float, default=0.1,
                   help="leaky-ReLU slope in (0, 1) (default 0.1)")  # fmt: skip
    p.add_argument("--beta", type=positive_float, default=1.0,
                   help="coupling weight > 0 (default 1)")  # fmt: skip
    # lam 1e-3: the default instance compares a network, not the zero point. At 0.02 (the old
    # default), and at 3e-3 to 1e-2, both solvers return W = 0 for seed 0, so "agree" said
    # nothing; at 1e-3 the ALM keeps 5 of the 8 column groups, and over seeds 0-3 and both
    # couplings it keeps 4 to 6 and agrees with IPOPT on all 8 instances, each in 0.8 to 5 s
    # (2026-12-04, 2 cores)
    p.add_argument("--lam", type=nonnegative_float, default=1e-3,
                   help="group-sparsity weight (default 1e-3; a large one makes every group "
                        "zero, and the cross-check then compares the zero network)")  # fmt: skip
    p.add_argument("--groups", default="column", choices=("column", "row", "element"))
    p.add_argument("--noise", type=nonnegative_float, default=0.1,
                   help="teacher noise >= 0 (default 0.1)")  # fmt: skip
    p.add_argument("--seed", type=seed_int, default=0,
                   help="seed of the teacher, the ALM's start and the cold IPOPT")  # fmt: skip
    p.add_argument("--tol", type=positive_float, default=1e-6,
                   help="KKT residual both points must reach (default 1e-6)")  # fmt: skip
    p.add_argument("--alm-tol", type=positive_float, default=None,
                   help="the ALM's own target (default 1e-7, or --tol / 10 where that is "
                        "smaller: below --tol)")  # fmt: skip
    p.add_argument("--x-tol", type=positive_float, default=1e-3,
                   help="largest relative move of the warm IPOPT (default 1e-3)")  # fmt: skip
    p.add_argument("--alm-time-limit", type=positive_float, default=60.0,
                   help="ALM time limit in seconds: wall time less its reporting-only "
                        "evaluations (default 60)")  # fmt: skip
    p.add_argument("--ipopt-time-limit", type=positive_float, default=None,
                   help="wall-clock limit per IPOPT run in seconds (default none)")  # fmt: skip
    p.add_argument("--no-cold", dest="cold", action="store_false",
                   help="skip IPOPT from the ALM's start")  # fmt: skip
    p.add_argument("--json", metavar="PATH", help="write the report as JSON to PATH")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    """The options of ``liftnet verify``; ``hidden`` as one tuple (``3 3``, ``3,3`` and
    ``3, 3`` alike)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    args.hidden = tuple(w for word in args.hidden for w in word)
    if args.alm_tol is None:  # below --tol (at 1e-7 for --tol 1e-9, the ALM's point failed it)
        args.alm_tol = min(1e-7, args.tol / 10)
    return args


def main(argv=None) -> int:
    """Entry point of ``liftnet verify``; returns the exit status."""
    from .. import LiftedProblem
    from ..datasets import make_teacher
    from ..io import writable_file

    args = parse_args(argv)
    widths = (args.inputs, *args.hidden, args.outputs)
    try:  # the numbers were checked by argparse (under the options' names); the rest here
        if args.json is not None:  # (an empty name too: it was ignored, no file written)
            writable_file(args.json, "--json")
        X, Y, _, _ = make_teacher(args.N, widths=widths, alpha=args.alpha, noise=args.noise,
                                  seed=args.seed, bias=args.bias)  # fmt: skip
        prob = LiftedProblem(X, Y, hidden=args.hidden, alpha=args.alpha, beta=args.beta,
                             lam=args.lam, groups=args.groups, coupling=args.coupling,
                             bias=args.bias)  # fmt: skip
    except (ValueError, TypeError) as exc:  # LiftedProblem's names (lam=) as the options'
        print(f"liftnet verify: error: {as_option(exc, VERIFY_OPTIONS)}", file=sys.stderr)
        return 2
    from ..solvers.alm import warm_up

    try:  # the kernels first (0.6 s; after an install a minute of compiling, said on stderr)
        warm_up(prob.dtype, notice=_to_stderr)
    except KeyboardInterrupt:
        print("liftnet verify: interrupted before the solves started; nothing to save",
              file=sys.stderr)
        return 130
    params = {"N": args.N, "widths": list(widths), "coupling": args.coupling, "bias": args.bias,
              "alpha": args.alpha, "beta": args.beta, "lam": args.lam, "groups": args.groups,
              "noise": args.noise, "seed": args.seed, "alm_tol": args.alm_tol,
              "alm_time_limit": args.alm_time_limit,
              "ipopt_time_limit": args.ipopt_time_limit}  # fmt: skip
    out = _Output(sys.stdout)  # a print that fails ends the printing, not the run
    rc, written = _verify(args, prob, widths, params, out)
    out.flush()  # a failure of buffered output shows here, not at the interpreter's exit
    return out.exit_status(rc, "verify", written)  # the run's own status comes first


def _verify(args, prob, widths, params, out) -> tuple[int, list[str]]:
    """The solves, the JSON file and the table of :func:`main`, printed to ``out``; returns
    the exit status and the files written."""
    from .. import solve_alm
    from ..io import reason, write_json
    from .crosscheck import crosscheck_ipopt, interrupted_alm_report

    print(f"liftnet verify: teacher N={args.N}, network {'-'.join(map(str, widths))}, "
          f"coupling={args.coupling} bias={args.bias} lam={args.lam:g} "
          f"seed={args.seed}", file=out)  # fmt: skip
    alm = solve_alm(prob, tol=args.alm_tol, seed=args.seed, time_limit=args.alm_time_limit)
    # (a Ctrl-C's message, "interrupted (KeyboardInterrupt)", names the status already: it
    # was printed "interrupted (interrupted (KeyboardInterrupt))")
    said = alm.message if alm.message.startswith(alm.status) else f"{alm.status} ({alm.message})"
    print(f"ALM: {said}", file=out)
    norms = [prob.penalty.group_norms(W) for W in alm.W]
    zero_network = all(np.all(nrm == 0) for nrm in norms)
    if alm.status == "interrupted":
        # Ctrl-C: no IPOPT runs after it; the report of the ALM's point is printed and written
        # all the same, as after a Ctrl-C in an IPOPT run (--json wrote nothing)
        rep = interrupted_alm_report(prob, alm, tol=args.tol, x_tol=args.x_tol)
    else:
        if zero_network:  # W = 0 is a KKT point of both solvers: agreement is no evidence
            total = sum(nrm.size for nrm in norms)
            print(f"liftnet verify: warning: every group of the ALM's network is zero ({total} "
                  f"of {total}, W = 0): the cross-check compares the zero network; a smaller "
                  f"--lam (now {args.lam:g}) gives a nontrivial one", file=sys.stderr)  # fmt: skip
        rep = crosscheck_ipopt(prob, alm, tol=args.tol, x_tol=args.x_tol, seed=args.seed,
                               cold=args.cold, time_limit=args.ipopt_time_limit)  # fmt: skip
    written, failed = [], None
    if args.json:  # before the table: a stdout closed early must not lose it
        doc = {"command": "liftnet verify", "params": params, "alm_status": alm.status,
               "alm_message": alm.message, "zero_network": bool(zero_network),
               **rep.to_dict()}  # fmt: skip
        try:
            written.append(write_json(args.json, doc))
        except (OSError, ValueError) as exc:  # a full disk, the place gone since the check:
            # nothing half written (write_json), said in a line
            failed = f"liftnet verify: error: cannot write {args.json!r}: {reason(exc)}"
    print(rep.to_table(), file=out)
    if written:
        print(f"wrote {written[0]}", file=out)
    if failed:
        print(failed, file=sys.stderr)
        return 1, written
    if rep.interrupted:  # Ctrl-C: whatever was finished is above (and in --json)
        what = "no cross-check" if rep.interrupted_during == "the ALM" else "no verdict"
        print(f"liftnet verify: interrupted during {rep.interrupted_during}; {what}",
              file=sys.stderr)
        return 130, written
    return (0 if rep.agree else 1), written

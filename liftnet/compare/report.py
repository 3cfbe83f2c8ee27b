"""The comparison's report: medians over seeds, ratios against the ALM, files and plots.

The text table (``table.txt`` and what ``liftnet compare`` prints) opens with a header (mode,
seeds, threads, dtype, target rtol) and a legend, then has two parts: the reproducible one
(:data:`REPRODUCIBLE_HEADING`: the rows flagged ``deterministic``, without the timing columns
but ``Phi_ratio``, marked where it depends on the clock), equal byte for byte for equal mode,
seeds, dtype and threads, and the full table (:data:`MACHINE_HEADING`), whose wall-clock rows
and timing columns depend on the machine's speed. :func:`reproducible_part` cuts a table's
text at the second.
"""

from __future__ import annotations

import csv
import os
import textwrap

import numpy as np

from ..io import write_json
from .runs import DATASETS, SCORE_COLUMNS, TARGET_RTOL

DETERMINISTIC_COLUMNS = (
    "dataset",
    "budget",
    "method",
    "n_seeds",
    "status",
    *SCORE_COLUMNS,
    "kkt_net",
)
#: The columns that depend on the machine's speed. ``Phi_ratio`` only through the ALM row it
#: divides by (:data:`MARKED_TIMING_COLUMNS`); the others always.
TIMING_COLUMNS = ("time", "t_target", "t_target_ratio", "Phi_ratio")
#: The timing columns that the reproducible part shows, as :data:`CLOCK_MARK` where they depend
#: on the clock (:func:`_clocked_cells`: ``Phi_ratio`` against an ALM row stopped by it).
MARKED_TIMING_COLUMNS = ("Phi_ratio",)
#: The columns of the full text table, and of its reproducible part (no timing column but the
#: marked ones).
TABLE_COLUMNS = (
    "dataset", "budget", "method", "Phi", "Phi_ratio", "t_target", "t_target_ratio", "sparsity",
    "sparsity_small", "metric", "train_score", "test_score", "kkt", "kkt_net", "time", "status",
)
REPRODUCIBLE_COLUMNS = tuple(c for c in TABLE_COLUMNS
                             if c not in TIMING_COLUMNS or c in MARKED_TIMING_COLUMNS)
#: The first line of each part of the text table.
REPRODUCIBLE_HEADING = "== Reproducible part"
MACHINE_HEADING = "== Machine-dependent part"
#: The mark of a cell of the reproducible part whose value depends on the clock.
CLOCK_MARK = "~"
_WIDTH = 100  # of the legend's lines
#: The names of every file the harness writes to its folder (:func:`write`, :func:`plots`):
#: one ``phi_vs_time_<dataset>.png`` per data set of :data:`~.runs.DATASETS`, and the lambda
#: path's two. :func:`remove_outputs` removes these names and nothing else.
OUTPUT_NAMES = (
    "table.txt", "table.csv", "lambda_path.csv", "report.json",
    *(f"phi_vs_time_{ds}.png" for ds in DATASETS), "sparsity_vs_score.png",
)


# ----------------------------------------------------------------------------- the report
def _median(vals):
    vals = [v for v in vals if v is not None and not np.isnan(v)]
    return float(np.median(vals)) if vals else float("nan")


def _t_target_ratio(row, ref) -> float:
    """``row``'s time to the target over the ALM's (``ref``): NaN, shown as ``nan`` and written
    as null, where that is undefined (no ALM, or an ALM that never reached the target: a
    finite time over inf would read as "0x the ALM's time"); inf where only the ALM reached
    it."""
    if ref is None or not np.isfinite(ref["t_target"]) or np.isnan(row["t_target"]):
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.divide(row["t_target"], ref["t_target"]))


def table_rows(runs, datasets_, methods):
    rows = []
    for ds in datasets_:
        for budget in ("time", "converge"):
            base = {}
            for m in methods:
                recs = runs[(ds, budget, m)]
                base[m] = {
                    "dataset": ds,
                    "budget": budget,
                    "method": m,
                    "n_seeds": len(recs),
                    "status": "/".join(sorted({r["status"] for r in recs})),
                    "deterministic": budget == "converge"
                    and all(r["status"] != "time_limit" and not r.get("presolve_expired")
                            for r in recs),
                    # what train_score and test_score are: "accuracy" or "mse"
                    "metric": "/".join(sorted({r["metric"] for r in recs})),
                    # a multiplier estimate of kkt_net stopped by its time limit
                    "kkt_net_expired": any(r["kkt_net_expired"] for r in recs),
                    **{
                        c: _median([r[c] for r in recs])
                        for c in (*SCORE_COLUMNS, "kkt_net", "time", "t_target")
                    },
                }
            ref = base.get("alm")
            for m in methods:
                row = base[m]
                row["Phi_ratio"] = row["Phi"] / ref["Phi"] if ref else float("nan")
                row["t_target_ratio"] = _t_target_ratio(row, ref)
                rows.append(row)
    return rows


def format_table(rows, cols=TABLE_COLUMNS, clocked=None) -> str:
    """``rows`` as aligned text, one line per row; ``clocked(row)``: the columns of the row to
    show as :data:`CLOCK_MARK` (values that depend on the clock)."""
    fmt = {str: "{}", int: "{}", bool: "{}"}

    def cell(r, c, marked):
        return CLOCK_MARK if c in marked else fmt.get(type(r[c]), "{:.4g}").format(r[c])

    lines = ["  ".join(f"{c:>12}" for c in cols)]
    for r in rows:
        marked = clocked(r) if clocked else ()
        lines.append("  ".join(f"{cell(r, c, marked):>12}" for c in cols))
    return "\n".join(lines)


def _clocked_cells(rows):
    """``clocked(row)`` of :func:`format_table` for the reproducible part: ``Phi_ratio``
    where the ALM's row of the same data set and budget depends on the clock, ``kkt_net``
    where a multiplier estimate stopped on its time limit."""
    alm_det = {(r["dataset"], r["budget"]): r["deterministic"] for r in rows
               if r["method"] == "alm"}

    def clocked(r):
        out = set()
        if alm_det.get((r["dataset"], r["budget"])) is False:  # (no ALM: Phi_ratio is nan)
            out.add("Phi_ratio")
        if r["kkt_net_expired"]:
            out.add("kkt_net")
        return out

    return clocked


def header(cfg, mode) -> str:
    """The table's first line: what was run, and how."""
    seeds = " ".join(str(s) for s in cfg["seeds"])
    return (f"liftnet compare: mode={mode}, seeds={seeds}, threads={cfg['threads']}, "
            f"dtype={cfg.get('dtype', 'float64')}, target rtol={TARGET_RTOL:g}")


def legend(cfg) -> str:
    """What the rows and columns are, in words."""
    budgets = ", ".join(f"{ds} {t:g} s" for ds, t in cfg["budget"].items())
    n = len(cfg["seeds"])
    intro = textwrap.fill(
        f"Medians over the seeds ({n} run{'s' * (n != 1)} per row, one per seed; NaN left out)."
        " Per seed every method starts from the same weights, with the same threads and dtype."
        f" budget: time = the same seconds of each method's own clock ({budgets}); converge ="
        " each method to its own stopping test, bounded by iteration counts.", _WIDTH)
    return "\n".join((
        intro,
        "  Phi             objective of (P) (docs/maths.md 1) at the returned weights; lower is",
        "                  better",
        "  Phi_ratio       Phi / the ALM's Phi (same data set and budget); below 1: better than",
        "                  the ALM",
        "  t_target        seconds on the method's own clock until the point it would return if",
        "                  stopped then has Phi <= target (1 + rtol); target: per seed, the best",
        "                  baseline's final Phi of the converge runs (the ALM's without",
        "                  baselines); inf: never; lower is better",
        "  t_target_ratio  t_target / the ALM's t_target; below 1: sooner (better) than the ALM;",
        "                  nan where the ALM never reached the target, inf where only the ALM did",
        "  time            seconds of the run on the method's own clock (the warm-up and the",
        "                  objective evaluations made only to report left out, for every method)",
        "  sparsity        fraction of weight groups exactly zero; sparsity_small: norm <= 1e-6",
        "  metric          what train_score and test_score (training, held-out samples) are:",
        "                  accuracy = fraction classified right, higher is better (digits,",
        "                  mnist_like); mse = mean squared error per sample, lower is better",
        "                  (teacher)",
        "  kkt             the ALM's KKT residual of (M) (docs/maths.md 5) at its returned",
        "                  point, lower is better (nan: the baselines); kkt_net: at the exact",
        "                  lift of its network, multipliers estimated (full mode, converge,",
        "                  first seed)",
        "  status          why the runs stopped (every status among the seeds)",
    ))


def format_report(rows, cfg, mode) -> str:
    """The text table: :func:`header`, :func:`legend`, the reproducible part, the full
    table."""
    det = [r for r in rows if r["deterministic"]]
    repro = (format_table(det, REPRODUCIBLE_COLUMNS, _clocked_cells(rows)) if det
             else "(no row: each converge row has a run stopped by the clock)")
    return "\n".join((
        header(cfg, mode),
        legend(cfg),
        "",
        textwrap.fill(
            f"{REPRODUCIBLE_HEADING}: equal byte for byte for equal mode, seeds, dtype and"
            " threads. Rows: the converge budget where no run was stopped by the clock (status"
            " time_limit, or an ALM presolve that expired); no timing column but Phi_ratio."
            f" {CLOCK_MARK}: this cell depends on"
            " the clock (the ALM's row, or kkt_net's multiplier estimate, was stopped by it): see"
            " the full table.", _WIDTH),
        repro,
        "",
        textwrap.fill(
            f"{MACHINE_HEADING}: the full table. Depend on the machine's speed: the rows of the"
            " time budget, the rows with status time_limit, the columns t_target,"
            " t_target_ratio and time, and Phi_ratio against such an ALM row.", _WIDTH),
        format_table(rows),
    ))


def reproducible_part(text: str) -> str:
    """The part of a table's text (:func:`format_report`) that is equal for equal seeds: all
    before :data:`MACHINE_HEADING`."""
    return text.split(MACHINE_HEADING, 1)[0]


def plots(out_dir, runs, path_rows, datasets_, methods, seed, lambda_path=True):
    """``phi_vs_time_<dataset>.png`` (the converge runs of ``seed``: the ``Phi`` of the point
    each method would return if stopped at that time) and, with ``lambda_path``,
    ``sparsity_vs_score.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for ds in datasets_:
        fig, ax = plt.subplots(figsize=(6, 4))
        for m in methods:
            rec = next(r for r in runs[(ds, "converge", m)] if r["seed"] == seed)
            known = np.isfinite(rec["traj"][:, 1])  # (a diverged run's: not on a log scale)
            t = np.maximum(rec["traj"][known, 0], 1e-4)
            ax.step(t, rec["traj"][known, 1], where="post", label=m)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="trainer time [s]",
            ylabel="Phi of the point returned if stopped then",
            title=f"{ds} (seed {seed})",
        )
        ax.legend(fontsize=7)
        files.append(os.path.join(out_dir, f"phi_vs_time_{ds}.png"))
        fig.savefig(files[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    if not lambda_path:
        return files
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in methods:
        pts = sorted((r["sparsity"], r["test_score"]) for r in path_rows if r["method"] == m)
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=m)
    metric = path_rows[0]["metric"] if path_rows else "score"
    better = {"accuracy": "higher is better", "mse": "lower is better"}.get(metric, "")
    dataset = path_rows[0].get("dataset", "") if path_rows else ""
    ax.set(xlabel="group sparsity (exact zeros)",
           ylabel=f"test {metric}" + (f" ({better})" if better else ""),
           title=f"lambda path{f' ({dataset})' if dataset else ''}")
    if path_rows:
        ax.legend(fontsize=7)
    files.append(os.path.join(out_dir, "sparsity_vs_score.png"))
    fig.savefig(files[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return files


def deterministic_view(report):
    """The columns of :data:`DETERMINISTIC_COLUMNS` of the rows flagged ``deterministic``
    (and of the lambda path rows that neither stopped on the clock nor were warm-started,
    along their method's path, from a point that did): equal for equal seeds."""

    def key(r, cols):  # NaN -> None, so that equal tables compare equal
        return tuple(None if isinstance(r[c], float) and np.isnan(r[c]) else r[c] for c in cols)

    i = DETERMINISTIC_COLUMNS.index("kkt_net")

    def main_key(r):  # kkt_net after an estimate stopped by its time limit: the clock's
        k = key(r, DETERMINISTIC_COLUMNS)
        return k[:i] + (CLOCK_MARK,) + k[i + 1:] if r["kkt_net_expired"] else k

    main = [main_key(r) for r in report["rows"] if r["deterministic"]]
    # a path point starts from its method's previous result (run_lambda_path): from a point
    # stopped by the clock on, the method's rows depend on the machine
    clocked = set()
    path = []
    for r in report["path_rows"]:
        if r["status"] == "time_limit":
            clocked.add(r["method"])
        if r["method"] not in clocked:
            path.append(key(r, ("lam", "method", "status", "Phi", "sparsity", "test_score")))
    return main, path


def remove_outputs(out_dir):
    """Removes from ``out_dir`` the files an earlier run of the harness wrote there (the names of
    :data:`OUTPUT_NAMES` only: any other file, and a folder of such a name, stays), so that after
    :func:`write` and :func:`plots` the folder holds one run's outputs, not a mix of two (a run
    without the lambda path, or on other data sets, overwrites only some of them). Returns the
    paths removed."""
    removed = []
    for name in OUTPUT_NAMES:
        path = os.path.join(out_dir, name)
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def write(out_dir, rows, path_rows, table, cfg, mode, interrupted=None, lambda_path=True):
    """``table.txt`` (``table``, :func:`format_report`), ``table.csv``, ``lambda_path.csv``
    (with ``lambda_path`` only) and ``report.json``; returns their paths."""
    names = ("table.txt", "table.csv", *(("lambda_path.csv",) if lambda_path else ()),
             "report.json")
    files = [os.path.join(out_dir, f) for f in names]
    with open(files[0], "w") as fh:
        fh.write(f"{table}\n")
    csvs = ((files[1], rows), *(((files[2], path_rows),) if lambda_path else ()))
    for path, data in csvs:
        with open(path, "w", newline="") as fh:
            if data:
                w = csv.DictWriter(fh, fieldnames=list(data[0]))
                w.writeheader()
                w.writerows(data)
    # strict JSON, as run.json of ``liftnet solve``: NaN and inf (a median of no value, a
    # target never reached) are written as null
    write_json(
        files[-1],
        {
            "mode": mode,
            "dtype": cfg.get("dtype", "float64"),
            "interrupted": interrupted,
            "rows": rows,
            "path_rows": path_rows,
            "config": {k: v for k, v in cfg.items()},
        },
    )
    return files

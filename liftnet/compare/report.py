"""The comparison's report: medians over seeds, ratios against the ALM, files and plots."""

from __future__ import annotations

import csv
import os

import numpy as np

from ..io import write_json
from .runs import SCORE_COLUMNS, TARGET_RTOL

DETERMINISTIC_COLUMNS = (
    "dataset",
    "budget",
    "method",
    "n_seeds",
    "status",
    *SCORE_COLUMNS,
    "kkt_net",
)
TIMING_COLUMNS = ("time", "t_target", "t_target_ratio", "Phi_ratio")


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
                    and all(r["status"] != "time_limit" for r in recs),
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


def format_table(rows) -> str:
    cols = (
        "dataset",
        "budget",
        "method",
        "Phi",
        "Phi_ratio",
        "t_target",
        "t_target_ratio",
        "sparsity",
        "sparsity_small",
        "train_score",
        "test_score",
        "kkt",
        "kkt_net",
        "time",
        "status",
    )
    fmt = {str: "{}", int: "{}", bool: "{}"}
    lines = ["  ".join(f"{c:>12}" for c in cols)]
    for r in rows:
        lines.append("  ".join(f"{fmt.get(type(r[c]), '{:.4g}').format(r[c]):>12}" for c in cols))
    return "\n".join(lines)


def plots(out_dir, runs, path_rows, datasets_, methods, seed):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for ds in datasets_:
        fig, ax = plt.subplots(figsize=(6, 4))
        for m in methods:
            rec = next(r for r in runs[(ds, "converge", m)] if r["seed"] == seed)
            t = np.maximum(rec["traj"][:, 0], 1e-4)
            ax.step(t, rec["traj"][:, 1], where="post", label=m)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="trainer time [s]",
            ylabel="Phi",
            title=f"{ds} (seed {seed})",
        )
        ax.legend(fontsize=7)
        files.append(os.path.join(out_dir, f"phi_vs_time_{ds}.png"))
        fig.savefig(files[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in methods:
        pts = sorted((r["sparsity"], r["test_score"]) for r in path_rows if r["method"] == m)
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=m)
    ax.set(xlabel="group sparsity (exact zeros)", ylabel="test score", title="lambda path")
    if path_rows:
        ax.legend(fontsize=7)
    files.append(os.path.join(out_dir, "sparsity_vs_score.png"))
    fig.savefig(files[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return files


def deterministic_view(report):
    """The columns of :data:`DETERMINISTIC_COLUMNS` of the rows flagged ``deterministic``
    (and of the lambda path rows that did not stop on the clock): equal for equal seeds."""

    def key(r, cols):  # NaN -> None, so that equal tables compare equal
        return tuple(None if isinstance(r[c], float) and np.isnan(r[c]) else r[c] for c in cols)

    main = [key(r, DETERMINISTIC_COLUMNS) for r in report["rows"] if r["deterministic"]]
    path = [
        key(r, ("lam", "method", "status", "Phi", "sparsity", "test_score"))
        for r in report["path_rows"]
        if r["status"] != "time_limit"
    ]
    return main, path


def write(out_dir, rows, path_rows, table, cfg, mode, interrupted=None):
    files = [
        os.path.join(out_dir, f)
        for f in ("table.txt", "table.csv", "lambda_path.csv", "report.json")
    ]
    with open(files[0], "w") as fh:
        fh.write(
            f"liftnet compare, mode={mode}, seeds={cfg['seeds']}, "
            f"threads={cfg['threads']}, target rtol={TARGET_RTOL}\n{table}\n"
        )
    for path, data in ((files[1], rows), (files[2], path_rows)):
        with open(path, "w", newline="") as fh:
            if data:
                w = csv.DictWriter(fh, fieldnames=list(data[0]))
                w.writeheader()
                w.writerows(data)
    # strict JSON, as run.json of ``liftnet solve``: NaN and inf (a median of no value, a
    # target never reached) are written as null
    write_json(
        files[3],
        {
            "mode": mode,
            "interrupted": interrupted,
            "rows": rows,
            "path_rows": path_rows,
            "config": {k: v for k, v in cfg.items()},
        },
    )
    return files

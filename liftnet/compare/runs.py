"""Runs of the comparison: the modes, the problems, the solvers and one record per run.

Every run starts from ``prob.initial_weights(seed)`` (or a warm start), in ``prob.dtype`` (the
mode's ``dtype``, float64 or float32), and is scored by liftnet's single implementations:
``prob.Phi`` (MODEL.md 3), ``prob.predict`` and :func:`liftnet.kkt_residuals` (MODEL.md 5).
"""

from __future__ import annotations

import numpy as np

from .. import datasets
from .._validation import check_float_dtype
from ..formulation.problem import LiftedProblem
from ..solvers._interrupt import stop_if_interrupted
from ..solvers.baselines import BASELINES
from ..solvers.baselines._common import group_counts
from ..solvers.path import check_lams, warm_started_path

DATASETS = ("digits", "teacher", "mnist_like")
METHODS = ("alm", *BASELINES)
#: Seconds for the multiplier estimate of ``kkt_net`` (an upper bound on the residual when it
#: expires). With L-BFGS-B (until d684e51) the estimate took more than 7 minutes on the digits
#: (129k multipliers); the interior point takes 1.5-5.6 s there (bench_multipliers.py), and
#: the limit now binds on the MNIST-shaped set (20.8 s at N = 2000, scratch).
KKT_NET_TIME = 20.0
#: A run reaches the target ``Phi*`` when its ``Phi <= Phi* (1 + TARGET_RTOL)``.
TARGET_RTOL = 1e-3
#: The numbers of a run's :func:`record` that both tables report, in their column order (the
#: main table as medians over seeds, the lambda path per ``lam``).
SCORE_COLUMNS = ("Phi", "sparsity", "sparsity_small", "train_score", "test_score", "kkt")
_COMMON = {
    "dtype": "float64",  # run_comparison's dtype replaces it
    "alpha": 0.1,
    "beta": 1.0,
    "lr": {"sgd": 0.05, "prox_sgd": 0.05, "adam": 3e-3, "prox_adam": 3e-3, "prox_gradient": 1.0},
    "batch_size": 64,
    "tol": 1e-5,
}
MODES = {
    "fast": dict(
        _COMMON,
        seeds=(0, 1),
        threads=1,
        lam=1e-2,
        lam_path=(3e-2, 1e-2),
        sizes={"digits": (300, (8,)), "teacher": (200, (8,)), "mnist_like": (400, (8,))},
        budget={"digits": 0.3, "teacher": 0.2, "mnist_like": 0.3},
        path_dataset="teacher",
        converge_cap={"digits": 20.0, "teacher": 20.0, "mnist_like": 20.0},
        epochs=15,
        pg_iters=150,
        alm_iter=3,
        alm_inner=100,
        kkt_net=(),
        tune_epochs=3,
    ),
    "full": dict(
        _COMMON,
        seeds=(0, 1, 2),
        threads=2,
        lam=1e-2,
        lam_path=(3e-2, 1e-2, 3e-3, 1e-3),
        sizes={"digits": (None, (32, 16)), "teacher": (4000, (32,)), "mnist_like": (20000, (64,))},
        budget={"digits": 5.0, "teacher": 3.0, "mnist_like": 10.0},
        converge_cap={"digits": 10.0, "teacher": 6.0, "mnist_like": 20.0},
        path_dataset="digits",
        epochs=300,
        pg_iters=5000,
        alm_iter=100,
        # the solver's default (5000); 2000, used until 8717748, cut the MNIST-shaped inner
        # solves short: median Phi after 20 s 3.86 instead of 1.24 (three seeds, measured)
        alm_inner=None,
        kkt_net=("digits", "teacher"),
        tune_epochs=10,
    ),
}


# ----------------------------------------------------------------------------- the solvers
def run_alm(prob, *, tol, seed, time_limit=None, init=None, max_iter=200, max_inner=None):
    """The one place the harness calls liftnet's ALM (``liftnet.solve_alm``, CONTRACT.md);
    ``max_inner=None`` keeps the solver's default."""
    import liftnet

    solve = getattr(liftnet, "solve_alm", None)
    if solve is None:  # not exported yet: the module of the contract
        from ..solvers.alm import solve_alm as solve
    extra = {} if max_inner is None else {"max_inner": max_inner}
    # threads=None: the harness sets the same threads for every method (its _threads)
    return solve(prob, tol=tol, seed=seed, time_limit=time_limit, init=init,
                 max_iter=max_iter, threads=None, **extra)


def kkt_checker():
    import liftnet

    return (
        getattr(liftnet, "kkt_residuals", None)
        or __import__("liftnet.verification.kkt", fromlist=["kkt_residuals"]).kkt_residuals
    )


def tune_lr(prob, cfg, dataset, methods, log):
    """Per stochastic method, the step of ``cfg["lr"]`` times (1/3, 1, 3) with the smallest
    ``Phi`` after ``cfg["tune_epochs"]`` epochs from a start no other run uses (seed 10**6).
    Epoch-bounded, so the choice is reproducible."""
    lrs = dict(cfg["lr"])
    for m in methods:
        if m in ("alm", "prox_gradient"):
            continue
        trials = {}
        for lr in (cfg["lr"][m] / 3, cfg["lr"][m], 3 * cfg["lr"][m]):
            # a step too long diverges: not chosen, whatever the Phi of the best checkpoint it
            # returns (a finite one, made before it blew up); in float32 its Phi overflows
            # first, which is no news
            with np.errstate(over="ignore", invalid="ignore"):
                res = stop_if_interrupted(BASELINES[m](
                    prob, lr=lr, batch_size=cfg["batch_size"], seed=10**6,
                    max_epochs=cfg["tune_epochs"]))
            ok = np.isfinite(res.Phi) and res.status != "diverged"
            trials[lr] = res.Phi if ok else np.inf
        lrs[m] = min(trials, key=trials.get)
        log(f"{dataset} {m}: lr={lrs[m]:g} (Phi {trials})")
    return lrs


def run(method, prob, cfg, seed, budget, dataset, init=None):
    """One run of ``method``; ``budget`` is ``"time"`` or ``"converge"``."""
    T = cfg["budget"][dataset]
    timed = budget == "time"
    cap = T if timed else cfg["converge_cap"][dataset]  # a safety net, not the budget
    if method == "alm":
        return stop_if_interrupted(run_alm(
            prob,
            tol=cfg["tol"],
            seed=seed,
            time_limit=cap,
            init=init,
            max_iter=10**6 if timed else cfg["alm_iter"],
            max_inner=cfg["alm_inner"],
        ))
    kw = {
        "lr": cfg["lr_by_dataset"][dataset][method],
        "seed": seed,
        "time_limit": cap,
        "init": init,
    }
    if method == "prox_gradient":
        kw.update(max_epochs=10**9 if timed else cfg["pg_iters"], tol=cfg["tol"])
    else:
        kw.update(max_epochs=10**9 if timed else cfg["epochs"], batch_size=cfg["batch_size"])
    return stop_if_interrupted(BASELINES[method](prob, **kw))


# ------------------------------------------------------------------------------ the data
def make_problem(dataset, cfg, lam=None, dtype=None):
    """``(prob, X_test, Y_test, metric)`` of a data set in a mode's sizes (data seed 0), in
    ``dtype`` (float64 or float32; ``None``: the mode's, ``cfg["dtype"]``, float64 if unset)."""
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    dtype = check_float_dtype(cfg.get("dtype", "float64") if dtype is None else dtype).type
    N, hidden = cfg["sizes"][dataset]
    if dataset == "digits":
        Xtr, Ytr, Xte, Yte = datasets.load_digits_problem(seed=0, dtype=dtype)
        Xtr, Ytr = Xtr[:N], Ytr[:N]
    elif dataset == "teacher":  # 10 relevant inputs and 10 irrelevant ones (group sparse truth)
        X, Y, _, _ = datasets.make_teacher(
            N + N // 2, widths=(10, 8, 3), alpha=cfg["alpha"], noise=0.05, seed=0, dtype=dtype
        )
        X = np.hstack([X, np.random.default_rng(1).standard_normal(X.shape).astype(dtype)])
        Xtr, Ytr, Xte, Yte = X[:N], Y[:N], X[N:], Y[N:]
    else:  # mnist_like
        X, Y = datasets.make_mnist_like(N + N // 5, seed=0, dtype=dtype)
        Xtr, Ytr, Xte, Yte = X[:N], Y[:N], X[N:], Y[N:]
    prob = LiftedProblem(
        Xtr,
        Ytr,
        hidden=hidden,
        alpha=cfg["alpha"],
        beta=cfg["beta"],
        lam=cfg["lam"] if lam is None else lam,
        dtype=dtype,
    )
    return prob, Xte, Yte, "mse" if dataset == "teacher" else "accuracy"


def score(prob, W, b, X, Y, metric) -> float:
    """Accuracy (argmax of the output vs one-hot ``Y``) or mean squared error per sample."""
    out = prob.predict(W, b, X)
    if metric == "accuracy":
        return float(np.mean(np.argmax(out, axis=1) == np.argmax(Y, axis=1)))
    return float(np.sum((out - Y) ** 2) / Y.shape[0])


#: The baselines that return their checkpoint with the smallest ``Phi`` (the stochastic ones,
#: :mod:`liftnet.solvers.baselines.stochastic`); ``prox_gradient`` returns its last iterate.
BEST_PHI_SOLVERS = ("sgd", "adam", "prox_sgd", "prox_adam")


def trajectory(res):
    """``(time, Phi)`` points of a run, ``Phi`` being that of the point the solver would return
    if stopped at that time (not of its latest iterate), then ``(res.time, res.Phi)``.

    * The stochastic baselines (:data:`BEST_PHI_SOLVERS`) return their checkpoint with the
      smallest finite ``Phi``: the running minimum of the history's ``Phi`` (its first record
      is the start, at time 0).
    * ``prox_gradient`` returns its last accepted iterate: the history as it is.
    * The ALM (``res.solver == "alm"``) returns the point :func:`solve_alm`'s ``record_best``
      holds, the first of smallest KKT residual among its start (``res.start``, certified at
      ``res.start["time"]``) and the points of its history records (the unbounded restarts'
      included), or, when it converged, its last record's point (the start's without
      records): at the start and at each record, the ``Phi`` of that point so far.
    """
    if res["solver"] == "alm":
        pts = _alm_returned(res)
    else:
        hist = [r for r in res.history if "Phi" in r and "time" in r]
        t = [float(r["time"]) for r in hist]
        phi = np.array([r["Phi"] for r in hist], dtype=float)
        if res["solver"] in BEST_PHI_SOLVERS and phi.size:
            phi = np.fmin.accumulate(np.where(np.isfinite(phi), phi, np.nan))
        pts = list(zip(t, phi, strict=True))
    return np.array(pts + [(res.time, res.Phi)], dtype=float).reshape(-1, 2)


def _alm_returned(res):
    """The ALM's points of :func:`trajectory`: ``[(time, Phi of the point returned then)]``,
    by ``record_best``'s rule (strictly smaller residual: the first of equals; a NaN residual
    is never smaller)."""
    best, pts = None, []  # best: (residual, Phi) of the point record_best holds
    if res.start is not None:
        best = (res.start["residual"], res.start["Phi"])
        pts.append((res.start["time"], best[1]))
    for h in res.history:
        if best is None or h["residual"] < best[0]:
            best = (h["residual"], h["Phi"])
        pts.append((h["time"], best[1]))
    if res.status == "converged" and res.history:  # its last point, the one <= tol
        pts[-1] = (res.history[-1]["time"], res.history[-1]["Phi"])
    return pts


def time_to(traj, target) -> float:
    """Seconds (the run's own clock) at the first point of ``traj`` (:func:`trajectory`) whose
    ``Phi <= target (1 + TARGET_RTOL)``; ``inf`` if none."""
    hit = np.nonzero(traj[:, 1] <= target * (1 + TARGET_RTOL))[0]
    return float(traj[hit[0], 0]) if hit.size else float("inf")


def record(method, res, prob, Xte, Yte, metric, kkt, at_net=False):
    """The numbers of one run."""
    rec = {
        "method": method,
        "status": res.status,
        "Phi": res.Phi,
        "time": res.time,
        "sparsity": res.sparsity,
        "traj": trajectory(res),
        "metric": metric,
        "train_score": score(prob, res.W, res.b, prob.X, prob.Y, metric),
        "test_score": score(prob, res.W, res.b, Xte, Yte, metric),
        "kkt": np.nan,
        "kkt_net": np.nan,
        "kkt_net_expired": False,
        # the ALM's presolve stopped by its share of the time limit: the run's point depends
        # on the clock, whatever its own status
        "presolve_expired": (res.get("presolve") or {}).get("status") == "time_limit",
        "W": res.W,
    }
    rec["sparsity_small"] = group_counts(prob, res.W)["sparsity_small"]
    if method == "alm":  # liftnet's checker at the ALM's point (W, b, V, M1, M2) of (M)
        rec["kkt"] = float(kkt(prob, res.W, res.b, res.V, res.M1, res.M2)["residual"])
        if at_net:  # ... and at the network's exact lift V = sigma(U), multipliers estimated
            rep = kkt(prob, res.W, res.b, time_limit=KKT_NET_TIME)
            status = (rep.get("estimate") or {}).get("status")
            if status == "interrupted":
                # kkt_residuals returns on Ctrl-C with the estimate so far (an overstated
                # residual): the Ctrl-C stops the harness, as one in a solver does, and this
                # run is not recorded (it was stored as a valid kkt_net, the comparison going on)
                raise KeyboardInterrupt
            rec["kkt_net"] = float(rep["residual"])
            # an estimate stopped by its time limit overstates the residual by how far it got
            # (also when it kept its start: with more time it might have beaten it)
            rec["kkt_net_expired"] = status == "time_limit"
    return rec


def run_lambda_path(cfg, methods, kkt, log, rows=None):
    """ALM warm-started along decreasing ``lam``; baselines alike.

    Each method starts from its own previous result with the units that result does not use
    restarted (:func:`liftnet.solvers.path.warm_started_path`, the same seed for every method):
    a unit pruned at a larger ``lam`` has all-zero partials, so a plain warm start keeps it dead
    along the whole path. Measured on the digits path of the full mode (seed 0, 10 s per
    point, so timing-dependent): the ALM's ``Phi`` at ``lam`` 1e-2, 3e-3, 1e-3 fell from 0.668,
    0.510, 0.482 to 0.594, 0.425, 0.097 (the ALM alone) and 0.594, 0.188, 0.116 (the whole
    path, every method)."""
    ds, seed = cfg["path_dataset"], cfg["seeds"][0]
    rows = [] if rows is None else rows  # filled as the path goes (a Ctrl-C keeps the rows)
    prob0, Xte, Yte, metric = make_problem(ds, cfg)  # (in the mode's dtype, cfg["dtype"])
    if ds not in cfg.setdefault("lr_by_dataset", {}):
        cfg["lr_by_dataset"][ds] = tune_lr(prob0, cfg, ds, methods, log)
    lams = check_lams(sorted(cfg["lam_path"], reverse=True))
    for m in methods:
        def solve(prob, init, m=m):
            return run(m, prob, cfg, seed, "converge", ds, init=init)

        problems = (prob0.with_lam(lam) for lam in lams)
        for prob, res in warm_started_path(problems, solve, seed=seed):
            lam = prob.lam
            rec = record(m, res, prob, Xte, Yte, metric, kkt)
            rows.append(
                {
                    "dataset": ds,
                    "lam": lam,
                    "method": m,
                    "status": res.status,
                    "metric": metric,
                    **{c: rec[c] for c in (*SCORE_COLUMNS, "time")},
                }
            )
            log(f"path {ds} lam={lam:g} {m}: Phi={res.Phi:.4g} sparsity={res.sparsity:.2f}")
    return rows

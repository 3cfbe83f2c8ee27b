"""The estimator on scikit-learn's bundled data sets, against scikit-learn's own MLP.

What a user gets from ``SparseLeakyReLUClassifier`` / ``SparseLeakyReLURegressor`` (the
lifted ALM, MODEL.md 4-6) on small standard data, next to what they would pick instead,
``MLPClassifier`` / ``MLPRegressor`` (ReLU, cross-entropy or squared loss, L2 penalty, Adam;
another model, compared by its scores only). Data: iris, wine, breast cancer, digits
(classification), diabetes and Friedman #1 (``make_friedman1``, 1000 samples, seed 0;
regression); all ship with scikit-learn, nothing is downloaded. Each is split 70/30
(``random_state=0``), inputs standardised with the training statistics. One hidden layer of
``--hidden`` units for every model.

Per data set, ``lam`` and ``beta``: the fit's status, KKT residual (``kkt_``), seconds, the
network's ``Phi`` and the lifted point's ``F`` (of the problem the solver saw: standardised
targets for regression, ``normalize_y``), the lift gap ``(Phi - F) / Phi`` (docs/maths.md 4;
``LiftGapWarning`` above 20%), train and test score (accuracy, or R^2), the hidden units
and inputs the network still uses; the MLP's seconds and scores, and the ratio of the fit's
seconds to the MLP's. The fit runs to ``tol`` 1e-6 or ``--time-limit``. With several
``--seeds`` (the ``random_state`` of both) each row holds the medians over them, and the
status how many fits converged. ``--proxgrad`` adds, per ``lam``, liftnet's full-batch
proximal gradient on (P) itself: the same network, targets and start without the lift (its
``Phi`` comparable with the estimator's).

    python benchmarks/bench_datasets.py --quick
    python benchmarks/bench_datasets.py                        # lam 1e-2 1e-3, beta 1 10, 20 s
    python benchmarks/bench_datasets.py --no-normalize-y       # regression targets as given
    python benchmarks/bench_datasets.py --seeds 0 1 2 --lams 1e-2   # medians over 3 seeds
    python benchmarks/bench_datasets.py --proxgrad            # and (P) without the lift
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from bench_args import (
    no_repeats,
    nonnegative_float,
    positive_float,
    positive_int,
    seed_int,
    stop_if_interrupted,
    until_ctrl_c,
)
from sklearn import datasets
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from liftnet import LiftedProblem
from liftnet.datasets import one_hot, standardize
from liftnet.estimator import SparseLeakyReLUClassifier, SparseLeakyReLURegressor
from liftnet.solvers.alm import warm_up
from liftnet.solvers.baselines import prox_gradient

#: name -> (loader returning X, y; task)
DATASETS = {
    "iris": (lambda: datasets.load_iris(return_X_y=True), "classification"),
    "wine": (lambda: datasets.load_wine(return_X_y=True), "classification"),
    "breast_cancer": (lambda: datasets.load_breast_cancer(return_X_y=True), "classification"),
    "digits": (lambda: datasets.load_digits(return_X_y=True), "classification"),
    "diabetes": (lambda: datasets.load_diabetes(return_X_y=True), "regression"),
    "friedman1": (lambda: datasets.make_friedman1(1000, random_state=0), "regression"),
}


def split(name):
    """The 70/30 split of data set ``name``, inputs standardised on the training part."""
    load, task = DATASETS[name]
    X, y = load()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte, task


def fit_lifted(task, Xtr, ytr, Xte, yte, hidden, lam, beta, time_limit, normalize_y, seed=0):
    """One estimator fit; its row (warnings silenced: the row reports what they say)."""
    Est = SparseLeakyReLUClassifier if task == "classification" else SparseLeakyReLURegressor
    est = Est(hidden=(hidden,), lam=lam, beta=beta, time_limit=time_limit,
              normalize_y=normalize_y, random_state=seed)
    t = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(Xtr, ytr)
    seconds = time.monotonic() - t
    res = stop_if_interrupted(est.result_)  # a Ctrl-C stops the script, not just this fit
    return {"status": res.status, "kkt": est.kkt_["residual"], "time": seconds,
            "Phi": res.Phi, "F": res.objective, "gap": (res.Phi - res.objective) / res.Phi,
            "train": est.score(Xtr, ytr), "test": est.score(Xte, yte),
            "units": int(np.sum(est.active_groups_[1])),
            "inputs": int(np.sum(est.active_groups_[0]))}


def fit_mlp(task, Xtr, ytr, Xte, yte, hidden, seed=0):
    """scikit-learn's MLP with its defaults (Adam, ReLU, L2 1e-4), 2000 epochs at most."""
    Est = MLPClassifier if task == "classification" else MLPRegressor
    est = Est(hidden_layer_sizes=(hidden,), max_iter=2000, random_state=seed)
    t = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(Xtr, ytr)
    return {"time": time.monotonic() - t, "train": est.score(Xtr, ytr),
            "test": est.score(Xte, yte)}


def fit_proxgrad(task, Xtr, ytr, Xte, yte, hidden, lam, time_limit, normalize_y, seed=0):
    """liftnet's full-batch proximal gradient on (P) itself (MODEL.md 3), the same network,
    targets and start (``prob.initial_weights(seed)``) as the estimator's fit, to ``tol``
    1e-6 or ``time_limit``: the model without the lift."""
    if task == "classification":
        Y, classes = one_hot(ytr)
    else:
        Y = ytr.reshape(len(ytr), -1).astype(float)
        mean, scale = np.zeros(Y.shape[1]), np.ones(Y.shape[1])
        if normalize_y:
            (Y,), mean, scale = standardize(Y, return_stats=True)
    prob = LiftedProblem(Xtr, Y, hidden=(hidden,), lam=lam, bias=True)
    t = time.monotonic()
    res = stop_if_interrupted(prox_gradient(prob, seed=seed, time_limit=time_limit,
                                            max_epochs=10**9))
    seconds = time.monotonic() - t

    def score(X, y):
        out = prob.predict(res.W, res.b, X)
        if task == "classification":
            return float(np.mean(classes[out.argmax(axis=1)] == y))
        return float(r2_score(y, (out * scale + mean)[:, 0]))

    groups = [prob.penalty.group_norms(w) > 0 for w in res.W]
    return {"status": res.status, "time": seconds, "Phi": res.Phi,
            "train": score(Xtr, ytr), "test": score(Xte, yte),
            "units": int(np.sum(groups[1])), "inputs": int(np.sum(groups[0]))}


def median_row(rows):
    """The medians of ``rows`` (one per seed) and, as ``status``, the status of a single row
    or the count that converged (``2/3 conv``)."""
    out = {k: float(np.median([r[k] for r in rows])) for k in rows[0] if k != "status"}
    if "status" in rows[0]:
        n = sum(r["status"] == "converged" for r in rows)
        out["status"] = rows[0]["status"] if len(rows) == 1 else f"{n}/{len(rows)} conv"
    return out


#: the table's columns after data, N, lam and beta: (row key, header, width, format)
COLUMNS = [("status", "status", 10, "s"), ("kkt", "KKT", 8, ".1e"), ("time", "s", 6, ".2f"),
           ("Phi", "Phi", 8, ".4g"), ("F", "F", 8, ".4g"), ("gap", "gap", 5, ".0%"),
           ("train", "train", 6, ".3f"), ("test", "test", 6, ".3f"),
           ("units", "units", 5, ".3g"), ("inputs", "in", 4, ".3g")]


def table_line(name, n, lam, label, r, mlp_time=None):
    """One line of the table: ``r``'s columns (blank where it has none), and the ratio of
    its seconds to ``mlp_time`` when given."""
    cells = [format(r[k], f">{w}{spec}") if k in r else " " * w for k, _, w, spec in COLUMNS]
    if mlp_time is not None:
        cells.append(f"{r['time'] / mlp_time:6.1f}")
    return f"{name:14s} {n:5d} {lam:>6s} {label:>5s} " + " ".join(cells)


def run(names, lams, betas, hidden, time_limit, normalize_y, seeds=(0,),
        with_proxgrad=False):
    warm_up()  # numba's kernels loaded before the first fit's clock
    head = (f"{'data':14s} {'N':>5s} {'lam':>6s} {'beta':>5s} "
            + " ".join(f"{h:>{w}s}" for _, h, w, _ in COLUMNS) + f" {'s/MLP':>6s}")
    if len(seeds) > 1:
        print(f"medians over the seeds {', '.join(map(str, seeds))} of the estimator and the "
              f"MLP (status: how many converged)")
    print(head)
    print("-" * len(head))
    rows = []
    for name in names:
        Xtr, Xte, ytr, yte, task = split(name)
        mlp = median_row([fit_mlp(task, Xtr, ytr, Xte, yte, hidden, seed) for seed in seeds])
        for lam in lams:
            for beta in betas:
                r = median_row([fit_lifted(task, Xtr, ytr, Xte, yte, hidden, lam, beta,
                                           time_limit, normalize_y, seed) for seed in seeds])
                rows.append({"data": name, "lam": lam, "beta": beta, **r})
                print(table_line(name, len(Xtr), f"{lam:g}", f"{beta:g}", r, mlp["time"]),
                      flush=True)
            if with_proxgrad:
                r = median_row([fit_proxgrad(task, Xtr, ytr, Xte, yte, hidden, lam, time_limit,
                                             normalize_y, seed) for seed in seeds])
                rows.append({"data": name, "lam": lam, "beta": "PG", **r})
                print(table_line(name, len(Xtr), f"{lam:g}", "PG", r, mlp["time"]), flush=True)
        mlp_row = {**mlp, "units": hidden, "inputs": Xtr.shape[1]}
        print(table_line(name, len(Xtr), "MLP", "", mlp_row), flush=True)
    return rows


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", choices=list(DATASETS),
                    help="default: all six")
    ap.add_argument("--lams", type=nonnegative_float, nargs="+", help="default: 1e-2 1e-3")
    ap.add_argument("--betas", type=positive_float, nargs="+", help="default: 1 10")
    ap.add_argument("--seeds", type=seed_int, nargs="+", default=[0],
                    help="random_state of the estimator and the MLP (several: medians)")
    ap.add_argument("--hidden", type=positive_int, default=16)
    ap.add_argument("--time-limit", type=positive_float,
                    help="seconds per fit (default 20)")
    ap.add_argument("--no-normalize-y", dest="normalize_y", action="store_false",
                    help="regression targets as given (normalize_y=False)")
    ap.add_argument("--proxgrad", action="store_true",
                    help="a row per lam for liftnet's proximal gradient on (P) itself (the "
                         "same network and start, no lift)")
    ap.add_argument("--quick", action="store_true",
                    help="defaults iris and diabetes, lam 1e-2, beta 1, 5 s per fit")
    return ap


def parse_args(argv=None):
    ap = build_parser()
    a = ap.parse_args(argv)
    no_repeats(ap, a, "datasets", "lams", "betas", "seeds")
    # what the command line did not give: the quick or the full defaults
    quick = {"datasets": ["iris", "diabetes"], "lams": [1e-2], "betas": [1.0],
             "time_limit": 5.0}
    full = {"datasets": list(DATASETS), "lams": [1e-2, 1e-3], "betas": [1.0, 10.0],
            "time_limit": 20.0}
    for key, value in (quick if a.quick else full).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    return a


def main(argv=None):
    a = parse_args(argv)
    return until_ctrl_c(run, a.datasets, a.lams, a.betas, a.hidden, a.time_limit,
                        a.normalize_y, a.seeds, a.proxgrad)


if __name__ == "__main__":
    main()

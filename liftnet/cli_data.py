"""The data of a ``liftnet demo`` / ``liftnet solve`` run: one train/test split with one-hot
targets for classification (MODEL.md section 1 conventions, samples as rows)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validation import cast, check_seed
from .datasets import (
    load_digits_problem,
    load_user_data,
    make_mnist_like,
    make_teacher,
    one_hot,
    standardize,
)

DATASETS = ("digits", "teacher", "mnist-like")
TEACHER_WIDTHS = (10, 8, 8, 2)
TEACHER_NOISE = 0.01
MAX_AUTO_CLASSES = 50
#: The most samples ``--data mnist-like`` generates, training and held-out ones together
#: (``X`` alone is 0.63 GB in float32, 1.25 GB in float64; the generator's peak about twice
#: that): ``--n-samples 10 --test-size 0.99999`` asked for a million, a MemoryError.
MAX_MNIST_LIKE = 200_000
#: Class labels are integers in [-2**63, 2**63): what scikit-learn's ``type_of_target``
#: (``SparseLeakyReLUNet.fit``) takes for labels, a float that casts to int64 and back
#: unchanged. ``1e19`` is a whole number but no label: both rules must say so (they did not,
#: and an IndexError followed).
LABEL_LIMIT = 2.0**63


@dataclass
class ProblemData:
    """``X_train (N, n_0)``, ``Y_train (N, n_L)``, ``X_test (M, n_0)``, ``Y_test (M, n_L)``
    (``M`` may be 0); ``task`` is ``classification`` (one-hot ``Y``) or ``regression``."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    task: str
    info: dict = field(default_factory=dict)


def _split(X, Y, test_size: float, seed, stratify=None, source: str = "the data"):
    """Hold out ``test_size`` of the samples (scikit-learn's ``train_test_split``; stratified
    by the labels ``stratify`` where every class can have a sample on both sides). A split
    that leaves no training sample is refused under ``--test-size``, naming ``source``."""
    if test_size == 0:
        return X, Y, X[:0], Y[:0]
    from sklearn.model_selection import train_test_split

    # train_test_split's sizes: ceil(test_size N) held out, the rest for training
    n = len(X)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train < 1:
        raise ValueError(
            f"--test-size {test_size!r} splits the {n} sample{'s' * (n != 1)} of {source} into "
            f"{n_train} training and {n_test} test samples; training needs at least 1: "
            f"{_samples_needed(test_size, n)}, or --test-size 0 (train on all of them, no "
            f"test metrics)"
        )
    if stratify is not None:
        classes, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2 or min(n_test, n_train) < len(classes):
            stratify = None  # a class cannot be on both sides: a plain shuffled split
    Xtr, Xte, Ytr, Yte = train_test_split(
        X, Y, test_size=test_size, random_state=seed, stratify=stratify
    )
    return Xtr, Ytr, Xte, Yte


def _samples_needed(test_size: float, n: int) -> str:
    """The advice of :func:`_split`'s refusal: the fewest samples ``m > n`` that keep one for
    training, ``m - ceil(test_size m) >= 1``, near ``1 / (1 - test_size)``; a smaller
    ``--test-size`` where that is beyond any data set (``test_size`` within rounding of 1:
    counting up from ``n`` took 15 s at ``1 - 1e-8`` and never ended at ``1 - 2^-53``)."""
    start = max(n + 1, math.ceil(1.0 / (1.0 - test_size)) - 1)
    for m in range(start, start + 64):
        if m - math.ceil(test_size * m) >= 1:
            return f"give at least {m} samples" if m <= 10**9 else "give a smaller --test-size"
    return "give a smaller --test-size"


def _auto_task(Y) -> str:
    """Classification for one column of class labels (:func:`_is_label`) with at most
    ``MAX_AUTO_CLASSES`` distinct values (csv stores labels as numbers), regression
    otherwise."""
    if _is_one_hot(Y):
        return "classification"
    if Y.ndim == 2 and Y.shape[1] != 1:
        return "regression"
    y = Y.ravel()
    if np.all(_is_label(y)) and len(np.unique(y)) <= MAX_AUTO_CLASSES:
        return "classification"
    return "regression"


def _is_one_hot(Y) -> bool:
    """Whether ``Y`` is one-hot rows (``make_mnist_like``'s targets, ``np.eye(k)[labels]``):
    two or more columns of 0 and 1 with one 1 per row. Its columns are the classes (their
    index the label): trained as a regression of k outputs, the report gave an R^2."""
    Y = np.asarray(Y)
    return bool(Y.ndim == 2 and Y.shape[1] >= 2 and np.all((Y == 0) | (Y == 1))
                and np.all(Y.sum(axis=1) == 1))


def _is_label(y) -> np.ndarray:
    """Per entry: a class label, an integer in ``[-LABEL_LIMIT, LABEL_LIMIT)`` (one that casts
    to int64 and back unchanged; the one rule of ``--task auto`` and of the refusal of
    ``--task classification``)."""
    y = np.asarray(y)
    return (y == np.round(y)) & (y >= -LABEL_LIMIT) & (y < LABEL_LIMIT)


def load_problem_data(args, mode: str) -> ProblemData:
    """Build the split the CLI options ask for.

    ``args`` carries ``seed`` and, for ``solve``: ``data``, ``file``, ``target``, ``task``,
    ``header``, ``n_samples``, ``test_size``, ``standardize``, ``dtype``, and ``bias`` where
    it has one (a regression target is centred only with biases).

    For a csv file ``info`` says whether its first row was read as a header (``header``); where
    ``--header auto`` read it as data (no cell of text) ``info["note"]`` says so, for
    the summary to print.
    """
    seed = check_seed(args.seed, "--seed")
    if mode == "demo":
        d = load_digits_problem(seed=seed)
        info = {"name": "digits", "n_train": len(d.X_train), "n_test": len(d.X_test)}
        return ProblemData(*d, task="classification", info=info)

    dt = np.dtype(args.dtype)
    name = "digits" if args.data is None else args.data  # None: --data not given
    ts = args.test_size
    if not 0 <= ts < 1:
        raise ValueError(f"--test-size must be in [0, 1), got {ts}")
    n = args.n_samples
    if n is not None and n < 1:
        raise ValueError(f"--n-samples must be >= 1, got {n}")
    # options that would not act on this source are refused, not silently dropped or replaced
    if args.file is not None and args.data is not None:  # (argparse refuses it first)
        raise ValueError(f"--data {args.data} and --file exclude each other: give one source")
    source = "--file" if args.file is not None else f"--data {name}"
    if n is not None and source in ("--file", "--data digits"):
        raise ValueError(f"--n-samples applies to --data teacher and mnist-like, not to {source} "
                         f"(its samples are given: all of them are used, --test-size splits "
                         f"them)")  # fmt: skip
    header = getattr(args, "header", "auto")
    if args.file is None:  # the options of a user file
        given = [opt for opt, on in (("--target", args.target is not None),
                                     ("--task", args.task != "auto"),
                                     ("--header", header != "auto"),
                                     ("--no-standardize", not args.standardize)) if on]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise ValueError(f"{', '.join(given)} {verb} to --file only, not to {source} (its "
                             f"target, task and scaling are built in)")  # fmt: skip
    if ts == 0 and source == "--data digits":  # load_digits_problem's split needs 0 < ts < 1
        raise ValueError("--test-size 0 is not available with --data digits (its stratified "
                         "split holds out a fraction in (0, 1)); use e.g. --test-size "
                         "0.1")  # fmt: skip
    if args.file is not None:
        try:
            # read in float64, then cast: class labels are integers below LABEL_LIMIT, and
            # float32 holds them exactly only up to 2**24 (16777216 and 16777217 were one class)
            X, Y64, used = load_user_data(args.file, target=args.target, dtype=np.float64,
                                          return_target=True, header=header)  # fmt: skip
            # (only checked here: split and standardised in float64, cast last: a float32 cast
            # first kept 128 s of a time stamp near 1.7e9, and standardised that)
            cast(X, dt, f"path: the features in {args.file!r}")
            cast(Y64, dt, f"path: the target {used!r} in {args.file!r}")
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise as_option(exc, {"path": "--file", "target": "--target",
                                  "header": "--header"}) from None  # fmt: skip
        Y = Y64
        task = _auto_task(Y64) if args.task == "auto" else args.task
        # the target actually used: the npz key or the csv column's name (index without a
        # header), also when --target was not given
        info = {"name": f"file {args.file}", "file": args.file, "target": used}
        if args.file.lower().endswith(".csv"):
            # load_user_data gives a csv column by name when the first row was its header
            info["header"] = isinstance(used, str)
            if header == "auto" and not info["header"]:
                info["note"] = (f"first row read as data (no header): the cells of the "
                                f"first row of {args.file!r} are all numbers; give --header "
                                f"yes if they are column names")  # fmt: skip
        strat = None
        if task == "classification":  # the labels as read (Y64), one-hot Y in dt
            if _is_one_hot(Y64):  # the column of each row's 1 is its class
                labels = Y64.argmax(axis=1).astype(Y64.dtype)
            elif Y64.ndim == 2 and Y64.shape[1] != 1:
                raise ValueError(f"--task classification needs one target column of class "
                                 f"labels (or one-hot rows), got {Y64.shape}")
            else:
                labels = Y64.ravel()
            _check_class_labels(labels, used, args)
            Y, classes = one_hot(labels)
            if len(classes) < 2:  # as SparseLeakyReLUNet.fit: one class is nothing to learn
                given = "--target" if args.target is not None else "--file"
                raise ValueError(
                    f"{given}: the target {used!r} of {args.file!r} holds 1 class "
                    f"({classes[0]:g}); classification needs at least 2 classes (a constant "
                    f"target is nothing to learn)"
                )
            info["classes"] = classes.tolist()
            strat = labels
        Xtr, Ytr, Xte, Yte = _split(X, Y, ts, seed, strat, source=f"--file {args.file!r}")
        if args.standardize:
            Xtr, Xte = standardize(Xtr, Xte)
            if task == "regression":  # the targets too, as SparseLeakyReLUNet's normalize_y
                k = Ytr.reshape(len(Ytr), -1).shape[1]  # outputs (a held-out part may be empty)
                (Ytr_s, Yte_s), mean, scale = standardize(
                    Ytr.reshape(len(Ytr), k), Yte.reshape(len(Yte), k),
                    center=bool(getattr(args, "bias", True)), return_stats=True)
                Ytr, Yte = Ytr_s.reshape(Ytr.shape), Yte_s.reshape(Yte.shape)
                info["target_mean"], info["target_scale"] = mean.tolist(), scale.tolist()
        info["standardized"] = bool(args.standardize)
        Xtr, Ytr, Xte, Yte = (A.astype(dt, copy=False) for A in (Xtr, Ytr, Xte, Yte))
    elif name == "digits":
        try:  # its refusal of a split (test_size=...) under the option's name
            d = load_digits_problem(test_size=ts, seed=seed, dtype=dt)
        except ValueError as exc:
            raise as_option(exc, {"test_size": "--test-size", "seed": "--seed"}) from None
        Xtr, Ytr, Xte, Yte = d
        task, info = "classification", {"name": "digits"}
    elif name == "teacher":
        try:  # its refusal of a sample count beyond the memory, under the option's name
            X, Y, _, _ = make_teacher(n or 500, TEACHER_WIDTHS, noise=TEACHER_NOISE, seed=seed,
                                      bias=True, dtype=dt)  # fmt: skip
        except ValueError as exc:
            raise as_option(exc, {"N": "--n-samples"}) from None
        Xtr, Ytr, Xte, Yte = _split(X, Y, ts, seed, source="--data teacher (--n-samples)")
        task = "regression"
        info = {"name": "teacher", "teacher_widths": list(TEACHER_WIDTHS), "noise": TEACHER_NOISE}
    else:  # mnist-like: the held-out part comes from the same generator
        N = n or 2000
        M = _mnist_like_test_samples(N, ts)
        X, Y = make_mnist_like(N + M, seed=seed, dtype=dt)
        Xtr, Ytr, Xte, Yte = X[:N], Y[:N], X[N:], Y[N:]
        if np.count_nonzero(Ytr.any(axis=0)) < 2:  # (it trained on one class, accuracy 1.0)
            raise ValueError(f"--n-samples {N} gives --data mnist-like's training part one "
                             f"class; classification needs at least 2 (as a --file's target "
                             f"does): give a larger --n-samples, or another --seed (the "
                             f"training samples are a random draw of the generated ones)")
        task, info = "classification", {"name": "mnist-like"}
    info.update({"n_train": len(Xtr), "n_test": len(Xte), "task": task})
    return ProblemData(Xtr, Ytr, Xte, Yte, task=task, info=info)


def _mnist_like_test_samples(N: int, ts: float) -> int:
    """The held-out samples ``--data mnist-like`` generates on top of its ``N`` training ones,
    ``round(N ts / (1 - ts))`` (``ts`` of all of them), refused under ``--test-size`` and
    ``--n-samples`` where the two together pass :data:`MAX_MNIST_LIKE`."""
    M = round(N * ts / (1 - ts))
    if N + M > MAX_MNIST_LIKE:
        if N < MAX_MNIST_LIKE:  # the largest fraction that stays within the bound
            top = math.floor((1 - N / MAX_MNIST_LIKE) * 1e4) / 1e4
            advice = (f"give --test-size at most {top:g} with --n-samples {N}, or a smaller "
                      f"--n-samples")  # fmt: skip
        else:
            advice = "give a smaller --n-samples (and --test-size)"
        raise ValueError(
            f"--test-size {ts!r} with --n-samples {N} asks --data mnist-like for {M} "
            f"held-out samples on top of the {N} training ones ({N + M} in all); it generates "
            f"at most {MAX_MNIST_LIKE}: {advice}"
        )
    return M


def _check_class_labels(labels, used, args) -> None:
    """``--task classification`` refuses a continuous target as ``SparseLeakyReLUNet.fit``
    does (scikit-learn's ``type_of_target``): one class per distinct value is no task."""
    from sklearn.utils.multiclass import type_of_target

    bad = labels[~_is_label(labels)]
    if bad.size or type_of_target(labels) == "continuous":
        example = f", e.g. {bad[0]:g}" if bad.size else ""
        raise ValueError(
            f"--task classification: the target {used!r} of {args.file!r} is continuous "
            f"(values that are not integers of magnitude below 2**63{example}), not class "
            f"labels; use --task regression, or give a target of class labels"
        )


def as_option(exc: Exception, options: dict) -> Exception:
    """``exc`` (same type) with a leading Python parameter name (``path: ...``, or
    ``lam=1e+200 is ...``) replaced by the option that gave it (``--file: ...``, ``--lam
    1e+200 is ...``): the command line names its own options."""
    msg = str(exc)
    for param, option in options.items():
        if msg.startswith(param + ":") or msg.startswith(param + " "):
            return type(exc)(option + msg[len(param):])
        if msg.startswith(param + "="):
            return type(exc)(option + " " + msg[len(param) + 1:])
    return exc

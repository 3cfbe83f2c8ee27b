"""Data for liftnet: built-in problems, synthetic generators and user files.

Every function returns the public convention of MODEL.md section 1: ``X`` of shape
``(N, n_0)`` (samples as rows) and ``Y`` of shape ``(N, n_L)``; class targets are one-hot
(``Y[i, c] = 1`` for the class ``c`` of sample ``i``), so a network's prediction is
``argmax_c f(x)_c``.

* :func:`load_digits_problem`: scikit-learn's 8x8 digits (ships with scikit-learn, no
  download), split into train and test, standardised with the training statistics.
* :func:`make_teacher`: a random teacher leaky-ReLU network plus Gaussian noise.
* :func:`make_mnist_like`: synthetic 28x28 (784-input), 10-class images shaped like MNIST.
* :func:`load_user_data`: ``.npz`` (keys ``X``, ``Y``) or ``.csv`` files.
"""

from __future__ import annotations

import csv
import math
import os
from typing import NamedTuple

import numpy as np

from ._validation import (
    _OutOfRange,
    _refuse_text,
    cast,
    check_allocation,
    check_bool,
    check_data,
    check_finite_array,
    check_float_dtype,
    check_npz_file,
    check_path,
    check_scalar,
    check_seed,
    check_widths,
    refuse_masked,
    refuse_special_file,
)
from .formulation.problem import LiftedProblem

__all__ = [
    "Split",
    "load_digits_problem",
    "make_teacher",
    "make_mnist_like",
    "load_user_data",
    "one_hot",
    "standardize",
]


class Split(NamedTuple):
    """A train/test split: ``X_train (N, n_0)``, ``Y_train (N, n_L)``, ``X_test``, ``Y_test``."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


def _as_label_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)``, where ragged nesting (``[[0, 1], [2]]``, which numpy cannot make an
    array of) is a ``ValueError`` naming ``name``, as are masked entries (the cast keeps the
    value under the mask, which became a class of its own). A sequence mixing text and numbers
    is a ``TypeError``: numpy writes its numbers as text, so that ``1`` and ``"1"`` became one
    class, and ``1.5`` the class ``"1.5"``."""
    refuse_masked(x, name)
    try:
        arr = np.asarray(x)
    except ValueError:
        raise ValueError(f"{name} must be 1-D and non-empty, got a ragged sequence") from None
    if arr.dtype.kind in "US" and not isinstance(x, np.ndarray):
        kinds = {type(v) for v in np.asarray(x, dtype=object).flat}
        # (str or bytes, not both: b"a" and "a" became one class, and they do not sort together)
        if not (all(issubclass(k, str) for k in kinds)
                or all(issubclass(k, bytes) for k in kinds)):
            raise TypeError(f"{name} must be of one sortable type, got text mixed with "
                            f"{sorted(k.__name__ for k in kinds)}")
    return arr


def _has_no_class(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds a value that equals nothing, itself included, and so can be no
    class: NaN or inf (a float array), NaT (dates), a float NaN inside an object array."""
    if arr.dtype.kind in "fc":
        return not np.all(np.isfinite(arr))
    if arr.dtype.kind in "mM":
        return bool(np.any(np.isnat(arr)))
    if arr.dtype.kind == "O":
        return any(isinstance(v, float) and v != v for v in arr.flat)
    return False


def one_hot(labels, classes=None, dtype=np.float64):
    """One-hot targets of class labels.

    Parameters
    ----------
    labels : array of shape (N,)
        Class labels (any sortable type).
    classes : array of shape (n_L,), optional
        The distinct classes, in column order (any order); default ``numpy.unique(labels)``.
    dtype : {numpy.float64, numpy.float32}
        Of ``Y``.

    Returns
    -------
    Y : array (N, n_L)
        ``Y[i, c] = 1`` if ``labels[i] == classes[c]``, else 0.
    classes : array (n_L,)

    Examples
    --------
    >>> from liftnet.datasets import one_hot
    >>> Y, classes = one_hot(["cat", "dog", "cat", "bird"])
    >>> Y
    array([[0., 1., 0.],
           [0., 0., 1.],
           [0., 1., 0.],
           [1., 0., 0.]])
    >>> classes.tolist()
    ['bird', 'cat', 'dog']
    >>> classes[Y.argmax(axis=1)].tolist()  # back to the labels (a prediction: argmax of f(x))
    ['cat', 'dog', 'cat', 'bird']

    ``classes`` fixes the columns, also for classes absent from ``labels``:

    >>> one_hot([2, 0], classes=[0, 1, 2])[0]
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    dt = check_float_dtype(dtype)
    labels = _as_label_array(labels, "labels")
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be 1-D and non-empty, got shape {labels.shape}")
    if classes is not None:
        classes = _as_label_array(classes, "classes")
        if classes.ndim != 1 or classes.size == 0:
            raise ValueError(f"classes must be 1-D and non-empty, got shape {classes.shape}")
    for arr, name in ((labels, "labels"), (classes, "classes")):
        if arr is not None and _has_no_class(arr):
            raise ValueError(f"{name} must be finite, found NaN, NaT or inf")
    try:
        if classes is None:
            classes = np.unique(labels)
        order = np.argsort(classes, kind="stable")  # searchsorted needs sorted classes
        srt = classes[order]
        if np.any(srt[1:] == srt[:-1]):
            raise ValueError(f"classes must be distinct, got {classes!r}")
        pos = np.clip(np.searchsorted(srt, labels), 0, len(srt) - 1)
        known = srt[pos] == labels
    except TypeError as exc:  # e.g. str labels against numeric classes, or None among labels
        raise TypeError(f"labels and classes must be of one sortable type: {exc}") from None
    if not np.all(known):
        unknown = np.unique(labels[~known])
        raise ValueError(f"labels contain classes not in classes: {unknown[:5]!r}")
    Y = np.zeros((labels.shape[0], len(classes)), dtype=dt)
    Y[np.arange(labels.shape[0]), order[pos]] = 1.0
    return Y, classes


def _is_constant(mean: np.ndarray, var: np.ndarray, n: int, dt: np.dtype) -> np.ndarray:
    """Columns whose variance is round-off: at most the error bound of its float64 computation
    (scikit-learn's ``StandardScaler``: ``n eps var + (n eps mean)^2``, ``eps`` of float64) plus
    the data's own rounding (a spread of one unit in the last place of the dtype ``dt``:
    ``(eps_dt mean)^2``, which matters for float32 columns). Such a column's standard deviation
    is noise, and dividing by it blows every other value up (a held-out 1.0 became 1.9e15 next
    to a float64 training column of 0.3 and 0.30000000000000004)."""
    eps = np.finfo(np.float64).eps
    bound = n * eps * var + (n * eps * mean) ** 2 + (np.finfo(dt).eps * mean) ** 2
    return var <= bound


def standardize(X_train, *others, center=True, return_stats=False):
    """Scale the columns of ``X_train`` to mean 0 and variance 1; apply the same map to others.

    Constant columns are centred only: variance 0, or a variance at the level of rounding
    relative to the column's mean (a column constant up to round-off, as scikit-learn's
    ``StandardScaler`` treats it; its standard deviation would be noise). The statistics are
    accumulated in float64.

    Parameters
    ----------
    X_train : array-like, 2-D
        The data whose column statistics define the map: finite and non-empty.
    *others : array-like, 2-D
        Arrays mapped with ``X_train``'s statistics (a test set): finite, with as many columns
        (they may have no rows).
    center : bool, default True
        ``False`` scales each column by its root mean square instead, with no shift (the
        targets of a network without an output bias, which could not add the mean back); only
        an all-zero column is constant then.
    return_stats : bool, default False
        Also return the map's per-column ``mean`` and ``scale`` (below).

    Returns
    -------
    tuple of arrays, or (arrays, mean, scale) with ``return_stats=True``
        The transformed ``X_train, *others`` in order, in the dtype of ``X_train`` when it is
        float32 or float64, else in float64 (so integer input is scaled correctly); and, per
        column, the shift and the scale of the map ``(A - mean) / scale`` (float64; ``mean``
        0 without centring, ``scale`` 1 for a constant column), so that a fit on the scaled
        arrays can be mapped back.

    Examples
    --------
    The second column is constant: it is centred only.

    >>> import numpy as np
    >>> from liftnet.datasets import standardize
    >>> X_train = np.array([[0.0, 10.0], [2.0, 10.0]])
    >>> X_test = np.array([[1.0, 11.0]])
    >>> Xtr, Xte = standardize(X_train, X_test)
    >>> Xtr
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> Xte
    array([[0., 1.]])
    >>> (Xtr, Xte), mean, scale = standardize(X_train, X_test, return_stats=True)
    >>> mean.tolist(), scale.tolist()
    ([1.0, 10.0], [1.0, 1.0])
    >>> bool(np.allclose(Xtr * scale + mean, X_train))  # the map back
    True
    """
    center = check_bool(center, "center")
    return_stats = check_bool(return_stats, "return_stats")
    is_float = isinstance(X_train, np.ndarray) and X_train.dtype in (np.float32, np.float64)
    dt = X_train.dtype if is_float else np.dtype(np.float64)
    X_train = check_data(X_train, "X_train", dtype=dt)
    arrays = [X_train]
    for i, A in enumerate(others):
        name = f"others[{i}]"
        A = check_finite_array(A, name, dt)
        if A.ndim != 2 or A.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"{name} must be 2-D with {X_train.shape[1]} columns (as X_train), "
                f"got shape {A.shape}"
            )
        arrays.append(A)
    # the statistics of X_train / s, s a power of two at most each column's largest magnitude:
    # they cannot overflow (the variance of X * 1e200 was inf, and inf <= inf read every
    # column as constant), and the division is exact, so the result is that of (A - mean) / sd
    _, e = np.frexp(np.max(np.abs(X_train), axis=0))
    s = np.ldexp(np.ones_like(e, dtype=dt), e - 1)
    if center:
        mean = np.mean(X_train / s, axis=0, dtype=np.float64)
        var = np.var(X_train / s, axis=0, dtype=np.float64)
        const = _is_constant(mean, var, X_train.shape[0], dt)
    else:  # the mean square about 0
        mean = np.zeros(X_train.shape[1])
        var = np.mean(np.square(X_train / s, dtype=np.float64), axis=0)
        const = var == 0
    mu = np.where(const, mean * s, mean).astype(dt)  # constant columns: centred only
    s = np.where(const, 1.0, s).astype(dt)
    sd = np.where(const, 1.0, np.sqrt(var)).astype(dt)
    with np.errstate(over="ignore"):
        out = tuple((A / s - mu) / sd for A in arrays)
    for i, (A, B) in enumerate(zip(arrays[1:], out[1:])):
        # X_train's own values end within a few sd of 0; another array's may lie so far
        # outside X_train's spread that the map overflows (1e300 against a spread of 1e-300)
        bad = np.flatnonzero(~np.all(np.isfinite(B), axis=0))
        if bad.size:
            j = int(bad[0])
            raise ValueError(f"others[{i}] lies too far outside X_train's spread: scaled by "
                             f"its statistics it overflows {dt} in column {j} (its largest "
                             f"magnitude there {float(np.max(np.abs(A[:, j]))):.3g}, X_train's "
                             f"standard deviation {float(sd[j] * s[j]):.3g})")
    if return_stats:
        return out, mu.astype(np.float64) * s, sd.astype(np.float64) * s
    return out


def load_digits_problem(test_size: float = 0.25, seed=0, dtype=np.float64) -> Split:
    """scikit-learn's handwritten digits (1797 images of 8x8 pixels, 10 classes).

    Stratified train/test split, inputs standardised with the training statistics (the
    always-blank border pixels stay exactly 0: column groups of ``W_1`` can remove them),
    one-hot targets.

    Parameters
    ----------
    test_size : float in (0, 1)
        Fraction of samples held out; both parts must hold at least one sample per class
        (10), so about 0.0051 (above 9/1797) to 0.994.
    seed : int
        Seed of the split.
    dtype : {numpy.float64, numpy.float32}

    Returns
    -------
    Split
        ``X_train (N, 64)``, ``Y_train (N, 10)``, ``X_test (M, 64)``, ``Y_test (M, 10)``.

    Examples
    --------
    >>> import numpy as np
    >>> from liftnet.datasets import load_digits_problem
    >>> Xtr, Ytr, Xte, Yte = load_digits_problem(test_size=0.25, seed=0)
    >>> Xtr.shape, Ytr.shape, Xte.shape, Yte.shape
    ((1347, 64), (1347, 10), (450, 64), (450, 10))
    >>> bool(np.abs(Xtr.mean(axis=0)).max() < 1e-12)  # standardised on the training part
    True
    >>> bool((Ytr.sum(axis=1) == 1).all())  # one-hot targets: one class per sample
    True
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    test_size = check_scalar(
        test_size, "test_size", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    # scikit-learn's split takes seeds below 2**32 (its own error names random_state)
    seed = check_scalar(check_seed(seed), "seed", high=2**32 - 1, integer=True)
    dt = check_float_dtype(dtype)
    data = load_digits()
    X = data.data.astype(dt)
    Y, classes = one_hot(data.target, dtype=dt)
    # the stratified split needs a sample of every class on both sides (else scikit-learn's
    # error, which does not name test_size); its sizes, those of train_test_split below
    # (test_size given, train_size not): ceil(test_size n) held out, the rest for training
    # (floor((1 - test_size) n) disagreed with it by one sample on many fractions)
    n = len(X)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if min(n_test, n_train) < len(classes):
        raise ValueError(
            f"test_size={test_size:g} splits the {n} digits into {n_train} training and "
            f"{n_test} test samples; the stratified split needs at least {len(classes)} (one per "
            f"class) in each"
        )
    Xtr, Xte, Ytr, Yte = train_test_split(
        X, Y, test_size=test_size, random_state=seed, stratify=data.target
    )
    Xtr, Xte = standardize(Xtr, Xte)
    return Split(
        np.ascontiguousarray(Xtr),
        np.ascontiguousarray(Ytr),
        np.ascontiguousarray(Xte),
        np.ascontiguousarray(Yte),
    )


def make_teacher(
    N: int,
    widths=(10, 8, 3),
    alpha: float = 0.1,
    noise: float = 0.0,
    seed=0,
    bias: bool = False,
    dtype=np.float64,
):
    """A random teacher leaky-ReLU network and noisy samples of it.

    ``X`` has standard normal entries, ``Y = f(X) + noise * E`` with ``E`` standard normal and
    ``f`` the network of MODEL.md section 1 with He-initialised weights (biases, when asked,
    standard normal times 0.1).

    Parameters
    ----------
    N : int > 0
        Number of samples.
    widths : sequence of int
        ``(n_0, n_1, ..., n_L)``, at least one hidden layer.
    alpha : float in (0, 1)
        Leaky-ReLU slope of the teacher.
    noise : float >= 0
        Standard deviation of the additive noise.
    seed : int
    bias : bool
        Whether the teacher has biases.
    dtype : {numpy.float64, numpy.float32}

    Returns
    -------
    X : array (N, n_0)
    Y : array (N, n_L)
    W : list of L arrays, ``W[l-1]`` of shape ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None

    Examples
    --------
    >>> import numpy as np
    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, W, b = make_teacher(200, (5, 8, 6, 2), alpha=0.1, noise=0.1, seed=0)
    >>> X.shape, Y.shape, [Wl.shape for Wl in W], b
    ((200, 5), (200, 2), [(8, 5), (6, 8), (2, 6)], None)

    Without noise ``Y`` is the teacher's output, so its weights fit the data exactly
    (``Phi`` is then ``lam R(W)`` alone):

    >>> X, Y, W, b = make_teacher(50, (5, 8, 2), noise=0.0, seed=1)
    >>> prob = LiftedProblem(X, Y, hidden=(8,), alpha=0.1, lam=0.0)
    >>> bool(np.allclose(prob.predict(W, b, X), Y)), bool(prob.Phi(W, b) < 1e-20)
    (True, True)
    """
    N = check_scalar(N, "N", low=1, integer=True)
    widths = check_widths(widths, "widths")
    if len(widths) < 3:
        raise ValueError(
            f"widths must give (n_0, n_1, ..., n_L) with at least one hidden layer, got {widths!r}"
        )
    dt = check_float_dtype(dtype)
    noise = _check_noise(noise, dt)
    seed = check_seed(seed)
    check_allocation(8 * sum(a * b for a, b in zip(widths, widths[1:])), "widths", widths,
                     "the teacher's weights")
    # the draws in float64, X and Y, and the teacher's forward pass: about twice every width
    check_allocation(2 * 8 * N * sum(widths), "N", N, f"{N} samples of widths {widths}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, widths[0])).astype(dt)
    # The teacher is evaluated by LiftedProblem itself (one source of the network formula).
    prob = LiftedProblem(
        X,
        np.zeros((N, widths[-1]), dtype=dt),
        hidden=widths[1:-1],
        alpha=alpha,
        bias=bias,
        dtype=dt,
    )
    W, b = prob.initial_weights(rng.integers(2**31))
    if bias:
        b = [(0.1 * rng.standard_normal(s)).astype(dt) for s in prob.b_shapes]
    Y = prob.predict(W, b, X)
    if noise > 0:
        Y = Y + (noise * rng.standard_normal(Y.shape)).astype(dt)
    return X, np.ascontiguousarray(Y, dtype=dt), W, b


def _prototypes(rng, side: int = 28, n_classes: int = 10, strokes: int = 4) -> np.ndarray:
    """``n_classes`` images ``(side*side,)`` in [0, 1]: sums of Gaussian blobs inside the
    central 20x20 box (for ``side = 28``); the border is exactly 0, as in MNIST."""
    g = np.arange(side, dtype=np.float64)
    yy, xx = np.meshgrid(g, g, indexing="ij")
    lo, hi = 0.25 * side, 0.75 * side
    P = np.zeros((n_classes, side * side))
    for c in range(n_classes):
        img = np.zeros((side, side))
        for _ in range(strokes):
            cy, cx = rng.uniform(lo, hi, size=2)
            sy, sx = rng.uniform(0.04, 0.12, size=2) * side
            img += np.exp(-0.5 * (((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2))
        P[c] = (img / img.max()).ravel()
    b = side // 7
    box = np.zeros((side, side))
    box[b : side - b, b : side - b] = 1.0
    return P * box.ravel()


def _check_noise(noise, dt) -> float:
    """``noise >= 0``, at most ``1e-3`` of ``dt``'s largest number: standard normal draws
    (below 10 in magnitude in any realistic sample) times ``noise`` then stay finite
    (``noise=1e308`` gave targets of ``-inf``, and NaN pixels where the border's zeros met
    ``inf``)."""
    return check_scalar(noise, "noise", low=0, high=1e-3 * float(np.finfo(dt).max))


def make_mnist_like(N: int = 60000, seed=0, noise: float = 0.4, dtype=np.float32):
    """Synthetic data shaped like MNIST: ``N`` images of 28x28 = 784 pixels, 10 classes.

    Each class has a prototype image (a few Gaussian strokes in the centre, blank border).
    A sample of class ``c`` is ``clip(s * P_c + m * P_c' + noise * E, 0, 1)`` with a random
    intensity ``s`` in [0.6, 1], a random other class ``c'`` mixed in with weight ``m`` in
    [0, 0.6] and standard normal pixel noise ``E`` inside the central 20x20 box; the border
    pixels are exactly 0 (column groups of ``W_1`` can remove them). Classes are balanced up
    to one sample. The samples are drawn and computed in float32 whatever ``dtype``: a float64
    set holds the float32 set's values exactly (the same data in both dtypes; float32 draws
    would otherwise differ from float64 ones). Cost: O(N * 784), about 1.5 s for
    ``N = 60000`` (``X`` is 190 MB in float32, the peak about twice that; in float64 ``X`` is
    380 MB more).

    Parameters
    ----------
    N : int > 0
    seed : int
    noise : float >= 0
        Pixel noise level.
    dtype : {numpy.float32, numpy.float64}

    Returns
    -------
    X : array (N, 784), entries in [0, 1]
    Y : array (N, 10), one-hot

    Examples
    --------
    >>> from liftnet.datasets import make_mnist_like
    >>> X, Y = make_mnist_like(N=100, seed=0)
    >>> X.shape, Y.shape, X.dtype.name
    ((100, 784), (100, 10), 'float32')
    >>> Y.sum(axis=0).astype(int).tolist()  # balanced classes
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    >>> bool(X.min() >= 0 and X.max() <= 1)
    True
    >>> int((X.reshape(100, 28, 28)[:, :4, :] != 0).sum())  # the border rows are blank
    0
    """
    N = check_scalar(N, "N", low=1, integer=True)
    dtype = check_float_dtype(dtype)
    dt = np.dtype(np.float32)  # the arithmetic, whatever dtype (the same data in both)
    noise = _check_noise(noise, dt)
    seed = check_seed(seed)
    # X, the noise and a temporary in float32, and the copy in dtype
    check_allocation(N * 784 * (3 * 4 + np.dtype(dtype).itemsize), "N", N,
                     f"{N} images of 784 pixels")
    rng = np.random.default_rng(seed)
    P = _prototypes(rng).astype(dt)
    labels = rng.permutation(np.arange(N) % 10)
    other = (labels + rng.integers(1, 10, size=N)) % 10
    s = rng.uniform(0.6, 1.0, size=(N, 1)).astype(dt)
    m = rng.uniform(0.0, 0.6, size=(N, 1)).astype(dt)
    X = s * P[labels]
    X += m * P[other]
    if noise > 0:
        centre = (P.max(axis=0) > 0).astype(dt)  # the blank border stays blank
        E = rng.standard_normal((N, P.shape[1]), dtype=dt)
        E *= noise * centre
        X += E
        del E
    np.clip(X, 0.0, 1.0, out=X)
    Y, _ = one_hot(labels, classes=np.arange(10), dtype=dtype)
    return X.astype(dtype, copy=False), Y


# ------------------------------------------------------------------ user files
def _load_npz(path: str, target, dt):
    # a .npz file's keys are strings: an integer target (the CLI's --target 1) is the key '1'
    ykey = "Y" if target is None else str(target)
    if ykey == "X":
        raise ValueError(f"target: must not be 'X', the key of the inputs in {path!r}")
    check_npz_file(path, "path", writer="np.savez")  # np.load takes any other file for a pickle
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            arrays = {k: f[k] for k in ("X", ykey) if k in keys}
    except Exception as exc:  # zipfile.BadZipFile, OSError, pickled objects, ...
        raise ValueError(f"path: cannot read {path!r} as a .npz file: {exc}") from None
    for k in ("X", ykey):
        if k not in arrays:
            what = "target" if k == ykey and target is not None else "path"
            raise ValueError(f"{what}: the .npz file {path!r} has no array {k!r} (it has {keys})")
    Y = arrays[ykey]
    if Y.dtype.kind in "iu" and Y.size:  # (bool and float targets are exact as they are)
        _exact_integers((int(Y.min()), int(Y.max())), ykey, path, dt)
    return _numeric(arrays["X"], "X", path, dt), _numeric(Y, ykey, path, dt), ykey


def _exact_integers(values, what: str, path: str, dt) -> None:
    """Refuse integer targets ``values`` beyond ``2**(p + 1)`` (``p`` the mantissa bits of
    ``dt``: ``2**53`` for float64, ``2**24`` for float32), past which ``dt`` no longer holds
    every integer: two class labels (``2**53`` and ``2**53 + 1``) became one float, and
    one class, without a word (a review, 2026-12-07)."""
    top = 2 ** (np.finfo(dt).nmant + 1)
    far = max(values, key=abs)
    if abs(far) > top:
        name = np.dtype(dt).name
        raise ValueError(
            f"path: {what} in {path!r} holds the integer {far}, beyond 2**{top.bit_length() - 1}"
            f" = {top}, past which {name} does not hold every integer (distinct class labels "
            f"would merge): number the classes 0, 1, ..., K - 1"
            + (", or load the data in float64" if name == "float32" else "")
        )


#: dtype kinds of a user file's arrays that convert to floats without being numbers for
#: liftnet: complex (the cast drops the imaginary part, with only numpy's ComplexWarning),
#: datetimes and time spans (their counts since an epoch, in a unit the file chose)
_NOT_REAL = {"c": "complex numbers", "M": "dates and times (datetime64)",
             "m": "time spans (timedelta64)"}  # fmt: skip


def _numeric(A, what: str, path: str, dt) -> np.ndarray:
    """``A`` as a finite, non-empty float array of dtype ``dt``, else a ``ValueError``
    naming ``what`` and the file; real numbers only (:data:`_NOT_REAL`; text is a
    ``TypeError``, not parsed), each within the range of ``dt`` (``1e39`` is no float32)."""
    name = f"path: {what} in {path!r}"
    kind = np.asarray(A).dtype.kind
    if kind in _NOT_REAL:
        raise ValueError(f"{name} holds {_NOT_REAL[kind]}, expected real numbers")
    _refuse_text(A, name)
    try:
        A = cast(A, dt, name)
    except _OutOfRange:
        raise
    except (TypeError, ValueError) as exc:
        raise ValueError(f"path: {what} in {path!r} is not numeric: {exc}") from None
    if A.size == 0:
        raise ValueError(f"path: {what} in {path!r} is empty")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"path: {what} in {path!r} holds NaN or inf entries")
    return A


#: ``load_user_data``'s ``header``: how the first row of a csv is read.
CSV_HEADER = ("auto", "yes", "no")


def _load_csv(path: str, target, dt, header_mode: str = "auto"):
    rows, lines = [], []  # the non-blank rows and the file's line number of each (1-based)
    try:
        # utf-8-sig: a byte-order mark (spreadsheets write one) is not part of the first name
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            start = 1
            for r in reader:
                if r and any(c.strip() for c in r):
                    rows.append(r)
                    lines.append(start)
                start = reader.line_num + 1  # a quoted cell may span several lines
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise ValueError(f"path: cannot read {path!r} as a UTF-8 .csv file: {exc}") from None
    if not rows:
        raise ValueError(f"path: the .csv file {path!r} is empty")

    def is_number(s):
        try:
            float(s)
            return True
        except ValueError:
            return False

    if header_mode == "auto":  # a header row holds at least one cell of text that is no
        # number; an empty cell is none (a first data row with a missing value was read as
        # the header and dropped without a word, a review found: it is refused as on line 2)
        has_header = any(c.strip() and not is_number(c) for c in rows[0])
    else:
        has_header = header_mode == "yes"
    header = [c.strip() for c in rows[0]] if has_header else None
    body = rows[1:] if has_header else rows
    body_lines = lines[1:] if has_header else lines
    if not body:
        raise ValueError(f"path: the .csv file {path!r} has a header but no data rows")
    ncol = len(rows[0])
    if ncol < 2:
        # a file separated by ';' or tabs reads as one column: say so
        sep = next((c for c in (";", "\t", "|") if c in "".join(rows[0])), None)
        hint = "" if sep is None else (f" (its first line holds {sep!r}: liftnet reads "
                                       f"comma-separated files)")
        raise ValueError(f"path: the .csv file {path!r} needs at least 2 columns, got "
                         f"{ncol}{hint}")
    for r, line in zip(body, body_lines):
        if len(r) != ncol:
            raise ValueError(f"path: line {line} of {path!r} has {len(r)} columns, expected "
                             f"{ncol}")  # fmt: skip
    if (isinstance(target, str) and (header is None or target not in header)
            and _is_int_text(target)):
        # an integer as text (the CLI's --target 2) that the header does not name: an index
        # (a name the header has comes first: --target 2020 with a column '2020' was read as
        # an index out of range; a review, 2026-12-07)
        target = int(target)
    if target is None:
        j = ncol - 1
    elif isinstance(target, str):
        if header is None or target not in header:
            raise ValueError(
                f"target: no column named {target!r} in {path!r} "
                f"(header: {header if header is not None else 'none'})"
            )
        same = [k for k, c in enumerate(header) if c == target]
        if len(same) > 1:  # header.index would take the first without a word
            raise ValueError(
                f"target: the column name {target!r} is ambiguous: the header of {path!r} "
                f"names {len(same)} columns {target!r} (indices {same}); rename them or pass "
                f"the target's index"
            )
        j = same[0]
    else:  # an integer: load_user_data checked the type
        if not -ncol <= target < ncol:
            raise ValueError(f"target: column index {target} out of range for {ncol} columns")
        j = int(target) % ncol
    try:
        # float64 first: _numeric's cast to dt tells a value too large for float32
        A = np.array([[float(c) for c in r] for r in body], dtype=np.float64)
    except ValueError:
        raise ValueError(_non_numeric(path, header, body, body_lines)) from None
    bad = np.argwhere(~np.isfinite(A))
    if bad.size:  # where (as for a cell that is no number): "NaN or inf" named no place
        i, k = (int(v) for v in bad[0])
        col = f"column {k}" + (f" ({header[k]!r})" if header is not None else "")
        raise ValueError(f"path: line {body_lines[i]} of {path!r}, {col}, holds "
                         f"{body[i][k].strip()!r}: not a finite number (NaN, inf, or beyond "
                         f"float64's range)")
    if (header is not None and header[0] == "" and j != 0 and len(A) > 1
            and np.array_equal(A[:, 0], np.arange(len(A)))):
        # pandas' DataFrame.to_csv writes its row index first, under an empty name: it was
        # trained on as a feature without a word (a review, 2026-12-07)
        raise ValueError(f"path: the first column of {path!r} has no name and holds 0, 1, "
                         f"..., {len(A) - 1}: a row index (pandas' to_csv writes one), not "
                         f"a feature; write the file with index=False, or name the column "
                         f"to train on it")
    cells = [r[j].strip() for r in body]
    if all(_is_int_text(c) for c in cells):  # (float() read them: check the text's integers)
        _exact_integers([int(c) for c in cells], f"the target column {j}", path, dt)
    A = _numeric(A, "the data", path, dt)
    used = header[j] if header is not None else j
    return np.ascontiguousarray(np.delete(A, j, axis=1)), A[:, j].copy(), used


def _is_int_text(text: str) -> bool:
    """Whether ``text`` is an integer written out (``"2"``, ``"-1"``)."""
    try:
        int(text)
    except ValueError:
        return False
    return True


def _non_numeric(path: str, header, body, lines) -> str:
    """Where the first cell of a csv ``body`` that is no number is: its line in the file
    (``lines``: blank lines count) and column (index, and name with a header)."""
    for r, line in zip(body, lines):
        for k, c in enumerate(r):
            try:
                float(c)
            except ValueError:
                col = f"column {k}" + (f" ({header[k]!r})" if header is not None else "")
                what = "is empty" if not c.strip() else f"holds {c!r}"
                return (f"path: {path!r} holds a non-numeric value: line {line}, {col} {what}, "
                        f"expected a number")  # fmt: skip
    return f"path: {path!r} holds a non-numeric value"  # (not reached)


def load_user_data(path, target=None, dtype=np.float64, return_target=False, header="auto"):
    """Load ``(X, Y)`` from a ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz``: arrays ``X (N, n_0)`` and ``Y`` (``(N,)`` or ``(N, n_L)``).
        ``.csv``: numeric columns, optionally one header row; ``Y`` is one column.
    target : None, str or int
        ``.npz``: the key of ``Y`` (default ``"Y"``; an int ``k`` is the key ``str(k)``).
        ``.csv``: the name (needs a header) or index of the target column (default the last
        one); an integer as text (``"2"``) is a name where the header has it, else an
        index.
    dtype : {numpy.float64, numpy.float32}
    return_target : bool
        Also return the target used (also when ``target`` is None).
    header : {"auto", "yes", "no"}
        ``.csv`` only: whether the first row holds column names. ``"auto"`` (default): it does
        when one of its cells holds text that is no number (an empty cell does not count;
        a header of numbers, ``1,2,3``, is read as a data row: say ``"yes"``); ``"yes"``:
        it does; ``"no"``: it is data.

    Returns
    -------
    X : array (N, n_0)
    Y : array (N,) or (N, n_L)
        As stored, as floats of ``dtype``: class labels stay labels (see :func:`one_hot`);
        integer targets beyond ``2**53`` (float64) or ``2**24`` (float32), which that float
        cannot all hold, are refused rather than merged.
    target : str or int
        Only with ``return_target``: the npz key of ``Y``, or the csv column's name (a
        ``str``) when the first row was read as a header, its index (an ``int``) when not.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Unknown extension, unreadable or non-numeric content (a csv cell is located by its
        line in the file and its column), integer targets ``dtype`` cannot hold exactly
        (above), missing key or column, ``header`` other than
        ``"auto"`` for an ``.npz`` file (the message starts with the parameter at fault:
        ``path``, ``target`` or ``header``).

    Examples
    --------
    A csv file with a header; the target is the last column by default:

    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from liftnet.datasets import load_user_data, one_hot
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "data.csv")
    ...     data = np.array([[0.5, 1.0, 0], [1.5, -2.0, 1], [2.5, 0.0, 1]])
    ...     np.savetxt(path, data, delimiter=",", header="x1,x2,label", comments="")
    ...     X, y, target = load_user_data(path, return_target=True)
    >>> X.shape, y.tolist(), target
    ((3, 2), [0.0, 1.0, 1.0], 'label')
    >>> Y, classes = one_hot(y)  # class labels to the one-hot targets of a LiftedProblem
    >>> Y.shape
    (3, 2)

    An ``.npz`` file with the arrays ``X`` and ``Y``:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "data.npz")
    ...     np.savez(path, X=np.ones((4, 3)), Y=np.zeros((4, 2)))
    ...     X, Y = load_user_data(path)
    >>> X.shape, Y.shape
    ((4, 3), (4, 2))
    """
    path = check_path(path)
    return_target = check_bool(return_target, "return_target")
    if target is not None and (
        isinstance(target, (bool, np.bool_)) or not isinstance(target, (str, int, np.integer))
    ):
        raise TypeError(f"target must be None, a column name or index, got {target!r}")
    if not isinstance(header, str) or header not in CSV_HEADER:
        raise ValueError(f"header must be 'auto', 'yes' or 'no', got {header!r}")
    dt = check_float_dtype(dtype)
    if not os.path.isfile(path):
        if os.path.isdir(path):  # (as load_result says it)
            raise ValueError(f"path: {path!r} is a folder, expected a file path")
        refuse_special_file(path)
        raise FileNotFoundError(f"path: no such file {path!r}")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        if header != "auto":
            raise ValueError(f"header: applies to .csv files only, not to the .npz file "
                             f"{path!r} (its arrays are named by their keys)")  # fmt: skip
        X, Y, used = _load_npz(path, target, dt)
    elif ext == ".csv":
        X, Y, used = _load_csv(path, target, dt, header)
    else:
        raise ValueError(f"path: unsupported file type {ext!r} of {path!r}; use .npz or .csv")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"path: X in {path!r} must be 2-D, got shape {X.shape}")
    if Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"path: X and Y in {path!r} disagree: X has shape {X.shape}, Y has shape {Y.shape}"
        )
    return (X, Y, used) if return_target else (X, Y)

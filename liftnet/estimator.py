"""scikit-learn estimators for sparse leaky-ReLU networks trained by the lifted ALM.

``fit`` builds the lifted model (M) of MODEL.md section 4 as a :class:`LiftedProblem` and solves
it with :func:`liftnet.solvers.alm.solve_alm` to a certified KKT point (section 5). Classification
uses one-hot targets ``Y`` and predicts ``argmax_c f(x)_c``; the network outputs are scores, not
probabilities. Weights follow MODEL.md: ``coefs_[l-1]`` is ``W_l`` of shape ``(n_l, n_{l-1})``
(the transpose of scikit-learn's ``MLPClassifier.coefs_``).

* :class:`SparseLeakyReLUNet`: the documented entry; ``task`` picks classification or regression.
* :class:`SparseLeakyReLUClassifier`, :class:`SparseLeakyReLURegressor`: the same with the task
  fixed (scikit-learn's classifier and regressor conventions and tags).
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._validation import (
    _refuse_dates,
    _refuse_sparse,
    _refuse_text,
    check_bool,
    check_choice,
    check_finite_array,
    check_scalar,
    check_seed,
    check_widths,
    refuse_masked,
)
from .datasets import one_hot, standardize
from .formulation.couplings import COUPLINGS
from .formulation.penalties import GROUPS
from .formulation.problem import LiftedProblem
from .pruning import prune_weights
from .solvers._interrupt import sigint_ignored

__all__ = [
    "LiftGapWarning",
    "SparseLeakyReLUNet",
    "SparseLeakyReLUClassifier",
    "SparseLeakyReLURegressor",
    "lift_gap_message",
]

TASKS = ("auto", "classification", "regression")
#: ``fit`` warns (:class:`LiftGapWarning`) when the network's ``Phi`` exceeds the certified
#: (converged) lifted point's ``F`` by more than this fraction of ``Phi``. On the digits demo
#: (``lam`` 1e-2, ``beta`` 1) the gap is 9%; on the moons toy of docs/maths.md 4 it reaches
#: 74-91% at ``beta`` 1, where the certified point of (M) is a much worse network than ``F``
#: suggests.
LIFT_GAP_RTOL = 0.2
#: ... and by more than this share of the data's own scale, ``Phi`` of the best constant
#: network (a fit at ``Phi`` 5e-7, ``F`` 9e-10 is no lift gap worth a warning)
LIFT_GAP_ATOL = 1e-3


class LiftGapWarning(UserWarning):
    """The certified point of (M) is far from an exact network: ``Phi`` of the fitted weights
    (MODEL.md 3) is well above ``F`` of the lifted point (MODEL.md 4, fact 4). A larger
    ``beta`` ties ``V`` to the network (docs/maths.md 4)."""


def lift_gap_message(res, beta: float, scale: float = 1.0) -> str | None:
    """The text of :class:`LiftGapWarning` for a solver result, or None where it does not apply.

    The one rule, for ``fit`` and for ``liftnet solve``: a converged result whose network's
    ``Phi`` (``res.Phi``) exceeds ``F`` of its lifted point (``res.objective``) by more than
    :data:`LIFT_GAP_RTOL` of ``Phi`` and by more than :data:`LIFT_GAP_ATOL` of ``scale``.

    Parameters
    ----------
    res : LiftedResult or mapping
        A solver result: its ``status``, ``Phi`` and ``objective`` are read.
    beta : float
        The coupling weight the result was solved with (the message names it).
    scale : float, default 1.0
        The ``Phi`` of the best constant network (:func:`constant_network_Phi`): the gap's
        absolute threshold is :data:`LIFT_GAP_ATOL` times it.

    Examples
    --------
    A converged result whose network's ``Phi`` is twice ``F`` of its lifted point, one whose
    ``Phi`` is close to ``F``, and one that did not converge (only the first gets a message):

    >>> from liftnet import LiftedResult
    >>> from liftnet.estimator import lift_gap_message
    >>> gap = LiftedResult(status="converged", Phi=0.4, objective=0.2)
    >>> print(lift_gap_message(gap, beta=1.0))
    the fitted network's Phi = 0.4 ... exceeds F = 0.2 ... by 50% of Phi: ... (now 1) ...
    >>> close = LiftedResult(status="converged", Phi=0.21, objective=0.2)
    >>> print(lift_gap_message(close, beta=1.0))
    None
    >>> cut = LiftedResult(status="time_limit", Phi=0.4, objective=0.2)
    >>> print(lift_gap_message(cut, beta=1.0))
    None
    """
    # by key from a mapping (a plain dict has no attributes), else by attribute
    status, Phi, F = (res[k] if isinstance(res, Mapping) else getattr(res, k)
                      for k in ("status", "Phi", "objective"))
    gap = Phi - F  # > 0 where V is above sigma(U), as (M) allows
    if (status != "converged" or not gap > LIFT_GAP_RTOL * abs(Phi)
            or not gap > LIFT_GAP_ATOL * scale):
        return None
    return (
        f"the fitted network's Phi = {Phi:.4g} (docs/maths.md 1) exceeds F = "
        f"{F:.4g} of the lifted point the ALM certified by "
        f"{gap / Phi:.0%} of Phi: (M) lets V carry what the weights do not "
        f"compute; a larger beta (now {beta:g}) ties them together (docs/maths.md 4)"
    )


def constant_network_Phi(prob) -> float:
    """``Phi`` (MODEL.md 3) of the best network with constant output: the scale of the data fit
    (:func:`lift_gap_message`). With biases the output bias fits the targets' mean,
    ``(1/N) ||Y^T - y_mean 1^T||_F^2`` (the scale does not move with an offset of the
    targets: with the zero network's ``(1/N) ||Y||_F^2`` a regression target shifted by 60 hid
    a 98% gap that the same target shifted by 30 showed); without biases, or where the
    targets are constant, the zero network's ``(1/N) ||Y||_F^2`` (1 for one-hot classes
    without biases)."""
    zero = prob.loss(np.zeros_like(prob.YT))
    if not prob.bias:
        return zero
    mean = prob.YT.mean(axis=1, keepdims=True)
    centred = prob.loss(np.broadcast_to(mean, prob.YT.shape))
    return centred if centred > 0 else zero


#: numpy dtype kinds of class labels: bool, integers, objects (strings, pandas categories),
#: unicode and byte strings (``task="auto"``)
_LABEL_KINDS = "biuOUS"
#: the numpy dtype of pandas' nullable labels of each kind (``Int64``, ``UInt64``, ``boolean``)
_NULLABLE_LABEL_DTYPES = {"b": bool, "i": np.int64, "u": np.uint64}


def _exact_labels(y, kind):
    """pandas' nullable integer or boolean labels as numpy integers or booleans, read before
    scikit-learn's ``validate_data`` turns them into float64, which rounds integers beyond
    ``2**53`` (labels ``2**53 + 1`` and ``2**53 + 10`` became other classes; ``2**60 + 1``,
    ``+ 3``, ``+ 5`` one class); ``None`` for other labels, or ones holding NA (which
    ``validate_data`` refuses)."""
    to_numpy = getattr(y, "to_numpy", None)
    if kind not in _NULLABLE_LABEL_DTYPES or to_numpy is None:
        return None
    try:
        return np.asarray(to_numpy(dtype=_NULLABLE_LABEL_DTYPES[kind]))
    except (TypeError, ValueError):
        return None


def _given_kind(y) -> str | None:
    """The dtype kind of ``y`` as the caller gave it, or None where it has none (a list) or
    several (a DataFrame with columns of different kinds). scikit-learn's ``validate_data``
    turns pandas' nullable ``Int64`` and ``boolean`` into float64, which would read as
    regression values."""
    dtypes = getattr(y, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "__array__"):  # a DataFrame: one per column
        kinds = {getattr(dt, "kind", None) for dt in dtypes}
        return kinds.pop() if len(kinds) == 1 else None
    return getattr(getattr(y, "dtype", None), "kind", None)


def _check_one_kind_of_label(y: np.ndarray) -> None:
    """Class labels of one kind (all text, or all numbers): an object array mixing them (``"a"``
    and ``1``) cannot be sorted into ``classes_`` (numpy's bare ``'<' not supported``)."""
    if y.dtype.kind != "O":
        return
    try:
        np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y})
        raise TypeError(
            f"y must hold class labels of one kind (all strings or all numbers), got a mix of "
            f"{', '.join(kinds)}"
        ) from None


class _LiftedNetBase(BaseEstimator):
    """Shared parameters, ``fit``, ``predict``, ``score`` and ``prune``.

    Parameters
    ----------
    hidden : int or tuple of int, default (16,)
        Hidden widths ``n_1..n_{L-1}``.
    alpha : float in (0, 1), default 0.1
        Leaky-ReLU slope.
    beta : float > 0, default 1.0
        Coupling weight in ``F`` (MODEL.md section 4). Small ``beta`` certifies fast but lets
        ``V`` carry what the network does not compute (:class:`LiftGapWarning`); on
        scikit-learn's iris, wine and breast cancer data (``lam`` 1e-2, medians over three
        seeds) ``beta`` 10 closed a lift gap of 32-70% and raised test accuracy from
        0.933/0.926/0.865 to 0.978/0.981/0.959, at 1.7-20 times the time
        (``benchmarks/bench_datasets.py --seeds 0 1 2 --lams 1e-2``; session 40, before the
        weight polish of ``solve_alm`` was on by default).
    lam : float >= 0, default 1e-3
        Weight ``lambda`` of the group regulariser ``R(W)``.
    groups : {"column", "row", "element"}, default "column"
        Groups of ``R`` (MODEL.md section 2).
    coupling : {"complementarity", "squared"}, default "complementarity"
        Coupling ``pi_l``.
    bias : bool, default True
        Whether layers carry unregularised biases ``b_l`` (unlike ``LiftedProblem``, whose
        default is False: a network fitted to data usually wants them).
    tol : float > 0, default 1e-6
        KKT residual at which the ALM stops (MODEL.md section 5).
    max_iter : int >= 1, default 200
        Outer ALM iterations.
    time_limit : float > 0 or None, default None
        Seconds on the solver's clock, wall time less what ``result_.time_excluded`` leaves out
        (reporting-only evaluations, callbacks; the best iterate is kept). The solver's compiled
        kernels are loaded (or compiled) before its clock starts, so the first fit of a process gets
        the same time as later ones. A fit cut by ``time_limit`` is reproducible only up to where
        the clock cuts it: the same data and ``random_state`` follow the same path, but how many
        iterations fit in the time moves with the machine's load, so two such fits can return
        different networks. A fit bounded by ``max_iter`` (``time_limit=None``) is deterministic on
        one machine. As in :func:`~liftnet.solve_alm`, the limit is first looked at once the
        solver's start is set up and certified (passes over all samples), so a shorter limit
        returns the start (``n_iter_`` 0), late by that set-up; ``fit``'s own work around the
        solver (checking and converting the data, building the problem) is off its clock.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the initial weights: an int gives the same network at every fit; a
        RandomState or Generator gives one seed drawn from it per fit (scikit-learn's
        convention); None fresh entropy.
    verbose : bool, default False
        Let the solver print one line per outer iteration.
    warm_start : bool, default False
        Start ``fit`` from the previous fit's network (scikit-learn's convention) instead of
        random weights: its weights and biases (those of ``result_``, whatever ``prune()``
        made since), the hidden units it no longer uses restarted as along
        :func:`liftnet.solve_alm_path` (:func:`liftnet.reseed_dead_units`, seeded by
        ``random_state``); ``V`` is that network's lift on the data of this fit (which may
        differ from the last) and the multipliers are guessed afresh. For a regularisation
        path: ``set_params(lam=...)`` then ``fit`` again, ``lam`` decreasing. The previous fit
        must have the same input width, hidden widths, ``bias`` and task (and classes); a
        first fit starts at random.
    normalize_y : bool, default True
        Regression only: solve (M) for the targets standardised per output,
        ``(y - y_mean_) / y_scale_`` (mean and standard deviation of the training targets,
        :func:`liftnet.datasets.standardize`; without biases no centring, ``y_scale_`` the
        root mean square), so that ``lam`` and ``beta`` weigh the fit the same whatever the
        units of ``y``; the output layer is then mapped back exactly (``W_L`` rows times
        ``y_scale_``, ``b_L`` times ``y_scale_`` plus ``y_mean_``), so ``coefs_``,
        ``intercepts_`` and ``predict`` are in the units of ``y``.
        ``result_`` and ``kkt_`` are those of the standardised problem. Ignored for
        classification (one-hot targets are unit-free already).

    Attributes
    ----------
    coefs_ : list of L arrays
        ``coefs_[l-1]`` is ``W_l``, shape ``(n_l, n_{l-1})``.
    intercepts_ : list of L arrays ``(n_l,)`` or None
        ``b_l`` (``None`` when ``bias=False``).
    result_ : LiftedResult
        The solver's result (``V``, ``M1``, ``M2``, ``status``, ``history``...).
    kkt_ : KKTReport
        KKT residuals of the returned point (``kkt_["residual"]`` is the certificate).
    n_iter_ : int
        Outer ALM iterations.
    hidden_ : tuple of int
        Hidden widths of the fitted network (those of ``hidden``; fewer after ``prune()``).
    active_groups_ : list of L boolean arrays
        ``active_groups_[l-1][g]`` is True when group ``g`` of ``W_l`` is nonzero (shape of
        ``LiftedProblem.penalty.group_norms(W_l)``).
    input_features_ : array of int
        Columns of the ``X`` given to ``fit`` that the network reads (all of them unless pruned).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
    n_params_ : int
        Number of weights and biases.
    y_mean_, y_scale_ : arrays (n_L,) or None
        The standardisation of the regression targets (``normalize_y``); None for
        classification and for ``normalize_y=False``.
    task_ : {"classification", "regression"}
    classes_ : array (n_L,)
        Class labels (classification only).
    """

    _fixed_task: str | None = None

    def __init__(
        self,
        hidden=(16,),
        alpha=0.1,
        beta=1.0,
        lam=1e-3,
        groups="column",
        coupling="complementarity",
        bias=True,
        tol=1e-6,
        max_iter=200,
        time_limit=None,
        random_state=0,
        verbose=False,
        warm_start=False,
        normalize_y=True,
    ):
        self.hidden = hidden
        self.alpha = alpha
        self.beta = beta
        self.lam = lam
        self.groups = groups
        self.coupling = coupling
        self.bias = bias
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.normalize_y = normalize_y

    # ------------------------------------------------------------ validation
    def _validate_params(self) -> dict:
        """Every hyperparameter checked once; errors name the parameter."""
        p = {
            "hidden": check_widths(self.hidden, "hidden"),
            "alpha": check_scalar(
                self.alpha, "alpha", low=0, high=1, low_inclusive=False, high_inclusive=False
            ),
            "beta": check_scalar(self.beta, "beta", low=0, low_inclusive=False),
            "lam": check_scalar(self.lam, "lam", low=0),
            "groups": check_choice(self.groups, "groups", GROUPS),
            "coupling": check_choice(self.coupling, "coupling", COUPLINGS),
        }
        p["bias"] = check_bool(self.bias, "bias")
        p["tol"] = check_scalar(self.tol, "tol", low=0, low_inclusive=False)
        p["max_iter"] = check_scalar(self.max_iter, "max_iter", low=1, integer=True)
        p["time_limit"] = check_scalar(
            self.time_limit, "time_limit", low=0, low_inclusive=False, allow_none=True
        )
        if not isinstance(self.random_state, (np.random.RandomState, np.random.Generator)):
            check_seed(self.random_state, "random_state", allow_none=True)
        if not isinstance(self.verbose, (bool, np.bool_, numbers.Integral)):
            raise TypeError(f"verbose must be a bool, got {self.verbose!r}")
        p["warm_start"] = check_bool(self.warm_start, "warm_start")
        p["normalize_y"] = check_bool(self.normalize_y, "normalize_y")
        p["task"] = check_choice(self._task_param(), "task", TASKS)
        return p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # a fit cut by time_limit ends where the machine's load lets it (time_limit above)
        tags.non_deterministic = self.time_limit is not None
        return tags

    def _seed(self):
        """The solver's seed: ``random_state`` itself, or one drawn from its generator."""
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(2**31 - 1))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(2**31 - 1))
        return rs

    def _resolve_task(self, task: str, y: np.ndarray, kind: str | None = None) -> str:
        """``auto``: classification for integer, bool or string labels in one column (``(N,)``
        or ``(N, 1)``), else regression (float targets are regression values even when they
        happen to be whole numbers). ``kind`` is the dtype kind of ``y`` as given (pandas'
        nullable ``Int64``/``boolean`` reach here as floats); default ``y.dtype.kind``."""
        if task != "auto":
            return task
        one_column = y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)
        kind = y.dtype.kind if kind is None else kind
        return "classification" if one_column and kind in _LABEL_KINDS else "regression"

    # ------------------------------------------------------------------- fit
    def fit(self, X, y):
        """Train the network: solve the lifted model (M) by the inexact ALM.

        Parameters
        ----------
        X : array (N, n_0)
            Converted to float64, as scikit-learn's MLP does: the estimators solve in double
            precision whatever ``X``'s dtype (a float32 solve, half the memory, is
            ``LiftedProblem(..., dtype=np.float32)`` with :func:`liftnet.solve_alm`). Taken
            as given otherwise: standardise its columns first (scikit-learn's
            ``make_pipeline(StandardScaler(), ...)``), as the group norms of ``W_1``'s columns
            weigh every input alike only then. On scikit-learn's breast-cancer data as
            stored (standard deviations from 2.6e-3 to 569) a fit (``lam`` 1e-2, 20 s)
            stopped at KKT residual 8.0e-2; standardised, it converged in 0.26 s.
        y : array (N,) of labels (classification) or (N,) / (N, n_L) of values (regression)
            Labels in one column ``(N, 1)`` are taken as ``(N,)``, with scikit-learn's
            ``DataConversionWarning``.

        Returns
        -------
        self

        Notes
        -----
        A ``fit`` that raises leaves the estimator as it was (a refit with bad data or
        parameters does not break the previous fit). A Ctrl-C during the solve ends the solve,
        not the fit: the estimator keeps the best iterate, with status ``interrupted`` in
        ``result_`` and a ``ConvergenceWarning`` (as ``solve_alm`` returns it: nothing is
        lost); a Ctrl-C before the solve raises ``KeyboardInterrupt``, one after it (while the
        attributes are set) is ignored.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y)
        except BaseException:
            # the attributes fit sets before it can still fail (classes_, task_, the
            # parameters the network is read with, n_features_in_): the old fit, whole
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y):
        from .solvers import alm

        p = self._validate_params()
        # the previous fit, read before this one overwrites classes_ and task_
        previous = (getattr(self, "result_", None), getattr(self, "task_", None),
                    getattr(self, "classes_", None))
        kind = _given_kind(y)  # before validate_data, which turns Int64/boolean into floats
        exact = _exact_labels(y, kind)  # (and rounds integers beyond 2**53 on the way)
        for arr, nm in ((X, "X"), (y, "y")):  # validate_data drops a mask, keeps what it hid
            refuse_masked(arr, nm)
            # validate_data reads dates as days (or seconds) since 1970, and fails inside
            # numpy on a frame with a date column
            _refuse_dates(arr, nm)
        # validate_data lets a sparse y through (multi_output=True), and the float cast of a
        # regression target then failed as "y must be numeric"; score names it (as here)
        _refuse_sparse(y, "y")
        _refuse_text(X, "X")  # validate_data would parse "1.5" as a number
        if isinstance(y, (list, tuple)):
            # validate_data turns a list mixing "a" and 1 into text ('1', 'a'): the mix is
            # refused as it is in an object array
            try:
                labels = np.asarray(y, dtype=object)
            except ValueError:  # (ragged: validate_data says so)
                labels = None
            # (also in one column, (N, 1), which fit takes as (N,))
            if labels is not None and (labels.ndim == 1 or labels.ndim == 2
                                       and labels.shape[1] == 1):
                _check_one_kind_of_label(labels.ravel())
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=False,
            ensure_min_samples=1,
        )  # fmt: skip
        task = self._resolve_task(p["task"], y, kind)
        if task == "classification":
            if y.ndim == 2 and y.shape[1] != 1:
                raise ValueError(f"y must be 1-D class labels for classification, got {y.shape}")
            y = column_or_1d(y, warn=True)
            if kind in _NULLABLE_LABEL_DTYPES and y.dtype.kind == "f":  # pandas' nullable
                y = (column_or_1d(exact) if exact is not None
                     else y.astype(_NULLABLE_LABEL_DTYPES[kind]))
            _check_one_kind_of_label(y)
            check_classification_targets(y)
            Y, self.classes_ = one_hot(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    "y must hold at least 2 classes for classification, got 1 class: "
                    f"{self.classes_!r}"
                )
        else:
            _refuse_text(y, "y")  # regression values are numbers, not text to parse
            try:
                Y = np.asarray(y, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError("y must be numeric for regression") from None
            if not np.all(np.isfinite(Y)):
                raise ValueError("y must be finite, found NaN or inf entries")
            if hasattr(self, "classes_"):
                del self.classes_
        y_mean = y_scale = None
        if task == "regression" and p["normalize_y"]:
            (Ys,), y_mean, y_scale = standardize(Y.reshape(len(Y), -1), center=p["bias"],
                                                 return_stats=True)  # fmt: skip
            Y = Ys.reshape(Y.shape)
        self.task_ = task
        self._y_ndim = y.ndim
        self._fit_params = p  # the validated values the network was trained with
        prob = LiftedProblem(
            X, Y, hidden=p["hidden"], alpha=p["alpha"], beta=p["beta"], lam=p["lam"],
            groups=p["groups"], coupling=p["coupling"], bias=p["bias"],
        )  # fmt: skip
        seed = self._seed()
        init = None
        if p["warm_start"] and previous[0] is not None:
            init = self._warm_start_point(prob, seed, *previous)
        res = alm.solve_alm(
            prob, tol=p["tol"], seed=seed, time_limit=p["time_limit"],
            verbose=bool(self.verbose), max_iter=p["max_iter"], init=init,
        )  # fmt: skip
        # the solve is done: a Ctrl-C from here on is ignored, as the CLI ignores one while it
        # writes a finished result (it raised KeyboardInterrupt, and fit put the previous
        # state back, the finished fit lost; audit of session 43)
        with sigint_ignored():
            return self._finish_fit(res, p, prob, X, y_mean, y_scale)

    def _finish_fit(self, res, p, prob, X, y_mean, y_scale):
        """The attributes of a fit from the result ``res`` of its solve."""
        if res.status != "converged":
            warnings.warn(
                f"solve_alm stopped with status {res.status!r} ({res.message}); KKT residual "
                f"{res.kkt['residual']:.2e} > tol={p['tol']:g}",
                ConvergenceWarning,
                stacklevel=3,
            )
        gap_message = lift_gap_message(res, p["beta"], constant_network_Phi(prob))
        if gap_message is not None:
            warnings.warn(gap_message, LiftGapWarning, stacklevel=3)
        self.result_ = res
        self.kkt_ = res.kkt
        self.n_iter_ = int(res.nit)
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        W = [np.array(Wl) for Wl in res.W]
        b = None if res.b is None else [np.array(bl) for bl in res.b]
        if y_scale is not None:  # the output layer in the units of y (exact: it is linear)
            with np.errstate(over="ignore", invalid="ignore"):
                W[-1] *= y_scale[:, None]
                if b is not None:
                    b[-1] = y_scale * b[-1] + y_mean
            if not (np.all(np.isfinite(W[-1])) and (b is None or np.all(np.isfinite(b[-1])))):
                # (targets near 1.7e308 gave infinite coefs_, and predict then refused "W[1]")
                raise ValueError(
                    f"y is too large: the output layer in the units of y overflows float64 "
                    f"(y_scale_ = {float(np.max(y_scale)):.3g}); rescale y (e.g. divide it by "
                    f"a power of ten) and the predictions by the same factor")
        self._set_network(W, b, np.arange(X.shape[1]))
        return self

    def _warm_start_point(self, prob, seed, result, task, classes):
        """The start of a ``warm_start`` fit: the previous fit's network ``result`` (of
        ``task``, with ``classes``) on ``prob``, its dead units reseeded; refused by name when
        that network does not fit this problem."""
        from .solvers.init import reseed_dead_units

        why = None
        if task != self.task_:
            why = f"the previous fit was {task}, this one is {self.task_}"
        elif task == "classification" and not np.array_equal(classes, self.classes_):
            why = f"the classes differ: {classes!r} before, {self.classes_!r} now"
        elif (result.b is not None) != prob.bias:
            why = f"bias was {result.b is not None}, is {prob.bias} now"
        elif [w.shape for w in result.W] != prob.W_shapes:
            why = (f"the network's weight shapes were {[w.shape for w in result.W]}, this "
                   f"fit's are {prob.W_shapes} (input width, hidden widths, outputs)")
        if why is not None:
            raise ValueError(f"warm_start=True starts from the previous fit, which does not "
                             f"fit this one: {why}; set warm_start=False to start afresh")
        start = reseed_dead_units(prob, {"W": result.W, "b": result.b}, seed)
        start.pop("reseeded")
        return start

    def _set_network(self, W, b, input_features):
        """Store the weights and everything derived from them."""
        self.coefs_ = W
        self.intercepts_ = b
        self.input_features_ = np.asarray(input_features, dtype=np.intp)
        self.hidden_ = tuple(Wl.shape[0] for Wl in W[:-1])
        net = self._network()
        self.active_groups_ = [net.penalty.group_norms(Wl) > 0 for Wl in W]
        self.n_params_ = sum(Wl.size for Wl in W) + (0 if b is None else sum(x.size for x in b))

    def _network(self) -> LiftedProblem:
        """A :class:`LiftedProblem` with the fitted widths and one zero sample, used for its
        network formulas (``predict``, ``penalty``); the training data is not kept."""
        n0, nL = self.coefs_[0].shape[1], self.coefs_[-1].shape[0]
        p = self._fit_params
        return LiftedProblem(
            np.zeros((1, n0)), np.zeros((1, nL)), hidden=self.hidden_, alpha=p["alpha"],
            lam=p["lam"], groups=p["groups"], bias=self.intercepts_ is not None,
        )  # fmt: skip

    # --------------------------------------------------------------- predict
    def output(self, X) -> np.ndarray:
        """Network outputs ``f(x)``: array ``(M, n_L)`` (class scores or regression values)."""
        check_is_fitted(self, "coefs_")
        refuse_masked(X, "X")
        _refuse_dates(X, "X")
        _refuse_text(X, "X")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xk = np.ascontiguousarray(X[:, self.input_features_])
        return self._network().predict(self.coefs_, self.intercepts_, Xk)

    def _task_param(self) -> str:
        return getattr(self, "task", self._fixed_task)

    def _can_decide(self) -> bool:
        """``decision_function`` exists for a network fitted as a classifier, and before
        ``fit`` unless the task is regression (``task="auto"`` decides in ``fit``)."""
        fitted = getattr(self, "task_", None)
        if fitted is not None:
            return fitted == "classification"
        return self._task_param() != "regression"

    @available_if(_can_decide)
    def decision_function(self, X) -> np.ndarray:
        """Class scores (classification): ``f(x)``, shape ``(M, n_L)``; with two classes the
        margin ``f(x)_1 - f(x)_0``, shape ``(M,)`` (positive means ``classes_[1]``)."""
        F = self.output(X)
        return F[:, 1] - F[:, 0] if F.shape[1] == 2 else F

    def predict(self, X) -> np.ndarray:
        """Class labels ``classes_[argmax_c f(x)_c]`` or regression values.

        Returns
        -------
        array (M,) or (M, n_L)
            ``(M,)`` for classification and for regression fitted on 1-D ``y``.
        """
        out = self.output(X)
        if self.task_ == "classification":
            return self.classes_[np.argmax(out, axis=1)]
        return out[:, 0] if self._y_ndim == 1 else out

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classification) or coefficient of determination ``R^2`` (regression).

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        y : array-like (n_samples,) or (n_samples, n_outputs)
            True labels (classification) or targets (regression).
        sample_weight : array-like (n_samples,), optional
            Passed to scikit-learn's ``accuracy_score`` / ``r2_score``.

        Returns
        -------
        float
        """
        pred = self.predict(X)
        self._check_score_target(y, len(pred))
        if self.task_ == "classification":
            return float(accuracy_score(y, pred, sample_weight=sample_weight))
        # numbers, named y (scikit-learn's message about text named neither)
        return float(r2_score(check_finite_array(y, "y"), pred, sample_weight=sample_weight))

    def _check_score_target(self, y, n_samples: int) -> None:
        """``y`` of ``score``: no masked entries or dates (as in ``fit``), one row per sample
        of ``X`` (``n_samples``), for classification one column of labels (as ``fit``) and,
        for regression, as many outputs as the network has
        (scikit-learn's metrics named neither: "inconsistent numbers of samples: [30, 10]",
        "y_true and y_pred have different number of output")."""
        refuse_masked(y, "y")
        _refuse_dates(y, "y")
        try:
            shape = np.shape(y)
        except (TypeError, ValueError):  # ragged nesting
            raise TypeError(f"y must be an array of {n_samples} targets, got a ragged "
                            f"{type(y).__name__}") from None
        if len(shape) not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D (one row per sample of X), got shape "
                             f"{shape}")
        if shape[0] != n_samples:
            raise ValueError(f"y must have one row per sample of X: X has {n_samples} samples, "
                             f"y has {shape[0]}")
        n_outputs, got = self.coefs_[-1].shape[0], 1 if len(shape) == 1 else shape[1]
        if self.task_ == "classification" and got != 1:  # as fit refuses it
            raise ValueError(f"y must be class labels in one column for classification, got "
                             f"shape {shape}")
        if self.task_ == "regression" and got != n_outputs:
            raise ValueError(f"y must have {n_outputs} output column(s), as many as the "
                             f"network predicts, got {got} (shape {shape})")

    # ----------------------------------------------------------------- prune
    def prune(self):
        """A new fitted estimator without the units the network does not use.

        Deletes hidden neurons whose outgoing column is zero or whose incoming row and bias are
        zero, and input features whose column of ``W_1`` is zero; a neuron whose incoming row
        is zero but whose bias is not outputs a constant, which is folded into the next
        layer's bias (see :func:`liftnet.pruning.prune_weights`). Predictions are identical
        (up to rounding); ``predict`` still takes the original ``X``.
        ``result_``, ``kkt_`` and ``n_iter_`` are those of the training run.

        Returns
        -------
        estimator of the same class, with ``hidden_``, ``coefs_``, ``input_features_`` and
        ``n_params_`` of the smaller network.
        """
        check_is_fitted(self, "coefs_")
        # the slope the network was fitted with (set_params after fit does not change it)
        W, b, keep = prune_weights(self.coefs_, self.intercepts_,
                                   alpha=self._fit_params["alpha"])
        new = copy.copy(self)  # shares result_ (read-only); the arrays below are new
        new._set_network(W, b, self.input_features_[keep[0]])
        return new


class SparseLeakyReLUNet(_LiftedNetBase):
    """Sparse leaky-ReLU network trained to a KKT point of the lifted model (MODEL.md 4-6).

    Parameters
    ----------
<<shared parameters>>
    task : {"auto", "classification", "regression"}, default "auto"
        ``auto``: classification when ``y`` is one column (``(N,)`` or ``(N, 1)``) of integer,
        bool or string labels (pandas' nullable ``Int64`` and ``boolean`` included),
        regression when it holds floats (pass ``task="classification"`` for float labels).

<<attributes>>

    Notes
    -----
    **Cross-validation and grid search need the task fixed.** scikit-learn reads an
    estimator's type before fitting it: ``cross_val_score``, ``GridSearchCV`` and
    ``cross_validate`` with an integer ``cv`` stratify the folds of a classifier only. With
    ``task="auto"`` the type is known only after ``fit`` (it depends on ``y``), so this
    estimator declares none, and its folds are plain ``KFold``: on labels sorted by class
    (scikit-learn's iris, for one) with ``cv=3`` every fold then tests a class it never
    trained on, and scores 0 (the default 5 folds skew the classes of each training fold).
    For model selection use :class:`SparseLeakyReLUClassifier` or
    :class:`SparseLeakyReLURegressor` (or ``task="classification"`` / ``"regression"``, which
    declare the type), or pass a ``StratifiedKFold`` as ``cv``.

    Examples
    --------
    Classes of scikit-learn's iris (standardised inputs): integer labels, so ``task="auto"``
    picks classification.

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from liftnet import SparseLeakyReLUNet
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> net = SparseLeakyReLUNet(hidden=(4,), lam=1e-2, beta=5.0).fit(X, y)
    >>> net.task_, net.result_.status, bool(net.kkt_["residual"] <= net.tol)
    ('classification', 'converged', True)
    >>> net.predict(X[:2]), net.score(X, y) > 0.9
    (array([0, 0]), True)

    ``active_groups_`` marks the nonzero column groups of each ``W_l`` (inputs of ``W_1``,
    hidden units of ``W_2``); ``prune()`` drops the unused ones and predicts the same:

    >>> [a.shape for a in net.active_groups_]
    [(4,), (4,)]
    >>> small = net.prune()
    >>> bool((small.predict(X) == net.predict(X)).all()), small.n_params_ <= net.n_params_
    (True, True)
    """

    def __init__(
        self,
        hidden=(16,),
        alpha=0.1,
        beta=1.0,
        lam=1e-3,
        groups="column",
        coupling="complementarity",
        bias=True,
        tol=1e-6,
        max_iter=200,
        time_limit=None,
        random_state=0,
        verbose=False,
        warm_start=False,
        normalize_y=True,
        task="auto",
    ):
        super().__init__(
            hidden=hidden, alpha=alpha, beta=beta, lam=lam, groups=groups, coupling=coupling,
            bias=bias, tol=tol, max_iter=max_iter, time_limit=time_limit,
            random_state=random_state, verbose=verbose, warm_start=warm_start,
            normalize_y=normalize_y,
        )  # fmt: skip
        self.task = task

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        elif self.task == "regression":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.multi_output = True
        return tags


class SparseLeakyReLUClassifier(ClassifierMixin, _LiftedNetBase):
    """:class:`SparseLeakyReLUNet` with ``task="classification"`` (one-hot targets, argmax).

    Parameters
    ----------
<<shared parameters>>

<<attributes>>

    Examples
    --------
    The classifier declares its type to scikit-learn before ``fit``, so ``cross_val_score``
    stratifies the folds of iris (whose rows are sorted by class). ``beta = 20`` ties ``V`` to
    the network in every fold (at ``beta = 5`` a fold of seeds 0 and 3 warns of a lift gap,
    :class:`LiftGapWarning`; docs/maths.md 4):

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from liftnet.estimator import SparseLeakyReLUClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     SparseLeakyReLUClassifier(hidden=(4,), lam=1e-2, beta=20.0))
    >>> scores = cross_val_score(clf, X, y, cv=3)
    >>> scores.shape, bool(scores.min() > 0.8)
    ((3,), True)
    """

    _fixed_task = "classification"

    def score(self, X, y, sample_weight=None) -> float:
        return _LiftedNetBase.score(self, X, y, sample_weight)


class SparseLeakyReLURegressor(RegressorMixin, _LiftedNetBase):
    """:class:`SparseLeakyReLUNet` with ``task="regression"``.

    Parameters
    ----------
<<shared parameters>>

<<attributes>>

    Examples
    --------
    A 1-output teacher network's noisy samples; the fit solves (M) for the standardised
    targets (``y_mean_``, ``y_scale_``) and predicts in the units of ``y``:

    >>> import numpy as np
    >>> from liftnet.datasets import make_teacher
    >>> from liftnet.estimator import SparseLeakyReLURegressor
    >>> X, Y, _, _ = make_teacher(100, (4, 6, 1), noise=0.1, seed=0)
    >>> y = 3.0 * Y[:, 0] + 10.0
    >>> reg = SparseLeakyReLURegressor(hidden=(4,), lam=1e-2, beta=5.0).fit(X, y)
    >>> reg.result_.status, reg.predict(X).shape, reg.score(X, y) > 0.8
    ('converged', (100,), True)
    >>> small = reg.prune()
    >>> bool(np.allclose(small.predict(X), reg.predict(X)))
    True
    """

    _fixed_task = "regression"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def score(self, X, y, sample_weight=None) -> float:
        return _LiftedNetBase.score(self, X, y, sample_weight)


def _fill_docstrings(*classes) -> None:
    """Write the shared parameters and attributes of :class:`_LiftedNetBase`'s docstring into
    the public estimators' (one text for all three, shown by ``help()``)."""
    doc = _LiftedNetBase.__doc__
    if doc is None:  # (python -OO strips docstrings)
        return
    params = doc[doc.index("----------\n", doc.index("    Parameters")) + 11:
                 doc.index("\n\n    Attributes")]
    attributes = doc[doc.index("    Attributes"):].rstrip()
    for cls in classes:
        cls.__doc__ = (cls.__doc__.replace("<<shared parameters>>", params)
                       .replace("<<attributes>>", attributes))


_fill_docstrings(SparseLeakyReLUNet, SparseLeakyReLUClassifier, SparseLeakyReLURegressor)

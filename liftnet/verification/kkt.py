"""KKT residuals of the lifted model (M), MODEL.md section 5.

:func:`kkt_residuals` is the project's one checker: the ALM's certificate, the IPOPT
cross-check and the notebooks all call it. Without multipliers it first estimates the best
ones, :func:`estimate_multipliers`, by a convex problem over ``M >= 0``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_matrix_list, check_point, check_scalar
from .multipliers import (  # noqa: F401  (estimate_multipliers, initial_multipliers: re-exported)
    estimate_multipliers,
    estimate_with_report,
    initial_multipliers,
)

ESTIMATE_PATIENCE = 5


def primal_violation(g1, g2) -> float:
    """The primal feasibility part of MODEL.md 5, ``max(0, g1, g2)`` over every layer (NaN
    counts as ``inf``)."""
    return _worst([np.max(g, initial=0.0) for g in (*g1, *g2)])


def _worst(values) -> float:
    """The largest of ``values`` (0.0 for none); NaN counts as ``inf``: a part where an
    overflow met a zero (``inf * 0`` in ``M * g``) is as bad as it gets, and ``residual <= tol``
    must never hold by accident (Python's ``max`` skips a NaN that is not first)."""
    out = 0.0
    for v in values:
        v = float(v)
        if np.isnan(v):
            return np.inf
        out = max(out, v)
    return out


class KKTReport(dict):
    """KKT residuals (infinity norms) of a point of (M): a dict with attribute access.

    Keys: ``stationarity``, ``primal_feasibility``, ``dual_feasibility``, ``complementarity``,
    ``residual`` (the largest of the four); ``stationarity_W``, ``stationarity_b``,
    ``stationarity_V`` (the parts of the first); ``objective`` (``F`` at the point);
    ``multipliers`` (``"given"`` or ``"estimated"``); ``estimate`` (how the estimate ended:
    ``method``, ``status``, ``iterations``, ``refined``, ``kept_start``, ``seconds``; None with
    given multipliers); ``M1``, ``M2`` (the multipliers used); ``zero_threshold``.
    """

    PARTS = ("stationarity", "primal_feasibility", "dual_feasibility", "complementarity")

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def summary(self) -> dict:
        """The numbers only (JSON-friendly)."""
        return {k: v for k, v in self.items() if k not in ("M1", "M2")}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={self[k]:.3e}" for k in (*self.PARTS, "residual"))
        return f"KKTReport({parts}, multipliers={self['multipliers']!r})"


def stationarity_parts(prob, W, gW, gb, gV) -> tuple[float, float, float]:
    """Infinity norms of the stationarity residual: per W group (subdifferential distance of
    ``lam R``), per ``b`` entry and per ``V`` entry."""
    sW = _worst([np.max(prob.penalty.subdiff_distance(Wl, Ql)) for Wl, Ql in zip(W, gW)])
    sb = _worst([np.max(np.abs(x)) for x in gb]) if gb is not None else 0.0
    sV = _worst([np.max(np.abs(x)) for x in gV])
    return sW, sb, sV


def kkt_residuals(prob, W, b=None, V=None, M1=None, M2=None, *, zero_threshold: float = 0.0,
                  time_limit: float | None = None, verbose: bool = False):
    """KKT residuals of ``(W, b, V)`` with multipliers ``(M1, M2)``, MODEL.md section 5.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
        Required when ``prob.bias``.
    V : list of L-1 arrays ``(n_l, N)`` or None
        Auxiliary variables; ``None`` means the exact lift ``sigma(U_l)``.
    M1, M2 : lists of L-1 arrays ``(n_l, N)`` or None
        Multipliers of ``g1 <= 0`` and ``g2 <= 0``, both or neither (one alone is a
        ``ValueError``: it would be discarded). When they are ``None`` the best ones are
        estimated first (:func:`estimate_multipliers`, stopped when the residual they give has
        not improved by 1% in ``ESTIMATE_PATIENCE`` iterations) and the report says so.
    zero_threshold : float
        Weight groups with ``||W_l[g]|| <= zero_threshold`` are set to exact zero before
        checking (for points of solvers that do not produce exact zeros, e.g. IPOPT).
    time_limit : float or None
        Seconds for the multiplier estimate's iterations (when it runs); on expiry its best
        multipliers so far are used, which can only overstate the residual (as on Ctrl-C: the
        report's ``estimate["status"]`` says which). Its set-up and the final reports are not
        cut (the least-squares operator takes 8-10 ms on a 3-40-40-3 network with N = 600, but
        at 784-256-128-10, N = 4000, float32, the set-up and the report took long enough that
        ``time_limit=0.05`` ended 0.17-0.21 s late, median of four random starts); when the
        set-up alone uses up the limit, the start's multipliers are used at once (no
        iteration, one report; before, 0.47-0.60 s late there).
    verbose : bool
        Print the estimate's progress, one line per iteration.

    Returns
    -------
    KKTReport
        ``stationarity``: largest per-group distance ``dist(0, grad_{W_l[g]} + lam d||W_l[g]||)``
        and largest entry of ``grad_b``, ``grad_V`` of ``f + <M, g>``;
        ``primal_feasibility = max(0, g1, g2)``; ``dual_feasibility = max(0, -M)``;
        ``complementarity = max(|M1 * g1|, |M2 * g2|)``; ``residual``: the largest of the four.

    Examples
    --------
    At a point the ALM certified, with its multipliers, the report reproduces the certificate:

    >>> from liftnet import LiftedProblem, solve_alm, kkt_residuals
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(100, (4, 6, 2), noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(6,), beta=5.0, lam=1e-2)
    >>> res = solve_alm(prob, tol=1e-6, seed=0)
    >>> res.status
    'converged'
    >>> rep = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    >>> rep.multipliers, bool(rep.residual <= 1e-6)
    ('given', True)
    >>> list(rep.PARTS)  # residual = the largest of these
    ['stationarity', 'primal_feasibility', 'dual_feasibility', 'complementarity']

    Without multipliers the best ones are estimated first, and the report says so:

    >>> est = kkt_residuals(prob, res.W, res.b, res.V)
    >>> est.multipliers, bool(est.residual <= 1e-5)
    ('estimated', True)
    >>> sorted(est.estimate)
    ['iterations', 'kept_start', 'method', 'refined', 'seconds', 'status']

    Away from the KKT point the residual is clearly larger (here ``U_1`` moves off ``V_1``
    and the constraints are violated):

    >>> W = [Wl + 0.01 for Wl in res.W]
    >>> bad = kkt_residuals(prob, W, res.b, res.V, res.M1, res.M2)
    >>> bool(bad.residual > 100 * rep.residual), bool(bad.primal_feasibility > 0)
    (True, True)
    """
    W, b, V = check_point(prob, W, b, V, lift=False)
    if (M1 is None) != (M2 is None):
        given = "M1" if M2 is None else "M2"
        raise ValueError(f"M1 and M2 must be given together (or neither, to estimate both), "
                         f"got {given} only")
    dt = prob.dtype
    zero_threshold = check_scalar(zero_threshold, "zero_threshold", low=0)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    verbose = check_bool(verbose, "verbose")
    if zero_threshold > 0:
        pen = prob.penalty
        W = [pen.keep_groups(Wl.astype(np.result_type(Wl, dt)),
                             ~pen.zero_groups(Wl, zero_threshold)) for Wl in W]
    if V is None:  # the lift of the (possibly thresholded) weights, refused naming W
        from ..solvers.init import finite_lift  # (liftnet.solvers imports this module)

        V = finite_lift(prob, W, b, "W")

    estimate = None
    if M1 is None:
        M1, M2, estimate, report = estimate_with_report(
            prob, W, b, V, patience=ESTIMATE_PATIENCE, time_limit=time_limit, verbose=verbose)
        if report is not None:  # the estimate's report of its multipliers, at this (W, b, V)
            report.update(multipliers="estimated", estimate=estimate,
                          zero_threshold=float(zero_threshold))
            return report
        how = "estimated"
    else:
        M1 = check_matrix_list(M1, "M1", prob.V_shapes, dt)
        M2 = check_matrix_list(M2, "M2", prob.V_shapes, dt)
        how = "given"

    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    D, E = prob.lagrangian_fields(dU, dV, M1, M2)
    gW, gb, gV = prob.backprop(W, V, D, E)
    sW, sb, sV = stationarity_parts(prob, W, gW, gb, gV)
    primal = primal_violation(g1, g2)
    dual = _worst([np.max(np.maximum(-m, 0.0)) for m in (*M1, *M2)])
    comp = _worst([np.max(np.abs(m * g)) for m, g in zip((*M1, *M2), (*g1, *g2))])
    stat = max(sW, sb, sV)
    return KKTReport(
        objective=prob.smooth_value(U[-1], g1, g2) + prob.regulariser(W),
        stationarity=stat,
        primal_feasibility=primal,
        dual_feasibility=dual,
        complementarity=comp,
        residual=max(stat, primal, dual, comp),
        stationarity_W=sW,
        stationarity_b=sb,
        stationarity_V=sV,
        multipliers=how,
        estimate=estimate,
        M1=M1,
        M2=M2,
        zero_threshold=float(zero_threshold),
    )

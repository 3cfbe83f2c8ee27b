"""KKT residuals of the lifted model (M), MODEL.md section 5.

:func:`kkt_residuals` is the project's one checker: the ALM's certificate, the IPOPT
cross-check and the notebooks all call it. Without multipliers it first estimates the best
ones, :func:`estimate_multipliers`, by a convex problem over ``M >= 0``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from .._validation import check_matrix_list, check_point, check_scalar
from ..solvers.proxgrad import prox_gradient_bb


class KKTReport(dict):
    """KKT residuals (infinity norms) of a point of (M): a dict with attribute access.

    Keys: ``stationarity``, ``primal_feasibility``, ``dual_feasibility``, ``complementarity``,
    ``residual`` (the largest of the four); ``stationarity_W``, ``stationarity_b``,
    ``stationarity_V`` (the parts of the first); ``objective`` (``F`` at the point);
    ``multipliers`` (``"given"`` or
    ``"estimated"``); ``M1``, ``M2`` (the multipliers used); ``zero_threshold``.
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
    sW = max(float(np.max(prob.penalty.subdiff_distance(Wl, Ql))) for Wl, Ql in zip(W, gW))
    sb = max((float(np.max(np.abs(x))) for x in gb), default=0.0) if gb is not None else 0.0
    sV = max((float(np.max(np.abs(x))) for x in gV), default=0.0)
    return sW, sb, sV


def kkt_residuals(prob, W, b=None, V=None, M1=None, M2=None, *, zero_threshold: float = 0.0,
                  time_limit: float | None = None):
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
        Multipliers of ``g1 <= 0`` and ``g2 <= 0``. When either is ``None`` the best ones are
        estimated first (:func:`estimate_multipliers`) and the report says so.
    zero_threshold : float
        Weight groups with ``||W_l[g]|| <= zero_threshold`` are set to exact zero before
        checking (for points of solvers that do not produce exact zeros, e.g. IPOPT).
    time_limit : float or None
        Seconds for the multiplier estimate (when it runs); on expiry its best multipliers so
        far are used, which can only overstate the residual.

    Returns
    -------
    KKTReport
        ``stationarity``: largest per-group distance ``dist(0, grad_{W_l[g]} + lam d||W_l[g]||)``
        and largest entry of ``grad_b``, ``grad_V`` of ``f + <M, g>``;
        ``primal_feasibility = max(0, g1, g2)``; ``dual_feasibility = max(0, -M)``;
        ``complementarity = max(|M1 * g1|, |M2 * g2|)``; ``residual``: the largest of the four.
    """
    W, b, V = check_point(prob, W, b, V, lift=False)
    dt = prob.dtype
    zero_threshold = check_scalar(zero_threshold, "zero_threshold", low=0)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    if zero_threshold > 0:
        pen = prob.penalty
        W = [pen.keep_groups(Wl.astype(np.result_type(Wl, dt)),
                             ~pen.zero_groups(Wl, zero_threshold)) for Wl in W]
    if V is None:  # the lift of the (possibly thresholded) weights
        V = prob.lift(W, b)

    if M1 is None or M2 is None:
        M1, M2 = estimate_multipliers(prob, W, b, V, time_limit=time_limit)
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
    primal = max((float(np.max(np.maximum(g, 0.0))) for g in (*g1, *g2)), default=0.0)
    dual = max((float(np.max(np.maximum(-m, 0.0))) for m in (*M1, *M2)), default=0.0)
    comp = max(
        (float(np.max(np.abs(m * g))) for m, g in zip((*M1, *M2), (*g1, *g2))), default=0.0
    )
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
        M1=M1,
        M2=M2,
        zero_threshold=float(zero_threshold),
    )


def _backward_guess(prob, W, V, dU, dV, g1, g2):
    """Multipliers that zero the ``V`` stationarity exactly, layer by layer from the top.

    ``grad_{V_l} = dV_l - (M1_l + M2_l) + W_{l+1}^T D_{l+1} = 0`` fixes ``S_l = M1_l + M2_l``
    once ``D_{l+1}`` is known (``D_L = dU_L``); ``S_l`` goes to the constraint closer to
    activity (``g1`` where ``U >= 0``, ``g2`` where ``U < 0``), clipped at zero.
    """
    Lh = prob.L - 1
    M1 = [None] * Lh
    M2 = [None] * Lh
    Dnext = dU[-1]
    for l in range(Lh - 1, -1, -1):
        S = np.maximum(dV[l] + W[l + 1].T @ Dnext, 0.0)
        first = g1[l] >= g2[l]  # U >= 0: g1 = U - V is the larger (closer to active) one
        M1[l] = np.where(first, S, 0.0)
        M2[l] = np.where(first, 0.0, S)
        Dnext = dU[l] + M1[l] + prob.alpha * M2[l]
    return M1, M2


def initial_multipliers(prob, W, b, V):
    """Cheap multipliers for a start point: :func:`_backward_guess` (one backward pass)."""
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    return _backward_guess(prob, W, V, dU, dV, g1, g2)


def estimate_multipliers(
    prob, W, b, V, *, max_iter: int = 5000, tol: float = 1e-14, lbfgsb_max_size: int = 200_000,
    time_limit: float | None = None,
):
    """Best multipliers of a fixed point ``z = (W, b, V)``: MODEL.md section 7.

    Solves the convex problem over ``M1, M2 >= 0``

        min  1/2 ( sum_g dist(0, grad_{W[g]} + lam d||W[g]||)^2 + ||grad_b||^2 + ||grad_V||^2
                   + ||M1 * g1||^2 + ||M2 * g2||^2 )

    (every term is a convex function of an affine map of ``M``), started from
    :func:`_backward_guess`: by L-BFGS-B with the bounds ``M >= 0`` up to ``lbfgsb_max_size``
    unknowns, beyond that by memory-light projected gradient with Barzilai-Borwein steps.
    Variables are scaled by ``N`` (multipliers of the ``1/N``-scaled objective are ``O(1/N)``).
    ``time_limit`` (seconds) stops either solver with its last iterate.

    Returns
    -------
    M1, M2 : lists of L-1 arrays ``(n_l, N)``, nonnegative
    """
    deadline = None if time_limit is None else time.monotonic() + time_limit
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    M1, M2 = _backward_guess(prob, W, V, dU, dV, g1, g2)
    Lh = prob.L - 1
    if Lh == 0:
        return M1, M2
    N = prob.N
    shapes = prob.V_shapes
    sizes = [int(np.prod(s)) for s in shapes]
    offs = np.cumsum([0] + sizes + sizes)
    blocks = [slice(int(offs[i]), int(offs[i + 1])) for i in range(2 * Lh)]
    pen = prob.penalty
    a = prob.alpha

    def split(m):
        ms = [m[blk].reshape(shapes[i % Lh]) / N for i, blk in enumerate(blocks)]
        return ms[:Lh], ms[Lh:]

    def value(m):
        A1, A2 = split(m)
        D, E = prob.lagrangian_fields(dU, dV, A1, A2)
        gW, gb, gV = prob.backprop(W, V, D, E)
        RW = [pen.subdiff_residual(Wl, Ql) for Wl, Ql in zip(W, gW)]
        C1 = [x * g for x, g in zip(A1, g1)]
        C2 = [x * g for x, g in zip(A2, g2)]
        val = sum(np.vdot(x, x) for x in (*RW, *gV, *C1, *C2))
        if gb is not None:
            val += sum(np.vdot(x, x) for x in gb)
        return 0.5 * N * N * float(val), (A1, A2, RW, gb, gV, C1, C2)

    def gradient(m, cache):
        A1, A2, RW, gb, gV, C1, C2 = cache
        out = np.empty_like(m)
        for l in range(Lh):
            Vprev = prob.V0 if l == 0 else V[l - 1]
            # d/dD_l of 1/2||RW_l||^2 (RW is the gradient of 1/2 dist^2 in gW_l = D_l V_{l-1}^T)
            A = RW[l] @ Vprev
            if gb is not None:
                A = A + gb[l][:, None]
            if l > 0:
                A = A + W[l] @ gV[l - 1]
            out[blocks[l]] = (N * (A - gV[l] + C1[l] * g1[l])).ravel()
            out[blocks[Lh + l]] = (N * (a * A - gV[l] + C2[l] * g2[l])).ravel()
        return out

    def project(y, steps):
        np.maximum(y, 0.0, out=y)

    def residual(m, grad, cache):
        # projected-gradient norm: zero exactly at the minimiser over M >= 0
        pg = np.where(m > 0, grad, np.minimum(grad, 0.0))
        return float(np.max(np.abs(pg))) if pg.size else 0.0

    m0 = np.concatenate([x.ravel() * N for x in (*M1, *M2)])
    if m0.size <= lbfgsb_max_size:
        # L-BFGS-B copes with the ill-conditioning (W-terms scale with ||V||^2) far better
        def fun(m):
            v, cache = value(m)
            return v, gradient(m, cache)

        def stop_at_deadline(intermediate_result):
            if deadline is not None and time.monotonic() > deadline:
                raise StopIteration  # scipy returns the current iterate

        sol = minimize(fun, m0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * m0.size,
                       callback=stop_at_deadline,
                       options={"maxiter": max_iter, "maxcor": 30, "ftol": 0.0, "gtol": tol})
        m = np.maximum(sol.x, 0.0)
    else:  # memory-light projected Barzilai-Borwein for large N
        m, _ = prox_gradient_bb(
            value, gradient, project, residual, m0, blocks, tol=tol, max_iter=max_iter,
            deadline=deadline,
        )
    M1, M2 = split(m)
    return [np.ascontiguousarray(x) for x in M1], [np.ascontiguousarray(x) for x in M2]

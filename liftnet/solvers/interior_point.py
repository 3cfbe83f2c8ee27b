"""Primal-dual interior point for a smooth convex function over the orthant ``x >= 0``.

For ``min f(x)`` s.t. ``x >= 0`` with multipliers ``z >= 0`` of the bounds, the KKT system is
``grad f(x) = z``, ``x * z = 0``. Each iteration takes one Newton step on the perturbed system
``grad f(x) = z``, ``x * z = mu`` with ``mu = sigma (x . z) / n``:

    (H + X^{-1} Z) dx = -grad f(x) + mu / x,     dz = (mu - x z - z dx) / x,

``H`` the (generalized) Hessian, the linear system solved by preconditioned conjugate gradients
(relative residual ``cg_tol``, at most ``cg_max_iter`` products), then steps ``x + a_p dx``,
``z + a_d dz`` with each step length the largest in ``(0, 1]`` that keeps 0.5% of the distance
to the boundary (Wright, *Primal-Dual Interior-Point Methods*, 1997, ch. 5 and 11; the
truncated-Newton form as in Nocedal & Wright, 2006, 16.6 and 7.1). Unlike an active-set or
projected Newton method it needs no guess of which bounds are active: on the multiplier
estimate of liftnet's KKT check thousands of them change at once, and a projected Newton-CG
prototype clipped its steps into no progress (docs/maths.md 5).

The caller's start ``x_0 = max(x0, 0)`` may lie on the boundary; the iterations start from
``x_s``, ``x_0`` plus 1% of its mean positive entry in every coordinate. It stops when
``||grad f - z||_inf <= tol g_0`` and ``x . z <= tol f_0`` (the stopping rule does not depend on
the scale of ``f``), or when ``f`` has decreased by at most ``ftol`` (relative) over the last
ten iterations (as scipy's L-BFGS-B's ``ftol``; the inexact Newton directions slow the last
digits down), after ``max_iter`` iterations, at a deadline, on Ctrl-C, or, when the caller
gives a ``score`` (a quantity of the iterate it cares about, smaller is better), when the
score has not improved by 1% in ``patience`` iterations or has reached the caller's lower
bound of it; it then returns the iterate with the best score, the start ``x_0`` included.
The scales are those of the start: ``f_0 = min(|f(x_0)|, |f(x_s)|)`` and
``g_0 = min(||grad f(x_0)||_inf, ||grad f(x_s)||_inf)``. With the values at ``x_s`` alone a
start that is nearly optimal made the rule loose: the shift raised ``f`` from 5.6e-23 to 7.2e7
on liftnet's multiplier program at an exact KKT point, and the method said "converged" at
``f = 0.01``, its iterate far worse than the start. ``x_0`` is evaluated at once when there is
a ``score``, otherwise when the rule first holds with the values at ``x_s`` (the rule with the
smaller scales is the stricter one). The callables
keep the module independent of the model: liftnet uses it for
:mod:`liftnet.verification.multipliers`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from functools import partial

import numpy as np

from .._validation import check_scalar
from ._interrupt import INTERRUPTS, interrupted


@dataclass
class InteriorPointInfo:
    """How an interior-point solve ended."""

    # "converged", "stalled" (the score stopped improving), "max_iter", "time_limit",
    # "interrupted", "diverged"
    status: str
    nit: int  # interior-point iterations
    n_hessp: int  # Hessian-vector products (conjugate-gradient steps)
    # max(||grad f - z||_inf / g_0, x . z / f_0) at the last iterate (module docstring; where
    # x_0 was never evaluated, with the scales of x_s alone: a lower bound, above tol; 0.0
    # where the start is returned at once at score_floor, before any iterate)
    residual: float
    value: float  # f at the returned iterate
    score: float | None  # the caller's score at the returned iterate
    # the returned iterate is the start max(x0, 0): its score was the best, or a Ctrl-C came
    # before the first iterate was evaluated (value, score NaN; residual inf)
    start: bool = False


def interior_point_cg(
    fun,
    grad,
    hessp,
    precond,
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    score=None,
    patience: int = 5,
    score_floor: float = 0.0,
    sigma: float = 0.1,
    cg_tol: float = 1e-3,
    cg_max_iter: int = 200,
    ftol: float = 1e-8,
    deadline: float | None = None,
    callback=None,
) -> tuple[np.ndarray, InteriorPointInfo]:
    """Minimise a convex ``f`` over ``x >= 0``, started near ``x0``.

    Parameters
    ----------
    fun : callable ``x -> (f(x), state)``
    grad : callable ``(x, state) -> grad f(x)``
    hessp : callable ``(state, v) -> H v``, ``H`` symmetric positive semidefinite
    precond : callable ``(state, shift) -> P`` with ``P(r)`` an approximation of
        ``(H + diag(shift))^{-1} r``
    x0 : array
        Start; ``max(x0, 0)`` is moved into the interior (plus 1% of its mean positive entry)
        for the iterations.
    tol, ftol : float
        Relative tolerances (module docstring): ``tol`` relative to ``f`` and ``grad f`` at
        the start, ``ftol`` to the current ``f`` (its decrease over the last ten iterations).
    max_iter, sigma, cg_tol, cg_max_iter : see the module docstring.
    score : callable ``state -> float``, optional
        With ``patience``: stop when it has not improved by 1% in ``patience`` iterations,
        or when it is at most ``score_floor`` (a lower bound of it known to the caller), and
        return the iterate where it was smallest. The start ``max(x0, 0)`` is scored too
        (before it is moved into the interior) and returned when no iterate beats it
        (``info.start``; at once when it is at most ``score_floor``); the patience counts the
        iterations' own progress, so that a good start does not cut short iterations that go
        on to beat it.
    deadline : float, optional
        A ``time.monotonic()`` value.
    callback : callable ``(k, f, best_score) -> None``, optional
        Called after each iteration (progress reports); ``best_score`` is None without
        ``score``.

    Returns
    -------
    x : array
        Strictly positive, unless it is the start ``max(x0, 0)`` (``info.start``).
    info : InteriorPointInfo
    """
    # an internal routine whose callers check what they pass; called directly, a bad argument
    # was taken (tol < 0 or NaN ran to max_iter, max_iter < 0 returned at once "max_iter")
    tol = check_scalar(tol, "tol", low=0)
    ftol = check_scalar(ftol, "ftol", low=0)
    max_iter = check_scalar(max_iter, "max_iter", low=0, integer=True)
    patience = check_scalar(patience, "patience", low=0, integer=True)
    sigma = check_scalar(sigma, "sigma", low=0, high=1, low_inclusive=False,
                         high_inclusive=False)  # the centring factor
    cg_tol = check_scalar(cg_tol, "cg_tol", low=0, low_inclusive=False)
    cg_max_iter = check_scalar(cg_max_iter, "cg_max_iter", low=1, integer=True)
    deadline = check_scalar(deadline, "deadline", allow_none=True)
    n = x0.size
    tiny = np.finfo(float).tiny
    x_start = np.maximum(x0, 0.0)
    start = None  # (score, x_start, f) once x_start is evaluated

    def evaluate_start():
        """``x_start``'s (score, x, f) and the scales of the stopping rule there."""
        f0, state0 = fun(x_start)
        g0 = grad(x_start, state0)
        return (score(state0) if score else None, x_start, f0), abs(f0), _inf_norm(g0)

    # what a Ctrl-C before the first evaluation returns: the start, its value unknown
    x, f, r, best = x_start, np.nan, np.inf, None
    k = n_hv = 0
    status = "max_iter"
    try:
        if score is not None:  # the caller's start is a candidate (and sets the scales at once)
            start, f0_scale, g0_scale = evaluate_start()
            if start[0] <= score_floor:  # nothing does better than the floor: keep the start
                # (an infinite floor, a point whose residual overflows whatever the
                # multipliers, is no converged estimate: "diverged", as without a score)
                return x_start, InteriorPointInfo(
                    "converged" if np.isfinite(start[0]) else "diverged", 0, 0, 0.0,
                    float(start[2]), float(start[0]), True
                )
        pos = x_start[x_start > 0]
        x_s = x_start + max(1e-2 * (float(pos.mean()) if pos.size else 1.0), 1e-12)
        f_s, state = fun(x_s)
        g = grad(x_s, state)
        x, f = x_s, f_s
        z = np.maximum(g, 0.0) + 1e-2 * max(float(np.abs(g).mean()), 1e-12)
        scales_s = (abs(f), _inf_norm(g))  # x_s's

        def relative_residual():
            """The stopping rule's residual, in the smaller of the scales of ``x_s`` and (once
            evaluated) of ``x_0``."""
            f_scale, g_scale = scales_s
            if start is not None:
                f_scale, g_scale = min(f_scale, f0_scale), min(g_scale, g0_scale)
            return max(_inf_norm(g - z) / max(g_scale, tiny),
                       float(np.dot(x, z)) / max(f_scale, tiny))

        best = (score(state) if score else None, x, f)
        since_best = 0
        values = deque([f], maxlen=11)
        while True:
            r = relative_residual()
            if r <= tol and start is None:  # the start's scales, the stricter: x_0 now
                start, f0_scale, g0_scale = evaluate_start()
                r = relative_residual()
            if not (np.isfinite(f) and np.isfinite(r)):
                status = "diverged"
                break
            if r <= tol or (len(values) == values.maxlen and values[0] - f <= ftol * abs(f)):
                status = "converged"
                break
            if score is not None and best[0] <= score_floor:
                status = "converged" if np.isfinite(best[0]) else "diverged"
                break
            if score is not None and since_best >= patience:
                status = "stalled"
                break
            if k >= max_iter:
                break
            if deadline is not None and time.monotonic() > deadline:
                status = "time_limit"
                break
            mu = sigma * float(np.dot(x, z)) / n
            shift = z / x
            dx, used = pcg(partial(_shifted, partial(hessp, state), shift),
                            precond(state, shift), mu / x - g, cg_tol, cg_max_iter)
            n_hv += used
            dz = (mu - x * z - z * dx) / x
            xn = x + _step_to_boundary(x, dx) * dx
            fn, state_n = fun(xn)  # an interruption here keeps the last evaluated iterate
            if not (np.isfinite(fn) and np.all(np.isfinite(xn))):
                status = "diverged"  # the last finite iterate is returned, not this one
                break
            gn = grad(xn, state_n)
            x, f, state, g = xn, fn, state_n, gn
            z = z + _step_to_boundary(z, dz) * dz
            values.append(f)
            k += 1
            if score is not None:
                s = score(state)
                if s < best[0]:
                    since_best = 0 if s < 0.99 * best[0] else since_best + 1
                    best = (s, x, f)
                else:
                    since_best += 1
            if callback is not None:
                callback(k, f, best[0] if score is not None else None)
    except INTERRUPTS as exc:
        status = interrupted(exc)
    if score is None:
        return x, InteriorPointInfo(status, k, n_hv, r, float(f), None, x is x_start)
    if start is None:  # Ctrl-C in the start's evaluation
        return x_start, InteriorPointInfo(status, 0, 0, r, np.nan, np.nan, True)
    kept = best is None or start[0] <= best[0]  # no iterate beat the start (nor tied it)
    s, x, f = start if kept else best
    return x, InteriorPointInfo(status, k, n_hv, r, float(f), float(s), kept)


def _inf_norm(v) -> float:
    return float(np.max(np.abs(v), initial=0.0))


def _shifted(H, shift, v):
    return H(v) + shift * v


def _step_to_boundary(x, dx, keep: float = 0.995) -> float:
    """The largest step in ``(0, 1]`` with ``x + a dx >= (1 - keep) x``."""
    neg = dx < 0
    if not neg.any():
        return 1.0
    return min(1.0, keep * float(np.min(x[neg] / -dx[neg])))


def pcg(A, P, b, rtol: float, max_iter: int):
    """Preconditioned conjugate gradients for ``A x = b`` from ``x = 0``, stopped at
    ``||b - A x|| <= rtol ||b||``; returns ``(x, products)``."""
    x = np.zeros_like(b)
    res = b.copy()
    stop = rtol * float(np.linalg.norm(b))
    z = P(res)
    p = z.copy()
    rz = float(np.dot(res, z))
    k = 0
    while k < max_iter and float(np.linalg.norm(res)) > stop:
        Ap = A(p)
        k += 1
        pAp = float(np.dot(p, Ap))
        if pAp <= 0:  # a singular direction: the steps so far
            break
        step = rz / pAp
        x += step * p
        res -= step * Ap
        z = P(res)
        rz_new = float(np.dot(res, z))
        p *= rz_new / rz
        p += z
        rz = rz_new
    return x, k

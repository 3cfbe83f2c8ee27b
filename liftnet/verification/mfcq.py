"""MFCQ of the lifted model (M) at a point: MODEL.md section 4 (fact 3) and section 7.

The constraints of (M) are, for every hidden layer ``l = 1..L-1`` and every entry ``(i, n)``,

    g1_l = U_l - V_l <= 0,        g2_l = alpha U_l - V_l <= 0,   U_l = W_l V_{l-1} + b_l 1^T.

Their gradients with respect to ``z = (W, b, V)`` (flat, in the order of ``prob.layout``) are

    d g1_l[i,n] / d W_l[i,j]     = V_{l-1}[j,n]       (times alpha for g2)
    d g1_l[i,n] / d b_l[i]       = 1                  (times alpha for g2)
    d g1_l[i,n] / d V_{l-1}[j,n] = W_l[i,j]           (l >= 2; times alpha for g2)
    d g1_l[i,n] / d V_l[i,n]     = -1                 (also for g2)

Two certificates of MFCQ (a direction ``d`` with ``<grad g_i, d> < 0`` for every active ``i``):

* constructive (MODEL.md 4, fact 3; any size, no Jacobian): ``dW = 0``, ``db = 0``,
  ``dV_l = c_l 1`` with ``c_0 = 0``, ``c_l = 1 + c_{l-1} m_l``, ``m_l = max(0, max_i (W_l 1)_i)``.
  Then, for *every* constraint, active or not,

      <grad g1_l[i,n], d> = c_{l-1} (W_l 1)_i - c_l       = -(1 + c_{l-1} (m_l - (W_l 1)_i))
      <grad g2_l[i,n], d> = alpha c_{l-1} (W_l 1)_i - c_l = -(1 + c_{l-1} (m_l - alpha (W_l 1)_i))

  both ``<= -1`` (``m_l >= (W_l 1)_i`` and ``m_l >= alpha (W_l 1)_i`` as ``m_l >= 0``,
  ``alpha < 1``). The right-hand forms are what :func:`check_mfcq` computes: the left-hand ones
  subtract two numbers of size ``c_l`` and lose the ``-1`` once ``c_l`` passes ``1/eps``
  (``c_3 = 4e16`` at weights ``1e8``: ``margin_raw`` came out ``0``); the right-hand ones add
  nonnegative terms to 1 and stay ``<= -1`` in floating point;
* the LP over the active constraints (MODEL.md 7; small instances, sparse, HiGHS)::

      max t   s.t.  <grad g_i, d> <= -t  (i active),   |d|_inf <= 1,

  whose optimum ``t > 0`` certifies MFCQ.

Normalisation: the LP bounds ``|d|_inf <= 1``. The constructive ``d`` has ``|d|_inf = max_l c_l``,
so ``margin = margin_raw / max_l c_l`` with ``margin_raw = -max_i <grad g_i, d> >= 1`` (over all
constraints) is a feasible value of the LP, hence ``0 < margin <= lp_margin``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .._validation import (
    check_list_shapes,
    check_matrix_list,
    check_net_shapes,
    check_point,
    check_problem,
    check_scalar,
)
from .kkt import primal_violation


class MFCQReport(dict):
    """Result of :func:`check_mfcq`: a dict with attribute access (keys listed there)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        lp = "None" if self["lp_margin"] is None else f"{self['lp_margin']:.3e}"
        return (
            f"MFCQReport(holds={self['holds']}, margin={self['margin']:.3e}, lp_margin={lp}, "
            f"n_active_g1={self['n_active_g1']}, n_active_g2={self['n_active_g2']}, "
            f"n_kink={self['n_kink']})"
        )


def mfcq_direction(prob, W) -> tuple[np.ndarray, np.ndarray]:
    """The constructive MFCQ direction of MODEL.md 4, fact 3.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``

    Returns
    -------
    c : array ``(L,)``
        ``c_0 = 0``, ``c_l = 1 + c_{l-1} max(0, max_i (W_l 1)_i)`` for ``l = 1..L-1``
        (``c[l]`` is ``c_l``).
    d : array ``(prob.layout.size,)``
        ``dW = 0``, ``db = 0``, ``dV_l = c_l 1``, packed by ``prob.layout``.
    """
    # (check_mfcq passes the checked W: no copy then; a list of lists, a wrong shape or a
    # NaN was an AttributeError, an IndexError or a NaN c from inside)
    W = check_matrix_list(W, "W", check_problem(prob).W_shapes, prob.dtype)
    c = np.zeros(prob.L)
    for l in range(1, prob.L):
        c[l] = 1.0 + c[l - 1] * _row_sums(W[l - 1])[1]
    d = np.zeros(prob.layout.size)
    for blk in prob.layout.of_kind("V"):
        d[blk.slice] = c[blk.layer]
    return c, d


def _row_sums(Wl):
    """``(W_l 1, m_l)`` with ``m_l = max(0, max_i (W_l 1)_i)`` (MODEL.md 4, fact 3): the row
    sums as a column, and the growth of the direction's ``c_l`` from layer to layer."""
    rs = Wl.sum(axis=1)[:, None]
    return rs, max(0.0, float(np.max(rs)))


def constraint_values(prob, W, b, V) -> np.ndarray:
    """``g(z)`` flat: ``g1_1, ..., g1_{L-1}, g2_1, ..., g2_{L-1}``, each raveled row-major.

    The row order of :func:`constraint_jacobian`; length ``2 sum_l n_l N``.
    """
    g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    return np.concatenate([g.ravel() for g in (*g1, *g2)]) if g1 else np.zeros(0)


def constraint_jacobian(prob, W, b, V) -> sp.csr_matrix:
    """Jacobian of :func:`constraint_values` w.r.t. the flat ``z`` of ``prob.layout``.

    Parameters
    ----------
    prob : LiftedProblem
    W, b, V : the point (lists as in ``prob.layout.unpack``)

    Returns
    -------
    scipy.sparse.csr_matrix of shape ``(2 sum_l n_l N, prob.layout.size)``
        Row ``r`` of layer ``l``'s ``g1`` block (``r = i N + n``, 0-based) holds ``V_{l-1}[:, n]``
        at ``W_l[i, :]``, ``1`` at ``b_l[i]``, ``W_l[i, :]`` at ``V_{l-1}[:, n]`` (``l >= 2``) and
        ``-1`` at ``V_l[i, n]``; the ``g2`` block is the same with the ``U``-part times ``alpha``.
    """
    # the checks of constraint_values (shapes, a real dtype, b exactly with biases, V given),
    # which failed inside numpy here (an IndexError, a broadcast, 'NoneType' not subscriptable)
    W, b, _ = check_net_shapes(check_problem(prob), W, b)
    V = check_list_shapes(V, "V", prob.V_shapes)
    lay, N, a = prob.layout, prob.N, prob.alpha
    Wb = {blk.layer: blk for blk in lay.of_kind("W")}
    bb = {blk.layer: blk for blk in lay.of_kind("b")}
    Vb = {blk.layer: blk for blk in lay.of_kind("V")}
    rows, cols, vals = [], [], []
    n_g1 = sum(int(np.prod(s)) for s in prob.V_shapes)

    for part, scale in ((0, 1.0), (1, a)):
        offset = part * n_g1
        for l in range(1, prob.L):
            nl, nprev = prob.widths[l], prob.widths[l - 1]
            Vprev = prob.V0 if l == 1 else V[l - 2]
            i = np.arange(nl)[:, None, None]
            k = np.arange(N)[None, :, None]
            j = np.arange(nprev)[None, None, :]
            r = np.broadcast_to(offset + i * N + k, (nl, N, nprev)).ravel()
            # W_l[i, j] entries: V_{l-1}[j, n]
            rows.append(r)
            cols.append(np.broadcast_to(Wb[l].start + i * nprev + j, (nl, N, nprev)).ravel())
            vals.append(scale * np.broadcast_to(Vprev.T[None, :, :], (nl, N, nprev)).ravel())
            if l >= 2:  # V_{l-1}[j, n] entries: W_l[i, j]
                rows.append(r)
                cols.append(np.broadcast_to(Vb[l - 1].start + j * N + k, (nl, N, nprev)).ravel())
                vals.append(scale * np.broadcast_to(W[l - 1][:, None, :], (nl, N, nprev)).ravel())
            r2 = (offset + np.arange(nl * N)).ravel()
            if prob.bias:  # b_l[i]: 1
                rows.append(r2)
                cols.append(bb[l].start + np.repeat(np.arange(nl), N))
                vals.append(np.full(nl * N, scale))
            rows.append(r2)  # V_l[i, n]: -1
            cols.append(Vb[l].start + np.arange(nl * N))
            vals.append(-np.ones(nl * N))
            offset += nl * N
    shape = (2 * n_g1, lay.size)
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


def _lp_margin(J_active: sp.csr_matrix, time_limit: float | None = None
               ) -> tuple[float | None, np.ndarray | None, str, str]:
    """``max t  s.t.  J d + t 1 <= 0,  |d|_inf <= 1`` by HiGHS, in at most ``time_limit``
    seconds (None: no limit); returns ``(t, d, status, message)``: ``status`` ``"optimal"``,
    ``"time_limit"`` (``t`` and ``d`` None: HiGHS stopped on the limit, or ``time_limit <= 0``
    and it was not started) or ``"failed"`` (``t`` NaN, ``d`` None)."""
    m, n = J_active.shape
    if m == 0:
        return np.inf, np.zeros(n), "optimal", "no active constraints: MFCQ holds trivially"
    if time_limit is not None and time_limit <= 0:
        return None, None, "time_limit", "time_limit reached before HiGHS started"
    A = sp.hstack([J_active, sp.csr_matrix(np.ones((m, 1)))], format="csr")
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    bounds = [(-1.0, 1.0)] * n + [(None, None)]
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    # HiGHS's interior point (with crossover) is 4-6x faster than its dual simplex on this LP
    # (the lift of a random start, widths 10-8-8-3: N = 1000, 16000 active, 2.1 s against
    # 11.7 s; N = 200, 0.27 against 1.11 s), but the interior point of SciPy 1.17's HiGHS
    # looks at time_limit only before it starts: limits of 0.05 and 0.1 s ran 2.0 and 2.6 s to
    # "optimal" at N = 1000. So with a limit the dual simplex, which stops on it.
    method = "highs-ipm" if time_limit is None else "highs-ds"
    res = linprog(cost, A_ub=A, b_ub=np.zeros(m), bounds=bounds, method=method,
                  options=options)
    if res.status == 1 and time_limit is not None:  # (an iteration or time limit: no
        # iteration limit is set)
        return None, None, "time_limit", (f"HiGHS stopped by time_limit={time_limit:.3g} s: "
                                          f"{res.message}")
    if res.status != 0:
        return np.nan, None, "failed", f"HiGHS status {res.status}: {res.message}"
    return float(-res.fun), res.x[:-1], "optimal", str(res.message)


def check_lp_choice(lp, name: str = "lp"):
    """``lp`` of :func:`check_mfcq`: ``"auto"``, ``True`` or ``False``."""
    if isinstance(lp, str):
        if lp == "auto":
            return lp
        raise ValueError(f"{name} must be 'auto', True or False, got {lp!r}")
    if not isinstance(lp, (bool, np.bool_)):
        # a wrong kind, as check_bool says of every other flag
        raise TypeError(f"{name} must be 'auto', True or False, got {lp!r}")
    return bool(lp)


def check_mfcq(
    prob,
    W,
    b=None,
    V=None,
    *,
    lp="auto",
    active_tol: float | None = None,
    lp_max_constraints: int = 5000,
    time_limit: float | None = None,
) -> MFCQReport:
    """MFCQ certificates of (M) at ``z = (W, b, V)``: MODEL.md 4 (fact 3) and 7.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
        Required exactly when ``prob.bias``.
    V : list of L-1 arrays ``(n_l, N)`` or None
        Default: the lift ``sigma(U_l)`` (a feasible point, MODEL.md 4 fact 1).
    lp : {"auto", True, False}
        Solve the LP certificate: always, never, or (``"auto"``) when the number of active
        constraints is at most ``lp_max_constraints``.
    active_tol : float >= 0 or None
        A constraint is active when ``g_i >= -active_tol`` (violated ones count as active).
        ``None``: ``max(1e-8, 64 eps s)`` with ``eps`` the machine epsilon of ``prob.dtype``
        and ``s = max(1, max|U_l|, max|V_l|)`` over the hidden layers ``l = 1..L-1`` (the
        output ``U_L`` is in no constraint), the rounding of ``g = U - V`` (``1e-8`` in float64
        at any ordinary scale; in float32 the entries of a lift where ``U > 0`` came out at
        ``g = -1.1e-6`` instead of 0, inactive under ``1e-8``, and the LP's margin was 0.693
        against float64's 0.851 at the same point).
    lp_max_constraints : int >= 1
        Size limit of the ``"auto"`` LP.
    time_limit : float > 0 or None
        Seconds for the LP certificate: its Jacobian of the active constraints, then HiGHS's
        solve, which gets what is left as its own ``time_limit`` (checked in its iterations;
        with a limit HiGHS runs its dual simplex, since its interior point looks at the limit
        only before it starts, and the simplex takes 4-6 times as long to the optimum).
        When it expires the LP has no answer: ``lp_margin`` and ``lp_direction`` are None,
        ``lp_status`` is ``"time_limit"`` and ``holds`` rests on the constructive margin alone.
        None (default): no limit; the LP grows with the active constraints (``lp=True`` at
        the lift of a random start, N = 2000, widths 10-8-8-3, 32000 active: 5.1 s; widths
        10-16-16-3, 64000 active: 22 s; with ``time_limit=1``: 1.3 s, the Jacobian
        included). A Ctrl-C inside HiGHS is deferred until it returns (its compiled code does
        not look at Python's signals), then raised as KeyboardInterrupt: ``time_limit``
        bounds that wait too.

    Returns
    -------
    MFCQReport
        ``holds`` (bool: ``margin > 0`` and, when the LP finished, ``lp_margin > 0``; violated
        constraints count as active, so at an infeasible point it says that the direction
        decreases every active or violated constraint, not that the point is feasible: read
        it with ``feasible``); ``feasible`` (bool: ``max_violation <= active_tol``);
        ``margin`` (constructive, normalised to ``|d|_inf = 1``, so ``margin <= lp_margin``);
        ``margin_raw`` (``-max_i <grad g_i, d>`` over all constraints, ``>= 1``);
        ``margin_active_raw`` (the same over the active constraints; ``inf`` if none);
        ``c`` (the ``c_l``, ``c[0] = 0``); ``direction_norm`` (``max_l c_l``);
        ``lp_margin`` (float, or ``None`` when the LP was not run or did not finish in
        ``time_limit``; NaN when HiGHS failed); ``lp_direction`` (its optimal ``d``, flat as
        ``prob.layout``, or ``None``); ``lp_status`` (``"not run"``, ``"optimal"``,
        ``"time_limit"`` or ``"failed"``); ``lp_message``;
        ``n_constraints``, ``n_active``, ``n_active_g1``, ``n_active_g2``, ``n_kink`` (entries
        where ``g1`` and ``g2`` are both active or violated, ``V <= min(U, alpha U) +
        active_tol``: at a feasible point the kinks ``U = V = 0``, up to ``active_tol``; at an
        infeasible one also every entry where ``V`` lies below both ``U`` and ``alpha U``, e.g.
        ``V < 0`` at ``U = 0``); ``max_violation`` (``max(0, g)``; MFCQ is a statement at
        feasible points); ``active_tol``.

    Examples
    --------
    At the lift of any ``W`` (a feasible point, one constraint of each pair active), and even
    at ``W = 0``, where every entry is a kink ``U = V = 0`` with both constraints active:

    >>> from liftnet import LiftedProblem, check_mfcq
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4,))
    >>> W, _ = prob.initial_weights(seed=0)
    >>> rep = check_mfcq(prob, W)
    >>> rep.holds, rep.feasible, rep.lp_status
    (True, True, 'optimal')
    >>> rep.n_constraints, rep.n_active, rep.n_kink
    (400, 200, 0)
    >>> rep.c.tolist(), float(rep.margin)  # one hidden layer: c_1 = 1, margin 1
    ([0.0, 1.0], 1.0)
    >>> round(float(rep.lp_margin), 6)  # the LP's optimum, >= margin; here the same
    1.0
    >>> zero = check_mfcq(prob, [0 * Wl for Wl in W])
    >>> zero.holds, zero.n_active, zero.n_kink
    (True, 400, 200)
    """
    lp = check_lp_choice(lp)
    active_tol = check_scalar(active_tol, "active_tol", low=0, allow_none=True)
    lp_max_constraints = check_scalar(lp_max_constraints, "lp_max_constraints", low=1, integer=True)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    W, b, V = check_point(prob, W, b, V)
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    c, _ = mfcq_direction(prob, W)
    if active_tol is None:
        scale = max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in (*U[:-1], *V)])
        active_tol = max(1e-8, 64.0 * float(np.finfo(prob.dtype).eps) * scale)

    # <grad g, d> per constraint, no Jacobian needed: c_{l-1} (W_l 1)_i - c_l (alpha for g2),
    # in the form -(1 + c_{l-1} (m_l - (W_l 1)_i)) without the cancellation (module docstring)
    worst_all, worst_active = -np.inf, -np.inf
    n1 = n2 = nk = 0
    for l in range(1, prob.L):
        rs, top = _row_sums(W[l - 1])  # (W_l 1)_i and m_l, as in mfcq_direction
        dg1 = np.broadcast_to(-(1.0 + c[l - 1] * (top - rs)), g1[l - 1].shape)
        dg2 = np.broadcast_to(-(1.0 + c[l - 1] * (top - prob.alpha * rs)), g2[l - 1].shape)
        a1 = g1[l - 1] >= -active_tol
        a2 = g2[l - 1] >= -active_tol
        n1, n2, nk = n1 + int(a1.sum()), n2 + int(a2.sum()), nk + int((a1 & a2).sum())
        worst_all = max(worst_all, float(dg1.max()), float(dg2.max()))
        if a1.any():
            worst_active = max(worst_active, float(dg1[a1].max()))
        if a2.any():
            worst_active = max(worst_active, float(dg2[a2].max()))
    norm_d = float(c[1:].max()) if prob.L > 1 else 1.0
    margin_raw = -worst_all
    margin = margin_raw / norm_d

    n_active = n1 + n2
    run_lp = lp is True or (lp == "auto" and n_active <= lp_max_constraints)
    lp_margin, lp_direction, lp_status, lp_message = None, None, "not run", "LP not run"
    if run_lp:
        t0 = time.monotonic()
        gval = constraint_values(prob, W, b, V)
        J = constraint_jacobian(prob, W, b, V)[np.flatnonzero(gval >= -active_tol)]
        left = None if time_limit is None else time_limit - (time.monotonic() - t0)
        lp_margin, lp_direction, lp_status, lp_message = _lp_margin(J, time_limit=left)
    violation = primal_violation(g1, g2)  # max(0, g1, g2), MODEL.md 5
    holds = bool(margin > 0 and (lp_margin is None or lp_margin > 0))
    return MFCQReport(
        holds=holds,
        margin=margin,
        margin_raw=margin_raw,
        margin_active_raw=-worst_active,
        c=c,
        direction_norm=norm_d,
        lp_margin=lp_margin,
        lp_direction=lp_direction,
        lp_status=lp_status,
        lp_message=lp_message,
        n_constraints=2 * sum(g.size for g in g1),
        n_active=n_active,
        n_active_g1=n1,
        n_active_g2=n2,
        n_kink=nk,
        max_violation=violation,
        feasible=bool(violation <= active_tol),
        active_tol=active_tol,
    )

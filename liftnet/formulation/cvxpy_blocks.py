"""The convex pieces of the ALM, declared in CVXPY as an independent check (MODEL.md 5-7).

The augmented Lagrangian of MODEL.md section 6, for fixed multipliers ``M1, M2 >= 0``,

    L_rho(W, b, V) = (1/N)||U_L - Y^T||^2 + (beta/N) sum_l pi_l(V_l, U_l) + lam R(W)
                     + (1/(2 rho)) sum_l ( ||max(0, M1_l + rho g1_l)||^2
                                           + ||max(0, M2_l + rho g2_l)||^2 - ||M_l||^2 ),

is nonconvex, but it has convex blocks. Writing ``pi`` through ``(U, V)`` of one layer,

    complementarity: pi = <V - U, V - alpha U> = alpha ||U||^2 - (1 + alpha) <U, V> + ||V||^2,
    squared:         pi = ||V - U||^2,

(a) **W-block** (:func:`w_block`): with ``V`` fixed, every ``U_l = W_l V_{l-1} + b_l 1^T`` is
    affine in ``(W, b)``. The loss is a convex quadratic of ``U_L``; ``pi_l`` is a convex quadratic
    of ``U_l`` (coefficient ``alpha > 0`` for complementarity); ``g = (U - V, alpha U - V)`` is
    affine, so ``||max(0, M + rho g)||^2`` (square of a nonnegative convex function) is convex; the
    group norm is convex. So ``L_rho(., ., V)`` is jointly convex in ``(W, b)`` (and separable
    over layers).
(b) **V-block** (:func:`v_block`): ``V_l`` enters ``pi_l`` directly and ``U_{l+1}`` (hence
    ``pi_{l+1}``, ``g_{l+1}`` or the loss) affinely. For *squared* ``pi`` is jointly convex in
    ``(U, V)``, so ``L_rho(W, b, .)`` is convex in all ``V`` at once. For *complementarity* the
    quadratic form of ``pi`` in ``(U_l, V_l)`` has matrix ``[[alpha, -(1+alpha)/2],
    [-(1+alpha)/2, 1]]`` of determinant ``-(1-alpha)^2/4 < 0``: indefinite, so ``pi_l`` is not
    convex in ``(V_{l-1}, V_l)`` together (``U_l`` moves with ``V_{l-1}``). With only ``V_l``
    varying, ``U_l`` is fixed, ``pi_l`` is ``||V_l||^2 +`` affine and ``pi_{l+1}`` is convex in
    ``U_{l+1}``: convex. The convex V-blocks of complementarity are exactly the sets of hidden
    layers **no two of which are adjacent** (:func:`convex_v_layers`).
(c) **multiplier estimate** (:func:`estimate_multipliers_cvxpy`): for fixed ``z`` the
    stationarity residual of MODEL.md 5 is affine in ``(M1, M2)``; the squared distance of an
    affine map to the (convex) subdifferential set plus ``||M1 * g1||^2 + ||M2 * g2||^2`` is a
    convex function of ``M >= 0``: the program that
    ``liftnet.verification.multipliers.estimate_multipliers`` solves (by default
    ``method="interior-point"``, a primal-dual interior point with conjugate gradients;
    L-BFGS-B, ``"lbfgsb"``, and projected Barzilai-Borwein steps, ``"bb"``, on request).

The CVXPY expressions restate MODEL.md's formulas symbolically on purpose (that is the
independent check); tests compare their values with ``LiftedProblem``'s.
"""

from __future__ import annotations

from collections.abc import Iterable

import cvxpy as cp
import numpy as np

from .._validation import (
    check_bias_given,
    check_finite_array,
    check_list,
    check_matrix_list,
    check_point,
    check_problem,
    check_scalar,
    check_shape,
)


class BlockSolution(dict):
    """Result of a block solve: a dict with attribute access.

    Keys: ``value`` (optimal value, in the units of the stated objective), the arrays
    (``W, b`` / ``V`` / ``M1, M2``), ``status`` (CVXPY's), ``solver``, ``problem``
    (the ``cvxpy.Problem``, to print or inspect).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# ------------------------------------------------------------------------ helpers
def _check_solver(solver):
    """``None`` (CLARABEL) or the name of an installed CVXPY solver (any case)."""
    if solver is None:
        return None
    if not isinstance(solver, str):
        raise TypeError(
            f"solver must be a CVXPY solver name or None, got {type(solver).__name__}: {solver!r}"
        )
    installed = cp.installed_solvers()
    if solver.upper() not in installed:
        raise ValueError(
            f"solver must be one of the installed CVXPY solvers {tuple(installed)}, got {solver!r}"
        )
    return solver


def _check_terms(arrs, name, shapes, dtype):
    """A list of ``len(shapes)`` items, each a CVXPY expression or a finite array of its shape
    (arrays are converted to ``dtype``); the messages of ``check_matrix_list``."""
    check_list(arrs, name, len(shapes), "arrays or CVXPY expressions")
    out = []
    for i, (a, shp) in enumerate(zip(arrs, shapes, strict=True)):
        item = f"{name}[{i}]"
        if not isinstance(a, cp.Expression):
            a = check_finite_array(a, item, dtype)
        check_shape(a.shape, item, shp)
        out.append(a)
    return out


def _check_layers(prob, layers):
    """Hidden layers ``1..L-1`` (MODEL.md numbering): a nonempty iterable of integers, as a
    sorted tuple without repeats."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
        raise TypeError(
            f"layers must be an iterable of hidden layers in 1..{prob.L - 1} (e.g. (1,)), "
            f"got {type(layers).__name__}: {layers!r}"
        )
    items = list(layers)
    if not items:
        raise ValueError(f"layers must hold at least one hidden layer in 1..{prob.L - 1}")
    return tuple(sorted({
        check_scalar(l, f"layers[{k}]", low=1, high=prob.L - 1, integer=True)
        for k, l in enumerate(items)
    }))


def _expr(x):
    return x if isinstance(x, cp.Expression) else cp.Constant(np.asarray(x, dtype=float))


def _U(prob, W, b, V):
    """``U_l = W_l V_{l-1} + b_l 1^T`` as CVXPY expressions (any argument may be constant)."""
    U = []
    for l in range(prob.L):
        Vprev = prob.V0 if l == 0 else V[l - 1]
        Ul = _expr(W[l]) @ _expr(Vprev)
        if b is not None:
            Ul = Ul + cp.outer(_expr(b[l]), np.ones(prob.N))
        U.append(Ul)
    return U


def _pi(prob, Vl, Ul):
    """``pi_l(V_l, U_l)`` (MODEL.md 4); DCP unless both are variable under complementarity."""
    if prob.coupling_name == "squared":
        return cp.sum_squares(Vl - Ul)
    a = prob.alpha
    return a * cp.sum_squares(Ul) - (1 + a) * cp.sum(cp.multiply(Ul, Vl)) + cp.sum_squares(Vl)


def group_norm_expr(prob, Wl):
    """``lam * sum_g ||W_l[g]||_2`` for a CVXPY ``W_l`` (MODEL.md 2): a 2-D expression (or a
    finite 2-D array)."""
    check_problem(prob)
    if not isinstance(Wl, cp.Expression):
        Wl = check_finite_array(Wl, "Wl", prob.dtype)
    if len(Wl.shape) != 2:
        raise ValueError(f"Wl must be 2-D (one layer's weights), got shape {tuple(Wl.shape)}")
    if prob.groups == "column":
        R = cp.sum(cp.norm(Wl, 2, axis=0))
    elif prob.groups == "row":
        R = cp.sum(cp.norm(Wl, 2, axis=1))
    else:
        R = cp.sum(cp.abs(Wl))
    return prob.lam * R


def _multipliers(prob, M1, M2):
    if M1 is None and M2 is None:
        return prob.zero_multipliers()
    if M1 is None or M2 is None:
        raise ValueError("give both M1 and M2, or neither (zero multipliers)")
    M1 = check_matrix_list(M1, "M1", prob.V_shapes, prob.dtype)
    M2 = check_matrix_list(M2, "M2", prob.V_shapes, prob.dtype)
    for name, M in (("M1", M1), ("M2", M2)):
        if any(np.any(m < 0) for m in M):
            raise ValueError(f"{name} must be nonnegative (MODEL.md section 5 sign convention)")
    return M1, M2


def augmented_lagrangian_expr(prob, W, b, V, M1, M2, rho):
    """``L_rho(W, b, V; M)`` of MODEL.md 6 as a CVXPY expression (constants stay constants).

    ``W``, ``b`` (given exactly when ``prob.bias``), ``V``: lists whose items are CVXPY
    expressions or finite arrays of the shapes of ``prob.W_shapes``, ``b_shapes``,
    ``V_shapes``; ``M1, M2``: nonnegative arrays (or both None: zero); ``rho > 0``.
    """
    dt = check_problem(prob).dtype
    W = _check_terms(W, "W", prob.W_shapes, dt)
    check_bias_given(prob, b)
    if b is not None:
        b = _check_terms(b, "b", prob.b_shapes, dt)
    V = _check_terms(V, "V", prob.V_shapes, dt)
    M1, M2 = _multipliers(prob, M1, M2)
    rho = check_scalar(rho, "rho", low=0, low_inclusive=False)
    U = _U(prob, W, b, V)
    a = prob.alpha
    obj = cp.sum_squares(U[-1] - prob.YT) / prob.N
    Msq = 0.0
    for l in range(prob.L - 1):
        Vl = _expr(V[l])
        obj = obj + prob.beta / prob.N * _pi(prob, Vl, U[l])
        g1, g2 = U[l] - Vl, a * U[l] - Vl
        obj = obj + (
            cp.sum_squares(cp.pos(M1[l] + rho * g1)) + cp.sum_squares(cp.pos(M2[l] + rho * g2))
        ) / (2 * rho)
        Msq += float(np.vdot(M1[l], M1[l]) + np.vdot(M2[l], M2[l]))
    obj = obj - Msq / (2 * rho)
    for Wl in W:
        obj = obj + (
            group_norm_expr(prob, Wl) if isinstance(Wl, cp.Expression) else prob.penalty.value(Wl)
        )
    return obj


def _solve(problem, solver, solver_opts):
    """Solve ``problem``; its status (``optimal``, or ``optimal_inaccurate``, for which CVXPY
    itself warns: the point may be far from the optimum, e.g. SCS cut after two iterations
    gave 2.38 for an optimum of 1.20). A solver that fails, or that cannot take the
    problem at all (CVXPY's ``SolverError``: OSQP, SCIPY and HIGHS take no second-order cone;
    CVXPY lists IPOPT as installed but has no interface to it here), is a ``RuntimeError``."""
    name = solver or "CLARABEL"
    try:
        problem.solve(solver=name, **solver_opts)
    except cp.SolverError as exc:
        raise RuntimeError(f"CVXPY/{name} could not solve the block: {exc}") from None
    except ValueError as exc:  # CVXPY's check of the canonical data (rho 1e308: inf entries;
        # a point too large, W = 1e200: "Problem data contains NaN", without "or Inf")
        if "Problem data contains NaN" not in str(exc):
            raise
        raise ValueError(f"the block's data are not finite once scaled: rho or the "
                         f"multipliers too large for floating point (they multiply the "
                         f"constraints), or the point (W, b, V); CVXPY says {exc}") from None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"CVXPY/{name} did not solve the block: status {problem.status}")
    return problem.status


# ---------------------------------------------------------------------- (a) W-block
def w_block(prob, V, M1=None, M2=None, rho: float = 1.0, *, solver=None, **solver_opts):
    """Minimise ``L_rho(W, b, V; M)`` over ``(W, b)`` for fixed ``V`` (convex; module doc (a)).

    Parameters
    ----------
    prob : LiftedProblem
    V : list of L-1 arrays ``(n_l, N)``
    M1, M2 : lists of L-1 arrays ``(n_l, N)``, ``>= 0``, or None (zero)
    rho : float > 0
    solver : str or None
        CVXPY solver name (default ``"CLARABEL"``); ``solver_opts`` go to ``Problem.solve``.

    Returns
    -------
    BlockSolution
        ``value`` (``L_rho`` at the optimum, constants included), ``W`` (L arrays), ``b``
        (L arrays or None), ``status``, ``solver``, ``problem``.
    """
    check_problem(prob)
    V = check_matrix_list(V, "V", prob.V_shapes, prob.dtype)
    M1, M2 = _multipliers(prob, M1, M2)
    rho = check_scalar(rho, "rho", low=0, low_inclusive=False)
    solver = _check_solver(solver)
    W = [cp.Variable(s, name=f"W_{l + 1}") for l, s in enumerate(prob.W_shapes)]
    b = (
        [cp.Variable(s, name=f"b_{l + 1}") for l, s in enumerate(prob.b_shapes)]
        if prob.bias
        else None
    )
    problem = cp.Problem(cp.Minimize(augmented_lagrangian_expr(prob, W, b, V, M1, M2, rho)))
    status = _solve(problem, solver, solver_opts)
    return BlockSolution(
        value=float(problem.value),
        W=[np.asarray(x.value) for x in W],
        b=None if b is None else [np.asarray(x.value) for x in b],
        status=status,
        solver=solver or "CLARABEL",
        problem=problem,
    )


# ---------------------------------------------------------------------- (b) V-block
def convex_v_layers(prob, layers) -> bool:
    """Whether ``L_rho`` is convex in ``{V_l : l in layers}`` with everything else fixed.

    ``squared``: always. ``complementarity``: exactly when no two of ``layers`` are adjacent
    (module doc (b)). ``layers``: a nonempty iterable of hidden layers in ``1..L-1``.
    """
    check_problem(prob)
    layers = _check_layers(prob, layers)
    if prob.coupling_name == "squared":
        return True
    return all(q - p > 1 for p, q in zip(layers, layers[1:], strict=False))


def v_block(
    prob, W, b, V, M1=None, M2=None, rho: float = 1.0, *, layers=None, solver=None, **solver_opts
):
    """Minimise ``L_rho(W, b, V; M)`` over ``V_l, l in layers`` (others fixed at ``V``).

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``; b : list of L arrays ``(n_l,)`` or None
    V : list of L-1 arrays ``(n_l, N)`` or None
        Values of the fixed layers (the others are only shapes); ``None``: the lift of ``W``.
    M1, M2, rho, solver, solver_opts : as in :func:`w_block`
    layers : iterable of int in ``1..L-1`` or None
        Hidden layers to optimise (1-based, MODEL.md numbering); default all. Must be a convex
        block (:func:`convex_v_layers`), else ``ValueError``.

    Returns
    -------
    BlockSolution
        ``value`` (``L_rho`` at the optimum), ``V`` (L-1 arrays: optimised layers replaced),
        ``layers``, ``status``, ``solver``, ``problem``.
    """
    W, b, V = check_point(prob, W, b, V)
    M1, M2 = _multipliers(prob, M1, M2)
    rho = check_scalar(rho, "rho", low=0, low_inclusive=False)
    layers = tuple(range(1, prob.L)) if layers is None else _check_layers(prob, layers)
    solver = _check_solver(solver)
    if not convex_v_layers(prob, layers):
        raise ValueError(
            f"layers={layers!r} is not a convex block of the complementarity coupling: "
            "pi_l = <V_l - U_l, V_l - alpha U_l> is indefinite in (V_{l-1}, V_l); choose "
            "layers no two of which are adjacent (or the squared coupling)"
        )
    Vx = list(V)
    for l in layers:
        Vx[l - 1] = cp.Variable(prob.V_shapes[l - 1], name=f"V_{l}")
    problem = cp.Problem(cp.Minimize(augmented_lagrangian_expr(prob, W, b, Vx, M1, M2, rho)))
    status = _solve(problem, solver, solver_opts)
    Vout = [np.asarray(x.value) if isinstance(x, cp.Variable) else x.copy() for x in Vx]
    return BlockSolution(
        value=float(problem.value),
        V=Vout,
        layers=layers,
        status=status,
        solver=solver or "CLARABEL",
        problem=problem,
    )


# ------------------------------------------------------- (c) multiplier estimate
def multiplier_objective(prob, W, b, V, M1, M2) -> float:
    """``1/2 (sum_g dist(0, grad_{W[g]} + lam d||W[g]||)^2 + ||grad_b||^2 + ||grad_V||^2
    + ||M1 * g1||^2 + ||M2 * g2||^2)`` at given multipliers (MODEL.md 5), in numpy.

    Composed from ``prob.lagrangian_gradient`` and ``prob.penalty.subdiff_distance``.
    ``V = None``: the lift of ``W``; ``M1 = M2 = None``: zero multipliers.
    """
    W, b, V = check_point(prob, W, b, V)
    M1, M2 = _multipliers(prob, M1, M2)
    gW, gb, gV = prob.lagrangian_gradient(W, b, V, M1, M2)
    g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    val = sum(
        float(np.sum(prob.penalty.subdiff_distance(Wl, Q) ** 2))
        for Wl, Q in zip(W, gW, strict=True)
    )
    val += sum(float(np.vdot(x, x)) for x in (*(gb or []), *gV))
    val += sum(float(np.sum((m * g) ** 2)) for m, g in zip((*M1, *M2), (*g1, *g2), strict=True))
    return 0.5 * val


def _selector(mask):
    """0/1 matrix ``S`` with ``x @ S`` = the columns of ``x`` where ``mask`` (1-D)."""
    idx = np.flatnonzero(mask)
    S = np.zeros((mask.size, idx.size))
    S[idx, np.arange(idx.size)] = 1.0
    return S


def _group_residual_sq(prob, Wl, Q, scale=1.0):
    """``sum_g dist(0, Q[g] + s lam d||W_l[g]||)^2`` for a CVXPY ``Q`` (MODEL.md 5), ``s = scale``
    (``Q`` is the ``W_l`` gradient times ``s``)."""
    lam = scale * prob.lam
    norms = prob.penalty.group_norms(Wl)
    nz = norms > 0
    if prob.groups == "element":
        unit = np.where(nz, Wl / np.where(nz, norms, 1.0), 0.0)
        at_nz = cp.sum_squares(cp.multiply(nz.astype(float), Q + lam * unit))
        at_z = cp.sum_squares(cp.multiply((~nz).astype(float), cp.pos(cp.abs(Q) - lam)))
        return at_nz + at_z
    if prob.groups == "row":  # work with columns of the transpose
        Wl, Q = Wl.T, Q.T
    out = 0
    if nz.any():
        S = _selector(nz)
        out = out + cp.sum_squares(Q @ S + lam * (Wl @ S) / norms[nz][None, :])
    if (~nz).any():
        out = out + cp.sum_squares(cp.pos(cp.norm(Q @ _selector(~nz), 2, axis=0) - lam))
    return out


def estimate_multipliers_cvxpy(prob, W, b=None, V=None, *, solver=None, **solver_opts):
    """The multiplier estimate of the KKT check as a convex program (module doc (c)).

    ``min_{M1, M2 >= 0}`` :func:`multiplier_objective`, declared in CVXPY. The variables are
    ``N M`` (multipliers of the ``1/N``-scaled objective are ``O(1/N)``) and the objective is
    scaled by ``N^2``; the returned ``value`` is in the units of :func:`multiplier_objective`.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays; b : list of L arrays or None; V : list of L-1 arrays or None (lift)
    solver, solver_opts : as in :func:`w_block`

    Returns
    -------
    BlockSolution
        ``value``, ``M1``, ``M2`` (L-1 arrays ``(n_l, N)``, ``>= 0``), ``status``, ``solver``,
        ``problem``.
    """
    W, b, V = check_point(prob, W, b, V)
    solver = _check_solver(solver)
    N, a, Lh = prob.N, prob.alpha, prob.L - 1
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    T1 = [cp.Variable(s, nonneg=True, name=f"NM1_{l + 1}") for l, s in enumerate(prob.V_shapes)]
    T2 = [cp.Variable(s, nonneg=True, name=f"NM2_{l + 1}") for l, s in enumerate(prob.V_shapes)]
    # N * (dU_l + G_l), G_l = M1_l + alpha M2_l (G_L = 0): MODEL.md 5
    D = [N * dU[l] + T1[l] + a * T2[l] for l in range(Lh)] + [cp.Constant(N * dU[-1])]
    obj = 0
    for l in range(prob.L):
        Vprev = prob.V0 if l == 0 else V[l - 1]
        obj = obj + _group_residual_sq(prob, W[l], D[l] @ Vprev.T, N)
        if b is not None:
            obj = obj + cp.sum_squares(D[l] @ np.ones(N))
    for l in range(Lh):
        gV = N * dV[l] - (T1[l] + T2[l]) + W[l + 1].T @ D[l + 1]
        obj = obj + cp.sum_squares(gV)
        obj = obj + cp.sum_squares(cp.multiply(g1[l], T1[l]))
        obj = obj + cp.sum_squares(cp.multiply(g2[l], T2[l]))
    problem = cp.Problem(cp.Minimize(0.5 * obj))
    status = _solve(problem, solver, solver_opts)
    M1 = [np.maximum(np.asarray(t.value), 0.0) / N for t in T1]
    M2 = [np.maximum(np.asarray(t.value), 0.0) / N for t in T2]
    return BlockSolution(
        value=float(problem.value) / N**2,
        M1=M1,
        M2=M2,
        status=status,
        solver=solver or "CLARABEL",
        problem=problem,
    )

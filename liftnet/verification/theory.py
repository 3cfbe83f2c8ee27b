"""Numerical checks of the facts MODEL.md section 4 states about (M) and (P).

* fact 1, :func:`lift_feasibility`: every ``W`` lifts to a feasible point ``V_l = sigma(U_l)``;
* fact 4, :func:`lift_objective_gap`: ``F(W, b, V(W)) = Phi(W)`` for the complementarity
  coupling, ``Phi(W) + (beta/N)(1-alpha)^2 sum_l ||min(U_l, 0)||^2`` for ``squared``;
* fact 2, :func:`level_set_radius` and :func:`inside_level_set`: an explicit radius of the level
  set ``{z feasible: F(z) <= F(z_0)}`` when ``lam > 0``, and the check that given points (e.g.
  ALM iterates) lie in that ball;
* fact 4, :func:`complementarity_gap`: ``sum_l sum |(V_l - U_l) * (V_l - alpha U_l)|``, zero
  exactly at an exact network ``V_l = sigma(U_l)`` (on the feasible set);
  :func:`lifted_only_units`: the hidden units whose ``V`` rows carry a signal their inputs do
  not compute (a cause of ``F`` far below ``Phi``).

Every formula of the model is evaluated by ``LiftedProblem`` (``lift``, ``pre_activations``,
``constraints``, ``F``, ``Phi``); this module only combines them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import check_point, check_problem, check_scalar
from ..formulation.couplings import complementarity_pointwise
from .kkt import primal_violation

__all__ = [
    "TheoryReport",
    "complementarity_gap",
    "inside_level_set",
    "level_set_radius",
    "lift_feasibility",
    "lift_objective_gap",
    "lifted_only_units",
]


def __dir__():  # dir(liftnet.theory): the public names only (as liftnet's own __dir__)
    return sorted(__all__)


class TheoryReport(dict):
    """A dict with attribute access (the reports of this module)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def lift_feasibility(prob, W, b=None) -> float:
    """``max_l max(g1_l, g2_l)`` at the lift ``V_l = sigma(U_l)`` (MODEL.md 4, fact 1).

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None

    Returns
    -------
    float
        ``<= 0`` for every ``W`` (exactly, in floating point: ``g1 = U - max(U, alpha U)`` and
        ``g2 = alpha U - max(U, alpha U)`` never round above zero).

    Examples
    --------
    Any ``W``, however large, lifts to a feasible point: the largest constraint value is 0
    (the active one of each pair):

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,))
    >>> W, _ = prob.initial_weights(seed=0)
    >>> theory.lift_feasibility(prob, W), theory.lift_feasibility(prob, [1e6 * Wl for Wl in W])
    (0.0, 0.0)
    """
    W, b, V = check_point(prob, W, b, None)
    g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    return max(float(np.max(g)) for g in (*g1, *g2))


def lift_objective_gap(prob, W, b=None) -> TheoryReport:
    """``F`` at the exact lift against ``Phi`` and its closed form (MODEL.md 4, fact 4).

    At ``V_l = sigma(U_l)``: ``V_l - U_l = max(0, (alpha - 1) U_l) = -(1 - alpha) min(U_l, 0)``
    and ``V_l - alpha U_l = (1 - alpha) max(U_l, 0)``, so the complementarity coupling
    ``<V - U, V - alpha U>`` vanishes and ``squared`` equals ``(1-alpha)^2 ||min(U_l, 0)||^2``.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
        With ``prob.bias`` only.

    Returns
    -------
    TheoryReport
        ``F`` (``prob.F`` at the lift), ``Phi`` (``prob.Phi``), ``gap = F - Phi``,
        ``predicted_gap`` (``0`` for complementarity, ``(beta/N)(1-alpha)^2 sum_l
        ||min(U_l,0)||^2`` for squared) and ``error = |gap - predicted_gap|``.

    Examples
    --------
    With the complementarity coupling ``F = Phi`` at the lift; with ``squared`` ``F`` exceeds
    ``Phi`` by the predicted amount:

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,))
    >>> W, _ = prob.initial_weights(seed=0)
    >>> rep = theory.lift_objective_gap(prob, W)
    >>> rep.predicted_gap, bool(rep.error <= 1e-12)
    (0.0, True)
    >>> sq = theory.lift_objective_gap(LiftedProblem(X, Y, hidden=(4,), coupling="squared"), W)
    >>> bool(sq.gap > 0), bool(sq.error <= 1e-12 * sq.F)
    (True, True)
    """
    W, b, V = check_point(prob, W, b, None)
    with np.errstate(over="ignore", invalid="ignore"):
        F, Phi = prob.F(W, b, V), prob.Phi(W, b)
    if not (np.isfinite(F) and np.isfinite(Phi)):
        # (both inf at W = 1e100: the report said gap = error = nan)
        what = "W or b" if prob.bias else "W"
        raise ValueError(f"{what} too large: F = {F} and Phi = {Phi} overflow "
                         f"{np.dtype(prob.dtype)}, their gap cannot be checked; scale it down")
    if prob.coupling_name == "squared":
        U = prob.pre_activations(W, b, V)
        s = sum(float(np.sum(np.minimum(U[l], 0.0) ** 2)) for l in range(prob.L - 1))
        predicted = prob.beta / prob.N * (1.0 - prob.alpha) ** 2 * s
    else:
        predicted = 0.0
    gap = F - Phi
    return TheoryReport(F=F, Phi=Phi, gap=gap, predicted_gap=predicted, error=abs(gap - predicted))


def complementarity_gap(prob, W, b=None, V=None) -> float:
    """``sum_l sum_{i,n} |(V_l - U_l) * (V_l - alpha U_l)| = sum |g1 * g2|`` (MODEL.md 4, fact 4).

    On the feasible set it is zero exactly when ``V_l = sigma(U_l)`` for every layer, i.e. when
    ``(W, b, V)`` is an exact network; with it zero, ``F`` (complementarity) equals ``Phi``.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
    V : list of L-1 arrays ``(n_l, N)`` or None (the lift: gap 0)

    Returns
    -------
    float

    Examples
    --------
    Zero at the lift (an exact network); positive at a feasible ``V`` above it:

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,))
    >>> W, _ = prob.initial_weights(seed=0)
    >>> theory.complementarity_gap(prob, W)
    0.0
    >>> V = [Vl + 0.1 for Vl in prob.lift(W)]  # g1, g2 <= -0.1: feasible, not a network
    >>> bool(theory.complementarity_gap(prob, W, None, V) > 0)
    True
    """
    W, b, V = check_point(prob, W, b, V)
    g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    return float(sum(np.sum(np.abs(complementarity_pointwise(a, c, prob.alpha)))
                     for a, c in zip(g1, g2, strict=False)))


def lifted_only_units(prob, W, b=None, V=None, tol: float = 1e-4) -> TheoryReport:
    """Hidden units of a point of (M) whose ``V`` row carries a signal their inputs do not
    compute: ``max_n |U_l[j,n]| <= tol * max_n |V_l[j,n]|`` with ``V_l[j] != 0``.

    At such a unit ``V_l[j] >= max(U_l[j], alpha U_l[j]) ~ 0`` leaves ``V_l[j]`` a free
    nonnegative value per sample, priced only by the coupling (``(beta/N) V^2`` per entry at
    ``U = 0``, both couplings), so (M) can fit the data through it while the network of ``W``
    (whose unit outputs ``sigma(U_l[j]) ~ 0``) cannot: one way ``F`` falls far below ``Phi``
    (MODEL.md 4, fact 4; docs/maths.md 4 has a measured case). At an exact network there are
    none (``V = sigma(U)`` makes ``|V| <= |U|``).

    Parameters
    ----------
    prob : LiftedProblem
    W, b, V : the point (``V = None``: the lift, which has none)
    tol : float in (0, 1)
        Relative size of the pre-activation below which a unit counts as computing nothing.

    Returns
    -------
    TheoryReport
        ``units`` (per hidden layer, the indices ``j``), ``V_max`` and ``U_max`` (per layer,
        ``max_n |V_l[j,n]|`` and ``max_n |U_l[j,n]|`` of those units), ``count`` (all layers).

    Examples
    --------
    A unit with a zero incoming row (``U_1[2] = 0``) whose ``V`` row still carries a value
    (feasible: ``V >= 0 = U``) is lifted-only; the lift has none:

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,))
    >>> W, _ = prob.initial_weights(seed=0)
    >>> W[0][2] = 0.0
    >>> V = prob.lift(W)
    >>> V[0][2] = 0.5
    >>> rep = theory.lifted_only_units(prob, W, None, V)
    >>> rep.count, [u.tolist() for u in rep.units], [v.tolist() for v in rep.V_max]
    (1, [[2]], [[0.5]])
    >>> theory.lifted_only_units(prob, W).count
    0
    """
    W, b, V = check_point(prob, W, b, V)
    tol = check_scalar(tol, "tol", low=0, high=1, low_inclusive=False, high_inclusive=False)
    U = prob.pre_activations(W, b, V)
    units, vmax, umax = [], [], []
    for l in range(prob.L - 1):
        v = np.max(np.abs(V[l]), axis=1)
        u = np.max(np.abs(U[l]), axis=1)
        j = np.flatnonzero((v > 0) & (u <= tol * v))
        units.append(j)
        vmax.append(v[j])
        umax.append(u[j])
    return TheoryReport(units=units, V_max=vmax, U_max=umax, count=int(sum(map(len, units))))


def level_set_radius(prob, F0: float) -> TheoryReport:
    """Radius of a ball containing ``S = {z = (W, V) feasible : F(z) <= F0}`` (MODEL.md 4, fact 2).

    Derivation (``lam > 0``, no biases). Every term of ``F`` is ``>= 0`` on the feasible set
    (``pi_l = <p, q>`` with ``p = V_l - U_l >= 0``, ``q = V_l - alpha U_l >= 0``), so each is
    ``<= F0`` on ``S``:

    1. ``lam R(W) <= F0`` gives ``sum_l sum_g ||W_l[g]|| <= w := F0 / lam``. Since
       ``||W_l||_F^2 = sum_g ||W_l[g]||^2 <= (sum_g ||W_l[g]||)^2``, ``sum_l ||W_l||_F <= w``;
       in particular ``||W_l||_2 <= ||W_l||_F <= w`` and ``sum_l ||W_l||_F^2 <= w^2``.
    2. ``(beta/N) pi_l <= F0`` gives ``pi_l <= r^2 := N F0 / beta``.
       *complementarity*: ``V_l - sigma(U_l) = min(p, q)`` elementwise and ``min(p,q)^2 <= p q``,
       so ``||V_l - sigma(U_l)||_F^2 <= <p, q> = pi_l <= r^2``.
       *squared*: ``||V_l - U_l||_F = sqrt(pi_l) <= r``.
       Either way (``|sigma(t)| <= |t|``): ``||V_l||_F <= ||U_l||_F + r``.
    3. ``||U_l||_F = ||W_l V_{l-1}||_F <= w ||V_{l-1}||_F``.

    Hence, layer by layer, ``||V_l||_F <= v_l`` with ``v_0 = ||X||_F``,
    ``v_l = w v_{l-1} + r`` (``l = 1..L-1``), and every ``z`` of ``S`` has
    ``||z||_2 = sqrt(sum ||W_l||_F^2 + sum ||V_l||_F^2) <= R := sqrt(w^2 + sum_l v_l^2)``.

    With biases the level set is in general unbounded (the ``b_l`` are not regularised: when
    ``W_{l+1} = 0``, ``b_l`` and ``V_l = sigma(U_l)`` can grow without changing ``F``), and with
    ``lam = 0`` nothing bounds ``W``: both raise ``ValueError``.

    Parameters
    ----------
    prob : LiftedProblem
        With ``lam > 0`` and ``bias=False``.
    F0 : float >= 0
        The level, e.g. ``prob.F(W0, None, V0)`` at the starting point.

    Returns
    -------
    TheoryReport
        ``radius`` (``R``), ``W_radius`` (``w``, bounds ``sum_l ||W_l||_F``), ``pi_radius``
        (``r``), ``V_radius`` (list of ``v_l``, bounds ``||V_l||_F``), ``F0``.

    Examples
    --------
    The ball of the level of a starting point (its lift), which holds the ALM's iterates from
    there (:func:`inside_level_set`):

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,), lam=1e-2)
    >>> W0, _ = prob.initial_weights(seed=0)
    >>> R = theory.level_set_radius(prob, prob.F(W0, None))
    >>> bool(R.W_radius == R.F0 / prob.lam), len(R.V_radius)  # w = F0/lam, one v_l per layer
    (True, 1)
    >>> bool(R.radius >= R.W_radius)
    True
    """
    check_problem(prob)
    F0 = check_scalar(F0, "F0", low=0)
    if prob.lam <= 0:
        raise ValueError(
            f"level_set_radius needs prob.lam > 0 (got lam={prob.lam}): with "
            "lam = 0 the level sets of F need not be bounded"
        )
    if prob.bias:
        raise ValueError(
            "level_set_radius needs prob.bias=False: unregularised biases make "
            "the level sets of F unbounded in general"
        )
    w = F0 / prob.lam
    r = float(np.sqrt(prob.N * F0 / prob.beta))
    v, vs = float(np.linalg.norm(prob.V0)), []
    for _ in range(1, prob.L):
        v = (w * v if v else 0.0) + r  # (inf * 0 = nan at X = 0 with w = inf)
        vs.append(v)
    # products, not powers: a huge F0 gives R = inf, where float ** raises OverflowError
    R = float(np.sqrt(w * w + sum(x * x for x in vs)))
    return TheoryReport(radius=R, W_radius=w, pi_radius=r, V_radius=vs, F0=F0)


def _points(points):
    """Normalise ``points`` to a list of ``(W, b, V)`` (``V`` may be ``None``)."""
    if isinstance(points, Mapping):  # one result: its stored iterates, then its point
        hist = points.get("history", []) or []
        if not isinstance(hist, (list, tuple)):
            raise TypeError(f"points['history'] must be a list, got {type(hist).__name__}")
        seq = [h for h in hist if isinstance(h, Mapping) and "W" in h]
        seq.append(points)
    elif isinstance(points, (list, tuple)):
        seq = list(points)
    else:
        raise TypeError("points must be a LiftedResult or a list of points, got "
                        f"{type(points).__name__}")
    out = []
    for k, p in enumerate(seq):
        if isinstance(p, Mapping):
            if "W" not in p:
                raise ValueError(f"points[{k}] must contain 'W'")
            out.append((p["W"], p.get("b"), p.get("V")))
        elif isinstance(p, (tuple, list)) and len(p) == 3 and not all(
                isinstance(x, np.ndarray) for x in p):
            out.append(tuple(p))
        elif isinstance(p, (tuple, list)) and p and all(isinstance(x, np.ndarray) for x in p):
            # (a 3-layer network's W alone was read as a tuple (W, b, V) and refused as
            # "W must be a list of 3 arrays, got ndarray")
            one = ("; one point (W, b, V) goes in a list, [(W, b, V)]"
                   if k == 0 and isinstance(points, tuple) and len(seq) == 3 else "")
            raise TypeError(f"points[{k}] is a list of {len(p)} arrays, a network's W alone: "
                            f"pass {{'W': W}} or a tuple (W, b, V){one}")
        else:
            raise TypeError(
                f"points[{k}] must be a mapping with 'W' (and 'b', 'V') or a tuple "
                f"(W, b, V), got {type(p).__name__}"
            )
    return out


def _radius(R, name: str) -> float:
    """A radius ``>= 0``, ``inf`` included: :func:`level_set_radius` returns ``inf`` on purpose
    (a level set it cannot bound), and every point is inside it."""
    if isinstance(R, (float, np.floating)) and R == np.inf:
        return float("inf")
    return check_scalar(R, name, low=0)


def inside_level_set(prob, points, radius) -> TheoryReport:
    """Whether every point lies in the ball of :func:`level_set_radius` (MODEL.md 4, fact 2).

    The bound is proved for feasible points with ``F <= F0``; ALM iterates are only
    approximately feasible and ``F`` need not decrease along them, so the report also gives
    each point's ``F`` and constraint violation to read the check against.

    Parameters
    ----------
    prob : LiftedProblem
    points : LiftedResult, or sequence of mappings (``W``, optional ``b``, ``V``) or of tuples
        ``(W, b, V)``
        A result contributes its final point (:func:`liftnet.solve_alm`'s ``history`` records
        hold no iterates; collect them with its ``inner_callback``, whose records' ``iterate()``
        gives ``W, b, V``, and pass those), plus any ``history`` record that carries ``W``.
        ``V`` missing means the lift.
    radius : TheoryReport of :func:`level_set_radius`, or float
        ``>= 0``; ``inf`` (what :func:`level_set_radius` gives for a level set too large to
        bound) holds every point.

    Returns
    -------
    TheoryReport
        ``all_inside`` (bool), ``inside`` (list of bool), ``norms`` (``||z||_2`` over ``W`` and
        ``V``), ``max_norm``, ``radius``, ``objectives`` (``F``), ``violations`` (``max(0, g)``),
        ``W_sums`` (``sum_l ||W_l||_F``, against ``W_radius`` when ``radius`` is a report).

    Examples
    --------
    The ALM's point from a start lies in the ball of the start's level:

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> from liftnet import solve_alm
    >>> from liftnet import theory
    >>> prob = LiftedProblem(X, Y, hidden=(4,), lam=1e-2)
    >>> W0, _ = prob.initial_weights(seed=0)
    >>> R = theory.level_set_radius(prob, prob.F(W0, None))
    >>> res = solve_alm(prob, init={"W": W0})
    >>> rep = theory.inside_level_set(prob, [(W0, None, None), res], R)
    >>> rep.all_inside, rep.inside
    (True, [True, True])
    >>> bool(rep.objectives[1] <= R.F0)
    True
    """
    check_problem(prob)
    if isinstance(radius, Mapping):
        if "radius" not in radius:
            raise ValueError("radius must be a float or the report of level_set_radius (with "
                             "key 'radius'), got a mapping without 'radius'")
        R = _radius(radius["radius"], "radius['radius']")
    else:
        R = _radius(radius, "radius")
    pts = _points(points)
    if not pts:
        raise ValueError("points must hold at least one point")
    norms, objs, viols, wsums = [], [], [], []
    for k, (W, b, V) in enumerate(pts):
        try:
            W, b, V = check_point(prob, W, b, V)
        except (TypeError, ValueError) as exc:  # which point: the message names W, b or V
            raise type(exc)(f"points[{k}]: {exc}") from None
        sq = sum(float(np.vdot(x, x)) for x in (*W, *V))
        norms.append(float(np.sqrt(sq)))
        objs.append(prob.F(W, b, V))
        g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
        viols.append(primal_violation(g1, g2))
        wsums.append(sum(float(np.linalg.norm(Wl)) for Wl in W))
    inside = [n <= R for n in norms]
    return TheoryReport(
        all_inside=all(inside),
        inside=inside,
        norms=norms,
        max_norm=max(norms),
        radius=R,
        objectives=objs,
        violations=viols,
        W_sums=wsums,
    )

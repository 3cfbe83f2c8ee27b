"""The lifted model (M) declared symbolically in Pyomo: MODEL.md sections 4 and 7.

:func:`build_pyomo_model` returns a ``ConcreteModel`` that reads like MODEL.md section 4::

    min  F = (1/N) sum_{i,n} (U[L,i,n] - Y[i,n])^2 + (beta/N) sum_l pi_l + lam sum_{l,g} t[l,g]
    s.t. g1[l,i,n]:  U[l,i,n] - V[l,i,n] <= 0              (l = 1..L-1)
         g2[l,i,n]:  alpha U[l,i,n] - V[l,i,n] <= 0
         epi[l,g]:   sum_{(i,j) in G[l,g]} W[l,i,j]^2 <= t[l,g]^2,   t[l,g] >= 0

with the named expression ``U[l,i,n] = sum_j W[l,i,j] V[l-1,j,n] + b[l,i]`` (``V[0,j,n]`` is the
data ``X^T``, a parameter). The group norm ``||W_l[g]||_2`` enters through the epigraph
variables ``t[l,g]`` (MODEL.md section 7): at ``t[l,g] = ||W_l[g]||`` the objective equals
``prob.F``.

Index convention: every index is 1-based, as in the maths (``W[l,i,j]`` is entry ``(i, j)`` of
``W_l``, row ``i``, column ``j``; ``n`` numbers the samples). Groups ``g`` are numbered in the
order of :meth:`GroupLasso.group_norms` (flattened row-major for ``element`` groups), so that
``t[l, g]`` is ``group_norms(W_l).ravel()[g-1]``. :func:`set_values` and :func:`get_values`
convert between the model and the numpy lists ``W, b, V`` used everywhere else.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping

import numpy as np

from .._validation import (
    check_bias_given,
    check_matrix_list,
    check_problem,
    check_scalar,
    check_shape,
)

try:  # Pyomo is a dependency; a clear message if an install lacks it.
    import pyomo.environ as pyo
except ImportError as exc:  # pragma: no cover
    pyo = None
    _PYOMO_ERROR = exc
else:
    _PYOMO_ERROR = None


def _require_pyomo():
    if pyo is None:  # pragma: no cover
        raise ImportError(f"build_pyomo_model needs pyomo (pip install pyomo): {_PYOMO_ERROR}")


# ------------------------------------------------------------------------ deadline
class BuildTimeLimit(Exception):
    """:func:`build_pyomo_model` reached its ``deadline`` before the model was complete (the
    part built is dropped)."""


def _check_deadline(deadline, what: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise BuildTimeLimit(f"deadline reached while building {what}")


def _fill(m, component, rule, deadline) -> None:
    """``component[index] = rule(m, *index)`` for every index of its index set, in order:
    what Pyomo's ``rule=`` does, with a look at ``deadline`` before each entry (a
    ``time.monotonic()`` call, against about 30 us per entry of ``U``). The entries of ``U``,
    ``g1`` and ``g2`` are most of the build (at N = 1000, widths 6-8-8-3: 0.61, 0.23 and 0.25
    s of 1.5 s); under ``rule=`` they could not be cut short."""
    what = component.name
    for index in component.index_set():
        _check_deadline(deadline, what)
        component[index] = rule(m, *index)


def _terms(items, deadline, what: str):
    """The terms of a sum (``quicksum``), with a look at ``deadline`` before each."""
    for x in items:
        _check_deadline(deadline, what)
        yield x


# --------------------------------------------------------------------------- groups
def _check_layer(prob, l) -> int:
    """``l`` of :func:`group_members` and :func:`group_broadcast`: a layer ``1..L``."""
    l = check_scalar(l, "l", integer=True)  # a TypeError for anything but an integer
    if not 1 <= l <= prob.L:
        raise ValueError(f"l must be a layer of W_1..W_L, an integer in 1..{prob.L}, got {l}")
    return l


def group_members(prob, l: int) -> list[list[tuple[int, int]]]:
    """The groups ``G_l`` of ``W_l`` as lists of 1-based entries ``(i, j)`` (MODEL.md 2).

    Parameters
    ----------
    prob : LiftedProblem
    l : int
        The layer, ``1..L`` (1-based, as in the maths).

    Returns
    -------
    list of lists of ``(i, j)``
        Group ``g`` (1-based) is ``group_members(prob, l)[g-1]``; the order is that of
        ``prob.penalty.group_norms(W_l).ravel()``.
    """
    l = _check_layer(check_problem(prob), l)
    rows, cols = prob.W_shapes[l - 1]
    if prob.groups == "column":
        return [[(i, j) for i in range(1, rows + 1)] for j in range(1, cols + 1)]
    if prob.groups == "row":
        return [[(i, j) for j in range(1, cols + 1)] for i in range(1, rows + 1)]
    return [[(i, j)] for i in range(1, rows + 1) for j in range(1, cols + 1)]


def group_broadcast(prob, l: int, per_group) -> np.ndarray:
    """An array shaped like ``W_l`` holding, at each entry, the value of its group.

    Parameters
    ----------
    prob : LiftedProblem
    l : int
        The layer, ``1..L``.
    per_group : array
        One value per group, shaped like ``prob.penalty.group_norms(W_l)``: ``(n_{l-1},)`` for
        column groups, ``(n_l,)`` for row groups, ``(n_l, n_{l-1})`` for elements; e.g. a
        boolean flag per group gives the mask of the flagged groups' entries.

    Returns
    -------
    array ``(n_l, n_{l-1})`` of ``per_group``'s dtype
    """
    l = _check_layer(check_problem(prob), l)
    shape = prob.W_shapes[l - 1]
    per_group = np.asarray(per_group)
    expected = prob.penalty.group_norms(np.zeros(shape)).shape
    check_shape(
        per_group.shape, f"per_group (one value per {prob.groups} group of W_{l})", expected
    )
    return prob.penalty.per_entry(per_group, shape).copy()


# ---------------------------------------------------------------- the couplings
def _pi_complementarity(alpha, U, V):
    """``(V - U)(V - alpha U)``: one entry of ``<g1, g2>`` (MODEL.md 4, ``complementarity``)."""
    return (V - U) * (V - alpha * U)


def _pi_squared(alpha, U, V):
    """``(V - U)^2``: one entry of ``||g1||^2`` (MODEL.md 4, ``squared``)."""
    return (V - U) ** 2


_PI = {"complementarity": _pi_complementarity, "squared": _pi_squared}


# ------------------------------------------------------------------------ model
def gc_paused(fn):
    """``fn`` with Python's cyclic garbage collector paused for the call (Pyomo's
    ``PauseGC``, as Pyomo's own writers do). A model is millions of container objects that no
    cycle frees, and generation-2 collections over them were pauses of 0.3-0.7 s between two
    of the build's deadline checks (digits, widths 64-32-16-10, N = 1347: 60% of a 3 s build,
    and ``solve_ipopt(time_limit=1)`` ended 0.33-0.56 s late; session 50)."""

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        from pyomo.common.gc_manager import PauseGC

        with PauseGC():
            return fn(*args, **kwargs)

    return paused


@gc_paused
def build_pyomo_model(prob, init=None, *, deadline=None):
    """The lifted model (M) of ``prob`` as a Pyomo ``ConcreteModel`` (MODEL.md 4 and 7).

    Parameters
    ----------
    prob : LiftedProblem
    init : None, LiftedResult or mapping, optional
        Initial values: ``W`` (list of L arrays ``(n_l, n_{l-1})``) and optionally ``b`` (L arrays
        ``(n_l,)``), ``V`` (L-1 arrays ``(n_l, N)``; default the lift ``sigma(U_l)``); its
        ``M1``, ``M2`` are not used: the model is built without a ``dual`` suffix, whose sign
        convention depends on the solver interface (:func:`liftnet.solve_ipopt` with ``init``
        adds the suffixes and sets the multipliers in its interface's sign).
        ``t[l,g]`` starts at the group norms of ``W_l``. ``None`` leaves the variables at
        ``W = 0``, ``b = 0``, ``V = 0``, ``t = 0`` (a feasible point).
    deadline : float or None
        A ``time.monotonic()`` value (:func:`liftnet.solve_ipopt`'s ``time_limit``): past it
        the build stops with :class:`BuildTimeLimit`. It is looked at before each entry of
        the expressions ``U`` and constraints ``g1``, ``g2``, ``epi``, each term of ``loss``
        and ``coupling``, and between the other components, which are built whole (the
        variables ``V``: 0.07 s at N = 1000, widths 6-8-8-3, of a 1.5 s build; the parameter
        ``V0``, ``n_0 N`` entries, is the largest on wide inputs: 0.14-0.25 s on the digits,
        N = 1347, widths 64-32-16-10, of an 11-12 s build, 2-core AMD EPYC, 2026-12-07).

    Returns
    -------
    pyomo.environ.ConcreteModel
        Components: sets ``samples`` (1..N), ``inputs`` (1..n_0), ``outputs`` (1..n_L), ``layers``
        (1..L), ``hidden`` (1..L-1), ``W_index``, ``b_index`` (only when ``prob.bias``),
        ``V_index``, ``U_index``, ``t_index``, ``G`` (indexed set: the entries of group ``g`` of
        ``W_l``); parameters ``alpha``, ``beta``, ``lam``, ``V0[j,n]`` (``X^T``), ``Y[i,n]``
        (``Y^T``); variables ``W[l,i,j]``, ``b[l,i]`` (only when ``prob.bias``), ``V[l,i,n]``,
        ``t[l,g] >= 0``; expressions ``U[l,i,n]``, ``loss``, ``coupling``, ``regulariser``;
        constraints ``g1[l,i,n]``, ``g2[l,i,n]``, ``epi[l,g]``; objective ``F``. ``model.problem``
        is ``prob``.

    Examples
    --------
    The model at a network ``W`` and its lift ``V`` (the default for ``init`` without ``V``):
    one ``W[l,i,j]`` per weight, one ``V``, ``g1``, ``g2`` per hidden neuron and sample, one
    ``epi`` per (column) group, and its objective is the numpy model's ``F``:

    >>> import pyomo.environ as pyo
    >>> from liftnet import LiftedProblem, build_pyomo_model
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(20, (3, 4, 4, 2), alpha=0.1, noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4, 4), alpha=0.1, beta=1.0, lam=1e-2)
    >>> W, b = prob.initial_weights(seed=0)
    >>> m = build_pyomo_model(prob, init={"W": W})
    >>> len(m.W), len(m.V), len(m.g1), len(m.g2), len(m.epi)
    (36, 160, 160, 160, 11)
    >>> F = prob.F(W, b, prob.lift(W, b))
    >>> bool(abs(pyo.value(m.F) - F) <= 1e-12 * max(1.0, F))
    True
    """
    _require_pyomo()
    check_problem(prob)
    deadline = check_scalar(deadline, "deadline", allow_none=True)
    if init is not None:  # checked before the build, which is most of the time (11-12 s on
        # the digits), so that a bad init is refused at once, as by solve_ipopt
        from ..solvers.init import parse_init

        if not isinstance(init, Mapping):
            raise TypeError(
                "init must be None, a LiftedResult or a mapping with key 'W', got "
                f"{type(init).__name__}"
            )
        parse_init(prob, init, None)  # the solvers' checks and messages on init
    L, N, n = prob.L, prob.N, prob.widths
    _check_deadline(deadline, "the Pyomo model")
    m = pyo.ConcreteModel(name=f"lifted model (M): widths {n}, N={N}, {prob.coupling_name}")

    declare_network(m, prob, deadline=deadline)
    m.layers = pyo.RangeSet(1, L)
    m.hidden = pyo.RangeSet(1, L - 1)
    declare_group_epigraph(m, prob, deadline=deadline)
    # mutable: an expression keeps the symbol (an immutable Param is replaced by its value
    # when the expression is built), so that the printed model reads like MODEL.md 4
    m.alpha = pyo.Param(initialize=prob.alpha, mutable=True, doc="leaky-ReLU slope")
    m.beta = pyo.Param(initialize=prob.beta, mutable=True, doc="coupling weight")
    m.lam = pyo.Param(initialize=prob.lam, mutable=True, doc="group-norm weight lambda")

    # ------------------------------------------------------------ constraints
    m.g1 = pyo.Constraint(m.V_index, doc="g1_l = U_l - V_l <= 0")
    _fill(m, m.g1, lambda m_, l, i, k: m_.U[l, i, k] - m_.V[l, i, k] <= 0, deadline)
    m.g2 = pyo.Constraint(m.V_index, doc="g2_l = alpha U_l - V_l <= 0")
    _fill(m, m.g2, lambda m_, l, i, k: m_.alpha * m_.U[l, i, k] - m_.V[l, i, k] <= 0, deadline)

    # -------------------------------------------------------------- objective
    pi = _PI[prob.coupling_name]
    m.loss = pyo.Expression(
        expr=(1.0 / N)
        * pyo.quicksum(_terms(
            ((m.U[L, i, k] - m.Y[i, k]) ** 2 for i in range(1, n[L] + 1)
             for k in range(1, N + 1)), deadline, "loss")),
        doc="(1/N) ||U_L - Y^T||_F^2",
    )
    m.coupling = pyo.Expression(
        expr=(m.beta / N)
        * pyo.quicksum(_terms((pi(m.alpha, m.U[l, i, k], m.V[l, i, k])
                               for (l, i, k) in m.V_index), deadline, "coupling")),
        doc=f"(beta/N) sum_l pi_l, pi = {prob.coupling_name}",
    )
    m.regulariser = pyo.Expression(
        expr=m.lam * pyo.quicksum(m.t[l, g] for (l, g) in m.t_index),
        doc="lam sum_{l,g} t[l,g] (= lam R(W) at t = group norms)",
    )
    m.F = pyo.Objective(expr=m.loss + m.coupling + m.regulariser, sense=pyo.minimize)

    if init is not None:
        # the values themselves (checked above), which parse_init rounds to prob.dtype:
        # set_values writes them in float64 (a missing V: the float64 lift of the float64 W, b)
        set_values(m, init["W"], init.get("b") if prob.bias else None, init.get("V"))
    return m


# ------------------------------------------------------------- shared declarations
def declare_network(m, prob, *, deadline=None) -> None:
    """Declare on ``m`` what every Pyomo model of liftnet shares (MODEL.md 1 and 4).

    Sets ``samples``, ``inputs``, ``outputs``, ``W_index``, ``b_index`` (with bias), ``V_index``,
    ``U_index``; parameters ``V0[j,n]`` (``X^T``) and ``Y[i,n]`` (``Y^T``); variables
    ``W[l,i,j]``, ``b[l,i]`` (with bias), ``V[l,i,n]``; expression
    ``U[l,i,n] = sum_j W[l,i,j] V[l-1,j,n] + b[l,i]``. All indices 1-based. ``m.problem = prob``.
    ``deadline``: as in :func:`build_pyomo_model`.
    """
    L, N, n = prob.L, prob.N, prob.widths
    m.problem = prob  # plain attribute, not a component
    m.samples = pyo.RangeSet(1, N)
    m.inputs = pyo.RangeSet(1, n[0])
    m.outputs = pyo.RangeSet(1, n[L])
    m.W_index = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (l, i, j)
            for l in range(1, L + 1)
            for i in range(1, n[l] + 1)
            for j in range(1, n[l - 1] + 1)
        ],
    )
    _check_deadline(deadline, "the index set V_index")
    m.V_index = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (l, i, k) for l in range(1, L) for i in range(1, n[l] + 1) for k in range(1, N + 1)
        ],
    )
    _check_deadline(deadline, "the index set U_index")
    m.U_index = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (l, i, k) for l in range(1, L + 1) for i in range(1, n[l] + 1) for k in range(1, N + 1)
        ],
    )
    _check_deadline(deadline, "the parameter V0")
    V0, YT = prob.V0, prob.YT
    m.V0 = pyo.Param(
        m.inputs, m.samples, initialize=lambda m_, j, k: float(V0[j - 1, k - 1]), doc="data X^T"
    )
    _check_deadline(deadline, "the parameter Y")
    m.Y = pyo.Param(
        m.outputs, m.samples, initialize=lambda m_, i, k: float(YT[i - 1, k - 1]),
        doc="targets Y^T",
    )
    _check_deadline(deadline, "the variables W")
    m.W = pyo.Var(m.W_index, initialize=0.0, doc="weights W_l")
    if prob.bias:
        _check_deadline(deadline, "the biases b")
        m.b_index = pyo.Set(
            dimen=2,
            ordered=True,
            initialize=[(l, i) for l in range(1, L + 1) for i in range(1, n[l] + 1)],
        )
        m.b = pyo.Var(m.b_index, initialize=0.0, doc="biases b_l")
    _check_deadline(deadline, "the variables V")
    m.V = pyo.Var(m.V_index, initialize=0.0, doc="auxiliary variables V_l")

    def V_prev(m_, l, j, k):
        return m_.V0[j, k] if l == 1 else m_.V[l - 1, j, k]

    def U_rule(m_, l, i, k):
        s = pyo.quicksum(m_.W[l, i, j] * V_prev(m_, l, j, k) for j in range(1, n[l - 1] + 1))
        return s + m_.b[l, i] if prob.bias else s

    m.U = pyo.Expression(m.U_index, doc="U_l = W_l V_{l-1} + b_l 1^T")
    _fill(m, m.U, U_rule, deadline)


def declare_group_epigraph(m, prob, *, deadline=None) -> None:
    """Epigraph of the group norms (MODEL.md 7): set ``t_index``, indexed set ``G[l,g]`` (the
    entries of group ``g`` of ``W_l``), variables ``t[l,g] >= 0`` and constraints
    ``epi[l,g]: ||W_l[g]||^2 <= t[l,g]^2``. Needs :func:`declare_network` first.
    ``deadline``: as in :func:`build_pyomo_model`."""
    _check_deadline(deadline, "the group epigraph")
    members = {l: group_members(prob, l) for l in range(1, prob.L + 1)}
    m.t_index = pyo.Set(
        dimen=2,
        ordered=True,
        initialize=[(l, g) for l in members for g in range(1, len(members[l]) + 1)],
    )
    m.G = pyo.Set(
        m.t_index,
        dimen=2,
        ordered=True,
        initialize=lambda m_, l, g: members[l][g - 1],
        doc=f"groups of W_l ({prob.groups}): the entries (i, j) of group g",
    )
    m.t = pyo.Var(
        m.t_index,
        within=pyo.NonNegativeReals,
        initialize=0.0,
        doc="epigraph of the group norms ||W_l[g]||",
    )
    m.epi = pyo.Constraint(m.t_index, doc="||W_l[g]||^2 <= t[l,g]^2")
    _fill(m, m.epi, lambda m_, l, g: (
        pyo.quicksum(m_.W[l, i, j] ** 2 for i, j in m_.G[l, g]) <= m_.t[l, g] ** 2), deadline)


# ---------------------------------------------------------------- values in/out
def set_values(m, W, b=None, V=None) -> None:
    """Write ``(W, b, V)`` into the model's variables and ``t[l,g] = ||W_l[g]||``.

    Parameters
    ----------
    m : ConcreteModel from :func:`build_pyomo_model` (or
        :func:`liftnet.formulation.mpcc.build_mpcc_model`)
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
        Without biases it must be None; with biases ``None`` means zero biases (as a start
        without ``b`` in :func:`build_pyomo_model`'s ``init``).
    V : list of L-1 arrays ``(n_l, N)`` or None (the lift ``sigma(U_l)`` of ``W`` and ``b``)

    All are checked before anything is written (shapes, finite entries; a ``ValueError``
    naming the argument, the model left as it was); the values enter the model in float64,
    Pyomo's own precision, whatever ``prob.dtype``. Multipliers are the solver driver's to set
    (``liftnet.solvers.ipopt``: the ``dual`` suffix's sign depends on the interface).
    """
    prob = getattr(m, "problem", None)
    if not hasattr(m, "W") or prob is None:
        raise TypeError(f"m must be a Pyomo model of build_pyomo_model, got {type(m).__name__}")
    # check_point's checks, in float64 (check_point casts to prob.dtype; IPOPT's points come
    # back in float64 through get_values and the polish restarts from them)
    W = check_matrix_list(W, "W", prob.W_shapes)
    if prob.bias and b is None:
        b = [np.zeros(s) for s in prob.b_shapes]
    check_bias_given(prob, b)
    if b is not None:
        b = check_matrix_list(b, "b", prob.b_shapes)
    if V is None:
        from ..solvers.init import finite_lift

        V = finite_lift(prob, W, b, hint=" or give V")
    else:
        V = check_matrix_list(V, "V", prob.V_shapes)
    for (l, i, j), var in m.W.items():
        var.set_value(float(W[l - 1][i - 1, j - 1]), skip_validation=True)
    if prob.bias:
        for (l, i), var in m.b.items():
            var.set_value(0.0 if b is None else float(b[l - 1][i - 1]), skip_validation=True)
    for (l, i, k), var in m.V.items():
        var.set_value(float(V[l - 1][i - 1, k - 1]), skip_validation=True)
    norms = {
        l: prob.penalty.group_norms(np.asarray(W[l - 1])).ravel() for l in range(1, prob.L + 1)
    }
    for (l, g), var in (m.t.items() if hasattr(m, "t") else ()):
        var.set_value(float(norms[l][g - 1]), skip_validation=True)


def get_values(m):
    """The model's current ``(W, b, V)`` as numpy lists (``b`` is None without bias)."""
    prob = m.problem
    W = [np.zeros(s) for s in prob.W_shapes]
    for (l, i, j), var in m.W.items():
        W[l - 1][i - 1, j - 1] = var.value
    b = None
    if prob.bias:
        b = [np.zeros(s) for s in prob.b_shapes]
        for (l, i), var in m.b.items():
            b[l - 1][i - 1] = var.value
    V = [np.zeros(s) for s in prob.V_shapes]
    for (l, i, k), var in m.V.items():
        V[l - 1][i - 1, k - 1] = var.value
    return W, b, V

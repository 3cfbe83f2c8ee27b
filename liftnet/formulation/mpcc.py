"""The exact lifting of (P) as an MPCC, declared with ``pyomo.mpec`` (MODEL.md sections 3-4).

Three models of the same network, for teaching:

* (P)  ``min_W Phi(W) = (1/N)||U_L - Y^T||^2 + lam R(W)``, with ``V_l = sigma(U_l)`` nested;
* the MPCC (this module): ``V_l`` are variables again, but the leaky ReLU is imposed exactly,

      min  (1/N) sum_{i,n} (U[L,i,n] - Y[i,n])^2 + lam sum_{l,g} t[l,g]
      s.t. 0 <= V[l,i,n] - U[l,i,n]  perp  V[l,i,n] - alpha U[l,i,n] >= 0   (l = 1..L-1)
           sum_{(i,j) in G[l,g]} W[l,i,j]^2 <= t[l,g]^2,  t[l,g] >= 0,

  whose feasible ``V`` is exactly ``sigma(U)``: it is (P) rewritten, with no coupling term;
* (M)  the same constraints *without* the complementarity, the product moved into the
  objective as the penalty ``(beta/N) pi_l`` (``liftnet.build_pyomo_model``).

MPCCs violate MFCQ at every feasible point (the two constraints' gradients and the
complementarity's are linearly dependent at the kink), so NLP solvers are applied to the
relaxation ``(V - U)(V - alpha U) <= eps`` with ``eps -> 0`` (:func:`solve_mpcc_relaxed`); (M)
instead keeps MFCQ everywhere (MODEL.md 4, fact 3).

Indices are 1-based as in the maths (``W[l,i,j]``, ``b[l,i]``, ``V[l,i,n]``, ``t[l,g]``); group
``g`` of ``W_l`` is the ``g``-th entry of ``prob.penalty.group_norms(W_l).ravel()``.
"""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.mpec import Complementarity, complements

from .._validation import (
    check_decreasing,
    check_ipopt_iterations,
    check_point,
    check_problem,
    check_scalar,
    check_seed,
)
from ..solvers.result import LiftedResult
from .pyomo_model import declare_group_epigraph, declare_network, get_values, set_values

DEFAULT_EPS = tuple(10.0**-k for k in range(1, 9))


def build_mpcc_model(prob, W=None, b=None, V=None):
    """The MPCC lifting of (P) as a Pyomo ``ConcreteModel`` (module docstring).

    Parameters
    ----------
    prob : LiftedProblem
    W, b, V : lists of arrays (shapes of ``prob.W_shapes``, ``b_shapes``, ``V_shapes``), optional
        Initial values, finite; ``V`` defaults to the lift of ``W``, ``t`` starts at the group
        norms; ``b`` is required with ``W`` when ``prob.bias`` (and must be None otherwise).
        Without ``W`` everything starts at zero (then ``b`` and ``V`` must be None too).

    Returns
    -------
    pyomo.environ.ConcreteModel
        Variables ``W[l,i,j]``, ``b[l,i]`` (with bias), ``V[l,i,n]``, ``t[l,g] >= 0``
        (``lam > 0`` only); expression ``U[l,i,n]``; ``Complementarity`` ``cc[l,i,n]`` of
        ``V - U >= 0`` and ``V - alpha U >= 0``; constraints ``epi[l,g]``; objective ``Phi``.
    """
    check_problem(prob)
    if W is not None:
        W, b, V = check_point(prob, W, b, V)
    elif b is not None or V is not None:
        raise ValueError("W is required when b or V is given (without W everything starts "
                         "at zero)")
    L, N, n, a = prob.L, prob.N, prob.widths, prob.alpha
    m = pyo.ConcreteModel(name=f"MPCC lifting of (P): widths {n}, N={N}")
    declare_network(m, prob)
    m.cc = Complementarity(
        m.V_index,
        rule=lambda m_, l, i, k: complements(
            m_.V[l, i, k] - m_.U[l, i, k] >= 0, m_.V[l, i, k] - a * m_.U[l, i, k] >= 0
        ),
        doc="0 <= V - U  perp  V - alpha U >= 0  (V = sigma(U))",
    )
    loss = (
        pyo.quicksum(
            (m.U[L, i, k] - m.Y[i, k]) ** 2 for i in range(1, n[L] + 1) for k in range(1, N + 1)
        )
        / N
    )
    reg = 0.0
    if prob.lam > 0:
        declare_group_epigraph(m, prob)
        reg = prob.lam * pyo.quicksum(m.t[idx] for idx in m.t_index)
    m.Phi = pyo.Objective(expr=loss + reg, sense=pyo.minimize)
    if W is not None:
        set_values(m, W, b, V)
    return m


def _sync_complementarity_vars(m):
    """Set the auxiliary variables of ``mpec.simple_nonlinear`` to their defining values."""
    for blk in m.cc.values():
        if hasattr(blk, "v") and hasattr(blk, "ve"):  # ve: v - expression == 0
            blk.v.set_value(0.0)
            blk.v.set_value(max(0.0, -pyo.value(blk.ve.body)))


@contextlib.contextmanager
def _quiet_pyomo():
    """Silence Pyomo's warnings while IPOPT's point (within its bound relaxation) is loaded."""
    log = logging.getLogger("pyomo.core")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def solve_mpcc_relaxed(
    prob, eps_schedule=DEFAULT_EPS, init=None, *, seed=0, tol=1e-9, max_iter=3000
):
    """Solve the MPCC by the epsilon-relaxation loop (module docstring), IPOPT via cyipopt.

    Pyomo's ``mpec.simple_nonlinear`` transformation replaces each complementarity by
    ``V - alpha U >= 0``, ``v = V - U >= 0`` and ``v (V - alpha U) <= eps`` (``eps`` is the
    mutable ``mpec_bound``). Stage ``k`` sets ``eps = eps_schedule[k]`` and solves from the previous
    stage's point (warm start).

    Parameters
    ----------
    prob : LiftedProblem
    eps_schedule : sequence of float > 0, decreasing
        Relaxation levels ``eps`` (default ``1e-1, 1e-2, ..., 1e-8``).
    init : None, LiftedResult or mapping with ``W`` (optionally ``b``, ``V``)
        Starting point; ``None``: ``prob.initial_weights(seed)`` and its lift.
    seed : int or None
        Seed of the random start (``init=None``).
    tol : float > 0
        IPOPT's ``tol``.
    max_iter : int >= 1
        IPOPT's iteration limit per stage.

    Returns
    -------
    LiftedResult
        ``solver="mpcc_relaxed"``; ``W, b, V`` of the last successful stage; ``stages``: one dict
        per stage with ``eps, W, b, V, complementarity_gap, objective`` (the MPCC objective,
        ``loss + lam sum t``), ``Phi`` (``prob.Phi(W, b)``), ``ipopt_status``, ``time``;
        ``complementarity_gaps`` (array, per stage); ``status`` ``converged`` when every stage
        ended optimal (or at IPOPT's "acceptable" level, ``ipopt_status="feasible"``), else
        ``failed`` with IPOPT's message (the earlier stages are kept); ``objective``
        (``prob.Phi`` at the final ``W, b``: the MPCC's objective on its feasible set);
        ``M1 = M2 = kkt = None`` (not a KKT solve of (M)).
    """
    from ..solvers.init import parse_init
    from ..verification.theory import complementarity_gap

    check_problem(prob)
    eps_schedule = check_decreasing(eps_schedule, "eps_schedule", low_inclusive=False,
                                    strict=False).tolist()
    seed = check_seed(seed, allow_none=True)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    max_iter = check_ipopt_iterations(max_iter)
    W, b, V, _, _ = parse_init(prob, init, seed)
    t0 = time.monotonic()
    m = build_mpcc_model(prob, W, b, V)
    pyo.TransformationFactory("mpec.simple_nonlinear").apply_to(m, mpec_bound=eps_schedule[0])
    _sync_complementarity_vars(m)
    solver = pyo.SolverFactory("cyipopt")
    stages, status, message = [], "converged", "every relaxation stage solved to optimality"
    if not solver.available():
        status, message = "failed", "cyipopt (IPOPT through PyNumero) is not available"
        eps_schedule = []
    opts = {"tol": tol, "max_iter": max_iter, "print_level": 0, "sb": "yes"}
    for eps in eps_schedule:
        m.mpec_bound.set_value(eps)
        ts = time.monotonic()
        try:
            with _quiet_pyomo():
                res = solver.solve(m, tee=False, options=opts)
            term = str(res.solver.termination_condition)
            msg = res.solver.message  # cyipopt's is bytes
            msg = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
        except Exception as exc:  # IPOPT errors come back as a status, not an exception
            term, msg = "error", f"{type(exc).__name__}: {exc}"
        if term not in ("optimal", "locallyOptimal", "feasible"):  # feasible: "acceptable"
            status, message = "failed", f"IPOPT at eps={eps:g}: {term} ({msg})"
            break
        Wk, bk, Vk = get_values(m)
        stages.append(
            {
                "eps": eps,
                "W": Wk,
                "b": bk,
                "V": Vk,
                "complementarity_gap": complementarity_gap(prob, Wk, bk, Vk),
                "objective": float(pyo.value(m.Phi)),
                "Phi": prob.Phi(Wk, bk),
                "ipopt_status": term,
                "time": time.monotonic() - ts,
            }
        )
    last = stages[-1] if stages else {"W": W, "b": b, "V": V}
    return LiftedResult(
        solver="mpcc_relaxed",
        W=last["W"],
        b=last["b"],
        V=last["V"],
        M1=None,
        M2=None,
        status=status,
        message=message,
        success=status == "converged",
        kkt=None,
        objective=prob.Phi(last["W"], last["b"]),
        nit=len(stages),
        history=stages,
        stages=stages,
        complementarity_gaps=np.array([s["complementarity_gap"] for s in stages]),
        time=time.monotonic() - t0,
        groups=prob.groups,
    )

"""Starting points and warm starts shared by every solver."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import check_matrix_list


def parse_init(prob, init=None, seed=None):
    """Starting point ``(W, b, V, M1, M2)`` of a solver, as fresh arrays.

    Parameters
    ----------
    prob : LiftedProblem
    init : None, LiftedResult or mapping
        ``None``: random ``W`` from ``prob.initial_weights(seed)``, ``b = 0``. A result object or
        a mapping with key ``W`` and optionally ``b``, ``V``, ``M1``, ``M2``: missing ``V`` is the
        lift ``sigma(U_l)`` (MODEL.md 4, fact 1), missing multipliers are zero.
    seed : int or None
        Seed of the random weights when ``init`` is None.

    Returns
    -------
    W : list of L arrays, b : list of L arrays or None, V : list of L-1 arrays,
    M1, M2 : lists of L-1 arrays
    """
    dt = prob.dtype
    if init is None:
        W, b = prob.initial_weights(seed)
        M1, M2 = prob.zero_multipliers()
        return W, b, prob.lift(W, b), M1, M2
    if not isinstance(init, Mapping):
        raise TypeError(
            "init must be None, a LiftedResult or a mapping with key 'W' (and optionally "
            f"'b', 'V', 'M1', 'M2'), got {type(init).__name__}"
        )
    if "W" not in init or init["W"] is None:
        raise ValueError("init must contain the weights 'W'")
    W = check_matrix_list(init["W"], "init['W']", prob.W_shapes, dt)
    if prob.bias:
        b_in = init.get("b")
        b = (
            [np.zeros(s, dtype=dt) for s in prob.b_shapes]
            if b_in is None
            else check_matrix_list(b_in, "init['b']", prob.b_shapes, dt)
        )
    else:
        b = None
    V_in = init.get("V")
    V = prob.lift(W, b) if V_in is None else check_matrix_list(V_in, "init['V']", prob.V_shapes, dt)
    M1, M2 = prob.zero_multipliers()
    if init.get("M1") is not None:
        M1 = check_matrix_list(init["M1"], "init['M1']", prob.V_shapes, dt)
    if init.get("M2") is not None:
        M2 = check_matrix_list(init["M2"], "init['M2']", prob.V_shapes, dt)
    for name, M in (("M1", M1), ("M2", M2)):
        if any(np.any(m < 0) for m in M):
            raise ValueError(f"init['{name}'] must be nonnegative (MODEL.md sign convention)")
    # check_matrix_list may return views of the caller's arrays: copy everything we will mutate.
    return ([w.copy() for w in W], None if b is None else [x.copy() for x in b],
            [v.copy() for v in V], [m.copy() for m in M1], [m.copy() for m in M2])

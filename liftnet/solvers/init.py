"""Starting points and warm starts shared by every solver."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from .._validation import check_matrix_list, check_problem, check_seed
from ..io import ARRAY_KEYS, FILE_KEY, STATE_KEYS


def parse_init(prob, init=None, seed=None, name="init"):
    """Starting point ``(W, b, V, M1, M2)`` of a solver, as fresh arrays.

    Parameters
    ----------
    prob : LiftedProblem
    init : None, LiftedResult or mapping
        ``None``: random ``W`` from ``prob.initial_weights(seed)``, ``b = 0``. A result object or
        a mapping with key ``W`` and optionally ``b``, ``V``, ``M1``, ``M2``: missing ``V`` is the
        lift ``sigma(U_l)`` (MODEL.md 4, fact 1), missing multipliers are zero (``M1`` and
        ``M2`` are given together or not at all).
    seed : int or None
        Seed of the random weights when ``init`` is None.
    name : str
        The caller's name of ``init``, for the error messages.

    Returns
    -------
    W : list of L arrays, b : list of L arrays or None, V : list of L-1 arrays,
    M1, M2 : lists of L-1 arrays
    """
    dt = check_problem(prob).dtype
    if init is None:
        W, b = prob.initial_weights(seed)
        M1, M2 = prob.zero_multipliers()
        return W, b, prob.lift(W, b), M1, M2
    if not isinstance(init, Mapping):
        raise TypeError(
            f"{name} must be None, a LiftedResult or a mapping with key 'W' (and optionally "
            f"'b', 'V', 'M1', 'M2'), got {type(init).__name__}"
        )
    _check_init_keys(init, name)
    if "W" not in init or init["W"] is None:
        raise ValueError(f"{name} must contain the weights 'W'")
    W = check_matrix_list(init["W"], f"{name}['W']", prob.W_shapes, dt)
    if prob.bias:
        b_in = init.get("b")
        b = (
            [np.zeros(s, dtype=dt) for s in prob.b_shapes]
            if b_in is None
            else check_matrix_list(b_in, f"{name}['b']", prob.b_shapes, dt)
        )
    elif init.get("b") is not None:
        raise ValueError(f"{name}['b'] must be None: the problem has no biases (bias=False)")
    else:
        b = None
    V_in = init.get("V")
    if V_in is None:
        V = finite_lift(prob, W, b, f"{name}['W']")
    else:
        V = check_matrix_list(V_in, f"{name}['V']", prob.V_shapes, dt)
    M1, M2 = prob.zero_multipliers()
    given = [key for key in ("M1", "M2") if init.get(key) is not None]
    if len(given) == 1:  # (solve_alm would estimate both and drop the one given)
        raise ValueError(f"{name}['M1'] and {name}['M2'] must be given together (or neither), "
                         f"got {given[0]} only")
    if init.get("M1") is not None:
        M1 = check_matrix_list(init["M1"], f"{name}['M1']", prob.V_shapes, dt)
    if init.get("M2") is not None:
        M2 = check_matrix_list(init["M2"], f"{name}['M2']", prob.V_shapes, dt)
    for key, M in (("M1", M1), ("M2", M2)):
        if any(np.any(m < 0) for m in M):
            raise ValueError(f"{name}['{key}'] must be nonnegative (MODEL.md sign convention)")
    # check_matrix_list may return views of the caller's arrays: copy everything we will mutate.
    return ([w.copy() for w in W], None if b is None else [x.copy() for x in b],
            [v.copy() for v in V], [m.copy() for m in M1], [m.copy() for m in M2])


def _check_init_keys(init, name):
    """Refuse the keys of ``init`` that look like a misspelt key a solver reads: another
    case (``'m1'``, ``'Rho'``), the layout of :func:`liftnet.io.save_result`'s file
    (``'W_1'``), or a near miss (:func:`_meant_key`: ``'Vs'``, ``'M_1'``, ``'w0'``). Such a key
    was ignored before, and the solver started from the lift or from zero multipliers instead
    of the arrays given. Other keys (a result's ``status``, ``steps``, a user's own ``mu`` or
    ``nb``, ...) are left alone: a result or mapping may hold them."""
    for key in init:
        if not isinstance(key, str) or key in ARRAY_KEYS or key in STATE_KEYS:
            continue
        known = next((k for k in (*ARRAY_KEYS, *STATE_KEYS) if key.lower() == k.lower()), None)
        if known is not None:
            raise ValueError(f"{name} has the key {key!r}: its key is {known!r} (case matters)")
        if FILE_KEY.match(key):
            raise ValueError(f"{name} has the key {key!r}, the layout of a result file: read the "
                             f"file with liftnet.io.load_result(path) and pass what it returns")
        meant = _meant_key(key)
        if meant:
            raise ValueError(f"{name} has the key {key!r}, which no solver reads: did you mean "
                             f"{meant}? (keys read: {', '.join(ARRAY_KEYS)})")


def _meant_key(key: str) -> str:
    """The array key(s) of :data:`liftnet.io.ARRAY_KEYS` that ``key`` misspells, quoted
    (``"'V'"``, ``"'M1' or 'M2'"``), or ``""``: a key read in any case without ``_ - . `` and
    spaces is one of them (``'M_1'``, ``'m-2'``), or one of them with a plural ``s``
    (``'Vs'``, ``'M1s'``), or ``W``, ``b``, ``V``, ``M`` followed by digits only (``'w0'``,
    ``'V1'``, ``'M3'``; ``'M'`` alone too). A structural rule, not a string distance: with
    difflib's ratio the user's own short keys (``'mu'``, ``'nb'``) were refused as near misses
    of ``'M2'`` and ``'b'`` (a review, 2026-12-07)."""
    bare = re.sub(r"[\s_.-]", "", key).lower()
    if bare.endswith("s") and len(bare) > 1:
        bare = bare[:-1]
    lower = {k.lower(): k for k in ARRAY_KEYS}
    if bare in lower:
        return repr(lower[bare])
    head, digits = bare[:1], bare[1:]
    if digits == "" or digits.isdigit():
        if head in ("w", "b", "v"):
            return repr(lower[head])
        if head == "m":
            return "'M1' or 'M2'"
    return ""


def finite_lift(prob, W, b, name="W", hint=""):
    """The lift ``V = sigma(U)`` of ``W, b`` (MODEL.md 4, fact 1), refused with a
    ``ValueError`` naming ``name`` when the forward pass, output layer included, is not finite
    (weights too large for the dtype); ``hint`` ends the message's advice."""
    with np.errstate(over="ignore", invalid="ignore"):
        U, V = prob.forward(W, b)  # (U[-1]: the output layer's U_L, the pass's last product)
    if not all(np.all(np.isfinite(v)) for v in (*V, U[-1])):
        raise ValueError(f"{name} overflows: the forward pass of these weights (the lift "
                         f"V = sigma(U)) is not finite; scale the weights down{hint}")
    return V


def reseed_dead_units(prob, init, seed=0):
    """A warm start from ``init`` in which the hidden units it does not use start afresh.

    A hidden unit that :func:`liftnet.pruning.unit_masks` drops (zero outgoing column, or zero
    incoming row and bias) is an exact KKT point of (M) for *every* ``lam`` once its ``V`` row
    is zero too (``liftnet.solvers.alm._screen_dead_units``): the partials of all its variables
    vanish, so a warm start along a decreasing ``lam`` path keeps the small network of its first
    point. Here each dead unit ``j`` of hidden layer ``l`` gets the whole incoming row
    ``W_l[j, :]`` and bias of ``prob.initial_weights(seed)``: every column, so it reads the
    inputs an earlier solve removed (zero column groups of ``W_1`` open in its row) and the
    reseeded units of layer ``l - 1``. Only the live units' rows keep zeros in the dead units'
    columns, and ``W_L`` has zero columns at the dead units of layer ``L - 1``, so the network's
    function is that of ``init``. ``V_l[j] = sigma(U_l[j])``, layer by layer, and the multipliers
    of those rows are those of :func:`liftnet.verification.kkt.initial_multipliers` at the new
    point (all of them when ``init`` has none). An outgoing group of the last hidden layer then
    opens in the next solve exactly when its subgradient test fails,
    ``||D_L V_{L-1}[j]^T|| > lam`` (MODEL.md 5).

    Reading every column is what lets a path leave a network that lost all its units at its
    first point (with the kept columns only, until 2026-12-03, the zero network came back at
    every ``lam``; measured in docs/maths.md 6.2, "Choice: reseeded rows read every column").

    Parameters
    ----------
    prob : LiftedProblem
    init : LiftedResult or mapping
        As for :func:`parse_init` (``W`` required).
    seed : int
        Seed of the fresh incoming weights.

    Returns
    -------
    dict
        ``W, b, V, M1, M2`` for ``init=``, and ``reseeded``: the number of units per hidden
        layer that were restarted. Not ``init``'s ``rho`` and ``eps``, even when no unit is
        dead: a solve from this start begins at its own ``rho0`` and ``eps0``.

    Examples
    --------
    A network whose hidden unit 0 has a zero incoming row (no bias): the unit is dead. The
    start restarts it with a fresh row of ``W_1`` and zeros its outgoing column of ``W_2``,
    so the network computes what it did:

    >>> import numpy as np
    >>> from liftnet import LiftedProblem, reseed_dead_units
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(50, (3, 4, 2), seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4,), lam=1e-2)
    >>> W, b = prob.initial_weights(seed=1)
    >>> W[0][0, :] = 0.0
    >>> start = reseed_dead_units(prob, {"W": W}, seed=2)
    >>> start["reseeded"]
    [1]
    >>> bool(np.all(start["W"][0][0] != 0)), bool(np.all(start["W"][1][:, 0] == 0))
    (True, True)
    >>> bool(np.allclose(prob.predict(start["W"], None, X), prob.predict(W, None, X)))
    True

    ``start`` (without ``reseeded``) is a warm start of :func:`liftnet.solve_alm`, as
    :func:`liftnet.solve_alm_path` uses it between two values of ``lam``:

    >>> from liftnet import solve_alm
    >>> start.pop("reseeded")
    [1]
    >>> res = solve_alm(prob, init=start)
    >>> [w.shape for w in res.W]
    [(4, 3), (2, 4)]
    """
    from ..pruning import unit_masks
    from ..verification.kkt import initial_multipliers

    if not isinstance(init, Mapping):  # (parse_init's message would offer None, refused here)
        raise TypeError("init must be a LiftedResult or a mapping with key 'W', got "
                        f"{type(init).__name__}")
    seed = check_seed(seed, allow_none=True)
    W, b, V, M1, M2 = parse_init(prob, init)
    masks = unit_masks(W, b)
    W0, b0 = prob.initial_weights(seed)
    dead = [~masks[l] for l in range(1, prob.L)]  # hidden layers 1..L-1
    for l, d in enumerate(dead):  # hidden layer l + 1: W_{l+1} = W[l] in, W[l + 1] out
        W[l + 1][:, d] = 0.0  # the next layer's reseeded rows are filled in the next pass
        W[l][d, :] = W0[l][d, :]
        if b is not None:
            b[l][d] = b0[l][d]
        # the rows of V_{l-1} the reseeded rows read are final: the lift U -> sigma(U) of them
        U = prob.affine(W[l][d, :], None if b is None else b[l][d],
                        prob.V0 if l == 0 else V[l - 1])
        V[l][d, :] = prob.sigma(U)
    M1n, M2n = initial_multipliers(prob, W, b, V)
    if init.get("M1") is None or init.get("M2") is None:
        M1, M2 = M1n, M2n
    else:
        for l, d in enumerate(dead):
            M1[l][d, :], M2[l][d, :] = M1n[l][d, :], M2n[l][d, :]
    return {"W": W, "b": b, "V": V, "M1": M1, "M2": M2,
            "reseeded": [int(d.sum()) for d in dead]}


def check_start_Phi(prob, phi) -> float:
    """``phi``, the objective ``Phi`` of the start point, refused with a ``ValueError`` naming
    ``init['W']`` (and ``init['b']`` for a problem with biases) when it is not finite.

    ``parse_init`` already refuses a start whose forward pass overflows; the data fit (the
    squared residuals) or the penalty can still overflow beyond it (``W = 1e80`` in float64:
    finite lift, ``Phi = inf``). Nothing would diverge from such a start (it is infinite
    already), so it is refused, as ``solve_alm`` refuses a start whose multipliers overflow,
    instead of being reported as ``diverged`` or ``failed`` (the baselines, :func:`.solve_ipopt`:
    IPOPT stopped at "Invalid_Number_Detected"). The callers compute ``phi`` with
    numpy's overflow warnings off (``np.errstate``): this error is the report of it.
    """
    if not np.isfinite(phi):
        # (with biases either can be the cause: b = 1e200 beside the default W was named W)
        what, them = ("init['W'] or init['b']", "the weights or biases") if prob.bias \
            else ("init['W']", "the weights")
        raise ValueError(f"{what} is too large: the objective Phi of the start is {phi} "
                         f"(the data fit or the penalty overflows {np.dtype(prob.dtype)}); "
                         f"scale {them} down")
    return phi

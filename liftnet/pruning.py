"""Remove the neurons and input features that a sparse network provably does not use.

After training with the group regulariser (MODEL.md section 2) many groups are exact zeros.
A neuron ``j`` of layer ``l`` (``1 <= l <= L-1``) can be deleted without changing the network
``f`` when

* its outgoing column ``W_{l+1}[:, j]`` is zero on the neurons of layer ``l+1`` that are kept
  (its value is never used; column groups produce these), or
* its incoming row ``W_l[j, :]`` is zero on the kept neurons of layer ``l-1`` and its bias is
  zero (it outputs ``sigma(0) = 0``; row groups produce these).

An input feature ``j`` (``l = 0``) is deleted by the first rule. Deleting one neuron can make
others deletable (a column of ``W_{l-1}`` may be zero only on kept rows), so the rules are applied
until nothing changes. Deleting neuron ``j`` of layer ``l`` removes row ``j`` of ``W_l`` and
``b_l`` and column ``j`` of ``W_{l+1}``.

With biases and the slope ``alpha`` given (:func:`prune_weights`'s ``alpha``), a third rule:
a neuron whose incoming row is zero on the kept neurons but whose bias is not outputs the
constant ``sigma(b_l[j])``; it is folded into the next layer's bias,
``b_{l+1} <- b_{l+1} + W_{l+1}[:, j] sigma(b_l[j])``, and deleted (row groups with biases
produce these). The network's function is unchanged; its outputs change by rounding only.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_finite_array, check_scalar
from .formulation.problem import leaky_relu

__all__ = ["prune_weights", "unit_masks"]


def _check_network(W, b):
    """``W``: a non-empty list of finite 2-D arrays with chained shapes (``W[l]`` is
    ``n_{l+1} x n_l``); ``b``: None or a list of finite arrays ``(n_{l+1},)``. Arrays keep
    their (real) dtype."""
    if not isinstance(W, (list, tuple)):
        raise TypeError(f"W must be a non-empty list of 2-D arrays, got {type(W).__name__}")
    if len(W) == 0:
        raise ValueError("W must be a non-empty list of 2-D arrays, got an empty list")
    out_W = []
    for l, Wl in enumerate(W):
        A = check_finite_array(Wl, f"W[{l}]")
        if A.ndim != 2 or A.size == 0:
            raise ValueError(f"W[{l}] must be 2-D and non-empty, got shape {A.shape}")
        if l > 0 and A.shape[1] != out_W[l - 1].shape[0]:
            raise ValueError(
                f"W[{l}] must have {out_W[l - 1].shape[0]} columns (the rows of W[{l - 1}]), "
                f"got shape {A.shape}"
            )
        out_W.append(A)
    if b is None:
        return out_W, None
    if not isinstance(b, (list, tuple)):
        raise TypeError(f"b must be None or a list of {len(W)} arrays, got {type(b).__name__}")
    if len(b) != len(W):
        raise ValueError(f"b must hold {len(W)} arrays (one per W[l]), got {len(b)}")
    out_b = []
    for l, bl in enumerate(b):
        A = check_finite_array(bl, f"b[{l}]")
        if A.shape != (out_W[l].shape[0],):
            raise ValueError(f"b[{l}] must have shape ({out_W[l].shape[0]},), got {A.shape}")
        out_b.append(A)
    return out_W, out_b


def prune_weights(W, b=None, *, alpha=None):
    """The smallest network with the same function that deletes only unused units (and, given
    ``alpha``, folds constant units into the next layer's bias).

    Parameters
    ----------
    W : list of L arrays
        ``W[l-1]`` is ``W_l`` of shape ``(n_l, n_{l-1})``, finite.
    b : list of L arrays ``(n_l,)`` or None
    alpha : float in (0, 1) or None
        The leaky-ReLU slope. Given (with ``b``), hidden neurons with a zero incoming row and a
        nonzero bias are folded into the next layer's bias and deleted (module docstring);
        ``None``: they are kept (their output ``sigma(b_l[j])`` needs the slope).

    Returns
    -------
    W_new : list of L arrays
        ``W_new[l-1]`` of shape ``(m_l, m_{l-1})`` with ``m_0 <= n_0``, ``m_l <= n_l``,
        ``m_L = n_L``; every ``m_l >= 1`` (a layer whose units all go is kept as one unit with
        zero weights and bias, which is exact: its units passed nothing on).
    b_new : list of L arrays ``(m_l,)`` or None
    keep : list of L arrays of int
        ``keep[0]``: the input features kept (indices into ``0..n_0-1``); ``keep[l]``: the
        neurons of hidden layer ``l`` kept, ``l = 1..L-1``.

    Examples
    --------
    Weights with two zero column groups: input feature 2 and hidden neuron 1 feed nothing.

    >>> import numpy as np
    >>> from liftnet import LiftedProblem
    >>> from liftnet.pruning import prune_weights
    >>> rng = np.random.default_rng(0)
    >>> W = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    >>> W[0][:, 2] = 0.0
    >>> W[1][:, 1] = 0.0
    >>> W_new, b_new, keep = prune_weights(W)
    >>> [Wl.shape for Wl in W_new], [k.tolist() for k in keep], b_new
    ([(3, 2), (2, 3)], [[0, 1], [0, 2, 3]], None)

    The pruned network computes the same function (on the kept input features):

    >>> X = rng.standard_normal((20, 3))
    >>> big = LiftedProblem(X, np.zeros((20, 2)), hidden=(4,))
    >>> small = LiftedProblem(X[:, keep[0]], np.zeros((20, 2)), hidden=(len(keep[1]),))
    >>> bool(np.allclose(big.predict(W, None, X), small.predict(W_new, None, X[:, keep[0]])))
    True

    The typical use: prune a solved network (here the hidden neurons left depend on the
    machine's iterate path; the function does not change):

    >>> from liftnet import solve_alm
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(100, (5, 8, 2), noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(8,), beta=5.0, lam=0.05, bias=True)
    >>> res = solve_alm(prob, seed=0, max_iter=100)
    >>> W_new, b_new, keep = prune_weights(res.W, res.b, alpha=prob.alpha)
    >>> small = LiftedProblem(X[:, keep[0]], Y, hidden=(len(keep[1]),), bias=True)
    >>> bool(np.allclose(prob.predict(res.W, res.b, X), small.predict(W_new, b_new, X[:, keep[0]])))
    True
    """
    W, b = _check_network(W, b)
    if alpha is not None:
        alpha = check_scalar(alpha, "alpha", low=0, high=1, low_inclusive=False,
                             high_inclusive=False)
    L = len(W)
    W_new = [Wl.copy() for Wl in W]
    # (with alpha, constants sigma(b) fold into the next bias: integer or boolean biases become
    # floating, as the folded network's are)
    b_new = None if b is None else [
        bl.astype(np.result_type(bl, 1.0) if alpha is not None else bl.dtype) for bl in b]
    masks = _unit_masks(W_new, b_new)
    if alpha is not None and b_new is not None:
        masks = _fold_constant_units(W_new, b_new, masks, alpha)
    for l in range(L):  # a layer with no unit left keeps unit 0, silenced
        if not np.any(masks[l]):
            masks[l][0] = True
            W_new[l][:, 0] = 0.0
            if l >= 1:
                W_new[l - 1][0, :] = 0.0
                if b_new is not None:
                    b_new[l - 1][0] = 0.0
    for l in range(L):  # W_{l+1}: rows of layer l+1, columns of layer l
        W_new[l] = np.ascontiguousarray(W_new[l][np.ix_(masks[l + 1], masks[l])])
        if b_new is not None:
            b_new[l] = b_new[l][masks[l + 1]].copy()
    keep = [np.flatnonzero(masks[l]) for l in range(L)]
    return W_new, b_new, keep


def _fold_constant_units(W, b, masks, alpha):
    """The third rule (module docstring), in place on the copies ``W, b``: each kept hidden
    neuron of layer ``l`` whose row of ``W_l`` is zero on the kept neurons of layer ``l - 1``
    outputs ``sigma(b_l[j])``; that constant times its column of ``W_{l+1}`` joins
    ``b_{l+1}``, and the column is zeroed (the first rule then deletes the neuron). Folding
    can make neurons of the next layer constant: repeated until none is left. Returns the
    masks of the folded network."""
    while True:
        folded = False
        for l in range(1, len(W)):  # hidden layer l: rows of W[l - 1], columns of W[l]
            const = masks[l] & ~np.any(W[l - 1][:, masks[l - 1]] != 0, axis=1)
            if not np.any(const):
                continue
            bl = b[l - 1][const]
            b[l] += W[l][:, const] @ leaky_relu(bl, alpha)
            W[l][:, const] = 0.0
            folded = True
        if not folded:
            return masks
        masks = _unit_masks(W, b)


def unit_masks(W, b=None):
    """The units the network uses, by the two rules of this module applied until nothing changes.

    Parameters
    ----------
    W : list of L arrays
        The weights, ``W[l-1]`` of shape ``n_l x n_{l-1}``.
    b : list of L arrays or None
        The biases (``None``: a network without biases, where a unit with a zero incoming row
        outputs ``sigma(0) = 0``; with a nonzero bias it outputs a constant and is kept).

    Returns
    -------
    masks : list of L + 1 boolean arrays
        ``masks[l][j]`` is True when unit ``j`` of layer ``l`` is kept (``l = 0``: the input
        features; ``masks[L]``, the outputs, is all True). A layer may lose every unit.

    Examples
    --------
    Input feature 2 feeds nothing (a zero column of ``W_1``), hidden neuron 0 receives nothing
    and has no bias (a zero row of ``W_1``: it outputs ``sigma(0) = 0``):

    >>> import numpy as np
    >>> from liftnet.pruning import unit_masks
    >>> W1 = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0], [0.5, 1.0, 0.0]])
    >>> W2 = np.array([[3.0, 1.0, -1.0]])
    >>> [m.tolist() for m in unit_masks([W1, W2])]
    [[True, True, False], [False, True, True], [True]]

    With a nonzero bias neuron 0 outputs a constant, which the next layer uses: it is kept.

    >>> b = [np.array([0.7, 0.0, 0.0]), np.zeros(1)]
    >>> [m.tolist() for m in unit_masks([W1, W2], b)]
    [[True, True, False], [True, True, True], [True]]
    """
    return _unit_masks(*_check_network(W, b))


def _unit_masks(W, b):
    L = len(W)
    # masks[l] over the units of layer l = 0..L; the output layer is never pruned
    masks = [np.ones(W[0].shape[1], dtype=bool)]
    masks += [np.ones(W[l].shape[0], dtype=bool) for l in range(L)]
    changed = True
    while changed:
        changed = False
        for l in range(L):  # units of layer l, outgoing weights W_{l+1} = W[l]
            used = np.any(W[l][masks[l + 1]] != 0, axis=0)
            alive = masks[l] & used
            if 1 <= l:  # hidden units: also drop those that always output sigma(0) = 0
                feeds = np.any(W[l - 1][:, masks[l - 1]] != 0, axis=1)
                if b is not None:
                    feeds |= b[l - 1] != 0
                alive &= feeds
            if np.any(alive != masks[l]):
                masks[l] = alive
                changed = True
    return masks

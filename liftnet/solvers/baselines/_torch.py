"""PyTorch ports of the pieces of (P) that the stochastic baselines differentiate.

These are ports for autograd, not new formulas: each is tested to equal the numpy original
(``LiftedProblem.forward``, ``LiftedProblem.loss``, ``GroupLasso.value``, ``GroupLasso.prox``).
Layout as in MODEL.md section 1: samples are columns, ``W[l-1]`` is ``W_l`` of shape
``(n_l, n_{l-1})``.
"""

from __future__ import annotations

import numpy as np
import torch

AXIS = {"column": 0, "row": 1, "element": None}


def torch_dtype(dtype) -> torch.dtype:
    """The torch type of a numpy float type (float64 or float32)."""
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        np.dtype(dtype)
    ]


def forward_output(W, b, V0, alpha: float) -> torch.Tensor:
    """Network output ``U_L`` (shape ``(n_L, M)``) for inputs ``V0`` (shape ``(n_0, M)``).

    ``U_l = W_l V_{l-1} + b_l 1^T``, ``V_l = sigma(U_l) = max(U_l, alpha U_l)`` (MODEL.md 1),
    the torch port of :meth:`LiftedProblem.forward`. Its derivative is liftnet's
    (:meth:`LiftedProblem.sigma_slope`): ``1`` where ``U > 0``, ``alpha`` elsewhere, the kink
    ``U = 0`` included. (``torch.maximum`` splits a tie, ``(1 + alpha) / 2`` at ``U = 0``: the
    rows of a unit pruned by the prox, found by a review, 2026-12-07.)
    """
    V = V0
    L = len(W)
    for l in range(L):
        U = W[l] @ V
        if b is not None:
            U = U + b[l][:, None]
        if l == L - 1:
            return U
        V = torch.where(U > 0, U, alpha * U)
    raise ValueError("W must hold at least one layer")


def loss(UL: torch.Tensor, YT: torch.Tensor) -> torch.Tensor:
    """``(1/M) ||U_L - Y^T||_F^2`` over the ``M`` columns given (a minibatch estimate of the
    data fit of (P) when the columns are a uniform sample)."""
    r = UL - YT
    return (r * r).sum() / UL.shape[1]


def group_norms(W: torch.Tensor, groups: str) -> torch.Tensor:
    """``||W[g]||_2`` per group, shaped as :meth:`GroupLasso.group_norms`."""
    axis = AXIS[groups]
    if axis is None:
        return W.abs()
    return torch.linalg.vector_norm(W, dim=axis)


def penalty_value(W, lam: float, groups: str) -> torch.Tensor:
    """``lam * R(W) = lam * sum_l sum_g ||W_l[g]||_2`` (MODEL.md section 2).

    Its autograd gradient is ``lam W[g]/||W[g]||`` on nonzero groups and ``0`` on zero groups
    (the minimum-norm subgradient): the "plain subgradient term" of the SGD/Adam baselines.
    """
    return lam * sum(group_norms(Wl, groups).sum() for Wl in W)


@torch.no_grad()
def group_prox_(W: torch.Tensor, t, groups: str) -> torch.Tensor:
    """In place: proximal map of ``sum_g t_g ||.||_2``, ``W[g] * max(0, 1 - t_g/||W[g]||)``.

    The torch twin of :meth:`GroupLasso.prox` with ``t = step * lam``: groups with
    ``||W[g]|| <= t_g`` become exact zeros. ``t`` is a float (one threshold for every group)
    or a tensor shaped like :func:`group_norms` (one per group).
    """
    norms = group_norms(W, groups)
    # t = 0 keeps every group whole, as GroupLasso.prox does (a group whose squared norm
    # underflows has norm 0, which is not > 0: it was zeroed)
    shrink = torch.where(
        (norms > t) | (torch.as_tensor(t) == 0),
        1.0 - t / torch.clamp(norms, min=torch.finfo(W.dtype).tiny),
        torch.zeros_like(norms),
    )
    axis = AXIS[groups]
    if axis == 0:
        shrink = shrink[None, :]
    elif axis == 1:
        shrink = shrink[:, None]
    return W.mul_(shrink)

"""The group-sparse regulariser ``lam * R(W)`` of MODEL.md section 2.

One object per choice of groups, skglm-style: it knows its own ``value``, its exact
proximal map ``prox`` and the distance of a gradient to its subdifferential
``subdiff_distance``. The ALM, the KKT check, the baselines and the Pyomo declaration all
call these methods, never their own copy of a formula.

Groups of one weight matrix ``W_l`` (shape ``n_l x n_{l-1}``):

* ``column``: column ``j`` (all weights leaving neuron ``j`` of layer ``l-1``);
* ``row``: row ``i`` (all weights entering neuron ``i`` of layer ``l``);
* ``element``: each weight alone (plain l1).
"""

from __future__ import annotations

import numpy as np

GROUPS = ("column", "row", "element")


class GroupLasso:
    """``lam * sum_{g in G} ||W[g]||_2`` for one weight matrix, MODEL.md section 2.

    Parameters
    ----------
    lam : float
        Regularisation weight ``lambda >= 0``.
    groups : {"column", "row", "element"}
        How the entries of a weight matrix are grouped.
    """

    def __init__(self, lam: float, groups: str = "column"):
        if groups not in GROUPS:
            raise ValueError(f"groups must be one of {GROUPS}, got {groups!r}")
        self.lam = float(lam)
        self.groups = groups
        # Axis summed over to get one norm per group; None means element-wise groups.
        self._axis = {"column": 0, "row": 1, "element": None}[groups]

    def __repr__(self) -> str:
        return f"GroupLasso(lam={self.lam!r}, groups={self.groups!r})"

    # ------------------------------------------------------------------ norms
    def group_norms(self, W: np.ndarray) -> np.ndarray:
        """``||W[g]||_2`` for every group ``g``: shape ``(n_{l-1},)`` for columns,
        ``(n_l,)`` for rows, ``W.shape`` for elements."""
        if self._axis is None:
            return np.abs(W)
        return np.sqrt(self.group_inner(W, W))

    def group_inner(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``<A[g], B[g]>`` for every group ``g`` (shaped like :meth:`group_norms`)."""
        if self._axis is None:
            return A * B
        return np.einsum("ij,ij->j" if self._axis == 0 else "ij,ij->i", A, B)

    def _broadcast(self, per_group: np.ndarray) -> np.ndarray:
        """Shape a per-group array so that it broadcasts against ``W``."""
        if self._axis == 0:
            return per_group[None, :]
        if self._axis == 1:
            return per_group[:, None]
        return per_group

    def per_entry(self, per_group: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """A per-group array (shaped like :meth:`group_norms`) spread over the entries of a
        matrix of ``shape``: each entry holds its group's value (a read-only view)."""
        return np.broadcast_to(self._broadcast(np.asarray(per_group)), shape)

    def keep_groups(self, W: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Zero, in place, the groups of ``W`` whose per-group flag ``keep`` is False."""
        W *= self._broadcast(np.asarray(keep)).astype(W.dtype)
        return W

    def n_groups(self, shape: tuple[int, int]) -> int:
        """Number of groups of a matrix of the given shape."""
        return {0: shape[1], 1: shape[0], None: shape[0] * shape[1]}[self._axis]

    # -------------------------------------------------------------- the maths
    def value(self, W: np.ndarray) -> float:
        """``lam * R(W) = lam * sum_g ||W[g]||_2``."""
        return self.lam * float(np.sum(self.group_norms(W)))

    def prox(self, W: np.ndarray, step: float, out: np.ndarray | None = None) -> np.ndarray:
        """Proximal map of ``step * lam * sum_g ||.||_2`` (block soft-thresholding).

        ``W[g] * max(0, 1 - step*lam / ||W[g]||)``: groups with ``||W[g]|| <= step*lam`` become
        exact zeros. ``out`` may be ``W`` itself (in place).
        """
        t = step * self.lam
        norms = self.group_norms(W)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # subnormal norms
            shrink = np.where(norms > t, 1.0 - t / norms, 0.0)
        return np.multiply(W, self._broadcast(shrink.astype(W.dtype, copy=False)), out=out)

    def subdiff_residual(self, W: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """The point of ``Q + lam * d R(W)`` nearest to zero, group by group (shape of ``W``).

        ``Q[g] + lam W[g]/||W[g]||`` where ``W[g] != 0``; where ``W[g] = 0`` the ball
        ``Q[g] + lam B`` is nearest to zero at ``Q[g] * max(0, 1 - lam/||Q[g]||)``, which is
        ``Q[g]`` minus its projection on the ``lam``-ball, i.e. ``prox(Q, 1)``.
        ``Q`` is the gradient of the smooth part with respect to ``W`` (MODEL.md section 5).
        """
        norms = self.group_norms(W)
        nz = norms > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nz, self.lam / norms, 0.0).astype(Q.dtype, copy=False)
        at_nonzero = Q + self._broadcast(scale) * W
        at_zero = self.prox(Q, 1.0)
        return np.where(self._broadcast(nz), at_nonzero, at_zero)

    def subdiff_distance(self, W: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """Per-group ``dist(0, Q[g] + lam * d||W[g]||_2)`` (MODEL.md section 5).

        ``||Q[g] + lam W[g]/||W[g]|| ||`` where ``W[g] != 0``, else ``max(0, ||Q[g]|| - lam)``.
        One nonnegative number per group, shaped like :meth:`group_norms`.
        """
        return self.group_norms(self.subdiff_residual(W, Q))

    def zero_groups(self, W: np.ndarray, threshold: float = 0.0) -> np.ndarray:
        """Boolean mask (per group) of groups with ``||W[g]|| <= threshold``."""
        return self.group_norms(W) <= threshold

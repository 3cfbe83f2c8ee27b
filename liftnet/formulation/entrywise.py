"""MODEL.md's entrywise formulas of the constraints, the gradient's fields and the multiplier
update, each written once.

Each is a plain function that works on numpy arrays, which is how :class:`LiftedProblem`, the
KKT check and the ALM's bookkeeping call it, and on scalars, which is how the compiled kernels
of the ALM's inner iterations (:mod:`liftnet.solvers.kernels`) call it. The couplings' own
entrywise formulas are in :mod:`liftnet.formulation.couplings`, written the same way.
"""

from __future__ import annotations

import numpy as np


def gaps(U, V, alpha):
    """The constraint values of one hidden layer (MODEL.md 4), both ``<= 0`` when feasible:
    ``g1 = U - V`` and ``g2 = alpha U - V``."""
    return U - V, alpha * U - V


def field_D(dU, M1, M2, alpha):
    """``D_l = dU_l + G_l`` with ``G_l = M1_l + alpha M2_l`` (MODEL.md 5): the field whose
    products give ``grad_{W_l} = D_l V_{l-1}^T`` and ``grad_{b_l} = D_l 1``."""
    return dU + M1 + alpha * M2


def field_E(dV, M1, M2):
    """``dV_l - M1_l - M2_l``: ``grad_{V_l}`` of MODEL.md 5 less its ``W_{l+1}^T D_{l+1}``
    term, which the backward pass adds (the kernels pass ``dV_l + W_{l+1}^T D_{l+1}`` as
    ``dV`` and get ``grad_{V_l}`` itself)."""
    return dV - M1 - M2


def shifted(M, g, rho):
    """``max(0, M + rho g)``, the shifted multiplier of the augmented Lagrangian (MODEL.md 6,
    step 2)."""
    return np.maximum(M + rho * g, 0.0)


def augmented_value(loss, pi, pen, M_sq, reg, beta, N, rho):
    """``L_rho = loss + (beta/N) pi + (pen - ||M||^2) / (2 rho) + lam R`` (MODEL.md 6) from its
    sums: ``loss`` the data fit, ``pi`` the couplings, ``pen = ||max(0, M + rho g)||^2``,
    ``M_sq = ||M||^2``, ``reg = lam R(W)``."""
    return loss + beta * pi / N + (pen - M_sq) / (2.0 * rho) + reg

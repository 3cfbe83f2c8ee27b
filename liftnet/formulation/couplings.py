"""The couplings ``pi_l(V_l, U_l)`` of the lifted model, MODEL.md section 4.

Both are written through the constraint values of the same layer,

    g1 = U - V <= 0,        g2 = alpha U - V <= 0,

because that is how they enter the model and how the ALM already holds them:

* ``complementarity`` (default): ``pi = <V - U, V - alpha U> = <g1, g2>``;
* ``squared``: ``pi = ||V - U||_F^2 = ||g1||_F^2``.

Each formula is written once in numerical code (the Pyomo and CVXPY declarations restate it
symbolically on purpose, as the independent check), entrywise, as a plain function of ``(g1, g2,
alpha)`` (``pi`` is the sum of its ``pointwise`` terms). The functions work on numpy arrays,
which is how the model, the KKT check and the tests call them through the :class:`Coupling`
objects, and on scalars, which is how the compiled kernels of the ALM's inner iterations
(:mod:`liftnet.solvers.kernels`) call them: the kernels do not have their own copy.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_scalar
from .entrywise import gaps

COUPLINGS = ("complementarity", "squared")


# ---- the formulas, entrywise (arrays or scalars)
def complementarity_pointwise(g1, g2, alpha):
    """Term of ``pi = <g1, g2>``."""
    return g1 * g2


def complementarity_dpi_dV(g1, g2, alpha):
    """``dpi/dV = -(g1 + g2)``."""
    return -(g1 + g2)


def complementarity_dpi_dU(g1, g2, alpha):
    """``dpi/dU = g2 + alpha g1``."""
    return g2 + alpha * g1


def squared_pointwise(g1, g2, alpha):
    """Term of ``pi = ||g1||^2``."""
    return g1 * g1


def squared_dpi_dV(g1, g2, alpha):
    """``dpi/dV = -2 g1``."""
    return -2.0 * g1


def squared_dpi_dU(g1, g2, alpha):
    """``dpi/dU = 2 g1``."""
    return 2.0 * g1


class Coupling:
    """Base class: a coupling of one hidden layer with leaky-ReLU slope ``alpha``.

    Subclasses name their three entrywise formulas; ``kind`` is the coupling's index in
    :data:`COUPLINGS` (how the compiled kernels select the formulas).
    """

    name = ""
    kind = -1
    pointwise = dpi_dV = dpi_dU = None  # staticmethods set by each coupling

    def __init__(self, alpha: float):
        # the leaky-ReLU slope of MODEL.md 1: outside (0, 1) the constraints no longer encode
        # sigma(U) = max(U, alpha U) and pi is not >= 0 on the feasible set
        self.alpha = check_scalar(alpha, "alpha", low=0, high=1, low_inclusive=False,
                                  high_inclusive=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha!r})"

    def gaps(self, V: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Constraint values ``(g1, g2) = (U - V, alpha U - V)`` (:func:`.entrywise.gaps`);
        ``V`` and ``U`` (arrays or nested lists) must have the same shape."""
        V, U = (a if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                else np.asarray(a, dtype=np.result_type(np.asarray(a), 1.0)) for a in (V, U))
        if U.shape != V.shape:
            raise ValueError(f"U must have shape {V.shape} (that of V), got {U.shape}")
        return gaps(U, V, self.alpha)

    def value(self, V: np.ndarray, U: np.ndarray) -> float:
        """``pi(V, U)``."""
        return self.value_from_gaps(*self.gaps(V, U))

    def partials(self, V: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(dpi/dV, dpi/dU)``, both shaped like ``V``."""
        return self.partials_from_gaps(*self.gaps(V, U))

    def value_from_gaps(self, g1: np.ndarray, g2: np.ndarray) -> float:
        """``pi`` as the sum of its entrywise terms."""
        return float(np.sum(self.pointwise(g1, g2, self.alpha), dtype=np.float64))

    def partials_from_gaps(self, g1: np.ndarray, g2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(dpi/dV, dpi/dU)`` from the gaps."""
        return self.dpi_dV(g1, g2, self.alpha), self.dpi_dU(g1, g2, self.alpha)


class Complementarity(Coupling):
    """``pi = <V - U, V - alpha U> = <g1, g2>``: on the feasible set, zero iff ``V = sigma(U)``.

    ``dpi/dV = -(g1 + g2)``, ``dpi/dU = g2 + alpha g1``.
    """

    name = "complementarity"
    kind = 0
    pointwise = staticmethod(complementarity_pointwise)
    dpi_dV = staticmethod(complementarity_dpi_dV)
    dpi_dU = staticmethod(complementarity_dpi_dU)


class Squared(Coupling):
    """``pi = ||V - U||_F^2 = ||g1||^2``: for fixed ``U`` its feasible minimiser is ``sigma(U)``.

    ``dpi/dV = -2 g1``, ``dpi/dU = 2 g1``.
    """

    name = "squared"
    kind = 1
    pointwise = staticmethod(squared_pointwise)
    dpi_dV = staticmethod(squared_dpi_dV)
    dpi_dU = staticmethod(squared_dpi_dU)


def make_coupling(name: str, alpha: float) -> Coupling:
    """The coupling object called ``name`` (``complementarity`` or ``squared``) with leaky-ReLU
    slope ``alpha``, a real number in ``(0, 1)`` (checked by :class:`Coupling`)."""
    if name == "complementarity":
        return Complementarity(alpha)
    if name == "squared":
        return Squared(alpha)
    raise ValueError(f"coupling must be one of {COUPLINGS}, got {name!r}")

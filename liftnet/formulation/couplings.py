"""The couplings ``pi_l(V_l, U_l)`` of the lifted model, MODEL.md section 4.

Both are written through the constraint values of the same layer,

    g1 = U - V <= 0,        g2 = alpha U - V <= 0,

because that is how they enter the model and how the ALM already holds them:

* ``complementarity`` (default): ``pi = <V - U, V - alpha U> = <g1, g2>``;
* ``squared``: ``pi = ||V - U||_F^2 = ||g1||_F^2``.

Each coupling knows its ``value`` and its two partial derivatives ``dpi/dV``, ``dpi/dU``.
"""

from __future__ import annotations

import numpy as np

COUPLINGS = ("complementarity", "squared")


class Coupling:
    """Base class: a coupling of one hidden layer with leaky-ReLU slope ``alpha``."""

    name = ""

    def __init__(self, alpha: float):
        self.alpha = float(alpha)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha!r})"

    def gaps(self, V: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Constraint values ``(g1, g2) = (U - V, alpha U - V)``."""
        return U - V, self.alpha * U - V

    def value(self, V: np.ndarray, U: np.ndarray) -> float:
        """``pi(V, U)``."""
        return self.value_from_gaps(*self.gaps(V, U))

    def partials(self, V: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(dpi/dV, dpi/dU)``, both shaped like ``V``."""
        return self.partials_from_gaps(*self.gaps(V, U))

    # Implemented by each coupling: the formula, once.
    def value_from_gaps(self, g1: np.ndarray, g2: np.ndarray) -> float:
        raise NotImplementedError

    def partials_from_gaps(self, g1: np.ndarray, g2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class Complementarity(Coupling):
    """``pi = <V - U, V - alpha U> = <g1, g2>``: on the feasible set, zero iff ``V = sigma(U)``.

    ``dpi/dV = -(g1 + g2)``, ``dpi/dU = g2 + alpha g1``.
    """

    name = "complementarity"

    def value_from_gaps(self, g1, g2):
        return float(np.vdot(g1, g2))

    def partials_from_gaps(self, g1, g2):
        return -(g1 + g2), g2 + self.alpha * g1


class Squared(Coupling):
    """``pi = ||V - U||_F^2 = ||g1||^2``: for fixed ``U`` its feasible minimiser is ``sigma(U)``.

    ``dpi/dV = -2 g1``, ``dpi/dU = 2 g1``.
    """

    name = "squared"

    def value_from_gaps(self, g1, g2):
        return float(np.vdot(g1, g1))

    def partials_from_gaps(self, g1, g2):
        return -2.0 * g1, 2.0 * g1


def make_coupling(name: str, alpha: float) -> Coupling:
    """The coupling object called ``name`` (``complementarity`` or ``squared``)."""
    if name == "complementarity":
        return Complementarity(alpha)
    if name == "squared":
        return Squared(alpha)
    raise ValueError(f"coupling must be one of {COUPLINGS}, got {name!r}")

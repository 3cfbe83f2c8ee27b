"""liftnet: sparse leaky-ReLU networks trained to certified KKT points.

The lifted model of Liu, Liu & Chen (arXiv 2205.05428, JMLR 2023), solved by an inexact
augmented Lagrangian method. The mathematics is in ``docs/maths.md``.
"""

from .formulation.problem import LiftedProblem
from .solvers.alm import solve_alm
from .solvers.result import LiftedResult
from .verification.kkt import KKTReport, kkt_residuals

__all__ = ["KKTReport", "LiftedProblem", "LiftedResult", "kkt_residuals", "solve_alm"]
__version__ = "0.1.0"

"""liftnet: sparse leaky-ReLU networks trained to certified KKT points.

The lifted model of Liu, Liu & Chen (arXiv 2205.05428, JMLR 2023), solved by an inexact
augmented Lagrangian method. The mathematics is in ``docs/maths.md`` (MODEL.md).
"""

from .formulation.problem import LiftedProblem
from .solvers.result import LiftedResult

__all__ = ["LiftedProblem", "LiftedResult"]
__version__ = "0.1.0"

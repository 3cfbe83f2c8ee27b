"""liftnet: sparse leaky-ReLU networks trained to certified KKT points.

The lifted model of Liu, Liu & Chen (arXiv 2205.05428, JMLR 2023), solved by an inexact
augmented Lagrangian method. The mathematics is in ``docs/maths.md``.

The core (problem, ALM, KKT check) imports only numpy, scipy and numba (the ALM's compiled
kernels), and threadpoolctl when a solve limits the BLAS threads (``solve_alm(threads=)``); the
names that need Pyomo, scikit-learn or HiGHS are loaded on first use, and so are the core's.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from .formulation.problem import LiftedProblem as LiftedProblem
    from .solvers.alm import solve_alm as solve_alm
    from .solvers.result import LiftedResult as LiftedResult
    from .verification.kkt import KKTReport as KKTReport
    from .verification.kkt import kkt_residuals as kkt_residuals

#: every public name, loaded on first use (``import liftnet`` itself imports nothing heavy, so
#: that the console script can catch a Ctrl-C while numpy, scipy and numba load: liftnet._console)
_LAZY = {
    "LiftedProblem": "liftnet.formulation.problem",
    "solve_alm": "liftnet.solvers.alm",
    "LiftedResult": "liftnet.solvers.result",
    "KKTReport": "liftnet.verification.kkt",
    "kkt_residuals": "liftnet.verification.kkt",
    "solve_ipopt": "liftnet.solvers.ipopt",
    "build_pyomo_model": "liftnet.formulation.pyomo_model",
    "check_mfcq": "liftnet.verification.mfcq",
    "crosscheck_ipopt": "liftnet.verification.crosscheck",
    "SparseLeakyReLUNet": "liftnet.estimator",
    "SparseLeakyReLUClassifier": "liftnet.estimator",
    "SparseLeakyReLURegressor": "liftnet.estimator",
    "prune_weights": "liftnet.pruning",
    "reseed_dead_units": "liftnet.solvers.init",
    "solve_alm_path": "liftnet.solvers.path",
    "datasets": "liftnet.datasets",
    "theory": "liftnet.theory",
}

__all__ = list(_LAZY)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _LAZY:
        mod = import_module(_LAZY[name])
        value = mod if mod.__name__.endswith("." + name) else getattr(mod, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'liftnet' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)

"""Baselines on the original problem (P) of MODEL.md section 3, for the comparison harness.

* :func:`sgd`, :func:`adam`: PyTorch trainers with the group penalty as a subgradient term;
* :func:`prox_sgd`, :func:`prox_adam`: the same with the exact group prox after each step;
* :func:`prox_gradient`: full-batch proximal gradient with backtracking, in numpy.

Every baseline starts from ``prob.initial_weights(seed)`` (or ``init``), works in
``prob.dtype``, takes ``time_limit``, ``max_epochs``, ``seed``, ``lr`` (and ``batch_size`` for
the stochastic ones), honours Ctrl-C, and returns a :class:`~liftnet.LiftedResult` whose
``Phi`` is ``prob.Phi`` at the returned weights.
"""

from .fullbatch import loss_gradient, prox_gradient
from .stochastic import adam, prox_adam, prox_sgd, sgd

#: Name -> baseline function, in the order the harness reports them.
BASELINES = {
    "sgd": sgd,
    "adam": adam,
    "prox_sgd": prox_sgd,
    "prox_adam": prox_adam,
    "prox_gradient": prox_gradient,
}

__all__ = ["BASELINES", "adam", "loss_gradient", "prox_adam", "prox_gradient", "prox_sgd", "sgd"]

"""Starting points and warm starts (``liftnet.solvers.init.parse_init``): what is refused."""

import numpy as np
import pytest
from test_alm import teacher_problem

from liftnet.solvers.init import parse_init


def test_a_warm_start_whose_output_layer_overflows_is_refused():
    """The lift's check covers the output layer ``U_L`` too: weights whose hidden layers are
    finite but whose output overflows would give a start with an infinite objective (a
    mutation audit: only ``V`` checked)."""
    prob = teacher_problem()
    W, _ = prob.initial_weights(0)
    W[-1] = np.full_like(W[-1], 1e308)
    with np.errstate(over="ignore"):
        assert all(np.all(np.isfinite(v)) for v in prob.lift(W, None))  # only U_L overflows
    with pytest.raises(ValueError, match="overflows"):
        parse_init(prob, {"W": W})


def test_a_bias_for_a_problem_without_biases_is_refused():
    """``init['b']`` for a ``bias=False`` problem is refused by name rather than dropped
    silently (the warm start would not be the network the caller gave; a mutation audit: the
    check dropped)."""
    prob = teacher_problem(bias=False)
    W, _ = prob.initial_weights(0)
    with pytest.raises(ValueError, match=r"init\['b'\] must be None"):
        parse_init(prob, {"W": W, "b": [np.zeros(w.shape[0]) for w in W]})

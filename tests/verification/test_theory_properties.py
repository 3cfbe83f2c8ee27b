"""Theory checks: properties a mutation review (session 49) found unpinned. Each test failed on
a one-line change of ``liftnet/verification/theory.py`` that every other test passed: the gap's
error without its absolute value, ``<=`` at the lifted-only threshold and ``|V|`` of a negative
row, the Frobenius sums, the closed ball and the largest norm of ``inside_level_set``."""
import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.verification.theory import inside_level_set, lift_objective_gap, lifted_only_units


def test_lift_objective_gap_error_is_nonnegative():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), hidden=(4,),
                         coupling="squared", beta=2.0)
    for s in range(200):
        rep = lift_objective_gap(prob, *prob.initial_weights(s))
        assert rep.error >= 0 and rep.error == abs(rep.gap - rep.predicted_gap)


def test_lifted_only_units_boundary_and_negative_rows():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), hidden=(4,))
    W, _ = prob.initial_weights(0)
    V = prob.lift(W)
    u = float(np.max(np.abs(prob.pre_activations(W, None, V)[0][1])))
    V[0][1] = 2.0 * u  # max|U| = 0.5 max|V| exactly: counted at tol = 0.5 (rule is <=)
    assert lifted_only_units(prob, W, None, V, tol=0.5).count == 1
    W[0][1] = 0.0
    V = prob.lift(W)
    V[0][1] = -np.linspace(0.1, 0.8, prob.N)  # max_n |V| is 0.8, U = 0
    rep = lifted_only_units(prob, W, None, V)
    assert rep.count == 1 and rep.V_max[0][0] == pytest.approx(0.8)


def test_inside_level_set_fields():
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), hidden=(4,),
                         lam=0.1)
    W, _ = prob.initial_weights(0)
    rep = inside_level_set(prob, [([3 * w for w in W], None, None), (W, None, None)], 1e9)
    assert rep.max_norm == max(rep.norms) == rep.norms[0]
    assert rep.W_sums[1] == pytest.approx(sum(np.linalg.norm(w, "fro") for w in W), rel=1e-14)
    n = rep.norms[1]
    assert inside_level_set(prob, [(W, None, None)], n).inside == [True]  # on the sphere


def test_lift_objective_gap_refuses_a_network_whose_objectives_overflow():
    """At weights of 1e100 ``F`` and ``Phi`` are both inf: the report said gap = error = nan
    (a check that cannot fail); refused naming the weights."""
    rng = np.random.default_rng(0)
    for bias in (False, True):
        prob = LiftedProblem(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)),
                             hidden=(4,), bias=bias)
        W, b = prob.initial_weights(0)
        with pytest.raises(ValueError, match=r"^W or b too large" if bias else r"^W too large"):
            lift_objective_gap(prob, [w * 1e100 for w in W], b)

"""Dead-unit screening of the ALM (``liftnet.solvers.alm._screen_dead_units``)."""

import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.datasets import make_teacher
from liftnet.pruning import unit_masks
from liftnet.solvers.alm import _BranchSubproblem, _screen_dead_units, _Subproblem
from liftnet.solvers.quasi_newton import group_owlqn
from liftnet.verification.kkt import initial_multipliers


def problem(bias, coupling="complementarity", groups="column"):
    X, Y, _, _ = make_teacher(15, (3, 5, 4, 2), alpha=0.1, noise=0.1, seed=4, bias=False)
    return LiftedProblem(X, Y, hidden=(5, 4), coupling=coupling, bias=bias, groups=groups,
                         lam=1e-2)


def unit_variables(prob, l, j):
    """Mask over ``z`` of the variables of unit ``j`` of hidden layer ``l``."""
    fixed = np.zeros(prob.layout.size, dtype=bool)
    Wf, bf, Vf = prob.layout.unpack(fixed)
    Wf[l - 1][j, :] = Wf[l][:, j] = Vf[l - 1][j, :] = True
    if bf is not None:
        bf[l - 1][j] = True
    return fixed


def point_with_dead_unit(prob, seed=0):
    """A random lifted point (perturbed off feasibility) whose unit 2 of layer 1 has a zero
    outgoing column; multipliers positive everywhere."""
    rng = np.random.default_rng(seed)
    W, b = prob.initial_weights(seed)
    if b is not None:
        b = [rng.standard_normal(bl.shape) for bl in b]
    W[1][:, 2] = 0.0
    V = [v + 0.1 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    M1 = [rng.uniform(0.1, 1.0, v.shape) for v in V]
    M2 = [rng.uniform(0.1, 1.0, v.shape) for v in V]
    return W, b, V, M1, M2


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_screened_unit_has_zero_lagrangian_gradient_and_same_network(bias, coupling):
    prob = problem(bias, coupling)
    W, b, V, M1, M2 = point_with_dead_unit(prob)
    z = prob.layout.pack(W, b, V)
    out_before = prob.forward(*prob.layout.unpack(z)[:2])[0][-1].copy()
    masks = _screen_dead_units(prob, z, M1, M2)
    assert not masks[1][2] and masks[1].sum() == 4
    Ws, bs, Vs = prob.layout.unpack(z)
    assert np.all(Ws[0][2] == 0) and np.all(Vs[0][2] == 0)
    assert np.all(M1[0][2] == 0) and np.all(M2[0][2] == 0)
    if bias:
        assert bs[0][2] == 0
    # the exact network is unchanged: the unit passed nothing on
    np.testing.assert_array_equal(prob.forward(Ws, bs)[0][-1], out_before)
    # every Lagrangian partial on the screened variables is exactly zero
    fixed = unit_variables(prob, 1, 2)
    g = prob.layout.pack(*prob.lagrangian_gradient(Ws, bs, Vs, M1, M2))
    assert np.all(g[fixed] == 0.0)
    assert np.abs(g[~fixed]).max() > 1e-3  # and not elsewhere


def test_only_units_dead_twice_are_screened():
    prob = problem(False)
    W, b, V, M1, M2 = point_with_dead_unit(prob)
    z = prob.layout.pack(W, b, V)
    alive_before = [np.ones_like(m) for m in unit_masks(W, b)]
    z0 = z.copy()
    masks = _screen_dead_units(prob, z, M1, M2, previous=alive_before)
    assert not masks[1][2]
    np.testing.assert_array_equal(z, z0)  # nothing was touched
    _screen_dead_units(prob, z, M1, M2, previous=masks)
    assert np.all(prob.layout.unpack(z)[2][0][2] == 0)


def test_cascade_through_layers():
    """A unit of layer 2 whose column is zero takes with it a unit of layer 1 whose only
    nonzero outgoing weight went to that unit."""
    prob = problem(False)
    W, b, V, M1, M2 = point_with_dead_unit(prob)
    W[2][:, 1] = 0.0  # unit 1 of layer 2 dead
    W[1][:, 0] = 0.0
    W[1][1, 0] = 0.7  # unit 0 of layer 1 feeds only unit 1 of layer 2
    z = prob.layout.pack(W, b, V)
    masks = _screen_dead_units(prob, z, M1, M2)
    assert not masks[2][1] and not masks[1][0] and not masks[1][2]
    Ws, _, Vs = prob.layout.unpack(z)
    assert np.all(Ws[1][:, 0] == 0) and np.all(Vs[0][0] == 0) and np.all(Vs[1][1] == 0)


@pytest.mark.parametrize("branch", [False, True])
def test_screened_unit_stays_exactly_zero_in_the_inner_solver(branch):
    """Its partials are exactly zero, so the quasi-Newton pairs and directions are too: the
    unit never comes back, in either coordinate system."""
    prob = problem(True)
    W, b, V, _, _ = point_with_dead_unit(prob)
    M1, M2 = initial_multipliers(prob, W, b, V)
    z = prob.layout.pack(W, b, V)
    _screen_dead_units(prob, z, M1, M2)
    sub = _Subproblem(prob)
    sub.set(M1, M2, 1.0)
    s = _BranchSubproblem(sub, z) if branch else sub
    x0 = s.x0 if branch else z
    x, info = group_owlqn(s, x0, tol=0.0, max_iter=50)
    assert info.nit > 10
    fixed = unit_variables(prob, 1, 2)
    assert np.all(x[fixed] == 0.0)
    assert np.abs(x - x0)[~fixed].max() > 1e-3

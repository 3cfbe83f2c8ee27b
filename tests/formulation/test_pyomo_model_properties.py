"""Property: the Pyomo declaration of (M) equals the numpy model at any point, for any
widths (n_0 != n_L, several depths), N, coupling, bias and groups (the existing equality test
uses one shape, with n_0 = n_L = 2, so swapping n_0 and n_L went unseen)."""

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem
from liftnet.formulation.mpcc import build_mpcc_model
from liftnet.formulation.pyomo_model import build_pyomo_model


@st.composite
def problems_and_points(draw):
    n0 = draw(st.integers(1, 3))
    nL = draw(st.integers(1, 3))
    hidden = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    N = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    prob = LiftedProblem(
        rng.standard_normal((N, n0)), rng.standard_normal((N, nL)), hidden=hidden,
        coupling=draw(st.sampled_from(["complementarity", "squared"])),
        bias=draw(st.booleans()), groups=draw(st.sampled_from(["column", "row", "element"])),
        lam=draw(st.floats(0.0, 1.0)), beta=draw(st.floats(0.1, 3.0)),
        alpha=draw(st.floats(0.05, 0.9)),
    )
    W = [rng.standard_normal(s) for s in prob.W_shapes]
    b = [rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    V = [v + 0.5 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    return prob, W, b, V


@settings(max_examples=25, deadline=None)
@given(problems_and_points())
def test_pyomo_model_equals_numpy_model_at_random_points(case):
    prob, W, b, V = case
    m = build_pyomo_model(prob, init={"W": W, "b": b, "V": V})
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    assert pyo.value(m.loss) == pytest.approx(prob.loss(U[-1]), rel=1e-10, abs=1e-12)
    assert pyo.value(m.regulariser) == pytest.approx(prob.regulariser(W), rel=1e-10, abs=1e-12)
    assert pyo.value(m.F) == pytest.approx(prob.F(W, b, V), rel=1e-10, abs=1e-12)
    assert len(m.U) == sum(u.size for u in U) and len(m.g1) == sum(g.size for g in g1)
    for (l, i, k), e in m.U.items():
        assert pyo.value(e) == pytest.approx(U[l - 1][i - 1, k - 1], abs=1e-10)
    for (l, i, k), con in m.g1.items():
        assert con.upper == 0 and con.lower is None
        assert pyo.value(con.body) == pytest.approx(g1[l - 1][i - 1, k - 1], abs=1e-10)
    for (l, i, k), con in m.g2.items():
        assert con.upper == 0 and con.lower is None
        assert pyo.value(con.body) == pytest.approx(g2[l - 1][i - 1, k - 1], abs=1e-10)
    assert m.F.is_minimizing()


@settings(max_examples=15, deadline=None)
@given(problems_and_points())
def test_mpcc_objective_is_phi_at_the_lift(case):
    """At the exact lift (t at the group norms) the MPCC objective is Phi, for any shape."""
    prob, W, b, _ = case
    m = build_mpcc_model(prob, W, b)
    assert pyo.value(m.Phi) == pytest.approx(prob.Phi(W, b), rel=1e-10, abs=1e-12)
    assert m.Phi.is_minimizing()

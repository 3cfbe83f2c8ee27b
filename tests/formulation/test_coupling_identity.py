"""The couplings' names and kinds, the compiled entrywise formulas against MODEL.md written
out here (not through liftnet's own entrywise functions, which both sides of
test_compiled_subproblem_equals_the_numpy_model share), and the coupling methods' checks.
From a mutation review of couplings.py and entrywise.py (session 52), the first whose mutants
reached the compiled kernels: 18 mutants, all caught, one of them only by a Pyomo test."""

import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.formulation.couplings import COUPLINGS, make_coupling


@pytest.mark.parametrize("name", COUPLINGS)
def test_each_coupling_carries_its_own_name_and_kind(name):
    """``make_coupling(name).name == name`` and ``kind`` is its index in ``COUPLINGS`` (the
    compiled kernels select the formulas by ``kind``; ``subset``, ``with_lam``, the Pyomo and
    CVXPY models and the theory module by ``name``). A squared problem's subset is a squared
    problem with the same ``F`` at the same point."""
    c = make_coupling(name, 0.3)
    assert c.name == name and c.kind == COUPLINGS.index(name)
    rng = np.random.default_rng(0)
    p = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4,),
                      coupling=name, alpha=0.3)
    assert p.coupling_name == name
    W, b = p.initial_weights(0)
    V = [v + 0.5 * rng.standard_normal(v.shape) for v in p.lift(W, b)]
    q = p.subset(np.arange(6))
    assert q.coupling_name == name
    assert q.F(W, b, V) == pytest.approx(p.F(W, b, V), rel=1e-13)


@pytest.mark.parametrize("kind", [0, 1])
def test_compiled_coupling_terms_follow_model_md(kind):
    """``kernels._coupling_terms`` at a few points against MODEL.md 4 written here:
    complementarity ``(V - U)(V - alpha U)``, squared ``(V - U)^2``, and their partials."""
    from liftnet.solvers import kernels

    a = 0.3
    for u, v in [(0.5, -0.2), (-1.3, 0.7), (2.0, 2.5), (-0.4, -0.1)]:
        g1, g2 = kernels._gaps(u, v, a)
        assert (g1, g2) == pytest.approx((u - v, a * u - v), rel=1e-15)
        p, dV, dU = kernels._coupling_terms(kind, g1, g2, a)
        if kind == 0:
            want = ((v - u) * (v - a * u), (v - a * u) + (v - u), -(v - a * u) - a * (v - u))
        else:
            want = ((v - u) ** 2, 2 * (v - u), -2 * (v - u))
        assert (p, dV, dU) == pytest.approx(want, rel=1e-14, abs=1e-15)
    assert kernels._shifted(0.3, -0.5, 2.0) == 0.0 and kernels._shifted(0.3, 0.5, 2.0) == 1.3
    assert kernels._field_D(1.0, 2.0, 3.0, a) == pytest.approx(1.0 + 2.0 + a * 3.0)
    assert kernels._field_E(1.0, 2.0, 3.0) == 1.0 - 2.0 - 3.0


@pytest.mark.parametrize("name", ["complementarity", "squared"])
def test_coupling_methods_refuse_mismatched_shapes_by_name(name):
    c = make_coupling(name, 0.2)
    for method in (c.gaps, c.value, c.partials):
        with pytest.raises(ValueError, match=r"U must have shape \(2, 3\)"):
            method(np.ones((2, 3)), np.ones(3))


@pytest.mark.parametrize("name", ["complementarity", "squared"])
def test_coupling_methods_take_nested_lists(name):
    c = make_coupling(name, 0.2)
    V, U = [[1.0, 2.0]], [[0.0, 1.0]]
    assert c.value(V, U) == c.value(np.array(V), np.array(U))

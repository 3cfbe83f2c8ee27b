"""Properties of the numpy model that the other tests left unchecked: a review by mutation
(session 48) changed one line at a time of ``liftnet/formulation/`` and 10 changes with a
visible effect passed every test: ``subset``/``with_lam`` losing the coupling, ``beta`` or
dtype of a problem not at the defaults, float32 results in float64, a looser ``lam``/``beta``
limit, ``lagrangian_gradient`` lifting without the biases, a float32 coupling sum. Each test
below fails on at least one of them."""

import numpy as np
import pytest

from liftnet import LiftedProblem
from liftnet.formulation.couplings import make_coupling


@pytest.mark.parametrize("make", [lambda p: p.subset(np.arange(5)), lambda p: p.with_lam(0.2)])
def test_subset_and_with_lam_keep_every_non_default_setting(make):
    """``_like`` passes on every setting: with each one away from its default (the existing
    subset/with_lam tests use the default alpha, beta, coupling, groups and dtype, so dropping
    one of them from ``_like`` passed)."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    p = LiftedProblem(X, Y, hidden=(4,), alpha=0.3, beta=2.5, lam=0.1, groups="row",
                      coupling="squared", bias=True, dtype=np.float32)
    q = make(p)
    for attr in ("widths", "alpha", "beta", "groups", "coupling_name", "bias", "dtype"):
        assert getattr(q, attr) == getattr(p, attr), attr
    assert q.penalty.groups == "row" and q.X.dtype == np.float32


def test_float32_problem_methods_return_float32():
    """Every array a float32 problem hands out is float32 (a dropped cast in
    ``zero_multipliers``, ``sigma_slope`` or ``backprop_into`` passed every test)."""
    rng = np.random.default_rng(0)
    p = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4, 3),
                      bias=True, dtype=np.float32)
    W, b = p.initial_weights(0)
    M1, M2 = p.zero_multipliers()
    U, V = p.forward(W, b)
    arrays = {"W": W, "b": b, "M1": M1, "M2": M2, "U": U, "V": V,
              "sigma_slope": [p.sigma_slope(u) for u in U],
              "gradient": [a for part in p.lagrangian_gradient(W, b, V, M1, M2) for a in part]}
    for name, arrs in arrays.items():
        assert all(a.dtype == np.float32 for a in arrs), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["lam", "beta"])
def test_lam_and_beta_bound_is_1e_minus_2_sqrt_max(dtype, name):
    """The bound is exactly ``scale_limit`` = ``1e-2 sqrt(max)``: accepted at it, refused at
    twice it (the existing tests refused only values 100x beyond it)."""
    X, Y = np.ones((4, 2)), np.ones((4, 1))
    top = 1e-2 * float(np.sqrt(np.finfo(dtype).max))
    assert getattr(LiftedProblem(X, Y, hidden=(3,), dtype=dtype, **{name: top}), name) == top
    with pytest.raises(ValueError, match=rf"^{name}=.* is too large for"):
        LiftedProblem(X, Y, hidden=(3,), dtype=dtype, **{name: 2 * top})


def test_lagrangian_gradient_without_V_lifts_with_the_biases():
    """``lagrangian_gradient(W, b, None, ...)`` is the gradient at the exact lift of
    ``(W, b)``, biases included (the existing V=None test has no biases)."""
    rng = np.random.default_rng(0)
    p = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4,),
                      bias=True)
    W, _ = p.initial_weights(0)
    b = [rng.standard_normal(s) for s in p.b_shapes]
    M1 = [rng.random(s) for s in p.V_shapes]
    M2 = [rng.random(s) for s in p.V_shapes]
    got = p.layout.pack(*p.lagrangian_gradient(W, b, None, M1, M2))
    want = p.layout.pack(*p.lagrangian_gradient(W, b, p.lift(W, b), M1, M2))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_coupling_value_sums_float32_terms_in_float64(coupling):
    """``pi`` of float32 gaps is summed in float64: terms 1e8, 1, -+1e8 (exact in float32)
    keep the 1 (a float32 sum gave 0 for complementarity, 2e8 for squared)."""
    c = make_coupling(coupling, 0.1)
    g1 = np.array([1e4, 1.0, -1e4], dtype=np.float32)
    g2 = np.array([1e4, 1.0, 1e4], dtype=np.float32)
    assert c.value_from_gaps(g1, g2) == {"complementarity": 1.0, "squared": 2e8 + 1}[coupling]

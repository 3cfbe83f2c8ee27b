"""Starting points, reseeding and the lambda path: properties a mutation review (session 49)
found unpinned. Each test failed on a one-line change of ``liftnet/solvers/init.py`` or
``path.py`` that every other test passed: one negative multiplier entry accepted, a float32
start's biases in float64, a reseeded unit's multipliers left stale, a constant unit (zero row,
nonzero bias) taken for dead, the largest ``lam`` the dtype takes refused."""
import numpy as np
import pytest

from liftnet import LiftedProblem, solve_alm_path
from liftnet.datasets import make_teacher
from liftnet.formulation.problem import scale_limit
from liftnet.pruning import unit_masks
from liftnet.solvers.init import parse_init, reseed_dead_units


def _prob(bias=True, **kw):
    X, Y, _, _ = make_teacher(40, (3, 5, 4, 2), alpha=0.1, noise=0.05, seed=2, bias=False)
    return LiftedProblem(X, Y, hidden=(5, 4), bias=bias, lam=1e-2, **kw)


def test_one_negative_multiplier_entry_is_refused():
    prob = _prob()
    W, b = prob.initial_weights(0)
    M1, M2 = prob.zero_multipliers()
    M1[0][0, 0] = -1.0
    with pytest.raises(ValueError, match=r"init\['M1'\] must be nonnegative"):
        parse_init(prob, {"W": W, "M1": M1, "M2": M2})


def test_float32_default_bias_keeps_the_dtype():
    X, Y, _, _ = make_teacher(40, (3, 5, 4, 2), alpha=0.1, noise=0.05, seed=2, bias=False)
    p = LiftedProblem(X.astype(np.float32), Y.astype(np.float32), hidden=(5, 4), bias=True,
                      dtype=np.float32)
    W, _ = p.initial_weights(0)
    _, b, V, M1, M2 = parse_init(p, {"W": W})
    assert all(x.dtype == np.float32 for x in (*b, *V, *M1, *M2))


def test_reseeded_rows_get_both_fresh_multipliers():
    prob = _prob()
    W, b = prob.initial_weights(0)
    W[0][2, :] = 0.0  # unit 2 of hidden layer 1 dead (b = 0)
    V = prob.lift(W, b)
    rng = np.random.default_rng(0)
    M1 = [rng.uniform(5, 6, v.shape) for v in V]
    M2 = [rng.uniform(5, 6, v.shape) for v in V]
    new = reseed_dead_units(prob, {"W": W, "b": b, "V": V, "M1": M1, "M2": M2}, seed=1)
    fresh = reseed_dead_units(prob, {"W": W, "b": b, "V": V}, seed=1)  # estimates everywhere
    for key, old in (("M1", M1), ("M2", M2)):
        np.testing.assert_array_equal(new[key][0][2], fresh[key][0][2])
        live = np.arange(5) != 2
        np.testing.assert_array_equal(new[key][0][live], old[0][live])


def test_a_constant_unit_with_a_bias_is_live_and_kept():
    prob = _prob()
    W, b = prob.initial_weights(0)
    b = [0.1 * np.ones_like(x) for x in b]
    W[0][2, :] = 0.0  # outputs sigma(0.1) = 0.1 for every sample: a live unit
    assert unit_masks(W, b)[1][2]
    new = reseed_dead_units(prob, {"W": W, "b": b}, seed=1)
    assert new["reseeded"] == [0, 0]
    np.testing.assert_array_equal(new["W"][0], W[0])


def test_the_largest_lam_the_dtype_takes_is_accepted():
    X = np.random.default_rng(0).standard_normal((10, 3))
    prob = LiftedProblem(X, X[:, :1], hidden=(2,))
    assert len(solve_alm_path(prob, [scale_limit(prob.dtype)], max_iter=1)) == 1

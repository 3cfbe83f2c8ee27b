"""prune_weights deletes only units that do not change the network function."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet.formulation.problem import LiftedProblem
from liftnet.pruning import prune_weights, unit_masks


def outputs(W, b, X, alpha=0.1):
    """Network outputs through LiftedProblem (the one source of the formula)."""
    hidden = tuple(Wl.shape[0] for Wl in W[:-1])
    prob = LiftedProblem(
        X, np.zeros((X.shape[0], W[-1].shape[0])), hidden=hidden, alpha=alpha, bias=b is not None
    )
    return prob.predict(W, b, X)


def test_column_zero_removes_neuron_and_cascades():
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), rng.standard_normal((2, 5))]
    W[2][:, [1, 3]] = 0.0  # neurons 1, 3 of layer 2 unused
    W[1][[0, 2, 4], 2] = 0.0  # neuron 2 of layer 1 feeds only the unused ones -> cascades
    W[0][:, 1] = 0.0  # input feature 1 unused
    W2, b2, keep = prune_weights(W, None)
    assert [w.shape for w in W2] == [(3, 2), (3, 3), (2, 3)]
    assert keep[0].tolist() == [0, 2]
    assert keep[1].tolist() == [0, 1, 3]
    assert keep[2].tolist() == [0, 2, 4]
    assert b2 is None
    X = rng.standard_normal((20, 3))
    np.testing.assert_allclose(outputs(W2, None, X[:, keep[0]]), outputs(W, None, X), rtol=1e-13)


def test_zero_row_needs_zero_bias():
    rng = np.random.default_rng(1)
    W = [rng.standard_normal((3, 2)), rng.standard_normal((2, 3))]
    b = [rng.standard_normal(3), rng.standard_normal(2)]
    W[0][0] = 0.0
    W[0][1] = 0.0
    b[0][0] = 0.0  # neuron 0 outputs sigma(0) = 0: removable; neuron 1 outputs sigma(b) != 0
    W2, b2, keep = prune_weights(W, b)
    assert keep[1].tolist() == [1, 2]
    assert W2[0].shape == (2, 2) and b2[0].shape == (2,) and W2[1].shape == (2, 2)
    X = rng.standard_normal((10, 2))
    np.testing.assert_allclose(outputs(W2, b2, X), outputs(W, b, X), rtol=1e-13)


def test_constant_units_fold_into_the_next_bias_given_alpha():
    """A neuron with a zero incoming row and a nonzero bias outputs the constant
    ``sigma(b_l[j])``: with ``alpha`` it is folded into ``b_{l+1}`` and deleted (without, it
    stays: its output needs the slope), and the folding cascades."""
    rng = np.random.default_rng(1)
    W = [rng.standard_normal((3, 2)), rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    b = [rng.standard_normal(3), rng.standard_normal(4), rng.standard_normal(2)]
    b[0][1] = -abs(b[0][1])  # the negative branch of sigma: alpha matters
    W[0][1] = 0.0  # neuron 1 of layer 1: constant sigma(b_1[1])
    W[1][0, [0, 2]] = 0.0  # neuron 0 of layer 2 reads only that constant one: constant too
    X = rng.standard_normal((10, 2))
    for alpha in (0.1, 0.3):
        W2, b2, keep = prune_weights(W, b, alpha=alpha)
        assert keep[1].tolist() == [0, 2] and keep[2].tolist() == [1, 2, 3]
        np.testing.assert_allclose(outputs(W2, b2, X, alpha), outputs(W, b, X, alpha),
                                   rtol=1e-13, atol=1e-14)
    W2, b2, keep = prune_weights(W, b)  # no slope: nothing to fold
    assert keep[1].tolist() == [0, 1, 2] and keep[2].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="alpha must be < 1"):
        prune_weights(W, b, alpha=1.0)


@pytest.mark.parametrize("bias_dtype", [np.int64, np.bool_])
def test_integer_biases_fold_into_floating_ones(bias_dtype):
    """Folding a constant unit adds ``W sigma(b)`` to the next bias: integer or boolean biases
    (accepted as they are) become floating instead of failing inside numpy."""
    W = [np.array([[1, 2], [0, 0]]), np.array([[3, 4]])]  # hidden unit 1: zero row
    b = [np.array([0, 1]).astype(bias_dtype), np.array([1]).astype(bias_dtype)]
    W2, b2, keep = prune_weights(W, b, alpha=0.1)
    assert keep[1].tolist() == [0] and b2[1].dtype == np.float64
    X = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(outputs(W2, b2, X, 0.1), outputs(W, b, X, 0.1), rtol=1e-14)
    assert [x.dtype for x in prune_weights(W, b)[1]] == [np.dtype(bias_dtype)] * 2


def test_dead_layer_keeps_one_silent_unit():
    rng = np.random.default_rng(2)
    W = [rng.standard_normal((3, 2)), np.zeros((2, 3)), rng.standard_normal((2, 2))]
    b = [rng.standard_normal(3), np.array([0.5, -1.0]), rng.standard_normal(2)]
    W2, b2, keep = prune_weights(W, b)
    # layer 2 outputs the constant sigma(b_2); it keeps both units (biases nonzero)
    assert [w.shape for w in W2] == [(1, 1), (2, 1), (2, 2)]
    assert not np.any(W2[0]) and not np.any(W2[1]) and b2[0][0] == 0.0
    X = rng.standard_normal((7, 2))
    np.testing.assert_allclose(outputs(W2, b2, X[:, keep[0]]), outputs(W, b, X), rtol=1e-13)
    # with the slope, the constant layer is folded into the output bias: one silent unit each
    W2, b2, keep = prune_weights(W, b, alpha=0.1)
    assert [w.shape for w in W2] == [(1, 1), (1, 1), (2, 1)]
    np.testing.assert_allclose(outputs(W2, b2, X[:, keep[0]]), outputs(W, b, X), rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    widths=st.lists(st.integers(1, 6), min_size=3, max_size=5),
    bias=st.booleans(),
    p_zero=st.floats(0.0, 0.9),
)
def test_random_sparsity_same_function_fewer_or_equal_units(seed, widths, bias, p_zero):
    rng = np.random.default_rng(seed)
    L = len(widths) - 1
    W = [rng.standard_normal((widths[l + 1], widths[l])) for l in range(L)]
    b = [rng.standard_normal(widths[l + 1]) for l in range(L)] if bias else None
    for l in range(L):  # zero random columns and rows (and some biases)
        W[l][:, rng.random(widths[l]) < p_zero] = 0.0
        rows = rng.random(widths[l + 1]) < p_zero
        W[l][rows] = 0.0
        if bias and l < L - 1:
            b[l][rows & (rng.random(widths[l + 1]) < 0.5)] = 0.0
    W2, b2, keep = prune_weights(W, b)
    assert W2[-1].shape[0] == widths[-1]
    # exactly the used units are left, one silenced unit where a layer has none (a prune that
    # returned its input would fail here whenever a unit is dead)
    masks = unit_masks(W, b)
    assert [w.shape[1] for w in W2] == [max(1, int(m.sum())) for m in masks[:L]]
    for l in range(L):
        assert 1 <= W2[l].shape[1] <= widths[l]
    X = rng.standard_normal((15, widths[0]))
    np.testing.assert_allclose(
        outputs(W2, b2, X[:, keep[0]]), outputs(W, b, X), rtol=1e-12, atol=1e-12
    )
    # nothing left to prune: a second pass is the identity
    W3, _, keep3 = prune_weights(W2, b2)
    assert [w.shape for w in W3] == [w.shape for w in W2]
    # with the slope, constant units are folded too: the same function, no more units, and
    # no kept hidden unit with a zero incoming row (except a layer's silenced placeholder)
    W4, b4, keep4 = prune_weights(W, b, alpha=0.2)
    np.testing.assert_allclose(
        outputs(W4, b4, X[:, keep4[0]], 0.2), outputs(W, b, X, 0.2), rtol=1e-12, atol=1e-12
    )
    assert all(w4.shape[1] <= w2.shape[1] for w4, w2 in zip(W4, W2, strict=True))
    for l in range(1, L):
        rows_zero = ~np.any(W4[l - 1] != 0, axis=1)
        assert not np.any(rows_zero) or W4[l - 1].shape[0] == 1


@pytest.mark.parametrize("bias", [False, True])
def test_dense_network_unchanged(bias):
    rng = np.random.default_rng(3)
    W = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    b = [rng.standard_normal(4), rng.standard_normal(2)] if bias else None
    W2, b2, keep = prune_weights(W, b)
    for a, c in zip(W, W2, strict=True):
        np.testing.assert_array_equal(a, c)
    assert keep[0].tolist() == [0, 1, 2] and keep[1].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "W, b, exc, match",
    [(None, None, TypeError, "W must be a non-empty list"),
     (np.ones((2, 2)), None, TypeError, "W must be a non-empty list"),
     ([], None, ValueError, "W must be a non-empty list"),
     ([np.ones(3)], None, ValueError, r"W\[0\] must be 2-D"),
     ([np.ones((0, 3))], None, ValueError, r"W\[0\] must be 2-D and non-empty"),
     ([np.ones((2, 3)), np.ones((1, 3))], None, ValueError, r"W\[1\] must have 2 columns"),
     ([np.ones((2, 3)), np.full((1, 2), np.nan)], None, ValueError, r"W\[1\] must be finite"),
     ([[["a"]]], None, TypeError, r"W\[0\] must be a numeric array"),
     ([[[1, 2], [3]]], None, TypeError, r"W\[0\] must be a numeric array"),
     ([np.ones((2, 3)), np.ones((1, 2))], np.ones(2), TypeError, "b must be None or a list"),
     ([np.ones((2, 3)), np.ones((1, 2))], [np.ones(2)], ValueError, "b must hold 2 arrays"),
     ([np.ones((2, 3)), np.ones((1, 2))], [np.ones(2), np.ones(2)], ValueError,
      r"b\[1\] must have shape \(1,\)"),
     ([np.ones((2, 3)), np.ones((1, 2))], [np.ones(2), [np.nan]], ValueError,
      r"b\[1\] must be finite")],
)  # fmt: skip
def test_bad_networks_are_refused_naming_the_parameter(W, b, exc, match):
    with pytest.raises(exc, match=match):
        prune_weights(W, b)
    with pytest.raises(exc, match=match):
        unit_masks(W, b)


def test_array_likes_and_float32_are_accepted():
    W2, _, keep = prune_weights([[[1.0, 0.0]], [[2.0]]])
    assert [w.tolist() for w in W2] == [[[1.0]], [[2.0]]] and keep[0].tolist() == [0]
    W32 = [np.ones((2, 2), np.float32), np.ones((1, 2), np.float32)]
    assert all(w.dtype == np.float32 for w in prune_weights(W32)[0])


def test_a_layer_silenced_by_zero_rows_keeps_a_unit_with_zero_outgoing_weights():
    """A hidden layer whose rows (and biases) are all zero keeps one silent unit, with zero
    weights in and out (a mutation review: the outgoing column kept its weights, the same
    function, but a silent unit that ``active_groups_`` would count)."""
    rng = np.random.default_rng(0)
    for b in ([np.zeros(3), rng.standard_normal(2)], None):
        W = [np.zeros((3, 2)), rng.standard_normal((2, 3))]
        W2, b2, keep = prune_weights(W, b)
        assert [w.shape for w in W2] == [(1, 1), (2, 1)]
        assert not np.any(W2[0]) and not np.any(W2[1])
        if b is not None:
            assert b2[0][0] == 0.0 and np.array_equal(b2[1], b[1])


@pytest.mark.parametrize("alpha", [None, 0.2])
def test_prune_weights_keep_has_one_array_per_weight_matrix(alpha):
    """``keep`` holds L arrays as documented: the inputs and the L-1 hidden layers (not the
    output layer)."""
    rng = np.random.default_rng(1)
    W = [rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((1, 2))]
    b = [rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(1)]
    _, _, keep = prune_weights(W, b, alpha=alpha)
    assert len(keep) == len(W)
    assert [k.tolist() for k in keep] == [[0, 1, 2, 3], [0, 1, 2], [0, 1]]


# A mutation review (session 51).
@pytest.mark.parametrize("alpha", [None, 0.1])
def test_prune_weights_does_not_write_into_its_inputs(alpha):
    """The caller's ``W`` and ``b`` are left as they were: the silenced placeholder of a dead
    layer and the folded constants are written into copies (a ``W_new = list(W)`` or an
    ``astype(..., copy=False)`` zeroed the caller's columns and grew its biases)."""
    rng = np.random.default_rng(4)
    # layer 1: every row zero, unit 0 with zero bias (dead), the others constants; layer 2
    # then reads constants only
    W = [np.zeros((3, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 2))]
    b = [np.array([0.0, 0.7, -0.4]), rng.standard_normal(2), rng.standard_normal(2)]
    W_before, b_before = [w.copy() for w in W], [x.copy() for x in b]
    prune_weights(W, b, alpha=alpha)
    # a second network: a whole hidden layer dead (zero rows and biases), its columns nonzero
    V = [np.zeros((3, 2)), rng.standard_normal((2, 3))]
    c = [np.zeros(3), rng.standard_normal(2)]
    V_before, c_before = [w.copy() for w in V], [x.copy() for x in c]
    prune_weights(V, c, alpha=alpha)
    for got, want in zip(W + b + V + c, W_before + b_before + V_before + c_before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_alpha_must_be_positive():
    W = [np.ones((2, 3)), np.ones((1, 2))]
    with pytest.raises(ValueError, match="alpha must be > 0"):
        prune_weights(W, [np.ones(2), np.ones(1)], alpha=0.0)


@pytest.mark.parametrize("b, match", [
    ([np.ones(2), np.ones(1), np.ones(1)], r"b must hold 2 arrays \(one per W\[l\]\), got 3"),
    ([np.ones((2, 1)), np.ones(1)], r"b\[0\] must have shape \(2,\), got \(2, 1\)"),
    ([np.ones(2), np.ones((1, 1))], r"b\[1\] must have shape \(1,\), got \(1, 1\)"),
])  # fmt: skip
def test_biases_of_the_wrong_count_or_shape_are_refused(b, match):
    W = [np.ones((2, 3)), np.ones((1, 2))]
    with pytest.raises(ValueError, match=match):
        prune_weights(W, b)


@pytest.mark.parametrize("alpha", [None, 0.1])
def test_a_layer_whose_only_survivor_is_unit_0_keeps_its_weights(alpha):
    """Unit 0 alone alive in a hidden layer is kept as it is, not taken for the silenced
    placeholder of an empty layer (its weights zeroed)."""
    rng = np.random.default_rng(5)
    W = [rng.standard_normal((3, 2)), rng.standard_normal((2, 3))]
    W[1][:, 1:] = 0.0  # units 1, 2 of the hidden layer unused
    b = [rng.standard_normal(3), rng.standard_normal(2)]
    W2, b2, keep = prune_weights(W, b, alpha=alpha)
    assert keep[1].tolist() == [0] and np.any(W2[0]) and np.any(W2[1])
    X = rng.standard_normal((8, 2))
    a = 0.1 if alpha is None else alpha
    np.testing.assert_allclose(outputs(W2, b2, X[:, keep[0]], a), outputs(W, b, X, a),
                               rtol=1e-13)


def test_a_unit_fed_only_by_a_dead_unit_is_constant_and_folds():
    W = [np.array([[0.0], [1.5]]),               # layer 1: unit 0 dead (zero row, zero bias)
         np.array([[2.0, 0.0], [0.0, -1.0]]),    # layer 2: unit 0 reads only the dead unit
         np.array([[1.0, 0.5]])]
    b = [np.array([0.0, 0.3]), np.array([0.7, -0.2]), np.array([0.1])]
    X = np.linspace(-2.0, 2.0, 9)[:, None]
    W2, b2, keep = prune_weights(W, b, alpha=0.2)
    assert keep[1].tolist() == [1] and keep[2].tolist() == [1]  # unit 0 of layer 2 folded
    assert b2[2][0] == pytest.approx(0.1 + 1.0 * 0.7)  # sigma(0.7) = 0.7 joins the output bias
    np.testing.assert_allclose(outputs(W2, b2, X[:, keep[0]], 0.2), outputs(W, b, X, 0.2),
                               rtol=1e-13, atol=1e-15)
    # without alpha nothing folds: the unit stays, its row (now empty of live inputs) zero
    W3, _, keep3 = prune_weights(W, b)
    assert keep3[2].tolist() == [0, 1]


# New test for tests/test_pruning.py. Likewise no random draw gives a unit whose only nonzero
# inputs come from dead units and whose bias is 0: it outputs sigma(0) = 0 and must go
# (_unit_masks' `feeds` reads the row on the kept units only; reading the whole row kept it,
# and every test in test_pruning, test_symmetries and test_reseed still passed).


@pytest.mark.parametrize("bias", [False, True])
def test_a_unit_fed_only_by_dead_units_is_dead(bias):
    W = [np.array([[0.0], [1.5]]),               # layer 1: unit 0 dead (zero row, zero bias)
         np.array([[2.0, 0.0], [0.0, -1.0]]),    # layer 2: unit 0 reads only the dead unit
         np.array([[1.0, 0.5]])]
    b = [np.array([0.0, 0.3]), np.array([0.0, -0.2]), np.array([0.1])] if bias else None
    masks = unit_masks(W, b)
    assert masks[1].tolist() == [False, True] and masks[2].tolist() == [False, True]
    W2, b2, keep = prune_weights(W, b)
    assert [w.shape for w in W2] == [(1, 1), (1, 1), (1, 1)]
    assert keep[1].tolist() == [1] and keep[2].tolist() == [1]
    X = np.linspace(-2.0, 2.0, 9)[:, None]
    np.testing.assert_allclose(outputs(W2, b2, X[:, keep[0]]), outputs(W, b, X),
                               rtol=1e-13, atol=1e-15)

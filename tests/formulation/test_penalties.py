"""GroupLasso: prox and subdifferential distance on known cases; exact zeros."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from liftnet.formulation.penalties import GroupLasso


def test_column_prox_known_case():
    W = np.array([[3.0, 0.1], [4.0, 0.0]])  # column norms 5 and 0.1
    out = GroupLasso(1.0, "column").prox(W, 1.0)
    np.testing.assert_allclose(out[:, 0], W[:, 0] * (1 - 1 / 5))
    assert np.all(out[:, 1] == 0.0)  # exact zeros


def test_row_and_element_prox():
    W = np.array([[3.0, 4.0], [0.3, 0.4]])
    out = GroupLasso(2.0, "row").prox(W, 1.0)
    np.testing.assert_allclose(out[0], W[0] * (1 - 2 / 5))
    assert np.all(out[1] == 0.0)
    out = GroupLasso(0.5, "element").prox(np.array([[1.0, -0.2]]), 1.0)
    np.testing.assert_allclose(out, [[0.5, 0.0]])


@settings(max_examples=40, deadline=None)
@given(
    W=arrays(np.float64, (3, 4), elements=st.floats(-3, 3)),
    t=st.floats(0.01, 2.0),
    groups=st.sampled_from(["column", "row", "element"]),
)
def test_prox_is_the_minimiser(W, t, groups):
    pen = GroupLasso(0.7, groups)
    P = pen.prox(W, t)
    obj = lambda X: pen.value(X) * t + 0.5 * np.sum((X - W) ** 2)  # noqa: E731
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert obj(P) <= obj(P + 1e-3 * rng.standard_normal(W.shape)) + 1e-12
    # optimality: (W - P)/t is in lam dR(P)
    assert np.max(pen.subdiff_distance(P, (P - W) / t)) < 1e-9


def test_subdiff_distance_known_cases():
    pen = GroupLasso(1.0, "column")
    W = np.array([[3.0, 0.0], [4.0, 0.0]])
    Q = np.array([[-0.6, 0.3], [-0.8, 0.4]])  # = -lam * w/||w|| on column 0; ||q||=0.5 on column 1
    np.testing.assert_allclose(pen.subdiff_distance(W, Q), [0.0, 0.0], atol=1e-15)
    Q2 = np.array([[0.0, 3.0], [0.0, 4.0]])  # zero group with ||q|| = 5 > lam
    np.testing.assert_allclose(pen.subdiff_distance(W, Q2)[1], 4.0)
    Q3 = np.array([[0.6, 0.0], [0.8, 0.0]])  # nonzero group, gradient along w
    np.testing.assert_allclose(pen.subdiff_distance(W, Q3)[0], 2.0)


def test_unknown_groups():
    with pytest.raises(ValueError, match="groups"):
        GroupLasso(1.0, "block")


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_per_entry_and_keep_groups_follow_the_groups(groups):
    """Each entry carries its own group's value; zeroing a group zeroes exactly its entries."""
    pen = GroupLasso(1.0, groups)
    W = np.arange(1.0, 13.0).reshape(3, 4)
    ids = {"column": np.tile(np.arange(4), (3, 1)), "row": np.repeat(np.arange(3), 4).reshape(3, 4),
           "element": np.arange(12).reshape(3, 4)}[groups]
    norms = pen.group_norms(W)
    spread = pen.per_entry(norms, W.shape)
    for g in np.unique(ids):
        np.testing.assert_allclose(spread[ids == g], np.linalg.norm(W[ids == g]))
    keep = np.ones(norms.shape, dtype=bool)
    keep.flat[1] = False  # drop the second group
    out = pen.keep_groups(W.copy(), keep)
    np.testing.assert_array_equal(out == 0, ids == 1)
    np.testing.assert_array_equal(out[ids != 1], W[ids != 1])


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
    groups=st.sampled_from(["column", "row", "element"]),
    seed=st.integers(0, 2**16),
    zero=st.booleans(),
)
def test_flat_groups_agree_with_the_matrix_methods(shapes, groups, seed, zero):
    """Matrices laid end to end (as the ALM packs its W blocks): per-group norms, inner
    products, the zero mask, ``keep`` and the subdifferential residual agree with the matrix
    methods applied one matrix at a time; on the subdifferential residual also with its
    defining cases (``Q + lam W/||W||`` on nonzero groups, the prox of ``Q`` on zero ones)."""
    rng = np.random.default_rng(seed)
    pen = GroupLasso(0.7, groups)
    Ws = [rng.standard_normal(s) for s in shapes]
    if zero:  # zero the first group of every matrix, exactly
        for W in Ws:
            keep = np.ones(pen.group_norms(W).shape, dtype=bool)
            keep.flat[0] = False
            pen.keep_groups(W, keep)
    Qs = [rng.standard_normal(s) for s in shapes]
    flat = pen.flat(shapes)
    w = np.concatenate([W.ravel() for W in Ws])
    q = np.concatenate([Q.ravel() for Q in Qs])
    assert flat.n_groups == sum(pen.n_groups(s) for s in shapes)
    np.testing.assert_allclose(flat.norms(w),
                               np.concatenate([pen.group_norms(W).ravel() for W in Ws]))
    assert flat.value(w) == pytest.approx(sum(pen.value(W) for W in Ws), rel=1e-12)
    np.testing.assert_allclose(flat.inner(w, q),
                               np.concatenate([pen.group_inner(W, Q).ravel()
                                               for W, Q in zip(Ws, Qs)]))
    nz = np.concatenate([pen.group_norms(W).ravel() > 0 for W in Ws])
    expect = np.concatenate([
        np.where(pen.per_entry(pen.group_norms(W) > 0, W.shape),
                 Q + 0.7 * W / pen.per_entry(np.maximum(pen.group_norms(W), 1e-300), W.shape),
                 pen.prox(Q, 1.0)).ravel()
        for W, Q in zip(Ws, Qs)])
    np.testing.assert_allclose(flat.subdiff_residual(w, q), expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(flat.per_entry(~nz), np.concatenate(
        [pen.per_entry(pen.group_norms(W) == 0, W.shape).ravel() for W in Ws]))
    keep = rng.random(flat.n_groups) < 0.5
    kept = flat.keep(w.copy(), keep)
    assert np.all(flat.norms(kept)[~keep] == 0.0)
    np.testing.assert_array_equal(kept[flat.per_entry(keep)], w[flat.per_entry(keep)])
    # the compiled per-group sums add in entry order, as np.bincount does: the same bits
    np.testing.assert_array_equal(flat.inner(w, q),
                                  np.bincount(flat.gid, weights=w * q, minlength=flat.n_groups))
    # keep_aligned: the groups pointing against ref are zeroed, the others kept as they are
    aligned = np.concatenate([pen.group_inner(W, Q).ravel() > 0 for W, Q in zip(Ws, Qs)])
    np.testing.assert_array_equal(flat.keep_aligned(w.copy(), q),
                                  np.where(flat.per_entry(aligned), w, 0.0))
    # written into out; in float32 the same residual to single precision
    out = np.full_like(q, np.nan)
    assert flat.subdiff_residual(w, q, out=out) is out
    np.testing.assert_array_equal(out, flat.subdiff_residual(w, q))
    r32 = flat.subdiff_residual(w.astype(np.float32), q.astype(np.float32))
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, expect, rtol=1e-5, atol=1e-5)

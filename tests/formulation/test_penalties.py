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
    # the runs the compiled loops read (FlatGroups.segs) lay out the groups as the per-entry
    # index does: every entry once, in order, in its group
    ends = np.cumsum(flat.segs[:, 2])
    np.testing.assert_array_equal(flat.segs[:, 0], np.r_[0, ends[:-1]])
    assert (ends[-1] if ends.size else 0) == flat.size
    for e0, g0, n, step in flat.segs:
        np.testing.assert_array_equal(flat.gid[e0:e0 + n], g0 + step * np.arange(n))
    # the compiled per-group sums add in entry order, as np.bincount does: the same bits
    np.testing.assert_array_equal(flat.inner(w, q),
                                  np.bincount(flat.gid, weights=w * q, minlength=flat.n_groups))
    # keep_aligned: the groups pointing against ref are zeroed, the others kept as they are
    aligned = np.concatenate([pen.group_inner(W, Q).ravel() > 0 for W, Q in zip(Ws, Qs)])
    np.testing.assert_array_equal(flat.keep_aligned(w.copy(), q),
                                  np.where(flat.per_entry(aligned), w, 0.0))
    # the one-call shortcuts of the inner solver: the same bits as the methods they fuse
    assert flat.max_norm(w) == flat.norms(w).max()
    np.testing.assert_array_equal(flat.zero_entries(w), flat.per_entry(flat.inner(w, w) == 0))
    # written into out; in float32 the same residual to single precision
    out = np.full_like(q, np.nan)
    assert flat.subdiff_residual(w, q, out=out) is out
    np.testing.assert_array_equal(out, flat.subdiff_residual(w, q))
    r32 = flat.subdiff_residual(w.astype(np.float32), q.astype(np.float32))
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, expect, rtol=1e-5, atol=1e-5)


# ---- argument checks: sizes (memory safety), dtypes, lam/step, the identity prox


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_a_second_array_of_another_shape_is_refused_by_name(groups):
    """The compiled subdifferential loop ran over ``W``'s entries and read and wrote ``Q``'s
    (and its output's) past their end: a small ``Q`` corrupted memory (a segfault or "double
    free" later), one of the same size but another shape gave a silent wrong result. Every
    method of two arrays refuses the second one's shape by name before computing."""
    pen = GroupLasso(0.5, groups)
    W = np.arange(1.0, 10001.0).reshape(100, 100)
    for Q in (np.zeros((2, 2)), np.zeros(10000), np.zeros((100, 101))):
        with pytest.raises(ValueError, match=r"Q must have the shape of W, \(100, 100\)"):
            pen.subdiff_residual(W, Q)
        with pytest.raises(ValueError, match="Q must have the shape of W"):
            pen.subdiff_distance(W, Q)
    W, Q = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, -1.0]]), np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=r"Q must have the shape of W, \(2, 3\), got \(3, 2\)"):
        pen.subdiff_distance(W, Q)  # the same size: was paired entry by entry
    with pytest.raises(ValueError, match="B must have the shape of A"):
        pen.group_inner(W, np.ones((1, 3)))  # element groups broadcast it
    with pytest.raises(ValueError, match="W must be a 2-D"):
        pen.subdiff_residual(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="keep must hold one value per"):
        pen.keep_groups(W.copy(), np.ones(1, dtype=bool))  # broadcast over every group
    with pytest.raises(ValueError, match="per_group must hold one value per"):
        pen.per_entry(np.ones(1), W.shape)


_FLAT_CALLS = [  # (call with the bad vector x, the good w, q, keep; the name in the error)
    (lambda f, x, w, q, k: f.inner(x, q), "a"), (lambda f, x, w, q, k: f.inner(w, x), "b"),
    (lambda f, x, w, q, k: f.norms(x), "w"), (lambda f, x, w, q, k: f.value(x), "w"),
    (lambda f, x, w, q, k: f.subdiff_residual(x, q), "w"),
    (lambda f, x, w, q, k: f.subdiff_residual(w, x), "q"),
    (lambda f, x, w, q, k: f.subdiff_residual(w, q, out=x), "out"),
    (lambda f, x, w, q, k: f.keep(x, k), "w"),
    (lambda f, x, w, q, k: f.keep_aligned(w, x), "ref"),
    (lambda f, x, w, q, k: f.keep_aligned(x, q), "w"),
    (lambda f, x, w, q, k: f.max_norm(x), "w"), (lambda f, x, w, q, k: f.zero_entries(x), "w"),
]


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_flat_groups_refuse_vectors_of_another_size(groups):
    """FlatGroups' compiled loops index one array by another's length (``w`` by ``q``, ``out``,
    ``gid``; the groups by ``keep``): each method compares the shapes first."""
    pen = GroupLasso(0.5, groups)
    shapes = [(3, 4), (2, 3)]
    flat = pen.flat(shapes)
    n, m = 18, flat.n_groups
    w, q, keep = np.ones(n), np.ones(n), np.ones(m, dtype=bool)
    for x in (np.ones(2), np.ones(n + 50), np.ones((n, 1)), np.ones((1, n))):
        for call, name in _FLAT_CALLS:
            with pytest.raises(ValueError, match=f"^{name} must be a 1-d array of the {n} "):
                call(flat, x.copy(), w.copy(), q, keep)
    for x in (np.ones(m - 1, dtype=bool), np.ones(m + 40, dtype=bool), np.ones((m, 1), bool)):
        with pytest.raises(ValueError, match=f"^keep must be a 1-d array of one value for each "
                                             f"of the {m} groups"):
            flat.keep(w.copy(), x)
        with pytest.raises(ValueError, match="^per_group must be a 1-d array of one value"):
            flat.per_entry(x)
    # the right sizes still work
    np.testing.assert_array_equal(flat.subdiff_residual(w, q), np.concatenate(
        [pen.subdiff_residual(np.ones(s), np.ones(s)).ravel() for s in shapes]))


def test_a_small_Q_cannot_corrupt_memory():
    """The audit's reproducer in a child process (a memory error there cannot take pytest
    down): the call is refused and the process ends normally."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from liftnet.formulation.penalties import GroupLasso\n"
        "W = np.arange(1.0, 250001.0).reshape(500, 500)\n"
        "for groups in ('element', 'column', 'row'):\n"
        "    for k in range(20):\n"
        "        try:\n"
        "            GroupLasso(0.5, groups).subdiff_distance(W, np.zeros((2, 2)))\n"
        "        except ValueError as exc:\n"
        "            assert 'Q must have the shape of W' in str(exc), exc\n"
        "        x = [np.ones(1000) for _ in range(100)]\n"
        "print('survived')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ,
                                           "PYTHONPATH": __import__("os").pathsep.join(sys.path)})
    assert run.returncode == 0 and "survived" in run.stdout, (run.returncode, run.stderr[-2000:])


@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("int_dtype", [np.int64, np.int32, np.int8])
def test_integer_and_boolean_arrays_are_computed_in_floating_point(groups, int_dtype):
    """The prox of an integer ``W`` was all zeros (its factors cast to the integer dtype) and
    the subdifferential residual of an integer ``Q`` integer-valued: they are computed in
    ``np.result_type(x, 1.0)`` (float64), equal to the float64 results bit for bit."""
    pen = GroupLasso(0.5, groups)
    Wi = np.array([[3, 0, 1], [4, 0, -1]], dtype=int_dtype)
    Qi = np.array([[1, 1, 1], [1, -2, 1]], dtype=int_dtype)
    Wf, Qf = Wi.astype(np.float64), Qi.astype(np.float64)
    P = pen.prox(Wi, 2.0)
    assert P.dtype == np.float64 and np.any(P != 0)
    np.testing.assert_array_equal(P, pen.prox(Wf, 2.0))
    for W, Q in [(Wf, Qi), (Wi, Qf), (Wi, Qi)]:
        R = pen.subdiff_residual(W, Q)
        assert R.dtype == np.float64
        np.testing.assert_array_equal(R, pen.subdiff_residual(Wf, Qf))
        D = pen.subdiff_distance(W, Q)
        assert D.dtype == np.float64
        np.testing.assert_array_equal(D, pen.subdiff_distance(Wf, Qf))
    for f in (pen.group_norms, pen.value, pen.zero_groups):
        np.testing.assert_array_equal(f(Wi), f(Wf))
    np.testing.assert_array_equal(pen.group_inner(Wi, Qi), pen.group_inner(Wf, Qf))
    if groups == "column":  # a known case: column 0 of norm 5 shrinks by 1 - 1/5
        np.testing.assert_allclose(P[:, 0], [2.4, 3.2])
        np.testing.assert_allclose(pen.subdiff_distance(Wf, Qi), [1.910497, 5 ** 0.5 - 0.5, 1.5],
                                   rtol=1e-6)
    # booleans: sums, not logical ors (a column of two True has norm sqrt(2))
    B = np.array([[True, True], [True, False]])
    np.testing.assert_array_equal(pen.group_norms(B), pen.group_norms(B.astype(float)))
    np.testing.assert_array_equal(pen.prox(B, 0.5), pen.prox(B.astype(float), 0.5))
    flat = pen.flat([Wi.shape])
    r = flat.subdiff_residual(Wi.ravel(), Qi.ravel())
    assert r.dtype == np.float64
    np.testing.assert_array_equal(r, flat.subdiff_residual(Wf.ravel(), Qf.ravel()))
    np.testing.assert_array_equal(flat.inner(Wi.ravel(), Qi.ravel()),
                                  flat.inner(Wf.ravel(), Qf.ravel()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_arrays_keep_their_dtype(dtype):
    """float32 and float64 are computed in their own dtype, as before."""
    pen = GroupLasso(0.5, "column")
    W = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, -1.0]], dtype=dtype)
    assert pen.prox(W, 2.0).dtype == dtype
    assert pen.prox(W, 0.0).dtype == dtype
    assert GroupLasso(0.0).prox(W, 1.0).dtype == dtype
    assert pen.subdiff_residual(W, W).dtype == dtype
    assert pen.group_norms(W).dtype == dtype


@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("dtype, tiny", [(np.float64, 1e-200), (np.float32, 1e-30)])
def test_prox_with_step_times_lam_zero_is_the_identity(groups, dtype, tiny):
    """With ``step * lam = 0`` the prox is the identity, also on groups whose squared norm
    underflows to 0 (they were zeroed: ``norms > t`` is False at ``t = 0``)."""
    W = (np.array([[3.0, 1.0], [4.0, -1.0]]) * tiny).astype(dtype)
    assert np.all(W != 0)
    for pen, step in [(GroupLasso(0.0, groups), 1.0), (GroupLasso(0.7, groups), 0.0)]:
        P = pen.prox(W, step)
        assert P.dtype == dtype
        np.testing.assert_array_equal(P, W)
        out = W.copy()
        assert pen.prox(out, step, out=out) is out
        np.testing.assert_array_equal(out, W)


@pytest.mark.parametrize(
    "lam, exc, match",
    [(-1.0, ValueError, "lam must be >= 0"), (float("nan"), ValueError, "lam must be finite"),
     (float("inf"), ValueError, "lam must be finite"), ("0.1", TypeError, "lam must be a real"),
     (None, TypeError, "lam must be a real"), (True, TypeError, "lam must be a real"),
     (np.array([0.1]), TypeError, "lam must be a real")],
)
def test_bad_lam_is_refused_by_name(lam, exc, match):
    """``lam = -1`` expanded ``W`` in the prox, NaN gave NaN values, ``"0.1"`` was parsed."""
    with pytest.raises(exc, match=match):
        GroupLasso(lam, "column")


@pytest.mark.parametrize(
    "step, exc, match",
    [(-1.0, ValueError, "step must be >= 0"), (float("nan"), ValueError, "step must be finite"),
     (np.float32("nan"), ValueError, "step must be finite"), (-1, ValueError, "step must be"),
     (float("inf"), ValueError, "step must be finite"), ("1", TypeError, "step must be a real"),
     (None, TypeError, "step must be a real")],
)
def test_bad_prox_step_is_refused_by_name(step, exc, match):
    """A negative step expanded ``W``, a NaN one returned zeros."""
    W = np.array([[3.0, 0.0], [4.0, 1.0]])
    with pytest.raises(exc, match=match):
        GroupLasso(1.0, "column").prox(W, step)


def test_good_lam_and_step_values():
    """Integers and numpy scalars are real numbers; ``lam`` becomes a float."""
    W = np.array([[3.0, 0.0], [4.0, 1.0]])
    for lam in (0, 1, 0.5, np.float32(0.5), np.float64(0.5), np.int64(1)):
        pen = GroupLasso(lam, "row")
        assert type(pen.lam) is float and pen.lam == float(lam)
    ref = GroupLasso(1.0, "column").prox(W, 1.0)
    for step in (1, np.float32(1.0), np.float64(1.0), np.int64(1)):
        np.testing.assert_array_equal(GroupLasso(1.0, "column").prox(W, step), ref)


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_keep_aligned_keeps_a_group_only_when_strictly_aligned(groups):
    """The line search's orthant projection zeroes the groups with ``<w[g], ref[g]> <= 0``: a
    group orthogonal to ``ref`` is zeroed as one pointing against it (a ``>= 0`` test kept it
    and no test saw it: random data never makes the product exactly 0)."""
    flat = GroupLasso(0.1, groups).flat([(2, 1)])  # one group of 2 (column), 2 of 1 otherwise
    for ref, kept in (([0.0, 1.0], (False, True)), ([-1.0, 0.0], (False, True)),
                      ([1.0, 0.0], (True, True)), ([1e-300, 5.0], (True, True))):  # fmt: skip
        w = flat.keep_aligned(np.array([1.0, 0.0]), np.array(ref))
        if groups == "column":  # one group: <w, ref> = ref[0]
            assert (w[0] != 0) == kept[0], (ref, w)
        else:  # groups of one entry: the first kept iff ref[0] > 0, the second is 0 anyway
            assert (w[0] != 0) == (ref[0] > 0), (ref, w)
        assert w[1] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_group_calls_treat_nan_as_the_separate_ones(dtype):
    """``max_norm`` is NaN when a group norm is (as ``norms(w).max()``), 0 without nonzero
    groups; ``keep_aligned`` zeroes a group whose product with ``ref`` is NaN (``NaN > 0`` is
    false, as in ``keep(w, inner(w, ref) > 0)``); ``zero_entries`` flags the exact zeros only."""
    flat = GroupLasso(0.1, "column").flat([(2, 3)])  # groups {0, 3}, {1, 4}, {2, 5}
    w = np.array([1.0, 0.0, 3.0, 2.0, 0.0, np.nan], dtype=dtype)
    assert np.isnan(flat.max_norm(w)) and np.isnan(flat.norms(w).max())
    assert flat.max_norm(np.zeros(6, dtype=dtype)) == 0.0
    assert flat.max_norm(np.array([3.0, 0, 0, 4.0, 0, 0], dtype=dtype)) == 5.0
    ref = np.ones(6, dtype=dtype)
    out = flat.keep_aligned(w.copy(), ref)
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0, 2.0, 0.0, 0.0])
    assert out.dtype == dtype
    np.testing.assert_array_equal(flat.zero_entries(w), [False, True, False, False, True, False])
    # integer entries: computed in floating point, as the other methods
    assert flat.max_norm(np.array([3, 0, 0, 4, 0, 0])) == 5.0
    np.testing.assert_array_equal(flat.keep_aligned(np.array([1, 2, 3, 1, 2, 3]),
                                                    np.array([-1, 1, 1, -1, 1, 1])),
                                  [0, 2, 3, 0, 2, 3])


def test_n_zero_groups_counts_the_exact_zero_groups():
    """``n_zero_groups`` (the sparsity every solver and the comparison report) counts the
    groups with ``||W[g]|| = 0``: a ``<`` for ``<=`` counted none, and only a baseline test
    noticed."""
    W = [np.zeros((2, 3)), np.array([[1.0, 0.0], [0.0, 0.0]])]
    counts = {"column": 3 + 1, "row": 2 + 1, "element": 6 + 3}
    for groups, n in counts.items():
        assert GroupLasso(0.1, groups).n_zero_groups(W) == n
    assert GroupLasso(0.1, "column").n_zero_groups([np.full((2, 3), 1e-150)]) == 0


# ---- a second mutation review (session 49): dtypes, out, and thresholds at the edges


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_prox_at_step_zero_is_a_float_copy_written_into_out(groups):
    """With ``step * lam = 0`` the prox still returns
    a new array in ``np.result_type(W, 1.0)`` and fills a separate ``out``."""
    pen = GroupLasso(0.7, groups)
    Wi = np.array([[3, 0], [4, -1]])
    P = pen.prox(Wi, 0.0)
    assert P.dtype == np.float64 and P is not Wi
    np.testing.assert_array_equal(P, Wi)
    W = Wi.astype(np.float64)
    out = np.full_like(W, np.nan)
    assert pen.prox(W, 0.0, out=out) is out
    np.testing.assert_array_equal(out, W)
    P = pen.prox(W, 0.0)
    P[0, 0] = 99.0  # the result does not alias the input
    assert W[0, 0] == 3.0


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_prox_of_float32_stays_float32_for_numpy_float64_step_and_lam(groups):
    """A numpy float64 step (or lam) makes ``t`` a strong float64 scalar: the shrink
    factors are cast back, so float32 stays float32."""
    W = np.array([[3.0, 0.1], [4.0, 0.2]], dtype=np.float32)
    for lam, step in [(np.float64(0.5), np.float64(1.0)), (0.5, np.float64(1.0)),
                      (np.float64(0.5), 1.0)]:
        P = GroupLasso(lam, groups).prox(W, step)
        assert P.dtype == np.float32, (lam, step)
        np.testing.assert_allclose(P, GroupLasso(0.5, groups).prox(W.astype(np.float64), 1.0),
                                   rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_keep_aligned_of_integer_vectors_zeroes_orthogonal_groups(groups):
    """Integer vectors take ``keep_aligned``'s numpy path, which zeroes a group with
    ``<w[g], ref[g]> = 0`` as the compiled one does."""
    flat = GroupLasso(0.1, groups).flat([(2, 1)])
    w = flat.keep_aligned(np.array([1, 0]), np.array([0, 1]))
    np.testing.assert_array_equal(w, [0, 0])
    w = flat.keep_aligned(np.array([1, 0]), np.array([2, 1]))
    np.testing.assert_array_equal(w, [1, 0])


@pytest.mark.parametrize("wd, qd", [(np.float32, np.float64), (np.float64, np.float32)])
def test_subdiff_residual_is_in_q_dtype_when_w_dtype_differs(wd, qd):
    """The residual is in ``Q``'s dtype as documented, whatever ``W``'s."""
    pen = GroupLasso(0.5, "column")
    W = np.array([[3.0, 0.0], [4.0, 0.0]], dtype=wd)
    Q = np.array([[0.1, 1.0], [0.2, 2.0]], dtype=qd)
    R = pen.subdiff_residual(W, Q)
    assert R.dtype == qd
    flat = pen.flat([W.shape])
    assert flat.subdiff_residual(W.ravel(), Q.ravel()).dtype == qd
    np.testing.assert_allclose(R[:, 1], np.array([1.0, 2.0]) * (1 - 0.5 / 5 ** 0.5), rtol=1e-6)


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_zero_entries_flags_only_exact_zero_groups_not_tiny_ones(groups):
    """A group of
    norm 1e-155 (squared 1e-310, nonzero) is not a zero group; ``zero_entries`` agrees with
    ``inner(w, w) == 0``."""
    flat = GroupLasso(0.1, groups).flat([(2, 2)])
    w = np.array([1e-155, 0.0, 1e-155, 0.0])
    assert np.all(flat.inner(w, w)[flat.gid[[0, 2]]] > 0)
    np.testing.assert_array_equal(flat.zero_entries(w), flat.per_entry(flat.inner(w, w) == 0))
    assert not flat.zero_entries(w)[0] and not flat.zero_entries(w)[2]


def test_prox_with_a_tiny_positive_threshold_still_thresholds():
    """A positive ``step * lam`` below
    1e-300 still zeroes the groups of norm ``<= t`` (element groups: ``|w|``)."""
    pen = GroupLasso(1.0, "element")
    W = np.array([[1e-310, 3e-305]])
    P = pen.prox(W, 1e-305)
    assert P[0, 0] == 0.0
    np.testing.assert_allclose(P[0, 1], 2e-305, rtol=1e-12)


@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
def test_group_lasso_refuses_a_W_that_is_no_matrix_naming_it(groups, shape):
    """Its Notes: ``W`` is a 2-D array. Only ``subdiff_residual`` refused another: column and
    row groups failed inside ``np.einsum``, element groups summed a vector or a 3-D array."""
    pen = GroupLasso(0.3, groups)
    W = np.ones(shape)
    for call in (lambda: pen.group_norms(W), lambda: pen.value(W), lambda: pen.prox(W, 0.1),
                 lambda: pen.zero_groups(W), lambda: pen.n_zero_groups([W]),
                 lambda: pen.subdiff_distance(W, W)):
        with pytest.raises(ValueError, match=r"W must be a 2-D"):
            call()
    with pytest.raises(ValueError, match=r"A must be a 2-D"):
        pen.group_inner(W, W)
    element = GroupLasso(0.5, "element")  # matrices still work
    np.testing.assert_allclose(element.prox(np.array([[1.0, -0.2]]), 1.0), [[0.5, 0.0]])
    assert element.value(np.array([[1.0, -2.0]])) == pytest.approx(1.5)


# GroupLasso.keep_groups refuses a W that is no matrix by naming W (636285e).
@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
def test_keep_groups_refuses_a_W_that_is_no_matrix_naming_it(groups, shape):
    pen = GroupLasso(0.3, groups)
    W = np.ones(shape)
    keep = np.ones(shape, dtype=bool) if groups == "element" else np.ones(shape[-1], dtype=bool)
    with pytest.raises(ValueError, match=r"^W must be a 2-D"):
        pen.keep_groups(W, keep)
    np.testing.assert_array_equal(W, np.ones(shape))  # nothing written

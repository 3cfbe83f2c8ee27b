"""The compact L-BFGS memory of the group OWL-QN inner solver."""

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from liftnet.solvers.quasi_newton import CompactLBFGS, group_owlqn


def two_loop(pairs, q, h0):
    """Textbook L-BFGS two-loop recursion (Nocedal & Wright, Algorithm 7.4)."""
    q = q.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        q -= a * y
        alphas.append(a)
    q *= h0
    for (s, y), a in zip(pairs, reversed(alphas)):
        b = (y @ q) / (s @ y)
        q += (a - b) * s
    return q


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 6), n_pairs=st.integers(0, 12),
       cleared_at=st.integers(-1, 12), compiled=st.booleans())
def test_compact_form_equals_two_loop(seed, m, n_pairs, cleared_at, compiled):
    """Both paths of the block products (compiled loops for small memories, BLAS per block
    for large ones) against the textbook recursion."""
    import liftnet.solvers.quasi_newton as qn

    small = qn._SMALL
    qn._SMALL = 1 << 30 if compiled else 0
    try:
        _compact_vs_two_loop(seed, m, n_pairs, cleared_at)
    finally:
        qn._SMALL = small


def _compact_vs_two_loop(seed, m, n_pairs, cleared_at):
    rng = np.random.default_rng(seed)
    n = 17
    blocks = [slice(0, 5), slice(5, 6), slice(6, 17)]
    A = rng.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)  # positive definite: every pair has s.y > 0
    mem = CompactLBFGS(n, m, blocks)
    pairs = []
    for i in range(n_pairs):
        if i == cleared_at:
            mem.clear()
            pairs = []
        s = rng.standard_normal(n)
        y = A @ s
        mem.update(s, y)
        pairs.append((s, y))
    scales = rng.uniform(0.1, 3.0, size=len(blocks))
    h0 = np.concatenate([np.full(b.stop - b.start, c) for b, c in zip(blocks, scales)])
    q = rng.standard_normal(n)
    np.testing.assert_allclose(mem.apply(q, scales), two_loop(pairs[-m:], q, h0),
                               rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 6), n_steps=st.integers(0, 14),
       compiled=st.booleans(), reuse=st.booleans(), direct=st.sampled_from([0, 5, 6, 17]))
def test_push_stores_the_pairs_of_a_path_like_the_two_loop(seed, m, n_steps, compiled, reuse,
                                                           direct):
    """:meth:`CompactLBFGS.push` along a path ``x_0, x_1, ...`` with gradients ``g_i`` (the way
    group_owlqn feeds it, so that on large memories the products ``Z y = Z g_new - Z g`` are
    reused) stores the pairs
    ``(x_{i+1} - x_i, g_{i+1} - g_i)`` of positive curvature (a skipped pair leaves the memory
    as it was); ``apply`` then equals the two-loop recursion on those pairs,
    with the products of ``q`` reused from the push (``grad=g``) or not. The gradient carries a
    large constant (1e10) on the first ``direct`` entries (the group norm's blocks, whose products
    with ``y`` are always formed directly: as differences of products with the gradients they
    would lose every digit), and ``q`` differs from it there."""
    import liftnet.solvers.quasi_newton as qn

    small, reuse_from = qn._SMALL, qn._REUSE_FROM
    qn._SMALL = 1 << 30 if compiled else 0
    qn._REUSE_FROM = 0 if reuse else 1 << 30
    try:
        rng = np.random.default_rng(seed)
        n = 17
        blocks = [slice(0, 5), slice(5, 6), slice(6, 17)]
        A = rng.standard_normal((n, n))
        A = A @ A.T + n * np.eye(n)
        # a large constant: Z g_new - Z g on those rows would cancel to noise (their
        # products with y are formed directly)
        shift = np.where(np.arange(n) < direct, 1e10, 0.0)
        mem = CompactLBFGS(n, m, blocks, direct=direct)
        x = rng.standard_normal(n)
        g = A @ x + shift
        pairs = []
        for _ in range(n_steps):
            x_new = x + rng.standard_normal(n)
            curved = rng.uniform() < 0.8  # else a pair of negative curvature, to be skipped
            g_new = g + (1.0 if curved else -1.0) * (A @ (x_new - x))
            dots, stored = mem.push(x, x_new, g, g_new)
            assert stored == curved
            np.testing.assert_allclose(dots.sum(axis=0)[0], (x_new - x) @ (g_new - g))
            if curved:
                pairs = [*pairs, (x_new - x, g_new - g)][-m:]
            x, g = x_new, g_new
        scales = rng.uniform(0.1, 3.0, size=len(blocks))
        h0 = np.concatenate([np.full(b.stop - b.start, c) for b, c in zip(blocks, scales)])
        q = g.copy()
        q[:direct] = rng.standard_normal(direct)  # the pseudo-gradient differs on the prefix
        want = two_loop(pairs, q, h0)
        np.testing.assert_allclose(mem.apply(q, scales, grad=g), want, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(mem.apply(q, scales), want, rtol=1e-8, atol=1e-10)
        # q the pushed vector itself (group_owlqn): every product taken from the push
        np.testing.assert_allclose(mem.apply(g, scales, grad=g), two_loop(pairs, g, h0),
                                   rtol=1e-8, atol=1e-10)
    finally:
        qn._SMALL, qn._REUSE_FROM = small, reuse_from


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5000), k=st.integers(1, 6),
       n_blocks=st.integers(1, 6), dtype=st.sampled_from([np.float64, np.float32]))
def test_row_dots_pair_is_two_row_dots_to_the_bit(seed, n, k, n_blocks, dtype):
    """The small memory's push forms the products of the rows with ``y`` and with the new
    gradient in one pass (``_row_dots_pair``); the next apply takes the latter instead of
    forming them (``_row_dots``): the iterates stay the same only if both give the same bits,
    every row (four at a time and the rest), every block, both dtypes."""
    from liftnet.solvers.quasi_newton import _row_dots, _row_dots_pair

    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), min(n_blocks, n) - 1, replace=False)) if n > 1 \
        else []
    bounds = np.array([0, *cuts, n], dtype=np.int64)
    A = rng.standard_normal((2 * k + 1, n)).astype(dtype)  # a spare row, as a memory has
    v, w = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    pv, pw = _row_dots_pair(A, 2 * k, v, w, bounds)
    np.testing.assert_array_equal(pv, _row_dots(A, 2 * k, v, bounds))
    np.testing.assert_array_equal(pw, _row_dots(A, 2 * k, w, bounds))


def test_a_small_memory_keeps_the_products_of_its_push_for_the_next_apply():
    """Below ``_REUSE_FROM`` a stored pair's push keeps the rows' products with the new
    gradient, and the apply of that very vector (``grad=`` it, as group_owlqn calls it) gives
    the bits of an apply that forms them; a skipped pair keeps none."""
    rng = np.random.default_rng(3)
    n = 40
    blocks = [slice(0, 10), slice(10, 40)]
    mem = CompactLBFGS(n, 3, blocks, direct=10)
    x, g = rng.standard_normal(n), rng.standard_normal(n)
    scales = np.array([0.5, 2.0])
    for _ in range(5):
        x_new = x + rng.standard_normal(n)
        g_new = g + 3.0 * (x_new - x) + 0.1 * rng.standard_normal(n)
        _, stored = mem.push(x, x_new, g, g_new)
        assert stored and mem._grad is g_new
        np.testing.assert_array_equal(mem.apply(g_new, scales, -1.0, grad=g_new),
                                      mem.apply(g_new.copy(), scales, -1.0))
        x, g = x_new, g_new
    _, stored = mem.push(x, x + 1e-3, g, g - 1e-3)  # negative curvature: skipped
    assert not stored and mem._grad is None


@pytest.mark.parametrize("scale", [1e-100, 1.0, 1e100])
def test_pairs_of_any_scale_are_stored(scale):
    """The curvature test ``s.y > 1e-12 |s| |y|`` of :meth:`CompactLBFGS.push` at any scale of
    the steps: ``|s| |y|`` formed as ``sqrt(s.s * y.y)`` overflowed to inf from norms of about
    1e77 on, and every pair of steps of 1e100 was skipped as if of negative curvature. The
    stored pairs give the two-loop recursion's direction."""
    rng = np.random.default_rng(0)
    n, m = 17, 3
    blocks = [slice(0, 5), slice(5, 17)]
    A = rng.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)
    mem = CompactLBFGS(n, m, blocks)
    x = scale * rng.standard_normal(n)
    g = A @ x
    pairs = []
    for _ in range(4):
        x_new = x + scale * rng.standard_normal(n)
        g_new = g + A @ (x_new - x)
        assert mem.push(x, x_new, g, g_new)[1]
        pairs = [*pairs, (x_new - x, g_new - g)][-m:]
        x, g = x_new, g_new
    scales = np.array([0.5, 2.0])
    h0 = np.concatenate([np.full(b.stop - b.start, c) for b, c in zip(blocks, scales)])
    want = two_loop(pairs, g, h0)
    np.testing.assert_allclose(mem.apply(g, scales, grad=g), want, rtol=1e-8,
                               atol=1e-10 * np.abs(want).max())


def test_direct_must_be_a_block_edge_and_match_the_solver():
    from liftnet.solvers.quasi_newton import group_owlqn

    with pytest.raises(ValueError, match="direct must be a block edge"):
        CompactLBFGS(10, 3, [slice(0, 4), slice(4, 10)], direct=3)
    sub = _GroupLassoQuadratic(np.eye(24), np.ones(24), 0.1, (4, 6))  # nonsmooth everywhere
    with pytest.raises(ValueError, match="direct=0"):
        group_owlqn(sub, np.ones(24), tol=1e-6, max_iter=5,
                    lbfgs=CompactLBFGS(24, 3, sub.blocks, direct=0))


def test_blocks_must_be_contiguous():
    with pytest.raises(ValueError, match="contiguous"):
        CompactLBFGS(10, 3, [slice(0, 4), slice(5, 10)])


def test_memory_satisfies_secant_equation():
    """``H y_k = s_k`` for the newest pair: the defining property of a quasi-Newton update."""
    rng = np.random.default_rng(1)
    n, blocks = 12, [slice(0, 12)]
    A = rng.standard_normal((n, n))
    A = A @ A.T + np.eye(n)
    mem = CompactLBFGS(n, 5, blocks)
    for _ in range(8):
        s = rng.standard_normal(n)
        mem.update(s, A @ s)
    np.testing.assert_allclose(mem.apply(A @ s, np.array([0.7])), s, rtol=1e-8)


def test_float32_memory_is_applied_without_float64_copies():
    """In float32 the product ``H q`` stays float32 and allocates about the result only: a
    float64 coefficient vector or scale would make numpy cast the whole memory (``2 m n``
    numbers) to float64, which at the MNIST-shaped sizes cost more than the matrix products;
    and ``out += scale * q`` per block made a temporary as large as the block (measured: 2.0
    vectors at the peak, 1.004 without it)."""
    import tracemalloc

    rng = np.random.default_rng(2)
    n, m = 200_000, 6
    blocks = [slice(0, 1000), slice(1000, n)]
    mem = CompactLBFGS(n, m, blocks, dtype=np.float32)
    for _ in range(m):
        s = rng.standard_normal(n).astype(np.float32)
        mem.update(s, (2.0 * s + 0.1).astype(np.float32))
    q = rng.standard_normal(n).astype(np.float32)
    scales = np.array([0.3, 0.5])  # float64 scales, as group_owlqn holds them
    mem.apply(q, scales)  # compiles the small kernel on a fresh checkout: not the steady state
    tracemalloc.start()
    out = mem.apply(q, scales)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.dtype == np.float32
    assert peak < 1.25 * n * 4, f"apply allocated {peak / (n * 4):.2f} float32 vectors"
    mem64 = CompactLBFGS(n, m, blocks)
    mem64.Z[...] = mem.Z
    mem64.SY, mem64.G, mem64.order = mem.SY, mem.G, list(mem.order)
    np.testing.assert_allclose(out, mem.apply(q, scales), rtol=0)
    np.testing.assert_allclose(out, mem64.apply(q.astype(np.float64), scales), rtol=2e-3,
                               atol=2e-3 * np.abs(out).max())


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 300), a=st.floats(-1e3, 1e3),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_in_place_axpy_is_numpys_out_plus_a_times_x_to_the_bit(seed, n, a, dtype):
    """The compiled ``out += a x`` of :meth:`CompactLBFGS.apply`'s large path
    (``_trial_point(out, x, a, out)``) gives numpy's result bit for bit (the solver's iterates
    did not change with it), ``a`` in ``x``'s dtype."""
    from liftnet.solvers.quasi_newton import _trial_point

    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(dtype)
    out = rng.standard_normal(n).astype(dtype)
    expected = out.copy()
    expected += a * x
    _trial_point(out, x, x.dtype.type(a), out)
    np.testing.assert_array_equal(out, expected)


def _spd(rng, n, lo, hi):
    """A random symmetric ``n x n`` matrix with eigenvalues log-spaced from ``lo`` to ``hi``
    (condition number ``hi / lo``) and random orthogonal eigenvectors."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(lo, hi, n)) @ Q.T


class _GroupLassoQuadratic:
    """``1/2 x^T A x - c^T x + lam sum_g ||x_g||`` with column groups of a ``k x p`` matrix,
    in the interface of :func:`group_owlqn` (``x`` is all nonsmooth: one ``W`` block)."""

    def __init__(self, A, c, lam, shape):
        from liftnet.formulation.penalties import GroupLasso

        self.A, self.c, self.shape = A, c, shape
        self.pen = GroupLasso(lam, "column")
        self.blocks = [slice(0, A.shape[0])]
        self.n_nonsmooth = A.shape[0]

    def value(self, x):
        return 0.5 * x @ self.A @ x - self.c @ x + self.pen.value(x.reshape(self.shape)), None

    def gradient(self, x, cache):
        return self.A @ x - self.c

    def pseudo_gradient(self, x, g, cache, out=None):
        pg = self.pen.subdiff_residual(x.reshape(self.shape), g.reshape(self.shape)).ravel()
        if out is not None:
            out[:] = pg
        return pg if out is None else out

    def residual_from_pg(self, pg):
        return float(np.max(self.pen.group_norms(pg.reshape(self.shape))))

    def orthant_project(self, x, ref):
        X = x.reshape(self.shape)
        self.pen.keep_groups(X, self.pen.group_inner(X, ref.reshape(self.shape)) > 0)

    def group_is_zero(self, x):
        zero = self.pen.group_norms(x.reshape(self.shape)) == 0
        return self.pen.per_entry(zero, self.shape).ravel()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam", [0.01, 0.1])
def test_ill_conditioned_group_problem_keeps_the_whole_direction(seed, lam):
    """On nonzero groups the objective is smooth, so the quasi-Newton direction must be kept
    whole there. l1 OWL-QN's componentwise sign rule, applied to group entries, cuts it: on
    these problems (condition number 1e4, every group nonzero at the solution) it left the
    residual at 4.6e-2 to 1.3e-1 after 300 iterations; kept whole, 3.8e-7 to 4.2e-5."""
    from liftnet.solvers.quasi_newton import group_owlqn

    rng = np.random.default_rng(seed)
    shape = (4, 6)
    n = shape[0] * shape[1]
    A = _spd(rng, n, 1e-2, 1e2)
    c = A @ rng.standard_normal(n)
    sub = _GroupLassoQuadratic(A, c, lam, shape)
    x, info = group_owlqn(sub, np.ones(n), tol=1e-4, max_iter=300)
    assert info.status == "converged", (info.status, info.residual)
    assert np.all(sub.pen.group_norms(x.reshape(shape)) > 0)


class _Recording(_GroupLassoQuadratic):
    """Records the residual of every accepted iterate, with the iterate."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen = []

    def pseudo_gradient(self, x, g, cache, out=None):
        self._x = x.copy()
        return super().pseudo_gradient(x, g, cache, out)

    def residual_from_pg(self, pg):
        r = super().residual_from_pg(pg)
        self.seen.append((r, self._x))
        return r


def _ill_conditioned(seed, lam=0.01, shape=(4, 6)):
    rng = np.random.default_rng(seed)
    n = shape[0] * shape[1]
    A = _spd(rng, n, 1e-3, 1e2)
    return _Recording(A, A @ rng.standard_normal(n), lam, shape), np.ones(n)


@pytest.mark.parametrize("seed", range(4))
def test_unconverged_solve_returns_its_most_stationary_iterate(seed):
    """Cut at ``max_iter``, the solve returns the accepted iterate with the smallest residual,
    not the last one; on these problems (condition number 1e5) the residual is not monotone,
    so the two differ."""
    from liftnet.solvers.quasi_newton import group_owlqn

    sub, x0 = _ill_conditioned(seed)
    # cut after 30 iterations: on seeds 0-7 a later iterate is then worse than the best one
    x, info = group_owlqn(sub, x0, tol=1e-12, max_iter=30)
    assert info.status == "max_iter"
    rs = [r for r, _ in sub.seen]
    assert max(rs[rs.index(min(rs)):]) > min(rs)  # a later iterate was worse: the test bites
    r_best, x_best = min(sub.seen, key=lambda t: t[0])
    assert info.residual == r_best
    np.testing.assert_array_equal(x, x_best)
    assert info.value == pytest.approx(sub.value(x)[0], rel=1e-12)


def test_patience_stops_a_solve_whose_best_residual_does_not_halve():
    """``patience=p``: stop at the first iteration ``p`` or more after the last one at which the
    best residual fell to half of its value at the halving before (the rule, replayed on the
    residuals of the same solve without it)."""
    from liftnet.solvers.quasi_newton import group_owlqn

    sub, x0 = _ill_conditioned(0)
    _, free = group_owlqn(sub, x0, tol=1e-12, max_iter=400)
    rs = [r for r, _ in sub.seen]
    sub.seen.clear()
    _, info = group_owlqn(sub, x0, tol=1e-12, max_iter=400, patience=5)
    assert free.status == "max_iter" and info.status == "stalled"
    k_halved, r_halved, stop = 0, rs[0], None
    for k, r in enumerate(rs):
        if r <= 0.5 * r_halved:
            k_halved, r_halved = k, r
        if k - k_halved >= 5:
            stop = k
            break
    assert stop is not None and stop > 5 and info.nit == stop
    assert [r for r, _ in sub.seen] == rs[: stop + 1]  # the same path up to the stop
    assert info.residual == min(rs[: stop + 1])


class _Overstated(_Recording):
    """A change of variables whose working residual overstates the certificate's a thousand
    times (``certify`` gives the true one), like the branch coordinates of the ALM early in
    an inner solve (docs/maths.md 6.2)."""

    factor = 1e3

    def __init__(self, *args):
        super().__init__(*args)
        self.certified = []

    def residual_from_pg(self, pg):
        return self.factor * super().residual_from_pg(pg)

    def certify(self, x, g, cache):
        r = _GroupLassoQuadratic.residual_from_pg(self, self.pseudo_gradient(x, g, cache))
        self.certified.append(r)
        return r


def _check_schedule(k_end):
    """Iterations 1, 2, 3, 5, 8, ... (growth ``_CHECK_GROWTH``) up to ``k_end``."""
    from liftnet.solvers.quasi_newton import _CHECK_GROWTH

    ks, k = [], 1
    while k <= k_end:
        ks.append(k)
        k = max(k + 1, int(np.ceil(_CHECK_GROWTH * k)))
    return ks


class _Checkpointed(_Recording):
    """Records the iterates shown to ``checkpoint``."""

    def __init__(self, *args):
        super().__init__(*args)
        self.shown = []

    def checkpoint(self, x, cache):
        self.shown.append(x.copy())


def test_checkpoint_sees_the_accepted_iterates_of_the_schedule():
    """``sub.checkpoint`` (no ``certify``) is shown exactly the accepted iterates of
    iterations 1, 2, 3, 5, 8, ... (the certification schedule), as they were."""
    from liftnet.solvers.quasi_newton import group_owlqn

    ref, x0 = _ill_conditioned(2)
    sub = _Checkpointed(ref.A, ref.c, ref.pen.lam, ref.shape)
    _, info = group_owlqn(sub, x0, tol=1e-12, max_iter=60)
    assert info.status == "max_iter" and not hasattr(sub, "certify")
    ks = _check_schedule(info.nit)
    assert len(ks) >= 8 and len(sub.shown) == len(ks)
    for k, x in zip(ks, sub.shown):  # seen[k]: the iterate of iteration k
        np.testing.assert_array_equal(x, sub.seen[k][1])


def test_finish_is_asked_every_finish_every_iterations_and_ends_the_solve():
    """``finish`` is asked at the top of iterations ``FINISH_EVERY``, ``2 FINISH_EVERY``, ...
    with that iterate, its gradient and working residual; a solve it never stops takes the
    path of a solve without it (the same iterates and result), and True ends the solve at
    once with status ``finished``."""
    from liftnet.solvers.quasi_newton import FINISH_EVERY, group_owlqn

    ref, x0 = _ill_conditioned(1)
    plain_x, plain = group_owlqn(ref, x0, tol=1e-12, max_iter=130)
    asked = []

    def finish(k, x, g, cache, r, stop_at=None):
        sub_g = ref.gradient(x, cache)
        np.testing.assert_array_equal(g, sub_g)
        asked.append((k, x.copy(), r))
        return k == stop_at

    sub = _Recording(ref.A, ref.c, ref.pen.lam, ref.shape)
    x, info = group_owlqn(sub, x0, tol=1e-12, max_iter=130, finish=finish)
    assert [k for k, _, _ in asked] == list(range(FINISH_EVERY, 130, FINISH_EVERY))
    for k, xk, r in asked:  # sub.seen[k]: the iterate of iteration k, and its residual
        np.testing.assert_array_equal(xk, sub.seen[k][1])
        assert r == sub.seen[k][0]
    np.testing.assert_array_equal(x, plain_x)
    assert (info.status, info.nit, info.residual) == (plain.status, plain.nit, plain.residual)
    asked.clear()
    _, info = group_owlqn(ref, x0, tol=1e-12, max_iter=130,
                          finish=lambda *a: finish(*a, stop_at=2 * FINISH_EVERY))
    assert info.status == "finished" and info.nit == 2 * FINISH_EVERY
    assert [k for k, _, _ in asked] == [FINISH_EVERY, 2 * FINISH_EVERY]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("tol", [1e-2, 1e-3])
def test_certificate_is_checked_before_the_working_residual_gets_there(seed, tol):
    """With ``certify``, the solve stops at the first certification that finds the true
    residual at most ``tol``; certifications come at least at iterations 1, 2, 3, 5, 8, ...,
    so the stop is no later than the first such iteration past the one where the true residual
    first reached ``tol``, however far the working residual lags (a thousand times here:
    waiting for it, as the solver did until this test, ran many times longer)."""
    from liftnet.solvers.quasi_newton import group_owlqn

    ref, x0 = _ill_conditioned(seed)
    group_owlqn(ref, x0, tol=0.0, max_iter=600)
    true = [r for r, _ in ref.seen]  # the same path: the residual scale only decides the stop
    k_first = next(k for k, r in enumerate(true) if r <= tol)
    # where the working residual first says tol (past max_iter when it never does)
    k_late = next((k for k, r in enumerate(true) if 1e3 * r <= tol), len(true))
    A, c = ref.A, ref.c
    sub = _Overstated(A, c, ref.pen.lam, ref.shape)
    _, info = group_owlqn(sub, x0, tol=tol, max_iter=600)
    assert info.status == "converged" and info.residual <= tol
    assert info.residual == pytest.approx(true[info.nit], rel=1e-12)
    k_sched = next(k for k in _check_schedule(10**6) if k >= k_first and true[k] <= tol)
    assert k_first <= info.nit <= k_sched < k_late
    assert all(r > tol for r in sub.certified[:-1])
    assert len(sub.certified) <= len(_check_schedule(info.nit)) + 3


def test_unconverged_solve_reports_the_certified_residual():
    """A solve cut at ``max_iter`` reports the residual of its returned point in the
    certificate's coordinates (what solve_alm compares with the violation), not the working
    one (a thousand times larger here)."""
    from liftnet.solvers.quasi_newton import group_owlqn

    ref, x0 = _ill_conditioned(1)
    sub = _Overstated(ref.A, ref.c, ref.pen.lam, ref.shape)
    x, info = group_owlqn(sub, x0, tol=1e-12, max_iter=40)
    assert info.status == "max_iter"
    true = _GroupLassoQuadratic.residual_from_pg(
        sub, sub.pseudo_gradient(x, sub.gradient(x, None), None))
    assert info.residual == pytest.approx(true, rel=1e-12)
    assert sub.residual_from_pg(sub.pseudo_gradient(x, sub.gradient(x, None), None)) > 100 * true


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), dtype=st.sampled_from([np.float32, np.float64]))
def test_zero_groups_open_along_steepest_descent(seed, dtype):
    """The direction rule of group OWL-QN (docs/maths.md 6.1): on the entries of zero groups the
    direction becomes ``-scale pg`` and the line search's reference ``-pg``; elsewhere the
    quasi-Newton direction is kept whole and the reference is ``x``; past the group-norm prefix
    nothing is touched. In the iterate's dtype, as numpy computes it."""
    from liftnet.solvers.quasi_newton import _open_zero_groups

    rng = np.random.default_rng(seed)
    n, nw = 12, 8
    x, pg, d = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    zero = rng.random(nw) < 0.5
    x[:nw][zero] = 0.0
    scale = dtype(rng.uniform(0.1, 3.0))
    d0, ref = d.copy(), np.full(nw, np.nan, dtype=dtype)
    _open_zero_groups(d, pg, x, zero, scale, ref)
    np.testing.assert_array_equal(d[:nw], np.where(zero, -pg[:nw] * scale, d0[:nw]))
    np.testing.assert_array_equal(d[nw:], d0[nw:])
    np.testing.assert_array_equal(ref, np.where(zero, -pg[:nw], x[:nw]))


@pytest.mark.parametrize("max_iter", [5, 8, 13, 40])
def test_no_iterate_is_certified_twice(max_iter):
    """A solve cut at ``max_iter`` on a scheduled certification returns that iterate without
    certifying it again (one model gradient per certification in the ALM), and the residual it
    reports is still the certified one."""
    from liftnet.solvers.quasi_newton import group_owlqn

    class Seen(_Overstated):
        def certify(self, x, g, cache):
            self.points = [*getattr(self, "points", []), x.copy()]
            return super().certify(x, g, cache)

    ref, x0 = _ill_conditioned(1)
    sub = Seen(ref.A, ref.c, ref.pen.lam, ref.shape)
    x, info = group_owlqn(sub, x0, tol=1e-12, max_iter=max_iter)
    assert info.status == "max_iter"
    for i, a in enumerate(sub.points):
        assert not any(np.array_equal(a, b) for b in sub.points[i + 1:])
    true = _GroupLassoQuadratic.residual_from_pg(
        sub, sub.pseudo_gradient(x, sub.gradient(x, None), None))
    assert info.residual == pytest.approx(true, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(slope=st.floats(-10.0, -1e-3), curvature=st.floats(1e-3, 1e3), t=st.floats(1e-6, 1.0))
def test_backtracking_finds_the_minimiser_of_a_quadratic(slope, curvature, t):
    """On ``q(s) = v + slope s + curvature s^2`` the interpolated step is the minimiser
    ``-slope / (2 curvature)`` whenever that lies in the safeguard ``[t/10, t/2]``, and the
    nearer bound otherwise: one backtrack instead of ``log2`` of the overshoot."""
    from liftnet.solvers.quasi_newton import backtrack_step

    v = 0.0  # no cancellation against a large value: vn - v - lin is the quadratic term
    vn, lin = v + slope * t + curvature * t * t, slope * t
    s_star = -slope / (2.0 * curvature)
    expected = min(max(s_star, 0.1 * t), 0.5 * t)
    assert backtrack_step(t, v, vn, lin) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("vn, lin", [(np.inf, -1.0), (np.nan, -1.0), (2.0, 0.5), (2.0, 0.0),
                                     (0.5, -0.4)])
def test_backtracking_halves_without_curvature(vn, lin):
    """Without a finite failed value, a descent prediction (``lin < 0``) and a positive excess
    ``vn - v - lin`` there is no quadratic to trust: the step halves."""
    from liftnet.solvers.quasi_newton import backtrack_step

    assert backtrack_step(0.8, 1.0, vn, lin) == 0.4


@settings(max_examples=200, deadline=None)
@given(slope=st.floats(-10.0, -1e-3), curvature=st.floats(-1e3, 1e3),
       c1=st.sampled_from([1e-4, 0.1, 0.3]))
# either side of Armijo's edge ``curvature = (c1 - 1) slope`` (relative 1e-6, past the assume's
# 1e-9), for each c1: a wrong coefficient moves the edge by a window of width at most a few
# units in the 2000 wide range the draws cover (about 1e-3 a draw)
@example(slope=-10.0, curvature=9.999009999, c1=0.0001)
@example(slope=-10.0, curvature=9.998990001000001, c1=0.0001)
@example(slope=-10.0, curvature=9.000008999999999, c1=0.1)
@example(slope=-10.0, curvature=8.999991, c1=0.1)
@example(slope=-10.0, curvature=7.000006999999999, c1=0.3)
@example(slope=-10.0, curvature=6.999993, c1=0.3)
def test_armijo_by_slope_agrees_with_armijo_on_a_quadratic(slope, curvature, c1):
    """Along a step on which the objective is ``q(s) = v + slope s + curvature s^2`` the test by
    the slope at the trial point, ``q'(1) <= (2 c1 - 1) q'(0)``, accepts exactly the steps
    Armijo's ``q(1) <= q(0) + c1 q'(0)`` accepts (both: ``curvature <= (c1 - 1) slope``)."""
    from liftnet.solvers.quasi_newton import armijo_by_slope

    edge = (c1 - 1.0) * slope
    assume(abs(curvature - edge) > 1e-9 * (abs(edge) + 1.0))  # not on the boundary (rounding)
    armijo = slope + curvature <= c1 * slope
    assert armijo_by_slope(slope, slope + 2.0 * curvature, c1) == armijo


@pytest.mark.parametrize("seed", range(4))
def test_float32_solve_gets_past_the_values_rounding(seed, monkeypatch):
    """In float32 a value of a few thousand rounds at about ``1e-4``, so Armijo's test on values
    cannot see the decrease of steps at residuals below about ``1e-3`` (``r^2 / curvature``):
    the solve stalls there (measured: 2.0e-4 to 1.5e-3). Where the change is within the
    rounding, the slope at the trial point decides (:func:`armijo_by_slope`), and the solve
    reaches ``1e-4`` (53-56 iterations)."""
    import liftnet.solvers.quasi_newton as qn

    rng = np.random.default_rng(seed)
    shape = (4, 6)
    n = shape[0] * shape[1]
    A = _spd(rng, n, 1e-1, 1e1)
    x_star = 10.0 * rng.standard_normal(n)
    c = A @ x_star
    sub = _GroupLassoQuadratic(A.astype(np.float32), c.astype(np.float32), 0.01, shape)
    sub.value_scale = float(abs(0.5 * x_star @ A @ x_star) + abs(c @ x_star))  # terms cancel
    x0 = np.ones(n, dtype=np.float32)
    x, info = qn.group_owlqn(sub, x0, tol=1e-4, max_iter=2000)
    assert x.dtype == np.float32
    assert info.status == "converged" and info.residual <= 1e-4
    monkeypatch.setattr(qn, "value_noise", lambda *args: -np.inf)  # values decide alone
    _, info = qn.group_owlqn(sub, x0, tol=1e-4, max_iter=2000)
    assert info.status != "converged" and info.residual > 1e-4


class _FlatValue(_GroupLassoQuadratic):
    """A value that never changes (every change within rounding), the quadratic's gradient.
    At 0 Armijo's ``vn <= v + c1 lin`` fails for every step (no rounding absorbs ``c1 lin``)."""

    def value(self, x):
        return 0.0, None


@pytest.mark.parametrize("residual, steps", [(10.0, False), (1e-3, True)])
def test_the_slope_decides_only_near_stationarity(residual, steps):
    """With the value's change within its rounding (here it never changes; ``value_scale`` puts
    the rounding level at about 2e-2), the slope at the trial point decides only where the
    residual's square is within that level too: far from stationarity such a step is too short
    to matter, it fails, and the solve stalls where it stands (docs/maths.md 6.1)."""
    from liftnet.solvers.quasi_newton import group_owlqn, value_noise

    n, shape = 6, (2, 3)
    sub = _FlatValue(np.eye(n), np.full(n, residual / np.sqrt(2.0)), 1e-12, shape)
    sub.value_scale = 1e15
    noise = value_noise(0.0, sub.value_scale, np.float64)
    assert 1e-3**2 < noise < 10.0**2  # the two residuals straddle the guard
    x, info = group_owlqn(sub, np.zeros(n), tol=1e-300, max_iter=3)
    assert (info.nit > 0) == steps, (info.status, info.nit)
    if not steps:
        assert info.status == "stalled" and np.all(x == 0.0)


class _Rejecting(_GroupLassoQuadratic):
    """Every trial point fails Armijo's test (its value is above the start's), each slowly."""

    def __init__(self, *args, delay=0.0):
        super().__init__(*args)
        self.delay, self.calls = delay, 0

    def value(self, x):
        import time

        self.calls += 1
        if self.calls == 1:
            return super().value(x)
        time.sleep(self.delay)
        return 1e6 + self.calls, None


def test_a_nan_step_ends_the_line_search(monkeypatch):
    """``backtrack_step`` gives NaN when ``lin`` overflows (float32, ``lam`` 1e38: ``inf/inf``);
    ``t < 1e-20`` is never true for NaN, and the line search spun forever, past any deadline."""
    from liftnet.solvers import quasi_newton
    from liftnet.solvers.quasi_newton import group_owlqn

    sub, x0 = _ill_conditioned(0)
    monkeypatch.setattr(quasi_newton, "backtrack_step", lambda t, v, vn, lin: float("nan"))
    sub = _Rejecting(sub.A, sub.c, 0.01, sub.shape)
    _, info = group_owlqn(sub, x0, tol=1e-12, max_iter=10)
    assert info.status == "stalled" and sub.calls == 2


def test_the_deadline_is_checked_inside_the_line_search():
    """A line search of dozens of slow evaluations (seconds each at large N) stopped only at
    ``t < 1e-20``: the deadline now ends it (status ``time_limit``, the start returned)."""
    import time

    from liftnet.solvers.quasi_newton import group_owlqn

    base, x0 = _ill_conditioned(0)
    group_owlqn(base, x0, tol=1e-12, max_iter=2)  # (compiles the group kernels first)
    sub = _Rejecting(base.A, base.c, 0.01, base.shape, delay=0.05)
    t0 = time.monotonic()
    x, info = group_owlqn(sub, x0, tol=1e-12, max_iter=10, deadline=t0 + 0.2)
    # without the check: 20 trials of 0.05 s (steps cut tenfold to 1e-20), then "stalled"
    assert info.status == "time_limit" and 3 <= sub.calls <= 8
    assert time.monotonic() - t0 < 0.6
    np.testing.assert_array_equal(x, x0)


def test_memory_is_capped_by_the_dimension_and_its_square_matrices():
    """``memory=10**6`` on 68 variables asked numpy for 1.8 TiB (the ``m x m`` products)."""
    from liftnet.solvers.quasi_newton import CompactLBFGS

    mem = CompactLBFGS.sized(np.zeros(68), memory=10**6, blocks=[slice(0, 30), slice(30, 68)])
    assert mem.m == 68
    big = CompactLBFGS.sized(np.zeros(10**5, dtype=np.float32), memory=10**6, memory_bytes=2**20)
    assert big.m == 2  # the pairs' budget (and at least 2)


def test_a_block_whose_unit_steps_the_gradient_never_sees_has_its_scale_grown():
    """``_grow_unseen``: only blocks moved (``s.s > 0``) by unit steps with ``y = 0``, and only
    from the ``_UNSEEN_AFTER``-th such step in a row; a shortened step resets the count."""
    from liftnet.solvers.quasi_newton import _UNSEEN_AFTER, _UNSEEN_GROWTH, _grow_unseen

    # blocks: unseen, seen (curvature), not moved
    dots = np.array([[0.0, 0.0, 1e-300], [1.0, 2.0, 1.0], [0.0, 0.0, 0.0]])
    scales, run = np.array([1e-150, 0.5, 1.0]), np.zeros(3, dtype=np.int64)
    for _ in range(_UNSEEN_AFTER - 1):
        np.testing.assert_array_equal(_grow_unseen(dots, scales, run, True), scales)
    grown = _grow_unseen(dots, scales, run, True)
    np.testing.assert_array_equal(grown, [1e-150 * _UNSEEN_GROWTH, 0.5, 1.0])
    np.testing.assert_array_equal(_grow_unseen(dots, scales, run, False), scales)
    np.testing.assert_array_equal(run, [0, 0, 0])
    np.testing.assert_array_equal(scales, [1e-150, 0.5, 1.0])  # never grown in place


def test_a_lam_that_zeroes_every_group_ends_the_first_subproblem_quickly():
    """At ``lam = 1e150`` the first step zeroes every group; the ``V`` blocks' scale, the global
    one of a pair dominated by the group norm, was about ``1e-150``: their steps never changed
    the gradient, and the first subproblem ran all ``max_inner = 5000`` iterations (1.1 s)."""
    from liftnet import LiftedProblem, solve_alm

    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((50, 3)), rng.standard_normal((50, 2)),
                         hidden=(4, 3), lam=1e150)
    res = solve_alm(prob, seed=0, time_limit=30)
    assert res.status == "converged"
    assert all(np.count_nonzero(W) == 0 for W in res.W)
    assert res.history[0]["inner_iterations"] < 100  # 37 now


class _Smooth:
    """``1/2 x^T diag(a) x``, all smooth (no group norm), in group_owlqn's interface: its line
    search and step rules on a problem whose every step is known in closed form."""

    def __init__(self, a):
        self.a = np.asarray(a, float)
        self.blocks = [slice(0, self.a.size)]
        self.n_nonsmooth = 0

    def value(self, x):
        return 0.5 * float(x @ (self.a * x)), None

    def gradient(self, x, cache):
        return self.a * x

    def pseudo_gradient(self, x, g, cache, out=None):
        if out is None:
            return g.copy()
        out[:] = g
        return out

    def residual_from_pg(self, pg):
        return float(np.max(np.abs(pg)))

    def orthant_project(self, x, ref):
        pass

    def group_is_zero(self, x):
        return np.zeros(0, dtype=bool)


def test_armijo_accepts_a_small_but_sufficient_decrease_and_rejects_a_smaller_one():
    """On ``|x|^2 / 2`` the step ``-s x`` changes the value by ``s (s/2 - 1) |x|^2`` against
    the predicted ``-s |x|^2``: at ``s = 1.9`` a twentieth of the prediction (above ``c1 =
    1e-4``: the unit step is taken), at ``s = 1.99999`` 5e-6 of it (below: a backtrack). A
    sign error in the test, or plain decrease, takes both."""
    from liftnet.solvers.quasi_newton import group_owlqn

    x, info = group_owlqn(_Smooth(np.ones(4)), np.ones(4), tol=1e-300, max_iter=1,
                          scales0=np.array([1.9]))
    assert info.nit == 1 and info.n_backtracks == 0
    np.testing.assert_allclose(x, -0.9)
    x, info = group_owlqn(_Smooth(np.ones(4)), np.ones(4), tol=1e-300, max_iter=1,
                          scales0=np.array([1.99999]))
    assert info.nit == 1 and info.n_backtracks >= 1
    # c1 is the caller's: at 0.45 the step at 1.9 (a twentieth) fails too
    x, info = group_owlqn(_Smooth(np.ones(4)), np.ones(4), tol=1e-300, max_iter=1,
                          scales0=np.array([1.9]), c1=0.45)
    assert info.n_backtracks >= 1


def test_short_line_searches_in_a_row_end_the_solve_at_max_short():
    """A first scale of 1e4 on curvatures 1-4 makes the first line search end near ``t =
    1e-4``, below ``2^-10``: with ``max_short = 1`` that one short search stalls the solve
    before its first step is counted; with 2 the next (steepest-descent) search is not short
    and the solve converges."""
    from liftnet.solvers.quasi_newton import group_owlqn

    sub = _Smooth([1.0, 2.0, 3.0, 4.0])
    x, info = group_owlqn(sub, np.ones(4), tol=1e-300, max_iter=50, scales0=np.array([1e4]),
                          max_short=1)
    assert info.status == "stalled" and info.nit == 0 and info.n_backtracks >= 3
    x, info = group_owlqn(sub, np.ones(4), tol=1e-8, max_iter=50, scales0=np.array([1e4]),
                          max_short=2)
    assert info.status == "converged"


def test_a_nan_slope_is_replaced_by_steepest_descent():
    """An infinite scale times a zero entry of ``pg`` makes ``<pg, d>`` NaN, not negative:
    the memory is cleared and ``d = -pg`` (scaled); the solve converges instead of halving a
    NaN step to the end."""
    from liftnet.solvers.quasi_newton import group_owlqn

    with np.errstate(invalid="ignore"):
        x, info = group_owlqn(_Smooth([1.0, 2.0]), np.array([1.0, 0.0]), tol=1e-8,
                              max_iter=100, scales0=np.array([np.inf]))
    assert info.status == "converged"


def test_backtracking_interpolates_within_a_tenth_and_a_half_of_the_step():
    """``backtrack_step``: the minimiser ``t (-lin) / (2 (vn - v - lin))`` of the quadratic
    through the value, the predicted change and the failed value, kept in ``[t/10, t/2]``;
    halving where the data give no curvature."""
    from liftnet.solvers.quasi_newton import backtrack_step

    assert backtrack_step(1.0, 0.0, 1e6, -1.0) == 0.1  # minimiser about 5e-7: t / 10
    assert backtrack_step(1.0, 0.0, -0.9, -1.0) == 0.5  # minimiser 5: t / 2
    assert backtrack_step(2.0, 0.0, 1.0, -1.0) == 0.5  # 2 * 1 / (2 * 2): inside the bounds
    assert backtrack_step(1.0, 0.0, 1.0, -1.0) == 0.25  # 1 * 1 / (2 * 2)
    assert backtrack_step(1.0, 0.0, np.inf, -1.0) == 0.5  # no finite value: halve


def test_value_noise_is_a_hundred_ulps_of_the_value_and_its_cancelled_terms():
    """``VALUE_NOISE eps (|v| + scale)``, exactly."""
    from liftnet.solvers.quasi_newton import VALUE_NOISE, value_noise

    assert VALUE_NOISE == 100.0
    eps64, eps32 = float(np.finfo(np.float64).eps), float(np.finfo(np.float32).eps)
    assert value_noise(-1.0, 2.0, np.float64) == 100.0 * eps64 * 3.0
    assert value_noise(1.0, 0.0, np.float32) == 100.0 * eps32


def test_the_norm_of_huge_entries_does_not_overflow():
    from liftnet.solvers.quasi_newton import _norm

    assert _norm(np.array([1e200, -1e200, 0.0])) == pytest.approx(np.sqrt(2) * 1e200)
    assert _norm(np.array([3.0, 4.0])) == 5.0
    assert _norm(np.array([np.inf, 1.0])) == np.inf


def test_block_scales_are_s_y_over_y_y_where_the_curvature_is_positive():
    from liftnet.solvers.quasi_newton import _block_scales

    dots = np.array([[2.0, 8.0, 1.0],     # s.y / y.y = 0.25 (s.s / s.y would be 0.5)
                     [-1.0, 2.0, 1.0],    # negative curvature: the fallback
                     [1.0, 0.0, 1.0]])    # y.y = 0: the fallback
    np.testing.assert_array_equal(_block_scales(dots, np.array([7.0, 7.0, 7.0])),
                                  [0.25, 7.0, 7.0])
    # a number (the global s.y / y.y at the first pair) for every block; NaN dots fall back
    nan_dots = np.vstack([dots, [np.nan, 1.0, 1.0], [1.0, np.nan, 1.0]])
    np.testing.assert_array_equal(_block_scales(nan_dots, np.float64(3.0)),
                                  [0.25, 3.0, 3.0, 3.0, 3.0])
    fallback = np.full(3, 7.0)
    assert _block_scales(dots, fallback) is not fallback  # a new array


def test_a_zero_group_opens_with_the_largest_block_scale():
    """A zero group's entries move along ``-pg`` scaled by the largest block scale, whatever
    block they lie in. Here ``A = I``: the step ``-pg`` from 0 lands on the group's exact
    solution ``(1 - lam / ||c_g||) c_g``, while the block scales 1e-3 and 1 apply elsewhere."""
    from liftnet.solvers.quasi_newton import group_owlqn

    shape, lam = (2, 3), 0.1  # column groups {0, 3}, {1, 4}, {2, 5}; blocks [0:3], [3:6]
    c = np.array([0.8, 1.5, 1.2, 0.6, 0.9, 1.1])
    sub = _GroupLassoQuadratic(np.eye(6), c, lam, shape)
    sub.blocks = [slice(0, 3), slice(3, 6)]
    x0 = np.ones(6)
    x0[[0, 3]] = 0.0  # the first column group is zero
    x, info = group_owlqn(sub, x0, tol=1e-300, max_iter=1, scales0=np.array([1e-3, 1.0]))
    assert info.nit == 1 and info.n_backtracks == 0
    cg = c[[0, 3]]
    np.testing.assert_allclose(x[[0, 3]], (1 - lam / np.linalg.norm(cg)) * cg, rtol=1e-12)


def test_armijo_measures_the_step_after_the_orthant_projection():
    """A group the direction carries across zero is projected to zero: the step taken is
    ``-x``, not ``t d``, and Armijo's predicted change is ``<pg, -x>``. On ``x^2/2 + x + 2|x|``
    from 1 (``pg`` = 4) with scale 10, the trial -39 projects to 0 (the minimiser): a decrease
    of 3.5 against a predicted 4, taken at ``c1 = 0.5``; against ``t <pg, d> = -160`` it
    would be refused."""
    from liftnet.solvers.quasi_newton import group_owlqn

    sub = _GroupLassoQuadratic(np.eye(1), -np.ones(1), 2.0, (1, 1))
    x, info = group_owlqn(sub, np.ones(1), tol=1e-300, max_iter=1, scales0=np.array([10.0]),
                          c1=0.5)
    assert info.n_backtracks == 0 and x[0] == 0.0


@pytest.mark.parametrize("slope", [-10.0, -1.0, -1e-3])
@pytest.mark.parametrize("c1", [1e-4, 0.1, 0.3, 0.5])
@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_armijo_by_slope_decides_as_armijo_just_either_side_of_its_edge(slope, c1, side):
    """On ``q(s) = v + slope s + curvature s^2`` Armijo accepts the unit step exactly when
    ``curvature <= (c1 - 1) slope``; the slope test ``q'(1) <= (2 c1 - 1) q'(0)`` must accept
    a curvature a relative 1e-6 below that edge and refuse one 1e-6 above it."""
    from liftnet.solvers.quasi_newton import armijo_by_slope

    edge = (c1 - 1.0) * slope  # > 0
    curvature = edge * (1.0 + side * 1e-6)
    armijo = slope + curvature <= c1 * slope
    assert armijo == (side < 0)
    assert armijo_by_slope(slope, slope + 2.0 * curvature, c1) == armijo


def test_armijo_by_slope_on_a_worked_case():
    """``lin = -1``, ``c1 = 0.3``: the threshold of ``lin_end`` is ``(2 c1 - 1) lin = 0.4``."""
    from liftnet.solvers.quasi_newton import armijo_by_slope

    assert armijo_by_slope(-1.0, 0.4, 0.3)
    assert not armijo_by_slope(-1.0, 0.41, 0.3)
    assert not armijo_by_slope(-1.0, 0.5, 0.3)  # (c1 - 1) lin = 0.7 would accept it
    assert armijo_by_slope(-1.0, -0.2, 0.3)


@pytest.mark.parametrize("kw, name", [
    (dict(tol=None), "tol"), (dict(tol=-1.0), "tol"), (dict(max_iter=None), "max_iter"),
    (dict(max_iter=2.5), "max_iter"), (dict(deadline="soon"), "deadline"),
    (dict(memory="a"), "memory"), (dict(c1=0.0), "c1"), (dict(c1=1.5), "c1"),
])
def test_group_owlqn_refuses_bad_arguments_by_name(kw, name):
    """As prox_gradient_bb does: a bad argument failed deep inside (tol=None or a text
    deadline in stop_reason, memory="a" in int()), and tol=-1 or c1=0 ran."""
    from liftnet.solvers.quasi_newton import group_owlqn

    sub = _GroupLassoQuadratic(np.eye(6), np.ones(6), 0.1, (2, 3))
    with pytest.raises((TypeError, ValueError), match=name):
        group_owlqn(sub, np.zeros(6), **{"tol": 1e-8, "max_iter": 20, **kw})
    x, info = group_owlqn(sub, np.zeros(6), tol=1e-10, max_iter=50, deadline=lambda: None,
                          c1=0.5)  # valid ones still solve
    assert info.status == "converged" and np.all(np.isfinite(x))


@pytest.mark.parametrize("blocks", [[slice(0, 3)], [slice(1, 8)], [slice(0, 3), slice(3, 9)],
                                    [slice(None, 3), slice(3, 8)]])
def test_compact_lbfgs_blocks_must_cover_the_entries(blocks):
    """``apply`` left an uncovered entry as ``np.empty`` made it (garbage in the direction);
    ``slice(None, 3)`` died in ``int()`` without naming ``blocks``."""
    with pytest.raises(ValueError, match="blocks"):
        CompactLBFGS(8, 2, blocks)
    q = np.arange(1.0, 9.0)  # blocks that cover: an empty memory scales every entry
    mem = CompactLBFGS(8, 2, [slice(0, 3), slice(3, 8)])
    np.testing.assert_array_equal(mem.apply(q, np.array([2.0, 3.0])),
                                  np.r_[2.0 * q[:3], 3.0 * q[3:]])


# group_owlqn's argument checks at their edges (mutation review of 6a48648).
@pytest.mark.parametrize("kw, name", [
    (dict(c1=1.0), "c1"),  # c1 in (0, 1): 1 is outside
    (dict(memory=0), "memory"),  # memory >= 1
    (dict(memory_bytes=0), "memory_bytes"),  # a budget of 0 bytes holds no pair
])
def test_group_owlqn_refuses_edge_values_before_any_work(kw, name):
    """The checks come before ``sub`` is touched: a bad value is a ValueError naming it."""
    with pytest.raises(ValueError, match=name):
        group_owlqn(None, np.zeros(6), **{"tol": 1e-8, "max_iter": 20, **kw})


def test_compact_lbfgs_takes_numpy_integer_slice_edges():
    """"slices with integer start and stop": numpy integers are integers (block edges are
    often computed with numpy)."""
    blocks = [slice(np.int64(0), np.int64(3)), slice(np.int64(3), np.int64(8))]
    mem = CompactLBFGS(8, 2, blocks)
    q = np.arange(1.0, 9.0)
    np.testing.assert_array_equal(mem.apply(q, np.array([2.0, 3.0])),
                                  np.r_[2.0 * q[:3], 3.0 * q[3:]])


def test_group_owlqn_takes_max_iter_zero():
    """``max_iter >= 0`` as prox_gradient_bb's: 0 iterations return the start."""
    sub = _GroupLassoQuadratic(np.eye(6), np.ones(6), 0.1, (2, 3))
    x0 = np.full(6, 0.5)
    x, info = group_owlqn(sub, x0.copy(), tol=1e-12, max_iter=0)
    assert info.status == "max_iter" and info.nit == 0
    np.testing.assert_array_equal(x, x0)


# CompactLBFGS refuses blocks that do not cover its n entries (6a48648: "apply left the rest
# uninitialised"), but a stepped slice or a reversed block passed the check (only the first
# start and the last stop were compared), and an empty list died in an IndexError.
@pytest.mark.parametrize("blocks", [
    [slice(0, 8, 2)],  # covers the even entries only: apply left the odd ones as np.empty did
    [slice(0, 5), slice(5, 3), slice(3, 8)],  # a reversed block: entries 3 and 4 twice
    [],
])
def test_blocks_that_are_no_partition_of_the_entries_are_refused(blocks):
    with pytest.raises(ValueError, match="blocks"):
        CompactLBFGS(8, 2, blocks)


def test_blocks_of_a_partition_still_apply_per_block_scales():
    q = np.arange(1.0, 9.0)
    mem = CompactLBFGS(8, 2, [slice(0, 3), slice(3, 3), slice(3, 8, 1)])
    np.testing.assert_array_equal(mem.apply(q, np.array([2.0, 7.0, 3.0])),
                                  np.r_[2.0 * q[:3], 3.0 * q[3:]])

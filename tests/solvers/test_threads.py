"""``solve_alm(threads=...)``: the BLAS threads of a run (liftnet/solvers/threads.py)."""

from types import SimpleNamespace

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import liftnet.solvers.alm as alm
import liftnet.solvers.threads as threads_mod
from liftnet import LiftedProblem, solve_alm
from liftnet.solvers.threads import SMALL_PRODUCTS, blas_threads, product_size


def blas_now() -> int:
    """The largest thread count of the loaded BLAS libraries now."""
    return max(m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas")


def small_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    return LiftedProblem(X, np.sin(X[:, :1]), hidden=(4,), lam=1e-2)


@pytest.fixture
def two_threads():
    """A BLAS with at least two threads (the 2-core CI machine's OpenBLAS has two)."""
    if blas_now() < 2:
        pytest.skip("the BLAS runs one thread here: no limit to see")


def test_product_size_is_the_forward_pass_multiply_adds():
    p = small_problem()  # widths 3-4-1, N = 30
    assert product_size(p) == 30 * (3 * 4 + 4 * 1)


@pytest.mark.parametrize("threads, during", [("auto", 1), (1, 1), (None, "as before")])
def test_the_run_has_its_threads_and_gives_them_back(two_threads, threads, during):
    """Inside the run (seen by its callback) the BLAS has the run's threads: one for a small
    problem under ``"auto"`` or ``1``, the pools as they were under ``None``; after the
    return the pools are as they were."""
    before = blas_now()
    seen = []
    res = solve_alm(small_problem(), max_iter=2, threads=threads,
                    callback=lambda rec: seen.append(blas_now()))  # fmt: skip
    assert res.nit == 2 and seen == [before if during == "as before" else during] * 2
    assert blas_now() == before


def test_auto_leaves_large_products_to_the_pools(two_threads, monkeypatch):
    """Above ``SMALL_PRODUCTS`` the ``"auto"`` run keeps the threads it finds."""
    monkeypatch.setattr(threads_mod, "SMALL_PRODUCTS", 0.0)
    before = blas_now()
    seen = []
    solve_alm(small_problem(), max_iter=1, callback=lambda rec: seen.append(blas_now()))
    assert seen == [before]
    assert blas_threads(small_problem(), "auto") is None


def test_threads_are_given_back_after_a_ctrl_c(two_threads):
    """A Ctrl-C in the run (here in its callback) ends it ``interrupted`` and the BLAS gets
    its threads back. ``solve_alm`` catches that Ctrl-C inside its thread limit, so the
    limit's block ends normally there; a Ctrl-C or error that leaves the block (one that
    reaches the caller) must give the threads back too."""
    before = blas_now()

    def ctrl_c(rec):
        raise KeyboardInterrupt

    res = solve_alm(small_problem(), max_iter=3, threads=1, callback=ctrl_c)
    assert res.status == "interrupted" and blas_now() == before

    with pytest.raises(KeyboardInterrupt):
        with threads_mod.limit_blas(1):
            assert blas_now() == 1
            raise KeyboardInterrupt
    assert blas_now() == before

    def error(rec):  # not an interrupt: solve_alm lets it through its limit to the caller
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        solve_alm(small_problem(), max_iter=3, threads=1, callback=error)
    assert blas_now() == before


def test_one_thread_by_auto_or_by_hand_is_the_same_run(monkeypatch):
    """``"auto"`` on a small problem is ``threads=1``: the run asks the BLAS for one thread
    (the limit ``solve_alm`` enters is recorded: on a small problem the iterates alone are
    the same whatever the threads, so they cannot tell) and makes the same iterates, bit for
    bit."""
    limits, real = [], alm.limit_blas

    def spy(n):
        limits.append(n)
        return real(n)

    monkeypatch.setattr(alm, "limit_blas", spy)
    runs = []
    for threads in ("auto", 1):
        limits.clear()
        runs.append(solve_alm(small_problem(), max_iter=4, threads=threads))
        assert limits[:1] == [1]  # the run's own limit, entered first (a warm-up may follow)
    a, b = runs
    assert a.n_inner == b.n_inner
    assert all(np.array_equal(x, y) for x, y in zip(a.W, b.W, strict=True))


@pytest.mark.parametrize("threads, exc", [("x", ValueError), (0, ValueError), (-2, ValueError),
                                          (1.5, TypeError), (True, TypeError),
                                          (2**31, ValueError), (2**70, ValueError),
                                          (np.array([1, 2]), TypeError)])  # fmt: skip
def test_bad_threads_are_refused_by_name(threads, exc):
    """(``2**70`` reached threadpoolctl, which failed with a ctypes ``ArgumentError``: the
    limit is a C int.)"""
    with pytest.raises(exc, match=r"^threads must be 'auto', None or an integer in \[1, "
                       r"2147483647\], got "):
        solve_alm(small_problem(), threads=threads)


def test_the_comparison_runs_the_alm_on_its_own_threads(monkeypatch):
    """The harness limits every method's threads alike (``_threads``): it calls the ALM with
    ``threads=None``, so that its own setting holds for the ALM too (issue 4: same threads)."""
    import liftnet
    from liftnet.compare.runs import run_alm

    calls = []
    monkeypatch.setattr(liftnet, "solve_alm", lambda prob, **kw: calls.append(kw) or "res")
    assert run_alm(small_problem(), tol=1e-6, seed=0) == "res"
    assert calls[0]["threads"] is None


def shaped(N, widths):
    """What ``product_size`` reads of a problem."""
    return SimpleNamespace(N=N, widths=tuple(widths))


def test_auto_takes_one_thread_strictly_below_ten_million_multiply_adds():
    """``threads="auto"``: one BLAS thread for fewer than ``SMALL_PRODUCTS = 1e7``
    multiply-adds per forward pass (the threshold measured in session 35), the pools
    from exactly 1e7 on."""
    assert SMALL_PRODUCTS == 1e7
    assert product_size(shaped(1000, (10, 100, 100))) == 1000 * (10 * 100 + 100 * 100)
    assert product_size(shaped(1, (1, 1, 10**7 - 1))) == 10**7
    assert blas_threads(shaped(1, (1, 1, 10**7 - 2)), "auto") == 1
    assert blas_threads(shaped(1, (1, 1, 10**7 - 1)), "auto") is None  # exactly 1e7
    # the docstring's data: digits (3.7e6) on one thread, MNIST-shaped at N = 50 on the pools
    assert blas_threads(shaped(1797, (64, 32, 32, 10)), "auto") == 1
    assert blas_threads(shaped(50, (784, 256, 256, 10)), "auto") is None


def test_an_integer_thread_count_comes_back_as_an_int():
    """A numpy integer is accepted and handed to threadpoolctl as a Python int."""
    n = blas_threads(shaped(1, (1, 1)), np.int64(3))
    assert n == 3 and type(n) is int
    assert blas_threads(shaped(1, (1, 1)), 1) == 1
    assert blas_threads(shaped(1, (1, 1)), None) is None


def test_limit_blas_forgets_its_limit_when_its_block_raises():
    """A Ctrl-C (or any error) through ``limit_blas(1)`` leaves ``one_thread()`` False after
    it: a stale entry would make later compiled loops believe the BLAS is on one thread."""
    assert not threads_mod.one_thread()
    with pytest.raises(KeyboardInterrupt):
        with threads_mod.limit_blas(1):
            assert threads_mod.one_thread()
            raise KeyboardInterrupt
    assert not threads_mod.one_thread() and threads_mod._active == []

"""The BLAS threads of a solve (``solve_alm(threads=...)``, docs/benchmarks.md "BLAS threads").

On small problems a threaded BLAS gains little and risks much: on the 2-core machine of
session 35, quiet, two OpenBLAS threads made an inner iteration on the digits 6-11% faster
than one (1.12 against 1.19-1.26 ms), but with two other processes busy the two threads
wait for each other (OpenBLAS' threads spin) and the same iteration took 5.9-13.2 ms
against 1.8-2.6 ms with one; the demo (digits) stopped at its 50 s limit after 1,688 inner
iterations with two threads and converged in 6.3 s of solver time with one. Near
``N * sum(n_l n_{l-1}) = 1e7`` two threads save 15-19% of an iteration on a quiet machine
(MNIST-shaped float32 at N = 50, 1.2e7: 3.5-3.6 against 4.2 ms; the teacher 10-32-32-3 with
biases at N = 8000, 1.2e7: 9.7-9.8 against 11.7-11.9 ms), a quarter from 6e7 (MNIST-shaped at
N = 250): from there on the threads are left as they are.
"""

from __future__ import annotations

import contextlib
import numbers

#: ``threads="auto"`` takes one BLAS thread below this many multiply-adds in the products of
#: one forward pass (``N * sum(n_l n_{l-1})``): the digits (3.7e6) and the teachers of the
#: tests and of ``benchmarks/bench_ipopt.py`` run on one thread, the MNIST-shaped data from
#: N = 50 (1.2e7) on as many as the BLAS has
SMALL_PRODUCTS = 1e7
#: the largest thread limit taken: threadpoolctl hands it to the BLAS as a C int (a limit
#: above the BLAS's own maximum is clamped by the BLAS)
MAX_THREADS = 2**31 - 1

_controller = None  # threadpoolctl's view of the loaded BLAS libraries, made on first use


def product_size(prob) -> int:
    """Multiply-adds of the matrix products of one forward pass, ``N * sum(n_l n_{l-1})``."""
    w = prob.widths
    return prob.N * sum(a * b for a, b in zip(w[:-1], w[1:]))


def blas_threads(prob, threads) -> int | None:
    """The BLAS thread limit of a solve of ``prob`` (``None``: leave the pools as they are).

    ``threads``: ``"auto"`` (one thread when :func:`product_size` is below
    :data:`SMALL_PRODUCTS`, else ``None``), ``None``, or an int in ``[1, MAX_THREADS]``."""
    if threads is None:
        return None
    what = f"threads must be 'auto', None or an integer in [1, {MAX_THREADS}], got {threads!r}"
    if isinstance(threads, str):
        if threads == "auto":
            return 1 if product_size(prob) < SMALL_PRODUCTS else None
        raise ValueError(what)
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(what)
    if not 1 <= threads <= MAX_THREADS:  # (threadpoolctl passes it on as a C int)
        raise ValueError(what)
    return int(threads)


#: the limits of the :func:`limit_blas` contexts now entered, innermost last (``None`` ones,
#: which change nothing, are not entered)
_active: list = []


@contextlib.contextmanager
def limit_blas(n: int | None):
    """A context in which the BLAS libraries use at most ``n`` threads (``None``: no change).
    threadpoolctl's controller is made once per process (its scan of the loaded libraries
    takes about 10 ms; a limit then about 10 microseconds), SciPy's BLAS loaded first: numba's
    products (:mod:`.owlqn_compiled`) run on it, and a library loaded after the scan is not
    limited."""
    global _controller
    if n is None:
        yield
        return
    if _controller is None:
        import scipy.linalg.cython_blas  # noqa: F401  (numba's BLAS: loaded, so controlled)
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=n, user_api="blas"):
        _active.append(n)
        try:
            yield
        finally:
            _active.pop()


def one_thread() -> bool:
    """Whether the innermost :func:`limit_blas` context entered holds the BLAS to one thread.
    The compiled inner loop (:mod:`.owlqn_compiled`) runs on one thread (then, or on products
    below :data:`SMALL_PRODUCTS`, taking one itself: ``owlqn_compiled.one_blas_thread``): its
    products go through numba's BLAS (SciPy's OpenBLAS, another pool than numpy's), and with
    two threads per pool on the 2-core Intel Xeon of session 44 an inner iteration took 2.5
    times as long as on one thread, and longer than the Python loop's on two
    (``compare.py``'s teacher, 10-8-3 with ten irrelevant inputs: 12.3 against 4.8 ms per
    inner iteration with numpy's products on two threads, 4.4 on one; scratch
    ``/tmp/s44_thr.py``)."""
    return bool(_active) and _active[-1] == 1

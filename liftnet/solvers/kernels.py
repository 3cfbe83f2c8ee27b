"""Compiled per-layer kernels of the ALM subproblem ``L_rho(., M)`` (MODEL.md section 6).

One evaluation of ``L_rho`` and its gradient does, on every hidden layer, a few dozen entrywise
operations on arrays of size ``n_l x N`` (the gaps, the shifted multipliers ``max(0, M + rho
g)``, the coupling's partials, the fields ``D_l``, ``E_l`` of the backward pass). As whole-array
numpy each is one pass over memory, and together they cost several times the layer's matrix
products (``benchmarks/bench_alm.py``, the ``ratio`` column). Here they are two fused passes per
layer, compiled with numba (on all cores for layers of at least 2^21 entries, on one below:
``_PARALLEL_MIN_SIZE``), the way skglm compiles its coordinate-descent loops. The model's
formulas are not repeated (only the bias add, the branch map ``V = C U + S`` of docs/maths.md
6.2 and its chain rule ``D_l += C_l gV_l``, one line each, are written here again, as
docs/maths.md 8 lists): the kernels call the entrywise functions of
:mod:`liftnet.formulation.couplings` (the couplings) and :mod:`liftnet.formulation.entrywise`
(the gaps, the fields ``D_l``, ``E_l`` and the shifted multiplier), the same functions the numpy
model evaluates on whole arrays.

Optional arguments (bias, branch slopes) are passed as empty arrays, so that every kernel has one
compiled signature per dtype. The compiled code is cached on disk (``__pycache__``; the first
call in a fresh checkout compiles, a few seconds per dtype). numba invalidates that cache when
this file changes but not when ``couplings.py`` or ``entrywise.py`` does, so
:func:`_drop_stale_cache` does.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from .._numba_cache import cache_folder, ensure_cache_dir
from ..formulation import couplings as _c
from ..formulation import entrywise as _e

ensure_cache_dir(__file__)


def _numba_cache_folder() -> Path:
    """Where numba keeps the compiled functions of this folder's modules, as numba picks it
    (:func:`liftnet._numba_cache.cache_folder`: with ``NUMBA_CACHE_DIR`` set its subfolder
    for this folder there, else ``__pycache__`` beside them, else the user's cache folder of a
    read-only install); ``__pycache__`` where numba's internals are not those known. Until
    session 52 the guard below looked in ``__pycache__`` only, and with ``NUMBA_CACHE_DIR``
    set the stale kernels ran on after an edit of ``couplings.py`` (a test audit: the
    subproblem's value stayed at 3.6346 with the complementarity term doubled, where a fresh
    cache gave 4.2087)."""
    folder = cache_folder(__file__)
    return Path(__file__).with_name("__pycache__") if folder is None else Path(folder)


def _drop_stale_cache(cache=None, sources=None, module="kernels"):
    """Delete the numba cache of ``module`` (a module of this folder; its files in ``cache``,
    default :func:`_numba_cache_folder`) when the sources it compiles from other files
    (``sources``, default ``couplings.py`` and ``entrywise.py``, the model's formulas the
    kernels call) have changed since the stamp ``<module>.sources-sha256`` was written. numba
    checks only the file of the function it compiles: a compiled caller keeps the callees'
    code it was compiled with (:mod:`.owlqn_compiled` calls the kernels, the group loops and
    the L-BFGS passes, and guards itself the same way)."""
    cache = _numba_cache_folder() if cache is None else Path(cache)
    stamp = cache / f"{module}.sources-sha256"
    sources = (_c.__file__, _e.__file__) if sources is None else sources
    digest = hashlib.sha256(b"".join(Path(f).read_bytes() for f in sources)).hexdigest()
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for f in cache.glob(f"{module}.*.nb[ic]"):
            f.unlink()
        cache.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: numba then caches elsewhere or not at all
        pass


_drop_stale_cache()

# numba's default OpenMP layer leaves its threads spinning after each kernel, and they take the
# cores from the BLAS products that run between kernels: measured on the digits problem of
# benchmarks/bench_alm.py (2 cores, the parallel driver on every layer), an inner iteration took
# 25 ms with OpenMP and 4.3 ms with the workqueue layer. A user's own layer is respected: the
# environment's NUMBA_THREADING_LAYER, or numba.config.THREADING_LAYER set before this import.
if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"


# Every compiled function states its fastmath option, False where it has none: numba compiles a
# function that does not state it with the flags of the first compiled caller that calls it
# (numba issue #7168), so the entrywise formulas below, called by the value's row function
# (reassociated) and by the gradient's (not), took the value's flags when it ran first and
# their own when something else did, and the L-BFGS algebra (_compact_coefficients) those of
# _apply_compiled or none. The iterates then depended on what the process (or the one that
# filled numba's disk cache) had compiled first: the same subproblem took another path after
# a test that compiled the algebra alone (2026-12-06).
_scalar = njit(fastmath=False)
# the model's entrywise formulas, compiled for scalars
_gaps, _field_D, _field_E, _shifted = (_scalar(f) for f in (_e.gaps, _e.field_D, _e.field_E,
                                                           _e.shifted))
_c_pi, _c_dV, _c_dU = (_scalar(f) for f in (_c.complementarity_pointwise,
                                            _c.complementarity_dpi_dV, _c.complementarity_dpi_dU))
_s_pi, _s_dV, _s_dU = (_scalar(f) for f in (_c.squared_pointwise, _c.squared_dpi_dV,
                                            _c.squared_dpi_dU))


@njit(cache=True, fastmath=False)
def _coupling_terms(kind, g1, g2, alpha):
    """``(pi term, dpi/dV, dpi/dU)`` of coupling ``kind`` (index in ``COUPLINGS``)."""
    if kind == 0:
        return _c_pi(g1, g2, alpha), _c_dV(g1, g2, alpha), _c_dU(g1, g2, alpha)
    return _s_pi(g1, g2, alpha), _s_dV(g1, g2, alpha), _s_dU(g1, g2, alpha)


# Each kernel is a row function (the formulas, once) and two drivers over the rows: parallel on
# all cores, and serial for layers below 2^21 entries, where starting the threads costs more
# than the work saves. benchmarks/bench_kernels.py times one layer's products and
# kernels with each driver forced; on 2 cores (workqueue layer) the parallel one took 2.2-4.0
# times as long on the digits' layers (2e4-4e4 entries), 1.02-1.45 times on the MNIST-shaped
# ones of 1.3e5-5.1e5 entries, 1.00-1.09 at 1e6, and 0.95-1.05 from 2e6 to 1.5e7 (two runs), so
# it starts at 2^21. The reductions of the value may be reassociated (vectorised); nothing else
# is.
_PARALLEL_MIN_SIZE = 1 << 21  # entries n_l N from which the parallel driver is used


@njit(cache=True, fastmath={"reassoc"})
def _value_row(i, U, b, VS, C, M1, M2, V, alpha, rho, kind):
    with_bias = b.shape[0] > 0
    branch = C.shape[0] > 0
    bi = b[i] if with_bias else 0.0
    sp = 0.0
    sq = 0.0
    for j in range(U.shape[1]):
        u = U[i, j]
        if with_bias:
            u += bi
            U[i, j] = u
        if branch:
            v = C[i, j] * u + VS[i, j]
            V[i, j] = v
        else:
            v = VS[i, j]
        g1, g2 = _gaps(u, v, alpha)
        p, _, _ = _coupling_terms(kind, g1, g2, alpha)
        m1 = _shifted(M1[i, j], g1, rho)
        m2 = _shifted(M2[i, j], g2, rho)
        sp += p
        sq += m1 * m1 + m2 * m2
    return sp, sq


@njit(parallel=True, cache=True, fastmath=False)
def _value_rows_parallel(U, b, VS, C, M1, M2, V, alpha, rho, kind):
    """The per-row sums of :func:`_value_row`, rows spread over the threads."""
    n = U.shape[0]
    sums = np.zeros((n, 2))
    for i in prange(n):
        sums[i, 0], sums[i, 1] = _value_row(i, U, b, VS, C, M1, M2, V, alpha, rho, kind)
    return sums


@njit(cache=True, fastmath=False)
def _totals(sums):
    """The two columns' totals, added in row order on one thread: the parallel driver's
    result is then the serial one's to the bit whatever the thread count (a reduction inside
    the ``parallel=True`` function would be split over the threads)."""
    return sums[:, 0].sum(), sums[:, 1].sum()


def _value_parallel(U, b, VS, C, M1, M2, V, alpha, rho, kind):
    return _totals(_value_rows_parallel(U, b, VS, C, M1, M2, V, alpha, rho, kind))


@njit(cache=True, fastmath=False)
def _value_serial(U, b, VS, C, M1, M2, V, alpha, rho, kind):
    n = U.shape[0]
    sums = np.zeros((n, 2))
    for i in range(n):
        sums[i, 0], sums[i, 1] = _value_row(i, U, b, VS, C, M1, M2, V, alpha, rho, kind)
    return sums[:, 0].sum(), sums[:, 1].sum()


def layer_value(U, b, VS, C, M1, M2, V, alpha, rho, kind):
    """Forward part of one hidden layer ``l``, in place; returns ``(pi_l, sum Mh1^2 + Mh2^2)``.

    On entry ``U = W_l V_{l-1}``; on exit ``U = W_l V_{l-1} + b_l 1^T`` (``b`` empty: no bias).
    With branch slopes ``C`` (non-empty) ``VS`` is ``S_l`` and ``V <- C * U + S_l``
    (docs/maths.md 6.2); otherwise ``VS`` is ``V_l`` itself and ``V`` is not written. The sums
    run over ``g1 = U - V``, ``g2 = alpha U - V`` and ``Mh = max(0, M + rho g)``.
    """
    run = _value_parallel if U.size >= _PARALLEL_MIN_SIZE else _value_serial
    return run(U, b, VS, C, M1, M2, V, alpha, rho, kind)


@njit(cache=True, fastmath=False)
def _gradient_row(i, U, V, C, M1, M2, gV, D, alpha, rho, c, kind):
    branch = C.shape[0] > 0
    for j in range(U.shape[1]):
        u = U[i, j]
        v = V[i, j]
        g1, g2 = _gaps(u, v, alpha)
        _, pV, pU = _coupling_terms(kind, g1, g2, alpha)
        m1 = _shifted(M1[i, j], g1, rho)
        m2 = _shifted(M2[i, j], g2, rho)
        e = _field_E(gV[i, j] + c * pV, m1, m2)  # gV_l: dV_l + W_{l+1}^T D_{l+1} - M1 - M2
        gV[i, j] = e
        d = _field_D(c * pU, m1, m2, alpha)
        if branch:
            d += C[i, j] * e
        D[i, j] = d


@njit(parallel=True, cache=True, fastmath=False)
def _gradient_parallel(U, V, C, M1, M2, gV, D, alpha, rho, c, kind):
    for i in prange(U.shape[0]):
        _gradient_row(i, U, V, C, M1, M2, gV, D, alpha, rho, c, kind)


@njit(cache=True, fastmath=False)
def _gradient_serial(U, V, C, M1, M2, gV, D, alpha, rho, c, kind):
    for i in range(U.shape[0]):
        _gradient_row(i, U, V, C, M1, M2, gV, D, alpha, rho, c, kind)


def layer_gradient(U, V, C, M1, M2, gV, D, alpha, rho, c, kind):
    """Backward part of one hidden layer ``l`` (MODEL.md section 5), in place.

    On entry ``gV = W_{l+1}^T D_{l+1}``. On exit ``gV = gV_l = E_l + W_{l+1}^T D_{l+1}`` and
    ``D = D_l``, with ``E_l = c dpi/dV - Mh1 - Mh2``, ``D_l = c dpi/dU + Mh1 + alpha Mh2``
    (``c = beta / N``, ``Mh = max(0, M + rho g)``) plus ``C * gV_l`` in branch coordinates
    (``C`` non-empty; ``gV`` is then the gradient in ``S_l``).
    """
    run = _gradient_parallel if U.size >= _PARALLEL_MIN_SIZE else _gradient_serial
    run(U, V, C, M1, M2, gV, D, alpha, rho, c, kind)


def not_given(dtype, ndim):
    """An empty array of ``ndim`` dimensions: the kernels' "not given" for the bias (1) and the
    branch slopes (2)."""
    return np.empty((0,) * ndim, dtype=dtype)


def warm_up_parallel(dtype) -> None:
    """Compile (or load from the disk cache) the parallel drivers for ``dtype`` by running them
    on one entry: a small solve only reaches the serial ones (:func:`liftnet.solvers.alm.warm_up`
    runs both)."""
    one = np.ones((1, 1), dtype=dtype)
    no_b, no_C = not_given(dtype, 1), not_given(dtype, 2)
    _value_parallel(one.copy(), no_b, one, no_C, one, one, one.copy(), 0.1, 1.0, 0)
    _gradient_parallel(one, one, no_C, one, one, one.copy(), one.copy(), 0.1, 1.0, 1.0, 0)

"""Group OWL-QN on the ALM's subproblem, compiled whole: the small problems' inner solver.

:func:`.quasi_newton.group_owlqn` is the algorithm, written once in Python for any subproblem
that provides its callables. On small problems its Python is most of an inner iteration: on
the 8-16-16-4 teacher of ``benchmarks/bench_ipopt.py`` at ``N = 400`` (13,000 variables) the
compiled work of an iteration (the L-BFGS passes, the entrywise kernels, the products) was a
third of its 0.34 ms, the rest about 200 calls of Python and numpy on short arrays
(docs/benchmarks.md, session 42). This module runs the same iterations on the ALM's
subproblem ``L_rho(., M)`` (:class:`.alm._Subproblem`, in the model's or the branch
coordinates) as compiled loops, and returns to Python only where the solver calls back: the
certificate and the checkpoint of the schedule (iterations 1, 2, 3, 5, 8, ...), the caller's
``finish`` (every :data:`.quasi_newton.FINISH_EVERY` iterations), the test of the deadline
(about every :data:`CHUNK_SECONDS`) and Ctrl-C (between those calls).

It is the same algorithm to the bit, not an approximation of it: every formula but the data fit,
its partial ``dU_L``, the output bias, ``lam R``, the coupling's scale ``beta/N`` and the
backward recursion's products ``W_{l+1}^T D_{l+1}``, ``D_l V_{l-1}^T``, ``D_l 1`` (restated
here, summed in numpy's order, as docs/maths.md 8 lists) is the compiled kernel or function the
Python solver calls (:mod:`.kernels`, the group loops of :class:`.FlatGroups`, the L-BFGS passes
of :class:`.CompactLBFGS`, :func:`.backtrack_step`, ``L_rho`` from its sums by
:func:`.entrywise.augmented_value`), the matrix products are BLAS's (numba's ``np.dot``, the
same ``dgemm``/``ddot`` as numpy's), and every reduction numpy makes is made in numpy's order
(:func:`.quasi_newton._numpy_sum`: its pairwise summation).
``tests/solvers/test_owlqn_compiled.py`` runs both solvers on the same subproblems and compares
their iterates, statuses and counts for equality, and the fingerprints of
``benchmarks/fingerprint.py`` did not change when :func:`.solve_alm` took this path.

What it does not do: float32 (the Python solver's float32 arithmetic follows numpy's scalar
promotion rules), the parallel kernels of large layers, more than one BLAS thread (numba's
products use SciPy's OpenBLAS, a second pool, slower than the Python loop on two threads:
:func:`.threads.one_thread`; it runs on one where that suits the problem,
:func:`one_blas_thread`), and ``monitor`` at every iteration (the ALM's ``inner_callback``
without ``inner_callback_every``; with it, the calls come between the compiled calls). It runs
the ALM's subproblems in both coordinate systems and the weight polish
(:class:`.alm._WeightsOnly`). :func:`usable` says when it applies.

Compiling it takes about 30 s on a cold cache (numba's; ``scripts/setup.sh`` fills the cache
once, and :func:`.alm.warm_up` loads it in well under a second).
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from .._numba_cache import ensure_cache_dir
from ..formulation import couplings as _couplings
from ..formulation import entrywise as _entrywise
from ..formulation import penalties as _penalties
from ..formulation.penalties import (
    _group_dots,
    _keep_aligned,
    _max_group_dot,
    _subdiff_residual,
    _zero_entries,
)
from . import kernels, threads
from . import quasi_newton as _quasi_newton
from ._interrupt import INTERRUPTS, interrupted
from .proxgrad import InnerInfo, past, stop_reason
from .quasi_newton import (
    _CHECK_GROWTH,
    _REUSE_FROM,
    _SMALL,
    _UNSEEN_AFTER,
    _UNSEEN_GROWTH,
    FINISH_EVERY,
    _apply_compiled,
    _backtrack_step,
    _block_scales_loop,
    _column_sums,
    _dot_of_step,
    _grow_unseen_loop,
    _numpy_sum,
    _open_zero_groups,
    _pairwise,
    _record_pair,
    _row_dots,
    _row_dots_pair,
    _step_dots,
    _trial_point,
    _value_noise,
    armijo_by_slope,
)

ensure_cache_dir(__file__)

# numba recompiles this module's functions when this file changes, not when a function they
# call does: the cache goes when one of those files changes (kernels._drop_stale_cache)
#: the modules whose compiled functions this module's functions call, directly or through
#: the kernels (couplings and entrywise): the sources of the cache's stamp
INLINED = (kernels, _quasi_newton, _penalties, _couplings, _entrywise)
kernels._drop_stale_cache(module="owlqn_compiled", sources=[m.__file__ for m in INLINED])
#: the value of L_rho from its sums, the model's formula (:func:`.entrywise.augmented_value`),
#: compiled as the kernels compile the other entrywise formulas (fixed flags)
_augmented_value = kernels._scalar(_entrywise.augmented_value)

#: whether :func:`.solve_alm` takes this path where it applies (False: the Python solver
#: everywhere, for a comparison of the two)
ENABLED = True
#: the time one compiled call runs before the deadline is tested and a Ctrl-C can land (the
#: number of iterations per call follows the time the last calls took, at most
#: :data:`CHUNK_MAX`): the Python loop tests the deadline at every iteration
CHUNK_SECONDS, CHUNK_MAX = 0.005, 256
#: the variables (``n``) up to which :func:`.solve_alm` takes this path: the problems whose
#: iterations are dominated by the Python solver's calls (the digits' 67,000 variables
#: included; the MNIST-shaped ones are not, and run their products threaded)
MAX_SIZE = 1 << 18

# the integer state (ist): counters, slots, flags
_K, _NBT, _NSHORT, _KHALVED, _NEXT, _CUR, _BEST, _PG, _NORD, _HAVE_SCALES, _HAVE_P, _NP, \
    _CERT, _STATUS, _STOP, _SCHED, _ASK = range(17)
# the float state (fst)
_R, _V, _RHALVED, _BESTR, _BESTV, _TOLX, _CERTR = range(7)
# statuses (ist[_STATUS]) and stop reasons (ist[_STOP])
_GO, _CONVERGED, _MAX_ITER, _STALLED, _DIVERGED, _UNBOUNDED = range(6)
STATUS_NAMES = ("", "converged", "max_iter", "stalled", "diverged", "unbounded")
# what a compiled call ended on
_BUDGET, _CHECK, _DONE = range(3)


@njit(cache=True, fastmath=False, error_model="numpy")
def _norm(v):
    """:func:`.quasi_newton._norm`: ``sqrt(v . v)``, rescaled when that overflows."""
    n = np.sqrt(np.dot(v, v))
    if np.isfinite(n):
        return n
    top = 0.0
    for j in range(v.shape[0]):
        a = abs(v[j])
        if a != a:
            return a
        if a > top:
            top = a
    if not np.isfinite(top):
        return top
    w = v / top
    return top * np.sqrt(np.dot(w, w))


# ---- the subproblem: L_rho(., M) of alm._Subproblem, by the same kernels
# p = (V0, V0T, YT, widths, woff, boff, voff, uoff, M1, M2, C, no_b, no_C, segs,
#      alpha, rho, beta, lam, M_sq, kind, bias, branch, n_groups, n_free) (_problem_tuple):
#      uoff the offsets of the layers' n_l x N blocks in the flat arrays of U (all layers) and
#      of M1, M2, C, V (the hidden ones, the same offsets); n_free < n for the weight polish
#      (alm._WeightsOnly: the gradient past the weights and biases is zero)
# the entries of p that the group work reads
_P_UOFF, _P_SEGS, _P_LAM, _P_NGROUPS = 7, 13, 17, 22

@njit(cache=True, fastmath=False, error_model="numpy")
def _hidden(flat, off, l, n, N):
    """The ``n x N`` block of hidden layer ``l`` in a flat array of such blocks."""
    return flat[off[l]:off[l] + n * N].reshape(n, N)


@njit(cache=True, fastmath=False, error_model="numpy")
def _weights(x, woff, widths, l):
    return x[woff[l]:woff[l + 1]].reshape(widths[l + 1], widths[l])


@njit(cache=True, fastmath=False, error_model="numpy")
def _value(x, Ub, Vb, p):
    """:meth:`.alm._Subproblem.evaluate` at ``x``: the value; ``U`` of every layer into ``Ub``
    and, in branch coordinates, ``V = C U + S`` of the hidden layers into ``Vb``."""
    (V0, V0T, YT, widths, woff, boff, voff, uoff, M1, M2, C, no_b, no_C, segs,
     alpha, rho, beta, lam, M_sq, kind, bias, branch, n_groups, n_free) = p
    L = widths.shape[0] - 1
    N = V0.shape[1]
    pi = 0.0
    pen = 0.0
    for l in range(L - 1):
        n = widths[l + 1]
        Ul = Ub[uoff[l]:uoff[l + 1]].reshape(n, N)
        if l == 0:
            np.dot(_weights(x, woff, widths, l), V0, Ul)
        else:
            Vp = (_hidden(Vb, uoff, l - 1, widths[l], N) if branch
                  else _hidden(x, voff, l - 1, widths[l], N))
            np.dot(_weights(x, woff, widths, l), Vp, Ul)
        bl = x[boff[l]:boff[l] + n] if bias else no_b
        VSl = _hidden(x, voff, l, n, N)
        if branch:
            q1, q2 = kernels._value_serial(Ul, bl, VSl, _hidden(C, uoff, l, n, N),
                                           _hidden(M1, uoff, l, n, N),
                                           _hidden(M2, uoff, l, n, N),
                                           _hidden(Vb, uoff, l, n, N), alpha, rho, kind)
        else:
            q1, q2 = kernels._value_serial(Ul, bl, VSl, no_C, _hidden(M1, uoff, l, n, N),
                                           _hidden(M2, uoff, l, n, N), VSl, alpha, rho, kind)
        pi += q1
        pen += q2
    nL = widths[L]
    UL = Ub[uoff[L - 1]:uoff[L]].reshape(nL, N)
    WL = _weights(x, woff, widths, L - 1)
    if L == 1:
        np.dot(WL, V0, UL)
    elif branch:
        np.dot(WL, _hidden(Vb, uoff, L - 2, widths[L - 1], N), UL)
    else:
        np.dot(WL, _hidden(x, voff, L - 2, widths[L - 1], N), UL)
    if bias:
        bL = x[boff[L - 1]:boff[L - 1] + nL]
        for i in range(nL):
            for j in range(N):
                UL[i, j] += bL[i]
    r = np.empty(nL * N)  # U_L - Y^T in C order (np.vdot ravels in C order)
    for i in range(nL):
        for j in range(N):
            r[i * N + j] = UL[i, j] - YT[i, j]
    loss = np.dot(r, r) / N
    w = x[:woff[L]]
    gval = lam * _numpy_sum(np.sqrt(_group_dots(w, w, segs, n_groups)))
    return _augmented_value(loss, pi, pen, M_sq, gval, beta, N, rho)


@njit(cache=True, fastmath=False, error_model="numpy")
def _gradient(x, Ub, Vb, p, Dw, out):
    """:meth:`.alm._Subproblem.gradient` at the point of the evaluation in ``Ub``, ``Vb``
    (the backward pass of :meth:`.LiftedProblem.backprop_into`), into ``out``; ``Dw`` holds
    the ``D_l`` of every layer."""
    (V0, V0T, YT, widths, woff, boff, voff, uoff, M1, M2, C, no_b, no_C, segs,
     alpha, rho, beta, lam, M_sq, kind, bias, branch, n_groups, n_free) = p
    L = widths.shape[0] - 1
    N = V0.shape[1]
    c = beta / N
    nL = widths[L]
    UL = Ub[uoff[L - 1]:uoff[L]].reshape(nL, N)
    DL = Dw[uoff[L - 1]:uoff[L]].reshape(nL, N)
    f = 2.0 / N
    for i in range(nL):
        for j in range(N):
            DL[i, j] = f * (UL[i, j] - YT[i, j])
    for l in range(L - 2, -1, -1):
        n = widths[l + 1]
        Dn = Dw[uoff[l + 1]:uoff[l + 2]].reshape(widths[l + 2], N)
        gV = _hidden(out, voff, l, n, N)
        np.dot(_weights(x, woff, widths, l + 1).T, Dn, gV)
        Ul = Ub[uoff[l]:uoff[l + 1]].reshape(n, N)
        Dl = Dw[uoff[l]:uoff[l + 1]].reshape(n, N)
        if branch:
            kernels._gradient_serial(Ul, _hidden(Vb, uoff, l, n, N), _hidden(C, uoff, l, n, N),
                                     _hidden(M1, uoff, l, n, N), _hidden(M2, uoff, l, n, N),
                                     gV, Dl, alpha, rho, c, kind)
        else:
            kernels._gradient_serial(Ul, _hidden(x, voff, l, n, N), no_C,
                                     _hidden(M1, uoff, l, n, N), _hidden(M2, uoff, l, n, N),
                                     gV, Dl, alpha, rho, c, kind)
    for l in range(L):
        n = widths[l + 1]
        Dl = Dw[uoff[l]:uoff[l + 1]].reshape(n, N)
        gW = out[woff[l]:woff[l + 1]].reshape(n, widths[l])
        if l == 0:
            np.dot(Dl, V0T, gW)
        elif branch:
            np.dot(Dl, _hidden(Vb, uoff, l - 1, widths[l], N).T, gW)
        else:
            np.dot(Dl, _hidden(x, voff, l - 1, widths[l], N).T, gW)
        if bias:
            for i in range(n):
                out[boff[l] + i] = 0.0 + _pairwise(Dl[i], 0, N, 1)
    out[n_free:] = 0.0  # (the weight polish: V held fixed)


@njit(cache=True, fastmath=False, error_model="numpy")
def _pseudo_gradient(x, g, pg, nw, p):
    """:meth:`.alm._Subproblem.pseudo_gradient` into ``pg``."""
    segs, lam, n_groups = p[_P_SEGS], p[_P_LAM], p[_P_NGROUPS]
    pg[nw:] = g[nw:]
    _subdiff_residual(x[:nw], g[:nw], segs, n_groups, lam, pg[:nw])


_ABS = np.uint64(0x7FFFFFFFFFFFFFFF)  # a float64's bits without its sign
_INF_BITS = np.uint64(0x7FF0000000000000)  # those of inf: larger ones are NaNs


@njit(cache=True, fastmath=False)
def _abs_max_bits(v):
    """The bits of ``max |v[j]|`` (as unsigned integers, the order of the magnitudes of
    floats; a NaN's bits are above inf's): a loop that vectorises, where a float comparison
    and select did not (15 us against 1.4 us for 12,800 entries, measured)."""
    u = v.view(np.uint64)
    top = np.uint64(0)
    for j in range(u.shape[0]):
        a = u[j] & _ABS
        top = a if a > top else top
    return top


@njit(cache=True, fastmath=False, error_model="numpy")
def _residual(pg, nw, p):
    """:meth:`.alm._Subproblem.residual_from_pg`: ``max(r, rest.max(), -rest.min())`` there
    (Python's ``max``: a NaN in the rest, which numpy's ``max`` and ``min`` return, is passed
    over), here the largest magnitude of the rest, unless it holds a NaN: the same number."""
    r = np.sqrt(_max_group_dot(pg[:nw], p[_P_SEGS], p[_P_NGROUPS])) if nw else 0.0
    if pg.shape[0] > nw:
        bits = _abs_max_bits(pg[nw:])
        if bits <= _INF_BITS:
            top = np.empty(1, dtype=np.uint64)
            top[0] = bits
            t = top.view(np.float64)[0]
            if t > r:
                r = t
    return r


# ---- the L-BFGS memory: CompactLBFGS.push / apply / clear, on its arrays, order in `order`

@njit(cache=True, fastmath=False, error_model="numpy")
def _push(lb, order, ist, x, xn, g, gn):
    """:meth:`.CompactLBFGS.push`: ``(dots, stored)``; ``ist[_NORD]`` pairs in ``order``
    (oldest first), ``ist[_HAVE_P]`` whether ``P`` holds the products with ``gn``."""
    Z, SY, G, bounds, P, n_direct, m = lb
    dots = _step_dots(x, xn, g, gn, bounds)
    s = _column_sums(dots)
    sy, yy, ss = s[0], s[1], s[2]
    if not np.isfinite(yy):
        ist[_HAVE_P] = 0
        return dots, False
    stored = sy > 1e-12 * np.sqrt(ss) * np.sqrt(yy)
    slot = -1
    older = False
    if stored:
        nord = ist[_NORD]
        if nord == m:
            slot = order[0]
            for i in range(nord - 1):
                order[i] = order[i + 1]
            nord -= 1
        else:
            slot = 0
            while True:
                used = False
                for i in range(nord):
                    if order[i] == slot:
                        used = True
                if not used:
                    break
                slot += 1
        older = nord > 0
        for j in range(Z.shape[1]):
            Z[2 * slot, j] = xn[j] - x[j]
            Z[2 * slot + 1, j] = gn[j] - g[j]
        order[nord] = slot
        ist[_NORD] = nord + 1
    nord = ist[_NORD]
    k = 0
    for i in range(nord):
        k = max(k, order[i] + 1)
    nb = bounds.shape[0] - 1
    if 2 * m * Z.shape[1] < _REUSE_FROM:
        if not stored:
            ist[_HAVE_P] = 0
            return dots, stored
        # the products with y and with gn in one read of the rows
        Py, Pn = _row_dots_pair(Z, 2 * k, Z[2 * slot + 1], gn, bounds)
        _record_pair(SY, G, slot, Py, dots)
    else:
        Pn = _products(Z, k, gn, bounds, 0, nb)
        if stored:
            if older and ist[_HAVE_P] == 1 and n_direct < nb:
                c = min(Pn.shape[1], ist[_NP])
                Py = np.zeros_like(Pn)
                Py[:, :c] = Pn[:, :c] - P[:, :c]
                Py[:n_direct] = _products(Z, k, Z[2 * slot + 1], bounds, 0, n_direct)
            else:
                Py = _products(Z, k, Z[2 * slot + 1], bounds, 0, nb)
            _record_pair(SY, G, slot, Py, dots)
    P[:, :Pn.shape[1]] = Pn
    ist[_NP] = Pn.shape[1]
    ist[_HAVE_P] = 1
    return dots, stored


@njit(cache=True, fastmath=False, error_model="numpy")
def _products(Z, k, v, bounds, first, last):
    """:meth:`.CompactLBFGS._block_products` (the compiled case, the only one here)."""
    if k == 0 or last == first:
        return np.zeros((last - first, 2 * k))
    return _row_dots(Z, 2 * k, v, bounds[first:last + 1])


@njit(cache=True, fastmath=False, error_model="numpy")
def _apply(lb, order, ist, q, scales, out):
    """:meth:`.CompactLBFGS.apply` with ``sign = -1`` and ``grad = q`` (as group OWL-QN calls
    it)."""
    Z, SY, G, bounds, P, n_direct, m = lb
    nord = ist[_NORD]
    nb = bounds.shape[0] - 1
    if nord == 0:
        for i in range(nb):
            h = -1.0 * scales[i]
            for j in range(bounds[i], bounds[i + 1]):
                out[j] = q[j] * h
        return out
    o = order[:nord].copy()
    k = 0
    for i in range(nord):
        k = max(k, o[i] + 1)
    if ist[_HAVE_P] == 1:  # the push's products with this very vector
        return _apply_compiled(Z, k, q, P, 0, bounds, SY, G, o, scales, -1.0, out)
    return _apply_compiled(Z, k, q, np.zeros((0, 0)), nb, bounds, SY, G, o, scales, -1.0,
                           out)


# ---- the solver: group_owlqn's loop

@njit(cache=True, fastmath=False, error_model="numpy")
def _run(p, lb, order, ist, fst, xs, gs, pgs, Us, Vs, Dw, d, ref, scales, unseen, nw,
         max_iter, patience, floor, value_scale, c1, max_short, has_certify, has_finish,
         steps, skip_top):
    """Iterations of :func:`.quasi_newton.group_owlqn` from the state in ``ist``, ``fst`` and
    the arrays, until it stops (``_DONE``, the status in ``ist[_STATUS]``), until the top of
    an iteration asks for the caller (``_CHECK``: a scheduled checkpoint or certificate, a
    working residual that passed its tolerance, or the caller's ``finish`` due,
    ``ist[_ASK]``; ``ist[_STOP]`` the stop reason so far), or after ``steps`` iterations
    (``_BUDGET``). ``skip_top``: resume after a ``_CHECK``."""
    eps = 2.220446049250313e-16
    for it in range(steps + 1):
        cur, best = ist[_CUR], ist[_BEST]
        if not skip_top:
            r = fst[_R]
            if r < fst[_BESTR]:
                if best != cur:
                    if ist[_CERT] == best:
                        ist[_CERT] = -1
                ist[_BEST] = best = cur
                fst[_BESTR], fst[_BESTV] = r, fst[_V]
                if r <= 0.5 * fst[_RHALVED]:
                    ist[_KHALVED], fst[_RHALVED] = ist[_K], r
            k = ist[_K]
            if patience >= 0 and k - ist[_KHALVED] >= patience and r > fst[_TOLX]:
                ist[_STATUS] = _STALLED
                return _DONE
            stop = _CONVERGED if r <= fst[_TOLX] else _MAX_ITER if k >= max_iter else _GO
            ask = has_finish and stop == _GO and k > 0 and k % FINISH_EVERY == 0
            scheduled = k >= ist[_NEXT]
            if scheduled:
                ist[_NEXT] = max(k + 1, int(math.ceil(_CHECK_GROWTH * k)))
            ist[_STOP], ist[_SCHED], ist[_ASK] = stop, scheduled, ask
            if scheduled or (has_certify and stop == _CONVERGED) or ask:
                return _CHECK
            if stop != _GO:
                ist[_STATUS] = stop
                return _DONE
            if it == steps:
                return _BUDGET
        skip_top = False
        status = _body(p, lb, order, ist, fst, xs, gs, pgs, Us, Vs, Dw, d, ref, scales,
                       unseen, nw, floor, value_scale, c1, max_short, eps)
        if status != _GO:
            ist[_STATUS] = status
            return _DONE
    return _BUDGET


@njit(cache=True, fastmath=False, error_model="numpy")
def _body(p, lb, order, ist, fst, xs, gs, pgs, Us, Vs, Dw, d, ref, scales, unseen, nw, floor,
          value_scale, c1, max_short, eps):
    """One iteration of group OWL-QN (direction, line search, pair, move): ``_GO``, or the
    status that ends the solve there."""
    cur, best = ist[_CUR], ist[_BEST]
    x, pg = xs[cur], pgs[ist[_PG]]
    v, r = fst[_V], fst[_R]
    # ---- direction
    if ist[_HAVE_SCALES] == 0:
        gn = _norm(pg)
        f = -1e-2 / gn if gn > 0 else -1.0
        for j in range(d.shape[0]):
            d[j] = pg[j] * f
        top = 1e-2
    else:
        _apply(lb, order, ist, pg, scales, d)
        top = scales.max()
    _open_zero_groups(d, pg, x, _zero_entries(x[:nw], p[_P_SEGS], p[_P_NGROUPS]), top, ref)
    dd = np.dot(pg, d)
    if not dd < 0:
        f = 1e-2 / max(_norm(pg), 1e-300)
        for j in range(d.shape[0]):
            d[j] = -pg[j] * f
        ist[_NORD] = 0  # mem.clear()
        ist[_HAVE_P] = 0
    # ---- projected backtracking line search, in the slot neither the iterate nor the best
    trial = 0
    while trial == cur or trial == best:
        trial += 1
    xn, gn_, pgn = xs[trial], gs[trial], pgs[1 - ist[_PG]]
    t = 1.0
    while True:
        formed = False
        _trial_point(x, d, t, xn)
        _keep_aligned(xn[:nw], ref, p[_P_SEGS], p[_P_NGROUPS])
        vn = _value(xn, Us[trial], Vs[trial], p)
        lin = _dot_of_step(pg, xn, x)
        if np.isfinite(vn) and vn <= v + c1 * lin:
            break
        noise = _value_noise(v, value_scale, eps)
        if np.isfinite(vn) and abs(vn - v) <= noise and r * r <= noise:
            _gradient(xn, Us[trial], Vs[trial], p, Dw, gn_)
            _pseudo_gradient(xn, gn_, pgn, nw, p)
            formed = True
            if armijo_by_slope(lin, _dot_of_step(pgn, xn, x), c1):
                break
        ist[_NBT] += 1
        t = _backtrack_step(t, v, vn, lin)
        if not t >= 1e-20:
            return _STALLED if np.isfinite(vn) else _DIVERGED
    if vn < floor:
        return _UNBOUNDED
    if t < 2.0 ** -10:
        ist[_NORD] = 0
        ist[_HAVE_P] = 0
        ist[_NSHORT] += 1
        if ist[_NSHORT] >= max_short:
            return _STALLED
    else:
        ist[_NSHORT] = 0
    if not formed:
        _gradient(xn, Us[trial], Vs[trial], p, Dw, gn_)
        _pseudo_gradient(xn, gn_, pgn, nw, p)
    dots, stored = _push(lb, order, ist, x, xn, pg, pgn)
    s = _column_sums(dots)
    sy, yy = s[0], s[1]
    if not np.isfinite(yy):
        return _DIVERGED
    if stored:
        if ist[_HAVE_SCALES] == 0:
            fb = np.full(dots.shape[0], sy / yy)
        else:
            fb = scales.copy()
        scales[:] = _block_scales_loop(dots, fb)
        ist[_HAVE_SCALES] = 1
    if ist[_HAVE_SCALES] == 1:
        scales[:] = _grow_unseen_loop(dots, scales, unseen, t == 1.0, _UNSEEN_AFTER,
                                      _UNSEEN_GROWTH)
    if best != cur and ist[_CERT] == cur:  # drop(x): its slot is free
        ist[_CERT] = -1
    ist[_CUR] = trial
    ist[_PG] = 1 - ist[_PG]
    fst[_V] = vn
    fst[_R] = _residual(pgn, nw, p)
    ist[_K] += 1
    return _GO


# ---- the Python side

def usable(sub, x0, lbfgs, monitor, monitor_every=None) -> bool:
    """Whether :func:`solve` applies: an :class:`.alm._Subproblem` (or its branch
    coordinates, or its weights alone) in float64, without ``monitor`` or with
    ``monitor_every``, on a problem of at most :data:`MAX_SIZE` variables whose layers the
    serial kernels take, with an L-BFGS memory on the compiled path, and contiguous data;
    and where its products may run on one BLAS thread (:func:`one_blas_thread`)."""
    from .alm import _BranchSubproblem, _Subproblem, _WeightsOnly

    base = sub.sub if isinstance(sub, (_BranchSubproblem, _WeightsOnly)) else sub
    if ((monitor is not None and monitor_every is None) or type(base) is not _Subproblem
            or lbfgs is None):
        return False
    prob = base.prob
    if not one_blas_thread(prob):
        return False
    if (x0.dtype != np.float64 or prob.dtype != np.float64 or x0.size > MAX_SIZE
            or 2 * lbfgs.m * x0.size > _SMALL or lbfgs.Z.shape[1] != x0.size
            or lbfgs.Z.dtype != np.float64 or lbfgs.direct != base.n_nonsmooth
            or not _same_blocks(lbfgs, sub.blocks)):
        return False
    if max(prob.widths[1:]) * prob.N >= kernels._PARALLEL_MIN_SIZE:
        return False
    V0 = prob.V0
    return (V0.flags.f_contiguous and V0.T.flags.c_contiguous
            and prob.YT.dtype == np.float64 and V0.dtype == np.float64)


def _same_blocks(lbfgs, blocks) -> bool:
    """Whether the memory's blocks are ``blocks`` (the subproblem's): the compiled loop sizes
    its per-block arrays by the subproblem's blocks and pushes by the memory's (a memory of
    other blocks is the Python loop's to take)."""
    return np.array_equal(lbfgs.bounds, _quasi_newton._bounds(blocks))


#: ``_threshold``'s "never": more iterations than any solve makes
_NEVER = 2**62


def _threshold(limit) -> int:
    """The integer ``c0`` for which a count ``c >= 0`` meets ``c >= c0`` exactly when it meets
    :func:`.quasi_newton.group_owlqn`'s test ``c >= limit`` (``patience``, ``max_short``):
    ``_NEVER`` for None, NaN and infinity, else ``max(0, ceil(limit))``."""
    if limit is None or not float(limit) < np.inf:
        return _NEVER
    return max(0, math.ceil(limit))


def one_blas_thread(prob) -> bool:
    """Whether the compiled loop may run ``prob``'s products on one BLAS thread, as
    :func:`solve` does: where :func:`.threads.limit_blas` holds the BLAS to one thread
    already (``solve_alm``'s ``threads="auto"`` on small problems), or where the products of
    a forward pass are below :data:`.threads.SMALL_PRODUCTS` multiply-adds, the size below
    which ``threads="auto"`` takes one thread (a second gains little there and, with numba's
    products on SciPy's OpenBLAS, a second pool, costs much: :func:`.threads.one_thread`).
    So a caller that allows two threads (``compare``'s harness) gets the compiled loop on its
    small problems, on one of them, and its large ones keep their threads."""
    return threads.one_thread() or threads.product_size(prob) < threads.SMALL_PRODUCTS


def _problem_tuple(base, C, n_free):
    """The data of ``L_rho(., M)`` as the compiled functions read it (``C``: the branch
    slopes, or None; ``n_free``: the variables that move, all but in the weight polish)."""
    prob = base.prob
    widths = np.array(prob.widths, dtype=np.int64)
    L = prob.L
    N = prob.N
    layout = base.layout
    woff = np.array([blk.start for blk in layout.of_kind("W")] + [base.n_nonsmooth],
                    dtype=np.int64)
    bblocks = layout.of_kind("b")
    boff = np.array([blk.start for blk in bblocks] if bblocks else [0] * L, dtype=np.int64)
    voff = np.array([blk.start for blk in layout.of_kind("V")] + [layout.size],
                    dtype=np.int64)
    sizes = [prob.widths[l] * N for l in range(1, L + 1)]
    uoff = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def flat(arrs):
        return (np.concatenate([np.ravel(a) for a in arrs]) if arrs else np.zeros(0))

    groups = base.groups
    return (np.asarray(prob.V0), np.asarray(prob.V0.T), np.ascontiguousarray(prob.YT), widths,
            woff, boff, voff, uoff, flat(base.M1), flat(base.M2),
            flat(C) if C is not None else np.zeros(0),
            kernels.not_given(np.float64, 1), kernels.not_given(np.float64, 2), groups.segs,
            float(prob.alpha), float(base.rho), float(prob.beta), float(groups.lam),
            float(base.M_sq), int(prob.coupling.kind), bool(prob.bias), C is not None,
            int(groups.n_groups), int(n_free))


def solve(sub, x0, *, tol, max_iter, c1=1e-4, deadline=None, scales0=None, floor=-np.inf,
          max_short=20, patience=None, lbfgs, monitor=None, monitor_every=None, finish=None):
    """:func:`.quasi_newton.group_owlqn` on ``sub`` (where :func:`usable` says so): the same
    arguments (``memory`` is ``lbfgs``'s; ``finish`` asked at the same iterations), the same
    iterates and result. ``monitor`` is called between compiled calls, when
    ``monitor_every`` seconds have passed since its last call (the calls then last at most
    that long), and at the last accepted iterate when it is due there, before the tests that
    end the solve, as in the Python loop. The BLAS runs on one thread meanwhile
    (:func:`one_blas_thread`), the caller's callbacks (``monitor``, the certificate) included."""
    with threads.limit_blas(1):
        return _solve(sub, x0, tol=tol, max_iter=max_iter, c1=c1, deadline=deadline,
                      scales0=scales0, floor=floor, max_short=max_short, patience=patience,
                      lbfgs=lbfgs, monitor=monitor, monitor_every=monitor_every,
                      finish=finish)


def _solve(sub, x0, *, tol, max_iter, c1, deadline, scales0, floor, max_short, patience,
           lbfgs, monitor, monitor_every, finish):
    """:func:`solve` within its one-thread BLAS context."""
    from .alm import _BranchSubproblem, _Cache, _WeightsOnly

    branch = isinstance(sub, _BranchSubproblem)
    base = sub.sub if isinstance(sub, (_BranchSubproblem, _WeightsOnly)) else sub
    prob, layout = base.prob, base.layout
    p = _problem_tuple(base, sub.C if branch else None,
                       sub.n_free if isinstance(sub, _WeightsOnly) else x0.size)
    n = x0.size
    nw = base.n_nonsmooth
    L = prob.L
    uoff = p[_P_UOFF]
    nU = int(uoff[-1])
    nV = int(uoff[L - 1]) if branch else 0
    xs = np.empty((3, n))
    gs = np.empty((3, n))
    pgs = np.empty((2, n))
    Us = np.empty((3, nU))
    Vs = np.empty((3, max(nV, 1)))
    Dw = np.empty(nU)
    d = np.empty(n)
    ref = np.empty(nw)
    nb = len(sub.blocks)
    lbfgs.clear()
    lb = (lbfgs.Z, lbfgs.SY, lbfgs.G, lbfgs.bounds, np.zeros((nb, 2 * lbfgs.m)),
          lbfgs.n_direct, lbfgs.m)
    order = np.zeros(lbfgs.m, dtype=np.int64)
    ist = np.zeros(17, dtype=np.int64)
    fst = np.zeros(7)

    def cache_of(xv, Ub, Vb):
        """The ``(W, V, U)`` cache of :class:`.alm._Subproblem` at ``xv`` over the arrays
        ``Ub``, ``Vb`` of its evaluation (views: the caller copies what it keeps)."""
        W, _, X = layout.unpack(xv)
        U = [Ub[uoff[l]:uoff[l + 1]].reshape(prob.widths[l + 1], prob.N) for l in range(L)]
        V = ([Vb[uoff[l]:uoff[l + 1]].reshape(prob.widths[l + 1], prob.N)
              for l in range(L - 1)] if branch else X)  # (model coordinates: x's own V)
        return _Cache(W, V, U, owned=[])

    xs[0] = x0
    v = _value(xs[0], Us[0], Vs[0], p)
    _gradient(xs[0], Us[0], Vs[0], p, Dw, gs[0])
    if not np.isfinite(v) or not np.all(np.isfinite(gs[0])):
        x = xs[0].copy()
        return x, InnerInfo("diverged", 0, np.inf, v, np.ones(nb),
                            cache=cache_of(x, Us[0], Vs[0]), grad=gs[0].copy())
    _pseudo_gradient(xs[0], gs[0], pgs[0], nw, p)
    r = _residual(pgs[0], nw, p)
    scales = np.ones(nb)
    if scales0 is not None:
        scales[:] = np.asarray(scales0, dtype=float)
        ist[_HAVE_SCALES] = 1
    certify = getattr(sub, "certify", None)
    checkpoint = getattr(sub, "checkpoint", None)
    ist[_NEXT] = 1
    ist[_CERT] = -1
    fst[_R], fst[_V] = r, v
    fst[_RHALVED] = r
    fst[_BESTR], fst[_BESTV] = r, v
    fst[_TOLX] = tol
    unseen = np.zeros(nb, dtype=np.int64)
    value_scale = float(base.value_scale)
    status = "max_iter"

    def point(slot):
        """``(x, cache)`` of a slot: views (the caller copies what it keeps)."""
        return xs[slot], cache_of(xs[slot], Us[slot], Vs[slot])

    def monitor_stops():
        """``monitor`` at the current iterate, when it is due and was not asked at this
        iterate yet: whether it asks to stop. group_owlqn asks it after every accepted
        iterate, before the next top's tests; here, where the run hands the iterate back
        (a budget, a check, the end: the last iterate too)."""
        nonlocal monitored, monitored_k
        k = int(ist[_K])
        if (monitor is None or k == 0 or k == monitored_k
                or not time.monotonic() - monitored >= monitor_every):
            return False
        monitored, monitored_k = time.monotonic(), k
        return bool(monitor(k, *point(ist[_CUR]), fst[_R]))

    skip = False
    # iterations per call: none at first (the top of iteration 0, then the deadline, as
    # group_owlqn tests it before any iteration), then grown to CHUNK_SECONDS' worth
    chunk = 0
    span = CHUNK_SECONDS if monitor is None else min(CHUNK_SECONDS, monitor_every)
    monitored, monitored_k = -np.inf, 0  # when monitor was last called, and at which k
    try:
        while True:
            k0, t0 = ist[_K], time.monotonic()
            ev = _run(p, lb, order, ist, fst, xs, gs, pgs, Us, Vs, Dw, d, ref, scales, unseen,
                      nw, max_iter, _threshold(patience),
                      float(floor), value_scale, float(c1), _threshold(max_short),
                      certify is not None, finish is not None, chunk, skip)
            skip = False
            if ist[_K] > k0:
                per = (time.monotonic() - t0) / (ist[_K] - k0)
                chunk = int(min(CHUNK_MAX, max(1, span / max(per, 1e-9))))
            chunk = max(chunk, 1)
            if ev == _DONE:
                # (the last accepted iterate, before the tests that ended the solve there or
                # the line search that failed after it, as group_owlqn's monitor)
                status = "interrupted" if monitor_stops() else STATUS_NAMES[ist[_STATUS]]
                break
            if ev == _BUDGET:
                # after an accepted iterate, as group_owlqn's monitor: then the deadline (the
                # top of the next iteration, stop_reason)
                if monitor_stops():
                    status = "interrupted"
                    break
                if past(deadline):
                    status = "time_limit"
                    break
                continue
            # _CHECK: the top of an iteration, in the caller's hands (group_owlqn's order:
            # the monitor of the iterate first, then the top's tests)
            if monitor_stops():
                status = "interrupted"
                break
            stop = STATUS_NAMES[ist[_STOP]]
            if not stop and past(deadline):
                stop = "time_limit"
            xc, cache = point(ist[_CUR])
            if ist[_SCHED] and checkpoint is not None:
                checkpoint(xc, cache)
            if certify is not None and (stop == "converged" or ist[_SCHED]):
                r_true = certify(xc, gs[ist[_CUR]], cache)
                ist[_CERT], fst[_CERTR] = ist[_CUR], r_true
                if r_true <= tol:
                    fst[_R], stop = r_true, "converged"
                else:
                    fst[_TOLX] = 0.5 * tol * fst[_R] / r_true
                    stop = stop_reason(fst[_R], fst[_TOLX], int(ist[_K]), max_iter, deadline)
            if (ist[_ASK] and not stop
                    and finish(int(ist[_K]), xc, gs[ist[_CUR]], cache, fst[_R])):
                status = "finished"
                break
            if stop:
                status = stop
                break
            skip = True
    except INTERRUPTS as exc:
        status = interrupted(exc)
    lbfgs.clear()
    slot, r, v = ist[_CUR], fst[_R], fst[_V]
    if status != "converged" and fst[_BESTR] < r:
        slot, r, v = ist[_BEST], fst[_BESTR], fst[_BESTV]
    x = xs[slot].copy()
    g = gs[slot].copy()
    cache = cache_of(x, Us[slot].copy(), Vs[slot].copy())
    if certify is not None and status not in ("converged", "diverged", "unbounded",
                                              "finished"):
        r = fst[_CERTR] if ist[_CERT] == slot else certify(x, g, cache)
    steps = scales.copy() if ist[_HAVE_SCALES] else np.ones(nb)
    return x, InnerInfo(status, int(ist[_K]), r, v, steps, int(ist[_NBT]), cache=cache, grad=g)

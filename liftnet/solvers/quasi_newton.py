"""Group orthant-wise limited-memory quasi-Newton (the default inner solver of the ALM).

Minimises ``phi(x) + lam R(W)`` where ``phi`` is smooth and ``R`` is the group norm on the ``W``
blocks of ``x``. It extends OWL-QN (Andrew & Gao 2007) from l1 to group norms:

* the *pseudo-gradient* ``pg`` is the element of ``grad phi + lam dR`` nearest to zero: per
  group ``q + lam w/||w||`` when ``w != 0`` and ``q (1 - lam/||q||)_+`` when ``w = 0``
  (:meth:`FlatGroups.subdiff_residual`, through the subproblem's ``pseudo_gradient``). Its
  group norms and the largest entry of the rest (``residual_from_pg``) are the stationarity
  residual of MODEL.md section 5, the quantity the ALM's certificate (``kkt_residuals``)
  computes by ``stationarity_parts``: at the same point and multipliers the stopping test and
  the certificate agree (docs/maths.md 6.1, "Why the stationarity part comes for free");
* the direction is ``d = -H pg`` with L-BFGS in compact form (:class:`CompactLBFGS`; memory
  pairs from the pseudo-gradient, ``y = pg(x_new) - pg(x)``, so that on nonzero groups they see
  the curvature of ``lam ||w||`` as well as that of ``phi`` (docs/maths.md 6.1); pairs with
  ``<s, y> <= 0`` skipped: ``phi`` is nonconvex)
  and a block-diagonal initial matrix (one Barzilai-Borwein scale per block: ``W`` and ``V``
  curvatures differ by a factor ``~N``); on a zero group the direction is ``-pg`` (it opens
  along the steepest descent of the nonsmooth term); on a nonzero group ``lam ||w||`` is
  differentiable, so the direction is kept whole there, as on the smooth ``b``, ``V`` blocks
  (l1 OWL-QN's componentwise sign rule, applied to groups, cut most of the direction and
  stalled ill-conditioned subproblems); when ``d`` is not a descent direction
  (``<pg, d> >= 0``) the memory is cleared and ``d = -pg``;
* the line search (Armijo on ``phi + lam R`` along the projected path, backtracking by
  safeguarded quadratic interpolation, :func:`backtrack_step`) sets to exact zero every
  group whose new value points against its reference orientation (``w`` for nonzero groups,
  ``-pg`` for zero groups): the group analogue of staying in the orthant. Groups become and
  stay exactly zero. Where the value cannot resolve the decrease Armijo asks for (its change
  is within rounding, :func:`value_noise`, at a residual whose steps cannot change it by more:
  in float32 from residuals of about ``1e-4``), the test is decided by the slope at the trial
  point instead (:func:`armijo_by_slope`, the approximate Armijo condition of Hager & Zhang).

An accepted unit step costs one value and one gradient evaluation (one forward and one
backward pass: the matrix-product floor).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numba import njit

from .._numba_cache import ensure_cache_dir
from .._validation import check_scalar
from ._interrupt import INTERRUPTS, interrupted
from .proxgrad import InnerInfo, past, stop_reason

ensure_cache_dir(__file__)

#: growth of the iteration numbers at which :func:`group_owlqn` certifies the residual of a
#: change of variables (``sub.certify``) without waiting for the working residual
_CHECK_GROWTH = 1.5
#: :func:`_grow_unseen`: the factor, and after how many unseen unit steps in a row it acts
_UNSEEN_GROWTH, _UNSEEN_AFTER = 1e4, 3
#: ``K`` of the rounding level ``K eps (|v| + scale)`` of a computed value (:func:`value_noise`)
VALUE_NOISE = 100.0
#: :func:`group_owlqn` asks its ``finish`` at the top of every iteration whose number is a
#: multiple of this (the compiled loop at the same iterations: the same path)
FINISH_EVERY = 25


def group_owlqn(
    sub,
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    memory: int = 10,
    memory_bytes: float = 2**29,
    c1: float = 1e-4,
    deadline: float | Callable[[], float | None] | None = None,
    scales0: np.ndarray | None = None,
    floor: float = -np.inf,
    max_short: int = 20,
    patience: int | None = None,
    lbfgs: CompactLBFGS | None = None,
    monitor=None,
    monitor_every: float | None = None,
    finish=None,
) -> tuple[np.ndarray, InnerInfo]:
    """Run group OWL-QN on the subproblem ``sub`` from ``x0``.

    Parameters
    ----------
    sub : object
        Provides ``value(x) -> (phi + lam R, cache)``, ``gradient(x, cache) -> grad phi``,
        ``pseudo_gradient(x, g, cache, out=None) -> pg`` (written into ``out`` when it is
        given), ``residual_from_pg(pg) -> float``,
        ``orthant_project(x_new, ref) -> None`` (in place: zero groups with
        ``<x_new[g], ref[g]> <= 0``), ``n_nonsmooth`` (the entries that carry the group norm
        are ``x[:n_nonsmooth]``), ``group_is_zero(x) -> mask`` over ``x[:n_nonsmooth]`` (True on
        entries of zero groups) and ``blocks`` (list of slices covering ``x``).
        Optionally ``certify(x, g, cache) -> float``, the residual in the coordinates of the
        certificate when ``x`` is a change of variables: the solve stops when it is at most
        ``tol``. It is called when the working residual is at most ``tol`` (then scaled by the
        ratio of the two residuals seen), and at iterations 1, 2, 3, 5, 8, ... (factor
        ``_CHECK_GROWTH``): early in a solve the two can differ by orders of magnitude (the
        ALM's branch coordinates, docs/maths.md 6.2); a solve that ends with ``max_iter``,
        ``stalled``, ``time_limit`` or ``interrupted`` reports it for its returned point
        (``diverged``, ``unbounded`` and ``finished`` report the working residual); and
        ``release(cache, g)``, told of
        every evaluation the solver holds no longer (a rejected trial point, an iterate passed
        by), whose arrays it may reuse; and ``checkpoint(x, cache)``, shown the accepted
        iterate at the iterations of the certification schedule (whatever ``certify`` is),
        for a caller that keeps something of the path (:func:`liftnet.solve_alm` keeps the
        best network seen, the start of its restart after an unbounded solve); and
        ``value_scale`` (a float), the size of the terms ``value`` sums beyond the value
        itself (terms that cancel), for its rounding level (:func:`value_noise`).
    x0 : array (n,)
    tol : float
        Stop when the residual is at most ``tol``.
    max_iter : int
    memory : int
        L-BFGS pairs kept, at most ``memory_bytes / (2 n itemsize)``, at most ``n``, and within
        ``memory_bytes`` for their ``m x m`` products too (:meth:`CompactLBFGS.sized`), and at
        least 2 (for the MNIST-shaped benchmark at ``N = 60000``, ``n = 2.3e7``: 2 pairs in
        float32).
    memory_bytes : float
        Budget of the stored pairs (default 512 MiB).
    c1 : float
        The sufficient-decrease constant of the Armijo test, in ``(0, 1)``.
    deadline : float or callable, optional
        ``time.monotonic()`` value after which the solve stops with ``time_limit``, or a
        function that returns it (or ``None``) when asked (:func:`.proxgrad.past`).
    scales0 : array (n_blocks,), optional
        Initial block scales of ``H0`` (e.g. from a previous solve).
    floor : float
        A value below which the subproblem is declared unbounded (status ``unbounded``).
    max_short : int
        Consecutive line searches that ended below ``t = 2^-10`` after which the solve
        stops with status ``stalled`` (the residual is then limited by rounding, not by the
        iteration count).
    patience : int or None
        Stop with status ``stalled`` when the smallest residual so far has not halved within
        the last ``patience`` iterations (``None``: never).
    lbfgs : CompactLBFGS, optional
        Storage for the pairs to reuse (cleared first; ``memory`` and ``memory_bytes`` are then
        ignored): a caller that runs many solves of the same size, like the ALM, allocates
        ``2 m n`` numbers once instead of once per solve (for a large ``n`` the first write to
        fresh pages costs as much as the arithmetic on them).
    monitor : callable, optional
        ``monitor(k, x, cache, r)`` after every accepted iterate (``k`` its number from 1,
        ``cache`` its evaluation, ``r`` its working residual); returning True stops the solve
        with status ``interrupted``. The arrays are the solver's: copy what outlives the call.
    monitor_every : float or None
        Call ``monitor`` only when at least this many seconds (``time.monotonic``) have passed
        since its last call (``None``: after every iterate). The compiled loop of small
        problems (:mod:`.owlqn_compiled`) takes a ``monitor`` only with it.
    finish : callable, optional
        ``finish(k, x, g, cache, r) -> bool``, the caller's own test of whether the solve has
        done enough (:func:`liftnet.solve_alm`: whether a weight polish of a copy of ``x``
        already certifies the whole run, docs/maths.md 6.5), asked at the top of iterations
        ``k = FINISH_EVERY, 2 FINISH_EVERY, ...`` where the solve goes on (``r`` the working
        residual); True ends it with status ``finished`` (its point, as for any stop short of
        convergence, the iterate of smallest residual; ``residual`` the working one). The
        arrays are the solver's: copy what outlives the call.

    Returns
    -------
    x : array (n,)
        The last iterate when the solve converged; otherwise the accepted iterate with the
        smallest residual (the residual of this nonconvex, stiff subproblem is far from
        monotone: measured on the 8-16-16-4 teacher of ``benchmarks/bench_ipopt.py``, N = 400,
        solves cut at ``max_iter`` ended at residuals up to 40 times the smallest they had
        visited).
    info : InnerInfo
        Of the returned point; ``steps`` holds the final block scales.
    """
    from . import owlqn_compiled  # (it imports this module)

    # (as prox_gradient_bb: called directly, a bad argument failed deep inside, tol=None or a
    # text deadline in stop_reason; checked, not converted: the same iterates)
    check_scalar(tol, "tol", low=0)
    check_scalar(max_iter, "max_iter", low=0, integer=True)
    check_scalar(memory, "memory", low=1, integer=True)
    check_scalar(memory_bytes, "memory_bytes", low=0, low_inclusive=False)
    check_scalar(c1, "c1", low=0, high=1, low_inclusive=False, high_inclusive=False)
    if deadline is not None and not callable(deadline):
        check_scalar(deadline, "deadline")
    if owlqn_compiled.ENABLED and owlqn_compiled.usable(sub, x0, lbfgs, monitor,
                                                        monitor_every):
        # the ALM's subproblems of small float64 problems: this loop compiled whole, the same
        # iterates to the bit (owlqn_compiled)
        return owlqn_compiled.solve(sub, x0, tol=tol, max_iter=max_iter, c1=c1,
                                    deadline=deadline, scales0=scales0, floor=floor,
                                    max_short=max_short, patience=patience, lbfgs=lbfgs,
                                    monitor=monitor, monitor_every=monitor_every,
                                    finish=finish)
    blocks = sub.blocks
    x = x0.copy()
    v, cache = sub.value(x)
    value_scale = float(getattr(sub, "value_scale", 0.0))
    g = sub.gradient(x, cache)
    if not np.isfinite(v) or not np.all(np.isfinite(g)):
        return x, InnerInfo("diverged", 0, np.inf, v, np.ones(len(blocks)), cache=cache, grad=g)
    pg = sub.pseudo_gradient(x, g, cache)
    r = sub.residual_from_pg(pg)
    scales = None if scales0 is None else np.array(scales0, dtype=float)
    nw = sub.n_nonsmooth
    certify = getattr(sub, "certify", None)
    checkpoint = getattr(sub, "checkpoint", None)
    tol_x = tol
    mem = (CompactLBFGS.sized(x, memory, memory_bytes, blocks, direct=nw) if lbfgs is None
           else lbfgs)
    if mem.Z.shape[1] != x.size or mem.Z.dtype != x.dtype or mem.direct != nw:
        raise ValueError(f"lbfgs holds pairs of size {mem.Z.shape[1]} ({mem.Z.dtype}) with "
                         f"direct={mem.direct}, x0 has {x.size} ({x.dtype}) and the group norm "
                         f"on {nw} entries")
    # the quasi-Newton direction and the pseudo-gradient, rewritten at every iteration (neither
    # outlives it: the best iterate keeps x, its cache and g, not pg or d)
    d_buf, ref_buf = np.empty_like(x), np.empty_like(x[:nw])
    # two vectors for the pseudo-gradient, taken in turn: the new one is formed before the
    # pair is stored, while the current one is still needed (its difference is the pair's y)
    pg_bufs = (np.empty_like(x), np.empty_like(x))
    mem.clear()
    status, k, n_bt, n_short = "max_iter", 0, 0, 0
    # the most stationary accepted iterate (references: every accepted x, cache, g is new, or
    # reused only after drop() below, when neither the best nor the current iterate holds it)
    best = (r, x, v, cache, g)
    release = getattr(sub, "release", None)
    spare_x = []  # iterates passed by, their vectors free for the next trial point

    def drop(x_, cache_, g_):
        """An iterate no one holds any more: its vectors are reused."""
        nonlocal certified
        if certified[0] is x_:  # the vector will hold another point
            certified = (None, np.inf)
        if release is not None:
            release(cache_, g_)
        spare_x.append(x_)

    unseen_run = np.zeros(len(blocks), dtype=np.int64)  # _grow_unseen
    k_halved, r_halved = 0, r  # when the best residual last halved, and its value then
    next_check = 1  # the next scheduled certification (sub.certify)
    certified = (None, np.inf)  # the last certified iterate and its residual
    monitored = -np.inf  # when monitor was last called
    try:
        while True:
            if r < best[0]:
                if best[1] is not x:
                    drop(best[1], best[3], best[4])
                best = (r, x, v, cache, g)
                if r <= 0.5 * r_halved:
                    k_halved, r_halved = k, r
            if patience is not None and k - k_halved >= patience and r > tol_x:
                status = "stalled"
                break
            stop = stop_reason(r, tol_x, k, max_iter, deadline)
            # (finish: where the solve goes on, before the certificate may stop it)
            ask = finish is not None and not stop and k > 0 and k % FINISH_EVERY == 0
            scheduled = k >= next_check  # iterations 1, 2, 3, 5, 8, ... (_CHECK_GROWTH)
            if scheduled:
                next_check = max(k + 1, int(np.ceil(_CHECK_GROWTH * k)))
                if checkpoint is not None:
                    checkpoint(x, cache)
            if certify is not None and (stop == "converged" or scheduled):
                # certified when the working residual says so, and on the schedule: the two
                # residuals need not fall together
                r_true = certify(x, g, cache)
                certified = (x, r_true)
                if r_true <= tol:
                    r, stop = r_true, "converged"
                else:
                    # the working coordinates measure the residual differently from the
                    # certificate's: go on with the working tolerance their ratio asks for now
                    tol_x = 0.5 * tol * r / r_true
                    stop = stop_reason(r, tol_x, k, max_iter, deadline)
            if ask and not stop and finish(k, x, g, cache, r):
                status = "finished"
                break
            if stop:
                status = stop
                break
            # ---- direction: compact L-BFGS (the memory's products with pg, formed when the
            # pair was stored, are reused; CompactLBFGS.apply)
            if scales is None:
                gn = _norm(pg)
                d = pg * (-1e-2 / gn if gn > 0 else -1.0)
            else:
                d = mem.apply(pg, scales, sign=-1.0, grad=pg, out=d_buf)
            # the group norm lives on the prefix x[:nw]: zero groups open along -pg; on nonzero
            # groups the objective is smooth and the quasi-Newton direction is kept whole (the
            # componentwise sign rule of l1 OWL-QN, applied there, cut most of it and stalled
            # the solve: docs/maths.md 6.1)
            ref = ref_buf  # rewritten at every iteration, as d and pg
            # the scale in the iterate's dtype: numpy's float32 products, bit for bit
            _open_zero_groups(d, pg, x, sub.group_is_zero(x),
                              x.dtype.type(scales.max() if scales is not None else 1e-2), ref)
            dd = float(np.dot(pg, d))
            if not dd < 0:
                d = -pg * (1e-2 / max(_norm(pg), 1e-300))
                dd = float(np.dot(pg, d))
                mem.clear()
            # ---- projected backtracking line search (xn: a vector no iterate holds, new or one
            # dropped by drop())
            t = 1.0
            xn = spare_x.pop() if spare_x else np.empty_like(x)
            pg_next = pg_bufs[1] if pg is pg_bufs[0] else pg_bufs[0]  # the buffer pg is not
            while True:
                gn_ = None  # the gradient at the trial point, when the slope test formed it
                _trial_point(x, d, t, xn)
                sub.orthant_project(xn, ref)
                vn, cn = sub.value(xn)
                lin = _dot_of_step(pg, xn, x)
                if np.isfinite(vn) and vn <= v + c1 * lin:
                    break
                noise = value_noise(v, value_scale, x.dtype)
                if np.isfinite(vn) and abs(vn - v) <= noise and r * r <= noise:
                    # no change beyond the value's rounding (a measured decrease that is too
                    # small fails as it is), at a residual whose steps cannot decrease the
                    # value by more than that (about r^2 / curvature): let the slope at the
                    # trial point decide (its gradient is the next iterate's if the step is
                    # taken). Far from stationarity a change within rounding means a step too
                    # short to matter: it fails, and the solve stalls as it would (a float64
                    # digits run took thousands of such steps when the slope decided there)
                    gn_ = sub.gradient(xn, cn)
                    pgn = sub.pseudo_gradient(xn, gn_, cn, out=pg_next)
                    if armijo_by_slope(lin, _dot_of_step(pgn, xn, x), c1):
                        break
                if release is not None:
                    release(cn, gn_)
                n_bt += 1
                t = backtrack_step(t, v, vn, lin)
                if not t >= 1e-20:  # (a NaN step, from an overflowing lin, ends it too)
                    status = "stalled" if np.isfinite(vn) else "diverged"
                    raise _Stop
                if past(deadline):
                    # a line search can take dozens of evaluations (seconds each at large N)
                    status = "time_limit"
                    raise _Stop
            if vn < floor:
                status = "unbounded"
                raise _Stop
            if t < 2.0 ** -10:
                # the quadratic model was far off (e.g. near a kink of max(0, .)^2 or a group
                # close to zero): restart the memory rather than trust it again
                mem.clear()
                n_short += 1
                if n_short >= max_short:
                    # steepest descent cannot make progress either: leave it to the caller
                    status = "stalled"
                    raise _Stop
            else:
                n_short = 0
            # the pairs are of pseudo-gradients, not of gradients of the smooth part: on a
            # nonzero group pg is the gradient of phi + lam ||w_g||, whose curvature
            # (lam / ||w_g|| across the group's direction, large on a small group) the pairs
            # then see (docs/maths.md 6.1). s = xn - x and y = pgn - pg go straight into the
            # memory (CompactLBFGS.push), which returns the block curvatures; summed, the
            # global ones
            if gn_ is None:  # (the slope test formed both)
                gn_ = sub.gradient(xn, cn)
                pgn = sub.pseudo_gradient(xn, gn_, cn, out=pg_next)
            dots, stored = mem.push(x, xn, pg, pgn)
            sy, yy, ss = dots.sum(axis=0)
            if not np.isfinite(yy):  # a NaN or inf anywhere in the new gradient
                status = "diverged"
                raise _Stop
            if stored:
                scales = _block_scales(dots, scales if scales is not None else sy / yy)
            if scales is not None:
                scales = _grow_unseen(dots, scales, unseen_run, t == 1.0)
            if best[1] is not x:
                drop(x, cache, g)
            x, v, cache, g, pg = xn, vn, cn, gn_, pgn
            r = sub.residual_from_pg(pg)
            k += 1
            if monitor is not None and (monitor_every is None
                                        or time.monotonic() - monitored >= monitor_every):
                monitored = time.monotonic()
                if monitor(k, x, cache, r):
                    status = "interrupted"
                    raise _Stop
    except _Stop:
        pass
    except INTERRUPTS as exc:
        status = interrupted(exc)
    if status != "converged" and best[0] < r:
        r, x, v, cache, g = best
    if certify is not None and status not in ("converged", "diverged", "unbounded",
                                              "finished"):
        # the residual of the returned point in the certificate's coordinates, whatever ended
        # the solve but finish, whose caller has what it asked for (the caller compares it
        # with the violation: solve_alm's penalty rule)
        # (a solve cut on the schedule has just certified this very iterate)
        r = certified[1] if certified[0] is x else certify(x, g, cache)
    steps = np.ones(len(blocks)) if scales is None else scales
    return x, InnerInfo(status, k, r, v, steps, n_bt, cache=cache, grad=g)


class CompactLBFGS:
    """L-BFGS inverse Hessian in the compact form of Byrd, Nocedal & Schnabel (1994).

    With the pairs as columns ``S, Y`` (``n x m``), ``R`` the upper triangle of ``S^T Y``,
    ``D`` its diagonal and ``H0`` diagonal (one scale per block),

        H q = H0 (q - Y u) + S R^{-T} ((D + Y^T H0 Y) u - Y^T H0 q),    u = R^{-1} S^T q.

    The pairs are stored interleaved, ``Z[2i] = s_i``, ``Z[2i + 1] = y_i``, so that one
    matrix-vector product per block with the used rows ``Z[:2k]`` gives ``S^T v`` and the block
    parts of ``Y^T v`` together. ``Y^T H0 Y`` is kept as one Gram matrix per block, so the block
    scales may change at every iteration without another pass over ``Y``. Only the entries
    ``s_i . y_j`` with ``i`` not newer than ``j`` are kept: ``R`` reads nothing else.

    Memory traffic is the price of the method at large ``n`` (see ``memory_bytes`` of
    :func:`group_owlqn`). Fed by :meth:`push`, an iteration makes two passes over the rows:

    * :meth:`push` tests the pair (one pass over the four vectors, nothing written), writes
      ``s = x_new - x`` and ``y = g_new - g`` straight into their rows and forms
      ``P = Z g_new`` (one pass over the rows). The products of the older rows with the new
      ``y`` are then ``P - P_prev``, ``P_prev`` the same products at the previous gradient: no
      pass for them. On the first ``direct`` entries (the blocks of the group norm, where a
      gradient of the smooth part does not vanish at a solution and the difference would
      cancel) they are formed directly;
    * :meth:`apply` at a ``q`` equal to that gradient past the first ``direct`` entries
      takes ``P`` from :meth:`push` and multiplies only the direct blocks again, and none at a
      ``q`` that is the pushed vector itself (:func:`group_owlqn` pushes its pseudo-gradients
      and applies the memory to the last one); forming the result is the second pass over the
      rows.

    Before this (a pass in :meth:`update` and two in :meth:`apply`, and ``s``, ``y`` as
    temporaries copied into the rows) an iteration at the MNIST-shaped ``N = 60000`` (float32,
    2 pairs of 2.3e7 entries) took 964 ms, now 676 ms; 54 -> 49 ms at ``N = 4000`` (5 pairs).
    Up to ``2 k n = 2^21`` (``k`` pairs held) the products, and the whole of :meth:`apply`, are
    single compiled calls; below ``2 m n = 2^18`` :meth:`push` forms no products by difference
    (that bookkeeping cost more than it saved on the smallest instances): a stored pair's
    products with ``y`` and with ``g_new`` come from one read of the rows, the latter kept for
    the next :meth:`apply` (after a skipped pair it keeps none).
    :meth:`update` stores a pair given as two vectors, with its own pass over the rows (the
    textbook order, kept for callers that hold ``s`` and ``y``).
    """

    @classmethod
    def sized(cls, x, memory=10, memory_bytes=2**29, blocks=None, direct=0):
        """Storage for pairs like ``x``: ``memory`` pairs, at most ``memory_bytes`` (``m`` pairs
        cost ``2 m n`` numbers, and their ``m x m`` products per block ``(1 + blocks) m^2``
        float64 numbers), at most ``n`` (more pairs than the space has dimensions add no
        curvature) and at least 2. (Without the last two caps ``memory=10**6`` on a problem of
        68 variables asked numpy for 1.8 TiB.)"""
        n_blocks = 1 if blocks is None else len(blocks)
        square = int(np.sqrt(memory_bytes / (8 * (1 + n_blocks))))
        m = max(2, min(int(memory), x.size, square,
                       int(memory_bytes // (2 * x.size * x.itemsize))))
        return cls(x.size, m, [slice(0, x.size)] if blocks is None else blocks, dtype=x.dtype,
                   direct=direct)

    def __init__(self, n: int, memory: int, blocks, dtype=np.float64, direct: int = 0):
        self.m = int(memory)
        self.blocks = list(blocks)
        self.Z = np.empty((2 * self.m, n), dtype=dtype)
        self.SY = np.zeros((self.m, self.m))  # SY[i, j] = s_i . y_j (slots; i not newer than j)
        self.G = np.zeros((len(self.blocks), self.m, self.m))  # per block y_i . y_j
        self.order: list[int] = []  # slots, oldest first
        self.bounds = _bounds(self.blocks)
        if self.bounds[0] != 0 or self.bounds[-1] != n:
            # (apply left an uncovered entry as np.empty made it: garbage in the direction)
            raise ValueError(f"blocks must cover the {n} entries, got slices from "
                             f"{self.bounds[0]} to {self.bounds[-1]}")
        edges = list(self.bounds)
        if direct not in edges:
            raise ValueError(f"direct must be a block edge (one of {edges}), got {direct}")
        #: the blocks before ``direct``: their products are never taken from ``P``
        self.direct = int(direct)
        self.n_direct = edges.index(direct)
        self._P = None  # Z[:2k] @ grad per block, from the last push
        self._grad = None  # that gradient (by identity)

    def clear(self):
        self.order = []
        self._grad = None

    def _block_products(self, v: np.ndarray, k: int, first: int = 0, last=None) -> np.ndarray:
        """``Z[:2k, blk] @ v[blk]`` for the blocks ``first <= i < last`` (default: to the end):
        array ``(last - first, 2k)``. Small products in one compiled call, large ones by BLAS
        per block (threaded; measured on 8 blocks: the compiled loop 2.4 times faster at
        ``2k n = 1.3e5``, even at ``1.3e6``, 2.2 times slower at ``1.3e8``)."""
        last = len(self.blocks) if last is None else last
        if k == 0 or last == first:
            return np.zeros((last - first, 2 * k))
        if 2 * k * (self.bounds[last] - self.bounds[first]) <= _SMALL:
            return _row_dots(self.Z, 2 * k, v, self.bounds[first:last + 1])
        # float64 whatever the memory's dtype, as on the compiled path: one signature downstream
        return np.stack([self.Z[:2 * k, blk] @ v[blk] for blk in self.blocks[first:last]],
                        dtype=np.float64)

    def _take_slot(self) -> int:
        """A free slot for a new pair; the oldest pair's when the memory is full."""
        if len(self.order) == self.m:
            return self.order.pop(0)
        used = set(self.order)
        return next(i for i in range(self.m) if i not in used)

    def _record(self, slot: int, Py: np.ndarray, dots: np.ndarray):
        """Enter the new pair of ``slot`` (the newest): ``Py`` the block products of the rows
        with its ``y``, ``dots`` its own ``[s.y, y.y, s.s]`` per block (:func:`_record_pair`)."""
        _record_pair(self.SY, self.G, slot, Py, dots)

    def update(self, s: np.ndarray, y: np.ndarray):
        """Store the pair ``(s, y)`` (evicting the oldest when full)."""
        slot = self._take_slot()
        self.Z[2 * slot] = s
        self.Z[2 * slot + 1] = y
        self.order.append(slot)
        self._grad = None  # the rows changed: no products are known
        k = max(self.order) + 1
        self._record(slot, self._block_products(y, k), _pair_dots(s, y, self.bounds))

    def push(self, x, x_new, g, g_new):
        """Store ``s = x_new - x``, ``y = g_new - g`` when ``s . y > 1e-12 |s| |y|`` (pairs
        of negative curvature are skipped: the function is nonconvex), and remember the rows'
        products with ``g_new`` for the next :meth:`push` and :meth:`apply`.

        Returns ``(dots, stored)``, ``dots`` the pair's ``[s.y, y.y, s.s]`` per block
        (``(n_blocks, 3)``); when ``y`` is not finite nothing else is done (the caller stops).
        """
        # the test first (one compiled pass, nothing written), then the rows by numpy's
        # vectorised subtractions (a compiled loop that also wrote them was not vectorised)
        dots = _step_dots(x, x_new, g, g_new, self.bounds)
        sy, yy, ss = dots.sum(axis=0)
        if not np.isfinite(yy):
            self._grad = None
            return dots, False
        stored = bool(sy > 1e-12 * np.sqrt(ss) * np.sqrt(yy))  # (ss * yy overflows from 1e77)
        if stored:
            slot = self._take_slot()
            older = list(self.order)  # the pairs kept from before, without the evicted one
            zy = self.Z[2 * slot + 1]
            np.subtract(x_new, x, out=self.Z[2 * slot])
            np.subtract(g_new, g, out=zy)
            self.order.append(slot)
        k = max(self.order) + 1 if self.order else 0
        if 2 * self.m * self.Z.shape[1] < _REUSE_FROM:
            # small: no products by difference (measured on the 3-4-3-1 teachers of
            # tests/solvers/test_alm.py: 10% slower per iteration with them); a stored pair's
            # products with y and with g_new in one read of the rows (_row_dots_pair: the
            # same bits as two calls), the latter kept for the next apply
            # (2 m n below _REUSE_FROM: _block_products would take _row_dots too)
            if not stored:
                self._grad = None
                return dots, stored
            Py, P = _row_dots_pair(self.Z, 2 * k, zy, g_new, self.bounds)
            self._record(slot, Py, dots)
        else:
            P = self._block_products(g_new, k)
            if stored:
                if older and self._grad is g and self.n_direct < len(self.blocks):
                    # Z y = Z g_new - Z g on the rows that were there at the last push; the
                    # group norm's blocks directly (their gradient stays large: the difference
                    # cancels)
                    c = min(P.shape[1], self._P.shape[1])  # the older rows are all before c
                    Py = np.zeros_like(P)
                    Py[:, :c] = P[:, :c] - self._P[:, :c]
                    Py[:self.n_direct] = self._block_products(zy, k, 0, self.n_direct)
                else:
                    Py = self._block_products(zy, k)
                self._record(slot, Py, dots)
        self._P, self._grad = P, g_new
        return dots, stored

    def apply(self, q: np.ndarray, scales: np.ndarray, sign: float = 1.0, *, grad=None,
              out=None) -> np.ndarray:
        """``sign * H q`` with ``H0 = diag(scales per block)`` (``sign = -1``: the quasi-Newton
        direction, without another pass to negate it).

        ``grad``: the gradient of the last :meth:`push` (the same array), when ``q`` equals it
        from entry ``direct`` on: the products there are taken from the push (all of them when
        ``q`` is that array, as in :func:`group_owlqn`, which pushes its pseudo-gradients).
        ``out``: the array to write the result in (shaped like ``q``, not ``q`` itself).
        """
        out = np.empty_like(q) if out is None else out
        if not self.order:
            for i, blk in enumerate(self.blocks):
                np.multiply(q[blk], sign * float(scales[i]), out=out[blk])
            return out
        o = np.array(self.order, dtype=np.int64)
        k = int(o.max()) + 1
        reuse = grad is not None and grad is self._grad
        # the blocks whose products with q are formed here: all, or only the direct ones when
        # the push's products are reused, or none when q is the pushed vector itself
        fill = len(self.blocks) if not reuse else 0 if q is grad else self.n_direct
        if 2 * k * q.shape[0] <= _SMALL:
            # the whole product in one compiled call (on small instances the dozen numpy calls
            # below were a fifth of an inner iteration: docs/maths.md 8)
            P = self._P if reuse else _NO_PRODUCTS
            return _apply_compiled(self.Z, k, q, P, fill, self.bounds, self.SY, self.G, o,
                                   np.asarray(scales, dtype=float), float(sign), out)
        # Python floats: a numpy float64 scalar would promote float32 blocks to float64
        h0 = [sign * float(v) for v in scales]
        if reuse:
            P = self._P.copy()
            P[:fill] = self._block_products(q, k, 0, fill)
        else:
            P = self._block_products(q, k)
        sp1, u = _compact_coefficients(P, self.SY, self.G, o, np.asarray(scales, dtype=float),
                                       float(sign))
        # out[blk] = scale (q - Y u)[blk] + (S p1)[blk]: one pass over the rows per block
        # in the iterate's dtype: a float64 coefficient vector would make numpy cast the
        # whole float32 memory to float64 for the product
        coef = np.empty((len(self.blocks), 2 * k), dtype=self.Z.dtype)  # one row per block
        coef[:, 0::2] = sp1
        coef[:, 1::2] = -np.array(h0)[:, None] * u
        for i, blk in enumerate(self.blocks):
            ob = out[blk]
            np.matmul(coef[i], self.Z[:2 * k, blk], out=ob)
            # ob += h0 q in one compiled pass, h0 in q's dtype: numpy's ob += h0 * q to the
            # bit, without its temporary block (12.4 ms against 4.0 for 1.5e7 float32
            # entries, the MNIST-shaped N = 60000's V_1)
            _trial_point(ob, q[blk], q.dtype.type(h0[i]), ob)
        return out


#: ``2 k n`` up to which :meth:`CompactLBFGS._block_products` and :meth:`CompactLBFGS.apply`
#: run compiled. ``benchmarks/bench_lbfgs.py`` (push + apply on a full memory, both paths in one
#: process): the compiled path 0.76-0.91 times the BLAS one's time at ``2 m n`` from 3.3e5 to
#: 1.3e6 (float64 and float32, 5 and 10 pairs), 0.77-1.57 at 2.6e6 and above, where it loses in
#: 12 of 14 cases (2^19 until 2026-12-03, which left the digits' 5 pairs, 6.7e5, on the slower
#: path; docs/benchmarks.md)
_SMALL = 1 << 21
#: the ``P`` of :func:`_apply_compiled` when none is reused from the push
_NO_PRODUCTS = np.zeros((0, 0))
#: ``2 m n`` from which :meth:`CompactLBFGS.push` keeps the products for the next iteration
#: (push and apply timed alone, 8-16-16-4 teacher, 5 pairs: at N = 1600, 2 m n = 5.2e5, 230 us
#: with the reuse against 264-284 us without; at N = 400 no gain; docs/maths.md 8)
_REUSE_FROM = 1 << 18


def _bounds(blocks) -> np.ndarray:
    """Contiguous slices as one array of edges (block ``i`` is ``bounds[i]:bounds[i + 1]``)."""
    if not blocks:  # (blocks[-1] below: an IndexError naming nothing)
        raise ValueError("blocks must be a non-empty list of slices")
    edges = [blk.start for blk in blocks] + [blocks[-1].stop]
    if any(not isinstance(e, (int, np.integer)) for e in edges):
        raise ValueError("blocks must be slices with integer start and stop, got "
                         f"{list(blocks)}")
    # a step or a reversed block passed the cover check of CompactLBFGS (first start, last
    # stop) while apply wrote only some entries, or some twice
    if (any(b.stop != e for b, e in zip(blocks, edges[1:]))
            or any(b.step not in (None, 1) or b.stop < b.start for b in blocks)):
        raise ValueError("blocks must be contiguous slices in order")
    return np.array(edges, dtype=np.int64)


@njit(cache=True, fastmath={"reassoc"})
def _row_dots(A, p, v, bounds):
    """``A[r, blk] . v[blk]`` for the rows ``r < p`` and every block: ``(n_blocks, p)``.

    Four rows per pass over ``v`` (each entry of ``v`` loaded once for four products; against
    one row at a time, 10 rows of 13,248 entries 13.6 us instead of 16.4 us, of 51,648 entries
    62 us instead of 82 us: docs/maths.md 8)."""
    out = np.zeros((bounds.shape[0] - 1, p))
    for i in range(bounds.shape[0] - 1):
        a, b = bounds[i], bounds[i + 1]
        vb = v[a:b]
        r = 0
        while r + 3 < p:
            a0, a1, a2, a3 = A[r, a:b], A[r + 1, a:b], A[r + 2, a:b], A[r + 3, a:b]
            s0 = s1 = s2 = s3 = 0.0
            for j in range(vb.shape[0]):
                vj = vb[j]
                s0 += a0[j] * vj
                s1 += a1[j] * vj
                s2 += a2[j] * vj
                s3 += a3[j] * vj
            out[i, r], out[i, r + 1], out[i, r + 2], out[i, r + 3] = s0, s1, s2, s3
            r += 4
        while r < p:
            out[i, r] = _row_dot(A[r, a:b], vb)
            r += 1
    return out


@njit(cache=True, fastmath={"reassoc"})
def _row_dot(a0, vb):
    """``a0 . vb``, one row: the rows :func:`_row_dots` and :func:`_row_dots_pair` take one
    at a time."""
    s0 = 0.0
    for j in range(vb.shape[0]):
        s0 += a0[j] * vb[j]
    return s0


@njit(cache=True, fastmath={"reassoc"})
def _row_dots_pair(A, p, v, w, bounds):
    """``(_row_dots(A, p, v, bounds), _row_dots(A, p, w, bounds))`` in one pass over the rows
    of ``A`` where :func:`_row_dots` takes them four at a time: here two rows by the two
    vectors, four sums per loop as there, so that each sum is formed as there (the same bits:
    ``tests/solvers/test_quasi_newton.py``); the rows it takes one at a time, one at a time
    here too, once per vector. The small memory's push forms the products with its new ``y``
    and with the new gradient, which the next :meth:`CompactLBFGS.apply` takes, in one read of
    the rows (``Z`` of 10 rows of 13,248 entries: 27.7 us against 30.0 us for the two calls)."""
    nb = bounds.shape[0] - 1
    out_v = np.zeros((nb, p))
    out_w = np.zeros((nb, p))
    for i in range(nb):
        a, b = bounds[i], bounds[i + 1]
        vb, wb = v[a:b], w[a:b]
        r = 0
        while r + 3 < p:
            for h in (0, 2):
                a0, a1 = A[r + h, a:b], A[r + h + 1, a:b]
                s0 = s1 = t0 = t1 = 0.0
                for j in range(vb.shape[0]):
                    vj, wj = vb[j], wb[j]
                    s0 += a0[j] * vj
                    s1 += a1[j] * vj
                    t0 += a0[j] * wj
                    t1 += a1[j] * wj
                out_v[i, r + h], out_v[i, r + h + 1] = s0, s1
                out_w[i, r + h], out_w[i, r + h + 1] = t0, t1
            r += 4
        while r < p:
            out_v[i, r], out_w[i, r] = _row_dot(A[r, a:b], vb), _row_dot(A[r, a:b], wb)
            r += 1
    return out_v, out_w


@njit(cache=True, fastmath={"reassoc"})
def _apply_compiled(Z, k, q, P_push, n_fill, bounds, SY, G, order, scales, sign, out):
    """:meth:`CompactLBFGS.apply` in one call (small memories): the block products
    ``Z[:2k, blk] @ q`` of the first ``n_fill`` blocks (the others from ``P_push``, the
    push's products with the same gradient), the ``m x m`` algebra of
    :func:`_compact_coefficients`, then per block
    ``out = sign scale (q - Y u) + (sign p1)^T S``, a pass over the rows two at a time."""
    n_blocks = bounds.shape[0] - 1
    P = np.empty((n_blocks, 2 * k))
    P[:n_fill] = _row_dots(Z, 2 * k, q, bounds[:n_fill + 1])
    if n_fill < n_blocks:
        P[n_fill:] = P_push[n_fill:, :2 * k]
    sp1, u = _compact_coefficients(P, SY, G, order, scales, sign)
    for i in range(n_blocks):
        a, b = bounds[i], bounds[i + 1]
        h = sign * scales[i]
        ob, qb = out[a:b], q[a:b]  # slices: the loops vectorise
        for j in range(b - a):
            ob[j] = h * qb[j]
        for r in range(k):
            cs, cy = sp1[r], -h * u[r]
            zs, zy = Z[2 * r, a:b], Z[2 * r + 1, a:b]
            for j in range(b - a):
                ob[j] += cs * zs[j] + cy * zy[j]
    return out


@njit(cache=True, fastmath={"reassoc"})
def _pair_dots(s, y, bounds):
    """``[s.y, y.y, s.s]`` per block in one pass: ``(n_blocks, 3)``."""
    out = np.zeros((bounds.shape[0] - 1, 3))
    for i in range(bounds.shape[0] - 1):
        sb = s[bounds[i]:bounds[i + 1]]
        yb = y[bounds[i]:bounds[i + 1]]
        sy = yy = ss = 0.0
        for j in range(sb.shape[0]):
            sy += sb[j] * yb[j]
            yy += yb[j] * yb[j]
            ss += sb[j] * sb[j]
        out[i, 0], out[i, 1], out[i, 2] = sy, yy, ss
    return out


@njit(cache=True, fastmath={"reassoc"})
def _step_dots(x, xn, g, gn, bounds):
    """``[s.y, y.y, s.s]`` per block for ``s = xn - x``, ``y = gn - g``, without forming them:
    ``(n_blocks, 3)``."""
    out = np.zeros((bounds.shape[0] - 1, 3))
    for i in range(bounds.shape[0] - 1):
        a, b = bounds[i], bounds[i + 1]
        xb, xnb, gb, gnb = x[a:b], xn[a:b], g[a:b], gn[a:b]  # slices: the loop vectorises
        sy = yy = ss = 0.0
        for j in range(xb.shape[0]):
            sj = xnb[j] - xb[j]
            yj = gnb[j] - gb[j]
            sy += sj * yj
            yy += yj * yj
            ss += sj * sj
        out[i, 0], out[i, 1], out[i, 2] = sy, yy, ss
    return out


def _block_scales(dots, fallback):
    """The Barzilai-Borwein scale ``s.y / y.y`` of every block with positive curvature
    (``dots``: the ``[s.y, y.y, s.s]`` rows of :meth:`CompactLBFGS.push`); the other blocks
    take ``fallback`` (their previous scales, an array, or the global ``s.y / y.y`` at the
    first pair, a number). A new array."""
    if not isinstance(fallback, np.ndarray):
        fallback = np.full(dots.shape[0], float(fallback))
    return _block_scales_loop(dots, fallback)


@njit(cache=True, fastmath=False)
def _block_scales_loop(dots, fallback):
    """:func:`_block_scales` over the blocks (a handful: one compiled call instead of the
    half dozen numpy calls on arrays of that length, which cost microseconds each)."""
    out = np.empty(dots.shape[0])
    for i in range(dots.shape[0]):
        sy, yy = dots[i, 0], dots[i, 1]
        out[i] = sy / yy if sy > 0 and yy > 0 else fallback[i]
    return out


def _grow_unseen(dots, scales, run, whole):
    """Scales times ``_UNSEEN_GROWTH`` on the blocks that a whole (unit) step has moved
    (``s.s > 0``) without changing their gradient at all (``y.y = 0``: the move was below the
    gradient's rounding), ``_UNSEEN_AFTER`` iterations in a row; ``run`` (per block, updated
    in place) counts them, ``whole`` says whether this step was a unit step.

    Such a block's scale came from another block's curvature (the global ``s.y / y.y`` at the
    first pair, when this block's own products underflowed) and is too small to move it by
    more than rounding; no pair corrects it, since ``y`` stays zero. At ``lam = 1e150`` (every
    group zero after the first step) the ``V`` blocks kept a scale of about ``1e-150`` and the
    first subproblem ran to ``max_iter`` (5,000 iterations without progress); it now ends in
    37. A shortened step is the line search's business (the scale may be too large), and a
    single unseen step happens in float32 (the 5-8-6-2 teacher, N = 300, ``lam`` 1e-3, with
    biases, 12 outer iterations: 1 of 18,968 unit steps, never 2 in a row), where the rule
    does not act."""
    return _grow_unseen_loop(dots, scales, run, bool(whole), _UNSEEN_AFTER, _UNSEEN_GROWTH)


@njit(cache=True, fastmath=False)
def _grow_unseen_loop(dots, scales, run, whole, after, growth):
    """:func:`_grow_unseen` over the blocks: ``scales`` itself when no block grows, else a
    new array."""
    out, grown = scales, False
    for i in range(dots.shape[0]):
        run[i] = run[i] + 1 if whole and dots[i, 1] == 0 and dots[i, 2] > 0 else 0
        if run[i] >= after:
            if not grown:
                out, grown = scales.copy(), True
            out[i] = scales[i] * growth
    return out


@njit(cache=True, fastmath=False)
def _open_zero_groups(d, pg, x, zero, scale, ref):
    """On the entries of zero groups (``zero``, over the prefix ``x[:nw]``) the direction
    ``-scale pg`` (steepest descent of the nonsmooth term); ``ref`` (the orientation the line
    search keeps) is ``-pg`` there and ``x`` elsewhere."""
    for e in range(zero.shape[0]):
        if zero[e]:
            d[e] = -pg[e] * scale
            ref[e] = -pg[e]
        else:
            ref[e] = x[e]


def _norm(v: np.ndarray):
    """``||v||_2`` without overflow: ``sqrt(v . v)`` overflows once the entries pass the
    square root of the dtype's largest number (the pseudo-gradient of a huge ``lam``: at
    ``lam = 1e155`` the inner solver's first direction was zero, and it took zero steps until
    its iteration limit)."""
    with np.errstate(over="ignore"):
        n = np.sqrt(np.dot(v, v))  # (in v's dtype, as before: the same iterates to the bit)
    if np.isfinite(n):
        return n
    top = float(np.max(np.abs(v), initial=0.0))
    if not np.isfinite(top):
        return top
    w = v / top
    return top * float(np.sqrt(np.dot(w, w)))


def backtrack_step(t: float, v: float, vn: float, lin: float) -> float:
    """The next trial step after the step ``t`` failed the Armijo test: the minimiser of the
    quadratic through the line search's data, safeguarded to ``[t/10, t/2]``.

    Along the step, ``q(s) = v + lin (s/t) + (vn - v - lin) (s/t)^2`` matches the value ``v``
    at ``s = 0``, the predicted change ``lin = <pg, x_t - x>`` of the (projected) trial
    point ``x_t`` and its value ``vn``; its minimiser is ``s = t (-lin) / (2 (vn - v - lin))``
    (Nocedal & Wright, *Numerical Optimization*, 2nd ed., section 3.5). Halving
    (``t/2``) when ``vn`` is not finite or the data give no curvature (``lin >= 0`` or
    ``vn - v - lin <= 0``). The bounds keep a failed test from ending in a tiny step after a
    bad fit (lower) and guarantee the decrease halving gives (upper).
    """
    return _backtrack_step(float(t), float(v), float(vn), float(lin))


@njit(cache=True, fastmath=False)
def _backtrack_step(t, v, vn, lin):
    """:func:`backtrack_step` on floats (compiled: :mod:`.owlqn_compiled` calls it too)."""
    curv = vn - v - lin
    if not (np.isfinite(vn) and lin < 0 and curv > 0):
        return 0.5 * t
    return min(max(0.5 * t * -lin / curv, 0.1 * t), 0.5 * t)


def value_noise(v: float, scale: float, dtype) -> float:
    """The rounding level of a computed value ``v`` whose summed terms reach ``scale`` beyond
    ``|v|`` (terms that cancel): ``VALUE_NOISE eps (|v| + scale)``, ``eps`` of ``dtype``.

    A change of the value below it is not a measured change: Armijo's test cannot see a
    decrease of ``c1 t <pg, d>`` there. Near a stationary point that decrease is of order
    ``r^2 / curvature`` at residual ``r``, so a value test stalls at ``r`` of about
    ``sqrt(eps |v| curvature)``: ``1e-4`` in float32 on the ALM's subproblems, ``1e-8`` in
    float64 (docs/maths.md 6.1)."""
    return _value_noise(float(v), float(scale), float(np.finfo(dtype).eps))


@njit(cache=True, fastmath=False)
def _value_noise(v, scale, eps):
    """:func:`value_noise` with the dtype's ``eps`` given (compiled: :mod:`.owlqn_compiled`
    calls it too)."""
    return VALUE_NOISE * eps * (abs(v) + scale)


@njit(cache=True, fastmath=False)
def armijo_by_slope(lin, lin_end, c1):
    """Armijo's test decided by slopes: ``lin_end <= (2 c1 - 1) lin``, with ``lin`` the
    predicted change ``<pg, s>`` of the step ``s`` and ``lin_end = <pg(x + s), s>`` its
    slope at the trial point (the *approximate Armijo condition* of Hager & Zhang, "A new
    conjugate gradient method with guaranteed descent and an efficient line search", SIAM J.
    Optim. 16 (2005) 170-192).

    For a quadratic along the step, ``q(s) = q(0) + lin s + a s^2`` (``s`` from 0 to 1), it
    holds exactly when Armijo's test does (both say ``a <= (c1 - 1) lin``). It is accurate to
    the rounding of the gradient, not of the value, so it decides where the value's change is
    at rounding level (:func:`value_noise`)."""
    return lin_end <= (2.0 * c1 - 1.0) * lin


@njit(cache=True, fastmath=False)
def _trial_point(x, d, t, out):
    """``out = x + t d`` in one pass; ``out`` may be ``x`` (``x += t d`` in place: with ``t``
    of ``d``'s dtype numpy's ``x += t * d`` to the bit, without its temporary)."""
    for j in range(x.shape[0]):
        out[j] = x[j] + t * d[j]


@njit(cache=True, fastmath={"reassoc"})
def _dot_of_step(p, xn, x):
    """``<p, xn - x>`` without forming the step (float64 accumulation)."""
    acc = 0.0
    for j in range(x.shape[0]):
        acc += p[j] * (xn[j] - x[j])
    return acc


# (fastmath stated, False: called by the reassociated _apply_compiled and alone, it took the
# flags of whichever compiled it first until 2026-12-06; kernels.py has the note)
@njit(cache=True, fastmath=False)
def _compact_coefficients(P, SY, G, order, scales, sign):
    """The ``m x m`` part of :meth:`CompactLBFGS.apply`, by slot (compiled: as numpy it was a
    dozen calls on tiny arrays, most of an inner iteration's time on small instances).

    ``P`` holds the block products ``Z[:2k, blk] @ q``; ``order`` the used slots, oldest first.
    With ``a = S^T q``, ``c = Y^T H0 q``, ``R`` the upper triangle of ``S^T Y`` (``SY`` read in
    ``order``), ``D`` its diagonal and ``Y^T H0 Y = sum_blk scale_blk G_blk``:

        u = R^{-1} a,    p1 = R^{-T} ((D + Y^T H0 Y) u - c).

    Returns ``(sign * p1, u)`` indexed by slot (``H q = H0 (q - Y u) + S p1``).
    """
    k = order.shape[0]
    n_slots = SY.shape[0]
    a = np.zeros(k)
    c = np.zeros(k)
    for i in range(k):
        for blk in range(P.shape[0]):
            a[i] += P[blk, 2 * order[i]]
            c[i] += scales[blk] * P[blk, 2 * order[i] + 1]
    u = np.zeros(n_slots)
    for i in range(k - 1, -1, -1):  # back substitution, R u = a
        acc = a[i]
        for j in range(i + 1, k):
            acc -= SY[order[i], order[j]] * u[order[j]]
        u[order[i]] = acc / SY[order[i], order[i]]
    p1 = np.zeros(n_slots)
    for i in range(k):  # forward substitution, R^T p1 = (D + Y^T H0 Y) u - c
        oi = order[i]
        acc = SY[oi, oi] * u[oi] - c[i]
        for j in range(k):
            yhy = 0.0
            for blk in range(P.shape[0]):
                yhy += scales[blk] * G[blk, oi, order[j]]
            acc += yhy * u[order[j]]
        for j in range(i):
            acc -= SY[order[j], oi] * p1[order[j]]
        p1[oi] = acc / SY[oi, oi]
    return sign * p1[: P.shape[1] // 2], u[: P.shape[1] // 2]


# ---- numpy's summation order, compiled (the block bookkeeping of CompactLBFGS; the compiled
# loop of owlqn_compiled sums the model's terms with them too)

@njit(cache=True, fastmath=False)
def _pairwise_block(a, lo, n, step):
    """numpy's sum of at most 128 terms ``a[lo], a[lo + step], ...``: in order below 8,
    else eight accumulators combined as a tree, then the rest in order."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i * step]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + step], a[lo + 2 * step], a[lo + 3 * step]
    r4, r5, r6, r7 = a[lo + 4 * step], a[lo + 5 * step], a[lo + 6 * step], a[lo + 7 * step]
    i = 8
    whole = n - n % 8
    while i < whole:
        b = lo + i * step
        r0 += a[b]
        r1 += a[b + step]
        r2 += a[b + 2 * step]
        r3 += a[b + 3 * step]
        r4 += a[b + 4 * step]
        r5 += a[b + 5 * step]
        r6 += a[b + 6 * step]
        r7 += a[b + 7 * step]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i * step]
        i += 1
    return res


@njit(cache=True, fastmath=False)
def _half(n):
    """Where numpy splits ``n > 128`` terms: about half, a multiple of 8."""
    n2 = n // 2
    return n2 - n2 % 8


@njit(cache=True, fastmath=False)
def _pairwise(a, lo, n, step):
    """numpy's pairwise summation of ``a[lo], a[lo + step], ...`` (``n`` terms): the order of
    ``np.add.reduce`` on floats (blocks of at most 128, :func:`_pairwise_block`; above that the
    sum of the two halves' sums, :func:`_half`), so that the compiled sums equal numpy's to the
    bit. The halving is walked with a stack of its own (numba's disk cache loads a recursive
    function that then crashes: a segmentation fault in the second process, measured)."""
    if n <= 128:
        return _pairwise_block(a, lo, n, step)
    los = np.empty(64, dtype=np.int64)  # the nodes from the root to the current one
    ns = np.empty(64, dtype=np.int64)
    lefts = np.empty(64)  # a node's left half's sum, once known
    right = np.zeros(64, dtype=np.bool_)  # whether the node is summing its right half
    top = 0
    los[0], ns[0], right[0] = lo, n, False
    while True:
        if ns[top] > 128:  # descend into the left half
            los[top + 1], ns[top + 1], right[top + 1] = los[top], _half(ns[top]), False
            top += 1
            continue
        val = _pairwise_block(a, los[top], ns[top], step)
        while True:  # hand the sum up
            if top == 0:
                return val
            top -= 1
            if not right[top]:
                lefts[top], right[top] = val, True
                n2 = _half(ns[top])
                los[top + 1], ns[top + 1], right[top + 1] = (los[top] + n2 * step,
                                                             ns[top] - n2, False)
                top += 1
                break
            val = lefts[top] + val


@njit(cache=True, fastmath=False)
def _numpy_sum(a):
    """``a.sum()`` of a 1-d float64 array as numpy forms it (tests/solvers/test_owlqn_compiled
    compares the two on lengths from 1 to 100,003)."""
    return 0.0 + _pairwise(a, 0, a.shape[0], 1)


@njit(cache=True, fastmath=False)
def _column_sums(A):
    """``A.sum(axis=0)`` of a 2-d array as numpy forms it: the rows added in order."""
    out = A[0].copy()
    for i in range(1, A.shape[0]):
        for j in range(A.shape[1]):
            out[j] = out[j] + A[i, j]
    return out


@njit(cache=True, fastmath=False, error_model="numpy")
def _record_pair(SY, G, slot, Py, dots):
    """Enter the new pair of ``slot`` into ``SY`` and ``G`` (:meth:`CompactLBFGS._record`; the
    sums in numpy's order, :func:`_column_sums` and :func:`_numpy_sum`: one compiled call for
    both loops of group OWL-QN, :mod:`.owlqn_compiled` included)."""
    k = Py.shape[1] // 2
    sums = _column_sums(Py[:, 0::2])
    for i in range(k):
        SY[i, slot] = sums[i]
        for b in range(Py.shape[0]):
            G[b, i, slot] = Py[b, 2 * i + 1]
            G[b, slot, i] = Py[b, 2 * i + 1]
    SY[slot, slot] = _numpy_sum(dots[:, 0].copy())
    for b in range(Py.shape[0]):
        G[b, slot, slot] = dots[b, 1]


def warm_up_large(dtype=np.float64) -> None:
    """Compile (or load from the disk cache) what the large memories' path of
    :meth:`CompactLBFGS.apply` runs and small solves never reach (they run
    :func:`_apply_compiled`): :func:`_compact_coefficients` (float64 arguments whatever the
    iterate's dtype) and :func:`_trial_point` with a scalar in ``dtype``; and
    :func:`_row_dots` in ``dtype``, which a small solve reaches only when an apply cannot take
    the products of the last push (after a skipped pair: the warm-up's tiny solve may have
    none)."""
    eye = np.eye(1)
    _compact_coefficients(np.ones((1, 2)), eye, eye[None], np.zeros(1, dtype=np.int64),
                          np.ones(1), 1.0)
    v = np.zeros(1, dtype=dtype)
    _trial_point(v, v, v.dtype.type(1.0), v)
    _row_dots(np.zeros((2, 1), dtype=dtype), 2, v, np.array([0, 1], dtype=np.int64))


class _Stop(Exception):
    pass

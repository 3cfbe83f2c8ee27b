"""Full-batch proximal gradient with backtracking on (P), in numpy (MODEL.md sections 2-3).

    W+ = prox_{t lam R}(W - t grad_W ell(W, b)),     b+ = b - t grad_b ell(W, b),

with ``ell(W, b) = (1/N)||U_L - Y^T||_F^2`` the data fit of (P) at the exact forward pass and
``t`` halved (factor ``eta``) until the sufficient-decrease test
``ell(W+) <= ell(W) + <grad ell, W+ - W> + ||W+ - W||^2 / (2t)`` holds, then enlarged by
``grow`` for the next iteration (the test allows the rounding level of the computed ``ell``,
:func:`liftnet.solvers.quasi_newton.value_noise`, the inner solver's too). ``ell`` is
piecewise smooth (the leaky ReLU has a kink at 0); its gradient is backpropagation with
``sigma'(t) = 1`` for ``t > 0`` and ``alpha`` otherwise.
It stops when the gradient mapping ``(W - W+)/t`` is below ``tol`` in the infinity norm.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_point, check_scalar, stop_requested
from .._interrupt import INTERRUPTS, interrupted
from ..clock import PausableClock
from ..init import check_start_Phi, parse_init
from ..quasi_newton import value_noise
from ._common import check_common, make_result, stop_clock, weights_only

#: the largest step ``t`` the growth by ``grow`` reaches (the largest float: the backtracking
#: takes it down as from any large ``lr``)
_T_MAX = float(np.finfo(np.float64).max)


def _backward(prob, W, U, V):
    """Gradient of ``ell`` from a forward pass ``(U, V)`` of ``(W, b)``: ``(gW, gb)``.

    The model's backward pass (:meth:`LiftedProblem.backprop_into`, MODEL.md 5) through the
    exact network: ``D_L = dell/dU_L = (2/N)(U_L - Y^T)``, ``D_{l-1} = sigma'(U_{l-1}) *
    (W_l^T D_l)`` (:meth:`LiftedProblem.sigma_slope`); ``gW_l = D_l V_{l-1}^T``,
    ``gb_l = D_l 1``.
    """
    gW, gb, _ = prob.layout.unpack(prob.backprop_into(
        W, V, prob.loss_gradient(U[-1]), lambda l, gVl: prob.sigma_slope(U[l]) * gVl))
    return gW, gb


def loss_gradient(prob, W, b=None):
    """Data fit of (P) and its gradient by backpropagation through the leaky ReLU.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays, ``W[l-1]`` of shape ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None

    Returns
    -------
    ell : float
        ``(1/N) ||U_L - Y^T||_F^2`` (``prob.loss`` at ``prob.forward(W, b)``).
    gW : list of L arrays shaped like ``W``
    gb : list of L arrays shaped like ``b``, or None without bias

    Examples
    --------
    At the teacher's weights of noiseless data the fit is zero, and so is its gradient;
    ``ell`` plus ``lam R(W)`` is ``Phi``:

    >>> import numpy as np
    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> from liftnet.solvers.baselines import loss_gradient
    >>> X, Y, W_teacher, _ = make_teacher(50, (3, 4, 2), alpha=0.1, noise=0.0, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4,), alpha=0.1, lam=1e-2)
    >>> ell, gW, gb = loss_gradient(prob, W_teacher)
    >>> bool(ell <= 1e-20), max(float(np.abs(g).max()) for g in gW) <= 1e-10, gb
    (True, True, None)
    >>> W, b = prob.initial_weights(seed=0)
    >>> ell, gW, gb = loss_gradient(prob, W, b)
    >>> [g.shape for g in gW]
    [(4, 3), (2, 4)]
    >>> bool(np.isclose(ell + prob.regulariser(W), prob.Phi(W, b)))
    True
    """
    W, b, _ = check_point(prob, W, b, None, lift=False)
    U, V = prob.forward(W, b)
    return (prob.loss(U[-1]), *_backward(prob, W, U, V))


def _dot(A, B) -> float:
    return sum(float(np.vdot(a, c)) for a, c in zip(A, B, strict=True))


class _OutOfTime(Exception):
    """The time limit fell inside a line search: the last accepted iterate is the answer."""


class _StepTooSmall(Exception):
    """The line search backtracked below ``1e-30`` (numpy's own FloatingPointError, raised
    under ``np.errstate(all="raise")``, had stood for this and was reported as such)."""


def prox_gradient(
    prob,
    lr=1.0,
    seed=0,
    time_limit=None,
    max_epochs=1000,
    init=None,
    *,
    tol=1e-6,
    eta=0.5,
    grow=2.0,
    callback=None,
):
    """Full-batch proximal gradient with backtracking on (P) (MODEL.md 3).

    Parameters
    ----------
    prob : LiftedProblem
    lr : float > 0
        Initial step ``t``; backtracking adapts it.
    seed : int or None
        Start ``prob.initial_weights(seed)`` (when ``init`` is None).
    time_limit : float or None
        Seconds of the trainer's clock (the warm-up, one forward/backward pass, and the history
        bookkeeping excluded), checked after each iteration and after each rejected
        line-search trial: the overshoot is at most one iteration's gradient or one trial.
    max_epochs : int >= 1
        Iterations (one full gradient each, plus the line-search forward passes).
    init : None, LiftedResult or mapping
        Warm start (see :func:`liftnet.solvers.init.parse_init`): its ``W`` and ``b``; ``V``,
        ``M1``, ``M2`` are ignored (a result on other samples will do). A start whose ``Phi``
        is not finite raises ``ValueError``.
    tol : float > 0
        Stop (``converged``) when ``||(W - W+)/t||_inf <= tol`` over ``W`` and ``b``. A step
        that does not move the point (``t`` times the gradient lost in the rounding of ``W``:
        a tiny ``lr`` such as 1e-17, or a line search that shrank ``t`` that far) does not pass
        this test by itself: then the point's stationarity decides, ``dist(0, grad_W + lam
        dR(W))`` per group and ``|grad_b|`` at most ``tol``, and otherwise ``t`` grows (by
        ``grow``) until the steps move.
    eta : float in (0, 1)
        Backtracking factor.
    grow : float >= 1
        Step enlargement after each accepted step.
    callback : callable or None
        ``callback(record)`` after each iteration; returning True stops (``interrupted``).

    Returns
    -------
    LiftedResult
        As the stochastic baselines (``W, b, V = lift, M1 = M2 = kkt = None, Phi, history``
        with records ``epoch, time, Phi, step_size, grad_map``), ``status`` in
        ``converged, max_iter, time_limit, interrupted, failed`` (line search broke down).
        Iterates decrease ``Phi`` monotonically, so the last one is the best one: a stop inside
        a line search or a gradient (time limit, Ctrl-C) returns the last accepted iterate,
        which has its record (an iterate is recorded as it is accepted, before its gradient,
        which the next iteration computes), and Ctrl-C before the first iteration (from the
        set-up on) the start point, with ``time`` 0 when it lands before the trainer's clock
        started.

    Examples
    --------
    The student is wider than the teacher (8 hidden units against 3): the prox sets whole
    columns of ``W_l`` to exact zeros, and ``Phi`` decreases from the start's:

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> from liftnet.solvers.baselines import prox_gradient
    >>> X, Y, _, _ = make_teacher(100, (5, 3, 2), alpha=0.1, noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(8,), alpha=0.1, lam=0.05)
    >>> res = prox_gradient(prob, seed=0, max_epochs=200)
    >>> [w.shape for w in res.W], res.nit <= 200
    ([(8, 5), (2, 8)], True)
    >>> bool(res.Phi < res.history[0]["Phi"]), res.n_zero_groups > 0
    (True, True)
    """
    time_limit, max_epochs, lr, seed = check_common(prob, time_limit, max_epochs, lr, seed)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    eta = check_scalar(eta, "eta", low=0, high=1, low_inclusive=False, high_inclusive=False)
    grow = check_scalar(grow, "grow", low=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    pen = prob.penalty

    # Everything after the argument checks runs under the Ctrl-C handler, the set-up and the
    # warm-up included (forward passes over all N samples, 0.1 s each at N = 60000 on the
    # teacher 10-32-32-3): W, b and clock are None until the set-up reaches them, and W, b
    # only ever hold accepted iterates.
    W = b = clock = None
    history = []
    status, message = "max_iter", f"reached max_epochs={max_epochs}"
    k = n_backtracks = 0
    try:
        W, b, *_ = parse_init(prob, weights_only(init), seed)
        # Warm-up (not timed): one forward/backward pass. (Its values are thrown away and
        # computed again below, where an overflowing start is refused: no warnings here.)
        with np.errstate(over="ignore", invalid="ignore"):
            U, V = prob.forward(W, b)
            _backward(prob, W, U, V)
        # the line search's rounding level is compiled (numba): its first call in a process
        # loads it from numba's cache, 0.29 s that landed on the first run's clock where
        # nothing had loaded it before (compare --methods prox_gradient)
        value_noise(1.0, 0.0, prob.dtype)
        clock = PausableClock()
        U, V = prob.forward(W, b)
        # the start's Phi: not finite (the data fit or the penalty overflows) is refused
        with np.errstate(over="ignore", invalid="ignore"):
            ell = prob.loss(U[-1])
            Phi0 = check_start_Phi(prob, ell + prob.regulariser(W))
        t = lr
        history.append(
            {
                "epoch": 0,
                "time": 0.0,
                "Phi": Phi0,
                "step_size": t,
                "grad_map": np.nan,
            }
        )
        while k < max_epochs:
            # the gradient at the last accepted iterate, computed here rather than as it is
            # accepted, so that the iterate is recorded first: a Ctrl-C in this backward pass
            # (a full pass over all N samples) returns a recorded iterate, counted in nit
            gW, gb = _backward(prob, W, U, V)
            while True:
                # a trial that overflows is rejected below (not finite): no warnings, and no
                # FloatingPointError under a caller's np.errstate(all="raise")
                with np.errstate(over="ignore", invalid="ignore"):
                    Wn = [pen.prox(Wl - t * g, t) for Wl, g in zip(W, gW, strict=True)]
                    bn = None if b is None else [x - t * g for x, g in zip(b, gb, strict=True)]
                    Un, Vn = prob.forward(Wn, bn)
                    ell_n = prob.loss(Un[-1])
                    dW = [a - c for a, c in zip(Wn, W, strict=True)]
                    db = [] if b is None else [a - c for a, c in zip(bn, b, strict=True)]
                    sq = _dot(dW, dW) + _dot(db, db)
                    model = (ell + _dot(gW, dW) + (_dot(gb, db) if b is not None else 0.0)
                             + sq / (2 * t))
                # (a finite loss: with an overflowing step the model is inf too, and inf <= inf
                # took a step from Phi 2.57 to inf at lr 1e200; and a finite model: a step so
                # large that the prox zeroes the output layer keeps the loss finite while the
                # other layers' weights reach 1e154, and sq overflowed: Phi inf at grow 1e200)
                if (np.isfinite(ell_n) and np.isfinite(model)
                        and ell_n <= model + value_noise(ell, 0.0, prob.dtype)):
                    break
                t *= eta
                n_backtracks += 1
                if t < 1e-30:
                    raise _StepTooSmall
                # a line search can take many forward passes (the first one from a large lr,
                # seconds at large N): the limit is checked after each rejected trial too
                if time_limit is not None and clock.elapsed > time_limit:
                    raise _OutOfTime
            grad_map = max(float(np.max(np.abs(d))) for d in (*dW, *db)) / t
            if sq == 0.0:  # an unmoved step (t*g lost in the rounding of W, as at lr=1e-17
                # or after long backtracking) proves nothing: the point's own stationarity
                # decides, dist(0, grad + lam dR(W)) per group and |grad_b|
                grad_map = max(
                    max(float(np.max(pen.subdiff_distance(Wl, g))) for Wl, g in zip(W, gW)),
                    max((float(np.max(np.abs(g))) for g in gb), default=0.0)
                    if b is not None else 0.0)
            clock.pause()
            rec = {
                "epoch": k + 1,
                "time": clock.elapsed,
                "Phi": ell_n + prob.regulariser(Wn),
                "step_size": t,
                "grad_map": grad_map,
            }
            # the accepted iterate, its count and its record together (nothing in between for
            # a Ctrl-C to land in): the returned iterate is always a recorded one
            W, b, U, V, ell = Wn, bn, Un, Vn, ell_n
            k += 1
            history.append(rec)
            stop = callback is not None and stop_requested(callback(rec))
            clock.resume()
            # (kept finite: grow 1e200 made it inf after two steps, and the prox refused it)
            t = min(t * grow, _T_MAX)
            if grad_map <= tol:
                status, message = "converged", f"gradient mapping {grad_map:.2e} <= tol={tol:g}"
                break
            if stop:
                status, message = "interrupted", "stopped by callback"
                break
            if time_limit is not None and clock.elapsed > time_limit:
                status, message = "time_limit", f"time_limit={time_limit:g} s reached"
                break
    except INTERRUPTS as exc:
        status, message = interrupted(exc), "interrupted (KeyboardInterrupt)"
    except _OutOfTime:
        status, message = "time_limit", f"time_limit={time_limit:g} s reached (in a line search)"
    except _StepTooSmall:
        status, message = "failed", "line search failed (step below 1e-30)"
    clock = stop_clock(clock)
    if W is None:  # Ctrl-C inside parse_init: the start point, set up again (one forward pass)
        W, b, *_ = parse_init(prob, weights_only(init), seed)
    return make_result(
        prob,
        "prox_gradient",
        W,
        b,
        clock,
        status=status,
        message=message,
        nit=k,
        history=history,
        n_backtracks=n_backtracks,
    )

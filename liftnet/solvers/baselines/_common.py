"""What every baseline shares: argument checks, the trainer's clock, and the result.

The baselines solve the original problem (P) of MODEL.md section 3,

    min_W  Phi(W) = (1/N) ||W_L V_{L-1}(W) - Y^T||_F^2 + lam R(W),

and return the project's one result type, :class:`~liftnet.solvers.result.LiftedResult`, with
the lifted point filled in by the forward pass (``V = prob.lift(W, b)``, MODEL.md 4, fact 1) and
no multipliers (``M1 = M2 = None``, ``kkt = None``). Reusing the ALM's type means the harness,
the warm starts (``init=result``) and the ``sparsity`` property treat every solver alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..._validation import check_problem, check_scalar, check_seed
from .._interrupt import INTERRUPTS, interrupted
from ..clock import PausableClock
from ..init import _check_init_keys
from ..result import LiftedResult

#: Groups with ``||W_l[g]|| <= SMALL_GROUP`` count as "numerically zero" in the reports.
SMALL_GROUP = 1e-6


def stop_clock(clock: PausableClock | None) -> PausableClock:
    """The trainer's clock, paused for good; ``None`` (a Ctrl-C stopped the trainer in its
    set-up or warm-up, before its clock started) becomes a clock that reads 0."""
    clock = PausableClock(paused=True) if clock is None else clock
    clock.pause()
    return clock


def check_common(prob, time_limit, max_epochs, lr, seed):
    """Validate the arguments every baseline takes; returns them normalised."""
    check_problem(prob)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False, allow_none=True)
    max_epochs = check_scalar(max_epochs, "max_epochs", low=1, integer=True)
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    seed = check_seed(seed, allow_none=True)
    return time_limit, max_epochs, lr, seed


def weights_only(init):
    """The part of a warm start ``init`` that the baselines use: ``{"W": ..., "b": ...}``.

    The baselines work on (P), whose only variables are ``W`` and ``b``; the lifted ``V`` and
    the multipliers ``M1, M2`` of a result are ignored (as documented), so that a result on
    another sample set (a subset, the ALM's presolve: ``V`` is ``(n_l, N')``) or a mapping
    with ``M1`` only is a valid warm start. ``W`` and ``b`` still go through
    :func:`liftnet.solvers.init.parse_init`, whose errors name ``init['W']`` and ``init['b']``;
    anything but a mapping (``None``, or a wrong type that ``parse_init`` refuses) is passed on
    unchanged. Its keys are checked as :func:`liftnet.solve_alm` checks them: a misspelt one
    (``'B'``, ``'w'``, ``'W_1'``) is refused, not dropped (the baselines would otherwise start
    from zero biases instead of the ones given).
    """
    if isinstance(init, Mapping):
        _check_init_keys(init, "init")
        return {"W": init.get("W"), "b": init.get("b")}
    return init


def group_counts(prob, W) -> dict:
    """Exact-zero and below-:data:`SMALL_GROUP` group counts of ``W`` (MODEL.md section 2)."""
    pen = prob.penalty
    n = sum(pen.n_groups(Wl.shape) for Wl in W)
    n_zero = sum(int(np.sum(pen.zero_groups(Wl, 0.0))) for Wl in W)
    n_small = sum(int(np.sum(pen.zero_groups(Wl, SMALL_GROUP))) for Wl in W)
    return {
        "n_groups": n,
        "n_zero_groups": n_zero,
        "n_small_groups": n_small,
        "sparsity_small": n_small / n,
    }


def make_result(
    prob, solver, W, b, clock, *, status, message, nit, history, **extra
) -> LiftedResult:
    """The :class:`LiftedResult` of a baseline at ``(W, b)``.

    ``Phi`` and ``objective`` are both ``prob.Phi(W, b)`` (the single implementation of (P));
    ``V`` is the exact forward pass, so ``prob.F(W, b, V) = Phi`` for the complementarity
    coupling; ``time`` is ``clock.elapsed``, the trainer's
    :class:`~liftnet.solvers.clock.PausableClock` (paused by the caller; warm-up and objective
    evaluations excluded), ``time_excluded`` its ``paused_total``: what the clock was paused
    for while it ran (the objective evaluations made to report). The warm-up runs before the
    clock starts and is in neither (a process's first torch optimiser imports more of torch:
    about 1 s in a fresh process), so ``time + time_excluded`` can be below the call's wall
    time.

    A Ctrl-C while the result is assembled (``Phi`` and the lift are two forward passes over
    all ``N`` samples) assembles it again with status ``interrupted``, so that Ctrl-C at the
    end of a run still returns its point; a second Ctrl-C reaches the caller.
    """
    try:
        return _assemble(prob, solver, W, b, clock, status=status, message=message, nit=nit,
                         history=history, **extra)
    except INTERRUPTS as exc:
        status, message = interrupted(exc), "interrupted (KeyboardInterrupt)"
    return _assemble(prob, solver, W, b, clock, status=status, message=message, nit=nit,
                     history=history, **extra)


def _assemble(prob, solver, W, b, clock, *, status, message, nit, history, **extra):
    """The body of :func:`make_result`."""
    W = [np.array(Wl, dtype=prob.dtype, copy=True) for Wl in W]
    b = None if b is None else [np.array(x, dtype=prob.dtype, copy=True) for x in b]
    Phi = prob.Phi(W, b)
    return LiftedResult(
        solver=solver,
        W=W,
        b=b,
        V=prob.lift(W, b),
        M1=None,
        M2=None,
        status=status,
        message=message,
        success=status == "converged",
        kkt=None,
        objective=Phi,
        Phi=Phi,
        nit=nit,
        history=history,
        time=clock.elapsed,
        time_excluded=clock.paused_total,
        groups=prob.groups,
        lam=prob.lam,
        dtype=str(prob.dtype),
        **group_counts(prob, W),
        **extra,
    )

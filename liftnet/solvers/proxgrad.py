"""Nonmonotone proximal gradient with block Barzilai-Borwein steps (the inner solver).

Minimises ``phi(x) + h(x)`` with ``phi`` smooth (possibly nonconvex) and ``h`` block-separable
with an exact prox. Each block ``i`` of ``x`` has its own step ``t_i`` (a diagonal metric), set by
the Barzilai-Borwein rule ``t_i = <s_i, s_i> / <s_i, y_i>`` and safeguarded by a nonmonotone
(Grippo-Lampariello-Lucidi) sufficient-decrease test on the composite value:

    phi(x+) + h(x+) <= max_{last m} (phi + h) - (sigma/2) sum_i ||x+_i - x_i||^2 / t_i.

An accepted step costs one value and one gradient evaluation, so the matrix products of an
iteration are exactly those of one forward and one backward pass (the floor): a trial step
that fails the test costs one more forward pass.

The caller supplies four callables, so the same code serves the ALM subproblem (MODEL.md
section 6, ``h = lam R``) and the multiplier estimate of the KKT check (``h`` = indicator of
``M >= 0``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_scalar
from ._interrupt import INTERRUPTS, interrupted


@dataclass
class InnerInfo:
    """How an inner solve ended."""

    # "converged", "max_iter", "time_limit", "interrupted", "diverged", "stalled", "unbounded",
    # "finished" (group_owlqn's finish)
    status: str
    nit: int
    residual: float
    value: float
    steps: np.ndarray
    n_backtracks: int = 0
    cache: object = field(default=None, repr=False)
    grad: np.ndarray | None = field(default=None, repr=False)


def prox_gradient_bb(
    value,
    gradient,
    prox,
    residual,
    x0: np.ndarray,
    blocks: list[slice],
    *,
    tol: float,
    max_iter: int,
    steps0: np.ndarray | None = None,
    memory: int = 5,
    sigma: float = 1e-4,
    step_min: float = 1e-12,
    step_max: float = 1e12,
    deadline: float | Callable[[], float | None] | None = None,
    state: tuple | None = None,
    floor: float = -np.inf,
) -> tuple[np.ndarray, InnerInfo]:
    """Run the method from ``x0`` until ``residual <= tol``.

    Parameters
    ----------
    value : callable ``x -> (phi(x) + h(x), cache)``
    gradient : callable ``(x, cache) -> grad phi(x)`` (flat, like ``x``)
    prox : callable ``(y, steps) -> None``: in place, the prox of ``t_i h_i`` on every block
    residual : callable ``(x, grad, cache) -> float``: ``dist(0, grad phi(x) + dh(x))``
    x0 : array (n,)
        Start; not modified.
    blocks : list of slices
        The blocks of ``x``, covering it; each has its own step.
    tol : float
        Stop when the residual is at most ``tol``.
    max_iter : int
    steps0 : array (n_blocks,), optional
        Initial steps (e.g. the last ones of a previous solve).
    memory : int
        How many of the last accepted values the nonmonotone test takes the maximum of (>= 1).
    sigma : float
        The sufficient-decrease constant of that test (> 0).
    step_min, step_max : float
        Bounds of the Barzilai-Borwein steps (``0 < step_min <= step_max``); the solve stops
        with ``stalled`` when a line search has shrunk every step to ``step_min``.
    deadline : float or callable, optional
        ``time.monotonic()`` value after which the solve stops with ``time_limit``, or a
        function that returns it (or ``None``) when asked (:func:`past`).
    state : tuple ``(value, cache, grad)`` at ``x0``, optional
        Reuse an evaluation the caller already has.
    floor : float
        A value below which the problem is declared unbounded (status ``unbounded``): the
        solve stops at the first step that would go below it, and returns the point before it.

    Returns
    -------
    x : array (n,)
        The last accepted iterate (never a rejected trial point).
    info : InnerInfo
    """
    # (an internal routine whose callers check what they pass; called directly, a bad argument
    # failed deep inside: memory=0 in max() of an empty deque, a text deadline in past())
    tol = check_scalar(tol, "tol", low=0)
    max_iter = check_scalar(max_iter, "max_iter", low=0, integer=True)
    memory = check_scalar(memory, "memory", low=1, integer=True)
    sigma = check_scalar(sigma, "sigma", low=0, low_inclusive=False)
    step_min = check_scalar(step_min, "step_min", low=0, low_inclusive=False)
    step_max = check_scalar(step_max, "step_max", low=step_min)
    if deadline is not None and not callable(deadline):
        deadline = check_scalar(deadline, "deadline")
    if steps0 is not None:
        steps0 = np.asarray(steps0, dtype=float)
        if steps0.shape != (len(blocks),) or not np.all(np.isfinite(steps0) & (steps0 > 0)):
            raise ValueError(f"steps0 must hold one positive finite step per block "
                             f"({len(blocks)}), got shape {steps0.shape}")
    x = x0.copy()
    if state is None:
        v, cache = value(x)
        g = gradient(x, cache)
    else:
        v, cache, g = state
    if not np.isfinite(v):
        return x, InnerInfo("diverged", 0, np.inf, v, np.ones(len(blocks)), cache=cache, grad=g)
    steps = np.ones(len(blocks)) if steps0 is None else np.array(steps0, dtype=float)
    if steps0 is None:
        for i, blk in enumerate(blocks):
            gn = np.sqrt(np.vdot(g[blk], g[blk]))
            steps[i] = 1e-2 / gn if gn > 0 else 1.0
    r = residual(x, g, cache)
    recent = deque([v], maxlen=memory)
    y = np.empty_like(x)
    n_bt = 0
    status = "max_iter"
    k = 0
    try:
        while True:
            stop = stop_reason(r, tol, k, max_iter, deadline)
            if stop:
                status = stop
                break
            vref = max(recent)
            while True:  # backtracking on all steps at once
                for i, blk in enumerate(blocks):
                    np.multiply(g[blk], -float(steps[i]), out=y[blk])
                    y[blk] += x[blk]
                prox(y, steps)
                dec = 0.0
                for i, blk in enumerate(blocks):
                    d = y[blk] - x[blk]
                    dec += np.vdot(d, d) / steps[i]
                vy, cy = value(y)
                if np.isfinite(vy) and vy <= vref - 0.5 * sigma * dec:
                    break
                n_bt += 1
                steps *= 0.25
                if np.all(steps <= step_min) or dec == 0.0:
                    status = "stalled" if np.isfinite(vy) else "diverged"
                    raise _Stop
                if past(deadline):
                    # as group_owlqn's line search: up to ~40 trials from step 1 to step_min,
                    # each a forward pass; x stays the last accepted iterate
                    status = "time_limit"
                    raise _Stop
            if vy < floor:
                # the trial point is dropped, as group_owlqn drops it: the returned x keeps its
                # own value, gradient, residual and cache (until 2026-12-06 x and v were the
                # trial's, the rest the previous iterate's)
                status = "unbounded"
                raise _Stop
            gy = gradient(y, cy)
            if not np.all(np.isfinite(gy)):
                status = "diverged"
                raise _Stop
            # Barzilai-Borwein per block, from s = y - x and the gradient change.
            for i, blk in enumerate(blocks):
                s = y[blk] - x[blk]
                ss = np.vdot(s, s)
                if ss == 0.0:
                    continue
                sy = np.vdot(s, gy[blk] - g[blk])
                steps[i] = ss / sy if sy > 0 else 4.0 * steps[i]
            np.clip(steps, step_min, step_max, out=steps)
            x, y = y, x
            v, cache, g = vy, cy, gy
            recent.append(v)
            r = residual(x, g, cache)
            k += 1
    except _Stop:
        pass
    except INTERRUPTS as exc:
        status = interrupted(exc)
    return x, InnerInfo(status, k, r, v, steps, n_bt, cache=cache, grad=g)


def past(deadline) -> bool:
    """Whether ``time.monotonic()`` is past ``deadline``: a number, ``None`` (never), or a
    function that returns one of these when asked (a deadline that moves: :func:`solve_alm`'s
    clock is paused while its callbacks run)."""
    if callable(deadline):
        deadline = deadline()
    return deadline is not None and time.monotonic() > deadline


def stop_reason(r: float, tol: float, k: int, max_iter: int, deadline) -> str:
    """Why an inner solver stops before iteration ``k`` (``""``: go on; ``deadline`` as
    :func:`past` takes it)."""
    if r <= tol:
        return "converged"
    if k >= max_iter:
        return "max_iter"
    if past(deadline):
        return "time_limit"
    return ""


class _Stop(Exception):
    pass

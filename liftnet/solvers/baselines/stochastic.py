"""Stochastic baselines on (P) in PyTorch: SGD, Adam, proximal SGD, proximal Adam.

All four minimise ``Phi(W) = (1/N)||W_L V_{L-1}(W) - Y^T||^2 + lam R(W)`` (MODEL.md 3) from
minibatches drawn without replacement each epoch:

* ``sgd``, ``adam``: the group penalty is a plain (sub)gradient term in the minibatch
  objective (common practice): groups shrink but almost never become exactly zero;
* ``prox_sgd``, ``prox_adam``: the optimiser steps on the data fit only, then every ``W_l``
  goes through the exact group prox (MODEL.md 2): exact zeros. Proximal SGD uses
  ``prox_{lr lam R}``. Adam's step on coordinate ``i`` is a gradient step of length
  ``lr / d_i`` with ``d_i = sqrt(v^_i) + eps``; the prox in that diagonal metric has no closed
  form for groups, so each group ``g`` gets the scalar step ``t_g = lr / mean_{i in g} d_i``
  and the exact prox of ``t_g lam ||.||``. (With the bare ``lr`` the threshold ``lr lam`` is far
  below Adam's normalised step and groups never stay at zero.)

Timing (fair against the ALM): the clock starts after one warm-up step on throw-away copies,
and is paused while ``Phi`` is evaluated (``prob.Phi``, the project's single implementation) at
the checkpoints. The returned point is the checkpoint with the smallest ``Phi``.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ..._validation import check_scalar, stop_requested
from .._interrupt import INTERRUPTS, interrupted, sigint_deferred
from ..clock import PausableClock
from ..init import check_start_Phi, parse_init
from . import _torch
from ._common import check_common, make_result, stop_clock, weights_only

_DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3}


def _make_optimiser(method, params, lr, momentum, betas):
    if method == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    return torch.optim.Adam(params, lr=lr, betas=betas)


def _train(
    prob,
    method,
    proximal,
    *,
    lr,
    batch_size,
    seed,
    time_limit,
    max_epochs,
    init,
    eval_every,
    momentum,
    betas,
    callback,
):
    time_limit, max_epochs, lr, seed = check_common(prob, time_limit, max_epochs, lr, seed)
    batch_size = check_scalar(batch_size, "batch_size", low=1, integer=True)
    eval_every = check_scalar(eval_every, "eval_every", low=0, low_inclusive=False)
    momentum = check_scalar(momentum, "momentum", low=0, high=1, high_inclusive=False)
    if method == "adam":
        # (a numpy pair too, as hidden and lams take arrays)
        pair = isinstance(betas, (tuple, list)) or (isinstance(betas, np.ndarray)
                                                    and betas.ndim == 1)
        if not pair or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        betas = tuple(check_scalar(v, f"betas[{i}]", low=0, high=1, high_inclusive=False)
                      for i, v in enumerate(betas))
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    name = ("prox_" if proximal else "") + method
    N, B = prob.N, min(batch_size, prob.N)
    steps_per_epoch = -(-N // B)
    eval_steps = max(1, round(eval_every * steps_per_epoch))
    lam, groups, alpha = prob.lam, prob.groups, prob.alpha

    # Everything after the argument checks runs under the Ctrl-C handler, the set-up and the
    # warm-up included (the first optimiser of a process imports more of torch, 1.4 s
    # measured): W0, b0 and clock are None until the set-up reaches them.
    W0 = b0 = clock = None
    history, best = [], {"Phi": np.inf}
    n_steps = 0
    # A step writes Wt in place (opt.step(), then the prox of each layer): a Ctrl-C landing in
    # between leaves a point that is no iterate (a half-done optimiser update, or a step that
    # skipped the prox). `torn` is True exactly while that can be so: set before the first
    # write, cleared after the step is counted (n_steps += 1 first: a Ctrl-C between the two
    # only makes us skip a complete point, never score a torn one or mislabel it). After a
    # Ctrl-C with `torn` set, the last step's point is not evaluated and the best checkpoint is
    # returned. This costs two assignments per step; keeping the last complete iterate (a copy
    # of every weight per step, to restore) would save the progress since the last checkpoint
    # only for a Ctrl-C in that short window (the forward/backward pass, most of a step,
    # leaves Wt intact).
    torn = False

    def _prox_step(opt, Wl):
        """Step of the group prox: ``lr`` (SGD) or ``lr / mean_g(sqrt(v^) + eps)`` (Adam)."""
        if method == "sgd":
            return lr
        st, grp = opt.state[Wl], opt.param_groups[0]
        b2, eps = grp["betas"][1], grp["eps"]
        d = torch.sqrt(st["exp_avg_sq"] / (1.0 - b2 ** float(st["step"]))) + eps
        axis = _torch.AXIS[groups]
        return lr / (d if axis is None else d.mean(dim=axis))

    def gradient(Ws, bs, opt, idx):
        """The minibatch gradient into ``.grad`` (the weights are not written)."""
        opt.zero_grad(set_to_none=True)
        out = _torch.forward_output(Ws, bs, Xt[idx].T, alpha)
        obj = _torch.loss(out, Yt[idx].T)
        if not proximal and lam > 0:
            obj = obj + _torch.penalty_value(Ws, lam, groups)
        obj.backward()

    def update(Ws, opt):
        """The optimiser's step, then the group prox: writes the weights in place."""
        opt.step()
        if proximal and lam > 0:
            for Wl in Ws:
                _torch.group_prox_(Wl.data, lam * _prox_step(opt, Wl), groups)

    def evaluate():
        clock.pause()
        Wn = [w.detach().numpy() for w in Wt]
        bn = None if bt is None else [x.detach().numpy() for x in bt]
        # a Phi that overflows is reported (refused at the start, ValueError naming init['W'];
        # divergence after it): no warnings, and no FloatingPointError under a caller's
        # np.errstate(all="raise"), as in prox_gradient
        with np.errstate(over="ignore", invalid="ignore"):
            phi = prob.Phi(Wn, bn)
        if n_steps == 0:
            phi = check_start_Phi(prob, phi)
        rec = {
            "epoch": n_steps / steps_per_epoch,
            "step": n_steps,
            "time": clock.elapsed,
            "Phi": phi,
        }
        # the best point first (its copies, then one dict update), the record after: a Ctrl-C
        # in between leaves the history without this checkpoint, which the final evaluation
        # then records (its step is not the last record's). The other way round, a Ctrl-C
        # before the copies returned a point worse than a checkpoint of the history (Phi
        # 1.4527 returned, 1.1002 recorded; scratch)
        if np.isfinite(phi) and phi < best["Phi"]:
            best.update(
                Phi=phi, W=[w.copy() for w in Wn], b=None if bn is None else [x.copy() for x in bn]
            )
        history.append(rec)
        stop = callback is not None and stop_requested(callback(rec))
        clock.resume()
        return phi, stop

    status, message = "max_iter", f"reached max_epochs={max_epochs}"
    try:
        W0, b0, *_ = parse_init(prob, weights_only(init), seed)
        Wt = [torch.tensor(Wl, requires_grad=True) for Wl in W0]
        bt = None if b0 is None else [torch.tensor(x, requires_grad=True) for x in b0]
        params = Wt + ([] if bt is None else bt)
        Xt, Yt = torch.from_numpy(prob.X), torch.from_numpy(prob.Y)
        rng = np.random.default_rng(seed)
        # Warm-up (not timed): one step on copies, so first-call costs stay off the clock.
        # Ctrl-C is held back until it ends: the first optimiser of a process imports
        # torch._dynamo and sympy (about 1.4 s), and a KeyboardInterrupt inside that import left
        # them half-initialised, so that every later sgd/adam in the process failed with an
        # AttributeError (audit of session 43)
        with sigint_deferred():
            Wc = [w.detach().clone().requires_grad_(True) for w in Wt]
            bc = None if bt is None else [x.detach().clone().requires_grad_(True) for x in bt]
            opt_c = _make_optimiser(method, Wc + (bc or []), lr, momentum, betas)
            gradient(Wc, bc, opt_c, torch.arange(B))
            update(Wc, opt_c)
        opt = _make_optimiser(method, params, lr, momentum, betas)
        clock = PausableClock()
        _, done = evaluate()
        if done:
            status, message = "interrupted", "stopped by callback"
        for _epoch in range(0 if done else max_epochs):
            perm = rng.permutation(N)
            for s in range(0, N, B):
                gradient(Wt, bt, opt, torch.from_numpy(perm[s : s + B]))
                torn = True
                update(Wt, opt)
                n_steps += 1
                torn = False
                if n_steps % eval_steps == 0:
                    phi, stop = evaluate()
                    if not np.isfinite(phi):
                        status, message, done = "diverged", "Phi became NaN or inf", True
                    elif stop:
                        status, message, done = "interrupted", "stopped by callback", True
                if not done and time_limit is not None and clock.elapsed > time_limit:
                    status, message = "time_limit", f"time_limit={time_limit:g} s reached"
                    done = True
                if done:
                    break
            if done:
                break
    except INTERRUPTS as exc:
        status, message = interrupted(exc), "interrupted (KeyboardInterrupt)"
    try:
        # the point of the last step is a candidate too (the trainer ran: the clock exists),
        # when it is a complete step (not `torn` by a Ctrl-C)
        if clock is not None and not torn and (not history or history[-1]["step"] != n_steps):
            phi, _ = evaluate()
            if not np.isfinite(phi) and status in ("max_iter", "time_limit"):
                status, message = "diverged", "Phi became NaN or inf"
    except INTERRUPTS as exc:
        status, message = interrupted(exc), "interrupted (KeyboardInterrupt)"
    clock = stop_clock(clock)
    if "W" not in best:  # no finite checkpoint (or Ctrl-C before the first): the start
        if W0 is None:  # Ctrl-C inside parse_init: the start point, set up again
            W0, b0, *_ = parse_init(prob, weights_only(init), seed)
        best.update(W=W0, b=b0)
    return make_result(
        prob,
        name,
        best["W"],
        best["b"],
        clock,
        status=status,
        message=message,
        nit=n_steps // steps_per_epoch,
        history=history,
        n_steps=n_steps,
        lr=lr,
        batch_size=B,
    )


_DOC = """{title} on (P) (MODEL.md 3), {how}.

    Parameters
    ----------
    prob : LiftedProblem
        Data, network widths, ``alpha``, ``lam``, groups and ``dtype`` (float64 or float32;
        the torch tensors use the same type).
    lr : float > 0
        Step size.
    batch_size : int >= 1
        Minibatch size (clipped to ``N``); batches are drawn without replacement each epoch.
    seed : int or None
        Seeds the start ``prob.initial_weights(seed)`` and the batch order.
    time_limit : float or None
        Seconds of the trainer's clock (warm-up and ``Phi`` evaluations excluded).
    max_epochs : int >= 1
        Passes over the data.
    init : None, LiftedResult or mapping
        Warm start (see :func:`liftnet.solvers.init.parse_init`): its ``W`` and ``b``; ``V``,
        ``M1``, ``M2`` are ignored (a result on other samples will do). A start whose ``Phi``
        is not finite raises ``ValueError``.
    eval_every : float > 0
        Epochs between ``Phi`` checkpoints (history, best iterate, divergence test).
    {extra}
    callback : callable or None
        ``callback(record)`` at each checkpoint; returning True stops (status ``interrupted``).

    Returns
    -------
    LiftedResult
        ``W, b`` (the checkpoint with the smallest ``Phi``), ``V = prob.lift(W, b)``,
        ``M1 = M2 = kkt = None``, ``Phi = objective = prob.Phi(W, b)``, ``history`` (records
        ``epoch, step, time, Phi``), ``time`` (trainer clock), ``time_excluded``, ``nit``
        (epochs), ``n_steps``, ``n_groups``, ``n_zero_groups``, ``n_small_groups``
        (``<= 1e-6``), ``status`` in ``max_iter, time_limit, interrupted, diverged``.
        ``diverged`` when a checkpoint's ``Phi`` (the last step's included) is NaN or inf.
        Ctrl-C returns the best checkpoint (the point of the last complete step is one; a
        Ctrl-C while a step writes the weights, in the optimiser's update or the prox, leaves
        no complete point there, and the checkpoints before it are the candidates) with status
        ``interrupted``; from the set-up on, before any step, that is the start point, with
        ``time`` 0 when it lands before the trainer's clock started.
{examples}    """

# The Examples section of each trainer's docstring (``{examples}`` of _DOC): 50 epochs on a
# student wider than its teacher (8 hidden units against 3).
_EXAMPLE = """
    Examples
    --------
    Fifty epochs of minibatches of 25 from ``prob.initial_weights(0)``: ``Phi`` decreases
    from the start's (``history[0]``), and {zeros}.

    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> from liftnet.solvers.baselines import {name}
    >>> X, Y, _, _ = make_teacher(100, (5, 3, 2), alpha=0.1, noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(8,), alpha=0.1, lam=0.1)
    >>> res = {name}(prob, lr=0.05, batch_size=25, max_epochs=50, seed=0)
    >>> res.status, res.nit, res.n_steps, [w.shape for w in res.W]
    ('max_iter', 50, 200, [(8, 5), (2, 8)])
    >>> bool(res.Phi < res.history[0]["Phi"]), res.n_zero_groups {test}
    (True, True)
"""
_ZEROS = {
    False: ("the subgradient term leaves every group nonzero (no exact zeros)", "== 0"),
    True: ("the prox sets whole columns of ``W_l`` (groups) to exact zeros", "> 0"),
}


def _example(method, proximal) -> str:
    """The Examples section of the trainer ``[prox_]method``."""
    zeros, test = _ZEROS[proximal]
    return _EXAMPLE.format(name=("prox_" if proximal else "") + method, zeros=zeros, test=test)


_SGD_EXTRA = "momentum : float in [0, 1)\n        Heavy-ball momentum of ``torch.optim.SGD``."
_ADAM_EXTRA = "betas : (float, float)\n        Adam's averaging constants."


# The optimiser-specific keyword of each family, with its default and docstring entry.
_OPTIMISER_OPTION = {
    "sgd": ("momentum", 0.0, _SGD_EXTRA),
    "adam": ("betas", (0.9, 0.999), _ADAM_EXTRA),
}


def _make_trainer(method, proximal, title, how):
    """The public trainer ``[prox_]method``: the signature ``(prob, lr, batch_size, seed,
    time_limit, max_epochs, init, *, eval_every, <option>, callback)`` with ``<option>`` the
    family's keyword (``momentum`` for SGD, ``betas`` for Adam), calling :func:`_train`."""
    name = ("prox_" if proximal else "") + method
    option, default, extra = _OPTIMISER_OPTION[method]

    def trainer(
        prob,
        lr=_DEFAULT_LR[method],
        batch_size=64,
        seed=0,
        time_limit=None,
        max_epochs=100,
        init=None,
        *,
        eval_every=1.0,
        callback=None,
        **kwargs,
    ):
        unexpected = [k for k in kwargs if k != option]
        if unexpected:
            raise TypeError(f"{name}() got an unexpected keyword argument {unexpected[0]!r}")
        value = kwargs.get(option, default)
        return _train(
            prob,
            method,
            proximal,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            time_limit=time_limit,
            max_epochs=max_epochs,
            init=init,
            eval_every=eval_every,
            momentum=value if option == "momentum" else 0.0,
            betas=value if option == "betas" else None,
            callback=callback,
        )

    sig = inspect.signature(trainer)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params.insert(-1, inspect.Parameter(option, inspect.Parameter.KEYWORD_ONLY, default=default))
    trainer.__signature__ = sig.replace(parameters=params)
    trainer.__name__ = trainer.__qualname__ = name
    trainer.__doc__ = _DOC.format(title=title, extra=extra, how=how,
                                  examples=_example(method, proximal))
    return trainer


sgd = _make_trainer(
    "sgd", False, "Minibatch SGD", "group penalty as a plain subgradient term (no exact zeros)"
)
adam = _make_trainer(
    "adam", False, "Adam", "group penalty as a plain subgradient term (no exact zeros)"
)
prox_sgd = _make_trainer(
    "sgd", True, "Proximal SGD", "exact group prox after each step (exact zeros)"
)
prox_adam = _make_trainer(
    "adam", True, "Proximal Adam",
    "exact group prox after each step, group g's step t_g = lr / mean_g(sqrt(v^) + eps) "
    "(exact zeros)",
)

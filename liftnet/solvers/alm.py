"""Inexact augmented Lagrangian method for the lifted model (M), MODEL.md section 6.

    L_rho(z, M) = F(z) + (1/(2 rho)) sum ( ||max(0, M + rho g(z))||^2 - ||M||^2 )

Outer iteration ``k``:

1. ``z_{k+1}``: an ``eps_k``-stationary point of ``L_rho_k(., M_k)``, by group orthant-wise
   L-BFGS (:mod:`.quasi_newton`) in the branch coordinates ``V_l = C_l U_l + S_l``
   (:class:`_BranchSubproblem`, docs/maths.md 6.2), or by the nonmonotone block
   Barzilai-Borwein proximal gradient (:mod:`.proxgrad`) in ``(W, b, V)``; both give exact
   group zeros; with ``polish_weights`` (the default), after a long solve
   (``POLISH_MIN_INNER`` iterations) the weights ``(W, b)`` alone, ``V`` fixed, a convex
   problem per layer (:func:`_polish_weights`, docs/maths.md 6.4); and every
   ``FINISH_EVERY`` inner iterations, where the iterate is near ``tol`` already, the same
   polish of a copy of it, whose point ends step 1 when it certifies ``tol`` itself (the run
   then converges there: :class:`_Finish`, docs/maths.md 6.5);
2. ``M_{k+1} = max(0, M_k + rho_k g(z_{k+1}))`` (safeguarded by ``M_max``);
3. if the violation ``||min(-g(z_{k+1}), M_k / rho_k)||_inf`` did not fall by the factor ``tau``
   and is still above ``tol`` and (unless step 1 reached ``tol``) above
   ``penalty_margin(kappa)`` times the inner residual reached in step 1 (``PENALTY_MARGIN``
   for ``kappa <= 1/6``, lower above), ``rho_{k+1} = min(gamma rho_k, rho_max)``
   (docs/maths.md 6.1);
4. ``eps_{k+1} = min(eps_k, max(theta eps_k, kappa viol_k, tol))`` (docs/maths.md 6.1): not
   far below the violation; stop when the KKT residual (MODEL.md section 5,
   :func:`liftnet.kkt_residuals`) is ``<= tol``.

The gradient of ``L_rho`` is that of ``f + <M^, g>`` with ``M^ = max(0, M + rho g)``, so at the
end of step 1 the stationarity part of the KKT residual at ``(z_{k+1}, M_{k+1})`` is exactly the
inner residual: the subproblem's stopping test and the certificate measure the same thing
(after a weight polish, its point's: the polish lowers the ``W`` part).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping

import numpy as np

from .._validation import (
    COMPILED_INT_MAX,
    check_bool,
    check_choice,
    check_problem,
    check_scalar,
    check_seed,
    stop_requested,
)
from ..formulation.entrywise import augmented_value, shifted
from ..io import STATE_KEYS
from ..pruning import unit_masks
from ..verification.kkt import initial_multipliers, kkt_residuals, stationarity_parts
from . import kernels, owlqn_compiled
from ._interrupt import INTERRUPTS, interrupted, sigint_deferred, stop_if_interrupted
from .clock import PausableClock, notice_if_slow
from .init import parse_init
from .proxgrad import prox_gradient_bb
from .quasi_newton import CompactLBFGS, group_owlqn, warm_up_large
from .result import LiftedResult
from .threads import blas_threads, limit_blas

#: step 3's guard: while the subproblem's residual is above ``tol``, the penalty grows only for a
#: violation above this multiple of that residual, lowered for ``kappa > 1/6``
#: (docs/maths.md 6.1; :func:`penalty_margin` is the multiple used)
PENALTY_MARGIN = 3.0
#: how far below ``-||M||^2/(2 rho)`` a subproblem's value may fall, in units of
#: ``|F(z_k)| + 1``, before the solve is declared unbounded (step 1's floor; docs/maths.md 6.2,
#: "Choice: unbounded subproblems", has what 3 and 1 did)
UNBOUNDED_SLACK = 10.0

class _Cache(tuple):
    """``(W, V, U)`` of one evaluation of ``L_rho``; ``owned``: those of its arrays that the
    subproblem made (``U``, and ``V`` in branch coordinates; not the views into the variable),
    the ones :meth:`_Subproblem.release` may reuse."""

    def __new__(cls, W, V, U, owned=()):
        self = super().__new__(cls, (W, V, U))
        self.owned = list(owned)
        return self


class _Subproblem:
    """``L_rho(., M)`` of one outer iteration as the callables of :func:`prox_gradient_bb`."""

    def __init__(self, prob):
        self.prob = prob
        self.layout = prob.layout
        self.blocks = [blk.slice for blk in prob.layout.blocks]
        self.W_blocks = [(i, blk) for i, blk in enumerate(prob.layout.blocks) if blk.kind == "W"]
        #: the ``W`` blocks come first in the layout: ``z[:n_nonsmooth]`` carries the group norm
        self.n_nonsmooth = sum(blk.size for _, blk in self.W_blocks)
        #: the groups of all ``W`` blocks as one vector: the group work of an inner iteration
        #: is a few whole-vector calls, not a dozen per layer
        self.groups = prob.penalty.flat([blk.shape for _, blk in self.W_blocks])
        self.M1 = self.M2 = None
        self.rho = 1.0
        # the kernels' "not given" bias and branch slopes, and the D_l of gradient (lazily)
        self._no_b, self._no_C = kernels.not_given(prob.dtype, 1), kernels.not_given(prob.dtype, 2)
        self._D = None
        #: arrays of evaluations handed back by :meth:`release`, by shape, for reuse (of the
        #: dtype asked for: a subproblem's evaluations all have its dtype)
        self._pool: dict = {}

    def set(self, M1, M2, rho):
        self.M1, self.M2, self.rho = M1, M2, rho
        self.M_sq = sum(float(np.vdot(m, m)) for m in (*M1, *M2))
        #: ``(Phi, W, b)``: the network of the solve's checkpoints with the smallest ``Phi``
        self.best_net = None

    @property
    def value_scale(self):
        """The size of the value's terms that cancel, ``||M||^2 / (2 rho)`` of
        ``(||max(0, M + rho g)||^2 - ||M||^2) / (2 rho)``: the scale of its rounding
        (:func:`.quasi_newton.value_noise`)."""
        return self.M_sq / (2.0 * self.rho)

    def checkpoint(self, z, cache=None):
        """Keep the network ``(W, b)`` of ``z`` if its ``Phi`` (MODEL.md 3, the exact forward
        pass) is the smallest of this subproblem's checkpoints (:func:`.group_owlqn` calls this
        at iterations 1, 2, 3, 5, 8, ...: one forward pass each, a few dozen per solve). An
        unbounded solve restarts from the best of them (:func:`solve_alm`)."""
        W, b, _ = self.layout.unpack(z)
        phi = self.prob.Phi(W, b)
        if np.isfinite(phi) and (self.best_net is None or phi < self.best_net[0]):
            self.best_net = (phi, [w.copy() for w in W],
                             None if b is None else [c.copy() for c in b])

    def value(self, z):
        W, b, V = self.layout.unpack(z)
        return self.evaluate(W, b, V, z[:self.n_nonsmooth])

    def evaluate(self, W, b, VS, w, C=None):
        """``L_rho(., M)`` by one forward pass, and the cache ``(W, V, U)`` of the gradient.
        ``w`` is ``W`` as one vector (the packed variable's prefix), for the group norms.

        ``VS`` is ``V`` (the model's coordinates), or ``S`` with the branch slopes ``C``
        (``V_l = C_l U_l + S_l``, docs/maths.md 6.2). Per hidden layer, the entrywise work
        (bias, ``V_l``, the coupling and the penalty sums) is one compiled pass
        (:func:`.kernels.layer_value`).
        """
        prob, rho = self.prob, self.rho
        no_b, no_C = self._no_b, self._no_C
        Vprev, U, V = prob.V0, [], []
        pi = pen = 0.0
        for l in range(prob.L - 1):
            Ul = np.matmul(W[l], Vprev, out=self._array((W[l].shape[0], prob.N), Vprev.dtype))
            Vl = VS[l] if C is None else self._array(Ul.shape, Ul.dtype)
            p, q = kernels.layer_value(
                Ul, no_b if b is None else b[l], VS[l], no_C if C is None else C[l],
                self.M1[l], self.M2[l], Vl, prob.alpha, rho, prob.coupling.kind)
            pi += p
            pen += q
            U.append(Ul)
            V.append(Vl)
            Vprev = Vl
        UL = prob.affine(W[-1], None if b is None else b[-1], Vprev,
                         out=self._array((W[-1].shape[0], prob.N), Vprev.dtype))
        U.append(UL)
        val = augmented_value(prob.loss(UL), pi, pen, self.M_sq, self.groups.value(w),
                              prob.beta, prob.N, rho)
        return val, _Cache(W, V, U, owned=U if C is None else U + V)

    def gradient(self, z, cache, C=None):
        """Gradient of the smooth part of ``L_rho(., M)`` (all but ``lam R(W)``, which
        :meth:`pseudo_gradient` and :meth:`prox` take care of) at the point of ``cache`` (in
        ``S`` with slopes ``C``):
        the backward pass of :meth:`LiftedProblem.backprop_into` with the shifted multipliers
        ``Mh = max(0, M + rho g)``; per hidden layer one compiled pass
        (:func:`.kernels.layer_gradient`) forms ``gV_l`` and ``D_l``."""
        prob, rho = self.prob, self.rho
        W, V, U = cache
        D = self._work_space(V)
        no_C = self._no_C
        c = prob.beta / prob.N

        def fields(l, gV):
            kernels.layer_gradient(U[l], V[l], no_C if C is None else C[l], self.M1[l],
                                   self.M2[l], gV, D[l], prob.alpha, rho, c, prob.coupling.kind)
            return D[l]

        out = self._array((self.layout.size,), z.dtype)
        return prob.backprop_into(W, V, prob.loss_gradient(U[-1]), fields, out=out)

    def _array(self, shape, dtype):
        """An array for an evaluation: one handed back by :meth:`release`, or a new one."""
        free = self._pool.get(shape)
        if free and free[-1].dtype == dtype:
            return free.pop()
        return np.empty(shape, dtype=dtype)

    def release(self, cache, g=None):
        """Hand back the arrays of an evaluation (its ``cache`` and gradient ``g``) that no one
        holds any more: the next evaluations write into them instead of new ones (fresh arrays
        of this size cost their page faults). At most one evaluation's worth is kept per shape
        (an evaluation takes no more; more would only raise the peak memory). Only the arrays
        this subproblem made are taken (``cache.owned`` and ``g``). Measured at the
        MNIST-shaped N = 60000 (benchmarks/bench_alm.py, separate runs): 606, 625 and 652 ms
        per inner iteration with the reuse, 703, 752 and 752 ms without; peak memory 3.69-3.70
        GiB against 3.40-3.53 (one more evaluation's arrays kept)."""
        arrays = getattr(cache, "owned", [])
        if g is not None:
            arrays = [*arrays, g]
        counts: dict = {}  # one evaluation's worth: its arrays of each shape (one dtype)
        for a in arrays:
            counts[a.shape] = counts.get(a.shape, 0) + 1
        for a in arrays:
            free = self._pool.setdefault(a.shape, [])
            if len(free) < counts[a.shape]:
                free.append(a)

    def _work_space(self, like):
        """Arrays shaped like ``V`` for the ``D_l`` of :meth:`gradient`, kept between calls."""
        if self._D is None or self._D[0].dtype != like[0].dtype:
            self._D = [np.empty_like(a) for a in like]
        return self._D

    def constraint_state(self, cache):
        """``g1, g2`` and the shifted multipliers ``Mh = max(0, M + rho g)`` at the point of
        ``cache`` (the multiplier update of MODEL.md 6, step 2, and the violation of step 3)."""
        _, V, U = cache
        g1, g2 = self.prob.constraints(U[:-1], V)
        return (g1, g2, [shifted(m, g, self.rho) for m, g in zip(self.M1, g1)],
                [shifted(m, g, self.rho) for m, g in zip(self.M2, g2)])

    def prox(self, y, steps):
        pen = self.prob.penalty
        for i, blk in self.W_blocks:
            Wv = y[blk.slice].reshape(blk.shape)
            pen.prox(Wv, steps[i], out=Wv)

    # ---- group OWL-QN interface (solvers/quasi_newton.py)
    def pseudo_gradient(self, z, g, cache, out=None):
        """``g`` with its ``W`` part replaced by the subdifferential residual (in ``out`` when
        given: at the MNIST-shaped N = 60000 a fresh vector of 2.3e7 entries cost about 59 ms
        per inner iteration with its page faults, a copy into a kept one 12 ms, measured)."""
        nw = self.n_nonsmooth
        if out is None:
            pg = g.copy()
        else:
            pg = out
            np.copyto(pg[nw:], g[nw:])
        self.groups.subdiff_residual(z[:nw], g[:nw], out=pg[:nw])
        return pg

    def residual_from_pg(self, pg):
        """The stationarity residual (MODEL.md 5): the largest group norm of the ``W`` part and
        the largest entry of the rest in absolute value."""
        nw = self.n_nonsmooth
        r = self.groups.max_norm(pg[:nw]) if nw else 0.0
        rest = pg[nw:]
        if rest.size:
            r = max(r, float(rest.max()), -float(rest.min()))  # max |rest|, no temporary
            # (numpy's reductions are vectorised; a compiled loop with the NaN test is not:
            # 10% slower per inner iteration on the digits, 65,000 entries)
        return r

    def orthant_project(self, z, ref):
        """Zero (in place) the ``W`` groups of ``z`` with ``<z[g], ref[g]> <= 0``."""
        self.groups.keep_aligned(z[:self.n_nonsmooth], ref)

    def group_is_zero(self, z):
        """Over ``z[:n_nonsmooth]`` (the ``W`` blocks, first in the layout): True on the
        entries of zero groups."""
        w = z[:self.n_nonsmooth]
        return self.groups.zero_entries(w)

    def residual(self, z, g, cache):
        W, gb_, gV_ = self.layout.unpack(g)
        Wz = cache[0]
        return max(stationarity_parts(self.prob, Wz, W, gb_, gV_))


class _BranchSubproblem:
    """The same ``L_rho(., M)`` in the branch coordinates ``x = (W, b, S)`` (docs/maths.md 6.2).

    ``V_l = C_l * U_l + S_l`` with ``C_l = sigma'(U_l)`` frozen at the start of the outer
    iteration. The map ``(W, b, S) -> (W, b, V)`` is smooth with a unit-triangular Jacobian, so
    stationary points correspond one to one; but the penalty's stiff directions (``rho`` times
    the square of the active gap) become coordinate directions ``S``, which the block-diagonal
    scaling of the quasi-Newton method sees. The stopping test is certified in the model's own
    coordinates (:meth:`certify`), so the inner tolerance means what MODEL.md 6 says.
    """

    def __init__(self, sub: _Subproblem, z: np.ndarray):
        self.sub = sub
        self.prob = sub.prob
        self.layout = sub.layout
        self.blocks = sub.blocks
        W, b, V = self.layout.unpack(z)
        U = self.prob.pre_activations(W, b, V)
        self.C = [self.prob.sigma_slope(U[l]) for l in range(self.prob.L - 1)]
        #: ``z`` in branch coordinates: ``S_l = V_l - C_l U_l``
        self.x0 = self.layout.pack(W, b, [V[l] - self.C[l] * U[l] for l in range(len(V))],
                                   dtype=z.dtype)

    def to_z(self, x, cache):
        """``z = (W, b, V)`` of ``x``, with ``V`` from the ``cache`` of :meth:`value` at ``x``
        (``W`` and ``b`` are shared by both coordinate systems)."""
        z = x.copy()
        for blk, Vl in zip(self.layout.of_kind("V"), cache[1]):
            z[blk.slice] = Vl.ravel()
        return z

    def value(self, x):
        W, b, S = self.layout.unpack(x)
        return self.sub.evaluate(W, b, S, x[:self.sub.n_nonsmooth], self.C)

    def gradient(self, x, cache):
        return self.sub.gradient(x, cache, self.C)

    def certify(self, x, g, cache):
        """The residual of the same point in the coordinates ``(W, b, V)`` of MODEL.md 5: the
        model's gradient from the same ``cache``; its group part reads only ``W``, which ``x``
        shares with ``z``."""
        gz = self.sub.gradient(x, cache)
        return self.sub.residual_from_pg(self.sub.pseudo_gradient(x, gz, cache))

    def __getattr__(self, name):
        # the nonsmooth part lives on W, which both coordinate systems share
        if name in ("pseudo_gradient", "residual_from_pg", "orthant_project", "group_is_zero",
                    "n_nonsmooth", "constraint_state", "release", "checkpoint",
                    "value_scale"):
            return getattr(self.sub, name)
        raise AttributeError(name)


#: The weight polish after a long inner solve (docs/maths.md 6.4): solves of at least
#: ``POLISH_MIN_INNER`` iterations are followed by the weights alone, for at most
#: ``POLISH_SHARE`` of the solve's iterations, to ``POLISH_TOL`` times its tolerance
POLISH_MIN_INNER, POLISH_SHARE, POLISH_TOL = 2000, 0.1, 0.1
#: the inner statuses after which the weights are polished (a solve that reached its point)
_POLISHED = ("converged", "max_iter", "stalled")


class _WeightsOnly:
    """``L_rho(., M)`` of :class:`_Subproblem` over ``(W, b)`` alone, ``V`` held fixed: its
    gradient with the ``V`` part zero, so that group OWL-QN never moves ``V`` (its
    quasi-Newton pairs have no ``V`` part either). For fixed ``V`` every term of ``L_rho`` is
    convex in each ``U_l = W_l V_{l-1} + b_l 1^T`` (the coupling's ``alpha u^2`` and the
    penalty's ``max(0, m + rho g)^2`` with ``g`` affine in ``u``; docs/maths.md 6.4), so this is
    a convex problem per layer, in a few hundred variables where ``V`` has ``N`` times more."""

    def __init__(self, sub: _Subproblem):
        self.sub = sub
        # the V blocks come last in the layout (W, then b, then V)
        self.n_free = sum(blk.size for blk in sub.layout.blocks if blk.kind != "V")

    def gradient(self, z, cache):
        g = self.sub.gradient(z, cache)
        g[self.n_free:] = 0
        return g

    def __getattr__(self, name):
        # no certify (the model's coordinates) and no checkpoint (the networks an unbounded
        # solve restarts from are the subproblem's own)
        if name in ("certify", "checkpoint"):
            raise AttributeError(name)
        return getattr(self.sub, name)


def _polish_weights(sub, z, info, eps, lbfgs, **solve_kw):
    """``(z, info, n)`` after the weight polish of an inner solve that ended at ``z`` with
    ``info``: group OWL-QN over :class:`_WeightsOnly` from ``z``, ``n`` its iterations. Its point
    is taken when its value is no larger (``info`` then has its ``cache`` and ``value``);
    either way ``info`` takes the polish's status when a time limit or Ctrl-C stopped it; the
    solve's ``steps`` and ``residual`` stay (the polish's are of the weights alone)."""
    n_max = max(1, int(np.ceil(POLISH_SHARE * info.nit)))
    zp, ip = group_owlqn(_WeightsOnly(sub), z, tol=POLISH_TOL * eps, max_iter=n_max,
                         lbfgs=lbfgs, **solve_kw)
    # a time limit or Ctrl-C that stopped the polish ends the run as it would the solve's
    status = ip.status if ip.status in ("time_limit", "interrupted") else info.status
    if ip.status in ("unbounded", "diverged") or not ip.value <= info.value:
        sub.release(ip.cache)
        return z, dataclasses.replace(info, status=status), ip.nit
    sub.release(info.cache)
    return zp, dataclasses.replace(info, cache=ip.cache, value=ip.value, status=status), ip.nit


#: The test an inner solve asks every :data:`.quasi_newton.FINISH_EVERY` iterations
#: (docs/maths.md 6.5): taken where the working residual is within ``FINISH_RATIO`` times the
#: run's ``tol``, and its weight polish (at most ``FINISH_MAX_INNER`` iterations) where the
#: parts of the certificate that the polish barely moves (the ``V`` part of the
#: stationarity, the feasibility, the complementarity) are within ``tol`` already; after a
#: polish that does not certify, none for ``FINISH_BACKOFF`` times its iterations (its cost
#: at most about a tenth of the solve's). Its pairs have storage of their own, of at most
#: ``FINISH_BYTES`` (none where even two pairs need more: no test then).
FINISH_RATIO, FINISH_MAX_INNER, FINISH_BACKOFF, FINISH_BYTES = 10.0, 100, 10, 2**27


class _Finish:
    """``finish`` of :func:`.group_owlqn` in the ALM's inner solves: whether the weight
    polish of docs/maths.md 6.4, run on a copy of the solve's iterate, reaches a point that
    :func:`~liftnet.verification.kkt.kkt_residuals` certifies within the run's ``tol`` (with
    the multipliers the ALM would take there). If so the solve ends (status ``finished``)
    and the ALM takes that point (:attr:`found`), with which the run converges; if not the
    solve goes on from its own iterate, untouched (the polish works on a copy, with a
    subproblem and pairs of its own). So a run that never meets ``tol`` takes the same path
    as without the test, a little later."""

    def __init__(self, prob, memory, tol, certify, M_max, deadline):
        self.tol, self.certify, self.M_max, self.deadline = tol, certify, M_max, deadline
        self.sub = _Subproblem(prob)  # (the solve's own holds its evaluations)
        self.n_free = _WeightsOnly(self.sub).n_free
        self.memory = memory
        self.lbfgs = None  # allocated at the first polish
        itemsize = np.dtype(prob.dtype).itemsize
        self.usable = 2 * 2 * prob.layout.size * itemsize <= FINISH_BYTES
        # the current solve's: the point found, the polishes' iterations, the next test's k
        self.found, self.n_polish, self.next_k = None, 0, 0

    def start(self, M1, M2, rho, to_z):
        """A new inner solve: its multipliers, ``rho``, and ``to_z(x, cache)``, its iterate
        in the model's coordinates."""
        self.sub.set(M1, M2, rho)
        self.to_z = to_z
        self.found, self.n_polish, self.next_k = None, 0, 0

    def __call__(self, k, x, g, cache, r):
        if not self.usable or k < self.next_k or r > FINISH_RATIO * self.tol:
            return False
        sub, tol = self.sub, self.tol
        gz = sub.gradient(x, cache)  # the model's coordinates (the certificate's)
        v_part = np.max(np.abs(gz[self.n_free:]), initial=0.0)
        sub.release(None, gz)
        if v_part > tol:
            return False
        g1, g2, Mh1, Mh2 = sub.constraint_state(cache)
        for gl, Ml in zip((*g1, *g2), (*Mh1, *Mh2)):
            if np.max(gl, initial=0.0) > tol or np.max(np.abs(Ml * gl), initial=0.0) > tol:
                return False
        if self.lbfgs is None:
            self.lbfgs = CompactLBFGS.sized(x, self.memory, FINISH_BYTES, blocks=sub.blocks,
                                            direct=sub.n_nonsmooth)
        z = self.to_z(x, cache)
        zp, ip = group_owlqn(_WeightsOnly(sub), z, tol=POLISH_TOL * tol,
                             max_iter=FINISH_MAX_INNER, deadline=self.deadline,
                             lbfgs=self.lbfgs)
        self.n_polish += ip.nit
        if ip.status == "interrupted":  # a Ctrl-C in the polish: the solve's own
            raise KeyboardInterrupt
        if ip.status not in ("unbounded", "diverged", "time_limit"):
            _, _, Mh1, Mh2 = sub.constraint_state(ip.cache)
            rep = self.certify(zp, _capped(Mh1, self.M_max), _capped(Mh2, self.M_max))
            if rep["residual"] <= tol:
                self.found = (zp, ip, rep)
                return True
        sub.release(ip.cache)
        self.next_k = k + FINISH_BACKOFF * ip.nit
        return False


def _restart_point(prob, best_net, phi_k):
    """``(z, M1, M2)`` to restart from after an unbounded solve, or ``None`` to keep ``z_k``
    (whose network has ``Phi = phi_k``).

    ``best_net = (Phi, W, b)`` is the best network of the failed solve's checkpoints
    (:meth:`_Subproblem.checkpoint`). A solve that ends unbounded has usually first made
    progress (on the MNIST-shaped data of ``benchmarks/compare.py``, ``Phi`` fell from 5.97 to
    2.65 in 46 evaluations before the iterate ran off); when that network beats ``z_k``'s,
    the restart takes its exact lift ``V_l = sigma(U_l)`` (MODEL.md 4, fact 1: feasible, and
    ``F = Phi`` there for the complementarity coupling) with the start multipliers of
    :func:`~liftnet.verification.kkt.initial_multipliers`, instead of throwing the solve away.
    """
    if best_net is None or not best_net[0] < phi_k:
        return None
    _, W, b = best_net
    V = prob.lift(W, b)
    M1, M2 = initial_multipliers(prob, W, b, V)
    return prob.layout.pack(W, b, V, dtype=prob.dtype), M1, M2


def _screen_dead_units(prob, z, M1, M2, previous=None):
    """Set the hidden units that the network does not use to their exact KKT values, in place.

    A hidden unit ``j`` of layer ``l`` is dead when :func:`liftnet.pruning.unit_masks` drops it
    (its outgoing column of ``W_{l+1}`` is zero on the kept units, or its incoming row and bias
    are zero) at ``z`` and, when ``previous`` (the masks of the last outer iterate) is given,
    there too: a group zeroed by one inexact subproblem may open again in the next one while
    ``V_l[j]`` is still moving, and screening it at once was measured to lose such units. Its
    variables are then set to ``W_l[j, :] = 0``, ``b_l[j] = 0``,
    ``W_{l+1}[:, j] = 0``, ``V_l[j, :] = 0`` and its multipliers ``M1_l[j, :] = M2_l[j, :] = 0``.
    At such a unit ``U_l[j] = V_l[j] = 0``, so ``g1 = g2 = 0`` and both couplings have zero
    partials: every gradient of MODEL.md 5 on these variables is zero, the group terms add zero
    (``W_l[j, :] = 0``) or hold (a zero group with a zero gradient), and the unit's part of
    the KKT residual is exactly zero. The unit cannot come back: the gradient of its outgoing
    column is ``D_{l+1} V_l[j, :]^T = 0``, and since every partial on its variables is exactly
    zero, so are the quasi-Newton pairs' components there and the inner solver's directions.

    Without this the unit's incoming weights decay only under the pull ``lam W / ||W[g]||`` of
    the regulariser, a curvature far below ``rho``. Measured on the 24 teacher instances of
    ``tests/solvers/test_alm.py`` (N = 20, 30; seeds 0-2; both couplings, with and without
    bias; 20 s each): all but one reach ``1e-6`` either way, at the same ``Phi``, with median
    time 2.1 s instead of 2.95 s. Screening after one outer iteration instead of two gave
    1.3 s, but on the ``3-4-4-2`` teacher of ``benchmarks/bench_ipopt.py`` it kept a unit dead
    that the solve without screening revives, ending at a 60% larger ``Phi``.

    Returns
    -------
    masks : list of arrays
        :func:`~liftnet.pruning.unit_masks` at ``z`` (the ``previous`` of the next call).
    """
    W, b, V = prob.layout.unpack(z)
    masks = unit_masks(W, b)
    alive = masks if previous is None else [m | p for m, p in zip(masks, previous)]
    for l in range(1, prob.L):  # the dead units of hidden layer l
        dead = ~alive[l]
        W[l - 1][dead, :] = 0.0  # incoming rows of W_l
        W[l][:, dead] = 0.0  # outgoing columns of W_{l+1}
        if b is not None:
            b[l - 1][dead] = 0.0
        for A in (V, M1, M2):
            A[l - 1][dead, :] = 0.0
    return masks


#: the dtypes in which this process has certified a point (its kernels are loaded)
_CERTIFIED_DTYPES: set = set()
#: the dtypes of this process's :func:`warm_up` calls (done, or under way)
_WARM_DTYPES: set = set()


#: seconds after which a :func:`warm_up` still running tells its ``notice`` (loading numba's
#: cache takes well under a second; compiling, about a minute)
NOTICE_AFTER = 2.0
#: what it tells
COMPILE_NOTICE = ("liftnet: compiling the solver's kernels in {dtype} (numba; once after an "
                  "install or a change of liftnet's code: about a minute on 2 cores, cached "
                  "for later runs) ...")


def _say_now(line: str) -> None:
    """``solve_alm(verbose=True)``'s word on a long warm-up (printed as its table is)."""
    print(line, flush=True)


def is_warm(dtype) -> bool:
    """Whether this process has called :func:`warm_up` for ``dtype`` (done, or under way)."""
    return np.dtype(dtype) in _WARM_DTYPES


def warm_up(dtype=np.float64, notice=None) -> None:
    """Compile, or load from numba's disk cache, every compiled kernel :func:`solve_alm` runs in
    ``dtype`` (a small solve with bias, then the kernels' parallel drivers and the L-BFGS algebra
    of large memories), so that a timed run does not pay it. ``notice``: None, or a callable
    that is called once with a line of text (:data:`COMPILE_NOTICE`) if the warm-up still runs
    after :data:`NOTICE_AFTER` seconds, that is, when it compiles (``solve_alm(verbose=True)``
    and the CLI pass one: a first solve after an install or a change of liftnet's code is
    otherwise a minute of silence). With numba's disk cache empty
    (``NUMBA_CACHE_DIR=$(mktemp -d) python -c "import numpy as np; from liftnet.solvers.alm
    import warm_up; warm_up(np.float64)"``; the 2-core AMD EPYC, 2026-12-07) it took 62 s,
    ``warm_up(np.float32)`` after it 18 s (compiling; ``scripts/setup.sh`` pays both once); in
    a new process with the cache filled, 0.58 s (loading it). The benchmarks and the comparison
    harness call it before their timed runs.

    A Ctrl-C raises KeyboardInterrupt (its small solve, which returns ``interrupted`` for one,
    passes it on): there is nothing to return yet, and the caller's solve is not to start.
    It is held back until the warm-up ends (:func:`._interrupt.sigint_deferred`): a Ctrl-C
    inside numba's compile is swallowed by llvmlite's object-cache callback, after which
    numba failed with ``RuntimeError: no compiled object yet`` (a traceback where the caller
    expects status ``interrupted``), or was lost and the solve ran on (audit of session 43,
    a cold numba cache, SIGINT 7.7-8.0 s into a first solve)."""
    from ..formulation.problem import LiftedProblem

    if notice is not None and not callable(notice):
        raise TypeError(f"notice must be None or a callable taking one str, got {notice!r}")
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((6, 2)), rng.standard_normal((6, 1)), hidden=(2,),
                         lam=1e-2, bias=True, dtype=dtype)
    # marked first: its own small solve is not to warm up again (solve_alm warms up first)
    marked = prob.dtype not in _WARM_DTYPES
    _WARM_DTYPES.add(prob.dtype)
    with (sigint_deferred(),  # (a Ctrl-C here is raised when the compiles are done)
          notice_if_slow(notice, COMPILE_NOTICE.format(dtype=prob.dtype), NOTICE_AFTER)):
        try:
            # the solve twice: the compiled group OWL-QN of small problems (owlqn_compiled:
            # float64, one BLAS thread), then the Python loop and its kernels (larger
            # problems, more threads, an inner_callback at every iteration)
            for compiled in (True, False):
                owlqn_compiled.ENABLED, enabled = compiled, owlqn_compiled.ENABLED
                try:
                    stop_if_interrupted(solve_alm(prob, tol=1e-12, max_iter=2, max_inner=5,
                                                  presolve=None))
                finally:
                    owlqn_compiled.ENABLED = enabled
            kernels.warm_up_parallel(prob.dtype)
            warm_up_large(prob.dtype)
        except BaseException:
            if marked:  # not warm after all: the next solve tries again
                _WARM_DTYPES.discard(prob.dtype)
            raise


def penalty_margin(kappa: float) -> float:
    """The margin of step 3's guard for the tolerance rule's ``kappa``: ``PENALTY_MARGIN``,
    lowered so that ``margin * kappa <= 1/2``, but never below 1 (so for ``kappa > 1/2`` the
    product is ``kappa``). A subproblem solved to ``eps_k >= kappa viol`` (step 4) ends near
    ``kappa viol``; with ``margin kappa < 1`` its residual cannot hold the penalty against a
    violation that stalls, which ``kappa >= 1`` no longer ensures."""
    if kappa <= 0:
        return PENALTY_MARGIN
    return max(1.0, min(PENALTY_MARGIN, 0.5 / kappa))


def default_rho0(prob) -> float:
    """The default initial penalty ``rho_0 = 10 beta / N`` of :func:`solve_alm`."""
    return 10.0 * prob.beta / prob.N


def _capped(Mh, M_max):
    """The multipliers the ALM takes from the shifted ones ``Mh = max(0, M + rho g)``:
    ``min(Mh, M_max)`` per layer (MODEL.md 6, step 2, safeguarded)."""
    return [np.minimum(m, M_max) for m in Mh]


def _check_multiplier_cap(M1, M2, M_max):
    """Refuse given multipliers above ``M_max`` (``ValueError`` naming ``init['M1']`` or
    ``init['M2']``)."""
    for name, M in (("M1", M1), ("M2", M2)):
        top = max((float(m.max()) for m in M if m.size), default=0.0) if M else 0.0
        if top > M_max:
            # the update caps every multiplier at M_max (MODEL.md 6, step 2): one above
            # it is no multiplier this run can hold (a start at 1e100 ran its 200 outer
            # iterations to a KKT residual of 1e7)
            raise ValueError(f"init[{name!r}] has entries up to {top:g}, above "
                             f"M_max = {M_max:g}: pass a larger M_max or other multipliers")


def _finite(*arrs) -> bool:
    return all(np.all(np.isfinite(a)) for group in arrs for a in group)


def solve_alm(
    prob,
    tol: float = 1e-6,
    seed=0,
    time_limit: float | None = None,
    init=None,
    verbose: bool = False,
    *,
    max_iter: int = 200,
    max_inner: int = 5000,
    rho0: float | None = None,
    gamma: float = 5.0,
    tau: float = 0.5,
    theta: float = 0.3,
    eps0: float | None = None,
    kappa: float = 0.1,
    rho_max: float = 1e12,
    M_max: float = 1e10,
    inner: str = "owlqn",
    patience: int | None = None,
    memory: int = 5,
    callback=None,
    presolve="auto",
    presolve_share: float = 0.4,
    inner_callback=None,
    inner_callback_every: float | None = None,
    polish_weights: bool = True,
    threads="auto",
) -> LiftedResult:
    """Solve the lifted model (M) to an ``tol``-KKT point by the inexact ALM (MODEL.md 6).

    Parameters
    ----------
    prob : LiftedProblem
    tol : float > 0
        Target KKT residual (MODEL.md section 5, infinity norm). In float32 (``prob.dtype``)
        the gradient's own rounding limits what can be certified (``LiftedProblem``).
    seed : int or None
        Seed of the random initial weights (not used for them when ``init`` is given) and of
        the presolve's sample draw (``presolve``), with or without ``init``.
    time_limit : float or None
        Seconds on the clock of ``time`` (wall time less what ``time_excluded`` leaves out); on
        expiry the best iterate so far (the outer iterate of smallest KKT residual, which need
        not be the one of smallest ``Phi``: see Returns) is returned with status
        ``time_limit``. The process's first
        time-limited solve in ``prob.dtype`` first loads the compiled kernels (:func:`warm_up`:
        0.6 s from numba's disk cache, about a minute for a compile, which ``verbose`` announces),
        off that clock. The limit is first looked at once the start is set up and certified (its
        lift, multipliers and KKT residual: passes over all ``N`` samples, after the presolve when
        one runs, which gets its share of the limit): a limit shorter than that returns the start,
        late by the set-up (``benchmarks/bench_time_limits.py`` measures it per entry point).
    init : None, LiftedResult or mapping
        Warm start (``W`` and optionally ``b, V, M1, M2``); see
        :func:`liftnet.solvers.init.parse_init`. Without both ``M1`` and ``M2`` the start's
        multipliers are the backward guess
        (:func:`liftnet.verification.multipliers.initial_multipliers`), as for the random start.
        A result of this function (or a mapping with ``rho`` and ``eps``, as
        :func:`liftnet.io.load_result` returns one) also carries the penalty and inner
        tolerance it stopped with, and the run goes on with them where
        ``rho0`` and ``eps0`` are not given (not after a presolve, which sets its own
        schedule: ``presolve``): a run cut at ``max_iter`` continues instead of
        restarting the schedule at ``rho_0`` (a restart at the default ``rho_0`` from a
        point at KKT 6.3e-4 climbed to 1.3e-1 and took as many outer iterations as a cold
        start).
    verbose : bool
        Print one line per outer iteration (per record of ``history``, the unbounded solves'
        and the last one of a run cut by ``time_limit`` included).
    max_iter : int
        Outer iterations.
    max_inner : int
        Inner iterations per outer iteration. A solve cut here goes on from its most
        stationary iterate, and the next one runs in the other coordinates (docs/maths.md
        6.2). Shorter solves (a cap of 1000 that doubles at each cut) reached KKT residuals
        ``1e-3`` and ``1e-4`` sooner on the 8-16-16-4 teachers of
        ``benchmarks/bench_ipopt.py`` but cost the digits their convergence (docs/maths.md
        6.1, "Measured, not built"), so the default is long.
    rho0 : float or None
        Initial penalty ``rho_0``; default ``10 beta / N`` (the objective and the multipliers
        are ``O(1/N)``: this balances the penalty against them for every ``N``; measured on the
        teacher instances of ``tests/solvers/test_alm.py``, 100/N and 1000/N were slower).
    gamma, tau : float
        Penalty growth factor and the violation decrease it asks for (MODEL.md 6, step 3).
        ``rho`` grows only when the violation also exceeds ``tol`` and, while the inner solve
        ends above ``tol``, ``PENALTY_MARGIN`` (3) times the residual it reached: a violation
        not clearly above what the subproblem achieves needs no stiffer subproblem
        (docs/maths.md 6.1; measured there; the margin is lowered for ``kappa > 1/6``,
        :func:`penalty_margin`).
    theta, eps0 : float (``eps0`` None: ``1e-2``, or the ``eps`` ``init`` carries)
        Inner tolerance schedule ``eps_0 = max(eps0, tol)``, then step 4's
        ``eps_{k+1} = min(eps_k, max(theta eps_k, kappa viol_k, tol))``.
        Measured, not the default: ``eps0 = 5e-2`` (the default for part of 2026-12-03,
        docs/maths.md 6.1) took the 8-16-16-4 teachers of ``benchmarks/bench_ipopt.py`` to
        ``1e-3`` in a median 1.02, 0.62, 1.65 s instead of 1.59, 2.58, 3.09 s (N = 200, 400,
        800, seeds 0-2, ``benchmarks/sweep.py wide ... --param eps0=0.05``) and the digits at
        ``lam`` 1e-2 to convergence in 3.5-5.1 s instead of 7.1-9.2 s, but the README's
        quickstart problem (``beta = 3``) stalled: seed 0 converged in 55.1 s instead of 2.4 s,
        seed 1 ended at 2.3e-5 after 30 s instead of converging in 1.6 s.
    kappa : float >= 0
        ... but no smaller than ``kappa`` times the violation of step 3 (nor larger than
        ``eps_k``): ``eps_{k+1} = min(eps_k, max(theta eps_k, kappa viol_k, tol))``. The KKT
        residual is the largest of stationarity and violation, so stationarity far below the
        violation buys nothing yet costs the longest inner solves. ``0`` gives the plain
        schedule. Measured against ``0`` (``benchmarks/sweep.py``, one sweep after the other,
        at 501d2a0): ``teacher24`` 7.4 -> 4.8 s in total, ``quick18`` 22.7 -> 12.2 s,
        ``compare3`` median 8.8 -> 6.9 s (all converged both ways), ``digits9`` geometric
        mean KKT after 20 s 6.7e-4 -> 3.1e-4 (weak: a time-limited family, the same code gave
        1.7e-4 in a later run), ``wide`` median KKT after 60 s 2.2e-5 -> 2.5e-5; ``1`` lost one
        of the ``compare3`` runs.
    rho_max, M_max : float
        Safeguards on the penalty and the multipliers. A first penalty above ``rho_max``
        (``rho0``, the default ``10 beta / N`` or ``init``'s ``rho``) and given multipliers
        above ``M_max`` are refused (``ValueError``).
    inner : {"owlqn", "proxgrad"}
        Subproblem solver: group orthant-wise L-BFGS (:mod:`.quasi_newton`, default) or the
        nonmonotone block Barzilai-Borwein proximal gradient (:mod:`.proxgrad`).
    patience : int or None
        (``inner="owlqn"`` only, as ``memory``: refused with ``"proxgrad"``.)
        Stop an inner solve when its smallest residual has not halved within
        ``patience`` iterations, and go on with the multiplier update from its most stationary
        iterate. ``None`` (default): only ``max_inner`` bounds a solve. Measured against
        ``None`` (commit notes of issue 2): 1000 was 8% faster on the 24 teacher instances of
        ``tests/solvers/test_alm.py`` and 10% faster on 18 instances like the README's
        quickstart, but ended the 8-16-16-4 teacher of ``benchmarks/bench_ipopt.py`` (N = 400,
        60 s) at KKT residual 3.9e-4 instead of 1.2e-4; 300 left 8 of the 18 unconverged.
    memory : int >= 2
        L-BFGS pairs of the inner solver (``inner="owlqn"``), capped at 512 MiB of pairs.
        Measured against 10 (commit notes of issue 2): the 24 teacher instances of
        ``tests/solvers/test_alm.py`` 9.9 -> 6.3 s in total, 18 quickstart-like instances
        23.4 -> 17.5 s, the digits (hidden 32-16, 30 s) KKT residual 8.4e-3 -> 1.4e-3 at
        ``lam = 1e-3`` and 1.7e-3 -> 8.9e-4 at ``1e-2``; the 8-16-16-4 teacher of
        ``benchmarks/bench_ipopt.py`` (N = 400, 60 s) 4.3e-5 -> 9.7e-5 and its ``--quick``
        3-4-4-2 teacher (N = 20) 2.2 -> 6.9 s (worse: the stiff instances). An iteration's
        memory traffic is proportional to it (:class:`.quasi_newton.CompactLBFGS`).
    callback : callable or None
        ``callback(record)`` after each outer iteration with its history record (every
        record, as ``verbose``); returning ``True`` stops the run (status ``interrupted``,
        message ``stopped by callback``; ``converged`` when the record's point meets ``tol``).
        The callbacks' own seconds are off the solver's clock (``time``, ``time_limit``;
        counted in ``time_excluded``), as the baselines' callbacks' are.
    presolve : "auto", float in (0, 1) or None
        Start from a solve on a random fraction of the samples (docs/maths.md 6.3): the same
        model on ``ceil(presolve N)`` samples (drawn with ``seed``), solved by this function
        to ``max(tol, 1e-4)`` within ``presolve_share`` of ``time_limit``, from ``init``'s
        weights (its ``V`` and multipliers, checked as always, are not used) or the random
        start; then the full problem from the lift of its network,
        with ``rho_0`` its final ``rho`` times ``n / N`` (unless ``rho0`` is given).
        ``"auto"`` (default): ``1/16`` when ``N >= 2000`` and no ``init`` is given, else off
        (measured on the teacher and MNIST-shaped data of ``benchmarks/compare.py`` at
        N = 1000 to 20000, docs/maths.md 6.3: no gain at 1000). ``None``: off. A fraction
        that leaves fewer than 10 samples is refused (a presolve on one sample left a dead
        network, which the full solve then certified).
    presolve_share : float in (0, 1)
        The presolve's share of ``time_limit``.
    inner_callback : callable or None
        ``inner_callback(record)`` after every accepted inner iteration (``inner="owlqn"``; not
        during the presolve), for watching a subproblem's solve or tracing the KKT residual
        along the whole path (``benchmarks/bench_ipopt.py`` does, as it traces IPOPT's
        iterates through :func:`liftnet.solve_ipopt`'s ``callback``). ``record``: ``k`` (the
        outer iteration in progress, from 1), ``iteration`` (the inner one, from 1), ``time``
        (seconds since the start), ``inner_residual`` (the inner solver's working residual,
        in its coordinates), ``rho``, and ``iterate``, a function that returns the current
        inner iterate as a dict of copies ``W, b, V, M1, M2`` with the multipliers the ALM
        would take there, ``min(max(0, M + rho g), M_max)`` (MODEL.md 6, step 2), for
        :func:`liftnet.kkt_residuals`; it returns ``None`` once the callback has returned.
        Returning True stops the run (status ``interrupted``, message ``stopped by
        callback``); the stopped subproblem then ends at its most stationary inner iterate,
        which becomes the last outer record, and the run returns, as always, the point of
        smallest KKT residual among its start and records: not necessarily ``iterate()``.
        Its seconds are off the clock, as ``callback``'s (a trace of KKT checks does not use up
        ``time_limit``).
    inner_callback_every : float > 0 or None
        With a number, ``inner_callback`` is called only when at least that many seconds
        have passed since its last call (wall time; the first call after the first
        iteration), with the iterate the inner solver then holds. ``None`` (default): after
        every inner iteration. A trace that samples the path in time needs no more, and it
        keeps the compiled inner loop of small float64 problems on one BLAS thread (as
        ``threads="auto"`` runs them; :mod:`liftnet.solvers.owlqn_compiled`), which calls
        back between its compiled
        stretches of iterations (about every 5 ms, or every ``inner_callback_every`` when that
        is shorter); a call per iteration needs the Python loop (0.32 against 0.17 ms per
        inner iteration on the 8-16-16-4 teacher at ``N = 400``, docs/benchmarks.md).
    polish_weights : bool
        After an inner solve of at least ``POLISH_MIN_INNER`` (2000) iterations, minimise
        ``L_rho`` over the weights and biases alone (``V`` fixed: a convex problem per layer),
        for at most a tenth of the solve's iterations, to a tenth of its tolerance
        (docs/maths.md 6.4; ``inner="owlqn"`` only). Its iterations count in ``n_inner`` and
        in the records' ``polish_iterations``, and ``inner_callback`` sees them. It also
        turns on the test that may end a solve near ``tol`` (docs/maths.md 6.5), which
        polishes copies of the iterate: their iterations count there too, and
        ``inner_callback`` does not see them. On by
        default since session 41 (docs/maths.md 6.4 has the tables): on the 8-16-16-4
        teacher of ``benchmarks/bench_ipopt.py`` (N = 200, 400, 800, seeds 0-2) it reaches
        the KKT residual ``1e-3`` in 54,073 inner iterations instead of 78,087 (median 1.32 s
        instead of 2.22 s), the ``beta = 3`` quickstart family in 163,852 instead of 168,656,
        and it leaves the families of short solves as they were (teacher24, quick18, the
        digits at ``lam`` 1e-2: within 0.5%). Single instances move both ways, some far (the
        pruning fit of the teaching notebook: 61 outer iterations instead of 12;
        docs/maths.md 6.4). ``False``, no weight polish of either kind, gives the runs of
        the versions before session 41.
    threads : "auto", None or int in [1, 2**31 - 1]
        The BLAS threads of the run (OpenBLAS, MKL: threadpoolctl), restored on return.
        ``"auto"`` (default): one thread when the products of a forward pass are small,
        ``N * sum(n_l n_{l-1})`` below ``liftnet.solvers.threads.SMALL_PRODUCTS`` (1e7: the
        digits, the teachers), else the pools as they are; ``None``: the pools as they are
        (the comparison harness sets the same threads for every method); an int: at most that
        many. Measured on 2 cores (:mod:`liftnet.solvers.threads`): on the digits one thread
        costs 6-11% of an inner iteration on a quiet machine and saves a factor 3-7 when other
        processes are busy (the demo: converged in 6.3 s instead of stopping at its 50 s
        limit). The thread count moves the products' rounding, so the path (not the
        certificate) can differ between settings. Whatever the setting, the compiled inner
        loop of small float64 problems runs its subproblems on one thread where the products
        are below ``SMALL_PRODUCTS`` (:func:`.owlqn_compiled.one_blas_thread`).

    Returns
    -------
    LiftedResult
        ``W, b, V, M1, M2, status, message, success, kkt, objective, Phi, nit, n_inner, history,
        time, time_excluded, rho, eps, tol, groups, n_restarts, presolve, start, solver="alm"``
        (``n_restarts``: the restarts after an unbounded subproblem; ``rho`` and ``eps``: the
        penalty and inner tolerance the next outer iteration would use, which a warm start
        from this result goes on with). ``time`` (and the
        history's times): seconds since the start, less ``time_excluded``, the seconds of the
        ``Phi`` evaluations made only to report (the history's, the presolve summary's, the
        result's) and of the callbacks, which the baselines' clocks leave out too, and of a
        kernel warm-up (``time_limit``); ``time_limit`` is on the same clock.
        ``status``: ``converged`` (KKT residual ``<= tol``),
        ``max_iter``, ``time_limit``, ``interrupted`` (Ctrl-C or callback), ``diverged``
        (NaN/overflow: the diverging iteration is not recorded, though its inner iterations
        count in ``n_inner``, and the returned point is finite, the best one as for the other
        statuses). Except for ``converged``, the returned point is the outer iterate with the
        smallest KKT residual. A Ctrl-C
        anywhere after the argument checks (the presolve and the set-up included) ends the
        run ``interrupted`` with that point, or before the start's certificate with the start
        (after a presolve, the lift of its network), certified. An outer iteration is recorded
        whole or not at all: a Ctrl-C between its subproblem and its record leaves ``nit``,
        ``n_inner``, ``rho``, ``eps`` and ``history`` as they were before it. A Ctrl-C while
        the result is made (its ``Phi``) makes it again, ``interrupted``; a second one there
        reaches the caller, as does one that breaks numba's first kernel load (no
        certificate can be formed). ``presolve``:
        ``None``, or ``n_samples``, ``status``, ``nit``, ``time`` of the presolve and ``Phi``
        of its network on the full data (the history's times count from the presolve's start).
        ``start``: ``time``, ``Phi`` (of its network) and KKT ``residual`` of the certified
        start, the first point of the returned point's choice (``None`` when the run was
        stopped before its certificate): the returned point is the first point of smallest
        residual among it and the history's records, or the last record when converged.

    Examples
    --------
    A 5-4-2 teacher network's noisy samples (``N = 60``), solved to a certified KKT point:

    >>> from liftnet import LiftedProblem, solve_alm
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(60, (5, 4, 2), noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4,), beta=5.0, lam=1e-2)
    >>> res = solve_alm(prob, tol=1e-6, seed=0)
    >>> res.status, bool(res.kkt["residual"] <= 1e-6)
    ('converged', True)
    >>> [w.shape for w in res.W], [v.shape for v in res.V]
    ([(4, 5), (2, 4)], [(4, 60)])

    ``res.sparsity`` is the fraction of groups (here columns of ``W_l``) that are exactly
    zero. ``res.objective`` is ``F`` at the lifted point ``(W, b, V)``, ``res.Phi`` the
    objective of (P) of its network ``(W, b)``: ``F`` at the network's own lift. They differ
    when ``V`` is not the network's forward pass (the lift gap, docs/maths.md 4):

    >>> 0.0 <= res.sparsity <= 1.0
    True
    >>> bool(abs(prob.F(res.W, res.b) - res.Phi) <= 1e-12)
    True

    A warm start from the result (its point, multipliers, ``rho`` and ``eps``), here at a
    smaller ``lam``; and a ``time_limit`` too short for a single outer iteration:

    >>> res2 = solve_alm(prob.with_lam(5e-3), init=res)
    >>> res2.status
    'converged'
    >>> solve_alm(prob, time_limit=1e-9).status
    'time_limit'
    """
    check_problem(prob)
    n_threads = blas_threads(prob, threads)
    if n_threads is not None:  # the same call under the limit (restored on return)
        call = {k: v for k, v in locals().items() if k != "n_threads"}
        with limit_blas(n_threads):
            return solve_alm(**{**call, "threads": None})
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    seed = check_seed(seed, allow_none=True)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    verbose = check_bool(verbose, "verbose")
    polish_weights = check_bool(polish_weights, "polish_weights")
    max_iter = check_scalar(max_iter, "max_iter", low=1, integer=True)
    patience = check_scalar(patience, "patience", low=1, high=COMPILED_INT_MAX, integer=True,
                            allow_none=True)
    memory = check_scalar(memory, "memory", low=2, integer=True)
    max_inner = check_scalar(max_inner, "max_inner", low=1, high=COMPILED_INT_MAX, integer=True)
    rho0 = check_scalar(rho0, "rho0", low=0, low_inclusive=False, allow_none=True)
    gamma = check_scalar(gamma, "gamma", low=1, low_inclusive=False)
    tau = check_scalar(tau, "tau", low=0, high=1, low_inclusive=False, high_inclusive=False)
    theta = check_scalar(theta, "theta", low=0, high=1, low_inclusive=False)
    eps0 = check_scalar(eps0, "eps0", low=0, low_inclusive=False, allow_none=True)
    kappa = check_scalar(kappa, "kappa", low=0)
    margin = penalty_margin(kappa)
    rho_max = check_scalar(rho_max, "rho_max", low=0, low_inclusive=False)
    M_max = check_scalar(M_max, "M_max", low=0, low_inclusive=False)
    inner = check_choice(inner, "inner", ("owlqn", "proxgrad"))
    for name, fn in (("callback", callback), ("inner_callback", inner_callback)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    if inner_callback is not None and inner != "owlqn":
        raise ValueError(f"inner_callback needs inner='owlqn', got inner={inner!r}")
    inner_callback_every = check_scalar(inner_callback_every, "inner_callback_every", low=0,
                                        low_inclusive=False, allow_none=True)
    if inner_callback_every is not None and inner_callback is None:
        raise ValueError("inner_callback_every needs an inner_callback (it says how often to "
                         "call it)")
    if inner != "owlqn" and (patience is not None or memory != 5):
        # (they were ignored without a word: the proximal gradient keeps no pairs and no
        # patience)
        given = "patience" if patience is not None else "memory"
        raise ValueError(f"{given} applies to inner='owlqn' only, got inner={inner!r}")

    presolve_share = check_scalar(presolve_share, "presolve_share", low=0, high=1,
                                  low_inclusive=False, high_inclusive=False)
    frac = _presolve_fraction(presolve, prob.N, init)
    # a result's penalty and inner tolerance (a presolve sets its own schedule instead)
    rho_c, eps_c = _carried_state(init) if frac is None else (None, None)
    # the first penalty: rho0, else the warm start's, else the default; one above the cap
    # would be lowered to it at the first increase (a penalty that falls where MODEL.md 6 has
    # it grow): refused, naming where it came from
    rho_first, rho_from = ((rho0, "rho0") if rho0 is not None
                           else (rho_c, "init['rho']") if rho_c is not None
                           else (default_rho0(prob), "the default rho0 = 10 beta / N"))
    if rho_first > rho_max:
        raise ValueError(f"{rho_from} = {rho_first:g} exceeds rho_max = {rho_max:g}: the "
                         f"penalty starts at most at its cap")
    if not rho_first > 0.0:  # (beta = 5e-324: 10 beta / N underflowed, ZeroDivisionError)
        raise ValueError(f"{rho_from} = {rho_first:g}: the penalty must be positive (pass "
                         f"rho0, or a larger beta)")
    if frac is not None and init is not None:
        # the presolve starts from init's network alone; init is checked whole all the same, as
        # it is without a presolve (a V or M1 of the wrong shape is refused, not dropped)
        W0, b0, _, M1g, M2g = parse_init(prob, init, seed)
        _check_multiplier_cap(M1g, M2g, M_max)
        init = {"W": W0, "b": b0}

    # The Phi evaluations made only to report (the history's, the presolve summary's, the
    # result's) are off the clock and so off the time limit, as the baselines' objective
    # evaluations are (liftnet.compare times both alike). The Phi of the checkpoints and of an
    # unbounded restart are the algorithm's and stay on it.
    # (made inside the Ctrl-C handler below: one landing here would otherwise escape it)
    clock = None

    def reported_Phi(W, b):
        """``prob.Phi(W, b)`` for a report, off the clock."""
        with clock.off():
            return prob.Phi(W, b)

    layout = prob.layout

    def set_up(init):
        """The start ``(z, M1, M2, unit_mask)`` from ``init`` (after a presolve, its network):
        the lift (unless ``init`` has ``V``), multipliers (unless it has both), packed."""
        W, b, V, M1, M2 = parse_init(prob, init, seed)
        _check_multiplier_cap(M1, M2, M_max)
        if init is None or init.get("M1") is None or init.get("M2") is None:
            # multipliers that make the V-stationarity exact at the start (one backward pass)
            with np.errstate(over="ignore", invalid="ignore"):
                M1, M2 = initial_multipliers(prob, W, b, V)
            if not _finite(M1, M2):  # (a random start cannot: its weights are of order one)
                raise ValueError("init['W'] is too large: the multipliers of its start "
                                 "overflow (the backward pass of these weights is not "
                                 "finite); scale the weights down")
        # the units alive at the last outer iterate (_screen_dead_units)
        return layout.pack(W, b, V, dtype=prob.dtype), M1, M2, unit_masks(W, b)

    # The run's state: the result is made of it, whatever point a Ctrl-C lands at (below).
    pre = None
    z = M1 = M2 = None  # the outer iterate z_k, M_k; None until the start is set up
    rho = rho_first
    eps = max(eps0 if eps0 is not None else eps_c if eps_c is not None else EPS0, tol)
    history = []
    best = None  # (residual, z, M1, M2, kkt)
    start = None  # result.start: time, Phi and residual of the certified start
    k = 0  # outer iterations, each with its record in history
    n_inner = 0
    n_unbounded = 0
    status, message = "max_iter", f"reached max_iter={max_iter} outer iterations"

    def best_with(zc, M1c, M2c, rep):
        """``best``, or a copy of the point ``(zc, M1c, M2c)`` with its certificate ``rep``
        when its residual is smaller (the first of smallest residual is kept)."""
        if best is None or rep["residual"] < best[0]:
            return (rep["residual"], zc.copy(), [m.copy() for m in M1c],
                    [m.copy() for m in M2c], rep)
        return best

    stopped_inside = [False]  # an inner_callback asked to stop

    def report(rec):
        """Every history record, once it is recorded: its ``verbose`` line and ``callback``
        (whose True return asks the run to stop)."""
        if verbose:
            print(f"{rec['k']:4d} {rec['objective']:12.6e} {rec['residual']:9.2e} "
                  f"{rec['stationarity']:9.2e} {rec['primal_feasibility']:9.2e} "
                  f"{rec['complementarity']:9.2e} {rec['rho']:9.2e} "
                  f"{rec['inner_iterations']:6d} {rec['time']:7.2f}"
                  + ("  unbounded: restart with a larger rho"
                     if rec["inner_status"] == "unbounded" else "")
                  + (f"  (+{rec['polish_iterations']} weight polish)"
                     if rec["polish_iterations"] else ""))
        if callback is None:
            return False
        with clock.off():  # the caller's time, as the baselines' callbacks'
            return stop_requested(callback(rec), "callback")

    last_call = [-np.inf]  # when inner_callback was last called (inner_callback_every)

    def monitor(j, x, cache, r):
        """The inner solver's per-iteration hook: ``inner_callback`` with its record (with
        ``inner_callback_every``, not within that many seconds of its last call, in this
        subproblem or an earlier one: the inner solver's own ``monitor_every`` counts from
        its own start)."""
        if (inner_callback_every is not None
                and time.monotonic() - last_call[0] < inner_callback_every):
            return False
        last_call[0] = time.monotonic()
        live = [True]

        def iterate():
            if not live[0]:
                return None
            Wx, bx, _ = layout.unpack(x)  # W and b are shared by both coordinate systems
            _, _, Mh1, Mh2 = sub.constraint_state(cache)
            return {"W": [w.copy() for w in Wx],
                    "b": None if bx is None else [c.copy() for c in bx],
                    "V": [v.copy() for v in cache[1]],
                    "M1": _capped(Mh1, M_max), "M2": _capped(Mh2, M_max)}

        rec = {"k": k + 1, "iteration": j, "time": clock.elapsed,
               "inner_residual": r, "rho": rho, "iterate": iterate}
        try:
            with clock.off():  # the caller's time (the inner deadline moves with it)
                stopped_inside[0] = stop_requested(inner_callback(rec), "inner_callback")
        finally:
            live[0] = False
        return stopped_inside[0]

    inner_kw = ({"monitor": monitor, "monitor_every": inner_callback_every}
                if inner_callback is not None else {})
    cert_time = [0.0]  # seconds of the last certificate

    def certify(zc, M1c, M2c):
        """``kkt_residuals`` of the point, timed (:func:`inner_deadline`; not the process's
        first in this dtype, which loads or compiles numba's kernels: 0.2-3 s, measured in
        :func:`warm_up`)."""
        tc = time.monotonic()
        rep_ = kkt_residuals(prob, *layout.unpack(zc), M1c, M2c)
        if prob.dtype in _CERTIFIED_DTYPES:
            cert_time[0] = time.monotonic() - tc
        _CERTIFIED_DTYPES.add(prob.dtype)
        return rep_

    def inner_deadline():
        """The deadline less what follows a subproblem: its point's certificate, the multiplier
        update, the record and the result, about twice a certificate (the last one's time: it
        moves with the machine's load as the subproblem's iterations do). At the teacher
        10-32-32-3 with biases, N = 60000, quiet machine: a first certificate of 0.17 s, and
        0.59 s from the end of the last subproblem to the return; a 3 s limit ended at
        3.46-3.67 s without the reserve (three runs), at 3.38-3.65 s with one certificate's and
        at 3.05-3.23 s with two. Negligible on small problems."""
        return None if time_limit is None else clock.deadline(time_limit) - 2.0 * cert_time[0]

    # Everything from here to the result runs under the Ctrl-C handler: the presolve and the
    # set-up of the start included (forward and backward passes over all N samples, and the
    # L-BFGS storage). A Ctrl-C anywhere ends the run "interrupted" with what the state above
    # holds: the best of the start and the records; before the start's certificate, the start
    # itself (after a presolve, the lift of its network), set up and certified when the result
    # is made. An outer iteration changes that state only once its record is complete (the
    # commit below), so a Ctrl-C between its subproblem and its record leaves no trace of it.
    try:
        clock = PausableClock()
        if not is_warm(prob.dtype):
            # numba's first load (or compile) of the kernels in this process: 0.6 s from its
            # disk cache, a minute for a compile (warm_up), not the solve's time; it took
            # that much of a time-limited first solve's budget, as it did of the estimator's
            # and the CLI's before they warmed up first. Every first solve warms up, with a
            # time limit or not: a compile is where a Ctrl-C must be held back
            # (warm_up), not one the kernels' first calls would make mid-solve
            with clock.off():
                warm_up(prob.dtype, notice=_say_now if verbose else None)
        if verbose:  # (after the warm-up's notice, if it had one)
            print(f"{'it':>4} {'objective':>12} {'residual':>9} {'stat':>9} {'feas':>9} "
                  f"{'comp':>9} {'rho':>9} {'inner':>6} {'time':>7}")
        if frac is not None:
            init, rho, pre, pre_excluded = _presolve(
                prob, frac, init, seed, rho0, tol=max(tol, 1e-4), max_iter=max_iter,
                time_limit=None if time_limit is None else presolve_share * time_limit,
                max_inner=max_inner, gamma=gamma, tau=tau, theta=theta, kappa=kappa,
                eps0=eps0, rho_max=rho_max, M_max=M_max, inner=inner, patience=patience,
                memory=memory, polish_weights=polish_weights,
                threads=None)  # (one thread setting for the whole run)
            clock.exclude(pre_excluded)
            # the presolve's network on all the samples (reporting only: off the clock)
            pre["Phi"] = reported_Phi(init["W"], init["b"])
            if verbose:
                print(f"presolve on {pre['n_samples']} of {prob.N} samples: {pre['status']}, "
                      f"Phi {pre['Phi']:.6e} on all, {pre['time']:.2f} s")
            if pre["status"] == "interrupted":
                raise KeyboardInterrupt  # Ctrl-C in the presolve ends the run
        z, M1, M2, unit_mask = set_up(init)
        sub = _Subproblem(prob)
        # one storage for the L-BFGS pairs of every subproblem (both coordinate systems)
        lbfgs = (CompactLBFGS.sized(z, memory, blocks=sub.blocks, direct=sub.n_nonsmooth)
                 if inner == "owlqn" else None)
        # the test that may end a solve where a polished copy certifies tol (docs/maths.md 6.5)
        finish = _Finish(prob, memory, tol, certify, M_max, inner_deadline)
        asked = finish if polish_weights else None  # (no weight polish of either kind: none)
        steps = None
        viol_prev = np.inf
        branch = True  # inner coordinates (docs/maths.md 6.2)
        # rep: the certificate of (z, M1, M2), recomputed only where an iteration changes them
        rep = certify(z, M1, M2)
        if not np.isfinite(rep["residual"]):
            # nothing can be solved from a start whose certificate overflows (the first
            # subproblem would stop at once as diverged, blaming the solver): the input is
            # refused, as the baselines refuse a start whose Phi overflows
            given_M = init is not None and init.get("M1") is not None
            given_V = init is not None and init.get("V") is not None
            if given_V and not given_M:
                with np.errstate(all="ignore"):
                    given_V = bool(np.isfinite(prob.Phi(*layout.unpack(z)[:2])))
            # (a V of 1e150 with good weights was blamed on init['W'])
            what, scale = (("init['M1'] / init['M2']", "the multipliers") if given_M
                           else ("init['V']", "the lifted variables") if given_V
                           else ("init['W']", "the weights"))
            raise ValueError(f"{what} is too large: the KKT residual of the start is not "
                             f"finite (F = {rep['objective']:.3g}); scale {scale} down")
        # the start, the first point of the best (reporting only: Phi off the clock; after a
        # presolve the start is the lift of its network, whose Phi the summary has)
        start = {"time": clock.elapsed,
                 "Phi": pre["Phi"] if pre is not None else reported_Phi(*layout.unpack(z)[:2]),
                 "residual": rep["residual"]}
        best = best_with(z, M1, M2, rep)
        stop = False  # a callback asked to stop (after the record of the last iteration)
        while True:
            if rep["residual"] <= tol:
                status, message = "converged", f"KKT residual {rep['residual']:.2e} <= tol={tol:g}"
                break
            if stop:
                status, message = "interrupted", "stopped by callback"
                break
            if k >= max_iter:
                break
            if time_limit is not None and time.monotonic() > inner_deadline():
                status, message = "time_limit", f"time_limit={time_limit:g} s reached"
                break
            # 1. inexact subproblem
            sub.set(M1, M2, rho)
            # F >= 0 on the feasible set, so L_rho >= -||M||^2/(2 rho) there: a value far below
            # that means the iterate left for the region where <g1, g2> < 0 is unbounded below
            # (complementarity coupling, docs/maths.md): restart with a larger rho.
            floor = -sub.M_sq / (2.0 * rho) - UNBOUNDED_SLACK * (abs(rep["objective"]) + 1.0)
            if inner == "owlqn" and branch:
                bsub = _BranchSubproblem(sub, z)
                finish.start(M1, M2, rho, bsub.to_z)
                x_new, info = group_owlqn(bsub, bsub.x0, tol=eps, max_iter=max_inner,
                                          deadline=inner_deadline, scales0=steps,
                                          floor=floor, lbfgs=lbfgs, patience=patience,
                                          finish=asked, **inner_kw)
                z_new = bsub.to_z(x_new, info.cache)
            elif inner == "owlqn":
                finish.start(M1, M2, rho, lambda x, cache: x.copy())
                z_new, info = group_owlqn(sub, z, tol=eps, max_iter=max_inner,
                                          deadline=inner_deadline, scales0=steps,
                                          floor=floor, lbfgs=lbfgs, patience=patience,
                                          finish=asked, **inner_kw)
            else:
                z_new, info = prox_gradient_bb(
                    sub.value, sub.gradient, sub.prox, sub.residual, z, sub.blocks,
                    tol=eps, max_iter=max_inner, steps0=steps, deadline=inner_deadline,
                    floor=floor,
                )
            # 1b. the polishes of the finish tests (docs/maths.md 6.5), the one taken or not,
            # and the weights alone after a long solve (6.4)
            n_polish = finish.n_polish
            if info.status == "finished":  # a polished copy certified tol: its point
                z_new, ip, found_rep = finish.found
                sub.release(info.cache)
                # the record's inner residual is that of the point taken: the subproblem's
                # residual there, in the model's coordinates, is the stationarity of its
                # certificate (the solve's own working residual was of its iterate)
                info = dataclasses.replace(info, cache=ip.cache, value=ip.value,
                                           residual=found_rep["stationarity"])
            if (polish_weights and inner == "owlqn" and info.status in _POLISHED
                    and info.nit >= POLISH_MIN_INNER and np.isfinite(info.value)):
                z_new, info, n = _polish_weights(
                    sub, z_new, info, eps, lbfgs, deadline=inner_deadline, floor=floor,
                    **inner_kw)
                n_polish += n
            # The iteration's outcome (its point, multipliers, certificate, mask, record and
            # the next rho, eps) goes into new names first: the state the result is made of
            # changes only in the commit after the if/else (steps and branch, which only the
            # next subproblem reads, change here).
            if info.status == "unbounded":
                # restart with a larger rho: from z_k and M_k, or from the lift of a better
                # network the solve passed on its way out (docs/maths.md 6.2)
                phi = prob.Phi(*layout.unpack(z)[:2])
                restart = _restart_point(prob, sub.best_net, phi)
                z_new, M1_new, M2_new, rep_new, mask_new = z, M1, M2, rep, unit_mask
                if restart is not None:
                    z_new, M1_new, M2_new = restart
                    phi = sub.best_net[0]  # the Phi of the lifted network
                    mask_new = unit_masks(*layout.unpack(z_new)[:2])
                    rep_new = certify(z_new, M1_new, M2_new)
                # the record has the residuals of the restart point
                rec = {
                    "k": k + 1, "objective": rep_new["objective"], "rho": rho, "eps": eps,
                    "violation": np.nan, "inner_iterations": info.nit,
                    "polish_iterations": n_polish,
                    "inner_status": "unbounded", "inner_residual": np.nan,
                    "time": clock.elapsed,
                    **{p: rep_new[p] for p in (*rep_new.PARTS, "residual")},
                    "Phi": phi,
                }
                rho_new, eps_new, viol_new = min(gamma * gamma * rho, rho_max), eps, viol_prev
                steps = None
            else:
                steps = info.steps
                if info.status in ("stalled", "max_iter"):
                    # a failed solve in one coordinate system is retried in the other: branch
                    # coordinates align the stiffness of one active constraint per entry, the
                    # model's coordinates that of entries at the kink (both active, U = V = 0)
                    branch = not branch
                    steps = None
                if info.status == "diverged" or not np.isfinite(info.value):
                    status, message = "diverged", "NaN or overflow in the subproblem"
                else:
                    g1, g2, Mh1, Mh2 = sub.constraint_state(info.cache)
                    if not _finite(Mh1, Mh2):
                        status, message = "diverged", "NaN or overflow in the multipliers"
                if status == "diverged":  # (no record: the best finite point is returned)
                    n_inner += info.nit + n_polish
                    break
                # 3. violation measured with the multipliers the subproblem used
                viol_new = max(
                    (float(np.max(np.abs(np.minimum(-g, m / rho))))
                     for g, m in zip((*g1, *g2), (*M1, *M2))),
                    default=0.0,
                )
                # 2. multiplier update (Mh = max(0, M + rho g) at z_new), safeguarded
                M1_new, M2_new = _capped(Mh1, M_max), _capped(Mh2, M_max)
                mask_new = _screen_dead_units(prob, z_new, M1_new, M2_new, unit_mask)
                rec = {
                    "k": k + 1, "rho": rho, "eps": eps,
                    "violation": viol_new, "inner_iterations": info.nit,
                    "polish_iterations": n_polish,
                    "inner_status": info.status, "inner_residual": info.residual,
                    "time": None,  # (its place in the record; set after the certificate)
                }
                # 3. penalty: only for a violation that stalls above both the target and, by
                # the margin, the stationarity the subproblem reached (a stiffer subproblem
                # cannot help a violation already below what the inner solver achieves:
                # docs/maths.md 6.1)
                rho_new = rho
                if (viol_new > tau * viol_prev and viol_new > tol
                        and (info.residual <= tol or viol_new > margin * info.residual)):
                    rho_new = min(gamma * rho, rho_max)
                # 4. no stationarity far below the violation: the KKT residual is the larger
                eps_new = min(eps, max(theta * eps, kappa * viol_new, tol))
                rep_new = certify(z_new, M1_new, M2_new)
                rec.update({p: rep_new[p] for p in ("objective", *rep_new.PARTS, "residual")})
                # the point is the run's to return once certified (its time, as the unbounded
                # branch's, after its certificate: the comparison's t_target reads it)
                rec["time"] = clock.elapsed
                # the network's own objective (MODEL.md 3, one forward pass): F and Phi differ
                # until the lift is exact, and Phi is what the baselines report
                # (liftnet.compare) (reporting only: off the clock)
                rec["Phi"] = reported_Phi(*layout.unpack(z_new)[:2])
            # The commit: the best point (its copies made first), the record and every
            # counter together, plain assignments with no work in between for a Ctrl-C to
            # land in; then the record is reported (a Ctrl-C in the callback or the verbose
            # line finds the iteration recorded and its point among the best's candidates).
            best_new = best_with(z_new, M1_new, M2_new, rep_new)
            best, z, M1, M2, rep, unit_mask = best_new, z_new, M1_new, M2_new, rep_new, mask_new
            k, n_inner, rho, eps, viol_prev = (k + 1, n_inner + info.nit + n_polish, rho_new,
                                                  eps_new, viol_new)
            n_unbounded += info.status == "unbounded"
            history.append(rec)
            stop = report(rec)
            if info.status in ("time_limit", "interrupted"):
                status = info.status
                message = ("stopped by callback" if stopped_inside[0]
                           else "interrupted (KeyboardInterrupt)" if status == "interrupted"
                           else f"time_limit={time_limit:g} s reached")
                if rep["residual"] <= tol:
                    status = "converged"
                    message = f"KKT residual {rep['residual']:.2e} <= tol={tol:g}"
                break
    except INTERRUPTS as exc:
        status, message = interrupted(exc), "interrupted (KeyboardInterrupt)"
    if clock is None:  # a Ctrl-C before the clock started: time 0, as the baselines'
        clock = PausableClock(paused=True)

    # the returned point
    if status == "converged":  # rep is the certificate of (z, M1, M2)
        zf, M1f, M2f, kkt = z, M1, M2, rep
    elif best is None:  # interrupted before the start's certificate (or in the presolve)
        if z is None:  # ... or before its set-up finished: the start, set up again
            z, M1, M2, _ = set_up(init)
        zf, M1f, M2f = z, M1, M2
        try:
            kkt = kkt_residuals(prob, *layout.unpack(zf), M1f, M2f)
        except Exception as exc:
            if status != "interrupted":
                raise
            # Ctrl-C while numba loads its kernels (the first certificate's first compiled
            # call) leaves it half-initialised: its next call fails (a KeyError of its type
            # registry); no certificate can be formed, and the interrupt goes to the caller
            raise KeyboardInterrupt("interrupted before the first certificate") from exc
    else:
        _, zf, M1f, M2f, kkt = best

    def result(status, message):
        """The :class:`LiftedResult` at the returned point."""
        Wf, bf, Vf = layout.unpack(zf.copy())
        Phi_f = reported_Phi(Wf, bf)
        if pre is not None and "Phi" not in pre:
            # a Ctrl-C landed in the summary's Phi: the returned point is the start, the
            # presolve's network
            pre["Phi"] = Phi_f
        if status != "converged":
            message += _rounding_note(prob.dtype, rho, Vf, kkt["residual"])
        return LiftedResult(
            solver="alm",
            W=Wf, b=bf, V=Vf, M1=M1f, M2=M2f,
            status=status, message=message, success=status == "converged",
            kkt=kkt, objective=kkt["objective"], Phi=Phi_f,  # (F, as kkt_residuals has it)
            nit=k, n_inner=n_inner, history=history,
            time=clock.elapsed, time_excluded=clock.paused_total,
            rho=rho, eps=eps, tol=tol, groups=prob.groups, n_restarts=n_unbounded,
            presolve=pre, start=start,
        )

    # A Ctrl-C while the result is made (its Phi: a forward pass over all N samples) makes it
    # again with status interrupted, so that the caller still sees the Ctrl-C and gets the
    # point (as the baselines' make_result); a second one reaches the caller.
    try:
        return result(status, message)
    except INTERRUPTS as exc:
        return result(interrupted(exc), "interrupted (KeyboardInterrupt)")


#: ``eps0``'s default: the first inner tolerance
EPS0 = 1e-2


def _carried_state(init):
    """``(rho, eps)`` carried by a warm start (a result of :func:`solve_alm`, or a mapping
    with those keys), each ``None`` where absent; refused by name when not positive."""
    if not isinstance(init, Mapping):
        return None, None
    return tuple(check_scalar(init.get(key), f"init[{key!r}]", low=0, low_inclusive=False,
                              allow_none=True) for key in STATE_KEYS)


def _rounding_note(dtype, rho, V, residual) -> str:
    """A note for the message of an unconverged solve whose KKT residual is near what its
    dtype can resolve, else ``""``.

    The augmented Lagrangian's gradient in ``V`` holds ``rho max(0, M/rho + g)``: a change of
    ``V`` by one unit in its last place changes it by about ``rho eps max|V|``, below which the
    inner solver's steps are invisible (their differences round away). The 5-8-6-2 teacher
    (N = 200, ``lam`` 1e-2, float32, ``tol`` 1e-6 or smaller, 20 s) stopped at KKT 2.15e-6
    after 21 outer and about 58,000 inner iterations, the last solves all at ``max_inner``,
    with ``rho eps max|V|`` = 1.4e-6 (``rho`` the final penalty); float64 from its point
    converged in 35 inner iterations. Within ten times that level the message says so, and in
    float32 that float64 can go further."""
    level = float(rho) * float(np.finfo(dtype).eps) * max(
        [1.0] + [float(np.max(np.abs(v), initial=0.0)) for v in V])
    if not residual <= 10.0 * level:
        return ""
    name = np.dtype(dtype).name
    hint = (": a float64 solve from this point (init=result) can go further"
            if np.dtype(dtype) != np.float64 else "")
    return (f"; the KKT residual {residual:.2e} is near what {name} resolves at this penalty "
            f"(rho eps max|V| = {level:.1e}){hint}")


#: ``presolve="auto"``: the fraction, and the ``N`` from which it is used
_AUTO_PRESOLVE = (1 / 16, 2_000)


def _presolve_fraction(presolve, N, init):
    """The sample fraction of :func:`solve_alm`'s ``presolve`` (``None``: no presolve)."""
    if presolve is None:
        return None
    if isinstance(presolve, str):
        if presolve != "auto":
            raise ValueError(f"presolve must be 'auto', a fraction in (0, 1) or None, got "
                             f"{presolve!r}")
        frac, N_min = _AUTO_PRESOLVE
        return frac if N >= N_min and init is None else None
    frac = check_scalar(presolve, "presolve", low=0, high=1, low_inclusive=False,
                        high_inclusive=False)
    n = int(np.ceil(frac * N))
    if n < _PRESOLVE_MIN_SAMPLES and n < N:
        # a presolve on one sample fits it exactly with a dying network, and the zero network
        # it leaves is a KKT point of every later problem (MODEL.md 5): the full solve then
        # "converged" at W = 0 without a word (also where N < 10: presolve=0.01 at N = 8 ran
        # on one sample)
        raise ValueError(f"presolve={presolve!r} leaves {n} of the {N} samples: a presolve "
                         f"needs at least {_PRESOLVE_MIN_SAMPLES} (pass a larger fraction or "
                         f"None)")
    return frac if n < N else None


#: the fewest samples an explicit ``presolve`` fraction may leave
_PRESOLVE_MIN_SAMPLES = 10


def _presolve(prob, frac, init, seed, rho0, **solve_kw):
    """The presolve of :func:`solve_alm` (docs/maths.md 6.3): returns the full problem's
    ``init`` (the presolve's network; its ``V`` is then the lift), its ``rho0``, the
    summary ``result.presolve`` (without ``Phi``, which the caller adds on its own clock) and
    the presolve's own ``time_excluded``, which the caller leaves off its clock too."""
    n = int(np.ceil(frac * prob.N))
    rows = np.sort(np.random.default_rng(seed).permutation(prob.N)[:n])
    small = prob.subset(rows)
    start = None if init is None else {"W": init["W"], "b": init.get("b")}
    res = solve_alm(small, seed=seed, init=start, presolve=None, **solve_kw)
    summary = {"n_samples": n, "status": res.status, "nit": res.nit, "time": res.time}
    # rho balances F, whose terms carry 1/N (default_rho0): keep rho N across the two
    rho_full = res.rho * n / prob.N if rho0 is None else rho0
    return {"W": res.W, "b": res.b}, rho_full, summary, res.time_excluded

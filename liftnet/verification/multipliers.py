"""Multipliers for a fixed point of (M): the convex program behind :func:`kkt_residuals`.

MODEL.md section 7. For fixed ``z = (W, b, V)`` the best multipliers ``M1, M2 >= 0`` solve

    min  1/2 ( sum_g dist(0, grad_{W[g]} + lam d||W[g]||)^2 + ||grad_b||^2 + ||grad_V||^2
               + ||M1 * g1||^2 + ||M2 * g2||^2 ),

where ``grad = grad_z [f + <M1, g1> + <M2, g2>]`` is affine in ``M`` (:meth:`backprop` of the
fields ``D_l = dU_l + M1_l + alpha M2_l``, ``E_l = dV_l - M1_l - M2_l``). Every term but the
zero groups' distances is a squared affine function; a zero group's ``1/2 dist(0, q + lam B)^2``
(``q`` its gradient) is piecewise quadratic with gradient ``q (1 - lam/||q||)_+`` and
generalized Hessian ``(1 - lam/||q||) I + lam q q^T / ||q||^3`` where ``||q|| > lam``, zero
elsewhere. So the program is a bound-constrained, piecewise-quadratic convex problem whose
Hessian-vector products cost one backward pass and its adjoint: :class:`MultiplierLSQ` gives
value, gradient, Hessian products and a preconditioner, and :func:`estimate_multipliers`
solves it by a primal-dual interior-point method whose Newton systems are solved by conjugate
gradients (:mod:`liftnet.solvers.interior_point`).

The preconditioner has two parts. It is exact on the ``2 x 2`` blocks that couple ``M1_l[i, n]`` and
``M2_l[i, n]``: both move ``grad_V_l[i, n]`` by ``-1`` and the field ``D_l[i, n]`` by ``1`` and
``alpha``, so with ``c = sum_j a_ij V_{l-1}[j, n]^2 + [bias] + ||W_l[i, :]||^2`` (the squared
norm of what ``D_l[i, n]`` moves: ``grad_W_l[i, :]``, ``grad_b_l[i]`` and, for ``l > 1``,
``grad_V_{l-1}[:, n]``; ``a_ij`` is 1 on nonzero groups, the factor below on zero ones)

    B = [[c + 1 + g1^2,  alpha c + 1], [alpha c + 1,  alpha^2 c + 1 + g2^2]]

(plus the interior-point method's diagonal). And the largest eigenvalues of the Hessian come
from the weight terms: the ``2N`` multipliers of row ``i`` of layer ``l`` move
``grad_W_l[i, :]`` (and ``grad_b_l[i]``) by ``Vt (M1 + alpha M2)[i, :]``, ``Vt = [V_{l-1}; 1^T]``
(``k = n_{l-1}`` or ``n_{l-1} + 1`` rows), a term ``U_i S_i^2 U_i^T`` of rank ``k`` per row with
``S_i^2`` the zero groups' factors (1 elsewhere). The Woodbury identity inverts ``B`` plus these
terms exactly through one ``k x k`` matrix per row,

    K_i = I + S_i Vt diag(w_i) Vt^T S_i,    w_i[n] = [1 alpha] B_{i,n}^{-1} [1 alpha]^T,

when building them costs at most ``WOODBURY_FLOPS`` (``B`` then has only ``c = ||W_l[i, :]||^2``
and ``B_REGULARISATION`` times the rest); only the coupling of the rows of one sample through
``W_l^T D_l`` (and the zero groups' rank-one parts) is left to the iterations.

Variables are scaled by ``N`` (multipliers of the ``1/N``-scaled objective are ``O(1/N)``).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from scipy.optimize import minimize

from .._validation import (
    check_bool,
    check_choice,
    check_net_shapes,
    check_point,
    check_problem,
    check_scalar,
)
from ..formulation.entrywise import field_D
from ..solvers._interrupt import INTERRUPTS, interrupted
from ..solvers.interior_point import interior_point_cg, pcg
from ..solvers.proxgrad import prox_gradient_bb

METHODS = ("interior-point", "lbfgsb", "bb")
# flops of the Woodbury preconditioner's per-row matrices (sum_l n_l k_l^2 N) above which the
# block-diagonal preconditioner alone is used: about a second of this machine's matrix products
WOODBURY_FLOPS = 2e9
# with the Woodbury correction, the share of the weight terms' diagonal that the 2 x 2 blocks
# keep on both diagonal entries: without it a block is singular where g1 = g2 = 0 (a dead unit,
# U = V = 0) and the interior point's shift vanishes (1e-1 and 1e-6 were slower: docs/benchmarks.md,
# bench_multipliers.py)
B_REGULARISATION = 1e-3
# ... of at least this much weight term: a dead unit whose incoming row is a zero group has no
# weight term at all (cw = 0), and its block [[1 + s1, 1], [1, 1 + s2]] turned singular once
# the interior point's shifts fell below rounding (the estimate ended "diverged" at its start,
# at 1.8 times the best value, on 2 of 72 such instances); 1e-3 * 1e-6 keeps the block's
# Schur complement (about 2e-9) above rounding of its O(1) entries
B_REGULARISATION_FLOOR = 1e-6
# the crossover after the interior point (MultiplierLSQ.refine): Newton rounds on the support,
# and the constraints counted active there (g >= -ACTIVE_RTOL max|g|) with the multipliers
# above SUPPORT_RTOL of the largest
REFINE_ROUNDS = 3
REFINE_CG_MAX_ITER = 200  # per round (the interior point's cg_max_iter)
REFINE_SHIFT = 1e-10
ACTIVE_RTOL = 1e-6
SUPPORT_RTOL = 1e-3


def _backward_guess(prob, W, V, dU, dV, g1, g2):
    """Multipliers that zero the ``V`` stationarity exactly, layer by layer from the top.

    ``grad_{V_l} = dV_l - (M1_l + M2_l) + W_{l+1}^T D_{l+1} = 0`` fixes
    ``Msum_l = M1_l + M2_l`` once ``D_{l+1}`` is known (``D_L = dU_L``); ``Msum_l`` goes to the
    constraint closer to activity (``g1`` where ``U >= 0``, ``g2`` where ``U < 0``), clipped at
    zero. (``Msum_l``, not ``S_l``: ``S_l`` is the branch slack of docs/maths.md 6.2.)
    """
    Lh = prob.L - 1
    M1 = [None] * Lh
    M2 = [None] * Lh
    Dnext = dU[-1]
    for l in range(Lh - 1, -1, -1):
        Msum = np.maximum(dV[l] + W[l + 1].T @ Dnext, 0.0)
        first = g1[l] >= g2[l]  # U >= 0: g1 = U - V is the larger (closer to active) one
        M1[l] = np.where(first, Msum, 0.0)
        M2[l] = np.where(first, 0.0, Msum)
        Dnext = field_D(dU[l], M1[l], M2[l], prob.alpha)
    return M1, M2


def initial_multipliers(prob, W, b, V):
    """Cheap multipliers for a start point: :func:`_backward_guess` (one backward pass)."""
    # the structure checks of the model's evaluations (no copies; the solvers call it, where a
    # NaN point must give NaN multipliers): nested lists, which pre_activations takes, were
    # an AttributeError inside _backward_guess ("'list' object has no attribute 'T'")
    W, b, V = check_net_shapes(check_problem(prob), W, b, V)
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    dU, dV = prob.smooth_partials(U[-1], g1, g2)
    return _backward_guess(prob, W, V, dU, dV, g1, g2)


class MultiplierLSQ:
    """The multiplier program of a fixed point ``(W, b, V)`` in the scaled variable
    ``m = N (M1_1, ..., M1_{L-1}, M2_1, ..., M2_{L-1})`` (raveled, C order).

    ``value(m) -> (v, state)``, ``gradient(m, state)``, ``hessp(state, v)``,
    ``precond(state, shift)`` and ``score(state)`` are the callables of
    :func:`~liftnet.solvers.interior_point.interior_point_cg`; ``guess()`` is the start
    (:func:`_backward_guess`, whose multipliers ``(M1, M2)`` are kept unscaled in ``start``:
    ``split(guess())`` differs from them by the rounding of the scaling) and ``split(m)`` gives
    the multipliers ``(M1, M2)`` of ``m``.

    Parameters
    ----------
    woodbury : bool or None
        Use the Woodbury part of the preconditioner; ``None``: when it costs at most
        ``WOODBURY_FLOPS``.
    """

    def __init__(self, prob, W, b, V, woodbury: bool | None = None):
        W, b, V = check_point(prob, W, b, V)  # V = None: the lift
        if woodbury is not None:
            woodbury = check_bool(woodbury, "woodbury")
        self.prob, self.W, self.V = prob, W, V
        U = prob.pre_activations(W, b, V)
        self.g1, self.g2 = prob.constraints(U, V)
        self.dU, self.dV = prob.smooth_partials(U[-1], self.g1, self.g2)
        from .kkt import primal_violation  # (kkt imports this module)

        self.primal = primal_violation(self.g1, self.g2)
        self.zero_dU = [np.zeros_like(x) for x in self.dU]  # partials of the linear part
        self.zero_dV = [np.zeros_like(x) for x in self.dV]
        self.Lh = prob.L - 1
        self.N = prob.N
        self.shapes = prob.V_shapes
        sizes = [int(np.prod(s)) for s in self.shapes]
        offs = np.cumsum([0] + sizes + sizes)
        self.blocks = [slice(int(offs[i]), int(offs[i + 1])) for i in range(2 * self.Lh)]
        self.size = int(offs[-1])
        self.groups = prob.penalty.flat([Wl.shape for Wl in W])
        self.w = np.concatenate([Wl.ravel() for Wl in W])
        self.nW = self.w.size
        ends = np.cumsum([Wl.size for Wl in W])
        self.W_parts = [(slice(int(e - Wl.size), int(e)), Wl.shape) for e, Wl in zip(ends, W)]
        self.zero = self.groups.norms(self.w) == 0  # per group
        self.Vprev = [prob.V0 if l == 0 else V[l - 1] for l in range(self.Lh)]
        self.Vprev_sq = [x * x for x in self.Vprev]
        # ||W_l[i, :]||^2: what D_l[i, n] moves in grad_V_{l-1}[:, n] (l > 1)
        self.row_sq = [None] + [np.einsum("ij,ij->i", W[l], W[l])[:, None]
                                for l in range(1, self.Lh)]
        self.Vt = [np.vstack([x, np.ones((1, x.shape[1]))]) if prob.bias else x
                   for x in self.Vprev]
        flops = sum(s[0] * Vt.shape[0] ** 2 * self.N for s, Vt in zip(self.shapes, self.Vt))
        self.woodbury = flops <= WOODBURY_FLOPS if woodbury is None else bool(woodbury)
        # what no multipliers change: the primal infeasibility and the output layer's
        # stationarity (grad_{W_L} = dU_L V_{L-1}^T, grad_{b_L} = dU_L 1)
        self.start = _backward_guess(prob, W, V, self.dU, self.dV, self.g1, self.g2)
        self._m0 = self.pack(*self.start)
        RW, G = self.value(self._m0)[1][:2]
        n_out = prob.penalty.n_groups(W[-1].shape)
        gb = prob.layout.unpack(G)[1]
        self.floor = max(self.primal, float(np.max(self.groups.norms(RW)[-n_out:])),
                         float(np.max(np.abs(gb[-1]))) if gb is not None else 0.0)

    def _per_layer(self, w):
        """Views of a flat vector over the ``W`` entries, shaped ``W_1, ..., W_L``."""
        return [w[s].reshape(shape) for s, shape in self.W_parts]

    def guess(self) -> np.ndarray:
        """The start :func:`_backward_guess`, packed (formed once, with the floor)."""
        return self._m0.copy()

    def pack(self, M1, M2) -> np.ndarray:
        """``m`` of the multipliers ``(M1, M2)``: the inverse of :meth:`split`."""
        return np.concatenate([x.ravel() * self.N for x in (*M1, *M2)]).astype(np.float64)

    def split(self, m):
        """``(M1, M2)`` of ``m`` (new arrays, unscaled)."""
        ms = [m[blk].reshape(self.shapes[i % self.Lh]) / self.N
              for i, blk in enumerate(self.blocks)]
        return ms[:self.Lh], ms[self.Lh:]

    def _backprop(self, A1, A2, affine: bool) -> np.ndarray:
        """Flat ``(grad_W, grad_b, grad_V)`` of the fields of ``(A1, A2)``: with the partials of
        ``f`` (``affine``: the gradient at multipliers ``A``) or without (its linear part, for
        Hessian products)."""
        prob = self.prob
        dU, dV = (self.dU, self.dV) if affine else (self.zero_dU, self.zero_dV)
        D, E = prob.lagrangian_fields(dU, dV, A1, A2)  # D_L = dU_L (zero for the linear part)

        def fields(l, gVl):
            gVl += E[l]
            return D[l]

        return prob.backprop_into(self.W, self.V, D[-1], fields)

    def value(self, m):
        """``1/2 N^2 ||residuals||^2`` and the state the other callables read."""
        A1, A2 = self.split(m)
        G = self._backprop(A1, A2, affine=True)
        q = G[:self.nW]
        RW = self.groups.subdiff_residual(self.w, q)
        C1 = [x * g for x, g in zip(A1, self.g1)]
        C2 = [x * g for x, g in zip(A2, self.g2)]
        rest = G[self.nW:]
        val = np.vdot(RW, RW) + np.vdot(rest, rest) + sum(np.vdot(c, c) for c in (*C1, *C2))
        # the zero groups' generalized Hessian, per group: ha I + hs q q^T
        nq = self.groups.norms(q)
        lam = self.groups.lam
        big = self.zero & (nq > lam)
        ha = np.where(self.zero, 0.0, 1.0)
        ha[big] = 1.0 - lam / nq[big]
        hs = np.zeros_like(nq)
        hs[big] = lam / nq[big] ** 3
        return 0.5 * self.N ** 2 * float(val), (RW, G, C1, C2, q, ha, hs)

    def score(self, state) -> float:
        """The KKT residual of :func:`~liftnet.verification.kkt.kkt_residuals` with these
        (nonnegative) multipliers: stationarity, complementarity and the primal feasibility
        that no multiplier changes, infinity norms."""
        from .kkt import _worst  # (kkt imports this module)

        RW, G, C1, C2 = state[:4]
        parts = [self.primal, float(np.max(self.groups.norms(RW), initial=0.0)),
                 float(np.max(np.abs(G[self.nW:]), initial=0.0))]
        parts += [float(np.max(np.abs(c), initial=0.0)) for c in (*C1, *C2)]
        # the report's maximum, where a NaN part reads as inf (Python's max skipped it: weights
        # of 1e150, whose start overflows, scored 0.0 and the estimate said "converged")
        return _worst(parts)

    def _adjoint(self, RW, G, C1, C2):
        """``N J^T`` of the residual pieces ``(RW, grad_b, grad_V, C1, C2)``: the gradient of
        ``value`` when they are the residuals at ``m``, a Hessian product when they are ``J v``."""
        prob = self.prob
        _, gb, gV = prob.layout.unpack(G)
        RWs = self._per_layer(RW)
        out = np.empty(self.size, dtype=G.dtype)
        N, a = self.N, prob.alpha
        for l in range(self.Lh):
            A = RWs[l] @ self.Vprev[l]  # d/dD_l of 1/2||RW_l||^2 (gW_l = D_l V_{l-1}^T)
            if gb is not None:
                A += gb[l][:, None]
            if l > 0:
                A += self.W[l] @ gV[l - 1]
            out[self.blocks[l]] = (N * (A - gV[l] + C1[l] * self.g1[l])).ravel()
            out[self.blocks[self.Lh + l]] = (N * (a * A - gV[l] + C2[l] * self.g2[l])).ravel()
        return out

    def gradient(self, m, state):
        RW, G, C1, C2 = state[:4]
        return self._adjoint(RW, G, C1, C2)

    def hessp(self, state, v):
        """The (generalized) Hessian times ``v``: ``J^T`` of ``J v``, the zero groups' pieces
        through their ``ha I + hs q q^T``."""
        q, ha, hs = state[4:]
        B1, B2 = self.split(v)
        Gd = self._backprop(B1, B2, affine=False)
        qd = Gd[:self.nW]
        gr = self.groups
        RWd = gr.per_entry(ha) * qd + gr.per_entry(hs * gr.inner(q, qd)) * q
        C1 = [x * g for x, g in zip(B1, self.g1)]
        C2 = [x * g for x, g in zip(B2, self.g2)]
        return self._adjoint(RWd, Gd, C1, C2)

    def refine(self, m, rounds: int = REFINE_ROUNDS, deadline: float | None = None,
               score: float | None = None):
        """Crossover after the interior point: Newton steps on the support.

        The interior point's iterates stay strictly positive, so at a point whose exact
        multipliers give a residual of 1e-15 it stopped at 6e-7 (``beta = 1``) to 1.8e-5
        (``beta = 30``; a 2-4-3-2 network with biases fitting its own outputs, N = 30). Here
        the support is the multipliers of the active constraints (``g >= -ACTIVE_RTOL
        max|g|``) and those above ``SUPPORT_RTOL`` of the largest; the others are fixed at
        zero and the program is minimised over the support by Newton steps (conjugate
        gradients on the generalized Hessian), clipped at zero: 8.1e-17 and 5.3e-15 there.
        ``deadline`` is checked between rounds (a round: at most ``REFINE_CG_MAX_ITER``
        Hessian products). ``score``: :meth:`score` at ``m`` where the caller has it (the
        interior point's ``info.score``), not evaluated again.
        Returns ``(m, score)``, the iterate with the smallest :meth:`score`, ``m`` itself when
        no round improved on it.
        """
        if score is None:
            score = self.score(self.value(m)[1])
        best = (score, m)
        g = np.concatenate([x.ravel() for x in (*self.g1, *self.g2)])
        active = g >= -ACTIVE_RTOL * max(1.0, float(np.max(np.abs(g), initial=0.0)))
        for _ in range(rounds):
            if best[0] <= self.floor or (deadline is not None and time.monotonic() > deadline):
                break  # (no multipliers go below the floor)
            free = active | (m > SUPPORT_RTOL * np.max(m, initial=0.0))
            m = np.where(free, m, 0.0)  # the Newton step from the point with the others at zero
            _, state = self.value(m)
            # the preconditioner's 2 x 2 blocks are singular where a dead unit sits at the kink
            # (c = 0, g1 = g2 = 0): a sliver of shift on the free entries, none moves the others
            P = self.precond(state, np.where(free, REFINE_SHIFT, 1e30))
            def on_free(op, fr=free):  # op restricted to the free entries
                return lambda v: np.where(fr, op(np.where(fr, v, 0.0)), 0.0)

            d, _ = pcg(on_free(partial(self.hessp, state)), on_free(P),
                        np.where(free, -self.gradient(m, state), 0.0), 1e-10, REFINE_CG_MAX_ITER)
            if not np.all(np.isfinite(d)):
                break
            m = np.maximum(m + d, 0.0)
            _, state = self.value(m)
            score = self.score(state)
            if not score < best[0]:
                break  # a round that does not improve: the support is not the right one
            best = (score, m)
        return best[1], best[0]

    def precond(self, state, shift):
        """An approximate inverse of the Hessian plus ``diag(shift)``: the ``2 x 2`` blocks
        ``B``, and the Woodbury correction of the rows' weight terms (module docstring)."""
        a, half = self.prob.alpha, self.size // 2
        Hw = self._per_layer(self.groups.per_entry(state[5]))  # zero groups' factors per entry
        c, cw = [], []  # the diagonal of what D_l[i, n] moves: rows of V_{l-1} (and the bias
        for l in range(self.Lh):  # entry) in cw, the rows of W_l in c
            cw.append((Hw[l] @ self.Vprev_sq[l] + (1.0 if self.prob.bias else 0.0)).ravel())
            c.append(np.broadcast_to(self.row_sq[l], self.shapes[l]).ravel() if l > 0
                     else np.zeros(cw[-1].size))
        c, cw = np.concatenate(c), np.concatenate(cw)
        if self.woodbury:  # the correction has the weight terms whole; B keeps a sliver of them
            reg = B_REGULARISATION * np.maximum(cw, B_REGULARISATION_FLOOR)
        else:
            c, reg = c + cw, 0.0
        b11 = c + 1.0 + np.concatenate([g.ravel() ** 2 for g in self.g1]) + shift[:half] + reg
        b22 = (a * a * c + 1.0 + np.concatenate([g.ravel() ** 2 for g in self.g2])
               + shift[half:] + reg)
        b12 = a * c + 1.0
        # [[b11, b12], [b12, b22]]^{-1} without forming the determinant (the shift can be huge)
        i11 = 1.0 / (b11 - b12 * (b12 / b22))
        i22 = 1.0 / (b22 - b12 * (b12 / b11))
        i12 = -(b12 / b11) * i22

        def Binv(r):
            r1, r2 = r[:half], r[half:]
            return np.concatenate([i11 * r1 + i12 * r2, i12 * r1 + i22 * r2])

        if not self.woodbury:
            return Binv
        w = i11 + 2 * a * i12 + a * a * i22
        rows = []
        for l in range(self.Lh):
            Vt, blk = self.Vt[l], self.blocks[l]
            n_l, k = self.shapes[l][0], Vt.shape[0]
            S = np.ones((n_l, k))
            S[:, :Hw[l].shape[1]] = np.sqrt(Hw[l])
            K = np.einsum("jn,in,kn->ijk", Vt, w[blk].reshape(n_l, -1), Vt, optimize=True)
            K *= S[:, :, None] * S[:, None, :]
            K[:, np.arange(k), np.arange(k)] += 1.0
            rows.append((blk, Vt, S, np.linalg.inv(K)))

        def P(r):
            y = Binv(r)
            u = np.zeros_like(r)  # U S K^{-1} S U^T y, then B^{-1} of it
            for blk, Vt, S, Kinv in rows:
                t = y[blk].reshape(S.shape[0], -1) + a * y[half:][blk].reshape(S.shape[0], -1)
                v = np.einsum("ijk,ik->ij", Kinv, (t @ Vt.T) * S) * S
                corr = (v @ Vt).ravel()
                u[blk] = corr
                u[half:][blk] = a * corr
            return y - Binv(u)

        return P


def estimate_multipliers(
    prob, W, b, V, *, method: str = "interior-point", tol: float = 1e-8,
    max_iter: int | None = None, patience: int | None = None, time_limit: float | None = None,
    return_info: bool = False, verbose: bool = False,
):
    """Best multipliers of a fixed point ``z = (W, b, V)``: MODEL.md section 7.

    Solves the convex program of :class:`MultiplierLSQ` over ``M1, M2 >= 0`` from
    :func:`_backward_guess`. Whatever the method and however it stops, the multipliers
    returned give a KKT residual (:func:`~liftnet.verification.kkt.kkt_residuals`) no larger
    than that start's: where the method ends worse, the start itself is returned
    (``kept_start`` in the info); only a Ctrl-C during that comparison returns the
    method's multipliers unchecked (status ``interrupted``). At an exact KKT point with a
    dead unit (``U = V = 0`` on every sample; ``beta = 1000``, ``N = 200``) the start gives
    3.8e-15; the interior point, started from it moved into the interior, had ended at
    4.1e-5, "converged" (3.4e-4 without ``patience``), before its stopping rule was made
    relative to the caller's start; now it ends at about 2e-14 either way (1.8e-14 with
    ``patience``, "stalled"; 2.1e-14 without, "converged"; the scaled start alone gives
    2.7e-14 by its rounding), still above the start's, and the start is returned.

    Parameters
    ----------
    prob : LiftedProblem
    W : list of L arrays ``(n_l, n_{l-1})``
    b : list of L arrays ``(n_l,)`` or None
        Required when ``prob.bias``, ``None`` otherwise.
    V : list of L-1 arrays ``(n_l, N)`` or None
        ``None``: the exact lift ``sigma(U_l)`` (as in
        :func:`~liftnet.verification.kkt.kkt_residuals`).
    method : {"interior-point", "lbfgsb", "bb"}
        ``"interior-point"`` (the default; :mod:`liftnet.solvers.interior_point` with the
        preconditioner of :meth:`MultiplierLSQ.precond`); ``"lbfgsb"``: scipy's L-BFGS-B with
        30 pairs; ``"bb"``: projected gradient with Barzilai-Borwein steps (the least memory).
        ``benchmarks/bench_multipliers.py`` times them against each other.
    tol : float
        Optimality tolerance: the interior point's relative one
        (:func:`~liftnet.solvers.interior_point.interior_point_cg`), the others' largest
        projected-gradient entry (scaled variables).
    max_iter : int or None
        Iterations; ``None``: 200 for the interior point, 5000 for the others.
    patience : int or None
        Interior point only: also stop when the KKT residual the multipliers give
        (:meth:`MultiplierLSQ.score`) has not improved by 1% in ``patience`` iterations, and
        return the multipliers where it was smallest (what :func:`kkt_residuals` asks for: its
        number, not the program's optimum), or at once when that residual is the part no
        multipliers change (the primal infeasibility, the output layer's stationarity); then
        Newton steps on the support (:meth:`MultiplierLSQ.refine`) lower that residual where
        they can. ``None``: solve the program to ``tol``.
    time_limit : float or None
        Seconds of the method's iterations (tested between iterations; for ``lbfgsb``
        before each evaluation of the program, since one of its iterations may take several);
        on expiry the last (with ``patience``: the best) iterate is returned. The set-up
        (the least-squares operator, the first preconditioner) and the comparison with the
        start run outside it (the operator takes 8-10 ms on a 3-40-40-3 network with
        N = 600, and the first call of a process also loads liftnet's compiled kernels); when
        the set-up alone uses it up, no iteration runs and the start is returned (``status``
        ``time_limit``, ``kept_start``).
    return_info : bool
        Also return a dict: ``method``, ``status`` (how the method stopped), ``iterations``,
        ``refined`` (the support's Newton steps improved the interior point's multipliers, and
        those are returned), ``kept_start`` (the start is returned: nothing the method found
        gave a smaller KKT residual), ``seconds``.
    verbose : bool
        Interior point only: one line per iteration (the program's value, with ``patience``
        the best KKT residual so far, seconds) on standard output.

    Returns
    -------
    M1, M2 : lists of L-1 arrays ``(n_l, N)``, nonnegative
    info : dict, only with ``return_info``
    """
    return_info = check_bool(return_info, "return_info")
    M1, M2, info, _ = estimate_with_report(prob, W, b, V, method=method, tol=tol,
                                           max_iter=max_iter, patience=patience,
                                           time_limit=time_limit, verbose=verbose)
    return (M1, M2, info) if return_info else (M1, M2)


def estimate_with_report(prob, W, b, V, *, method: str = "interior-point", tol: float = 1e-8,
                         max_iter: int | None = None, patience: int | None = None,
                         time_limit: float | None = None, verbose: bool = False):
    """:func:`estimate_multipliers` with its info, and ``report``: the
    :func:`~liftnet.verification.kkt.kkt_residuals` report of the multipliers returned (with
    them given, of this ``(W, b, V)``), computed for the comparison with the start (None
    where it was not: multipliers that are not finite, a Ctrl-C in the comparison)."""
    W, b, V = check_point(prob, W, b, V)
    method = check_choice(method, "method", METHODS)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    max_iter = check_scalar(max_iter, "max_iter", low=1, integer=True, allow_none=True)
    patience = check_scalar(patience, "patience", low=1, integer=True, allow_none=True)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    verbose = check_bool(verbose, "verbose")
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    refined = False

    def progress(k, f, best):
        best = "" if best is None else f", KKT residual {best:.3e}"
        print(f"multiplier estimate: iteration {k}, value {f:.6e}{best}, "
              f"{time.monotonic() - t0:.1f} s", flush=True)

    lsq = MultiplierLSQ(prob, W, b, V)
    m0 = lsq.guess()
    # the set-up alone used up time_limit (as it can at 784-256-128-10, N = 4000): no
    # iteration and no comparison, the start itself (kept_start)
    spent = deadline is not None and time.monotonic() > deadline
    if spent:
        m, nit, status = m0, 0, "time_limit"
    elif method == "interior-point":
        m, info = interior_point_cg(
            lsq.value, lsq.gradient, lsq.hessp, lsq.precond, m0, tol=tol,
            max_iter=200 if max_iter is None else max_iter, deadline=deadline,
            score=None if patience is None else lsq.score, patience=patience or 1,
            score_floor=lsq.floor,  # no multipliers lower the residual below it
            callback=progress if verbose else None,
        )
        status, nit = info.status, info.nit
        if patience is not None and status != "interrupted":
            # what kkt_residuals asks for: the residual, which the support's Newton steps
            # lower where the interior point's positive iterates stop short
            m, score = lsq.refine(m, deadline=deadline, score=info.score)
            refined = score < info.score
    elif method == "lbfgsb":
        # The deadline is tested before every evaluation, not only in scipy's per-iteration
        # callback: one L-BFGS-B iteration of a large program (96,000 multipliers) took 0.9 s
        # of evaluations, and time_limit=0.05 returned after 1.3 s (a review, 2026-12-07).
        # Out of time, the last accepted iterate is returned (the start before the first).
        last = {"m": m0, "nit": 0}

        def fun(m):
            if deadline is not None and time.monotonic() > deadline:
                raise _OutOfTime
            v, state = lsq.value(m)
            return v, lsq.gradient(m, state)

        def accepted(intermediate_result):
            last["m"], last["nit"] = intermediate_result.x.copy(), last["nit"] + 1

        try:
            sol = minimize(fun, m0, jac=True, method="L-BFGS-B",
                           bounds=[(0.0, None)] * m0.size, callback=accepted,
                           options={"maxiter": max_iter or 5000, "maxcor": 30, "ftol": 0.0,
                                    "gtol": tol})
        except _OutOfTime:
            m, nit, status = last["m"], last["nit"], "time_limit"
        else:
            m, nit = sol.x, int(sol.nit)
            # scipy's status: 0 converged, 1 out of iterations (or evaluations), 2 anything
            # else, a line search that failed (ABNORMAL): "stalled", as the other solvers'
            status = {0: "converged", 1: "max_iter"}.get(
                int(sol.status), "stalled" if np.isfinite(sol.fun) else "diverged")
    else:
        m, info = prox_gradient_bb(
            lsq.value, lsq.gradient, lambda y, steps: np.maximum(y, 0.0, out=y),
            lambda m, g, state: float(np.max(np.abs(np.where(m > 0, g, np.minimum(g, 0.0))),
                                             initial=0.0)),
            m0, lsq.blocks, tol=tol, max_iter=max_iter or 5000, deadline=deadline,
        )
        status, nit = info.status, info.nit
    dt = prob.dtype
    M1, M2 = ([np.ascontiguousarray(x, dtype=dt) for x in Ms]
              for Ms in lsq.split(np.maximum(m, 0.0)))
    # never worse than the start, by the residual the report computes (the unscaled start:
    # the scaled one's rounding alone moved a residual of 3.8e-15 to 2.7e-14)
    S1, S2 = ([np.ascontiguousarray(x, dtype=dt) for x in Ms] for Ms in lsq.start)
    try:
        start = _report(prob, W, b, V, S1, S2)
        report = start if spent else _report(prob, W, b, V, M1, M2)
        kept_start = spent or _residual(start) < _residual(report)
    except INTERRUPTS as exc:  # Ctrl-C in the comparison: the method's multipliers, as they are
        status, kept_start, report = interrupted(exc), False, None
    if kept_start:
        M1, M2, refined, report = S1, S2, False, start
    info = {"method": method, "status": status, "iterations": nit, "refined": refined,
            "kept_start": bool(kept_start), "seconds": time.monotonic() - t0}
    return M1, M2, info, report


class _OutOfTime(Exception):
    """Raised by the L-BFGS-B objective once the estimate's deadline has passed."""


def _report(prob, W, b, V, M1, M2):
    """The report of :func:`~liftnet.verification.kkt.kkt_residuals` with these multipliers;
    None where they are not finite (an overflow)."""
    from .kkt import kkt_residuals  # (kkt imports this module)

    if not all(np.all(np.isfinite(x)) for x in (*M1, *M2)):
        return None
    return kkt_residuals(prob, W, b, V, M1, M2)


def _residual(report) -> float:
    """The KKT residual of a :func:`_report`; ``inf`` for None (multipliers that are not
    finite), as for a NaN residual."""
    return np.inf if report is None else report.residual

"""The lifted model (M) and the original problem (P) in numpy: MODEL.md sections 1-5.

:class:`LiftedProblem` holds the data and the model's constants and is, with the entrywise
functions it calls (``entrywise.py``, ``couplings.py``, ``penalties.py``), the single source of
the formulas that the solvers and the checks evaluate: the forward pass, ``U_l``, the
constraints ``g1_l, g2_l``, ``F``, ``Phi``, and the partial derivatives of the smooth part.

Conventions (MODEL.md section 1): the public API takes ``X`` of shape ``(N, n_0)`` and
``Y`` of shape ``(N, n_L)``; inside, samples are columns, ``V_0 = X^T`` and ``Y^T``.
Layers are numbered ``l = 1..L`` as in the maths, so ``W[l-1]`` holds ``W_l``.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    as_entry,
    check_bool,
    check_choice,
    check_data,
    check_float_dtype,
    check_list_shapes,
    check_magnitude,
    check_net_shapes,
    check_point,
    check_scalar,
    check_seed,
    check_widths,
)
from .._validation import physical_memory as _physical_memory  # (tests replace it here)
from .couplings import COUPLINGS, make_coupling
from .entrywise import field_D, field_E, gaps
from .penalties import GROUPS, GroupLasso
from .variables import Layout


def _check_fits_in_memory(n_vars: int, hidden, N: int, dtype) -> None:
    """Refuse a model one copy of whose variables ``(W, b, V)`` exceeds the machine's memory:
    every use of it (a forward pass, a solve) holds at least that, and ``hidden=(10**12,)``
    died in numpy's allocator ("Unable to allocate 21.8 TiB") instead of at the parameter."""
    memory = _physical_memory()
    need = n_vars * np.dtype(dtype).itemsize
    if memory is not None and need > memory:
        raise ValueError(
            f"hidden={hidden!r} with N={N} samples gives a lifted model of {n_vars:.3g} "
            f"variables (W, b and the V_l, n_l x N each): {need / 2**30:.3g} GiB for one copy "
            f"in {np.dtype(dtype).name}, more than this machine's memory "
            f"({memory / 2**30:.3g} GiB); the solvers hold several copies: use smaller hidden "
            f"widths or fewer samples"
        )


def leaky_relu(U, alpha: float):
    """``sigma(t) = max(t, alpha t)`` elementwise, ``0 < alpha < 1`` (MODEL.md 1)."""
    return np.maximum(U, alpha * U)


def scale_limit(dtype) -> float:
    """The largest ``lam`` and ``beta`` a problem of ``dtype`` takes: ``1e-2 sqrt(max)`` of the
    dtype (the solvers square both; :class:`LiftedProblem` says what overflowed beyond)."""
    return 1e-2 * float(np.sqrt(np.finfo(dtype).max))


class LiftedProblem:
    """A sparse leaky-ReLU training problem, both as (P) and as its lift (M).

    Parameters
    ----------
    X : array of shape (N, n_0)
        Inputs, one sample per row.
    Y : array of shape (N, n_L) or (N,)
        Targets (regression values or one-hot classes).
    hidden : int or sequence of int
        Hidden widths ``n_1..n_{L-1}`` (at least one hidden layer).
    alpha : float in (0, 1)
        Leaky-ReLU slope, ``sigma(t) = max(t, alpha t)``.
    beta : float > 0
        Weight of the coupling ``pi_l`` in ``F``; at most ``1e-2 sqrt(max)`` of the dtype
        (about 1.3e152 in float64, 1.8e17 in float32), as ``lam``.
    lam : float >= 0
        Weight ``lambda`` of the group regulariser ``R(W)``; at most ``1e-2 sqrt(max)`` of the
        dtype.
    groups : {"column", "row", "element"}
        Groups of ``R`` (MODEL.md section 2).
    coupling : {"complementarity", "squared"}
        Coupling ``pi_l`` (MODEL.md section 4).
    bias : bool
        Whether the layers carry (unregularised) biases ``b_l``.
    dtype : {numpy.float64, numpy.float32}
        Floating type of the data and of every iterate. In float32 the residual a solve can
        certify is limited by rounding, at a level that grows with the penalty ``rho`` (about
        ``rho eps max|V|``, which a solve that stops short of ``tol`` names in its message; on
        a 5-8-6-2 teacher, N = 200, a solve ended at about ``2e-5`` at the default ``beta``
        and ``lam`` and ``1.2e-4`` at ``beta = 5, lam = 1e-2``, 2026-12-07; docs/maths.md
        6.1, "the slope decides"). So ask ``tol`` above that, or go on in float64 from the
        float32 result (``solve_alm(prob64, init=result32)``: there it converged to
        ``1e-6`` in 0.11 s).

    Attributes
    ----------
    N : int
    widths : tuple of int
        ``(n_0, n_1, ..., n_L)``.
    L : int
        Number of layers (weight matrices).
    V0 : array (n_0, N)
        ``X^T`` (a view).
    YT : array (n_L, N)
        ``Y^T`` (a view).
    penalty : GroupLasso
        ``lam * ||.||_2`` over the chosen groups.
    coupling : Coupling
        The object computing ``pi_l`` and its partials.
    layout : Layout
        Packing of ``(W, b, V)`` into one vector.

    Examples
    --------
    A problem on a teacher's data, its sizes and the shapes of ``W_l`` and ``V_l``:

    >>> import numpy as np
    >>> from liftnet import LiftedProblem
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(100, (5, 8, 6, 2), alpha=0.1, noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(8, 6), alpha=0.1, beta=5.0, lam=1e-2)
    >>> prob
    LiftedProblem(N=100, widths=(5, 8, 6, 2), alpha=0.1, beta=5.0, lam=0.01, groups='column',
    coupling='complementarity', bias=False, dtype=float64)
    >>> prob.L, prob.W_shapes, prob.V_shapes, prob.layout.size
    (3, [(8, 5), (6, 8), (2, 6)], [(8, 100), (6, 100)], 1500)

    At a point: the exact lift ``V_l = sigma(U_l)`` is feasible (``g1_l, g2_l <= 0``), and
    there the complementarity coupling vanishes, so ``F = Phi``:

    >>> W, b = prob.initial_weights(seed=0)  # He-initialised W; b is None without bias
    >>> V = prob.lift(W, b)
    >>> g1, g2 = prob.constraints(prob.pre_activations(W, b, V), V)
    >>> bool(max(g.max() for g in g1 + g2) <= 0)
    True
    >>> bool(np.isclose(prob.F(W, b, V), prob.Phi(W, b)))
    True
    """

    def __init__(
        self,
        X,
        Y,
        hidden=(16,),
        alpha: float = 0.1,
        beta: float = 1.0,
        lam: float = 1e-3,
        groups: str = "column",
        coupling: str = "complementarity",
        bias: bool = False,
        dtype=np.float64,
    ):
        dtype = check_float_dtype(dtype)
        X = check_magnitude(check_data(X, "X", ndim=(2,), dtype=dtype), "X")
        Y = check_magnitude(check_data(Y, "Y", ndim=(1, 2), dtype=dtype), "Y")
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of rows (samples), got X with "
                f"{X.shape[0]} and Y with {Y.shape[0]}"
            )
        hidden = check_widths(hidden)
        self.alpha = check_scalar(alpha, "alpha", low=0, high=1, low_inclusive=False,
                                  high_inclusive=False)
        self.beta = check_scalar(beta, "beta", low=0, low_inclusive=False)
        self.lam = check_scalar(lam, "lam", low=0)
        self.groups = check_choice(groups, "groups", GROUPS)
        coupling_name = check_choice(coupling, "coupling", COUPLINGS)
        self.bias = check_bool(bias, "bias")
        self.dtype = dtype
        # the solvers square lam (the pseudo-gradient's norm, the quasi-Newton pairs): beyond
        # about sqrt(max) it overflows (at 1e155 in float64, 1e20 in float32 the ALM reported
        # KKT residual inf), and any lam above the data's zeroing one gives W = 0 anyway;
        # beta scales the coupling's gradients, squared alike (beta=1e200 in float64: the
        # ALM's first step diverged; at 1e152 the solve runs, its residuals finite)
        top = scale_limit(dtype)
        if self.lam > top:
            raise ValueError(f"lam={lam!r} is too large for {np.dtype(dtype).name} (at most "
                             f"{top:.1e}): the solvers square it, which overflows beyond "
                             f"about {100 * top:.1e}; a much smaller lam already gives the "
                             f"zero network")
        if self.beta > top:
            raise ValueError(f"beta={beta!r} is too large for {np.dtype(dtype).name} (at most "
                             f"{top:.1e}): the solvers square the coupling's gradients, which "
                             f"overflows beyond about {100 * top:.1e}")

        self.X = np.ascontiguousarray(X)
        self.Y = np.ascontiguousarray(Y)
        self.N = X.shape[0]
        self.widths = (X.shape[1], *hidden, Y.shape[1])
        self.L = len(self.widths) - 1
        self.V0 = self.X.T
        self.YT = self.Y.T
        self.penalty = GroupLasso(self.lam, self.groups)
        self.coupling = make_coupling(coupling_name, self.alpha)
        self.layout = Layout(self.widths, self.N, self.bias)
        _check_fits_in_memory(self.layout.size, hidden, self.N, dtype)

    def subset(self, rows) -> LiftedProblem:
        """The same model (widths, ``alpha``, ``beta``, ``lam``, groups, coupling, bias, dtype)
        on the samples ``rows`` (indices into ``X``'s rows)."""
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"rows must be a nonempty 1-d array of sample indices, got "
                             f"shape {rows.shape} and dtype {rows.dtype}")
        if rows.min() < -self.N or rows.max() >= self.N:
            raise ValueError(f"rows must index the {self.N} samples, got values in "
                             f"[{rows.min()}, {rows.max()}]")
        return self._like(self.X[rows], self.Y[rows], self.lam)

    def with_lam(self, lam) -> LiftedProblem:
        """The same model on the same data with another ``lam`` (a point of a path)."""
        return self._like(self.X, self.Y, lam)

    def _like(self, X, Y, lam) -> LiftedProblem:
        """This model (widths, ``alpha``, ``beta``, groups, coupling, bias, dtype) on ``X, Y``
        with ``lam``."""
        return LiftedProblem(X, Y, hidden=self.widths[1:-1], alpha=self.alpha, beta=self.beta,
                             lam=lam, groups=self.groups, coupling=self.coupling.name,
                             bias=self.bias, dtype=self.dtype)

    def __repr__(self) -> str:
        return (
            f"LiftedProblem(N={self.N}, widths={self.widths}, alpha={self.alpha}, "
            f"beta={self.beta}, lam={self.lam}, groups={self.groups!r}, "
            f"coupling={self.coupling.name!r}, bias={self.bias}, "
            f"dtype={np.dtype(self.dtype).name})"
        )

    # ----------------------------------------------------------------- shapes
    @property
    def W_shapes(self) -> list[tuple[int, int]]:
        return [(self.widths[l], self.widths[l - 1]) for l in range(1, self.L + 1)]

    @property
    def b_shapes(self) -> list[tuple[int]]:
        return [(self.widths[l],) for l in range(1, self.L + 1)]

    @property
    def V_shapes(self) -> list[tuple[int, int]]:
        return [(self.widths[l], self.N) for l in range(1, self.L)]

    @property
    def coupling_name(self) -> str:
        return self.coupling.name

    # ------------------------------------------------------ network (section 1)
    def sigma(self, U: np.ndarray) -> np.ndarray:
        """Leaky ReLU ``sigma(t) = max(t, alpha t)``, elementwise (:func:`leaky_relu`)."""
        return leaky_relu(np.asarray(U), self.alpha)

    def forward(self, W, b=None, V0=None):
        """Exact forward pass ``V_l = sigma(U_l)``, ``U_l = W_l V_{l-1} + b_l 1^T``.

        Parameters
        ----------
        W : list of L arrays, ``W[l-1]`` of shape ``(n_l, n_{l-1})``
        b : list of L arrays ``(n_l,)`` or None
        V0 : array (n_0, M), optional
            Inputs as columns; default the training ``V_0 = X^T``.

        Returns
        -------
        U : list of L arrays ``(n_l, M)``
        V : list of L-1 arrays ``(n_l, M)``, the hidden activations
        """
        W, b, _ = check_net_shapes(self, W, b)
        if V0 is None:
            V0 = self.V0
        else:  # (complex or object inputs would flow through the pass)
            V0 = as_entry(V0, "V0", f"an array of shape ({self.widths[0]}, M)")
            if V0.ndim != 2 or V0.shape[0] != self.widths[0]:
                raise ValueError(f"V0 must have shape ({self.widths[0]}, M) (inputs as "
                                 f"columns), got {V0.shape}")
        return self._propagate(W, b, V0, self._exact)

    def _exact(self, l, Ul):
        """The activation of the exact forward pass, ``V_l = sigma(U_l)`` (any layer)."""
        return self.sigma(Ul)

    def _propagate(self, W, b, V0, activate, keep=True):
        """``U_l = W_l V_{l-1} + b_l 1^T`` layer by layer, with ``V_l = activate(l, U_l)``;
        ``keep=False`` holds one layer at a time and returns ``([U_L], [])``."""
        Vprev = V0
        U, V = [], []
        for l in range(self.L):
            Ul = self.affine(W[l], None if b is None else b[l], Vprev)
            U.append(Ul)
            if l < self.L - 1:
                Vprev = activate(l, Ul)
                V.append(Vprev)
            if not keep:
                U, V = U[-1:], []
        return U, V

    @staticmethod
    def affine(Wl, bl, Vprev, out=None):
        """``U_l = W_l V_{l-1} + b_l 1^T`` (``bl`` None: no bias), the one place of this formula
        (the forward pass, the lifted model's pre-activations, the ALM's output layer; its
        hidden layers add the bias in their compiled pass). ``out``: an array to write into.
        Integer weights and activations give a floating ``U_l``."""
        Ul = np.matmul(Wl, Vprev, out=out)
        if Ul.dtype.kind not in "fc":
            Ul = Ul.astype(np.result_type(Ul, 1.0))
        if bl is not None:
            Ul += np.asarray(bl)[:, None]
        return Ul

    def lift(self, W, b=None) -> list[np.ndarray]:
        """The feasible lift of ``W`` (MODEL.md 4, fact 1): ``V_l = sigma(U_l)``."""
        return self.forward(W, b)[1]

    def predict(self, W, b, X) -> np.ndarray:
        """Network output ``f(x)`` for the rows of ``X``: array ``(M, n_L)``."""
        W, b, _ = check_point(self, W, b, None, lift=False)
        X = check_data(X, "X", dtype=self.dtype)
        if X.shape[1] != self.widths[0]:
            raise ValueError(f"X must have {self.widths[0]} columns, got {X.shape[1]}")
        return self.forward(W, b, X.T)[0][-1].T

    # ------------------------------------------------------ lifted model (M)
    def pre_activations(self, W, b, V) -> list[np.ndarray]:
        """``U_l = W_l V_{l-1} + b_l 1^T`` for ``l = 1..L`` with the lifted ``V`` (``None``: the
        exact lift of ``(W, b)``, as in :meth:`F`)."""
        W, b, V = check_net_shapes(self, W, b, V)
        if V is None:
            V = self.lift(W, b)
        return [self.affine(W[l], None if b is None else b[l], self.V0 if l == 0 else V[l - 1])
                for l in range(self.L)]

    def sigma_slope(self, U: np.ndarray) -> np.ndarray:
        """``sigma'(U)``: ``1`` where ``U > 0``, ``alpha`` elsewhere (the branch of each entry)."""
        return np.where(U > 0, 1.0, self.alpha).astype(U.dtype, copy=False)

    def branch_lift(self, W, b, S, C):
        """``(U, V)`` from the branch coordinates ``V_l = C_l * U_l + S_l`` (docs/maths.md 6.2).

        With ``C_l = sigma'(U_l)`` the slack ``S_l`` is the gap of the constraint that is
        active on the branch of each entry: ``S = -g1`` where ``C = 1``, ``S = -g2`` where
        ``C = alpha``.
        """
        def activate(l, Ul):
            Vl = C[l] * Ul
            Vl += S[l]
            return Vl

        return self._propagate(W, b, self.V0, activate)

    def constraints(self, U, V):
        """``g1_l = U_l - V_l`` and ``g2_l = alpha U_l - V_l``, ``l = 1..L-1`` (all ``<= 0``;
        :func:`.entrywise.gaps`). ``U`` holds at least the ``L-1`` hidden layers' (the output
        layer's, when given, is not read)."""
        V = check_list_shapes(V, "V", self.V_shapes)
        if not isinstance(U, (list, tuple)) or len(U) < self.L - 1:
            raise ValueError(f"U must be a list of at least {self.L - 1} arrays (the hidden "
                             f"layers' pre-activations), got {type(U).__name__}"
                             + (f" of {len(U)}" if isinstance(U, (list, tuple)) else ""))
        U = check_list_shapes(U[:self.L - 1], "U", self.V_shapes)
        # (integer entries would wrap around, unsigned ones: g1 = 0 - 1 = 255 in uint8)
        U, V = ([a if a.dtype.kind == "f" else a.astype(np.result_type(a, 1.0)) for a in arrs]
                for arrs in (U, V))
        pairs = [gaps(U[l], V[l], self.alpha) for l in range(self.L - 1)]
        return [g1 for g1, _ in pairs], [g2 for _, g2 in pairs]

    def _check_output(self, UL) -> None:
        """``UL`` of the shape of ``Y^T`` (against ``Y^T`` a wrong one would broadcast)."""
        if np.shape(UL) != self.YT.shape:
            raise ValueError(f"UL must have shape {self.YT.shape} (outputs as columns), got "
                             f"{np.shape(UL)}")

    def _check_gaps(self, g1, g2):
        """``g1, g2`` of :meth:`constraints`: ``L-1`` arrays each of the shapes of ``V`` (a
        short list would drop layers from the sums silently; a wrong shape would broadcast)."""
        return (check_list_shapes(g1, "g1", self.V_shapes),
                check_list_shapes(g2, "g2", self.V_shapes))

    def loss(self, UL: np.ndarray) -> float:
        """Data fit ``(1/N) ||U_L - Y^T||_F^2``."""
        self._check_output(UL)
        r = UL - self.YT
        return float(np.vdot(r, r)) / self.N

    def smooth_value(self, UL, g1, g2) -> float:
        """Smooth part ``f = (1/N)||U_L - Y^T||^2 + (beta/N) sum_l pi_l``."""
        g1, g2 = self._check_gaps(g1, g2)
        pi = sum(self.coupling.value_from_gaps(a, c) for a, c in zip(g1, g2))
        return self.loss(UL) + self.beta * pi / self.N

    def regulariser(self, W) -> float:
        """``lam * R(W) = lam * sum_l sum_g ||W_l[g]||_2``."""
        W = check_list_shapes(W, "W", self.W_shapes)
        return sum(self.penalty.value(Wl) for Wl in W)

    def loss_gradient(self, UL: np.ndarray) -> np.ndarray:
        """``dU_L = (2/N)(U_L - Y^T)``, the partial of the data fit."""
        self._check_output(UL)
        return (2.0 / self.N) * (UL - self.YT)

    def smooth_partials(self, UL, g1, g2):
        """Partial derivatives of ``f`` (MODEL.md section 5).

        Returns ``dU`` (L arrays, ``df/dU_l`` with ``U_l`` a variable) and ``dV`` (L-1 arrays,
        ``df/dV_l`` through ``pi_l`` only):
        ``dU_L = (2/N)(U_L - Y^T)``, ``dU_l = (beta/N) dpi/dU``, ``dV_l = (beta/N) dpi/dV``.
        """
        self._check_output(UL)
        g1, g2 = self._check_gaps(g1, g2)
        c = self.beta / self.N
        dU, dV = [], []
        for a, g in zip(g1, g2):
            pV, pU = self.coupling.partials_from_gaps(a, g)
            dU.append(c * pU)
            dV.append(c * pV)
        dU.append(self.loss_gradient(UL))
        return dU, dV

    def backprop(self, W, V, D, E, C=None):
        """Gradient of ``f + <M1, g1> + <M2, g2>`` from its partials (MODEL.md section 5).

        Parameters
        ----------
        W : list of L arrays
            The weights ``W_l`` (``n_l x n_{l-1}``).
        V : list of L-1 arrays
            The auxiliary variables ``V_l`` (``n_l x N``); ``V_0 = X^T`` is the problem's.
        D : list of L arrays
            ``dU_l + G_l`` with ``G_l = M1_l + alpha M2_l`` (``G_L = 0``).
        E : list of L-1 arrays
            ``dV_l - (M1_l + M2_l)``, the direct ``V_l`` part.
        C : list of L-1 arrays, optional
            Branch slopes: the gradient in the branch coordinates ``(W, b, S)`` of
            :meth:`branch_lift` instead of ``(W, b, V)`` (docs/maths.md 6.2).

        Returns
        -------
        gW, gb, gV : ``gW_l = D_l V_{l-1}^T``, ``gb_l = D_l 1`` (None without bias),
            ``gV_l = E_l + W_{l+1}^T D_{l+1}``. With ``C`` the recursion runs from the output
            back, ``D_l <- D_l + C_l * gV_l`` (the chain rule through ``V_l = C_l U_l + S_l``),
            and ``gV_l`` is the gradient in ``S_l``. Views into one flat vector of
            :attr:`layout`.
        """
        def fields(l, gVl):
            gVl += E[l]
            return D[l] if C is None else D[l] + C[l] * gVl

        return self.layout.unpack(self.backprop_into(W, V, D[-1], fields))

    def backprop_into(self, W, V, D_L, fields, out=None) -> np.ndarray:
        """The backward recursion of :meth:`backprop`, written into one flat vector.

        For ``l = L-1, ..., 1``: ``gV_l <- W_{l+1}^T D_{l+1}``, then ``D_l = fields(l, gV_l)``,
        which completes ``gV_l`` in place (adds ``E_l``) and returns ``D_l`` (with the branch
        term when the caller works in branch coordinates). Then ``gW_l = D_l V_{l-1}^T`` and
        ``gb_l = D_l 1``. ``D_L`` is the output layer's ``dU_L``. Returns ``out`` (a new vector
        of :attr:`layout` when ``None``) holding ``(gW, gb, gV)``.
        """
        if out is None:
            out = np.empty(self.layout.size, dtype=np.result_type(D_L, W[-1]))
        gW, gb, gV = self.layout.unpack(out)
        D = [None] * (self.L - 1) + [D_L]
        for l in range(self.L - 2, -1, -1):
            np.matmul(W[l + 1].T, D[l + 1], out=gV[l])
            D[l] = fields(l, gV[l])
        for l in range(self.L):
            np.matmul(D[l], (self.V0 if l == 0 else V[l - 1]).T, out=gW[l])
            if self.bias:
                D[l].sum(axis=1, out=gb[l])  # (the method: np.sum's wrapper costs microseconds)
        return out

    def lagrangian_fields(self, dU, dV, M1, M2):
        """The inputs ``D, E`` of :meth:`backprop` (MODEL.md section 5):
        ``D_l = dU_l + M1_l + alpha M2_l`` (``D_L = dU_L``), ``E_l = dV_l - M1_l - M2_l``
        (:func:`.entrywise.field_D`, :func:`.entrywise.field_E`)."""
        D = [field_D(dU[l], M1[l], M2[l], self.alpha) for l in range(self.L - 1)] + [dU[-1]]
        E = [field_E(dV[l], M1[l], M2[l]) for l in range(self.L - 1)]
        return D, E

    def lagrangian_gradient(self, W, b, V, M1, M2):
        """``grad_z [f(z) + sum_l <M1_l, g1_l> + <M2_l, g2_l>]`` as ``(gW, gb, gV)``.
        Entries given as nested sequences are converted (arrays are used as they are);
        ``V = None`` is the exact lift of ``(W, b)``, as in :meth:`F`."""
        M1 = check_list_shapes(M1, "M1", self.V_shapes)
        M2 = check_list_shapes(M2, "M2", self.V_shapes)
        W, b, V = check_net_shapes(self, W, b, V)
        if V is None:
            V = self.lift(W, b)
        U = self.pre_activations(W, b, V)
        g1, g2 = self.constraints(U, V)
        dU, dV = self.smooth_partials(U[-1], g1, g2)
        return self.backprop(W, V, *self.lagrangian_fields(dU, dV, M1, M2))

    def F(self, W, b, V=None) -> float:
        """Objective of (M): ``f(W, b, V) + lam R(W)`` (MODEL.md section 4); ``V = None`` is the
        exact lift of ``(W, b)`` (where ``F = Phi`` for the complementarity coupling)."""
        W, b, V = check_net_shapes(self, W, b, V)
        if V is None:
            V = self.lift(W, b)
        U = self.pre_activations(W, b, V)
        g1, g2 = self.constraints(U, V)
        return self.smooth_value(U[-1], g1, g2) + self.regulariser(W)

    def Phi(self, W, b=None) -> float:
        """Objective of (P): ``(1/N)||f(X) - Y||^2 + lam R(W)`` at the exact forward pass."""
        W, b, _ = check_net_shapes(self, W, b)
        U, _ = self._propagate(W, b, self.V0, self._exact, keep=False)
        return self.loss(U[-1]) + self.regulariser(W)

    # ------------------------------------------------------------- utilities
    def initial_weights(self, seed=None):
        """Random ``W`` (He initialisation for leaky ReLU) and zero ``b``, reproducible."""
        rng = np.random.default_rng(check_seed(seed, allow_none=True))
        gain = np.sqrt(2.0 / (1.0 + self.alpha**2))
        W = [
            (gain / np.sqrt(shp[1]) * rng.standard_normal(shp)).astype(self.dtype)
            for shp in self.W_shapes
        ]
        b = [np.zeros(s, dtype=self.dtype) for s in self.b_shapes] if self.bias else None
        return W, b

    def zero_multipliers(self):
        """``M1 = M2 = 0`` with the shapes of ``g1, g2``."""
        return (
            [np.zeros(s, dtype=self.dtype) for s in self.V_shapes],
            [np.zeros(s, dtype=self.dtype) for s in self.V_shapes],
        )

"""The one result type every liftnet solver returns (scipy.optimize style)."""

from __future__ import annotations

#: every ``status`` a liftnet solver returns (``uncertified``: IPOPT's only)
STATUSES = ("converged", "max_iter", "time_limit", "interrupted", "diverged", "failed",
            "uncertified")


class LiftedResult(dict):
    """Solution of the lifted model (M): a dict with attribute access.

    Attributes
    ----------
    W : list of L arrays
        ``W[l-1]`` is ``W_l`` of shape ``(n_l, n_{l-1})``.
    b : list of L arrays or None
        Biases ``b_l`` (``None`` when the problem has none).
    V : list of L-1 arrays ``(n_l, N)``
        Auxiliary variables.
    M1, M2 : list of L-1 arrays ``(n_l, N)``, ``>= 0``
        Multipliers of ``g1_l <= 0`` and ``g2_l <= 0`` (MODEL.md section 5 sign convention).
    status : str
        One of ``converged`` (the KKT certificate holds: residual at most the tolerance),
        ``max_iter``, ``time_limit``, ``interrupted``, ``diverged``, ``failed``; and for IPOPT
        ``uncertified`` (IPOPT converged on its own measure, liftnet's certificate does not).
    message : str
        Why the solver stopped, in words.
    success : bool
        ``status == "converged"``.
    kkt : KKTReport
        KKT residuals of MODEL.md section 5 at ``(W, b, V, M1, M2)``.
    objective : float
        ``F(W, b, V)`` (the baselines, which solve (P): ``Phi``).
    Phi : float
        ``Phi(W, b)`` of MODEL.md 3: the network's objective at the exact forward pass.
    groups : str
        The problem's group structure (``column``, ``row``, ``element``), which
        :attr:`sparsity` reads.
    nit : int
        Outer iterations (ALM) or solver iterations (IPOPT).
    history : list of dict
        One record per outer iteration. The ALM's: ``k``, ``rho`` and ``eps`` used by the
        subproblem, ``violation`` (MODEL.md 6, step 3), ``inner_iterations``,
        ``polish_iterations`` (of the weight polish after a long solve, docs/maths.md 6.4,
        and of the polished copies of the test that may end a solve near ``tol``, 6.5),
        ``inner_status`` (``finished``: ended by that test, whose point certifies ``tol``),
        ``inner_residual`` (the residual the subproblem reached), ``time``,
        the KKT report's ``objective`` (``F``), parts and ``residual`` at the new iterate, and
        ``Phi`` (MODEL.md 3) of its network ``(W, b)`` (one forward pass, off the ALM's clock).
    start : dict or None
        The ALM's: ``time`` (on its clock), ``Phi`` (of the network, off the clock) and KKT
        ``residual`` of the certified point it started from (after a presolve: the lift of the
        presolve's network); ``None`` when stopped before that certificate. Unless converged
        (then the last record's point), the ALM returns the first point of smallest
        ``residual`` among the start and the points of its history records.
    time : float
        Seconds of the solve; the ALM's leave out ``time_excluded``, its reporting-only ``Phi``
        evaluations (as the baselines' clocks leave out their objective evaluations).
    time_excluded : float
        The ALM's and the baselines': seconds left out of ``time`` (reporting-only ``Phi``
        evaluations, callbacks, a kernel warm-up).
    solver : str
        ``"alm"``, ``"ipopt"``, ...

    Each solver adds keys of its own, listed in its Returns section: the ALM's ``n_inner``,
    ``rho``, ``eps``, ``tol``, ``n_restarts``, ``presolve`` (:func:`liftnet.solve_alm`);
    IPOPT's ``interface``, ``ipopt_status``, ``polish_threshold``, ``n_zero_groups``,
    ``kkt_phase1`` (:func:`liftnet.solve_ipopt`); the baselines' group counts
    (``n_groups``, ``n_zero_groups``, ``n_small_groups``, ``sparsity_small``), ``lam`` and
    ``dtype``. :attr:`sparsity` is a property, not a key.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __dir__(self):
        return sorted({*self.keys(), *super().__dir__()})

    def copy(self) -> LiftedResult:
        """A shallow copy that is a ``LiftedResult`` (``dict.copy`` would give a plain dict,
        without attribute access or ``sparsity``)."""
        return type(self)(self)

    def __repr__(self) -> str:
        keys = ("solver", "status", "message", "objective", "nit", "time")
        body = ", ".join(f"{k}={self[k]!r}" for k in keys if k in self)
        residual = (self.get("kkt") or {}).get("residual")  # (a partial kkt: none shown)
        if residual is not None:
            body += f", kkt_residual={residual:.3e}"
        return f"LiftedResult({body})"

    @property
    def sparsity(self) -> float:
        """Fraction of weight groups that are exactly zero, of the result's ``groups``
        (``column`` where the result has no ``groups``; every solver's result has)."""
        from ..formulation.penalties import GroupLasso

        pen = GroupLasso(0.0, self.get("groups", "column"))
        n = sum(pen.n_groups(Wl.shape) for Wl in self.W)
        return pen.n_zero_groups(self.W) / n

"""IPOPT on the Pyomo declaration of (M), with an active-group polish: MODEL.md section 7.

:func:`solve_ipopt` solves :func:`liftnet.formulation.pyomo_model.build_pyomo_model` with IPOPT
(cyipopt through PyNumero, or an ``ipopt`` executable; :mod:`.ipopt_backends`) and returns the
same :class:`LiftedResult` as :func:`liftnet.solve_alm`, multipliers in MODEL.md's sign
convention (``M1, M2 >= 0``, section 5).

Why a polish. In the epigraph form ``||W_l[g]||^2 <= t^2, t >= 0`` a zero group is a point where
the constraint's gradient vanishes (``W_l[g] = 0, t = 0``): the NLP has no multipliers there,
and IPOPT's interior point stalls with such groups at about ``1e-4``, never exactly zero. So
after the first solve (phase 1):

1. groups with ``||W_l[g]|| <= zero_threshold`` are declared zero: ``W_l[g] = 0`` and ``t = 0``
   are fixed and ``epi[l,g]`` is deactivated;
2. the rest is re-solved from the phase-1 point and multipliers (phase 2, a smooth problem:
   every remaining group has ``t > 0``);
3. a zero group whose gradient ``q`` breaks its optimality condition ``||q|| <= lam`` (MODEL.md
   section 5) by more than the certificate's tolerance (``max(tol, CERTIFY_TOL)``) is released;
   a free group below the threshold that IPOPT pushed back towards zero (a released one, or
   one phase 1 left above the threshold), where it fails its residual as a nonzero group but
   meets ``||q|| <= lam`` as a zero one, is fixed again; and step 2 repeats (at most
   ``max_polish_rounds`` times; no group is released twice, so fix and release cannot cycle).
   When only groups to fix again are left and IPOPT's multipliers certify the point with
   those groups set to exact zeros, that point is returned without another round.

The returned point has exact zeros, so the nonsmooth KKT residual of
:func:`liftnet.kkt_residuals` applies to it as it is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from .._validation import (
    check_bool,
    check_ipopt_iterations,
    check_problem,
    check_scalar,
    check_seed,
)
from ..formulation.pyomo_model import (
    BuildTimeLimit,
    build_pyomo_model,
    gc_paused,
    get_values,
    group_broadcast,
    set_values,
)
from ..verification.kkt import kkt_residuals
from ._interrupt import INTERRUPTS, interrupted
from .init import check_start_Phi, parse_init
from .ipopt_backends import add_suffixes, copy_bound_multipliers_in, not_started, select_backend
from .result import LiftedResult

#: liftnet's KKT residual (MODEL.md 5) at most which a point IPOPT converged to counts as
#: converged (with ``tol`` when that is larger): the ALM's default ``tol`` and the cross-check's
CERTIFY_TOL = 1e-6
#: phase 1's NLP build is not begun with less time left than this many times the Pyomo model's
#: build took: IPOPT would start at the deadline or past it. Measured (2 cores, teacher
#: 4-6-6-2): the NLP build (PyomoNLP) took 1.7-2.1 times the model's build at N = 400 and 1000,
#: 3-8 times at N = 60 and in a fresh process (PyNumero's first load); begun with 0.5 s of a
#: 1 s limit left (N = 400), it took 1.55 s and IPOPT never ran
NLP_BUILD_RATIO = 2.0
#: IPOPT options of a warm start: keep the given point and multipliers (barely pushed inside).
WARM_START_OPTIONS = {
    "warm_start_init_point": "yes",
    "warm_start_bound_push": 1e-9,
    "warm_start_bound_frac": 1e-9,
    "warm_start_slack_bound_push": 1e-9,
    "warm_start_slack_bound_frac": 1e-9,
    "warm_start_mult_bound_push": 1e-9,
    "mu_init": 1e-8,
}


def default_zero_threshold(prob, W) -> float:
    """Threshold under which a group of an IPOPT point counts as zero: ``1e-3 * max(1, max
    ||W_l[g]||)``. Phase 1 leaves zero groups near ``1e-4`` and nonzero ones well above it; a
    group wrongly declared zero is released by the polish's optimality test."""
    top = max((float(np.max(prob.penalty.group_norms(Wl))) for Wl in W), default=0.0)
    return 1e-3 * max(1.0, top)


def _multipliers(m, prob, sign):
    """``(M1, M2)`` (MODEL.md sign) from the model's ``dual`` suffix, clipped at zero."""
    M1, M2 = prob.zero_multipliers()
    for (l, i, k), con in m.g1.items():
        M1[l - 1][i - 1, k - 1] = sign * m.dual.get(con, 0.0)
    for (l, i, k), con in m.g2.items():
        M2[l - 1][i - 1, k - 1] = sign * m.dual.get(con, 0.0)
    return [np.maximum(x, 0.0) for x in M1], [np.maximum(x, 0.0) for x in M2]


def _set_warm_duals(m, prob, M1, M2, sign) -> None:
    """Warm-start multipliers: ``M`` for ``g1, g2``; for ``epi[l,g]`` the value ``lam/(2t)``
    that makes the ``t`` stationarity hold, and ``lam`` for the bound ``t >= 0`` of zero groups."""
    set_values_duals = {}
    for (l, i, k), con in m.g1.items():
        set_values_duals[con] = sign * float(M1[l - 1][i - 1, k - 1])
    for (l, i, k), con in m.g2.items():
        set_values_duals[con] = sign * float(M2[l - 1][i - 1, k - 1])
    for (l, g), con in m.epi.items():
        t = m.t[l, g].value
        set_values_duals[con] = sign * (prob.lam / (2.0 * t) if t > 0 else 0.0)
        m.ipopt_zL_in[m.t[l, g]] = prob.lam if t <= 0 else 0.0
    m.dual.update(set_values_duals)


def _fix_zero_groups(m, prob, zero) -> None:
    """Fix ``W_l[g] = 0``, ``t[l,g] = 0`` and deactivate ``epi[l,g]`` for the flagged groups;
    free the others (a released group restarts at a small nonzero ``t``)."""
    for (l, g), tvar in m.t.items():
        flag = bool(zero[l - 1].ravel()[g - 1])
        entries = [m.W[l, i, j] for i, j in m.G[l, g]]
        if flag:
            tvar.fix(0.0)
            m.epi[l, g].deactivate()
            for w in entries:
                w.fix(0.0)
        else:
            was_fixed = tvar.fixed
            tvar.unfix()
            m.epi[l, g].activate()
            for w in entries:
                w.unfix()
            if was_fixed:
                tvar.set_value(max(tvar.value, 1e-6))


def check_ipopt_options(options):
    """``options`` of :func:`solve_ipopt` as a dict of IPOPT's value types: names are ``str``;
    values ``str``, ``int`` or ``float``, numpy scalars taken as the Python ones (IPOPT
    refused ``np.int64(5)`` and ``np.float32(1e-6)``, and the refusal came back as a failed
    solve after the model was built). An option IPOPT does not know, or a value it refuses,
    still comes back as a ``failed`` result with IPOPT's message (the names are IPOPT's); but
    NaN, which IPOPT takes without a word (``tol=nan`` ran), is a ``ValueError`` naming the
    option."""
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict of IPOPT options, got {type(options).__name__}")
    out = {}
    for k, v in options.items():
        if not isinstance(k, str):
            raise TypeError(f"options keys must be IPOPT option names (str), got {k!r}")
        if isinstance(v, np.generic) and not isinstance(v, np.bool_):
            v = v.item()
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (str, int, float)):
            raise TypeError(f"options[{k!r}] must be a str, int or float (IPOPT's option "
                            f"types; 'yes'/'no' for a flag), got {v!r}")
        if isinstance(v, float) and v != v:  # NaN
            raise ValueError(f"options[{k!r}] must be a number, got nan")
        out[k] = v
    return out


def _options(tol, max_iter, verbose, polish_phase, extra):
    """IPOPT options of one call (``max_wall_time`` is the backend's: what is left of the
    deadline when IPOPT starts). In a polish phase every group left has ``t > 0`` and the
    barrier's leftovers matter: ``t - ||W_l[g]||`` (set by the slack of ``epi`` and by the
    relaxed bound ``bound_relax_factor``) enters the group's stationarity as
    ``lam W (1/t - 1/||W||)``, so bounds are not relaxed and complementarity is driven to
    ``1e-4 tol``."""
    opts = {
        "tol": tol,
        "dual_inf_tol": tol,
        "constr_viol_tol": tol,
        "compl_inf_tol": 1e-4 * tol if polish_phase else tol,
        "bound_relax_factor": 0.0 if polish_phase else 1e-8,
        "max_iter": max_iter,
        "print_level": 5 if verbose else 0,
        "sb": "yes",
    }
    opts.update(extra or {})
    return opts


# the collector stays paused until the call returns: resumed after the build, its first
# collection walked the model at once (0.3-0.7 s at the digits' size), past the deadline
@gc_paused
def solve_ipopt(
    prob,
    init=None,
    tol: float = 1e-8,
    polish: bool = True,
    max_iter: int = 3000,
    time_limit: float | None = None,
    zero_threshold: float | None = None,
    solver: str | None = None,
    verbose: bool = False,
    *,
    seed=0,
    max_polish_rounds: int = 5,
    options: dict | None = None,
    callback=None,
) -> LiftedResult:
    """Solve (M) with IPOPT on its Pyomo declaration, then polish the zero groups (MODEL.md 7).

    Parameters
    ----------
    prob : LiftedProblem
    init : None, LiftedResult or mapping
        Start ``W`` and optionally ``b, V, M1, M2`` (:func:`liftnet.solvers.init.parse_init`).
        When ``M1`` and ``M2`` are given, IPOPT is warm-started with them
        (``warm_start_init_point``, :data:`WARM_START_OPTIONS`).
    tol : float > 0
        IPOPT's ``tol``, ``dual_inf_tol``, ``constr_viol_tol`` and ``compl_inf_tol`` (in the
        polish rounds ``compl_inf_tol`` is ``1e-4 tol`` and bounds are not relaxed,
        ``bound_relax_factor=0``: the barrier's leftovers enter the groups' stationarity).
    polish : bool
        Fix the groups below ``zero_threshold`` to exact zeros and re-solve (module docstring).
    max_iter : int
        IPOPT iterations per phase.
    time_limit : float or None
        Wall-clock seconds for the whole call, the model and NLP builds included: the Pyomo
        model's build stops at the deadline (:func:`build_pyomo_model`'s ``deadline``),
        status ``time_limit`` with the start point; IPOPT's ``max_wall_time`` in each phase is
        what is left when IPOPT starts, after that phase's NLP is built (the smaller of it and
        an ``options`` value). With nothing left IPOPT is not started; phase 1's NLP build is
        not begun when less is left than :data:`NLP_BUILD_RATIO` times the model's build took,
        nor a polish round when less is left than phase 1's NLP build took: status
        ``time_limit``, the best point so far. The first call with a limit in a process loads
        liftnet's compiled kernels (those of the KKT checks) before the clock starts
        (:func:`liftnet.solvers.alm.warm_up`, as :func:`liftnet.solve_alm` does: 0.2-0.3 s
        from numba's disk cache, seconds after a compile); a Ctrl-C there returns the start
        point, ``interrupted``. The call can end later by what cannot be cut short: one
        component of the Pyomo model under way (a set, parameter or variable, built whole:
        0.07 s at N = 1000, widths 6-8-8-3; the data ``V0`` of the digits, N = 1347, widths
        64-32-16-10, 0.14-0.25 s, so that ``time_limit=0.2`` there ended 0.05 s late, median
        of five, at most 0.10 s, ``benchmarks/bench_time_limits.py --entries ipopt``; the
        expressions and constraints stop between entries), the NLP
        build under way, IPOPT's iteration under way, and the final KKT check. The seconds
        of ``callback`` count (this limit and ``time`` are on the wall clock, as IPOPT's
        ``max_wall_time`` is, which cannot be paused), unlike those of
        :func:`liftnet.solve_alm`'s and the baselines' callbacks, which are off their clocks.
    zero_threshold : float >= 0 or None
        Groups with ``||W_l[g]|| <= zero_threshold`` after phase 1 are fixed to zero, and so
        are those a polish round leaves under it that fail their residual as nonzero groups
        but meet ``||q|| <= lam`` (module docstring); default :func:`default_zero_threshold`.
        The value used is returned as ``polish_threshold``.
    solver : {None, "cyipopt", "ipopt"}
        Interface: the cyipopt library, an ``ipopt`` executable, or ``None`` (the first of
        them that is available).
    verbose : bool
        IPOPT's own log (``print_level=5``).
    seed : int or None
        Random initial weights when ``init`` is None (``prob.initial_weights(seed)``, lifted).
    max_polish_rounds : int
        Re-solve rounds of the polish (release and fix again; module docstring).
    options : dict or None
        Extra IPOPT options (override the ones above).
    callback : callable or None
        ``callback(record)`` after every IPOPT iteration of every phase (cyipopt interface
        only: the executable reports none), ``record`` a dict with ``phase`` (``"phase 1"``,
        ``"polish 1"``, ...), ``iteration`` (IPOPT's count within the phase), ``time`` (seconds
        since the call began, the model build included), IPOPT's ``objective``, ``inf_pr``,
        ``inf_du``, ``mu``, ``restoration``, and ``iterate``: a function that returns the
        current point as a dict ``W, b, V, M1, M2`` (MODEL.md's convention, as the result's),
        for a caller that checks it with :func:`liftnet.kkt_residuals` (e.g. IPOPT's time to
        a KKT residual, ``benchmarks/bench_ipopt.py``); calling it costs a copy of the point
        into the Pyomo model, and it returns None once the callback has returned. Returning
        True stops IPOPT after that iteration: status ``interrupted``, the point checked as
        any other; in the polish, the point before the stopped round (phase 1's, or the last
        converged round's), the message naming the round. A KeyboardInterrupt raised in the
        callback stops IPOPT the same way (as a Ctrl-C does; the run's iterations and history
        kept); any other exception is raised again once IPOPT has returned. Its seconds are
        on the call's wall clock: in ``time`` and the records' ``time``, and they use up
        ``time_limit`` (IPOPT's ``max_wall_time`` runs on while the callback does).

    Returns
    -------
    LiftedResult
        ``W, b, V, M1, M2`` (multipliers ``>= 0``, MODEL.md 5; in ``prob.dtype``), ``status``,
        ``message``
        (IPOPT's), ``success``, ``kkt`` (:func:`liftnet.kkt_residuals` at the returned point with
        these multipliers), ``objective`` (``prob.F``), ``Phi``, ``nit`` (IPOPT iterations, all
        phases), ``history`` (one record per IPOPT call, with its ``build_time``, the seconds
        of its NLP build), ``time``, ``solver="ipopt"``, ``interface``
        (``"cyipopt"``/``"ipopt"``), ``ipopt_status`` (IPOPT's name of the last call; ``"not
        started"`` when the time ran out before it, ``"interrupted"`` for a Ctrl-C outside
        IPOPT), ``polish_threshold`` (``None`` without polish), ``n_zero_groups``,
        ``kkt_phase1`` (residual of the phase-1 point, groups below the threshold zeroed:
        ``zero_threshold`` or :func:`default_zero_threshold`, also with ``polish=False``,
        where ``polish_threshold`` is None; None when IPOPT was not started).
        Failures (no IPOPT, infeasible, iteration or time limit) come back as ``failed``,
        ``max_iter``, ``time_limit``, ``diverged`` with IPOPT's message. A polish round that
        does not converge ends the polish with the point before it (phase 1's or the last
        converged round's), and the round's status, except when the first round fails on its
        own (not stopped by the time limit or an interruption): phase 1's. ``converged`` means
        what it means for :func:`liftnet.solve_alm`: liftnet's KKT residual of the returned
        point is at most ``max(tol, CERTIFY_TOL)``. When IPOPT converged on its own measure
        but the point fails that, the status is ``uncertified`` and the message says so:
        without the polish (its small groups are not exact zeros), or with a
        ``zero_threshold`` that keeps groups IPOPT left near zero (their nonsmooth
        residual is then off by up to ``2 lam``) or zeroes a group that is not zero. Ctrl-C (cyipopt
        interface, main thread) stops IPOPT after its current iteration: ``interrupted``, with
        that point in phase 1 (:func:`liftnet.solvers.ipopt_backends.ctrl_c_requests_stop`),
        and in a polish round with the point before the round (as for the callback). Ctrl-C
        anywhere else (building the Pyomo model or a phase's NLP, between phases) returns the
        best point so far, ``interrupted``, the message saying where: the start point before
        phase 1 has one, then the phase-1 point, then the last converged polish round's.
        Wherever the phase-1 point comes back with ``polish`` on (phase 1 stopped or failed,
        no polish round finished, a Ctrl-C after phase 1, in its certificate included), it
        is the better certified, by liftnet's residual, of IPOPT's point and the same point
        with its groups ``<= zero_threshold`` set to exact zeros (the point the polish starts
        from, of residual ``kkt_phase1``), the message saying which: IPOPT's own point, its
        small groups not exact zeros, had a residual of 1e-2 where the zeroed one had 1.7e-7.

    Examples
    --------
    A tiny instance (N = 20, widths 3-4-4-2): IPOPT, then the polish, to a certified KKT
    point of (M) with exact zero groups and multipliers ``M1, M2 >= 0``:

    >>> from liftnet import LiftedProblem, kkt_residuals, solve_ipopt
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(20, (3, 4, 4, 2), alpha=0.1, noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4, 4), alpha=0.1, beta=1.0, lam=1e-2)
    >>> res = solve_ipopt(prob, seed=0)
    >>> res.status, res.solver, [w.shape for w in res.W], [v.shape for v in res.V]
    ('converged', 'ipopt', [(4, 3), (4, 4), (2, 4)], [(4, 20), (4, 20)])
    >>> bool(res.kkt["residual"] <= 1e-6), all(bool((m >= 0).all()) for m in res.M1 + res.M2)
    (True, True)

    The certificate is liftnet's own check at the returned point with these multipliers:

    >>> own = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    >>> bool(own["residual"] == res.kkt["residual"])
    True
    """
    check_problem(prob)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    seed = check_seed(seed, allow_none=True)
    verbose = check_bool(verbose, "verbose")
    max_iter = check_ipopt_iterations(max_iter)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False, allow_none=True)
    zero_threshold = check_scalar(zero_threshold, "zero_threshold", low=0, allow_none=True)
    max_polish_rounds = check_scalar(max_polish_rounds, "max_polish_rounds", low=1, integer=True)
    polish = check_bool(polish, "polish")
    options = check_ipopt_options(options)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")

    cert_tol = max(tol, CERTIFY_TOL)
    t0 = time.monotonic()
    W, b, V, M1, M2 = parse_init(prob, init, seed)
    with np.errstate(over="ignore", invalid="ignore"):
        check_start_Phi(prob, prob.Phi(W, b))
    warm = isinstance(init, Mapping) and init.get("M1") is not None and init.get("M2") is not None
    backend, reason = select_backend(solver)
    if backend is None:
        return _result(prob, W, b, V, M1, M2, "failed", reason, [], t0, None, "unavailable",
                       None, None, cert_tol)
    if callback is not None and not backend.reports_iterations:
        raise ValueError(f"callback needs the cyipopt interface (solver='cyipopt'); the "
                         f"{backend.name!r} interface reports no iterations")
    if time_limit is not None:
        from .alm import is_warm, warm_up

        if not is_warm(prob.dtype):
            # numba's first load (or compile) in this process of the kernels the KKT checks
            # run: off the clock, as solve_alm's. On it, that load came after the deadline, in
            # the final check (0.2-0.5 s: time_limit=0.3 s ended at 0.75-0.84 s)
            off = time.monotonic()
            try:
                warm_up(prob.dtype)
            except INTERRUPTS as exc:
                status = interrupted(exc)
                return _result(prob, W, b, V, M1, M2, status, "interrupted while loading "
                               "liftnet's compiled kernels (before the clock starts): the start "
                               "point returned", [], t0, None, "interrupted", None, None,
                               cert_tol)
            t0 += time.monotonic() - off
    deadline = None if time_limit is None else t0 + time_limit

    def remaining():
        return None if deadline is None else deadline - time.monotonic()

    # Minutes at large N: a Ctrl-C here returns the start point (IPOPT has none yet), and so
    # does the time limit, which the build looks at as it goes (it ran to its end, 1.6 s at
    # N = 1000, widths 6-8-8-3, under a time_limit of 0.5 s)
    try:
        # (both clock readings inside the handler: a Ctrl-C in them returns the start too)
        model_start = time.monotonic()
        m = build_pyomo_model(prob, deadline=deadline)
        add_suffixes(m)
        set_values(m, W, b, V)
        if warm:
            _set_warm_duals(m, prob, M1, M2, backend.dual_sign)
        model_build = time.monotonic() - model_start
        built = deadline is None or remaining() > 0  # (the NLP IPOPT needs comes on top)
    except BuildTimeLimit:
        built = False
    except INTERRUPTS as exc:
        status = interrupted(exc)
        return _result(prob, W, b, V, M1, M2, status,
                       "interrupted while building the Pyomo model: the start point returned",
                       [], t0, None, "interrupted", None, None, cert_tol)
    if not built:
        return _result(prob, W, b, V, M1, M2, "time_limit",
                       f"time_limit={time_limit:g} s reached while building the Pyomo model: "
                       "the start point returned", [], t0, None, "not started", None, None,
                       cert_tol)
    left = remaining()
    if left is not None and left < NLP_BUILD_RATIO * model_build:
        # phase 1's NLP build would end past the deadline, with no time left to start IPOPT
        # (as for a polish round, which compares with phase 1's NLP build): it ran whatever
        # was left (time_limit=1 s at N = 400: begun with 0.5 s left, it took 1.55 s)
        return _result(prob, W, b, V, M1, M2, "time_limit",
                       f"time_limit={time_limit:g} s: {max(left, 0.0):.2g} s left after the "
                       f"Pyomo model's build ({model_build:.2g} s), less than IPOPT's NLP build "
                       f"takes ({NLP_BUILD_RATIO:g} times the model's or more): IPOPT not "
                       "started, the start point returned", [], t0, None, "not started", None,
                       None, cert_tol)

    history = []

    def run(phase, warm_now):
        opts = _options(
            tol,
            max_iter,
            verbose,
            phase != "phase 1",
            {**(WARM_START_OPTIONS if warm_now else {}), **(options or {})},
        )
        per_iteration = None
        if callback is not None:
            def per_iteration(info, load):
                def iterate():
                    if not load():
                        return None
                    Wc, bc, Vc = get_values(m)
                    M1c, M2c = _multipliers(m, prob, backend.dual_sign)
                    return dict(W=Wc, b=bc, V=Vc, M1=M1c, M2=M2c)

                return callback({"phase": phase, **info, "time": time.monotonic() - t0,
                                 "iterate": iterate})

        # the backend gives IPOPT what is left of the deadline once the phase's NLP is built
        r = backend.solve(m, opts, warm_now, verbose, callback=per_iteration, deadline=deadline)
        history.append({"phase": phase, "interface": backend.name, **r.to_dict()})
        copy_bound_multipliers_in(m)
        return r

    # What a Ctrl-C outside IPOPT's iterations returns (IPOPT's own stop on the flag keeps its
    # point): in the NLP build of a phase (3.6 s of each at N = 1000, widths 4-8-8-2) or in
    # liftnet's steps between phases, the best point so far, from the arrays kept here (the
    # model may hold half of an update), and where it happened
    last = ("start point", W, b, V, M1, M2)
    where, thr, kkt1 = "phase 1", None, None
    try:
        r = phase1 = run("phase 1", warm)
        W, b, V = get_values(m)
        M1, M2 = _multipliers(m, prob, backend.dual_sign)
        started = r.ipopt_status != "not started"  # (no time was left after the NLP build)
        last = ("phase-1 point" if started else "start point", W, b, V, M1, M2)
        thr = default_zero_threshold(prob, W) if zero_threshold is None else zero_threshold
        kkt1 = _safe_kkt(prob, W, b, V, M1, M2, thr) if started else None
        if r.status != "converged" or not polish:
            # stopped, or failed: with the polish, the better certified of IPOPT's point and
            # that point with its small groups zeroed (kkt1); without it, IPOPT's point
            Wr, kr, how = _phase1_best(prob, W, b, V, M1, M2, thr if polish else None, kkt1)
            return _result(prob, Wr, b, V, M1, M2, r.status, r.message + how, history, t0,
                           kr, r, thr if polish else None, kkt1, cert_tol)

        pen = prob.penalty
        zero = [pen.zero_groups(Wl, thr) for Wl in W]
        # the groups released so far: none is released twice (no fix-release cycle; with
        # max_polish_rounds, the polish ends)
        released = [np.zeros_like(z) for z in zero]
        best = None  # the last converged polish round: (W, b, V, M1, M2, run)
        note = f"polish stopped after max_polish_rounds={max_polish_rounds}"
        for k in range(max_polish_rounds):
            where = f"polish round {k + 1}"
            left, build = remaining(), phase1.build_time or 0.0
            if left is not None and left <= build:
                # the round's NLP build alone (about phase 1's: the same model, a few variables
                # fixed) would end past the deadline, with no time left to start IPOPT
                r = not_started(f"{max(left, 0.0):.2g} s of time_limit={time_limit:g} s left, "
                                f"less than the NLP build of phase 1 ({build:.2g} s)",
                                time.monotonic())
                note = f"{where} stopped: {r.message}"
                break
            _fix_zero_groups(m, prob, zero)
            r = run(f"polish {k + 1}", True)
            if r.status != "converged":
                note = f"{where} stopped: {r.message}"
                break
            Wp, bp, Vp = get_values(m)
            M1p, M2p = _multipliers(m, prob, backend.dual_sign)
            best = (Wp, bp, Vp, M1p, M2p, r)
            last = (f"point of {where}", Wp, bp, Vp, M1p, M2p)
            gW, _, _ = prob.lagrangian_gradient(Wp, bp, Vp, M1p, M2p)
            release, refix = _regroup(prob, zero, Wp, gW, thr, cert_tol)
            again = sum(int(np.sum(x & e)) for x, e in zip(release, released, strict=True))
            release = [x & ~e for x, e in zip(release, released, strict=True)]
            if not any(np.any(x) for x in (*release, *refix)):
                note = "" if not again else (
                    f"polish stopped after {where}: {again} zero group(s) failing ||q|| <= lam "
                    "were released by an earlier round already (none is released twice)")
                break
            if not any(np.any(x) for x in release):
                # only groups to fix again: IPOPT's multipliers of this point may already
                # certify it with those groups (about 1e-8) set to exact zeros, where a
                # re-solve with them fixed may move to other multipliers (degenerate ones,
                # at U = V = 0) under which a fixed group fails ||q|| <= lam
                Wz = _zeroed(prob, Wp, refix)
                kz = _safe_kkt(prob, Wz, bp, Vp, M1p, M2p)
                if kz is not None and kz["residual"] <= cert_tol:
                    best = (Wz, bp, Vp, M1p, M2p, r)
                    last = (f"point of {where}", Wz, bp, Vp, M1p, M2p)
                    note = ""
                    break
            released = [e | x for e, x in zip(released, release, strict=True)]
            zero = [(z & ~x) | y for z, x, y in zip(zero, release, refix, strict=True)]
            set_values(m, _restart_released(prob, Wp, gW, release), bp, Vp)
        if best is None:
            # the polish never converged: the phase-1 point with phase 1's status (IPOPT
            # converged there), as IPOPT left it or with its groups below the threshold set to
            # exact zeros (the point the polish started from, of residual kkt1), whichever
            # liftnet's residual certifies the better (_phase1_best): after a stopped round it
            # was IPOPT's point, of residual 1e-2 where the zeroed one had 1.7e-7. A failed
            # re-solve says nothing against it: at lam = 0, with no group to fix, IPOPT
            # declared the re-solve infeasible from a phase-1 point of KKT residual 1.9e-8. A
            # round stopped by the caller (Ctrl-C, the callback, the time limit) is another
            # matter: the call did not finish, and says so
            stopped = r.status in ("interrupted", "time_limit")
            Wr, kr, how = _phase1_best(prob, W, b, V, M1, M2, thr, kkt1)
            return _result(prob, Wr, b, V, M1, M2, r.status if stopped else phase1.status,
                           f"{phase1.message}; {note}; phase-1 point returned{how}", history,
                           t0, kr, r, thr, kkt1, cert_tol)
        Wp, bp, Vp, M1p, M2p, rb = best
        # the zero groups of the point returned (a later round may have released some)
        n_zero = pen.n_zero_groups(Wp)
        message = f"{rb.message}; polish fixed {n_zero} zero groups (threshold {thr:.1e})"
        status = rb.status if not note else r.status
        if note:
            message += f"; {note}"
        return _result(prob, Wp, bp, Vp, M1p, M2p, status, message, history, t0, None, r, thr,
                       kkt1, cert_tol)
    except INTERRUPTS as exc:
        status = interrupted(exc)
        what, W, b, V, M1, M2 = last
        kr, how = None, ""
        if what == "phase-1 point" and polish:
            # as when the polish ends unfinished: the better certified of IPOPT's point and the
            # zeroed one (a Ctrl-C in phase 1's certificate: that certificate made here)
            if thr is None:
                thr = default_zero_threshold(prob, W) if zero_threshold is None else zero_threshold
            if kkt1 is None:
                kkt1 = _safe_kkt(prob, W, b, V, M1, M2, thr)
            W, kr, how = _phase1_best(prob, W, b, V, M1, M2, thr, kkt1)
        return _result(prob, W, b, V, M1, M2, status,
                       f"interrupted (KeyboardInterrupt) during {where}: the {what} "
                       f"returned{how}", history, t0, kr, "interrupted",
                       thr if polish else None, kkt1, cert_tol)


def _regroup(prob, zero, W, gW, thr, cert_tol):
    """The groups a polish round's point ``W`` (gradient ``gW``, MODEL.md 5) asks to change:
    ``release``, fixed groups whose optimality condition at zero ``||q|| <= lam`` fails by
    more than ``cert_tol``; ``refix``, free groups with ``||W_l[g]|| <= thr`` that fail their
    residual as nonzero groups (``||q + lam w/||w|| || > cert_tol``) but would pass it as zero
    ones (``||q|| - lam <= cert_tol``): a group released earlier, or left above the threshold
    by phase 1, that IPOPT pushed back towards zero, where its epigraph stalls it (about 1e-8,
    never exactly zero). A small nonzero group that is stationary stays free (as zero its
    gradient would change and ask for a release again). Both per layer, boolean per group."""
    pen = prob.penalty
    release, refix = [], []
    for z, Wl, Ql in zip(zero, W, gW, strict=True):
        at_zero = pen.subdiff_distance(np.zeros_like(Wl), Ql)  # max(0, ||q|| - lam)
        release.append(z & (at_zero > cert_tol))
        refix.append(~z & (pen.group_norms(Wl) <= thr) & (at_zero <= cert_tol)
                     & (pen.subdiff_distance(Wl, Ql) > cert_tol))
    return release, refix


def _phase1_best(prob, W, b, V, M1, M2, thr, kkt1):
    """The phase-1 point to return when no polish round finished: the better certified
    (:func:`liftnet.kkt_residuals`) of IPOPT's point and the same point with its groups
    ``<= thr`` set to exact zeros, whose residual is ``kkt1`` (phase 1's certificate: the
    polish starts from that point). IPOPT's epigraph leaves zero groups near ``1e-8``, never
    exactly zero, and their nonsmooth residual then counts up to ``lam`` each: 1e-2 where the
    zeroed point had 1.7e-7 (a Ctrl-C in polish round 1). ``thr`` or ``kkt1`` None: IPOPT's
    point. Returns ``(W, its certificate or None, the words for the message)``."""
    raw = _safe_kkt(prob, W, b, V, M1, M2)
    if thr is None or kkt1 is None or (raw is not None and raw["residual"] <= kkt1["residual"]):
        return W, raw, ""
    pen = prob.penalty
    zero = [pen.zero_groups(Wl, thr) for Wl in W]
    n = sum(int(np.sum(z)) for z in zero) - pen.n_zero_groups(W)  # (the ones zeroed here)
    raw_res = float("nan") if raw is None else raw["residual"]
    return _zeroed(prob, W, zero), None, (
        f", its {n} group(s) at most the zero threshold {thr:.1e} set to exact zeros (KKT "
        f"residual {kkt1['residual']:.2e}; {raw_res:.2e} as IPOPT left them)")


def _zeroed(prob, W, zero):
    """``W`` with the flagged groups set to exact zeros (copies; ``GroupLasso.keep_groups``)."""
    return [prob.penalty.keep_groups(Wl.copy(), ~z) for Wl, z in zip(W, zero, strict=True)]


def _restart_released(prob, W, gW, release):
    """Released groups restart at ``-1e-4 q/||q||`` (``q``: the group's gradient)."""
    out = []
    for l, (Wl, Ql, x) in enumerate(zip(W, gW, release, strict=True), start=1):
        qn = group_broadcast(prob, l, prob.penalty.group_norms(Ql))
        step = -1e-4 * Ql / np.maximum(qn, 1e-300)
        out.append(np.where(group_broadcast(prob, l, x), step, Wl))
    return out


def _safe_kkt(prob, W, b, V, M1, M2, thr=0.0):
    """``kkt_residuals`` at an IPOPT point, or ``None`` when the point is not finite."""
    arrs = [*W, *(b or []), *V, *M1, *M2]
    if not all(np.all(np.isfinite(a)) for a in arrs):
        return None
    return kkt_residuals(prob, W, b, V, M1, M2, zero_threshold=thr)


def _result(prob, W, b, V, M1, M2, status, message, history, t0, kkt, run, thr, kkt1,
            cert_tol):
    # in the problem's dtype, as the ALM's: the certificate (kkt_residuals casts to it) is
    # then that of the returned arrays
    W, b, V, M1, M2 = ([np.asarray(a, dtype=prob.dtype) for a in x] if x is not None else None
                       for x in (W, b, V, M1, M2))
    if kkt is None:
        kkt = _safe_kkt(prob, W, b, V, M1, M2)
    finite = kkt is not None
    if status == "converged" and (not finite or kkt["residual"] > cert_tol):
        status = "uncertified"
        res = float("nan") if not finite else kkt["residual"]
        message += (f"; but liftnet's KKT residual of the returned point is {res:.2e} > "
                    f"{cert_tol:.0e}: not a certified KKT point (zero threshold {thr})")
    n_zero = prob.penalty.n_zero_groups(W) if finite else 0
    return LiftedResult(
        solver="ipopt",
        W=W,
        b=b,
        V=V,
        M1=M1,
        M2=M2,
        status=status,
        message=message,
        success=status == "converged",
        kkt=kkt,
        objective=prob.F(W, b, V) if finite else float("nan"),
        Phi=prob.Phi(W, b) if finite else float("nan"),
        nit=sum(h["nit"] for h in history),
        history=history,
        time=time.monotonic() - t0,
        interface=history[0]["interface"] if history else None,
        ipopt_status=run if isinstance(run, str) else (run.ipopt_status if run else None),
        polish_threshold=thr,
        n_zero_groups=n_zero,
        kkt_phase1=None if kkt1 is None else kkt1["residual"],
        groups=prob.groups,
    )

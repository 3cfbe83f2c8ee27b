"""Regularisation paths: one model solved along decreasing ``lam``, each solve warm-started.

The sparsity-accuracy curve of a group-sparse network is a path in ``lam`` (MODEL.md 2): from
a large ``lam`` (few groups alive) down to a small one. Each solve starts from the previous
point, whose units pruned at the larger ``lam`` are restarted first
(:func:`liftnet.solvers.init.reseed_dead_units`): a dead unit is an exact KKT point of every
later problem, so a plain warm start would keep the first point's small network along the
whole path (docs/maths.md 6.2). :func:`warm_started_path` is that walk for any solver (the
comparison harness runs every baseline through it); :func:`solve_alm_path` is the ALM's.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_decreasing, check_problem, check_seed
from ..formulation.problem import scale_limit
from ._interrupt import INTERRUPTS, interrupted
from .init import reseed_dead_units


def check_lams(lams) -> np.ndarray:
    """``lams`` as a float array: a nonempty sequence (or 1-d array) of real numbers (not
    booleans), finite, ``>= 0`` and strictly decreasing."""
    return check_decreasing(lams, "lams", why=" (each solve is warm-started from the "
                            "previous, larger lam)")


def warm_started_path(problems, solve, seed=0, reseed=True, init=None):
    """Solve ``problems`` in order, each from the previous result.

    Parameters
    ----------
    problems : iterable of LiftedProblem
        The path's problems, in the order solved (decreasing ``lam``).
    solve : callable
        ``solve(prob, init) -> LiftedResult``; ``init`` is ``None`` only for the first problem
        when no ``init`` is given.
    seed : int or None
        Seed of the reseeded units' fresh weights.
    reseed : bool
        Restart the units the previous result does not use (default), from a start that
        carries the previous network and multipliers but not its penalty state: the solve
        begins at its own ``rho0`` and ``eps0``, as the reseeded units' fresh rows and
        multipliers are not those the previous ``rho`` was grown for (on the README's
        quickstart path the previous ``rho`` gave no better points: :func:`solve_alm_path`'s
        notes). ``False`` warm-starts from the previous result as it is, ``rho`` and ``eps``
        included.
    init : None, LiftedResult or mapping
        Start of the first solve.

    Yields
    ------
    (LiftedProblem, LiftedResult)
        After each solve. A result with status ``interrupted`` (Ctrl-C or a callback) ends the
        walk after it is yielded: the points solved so far are kept, nothing more is started.
        A Ctrl-C between two solves (reseeding the units) raises KeyboardInterrupt from the
        walk: the caller keeps what it was yielded (:func:`solve_alm_path` returns it).
    """
    seed = check_seed(seed, allow_none=True)
    reseed = check_bool(reseed, "reseed")
    if not callable(solve):
        raise TypeError(f"solve must be callable, got {type(solve).__name__}")
    try:
        problems = iter(problems)
    except TypeError:
        raise TypeError("problems must be an iterable of LiftedProblem, got "
                        f"{type(problems).__name__}") from None
    prev = init
    for i, prob in enumerate(problems):
        start = prev
        if i > 0 and reseed:
            start = reseed_dead_units(prob, prev, seed)
            start.pop("reseeded")
        res = solve(prob, start)
        yield prob, res
        if res.status == "interrupted":
            return
        prev = res


def solve_alm_path(prob, lams, *, seed=0, reseed=True, init=None, **solve_kw):
    """The ALM along decreasing ``lam``: one :func:`liftnet.solve_alm` per value, each
    warm-started from the previous point with its dead units reseeded.

    Parameters
    ----------
    prob : LiftedProblem
        The model; its own ``lam`` is not used (``prob.with_lam(lam)`` for each of ``lams``).
    lams : sequence of float
        Strictly decreasing, ``>= 0``.
    seed : int or None
        Seed of the first point's random start (unless ``init`` is given) and of the reseeded
        units.
    reseed : bool
        See :func:`warm_started_path`.
    init : None, LiftedResult or mapping
        Warm start of the first solve.
    **solve_kw
        Passed to every :func:`liftnet.solve_alm` (``tol``, ``time_limit`` per point,
        ``callback``, ...).

    Returns
    -------
    list of LiftedResult
        One per ``lam`` solved, in the order of ``lams``, each with its ``lam``. Shorter than
        ``lams`` when a solve was interrupted (Ctrl-C or ``callback``): that solve's result is
        the last one, with status ``interrupted``; and when a Ctrl-C landed between two
        solves (while the next start is prepared): the points finished before it, the last
        one with its own status (a point is kept from the moment its solve returns). A
        Ctrl-C before the first solve starts raises KeyboardInterrupt (there is nothing to
        keep).

    Notes
    -----
    Each point is the ALM's result at its ``lam``, with its ``status`` and its KKT residual for
    (M) at that ``lam`` (``res.kkt``): a certified KKT point when ``converged``, the best
    iterate and its residual when a solve is cut (``time_limit`` per point, ``max_iter``). Its
    network need not be better for (P) than the start it came from: on the README's quickstart
    data (teacher 5-8-6-2, N = 200, ``beta = 1``, ``lams`` 3e-2, 1e-2, 3e-3, 1e-3, 2026-12-03)
    the starts' ``Phi`` at the new ``lam`` were 0.469, 0.413, 0.313 and the points' 0.516,
    0.350, 0.431 (with the previous point's ``rho`` as ``rho0``: 0.469 -> 0.516, 0.413 -> 0.333,
    0.296 -> 0.455). (M) lets ``V`` carry what the weights do not compute, more so at small
    ``lam`` and small ``beta``: compare ``res.objective`` (``F``) with ``res.Phi``
    (docs/maths.md 4, the table by ``beta`` and ``lam``).

    Examples
    --------
    Three values of ``lam`` on a 5-4-2 teacher's samples (``N = 60``); the problem's own
    ``lam`` is not used:

    >>> from liftnet import LiftedProblem, solve_alm_path
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(60, (5, 4, 2), noise=0.1, seed=0)
    >>> prob = LiftedProblem(X, Y, hidden=(4,), beta=5.0)
    >>> path = solve_alm_path(prob, [3e-2, 1e-2, 3e-3], tol=1e-6, time_limit=10)
    >>> [float(r.lam) for r in path]
    [0.03, 0.01, 0.003]
    >>> [r.status for r in path]
    ['converged', 'converged', 'converged']
    >>> all(0.0 <= r.sparsity <= 1.0 and r.Phi > 0 for r in path)
    True

    Each point's ``sparsity`` (zero groups), ``Phi`` (its network) and ``objective`` (``F``)
    make the sparsity-accuracy curve.
    """
    from .alm import solve_alm

    check_problem(prob)
    lams = check_lams(lams)
    top = scale_limit(prob.dtype)
    if lams[0] > top:  # (decreasing: the first is the largest) named here, before any solve,
        # not by the LiftedProblem of that point as lam=np.float64(...)
        raise ValueError(f"lams[0]={float(lams[0])!r} is too large for "
                         f"{np.dtype(prob.dtype).name} (at most {top:.1e}; LiftedProblem's lam)")
    seed = check_seed(seed, allow_none=True)
    reseed = check_bool(reseed, "reseed")

    # Each point is kept the moment its solve returns, before it is labelled with its lam and
    # yielded: a Ctrl-C landing there (labelling it, in the walk, before the loop took it)
    # dropped that finished point (a converged lam = 0.01 point lost, scratch). A Ctrl-C
    # between two solves (making the next problem, reseeding the dead units) ends the path
    # with the points kept; one in solve_alm's own set-up is that solve's, which returns it as
    # its interrupted result. With none solved yet there is nothing to keep, and the
    # interrupt goes on.
    path = []

    def solve(p, start):
        path.append(solve_alm(p, seed=seed, init=start, **solve_kw))
        path[-1].lam = p.lam
        return path[-1]

    problems = (prob.with_lam(lam) for lam in lams)
    try:
        for _ in warm_started_path(problems, solve, seed=seed, reseed=reseed, init=init):
            pass
    except INTERRUPTS as exc:
        interrupted(exc)  # (raises what is not a Ctrl-C)
        if not path:
            raise
        if "lam" not in path[-1]:  # the Ctrl-C landed as it was labelled
            path[-1]["lam"] = float(lams[len(path) - 1])  # (= prob.with_lam(lam).lam)
    return path

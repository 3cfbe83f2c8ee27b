"""ALM against IPOPT on the same instance: the cross-check of MODEL.md section 7.

:func:`crosscheck_ipopt` compares three points of (M):

* ``alm``: the ALM's result (given);
* ``ipopt_cold``: IPOPT from the ALM's own start (``prob.initial_weights(seed)``, lifted), a
  fully independent solve; (M) is nonconvex, so it may end at another local minimiser and is
  reported, not judged;
* ``ipopt_warm``: IPOPT warm-started at the ALM point (primal values and multipliers).

Both solvers' points are checked by the one checker :func:`liftnet.kkt_residuals` (IPOPT's after
its active-group polish, :func:`liftnet.solvers.ipopt.solve_ipopt`). The verdict ``agree`` holds
when the ALM point and the warm IPOPT point are both ``tol``-KKT points, the warm IPOPT moved the
ALM point by at most ``x_tol`` (relative), their objectives agree to ``obj_tol`` (relative),
they have the same zero groups, MFCQ holds at both (:func:`liftnet.verification.mfcq.check_mfcq`)
and, when ``mult_tol`` is given, the multipliers agree to it (relative). Ctrl-C ends the
cross-check at once, with no verdict: the report says so (``interrupted``).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_problem, check_scalar, check_seed
from ..io import jsonable
from ..solvers._interrupt import INTERRUPTS, interrupted
from ..solvers.init import parse_init
from ..solvers.ipopt import solve_ipopt
from ..solvers.ipopt_backends import select_backend
from .kkt import kkt_residuals
from .mfcq import check_lp_choice, check_mfcq

_POINTS = ("alm", "ipopt_cold", "ipopt_warm")
_NAMES = {"alm": "ALM", "ipopt_cold": "cold IPOPT", "ipopt_warm": "warm IPOPT"}


def _inf(arrs) -> float:
    return max((float(np.max(np.abs(a))) for a in arrs if a is not None and a.size), default=0.0)


def _dist(A, B) -> float:
    """``max |A - B|`` over lists of arrays (``b`` may be None in both)."""
    if A is None:
        return 0.0
    return max(
        (float(np.max(np.abs(a - c))) for a, c in zip(A, B, strict=True) if a.size), default=0.0
    )


def solution_distance(prob, p, q) -> float:
    """Relative distance ``||z_p - z_q||_inf / max(1, ||z_p||_inf)`` of ``z = (W, b, V)``."""
    d = max(
        _dist(p["W"], q["W"]), _dist(p["V"], q["V"]), _dist(p["b"], q["b"]) if prob.bias else 0.0
    )
    scale = max(1.0, _inf(p["W"]), _inf(p["V"]), _inf(p["b"]) if prob.bias else 0.0)
    return d / scale


def identifiable_distance(prob, p, q) -> float:
    """Relative distance of the weights ``W`` and the outputs ``U_L`` on the training data.

    With biases, (M) has rays of solutions: a neuron that is linear on every sample (all
    ``U_l[j] > 0``) passes ``b_l[j] + c`` on as ``V_l[j] + c``, which ``b_{l+1}`` absorbs, and
    ``F`` does not change. ``b`` and ``V`` are then not determined by a solution, and an
    interior-point method drifts along such rays (the barrier of ``g2 <= 0`` rewards it). This
    distance ignores them: ``max(|W_p - W_q|, |U_L(p) - U_L(q)|) / max(1, |W_p|, |U_L(p)|)``.
    """
    Up = prob.pre_activations(p["W"], p["b"], p["V"])[-1]
    Uq = prob.pre_activations(q["W"], q["b"], q["V"])[-1]
    d = max(_dist(p["W"], q["W"]), float(np.max(np.abs(Up - Uq))))
    return d / max(1.0, _inf(p["W"]), float(np.max(np.abs(Up))))


def multiplier_distance(p, q) -> float:
    """Relative distance ``||M_p - M_q||_inf / ||M_p||_inf`` over ``(M1, M2)`` (absolute when
    ``M_p = 0``)."""
    d = max(_dist(p["M1"], q["M1"]), _dist(p["M2"], q["M2"]))
    scale = _inf([*p["M1"], *p["M2"]])
    return d / scale if scale > 0 else d


def same_support(prob, p, q) -> bool:
    """Whether both points have exactly the same zero groups."""
    return all(
        np.array_equal(prob.penalty.group_norms(a) == 0, prob.penalty.group_norms(c) == 0)
        for a, c in zip(p["W"], q["W"], strict=True)
    )


class CrosscheckReport(dict):
    """ALM vs IPOPT (a dict with attribute access); see :func:`crosscheck_ipopt`.

    Keys: ``agree`` (bool), ``reasons`` (list of str, empty when they agree; ``["interrupted"]``
    after a Ctrl-C), ``interrupted`` (bool: a Ctrl-C stopped the cross-check, the verdict is
    not given), ``interrupted_during`` (what it stopped, e.g. ``"the warm IPOPT run"``, or
    None), ``tolerances``
    (dict), ``points`` (per point ``alm``/``ipopt_cold``/``ipopt_warm``: ``status``,
    ``objective``, ``kkt``, ``time`` and ``nit`` (None when unknown: a result read back by
    :func:`liftnet.io.load_result` has neither), ``n_zero_groups``, ``mfcq_holds``,
    ``mfcq_margin``, ``mfcq_lp_margin``, ``solution_distance``, ``identifiable_distance``
    (:func:`identifiable_distance`) and ``multiplier_distance`` to the ALM point,
    ``same_support``, and for the IPOPT points IPOPT's ``message``; only ``status`` and
    ``message`` for an IPOPT point without a finite value or a point whose checks a Ctrl-C
    stopped; no entry for a run not started), ``polish_threshold``, ``results`` (the IPOPT
    ``LiftedResult``s, left out of :meth:`to_dict`).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict:
        """The report without the result objects, as strict JSON allows: numpy values become
        Python ones and NaN or inf (an infinite LP margin, say) None, as
        :func:`liftnet.io.write_json` writes them."""
        return jsonable({k: v for k, v in self.items() if k != "results"})

    def to_table(self) -> str:
        """A plain-text table: one row per quantity, one column per point, then the verdict."""
        rows = [
            ("status", "status", "{}"),
            ("objective F", "objective", "{:.10g}"),
            ("KKT residual", "kkt", "{:.2e}"),
            ("zero groups", "n_zero_groups", "{}"),
            ("|z - z_alm| (rel)", "solution_distance", "{:.2e}"),
            ("|(W, U_L) - alm| (rel)", "identifiable_distance", "{:.2e}"),
            ("|M - M_alm| (rel)", "multiplier_distance", "{:.2e}"),
            ("same zero groups", "same_support", "{}"),
            ("MFCQ margin", "mfcq_margin", "{:.3g}"),
            ("MFCQ LP margin", "mfcq_lp_margin", "{:.3g}"),
            ("iterations", "nit", "{}"),
            ("time (s)", "time", "{:.3f}"),
        ]
        heads = ("", "ALM", "IPOPT (same start)", "IPOPT (warm at ALM)")
        body = []
        for label, key, fmt in rows:
            cells = []
            for p in _POINTS:
                v = self["points"].get(p, {}).get(key)
                cells.append("-" if v is None else fmt.format(v))
            body.append((label, *cells))
        widths = [max(len(str(r[i])) for r in (heads, *body)) for i in range(4)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [line.format(*heads), line.format(*("-" * w for w in widths))]
        out += [line.format(*r) for r in body]
        tol = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in self["tolerances"].items()
        )
        out.append(f"polish threshold: {self['polish_threshold']}")
        verdict = ("NONE, interrupted" if self.get("interrupted")
                   else "AGREE" if self["agree"] else "DISAGREE")
        out.append(f"verdict: {verdict} ({tol})")
        during = self.get("interrupted_during")
        out += [f"  - {r} during {during}: no verdict" if r == "interrupted" and during
                else f"  - {r}" for r in self["reasons"]]
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"CrosscheckReport(agree={self['agree']}, reasons={self['reasons']!r})"


def _missing(value) -> bool:
    """A value a result does not have: ``None`` or NaN (a result read from a file has no time
    nor iteration count, and a made-up 0 or NaN would read as a measurement)."""
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


def _known(value, kind):
    """``kind(value)``, or None for a missing value (:func:`_missing`)."""
    return None if _missing(value) else kind(value)


def _point_summary(prob, res, kkt, alm, mfcq_lp, time_limit=None):
    mf = check_mfcq(prob, res["W"], res["b"], res["V"], lp=mfcq_lp, time_limit=time_limit)
    return {
        "status": res.get("status"),
        "objective": float(prob.F(res["W"], res["b"], res["V"])),
        "kkt": float(kkt["residual"]),
        "time": _known(res.get("time"), float),
        "nit": _known(res.get("nit"), int),
        "n_zero_groups": prob.penalty.n_zero_groups(res["W"]),
        "mfcq_holds": bool(mf["holds"]),
        "mfcq_margin": float(mf["margin"]),
        "mfcq_lp_margin": None if mf["lp_margin"] is None else float(mf["lp_margin"]),
        "solution_distance": solution_distance(prob, alm, res),
        "identifiable_distance": identifiable_distance(prob, alm, res),
        "multiplier_distance": multiplier_distance(alm, res),
        "same_support": same_support(prob, alm, res),
    }


def crosscheck_ipopt(
    prob,
    alm_result,
    tol: float = 1e-6,
    *,
    x_tol: float = 1e-3,
    obj_tol: float = 1e-6,
    mult_tol: float | None = None,
    seed=0,
    start=None,
    cold: bool = True,
    ipopt_tol: float = 1e-8,
    time_limit: float | None = None,
    zero_threshold: float | None = None,
    solver: str | None = None,
    mfcq_lp="auto",
) -> CrosscheckReport:
    """Compare the ALM's point with IPOPT's on (M) (MODEL.md section 7).

    Parameters
    ----------
    prob : LiftedProblem
    alm_result : LiftedResult or mapping
        The ALM's ``W, b, V, M1, M2`` (and ``time``, ``nit``, ``status`` when present),
        checked as a warm start is (errors name ``alm_result['W']`` etc.). ``agree`` needs the
        warm IPOPT run to have converged: one that failed or never started returns this very
        point, which would pass every other test.
    tol : float > 0
        KKT residual both the ALM point and the warm IPOPT point must reach.
    x_tol : float > 0
        Largest relative move of the warm IPOPT from the ALM point: :func:`solution_distance`,
        or :func:`identifiable_distance` when the problem has biases.
    obj_tol : float > 0
        Largest relative objective difference ``|F_alm - F_ipopt| / max(1, |F_alm|)``.
    mult_tol : float or None
        Largest relative multiplier distance (:func:`multiplier_distance`); ``None`` reports it
        without judging (multipliers need not be unique under MFCQ alone).
    seed : int or None
        Seed of the ALM's initial weights, for the cold IPOPT (``solve_alm``'s default is 0).
    start : mapping or None
        The ALM's start when it was not ``prob.initial_weights(seed)`` (``W``, ``b``, ...).
    cold : bool
        Also run IPOPT from the ALM's start.
    ipopt_tol, time_limit, zero_threshold, solver
        Passed to :func:`liftnet.solvers.ipopt.solve_ipopt` (``time_limit`` per IPOPT run,
        and per MFCQ LP of :func:`check_mfcq`: a large ``mfcq_lp=True`` LP took 22 s).
    mfcq_lp : {"auto", True, False}
        Whether :func:`check_mfcq` solves its LP.

    Returns
    -------
    CrosscheckReport
        With ``interrupted`` True, ``agree`` False and ``reasons == ["interrupted"]`` after a
        Ctrl-C: a run it stopped (:func:`liftnet.solvers.ipopt.solve_ipopt` returns its point,
        status ``interrupted``) starts no further run, one in the checks leaves the points not
        yet checked with their status and message only; ``interrupted_during`` says which.

    Examples
    --------
    The ALM's point on a tiny instance (N = 20, widths 2-3-3-1), then IPOPT warm-started
    there (and, by default, IPOPT from the ALM's own start, reported but not judged); on
    these data (seed 1) the ALM ends at a network (5 of its 8 column groups nonzero on a 2-core
    AMD EPYC, 2026-12-07), not at W = 0, where any two solvers agree:

    >>> from liftnet import LiftedProblem, crosscheck_ipopt, solve_alm
    >>> from liftnet.datasets import make_teacher
    >>> X, Y, _, _ = make_teacher(20, (2, 3, 3, 1), alpha=0.1, noise=0.1, seed=1)
    >>> prob = LiftedProblem(X, Y, hidden=(3, 3), alpha=0.1, beta=1.0, lam=0.02)
    >>> alm = solve_alm(prob, tol=1e-7, seed=0)
    >>> rep = crosscheck_ipopt(prob, alm, tol=1e-6, seed=0)
    >>> rep.agree, rep.reasons
    (True, [])
    >>> warm = rep.points["ipopt_warm"]
    >>> bool(warm["kkt"] <= 1e-6), warm["same_support"], warm["mfcq_holds"]
    (True, True, True)
    >>> rep.to_table().splitlines()[-1]
    'verdict: AGREE (tol=1e-06, x_tol=0.001, obj_tol=1e-06, mult_tol=None)'
    """
    check_problem(prob)
    # the point checked is the ALM's own: its biases too (a warm start would take zeros)
    for key in ("W", "V", "M1", "M2") + (("b",) if prob.bias else ()):
        if not hasattr(alm_result, "get") or alm_result.get(key) is None:
            why = " (the problem has biases)" if key == "b" else ""
            raise ValueError(f"alm_result must be a result or mapping with {key!r}{why}")
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    x_tol = check_scalar(x_tol, "x_tol", low=0, low_inclusive=False)
    obj_tol = check_scalar(obj_tol, "obj_tol", low=0, low_inclusive=False)
    mult_tol = check_scalar(mult_tol, "mult_tol", low=0, low_inclusive=False, allow_none=True)
    # everything IPOPT and the checks will be given, under this function's names, before the
    # first (possibly long) solve
    seed = check_seed(seed, allow_none=True)
    cold = check_bool(cold, "cold")
    ipopt_tol = check_scalar(ipopt_tol, "ipopt_tol", low=0, low_inclusive=False)
    time_limit = check_scalar(time_limit, "time_limit", low=0, low_inclusive=False,
                              allow_none=True)
    zero_threshold = check_scalar(zero_threshold, "zero_threshold", low=0, allow_none=True)
    mfcq_lp = check_lp_choice(mfcq_lp, "mfcq_lp")
    if solver is not None:
        select_backend(solver)  # an unknown name is a ValueError naming solver
    # the ALM's point, checked as a warm start is (shapes, finite values, M >= 0), named so,
    # and taken as the arrays that check gives (array-likes too: the summaries below need arrays)
    point = dict(zip(("W", "b", "V", "M1", "M2"), parse_init(prob, alm_result, name="alm_result"),
                     strict=True))
    # and the numbers the report copies (a result read from a file may lack them: None)
    for key, integer in (("time", False), ("nit", True)):
        if not _missing(alm_result.get(key)):
            check_scalar(alm_result[key], f"alm_result[{key!r}]", low=0, integer=integer)
    if cold:
        parse_init(prob, start, seed, name="start")
    alm = {**alm_result, **point}

    kw = dict(tol=ipopt_tol, time_limit=time_limit, zero_threshold=zero_threshold, solver=solver)
    runs = {"ipopt_warm": dict(init=alm)}
    if cold:
        runs["ipopt_cold"] = dict(init=start, seed=seed)
    results, points = {}, {}
    # Ctrl-C ends the cross-check at once: a run it stopped (solve_ipopt returns its point,
    # status interrupted; no callback is passed, so nothing else gives that status) starts no
    # further run, whose verdict would be of a truncated point; one in a check leaves the
    # points not yet checked unsummarised. What is finished is reported, with no verdict.
    during = step = None
    try:
        step = "the KKT check of the ALM point"
        kkt_alm = kkt_residuals(prob, alm["W"], alm["b"], alm["V"], alm["M1"], alm["M2"])
        for name, how in runs.items():
            step = f"the {_NAMES[name]} run"
            results[name] = solve_ipopt(prob, **how, **kw)
            if results[name]["status"] == "interrupted":
                during = step
                break
        for name, res in (("alm", alm), *results.items()):
            step = f"the checks of the {_NAMES[name]} point"
            if name == "alm":
                points[name] = _point_summary(prob, alm, kkt_alm, alm, mfcq_lp, time_limit)
            elif res.get("kkt") is None:  # IPOPT failed without a finite point
                points[name] = {"status": res["status"], "message": res["message"]}
            else:
                points[name] = _point_summary(prob, res, res["kkt"], alm, mfcq_lp, time_limit)
                points[name]["message"] = res["message"]
    except INTERRUPTS as exc:
        interrupted(exc)  # (re-raises anything else)
        during = during or step
    for name, res in (("alm", alm), *results.items()):
        points.setdefault(name, {"status": res.get("status"), "message": res.get("message")})
    warm = results.get("ipopt_warm")
    tolerances = {"tol": tol, "x_tol": x_tol, "obj_tol": obj_tol, "mult_tol": mult_tol}
    reasons = ["interrupted"] if during else _reasons(prob, points, warm, **tolerances)
    return CrosscheckReport(
        agree=not reasons,
        reasons=reasons,
        interrupted=during is not None,
        interrupted_during=during,
        tolerances=tolerances,
        points=points,
        polish_threshold=None if warm is None else warm.get("polish_threshold"),
        results=results,
    )


def interrupted_alm_report(prob, alm_result, tol: float = 1e-6, *, x_tol: float = 1e-3,
                           obj_tol: float = 1e-6, mult_tol: float | None = None
                           ) -> CrosscheckReport:
    """The report of a cross-check that a Ctrl-C stopped in the ALM's own solve, before it
    began (``liftnet verify``): no IPOPT run and no verdict (``interrupted`` True,
    ``interrupted_during`` ``"the ALM"``, ``reasons == ["interrupted"]``), the ALM's point
    with what its result holds, nothing computed after the Ctrl-C: ``status``, ``message``,
    ``objective``, ``kkt`` (the result's residual), ``time``, ``nit``, ``n_zero_groups``
    (None for a value it lacks). The tolerances are those the cross-check would have used."""
    kkt = alm_result.get("kkt")
    W = alm_result.get("W")
    point = {
        "status": alm_result.get("status"),
        "message": alm_result.get("message"),
        "objective": _known(alm_result.get("objective"), float),
        "kkt": None if kkt is None else _known(kkt.get("residual"), float),
        "time": _known(alm_result.get("time"), float),
        "nit": _known(alm_result.get("nit"), int),
        "n_zero_groups": None if W is None else prob.penalty.n_zero_groups(W),
    }
    return CrosscheckReport(
        agree=False,
        reasons=["interrupted"],
        interrupted=True,
        interrupted_during="the ALM",
        tolerances={"tol": tol, "x_tol": x_tol, "obj_tol": obj_tol, "mult_tol": mult_tol},
        points={"alm": point},
        polish_threshold=None,
        results={},
    )


def _reasons(prob, points, warm, tol, x_tol, obj_tol, mult_tol) -> list:
    """Why the ALM point and the warm IPOPT point do not agree (empty when they do)."""
    reasons = []
    pa, pw = points["alm"], points["ipopt_warm"]
    if pa["kkt"] > tol:
        reasons.append(f"ALM KKT residual {pa['kkt']:.2e} > tol={tol:g}")
    if "kkt" not in pw:
        reasons.append(f"warm IPOPT failed: {warm['message']}")
    elif warm["status"] not in ("converged", "uncertified"):
        # a run that failed or never started returns its start, the ALM point itself, which
        # would pass every test below (uncertified: converged, its KKT judged below)
        reasons.append(f"warm IPOPT did not converge ({warm['status']}): {warm['message']}")
    else:
        if pw["kkt"] > tol:
            reasons.append(f"warm IPOPT KKT residual {pw['kkt']:.2e} > tol={tol:g}")
        key = "identifiable_distance" if prob.bias else "solution_distance"
        if pw[key] > x_tol:
            what = "the weights and outputs of " if prob.bias else ""
            reasons.append(
                f"warm IPOPT moved {what}the ALM point by {pw[key]:.2e} > x_tol={x_tol:g}"
            )
        dF = abs(pa["objective"] - pw["objective"]) / max(1.0, abs(pa["objective"]))
        if dF > obj_tol:
            reasons.append(f"objectives differ by {dF:.2e} (relative) > obj_tol={obj_tol:g}")
        if not pw["same_support"]:
            reasons.append("ALM and warm IPOPT have different zero groups")
        if mult_tol is not None and pw["multiplier_distance"] > mult_tol:
            reasons.append(
                f"multipliers differ by {pw['multiplier_distance']:.2e} > mult_tol={mult_tol:g}"
            )
        if not pw["mfcq_holds"]:
            reasons.append("MFCQ certificate failed at the warm IPOPT point")
    if not pa["mfcq_holds"]:
        reasons.append("MFCQ certificate failed at the ALM point")
    return reasons


def main(argv=None) -> int:
    """``liftnet verify``: see :mod:`liftnet.verification.crosscheck_cli`."""
    from .crosscheck_cli import main as _main

    return _main(argv)

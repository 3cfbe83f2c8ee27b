"""The MPCC lifting of (P) and its epsilon-relaxation loop (IPOPT through cyipopt)."""

import numpy as np
import pyomo.environ as pyo
import pytest

from liftnet.formulation.mpcc import build_mpcc_model, solve_mpcc_relaxed
from liftnet.formulation.problem import LiftedProblem
from liftnet.formulation.pyomo_model import get_values
from liftnet.verification.theory import complementarity_gap


def make_problem(seed, hidden=(3,), N=8, **kw):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 2))
    return LiftedProblem(
        X, np.sin(X[:, :1]) + 0.1 * rng.standard_normal((N, 1)), hidden=hidden, **kw
    )


def ipopt_available():
    return pyo.SolverFactory("cyipopt").available(exception_flag=False)


@pytest.mark.parametrize("bias", [False, True])
def test_declaration_reads_like_the_mpcc(bias):
    prob = make_problem(0, hidden=(3, 2), lam=0.1, bias=bias, groups="row")
    W, b = prob.initial_weights(0)
    m = build_mpcc_model(prob, W, b)
    # at the exact lift (t at the group norms) the MPCC objective is Phi: no coupling term
    assert pyo.value(m.Phi) == pytest.approx(prob.Phi(W, b), rel=1e-12)
    assert len(m.cc) == sum(n * prob.N for n in prob.widths[1:-1])
    V = prob.lift(W, b)
    for (l, i, k), cc in m.cc.items():
        # the pair "V - U >= 0  perp  V - alpha U >= 0", both >= 0 with product 0 at the lift
        e0, e1 = (pyo.value(arg.args[1] - arg.args[0]) for arg in cc._args)
        assert min(e0, e1) >= -1e-12 and e0 * e1 == pytest.approx(0.0, abs=1e-12)
        u = prob.pre_activations(W, b, V)[l - 1][i - 1, k - 1]
        assert e0 == pytest.approx(max(u, prob.alpha * u) - u, abs=1e-12)
        assert pyo.value(m.U[l, i, k]) == pytest.approx(u, abs=1e-12)
        assert pyo.value(m.V[l, i, k]) == pytest.approx(max(u, prob.alpha * u), abs=1e-15)
    Wm, bm, Vm = get_values(m)
    assert all(np.array_equal(x, y) for x, y in zip(Wm, W, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(Vm, V, strict=True))


@pytest.mark.slow
@pytest.mark.skipif(not ipopt_available(), reason="cyipopt is not available")
def test_relaxation_drives_the_complementarity_gap_to_zero():
    prob = make_problem(1, lam=0.01)
    res = solve_mpcc_relaxed(prob, seed=0)  # eps = 1e-1, ..., 1e-8
    assert res.status == "converged", res.message
    gaps = res.complementarity_gaps
    assert len(gaps) == 8
    assert gaps[-1] <= 1e-5 * gaps[0]
    # each stage respects its relaxation: every product <= eps (up to IPOPT's tolerances)
    n_products = sum(v.size for v in res.V)
    for stage, gap in zip(res.stages, gaps, strict=True):
        assert gap <= 2 * stage["eps"] * n_products + 1e-7
        assert gap == pytest.approx(
            complementarity_gap(prob, stage["W"], stage["b"], stage["V"]), rel=1e-12
        )
    # the final point is nearly an exact network: |V - sigma(U)| = min(p, q) <= sqrt(p q), so
    # O(sqrt(eps)) (the worst case is near the kink, p ~ q) ...
    eps = res.stages[-1]["eps"]
    lift = prob.lift(res.W, res.b)
    assert max(np.max(np.abs(v - s)) for v, s in zip(res.V, lift, strict=True)) <= np.sqrt(2 * eps)
    # ... and the MPCC objective is Phi, which is F of (M) there (complementarity coupling)
    assert res.stages[-1]["objective"] == pytest.approx(res.objective, abs=1e-5)
    assert prob.F(res.W, res.b, res.V) == pytest.approx(res.objective, abs=1e-6)
    # and it trains: better than the starting network
    W0, b0 = prob.initial_weights(0)
    assert res.objective < prob.Phi(W0, b0)


@pytest.mark.skipif(not ipopt_available(), reason="cyipopt is not available")
def test_ipopt_failure_is_a_status():
    prob = make_problem(2)
    res = solve_mpcc_relaxed(prob, eps_schedule=(1e-1, 1e-2), max_iter=1)
    assert res.status == "failed" and not res.success
    assert "IPOPT" in res.message and "b'" not in res.message  # cyipopt's bytes, decoded
    assert res.nit == 0 and len(res.stages) == 0
    W0, _ = prob.initial_weights(0)
    assert all(np.array_equal(a, c) for a, c in zip(res.W, W0, strict=True))


def test_eps_schedule_validation():
    prob = make_problem(0)
    with pytest.raises(ValueError, match="nonincreasing"):
        solve_mpcc_relaxed(prob, eps_schedule=(1e-3, 1e-1))
    with pytest.raises(ValueError, match=r"eps_schedule\[1\]"):
        solve_mpcc_relaxed(prob, eps_schedule=(1e-1, 0.0))
    with pytest.raises(ValueError, match="eps_schedule must be a nonempty 1-d sequence"):
        solve_mpcc_relaxed(prob, eps_schedule=())
    with pytest.raises(TypeError, match=r"eps_schedule\[0\] must be a real number"):
        solve_mpcc_relaxed(prob, eps_schedule=[True])


@pytest.mark.parametrize(
    ("W", "b", "V", "exc", "match"),
    [
        ("W", None, [np.zeros((3, 2))], ValueError, r"V\[0\] must have shape \(3, 8\), got"),
        ("W", None, [np.zeros((3, 40))], ValueError, r"V\[0\] must have shape \(3, 8\)"),
        ("W", None, [np.full((3, 8), np.nan)], ValueError, r"V\[0\] must be finite"),
        (None, None, [np.zeros((3, 8))], ValueError, "W is required"),
    ],
)
def test_build_checks_the_point(W, b, V, exc, match):
    """A wrong or NaN ``V`` used to give an IndexError, a model of the wrong size, or one whose
    objective is NaN; ``V`` without ``W`` was dropped silently."""
    prob = make_problem(0)
    W0, _ = prob.initial_weights(0)
    W = W0 if W == "W" else W
    with pytest.raises(exc, match=match):
        build_mpcc_model(prob, W, b, V)


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"tol": -1}, ValueError, "tol must be > 0"),
        ({"tol": 0.0}, ValueError, "tol must be > 0"),
        ({"tol": "1e-8"}, TypeError, "tol must be a real number"),
        ({"max_iter": 1.5}, TypeError, "max_iter must be an integer"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"max_iter": True}, TypeError, "max_iter must be an integer"),
        ({"max_iter": 2**31}, ValueError, "max_iter must be <= 2147483647"),
        ({"seed": -1, "init": "W"}, ValueError, "seed must be >= 0"),
        ({"eps_schedule": None}, TypeError, "eps_schedule must be a sequence"),
        ({"eps_schedule": 0.1}, TypeError, "eps_schedule must be a sequence"),
    ],
)
def test_options_are_checked_before_ipopt(kw, exc, match):
    """IPOPT used to receive ``tol=-1`` or ``max_iter=1.5``, print its option help and end
    ``failed`` ("Error while assigning an option"); a bad seed was ignored with ``init``."""
    prob = make_problem(0)
    if kw.get("init") == "W":
        kw["init"] = {"W": prob.initial_weights(0)[0]}
    with pytest.raises(exc, match=match):
        solve_mpcc_relaxed(prob, eps_schedule=kw.pop("eps_schedule", (1e-1,)), **kw)


def test_b_without_W_is_refused():
    """"Without W everything starts at zero (then b and V must be None too)": a ``b`` alone
    must not be dropped silently."""
    prob = make_problem(0, bias=True)
    _, b = prob.initial_weights(0)
    with pytest.raises(ValueError, match="W is required"):
        build_mpcc_model(prob, None, b)


def test_the_mpcc_objective_is_minimised():
    m = build_mpcc_model(make_problem(0, lam=0.1))
    assert m.Phi.is_minimizing()


def test_no_epigraph_without_lam():
    """``t[l,g] >= 0`` (``lam > 0`` only): with ``lam = 0`` no epigraph variables or
    constraints (they would be free variables for the solver), and Phi is the loss."""
    prob = make_problem(0, lam=0.0)
    W, _ = prob.initial_weights(0)
    m = build_mpcc_model(prob, W)
    assert not hasattr(m, "t") and not hasattr(m, "epi")
    assert pyo.value(m.Phi) == pytest.approx(prob.Phi(W), rel=1e-12)
    m = build_mpcc_model(make_problem(0, lam=0.1), W)
    assert len(m.t) == len(m.epi) == sum(
        m.problem.penalty.n_groups(s) for s in m.problem.W_shapes)


def test_sync_sets_the_transformation_variables_to_their_defining_values():
    """After ``mpec.simple_nonlinear``, each auxiliary ``v`` starts at its defining
    expression (``ve: v - expression == 0`` holds), so IPOPT's start is the given point."""
    from liftnet.formulation.mpcc import _sync_complementarity_vars

    prob = make_problem(0, hidden=(3, 2), lam=0.1)
    W, _ = prob.initial_weights(0)
    rng = np.random.default_rng(0)
    V = []  # strictly inside, layer by layer: V_l = sigma(U_l) + d_l, d_l > 0
    for l in range(prob.L - 1):
        U = prob.pre_activations(W, None, [*V, *prob.lift(W)[len(V):]])[l]
        V.append(prob.sigma(U) + rng.uniform(0.1, 1.0, U.shape))
    m = build_mpcc_model(prob, W, None, V)
    pyo.TransformationFactory("mpec.simple_nonlinear").apply_to(m, mpec_bound=0.1)
    _sync_complementarity_vars(m)
    seen = 0
    for blk in m.cc.values():
        if hasattr(blk, "v") and hasattr(blk, "ve"):
            seen += 1
            assert blk.v.value > 0
            assert pyo.value(blk.ve.body) == pytest.approx(0.0, abs=1e-12)
    assert seen == len(m.cc)


@pytest.mark.skipif(not ipopt_available(), reason="cyipopt is not available")


def test_objective_is_phi_at_the_returned_network():
    """``objective``: ``prob.Phi`` at the final ``W, b`` (not IPOPT's relaxed value)."""
    prob = make_problem(1, lam=0.01)
    res = solve_mpcc_relaxed(prob, eps_schedule=(1e-1,), seed=0)
    assert res.status == "converged", res.message
    assert res.objective == prob.Phi(res.W, res.b)
    assert res.stages[-1]["objective"] != res.objective  # eps = 0.1: V is not sigma(U) yet

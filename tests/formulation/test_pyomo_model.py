"""The Pyomo declaration of (M) equals the numpy model (MODEL.md sections 4 and 7)."""

import io
import types

import numpy as np
import pyomo.environ as pyo
import pytest

from liftnet import LiftedProblem
from liftnet.formulation import pyomo_model
from liftnet.formulation.pyomo_model import (
    BuildTimeLimit,
    build_pyomo_model,
    get_values,
    group_broadcast,
    group_members,
    set_values,
)


def make_problem(coupling="complementarity", bias=False, groups="column", seed=0, N=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 2))
    Y = rng.standard_normal((N, 2))
    return LiftedProblem(
        X,
        Y,
        hidden=(3, 2),
        coupling=coupling,
        bias=bias,
        groups=groups,
        lam=0.05,
        beta=0.7,
        alpha=0.2,
    )


def random_point(prob, seed=1):
    """A generic point: random W, b and V off the lift (infeasible entries included)."""
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal(s) for s in prob.W_shapes]
    b = [rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    V = [v + 0.3 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    return W, b, V


@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_objective_and_constraints_equal_numpy_model(coupling, bias, groups):
    prob = make_problem(coupling, bias, groups)
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W, "b": b, "V": V})
    assert pyo.value(m.F) == pytest.approx(prob.F(W, b, V), rel=1e-12)
    assert pyo.value(m.regulariser) == pytest.approx(prob.regulariser(W), rel=1e-12)
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    for (l, i, k), con in m.g1.items():
        assert pyo.value(con.body) - (con.upper if con.upper is not None else 0) == (
            pytest.approx(g1[l - 1][i - 1, k - 1], abs=1e-12)
        )
        assert pyo.value(m.U[l, i, k]) == pytest.approx(U[l - 1][i - 1, k - 1], abs=1e-12)
    for (l, i, k), con in m.g2.items():
        assert pyo.value(con.body) == pytest.approx(g2[l - 1][i - 1, k - 1], abs=1e-12)
    L = prob.L
    for i in range(1, prob.widths[L] + 1):
        assert pyo.value(m.U[L, i, 3]) == pytest.approx(U[-1][i - 1, 2], abs=1e-12)
    # t starts at the group norms: every epigraph constraint holds with equality
    for con in m.epi.values():
        assert pyo.value(con.body) == pytest.approx(0.0, abs=1e-12)


def test_indices_are_one_based_and_groups_follow_the_penalty_order():
    prob = make_problem(groups="element")
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W, "V": V})
    assert m.W[2, 2, 3].value == W[1][1, 2]
    assert m.V[1, 2, 5].value == V[0][1, 4]
    for l in range(1, prob.L + 1):
        norms = prob.penalty.group_norms(W[l - 1]).ravel()
        got = [m.t[l, g].value for g in range(1, len(norms) + 1)]
        np.testing.assert_allclose(got, norms, rtol=1e-14)
        assert len(group_members(prob, l)) == prob.penalty.n_groups(prob.W_shapes[l - 1])
    assert list(m.G[1, 4]) == [(2, 2)]  # element groups: row-major


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_group_members_and_broadcast_match_the_penalty(groups):
    prob = make_problem(groups=groups)
    W, _, _ = random_point(prob)
    for l in range(1, prob.L + 1):
        norms = prob.penalty.group_norms(W[l - 1]).ravel()
        for g, members in enumerate(group_members(prob, l)):
            vals = [W[l - 1][i - 1, j - 1] for i, j in members]
            assert np.linalg.norm(vals) == pytest.approx(norms[g])
        per_entry = group_broadcast(prob, l, prob.penalty.group_norms(W[l - 1]))
        assert per_entry.shape == W[l - 1].shape
        # every entry carries its own group's norm
        for g, members in enumerate(group_members(prob, l)):
            for i, j in members:
                assert per_entry[i - 1, j - 1] == norms[g]


def test_set_and_get_values_round_trip():
    prob = make_problem(bias=True)
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob)  # starts at zero, a feasible point
    zeros = (
        [np.zeros(s) for s in prob.W_shapes],
        [np.zeros(s) for s in prob.b_shapes],
        [np.zeros(s) for s in prob.V_shapes],
    )
    assert pyo.value(m.F) == pytest.approx(prob.F(*zeros), rel=1e-14)
    set_values(m, W, b, V)
    W2, b2, V2 = get_values(m)
    for A, B in zip((*W, *b, *V), (*W2, *b2, *V2), strict=True):
        np.testing.assert_array_equal(A, B)


def test_default_V_is_the_lift_and_init_accepts_results():
    prob = make_problem()
    W, _, _ = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W})
    _, _, V = get_values(m)
    for a, c in zip(V, prob.lift(W), strict=True):
        np.testing.assert_allclose(a, c, atol=1e-15)
    # at the exact lift the complementarity coupling vanishes
    assert pyo.value(m.coupling) == pytest.approx(0.0, abs=1e-12)
    assert pyo.value(m.F) == pytest.approx(prob.Phi(W), rel=1e-12)


def test_printing_shows_the_paper_symbols():
    prob = make_problem(N=3)
    m = build_pyomo_model(prob)
    buf = io.StringIO()
    m.pprint(ostream=buf)
    text = buf.getvalue()
    for name in ("W : weights W_l", "g1 : g1_l = U_l - V_l <= 0", "g2 :", "epi :", "t :", "F :"):
        assert name in text


def test_write_nl_and_gms(tmp_path):
    prob = make_problem(bias=True, N=4)
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W, "b": b, "V": V})
    nl = tmp_path / "lifted.nl"
    m.write(str(nl), io_options={"symbolic_solver_labels": True})
    assert nl.stat().st_size > 0
    rows = (tmp_path / "lifted.row").read_text().split()
    assert "g1[1,1,1]" in rows and "g2[2,2,4]" in rows and "epi[3,2]" in rows
    cols = (tmp_path / "lifted.col").read_text().split()
    assert "W[1,1,1]" in cols and "b[3,2]" in cols and "V[2,2,4]" in cols and "t[1,1]" in cols
    gms = tmp_path / "lifted.gms"
    m.write(str(gms), io_options={"symbolic_solver_labels": True})
    text = gms.read_text()
    assert "g1_1_1_1__hi" in text and "g2_2_2_4__hi" in text and "epi_3_2__hi" in text
    assert "POSITIVE VARIABLES" in text and "t_1_1_" in text


def test_argument_errors_name_the_parameter():
    with pytest.raises(TypeError, match="prob"):
        build_pyomo_model("not a problem")
    prob = make_problem()
    with pytest.raises(TypeError, match="init"):
        build_pyomo_model(prob, init=[1, 2])
    with pytest.raises(ValueError, match="W"):
        build_pyomo_model(prob, init={"W": [np.zeros((2, 2))]})
    # (a text deadline failed inside the first comparison with the clock, nan was taken)
    with pytest.raises(TypeError, match="deadline must be a real number"):
        build_pyomo_model(prob, deadline="1")
    with pytest.raises(ValueError, match="deadline must be finite"):
        build_pyomo_model(prob, deadline=float("nan"))


def test_set_values_checks_everything_before_writing():
    """Wrong shapes and non-finite entries are refused, naming the argument, and the model
    keeps its values (a V of shape (5, 9) was sliced into the model, a NaN W written)."""
    prob = make_problem(bias=True)
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W, "b": b, "V": V})
    F0 = pyo.value(m.F)
    bad_W = [W[0] * np.nan, *W[1:]]
    bad_b = [np.arange(7.0), *b[1:]]
    bad_V = [np.ones((5, 9)), *V[1:]]
    for args, name in (
        ((bad_W, b, V), r"W\[0\] must be finite"),
        ((W, bad_b, V), r"b\[0\] must have shape \(3,\)"),
        ((W, b, bad_V), r"V\[0\] must have shape \(3, 7\)"),
        ((W[:-1], b, V), "W must hold 3 arrays"),
        ((W, b, [V[0] + np.inf, V[1]]), r"V\[0\] must be finite"),
        (([w * 1e200 for w in W], b, None), r"W overflows.*or give V"),
    ):
        with pytest.raises(ValueError, match=name):
            set_values(m, *args)
        assert pyo.value(m.F) == F0  # nothing written
    with pytest.raises(ValueError, match="b must be None"):
        set_values(build_pyomo_model(make_problem()), W, b, V)
    with pytest.raises(TypeError, match="m must be a Pyomo model"):
        set_values(object(), W, b, V)


def test_set_values_without_b_means_zero_biases():
    prob = make_problem(bias=True)
    W, b, V = random_point(prob)
    zero = [np.zeros(s) for s in prob.b_shapes]
    m = build_pyomo_model(prob, init={"W": W, "b": b, "V": V})
    set_values(m, W, None, V)
    assert all(var.value == 0.0 for var in m.b.values())
    assert pyo.value(m.F) == pytest.approx(prob.F(W, zero, V), rel=1e-12)
    set_values(m, W)  # V: the lift of W with zero biases
    for a, c in zip(get_values(m)[2], prob.lift(W, zero), strict=True):
        np.testing.assert_allclose(a, c, atol=1e-15)


def test_group_helpers_refuse_a_layer_outside_1_to_L():
    """``l = 0`` gave the last layer's groups (Python's negative index), ``l = L + 1`` a bare
    IndexError, a wrong-length ``per_group`` numpy's broadcast error."""
    prob = make_problem(groups="column")  # L = 3
    for l in (0, -1, 4):
        with pytest.raises(ValueError, match=r"l must be .*1\.\.3, got"):
            group_members(prob, l)
        with pytest.raises(ValueError, match=r"l must be .*1\.\.3, got"):
            group_broadcast(prob, l, np.ones(2))
    with pytest.raises(TypeError, match="l must be an integer"):
        group_members(prob, 1.0)
    # W_1 is 3 x 2: two column groups
    with pytest.raises(ValueError, match=r"per_group .* must have shape \(2,\), got \(3,\)"):
        group_broadcast(prob, 1, np.ones(3))
    with pytest.raises(ValueError, match=r"per_group .* must have shape \(2,\), got \(1, 2\)"):
        group_broadcast(prob, 1, np.ones((1, 2)))
    assert group_broadcast(prob, 1, np.array([1.0, 2.0])).tolist() == [[1.0, 2.0]] * 3


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_the_declaration_reads_its_own_parameters(coupling):
    """The coupling and the constraints are written in the model's ``alpha``, ``beta``, ``lam``
    (its printed expressions show the symbols, as MODEL.md 4 does), equal to numpy at the
    problem's values; ``m.beta`` was declared but the coupling was built from ``prob.beta``."""
    prob = make_problem(coupling)
    W, b, V = random_point(prob)
    m = build_pyomo_model(prob, init={"W": W, "V": V})
    assert pyo.value(m.F) == pytest.approx(prob.F(W, b, V), rel=1e-12)
    assert "beta" in str(m.coupling.expr) and "lam" in str(m.regulariser.expr)
    assert "alpha" in str(m.g2[1, 1, 1].expr)
    if coupling == "complementarity":
        assert "alpha" in str(m.coupling.expr)
    # the symbols are the model's: a new beta, alpha or lam changes the model with them
    c0, r0 = pyo.value(m.coupling), pyo.value(m.regulariser)
    m.beta.set_value(2 * prob.beta)
    m.lam.set_value(3 * prob.lam)
    assert pyo.value(m.coupling) == pytest.approx(2 * c0, rel=1e-12)
    assert pyo.value(m.regulariser) == pytest.approx(3 * r0, rel=1e-12)
    m.alpha.set_value(0.5)
    U = prob.pre_activations(W, b, V)
    g1 = [u - v for u, v in zip(U[:-1], V, strict=True)]
    g2 = [0.5 * u - v for u, v in zip(U[:-1], V, strict=True)]
    pi = sum(
        float(np.sum(a * c if coupling == "complementarity" else a * a))
        for a, c in zip(g1, g2, strict=True)
    )  # <g1, g2> or ||g1||^2 (MODEL.md 4)
    assert pyo.value(m.coupling) == pytest.approx(2 * prob.beta / prob.N * pi, rel=1e-12)
    for (l, i, k), con in m.g2.items():
        assert pyo.value(con.body) == pytest.approx(g2[l - 1][i - 1, k - 1], abs=1e-12)


def test_the_objective_is_minimised():
    """MODEL.md 4 is a minimisation: ``F`` must carry ``sense=minimize`` (a maximised F
    evaluates to the same number, so value checks alone cannot see it)."""
    m = build_pyomo_model(make_problem())
    assert m.F.sense == pyo.minimize
    assert m.F.is_minimizing()


@pytest.mark.parametrize("groups", ["column", "row", "element"])


def test_group_broadcast_returns_a_fresh_writable_array(groups):
    """The documented result is an array ``(n_l, n_{l-1})`` a caller may edit (e.g. a mask it
    refines); ``per_entry`` gives a read-only broadcast view, so the copy is needed, and
    editing the result must not touch ``per_group``."""
    prob = make_problem(groups=groups)
    W = [np.random.default_rng(1).standard_normal(s) for s in prob.W_shapes]
    per_group = prob.penalty.group_norms(W[0])
    before = per_group.copy()
    out = group_broadcast(prob, 1, per_group)
    assert out.shape == prob.W_shapes[0] and out.flags.writeable
    out[...] = -1.0
    np.testing.assert_array_equal(per_group, before)


def test_init_enters_in_float64_as_set_values_writes_it():
    """``build_pyomo_model(prob, init=...)`` and ``set_values`` give the same model for a float32
    problem: the values enter in float64 (until session 50 ``init`` went through
    ``parse_init``'s cast to float32), and a missing ``V`` is the float64 lift, so the start is
    feasible to float64 rounding, not float32's."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((6, 2)), rng.standard_normal((6, 1)), hidden=(3,),
                         lam=0.05, dtype=np.float32)
    W = [rng.standard_normal(s) for s in prob.W_shapes]  # float64
    m1 = build_pyomo_model(prob, init={"W": W})
    m2 = build_pyomo_model(prob)
    set_values(m2, W)
    for a, c in zip(get_values(m1)[0], get_values(m2)[0], strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(get_values(m1)[0][0], W[0])
    worst = max(max(pyo.value(c.body) for c in m.g1.values()) for m in (m1, m2))
    assert worst <= 1e-12


def _collections_during(fn, *args, **kwargs):
    """The generations of the cyclic collections that ran during ``fn(*args, **kwargs)`` (with
    the collector on when it is called)."""
    import gc

    seen = []

    def count(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    was_enabled = gc.isenabled()
    gc.enable()
    gc.callbacks.append(count)
    try:
        fn(*args, **kwargs)
    finally:
        gc.callbacks.remove(count)
        if not was_enabled:
            gc.disable()
    return seen


def test_the_build_is_not_paused_by_garbage_collections():
    """A collection walks the model built so far: hundreds of them (0.3-0.7 s each at the
    digits' size) fell between two of the build's deadline checks until session 50. The
    collector is paused for the build and on again after it; one that was off stays off."""
    import gc

    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((400, 12)), rng.standard_normal((400, 3)),
                         hidden=(16, 8), lam=1e-2, bias=True)
    assert _collections_during(build_pyomo_model, prob) == []
    assert gc.isenabled()
    gc.disable()
    try:
        build_pyomo_model(make_problem())
        assert not gc.isenabled()
    finally:
        gc.enable()


# build_pyomo_model looks at its deadline between the components it builds whole (its
# docstring): until session 51 the index sets, the parameters V0 and Y and the variables W were
# built back to back, and a deadline that passed during the first ran on through all of them.
def _fake_clock(monkeypatch):
    """A clock that moves 1 s per component declared (Set, Param, Var), and the names of the
    components declared; the real time is not read."""
    now, built = [0.0], []

    def declare(kind):
        real = getattr(pyo, kind)

        def make(*args, **kwargs):
            now[0] += 1.0
            built.append(kind)
            return real(*args, **kwargs)

        return make

    fake_pyo = types.SimpleNamespace(**{k: getattr(pyo, k) for k in dir(pyo)
                                        if not k.startswith("__")})
    for kind in ("Set", "Param", "Var"):
        setattr(fake_pyo, kind, declare(kind))
    monkeypatch.setattr(pyomo_model, "pyo", fake_pyo)
    monkeypatch.setattr(pyomo_model, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return built


def _problem():
    rng = np.random.default_rng(0)
    return LiftedProblem(rng.standard_normal((7, 2)), rng.standard_normal((7, 2)),
                         hidden=(3, 2), lam=0.05, bias=True)


@pytest.mark.parametrize("k", range(1, 7))
def test_the_build_stops_at_the_first_look_after_the_deadline(monkeypatch, k):
    """With the deadline passed while the k-th component is built, the build stops before the
    next one: every component is followed by a look at the deadline."""
    built = _fake_clock(monkeypatch)
    with pytest.raises(BuildTimeLimit, match="deadline reached"):
        build_pyomo_model(_problem(), deadline=k - 0.5)
    assert len(built) == k, built


# build_pyomo_model refuses a bad init before it builds the model (most of its time: 11-12
# s on the digits), as solve_ipopt does; it built the whole model first and only then named
# init.
@pytest.mark.parametrize("init, match", [({"W": [np.zeros((2, 2))]}, r"init\['W'\] must hold"),
                                         ({"w": None}, "its key is 'W'"),
                                         ([np.zeros((2, 2))], "init must be None")])
def test_a_bad_init_is_refused_before_the_build(monkeypatch, init, match):
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 1)), hidden=(4,))

    def no_build(*args, **kwargs):
        raise AssertionError("the model was built before init was checked")

    monkeypatch.setattr(pyomo_model, "declare_network", no_build)
    with pytest.raises((TypeError, ValueError), match=match):
        pyomo_model.build_pyomo_model(prob, init)

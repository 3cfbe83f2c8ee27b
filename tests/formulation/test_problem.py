"""LiftedProblem: gradients against finite differences, F = Phi at the lift, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem


def _problem(rng, N, widths, coupling, bias, lam=0.0):
    X = rng.standard_normal((N, widths[0]))
    Y = rng.standard_normal((N, widths[-1]))
    return LiftedProblem(X, Y, hidden=widths[1:-1], coupling=coupling, bias=bias, lam=lam,
                         alpha=0.2, beta=1.7)


def _lagrangian(p, z, M1, M2):
    W, b, V = p.layout.unpack(z)
    U = p.pre_activations(W, b, V)
    g1, g2 = p.constraints(U, V)
    return p.F(W, b, V) + sum(np.vdot(m, g) for m, g in zip(M1 + M2, g1 + g2))


random_instances = given(
    seed=st.integers(0, 10_000),
    widths=st.lists(st.integers(1, 4), min_size=3, max_size=4),
    N=st.integers(1, 6),
    coupling=st.sampled_from(["complementarity", "squared"]),
    bias=st.booleans(),
)


def _random_instance(seed, widths, N, coupling, bias):
    """``(rng, p, W, b, M1, M2)``: a problem, random weights (and biases) and multipliers."""
    rng = np.random.default_rng(seed)
    p = _problem(rng, N, widths, coupling, bias)
    W, b = p.initial_weights(seed)
    if bias:
        b = [rng.standard_normal(x.shape) for x in b]
    M1 = [rng.random(s) for s in p.V_shapes]
    M2 = [rng.random(s) for s in p.V_shapes]
    return rng, p, W, b, M1, M2


def _fd_gradient(fun, x, h=1e-6):
    """Central differences of ``fun`` at ``x``, one coordinate at a time."""
    return np.array([(fun(x + h * e) - fun(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@settings(max_examples=20, deadline=None)
@random_instances
def test_lagrangian_gradient_matches_finite_differences(seed, widths, N, coupling, bias):
    rng, p, W, b, M1, M2 = _random_instance(seed, widths, N, coupling, bias)
    V = [v + 0.3 * rng.standard_normal(v.shape) for v in p.lift(W, b)]
    z = p.layout.pack(W, b, V)
    g = p.layout.pack(*p.lagrangian_gradient(W, b, V, M1, M2))
    fd = _fd_gradient(lambda zz: _lagrangian(p, zz, M1, M2), z)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@random_instances
def test_branch_coordinates_gradient_matches_finite_differences(seed, widths, N, coupling, bias):
    """``backprop(..., C)`` is the gradient of ``S -> Lagrangian(W, b, V(W, b, S))``."""
    rng, p, W, b, M1, M2 = _random_instance(seed, widths, N, coupling, bias)
    U, _ = p.forward(W, b)
    C = [p.sigma_slope(u) for u in U[:-1]]
    S = [0.3 * rng.standard_normal(u.shape) for u in U[:-1]]

    def lag(x):
        Wx, bx, Sx = p.layout.unpack(x)
        _, Vx = p.branch_lift(Wx, bx, Sx, C)
        return _lagrangian(p, p.layout.pack(Wx, bx, Vx), M1, M2)

    x = p.layout.pack(W, b, S)
    Ux, Vx = p.branch_lift(W, b, S, C)
    g1, g2 = p.constraints(Ux, Vx)
    dU, dV = p.smooth_partials(Ux[-1], g1, g2)
    g = p.layout.pack(*p.backprop(W, Vx, *p.lagrangian_fields(dU, dV, M1, M2), C))
    np.testing.assert_allclose(g, _fd_gradient(lag, x), rtol=1e-5, atol=1e-6)
    # S is the gap of the constraint active on each entry's branch
    for Sl, Cl, a, c in zip(S, C, g1, g2):
        np.testing.assert_allclose(Sl, np.where(Cl == 1.0, -a, -c), atol=1e-12)


@pytest.mark.parametrize("bias", [False, True])
def test_F_equals_Phi_at_exact_lift_complementarity(bias):
    rng = np.random.default_rng(1)
    p = _problem(rng, 9, (3, 5, 4, 2), "complementarity", bias, lam=0.1)
    W, b = p.initial_weights(3)
    assert p.F(W, b, p.lift(W, b)) == pytest.approx(p.Phi(W, b), rel=1e-12)


def test_squared_gap_closed_form():
    rng = np.random.default_rng(2)
    p = _problem(rng, 9, (3, 5, 4, 2), "squared", False, lam=0.1)
    W, b = p.initial_weights(4)
    U, V = p.forward(W, b)
    gap = p.beta / p.N * (1 - p.alpha) ** 2 * sum(np.sum(np.minimum(u, 0) ** 2) for u in U[:-1])
    assert gap > 0
    assert p.F(W, b, V) == pytest.approx(p.Phi(W, b) + gap, rel=1e-12)


def test_lift_is_feasible():
    rng = np.random.default_rng(3)
    p = _problem(rng, 11, (4, 6, 3, 2), "complementarity", True)
    W, b = p.initial_weights(5)
    U, V = p.forward(W, b)
    g1, g2 = p.constraints(U, V)
    assert max(np.max(g) for g in g1 + g2) <= 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": 0.0}, "alpha"),
        ({"lam": -1.0}, "lam"),
        ({"beta": 0.0}, "beta"),
        ({"groups": "rows"}, "groups"),
        ({"coupling": "hinge"}, "coupling"),
        ({"hidden": (3, 0)}, "hidden"),
        ({"hidden": ()}, "hidden"),
        ({"bias": "yes"}, "bias"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, match):
    X, Y = np.ones((4, 2)), np.ones(4)
    with pytest.raises((ValueError, TypeError), match=match):
        LiftedProblem(X, Y, **kwargs)


def test_bad_data():
    X, Y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(ValueError, match="same number of rows"):
        LiftedProblem(X, np.ones(5))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        LiftedProblem(bad, Y)
    with pytest.raises(ValueError, match="X must not be empty"):
        LiftedProblem(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="Y must be"):
        LiftedProblem(X, np.ones((4, 1, 1)))


def test_the_model_methods_check_the_structure_of_their_arguments():
    """``pre_activations``, ``constraints``, ``regulariser`` and ``lagrangian_gradient`` refuse
    misshaped or mismatched arguments under their names (they computed with a ``b`` the
    problem does not have, summed one layer of two, or failed inside numpy)."""
    rng = np.random.default_rng(0)
    p = _problem(rng, 5, (3, 4, 2), "complementarity", False, lam=0.1)
    W, b = p.initial_weights(0)
    V = p.lift(W, b)
    M1, M2 = p.zero_multipliers()
    bias = [np.zeros(s) for s in p.b_shapes]
    with pytest.raises(ValueError, match="b must be None"):
        p.pre_activations(W, bias, V)
    with pytest.raises(ValueError, match=r"V\[0\] must have shape \(4, 5\)"):
        p.pre_activations(W, None, [V[0][:, :2]])
    with pytest.raises(ValueError, match=r"W\[0\] must have shape \(4, 3\)"):
        p.regulariser([w.T for w in W])
    with pytest.raises(ValueError, match="W must hold 2 arrays"):
        p.regulariser(W[:1])
    with pytest.raises(ValueError, match=r"M2\[0\] must have shape"):
        p.lagrangian_gradient(W, None, V, M1, [m.T for m in M2])
    U = p.pre_activations(W, None, V)
    with pytest.raises(ValueError, match=r"U\[0\] must have shape"):
        p.constraints([U[0][:, :3]], V)
    with pytest.raises(ValueError, match="U must be a list of at least 1"):
        p.constraints([], V)
    with pytest.raises(ValueError, match=r"W\[1\] must be an array of shape .*ragged"):
        p.F([W[0], [[1.0, 2.0], [3.0]]], None, V)


def test_integer_weights_and_list_biases_evaluate_as_floats():
    """``U_l = W_l V_{l-1} + b_l 1^T`` (``LiftedProblem.affine``): integer ``W`` and ``V`` with
    a floating ``b``, or ``b`` as nested lists, give the floating values (they failed inside
    numpy's in-place add)."""
    rng = np.random.default_rng(1)
    p = _problem(rng, 6, (3, 4, 2), "complementarity", True, lam=0.1)
    Wi = [rng.integers(-2, 3, size=s) for s in p.W_shapes]
    Vi = [rng.integers(0, 3, size=s) for s in p.V_shapes]
    b = [rng.standard_normal(s) for s in p.b_shapes]
    Wf, Vf = [w.astype(float) for w in Wi], [v.astype(float) for v in Vi]
    assert p.F(Wi, b, Vi) == p.F(Wf, b, Vf)
    assert p.F(Wf, [x.tolist() for x in b], Vf) == p.F(Wf, b, Vf)
    assert p.Phi(Wi, [x.tolist() for x in b]) == p.Phi(Wf, b)


def test_repr_names_the_dtype():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    assert "dtype=float32" in repr(LiftedProblem(X, Y, hidden=(3,), dtype=np.float32))
    assert "dtype=float64" in repr(LiftedProblem(X, Y, hidden=(3,)))


@pytest.mark.parametrize(
    "alpha, exc, match",
    [(5.0, ValueError, "alpha must be < 1"), (1.0, ValueError, "alpha must be < 1"),
     (0.0, ValueError, "alpha must be > 0"), (-0.1, ValueError, "alpha must be > 0"),
     (float("nan"), ValueError, "alpha must be finite"), ("0.1", TypeError, "alpha must be a"),
     (None, TypeError, "alpha must be a")],
)
def test_couplings_refuse_an_alpha_outside_0_1_by_name(alpha, exc, match):
    """``make_coupling`` and the coupling classes took any ``alpha`` (``alpha = 5`` was
    accepted; outside ``(0, 1)`` the constraints no longer encode the leaky ReLU)."""
    from liftnet.formulation.couplings import Complementarity, Squared, make_coupling

    for make in (lambda a: make_coupling("complementarity", a),
                 lambda a: make_coupling("squared", a), Complementarity, Squared):
        with pytest.raises(exc, match=match):
            make(alpha)
    for a in (0.2, np.float32(0.5), np.float64(1e-6)):
        c = make_coupling("squared", a)
        assert type(c.alpha) is float and c.alpha == float(a)


def test_lagrangian_gradient_takes_nested_lists():
    """Nested lists (as ``F`` and ``Phi`` take) are converted: they failed inside the backward
    pass (``list.T``)."""
    rng = np.random.default_rng(0)
    p = _problem(rng, 5, (3, 4, 2), "complementarity", True, lam=0.1)
    W, b = p.initial_weights(0)
    V = p.lift(W, b)
    M1 = [rng.random(s) for s in p.V_shapes]
    M2 = [rng.random(s) for s in p.V_shapes]
    want = p.layout.pack(*p.lagrangian_gradient(W, b, V, M1, M2))
    lists = [[a.tolist() for a in arrs] for arrs in (W, b, V, M1, M2)]
    assert np.array_equal(p.layout.pack(*p.lagrangian_gradient(*lists)), want)


@pytest.mark.parametrize("dtype, beta", [(np.float64, 1e200), (np.float32, 1e20)])
def test_beta_too_large_for_the_dtype_is_refused(dtype, beta):
    """``beta`` is bounded against the dtype as ``lam`` is (``beta=1e200``: the solve diverged
    at once); the bound itself is accepted."""
    X, Y = np.ones((4, 2)), np.ones((4, 1))
    with pytest.raises(ValueError, match=r"^beta=.* is too large for float"):
        LiftedProblem(X, Y, hidden=(3,), beta=beta, dtype=dtype)
    top = 1e-2 * float(np.sqrt(np.finfo(dtype).max))
    assert LiftedProblem(X, Y, hidden=(3,), beta=top, dtype=dtype).beta == top


def test_a_model_larger_than_the_memory_is_refused_naming_hidden(monkeypatch):
    """``hidden=(10**12,)`` died in numpy's allocator ("Unable to allocate 21.8 TiB") at the
    first forward pass; a model one copy of whose variables exceeds the machine's memory is
    now refused where it is declared, naming ``hidden`` and the sizes. The bound is the
    memory: with 1 MiB (patched) a model of 131,072 float64 variables passes and one more
    sample's worth does not; float32 halves the bytes."""
    import liftnet.formulation.problem as problem

    X, Y = np.ones((10, 3)), np.ones((10, 1))
    with pytest.raises(ValueError, match=r"^hidden=\(1000000000000,\) with N=10 samples gives "
                                         r"a lifted model of 1\.4e\+13 variables"):
        LiftedProblem(X, Y, hidden=10**12)
    monkeypatch.setattr(problem, "_physical_memory", lambda: 2**20)
    # widths 1-h-1 without bias, N samples: h + h + h N variables
    h, N = 64, 2046  # 64 * 2048 = 131,072 variables = 1 MiB in float64
    Xs, Ys = np.ones((N, 1)), np.ones((N, 1))
    assert LiftedProblem(Xs, Ys, hidden=h).layout.size * 8 == 2**20
    with pytest.raises(ValueError, match=r"more than this machine's memory \(0\.000977 GiB\)"):
        LiftedProblem(np.ones((N + 1, 1)), np.ones((N + 1, 1)), hidden=h)
    assert LiftedProblem(np.ones((N + 1, 1)), np.ones((N + 1, 1)), hidden=h, dtype=np.float32)
    monkeypatch.setattr(problem, "_physical_memory", lambda: None)  # unknown: not checked
    assert LiftedProblem(np.ones((N + 1, 1)), np.ones((N + 1, 1)), hidden=h)


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_coupling_methods_follow_model_md(coupling):
    """The couplings' public methods ``gaps(V, U)``, ``value(V, U)``, ``partials(V, U)``
    (which the solvers do not call: they use the ``*_from_gaps`` forms) against MODEL.md 4:
    ``g1 = U - V``, ``g2 = alpha U - V``, ``pi = <V - U, V - alpha U>`` or ``||V - U||^2``,
    the partials by central differences, and ``pi = 0`` at ``V = sigma(U)``. Swapping the
    arguments of ``gaps`` passed every test before."""
    from liftnet.formulation.couplings import make_coupling

    rng = np.random.default_rng(3)
    a = 0.2
    c = make_coupling(coupling, a)
    U, V = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g1, g2 = c.gaps(V, U)
    np.testing.assert_array_equal(g1, U - V)
    np.testing.assert_array_equal(g2, a * U - V)
    want = np.sum((V - U) * (V - a * U)) if coupling == "complementarity" else np.sum((V - U) ** 2)
    assert c.value(V, U) == pytest.approx(want, rel=1e-14)
    if coupling == "complementarity":  # zero at the exact activation, entry by entry
        assert c.value(np.maximum(U, a * U), U) == 0.0
    dV, dU = c.partials(V, U)
    h = 1e-6
    for P, d, which in ((V, dV, "V"), (U, dU, "U")):
        E = np.zeros_like(P)
        E[1, 2] = h
        plus = c.value(V + E, U) if which == "V" else c.value(V, U + E)
        minus = c.value(V - E, U) if which == "V" else c.value(V, U - E)
        assert d[1, 2] == pytest.approx((plus - minus) / (2 * h), rel=1e-6), which


def test_sigma_slope_takes_alpha_at_zero():
    """``sigma_slope`` is 1 where ``U > 0`` and ``alpha`` elsewhere, ``U = 0`` included (the
    branch every entry of the zero network is frozen on: docs/maths.md 6.2); there
    ``branch_lift``'s slack ``S = V - C U`` is ``-g2``."""
    p = LiftedProblem(np.ones((3, 2)), np.ones(3), hidden=(2,), alpha=0.3)
    np.testing.assert_array_equal(p.sigma_slope(np.array([[-1.0, 0.0, 2.0]])),
                                  [[0.3, 0.3, 1.0]])  # fmt: skip
    U = np.zeros((2, 3))
    V = np.array([[0.5, -1.0, 0.0], [2.0, 0.0, -0.1]])
    S = V - p.sigma_slope(U) * U
    np.testing.assert_array_equal(S, -p.constraints([U], [V])[1][0])


def test_layout_puts_the_V_blocks_last():
    """The packing order is ``W_1..W_L, b_1..b_L, V_1..V_{L-1}``, each block contiguous: the
    weight polish (``alm._WeightsOnly``) zeroes ``z[n_free:]`` to hold ``V`` fixed, so a ``V``
    block before the biases would freeze ``b`` and let ``V`` move (it passed every test)."""
    from liftnet.formulation.variables import Layout

    lay = Layout((3, 4, 5, 2), N=7, bias=True)
    assert [blk.kind for blk in lay.blocks] == ["W"] * 3 + ["b"] * 3 + ["V"] * 2
    assert [blk.layer for blk in lay.blocks] == [1, 2, 3, 1, 2, 3, 1, 2]
    ends = [blk.start + blk.size for blk in lay.blocks]
    assert [blk.start for blk in lay.blocks] == [0, *ends[:-1]] and ends[-1] == lay.size
    n_V = (4 + 5) * 7
    rng = np.random.default_rng(0)
    W = [rng.standard_normal(s) for s in ((4, 3), (5, 4), (2, 5))]
    b = [rng.standard_normal(n) for n in (4, 5, 2)]
    V = [rng.standard_normal((4, 7)), rng.standard_normal((5, 7))]
    z = lay.pack(W, b, V)
    z[lay.size - n_V:] = 0.0
    W2, b2, V2 = lay.unpack(z)
    assert all(np.array_equal(x, y) for x, y in zip(W + b, W2 + b2))
    assert all(not np.any(v) for v in V2)


def test_F_without_V_lifts_with_the_biases():
    """``F(W, b)`` (no ``V``) is ``F`` at the exact lift of ``(W, b)``, biases included, and
    so equals ``Phi(W, b)`` for the complementarity coupling (MODEL.md 4, fact 4): a lift
    that dropped ``b`` passed every fast test (``initial_weights`` has zero biases)."""
    rng = np.random.default_rng(1)
    p = _problem(rng, 6, (3, 4, 3, 2), "complementarity", True, lam=0.05)
    W, _ = p.initial_weights(0)
    b = [rng.standard_normal(n) for n in (4, 3, 2)]
    assert p.F(W, b) == p.F(W, b, p.lift(W, b))
    assert p.F(W, b) == pytest.approx(p.Phi(W, b), rel=1e-12)
    assert p.F(W, b) != pytest.approx(p.F(W, [np.zeros_like(x) for x in b]), rel=1e-6)


def test_initial_weights_have_the_he_scale():
    """``initial_weights``: He initialisation for leaky ReLU, ``W_l`` entries of standard
    deviation ``sqrt(2 / (1 + alpha^2)) / sqrt(n_{l-1})`` (fan-in). Either factor wrong (the
    gain with ``alpha`` for ``alpha^2``, or fan-out) was seen only by solver tests."""
    p = LiftedProblem(np.ones((2, 400)), np.ones((2, 1)), hidden=(300,), alpha=0.5)
    W, b = p.initial_weights(0)
    assert b is None
    want = np.sqrt(2.0 / 1.25) / np.sqrt(400)
    assert np.std(W[0]) == pytest.approx(want, rel=0.02)
    assert np.mean(W[0]) == pytest.approx(0.0, abs=0.02 * want)
    assert np.std(W[1]) == pytest.approx(np.sqrt(2.0 / 1.25) / np.sqrt(300), rel=0.2)


def _point(seed=0, groups="column", coupling="complementarity", bias=True):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    p = LiftedProblem(X, Y, hidden=(4, 5), alpha=0.2, beta=1.7, lam=0.3, groups=groups,
                      coupling=coupling, bias=bias)
    W = [rng.standard_normal(s) for s in p.W_shapes]
    b = [rng.standard_normal(s) for s in p.b_shapes] if bias else None
    V = [rng.standard_normal(s) for s in p.V_shapes]
    return rng, p, W, b, V


@pytest.mark.parametrize("groups", ["column", "row", "element"])


def test_regulariser_is_lam_times_the_group_norms_of_every_layer(groups):
    """``lam R(W) = lam sum_l sum_g ||W_l[g]||_2`` (MODEL.md 2) over all L layers, the output
    layer's included (a sum over ``W[:-1]`` passed every test: F and Phi dropped it alike)."""
    _, p, W, _, _ = _point(groups=groups)
    axis = {"column": 0, "row": 1}.get(groups)
    want = p.lam * sum(np.abs(w).sum() if axis is None else np.linalg.norm(w, axis=axis).sum()
                       for w in W)
    assert p.regulariser(W) == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])


def test_F_matches_model_md_formula_at_a_random_point(coupling):
    """``F`` at a random infeasible ``(W, b, V)`` against MODEL.md 4 written out directly."""
    _, p, W, b, V = _point(coupling=coupling)
    a = p.alpha
    Vs = [p.X.T, *V]
    U = [W[l] @ Vs[l] + b[l][:, None] for l in range(p.L)]
    if coupling == "complementarity":
        pi = sum(np.sum((V[l] - U[l]) * (V[l] - a * U[l])) for l in range(p.L - 1))
    else:
        pi = sum(np.sum((V[l] - U[l]) ** 2) for l in range(p.L - 1))
    R = sum(np.linalg.norm(w, axis=0).sum() for w in W)
    want = (np.sum((U[-1] - p.Y.T) ** 2) / p.N + p.beta / p.N * pi + p.lam * R)
    assert p.F(W, b, V) == pytest.approx(want, rel=1e-12)
    net = p.X.T
    for l in range(p.L - 1):
        net = np.maximum(W[l] @ net + b[l][:, None], a * (W[l] @ net + b[l][:, None]))
    out = W[-1] @ net + b[-1][:, None]
    assert p.Phi(W, b) == pytest.approx(np.sum((out - p.Y.T) ** 2) / p.N + p.lam * R, rel=1e-12)


def test_fewer_target_rows_than_samples_is_refused():
    """The row check works both ways (``Y.shape[0] > X.shape[0]`` alone passed the tests,
    and a Y with fewer rows than X then failed later inside numpy)."""
    with pytest.raises(ValueError, match="same number of rows"):
        LiftedProblem(np.ones((5, 2)), np.ones(4))
    with pytest.raises(ValueError, match="same number of rows"):
        LiftedProblem(np.ones((4, 2)), np.ones(5))


def test_subset_takes_every_valid_index_and_refuses_the_others_by_name():
    """``subset``: negative indices down to ``-N`` are samples; ``N`` and an empty index array
    are refused by ``subset`` itself (not by numpy's IndexError or its empty-reduction error)."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    p = LiftedProblem(X, Y, hidden=(3,))
    q = p.subset(np.array([-6, -1]))
    np.testing.assert_array_equal(q.X, X[[0, 5]])
    with pytest.raises(ValueError, match="rows must index the 6 samples"):
        p.subset(np.array([6]))
    with pytest.raises(ValueError, match="rows must index the 6 samples"):
        p.subset(np.array([-7]))
    with pytest.raises(ValueError, match="rows must be a nonempty"):
        p.subset(np.array([], dtype=int))


def test_forward_and_predict_refuse_inputs_of_the_wrong_width_by_name():
    """``forward(V0=...)`` and ``predict(X)`` name the width they expect, more columns as well
    as fewer (not numpy's matmul mismatch, not forward's V0 message for predict)."""
    _, p, W, b, _ = _point()
    for bad in (np.ones((2, 4)), np.ones((4, 4))):
        with pytest.raises(ValueError, match=r"V0 must have shape \(3, M\)"):
            p.forward(W, b, bad)
    for bad in (np.ones((4, 2)), np.ones((4, 4))):
        with pytest.raises(ValueError, match="X must have 3 columns"):
            p.predict(W, b, bad)


def test_affine_writes_into_out_bias_included():
    """``affine(W, b, V, out=buf)`` returns ``buf`` holding ``W V + b 1^T`` (the ALM's output
    layer passes a buffer of its own)."""
    rng = np.random.default_rng(1)
    W, V, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(3)
    buf = np.empty((3, 5))
    got = LiftedProblem.affine(W, b, V, out=buf)
    assert got is buf
    np.testing.assert_allclose(buf, W @ V + b[:, None], rtol=1e-14)


def _smooth_small():
    rng = np.random.default_rng(0)
    p = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4,))
    U, V = p.forward(*p.initial_weights(0))
    return p, U, V, *p.constraints(U, V)


def test_smooth_partials_refuses_a_wrong_output_shape():
    p, U, V, g1, g2 = _smooth_small()
    with pytest.raises(ValueError, match=r"^UL must have shape \(2, 6\)"):
        p.smooth_partials(U[-1][:1], g1, g2)  # (1, 6) broadcast against Y^T (2, 6)


@pytest.mark.parametrize("method", ["smooth_value", "smooth_partials"])
def test_short_gap_lists_are_refused_not_dropped(method):
    p, U, V, g1, g2 = _smooth_small()
    with pytest.raises(ValueError, match=r"^g1 must hold 1 arrays, got 0"):
        getattr(p, method)(U[-1], [], [])


@pytest.mark.parametrize("method", ["smooth_value", "smooth_partials"])
def test_gap_shapes_are_named(method):
    p, U, V, g1, g2 = _smooth_small()
    with pytest.raises(ValueError, match=r"^g2\[0\] must have shape \(4, 6\), got \(3, 3\)"):
        getattr(p, method)(U[-1], g1, [np.ones((3, 3))])


def test_values_unchanged():
    p, U, V, g1, g2 = _smooth_small()
    assert p.smooth_value(U[-1], g1, g2) == pytest.approx(p.F(*p.initial_weights(0))
                                                          - p.regulariser(p.initial_weights(0)[0]))
    dU, dV = p.smooth_partials(U[-1], g1, g2)
    assert [a.shape for a in dU] == [(4, 6), (2, 6)] and [a.shape for a in dV] == [(4, 6)]


def _two_output_problem():
    rng = np.random.default_rng(0)
    return LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4,))


@pytest.mark.parametrize("shape", [(1, 6), (2, 1), (6, 2), (3, 3)])
def test_loss_gradient_refuses_a_wrong_output_shape(shape):
    """``dU_L = (2/N)(U_L - Y^T)`` refuses a ``U_L`` not of the shape of ``Y^T``, as ``loss``
    and ``smooth_partials`` do: a ``(1, N)`` or ``(n_L, 1)`` one broadcast silently into the
    gradient of another point, an ``(N, n_L)`` one died in numpy's broadcasting."""
    p = _two_output_problem()
    with pytest.raises(ValueError, match=r"^UL must have shape \(2, 6\)"):
        p.loss_gradient(np.zeros(shape))


def test_loss_gradient_of_the_right_shape_is_the_partial_of_loss():
    p = _two_output_problem()
    UL = np.random.default_rng(1).standard_normal((2, 6))
    np.testing.assert_allclose(p.loss_gradient(UL), (2.0 / 6) * (UL - p.YT), rtol=1e-15)


# LiftedProblem.loss refuses a U_L not of the shape of Y^T, as loss_gradient does (cda627e
# added the gradient's test; the loss's own check was not pinned).
@pytest.mark.parametrize("shape", [(1, 6), (2, 1)])
def test_loss_refuses_an_output_that_would_broadcast(shape):
    rng = np.random.default_rng(0)
    p = LiftedProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), hidden=(4,))
    with pytest.raises(ValueError, match=r"^UL must have shape \(2, 6\)"):
        p.loss(np.zeros(shape))
    UL = rng.standard_normal((2, 6))
    assert p.loss(UL) == pytest.approx(float(np.sum((UL - p.YT) ** 2)) / 6, rel=1e-14)

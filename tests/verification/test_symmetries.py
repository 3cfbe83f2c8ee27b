"""Metamorphic tests: the symmetries that the maths of MODEL.md has, checked on the code.

* Relabelling the hidden units of a layer (rows of ``W_l, b_l, V_l, M1_l, M2_l``, columns of
  ``W_{l+1}``) is a symmetry of (M) and (P) for every group kind (a column/row/element group
  of the relabelled network is a group of the original with its entries permuted): ``F``,
  ``Phi`` and every part of the KKT report are unchanged, the gradient and the constraint
  values are permuted alike.
* Reordering the samples (rows of ``X, Y``, columns of ``V, M``) is one too.
* Positive homogeneity of the leaky ReLU (no bias): ``W_l -> c W_l``, ``W_{l+1} -> W_{l+1}/c``,
  ``V_l -> c V_l`` keeps the network and the data fit; the coupling of layer ``l`` scales by
  ``c^2`` (``pi_l`` is a quadratic form in ``(V_l, U_l)``), its constraints by ``c``.
* Doubling the data set (``[X; X]``, ``V -> [V V]``) keeps ``F`` and ``Phi`` (the ``1/N``);
  with the multipliers halved on each copy, ``dU, dV`` and ``G`` halve per column, so the
  ``W`` and ``b`` gradients (sums over the ``2N`` columns) are unchanged, the ``V`` gradient
  halves, and so do the dual-feasibility and complementarity parts; primal feasibility stays.
* Pruning a certified sparse ALM point (``prune_weights``) changes neither ``Phi`` nor the
  certificate (a group of the pruned network is a group of the original with exact zeros
  removed: each part can only fall).

The comparisons allow rounding only: the permuted sums add the same terms in another order.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem, kkt_residuals, prune_weights, solve_alm
from liftnet.datasets import make_teacher

PARTS = ("stationarity", "stationarity_W", "stationarity_b", "stationarity_V",
         "primal_feasibility", "dual_feasibility", "complementarity", "residual", "objective")
RTOL, ATOL = 1e-10, 1e-12  # rounding of O(1) sums taken in another order


def _close(a, b, rtol=RTOL, atol=ATOL):
    return np.allclose(a, b, rtol=rtol, atol=atol)


def _data(cfg):
    """The generator of ``cfg["seed"]`` and the data it draws first: ``X`` (N x n0), ``Y``
    (N x nL)."""
    rng = np.random.default_rng(cfg["seed"])
    X = rng.standard_normal((cfg["N"], cfg["n0"]))
    return rng, X, rng.standard_normal((cfg["N"], cfg["nL"]))


def _problem(X, Y, hidden, **kw):
    return LiftedProblem(X, Y, hidden=hidden, **kw)


def _random_point(prob, rng):
    """A general point of (M): random weights and biases, ``V`` off the lift (some
    constraints violated), multipliers of both signs (a nonzero dual-feasibility part)."""
    W = [rng.standard_normal(s) for s in prob.W_shapes]
    b = [rng.standard_normal(s) for s in prob.b_shapes] if prob.bias else None
    V = [v + 0.3 * rng.standard_normal(v.shape) for v in prob.lift(W, b)]
    M1 = [rng.standard_normal(s) * (rng.random(s) < 0.7) for s in prob.V_shapes]
    M2 = [rng.standard_normal(s) * (rng.random(s) < 0.7) for s in prob.V_shapes]
    return W, b, V, M1, M2


def _permute_hidden(W, b, V, M1, M2, l, perm):
    """Relabel the units of hidden layer ``l`` (1-based) by ``perm``."""
    W, V, M1, M2 = list(W), list(V), list(M1), list(M2)
    W[l - 1] = W[l - 1][perm]
    W[l] = W[l][:, perm]
    if b is not None:
        b = list(b)
        b[l - 1] = b[l - 1][perm]
    V[l - 1], M1[l - 1], M2[l - 1] = V[l - 1][perm], M1[l - 1][perm], M2[l - 1][perm]
    return W, b, V, M1, M2


def _assert_reports_equal(r, s):
    """Every numeric part of the two KKT reports agrees to rounding."""
    for k in PARTS:
        assert _close(s[k], r[k]), (k, r[k], s[k])


shapes = st.fixed_dictionaries({
    "N": st.integers(1, 6),
    "n0": st.integers(1, 3),
    "hidden": st.lists(st.integers(1, 4), min_size=1, max_size=2),
    "nL": st.integers(1, 2),
    "groups": st.sampled_from(["column", "row", "element"]),
    "coupling": st.sampled_from(["complementarity", "squared"]),
    "bias": st.booleans(),
    "seed": st.integers(0, 2**16),
})


# ---------------------------------------------------------------- 1. hidden units
@settings(max_examples=40, deadline=None)
@given(shapes, st.data())
def test_relabelling_hidden_units_is_a_symmetry(cfg, data):
    rng, X, Y = _data(cfg)
    p = _problem(X, Y, cfg["hidden"], alpha=0.2, beta=1.7, lam=0.3, groups=cfg["groups"],
                 coupling=cfg["coupling"], bias=cfg["bias"])
    W, b, V, M1, M2 = _random_point(p, rng)
    if data.draw(st.booleans(), "some zero groups"):  # the subdifferential's other branch
        W[0][:, 0] = 0.0
        W[-1][0] = 0.0
    l = data.draw(st.integers(1, p.L - 1), "layer")
    perm = np.array(data.draw(st.permutations(range(p.widths[l])), "perm"))
    Wp, bp, Vp, M1p, M2p = _permute_hidden(W, b, V, M1, M2, l, perm)

    assert _close(p.F(Wp, bp, Vp), p.F(W, b, V))
    assert _close(p.Phi(Wp, bp), p.Phi(W, b))
    assert _close(p.F(Wp, bp), p.F(W, b))  # at the exact lift
    # the network itself is unchanged
    assert _close(p.predict(Wp, bp, X), p.predict(W, b, X))
    # constraints: permuted on layer l, unchanged elsewhere
    g = p.constraints(p.pre_activations(W, b, V), V)
    gp = p.constraints(p.pre_activations(Wp, bp, Vp), Vp)
    for gi, gpi in zip(g, gp):
        for k in range(p.L - 1):
            assert _close(gpi[k], gi[k][perm] if k == l - 1 else gi[k])
    # gradient of the Lagrangian: permuted like the variables
    gW, gb, gV = p.lagrangian_gradient(W, b, V, M1, M2)
    qW, qb, qV = p.lagrangian_gradient(Wp, bp, Vp, M1p, M2p)
    eW, eb, eV, _, _ = _permute_hidden(gW, gb, gV, M1, M2, l, perm)
    for a, e in zip([*qW, *qV, *(qb or [])], [*eW, *eV, *(eb or [])]):
        assert _close(a, e)
    # every part of the KKT report, with the given multipliers
    _assert_reports_equal(kkt_residuals(p, W, b, V, M1, M2),
                          kkt_residuals(p, Wp, bp, Vp, M1p, M2p))


@pytest.mark.parametrize("groups", ["column", "row"])
@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
def test_relabelling_hidden_units_keeps_the_estimated_certificate(groups, coupling):
    """The multiplier program is itself equivariant: the estimated multipliers are permuted
    and the report's parts agree (the interior point's iterations are equivariant in exact
    arithmetic; rounding can move them, so a looser tolerance)."""
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    p = _problem(X, Y, (4, 3), alpha=0.2, lam=0.05, groups=groups, coupling=coupling,
                 bias=True)
    W, b, V, _, _ = _random_point(p, rng)
    V = [np.maximum(v, p.lift(W, b)[i]) for i, v in enumerate(V)]  # feasible
    perm = np.array([2, 0, 3, 1])
    Wp, bp, Vp, _, _ = _permute_hidden(W, b, V, V, V, 1, perm)
    r, s = kkt_residuals(p, W, b, V), kkt_residuals(p, Wp, bp, Vp)
    assert r.multipliers == s.multipliers == "estimated"
    for k in PARTS:
        assert np.isclose(s[k], r[k], rtol=1e-6, atol=1e-10), (k, r[k], s[k])
    # the estimated multipliers, used as given ones on the other side, give its report
    _, _, _, M1p, M2p = _permute_hidden(W, b, V, r.M1, r.M2, 1, perm)
    _assert_reports_equal(r, kkt_residuals(p, Wp, bp, Vp, M1p, M2p))


# ---------------------------------------------------------------- 2. samples
def _assert_same_model(p, q, W, b, at_p, at_q, map_gV):
    """``q`` is ``p``'s data set rearranged (its samples reordered or repeated) and ``at_q``
    the point ``at_p = (V, M1, M2)`` carried over: ``F`` (at the point and at the exact lift),
    ``Phi`` and the ``W``, ``b`` parts of the Lagrangian's gradient are unchanged, and its ``V``
    part is ``map_gV`` of ``p``'s, layer by layer."""
    (V, M1, M2), (Vq, M1q, M2q) = at_p, at_q
    assert _close(q.F(W, b, Vq), p.F(W, b, V))
    assert _close(q.F(W, b), p.F(W, b))
    assert _close(q.Phi(W, b), p.Phi(W, b))
    gW, gb, gV = p.lagrangian_gradient(W, b, V, M1, M2)
    qW, qb, qV = q.lagrangian_gradient(W, b, Vq, M1q, M2q)
    for a, e in zip([*qW, *(qb or [])], [*gW, *(gb or [])]):
        assert _close(a, e)
    for a, e in zip(qV, gV):
        assert _close(a, map_gV(e))


@settings(max_examples=30, deadline=None)
@given(shapes, st.data())
def test_reordering_samples_is_a_symmetry(cfg, data):
    rng, X, Y = _data(cfg)
    kw = dict(alpha=0.3, beta=0.8, lam=0.2, groups=cfg["groups"], coupling=cfg["coupling"],
              bias=cfg["bias"])
    p = _problem(X, Y, cfg["hidden"], **kw)
    W, b, V, M1, M2 = _random_point(p, rng)
    perm = np.array(data.draw(st.permutations(range(p.N)), "perm"))
    q = _problem(X[perm], Y[perm], cfg["hidden"], **kw)
    Vq, M1q, M2q = ([x[:, perm] for x in arrs] for arrs in (V, M1, M2))
    _assert_same_model(p, q, W, b, (V, M1, M2), (Vq, M1q, M2q), lambda gV: gV[:, perm])
    _assert_reports_equal(kkt_residuals(p, W, b, V, M1, M2),
                          kkt_residuals(q, W, b, Vq, M1q, M2q))


# ---------------------------------------------------------------- 3. homogeneity
@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("l, c", [(1, 2.5), (2, 0.3)])
def test_positive_rescaling_of_a_hidden_layer(coupling, groups, l, c):
    """No bias: ``sigma(c t) = c sigma(t)`` for ``c > 0``. The network and the data fit are
    unchanged; ``pi_l`` scales by ``c^2``, ``g1_l, g2_l`` by ``c``, every other layer's stay;
    ``lam R`` changes only through the two rescaled layers' group norms (each ``||c w||``)."""
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    p = _problem(X, Y, (4, 3), alpha=0.15, beta=1.3, lam=0.2, groups=groups,
                 coupling=coupling)
    W, _, V, _, _ = _random_point(p, rng)
    Ws = list(W)
    Ws[l - 1], Ws[l] = c * W[l - 1], W[l] / c
    Vs = list(V)
    Vs[l - 1] = c * V[l - 1]
    assert _close(p.predict(Ws, None, X), p.predict(W, None, X))
    for a, e in zip(p.forward(Ws)[1][l:], p.forward(W)[1][l:]):  # later layers unchanged
        assert _close(a, e)
    U, Us = p.pre_activations(W, None, V), p.pre_activations(Ws, None, Vs)
    assert _close(p.loss(Us[-1]), p.loss(U[-1]))
    pis = [p.coupling.value(V[k], U[k]) for k in range(p.L - 1)]
    pis[l - 1] *= c * c
    R = [p.penalty.value(x) for x in W]
    R[l - 1], R[l] = c * R[l - 1], R[l] / c
    expect = p.loss(U[-1]) + p.beta / p.N * sum(pis) + sum(R)
    assert _close(p.F(Ws, None, Vs), expect)
    assert _close(p.regulariser(Ws), sum(R))
    # (P) has no coupling: Phi = the network's fit + lam R, both couplings
    assert _close(p.Phi(Ws), p.loss(p.forward(W)[0][-1]) + sum(R))
    g, gs = p.constraints(U, V), p.constraints(Us, Vs)
    for gi, gsi in zip(g, gs):
        for k in range(p.L - 1):
            assert _close(gsi[k], c * gi[k] if k == l - 1 else gi[k])
    # with lam = 0 the exact-lift objective of (M) is invariant for complementarity
    p0 = _problem(X, Y, (4, 3), alpha=0.15, beta=1.3, lam=0.0, groups=groups,
                  coupling=coupling)
    if coupling == "complementarity":
        assert _close(p0.F(Ws, None), p0.F(W, None))
    assert _close(p0.Phi(Ws), p0.Phi(W))


# ---------------------------------------------------------------- 4. doubled data
@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
@pytest.mark.parametrize("groups", ["column", "row", "element"])
@pytest.mark.parametrize("bias", [False, True])
def test_doubling_the_data_set(coupling, groups, bias):
    rng = np.random.default_rng(11)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    kw = dict(alpha=0.25, beta=2.0, lam=0.1, groups=groups, coupling=coupling, bias=bias)
    p = _problem(X, Y, (4, 3), **kw)
    q = _problem(np.vstack([X, X]), np.vstack([Y, Y]), (4, 3), **kw)
    W, b, V, M1, M2 = _random_point(p, rng)
    W[1][:, 2] = 0.0  # a zero group in every group kind
    V2 = [np.hstack([v, v]) for v in V]
    H1, H2 = ([np.hstack([m / 2, m / 2]) for m in Ms] for Ms in (M1, M2))
    _assert_same_model(p, q, W, b, (V, M1, M2), (V2, H1, H2), lambda gV: np.hstack([gV, gV]) / 2)
    r, s = kkt_residuals(p, W, b, V, M1, M2), kkt_residuals(q, W, b, V2, H1, H2)
    assert r.dual_feasibility > 0 and r.complementarity > 0 and r.stationarity_V > 0
    for k, factor in [("stationarity_W", 1), ("stationarity_b", 1), ("stationarity_V", 0.5),
                      ("primal_feasibility", 1), ("dual_feasibility", 0.5),
                      ("complementarity", 0.5), ("objective", 1)]:
        assert _close(s[k], factor * r[k]), (k, r[k], s[k])
    parts = [s[k] for k in ("stationarity_W", "stationarity_b", "stationarity_V",
                            "primal_feasibility", "dual_feasibility", "complementarity")]
    assert s.residual == max(parts)


# ---------------------------------------------------------------- 6. pruning, any network
@settings(max_examples=40, deadline=None)
@given(shapes, st.booleans())
def test_pruning_keeps_the_network_and_cannot_raise_phi(cfg, fold):
    """``prune_weights`` deletes units the network does not use: the pruned network on the
    kept features gives the same outputs (to rounding) and the same data fit; its group norms
    are those of the original less deleted entries, so ``Phi`` cannot grow. Random networks
    with zeroed rows, columns and biases (constant units among them)."""
    rng, X, Y = _data(cfg)
    kw = dict(alpha=0.2, lam=0.3, groups=cfg["groups"], bias=cfg["bias"])
    p = _problem(X, Y, cfg["hidden"], **kw)
    W, b, _, _, _ = _random_point(p, rng)
    for l, Wl in enumerate(W):
        Wl[rng.random(Wl.shape[0]) < 0.3] = 0.0
        Wl[:, rng.random(Wl.shape[1]) < 0.3] = 0.0
        if b is not None:
            b[l][rng.random(b[l].shape) < 0.5] = 0.0
    Wp, bp, keep = prune_weights(W, b, alpha=p.alpha if fold else None)
    q = _problem(X[:, keep[0]], Y, [len(k) for k in keep[1:]], **kw)
    assert _close(q.predict(Wp, bp, X[:, keep[0]]), p.predict(W, b, X))
    assert q.Phi(Wp, bp) <= p.Phi(W, b) * (1 + 1e-12) + 1e-15


# ---------------------------------------------------------------- 6-7 (bis). solver points
@pytest.fixture(scope="module")
def certified():
    X, Y, _, _ = make_teacher(20, (3, 4, 3, 1), alpha=0.1, noise=0.1, seed=0, bias=False)
    prob = LiftedProblem(X, Y, hidden=(5, 4), lam=3e-2, bias=True)
    res = solve_alm(prob, tol=1e-7, seed=0, time_limit=60)
    assert res.status == "converged", res.message
    return prob, res


def test_pruning_a_certified_point_keeps_phi_and_the_certificate(certified):
    """The pruned network is the same function with the same group norms (only exact zeros
    go), so ``Phi`` agrees to rounding; the pruned point's KKT parts are those of the kept
    entries (each group of the pruned network is a group of the original less zeros), so
    none can grow."""
    prob, res = certified
    Wp, bp, keep = prune_weights(res.W, res.b)
    assert sum(w.size for w in Wp) < sum(w.size for w in res.W)  # something was pruned
    for l, Wl in enumerate(res.W):  # the precondition: only exact zeros are deleted
        rows = keep[l + 1] if l + 1 < len(keep) else np.arange(Wl.shape[0])
        mask = np.zeros(Wl.shape, dtype=bool)
        mask[np.ix_(rows, keep[l])] = True
        assert np.all(Wl[~mask] == 0)
    q = LiftedProblem(prob.X[:, keep[0]], prob.Y, hidden=[len(k) for k in keep[1:]],
                      lam=prob.lam, bias=True)
    assert q.Phi(Wp, bp) == pytest.approx(prob.Phi(res.W, res.b), rel=1e-12)
    assert np.allclose(q.predict(Wp, bp, prob.X[:, keep[0]]), prob.predict(res.W, res.b, prob.X),
                       rtol=1e-12, atol=1e-14)
    Vp, M1p, M2p = ([x[keep[l + 1]] for l, x in enumerate(arrs)] for arrs in
                    (res.V, res.M1, res.M2))
    r = kkt_residuals(prob, res.W, res.b, res.V, res.M1, res.M2)
    s = kkt_residuals(q, Wp, bp, Vp, M1p, M2p)
    for k in PARTS[:-1]:
        assert s[k] <= r[k] * (1 + 1e-9) + 1e-15, (k, r[k], s[k])
    assert s.residual <= 1e-7


def test_a_certified_point_reordered_is_certified_for_the_reordered_data(certified):
    """Property 7, in the form that must hold: the ALM's certified point, its samples
    reordered, certifies the reordered problem at the same level, and a warm start there
    stops at once with the same point (two cold solves need not agree: the problem is
    nonconvex and the presolve draws samples by position)."""
    prob, res = certified
    perm = np.random.default_rng(1).permutation(prob.N)
    q = prob.subset(perm)
    Vq, M1q, M2q = ([x[:, perm] for x in arrs] for arrs in (res.V, res.M1, res.M2))
    r = kkt_residuals(q, res.W, res.b, Vq, M1q, M2q)
    assert r.residual == pytest.approx(res.kkt.residual, rel=1e-9)
    warm = solve_alm(q, tol=1e-7, seed=0, init=dict(W=res.W, b=res.b, V=Vq, M1=M1q, M2=M2q))
    assert warm.status == "converged"
    assert warm.Phi == pytest.approx(res.Phi, rel=1e-12)
    assert warm.objective == pytest.approx(res.objective, rel=1e-12)

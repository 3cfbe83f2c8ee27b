"""Properties of the baselines on (P) and of the projected BB method that the other tests
left unchecked: a review by mutation (session 48) changed one line at a time of
``liftnet/solvers/baselines/`` and ``proxgrad.py``, and 19 changes with a visible effect
passed every test (one permutation for every epoch, the seed not reaching the minibatches,
Adam's eps inside the square root, a gradient mapping blind to the biases, the caller's
steps overwritten, ...). Each test below fails on at least one of them."""
import inspect
import math

import numpy as np
import pytest
from test_baselines import _virtual_time, small_problem

from liftnet.solvers.baselines import BASELINES, _common, adam, loss_gradient, prox_gradient, sgd
from liftnet.solvers.baselines import _torch as tp
from liftnet.solvers.proxgrad import prox_gradient_bb


def _batches(monkeypatch, prob, **kw):
    """The sample indices of every minibatch of a run (the warm-up's dropped)."""
    real, seen = tp.forward_output, []
    X = prob.X
    def spy(W, b, V0, alpha):
        cols = V0.T.numpy()
        seen.append([int(np.flatnonzero((X == c).all(axis=1))[0]) for c in cols])
        return real(W, b, V0, alpha)
    monkeypatch.setattr(tp, "forward_output", spy)
    sgd(prob, **kw)
    monkeypatch.setattr(tp, "forward_output", real)
    return seen[1:]


def test_minibatches_are_a_fresh_seeded_permutation_each_epoch(monkeypatch):
    """Each epoch's batches cover every sample once (the last batch partial), the order
    changes between epochs, and the seed (not only the start point) decides it."""
    prob = small_problem()  # N 120
    W0, _ = prob.initial_weights(0)
    kw = {"batch_size": 50, "max_epochs": 2, "init": {"W": W0}}
    b1 = _batches(monkeypatch, prob, seed=1, **kw)
    assert [len(b) for b in b1] == [50, 50, 20] * 2
    e1, e2 = sum(b1[:3], []), sum(b1[3:], [])
    assert sorted(e1) == sorted(e2) == list(range(prob.N))
    assert e1 != e2  # reshuffled each epoch
    assert sum(_batches(monkeypatch, prob, seed=2, **kw)[:3], []) != e1  # seeded


def test_fractional_eval_every_rounds_to_steps_and_labels_epochs_by_fraction():
    """3 steps per epoch, eval_every 0.5: a checkpoint every round(1.5) = 2 steps, labelled
    with fractional epochs."""
    res = sgd(small_problem(), batch_size=40, max_epochs=2, seed=0, eval_every=0.5)
    assert [r["step"] for r in res.history] == [0, 2, 4, 6]
    assert [r["epoch"] for r in res.history] == pytest.approx([0, 2 / 3, 4 / 3, 2])


def test_batch_size_above_N_is_clipped():
    prob = small_problem()
    res = sgd(prob, batch_size=10 * prob.N, max_epochs=2, seed=0)
    assert res.batch_size == prob.N and res.n_steps == 2 and res.nit == 2


def test_two_full_batch_heavy_ball_steps_by_hand():
    """torch.optim.SGD heavy ball (no Nesterov): W2 = W1 - lr (g1 + m g0)."""
    prob = small_problem(lam=0.0)
    W0, _ = prob.initial_weights(0)
    lr, m = 0.01, 0.5
    _, g0, _ = loss_gradient(prob, W0)
    W1 = [W - lr * g for W, g in zip(W0, g0)]
    _, g1, _ = loss_gradient(prob, W1)
    W2 = [W - lr * (a + m * c) for W, a, c in zip(W1, g1, g0)]
    res = sgd(prob, lr=lr, momentum=m, batch_size=prob.N, max_epochs=2, seed=0)
    assert res.n_steps == 2 and res.Phi == prob.Phi(W2)  # (the last point is the best here)
    for got, want in zip(res.W, W2):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_momentum_one_is_refused():
    with pytest.raises(ValueError, match="momentum"):
        sgd(small_problem(), momentum=1.0, max_epochs=1)


def test_documented_defaults():
    for name, (lr, bs, opt, val) in {"sgd": (0.05, 64, "momentum", 0.0),
                                     "adam": (1e-3, 64, "betas", (0.9, 0.999))}.items():
        p = inspect.signature(BASELINES[name]).parameters
        assert (p["lr"].default, p["batch_size"].default, p[opt].default) == (lr, bs, val)


def test_prox_adam_step_with_gradients_near_eps():
    """As test_one_full_batch_prox_adam_step_by_hand, at gradients ~1e-5 where
    ``sqrt(v^) + eps`` and ``sqrt(v^ + eps)`` differ: d = |g| + eps exactly."""
    prob = small_problem(lam=1e-6)
    prob = type(prob)(prob.X, prob.Y * 1e-4, hidden=(8,), lam=1e-6, alpha=0.2)
    W0 = [1e-2 * w for w in prob.initial_weights(0)[0]]
    lr, eps = 1e-4, 1e-8
    _, gW, _ = loss_gradient(prob, W0)
    res = BASELINES["prox_adam"](prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0,
                                 init={"W": W0})
    for got, W, g in zip(res.W, W0, gW):
        d = np.abs(g) + eps
        V = W - lr * g / d
        tg = lr / d.mean(axis=0)
        want = V * np.maximum(0.0, 1.0 - tg * prob.lam / np.linalg.norm(V, axis=0))[None, :]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("lr", [1e-3, 1e-20])
def test_prox_gradient_does_not_stop_while_only_the_bias_moves(lr):
    """lam above the zeroing level, W = 0 (stationary in W), the output bias off its optimum:
    only b moves (lr 1e-3) or nothing does (lr 1e-20, t grows); convergence must wait for
    the bias: b_L = mean of Y, Phi = (1/N)||Y - mean||^2."""
    prob = small_problem(lam=1e3, bias=True)
    W0 = [np.zeros(s) for s in prob.W_shapes]
    b0 = [np.full(s, 0.5) for s in prob.b_shapes]
    res = prox_gradient(prob, lr=lr, max_epochs=200, init={"W": W0, "b": b0}, tol=1e-6)
    assert res.status == "converged"
    np.testing.assert_allclose(res.b[-1], prob.Y.mean(axis=0), atol=1e-5)
    assert res.Phi == pytest.approx(np.sum((prob.Y - prob.Y.mean(axis=0)) ** 2) / prob.N)


def test_prox_gradient_line_search_gives_up_below_1e_30():
    prob = small_problem()
    real, calls = prob.loss, []
    def loss(U):  # every trial's loss is inf: all rejected
        calls.append(1)
        return real(U) if len(calls) == 1 else np.inf
    prob.loss = loss
    res = prox_gradient(prob, lr=1.0, max_epochs=5, seed=0)
    assert res.status == "failed" and res.n_backtracks == 100  # 2^-100 < 1e-30 <= 2^-99


def test_grow_below_one_is_refused():
    with pytest.raises(ValueError, match="grow"):
        prox_gradient(small_problem(), grow=0.5, max_epochs=1)


def _well():
    return (lambda x: (float(-0.5 * x @ x + 0.25 * np.sum(x ** 4)), None),
            lambda x, c: -x + x ** 3, lambda y, s: None,
            lambda x, g, c: float(np.abs(g).max()))


def test_inputs_are_not_modified_and_an_unmoved_block_keeps_its_step():
    value, grad, prox, res = _well()
    x0, steps0 = np.array([0.1, -1.0]), np.array([1e-3, 0.7])  # block 1 at a minimum
    x, info = prox_gradient_bb(value, grad, prox, res, x0, [slice(0, 1), slice(1, 2)],
                               tol=1e-300, max_iter=3, steps0=steps0)
    assert list(x0) == [0.1, -1.0] and list(steps0) == [1e-3, 0.7]
    assert x[1] == -1.0 and info.steps[1] == 0.7  # never moved: no BB pair, step kept


def test_negative_curvature_quadruples_the_step():
    value, grad, prox, res = _well()
    x0 = np.array([0.1])
    x1 = x0 - 1e-3 * grad(x0, None)
    x2 = x1 - 4e-3 * grad(x1, None)
    x, info = prox_gradient_bb(value, grad, prox, res, x0, [slice(0, 1)], tol=1e-300,
                               max_iter=2, steps0=np.array([1e-3]))
    assert info.n_backtracks == 0
    np.testing.assert_allclose(x, x2, rtol=1e-14)


def test_a_block_with_zero_gradient_starts_at_step_one_and_memory_defaults_to_5():
    value, grad, prox, res = _well()
    x, info = prox_gradient_bb(value, grad, prox, res, np.array([0.1, 0.0]),
                               [slice(0, 1), slice(1, 2)], tol=1e-300, max_iter=0)
    np.testing.assert_allclose(info.steps, [1e-2 / abs(grad(np.array([0.1]), None)[0]), 1.0])
    assert inspect.signature(prox_gradient_bb).parameters["memory"].default == 5


# ---- a second mutation review (session 49)
STOCHASTIC = ("sgd", "adam", "prox_sgd", "prox_adam")


def test_nit_counts_completed_epochs_when_stopped_mid_epoch():
    """3 steps per epoch, a checkpoint every step, stopped by the callback at step 4: one
    epoch completed (nit 1), not the started one counted (ceil -> 2)."""
    res = sgd(small_problem(), batch_size=40, max_epochs=3, seed=0, eval_every=1 / 3,
              callback=lambda rec: rec["step"] >= 4)
    assert res.status == "interrupted" and res.n_steps == 4 and res.nit == 1


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.99, 0.5)])
def test_adam_uses_the_betas_given(betas):
    prob = small_problem(lam=0.0)
    W0, _ = prob.initial_weights(0)
    lr, eps = 1e-3, 1e-8
    b1, b2 = betas
    _, g0, _ = loss_gradient(prob, W0)
    m = [(1 - b1) * g for g in g0]
    v = [(1 - b2) * g * g for g in g0]
    W1 = [W - lr * (mk / (1 - b1)) / (np.sqrt(vk / (1 - b2)) + eps)
          for W, mk, vk in zip(W0, m, v)]
    _, g1, _ = loss_gradient(prob, W1)
    m = [b1 * mk + (1 - b1) * g for mk, g in zip(m, g1)]
    v = [b2 * vk + (1 - b2) * g * g for vk, g in zip(v, g1)]
    W2 = [W - lr * (mk / (1 - b1**2)) / (np.sqrt(vk / (1 - b2**2)) + eps)
          for W, mk, vk in zip(W1, m, v)]
    res = adam(prob, lr=lr, betas=betas, batch_size=prob.N, max_epochs=2, seed=0)
    assert res.n_steps == 2 and res.Phi == prob.Phi(res.W)
    assert res.Phi == min(r["Phi"] for r in res.history) == res.history[-1]["Phi"]
    for got, want in zip(res.W, W2, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-13)


def test_n_small_groups_counts_a_group_of_norm_exactly_SMALL_GROUP():
    """``n_small_groups`` is ``||W[g]|| <= 1e-6`` (the docstring's ``<=``): a group of norm
    exactly 1e-6 counts."""
    prob = small_problem()
    W = [np.ones(s) for s in prob.W_shapes]
    W[0][:, 0] = 0.0
    W[0][0, 0] = _common.SMALL_GROUP
    counts = _common.group_counts(prob, W)
    assert counts["n_zero_groups"] == 0 and counts["n_small_groups"] == 1


def test_one_full_batch_prox_adam_step_by_hand_element_groups():
    """Element groups: each entry is its own group, ``t_i = lr / d_i`` (not the layer's mean
    of ``d``), then soft-thresholding by ``t_i lam``."""
    prob = small_problem(lam=0.05, groups="element")
    W0, _ = prob.initial_weights(0)
    lr, eps = 1e-3, 1e-8
    _, gW, _ = loss_gradient(prob, W0)
    res = BASELINES["prox_adam"](prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0)
    assert res.n_steps == 1
    for got, W, g in zip(res.W, W0, gW, strict=True):
        d = np.abs(g) + eps
        V = W - lr * g / d
        tg = lr / d
        want = np.sign(V) * np.maximum(0.0, np.abs(V) - tg * prob.lam)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_sgd_steps_replayed_by_hand_with_a_partial_last_batch(monkeypatch):
    """N 120, batch 50: batches 50, 50, 20; each step is ``W - lr (grad of the batch's mean
    loss + lam W[g]/||W[g]||)``, the partial batch's loss its own mean (not scaled by
    ``|batch| / B``)."""
    prob = small_problem(lam=1e-2)
    real, seen = tp.forward_output, []

    def spy(W, b, V0, alpha):
        seen.append([int(np.flatnonzero((prob.X == c).all(axis=1))[0]) for c in V0.T.numpy()])
        return real(W, b, V0, alpha)

    monkeypatch.setattr(tp, "forward_output", spy)
    lr = 0.05
    res = sgd(prob, lr=lr, batch_size=50, max_epochs=1, seed=0)
    monkeypatch.setattr(tp, "forward_output", real)
    batches = seen[1:]
    assert [len(b) for b in batches] == [50, 50, 20]
    W, _ = prob.initial_weights(0)
    for idx in batches:
        sub = type(prob)(prob.X[idx], prob.Y[idx], hidden=(8,), lam=prob.lam, bias=False,
                         groups="column", alpha=prob.alpha)
        _, gW, _ = loss_gradient(sub, W)
        W = [Wl - lr * (g + prob.lam * Wl / np.linalg.norm(Wl, axis=0)[None, :])
             for Wl, g in zip(W, gW, strict=True)]
    # the last step's point is the best checkpoint here (Phi decreases)
    assert res.Phi < res.history[0]["Phi"]
    for got, want in zip(res.W, W, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_sgd_penalty_gradient_at_a_zero_group_is_zero():
    """A zero column at the start under the plain subgradient term: the minimum-norm
    subgradient there is 0, so one full-batch step moves the column by ``-lr g`` only (a
    norm written ``sqrt(sum W^2)`` gives a NaN gradient there and the run diverges)."""
    prob = small_problem(lam=0.01)
    W0, _ = prob.initial_weights(0)
    W0[0][:, 0] = 0.0
    lr = 0.05
    _, gW, _ = loss_gradient(prob, W0)
    res = sgd(prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0, init={"W": W0})
    assert res.status == "max_iter" and np.isfinite(res.Phi)
    np.testing.assert_allclose(res.W[0][:, 0], -lr * gW[0][:, 0], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_stochastic_clock_leaves_out_the_callback(monkeypatch, name):
    """A callback taking 10 (virtual) seconds per checkpoint is off the trainer's clock and
    in ``time_excluded``."""
    advance = _virtual_time(monkeypatch)
    res = BASELINES[name](small_problem(), batch_size=40, max_epochs=3, seed=0,
                          callback=lambda rec: advance(10.0))
    assert len(res.history) == 4
    assert res.time < 1.0 and res.time_excluded >= 10.0 * len(res.history)


def test_prox_gradient_grows_the_step_after_a_backtracking_iteration():
    """From lr 100 the first iteration backtracks; the second starts from ``grow * t1`` and
    backtracks down to ``t2``: ``log2(grow t1 / t2)`` halvings (eta 0.5). Catches the growth
    skipped once any backtracking happened."""
    prob = small_problem()
    r1 = prox_gradient(prob, lr=100.0, max_epochs=1, tol=1e-14)
    r2 = prox_gradient(prob, lr=100.0, max_epochs=2, tol=1e-14)
    t1, t2 = r2.history[1]["step_size"], r2.history[2]["step_size"]
    assert r1.n_backtracks > 0 and t1 == r1.history[1]["step_size"]
    assert r2.n_backtracks - r1.n_backtracks == round(math.log2(2.0 * t1 / t2))
    assert r2.n_backtracks - r1.n_backtracks >= 1


def test_prox_gradient_backtracks_by_the_eta_given():
    """From lr 100 with eta 0.1 the accepted step is ``100 * 0.1**n_backtracks``: catches
    eta ignored (a hard-coded halving)."""
    res = prox_gradient(small_problem(), lr=100.0, eta=0.1, max_epochs=1, tol=1e-14)
    assert res.n_backtracks >= 1
    assert res.history[1]["step_size"] == pytest.approx(100.0 * 0.1 ** res.n_backtracks,
                                                        rel=1e-12)


@pytest.mark.parametrize("bias", [False, True])
def test_prox_gradient_grad_map_is_the_infinity_norm_of_the_step_over_t(bias):
    """The first record's ``grad_map`` is ``max |W1 - W0| / t`` over W and b (the infinity
    norm, as documented), not the 2-norm of the step."""
    prob = small_problem(lam=0.05, bias=bias)
    W0, b0 = prob.initial_weights(0)
    res = prox_gradient(prob, lr=1.0, max_epochs=1, tol=1e-14, init={"W": W0, "b": b0})
    t = res.history[1]["step_size"]
    d = [a - c for a, c in zip(res.W, W0, strict=True)]
    if bias:
        d += [a - c for a, c in zip(res.b, b0, strict=True)]
    want = max(float(np.max(np.abs(x))) for x in d) / t
    assert res.history[1]["grad_map"] == pytest.approx(want, rel=1e-12)

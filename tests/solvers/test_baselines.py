"""Baselines on (P): torch ports equal the numpy originals, gradients, descent, zeros, stops."""

import time
import warnings

import numpy as np
import pytest
import torch
from _helpers import interrupt_call
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem
from liftnet.formulation.penalties import GroupLasso
from liftnet.solvers.baselines import (
    BASELINES,
    _common,
    adam,
    fullbatch,
    loss_gradient,
    prox_gradient,
    prox_sgd,
    sgd,
    stochastic,
)
from liftnet.solvers.baselines import _torch as tp

STOCHASTIC = ("sgd", "adam", "prox_sgd", "prox_adam")


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def small_problem(lam=1e-3, dtype=np.float64, bias=False, hidden=(8,), N=120, groups="column"):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 6))
    Wt = rng.standard_normal((3, 6))
    Wt[:, 3:] = 0.0  # three irrelevant inputs
    Y = np.maximum(X @ Wt.T, 0.2 * X @ Wt.T) @ rng.standard_normal((3, 2))
    return LiftedProblem(
        X, Y, hidden=hidden, lam=lam, bias=bias, dtype=dtype, groups=groups, alpha=0.2
    )


# ------------------------------------------------------------ torch ports = numpy originals
@settings(max_examples=60, deadline=None)
@given(
    groups=st.sampled_from(["column", "row", "element"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    t=st.floats(0.0, 3.0),
    seed=st.integers(0, 10_000),
)
def test_torch_group_prox_equals_GroupLasso_prox(groups, dtype, t, seed):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((5, 7)) * rng.uniform(0.1, 2, size=(1, 7))).astype(dtype)
    W[:, 0] = 0.0  # a zero group (and zero rows/elements) must stay zero, without NaN
    want = GroupLasso(lam=1.0, groups=groups).prox(W, t)
    got = tp.group_prox_(torch.from_numpy(W.copy()), t, groups).numpy()
    assert got.dtype == W.dtype
    np.testing.assert_allclose(
        got,
        want,
        rtol=1e-5 if dtype == np.float32 else 1e-12,
        atol=1e-6 if dtype == np.float32 else 1e-14,
    )
    np.testing.assert_array_equal(got == 0, want == 0)  # same exact zeros


@pytest.mark.parametrize("groups", ["column", "row"])
def test_torch_group_prox_with_one_threshold_per_group(groups):
    rng = np.random.default_rng(7)
    W = rng.standard_normal((4, 6))
    axis = 0 if groups == "column" else 1
    pen = GroupLasso(lam=1.0, groups=groups)
    norms = pen.group_norms(W)
    t = norms * np.resize([0.5, 1.5], norms.shape)  # half the groups shrink, half vanish
    got = tp.group_prox_(torch.from_numpy(W.copy()), torch.from_numpy(t), groups).numpy()
    for g, tg in enumerate(t):
        sl = (slice(None), slice(g, g + 1)) if axis == 0 else (slice(g, g + 1), slice(None))
        np.testing.assert_allclose(got[sl], pen.prox(W[sl], tg), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(pen.group_norms(got) == 0, t > norms)


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_torch_forward_loss_and_penalty_equal_problem(groups):
    prob = small_problem(lam=0.05, bias=True, hidden=(8, 5), groups=groups)
    W, _ = prob.initial_weights(3)
    b = [np.random.default_rng(1).standard_normal(s) for s in prob.b_shapes]
    U, _ = prob.forward(W, b)
    Wt, bt = [torch.from_numpy(w) for w in W], [torch.from_numpy(x) for x in b]
    out = tp.forward_output(Wt, bt, torch.from_numpy(prob.V0), prob.alpha)
    np.testing.assert_allclose(out.numpy(), U[-1], rtol=1e-12, atol=1e-12)
    assert float(tp.loss(out, torch.from_numpy(prob.YT))) == pytest.approx(
        prob.loss(U[-1]), rel=1e-12
    )
    val = float(tp.penalty_value(Wt, prob.lam, groups))
    assert val == pytest.approx(prob.regulariser(W), rel=1e-12)


# ------------------------------------------------- full-batch gradient vs finite differences
@pytest.mark.parametrize("bias", [False, True])
def test_loss_gradient_matches_finite_differences(bias):
    prob = small_problem(bias=bias, hidden=(7, 5))
    rng = np.random.default_rng(5)
    W, _ = prob.initial_weights(2)
    b = [0.1 * rng.standard_normal(s) for s in prob.b_shapes] if bias else None
    ell, gW, gb = loss_gradient(prob, W, b)
    U, _ = prob.forward(W, b)
    assert ell == prob.loss(U[-1])
    h = 1e-6
    blocks = [(W, gW)] + ([(b, gb)] if bias else [])
    for arrs, grads in blocks:
        for A, G in zip(arrs, grads, strict=True):
            assert G.shape == A.shape
            for idx in map(tuple, rng.integers(0, A.shape, size=(6, A.ndim))):
                old = A[idx]
                A[idx] = old + h
                fp = loss_gradient(prob, W, b)[0]
                A[idx] = old - h
                fm = loss_gradient(prob, W, b)[0]
                A[idx] = old
                assert G[idx] == pytest.approx((fp - fm) / (2 * h), rel=1e-5, abs=1e-8)


# ------------------------------------------------------------------ descent and exact zeros
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(BASELINES))
def test_each_baseline_decreases_Phi(name, dtype):
    prob = small_problem(dtype=dtype, bias=True)
    W0, b0 = prob.initial_weights(0)
    Phi0 = prob.Phi(W0, b0)
    kw = {"max_epochs": 30 if name in STOCHASTIC else 200, "seed": 0}
    if name in STOCHASTIC:
        kw["batch_size"] = 16
    res = BASELINES[name](prob, **kw)
    assert res.status in ("max_iter", "converged")
    assert res.W[0].dtype == dtype
    assert res.Phi == prob.Phi(res.W, res.b)  # liftnet's single Phi
    assert res.Phi < 0.7 * Phi0
    assert res.history[0]["Phi"] == pytest.approx(Phi0, rel=1e-5)
    times = [r["time"] for r in res.history]
    assert times == sorted(times) and res.time >= times[-1] - 1e-9
    for V, Vl in zip(res.V, prob.lift(res.W, res.b), strict=True):
        np.testing.assert_array_equal(V, Vl)
    assert res.M1 is None and res.kkt is None


def test_prox_gradient_is_monotone_and_converges():
    prob = small_problem(lam=0.01)
    res = prox_gradient(prob, max_epochs=20000, tol=1e-5, seed=1)
    Phis = np.array([r["Phi"] for r in res.history])
    assert np.all(np.diff(Phis) <= 1e-12 * abs(Phis[0]))
    assert res.status == "converged" and res.history[-1]["grad_map"] <= 1e-5


@pytest.mark.parametrize("grow", [1e200, 1e308])
def test_prox_gradient_with_a_huge_growth_stays_finite_and_monotone(grow):
    """``grow`` 1e200 made the step ``t`` inf after two growths (and the prox refused it, a
    ``ValueError`` about a ``step`` the caller never gave); kept finite, the huge steps that
    follow zeroed the output layer (its groups below ``lam t``) while the other layers' weights
    reached 1e154: the loss stayed finite, the model's ``||dW||^2`` overflowed, ``inf <= inf``
    accepted the step and ``Phi`` became inf. Now every accepted step has a finite model."""
    from liftnet.datasets import make_teacher
    X, Y = make_teacher(20, (2, 3, 3, 1), seed=0)[:2]
    prob = LiftedProblem(X, Y, hidden=(3, 3))
    with np.errstate(all="ignore"):  # the rejected trials overflow, as at lr 1e200 below
        res = prox_gradient(prob, grow=grow, max_epochs=30, seed=0)
    Phis = np.array([r["Phi"] for r in res.history])
    assert res.status != "failed" and np.all(np.isfinite(Phis)) and np.isfinite(res.Phi)
    assert np.all(np.diff(Phis) <= 1e-12 * abs(Phis[0])) and Phis[-1] < Phis[0]


@pytest.mark.parametrize("name", ["prox_sgd", "prox_adam", "prox_gradient"])
def test_prox_variants_produce_exact_group_zeros(name):
    prob = small_problem(lam=0.05)
    kw = {"max_epochs": 200, "batch_size": 16} if name != "prox_gradient" else {"max_epochs": 400}
    if name == "prox_adam":
        kw["lr"] = 0.01
    res = BASELINES[name](prob, seed=0, **kw)
    norms = [prob.penalty.group_norms(Wl) for Wl in res.W]
    assert res.n_zero_groups == sum(int(np.sum(n == 0.0)) for n in norms) > 0
    if name == "prox_gradient":  # deterministic: the three irrelevant inputs are removed
        assert np.all(norms[0][3:] == 0.0) and np.all(norms[0][:3] > 0)
    assert res.sparsity == res.n_zero_groups / res.n_groups


def test_subgradient_sgd_shrinks_but_leaves_no_exact_zeros():
    prob = small_problem(lam=0.05)
    res = sgd(prob, seed=0, max_epochs=200, batch_size=16)
    norms = prob.penalty.group_norms(res.W[0])
    assert res.n_zero_groups == 0
    assert np.max(norms[3:]) < 0.01 * np.min(norms[:3])  # shrunk, not removed


# ------------------------------------------------------------------ stops and reproducibility
def test_same_seed_same_iterates_and_different_seed_differs():
    prob = small_problem()
    r1, r2 = (prox_sgd(prob, seed=4, max_epochs=5, batch_size=16) for _ in range(2))
    r3 = prox_sgd(prob, seed=5, max_epochs=5, batch_size=16)
    for a, c in zip(r1.W, r2.W, strict=True):
        np.testing.assert_array_equal(a, c)
    assert r1.Phi != r3.Phi


def _compiled_code_interrupt():
    """Ctrl-C landing in a numba call: a SystemError caused by the KeyboardInterrupt
    (liftnet/solvers/_interrupt.py)."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("returned a result with an exception set") from exc


@pytest.mark.parametrize("where", ["python", "compiled"])
@pytest.mark.parametrize("name", ["adam", "prox_gradient"])
def test_keyboard_interrupt_returns_best_iterate(name, where):
    prob = small_problem()
    calls = []
    # adam at lr 0.7: the history goes up after its 4th checkpoint; Ctrl-C at the 6th
    stop_at, kw = (6, {"lr": 0.7}) if name == "adam" else (4, {})

    def cb(rec):
        calls.append(rec["Phi"])
        if len(calls) == stop_at:
            if where == "compiled":
                _compiled_code_interrupt()
            raise KeyboardInterrupt

    res = BASELINES[name](prob, seed=0, max_epochs=1000, callback=cb, **kw)
    assert res.status == "interrupted"
    phis = [r["Phi"] for r in res.history]
    if name == "adam":  # the case the test is for: the last checkpoint is not the best
        assert len(phis) == stop_at and phis[-1] > min(phis)
    else:  # prox_gradient's iterates decrease: its last is its best
        assert all(b <= a for a, b in zip(phis, phis[1:]))
    assert res.Phi == pytest.approx(min(phis), rel=1e-12)
    assert res.Phi == prob.Phi(res.W, res.b)  # the weights returned are that checkpoint's
    assert res.Phi < phis[0]


def _interrupted_once(real, kind):
    """``real``, except that Ctrl-C lands in its first call (``kind``: ``"python"``, the
    KeyboardInterrupt itself, or ``"compiled"``, the SystemError of a numba call)."""
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            if kind == "compiled":
                _compiled_code_interrupt()
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return wrapped


def _run(name, prob, **kw):
    """``BASELINES[name](prob, **kw)``; a KeyboardInterrupt that escapes fails the test
    (instead of ending the pytest session)."""
    try:
        return BASELINES[name](prob, **kw)
    except KeyboardInterrupt:
        pytest.fail(f"KeyboardInterrupt escaped {name}")


def _before_first_step(where, name, prob):
    """``(object, attribute)`` where Ctrl-C lands before the first step: the set-up
    (``parse_init``), the untimed warm-up (the full-batch backward pass; the stochastic
    trainers' optimiser), the first timed pass (the start point's value: ``prob.loss`` in
    prox_gradient, the first checkpoint's ``prob.Phi`` in the stochastic trainers)."""
    full = name == "prox_gradient"
    mod = fullbatch if full else stochastic
    return {
        "set-up": (mod, "parse_init"),
        "warm-up": (mod, "_backward" if full else "_make_optimiser"),
        "first pass": (prob, "loss" if full else "Phi"),
    }[where]


@pytest.mark.parametrize("kind", ["python", "compiled"])
@pytest.mark.parametrize("where", ["set-up", "warm-up", "first pass"])
@pytest.mark.parametrize("name", ["sgd", "prox_adam", "prox_gradient"])
def test_keyboard_interrupt_before_the_first_step_returns_the_start(monkeypatch, name, where,
                                                                   kind):
    prob = small_problem(bias=True)
    target, attr = _before_first_step(where, name, prob)
    monkeypatch.setattr(target, attr, _interrupted_once(getattr(target, attr), kind))
    res = _run(name, prob, seed=0, max_epochs=5)
    assert res.status == "interrupted" and res.nit == 0
    W0, b0 = prob.initial_weights(0)
    for got, want in zip([*res.W, *res.b], [*W0, *b0], strict=True):
        np.testing.assert_array_equal(got, want)
    assert res.Phi == prob.Phi(W0, b0)
    if where != "first pass":  # the trainer's clock had not started
        assert res.time == 0.0 and res.history == []
    else:
        assert 0.0 <= res.time < 1.0


def test_prox_gradient_ctrl_c_in_a_gradient_returns_a_recorded_iterate(monkeypatch):
    """A Ctrl-C in the backward pass at an accepted iterate (its 5th call: the warm-up, the
    start, iterates 1 and 2, then iterate 3) returns that iterate with its record, counted in
    ``nit``: the run cut after 3 iterations (it returned iterate 3 unrecorded, ``nit`` 2)."""
    prob = small_problem()
    monkeypatch.setattr(fullbatch, "_backward", interrupt_call(fullbatch._backward, 5))
    res = _run("prox_gradient", prob, seed=0)
    monkeypatch.undo()
    ref = prox_gradient(prob, seed=0, max_epochs=3)
    assert res.status == "interrupted" and res.nit == ref.nit == 3
    assert [r["epoch"] for r in res.history] == [0, 1, 2, 3]
    assert [r["Phi"] for r in res.history] == [r["Phi"] for r in ref.history]
    assert res.Phi == res.history[-1]["Phi"] == ref.Phi
    for got, want in zip(res.W, ref.W, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["sgd", "prox_gradient"])
def test_keyboard_interrupt_while_the_result_is_assembled(monkeypatch, name):
    prob = small_problem()
    monkeypatch.setattr(
        _common, "group_counts", _interrupted_once(_common.group_counts, "python")
    )
    res = _run(name, prob, seed=0, max_epochs=3)
    assert res.status == "interrupted"
    assert res.Phi == prob.Phi(res.W, res.b) < res.history[0]["Phi"]  # the run's point


def test_prox_gradient_time_limit_cuts_a_long_line_search(monkeypatch):
    """The time limit is checked inside the backtracking loop: a first line search whose
    trials are all rejected (and slow) stops at the limit with the start point, instead of
    halving t 100 times (2 s here) to the "failed" line search."""
    prob = small_problem()
    real_loss, calls = prob.loss, []

    def slow_rejecting_loss(UL):
        calls.append(1)
        if len(calls) == 1:  # the start point's value
            return real_loss(UL)
        time.sleep(0.02)
        return real_loss(UL) + 1e6  # fails the sufficient-decrease test

    monkeypatch.setattr(prob, "loss", slow_rejecting_loss)
    res = prox_gradient(prob, seed=0, time_limit=0.1, max_epochs=10)
    assert res.status == "time_limit" and res.nit == 0 and res.n_backtracks >= 1
    assert 0.1 <= res.time < 0.5  # the limit plus about one trial
    for got, want in zip(res.W, prob.initial_weights(0)[0], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(BASELINES))
def test_time_limit_is_honoured(name):
    prob = small_problem(N=400)
    res = BASELINES[name](
        prob,
        seed=0,
        time_limit=0.2,
        max_epochs=10**6,
        **({"tol": 1e-14} if name == "prox_gradient" else {}),
    )
    assert res.status == "time_limit"
    assert 0.2 <= res.time < 1.5


def test_warm_start_from_result():
    prob = small_problem()
    r1 = prox_gradient(prob, seed=0, max_epochs=50)
    r2 = prox_sgd(prob, init=r1, max_epochs=1, lr=1e-6)
    assert r2.history[0]["Phi"] == pytest.approx(r1.Phi, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0.0}, "lr"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"time_limit": -1.0}, "time_limit"),
        ({"eval_every": 0}, "eval_every"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_arguments_are_validated_with_their_names(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sgd(small_problem(), **kwargs)


def test_prox_gradient_never_steps_to_an_infinite_loss():
    """At ``lr`` 1e200 the first trial overflowed and its model too: ``inf <= inf`` took the
    step, from ``Phi`` 2.57 to inf. The line search now backtracks to a finite, lower value."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((12, 3)), rng.standard_normal((12, 1)), hidden=(2,))
    with np.errstate(all="ignore"):
        r = prox_gradient(prob, lr=1e200, max_epochs=5)
    phis = [h["Phi"] for h in r.history]
    assert np.all(np.isfinite(phis)) and all(b <= a for a, b in zip(phis, phis[1:]))
    assert r.status in ("max_iter", "converged") and np.isfinite(r.Phi)
    # the overflowing trials are rejected quietly, and the same under a caller's
    # np.errstate(all="raise") (numpy's FloatingPointError was taken for the line search's
    # own failure: status failed, "step below 1e-30", at a step of 1e200; a review)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = prox_gradient(prob, lr=1e200, max_epochs=5)
        with np.errstate(all="raise"):
            strict = prox_gradient(prob, lr=1e200, max_epochs=5)
    for other in (quiet, strict):
        assert (other.status, other.nit, other.Phi) == (r.status, r.nit, r.Phi)


# ------------------------------------------------------------ audit fixes (D1-D5)
@pytest.mark.parametrize("name", ["sgd", "prox_sgd"])
def test_divergence_seen_only_at_the_final_checkpoint_is_reported(name):
    """eval_every beyond max_epochs: the only checkpoint after the start is the last step's
    point, evaluated after the loop; its NaN Phi gave status max_iter."""
    prob = small_problem()
    with np.errstate(all="ignore"):
        res = BASELINES[name](prob, lr=1e3, max_epochs=3, batch_size=10, eval_every=5.0)
    assert [r["step"] for r in res.history] == [0, res.n_steps] and res.n_steps == 36
    assert not np.isfinite(res.history[-1]["Phi"])
    assert res.status == "diverged"
    assert res.Phi == res.history[0]["Phi"]  # the best finite checkpoint: the start


@pytest.mark.parametrize("name", ["sgd", "prox_sgd"])
def test_time_limit_after_the_weights_overflowed_is_reported_as_divergence(name):
    """The time limit hits between checkpoints after the first step overflowed: the final
    evaluation sees Phi NaN or inf, which is divergence, not time_limit."""
    prob = small_problem()
    with np.errstate(all="ignore"):
        res = BASELINES[name](prob, lr=1e300, max_epochs=10, batch_size=10, eval_every=5.0,
                              time_limit=1e-12)
    assert res.n_steps == 1 and not np.isfinite(res.history[-1]["Phi"])
    assert res.status == "diverged"


@pytest.mark.parametrize(
    ("target", "k", "torn"),
    [
        # group_prox_ runs once per layer (2 layers), the warm-up's 2 calls first: call
        # 2 + 2*4 + 1 is step 5's first layer (after opt.step(), before any prox), call
        # 2 + 2*4 + 2 its second layer (the first layer went through the prox, not this one)
        ("group_prox_", 11, True),
        ("group_prox_", 12, True),
        # the forward pass of step 5 (the warm-up's is call 1): the weights are intact
        ("forward_output", 6, False),
    ],
)
def test_keyboard_interrupt_inside_a_step_returns_a_complete_iterate(monkeypatch, target, k,
                                                                    torn):
    """A Ctrl-C while a step writes the weights returned a point that skipped the prox, with
    the label of the step before it; now it returns the best checkpoint (a complete proximal
    iterate, with its own step). One in the forward pass still scores the last step's point."""
    prob = small_problem(lam=2.0)
    kw = {"lr": 0.2, "batch_size": prob.N, "seed": 0, "eval_every": 3}  # one step per epoch
    monkeypatch.setattr(tp, target, interrupt_call(getattr(tp, target), k))
    res = _run("prox_sgd", prob, max_epochs=10, **kw)
    monkeypatch.undo()
    assert res.status == "interrupted" and res.n_steps == 4
    steps = [r["step"] for r in res.history]
    assert steps == ([0, 3] if torn else [0, 3, 4])  # no torn point, no false label
    # the same run, stopped (uninterrupted) after the last recorded step: the same records
    # and the same point, a proximal iterate with exact zero groups
    ref = prox_sgd(prob, max_epochs=steps[-1], **kw)
    assert [r["Phi"] for r in res.history] == [r["Phi"] for r in ref.history]
    for got, want in zip(res.W, ref.W, strict=True):
        np.testing.assert_array_equal(got, want)
    assert res.Phi == min(r["Phi"] for r in res.history) == prob.Phi(res.W, res.b)
    assert res.n_zero_groups == ref.n_zero_groups > 0


class _NumpyWith:
    """numpy as a module sees it through its name ``np``, some functions replaced."""

    def __init__(self, **replaced):
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(np, name)


def test_keyboard_interrupt_in_a_checkpoint_returns_the_best_recorded_point(monkeypatch):
    """A checkpoint appended its record to the history before it copied the point as the
    best one: a Ctrl-C in between (here in its finiteness test of ``Phi``) returned the
    previous best checkpoint, worse than the last record (Phi 1.4527 returned, 1.1002 in the
    history; scratch). The returned point is the best recorded one: that checkpoint's, with
    its record."""
    import sys

    prob = small_problem()
    kw = {"lr": 0.05, "batch_size": 64, "seed": 0, "eval_every": 1.0}  # two steps per epoch

    def in_a_checkpoint(*a, **k):  # (frames: this one, interrupt_call's wrapper, its caller)
        return sys._getframe(2).f_code.co_name == "evaluate"

    # the 4th checkpoint's test: the start, epochs 1 and 2, then epoch 3's
    isfinite = interrupt_call(np.isfinite, 4, in_a_checkpoint)
    monkeypatch.setattr(stochastic, "np", _NumpyWith(isfinite=isfinite))
    res = _run("sgd", prob, max_epochs=50, **kw)
    monkeypatch.undo()
    ref = sgd(prob, max_epochs=3, **kw)  # the same run, stopped after epoch 3
    assert res.status == "interrupted" and res.n_steps == ref.n_steps == 6
    assert [r["Phi"] for r in res.history] == [r["Phi"] for r in ref.history]
    assert res.history[-1]["Phi"] < min(r["Phi"] for r in res.history[:-1])  # (the case)
    assert res.Phi == min(r["Phi"] for r in res.history) == prob.Phi(res.W, res.b)
    for got, want in zip(res.W, ref.W, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_callback_stop_at_the_first_checkpoint_stops(name):
    prob = small_problem()
    seen = []
    res = BASELINES[name](prob, seed=0, max_epochs=5, batch_size=8,
                          callback=lambda rec: seen.append(rec["step"]) or True)
    assert seen == [0] and res.n_steps == 0 and res.nit == 0
    assert res.status == "interrupted" and res.message == "stopped by callback"
    for got, want in zip(res.W, prob.initial_weights(0)[0], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(BASELINES))
def test_warm_start_ignores_V_and_M(name):
    """A result on another sample set (V is (n_l, 40), not (n_l, 120)) and a mapping with one
    multiplier only are warm starts: the baselines use W and b only, as documented."""
    sub, prob = small_problem(N=40, bias=True), small_problem(N=120, bias=True)
    r_sub = prox_gradient(sub, seed=0, max_epochs=5)
    assert r_sub.V[0].shape == (8, 40)
    inits = [r_sub, {"W": r_sub.W, "b": r_sub.b, "M1": [np.zeros((8, 7))]}]
    for init in inits:
        kw = {"batch_size": 16} if name in STOCHASTIC else {}
        res = BASELINES[name](prob, init=init, max_epochs=1, lr=1e-6, **kw)
        assert res.history[0]["Phi"] == prob.Phi(r_sub.W, r_sub.b)
    # W and b are still checked, with their names
    with pytest.raises(ValueError, match=r"init\['W'\]"):
        BASELINES[name](prob, init={"W": [w[:, :-1] for w in r_sub.W], "V": r_sub.V})
    with pytest.raises(ValueError, match=r"init\['b'\]"):
        BASELINES[name](prob, init={"W": r_sub.W, "b": [x[:-1] for x in r_sub.b]})
    with pytest.raises(ValueError, match=r"init must contain the weights 'W'"):
        BASELINES[name](prob, init={"V": r_sub.V})


def test_adam_takes_its_betas_as_a_numpy_pair():
    """``betas=np.array([0.9, 0.99])`` was refused as no pair (``hidden`` and ``lams`` take
    arrays); the run equals the tuple's."""
    prob = small_problem()
    kw = {"max_epochs": 2, "seed": 0, "batch_size": 32}
    a = adam(prob, betas=np.array([0.9, 0.99]), **kw)
    t = adam(prob, betas=(0.9, 0.99), **kw)
    for wa, wt in zip(a.W, t.W, strict=True):
        np.testing.assert_array_equal(wa, wt)
    with pytest.raises(ValueError, match="betas must be a pair"):
        adam(prob, betas=np.array([[0.9, 0.99]]), **kw)


@pytest.mark.parametrize("key, hint", [("B", "its key is 'b'"), ("w", "its key is 'W'"),
                                       ("W_1", "load_result")])
@pytest.mark.parametrize("name", list(BASELINES))
def test_a_misspelt_init_key_is_refused_as_solve_alm_refuses_it(name, key, hint):
    """``{'W': W, 'B': b}`` was reduced to ``{'W': W, 'b': None}`` and the baseline started
    from zero biases without a word (solve_alm refused it): the keys are checked first."""
    prob = small_problem(bias=True)
    W, b = prob.initial_weights(0)
    init = {"W": W, key: b} if key != "w" else {"W": W, "b": b, "w": W}
    with pytest.raises(ValueError, match=f"init has the key '{key}'.*{hint}"):
        BASELINES[name](prob, init=init, max_epochs=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(BASELINES))
def test_start_with_an_infinite_Phi_is_refused(name, dtype):
    """A finite lift whose Phi overflows (the squared residuals): refused naming init['W'],
    without numpy warnings, not a 'diverged' or 'failed' run from an infinite start."""
    prob = small_problem(dtype=dtype)
    big = 1e80 if dtype == np.float64 else 1e15
    W = [np.full(s, big, dtype=dtype) for s in prob.W_shapes]
    assert all(np.isfinite(v).all() for v in prob.lift(W, None))  # parse_init lets it through
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"init\['W'\] is too large"):
            BASELINES[name](prob, init={"W": W}, max_epochs=3)
    # with biases the overflow may be theirs (a review: b = 1e200 beside the default W was
    # refused as "init['W'] is too large")
    biased = small_problem(dtype=dtype, bias=True)
    W0, b0 = biased.initial_weights(0)
    b = [np.full_like(x, 1e200 if dtype == np.float64 else 1e30) for x in b0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^init\['W'\] or init\['b'\] is too large.*"
                                             r"scale the weights or biases down"):
            BASELINES[name](biased, init={"W": W0, "b": b}, max_epochs=3)


def test_prox_gradient_does_not_converge_on_a_step_lost_in_rounding():
    """At a tiny ``lr`` (1e-17 on the audit's problem, 1e-20 here) the first step rounds to no
    move at all, whose gradient mapping is 0: it returned ``converged`` at its start. An
    unmoved step leaves the decision to the point's stationarity, and ``t`` grows until the
    steps move."""
    prob = small_problem()
    start = prob.Phi(*prob.initial_weights(0))
    res = prox_gradient(prob, lr=1e-20, max_epochs=100, seed=0)
    assert res.status != "converged"
    assert res.Phi < start
    # at a true stationary point an unmoved step still converges: the zero network of a lam
    # above the data's zeroing one
    big = small_problem(lam=1e3)
    res = prox_gradient(big, lr=1e-20, max_epochs=100,
                        init={"W": [np.zeros(s) for s in big.W_shapes]})
    assert res.status == "converged" and res.nit == 1


# ------------------------------------------------------- mutation audit: exact known values
def _group_unit(W, groups="column"):
    """``W[g] / ||W[g]||`` per group (the penalty's gradient on nonzero groups, lam 1)."""
    norms = GroupLasso(lam=1.0, groups=groups).group_norms(W)
    return W / (norms[None, :] if groups == "column" else norms[:, None])


def test_one_full_batch_sgd_step_is_the_subgradient_step():
    """One full-batch SGD step (batch_size N, one epoch) is ``W0 - lr (gW + lam W0[g] /
    ||W0[g]||)`` with ``gW`` the numpy backprop of the data fit: catches a penalty term scaled
    wrongly (``0.5 lam``) in the minibatch objective."""
    prob = small_problem(lam=0.05)
    W0, _ = prob.initial_weights(0)
    lr = 0.01
    _, gW, _ = loss_gradient(prob, W0)
    res = sgd(prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0)
    assert res.n_steps == 1 and res.Phi < res.history[0]["Phi"]  # the step's point returned
    for got, W, g in zip(res.W, W0, gW, strict=True):
        np.testing.assert_allclose(got, W - lr * (g + prob.lam * _group_unit(W)),
                                   rtol=1e-10, atol=1e-12)


def test_one_full_batch_prox_sgd_step_is_the_prox_of_the_gradient_step():
    """One full-batch proximal SGD step is ``GroupLasso.prox(W0 - lr gW, lr)`` (threshold
    ``lr lam``): catches the penalty's subgradient added to the data fit before the prox too,
    and a prox threshold of ``2 lr lam``."""
    prob = small_problem(lam=0.05)
    W0, _ = prob.initial_weights(0)
    lr = 0.05
    _, gW, _ = loss_gradient(prob, W0)
    res = prox_sgd(prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0)
    assert res.n_steps == 1 and res.Phi < res.history[0]["Phi"]
    for got, W, g in zip(res.W, W0, gW, strict=True):
        np.testing.assert_allclose(got, prob.penalty.prox(W - lr * g, lr),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bias", [False, True])
def test_a_pruned_units_gradient_uses_liftnets_slope_at_the_kink(bias):
    """A unit whose incoming row (and bias) is zero has ``U = 0`` on every sample, the kink of
    ``sigma``: the torch port's gradient there is ``loss_gradient``'s (slope ``alpha``,
    ``LiftedProblem.sigma_slope``). ``torch.maximum(U, alpha U)`` had given ``(1 + alpha)/2``,
    5.5 times the gradient at ``alpha = 0.1``, and a full-batch proximal SGD step brought
    back a row that the numpy step keeps at zero."""
    prob = small_problem(lam=0.05, groups="row", bias=bias)
    W0, b0 = prob.initial_weights(0)
    W0[0][2, :] = 0.0  # unit 2 of the hidden layer pruned
    if bias:
        b0[0][2] = 0.0
    _, gW, gb = loss_gradient(prob, W0, b0)
    Wt = [torch.from_numpy(w.copy()).requires_grad_() for w in W0]
    bt = None if b0 is None else [torch.from_numpy(x.copy()).requires_grad_() for x in b0]
    out = tp.forward_output(Wt, bt, torch.from_numpy(prob.V0), prob.alpha)
    tp.loss(out, torch.from_numpy(prob.YT)).backward()
    for w, g in zip(Wt, gW, strict=True):
        np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-10, atol=1e-14)
    if bias:
        for x, g in zip(bt, gb, strict=True):
            np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-10, atol=1e-14)
    assert np.linalg.norm(gW[0][2]) > 0  # the kink is reached: the row has a gradient
    lr = 0.05
    res = prox_sgd(prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0,
                   init={"W": W0, "b": b0})
    np.testing.assert_allclose(res.W[0], prob.penalty.prox(W0[0] - lr * gW[0], lr),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("groups", ["column", "row"])
def test_one_full_batch_prox_adam_step_by_hand(groups):
    """One full-batch proximal Adam step by hand: Adam's first step with bias correction
    (``m^ = g``, ``v^ = g^2``: ``W0 - lr g / (|g| + eps)``), then per group ``t_g = lr /
    mean_{i in g}(|g_i| + eps)`` and the prox of ``t_g lam ||.||``. Catches ``d`` without the
    bias correction, and ``t_g`` from the group's max or the whole layer's mean of ``d``."""
    prob = small_problem(lam=0.05, groups=groups)
    W0, _ = prob.initial_weights(0)
    lr, eps = 1e-3, 1e-8
    _, gW, _ = loss_gradient(prob, W0)
    res = BASELINES["prox_adam"](prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=0)
    assert res.n_steps == 1 and res.Phi < res.history[0]["Phi"]
    axis = 0 if groups == "column" else 1
    for got, W, g in zip(res.W, W0, gW, strict=True):
        d = np.abs(g) + eps
        V = W - lr * g / d
        tg = lr / d.mean(axis=axis)
        norms = np.linalg.norm(V, axis=axis)
        shrink = np.maximum(0.0, 1.0 - tg * prob.lam / norms)
        want = V * (shrink[None, :] if axis == 0 else shrink[:, None])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_best_checkpoint_is_returned_when_the_history_goes_up():
    """A long-step SGD run whose finite history is not monotone returns its checkpoint of
    smallest ``Phi`` (its weights, ``prob.Phi`` of them), not the last finite one: catches a
    best-checkpoint test that takes every finite checkpoint."""
    prob = small_problem()
    cases = 0
    # long steps make the history go up and down; which runs do so moves with the machine's
    # rounding, so a few steps and seeds are tried and those that do are checked
    for lr in (0.25, 0.5, 1.0):
        for seed in (0, 1):
            with np.errstate(all="ignore"):
                res = sgd(prob, lr=lr, batch_size=30, max_epochs=8, seed=seed)
            phis = np.array([r["Phi"] for r in res.history])
            finite = phis[np.isfinite(phis)]
            if finite[-1] > finite.min():  # the case: the last finite one is not the best
                cases += 1
                assert res.Phi == finite.min() == prob.Phi(res.W, res.b), (lr, seed)
    assert cases >= 1  # (on the machine of 2026-12-06: lr 0.25 already)


def test_nit_counts_epochs_and_records_are_labelled_by_epoch():
    """Three steps per epoch (N 120, batch 40), checkpoints each epoch: ``nit`` is the epochs
    (3), ``n_steps`` the steps (9), the records' ``epoch`` 0..3 at steps 0, 3, 6, 9: catches
    ``nit`` and a record's ``epoch`` counted in steps."""
    prob = small_problem()
    res = sgd(prob, batch_size=40, max_epochs=3, seed=0, eval_every=1.0)
    assert res.nit == 3 and res.n_steps == 9
    assert [r["epoch"] for r in res.history] == [0, 1, 2, 3]
    assert [r["step"] for r in res.history] == [0, 3, 6, 9]


def _virtual_time(monkeypatch):
    """A virtual clock: ``time.monotonic`` (which the trainers' clocks read) runs ahead by the
    seconds given to the returned ``advance(seconds)``; nothing sleeps, so that the bounds hold
    exactly on a loaded machine."""
    real, ahead = time.monotonic, [0.0]

    def advance(seconds):
        ahead[0] += seconds

    monkeypatch.setattr(time, "monotonic", lambda: real() + ahead[0])
    return advance


@pytest.mark.parametrize("name", STOCHASTIC)
def test_stochastic_clock_leaves_out_the_checkpoints_Phi(monkeypatch, name):
    """Each checkpoint's ``prob.Phi`` made 100 (virtual) seconds slow: it is off the trainer's
    clock (``time`` stays below 100 s) and reported in ``time_excluded`` (at least 100 s per
    checkpoint): catches evaluations left on the clock and ``time_excluded`` reported as 0."""
    prob = small_problem()
    advance, real_phi, calls = _virtual_time(monkeypatch), prob.Phi, []

    def slow_phi(*a, **k):
        calls.append(1)
        advance(100.0)
        return real_phi(*a, **k)

    monkeypatch.setattr(prob, "Phi", slow_phi, raising=False)
    res = BASELINES[name](prob, batch_size=40, max_epochs=3, seed=0)
    assert len(res.history) == 4 and len(calls) >= 4
    assert res.time < 50.0
    assert res.time_excluded >= 100.0 * len(res.history)


def test_stochastic_time_limit_stops_within_one_step(monkeypatch):
    """Each step's forward pass made 1 (virtual) second slow, ``time_limit`` 5.5 s: the run
    stops after the step that passed the limit (the 6th), not later: catches a limit tested
    against a larger bound (``2 time_limit``)."""
    advance = _virtual_time(monkeypatch)
    real = tp.forward_output

    def slow_forward(*a, **k):
        advance(1.0)
        return real(*a, **k)

    monkeypatch.setattr(tp, "forward_output", slow_forward)
    prob = small_problem()
    res = sgd(prob, batch_size=10, max_epochs=5, seed=0, time_limit=5.5, eval_every=100.0)
    assert res.status == "time_limit" and res.n_steps == 6
    assert 5.5 < res.time < 6.5


def test_prox_gradient_clock_leaves_out_the_callback(monkeypatch):
    """A callback taking 10 (virtual) seconds per iteration is off ``prox_gradient``'s clock
    (``time`` below 1 s) and in ``time_excluded``: catches the record and callback left on
    the clock."""
    advance = _virtual_time(monkeypatch)
    prob = small_problem()
    res = prox_gradient(prob, seed=0, max_epochs=5, tol=1e-14,
                        callback=lambda rec: advance(10.0))
    assert res.nit == 5
    assert res.time < 1.0 and res.time_excluded >= 10.0 * res.nit


@pytest.mark.parametrize("lr", [1.0, 4.0, 16.0, 64.0])
def test_prox_gradient_accepts_the_first_step_passing_the_full_test_with_bias(lr):
    """With a bias, the accepted first step is the largest ``lr eta^k`` passing the whole
    sufficient-decrease test, recomputed here: ``ell(W+, b+) <= ell + <gW, dW> + <gb, db> +
    (||dW||^2 + ||db||^2)/(2t)`` (plus the rounding allowance): catches the ``<gb, db>`` term
    dropped from the model."""
    from liftnet.solvers.quasi_newton import value_noise

    prob = small_problem(bias=True, lam=0.01)
    W0, _ = prob.initial_weights(0)
    b0 = [0.5 * np.random.default_rng(3).standard_normal(s) for s in prob.b_shapes]
    ell, gW, gb = loss_gradient(prob, W0, b0)
    t, k = lr, 0
    while True:
        Wn = [prob.penalty.prox(W - t * g, t) for W, g in zip(W0, gW, strict=True)]
        bn = [x - t * g for x, g in zip(b0, gb, strict=True)]
        ell_n = prob.loss(prob.forward(Wn, bn)[0][-1])
        dW = [a - c for a, c in zip(Wn, W0, strict=True)]
        db = [a - c for a, c in zip(bn, b0, strict=True)]
        model = (ell + sum(np.vdot(g, d) for g, d in zip([*gW, *gb], [*dW, *db], strict=True))
                 + sum(np.vdot(d, d) for d in [*dW, *db]) / (2 * t))
        if np.isfinite(ell_n) and ell_n <= model + value_noise(ell, 0.0, prob.dtype):
            break
        t, k = t * 0.5, k + 1
    res = prox_gradient(prob, lr=lr, max_epochs=1, init={"W": W0, "b": b0}, eta=0.5)
    assert res.history[1]["step_size"] == t and res.n_backtracks == k


def test_group_counts_tell_exact_zeros_from_small_groups():
    """Column groups of norms 0, 1e-8, 1e-4 and 1 (the rest 1): one exact zero, two at most
    1e-6 (``SMALL_GROUP``), ``sparsity_small`` 2/n: catches exact zeros counted with the small
    threshold, ``sparsity_small`` from the exact zeros, and a larger ``SMALL_GROUP``."""
    prob = small_problem()
    W = [np.zeros(s) for s in prob.W_shapes]
    for Wl in W:
        Wl[0, :] = 1.0
    W[0][0, :3] = (0.0, 1e-8, 1e-4)
    counts = _common.group_counts(prob, W)
    n = 6 + 8
    assert counts == {"n_groups": n, "n_zero_groups": 1, "n_small_groups": 2,
                      "sparsity_small": 2 / n}


@pytest.mark.parametrize("name", STOCHASTIC)
def test_ctrl_c_during_the_warm_up_step_lets_it_finish(monkeypatch, name):
    """The first optimiser of a process imports torch._dynamo and sympy; a Ctrl-C inside that
    import left them half-initialised and every later torch baseline in the process failed
    with an AttributeError (audit of session 43). The warm-up step holds the Ctrl-C back
    until it ends; the run then stops ``interrupted`` at its start, and the next run works."""
    import os
    import signal

    real, cut = stochastic._make_optimiser, []

    def make_with_ctrl_c(*args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # (a handler that raises has raised by now)
        except KeyboardInterrupt:
            cut.append(True)  # the "import" cut halfway
            raise
        return real(*args)

    monkeypatch.setattr(stochastic, "_make_optimiser", make_with_ctrl_c)
    prob = small_problem()
    res = BASELINES[name](prob, max_epochs=2, seed=0, batch_size=32)
    assert res.status == "interrupted" and res.n_steps == 0 and cut == []
    monkeypatch.setattr(stochastic, "_make_optimiser", real)
    assert BASELINES[name](prob, max_epochs=1, seed=0, batch_size=32).status == "max_iter"


# A mutation review of the baselines (session 51).


def tiny_problem(lam=1e-2, dtype=np.float64, bias=False, groups="column", N=40):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 5))
    Y = rng.standard_normal((N, 2))
    return LiftedProblem(X, Y, hidden=(4,), lam=lam, bias=bias, dtype=dtype, groups=groups,
                         alpha=0.2)


@pytest.mark.parametrize("name", list(BASELINES))
@pytest.mark.parametrize("time_limit", [0, 0.0, -1.0])
def test_a_time_limit_of_zero_or_below_is_refused(name, time_limit):
    """``time_limit`` is a positive number of seconds or None: 0 is refused with its name."""
    with pytest.raises(ValueError, match="time_limit"):
        BASELINES[name](tiny_problem(), time_limit=time_limit, max_epochs=1)


@pytest.mark.parametrize("name", list(BASELINES))
def test_success_is_true_only_for_converged(name):
    """A run that stops at max_epochs has not converged: ``success`` is False."""
    res = BASELINES[name](tiny_problem(), max_epochs=1, tol=1e-30) if name == "prox_gradient" \
        else BASELINES[name](tiny_problem(), max_epochs=1)
    assert res.status == "max_iter"
    assert res.success is False


@pytest.mark.parametrize("name", STOCHASTIC)
def test_float32_problems_are_trained_in_float32_tensors(monkeypatch, name):
    """``dtype=float32``: every tensor of the forward pass (weights, biases, inputs) is
    torch.float32, not float64 converted back at the checkpoints."""
    seen = set()
    real = tp.forward_output

    def spy(W, b, V0, alpha):
        seen.update(str(t.dtype) for t in [*W, *(b or []), V0])
        return real(W, b, V0, alpha)

    monkeypatch.setattr(tp, "forward_output", spy)
    res = BASELINES[name](tiny_problem(dtype=np.float32, bias=True), max_epochs=1, batch_size=16)
    assert seen == {"torch.float32"}
    assert all(w.dtype == np.float32 for w in res.W)


@pytest.mark.parametrize("name", list(BASELINES))
@pytest.mark.parametrize("seed", [0, 7])
def test_the_start_is_initial_weights_of_the_seed_exactly(name, seed):
    """Stopped by the callback at the first checkpoint (the start), each baseline returns
    ``prob.initial_weights(seed)`` bit for bit (the warm-up step touched copies only)."""
    prob = tiny_problem(bias=True)
    W0, b0 = prob.initial_weights(seed)
    if name == "prox_gradient":  # its first record is the start; it stops after one step
        res = prox_gradient(prob, seed=seed, max_epochs=1)
        assert res.history[0]["Phi"] == pytest.approx(prob.Phi(W0, b0), rel=1e-14)
        return
    res = BASELINES[name](prob, seed=seed, max_epochs=1, callback=lambda rec: True)
    assert res.n_steps == 0
    for a, c in zip(res.W, W0, strict=True):
        np.testing.assert_array_equal(a, c)
    for a, c in zip(res.b, b0, strict=True):
        np.testing.assert_array_equal(a, c)


def test_every_sample_is_in_exactly_one_minibatch_per_epoch(monkeypatch):
    """N = 53, batch 10 (a partial last batch): each epoch's batches partition range(N)."""
    from liftnet.solvers.baselines import stochastic

    batches = []
    real = stochastic.torch.from_numpy

    def spy(a):
        if a.dtype.kind == "i":
            batches.append(a.copy())
        return real(a)

    monkeypatch.setattr(stochastic.torch, "from_numpy", spy)
    res = sgd(tiny_problem(N=53), batch_size=10, max_epochs=3)
    assert res.n_steps == 3 * 6
    seen = np.concatenate(batches)
    assert len(seen) == 3 * 53
    for k in range(3):
        np.testing.assert_array_equal(np.sort(seen[53 * k: 53 * (k + 1)]), np.arange(53))


@pytest.mark.parametrize("name", ["sgd", "prox_sgd", "adam"])
def test_returned_point_has_the_smallest_Phi_of_the_history(name):
    """A noisy run (batches of 2, a large step) whose last checkpoint is not its best: the
    returned Phi is the history's minimum."""
    lr = 0.05 if "sgd" in name else 0.3
    res = BASELINES[name](tiny_problem(), lr=lr, batch_size=2, max_epochs=4, eval_every=0.25)
    phis = [h["Phi"] for h in res.history]
    assert phis[-1] > min(phis)  # the premise: the history went up at the end
    assert res.Phi == pytest.approx(min(phis), rel=1e-12, abs=0)


@pytest.mark.parametrize("name", list(BASELINES))
def test_a_baseline_leaves_torchs_thread_count_alone(name):
    torch.set_num_threads(1)
    BASELINES[name](tiny_problem(), max_epochs=1)
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_one_full_batch_prox_sgd_step_with_bias_by_hand(groups):
    """One full-batch prox_sgd step is ``W+ = prox_{lr lam R}(W - lr grad)`` per group of the
    layout, ``b+ = b - lr grad_b`` (biases are not penalised): its checkpoint's Phi is the Phi
    of that point, some groups of which are exact zeros."""
    prob = tiny_problem(lam=8.0, bias=True, groups=groups)
    lr = 0.1
    W0, b0 = prob.initial_weights(3)
    Wt = [torch.tensor(w, requires_grad=True) for w in W0]
    bt = [torch.tensor(x, requires_grad=True) for x in b0]
    tp.loss(tp.forward_output(Wt, bt, torch.from_numpy(prob.X).T, prob.alpha),
            torch.from_numpy(prob.Y).T).backward()
    W1 = [prob.penalty.prox(w - lr * t.grad.numpy(), lr) for w, t in zip(W0, Wt)]
    b1 = [x - lr * t.grad.numpy() for x, t in zip(b0, bt)]
    assert 0 < prob.penalty.n_zero_groups(W1) < sum(prob.penalty.n_groups(w.shape) for w in W1)
    from liftnet.solvers.baselines import prox_sgd

    res = prox_sgd(prob, lr=lr, batch_size=prob.N, max_epochs=1, seed=3)
    assert res.n_steps == 1
    assert res.history[-1]["Phi"] == pytest.approx(prob.Phi(W1, b1), rel=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["sgd", "prox_sgd"])
def test_the_first_infinite_checkpoint_stops_the_run_as_diverged(name):
    """lr 0.3 on batches of 2 overflows: the checkpoint where Phi first becomes inf (not NaN)
    ends the run, status ``diverged``, and the returned point is the best finite one."""
    res = BASELINES[name](tiny_problem(), lr=0.3, batch_size=2, max_epochs=4, eval_every=0.25)
    phis = np.array([h["Phi"] for h in res.history])
    assert res.status == "diverged"
    assert np.isinf(phis[-1])
    assert np.all(np.isfinite(phis[:-1]))
    assert res.Phi == pytest.approx(phis[:-1].min(), rel=1e-12)


def test_prox_gradient_line_search_allows_the_rounding_of_the_problems_dtype(monkeypatch):
    """In float32 the sufficient-decrease test allows float32's rounding level of ell (about
    1e-5 relative), not float64's (1e-14, which made the float32 line search backtrack on
    rounding noise: 3024 vs 3008 backtracks and a worse Phi in 3000 iterations)."""
    from liftnet.solvers.baselines import fullbatch

    dtypes = []
    real = fullbatch.value_noise

    def spy(v, g, dtype):
        dtypes.append(np.dtype(dtype))
        return real(v, g, dtype)

    monkeypatch.setattr(fullbatch, "value_noise", spy)
    prox_gradient(tiny_problem(dtype=np.float32), max_epochs=5)
    assert len(dtypes) > 1 and set(dtypes) == {np.dtype(np.float32)}


@pytest.mark.parametrize("dtype, tiny", [(np.float64, 1e-170), (np.float32, 1e-25)])
@pytest.mark.parametrize("groups", ["column", "row", "element"])
def test_torch_group_prox_at_step_zero_keeps_groups_whose_norm_underflows(groups, dtype, tiny):
    W = np.array([[tiny, tiny, tiny], [tiny, 1.0, 0.0]], dtype=dtype)  # column 0, row 0 tiny
    want = GroupLasso(lam=1.0, groups=groups).prox(W, 0.0)
    np.testing.assert_array_equal(want, W)  # the identity, the tiny entries too
    got = tp.group_prox_(torch.from_numpy(W.copy()), 0.0, groups).numpy()
    np.testing.assert_array_equal(got, want)
    # one threshold per group, some of them 0: those groups are kept whole as well
    if groups != "element":
        t = torch.zeros(3 if groups == "column" else 2, dtype=torch.from_numpy(W).dtype)
        got = tp.group_prox_(torch.from_numpy(W.copy()), t, groups).numpy()
        np.testing.assert_array_equal(got, W)


@pytest.mark.parametrize("name", ["sgd", "prox_sgd"])
def test_divergence_is_reported_under_errstate_raise(name):
    """"``diverged`` when a checkpoint's ``Phi`` is NaN or inf": under a caller's
    ``np.errstate(all="raise")`` a checkpoint after the start raised numpy's
    FloatingPointError (overflow in matmul) out of ``prob.Phi`` instead; prox_gradient and the
    start checkpoint were already quiet."""
    rng = np.random.default_rng(0)
    prob = LiftedProblem(rng.standard_normal((40, 5)), rng.standard_normal((40, 2)),
                         hidden=(4,), lam=1e-2, alpha=0.2)
    kw = dict(lr=0.3, batch_size=2, max_epochs=4, eval_every=0.25)
    with np.errstate(all="ignore"):
        ref = BASELINES[name](prob, **kw)
    assert ref.status == "diverged"
    with np.errstate(all="raise"):
        strict = BASELINES[name](prob, **kw)
    assert (strict.status, strict.n_steps, strict.Phi) == (ref.status, ref.n_steps, ref.Phi)

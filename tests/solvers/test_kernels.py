"""The compiled subproblem (solvers/kernels.py) against the numpy model and finite differences."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnet import LiftedProblem
from liftnet.formulation.entrywise import shifted
from liftnet.solvers import kernels
from liftnet.solvers.alm import _BranchSubproblem, _Subproblem


def _instance(seed, widths, N, coupling, bias, dtype=np.float64, rho=2.5):
    """A subproblem ``L_rho(., M)`` at a random point off the lift, with random ``M >= 0``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, widths[0]))
    Y = rng.standard_normal((N, widths[-1]))
    prob = LiftedProblem(X, Y, hidden=widths[1:-1], coupling=coupling, bias=bias, lam=0.05,
                         alpha=0.2, beta=1.7, dtype=dtype)
    W, b = prob.initial_weights(seed)
    if bias:
        b = [rng.standard_normal(x.shape).astype(dtype) for x in b]
    V = [(v + 0.3 * rng.standard_normal(v.shape)).astype(dtype) for v in prob.lift(W, b)]
    M1 = [rng.random(s).astype(dtype) for s in prob.V_shapes]
    M2 = [rng.random(s).astype(dtype) for s in prob.V_shapes]
    sub = _Subproblem(prob)
    sub.set(M1, M2, rho)
    return prob, sub, prob.layout.pack(W, b, V, dtype=dtype)


def _reference(prob, sub, z):
    """``L_rho`` and its gradient by the numpy model alone (MODEL.md 5 and 6)."""
    W, b, V = prob.layout.unpack(z)
    U = prob.pre_activations(W, b, V)
    g1, g2 = prob.constraints(U, V)
    Mh = [shifted(m, g, sub.rho) for m, g in zip(sub.M1 + sub.M2, g1 + g2)]
    pen = (sum(float(np.vdot(m, m)) for m in Mh) - sub.M_sq) / (2 * sub.rho)
    value = prob.F(W, b, V) + pen
    # grad L_rho = grad f + J^T max(0, M + rho g): the Lagrangian gradient at the shifted M
    k = len(sub.M1)
    grad = prob.layout.pack(*prob.lagrangian_gradient(W, b, V, Mh[:k], Mh[k:]))
    return value, grad


random_instances = given(
    seed=st.integers(0, 10_000),
    widths=st.lists(st.integers(1, 5), min_size=3, max_size=4),
    N=st.integers(1, 7),
    coupling=st.sampled_from(["complementarity", "squared"]),
    bias=st.booleans(),
)


@settings(max_examples=30, deadline=None)
@random_instances
def test_compiled_subproblem_equals_the_numpy_model(seed, widths, N, coupling, bias):
    prob, sub, z = _instance(seed, widths, N, coupling, bias)
    value, cache = sub.value(z)
    ref_value, ref_grad = _reference(prob, sub, z)
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(sub.gradient(z, cache), ref_grad, rtol=1e-10, atol=1e-12)


@settings(max_examples=20, deadline=None)
@random_instances
def test_branch_gradient_matches_finite_differences(seed, widths, N, coupling, bias):
    """In the branch coordinates ``x = (W, b, S)`` the gradient is that of the value."""
    prob, sub, z = _instance(seed, widths, N, coupling, bias)
    bsub = _BranchSubproblem(sub, z)
    x = bsub.x0 + 0.01 * np.random.default_rng(seed).standard_normal(bsub.x0.size)
    g = bsub.gradient(x, bsub.value(x)[1])
    # the group norm is not in the gradient: difference the smooth part only
    smooth = lambda xx: bsub.value(xx)[0] - prob.regulariser(prob.layout.unpack(xx)[0])  # noqa: E731
    h = 1e-6
    fd = np.array([(smooth(x + h * e) - smooth(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
@pytest.mark.parametrize("bias", [False, True])
def test_float32_kernels_agree_with_float64(coupling, bias):
    widths, N = (6, 5, 4, 3), 40
    p64, s64, z64 = _instance(3, widths, N, coupling, bias)
    p32, s32, z32 = _instance(3, widths, N, coupling, bias, dtype=np.float32)
    v64, c64 = s64.value(z64)
    v32, c32 = s32.value(z32)
    g32 = s32.gradient(z32, c32)
    assert g32.dtype == np.float32 and all(v.dtype == np.float32 for v in c32[1])
    assert v32 == pytest.approx(v64, rel=1e-5)
    g64 = s64.gradient(z64, c64)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5 * np.abs(g64).max())


def test_constraint_state_is_the_multiplier_update():
    prob, sub, z = _instance(1, (3, 4, 4, 2), 9, "complementarity", True)
    _, cache = sub.value(z)
    g1, g2, Mh1, Mh2 = sub.constraint_state(cache)
    W, b, V = prob.layout.unpack(z)
    r1, r2 = prob.constraints(prob.pre_activations(W, b, V), V)
    for g, r, m, M in zip(g1 + g2, r1 + r2, Mh1 + Mh2, sub.M1 + sub.M2):
        np.testing.assert_allclose(g, r, rtol=1e-13, atol=1e-14)
        np.testing.assert_array_equal(m, np.maximum(M + sub.rho * r, 0.0))
    assert any(np.any(m == 0) for m in Mh1 + Mh2) and any(np.any(m > 0) for m in Mh1 + Mh2)


def test_stale_cache_is_dropped_when_the_couplings_change(tmp_path):
    """numba tracks only kernels.py; the guard drops the cache when a file of the formulas it
    compiles (couplings.py, entrywise.py) changes."""
    source = tmp_path / "couplings.py"
    source.write_text("a = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "kernels.layer_value-1.py311.nbi").write_text("index")
    (cache / "kernels.layer_value-1.py311.1.nbc").write_text("code")  # numba's data file
    (cache / "other.f-1.py311.nbi").write_text("not ours")
    (cache / "kernels.py").write_text("not a cache file")
    kernels._drop_stale_cache(cache, [source])  # no stamp yet: drop
    assert not (cache / "kernels.layer_value-1.py311.nbi").exists()
    assert not (cache / "kernels.layer_value-1.py311.1.nbc").exists()
    assert (cache / "other.f-1.py311.nbi").exists() and (cache / "kernels.py").exists()
    (cache / "kernels.layer_value-1.py311.nbi").write_text("index")
    kernels._drop_stale_cache(cache, [source])  # same source: keep
    assert (cache / "kernels.layer_value-1.py311.nbi").exists()
    source.write_text("a = 2\n")
    kernels._drop_stale_cache(cache, [source])  # changed: drop
    assert not (cache / "kernels.layer_value-1.py311.nbi").exists()
    # the compiled inner loop's cache, guarded by its own stamp over its callees' files
    (cache / "owlqn_compiled._run-1.py311.nbi").write_text("index")
    (cache / "kernels.layer_value-1.py311.nbi").write_text("index")
    kernels._drop_stale_cache(cache, [source], module="owlqn_compiled")  # no stamp: drop
    assert not (cache / "owlqn_compiled._run-1.py311.nbi").exists()
    assert (cache / "kernels.layer_value-1.py311.nbi").exists()  # (another module's)
    (cache / "owlqn_compiled._run-1.py311.nbi").write_text("index")
    kernels._drop_stale_cache(cache, [source], module="owlqn_compiled")  # same: keep
    assert (cache / "owlqn_compiled._run-1.py311.nbi").exists()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_warm_up_compiles_every_kernel_a_solve_runs(dtype):
    """``warm_up`` (what the benchmarks and the comparison run before timing) leaves every
    compiled function of an inner iteration with a signature for ``dtype``, the parallel drivers
    included (a small solve alone reaches only the serial ones), and in float64 the compiled
    loop of small problems (owlqn_compiled) as well as the Python loop's kernels. In a fresh
    process: in this one other tests may have compiled them already."""
    import subprocess
    import sys

    code = f"""
import numpy as np
from liftnet.formulation import penalties as P
from liftnet.solvers import kernels as K, quasi_newton as Q
from liftnet.solvers.alm import warm_up
fns = [K._value_serial, K._value_rows_parallel, K._gradient_serial, K._gradient_parallel,
       P._group_dots, P._subdiff_residual, P._keep_aligned, P._zero_entries, P._max_group_dot,
       Q._row_dots, Q._row_dots_pair, Q._step_dots, Q._trial_point, Q._dot_of_step,
       Q._open_zero_groups, Q._apply_compiled]
# the block scales' bookkeeping, float64 whatever the dtype
scalars = [Q._block_scales_loop, Q._grow_unseen_loop]
assert not any(f.signatures for f in fns + scalars), "compiled before warm_up"
warm_up(np.{dtype})
for f in fns:
    assert any(str(a).startswith("array({dtype}") for sig in f.signatures for a in sig), \\
        (f.__name__, f.signatures)
assert Q._compact_coefficients.signatures
assert all(f.signatures for f in scalars), [f.__name__ for f in scalars]
assert K._totals.signatures  # (of the float64 row sums, whatever the dtype)
from liftnet.solvers import owlqn_compiled as O
# the whole compiled loop of small float64 problems (nothing of it in float32)
assert bool(O._run.signatures) == ("{dtype}" == "float64"), O._run.signatures
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.parametrize("coupling", ["complementarity", "squared"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("branch", [False, True])
def test_parallel_and_serial_drivers_agree(monkeypatch, coupling, bias, branch):
    """Each driver forced in turn (``_PARALLEL_MIN_SIZE``): value and gradient agree to the
    bit (each row is computed by the same row function, and the value's totals are added in
    row order on one thread); the subproblems of the test suite are otherwise too small for
    the parallel one."""
    prob, sub, z = _instance(5, (4, 6, 5, 2), 33, coupling, bias)
    f = _BranchSubproblem(sub, z) if branch else sub
    x = f.x0 + 0.01 * np.random.default_rng(5).standard_normal(f.x0.size) if branch else z
    out = {}
    for name, min_size in (("serial", 1 << 62), ("parallel", 0)):
        monkeypatch.setattr(kernels, "_PARALLEL_MIN_SIZE", min_size)
        value, cache = f.value(x)
        out[name] = value, f.gradient(x, cache).copy()
    assert out["parallel"][0] == out["serial"][0]
    np.testing.assert_array_equal(out["parallel"][1], out["serial"][1])


def test_the_parallel_value_does_not_depend_on_the_thread_count():
    """The parallel driver's sums are the same bits with one thread and with all of them
    (its totals were once a reduction split over the threads: its last bit moved with their
    number)."""
    import numba

    rng = np.random.default_rng(0)
    U, X = rng.standard_normal((64, 4099)), rng.standard_normal((64, 4099))
    M1, M2 = np.abs(rng.standard_normal(U.shape)), np.abs(rng.standard_normal(U.shape))
    no_b, no_C = kernels.not_given(U.dtype, 1), kernels.not_given(U.dtype, 2)
    before = numba.get_num_threads()
    out = {}
    try:
        for n in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(n)
            out[n] = kernels._value_parallel(U.copy(), no_b, X, no_C, M1, M2, X.copy(), 0.1,
                                             3.0, 0)
    finally:
        numba.set_num_threads(before)
    assert len(set(out.values())) == 1, out
    assert out[1] == kernels._value_serial(U.copy(), no_b, X, no_C, M1, M2, X.copy(), 0.1, 3.0, 0)


def test_every_compiled_function_states_its_fastmath_option():
    """numba compiles a function that does not state ``fastmath`` with the flags of the first
    compiled caller that calls it (numba issue #7168): the iterates then depended on the order
    in which a process (or the one that filled numba's disk cache) compiled things. Every
    dispatcher of liftnet states it."""
    from numba.core.registry import CPUDispatcher

    from liftnet.formulation import penalties
    from liftnet.solvers import quasi_newton

    found = {f"{m.__name__}.{n}": getattr(m, n).targetoptions
             for m in (kernels, quasi_newton, penalties) for n in dir(m)
             if isinstance(getattr(m, n), CPUDispatcher)}
    assert len(found) >= 25
    assert [n for n, opts in found.items() if "fastmath" not in opts] == []


def test_a_subproblem_solve_does_not_depend_on_what_was_compiled_first(tmp_path):
    """The same inner solve in two fresh processes (an empty numba cache each): one compiles
    the L-BFGS algebra alone and the gradient's row function before the value's, the other
    runs the solve straight away; the two end at the same point to the bit. (Before every
    compiled function stated its fastmath option the first took another path: 61 against 91
    backtracks in 300 iterations, residual 4.9e-3 against 1.0e-2.)"""
    import os
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from liftnet import LiftedProblem
from liftnet.solvers import kernels, quasi_newton
from liftnet.solvers.alm import _BranchSubproblem, _Subproblem, default_rho0
from liftnet.verification.kkt import initial_multipliers
if sys.argv[1] == "other-order":
    quasi_newton.warm_up_large()
    one = np.ones((1, 1))
    kernels.layer_gradient(one, one, np.zeros((0, 0)), one, one, one.copy(), one.copy(),
                           0.1, 1.0, 1.0, 0)
rng = np.random.default_rng(1)
X = rng.standard_normal((40, 3))
Y = np.tanh(X @ rng.standard_normal((3, 2)))
prob = LiftedProblem(X, Y, hidden=(4, 3), lam=1e-2, bias=True)
W, b = prob.initial_weights(0)
V = prob.lift(W, b)
sub = _Subproblem(prob)
sub.set(*initial_multipliers(prob, W, b, V), 10 * default_rho0(prob))
s = _BranchSubproblem(sub, prob.layout.pack(W, b, V))
x, info = quasi_newton.group_owlqn(s, s.x0, tol=1e-9, max_iter=300)
print(info.status, info.nit, info.n_backtracks, repr(info.residual), repr(info.value),
      repr(float(np.abs(x).sum())))
"""
    outs = []
    for i, order in enumerate(("other-order", "straight")):
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / f"cache{i}")}
        run = subprocess.run([sys.executable, "-c", code, order], capture_output=True,
                             text=True, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        outs.append(run.stdout.strip())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("user_layer, how", [(None, None), ("omp", "environment"),
                                             ("omp", "config")])
def test_a_users_threading_layer_is_respected(user_layer, how):
    """kernels.py picks numba's workqueue layer, unless the user chose one: in the environment
    (NUMBA_THREADING_LAYER) or in numba's config before the import (numba's documented
    alternative; it was replaced by workqueue)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    if how == "environment":
        env["NUMBA_THREADING_LAYER"] = user_layer
    chosen = f"numba.config.THREADING_LAYER = {user_layer!r}; " if how == "config" else ""
    code = (f"import numba; {chosen}import liftnet.solvers.kernels; "
            "print(numba.config.THREADING_LAYER)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == (user_layer or "workqueue")


@pytest.mark.parametrize("size_vs_threshold, driver", [(-1, "serial"), (0, "parallel"),
                                                       (1, "parallel")])
def test_the_parallel_driver_starts_at_exactly_the_threshold(monkeypatch, size_vs_threshold,
                                                             driver):
    """``_PARALLEL_MIN_SIZE`` is the first size (n_l N) that takes the parallel drivers, for the
    value and the gradient alike."""
    rng = np.random.default_rng(0)
    n, N = 3, 4
    monkeypatch.setattr(kernels, "_PARALLEL_MIN_SIZE", n * N - size_vs_threshold)
    calls = []
    for name in ("_value_serial", "_value_parallel", "_gradient_serial", "_gradient_parallel"):
        f = getattr(kernels, name)
        monkeypatch.setattr(kernels, name,
                            lambda *a, _f=f, _n=name: (calls.append(_n.split("_")[-1]), _f(*a))[1])
    U, X = rng.standard_normal((n, N)), rng.standard_normal((n, N))
    M1, M2 = rng.random((n, N)), rng.random((n, N))
    no_b, no_C = kernels.not_given(U.dtype, 1), kernels.not_given(U.dtype, 2)
    kernels.layer_value(U, no_b, X, no_C, M1, M2, X.copy(), 0.2, 2.0, 0)
    kernels.layer_gradient(U, X, no_C, M1, M2, np.zeros_like(U), np.zeros_like(U), 0.2, 2.0,
                           1.0, 0)
    assert calls == [driver, driver]


def test_the_stale_cache_guard_looks_where_numba_caches(tmp_path):
    """With ``NUMBA_CACHE_DIR`` set numba writes this folder's compiled functions under that
    directory, and the guard must look there (it looked in ``__pycache__`` only, and after an
    edit of ``couplings.py`` the stale kernels ran on: a test audit, session 52). In a fresh
    process with its own cache directory: the guard's stamp lies beside the index file of a
    kernel numba compiled there (``_numba_cache_folder()``), and a stale stamp there drops it."""
    code = ("from liftnet.solvers import kernels as k; "
            "print(k._coupling_terms(0, -1.0, -0.5, 0.1))")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = lambda: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: E731
                                 text=True, check=True)  # fmt: skip
    run()
    [index] = tmp_path.glob("*/kernels._coupling_terms-*.nbi")
    folder = index.parent
    assert (folder / "kernels.sources-sha256").exists()
    (folder / "kernels.sources-sha256").write_text("0" * 64)  # the sources' old digest
    stale = folder / "kernels._value_row-1.py3.nbi"
    stale.write_text("compiled from other couplings")
    run()
    assert not stale.exists()

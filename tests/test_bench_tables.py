"""benchmarks/: the printed columns are what their legends say (ratios the right way up, the
best of the repeats, per-call times, the products the floor claims), tested on stubs."""

import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_alm  # noqa: E402 (the benchmarks folder on the path)
import bench_args  # noqa: E402
import bench_datasets  # noqa: E402
import bench_ipopt  # noqa: E402
import bench_kernels  # noqa: E402
import bench_lbfgs  # noqa: E402
import bench_multipliers  # noqa: E402
import fingerprint  # noqa: E402
import sensitivity  # noqa: E402
import sweep  # noqa: E402
from _helpers import bench_problem  # noqa: E402


def fake_clock(*ticks):
    """A ``time`` stand-in whose ``perf_counter``/``monotonic`` return ``ticks`` in turn."""
    it = iter(ticks)
    return SimpleNamespace(perf_counter=lambda: next(it), monotonic=lambda: next(it))


# --- bench_args -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400"])
def test_finite_float_refuses_every_non_finite_value(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        bench_args.finite_float(text)


@pytest.mark.parametrize("text", ["8-16", "8-0-4", "0-16-4", "8-16-0"])
def test_widths_need_a_hidden_layer_and_positive_widths(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        bench_args.widths_type(text)


# --- bench_alm --------------------------------------------------------------------------

def test_timed_is_the_best_repeat_per_call(monkeypatch):
    """Three repeats of four calls taking 12, 4 and 8 clock units: 1 unit per call."""
    monkeypatch.setattr(bench_alm, "time", fake_clock(0, 12, 12, 16, 16, 24))
    assert bench_alm.timed(lambda: None, repeats=3, n=4) == 1.0


class _Counting(np.ndarray):
    """An array whose matrix products are recorded (operand shapes)."""

    products: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        plain = [np.asarray(a) for a in inputs]
        if ufunc is np.matmul:
            _Counting.products.append(tuple(a.shape for a in plain))
        return getattr(ufunc, method)(*plain, **kw)


def test_matmul_floor_times_the_products_its_docstring_lists():
    """Forward ``W_l V_{l-1}`` (L), backward ``D_l V_{l-1}^T`` (L) and
    ``W_{l+1}^T D_{l+1}`` (L-1): 3L - 1 products of these shapes, no more, no fewer."""
    widths, N = (5, 6, 4, 3), 7
    L = len(widths) - 1
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((widths[l + 1], widths[l])).view(_Counting) for l in range(L)]
    V = [rng.standard_normal((widths[l + 1], N)).view(_Counting) for l in range(L)]
    V0 = rng.standard_normal((widths[0], N)).view(_Counting)
    prob = SimpleNamespace(V0=V0, N=N, L=L, dtype=np.dtype(np.float64))
    _Counting.products = []
    bench_alm.matmul_floor(prob, W, V, repeats=1)
    expected = ([((widths[l + 1], widths[l]), (widths[l], N)) for l in range(L)]
                + [((widths[l + 1], N), (N, widths[l])) for l in range(L)]
                + [((widths[l], widths[l + 1]), (widths[l + 1], N)) for l in range(1, L)])
    assert sorted(_Counting.products) == sorted(expected)


def test_run_row_ratios_are_the_ones_their_names_claim(monkeypatch):
    """The row of ``bench_alm.run`` from stubbed timings: the floor is the lower of its two
    timings, ``ratio`` the inner iteration over it, ``ratio_all`` over both floors together,
    ``ratio_eval_lbfgs`` the evaluations per iteration times one evaluation plus the L-BFGS
    work over the floor; ``blas_threads`` the ALM's own choice; ``peak_GiB`` the process's
    resident high-water mark in GiB."""
    prob = bench_problem()
    res = SimpleNamespace(status="converged", time=1.0, nit=3, n_inner=30,
                          kkt={"residual": 1e-7}, sparsity=0.5, W=None, V=None)
    floors = iter([3e-3, 2e-3])
    monkeypatch.setattr(bench_alm, "warm_up", lambda *a: None)
    monkeypatch.setattr(bench_alm, "solve_alm", lambda *a, **k: res)
    monkeypatch.setattr(bench_alm, "matmul_floor", lambda *a, **k: next(floors))
    monkeypatch.setattr(bench_alm, "inner_iteration_cost", lambda p: (
        10e-3, 1.5, "python", 10e-3, 4e-3, 1e-3, 0.5e-3))
    row = bench_alm.run("case", prob, 1.0)
    assert row["floor_ms"] == pytest.approx(2.0)
    assert row["ratio"] == pytest.approx(5.0)
    assert row["ratio_all"] == pytest.approx(10 / 2.5)
    assert row["ratio_eval_lbfgs"] == pytest.approx((1.5 * 4 + 1) / 2)
    assert (row["inner_ms"], row["eval_ms"], row["lbfgs_ms"], row["qn_floor_ms"]) == \
        pytest.approx((10.0, 4.0, 1.0, 0.5))
    n = bench_alm.blas_threads(prob, "auto")
    assert row["blas_threads"] == ("as is" if n is None else n)
    # the high-water mark as the system reports it (KiB on Linux, bytes on macOS), stubbed:
    # the row is that in GiB exactly (rel=0.5 against /proc's VmHWM passed GB for GiB)
    per_gib = 2**30 if bench_alm.sys.platform == "darwin" else 2**20
    monkeypatch.setattr(bench_alm.resource, "getrusage",
                        lambda who: SimpleNamespace(ru_maxrss=3 * per_gib))  # fmt: skip
    floors = iter([3e-3, 2e-3])
    assert bench_alm.run("case", prob, 1.0)["peak_GiB"] == 3.0


def test_inner_iteration_is_the_best_repeat_and_its_parts_are_one_each(monkeypatch):
    """``inner_ms`` is the best of the repeats (a clock whose last repeat is 10x slower);
    ``eval_ms`` one value and gradient evaluation, ``lbfgs_ms`` one push and one apply (the
    timing stubbed by a count of the calls of one run)."""
    from liftnet.solvers.quasi_newton import CompactLBFGS

    pushes = []
    push = CompactLBFGS.push
    monkeypatch.setattr(CompactLBFGS, "push", lambda self, *a: pushes.append(1) or push(self, *a))

    def counted(f, repeats, n=1):
        before = len(pushes)
        f()
        return float(len(pushes) - before)

    monkeypatch.setattr(bench_alm, "timed", counted)
    n_iter = 3
    # perf_counter: repeat 1 takes one unit, repeat 2 ten (float32: the Python loop only)
    monkeypatch.setattr(bench_alm, "time", fake_clock(0.0, 1.0, 1.0, 11.0))
    per_it, evals, loop, per_py, per_eval, per_qn, _ = bench_alm.inner_iteration_cost(
        bench_problem(np.float32), n_iter=n_iter, repeats=2)
    assert loop == "python"
    assert per_it == pytest.approx(1.0 / n_iter)
    assert per_qn == 1.0 and per_eval == 0.0


# --- bench_kernels, bench_lbfgs ---------------------------------------------------------

def test_bench_kernels_ratio_is_parallel_over_serial_and_taken_at_the_switch(monkeypatch,
                                                                             capsys):
    times = {None: 1e-3, bench_kernels.SERIAL: 4e-3, bench_kernels.PARALLEL: 2e-3}
    monkeypatch.setattr(bench_kernels, "layer_seconds",
                        lambda *a, **k: times[a[5]])
    monkeypatch.setattr(bench_kernels.K, "warm_up_parallel", lambda dtype: None)
    # the first digits layer exactly at the switch: K takes the parallel driver there (>=)
    monkeypatch.setattr(bench_kernels.K, "_PARALLEL_MIN_SIZE", 32 * 1347)
    bench_kernels.main(["--quick"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows and all(r[-2] == "0.50" for r in rows)
    assert (rows[0][1], rows[0][-1]) == ("64-32-16", "parallel")
    assert (rows[1][1], rows[1][-1]) == ("32-16-10", "serial")


def test_bench_kernels_times_the_three_products_of_bench_alms_floor(monkeypatch):
    """One hidden layer's products: ``W_l V_{l-1}``, ``W_{l+1}^T D_{l+1}``, ``D_l V_{l-1}^T``."""
    seen = []
    matmul = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b, **k: seen.append((a.shape, b.shape))
                        or matmul(a, b, **k))
    bench_kernels.layer_seconds(5, 4, 3, 7, np.float64, None, repeats=1, calls=1)
    assert sorted(set(seen)) == sorted({((4, 5), (5, 7)), ((4, 3), (3, 7)),
                                        ((4, 7), (7, 5))})
    assert len(seen) == 2 * 3  # warm-up and one timed call


def test_bench_lbfgs_ratio_is_compiled_over_blas(monkeypatch, capsys):
    times = {bench_lbfgs.NEVER: 4e-3, bench_lbfgs.ALWAYS: 1e-3}
    monkeypatch.setattr(bench_lbfgs, "lbfgs_seconds", lambda n, m, dtype, small: times[small])
    bench_lbfgs.main(["--quick"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows and all(r[-2] == "0.25" for r in rows)


def test_bench_lbfgs_times_a_full_memory_and_applies_the_pushed_vector(monkeypatch):
    """When the clock starts the memory holds ``m`` pairs, and every timed iteration stores
    a pair and asks for the direction of the vector it pushed."""
    import liftnet.solvers.quasi_newton as qn

    made, log = [], []

    class Recording(qn.CompactLBFGS):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

        def push(self, x, x_new, g, g_new):
            n = len(self.order)
            out = super().push(x, x_new, g, g_new)
            log.append(("push", g_new, n, len(self.order)))
            return out

        def apply(self, q, scales, sign=1.0, *, grad=None, **kw):
            log.append(("apply", q is grad and q is log[-1][1]))
            return super().apply(q, scales, sign, grad=grad, **kw)

    def timed(f, repeats, n=1):
        assert len(made[0].order) == made[0].m  # full before the clock starts
        del log[:]
        for _ in range(3):
            f()
        return 1.0

    monkeypatch.setattr(qn, "CompactLBFGS", Recording)
    monkeypatch.setattr(bench_lbfgs, "timed", timed)
    for small in (bench_lbfgs.ALWAYS, bench_lbfgs.NEVER):
        made.clear()
        bench_lbfgs.lbfgs_seconds(96, 3, np.float64, small)
        pushes = [e for e in log if e[0] == "push"]
        applies = [e for e in log if e[0] == "apply"]
        assert len(pushes) == len(applies) == 3
        assert all(after == 3 and before == 3 for _, _, before, after in pushes)
        assert all(ok for _, ok in applies)


# --- fingerprint --------------------------------------------------------------------------

def test_fingerprint_time_is_the_best_repeat(monkeypatch):
    done = SimpleNamespace(status="max_iter")
    monkeypatch.setattr(fingerprint, "solve_alm", lambda *a, **k: done)
    monkeypatch.setattr(fingerprint, "fingerprint", lambda res: "aaa")
    monkeypatch.setattr(fingerprint, "time", fake_clock(0.0, 5.0, 5.0, 6.0))
    assert fingerprint.run_case("squared", 2) == ("aaa", done, 1.0)


def test_fingerprint_columns_per_inner_iteration_and_ratio(monkeypatch, capsys):
    """``ms/inner`` is the time over the inner iterations; with ``--loops`` the ratio is the
    Python loop's time over the compiled one's."""
    monkeypatch.setattr(fingerprint, "warm_up", lambda *a: None)
    res = SimpleNamespace(status="max_iter", history=[1, 2, 3], n_inner=50,
                          kkt={"residual": 1e-3})
    monkeypatch.setattr(fingerprint, "run_case", lambda name, r: ("h", res, 0.5))
    fingerprint.main(["--cases", "squared"])
    assert "squared | h | max_iter | 3 | 50 | 1.000000e-03 | 0.50 | 10.000" in \
        capsys.readouterr().out
    monkeypatch.setattr(fingerprint, "compare_loops",
                        lambda name, r: ("h", "h", 2.0, 0.5, res))
    fingerprint.main(["--cases", "squared", "--loops"])
    assert "squared | h | h | 50 | 40.000 | 10.000 | 4.00" in capsys.readouterr().out


# --- sweep --------------------------------------------------------------------------------

def test_sweep_param_negative_integers_stay_integers():
    assert sweep.parse_param("max_iter=-3") == ("max_iter", -3)
    assert isinstance(sweep.parse_param("max_iter=-3")[1], int)


def _stub_sweep(monkeypatch, results, traces=None):
    it = iter(results)
    tr = iter(traces or [])
    monkeypatch.setattr(sweep, "warm_up", lambda *a: None)
    monkeypatch.setattr(sweep, "solve_alm", lambda *a, **k: next(it))
    monkeypatch.setattr(sweep, "traced_alm", lambda *a, **k: (next(it), next(tr)))


def _res(status, time, kkt):
    return SimpleNamespace(status=status, time=time, kkt={"residual": kkt}, nit=1,
                           n_inner=10, Phi=1.0)


def test_sweep_summary_counts_converged_runs_and_takes_medians(monkeypatch, capsys):
    _stub_sweep(monkeypatch, [_res("converged", 1.0, 1e-7), _res("time_limit", 10.0, 1e-2),
                              _res("max_iter", 2.0, 1e-4)])
    sweep.main(["wide", "--Ns", "20", "40", "80"])
    out = capsys.readouterr().out
    assert ("SUMMARY wide: converged 1/3, median time 2.00 s, total 13.0 s, inner iterations "
            "30, median KKT 1.0e-04") in out


def test_sweep_medians_per_n_over_the_seeds(monkeypatch, capsys):
    """Two N, three seeds: the MEDIAN line of each N is the median of its own three runs."""
    res = [_res("converged", 1.0, 1e-7)] * 6
    traces = [[(t, 0.5)] for t in (1.0, 2.0, 9.0, 10.0, 20.0, 30.0)]
    _stub_sweep(monkeypatch, res, traces)
    sweep.main(["wide", "--Ns", "20", "40", "--seeds", "0", "1", "2", "--levels", "1"])
    out = capsys.readouterr().out
    assert "MEDIAN over 3 seeds, N=20: t@1 2.00 s" in out
    assert "MEDIAN over 3 seeds, N=40: t@1 20.00 s" in out
    assert "1: 3.32 over 2 N" in out  # log2(20 / 2)


# --- bench_ipopt --------------------------------------------------------------------------

def test_first_time_counts_a_residual_equal_to_the_level():
    assert bench_ipopt.first_time([(1.0, 1e-2), (2.0, 1e-3)], 1e-3) == 2.0


def test_bench_ipopt_row_and_level_columns(monkeypatch, capsys):
    """``ratio`` t_IPOPT/t_ALM; ``t_ALM@`` the ALM's first time at IPOPT's final residual
    (above ``--tol``); ``best_IPOPT`` the smallest traced residual; ``t_ALM+IPOPT`` the ALM's
    whole time plus the warm IPOPT's time to the level; ``ratio(tol)`` IPOPT's time over the
    run with ``tol=level``; IPOPT's time past the cap stops after that N."""
    alm = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7})
    monkeypatch.setattr(bench_ipopt, "warm_up", lambda *a: None)
    monkeypatch.setattr(bench_ipopt, "traced_alm", lambda *a, **k: (
        alm, [(0.5, 1e-3), (0.9, 1e-7)]))
    monkeypatch.setattr(bench_ipopt, "traced_ipopt", lambda *a, **k: (
        SimpleNamespace(status="converged", time=10.0, kkt={"residual": 1e-3}),
        [(1.0, 1e-2), (3.0, 1e-4), (5.0, 1e-3)]))
    monkeypatch.setattr(bench_ipopt, "build_pyomo_model", lambda prob: None)
    monkeypatch.setattr(bench_ipopt, "alm_time_to", lambda *a: 0.25)
    rows = bench_ipopt.main(["--N0", "20", "--Nmax", "40", "--cap", "5", "--levels", "1e-3",
                             "--warm"])
    assert [r["N"] for r in rows] == [20]  # 10 s > the cap of 5 s: stop
    (r,) = rows
    assert (r["ratio"], r["t_alm_at_ipopt"], r["ratio_at_ipopt"]) == (10.0, 0.5, 20.0)
    assert r["best_ipopt"] == 1e-4
    assert r["reach"][1e-3] == (0.5, 3.0, 4.0, 0.25)
    out = capsys.readouterr().out
    line = next(s for s in out.splitlines() if s.split()[:3] == ["20", "0", "1e-03"])
    assert line.split()[-1] == "12.0"  # 3 s / 0.25 s


# --- bench_multipliers ------------------------------------------------------------------

def test_bench_multipliers_ratio_is_time_over_ip_kkt_and_only_the_baselines_capped(
        monkeypatch, capsys):
    prob = bench_problem()
    W, b = prob.initial_weights(0)
    limits = {}

    def estimate(prob, W, b, V, time_limit=None, return_info=False, method=None, **k):
        key = method + ("-kkt" if "patience" in k else "")
        limits[key] = time_limit
        return np.zeros(1), np.zeros(1), {"status": "converged"}

    monkeypatch.setattr(bench_multipliers, "warm_up", lambda *a: None)
    monkeypatch.setattr(bench_multipliers, "points",
                        lambda *a: iter([("p", prob, W, b, prob.lift(W, b))]))
    monkeypatch.setattr(bench_multipliers, "estimate_multipliers", estimate)
    monkeypatch.setattr(bench_multipliers, "kkt_residuals", lambda *a, **k: {"residual": 1.0})
    monkeypatch.setattr(bench_multipliers, "MultiplierLSQ", lambda *a: SimpleNamespace(
        pack=lambda M1, M2: None, value=lambda z: (0.0,)))
    monkeypatch.setattr(bench_multipliers, "time", fake_clock(0.0, 2.0, 2.0, 8.0))
    bench_multipliers.run([20], outer=1, cap=7.0, methods=["bb", "ip-kkt"], quick=True)
    rows = [s.split() for s in capsys.readouterr().out.splitlines() if s.startswith("p ")]
    assert [(r[1], r[-1]) for r in rows] == [("ip-kkt", "1.0"), ("bb", "3.0")]
    assert limits == {"interior-point-kkt": None, "bb": 7.0}


# --- bench_datasets -----------------------------------------------------------------------

def test_bench_datasets_row_gap_units_inputs(monkeypatch):
    class Fake:
        def __init__(self, **kw):
            pass

        def fit(self, X, y):
            self.result_ = SimpleNamespace(status="converged", Phi=2.0, objective=1.5)
            self.kkt_ = {"residual": 1e-7}
            self.active_groups_ = [np.array([True, True, True, False]),
                                   np.array([True] * 7 + [False] * 9)]

        def score(self, X, y):
            return 0.5

    monkeypatch.setattr(bench_datasets, "SparseLeakyReLUClassifier", Fake)
    r = bench_datasets.fit_lifted("classification", None, None, None, None, 16, 1e-2, 1.0,
                                  5.0, True)
    assert r["gap"] == pytest.approx(0.25) and (r["units"], r["inputs"]) == (7, 3)


def test_bench_datasets_ratio_column_is_fit_over_mlp_seconds():
    r = {"status": "converged", "time": 6.0}
    assert bench_datasets.table_line("iris", 105, "0.01", "1", r, 2.0).split()[-1] == "3.0"


def test_bench_datasets_quick_and_full_defaults():
    q = bench_datasets.parse_args(["--quick"])
    assert (q.datasets, q.lams, q.betas, q.time_limit) == (["iris", "diabetes"], [1e-2], [1.0],
                                                           5.0)
    f = bench_datasets.parse_args([])
    assert (f.datasets, f.lams, f.betas, f.time_limit) == (list(bench_datasets.DATASETS),
                                                           [1e-2, 1e-3], [1.0, 10.0], 20.0)


# --- sensitivity --------------------------------------------------------------------------

def test_perturbation_is_relative():
    W = [np.full((40, 40), 1000.0), np.zeros((3, 3))]
    P = sensitivity.perturbed(W, 1e-2)
    rel = P[0] / W[0] - 1.0
    assert 0.5e-2 < rel.std() < 2e-2
    assert np.all(P[1] == 0.0)


def test_sensitivity_twin_run_starts_from_the_perturbed_weights(monkeypatch):
    starts = []
    res = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7}, n_inner=1,
                          Phi=1.0)
    monkeypatch.setattr(sensitivity, "warm_up", lambda *a: None)
    monkeypatch.setattr(sensitivity, "solve_alm",
                        lambda prob, init=None, **k: starts.append(init) or res)
    sensitivity.main(["--seeds", "0", "--eps", "1e-6", "--time-limit", "1"])
    (a, b) = starts
    for wa, wb in zip(a["W"], b["W"]):
        assert not np.array_equal(wa, wb)
        np.testing.assert_allclose(wb, wa, rtol=1e-4)


def test_compare_loops_restores_the_compiled_loop_after_a_ctrl_c(monkeypatch):
    """A Ctrl-C in the Python loop's solve (the switch off) leaves the switch on: the process
    (a notebook, a test session) goes on with the compiled loop, as the ALM takes it."""
    from liftnet.solvers import owlqn_compiled

    def ctrl_c(*a, **k):
        assert not owlqn_compiled.ENABLED  # the Python loop's turn
        raise KeyboardInterrupt

    monkeypatch.setattr(fingerprint, "solve_alm", ctrl_c)
    monkeypatch.setattr(fingerprint, "CASES", {"tiny": (lambda: None, {})})
    with pytest.raises(KeyboardInterrupt):
        fingerprint.compare_loops("tiny", 1)
    assert owlqn_compiled.ENABLED


def test_sweep_param_flags_in_any_case():
    """``--param polish_weights=True`` (as Python spells it) is the flag, not an error."""
    assert sweep.parse_param("polish_weights=True") == ("polish_weights", True)
    assert sweep.parse_param("polish_weights=FALSE") == ("polish_weights", False)


def test_peak_gib_reads_ru_maxrss_in_the_platforms_unit(monkeypatch):
    """``ru_maxrss`` is KiB on Linux and bytes on macOS: 3 GiB either way."""
    usage = SimpleNamespace(ru_maxrss=3 * 2**20)
    monkeypatch.setattr(bench_alm.resource, "getrusage", lambda who: usage)
    monkeypatch.setattr(bench_alm.sys, "platform", "linux")
    assert bench_alm.peak_gib() == 3.0
    usage.ru_maxrss = 3 * 2**30
    monkeypatch.setattr(bench_alm.sys, "platform", "darwin")
    assert bench_alm.peak_gib() == 3.0

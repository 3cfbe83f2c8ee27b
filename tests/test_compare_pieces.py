"""The comparison harness in pieces, on fake records and monkeypatched solvers (no whole
comparison runs): the report's table, header and files (``liftnet/compare/report.py``), what
each run is called with (``runs.py``), and the driver's targets, kkt_net runs, thread cap and
Ctrl-C in the plots (``__init__.py``). From a second mutation review (session 50): each test
fails on a one-line change that passed the suite."""
import contextlib
import json
import os
import types

import numpy as np

from liftnet import datasets
from liftnet.compare import MODES, make_problem


def _record(**over):  # (as in tests/test_compare.py)
    rec = {c: 1.0 for c in ("Phi", "sparsity", "sparsity_small", "train_score", "test_score")}
    rec.update(kkt=np.nan, kkt_net=np.nan, time=1.0, t_target=1.0, status="max_iter",
               metric="mse", kkt_net_expired=False)
    return {**rec, **over}


def _runs(spec):
    """{method: [per-seed overrides]} -> runs of both budgets on the teacher (fresh dicts)."""
    return {("teacher", b, m): [_record(**o) for o in recs]
            for b in ("time", "converge") for m, recs in spec.items()}


def test_ratios_are_against_the_alm_wherever_it_is_among_the_methods():
    """methods with the ALM second: Phi_ratio and t_target_ratio still divide by the ALM's
    row (not by the first method's)."""
    from liftnet.compare.report import table_rows

    runs = _runs({"sgd": [{"Phi": 2.0, "t_target": 3.0}], "alm": [{"Phi": 4.0, "t_target": 1.5}]})
    rows = table_rows(runs, ["teacher"], ("sgd", "alm"))
    for r in rows:
        if r["method"] == "sgd":
            assert r["Phi_ratio"] == 0.5 and r["t_target_ratio"] == 2.0
        else:
            assert r["Phi_ratio"] == 1.0 and r["t_target_ratio"] == 1.0


def test_table_cells_have_four_significant_digits():
    """Floats are printed with 4 significant digits (the precision the legend's numbers and
    the reproducible part's byte equality rest on); ints and strings as they are."""
    from liftnet.compare.report import format_table

    text = format_table([{"a": 1.23456, "b": 0.000123456, "c": 7, "d": "x"}], ("a", "b", "c", "d"))
    assert text.splitlines()[1].split() == ["1.235", "0.0001235", "7", "x"]


def test_header_and_legend_name_every_seed_and_the_dtype():
    """The header lists the seeds space-separated and the run's dtype; the legend counts the
    runs per row from the seeds."""
    from liftnet.compare.report import header, legend

    cfg = {"seeds": (0, 3, 7), "threads": 2, "dtype": "float32", "budget": {"teacher": 0.2}}
    assert header(cfg, "full") == ("liftnet compare: mode=full, seeds=0 3 7, threads=2, "
                                   "dtype=float32, target rtol=0.001")
    assert "(3 runs per row, one per seed" in legend(cfg)
    assert "(1 run per row, one per seed" in legend({**cfg, "seeds": (5,)})


def test_deterministic_view_of_equal_tables_is_equal_with_nan_cells():
    """Two tables made apart from equal records (NaN kkt of the baselines: distinct NaN
    objects) give equal views, NaN shown as None; the lambda path rows stopped by the clock
    are left out, the others kept."""
    from liftnet.compare.report import deterministic_view, table_rows

    def report():
        runs = _runs({"alm": [{"kkt": 0.01}], "sgd": [{}]})
        path = [{"lam": 0.1, "method": "sgd", "status": "max_iter", "Phi": 1.0,
                 "sparsity": 0.5, "test_score": float("nan")},
                {"lam": 0.01, "method": "sgd", "status": "time_limit", "Phi": 0.5,
                 "sparsity": 0.2, "test_score": 0.3}]
        return {"rows": table_rows(runs, ["teacher"], ("alm", "sgd")), "path_rows": path}

    a, b = deterministic_view(report()), deterministic_view(report())
    assert a == b
    main, path = a
    assert [k[2] for k in main] == ["alm", "sgd"]  # the converge rows
    assert main[1][-2] is None  # sgd's kkt: NaN -> None
    assert path == [(0.1, "sgd", "max_iter", 1.0, 0.5, None)]


def test_remove_outputs_removes_a_dangling_link_of_an_output_name(tmp_path):
    """A link named like an output (here dangling) is removed, not followed by the write that
    comes after (which would create its target elsewhere)."""
    from liftnet.compare.report import remove_outputs

    target = tmp_path / "elsewhere.txt"
    os.symlink(target, tmp_path / "table.txt")
    assert remove_outputs(str(tmp_path)) == [str(tmp_path / "table.txt")]
    assert not os.path.lexists(tmp_path / "table.txt")


def test_report_json_says_the_runs_dtype(tmp_path):
    """report.json's top-level dtype is the configuration's (float32 here), not float64."""
    from liftnet.compare.report import table_rows, write

    rows = table_rows(_runs({"alm": [{}]}), ["teacher"], ("alm",))
    cfg = {"seeds": (0,), "threads": 1, "dtype": "float32"}
    write(str(tmp_path), rows, [], "table", cfg, "fast", lambda_path=False)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["dtype"] == data["config"]["dtype"] == "float32"


_CFG = {**MODES["fast"], "lr_by_dataset": {"teacher": {"sgd": 0.07, "prox_gradient": 0.9}},
        "budget": {"teacher": 0.25}, "converge_cap": {"teacher": 7.0}}


def _spy(seen):
    def solver(prob, **kw):
        seen.append(kw)
        return types.SimpleNamespace(status="max_iter")
    return solver


def test_run_passes_each_budget_its_bounds(monkeypatch):
    """budget="time": the time budget as limit and unbounded iterations; budget="converge":
    the mode's iteration counts (ALM outer iterations and inner cap, proximal gradient's
    iterations, epochs and batch of the stochastic ones), the converge cap as a safety net."""
    from liftnet.compare import runs

    seen = []
    monkeypatch.setattr(runs, "run_alm", lambda prob, **kw: _spy(seen)(prob, **kw))
    monkeypatch.setitem(runs.BASELINES, "prox_gradient", _spy(seen))
    monkeypatch.setitem(runs.BASELINES, "sgd", _spy(seen))
    for m in ("alm", "prox_gradient", "sgd"):
        for budget in ("time", "converge"):
            runs.run(m, None, _CFG, 4, budget, "teacher")
    alm_t, alm_c, pg_t, pg_c, sgd_t, sgd_c = seen
    assert [kw["time_limit"] for kw in seen] == [0.25, 7.0] * 3
    assert alm_t["max_iter"] >= 10**6 and alm_c["max_iter"] == _CFG["alm_iter"]
    assert alm_c["max_inner"] == alm_t["max_inner"] == _CFG["alm_inner"]
    assert pg_c["max_epochs"] == _CFG["pg_iters"] and pg_t["max_epochs"] >= 10**9
    assert pg_c["lr"] == 0.9 and pg_c["tol"] == _CFG["tol"]
    assert sgd_c["max_epochs"] == _CFG["epochs"] and sgd_t["max_epochs"] >= 10**9
    assert sgd_c["lr"] == 0.07 and sgd_c["batch_size"] == sgd_t["batch_size"] == 64
    assert all(kw["seed"] == 4 for kw in seen)


def test_teacher_test_set_is_the_half_after_the_training_samples():
    """The teacher's held-out set: N // 2 samples, none of them a training sample, each with
    its own target: on both sets the targets are the teacher network's outputs of the 10
    relevant inputs up to the noise (0.05), far below the targets' spread. (The original
    checked the held-out inputs alone: held-out targets taken from the training samples,
    ``Yte = Y[:N // 2]``, passed.)"""
    cfg = MODES["fast"]
    prob, Xte, Yte, _ = make_problem("teacher", cfg)
    N = cfg["sizes"]["teacher"][0]
    assert prob.N == N and Xte.shape[0] == Yte.shape[0] == N // 2
    train = {tuple(x) for x in np.asarray(prob.X)}
    assert not any(tuple(x) in train for x in np.asarray(Xte))
    # the teacher's weights (they depend on the seed and widths, not on N)
    _, _, W, _ = datasets.make_teacher(N + N // 2, widths=(10, 8, 3), alpha=cfg["alpha"],
                                      noise=0.05, seed=0)

    def teacher(X):
        A = np.asarray(X, dtype=np.float64)[:, :10].T
        for l, Wl in enumerate(W):
            A = Wl @ A
            if l < len(W) - 1:
                A = np.maximum(A, cfg["alpha"] * A)
        return A.T

    for X, Y in ((prob.X, prob.Y), (Xte, Yte)):
        resid = np.std(np.asarray(Y) - teacher(X))
        assert 0.03 < resid < 0.08, resid  # the noise, 0.05
        assert np.std(Y) > 1.0


def test_record_flags_only_a_time_limit_estimate_as_expired():
    """kkt_net_expired for a multiplier estimate stopped by its time limit only: not for one
    stopped by its iteration cap, nor where kkt_residuals reports no estimate."""
    from liftnet.compare.runs import record
    from liftnet.solvers.baselines._common import make_result
    from liftnet.solvers.clock import PausableClock

    prob, Xte, Yte, metric = make_problem("teacher", MODES["fast"])
    W = [np.full(s, 0.1) for s in prob.W_shapes]
    res = make_result(prob, "prox_gradient", W, None, PausableClock(paused=True),
                      status="max_iter", message="", nit=0, history=[])
    for estimate, expired in (({"status": "max_iter"}, False), (None, False),
                              ({"status": "time_limit"}, True)):
        def kkt(*a, estimate=estimate, **k):
            return {"residual": 0.3, "estimate": estimate} if "time_limit" in k \
                else {"residual": 0.2}
        rec = record("alm", res, prob, Xte, Yte, metric, kkt, at_net=True)
        assert rec["kkt_net"] == 0.3 and rec["kkt_net_expired"] is expired


def _fake_dataset(monkeypatch, phis, seen=None, lr="tuned"):
    """_run_dataset's collaborators replaced: run returns phis[(budget, m)][seed index], record
    a Phi falling linearly from 10 at t=0 to the final Phi at t=10 (``seen``: the at_net
    flags)."""
    import liftnet.compare as C

    monkeypatch.setattr(C, "make_problem", lambda ds, cfg: (
        types.SimpleNamespace(dtype=np.float64), None, None, "mse"))
    monkeypatch.setattr(C, "tune_lr", lambda *a: lr)
    monkeypatch.setattr(C, "warm_up", lambda *a, **k: None)
    monkeypatch.setattr(C, "run", lambda m, prob, cfg, seed, budget, ds: types.SimpleNamespace(
        Phi=phis[(budget, m)][cfg["seeds"].index(seed)], time=10.0, status="max_iter",
        budget=budget, seed=seed))

    def record(m, res, *a, at_net=False, **k):
        if seen is not None:
            seen.append((m, res.budget, res.seed, at_net))
        return {"Phi": res.Phi,
                "traj": np.column_stack([np.arange(11.0), np.linspace(10.0, res.Phi, 11)])}

    monkeypatch.setattr(C, "record", record)
    return C


def test_kkt_net_only_for_the_alms_first_seed_converge_run(monkeypatch):
    """at_net is passed for the converge runs of the first seed on a data set of the mode's
    kkt_net, and for no other run; the tuned steps are stored per data set."""
    phis = {(b, m): [1.0, 1.0] for b in ("time", "converge") for m in ("alm", "sgd")}
    seen = []
    C = _fake_dataset(monkeypatch, phis, seen)
    cfg = {"seeds": (5, 2), "kkt_net": ("teacher",)}
    C._run_dataset("teacher", cfg, ("alm", "sgd"), {}, None, lambda *a: None)
    assert {(m, b, s) for m, b, s, net in seen if net} == {("alm", "converge", 5),
                                                          ("sgd", "converge", 5)}
    assert len(seen) == 8 and cfg["lr_by_dataset"] == {"teacher": "tuned"}
    seen.clear()
    C._run_dataset("teacher", {"seeds": (5, 2), "kkt_net": ("digits",)}, ("alm",), {}, None,
                   lambda *a: None)
    assert not any(net for *_, net in seen)


def test_target_without_baselines_is_the_alms_own_converge_phi(monkeypatch):
    """methods=("alm",): the target per seed is the ALM's final converge Phi, which its
    converge run reaches at its end (not "never")."""
    phis = {("converge", "alm"): [2.0, 3.0], ("time", "alm"): [4.0, 1.0]}
    C = _fake_dataset(monkeypatch, phis)
    runs = {}
    C._run_dataset("teacher", {"seeds": (0, 1), "kkt_net": ()}, ("alm",), runs, None,
                   lambda *a: None)
    assert [r["target"] for r in runs[("teacher", "converge", "alm")]] == [2.0, 3.0]
    assert [r["t_target"] for r in runs[("teacher", "converge", "alm")]] == [10.0, 10.0]
    # the time runs: 4.0 never reaches 2.0; 10 - 0.9 t <= 3.003 from t = 8 on
    assert [r["t_target"] for r in runs[("teacher", "time", "alm")]] == [np.inf, 8.0]


def test_target_leaves_out_the_alm_in_any_method_order(monkeypatch):
    """The ALM listed second: the target is still the best baseline's (2.5, 2.0), not the
    ALM's 1.0, nor one that leaves the first baseline out."""
    phis = {("converge", "alm"): [1.0, 1.0], ("converge", "sgd"): [3.0, 2.0],
            ("converge", "adam"): [2.5, 5.0]}
    phis.update({("time", m): [1.5, 1.5] for m in ("alm", "sgd", "adam")})
    C = _fake_dataset(monkeypatch, phis)
    runs = {}
    C._run_dataset("teacher", {"seeds": (0, 1), "kkt_net": ()}, ("sgd", "alm", "adam"), runs,
                   None, lambda *a: None)
    for recs in runs.values():
        assert [r["target"] for r in recs] == [2.5, 2.0]


def test_threads_never_asks_numba_for_more_than_it_has(monkeypatch):
    """_threads(n) with n above numba's thread count (full mode's 2 threads on a one-core
    machine) caps numba's at its count instead of failing."""
    import numba

    from liftnet.compare import _threads

    calls = []
    monkeypatch.setattr(numba, "set_num_threads", calls.append)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    with _threads(3):
        pass
    assert calls == [1, 1]


def test_ctrl_c_in_the_plots_counts_the_lambda_path_figure(monkeypatch, tmp_path):
    """_draw_plots with two data sets and the lambda path: a Ctrl-C in the second figure
    reports "1 of 3 plots drawn" (the path's figure counted)."""
    import liftnet.compare as C

    calls = []

    def plots(out_dir, runs, path_rows, datasets_, methods, seed, lambda_path):
        calls.append(datasets_)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return [str(tmp_path / f"phi_vs_time_{datasets_[0]}.png")]

    monkeypatch.setattr(C, "plots", plots)
    files, unplotted = C._draw_plots(str(tmp_path), {}, [], ["teacher", "digits"], ("alm",), 0,
                                     True)
    assert unplotted == "1 of 3 plots drawn" and len(files) == 1


def test_ctrl_c_in_the_plots_alone_says_so_once(monkeypatch, tmp_path):
    """Every run finished, then a Ctrl-C in the plots: the table says it was interrupted while
    drawing the plots, and nothing about rows of finished data sets; the returned config keeps
    the dtype."""
    import liftnet.compare as C

    def run_dataset(ds, cfg, methods, runs, kkt, log):
        for b in ("time", "converge"):
            runs[(ds, b, "alm")] = [{c: 1.0 for c in ("Phi", "sparsity", "sparsity_small",
                                                      "train_score", "test_score", "kkt",
                                                      "kkt_net", "time", "t_target")}
                                    | {"status": "max_iter", "metric": "mse",
                                       "kkt_net_expired": False}]

    monkeypatch.setattr(C, "_run_dataset", run_dataset)
    monkeypatch.setattr(C, "kkt_checker", lambda: None)
    monkeypatch.setattr(C, "_threads", lambda n: contextlib.nullcontext())
    monkeypatch.setattr(C, "_draw_plots", lambda *a: ([], "0 of 1 plots drawn"))
    rep = C.run_comparison("fast", datasets=["teacher"], methods=["alm"], seeds=[0],
                           out_dir=tmp_path, lambda_path=False, dtype="float32")
    assert rep["interrupted"] == "while drawing the plots"
    assert "(interrupted while drawing the plots: 0 of 1 plots drawn)" in rep["table"]
    assert "the rows above are the finished data sets" not in rep["table"]
    assert rep["config"]["dtype"] == "float32"


def test_path_rows_warm_started_from_a_clock_stop_are_left_out():
    """A path point starts from its method's previous result, so from a point stopped by the
    clock on, the method's later rows depend on the machine too (only that row was left out
    of the view promised equal for equal seeds)."""
    from liftnet.compare.report import deterministic_view

    def row(lam, method, status):
        return {"lam": lam, "method": method, "status": status, "Phi": 1.0, "sparsity": 0.5,
                "test_score": 0.3}

    path = [row(0.03, "alm", "max_iter"), row(0.01, "alm", "time_limit"),
            row(0.003, "alm", "max_iter"),  # warm-started from the clock's point
            row(0.03, "sgd", "max_iter"), row(0.01, "sgd", "max_iter")]  # its own chain
    _, view = deterministic_view({"rows": [], "path_rows": path})
    assert [(k[0], k[1]) for k in view] == [(0.03, "alm"), (0.03, "sgd"), (0.01, "sgd")]


def test_a_converge_run_whose_presolve_hit_the_clock_is_not_deterministic():
    """solve_alm's presolve (on from N = 2000: the full mode's teacher and mnist_like) gets a
    share of time_limit; when it expires the solve can still end converged, but its point
    depends on the clock (teacher N = 2000, tol 1e-3: time_limit 0.08 s gave Phi 0.174001,
    0.15 s 0.173673, both converged): the row was flagged deterministic."""
    from liftnet.compare.report import table_rows
    from liftnet.compare.runs import record
    from liftnet.solvers.baselines._common import make_result
    from liftnet.solvers.clock import PausableClock

    prob, Xte, Yte, metric = make_problem("teacher", MODES["fast"])
    W = [np.full(s, 0.1) for s in prob.W_shapes]
    res = make_result(prob, "alm", W, None, PausableClock(paused=True), status="converged",
                      message="", nit=0, history=[])
    res["start"] = None
    res["presolve"] = {"status": "time_limit", "n_samples": 13, "nit": 2, "time": 0.1,
                       "Phi": 1.0}
    rec = record("alm", res, prob, Xte, Yte, metric, lambda *a, **k: {"residual": 0.2})
    rec["t_target"] = 1.0
    runs = {("teacher", b, "alm"): [rec] for b in ("time", "converge")}
    (row,) = [r for r in table_rows(runs, ["teacher"], ("alm",)) if r["budget"] == "converge"]
    assert row["status"] == "converged" and row["deterministic"] is False
    res["presolve"]["status"] = "converged"  # a presolve that ended by itself: deterministic
    rec = record("alm", res, prob, Xte, Yte, metric, lambda *a, **k: {"residual": 0.2})
    rec["t_target"] = 1.0
    runs = {("teacher", b, "alm"): [rec] for b in ("time", "converge")}
    (row,) = [r for r in table_rows(runs, ["teacher"], ("alm",)) if r["budget"] == "converge"]
    assert row["deterministic"] is True


# The reproducible part's line when no converge row qualifies (mutation review of 5c1c13e):
# it names the rule (a converge row with a run stopped by the clock), not "every run".
CFG = {"seeds": (0,), "threads": 1, "budget": {"teacher": 0.2}}


def test_empty_reproducible_part_says_which_rows_are_left_out():
    from liftnet.compare.report import format_report, reproducible_part, table_rows

    # the converge row: one run stopped by the clock, one converged (not "every run")
    runs = {("teacher", b, "alm"): [_record(status="time_limit"), _record(status="converged")]
            for b in ("time", "converge")}
    rows = table_rows(runs, ["teacher"], ("alm",))
    assert not any(r["deterministic"] for r in rows)
    part = reproducible_part(format_report(rows, CFG, "fast"))
    assert "(no row: each converge row has a run stopped by the clock)" in part

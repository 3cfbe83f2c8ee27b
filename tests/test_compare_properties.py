"""The comparison's bookkeeping, property by property: a review by mutation (session 48)
changed one line at a time of ``liftnet/compare/`` and 17 changes with a visible effect passed
every test (a row's status from one seed only, a clock-stopped row in the reproducible part,
an absolute instead of a relative target slack, the target of another seed or of the ALM,
the lambda path on the last seed, ...). Each test below fails on at least one of them."""
import types

import numpy as np
import pytest

from liftnet.compare import MODES, make_problem, time_to

CFG = {"seeds": (0, 1), "threads": 1, "budget": {"teacher": 0.2}}
REPRO_HEADER = ["dataset", "budget", "method", "Phi", "Phi_ratio", "sparsity", "sparsity_small",
                "metric", "train_score", "test_score", "kkt", "kkt_net", "status"]


def _record(t_target):  # (as in tests/test_compare.py)
    rec = {c: 1.0 for c in ("Phi", "sparsity", "sparsity_small", "train_score", "test_score")}
    return {**rec, "kkt": np.nan, "kkt_net": np.nan, "time": 1.0, "t_target": t_target,
            "status": "max_iter", "metric": "mse", "kkt_net_expired": False}


def _runs(spec):
    """{method: [per-seed overrides of _record]} -> runs of both budgets (fresh dicts)."""
    return {("teacher", b, m): [{**_record(1.0), **o} for o in recs]
            for b in ("time", "converge") for m, recs in spec.items()}


def _repro_cells(rows):
    """The reproducible part's converge rows as {method: {column: cell text}}."""
    from liftnet.compare.report import format_report, reproducible_part

    part = reproducible_part(format_report(rows, CFG, "fast"))
    lines = [line.split() for line in part.splitlines() if line.startswith(" ")]
    header = next(cells for cells in lines if cells[:1] == ["dataset"])
    assert header == REPRO_HEADER  # Phi_ratio included, no other timing column
    return {c[2]: dict(zip(header, c, strict=True)) for c in lines
            if c[:2] == ["teacher", "converge"]}


def test_status_joins_every_seed_and_one_clock_stop_makes_the_row_machine_dependent():
    """Two seeds: status lists both statuses (sorted), and one seed stopped by the clock makes
    the row non-deterministic: catches the status of one seed only and all() -> any()."""
    from liftnet.compare.report import table_rows

    rows = table_rows(_runs({"alm": [{}, {}],
                             "sgd": [{"status": "time_limit"}, {"status": "converged"}]}),
                      ["teacher"], ("alm", "sgd"))
    r = {(x["budget"], x["method"]): x for x in rows}
    assert r[("converge", "sgd")]["status"] == "converged/time_limit"
    assert r[("converge", "sgd")]["deterministic"] is False
    assert r[("converge", "alm")]["deterministic"] is True
    assert "sgd" not in _repro_cells(rows)


def test_kkt_net_of_an_expired_estimate_is_marked_where_it_is_and_nowhere_else():
    """The first seed's kkt_net estimate of the ALM stopped by its time limit: the row is
    flagged (any seed), its kkt_net cell (not kkt) is '~' in the reproducible part and in
    deterministic_view; the other row's value is kept. Catches any -> all, the mark on the
    wrong column, the view's condition inverted, and Phi_ratio dropped from the part."""
    from liftnet.compare.report import deterministic_view, table_rows

    rows = table_rows(_runs({"alm": [{"kkt": 0.01, "kkt_net": 0.1, "kkt_net_expired": True},
                                     {"kkt": 0.01, "kkt_net": np.nan}],
                             "sgd": [{"kkt_net": 0.2}, {"kkt_net": 0.2}]}),
                      ["teacher"], ("alm", "sgd"))
    conv = {r["method"]: r for r in rows if r["budget"] == "converge"}
    assert conv["alm"]["kkt_net_expired"] and not conv["sgd"]["kkt_net_expired"]
    cells = _repro_cells(rows)
    assert cells["alm"]["kkt_net"] == "~" and cells["alm"]["kkt"] == "0.01"
    assert cells["sgd"]["kkt_net"] == "0.2" and cells["sgd"]["Phi_ratio"] == "1"
    main, _ = deterministic_view({"rows": rows, "path_rows": []})
    assert {k[2]: k[-1] for k in main} == {"alm": "~", "sgd": 0.2}


def test_phi_ratio_is_marked_against_a_clocked_alm_and_nan_without_an_alm():
    """Phi_ratio in the reproducible part: '~' where the ALM's converge row was stopped by the
    clock (one seed), the number where it was not, and nan (unmarked) with no ALM at all:
    catches `is False` -> `is True`/`not`, and a ratio of 1 without an ALM."""
    from liftnet.compare.report import table_rows

    alm = [{"Phi": 4.0}, {"Phi": 4.0}]
    sgd = [{"Phi": 2.0}, {"Phi": 2.0}]
    clocked = [{"Phi": 4.0}, {"Phi": 4.0, "status": "time_limit"}]
    assert _repro_cells(table_rows(_runs({"alm": clocked, "sgd": sgd}), ["teacher"],
                                   ("alm", "sgd")))["sgd"]["Phi_ratio"] == "~"
    assert _repro_cells(table_rows(_runs({"alm": alm, "sgd": sgd}), ["teacher"],
                                   ("alm", "sgd")))["sgd"]["Phi_ratio"] == "0.5"
    rows = table_rows(_runs({"sgd": sgd}), ["teacher"], ("sgd",))
    assert all(np.isnan(r["Phi_ratio"]) for r in rows)
    assert _repro_cells(rows)["sgd"]["Phi_ratio"] == "nan"


def test_time_to_target_slack_is_relative():
    """Phi <= target (1 + 1e-3): 10.005 reaches 10 (an absolute 1e-3 would not), 0.0101 does
    not reach 0.01 (an absolute 1e-3 would)."""
    assert time_to(np.array([[0.0, 50.0], [1.0, 10.005], [2.0, 9.0]]), 10.0) == 1.0
    assert time_to(np.array([[0.0, 0.5], [1.0, 0.0101], [2.0, 0.005]]), 0.01) == 2.0


def test_target_is_per_seed_the_best_baselines_final_converge_phi(monkeypatch):
    """_run_dataset on fake runs (Phi falling linearly from 10 at t=0 to the final Phi at t=10):
    per seed the target is the smallest final Phi of the baselines' converge runs (not the
    ALM's 1.0, not the time budget's 1.5, not seed 0's for every seed, not the largest), and
    the best baseline reaches it at its final point, the other never."""
    import liftnet.compare as C

    phis = {("converge", "alm"): [1.0, 1.0], ("converge", "sgd"): [3.0, 2.0],
            ("converge", "adam"): [2.5, 5.0], ("time", "alm"): [0.5, 0.5],
            ("time", "sgd"): [1.5, 1.5], ("time", "adam"): [1.5, 1.5]}
    cfg = {"seeds": (0, 1), "kkt_net": ()}
    monkeypatch.setattr(C, "make_problem", lambda ds, cfg: (
        types.SimpleNamespace(dtype=np.float64), None, None, "mse"))
    monkeypatch.setattr(C, "tune_lr", lambda *a: {})
    monkeypatch.setattr(C, "warm_up", lambda *a, **k: None)
    monkeypatch.setattr(C, "run", lambda m, prob, cfg, seed, budget, ds: types.SimpleNamespace(
        Phi=phis[(budget, m)][cfg["seeds"].index(seed)], time=10.0, status="max_iter"))
    monkeypatch.setattr(C, "record", lambda m, res, *a, **k: {
        "Phi": res.Phi,
        "traj": np.column_stack([np.arange(11.0), np.linspace(10.0, res.Phi, 11)])})
    runs = {}
    C._run_dataset("teacher", cfg, ("alm", "sgd", "adam"), runs, None, lambda *a: None)
    for recs in runs.values():
        assert [r["target"] for r in recs] == [2.5, 2.0]
    assert [r["t_target"] for r in runs[("teacher", "converge", "adam")]] == [10.0, np.inf]
    assert [r["t_target"] for r in runs[("teacher", "converge", "sgd")]] == [np.inf, 10.0]


def test_record_flags_a_kkt_net_estimate_stopped_by_its_time_limit():
    """kkt_net_expired is True exactly when the multiplier estimate's status is time_limit."""
    from liftnet.compare.runs import record
    from liftnet.solvers.baselines._common import make_result
    from liftnet.solvers.clock import PausableClock

    prob, Xte, Yte, metric = make_problem("teacher", MODES["fast"])
    W = [np.full(s, 0.1) for s in prob.W_shapes]
    res = make_result(prob, "prox_gradient", W, None, PausableClock(paused=True),
                      status="max_iter", message="", nit=0, history=[])
    for status, expired in (("time_limit", True), ("converged", False)):
        def kkt(*a, status=status, **k):
            return {"residual": 0.3, "estimate": {"status": status}} if "time_limit" in k \
                else {"residual": 0.2}
        rec = record("alm", res, prob, Xte, Yte, metric, kkt, at_net=True)
        assert rec["kkt"] == 0.2 and rec["kkt_net"] == 0.3
        assert rec["kkt_net_expired"] is expired


def test_lambda_path_runs_the_first_seed_and_keeps_every_score_column(monkeypatch):
    """run_lambda_path: every solve with the mode's first seed, and each row carries the
    record's score columns (the ALM's kkt included)."""
    from liftnet.compare import runs as R

    seen = []
    prob0 = types.SimpleNamespace(with_lam=lambda lam: types.SimpleNamespace(lam=lam))
    monkeypatch.setattr(R, "make_problem", lambda ds, cfg: (prob0, None, None, "mse"))
    monkeypatch.setattr(R, "tune_lr", lambda *a: {})

    def path(problems, solve, seed):
        for p in problems:
            seen.append(seed)
            yield p, solve(p, None)

    monkeypatch.setattr(R, "warm_started_path", path)
    monkeypatch.setattr(R, "run", lambda m, prob, cfg, seed, budget, ds, init=None: (
        seen.append(seed) or types.SimpleNamespace(status="max_iter", Phi=1.0, sparsity=0.5)))
    scores = {"Phi": 1.0, "sparsity": 0.5, "sparsity_small": 0.6, "train_score": 0.7,
              "test_score": 0.8, "kkt": 0.9, "time": 2.0}
    monkeypatch.setattr(R, "record", lambda *a, **k: dict(scores))
    cfg = {"path_dataset": "teacher", "seeds": (3, 5), "lam_path": (1e-2, 3e-2)}
    rows = R.run_lambda_path(cfg, ("alm",), None, lambda *a: None)
    assert seen and set(seen) == {3}
    assert [r["lam"] for r in rows] == [3e-2, 1e-2]
    for r in rows:
        assert {c: r[c] for c in scores} == scores


@pytest.mark.parametrize("kw, name", [
    ({"seeds": {1: 2}}, "seeds"), ({"seeds": {0, 1}}, "seeds"),
    ({"methods": {"alm", "adam"}}, "methods"), ({"datasets": {"teacher": 1}}, "datasets"),
])  # fmt: skip
def test_unordered_collections_are_refused_by_name(kw, name):
    """A dict's keys were taken as the seeds and the whole comparison ran; a set of method
    names orders the table's rows differently from one interpreter to the next."""
    from liftnet.compare import run_comparison

    with pytest.raises(TypeError, match=rf"^{name} must be a sequence \(a list or tuple"):
        run_comparison(**kw)


def test_main_refuses_one_string_for_argv():
    """``main("fast")`` was split into its characters ("unrecognized arguments: f a s t")."""
    from liftnet import cli
    from liftnet.compare import main

    for m in (main, cli.main):
        with pytest.raises(TypeError, match=r"^argv must be a list of arguments \(e\.g\. "
                                            r"\['--mode', 'fast'\]\), got one str"):
            m("--mode fast")


def test_a_folder_in_the_place_of_an_output_file_is_refused_before_the_runs(tmp_path,
                                                                               monkeypatch):
    """``out_dir/table.txt`` a folder: the whole comparison ran, then the write failed with
    a traceback (IsADirectoryError); refused up front, no run made."""
    import liftnet.compare as compare

    monkeypatch.setattr(compare, "_run_dataset", lambda *a, **k: pytest.fail("a run started"))
    (tmp_path / "report.json").mkdir()
    with pytest.raises(ValueError, match=r"^out_dir: .*report\.json' is a folder where the "
                                         r"comparison writes its file 'report\.json'"):
        compare.run_comparison(out_dir=str(tmp_path), datasets=["teacher"], methods=["alm"],
                               seeds=[0], lambda_path=False)

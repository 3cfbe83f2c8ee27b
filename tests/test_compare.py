"""The comparison harness: end to end in fast mode, files, determinism, arguments."""

import json

import numpy as np
import pytest

from liftnet.compare import (
    DATASETS,
    METHODS,
    MODES,
    deterministic_view,
    main,
    make_problem,
    run_comparison,
    time_to,
)


def test_time_to_target_is_the_first_crossing():
    traj = np.array([[0.0, 5.0], [1.0, 2.0], [2.0, 1.0005], [3.0, 0.9]])
    assert time_to(traj, 1.0) == 2.0  # within the relative slack 1e-3
    assert time_to(traj, 0.5) == float("inf")


@pytest.mark.parametrize("dataset", DATASETS)
def test_problems_have_the_advertised_shapes(dataset):
    prob, Xte, Yte, metric = make_problem(dataset, MODES["fast"])
    assert Xte.shape[1] == prob.widths[0] and Yte.shape[1] == prob.widths[-1]
    assert prob.lam == MODES["fast"]["lam"]
    if dataset == "mnist_like":
        assert prob.widths[0] == 784 and prob.widths[-1] == 10 and metric == "accuracy"
    if dataset == "teacher":
        assert metric == "mse" and prob.widths[0] == 20


@pytest.mark.slow
def test_fast_mode_end_to_end_writes_table_and_plots(tmp_path):
    rep = run_comparison("fast", seeds=(0,), out_dir=tmp_path)
    rows = rep["rows"]
    assert len(rows) == len(DATASETS) * 2 * len(METHODS)
    for f in rep["files"]:
        assert (tmp_path / f.split("/")[-1]).stat().st_size > 0
    pngs = [f for f in rep["files"] if f.endswith(".png")]
    assert len(pngs) == len(DATASETS) + 1
    for f in pngs:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "table.txt").read_text()
    for name in (*DATASETS, *METHODS):
        assert name in text
    for ds in DATASETS:
        conv = {r["method"]: r for r in rows if r["dataset"] == ds and r["budget"] == "converge"}
        assert conv["alm"]["Phi_ratio"] == 1.0 and np.isfinite(conv["alm"]["kkt"])
        # the target is the best baseline's final Phi: that baseline reaches it, in finite time
        best = min((m for m in conv if m != "alm"), key=lambda m: conv[m]["Phi"])
        assert np.isfinite(conv[best]["t_target"])
        assert all(np.isnan(conv[m]["kkt"]) for m in conv if m != "alm")
    assert {r["method"] for r in rep["path_rows"]} == set(METHODS)
    assert len(rep["path_rows"]) == len(METHODS) * len(MODES["fast"]["lam_path"])


@pytest.mark.slow
def test_identical_seeds_give_identical_tables(tmp_path):
    kw = {"datasets": ("teacher",), "lambda_path": True}
    a = deterministic_view(run_comparison("fast", seeds=(0,), out_dir=tmp_path / "a", **kw))
    b = deterministic_view(run_comparison("fast", seeds=(0,), out_dir=tmp_path / "b", **kw))
    assert len(a[0]) >= len(METHODS) - 1 and len(a[1]) >= 2 * (len(METHODS) - 1)
    assert a == b
    c = deterministic_view(run_comparison("fast", seeds=(1,), out_dir=tmp_path / "c", **kw))
    assert c != a  # the view does depend on the seed


def _strict_json(path):
    """``path`` parsed as strict JSON: NaN, Infinity and -Infinity are refused."""

    def refuse(name):
        raise ValueError(f"{path} holds {name}, which strict JSON has not")

    with open(path) as fh:
        return json.load(fh, parse_constant=refuse)


@pytest.mark.slow
def test_report_json_is_strict_json(tmp_path):
    """NaN (the baselines' KKT residuals) and inf (a target never reached) are written as
    null, as in ``run.json`` of ``liftnet solve``."""
    rep = run_comparison("fast", datasets=("teacher",), seeds=(0,), out_dir=tmp_path,
                         lambda_path=False)  # fmt: skip
    data = _strict_json(tmp_path / "report.json")
    assert data["mode"] == "fast" and len(data["rows"]) == len(rep["rows"]) == 2 * len(METHODS)
    for row, mem in zip(data["rows"], rep["rows"], strict=True):
        assert row["method"] == mem["method"]
        for key, v in mem.items():
            if isinstance(v, float) and not np.isfinite(v):
                assert row[key] is None, key
            elif isinstance(v, float):
                assert row[key] == v, key
    assert any(r["kkt"] is None for r in data["rows"])  # there was something to convert


def _record(t_target):
    rec = {c: 1.0 for c in ("Phi", "sparsity", "sparsity_small", "train_score", "test_score")}
    return {**rec, "kkt": np.nan, "kkt_net": np.nan, "time": 1.0, "t_target": t_target,
            "status": "max_iter"}  # fmt: skip


def test_t_target_ratio_is_undefined_when_the_alm_never_reached_the_target(tmp_path):
    """The ratio is a method's time to the target over the ALM's: where the ALM never reached
    it, the ratio is NaN (null in report.json), not 0 ("0x the ALM's time")."""
    from liftnet.compare.report import format_table, table_rows, write

    methods = ("alm", "sgd", "adam")
    t = {"time": (np.inf, 2.0, np.inf), "converge": (0.5, 1.0, np.inf)}
    runs = {("teacher", b, m): [_record(t[b][i])] for b in t for i, m in enumerate(methods)}
    rows = table_rows(runs, ["teacher"], methods)
    ratio = {(r["budget"], r["method"]): r["t_target_ratio"] for r in rows}
    assert all(np.isnan(ratio[("time", m)]) for m in methods)
    assert [ratio[("converge", m)] for m in methods] == [1.0, 2.0, np.inf]
    table = format_table(rows)
    time_rows = [line.split() for line in table.splitlines()[1:] if " time " in line]
    col = table.splitlines()[0].split().index("t_target_ratio")
    assert [r[col] for r in time_rows] == ["nan"] * 3
    cfg = {"seeds": (0,), "threads": 1}
    write(tmp_path, rows, [], table, cfg, "fast")
    data = _strict_json(tmp_path / "report.json")
    assert [r["t_target_ratio"] for r in data["rows"]] == [None] * 3 + [1.0, 2.0, None]


def test_main_prints_the_table_and_writes_files(tmp_path, capsys):
    rc = main(
        [
            "--mode",
            "fast",
            "--datasets",
            "teacher",
            "--methods",
            "prox_gradient",
            "sgd",
            "--seeds",
            "0",
            "--no-path",
            "--quiet",
            "--out-dir",
            str(tmp_path),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "prox_gradient" in out and "Phi_ratio" in out
    assert (tmp_path / "table.csv").read_text().count("\n") == 1 + 2 * 2


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"mode": "medium"}, ValueError, "mode must be one of"),
        ({"mode": ["fast"]}, ValueError, "mode must be one of"),
        ({"mode": None}, ValueError, "mode must be one of"),
        ({"datasets": ("cifar",)}, ValueError, "datasets must be a non-empty sequence"),
        ({"datasets": "teacher"}, ValueError, "datasets must be a non-empty sequence"),
        ({"datasets": ()}, ValueError, "datasets must be a non-empty sequence"),
        ({"datasets": None}, TypeError, "datasets must be a non-empty sequence"),
        ({"datasets": [["teacher"]]}, ValueError, "datasets must be a non-empty sequence"),
        ({"methods": ("lbfgs",)}, ValueError, "methods must be a non-empty sequence"),
        ({"methods": None}, TypeError, "methods must be a non-empty sequence"),
        ({"methods": 3}, TypeError, "methods must be a non-empty sequence"),
        ({"seeds": (0.5,)}, TypeError, r"seeds\[0\] must be an integer"),
        ({"seeds": (0, True)}, TypeError, r"seeds\[1\] must be an integer"),
        ({"seeds": (-1,)}, ValueError, r"seeds\[0\] must be >= 0"),
        ({"seeds": ()}, ValueError, "seeds must be None or a non-empty sequence"),
        ({"seeds": 5}, TypeError, "seeds must be None or a non-empty sequence"),
        ({"out_dir": None}, TypeError, "out_dir must be a str or os.PathLike"),
        ({"verbose": "no"}, TypeError, "verbose must be True or False"),
        ({"lambda_path": 1}, TypeError, "lambda_path must be True or False"),
        # a repeated seed counted one run twice in the medians; repeated names repeated rows
        ({"seeds": (0, 0)}, ValueError, r"seeds must not repeat a value, got \[0, 0\]"),
        ({"datasets": ("teacher", "teacher")}, ValueError, "datasets must not repeat"),
        ({"methods": ("alm", "sgd", "alm")}, ValueError, "methods must not repeat.*'alm'"),
    ],
)
def test_arguments_are_validated_with_their_names(kwargs, exc, match, tmp_path, monkeypatch):
    monkeypatch.setattr("liftnet.compare.make_problem", _no_runs)
    with pytest.raises(exc, match=match):
        run_comparison(**{"mode": "fast", "out_dir": tmp_path, "datasets": ("teacher",), **kwargs})


def _no_runs(*a, **k):
    raise AssertionError("the comparison ran although an argument was bad")


def test_unusable_out_dir_is_refused_before_running(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("liftnet.compare.make_problem", _no_runs)
    (tmp_path / "file").write_text("")
    bad = tmp_path / "file" / "out"
    with pytest.raises(ValueError, match="out_dir: cannot create or write to the folder"):
        run_comparison("fast", out_dir=bad)
    with pytest.raises(SystemExit) as exc:
        main(["--out-dir", str(bad), "--datasets", "teacher", "--no-path", "--quiet"])
    assert exc.value.code == 2
    assert "--out-dir: cannot create or write to the folder" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", [["-1"], ["0", "x"]])
def test_main_refuses_bad_seeds(seeds, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("liftnet.compare.make_problem", _no_runs)
    with pytest.raises(SystemExit) as exc:
        main(["--seeds", *seeds, "--out-dir", str(tmp_path), "--datasets", "teacher", "--quiet"])
    assert exc.value.code == 2 and "argument --seeds:" in capsys.readouterr().err


@pytest.mark.parametrize("args, option", [
    (["--seeds", "0", "0", "--datasets", "teacher"], "--seeds"),
    (["--datasets", "teacher", "mnist-like", "mnist_like"], "--datasets"),
    (["--datasets", "teacher", "--methods", "alm", "alm"], "--methods"),
])  # fmt: skip
def test_main_refuses_repeated_values(args, option, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("liftnet.compare.make_problem", _no_runs)
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out-dir", str(tmp_path), "--quiet"])
    assert exc.value.code == 2 and f"{option} must not repeat a value" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", ["cifar", ["teacher"], None])
def test_make_problem_unknown_dataset(dataset):
    with pytest.raises(ValueError, match="dataset must be one of"):
        make_problem(dataset, MODES["fast"])


@pytest.mark.parametrize("how", ["status", "raised"])
def test_ctrl_c_reports_the_finished_data_sets(tmp_path, monkeypatch, capsys, how):
    """Ctrl-C stops the whole comparison (a solver returns ``interrupted``, or the
    KeyboardInterrupt hits the harness itself) and the files hold the data sets finished."""
    import json

    import liftnet.compare.runs as runs_mod

    pg = runs_mod.BASELINES["prox_gradient"]

    def ctrl_c_on_digits(prob, **kw):
        res = pg(prob, **kw)
        if prob.N == MODES["fast"]["sizes"]["digits"][0]:  # teacher first, then digits
            if how == "raised":
                raise KeyboardInterrupt
            res["status"] = "interrupted"
        return res

    monkeypatch.setitem(runs_mod.BASELINES, "prox_gradient", ctrl_c_on_digits)
    rc = main(["--mode", "fast", "--datasets", "teacher", "digits", "--methods", "alm",
               "prox_gradient", "--seeds", "0", "--out-dir", str(tmp_path), "--quiet"])  # fmt: skip
    assert rc == 130
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["interrupted"] == "during the data set 'digits'"
    assert {r["dataset"] for r in rep["rows"]} == {"teacher"} and len(rep["rows"]) == 4
    assert rep["path_rows"] == []
    assert "interrupted during the data set 'digits'" in (tmp_path / "table.txt").read_text()
    assert (tmp_path / "phi_vs_time_teacher.png").stat().st_size > 0
    assert "interrupted" in capsys.readouterr().out

"""The comparison harness: end to end in fast mode, files, determinism, arguments."""

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
    ("kwargs", "match"),
    [
        ({"mode": "medium"}, "mode"),
        ({"datasets": ("cifar",)}, "datasets"),
        ({"methods": ("lbfgs",)}, "methods"),
        ({"seeds": (0.5,)}, "seeds"),
    ],
)
def test_arguments_are_validated_with_their_names(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        run_comparison(**{"mode": "fast", "out_dir": tmp_path, **kwargs})

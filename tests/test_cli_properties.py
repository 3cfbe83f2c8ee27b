"""The CLI's data and report: properties that a mutation review (session 49) found unpinned.
Each test failed on a one-line change of ``liftnet/cli.py`` or ``cli_data.py`` that every other
test passed (the review's mutant ids are in the docstrings)."""
import json
import os

import numpy as np
import pytest

from liftnet import cli
from liftnet.cli_data import TEACHER_NOISE, TEACHER_WIDTHS, load_problem_data
from liftnet.datasets import make_teacher


def _data(*argv, mode="solve"):
    return load_problem_data(cli.build_parser().parse_args([mode, *argv]), mode)


def _csv(tmp_path, A, name="d.csv"):
    p = tmp_path / name
    np.savetxt(p, A, delimiter=",")
    return str(p)


@pytest.mark.parametrize("argv, mode", [
    ((), "demo"),                                               # C7
    ((), "solve"),                                              # C12 (--data digits)
    (("--data", "mnist-like", "--n-samples", "30"), "solve"),   # C11
    (("--file", "{csv}", "--task", "regression"), "solve"),     # C1
])
def test_the_seed_reaches_the_data(tmp_path, argv, mode):
    """C1, C7, C11, C12: --seed 0 and --seed 1 give different training sets."""
    p = _csv(tmp_path, np.random.default_rng(0).standard_normal((40, 3)))
    argv = [a.format(csv=p) for a in argv]
    a = _data(*argv, "--seed", "0", mode=mode).X_train
    b = _data(*argv, "--seed", "1", mode=mode).X_train
    assert a.shape == b.shape and not np.array_equal(a, b)


def test_file_classification_split_is_stratified(tmp_path):
    """C2: 10 classes x 2 samples, --test-size 0.5: one sample of each class on each side."""
    X = np.random.default_rng(0).standard_normal((20, 2))
    p = _csv(tmp_path, np.c_[X, np.repeat(np.arange(10), 2)])
    for seed in range(3):
        d = _data("--file", p, "--test-size", "0.5", "--seed", str(seed))
        assert d.Y_test.sum(0).tolist() == [1.0] * 10 == d.Y_train.sum(0).tolist()


def test_file_inputs_are_standardised_with_the_training_part_only(tmp_path):
    """C3: with a held-out part, the training inputs (not train+test) have mean 0, sd 1, and
    the held-out inputs are mapped by the training part's statistics (not their own: the
    original checked the training part alone, and a test part standardised by its own mean
    and sd passed)."""
    rng = np.random.default_rng(0)
    p = _csv(tmp_path, np.c_[rng.normal(5.0, 3.0, (40, 2)), rng.standard_normal(40)])
    d = _data("--file", p, "--test-size", "0.25")
    np.testing.assert_allclose(d.X_train.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(0), 1.0, rtol=1e-12)
    raw = _data("--file", p, "--test-size", "0.25", "--no-standardize")  # the same split
    mu, sd = raw.X_train.mean(0), raw.X_train.std(0)
    np.testing.assert_allclose(d.X_train, (raw.X_train - mu) / sd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.X_test, (raw.X_test - mu) / sd, rtol=1e-12, atol=1e-12)
    assert len(d.X_test) == 10
    # (the held-out part's own statistics differ: the check above can tell them apart)
    assert np.max(np.abs(raw.X_test.mean(0) - mu) / sd) > 1e-3


def test_teacher_data_is_the_documented_noisy_teacher():
    """C5: --data teacher is make_teacher(N, TEACHER_WIDTHS, noise=TEACHER_NOISE, bias=True)."""
    d = _data("--data", "teacher", "--n-samples", "60", "--test-size", "0", "--seed", "4")
    X, Y, _, _ = make_teacher(60, TEACHER_WIDTHS, noise=TEACHER_NOISE, seed=4, bias=True)
    order = np.lexsort(X.T)
    got = np.lexsort(d.X_train.T)
    np.testing.assert_array_equal(d.X_train[got], X[order])
    np.testing.assert_array_equal(d.Y_train[got], Y[order])


def test_csv_target_given_as_an_integer_string_is_a_column_index(tmp_path):
    """C9: --target 0 picks column 0 of a csv without a header."""
    A = np.random.default_rng(0).standard_normal((40, 3))
    d = _data("--file", _csv(tmp_path, A), "--target", "0", "--task", "regression",
              "--test-size", "0", "--no-standardize")
    assert d.info["target"] == 0
    np.testing.assert_array_equal(d.X_train, A[:, 1:])


def _solve_report(tmp_path, *extra, status=None, monkeypatch=None):
    """Exit status and JSON report of a short ``liftnet solve`` on the teacher (with
    ``status``: the solver's result relabelled so)."""
    if status is not None:
        real = cli._solve

        def relabelled(prob, args, init=None):
            res = real(prob, args, init)
            res.status = status
            return res
        monkeypatch.setattr(cli, "_solve", relabelled)
    out = str(tmp_path / "r")
    rc = cli.main(["solve", "--data", "teacher", "--n-samples", "40", "--hidden", "3",
                   "--max-iter", "2", "--quiet", "--out", out, *extra])
    with open(out + ".json") as f:
        return rc, json.load(f)


def test_a_failed_solve_exits_1(tmp_path, monkeypatch):
    """L2: status 'failed' exits 1 (module docstring), as 'diverged'."""
    rc, rep = _solve_report(tmp_path, status="failed", monkeypatch=monkeypatch)
    assert rc == 1 and rep["status"] == "failed"


def test_report_holds_the_seed_and_the_inner_iterations(tmp_path, monkeypatch):
    """L3, L8: params.seed is --seed; n_inner is the solver's own count, not nit."""
    seen = {}
    real = cli._solve

    def spy(prob, args, init=None):
        res = real(prob, args, init)
        seen["n_inner"] = res["n_inner"]
        return res
    monkeypatch.setattr(cli, "_solve", spy)
    rc, rep = _solve_report(tmp_path, "--seed", "3")
    assert rep["params"]["seed"] == 3
    assert rep["n_inner"] == seen["n_inner"] and rep["n_inner"] > rep["nit"]


def test_solve_defaults_are_the_documented_ones():
    """L10, L11: solve's --lam 1e-3 and --tol 1e-6 (demo: --lam 1e-2)."""
    a = cli.build_parser().parse_args(["solve"])
    assert (a.lam, a.tol, a.hidden, a.bias) == (1e-3, 1e-6, [16], True)
    d = cli.build_parser().parse_args(["demo"])
    assert (d.lam, d.tol, d.hidden, d.bias, d.time_limit) == (1e-2, 1e-6, [32, 16], False, 50.0)


def test_the_solvers_refusals_are_one_line_naming_the_option(tmp_path, capsys):
    """``solve_alm``'s own checks (a default rho0 above rho_max at --beta 1e13, one that
    underflows to 0, a --max-inner beyond int64, a --init whose rho exceeds rho_max) came
    out as tracebacks with exit 1; they are exit 2 and one line naming the option."""
    from liftnet.io import load_result, save_result

    small = ["--data", "teacher", "--n-samples", "40", "--hidden", "3", "--max-iter", "2",
             "--time-limit", "3", "--quiet"]
    first = str(tmp_path / "first")
    assert cli.main(["solve", *small, "--out", first]) == 0
    state = load_result(first + ".npz")
    save_result(str(tmp_path / "big_rho"), {**state, "rho": 1e300})
    capsys.readouterr()
    for extra, said in [
        (["--beta", "1e13"], "--beta: the default rho0 = 10 beta / N = 3.33333e+12 exceeds"),
        (["--beta", "5e-324"], "--beta: the default rho0 = 10 beta / N = 0: the penalty must"),
        (["--max-inner", str(2**63)], "--max-inner must be <= 9223372036854775807"),
        (["--init", str(tmp_path / "big_rho.npz")], "--init: init['rho'] = 1e+300 exceeds"),
    ]:
        rc = cli.main(["solve", *small, *extra, "--out", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert rc == 2 and err == f"liftnet solve: error: {err.split('error: ', 1)[1]}"
        assert err.startswith(f"liftnet solve: error: {said}") and err.count("\n") == 1, err


def test_a_closed_standard_output_loses_nothing(tmp_path, monkeypatch, capsys):
    """``>&-`` (under cron): ``sys.stdout`` is None, and the first print raised
    AttributeError before the solve, so no file was written; now the prints go nowhere and
    the files are written, exit 0."""
    monkeypatch.setattr("sys.stdout", None)
    out = str(tmp_path / "run")
    rc = cli.main(["solve", "--data", "teacher", "--n-samples", "40", "--hidden", "3",
                   "--max-iter", "2", "--time-limit", "3", "--out", out])
    assert rc == 0 and os.path.exists(out + ".npz") and os.path.exists(out + ".json")
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("task", ["auto", "classification"])
def test_one_hot_targets_in_a_file_are_classes(tmp_path, task):
    """An npz whose ``Y`` is one-hot rows (``make_mnist_like``'s form) was trained as a
    regression of three outputs (``--task auto``, an R^2 reported) or refused ("needs one
    target column", ``--task classification``); its columns are the classes."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 14)
    p = tmp_path / "onehot.npz"
    np.savez(p, X=rng.standard_normal((42, 3)), Y=np.eye(3)[labels])
    d = _data("--file", str(p), "--task", task, "--test-size", "0")
    assert d.task == "classification" and d.info["classes"] == [0.0, 1.0, 2.0]
    np.testing.assert_array_equal(d.Y_train.argmax(1), labels)
    q = tmp_path / "soft.npz"  # rows that are not one-hot stay regression values
    np.savez(q, X=rng.standard_normal((42, 3)), Y=np.eye(3)[labels] * 0.5)
    assert _data("--file", str(q), "--test-size", "0").task == "regression"


def test_r2_of_float32_targets_is_computed_in_float64():
    """float32 targets of order 1e20 (a held-out part standardised with the training part's
    statistics can hold such): r2_score's float32 sums of squares overflowed, R^2 -inf with
    a RuntimeWarning; in float64 it is the finite value."""
    import types
    import warnings

    from liftnet import LiftedProblem
    from liftnet.cli import _metrics

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)).astype(np.float32)
    Y = rng.standard_normal((20, 1)).astype(np.float32)
    prob = LiftedProblem(X, Y, hidden=(3,), dtype=np.float32)
    W, b = prob.initial_weights(0)
    Yte = np.linspace(-3e20, 3e20, 20, dtype=np.float32).reshape(-1, 1)
    data = types.SimpleNamespace(X_train=X, Y_train=Y, X_test=X, Y_test=Yte, task="regression")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _metrics(prob, types.SimpleNamespace(W=W, b=b), data)["test_r2"]
    F, Y64 = prob.predict(W, b, X).astype(np.float64), Yte.astype(np.float64)
    want = 1.0 - np.sum((Y64 - F) ** 2) / np.sum((Y64 - Y64.mean()) ** 2)
    assert np.isfinite(got) and got == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("name", [".npz", ".JSON", "sub/.npz"])
def test_an_out_that_is_only_an_ending_is_refused(tmp_path, name, capsys):
    """``--out .npz`` wrote the hidden files ``.npz.npz`` and ``.npz.json``."""
    rc = cli.main(["solve", "--data", "teacher", "--n-samples", "40", "--hidden", "3",
                   "--max-iter", "1", "--quiet", "--out", str(tmp_path / name)])
    assert rc == 2 and "names no prefix, only an ending" in capsys.readouterr().err
    assert list(tmp_path.rglob("*.npz")) == [] and list(tmp_path.rglob("*.json")) == []


def test_an_mnist_like_training_part_of_one_class_is_refused(tmp_path, capsys):
    """``--data mnist-like --n-samples 1`` trained on one class and printed accuracy 1.0; a
    file's target of one class is refused, and so is this (exit 2, one line)."""
    with pytest.raises(ValueError, match=r"^--n-samples 1 gives --data mnist-like's training "
                                         r"part one class"):
        _data("--data", "mnist-like", "--n-samples", "1", "--test-size", "0")
    assert _data("--data", "mnist-like", "--n-samples", "2", "--test-size", "0").info[
        "n_train"] == 2
    rc = cli.main(["solve", "--data", "mnist-like", "--n-samples", "1", "--test-size", "0",
                   "--quiet", "--out", str(tmp_path / "run")])
    assert rc == 2 and capsys.readouterr().err.count("\n") == 1

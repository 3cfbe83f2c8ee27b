"""Built-in data, synthetic generators and the user-file loader."""

import numpy as np
import pytest

from liftnet.datasets import (
    load_digits_problem,
    load_user_data,
    make_mnist_like,
    make_teacher,
    one_hot,
    standardize,
)
from liftnet.formulation.problem import LiftedProblem


def test_digits_split_standardised_one_hot():
    Xtr, Ytr, Xte, Yte = load_digits_problem(test_size=0.25, seed=0)
    assert Xtr.shape[1] == Xte.shape[1] == 64 and Ytr.shape[1] == Yte.shape[1] == 10
    assert len(Xtr) + len(Xte) == 1797 and len(Xte) == 450
    np.testing.assert_allclose(Xtr.mean(axis=0), 0.0, atol=1e-12)
    sd = Xtr.std(axis=0)
    assert np.all((np.abs(sd - 1) < 1e-12) | (sd == 0))
    assert np.any(sd == 0)  # blank border pixels stay exactly 0 (prunable inputs)
    for Y in (Ytr, Yte):
        assert set(np.unique(Y)) == {0.0, 1.0} and np.all(Y.sum(axis=1) == 1)
    # stratified: every class in both parts
    assert np.all(Ytr.sum(axis=0) > 0) and np.all(Yte.sum(axis=0) > 0)
    # reproducible from the seed, different for another seed
    again = load_digits_problem(seed=0)
    np.testing.assert_array_equal(again.X_train, Xtr)
    assert not np.array_equal(load_digits_problem(seed=1).X_train, Xtr)


def test_digits_float32():
    d = load_digits_problem(dtype=np.float32)
    assert all(a.dtype == np.float32 for a in d)


@pytest.mark.parametrize("bias", [False, True])
def test_teacher_is_a_leaky_relu_network(bias):
    widths = (5, 4, 3, 2)
    X, Y, W, b = make_teacher(50, widths, alpha=0.2, noise=0.0, seed=3, bias=bias)
    assert X.shape == (50, 5) and Y.shape == (50, 2)
    assert [w.shape for w in W] == [(4, 5), (3, 4), (2, 3)]
    assert (b is None) == (not bias)
    # outputs equal the network's, evaluated independently of LiftedProblem
    A = X.T
    for l, Wl in enumerate(W):
        A = Wl @ A + (b[l][:, None] if bias else 0.0)
        if l < len(W) - 1:
            A = np.where(A > 0, A, 0.2 * A)
    np.testing.assert_allclose(Y, A.T, rtol=1e-12, atol=1e-12)


def test_teacher_noise_and_determinism():
    X0, Y0, W0, _ = make_teacher(4000, (3, 5, 1), noise=0.0, seed=7)
    X1, Y1, W1, _ = make_teacher(4000, (3, 5, 1), noise=0.5, seed=7)
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(W0[0], W1[0])
    assert abs(np.std(Y1 - Y0) - 0.5) < 0.03
    X2, Y2, _, _ = make_teacher(4000, (3, 5, 1), noise=0.5, seed=7)
    np.testing.assert_array_equal(Y1, Y2)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"N": 0}, "N"), ({"widths": (3, 2)}, "widths"), ({"widths": (3, 0, 2)}, "widths"),
     ({"noise": -1.0}, "noise"), ({"alpha": 1.5}, "alpha")],
)  # fmt: skip
def test_teacher_errors_name_parameter(kwargs, name):
    args = {"N": 10, "widths": (3, 2, 1)} | kwargs
    with pytest.raises(ValueError, match=name):
        make_teacher(**args)


def test_mnist_like_shape_balance_border():
    X, Y = make_mnist_like(1003, seed=0)
    assert X.shape == (1003, 784) and Y.shape == (1003, 10) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    counts = Y.sum(axis=0)
    assert counts.max() - counts.min() <= 1
    img = X.reshape(-1, 28, 28)
    assert not np.any(img[:, :4]) and not np.any(img[:, -4:])
    assert not np.any(img[:, :, :4]) and not np.any(img[:, :, -4:])
    X2, Y2 = make_mnist_like(1003, seed=0)
    np.testing.assert_array_equal(X, X2)


def test_mnist_like_is_learnable_but_not_trivial():
    X, Y = make_mnist_like(3000, seed=1, dtype=np.float64)
    y = Y.argmax(1)
    # nearest class mean, fitted on 2000 samples, tested on 1000
    mu = np.stack([X[:2000][y[:2000] == c].mean(0) for c in range(10)])
    d = ((X[2000:, None, :] - mu[None]) ** 2).sum(-1)
    acc = np.mean(d.argmin(1) == y[2000:])
    assert 0.7 < acc < 0.99  # the label is in the pixels, but noise and mixing blur it


def test_mnist_like_feeds_lifted_problem_float32():
    X, Y = make_mnist_like(20, seed=0)
    prob = LiftedProblem(X, Y, hidden=(8,), dtype=np.float32)
    assert prob.widths == (784, 8, 10)


def test_one_hot_and_standardize():
    Y, classes = one_hot(np.array(["b", "a", "b", "c"]))
    assert classes.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(Y.argmax(1), [1, 0, 1, 2])
    with pytest.raises(ValueError, match="classes"):
        one_hot(np.array([0, 5]), classes=np.array([0, 1]))
    A = np.array([[1.0, 2.0], [3.0, 2.0]])
    (Z, T) = standardize(A, np.array([[5.0, 3.0]]))
    np.testing.assert_allclose(Z, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(T, [[3, 1]])


# --------------------------------------------------------------- user files
def test_npz_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    np.savez(tmp_path / "d.npz", X=X, Y=Y, labels=np.arange(6))
    X2, Y2 = load_user_data(tmp_path / "d.npz")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(Y2, Y)
    _, lab = load_user_data(str(tmp_path / "d.npz"), target="labels")
    np.testing.assert_array_equal(lab, np.arange(6))


def test_csv_header_named_and_last_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,label,b\n1,0,2\n3,1,4\n5,1,6\n")
    X, y = load_user_data(p)  # last column
    np.testing.assert_array_equal(y, [2, 4, 6])
    np.testing.assert_array_equal(X, [[1, 0], [3, 1], [5, 1]])
    X, y = load_user_data(p, target="label")
    np.testing.assert_array_equal(y, [0, 1, 1])
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    q = tmp_path / "noheader.csv"
    q.write_text("1,2,3\n4,5,6\n")
    X, y = load_user_data(q, target=0)
    np.testing.assert_array_equal(y, [1, 4])
    np.testing.assert_array_equal(X, [[2, 3], [5, 6]])


@pytest.mark.parametrize(
    "name, content, target, param, match",
    [
        ("x.txt", "1,2\n", None, "path", "unsupported"),
        ("e.csv", "", None, "path", "empty"),
        ("s.csv", "a,b\n1,x\n", None, "path", "non-numeric"),
        ("r.csv", "1,2\n3\n", None, "path", "columns"),
        ("n.csv", "a,b\n1,nan\n", None, "path", "NaN"),
        ("t.csv", "a,b\n1,2\n", "zz", "target", "no column named 'zz'"),
        ("i.csv", "1,2\n3,4\n", 5, "target", "out of range"),
        ("h.csv", "1,2\n3,4\n", "b", "target", "header: none"),
    ],
)
def test_file_errors_name_parameter(tmp_path, name, content, target, param, match):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(ValueError, match=match) as exc:
        load_user_data(p, target=target)
    assert str(exc.value).startswith(param)


def test_npz_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_user_data(tmp_path / "missing.npz")
    np.savez(tmp_path / "k.npz", A=np.ones((2, 2)), Y=np.ones(2))
    with pytest.raises(ValueError, match="path.*no array 'X'"):
        load_user_data(tmp_path / "k.npz")
    np.savez(tmp_path / "y.npz", X=np.ones((2, 2)), Y=np.ones(2))
    with pytest.raises(ValueError, match="target.*no array 'T'"):
        load_user_data(tmp_path / "y.npz", target="T")
    np.savez(tmp_path / "s.npz", X=np.ones((3, 2)), Y=np.ones(2))
    with pytest.raises(ValueError, match="path.*disagree"):
        load_user_data(tmp_path / "s.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="path.*cannot read"):
        load_user_data(tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="path"):
        load_user_data(3)

"""Built-in data sets: properties that a mutation review (session 49) found unpinned.
Each test failed on a one-line change of ``liftnet/datasets.py`` that every other
test passed (the review's mutant ids are in the docstrings)."""
import numpy as np

from liftnet.datasets import load_digits_problem, make_mnist_like, make_teacher


def test_digits_accepts_the_smallest_test_size_train_test_split_can_stratify():
    """D4: sizes are ceil(test_size n) held out; 9.2/1797 holds out 10 (one per class)."""
    d = load_digits_problem(test_size=9.2 / 1797, seed=0)
    assert len(d.X_test) == 10 and np.all(d.Y_test.sum(0) == 1)


def test_teacher_weights_depend_on_the_seed():
    """D15."""
    _, _, W0, _ = make_teacher(20, (5, 4, 2), seed=0)
    _, _, W1, _ = make_teacher(20, (5, 4, 2), seed=1)
    assert not np.array_equal(W0[0], W1[0])


def test_teacher_inputs_are_standard_normal():
    """D18."""
    X, *_ = make_teacher(20000, (3, 4, 1), seed=0)
    assert abs(X.mean()) < 0.03 and abs(X.std() - 1) < 0.03 and np.abs(X).max() > 3


def test_mnist_like_prototypes_depend_on_the_seed():
    """D16: another seed draws other class prototypes, not only other samples of them."""
    def means(seed):
        X, Y = make_mnist_like(1000, seed=seed, noise=0.0, dtype=np.float64)
        return np.stack([X[Y[:, c] == 1].mean(0) for c in range(10)])
    a, b = means(0), means(1)
    assert min(np.corrcoef(a[c], b[c])[0, 1] for c in range(10)) < 0.9


def test_mnist_like_has_ten_columns_for_few_samples():
    """D17."""
    assert make_mnist_like(5, seed=0)[1].shape == (5, 10)


def test_mnist_like_mixes_in_another_class_never_its_own():
    """D7: noise=0: no sample is a multiple of its own prototype (c' == c)."""
    from liftnet.datasets import _prototypes
    X, Y = make_mnist_like(2000, seed=0, noise=0.0, dtype=np.float64)
    P = _prototypes(np.random.default_rng(0)).astype(np.float32).astype(np.float64)
    for x, c in zip(X, Y.argmax(1)):
        m = (P[c] > 1e-3) & (x < 1)
        r = x[m] / P[c][m]
        assert r.max() - r.min() > 1e-5 * r.max()

"""The result type every solver returns (liftnet/solvers/result.py)."""

import numpy as np
import pytest

from liftnet.solvers.result import STATUSES, LiftedResult


def _result():
    W = [np.zeros((3, 2)), np.ones((1, 3))]
    return LiftedResult(solver="alm", status="converged", W=W, groups="column")


def test_copy_is_a_result_with_attribute_access():
    """``dict.copy`` gave a plain dict: no attribute access, no ``sparsity``."""
    r = _result()
    c = r.copy()
    assert type(c) is LiftedResult and c.status == "converged"
    assert c.sparsity == r.sparsity == 2 / 5  # both columns of W_1 are zero
    c.status = "failed"
    assert r.status == "converged"  # shallow, but a copy


def test_dir_lists_keys_and_methods_and_statuses_are_complete():
    r = _result()
    assert {"W", "status", "sparsity", "copy", "keys"} <= set(dir(r))
    assert "uncertified" in STATUSES  # solve_ipopt's, documented in the class docstring


def test_a_missing_key_is_an_attribute_error():
    """Attribute access to a key the result lacks raises ``AttributeError``, as for any
    object, so ``hasattr`` and ``getattr(r, name, default)`` work (a mutation audit: it
    returned ``None``, and every attribute looked present)."""
    r = LiftedResult(status="converged")
    assert not hasattr(r, "nope") and getattr(r, "nope", 3) == 3
    with pytest.raises(AttributeError, match="nope"):
        _ = r.nope


def test_sparsity_counts_column_groups_unless_the_result_says_otherwise():
    """``sparsity`` counts zero groups of the result's ``groups``, columns (the problems'
    default) when it has none (a mutation audit: rows by default). One zero column in each
    layer: 2 of 4 columns, 0 of 3 rows."""
    W = [np.array([[0.0, 1.0], [0.0, 2.0]]), np.array([[1.0, 0.0]])]
    assert LiftedResult(W=W).sparsity == 2 / 4
    assert LiftedResult(W=W, groups="row").sparsity == 0 / 3


def test_statuses_are_the_documented_ones():
    assert set(STATUSES) == {"converged", "max_iter", "time_limit", "interrupted", "diverged",
                             "failed", "uncertified"}


def test_repr_shows_the_message_and_takes_a_result_without_kkt():
    """The baselines return ``kkt=None``; the repr names solver, status, message."""
    r = LiftedResult(solver="adam", status="max_iter", message="max_iter reached", kkt=None,
                     nit=3)
    text = repr(r)
    assert text.startswith("LiftedResult(solver='adam', status='max_iter', "
                           "message='max_iter reached'")
    assert "kkt_residual" not in text
    assert "kkt_residual=1.500e-03" in repr(LiftedResult(status="converged",
                                                         kkt={"residual": 1.5e-3}))


@pytest.mark.parametrize("kkt", [None, {}, {"residual": None}, {"residual": float("nan")}])
def test_repr_of_a_stopped_result_never_raises(kkt):
    text = repr(LiftedResult(solver="alm", status="diverged", message=None, objective=None,
                             nit=None, time=None, kkt=kkt))
    assert text.startswith("LiftedResult(solver='alm', status='diverged'")

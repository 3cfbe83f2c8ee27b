"""The result type every solver returns (liftnet/solvers/result.py)."""

import numpy as np

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

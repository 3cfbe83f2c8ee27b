"""Starting points and warm starts (``liftnet.solvers.init.parse_init``): what is refused."""

import numpy as np
import pytest
from test_alm import teacher_problem

from liftnet.solvers.init import parse_init


def test_a_warm_start_whose_output_layer_overflows_is_refused():
    """The lift's check covers the output layer ``U_L`` too: weights whose hidden layers are
    finite but whose output overflows would give a start with an infinite objective (a
    mutation audit: only ``V`` checked)."""
    prob = teacher_problem()
    W, _ = prob.initial_weights(0)
    W[-1] = np.full_like(W[-1], 1e308)
    with np.errstate(over="ignore"):
        assert all(np.all(np.isfinite(v)) for v in prob.lift(W, None))  # only U_L overflows
    with pytest.raises(ValueError, match="overflows"):
        parse_init(prob, {"W": W})


def test_a_bias_for_a_problem_without_biases_is_refused():
    """``init['b']`` for a ``bias=False`` problem is refused by name rather than dropped
    silently (the warm start would not be the network the caller gave; a mutation audit: the
    check dropped)."""
    prob = teacher_problem(bias=False)
    W, _ = prob.initial_weights(0)
    with pytest.raises(ValueError, match=r"init\['b'\] must be None"):
        parse_init(prob, {"W": W, "b": [np.zeros(w.shape[0]) for w in W]})


@pytest.mark.parametrize("typo, hint", [("Vs", "did you mean 'V'"), ("M_1", "did you mean 'M1'"),
                                        ("b0", "did you mean 'b'"), ("Rho", "its key is 'rho'"),
                                        ("w0", "did you mean 'W'"), ("m_2", "did you mean 'M2'"),
                                        ("M3", "did you mean 'M1' or 'M2'"),
                                        ("V-1", "did you mean 'V'"), ("M1s", "did you mean 'M1'")])
def test_a_near_miss_of_an_init_key_is_refused(typo, hint):
    """A misspelt key (``'Vs'`` for ``'V'``) was ignored: the solver started from the lift or
    zero multipliers instead of the arrays given, silently. A result's own keys (``status``,
    ``steps``, ``time_excluded``, ...) stay allowed, and ``rho``/``eps`` are read."""
    prob = teacher_problem(bias=True)
    W, b = prob.initial_weights(0)
    V = prob.lift(W, b)
    init = {"W": W, "b": b, "V": V, "status": "converged", "steps": 3, "time_excluded": 0.0,
            "rho": 1.0, "eps": 1e-2, "reseeded": [0, 0]}
    parse_init(prob, init)  # the allowed keys
    with pytest.raises(ValueError, match=f"init has the key '{typo}'.*{hint}"):
        parse_init(prob, {**init, typo: V})


@pytest.mark.parametrize("key", ["mu", "nb", "Wb", "vs_baseline", "beta", "my_W", "m12x", "s"])
def test_a_users_own_short_key_is_not_taken_for_a_misspelt_one(key):
    """Only a structural near miss is refused (``'Vs'``, ``'M_1'``, ``'w0'``): a user's own
    key that merely shares letters with one (``'mu'``, ``'nb'``) was refused by the string
    distance used before (difflib: ``'mu'`` near ``'M2'``, ``'nb'`` near ``'b'``), so a
    mapping holding it could not warm-start a solver."""
    prob = teacher_problem(bias=True)
    W, b = prob.initial_weights(0)
    W2, b2, *_ = parse_init(prob, {"W": W, "b": b, key: 1.0})
    for a, c in zip(W2, W, strict=True):
        np.testing.assert_array_equal(a, c)


def test_the_dict_of_a_result_file_is_refused_with_the_reader_named(tmp_path):
    """``dict(np.load(path))`` of a :func:`liftnet.io.save_result` file has keys ``W_1, W_2, ...``
    and no ``W``: the message names :func:`liftnet.io.load_result`, which reads it."""
    from liftnet.io import load_result, save_result
    prob = teacher_problem(bias=True)
    W, b = prob.initial_weights(0)
    path = save_result(tmp_path / "run", {"W": W, "b": b})
    with np.load(path) as f:
        raw = dict(f)
    with pytest.raises(ValueError, match=r"init has the key 'W_1'.*liftnet.io.load_result"):
        parse_init(prob, raw)
    W2, *_ = parse_init(prob, load_result(path))
    for a, c in zip(W2, W, strict=True):
        np.testing.assert_array_equal(a, c)


def test_every_solver_result_is_a_valid_init():
    """The near-miss check reads every key of ``init``: no key of a result of the ALM, of
    IPOPT, of the MPCC relaxation or of a baseline may look like a misspelt one (IPOPT's
    ``kkt_phase1``, ``polish_threshold``, the baselines' ``Phi``...), or a solver's own result
    could not warm-start another."""
    from liftnet.formulation.mpcc import solve_mpcc_relaxed
    from liftnet.solvers.alm import solve_alm
    from liftnet.solvers.baselines import BASELINES
    from liftnet.solvers.ipopt import solve_ipopt
    from liftnet.solvers.ipopt_backends import CyIpoptBackend, ExecutableBackend

    prob = teacher_problem(bias=True)
    results = {"alm": solve_alm(prob, tol=1e-3, seed=0)}
    results.update({name: f(prob, max_epochs=2, seed=0) for name, f in BASELINES.items()})
    if CyIpoptBackend.available() or ExecutableBackend.available():
        results["ipopt"] = solve_ipopt(prob, init=results["alm"])
        results["mpcc"] = solve_mpcc_relaxed(prob, eps_schedule=[1e-2], init=results["alm"])
    for name, res in results.items():
        W, b, *_ = parse_init(prob, res, name=name)
        for a, c in zip(W, res.W, strict=True):
            np.testing.assert_array_equal(a, c)

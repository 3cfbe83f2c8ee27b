"""Bad input to the public functions is refused up front, by a ValueError or TypeError that
names the parameter (the checks of ``liftnet/_validation.py`` and their callers)."""

import re
import warnings
from fractions import Fraction
from importlib import import_module

import numpy as np
import pytest
from _helpers import cut_bytes

import liftnet as ln
from liftnet._validation import (
    as_real_array,
    check_argv,
    check_choice,
    check_finite_array,
    check_list,
    check_list_shapes,
    check_magnitude,
    check_path,
    check_real_dtype,
    check_seed,
)
from liftnet.solvers.baselines import adam, loss_gradient, prox_adam, prox_gradient, sgd
from liftnet.solvers.init import parse_init, reseed_dead_units
from liftnet.solvers.path import check_lams
from liftnet.verification import theory
from liftnet.verification.multipliers import MultiplierLSQ, estimate_multipliers


def small(bias=False, **kw):
    X = np.random.default_rng(0).standard_normal((10, 2))
    return ln.LiftedProblem(X, X[:, :1] ** 2, hidden=(3,), bias=bias, **kw)


@pytest.mark.parametrize(
    "call",
    [
        lambda W: ln.solve_alm(None),
        lambda W: ln.kkt_residuals(None, W),
        lambda W: ln.check_mfcq(None, W),
        lambda W: theory.lift_feasibility(None, W),
        lambda W: theory.complementarity_gap(None, W),
        lambda W: theory.level_set_radius(None, 1.0),
        lambda W: sgd(None),
        lambda W: prox_gradient(None),
        lambda W: reseed_dead_units(None, {"W": W}),
        lambda W: parse_init("prob", {"W": W}),
    ],
)
def test_prob_must_be_a_lifted_problem(call):
    W, _ = small().initial_weights(0)
    with pytest.raises(TypeError, match="prob must be a liftnet.LiftedProblem"):
        call(W)


@pytest.mark.parametrize("seed", [-1, "a", 2.5, True])
@pytest.mark.parametrize(
    "call",
    [
        lambda p, s: p.initial_weights(s),
        lambda p, s: ln.solve_ipopt(p, seed=s),
        lambda p, s: sgd(p, seed=s, max_epochs=1),
        lambda p, s: reseed_dead_units(p, {"W": p.initial_weights(0)[0]}, seed=s),
    ],
)
def test_seeds_are_non_negative_integers(call, seed):
    with pytest.raises((TypeError, ValueError), match="^seed must be"):
        call(small(), seed)


def test_numbers_of_any_real_type_and_no_complex_or_text():
    assert small(alpha=Fraction(1, 10)).alpha == 0.1  # a Real that numpy cannot test
    X = np.ones((4, 2))
    with pytest.raises(TypeError, match="X must be real"):
        ln.LiftedProblem(X + 1j, np.ones(4), hidden=(2,))
    p = small()
    with pytest.raises(TypeError, match=r"W\[0\] must be a numeric array"):
        ln.kkt_residuals(p, [[[1.0, 2.0], [3.0]], np.ones((1, 3))])
    # text weights were parsed as numbers ("0.5" -> 0.5), in a warm start too
    W, _ = p.initial_weights(0)
    with pytest.raises(TypeError, match=r"init\['W'\]\[0\] must be a numeric array, got dtype <U"):
        ln.solve_alm(p, init={"W": [w.astype(str) for w in W]})
    with pytest.raises(TypeError, match=r"W\[1\] must be a numeric array, got dtype object"):
        ln.kkt_residuals(p, [W[0], W[1].astype(object)])
    assert ln.kkt_residuals(p, [w.tolist() for w in W]).residual >= 0  # nested lists: numbers
    with pytest.raises(ValueError, match="dtype must be float64 or float32, got 'foo'"):
        small(dtype="foo")
    with pytest.raises(ValueError, match="dtype must be float64 or float32, got None"):
        small(dtype=None)


def test_zero_threshold_is_a_non_negative_real():
    p = small()
    W, _ = p.initial_weights(0)
    for bad, exc in ((True, TypeError), ("a", TypeError), (-1.0, ValueError),
                     (float("nan"), ValueError)):
        with pytest.raises(exc, match="zero_threshold"):
            ln.kkt_residuals(p, W, zero_threshold=bad)


def test_a_warm_start_must_match_the_problem():
    p = small()
    W, _ = p.initial_weights(0)
    with pytest.raises(ValueError, match=r"init\['b'\] must be None"):
        ln.solve_alm(p, init={"W": W, "b": [np.ones(3), np.ones(1)]})
    with pytest.raises(ValueError, match=r"init\['W'\] overflows"):
        ln.solve_alm(p, init={"W": [w * 1e200 for w in W]})
    with pytest.raises(TypeError, match="init must be a LiftedResult"):
        reseed_dead_units(p, None)


def test_multipliers_are_given_together():
    """One multiplier list alone was silently discarded (both were estimated)."""
    p = small()
    W, _ = p.initial_weights(0)
    M1, M2 = p.zero_multipliers()
    with pytest.raises(ValueError, match="got M1 only"):
        ln.kkt_residuals(p, W, None, None, M1, None)
    with pytest.raises(ValueError, match="got M2 only"):
        ln.kkt_residuals(p, W, None, None, None, M2)
    assert ln.kkt_residuals(p, W, None, None, M1, M2)["multipliers"] == "given"


def test_weights_are_checked_where_they_enter():
    p = small()
    W, _ = p.initial_weights(0)
    with pytest.raises(ValueError, match=r"W\[0\] must have shape"):
        p.predict([w.T for w in W], None, p.X)
    with pytest.raises(ValueError, match="b must be None"):
        loss_gradient(p, W, [np.ones(3), np.ones(1)])  # used to be added silently
    with pytest.raises(TypeError, match="W must be a list"):
        loss_gradient(p, None)
    # one array too many is refused, not dropped (a three-layer W for a two-layer network)
    with pytest.raises(ValueError, match="W must hold 2 arrays, got 3"):
        p.predict(W + [np.ones((1, 1))], None, p.X)


def test_data_beyond_the_solvers_range_is_refused():
    """Data whose gradients overflow (their squared norms grow like the data's fourth power)
    is refused up front: at X * 1e150 ``solve_alm`` used to run its whole budget at a KKT
    residual of ``inf``, numpy warning of overflows in every iteration."""
    X = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match="X is too large for float64"):
        ln.LiftedProblem(X * 1e150, X[:, 0], hidden=(3,))
    with pytest.raises(ValueError, match="Y is too large for float32"):
        ln.LiftedProblem(X, X[:, 0] * 1e12, hidden=(3,), dtype=np.float32)
    ln.LiftedProblem(X * 1e70, X[:, 0], hidden=(3,))  # large, but within range
    ln.LiftedProblem(X * 1e8, X[:, 0], hidden=(3,), dtype=np.float32)


@pytest.mark.parametrize("method", ["Phi", "F", "lift", "forward"])
def test_the_models_own_evaluations_check_the_networks_structure(method):
    """``Phi``, ``F``, ``lift`` and ``forward`` refuse a missing or an extra ``b`` and wrong
    shapes (they used to drop missing biases silently, add extra ones, or fail inside numpy),
    while a NaN weight still gives a NaN value (the solvers' ``diverged`` test needs it)."""
    p, q = small(bias=True), small()
    W, b = p.initial_weights(0)
    call = getattr(p, method)
    with pytest.raises(ValueError, match="b is required"):
        call(W, None)
    with pytest.raises(ValueError, match="b must be None"):
        getattr(q, method)(W, b)
    with pytest.raises(ValueError, match=r"W\[0\] must have shape \(3, 2\), got \(2, 3\)"):
        call([w.T for w in W], b)
    with pytest.raises(ValueError, match="W must hold 2 arrays"):
        call(W[:1], b)
    with pytest.raises(ValueError, match=r"b\[1\] must have shape \(1,\)"):
        call(W, [b[0], np.zeros(2)])
    with pytest.raises(TypeError, match="W must be a list"):
        call(W[0], b)
    out = call([np.full_like(W[0], np.nan), W[1]], b)
    assert np.isnan(out if np.isscalar(out) else out[-1][-1]).all()


def test_F_checks_V_and_lifts_when_it_is_not_given():
    p = small(bias=True)
    W, b = p.initial_weights(0)
    with pytest.raises(ValueError, match=r"V\[0\] must have shape \(3, 10\)"):
        p.F(W, b, [np.zeros((3, 9))])
    assert p.F(W, b) == p.F(W, b, p.lift(W, b)) == pytest.approx(p.Phi(W, b), rel=1e-12)
    with pytest.raises(ValueError, match=r"V0 must have shape \(2, M\)"):
        p.forward(W, b, p.X)  # samples as rows: the public predict() takes those


@pytest.mark.parametrize("trainer", [adam, prox_adam])
@pytest.mark.parametrize(
    ("betas", "match"),
    [((0.9,), "betas must be a pair"), (0.9, "betas must be a pair"), ((2.0, 0.9), r"betas\[0\]"),
     ((0.9, float("nan")), r"betas\[1\]"), (("a", 0.9), r"betas\[0\]")],
)
def test_adam_betas(trainer, betas, match):
    with pytest.raises((TypeError, ValueError), match=match):
        trainer(small(), betas=betas, max_epochs=1)


def test_theory_arguments():
    p = small()
    W, _ = p.initial_weights(0)
    for radius, match in (({}, "without 'radius'"), ({"radius": float("nan")}, "radius"),
                          ({"radius": -5.0}, "radius"), ({"radius": "a"}, "radius")):
        with pytest.raises((TypeError, ValueError), match=match):
            theory.inside_level_set(p, [(W, None, None)], radius)
    with pytest.raises(TypeError, match="points must be"):
        theory.inside_level_set(p, None, 1.0)
    with pytest.raises(TypeError, match=r"points\['history'\]"):
        theory.inside_level_set(p, {"W": W, "history": 5}, 1.0)
    # a huge but finite level: an infinite radius, not an OverflowError
    assert theory.level_set_radius(small(lam=0.02), 1e300)["radius"] == np.inf


def test_flags_are_booleans():
    p = small()
    W, _ = p.initial_weights(0)
    # a wrong kind is a TypeError (as check_bool's), a wrong string a ValueError
    with pytest.raises(TypeError, match="lp must be 'auto', True or False"):
        ln.check_mfcq(p, W, lp=np.array([1, 0]))
    with pytest.raises(TypeError, match="lp must be"):
        ln.check_mfcq(p, W, lp=1)
    with pytest.raises(ValueError, match="lp must be 'auto', True or False, got 'yes'"):
        ln.check_mfcq(p, W, lp="yes")
    with pytest.raises(TypeError, match="verbose"):
        ln.solve_ipopt(p, verbose="x")
    with pytest.raises(ValueError, match="solver must be"):
        ln.solve_ipopt(p, solver=["ipopt"])
    # numpy's booleans are flags too (a value read from an array or an npz)
    assert small(bias=np.True_).bias is True and small(bias=np.False_).bias is False


def mpcc():
    return import_module("liftnet.formulation.mpcc")  # needs Pyomo


def blocks():
    return import_module("liftnet.formulation.cvxpy_blocks")  # needs CVXPY


@pytest.mark.parametrize(
    "call",
    [
        lambda W: estimate_multipliers(None, W, None, None),
        lambda W: MultiplierLSQ(None, W, None, None),
        lambda W: ln.solve_alm_path(None, [1e-2]),
        lambda W: ln.solve_alm_path(None, None),
        lambda W: mpcc().build_mpcc_model(None),
        lambda W: mpcc().solve_mpcc_relaxed(None, eps_schedule=None),
        lambda W: blocks().w_block(None, None),
        lambda W: blocks().v_block(None, W, None, None),
        lambda W: blocks().convex_v_layers(None, "12"),
        lambda W: blocks().group_norm_expr(None, W[0]),
        lambda W: blocks().augmented_lagrangian_expr(None, W, None, None, None, None, 1.0),
        lambda W: blocks().multiplier_objective(None, W, None, None, None, None),
        lambda W: theory.inside_level_set(None, None, "radius"),
    ],
)
def test_prob_is_checked_first(call):
    """``prob`` is checked before the other arguments are used (they used to fail first, with
    an AttributeError or a TypeError of numpy that named nothing)."""
    W, _ = small().initial_weights(0)
    with pytest.raises(TypeError, match="prob must be a liftnet.LiftedProblem"):
        call(W)


@pytest.mark.parametrize("estimate", [estimate_multipliers, MultiplierLSQ])
@pytest.mark.parametrize(
    ("point", "exc", "match"),
    [
        (lambda W, V: (W, None, [v.T for v in V]), ValueError, r"V\[0\] must have shape \(3, 10\)"),
        (lambda W, V: (W, None, [np.full_like(v, np.nan) for v in V]), ValueError,
         r"V\[0\] must be finite"),
        (lambda W, V: (W, [np.ones(3), np.ones(1)], V), ValueError, "b must be None"),
        (lambda W, V: (W[:1], None, V), ValueError, "W must hold 2 arrays"),
        (lambda W, V: (W, None, V[0]), TypeError, "V must be a list"),
    ],
)
def test_the_multiplier_estimate_checks_its_point(estimate, point, exc, match):
    """``estimate_multipliers`` (and its program ``MultiplierLSQ``) check ``(W, b, V)`` as
    ``kkt_residuals`` does: a transposed ``V`` used to fail inside numpy's matmul, a NaN ``V``
    to be accepted."""
    p = small()
    W, _ = p.initial_weights(0)
    with pytest.raises(exc, match=match):
        estimate(p, *point(W, p.lift(W)))


def test_the_multiplier_estimate_lifts_a_missing_V():
    """``V = None`` is the exact lift, as in ``kkt_residuals`` (it used to raise a TypeError
    from inside the problem's evaluations)."""
    p = small()
    W, _ = p.initial_weights(0)
    A1, A2 = estimate_multipliers(p, W, None, None)
    B1, B2 = estimate_multipliers(p, W, None, p.lift(W))
    assert all(np.array_equal(x, y) for x, y in zip((*A1, *A2), (*B1, *B2), strict=True))


@pytest.mark.parametrize(
    ("lams", "exc", "match"),
    [
        (None, TypeError, "lams must be a sequence of numbers"),  # was a ValueError, shape ()
        (0.1, TypeError, "lams must be a sequence of numbers"),
        (np.array([True, False]), TypeError, r"lams\[0\] must be a real number"),
        ([1e-2, False], TypeError, r"lams\[1\] must be a real number"),
    ],
)
def test_lams_are_a_sequence_of_real_numbers(lams, exc, match):
    with pytest.raises(exc, match=match):
        check_lams(lams)
    with pytest.raises(exc, match=match):
        ln.solve_alm_path(small(), lams)


def test_lams_of_any_real_type_but_not_booleans():
    with pytest.raises(TypeError, match=r"lams\[0\] must be a real number"):
        check_lams([True, False])  # used to be read as [1.0, 0.0]
    got = check_lams((Fraction(1, 10), np.float32(0.01), 0))
    assert got.dtype == np.float64 and got.tolist() == [0.1, float(np.float32(0.01)), 0.0]
    assert check_lams(np.array([1e-2, 1e-3])).tolist() == [1e-2, 1e-3]


def test_theory_exports_its_functions_only():
    """``dir(liftnet.theory)`` used to list the module's imports (``np``, ``Mapping``,
    ``check_point``, ...); ``__all__`` names the public functions and the report class."""
    public = {"TheoryReport", "complementarity_gap", "inside_level_set", "level_set_radius",
              "lift_feasibility", "lift_objective_gap", "lifted_only_units"}
    assert set(theory.__all__) == public
    assert dir(ln.theory) == sorted(public)
    assert all(hasattr(theory, name) for name in public)
    namespace = {}
    exec("from liftnet.verification.theory import *", namespace)
    assert set(namespace) - {"__builtins__"} == public


def test_theory_imports_from_its_short_name():
    """``from liftnet.theory import ...`` works (README's name; it raised ModuleNotFoundError
    while ``liftnet.theory`` was only the lazy attribute) and gives the same objects as
    ``liftnet.verification.theory``, every one of its public names."""
    import liftnet.theory as short
    import liftnet.verification.theory as home

    namespace = {}
    exec("from liftnet.theory import lift_feasibility, TheoryReport", namespace)
    assert namespace["lift_feasibility"] is home.lift_feasibility
    assert namespace["TheoryReport"] is home.TheoryReport
    assert short.__all__ == home.__all__ and ln.theory is short
    assert all(getattr(short, name) is getattr(home, name) for name in home.__all__)


def test_edge_inputs_found_by_a_user_level_check():
    """Inputs that used to hang, overflow into a misleading error, or pass as something else."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((12, 1))
    # lam whose square overflows: float32 lam 1e38 hung the ALM's line search (a NaN step),
    # float64 1e155 reported KKT residual inf after thousands of zero steps
    with pytest.raises(ValueError, match=r"lam=1e\+38 is too large for float32"):
        ln.LiftedProblem(X, Y, hidden=(4,), lam=1e38, dtype="float32")
    with pytest.raises(ValueError, match=r"lam=1e\+155 is too large for float64"):
        ln.LiftedProblem(X, Y, hidden=(4,), lam=1e155)
    assert ln.LiftedProblem(X, Y, hidden=(4,), lam=1e150).lam == 1e150
    # text data was parsed as numbers
    with pytest.raises(TypeError, match="X must be a numeric array, got text"):
        ln.LiftedProblem(X.astype(str), Y, hidden=(4,))
    with pytest.raises(TypeError, match="Y must be a numeric array, got text"):
        ln.LiftedProblem(X, Y.astype(str), hidden=(4,))
    assert ln.LiftedProblem(X.astype(object), Y, hidden=(4,)).X.dtype == np.float64
    with pytest.raises(TypeError, match="X must be a numeric array, got text"):  # in objects
        ln.LiftedProblem(X.astype(str).astype(object), Y, hidden=(4,))
    with pytest.raises(TypeError, match="X must be a numeric array, got text"):  # bytes too
        ln.LiftedProblem(X.astype(str).astype(bytes).astype(object), Y, hidden=(4,))
    with pytest.raises(TypeError, match="X must be a numeric array, got list"):  # ragged
        ln.LiftedProblem([[1.0, 2.0], [3.0]], Y[:2], hidden=(4,))
    p = ln.LiftedProblem(X, Y, hidden=(4,), lam=1e-2)
    W, _ = p.initial_weights(0)
    # finite weights whose start multipliers overflow: the ALM's own certificate refused them
    # as "M1[0] must be finite" (a parameter the caller never gave)
    with pytest.raises(ValueError, match=r"init\['W'\] is too large: the multipliers"):
        ln.solve_alm(p, init={"W": [w * 1e120 for w in W]}, time_limit=1)
    # a NaN residual (inf * 0 in M * g) compared as not above tol: now inf
    with np.errstate(all="ignore"):
        rep = ln.kkt_residuals(p, [w * 1e150 for w in W])
    assert rep.residual == np.inf and not np.isnan(rep.stationarity)
    # one multiplier list alone was dropped by solve_alm (both estimated), as kkt_residuals
    # refuses it
    M1, _ = p.zero_multipliers()
    with pytest.raises(ValueError, match=r"init\['M1'\] and init\['M2'\] must be given together"):
        ln.solve_alm(p, init={"W": W, "M1": M1})


def _npz_cut(path, keep):
    """A real .npz archive at ``path`` with only part of its bytes: its first half (no zip
    directory at the end: ``zipfile.is_zipfile`` says no), its second half (the directory is
    there, ``is_zipfile`` says yes, but no zip header at the start: ``np.load`` reads a
    pickle) or its first half plus the end record (``is_zipfile`` says yes, ``np.load`` opens
    it and finds no directory where the end record points)."""
    np.savez(path, X=np.ones((50, 3)), Y=np.arange(50.0))
    cut_bytes(path, keep)
    return path


@pytest.mark.parametrize(
    "kind, why",
    [
        ("text", "it is not a zip archive"),
        ("npy", "it is not a zip archive"),
        ("folder", "is a directory"),
        ("empty", "it is empty"),
        ("first_half", r"it is a damaged zip archive \(cut short, or its start is missing\)"),
        ("second_half", r"it is a damaged zip archive \(cut short, or its start is missing\)"),
    ],
)
def test_check_npz_file_refuses_what_np_load_would_misread(tmp_path, kind, why):
    """What ``np.load`` would take for a pickle (text, an .npy file, an empty file, an archive
    whose start is cut off) or cannot open (a folder: a bare ``IsADirectoryError``) is a
    ``ValueError`` naming the parameter, the file and what writes the archives expected."""
    from liftnet._validation import check_npz_file

    path = tmp_path / "f.npz"
    if kind == "text":
        path.write_text("X = 1\n")
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.ones(3))
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        _npz_cut(path, kind)
    with pytest.raises(ValueError) as exc:
        check_npz_file(str(path), "path", writer="np.savez")
    msg = str(exc.value)
    assert re.fullmatch(rf"path: cannot read '{re.escape(str(path))}' as a \.npz file: {why}; "
                        rf"expected an \.npz archive written by np\.savez", msg), msg
    assert "pickle" not in msg
    with pytest.raises(ValueError, match=r"^init: .* written by save_result$"):
        check_npz_file(str(path), "init", writer="save_result")


def test_check_npz_file_passes_archives_np_load_reads(tmp_path):
    """Archives pass as they are, the empty one (``np.savez`` of no arrays begins with the end
    record) and a compressed one too: which arrays it must hold is the caller's check."""
    from liftnet._validation import check_npz_file

    for name, save, arrays in (("a.npz", np.savez, {"X": np.ones(2)}), ("e.npz", np.savez, {}),
                               ("c.npz", np.savez_compressed, {"X": np.ones(2)})):
        save(tmp_path / name, **arrays)
        assert check_npz_file(str(tmp_path / name)) == str(tmp_path / name)


def test_check_npz_file_names_a_file_it_may_not_read(tmp_path, monkeypatch):
    """A file without read permission (simulated: the tests may run as root, who reads it
    anyway) is a ``ValueError`` naming the parameter, not a bare ``PermissionError``."""
    from liftnet import _validation

    path = tmp_path / "f.npz"
    np.savez(path, X=np.ones(2))

    def denied(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(_validation, "open", denied, raising=False)
    with pytest.raises(ValueError, match=r"^path: cannot read '.*f\.npz' as a \.npz file: "
                                         r"permission denied; expected an \.npz archive"):
        _validation.check_npz_file(str(path))


def test_values_beyond_float32_are_named_as_such_not_as_nan():
    """A finite float64 entry too large for float32 (1e39) is refused as out of range, by
    name, without numpy's overflow warning: it used to become inf in the cast and be called
    "NaN or inf" (data, weights, multipliers)."""
    import warnings

    from liftnet import LiftedProblem, kkt_residuals
    from liftnet.datasets import standardize

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))
    big = X.copy()
    big[0, 0] = 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (numpy's "overflow encountered in cast")
        with pytest.raises(ValueError, match=r"^X has entries beyond the range of float32 "
                                             r"\(largest magnitude 1e\+39"):
            LiftedProblem(big, Y, hidden=(2,), dtype=np.float32)
        prob = LiftedProblem(X, Y, hidden=(2,), dtype=np.float32)
        W, b = prob.initial_weights(0)
        V = prob.lift(W, b)
        W64 = [w.astype(np.float64) for w in W]
        W64[0][0, 0] = 1e39
        with pytest.raises(ValueError, match=r"^W\[0\] has entries beyond the range"):
            kkt_residuals(prob, W64, b, V)
        M1, M2 = prob.zero_multipliers()
        M1 = [m.astype(np.float64) + 1e39 for m in M1]
        with pytest.raises(ValueError, match=r"^M1\[0\] has entries beyond the range"):
            kkt_residuals(prob, W, b, V, M1, M2)
        with pytest.raises(ValueError, match=r"beyond the range of float32"):
            standardize(X.astype(np.float32), big)
        # within range it is the cast it was
        np.testing.assert_array_equal(
            LiftedProblem(X, Y, hidden=(2,), dtype=np.float32).X, X.astype(np.float32))


def test_model_methods_refuse_complex_and_object_entries_by_name():
    """``check_net_shapes`` (the cheap check of ``F``, ``Phi``, ``forward``, ``lift``,
    ``lagrangian_gradient``) looks at each entry's dtype: complex ``W`` gave a complex
    ``Phi``, object arrays failed inside numpy."""
    p, pb = small(), small(bias=True)
    W, _ = p.initial_weights(0)
    Wb, bb = pb.initial_weights(0)
    V = p.lift(W)
    M1, M2 = p.zero_multipliers()
    with pytest.raises(TypeError, match=r"W\[0\] must be a real numeric array, got dtype complex"):
        p.Phi([W[0] + 0j, W[1]])
    with pytest.raises(TypeError, match=r"W\[1\] must be a real numeric array, got dtype object"):
        p.F([W[0], W[1].astype(object)], None)
    with pytest.raises(TypeError, match=r"b\[1\] must be a real numeric array, got dtype complex"):
        pb.forward(Wb, [bb[0], bb[1] + 1j])
    with pytest.raises(TypeError, match=r"V\[0\] must be a real numeric array"):
        p.F(W, None, [V[0].astype(str)])
    with pytest.raises(TypeError, match=r"M1\[0\] must be a real numeric array, got dtype complex"):
        p.lagrangian_gradient(W, None, V, [m + 0j for m in M1], M2)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (numpy.matrix's own)
def test_inputs_found_by_the_fuzz_audit_of_session_37(monkeypatch):
    """Each of these ended inside numpy (or was taken silently): a number too large for a
    float (``OverflowError``), dates read as day counts, a ``numpy.matrix`` whose ``*`` is a
    matrix product, a complex ``V0`` carried through the forward pass, a missing ``V`` in
    ``lagrangian_gradient`` (``'NoneType' object is not iterable``)."""
    p = small()
    W, _ = p.initial_weights(0)
    M1, M2 = p.zero_multipliers()
    X = np.random.default_rng(0).standard_normal((10, 2))
    for name in ("alpha", "beta", "lam"):
        with pytest.raises(ValueError, match=rf"^{name} must be finite, got a number too large "
                                             r"for a float \(int of about 10\*\*400\)"):
            small(**{name: 10**400})
    with pytest.raises(ValueError, match=r"^tol must be finite"):
        ln.solve_alm(p, tol=-(10**400))
    for bad in (X.astype("datetime64[D]"), X.astype("timedelta64[s]"),
                [np.datetime64("NaT")] * 20):
        with pytest.raises(TypeError, match=r"^X must be a numeric array, got dates or durations"):
            ln.LiftedProblem(bad, X[:, :1], hidden=(3,))
    with pytest.raises(TypeError, match=r"^W\[0\] must be a numpy array, got numpy.matrix"):
        p.F([np.matrix(W[0]), W[1]], None)
    for V0, dt in ((X.T + 0j, "complex128"), (X.T.astype(object), "object")):
        with pytest.raises(TypeError, match=rf"^V0 must be a real numeric array, got dtype {dt}"):
            p.forward(W, None, V0)
    np.testing.assert_array_equal(p.forward(W, None, X.T.astype(np.float32))[0][0],
                                  p.forward(W, None, X.T.astype(np.float32).tolist())[0][0])
    # V = None is the lift, as in F
    for g, h in zip(p.lagrangian_gradient(W, None, None, M1, M2),
                    p.lagrangian_gradient(W, None, p.lift(W), M1, M2)):
        if g is not None:
            for a, c in zip(g, h):
                np.testing.assert_array_equal(a, c)


def test_sizes_beyond_the_memory_are_refused_by_name(monkeypatch):
    """``hidden=(2**62,)`` wrapped numpy's int64 product of the block sizes to a negative size
    that passed the memory check; the data generators allocated before any check
    (``make_teacher(10**12)``: "Unable to allocate 72.8 TiB")."""
    import liftnet._validation as validation
    from liftnet.datasets import make_mnist_like, make_teacher
    from liftnet.formulation.variables import Layout

    assert Layout((3, 2**62, 1), 6, False).size == 3 * 2**62 + 2**62 + 6 * 2**62
    X = np.ones((6, 3))
    with pytest.raises(ValueError, match=r"^hidden=\(4611686018427387904,\) with N=6 samples "
                                         r"gives a lifted model of 4\.6\d*e\+19 variables"):
        ln.LiftedProblem(X, X[:, :1], hidden=(2**62,))
    monkeypatch.setattr(validation, "physical_memory", lambda: 2**20)  # 1 MiB
    # make_teacher: 2 * 8 bytes per sample and width (the draws, X, Y, the forward pass)
    widths = (10, 8, 3)
    N = 2**20 // (16 * sum(widths))
    assert make_teacher(N, widths)[0].shape == (N, 10)
    with pytest.raises(ValueError, match=rf"^N={N + 1} needs [\d.]+ GiB for {N + 1} samples "
                                         r"of widths \(10, 8, 3\), more than this machine's "
                                         r"memory \(0\.000977 GiB\)"):
        make_teacher(N + 1, widths)
    with pytest.raises(ValueError, match=r"^widths=\(10, 100000, 3\) needs .* GiB for the "
                                         r"teacher's weights"):
        make_teacher(1, (10, 10**5, 3))
    with pytest.raises(ValueError, match=r"^N=100 needs .* GiB for 100 images of 784 pixels"):
        make_mnist_like(100)
    monkeypatch.setattr(validation, "physical_memory", lambda: None)  # unknown: not checked
    assert make_mnist_like(100)[0].shape == (100, 784)


def test_a_callback_without_a_truth_value_is_named():
    """A callback that returned a numpy array (a user's slip: ``return res["W"]``) failed inside
    the solver with numpy's "truth value of an array ... is ambiguous"."""
    p = small()
    bad = lambda *a: np.ones(3)  # noqa: E731
    for call, name in ((lambda: ln.solve_alm(p, max_iter=2, callback=bad), "callback"),
                       (lambda: ln.solve_alm(p, max_iter=2, inner_callback=bad),
                        "inner_callback"),
                       (lambda: prox_gradient(p, max_epochs=3, callback=bad), "callback"),
                       (lambda: sgd(p, max_epochs=1, callback=bad), "callback"),
                       (lambda: ln.solve_ipopt(p, max_iter=3, polish=False, callback=bad),
                        "callback")):
        with pytest.raises(TypeError, match=rf"^{name} must return None, True or False \(True "
                                            r"stops the solve\), got ndarray"):
            call()
    # a true value stops, None and False go on (numpy's booleans and numbers alike)
    assert ln.solve_alm(p, max_iter=5, callback=lambda r: np.bool_(True)).status == "interrupted"
    assert ln.solve_alm(p, max_iter=2, callback=lambda r: None).status != "interrupted"


def test_masked_entries_are_refused_not_trained_on():
    """numpy's cast (and scikit-learn's ``validate_data``) keep the values under a mask and
    drop the mask: the model trained on whatever the masked entries held."""
    from liftnet.datasets import standardize

    X = np.random.default_rng(0).standard_normal((12, 2))
    y = X[:, 0] ** 2
    mask = np.zeros(X.shape, dtype=bool)
    mask[3, 1] = True
    Xm = np.ma.masked_array(X, mask=mask)
    for call, name in ((lambda: ln.LiftedProblem(Xm, y, hidden=(3,)), "X"),
                       (lambda: ln.LiftedProblem(X, np.ma.masked_array(y, mask=mask[:, 1])),
                        "Y"),
                       (lambda: standardize(Xm), "X_train"),
                       (lambda: ln.SparseLeakyReLUNet(hidden=(2,)).fit(Xm, y), "X"),
                       (lambda: ln.SparseLeakyReLUNet(hidden=(2,)).fit(
                           X, np.ma.masked_array(y, mask=mask[:, 1])), "y")):
        with pytest.raises(ValueError, match=rf"^{name} has 1 masked entries: fill them"):
            call()
    # a masked array without masked entries is its data
    p = ln.LiftedProblem(np.ma.masked_array(X), y, hidden=(3,))
    np.testing.assert_array_equal(p.X, X)
    net = ln.SparseLeakyReLUNet(hidden=(2,), max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (one outer iteration: not converged)
        net.fit(X, y)
    with pytest.raises(ValueError, match=r"^X has 1 masked entries"):
        net.predict(Xm)


def test_a_sparse_matrix_is_refused_with_the_dense_conversion_named():
    """A SciPy sparse matrix failed inside numpy's cast ("setting an array element with a
    sequence"); the message now says what it is and how to convert it (the estimator's
    scikit-learn check says the same in its own words)."""
    import scipy.sparse as sp
    X = np.random.default_rng(0).standard_normal((6, 3))
    for kind in (sp.csr_matrix, sp.coo_array):
        with pytest.raises(TypeError, match=r"X is a sparse matrix \(\w+\): .*X\.toarray\(\)"):
            ln.LiftedProblem(kind(X), np.ones(6), hidden=(2,))
    p = small()
    W, _ = p.initial_weights(0)
    with pytest.raises(TypeError, match=r"W\[0\] is a sparse matrix"):
        ln.kkt_residuals(p, [sp.csr_matrix(W[0]), W[1]])


def test_masked_weights_are_refused_where_they_enter():
    """``check_matrix_list``, ``check_list_shapes`` and ``check_finite_array`` dropped the
    mask (the values under it were used: ``solve_alm``'s init, ``kkt_residuals``,
    ``prune_weights``, ``standardize``'s others) or failed inside numpy.ma (``Phi``)."""
    from liftnet.datasets import standardize

    p = small()
    W, _ = p.initial_weights(0)
    Wm = [np.ma.masked_greater(W[0], 0.1), W[1]]
    n = int(np.ma.count_masked(Wm[0]))
    V = p.lift(W)
    msg = r"^{} has {} masked entries: fill them"
    for call, name, k in (
        (lambda: p.Phi(Wm), r"W\[0\]", n),
        (lambda: p.F(W, None, [np.ma.masked_all(V[0].shape)]), r"V\[0\]", V[0].size),
        (lambda: p.forward(Wm), r"W\[0\]", n),
        (lambda: ln.solve_alm(p, init={"W": Wm}, max_iter=1), r"init\['W'\]\[0\]", n),
        (lambda: ln.kkt_residuals(p, Wm), r"W\[0\]", n),
        (lambda: ln.prune_weights(W, [np.ma.masked_all(3), np.ma.masked_all(1)], alpha=0.1),
         r"b\[0\]", 3),
        (lambda: standardize(p.X, np.ma.masked_all((2, 2))), r"others\[0\]", 4),
    ):
        with pytest.raises(ValueError, match=msg.format(name, k)):
            call()


def test_a_sparse_weight_in_the_models_own_evaluations_names_the_conversion():
    """``Phi``/``F``/``forward`` said "W[0] must be a real numeric array, got dtype object"."""
    import scipy.sparse as sp

    p = small()
    W, _ = p.initial_weights(0)
    for call in (p.Phi, p.forward, lambda W: p.F(W, None, p.lift(p.initial_weights(0)[0]))):
        with pytest.raises(TypeError, match=r"^W\[0\] is a sparse matrix \(csr_matrix\): .*"
                                            r"pass W\[0\]\.toarray\(\)"):
            call([sp.csr_matrix(W[0]), W[1]])


@pytest.mark.parametrize("dtype, native", [(">f8", np.float64), (np.dtype(">f4"), np.float32),
                                           ("<f8", np.float64)])
def test_a_float_dtype_of_either_byte_order_is_taken_in_native_order(dtype, native):
    """``dtype=np.dtype('>f8')`` was refused ("must be float64 or float32"); it is float64, and
    the problem's arrays are native (the compiled kernels' order)."""
    from liftnet._validation import check_float_dtype

    assert check_float_dtype(dtype) == np.dtype(native) and check_float_dtype(dtype).isnative
    p = small(dtype=dtype)
    assert p.dtype == np.dtype(native) and p.X.dtype.isnative
    res = ln.solve_alm(p, max_iter=2)
    assert res.W[0].dtype == np.dtype(native) and np.isfinite(res.Phi)
    with pytest.raises(ValueError, match=r"^dtype must be float64 or float32, got '>f2'"):
        check_float_dtype(">f2")


def test_minus_zero_lam_is_zero():
    """``lam=-0.0`` was kept (the repr showed ``lam=-0.0``)."""
    p = small(lam=-0.0)
    assert p.lam == 0.0 and np.copysign(1.0, p.lam) == 1.0
    from liftnet._validation import check_scalar

    assert np.copysign(1.0, check_scalar(-0.0, "x")) == 1.0
    assert check_scalar(-2.5, "x") == -2.5 and check_scalar(np.float32(0.1), "x") == float(
        np.float32(0.1))


def _array_likes(A):
    """``A`` as the array-likes a user may hand the model's methods: a masked array with
    nothing masked, a nested list, a CPU torch tensor, a pandas DataFrame."""
    import torch
    forms = {"masked": np.ma.masked_array(A), "list": A.tolist(), "torch": torch.tensor(A)}
    try:
        import pandas as pd
    except ImportError:  # (not a dependency of liftnet's)
        return forms
    return {**forms, "DataFrame": pd.DataFrame(A)}


@pytest.mark.parametrize("form", ["masked", "list", "torch", "DataFrame"])
def test_the_model_methods_take_array_likes_as_their_arrays(form):
    """``Phi``, ``F``, ``lift``, ``forward``, ``pre_activations`` and ``regulariser`` give the
    same numbers for an array-like entry as for the array (a masked array without masked
    entries crashed inside numpy.ma's product: "operands could not be broadcast"; a torch
    tensor and a DataFrame inside ``affine``)."""
    rng = np.random.default_rng(0)
    prob = ln.LiftedProblem(rng.standard_normal((12, 3)), rng.standard_normal((12, 2)),
                         hidden=(4,), lam=0.1, bias=True)
    W, b = prob.initial_weights(0)
    b = [c + 0.1 for c in b]
    V = prob.lift(W, b)
    forms = _array_likes(W[0])
    if form not in forms:
        pytest.skip("pandas is not installed")
    W1 = [forms[form], W[1]]
    V1 = [_array_likes(V[0])[form]]
    assert prob.Phi(W1, b) == prob.Phi(W, b)
    assert prob.F(W1, b, V1) == prob.F(W, b, V)
    assert prob.regulariser(W1) == prob.regulariser(W)
    np.testing.assert_array_equal(prob.lift(W1, b)[0], V[0])
    X0 = _array_likes(prob.V0)[form]
    np.testing.assert_array_equal(prob.forward(W, b, X0)[0][-1], prob.forward(W, b)[0][-1])
    for got, want in zip(prob.pre_activations(W1, b, V1), prob.pre_activations(W, b, V)):
        np.testing.assert_array_equal(got, want)


def test_the_model_methods_refuse_what_they_cannot_read_naming_it():
    """A ragged ``V0``, a tensor that requires grad, masked entries: a clear error naming the
    argument, not numpy's."""
    import torch
    rng = np.random.default_rng(0)
    prob = ln.LiftedProblem(rng.standard_normal((12, 3)), rng.standard_normal((12, 2)),
                         hidden=(4,))
    W, _ = prob.initial_weights(0)
    with pytest.raises(ValueError, match=r"^V0 must be an array of shape \(3, M\), got a "
                                         r"ragged sequence"):
        prob.forward(W, None, [[1, 2], [3]])
    with pytest.raises(TypeError, match=r"^W\[0\] must be an array of shape \(4, 3\), got "
                                        r"Tensor that numpy cannot convert"):
        prob.Phi([torch.tensor(W[0], requires_grad=True), W[1]])
    masked = np.ma.masked_array(W[0], mask=np.eye(4, 3, dtype=bool))
    with pytest.raises(ValueError, match=r"^W\[0\] has 3 masked entries"):
        prob.Phi([masked, W[1]])


def test_the_low_level_model_methods_read_their_input_as_documented():
    """``pre_activations`` with ``V = None`` is that of the exact lift (as ``F``); integer
    ``U, V`` give the gaps of their values (uint8 wrapped around: ``0 - 1 = 255``); ``loss``
    names a wrong shape; ``sigma`` takes a list."""
    rng = np.random.default_rng(0)
    prob = ln.LiftedProblem(rng.standard_normal((12, 3)), rng.standard_normal((12, 2)),
                         hidden=(4,))
    W, _ = prob.initial_weights(0)
    for got, want in zip(prob.pre_activations(W, None, None),
                         prob.pre_activations(W, None, prob.lift(W))):
        np.testing.assert_array_equal(got, want)
    U, V = [np.zeros((4, 12), np.uint8)], [np.ones((4, 12), np.uint8)]
    g1, g2 = prob.constraints(U, V)
    assert np.all(g1[0] == -1.0) and np.all(g2[0] == -1.0)
    with pytest.raises(ValueError, match=r"^UL must have shape \(2, 12\)"):
        prob.loss(np.zeros((3, 3)))
    np.testing.assert_array_equal(prob.sigma([1.0, -1.0]), [1.0, -prob.alpha])


def test_an_empty_folder_name_is_the_current_folder():
    """``check_path(..., folder=True)``: ``""`` is the current folder (compare's out_dir);
    only a file name may not be empty."""
    assert check_path("", "out_dir", folder=True) == ""
    with pytest.raises(ValueError, match="^path is empty, expected a file name"):
        check_path("", "path")


def test_boolean_arrays_are_a_real_numeric_dtype():
    """kinds b, i, u, f pass the model's cheap structure check; complex does not."""
    for dt in (bool, np.int8, np.uint16, np.float32):
        check_real_dtype(np.zeros(3, dt), "A")
    check_list_shapes([np.ones((2, 2), bool)], "W", [(2, 2)])
    with pytest.raises(TypeError, match="^A must be a real numeric array, got dtype complex128"):
        check_real_dtype(np.zeros(3, complex), "A")


def test_data_exactly_at_the_magnitude_limit_is_refused():
    """The bound of check_magnitude is strict: ``max |A| < (max float / size)^(1/4)``."""
    limit = float(np.finfo(np.float64).max / 1) ** 0.25
    with pytest.raises(ValueError, match="^X is too large for float64"):
        check_magnitude(np.array([[limit]]), "X")
    below = np.nextafter(limit, 0.0)
    assert check_magnitude(np.array([[below]]), "X").shape == (1, 1)


def test_a_seed_is_none_only_where_allowed():
    assert check_seed(None, allow_none=True) is None
    with pytest.raises(TypeError, match="^seed must be an integer, got None"):
        check_seed(None)


def test_make_teacher_refuses_a_none_seed():
    """A data set is reproducible: seed=None (fresh entropy) is refused, not taken."""
    with pytest.raises(TypeError, match="^seed must be an integer, got None"):
        ln.datasets.make_teacher(20, seed=None)


def test_a_choice_is_a_str_not_something_equal_to_one():
    """check_choice returns a str: a numpy text array that compares equal is refused."""
    assert check_choice("row", "groups", ("column", "row")) == "row"
    for x in (np.array("row"), np.array(["row"]), None, ["row"]):
        with pytest.raises(ValueError, match=r"^groups must be one of \('column', 'row'\)"):
            check_choice(x, "groups", ("column", "row"))


@pytest.mark.parametrize("x", [np.array(["1.5"]), ["1.5", "2"], np.array([b"2"]),
                               np.array([1.0, "3"], dtype=object)])
def test_as_real_array_refuses_text(x):
    with pytest.raises(TypeError, match="^a must be a numeric array, got text"):
        as_real_array(x, "a")


def test_as_real_array_still_takes_numbers():
    A = as_real_array([[1, 2], [3, 4]], "a", np.float32)
    assert A.dtype == np.float32 and A.tolist() == [[1, 2], [3, 4]]
    assert as_real_array(np.array([1.0, 2], dtype=object), "a").tolist() == [1.0, 2.0]


def test_a_huge_python_int_in_the_data_is_a_valueerror_naming_it():
    """An integer too large for any float (a Python int, ``10**400``) ended in numpy's
    ``OverflowError: int too large to convert to float``, naming nothing."""
    X = np.random.default_rng(0).standard_normal((10, 2)).tolist()
    X[3][1] = 10**400
    for dtype in (np.float64, np.float32):
        with pytest.raises(ValueError, match=r"^X has entries beyond the range of float"):
            ln.LiftedProblem(X, np.zeros((10, 1)), hidden=(3,), dtype=dtype)
    with pytest.raises(ValueError, match=r"^A has entries beyond the range of float64"):
        as_real_array([1, -(10**400)], "A")
    with pytest.raises(ValueError, match=r"^Q has entries beyond the range of float64"):
        check_finite_array([10**400], "Q", np.float64)


def test_check_argv_refuses_non_strings_by_name():
    """"None or a sequence of strings": a non-iterable, or an argument that is no string, went
    on into argparse ("'int' object is not subscriptable")."""
    from liftnet.cli import main

    assert check_argv(("solve", "--help")) == ["solve", "--help"]
    with pytest.raises(TypeError, match=r"^argv must be None or a list of arguments"):
        check_argv(5)
    with pytest.raises(TypeError, match=r"^argv\[1\] must be a str"):
        check_argv(["solve", 4])
    with pytest.raises(TypeError, match=r"^argv\[0\] must be a str"):
        main([1])


def test_check_list_names_what_in_both_errors():
    """``what`` is "the kind named in the error": the length error said "arrays" whatever it
    was."""
    with pytest.raises(TypeError, match=r"^W must be a list of 2 arrays or CVXPY expressions"):
        check_list(5, "W", 2, "arrays or CVXPY expressions")
    with pytest.raises(ValueError, match=r"^W must hold 2 arrays or CVXPY expressions, got 1$"):
        check_list([1], "W", 2, "arrays or CVXPY expressions")
    with pytest.raises(ValueError, match=r"^W must hold 2 arrays, got 1$"):
        check_list([1], "W", 2)

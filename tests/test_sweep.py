"""benchmarks/sweep.py: the per-N median over seeds and the log-log slope it is read by."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import sweep  # noqa: E402 (the benchmarks folder on the path)


def test_median_over_seeds_needs_most_runs_to_reach_a_level():
    # two N, three seeds each, two levels; nan = the run did not reach the level
    ts = np.array([[1.0, 2.0], [3.0, np.nan], [2.0, np.nan],
                   [4.0, 8.0], [np.nan, 9.0], [5.0, 7.0]])
    med = sweep.median_over_seeds(ts, 3)
    assert med.shape == (2, 2)
    assert med[0, 0] == 2.0 and np.isinf(med[0, 1])  # one of three reached: no median
    assert med[1, 0] == 5.0  # the unreached run counts as the slowest
    assert med[1, 1] == 8.0


def test_slope_of_times_linear_and_quadratic_in_N():
    Ns = np.array([50, 100, 200, 400])
    assert sweep.loglog_slope(Ns, 0.01 * Ns) == pytest.approx(1.0)
    assert sweep.loglog_slope(Ns, 1e-4 * Ns**2.0) == pytest.approx(2.0)
    assert np.isnan(sweep.loglog_slope(Ns, [1.0, np.inf, np.inf, np.inf]))


def test_wide_family_over_seeds_end_to_end(capsys):
    rows = sweep.main(["wide", "--Ns", "20", "40", "--seeds", "0", "1", "--time-limit", "2",
                       "--levels", "1"])
    out = capsys.readouterr().out
    assert len(rows) == 4
    assert "N=40 seed=1" in out
    assert "MEDIAN over 2 seeds, N=20" in out and "MEDIAN over 2 seeds, N=40" in out
    assert "SLOPE" in out


def test_seeds_are_refused_outside_the_wide_family(capsys):
    with pytest.raises(SystemExit) as exc:
        sweep.main(["teacher24", "--seeds", "0", "1"])
    assert exc.value.code == 2
    assert "--seeds applies to the wide family" in capsys.readouterr().err


@pytest.mark.parametrize("family", ["teacher24", "quick18", "digits9"])
def test_ns_are_refused_outside_the_wide_family(family, monkeypatch, capsys):
    """``--Ns`` feeds only ``wide``: with another family it is refused by name (it was ignored),
    even when it repeats wide's default N."""
    def no_work(*a, **k):
        raise AssertionError("the sweep ran although --Ns was refused")

    monkeypatch.setattr(sweep, "FAMILIES", {**sweep.FAMILIES, family: no_work})
    for Ns in (["20", "30"], ["50", "100", "200", "400"]):
        with pytest.raises(SystemExit) as exc:
            sweep.main([family, "--Ns", *Ns])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "argument --Ns: --Ns applies to the wide family" in err and family in err


class _Seen(Exception):
    """Raised by a fake family once it has seen the options: no run."""


def test_wide_keeps_its_default_ns(monkeypatch):
    seen = []

    def fake_wide(args):
        seen.append((args.Ns, args.seeds))
        raise _Seen

    monkeypatch.setattr(sweep, "FAMILIES", {**sweep.FAMILIES, "wide": fake_wide})
    for argv in (["wide"], ["wide", "--Ns", "20", "40", "--seeds", "1", "2"]):
        with pytest.raises(_Seen):
            sweep.main(argv)
    assert seen == [([50, 100, 200, 400], [0]), ([20, 40], [1, 2])]


def test_param_values_numbers_and_per_sample():
    assert sweep.parse_param("kappa=0") == ("kappa", 0)
    assert sweep.parse_param("theta=0.5") == ("theta", 0.5)
    assert sweep.parse_param("polish_weights=true") == ("polish_weights", True)
    assert sweep.parse_param("polish_weights=False") == ("polish_weights", False)
    name, f = sweep.parse_param("rho0=1000/N")
    assert name == "rho0" and f(400) == pytest.approx(2.5)
    for bad in ("rho0", "=3", "rho0=abc", "rho0=x/N"):
        with pytest.raises(ValueError, match="--param"):
            sweep.parse_param(bad)


def test_a_bad_param_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exc:
        sweep.main(["teacher24", "--param", "rho0=x/N"])
    assert exc.value.code == 2 and "rho0" in capsys.readouterr().err


def test_quick18b3_holds_the_readme_quickstart_problem():
    """``quick18b3`` is ``quick18`` at ``beta = 3``, and its data set 0 is the README's
    quickstart problem but for ``beta`` (the README's until session 50, which now passes
    ``beta = 5``; the family where a looser ``eps0`` stalled, docs/maths.md 6.1)."""
    from test_readme import quickstart_code

    namespace = {}
    setup = quickstart_code().split("res = solve_alm")[0]  # the data and the problem only
    exec(compile(setup, "README.md:quickstart", "exec"), namespace)
    readme = namespace["prob"]
    b1, b3 = list(sweep.quick18(None)), list(sweep.quick18b3(None))
    assert [(n, s) for n, _, s in b1] == [(n, s) for n, _, s in b3] and len(b3) == 18
    for (_, p1, _), (_, p3, _) in zip(b1, b3):
        assert (p1.beta, p3.beta) == (1.0, 3.0)
        np.testing.assert_array_equal(p1.X, p3.X)
    name, prob, _ = b3[0]
    assert name == "data=0 seed=0"
    for attr in ("lam", "alpha", "widths"):
        assert getattr(prob, attr) == getattr(readme, attr), attr
    assert (prob.beta, readme.beta) == (3.0, 5.0)
    np.testing.assert_array_equal(prob.X, readme.X)
    np.testing.assert_array_equal(prob.Y, readme.Y)

"""The benchmark scripts refuse bad options before any work (exit status 2, the option named),
and Ctrl-C stops each whole script with exit status 130 (the solvers return ``interrupted``,
mocked here)."""

import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_alm  # noqa: E402 (the benchmarks folder on the path)
import bench_datasets  # noqa: E402
import bench_ipopt  # noqa: E402
import bench_multipliers  # noqa: E402
import fingerprint  # noqa: E402
import sensitivity  # noqa: E402
import sweep  # noqa: E402

REFUSED = [
    (bench_ipopt, ["--N0", "0"], "--N0"),
    (bench_ipopt, ["--N0", "-1"], "--N0"),
    (bench_ipopt, ["--N0", "400", "--Nmax", "100"], "--Nmax"),
    (bench_ipopt, ["--widths", "8-x"], "--widths"),
    (bench_ipopt, ["--widths", "8,16,4"], "--widths"),
    (bench_ipopt, ["--widths", "8"], "--widths"),
    (bench_ipopt, ["--coupling", "foo"], "--coupling"),
    (bench_ipopt, ["--seed", "-1"], "--seed"),
    (bench_ipopt, ["--cap", "-1"], "--cap"),
    # --quick fixes the sizes: an explicit one is refused, even at the default's value
    (bench_ipopt, ["--quick", "--widths", "8-16-4"], "argument --widths: not allowed with "
                                                     "argument --quick"),
    (bench_ipopt, ["--quick", "--N0", "50"], "argument --N0: not allowed with argument --quick"),
    (bench_ipopt, ["--quick", "--Nmax", "100"], "argument --Nmax: not allowed with argument "
                                                "--quick"),
    (bench_alm, ["--quick", "--Ns", "-5"], "--Ns"),
    (bench_alm, ["--quick", "--Ns", "0"], "--Ns"),
    (bench_alm, ["--quick", "--Ns", "1000", "1000"], "--Ns"),
    (bench_alm, ["--beta", "-1"], "--beta"),
    (bench_alm, ["--beta", "0"], "--beta"),
    (bench_alm, ["--beta", "nan"], "--beta"),
    (bench_alm, ["--beta", "inf"], "--beta"),
    (bench_multipliers, ["--Ns", "-5"], "--Ns"),
    (bench_multipliers, ["--Ns", "0"], "--Ns"),
    (bench_multipliers, ["--Ns", "50", "50"], "--Ns"),
    (bench_multipliers, ["--outer", "0"], "--outer"),
    (bench_multipliers, ["--outer", "-1"], "--outer"),
    (bench_multipliers, ["--cap", "-1"], "--cap"),
    (bench_multipliers, ["--cap", "0"], "--cap"),
    (bench_multipliers, ["--methods", "ip-kkt", "ip-kkt"], "--methods"),
    (sweep, ["wide", "--Ns", "-5"], "--Ns"),
    (sweep, ["wide", "--Ns", "50", "50"], "--Ns"),
    (sweep, ["wide", "--seeds", "-1"], "--seeds"),
    (sweep, ["wide", "--seeds", "0", "0"], "--seeds"),
    # --Ns feeds only the wide family: refused with another, even at wide's default
    (sweep, ["teacher24", "--Ns", "20"], "argument --Ns: --Ns applies to the wide family"),
    (sweep, ["quick18", "--Ns", "50", "100", "200", "400"], "argument --Ns: --Ns applies to"),
    (sweep, ["teacher24", "--seeds", "0"], "argument --seeds: --seeds applies to the wide"),
    (sweep, ["teacher24", "--tol", "0"], "--tol"),
    (sweep, ["teacher24", "--time-limit", "-1"], "--time-limit"),
    (sweep, ["teacher24", "--param", "foo=1"], "--param foo"),
    (sweep, ["teacher24", "--param", "tol=1e-3"], "--param tol"),
    (sweep, ["teacher24", "--param", "seed=1"], "--param seed"),
    (sweep, ["teacher24", "--param", "rho0=5/N", "--param", "rho0=1"], "--param rho0"),
    # values solve_alm refuses, refused before the sweep (a traceback after the warm-up)
    (sweep, ["teacher24", "--param", "kappa=-5"], "--param kappa: kappa must be >= 0"),
    (sweep, ["teacher24", "--param", "max_iter=2.5"], "--param max_iter: max_iter must be an"),
    (sweep, ["teacher24", "--param", "rho0=-5/N"], "--param rho0: rho0 must be > 0"),
    (sweep, ["teacher24", "--param", "inner=newton"], "--param inner: inner must be"),
    (bench_ipopt, ["--seed", "0", "0", "1"], "--seed"),
    (bench_ipopt, ["--levels", "1e-3", "1e-3"], "--levels"),
    (sensitivity, ["--seeds", "-1"], "--seeds"),
    (sensitivity, ["--seeds", "0", "0"], "--seeds"),
    (sensitivity, ["--eps", "nan"], "--eps"),
    (sensitivity, ["--lam", "-1"], "--lam"),
    (sensitivity, ["--time-limit", "-1"], "--time-limit"),
    (fingerprint, ["--cases", "foo"], "--cases"),
    (fingerprint, ["--cases", "digits", "digits"], "--cases"),
    (fingerprint, ["--repeats", "0"], "--repeats"),
    (bench_datasets, ["--datasets", "mnist"], "--datasets"),
    (bench_datasets, ["--datasets", "iris", "iris"], "--datasets"),
    (bench_datasets, ["--lams", "-1"], "--lams"),
    (bench_datasets, ["--betas", "0"], "--betas"),
    (bench_datasets, ["--betas", "1", "1"], "--betas"),
    (bench_datasets, ["--time-limit", "0"], "--time-limit"),
    (bench_datasets, ["--hidden", "0"], "--hidden"),
    (bench_datasets, ["--seeds", "0", "0"], "--seeds"),
    (bench_datasets, ["--seeds", "-1"], "--seeds"),
]


@pytest.mark.parametrize("module, argv, option", REFUSED,
                         ids=[f"{m.__name__} {' '.join(a)}" for m, a, _ in REFUSED])
def test_bad_options_are_refused_before_any_work(module, argv, option, monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the options were checked")

    for name in ("solve_alm", "warm_up", "load_digits_problem", "teacher_problem", "run"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, no_work)
    with pytest.raises(SystemExit) as exc:
        module.main(argv)
    assert exc.value.code == 2
    assert option in capsys.readouterr().err


def test_widths_are_parsed():
    assert bench_ipopt.parse_args(["--widths", "8-16-4"]).widths == (8, 16, 4)
    assert bench_ipopt.parse_args([]).widths == (8, 16, 16, 4)


def _bench_ipopt_sizes(monkeypatch, argv):
    """The widths, N, IPOPT cap and ALM time limit that ``bench_ipopt.main(argv)`` runs with."""
    seen = []

    def fake_run(widths, Ns, cap, tol, seed, coupling, lam, alm_time_limit, *a):
        seen.append((tuple(widths), list(Ns), cap, alm_time_limit))
        return bench_ipopt.Rows()

    monkeypatch.setattr(bench_ipopt, "run", fake_run)
    bench_ipopt.main(argv)
    return seen[0]


def test_bench_ipopt_quick_honours_an_explicit_cap(monkeypatch):
    """``--quick`` caps IPOPT at 30 s unless ``--cap`` is given: then the given cap, above 30 s
    too (it was capped at 30 s whatever ``--cap`` said)."""
    assert _bench_ipopt_sizes(monkeypatch, ["--quick", "--cap", "100"]) == (
        (3, 4, 4, 2), [20, 40], 100.0, 60.0)
    assert _bench_ipopt_sizes(monkeypatch, ["--quick", "--cap", "5", "--alm-time-limit", "7"]) \
        == ((3, 4, 4, 2), [20, 40], 5.0, 7.0)
    assert _bench_ipopt_sizes(monkeypatch, ["--quick"]) == ((3, 4, 4, 2), [20, 40], 30.0, 60.0)


def test_bench_ipopt_defaults_without_quick(monkeypatch):
    widths, Ns, cap, alm_limit = _bench_ipopt_sizes(monkeypatch, [])
    assert (widths, Ns[0], Ns[-1], len(Ns), cap, alm_limit) == (
        (8, 16, 16, 4), 50, 6400, 8, 600.0, None)
    assert _bench_ipopt_sizes(monkeypatch, ["--N0", "400", "--Nmax", "1600", "--cap", "20"]) == (
        (8, 16, 16, 4), [400, 800, 1600], 20.0, None)


def interrupted_result(**more):
    return SimpleNamespace(status="interrupted", kkt={"residual": 1.0}, time=0.1, nit=1,
                           n_inner=1, Phi=1.0, **more)


def interrupted_main(monkeypatch, capsys, module, solver, argv, returned=None, **more):
    """``module.main(argv)`` with ``module.warm_up`` a no-op and ``module.<solver>`` (and any
    ``more`` names) replaced by stubs: ``solver`` counts its calls and returns an interrupted
    result (or ``returned``). Checks the exit status 130; returns the call count and stdout."""
    calls = []
    out = interrupted_result() if returned is None else returned
    monkeypatch.setattr(module, "warm_up", lambda *a: None)
    monkeypatch.setattr(module, solver, lambda *a, **k: calls.append(1) or out)
    for name, stub in more.items():
        monkeypatch.setattr(module, name, stub)
    with pytest.raises(SystemExit) as exc:
        module.main(argv)
    assert exc.value.code == 130
    return len(calls), capsys.readouterr().out


def test_bench_ipopt_ctrl_c_exits_130(monkeypatch, capsys):
    _, out = interrupted_main(monkeypatch, capsys, bench_ipopt, "traced_alm",
                              ["--N0", "20", "--Nmax", "40"], returned=(interrupted_result(), []))
    assert "interrupted during the ALM at N=20" in out


def test_bench_ipopt_ctrl_c_in_a_run_to_a_level_exits_130(monkeypatch, capsys):
    """A Ctrl-C in one of the ALM runs with ``tol`` at a level (``solve_alm`` returns
    ``interrupted``) ends the benchmark with exit 130, after its first call."""
    done = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7})
    monkeypatch.setattr(bench_ipopt, "traced_alm", lambda *a, **k: (done, [(0.5, 1e-3)]))
    monkeypatch.setattr(bench_ipopt, "traced_ipopt", lambda *a, **k: (
        SimpleNamespace(status="converged", time=10.0, kkt={"residual": 1e-3}), []))
    monkeypatch.setattr(bench_ipopt, "build_pyomo_model", lambda prob: None)
    calls, out = interrupted_main(monkeypatch, capsys, bench_ipopt, "solve_alm",
                                  ["--N0", "20", "--Nmax", "40", "--levels", "1e-3", "1e-4"])
    assert calls == 1 and "interrupted: the rows above are complete." in out


def test_bench_multipliers_stops_when_the_alm_is_interrupted(monkeypatch, capsys):
    calls, out = interrupted_main(monkeypatch, capsys, bench_multipliers, "solve_alm",
                                  ["--Ns", "20", "30", "--methods", "ip-kkt"])
    assert calls == 1
    assert "interrupted: the rows above are complete." in out
    assert "teacher N=20" not in out  # the cut point is no row


def test_bench_alm_drops_the_interrupted_row_and_does_not_time_it(monkeypatch, capsys):
    def no_timing(*args, **kwargs):
        raise AssertionError("the interrupted row was timed")

    _, out = interrupted_main(monkeypatch, capsys, bench_alm, "solve_alm",
                              ["--quick", "--no-digits", "--Ns", "50", "60"],
                              matmul_floor=no_timing, inner_iteration_cost=no_timing)
    assert "interrupted: the table has the rows finished before" in out
    assert "mnist-like" not in out


def test_sensitivity_ctrl_c_stops_the_whole_script(monkeypatch, capsys):
    calls, out = interrupted_main(monkeypatch, capsys, sensitivity, "solve_alm",
                                  ["--seeds", "0", "1", "--time-limit", "1"])
    assert calls == 1 and "interrupted" in out


def test_fingerprint_ctrl_c_stops_the_whole_script(monkeypatch, capsys):
    calls, out = interrupted_main(monkeypatch, capsys, fingerprint, "solve_alm",
                                  ["--cases", "squared", "float32"])
    assert calls == 1 and "interrupted" in out


def test_fingerprint_hashes_the_end_point_and_repeats_it(capsys):
    """Two solves of one case end at the same point (same seed, same result): one hash, the
    SHA-1 of ``W, b, V, M1, M2`` in order; another end point, another hash."""
    import hashlib

    import numpy as np

    ((name, digest, res, t),) = fingerprint.main(["--cases", "squared", "--repeats", "2"])
    assert name == "squared" and t > 0 and res.status == "max_iter"
    h = hashlib.sha1()
    for a in [*res.W, *res.b, *res.V, *res.M1, *res.M2]:
        h.update(np.ascontiguousarray(a).tobytes())
    assert digest == h.hexdigest()[:12] == fingerprint.fingerprint(res)
    res.V[0][0, 0] = np.nextafter(res.V[0][0, 0], np.inf)  # one unit in the last place
    assert fingerprint.fingerprint(res) != digest
    assert f"squared | {digest} | max_iter | 12 |" in capsys.readouterr().out


def test_fingerprint_loops_gives_both_loops_the_same_hash(capsys):
    """``--loops``: the Python and the compiled inner loop of the ``squared`` case (5-8-6-2
    teacher with biases, float64: the compiled loop takes it) end at the same point, the
    compiled loop faster; the switch is back on afterwards."""
    from liftnet.solvers import owlqn_compiled

    ((name, hp, hc, tp, tc),) = fingerprint.main(["--cases", "squared", "--loops"])
    assert name == "squared" and hp == hc != "UNSTABLE" and tp > 0 and tc > 0
    assert owlqn_compiled.ENABLED
    assert f"squared | {hp} | {hc} |" in capsys.readouterr().out


def test_fingerprint_flags_a_case_whose_repeats_differ(monkeypatch):
    """Repeats that end at different points (the run depended on something else than the
    seed) are reported as such, not as one of their hashes."""
    digests = iter(["aaa", "bbb"])
    done = SimpleNamespace(status="max_iter")
    monkeypatch.setattr(fingerprint, "solve_alm", lambda *a, **k: done)
    monkeypatch.setattr(fingerprint, "fingerprint", lambda res: next(digests))
    digest, res, _ = fingerprint.run_case("squared", 2)
    assert (digest, res) == ("UNSTABLE", done)


def test_sweep_ctrl_c_in_the_first_run_exits_130_without_a_summary(monkeypatch, capsys):
    """The cut run makes no row (as in the other scripts, since session 50), so there is
    nothing to summarise."""
    calls, out = interrupted_main(monkeypatch, capsys, sweep, "solve_alm",
                                  ["wide", "--Ns", "20", "--seeds", "0", "1", "--time-limit", "1"])
    assert calls == 1 and "interrupted" in out and "SUMMARY" not in out


def test_bench_datasets_prints_its_rows_and_stops_at_a_ctrl_c(monkeypatch, capsys):
    """One row per fit and one per MLP; a fit that a Ctrl-C interrupted (the estimator keeps
    it, status ``interrupted``) stops the whole script with 130, no row made of it."""
    import functools

    import liftnet.solvers.alm as alm

    rows = bench_datasets.main(["--datasets", "iris", "--lams", "1e-2", "--betas", "1",
                                "--time-limit", "5", "--proxgrad"])
    assert len(rows) == 2 and rows[0]["status"] == "converged" and rows[0]["test"] > 0.8
    # the proximal gradient on (P) from the same start (measured: Phi 0.1099, test 0.978)
    pg = rows[1]
    assert pg["beta"] == "PG" and pg["test"] > 0.8 and pg["units"] <= 16
    assert pg["status"] in ("converged", "time_limit", "max_iter")
    out = capsys.readouterr().out
    assert "iris" in out and "MLP" in out
    # several seeds: one row of medians, the status counting the converged fits
    assert bench_datasets.median_row([{"status": "converged", "test": 0.9},
                                      {"status": "time_limit", "test": 0.7},
                                      {"status": "converged", "test": 0.8}]) == {
        "test": 0.8, "status": "2/3 conv"}
    # a callback that asks to stop ends the solve "interrupted", as a Ctrl-C does
    real = alm.solve_alm
    monkeypatch.setattr(alm, "solve_alm", functools.partial(real, callback=lambda rec: True))
    with pytest.raises(SystemExit) as exc:
        bench_datasets.main(["--datasets", "iris", "wine", "--time-limit", "5"])
    assert exc.value.code == 130
    out = capsys.readouterr().out
    assert "interrupted: the rows above are complete." in out and "wine" not in out


def test_bench_ipopt_takes_several_seeds_and_gives_their_medians():
    """``--seed 0 1 2``: every N runs each seed (one is the default); the medians over them
    take, per level, each solver's median time (``inf`` when half the seeds never reached it)
    and the median of the ratios of the seeds where both did; the same for the ALM runs with
    ``tol`` at the level (the fourth time of each level)."""
    assert bench_ipopt.parse_args([]).seed == [0]
    assert bench_ipopt.parse_args(["--seed", "0", "1", "2"]).seed == [0, 1, 2]
    inf = np.inf

    def row(N, seed, reach, t_ipopt=600.0):
        return {"N": N, "seed": seed, "reach": reach, "t_ipopt": t_ipopt}

    rows = [row(400, 0, {1e-3: (2.0, 90.0, np.nan, 1.0), 1e-4: (6.0, inf, np.nan, 4.0)}),
            row(400, 1, {1e-3: (1.0, 60.0, np.nan, 1.2), 1e-4: (5.0, inf, np.nan, inf)},
                500.0),
            row(400, 2, {1e-3: (1.5, 100.0, np.nan, 0.5), 1e-4: (inf, 50.0, np.nan, 5.0)}),
            row(800, 0, {1e-3: (9.0, 9.0, np.nan, 3.0), 1e-4: (inf, inf, np.nan, inf)})]
    assert (bench_ipopt.level_medians(rows, 400, 1e-3)
            == (1.5, 90.0, 60.0, 3, 3, 60.0, 3, 1.0, 90.0, 3))
    t_alm, t_ip, ratio, both, n, lb, n_alm, t_run, ratio_run, both_run = (
        bench_ipopt.level_medians(rows, 400, 1e-4))
    assert (t_alm, t_ip, both, n) == (6.0, inf, 0, 3) and np.isnan(ratio)
    # the runs with tol=1e-4: 4, inf and 5 s; IPOPT reached 1e-4 on seed 2 only (50 s)
    assert (t_run, ratio_run, both_run) == (5.0, 10.0, 1)
    # the lower bounds: IPOPT's whole runs (600 s, 500 s) over the ALM's 6 s and 5 s, where
    # IPOPT never reached 1e-4; none where the ALM did not (seed 2)
    assert (lb, n_alm) == (100.0, 2)
    assert bench_ipopt.level_bound(5.0, inf, 500.0) == 100.0
    assert bench_ipopt.level_bound(5.0, 50.0, 500.0) == 10.0
    assert np.isnan(bench_ipopt.level_bound(inf, 50.0, 500.0))
    assert (bench_ipopt.level_medians(rows, 800, 1e-3)
            == (9.0, 9.0, 1.0, 1, 1, 1.0, 1, 3.0, 3.0, 1))


def test_bench_ipopt_runs_every_seed_at_each_n_then_stops_at_the_cap(monkeypatch, capsys):
    """The stop at IPOPT's cap comes after the N's last seed; the medians table follows."""
    ran = []

    def fake_alm(prob, seed, *a, **k):
        ran.append((prob.N, seed))
        return SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7}), \
            [(0.5, 1e-3)]

    def fake_ipopt(prob, seed, cap, init=None):
        over = prob.N == 40 and seed == 0
        return (SimpleNamespace(status="time_limit" if over else "converged",
                                time=2 * cap if over else 10.0, kkt={"residual": 1e-3}),
                [(5.0, 1e-3)])

    monkeypatch.setattr(bench_ipopt, "warm_up", lambda *a: None)
    monkeypatch.setattr(bench_ipopt, "traced_alm", fake_alm)
    monkeypatch.setattr(bench_ipopt, "traced_ipopt", fake_ipopt)
    monkeypatch.setattr(bench_ipopt, "build_pyomo_model", lambda prob: None)
    monkeypatch.setattr(bench_ipopt, "alm_time_to", lambda prob, seed, level, tl: 0.25)
    rows = bench_ipopt.main(["--N0", "20", "--Nmax", "80", "--seed", "0", "1",
                             "--levels", "1e-3"])
    assert ran == [(20, 0), (20, 1), (40, 0), (40, 1)]
    assert [(r["N"], r["seed"]) for r in rows] == ran
    out = capsys.readouterr().out
    assert "IPOPT exceeded the cap of 600 s at N=40: stop." in out
    assert "medians over the seeds" in out
    assert "    20    1e-03     0.50      5.00     10.0    2/2" in out
    assert "      0.25       20.0       2/2" in out  # the runs with tol=1e-3: 5 s / 0.25 s


def test_bench_ipopt_ctrl_c_in_a_later_seed_stops_every_loop(monkeypatch, capsys):
    """A Ctrl-C in the ALM of the second seed at the first N: exit 130 with the first seed's
    row printed, and neither that N's other seeds nor the next N run."""
    calls = []
    done = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7})

    def fake_alm(prob, seed, *a, **k):
        calls.append((prob.N, seed))
        return (interrupted_result() if len(calls) == 2 else done), [(0.5, 1e-3)]

    monkeypatch.setattr(bench_ipopt, "traced_ipopt", lambda *a, **k: (
        SimpleNamespace(status="converged", time=10.0, kkt={"residual": 1e-3}), []))
    monkeypatch.setattr(bench_ipopt, "build_pyomo_model", lambda prob: None)
    levels = []
    monkeypatch.setattr(bench_ipopt, "alm_time_to", lambda *a: levels.append(a) or 0.25)
    _, out = interrupted_main(monkeypatch, capsys, bench_ipopt, "traced_alm",
                              ["--N0", "20", "--Nmax", "40", "--seed", "0", "1", "2"],
                              traced_alm=fake_alm)
    assert len(levels) == 5  # the first seed's runs to the five default levels
    assert calls == [(20, 0), (20, 1)]
    assert "interrupted during the ALM at N=20" in out
    assert "    20     0     1.00" in out


def test_bench_multipliers_times_ip_kkt_first_for_the_ratio_column(capsys):
    """The ratio column is each method's time over ip-kkt's: ip-kkt runs first whatever the
    order of --methods (a method listed before it had a blank ratio)."""
    bench_multipliers.run([20], outer=2, cap=5.0, methods=["bb", "ip-kkt"], quick=True)
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("teacher N=20")]
    assert [row.split()[3] for row in rows] == ["ip-kkt", "bb"]
    assert float(rows[0].split()[-1]) == 1.0 and float(rows[1].split()[-1]) > 0


@pytest.mark.parametrize("module,argv", [
    (bench_datasets, ["--quick"]),
    (bench_ipopt, ["--quick"]),
    (bench_multipliers, ["--quick"]),
], ids=["bench_datasets", "bench_ipopt", "bench_multipliers"])
def test_a_ctrl_c_outside_the_solvers_exits_130_with_one_line(module, argv, monkeypatch,
                                                                capsys):
    """A Ctrl-C in the data load or the model build (here: in ``run`` itself) ends the
    script with exit status 130 and one line, no traceback (``bench_args.until_ctrl_c``)."""
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(module, "run", ctrl_c)
    with pytest.raises(SystemExit) as exc:
        module.main(argv)
    assert exc.value.code == 130
    assert capsys.readouterr().out == "interrupted: the rows above are complete.\n"


def test_sweep_ctrl_c_in_a_solve_is_no_row_and_the_summary_covers_the_runs_before(
        monkeypatch, capsys):
    """The second run returns ``interrupted``: no row of it, the summary of the first, 130."""
    done = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7}, nit=1,
                           n_inner=3, Phi=1.0)
    results = iter([done, interrupted_result()])
    calls, out = interrupted_main(monkeypatch, capsys, sweep, "solve_alm",
                                  ["wide", "--Ns", "20", "40", "60", "--time-limit", "1"],
                                  solve_alm=lambda *a, **k: next(results))
    assert "SUMMARY wide: converged 1/1" in out and "interrupted" in out
    rows = [line for line in out.splitlines() if line.startswith("8-16-16-4 N=")]
    assert len(rows) == 1 and "converged" in rows[0]  # no row of the cut run


def test_sweep_ctrl_c_in_the_warm_up_exits_130(monkeypatch, capsys):
    """A Ctrl-C outside the solves (here the warm-up) ends the sweep as one in a solve does:
    exit 130, one line, no traceback (it escaped as a KeyboardInterrupt until session 50)."""
    def ctrl_c(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "warm_up", ctrl_c)
    with pytest.raises(SystemExit) as exc:
        sweep.main(["wide", "--Ns", "20", "--time-limit", "1"])
    assert exc.value.code == 130
    assert "interrupted" in capsys.readouterr().out


def test_sweep_ctrl_c_while_building_the_next_instance_keeps_the_summary(monkeypatch, capsys):
    done = SimpleNamespace(status="converged", time=1.0, kkt={"residual": 1e-7}, nit=1,
                           n_inner=3, Phi=1.0)
    real, calls = sweep.teacher_problem, []

    def second_is_cut(N, widths):
        calls.append(N)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(N, widths)

    _, out = interrupted_main(monkeypatch, capsys, sweep, "solve_alm",
                              ["wide", "--Ns", "20", "40", "--time-limit", "1"],
                              returned=done, teacher_problem=second_is_cut)
    assert "SUMMARY wide: converged 1/1" in out

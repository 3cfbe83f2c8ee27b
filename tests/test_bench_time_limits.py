"""benchmarks/bench_time_limits.py: its options are checked before any work, its rows are
aggregated as the legend says, and a short run prints the table."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import bench_time_limits as btl  # noqa: E402 (the benchmarks folder on the path)


@pytest.mark.parametrize("argv, named", [
    (["--limits", "0"], "--limits"),
    (["--limits", "-1"], "--limits"),
    (["--limits", "nan"], "--limits"),
    (["--limits", "inf"], "--limits"),
    (["--limits", "0.2", "0.2"], "--limits"),
    (["--entries", "foo"], "--entries"),
    (["--entries", "alm", "alm"], "--entries"),
    (["--repeats", "0"], "--repeats"),
])
def test_bad_options_are_refused_naming_them(argv, named, capsys, monkeypatch):
    monkeypatch.setattr(btl, "rows_until_ctrl_c", lambda work: pytest.fail("work started"))
    with pytest.raises(SystemExit) as exc:
        btl.main(["--quick", *argv])
    assert exc.value.code == 2
    assert named in capsys.readouterr().err


def test_aggregate_medians_overshoot_and_excluded_time():
    samples = [(1.1, 1.0, ("time_limit",), 0.05), (1.3, 1.0, ("time_limit",), 0.1),
               (0.5, 1.0, ("converged",), 0.0)]
    row = btl.aggregate("alm", "digits", 1.0, samples)
    assert row["repeats"] == 3
    assert row["med_over_s"] == pytest.approx(0.1)
    assert row["max_over_s"] == pytest.approx(0.3)
    assert row["med_excl_s"] == pytest.approx(0.05)
    assert row["over_less_excl_s"] == pytest.approx(0.05)  # median of 0.05, 0.2, -0.5
    assert row["status"] == "time_limit (2) converged (1)"
    # no time_excluded (kkt, ipopt): none shown; path's statuses joined per call
    row = btl.aggregate("path", "digits", 0.5, [(1.2, 1.0, ("time_limit", "time_limit"), None)])
    assert row["med_excl_s"] is None and row["over_less_excl_s"] is None
    assert row["status"] == "time_limit,time_limit (1)"
    line = btl.format_row(row)
    assert line.split()[:4] == ["path", "digits", "0.500", "1"] and " - " in line


def test_quick_run_of_a_cheap_entry_prints_the_table(capsys):
    rows = btl.main(["--quick", "--entries", "prox_gradient", "--limits", "0.05",
                     "--repeats", "1"])
    assert [(r["entry"], r["data"], r["limit_s"]) for r in rows] == [
        ("prox_gradient", "teacher500", 0.05), ("prox_gradient", "digits", 0.05)]
    assert all(r["status"] == "time_limit (1)" for r in rows)
    out = capsys.readouterr().out
    assert btl.header() in out and "med_over_s" in out


def test_ctrl_c_stops_with_130_keeping_the_rows_printed(capsys, monkeypatch):
    calls = []

    def fake(case, limit, seed):
        calls.append(case.name)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return 0.06, 0.05, ("time_limit",), 0.0

    monkeypatch.setitem(btl.CALLS, "prox_gradient", fake)
    with pytest.raises(SystemExit) as exc:
        btl.main(["--quick", "--entries", "prox_gradient", "--limits", "0.05", "--repeats", "1"])
    assert exc.value.code == 130
    out = capsys.readouterr().out
    assert "teacher500" in out and "interrupted" in out

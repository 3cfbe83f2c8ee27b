"""The solvers' one pausable clock (liftnet/solvers/clock.py), on a fake time source."""

import pytest

from liftnet.solvers import clock as clock_module
from liftnet.solvers.clock import PausableClock


@pytest.fixture
def now(monkeypatch):
    t = [100.0]
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: t[0])
    return t


def test_paused_seconds_are_left_out(now):
    c = PausableClock()
    now[0] += 2.0
    c.pause()
    now[0] += 5.0
    assert c.elapsed == 2.0  # frozen while paused
    c.resume()
    now[0] += 1.0
    assert c.elapsed == 3.0
    assert c.paused_total == 5.0


def test_off_nests_and_resumes_only_what_it_paused(now):
    c = PausableClock()
    with c.off():
        now[0] += 1.0
        with c.off():
            now[0] += 1.0
        now[0] += 1.0  # still paused: the inner block must not have resumed the clock
        assert c.elapsed == 0.0
    now[0] += 4.0
    assert (c.elapsed, c.paused_total) == (4.0, 3.0)
    c.pause()
    with c.off():
        now[0] += 1.0
    now[0] += 1.0  # paused before the block: still paused after it
    assert c.elapsed == 4.0


def test_off_resumes_when_its_block_raises(now):
    c = PausableClock()
    with pytest.raises(KeyboardInterrupt), c.off():
        now[0] += 2.0
        raise KeyboardInterrupt
    now[0] += 1.0
    assert c.elapsed == 1.0


def test_a_clock_started_paused_reads_zero_and_exclude_moves_the_deadline(now):
    assert PausableClock(paused=True).elapsed == 0.0
    c = PausableClock()
    assert c.deadline(None) is None
    assert c.deadline(10.0) == 110.0
    c.exclude(2.5)
    with c.off():
        now[0] += 1.0
    assert c.deadline(10.0) == 113.5  # the time limit is on the clock, pauses included
    now[0] = 113.5
    assert c.elapsed == 10.0


def test_exclude_adds_to_the_seconds_already_paused(now):
    """``exclude`` adds to ``paused_total`` (the presolve's excluded time joins the run's
    own pauses; a mutation audit: it replaced them)."""
    c = PausableClock()
    with c.off():
        now[0] += 1.0
    c.exclude(2.5)
    assert c.paused_total == 3.5 and c.deadline(10.0) == 113.5


def test_a_clock_started_paused_stays_paused_until_resumed(now):
    """``PausableClock(paused=True)`` counts nothing until ``resume`` (a trainer stopped before
    its clock started reports no time), and the seconds before it are paused ones (a mutation
    audit: the clock started running)."""
    c = PausableClock(paused=True)
    now[0] += 5.0
    assert c.elapsed == 0.0
    c.resume()
    now[0] += 1.0
    assert (c.elapsed, c.paused_total) == (1.0, 5.0)


def test_a_deadline_asked_while_paused_counts_the_pause_so_far(now):
    """``deadline`` is when ``elapsed`` reaches the limit if the clock runs from now on: asked
    while paused, the pause in progress is already off the clock (the deadline was 5 s early
    here until 2026-12-06, which left the pause in progress out)."""
    c = PausableClock()
    now[0] += 2.0
    c.pause()
    now[0] += 5.0
    assert c.deadline(10.0) == 115.0  # 107 now, 8 s of the limit left
    c.resume()
    assert c.deadline(10.0) == 115.0
    now[0] = 115.0
    assert c.elapsed == 10.0


def test_notice_if_slow_speaks_once_and_only_for_a_slow_block():
    import threading
    import time

    from liftnet.solvers.clock import notice_if_slow

    heard = []
    spoken = threading.Event()

    def notice(line):
        heard.append(line)
        spoken.set()

    with notice_if_slow(notice, "slow", 0.02):
        assert spoken.wait(5.0)  # the block outlives the delay: the notice comes, inside it
        time.sleep(0.05)
    assert heard == ["slow"]
    with notice_if_slow(notice, "quick", 0.5):
        pass
    time.sleep(0.7)  # past the delay: a timer not cancelled would have spoken by now
    assert heard == ["slow"]
    with notice_if_slow(None, "nobody", 0.0):  # no callable: nothing to call
        time.sleep(0.02)
    with pytest.raises(KeyError), notice_if_slow(notice, "raised", 0.3):
        raise KeyError  # the block's exception passes through, and the timer is cancelled
    time.sleep(0.5)
    assert heard == ["slow"]

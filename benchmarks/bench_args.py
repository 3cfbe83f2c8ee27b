"""Argument checks shared by the benchmark scripts: the argparse types of ``liftnet.cli``
(a bad value stops the script with exit status 2 and names its option, before any work), a
finite number, a ``--widths`` string, and the refusal of repeated values (as ``liftnet
compare`` refuses them: a repeated seed would count one run twice in the medians, a repeated
N or method would repeat rows). ``INTERRUPTED`` is the exit status after Ctrl-C (130, as
``liftnet compare``), and ``stop_if_interrupted(res)`` (the harness's) turns a result that a
Ctrl-C cut short into a ``KeyboardInterrupt``: no row is made of it."""

from __future__ import annotations

import argparse
import math

from liftnet._validation import check_no_repeats
from liftnet.cli import nonnegative_float, positive_float, positive_int, seed_int
from liftnet.solvers._interrupt import stop_if_interrupted

__all__ = ["INTERRUPTED", "finite_float", "no_repeats", "nonnegative_float", "positive_float",
           "positive_int", "rows_until_ctrl_c", "seed_int", "stop_if_interrupted", "until_ctrl_c",
           "widths_type"]

#: exit status after Ctrl-C (128 + SIGINT), as ``liftnet compare``
INTERRUPTED = 130


def finite_float(text: str) -> float:
    """An argparse type: a finite number (any sign)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def widths_type(text: str) -> tuple[int, ...]:
    """An argparse type: layer widths ``n_0-n_1-...-n_L`` (integers >= 1, at least one hidden
    layer), e.g. ``8-16-16-4``."""
    parts = text.split("-")
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        widths = ()
    if len(widths) < 3 or min(widths) < 1:
        raise argparse.ArgumentTypeError(
            f"expected integers >= 1 joined by '-' (input, at least one hidden width, output), "
            f"e.g. 8-16-16-4, got {text!r}")
    return widths


def no_repeats(parser: argparse.ArgumentParser, args, *options: str) -> None:
    """``parser.error`` (exit 2) when a list option of ``args`` repeats a value
    (:func:`liftnet._validation.check_no_repeats`); ``options`` are the attribute names
    (``"Ns"`` for ``--Ns``)."""
    for opt in options:
        values = getattr(args, opt)
        if values is None:
            continue
        try:
            check_no_repeats(tuple(values), f"argument --{opt.replace('_', '-')}:")
        except ValueError as exc:
            parser.error(str(exc))


def until_ctrl_c(work, *args, **kwargs):
    """``work(*args, **kwargs)``; a Ctrl-C in it stops the whole script: what it printed before
    stands, then ``SystemExit(INTERRUPTED)``."""
    try:
        return work(*args, **kwargs)
    except KeyboardInterrupt:
        print("interrupted: the rows above are complete.")
        raise SystemExit(INTERRUPTED) from None


def rows_until_ctrl_c(work) -> list:
    """The rows ``work(rows)`` appends (printing each as it goes); a Ctrl-C stops the whole
    script (:func:`until_ctrl_c`): the rows finished before it stand."""
    rows: list = []
    until_ctrl_c(work, rows)
    return rows

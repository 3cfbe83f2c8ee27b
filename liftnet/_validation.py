"""Argument checks made once, at the public boundary (scikit-learn style).

Every error names the parameter and says what was expected and what was received.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np


def check_data(X, name: str, *, ndim: tuple[int, ...] = (2,), dtype=np.float64) -> np.ndarray:
    """A finite, non-empty float array of one of the allowed dimensions."""
    if X is None:
        raise TypeError(f"{name} must be an array, got None")
    try:
        A = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(X).__name__}: {exc}") from None
    if A.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got an array of shape {A.shape}")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        bad = int(np.size(A) - np.count_nonzero(np.isfinite(A)))
        raise ValueError(f"{name} must be finite, found {bad} NaN or inf entries")
    return A


def check_scalar(
    x,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
    allow_none: bool = False,
):
    """A real (or integer) scalar inside the given interval."""
    if x is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(x, bool) or not isinstance(x, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}, got {x!r} of type {type(x).__name__}")
    if not integer and not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if low is not None and (x < low or (x == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {x!r}")
    if high is not None and (x > high or (x == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {x!r}")
    return int(x) if integer else float(x)


def check_choice(x, name: str, choices: Sequence[str]) -> str:
    if not isinstance(x, str) or x not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {x!r}")
    return x


def check_widths(hidden, name: str = "hidden") -> tuple[int, ...]:
    """Hidden widths ``n_1..n_{L-1}``: a positive int or a non-empty sequence of them."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or isinstance(hidden, str) or len(hidden) == 0:
        raise ValueError(
            f"{name} must be a non-empty sequence of positive integers (one per hidden layer), "
            f"got {hidden!r}"
        )
    out = []
    for i, h in enumerate(hidden):
        if isinstance(h, bool) or not isinstance(h, numbers.Integral) or h <= 0:
            raise ValueError(f"{name}[{i}] must be a positive integer, got {h!r}")
        out.append(int(h))
    return tuple(out)


def check_matrix_list(
    arrs, name: str, shapes: Sequence[tuple[int, ...]], dtype=np.float64
) -> list[np.ndarray]:
    """A list of finite arrays with exactly the given shapes."""
    if not isinstance(arrs, (list, tuple)):
        raise TypeError(f"{name} must be a list of {len(shapes)} arrays, got {type(arrs).__name__}")
    if len(arrs) != len(shapes):
        raise ValueError(f"{name} must hold {len(shapes)} arrays, got {len(arrs)}")
    out = []
    for i, (a, shp) in enumerate(zip(arrs, shapes)):
        A = np.asarray(a, dtype=dtype)
        if A.shape != tuple(shp):
            raise ValueError(f"{name}[{i}] must have shape {tuple(shp)}, got {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name}[{i}] must be finite")
        out.append(np.ascontiguousarray(A))
    return out


def check_point(prob, W, b, V, *, lift: bool = True):
    """Validated ``(W, b, V)`` of the lifted problem ``prob``.

    ``b`` is required when ``prob.bias`` and must be ``None`` otherwise; ``V = None`` becomes
    the exact lift ``prob.lift(W, b)`` (left ``None`` when ``lift=False``).
    """
    dt = prob.dtype
    W = check_matrix_list(W, "W", prob.W_shapes, dt)
    if prob.bias:
        if b is None:
            raise ValueError("b is required: the problem has biases (bias=True)")
        b = check_matrix_list(b, "b", prob.b_shapes, dt)
    elif b is not None:
        raise ValueError("b must be None: the problem has no biases (bias=False)")
    if V is not None:
        V = check_matrix_list(V, "V", prob.V_shapes, dt)
    elif lift:
        V = prob.lift(W, b)
    return W, b, V

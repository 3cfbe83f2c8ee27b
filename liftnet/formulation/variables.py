"""Packing the variables ``z = (W, b, V)`` of the lifted model into one flat vector.

The solvers work on one contiguous buffer so that every vector operation is a single numpy
call; ``W_l``, ``b_l`` and ``V_l`` are views into it. Block order:
``W_1..W_L, b_1..b_L (if bias), V_1..V_{L-1}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Block:
    kind: str  # "W", "b" or "V"
    layer: int  # l, 1-based as in MODEL.md
    start: int
    shape: tuple[int, ...]

    # cached: the solvers read them hundreds of times per iteration. Python's integers: numpy's
    # int64 product wrapped around for hidden=(2**62,) (a negative size passed the memory check
    # and numpy's allocator failed instead)
    @cached_property
    def size(self) -> int:
        return math.prod(int(n) for n in self.shape)

    @cached_property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


class Layout:
    """Where each block of ``z`` lives in the flat vector.

    Parameters
    ----------
    widths : tuple of int
        ``(n_0, n_1, ..., n_L)``.
    N : int
        Number of samples (columns of ``V_l``).
    bias : bool
        Whether the ``b_l`` blocks exist.
    """

    def __init__(self, widths: tuple[int, ...], N: int, bias: bool):
        self.widths = tuple(widths)
        self.N = int(N)
        self.bias = bool(bias)
        L = len(widths) - 1
        blocks, pos = [], 0
        for l in range(1, L + 1):
            blocks.append(Block("W", l, pos, (widths[l], widths[l - 1])))
            pos += blocks[-1].size
        if bias:
            for l in range(1, L + 1):
                blocks.append(Block("b", l, pos, (widths[l],)))
                pos += blocks[-1].size
        for l in range(1, L):
            blocks.append(Block("V", l, pos, (widths[l], N)))
            pos += blocks[-1].size
        self.blocks = tuple(blocks)
        self.size = pos
        # (slice, shape) per kind, for unpack (the solvers unpack at every evaluation)
        self._views = {k: [(b.slice, b.shape) for b in blocks if b.kind == k] for k in "WbV"}

    def of_kind(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    def unpack(self, z: np.ndarray):
        """Views ``(W, b, V)`` into ``z`` (``b`` is ``None`` without bias)."""
        W, b, V = ([z[s].reshape(shape) for s, shape in self._views[k]] for k in "WbV")
        return W, (b if self.bias else None), V

    def pack(self, W, b, V, out: np.ndarray | None = None, dtype=np.float64) -> np.ndarray:
        """Copy ``(W, b, V)`` into one flat vector."""
        z = np.empty(self.size, dtype=dtype) if out is None else out
        Wv, bv, Vv = self.unpack(z)
        for dst, src in zip(Wv, W):
            dst[...] = src
        if self.bias:
            for dst, src in zip(bv, b):
                dst[...] = src
        for dst, src in zip(Vv, V):
            dst[...] = src
        return z

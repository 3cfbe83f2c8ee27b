"""The group-sparse regulariser ``lam * R(W)`` of MODEL.md section 2.

One object per choice of groups, skglm-style: it knows its own ``value``, its exact
proximal map ``prox`` and the distance of a gradient to its subdifferential
``subdiff_distance``. The ALM, the KKT check and the full-batch baseline call these methods.
Two places write the formulas again, on purpose: the stochastic baselines' PyTorch ports for
autograd (``penalty_value``, ``group_prox_`` in ``liftnet/solvers/baselines/_torch.py``),
tested equal to ``GroupLasso.value`` and ``GroupLasso.prox`` in
``tests/solvers/test_baselines.py`` (``test_torch_forward_loss_and_penalty_equal_problem``,
``test_torch_group_prox_equals_GroupLasso_prox``); and the Pyomo and CVXPY declarations,
which state the group norm symbolically (the independent check) in the group order of
:meth:`GroupLasso.group_norms`.

``R`` is written twice here. :class:`GroupLasso` (``group_norms``, ``value``: numpy on one
matrix) is the definition of MODEL.md section 2. :class:`FlatGroups` (``norms``, ``value``:
compiled float64 sums over all ``W`` blocks laid end to end) is the fast form the inner
solvers and the multiplier estimate use; its sums run in another order (and in float64 for
float32 weights), so the two agree to rounding, not bit for bit.
``tests/formulation/test_penalties.py::test_flat_groups_agree_with_the_matrix_methods`` ties
them (norms, value, inner products, subdifferential residual). The subdifferential residual
itself has one formula, :meth:`FlatGroups.subdiff_residual`, which
:meth:`GroupLasso.subdiff_residual` calls.

Groups of one weight matrix ``W_l`` (shape ``n_l x n_{l-1}``):

* ``column``: column ``j`` (all weights leaving neuron ``j`` of layer ``l-1``);
* ``row``: row ``i`` (all weights entering neuron ``i`` of layer ``l``);
* ``element``: each weight alone (plain l1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._numba_cache import ensure_cache_dir
from .._validation import check_choice, check_scalar

ensure_cache_dir(__file__)

GROUPS = ("column", "row", "element")


def _floating(x: np.ndarray) -> np.ndarray:
    """``x`` itself when its dtype is floating (no copy: the solvers' arrays), else ``x`` in
    ``np.result_type(x, 1.0)`` (integers and booleans: float64). The group formulas divide and
    take square roots: in an integer dtype their factors truncated (the prox of an integer
    ``W`` was all zeros) and in bool the sums were logical ors."""
    return x if x.dtype.kind == "f" else x.astype(np.result_type(x.dtype, 1.0))


def _matrix(W: np.ndarray, name: str = "W") -> np.ndarray:
    """``W`` (called ``name``) as a 2-D array (a shape comparison, no copy): column and row
    groups are axes of a matrix (on other shapes ``np.einsum`` failed with a message about
    subscripts, and element groups summed whatever came)."""
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"{name} must be a 2-D weight matrix, got shape {W.shape}")
    return W


def _same_shape(A: np.ndarray, B: np.ndarray, name: str, other: str) -> None:
    """``B`` (called ``name``) has the shape of ``A`` (called ``other``)."""
    if B.shape != A.shape:
        raise ValueError(f"{name} must have the shape of {other}, {A.shape}, got {B.shape}")


class GroupLasso:
    """``lam * sum_{g in G} ||W[g]||_2`` for one weight matrix, MODEL.md section 2.

    Parameters
    ----------
    lam : float
        Regularisation weight ``lambda >= 0`` (a finite real number).
    groups : {"column", "row", "element"}
        How the entries of a weight matrix are grouped.

    Notes
    -----
    Arrays: ``W`` is a 2-D array (another is refused, ``ValueError`` naming ``W``); the methods
    that take a second array (``Q``, ``B``, ``keep``) refuse one of another shape (``ValueError``
    naming it) before any computation.
    Integer and boolean arrays are computed in floating point (``np.result_type(W, 1.0)``,
    float64); float32 and float64 arrays stay in their own dtype.

    Range: group norms are computed as ``sqrt(sum w^2)``, without scaling (the compiled
    :class:`FlatGroups` that the solvers call every inner iteration does the same, and the
    two must agree). Entries must stay below about ``1e154`` in float64 (``1e19`` in float32):
    beyond it the squared norm overflows, ``group_norms`` and ``value`` are ``inf`` (for
    column and row groups; element groups report ``|w|``) and the subdifferential residual
    takes ``w/||w||`` as zero, for element groups too (the residual is ``Q`` itself, a false
    stationarity certificate when ``Q = 0``). Groups whose entries are all below about
    ``1e-162`` (``1e-23``) have a squared norm that underflows to zero: their norm is reported
    as 0 (element groups still give ``|w|``) and the subdifferential treats them as zero groups
    (:meth:`FlatGroups.subdiff_residual`). The solvers' iterates stay far inside this range
    (``LiftedProblem`` limits the data's magnitude and ``lam``); input outside it is not
    checked, to keep the inner iterations free of extra passes over the weights.
    """

    def __init__(self, lam: float, groups: str = "column"):
        self.lam = check_scalar(lam, "lam", low=0)
        self.groups = check_choice(groups, "groups", GROUPS)
        # Axis summed over to get one norm per group; None means element-wise groups.
        self._axis = {"column": 0, "row": 1, "element": None}[groups]

    def __repr__(self) -> str:
        return f"GroupLasso(lam={self.lam!r}, groups={self.groups!r})"

    # ------------------------------------------------------------------ norms
    def group_norms(self, W: np.ndarray) -> np.ndarray:
        """``||W[g]||_2`` for every group ``g``: shape ``(n_{l-1},)`` for columns,
        ``(n_l,)`` for rows, ``W.shape`` for elements."""
        W = _floating(_matrix(W))
        if self._axis is None:
            return np.abs(W)
        return np.sqrt(self.group_inner(W, W))

    def group_inner(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``<A[g], B[g]>`` for every group ``g`` (shaped like :meth:`group_norms`); ``B`` has
        the shape of ``A``."""
        A, B = _floating(_matrix(A, "A")), _floating(np.asarray(B))
        _same_shape(A, B, "B", "A")
        if self._axis is None:
            return A * B
        return np.einsum("ij,ij->j" if self._axis == 0 else "ij,ij->i", A, B)

    def _group_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of :meth:`group_norms` of a matrix of ``shape``."""
        return {0: tuple(shape[1:2]), 1: tuple(shape[:1]), None: tuple(shape)}[self._axis]

    def _broadcast(self, per_group: np.ndarray) -> np.ndarray:
        """Shape a per-group array so that it broadcasts against ``W``."""
        if self._axis == 0:
            return per_group[None, :]
        if self._axis == 1:
            return per_group[:, None]
        return per_group

    def _check_per_group(self, per_group: np.ndarray, name: str, shape) -> None:
        """``per_group`` (called ``name``) holds one value per group of a matrix of ``shape``."""
        want = self._group_shape(shape)
        if per_group.shape != want:
            raise ValueError(f"{name} must hold one value per {self.groups} group of a "
                             f"{tuple(shape)} matrix, shape {want}, got {per_group.shape}")

    def per_entry(self, per_group: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """A per-group array (shaped like :meth:`group_norms`) spread over the entries of a
        matrix of ``shape``: each entry holds its group's value (a read-only view)."""
        per_group = np.asarray(per_group)
        self._check_per_group(per_group, "per_group", shape)
        return np.broadcast_to(self._broadcast(per_group), shape)

    def keep_groups(self, W: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Zero, in place, the groups of ``W`` whose per-group flag ``keep`` is False."""
        keep = np.asarray(keep)
        self._check_per_group(keep, "keep", _matrix(W).shape)
        W *= self._broadcast(keep).astype(W.dtype)
        return W

    def n_groups(self, shape: tuple[int, int]) -> int:
        """Number of groups of a matrix of the given shape."""
        return {0: shape[1], 1: shape[0], None: shape[0] * shape[1]}[self._axis]

    # -------------------------------------------------------------- the maths
    def value(self, W: np.ndarray) -> float:
        """``lam * R(W) = lam * sum_g ||W[g]||_2``."""
        return self.lam * float(np.sum(self.group_norms(W)))

    def prox(self, W: np.ndarray, step: float, out: np.ndarray | None = None) -> np.ndarray:
        """Proximal map of ``step * lam * sum_g ||.||_2`` (block soft-thresholding).

        ``W[g] * max(0, 1 - step*lam / ||W[g]||)``: groups with ``||W[g]|| <= step*lam`` become
        exact zeros; with ``step*lam = 0`` the identity. ``step`` is a finite number ``>= 0``.
        ``out`` may be ``W`` itself (in place). The result is in ``np.result_type(W, 1.0)``.
        """
        step = _check_step(step)
        W = _matrix(W)
        t = step * self.lam
        dt = np.result_type(W.dtype, 1.0)
        if t == 0:  # also on groups whose squared norm underflows to 0 (they are not zero)
            return np.multiply(W, dt.type(1), out=out)
        norms = self.group_norms(W)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # subnormal norms
            shrink = np.where(norms > t, 1.0 - t / norms, 0.0)
        return np.multiply(W, self._broadcast(shrink.astype(dt, copy=False)), out=out)

    def _pair(self, W: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W`` (2-D) and ``Q`` of the same shape, as floating arrays (checked before any
        compiled loop runs: those index ``Q`` by ``W``'s entries)."""
        W, Q = _floating(_matrix(W)), _floating(np.asarray(Q))
        _same_shape(W, Q, "Q", "W")
        return W, Q

    def subdiff_residual(self, W: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """The point of ``Q + lam * d R(W)`` nearest to zero, group by group (shape of ``W``).

        ``Q`` is the gradient of the smooth part with respect to ``W`` (MODEL.md section 5),
        of ``W``'s shape; the formula is :meth:`FlatGroups.subdiff_residual`. The result is
        in ``Q``'s floating dtype (``np.result_type(Q, 1.0)``).
        """
        W, Q = self._pair(W, Q)
        return self.flat([W.shape]).subdiff_residual(W.ravel(), Q.ravel()).reshape(W.shape)

    def flat(self, shapes) -> FlatGroups:
        """The groups of matrices of the given ``shapes`` laid end to end in one vector."""
        return FlatGroups(self, shapes)

    def subdiff_distance(self, W: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """Per-group ``dist(0, Q[g] + lam * d||W[g]||_2)`` (MODEL.md section 5).

        ``||Q[g] + lam W[g]/||W[g]|| ||`` where ``W[g] != 0``, else ``max(0, ||Q[g]|| - lam)``.
        One nonnegative number per group, shaped like :meth:`group_norms`.
        """
        return self.group_norms(self.subdiff_residual(W, Q))

    def zero_groups(self, W: np.ndarray, threshold: float = 0.0) -> np.ndarray:
        """Boolean mask (per group) of groups with ``||W[g]|| <= threshold``."""
        return self.group_norms(W) <= threshold

    def n_zero_groups(self, W) -> int:
        """The exact zero groups of the matrices ``W`` (a list: a network's weights)."""
        return sum(int(np.sum(self.zero_groups(Wl))) for Wl in W)


def _check_step(step) -> float:
    """A prox step: a finite real number ``>= 0`` (:func:`check_scalar`, naming ``step``)."""
    if isinstance(step, float) and 0.0 <= step < np.inf:  # the solvers' steps: no call
        return step
    return check_scalar(step, "step", low=0)


class FlatGroups:
    """The groups of several weight matrices raveled (C order) and laid end to end in one
    vector, as the ALM's packed variable holds its ``W`` blocks: the fast form of
    :class:`GroupLasso`'s group norms and value (the definition; module docstring), equal to
    rounding (``tests/formulation/test_penalties.py``).

    ``gid[e]`` is the group of entry ``e`` (numbered on across the matrices), so every per-group
    quantity is one pass over the entries (compiled: the sums of ``np.bincount``, in its order)
    and every per-entry spread one gather, whatever the number
    of layers: on small networks the inner solver's group work took a dozen numpy calls per
    layer and per iteration (docs/maths.md 8).

    The solvers call these methods every inner iteration, with vectors of the right size. Each
    method still compares its arrays' shapes with the layout (``(size,)`` per entry,
    ``(n_groups,)`` per group; a comparison, no pass over the entries and no copy) and refuses
    others with a ``ValueError``: the compiled loops index one array by another's length and
    must never read or write past an array's end. Integer and boolean vectors are computed in
    float64 (:func:`_floating`); floating ones are used as they are.

    Parameters
    ----------
    pen : GroupLasso
    shapes : sequence of ``(n_l, n_{l-1})``
    """

    def __init__(self, pen: GroupLasso, shapes):
        self.lam = pen.lam
        # the layout as runs of entries: a row of a matrix with column groups is c consecutive
        # groups, a row group is one group, a matrix of element groups is r c groups
        segs, offset, start = [], 0, 0
        for r, c in shapes:
            if pen._axis is None:
                segs.append((start, offset, r * c, 1))
            elif pen._axis == 0:
                segs += [(start + i * c, offset, c, 1) for i in range(r)]
            else:
                segs += [(start + i * c, offset + i, c, 0) for i in range(r)]
            offset += pen.n_groups((r, c))
            start += r * c
        #: rows ``(first entry, first group, length, step)``: entries ``e0 + k`` belong to the
        #: groups ``g0 + step k`` (step 1 or 0); the compiled loops walk them
        self.segs = np.array(segs, dtype=np.int64).reshape(-1, 4)
        #: each entry's group, spelled out from the runs (for numpy's indexing: per_entry)
        self.gid = (np.concatenate([g0 + step * np.arange(n) for _, g0, n, step in segs])
                    if segs else np.zeros(0, dtype=np.intp))
        self.n_groups = offset
        self.size = start
        self._entry_shape, self._group_shape = (self.size,), (offset,)

    def _entries(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x``, a vector of one value per entry (its shape checked, nothing more), floating
        (:func:`_floating`: a copy only for an integer or boolean ``x``)."""
        if getattr(x, "shape", None) != self._entry_shape:
            raise ValueError(f"{name} must be a 1-d array of the {self.size} entries of the "
                             f"groups laid end to end, got shape {np.shape(x)}")
        return _floating(x)

    def _groups(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x``, a vector of one value per group (checked: its shape, nothing more)."""
        if getattr(x, "shape", None) != self._group_shape:
            raise ValueError(f"{name} must be a 1-d array of one value for each of the "
                             f"{self.n_groups} groups, got shape {np.shape(x)}")
        return x

    def inner(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``<a[g], b[g]>`` for every group (float64)."""
        sh = self._entry_shape  # the checks inline: this runs several times an inner iteration
        if not (getattr(a, "shape", None) == sh == getattr(b, "shape", None)
                and a.dtype.kind == "f" == b.dtype.kind):
            a, b = self._entries(a, "a"), self._entries(b, "b")
        return _group_dots(a, b, self.segs, self.n_groups)

    def norms(self, w: np.ndarray) -> np.ndarray:
        """``||w[g]||_2`` for every group (float64)."""
        w = self._entries(w, "w")  # (its error names w; inner's would name a)
        return np.sqrt(self.inner(w, w))

    def max_norm(self, w: np.ndarray) -> float:
        """``max_g ||w[g]||_2`` (NaN when ``w`` holds one; 0 without groups): the largest of
        :meth:`norms`, to the bit (the square root is monotone), in one compiled call."""
        w = self._entries(w, "w")
        return float(np.sqrt(_max_group_dot(w, self.segs, self.n_groups)))

    def value(self, w: np.ndarray) -> float:
        """``lam * R = lam * sum_g ||w[g]||_2`` over all the matrices."""
        return self.lam * float(self.norms(w).sum())

    def per_entry(self, per_group: np.ndarray) -> np.ndarray:
        """Each entry's group value."""
        if getattr(per_group, "shape", None) != self._group_shape:
            self._groups(per_group, "per_group")  # the error
        return per_group[self.gid]

    def keep(self, w: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Zero, in place, the groups whose per-group flag ``keep`` is False."""
        if (getattr(w, "shape", None) != self._entry_shape
                or getattr(keep, "shape", None) != self._group_shape):
            self._entries(w, "w")  # the error (w is written in place: never a copy)
            self._groups(keep, "keep")
        _zero_groups(w, keep, self.segs)
        return w

    def keep_aligned(self, w: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Zero, in place, the groups with ``<w[g], ref[g]> <= 0`` (the line search's orthant
        projection of group OWL-QN; a NaN product zeroes its group too)."""
        sh = self._entry_shape
        if not (getattr(w, "shape", None) == sh == getattr(ref, "shape", None)
                and w.dtype.kind == "f" == ref.dtype.kind):
            self._entries(w, "w")  # the shape errors, naming w and ref (inner's: a and b)
            self._entries(ref, "ref")
            return self.keep(w, self.inner(w, ref) > 0)  # the checks (and their errors)
        _keep_aligned(w, ref, self.segs, self.n_groups)
        return w

    def zero_entries(self, w: np.ndarray) -> np.ndarray:
        """True on the entries of the groups that are zero (``<w[g], w[g]> == 0``): as
        ``per_entry(inner(w, w) == 0)``, in one compiled call."""
        w = self._entries(w, "w")
        return _zero_entries(w, self.segs, self.n_groups)

    def subdiff_residual(self, w: np.ndarray, q: np.ndarray, out=None) -> np.ndarray:
        """The point of ``q + lam * d R(w)`` nearest to zero, group by group (in ``out`` when
        given).

        ``q[g] + lam w[g]/||w[g]||`` where ``w[g] != 0``; where ``w[g] = 0`` the ball
        ``q[g] + lam B`` is nearest to zero at ``q[g] * max(0, 1 - lam/||q[g]||)`` (``q[g]``
        minus its projection on the ``lam``-ball: the prox of the group norm at step 1).
        As ``a q + s w`` with per-group ``a = 1, s = lam/||w[g]||`` on nonzero groups and
        ``a = max(0, 1 - lam/||q[g]||), s = 0`` on zero groups (where ``w[g] = 0``).
        ``w``, ``q`` (and ``out``) have one entry per entry of the layout; the result is in
        ``q``'s floating dtype (float64 for an integer ``q``).

        A group counts as zero when its squared norm is zero in floating point: entries below
        about ``1e-162`` in float64 (``1e-23`` in float32) underflow in ``w[g] . w[g]``, and the
        group is then treated as the zero group it is within rounding (the solvers'
        pseudo-gradient, which calls this, treats it the same way; :meth:`GroupLasso.group_norms`
        of element groups still reports ``|w|``). A little above those sizes the squared norm is
        a subnormal number with few correct digits (a float64 element of ``1e-161`` and ``q = 0``
        give 0.3018 for ``lam = 0.3``).
        """
        sh = self._entry_shape
        if not (getattr(w, "shape", None) == sh == getattr(q, "shape", None)
                and w.dtype.kind == "f" == q.dtype.kind):
            w, q = self._entries(w, "w"), self._entries(q, "q")
        if out is None:
            out = np.empty_like(q)
        elif getattr(out, "shape", None) != sh:
            self._entries(out, "out")  # the error
        _subdiff_residual(w, q, self.segs, self.n_groups, self.lam, out)
        return out


# The per-group loops of FlatGroups, compiled: on small networks an inner iteration of the ALM
# is mostly the overhead of numpy calls on short vectors (benchmarks/sweep.py teacher24). The
# sums run in entry order, as np.bincount's do. They walk the runs of FlatGroups.segs, not one
# group index per entry: the same bits, but loops that vectorise (an inner iteration's group
# work, subdiff_residual + max_norm + zero_entries + keep_aligned, measured on the MNIST-shaped
# widths' 235,008 weights: 1105 -> 208 us in float32, 1103 -> 336 us in float64; the digits'
# 2,720: 17 -> 10 us; scratch /tmp/s38/groupwork.py, session 38).


@njit(cache=True, fastmath=False)
def _group_dots(a, b, segs, n_groups):
    """``<a[g], b[g]>`` per group, float64 (the products in the arrays' dtype), by the runs
    ``segs`` of :class:`FlatGroups`. Each group's sum runs in entry order, as with one group
    index per entry (``out[gid[e]] += a[e] b[e]``), to the bit; but a row of column groups is
    one loop over consecutive groups, which vectorises where the indexed one could not
    (measured on the MNIST-shaped widths' 235,008 weights: 28 us against 127 in float32, 46
    against 128 in float64)."""
    out = np.zeros(n_groups)
    for r in range(segs.shape[0]):
        e0, g0, n = segs[r, 0], segs[r, 1], segs[r, 2]
        ab, bb = a[e0:e0 + n], b[e0:e0 + n]
        if segs[r, 3] == 1:
            o = out[g0:g0 + n]
            for k in range(n):
                o[k] += ab[k] * bb[k]
        else:
            acc = out[g0]
            for k in range(n):
                acc += ab[k] * bb[k]
            out[g0] = acc
    return out


@njit(cache=True, fastmath=False)
def _max_group_dot(w, segs, n_groups):
    """The largest ``<w[g], w[g]>`` (0.0 without groups; NaN when one is NaN, as numpy's max)."""
    dots = _group_dots(w, w, segs, n_groups)
    top = 0.0
    for g in range(n_groups):
        d = dots[g]
        if d != d:
            return d
        if d > top:
            top = d
    return top


@njit(cache=True, fastmath=False)
def _keep_aligned(w, ref, segs, n_groups):
    """:meth:`FlatGroups.keep_aligned` in place (a NaN product is not > 0: zeroed too)."""
    _zero_groups(w, _group_dots(w, ref, segs, n_groups) > 0, segs)


@njit(cache=True, fastmath=False)
def _zero_entries(w, segs, n_groups):
    """:meth:`FlatGroups.zero_entries`."""
    dots = _group_dots(w, w, segs, n_groups)
    out = np.empty(w.shape[0], dtype=np.bool_)
    for r in range(segs.shape[0]):
        e0, g0, n = segs[r, 0], segs[r, 1], segs[r, 2]
        ob = out[e0:e0 + n]
        if segs[r, 3] == 1:
            db = dots[g0:g0 + n]
            for k in range(n):
                ob[k] = db[k] == 0
        else:
            ob[:] = dots[g0] == 0
    return out


@njit(cache=True, fastmath=False)
def _zero_groups(w, keep, segs):
    """The groups ``g`` with ``keep[g]`` False set to zero in ``w``, in place."""
    for r in range(segs.shape[0]):
        e0, g0, n = segs[r, 0], segs[r, 1], segs[r, 2]
        wb = w[e0:e0 + n]
        if segs[r, 3] == 1:
            kb = keep[g0:g0 + n]
            for k in range(n):
                if not kb[k]:
                    wb[k] = 0.0
        elif not keep[g0]:
            wb[:] = 0.0


@njit(cache=True, fastmath=False)
def _subdiff_residual(w, q, segs, n_groups, lam, out):
    """:meth:`FlatGroups.subdiff_residual` into ``out``."""
    nw2 = _group_dots(w, w, segs, n_groups)
    nq2 = _group_dots(q, q, segs, n_groups)
    a = np.empty(n_groups, dtype=q.dtype)  # the entrywise products in q's dtype, as numpy's
    s = np.empty(n_groups, dtype=q.dtype)
    for g in range(n_groups):
        nw = np.sqrt(nw2[g])
        nq = np.sqrt(nq2[g])
        if nw > 0:
            a[g], s[g] = 1.0, lam / nw
        else:
            a[g], s[g] = (1.0 - lam / nq if nq > lam else 0.0), 0.0
    for r in range(segs.shape[0]):
        e0, g0, n = segs[r, 0], segs[r, 1], segs[r, 2]
        ob, qb, wb = out[e0:e0 + n], q[e0:e0 + n], w[e0:e0 + n]
        if segs[r, 3] == 1:
            ab, sb = a[g0:g0 + n], s[g0:g0 + n]
            for k in range(n):
                ob[k] = ab[k] * qb[k] + sb[k] * wb[k]
        else:
            ag, sg = a[g0], s[g0]
            for k in range(n):
                ob[k] = ag * qb[k] + sg * wb[k]

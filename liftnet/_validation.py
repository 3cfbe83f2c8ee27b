"""Argument checks made once, at the public boundary (scikit-learn style).

Every error names the parameter and says what was expected and what was received.
"""

from __future__ import annotations

import numbers
import os
import zipfile
from collections.abc import Sequence

import numpy as np


def check_data(X, name: str, *, ndim: tuple[int, ...] = (2,), dtype=np.float64) -> np.ndarray:
    """A finite, non-empty float array of one of the allowed dimensions."""
    if X is None:
        raise TypeError(f"{name} must be an array, got None")
    refuse_masked(X, name)
    A = as_real_array(X, name, dtype)
    if A.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got an array of shape {A.shape}")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        bad = int(np.size(A) - np.count_nonzero(np.isfinite(A)))
        raise ValueError(f"{name} must be finite, found {bad} NaN or inf entries")
    return A


def refuse_masked(X, name: str) -> None:
    """A masked array with masked entries is refused: numpy's cast keeps the values under the
    mask (whatever they are) and drops the mask, so they would be trained on."""
    if np.ma.is_masked(X):
        raise ValueError(f"{name} has {int(np.ma.count_masked(X))} masked entries: fill them "
                         f"({name}.filled(value)) or drop their rows")


def _refuse_text(X, name: str) -> None:
    """Numbers only: text (``"1.5"``) is refused, not parsed, also inside an object array (a
    table's mixed columns); object arrays of numbers are left to the cast. Input numpy cannot
    make an array of (ragged nesting) is left to :func:`as_real_array`'s message."""
    try:
        A = np.asarray(X)
    except (TypeError, ValueError):
        return
    if A.dtype.kind in ("U", "S", "T") or (  # T: numpy 2's variable-width StringDType
        A.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in A.flat)
    ):
        raise TypeError(f"{name} must be a numeric array, got text (dtype {A.dtype})")


def check_magnitude(A: np.ndarray, name: str) -> np.ndarray:
    """Training data on a scale the solvers can work at in its dtype: the squared norm of a
    gradient of the objectives of MODEL.md (the solvers' steps and residuals) grows like the
    data's fourth power, so ``max |A|^4 size(A)`` must stay below the dtype's largest number
    (float64: entries up to about 1e76; float32: about 1e9). Beyond it every residual
    overflows to ``inf`` and a solver cannot move."""
    top = float(np.max(np.abs(A))) if A.size else 0.0
    limit = float(np.finfo(A.dtype).max / A.size) ** 0.25
    if not top < limit:
        raise ValueError(
            f"{name} is too large for {A.dtype}: its largest entry is {top:.3g}, and with "
            f"{A.size} entries the solvers' gradients overflow beyond about {limit:.3g}; "
            f"rescale it (e.g. standardise the columns)"
        )
    return A


def refuse_special_file(path: str, what: str = "a file") -> None:
    """A ``ValueError`` naming ``path`` when it exists but is no regular file (a pipe such
    as the shell's ``<(...)``, a device such as ``/dev/null``): the loaders read whole
    files, and such a path was reported as missing."""
    if os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
        raise ValueError(f"path: {path!r} is not a regular file (a pipe or a device), "
                         f"expected {what}: save its contents to a file first")


IPOPT_INT_MAX = 2**31 - 1  # IPOPT's integer options are C ints
#: the largest count the compiled inner loop holds (an int64: max_inner=2**63 failed inside
#: it with "OverflowError: int too big to convert")
COMPILED_INT_MAX = 2**63 - 1


def check_ipopt_iterations(x, name: str = "max_iter"):
    """An iteration limit for IPOPT: an integer in ``[1, 2**31 - 1]`` (a larger one came back
    as a failed solve, or an OverflowError inside cyipopt)."""
    return check_scalar(x, name, low=1, high=IPOPT_INT_MAX, integer=True)


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
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}, got {x!r} of type {type(x).__name__}")
    if not integer:
        try:
            finite = np.isfinite(float(x))
        except OverflowError:  # an int (or Fraction) beyond float64's range
            raise ValueError(f"{name} must be finite, got a number too large for a float "
                             f"({type(x).__name__} of about 10**{_digits(x) - 1})") from None
        if not finite:
            raise ValueError(f"{name} must be finite, got {x!r}")
    if low is not None and (x < low or (x == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {x!r}")
    if high is not None and (x > high or (x == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {x!r}")
    return int(x) if integer else float(x) + 0.0  # (+ 0.0: -0.0 is 0.0)


def _digits(x) -> int:
    """Decimal digits of the integer part of ``|x|`` (for a message about a huge number)."""
    return len(str(abs(int(x))))


def physical_memory() -> int | None:
    """Bytes of this machine's memory, or ``None`` where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_allocation(nbytes: int, name: str, value, what: str) -> None:
    """Refuse a parameter (``name=value``) that asks for more memory than the machine has
    (``nbytes`` for ``what``): a ``ValueError`` naming it, rather than numpy's allocator
    failing inside the computation ("Unable to allocate 72.8 TiB")."""
    memory = physical_memory()
    if memory is not None and nbytes > memory:
        raise ValueError(f"{name}={value!r} needs {nbytes / 2**30:.3g} GiB for {what}, more "
                         f"than this machine's memory ({memory / 2**30:.3g} GiB)")


def stop_requested(answer, name: str = "callback") -> bool:
    """What a callback's return value asks: stop for a true one (``True``, a nonzero number),
    go on for ``None`` or a false one. A value without a truth value (a numpy array of several
    entries: "the truth value of an array ... is ambiguous" from inside the solver) is a
    ``TypeError`` naming the callback."""
    try:
        return bool(answer)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must return None, True or False (True stops the solve), got "
                        f"{type(answer).__name__}: {exc}") from None


def check_decreasing(x, name: str, *, low: float = 0.0, low_inclusive: bool = True,
                     strict: bool = True, why: str = "") -> np.ndarray:
    """``x`` as a float array: a nonempty sequence (or 1-d array) of real numbers (not
    booleans, each checked by :func:`check_scalar` as ``name[k]``), finite, ``>= low`` (or
    ``> low``) and decreasing: strictly, or nonincreasing when not ``strict``. ``why`` is
    appended to the message of the order (the reason the caller needs it)."""
    if isinstance(x, (str, bytes)) or not (
        isinstance(x, (Sequence, np.ndarray)) or hasattr(x, "__array__")
    ):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(x).__name__}: {x!r}")
    try:
        shape = np.shape(x)
    except (TypeError, ValueError):  # ragged nesting
        raise TypeError(f"{name} must be a sequence of numbers, got {x!r}") from None
    if len(shape) != 1 or shape[0] == 0:
        raise ValueError(f"{name} must be a nonempty 1-d sequence of numbers, got shape {shape}")
    # one by one: a bool (or text) is refused, not read as 1.0 / 0.0
    arr = np.array([check_scalar(v, f"{name}[{k}]", low=low, low_inclusive=low_inclusive)
                    for k, v in enumerate(x)])
    steps = np.diff(arr)
    if np.any(steps >= 0) if strict else np.any(steps > 0):
        order = "strictly decreasing" if strict else "nonincreasing"
        raise ValueError(f"{name} must be {order}{why}, got {arr.tolist()}")
    return arr


def as_real_array(x, name: str, dtype=np.float64) -> np.ndarray:
    """``np.asarray(x, dtype)`` for real numeric input; anything else (text, ragged nesting,
    complex numbers, whose imaginary part the cast would drop) is a ``TypeError`` naming
    ``name``, and finite values beyond ``dtype``'s range (:func:`cast`: ``1e39`` into float32,
    ``10**400`` into any float) a ``ValueError`` naming it. With ``dtype=None`` the input's own
    dtype is kept (text stays text)."""
    _refuse_sparse(x, name)
    _refuse_dates(x, name)
    if dtype is not None:  # the cast would parse "1.5" as a number (:func:`_refuse_text`)
        _refuse_text(x, name)
    try:
        complex_ = np.iscomplexobj(x)
        A = None if complex_ else cast(x, dtype, name)
    except _OutOfRange:
        raise
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from None
    if complex_:
        raise TypeError(f"{name} must be real, got complex values")
    return A


def _refuse_sparse(x, name: str) -> None:
    """A SciPy sparse matrix or array is refused, with the dense conversion named: numpy's
    cast fails on it obscurely (an object array, "setting an array element with a
    sequence")."""
    if type(x).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name} is a sparse matrix ({type(x).__name__}): liftnet works on "
                        f"dense arrays; pass {name}.toarray()")


def _refuse_dates(x, name: str) -> None:
    """Dates and durations (numpy's ``datetime64``, ``timedelta64``; pandas' dates with a time
    zone or as categories) are no numbers to train on: the cast would read them as counts of
    days (or nanoseconds) since 1970, and ``NaT`` as -9.2e18, a finite value. A pandas
    DataFrame is looked at column by column (``X.dtypes``): numpy makes a frame that mixes
    dates and numbers an object array, and scikit-learn's cast fails on it inside numpy."""
    dtypes = getattr(x, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):  # a DataFrame: one dtype per column
        for col, dt in dtypes.items():
            dt = _date_dtype(dt, lambda c=col: x[c])
            if dt is not None:
                raise TypeError(f"{name} must be a numeric array, got dates or durations "
                                f"(column {col!r}: dtype {dt})")
        return
    dt = _date_dtype(getattr(x, "dtype", None), lambda: x)
    if dt is not None:
        raise TypeError(f"{name} must be a numeric array, got dates or durations (dtype {dt})")


def _date_dtype(dt, values):
    """``dt`` (or the dtype numpy gives ``values()``) where it holds dates or durations, else
    None. numpy's own dtypes are read as they are; anything else (lists, pandas' extension
    dtypes: a time zone, categories) by what numpy makes of the values."""
    if getattr(dt, "kind", None) in ("m", "M"):
        return dt
    if isinstance(dt, np.dtype):
        return None
    try:
        dt = np.asarray(values()).dtype
    except (TypeError, ValueError):
        return None
    return dt if dt.kind in ("m", "M") else None


class _OutOfRange(ValueError):
    """A finite value too large for the dtype asked for (:func:`cast`)."""


def cast(x, dtype, name: str) -> np.ndarray:
    """``np.asarray(x, dtype)``, where finite values too large for ``dtype`` (``1e39`` into
    float32) are a ``ValueError`` naming ``name`` rather than infinities that a later check
    would call NaN or inf (and numpy's overflow warning), and so are integers too large for
    any float (``10**400``: numpy's ``OverflowError``)."""
    try:
        with np.errstate(over="raise"):
            return np.asarray(x, dtype=dtype)
    except OverflowError:  # a Python int beyond float64's range ([[10**400]]): numpy's
        dt = np.dtype(dtype)  # "int too large to convert to float", naming nothing
        raise _OutOfRange(f"{name} has entries beyond the range of {dt} (an integer too large "
                          f"for a float; {dt} holds up to {float(np.finfo(dt).max):.3g})") from None
    except FloatingPointError:
        top = float(np.max(np.abs(np.asarray(x, dtype=np.float64))))
        dt = np.dtype(dtype)
        raise _OutOfRange(f"{name} has entries beyond the range of {dt} (largest magnitude "
                         f"{top:.3g}; {dt} holds up to {float(np.finfo(dt).max):.3g})") from None


def as_numeric_array(x, name: str, dtype=None) -> np.ndarray:
    """:func:`as_real_array` that also refuses non-numeric dtypes (text, objects) when
    ``dtype=None`` keeps the input's own, masked entries (:func:`refuse_masked`: the cast
    would keep the values under the mask) and, when ``dtype`` is given, text (the cast to it
    would parse ``"1.5"`` as a number: :func:`_refuse_text`)."""
    refuse_masked(x, name)
    A = as_real_array(x, name, dtype)
    if A.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {A.dtype}")
    return A


def check_finite_array(x, name: str, dtype=None) -> np.ndarray:
    """A finite real array (``dtype=None``: its own numeric dtype, kept); ``None`` is refused
    as no array (numpy's cast made it a NaN, "must be finite")."""
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    A = as_numeric_array(x, name, dtype)
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must be finite")
    return A


def check_seed(seed, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """A seed for ``numpy.random.default_rng``: a non-negative integer (or ``None``, fresh
    entropy, where ``allow_none``)."""
    return check_scalar(seed, name, low=0, integer=True, allow_none=allow_none)


def check_bool(x, name: str) -> bool:
    """A flag: ``True`` or ``False`` (numpy's booleans too), nothing that merely converts."""
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {x!r} of type {type(x).__name__}")
    return bool(x)


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``float64`` or ``float32`` (anything ``numpy.dtype`` reads as one of them, in either
    byte order), returned in the machine's own byte order: a big-endian ``'>f8'`` is float64,
    and the arrays made in it are native (the compiled kernels take native arrays only)."""
    try:
        dt = np.dtype(dtype).newbyteorder("=")
    except (TypeError, ValueError):
        dt = None
    # (None is tested apart: numpy's dtypes compare equal to None, which means float64)
    if dtype is None or dt is None or dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"{name} must be float64 or float32, got {dtype!r}")
    return dt


def check_argv(argv) -> list[str] | None:
    """A command line's arguments for a ``main(argv)``: ``None`` (``sys.argv[1:]``) or a
    sequence of strings, as a list; one string is refused (it was split into its characters,
    ``main("fast")`` read as ``f a s t``), and so are a non-sequence and an argument that is
    no string (``main(["solve", 4])`` failed inside argparse: "'int' object is not
    subscriptable"), a ``TypeError`` naming ``argv``."""
    if argv is None:
        return None
    if isinstance(argv, (str, bytes)):
        raise TypeError(f"argv must be a list of arguments (e.g. {argv.split()!r}), got one "
                        f"{type(argv).__name__}")
    try:
        args = list(argv)
    except TypeError:  # (not iterable: "'int' object is not iterable", naming nothing)
        raise TypeError(f"argv must be None or a list of arguments (strings), got "
                        f"{type(argv).__name__}") from None
    for i, arg in enumerate(args):
        if not isinstance(arg, str):
            raise TypeError(f"argv[{i}] must be a str (one command-line argument), got "
                            f"{type(arg).__name__}: {arg!r}")
    return args


def check_path(path, name: str = "path", *, folder: bool = False) -> str:
    """A file or folder name: ``str`` or ``os.PathLike``, returned as ``str``; without a NUL
    character (the system's functions refuse it with "embedded null byte", naming nothing) and,
    for a file (not ``folder``, where ``""`` is the current one), not empty
    (``save_result("", res)`` wrote a hidden ``.npz`` in the current folder) and not ending
    in a separator, ``.`` or ``..`` (``"out/"`` wrote ``out/.npz``)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):  # a PathLike of bytes
        raise TypeError(f"{name} must name a path as text, got {type(text).__name__}")
    if not text and not folder:
        raise ValueError(f"{name} is empty, expected a file name")
    if not folder and text and os.path.basename(text) in ("", ".", ".."):
        # ("out/" gave a hidden "out/.npz", read back by load_result("out/") as if named)
        raise ValueError(f"{name} names a folder ({text!r}), expected a file name")
    if "\0" in text:
        raise ValueError(f"{name} must not contain a NUL character, got {text!r}")
    return text


#: the first bytes by which ``np.load`` tells an npz archive: a member's header, or the end
#: record an empty archive begins with; any other file it reads as a pickle
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")


def check_npz_file(path: str, name: str = "path", *, writer: str = "np.savez") -> str:
    """``path`` when it can be read and is a zip archive that ``np.load`` opens as one (it
    begins with a zip header and ends with a zip directory), else a ``ValueError`` naming
    ``name``, the file and ``writer`` (what writes the archives expected). ``np.load`` would
    speak of pickled data about a text file or an archive whose start is missing (which
    ``zipfile.is_zipfile`` passes), and a folder or a file without read permission would be a
    bare ``OSError``. Whether the archive holds the arrays wanted is the caller's check."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            ends_as_zip = zipfile.is_zipfile(fh)
    except OSError as exc:
        why = exc.strerror[:1].lower() + exc.strerror[1:] if exc.strerror else str(exc)
    else:
        begins_as_zip = head in _ZIP_HEADS
        if begins_as_zip and ends_as_zip:
            return path
        if not head:
            why = "it is empty"
        elif begins_as_zip or ends_as_zip:
            why = "it is a damaged zip archive (cut short, or its start is missing)"
        else:
            why = "it is not a zip archive"
    raise ValueError(f"{name}: cannot read {path!r} as a .npz file: {why}; expected an .npz "
                     f"archive written by {writer}")


def check_problem(prob, name: str = "prob"):
    """A :class:`liftnet.LiftedProblem`."""
    from .formulation.problem import LiftedProblem

    if not isinstance(prob, LiftedProblem):
        raise TypeError(f"{name} must be a liftnet.LiftedProblem, got {type(prob).__name__}")
    return prob


def check_choice(x, name: str, choices: Sequence[str]) -> str:
    if not isinstance(x, str) or x not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {x!r}")
    return x


def check_widths(hidden, name: str = "hidden") -> tuple[int, ...]:
    """Hidden widths ``n_1..n_{L-1}``: a positive int or a non-empty sequence (or 1-D integer
    array) of them. A wrong kind is a ``TypeError``, a wrong value a ``ValueError``."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, np.ndarray) and hidden.ndim == 1:
        hidden = hidden.tolist()
    if not isinstance(hidden, Sequence) or isinstance(hidden, str):
        raise TypeError(
            f"{name} must be a positive integer or a sequence of them (one per hidden layer), "
            f"got {type(hidden).__name__}: {hidden!r}"
        )
    if len(hidden) == 0:
        raise ValueError(f"{name} must hold at least one width (one per hidden layer), "
                         f"got {hidden!r}")
    out = []
    for i, h in enumerate(hidden):
        if isinstance(h, bool) or not isinstance(h, numbers.Integral):
            raise TypeError(f"{name}[{i}] must be an integer, got {type(h).__name__}: {h!r}")
        if h <= 0:
            raise ValueError(f"{name}[{i}] must be a positive integer, got {h!r}")
        out.append(int(h))
    return tuple(out)


def check_list(arrs, name: str, n: int, what: str = "arrays") -> None:
    """``arrs`` is a list or tuple of ``n`` items (``what``: the kind named in the error)."""
    if not isinstance(arrs, (list, tuple)):
        raise TypeError(f"{name} must be a list of {n} {what}, got {type(arrs).__name__}")
    if len(arrs) != n:
        raise ValueError(f"{name} must hold {n} {what}, got {len(arrs)}")


def check_no_repeats(x: tuple, name: str) -> tuple:
    """``x`` (a tuple) when no value occurs twice, else a ``ValueError`` naming ``name`` and the
    repeated values: a repeated seed would count one run twice in a median, a repeated data
    set, method or size would repeat a table's rows."""
    twice = sorted({v for v in x if x.count(v) > 1}, key=x.index)
    if twice:
        raise ValueError(f"{name} must not repeat a value, got {list(x)} "
                         f"({', '.join(map(repr, twice))} more than once)")
    return x


def check_shape(shape, name: str, expected) -> None:
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {tuple(shape)}")


def check_bias_given(prob, b) -> None:
    """``b`` is given exactly when the problem has biases."""
    if prob.bias and b is None:
        raise ValueError("b is required: the problem has biases (bias=True)")
    if not prob.bias and b is not None:
        raise ValueError("b must be None: the problem has no biases (bias=False)")


def check_matrix_list(
    arrs, name: str, shapes: Sequence[tuple[int, ...]], dtype=np.float64
) -> list[np.ndarray]:
    """A list of finite numeric arrays with exactly the given shapes, in ``dtype`` (text and
    object arrays are refused, not parsed: ``"1.5"`` is no weight)."""
    check_list(arrs, name, len(shapes))
    out = []
    for i, (a, shp) in enumerate(zip(arrs, shapes)):
        A = cast(as_numeric_array(a, f"{name}[{i}]"), dtype, f"{name}[{i}]")
        check_shape(A.shape, f"{name}[{i}]", shp)
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name}[{i}] must be finite")
        out.append(np.ascontiguousarray(A))
    return out


def check_point(prob, W, b, V, *, lift: bool = True):
    """Validated ``(W, b, V)`` of the lifted problem ``prob``.

    ``b`` is required when ``prob.bias`` and must be ``None`` otherwise; ``V = None`` becomes
    the exact lift ``prob.lift(W, b)`` (left ``None`` when ``lift=False``), a ``ValueError``
    naming ``W`` when it overflows (:func:`liftnet.solvers.init.finite_lift`: finite weights
    too large for the dtype would give NaN values and residuals). The solvers pass ``V``, so
    this one pass over the lift is only on the user's calls.
    """
    dt = check_problem(prob).dtype
    W = check_matrix_list(W, "W", prob.W_shapes, dt)
    check_bias_given(prob, b)
    if prob.bias:
        b = check_matrix_list(b, "b", prob.b_shapes, dt)
    if V is not None:
        V = check_matrix_list(V, "V", prob.V_shapes, dt)
    elif lift:
        from .solvers.init import finite_lift  # (liftnet.solvers imports this module)

        V = finite_lift(prob, W, b, "W")
    return W, b, V


def check_list_shapes(arrs, name: str, shapes) -> list:
    """A list or tuple of arrays (or nested sequences, or other array-likes) of the given
    shapes and of a real numeric dtype (kinds ``b, i, u, f``: complex, object or text entries
    would fail inside numpy's products or, complex, carry into the values), returned as a list
    of numpy arrays (:func:`as_entry`): arrays as they are, no copy, no pass over their
    entries."""
    check_list(arrs, name, len(shapes))
    out = []
    for i, (a, shp) in enumerate(zip(arrs, shapes)):
        A = as_entry(a, f"{name}[{i}]", f"an array of shape {tuple(shp)}")
        check_shape(A.shape, f"{name}[{i}]", shp)
        out.append(A)
    return out


def as_entry(a, name: str, what: str = "an array"):
    """One array of a model's point as a numpy array of a real numeric dtype: an
    ``np.ndarray`` as it is; a masked array without masked entries as its data (numpy.ma's
    products fail on the mask's shape: "operands could not be broadcast"); another array-like
    (a nested sequence, a CPU torch tensor, a DataFrame) by ``np.asarray``. Sparse matrices,
    ``np.matrix`` (its ``*`` is a matrix product), masked entries, ragged nesting and entries
    numpy cannot convert are refused naming ``name``."""
    _refuse_sparse(a, name)
    refuse_masked(a, name)
    if isinstance(a, np.matrix):
        raise TypeError(f"{name} must be a numpy array, got numpy.matrix (convert it with "
                        f"np.asarray)")
    if isinstance(a, np.ma.MaskedArray):
        A = np.ma.getdata(a)
    elif isinstance(a, np.ndarray):
        A = a
    else:
        try:
            A = np.asarray(a)
        except ValueError:  # a ragged nested sequence
            raise ValueError(f"{name} must be {what}, got a ragged sequence") from None
        except (TypeError, RuntimeError) as exc:  # (a torch tensor that requires grad)
            raise TypeError(f"{name} must be {what}, got {type(a).__name__} that numpy cannot "
                            f"convert: {exc}") from None
    check_real_dtype(A, name)
    return A


def check_real_dtype(A: np.ndarray, name: str) -> None:
    """An array of a real numeric dtype (kinds ``b, i, u, f``), not converted: complex, object
    or text entries would fail inside numpy's products or, complex, carry into the values."""
    if A.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {A.dtype}")


def check_net_shapes(prob, W, b, V=None):
    """The structure of ``(W, b, V)`` for the model's own evaluations (``LiftedProblem.Phi``,
    ``F``, ``forward``, ``lift``, ``lagrangian_gradient``): list lengths, shapes, a real
    numeric dtype of each entry (:func:`check_list_shapes`: complex, object and text arrays are
    a ``TypeError`` naming the entry, ``W[0]``), and ``b`` given exactly when ``prob.bias``;
    returns ``(W, b, V)`` with their entries as numpy arrays (:func:`as_entry`: a masked array
    without masked entries, a nested sequence, a torch tensor or a DataFrame converted).
    Cheap (O(number of layers): no copies of arrays, no pass over the entries): those
    methods also run inside the solvers, where a NaN weight must give a NaN value (the
    ``diverged`` status), not an error. :func:`check_point` is the full check of user input."""
    W = check_list_shapes(W, "W", prob.W_shapes)
    check_bias_given(prob, b)
    if b is not None:
        b = check_list_shapes(b, "b", prob.b_shapes)
    if V is not None:
        V = check_list_shapes(V, "V", prob.V_shapes)
    return W, b, V

"""Files written and read by liftnet: solver results (``.npz``) and JSON reports.

A result file holds the point ``(W, b, V)`` of the lifted model and its multipliers
``(M1, M2)`` (MODEL.md sections 4-5) under the names ``W_l``, ``b_l`` (``l = 1..L``),
``V_l``, ``M1_l``, ``M2_l`` (``l = 1..L-1``), layers numbered as in the maths.
:func:`load_result` gives back a mapping that ``solve_alm(..., init=...)`` accepts.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import tempfile

import numpy as np

from ._validation import (
    as_numeric_array,
    check_npz_file,
    check_path,
    check_scalar,
    refuse_special_file,
)

__all__ = ["save_result", "load_result", "jsonable", "write_json"]

#: the lists of arrays of a result (the point and its multipliers), as a solver's init reads them
ARRAY_KEYS = ("W", "b", "V", "M1", "M2")
#: the key of one array in a result file: ``W_1``, ``M2_3`` (name and 1-based layer)
FILE_KEY = re.compile(rf"^({'|'.join(ARRAY_KEYS)})_(\d+)$")
#: the scalars of an ALM result a warm start goes on with (solve_alm's init)
STATE_KEYS = ("rho", "eps")


def writable_folder(folder, name: str) -> str:
    """``folder``, created when missing, after checking that a file can be written in it;
    else a ``ValueError`` naming ``name`` (the parameter or command-line option). Lets a
    command refuse an unusable output place before it spends time solving."""
    folder = os.fspath(folder) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise ValueError(
            f"{name}: cannot create or write to the folder {folder!r}: {exc}"
        ) from None
    return folder


def writable_file(path, name: str) -> str:
    """``path``, after checking that it is not a folder, that its folder is writable
    (:func:`writable_folder`) and that a file of this very name can be written there; else a
    ``ValueError`` naming ``name``. The folder alone passed names the system refuses (longer
    than its 255 bytes): a solve then ran to the end and lost its result at the write. A
    missing file is created and removed again; an existing one is left as it is (it must
    be writable: a read-only file is not replaced)."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{name}: the path is empty, expected a file name")
    if os.path.isdir(path):
        raise ValueError(f"{name}: {path!r} is a folder, expected a file path")
    writable_folder(os.path.dirname(path), name)
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise ValueError(f"{name}: cannot write {path!r}: the file exists and is read-only")
        return path
    if os.path.lexists(path):  # a link to nowhere: writing creates its target, as open does
        return path
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.unlink(path)
    except FileExistsError:  # created in between by someone else: theirs, left alone
        pass
    except OSError as exc:
        raise ValueError(f"{name}: cannot create the file {path!r}: {reason(exc)}") from None
    return path


def reason(exc: Exception) -> str:
    """An error's reason without its number and file name (the messages name the file
    themselves): an ``OSError``'s ``File name too long``, any other's text."""
    return getattr(exc, "strerror", None) or str(exc)


def _open(file, text: bool):
    """``open`` for writing: text as UTF-8, or bytes."""
    return open(file, "w", encoding="utf-8") if text else open(file, "wb")


def _write_atomic(path: str, write, text: bool = False) -> None:
    """Write ``path`` through ``write(fh)`` all or nothing: into a new file beside it, which
    then replaces ``path`` (``os.replace``, atomic within a folder). A failure (a full disk)
    leaves no half file and an existing ``path`` as it was; it is an ``OSError`` naming
    ``path`` (the temporary file, removed, would mean nothing to the user).

    The temporary name is short (``.liftnet-XXXXXXXX.tmp``) whatever ``path``'s length, and is
    created with the permissions ``open`` gives a new file (``0o666`` less the umask).
    A symbolic link (``/dev/stdout``, whose target may be the file a shell redirected the
    output to: replacing that lost the rest of the output) and anything else that is no
    regular file (a named pipe) are written in place, through ``open``, as before."""
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        try:
            with _open(path, text) as fh:
                write(fh)
        except OSError as exc:
            raise OSError(exc.errno, reason(exc), path) from None
        return
    folder = os.path.dirname(path) or "."
    tmp = fd = None
    try:
        while fd is None:
            tmp = os.path.join(folder, f".liftnet-{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
        with _open(fd, text) as fh:
            fd = None  # the file object closes it now
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # a full disk is found here, not after the replace
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OSError(exc.errno, reason(exc), path) from None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.lexists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _npz_name(path: str) -> str:
    """The file :func:`save_result` writes for ``path``: ``path`` itself when it ends with
    ``.npz`` in any case (``run.NPZ`` is kept, not turned into ``run.NPZ.npz``), else
    ``path + ".npz"``. :func:`load_result` looks there too, so that both take the same name."""
    return path if path.lower().endswith(".npz") else path + ".npz"


def save_result(path, res) -> str:
    """Write ``res.W, res.b, res.V, res.M1, res.M2`` (and the ALM's ``rho`` and ``eps`` when
    ``res`` has them) to an uncompressed ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; ``.npz`` is appended when missing (in any case: ``run.NPZ`` is kept);
        parent folders are created.
    res : LiftedResult or mapping
        With ``W`` (L arrays ``(n_l, n_{l-1})``), ``b`` (L arrays or None), ``V``, ``M1``,
        ``M2`` (L-1 arrays ``(n_l, N)``; missing or None ones are skipped, ``M1`` and ``M2``
        together or not at all, as a solver's ``init`` takes them).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError, ValueError
        ``path`` is not path-like or names a folder or an unwritable place (also a name the
        system refuses, one too long), or ``res`` lacks a non-empty list ``W`` or holds
        something other than lists of real numeric arrays (nothing :func:`load_result` would
        refuse is written).
    OSError
        The writing itself failed (a full disk), naming ``path``: nothing is left there (the
        file is written beside it and then moved into place), an existing file is kept.
    """
    path = _npz_name(check_path(path))
    if res is None:
        raise TypeError("res must be a LiftedResult or a mapping with the weights W, got None")
    found = {name: res.get(name) if hasattr(res, "get") else getattr(res, name, None)
             for name in ARRAY_KEYS}
    if found["W"] is None:
        raise ValueError("res must hold the weights W (a list of L arrays), found none")
    if (found["M1"] is None) != (found["M2"] is None):
        # (parse_init takes both or neither: such a file could not warm-start a solver)
        one = "M1" if found["M2"] is None else "M2"
        raise ValueError(f"res.M1 and res.M2 must be given together (or neither), got {one} "
                         f"only")
    arrays = {}
    for name, seq in found.items():
        if seq is None:
            continue
        if not isinstance(seq, (list, tuple)):
            raise TypeError(f"res.{name} must be a list of arrays, got {type(seq).__name__}")
        if name == "W" and len(seq) == 0:
            raise ValueError("res.W must hold at least one array, got an empty list")
        for l, A in enumerate(seq, start=1):
            arrays[f"{name}_{l}"] = as_numeric_array(A, f"res.{name}[{l - 1}]")
    for name in STATE_KEYS:  # the ALM's penalty and inner tolerance: a warm start goes on with them
        x = res.get(name) if hasattr(res, "get") else getattr(res, name, None)
        if x is not None:
            arrays[name] = np.asarray(check_scalar(x, f"res.{name}", low=0, low_inclusive=False))
    # a ValueError naming path (a folder there, a folder that cannot be created, a name too
    # long), not a bare OSError; written through a handle, as np.savez would append ".npz" to
    # "run.NPZ"
    writable_file(path, "path")
    _write_atomic(path, lambda fh: np.savez(fh, **arrays))
    return path


def load_result(path) -> dict:
    """Read a file written by :func:`save_result`.

    Parameters
    ----------
    path : str or os.PathLike
        The file, or the name given to :func:`save_result`: when ``path`` is not a file and
        has no ``.npz`` extension (in any case), ``path + ".npz"`` is read, as ``save_result``
        (and ``liftnet solve --out PREFIX``) wrote there.

    Returns
    -------
    dict
        ``W`` (list of L arrays), ``b`` (list or None), ``V``, ``M1``, ``M2`` (lists or None),
        ``rho``, ``eps`` (floats or None): a valid ``init`` for the solvers (the ALM goes on
        with ``rho`` and ``eps``).

    Raises
    ------
    TypeError
        ``path`` is not path-like.
    FileNotFoundError
        Neither ``path`` nor the name ``save_result`` derives from it is a file.
    ValueError
        That name is a folder, or the file cannot be read or is not an npz archive holding a
        liftnet result.
    """
    given = check_path(path)
    path = given if os.path.isfile(given) else _npz_name(given)
    if not os.path.isfile(path):
        # a folder given as such (--init adir) is named so, not as a file missing
        folder = next((p for p in (path, given) if os.path.isdir(p)), None)
        if folder is not None:
            raise ValueError(f"path: {folder!r} is a folder, expected a result file (.npz)")
        refuse_special_file(given, "a result file (.npz)")
        # (and the name derived from it: a pipe there was reported as no such file)
        refuse_special_file(path, "a result file (.npz)")
        tried = repr(given) if path == given else f"{given!r} (nor {path!r})"
        raise FileNotFoundError(f"path: no such file {tried}")
    check_npz_file(path, "path", writer="save_result")  # np.load takes any other file for a pickle
    parts: dict[str, dict[int, np.ndarray]] = {}
    state = dict.fromkeys(STATE_KEYS)
    try:
        with np.load(path, allow_pickle=False) as f:
            for key in f.files:
                m = FILE_KEY.match(key)
                if m:
                    parts.setdefault(m.group(1), {})[int(m.group(2))] = f[key]
                elif key in state:
                    state[key] = check_scalar(f[key][()], f"{key} in {path!r}", low=0,
                                              low_inclusive=False)
    except Exception as exc:
        raise ValueError(f"path: cannot read {path!r} as a liftnet result: {exc}") from None
    if "W" not in parts:
        raise ValueError(f"path: {path!r} holds no weights W_1, W_2, ... (not a liftnet result)")
    out: dict = {}
    for name in ARRAY_KEYS:
        d = parts.get(name)
        if not d:
            out[name] = None
            continue
        if sorted(d) != list(range(1, len(d) + 1)):
            raise ValueError(f"path: {path!r} has {name}_l for l = {sorted(d)}, not 1..{len(d)}")
        try:  # numeric arrays only (a string array is no liftnet result)
            out[name] = [as_numeric_array(d[l], f"{name}_{l}") for l in range(1, len(d) + 1)]
        except TypeError as exc:
            raise ValueError(f"path: {path!r} is not a liftnet result: {exc}") from None
    if (out["M1"] is None) != (out["M2"] is None):  # (as save_result refuses to write it)
        one = "M1" if out["M2"] is None else "M2"
        raise ValueError(f"path: {path!r} holds {one}_l without {'M2' if one == 'M1' else 'M1'}"
                         f"_l: the multipliers are read together (a valid init holds both or "
                         f"neither)")
    out.update(state)
    return out


def jsonable(obj):
    """``obj`` with numpy scalars and arrays turned into Python ones; NaN and inf become None
    (strict JSON has neither). A dict or list that holds itself is a ``ValueError`` (it was a
    ``RecursionError``)."""
    return _jsonable(obj, ())


def _jsonable(obj, inside: tuple):
    """:func:`jsonable`; ``inside``: the ids of the containers ``obj`` lies in."""
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in inside:
            raise ValueError(f"cannot write a {type(obj).__name__} that holds itself (a "
                             f"circular reference) as JSON")
        inside = (*inside, id(obj))
        if isinstance(obj, dict):
            out = {str(k): _jsonable(v, inside) for k, v in obj.items()}
            if len(out) < len(obj):  # (1 and "1": one of the two values was dropped silently)
                seen: dict[str, object] = {}
                for k in obj:
                    if str(k) in seen:
                        raise ValueError(f"cannot write the keys {seen[str(k)]!r} and {k!r} "
                                         f"as JSON: both become the name {str(k)!r}")
                    seen[str(k)] = k
            return out
        return [_jsonable(v, inside) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist(), inside)
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if obj is None:
        return obj
    return str(obj)  # (a numpy string scalar, np.str_, too: a Python str)


def write_json(path, report: dict) -> str:
    """Write ``jsonable(report)`` as indented strict JSON; returns the path. The text is made
    before the file is touched, and written all or nothing (:func:`_write_atomic`: a failure
    is an ``OSError`` naming ``path``, with no half file left). ``path`` is checked first, as
    by :func:`save_result`: not a ``str`` or ``os.PathLike`` is a ``TypeError``, a folder or a
    place that cannot be written (its missing folders are created) a ``ValueError``, each
    naming ``path``."""
    path = check_path(path)
    text = json.dumps(jsonable(report), indent=2, allow_nan=False) + "\n"
    writable_file(path, "path")
    _write_atomic(path, lambda fh: fh.write(text), text=True)
    return path

"""A writable numba cache for liftnet's ``njit(cache=True)`` functions.

numba caches a module's compiled functions in the ``__pycache__`` beside it, else in the user's
cache folder (``~/.cache/numba``); where neither is writable (a read-only install, such as a
system or container site-packages, run by a user without a writable home) ``njit(cache=True)``
raises ``RuntimeError: cannot cache function ...: no locator available`` and ``import`` fails.
:func:`ensure_cache_dir` then points ``numba.config.CACHE_DIR`` at a folder of this user's in
the temporary folder (created private, used only if this user owns it and no one else can
write it; else a fresh private folder of this process). ``NUMBA_CACHE_DIR``, when set, wins.
"""

from __future__ import annotations

import os
import stat
import tempfile


def _private_folder() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else None
    name = f"liftnet-numba-{uid if uid is not None else 'user'}"
    folder = os.path.join(tempfile.gettempdir(), name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if (stat.S_ISDIR(st.st_mode) and (uid is None or st.st_uid == uid)
                and not st.st_mode & 0o022):
            return folder
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="liftnet-numba-")  # not shared, not reused


def _probe():  # pragma: no cover (never called: numba's locators read its code object)
    pass


def _locator_classes():
    """numba's cache locators, in the order numba tries them; None where this numba's
    internals (``CacheImpl._locator_classes``, a private name) are not those known."""
    try:
        from numba.core import caching

        return caching.CacheImpl._locator_classes
    except (ImportError, AttributeError):  # pragma: no cover (another numba's internals)
        return None


def cache_folder(module_file: str):
    """The folder numba caches ``module_file``'s compiled functions in: that of the first of
    numba's cache locators that takes the file (``NUMBA_CACHE_DIR``'s subfolder for its
    folder, ``__pycache__`` beside it, the user's cache folder, ...), as numba picks it; None
    where none takes it, or where numba's internals are not those known."""
    for cls in _locator_classes() or ():
        try:
            locator = cls.from_function(_probe, module_file)
            if locator is not None:
                return locator.get_cache_path()
        except Exception:  # pragma: no cover (leave the decision to numba)
            return None
    return None


def ensure_cache_dir(module_file: str) -> None:
    """Before the first ``njit(cache=True)`` of ``module_file``: leave numba's choice where it
    has a writable cache folder for that file, else give it one (module docstring)."""
    import numba

    if numba.config.CACHE_DIR or _locator_classes() is None:  # (set, or left to numba)
        return
    if cache_folder(module_file) is None:
        numba.config.CACHE_DIR = _private_folder()

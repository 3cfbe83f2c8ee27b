"""liftnet._numba_cache: a read-only install without a writable home still imports."""

import os
import stat

import numba
import pytest
from numba.core import caching

from liftnet import _numba_cache


class _NoLocator:
    @classmethod
    def from_function(cls, py_func, py_file):
        return None


@pytest.fixture
def no_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(_numba_cache.tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_numba_keeps_its_choice_where_it_can_cache(no_cache_dir):
    _numba_cache.ensure_cache_dir(_numba_cache.__file__.replace("_numba_cache", "io"))
    assert numba.config.CACHE_DIR == ""


def test_a_private_folder_where_numba_has_no_locator(no_cache_dir, monkeypatch):
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [_NoLocator])
    _numba_cache.ensure_cache_dir(__file__)
    folder = numba.config.CACHE_DIR
    assert os.path.dirname(folder) == str(no_cache_dir)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_a_folder_others_can_write_is_not_used(no_cache_dir, monkeypatch):
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [_NoLocator])
    shared = no_cache_dir / f"liftnet-numba-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    _numba_cache.ensure_cache_dir(__file__)
    assert numba.config.CACHE_DIR not in ("", str(shared))
    assert stat.S_IMODE(os.stat(numba.config.CACHE_DIR).st_mode) == 0o700


class _ElsewhereLocator:
    """A locator that takes every file and caches it in ``folder`` (as numba's user-wide one
    does for a read-only install)."""

    folder = None

    @classmethod
    def from_function(cls, py_func, py_file):
        return cls()

    def get_cache_path(self):
        return self.folder


def test_the_stale_cache_guard_looks_in_the_folder_numba_picks(monkeypatch, tmp_path):
    """``kernels._numba_cache_folder`` is the folder of the first locator that takes the file
    (the user's cache folder of a read-only install, not ``__pycache__``), and
    ``__pycache__`` where no locator takes it."""
    from pathlib import Path

    from liftnet.solvers import kernels

    monkeypatch.setattr(_ElsewhereLocator, "folder", str(tmp_path / "user-wide"))
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [_NoLocator, _ElsewhereLocator])
    assert kernels._numba_cache_folder() == tmp_path / "user-wide"
    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [_NoLocator])
    assert kernels._numba_cache_folder() == Path(kernels.__file__).with_name("__pycache__")

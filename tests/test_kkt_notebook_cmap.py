"""The helper ``show`` of notebooks/kkt_residual_checks.ipynb (section 3, the multiplier maps)
is code a student copies: it must run without a (Pending)DeprecationWarning from matplotlib.
``Colormap.set_bad`` is slated for deprecation (matplotlib 3.11 warns); ``with_extremes``
is the replacement. Run from tests/ of a checkout (the notebook is found next to it)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "kkt_residual_checks.ipynb"


def _helper(nb_path, name):
    """The function ``name`` defined in a code cell of the notebook, compiled alone."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or f"def {name}(" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        ns = {"plt": plt, "np": np}
        exec(compile(ast.Module(body=[node], type_ignores=[]), str(nb_path), "exec"), ns)
        return ns[name]
    raise AssertionError(f"no cell of {nb_path.name} defines {name}")


def test_show_uses_no_deprecated_colormap_api():
    show = _helper(NOTEBOOK, "show")
    A = np.array([[1.0, -2.0, np.nan], [0.5, np.nan, 3.0]])
    fig, ax = plt.subplots()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            warnings.simplefilter("error", PendingDeprecationWarning)
            im = show(ax, A, "t", cmap="RdBu_r", sym=True)
        # the NaN entries (dead units) are still drawn grey
        cm = im.get_cmap()
        assert np.allclose(cm.get_bad(), matplotlib.colors.to_rgba("lightgray"))
        assert im.get_clim() == (-3.0, 3.0)
    finally:
        plt.close(fig)

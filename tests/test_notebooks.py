"""Execute every notebook under ``notebooks/`` in fast mode (``LIFTNET_FAST=1``): no cell errors,
and each notebook's assertions (its "Checks" cell: what the notebook shows) hold.

Slow (each notebook runs for tens of seconds); selected with ``-m slow``, and run by the README's
test command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    for name in ("theory_validation.ipynb", "kkt_residual_checks.ipynb", "teaching_demo.ipynb"):
        assert name in names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("LIFTNET_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    # The kernel runs this interpreter (the one that imports liftnet), whatever kernels exist.
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.kernel_manager_class = _manager_for(sys.executable)
    # a notebook that only ran would prove little: each states its claims as assertions
    assert any("assert " in c.source for c in nb.cells if c.cell_type == "code"), path.name
    client.execute()  # raises CellExecutionError on the first failing cell (a failed assert too)


def _manager_for(python: str):
    """A kernel manager whose ``python3`` kernel is started with ``python``."""
    from jupyter_client.manager import KernelManager

    class _Manager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if cmd and os.path.basename(cmd[0]).startswith("python"):
                cmd[0] = python
            return cmd

    return _Manager

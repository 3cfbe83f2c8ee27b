"""The README's quickstart runs as written and certifies what it claims."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_code() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_quickstart_runs_and_converges(capsys):
    namespace: dict = {}
    exec(compile(quickstart_code(), "README.md:quickstart", "exec"), namespace)
    res, net = namespace["res"], namespace["net"]
    assert res.status == "converged" and res.kkt["residual"] <= 1e-6
    assert net.task_ == "regression" and net.prune().n_params_ <= net.n_params_
    assert "KKTReport" in capsys.readouterr().out

"""Suite-wide set-up."""

import signal

import pytest


@pytest.fixture(autouse=True, scope="session")
def _python_sigint_handler():
    """Python's own SIGINT handler (KeyboardInterrupt) for the whole run. A process started in
    the background by a non-interactive shell (``cmd &`` in a script, ``nohup``) inherits
    SIGINT ignored, and Python keeps it so: the tests that send this process a Ctrl-C
    (``os.kill(os.getpid(), SIGINT)``) then saw nothing happen and failed (a clean-clone run
    of session 43), and the Ctrl-C handling they check went unchecked."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.fixture
def python_inner_solver(monkeypatch):
    """Group OWL-QN's Python loop for every subproblem (``owlqn_compiled.ENABLED`` off): for
    the tests that reach into it (a patched ``_Subproblem.evaluate``, a spy on a callback it
    makes), which the compiled loop of small float64 problems never calls."""
    from liftnet.solvers import owlqn_compiled

    monkeypatch.setattr(owlqn_compiled, "ENABLED", False)

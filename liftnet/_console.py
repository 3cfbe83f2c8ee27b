"""The ``liftnet`` console script and ``python -m liftnet``: :func:`liftnet.cli.main`, imported
inside a guard.

``import liftnet`` loads nothing heavy (every public name is lazy), so a Ctrl-C while the CLI's
own imports load (numpy and the data readers, about 0.3 s) lands here and ends the run with
the shell's status 130 and one line, as a Ctrl-C at any later stage does, instead of Python's
traceback. (Before, the console script imported ``liftnet.cli`` itself, after ``liftnet``'s
eager core: about 0.65 s in which a Ctrl-C printed a traceback.)
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    """Entry point: the CLI's exit status, or 130 when a Ctrl-C stops its import."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("liftnet: interrupted while starting; nothing was run", file=sys.stderr)
        return 130
    return cli_main(argv)

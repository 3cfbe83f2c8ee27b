"""The ALM against SGD, Adam, proximal SGD/Adam and full-batch proximal gradient (issue 4).

Usage: ``python benchmarks/compare.py --mode fast|full [--datasets ...] [--seeds ...]
[--dtype float64|float32] [--no-path] [--out-dir DIR]``; the same as ``liftnet compare``. Prints
the table (header, legend, its reproducible part, then the full table: medians over seeds,
ratios against the ALM) and writes it with the plots to ``--out-dir``, after removing the
files an earlier run of the harness left there (only the names it writes; the stale ones are
listed), so that the folder holds this run's outputs only.
"""

import sys

from liftnet.compare import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

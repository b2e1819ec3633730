"""One training step of the course network: tinygrad_reg vs hand-written numpy (issue 6).

Same as ``python -m tinygrad_reg bench``; see tinygrad_reg/bench.py for what is measured.

    python benchmarks/step_vs_handwritten.py             # sizes S, M, L, 7 rounds
    python benchmarks/step_vs_handwritten.py --quick --sizes S
"""

import argparse

from tinygrad_reg.app import bench

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
bench.add_arguments(parser)
try:
    raise SystemExit(bench.main(parser.parse_args()))
except ValueError as error:
    parser.error(str(error))

"""Wall time of the default k-fold sweep (L2, the default λ grid, 3000 iterations, 5 folds:
35 trainings) run in 1 process and in a pool of 2 (``sweep(..., executor=2)``, what
``sweep --folds 5 --jobs 2`` does), and whether the two tables are equal, bit for bit.

    python benchmarks/sweep_jobs.py [--folds K] [--iterations N] [--jobs 1,2]
"""

import argparse
import dataclasses
import os
import time

from tinygrad_reg.train.regularization_path import DEFAULT_ITERATIONS, sweep

parser = argparse.ArgumentParser(allow_abbrev=False)
parser.add_argument("--folds", type=int, default=5)
parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
parser.add_argument("--jobs", default="1,2")
args = parser.parse_args()

print(f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.1f}")
tables = {}
for jobs in [int(n) for n in args.jobs.split(",")]:
    start = time.perf_counter()
    table = sweep("l2", folds=args.folds, iterations=args.iterations, executor=jobs)
    seconds = time.perf_counter() - start
    tables[jobs] = [dataclasses.replace(row, seconds=0.0) for row in table.rows]
    print(f"--jobs {jobs}: {seconds:.1f} s wall, {len(table.rows)} rows")
    if jobs == 1:
        sequential = seconds
    else:
        print(f"  speed-up over --jobs 1: {sequential / seconds:.2f}x")
first = next(iter(tables.values()))
print("rows identical:", all(rows == first for rows in tables.values()))
print(f"load average after: {os.getloadavg()[0]:.1f}")

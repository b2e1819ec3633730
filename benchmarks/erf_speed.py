"""How fast erf (and so gelu) is: numpy has no erf, so tinygrad_reg calls Python's math.erf on
every element (ops/helpers.py, erf_of_array). Prints the time per million elements next to
np.exp and np.tanh (gelu's approximate="tanh" uses tanh), best of 5.

    python benchmarks/erf_speed.py
"""

import math
import time

import numpy as np

from tinygrad_reg.ops.helpers import erf_of_array


def best_of(repeats: int, function, x: np.ndarray) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - start)
    return min(times)


x = np.random.default_rng(0).standard_normal(1_000_000) * 3
for name, function in [("erf (math.erf)", erf_of_array), ("np.exp", np.exp), ("np.tanh", np.tanh)]:
    print(f"{name:<16} {best_of(5, function, x) * 1e3:8.1f} ms per million float64 elements")
sample = x[:10_000]
exact = np.array([math.erf(v) for v in sample])
print("erf_of_array == math.erf on 10 000 elements:", bool((erf_of_array(sample) == exact).all()))

"""How fast erf (and so gelu) is: numpy has no erf, so tinygrad_reg evaluates Taylor series
around table points (ops/helpers.py, erf_of_array). Prints the time per million elements next
to calling Python's math.erf on every element, np.exp and np.tanh (gelu's approximate="tanh"
uses tanh), best of 5, and the largest distance from math.erf in ulps.

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


def math_erf_per_element(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.erf, x.ravel().tolist()), np.float64, count=x.size)


x = np.random.default_rng(0).standard_normal(1_000_000) * 3
for name, function in [
    ("erf_of_array", erf_of_array),
    ("math.erf each", math_erf_per_element),
    ("np.exp", np.exp),
    ("np.tanh", np.tanh),
]:
    print(f"{name:<16} {best_of(5, function, x) * 1e3:8.1f} ms per million float64 elements")
exact = math_erf_per_element(x)
ulps = np.abs(erf_of_array(x) - exact) / np.spacing(np.abs(exact))
print(f"largest distance from math.erf on these 1 000 000 elements: {ulps.max():.0f} ulp")

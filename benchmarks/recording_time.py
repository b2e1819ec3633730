"""How long ``compile`` takes to record a step, as the step grows: it should be linear in the
number of ops. The step is a chain of ``n`` elementwise ops on a parameter (a multiply and a
tanh, alternating), its sum, backward and a plain SGD update; printed per n: the seconds to
record (the first call), the recorded entries, the time per op, and one replay's time.

    python benchmarks/recording_time.py            # n = 1k, 4k, 16k, 32k
    python benchmarks/recording_time.py 1000 2000  # other sizes
"""

import sys
import time

import numpy as np

import tinygrad_reg as tg
from tinygrad_reg import Tensor
from tinygrad_reg.optim import SGD


def chain_step(ops: int):
    w = Tensor(np.full(8, 0.5), requires_grad=True)
    opt = SGD([w], lr=0.01)

    def step(x):
        opt.zero_grad()
        y = w * x
        for i in range(ops - 1):
            y = y * 0.999 if i % 2 else y.tanh()
        cost = y.sum()
        cost.backward()
        opt.step()
        return cost

    return tg.compile(step)


def seconds(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


sizes = [int(n) for n in sys.argv[1:]] or [1_000, 4_000, 16_000, 32_000]
print(f"{'ops':>7} {'record (s)':>11} {'entries':>8} {'µs per op':>10} {'replay (ms)':>12}")
for ops in sizes:
    step = chain_step(ops)
    x = np.ones(8)
    record = seconds(step, x)
    replay = min(seconds(step, x) for _ in range(3))
    (trace,) = next(iter(step.traces.values()))
    per_op = record / ops * 1e6
    print(f"{ops:>7} {record:>11.3f} {len(trace.entries):>8} {per_op:>10.1f} {replay * 1e3:>12.2f}")

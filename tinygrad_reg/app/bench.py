"""Benchmark: one training step in tinygrad_reg against the same step written by hand in numpy.

A step is forward + cost with L2 penalty + backward + gradient descent update, for the course
network LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID in float64. The reference is the step written
by hand as tightly as numpy allows (``tight_step``: boolean ReLU masks, ``np.mean``, each
product once); the course's own numpy code is a second row. The autodiff side is written
with the public API, as a user would, twice: with ``MLP`` + ``SGD``
(``binary_cross_entropy_with_logits``, ``l2_penalty``), and with raw Tensors and a
functional update
(``Tensor(p.data - lr * p.grad, requires_grad=True)`` each step); the ``MLP`` + ``SGD`` step
is also timed through ``compile`` (recorded once, replayed: see jit/compiler.py). All run
interleaved in one process for several rounds; the table reports the median time per step
and the median of the per-round ratios to the reference, so machine noise affects both sides
alike, and the peak memory of one step (``tracemalloc``) with its ratio to the reference's.
A compiled step allocates its buffers once, when it records, so its memory is the bytes of
those buffers (parameters' included) plus the peak of one replay.

Run: ``python -m tinygrad_reg bench`` (``--sizes S1,S,M,L``, ``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..jit.compiler import compile as compile_step
from ..nn.losses import binary_cross_entropy_with_logits
from ..nn.modules import MLP
from ..nn.regularizers import l2_penalty
from ..optim.optimizers import SGD
from ..tensor import Tensor
from ..testing.reference import initialize_parameters

SIZES = {
    # S with a single example: numpy has almost no arithmetic to do, so what is left is the
    # fixed cost of each step's Python and numpy calls (the framework's overhead laid bare).
    "S1": ([2, 20, 3, 1], 1),
    "S": ([2, 20, 3, 1], 211),
    "M": ([784, 256, 64, 1], 1024),
    "L": ([1024, 1024, 1024, 1], 4096),
}
LAMBD, LR = 0.7, 0.01


@dataclass
class Problem:
    X: np.ndarray
    Y: np.ndarray
    layer_dims: list[int]


def make_problem(size: str, seed: int = 0, dtype: Any = np.float64) -> Problem:
    """The size's data, drawn in float64 and rounded to ``dtype`` (float32 for the f32 rows)."""
    layer_dims, m = SIZES[size]
    rng = np.random.RandomState(seed)
    X = rng.randn(layer_dims[0], m).astype(dtype)
    Y = (rng.rand(1, m) > 0.5).astype(dtype)
    return Problem(X, Y, layer_dims)


def start_parameters(problem: Problem) -> dict:
    """The parameters every step starts from, in the problem's dtype."""
    start = initialize_parameters(problem.layer_dims, seed=3)
    return {name: value.astype(problem.X.dtype) for name, value in start.items()}


# --- the steps -------------------------------------------------------------------------------


def tight_step(parameters: dict, X: np.ndarray, Y: np.ndarray) -> dict:
    """The step written by hand as tightly as numpy allows: the reference.

    Keeps only what its backward pass reads (each layer's input A, the last sigmoid), masks
    ReLU with booleans, averages with ``np.mean`` and scales each gradient once."""
    L = len(parameters) // 2
    m = X.shape[1]
    A, inputs = X, []
    for l in range(1, L + 1):
        inputs.append(A)
        Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        A = np.maximum(Z, 0) if l < L else 1 / (1 + np.exp(-Z))
    weights = sum(np.vdot(parameters[f"W{l}"], parameters[f"W{l}"]) for l in range(1, L + 1))
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)) + LAMBD / (2 * m) * weights
    dZ = (A - Y) / m
    updated = {}
    for l in range(L, 0, -1):
        A_prev, W = inputs[l - 1], parameters[f"W{l}"]
        dW = dZ @ A_prev.T + LAMBD / m * W
        db = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (W.T @ dZ) * (A_prev > 0)
        updated[f"W{l}"] = W - LR * dW
        updated[f"b{l}"] = parameters[f"b{l}"] - LR * db
    del cost
    return updated


def handwritten_step(parameters: dict, X: np.ndarray, Y: np.ndarray) -> dict:
    """The course's numpy code for one step (any depth): no checks, nothing but the math."""
    L = len(parameters) // 2
    m = X.shape[1]
    A, cache = X, []
    for l in range(1, L + 1):
        Z = np.dot(parameters[f"W{l}"], A) + parameters[f"b{l}"]
        cache.append((A, Z))
        A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
    logprobs = np.multiply(-np.log(A), Y) + np.multiply(-np.log(1 - A), 1 - Y)
    weights = sum(np.sum(np.square(parameters[f"W{l}"])) for l in range(1, L + 1))
    cost = 1.0 / m * np.nansum(logprobs) + LAMBD / (2 * m) * weights
    dZ = A - Y
    updated = {}
    for l in range(L, 0, -1):
        A_prev, _ = cache[l - 1]
        W = parameters[f"W{l}"]
        dW = 1.0 / m * np.dot(dZ, A_prev.T) + LAMBD / m * W
        db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA = np.dot(W.T, dZ)
            dZ = np.multiply(dA, np.int64(cache[l - 2][1] > 0))
        updated[f"W{l}"] = W - LR * dW
        updated[f"b{l}"] = parameters[f"b{l}"] - LR * db
    del cost
    return updated


class AutodiffStep:
    """The same step with tinygrad_reg's public API."""

    def __init__(self, problem: Problem):
        self.model = MLP(problem.layer_dims, seed=3, dtype=problem.X.dtype)
        self.X, self.Y = Tensor(problem.X), Tensor(problem.Y)
        self.m = problem.X.shape[1]
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def __call__(self) -> None:
        self.optimizer.zero_grad()
        logits = self.model(self.X)
        cost = binary_cross_entropy_with_logits(logits, self.Y) + l2_penalty(
            self.model, LAMBD, self.m
        )
        cost.backward()
        self.optimizer.step()


class RawTensorStep:
    """The same step with raw Tensors and a functional update: new leaves every step."""

    def __init__(self, problem: Problem):
        start = initialize_parameters(problem.layer_dims, seed=3)
        self.L = len(problem.layer_dims) - 1
        self.params = {k: Tensor(v, requires_grad=True) for k, v in start.items()}
        self.X, self.Y = Tensor(problem.X), Tensor(problem.Y)
        self.m = problem.X.shape[1]

    def __call__(self) -> None:
        p = self.params
        A = self.X
        for l in range(1, self.L + 1):
            Z = p[f"W{l}"] @ A + p[f"b{l}"]
            A = Z.relu() if l < self.L else Z
        weights = [p[f"W{l}"] for l in range(1, self.L + 1)]
        cost = binary_cross_entropy_with_logits(A, self.Y) + l2_penalty(weights, LAMBD, self.m)
        cost.backward()
        self.params = {k: Tensor(t.data - LR * t.grad, requires_grad=True) for k, t in p.items()}


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def torch_step_or_none(problem: Problem) -> Callable[[], object] | None:
    """The same step in PyTorch eager float64, if torch is importable (never required), checked
    to compute the tight step's update before it is timed."""
    if not torch_available():
        return None
    import torch

    torch.set_num_threads(1)
    params = initialize_parameters(problem.layer_dims, seed=3)
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    X, Y = torch.tensor(problem.X), torch.tensor(problem.Y)
    L, m = len(problem.layer_dims) - 1, problem.X.shape[1]
    optimizer = torch.optim.SGD(list(tensors.values()), lr=LR)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step() -> dict:
        optimizer.zero_grad()
        A = X
        for l in range(1, L + 1):
            Z = tensors[f"W{l}"] @ A + tensors[f"b{l}"]
            A = torch.relu(Z) if l < L else Z
        weights = sum((tensors[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
        cost = bce(A, Y) + LAMBD / (2 * m) * weights
        cost.backward()
        optimizer.step()
        return tensors

    # The same check as tests/app/test_bench.py makes of the other steps, before any timing:
    # one step from the same start computes the tight step's update.
    expected = tight_step(params, problem.X, problem.Y)
    for name, value in step().items():
        got = value.detach().numpy()
        if not np.allclose(got, expected[name], rtol=1e-12, atol=1e-15):
            worst = float(np.max(np.abs(got - expected[name])))
            raise RuntimeError(
                f"bench: PyTorch's step does not compute the tight step's update of {name} "
                f"(largest difference {worst:.3g}, expected within rtol 1e-12); not timed"
            )
    return step


# --- measuring -------------------------------------------------------------------------------


def seconds_per_call(step: Callable[[], object], min_time: float) -> float:
    """Mean time of ``step()`` over enough calls to last ``min_time`` seconds."""
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def peak_memory(step: Callable[[], object]) -> int:
    """Peak bytes allocated (numpy arrays included) during one call of ``step``."""
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@dataclass
class Row:
    name: str
    seconds: float  # median per step
    ratio: float  # median of per-round ratios to the reference (the tight hand-written step)
    peak_bytes: int | None = None
    calls: tuple[int, int] | None = None  # a compiled row: calls per replay, and recorded


REFERENCE = "hand-written numpy, tight"
COMPILED = "tinygrad_reg, compiled"
REFERENCE_F32 = "hand-written numpy, tight, float32"
COMPILED_F32 = "tinygrad_reg, compiled, float32"
MEASURE_MEMORY = (
    REFERENCE,
    "course's numpy code",
    "tinygrad_reg, MLP + SGD",
    COMPILED,
    "raw Tensors",
    REFERENCE_F32,
    "tinygrad_reg, MLP + SGD, float32",
    COMPILED_F32,
)


def compare(size: str, rounds: int, min_time: float) -> list[Row]:
    """Interleave the steps for ``rounds`` rounds; report medians."""
    problem = make_problem(size)
    problem32 = make_problem(size, dtype=np.float32)
    state = {
        "tight": initialize_parameters(problem.layer_dims, seed=3),
        "course": initialize_parameters(problem.layer_dims, seed=3),
        "tight32": start_parameters(problem32),
    }

    def tight() -> None:
        state["tight"] = tight_step(state["tight"], problem.X, problem.Y)

    def tight32() -> None:
        state["tight32"] = tight_step(state["tight32"], problem32.X, problem32.Y)

    def course() -> None:
        state["course"] = handwritten_step(state["course"], problem.X, problem.Y)

    # The floor: only the step's matrix products (3 forward, 3 for dW, 2 for dA).
    params = initialize_parameters(problem.layer_dims, seed=3)
    activations = [problem.X] + [np.ones((n, problem.X.shape[1])) for n in problem.layer_dims[1:]]

    def matmuls_only() -> None:
        L = len(problem.layer_dims) - 1
        for l in range(1, L + 1):
            np.dot(params[f"W{l}"], activations[l - 1])
        for l in range(L, 0, -1):
            np.dot(activations[l], activations[l - 1].T)
            if l > 1:
                np.dot(params[f"W{l}"].T, activations[l])

    contenders: dict[str, Callable[[], object]] = {
        REFERENCE: tight,
        "course's numpy code": course,
        "  its matmuls only": matmuls_only,
        "tinygrad_reg, MLP + SGD": AutodiffStep(problem),
        COMPILED: compile_step(AutodiffStep(problem)),  # the same step, recorded and replayed
        "raw Tensors": RawTensorStep(problem),
        REFERENCE_F32: tight32,
        "tinygrad_reg, MLP + SGD, float32": AutodiffStep(problem32),
        COMPILED_F32: compile_step(AutodiffStep(problem32)),
    }
    torch_step = torch_step_or_none(problem)
    if torch_step is not None:
        contenders["PyTorch eager"] = torch_step

    for step in contenders.values():  # warm up
        step()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            times[name].append(seconds_per_call(step, min_time))
    rows = []
    for name in contenders:
        # float32 rows against the tight float32 step, the others against the float64 one
        base = times[REFERENCE_F32 if name.endswith("float32") else REFERENCE]
        ratios = [t / b for t, b in zip(times[name], base)]
        rows.append(Row(name, statistics.median(times[name]), statistics.median(ratios)))
    for row in rows:
        if row.name in MEASURE_MEMORY:
            row.peak_bytes = peak_memory(contenders[row.name])
        if row.name in (COMPILED, COMPILED_F32):  # its buffers were allocated when it recorded
            compiled = contenders[row.name]
            traces = [t for paths in compiled.traces.values() for t in paths]  # type: ignore
            row.peak_bytes += sum(t.nbytes() for t in traces)
            row.calls = (traces[0].calls, traces[0].recorded_calls)
    return rows


def chain_backward_seconds(length: int) -> float:
    """Backward time through a chain of ``length`` elementwise ops (best of 3)."""
    best = float("inf")
    for _ in range(3):
        x = Tensor(np.full(4, 0.5), requires_grad=True)
        y = x
        for _ in range(length):
            y = y * 0.999999
        loss = y.sum()
        start = time.perf_counter()
        loss.backward()
        best = min(best, time.perf_counter() - start)
        del x, y, loss
    return best


def memory_growth(steps: int) -> tuple[int, int]:
    """Traced bytes after ``steps // 10`` and after ``steps`` size-S autodiff steps."""
    step = AutodiffStep(make_problem("S"))
    tracemalloc.start()
    try:
        for i in range(1, steps + 1):
            step()
            if i == steps // 10:
                gc.collect()
                early = tracemalloc.get_traced_memory()[0]
        gc.collect()
        return early, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def step_parts(size: str, steps: int) -> dict[str, float]:
    """Median seconds of each part of the MLP + SGD step, and of the whole tight step, timed
    alternately for ``steps`` steps: where the framework's time goes."""
    problem = make_problem(size)
    auto = AutodiffStep(problem)
    state = {"p": initialize_parameters(problem.layer_dims, seed=3)}
    names = ["zero_grad", "forward (MLP)", "loss", "penalty", "loss + penalty", "backward"]
    names += ["optimizer step", "tight hand-written step"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(steps):
        marks = [time.perf_counter()]
        auto.optimizer.zero_grad()
        marks.append(time.perf_counter())
        logits = auto.model(auto.X)
        marks.append(time.perf_counter())
        loss = binary_cross_entropy_with_logits(logits, auto.Y)
        marks.append(time.perf_counter())
        penalty = l2_penalty(auto.model, LAMBD, auto.m)
        marks.append(time.perf_counter())
        cost = loss + penalty
        marks.append(time.perf_counter())
        cost.backward()
        marks.append(time.perf_counter())
        auto.optimizer.step()
        marks.append(time.perf_counter())
        state["p"] = tight_step(state["p"], problem.X, problem.Y)
        marks.append(time.perf_counter())
        for name, start, end in zip(names, marks, marks[1:]):
            times[name].append(end - start)
    return {name: statistics.median(t) for name, t in times.items()}


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def run(sizes: list[str], quick: bool, rounds: int | None = None) -> str:
    """Run the benchmark and return its report (Markdown tables)."""
    rounds = rounds or (3 if quick else 7)
    min_time = 0.05 if quick else 0.5
    lines = [
        "| size | step | time per step | ratio to tight hand-written | peak memory (ratio) |",
        "|---|---|---|---|---|",
    ]
    replays = []  # the compiled rows' calls per replay
    for size in sizes:
        dims, m = SIZES[size]
        rows = compare(size, rounds, min_time)
        replays += [
            f"{size} {r.name.removeprefix('tinygrad_reg, ')}: {r.calls[0]} ({r.calls[1]})"
            for r in rows
            if r.calls
        ]
        peaks = {row.name: row.peak_bytes or 1 for row in rows}
        for row in rows:
            memory = ""
            if row.peak_bytes is not None:
                reference = REFERENCE_F32 if row.name.endswith("float32") else REFERENCE
                ratio = row.peak_bytes / peaks[reference]
                memory = f"{row.peak_bytes / 2**20:.1f} MiB ({ratio:.2f})"
            lines.append(
                f"| {size}: {dims}, m={m} | {row.name.strip()} | {format_time(row.seconds)} "
                f"| {row.ratio:.2f} | {memory} |"
            )
    lines += [
        "",
        "Calls per compiled replay (the tape's entries after tape_optimizer; in parentheses, "
        "the calls the recording made): " + ", ".join(replays) + ".",
    ]
    if torch_available():
        lines.append(
            "PyTorch eager is timed (float64, one thread, checked to compute the tight step's "
            "update first); torch.compile is not: compiling even a small step took over a "
            "minute on a 2-core machine, longer than this whole benchmark."
        )
    short, long = (1_000, 10_000) if quick else (10_000, 100_000)
    t_short, t_long = chain_backward_seconds(short), chain_backward_seconds(long)
    lines += [
        "",
        f"Backward through a chain of elementwise ops: {short:,} ops {format_time(t_short)}, "
        f"{long:,} ops {format_time(t_long)}, ratio {t_long / t_short:.1f} (linear: 10).",
    ]
    steps = 1_000 if quick else 10_000
    early, late = memory_growth(steps)
    lines.append(
        f"Traced memory during {steps:,} size-S steps: {early / 1024:.1f} KiB after "
        f"{steps // 10:,}, {late / 1024:.1f} KiB after {steps:,} "
        f"(growth {(late - early) / 1024:+.1f} KiB)."
    )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        default="S,M,L",
        help=f"comma-separated sizes among {', '.join(SIZES)} (default: S,M,L)",
    )
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke test")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    parser.add_argument(
        "--parts",
        action="store_true",
        help="instead, time each part of the autodiff step (median µs) against the tight step",
    )


def main(args: argparse.Namespace) -> int:
    """Run with parsed ``add_arguments`` options; a bad ``--sizes`` raises ValueError."""
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        choices = ", ".join(SIZES)
        raise ValueError(f"--sizes {args.sizes!r}: expected some of {choices}, comma-separated")
    if args.rounds is not None and args.rounds < 1:
        raise ValueError(f"--rounds {args.rounds}: expected at least 1")
    if args.parts:
        steps = 200 if args.quick else 3000
        for size in sizes:
            parts = step_parts(size, steps if size.startswith("S") else max(3, steps // 500))
            print(f"{size}: " + ", ".join(f"{k} {format_time(v)}" for k, v in parts.items()))
        return 0
    print(run(sizes, args.quick, args.rounds))
    return 0

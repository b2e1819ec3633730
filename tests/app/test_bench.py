import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_reg.app import bench
from tinygrad_reg.app.cli import main
from tinygrad_reg.jit.compiler import compile as compile_step
from tinygrad_reg.testing.reference import initialize_parameters


@pytest.mark.parametrize("size", ["S1", "S"])
def test_every_timed_step_computes_the_same_update(size):
    problem = bench.make_problem(size)
    start = initialize_parameters(problem.layer_dims, seed=3)
    tight = bench.tight_step(start, problem.X, problem.Y)
    course = bench.handwritten_step(start, problem.X, problem.Y)
    autodiff = bench.AutodiffStep(problem)
    autodiff()
    raw = bench.RawTensorStep(problem)
    raw()
    mlp = autodiff.model.to_parameters()
    for name, value in tight.items():
        assert not np.array_equal(value, start[name])  # a step was taken
        for other in (course[name], mlp[name], raw.params[name].data):
            np.testing.assert_allclose(other, value, rtol=1e-12, atol=1e-15)


def test_quick_bench_prints_the_table_and_the_scaling_lines(capsys):
    assert main(["bench", "--sizes", "S", "--quick", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for row in (
        "hand-written numpy, tight",
        "course's numpy code",
        "tinygrad_reg, MLP + SGD",
        "tinygrad_reg, compiled",
    ):
        assert f"| S: [2, 20, 3, 1], m=211 | {row} |" in out
    assert "| S: [2, 20, 3, 1], m=211 | raw Tensors |" in out
    assert "Backward through a chain" in out and "Traced memory" in out
    # the replayed calls are the compiled step's tape entries, fewer than the recording made
    for name, dtype in [("compiled", np.float64), ("compiled, float32", np.float32)]:
        found = re.search(rf"S {name}: (\d+) \((\d+)\)", out)
        step = compile_step(bench.AutodiffStep(bench.make_problem("S", dtype=dtype)))
        step()
        (trace,) = [t for paths in step.traces.values() for t in paths]
        assert (int(found[1]), int(found[2])) == (trace.calls, trace.recorded_calls)
        assert trace.calls < trace.recorded_calls
    assert ("torch.compile is not" in out) == bench.torch_available()
    assert ("| PyTorch eager |" in out) == bench.torch_available()


def test_unknown_sizes_are_a_usage_error(capsys):
    assert main(["bench", "--sizes", "XL"]) == 2
    assert "expected some of S1, S, M, L" in capsys.readouterr().err


def test_rounds_below_one_are_a_usage_error(capsys):
    assert main(["bench", "--sizes", "S", "--rounds", "0"]) == 2
    assert "--rounds 0" in capsys.readouterr().err


def test_parts_prints_each_part_of_the_step(capsys):
    assert main(["bench", "--sizes", "S1", "--quick", "--parts"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("S1: zero_grad ") and "backward" in out and "tight hand-written" in out


def test_api_md_lists_every_size_with_its_network_and_examples():
    api = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = api[api.index("- `bench`:") :].replace("\n  ", " ")
    for size, (layer_dims, m) in bench.SIZES.items():
        assert re.search(rf'`"{size}"` `{re.escape(str(layer_dims))}` with {m}\b', section), size


def test_the_float32_steps_stay_float32_and_compute_the_tight_float32_update():
    problem = bench.make_problem("S", dtype=np.float32)
    start = bench.start_parameters(problem)
    tight = bench.tight_step(start, problem.X, problem.Y)
    autodiff = bench.AutodiffStep(problem)
    autodiff()
    mlp = autodiff.model.to_parameters()
    for name, value in tight.items():
        assert value.dtype == mlp[name].dtype == np.float32
        assert not np.array_equal(value, start[name])
        # one step: the parameters (|p| <= ~1) move by lr·dW; the two orders of summation
        # differ by a few float32 roundings (eps 6e-8) of values of that size
        np.testing.assert_allclose(mlp[name], value, rtol=1e-6, atol=1e-6)


def test_the_pytorch_anchor_is_checked_against_the_tight_update_before_timing(monkeypatch):
    pytest.importorskip("torch")
    problem = bench.make_problem("S1")
    assert bench.torch_step_or_none(problem) is not None  # the check passed
    wrong = bench.tight_step
    monkeypatch.setattr(
        bench, "tight_step", lambda p, X, Y: {k: v + 1 for k, v in wrong(p, X, Y).items()}
    )
    with pytest.raises(RuntimeError, match=r"bench: PyTorch's step .* update of W1"):
        bench.torch_step_or_none(problem)

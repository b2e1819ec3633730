import numpy as np
import pytest

from tinygrad_reg import bench
from tinygrad_reg.cli import main
from tinygrad_reg.reference import initialize_parameters


@pytest.mark.parametrize("size", ["S1", "S"])
def test_the_two_timed_steps_compute_the_same_update(size):
    problem = bench.make_problem(size)
    autodiff = bench.AutodiffStep(problem)
    start = initialize_parameters(problem.layer_dims, seed=3)
    by_hand = bench.handwritten_step(start, problem.X, problem.Y)
    autodiff()
    for name, value in autodiff.model.to_parameters().items():
        np.testing.assert_allclose(value, by_hand[name], rtol=1e-12, atol=1e-15)
        assert not np.array_equal(value, start[name])  # a step was taken


def test_quick_bench_prints_the_table_and_the_scaling_lines(capsys):
    assert main(["bench", "--sizes", "S", "--quick", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "| S: [2, 20, 3, 1], m=211 | tinygrad_reg |" in out
    assert "| S: [2, 20, 3, 1], m=211 | hand-written numpy |" in out
    assert "Backward through a chain" in out and "Traced memory" in out


def test_unknown_sizes_are_a_usage_error(capsys):
    assert main(["bench", "--sizes", "XL"]) == 2
    assert "expected some of S1, S, M, L" in capsys.readouterr().err


def test_rounds_below_one_are_a_usage_error(capsys):
    assert main(["bench", "--sizes", "S", "--rounds", "0"]) == 2
    assert "--rounds 0" in capsys.readouterr().err

"""tinygrad_reg/ops/numpy_protocol.py: numpy functions on Tensors record the op (values, first
and second derivatives against PyTorch), and what cannot be recorded raises naming itself."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tests.torch_twin import assert_matches_torch
from tinygrad_reg import Tensor
from tinygrad_reg.engine import Function
from tinygrad_reg.testing.gradcheck import gradgradcheck

away_from_kinks = st.floats(0.1, 2.0) | st.floats(-2.0, -0.1)  # |x| >= 0.1: off 0 and the clip
inputs = arrays(
    np.float64, array_shapes(min_dims=1, max_dims=3, max_side=4), elements=away_from_kinks
)

CASES = {
    "exp": (np.exp, torch.exp),
    "clip": (lambda x: np.clip(x, -1.5, 1.5), lambda x: torch.clamp(x, -1.5, 1.5)),
    "sum axis=0": (lambda x: np.sum(x, axis=0), lambda x: x.sum(0)),
    "abs": (abs, abs),
    "tanh": (np.tanh, torch.tanh),
    "mean": (np.mean, torch.mean),
    "square": (np.square, torch.square),
}


@pytest.mark.parametrize("name", CASES)
@given(x=inputs, seed=st.integers(0, 2**32 - 1))
def test_a_numpy_function_records_the_op_with_pytorchs_values_and_derivatives(name, x, seed):
    ours, theirs = CASES[name]
    assert_matches_torch(ours, theirs, [x * (1.6 if name == "clip" else 1.0)], seed)


def test_clip_at_its_kink_passes_the_gradient_as_pytorch_does():
    x = np.array([-1.0, 0.3, 1.0, 2.0])
    assert_matches_torch(lambda t: np.clip(t, -1, 1), lambda t: torch.clamp(t, -1, 1), [x], 0)


@given(x=inputs, seed=st.integers(0, 2**32 - 1))
def test_an_array_on_the_left_of_an_operator_defers_to_the_tensor(x, seed):
    a = np.random.default_rng(seed).uniform(0.5, 1.5, x.shape)
    for ours, theirs in [
        (lambda t: a + t, lambda t: torch.tensor(a) + t),
        (lambda t: a * t, lambda t: torch.tensor(a) * t),
        (lambda t: np.add(a, t), lambda t: torch.tensor(a) + t),
        (lambda t: a / t, lambda t: torch.tensor(a) / t),
    ]:
        assert_matches_torch(ours, theirs, [x], seed)


def test_floor_divide_and_remainder_have_pytorchs_gradients():
    a = np.array([3.5, -2.2, 7.0, 0.3])
    b = np.array([2.0, 1.5, -3.0, 0.7])
    assert_matches_torch(lambda u, v: u % v, lambda u, v: u % v, [a, b], 1)
    assert_matches_torch(lambda u, v: np.remainder(u, v), torch.remainder, [a, b], 2)
    u, v = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    quotient, rest = divmod(u, v)
    np.testing.assert_array_equal(quotient.data, a // b)
    np.testing.assert_allclose(rest.data, a % b, rtol=1e-15)
    (quotient * np.array([1.0, -2.0, 0.5, 3.0])).sum().backward()
    np.testing.assert_array_equal(u.grad, 0.0)  # torch: floor_divide is not differentiable
    np.testing.assert_array_equal(v.grad, 0.0)


class NumpyExp(Function):
    """A user's op whose rule is written with numpy functions."""

    def forward(self, x):
        return np.exp(np.clip(x, -3, 3))

    def backward(self, g, out, x):
        """d e^clip(x)/dx = g·e^x where -3 < x < 3, else 0"""
        return (np.where(np.abs(x) < 3, g * np.exp(x), 0.0),)


def test_a_rule_written_with_numpy_functions_gives_correct_second_derivatives():
    x = np.array([[-2.0, 0.5], [1.5, -0.25]])  # inside (-3, 3): away from the kinks
    assert gradgradcheck(lambda t: NumpyExp()(t) * NumpyExp()(t), [x])


@pytest.mark.parametrize(
    "call, named",
    [
        (lambda t: np.linalg.svd(t), "np.linalg.svd"),
        (lambda t: np.cbrt(t), "np.cbrt"),
        (lambda t: np.add.reduce(t), "np.add.reduce"),
        (lambda t: np.exp(t, out=np.empty(t.shape)), "out="),
        (lambda t: np.sum(t, dtype=np.float32), "dtype="),
        (lambda t: np.mean(t, where=np.ones(t.shape, bool)), "where="),
    ],
)
def test_what_cannot_be_recorded_raises_naming_the_numpy_function(call, named):
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=named.replace(".", r"\.")):
        call(t)


def test_results_without_gradient_are_numpy_arrays_of_the_values():
    t = Tensor([[1.0, -2.0], [np.inf, 0.5]])
    np.testing.assert_array_equal(np.isfinite(t), np.isfinite(t.data))
    assert np.argmax(t) == 2 and np.shape(t) == (2, 2)
    np.testing.assert_array_equal(np.array([0.0, 0.0]) < t[0], [True, False])

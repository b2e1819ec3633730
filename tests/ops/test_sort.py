"""sort, argsort, topk, median, quantile: values, indices and first and second derivatives
against PyTorch (distinct values: a tie's gradient is checked separately)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import grid, seeds, shapes
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor


@st.composite
def distinct_along_an_axis(draw):
    shape = draw(shapes(min_dims=1))
    return draw(grid(shape, unique=True)), draw(st.integers(-len(shape), len(shape) - 1))


@given(case=distinct_along_an_axis(), descending=st.booleans(), seed=seeds)
def test_sort_as_torch(case, descending, seed):
    x, axis = case
    assert_matches_torch(
        lambda t: t.sort(axis, descending).values,
        lambda t: torch.sort(t, stable=True, dim=axis, descending=descending).values,
        [x],
        seed,
    )
    expected = torch.sort(
        torch.tensor(x), stable=True, dim=axis, descending=descending
    ).indices.numpy()
    np.testing.assert_array_equal(Tensor(x).sort(axis, descending).indices, expected)
    np.testing.assert_array_equal(Tensor(x).argsort(axis, descending), expected)


@given(case=distinct_along_an_axis(), data=st.data(), largest=st.booleans(), seed=seeds)
def test_topk_as_torch(case, data, largest, seed):
    x, axis = case
    k = data.draw(st.integers(0, x.shape[axis]))
    assert_matches_torch(
        lambda t: t.topk(k, axis, largest).values,
        lambda t: torch.topk(t, k, axis, largest).values,
        [x],
        seed,
    )
    expected = torch.topk(torch.tensor(x), k, axis, largest).indices.numpy()
    np.testing.assert_array_equal(Tensor(x).topk(k, axis, largest).indices, expected)


@given(case=distinct_along_an_axis(), keepdims=st.booleans(), seed=seeds)
def test_median_as_torch(case, keepdims, seed):
    x, axis = case
    assert_matches_torch(lambda t: t.median(), torch.median, [x], seed)
    assert_matches_torch(
        lambda t: t.median(axis, keepdims).values,
        lambda t: torch.median(t, axis, keepdims).values,
        [x],
        seed,
    )
    expected = torch.median(torch.tensor(x), axis, keepdims).indices.numpy()
    np.testing.assert_array_equal(Tensor(x).median(axis, keepdims).indices, expected)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@given(
    case=distinct_along_an_axis(),
    q=st.floats(0, 1) | st.lists(st.floats(0, 1), min_size=1, max_size=3),
    whole=st.booleans(),
    keepdims=st.booleans(),
    seed=seeds,
)
def test_quantile_as_torch(interpolation, case, q, whole, keepdims, seed):
    x, axis = case
    axis = None if whole else axis
    assert_matches_torch(
        lambda t: t.quantile(q, axis, keepdims, interpolation),
        lambda t: torch.quantile(
            t, torch.tensor(q, dtype=torch.float64), axis, keepdims, interpolation=interpolation
        ),
        [x],
        seed,
    )


def test_a_tie_gives_the_gradient_to_the_element_found_first_in_the_stable_order():
    x = Tensor([2.0, 1.0, 2.0], requires_grad=True)
    x.topk(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: x.topk(3), r"topk: k=3 for axis 0"),
        (lambda x: Tensor(1.0).sort(), "sort: a 0-d tensor has no axis"),
        (lambda x: x.quantile(1.5), r"quantile: q=1.5"),
        (lambda x: x.quantile(0.5, interpolation="cubic"), "quantile: interpolation='cubic'"),
        (lambda x: Tensor(np.zeros(0)).median(), "median: the tensor is empty"),
    ],
)
def test_bad_arguments_are_errors_naming_the_function(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor([1.0, 2.0]))

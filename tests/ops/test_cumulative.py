"""cumprod, logcumsumexp, cummax, cummin: values and first and second derivatives against
PyTorch; cumprod's exact gradient with zeros in x."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import away_from_zero, floats, grid, seeds, shapes
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor


@st.composite
def along_an_axis(draw, values=floats):
    shape = draw(shapes(min_dims=1))
    return draw(values(shape)), draw(st.integers(-len(shape), len(shape) - 1))


@given(case=along_an_axis(values=away_from_zero), seed=seeds)
def test_cumprod_as_torch(case, seed):
    x, axis = case  # magnitudes >= 0.1: torch's rule divides by x (zeros: the test below)
    assert_matches_torch(lambda t: t.cumprod(axis), lambda t: torch.cumprod(t, axis), [x], seed)


@given(case=along_an_axis(), seed=seeds)
def test_logcumsumexp_as_torch(case, seed):
    x, axis = case
    assert_matches_torch(
        lambda t: t.logcumsumexp(axis), lambda t: torch.logcumsumexp(t, axis), [x], seed
    )


@given(case=along_an_axis(values=away_from_zero), seed=seeds)
def test_cumprod_of_the_flattened_tensor_as_numpy(case, seed):
    x, _ = case
    assert_matches_torch(
        lambda t: t.cumprod(), lambda t: torch.cumprod(t.reshape(-1), 0), [x], seed
    )


@given(case=along_an_axis(), data=st.data(), seed=seeds)
def test_cumprod_is_exact_with_zeros(case, data, seed):
    x, axis = case
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # the only small values: exact zeros
    zeros = data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))
    x = np.where(np.reshape(zeros, x.shape), 0.0, x)
    assert_matches_torch(lambda t: t.cumprod(axis), lambda t: torch.cumprod(t, axis), [x], seed)


@given(case=along_an_axis(values=lambda s: grid(s, unique=True)), seed=seeds)
def test_cummax_and_cummin_as_torch(case, seed):
    x, axis = case
    for ours, theirs in [(Tensor.cummax, torch.cummax), (Tensor.cummin, torch.cummin)]:
        assert_matches_torch(
            lambda t, ours=ours: ours(t, axis).values,
            lambda t, theirs=theirs: theirs(t, axis).values,
            [x],
            seed,
        )
        expected = theirs(torch.tensor(x), axis).indices.numpy()
        np.testing.assert_array_equal(ours(Tensor(x), axis).indices, expected)


def test_cummax_gives_a_tie_to_the_later_element_as_torch():
    x = [1.0, 3.0, 2.0, 3.0]
    np.testing.assert_array_equal(
        Tensor(x).cummax(0).indices, torch.cummax(torch.tensor(x), 0).indices
    )

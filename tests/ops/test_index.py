"""gather, scatter, scatter_add, index_select, index_add, masked_fill: values and first and
second derivatives against PyTorch, and the errors for bad indices."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import floats, seeds, shapes
from torch_twin import assert_matches_torch

import tinygrad_reg
from tinygrad_reg import Tensor


@st.composite
def along_an_axis(draw, min_dims=1):
    """x, an axis and an index of x's number of axes, no longer than x along any axis."""
    shape = draw(shapes(min_dims=min_dims))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, n)) for n in shape)
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[axis] - 1)))
    return draw(floats(shape)), axis, index


@given(case=along_an_axis(), seed=seeds)
def test_gather_as_torch(case, seed):
    x, axis, index = case
    assert_matches_torch(
        lambda t: t.gather(axis, index),
        lambda t: torch.gather(t, axis, torch.tensor(index)),
        [x],
        seed,
    )


@given(case=along_an_axis(), data=st.data(), seed=seeds)
def test_scatter_add_as_torch(case, data, seed):
    x, axis, index = case
    src = data.draw(floats(index.shape))
    assert_matches_torch(
        lambda t, s: tinygrad_reg.scatter_add(t, axis, index, s),
        lambda t, s: torch.scatter_add(t, axis, torch.tensor(index), s),
        [x, src],
        seed,
    )


@given(case=along_an_axis(), data=st.data(), seed=seeds)
def test_scatter_as_torch_where_each_place_is_written_once(case, data, seed):
    x, axis, _ = case
    size = x.shape[axis]
    # a permutation along the axis writes each place once (PyTorch leaves repeats undefined)
    order = np.argsort(data.draw(floats(x.shape)), axis=axis, kind="stable")
    length = data.draw(st.integers(1, size))
    index = np.take(order, np.arange(length), axis=axis)
    src = data.draw(floats(index.shape))
    assert_matches_torch(
        lambda t, s: t.scatter(axis, index, s),
        lambda t, s: torch.scatter(t, axis, torch.tensor(index), s),
        [x, src],
        seed,
    )


def test_scatter_refuses_a_place_written_twice():
    with pytest.raises(ValueError, match="scatter: the index writes some place"):
        Tensor([1.0, 2.0]).scatter(0, [0, 0], Tensor([3.0, 4.0]))


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_index_select_and_index_add_as_torch(data, shape, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = np.array(data.draw(st.lists(st.integers(0, shape[axis] - 1), min_size=1, max_size=4)))
    x = data.draw(floats(shape))
    source_shape = list(shape)
    source_shape[axis] = len(index)
    source = data.draw(floats(tuple(source_shape)))
    alpha = data.draw(st.floats(-2, 2))
    assert_matches_torch(
        lambda t: t.index_select(axis, index),
        lambda t: torch.index_select(t, axis, torch.tensor(index)),
        [x],
        seed,
    )
    assert_matches_torch(
        lambda t, s: t.index_add(axis, index, s, alpha=alpha),
        lambda t, s: torch.index_add(t, axis, torch.tensor(index), s, alpha=alpha),
        [x, source],
        seed,
    )


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_masked_fill_as_torch(data, shape, seed):
    x = data.draw(floats(shape))
    mask = data.draw(hnp.arrays(bool, shape))
    value = data.draw(st.floats(-2, 2))
    assert_matches_torch(
        lambda t: t.masked_fill(mask, value),
        lambda t: t.masked_fill(torch.tensor(mask), value),
        [x],
        seed,
    )
    assert_matches_torch(  # a 0-d tensor value gets the gradient of the places it fills
        lambda t, v: t.masked_fill(mask, v),
        lambda t, v: t.masked_fill(torch.tensor(mask), v),
        [x, np.array(value)],
        seed,
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: x.gather(0, [[3]]), r"gather: indices range over \[3, 3\]"),
        (lambda x: x.gather(0, [[-1]]), r"gather: indices range over \[-1, -1\]"),
        (lambda x: x.gather(0, [[0.5]]), "gather: the index has dtype float64"),
        (lambda x: x.gather(0, [0]), "gather: index of shape"),
        (lambda x: x.index_select(1, [[0]]), "index_select: index of shape"),
        (lambda x: x.index_add(0, [0], Tensor([[1.0]])), "index_add: x"),
        (lambda x: x.masked_fill([1, 0], 0.0), "masked_fill: the mask has dtype"),
        (lambda x: x.masked_fill(np.ones(3, bool), 0.0), "masked_fill: the mask has shape"),
        (lambda x: x.masked_fill(np.ones(2, bool), Tensor([1.0, 2.0])), "masked_fill: value"),
    ],
)
def test_bad_indices_are_errors_naming_the_function(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        call(Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))

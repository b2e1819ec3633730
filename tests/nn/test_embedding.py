"""Embedding against torch.nn.Embedding with the same table: the rows looked up, the table's
gradient (an index used twice gets the sum), padding_idx, and the errors bad indices get."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import seeds
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor
from tinygrad_reg.nn import Embedding


@settings(max_examples=20)
@given(data=st.data(), seed=seeds)
def test_embedding_matches_torch(data, seed):
    n, dim = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    padding_idx = data.draw(st.none() | st.integers(-n, n - 1))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=6))
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
    layer = Embedding(n, dim, padding_idx, rng=np.random.default_rng(seed))
    if padding_idx is not None:
        assert not layer.weight.data[padding_idx].any()  # that row starts at zeros, as torch's

    def ours(weight):
        layer.weight = weight
        return layer(indices)

    def theirs(weight):
        return torch.nn.functional.embedding(torch.tensor(indices), weight, padding_idx)

    assert_matches_torch(ours, theirs, [layer.weight.data], seed)


def test_a_repeated_index_gets_the_sum_and_the_padding_row_none():
    layer = Embedding(3, 2, padding_idx=0, rng=np.random.default_rng(0))
    g = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    layer(np.array([2, 2, 0, 1])).backward(g)
    np.testing.assert_array_equal(layer.weight.grad, [[0.0, 0.0], [7.0, 8.0], [4.0, 6.0]])


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        (np.array([0.0, 1.0]), TypeError, r"Embedding\(4, 2\): .*dtype float64 .*expected int"),
        (Tensor([0.0, 1.0]), TypeError, r"Embedding\(4, 2\): the indices are a Tensor"),
        (np.array([[0, 4]]), ValueError, r"Embedding\(4, 2\): indices from 0 to 4 .*< 4"),
        (np.array([-1, 2]), ValueError, r"Embedding\(4, 2\): indices from -1 to 2 .*0 <= index"),
    ],
)
def test_bad_indices_are_errors_naming_the_layer(indices, error, message):
    with pytest.raises(error, match=message):
        Embedding(4, 2)(indices)

"""Each activation module against its torch.nn twin: values and first derivatives in float64,
on hypothesis-drawn shapes, kept 0.01 away from the kinks at 0 and at Softplus's threshold."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_twin import assert_matches_torch

from tinygrad_reg import nn

#: (our module, PyTorch's twin): one row per activation module, one table for the tests.
TABLE = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
    (nn.SELU(), torch.nn.SELU()),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
    (nn.SiLU(), torch.nn.SiLU()),
    (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=3.0), torch.nn.Softplus(beta=2.0, threshold=3.0)),
    (nn.LogSigmoid(), torch.nn.LogSigmoid()),
    (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
    (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
]


def away_from_kinks(x):
    """Values at least 0.01 from 0 and from 1.5 (beta·x = threshold for the second Softplus)."""
    x = np.where(np.abs(x) < 0.01, 0.01 + np.abs(x), x)
    return np.where(np.abs(x - 1.5) < 0.01, 1.52, x)


@pytest.mark.parametrize(("ours", "theirs"), TABLE, ids=lambda m: repr(m))
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-25, 25),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_activation_module_matches_torch(ours, theirs, x, seed):
    assert_matches_torch(ours, theirs, [away_from_kinks(x)], seed, second_order=False)
    assert ours.parameters() == [] and type(ours).__name__ == type(theirs).__name__


def test_softmax_asks_for_dim_naming_the_course_layout():
    with pytest.raises(TypeError, match=r"Softmax: no dim given.*dim=0 .*\(C, m\)"):
        nn.Softmax()
    with pytest.raises(ValueError, match="GELU: approximate='exact'"):
        nn.GELU("exact")
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert nn.ReLU(inplace=True)(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from tinygrad_reg.ops.broadcasting import summed_axes, unbroadcast


@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=4), st.integers(0, 2**32 - 1))
def test_unbroadcast_sums_each_copy_back_as_numpy_would(shapes, seed):
    (shape, _), result = shapes
    g = np.random.default_rng(seed).standard_normal(result)
    # The sum broadcasting's definition asks for: each leading axis, then each stretched axis.
    expected = g.sum(axis=tuple(range(len(result) - len(shape)))) if result else g
    for axis, n in enumerate(shape):
        if n == 1 and expected.shape[axis] != 1:
            expected = expected.sum(axis=axis, keepdims=True)
    got = unbroadcast(g, shape)
    assert got.shape == shape
    np.testing.assert_allclose(got, expected.reshape(shape), rtol=1e-12, atol=1e-12)
    # The axes are worked out once per pair of shapes; the second call gives the same bits.
    assert np.array_equal(unbroadcast(g, shape), got)


@pytest.mark.parametrize("g_shape, shape", [((3, 4), (2, 4)), ((4,), (3, 4)), ((2, 3), (3, 2))])
def test_a_shape_broadcasting_cannot_give_is_refused(g_shape, shape):
    assert summed_axes(g_shape, shape) is None
    with pytest.raises(ValueError, match=r"unbroadcast: shape .* is not a broadcast of shape"):
        unbroadcast(np.ones(g_shape), shape)

"""astype: values as numpy's astype, and a gradient cast back to the input's dtype, first and
second order."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats, seeds, shapes

from tinygrad_reg import Tensor, grad
from tinygrad_reg.testing.gradcheck import gradcheck

FLOATS = [np.float16, np.float32, np.float64]


@given(
    data=st.data(), shape=shapes(), source=st.sampled_from(FLOATS), target=st.sampled_from(FLOATS)
)
def test_astype_values_and_gradient_dtype(data, shape, source, target):
    x = data.draw(floats(shape)).astype(source)
    t = Tensor(x, requires_grad=True)
    out = t.astype(target)
    assert out.dtype == target
    np.testing.assert_array_equal(out.data, x.astype(target))
    g = np.ones(shape, dtype=target)
    out.backward(g)
    assert t.grad.dtype == source
    np.testing.assert_array_equal(t.grad, g.astype(source))


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_astype_gradient_first_and_second_order(data, shape, seed):
    x = data.draw(floats(shape))
    # float64 -> float64 is the identity; through float32 and back the chain still passes g.
    assert gradcheck(lambda t: t.astype(np.float64) * t, [x], seed=seed)
    t = Tensor(x, requires_grad=True)
    (g,) = grad((t.astype(np.float32).astype(np.float64) ** 2).sum(), t, create_graph=True)
    assert g.dtype == np.float64
    (gg,) = grad(g.sum(), t)
    np.testing.assert_array_equal(gg.data, np.full(shape, 2.0))


@pytest.mark.parametrize("dtype", [np.int64, bool, "complex128", "not a dtype"])
def test_astype_refuses_non_float_dtypes(dtype):
    with pytest.raises(TypeError, match=r"astype: dtype=.*expected a float dtype"):
        Tensor([1.0]).astype(dtype)

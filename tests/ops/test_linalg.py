"""matmul with numpy's semantics (vectors, matrices, broadcast batches) and the fused linear."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats, matmul_shapes, seeds

from tinygrad_reg import Tensor, linear
from tinygrad_reg.gradcheck import gradcheck
from tinygrad_reg.ops.linalg import MatMul


@given(data=st.data(), shapes=matmul_shapes, seed=seeds)
def test_matmul_gradient(data, shapes, seed):
    a, b = (data.draw(floats(s)) for s in shapes.input_shapes)
    out = Tensor(a) @ Tensor(b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-15)
    assert gradcheck(lambda x, y: x @ y, [a, b], seed=seed)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 1, 2, 3), (4, 3, 2)), ((4, 2, 3), (3,))],
)
def test_matmul_gradient_vector_and_batch_cases(shape_a, shape_b):
    rng = np.random.default_rng(0)
    assert gradcheck(lambda x, y: x @ y, [rng.normal(size=shape_a), rng.normal(size=shape_b)])


@given(data=st.data(), shapes=matmul_shapes)
def test_matmul_with_numpy_arrays_on_either_side(data, shapes):
    a, b = (data.draw(floats(s)) for s in shapes.input_shapes)
    left, right = a @ Tensor(b), Tensor(a) @ b
    assert isinstance(left, Tensor) and isinstance(right, Tensor)
    np.testing.assert_array_equal(left.data, a @ b)
    np.testing.assert_array_equal(right.data, a @ b)


def test_matmul_gives_only_the_needed_gradient():
    x, w = Tensor(np.ones((3, 4))), Tensor(np.ones((2, 3)), requires_grad=True)
    op = MatMul()
    out = op(w, x)
    grads = op.backward(np.ones(out.shape), out.data, w.data, x.data)
    assert grads[0].shape == (2, 3) and grads[1] is None  # no gradient for the data


@pytest.mark.parametrize(
    ("shape_a", "shape_b"), [((2, 3), (2, 3)), ((3,), (4,)), ((2, 2, 3), (3, 3, 1)), ((), (3,))]
)
def test_matmul_shape_errors_name_the_op_and_the_shapes(shape_a, shape_b):
    with pytest.raises(ValueError) as raised:
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))
    message = str(raised.value)
    assert "MatMul" in message and str(shape_a) in message and str(shape_b) in message


@given(
    data=st.data(),
    sizes=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4)),
    seed=seeds,
)
def test_linear_gradient_and_value(data, sizes, seed):
    n_in, n_out, m = sizes
    x, w = data.draw(floats((n_in, m))), data.draw(floats((n_out, n_in)))
    b = data.draw(floats((n_out, 1)))
    np.testing.assert_allclose(linear(Tensor(x), Tensor(w), Tensor(b)).data, w @ x + b)
    assert gradcheck(linear, [x, w, b], seed=seed)


@pytest.mark.parametrize(
    ("shape_x", "shape_w", "shape_b"),
    [
        ((3, 5), (2, 3), (2,)),
        ((3, 5), (2, 4), (2, 1)),
        ((3,), (2, 3), (2, 1)),
        ((3, 5), (2, 3), (1, 1)),
    ],
)
def test_linear_shape_errors_name_the_op_and_the_shapes(shape_x, shape_w, shape_b):
    with pytest.raises(ValueError) as raised:
        linear(Tensor(np.ones(shape_x)), Tensor(np.ones(shape_w)), Tensor(np.ones(shape_b)))
    message = str(raised.value)
    assert "Linear" in message
    assert all(str(s) in message for s in (shape_x, shape_w, shape_b))


def test_linear_takes_numpy_arguments_as_constants():
    X = np.arange(6.0).reshape(2, 3)
    W = Tensor(np.ones((4, 2)), requires_grad=True)
    out = linear(X, W, np.zeros((4, 1)))
    np.testing.assert_array_equal(out.data, np.ones((4, 2)) @ X)
    out.sum().backward()
    np.testing.assert_array_equal(W.grad, np.ones((4, 3)) @ X.T)

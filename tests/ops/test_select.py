"""maximum, minimum and where: gradients over broadcast shapes, and the tie policy."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import SHAPE_LIMITS, floats, grid, seeds, shapes
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor, maximum, minimum, where
from tinygrad_reg.testing.gradcheck import gradcheck

PICKERS = {"maximum": (maximum, np.maximum), "minimum": (minimum, np.minimum)}


@pytest.mark.parametrize("name", PICKERS)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, **SHAPE_LIMITS),
    seed=seeds,
)
def test_maximum_minimum_gradient(name, data, shapes, seed):
    pick, reference = PICKERS[name]
    # Even multiples of 0.01 against odd ones: a and b never tie, so no kink is crossed.
    a = data.draw(grid(shapes.input_shapes[0], parity=0))
    b = data.draw(grid(shapes.input_shapes[1], parity=1))
    np.testing.assert_array_equal(pick(Tensor(a), Tensor(b)).data, reference(a, b))
    assert gradcheck(pick, [a, b], seed=seed)


@pytest.mark.parametrize("name", PICKERS)
@given(data=st.data(), shape=shapes())
def test_ties_split_the_gradient_in_half(name, data, shape):
    pick, _ = PICKERS[name]
    few_values = st.sampled_from([-1.0, 0.0, 1.0])  # ties are common
    a_values = data.draw(hnp.arrays(np.float64, shape, elements=few_values))
    b_values = data.draw(hnp.arrays(np.float64, shape, elements=few_values))
    a, b = Tensor(a_values, requires_grad=True), Tensor(b_values, requires_grad=True)
    g = data.draw(floats(shape))
    pick(a, b).backward(g)
    a_wins = a_values > b_values if name == "maximum" else a_values < b_values
    share_of_a = np.where(a_values == b_values, 0.5, np.where(a_wins, 1.0, 0.0))
    np.testing.assert_array_equal(a.grad, g * share_of_a)
    np.testing.assert_array_equal(b.grad, g * (1 - share_of_a))


@pytest.mark.parametrize("name", PICKERS)
def test_maximum_minimum_with_numbers_and_arrays(name):
    pick, reference = PICKERS[name]
    t = Tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    for a, b in [(t, 0.5), (0.5, t), (np.array([0.0, 3.0]), t)]:
        out = pick(a, b)
        assert isinstance(out, Tensor) and out.requires_grad
        np.testing.assert_array_equal(out.data, reference(np.asarray(a), np.asarray(b)))
    assert pick(t, 0.5).dtype == np.float32  # a number takes the tensor's dtype


@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, **SHAPE_LIMITS),
    seed=seeds,
)
def test_where_gradient(data, shapes, seed):
    condition_shape, a_shape, b_shape = shapes.input_shapes
    condition = data.draw(hnp.arrays(bool, condition_shape))
    a, b = data.draw(floats(a_shape)), data.draw(floats(b_shape))
    expected = np.where(condition, a, b)
    np.testing.assert_array_equal(where(condition, Tensor(a), Tensor(b)).data, expected)
    assert gradcheck(lambda x, y: where(condition, x, y), [a, b], seed=seed)


def test_where_gradient_goes_to_the_chosen_side_only():
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([4.0, 5.0, 6.0], requires_grad=True)
    where(np.array([True, False, True]), a, b).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad, [0.0, 2.0, 0.0])


def test_where_with_a_number_and_a_tensor_condition():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    out = where(x > 0, x, 0.0)  # comparisons give numpy bool arrays
    out.backward(np.array([5.0, 7.0]))
    np.testing.assert_array_equal(out.data, [0.0, 2.0])
    np.testing.assert_array_equal(x.grad, [0.0, 7.0])


def test_where_condition_is_copied():
    condition = np.array([True, False])
    a = Tensor([1.0, 2.0], requires_grad=True)
    out = where(condition, a, 0.0)
    condition[:] = False  # the recorded graph must not see this
    out.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0])


def test_where_refuses_a_non_boolean_condition():
    with pytest.raises(TypeError, match=r"where.*float64.*booleans"):
        where(np.array([1.0, 0.0]), Tensor([1.0, 2.0]), 0.0)


def test_select_shape_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"Maximum.*\(2, 3\), \(2,\)"):
        maximum(Tensor(np.ones((2, 3))), Tensor(np.ones(2)))
    with pytest.raises(ValueError, match=r"Where.*\(2,\), \(3,\)"):
        where(np.array([True, False]), Tensor(np.ones(2)), Tensor(np.ones(3)))


# --- clamp with tensor bounds: against PyTorch ------------------------------------------------


@given(
    data=st.data(),
    shapes_=hnp.mutually_broadcastable_shapes(num_shapes=3, **SHAPE_LIMITS),
    seed=seeds,
)
def test_clamp_with_tensor_bounds_as_torch(data, shapes_, seed):
    (_, lo_shape, hi_shape), x_shape = shapes_  # bounds broadcast to x's shape, as torch's
    # x, lo and hi on disjoint grids (0.03 k, 0.03 k + 0.01, 0.03 k + 0.02): no ties
    x = data.draw(grid(x_shape)) * 3
    lo, hi = data.draw(grid(lo_shape)) * 3 + 0.01, data.draw(grid(hi_shape)) * 3 + 0.02
    assert_matches_torch(lambda *t: t[0].clamp(t[1], t[2]), torch.clamp, [x, lo, hi], seed)
    assert_matches_torch(lambda t, b: t.clamp(max=b), lambda t, b: t.clamp(max=b), [x, hi], seed)
    assert_matches_torch(lambda t: t.clamp(-0.5, None), lambda t: t.clamp(-0.5), [x], seed)

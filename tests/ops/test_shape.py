"""reshape transpose broadcast_to, indexing, concatenate, stack: gradients and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import floats, seeds, shapes

from tinygrad_reg import Tensor, concatenate, stack
from tinygrad_reg.gradcheck import gradcheck


def check_forward_and_gradient(f, x, seed, reference):
    """f matches its numpy ``reference`` and its gradient matches central differences."""
    np.testing.assert_array_equal(f(Tensor(x)).data, reference(x))
    assert gradcheck(f, [x], seed=seed)


# --- reshape, transpose, broadcast_to -------------------------------------------------------


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_reshape(data, shape, seed):
    x = data.draw(floats(shape))
    new_shape = tuple(data.draw(st.permutations(shape))) + data.draw(st.sampled_from([(), (1,)]))
    if new_shape and data.draw(st.booleans()):  # let reshape infer one side
        new_shape = (-1, *new_shape[1:])
    check_forward_and_gradient(
        lambda t: t.reshape(new_shape), x, seed, lambda a: a.reshape(new_shape)
    )


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_transpose_with_axes(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    axes = [
        a - data.draw(st.sampled_from([0, ndim])) for a in data.draw(st.permutations(range(ndim)))
    ]
    check_forward_and_gradient(lambda t: t.transpose(*axes), x, seed, lambda a: a.transpose(axes))
    check_forward_and_gradient(lambda t: t.transpose(axes), x, seed, lambda a: a.transpose(axes))


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_transpose_without_axes_and_T(data, shape, seed):
    x = data.draw(floats(shape))
    check_forward_and_gradient(lambda t: t.transpose(), x, seed, np.transpose)
    check_forward_and_gradient(lambda t: t.T, x, seed, np.transpose)


@given(data=st.data(), shape=shapes(min_dims=2), seed=seeds)
def test_swapaxes_and_mT(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    a1, a2 = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    check_forward_and_gradient(lambda t: t.swapaxes(a1, a2), x, seed, lambda a: a.swapaxes(a1, a2))
    check_forward_and_gradient(lambda t: t.mT, x, seed, lambda a: a.swapaxes(-1, -2))


@given(data=st.data(), target=shapes(), seed=seeds)
def test_broadcast_to(data, target, seed):
    # A source shape: a suffix of the target with some sides replaced by 1.
    kept = target[data.draw(st.integers(0, len(target))) :]
    source = tuple(1 if data.draw(st.booleans()) else n for n in kept)
    x = data.draw(floats(source))
    check_forward_and_gradient(
        lambda t: t.broadcast_to(target), x, seed, lambda a: np.broadcast_to(a, target)
    )


# --- indexing -------------------------------------------------------------------------------


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_getitem_basic_indices(data, shape, seed):
    # ints, slices (any step), None and Ellipsis
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = data.draw(floats(shape))
    check_forward_and_gradient(lambda t: t[index], x, seed, lambda a: a[index])


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_getitem_integer_arrays(data, shape, seed):
    # Result shapes up to 3x3 pick up to 9 elements per axis of at most 3: repeats are common.
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1)))
    x = data.draw(floats(shape))
    check_forward_and_gradient(lambda t: t[index], x, seed, lambda a: a[index])


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_getitem_boolean_mask(data, shape, seed):
    # A mask over the leading axes (all of them, or fewer), as x[mask] in numpy.
    mask = data.draw(hnp.arrays(bool, shape[: data.draw(st.integers(1, len(shape)))]))
    x = data.draw(floats(shape))
    check_forward_and_gradient(lambda t: t[mask], x, seed, lambda a: a[mask])


@given(data=st.data(), seed=seeds)
def test_getitem_mixing_arrays_slices_and_none(data, seed):
    x = data.draw(floats((3, 4, 2)))
    rows = data.draw(hnp.arrays(np.int64, (5,), elements=st.integers(-3, 2)))
    index = data.draw(
        st.sampled_from(
            [(rows, slice(None, None, -1)), (slice(1, None), None, rows % 2), (..., rows % 2)]
        )
    )
    check_forward_and_gradient(lambda t: t[index], x, seed, lambda a: a[index])


@given(data=st.data(), shape=shapes(min_dims=1))
def test_repeated_integer_indices_accumulate_gradients(data, shape):
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1)))
    x = Tensor(data.draw(floats(shape)), requires_grad=True)
    out = x[index]
    g = data.draw(floats(out.shape))
    out.backward(g)
    # Element by element with +=: an element picked n times collects all n gradients.
    expected = np.zeros(shape)
    g_rows = np.reshape(g, (-1, *shape[len(index) :]))
    picks = zip(*(i.ravel() for i in np.broadcast_arrays(*index)))
    for k, pick in enumerate(picks):
        expected[tuple(int(i) for i in pick)] += g_rows[k]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)


def test_repeated_index_example():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 2, 0, 0])].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [8.0, 0.0, 2.0])


def test_index_arrays_are_copied():
    index = np.array([0, 0, 1])
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = x[index]
    index[:] = 1  # the user reuses their array; the recorded graph must not see it
    out.backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_bad_index_raises_naming_the_op_and_the_shape():
    with pytest.raises(IndexError, match=r"GetItem.*\(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]
    with pytest.raises(IndexError, match=r"GetItem.*float64"):
        Tensor(np.ones((2, 3)))[np.array([0.5])]


# --- concatenate and stack ------------------------------------------------------------------


@given(data=st.data(), shape=shapes(min_dims=1), count=st.integers(1, 3), seed=seeds)
def test_concatenate(data, shape, count, seed):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    before, after = shape[: axis % ndim], shape[axis % ndim + 1 :]
    parts = [data.draw(floats((*before, n, *after))) for n in sizes]
    np.testing.assert_array_equal(
        concatenate([Tensor(p) for p in parts], axis=axis).data, np.concatenate(parts, axis=axis)
    )
    assert gradcheck(lambda *ts: concatenate(ts, axis=axis), parts, seed=seed)


@given(data=st.data(), shape=shapes(), count=st.integers(1, 3), seed=seeds)
def test_stack(data, shape, count, seed):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(floats(shape)) for _ in range(count)]
    np.testing.assert_array_equal(
        stack([Tensor(p) for p in parts], axis=axis).data, np.stack(parts, axis=axis)
    )
    assert gradcheck(lambda *ts: stack(ts, axis=axis), parts, seed=seed)


def test_concatenate_and_stack_accept_arrays_and_tensors_without_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    out = concatenate([w, np.array([3.0]), Tensor([4.0])])
    out.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    assert stack([w, [5.0, 6.0]]).shape == (2, 2)


# --- errors ---------------------------------------------------------------------------------


def test_shape_errors_name_the_op_and_the_shapes():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Reshape.*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"Transpose.*\(2, 3\)"):
        x.transpose(0, 2)
    with pytest.raises(ValueError, match=r"Transpose.*\(2, 3\)"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match=r"swapaxes.*\(2, 3\)"):
        x.swapaxes(0, 2)
    with pytest.raises(ValueError, match=r"BroadcastTo.*\(2, 3\)"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match=r"Concatenate.*\(2, 3\), \(2, 2\)"):
        concatenate([x, Tensor(np.ones((2, 2)))])
    with pytest.raises(ValueError, match=r"Concatenate.*\(2, 3\)"):
        concatenate([x, x], axis=2)
    with pytest.raises(ValueError, match=r"Stack.*\(2, 3\), \(3, 2\)"):
        stack([x, x.T])
    with pytest.raises(ValueError, match=r"Stack.*\(2, 3\), \(2, 3\)"):
        stack([x, x], axis=3)
    with pytest.raises(ValueError, match=r"concatenate.*at least one"):
        concatenate([])
    with pytest.raises(ValueError, match=r"stack.*at least one"):
        stack([])


def test_an_empty_index_list_selects_nothing_and_gives_zero_gradient():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    picked = t[[]]
    assert picked.shape == (0, 3)
    (picked.sum() + t.sum()).backward()
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))


@pytest.mark.parametrize("join", [concatenate, stack])
@pytest.mark.parametrize("axis", [None, 0.0, True, np.bool_(False)])
def test_concatenate_and_stack_need_an_int_axis(join, axis):
    with pytest.raises(TypeError, match="expected an int"):
        join([Tensor([1.0]), Tensor([2.0])], axis=axis)


@pytest.mark.parametrize("join", [concatenate, stack])
def test_concatenate_and_stack_take_numpy_integer_axes(join):
    parts = [Tensor([1.0]), Tensor([2.0])]
    np.testing.assert_array_equal(join(parts, axis=np.int64(0)).data, join(parts, axis=0).data)

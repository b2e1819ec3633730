"""reshape transpose broadcast_to, indexing, concatenate, stack, squeeze unsqueeze flatten expand
moveaxis split chunk: values against numpy, gradients and errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import check_forward_and_gradient, floats, seeds, shapes
from torch_twin import assert_matches_torch

from tinygrad_reg import (
    Tensor,
    broadcast_to,
    chunk,
    concatenate,
    expand,
    expand_dims,
    flatten,
    grad,
    moveaxis,
    split,
    squeeze,
    stack,
    swapaxes,
)
from tinygrad_reg.ops import shape as shape_ops
from tinygrad_reg.testing.gradcheck import gradcheck

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


# --- squeeze, unsqueeze, flatten, expand, moveaxis, split, chunk ----------------------------


@given(data=st.data(), shape=shapes(max_dims=4, min_side=1, max_side=2), seed=seeds)
def test_squeeze(data, shape, seed):
    x = data.draw(floats(shape))
    ones = [i for i, n in enumerate(shape) if n == 1]
    # None (every size-1 axis), or some of the size-1 axes, each maybe counted from the end.
    chosen = data.draw(
        st.none() | st.lists(st.sampled_from(ones), unique=True) if ones else st.none()
    )
    axis = (
        None if chosen is None else tuple(a - len(shape) * data.draw(st.booleans()) for a in chosen)
    )
    check_forward_and_gradient(lambda t: t.squeeze(axis), x, seed, lambda a: np.squeeze(a, axis))
    check_forward_and_gradient(lambda t: squeeze(t, axis), x, seed, lambda a: np.squeeze(a, axis))


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_unsqueeze_and_expand_dims(data, shape, seed):
    x = data.draw(floats(shape))
    out_ndim = len(shape) + data.draw(st.integers(1, 2))
    axis = data.draw(
        hnp.valid_tuple_axes(
            out_ndim, min_size=out_ndim - len(shape), max_size=out_ndim - len(shape)
        )
    )
    if len(axis) == 1 and data.draw(st.booleans()):
        axis = axis[0]
    expected = lambda a: np.expand_dims(a, axis)  # noqa: E731
    check_forward_and_gradient(lambda t: t.unsqueeze(axis), x, seed, expected)
    check_forward_and_gradient(lambda t: expand_dims(t, axis), x, seed, expected)


@given(data=st.data(), shape=shapes(min_dims=1, max_dims=4), seed=seeds)
def test_flatten(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    start, end = start - ndim * data.draw(st.booleans()), end - ndim * data.draw(st.booleans())
    first, last = start % ndim, end % ndim
    merged = (*shape[:first], int(np.prod(shape[first : last + 1])), *shape[last + 1 :])
    check_forward_and_gradient(
        lambda t: t.flatten(start, end), x, seed, lambda a: a.reshape(merged)
    )


def test_flatten_defaults_and_0d():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.flatten().shape == (24,)
    assert flatten(x, 1).shape == (2, 12)
    assert Tensor(5.0).flatten().shape == (1,)
    with pytest.raises(ValueError, match=r"flatten.*start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)


@given(data=st.data(), target=shapes(), seed=seeds)
def test_expand_keeps_minus_one_axes(data, target, seed):
    kept = target[data.draw(st.integers(0, len(target))) :]
    source = tuple(1 if data.draw(st.booleans()) else n for n in kept)
    x = data.draw(floats(source))
    new = len(target) - len(source)
    sizes = tuple(
        -1 if i >= new and data.draw(st.booleans()) and source[i - new] == n else n
        for i, n in enumerate(target)
    )
    reference = lambda a: np.broadcast_to(a, target)  # noqa: E731
    check_forward_and_gradient(lambda t: t.expand(*sizes), x, seed, reference)
    check_forward_and_gradient(lambda t: expand(t, sizes), x, seed, reference)
    check_forward_and_gradient(lambda t: broadcast_to(t, target), x, seed, reference)


@given(data=st.data(), shape=shapes(min_dims=1, max_dims=4), seed=seeds)
def test_moveaxis(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    source = data.draw(hnp.valid_tuple_axes(ndim, min_size=1))
    destination = data.draw(hnp.valid_tuple_axes(ndim, min_size=len(source), max_size=len(source)))
    reference = lambda a: np.moveaxis(a, source, destination)  # noqa: E731
    check_forward_and_gradient(lambda t: t.moveaxis(source, destination), x, seed, reference)
    check_forward_and_gradient(lambda t: moveaxis(t, source, destination), x, seed, reference)
    check_forward_and_gradient(
        lambda t: swapaxes(t, 0, -1), x, seed, lambda a: np.swapaxes(a, 0, -1)
    )


def pieces_and_gradient(pieces_of, x, seed, reference_pieces):
    """Each piece equals numpy's; the gradient of all pieces together (each with its own random
    upstream gradient, via concatenating their flattened copies) matches central differences."""
    pieces = pieces_of(Tensor(x))
    expected = reference_pieces(x)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, want)
    assert gradcheck(
        lambda t: concatenate([p.reshape(-1) for p in pieces_of(t)] + [Tensor([0.0])]),
        [x],
        seed=seed,
    )


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_split_into_equal_sections(data, shape, seed):
    x = data.draw(floats(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[axis]
    sections = data.draw(st.sampled_from([n for n in range(1, size + 1) if size % n == 0]))
    pieces_and_gradient(
        lambda t: t.split(sections, axis), x, seed, lambda a: np.split(a, sections, axis)
    )


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_split_at_indices_including_empty_pieces(data, shape, seed):
    x = data.draw(floats(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    # Any ints, unsorted, negative or past the end: numpy slices with them, giving empty pieces.
    cuts = data.draw(st.lists(st.integers(-4, 4), max_size=4))
    pieces_and_gradient(
        lambda t: split(t, cuts, axis=axis), x, seed, lambda a: np.split(a, cuts, axis)
    )


@given(data=st.data(), shape=shapes(min_dims=1, max_side=5), seed=seeds)
def test_chunk_as_torch(data, shape, seed):
    x = data.draw(floats(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    chunks = data.draw(st.integers(1, 6))
    size = shape[axis]
    step = -(-size // chunks)  # torch: pieces of ceil(size / chunks), the last maybe smaller
    expected = lambda a: np.split(a, list(range(step, size, step)), axis)  # noqa: E731
    pieces_and_gradient(lambda t: t.chunk(chunks, axis), x, seed, expected)
    assert len(chunk(Tensor(x), chunks, axis)) <= chunks


def test_split_and_chunk_errors():
    x = Tensor(np.ones((5, 2)))
    with pytest.raises(
        ValueError, match=r"split: axis 0 of shape \(5, 2\) has 5 elements.*3 equal"
    ):
        x.split(3)
    with pytest.raises(ValueError, match=r"split: axis 2 for shape \(5, 2\)"):
        x.split(1, axis=2)
    with pytest.raises(TypeError, match=r"split: indices_or_sections=1.5"):
        x.split(1.5)
    with pytest.raises(ValueError, match=r"chunk: chunks=0"):
        x.chunk(0)
    with pytest.raises(ValueError, match=r"chunk: a 0-d"):
        Tensor(1.0).chunk(1)


def test_shape_function_errors_name_the_op_the_shape_and_the_expectation():
    x = Tensor(np.ones((2, 1, 3)))
    with pytest.raises(
        ValueError, match=r"squeeze: axis 0 of shape \(2, 1, 3\) has size 2; expected size 1"
    ):
        x.squeeze(0)
    with pytest.raises(
        ValueError, match=r"squeeze: axis 3 for shape \(2, 1, 3\); expected axes in \[-3, 3\)"
    ):
        x.squeeze(3)
    with pytest.raises(
        ValueError, match=r"unsqueeze: axis 4 for shape \(2, 1, 3\); expected axes in \[-4, 4\)"
    ):
        x.unsqueeze(4)
    with pytest.raises(ValueError, match=r"unsqueeze.*names an axis twice"):
        x.unsqueeze((0, -5))
    with pytest.raises(TypeError, match=r"squeeze: axis=1.0; expected an int"):
        x.squeeze(1.0)
    with pytest.raises(ValueError, match=r"expand: sizes \(-1, 2, 1, 3\) for shape \(2, 1, 3\)"):
        x.expand(-1, 2, 1, 3)
    with pytest.raises(ValueError, match=r"moveaxis: source 0 and destination \(0, 1\)"):
        x.moveaxis(0, (0, 1))


# --- indexing with 0-d arrays (issue 10, item 8) -------------------------------------------


@pytest.mark.parametrize(
    "index", [np.array(1), np.array(-2), np.array(True), np.array(False), np.int64(1)]
)
def test_indexing_with_a_0d_integer_or_boolean_array_works_as_numpy(index):
    x = np.arange(6.0).reshape(3, 2)
    t = Tensor(x, requires_grad=True)
    out = t[index]
    np.testing.assert_array_equal(out.data, x[index])
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    out.backward(g)
    expected = np.zeros_like(x)
    expected[index] += g
    np.testing.assert_array_equal(t.grad, expected)


def test_indexing_with_a_0d_array_next_to_other_indices():
    x = np.arange(24.0).reshape(2, 3, 4)
    index = (slice(None), np.array(2), np.array([0, 3]))
    assert gradcheck(lambda t: t[index], [x])
    np.testing.assert_array_equal(Tensor(x)[index].data, x[index])


def test_shape_functions_keep_float32_to_second_order():
    x = Tensor(np.ones((2, 1, 4), dtype=np.float32), requires_grad=True)
    outs = [
        x.squeeze(),
        x.unsqueeze(0),
        x.flatten(),
        x.expand(3, 2, 5, 4),
        x.moveaxis(0, -1),
        *x.split(2, axis=2),
        *x.chunk(3, axis=-1),
    ]
    for out in outs:
        assert out.dtype == np.float32
        (g,) = grad((out * out).sum(), x, create_graph=True)
        (gg,) = grad(g.sum(), x)
        assert g.dtype == gg.dtype == np.float32


def test_a_ragged_index_list_is_an_index_error_naming_getitem():
    # issue 11, item 14: was numpy's "inhomogeneous shape" ValueError
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"GetItem: the index \[\[0, 1\], \[0\]\]"):
        t[[[0, 1], [0]]]


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_unbind_hstack_vstack_as_torch(data, shape, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(floats(shape))
    for i in range(shape[axis]):
        assert_matches_torch(
            lambda t, i=i: t.unbind(axis)[i], lambda t, i=i: t.unbind(axis)[i], [x], seed
        )
    y = data.draw(floats(shape))
    for ours, theirs in [(shape_ops.hstack, torch.hstack), (shape_ops.vstack, torch.vstack)]:
        assert_matches_torch(
            lambda a, b, f=ours: f([a, b]), lambda a, b, f=theirs: f([a, b]), [x, y], seed
        )

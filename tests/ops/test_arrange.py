"""pad flip roll tile repeat tril triu diagonal trace diag: values against numpy, gradients
(random upstream gradients), second order, float32 and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import check_forward_and_gradient, floats, seeds, shapes

from tinygrad_reg import (
    Tensor,
    diag,
    diagonal,
    flip,
    grad,
    pad,
    repeat,
    roll,
    tile,
    trace,
    tril,
    triu,
)
from tinygrad_reg.testing.gradcheck import gradgradcheck


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_pad(data, shape, seed):
    x = data.draw(floats(shape))
    side = st.integers(0, 2)
    width = data.draw(
        side
        | st.tuples(side, side)
        | st.tuples(*[st.tuples(side, side) for _ in shape]).map(lambda w: w or 0)
    )
    value = data.draw(st.sampled_from([0.0, -1.5]))
    reference = lambda a: np.pad(a, width, constant_values=value)  # noqa: E731
    check_forward_and_gradient(lambda t: pad(t, width, value=value), x, seed, reference)


def test_pad_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"pad: pad_width=-1 for shape \(2, 3\); expected non-neg"):
        pad(x, -1)
    with pytest.raises(ValueError, match=r"pad: pad_width=\(\(1, 1\), \(1, 1\), \(1, 1\)\)"):
        pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match=r"pad: pad_width=0.5"):
        pad(x, 0.5)


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_flip(data, shape, seed):
    x = data.draw(floats(shape))
    axis = data.draw(
        st.none() | hnp.valid_tuple_axes(len(shape)) | st.integers(-len(shape), len(shape) - 1)
        if shape
        else st.none()
    )
    check_forward_and_gradient(lambda t: t.flip(axis), x, seed, lambda a: np.flip(a, axis))
    check_forward_and_gradient(lambda t: flip(t, axis), x, seed, lambda a: np.flip(a, axis))


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_roll(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    shifts = st.integers(-5, 5)
    if ndim and data.draw(st.booleans()):
        axis = data.draw(hnp.valid_tuple_axes(ndim, min_size=1))
        shift = data.draw(st.tuples(*[shifts] * len(axis)) | shifts)
        if len(axis) == 1 and data.draw(st.booleans()):
            axis = axis[0]
    else:
        axis, shift = None, data.draw(shifts)
    check_forward_and_gradient(
        lambda t: t.roll(shift, axis), x, seed, lambda a: np.roll(a, shift, axis)
    )
    check_forward_and_gradient(
        lambda t: roll(t, shift, axis=axis), x, seed, lambda a: np.roll(a, shift, axis)
    )


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_tile(data, shape, seed):
    x = data.draw(floats(shape))
    reps = data.draw(st.integers(0, 3) | st.lists(st.integers(0, 3), max_size=4).map(tuple))
    check_forward_and_gradient(lambda t: t.tile(reps), x, seed, lambda a: np.tile(a, reps))
    check_forward_and_gradient(lambda t: tile(t, reps), x, seed, lambda a: np.tile(a, reps))


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_repeat(data, shape, seed):
    x = data.draw(floats(shape))
    if shape and data.draw(st.booleans()):
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        length = shape[axis]
    else:
        axis, length = None, x.size
    counts = st.integers(0, 3)
    repeats = data.draw(counts | st.lists(counts, min_size=length, max_size=length))
    check_forward_and_gradient(
        lambda t: t.repeat(repeats, axis), x, seed, lambda a: np.repeat(a, repeats, axis)
    )
    check_forward_and_gradient(
        lambda t: repeat(t, repeats, axis=axis), x, seed, lambda a: np.repeat(a, repeats, axis)
    )


@given(data=st.data(), shape=shapes(min_dims=2, max_dims=4), seed=seeds)
def test_tril_and_triu(data, shape, seed):
    x = data.draw(floats(shape))
    k = data.draw(st.integers(-4, 4))
    check_forward_and_gradient(lambda t: t.tril(k), x, seed, lambda a: np.tril(a, k))
    check_forward_and_gradient(lambda t: triu(t, k=k), x, seed, lambda a: np.triu(a, k))
    check_forward_and_gradient(lambda t: tril(t), x, seed, np.tril)


def test_tril_gives_exact_zeros_and_no_gradient_above_the_diagonal():
    x = Tensor([[-1.0, -2.0], [-3.0, -4.0]], requires_grad=True)
    out = x.tril()
    assert np.signbit(out.data).tolist() == [[True, False], [True, True]]  # a 0, not a -0
    out.backward(np.full((2, 2), 7.0))
    np.testing.assert_array_equal(x.grad, [[7.0, 0.0], [7.0, 7.0]])


@given(data=st.data(), shape=shapes(min_dims=2, max_dims=4), seed=seeds)
def test_diagonal_and_trace(data, shape, seed):
    x = data.draw(floats(shape))
    ndim = len(shape)
    axis1, axis2 = data.draw(st.permutations(range(ndim)))[:2]
    axis1 -= ndim * data.draw(st.booleans())
    offset = data.draw(st.integers(-4, 4))
    check_forward_and_gradient(
        lambda t: diagonal(t, offset, axis1, axis2),
        x,
        seed,
        lambda a: np.diagonal(a, offset, axis1, axis2),
    )
    check_forward_and_gradient(
        lambda t: trace(t, offset, axis1, axis2),
        x,
        seed,
        lambda a: np.trace(a, offset, axis1, axis2),
    )


@given(data=st.data(), seed=seeds)
def test_diag_builds_and_extracts(data, seed):
    k = data.draw(st.integers(-3, 3))
    v = data.draw(floats(data.draw(shapes(min_dims=1, max_dims=1, min_side=0))))
    check_forward_and_gradient(lambda t: diag(t, k), v, seed, lambda a: np.diag(a, k))
    m = data.draw(floats(data.draw(shapes(min_dims=2, max_dims=2))))
    check_forward_and_gradient(lambda t: t.diag(k), m, seed, lambda a: np.diag(a, k))
    check_forward_and_gradient(lambda t: t.diagonal(k), m, seed, lambda a: np.diagonal(a, k))


def test_second_order_through_rearranging_ops():
    # These ops are linear, so f = op(x)³ gives second derivatives that go through each rule
    # twice (once forward in the recorded backward pass, once back).
    rng = np.random.default_rng(3)
    ops = [
        lambda t: pad(t, 1, value=2.0),
        lambda t: t.flip(0),
        lambda t: t.roll(1, 1),
        lambda t: t.tile((2, 1)),
        lambda t: t.repeat(2, axis=1),
        lambda t: t.tril(-1),
        lambda t: t.diagonal(1),
        lambda t: diag(t.diagonal()),
        lambda t: t.trace(),
    ]
    for seed, op in enumerate(ops):
        assert gradgradcheck(lambda t, op=op: op(t) ** 3, [rng.normal(size=(3, 3))], seed=seed)


def test_float32_is_kept():
    x = Tensor(np.ones((3, 3), dtype=np.float32), requires_grad=True)
    outs = [
        pad(x, 1),
        x.flip(),
        x.roll(1),
        x.tile(2),
        x.repeat(2),
        x.tril(),
        x.triu(1),
        x.diagonal(),
        x.trace(),
        diag(x[0]),
    ]
    for out in outs:
        assert out.dtype == np.float32
        (g,) = grad(out.sum(), x, create_graph=True)
        assert g.dtype == np.float32


def test_errors_name_the_op_the_shape_and_the_expectation():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"tril: .*\(3,\).*at least 2-D"):
        Tensor(np.ones(3)).tril()
    with pytest.raises(TypeError, match=r"triu: k=0.5; expected an int"):
        x.triu(0.5)
    with pytest.raises(ValueError, match=r"flip.*axis 2 for shape \(2, 3\)"):
        x.flip(2)
    with pytest.raises(ValueError, match=r"roll.*axis 2 for shape \(2, 3\)"):
        x.roll(1, 2)
    with pytest.raises(ValueError, match=r"roll: shift=\(1, 2\) needs an axis"):
        x.roll((1, 2))
    with pytest.raises(ValueError, match=r"tile: reps=\(-1,\)"):
        x.tile(-1)
    with pytest.raises(ValueError, match=r"repeat: repeats=\[1, 2\] for axis 1 of shape \(2, 3\)"):
        x.repeat([1, 2], axis=1)
    with pytest.raises(ValueError, match=r"diagonal: axis=\(0, -2\) for shape \(2, 3\) names an"):
        x.diagonal(0, 0, -2)
    with pytest.raises(ValueError, match=r"diagonal: shape \(3,\); expected at least 2-D"):
        Tensor(np.ones(3)).diagonal()
    with pytest.raises(ValueError, match=r"diag: shape \(1, 1, 1\); expected 1-D"):
        diag(np.ones((1, 1, 1)))


def test_roll_along_an_axis_named_twice_adds_the_shifts_as_numpy():
    x = np.arange(12.0).reshape(3, 4)
    check_forward_and_gradient(
        lambda t: t.roll((1, 2), (1, 1)), x, 0, lambda a: np.roll(a, (1, 2), (1, 1))
    )

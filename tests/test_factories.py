"""Factories: values as numpy's, dtype= and requires_grad= on each, shapes given either way,
random tensors reproducible from a seed or a Generator, and clear errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import shapes

import tinygrad_reg as tg
from tinygrad_reg import Tensor

FLOATS = [np.float16, np.float32, np.float64]


@given(shape=shapes(min_side=0), dtype=st.sampled_from(FLOATS), requires_grad=st.booleans())
def test_zeros_ones_full(shape, dtype, requires_grad):
    cases = [
        (tg.zeros(shape, dtype=dtype, requires_grad=requires_grad), np.zeros(shape)),
        (tg.zeros(*shape, dtype=dtype, requires_grad=requires_grad), np.zeros(shape)),
        (tg.ones(shape, dtype=dtype, requires_grad=requires_grad), np.ones(shape)),
        (tg.ones(*shape, dtype=dtype, requires_grad=requires_grad), np.ones(shape)),
        (tg.full(shape, 2.5, dtype=dtype, requires_grad=requires_grad), np.full(shape, 2.5)),
    ]
    for made, expected in cases:
        assert isinstance(made, Tensor) and made.is_leaf
        assert made.dtype == dtype and made.requires_grad is requires_grad
        np.testing.assert_array_equal(made.data, expected.astype(dtype))


def test_default_dtype_is_float64_and_ints_are_accepted_as_sizes():
    assert tg.zeros(2, 3).dtype == np.float64 and tg.zeros(2, 3).shape == (2, 3)
    assert tg.ones([np.int64(2)]).shape == (2,)
    assert tg.zeros(()).shape == () and tg.zeros().shape == ()
    assert tg.full(3, 1).shape == (3,) and tg.full(3, 1).dtype == np.float64


@given(
    n=st.integers(0, 4),
    m=st.none() | st.integers(0, 4),
    k=st.integers(-4, 4),
    dtype=st.sampled_from(FLOATS),
)
def test_eye(n, m, k, dtype):
    made = tg.eye(n, m, k, dtype=dtype, requires_grad=True)
    np.testing.assert_array_equal(made.data, np.eye(n, m, k, dtype=dtype))
    assert made.dtype == dtype and made.requires_grad


@pytest.mark.parametrize("args", [(5,), (2, 7), (1, 2, 0.25), (3.0, -1.0, -0.5), (0,), (4, 2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_arange(args, dtype):
    made = tg.arange(*args, dtype=dtype)
    np.testing.assert_array_equal(made.data, np.arange(*args).astype(dtype))
    assert made.dtype == dtype and not made.requires_grad


@given(
    start=st.floats(-5, 5),
    stop=st.floats(-5, 5),
    num=st.integers(0, 10),
    endpoint=st.booleans(),
    dtype=st.sampled_from(FLOATS),
)
def test_linspace(start, stop, num, endpoint, dtype):
    made = tg.linspace(start, stop, num, endpoint=endpoint, dtype=dtype, requires_grad=True)
    expected = np.linspace(start, stop, num, endpoint=endpoint).astype(dtype)
    np.testing.assert_array_equal(made.data, expected)
    assert made.dtype == dtype and made.requires_grad


@pytest.mark.parametrize(
    "like",
    [np.ones((2, 3), dtype=np.float32), np.arange(4), Tensor(np.ones(2, dtype=np.float16)), [1.0]],
)
def test_like_factories_take_shape_and_float_dtype(like):
    expected_dtype = np.asarray(like).dtype if np.asarray(like).dtype.kind == "f" else np.float64
    for made, value in ((tg.zeros_like(like), 0.0), (tg.ones_like(like), 1.0)):
        assert made.shape == np.shape(like) and made.dtype == expected_dtype
        assert (made.data == value).all()
    assert tg.ones_like(like, dtype=np.float32, requires_grad=True).dtype == np.float32
    assert tg.zeros_like(like, requires_grad=True).requires_grad


@pytest.mark.parametrize("factory", [tg.randn, tg.rand])
@pytest.mark.parametrize("dtype", FLOATS)
def test_random_factories_are_reproducible_from_a_seed_or_a_generator(factory, dtype):
    a = factory(2, 3, rng=7, dtype=dtype)
    b = factory((2, 3), rng=np.random.default_rng(7), dtype=dtype)
    assert a.shape == (2, 3) and a.dtype == dtype
    np.testing.assert_array_equal(a.data, b.data)
    # A Generator's state moves on: two draws from one differ.
    generator = np.random.default_rng(7)
    first, second = factory(4, rng=generator), factory(4, rng=generator)
    assert not np.array_equal(first.data, second.data)
    assert factory(3, requires_grad=True).requires_grad


def test_randn_and_rand_draw_numpys_distributions():
    np.testing.assert_array_equal(
        tg.randn(5, rng=3).data, np.random.default_rng(3).standard_normal(5)
    )
    np.testing.assert_array_equal(tg.rand(5, rng=3).data, np.random.default_rng(3).random(5))


def test_rand_stays_below_one_in_short_floats():
    # float16 has 11 significant bits: numbers above 1 - 2**-12 would round up to 1.0.
    values = tg.rand(20000, rng=0, dtype=np.float16).data
    assert values.dtype == np.float16 and values.max() < 1.0 and values.min() >= 0.0


def test_factory_errors_name_the_factory_and_what_was_expected():
    with pytest.raises(TypeError, match=r"zeros: dtype=<class 'numpy.int64'>; expected a float"):
        tg.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match=r"ones: shape \(2, -1\); expected non-negative ints"):
        tg.ones(2, -1)
    with pytest.raises(ValueError, match=r"zeros: shape \(2.5,\)"):
        tg.zeros(2.5)
    with pytest.raises(TypeError, match=r"randn: rng='x'; expected a numpy Generator"):
        tg.randn(2, rng="x")
    with pytest.raises(ValueError, match=r"arange: step=0"):
        tg.arange(0, 1, 0)
    with pytest.raises(ValueError, match=r"linspace: num=-1"):
        tg.linspace(0, 1, -1)
    with pytest.raises(TypeError, match=r"full: fill_value='a'; expected a real number"):
        tg.full(2, "a")
    with pytest.raises(TypeError, match=r"eye: k=0.5"):
        tg.eye(2, k=0.5)


# --- manual_seed and the thread's default generator ---------------------------------------------


def test_manual_seed_makes_randn_rand_and_layers_repeat():
    def draws():
        tg.manual_seed(0)
        return tg.randn(3).data, tg.rand(2).data, tg.nn.Linear(3, 2).W.data

    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # the seed's stream is numpy's default_rng(seed), drawn in order
    expected = np.random.default_rng(0)
    np.testing.assert_array_equal(first[0], expected.standard_normal(3))
    np.testing.assert_array_equal(first[1], expected.random(2))


def test_manual_seed_reseeds_the_generator_a_dropout_already_holds():
    dropout = tg.nn.Dropout(p=0.5)
    tg.manual_seed(1)
    first = dropout(np.ones((4, 6))).data
    tg.manual_seed(1)
    np.testing.assert_array_equal(dropout(np.ones((4, 6))).data, first)


def test_explicit_rng_and_seed_ignore_the_default_generator():
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.randn(4, rng=5).data, tg.randn(4, rng=5).data)
    state = tg.default_generator().bit_generator.state
    tg.randn(4, rng=np.random.default_rng(5))
    tg.nn.Linear(3, 2, rng=np.random.RandomState(1))
    assert tg.default_generator().bit_generator.state == state  # not advanced


def _in_a_thread(work):
    import threading

    result = {}
    thread = threading.Thread(target=lambda: result.update(value=work()))
    thread.start()
    thread.join()
    return result["value"]


def test_threads_have_independent_default_generators():
    def seeded(seed):
        def work():
            tg.manual_seed(seed)
            return tg.randn(5).data

        return work

    tg.manual_seed(7)
    before = tg.default_generator().bit_generator.state
    a, b = _in_a_thread(seeded(1)), _in_a_thread(seeded(2))
    assert tg.default_generator().bit_generator.state == before  # this thread undisturbed
    np.testing.assert_array_equal(a, np.random.default_rng(1).standard_normal(5))
    np.testing.assert_array_equal(b, np.random.default_rng(2).standard_normal(5))


def test_a_thread_that_never_seeds_draws_fresh_numbers():
    tg.manual_seed(0)
    seeded = tg.randn(8).data
    unseeded = [_in_a_thread(lambda: tg.randn(8).data) for _ in range(2)]
    assert not np.array_equal(unseeded[0], unseeded[1])
    assert not np.array_equal(unseeded[0], seeded)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, 2**64])
def test_manual_seed_refuses_what_is_not_a_seed(seed):
    with pytest.raises(ValueError, match=r"manual_seed: seed=.*expected an integer in \[0, 2"):
        tg.manual_seed(seed)


def test_tensor_is_a_factory_as_torch_tensor_and_the_module_stays_importable():
    import importlib

    import torch

    data = [[1, 2], [3, 4]]
    t = tg.tensor(data, requires_grad=True)
    np.testing.assert_array_equal(t.data, torch.tensor(data, dtype=torch.float64).numpy())
    assert t.requires_grad and t.dtype == np.float64 and t.grad_fn is None
    mine = np.ones(3, np.float32)
    copied = tg.tensor(mine)
    mine[0] = 5.0  # a copy, as torch.tensor
    assert copied.dtype == np.float32 and copied.data[0] == 1.0
    assert tg.tensor(copied, dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match=r"tensor: dtype=.*expected a float dtype"):
        tg.tensor(data, dtype=np.int64)
    module = importlib.import_module("tinygrad_reg.tensor")
    assert module.Tensor is tg.Tensor and callable(tg.tensor) and tg.tensor is not module


def test_data_loader_is_exported_at_the_top_level():
    from tinygrad_reg.data.loader import DataLoader

    assert tg.DataLoader is DataLoader and tg.data.DataLoader is DataLoader

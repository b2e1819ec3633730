"""LayerNorm, BatchNorm1d (course layout (features, m), transposed for torch) and BatchNorm2d
(NCHW) against torch.nn's layers: values, gradients and second derivatives in train and eval
mode, the running statistics after several steps, and the errors a bad input gets.

Inputs are distinct multiples of 0.1, so every normalized group has a standard deviation of
at least 0.05 and the division by it stays well conditioned."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import floats, seeds
from torch_twin import assert_layer_matches_torch, close

from tinygrad_reg.nn import BatchNorm1d, BatchNorm2d, LayerNorm

epsilons = st.sampled_from([1e-5, 1e-3, 0.1])
momenta = st.sampled_from([0.1, 0.5, 1.0, None])


def spread(shape):
    """float64 arrays of distinct multiples of 0.1 in [-4, 4]."""
    steps = hnp.arrays(np.int64, shape, elements=st.integers(-40, 40), unique=True)
    return steps.map(lambda a: a * 0.1)


def set_affine(layer, data):
    """Non-default weight and bias, so that a mix-up of the two shows."""
    for name in ("weight", "bias"):
        p = getattr(layer, name)
        if p is not None:
            p.data = data.draw(floats(p.shape, 0.5, 1.5))


def transposed(f):
    return lambda x: f(x.T).T  # torch's BatchNorm1d takes (m, features)


@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_layer_norm_matches_torch(data, seed):
    normalized_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    leading = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    affine, bias, eps = data.draw(st.booleans()), data.draw(st.booleans()), data.draw(epsilons)
    ours = LayerNorm(normalized_shape, eps, affine, bias)
    set_affine(ours, data)
    x = data.draw(spread(leading + normalized_shape))
    theirs = torch.nn.LayerNorm(normalized_shape, eps, affine, bias)
    assert_layer_matches_torch(ours, theirs, x, seed)


def batch_norms(data, image: bool, track: bool | None = None):
    """A BatchNorm1d or 2d, its torch twin and an input shape in our layout; ``track`` is
    track_running_stats (drawn if None)."""
    features, m = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 4))
    options = {
        "eps": data.draw(epsilons),
        "momentum": data.draw(momenta),
        "affine": data.draw(st.booleans()),
        "track_running_stats": data.draw(st.booleans()) if track is None else track,
    }
    if image:
        shape = (m, features, data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
        return BatchNorm2d(features, **options), torch.nn.BatchNorm2d(features, **options), shape
    return (
        BatchNorm1d(features, **options),
        torch.nn.BatchNorm1d(features, **options),
        (features, m),
    )


@settings(max_examples=15)
@given(data=st.data(), seed=seeds, image=st.booleans())
def test_batch_norm_matches_torch_in_train_and_eval_mode(data, seed, image):
    ours, theirs, shape = batch_norms(data, image)
    set_affine(ours, data)
    to_torch = None if image else transposed
    for _ in range(data.draw(st.integers(1, 3))):  # train: the batch's statistics
        assert_layer_matches_torch(ours, theirs, data.draw(spread(shape)), seed, to_torch)
    ours.eval(), theirs.eval()  # the running statistics (the batch's without them)
    assert_layer_matches_torch(ours, theirs, data.draw(spread(shape)), seed, to_torch)


@settings(max_examples=15)
@given(data=st.data(), image=st.booleans())
def test_batch_norm_running_statistics_match_torch_after_several_steps(data, image):
    ours, theirs, shape = batch_norms(data, image, track=True)
    theirs = theirs.double()
    steps = data.draw(st.integers(1, 4))
    for _ in range(steps):
        x = data.draw(floats(shape))
        ours(x)
        theirs(torch.tensor(x if image else x.T))
    close(ours.running_mean.data, theirs.running_mean)
    close(ours.running_var.data, theirs.running_var)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == steps


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (LayerNorm((2, 3)), (4, 3, 2), r"LayerNorm\(\(2, 3\).*\(4, 3, 2\); expected it to end in"),
        (BatchNorm1d(3), (2, 3), r"BatchNorm1d\(3, .*\(2, 3\); expected \(features, m\) with 3"),
        (BatchNorm1d(3), (3, 2, 1), r"BatchNorm1d\(3, .*\(3, 2, 1\); expected \(features, m\)"),
        (BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d\(3, .*\(2, 3, 4\); expected \(N, C, H, W\)"),
        (BatchNorm2d(3), (2, 2, 4, 4), r"BatchNorm2d\(3, .*\(2, 2, 4, 4\); expected \(N, C"),
        (BatchNorm1d(3), (3, 1), r"BatchNorm1d\(3, .*\(3, 1\), one value per feature"),
    ],
)
def test_bad_input_is_an_error_naming_the_layer_and_the_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.ones(shape))

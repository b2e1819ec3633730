"""nn/course_masks.py: the course's dropout schedule (RandomState(1) again at every forward pass)
trains exactly as the course's loop, ``reference.model(mask_seed=1)``, eagerly and compiled,
and survives a checkpoint."""

import copy
import pickle

import numpy as np
import pytest

from tinygrad_reg import reference as R
from tinygrad_reg.data import datasets
from tinygrad_reg.data.generators import generator_state, set_generator_state
from tinygrad_reg.nn import MLP, Dropout
from tinygrad_reg.nn.course_masks import CourseMasks
from tinygrad_reg.train.loop import fit

LAYERS, KEEP_PROB, STEPS = [2, 20, 3, 1], 0.86, 200


@pytest.fixture(scope="module")
def data():
    field = datasets.load()  # the project's own 2-D data, in the course layout
    return field.train_X, field.train_Y


def masks_of(model):
    return [layer.mask.copy() for layer in model.layers if isinstance(layer, Dropout)]


def test_every_pass_draws_the_courses_masks():
    """The course: np.random.seed(1); D1 = rand(20, m) < p; D2 = rand(3, m) < p, every pass."""
    X = np.random.RandomState(5).randn(2, 7)
    model = MLP(LAYERS, keep_prob=KEEP_PROB, rng=CourseMasks(seed=1))
    course = np.random.RandomState(1)
    expected = [course.rand(20, 7) < KEEP_PROB, course.rand(3, 7) < KEEP_PROB]
    for _ in range(3):
        model(X)
        for got, want in zip(masks_of(model), expected):
            np.testing.assert_array_equal(got, want)


def test_a_pass_cut_short_does_not_shift_the_next():
    X = np.random.RandomState(5).randn(2, 7)
    model = MLP(LAYERS, keep_prob=KEEP_PROB, rng=CourseMasks(seed=1))
    model(X)
    first = masks_of(model)
    model.rng.random((20, 7))  # one draw of a pass that then failed
    model(X)
    for got, want in zip(masks_of(model), first):
        np.testing.assert_array_equal(got, want)


def test_a_lone_dropout_repeats_its_mask():
    drop = Dropout(keep_prob=0.5, rng=CourseMasks(seed=4))
    x = np.ones((6, 9))
    first = drop(x).data.copy()
    np.testing.assert_array_equal(drop(x).data, first)
    assert 0 < np.count_nonzero(first) < first.size


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_fit_with_course_masks_is_the_courses_loop_bit_for_bit(data, compiled):
    X, Y = data
    by_hand, _ = R.model(X, Y, LAYERS, num_iterations=STEPS, keep_prob=KEEP_PROB, mask_seed=1)
    model = MLP(LAYERS, keep_prob=KEEP_PROB, rng=CourseMasks(seed=1))
    fit(model, X, Y, iterations=STEPS, progress=False, compiled=compiled)
    trained = model.to_parameters()
    for name in by_hand:
        np.testing.assert_array_equal(trained[name], by_hand[name], err_msg=name)
    fresh, _ = R.model(X, Y, LAYERS, num_iterations=STEPS, keep_prob=KEEP_PROB, seed=3)
    assert not np.array_equal(fresh["W1"], by_hand["W1"])  # the schedule matters


def test_a_checkpointed_generator_continues_the_same_masks(data):
    """generator_state / set_generator_state (what a checkpoint saves), copies and pickles."""
    X, _ = data
    masks = CourseMasks(seed=1)
    model = MLP(LAYERS, keep_prob=KEEP_PROB, rng=masks)
    model(X)
    first = masks_of(model)
    restored = CourseMasks(seed=1)
    set_generator_state(restored, generator_state(masks), "test")
    for other in (restored, copy.deepcopy(masks), pickle.loads(pickle.dumps(masks))):
        assert isinstance(other, CourseMasks) and other.course_seed == 1
        again = MLP(LAYERS, keep_prob=KEEP_PROB, rng=other)
        again(X)
        for got, want in zip(masks_of(again), first):
            np.testing.assert_array_equal(got, want)


def test_a_bad_seed_is_refused():
    with pytest.raises(ValueError, match="CourseMasks: seed = -1"):
        CourseMasks(seed=-1)

"""The memory estimate the command line checks before building a network."""

import numpy as np
import pytest

from tinygrad_reg.app import memory
from tinygrad_reg.nn import MLP


@pytest.mark.parametrize("layer_dims", [[2, 1], [2, 20, 3, 1], [5, 7, 7, 2]])
def test_parameter_count_is_the_networks(layer_dims):
    assert memory.parameter_count(layer_dims) == sum(p.size for p in MLP(layer_dims).parameters())


def test_the_estimate_counts_parameters_optimizer_state_activations_and_data():
    layer_dims, m, batch = [3, 10, 1], 100, 50
    parameters = 10 * 4 + 1 * 11
    plain = memory.training_bytes(layer_dims, m, batch, optimizer_slots=0)
    assert plain == 8 * (4 * parameters + 6 * batch * 11 + 3 * 3 * m)
    adam = memory.training_bytes(layer_dims, m, batch, optimizer_slots=2)
    assert adam - plain == 8 * 2 * parameters  # two moments per parameter


def test_the_estimate_is_not_below_what_the_parameters_really_take():
    model = MLP([50, 400, 400, 1])
    held = sum(p.data.nbytes for p in model.parameters())
    assert memory.training_bytes([50, 400, 400, 1], 1, 1, 0) >= 2 * held  # and gradients


def test_the_machine_has_some_memory_or_does_not_say():
    available = memory.physical_memory()
    assert available is None or available > 2**20


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1.0 KiB"),
        (3 * 2**30, "3.0 GiB"),
        (2**50, "1.0 PiB"),
        (2**60, "1024.0 PiB"),
    ],
)
def test_human_sizes(nbytes, text):
    assert memory.human(nbytes) == text
    assert np.isfinite(float(memory.human(nbytes).split()[0]))

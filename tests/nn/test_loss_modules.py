"""Each loss module against its torch.nn twin (values and gradients, float64, hypothesis-drawn
sizes), from one table; torch gets the transposes where the course layout differs."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch_twin import assert_matches_torch

from tinygrad_reg import nn

WEIGHT = [0.5, 2.0, 1.0]
TORCH_WEIGHT = torch.tensor(WEIGHT, dtype=torch.float64)


def regression(rng, m):
    return [rng.standard_normal((2, m)), rng.standard_normal((2, m)) * 2]


def probabilities(rng, m):
    return [rng.uniform(0.05, 0.95, (1, m)), rng.integers(0, 2, (1, m)).astype(float)]


def logits_and_targets(rng, m):
    z = rng.standard_normal((3, m))
    y = np.exp(rng.standard_normal((3, m)))
    return [z, y / y.sum(axis=0)]


def kl_inputs(rng, m):
    p = np.exp(rng.standard_normal((3, m)))
    return [np.log(p / p.sum(axis=0)), rng.uniform(0.1, 1.0, (3, m))]


T = lambda f: lambda a, b: f(a.T, b.T)  # noqa: E731 — torch's layout: examples first

#: (our module, torch's twin taking the same tensors, inputs): one row per loss module.
TABLE = [
    ("MSELoss", nn.MSELoss(), torch.nn.MSELoss(), regression),
    ("MSELoss sum", nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), regression),
    ("L1Loss", nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none"), regression),
    ("HuberLoss", nn.HuberLoss(delta=0.7), torch.nn.HuberLoss(delta=0.7), regression),
    ("SmoothL1Loss", nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), regression),
    ("BCELoss", nn.BCELoss(), torch.nn.BCELoss(), probabilities),
    ("BCEWithLogitsLoss", nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), regression),
    (
        "CrossEntropyLoss",
        nn.CrossEntropyLoss(WEIGHT, label_smoothing=0.1),
        T(torch.nn.CrossEntropyLoss(TORCH_WEIGHT, label_smoothing=0.1)),
        logits_and_targets,
    ),
    (
        "KLDivLoss",
        nn.KLDivLoss(reduction="sum"),
        torch.nn.KLDivLoss(reduction="sum"),
        kl_inputs,
    ),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "inputs"), TABLE, ids=[r[0] for r in TABLE])
@given(m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_loss_module_matches_torch(name, ours, theirs, inputs, m, seed):
    rng = np.random.default_rng(seed)
    values = inputs(rng, m)
    if name == "BCEWithLogitsLoss":
        values = [values[0][:1], rng.integers(0, 2, (1, m)).astype(float)]
    differentiable = [True, name not in ("BCELoss", "BCEWithLogitsLoss")]
    assert_matches_torch(ours, theirs, values, seed, False, differentiable)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_class_index_losses_match_torch(reduction, m, seed):
    rng = np.random.default_rng(seed)
    z, labels = rng.standard_normal((3, m)), rng.integers(0, 3, m)
    labels[0] = 1  # at least one example not ignored: torch's weighted mean of none is 0/0
    labels[1:] = np.where(rng.random(m - 1) < 0.2, 2, labels[1:])
    options = {"ignore_index": 2, "reduction": reduction}
    assert_matches_torch(
        lambda z: nn.NLLLoss(WEIGHT, **options)(z.log_softmax(0), labels),
        lambda z: torch.nn.NLLLoss(TORCH_WEIGHT, **options)(
            z.T.log_softmax(1), torch.tensor(labels)
        ),
        [z],
        seed,
        second_order=False,
    )
    assert_matches_torch(
        lambda z: nn.CrossEntropyLoss(WEIGHT, **options)(z, labels),
        lambda z: torch.nn.CrossEntropyLoss(TORCH_WEIGHT, **options)(z.T, torch.tensor(labels)),
        [z],
        seed,
        second_order=False,
    )


def test_weight_is_a_buffer_and_bad_options_are_named():
    loss = nn.CrossEntropyLoss(WEIGHT)
    assert list(loss.state_dict()) == ["weight"] and nn.CrossEntropyLoss().state_dict() == {}
    assert loss.float().weight.dtype == np.float32
    with pytest.raises(ValueError, match=r"MSELoss: reduction='avg'; expected one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"NLLLoss: weight has shape \(1, 3\)"):
        nn.NLLLoss([WEIGHT])
    with pytest.raises(TypeError):
        nn.MSELoss("sum")  # keyword-only: PyTorch's second positional is the deprecated reduce

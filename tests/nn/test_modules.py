"""Module, Linear, activations, Dropout, Sequential and MLP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor
from tinygrad_reg import reference as R
from tinygrad_reg.nn import (
    MLP,
    Dropout,
    Flatten,
    Identity,
    Linear,
    Module,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from tinygrad_reg.ops.linalg import Linear as LinearOp
from tinygrad_reg.testing import networks

# --- Linear ----------------------------------------------------------------------------------


def test_linear_is_w_x_plus_b_in_one_fused_node():
    layer = Linear(3, 2, rng=np.random.RandomState(0))
    layer.b.data = np.array([[0.5], [-1.0]])
    X = np.random.RandomState(1).randn(3, 4)
    out = layer(X)
    assert isinstance(out.grad_fn, LinearOp)
    np.testing.assert_allclose(out.data, layer.W.data @ X + layer.b.data, rtol=1e-15)


@pytest.mark.parametrize(
    ("init", "scale"), [("course", lambda n: 1 / np.sqrt(n)), ("he", lambda n: np.sqrt(2 / n))]
)
def test_linear_init_draws_randn_from_rng(init, scale):
    layer = Linear(5, 3, init=init, rng=np.random.RandomState(7))
    expected = np.random.RandomState(7).randn(3, 5) * scale(5)
    np.testing.assert_allclose(layer.W.data, expected, rtol=1e-15)
    np.testing.assert_array_equal(layer.b.data, np.zeros((3, 1)))
    assert [name for name, _ in layer.named_parameters()] == ["W", "b"]


def test_linear_zeros_init_and_bad_init():
    assert not Linear(2, 3, init="zeros").W.data.any()
    with pytest.raises(ValueError, match="Linear: unknown init 'xavier'"):
        Linear(2, 3, init="xavier")


def test_linear_rejects_examples_first_input_naming_shapes():
    layer = Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear.*\(4, 3\).*X \(n_in, m\)"):
        layer(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"one row per example \(m=4, n_in=3\): pass X.T"):
        layer(np.zeros((4, 3)))
    layer(np.zeros((4, 3)).T)  # the advice works


# --- activations and dropout -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "f"),
    [
        (ReLU(), lambda x: np.maximum(x, 0)),
        (Tanh(), np.tanh),
        (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ],
)
def test_activations(module, f):
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    np.testing.assert_allclose(module(x).data, f(x), rtol=1e-14)
    assert module.parameters() == []


@given(st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_dropout_is_inverted_dropout_with_the_courses_mask(keep_prob, seed):
    x = Tensor(np.random.RandomState(1).randn(4, 6), requires_grad=True)
    layer = Dropout(keep_prob=keep_prob, rng=np.random.RandomState(seed))
    out = layer(x)
    mask = np.random.RandomState(seed).rand(4, 6) < keep_prob
    np.testing.assert_array_equal(layer.mask, mask)
    np.testing.assert_array_equal(out.data, x.data * mask / keep_prob)
    g = np.random.RandomState(2).randn(4, 6)
    out.backward(g)
    np.testing.assert_array_equal(x.grad, g * mask / keep_prob)


def test_dropout_draws_a_fresh_mask_each_call_and_is_the_identity_in_eval():
    x = Tensor(np.ones((20, 20)))
    layer = Dropout(p=0.5, rng=np.random.RandomState(0))
    first, second = layer(x).data, layer(x).data
    assert not np.array_equal(first, second)
    assert layer.eval()(x) is x
    assert Dropout(keep_prob=1.0)(x) is x
    assert Dropout(p=0)(x) is x


@pytest.mark.parametrize("keep_prob", [0.0, 1.5, -0.1])
def test_dropout_rejects_keep_prob_outside_0_1(keep_prob):
    with pytest.raises(ValueError, match=f"Dropout: keep_prob={keep_prob}"):
        Dropout(keep_prob=keep_prob)


@pytest.mark.parametrize(
    "make", [lambda: Dropout(0.2), lambda: MLP([2, 3, 1], "relu", "course", 3, 0.2)]
)
def test_a_bare_dropout_number_is_refused_naming_p_and_keep_prob(make):
    with pytest.raises(
        TypeError, match=r"positional 0.2 is ambiguous; pass p=0.2 .* keep_prob=0.2"
    ):
        make()


def test_dropout_p_drops_like_pytorch_and_keep_prob_keeps_like_the_course():
    import torch

    x = np.random.RandomState(0).rand(200, 500) + 1.0  # no zeros: a zero output is a dropped unit
    ours = Dropout(p=0.2, rng=np.random.RandomState(1))(x).data
    theirs = torch.nn.Dropout(p=0.2)(torch.from_numpy(x)).numpy()
    for out in (ours, theirs):
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / 0.8, rtol=1e-15)  # the same scaling
        # the kept fraction is 0.8 within 6 standard deviations of a binomial over 1e5 units
        assert abs(kept.mean() - 0.8) < 6 * np.sqrt(0.8 * 0.2 / x.size)
    course = Dropout(keep_prob=0.8, rng=np.random.RandomState(1))(x).data
    np.testing.assert_array_equal(course, ours)
    assert Dropout().p == 0.5 and repr(Dropout(p=0.2)) == "Dropout(p=0.2)"
    assert repr(MLP([2, 3, 1], p=0.25).layers[2]) == "Dropout(p=0.25)"
    assert MLP([2, 3, 1], p=0.25).layers[2].keep_prob == 0.75


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Dropout(p=0.2, keep_prob=0.8), "both given"),
        (lambda: Dropout(p=1.0), r"Dropout: p=1.0; expected 0 <= p < 1"),
        (lambda: MLP([2, 3, 1], p=-0.1), r"MLP: p=-0.1"),
    ],
)
def test_dropout_refuses_p_outside_0_1_and_both_at_once(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- Module and Sequential -------------------------------------------------------------------


def test_sequential_applies_in_order_and_names_parameters_by_position():
    model = Sequential(Linear(3, 4, rng=np.random.RandomState(0)), ReLU(), Linear(4, 1))
    assert [name for name, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert len(model) == 3 and isinstance(model[1], ReLU) and list(model)[2] is model[2]
    X = np.random.RandomState(1).randn(3, 5)
    expected = model[2].W.data @ np.maximum(model[0].W.data @ X, 0) + model[2].b.data
    np.testing.assert_allclose(model(X).data, expected, rtol=1e-14)


def test_train_and_eval_set_training_recursively_and_return_the_module():
    model = MLP([3, 4, 4, 1], keep_prob=0.5)
    assert model.eval() is model
    assert not any(m.training for m in [model, model.layers, *model.layers])
    assert model.train() is model
    assert all(m.training for m in [model, model.layers, *model.layers])


def test_zero_grad_clears_every_parameter_gradient():
    model = MLP([3, 4, 1])
    model(np.ones((3, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_is_a_copy_and_load_state_dict_round_trips():
    model = MLP([3, 4, 1], seed=1)
    state = model.state_dict()
    state["W1"][0, 0] = 123.0  # a copy: the model does not change
    assert model.linears[0].W.data[0, 0] != 123.0
    other = MLP([3, 4, 1], seed=2)
    other.load_state_dict(state)
    assert other.linears[0].W.data[0, 0] == 123.0
    state["W1"][0, 0] = 5.0  # loading copied too
    assert other.linears[0].W.data[0, 0] == 123.0
    with pytest.raises(ValueError, match="read-only"):
        other.linears[0].W.data[0, 0] = 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("b2"), r"missing \['b2'\]"),
        (lambda s: s.update(W3=np.ones((1, 1))), r"unexpected \['W3'\]"),
        (lambda s: s.update(W2=np.ones((4, 1))), r"W2 has shape \(4, 1\).*expected shape \(1, 4\)"),
        (lambda s: s.update(W1=np.ones((4, 3), np.complex128)), "dtype complex128; expected"),
    ],
)
def test_load_state_dict_checks_everything_before_changing_anything(change, message):
    model = MLP([3, 4, 1], seed=1)
    before = model.state_dict()
    state = {name: value + 1 for name, value in before.items()}
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_not_strict_ignores_missing_and_unexpected_names():
    model = MLP([3, 4, 1], seed=1)
    model.load_state_dict({"W2": np.full((1, 4), 2.0), "extra": np.ones(3)}, strict=False)
    np.testing.assert_array_equal(model.linears[1].W.data, np.full((1, 4), 2.0))


def test_a_custom_module_finds_its_parameters_and_children():
    class Affine(Module):
        def __init__(self):
            self.scale = Tensor(2.0, requires_grad=True)
            self.constant = Tensor(1.0)  # no grad: not a parameter
            self.inner = Linear(2, 2)

        def forward(self, x):
            return self.inner(x) * self.scale

    assert [name for name, _ in Affine().named_parameters()] == ["scale", "inner.W", "inner.b"]


# --- MLP -------------------------------------------------------------------------------------


def test_mlp_initializes_exactly_as_the_reference():
    model = MLP([5, 4, 3, 1], seed=3)
    assert model.layer_dims == [5, 4, 3, 1]
    assert [name for name, _ in model.named_parameters()] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    expected = R.initialize_parameters([5, 4, 3, 1], seed=3)
    for name, value in model.to_parameters().items():
        np.testing.assert_array_equal(value, expected[name])


def test_mlp_structure_with_and_without_dropout():
    kinds = [type(layer).__name__ for layer in MLP([3, 4, 4, 1], hidden="tanh").layers]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    kinds = [type(layer).__name__ for layer in MLP([3, 4, 4, 1], keep_prob=0.8).layers]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]


@given(networks(max_width=8, max_examples=16))
def test_mlp_from_parameters_runs_the_reference_network(net):
    model = MLP.from_parameters(net.parameters)
    A_L, cache = R.forward_propagation(net.X, net.parameters)
    np.testing.assert_allclose(model(net.X).data, cache[-4], rtol=1e-14)  # logits Z_L
    np.testing.assert_allclose(model.predict_proba(net.X).data, A_L, rtol=1e-14)
    np.testing.assert_array_equal(model.predict(net.X), R.predict(net.X, net.parameters))


@given(networks(max_width=8, max_examples=4))
def test_from_parameters_and_to_parameters_round_trip_as_copies(net):
    originals = {k: v.copy() for k, v in net.parameters.items()}
    model = MLP.from_parameters(net.parameters)
    out = model.to_parameters()
    assert list(out) == list(originals)
    for name in originals:
        np.testing.assert_array_equal(out[name], originals[name])
    out["W1"] += 1.0  # copies both ways: neither the model nor the source dict changes
    net.parameters["b1"] += 1.0
    np.testing.assert_array_equal(model.to_parameters()["W1"], originals["W1"])
    np.testing.assert_array_equal(model.to_parameters()["b1"], originals["b1"])


@given(networks(max_width=8, max_examples=16, multiclass=True))
def test_mlp_with_c_outputs_runs_the_softmax_reference_network(net):
    model = MLP.from_parameters(net.parameters)
    A_L, cache = R.forward_propagation(net.X, net.parameters)
    np.testing.assert_allclose(model(net.X).data, cache[-4], rtol=1e-14)
    probabilities = model.predict_proba(net.X).data
    np.testing.assert_allclose(probabilities, A_L, rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(model.predict(net.X), R.predict(net.X, net.parameters))
    assert model.predict(net.X).shape == (1, net.X.shape[1])


def test_predict_turns_dropout_off_for_the_call_only():
    model = MLP([3, 6, 1], keep_prob=0.5, seed=0)
    X = np.random.RandomState(0).randn(3, 40)
    with_dropout_off = MLP.from_parameters(model.to_parameters())
    np.testing.assert_array_equal(model.predict(X), with_dropout_off.predict(X))
    assert model.training
    assert not np.array_equal(model(X).data, with_dropout_off(X).data)  # training: drops


def test_mlp_masks_come_from_rng_layer_by_layer_as_the_reference():
    parameters = R.initialize_parameters([3, 5, 4, 1], seed=0)
    X = np.random.RandomState(1).randn(3, 7)
    model = MLP.from_parameters(parameters, keep_prob=0.7, rng=np.random.RandomState(4))
    logits = model(X)
    _, cache = R.forward_propagation_with_dropout(X, parameters, 0.7, np.random.RandomState(4))
    np.testing.assert_allclose(logits.data, cache[-4], rtol=1e-14)
    masks = [layer.mask for layer in model.layers if isinstance(layer, Dropout)]
    np.testing.assert_array_equal(masks[0], cache[1])
    np.testing.assert_array_equal(masks[1], cache[6])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer_dims": [3]}, "MLP: layer_dims=.*at least two positive integers"),
        ({"layer_dims": [3, 0, 1]}, "MLP: layer_dims="),
        ({"layer_dims": [3, 1], "hidden": "gelu"}, "MLP: unknown hidden='gelu'"),
        ({"layer_dims": [3, 1], "keep_prob": 1.5}, "MLP: keep_prob=1.5"),
    ],
)
def test_mlp_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


def test_from_parameters_rejects_an_inconsistent_dict():
    parameters = R.initialize_parameters([3, 4, 1])
    parameters["W2"] = np.ones((1, 5))
    with pytest.raises(ValueError, match=r"MLP.from_parameters: W2 has shape \(1, 5\)"):
        MLP.from_parameters(parameters)


# --- bad arguments name the layer and the argument (issue 11, item 14) -----------------------

BAD_LAYER_ARGUMENTS = [
    (lambda: Dropout(keep_prob="0.5"), TypeError, "Dropout: keep_prob='0.5' is a str"),
    (lambda: MLP([2, 3, 1], keep_prob="0.5"), TypeError, "MLP: keep_prob="),
    (lambda: MLP([2, 3, 1], seed=-1), ValueError, "MLP: seed = -1"),
    (lambda: MLP([2, 3, 1], seed=2**32), ValueError, "MLP: seed"),
    (lambda: Sequential(3), TypeError, "Sequential: module 0 is int 3"),
    (lambda: Sequential(ReLU(), ReLU), TypeError, r"module 1 .*an instance: ReLU\(\)"),
    (lambda: Linear(0, 3), ValueError, "Linear: in_features = 0"),
    (lambda: Linear(2, 2.5), ValueError, "Linear: out_features = 2.5"),
]


@pytest.mark.parametrize("make, error, message", BAD_LAYER_ARGUMENTS)
def test_bad_layer_arguments_raise_naming_the_layer_and_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- dtype, repr ---------------------------------------------------------------------------------


def test_a_float32_state_dict_loads_exactly_into_float64_and_float32_models():
    small = MLP([3, 4, 1], seed=1, dtype=np.float32)
    state = small.state_dict()
    assert all(v.dtype == np.float32 for v in state.values())
    wide, same = MLP([3, 4, 1], seed=2), MLP([3, 4, 1], seed=2, dtype=np.float32)
    wide.load_state_dict(state)
    same.load_state_dict(state)
    for name, value in state.items():
        assert dict(wide.named_parameters())[name].dtype == np.float64  # converted, exactly
        np.testing.assert_array_equal(dict(wide.named_parameters())[name].data, value)
        assert dict(same.named_parameters())[name].data.dtype == np.float32
        np.testing.assert_array_equal(dict(same.named_parameters())[name].data, value)
    with pytest.raises(ValueError, match=r"dtype float64.*build the model with dtype=float64"):
        same.load_state_dict(MLP([3, 4, 1]).state_dict())  # float64 into float32 would round


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_builds_parameters_of_that_dtype_from_the_same_draws(dtype):
    model, reference_model = MLP([3, 5, 1], seed=4, dtype=dtype), MLP([3, 5, 1], seed=4)
    for (name, p), (_, q) in zip(model.named_parameters(), reference_model.named_parameters()):
        assert p.dtype == dtype, name
        np.testing.assert_array_equal(p.data, q.data.astype(dtype))
    layer = Linear(2, 3, dtype=dtype, rng=np.random.RandomState(0))
    assert layer.W.dtype == layer.b.dtype == dtype
    out = model(np.ones((3, 2), dtype=dtype))
    assert out.dtype == dtype
    with pytest.raises(TypeError, match=r"Linear: dtype='int32'; expected a float dtype"):
        Linear(2, 3, dtype="int32")


def test_data_of_another_float_dtype_than_the_parameters_is_a_clear_error():
    model = MLP([2, 3, 1], dtype=np.float32)
    with pytest.raises(TypeError, match=r"Linear: the input is float64 but the parameters are fl"):
        model(np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"input is float32 but the parameters are float64"):
        MLP([2, 3, 1])(np.ones((2, 4), dtype=np.float32))
    assert MLP([2, 3, 1])(np.ones((2, 4), dtype=np.int64)).dtype == np.float64  # ints are fine


def test_print_shows_the_network_layer_by_layer():
    model = MLP([2, 20, 3, 1], keep_prob=0.86)
    assert repr(model) == (
        "MLP(layer_dims=[2, 20, 3, 1]\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=20)\n"
        "    (1): ReLU()\n"
        "    (2): Dropout(keep_prob=0.86)\n"
        "    (3): Linear(in_features=20, out_features=3)\n"
        "    (4): ReLU()\n"
        "    (5): Dropout(keep_prob=0.86)\n"
        "    (6): Linear(in_features=3, out_features=1)\n"
        "  )\n"
        ")"
    )
    assert repr(MLP([2, 1], hidden="tanh", dtype=np.float32).layers[0]) == (
        "Linear(in_features=2, out_features=1, dtype=float32)"
    )
    assert repr(Sequential(Tanh(), Sigmoid())) == "Sequential(\n  (0): Tanh()\n  (1): Sigmoid()\n)"


# --- ModuleList, Flatten, Identity -----------------------------------------------------------


def test_module_list_grows_indexes_and_registers_parameters_as_torchs():
    import torch

    ours, theirs = ModuleList([Linear(2, 2)]), torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    for model, library in [(ours, "ours"), (theirs, "torch")]:
        make = Linear if library == "ours" else torch.nn.Linear
        activation = ReLU() if library == "ours" else torch.nn.ReLU()
        assert model.append(make(2, 3)) is model
        assert model.extend([activation, make(3, 1)]) is model
        model.insert(1, make(2, 2))
    names = [n.replace(".W", ".weight").replace(".b", ".bias") for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    assert len(ours) == 5 and isinstance(ours[-2], ReLU) and next(iter(ours)) is ours[0]
    assert isinstance(ours[1:3], ModuleList) and len(ours[1:3]) == 2
    assert isinstance(Sequential(ReLU(), Tanh())[1:], Sequential)
    ours[0] = Tanh()
    assert next(n for n, _ in ours.named_parameters()) == "1.W"
    with pytest.raises(IndexError, match=r"ModuleList: index 5 for 5 modules"):
        ours[5]
    with pytest.raises(TypeError, match=r"ModuleList.extend: module 5 is int 3"):
        ours.extend([3])
    assert len(ours) == 5  # nothing was added


@given(
    hnp.array_shapes(min_dims=1, max_dims=5, max_side=3).flatmap(
        lambda shape: st.tuples(
            st.just(shape),
            st.integers(-len(shape), len(shape) - 1),
            st.integers(-len(shape), len(shape) - 1),
        )
    ),
    st.integers(0, 2**32 - 1),
)
def test_flatten_has_torchs_shapes_and_gradients(case, seed):
    import torch

    shape, start, end = case
    if start % len(shape) > end % len(shape):
        start, end = end, start
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_matches_torch(
        Flatten(start, end), torch.nn.Flatten(start, end), [x], seed, second_order=False
    )
    assert Flatten()(np.zeros((2, 3, 4, 5))).shape == (2, 60)


def test_identity_returns_its_input_and_ignores_its_arguments():
    x = Tensor([1.0, 2.0])
    assert Identity(3, unused=True)(x) is x and Identity().parameters() == []

"""Module's tree (children, modules, apply, parameter names) against torch.nn for the same
structures, drawn at random; ``to(dtype)``, ``float()`` and ``double()`` against PyTorch's."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg import Tensor, nn

LEAVES = ["Linear", "ReLU", "Tanh", "Flatten", "Identity", "BatchNorm1d"]

#: A module tree: a leaf's name, or ("Sequential" | "ModuleList", [subtrees]), or
#: ("Holder", {attribute: subtree}) for a custom module with sub-modules as attributes.
trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda subtrees: st.one_of(
        st.tuples(st.sampled_from(["Sequential", "ModuleList"]), st.lists(subtrees, max_size=3)),
        st.tuples(st.just("Holder"), st.dictionaries(st.sampled_from(["a", "bb", "c"]), subtrees)),
    ),
    max_leaves=8,
)


class Holder(nn.Module):
    def __init__(self, children):
        for name, child in children.items():
            setattr(self, name, child)


class TorchHolder(torch.nn.Module):
    def __init__(self, children):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)


def build(tree, library):
    """The same tree in tinygrad_reg (library nn) or in PyTorch (library torch.nn)."""
    ours = library is nn
    if isinstance(tree, str):
        if tree == "Linear":
            return library.Linear(2, 3)
        return library.BatchNorm1d(3) if tree == "BatchNorm1d" else getattr(library, tree)()
    kind, parts = tree
    if kind == "Holder":
        children = {name: build(part, library) for name, part in parts.items()}
        return Holder(children) if ours else TorchHolder(children)
    children = [build(part, library) for part in parts]
    return library.Sequential(*children) if kind == "Sequential" else library.ModuleList(children)


#: Parameter and buffer names that differ: Linear's W and b are PyTorch's weight and bias;
#: BatchNorm's weight and bias have the same names.
TORCH_NAME = {"W": "weight", "b": "bias"}


def torch_names(names):
    renamed = []
    for name in names:
        *path, last = name.split(".")
        renamed.append(".".join([*path, TORCH_NAME.get(last, last)]))
    return renamed


def kinds(named):
    return [
        (name, type(module).__name__.replace("TorchHolder", "Holder")) for name, module in named
    ]


@given(trees)
def test_named_modules_children_and_parameters_have_torchs_names_and_order(tree):
    ours, theirs = build(tree, nn), build(tree, torch.nn)
    assert kinds(ours.named_modules()) == kinds(theirs.named_modules())
    assert kinds(ours.named_children()) == kinds(theirs.named_children())
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__.replace("TorchHolder", "Holder") for m in theirs.modules()
    ]
    assert len(ours.children()) == len(list(theirs.children()))
    ours_parameters = [name for name, _ in ours.named_parameters()]
    assert torch_names(ours_parameters) == [name for name, _ in theirs.named_parameters()]
    ours_buffers = [name for name, _ in ours.named_buffers()]
    assert ours_buffers == [name for name, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == ours_parameters + ours_buffers


@given(trees)
def test_apply_visits_children_before_parents_as_torch(tree):
    ours, theirs = build(tree, nn), build(tree, torch.nn)
    names = {id(m): name for name, m in ours.named_modules()}
    torch_names_of = {id(m): name for name, m in theirs.named_modules()}
    visited, torch_visited = [], []
    assert ours.apply(lambda m: visited.append(names[id(m)])) is ours
    theirs.apply(lambda m: torch_visited.append(torch_names_of[id(m)]))
    assert visited == torch_visited


def test_a_module_or_tensor_held_twice_is_listed_once_under_its_first_name():
    shared, torch_shared = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours = nn.Sequential(shared, nn.ReLU(), shared)
    theirs = torch.nn.Sequential(torch_shared, torch.nn.ReLU(), torch_shared)
    assert kinds(ours.named_modules()) == kinds(theirs.named_modules())
    assert torch_names([n for n, _ in ours.named_parameters()]) == [
        n for n, _ in theirs.named_parameters()
    ]
    assert len(ours.parameters()) == 2  # an optimizer steps the shared weights once
    visited = []
    ours.apply(visited.append)
    assert [type(m).__name__ for m in visited] == ["Linear", "ReLU", "Sequential"]


def test_mlp_keeps_the_course_names_for_its_parameters_and_torchs_for_its_modules():
    model = nn.MLP([3, 4, 1], p=0.5)
    assert [n for n, _ in model.named_modules()] == [
        "",
        "layers",
        *(f"layers.{i}" for i in range(4)),
    ]
    assert [n for n, _ in model.named_parameters()] == ["W1", "b1", "W2", "b2"]


# --- to(dtype), float(), double() ------------------------------------------------------------


def test_to_converts_parameters_buffers_and_grads_in_place_as_torch():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 1)
    ).double()
    X = np.random.default_rng(0).standard_normal((3, 5))
    model(X).sum().backward()
    theirs(torch.tensor(X.T)).sum().backward()
    tensors = model.parameters() + model.buffers()
    values = [t.data.copy() for t in tensors]
    assert model.float() is model and theirs.float() is theirs
    assert [t for t in model.parameters() + model.buffers()] == tensors  # the same objects
    for t, before in zip(tensors, values):
        assert t.dtype == np.float32
        np.testing.assert_array_equal(t.data, before.astype(np.float32))
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert all(p.grad.dtype == torch.float32 for p in theirs.parameters())
    out = model(X.astype(np.float32))
    assert out.dtype == np.float32  # Linear takes float32 input now, as torch's float() model
    assert model.double() is model
    assert all(t.dtype == np.float64 for t in model.parameters() + model.buffers())
    np.testing.assert_array_equal(model[0].W.data, values[0].astype(np.float32))  # rounded once
    assert model.to(np.float64) is model and model.to("cpu") is model


@pytest.mark.parametrize("dtype", [np.int64, "cuda", complex, None])
def test_to_refuses_what_is_not_a_float_dtype_and_changes_nothing(dtype):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear.to: dtype=.*expected a float dtype"):
        model.to(dtype)
    assert model.W.dtype == np.float64


def test_load_state_dict_of_float64_values_into_a_float32_model_suggests_to():
    model = nn.Linear(2, 2).float()
    with pytest.raises(ValueError, match=r"model.to\(np.float64\)"):
        model.load_state_dict(nn.Linear(2, 2).state_dict())
    model.double().load_state_dict(nn.Linear(2, 2).state_dict())  # the advice works


def test_an_optimizer_made_before_to_still_steps_the_converted_parameters():
    model = nn.Linear(2, 1, rng=np.random.RandomState(0))
    from tinygrad_reg.optim import SGD

    optimizer = SGD(model.parameters(), lr=0.1)
    model.float()
    X, Y = np.ones((2, 3), np.float32), np.zeros((1, 3), np.float32)
    before = model.W.data.copy()
    nn.mse_loss(model(X), Y).backward()
    optimizer.step()
    assert model.W.dtype == np.float32 and not np.array_equal(model.W.data, before)


def test_children_of_a_custom_module_in_assignment_order():
    class Net(nn.Module):
        def __init__(self):
            self.head = nn.Linear(2, 1)
            self.scale = Tensor(1.0, requires_grad=True)
            self.body = nn.ModuleList([nn.Linear(2, 2)])

    net = Net()
    assert [name for name, _ in net.named_children()] == ["head", "body"]
    assert net.children() == [net.head, net.body]
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "head.W",
        "head.b",
        "body.0.W",
        "body.0.b",
    ]


def test_the_listing_methods_return_lists_where_pytorch_returns_generators():
    """docs/pytorch.md's name table says so: indexing works, and PyTorch's next(iter(...))."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    for listing in (model.parameters, model.children, model.modules, model.named_modules,
                    model.named_parameters, model.buffers):  # fmt: skip
        assert isinstance(listing(), list), listing.__name__
    assert next(iter(model.parameters())) is model.parameters()[0] is model[0].W

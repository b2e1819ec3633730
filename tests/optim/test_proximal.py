"""ProximalSGD: SGD's step followed by soft thresholding of the weights, checked against the
closed-form proximal operator of lr·c·Σ|w|; exact zeros in training, where the subgradient
method only hovers near 0."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinygrad_reg import Tensor, datasets
from tinygrad_reg.nn import MLP, Conv2d, LayerNorm, Sequential
from tinygrad_reg.nn.group_lasso import group_lasso_penalty, pruned_groups
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.nn.regularizers import l1_penalty
from tinygrad_reg.optim import SGD
from tinygrad_reg.optim.proximal import ProximalSGD, block_soft_threshold, soft_threshold
from tinygrad_reg.train.loop import fit

values = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)


def prox_by_cases(v, t):
    """The minimizer of ½(u − v)² + t·|u|, case by case."""
    return np.where(v > t, v - t, np.where(v < -t, v + t, 0.0))


@st.composite
def step_inputs(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=2, max_side=5))
    p = draw(arrays(np.float64, shape, elements=values))
    g = draw(arrays(np.float64, shape, elements=values))
    return p, g


@given(step_inputs(), st.floats(0.01, 1.0), st.floats(0.0, 3.0))
def test_one_step_is_the_closed_form_prox_of_the_gradient_step(inputs, lr, c):
    p0, g = inputs
    p = Tensor(p0, requires_grad=True)
    p.grad = g.copy()
    ProximalSGD([p], lr=lr, l1=c).step()
    v = p0 - lr * g
    np.testing.assert_array_equal(p.data, prox_by_cases(v, lr * c))
    # ... and it is the minimizer: moving any coordinate a little never lowers the objective.
    objective = lambda u: 0.5 * (u - v) ** 2 + lr * c * np.abs(u)  # noqa: E731
    for delta in (1e-3, -1e-3):
        assert np.all(objective(p.data) <= objective(p.data + delta) + 1e-15)


def test_soft_threshold_values_at_and_around_the_threshold():
    v = np.array([-2.0, -0.5, -0.25, 0.0, 0.1, 0.5, 3.0])
    np.testing.assert_array_equal(soft_threshold(v, 0.5), [-1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 2.5])


def test_only_the_weights_of_a_module_are_thresholded_and_every_tensor_of_a_list():
    model = MLP([2, 3, 1])
    for p in model.parameters():
        p.data = np.full(p.shape, 0.05)
        p.grad = np.zeros(p.shape)
    ProximalSGD(model, lr=1.0, l1=0.1).step()
    for name, p in model.named_parameters():
        expected = 0.0 if name.startswith("W") else 0.05  # biases get plain SGD
        np.testing.assert_array_equal(p.data, np.full(p.shape, expected), err_msg=name)

    b = Tensor(np.full((3, 1), 0.05), requires_grad=True)
    b.grad = np.zeros((3, 1))
    ProximalSGD([b], lr=1.0, l1=0.1).step()
    np.testing.assert_array_equal(b.data, np.zeros((3, 1)))


@given(step_inputs(), st.floats(0.01, 1.0), st.floats(0.0, 0.9), st.booleans())
def test_with_momentum_the_prox_follows_sgds_update(inputs, lr, momentum, nesterov):
    p0, g = inputs
    nesterov = nesterov and momentum > 0
    plain, proximal = Tensor(p0, requires_grad=True), Tensor(p0, requires_grad=True)
    sgd = SGD([plain], lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=0.1)
    prox = ProximalSGD(
        [proximal], lr=lr, l1=0.2, momentum=momentum, nesterov=nesterov, weight_decay=0.1
    )
    for _ in range(2):
        plain.data = proximal.data  # the same starting point for each step
        plain.grad, proximal.grad = g.copy(), g.copy()
        sgd.step()
        prox.step()
        np.testing.assert_array_equal(proximal.data, prox_by_cases(plain.data, lr * 0.2))


def test_l1_zero_is_sgd_and_the_state_round_trips():
    data = datasets.load()
    runs = {}
    for name, make in {"sgd": SGD, "prox": ProximalSGD}.items():
        model = MLP([2, 20, 3, 1])
        optimizer = make(model, lr=0.3) if name == "sgd" else make(model, lr=0.3, l1=0.0)
        fit(model, data.train_X, data.train_Y, optimizer=optimizer, iterations=50, progress=False)
        runs[name] = model.to_parameters()
    for key in runs["sgd"]:
        np.testing.assert_array_equal(runs["prox"][key], runs["sgd"][key])

    model = MLP([2, 3, 1])
    saved = ProximalSGD(model, lr=0.1, l1=0.02, momentum=0.5).state_dict()
    restored = ProximalSGD(model, lr=1.0)
    restored.load_state_dict(saved)
    assert (restored.lr, restored.l1, restored.momentum) == (0.1, 0.02, 0.5)


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_a_bad_l1_is_refused(bad):
    with pytest.raises(ValueError, match="l1"):
        ProximalSGD(MLP([2, 3, 1]), lr=0.1, l1=bad)


def test_training_with_the_prox_gives_exact_zeros_where_the_subgradient_only_hovers():
    data = datasets.load()
    X, Y, lambd, lr = data.train_X, data.train_Y, 0.7, 0.3
    m = X.shape[1]
    subgradient = MLP([2, 20, 3, 1])
    fit(subgradient, X, Y, penalty="l1", lambd=lambd, iterations=600, progress=False)
    proximal = MLP([2, 20, 3, 1])
    fit(
        proximal,
        X,
        Y,
        optimizer=ProximalSGD(proximal, lr=lr, l1=lambd / m),
        iterations=600,
        progress=False,
    )

    def weights(model):
        return np.concatenate([p.data.ravel() for n, p in model.named_parameters() if n[0] == "W"])

    hop = lr * lambd / m
    near_zero = np.mean(np.abs(weights(subgradient)) < hop)
    assert near_zero > 0.2  # many weights hover within one step of 0 ...
    assert np.count_nonzero(weights(subgradient) == 0) == 0  # ... but none is 0
    assert np.mean(weights(proximal) == 0) > 0.2  # the prox puts them exactly on 0

    # The prox minimizes the same objective: its final cost is no worse than a few percent.
    def objective(model):
        cost = binary_cross_entropy_with_logits(model(X), Y) + l1_penalty(model, lambd, m)
        return cost.item()

    assert objective(proximal) <= objective(subgradient) * 1.05


# --- group lasso: block soft thresholding ------------------------------------------------------


def block_prox_by_cases(v, t, groups):
    """The minimizer of ½‖u − v‖² + t·√p·Σ_g ‖u_g‖, group by group: 0 if ‖v_g‖ <= t·√p,
    else v_g shortened by t·√p along its own direction."""
    slices = v if groups == "rows" else v.T
    radius = t * np.sqrt(slices.shape[1])
    out = np.array(
        [
            0 * g if np.linalg.norm(g) <= radius else g - radius * g / np.linalg.norm(g)
            for g in slices
        ]
    )
    return out if groups == "rows" else out.T


@st.composite
def matrix_step_inputs(draw):
    shape = draw(array_shapes(min_dims=2, max_dims=2, max_side=5))
    p = draw(arrays(np.float64, shape, elements=values))
    g = draw(arrays(np.float64, shape, elements=values))
    return p, g


@given(
    matrix_step_inputs(),
    st.floats(0.01, 1.0),
    st.floats(0.0, 3.0),
    st.sampled_from(["rows", "columns"]),
)
def test_a_group_lasso_step_is_the_closed_form_block_prox_of_the_gradient_step(
    inputs, lr, c, groups
):
    p0, g = inputs
    p = Tensor(p0, requires_grad=True)
    p.grad = g.copy()
    ProximalSGD([p], lr=lr, group_lasso=c, groups=groups).step()
    np.testing.assert_allclose(
        p.data, block_prox_by_cases(p0 - lr * g, lr * c, groups), rtol=1e-13, atol=1e-15
    )


@given(
    matrix_step_inputs(),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from(["rows", "columns"]),
    st.integers(0, 2**16),
)
def test_the_sparse_group_prox_minimizes_the_objective(inputs, a, c, groups, seed):
    """soft thresholding, then block soft thresholding: no small move lowers
    ½‖u − v‖² + a·Σ|u| + c·√p·Σ_g ‖u_g‖ (it is convex, so a local minimum is the minimum)."""
    v, _ = inputs
    u = block_soft_threshold(soft_threshold(v, a), c, groups)
    slices = 1 if groups == "rows" else 0
    p = v.shape[slices]

    def objective(x):
        norms = np.linalg.norm(x, axis=slices)
        return 0.5 * np.sum((x - v) ** 2) + a * np.abs(x).sum() + c * np.sqrt(p) * norms.sum()

    rng = np.random.default_rng(seed)
    for _ in range(20):
        step = rng.uniform(-1e-4, 1e-4, v.shape)
        assert objective(u) <= objective(u + step) + 1e-13


def test_training_with_the_group_prox_prunes_whole_units_the_subgradient_only_shrinks():
    data = datasets.load()
    X, Y, m = data.train_X, data.train_Y, data.train_X.shape[1]
    lam = 1.0
    prox_model, sub_model = MLP([2, 20, 3, 1], seed=3), MLP([2, 20, 3, 1], seed=3)
    fit(
        prox_model,
        X,
        Y,
        optimizer=ProximalSGD(prox_model, lr=0.3, group_lasso=lam / m),
        iterations=300,
        progress=False,
    )
    fit(
        sub_model,
        X,
        Y,
        penalty=lambda model, m: group_lasso_penalty(model, lam, m),
        iterations=300,
        progress=False,
    )
    pruned = pruned_groups(prox_model)
    assert 0 < len(pruned["W1"]) < 20  # some units of the first layer, not all
    assert all(len(rows) == 0 for rows in pruned_groups(sub_model).values())
    for name, p in prox_model.named_parameters():
        if name == "W1":
            np.testing.assert_array_equal(p.data[pruned["W1"]], 0.0)


def test_group_lasso_is_saved_and_restored_with_the_optimizer_and_zero_is_sgd():
    p, q = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 3)), requires_grad=True)
    saved = ProximalSGD([p], lr=0.1, group_lasso=0.5).state_dict()
    other = ProximalSGD([p], lr=0.1)
    other.load_state_dict(saved)
    assert other.group_lasso == 0.5
    p.grad = q.grad = np.full((2, 3), 0.25)
    ProximalSGD([p], lr=0.1, group_lasso=0.0, groups="columns").step()
    SGD([q], lr=0.1).step()
    np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(
    "params, options, message",
    [
        (
            [Tensor(np.ones(3), requires_grad=True)],
            {"group_lasso": 0.1},
            r"shape \(3,\) has no rows",
        ),
        ([Tensor(np.ones((2, 2)), requires_grad=True)], {"groups": "units"}, "groups = 'units'"),
        (
            [Tensor(np.ones((2, 2)), requires_grad=True)],
            {"group_lasso": -1.0},
            "group_lasso = -1.0",
        ),
    ],
)
def test_bad_group_settings_are_refused_when_the_optimizer_is_built(params, options, message):
    with pytest.raises(ValueError, match=message):
        ProximalSGD(params, lr=0.1, **options)


def test_the_prox_shrinks_a_conv_weight_and_not_its_bias_or_a_norms_scale():
    model = Sequential(Conv2d(1, 2, 2, rng=np.random.RandomState(0)), LayerNorm(3))
    for p in model.parameters():
        p.grad = np.zeros(p.shape)
    before = {name: p.data for name, p in model.named_parameters()}
    ProximalSGD(model, lr=1.0, l1=0.2).step()
    after = dict(model.named_parameters())
    np.testing.assert_array_equal(after["0.weight"].data, soft_threshold(before["0.weight"], 0.2))
    assert np.any(after["0.weight"].data != before["0.weight"])
    for name in ("0.bias", "1.weight", "1.bias"):
        np.testing.assert_array_equal(after[name].data, before[name], err_msg=name)

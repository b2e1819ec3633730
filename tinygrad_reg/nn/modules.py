"""Layers as objects that own their parameters: Module, Linear, activations, Dropout, MLP.

Course layout throughout: X is (n_features, m), one column per example; a Linear layer holds
W (n_out, n_in) and b (n_out, 1) and computes W @ X + b.

``MLP`` is the course network (LINEAR→RELU→...→LINEAR, then a sigmoid for probabilities, or a
softmax over C >= 2 output units for C classes) and
round-trips with ``reference.py``'s ``parameters`` dict, so the same weights can be run and
differentiated by hand and by autodiff.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, hooks, no_grad
from ..factories import default_generator
from ..ops.cast import float_dtype
from ..ops.linalg import linear
from ..tensor import Tensor
from ..testing.reference import layer_dims_of
from .course_masks import CourseMasks

Rng = np.random.RandomState | np.random.Generator


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_probability(value: Any, name: str, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: {name}={value!r} is a {type(value).__name__}; expected a number in [0, 1)."
            if name == "p"
            else f"{where}: {name}={value!r} is a {type(value).__name__}; expected a number, "
            "0 < keep_prob <= 1."
        )


def dropout_keep_prob(
    where: str, positional: tuple[Any, ...], p: Any, keep_prob: Any, default: float
) -> float:
    """The probability of keeping a unit, from PyTorch's ``p`` (of dropping it) or the course's
    ``keep_prob``, both keyword-only: ``Dropout(0.2)`` keeps 20% in the course and drops 20% in
    PyTorch, so a bare number is refused rather than read one way silently."""
    if positional:
        value = positional[0]
        raise TypeError(
            f"{where}: a positional {value!r} is ambiguous; pass p={value!r} (PyTorch's meaning: "
            f"the probability of dropping a unit) or keep_prob={value!r} (the course's: the "
            "probability of keeping it), by keyword."
        )
    if p is not None and keep_prob is not None:
        raise ValueError(
            f"{where}: p={p!r} and keep_prob={keep_prob!r} both given; expected one of them "
            "(p = 1 - keep_prob)."
        )
    if p is not None:
        _check_probability(p, "p", where)
        if not 0 <= p < 1:
            raise ValueError(f"{where}: p={p}; expected 0 <= p < 1 (the probability of dropping).")
        return 1 - float(p)
    if keep_prob is None:
        return default
    _check_probability(keep_prob, "keep_prob", where)
    if not 0 < keep_prob <= 1:
        raise ValueError(f"{where}: keep_prob={keep_prob}; expected 0 < keep_prob <= 1.")
    return keep_prob


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Module:
    """Base class: a callable with parameters (Tensor attributes that require grad) and
    sub-modules (Module attributes), both found in the order they were assigned."""

    training = True
    #: Attributes holding state that is saved but not learned (BatchNorm's running statistics).
    buffer_names: tuple[str, ...] = ()
    #: Which of this module's own parameters are weights (what the penalties, max-norm and
    #: weight decay's no-decay split treat as such; ``nn.regularizers.named_weights``). None:
    #: decided by name ("W…" or "weight"); a layer that knows better says so.
    weight_names: tuple[str, ...] | None = None

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError

    def named_children(self) -> list[tuple[str, Module]]:
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Module)]

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) pairs; a sub-module's parameters are named ``child.name``."""
        named = [
            (name, value)
            for name, value in vars(self).items()
            if isinstance(value, Tensor) and value.requires_grad
        ]
        for prefix, child in self.named_children():
            named += [(f"{prefix}.{name}", p) for name, p in child.named_parameters()]
        return named

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) pairs of the state that ``state_dict`` saves but no optimizer sees
        (the tensors named in ``buffer_names``; None is skipped), named as the parameters."""
        named = [(name, getattr(self, name)) for name in self.buffer_names]
        named = [(name, value) for name, value in named if value is not None]
        for prefix, child in self.named_children():
            named += [(f"{prefix}.{name}", b) for name, b in child.named_buffers()]
        return named

    def zero_grad(self) -> None:
        if hooks.recorder is not None:  # compile records it
            return hooks.recorder.zero_grad(self.parameters())
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops units); ``train(False)`` is ``eval()``."""
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes everything through)."""
        return self.train(False)

    def extra_repr(self) -> str:
        """The settings ``repr`` shows in the parentheses, e.g. "in_features=2, out_features=20"."""
        return ""

    def __repr__(self) -> str:
        """The module and, indented below it, its sub-modules: ``print(model)`` shows the
        network layer by layer, as PyTorch prints a model."""
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return "\n".join(lines) + "\n)"

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name → a copy of the values of each parameter, then of each buffer."""
        return {name: t.data.copy() for name, t in self.named_parameters() + self.named_buffers()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Set the parameters' (and buffers') values from ``state`` (name → array), copying.

        Values of a dtype that converts exactly (float32 into float64 parameters) are converted;
        others (float64 into float32 would round) are refused. Every name, shape and dtype is
        checked before anything changes, so a bad ``state``
        leaves the module as it was. With ``strict=False``, missing and unexpected names are
        ignored (shapes and dtypes are still checked).
        """
        where = f"{type(self).__name__}.load_state_dict"
        params = dict(self.named_parameters() + self.named_buffers())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if strict and (missing or unexpected):
            raise ValueError(
                f"{where}: missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}; "
                f"expected exactly {list(params)} (or pass strict=False)."
            )
        new_values = {}
        for name, value in state.items():
            if name not in params:
                continue
            array = np.array(value.data if isinstance(value, Tensor) else value)  # a copy
            p = params[name]
            if array.shape == p.shape and np.can_cast(array.dtype, p.dtype, "safe"):
                array = array.astype(p.dtype)  # exact: float32 values into float64 parameters
            if array.shape != p.shape or array.dtype != p.dtype:
                hint = ""
                if array.shape == p.shape and array.dtype.kind == "f":
                    hint = f" (for {array.dtype} values, build the model with dtype={array.dtype})"
                raise ValueError(
                    f"{where}: {name} has shape {array.shape} and dtype {array.dtype}; expected "
                    f"shape {p.shape} and dtype {p.dtype}, or a dtype that converts to it "
                    f"exactly{hint}."
                )
            array.setflags(write=False)
            new_values[name] = array
        for name, array in new_values.items():
            params[name].data = array


class Linear(Module):
    """W @ x + b with W (out_features, in_features) and b (out_features, 1): one fused node.

    init: "course" W = randn / √in (the course's scheme), "he" W = randn·√(2/in) (for ReLU),
    "zeros" W = 0 (every unit then learns the same thing: the classic symmetry lesson).
    b starts at 0. ``rng`` is a np.random.RandomState (or Generator); the course's randn
    stream is ``rng.standard_normal``. Without one, the thread's default generator
    (``tinygrad_reg.manual_seed``). ``dtype``: of W and b (float64 by default; np.float32
    halves the memory, the draws being the same numbers rounded). The input must have the same
    float dtype: numpy would otherwise silently compute a float32 layer in float64.
    """

    weight_names = ("W",)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: str = "course",
        rng: Rng | None = None,
        dtype: Any = np.float64,
    ):
        for name, size in [("in_features", in_features), ("out_features", out_features)]:
            if not (_is_integer(size) and size >= 1):
                raise ValueError(f"Linear: {name} = {size!r}; expected an integer >= 1.")
        dtype = float_dtype(dtype, "Linear")
        shape = (out_features, in_features)
        if init == "zeros":
            W = np.zeros(shape)
        elif init in ("course", "he"):
            W = (default_generator() if rng is None else rng).standard_normal(shape)
            W = W / np.sqrt(in_features) if init == "course" else W * np.sqrt(2 / in_features)
        else:
            raise ValueError(f"Linear: unknown init {init!r}; expected 'course', 'he' or 'zeros'.")
        self.W = Tensor(W.astype(dtype), requires_grad=True)
        self.b = Tensor(np.zeros((out_features, 1), dtype=dtype), requires_grad=True)

    def extra_repr(self) -> str:
        out_features, in_features = self.W.shape
        text = f"in_features={in_features}, out_features={out_features}"
        return text if self.W.dtype == np.float64 else f"{text}, dtype={self.W.dtype}"

    def forward(self, x: Any) -> Tensor:
        return linear(self.checked_input(x), self.W, self.b)

    def checked_input(self, x: Any) -> Tensor:
        """x as a Tensor, refused if its float dtype is not the parameters'."""
        x = _as_tensor(x)
        if x.dtype.kind == "f" and x.dtype != self.W.dtype:
            raise TypeError(
                f"Linear: the input is {x.dtype} but the parameters are {self.W.dtype}; expected "
                f"the same float dtype (numpy would silently compute in the wider one). Convert "
                f"the input (X.astype(np.{self.W.dtype})) or build the layer or model with "
                f"dtype=np.{x.dtype}; fit, predict and accuracy convert the data themselves."
            )
        return x


class ReLU(Module):
    """max(x, 0), with relu'(0) = 0."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).relu()


class Tanh(Module):
    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).tanh()


class Sigmoid(Module):
    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).sigmoid()


class Dropout(Module):
    """Inverted dropout: x·D / keep_prob with D = (rng.random(x.shape) < keep_prob).

    ``Dropout(p=0.2)`` drops each unit with probability 0.2, as PyTorch's; ``Dropout(keep_prob=
    0.8)`` says the same the course's way (keep_prob = 1 - p). Both are keyword-only: a bare
    ``Dropout(0.2)`` would mean the opposite in the two, so it raises. The default is PyTorch's,
    p = 0.5. Each call draws a fresh mask from ``rng`` (the same numbers as the course's
    ``np.random.rand(*A.shape)``; by default the thread's generator, see ``manual_seed``);
    dividing by keep_prob keeps the expected value unchanged, so nothing needs rescaling at test
    time. The identity in eval mode and when keep_prob == 1. The last mask is kept in ``mask``.
    """

    def __init__(
        self,
        *positional: Any,
        p: float | None = None,
        keep_prob: float | None = None,
        rng: Rng | None = None,
    ):
        self.keep_prob = dropout_keep_prob("Dropout", positional, p, keep_prob, default=0.5)
        self.p = 1 - self.keep_prob if p is None else float(p)
        self._given = "keep_prob" if keep_prob is not None else "p"
        self.rng = default_generator() if rng is None else rng
        self.mask: np.ndarray | None = None

    def extra_repr(self) -> str:
        if self._given == "keep_prob":
            return f"keep_prob={self.keep_prob:g}"
        return f"p={self.p:g}"

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if hooks.recorder is not None:  # compile replays this path only while they are equal
            hooks.recorder.read_settings(self, ("training", "keep_prob"))
        if not self.training or self.keep_prob == 1:
            return x
        op = DropMask(self.keep_prob, self.rng)
        out = op(x)
        self.mask = op.mask
        return out


class DropMask(Function):
    """x·D / keep_prob with a fresh mask D = (rng.random(x.shape) < keep_prob) on every forward.

    While ``compile`` records a step, the draw is written on its tape, so each replay draws a
    new mask from ``rng``, exactly as an eager step would."""

    save_inputs, save_out = False, False

    __slots__ = ("keep_prob", "mask", "rng")

    def __init__(self, keep_prob: float, rng: Rng):
        self.keep_prob, self.rng = keep_prob, rng

    def forward(self, x: np.ndarray) -> np.ndarray:
        recorder = hooks.recorder
        draws = self.rng.random(x.shape) if recorder is None else recorder.draw(self.rng, x.shape)
        self.mask = draws < self.keep_prob
        return x * self.mask / self.keep_prob  # as the course: (A·D) / keep_prob

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(x·D/keep_prob)/dx = g·D / keep_prob"""
        return (g * self.mask / self.keep_prob,)


class Sequential(Module):
    """Modules applied in order; ``model[i]`` is the i-th, and iterating goes through them."""

    def __init__(self, *modules: Module):
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                hint = f" (an instance: {module.__name__}())" if isinstance(module, type) else ""
                raise TypeError(
                    f"Sequential: argument {i} is {type(module).__name__} {module!r}; expected a "
                    f"Module{hint}."
                )
        self.modules = list(modules)

    def named_children(self) -> list[tuple[str, Module]]:
        return [(str(i), module) for i, module in enumerate(self.modules)]

    def forward(self, x: Any) -> Any:
        for module in self.modules:
            x = module(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Any:
        return iter(self.modules)


ACTIVATIONS: dict[str, type[Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Module):
    """The course network: (Linear → hidden activation [→ Dropout]) × (L-1), then Linear.

    ``layer_dims`` = [n_0 (features), n_1, ..., n_L]. ``forward`` returns the logits Z_L; pair
    it with ``losses.binary_cross_entropy_with_logits``, or use ``predict_proba`` for σ(Z_L).
    With n_L = C >= 2 output units it classifies C classes: pair it with
    ``losses.cross_entropy``; ``predict_proba`` is then the softmax over the units.
    Parameters are named W1, b1, ..., WL, bL, initialized (init="course") exactly as
    ``reference.initialize_parameters(layer_dims, seed)``. With ``p=`` > 0 (PyTorch's: the
    probability of dropping) or ``keep_prob=`` < 1 (the course's), keyword-only as in
    ``Dropout``, a Dropout follows every hidden activation; all draw their masks from ``rng``
    (default RandomState(seed)), layer by layer, in the order
    ``reference.forward_propagation_with_dropout`` does; the model keeps it as ``rng``, whose
    state a checkpoint saves to continue the same masks. ``rng=CourseMasks(seed=1)`` gives the
    course's schedule instead: the same masks on every pass (``nn/course_masks.py``).
    ``layers`` is the Sequential of all of these, for stepping through the network.
    ``dtype``: of every parameter (float64 by default, as ``Linear``); ``print(model)`` shows
    the layers.
    """

    def __init__(
        self,
        layer_dims: list[int],
        hidden: str = "relu",
        init: str = "course",
        seed: int = 3,
        *positional: Any,
        p: float | None = None,
        keep_prob: float | None = None,
        rng: Rng | None = None,
        dtype: Any = np.float64,
    ):
        if len(layer_dims) < 2 or any(int(n) != n or n < 1 for n in layer_dims):
            raise ValueError(
                f"MLP: layer_dims={list(layer_dims)}; expected at least two positive integers "
                "[n_0 (features), n_1, ..., n_L]."
            )
        if hidden not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown hidden={hidden!r}; expected one of {list(ACTIVATIONS)}."
            )
        dropout = {"p": p} if p is not None else {"keep_prob": keep_prob}  # shown as given
        keep_prob = dropout_keep_prob("MLP", positional, p, keep_prob, default=1.0)
        if not (_is_integer(seed) and 0 <= seed < 2**32):
            raise ValueError(f"MLP: seed = {seed!r}; expected an integer in [0, 2**32).")
        self.layer_dims = [int(n) for n in layer_dims]
        self.hidden = hidden
        init_rng = np.random.RandomState(seed)  # one stream, drawn layer by layer
        self.linears = [
            Linear(n_in, n_out, init=init, rng=init_rng, dtype=dtype)
            for n_in, n_out in zip(self.layer_dims[:-1], self.layer_dims[1:])
        ]
        for l, layer in enumerate(self.linears, start=1):
            layer.W.name, layer.b.name = f"W{l}", f"b{l}"  # as in the course, for traces
        self.rng = np.random.RandomState(seed) if rng is None else rng  # the masks' stream
        modules: list[Module] = []
        for layer in self.linears[:-1]:
            modules += [layer, ACTIVATIONS[hidden]()]
            if keep_prob < 1:
                modules.append(Dropout(**dropout, rng=self.rng))
        modules.append(self.linears[-1])
        self.layers = Sequential(*modules)
        self.course_masks = self.rng if isinstance(self.rng, CourseMasks) else None
        if self.course_masks is not None:
            self.course_masks.draws_per_pass = max(1, sum(isinstance(m, Dropout) for m in modules))

    def extra_repr(self) -> str:
        return f"layer_dims={self.layer_dims}"

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        named = []
        for l, layer in enumerate(self.linears, start=1):
            named += [(f"W{l}", layer.W), (f"b{l}", layer.b)]
        return named

    def forward(self, X: Any) -> Tensor:
        """The logits Z_L. Tensors are named as the course names them (Z1, A1, ..., ZL), so
        ``explain_backward`` can be read beside the hand-written backward pass."""
        if self.course_masks is not None and self.training:
            self.course_masks.start_pass()
        A, l = X, 0
        for layer in self.layers:
            A = layer(A)
            if isinstance(layer, Linear):
                l += 1
                A.name = f"Z{l}"
            else:
                A.name = f"A{l}"
        return A

    def predict_proba(self, X: Any) -> Tensor:
        """σ(Z_L): the probability of label 1 for each example, (1, m). With C >= 2 output
        units, softmax(Z_L) over the units: each class's probability, (C, m)."""
        Z = self(X)
        return Z.sigmoid() if Z.shape[0] == 1 else Z.softmax(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels (1, m), 1 where the probability is above 0.5; with C >= 2 output units,
        class indices (1, m), the most probable class (see ``predicted_labels``)."""
        return predicted_labels(self, X)

    @classmethod
    def from_parameters(
        cls,
        parameters: dict[str, Any],
        hidden: str = "relu",
        *,
        p: float | None = None,
        keep_prob: float | None = None,
        rng: Rng | None = None,
    ) -> MLP:
        """An MLP holding copies of a ``reference``-style dict {"W1", "b1", ..., "WL", "bL"}."""
        layer_dims = layer_dims_of(parameters, "MLP.from_parameters")
        model = cls(layer_dims, hidden=hidden, init="zeros", p=p, keep_prob=keep_prob, rng=rng)
        for l, layer in enumerate(model.linears, start=1):
            layer.W = Tensor(parameters[f"W{l}"], requires_grad=True, name=f"W{l}")  # copies
            layer.b = Tensor(parameters[f"b{l}"], requires_grad=True, name=f"b{l}")
        return model

    def to_parameters(self) -> dict[str, np.ndarray]:
        """A ``reference``-style dict {"W1", "b1", ..., "WL", "bL"} of copies."""
        return self.state_dict()


def predicted_labels(model: Module, X: Any) -> np.ndarray:
    """0/1 labels (1, m) where σ(logits) > 0.5, or for a model with C >= 2 outputs the class
    indices (1, m) of the largest logits. Inference: no graph is recorded and dropout is off
    for the call (the model's mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            Z = model(X)
            if Z.shape[0] > 1:
                return Z.data.argmax(axis=0).reshape(1, -1).astype(np.int64)
            return (Z.sigmoid().data > 0.5).astype(np.int64)
    finally:
        model.train(was_training)

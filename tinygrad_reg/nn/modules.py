"""Layers as objects that own their parameters: Linear, Dropout, the containers (Sequential,
ModuleList) and the shape layers (Flatten, Identity), and MLP, the course network.
``Module``, their base class, is in ``module.py``; the activations are in ``activations.py``.

Course layout throughout: X is (n_features, m), one column per example; a Linear layer holds
W (n_out, n_in) and b (n_out, 1) and computes W @ X + b.

``MLP`` is the course network (LINEAR→RELU→...→LINEAR, then a sigmoid for probabilities, or a
softmax over C >= 2 output units for C classes) and
round-trips with ``reference.py``'s ``parameters`` dict, so the same weights can be run and
differentiated by hand and by autodiff.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..engine import Function, hooks, no_grad
from ..factories import default_generator
from ..ops.cast import float_dtype
from ..ops.linalg import linear
from ..tensor import Tensor
from ..testing.reference import layer_dims_of
from .activations import ReLU, Sigmoid, Tanh
from .course_masks import CourseMasks
from .module import Module, Rng, _as_tensor, _is_integer, first_of_each


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
        dtype = x._data.dtype  # read once: this runs on every forward
        if dtype != self.W._data.dtype and dtype.kind == "f":
            raise TypeError(
                f"Linear: the input is {x.dtype} but the parameters are {self.W.dtype}; expected "
                f"the same float dtype (numpy would silently compute in the wider one). Convert "
                f"the input (X.astype(np.{self.W.dtype})) or build the layer or model with "
                f"dtype=np.{x.dtype}; fit, predict and accuracy convert the data themselves."
            )
        return x


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


def _checked_modules(modules: Iterable[Any], where: str, start: int = 0) -> list[Module]:
    modules = list(modules)
    for i, module in enumerate(modules, start=start):
        if not isinstance(module, Module):
            hint = f" (an instance: {module.__name__}())" if isinstance(module, type) else ""
            raise TypeError(
                f"{where}: module {i} is {type(module).__name__} {module!r}; expected a "
                f"Module{hint}."
            )
    return modules


class ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: modules in a list, named "0", "1", ...
    (their parameters "0.W", "0.b", ...), indexed, sliced, counted and iterated as a list, and
    grown with ``append``, ``extend`` and ``insert``."""

    def __init__(self, modules: Iterable[Module] = ()):
        self._items = _checked_modules(modules, type(self).__name__)

    def named_children(self) -> list[tuple[str, Module]]:
        return first_of_each([(str(i), module) for i, module in enumerate(self._items)])

    def _like(self, modules: list[Module]) -> ModuleSequence:
        """A new container of this kind holding ``modules`` (what a slice returns)."""
        raise NotImplementedError

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._like(self._items[index])
        return self._items[self._position(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self._items[self._position(index)] = _checked_modules([module], type(self).__name__)[0]

    def _position(self, index: Any) -> int:
        n = len(self._items)
        if not (_is_integer(index) and -n <= index < n):
            raise IndexError(
                f"{type(self).__name__}: index {index!r} for {n} modules; expected an int in "
                f"[{-n}, {n}) or a slice."
            )
        return int(index) % n

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def append(self, module: Module) -> ModuleSequence:
        """Add ``module`` at the end (named ``str(len(self))``); returns self, as PyTorch."""
        return self.extend([module])

    def extend(self, modules: Iterable[Module]) -> ModuleSequence:
        """Add each of ``modules`` at the end, in order; returns self."""
        where = f"{type(self).__name__}.extend"
        self._items += _checked_modules(modules, where, start=len(self._items))
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``, as ``list.insert`` (the modules after it
        are renumbered, and so are their parameters' names)."""
        where = f"{type(self).__name__}.insert"
        if not _is_integer(index):
            raise TypeError(f"{where}: index {index!r}; expected an int.")
        self._items.insert(int(index), _checked_modules([module], where)[0])


class Sequential(ModuleSequence):
    """Modules applied in order; ``model[i]`` is the i-th, and iterating goes through them."""

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def _like(self, modules: list[Module]) -> Sequential:
        return Sequential(*modules)

    def forward(self, x: Any) -> Any:
        for module in self._items:
            x = module(x)
        return x


class ModuleList(ModuleSequence):
    """A list of modules whose parameters the model owns (``model.parameters()`` finds them,
    ``state_dict`` names them "blocks.0.W", ...), for a forward that uses them in its own way;
    unlike ``Sequential``, it has no forward of its own."""

    def _like(self, modules: list[Module]) -> ModuleList:
        return ModuleList(modules)


class Identity(Module):
    """Returns its input unchanged; any arguments are accepted and ignored, as PyTorch's (a
    placeholder where a layer is switched off)."""

    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Axes ``start_dim`` to ``end_dim`` (both included) merged into one, as PyTorch's: images
    (N, C, H, W) become (N, C·H·W), one row per image. A ``Linear`` takes one column per example:
    pass the transpose (``x.T``) to it (see ``docs/pytorch.md``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        for name, axis in [("start_dim", start_dim), ("end_dim", end_dim)]:
            if not _is_integer(axis):
                raise TypeError(f"Flatten: {name}={axis!r}; expected an int.")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).flatten(self.start_dim, self.end_dim)


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

"""``Module``, the base class of every layer and model: how a network finds its parameters,
its sub-modules and its buffers, switches between training and evaluation, changes dtype,
prints itself and saves and loads its values.

A module's parameters are its Tensor attributes that require grad, its sub-modules its Module
attributes, both in the order they were assigned (containers such as ``Sequential`` number
theirs "0", "1", ...). Names, order and the visiting order of ``apply`` are PyTorch's, so
``named_parameters()`` of the same structure lists the same names in the same order. The
layers themselves are in ``modules.py``, the activations in ``activations.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import hooks
from ..ops.cast import float_dtype
from ..tensor import Tensor

Rng = np.random.RandomState | np.random.Generator


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def first_of_each(named: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``named`` without the entries whose object came earlier under another name: a module or
    tensor held twice (tied weights) is listed once, under its first name, as PyTorch does."""
    seen: set[int] = set()
    kept = []
    for name, value in named:
        if id(value) not in seen:
            seen.add(id(value))
            kept.append((name, value))
    return kept


def _prefixed(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


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

    # --- the tree of modules ------------------------------------------------------------------

    def named_children(self) -> list[tuple[str, Module]]:
        """(name, module) for each direct sub-module, in the order assigned."""
        return first_of_each(
            [(name, value) for name, value in vars(self).items() if isinstance(value, Module)]
        )

    def children(self) -> list[Module]:
        """The direct sub-modules, as ``named_children``."""
        return [child for _, child in self.named_children()]

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """(name, module) for this module (named ``prefix``, "" by default) and every module
        below it, parents before their children (PyTorch's order: ``model.layers.0`` comes
        after ``model.layers``); a module reached twice is listed once."""
        named = [(prefix, self)]
        for name, child in self.named_children():
            named += child.named_modules(_prefixed(prefix, name))
        return first_of_each(named)

    def modules(self) -> list[Module]:
        """This module and every module below it, as ``named_modules``."""
        return [module for _, module in self.named_modules()]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every sub-module, children before their parent and this module
        last (PyTorch's order), e.g. ``model.apply(init_weights)``; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- parameters and buffers ---------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) pairs; a sub-module's parameters are named ``child.name``. A tensor
        held twice (tied weights) is listed once."""
        named = [
            (name, value)
            for name, value in vars(self).items()
            if isinstance(value, Tensor) and value.requires_grad
        ]
        for prefix, child in self.named_children():
            named += [(f"{prefix}.{name}", p) for name, p in child.named_parameters()]
        return first_of_each(named)

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> list[tuple[str, Tensor]]:
        """(name, tensor) pairs of the state that ``state_dict`` saves but no optimizer sees
        (the tensors named in ``buffer_names``; None is skipped), named as the parameters."""
        named = [(name, getattr(self, name)) for name in self.buffer_names]
        named = [(name, value) for name, value in named if value is not None]
        for prefix, child in self.named_children():
            named += [(f"{prefix}.{name}", b) for name, b in child.named_buffers()]
        return first_of_each(named)

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    def zero_grad(self) -> None:
        if hooks.recorder is not None:  # compile records it
            return hooks.recorder.zero_grad(self.parameters())
        for p in self.parameters():
            p.grad = None

    # --- dtype ----------------------------------------------------------------------------------

    def to(self, dtype: Any) -> Module:
        """Every parameter and buffer converted to the float ``dtype`` in place, as PyTorch's
        ``model.to(torch.float32)``: the same Tensor objects (an optimizer made before still
        holds them, but its state, such as Adam's moments, keeps the old dtype: make the
        optimizer after), their ``.grad`` converted too. Returns self. ``to("cpu")`` changes
        nothing (everything here is on the CPU)."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        where = f"{type(self).__name__}.to"
        if dtype is None:  # numpy would read None as float64
            raise TypeError(f"{where}: dtype=None; expected a float dtype such as np.float32.")
        dtype = float_dtype(dtype, where)
        for t in self.parameters() + self.buffers():
            if t.dtype != dtype:
                t.data = t.data.astype(dtype)
            if t.grad is not None and t.grad.dtype != dtype:
                t.grad = t.grad.astype(dtype)
        return self

    def float(self) -> Module:
        """``to(np.float32)``, as PyTorch's ``model.float()``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``to(np.float64)``, as PyTorch's ``model.double()``."""
        return self.to(np.float64)

    # --- modes ----------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops units); ``train(False)`` is ``eval()``."""
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes everything through)."""
        return self.train(False)

    # --- printing ------------------------------------------------------------------------------

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

    # --- saving and loading ----------------------------------------------------------------------

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
                    hint = (
                        f" (for {array.dtype} values, build the model with dtype={array.dtype} "
                        f"or call model.to(np.{array.dtype}) first)"
                    )
                raise ValueError(
                    f"{where}: {name} has shape {array.shape} and dtype {array.dtype}; expected "
                    f"shape {p.shape} and dtype {p.dtype}, or a dtype that converts to it "
                    f"exactly{hint}."
                )
            array.setflags(write=False)
            new_values[name] = array
        for name, array in new_values.items():
            params[name].data = array

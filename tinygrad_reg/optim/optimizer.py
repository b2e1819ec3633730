"""What every optimizer shares: parameter groups, checked hyperparameters, the loop in ``step``
and saving/restoring the state.

Parameter groups are PyTorch's: ``optimizer.param_groups`` is a list of dicts, each holding
``"params"`` (a list of Tensors) and every hyperparameter of the optimizer::

    SGD([{"params": weights}, {"params": biases, "weight_decay": 0.0}], lr=0.1, weight_decay=1e-3)

A group's missing hyperparameters take the constructor's values (``optimizer.defaults``).
Given a Module, a dict name → Tensor or a list of Tensors, there is one group. Change a
group's value between steps (``group["lr"] = 0.01``, what a schedule does) and the next step
uses it; a bad value there is refused by that step, naming the group, the key and the value,
before anything moves. ``optimizer.lr = x`` sets ``x`` in every group, and reading
``optimizer.lr`` gives the groups' common value (an error if they differ).

A step never writes into ``p.data``: it assigns a new read-only array (``p.data = new``). A
graph recorded before the step saved the old array, so a backward through it still gives the
gradient at the old values (the core's safety rule, see ``tensor.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import is_
from typing import Any, ClassVar

import numpy as np

from ..engine import hooks
from ..tensor import Tensor

StateDict = dict[str, np.ndarray]
ParamGroup = dict[str, Any]

# The kinds of hyperparameter values (``Optimizer.hyperparameters`` maps each name to one).
POSITIVE = "a number > 0, finite"
NON_NEGATIVE = "a number >= 0, finite"
UNIT = "a number in [0, 1]"
FRACTION = "a number in [0, 1)"
BOOLEAN = "True or False"
BETAS = "a pair (β₁, β₂) of numbers in [0, 1)"


def parameter_list(params: Any, where: str, name: str = "params") -> list[Tensor]:
    """``params`` as a list of distinct leaf Tensors: a Module (its ``parameters()``), a dict
    name → Tensor (its values) or any iterable of Tensors. ``name`` is how errors call it."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    elif isinstance(params, dict):
        params = params.values()
    if isinstance(params, Tensor) or not isinstance(params, Iterable):
        raise TypeError(
            f"{where}: {name} must be a Module, a dict of Tensors or a list of Tensors; "
            f"got {type(params).__name__}."
        )
    params = list(params)
    if not params:
        raise ValueError(f"{where}: {name} is empty; expected at least one Tensor to optimize.")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: {name}[{i}] is a {type(p).__name__}; expected a Tensor.")
        if not p.is_leaf:
            raise ValueError(
                f"{where}: {name}[{i}] (shape {p.shape}) was computed by an op ({p.grad_fn!r}); "
                "only leaf tensors (made by the user) can be optimized."
            )
        if id(p) in seen:
            raise ValueError(f"{where}: {name}[{i}] (shape {p.shape}) appears more than once.")
        seen.add(id(p))
    return params


def raw_groups(params: Any, where: str) -> tuple[list[Any], bool]:
    """The constructor's ``params`` as a list of groups (their "params" not yet checked) and
    whether the user gave them as groups: a list of dicts is a list of groups; anything else
    is the one group's parameters."""
    if isinstance(params, dict) or hasattr(params, "parameters"):
        return [{"params": params}], False
    if isinstance(params, Iterable) and not isinstance(params, Tensor):
        params = list(params)
        if params and all(isinstance(group, dict) for group in params):
            return params, True
        if any(isinstance(group, dict) for group in params):
            raise TypeError(
                f"{where}: params mixes dicts (parameter groups) and other items; expected "
                "a list of Tensors or a list of dicts {'params': [...], ...}."
            )
    return [{"params": params}], False


def check_number(
    where: str, name: str, value: Any, *, low: float = 0.0, positive: bool = False,
    below: float = np.inf, up_to: float | None = None,
) -> float:  # fmt: skip
    """``value`` as a float, checked to be a real number (not a bool or a string), finite, in
    [low, below) (or (0, below) with ``positive``; [low, up_to] with ``up_to``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{where}: {name} = {value!r} is a {type(value).__name__}; expected a number."
        )
    value = float(value)
    high_ok = value <= up_to if up_to is not None else value < below
    in_range = (value > 0 if positive else value >= low) and high_ok  # False for NaN
    if not in_range:
        lower = "> 0" if positive else f">= {low:g}"
        upper = (
            f"<= {up_to:g}"
            if up_to is not None
            else "finite"
            if below == np.inf
            else f"< {below:g}"
        )
        raise ValueError(f"{where}: {name} = {value}; expected a number {lower}, {upper}.")
    return value


def check_value(where: str, name: str, kind: str, value: Any) -> Any:
    """One hyperparameter, checked against its kind; returns it as a float, bool or pair."""
    if kind == BOOLEAN:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where}: {name} = {value!r}; expected True or False.")
        return bool(value)
    if kind == BETAS:
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"{where}: {name} = {value!r}; expected {BETAS}.")
        return tuple(check_number(where, f"{name}[{i}]", b, below=1.0) for i, b in enumerate(value))
    if kind == POSITIVE:
        return check_number(where, name, value, positive=True)
    if kind == UNIT:
        return check_number(where, name, value, up_to=1.0)
    if kind == FRACTION:
        return check_number(where, name, value, below=1.0)
    return check_number(where, name, value)


def check_saved_type(state_dict: Any, expected: str, where: str, kind: str) -> None:
    """``state_dict`` is a dict whose ``"type"`` entry is ``expected`` (``kind`` names what
    saved it in the error: "optimizer", "schedule")."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"{where}: expected a dict of arrays; got {type(state_dict).__name__}.")
    saved_type = str(np.asarray(state_dict.get("type", "")))
    if saved_type != expected:
        raise ValueError(
            f"{where}: the state was saved by {saved_type or f'an unknown {kind}'!r}; "
            f"expected {expected!r}."
        )


_NUMBERS = frozenset({float, int, bool, np.float64, np.float32, np.bool_})


def _immutable(value: Any) -> bool:
    """A value that cannot change in place: ``step`` trusts an earlier check of the same
    object (a group dict is compared by identity only; a list or an array is rechecked)."""
    if type(value) is tuple:  # a checked betas pair
        return all(type(v) in _NUMBERS for v in value)
    return type(value) in _NUMBERS or type(value) is dict


def _same_objects(values: list[Any], earlier: list[Any] | None) -> bool:
    return earlier is not None and len(values) == len(earlier) and all(map(is_, values, earlier))


class Optimizer:
    """The base of the optimizers: groups, state, ``zero_grad``, ``step``, ``state_dict``.

    Subclasses map each of their ``hyperparameters`` to its kind (``POSITIVE``, ``BOOLEAN``...),
    list their per-parameter ``state_names``, and implement ``update(p, g, state, group)`` for
    one parameter (``group`` is its parameter group, where the hyperparameters are read).
    """

    hyperparameters: ClassVar[dict[str, str]] = {}
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Any, defaults: dict[str, Any]):
        where = type(self).__name__
        self.defaults = self.checked(defaults, where, lambda name: name)
        self.param_groups: list[ParamGroup] = []
        self.params: list[Tensor] = []  # every group's parameters, in order
        self.state: list[dict[str, Any]] = []  # state[i] for params[i]; empty until it steps
        self.group_of: list[ParamGroup] = []  # group_of[i]: the group of params[i]
        groups, named = raw_groups(params, where)
        for group in groups:
            self._add(group, where, named)

    # --- groups ---------------------------------------------------------------------------

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group (a dict with "params" and any hyperparameters; the missing ones from
        ``defaults``), as PyTorch's ``add_param_group``."""
        self._add(param_group, f"{type(self).__name__}.add_param_group", named=True)

    def _add(self, group: Any, where: str, named: bool) -> None:
        index = len(self.param_groups)
        label = f"param_groups[{index}]"
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{where}: {label} is {group!r}; expected a dict with a 'params' entry."
            )
        unknown = sorted(set(group) - {"params", *self.hyperparameters})
        if unknown:
            raise ValueError(
                f"{where}: {label} has unknown keys {unknown}; expected 'params' and any of "
                f"{list(self.hyperparameters)}."
            )
        params = group["params"]
        if named and isinstance(params, Tensor):  # PyTorch takes one Tensor in a group
            params = [params]
        params = parameter_list(params, where, f"{label}['params']" if named else "params")
        owners = {id(p): i for i, g in enumerate(self.param_groups) for p in g["params"]}
        for j, p in enumerate(params):
            if id(p) in owners:
                raise ValueError(
                    f"{where}: {label}['params'][{j}] (shape {p.shape}) is already in "
                    f"param_groups[{owners[id(p)]}]; a parameter belongs to one group."
                )
        values = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        checked = self.checked(values, where, lambda name: f"{label}[{name!r}]")
        new = {"params": params, **checked}
        self.param_groups.append(new)
        self.params += params
        self.state += [{} for _ in params]
        self.group_of += [new] * len(params)

    def checked(self, values: dict[str, Any], where: str, label: Any) -> dict[str, Any]:
        """Every hyperparameter of ``values`` checked (``label(name)`` names it in errors)."""
        out = {
            name: check_value(where, label(name), kind, values[name])
            for name, kind in self.hyperparameters.items()
        }
        self.check_combination(out, where, label)
        return out

    def check_combination(self, values: dict[str, Any], where: str, label: Any) -> None:
        """Subclasses refuse combinations of values that are each valid (SGD's nesterov)."""

    def check_param_groups(self) -> None:
        """Each group's hyperparameters as ``step`` will read them, checked: a bad value set
        between steps is named (group, key, value) before anything moves."""
        where = f"{type(self).__name__}.step"
        for i, group in enumerate(self.param_groups):
            missing = [name for name in self.hyperparameters if name not in group]
            if missing:
                raise KeyError(f"{where}: param_groups[{i}] has no {missing}; it was deleted.")
            self.checked(group, where, lambda name, i=i: f"param_groups[{i}][{name!r}]")

    def check_changed_param_groups(self) -> None:
        """``check_param_groups``, when some value in the groups is another object than at the
        last check (a number is immutable: the same object, the same checked value); ``step``
        and a compiled step's replay call it."""
        names = self.hyperparameters
        values = [v for g in self.param_groups for v in (g, *[g.get(n, g) for n in names])]
        if not _same_objects(values, vars(self).get("_checked_values")):
            self.check_param_groups()
            if all(map(_immutable, values)):
                self._checked_values = values

    def __getattr__(self, name: str) -> Any:
        # Only for names not found otherwise: a hyperparameter, as the groups' common value.
        groups = vars(self).get("param_groups")
        if groups is None or name not in type(self).hyperparameters:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        values = [group[name] for group in groups]
        if any(value != values[0] for value in values):
            raise AttributeError(
                f"{type(self).__name__}.{name}: the parameter groups have different values "
                f"{values}; read optimizer.param_groups[i][{name!r}]."
            )
        return values[0]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self).hyperparameters:  # every group's (checked by the next step)
            for group in self.param_groups:
                group[name] = value
        else:
            super().__setattr__(name, value)

    # --- stepping -------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (gradients accumulate across backwards)."""
        if hooks.recorder is not None:  # compile records it
            return hooks.recorder.zero_grad(self.params)
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (the groups' hyperparameters and all
        gradients are checked first, so a bad one leaves every parameter unchanged)."""
        self.check_changed_param_groups()
        if hooks.recorder is not None:  # compile records it (see replays_update)
            return hooks.recorder.optimizer_step(self)
        for i, p in enumerate(self.params):
            if p.grad is not None and p.grad.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: params[{i}] has shape {p.shape} but its "
                    f"gradient has shape {p.grad.shape}; expected equal shapes."
                )
        for p, state, group in zip(self.params, self.state, self.group_of):
            if p.grad is None:
                continue
            new = self.update(p.data, p.grad, state, group).astype(p.dtype, copy=False)
            new.setflags(write=False)  # a fresh read-only array: the data setter need not copy it
            p.data = new

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        """The new value of one parameter ``p`` given its gradient ``g``; may update ``state``."""
        raise NotImplementedError

    def hyperparameter_sources(self) -> list[tuple[Any, tuple[str, ...]]]:
        """Where ``update`` reads its hyperparameters: (group dict, names) pairs. ``compile``
        reads them there before every replay, so a value changed between calls is used
        (``jit/recorder.py``)."""
        return [(group, tuple(self.hyperparameters)) for group in self.param_groups]

    def replays_update(self) -> bool:
        """Does ``update`` make the same numpy calls on every step, with no Python state? Then
        ``compile`` records those calls and updates the parameters in place; otherwise its
        replay calls ``step()`` as Python (Adam's step count must advance)."""
        return False

    # --- saving and restoring ------------------------------------------------------------

    def state_dict(self) -> StateDict:
        """The groups and per-parameter state as a flat dict of numpy arrays (copies).

        Keys: ``"type"`` (the class name); for group g, ``"param_groups.<g>.params"`` (the
        indices of its parameters in ``params``) and ``"param_groups.<g>.<name>"`` for each
        hyperparameter; ``"<i>.<state name>"`` for params[i] once it has state (e.g.
        ``"0.exp_avg"``). Only numbers and strings: it can be stored with ``allow_pickle=False``.
        """
        out: StateDict = {"type": np.array(type(self).__name__)}
        index = {id(p): i for i, p in enumerate(self.params)}
        for g, group in enumerate(self.param_groups):
            out[f"param_groups.{g}.params"] = np.array([index[id(p)] for p in group["params"]])
            for name in self.hyperparameters:
                out[f"param_groups.{g}.{name}"] = np.array(group[name])
        for i, state in enumerate(self.state):
            for name, value in state.items():
                out[f"{i}.{name}"] = np.array(value)
        return out

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore the groups' hyperparameters and the state saved by ``state_dict`` (as
        PyTorch, the saved hyperparameters replace the current ones; the groups must hold as
        many parameters, in the same order). Everything is checked first: on any problem a
        ValueError names it and the optimizer is unchanged."""
        hyper, state = self.check_state_dict(state_dict)
        for group, values in zip(self.param_groups, hyper, strict=True):
            group.update(values)
        self.state = state

    def check_state_dict(
        self, state_dict: StateDict
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Validate ``state_dict`` against this optimizer without changing anything; return the
        hyperparameters of each group and the per-parameter state it would restore."""
        where = f"{type(self).__name__}.load_state_dict"
        check_saved_type(state_dict, type(self).__name__, where, "optimizer")
        state_dict = self._grouped(state_dict)
        hyper = self._restored_groups(state_dict, where)
        state: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in state_dict.items():
            if key == "type" or key.startswith("param_groups."):
                continue
            index, _, name = key.partition(".")
            if not index.isdigit() or name not in self.state_names:
                raise ValueError(
                    f"{where}: unexpected entry {key!r}; expected '<index>.<name>' with name in "
                    f"{list(self.state_names)}."
                )
            i = int(index)
            if i >= len(self.params):
                raise ValueError(
                    f"{where}: entry {key!r} is for parameter {i}, but this optimizer has "
                    f"{len(self.params)} parameters."
                )
            state[i][name] = self._restored_state(key, name, value, self.params[i], where)
        for i, s in enumerate(state):
            if s and set(s) != set(self.state_names):
                raise ValueError(
                    f"{where}: parameter {i} has state {sorted(s)}; expected all of "
                    f"{sorted(self.state_names)} or none."
                )
        return hyper, state

    def _grouped(self, state_dict: StateDict) -> StateDict:
        """A state saved before parameter groups (hyperparameters at the top level) as one
        group of all the parameters; a hyperparameter added since (SGD's dampening) keeps its
        current value."""
        if "param_groups.0.params" in state_dict or "lr" not in state_dict:
            return state_dict
        out = {"param_groups.0.params": np.arange(len(self.params))}
        for name in self.hyperparameters:
            out[f"param_groups.0.{name}"] = np.array(self.param_groups[0][name])
        for key, value in state_dict.items():
            out[f"param_groups.0.{key}" if key in self.hyperparameters else key] = value
        return out

    def _restored_groups(self, state_dict: StateDict, where: str) -> list[dict[str, Any]]:
        """Each group's saved hyperparameters, checked as a group given to the constructor."""
        saved = sorted(
            {key.split(".")[1] for key in state_dict if key.startswith("param_groups.")},
            key=lambda g: int(g) if g.isdigit() else -1,
        )
        if saved != [str(g) for g in range(len(self.param_groups))]:
            raise ValueError(
                f"{where}: the state has parameter groups {saved}; this optimizer has "
                f"{len(self.param_groups)} (0 to {len(self.param_groups) - 1})."
            )
        index = {id(p): i for i, p in enumerate(self.params)}
        hyper = []
        for g, group in enumerate(self.param_groups):
            prefix = f"param_groups.{g}."
            expected = [index[id(p)] for p in group["params"]]
            indices = np.asarray(state_dict.get(prefix + "params", []))
            if indices.dtype.kind not in "iu" or indices.tolist() != expected:
                raise ValueError(
                    f"{where}: param_groups[{g}] was saved with parameters {indices.tolist()}; "
                    f"this optimizer's has {expected}."
                )
            missing = [n for n in self.hyperparameters if prefix + n not in state_dict]
            if missing:
                raise ValueError(
                    f"{where}: param_groups[{g}] is missing hyperparameters {missing}."
                )
            known = {prefix + name for name in ("params", *self.hyperparameters)}
            unexpected = [key for key in state_dict if key.startswith(prefix) and key not in known]
            if unexpected:
                raise ValueError(f"{where}: unexpected entries {unexpected}.")
            values = {}
            for name, kind in self.hyperparameters.items():
                array = np.asarray(state_dict[prefix + name])
                shape = (2,) if kind == BETAS else ()
                if array.shape != shape or array.dtype.kind not in "biuf":
                    raise ValueError(
                        f"{where}: param_groups[{g}][{name!r}] has shape {array.shape} and "
                        f"dtype {array.dtype}; expected a number of shape {shape}."
                    )
                values[name] = tuple(array.tolist()) if kind == BETAS else array.item()
            hyper.append(self.checked(values, where, lambda n, g=g: f"param_groups[{g}][{n!r}]"))
        return hyper

    @staticmethod
    def _restored_state(key: str, name: str, saved: Any, p: Tensor, where: str) -> Any:
        array = np.asarray(saved)
        if name == "step":
            if array.shape != () or array.dtype.kind not in "iu" or array < 0:
                raise ValueError(f"{where}: {key!r} must be a non-negative integer; got {array!r}.")
            return int(array)
        if array.shape != p.shape or array.dtype.kind != "f":
            raise ValueError(
                f"{where}: {key!r} has shape {array.shape} and dtype {array.dtype}; expected a "
                f"float array of the parameter's shape {p.shape}."
            )
        return array.astype(p.dtype, copy=True)

    def __repr__(self) -> str:
        groups = []
        for group in self.param_groups:
            settings = ", ".join(f"{name}={group[name]!r}" for name in self.hyperparameters)
            groups.append(f"[{len(group['params'])} parameters, {settings}]")
        return f"{type(self).__name__}({', '.join(groups)})"

"""What the engine, the modules and the optimizers report while ``compile`` records a step.

While the first call of a compiled step runs, ``engine.hooks.recorder`` is a ``Recorder``: a
``Tape`` (``tape.py``) that also hears about what the step does with tensors:

- **arrays from outside.** The first time an op reads a tensor the step did not compute (a
  parameter, a constant), the tensor is *adopted*: it gets a buffer holding a copy of its
  values and holds a Traced view of it; before each replay, if its array was replaced since,
  the new values are copied in (``sync``);
- **gradients.** Each gradient stored into a ``.grad`` becomes a ``setattr`` entry, and
  ``zero_grad`` a ``setattr(p, "grad", None)``;
- **optimizer steps.** A parameter the step updates gets a second buffer, which its new values
  are written to: a replay reads one and writes the other, so the parameter's current array is
  never written while the replay might still fail (``compiler.Trace``). Plain SGD's update is
  recorded call by call, its hyperparameters read through ``Setting`` cells; an optimizer with
  Python state of its own runs its ``step()`` as one Python call (``step_in_place``);
- **settings.** The hyperparameters of a recorded update, and a ``Dropout``'s ``training`` and
  ``keep_prob``, are checked before each replay (``Settings``).

If the recording fails (a ``TraceError``, or the step itself raises), ``restore`` puts back
everything it changed: each tensor's array and ``.grad``, the optimizers' state, the random
generators' state and the attributes of the modules that reported.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, hooks
from ..tensor import Tensor
from .tape import (
    GuardFailed,
    Setting,
    Tape,
    Traced,
    TraceError,
    check,
    check_choosing,
    plain,
    step_in_place,
)
from .tape_optimizer import optimize


class Retrace(Exception):
    """A tensor from outside changed shape or dtype, or an optimizer its parameters."""


def read_only_view(array: np.ndarray) -> np.ndarray:
    view = array.view(np.ndarray)
    view.flags.writeable = False
    return view


# --- entries that run at the start of each replay or in place of Python ----------------------


def sync(tensor: Tensor, name: str, buffer: np.ndarray, view: np.ndarray) -> None:
    """Before a replay: a tensor's array (``_data`` or ``grad``) replaced since the last call
    is copied into the buffer the tape reads."""
    current = getattr(tensor, name)
    if current is None or current.shape != view.shape or current.dtype != view.dtype:
        raise Retrace
    if not buffer.flags.writeable:  # a constant's own array, adopted without a copy
        raise Retrace
    np.copyto(buffer, current)
    setattr(tensor, name, view)


def setting(owner: Any, name: str) -> Any:
    """A setting's value: an attribute, or a key of a dict (a PyTorch-style parameter group)."""
    return owner[name] if isinstance(owner, dict) else getattr(owner, name)


def set_setting(owner: Any, name: str, value: Any) -> None:
    if isinstance(owner, dict):
        owner[name] = value
    else:
        setattr(owner, name, value)


class Settings:
    """Python values a recorded step depends on: the hyperparameters of an optimizer whose
    update is on the tape (where ``Optimizer.hyperparameter_sources`` says they are), or a
    module's attributes (a Dropout's ``training``, ``keep_prob``).

    ``follow()`` runs before each replay. A number the tape reads through cells (``lr``) may
    change: its cells get the new value. Any other change may send the step down another path
    (``weight_decay`` becoming 0, ``momentum`` leaving 0, another type of number, a new
    ``keep_prob``): the replay stops before it starts (``GuardFailed``), and another trace is
    tried or the call recorded."""

    def __init__(self, owner: Any, names: tuple[str, ...]):
        self.owner, self.names = owner, names
        self.values = self.read()
        self.cells: dict[str, list[np.ndarray]] = {}  # name → the arrays that hold it
        self.tested: set[str] = set()  # whether it is 0 chose the path
        self.free: set[str] = set()  # numbers the recording never read

    def read(self) -> list[Any]:
        return [setting(self.owner, name) for name in self.names]

    def swap(self) -> list[Setting]:
        """Put a Setting in place of each number (Python int or float), for recording."""
        settings = []
        for name in self.names:
            value = setting(self.owner, name)
            if type(value) in (int, float):
                settings.append(Setting(self.owner, name, value))
                set_setting(self.owner, name, settings[-1])
        return settings

    def recorded(self, settings: list[Setting], tape: Tape) -> None:
        """After recording: the attributes back, and which of them the tape reads."""
        for setting in settings:
            set_setting(self.owner, setting.name, setting.value)
            key = (id(self.owner), setting.name)
            cells = [cell for k, cell in tape.cells.items() if k[:2] == key]
            if cells:
                self.cells[setting.name] = cells
            if setting.tested:
                self.tested.add(setting.name)
            if not cells and not setting.tested:
                self.free.add(setting.name)  # never read: any value follows the same path

    def follow(self) -> None:
        current = self.read()
        if current == self.values:
            return
        pairs = list(zip(self.values, current))
        for name, (old, new) in zip(self.names, pairs):
            if name in self.free:
                continue
            if type(new) is not type(old):  # numpy converts another type otherwise
                raise GuardFailed
            if name in self.tested and bool(new) != bool(old):
                raise GuardFailed
            if name not in self.cells and name not in self.tested and new != old:
                raise GuardFailed  # not a number (a bool, a tuple): its value chose the path
        for name, (_, new) in zip(self.names, pairs):
            for cell in self.cells.get(name, ()):
                cell[()] = new
        self.values = current


# --- the state of random generators ---------------------------------------------------------

MT19937_BYTES = ctypes.sizeof(ctypes.c_uint32) * 624 + ctypes.sizeof(ctypes.c_int)


def bit_generator(rng: Any) -> Any:
    return rng.bit_generator if isinstance(rng, np.random.Generator) else rng._bit_generator


def random_state(rng: Any) -> Any:
    """The state of ``rng``, to put back if a replay fails. MT19937 (RandomState's) builds its
    624-word key in a Python loop when asked for ``.state`` (about 100 µs), so its raw state
    struct (the key and the position, 2,500 bytes) is copied through the bit generator's
    ctypes interface instead (under a microsecond)."""
    generator = bit_generator(rng)
    if isinstance(generator, np.random.MT19937):
        return ctypes.string_at(generator.ctypes.state_address, MT19937_BYTES)
    return generator.state


def set_random_state(rng: Any, state: Any) -> None:
    generator = bit_generator(rng)
    if isinstance(generator, np.random.MT19937):
        ctypes.memmove(generator.ctypes.state_address, state, MT19937_BYTES)
    else:
        generator.state = state


def optimizer_state(optimizer: Any) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    """What ``optimizer.step()`` may change: its attributes and its per-parameter state (the
    library's optimizers replace the arrays there, never write into them)."""
    return optimizer, dict(vars(optimizer)), [dict(s) for s in optimizer.state]


def set_optimizer_state(saved: tuple[Any, dict[str, Any], list[dict[str, Any]]]) -> None:
    optimizer, attributes, states = saved
    vars(optimizer).clear()
    vars(optimizer).update(attributes)
    for state, before in zip(optimizer.state, states):
        state.clear()
        state.update(before)


# --- recording --------------------------------------------------------------------------------


class External:
    """An array from outside the step that the tape reads: a tensor's ``_data`` or ``grad``.

    While recording, the tensor holds ``traced`` (a Traced view of ``buffer``, or for a
    constant the array itself: see ``Recorder.adopt``); afterwards ``view`` (read-only). A
    parameter the step updates also has ``next``, the buffer its new values go to."""

    def __init__(self, tensor: Tensor, name: str, buffer: np.ndarray, constant: bool):
        self.tensor, self.name, self.buffer = tensor, name, buffer
        self.traced = buffer if constant else buffer.view(Traced)
        self.view = read_only_view(buffer)
        self.next: np.ndarray | None = None
        self.current = self.traced  # what the tensor holds while the recording goes on

    def updated(self, tape: Tape) -> np.ndarray:
        """The buffer of the new values (made on the first update), which the tensor holds
        from now on."""
        if self.next is None:
            self.next = np.empty_like(self.buffer)
            tape.own(self.next)
            self.next_traced = self.next.view(Traced)
            self.next_view = read_only_view(self.next)
        self.current = self.tensor._data = self.next_traced
        return self.next


class Recorder(Tape):
    """The tape of one step, plus what the engine, the optimizers and ``Tensor`` report."""

    def __init__(self) -> None:
        super().__init__()
        self.syncs: list[tuple[Tensor, str, np.ndarray, np.ndarray]] = []  # see sync()
        self.fresh_grads: list[Tensor] = []  # tensors whose .grad must be None at the start
        self.externals: dict[tuple[int, str], External] = {}  # (id of tensor, name) →
        self.views: dict[int, np.ndarray] = {}  # id of a Traced .grad → its view after
        self.zeroed: set[int] = set()  # tensors whose .grad a recorded zero_grad cleared
        self.optimizers: list[tuple[Any, tuple[Tensor, ...]]] = []
        self.steppers: list[Any] = []  # optimizers whose step() runs as Python on replay
        self.settings: list[Settings] = []
        self.generators: dict[int, Any] = {}  # id → a generator the tape draws from
        self.constants: dict[int, np.ndarray] = {}  # id of a tensor → its constant array
        # what the recording changes, put back if it fails (restore)
        self.originals: dict[int, tuple[Tensor, np.ndarray, Any]] = {}  # id → (t, _data, grad)
        self.optimizer_states: dict[int, Any] = {}
        self.generator_states: dict[int, tuple[Any, Any]] = {}
        self.module_states: dict[int, tuple[Any, dict[str, Any]]] = {}
        self.input_ids: set[int] = set()
        self.inputs: list[np.ndarray] = []
        self.recorded_calls = 0  # entries before tape_optimizer.optimize (see finish)

    def take_inputs(self, inputs: list[Tensor]) -> None:
        """The step's arguments: each gets an input buffer, copied into on every call."""
        self.input_ids = {id(t) for t in inputs}  # by identity: == compares values
        self.inputs = [self.adopt(t, "_data").buffer for t in inputs]

    def remember(self, tensor: Tensor) -> None:
        self.originals.setdefault(id(tensor), (tensor, tensor._data, tensor.grad))

    def adopt(self, tensor: Tensor, name: str) -> External:
        """A buffer for an array from outside the step, which the tensor holds from now on: a
        copy, unless the replay never writes it and nobody can change it: a *constant*, a
        read-only array that owns its memory, such as the data X of a closure. A constant is
        not Traced: what the step computes from it alone (checks on labels, say) is computed
        once, while recording; replacing it makes the step record again (``sync``)."""
        self.remember(tensor)
        array = getattr(tensor, name)
        written = id(tensor) in self.input_ids or tensor.requires_grad or name == "grad"
        constant = not (written or array.flags.writeable or array.base is not None)
        buffer = array if constant else np.array(array, order="K")
        if not constant:
            self.own(buffer)
        external = self.externals[(id(tensor), name)] = External(tensor, name, buffer, constant)
        if constant:
            self.constants[id(tensor)] = array
        setattr(tensor, name, external.traced)
        return external

    # --- called by the engine ---

    def arrays_of(self, tensors: tuple[Tensor, ...]) -> tuple[np.ndarray, ...]:
        """An op's input arrays: Traced arrays and constants (a tensor from outside is
        adopted the first time)."""
        arrays = []
        for t in tensors:
            data = t._data
            if isinstance(data, Traced):
                if data.tape is not self.token:
                    raise TraceError(
                        f"compile: a tensor of shape {t.shape} holds an array of another "
                        "recording: another thread is recording a compiled step on the same "
                        "tensors. Give each thread its own model, or call the steps one at a "
                        "time (a lock around the calls)."
                    )
            elif self.constants.get(id(t)) is not data:
                data = self.external(t, "_data")
            arrays.append(data)
        return tuple(arrays)

    def external(self, tensor: Tensor, name: str) -> np.ndarray:
        """A tensor from outside the step: adopted, and synced before each replay."""
        if self.computed(getattr(tensor, name)):
            raise TraceError(  # a bug of the library, not of the step: say where to look
                f"compile: a tensor of shape {tensor.shape} holds a plain view of an array the "
                "step computed (np.asarray on a traced array inside an op?); it would not be "
                "recomputed on replay."
            )
        external = self.adopt(tensor, name)
        self.syncs.append((tensor, name, external.buffer, external.view))
        return external.traced

    def forward(self, fn: Function, arrays: tuple[Traced, ...]) -> Any:
        if not type(fn).__module__.startswith("tinygrad_reg."):
            return self.python_call(fn.forward, arrays)
        start = len(self.entries)
        out = fn.forward(*arrays)
        if getattr(fn, "guards_choose_only_out", False) and isinstance(out, Traced):
            self.entries[start:] = [
                (check_choosing, (out, *args)) if function is check else (function, args)
                for function, args in self.entries[start:]
            ]
        return out

    def backward(self, fn: Function, g: Any, out: Any, saved: tuple[Any, ...]) -> Any:
        if type(fn).__module__.startswith("tinygrad_reg."):
            return fn.backward(g, out, *saved)
        return self.python_call(fn.backward, (g, out, *saved))

    def python_call(self, function: Callable[..., Any], arrays: tuple[Any, ...]) -> Any:
        """An op of yours (a Function defined outside the library): its numpy calls are not
        known to be recordable, so its method runs as Python on every replay."""
        args = plain(arrays)
        hooks.recorder = None
        try:
            result = function(*args)
        finally:
            hooks.recorder = self
        return self.result(function, args, result, [])

    def draw(self, rng: Any, shape: tuple[int, ...]) -> Traced:
        """``rng.random(shape)``, drawn again on every replay (a dropout mask)."""
        if id(rng) not in self.generators:
            self.generators[id(rng)] = rng
            self.generator_states[id(rng)] = (rng, random_state(rng))
        return self.result(rng.random, (shape,), rng.random(shape), [])

    def store_grad(self, tensor: Tensor, g: Traced, stored: set[int]) -> None:
        """The engine's ``tensor.grad += g``, recorded; the replay sets ``.grad`` again."""
        if tensor.grad_fn is not None:
            raise TraceError(
                "compile: retain_grad() on an intermediate tensor cannot be replayed (each "
                "replay makes new tensors); read the gradients of parameters instead."
            )
        self.remember(tensor)
        previous = tensor.grad
        if previous is None:
            if id(tensor) not in self.zeroed:
                self.fresh_grads.append(tensor)
                self.zeroed.add(id(tensor))
            owned = getattr(g, "buffer", None) is not None and id(g) not in stored
            new = g if owned and g.dtype == tensor.dtype else g.astype(tensor.dtype)
        else:
            if not isinstance(previous, Traced):
                previous = self.external(tensor, "grad")
            new = (previous + g).astype(tensor.dtype, copy=False)
        tensor.grad = new
        stored.add(id(new))
        view = self.views[id(new)] = read_only_view(new)
        self.write(setattr, (tensor, "grad", view))

    def check_backward(self, create_graph: bool, capture: Any) -> None:
        if create_graph or capture is not None:
            raise TraceError(
                "compile: grad() and create_graph=True cannot be traced yet; use "
                "loss.backward() in a compiled step."
            )

    def value_read(self, tensor: Tensor, what: str) -> None:
        if isinstance(tensor._data, Traced) or tensor.requires_grad:
            raise TraceError(
                f"compile: {what} reads the values of a tensor of shape {tensor.shape} into "
                "Python while the step is being traced; the replay could not follow what the "
                "step does with them (a branch, a mask). Keep the step to tensor ops, "
                "backward() and optimizer calls, and read values outside the compiled "
                "function, from the tensors it returns (e.g. cost.item())."
            )

    # --- called by the optimizers and modules ---

    def zero_grad(self, params: list[Tensor]) -> None:
        for p in params:
            self.remember(p)
            p.grad = None
            self.zeroed.add(id(p))
            self.write(setattr, (p, "grad", None))

    def read_settings(self, module: Any, names: tuple[str, ...]) -> None:
        """A module's forward depends on these attributes (Dropout: training, keep_prob):
        checked before each replay; the module's attributes are put back if recording fails."""
        if id(module) not in self.module_states:
            self.module_states[id(module)] = (module, dict(vars(module)))
            self.settings.append(Settings(module, names))

    def optimizer_step(self, optimizer: Any) -> None:
        params = list(optimizer.params)
        for i, p in enumerate(params):
            if p.grad is not None and id(p.grad) not in self.views:
                raise TraceError(
                    f"compile: params[{i}] (shape {p.shape}) has a .grad that the traced "
                    "backward did not produce (set or changed by Python code in the step, e.g. "
                    "clipped in numpy); a replay would not repeat that. Compute it with ops."
                )
        self.optimizers.append((optimizer, tuple(params)))
        self.optimizer_states.setdefault(id(optimizer), optimizer_state(optimizer))
        if optimizer.replays_update():
            self.record_update(optimizer, params)
        else:
            adopted = [self.parameter(p) for p in params]
            reading = [e.current for e in adopted]  # the values before this update
            nexts = [(e.tensor, e.updated(self), e.next_traced) for e in adopted]
            for e, current in zip(adopted, reading):
                e.tensor._data = current
            hooks.recorder = None
            try:
                step_in_place(optimizer, nexts)
            finally:
                hooks.recorder = self
            targets = [(e.tensor, e.next, e.next_view) for e in adopted]
            self.write(step_in_place, (optimizer, targets))
            self.steppers.append(optimizer)
        self.effects = True

    def record_update(self, optimizer: Any, params: list[Tensor]) -> None:
        """The update's numpy calls, with the hyperparameters read through cells, each
        parameter's new values written into its next buffer."""
        settings = [Settings(*source) for source in optimizer.hyperparameter_sources()]
        swapped = [s.swap() for s in settings]
        try:
            for p, state, group in zip(params, optimizer.state, optimizer.group_of):
                if p.grad is not None:
                    new = optimizer.update(self.arrays_of((p,))[0], p.grad, state, group)
                    self.write_back(p, new if new.dtype == p.dtype else new.astype(p.dtype))
        except TypeError as error:
            if not any(swapped):
                raise
            raise TraceError(
                f"compile: {type(optimizer).__name__}.update ({error}): its replays_update() "
                "is True, so it may use its hyperparameters only as operands of elementwise "
                "numpy calls on arrays (lr * g) and in if-tests, not in Python arithmetic."
            ) from error
        finally:
            for source, stand_ins in zip(settings, swapped):
                source.recorded(stand_ins, self)
        self.settings += settings

    def parameter(self, p: Tensor) -> External:
        """The External of a parameter's ``_data`` (adopted now if no op has read it yet)."""
        self.arrays_of((p,))
        return self.externals[(id(p), "_data")]

    def write_back(self, p: Tensor, new: Traced) -> None:
        """The parameter's new values into its next buffer: the entry that computed them
        writes there directly if it can (an elementwise ufunc), else they are copied."""
        external = self.parameter(p)
        target = external.updated(self)
        function, args = self.entries[-1]
        if isinstance(function, np.ufunc) and args[-1] is getattr(new, "buffer", None):
            self.entries[-1] = (function, (*args[:-1], target))
        else:
            self.write(np.copyto, (target, plain(new)))
        np.copyto(target, plain(new))
        self.write(setattr, (p, "_data", external.next_view))

    # --- the end of the recording ---

    def finish(self, result: Any) -> Any:
        """The step's result as the trace keeps it: None, an array, or (type, arrays)."""
        for e in self.externals.values():
            if (
                e.name == "_data"
                and e.tensor._data is not e.current
                and id(e.tensor) not in self.input_ids
            ):
                raise TraceError(
                    f"compile: the step replaced the values of a tensor of shape "
                    f"{e.tensor.shape} other than by optimizer.step() (p.data = ..., p -= ..., "
                    "apply_max_norm); a replay would not repeat that. Use an optimizer, or do "
                    "it after calling the compiled step."
                )
        if result is None:
            outputs: Any = None
        elif isinstance(result, Tensor):
            outputs = plain(result._data)
        elif isinstance(result, (tuple, list)) and all(isinstance(t, Tensor) for t in result):
            outputs = (type(result), [plain(t._data) for t in result])
        else:
            raise TraceError(
                f"compile: the step returned a {type(result).__name__}; expected None, a "
                "Tensor, or a tuple or list of Tensors."
            )
        returned = (
            [] if outputs is None else [outputs] if isinstance(outputs, np.ndarray) else outputs[1]
        )
        outside = [e.buffer for e in self.externals.values()]
        outside += [e.next for e in self.externals.values() if e.next is not None]
        read_after = [*self.views.values(), *returned]
        self.recorded_calls = len(self.entries)
        self.entries = optimize(self.entries, self.buffers, outside, read_after)
        after = self.share_memory(outside, read_after)
        self.views = dict(zip(self.views, after))
        returned = after[len(self.views) :]
        if outputs is not None:
            outputs = returned[0] if isinstance(outputs, np.ndarray) else (outputs[0], returned)
        self.restore(keep=True)
        return outputs

    def restore(self, keep: bool) -> None:
        """``keep`` (the recording succeeded): tensors from outside hold plain arrays again,
        read-only views of the trace's buffers. Else everything is as before the call."""
        if not keep:
            for tensor, data, grad in self.originals.values():
                tensor._data, tensor.grad = data, grad
            for saved in self.optimizer_states.values():
                set_optimizer_state(saved)
            for rng, state in self.generator_states.values():
                set_random_state(rng, state)
            for module, attributes in self.module_states.values():
                vars(module).clear()
                vars(module).update(attributes)
            return
        for e in self.externals.values():
            if id(e.tensor) in self.input_ids:
                e.tensor._data = self.originals[id(e.tensor)][1]
            elif getattr(e.tensor, e.name) is e.current:
                setattr(e.tensor, e.name, e.view if e.current is e.traced else e.next_view)
        for tensor, _, _ in self.originals.values():
            if isinstance(tensor.grad, Traced):
                tensor.grad = self.views.get(id(tensor.grad))

"""What a run of ``train`` is made of, saved whole in its checkpoint, and ``train --resume``.

A run is its settings (``Settings``: the network, the penalty and λ, dropout, the optimizer
and learning rate, the iteration target, the batch size, the seed, validation and max-norm),
the updates made so far, the optimizer's state and the states of its two random streams (the
dropout masks and the batch order, ``data/generators.py``). ``train`` saves all of it in
``model.npz``; ``train --resume`` reads it back, checks every value, and continues the same run,
up to the same target: bit for bit the run that was never stopped.

An option given with ``--resume`` replaces the saved value and is reported as a change; the
ones that would make it another run (the network, the optimizer whose state is saved, the seed,
the validation split) are refused, in one line, before anything is trained.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from ..data.generators import generator_state, set_generator_state
from ..data.loader import DataLoader
from ..nn.modules import ACTIVATIONS, MLP
from ..nn.regularizers import PENALTIES
from ..optim import SGD, Adam, AdamW, Optimizer
from ..tensor import Tensor
from ..testing.reference import layer_dims_of
from ..train.checkpoint import Checkpoint
from ..train.early_stopping import split_validation
from .options import UsageError, restore_checkpoint

OPTIMIZERS: dict[str, tuple[Callable[..., Optimizer], float]] = {
    # name: (class, default learning rate)
    "sgd": (SGD, 0.3),  # the course's gradient descent
    "adam": (Adam, 0.01),
    "adamw": (AdamW, 0.01),
}
DEFAULT_LAMBDA = 0.7


@dataclass
class Settings:
    """The settings of a run: the options of ``train`` that shape its training, as ``fit``
    takes them (``lambd``: 0 without a penalty, one λ, or a pair (λ1, λ2) for elastic)."""

    layers: list[int]
    hidden: str
    penalty: str
    lambd: Any
    keep_prob: float
    optimizer: str
    lr: float
    iterations: int
    batch_size: int | None
    seed: int
    validation_split: float | None
    patience: int | None
    max_norm: float | None
    course_masks: bool


#: Without --resume, an option left out takes this value (lr: the optimizer's default).
DEFAULTS: dict[str, Any] = {
    "layers": [20, 3],
    "hidden": "relu",
    "penalty": "none",
    "keep_prob": 1.0,
    "optimizer": "sgd",
    "iterations": 10_000,
    "batch_size": None,
    "seed": 3,
    "validation_split": None,
    "patience": None,
    "max_norm": None,
    "course_masks": False,
}

#: With --resume these cannot change: why, for the one-line refusal.
KEPT = {
    "layers": "its parameters are those of that network",
    "hidden": "its parameters were trained with that activation",
    "optimizer": "its saved state is that optimizer's",
    "seed": "the seed drew its initial weights and its validation split",
    "validation_split": "other examples would be held out, some of them trained on",
    "course_masks": "its dropout masks follow that schedule",
}


def option(name: str) -> str:
    return "--" + name.replace("_", "-")


def new_settings(args: argparse.Namespace) -> Settings:
    """A new run's settings: the options given, the defaults for the others."""
    values = {name: getattr(args, name) for name in DEFAULTS}
    values = {name: DEFAULTS[name] if value is None else value for name, value in values.items()}
    values["lambd"] = penalty_strength(values["penalty"], args.lambd, None)
    values["lr"] = OPTIMIZERS[values["optimizer"]][1] if args.lr is None else args.lr
    return Settings(**values)


def resumed_settings(
    checkpoint: Checkpoint, args: argparse.Namespace
) -> tuple[Settings, int, list[str]]:
    """(the settings, the updates already made, the changes the options make, in words): the
    checkpoint's run with the options given on top, each checked."""
    saved, done = saved_run(checkpoint)
    values, changes = asdict(saved), []
    for name in [f.name for f in fields(Settings) if f.name != "lambd"]:
        given = getattr(args, name)
        if given is None or given == values[name]:
            continue
        if name in KEPT:
            raise UsageError(
                f"{option(name)} {_shown(given)}: the run in {checkpoint.path} has "
                f"{option(name)} {_shown(values[name])} and a resumed run keeps it ({KEPT[name]}); "
                "leave the option out, or start a new run without --resume"
            )
        changes.append(f"{option(name)} {_shown(values[name])} → {_shown(given)}")
        values[name] = given
    lambd = penalty_strength(values["penalty"], args.lambd, saved)
    if _strength(lambd) != _strength(saved.lambd):
        changes.append(f"--lambd {_shown(saved.lambd)} → {_shown(lambd)}")
    values["lambd"] = lambd
    if values["iterations"] <= done:
        if args.iterations is None:
            raise UsageError(
                f"--resume {checkpoint.path}: its run is complete ({done} of {done} iterations); "
                f"give --iterations N, the new total, with N > {done}"
            )
        raise UsageError(
            f"--iterations {values['iterations']}: the run in {checkpoint.path} has already made "
            f"{done} updates; expected its new total, more than {done}"
        )
    return Settings(**values), done, changes


def penalty_strength(penalty: str, given: tuple[float, ...] | None, saved: Settings | None) -> Any:
    """λ for fit: 0 without a penalty, one number, or a pair (λ1, λ2) for elastic; from
    --lambd, else from the resumed run (if it had a penalty), else the default."""
    if penalty == "none":
        if given is not None and any(given):
            raise UsageError("--lambd needs a penalty: add --penalty l2 (or l1, elastic)")
        return 0.0
    strength = (DEFAULT_LAMBDA,)
    if given is not None:
        strength = given
    elif saved is not None and saved.penalty != "none":
        strength = _strength(saved.lambd)
    if len(strength) == 2 and penalty != "elastic":
        if given is None:
            raise UsageError(
                f"--penalty {penalty}: the resumed run's λ is a pair {_shown(saved.lambd)}, "  # type: ignore[union-attr]
                "for elastic; give --lambd too"
            )
        raise UsageError(f"--lambd {_shown(given)}: a pair is only for elastic")
    return strength if len(strength) == 2 else strength[0]


def _strength(lambd: Any) -> tuple[float, ...]:
    return tuple(lambd) if isinstance(lambd, (tuple, list)) else (float(lambd),)


def _shown(value: Any) -> str:
    """A setting as the command line writes it."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(map(_shown, value)) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- reading a checkpoint's run, every value checked ----------------------------------------


def _integer(low: int, high: float = math.inf) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v < high


def _real(test: Callable[[float], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and test(v)


def _optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or test(v)


def _one_of(names: Any) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in names


_lambda = _real(lambda x: 0 <= x < math.inf)
_size = _integer(1)

#: metadata key: (the test its value must pass, what was expected).
METADATA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "layer_dims": (
        lambda v: isinstance(v, list) and len(v) >= 2 and all(map(_size, v)),
        "a list of at least two layer sizes, integers >= 1",
    ),
    "hidden": (_one_of(ACTIVATIONS), f"one of {list(ACTIVATIONS)}"),
    "penalty": (_one_of(PENALTIES), f"one of {list(PENALTIES)}"),
    "lambd": (
        lambda v: _lambda(v) or (isinstance(v, list) and len(v) == 2 and all(map(_lambda, v))),
        "a number >= 0, or a pair of them",
    ),
    "keep_prob": (_real(lambda p: 0 < p <= 1), "a number in (0, 1]"),
    "optimizer": (_one_of(OPTIMIZERS), f"one of {list(OPTIMIZERS)}"),
    "lr": (_real(lambda x: 0 < x < math.inf), "a number > 0"),
    "iterations": (_size, "an integer >= 1"),
    "iterations_done": (_integer(0), "an integer >= 0"),
    "batch_size": (_optional(_size), "null or an integer >= 1"),
    "seed": (_integer(0, 2**32), "an integer from 0 to 2**32 - 1"),
    "validation_split": (_optional(_real(lambda f: 0 < f < 1)), "null or a fraction in (0, 1)"),
    "patience": (_optional(_size), "null or an integer >= 1"),
    "max_norm": (_optional(_real(lambda x: 0 < x < math.inf)), "null or a number > 0"),
    "course_masks": (lambda v: isinstance(v, bool), "true or false"),
    "generators": (
        lambda v: isinstance(v, dict) and set(v) == {"dropout", "batch_order"},
        "a dict with the states of 'dropout' and 'batch_order'",
    ),
}


def checked_metadata(checkpoint: Checkpoint, key: str) -> Any:
    """``checkpoint.metadata[key]``, checked against ``METADATA``; a UsageError otherwise."""
    meta = checkpoint.metadata
    if key not in meta:
        if key == "layer_dims":
            raise UsageError(f"{checkpoint.path}: not a checkpoint of train (no layer_dims)")
        whole_run = key not in ("layer_dims", "hidden")
        raise UsageError(
            f"{checkpoint.path}: the checkpoint holds no {key} (saved by an older tinygrad_reg?)"
            + (
                "; without the whole run it cannot be resumed (predict reads it)"
                if whole_run
                else ""
            )
        )
    test, expected = METADATA[key]
    if not test(meta[key]):
        raise UsageError(
            f"{checkpoint.path}: its metadata has {key} = {_shown_value(meta[key])}; expected "
            f"{expected} (is it a checkpoint of train, unedited?)"
        )
    return meta[key]


def saved_network(checkpoint: Checkpoint) -> tuple[list[int], str]:
    """The layer sizes and hidden activation of a checkpoint of train, checked (the sizes
    against its parameters' shapes, before any network is built from them)."""
    layer_dims = checked_metadata(checkpoint, "layer_dims")
    try:
        shapes = layer_dims_of(checkpoint.parameters, checkpoint.path)
    except ValueError as error:
        raise UsageError(f"not a checkpoint of train: {error}".rstrip(".")) from None
    if layer_dims != shapes:
        shown = _shown_value(layer_dims)
        raise UsageError(
            f"{checkpoint.path}: its metadata has layer_dims = {shown}, but its parameters are "
            f"those of {shapes} (is it a checkpoint of train, unedited?)"
        )
    return layer_dims, checked_metadata(checkpoint, "hidden")


def _shown_value(value: Any) -> str:
    """repr, cut to 60 characters."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def saved_run(checkpoint: Checkpoint) -> tuple[Settings, int]:
    """(the run's settings, the updates it made), read from the checkpoint, each checked."""
    layer_dims, hidden = saved_network(checkpoint)
    values = {f.name: None for f in fields(Settings)}
    values["course_masks"] = False  # a checkpoint from before --course-masks: fresh masks
    for name in values.keys() - {"layers", "hidden"}:
        if name in checkpoint.metadata or name != "course_masks":
            values[name] = checked_metadata(checkpoint, name)
    values.update(layers=layer_dims[1:-1], hidden=hidden)
    if isinstance(values["lambd"], list):  # JSON's pair
        values["lambd"] = tuple(values["lambd"])
    done = checked_metadata(checkpoint, "iterations_done")
    checked_metadata(checkpoint, "generators")
    if done > values["iterations"]:  # type: ignore[operator]
        raise UsageError(
            f"{checkpoint.path}: its metadata says {done} iterations done of "
            f"{values['iterations']}; expected at most the total (is it a checkpoint of train, "
            "unedited?)"
        )
    return Settings(**values), done  # type: ignore[arg-type]


# --- the data against the run ---------------------------------------------------------------


def check_labels(Y: np.ndarray, outputs: int, where: str, model: str) -> None:
    """Refuse labels the model's ``outputs`` cannot learn or score: more classes than outputs,
    or one-hot columns of another width."""
    if Y.shape[0] > 1:
        if Y.shape[0] != outputs:
            raise UsageError(
                f"{where}: one-hot labels for {Y.shape[0]} classes, but {model} has {outputs} "
                "output(s); expected one column entry per output"
            )
        return
    largest = int(Y.max())
    allowed = 1 if outputs == 1 else outputs - 1
    if largest > allowed:
        kind = "0/1 labels (one output)" if outputs == 1 else f"classes 0 to {outputs - 1}"
        raise UsageError(
            f"{where}: labels up to {largest} ({largest + 1} classes), but {model} is for "
            f"{kind}; expected data with the classes it is trained on"
        )


def training_examples(X: np.ndarray, Y: np.ndarray, settings: Settings) -> int:
    """The examples ``fit`` trains on: all of X, less the validation split."""
    if settings.validation_split is None:
        return X.shape[1]
    try:
        train_X, *_ = split_validation(Tensor(X), Tensor(Y), settings.validation_split, 0)
    except ValueError as error:
        raise UsageError(f"--validation-split {settings.validation_split:g}: {error}") from None
    return train_X.shape[1]


# --- restoring and saving the run -----------------------------------------------------------


def restore_run(
    checkpoint: Checkpoint, model: MLP, optimizer: Optimizer, settings: Settings, m: int
) -> dict[str, Any]:
    """Put the saved run into ``model`` and ``optimizer`` (parameters, optimizer state with the
    settings' learning rate, the dropout stream) and return the batch order to continue from;
    everything is checked first."""
    generators = checkpoint.metadata["generators"]
    where = f"--resume {checkpoint.path}"
    try:
        set_generator_state(np.random.RandomState(0), generators["dropout"], where)
        examples = DataLoader(np.empty((0, m)), np.empty((1, m)), seed=settings.seed)
        examples.load_state_dict(generators["batch_order"], where)  # m examples, no features
    except ValueError as error:
        raise UsageError(str(error).rstrip(".")) from None
    restore_checkpoint(checkpoint, model, optimizer)
    optimizer.lr = settings.lr  # type: ignore[attr-defined]  # the state brought the saved one
    set_generator_state(model.rng, generators["dropout"], where)
    return generators["batch_order"]


def run_metadata(
    settings: Settings, model: MLP, done: int, batch_order: dict[str, Any] | None
) -> dict[str, Any]:
    """What the checkpoint says about the run: its settings, the updates made and the states
    of its random streams (with the parameters and the optimizer's state, the whole run)."""
    values = asdict(settings)
    if isinstance(values["lambd"], tuple):
        values["lambd"] = list(values["lambd"])
    return {
        **values,
        "layer_dims": model.layer_dims,
        "iterations_done": done,
        "generators": {"dropout": generator_state(model.rng), "batch_order": batch_order},
    }

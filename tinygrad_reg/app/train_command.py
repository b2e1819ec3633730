"""``python -m tinygrad_reg train``: the course network on your data, saved as a checkpoint.

The options, then ``run``: read the data (``--data`` or ``--dataset``), build the network (or
take it from ``--resume``), train it with ``fit``, report accuracies and cost, save
``model.npz`` and the plots into a folder of its own.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data import datasets
from ..nn.modules import ACTIVATIONS, MLP
from ..nn.regularizers import PENALTIES, ZERO_THRESHOLD, near_zero_fraction, weights_of
from ..optim import SGD, Adam, AdamW, Optimizer
from ..train.callbacks import DivergenceWarning
from ..train.checkpoint import Checkpoint, save
from ..train.evaluate import accuracy, outputs_for_labels
from ..train.loop import fit
from . import demo, memory, plots
from .options import (
    Command,
    UsageError,
    add_data_file_arguments,
    fraction,
    hidden_sizes,
    lambdas,
    make_folder,
    positive_float,
    positive_int,
    probability,
    program_name,
    read_checkpoint,
    read_data,
    restore_checkpoint,
    seed_int,
)

TRAIN_EPILOG = """data files:
  .npz  arrays X and Y, saved with np.savez("data.npz", X=X, Y=Y), or the course's train_X,
        train_Y, test_X, test_Y (the test arrays are then the test set), or any two arrays
        named with --x-key and --y-key; default layout features-first: X (n_features, m) and
        Y (1, m), as in the course.
  .mat  the course's data.mat: X, y and the test set Xval, yval; default layout
        examples-first (one row per example). Needs scipy: pip install "tinygrad_reg[mat]".
  .csv  numbers, with an optional header row; default layout examples-first: one row per
        example, its label (0 or 1) in the last column.

examples:
  %(prog)s --data points.csv --penalty l2 --lambd 0.7
  %(prog)s --data train.npz --test-data test.npz --layers 20,3 --keep-prob 0.86
  %(prog)s --dataset moons --optimizer adam --iterations 3000
  %(prog)s --data X.csv --layout features-first --penalty elastic --lambd 0.1,0.7
  %(prog)s --data football.npz --out runs/l2 --penalty l2
  %(prog)s --data football.npz --resume runs/l2/model.npz --out runs/l2_more

Each run writes model.npz and its plots into a folder of its own (default: the next free
tinygrad_reg_runs/run-N); an existing model.npz is only replaced with --force. Ctrl-C stops
after the current step and saves the model trained so far.

Read the checkpoint back in Python:
  ckpt = tinygrad_reg.load("tinygrad_reg_runs/run-1/model.npz")
  model = tinygrad_reg.nn.MLP(ckpt.metadata["layer_dims"], hidden=ckpt.metadata["hidden"])
  ckpt.restore(model)
or predict with it:  tinygrad-reg predict --model tinygrad_reg_runs/run-1/model.npz --data FILE
"""

RUNS_FOLDER = "tinygrad_reg_runs"

OPTIMIZERS: dict[str, tuple[Callable[..., Optimizer], float]] = {
    # name: (class, default learning rate)
    "sgd": (SGD, 0.3),  # the course's gradient descent
    "adam": (Adam, 0.01),
    "adamw": (AdamW, 0.01),
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE", help="training data: a .npz, .mat or .csv file")
    source.add_argument("--dataset", choices=datasets.names(), help="or a built-in dataset")
    parser.add_argument(
        "--test-data",
        metavar="FILE",
        help="test data, in the same format (default: the test split of --data, if it has one)",
    )
    add_data_file_arguments(parser)
    parser.add_argument(
        "--layers",
        type=hidden_sizes,
        default=[20, 3],
        metavar="SIZES",
        help="hidden layer sizes (default 20,3), or none (logistic regression); the input and "
        "output sizes come from the data",
    )
    parser.add_argument(
        "--hidden",
        choices=list(ACTIVATIONS),
        default="relu",
        help="activation of the hidden layers (default relu)",
    )
    parser.add_argument(
        "--penalty", choices=PENALTIES, default="none", help="on the weights (default none)"
    )
    parser.add_argument(
        "--lambd",
        type=lambdas,
        metavar="λ",
        help="penalty strength (default 0.7); λ1,λ2 for elastic",
    )
    parser.add_argument(
        "--keep-prob",
        type=probability,
        default=1.0,
        metavar="P",
        help="dropout: keep each hidden unit with probability P (default 1: no dropout)",
    )
    parser.add_argument(
        "--optimizer",
        choices=list(OPTIMIZERS),
        help="(default sgd, or the one of the --resume checkpoint)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate (default 0.3 for sgd, 0.01 for adam and adamw)",
    )
    parser.add_argument(
        "--iterations", type=positive_int, default=10_000, metavar="N", help="(default 10000)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="B",
        help="examples per step (default: all of them, as the course)",
    )
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=3,
        help="for the initial weights, dropout masks and shuffling (default 3)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"folder for model.npz and the PNGs (default: a new {RUNS_FOLDER}/run-N)",
    )
    parser.add_argument("--force", action="store_true", help="replace a model.npz already in --out")
    parser.add_argument(
        "--resume",
        metavar="MODEL",
        help="go on from a checkpoint of train (its network, parameters and optimizer state)",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    add_early_stopping_arguments(parser)


def add_early_stopping_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--validation-split",
        type=fraction,
        metavar="F",
        help="hold out a random fraction F of the training examples (e.g. 0.2) and record the "
        "validation cost and accuracy",
    )
    parser.add_argument(
        "--patience",
        type=positive_int,
        metavar="N",
        help="early stopping: stop after N checks of the validation cost without improvement "
        "(a check every iterations/200) and keep the best parameters; needs --validation-split",
    )
    parser.add_argument(
        "--max-norm",
        type=positive_float,
        metavar="C",
        help="after each step, scale each unit's incoming weights (a row of W) to norm <= C",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="record the training step once and replay it (tinygrad_reg.compile): same "
        "results to the last bit, less Python per step",
    )


def _early_stopping_settings(args: argparse.Namespace, log_every: int) -> dict[str, Any]:
    """fit's validation_split, early_stopping and max_norm from the options."""
    if args.patience is not None and args.validation_split is None:
        raise UsageError("--patience needs a validation set: add --validation-split 0.2")
    if args.patience is not None:
        print(
            f"early stopping: validation checked every {log_every} iterations, patience "
            f"{args.patience} checks",
            flush=True,
        )
    return {
        "validation_split": args.validation_split,
        "early_stopping": args.patience,
        "max_norm": args.max_norm,
    }


def _training_data(args: argparse.Namespace) -> tuple[str, np.ndarray, np.ndarray, Any]:
    """(description, X, Y, (test_X, test_Y) or None), all in the course layout."""
    if args.dataset is not None:
        data = datasets.load(args.dataset)
        return f"the {data.name!r} dataset", data.train_X, data.train_Y, (data.test_X, data.test_Y)
    data = read_data(args.data, args)
    X, Y = data.train_X, data.train_Y
    test = None if data.test_X is None else (data.test_X, data.test_Y)
    if test is not None and args.test_data is not None:
        raise UsageError(
            f"{args.data} has its own test split; leave out --test-data (or save the training "
            "arrays alone)"
        )
    if args.test_data is not None:
        test_data = read_data(args.test_data, args)
        test = (test_data.train_X, test_data.train_Y)
        if test[0].shape[0] != X.shape[0]:
            raise UsageError(
                f"{args.test_data}: {test[0].shape[0]} features per example, but {args.data} "
                f"has {X.shape[0]}; expected the same features in both"
            )
    return args.data, X, Y, test


def _penalty_strength(args: argparse.Namespace) -> Any:
    """λ for fit: 0 without a penalty, one number, or a pair (λ1, λ2) for elastic."""
    if args.penalty == "none":
        if args.lambd is not None and any(args.lambd):
            raise UsageError("--lambd needs a penalty: add --penalty l2 (or l1, elastic)")
        return 0.0
    strength: tuple[float, ...] = (0.7,) if args.lambd is None else args.lambd
    if len(strength) == 2 and args.penalty != "elastic":
        raise UsageError(f"--lambd {strength[0]},{strength[-1]}: a pair is only for elastic")
    return strength if len(strength) == 2 else strength[0]


def run_train(args: argparse.Namespace) -> int:
    file_options = args.test_data or args.layout or args.x_key or args.y_key
    if args.dataset is not None and file_options:
        raise UsageError("--test-data, --layout, --x-key and --y-key go with --data, not --dataset")
    lambd = _penalty_strength(args)
    source, X, Y, test = _training_data(args)
    if args.batch_size is not None and args.batch_size > X.shape[1]:
        raise UsageError(f"--batch-size {args.batch_size} is more than the {X.shape[1]} examples")
    resumed = read_checkpoint(args.resume) if args.resume else None
    out = _run_folder(args.out, args.force)

    layer_dims = [X.shape[0], *args.layers, outputs_for_labels(Y)]  # K classes: K outputs
    hidden = args.hidden
    args.optimizer = args.optimizer or "sgd"
    if resumed is not None:
        layer_dims, hidden = _resumed_network(resumed, args, X.shape[0])
    _check_memory(layer_dims, X.shape[1], args)
    model = MLP(layer_dims, hidden=hidden, seed=args.seed, keep_prob=args.keep_prob)
    optimizer_class, default_lr = OPTIMIZERS[args.optimizer]
    lr = default_lr if args.lr is None else args.lr
    optimizer = optimizer_class(model.parameters(), lr=lr)
    done_before = 0
    if resumed is not None:
        restore_checkpoint(resumed, model, optimizer)
        done_before = int(resumed.metadata.get("iterations_done", 0))
        print(f"Resuming from {resumed.path} after {done_before} iterations")
    if not layer_dims[1:-1]:
        print("No hidden layer: logistic regression")
    if layer_dims[-1] > 1:
        print(f"{layer_dims[-1]} classes: one output each, softmax cross-entropy")
    print(
        f"Training {layer_dims} on {source}: {X.shape[1]} examples, {X.shape[0]} features; "
        f"{hidden} hidden units, {args.optimizer} lr {lr:g}, penalty {args.penalty}"
        + (f" λ {lambd}" if args.penalty != "none" else "")
        + (f", keep_prob {args.keep_prob:g}" if args.keep_prob < 1 else "")
        + f", {args.iterations} iterations",
        flush=True,
    )
    log_every = max(1, args.iterations // 200)
    validation = _early_stopping_settings(args, log_every)
    test_curve = demo.TestCost(model, test)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DivergenceWarning)
            history = fit(
                model,
                X,
                Y,
                penalty=args.penalty,
                lambd=lambd,
                optimizer=optimizer,
                iterations=args.iterations,
                batch_size=args.batch_size,
                seed=args.seed,
                log_every=log_every,
                callback=lambda i, cost: test_curve.record(i),
                interruptible=True,
                compiled=args.compile,
                **validation,
            )
    except FloatingPointError as error:  # the cost became NaN or inf
        print(f"{program_name()} train: error: {error}", file=sys.stderr)
        return 1
    for warning in caught:
        print(f"{program_name()} train: warning: {warning.message}", file=sys.stderr)
    print(f"trained in {history.wall_time:.1f} s", file=sys.stderr)
    if history.val_costs:
        _report_validation(history)
    # With restored parameters, the cost that goes with them is the best iteration's.
    final = history.iterations.index(history.best_iteration) if history.restored else -1
    results = _evaluate(model, X, Y, test, history.costs[final])

    settings = {k: v for k, v in vars(args).items() if k not in ("command", "run", "no_plots")}
    metadata = {
        **settings,
        "layer_dims": layer_dims,
        "hidden": hidden,
        "lr": lr,
        "lambd": lambd,
        "iterations_done": done_before + history.steps,
        **results,
    }
    status = 0
    try:
        checkpoint = save(out / "model.npz", model, optimizer, metadata=metadata)
    except OSError as error:  # --out went away or filled up during training: keep the model
        out, status = demo.fallback_folder(out, error, sys.stderr), 1
        checkpoint = save(out / "model.npz", model, optimizer, metadata=metadata)
    if history.interrupted:
        print(
            f"Interrupted (Ctrl-C) after {history.steps} of {args.iterations} iterations; the "
            f"model trained so far is saved in {checkpoint} (go on with --resume {checkpoint})",
            file=sys.stderr,
        )
        return 130
    print(f"checkpoint     {checkpoint}")
    if not args.no_plots:
        settings_text = _settings_text(args, hidden, lr, lambd)
        _train_plots(model, X, Y, history, test_curve, results, out, source, settings_text)
    return status


def _settings_text(args: argparse.Namespace, hidden: str, lr: float, lambd: Any) -> str:
    """The run's settings in one line, for plot titles."""
    text = f"{args.optimizer} lr {lr:g}, {hidden}, penalty {args.penalty}"
    if args.penalty != "none":
        text += f" λ {lambd}"
    if args.keep_prob < 1:
        text += f", keep_prob {args.keep_prob:g}"
    return text + (f", batch {args.batch_size}" if args.batch_size else "")


def _resumed_network(
    checkpoint: Checkpoint, args: argparse.Namespace, n_features: int
) -> tuple[list[int], str]:
    """The layer sizes and hidden activation saved in a checkpoint of train, checked."""
    meta = checkpoint.metadata
    if "layer_dims" not in meta:
        raise UsageError(f"{checkpoint.path}: not a checkpoint of train (no layer_dims)")
    layer_dims, hidden = list(meta["layer_dims"]), str(meta.get("hidden", "relu"))
    if layer_dims[0] != n_features:
        raise UsageError(
            f"--resume {checkpoint.path}: the model takes {layer_dims[0]} features, but the "
            f"data has {n_features}"
        )
    saved_optimizer = meta.get("optimizer", "sgd")
    if args.optimizer != saved_optimizer:
        raise UsageError(
            f"--resume {checkpoint.path}: trained with --optimizer {saved_optimizer}, not "
            f"{args.optimizer}; its optimizer state only fits {saved_optimizer}"
        )
    return layer_dims, hidden


def _run_folder(out: str | None, force: bool) -> Path:
    """--out, checked (an existing model.npz needs --force), or the next free run-N."""
    if out is None:
        n = 1
        while (Path(RUNS_FOLDER) / f"run-{n}").exists():
            n += 1
        folder = Path(RUNS_FOLDER) / f"run-{n}"
    else:
        folder = Path(out)
    make_folder(folder)
    if (folder / "model.npz").exists() and not force:
        raise UsageError(
            f"--out {folder}: it already holds a model.npz; pass --force to replace it, or "
            "choose another folder"
        )
    return folder


def _report_validation(history: Any) -> None:
    best = history.iterations.index(history.best_iteration)
    if history.stopped_early:
        print(f"stopped early  at iteration {history.iterations[-1]} ({history.steps} updates)")
    kept = "restored" if history.restored else "the best"
    print(
        f"validation     cost {history.val_costs[best]:.4f}, accuracy "
        f"{history.val_accuracies[best]:.1%} at iteration {history.best_iteration} ({kept}); "
        f"accuracy on the rest {history.accuracies[best]:.1%}"
    )


def _evaluate(model: MLP, X: np.ndarray, Y: np.ndarray, test: Any, cost: float) -> dict:
    """Accuracies, final cost and the fraction of weights ~0: printed, and returned."""
    results = {"train_accuracy": accuracy(model, X, Y)}
    print(f"train accuracy {results['train_accuracy']:.1%}")
    if test is not None:
        results["test_accuracy"] = accuracy(model, *test)
        print(f"test accuracy  {results['test_accuracy']:.1%}")
    results["final_cost"] = cost
    print(f"final cost     {cost:.4f}")
    near_zero = near_zero_fraction(model)
    results["weights_near_zero"] = near_zero
    print(f"weights with |w| < {ZERO_THRESHOLD:g}: {near_zero:.0%}")
    return results


def _check_memory(layer_dims: list[int], m: int, args: argparse.Namespace) -> None:
    """Refuse, before allocating anything, a network that cannot fit in this machine's memory."""
    available = memory.physical_memory()
    batch = m if args.batch_size is None else args.batch_size
    slots = 0 if args.optimizer == "sgd" else 2  # Adam's two moments per parameter
    needed = memory.training_bytes(layer_dims, m, batch, slots)
    if available is not None and needed > available:
        raise UsageError(
            f"--layers {','.join(map(str, args.layers))}: training {layer_dims} on {m} examples "
            f"needs about {memory.human(needed)} of memory "
            f"({memory.parameter_count(layer_dims):,} parameters), more than this machine's "
            f"{memory.human(available)}; use smaller layers or a smaller --batch-size"
        )


def _train_plots(
    model: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    history: Any,
    test_curve: demo.TestCost,
    results: dict,
    out: Path,
    source: str,
    settings: str,
) -> None:
    if not plots.available():
        print(f"For the plots, install matplotlib: {plots.INSTALL_HINT}")
        return
    curves = {"training": (history.iterations, history.costs)}
    tests = {"training": (test_curve.iterations, test_curve.costs)} if test_curve.costs else {}
    title = f"Cost during training on {source}\n{settings}"
    written = [plots.cost_curves(out / "cost.png", curves, title=title, test_curves=tests)]
    if X.shape[0] != 2:
        print(
            f"(no decision_boundary.png: it is drawn in the plane, for 2 features; the data has "
            f"{X.shape[0]})"
        )
    else:
        scores = f"train {results['train_accuracy']:.1%}"
        if "test_accuracy" in results:
            scores += f", test {results['test_accuracy']:.1%}"
        panel = plots.Panel(scores, model)
        path = out / "decision_boundary.png"
        title = f"Decision boundary, {source}\n{settings}"
        written.append(plots.decision_boundaries(path, [panel], X, Y, title=title))
    weights = {"all weight matrices": weights_of(model)}
    written.append(plots.weight_histograms(out / "weights.png", weights, ZERO_THRESHOLD))
    print("plots          " + "\n               ".join(written))


COMMAND = Command(
    "train",
    "train the course network on your data and save it",
    "Train the course network (LINEAR→RELU ... LINEAR→SIGMOID) on a .npz or .csv file, "
    "print its accuracy\nand cost, save a checkpoint (model.npz) and plots in --out.",
    TRAIN_EPILOG,
    add_train_arguments,
    run_train,
)

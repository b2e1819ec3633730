"""``python -m tinygrad_reg train``: the course network on your data, saved as a checkpoint.

The options, then ``run``: read the data (``--data`` or ``--dataset``), build the network (or
take it from ``--resume``), train it with ``fit``, report accuracies and cost, save
``model.npz`` and the plots into a folder of its own.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..data import datasets
from ..nn.modules import ACTIVATIONS, MLP
from ..nn.regularizers import PENALTIES, ZERO_THRESHOLD, near_zero_fraction, weights_of
from ..train.callbacks import DeferInterrupt, DivergenceWarning, StopOnInterrupt
from ..train.checkpoint import Checkpoint, save
from ..train.evaluate import accuracy, outputs_for_labels
from ..train.loop import fit
from . import demo, memory, plots, resume
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
  %(prog)s --data football.npz --resume runs/l2/model.npz --iterations 20000 --out runs/l2_20k

Each run writes model.npz and its plots into a folder of its own (default: the next free
tinygrad_reg_runs/run-N); an existing model.npz is only replaced with --force. Ctrl-C stops
after the current step and saves the model trained so far, saying which iteration it holds.

--resume continues the saved run: the same network, settings, optimizer state, dropout masks
and batch order, up to the same total of iterations, exactly as if it had never stopped. An
option given replaces the saved value (said in a line "changed: ..."); --layers, --hidden,
--optimizer, --seed and --validation-split cannot change in a resumed run.

Read the checkpoint back in Python:
  ckpt = tinygrad_reg.load("tinygrad_reg_runs/run-1/model.npz")
  model = tinygrad_reg.nn.MLP(ckpt.metadata["layer_dims"], hidden=ckpt.metadata["hidden"])
  ckpt.restore(model)
or predict with it:  tinygrad-reg predict --model tinygrad_reg_runs/run-1/model.npz --data FILE
"""

RUNS_FOLDER = "tinygrad_reg_runs"


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
        metavar="SIZES",
        help="hidden layer sizes (default 20,3), or none (logistic regression); the input and "
        "output sizes come from the data",
    )
    parser.add_argument(
        "--hidden",
        choices=list(ACTIVATIONS),
        help="activation of the hidden layers (default relu)",
    )
    parser.add_argument("--penalty", choices=PENALTIES, help="on the weights (default none)")
    parser.add_argument(
        "--lambd",
        type=lambdas,
        metavar="λ",
        help="penalty strength (default 0.7); λ1,λ2 for elastic",
    )
    parser.add_argument(
        "--keep-prob",
        type=probability,
        metavar="P",
        help="dropout: keep each hidden unit with probability P (default 1: no dropout)",
    )
    parser.add_argument(
        "--optimizer",
        choices=list(resume.OPTIMIZERS),
        help="(default sgd, or the one of the --resume checkpoint)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate (default 0.3 for sgd, 0.01 for adam and adamw)",
    )
    parser.add_argument(
        "--iterations",
        type=positive_int,
        metavar="N",
        help="the run's total (default 10000; with --resume the checkpoint's, counting the "
        "iterations it has done)",
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
        help="continue the run of a checkpoint of train: its network, settings, optimizer state "
        "and random streams, up to its total; the options given replace the saved values",
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


def _early_stopping_settings(settings: resume.Settings) -> dict[str, Any]:
    """fit's validation_split, early_stopping and max_norm from the settings."""
    if settings.patience is not None and settings.validation_split is None:
        raise UsageError("--patience needs a validation set: add --validation-split 0.2")
    return {
        "validation_split": settings.validation_split,
        "early_stopping": settings.patience,
        "max_norm": settings.max_norm,
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


def run_train(args: argparse.Namespace) -> int:
    file_options = args.test_data or args.layout or args.x_key or args.y_key
    if args.dataset is not None and file_options:
        raise UsageError("--test-data, --layout, --x-key and --y-key go with --data, not --dataset")
    source, X, Y, test = _training_data(args)
    resumed = read_checkpoint(args.resume) if args.resume else None
    if resumed is None:
        settings, done, changes = resume.new_settings(args), 0, []
        layer_dims = [X.shape[0], *settings.layers, outputs_for_labels(Y)]  # K classes: K outputs
    else:
        settings, done, changes = resume.resumed_settings(resumed, args)
        layer_dims = _resumed_network(resumed, X.shape[0])
    _check_labels(layer_dims[-1], source, Y, test, resumed)
    m = resume.training_examples(X, Y, settings)
    if settings.batch_size is not None and settings.batch_size > m:
        kept = " kept for training (the rest is the validation split)" if m < X.shape[1] else ""
        raise UsageError(f"--batch-size {settings.batch_size} is more than the {m} examples{kept}")
    validation = _early_stopping_settings(settings)
    _check_memory(layer_dims, X.shape[1], settings)
    hidden, keep_prob = settings.hidden, settings.keep_prob
    model = MLP(layer_dims, hidden=hidden, seed=settings.seed, keep_prob=keep_prob)
    optimizer = resume.OPTIMIZERS[settings.optimizer][0](model.parameters(), lr=settings.lr)
    batch_order = None
    if resumed is not None:
        batch_order = resume.restore_run(resumed, model, optimizer, settings, m)
    out = _run_folder(args.out, args.force)  # the last check: nothing is made before it

    if resumed is not None:
        print(f"Resuming {resumed.path} after {done} of {settings.iterations} iterations")
        if changes:
            print("changed: " + "; ".join(changes))
        if settings.validation_split is not None:
            print(
                f"note: the validation record starts anew at iteration {done}: the patience and "
                "the best parameters put back at the end count from here"
            )
    if not layer_dims[1:-1]:
        print("No hidden layer: logistic regression")
    if layer_dims[-1] > 1:
        print(f"{layer_dims[-1]} classes: one output each, softmax cross-entropy")
    print(
        f"Training {layer_dims} on {source}: {X.shape[1]} examples, {X.shape[0]} features; "
        f"{_settings_text(settings)}, {settings.iterations} iterations",
        flush=True,
    )
    log_every = max(1, settings.iterations // 200)
    if settings.patience is not None:
        print(
            f"early stopping: validation checked every {log_every} iterations, patience "
            f"{settings.patience} checks",
            flush=True,
        )
    test_curve = demo.TestCost(model, test)
    # From here until the model is saved, Ctrl-C only asks to stop after the current step.
    with DeferInterrupt() as interrupt:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DivergenceWarning)
                history = fit(
                    model,
                    X,
                    Y,
                    penalty=settings.penalty,
                    lambd=settings.lambd,
                    optimizer=optimizer,
                    iterations=settings.iterations,
                    batch_size=settings.batch_size,
                    seed=settings.seed,
                    log_every=log_every,
                    callback=lambda i, cost: test_curve.record(i),
                    callbacks=[StopOnInterrupt(interrupt)],
                    compiled=args.compile,
                    start_iteration=done,
                    batch_order=batch_order,
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
        done += history.steps
        metadata = {
            **{name: getattr(args, name) for name in FILE_SETTINGS},
            **resume.run_metadata(settings, model, done, history.batch_order),
            **results,
        }
        checkpoint, status = _save(out, model, optimizer, metadata)
    if interrupt.received:
        _report_interrupt(checkpoint, done, settings.iterations)
        return 130
    print(f"checkpoint     {checkpoint}")
    if not args.no_plots:
        try:
            _train_plots(model, X, Y, history, test_curve, results, out, source, settings)
        except KeyboardInterrupt:
            print(
                f"Interrupted (Ctrl-C) while drawing the plots; the model is saved in "
                f"{checkpoint}, with iterations_done {done}",
                file=sys.stderr,
            )
            return 130
    return status


#: Saved in the checkpoint beside the run, to say what it was trained on.
FILE_SETTINGS = ("data", "dataset", "test_data", "layout", "x_key", "y_key", "resume", "compile")


def _save(out: Path, model: MLP, optimizer: Any, metadata: dict) -> tuple[str, int]:
    """Save the checkpoint in ``out``, or (exit status 1) in a fallback folder if ``out`` went
    away or filled up during training: the model is kept."""
    try:
        return save(out / "model.npz", model, optimizer, metadata=metadata), 0
    except OSError as error:
        out = demo.fallback_folder(out, error, sys.stderr)
        return save(out / "model.npz", model, optimizer, metadata=metadata), 1


def _report_interrupt(checkpoint: str, done: int, total: int) -> None:
    if done < total:
        text = (
            f"Interrupted (Ctrl-C) after {done} of {total} iterations; the model trained so far "
            f"is saved in {checkpoint}, with iterations_done {done} (go on with --resume "
            f"{checkpoint})"
        )
    else:
        text = (
            f"Interrupted (Ctrl-C) after the last of the {total} iterations; the trained model "
            f"is saved in {checkpoint}, with iterations_done {done}; no plots were drawn"
        )
    print(text, file=sys.stderr)


def _settings_text(settings: resume.Settings) -> str:
    """The run's settings in one line, for the first line printed and the plot titles."""
    text = f"{settings.hidden} hidden units, {settings.optimizer} lr {settings.lr:g}, "
    text += f"penalty {settings.penalty}"
    if settings.penalty != "none":
        lambd = settings.lambd
        text += f" λ {','.join(map(str, lambd)) if isinstance(lambd, tuple) else lambd}"
    if settings.keep_prob < 1:
        text += f", keep_prob {settings.keep_prob:g}"
    return text + (f", batch {settings.batch_size}" if settings.batch_size else "")


def _resumed_network(checkpoint: Checkpoint, n_features: int) -> list[int]:
    """The layer sizes saved in a checkpoint of train, checked against the data."""
    layer_dims, _ = resume.saved_network(checkpoint)
    if layer_dims[0] != n_features:
        raise UsageError(
            f"--resume {checkpoint.path}: the model takes {layer_dims[0]} features, but the "
            f"data has {n_features}"
        )
    return layer_dims


def _check_labels(
    outputs: int, source: str, Y: np.ndarray, test: Any, resumed: Checkpoint | None
) -> None:
    """The training and test labels fit the network's outputs."""
    model = "the network" if resumed is None else f"the model of {resumed.path}"
    resume.check_labels(Y, outputs, source, model)
    if test is not None:
        where = "the test data" if resumed is not None else f"the test data of {source}"
        resume.check_labels(test[1], outputs, where, model)


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


def _check_memory(layer_dims: list[int], m: int, settings: resume.Settings) -> None:
    """Refuse, before allocating anything, a network that cannot fit in this machine's memory."""
    available = memory.physical_memory()
    batch = m if settings.batch_size is None else settings.batch_size
    slots = 0 if settings.optimizer == "sgd" else 2  # Adam's two moments per parameter
    needed = memory.training_bytes(layer_dims, m, batch, slots)
    if available is not None and needed > available:
        raise UsageError(
            f"--layers {','.join(map(str, settings.layers))}: training {layer_dims} on {m} "
            f"examples needs about {memory.human(needed)} of memory "
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
    run: resume.Settings,
) -> None:
    if not plots.available():
        print(f"For the plots, install matplotlib: {plots.INSTALL_HINT}")
        return
    settings = _settings_text(run)
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

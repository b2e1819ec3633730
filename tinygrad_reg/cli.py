"""The command line: ``python -m tinygrad_reg`` or ``tinygrad-reg``.

Subcommands (``demo`` when none is given):

- ``demo``:  the course network trained four ways on the built-in data, one table (demo.py);
- ``train``: the same network on your own .npz/.csv data, saved as a checkpoint;
- ``check``: autodiff against the hand-written backprop and finite differences (selfcheck.py);
- ``bench``: a training step timed against the same step in hand-written numpy (bench.py);
- ``sweep``: one training per regularization strength, with a table and plots (sweep.py).

Each subcommand is a ``Command``: a name, its help texts, a function adding its arguments and a
function running it (returning the exit code). Adding one is adding a Command to ``COMMANDS``.

Exit codes: 0 success, 1 a failed check or a training that broke down, 2 bad input (an
option's value or a data file), with one message on stderr naming the problem and no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import __version__, bench, datasets, demo, plots, selfcheck, sweep
from .checkpoint import save
from .nn import MLP
from .optim import SGD, Adam, AdamW, Optimizer
from .regularizers import PENALTIES
from .training import accuracy, fit

DEFAULT_OUT = "tinygrad_reg_out"


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


# --- argument types: each turns a string into a value or explains what was expected ------------


def _number(kind: type, test: Callable[[Any], bool], expected: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
        return value

    return parse


positive_int = _number(int, lambda n: n >= 1, "an integer >= 1")
non_negative_int = _number(int, lambda n: n >= 0, "an integer >= 0")
positive_float = _number(float, lambda x: 0 < x < np.inf, "a number > 0")
probability = _number(float, lambda p: 0 < p <= 1, "a number in (0, 1]")
fraction = _number(float, lambda p: 0 < p < 1, "a fraction in (0, 1)")


def hidden_sizes(text: str) -> list[int]:
    """ "20,3" → [20, 3]; "" → [] (no hidden layer: logistic regression)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return [positive_int(part) for part in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of layer sizes >= 1, such as 20,3"
        ) from None


def lambdas(text: str) -> tuple[float, ...]:
    """ "0.7" → (0.7,); "0.1,0.7" → (0.1, 0.7) (elastic net: λ1 for L1, λ2 for L2)."""
    expected = "a number >= 0, or two (λ1,λ2) for --penalty elastic"
    parse = _number(float, lambda x: 0 <= x < np.inf, expected)
    parts = text.split(",")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
    return tuple(parse(part) for part in parts)


# --- demo -------------------------------------------------------------------------------------

DEMO_EPILOG = """examples:
  %(prog)s                              plots in ./tinygrad_reg_out/
  %(prog)s --out /tmp/pics --iterations 30000
  %(prog)s --dataset moons --no-plots
"""


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--iterations",
        type=positive_int,
        default=demo.DEFAULT_ITERATIONS,
        metavar="N",
        help=f"iterations per variant (default {demo.DEFAULT_ITERATIONS})",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help=f"folder for the PNGs ({DEFAULT_OUT})"
    )
    parser.add_argument(
        "--dataset",
        choices=datasets.names(),
        default=datasets.DEFAULT,
        help=f"built-in dataset (default {datasets.DEFAULT})",
    )
    parser.add_argument("--no-plots", action="store_true", help="only print the table")


def run_demo(args: argparse.Namespace) -> int:
    if not args.no_plots and plots.available():
        _make_folder(Path(args.out))  # now, not after a minute of training
    demo.run_demo(args.iterations, args.out, args.dataset, make_plots=not args.no_plots)
    return 0


# --- train ------------------------------------------------------------------------------------

TRAIN_EPILOG = """data files:
  .npz  arrays X and Y, saved with np.savez("data.npz", X=X, Y=Y); default layout
        features-first: X (n_features, m) and Y (1, m), as in the course.
  .csv  numbers, with an optional header row; default layout examples-first: one row per
        example, its label (0 or 1) in the last column.

examples:
  %(prog)s --data points.csv --penalty l2 --lambd 0.7
  %(prog)s --data train.npz --test-data test.npz --layers 20,3 --keep-prob 0.86
  %(prog)s --dataset moons --optimizer adam --iterations 3000
  %(prog)s --data X.csv --layout features-first --penalty elastic --lambd 0.1,0.7

Read the checkpoint back in Python:
  ckpt = tinygrad_reg.load("tinygrad_reg_out/model.npz")
  model = tinygrad_reg.nn.MLP(ckpt.metadata["layer_dims"]); ckpt.restore(model)
"""

OPTIMIZERS: dict[str, tuple[Callable[..., Optimizer], float]] = {
    # name: (class, default learning rate)
    "sgd": (SGD, 0.3),  # the course's gradient descent
    "adam": (Adam, 0.01),
    "adamw": (AdamW, 0.01),
}


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE", help="training data: a .npz or .csv file")
    source.add_argument("--dataset", choices=datasets.names(), help="or a built-in dataset")
    parser.add_argument("--test-data", metavar="FILE", help="test data, in the same format")
    parser.add_argument(
        "--layout",
        choices=datasets.LAYOUTS,
        help="how the files are laid out (default: features-first for .npz, examples-first "
        "for .csv)",
    )
    parser.add_argument(
        "--layers",
        type=hidden_sizes,
        default=[20, 3],
        metavar="SIZES",
        help="hidden layer sizes (default 20,3); the input and output sizes come from the data",
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
        "--optimizer", choices=list(OPTIMIZERS), default="sgd", help="(default sgd)"
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
        type=non_negative_int,
        default=3,
        help="for the initial weights, dropout masks and shuffling (default 3)",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for model.npz and the PNGs (default {DEFAULT_OUT})",
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


def _load(path: str, layout: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        return datasets.load_file(path, layout)  # type: ignore[arg-type]
    except datasets.DataError as error:
        raise UsageError(str(error)) from None


def _training_data(args: argparse.Namespace) -> tuple[str, np.ndarray, np.ndarray, Any]:
    """(description, X, Y, (test_X, test_Y) or None), all in the course layout."""
    if args.dataset is not None:
        data = datasets.load(args.dataset)
        return f"the {data.name!r} dataset", data.train_X, data.train_Y, (data.test_X, data.test_Y)
    X, Y = _load(args.data, args.layout)
    test = None
    if args.test_data is not None:
        test = _load(args.test_data, args.layout)
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
    if args.dataset is not None and (args.test_data or args.layout):
        raise UsageError("--test-data and --layout go with --data, not --dataset")
    lambd = _penalty_strength(args)
    source, X, Y, test = _training_data(args)
    if args.batch_size is not None and args.batch_size > X.shape[1]:
        raise UsageError(f"--batch-size {args.batch_size} is more than the {X.shape[1]} examples")
    out = Path(args.out)
    _make_folder(out)

    layer_dims = [X.shape[0], *args.layers, 1]
    model = MLP(layer_dims, seed=args.seed, keep_prob=args.keep_prob)
    optimizer_class, default_lr = OPTIMIZERS[args.optimizer]
    lr = default_lr if args.lr is None else args.lr
    optimizer = optimizer_class(model.parameters(), lr=lr)
    print(
        f"Training {layer_dims} on {source}: {X.shape[1]} examples, {X.shape[0]} features; "
        f"{args.optimizer} lr {lr:g}, penalty {args.penalty}"
        + (f" λ {lambd}" if args.penalty != "none" else "")
        + (f", keep_prob {args.keep_prob:g}" if args.keep_prob < 1 else "")
        + f", {args.iterations} iterations",
        flush=True,
    )
    log_every = max(1, args.iterations // 200)
    validation = _early_stopping_settings(args, log_every)
    try:
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
            **validation,
        )
    except FloatingPointError as error:  # the cost became NaN or inf
        print(f"{_program_name()} train: error: {error}", file=sys.stderr)
        return 1
    print(f"trained in {history.wall_time:.1f} s", file=sys.stderr)
    if history.val_costs:
        _report_validation(history)
    # With restored parameters, the cost that goes with them is the best iteration's.
    final = history.iterations.index(history.best_iteration) if history.restored else -1
    results = _evaluate(model, X, Y, test, history.costs[final])

    settings = {k: v for k, v in vars(args).items() if k not in ("command", "run", "no_plots")}
    metadata = {**settings, "layer_dims": layer_dims, "lr": lr, "lambd": lambd, **results}
    checkpoint = save(out / "model.npz", model, optimizer, metadata=metadata)
    print(f"checkpoint     {checkpoint}")
    if not args.no_plots:
        _train_plots(model, X, Y, history, results, out, source)
    return 0


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
    near_zero = float(np.mean(np.abs(demo.weights_of(model)) < demo.ZERO_THRESHOLD))
    results["weights_near_zero"] = near_zero
    print(f"weights with |w| < {demo.ZERO_THRESHOLD:g}: {near_zero:.0%}")
    return results


def _make_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out}: this is a file; expected a folder (it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot create the folder ({error.strerror})") from None


def _train_plots(
    model: MLP, X: np.ndarray, Y: np.ndarray, history: Any, results: dict, out: Path, source: str
) -> None:
    if not plots.available():
        print(f"For the plots, install matplotlib: {plots.INSTALL_HINT}")
        return
    curve = {"training": (history.iterations, history.costs)}
    written = [
        plots.cost_curves(out / "cost.png", curve, title=f"Cost during training on {source}")
    ]
    if X.shape[0] == 2:  # a boundary in the plane: only for two features
        scores = f"train {results['train_accuracy']:.1%}"
        if "test_accuracy" in results:
            scores += f", test {results['test_accuracy']:.1%}"
        panel = plots.Panel(scores, model)
        path = out / "decision_boundary.png"
        title = f"Decision boundary, {source}"
        written.append(plots.decision_boundaries(path, [panel], X, Y, title=title))
    weights = {"all weight matrices": demo.weights_of(model)}
    written.append(plots.weight_histograms(out / "weights.png", weights, demo.ZERO_THRESHOLD))
    print("plots          " + "\n               ".join(written))


# --- check ------------------------------------------------------------------------------------

CHECK_EPILOG = (
    f"Passes when every error is below {selfcheck.REFERENCE_TOLERANCE:g} against the reference "
    f"and {selfcheck.FINITE_DIFFERENCE_TOLERANCE:g} against\ncentral differences; exit code 1 "
    "otherwise.\n\nexamples:\n  %(prog)s\n  %(prog)s --networks 20 --seed 7\n"
)


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--networks", type=positive_int, default=8, metavar="N", help="how many (default 8)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="draws the networks (default 0)"
    )


def run_check(args: argparse.Namespace) -> int:
    return 0 if selfcheck.run_check(args.networks, args.seed) else 1


# --- the parser -------------------------------------------------------------------------------


def _plain(docstring: str | None) -> str:
    """A module docstring as help text: without the reStructuredText ``quotes``."""
    return (docstring or "").replace("``", "")


def run_bench(args: argparse.Namespace) -> int:
    try:
        return bench.main(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run_sweep(args: argparse.Namespace) -> int:
    _make_folder(Path(args.out))
    try:
        return sweep.main(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


class Command(NamedTuple):
    name: str
    summary: str  # one line, for the list of subcommands
    description: str
    epilog: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS = [
    Command(
        "demo",
        "the course network with no regularization, L2, L1 and dropout (the default)",
        _plain(demo.__doc__),
        DEMO_EPILOG,
        add_demo_arguments,
        run_demo,
    ),
    Command(
        "train",
        "train the course network on your data and save it",
        "Train the course network (LINEAR→RELU ... LINEAR→SIGMOID) on a .npz or .csv file, "
        "print its accuracy\nand cost, save a checkpoint (model.npz) and plots in --out.",
        TRAIN_EPILOG,
        add_train_arguments,
        run_train,
    ),
    Command(
        "check",
        "verify autodiff against hand-written backprop and finite differences",
        _plain(selfcheck.__doc__),
        CHECK_EPILOG,
        add_check_arguments,
        run_check,
    ),
    Command(
        "bench",
        "time a training step against the same step in hand-written numpy",
        _plain(bench.__doc__),
        "examples:\n  %(prog)s --sizes S --quick\n"
        "  %(prog)s --sizes S1,S   S with 1 example and with 211: the fixed per-step cost\n"
        "  %(prog)s              sizes S, M and L (the default): about a minute\n",
        bench.add_arguments,
        run_bench,
    ),
    Command(
        "sweep",
        "train once per λ (or keep_prob): the regularization path, table and plot",
        _plain(sweep.__doc__),
        sweep.EPILOG,
        sweep.add_arguments,
        run_sweep,
    ),
]

MAIN_EPILOG = """examples:
  %(prog)s                 the demo (same as: %(prog)s demo)
  %(prog)s train --data points.csv --penalty l2
  %(prog)s check
  %(prog)s bench --sizes S
  %(prog)s sweep --penalty l2
  %(prog)s <command> --help
"""


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or _program_name(),
        description="tinygrad_reg: a small, teachable autodiff over numpy, proven equal to "
        "hand-written backprop\nwith L1/L2 regularization and dropout.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="command")
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            epilog=command.epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def _program_name() -> str:
    if os.path.basename(sys.argv[0]) in ("__main__.py", "-m"):
        return "python -m tinygrad_reg"
    return "tinygrad-reg"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "demo")  # no subcommand: the demo, with any options given
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a bad option (argparse printed it)
        return int(exit_.code or 0)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a full disk or no permission to write in --out
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""The command line: ``python -m tinygrad_reg`` or ``tinygrad-reg``.

Subcommands (``demo`` when none is given):

- ``demo``:  the course network trained four ways on the built-in data, one table (demo.py);
- ``train``: the same network on your own .npz/.mat/.csv data, saved as a checkpoint
  (train_command.py);
- ``predict``: a saved network's predictions (and accuracy) on a data file (predict_command.py);
- ``check``: autodiff against the hand-written backprop and finite differences (selfcheck.py);
- ``bench``: a training step timed against the same step in hand-written numpy (bench.py);
- ``sweep``: one training per regularization strength, with a table and plots
  (sweep_command.py).

Each subcommand is a ``Command`` (options.py): a name, its help texts, a function adding its
arguments and a function running it (returning the exit code). Adding one is adding a Command
to ``COMMANDS``.

Exit codes: 0 success, 1 a failed check or a training that broke down, 2 bad input (an
option's value or a data file), with one message on stderr naming the problem and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from ..data import datasets
from ..train import regularization_path
from . import bench, demo, plots, predict_command, selfcheck, sweep_command, train_command
from .options import (
    Command,
    UsageError,
    make_folder,
    plain,
    positive_int,
    program_name,
    seed_int,
)

DEFAULT_OUT = "tinygrad_reg_out"

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
        make_folder(Path(args.out))  # now, not after a minute of training
    demo.run_demo(args.iterations, args.out, args.dataset, make_plots=not args.no_plots)
    return 0


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
    parser.add_argument("--seed", type=seed_int, default=0, help="draws the networks (default 0)")


def run_check(args: argparse.Namespace) -> int:
    return 0 if selfcheck.run_check(args.networks, args.seed) else 1


# --- the parser -------------------------------------------------------------------------------


def run_bench(args: argparse.Namespace) -> int:
    try:
        return bench.main(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run_sweep(args: argparse.Namespace) -> int:
    make_folder(Path(args.out))
    try:
        return sweep_command.main(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


COMMANDS = [
    Command(
        "demo",
        "the course network with no regularization, L2, L1 and dropout (the default)",
        plain(demo.__doc__),
        DEMO_EPILOG,
        add_demo_arguments,
        run_demo,
    ),
    train_command.COMMAND,
    predict_command.COMMAND,
    Command(
        "check",
        "verify autodiff against hand-written backprop and finite differences",
        plain(selfcheck.__doc__),
        CHECK_EPILOG,
        add_check_arguments,
        run_check,
    ),
    Command(
        "bench",
        "time a training step against the same step in hand-written numpy",
        plain(bench.__doc__),
        "examples:\n  %(prog)s --sizes S --quick\n"
        "  %(prog)s --sizes S1,S   S with 1 example and with 211: the fixed per-step cost\n"
        "  %(prog)s              sizes S, M and L (the default): about a minute\n",
        bench.add_arguments,
        run_bench,
    ),
    Command(
        "sweep",
        "train once per λ (or keep_prob): the regularization path, table and plot",
        plain(regularization_path.__doc__),
        sweep_command.EPILOG,
        sweep_command.add_arguments,
        run_sweep,
    ),
]

MAIN_EPILOG = """examples:
  %(prog)s                 the demo (same as: %(prog)s demo)
  %(prog)s train --data points.csv --penalty l2
  %(prog)s predict --model tinygrad_reg_runs/run-1/model.npz --data points.csv
  %(prog)s check
  %(prog)s bench --sizes S
  %(prog)s sweep --penalty l2
  %(prog)s <command> --help
"""


class Parser(argparse.ArgumentParser):
    """argparse's parser, except that a bad option is one line and a hint, not the usage block,
    and an option is only taken by its whole name (``--data`` is never read as ``--dataset``).
    The subcommands' parsers are of this class too: argparse makes them like their parent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n(see: {self.prog} --help)\n")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = Parser(
        prog=prog or program_name(),
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
    except MemoryError:  # more than the estimate in _check_memory foresaw
        print(f"{parser.prog} {args.command}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

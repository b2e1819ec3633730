"""What the subcommands share: the error for bad input, option types, the data-file options,
and reading data, checkpoints and folders with one-line errors.

Every value the user types is checked here or by the library before anything runs; a bad one
is a ``UsageError``, which ``cli.main`` prints as one line (exit code 2), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..data import datasets
from ..nn.modules import MLP
from ..train.checkpoint import Checkpoint, CheckpointError, check_writable, load


class Command(NamedTuple):
    """A subcommand: its name, help texts, a function adding its options and one running it
    (returning the exit code). ``cli.COMMANDS`` lists them."""

    name: str
    summary: str  # one line, for the list of subcommands
    description: str
    epilog: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


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
seed_int = _number(int, lambda n: 0 <= n < 2**32, "an integer from 0 to 2**32 - 1")
positive_float = _number(float, lambda x: 0 < x < np.inf, "a number > 0")
probability = _number(float, lambda p: 0 < p <= 1, "a number in (0, 1]")
fraction = _number(float, lambda p: 0 < p < 1, "a fraction in (0, 1)")


def hidden_sizes(text: str) -> list[int]:
    """ "20,3" → [20, 3]; "none" → [] (no hidden layer: logistic regression, asked for by name
    so that an empty value from a script is not silently taken for it)."""
    if text.strip().lower() == "none":
        return []
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "'' gives no layer sizes; expected a comma-separated list such as 20,3 (or none: no "
            "hidden layer, logistic regression)"
        )
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


def add_data_file_arguments(parser: argparse.ArgumentParser) -> None:
    """--layout, --x-key, --y-key: how to read a data file (train and predict)."""
    parser.add_argument(
        "--layout",
        choices=datasets.LAYOUTS,
        help="how the files are laid out (default: features-first for .npz, examples-first "
        "for .mat and .csv)",
    )
    parser.add_argument(
        "--x-key", metavar="NAME", help="name of the features array in a .npz or .mat file"
    )
    parser.add_argument(
        "--y-key", metavar="NAME", help="name of the labels array in a .npz or .mat file"
    )


def read_data(path: str, args: argparse.Namespace, **options: Any) -> datasets.Dataset:
    try:
        return datasets.load_file(path, args.layout, x_key=args.x_key, y_key=args.y_key, **options)
    except datasets.DataError as error:
        raise UsageError(str(error)) from None


def read_checkpoint(path: str) -> Checkpoint:
    try:
        return load(path)
    except (CheckpointError, FileNotFoundError, IsADirectoryError) as error:
        raise UsageError(f"{path}: not a checkpoint of train ({error})") from None


def restore_checkpoint(checkpoint: Checkpoint, model: MLP, optimizer: Any) -> None:
    try:
        checkpoint.restore(model, optimizer)
    except CheckpointError as error:
        raise UsageError(str(error)) from None


def make_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out}: this is a file; expected a folder (it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot create the folder ({error.strerror})") from None
    try:  # now, not after training: a model that cannot be saved is lost
        check_writable(out)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot write in this folder ({error.strerror})") from None


def program_name() -> str:
    if os.path.basename(sys.argv[0]) in ("__main__.py", "-m"):
        return "python -m tinygrad_reg"
    return "tinygrad-reg"


def plain(docstring: str | None) -> str:
    """A module docstring as help text: without the reStructuredText ``quotes``."""
    return (docstring or "").replace("``", "")

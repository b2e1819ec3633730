"""``python -m tinygrad_reg sweep``: the regularization path from the command line.

The options, and a body that runs ``train/regularization_path.py``'s ``sweep``, prints its
table and writes it as CSV (after every value, so Ctrl-C keeps what is done) and as a plot.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..data import datasets
from ..train.evaluate import outputs_for_labels
from ..train.regularization_path import (
    DEFAULT_ITERATIONS,
    DEFAULT_VALUES,
    LAYER_DIMS,
    PENALTIES,
    SEED,
    check_values,
    fold_columns,
    sweep,
)
from . import plots

EPILOG = f"""Writes sweep_<penalty>.csv (rewritten after each value, so Ctrl-C keeps what is done)
and sweep_<penalty>.png (needs matplotlib) in --out.

default values:
  l2       {",".join(f"{v:g}" for v in DEFAULT_VALUES["l2"])}
  l1       {",".join(f"{v:g}" for v in DEFAULT_VALUES["l1"])}
  elastic  the l1 values (λ for both parts)
  dropout  {",".join(f"{v:g}" for v in DEFAULT_VALUES["dropout"])} (keep_prob)

examples:
  %(prog)s                                   L2 on the default grid, about 30 s
  %(prog)s --penalty dropout --folds 5       5-fold cross-validation
  %(prog)s --penalty l1 --values 0,0.1,1,3 --iterations 6000 --out /tmp/l1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--penalty", choices=PENALTIES, default="l2", help="(default l2)")
    parser.add_argument(
        "--values",
        metavar="V,V,...",
        help="comma-separated λ (or keep_prob for dropout); default: see below",
    )
    parser.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="k-fold cross-validation on the training set (default: validate on the test set)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        metavar="N",
        help=f"per training run (default {DEFAULT_ITERATIONS})",
    )
    parser.add_argument(
        "--dataset",
        choices=datasets.names(),
        default=datasets.DEFAULT,
        help=f"built-in dataset (default {datasets.DEFAULT})",
    )
    parser.add_argument(
        "--seed", type=int, default=SEED, help=f"initial weights and folds (default {SEED})"
    )
    parser.add_argument(
        "--out", default="tinygrad_reg_out", metavar="DIR", help="folder for the CSV and PNG"
    )
    parser.add_argument("--no-plots", action="store_true", help="only the table and the CSV")


def parse_values(text: str) -> list[float]:
    """ "0,0.1,1" → [0.0, 0.1, 1.0]; a ValueError naming the bad part otherwise."""
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise ValueError(f"--values {text!r}: {part!r} is not a number") from None
    return values


def main(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run with parsed ``add_arguments`` options (``args.out`` must exist); bad options raise
    ValueError. Exit code 130 when interrupted (the partial table is written first)."""
    stdout = sys.stdout if stdout is None else stdout
    values = None if args.values is None else parse_values(args.values)
    if args.iterations < 1:
        raise ValueError(f"--iterations {args.iterations}: expected at least 1")
    if not 0 <= args.seed < 2**32:  # numpy's RandomState takes no other seeds
        raise ValueError(f"--seed {args.seed}: expected an integer from 0 to 2**32 - 1")
    values = check_values(args.penalty, DEFAULT_VALUES[args.penalty] if values is None else values)
    if args.folds is not None:
        fold_columns(datasets.load(args.dataset).train_X.shape[1], args.folds, args.seed)
    out = Path(args.out)
    csv_path = out / f"sweep_{args.penalty}.csv"
    layer_dims = [*LAYER_DIMS[:-1], outputs_for_labels(datasets.load(args.dataset).train_Y)]
    print(
        f"Sweep: the course network {layer_dims} on {args.dataset!r}, penalty {args.penalty}, "
        f"{len(values)} values, {args.iterations} iterations each"
        + (f", {args.folds}-fold cross-validation" if args.folds else ""),
        file=stdout,
        flush=True,
    )
    table = sweep(
        args.penalty,
        values,
        dataset=args.dataset,
        iterations=args.iterations,
        folds=args.folds,
        seed=args.seed,
        progress=sys.stderr,
        on_row=lambda partial: partial.write_csv(csv_path),
    )
    try:
        print("\n" + table.format() + "\n", file=stdout)
        if not table.rows:
            return 130
        written = [table.write_csv(csv_path)]
        if not table.complete:
            print(f"Written: {csv_path}, its {len(table.rows)} finished rows", file=stdout)
            return 130
        if not args.no_plots:
            if plots.available():
                written.append(plots.regularization_path(out / f"sweep_{args.penalty}.png", table))
            else:
                print(f"For the plot, install matplotlib: {plots.INSTALL_HINT}", file=stdout)
        print("Written:\n" + "\n".join(f"  {path}" for path in written), file=stdout)
    except KeyboardInterrupt:  # on_row wrote the CSV after each row, atomically
        print(
            f"Interrupted (Ctrl-C) after the sweep; {csv_path} holds its {len(table.rows)} rows",
            file=sys.stderr,
        )
        return 130
    return 0

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
    LAYER_DIMS,
    SEED,
    TECHNIQUES,
    check_stable,
    check_values,
    splits_for,
    sweep,
)
from . import plots
from .options import UsageError, add_data_file_arguments, positive_int, read_data, seed_int

#: Folds when the data has no test split and --folds is not given.
DEFAULT_FOLDS = 5

TECHNIQUE_LINES = "\n".join(
    f"  {t.name:<14}{t.meaning}; {t.symbol}: {','.join(f'{v:g}' for v in t.values)}"
    for t in TECHNIQUES.values()
)

EPILOG = f"""Writes sweep_<penalty>.csv (rewritten after each value, so Ctrl-C keeps what is done)
and sweep_<penalty>.png (needs matplotlib) in --out.

techniques (--penalty) and their default values:
{TECHNIQUE_LINES}

examples:
  %(prog)s                                   L2 on the default grid, about 30 s
  %(prog)s --penalty dropout --folds 5       5-fold cross-validation
  %(prog)s --penalty l1 --values 0,0.1,1,3 --iterations 6000 --out /tmp/l1
  %(prog)s --folds 5 --jobs 2                5 folds, the runs on 2 cores (same table)
  %(prog)s --data football.npz               your file: its test split, or 5 folds

--jobs N runs the trainings in N processes; in Python, sweep(..., executor=...) also takes any
concurrent.futures.Executor, e.g. dask.distributed.Client(...).get_executor() for a cluster
(pip install "tinygrad_reg[distributed]").
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--penalty", choices=list(TECHNIQUES), default="l2", help="the technique (default l2)"
    )
    parser.add_argument(
        "--values",
        metavar="V,V,...",
        help="comma-separated strengths (λ, or keep_prob for dropout, ...); default: see below",
    )
    parser.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="k-fold cross-validation on the training set (default: validate on the test set; "
        f"{DEFAULT_FOLDS} folds for --data without one)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        metavar="N",
        help=f"per training run (default {DEFAULT_ITERATIONS})",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="FILE", help="your data: a .npz, .mat or .csv file")
    source.add_argument(
        "--dataset",
        choices=datasets.names(),
        help=f"or a built-in dataset (default {datasets.DEFAULT})",
    )
    add_data_file_arguments(parser)
    parser.add_argument(
        "--seed", type=seed_int, default=SEED, help=f"initial weights and folds (default {SEED})"
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="training runs at once, in N processes (default 1); the table is the same",
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


def _data(args: argparse.Namespace) -> datasets.Dataset:
    if args.data is None:
        if args.layout or args.x_key or args.y_key:
            raise UsageError("--layout, --x-key and --y-key go with --data, not --dataset")
        return datasets.load(args.dataset or datasets.DEFAULT)
    return read_data(args.data, args)  # train's reading: its layouts and the course's names


def main(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run with parsed ``add_arguments`` options (``args.out`` must exist); bad options raise
    ValueError. Exit code 130 when interrupted (the partial table is written first)."""
    stdout = sys.stdout if stdout is None else stdout
    values = None if args.values is None else parse_values(args.values)
    if args.iterations < 1:
        raise ValueError(f"--iterations {args.iterations}: expected at least 1")
    values = check_values(
        args.penalty, TECHNIQUES[args.penalty].values if values is None else values
    )
    data = _data(args)
    folds = args.folds
    if folds is None and data.test_X is None:
        folds = DEFAULT_FOLDS  # no test split: validate on held-out folds, never on training data
    splits, validation = splits_for(data, folds, args.seed)  # checks the folds now
    check_stable(args.penalty, values, min(train[0].shape[1] for train, _ in splits))
    out = Path(args.out)
    csv_path = out / f"sweep_{args.penalty}.csv"
    layer_dims = [data.train_X.shape[0], *LAYER_DIMS[1:-1], outputs_for_labels(data.train_Y)]
    print(
        f"Sweep: the course network {layer_dims} on {data.name!r}, penalty {args.penalty}, "
        f"{len(values)} values, {args.iterations} iterations each"
        + (f", {args.jobs} runs at once" if args.jobs > 1 else "")
        + f"\nValidated on: {validation}",
        file=stdout,
        flush=True,
    )
    table = sweep(
        args.penalty,
        values,
        dataset=data,
        iterations=args.iterations,
        folds=folds,
        seed=args.seed,
        progress=sys.stderr,
        on_row=lambda partial: partial.write_csv(csv_path),
        executor=args.jobs,
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

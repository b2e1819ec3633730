"""``python -m tinygrad_reg predict``: a saved network's predictions, and its accuracy when the
data has labels."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..nn.modules import MLP
from ..train.evaluate import accuracy, predict
from .options import (
    Command,
    UsageError,
    add_data_file_arguments,
    read_checkpoint,
    read_data,
    restore_checkpoint,
)
from .resume import saved_network

PREDICT_EPILOG = """The data file is read as train reads it (the same formats, --layout, --x-key and
--y-key); labels are optional. A file with a test split (train_X ... test_Y, or X, y, Xval,
yval) is predicted on its test split, as train reports it, unless --split train.

examples:
  %(prog)s --model tinygrad_reg_runs/run-1/model.npz --data football.npz
  %(prog)s --model model.npz --data new_points.csv --output predictions.csv
"""


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODEL", help="a model.npz of train")
    parser.add_argument("--data", required=True, metavar="FILE", help="a .npz, .mat or .csv file")
    add_data_file_arguments(parser)
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        help="which split of a file that has both (default test)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the predictions there (one per line, under a header), not to the screen",
    )


def run_predict(args: argparse.Namespace) -> int:
    checkpoint = read_checkpoint(args.model)
    layer_dims, hidden = saved_network(checkpoint)
    model = MLP(layer_dims, hidden=hidden)
    restore_checkpoint(checkpoint, model, None)
    data = read_data(args.data, args, n_features=layer_dims[0])
    has_test = data.test_X is not None
    if args.split == "test" and not has_test:
        raise UsageError(f"--split test: {args.data} has no test split")
    use_test = has_test and args.split != "train"
    X, Y = (data.test_X, data.test_Y) if use_test else (data.train_X, data.train_Y)
    where = f"the test split of {args.data}" if use_test else args.data
    if X.shape[0] != layer_dims[0]:
        hint = ""
        if X.shape[1] == layer_dims[0] and args.layout is None:
            hint = "; its arrays may be laid out the other way: try --layout"
        raise UsageError(
            f"{args.data}: {X.shape[0]} features per example, but the model takes "
            f"{layer_dims[0]}{hint}"
        )
    predictions = predict(model, X).reshape(-1)
    lines = [str(int(p)) for p in predictions]
    if args.output is None:
        print("\n".join(lines))
    else:
        Path(args.output).write_text("prediction\n" + "\n".join(lines) + "\n")
        print(f"predictions    {args.output}", file=sys.stderr)
    summary = f"{len(lines)} predictions for {where}"
    if Y is not None:
        summary += f": accuracy {accuracy(model, X, Y):.1%}"
    print(summary, file=sys.stderr)
    return 0


COMMAND = Command(
    "predict",
    "predict with a model saved by train, and score it when the data has labels",
    "Load a checkpoint of train and print (or write) its prediction (0/1, or the class) "
    "for each example of a data file;\nwith labels in the file, also its accuracy.",
    PREDICT_EPILOG,
    add_predict_arguments,
    run_predict,
)

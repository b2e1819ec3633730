"""examples/digits.py's model trained by PyTorch: test accuracy and time per epoch, side by side.

The same splits, the same starting weights (copied from examples/digits.py's model for the
seed), the same settings: torch's DataLoader, Adam with two parameter groups (weight decay
on the weights only), CosineAnnealingLR, nn.Dropout(p=0.2), early stopping on the validation
loss. Both train in float64. Then, in the same process and on the same seed, the example's
own training, so the time ratio is measured under the same load.

    OMP_NUM_THREADS=1 python benchmarks/digits_torch.py            (seeds 0, 1, 2)
    python benchmarks/digits_torch.py --seeds 0 --epochs 20
"""

import argparse
import contextlib
import importlib.util
import io
import math
import time
from pathlib import Path

import numpy as np
import torch

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits.py"
spec = importlib.util.spec_from_file_location("digits_example", EXAMPLE)
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)


def torch_twin(seed):
    """The example's model for ``seed`` as a torch.nn.Sequential, with its starting weights."""
    ours = example.build_model(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, example.HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Dropout(p=example.DROPOUT),
        torch.nn.Linear(example.HIDDEN, 10),
    ).double()
    with torch.no_grad():
        for layer, index in [(model[0], 0), (model[3], 3)]:
            layer.weight.copy_(torch.from_numpy(ours[index].W.numpy()))
            layer.bias.copy_(torch.from_numpy(ours[index].b.numpy().ravel()))
    return model


def train_torch(seed, epochs):
    """(test accuracy, ms per epoch of training batches, epochs run)."""
    torch.manual_seed(seed)  # the dropout masks
    train, validation, test = example.digits_splits(seed)

    def rows(pair):  # the course's columns as PyTorch's rows; labels as class indices
        X, Y = pair
        return torch.from_numpy(X.T.copy()), torch.from_numpy(Y.ravel().astype(np.int64))

    (X, y), (X_val, y_val), (X_test, y_test) = rows(train), rows(validation), rows(test)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=example.BATCH_SIZE,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model = torch_twin(seed)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.Adam(
        [
            {"params": weights, "weight_decay": example.WEIGHT_DECAY},
            {"params": biases, "weight_decay": 0.0},
        ],
        lr=example.LR,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    stopper = example.EarlyStopping(example.PATIENCE)
    training_time, epochs_run = 0.0, 0
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for X_batch, y_batch in loader:
            loss = torch.nn.functional.cross_entropy(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        training_time += time.perf_counter() - start
        epochs_run += 1
        schedule.step()
        model.eval()
        with torch.no_grad():
            val_loss = torch.nn.functional.cross_entropy(model(X_val), y_val).item()
        state = {name: value.clone() for name, value in model.state_dict().items()}
        if stopper.step(epoch, val_loss, lambda state=state: state):
            break
    model.load_state_dict(stopper.best_state)
    model.eval()
    with torch.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).double().mean().item()
    return accuracy, 1000 * training_time / epochs_run, epochs_run


def train_ours(seed, epochs):
    """The example's run, its printed numbers read back: (accuracy, ms per epoch, epochs)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        example.main(["--seed", str(seed), "--epochs", str(epochs)])
    text = output.getvalue()
    accuracy = float(text.split("test accuracy: ")[1].split()[0])
    per_epoch = float(text.split("time per epoch: ")[1].split()[0])
    epochs_run = int(text.split("epochs run: ")[1].split()[0])
    return accuracy, per_epoch, epochs_run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100, help="at most (default 100)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print("seed  library       test accuracy  epochs  ms/epoch")
    ratios = []
    for seed in args.seeds:
        theirs = train_torch(seed, args.epochs)
        ours = train_ours(seed, args.epochs)
        for name, (accuracy, per_epoch, epochs_run) in [
            ("PyTorch", theirs),
            ("tinygrad_reg", ours),
        ]:
            print(f"{seed:4d}  {name:12s}  {accuracy:13.4f}  {epochs_run:6d}  {per_epoch:8.1f}")
        ratios.append(ours[1] / theirs[1])
    geometric = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"time per epoch, tinygrad_reg / PyTorch: {geometric:.2f} (geometric mean)")


if __name__ == "__main__":
    main()

"""The 8×8 handwritten digits, trained the way a PyTorch script trains: a hand loop.

A DataLoader shuffles the training images into mini-batches; the model is Linear → ReLU →
Dropout(p=0.2) → Linear, ten logits; Adam updates the weights with weight decay (the L2
penalty) and the biases without it (one Adam, two parameter groups); CosineAnnealingLR
(optim/schedules.py) moves the learning rate along a cosine from its start down to zero over
the epochs; after each epoch the loss on a held-out validation set is measured, and
training stops once it has not improved for PATIENCE epochs, the best parameters put back.
At the end: the test accuracy and the time per epoch, measured.

The digits come with scikit-learn (the ``digits`` extra: pip install "tinygrad_reg[digits]").
The same model in PyTorch, for the comparison in docs/pytorch.md: benchmarks/digits_torch.py.

Run:  python examples/digits.py                          (at most 100 epochs, ~10-40 s)
      python examples/digits.py --seed 1               (another initialization and order)
      TINYGRAD_REG_QUICK=1 python examples/digits.py     (at most 8 epochs)
"""

import argparse
import math
import os
import sys
import time

import numpy as np

from tinygrad_reg import cross_entropy, no_grad
from tinygrad_reg.data import DataError, DataLoader, load_digits
from tinygrad_reg.nn import Dropout, Linear, ReLU, Sequential
from tinygrad_reg.optim import Adam, CosineAnnealingLR
from tinygrad_reg.train.evaluate import accuracy

EPOCHS = 8 if os.environ.get("TINYGRAD_REG_QUICK") else 100
HIDDEN = 128
DROPOUT = 0.2  # PyTorch's p: the fraction of hidden units dropped
BATCH_SIZE = 64
LR = 3e-3
WEIGHT_DECAY = 1e-4
PATIENCE = 10  # epochs without a lower validation loss before stopping
VALIDATION_FRACTION = 0.15  # of the training images, held out for early stopping


def digits_splits(seed):
    """(train, validation, test) pairs (X (64, m), Y (1, m)): the test split is
    ``load_digits``'s; the validation split a seeded fraction of its training split."""
    try:
        data = load_digits(seed=0)
    except DataError as error:
        print(f"examples/digits.py: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    m = data.train_X.shape[1]
    order = np.random.RandomState(seed).permutation(m)
    held_out, kept = (
        order[: round(VALIDATION_FRACTION * m)],
        order[round(VALIDATION_FRACTION * m) :],
    )
    train = data.train_X[:, kept], data.train_Y[:, kept]
    validation = data.train_X[:, held_out], data.train_Y[:, held_out]
    return train, validation, (data.test_X, data.test_Y)


def build_model(seed):
    """Linear(64, HIDDEN) → ReLU → Dropout(p=DROPOUT) → Linear(HIDDEN, 10), He-initialized."""
    rng = np.random.RandomState(seed)
    return Sequential(
        Linear(64, HIDDEN, init="he", rng=rng),
        ReLU(),
        Dropout(p=DROPOUT, rng=rng),
        Linear(HIDDEN, 10, init="he", rng=rng),
    )


class EarlyStopping:
    """Remembers the best validation loss and its parameters; ``step`` says when to stop."""

    def __init__(self, patience):
        self.patience, self.best, self.best_epoch, self.best_state = patience, math.inf, -1, None

    def step(self, epoch, loss, state):
        """True when ``patience`` epochs have passed without a lower loss than the best."""
        if loss < self.best:
            self.best, self.best_epoch, self.best_state = loss, epoch, state()
        return epoch - self.best_epoch >= self.patience


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="initialization, order (default 0)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"at most (default {EPOCHS})")
    args = parser.parse_args(argv)
    (X, Y), (X_val, Y_val), (X_test, Y_test) = digits_splits(args.seed)

    model = build_model(args.seed)
    loader = DataLoader(X, Y, batch_size=BATCH_SIZE, shuffle=True, seed=args.seed)
    named = model.named_parameters()
    weights = [p for name, p in named if not name.endswith(".b")]
    biases = [p for name, p in named if name.endswith(".b")]
    optimizer = Adam(
        [
            {"params": weights, "weight_decay": WEIGHT_DECAY},
            {"params": biases, "weight_decay": 0.0},
        ],
        lr=LR,
    )
    schedule = CosineAnnealingLR(optimizer, T_max=args.epochs)
    stopper = EarlyStopping(PATIENCE)

    print(model)
    print(f"{X.shape[1]} training, {X_val.shape[1]} validation, {X_test.shape[1]} test images")
    training_time, epochs_run = 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        for X_batch, Y_batch in loader:
            loss = cross_entropy(model(X_batch), Y_batch)
            model.zero_grad()
            loss.backward()
            optimizer.step()
        training_time += time.perf_counter() - start
        epochs_run += 1
        schedule.step()  # once per epoch, after the optimizer's steps
        model.eval()
        with no_grad():
            val_loss = cross_entropy(model(X_val), Y_val).item()
        if epoch % 10 == 0:
            print(f"epoch {epoch:3d}  validation loss {val_loss:.4f}")
        if stopper.step(epoch, val_loss, model.state_dict):
            print(f"stopped early at epoch {epoch}: no better validation loss for {PATIENCE}")
            break
    model.load_state_dict(stopper.best_state)
    print(f"best validation loss {stopper.best:.4f} at epoch {stopper.best_epoch}")
    print(f"test accuracy: {accuracy(model, X_test, Y_test):.4f}")
    print(f"epochs run: {epochs_run}")
    print(f"time per epoch: {1000 * training_time / epochs_run:.1f} ms (training batches)")


if __name__ == "__main__":
    main()

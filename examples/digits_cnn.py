"""A small CNN on the 8x8 digits: Conv2d, max pooling, dropout and L2, trained with Adam.

The images are (m, 1, 8, 8), PyTorch's NCHW layout; the network is

    Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2)       (m, 16, 4, 4)
    Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2)      (m, 32, 2, 2)
    flatten to the course layout (128, m) → Dropout(p=0.25) → Linear(128, 10)   logits (10, m)

and the cost of a mini-batch of b images is the mean cross-entropy plus the course's L2
penalty of the whole training set, λ/(2m)·ΣW² over the three weight tensors (m the number of
training images). The learning rate halves every 10 epochs. The same model in PyTorch is
benchmarks/digits_cnn_torch.py; docs/layers.md has both runs' numbers.

Run:  python examples/digits_cnn.py                      (30 epochs, ~15 s)
      python examples/digits_cnn.py --epochs 5 --seed 1
      TINYGRAD_REG_QUICK=1 python examples/digits_cnn.py   (3 epochs)
Needs scikit-learn for the digits: pip install "tinygrad_reg[digits]".
"""

import argparse
import os
import sys
import time

import numpy as np

from tinygrad_reg import Tensor, no_grad
from tinygrad_reg.data import DataError, load_digits
from tinygrad_reg.nn import (
    Conv2d,
    Dropout,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    cross_entropy,
    l2_penalty,
)
from tinygrad_reg.optim import Adam

EPOCHS = 3 if os.environ.get("TINYGRAD_REG_QUICK") else 30
BATCH_SIZE = 32
LEARNING_RATE = 3e-3
LAMBD = 3.0  # L2's λ, for the training set's m images


class DigitsCNN(Module):
    def __init__(self, seed: int):
        rng = np.random.RandomState(seed)
        self.conv1 = Conv2d(1, 16, 3, padding=1, rng=rng)
        self.conv2 = Conv2d(16, 32, 3, padding=1, rng=rng)
        self.relu, self.pool = ReLU(), MaxPool2d(2)
        self.dropout = Dropout(p=0.25, rng=rng)
        self.classifier = Linear(128, 10, init="he", rng=rng)

    def forward(self, images):
        A = self.pool(self.relu(self.conv1(images)))
        A = self.pool(self.relu(self.conv2(A)))
        A = A.reshape(A.shape[0], -1).T  # (128, m): one example per column, for Linear
        return self.classifier(self.dropout(A))

    def weights(self):
        return [self.conv1.weight, self.conv2.weight, self.classifier.W]


def test_accuracy(model, X, labels):
    model.eval()
    with no_grad():
        predicted = model(X).data.argmax(axis=0)
    model.train()
    return float(np.mean(predicted == labels.ravel()))


parser = argparse.ArgumentParser(description="A small CNN on the 8x8 digits.")
parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"(default {EPOCHS})")
parser.add_argument("--seed", type=int, default=0, help="initialization and shuffling (default 0)")
arguments = parser.parse_args()
if arguments.epochs < 1:
    parser.error(f"--epochs {arguments.epochs}: expected at least 1")

try:
    data = load_digits(images=True)
except DataError as error:
    print(f"examples/digits_cnn.py: {error}", file=sys.stderr)
    sys.exit(2)
X, Y = data.train_X, data.train_Y  # (m, 1, 8, 8) and class indices (1, m)
X.setflags(write=False)  # a constant operand: Tensors adopt it without a copy
m = X.shape[0]
print(f"Digits: {m} training and {data.test_X.shape[0]} test images of 8 x 8, 10 classes")

model = DigitsCNN(arguments.seed)
optimizer = Adam(model.parameters(), lr=LEARNING_RATE)
order = np.random.default_rng(arguments.seed)
epoch_times = []
for epoch in range(1, arguments.epochs + 1):
    start = time.perf_counter()
    optimizer.lr = LEARNING_RATE * 0.5 ** ((epoch - 1) // 10)  # halved every 10 epochs
    for batch in np.array_split(order.permutation(m), -(-m // BATCH_SIZE)):
        cost = cross_entropy(model(Tensor(X[batch])), Y[:, batch])
        cost = cost + l2_penalty(model.weights(), LAMBD, m)
        model.zero_grad()
        cost.backward()
        optimizer.step()
    epoch_times.append(time.perf_counter() - start)
    if epoch == 1 or epoch % 5 == 0 or epoch == arguments.epochs:
        print(f"epoch {epoch:3d}  cost {cost.item():.4f}  {epoch_times[-1]:.2f} s")

accuracy = test_accuracy(model, data.test_X, data.test_Y)
print(f"test accuracy {accuracy:.2%} after {arguments.epochs} epochs")
print(f"time per epoch {np.median(epoch_times):.2f} s (median), {sum(epoch_times):.1f} s in all")
if accuracy < 0.8:
    sys.exit(f"examples/digits_cnn.py: test accuracy {accuracy:.2%}, expected at least 80%.")
print("well above chance (10%): the CNN learned the digits.")

"""The CNN of examples/digits_cnn.py in PyTorch: the same layers, cost, optimizer and schedule.

Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(16, 32, 3, padding=1) → ReLU →
MaxPool2d(2) → flatten → Dropout(p=0.25) → Linear(128, 10), float64 as tinygrad_reg's; the
cost is the mean cross-entropy of a mini-batch of 32 plus λ/(2m)·ΣW² over the three weight
tensors (m the training set's size), Adam with lr 3e-3 halved every 10 epochs. PyTorch's own
initialization and random streams, so the accuracy is the same model's, not the same
numbers. docs/layers.md has both runs.

Run:  python benchmarks/digits_cnn_torch.py [--epochs 30] [--seed 0]
"""

import argparse
import time

import numpy as np
import torch

from tinygrad_reg.data import load_digits

BATCH_SIZE, LEARNING_RATE, LAMBD = 32, 3e-3, 3.0

parser = argparse.ArgumentParser(description="The digits CNN in PyTorch.")
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--seed", type=int, default=0)
arguments = parser.parse_args()
torch.manual_seed(arguments.seed)

data = load_digits(images=True)
X = torch.tensor(data.train_X, dtype=torch.float64)
labels = torch.tensor(data.train_Y.ravel(), dtype=torch.int64)
m = X.shape[0]

model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Flatten(),
    torch.nn.Dropout(p=0.25),
    torch.nn.Linear(128, 10),
).double()
weights = [model[0].weight, model[3].weight, model[8].weight]
optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
order = np.random.default_rng(arguments.seed)
epoch_times = []
for epoch in range(1, arguments.epochs + 1):
    start = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = LEARNING_RATE * 0.5 ** ((epoch - 1) // 10)
    for batch in np.array_split(order.permutation(m), -(-m // BATCH_SIZE)):
        batch = torch.tensor(batch)
        cost = torch.nn.functional.cross_entropy(model(X[batch]), labels[batch])
        cost = cost + LAMBD / (2 * m) * sum((W * W).sum() for W in weights)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    epoch_times.append(time.perf_counter() - start)

model.eval()
with torch.no_grad():
    predicted = model(torch.tensor(data.test_X, dtype=torch.float64)).argmax(dim=1).numpy()
accuracy = float(np.mean(predicted == data.test_Y.ravel()))
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
print(f"test accuracy {accuracy:.2%} after {arguments.epochs} epochs")
print(f"time per epoch {np.median(epoch_times):.3f} s (median), {sum(epoch_times):.1f} s in all")

"""The course's regularization recipe, run twice: by hand-written backprop and by autodiff.

The 3-layer network [2, 20, 3, 1] (LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID), course init (seed
3), plain gradient descent with learning rate 0.3, 30 000 full-batch iterations, on the
project's default 2-D dataset, for four variants: no regularization, L2 (λ = 0.7), L1
(λ = 0.7) and inverted dropout (keep_prob = 0.86).

For each variant the reference run uses ``tinygrad_reg.reference`` (the course's numpy
functions) and the autodiff run uses ``MLP`` + ``fit`` (gradients from the engine, the stable
fused loss). Both draw their dropout masks from their own ``RandomState(3)``, layer by layer,
so they drop the same units. The script prints, per variant, the costs every 10 000
iterations, the train and test accuracies, whether the autodiff run ever produced a NaN, and
how far apart the parameters are, checked every 500 iterations. "Equal at rtol 1e-8" means
max|a − b| <= 1e-8·max|b| for every parameter array (its own scale: L1 holds some weights near
0, where an element-by-element relative error would compare rounding noise with itself).

Why they agree to the last bit, not just to rtol 1e-8: the two runs apply 1/m at different
points (the autodiff loss scales the gradient before the matrix products, the course after
them), which rounds differently in general. The default dataset has m = 256 training examples,
a power of two, so scaling by 1/m is exact and both runs do identical arithmetic. That matters
here: gradient descent at this learning rate can amplify a last-bit difference exponentially
over 30 000 iterations. If the parameters ever part by more than rtol 1e-8 (try your own data
with another m), the script measures that amplification on the reference alone: it reruns the
reference from initial weights moved by one unit in the last place (1 ulp) and reports when and
how far it parts from itself.

Run:  python examples/course_recipe.py               (about a minute and a half)
      python examples/course_recipe.py --iterations 3000 --variants l2 dropout
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tinygrad_reg import datasets
from tinygrad_reg import reference as ref
from tinygrad_reg.nn import MLP
from tinygrad_reg.train.evaluate import accuracy
from tinygrad_reg.train.loop import fit

LAYER_DIMS = [2, 20, 3, 1]
LEARNING_RATE = 0.3
SEED = 3
RTOL = 1e-8
CHECK_EVERY = 500  # compare the parameters of the two runs this often
PRINT_EVERY = 10_000  # the course prints the cost this often

VARIANTS = {
    "none": {"penalty": "none", "lambd": 0.0, "keep_prob": 1.0},
    "l2": {"penalty": "l2", "lambd": 0.7, "keep_prob": 1.0},
    "l1": {"penalty": "l1", "lambd": 0.7, "keep_prob": 1.0},
    "dropout": {"penalty": "none", "lambd": 0.0, "keep_prob": 0.86},
}


def reference_run(X, Y, iterations, penalty, lambd, keep_prob, parameters=None):
    """The course's model() loop (``reference.model``), remembering the costs and the
    parameters at the logged iterations (every CHECK_EVERY and the last), keyed by iteration
    as ``fit`` logs them."""
    costs, snapshots = {}, {}

    def remember(iteration, cost, parameters_now):
        costs[iteration], snapshots[iteration] = cost, parameters_now

    ref.model(
        X, Y, LAYER_DIMS, LEARNING_RATE, iterations, lambd, penalty, keep_prob,
        seed=SEED, parameters=parameters, log_every=CHECK_EVERY, on_log=remember,
    )  # fmt: skip
    return costs, snapshots


def relative_difference(a, b):
    """max over parameters of max|a − b| / max|b|: each array's error against its own scale
    (an element-wise relative error would be meaningless for weights L1 holds near 0)."""
    return max(float(np.max(np.abs(a[k] - b[k])) / np.max(np.abs(b[k]))) for k in b)


def equal(a, b):
    return relative_difference(a, b) <= RTOL


def first_departure(snapshots, expected):
    """The first logged iteration at which the parameters differ beyond RTOL, or None."""
    return next((i for i in snapshots if not equal(snapshots[i], expected[i])), None)


def compare(name, settings, data, iterations):
    """Run one variant both ways and print the comparison; True if everything agrees."""
    X, Y = data.train_X, data.train_Y
    print(
        f"\n== {name}: penalty={settings['penalty']}, λ={settings['lambd']}, "
        f"keep_prob={settings['keep_prob']} =="
    )
    start = time.perf_counter()
    expected_costs, expected = reference_run(X, Y, iterations, **settings)
    reference_seconds = time.perf_counter() - start

    model = MLP(LAYER_DIMS, seed=SEED, keep_prob=settings["keep_prob"])
    snapshots = {}

    def snapshot(iteration, cost):
        snapshots[iteration] = model.to_parameters()

    history = fit(
        model,
        X,
        Y,
        penalty=None if settings["penalty"] == "none" else settings["penalty"],
        lambd=settings["lambd"],
        iterations=iterations,
        log_every=CHECK_EVERY,
        callback=snapshot,
        progress=False,
    )
    print(
        f"  time: reference {reference_seconds:.1f} s, autodiff {history.wall_time:.1f} s "
        f"({history.iterations_per_second:,.0f} iterations/s)"
    )

    costs = dict(zip(history.iterations, history.costs, strict=True))
    print(f"  {'iteration':>9}  {'reference cost':>19}  {'autodiff cost':>19}")
    for i in costs:
        if i % PRINT_EVERY == 0 or i == iterations - 1:
            print(f"  {i:>9}  {expected_costs[i]:>19.15f}  {costs[i]:>19.15f}")
    naive = np.array([expected_costs[i] for i in costs])
    ours = np.array(list(costs.values()))
    finite = np.isfinite(naive)
    costs_agree = bool(np.allclose(ours[finite], naive[finite], rtol=RTOL, atol=0))
    gap = np.max(np.abs(ours[finite] - naive[finite]) / np.abs(naive[finite]))
    print(
        f"  costs: the naive cost is finite at {finite.sum()}/{finite.size} logged iterations; "
        f"there they differ by at most {gap:.1e} (relative): "
        f"{'equal' if costs_agree else 'NOT equal'} at rtol {RTOL:g}"
    )

    last = iterations - 1
    parameters_agree = equal(snapshots[last], expected[last])
    departure = first_departure(snapshots, expected)
    gap = relative_difference(snapshots[last], expected[last])
    verdict = "equal" if parameters_agree else "NOT equal"
    when = "" if departure is None else f" (first beyond it at iteration {departure})"
    print(
        f"  final parameters: max relative difference {gap:.1e}: {verdict} at rtol {RTOL:g}{when}"
    )

    accuracies_agree = True
    for split, X_split, Y_split in (("train", X, Y), ("test", data.test_X, data.test_Y)):
        a_ref = float(np.mean(ref.predict(X_split, expected[last]) == Y_split))
        a_auto = accuracy(model, X_split, Y_split)
        accuracies_agree = accuracies_agree and a_ref == a_auto
        print(f"  {split} accuracy: reference {a_ref:.4f}, autodiff {a_auto:.4f}")

    no_nan = bool(np.all(np.isfinite(history.costs))) and all(
        np.all(np.isfinite(p)) for s in snapshots.values() for p in s.values()
    )
    nan_verdict = "no NaN or inf" if no_nan else "NaN/inf FOUND"
    print(f"  autodiff run: {nan_verdict} in its costs and logged parameters")

    if not parameters_agree:
        nudged = ref.initialize_parameters(LAYER_DIMS, seed=SEED)
        nudged["W1"] = np.nextafter(nudged["W1"], np.inf)  # 1 ulp up
        _, drifted = reference_run(X, Y, iterations, parameters=nudged, **settings)
        own_departure = first_departure(drifted, expected)
        gap = relative_difference(drifted[last], expected[last])
        when = (
            ""
            if own_departure is None
            else f" (beyond rtol {RTOL:g} from iteration {own_departure})"
        )
        print(f"  sensitivity: the reference started 1 ulp away ends {gap:.1e} from itself{when}")
    return parameters_agree and costs_agree and accuracies_agree and no_nan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30_000)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)

    data = datasets.load()
    print(
        f"dataset {data.name!r}: train X {data.train_X.shape}, test X {data.test_X.shape}; "
        f"net {LAYER_DIMS}, learning rate {LEARNING_RATE}, {args.iterations} iterations"
    )
    start = time.perf_counter()
    results = {name: compare(name, VARIANTS[name], data, args.iterations) for name in args.variants}
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    for name, ok in results.items():
        print(f"  {name:8} {'autodiff == reference' if ok else 'differ (see above)'}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

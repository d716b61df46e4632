"""Curl speed-up: epochs to reach training error 1e-3, gradient descent vs curl descent.

The setting of Ninou, Kadmon & Cayco-Gajic (2025): tanh student and teacher, M = 100 inputs,
N = 10 hidden units (teacher 10), one rule-flipped hidden neuron, batch 10, eta = 0.1, r = 2,
norm-preserving rescaling. For each data-set size P and seed, the teacher, data and student
initialisation are shared by both rules (paired comparison).

    python examples/curl_speedup.py                   # P = 100 ... 2000, 10 seeds (long)
    python examples/curl_speedup.py --quick           # P = 100, 200, 3 seeds
    python examples/curl_speedup.py --sizes 2000 --no-rescale
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import (
    CurlDescent,
    GradientDescent,
    MinibatchTrainer,
    TwoLayerNetwork,
    make_teacher,
)


def epochs_to_threshold(n_train, seed, rule, *, rescale=True, max_epochs=10_000):
    """Epochs until the training error is below 1e-3 (NaN when not reached)."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([n_train, seed]).spawn(4)]
    teacher = make_teacher(100, 10, activation="tanh", seed=streams[0])
    data = make_teacher_data(teacher, n_train=n_train, n_test=100, seed=streams[1])
    student = TwoLayerNetwork(
        n_inputs=100, n_hidden=10, activation="tanh", init_scale=2.0, seed=streams[2]
    ).initialize()
    trainer = MinibatchTrainer(
        rule=rule,
        learning_rate=0.1,
        batch_size=10,
        epochs=max_epochs,
        rescale_norms=rescale,
        record_every=max_epochs,
        threshold=1e-3,
        stop_at_threshold=True,
        seed=streams[3],
    )
    return trainer.fit(student, data).history_.epochs_to_threshold


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,200,500,1000,2000")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--no-rescale", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None, help="write the raw numbers here")
    args = parser.parse_args(argv)
    sizes = [100, 200] if args.quick else [int(s) for s in args.sizes.split(",")]
    seeds = 3 if args.quick else args.seeds
    rows = []
    print(f"{'P':>6} {'GD epochs':>16} {'curl epochs':>16} {'GD / curl':>10}")
    for n_train in sizes:
        gd = [
            epochs_to_threshold(n_train, s, GradientDescent(), rescale=not args.no_rescale)
            for s in range(seeds)
        ]
        cd = [
            epochs_to_threshold(
                n_train, s, CurlDescent(flipped_hidden=1), rescale=not args.no_rescale
            )
            for s in range(seeds)
        ]
        g, c = np.array(gd), np.array(cd)
        rows.append({"n_train": n_train, "gd": gd, "curl": cd})
        print(
            f"{n_train:>6} {np.nanmean(g):>9.0f} ± {np.nanstd(g) / np.sqrt(len(g)):<4.0f}"
            f" {np.nanmean(c):>9.0f} ± {np.nanstd(c) / np.sqrt(len(c)):<4.0f}"
            f" {np.nanmean(g) / np.nanmean(c):>10.2f}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh)
    return rows


if __name__ == "__main__":
    main()

"""Phase diagram of curl descent in linear networks: aspect ratio c = M/N x flipped inputs.

Linear student and teacher, M + N fixed, a fraction of the input neurons rule-flipped (D1).
For each cell: P = 250 training points, 100 test points, batch 10, eta = 0.1, norm rescaling;
the heat map shows the final log10 test error and the lines the critical fraction at which
``A = W1^T W1 + |w2|^2 D1`` stops being positive definite, sampled at this size
(:func:`neurolearn.teacher.theory.critical_flip_fraction`) and in the random-matrix limit
(:func:`neurolearn.teacher.theory.critical_flip_fraction_theory`).

    python examples/curl_phase_diagram.py --quick      # M + N = 60, 7 x 6 grid, ~1 minute
    python examples/curl_phase_diagram.py              # M + N = 219, 15 x 11 grid (hours)
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from neurolearn.errors import DivergenceError
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import CurlDescent, MinibatchTrainer, TwoLayerNetwork, make_teacher
from neurolearn.teacher.theory import critical_flip_fraction, critical_flip_fraction_theory


def final_test_error(ratio, fraction, *, n_total, epochs, seed=0):
    """Final test error of one linear student with ``round(fraction * M)`` flipped inputs."""
    n_in = max(1, min(n_total - 1, round(n_total * ratio / (1 + ratio))))
    n_hid = n_total - n_in
    k = round(fraction * n_in)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([n_in, k, seed]).spawn(4)]
    teacher = make_teacher(n_in, n_hid, activation="linear", seed=streams[0])
    data = make_teacher_data(teacher, n_train=250, n_test=100, seed=streams[1])
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=streams[2])
    trainer = MinibatchTrainer(
        rule=CurlDescent(flipped_inputs=k),
        learning_rate=0.1,
        batch_size=10,
        epochs=epochs,
        record_every=epochs,
        seed=streams[3],
    )
    try:
        trainer.fit(student.initialize(), data)
    except DivergenceError:
        return math.inf
    return student.error(data.x_test, data.y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small network and grid")
    parser.add_argument("--out", default="curl_phase_diagram.png")
    parser.add_argument("--n-total", type=int, default=None, help="M + N (overrides the mode)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (overrides the mode)")
    args = parser.parse_args(argv)
    if args.quick:
        n_total, ratios, fractions, epochs = 60, np.logspace(-1, 2, 7), np.linspace(0, 1, 6), 300
    else:
        n_total, ratios, fractions, epochs = (
            219,
            np.logspace(-1, 2, 15),
            np.linspace(0, 1, 11),
            3000,
        )
    n_total = args.n_total or n_total
    epochs = args.epochs or epochs
    errors = np.array(
        [
            [final_test_error(c, f, n_total=n_total, epochs=epochs) for c in ratios]
            for f in fractions
        ]
    )
    boundary = [
        critical_flip_fraction(c, layer="input", n_total=n_total, n_samples=10, seed=0)
        for c in ratios
    ]
    asymptotic = [critical_flip_fraction_theory(c, layer="input") for c in ratios]
    log_err = np.log10(np.clip(errors, 1e-16, 1e3))
    print("log10 final test error (rows: flipped fraction, columns: c = M/N)")
    print("        " + " ".join(f"{c:7.2f}" for c in ratios))
    for f, row in zip(fractions, log_err, strict=True):
        print(f"{f:6.2f}  " + " ".join(f"{v:7.1f}" for v in row))
    print("sampled " + " ".join(f"{b:7.2f}" for b in boundary))
    print("RMT     " + " ".join(f"{b:7.2f}" for b in asymptotic))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    mesh = ax.pcolormesh(ratios, fractions, log_err, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="log10 final test error")
    ax.plot(ratios, boundary, "w-o", ms=3, label=f"lambda_min(A) = 0, sampled (M + N = {n_total})")
    ax.plot(ratios, asymptotic, "r--", lw=1, label="lambda_min(A) = 0, random-matrix limit")
    ax.axvline(0.25, color="w", ls=":", lw=1, label="c = 1/4")
    ax.set_xscale("log")
    ax.set_xlabel("c = M / N")
    ax.set_ylabel("fraction of rule-flipped inputs")
    ax.set_title(f"linear curl descent, M + N = {n_total}")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return log_err, boundary


if __name__ == "__main__":
    main()

"""Phase diagram of curl descent in linear networks: aspect ratio c = M/N x flipped inputs.

Linear student and teacher, M + N fixed, a fraction of the input neurons rule-flipped (D1).
For each cell: P = 250 training points, 100 test points, batch 10, eta = 0.1, norm rescaling;
the heat map shows the final log10 test error
(:func:`neurolearn.teacher.phase.phase_diagram`), the largest fraction that still learned
(:func:`neurolearn.teacher.phase.learned_boundary`), and the lines the critical fraction at which
``A = W1^T W1 + |w2|^2 D1`` stops being positive definite, sampled at this size
(:func:`neurolearn.teacher.theory.critical_flip_fraction`) and in the random-matrix limit
(:func:`neurolearn.teacher.theory.critical_flip_fraction_theory`).

    python examples/curl_phase_diagram.py --quick      # M + N = 60, 7 x 6 grid, ~1 minute
    python examples/curl_phase_diagram.py              # M + N = 219, 15 x 11 grid (hours)
"""

from __future__ import annotations

import argparse

import numpy as np

from neurolearn.teacher.phase import learned_boundary, phase_diagram
from neurolearn.teacher.theory import critical_flip_fraction, critical_flip_fraction_theory


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
    errors = phase_diagram(ratios, fractions, n_total=n_total, epochs=epochs)
    simulated = learned_boundary(errors, fractions)
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
    print("learned " + " ".join(f"{b:7.2f}" for b in simulated))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    mesh = ax.pcolormesh(ratios, fractions, log_err, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="log10 final test error")
    ax.plot(ratios, boundary, "w-o", ms=3, label=f"lambda_min(A) = 0, sampled (M + N = {n_total})")
    ax.plot(ratios, asymptotic, "r--", lw=1, label="lambda_min(A) = 0, random-matrix limit")
    ax.plot(ratios, simulated, "c:s", ms=3, lw=1, label="largest fraction that learned")
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

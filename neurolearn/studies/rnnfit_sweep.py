"""The recorded-fraction sweep: held-out metrics against the fraction of neurons recorded."""

from __future__ import annotations

import numpy as np

__all__ = ["recorded_fraction_sweep", "sweep_table", "SWEEP_METRICS"]

#: metrics gathered per run
SWEEP_METRICS = (
    "output_r2_test",
    "map_r2_unrecorded",
    "cca_unrecorded",
    "recorded_r2_test",
    "student_jpca_rotation_ratio",
    "student_n_stable",
    "student_rest_abscissa",
)


def recorded_fraction_sweep(
    model="sparse-rnn",
    task="soc-reaching",
    *,
    fractions=(0.0, 0.01, 0.05, 0.1, 0.25, 1.0),
    seeds=(0, 1, 2),
    overrides=(),
    progress=False,
):
    """Run ``model`` on ``task`` for every recorded fraction and seed.

    Returns
    -------
    xarray.Dataset
        One variable per metric of ``SWEEP_METRICS``, dims ``(fraction, seed)``.

    Examples
    --------
    >>> ds = recorded_fraction_sweep(fractions=(0.0,), seeds=(0,), overrides=[
    ...     "task.n_neurons=20", "network.n_units=20", "rule.n_epochs=5",
    ...     "metric.fixed_points=false"])
    >>> ds["output_r2_test"].shape
    (1, 1)
    """
    import xarray as xr

    from neurolearn.experiment import run

    values = {k: np.full((len(fractions), len(seeds)), np.nan) for k in SWEEP_METRICS}
    for i, frac in enumerate(fractions):
        for j, seed in enumerate(seeds):
            ds = run(
                model,
                task,
                seed=seed,
                overrides=[*overrides, f"task.recorded_fraction={float(frac)}"],
                figure=False,
            )
            if ds.attrs["status"] != "ok":
                continue
            for k in SWEEP_METRICS:
                if k in ds:
                    values[k][i, j] = float(ds[k])
            if progress:
                print(
                    f"{model} fraction={frac} seed={seed}: "
                    + ", ".join(f"{k}={values[k][i, j]:.3f}" for k in SWEEP_METRICS[:3]),
                    flush=True,
                )
    coords = {"fraction": list(map(float, fractions)), "seed": list(seeds)}
    return xr.Dataset(
        {k: (("fraction", "seed"), v) for k, v in values.items()},
        coords=coords,
        attrs={"model": model, "task": task},
    )


def sweep_table(ds, metrics=("output_r2_test", "map_r2_unrecorded", "cca_unrecorded")) -> str:
    """A markdown table: mean +- std over seeds per fraction.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"output_r2_test": (("fraction", "seed"), [[0.5, 0.7], [0.9, 0.9]])},
    ...                 coords={"fraction": [0.0, 0.1], "seed": [0, 1]})
    >>> print(sweep_table(ds, metrics=("output_r2_test",)))
    | recorded | output_r2_test |
    |---|---|
    | 0% | 0.60 ± 0.10 |
    | 10% | 0.90 ± 0.00 |
    """
    head = "| recorded | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 1)]
    for frac in ds["fraction"].values:
        cells = []
        for k in metrics:
            v = ds[k].sel(fraction=frac).values if k in ds else np.full(1, np.nan)
            v = v[np.isfinite(v)]
            cells.append(f"{v.mean():.2f} ± {v.std():.2f}" if v.size else "n/a")
        lines.append(f"| {100 * frac:g}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m neurolearn.studies.rnnfit_sweep [--out DIR] [--seeds N] [--set KEY=VALUE ...]``.

    Runs the README sweep (sparse-rnn over recorded fractions, output-only-rnn at 10%),
    prints the tables and writes ``DIR/sweep_*.nc`` and ``DIR/sweep.png``.
    """
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m neurolearn.studies.rnnfit_sweep")
    parser.add_argument("--out", default="rnnfit-sweep")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = tuple(range(args.seeds))
    sparse = recorded_fraction_sweep(
        "sparse-rnn", seeds=seeds, overrides=args.overrides, progress=True
    )
    plain = recorded_fraction_sweep(
        "output-only-rnn", fractions=(0.1,), seeds=seeds, overrides=args.overrides, progress=True
    )
    for name, ds in (("sparse", sparse), ("output_only", plain)):
        ds.to_netcdf(out / f"sweep_{name}.nc", engine="h5netcdf")
        print(f"{ds.attrs['model']}:\n{sweep_table(ds)}")
    import matplotlib

    matplotlib.use("Agg")
    from neurolearn.plots import rnnfit_sweep_figure

    rnnfit_sweep_figure(sparse, baseline=plain).savefig(
        out / "sweep.png", dpi=110, bbox_inches="tight"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""All rules on one task under one query budget: a table and one figure (loss against queries
and against wall time)."""

from __future__ import annotations

import numpy as np

__all__ = ["ZO_MODELS", "compare_rules", "plot_runs", "table_rows"]

#: the shipped models of the family, backprop first
ZO_MODELS = (
    "mlp-backprop",
    "weight-perturbation",
    "node-perturbation",
    "spsa",
    "forward-gradient",
    "evolution-strategies",
    "ou-weight-noise",
)


def compare_rules(
    task: str = "digits", models=ZO_MODELS, *, seed=0, overrides=(), backend=None
) -> dict:
    """Run every model on ``task`` with the same seed and overrides; ``{model: Dataset}``.

    Examples
    --------
    >>> runs = compare_rules("digits", ("mlp-backprop", "spsa"), overrides=[
    ...     "train.query_budget=200", "train.n_records=2"])
    >>> sorted(runs), int(runs["spsa"]["queries"])
    (['mlp-backprop', 'spsa'], 200)
    """
    from neurolearn.experiment import run

    return {
        m: run(m, task, seed=seed, overrides=list(overrides), backend=backend, figure=False)
        for m in models
    }


def table_rows(runs: dict) -> list[dict]:
    """One row per run: final test metric, queries, steps, training wall time.

    Examples
    --------
    >>> runs = compare_rules("digits", ("spsa",), overrides=["train.query_budget=100"])
    >>> table_rows(runs)[0]["queries"]
    100.0
    """
    rows = []
    for name, ds in runs.items():
        row = {"model": name, "status": ds.attrs["status"]}
        for key in ("test_accuracy", "test_loss", "queries", "steps"):
            if key in ds:
                row[key] = float(ds[key])
        if "train_wall_s" in ds.attrs:
            row["train_wall_s"] = float(ds.attrs["train_wall_s"])
        rows.append(row)
    return rows


def plot_runs(runs: dict, *, metric: str = "test_loss"):
    """Figure: the ``curve_<metric>`` of each run against queries (left) and against training
    wall time (right).

    Examples
    --------
    >>> runs = compare_rules("digits", ("spsa",), overrides=["train.query_budget=100"])
    >>> len(plot_runs(runs).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, ds in runs.items():
        if f"curve_{metric}" not in ds:
            continue
        y = ds[f"curve_{metric}"].values
        axes[0].plot(ds["curve_queries"].values, y, label=name)
        axes[1].plot(np.asarray(ds.attrs["curve_wall_s"], dtype=float), y, label=name)
    axes[0].set_xlabel("queries (forward passes)")
    axes[1].set_xlabel("training wall time (s)")
    for ax in axes:
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_xscale("symlog", linthresh=1.0)
        if "loss" in metric:
            ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig

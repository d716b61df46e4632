"""Zeroth-order figures: loss against queries and against training wall time."""

from __future__ import annotations

import numpy as np

__all__ = [
    "zo_runs_figure",
    "zo_run_figure",
]


def zo_runs_figure(runs: dict, *, metric: str = "test_loss"):
    """Figure: the ``curve_<metric>`` of each run against queries (left) and against training
    wall time (right).

    Examples
    --------
    >>> from neurolearn.studies import compare_rules
    >>> runs = compare_rules("digits", ("spsa",), overrides=["train.query_budget=100"])
    >>> len(zo_runs_figure(runs).axes)
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


def zo_run_figure(ds):
    """Test loss against queries and against training wall time (one run)."""
    return zo_runs_figure({ds.attrs.get("rule", ds.attrs.get("model", "run")): ds})

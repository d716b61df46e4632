"""Reservoir figures: rates and targets, memory capacity, the run figure and the comparisons."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError
from neurolearn.plots._common import _axes, _same_length, _vector

__all__ = [
    "rate_trajectories",
    "rates_vs_targets",
    "memory_capacity_curve",
    "reservoir_run_figure",
    "robustness_figure",
    "local_vs_global_figure",
    "heterogeneity_figure",
    "reservoir_demo_figure",
]


def rate_trajectories(steps, rates, targets=None, *, units=6, ax=None):
    """Rates of a few units over adaptation, each with its target as a dashed line.

    Parameters
    ----------
    steps : array of shape (T,)
        Adaptation step of each row of ``rates``.
    rates : array of shape (T, N)
        Rate of every unit at each recorded step (e.g. ``ds["rate_trajectory"]``).
    targets : array of shape (N,), default=None
        Per-unit target rates, drawn as dashed lines in the unit's colour.
    units : int or sequence of int, default=6
        How many units to show (spread evenly over the population), or their indices.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> steps = np.arange(5)
    >>> rates = np.linspace(0.1, 0.5, 10).reshape(5, 2)
    >>> ax = rate_trajectories(steps, rates, [0.4, 0.5], units=2)
    >>> len(ax.lines)
    4
    """
    steps = _vector("steps", "rate_trajectories", steps)
    rates = np.asarray(rates, dtype=np.float64)
    if rates.ndim != 2 or rates.shape[0] != steps.size:
        raise ParameterError(
            f"The 'rates' parameter of rate_trajectories must have shape ({steps.size}, N). "
            f"Got shape {rates.shape} instead."
        )
    n = rates.shape[1]
    if np.ndim(units) == 0:
        pick = np.unique(np.linspace(0, n - 1, min(int(units), n)).astype(int))
    else:
        pick = np.asarray(units, dtype=int)
    if targets is not None:
        targets = _vector("targets", "rate_trajectories", targets)
        _same_length("rate_trajectories", targets=targets, units_in_rates=rates[0])
    ax = _axes(ax)
    for j, i in enumerate(pick):
        color = f"C{j % 10}"
        ax.plot(steps, rates[:, i], color=color, lw=1, label=f"unit {i}")
        if targets is not None:
            ax.axhline(targets[i], color=color, ls="--", lw=0.8)
    ax.set_xlabel("adaptation step")
    ax.set_ylabel("rate")
    ax.set_title("rates and their targets (dashed)")
    return ax


def rates_vs_targets(targets, rates, *, label=None, ax=None, **scatter_kw):
    """Per-unit rate against its target rate, with the identity line.

    Parameters
    ----------
    targets : array of shape (N,)
        Target rate of each unit.
    rates : array of shape (N,)
        Measured rate of each unit (e.g. mean rate with frozen weights).
    label : str, default=None
        Legend label of the points.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.
    **scatter_kw
        Passed to ``Axes.scatter`` (``color``, ``s``, ``alpha``, ...).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = rates_vs_targets([0.2, 0.5, 0.8], [0.21, 0.48, 0.8])
    >>> ax.collections[0].get_offsets().shape
    (3, 2)
    """
    targets = _vector("targets", "rates_vs_targets", targets)
    rates = _vector("rates", "rates_vs_targets", rates)
    _same_length("rates_vs_targets", targets=targets, rates=rates)
    ax = _axes(ax)
    kw = {"s": 6, "alpha": 0.6} | scatter_kw
    ax.scatter(targets, rates, label=label, **kw)
    low = min(0.0, float(np.nanmin(np.r_[targets, rates]))) if targets.size else 0.0
    high = max(1.0, float(np.nanmax(np.r_[targets, rates]))) if targets.size else 1.0
    ax.plot([low, high], [low, high], "k--", lw=0.8)
    ax.set_xlabel("target rate")
    ax.set_ylabel("measured rate")
    ax.set_title("per-unit rate vs target")
    if label is not None:
        ax.legend(fontsize=8)
    return ax


def memory_capacity_curve(delays, capacity, *, label=None, ax=None, **plot_kw):
    """Memory capacity ``MC_k`` against delay ``k``, with the total in the legend.

    Parameters
    ----------
    delays : array of shape (K,)
        Delays ``k``.
    capacity : array of shape (K,)
        ``MC_k``: squared correlation between ``u(t - k)`` and its reconstruction.
    label : str, default=None
        Legend label; the total ``sum_k MC_k`` is appended.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.
    **plot_kw
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = memory_capacity_curve([1, 2, 3], [1.0, 0.8, 0.1], label="ESN")
    >>> ax.get_legend_handles_labels()[1]
    ['ESN (MC = 1.90)']
    """
    delays = _vector("delays", "memory_capacity_curve", delays)
    capacity = _vector("capacity", "memory_capacity_curve", capacity)
    _same_length("memory_capacity_curve", delays=delays, capacity=capacity)
    ax = _axes(ax)
    total = float(np.nansum(capacity))
    text = f"MC = {total:.2f}" if label is None else f"{label} (MC = {total:.2f})"
    ax.plot(delays, capacity, label=text, **({"lw": 1.2} | plot_kw))
    ax.set_xlabel("delay k")
    ax.set_ylabel("MC_k")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("memory capacity curve")
    ax.legend(fontsize=8)
    return ax


def reservoir_run_figure(ds):
    """The figure of a reservoir run: the task panel, plus rates against targets for an
    adapted E/I reservoir."""
    import matplotlib.pyplot as plt

    panels = ["task"]
    if "rate_trajectory" in ds:
        panels = ["rates", "scatter", "task"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    axes = axes[0]
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "rates":
            traj = ds["rate_trajectory"]
            targets = ds["target_rate"].values
            pick = np.linspace(0, traj.sizes["unit"] - 1, 6).astype(int)
            for j, i in enumerate(pick):
                color = f"C{j}"
                ax.plot(traj["adapt_step"], traj[:, i], color=color, lw=1)
                ax.axhline(targets[i], color=color, ls="--", lw=0.8)
            ax.set(
                xlabel="adaptation step",
                ylabel="rate (window mean)",
                title="rates converge to targets (dashed)",
            )
        elif panel == "scatter":
            final = ds["adapted_rate"].values
            targets = ds["target_rate"].values
            ax.scatter(targets, final, s=6, alpha=0.6)
            ax.plot([0, 1], [0, 1], "k--", lw=0.8)
            ax.set(
                xlabel="target rate",
                ylabel="mean rate, frozen weights",
                xlim=(0, 1),
                ylim=(0, 1),
                title="per-unit rate vs target",
            )
        elif "confusion" in ds:
            ax.imshow(ds["confusion"].values, cmap="Blues")
            ax.set(
                xlabel="predicted class",
                ylabel="true class",
                title=f"test accuracy {float(ds['test_accuracy']):.3f}",
            )
        elif "mc_curve" in ds:
            ds["mc_curve"].plot(ax=ax)
            ax.set(ylabel="MC_k", title=f"memory capacity = {float(ds['memory_capacity']):.2f}")
        elif "prediction" in ds and ds["prediction"].ndim == 1:
            n = min(300, ds.sizes["t"])
            ax.plot(ds["target"][:n], label="target", lw=1)
            ax.plot(ds["prediction"][:n], label="prediction", lw=1)
            ax.legend(fontsize=8)
            ax.set(xlabel="test step", title=ds.attrs.get("task", ""))
        elif "prediction" in ds:
            ax.plot(ds["target"][:, 0], label="target x", lw=1)
            ax.plot(ds["prediction"][:, 0], label="free run x", lw=1)
            ax.legend(fontsize=8)
            ax.set(xlabel="step", title=f"valid time {float(ds['valid_time_lyapunov']):.2f} Lyap.")
    fig.suptitle(f"{ds.attrs.get('model', '')} on {ds.attrs.get('task', '')}", fontsize=10)
    fig.tight_layout()
    return fig


def _task_axes(ds, axes, width):
    """``(figure, axes, tasks)``: one panel per task of ``ds``, new or the given ``axes``."""
    import matplotlib.pyplot as plt

    tasks = list(ds["task"].values)
    if axes is None:
        fig, axes = plt.subplots(1, len(tasks), figsize=(width * len(tasks), 3.4), squeeze=False)
        return fig, axes[0], tasks
    return axes[0].figure, axes, tasks


def _score_panels(ds, xdim, xlabel, curves, axes, log_lower=False):
    """One panel per task of ``score`` against ``xdim``, one curve (mean +- sd) per selection.

    ``curves`` holds ``(dimension, value, colour, label)``; returns the figure.
    """
    from neurolearn.reservoir.compare import TASKS

    fig, axes, tasks = _task_axes(ds, axes, width=4.3)
    for ax, task in zip(axes, tasks, strict=True):
        label, better = TASKS[str(task)]
        for dim, value, color, name in curves:
            v = ds["score"].sel(task=task, **{dim: value})
            m, sd = v.mean("seed").values, v.std("seed").values
            ax.errorbar(
                ds[xdim].values, m, yerr=sd, color=color, marker="o", ms=4, capsize=2, label=name
            )
        ax.set(xlabel=xlabel, ylabel=f"{label} ({better} better)", title=task)
        if log_lower and better == "lower":
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    return fig


def robustness_figure(ds, axes=None):
    """One panel per task: score vs beta0, fixed and adapted (mean +- sd over seeds).

    Examples
    --------
    >>> from neurolearn.reservoir.compare import robustness
    >>> ds = robustness(n=60, seeds=1, betas=(0.0,), tasks=("narma10",), quick=True)
    >>> robustness_figure(ds).axes[0].get_xlabel()
    'starting balance beta0'
    """
    curves = (("mode", "fixed", "C3", "fixed (untuned)"), ("mode", "adapted", "C0", "adapted"))
    fig = _score_panels(ds, "beta0", "starting balance beta0", curves, axes, log_lower=True)
    fig.suptitle(
        f"Local adaptation from any starting balance (N = {ds.attrs['n']}, "
        f"{ds.sizes['seed']} seeds)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def local_vs_global_figure(ds, axes=None):
    """One panel per task: score vs target rho, local and global (mean +- sd over seeds).

    Examples
    --------
    >>> from neurolearn.reservoir.compare import local_vs_global
    >>> ds = local_vs_global(n=60, seeds=1, rhos=(0.5,), tasks=("narma10",), quick=True)
    >>> local_vs_global_figure(ds).axes[0].get_xlabel()
    'target rate rho'
    """
    styles = {
        "local": ("C0", "local"),
        "global": ("C2", "rate-matched global"),
        "intrinsic": ("C3", "intrinsic plasticity"),
    }
    curves = tuple(("rule", r, *styles[r]) for r in ds["rule"].values.tolist())
    fig = _score_panels(ds, "rho", "target rate rho", curves, axes)
    fig.tight_layout()
    return fig


def heterogeneity_figure(ds, axes=None):
    """One panel per task: homogeneous vs heterogeneous targets, every seed and the mean.

    Examples
    --------
    >>> from neurolearn.reservoir.compare import heterogeneity
    >>> ds = heterogeneity(n=60, seeds=1, tasks=("narma10",), quick=True)
    >>> heterogeneity_figure(ds).axes[0].get_title()
    'narma10'
    """
    from neurolearn.reservoir.compare import TASKS

    fig, axes, tasks = _task_axes(ds, axes, width=3.4)
    for ax, task in zip(axes, tasks, strict=True):
        label, better = TASKS[str(task)]
        v = ds["score"].sel(task=task).values
        for s in range(v.shape[1]):
            ax.plot([0, 1], v[:, s], color="0.7", lw=0.8, marker="o", ms=3)
        ax.plot([0, 1], v.mean(axis=1), color="C0", lw=2, marker="o")
        ax.set_xticks([0, 1], ["homogeneous", "heterogeneous"])
        ax.set(ylabel=f"{label} ({better} better)", title=task, xlim=(-0.3, 1.3))
    fig.tight_layout()
    return fig


def reservoir_demo_figure(results):
    """The figure of :func:`neurolearn.studies.run_demo`: robustness on top; local vs global
    and heterogeneous vs homogeneous targets below (``results`` maps comparison -> Dataset)."""
    import matplotlib.pyplot as plt

    rob, lvg, het = results["robustness"], results["local_vs_global"], results["heterogeneity"]
    n_top = rob.sizes["task"]
    n_bottom = lvg.sizes["task"] + het.sizes["task"]
    cols = max(n_top, n_bottom)
    fig, axes = plt.subplots(2, cols, figsize=(4.3 * cols, 7.2), squeeze=False)
    robustness_figure(rob, axes=list(axes[0, :n_top]))
    local_vs_global_figure(lvg, axes=list(axes[1, : lvg.sizes["task"]]))
    heterogeneity_figure(het, axes=list(axes[1, lvg.sizes["task"] : n_bottom]))
    for ax in list(axes[0, n_top:]) + list(axes[1, n_bottom:]):
        ax.set_visible(False)
    fig.suptitle(
        f"Adaptive E/I reservoirs, N = {rob.attrs['n']}, {rob.sizes['seed']} seed(s): "
        "top, fixed vs locally adapted from any starting balance; bottom, local vs "
        + " and ".join(
            {"global": "rate-matched global tuning", "intrinsic": "intrinsic plasticity"}[r]
            for r in lvg["rule"].values.tolist()
            if r != "local"
        )
        + ", and heterogeneous vs homogeneous targets",
        fontsize=10,
    )
    fig.tight_layout()
    return fig

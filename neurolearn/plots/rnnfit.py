"""Figures of RNNs fit to recordings: principal-component trajectories, the run figure, the
recorded-fraction sweep.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError
from neurolearn.plots._common import _axes

__all__ = [
    "pc_trajectories",
    "rnnfit_run_figure",
    "rnnfit_sweep_figure",
]


def pc_trajectories(states, *, labels=None, n_components=2, ax=None):
    """Trajectories of population activity in the plane of its first two principal components.

    Components are computed from all conditions together (mean-centred SVD), so trajectories
    of different conditions share one coordinate system.

    Parameters
    ----------
    states : array of shape (T, N) or (C, T, N)
        Activity of N units over T steps, for one or C conditions.
    labels : sequence of str, default=None
        One legend label per condition.
    n_components : {2}, default=2
        Number of components drawn (the plane of the first two).
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
    pcs : dict
        ``"projection"``: the drawn trajectories, shape (C, T, 2); ``"explained_variance_ratio"``:
        the variance fraction of each drawn component, shape (2,).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 2 * np.pi, 50)
    >>> states = np.stack([np.cos(t), np.sin(t), 0 * t], axis=1)
    >>> ax, pcs = pc_trajectories(states)
    >>> pcs["projection"].shape
    (1, 50, 2)
    >>> bool(abs(pcs["explained_variance_ratio"].sum() - 1) < 1e-9)
    True
    """
    if n_components != 2:
        raise ParameterError(
            f"The 'n_components' parameter of pc_trajectories must be 2. Got {n_components!r}."
        )
    states = np.asarray(states, dtype=np.float64)
    if states.ndim == 2:
        states = states[None]
    if states.ndim != 3 or states.shape[-1] < 2:
        raise ParameterError(
            "The 'states' parameter of pc_trajectories must have shape (T, N) or (C, T, N) "
            f"with N >= 2. Got shape {states.shape} instead."
        )
    c, t, n = states.shape
    flat = states.reshape(c * t, n)
    centred = flat - flat.mean(axis=0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    power = sing**2
    projection = (centred @ vt[:2].T).reshape(c, t, 2)
    ax = _axes(ax)
    for k in range(c):
        label = None if labels is None else labels[k]
        line = ax.plot(projection[k, :, 0], projection[k, :, 1], lw=1, label=label)[0]
        ax.plot(projection[k, 0, 0], projection[k, 0, 1], "o", color=line.get_color(), ms=3)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("population trajectories (dot: start)")
    if labels is not None:
        ax.legend(fontsize=7)
    ratio = power[:2] / power.sum() if power.sum() > 0 else power[:2]
    return ax, {"projection": projection, "explained_variance_ratio": ratio}


def rnnfit_run_figure(ds):
    """Teacher vs student held-out trajectories in the teacher's top PCs, outputs, loss."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    colors = plt.cm.hsv(np.linspace(0, 1, ds.sizes["condition"], endpoint=False))
    for c, col in enumerate(colors):
        t = ds["teacher_pcs"].isel(condition=c)
        s = ds["student_pcs"].isel(condition=c)
        axes[0].plot(t.sel(pc=1), t.sel(pc=2), color=col, lw=2)
        axes[0].plot(s.sel(pc=1), s.sel(pc=2), color=col, lw=1, ls="--")
        axes[1].plot(ds["t_ms"], ds["teacher_outputs"].isel(condition=c, output=0), color=col)
        axes[1].plot(
            ds["t_ms"], ds["student_outputs"].isel(condition=c, output=0), color=col, ls="--"
        )
    key = "map_r2_unrecorded" if "map_r2_unrecorded" in ds else "map_r2_all"
    axes[0].set(
        xlabel="PC 1",
        ylabel="PC 2",
        title=f"held-out trajectories (teacher solid, student dashed)\n{key} {float(ds[key]):.2f}",
    )
    axes[1].set(
        xlabel="time (ms)",
        ylabel="output 1",
        title=f"held-out output R2 {float(ds['output_r2_test']):.2f}",
    )
    axes[2].semilogy(ds["epoch"], ds["loss"], label="train")
    if "val_loss" in ds:
        axes[2].semilogy(ds["val_epoch"], ds["val_loss"], label="validation")
    axes[2].set(xlabel="epoch", ylabel="loss", title="training")
    axes[2].legend()
    fig.tight_layout()
    return fig


def rnnfit_sweep_figure(
    ds, baseline=None, metrics=("output_r2_test", "map_r2_unrecorded", "cca_unrecorded")
):
    """Metrics against recorded fraction (mean +- std over seeds); ``baseline`` a second sweep
    (e.g. output-only) drawn dashed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2))
    x = np.asarray(ds["fraction"]) * 100
    xs = np.where(x == 0, 0.3, x)
    for ax, k in zip(np.atleast_1d(axes), metrics, strict=False):
        for d, style, label in ((ds, "-o", ds.attrs.get("model", "")), (baseline, "--s", None)):
            if d is None:
                continue
            xv = np.asarray(d["fraction"]) * 100
            xv = np.where(xv == 0, 0.3, xv)
            ax.errorbar(
                xv,
                d[k].mean("seed"),
                d[k].std("seed"),
                fmt=style,
                capsize=3,
                label=label or d.attrs.get("model", ""),
            )
        ax.set(xscale="log", xlabel="recorded neurons (%) [0 drawn at 0.3]", title=k)
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{v:g}" for v in x])
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    return fig

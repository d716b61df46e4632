"""Spiking figures: rasters, population rates, the run figure."""

from __future__ import annotations

import numpy as np

from neurolearn.plots._common import _axes, _same_length, _vector

__all__ = [
    "raster",
    "population_rate",
    "ensemble_rates",
    "spiking_run_figure",
]


def raster(times, units, *, n_exc=None, t_max=None, ax=None):
    """Spike raster: one dot per spike at ``(time, unit)``.

    Parameters
    ----------
    times : array of shape (S,)
        Spike times (ms).
    units : array of shape (S,)
        Index of the neuron that fired each spike.
    n_exc : int, default=None
        When given, units ``< n_exc`` are drawn as excitatory (blue) and the rest as
        inhibitory (red).
    t_max : float, default=None
        Right end of the time axis.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = raster([1.0, 2.5, 3.0], [0, 4, 1], n_exc=3)
    >>> sum(len(c.get_offsets()) for c in ax.collections)
    3
    """
    times = _vector("times", "raster", times)
    units = _vector("units", "raster", units)
    _same_length("raster", times=times, units=units)
    ax = _axes(ax)
    if n_exc is None:
        ax.scatter(times, units, s=1, color="k", marker="|" if times.size < 5000 else ".")
    else:
        exc = units < n_exc
        ax.scatter(times[exc], units[exc], s=1, color="C0", label="E")
        ax.scatter(times[~exc], units[~exc], s=1, color="C3", label="I")
    if t_max is not None:
        ax.set_xlim(0, t_max)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title("spike raster")
    return ax


def population_rate(times, rates, *, target=None, label=None, ax=None, **plot_kw):
    """Population firing rate over time, with the target rate as a dashed black line.

    Parameters
    ----------
    times : array of shape (T,)
        Start of each time bin (ms).
    rates : array of shape (T,)
        Mean rate of the population in each bin (Hz).
    target : float, default=None
        Target rate (Hz), drawn as a horizontal dashed line.
    label : str, default=None
        Legend label of the rate curve.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.
    **plot_kw
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = population_rate([0, 100, 200], [40.0, 12.0, 5.5], target=5.0)
    >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_ydata()[0]
    ([40.0, 12.0, 5.5], 5.0)
    """
    times = _vector("times", "population_rate", times)
    rates = _vector("rates", "population_rate", rates)
    _same_length("population_rate", times=times, rates=rates)
    ax = _axes(ax)
    ax.plot(times, rates, label=label, **({"lw": 1} | plot_kw))
    if target is not None:
        ax.axhline(float(target), color="k", ls="--", lw=1, label="target")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("population rate (Hz)")
    if label is not None or target is not None:
        ax.legend(fontsize=8)
    return ax


def ensemble_rates(records, *, bin_ms=100.0, population="exc", target=None, ax=None):
    """Population rate of many networks over time: the median, the 10-90% band and each run.

    Parameters
    ----------
    records : list of SpikeRecord
        Runs of the same duration (e.g. :func:`neurolearn.spiking.run_batch` over seeds), or a
        list of such lists, one per consecutive phase (their bins are joined in time).
    bin_ms : float, default=100.0
        Width of the time bins.
    population : {'exc', 'inh', 'all'}, default='exc'
        Which neurons.
    target : float, default=None
        Target rate (Hz), drawn as a horizontal dashed line.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    (matplotlib.axes.Axes, dict)
        The axes, and ``{"t_ms": (T,), "rates_hz": (networks, T)}``: the binned rates drawn.

    Examples
    --------
    >>> from neurolearn.spiking import SpikingEINetwork, replicate, run_batch
    >>> nets = replicate(SpikingEINetwork(n_exc=40, n_inh=10), seeds=[0, 1, 2])
    >>> ax, data = ensemble_rates(run_batch(nets, 200.0), bin_ms=50.0)
    >>> data["rates_hz"].shape
    (3, 4)
    """
    from neurolearn.errors import ParameterError

    phases = records if records and isinstance(records[0], list | tuple) else [records]
    if not phases or not phases[0]:
        raise ParameterError("ensemble_rates: 'records' must hold at least one SpikeRecord.")
    if len({len(p) for p in phases}) != 1:
        raise ParameterError("ensemble_rates: every phase must hold one record per network.")
    t, rows = [], []
    for phase in phases:
        binned = [rec.binned_rate_hz(bin_ms, population) for rec in phase]
        if len({b[1].shape for b in binned}) != 1:
            raise ParameterError("ensemble_rates: the records of a phase must have one duration.")
        t.append(binned[0][0])
        rows.append(np.stack([b[1] for b in binned]))
    t_ms, rates = np.concatenate(t), np.concatenate(rows, axis=1)
    ax = _axes(ax)
    centre = t_ms + 0.5 * bin_ms
    for row in rates:
        ax.plot(centre, row, color="C0", lw=0.5, alpha=0.25)
    lo, mid, hi = np.percentile(rates, [10, 50, 90], axis=0)
    ax.fill_between(centre, lo, hi, color="C0", alpha=0.25, label="10-90%")
    ax.plot(centre, mid, color="C0", lw=2, label=f"median of {rates.shape[0]}")
    if target is not None:
        ax.axhline(float(target), color="k", ls="--", lw=1, label="target")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{population} rate (Hz)")
    ax.legend(fontsize=8)
    return ax, {"t_ms": t_ms, "rates_hz": rates}


def spiking_run_figure(ds):
    """Raster before/after, population rates converging to the target, weights and rates."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    n_exc = int(ds.attrs.get("n_exc", 0))
    for ax, name, title in (
        (axes[0, 0], "baseline", "raster, before plasticity"),
        (axes[0, 1], "final", "raster, end of plasticity"),
    ):
        t, i = ds[f"raster_{name}_t"].values, ds[f"raster_{name}_i"].values
        exc = i < n_exc
        ax.scatter(t[exc], i[exc], s=1, c="C0", label="E")
        ax.scatter(t[~exc], i[~exc], s=1, c="C3", label="I")
        ax.set(xlabel="time (ms)", ylabel="neuron", title=title)
    ax = axes[0, 2]
    t_s = ds["t"].values / 1000.0
    ax.plot(t_s, ds["population_rate_exc"], label="E", lw=1)
    ax.plot(t_s, ds["population_rate_inh"], label="I", lw=1, alpha=0.7)
    target = float(ds["target_rate_hz"]) if "target_rate_hz" in ds else 0.0
    if target > 0:
        ax.axhline(target, color="k", ls="--", lw=0.8, label="target")
    ax.set(
        xlabel="time (s)",
        ylabel="population rate (Hz)",
        yscale="log",
        title="rates converge to the target",
    )
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    wb, wa = ds["weight_before"].values, ds["weight_after"].values
    if wb.size:
        bins = np.linspace(0, max(wa.max(), wb.max()) * 1.05 + 1e-12, 40)
        ax.hist(wb, bins=bins, alpha=0.6, label="before")
        ax.hist(wa, bins=bins, alpha=0.6, label="after")
        ax.legend(fontsize=8)
    ax.set(
        xlabel="I -> E weight (x leak conductance)", ylabel="synapses", title="inhibitory weights"
    )
    ax = axes[1, 1]
    rb, rf = ds["rate_baseline"].values, ds["rate_final"].values
    bins = np.linspace(0, max(rb.max(), rf.max()) * 1.05 + 1e-12, 40)
    ax.hist(rb, bins=bins, alpha=0.6, label="before")
    ax.hist(rf, bins=bins, alpha=0.6, label="after")
    if target > 0:
        ax.axvline(target, color="k", ls="--", lw=0.8)
    ax.set(xlabel="E rate (Hz)", ylabel="neurons", title="rate distribution")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    ax.axis("off")
    lines = [
        f"{k}: {float(ds[k]):.3g}"
        for k in (
            "rate_baseline_hz",
            "rate_final_hz",
            "target_rate_hz",
            "rate_std_baseline_hz",
            "rate_std_final_hz",
            "cv_isi_final",
            "w_inh_exc_before",
            "w_inh_exc_after",
        )
        if k in ds
    ]
    ax.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=9)
    fig.suptitle(f"{ds.attrs.get('model', '')} on {ds.attrs.get('task', '')}", fontsize=10)
    fig.tight_layout()
    return fig

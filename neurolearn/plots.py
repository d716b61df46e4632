"""Plotting helpers shared by the teaching labs and the command-line figures.

Every helper draws on one matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns it,
so panels compose freely::

    fig, axes = plt.subplots(1, 2)
    nl.plots.rates_vs_targets(targets, rates, ax=axes[0])
    nl.plots.memory_capacity_curve(delays, mc, ax=axes[1])

Inputs are plain arrays (numpy arrays, lists or ``xarray.DataArray``); what is drawn is exactly
what was passed in, so a plot can be checked against the numbers it shows.
"""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError

__all__ = [
    "rate_trajectories",
    "rates_vs_targets",
    "memory_capacity_curve",
    "learning_curve",
    "phase_diagram",
    "raster",
    "population_rate",
    "pc_trajectories",
    "scan_heatmap",
]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
    return ax


def _vector(name: str, func: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ParameterError(
            f"The '{name}' parameter of {func} must be 1-d. Got shape {arr.shape} instead."
        )
    return arr


def _same_length(func: str, **arrays) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ParameterError(f"{func}: the inputs must have the same length; {shown}.")


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


def learning_curve(
    steps,
    values,
    *,
    theory=None,
    theory_steps=None,
    label=None,
    ylabel="loss",
    xlabel="step",
    logy=True,
    ax=None,
    **plot_kw,
):
    """A learning curve, optionally with the theory prediction as a dashed black line.

    Parameters
    ----------
    steps : array of shape (T,)
        Step (or epoch, or time) of each value.
    values : array of shape (T,) or (S, T)
        The measured curve, or one curve per seed (drawn as a mean with a min-max band).
    theory : array of shape (T',), default=None
        Theoretical curve (e.g. from the ODE of a student-teacher model).
    theory_steps : array of shape (T',), default=None
        Steps of ``theory``; ``steps`` when None.
    label : str, default=None
        Legend label of the measured curve.
    ylabel, xlabel : str, default="loss", "step"
        Axis labels.
    logy : bool, default=True
        Logarithmic y axis.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.
    **plot_kw
        Passed to ``Axes.plot`` for the measured curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1, 11)
    >>> ax = learning_curve(t, 1 / t, theory=1 / t, label="simulation")
    >>> [line.get_label() for line in ax.lines]
    ['simulation', 'theory']
    """
    steps = _vector("steps", "learning_curve", steps)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[-1] != steps.size:
        raise ParameterError(
            f"The 'values' parameter of learning_curve must have shape ({steps.size},) or "
            f"(n_seeds, {steps.size}). Got shape {values.shape} instead."
        )
    ax = _axes(ax)
    if values.ndim == 2:
        line = ax.plot(steps, values.mean(axis=0), label=label, **plot_kw)[0]
        ax.fill_between(
            steps, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2
        )
    else:
        ax.plot(steps, values, label=label, **plot_kw)
    if theory is not None:
        theory = _vector("theory", "learning_curve", theory)
        t_steps = steps if theory_steps is None else _vector("theory_steps", "", theory_steps)
        _same_length("learning_curve", theory=theory, theory_steps=t_steps)
        ax.plot(t_steps, theory, "k--", lw=1.2, label="theory")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if label is not None or theory is not None:
        ax.legend(fontsize=8)
    return ax


def phase_diagram(
    x, y, values, *, xlabel, ylabel, colorbar_label="", boundary=None, cmap="viridis", ax=None
):
    """A 2-d phase diagram: ``values[i, j]`` at ``(x[j], y[i])``, with an optional boundary.

    Parameters
    ----------
    x : array of shape (J,)
        Values of the horizontal parameter.
    y : array of shape (I,)
        Values of the vertical parameter.
    values : array of shape (I, J)
        The quantity over the grid (e.g. final loss, fraction of stable runs).
    xlabel, ylabel : str
        Names of the two parameters.
    colorbar_label : str, default=""
        Label of the colour bar.
    boundary : tuple of two arrays, default=None
        ``(xb, yb)``: a theoretical phase boundary drawn as a white dashed line.
    cmap : str, default="viridis"
        Colour map.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = phase_diagram([0, 1, 2], [0, 1], np.arange(6).reshape(2, 3), xlabel="a", ylabel="b")
    >>> ax.collections[0].get_array().reshape(2, 3).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    x = _vector("x", "phase_diagram", x)
    y = _vector("y", "phase_diagram", y)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (y.size, x.size):
        raise ParameterError(
            f"The 'values' parameter of phase_diagram must have shape (len(y), len(x)) = "
            f"({y.size}, {x.size}). Got shape {values.shape} instead."
        )
    ax = _axes(ax)
    mesh = ax.pcolormesh(x, y, values, shading="nearest", cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, label=colorbar_label)
    if boundary is not None:
        xb, yb = boundary
        ax.plot(np.asarray(xb), np.asarray(yb), "w--", lw=1.5, label="theory")
        ax.set_xlim(x.min() - _half_step(x), x.max() + _half_step(x))
        ax.set_ylim(y.min() - _half_step(y), y.max() + _half_step(y))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _half_step(v: np.ndarray) -> float:
    return float(np.min(np.diff(np.sort(v)))) / 2 if v.size > 1 else 0.5


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
    matplotlib.axes.Axes
        Its ``projection_`` attribute holds the projected trajectories, shape (C, T, 2), and
        ``explained_variance_ratio_`` the variance fraction of each drawn component.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 2 * np.pi, 50)
    >>> states = np.stack([np.cos(t), np.sin(t), 0 * t], axis=1)
    >>> ax = pc_trajectories(states)
    >>> ax.projection_.shape
    (1, 50, 2)
    >>> bool(abs(ax.explained_variance_ratio_.sum() - 1) < 1e-9)
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
    ax.projection_ = projection
    ax.explained_variance_ratio_ = power[:2] / power.sum() if power.sum() > 0 else power[:2]
    return ax


def scan_heatmap(data, *, x=None, y=None, reduce="mean", cmap="viridis", ax=None):
    """Heat map of a scanned metric over two grid keys, reduced over seeds.

    Parameters
    ----------
    data : xarray.DataArray
        A metric from a scan store (e.g. ``nl.scan.open_scan(path)["nrmse"]``), with two grid
        dimensions and optionally ``seed``.
    x, y : str, default=None
        Grid dimensions for the horizontal and vertical axes. When one is given the other is
        the remaining grid dimension; when neither is, ``y`` is the first and ``x`` the second.
    reduce : {"mean", "median", "min", "max"}, default="mean"
        How seeds are combined (NaN entries, e.g. failed points, are ignored).
    cmap : str, default="viridis"
        Colour map.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.arange(12.0).reshape(2, 3, 2), name="loss",
    ...                   dims=("lr", "n", "seed"), coords={"lr": [0.1, 1.0], "n": [1, 2, 3]})
    >>> ax = scan_heatmap(da, x="n", y="lr")
    >>> ax.collections[0].get_array().reshape(2, 3).tolist()
    [[0.5, 2.5, 4.5], [6.5, 8.5, 10.5]]
    """
    import xarray as xr

    if not isinstance(data, xr.DataArray):
        raise ParameterError(
            "The 'data' parameter of scan_heatmap must be an xarray.DataArray. "
            f"Got {type(data).__name__} instead."
        )
    reducers = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}
    if reduce not in reducers:
        raise ParameterError(
            f"The 'reduce' parameter of scan_heatmap must be one of {sorted(reducers)}. "
            f"Got {reduce!r} instead."
        )
    grid = [d for d in data.dims if d != "seed"]
    if len(grid) != 2:
        raise ParameterError(
            f"scan_heatmap needs exactly two grid dimensions besides 'seed'; got {grid}. "
            "Select the others first, e.g. data.sel(key=value)."
        )
    if x is None and y is None:
        y, x = grid
    elif x is None:
        x = next((d for d in grid if d != y), grid[1])
    elif y is None:
        y = next((d for d in grid if d != x), grid[0])
    if {x, y} != set(grid):
        raise ParameterError(
            f"The 'x' and 'y' parameters of scan_heatmap must be the grid dimensions {grid}. "
            f"Got x={x!r}, y={y!r}."
        )
    if "seed" in data.dims:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN points stay NaN
            values = reducers[reduce](data.transpose(y, x, "seed").values, axis=-1)
    else:
        values = data.transpose(y, x).values
    ax = _axes(ax)
    ny, nx = values.shape
    mesh = ax.pcolormesh(np.arange(nx), np.arange(ny), values, shading="nearest", cmap=cmap)
    ax.set_xticks(np.arange(nx), [f"{v:g}" if _is_num(v) else str(v) for v in data[x].values])
    ax.set_yticks(np.arange(ny), [f"{v:g}" if _is_num(v) else str(v) for v in data[y].values])
    seeds = f" ({reduce} over {data.sizes['seed']} seeds)" if "seed" in data.dims else ""
    ax.figure.colorbar(mesh, ax=ax, label=f"{data.name or 'value'}{seeds}")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax


def _is_num(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating)

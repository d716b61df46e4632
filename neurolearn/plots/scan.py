"""Scan figures: a heat map of a metric over two grid keys (the one implementation, used by
:func:`neurolearn.scan.plot_scan` too), and lines with a band over seeds."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError
from neurolearn.plots._common import _axes, _is_num

__all__ = ["scan_heatmap", "plot_scan"]


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
    ax : matplotlib.axes.Axes
    values : xarray.DataArray
        What is drawn: the metric reduced over seeds, dims ``(y, x)``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.arange(12.0).reshape(2, 3, 2), name="loss",
    ...                   dims=("lr", "n", "seed"), coords={"lr": [0.1, 1.0], "n": [1, 2, 3]})
    >>> ax, values = scan_heatmap(da, x="n", y="lr")
    >>> values.values.tolist()
    [[0.5, 2.5, 4.5], [6.5, 8.5, 10.5]]
    >>> ax.collections[0].get_array().reshape(2, 3).tolist() == values.values.tolist()
    True
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
    drawn = xr.DataArray(
        values, dims=(y, x), coords={y: data[y].values, x: data[x].values}, name=data.name
    )
    return ax, drawn


def _is_log_spaced(values: np.ndarray) -> bool:
    if values.dtype.kind not in "if" or values.size < 3 or np.any(values <= 0):
        return False
    ratios = values[1:] / values[:-1]
    return bool(
        np.allclose(ratios, ratios[0], rtol=1e-6)
        and abs(ratios[0] - 1) > 1e-9
        and not np.allclose(np.diff(values), values[1] - values[0], rtol=1e-6)
    )


def _select(ds, keep: set, sel: dict | None, metric: str):
    """Fix every grid key not in ``keep`` with ``sel`` (or because it has a single value)."""
    sel = dict(sel or {})
    for key in sel:
        if key not in ds.dims or key == "seed":
            raise ParameterError(
                f"The 'sel' parameter of plot_scan: {key!r} is not a grid key. "
                f"Grid keys: {', '.join(d for d in ds['status'].dims if d != 'seed')}."
            )
    da = ds[metric].where(ds["status"] == "ok")
    da = da.sel(sel)
    free = [d for d in ds["status"].dims if d not in keep and d != "seed" and d not in sel]
    for d in free:
        if da.sizes[d] == 1:
            da = da.isel({d: 0})
        else:
            raise ParameterError(
                f"plot_scan: the grid key {d!r} has {da.sizes[d]} values; pass it as hue= or y=, "
                f"or fix it with sel={{{d!r}: value}}."
            )
    return da


def _check_key(ds, name: str, what: str) -> None:
    keys = [d for d in ds["status"].dims if d != "seed"]
    if name not in keys:
        from neurolearn._schema import did_you_mean

        raise ParameterError(
            f"The '{what}' parameter of plot_scan must be a grid key.{did_you_mean(name, keys)} "
            f"Got {name!r}; grid keys: {', '.join(keys)}."
        )


def plot_scan(store, x, *, hue=None, y=None, metric=None, sel=None, band="sd", ax=None):
    """See :func:`neurolearn.scan.plot_scan` (the public entry point)."""
    import matplotlib.pyplot as plt
    import xarray as xr

    if isinstance(store, xr.Dataset):
        ds = store
    else:
        from neurolearn.scan import open_scan

        ds = open_scan(store)
    scalars = [
        n
        for n, v in ds.data_vars.items()
        if v.dims == ds["status"].dims and v.dtype.kind == "f" and n != "wall_s"
    ]
    if metric is None:
        if not scalars:
            raise ParameterError("plot_scan: the store has no scalar metric yet.")
        metric = scalars[0]
    elif metric not in scalars:
        from neurolearn._schema import did_you_mean

        raise ParameterError(
            f"The 'metric' parameter of plot_scan must be a scalar metric of the store."
            f"{did_you_mean(metric, scalars)} Got {metric!r}; metrics: {', '.join(scalars)}."
        )
    if band not in ("sd", "range", None):
        raise ParameterError(
            f"The 'band' parameter of plot_scan must be 'sd', 'range' or None. Got {band!r}."
        )
    if hue is not None and y is not None:
        raise ParameterError("plot_scan: give hue= (lines) or y= (heat map), not both.")
    _check_key(ds, x, "x")
    for name, what in ((hue, "hue"), (y, "y")):
        if name is not None:
            _check_key(ds, name, what)
            if name == x:
                raise ParameterError(f"plot_scan: {what}= must differ from x=.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4))
    else:
        fig = ax.figure
    keep = {x} | ({hue} if hue else set()) | ({y} if y else set())
    da = _select(ds, keep, sel, metric)
    xs = np.asarray(ds[x].values)
    if y is not None:
        scan_heatmap(da, x=x, y=y, ax=ax)
        if xs.dtype.kind == "f":
            ax.tick_params(axis="x", labelrotation=45)
    else:
        groups = [(None, da)] if hue is None else [(v, da.sel({hue: v})) for v in ds[hue].values]
        numeric = xs.dtype.kind in "iuf"
        pos = xs if numeric else np.arange(xs.size)
        for value, part in groups:
            part = part.transpose(x, "seed")
            mean = part.mean("seed", skipna=True).values
            label = None if value is None else f"{hue}={value}"
            (line,) = ax.plot(pos, mean, marker="o", label=label)
            if band and part.sizes["seed"] > 1:
                if band == "sd":
                    sd = part.std("seed", skipna=True).values
                    lo, hi = mean - sd, mean + sd
                else:
                    lo, hi = part.min("seed").values, part.max("seed").values
                ax.fill_between(pos, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)
        if not numeric:
            ax.set_xticks(pos, [str(v) for v in xs])
        if hue is not None:
            ax.legend(fontsize="small")
        spread = {None: "", "sd": " (mean ± sd over seeds)", "range": " (mean, min-max)"}
        ax.set_ylabel(metric + spread[band])
    if y is None and _is_log_spaced(xs):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_title(f"{ds.attrs.get('model', '')} on {ds.attrs.get('task', '')}".strip(" on"))
    fig.tight_layout()
    return fig

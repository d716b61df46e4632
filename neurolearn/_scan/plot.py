"""Pictures of a scan: a metric against one grid key with a band over seeds, or a heat map."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError

__all__ = ["plot_scan"]


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
    import matplotlib

    matplotlib.use("Agg", force=False)
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
        mean = da.mean("seed", skipna=True).transpose(y, x)
        ys = np.asarray(ds[y].values)
        mesh = ax.pcolormesh(
            np.arange(xs.size + 1) - 0.5, np.arange(ys.size + 1) - 0.5, mean.values, shading="flat"
        )
        ax.set_xticks(
            np.arange(xs.size),
            [f"{v:.3g}" if xs.dtype.kind == "f" else str(v) for v in xs],
            rotation=45,
        )
        ax.set_yticks(
            np.arange(ys.size), [f"{v:.3g}" if ys.dtype.kind == "f" else str(v) for v in ys]
        )
        ax.set_ylabel(y)
        fig.colorbar(mesh, ax=ax, label=f"{metric} (mean over {ds.sizes['seed']} seeds)")
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

"""Run one model on one task -> an ``xarray.Dataset`` (and optionally files on disk).

The Dataset is the result contract: scalar metrics as 0-d variables, curves with their own
dimensions, and attributes ``spec`` (resolved TOML), ``seed``, ``backend``, ``device``,
``neurolearn_version``, ``wall_s``, ``status`` (``ok``/``diverged``/``failed``) and ``message``.
"""

from __future__ import annotations

import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from neurolearn import registry, specs
from neurolearn._rng import as_generator
from neurolearn.backend import resolve_backend
from neurolearn.errors import DivergenceError, NeurolearnWarning, ParameterTypeError

__all__ = ["run", "rerun", "save", "STATUSES", "VARYING_ATTRS"]

STATUSES = ("ok", "diverged", "failed")

#: Result attributes that may differ between two runs of the same spec and seed on the same
#: machine and version: wall-clock timings. Every data variable and every other attribute is
#: identical (``neurolearn_version``, ``backend`` and ``device`` change only when they do).
VARYING_ATTRS = ("wall_s", "train_wall_s", "curve_wall_s")


def _seed_sequence(seed) -> tuple[np.random.SeedSequence, int | None]:
    if seed is None:
        seq = np.random.SeedSequence()
        return seq, None
    if isinstance(seed, np.random.SeedSequence):
        return seed, None
    as_generator(seed, "run")  # validates the type with the house message
    if isinstance(seed, np.random.Generator):
        raise ParameterTypeError(
            "The 'seed' parameter of run must be an int, a numpy.random.SeedSequence or None "
            "(a Generator cannot be stored in the result file). Got a Generator instead."
        )
    return np.random.SeedSequence(int(seed)), int(seed)


def run(
    model,
    task,
    *,
    seed=0,
    overrides=(),
    backend: str | None = None,
    device: str | None = None,
    out: str | Path | None = None,
    progress: bool = False,
    figure: bool = True,
):
    """Run ``model`` on ``task`` and return the result Dataset.

    Parameters
    ----------
    model, task : str or path
        Names from ``models/`` and ``tasks/`` (see :func:`neurolearn.list_specs`) or TOML paths.
    seed : int, numpy.random.SeedSequence or None, default=0
        Every random draw of the run derives from it.
    overrides : sequence of "key=value" strings or (key, value) pairs, default=()
        Dotted spec keys, e.g. ``["network.n=1000"]``.
    backend, device : str or None, default=None
        See :func:`neurolearn.backend.resolve_backend`.
    out : path or None, default=None
        When given, ``out/result.nc`` and ``out/figure.png`` are written.
    progress : bool, default=False
        Show a progress bar on long phases.
    figure : bool, default=True
        With ``out``, also draw the run's figure into ``out/figure.png``.

    Returns
    -------
    xarray.Dataset
        ``status`` is ``"ok"``, ``"diverged"`` (NaN/Inf detected; ``message`` says where) or
        ``"failed"`` (an exception while running; ``message`` holds it).

    Raises
    ------
    SpecError, ParameterError, BackendError
        Bad input is raised before anything runs.

    Examples
    --------
    >>> import neurolearn as nl
    >>> res = nl.run("esn", "narma10", seed=0, overrides=["network.n=50",
    ...              "task.train_steps=500", "task.test_steps=200"])
    >>> res.attrs["status"], bool(res["nrmse"] < 1.5)
    ('ok', True)
    """
    model_spec = specs.load_model(model, overrides)
    task_spec = specs.load_task(task, overrides)
    specs.check_overrides_used(overrides, model_spec, task_spec)
    return run_specs(
        model_spec,
        task_spec,
        seed=seed,
        backend=backend,
        device=device,
        out=out,
        progress=progress,
        figure=figure,
    )


def run_specs(
    model_spec,
    task_spec,
    *,
    seed=0,
    backend=None,
    device=None,
    out=None,
    progress=False,
    figure=True,
):
    """:func:`run` on already validated specs (used by scans and :func:`rerun`)."""
    import xarray as xr

    from neurolearn import __version__

    seq, seed_value = _seed_sequence(seed)
    resolved_backend = resolve_backend(backend, device)
    family = registry.family_module(model_spec.network.kind_name)
    task_kind = task_spec.task.kind_name
    if task_kind not in family.TASK_KINDS:
        from neurolearn.errors import SpecError

        raise SpecError(
            f"model {model_spec.name!r} (network kind {model_spec.network.kind_name!r}) cannot "
            f"run task kind {task_kind!r}. It runs: {', '.join(family.TASK_KINDS)}."
        )
    check = getattr(family, "check_specs", None)
    if check is not None:
        # cross-spec constraints (model vs task) are bad input: raised before anything runs
        check(model_spec, task_spec)
    status, message, outcome = "ok", "", None
    start = time.perf_counter()
    try:
        outcome = family.run_experiment(
            model_spec, task_spec, seed=seq, backend=resolved_backend, progress=progress
        )
    except DivergenceError as exc:
        status, message = "diverged", str(exc)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # recorded, not hidden: status + message + traceback tail
        status = "failed"
        message = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=-3))
    wall = time.perf_counter() - start

    data_vars = {}
    if outcome is not None:
        for name, value in outcome.metrics.items():
            data_vars[name] = xr.DataArray(float(value))
        data_vars.update(outcome.arrays)
        for name, value in outcome.metrics.items():
            if not np.isfinite(value) and status == "ok":
                status, message = "diverged", f"metric {name!r} is not finite ({value})"
    ds = xr.Dataset(data_vars)
    ds.attrs.update(
        {
            "model": model_spec.name,
            "task": task_spec.name,
            "spec": specs.resolved_toml(model_spec, task_spec, seed_value),
            "seed": -1 if seed_value is None else seed_value,
            "backend": resolved_backend.name,
            "device": resolved_backend.device,
            "neurolearn_version": __version__,
            "wall_s": float(wall),
            "status": status,
            "message": message,
        }
    )
    if outcome is not None:
        ds.attrs.update(outcome.attrs)
    if status != "ok":
        warnings.warn(
            f"run of {model_spec.name} on {task_spec.name} {status}: {message.splitlines()[0]}",
            NeurolearnWarning,
            stacklevel=3,
        )
    if out is not None:
        save(ds, out, figure_fn=outcome.figure if outcome is not None else None, figure=figure)
    return ds


def save(ds, out, *, figure_fn=None, figure: bool = True) -> Path:
    """Write ``out/result.nc`` (and ``out/figure.png`` when a figure function is given)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out / "result.nc", engine="h5netcdf")
    if figure_fn is not None and figure:
        import matplotlib.pyplot as plt

        fig = figure_fn(ds)
        fig.savefig(out / "figure.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    return out / "result.nc"


def rerun(result, *, out=None, backend=None, device=None):
    """Run again from a result file (or Dataset): same resolved spec, same seed.

    Every data variable of the new result is identical to the original's (bit for bit, on the
    same backend and device). Attributes that may differ are the wall-clock timings listed in
    :data:`VARYING_ATTRS` (``wall_s``; ``train_wall_s`` and the per-record ``curve_wall_s`` of
    the zeroth-order family), and ``neurolearn_version``, ``backend`` and ``device`` when the
    rerun uses another version, backend or device. Results hold no timestamps, host names or
    thread counts.

    Parameters
    ----------
    result : path or xarray.Dataset
        A ``result.nc`` written by :func:`run` (or the Dataset it returned).
    out : path or None, default=None
        As in :func:`run`.
    backend, device : str or None, default=None
        Where to run; by default the backend and device stored in the result.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import neurolearn as nl
    >>> a = nl.run("esn", "narma10", seed=1, overrides=["network.n=30",
    ...            "task.train_steps=300", "task.test_steps=100"])
    >>> b = nl.rerun(a)
    >>> all(a[name].identical(b[name]) for name in a.data_vars)
    True
    """
    import xarray as xr

    ds = result if isinstance(result, xr.Dataset) else xr.open_dataset(result, engine="h5netcdf")
    model_spec, task_spec, seed = specs.load_resolved(ds.attrs["spec"])
    return run_specs(
        model_spec,
        task_spec,
        seed=seed,
        backend=backend or ds.attrs.get("backend"),
        device=device or ds.attrs.get("device"),
        out=out,
    )

"""Parameter scans: a grid over any spec keys x seeds -> Dask tasks -> a resumable Zarr store.

One point = one :func:`neurolearn.experiment.run_specs` call with the grid values as overrides
and its own seed, ``numpy.random.SeedSequence(seed, spawn_key=(flat index,))`` (the child that
``SeedSequence(seed).spawn`` hands to that point), so results do not depend on the number of
workers or the order in which points finish.

Points run on an embedded Dask ``LocalCluster`` (one single-threaded process per core, numba,
OpenMP and BLAS pinned to one thread), on a running Dask scheduler (``scheduler="tcp://..."``),
on Slurm through dask-jobqueue (``slurm="slurm.toml"``) or in this process
(``scheduler="synchronous"``). Each point is written to the store as soon as it finishes; see
:mod:`neurolearn._scan.store` for the layout and why a kill never loses a finished point.

Points of a model kind that runs in batches (``spiking-ei``; see
``neurolearn.registry.batch_runner``) are packed ``batch_size`` to a task: the points of a
batch share their task spec (any model key may differ), run together in one call, and are
written one by one when their batch returns, each exactly as it would be alone.
"""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

import numpy as np

from neurolearn._scan import limits
from neurolearn._scan.grid import Grid, build_points, parse_grid
from neurolearn._scan.store import POINT_VARS, ScanStore, as_text
from neurolearn.errors import ParameterError, ParameterTypeError, SpecError

__all__ = ["scan", "open_scan", "summarize", "format_summary", "plot_scan", "parse_grid"]


def _coord_array(key: str, values: list) -> np.ndarray:
    kinds = {type(v) for v in values}
    if str in kinds:
        if kinds != {str}:
            raise SpecError(f"--grid {key}: values mix strings and numbers: {values!r}.")
        return np.array(values, dtype=object).astype(str)
    if bool in kinds and kinds != {bool}:
        raise SpecError(f"--grid {key}: values mix bools and numbers: {values!r}.")
    return np.asarray(values)


def _check_options(seeds, seed, workers, scheduler, slurm, out, resume, batch_size) -> None:
    from neurolearn._params import Interval, check_param

    check_param("scan", "seeds", seeds, Interval(int, 1, None))
    check_param("scan", "seed", seed, Interval(int, 0, None))
    if batch_size is not None:
        check_param("scan", "batch_size", batch_size, Interval(int, 1, None))
    if workers is not None:
        check_param("scan", "workers", workers, Interval(int, 1, None))
        limits.check_workers(workers)
    if resume not in (True, False, "auto"):
        raise ParameterTypeError(
            f"The 'resume' parameter of scan must be True, False or 'auto'. Got {resume!r} instead."
        )
    given = [
        n
        for n, v in (("workers", workers), ("scheduler", scheduler), ("slurm", slurm))
        if v is not None
    ]
    if len(given) > 1:
        raise ParameterError(
            f"scan: give at most one of workers, scheduler and slurm. Got {', '.join(given)}."
        )
    if scheduler is not None and not isinstance(scheduler, str):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover
            Client = ()
        if not isinstance(scheduler, Client):
            raise ParameterTypeError(
                "The 'scheduler' parameter of scan must be an address like 'tcp://host:8786', "
                f"'synchronous', a distributed.Client or None. Got {scheduler!r} instead."
            )
    if not isinstance(out, str | os.PathLike):
        raise ParameterTypeError(
            f"The 'out' parameter of scan must be a path. Got {type(out).__name__} instead."
        )


def _check_points(points, backend, seeds, workers, scheduler, slurm, out, batch) -> int:
    """The store's place can be written, every point passes the run's checks, and the points
    run at once here (``batch`` per worker) fit in memory. Returns the estimated peak memory
    of the largest point (bytes)."""
    from neurolearn.experiment import check_memory, check_specs, check_writable, estimate_memory

    check_writable(out)
    for model_spec, task_spec in points:
        check_specs(model_spec, task_spec, backend=backend)
    sizes = [estimate_memory(*pair) for pair in points]
    biggest = int(np.argmax(sizes))
    if slurm is not None or (scheduler is not None and scheduler != "synchronous"):
        return sizes[biggest]  # the points run on other machines
    at_once = 1 if scheduler == "synchronous" else (workers or os.cpu_count() or 1)
    check_memory(*points[biggest], copies=min(at_once * batch, len(points) * seeds))
    return sizes[biggest]


def _batchable(points) -> bool:
    """Whether every point's model kind runs in batches."""
    from neurolearn import registry

    kinds = {model_spec.network.kind_name for model_spec, _ in points}
    return all(registry.batch_runner(kind) is not None for kind in kinds)


def _batches(todo: list, size: int) -> list:
    """``todo`` (``(flat, model_spec, task_spec)`` points) as batches of at most ``size``
    points that share their model kind and task spec, in the order of their first points."""
    if size == 1:
        return list(todo)
    groups: list[tuple] = []  # (kind, task spec, points); specs compare by value
    for point in todo:
        _, model_spec, task_spec = point
        kind = model_spec.network.kind_name
        for g_kind, g_task, members in groups:
            if g_kind == kind and g_task == task_spec:
                members.append(point)
                break
        else:
            groups.append((kind, task_spec, [point]))
    batches = [
        members[i : i + size] for _, _, members in groups for i in range(0, len(members), size)
    ]
    batches.sort(key=lambda batch: batch[0][0])
    return [batch if len(batch) > 1 else batch[0] for batch in batches]


def scan(
    model,
    task,
    *,
    grid,
    out,
    seeds: int = 1,
    seed: int = 0,
    overrides=(),
    resume: bool = False,
    workers: int | None = None,
    scheduler=None,
    slurm=None,
    backend: str | None = None,
    device: str | None = None,
    progress: bool = True,
    batch_size: int | None = None,
):
    """Run ``model`` on ``task`` at every grid point and seed; write each point to a Zarr store.

    Parameters
    ----------
    model, task : str or path
        Names from ``models/`` and ``tasks/`` or TOML paths, as in :func:`neurolearn.run`.
    grid : dict or list of str
        ``{key: values}`` or ``["key=values", ...]``; values are a list or text: ``"1,2,4"``,
        ``"0:1:5"`` (5 values from 0 to 1), ``"log:1e-4:1e-1:4"`` (log-spaced).
    out : path
        The Zarr store (a folder). It must not exist unless ``resume=True``.
    seeds : int, default=1
        Number of seeds per grid point (the ``seed`` dimension of the store).
    seed : int, default=0
        Root of the scan's ``SeedSequence``; each point gets its own spawned child.
    overrides : sequence of "key=value", default=()
        Overrides applied to every point (like ``--set``).
    resume : bool or "auto", default=False
        Finish an existing store: verify every finished point (its chunks are readable and
        match the checksum written with it), then compute the missing, failed and damaged
        points. A store written by a different scan (spec, grid, seeds, seed or backend) is
        refused, and so is a store that does not exist; ``"auto"`` resumes the store when it
        exists and starts it otherwise.
    workers : int or None, default=None
        Processes of the embedded LocalCluster (default: one per core).
    scheduler : str, distributed.Client or None, default=None
        Address of a running Dask scheduler, a Client, or ``"synchronous"`` to run every point
        in this process (no Dask; for debugging and tiny scans).
    slurm : path or None, default=None
        A Slurm config file (see :mod:`neurolearn._scan.slurm`): run on dask-jobqueue workers.
    backend, device : str or None, default=None
        As in :func:`neurolearn.run`.
    progress : bool, default=True
        Show a progress bar (points done / total, failures, ETA) on stderr.
    batch_size : int or None, default=None
        Points per task for a model kind that runs points in batches (``spiking-ei``): the
        points of a batch share their task spec (any model key may vary) and run together in
        one call (on the numba engine one kernel call per chunk of steps for every network of
        the batch), and each is written to the store as soon as its batch returns. Every
        stored number is identical to an unbatched scan (same per-point seeds); ``wall_s`` is
        the point's share of its batch's time. A kill loses only the batches in flight, which
        a resume runs again. ``None`` chooses from memory
        (``neurolearn._scan.limits.default_batch_size``: as many as fit half of one
        worker's memory by the model's estimate, at most 32, and small enough that each worker
        gets about four batches, with at least 4 points per batch); ``1`` runs one point per
        task. A model kind without batch support accepts any ``batch_size`` and runs one point
        per task. The size used is the store's ``batch_size`` attribute.

        What batching buys: on Dask workers (numba pinned to one thread each) fewer, larger
        tasks (less scheduling and transfer per point), not threads: a batch's networks run
        one after the other on the worker's thread, so the gain is what the batched kernel
        saves over single runs. With ``scheduler="synchronous"`` a batch also runs on numba's
        threads (``NUMBA_NUM_THREADS``, every core by default; the one-thread limit set there
        covers BLAS and OpenMP libraries, not numba's own pool), where single points run one
        after the other on one thread. The first batch a process runs pays a one-off set-up
        of the batched kernel (seconds), so batching pays off for scans whose points take
        longer than that per worker.

    Returns
    -------
    xarray.Dataset
        The store's content (see :func:`open_scan`).

    Raises
    ------
    SpecError, ParameterError
        Bad grid, bad option, a store from another scan or no store to resume, before anything
        is written. Also a scan too large for this machine (see :mod:`neurolearn._scan.limits`:
        more points than fit in half the available memory, more than 4 workers per core, or
        ``batch_size`` points per worker whose estimated memory exceeds what is available).

    Examples
    --------
    >>> import tempfile, neurolearn as nl
    >>> out = tempfile.mkdtemp() + "/s.zarr"
    >>> ds = nl.scan("esn", "narma10", grid={"network.n": [20, 40]}, seeds=2, out=out,
    ...              overrides=["task.train_steps=300", "task.test_steps=100"],
    ...              scheduler="synchronous", progress=False)
    >>> ds["nrmse"].dims
    ('network.n', 'seed')
    >>> [str(s) for s in ds["status"].values.ravel()]
    ['ok', 'ok', 'ok', 'ok']
    """
    from neurolearn import __version__, registry, specs
    from neurolearn._scan import engine as engines
    from neurolearn._scan.slurm import read_slurm_config
    from neurolearn.backend import resolve_backend

    start = time.perf_counter()
    _check_options(seeds, seed, workers, scheduler, slurm, out, resume, batch_size)
    store_bytes = limits.store_bytes_per_point()
    limits.check_point_count(int(seeds), store_bytes, parameter="seeds", what=f"{seeds} seeds")

    def check_count(key, n):  # before a range is expanded into its values
        what = f"{n} values of {key} x {seeds} seed{'s' if seeds != 1 else ''}"
        limits.check_point_count(n * int(seeds), store_bytes, parameter="grid", what=what)

    grid_values = parse_grid(grid, check_count)

    def check_size(base_model, base_task):  # before a spec is built for every point
        per_point = store_bytes + limits.deep_size((base_model, base_task))
        sizes = " x ".join(f"{len(v)} values of {k}" for k, v in grid_values.items())
        n_points = int(np.prod([len(v) for v in grid_values.values()])) * int(seeds)
        what = f"{sizes} x {seeds} seed{'s' if seeds != 1 else ''}"
        limits.check_point_count(
            n_points, per_point, parameter="grid", what=what, basis="resolved specs and records"
        )

    base_model, base_task, points = build_points(
        model, task, grid_values, overrides, check_base=check_size
    )
    family = registry.family_module(base_model.network.kind_name)
    if base_task.task.kind_name not in family.TASK_KINDS:
        raise SpecError(
            f"model {base_model.name!r} cannot run task kind {base_task.task.kind_name!r}. "
            f"It runs: {', '.join(family.TASK_KINDS)}."
        )
    resolved = resolve_backend(backend, device)
    batchable = _batchable(points)
    explicit = int(batch_size) if batchable and batch_size is not None else 1
    point_bytes = _check_points(
        points, resolved, int(seeds), workers, scheduler, slurm, out, explicit
    )
    if slurm is not None:
        read_slurm_config(slurm)
    g = Grid(values=grid_values, seeds=int(seeds))
    dims = [*g.keys, "seed"]
    coords = {k: _coord_array(k, v) for k, v in grid_values.items()}
    coords["seed"] = np.arange(g.seeds)
    identity = {
        "model": base_model.name,
        "task": base_task.name,
        "spec": specs.resolved_toml(base_model, base_task, None),
        "grid_keys": g.keys,
        "grid": {k: list(v) for k, v in grid_values.items()},
        "seeds": g.seeds,
        "seed": int(seed),
        "backend": resolved.name,
    }
    attrs = {
        "model": base_model.name,
        "task": base_task.name,
        "spec": identity["spec"],
        "backend": resolved.name,
        "device": resolved.device,
        "neurolearn_version": __version__,
        "seed_rule": f"point with flat index i (C order over {dims}) runs with "
        f"numpy.random.SeedSequence({int(seed)}, spawn_key=(i,))",
    }
    store = ScanStore(out, identity, coords, dims, attrs)
    resuming = store.check(resume)
    engine, engine_s, loop_s, check, used_batch = None, 0.0, 0.0, None, None
    try:
        if resuming:
            # under the store's lock: verify every finished point, clear the damaged ones
            store.open(True)
            check = store.verify()
            store.clear_points(check.clear)
            done = check.done
        else:
            done = np.zeros(g.full_shape, bool)
        todo = [
            (flat, *points[flat // g.seeds])
            for flat in range(g.n_points)
            if not done[np.unravel_index(flat, g.full_shape)]
        ]
        if todo:
            engine = engines.open_engine(workers=workers, scheduler=scheduler, slurm=slurm)
            engine_s = time.perf_counter() - start
            if not batchable:
                used_batch = 1
            elif batch_size is not None:
                used_batch = int(batch_size)
            else:
                used_batch = limits.default_batch_size(
                    point_bytes, engine.memory_per_worker, len(todo), engine.n_workers
                )
        if not resuming:
            store.open(False)
        if todo:
            store.set_attrs(batch_size=used_batch)
            context = {"entropy": int(seed), "backend": resolved.name, "device": resolved.device}
            tasks = _batches(todo, used_batch)
            loop_s = _drive(engine, store, g, tasks, context, int(done.sum()), progress)
        repaired = 0
        if check is not None and check.damaged:
            status = store.read_status()
            repaired = sum(status.flat[flat] in ("ok", "diverged") for flat in check.damaged)
            store.log_repair(check, repaired)
    finally:
        store.close()
        if engine is not None:
            engine.close()
    ds = open_scan(out)
    # how this call went (not stored: a resumed store is the sum of several calls)
    ds.attrs.update(
        scan_wall_s=time.perf_counter() - start,
        scan_start_s=engine_s,
        scan_loop_s=loop_s,
        scan_computed=len(todo),
        scan_workers=0 if engine is None else engine.n_workers,
        scan_batch_size=0 if used_batch is None else used_batch,
    )
    if check is not None:
        ds.attrs.update(
            scan_verified=check.verified,
            scan_damaged=len(check.damaged),
            scan_repaired=repaired,
            scan_damage=", ".join(f"{r}: {n}" for r, n in sorted(check.reasons().items())),
        )
    return ds


def _drive(engine, store, g: Grid, todo, context, n_done: int, progress: bool) -> float:
    """Run ``todo`` (points and batches of points) and write each point as soon as it (its
    batch) finishes; returns the seconds it took."""
    from tqdm.auto import tqdm

    from neurolearn._scan.engine import iterate_results

    counts = {"ok": 0, "diverged": 0, "failed": 0}
    bar = tqdm(
        total=g.n_points,
        initial=n_done,
        unit="pt",
        desc="scan",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )
    start = time.perf_counter()
    try:
        for record in iterate_results(engine, todo, context):
            index = tuple(int(i) for i in np.unravel_index(record["flat"], g.full_shape))
            store.write(index, record)
            counts[record["status"]] = counts.get(record["status"], 0) + 1
            bar.set_postfix(failed=counts["failed"], diverged=counts["diverged"], refresh=False)
            bar.update(1)
    finally:
        bar.close()
    return time.perf_counter() - start


def open_scan(store):
    """Open a scan store as an ``xarray.Dataset`` (loaded into memory).

    Reads the store's current content, also while a scan is writing it or after it was killed.

    Examples
    --------
    >>> import tempfile, neurolearn as nl
    >>> out = tempfile.mkdtemp() + "/s.zarr"
    >>> _ = nl.scan("esn", "narma10", grid={"readout.ridge": [1e-6]}, out=out,
    ...             overrides=["network.n=20", "task.train_steps=300", "task.test_steps=100"],
    ...             scheduler="synchronous", progress=False)
    >>> ds = open_scan(out)
    >>> ds.attrs["model"], str(ds["status"].item())
    ('esn', 'ok')
    """
    import xarray as xr

    path = Path(store)
    if not (path / "zarr.json").is_file():
        raise ParameterError(
            f"The 'store' parameter: {str(path)!r} is not a scan store (no zarr.json)."
        )
    ds = xr.open_zarr(str(path), consolidated=False, chunks=None).load()
    # store bookkeeping: the identity, the live writer, integrity checks and their log
    for name in ("scan", "writer", "point_checksum", "repairs"):
        ds.attrs.pop(name, None)
    metrics = [n for n in ds.attrs.pop("metrics", []) if n in ds.data_vars]
    results = metrics + [n for n in ds.data_vars if n not in metrics and n not in POINT_VARS]
    ds = ds[results + [n for n in POINT_VARS if n in ds.data_vars and n != "checksum"]]
    ds.attrs["metrics"] = metrics
    for name in ("status", "message", "worker"):
        if name in ds:
            ds[name] = ds[name].copy(data=as_text(ds[name].values))
    return ds


def summarize(ds) -> dict:
    """Counts of points per status, plus ``missing``, ``total`` and total point time.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> ds = xr.Dataset({"status": ("seed", np.array(["ok", "failed", ""])),
    ...                  "wall_s": ("seed", [1.0, 0.5, np.nan])})
    >>> summarize(ds)
    {'total': 3, 'ok': 1, 'diverged': 0, 'failed': 1, 'missing': 1, 'point_s': 1.5}
    """
    status = as_text(ds["status"].values).ravel()
    out = {"total": int(status.size)}
    for name in ("ok", "diverged", "failed"):
        out[name] = int(np.sum(status == name))
    out["missing"] = int(np.sum(status == ""))
    out["point_s"] = float(np.nansum(ds["wall_s"].values))
    return out


def format_summary(ds, *, wall_s: float | None = None, max_messages: int = 5) -> str:
    """A few lines for the end of a scan: counts, time, and the first failure messages.

    Examples
    --------
    >>> import xarray as xr, numpy as np
    >>> ds = xr.Dataset({"status": ("network.n", np.array(["ok", "failed"])),
    ...                  "message": ("network.n", np.array(["", "ValueError: n too small"])),
    ...                  "wall_s": ("network.n", [1.0, 0.5])}, coords={"network.n": [100, 5]})
    >>> print(format_summary(ds))
    scan of ? on ?: 2 points: 1 ok, 0 diverged, 1 failed
    point time 1.5 s
      failed at network.n=5: ValueError: n too small
    """
    s = summarize(ds)
    lines = [
        f"scan of {ds.attrs.get('model', '?')} on {ds.attrs.get('task', '?')}: "
        f"{s['total']} points: {s['ok']} ok, {s['diverged']} diverged, {s['failed']} failed"
        + (f", {s['missing']} missing" if s["missing"] else "")
    ]
    timing = f"point time {s['point_s']:.3g} s"
    if wall_s is not None:
        timing = f"wall time {wall_s:.3g} s, " + timing
    if ds.attrs.get("scan_computed") == 0:
        timing += "; nothing left to compute"
    elif "scan_computed" in ds.attrs:
        timing += (
            f"; {ds.attrs['scan_computed']} points computed by this call on "
            f"{ds.attrs['scan_workers']} worker(s)"
        )
        if ds.attrs.get("scan_batch_size", 1) > 1:
            timing += f" in batches of up to {ds.attrs['scan_batch_size']}"
    lines.append(timing)
    if "scan_verified" in ds.attrs:
        checked, damaged = ds.attrs["scan_verified"], ds.attrs["scan_damaged"]
        line = f"resume check: {checked} finished point{'s' if checked != 1 else ''} checked; "
        if damaged:
            line += (
                f"{damaged} damaged ({ds.attrs['scan_damage']}), "
                f"{ds.attrs['scan_repaired']} repaired"
            )
        else:
            line += "none damaged"
        lines.append(line)
    status = as_text(ds["status"].values)
    bad = np.argwhere((status == "failed") | (status == "diverged"))
    dims = list(ds["status"].dims)
    for index in bad[:max_messages]:
        where = ", ".join(
            f"{d}={ds[d].values[i].item()!r}" if d in ds.coords else f"{d}={i}"
            for d, i in zip(dims, index, strict=True)
        )
        message = str(ds["message"].values[tuple(index)]).splitlines()
        lines.append(f"  {status[tuple(index)]} at {where}: {message[0] if message else ''}")
    if len(bad) > max_messages:
        lines.append(f"  ... and {len(bad) - max_messages} more (see the store's 'message').")
    return "\n".join(lines)


def result_names(ds) -> list[str]:
    """Names of the result variables (metrics and curves) in a scan Dataset."""
    return [n for n in ds.data_vars if n not in POINT_VARS]


def plot_scan(
    store,
    x: str,
    *,
    hue: str | None = None,
    y: str | None = None,
    metric: str | None = None,
    sel: dict | None = None,
    band: str | None = "sd",
    ax=None,
):
    """Plot a scalar metric of a scan: lines with a seed band, or a heat map.

    With ``x`` (and optionally ``hue``): the metric's mean over seeds against ``x``, one line
    per ``hue`` value, with a band of one standard deviation (``band="sd"``), the min-max range
    (``band="range"``) or none (``band=None``). With ``x`` and ``y``: a heat map of the mean over
    seeds. Only points with status ``ok`` count; every other grid key must have one value or be
    fixed with ``sel``. A log-spaced ``x`` gets a log axis.

    Parameters
    ----------
    store : path or xarray.Dataset
        A scan store or its Dataset (:func:`open_scan`).
    x : str
        Grid key on the horizontal axis.
    hue, y : str or None, default=None
        Grid key for one line per value, or for the vertical axis of a heat map (not both).
    metric : str or None, default=None
        Scalar metric to plot (default: the first metric the model reports).
    sel : dict or None, default=None
        Values of the other grid keys, e.g. ``{"network.n": 500}``.
    band : {"sd", "range"} or None, default="sd"
    ax : matplotlib Axes or None, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> dims = ("network.n", "readout.ridge", "seed")
    >>> ds = xr.Dataset(
    ...     {"nrmse": (dims, np.random.default_rng(0).random((3, 2, 4))),
    ...      "status": (dims, np.full((3, 2, 4), "ok"))},
    ...     coords={"network.n": [10, 20, 40], "readout.ridge": [1e-6, 1e-3], "seed": range(4)})
    >>> fig = plot_scan(ds, x="network.n", hue="readout.ridge")   # lines with seed bands
    >>> len(fig.axes[0].get_lines())
    2
    >>> fig = plot_scan(ds, x="network.n", y="readout.ridge")     # heat map
    >>> fig.axes[0].get_ylabel()
    'readout.ridge'
    """
    from neurolearn.plots.scan import plot_scan as _plot

    return _plot(store, x, hue=hue, y=y, metric=metric, sel=sel, band=band, ax=ax)


class _CallableModule(types.ModuleType):
    """Importing ``neurolearn.scan`` binds the module to ``neurolearn.scan``, hiding the lazy
    function of the same name; calling the module calls :func:`scan`, so ``nl.scan(...)``
    works whether or not the module was imported first."""

    def __call__(self, *args, **kwargs):
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

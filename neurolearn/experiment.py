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
from neurolearn._memory import available_memory, format_bytes
from neurolearn._outcome import Outcome
from neurolearn._rng import as_generator
from neurolearn.backend import resolve_backend
from neurolearn.errors import DivergenceError, NeurolearnWarning, ParameterTypeError

__all__ = [
    "run",
    "run_specs_batch",
    "rerun",
    "reproduce",
    "first_difference",
    "save",
    "STATUSES",
    "check_specs",
    "check_out",
    "check_writable",
    "check_memory",
    "estimate_memory",
    "available_memory",
    "VARYING_ATTRS",
]

STATUSES = ("ok", "diverged", "failed")

#: Result attributes that may differ between two runs of the same spec and seed on the same
#: machine and version: wall-clock timings, and the numba threads and threading layer the job
#: was given (they change the speed, never the numbers). Every data variable and every other
#: attribute is identical (``neurolearn_version``, ``backend`` and ``device`` change only when
#: they do).
VARYING_ATTRS = (
    "wall_s",
    "train_wall_s",
    "curve_wall_s",
    "numba_threads",
    "numba_threading_layer",
)


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
    checked=False,
):
    """:func:`run` on already validated specs (used by scans and :func:`rerun`).

    ``checked=True`` skips :func:`check_specs`, :func:`check_memory` and :func:`check_out`,
    for a caller (a scan) that ran them for all its points at once before starting.
    """
    seq, seed_value = _seed_sequence(seed)
    resolved_backend = resolve_backend(backend, device)
    if checked:
        family = registry.family_module(model_spec.network.kind_name)
    else:
        family = check_specs(model_spec, task_spec, backend=resolved_backend)
        check_memory(model_spec, task_spec)
        if out is not None:
            check_out(out)

    outcome: object = None
    start = time.perf_counter()
    try:
        outcome = family.run_experiment(
            model_spec, task_spec, seed=seq, backend=resolved_backend, progress=progress
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # recorded, not hidden: status + message (see _result)
        outcome = exc
    wall = time.perf_counter() - start
    ds = _result(model_spec, task_spec, seed_value, resolved_backend, outcome, wall)
    if out is not None:
        figure_fn = outcome.figure if isinstance(outcome, Outcome) else None
        save(ds, out, figure_fn=figure_fn, figure=figure)
    return ds


def run_specs_batch(points, *, seeds, backend=None, device=None, progress=False) -> list:
    """:func:`run_specs` for many points of one batching model kind at once (used by scans).

    ``points`` is a list of ``(model_spec, task_spec)`` pairs, already checked (as with
    ``checked=True``), all of one network kind that runs in batches
    (``neurolearn.registry.batch_runner``); ``seeds`` holds one seed per point. The
    family's ``run_experiment_batch`` runs them together, and each point becomes the Dataset
    :func:`run_specs` returns for it: the same data variables and attributes, bit for bit,
    except ``wall_s``, which is the point's share of the batch's time (the batch time divided
    by its points). A point that diverges or fails gets its own ``status`` and ``message``;
    its batch-mates are not affected. No figure is drawn and nothing is written.

    Returns
    -------
    list of xarray.Dataset
        One per point, in order.

    Raises
    ------
    ParameterError
        When the points are of a model kind without batch support, or of several kinds, or
        ``seeds`` does not have one seed per point.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn import specs
    >>> over = ["network.n_exc=40", "network.n_inh=10", "task.baseline_ms=50",
    ...         "task.plastic_ms=100", "task.measure_ms=50"]
    >>> pair = (specs.load_model("spiking-ei", over), specs.load_task("rate-homeostasis", over))
    >>> a, b = run_specs_batch([pair, pair], seeds=np.random.SeedSequence(3).spawn(2))
    >>> c = run_specs(*pair, seed=np.random.SeedSequence(3).spawn(2)[1])
    >>> all(b[name].identical(c[name]) for name in c.data_vars), b.attrs["status"]
    (True, 'ok')
    """
    from neurolearn.errors import ParameterError

    points = list(points)
    seeds = list(seeds)
    if len(seeds) != len(points):
        raise ParameterError(
            f"The 'seeds' parameter of run_specs_batch must hold one seed per point "
            f"({len(points)}). Got {len(seeds)} instead."
        )
    kinds = {model_spec.network.kind_name for model_spec, _ in points}
    if len(kinds) != 1:
        raise ParameterError(
            "The 'points' parameter of run_specs_batch must hold points of one network kind. "
            f"Got {', '.join(sorted(kinds)) or 'none'}."
        )
    (kind,) = kinds
    runner = registry.batch_runner(kind)
    if runner is None:
        raise ParameterError(
            f"The 'points' parameter of run_specs_batch: network kind {kind!r} does not run "
            "in batches; run its points one by one with run_specs."
        )
    seqs = [_seed_sequence(seed) for seed in seeds]
    resolved_backend = resolve_backend(backend, device)
    start = time.perf_counter()
    try:
        outcomes = runner(
            [m for m, _ in points],
            [t for _, t in points],
            seeds=[seq for seq, _ in seqs],
            backend=resolved_backend,
            progress=progress,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the family's batch runner itself broke: every point failed
        outcomes = [exc] * len(points)
    wall = (time.perf_counter() - start) / len(points)
    return [
        _result(m, t, seed_value, resolved_backend, outcome, wall)
        for (m, t), (_, seed_value), outcome in zip(points, seqs, outcomes, strict=True)
    ]


def _result(model_spec, task_spec, seed_value, resolved_backend, outcome, wall):
    """The result Dataset of one run from what the family returned for it: an
    :class:`~neurolearn._outcome.Outcome`, or the exception it raised (a
    :class:`~neurolearn.errors.DivergenceError` gives status ``diverged``, any other
    ``failed`` with the message and the last frames of its traceback)."""
    import xarray as xr

    from neurolearn import __version__

    status, message = "ok", ""
    if isinstance(outcome, DivergenceError):
        status, message = "diverged", str(outcome)
    elif isinstance(outcome, BaseException):
        status = "failed"
        message = f"{type(outcome).__name__}: {outcome}\n" + "".join(
            traceback.format_exception(outcome, limit=-3)
        )
    if not isinstance(outcome, Outcome):
        outcome = None

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
            stacklevel=4,
        )
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


def rerun(result, *, point=None, out=None, backend=None, device=None):
    """Run again from a result file (or Dataset, or one scan-store point): same spec and seed.

    Every data variable of the new result is identical to the original's (bit for bit, on the
    same backend and device). Attributes that may differ are the wall-clock timings listed in
    :data:`VARYING_ATTRS` (``wall_s``; ``train_wall_s`` and the per-record ``curve_wall_s`` of
    the zeroth-order family; ``numba_threads`` and ``numba_threading_layer`` of the reservoirs,
    which follow the job's CPU allowance), and ``neurolearn_version``, ``backend`` and ``device``
    when the rerun uses another version, backend or device. Results hold no timestamps or host
    names. :func:`reproduce` also compares the two.

    Parameters
    ----------
    result : path or xarray.Dataset
        A ``result.nc`` written by :func:`run` (or the Dataset it returned), or a scan store
        (``STORE.zarr``) with ``point``.
    point : int, str or None, default=None
        For a scan store: the point's flat index (C order over the grid keys, then ``seed``) or
        ``"key=value,...,seed=k"``. Its spec is the store's base spec with the point's grid
        values; its seed the one the scan drew for it (``SeedSequence(root, spawn_key=(i,))``).
    out : path or None, default=None
        As in :func:`run`.
    backend, device : str or None, default=None
        Where to run; by default the backend and device stored in the result.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    ParameterError
        A missing file, a file that is not a result, a result without an integer seed, a
        point out of range or not yet computed.

    Examples
    --------
    >>> import neurolearn as nl
    >>> a = nl.run("esn", "narma10", seed=1, overrides=["network.n=30",
    ...            "task.train_steps=300", "task.test_steps=100"])
    >>> b = nl.rerun(a)
    >>> all(a[name].identical(b[name]) for name in a.data_vars)
    True
    """
    from neurolearn._rerun import load_source

    return load_source(result, point).run(out=out, backend=backend, device=device)


def reproduce(result, *, point=None, out=None, backend=None, device=None):
    """:func:`rerun`, then compare: a :class:`~neurolearn._rerun.Reproduction`.

    Its ``identical`` is True when every data variable, coordinate and attribute (except
    :data:`VARYING_ATTRS`) matches; otherwise ``difference`` names the first one that does not
    (see :func:`first_difference`). For a scan-store point the comparison is with what the store
    holds for it: every result variable as float64 (curves NaN-padded to the store's length),
    the point's ``status`` and ``message``.

    Examples
    --------
    >>> import tempfile, neurolearn as nl
    >>> out = tempfile.mkdtemp() + "/run"
    >>> _ = nl.run("esn", "narma10", seed=2, out=out, figure=False, overrides=[
    ...            "network.n=30", "task.train_steps=300", "task.test_steps=100"])
    >>> check = nl.experiment.reproduce(out + "/result.nc")
    >>> check.identical, check.difference
    (True, None)
    """
    from neurolearn._rerun import reproduce as _reproduce

    return _reproduce(result, point=point, out=out, backend=backend, device=device)


def first_difference(stored, rerun, *, ignore_attrs=VARYING_ATTRS):
    """The first difference between two result Datasets (a :class:`~neurolearn._rerun.Difference`
    naming the variable, the index and both values), or None when identical.

    Data variables first (presence, dimensions, shape, dtype, values with NaN equal to NaN,
    variable attributes), then coordinates, then the attributes except ``ignore_attrs``.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.Dataset({"loss": ("step", [1.0, 0.5])}, attrs={"wall_s": 1.0, "status": "ok"})
    >>> b = a.copy(deep=True)
    >>> b.attrs["wall_s"] = 3.0
    >>> first_difference(a, b) is None
    True
    >>> b["loss"][1] = 0.6
    >>> print(first_difference(a, b))
    variable 'loss' at index [step=1]: stored 0.5, rerun 0.6
    """
    from neurolearn._rerun import first_difference as _first

    return _first(stored, rerun, ignore_attrs=ignore_attrs)


# ---------------------------------------------------------------- checks before a run
def check_specs(model_spec, task_spec, *, backend=None):
    """Refuse a model/task pair that cannot run; return the family module.

    The task kind must be one the family runs, the family's ``check_specs(model, task)`` hook
    (cross-field constraints inside one spec and between the two) must pass, and with a
    resolved ``backend`` (a :class:`~neurolearn.backend.Backend`) the family's
    ``check_backend(backend)`` hook too. Nothing is drawn or compiled, so a refusal costs
    milliseconds.

    Raises
    ------
    SpecError
        Naming the key, its value and what was expected.

    Examples
    --------
    >>> from neurolearn import specs
    >>> check_specs(specs.load_model("esn"), specs.load_task("narma10")).__name__
    'neurolearn.reservoir.experiment'
    """
    from neurolearn.errors import SpecError

    family = registry.family_module(model_spec.network.kind_name)
    task_kind = task_spec.task.kind_name
    if task_kind not in family.TASK_KINDS:
        raise SpecError(
            f"model {model_spec.name!r} (network kind {model_spec.network.kind_name!r}) cannot "
            f"run task kind {task_kind!r}. It runs: {', '.join(family.TASK_KINDS)}."
        )
    check = getattr(family, "check_specs", None)
    if check is not None:
        check(model_spec, task_spec)
    check_backend = getattr(family, "check_backend", None)
    if backend is not None and check_backend is not None:
        check_backend(backend)
    return family


def estimate_memory(model_spec, task_spec) -> int:
    """Estimated peak memory of one run, in bytes, from its resolved specs (nothing allocated).

    Each family's ``estimate_memory(model, task)`` hook adds up the sizes of the large arrays
    its run holds at once (states T x N, dense matrices, spike records, BPTT graphs, batches);
    its docstring gives the formula. A scan multiplies it by the points that run at once.

    Examples
    --------
    >>> from neurolearn import specs
    >>> small = estimate_memory(specs.load_model("esn", ["network.n=100"]),
    ...                         specs.load_task("narma10"))
    >>> big = estimate_memory(specs.load_model("esn", ["network.n=10000"]),
    ...                       specs.load_task("narma10"))
    >>> big > 100 * small
    True
    """
    family = registry.family_module(model_spec.network.kind_name)
    hook = getattr(family, "estimate_memory", None)
    return 0 if hook is None else int(hook(model_spec, task_spec))


def check_memory(model_spec, task_spec, *, copies: int = 1, available: int | None = None) -> int:
    """Refuse a run (or ``copies`` runs at once) whose estimated memory exceeds what is free.

    Parameters
    ----------
    copies : int, default=1
        Runs held in memory at the same time (a scan's concurrent points).
    available : int or None, default=None
        Bytes available; None reads :func:`available_memory` (no check when unknown).

    Returns
    -------
    int
        The estimate in bytes (all copies).

    Raises
    ------
    SpecError
        With the estimate, the available memory and the spec sizes behind the estimate.

    Examples
    --------
    >>> from neurolearn import specs
    >>> m, t = specs.load_model("esn", ["network.n=100"]), specs.load_task("narma10")
    >>> check_memory(m, t) > 0
    True
    """
    from neurolearn.errors import SpecError

    need = estimate_memory(model_spec, task_spec) * int(copies)
    free = available_memory() if available is None else available
    if free is not None and need > free:
        family = registry.family_module(model_spec.network.kind_name)
        sizes = []
        for key in getattr(family, "MEMORY_KEYS", ()):
            section, _, name = key.partition(".")
            table = model_spec.get(section) or task_spec.get(section)
            if table is not None and hasattr(table, name):
                sizes.append(f"{key} = {getattr(table, name)}")
        runs = f" x {copies} runs at once" if copies > 1 else ""
        raise SpecError(
            f"{model_spec.name} on {task_spec.name}: needs an estimated "
            f"{format_bytes(need)} of memory{runs} ({', '.join(sizes) or 'resolved spec'}), "
            f"more than the {format_bytes(free)} available; use smaller sizes."
        )
    return need


def check_out(out) -> None:
    """Refuse an ``out`` folder that cannot take a new result, before anything runs.

    ``out`` must be a new folder (its parent writable) or an existing empty one; an existing
    file, a non-empty folder (an earlier result would be overwritten or mixed in) or a place
    that cannot be written is refused. Nothing is created.

    Raises
    ------
    ParameterError, ParameterTypeError

    Examples
    --------
    >>> import tempfile
    >>> check_out(tempfile.mkdtemp() + "/new-run")
    """
    import os

    from neurolearn._params import short_text
    from neurolearn.errors import ParameterError, ParameterTypeError

    if not isinstance(out, str | os.PathLike):
        raise ParameterTypeError(
            f"The 'out' parameter of run must be a path. Got {type(out).__name__} instead."
        )
    path = Path(out)
    shown = short_text(str(out), 80)
    if str(out) == "":
        raise ParameterError("The 'out' parameter of run must be a folder path. Got '' instead.")
    if path.exists() and not path.is_dir():
        raise ParameterError(
            f"out folder {shown}: must be a new or empty folder. Got an existing file instead."
        )
    if path.is_dir() and any(path.iterdir()):
        raise ParameterError(
            f"out folder {shown}: must be a new or empty folder. Got a folder that is "
            "not empty instead (an earlier result would be overwritten)."
        )
    check_writable(path)


def check_writable(out) -> None:
    """Refuse a path where a folder cannot be created or written, creating nothing.

    The path itself when it is a folder, else its nearest existing parent, must be a folder
    in which a file can be created (tried with a temporary file, removed at once).

    Raises
    ------
    ParameterError

    Examples
    --------
    >>> import tempfile
    >>> check_writable(tempfile.mkdtemp() + "/new/store.zarr")
    """
    import os
    import tempfile

    from neurolearn._params import short_text
    from neurolearn.errors import ParameterError

    path = Path(out)
    shown = short_text(str(out), 80)
    if path.is_dir():
        probe_dir = path
    else:
        probe_dir = path.parent
        while not probe_dir.exists() and probe_dir != probe_dir.parent:
            probe_dir = probe_dir.parent
        if not probe_dir.is_dir():
            raise ParameterError(
                f"out path {shown}: must be a new or empty folder. Got a path under the file "
                f"{short_text(str(probe_dir), 80)} instead."
            )
    try:
        fd, probe = tempfile.mkstemp(dir=probe_dir, prefix=".neurolearn-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(
            f"out path {shown}: must be in a folder that can be written. Got "
            f"{short_text(str(probe_dir), 80)}, which cannot be written ({exc.strerror})."
        ) from None

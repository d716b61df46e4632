"""Where scan points run: in this process, on an embedded LocalCluster, on a running Dask
scheduler, or on Slurm through dask-jobqueue. The client process alone writes the store.

A task runs one point (``run_point``) or a batch of points of a model kind that runs in
batches (``run_batch_points``); either way it hands back one record per point."""

from __future__ import annotations

import os
import sys
import time
import uuid
import warnings

import numpy as np

from neurolearn.errors import MissingDependencyError

__all__ = ["run_point", "run_batch_points", "PINNED_THREADS", "open_engine", "iterate_results"]

#: every worker runs one single-threaded task at a time: numba, OpenMP and BLAS pinned to 1
PINNED_THREADS = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _worker_name() -> str:
    if "distributed" not in sys.modules:  # not on a Dask worker (and no slow import)
        return "local"
    from distributed import get_worker

    try:
        return str(get_worker().name)
    except ValueError:
        return "local"


def run_point(flat: int, model_spec, task_spec, context: dict) -> dict:
    """Run one scan point; never raises (an error becomes a ``failed`` record).

    The point's seed is ``SeedSequence(context["entropy"], spawn_key=(flat,))``: the child that
    ``SeedSequence(entropy).spawn`` gives the point's flat index, whichever worker runs it.
    """
    from neurolearn.errors import NeurolearnWarning
    from neurolearn.experiment import run_specs

    seed = np.random.SeedSequence(context["entropy"], spawn_key=(flat,))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # the scan records status and message itself
            warnings.filterwarnings("ignore", category=NeurolearnWarning, message="run of ")
            ds = run_specs(
                model_spec,
                task_spec,
                seed=seed,
                backend=context["backend"],
                device=context["device"],
                figure=False,
                checked=True,  # every point was checked at once before the scan
            )
    except Exception as exc:  # recorded per point: one bad point never stops a scan
        return _failed(flat, exc, time.perf_counter() - start)
    return _record(flat, ds)


def run_batch_points(batch: list, context: dict) -> list[dict]:
    """Run the points ``batch`` (``(flat, model_spec, task_spec)`` each) together; one record
    per point, in order, each the record ``run_point`` gives that point (same seed, same
    numbers; ``wall_s`` is the point's share of the batch's time). Never raises.

    The points must be of one network kind that runs in batches
    (:func:`neurolearn.registry.batch_runner`); the family runs them with
    ``run_experiment_batch``, through :func:`neurolearn.experiment.run_specs_batch`.
    """
    from neurolearn.errors import NeurolearnWarning
    from neurolearn.experiment import run_specs_batch

    seeds = [np.random.SeedSequence(context["entropy"], spawn_key=(flat,)) for flat, _, _ in batch]
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NeurolearnWarning, message="run of ")
            results = run_specs_batch(
                [(model_spec, task_spec) for _, model_spec, task_spec in batch],
                seeds=seeds,
                backend=context["backend"],
                device=context["device"],
            )
    except Exception as exc:  # recorded per point, as in run_point
        wall = (time.perf_counter() - start) / len(batch)
        return [_failed(flat, exc, wall) for flat, _, _ in batch]
    return [_record(flat, ds) for (flat, _, _), ds in zip(batch, results, strict=True)]


def _failed(flat: int, exc: Exception, wall: float) -> dict:
    return {
        "flat": flat,
        "worker": _worker_name(),
        "metrics": {},
        "curves": {},
        "status": "failed",
        "message": f"{type(exc).__name__}: {exc}",
        "wall_s": wall,
    }


def _record(flat: int, ds) -> dict:
    """A point's record (what the store writes) from its result Dataset."""
    record = {"flat": flat, "worker": _worker_name(), "metrics": {}, "curves": {}}
    for name, var in ds.data_vars.items():
        if var.ndim == 0:
            record["metrics"][name] = float(var.values)
        else:
            coords = {d: np.asarray(var[d].values) for d in var.dims if d in var.coords}
            record["curves"][name] = (tuple(var.dims), np.asarray(var.values, float), coords)
    record.update(
        status=ds.attrs["status"], message=ds.attrs["message"], wall_s=float(ds.attrs["wall_s"])
    )
    return record


def _single_threaded():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - without it BLAS keeps its own thread count
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _identity(value):
    return value


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a core dependency
        raise MissingDependencyError(
            "scans on Dask need dask[distributed]: pip install 'dask[distributed]'."
        ) from exc
    return distributed


def _pin_threads_plugin():
    """A worker plugin for clusters we did not start: pin thread pools to one thread."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class PinThreads(WorkerPlugin):
        name = "neurolearn-pin-threads"

        def setup(self, worker):
            os.environ.update(PINNED_THREADS)
            try:
                from threadpoolctl import threadpool_limits

                threadpool_limits(limits=1)
            except ImportError:
                pass

    return PinThreads()


class Engine:
    """An open place to run points: ``submit`` and ``results`` over a Dask client, or inline.

    ``memory_per_worker`` is the memory (bytes) one worker may fill, or None when unknown: the
    available memory of this machine for ``synchronous`` (shared by the workers of an embedded
    cluster), the smallest worker ``memory_limit`` of a running scheduler, the job memory over
    the job's cores on Slurm.
    """

    def __init__(
        self,
        kind: str,
        client=None,
        cluster=None,
        n_workers: int = 1,
        memory_per_worker: int | None = None,
    ):
        self.kind = kind
        self.client = client
        self.cluster = cluster
        self.n_workers = n_workers
        self.memory_per_worker = memory_per_worker

    def close(self) -> None:
        if self.client is not None and self.kind != "client":
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _local_memory(n_workers: int) -> int | None:
    from neurolearn._memory import available_memory

    memory = available_memory()
    return None if memory is None else memory // max(n_workers, 1)


def _worker_memory(client) -> int | None:
    """The smallest ``memory_limit`` of the client's workers (None when none is set)."""
    limits = [int(w.get("memory_limit") or 0) for w in client.scheduler_info()["workers"].values()]
    limits = [m for m in limits if m > 0]
    return min(limits) if limits else None


def open_engine(*, workers, scheduler, slurm) -> Engine:
    """Start (or connect to) the engine chosen by the caller's options."""
    if scheduler == "synchronous":
        return Engine("synchronous", memory_per_worker=_local_memory(1))
    distributed = _import_distributed()
    if slurm is not None:
        from dask.utils import parse_bytes

        from neurolearn._scan.slurm import read_slurm_config, slurm_cluster

        cfg = read_slurm_config(slurm)
        try:
            memory = parse_bytes(cfg["memory"]) // cfg["cores"]
        except ValueError:
            memory = None
        cluster, jobs = slurm_cluster(slurm)
        cluster.scale(jobs=jobs)
        client = distributed.Client(cluster)
        return Engine("slurm", client, cluster, n_workers=jobs, memory_per_worker=memory)
    if isinstance(scheduler, distributed.Client):
        return Engine(
            "client",
            scheduler,
            n_workers=len(scheduler.scheduler_info()["workers"]),
            memory_per_worker=_worker_memory(scheduler),
        )
    if scheduler is not None:
        client = distributed.Client(scheduler, timeout="20s")
        _register_pinning(client)
        return Engine(
            "address",
            client,
            n_workers=len(client.scheduler_info()["workers"]),
            memory_per_worker=_worker_memory(client),
        )
    n = workers or os.cpu_count() or 1
    cluster = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        env=dict(PINNED_THREADS),
        dashboard_address=":0",
        silence_logs=50,
    )
    client = distributed.Client(cluster)
    return Engine("local", client, cluster, n_workers=n, memory_per_worker=_local_memory(n))


def _register_pinning(client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugin = _pin_threads_plugin()
        client.register_plugin(plugin, name=plugin.name)


def _as_batch(item) -> list:
    """A task of ``iterate_results``: a point ``(flat, model_spec, task_spec)`` or a list."""
    return list(item) if isinstance(item, list) else [item]


def _run_task(batch: list, context: dict) -> list[dict]:
    """One task: a single point runs as ``run_point``, several as a batch."""
    if len(batch) == 1:
        return [run_point(*batch[0], context)]
    return run_batch_points(batch, context)


def iterate_results(engine: Engine, todo: list, context: dict):
    """Yield one record per point of ``todo`` as they finish.

    An item of ``todo`` is a point ``(flat, model_spec, task_spec)``, run alone by
    ``run_point``, or a list of points of a model kind that runs in batches, run together
    as one task by ``run_batch_points``; a batch's records are yielded when it returns.

    On Dask, a worker that dies mid-task has its task retried on another worker by the
    scheduler (``distributed.scheduler.allowed-failures`` times); after that each of its points
    is recorded as ``failed`` and the scan goes on.
    """
    batches = [_as_batch(item) for item in todo]
    if engine.kind == "synchronous":
        # one BLAS/OpenMP thread, as on the workers: reductions then sum in the same order
        with _single_threaded():
            for batch in batches:
                yield from _run_task(batch, context)
        return
    distributed = _import_distributed()
    client = engine.client
    # the shared inputs of every point travel once: a task holds them and each worker fetches
    # them once (unlike scatter, this also works while no worker has joined yet, e.g. Slurm)
    shared = client.submit(
        _identity, context, pure=False, key=f"neurolearn-scan-context-{uuid.uuid4().hex}"
    )
    futures = {}
    for rank, batch in enumerate(batches):
        first = batch[0][0]
        what = "point" if len(batch) == 1 else "batch"
        fut = client.submit(
            _run_task,
            batch,
            shared,
            pure=False,
            priority=-rank,
            key=f"neurolearn-scan-{what}-{first}-{uuid.uuid4().hex}",
        )
        futures[fut] = batch
    try:
        for fut in distributed.as_completed(futures):
            batch = futures.pop(fut)
            try:
                records = fut.result()
            except Exception as exc:
                what = "point" if len(batch) == 1 else f"batch of {len(batch)} points"
                records = [
                    {
                        "flat": flat,
                        "worker": "",
                        "metrics": {},
                        "curves": {},
                        "wall_s": np.nan,
                        "status": "failed",
                        "message": f"{type(exc).__name__}: {exc} (the worker running this "
                        f"{what} died or the {what} could not be sent; it was retried on other "
                        "workers)",
                    }
                    for flat, _, _ in batch
                ]
            fut.release()
            yield from records
    finally:
        for fut in futures:
            fut.cancel()
        shared.release()
